/*
 * Unit tests for the msgpack packet codec (src/sio/mpparser.c, socket.io-msgpack-parser
 * 3.0 over notepack.io): decoding what the client's encoder writes, every refusal,
 * encoding byte-exact with notepack (the expected bytes below are notepack.io's
 * msgpack.encode of the same packet objects), the recovery offset as a last str, and
 * OOM at every allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/refbuf.h"
#include "sio/errors.h"
#include "sio/parser.h"
#include "sio/sio.h"
#include "fail_after.h"

/* ---- helpers ---- */

typedef struct {
  char b[512];
  size_t n;
} bytes_t;

static bytes_t hex(const char *h) {
  bytes_t out = {{0}, 0};
  for (; h[0] && h[1]; h += 2) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out.b[out.n++] = (char)v;
  }
  return out;
}

static int decode_hex(const char *h, sio__packet_t **p) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  bytes_t b = hex(h);
  int r = sio__decode_msgpack(&d, b.b, b.n, p);
  sio__decoder_free(&d);
  return r;
}

static void expect_bytes(sio__refbuf_t *rb, const char *h) {
  bytes_t want = hex(h);
  if (rb->len != want.n || memcmp(sio__refbuf_ptr(rb), want.b, want.n) != 0) {
    char got[1100];
    size_t k = 0;
    for (size_t i = 0; i < rb->len && k + 3 < sizeof got; i++) k += (size_t)snprintf(got + k, 3, "%02x", (unsigned char)sio__refbuf_ptr(rb)[i]);
    fail_msg("got  %s\nwant %s", got, h);
  }
}

/* ---- decoding ---- */

static void decodes_event_with_mixed_args(void **state) {
  (void)state;
  sio__packet_t *p = NULL;
  /* {type:2, data:['hi',1,-1,2.5,'é',null,true,{a:[1]}], nsp:'/'} */
  assert_int_equal(decode_hex("83a47479706502a46461746198a2686901ffcb4004000000000000a2c3a9c0c381a1619101a36e7370a12f", &p), 0);
  assert_int_equal(p->type, SIO__PKT_EVENT);
  assert_string_equal(p->nsp, "/");
  assert_int_equal(p->id, -1);
  assert_int_equal(p->natt, 0);
  assert_string_equal(sio__event_name(p), "hi");
  char *s = json_dumps(p->data, JSON_COMPACT);
  assert_string_equal(s, "[\"hi\",1,-1,2.5,\"\xc3\xa9\",null,true,{\"a\":[1]}]");
  free(s);
  sio__packet_free(p);
}

static void decodes_binary_as_attachments(void **state) {
  (void)state;
  sio__packet_t *p = NULL;
  /* {type:2, data:['up', Buffer[1,2], {k: Buffer 'ab'}], nsp:'/'} */
  assert_int_equal(decode_hex("83a47479706502a46461746193a27570c402010281a16bc4026162a36e7370a12f", &p), 0);
  assert_int_equal(p->type, SIO__PKT_BINARY_EVENT);
  assert_int_equal(p->natt, 2);
  assert_int_equal(p->att_received, 2);
  assert_memory_equal(sio__refbuf_ptr(p->att[0]), "\x01\x02", 2);
  assert_memory_equal(sio__refbuf_ptr(p->att[1]), "ab", 2);
  sio_args_t a;
  sio__args_of_packet(&a, p, 1);
  assert_int_equal(sio_args_count(&a), 2);
  sio_str_t bin;
  assert_int_equal(sio_args_get_binary(&a, 0, &bin), 0);
  assert_int_equal(bin.len, 2);
  sio__packet_free(p);

  /* {id:9, type:3, data:['ok', Buffer[7]], nsp:'/'}: an ACK with binary. */
  assert_int_equal(decode_hex("84a2696409a47479706503a46461746192a26f6bc40107a36e7370a12f", &p), 0);
  assert_int_equal(p->type, SIO__PKT_BINARY_ACK);
  assert_int_equal(p->id, 9);
  assert_int_equal(p->natt, 1);
  sio__packet_free(p);
}

static void decodes_connect_disconnect_and_ids(void **state) {
  (void)state;
  sio__packet_t *p = NULL;
  assert_int_equal(decode_hex("83a47479706500a46461746181a3736964a3616263a36e7370a12f", &p), 0);
  assert_int_equal(p->type, SIO__PKT_CONNECT);
  assert_true(json_is_object(p->data));
  sio__packet_free(p);
  assert_int_equal(decode_hex("82a47479706500a36e7370a22f78", &p), 0); /* {type:0, nsp:'/x'} */
  assert_int_equal(p->type, SIO__PKT_CONNECT);
  assert_null(p->data);
  assert_string_equal(p->nsp, "/x");
  sio__packet_free(p);
  assert_int_equal(decode_hex("82a47479706501a36e7370a12f", &p), 0);
  assert_int_equal(p->type, SIO__PKT_DISCONNECT);
  sio__packet_free(p);
  assert_int_equal(decode_hex("84a47479706502a46461746191a165a2696407a36e7370a62f61646d696e", &p), 0);
  assert_int_equal(p->id, 7);
  assert_string_equal(p->nsp, "/admin");
  sio__packet_free(p);
  /* Unknown keys are ignored, as socket.io-msgpack-parser does. */
  assert_int_equal(decode_hex("83a47479706501a36e7370a12fa178c0", &p), 0);
  sio__packet_free(p);
}

static void refuses_what_check_packet_refuses_and_more(void **state) {
  (void)state;
  static const struct {
    const char *hex, *why;
    int want;
  } bad[] = {
      {"", "empty", SIO_EPROTO},
      {"92a474797065", "not a map", SIO_EPROTO},
      {"82a47479706505a36e7370a12f", "type 5 (no binary types in msgpack)", SIO_EPROTO},
      {"82a474797065cb3ff0000000000000a36e7370a12f", "type 1.0 as a float", SIO_EPROTO},
      {"81a47479706501", "nsp missing", SIO_EPROTO},
      {"82a47479706501a36e737001", "nsp not a string", SIO_EPROTO},
      {"82a47479706501a36e7370a178", "nsp without '/'", SIO_EPROTO},
      {"82a47479706501a36e7370a22f00", "NUL in nsp", SIO_EPROTO},
      {"83a47479706503a46461746190a36e7370a12f", "ACK without id", SIO_EPROTO},
      {"84a47479706502a46461746191a165a269640ff0a36e7370a12f", "negative id", SIO_EPROTO},
      {"84a47479706502a46461746191a165a2696400cf0020000000000000a36e7370a12f", "id above 2^53-1", SIO_EPROTO},
      {"83a47479706502a46461746190a36e7370a12f", "EVENT with empty data", SIO_EPROTO},
      {"83a47479706502a46461746191a7636f6e6e656374a36e7370a12f", "reserved event name", SIO_EPROTO},
      {"83a47479706502a46461746192a165c1a36e7370a12f", "0xc1 inside", SIO_EPROTO},
      {"83a47479706500a46461746181a162c40101a36e7370a12f", "binary in a CONNECT", SIO_EPROTO},
      {"83a47479706501a461746101a36e7370a12f", "DISCONNECT with data", SIO_EPROTO},
      {"82a47479706501a36e7370a12fc0", "trailing bytes", SIO_EPROTO},
      {"83a47479706502a46461746191a2ff01a36e7370a12f", "invalid UTF-8 name", SIO_EUTF8},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sio__packet_t *p = (sio__packet_t *)1;
    int r = decode_hex(bad[i].hex, &p);
    if (r != bad[i].want) fail_msg("%s: got %s, want %s", bad[i].why, sio_err_name(r), sio_err_name(bad[i].want));
    assert_null(p);
  }
  /* A namespace longer than max_nsp. */
  sio__decoder_t d;
  sio__decoder_init(&d);
  d.max_nsp = 2;
  bytes_t b = hex("82a47479706501a36e7370a42f616263");
  sio__packet_t *p = NULL;
  assert_int_equal(sio__decode_msgpack(&d, b.b, b.n, &p), SIO_ELIMIT);
}

static void tells_msgpack_from_other_binary(void **state) {
  (void)state;
  bytes_t b = hex("83a47479706500a46461746181a3736964a3616263a36e7370a12f");
  assert_int_equal(sio__looks_msgpack(b.b, b.n), 1);
  assert_int_equal(sio__looks_msgpack("\x01\x02\x03", 3), 0);
  assert_int_equal(sio__looks_msgpack("", 0), 0);
}

/* ---- encoding ---- */

static void encodes_like_notepack(void **state) {
  (void)state;
  sio_args_t *a;
  sio__refbuf_t *rb;
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_int(a, 1), 0);
  assert_int_equal(sio_args_add_int(a, -1), 0);
  assert_int_equal(sio_args_add_double(a, 2.5), 0);
  assert_int_equal(sio_args_add_cstr(a, "\xc3\xa9"), 0);
  assert_int_equal(sio_args_add_null(a), 0);
  assert_int_equal(sio_args_add_bool(a, 1), 0);
  assert_int_equal(sio_args_add_json(a, "{\"a\":[1]}", 9), 0);
  assert_int_equal(sio__encode_event(SIO_PARSER_MSGPACK, "/", "hi", a, -1, &rb), 0);
  expect_bytes(rb, "83a47479706502a46461746198a2686901ffcb4004000000000000a2c3a9c0c381a1619101a36e7370a12f");
  sio__refbuf_unref(rb);
  sio_args_free(a);

  /* An ack id on an event: {type, data, id, nsp}. */
  assert_int_equal(sio__encode_event(SIO_PARSER_MSGPACK, "/admin", "e", NULL, 7, &rb), 0);
  expect_bytes(rb, "84a47479706502a46461746191a165a2696407a36e7370a62f61646d696e");
  sio__refbuf_unref(rb);

  /* Binary arguments as bin, nested too; an ACK is {id, type, data, nsp}. */
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_cstr(a, "ok"), 0);
  assert_int_equal(sio_args_add_binary(a, "\x07", 1), 0);
  assert_int_equal(sio__encode_ack(SIO_PARSER_MSGPACK, "/", a, 9, &rb), 0);
  expect_bytes(rb, "84a2696409a47479706503a46461746192a26f6bc40107a36e7370a12f");
  sio__refbuf_unref(rb);
  sio_args_free(a);

  /* Numbers at the edges pick notepack's formats. */
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_int(a, 9007199254740991LL), 0);
  assert_int_equal(sio_args_add_int(a, -2147483649LL), 0);
  assert_int_equal(sio_args_add_int(a, 65536), 0);
  assert_int_equal(sio__encode_event(SIO_PARSER_MSGPACK, NULL, "n", a, -1, &rb), 0);
  expect_bytes(rb, "83a47479706502a46461746194a16ecf001fffffffffffffd3ffffffff7fffffffce00010000a36e7370a12f");
  sio__refbuf_unref(rb);
  sio_args_free(a);

  /* An event name that is not UTF-8 cannot be written. */
  assert_int_equal(sio__encode_event(SIO_PARSER_MSGPACK, "/", "\xff", NULL, -1, &rb), SIO_EINVAL);
}

static void re_encodes_decoded_binary_events(void **state) {
  (void)state;
  sio__packet_t *p = NULL;
  const char *in = "83a47479706502a46461746193a27570c402010281a16bc4026162a36e7370a12f";
  assert_int_equal(decode_hex(in, &p), 0);
  sio_args_t a;
  sio__args_of_packet(&a, p, 1);
  sio__refbuf_t *rb;
  assert_int_equal(sio__encode_event(SIO_PARSER_MSGPACK, p->nsp, sio__event_name(p), &a, -1, &rb), 0);
  expect_bytes(rb, in);
  sio__refbuf_unref(rb);
  sio__packet_free(p);
}

static void encodes_control_packets(void **state) {
  (void)state;
  sio__refbuf_t *rb;
  /* CONNECT with its payload as text (how namespace.c answers). */
  sio__raw_t raw = {"{\"sid\":\"abc\"}", 13, NULL, 0, NULL};
  sio__packet_t c = {SIO__PKT_CONNECT, "/", -1, NULL, NULL, 0, 0, &raw};
  assert_int_equal(sio__encode_packet(SIO_PARSER_MSGPACK, &c, &rb), 0);
  expect_bytes(rb, "83a47479706500a46461746181a3736964a3616263a36e7370a12f");
  sio__refbuf_unref(rb);
  sio__packet_t d = {SIO__PKT_DISCONNECT, "/", -1, NULL, NULL, 0, 0, NULL};
  assert_int_equal(sio__encode_packet(SIO_PARSER_MSGPACK, &d, &rb), 0);
  expect_bytes(rb, "82a47479706501a36e7370a12f");
  sio__refbuf_unref(rb);
  json_t *err = json_pack("{s:s}", "message", "no");
  sio__packet_t e = {SIO__PKT_CONNECT_ERROR, "/", -1, err, NULL, 0, 0, NULL};
  assert_int_equal(sio__encode_packet(SIO_PARSER_MSGPACK, &e, &rb), 0);
  expect_bytes(rb, "83a47479706504a46461746181a76d657373616765a26e6fa36e7370a12f");
  sio__refbuf_unref(rb);
  json_decref(err);
}

static void writes_the_recovery_offset_as_a_last_str(void **state) {
  (void)state;
  sio_args_t *a;
  sio__refbuf_t *rb;
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_cstr(a, "x"), 0);
  assert_int_equal(sio__encode_event_tail(SIO_PARSER_MSGPACK, "/", "e", a, (sio_str_t){"\"tag0001\"", 9}, &rb), 0);
  expect_bytes(rb, "83a47479706502a46461746193a165a178a774616730303031a36e7370a12f");
  sio__refbuf_unref(rb);
  sio_args_free(a);
}

/* ---- OOM ---- */

/* fail_after, oom_malloc, oom_realloc, oom_free: fail_after.h */

/* Steps the failure point through decode + re-encode of a binary event: every step
 * completes with the same bytes or reports SIO_ENOMEM, and nothing leaks (LSan). */
static void survives_oom_at_every_allocation(void **state) {
  (void)state;
  sio_allocator_t al = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&al);
  const char *in = "84a47479706502a46461746194a27570c402010281a16bc4026162a6c3a9c3a9c3a9a2696405a36e7370a62f61646d696e";
  int completed = 0, failures = 0;
  for (long n = 0; n < 400 && !completed; n++) {
    sio__packet_t *p = NULL;
    sio__refbuf_t *rb = NULL;
    fail_after = n;
    int r = decode_hex(in, &p);
    if (r == 0) {
      sio_args_t a;
      sio__args_of_packet(&a, p, 1);
      r = sio__encode_event(SIO_PARSER_MSGPACK, p->nsp, sio__event_name(p), &a, p->id, &rb);
    }
    fail_after = -1;
    if (r == 0) {
      completed = 1;
      expect_bytes(rb, in);
    } else {
      if (r != SIO_ENOMEM) fail_msg("step %ld: %s", n, sio_err_name(r));
      failures++;
    }
    sio__refbuf_unref(rb);
    sio__packet_free(p);
  }
  sio_set_allocator(NULL);
  assert_true(completed);
  assert_true(failures >= 5);
}

int main(void) {
  sio_set_allocator(NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decodes_event_with_mixed_args),
      cmocka_unit_test(decodes_binary_as_attachments),
      cmocka_unit_test(decodes_connect_disconnect_and_ids),
      cmocka_unit_test(refuses_what_check_packet_refuses_and_more),
      cmocka_unit_test(tells_msgpack_from_other_binary),
      cmocka_unit_test(encodes_like_notepack),
      cmocka_unit_test(re_encodes_decoded_binary_events),
      cmocka_unit_test(encodes_control_packets),
      cmocka_unit_test(writes_the_recovery_offset_as_a_last_str),
      cmocka_unit_test(survives_oom_at_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
