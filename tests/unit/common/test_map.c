/* Unit tests for the compact hash map and the growable buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/map.h"
#include "common/sid.h"
#include "sio/errors.h"

static void map_puts_gets_and_deletes_many_keys(void **state) {
  (void)state;
  sio__map_t m = SIO__MAP_INIT;
  static char keys[5000][16];
  for (int i = 0; i < 5000; i++) {
    snprintf(keys[i], sizeof keys[i], "room-%d", i);
    assert_int_equal(sio__map_put(&m, keys[i], strlen(keys[i]), keys[i]), 0);
  }
  assert_int_equal(sio__map_size(&m), 5000);
  for (int i = 0; i < 5000; i++) assert_ptr_equal(sio__map_get(&m, keys[i], strlen(keys[i])), keys[i]);
  assert_null(sio__map_get(&m, "room-5000", 9));
  for (int i = 0; i < 5000; i += 2) assert_ptr_equal(sio__map_del(&m, keys[i], strlen(keys[i])), keys[i]);
  assert_int_equal(sio__map_size(&m), 2500);
  for (int i = 0; i < 5000; i++) {
    void *v = sio__map_get(&m, keys[i], strlen(keys[i]));
    if (i % 2) assert_ptr_equal(v, keys[i]);
    else assert_null(v);
  }
  uint32_t it = 0, n = 0;
  const char *k;
  size_t kl;
  void *v;
  while (sio__map_next(&m, &it, &k, &kl, &v)) {
    assert_ptr_equal(k, v);
    n++;
  }
  assert_int_equal(n, 2500);
  for (int i = 1; i < 5000; i += 2) sio__map_del(&m, keys[i], strlen(keys[i]));
  /* An emptied map releases its slots. */
  assert_null(m.slots);
  sio__map_free(&m);
}

/* 24 bytes a slot: the table doubles when 3/4 full and so stays over 3/8 full, and
 * deletes (tombstones) do not make it grow. */
static void map_grows_by_doubling_and_deletes_do_not_grow_it(void **state) {
  (void)state;
  sio__map_t m = SIO__MAP_INIT;
  static char keys[7000][16];
  for (int i = 0; i < 7000; i++) {
    snprintf(keys[i], sizeof keys[i], "s%d", i);
    assert_int_equal(sio__map_put(&m, keys[i], strlen(keys[i]), keys[i]), 0);
    assert_true(m.len * 4 <= m.cap * 3);
    if (m.len >= 6) assert_true(m.len * 8 >= m.cap * 3);
  }
  assert_int_equal(m.cap, 16384);
  /* Churn: delete and insert at a steady size, many times the table's capacity. */
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < 7000; i++) assert_ptr_equal(sio__map_del(&m, keys[i], strlen(keys[i])), keys[i]);
    /* (The last delete emptied it: it starts over from nothing.) */
    for (int i = 0; i < 7000; i++) assert_int_equal(sio__map_put(&m, keys[i], strlen(keys[i]), keys[i]), 0);
    for (int i = 0; i < 3500; i++) assert_ptr_equal(sio__map_del(&m, keys[i], strlen(keys[i])), keys[i]);
    for (int i = 0; i < 3500; i++) assert_int_equal(sio__map_put(&m, keys[i], strlen(keys[i]), keys[i]), 0);
    assert_int_equal(m.cap, 16384);
  }
  for (int i = 0; i < 7000; i++) assert_ptr_equal(sio__map_get(&m, keys[i], strlen(keys[i])), keys[i]);
  sio__map_free(&m);
}

static void map_replaces_existing_key(void **state) {
  (void)state;
  sio__map_t m = SIO__MAP_INIT;
  int a, b;
  assert_int_equal(sio__map_put(&m, "k", 1, &a), 0);
  assert_int_equal(sio__map_put(&m, "k", 1, &b), 0);
  assert_int_equal(sio__map_size(&m), 1);
  assert_ptr_equal(sio__map_get(&m, "k", 1), &b);
  assert_null(sio__map_del(&m, "x", 1));
  sio__map_free(&m);
}

static void buf_appends_and_consumes(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  for (int i = 0; i < 1000; i++) assert_int_equal(sio__buf_appendf(&b, "%03d,", i % 1000), 0);
  assert_int_equal(b.len, 4000);
  assert_memory_equal(b.base, "000,001,", 8);
  sio__buf_consume(&b, 3996);
  assert_int_equal(b.len, 4);
  assert_memory_equal(b.base, "999,", 4);
  sio__buf_free(&b);
  assert_null(b.base);
}

static void b64_roundtrips_and_rejects_garbage(void **state) {
  (void)state;
  char enc[16];
  unsigned char dec[16];
  assert_int_equal(sio__b64_encode("\x01\x02\x03\x04", 4, enc), 8);
  assert_memory_equal(enc, "AQIDBA==", 8);
  assert_int_equal(sio__b64_decode("AQIDBA==", 8, dec), 4);
  assert_memory_equal(dec, "\x01\x02\x03\x04", 4);
  assert_int_equal(sio__b64_decode("AQID", 4, dec), 3);
  assert_int_equal(sio__b64_decode("", 0, dec), 0);
  assert_int_equal(sio__b64_decode("AQI", 3, dec), SIO_EPROTO);
  assert_int_equal(sio__b64_decode("AQ D", 4, dec), SIO_EPROTO);
  assert_int_equal(sio__b64_decode("A=ID", 4, dec), SIO_EPROTO);
}

static void sid_is_20_url_safe_chars_and_unique(void **state) {
  (void)state;
  char a[21], b[21];
  assert_int_equal(sio__sid_generate(a), 0);
  assert_int_equal(sio__sid_generate(b), 0);
  assert_int_equal(strlen(a), 20);
  assert_string_not_equal(a, b);
  for (int i = 0; i < 20; i++) assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(map_puts_gets_and_deletes_many_keys),
      cmocka_unit_test(map_grows_by_doubling_and_deletes_do_not_grow_it),
      cmocka_unit_test(map_replaces_existing_key),
      cmocka_unit_test(buf_appends_and_consumes),
      cmocka_unit_test(b64_roundtrips_and_rejects_garbage),
      cmocka_unit_test(sid_is_20_url_safe_chars_and_unique),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
