/*
 * Unit tests for permessage-deflate (src/ws/deflate.c) and the decoder's RSV1 rules
 * (src/ws/frame.c): offer negotiation (ws's acceptAsServer choices, RFC 7692 §5 and
 * §7.1 validation), compression round trips with and without context takeover, the
 * inflate bound (a bomb stops at max + 1 bytes), lazy stream allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "common/alloc.h"
#include "sio/errors.h"
#include "ws/deflate.h"
#include "ws/frame.h"

static sio_ws_deflate_opts_t on_opts(void) {
  sio_ws_deflate_opts_t o;
  sio_ws_deflate_opts_init(&o);
  o.enabled = 1;
  return o;
}

/* Negotiates v with o; returns the answer ("" when declined). */
static const char *nego(const sio_ws_deflate_opts_t *o, const char *v, sio__ws_pmd_params_t *p) {
  static char answer[SIO__WS_PMD_ANSWER_MAX];
  sio__ws_pmd_params_t tmp;
  if (!sio__ws_pmd_negotiate(o, v, strlen(v), p ? p : &tmp, answer)) return "";
  return answer;
}

static void opts_init_gives_nodes_defaults(void **state) {
  (void)state;
  sio_ws_deflate_opts_t o;
  sio_ws_deflate_opts_init(&o);
  assert_int_equal(o.enabled, 0);
  assert_int_equal(o.threshold, 1024);
  assert_int_equal(o.level, -1);
  assert_int_equal(o.mem_level, 8);
}

static void negotiate_declines_everything_when_disabled(void **state) {
  (void)state;
  sio_ws_deflate_opts_t o;
  sio_ws_deflate_opts_init(&o);
  assert_string_equal(nego(&o, "permessage-deflate", NULL), "");
}

static void negotiate_accepts_the_browser_offer(void **state) {
  (void)state;
  sio_ws_deflate_opts_t o = on_opts();
  sio__ws_pmd_params_t p;
  assert_string_equal(nego(&o, "permessage-deflate; client_max_window_bits", &p), "permessage-deflate");
  assert_int_equal(p.client_max_window_bits, 0);
  assert_int_equal(p.server_no_context_takeover, 0);
}

static void negotiate_declines_invalid_offers_and_takes_the_next(void **state) {
  (void)state;
  sio_ws_deflate_opts_t o = on_opts();
  static const char *bad[] = {
      "permessage-deflate; foo",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=8", /* zlib cannot deflate with 8 */
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; client_max_window_bits=abc",
      "permessage-deflate;",
      "permessage-deflate x",
      "permessage-deflatex",
      "x-webkit-deflate-frame",
      "",
      ",,,",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_string_equal(nego(&o, bad[i], NULL), "");
    char both[256];
    snprintf(both, sizeof both, "%s, permessage-deflate; server_no_context_takeover", bad[i]);
    assert_string_equal(nego(&o, both, NULL), "permessage-deflate; server_no_context_takeover");
  }
  /* An unterminated quoted-string runs to the end: nothing after it can be an offer. */
  assert_string_equal(nego(&o, "permessage-deflate; client_max_window_bits=\"9, permessage-deflate", NULL), "");
}

static void negotiate_reads_quoted_values_and_keeps_the_clients_bits(void **state) {
  (void)state;
  sio_ws_deflate_opts_t o = on_opts();
  sio__ws_pmd_params_t p;
  assert_string_equal(nego(&o, "permessage-deflate ; server_max_window_bits = \"10\" ;client_max_window_bits=\"12\"", &p),
                      "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12");
  assert_int_equal(p.server_max_window_bits, 10);
  assert_int_equal(p.client_max_window_bits, 12);
}

static void negotiate_applies_the_servers_limits(void **state) {
  (void)state;
  sio_ws_deflate_opts_t o = on_opts();
  o.server_no_context_takeover = 1;
  o.client_no_context_takeover = 1;
  o.server_max_window_bits = 11;
  assert_string_equal(nego(&o, "permessage-deflate",  NULL),
                      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11");
  /* An offer asking for a smaller window than ours is declined (ws's rule). */
  assert_string_equal(nego(&o, "permessage-deflate; server_max_window_bits=10", NULL), "");
  sio_ws_deflate_opts_t c = on_opts();
  c.client_max_window_bits = 10;
  /* Limiting the client needs its client_max_window_bits, and never raises its value. */
  assert_string_equal(nego(&c, "permessage-deflate", NULL), "");
  assert_string_equal(nego(&c, "permessage-deflate; client_max_window_bits", NULL),
                      "permessage-deflate; client_max_window_bits=10");
  assert_string_equal(nego(&c, "permessage-deflate; client_max_window_bits=9", NULL),
                      "permessage-deflate; client_max_window_bits=9");
}

/* ============================== Compression ============================== */

static sio__ws_pmd_t *new_pmd(int snct, int cnct) {
  sio_ws_deflate_opts_t o = on_opts();
  sio__ws_pmd_params_t p = {(uint8_t)snct, (uint8_t)cnct, 0, 0};
  sio__ws_pmd_t *pmd = sio__ws_pmd_new(&o, &p);
  assert_non_null(pmd);
  return pmd;
}

static void make_text(char *buf, size_t n, unsigned seed) {
  static const char *words[] = {"alpha ", "beta ", "gamma ", "delta ", "eta "};
  size_t k = 0;
  while (k < n) {
    seed = seed * 1103515245u + 12345u;
    const char *w = words[(seed >> 16) % 5];
    for (size_t i = 0; w[i] && k < n; i++) buf[k++] = w[i];
  }
}

/* Compresses with one state and inflates with another (its client side plays the
 * peer: both use 15-bit windows here). */
static size_t roundtrip(sio__ws_pmd_t *tx, sio__ws_pmd_t *rx, const char *msg, size_t len) {
  sio__refbuf_t *rb;
  assert_int_equal(sio__ws_pmd_compress(tx, msg, len, 10, &rb), 0);
  assert_int_equal(rb->head, 10);
  sio__buf_t out = SIO__BUF_INIT;
  assert_int_equal(sio__ws_pmd_inflate(rx, sio__refbuf_ptr(rb), rb->len, 1 << 20, &out), 0);
  assert_int_equal(out.len, len);
  if (len) assert_memory_equal(out.base, msg, len);
  size_t n = rb->len;
  sio__buf_free(&out);
  sio__refbuf_unref(rb);
  return n;
}

static void streams_are_created_lazily_and_threshold_does_not_allocate(void **state) {
  (void)state;
  sio__ws_pmd_t *p = new_pmd(0, 0);
  assert_int_equal(sio__ws_pmd_has_stream(p, 0), 0);
  assert_int_equal(sio__ws_pmd_has_stream(p, 1), 0);
  assert_int_equal(sio__ws_pmd_wants(p, 1023), 0);
  assert_int_equal(sio__ws_pmd_wants(p, 1024), 1);
  assert_int_equal(sio__ws_pmd_wants(NULL, 5000), 0);
  assert_int_equal(sio__ws_pmd_has_stream(p, 0), 0);
  sio__ws_pmd_free(p);
  sio__ws_pmd_free(NULL);
}

static void context_takeover_shrinks_a_repeated_message(void **state) {
  (void)state;
  char msg[4000];
  make_text(msg, sizeof msg, 3);
  sio__ws_pmd_t *tx = new_pmd(0, 0), *rx = new_pmd(0, 0);
  size_t a = roundtrip(tx, rx, msg, sizeof msg);
  size_t b = roundtrip(tx, rx, msg, sizeof msg);
  assert_true(b < a / 2); /* the second refers back to the first */
  assert_int_equal(sio__ws_pmd_has_stream(tx, 0), 1); /* kept for the next message */
  assert_int_equal(sio__ws_pmd_has_stream(rx, 1), 1);
  sio__ws_pmd_free(tx);
  sio__ws_pmd_free(rx);
}

static void no_context_takeover_frees_the_streams_after_each_message(void **state) {
  (void)state;
  char msg[4000];
  make_text(msg, sizeof msg, 5);
  sio__ws_pmd_t *tx = new_pmd(1, 1), *rx = new_pmd(1, 1);
  size_t a = roundtrip(tx, rx, msg, sizeof msg);
  assert_int_equal(sio__ws_pmd_has_stream(tx, 0), 0);
  assert_int_equal(sio__ws_pmd_has_stream(rx, 1), 0);
  size_t b = roundtrip(tx, rx, msg, sizeof msg);
  assert_int_equal(a, b);
  sio__ws_pmd_free(tx);
  sio__ws_pmd_free(rx);
}

/* Inflates rb with a fresh no-takeover receiver and checks it gives msg back. */
static void check_inflates_to(const sio__refbuf_t *rb, const char *msg, size_t len) {
  sio__ws_pmd_t *rx = new_pmd(1, 1);
  sio__buf_t out = SIO__BUF_INIT;
  assert_int_equal(sio__ws_pmd_inflate(rx, rb->data + rb->head, rb->len, 1 << 20, &out), 0);
  assert_int_equal(out.len, len);
  assert_memory_equal(out.base, msg, len);
  sio__buf_free(&out);
  sio__ws_pmd_free(rx);
}

static void a_broadcast_is_compressed_once_without_server_context_takeover(void **state) {
  (void)state;
  char msg[4000];
  make_text(msg, sizeof msg, 9);
  sio__refbuf_t *src = sio__refbuf_from(10, msg, sizeof msg);
  assert_non_null(src);
  /* Three receivers with server_no_context_takeover and the same window: one frame. */
  sio__ws_pmd_t *a = new_pmd(1, 0), *b = new_pmd(1, 1), *c = new_pmd(1, 0);
  sio__refbuf_t *fa, *fb, *fc;
  assert_int_equal(sio__ws_pmd_compress_shared(a, src, 0, 10, &fa), 0);
  assert_ptr_equal(src->alt, fa);
  assert_int_equal(sio__ws_pmd_compress_shared(b, src, 0, 10, &fb), 0);
  assert_int_equal(sio__ws_pmd_compress_shared(c, src, 0, 10, &fc), 0);
  assert_ptr_equal(fa, fb);
  assert_ptr_equal(fa, fc);
  assert_int_equal(fa->refs, 4); /* three receivers and src */
  check_inflates_to(fa, msg, sizeof msg);
  /* What a receiver of its own would have got, byte for byte. */
  sio__refbuf_t *own;
  assert_int_equal(sio__ws_pmd_compress(b, msg, sizeof msg, 10, &own), 0);
  assert_int_equal(own->len, fa->len);
  assert_memory_equal(own->data + own->head, fa->data + fa->head, fa->len);
  sio__refbuf_unref(own);
  /* With context takeover every receiver compresses with its own history: not shared,
   * and the kept frame stays for the others. */
  sio__ws_pmd_t *t = new_pmd(0, 0);
  sio__refbuf_t *ft;
  assert_int_equal(sio__ws_pmd_compress_shared(t, src, 0, 10, &ft), 0);
  assert_ptr_not_equal(ft, fa);
  assert_ptr_equal(src->alt, fa);
  check_inflates_to(ft, msg, sizeof msg);
  assert_int_equal(sio__ws_pmd_has_stream(t, 0), 1);
  /* Another window (a client that asked for server_max_window_bits=10) gets its own. */
  sio_ws_deflate_opts_t o = on_opts();
  sio__ws_pmd_params_t p10 = {1, 0, 10, 0};
  sio__ws_pmd_t *w10 = sio__ws_pmd_new(&o, &p10);
  assert_non_null(w10);
  sio__refbuf_t *f10;
  assert_int_equal(sio__ws_pmd_compress_shared(w10, src, 0, 10, &f10), 0);
  assert_ptr_not_equal(f10, fa);
  check_inflates_to(f10, msg, sizeof msg);
  /* Dropping the kept frame leaves the receivers' references alone. */
  sio__refbuf_drop_alt(src);
  assert_null(src->alt);
  assert_int_equal(fa->refs, 3);
  sio__refbuf_t *all[] = {fa, fb, fc, ft, f10};
  for (size_t i = 0; i < 5; i++) sio__refbuf_unref(all[i]);
  /* A kept frame is freed with its source too (ASan would see a leak otherwise). */
  assert_int_equal(sio__ws_pmd_compress_shared(a, src, 1, 10, &fa), 0);
  sio__refbuf_unref(fa);
  sio__refbuf_unref(src);
  sio__ws_pmd_t *pmds[] = {a, b, c, t, w10};
  for (size_t i = 0; i < 5; i++) sio__ws_pmd_free(pmds[i]);
}

static void empty_and_tiny_messages_roundtrip(void **state) {
  (void)state;
  sio__ws_pmd_t *tx = new_pmd(0, 0), *rx = new_pmd(0, 0);
  assert_int_equal(roundtrip(tx, rx, "", 0), 1); /* one 0x00 byte (§7.2.3.6) */
  roundtrip(tx, rx, "a", 1);
  roundtrip(tx, rx, "", 0);
  sio__ws_pmd_free(tx);
  sio__ws_pmd_free(rx);
}

/* Raw deflate with a sync flush, tail removed: what a client sends. */
static size_t client_deflate(const void *in, size_t len, unsigned char *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  assert_int_equal(z.avail_in, 0);
  size_t n = cap - z.avail_out;
  deflateEnd(&z);
  return n - 4;
}

static void inflate_stops_a_bomb_at_the_limit(void **state) {
  (void)state;
  size_t big = 8 << 20;
  char *zeros = calloc(1, big);
  unsigned char *z = malloc(big);
  size_t n = client_deflate(zeros, big, z, big);
  assert_true(n < 16384);
  sio__ws_pmd_t *p = new_pmd(0, 0);
  sio__buf_t out = SIO__BUF_INIT;
  assert_int_equal(sio__ws_pmd_inflate(p, z, n, 100000, &out), SIO_ETOOBIG);
  assert_true(out.cap <= 100001); /* never more than the bound (+1) allocated */
  assert_true(out.len == 100001);
  assert_int_equal(sio__ws_pmd_has_stream(p, 1), 0);
  sio__buf_free(&out);
  /* Exactly the limit passes. */
  n = client_deflate(zeros, 100000, z, big);
  assert_int_equal(sio__ws_pmd_inflate(p, z, n, 100000, &out), 0);
  assert_int_equal(out.len, 100000);
  sio__buf_free(&out);
  n = client_deflate(zeros, 100001, z, big);
  assert_int_equal(sio__ws_pmd_inflate(p, z, n, 100000, &out), SIO_ETOOBIG);
  sio__buf_free(&out);
  sio__ws_pmd_free(p);
  free(zeros);
  free(z);
}

static void inflate_refuses_bad_data(void **state) {
  (void)state;
  static const unsigned char junk[] = {0xff, 0xff, 0xff, 0x12, 0x34};
  sio__ws_pmd_t *p = new_pmd(0, 0);
  sio__buf_t out = SIO__BUF_INIT;
  assert_int_equal(sio__ws_pmd_inflate(p, junk, sizeof junk, 1000, &out), SIO_EPROTO);
  sio__buf_free(&out);
  /* A final block followed by more data. */
  unsigned char fin[64];
  z_stream z;
  memset(&z, 0, sizeof z);
  deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *)"hello";
  z.avail_in = 5;
  z.next_out = fin;
  z.avail_out = sizeof fin;
  deflate(&z, Z_FINISH);
  size_t n = sizeof fin - z.avail_out;
  deflateEnd(&z);
  assert_int_equal(sio__ws_pmd_inflate(p, fin, n, 1000, &out), 0); /* BFINAL alone is fine */
  assert_int_equal(out.len, 5);
  sio__buf_free(&out);
  fin[n] = 0x42;
  assert_int_equal(sio__ws_pmd_inflate(p, fin, n + 1, 1000, &out), SIO_EPROTO);
  sio__buf_free(&out);
  sio__ws_pmd_free(p);
}

/* ============================== Decoder RSV1 ============================== */

typedef struct {
  int opcode;
  size_t len;
  int n;
} last_t;

static void on_msg(void *user, int opcode, char *data, size_t len) {
  (void)data;
  last_t *l = user;
  l->opcode = opcode;
  l->len = len;
  l->n++;
}

static const sio__ws_decode_cb_t CB = {on_msg, NULL, NULL, NULL};
static const uint8_t MASK[4] = {1, 2, 3, 4};

/* Builds a client frame with RSV bits rsv (0..7) into out. */
static size_t frame(uint8_t *out, int opcode, int fin, int rsv, const void *p, size_t len) {
  size_t n = sio__ws_client_frame(out, opcode, fin, p, len, MASK);
  out[0] |= (uint8_t)(rsv << 4);
  return n;
}

static long decode(int rsv1_ok, uint8_t *buf, size_t n, last_t *l) {
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 1000);
  d.rsv1_ok = (uint8_t)rsv1_ok;
  long r = sio__ws_decode(&d, (char *)buf, n, &CB, l, NULL);
  sio__ws_decoder_free(&d);
  return r;
}

static void decoder_rsv1_rules(void **state) {
  (void)state;
  uint8_t b[256];
  last_t l = {0, 0, 0};
  /* Invalid UTF-8 is fine while compressed: the caller validates after inflating. */
  size_t n = frame(b, SIO__WS_OP_TEXT, 1, 4, "\xc3\x28", 2);
  assert_int_equal(decode(0, b, n, &l), -SIO__WS_CLOSE_PROTOCOL);
  assert_int_equal(decode(1, b, n, &l), (long)n);
  assert_int_equal(l.opcode, SIO__WS_OP_TEXT | SIO__WS_MSG_COMPRESSED);
  /* RSV2/RSV3 never. */
  n = frame(b, SIO__WS_OP_TEXT, 1, 2, "a", 1);
  assert_int_equal(decode(1, b, n, &l), -SIO__WS_CLOSE_PROTOCOL);
  /* Control frames never. */
  n = frame(b, SIO__WS_OP_PING, 1, 4, "a", 1);
  assert_int_equal(decode(1, b, n, &l), -SIO__WS_CLOSE_PROTOCOL);
  /* Fragments: RSV1 on the first only, and the flag reaches the assembled message. */
  n = frame(b, SIO__WS_OP_BINARY, 0, 4, "ab", 2);
  n += frame(b + n, SIO__WS_OP_CONT, 1, 0, "cd", 2);
  l.n = 0;
  assert_int_equal(decode(1, b, n, &l), (long)n);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.opcode, SIO__WS_OP_BINARY | SIO__WS_MSG_COMPRESSED);
  assert_int_equal(l.len, 4);
  n = frame(b, SIO__WS_OP_BINARY, 0, 0, "ab", 2);
  n += frame(b + n, SIO__WS_OP_CONT, 1, 4, "cd", 2);
  assert_int_equal(decode(1, b, n, &l), -SIO__WS_CLOSE_PROTOCOL);
  /* Uncompressed messages are untouched by rsv1_ok. */
  n = frame(b, SIO__WS_OP_TEXT, 1, 0, "hi", 2);
  assert_int_equal(decode(1, b, n, &l), (long)n);
  assert_int_equal(l.opcode, SIO__WS_OP_TEXT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(opts_init_gives_nodes_defaults),
      cmocka_unit_test(negotiate_declines_everything_when_disabled),
      cmocka_unit_test(negotiate_accepts_the_browser_offer),
      cmocka_unit_test(negotiate_declines_invalid_offers_and_takes_the_next),
      cmocka_unit_test(negotiate_reads_quoted_values_and_keeps_the_clients_bits),
      cmocka_unit_test(negotiate_applies_the_servers_limits),
      cmocka_unit_test(streams_are_created_lazily_and_threshold_does_not_allocate),
      cmocka_unit_test(context_takeover_shrinks_a_repeated_message),
      cmocka_unit_test(no_context_takeover_frees_the_streams_after_each_message),
      cmocka_unit_test(a_broadcast_is_compressed_once_without_server_context_takeover),
      cmocka_unit_test(empty_and_tiny_messages_roundtrip),
      cmocka_unit_test(inflate_stops_a_bomb_at_the_limit),
      cmocka_unit_test(inflate_refuses_bad_data),
      cmocka_unit_test(decoder_rsv1_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
