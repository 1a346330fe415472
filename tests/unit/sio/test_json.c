/*
 * Unit tests for the JSON.stringify-exact writer (src/sio/json.c). Every expected
 * string is what node's JSON.stringify prints for the same value (checked with node 20
 * when the tests were written).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "common/buf.h"
#include "sio/common.h"
#include "sio/errors.h"
#include "sio/json.h"
#include "fail_after.h"

/* Serialises v, checks the bytes, drops v. */
static void expect_json(json_t *v, const char *want, size_t want_len) {
  sio__buf_t b = SIO__BUF_INIT;
  assert_non_null(v);
  assert_int_equal(sio__json_write(&b, v), 0);
  if (b.len != want_len || memcmp(b.base, want, want_len) != 0)
    fail_msg("got  %.*s\nwant %.*s", (int)b.len, b.base, (int)want_len, want);
  sio__buf_free(&b);
  json_decref(v);
}
#define EXPECT_JSON(v, lit) expect_json((v), (lit), sizeof(lit) - 1)

/* Parses text with jansson the way the decoder does, then serialises it. */
static void expect_roundtrip(const char *text, const char *want) {
  json_error_t err;
  json_t *v = json_loadb(text, strlen(text), JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
  if (v == NULL) fail_msg("jansson refused %s: %s", text, err.text);
  expect_json(v, want, strlen(want));
}

static void expect_double(double d, const char *want) {
  char tmp[40];
  int n = sio__json_format_double(tmp, d);
  assert_int_equal(n, (int)strlen(tmp));
  if (strcmp(tmp, want) != 0) fail_msg("%.17g: got %s want %s", d, tmp, want);
  /* The same through the tree writer. */
  expect_json(json_real(d), want, strlen(want));
}

static void json_writes_scalars(void **state) {
  (void)state;
  EXPECT_JSON(json_null(), "null");
  EXPECT_JSON(json_true(), "true");
  EXPECT_JSON(json_false(), "false");
  EXPECT_JSON(json_integer(0), "0");
  EXPECT_JSON(json_integer(-42), "-42");
  EXPECT_JSON(json_string(""), "\"\"");
  EXPECT_JSON(json_array(), "[]");
  EXPECT_JSON(json_object(), "{}");
}

static void json_writes_compact_nested_containers(void **state) {
  (void)state;
  expect_roundtrip(" { \"a\" : [ 1 , 2 , { } , [ ] , null ] , \"b\" : { \"c\" : true } } ",
                   "{\"a\":[1,2,{},[],null],\"b\":{\"c\":true}}");
  expect_roundtrip("[\"hello\",1,{\"x\":false}]", "[\"hello\",1,{\"x\":false}]");
}

static void json_keeps_key_insertion_order_after_loadb(void **state) {
  (void)state;
  expect_roundtrip("{\"b\":1,\"a\":2}", "{\"b\":1,\"a\":2}");
  expect_roundtrip("{\"zeta\":1,\"alpha\":2,\"mid\":3,\"_\":4}", "{\"zeta\":1,\"alpha\":2,\"mid\":3,\"_\":4}");
}

static void json_duplicate_key_keeps_first_position_last_value(void **state) {
  (void)state;
  /* JSON.parse('{"b":1,"a":2,"b":3}') is {b:3, a:2}. */
  expect_roundtrip("{\"b\":1,\"a\":2,\"b\":3}", "{\"b\":3,\"a\":2}");
}

static void json_reinserted_key_moves_to_end(void **state) {
  (void)state;
  json_t *o = json_object();
  json_object_set_new(o, "z", json_integer(1));
  json_object_set_new(o, "a", json_integer(2));
  json_object_set_new(o, "m", json_integer(3));
  json_object_set_new(o, "a", json_integer(4)); /* replacing keeps the position */
  json_object_del(o, "z");
  json_object_set_new(o, "z", json_integer(5)); /* delete + add goes last, as in JS */
  EXPECT_JSON(o, "{\"a\":4,\"m\":3,\"z\":5}");
}

static void json_orders_array_index_keys_first_like_v8(void **state) {
  (void)state;
  expect_roundtrip("{\"b\":1,\"2\":2,\"1\":3,\"a\":4,\"4294967294\":5,\"4294967295\":6,\"01\":7,\"-1\":8,\"1.0\":9}",
                   "{\"1\":3,\"2\":2,\"4294967294\":5,\"b\":1,\"a\":4,\"4294967295\":6,\"01\":7,\"-1\":8,\"1.0\":9}");
  expect_roundtrip("{\"10\":{\"3\":1,\"2\":{\"b\":1,\"1\":0},\"x\":[{\"9\":1,\"8\":2}]},\"9\":0,\"0\":[]}",
                   "{\"0\":[],\"9\":0,\"10\":{\"2\":{\"1\":0,\"b\":1},\"3\":1,\"x\":[{\"8\":2,\"9\":1}]}}");
  expect_roundtrip("{\"0\":0,\"00\":1,\"\":2}", "{\"0\":0,\"00\":1,\"\":2}");
}

/* Nested index-keyed objects large enough to grow the scratch stack mid-walk. */
static void json_sorts_many_nested_index_keys(void **state) {
  (void)state;
  json_t *outer = json_object();
  sio__buf_t want = SIO__BUF_INIT;
  char key[16];
  for (int i = 39; i >= 0; i--) {
    json_t *inner = json_object();
    json_object_set_new(inner, "name", json_integer(i));
    for (int j = 59; j >= 0; j--) {
      snprintf(key, sizeof key, "%d", j * 7);
      json_object_set_new(inner, key, json_integer(j));
    }
    snprintf(key, sizeof key, "%d", i * 1000);
    json_object_set_new(outer, key, inner);
  }
  json_object_set_new(outer, "tail", json_true());
  sio__buf_append_byte(&want, '{');
  for (int i = 0; i < 40; i++) {
    sio__buf_appendf(&want, "%s\"%d\":{", i ? "," : "", i * 1000);
    for (int j = 0; j < 60; j++) sio__buf_appendf(&want, "\"%d\":%d,", j * 7, j);
    sio__buf_appendf(&want, "\"name\":%d}", i);
  }
  sio__buf_append_str(&want, ",\"tail\":true}");
  expect_json(outer, want.base, want.len);
  sio__buf_free(&want);
}

static void json_escapes_strings_like_stringify(void **state) {
  (void)state;
  /* JSON.stringify("\u0000\u0001\u001f\b\f\n\r\t\"\\/\u007f\u2028é😀") */
  expect_roundtrip("\"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\\u2028\\u00e9\\ud83d\\ude00\"",
                   "\"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f\xe2\x80\xa8\xc3\xa9\xf0\x9f\x98\x80\"");
  /* Vertical tab and RS have no short escape. Keys are escaped too. */
  json_t *o = json_object();
  json_object_set_new(o, "a\"b\n", json_integer(1));
  json_object_set_new(o, "\x0b\x1e", json_string("\x7f"));
  EXPECT_JSON(o, "{\"a\\\"b\\n\":1,\"\\u000b\\u001e\":\"\x7f\"}");
  /* A run of plain bytes around an escape. */
  EXPECT_JSON(json_string("path/to\tfile 100%"), "\"path/to\\tfile 100%\"");
}

static void json_writes_embedded_nul_in_string(void **state) {
  (void)state;
  EXPECT_JSON(json_stringn("a\0b", 3), "\"a\\u0000b\"");
}

static void json_writes_reals_like_number_tostring(void **state) {
  (void)state;
  expect_double(0.1, "0.1");
  expect_double(0.1 + 0.2, "0.30000000000000004");
  expect_double(1e21, "1e+21");
  expect_double(1.1e21, "1.1e+21");
  expect_double(1e20, "100000000000000000000");
  expect_double(9.999999999999999e20, "999999999999999900000");
  expect_double(1.2345678901234568e20, "123456789012345680000");
  expect_double(1.5e-7, "1.5e-7");
  expect_double(1e-7, "1e-7");
  expect_double(-1e-7, "-1e-7");
  expect_double(1e-6, "0.000001");
  expect_double(1.234e-6, "0.000001234");
  expect_double(1.2e-5, "0.000012");
  expect_double(1.23e-18, "1.23e-18");
  expect_double(100.0, "100");
  expect_double(-0.0, "0");
  expect_double(0.0, "0");
  expect_double(-1.5, "-1.5");
  expect_double(0.5, "0.5");
  expect_double(123.456, "123.456");
  expect_double(100.5, "100.5");
  expect_double(4294967296.5, "4294967296.5");
  expect_double(12345678000000.0, "12345678000000");
  expect_double(1e300, "1e+300");
  expect_double(4.35, "4.35");
  expect_double(0.3, "0.3");
  expect_double(2.0 / 3.0, "0.6666666666666666");
  expect_double(1.0 / 3.0, "0.3333333333333333");
  expect_double(9223372036854775808.0, "9223372036854776000");
  expect_double(1.7976931348623157e308, "1.7976931348623157e+308");
  expect_double(2.2250738585072014e-308, "2.2250738585072014e-308");
  /* Subnormals have fewer digits of precision: the shortest round trip is short. */
  expect_double(5e-324, "5e-324");
  expect_double(-5e-324, "-5e-324");
  expect_double(1e-310, "1e-310");
}

static void json_formats_non_finite_as_null(void **state) {
  (void)state;
  char tmp[40];
  assert_int_equal(sio__json_format_double(tmp, NAN), 4);
  assert_string_equal(tmp, "null");
  assert_int_equal(sio__json_format_double(tmp, -INFINITY), 4);
  assert_string_equal(tmp, "null");
}

static void json_writes_unsafe_integers_as_the_double_js_holds(void **state) {
  (void)state;
  EXPECT_JSON(json_integer(9007199254740991LL), "9007199254740991");
  EXPECT_JSON(json_integer(9007199254740992LL), "9007199254740992");
  EXPECT_JSON(json_integer(-9007199254740992LL), "-9007199254740992");
  EXPECT_JSON(json_integer(9007199254740993LL), "9007199254740992");
  EXPECT_JSON(json_integer(9007199254740995LL), "9007199254740996");
  EXPECT_JSON(json_integer(-9007199254740993LL), "-9007199254740992");
  EXPECT_JSON(json_integer(INT64_MAX), "9223372036854776000");
  EXPECT_JSON(json_integer(INT64_MIN), "-9223372036854776000");
}

static void json_appends_after_existing_bytes(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  sio__buf_append_str(&b, "42");
  json_t *v = json_pack("[s,i]", "hi", 7);
  assert_int_equal(sio__json_write(&b, v), 0);
  assert_int_equal(b.len, 10);
  assert_memory_equal(b.base, "42[\"hi\",7]", 10);
  json_decref(v);
  sio__buf_free(&b);
}

/* ---- OOM: an allocator that fails from the n-th call on ---- */

/* fail_after, oom_malloc, oom_realloc, oom_free: fail_after.h */

static void json_reports_enomem_and_restores_length(void **state) {
  (void)state;
  sio_allocator_t a = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&a);
  json_error_t err;
  const char *text = "{\"k\":\"a long enough string to need a bigger buffer than 64 bytes ...\","
                     "\"3\":{\"2\":[1,2,3],\"1\":0.5}}";
  json_t *v = json_loads(text, 0, &err);
  assert_non_null(v);
  int successes = 0;
  for (long n = 0; n < 20; n++) {
    sio__buf_t b = SIO__BUF_INIT;
    sio__buf_append_str(&b, "x");
    fail_after = n;
    int r = sio__json_write(&b, v);
    fail_after = -1;
    if (r == 0) {
      successes++;
      assert_int_equal(b.len, 1 + strlen("{\"3\":{\"1\":0.5,\"2\":[1,2,3]},\"k\":\"a long enough string to need a bigger "
                                         "buffer than 64 bytes ...\"}"));
    } else {
      assert_int_equal(r, SIO_ENOMEM);
      assert_int_equal(b.len, 1);
    }
    sio__buf_free(&b);
  }
  assert_true(successes > 0 && successes < 20);
  json_decref(v);
  sio_set_allocator(NULL);
}

int main(void) {
  sio_set_allocator(NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_writes_scalars),
      cmocka_unit_test(json_writes_compact_nested_containers),
      cmocka_unit_test(json_keeps_key_insertion_order_after_loadb),
      cmocka_unit_test(json_duplicate_key_keeps_first_position_last_value),
      cmocka_unit_test(json_reinserted_key_moves_to_end),
      cmocka_unit_test(json_orders_array_index_keys_first_like_v8),
      cmocka_unit_test(json_sorts_many_nested_index_keys),
      cmocka_unit_test(json_escapes_strings_like_stringify),
      cmocka_unit_test(json_writes_embedded_nul_in_string),
      cmocka_unit_test(json_writes_reals_like_number_tostring),
      cmocka_unit_test(json_formats_non_finite_as_null),
      cmocka_unit_test(json_writes_unsafe_integers_as_the_double_js_holds),
      cmocka_unit_test(json_appends_after_existing_bytes),
      cmocka_unit_test(json_reports_enomem_and_restores_length),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
