/*
 * Unit tests for the Engine.IO v4 packet and payload codec (src/engine/packet.c).
 * Byte-exact vectors from the Engine.IO v4 protocol and engine.io-parser's own tests,
 * every error branch, every prefix of a payload, OOM on each append, and a fixed-seed
 * encode -> decode round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "engine/packet.h"
#include "sio/common.h"
#include "sio/errors.h"

/* The record separator, kept as its own literal: "\x1e4" or "\x1eb" would otherwise be
 * read by the C compiler as one longer hex escape. */
#define RS "\x1e"

/* --------------------------------------------------------------------------------
 * Helpers
 * -------------------------------------------------------------------------------- */

#define MAX_SEEN 64

/* Records what the decoder delivered; pointers borrow the decoded body. */
typedef struct {
  int n;
  int calls;
  int abort_at;   /* 1-based call that returns abort_val; 0 = never */
  int abort_val;
  sio__eio_packet_t p[MAX_SEEN];
} seen_t;

static int collect(void *user, sio__eio_packet_t *p) {
  seen_t *s = user;
  s->calls++;
  if (s->n < MAX_SEEN) s->p[s->n++] = *p;
  if (s->abort_at && s->calls == s->abort_at) return s->abort_val;
  return 0;
}

/* Decodes a string literal payload from a private, exactly sized heap copy (so ASan
 * sees any over-read). The copy is returned in *copy for the caller to free. */
static int decode(const char *lit, size_t len, size_t max, seen_t *seen, char **copy) {
  memset(seen, 0, sizeof *seen);
  *copy = malloc(len ? len : 1);
  memcpy(*copy, lit, len);
  return sio__eio_decode_payload(*copy, len, max, collect, seen);
}

#define DECODE(lit, max, seen, copy) decode((lit), sizeof(lit) - 1, (max), (seen), (copy))

static void assert_packet(const sio__eio_packet_t *p, int type, int binary, const void *data, size_t len) {
  assert_int_equal(p->type, type);
  assert_int_equal(p->binary, binary);
  assert_int_equal(p->len, len);
  if (len) assert_memory_equal(p->data, data, len);
}

/* An allocator that fails every call once `budget` calls have succeeded. */
static long alloc_budget = -1;
static void *oom_malloc(void *ctx, size_t n) {
  (void)ctx;
  if (alloc_budget == 0) return NULL;
  if (alloc_budget > 0) alloc_budget--;
  return malloc(n);
}
static void *oom_realloc(void *ctx, void *p, size_t n) {
  (void)ctx;
  if (alloc_budget == 0) return NULL;
  if (alloc_budget > 0) alloc_budget--;
  return realloc(p, n);
}
static void oom_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}
static const sio_allocator_t oom_allocator = {oom_malloc, oom_realloc, oom_free, NULL};

/* --------------------------------------------------------------------------------
 * Single text packets
 * -------------------------------------------------------------------------------- */

static void text_decodes_each_packet_type(void **state) {
  (void)state;
  static const char *names[] = {"open", "close", "ping", "pong", "message", "upgrade", "noop"};
  for (int t = 0; t <= 6; t++) {
    char s[] = {(char)('0' + t), 'a', 'b', 'c'};
    sio__eio_packet_t p;
    assert_int_equal(sio__eio_decode_text(s, 4, &p), 0);
    assert_packet(&p, t, 0, "abc", 3);
    assert_ptr_equal(p.data, s + 1);
    assert_string_equal(sio__eio_type_name(t), names[t]);
  }
  assert_string_equal(sio__eio_type_name(7), "error");
  assert_string_equal(sio__eio_type_name(-1), "error");
}

static void text_decodes_message_with_empty_data(void **state) {
  (void)state;
  char s[] = "4";
  sio__eio_packet_t p;
  assert_int_equal(sio__eio_decode_text(s, 1, &p), 0);
  assert_packet(&p, SIO__EIO_MESSAGE, 0, NULL, 0);
  assert_ptr_equal(p.data, s + 1);
}

static void text_decodes_probe_ping_and_pong(void **state) {
  (void)state;
  char ping[] = "2probe", pong[] = "3probe", upgrade[] = "5";
  sio__eio_packet_t p;
  assert_int_equal(sio__eio_decode_text(ping, 6, &p), 0);
  assert_packet(&p, SIO__EIO_PING, 0, "probe", 5);
  assert_int_equal(sio__eio_decode_text(pong, 6, &p), 0);
  assert_packet(&p, SIO__EIO_PONG, 0, "probe", 5);
  assert_int_equal(sio__eio_decode_text(upgrade, 1, &p), 0);
  assert_packet(&p, SIO__EIO_UPGRADE, 0, NULL, 0);
}

static void text_rejects_empty_input_and_unknown_types(void **state) {
  (void)state;
  /* '/' and '7' bracket the valid digits; 'b' is only meaningful inside a payload. */
  const char *bad[] = {"7", "8hello", "9", "/", ":", "bAQID", "a", " 4", "-1", "\xff"};
  sio__eio_packet_t p = {.type = 99};
  char empty[1] = {0};
  assert_int_equal(sio__eio_decode_text(empty, 0, &p), SIO_EPROTO);
  char nul[2] = {0, '4'};
  assert_int_equal(sio__eio_decode_text(nul, 2, &p), SIO_EPROTO);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char s[16];
    memcpy(s, bad[i], strlen(bad[i]));
    assert_int_equal(sio__eio_decode_text(s, strlen(bad[i]), &p), SIO_EPROTO);
  }
  assert_int_equal(p.type, 99); /* untouched on error */
}

static void binary_frame_is_a_binary_message(void **state) {
  (void)state;
  char b[] = {1, 2, 3};
  sio__eio_packet_t p;
  assert_int_equal(sio__eio_decode_binary(b, 3, &p), 0);
  assert_packet(&p, SIO__EIO_MESSAGE, 1, "\x01\x02\x03", 3);
  assert_ptr_equal(p.data, b);
}

/* --------------------------------------------------------------------------------
 * Payload decoding
 * -------------------------------------------------------------------------------- */

static void payload_decodes_several_text_packets(void **state) {
  (void)state;
  seen_t s;
  char *body;
  assert_int_equal(DECODE("4hello" RS "2" RS "3probe" RS "6" RS "1", 0, &s, &body), 0);
  assert_int_equal(s.n, 5);
  assert_packet(&s.p[0], SIO__EIO_MESSAGE, 0, "hello", 5);
  assert_packet(&s.p[1], SIO__EIO_PING, 0, NULL, 0);
  assert_packet(&s.p[2], SIO__EIO_PONG, 0, "probe", 5);
  assert_packet(&s.p[3], SIO__EIO_NOOP, 0, NULL, 0);
  assert_packet(&s.p[4], SIO__EIO_CLOSE, 0, NULL, 0);
  /* Text slices point into the body, which text parts leave as is. */
  assert_ptr_equal(s.p[0].data, body + 1);
  free(body);
}

static void payload_decodes_single_packet_without_separator(void **state) {
  (void)state;
  seen_t s;
  char *body;
  assert_int_equal(DECODE("40{\"token\":\"x\"}", 1, &s, &body), 0);
  assert_int_equal(s.n, 1);
  assert_packet(&s.p[0], SIO__EIO_MESSAGE, 0, "0{\"token\":\"x\"}", 14);
  free(body);
}

static void payload_decodes_binary_in_place(void **state) {
  (void)state;
  seen_t s;
  char *body;
  assert_int_equal(DECODE("bAQID", 0, &s, &body), 0);
  assert_int_equal(s.n, 1);
  assert_packet(&s.p[0], SIO__EIO_MESSAGE, 1, "\x01\x02\x03", 3);
  /* Decoded into the part itself: no allocation. */
  assert_ptr_equal(s.p[0].data, body);
  free(body);
}

static void payload_decodes_empty_binary_message(void **state) {
  (void)state;
  seen_t s;
  char *body;
  assert_int_equal(DECODE("b" RS "4x", 0, &s, &body), 0);
  assert_int_equal(s.n, 2);
  assert_packet(&s.p[0], SIO__EIO_MESSAGE, 1, NULL, 0);
  assert_packet(&s.p[1], SIO__EIO_MESSAGE, 0, "x", 1);
  free(body);
}

static void payload_decodes_upstream_mixed_vectors(void **state) {
  (void)state;
  seen_t s;
  char *body;
  /* engine.io-parser: encodePayload([{message "hello"}, {message "€"}, {message [1,2,3,4]}]). */
  assert_int_equal(DECODE("4hello" RS "4€" RS "bAQIDBA==", 0, &s, &body), 0);
  assert_int_equal(s.n, 3);
  assert_packet(&s.p[0], SIO__EIO_MESSAGE, 0, "hello", 5);
  assert_packet(&s.p[1], SIO__EIO_MESSAGE, 0, "\xe2\x82\xac", 3);
  assert_packet(&s.p[2], SIO__EIO_MESSAGE, 1, "\x01\x02\x03\x04", 4);
  free(body);

  /* Binary first, then text; one and two padding characters. */
  assert_int_equal(DECODE("bAQIDBAU=" RS "4test" RS "bAA==", 0, &s, &body), 0);
  assert_int_equal(s.n, 3);
  assert_packet(&s.p[0], SIO__EIO_MESSAGE, 1, "\x01\x02\x03\x04\x05", 5);
  assert_packet(&s.p[1], SIO__EIO_MESSAGE, 0, "test", 4);
  assert_packet(&s.p[2], SIO__EIO_MESSAGE, 1, "\x00", 1);
  free(body);

  /* Every type in one payload. */
  assert_int_equal(DECODE("0" RS "1" RS "2" RS "3" RS "4" RS "5" RS "6", 0, &s, &body), 0);
  assert_int_equal(s.n, 7);
  for (int t = 0; t < 7; t++) assert_packet(&s.p[t], t, 0, NULL, 0);
  free(body);
}

static void payload_rejects_empty_parts(void **state) {
  (void)state;
  seen_t s;
  char *body;
  assert_int_equal(DECODE("", 0, &s, &body), SIO_EPROTO);
  free(body);
  const char *bad[] = {RS, RS RS, "4a" RS RS "4b", RS "4a", "4a" RS, "4a" RS "4b" RS, "bAQID" RS};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(decode(bad[i], strlen(bad[i]), 0, &s, &body), SIO_EPROTO);
    assert_int_equal(s.calls, 0); /* validated whole before any delivery */
    free(body);
  }
}

static void payload_rejects_bad_type_digits(void **state) {
  (void)state;
  seen_t s;
  char *body;
  const char *bad[] = {"7", "x", "/", ":", "4ok" RS "9x", "4ok" RS "7", "B" "AQID", " 4", "4ok" RS "a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(decode(bad[i], strlen(bad[i]), 0, &s, &body), SIO_EPROTO);
    assert_int_equal(s.calls, 0);
    free(body);
  }
}

static void payload_rejects_bad_base64(void **state) {
  (void)state;
  seen_t s;
  char *body;
  const char *bad[] = {
      /* length not a multiple of 4 */
      "bA", "bAQ", "bAQIDB", "bAQIDBA=",
      /* characters outside the standard alphabet (base64url, space, newline, NUL-free junk) */
      "bAQ-D", "bAQ_D", "bAQ D", "bAQ\nD", "bAQ!D", "bAQ\xc3\xa9",
      /* '=' anywhere but the final one or two places */
      "b=AAA", "bA=AA", "bAA=A", "bA===", "b====", "bAQ==AQID", "bAQ==AQ==", "bAQID=AAA",
      /* a good part followed by a bad one: nothing is delivered */
      "4ok" RS "bAQ", "bAQID" RS "bA!==",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(decode(bad[i], strlen(bad[i]), 0, &s, &body), SIO_EPROTO);
    assert_int_equal(s.calls, 0);
    /* Rejected before any part was rewritten. */
    assert_memory_equal(body, bad[i], strlen(bad[i]));
    free(body);
  }
}

static void payload_enforces_max_packets(void **state) {
  (void)state;
  seen_t s;
  char *body;
  assert_int_equal(DECODE("4a" RS "4b" RS "4c", 3, &s, &body), 0);
  assert_int_equal(s.n, 3);
  free(body);
  assert_int_equal(DECODE("4a" RS "4b" RS "4c", 2, &s, &body), SIO_ELIMIT);
  assert_int_equal(s.calls, 0);
  free(body);
  assert_int_equal(DECODE("4a", 1, &s, &body), 0);
  free(body);
  /* 0 means no limit. */
  assert_int_equal(DECODE("2" RS "2" RS "2" RS "2" RS "2", 0, &s, &body), 0);
  assert_int_equal(s.n, 5);
  free(body);
}

static void payload_propagates_callback_abort_value(void **state) {
  (void)state;
  char lit[] = "4a" RS "bAQID" RS "4c";
  char body[sizeof lit];
  memcpy(body, lit, sizeof lit);
  seen_t s;
  memset(&s, 0, sizeof s);
  s.abort_at = 2;
  s.abort_val = 42;
  assert_int_equal(sio__eio_decode_payload(body, sizeof lit - 1, 0, collect, &s), 42);
  assert_int_equal(s.calls, 2);
  assert_packet(&s.p[1], SIO__EIO_MESSAGE, 1, "\x01\x02\x03", 3);

  memcpy(body, lit, sizeof lit);
  memset(&s, 0, sizeof s);
  s.abort_at = 1;
  s.abort_val = SIO_ECLOSED;
  assert_int_equal(sio__eio_decode_payload(body, sizeof lit - 1, 0, collect, &s), SIO_ECLOSED);
  assert_int_equal(s.calls, 1);
}

/* The codec is not incremental (a POST body arrives whole), so the "split input" test
 * is: every prefix of a valid payload decodes or fails cleanly, from an exact-size copy. */
static void payload_every_prefix_decodes_or_fails_cleanly(void **state) {
  (void)state;
  static const char lit[] = "4hello" RS "bAQIDBA==" RS "2probe" RS "b" RS "40{}";
  seen_t s;
  char *body;
  int ok = 0;
  for (size_t n = 0; n <= sizeof lit - 1; n++) {
    int r = decode(lit, n, 0, &s, &body);
    assert_true(r == 0 || r == SIO_EPROTO);
    if (r == 0) ok++;
    else assert_int_equal(s.calls, 0);
    free(body);
  }
  /* Exactly these prefixes are whole payloads: "4".."4hello" (6); "…␞b", "…␞bAQID",
   * "…␞bAQIDBA==" (3: base64 of length 0, 4, 8); "…␞2".."…␞2probe" (6); "…␞b" (1);
   * "…␞4".."…␞40{}" (4). */
  assert_int_equal(ok, 6 + 3 + 6 + 1 + 4);
}

/* Lengths around the decoder's 1024-char (768-byte) block, to cover the in-place
 * decode crossing block boundaries with and without padding. */
static void payload_decodes_large_binary_across_blocks(void **state) {
  (void)state;
  static const size_t sizes[] = {766, 767, 768, 769, 770, 1535, 1536, 1537, 5000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t n = sizes[k];
    char *bytes = malloc(n);
    for (size_t i = 0; i < n; i++) bytes[i] = (char)(i * 7 + k);
    sio__buf_t b = SIO__BUF_INIT;
    sio__eio_packet_t in = {SIO__EIO_MESSAGE, 1, bytes, n};
    assert_int_equal(sio__eio_payload_append(&b, &in, 0), 0);
    assert_int_equal(b.len, 1 + (n + 2) / 3 * 4);
    seen_t s;
    char *body;
    assert_int_equal(decode(b.base, b.len, 0, &s, &body), 0);
    assert_int_equal(s.n, 1);
    assert_packet(&s.p[0], SIO__EIO_MESSAGE, 1, bytes, n);
    free(body);
    sio__buf_free(&b);
    free(bytes);
  }
}

/* --------------------------------------------------------------------------------
 * Encoding
 * -------------------------------------------------------------------------------- */

static void payload_append_writes_text_binary_and_separators(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  sio__eio_packet_t hello = {SIO__EIO_MESSAGE, 0, "hello", 5};
  sio__eio_packet_t bin = {SIO__EIO_MESSAGE, 1, "\x01\x02\x03\x04", 4};
  sio__eio_packet_t ping = {SIO__EIO_PING, 0, NULL, 0};
  sio__eio_packet_t empty = {SIO__EIO_MESSAGE, 1, NULL, 0};
  assert_int_equal(sio__eio_payload_append(&b, &hello, 0), 0);
  assert_int_equal(sio__eio_payload_append(&b, &bin, 1), 0);
  assert_int_equal(sio__eio_payload_append(&b, &ping, 1), 0);
  assert_int_equal(sio__eio_payload_append(&b, &empty, 1), 0);
  static const char want[] = "4hello" RS "bAQIDBA==" RS "2" RS "b";
  assert_int_equal(b.len, sizeof want - 1);
  assert_memory_equal(b.base, want, sizeof want - 1);
  sio__buf_free(&b);

  /* engine.io-parser's vector: [{message "€"}, {message [1,2,3,4]}]. */
  sio__eio_packet_t euro = {SIO__EIO_MESSAGE, 0, "\xe2\x82\xac", 3};
  assert_int_equal(sio__eio_payload_append(&b, &euro, 0), 0);
  assert_int_equal(sio__eio_payload_append(&b, &bin, 1), 0);
  assert_int_equal(b.len, 14);
  assert_memory_equal(b.base, "4€" RS "bAQIDBA==", 14);
  sio__buf_free(&b);
}

static void payload_append_rejects_unencodable_packets(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__buf_append_str(&b, "keep"), 0);
  sio__eio_packet_t bad_type = {7, 0, "x", 1};
  sio__eio_packet_t bin_ping = {SIO__EIO_PING, 1, "x", 1};
  sio__eio_packet_t has_rs = {SIO__EIO_MESSAGE, 0, "a" RS "b", 3};
  assert_int_equal(sio__eio_payload_append(&b, &bad_type, 1), SIO_EINVAL);
  assert_int_equal(sio__eio_payload_append(&b, &bin_ping, 1), SIO_EINVAL);
  assert_int_equal(sio__eio_payload_append(&b, &has_rs, 1), SIO_EINVAL);
  assert_int_equal(b.len, 4);
  /* A binary message may hold 0x1e: base64 hides it. */
  sio__eio_packet_t bin_rs = {SIO__EIO_MESSAGE, 1, RS, 1};
  assert_int_equal(sio__eio_payload_append(&b, &bin_rs, 1), 0);
  assert_memory_equal(b.base, "keep" RS "bHg==", 10);
  sio__buf_free(&b);
}

static void encode_text_writes_digit_and_data(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__eio_encode_text(&b, SIO__EIO_PONG, "probe", 5), 0);
  assert_int_equal(sio__eio_encode_text(&b, SIO__EIO_UPGRADE, NULL, 0), 0);
  assert_int_equal(sio__eio_encode_text(&b, SIO__EIO_MESSAGE, "2[\"a\"]", 6), 0);
  /* WebSocket frames are not split on 0x1e, so text frames may carry it. */
  assert_int_equal(sio__eio_encode_text(&b, SIO__EIO_MESSAGE, RS, 1), 0);
  assert_int_equal(b.len, 16);
  assert_memory_equal(b.base, "3probe" "5" "42[\"a\"]" "4" RS, 16);
  assert_int_equal(sio__eio_encode_text(&b, -1, "x", 1), SIO_EINVAL);
  assert_int_equal(sio__eio_encode_text(&b, 7, "x", 1), SIO_EINVAL);
  assert_int_equal(b.len, 16);
  sio__buf_free(&b);
}

static void encode_open_matches_engine_io_byte_for_byte(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__eio_encode_open(&b, "abc", 1, 25000, 20000, 1000000), 0);
  static const char ws[] =
      "0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,"
      "\"maxPayload\":1000000}";
  assert_int_equal(b.len, sizeof ws - 1);
  assert_memory_equal(b.base, ws, sizeof ws - 1);
  sio__buf_free(&b);

  assert_int_equal(sio__eio_encode_open(&b, "abc", 0, 25000, 20000, 1000000), 0);
  static const char none[] =
      "0{\"sid\":\"abc\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
      "\"maxPayload\":1000000}";
  assert_int_equal(b.len, sizeof none - 1);
  assert_memory_equal(b.base, none, sizeof none - 1);
  sio__buf_free(&b);

  /* Appends after existing bytes; a sid that needs JSON escaping is escaped. */
  assert_int_equal(sio__buf_append_str(&b, "x"), 0);
  assert_int_equal(sio__eio_encode_open(&b, "a\"\\\x01", 0, 1, 2, 18446744073709551615u), 0);
  static const char esc[] =
      "x0{\"sid\":\"a\\\"\\\\\\u0001\",\"upgrades\":[],\"pingInterval\":1,\"pingTimeout\":2,"
      "\"maxPayload\":18446744073709551615}";
  assert_int_equal(b.len, sizeof esc - 1);
  assert_memory_equal(b.base, esc, sizeof esc - 1);
  sio__buf_free(&b);
}

static void error_json_matches_engine_io_messages(void **state) {
  (void)state;
  static const char *want[] = {
      "{\"code\":0,\"message\":\"Transport unknown\"}",
      "{\"code\":1,\"message\":\"Session ID unknown\"}",
      "{\"code\":2,\"message\":\"Bad handshake method\"}",
      "{\"code\":3,\"message\":\"Bad request\"}",
      "{\"code\":4,\"message\":\"Forbidden\"}",
      "{\"code\":5,\"message\":\"Unsupported protocol version\"}",
  };
  static const int codes[] = {SIO__EIO_ERR_UNKNOWN_TRANSPORT, SIO__EIO_ERR_UNKNOWN_SID,
                              SIO__EIO_ERR_BAD_HANDSHAKE_METHOD, SIO__EIO_ERR_BAD_REQUEST,
                              SIO__EIO_ERR_FORBIDDEN, SIO__EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION};
  for (int i = 0; i < 6; i++) {
    sio__buf_t b = SIO__BUF_INIT;
    assert_int_equal(sio__eio_error_json(&b, codes[i]), 0);
    assert_int_equal(b.len, strlen(want[i]));
    assert_memory_equal(b.base, want[i], b.len);
    sio__buf_free(&b);
  }
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__eio_error_json(&b, -1), SIO_EINVAL);
  assert_int_equal(sio__eio_error_json(&b, 6), SIO_EINVAL);
  assert_int_equal(sio__eio_error_json_msg(&b, 6, "x", 1), SIO_EINVAL);
  assert_int_equal(b.len, 0);
  /* A custom allowRequest message, escaped like JSON.stringify. */
  static const char msg[] = "no \"way\"\n\t\b\f\r\x1f/\xe2\x82\xac";
  assert_int_equal(sio__eio_error_json_msg(&b, SIO__EIO_ERR_FORBIDDEN, msg, sizeof msg - 1), 0);
  static const char custom[] =
      "{\"code\":4,\"message\":\"no \\\"way\\\"\\n\\t\\b\\f\\r\\u001f/\xe2\x82\xac\"}";
  assert_int_equal(b.len, sizeof custom - 1);
  assert_memory_equal(b.base, custom, sizeof custom - 1);
  sio__buf_free(&b);
}

/* Steps the allocator's failure point upward: every failure must be SIO_ENOMEM with the
 * buffer's earlier bytes intact and nothing appended, until the call succeeds. */
static void encoders_report_enomem_and_append_nothing(void **state) {
  (void)state;
  sio_set_allocator(&oom_allocator);
  for (int which = 0; which < 5; which++) {
    int succeeded = 0;
    for (long budget = 0; budget < 20 && !succeeded; budget++) {
      sio__buf_t b = SIO__BUF_INIT;
      alloc_budget = -1;
      assert_int_equal(sio__buf_append_str(&b, "pre"), 0); /* cap 64: later growth reallocs */
      alloc_budget = budget;
      char big[200];
      memset(big, 'z', sizeof big);
      sio__eio_packet_t bin = {SIO__EIO_MESSAGE, 1, big, sizeof big};
      int r;
      switch (which) {
        case 0: r = sio__eio_encode_open(&b, "abcdefghijklmnopqrst", 1, 25000, 20000, 1000000); break;
        case 1: r = sio__eio_error_json(&b, SIO__EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION); break;
        case 2: r = sio__eio_error_json_msg(&b, 4, big, sizeof big); break;
        case 3: r = sio__eio_payload_append(&b, &bin, 1); break;
        default: r = sio__eio_encode_text(&b, 4, big, sizeof big); break;
      }
      alloc_budget = -1;
      if (r == 0) {
        succeeded = 1;
        assert_true(b.len > 3);
      } else {
        assert_int_equal(r, SIO_ENOMEM);
        assert_int_equal(b.len, 3);
      }
      assert_memory_equal(b.base, "pre", 3);
      sio__buf_free(&b);
    }
    assert_true(succeeded);
  }
  sio_set_allocator(NULL);
}

/* --------------------------------------------------------------------------------
 * Round trip
 * -------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint32_t rng(void) {
  /* xorshift64*: fixed seed, so a failure reproduces. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 2685821657736338717u) >> 32);
}

static void payload_roundtrips_random_packets(void **state) {
  (void)state;
  static char data[32][600];
  sio__eio_packet_t in[32];
  for (int iter = 0; iter < 2000; iter++) {
    int n = 1 + (int)(rng() % 32);
    sio__buf_t b = SIO__BUF_INIT;
    for (int i = 0; i < n; i++) {
      int binary = rng() % 3 == 0;
      size_t len = rng() % 8 == 0 ? rng() % 600 : rng() % 20;
      for (size_t k = 0; k < len; k++) {
        char c = (char)rng();
        /* Text cannot carry the separator (payload_append refuses it). */
        data[i][k] = (!binary && c == '\x1e') ? 'x' : c;
      }
      in[i] = (sio__eio_packet_t){binary ? SIO__EIO_MESSAGE : (uint8_t)(rng() % 7), (uint8_t)binary,
                                  data[i], len};
      assert_int_equal(sio__eio_payload_append(&b, &in[i], i > 0), 0);
    }
    seen_t s;
    char *body;
    assert_int_equal(decode(b.base, b.len, 32, &s, &body), 0);
    assert_int_equal(s.n, n);
    for (int i = 0; i < n; i++) assert_packet(&s.p[i], in[i].type, in[i].binary, in[i].data, in[i].len);
    free(body);
    sio__buf_free(&b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_decodes_each_packet_type),
      cmocka_unit_test(text_decodes_message_with_empty_data),
      cmocka_unit_test(text_decodes_probe_ping_and_pong),
      cmocka_unit_test(text_rejects_empty_input_and_unknown_types),
      cmocka_unit_test(binary_frame_is_a_binary_message),
      cmocka_unit_test(payload_decodes_several_text_packets),
      cmocka_unit_test(payload_decodes_single_packet_without_separator),
      cmocka_unit_test(payload_decodes_binary_in_place),
      cmocka_unit_test(payload_decodes_empty_binary_message),
      cmocka_unit_test(payload_decodes_upstream_mixed_vectors),
      cmocka_unit_test(payload_rejects_empty_parts),
      cmocka_unit_test(payload_rejects_bad_type_digits),
      cmocka_unit_test(payload_rejects_bad_base64),
      cmocka_unit_test(payload_enforces_max_packets),
      cmocka_unit_test(payload_propagates_callback_abort_value),
      cmocka_unit_test(payload_every_prefix_decodes_or_fails_cleanly),
      cmocka_unit_test(payload_decodes_large_binary_across_blocks),
      cmocka_unit_test(payload_append_writes_text_binary_and_separators),
      cmocka_unit_test(payload_append_rejects_unencodable_packets),
      cmocka_unit_test(encode_text_writes_digit_and_data),
      cmocka_unit_test(encode_open_matches_engine_io_byte_for_byte),
      cmocka_unit_test(error_json_matches_engine_io_messages),
      cmocka_unit_test(encoders_report_enomem_and_append_nothing),
      cmocka_unit_test(payload_roundtrips_random_packets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
