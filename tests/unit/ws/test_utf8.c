/*
 * Unit tests for the incremental UTF-8 validator (src/ws/utf8.c, RFC 3629 §4): known
 * vectors, chunked feeding, and an exhaustive comparison with a straightforward
 * reference decoder over every 1-3 byte string and a broad sample of 4-byte strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ws/utf8.h"

#define VALID(lit) sio__utf8_valid(lit, sizeof(lit) - 1)

/* The reference: decode each character by RFC 3629's bit patterns, then reject
 * overlongs, surrogates and anything above U+10FFFF. Slow and obvious on purpose. */
static int ref_valid(const uint8_t *s, size_t n) {
  static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    int k;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      k = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      k = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      k = 3, cp = c & 0x07;
    } else {
      return 0;
    }
    if (n - i - 1 < (size_t)k) return 0;
    for (int j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += (size_t)k + 1;
  }
  return 1;
}

static void utf8_accepts_ascii_and_multibyte_text(void **state) {
  (void)state;
  assert_true(sio__utf8_valid("", 0));
  assert_true(sio__utf8_valid(NULL, 0));
  assert_true(VALID("Hello, world! {\"a\":[1,2,3]}"));
  assert_true(VALID("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")); /* "kosme" in Greek */
  assert_true(VALID("\xc2\x80"));                                     /* U+0080 */
  assert_true(VALID("\xdf\xbf"));                                     /* U+07FF */
  assert_true(VALID("\xe0\xa0\x80"));                                 /* U+0800 */
  assert_true(VALID("\xed\x9f\xbf"));                                 /* U+D7FF */
  assert_true(VALID("\xee\x80\x80"));                                 /* U+E000 */
  assert_true(VALID("\xef\xbf\xbd"));                                 /* U+FFFD */
  assert_true(VALID("\xef\xbf\xbf"));                                 /* U+FFFF */
  assert_true(VALID("\xf0\x90\x80\x80"));                             /* U+10000 */
  assert_true(VALID("\xf0\x9f\x98\x80"));                             /* U+1F600 */
  assert_true(VALID("\xf4\x8f\xbf\xbf"));                             /* U+10FFFF */
  assert_true(sio__utf8_valid("a\0b", 3));                            /* NUL is a character */
}

static void utf8_rejects_overlong_forms(void **state) {
  (void)state;
  assert_false(VALID("\xc0\xaf"));         /* '/' in two bytes */
  assert_false(VALID("\xc0\x80"));         /* NUL in two bytes */
  assert_false(VALID("\xc1\xbf"));
  assert_false(VALID("\xe0\x80\xaf"));     /* '/' in three bytes */
  assert_false(VALID("\xe0\x9f\xbf"));     /* U+07FF in three bytes */
  assert_false(VALID("\xf0\x80\x80\xaf")); /* '/' in four bytes */
  assert_false(VALID("\xf0\x8f\xbf\xbf")); /* U+FFFF in four bytes */
  assert_int_equal(sio__utf8_step(SIO__UTF8_ACCEPT, "\xc0", 1), SIO__UTF8_REJECT);
}

static void utf8_rejects_surrogates(void **state) {
  (void)state;
  assert_false(VALID("\xed\xa0\x80"));                 /* U+D800 */
  assert_false(VALID("\xed\xbf\xbf"));                 /* U+DFFF */
  assert_false(VALID("\xed\xa0\xbd\xed\xb8\x80"));     /* a CESU-8 pair */
  assert_int_equal(sio__utf8_step(SIO__UTF8_ACCEPT, "\xed\xa0", 2), SIO__UTF8_REJECT);
}

static void utf8_rejects_code_points_above_10ffff(void **state) {
  (void)state;
  assert_false(VALID("\xf4\x90\x80\x80")); /* U+110000 */
  assert_false(VALID("\xf7\xbf\xbf\xbf"));
  assert_false(VALID("\xf5\x80\x80\x80"));
  assert_false(VALID("\xf8\x88\x80\x80\x80")); /* old 5-byte form */
  assert_false(VALID("\xfe"));
  assert_false(VALID("\xff"));
  assert_int_equal(sio__utf8_step(SIO__UTF8_ACCEPT, "\xf4\x90", 2), SIO__UTF8_REJECT);
}

static void utf8_rejects_stray_and_missing_continuation_bytes(void **state) {
  (void)state;
  assert_false(VALID("\x80"));
  assert_false(VALID("a\xbf"));
  assert_false(VALID("\xc2\x41"));
  assert_false(VALID("\xe2\x82\x41"));
  assert_false(VALID("\xf0\x9f\x98\x41"));
  assert_false(VALID("\xe2\x82\xac\xac")); /* one continuation too many */
}

static void utf8_truncated_sequence_is_pending_not_valid(void **state) {
  (void)state;
  const char *cuts[] = {"\xc2", "\xe2", "\xe2\x82", "\xf0", "\xf0\x9f", "\xf0\x9f\x98", "ok\xe0\xa0"};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    uint32_t st = sio__utf8_step(SIO__UTF8_ACCEPT, cuts[i], strlen(cuts[i]));
    assert_int_not_equal(st, SIO__UTF8_ACCEPT);
    assert_int_not_equal(st, SIO__UTF8_REJECT);
    assert_false(sio__utf8_valid(cuts[i], strlen(cuts[i])));
  }
}

static void utf8_step_carries_state_across_every_split(void **state) {
  (void)state;
  const char *texts[] = {"a\xc2\x80z", "\xe2\x82\xac\xe2\x82\xac", "x\xf0\x9f\x98\x80y", "\xf4\x8f\xbf\xbf",
                         "\xed\xa0\x80", "\xc0\xaf", "ab\xe2\x82"};
  for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
    size_t n = strlen(texts[t]);
    uint32_t whole = sio__utf8_step(SIO__UTF8_ACCEPT, texts[t], n);
    for (size_t cut = 0; cut <= n; cut++) {
      uint32_t st = sio__utf8_step(SIO__UTF8_ACCEPT, texts[t], cut);
      st = sio__utf8_step(st, texts[t] + cut, n - cut);
      assert_int_equal(st, whole);
    }
    /* And one byte per call. */
    uint32_t st = SIO__UTF8_ACCEPT;
    for (size_t i = 0; i < n; i++) st = sio__utf8_step(st, texts[t] + i, 1);
    assert_int_equal(st, whole);
  }
}

static void utf8_reject_is_sticky(void **state) {
  (void)state;
  uint32_t st = sio__utf8_step(SIO__UTF8_ACCEPT, "\xff", 1);
  assert_int_equal(st, SIO__UTF8_REJECT);
  assert_int_equal(sio__utf8_step(st, "plain ascii text", 16), SIO__UTF8_REJECT);
  assert_int_equal(sio__utf8_step(st, "", 0), SIO__UTF8_REJECT);
  /* A state value we never hand out is treated as a failure, not as memory to index. */
  assert_int_equal(sio__utf8_step(0xdeadbeef, "a", 1), SIO__UTF8_REJECT);
}

static void utf8_fast_path_finds_bad_byte_at_any_offset(void **state) {
  (void)state;
  char s[64];
  for (size_t pos = 0; pos < sizeof s; pos++) {
    memset(s, 'a', sizeof s);
    s[pos] = (char)0x80;
    assert_false(sio__utf8_valid(s, sizeof s));
    /* A valid 2-byte character at the same offset passes. */
    if (pos + 1 < sizeof s) {
      s[pos] = (char)0xc3;
      s[pos + 1] = (char)0xa9;
      assert_true(sio__utf8_valid(s, sizeof s));
    }
  }
}

static void utf8_matches_reference_on_every_string_up_to_3_bytes(void **state) {
  (void)state;
  uint8_t s[3];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (uint8_t)a;
    assert_int_equal(sio__utf8_valid((char *)s, 1), ref_valid(s, 1));
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (uint8_t)b;
      assert_int_equal(sio__utf8_valid((char *)s, 2), ref_valid(s, 2));
      for (unsigned c = 0; c < 256; c++) {
        s[2] = (uint8_t)c;
        int want = ref_valid(s, 3);
        if (sio__utf8_valid((char *)s, 3) != want) fail_msg("%02x %02x %02x: want %d", a, b, c, want);
      }
    }
  }
}

static void utf8_matches_reference_on_4_byte_strings(void **state) {
  (void)state;
  /* Every lead and second byte; the last two bytes from the interesting edges. */
  static const uint8_t edge[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xf4, 0xff};
  uint8_t s[4];
  for (unsigned a = 0; a < 256; a++) {
    for (unsigned b = 0; b < 256; b++) {
      for (size_t c = 0; c < sizeof edge; c++) {
        for (size_t e = 0; e < sizeof edge; e++) {
          s[0] = (uint8_t)a, s[1] = (uint8_t)b, s[2] = edge[c], s[3] = edge[e];
          int want = ref_valid(s, 4);
          if (sio__utf8_valid((char *)s, 4) != want)
            fail_msg("%02x %02x %02x %02x: want %d", a, b, s[2], s[3], want);
        }
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(utf8_accepts_ascii_and_multibyte_text),
      cmocka_unit_test(utf8_rejects_overlong_forms),
      cmocka_unit_test(utf8_rejects_surrogates),
      cmocka_unit_test(utf8_rejects_code_points_above_10ffff),
      cmocka_unit_test(utf8_rejects_stray_and_missing_continuation_bytes),
      cmocka_unit_test(utf8_truncated_sequence_is_pending_not_valid),
      cmocka_unit_test(utf8_step_carries_state_across_every_split),
      cmocka_unit_test(utf8_reject_is_sticky),
      cmocka_unit_test(utf8_fast_path_finds_bad_byte_at_any_offset),
      cmocka_unit_test(utf8_matches_reference_on_every_string_up_to_3_bytes),
      cmocka_unit_test(utf8_matches_reference_on_4_byte_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
