/*
 * Unit tests for the validating JSON scanner (src/sio/jscan.c). Its rule is to accept
 * exactly what the decoder's jansson parse (sio__json_load) accepts, so every verdict
 * here is checked against jansson too, then against the expected answer. The few
 * inputs the scanner leaves to jansson (SIO__JSCAN_UNSURE) are named as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio/errors.h"
#include "sio/jscan.h"
#include "sio/parser.h"

/* ---- helpers ---- */

static int scan(const char *s, size_t len) {
  sio__jspan_t spans[8];
  size_t n;
  unsigned flags;
  return sio__jscan_array(s, len, spans, 8, &n, &flags);
}

/* Scans s[0..len), checks the verdict is want and that jansson agrees (for OK and
 * INVALID; UNSURE means "jansson decides", so any jansson answer goes). */
static void expect_scan(const char *s, size_t len, int want) {
  int r = scan(s, len);
  if (r != want) fail_msg("scanning %.*s: got %d want %d", (int)len, s, r, want);
  if (want == SIO__JSCAN_UNSURE) return;
  json_t *v = NULL;
  int jr = sio__json_load(s, len, &v);
  /* jansson takes any value at the top; the scanner only arrays. */
  int jansson_ok = jr == 0 && json_is_array(v);
  json_decref(v);
  if (jansson_ok != (want == SIO__JSCAN_OK))
    fail_msg("scanner and jansson disagree on %.*s (jansson %s)", (int)len, s, jansson_ok ? "accepts" : "refuses");
}
#define OK(lit) expect_scan((lit), sizeof(lit) - 1, SIO__JSCAN_OK)
#define BAD(lit) expect_scan((lit), sizeof(lit) - 1, SIO__JSCAN_INVALID)
#define UNSURE(lit) expect_scan((lit), sizeof(lit) - 1, SIO__JSCAN_UNSURE)

/* ---- grammar ---- */

static void jscan_accepts_valid_arrays(void **state) {
  (void)state;
  OK("[]");
  OK(" \t\r\n[ \t\r\n] \t\r\n");
  OK("[1]");
  OK("[\"a\",1,-2.5e+3,true,false,null,{},[],{\"k\":[{\"x\":null}]}]");
  OK("[0,-0,0.0,1E5,1e-5,-0.5E+10,123456789012345678901234567890]");
  OK("[\"\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u00E9\"]");
  OK("[{\"a\":1,\"a\":2}]"); /* duplicates: JSON.parse and jansson keep the last */
  OK("[\"\\u0000\"]");       /* U+0000 in a value: JSON_ALLOW_NUL */
  OK("[\"\x7f\"]");
  OK("[ 1 , { \"a\" : [ 2 , 3 ] } ]");
}

static void jscan_refuses_what_jansson_refuses(void **state) {
  (void)state;
  BAD("");
  BAD(" ");
  BAD("[");
  BAD("]");
  BAD("[1,]");
  BAD("[,1]");
  BAD("[1 2]");
  BAD("[1]]");
  BAD("[1] x");
  BAD("[1][2]");
  BAD("{}"); /* not an array */
  BAD("\"a\"");
  BAD("[{\"a\"}]");
  BAD("[{\"a\":}]");
  BAD("[{\"a\":1,}]");
  BAD("[{1:1}]");
  BAD("[{'a':1}]");
  BAD("['a']");
  BAD("[tru]");
  BAD("[truex]");
  BAD("[nul]");
  BAD("[True]");
  BAD("[NaN]");
  BAD("[Infinity]");
  BAD("[-Infinity]");
  BAD("[01]");
  BAD("[-01]");
  BAD("[+1]");
  BAD("[.5]");
  BAD("[1.]");
  BAD("[1.e5]");
  BAD("[1e]");
  BAD("[1e+]");
  BAD("[-]");
  BAD("[0x10]");
  BAD("[1true]");
  BAD("[\"a\"\"b\"]");
  BAD("\xef\xbb\xbf[1]"); /* a byte-order mark is not white space */
  BAD("[\f1]");           /* nor is a form feed */
  expect_scan("[1]\0", 4, SIO__JSCAN_INVALID);
  expect_scan("[\0]", 3, SIO__JSCAN_INVALID);
}

static void jscan_checks_strings_like_jansson(void **state) {
  (void)state;
  BAD("[\"a]");
  BAD("[\"\\\"]");
  BAD("[\"\\x\"]");
  BAD("[\"\\u12\"]");
  BAD("[\"\\u12g4\"]");
  BAD("[\"\\U0041\"]");
  BAD("[\"\n\"]");
  BAD("[\"\t\"]");
  BAD("[\"\x1f\"]");
  expect_scan("[\"a\0b\"]", 7, SIO__JSCAN_INVALID);
  /* Surrogate escapes must pair up (jansson is stricter than JSON.parse here). */
  OK("[\"\\ud83d\\ude00\"]");
  OK("[\"\\uD83D\\uDE00\"]");
  BAD("[\"\\ud800\"]");
  BAD("[\"\\udc00\"]");
  BAD("[\"\\ud800\\u0041\"]");
  BAD("[\"\\ud800\\ud800\"]");
  BAD("[\"\\ud800x\"]");
  BAD("[\"\\ude00\\ud83d\"]");
  /* U+0000 in an object key: jansson refuses it, even though JSON.parse takes it. */
  BAD("[{\"a\\u0000\":1}]");
  OK("[{\"a\\u0001\":1}]");
  /* UTF-8, strict (RFC 3629). */
  OK("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"]");
  BAD("[\"\xc3\"]");             /* truncated */
  BAD("[\"\xe2\x82\"]");         /* truncated */
  BAD("[\"\xc0\xaf\"]");         /* overlong '/' */
  BAD("[\"\xc1\xbf\"]");         /* overlong */
  BAD("[\"\xe0\x9f\xbf\"]");     /* overlong below U+0800 */
  BAD("[\"\xf0\x8f\xbf\xbf\"]"); /* overlong below U+10000 */
  BAD("[\"\xed\xa0\x80\"]");     /* U+D800 */
  BAD("[\"\xed\xbf\xbf\"]");     /* U+DFFF */
  OK("[\"\xed\x9f\xbf\"]");      /* U+D7FF */
  OK("[\"\xee\x80\x80\"]");      /* U+E000 */
  BAD("[\"\xf4\x90\x80\x80\"]"); /* above U+10FFFF */
  BAD("[\"\xf5\x80\x80\x80\"]");
  BAD("[\"\xff\"]");
  BAD("[\"\x80\"]");             /* a lone continuation byte */
  BAD("[\"\xc3\x28\"]");         /* not a continuation */
  BAD("[\xc3\xa9]");             /* UTF-8 outside a string */
}

/* A special byte at every offset of a long string: the 8-byte fast path must stop for
 * each of them, wherever it falls in a word. */
static void jscan_fast_path_sees_every_special_byte(void **state) {
  (void)state;
  static const struct {
    const char *bytes;
    int want;
  } cases[] = {
      {"\\n", SIO__JSCAN_OK}, {"\\u00e9", SIO__JSCAN_OK}, {"\xc3\xa9", SIO__JSCAN_OK}, {"\x01", SIO__JSCAN_INVALID},
      {"\x1f", SIO__JSCAN_INVALID}, {"\xff", SIO__JSCAN_INVALID}, {"\\q", SIO__JSCAN_INVALID},
      {"\"x", SIO__JSCAN_INVALID}, {"\x80", SIO__JSCAN_INVALID}, {" ", SIO__JSCAN_OK}, {"\x7f", SIO__JSCAN_OK},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    for (size_t k = 0; k < 24; k++) {
      char buf[64];
      int n = snprintf(buf, sizeof buf, "[\"%.*s%s%.*s\"]", (int)k, "abcdefghijklmnopqrstuvwxyz", cases[c].bytes,
                       (int)(24 - k), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
      expect_scan(buf, (size_t)n, cases[c].want);
    }
  }
}

static void jscan_bounds_depth_like_jansson(void **state) {
  (void)state;
  /* jansson counts the top value at depth 1 and allows 2048: 2048 nested arrays may
   * be empty, but nothing fits inside the innermost. */
  static char buf[6 * 2100];
  struct {
    int depth, inner, want;
  } cases[] = {
      {2048, 0, SIO__JSCAN_OK}, {2049, 0, SIO__JSCAN_INVALID}, {2047, 1, SIO__JSCAN_OK}, {2048, 1, SIO__JSCAN_INVALID},
  };
  for (size_t c = 0; c < 4; c++) {
    size_t k = 0;
    for (int i = 0; i < cases[c].depth; i++) buf[k++] = '[';
    if (cases[c].inner) buf[k++] = '1';
    for (int i = 0; i < cases[c].depth; i++) buf[k++] = ']';
    expect_scan(buf, k, cases[c].want);
  }
  /* Objects count the same. */
  size_t k = 0;
  buf[k++] = '[';
  for (int i = 1; i < 2048; i++) k += (size_t)sprintf(buf + k, "{\"\":");
  buf[k++] = '1';
  for (int i = 1; i < 2048; i++) buf[k++] = '}';
  buf[k++] = ']';
  expect_scan(buf, k, SIO__JSCAN_INVALID);
}

static void jscan_knows_which_numbers_overflow(void **state) {
  (void)state;
  /* jansson refuses a real that overflows a double (DBL_MAX is 1.797...e308). */
  OK("[1e307,9.99e307,-9.99e307,1e-400,0e999999,0.0e999999999999,-0.0001e311]");
  BAD("[1e309]");
  BAD("[-1e309]");
  BAD("[10e308]");
  BAD("[0.1e310]");
  BAD("[1e999999999999999999999]");
  UNSURE("[1e308]");
  UNSURE("[1.8e308]");
  UNSURE("[0.00001e313]");
  /* Integers beyond int64 are read as reals (JS prints 2 ** 64 in full). */
  OK("[18446744073709552000,-9223372036854775809]");
  char buf[400] = "[";
  memset(buf + 1, '9', 308);
  strcpy(buf + 309, "]");
  expect_scan(buf, strlen(buf), SIO__JSCAN_OK); /* 308 digits: below 1e308 */
  memset(buf + 1, '1', 310);
  strcpy(buf + 311, "]");
  expect_scan(buf, strlen(buf), SIO__JSCAN_INVALID); /* 310 digits */
  memset(buf + 1, '1', 309);
  strcpy(buf + 310, "]");
  expect_scan(buf, strlen(buf), SIO__JSCAN_UNSURE); /* 309 digits: depends on them */
}

/* ---- spans and flags ---- */

static void jscan_records_element_spans(void **state) {
  (void)state;
  const char *s = " [ 1 ,\"a\\nb\" ,{\"x\" : [\"\\t\"]}\t,\"plain\", [] ] ";
  sio__jspan_t spans[8];
  size_t n;
  unsigned flags;
  assert_int_equal(sio__jscan_array(s, strlen(s), spans, 8, &n, &flags), SIO__JSCAN_OK);
  assert_int_equal(n, 5);
  assert_int_equal(flags, 0);
  /* Only a string's own escapes mark it; those inside a container do not. */
  const char *want[] = {"1", "\"a\\nb\"", "{\"x\" : [\"\\t\"]}", "\"plain\"", "[]"};
  unsigned want_flags[] = {0, SIO__JSPAN_ESC, 0, 0, 0};
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(spans[i].len, strlen(want[i]));
    assert_memory_equal(s + spans[i].off, want[i], spans[i].len);
    assert_int_equal(spans[i].flags, want_flags[i]);
  }
  /* More elements than room: counted, the first ones stored. */
  assert_int_equal(sio__jscan_array("[1,2,3]", 7, spans, 1, &n, &flags), SIO__JSCAN_OK);
  assert_int_equal(n, 3);
  assert_int_equal(spans[0].off, 1);
  assert_int_equal(sio__jscan_array("[]", 2, spans, 8, &n, &flags), SIO__JSCAN_OK);
  assert_int_equal(n, 0);
}

static void jscan_flags_placeholder_keys(void **state) {
  (void)state;
  sio__jspan_t spans[4];
  size_t n;
  unsigned flags;
  const char *yes[] = {"[{\"_placeholder\":true}]", "[1,[{\"a\":{\"_placeholder\":false}}]]",
                       "[{\"_placeholde\\u0072\":true}]", "[{\"\\n\":1}]"};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(sio__jscan_array(yes[i], strlen(yes[i]), spans, 4, &n, &flags), SIO__JSCAN_OK);
    assert_int_equal(flags, SIO__JSCAN_PLACEHOLDER);
  }
  const char *no[] = {"[\"_placeholder\"]", "[{\"placeholder\":true,\"_placeholder_\":1}]", "[{\"a\":\"\\n\"}]"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(sio__jscan_array(no[i], strlen(no[i]), spans, 4, &n, &flags), SIO__JSCAN_OK);
    assert_int_equal(flags, 0);
  }
}

/* ---- walking ---- */

static void jscan_walks_members_and_elements(void **state) {
  (void)state;
  const char *o = "{ \"a\" : 1 , \"b\\n\":{\"c\":[1,\"}\"]},\"d\":\"x\\\"y\" }";
  size_t pos = 0;
  sio__jspan_t k, v;
  assert_true(sio__jscan_member(o, strlen(o), &pos, &k, &v));
  assert_memory_equal(o + k.off, "a", k.len);
  assert_int_equal(k.flags, 0);
  assert_memory_equal(o + v.off, "1", v.len);
  assert_true(sio__jscan_member(o, strlen(o), &pos, &k, &v));
  assert_int_equal(k.flags, SIO__JSPAN_ESC);
  assert_int_equal(v.len, strlen("{\"c\":[1,\"}\"]}"));
  assert_memory_equal(o + v.off, "{\"c\":[1,\"}\"]}", v.len);
  assert_true(sio__jscan_member(o, strlen(o), &pos, &k, &v));
  assert_memory_equal(o + k.off, "d", k.len);
  assert_int_equal(v.flags, SIO__JSPAN_ESC);
  assert_memory_equal(o + v.off, "\"x\\\"y\"", v.len);
  assert_false(sio__jscan_member(o, strlen(o), &pos, &k, &v));
  pos = 0;
  assert_false(sio__jscan_member("{ }", 3, &pos, &k, &v));

  const char *a = "[ true ,-1.5e3,\"]\" , [ ] ]";
  const char *want[] = {"true", "-1.5e3", "\"]\"", "[ ]"};
  pos = 0;
  for (size_t i = 0; i < 4; i++) {
    assert_true(sio__jscan_element(a, strlen(a), &pos, &v));
    assert_int_equal(v.len, strlen(want[i]));
    assert_memory_equal(a + v.off, want[i], v.len);
  }
  assert_false(sio__jscan_element(a, strlen(a), &pos, &v));
  pos = 0;
  assert_false(sio__jscan_element("[]", 2, &pos, &v));
}

static void jscan_unescapes_strings(void **state) {
  (void)state;
  const char *s = "a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\\u0000z";
  char out[64];
  size_t n = sio__jscan_unescape(s, strlen(s), out);
  const char want[] = "a\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
  assert_int_equal(n, sizeof want - 1);
  assert_memory_equal(out, want, n);
  assert_int_equal(sio__jscan_unescape("plain", 5, out), 5);
  assert_memory_equal(out, "plain", 5);
}

static void jscan_reads_small_integers(void **state) {
  (void)state;
  int64_t v;
  assert_true(sio__jscan_small_int("0", 1, &v));
  assert_int_equal(v, 0);
  assert_true(sio__jscan_small_int("-42", 3, &v));
  assert_int_equal(v, -42);
  assert_true(sio__jscan_small_int("999999999999999999", 18, &v));
  assert_int_equal(v, 999999999999999999LL);
  assert_true(sio__jscan_small_int("-999999999999999999", 19, &v));
  assert_int_equal(v, -999999999999999999LL);
  assert_false(sio__jscan_small_int("1000000000000000000", 19, &v));
  assert_false(sio__jscan_small_int("1.0", 3, &v));
  assert_false(sio__jscan_small_int("1e3", 3, &v));
  assert_false(sio__jscan_small_int("-", 1, &v));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(jscan_accepts_valid_arrays),
      cmocka_unit_test(jscan_refuses_what_jansson_refuses),
      cmocka_unit_test(jscan_checks_strings_like_jansson),
      cmocka_unit_test(jscan_fast_path_sees_every_special_byte),
      cmocka_unit_test(jscan_bounds_depth_like_jansson),
      cmocka_unit_test(jscan_knows_which_numbers_overflow),
      cmocka_unit_test(jscan_records_element_spans),
      cmocka_unit_test(jscan_flags_placeholder_keys),
      cmocka_unit_test(jscan_walks_members_and_elements),
      cmocka_unit_test(jscan_unescapes_strings),
      cmocka_unit_test(jscan_reads_small_integers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
