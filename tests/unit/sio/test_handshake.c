/*
 * handshake.query (src/sio/broadcast.c sio__query_object, what fetchSockets reports) as
 * the reference builds it: engine.io 6.6.12 sets req._query to
 * Object.fromEntries(new URL(req.url).searchParams), so a repeated key keeps its first
 * place and its last value. (The library used to make an array, like querystring.parse
 * in older engine.io; tests/integration/socketio_query.test.mjs shows Node 6.6's answer.)
 */
#include "helpers.h"
#include "sio/json.h"

/* The query object of q as JSON text, compared with want. */
static void expect_query(const char *q, const char *want) {
  json_t *obj = sio__query_object((sio_str_t){q, strlen(q)});
  assert_non_null(obj);
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__json_write(&b, obj), 0);
  assert_int_equal(sio__buf_append_byte(&b, '\0'), 0);
  assert_string_equal(b.base, want);
  sio__buf_free(&b);
  json_decref(obj);
}

static void a_repeated_key_keeps_its_first_place_and_last_value(void **state) {
  (void)state;
  expect_query("EIO=4&tag=a&solo=x&tag=b%20c&tag=d", "{\"EIO\":\"4\",\"tag\":\"d\",\"solo\":\"x\"}");
}

static void pairs_decode_like_url_search_params(void **state) {
  (void)state;
  /* '+' is a space, %XX a byte, a bare key an empty value, empty pairs nothing, an
   * empty key a key; a bad escape stays as it is. */
  expect_query("a+b=c+d&e&&=f&g=%zz&h=%C3%A9", "{\"a b\":\"c d\",\"e\":\"\",\"\":\"f\",\"g\":\"%zz\",\"h\":\"\xc3\xa9\"}");
  expect_query("", "{}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_repeated_key_keeps_its_first_place_and_last_value),
      cmocka_unit_test(pairs_decode_like_url_search_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
