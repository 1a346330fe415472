/*
 * Unit tests for the RFC 6455 §4.2 handshake helpers (src/ws/handshake.c): the
 * Sec-WebSocket-Accept computation and the header token-list test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sio/errors.h"
#include "ws/handshake.h"

#define ACCEPT(lit, out) sio__ws_accept(lit, sizeof(lit) - 1, out)
#define HAS(lit, tok) sio__ws_header_has_token(lit, sizeof(lit) - 1, tok)

static void accept_matches_rfc_example(void **state) {
  (void)state;
  char out[29];
  /* RFC 6455 §1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". */
  assert_int_equal(ACCEPT("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void accept_matches_other_known_keys(void **state) {
  (void)state;
  char out[29];
  /* Expected values computed with `openssl sha1 -binary | base64`. */
  assert_int_equal(ACCEPT("x3JJHMbDL1EzLkh9GBhXDw==", out), 0);
  assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  assert_int_equal(ACCEPT("AQIDBAUGBwgJCgsMDQ4PEA==", out), 0);
  assert_string_equal(out, "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
}

static void accept_reads_only_key_len_bytes(void **state) {
  (void)state;
  char out[29];
  const char *hdr = "dGhlIHNhbXBsZSBub25jZQ==\r\nHost: x";
  assert_int_equal(sio__ws_accept(hdr, 24, out), 0);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void accept_rejects_bad_keys(void **state) {
  (void)state;
  const char *bad[] = {
      "",                           /* empty */
      "dGhlIHNhbXBsZSBub25jZQ=",    /* 23 chars */
      "dGhlIHNhbXBsZSBub25jZQ===",  /* 25 chars */
      "AAAAAAAAAAAAAAAAAAAAAAA=",   /* 24 chars but 17 bytes */
      "AAAAAAAAAAAAAAAAAAAAAAAA",   /* 24 chars but 18 bytes */
      "dGhlIHNhbXBsZSBub25jZQ!=",   /* not base64 */
      "dGhlIHNhbXBsZSBub25j ZQ=",   /* embedded space */
      "dGhlIHNhbXBsZSB=b25jZQ==",   /* padding in the middle */
      "dGhlIHNhbXBsZSBub25jZ-_=",   /* base64url alphabet */
      "the sample nonce bytes!!",   /* 24 printable chars, not base64 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char out[29];
    memset(out, 'X', sizeof out);
    assert_int_equal(sio__ws_accept(bad[i], strlen(bad[i]), out), SIO_EINVAL);
    assert_int_equal(out[0], 'X'); /* untouched on error */
  }
  char out[29];
  assert_int_equal(sio__ws_accept(NULL, 24, out), SIO_EINVAL);
}

static void header_token_found_in_lists(void **state) {
  (void)state;
  assert_true(HAS("Upgrade", "upgrade"));
  assert_true(HAS("keep-alive, Upgrade", "Upgrade"));
  assert_true(HAS("keep-alive,upgrade", "Upgrade"));
  assert_true(HAS("  UPGRADE\t, close", "upgrade"));
  assert_true(HAS(",,Upgrade,", "upgrade"));
  assert_true(HAS("websocket", "websocket"));
  assert_true(HAS("WebSocket", "websocket"));
  assert_true(HAS("h2c, websocket ", "websocket"));
}

static void header_token_rejects_near_misses(void **state) {
  (void)state;
  assert_false(HAS("", "upgrade"));
  assert_false(HAS("keep-alive", "upgrade"));
  assert_false(HAS("Upgrade2", "upgrade"));
  assert_false(HAS("Upgradeable, foo", "upgrade"));
  assert_false(HAS("pgrade", "upgrade"));
  assert_false(HAS("up grade", "upgrade"));
  assert_false(HAS("websocket/13", "websocket"));
  /* Only len bytes are looked at. */
  assert_false(sio__ws_header_has_token("Upgrade", 6, "upgrade"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accept_matches_rfc_example),
      cmocka_unit_test(accept_matches_other_known_keys),
      cmocka_unit_test(accept_reads_only_key_len_bytes),
      cmocka_unit_test(accept_rejects_bad_keys),
      cmocka_unit_test(header_token_found_in_lists),
      cmocka_unit_test(header_token_rejects_near_misses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
