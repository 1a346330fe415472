/*
 * Unit tests for the RFC 6455 §5 frame codec (src/ws/frame.c).
 *
 * Every decoding test goes through expect(), which feeds the input whole and then in
 * 1, 2, 3, 7 and 13-byte pieces through a caller loop that keeps the unconsumed tail
 * (the way ws/conn.c will), and requires the same callbacks, result and leftover for
 * every split. Callbacks are recorded as text lines: "msg OP LEN:DATA", "ping LEN:DATA",
 * "pong LEN:DATA", "close CODE LEN:REASON".
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
#include "sio/common.h"
#include "ws/frame.h"

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d}; /* the RFC 6455 §5.7 key */

/* ============================ Recording callbacks ============================ */

typedef struct {
  sio__buf_t log;
  char *first_msg; /* data pointer of the first on_message, for the zero-copy test */
} rec_t;

static void rec_line(rec_t *r, const char *head, const char *data, size_t len) {
  assert_non_null(data); /* even empty payloads come with a usable pointer */
  assert_int_equal(sio__buf_append_str(&r->log, head), 0);
  assert_int_equal(sio__buf_append(&r->log, data, len), 0);
  assert_int_equal(sio__buf_append_byte(&r->log, '\n'), 0);
}

static void rec_message(void *user, int opcode, char *data, size_t len) {
  rec_t *r = user;
  char head[64];
  snprintf(head, sizeof head, "msg %d %zu:", opcode, len);
  if (r->first_msg == NULL) r->first_msg = data;
  rec_line(r, head, data, len);
}

static void rec_ping(void *user, const char *data, size_t len) {
  char head[64];
  snprintf(head, sizeof head, "ping %zu:", len);
  rec_line(user, head, data, len);
}

static void rec_pong(void *user, const char *data, size_t len) {
  char head[64];
  snprintf(head, sizeof head, "pong %zu:", len);
  rec_line(user, head, data, len);
}

static void rec_close(void *user, int code, const char *reason, size_t len) {
  char head[64];
  snprintf(head, sizeof head, "close %d %zu:", code, len);
  rec_line(user, head, reason, len);
}

static const sio__ws_decode_cb_t CB = {rec_message, rec_ping, rec_pong, rec_close};

/* ============================ The feeding loop ============================ */

typedef struct {
  long rc;      /* 0 if the whole input was consumed or ignored, else the negative code */
  size_t tail;  /* bytes still unconsumed at the end */
  int closed;   /* d.closed at the end */
  sio__buf_t log;
} outcome_t;

/* Feeds in[0..len) step bytes at a time, like a read loop: append what arrived after
 * the kept tail, decode, drop what was consumed. Checks *need on the way. */
static outcome_t feed(const uint8_t *in, size_t len, size_t max, size_t step) {
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, max);
  rec_t r = {SIO__BUF_INIT, NULL};
  outcome_t o = {0, 0, 0, SIO__BUF_INIT};
  char *buf = malloc(len ? len : 1);
  size_t have = 0, fed = 0;
  assert_non_null(buf);
  while (fed < len) {
    size_t n = len - fed < step ? len - fed : step;
    memcpy(buf + have, in + fed, n);
    have += n;
    fed += n;
    size_t need = 12345;
    long rc = sio__ws_decode(&d, buf, have, &CB, &r, &need);
    if (rc < 0) {
      assert_int_equal(need, 0);
      o.rc = rc;
      break;
    }
    assert_true((size_t)rc <= have);
    memmove(buf, buf + rc, have - (size_t)rc);
    have -= (size_t)rc;
    if (d.closed && have > 0) {
      /* Decoding stopped after the close frame; what follows is ignored when offered. */
      assert_int_equal(sio__ws_decode(&d, buf, have, &CB, &r, &need), have);
      have = 0;
    }
    /* need, when known, is the size of the incomplete frame now at buf[0]. */
    if (have == 0) assert_int_equal(need, 0);
    if (need != 0) assert_true(need > have);
  }
  o.tail = have;
  o.closed = d.closed;
  o.log = r.log;
  sio__ws_decoder_free(&d);
  assert_null(d.frag);
  free(buf);
  return o;
}

/* Runs every split and checks each gives the expected result, leftover and log. */
static void expect_full(const uint8_t *in, size_t len, size_t max, long want_rc, size_t want_tail,
                        const char *want_log, size_t want_log_len) {
  const size_t steps[] = {len ? len : 1, 1, 2, 3, 7, 13};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    outcome_t o = feed(in, len, max, steps[i]);
    if (o.rc != want_rc) fail_msg("step %zu: rc %ld, want %ld", steps[i], o.rc, want_rc);
    if (want_rc == 0) assert_int_equal(o.tail, want_tail);
    if (o.log.len != want_log_len || (want_log_len && memcmp(o.log.base, want_log, want_log_len) != 0))
      fail_msg("step %zu: log\n%.*s\nwant\n%.*s", steps[i], (int)o.log.len, o.log.base ? o.log.base : "",
               (int)want_log_len, want_log);
    sio__buf_free(&o.log);
  }
}

#define EXPECT(in, len, max, rc, log) expect_full(in, len, max, rc, 0, log, sizeof(log) - 1)
#define NOLIMIT ((size_t)-1)

/* A growing client-side byte stream. */
typedef struct {
  uint8_t *b;
  size_t n, cap;
} wire_t;

static void wire_raw(wire_t *w, const void *bytes, size_t n) {
  if (w->n + n > w->cap) {
    w->cap = (w->n + n) * 2;
    w->b = realloc(w->b, w->cap);
    assert_non_null(w->b);
  }
  memcpy(w->b + w->n, bytes, n);
  w->n += n;
}

static void wire_frame(wire_t *w, int opcode, int fin, const void *payload, size_t len) {
  uint8_t *tmp = malloc(len + SIO__WS_CLIENT_HEADER_MAX);
  assert_non_null(tmp);
  size_t n = sio__ws_client_frame(tmp, opcode, fin, payload, len, MASK);
  wire_raw(w, tmp, n);
  free(tmp);
}

#define WIRE_STR(w, op, fin, lit) wire_frame(w, op, fin, lit, sizeof(lit) - 1)

/* ============================ RFC 6455 §5.7 examples ============================ */

static void frame_decodes_rfc_masked_hello(void **state) {
  (void)state;
  static const uint8_t in[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  EXPECT(in, sizeof in, NOLIMIT, 0, "msg 1 5:Hello\n");
}

static void frame_client_builder_matches_rfc_masked_hello(void **state) {
  (void)state;
  static const uint8_t want[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  uint8_t out[5 + 14];
  assert_int_equal(sio__ws_client_frame(out, SIO__WS_OP_TEXT, 1, "Hello", 5, MASK), sizeof want);
  assert_memory_equal(out, want, sizeof want);
  /* The fragmented form: "Hel" without FIN (opcode TEXT), "lo" as a FIN continuation. */
  static const uint8_t hel[] = {0x01, 0x83, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d};
  static const uint8_t lo[] = {0x80, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x5b, 0x95};
  assert_int_equal(sio__ws_client_frame(out, SIO__WS_OP_TEXT, 0, "Hel", 3, MASK), sizeof hel);
  assert_memory_equal(out, hel, sizeof hel);
  assert_int_equal(sio__ws_client_frame(out, SIO__WS_OP_CONT, 1, "lo", 2, MASK), sizeof lo);
  assert_memory_equal(out, lo, sizeof lo);
}

static void frame_decodes_rfc_fragmented_hello(void **state) {
  (void)state;
  static const uint8_t in[] = {0x01, 0x83, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d,
                               0x80, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x5b, 0x95};
  EXPECT(in, sizeof in, NOLIMIT, 0, "msg 1 5:Hello\n");
}

static void frame_decodes_rfc_ping_and_masked_pong(void **state) {
  (void)state;
  /* The RFC's ping is unmasked (a server's); the client's copy carries the mask. */
  static const uint8_t in[] = {0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                               0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
  EXPECT(in, sizeof in, NOLIMIT, 0, "ping 5:Hello\npong 5:Hello\n");
}

static void expect_binary(size_t n, const uint8_t *want_header, size_t hlen) {
  uint8_t *payload = malloc(n);
  assert_non_null(payload);
  for (size_t i = 0; i < n; i++) payload[i] = (uint8_t)(i * 7 + 3);
  wire_t w = {0};
  wire_frame(&w, SIO__WS_OP_BINARY, 1, payload, n);
  assert_int_equal(w.n, hlen + 4 + n);
  assert_memory_equal(w.b, want_header, hlen);
  assert_memory_equal(w.b + hlen, MASK, 4);
  sio__buf_t log = SIO__BUF_INIT;
  assert_int_equal(sio__buf_appendf(&log, "msg 2 %zu:", n), 0);
  assert_int_equal(sio__buf_append(&log, payload, n), 0);
  assert_int_equal(sio__buf_append_byte(&log, '\n'), 0);
  expect_full(w.b, w.n, NOLIMIT, 0, 0, log.base, log.len);
  expect_full(w.b, w.n, n, 0, 0, log.base, log.len); /* exactly at the limit */
  expect_full(w.b, w.n, n - 1, -1009, 0, "", 0);
  sio__buf_free(&log);
  free(w.b);
  free(payload);
}

static void frame_decodes_256_byte_binary_with_16bit_length(void **state) {
  (void)state;
  static const uint8_t hdr[] = {0x82, 0xfe, 0x01, 0x00}; /* RFC: 0x82 0x7E 0x0100, plus MASK */
  expect_binary(256, hdr, sizeof hdr);
}

static void frame_decodes_64k_binary_with_64bit_length(void **state) {
  (void)state;
  static const uint8_t hdr[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
  expect_binary(65536, hdr, sizeof hdr);
}

static void frame_accepts_non_minimal_length_encodings(void **state) {
  (void)state;
  /* §5.2 asks senders for the shortest form; we are liberal in what we accept. */
  static const uint8_t in16[] = {0x81, 0xfe, 0x00, 0x02, 0, 0, 0, 0, 'h', 'i'};
  EXPECT(in16, sizeof in16, NOLIMIT, 0, "msg 1 2:hi\n");
  static const uint8_t in64[] = {0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 'h', 'i'};
  EXPECT(in64, sizeof in64, NOLIMIT, 0, "msg 1 2:hi\n");
}

/* ============================ Valid streams ============================ */

static void frame_delivers_ping_between_fragments(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "first ");
  WIRE_STR(&w, SIO__WS_OP_PING, 1, "p1");
  WIRE_STR(&w, SIO__WS_OP_CONT, 0, "second ");
  WIRE_STR(&w, SIO__WS_OP_PONG, 1, "p2");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "third");
  WIRE_STR(&w, SIO__WS_OP_BINARY, 1, "\x00\xff");
  EXPECT(w.b, w.n, NOLIMIT, 0, "ping 2:p1\npong 2:p2\nmsg 1 18:first second third\nmsg 2 2:\x00\xff\n");
  free(w.b);
}

static void frame_accepts_utf8_split_across_fragments(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "\xe2");       /* euro sign, 1 + 2 bytes */
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "\x82\xac");
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "<\xf0");      /* U+1F600 over three fragments */
  WIRE_STR(&w, SIO__WS_OP_CONT, 0, "\x9f\x98");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "\x80>");
  EXPECT(w.b, w.n, NOLIMIT, 0, "msg 1 3:\xe2\x82\xac\nmsg 1 6:<\xf0\x9f\x98\x80>\n");
  free(w.b);
}

static void frame_accepts_binary_that_is_not_utf8(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_BINARY, 1, "\xff\xc0\xed\xa0\x80");
  WIRE_STR(&w, SIO__WS_OP_BINARY, 0, "\xe2");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "\xff");
  EXPECT(w.b, w.n, NOLIMIT, 0, "msg 2 5:\xff\xc0\xed\xa0\x80\nmsg 2 2:\xe2\xff\n");
  free(w.b);
}

static void frame_accepts_zero_length_frames_and_messages(void **state) {
  (void)state;
  wire_t w = {0};
  wire_frame(&w, SIO__WS_OP_TEXT, 1, NULL, 0);
  wire_frame(&w, SIO__WS_OP_BINARY, 1, NULL, 0);
  wire_frame(&w, SIO__WS_OP_PING, 1, NULL, 0);
  wire_frame(&w, SIO__WS_OP_PONG, 1, NULL, 0);
  wire_frame(&w, SIO__WS_OP_TEXT, 0, NULL, 0); /* a message of empty fragments */
  wire_frame(&w, SIO__WS_OP_CONT, 0, NULL, 0);
  wire_frame(&w, SIO__WS_OP_CONT, 1, NULL, 0);
  assert_int_equal(w.b[0], 0x81);
  assert_int_equal(w.b[1], 0x80);
  /* A zero limit still admits empty messages. */
  EXPECT(w.b, w.n, 0, 0, "msg 1 0:\nmsg 2 0:\nping 0:\npong 0:\nmsg 1 0:\n");
  free(w.b);
  /* An empty last fragment. */
  w = (wire_t){0};
  wire_frame(&w, SIO__WS_OP_BINARY, 0, "ab", 2);
  wire_frame(&w, SIO__WS_OP_CONT, 1, NULL, 0);
  EXPECT(w.b, w.n, 2, 0, "msg 2 2:ab\n");
  free(w.b);
}

static void frame_decodes_many_frames_in_one_buffer(void **state) {
  (void)state;
  wire_t w = {0};
  for (int i = 0; i < 50; i++) {
    char msg[16];
    int n = snprintf(msg, sizeof msg, "42[\"m\",%d]", i);
    wire_frame(&w, SIO__WS_OP_TEXT, 1, msg, (size_t)n);
  }
  sio__buf_t want = SIO__BUF_INIT;
  for (int i = 0; i < 50; i++) {
    char msg[16];
    int n = snprintf(msg, sizeof msg, "42[\"m\",%d]", i);
    sio__buf_appendf(&want, "msg 1 %d:%s\n", n, msg);
  }
  expect_full(w.b, w.n, 100, 0, 0, want.base, want.len);
  sio__buf_free(&want);
  free(w.b);
}

static void frame_keeps_incomplete_tail_unconsumed(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "done");
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "pending");
  /* Cut the second frame short: 3 of its 13 bytes are missing. */
  expect_full(w.b, w.n - 3, NOLIMIT, 0, 10, "msg 1 4:done\n", 13);
  free(w.b);
}

/* ============================ Zero copy, need, memory ============================ */

static void frame_delivers_unfragmented_message_in_place(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "in place");
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 100);
  rec_t r = {SIO__BUF_INIT, NULL};
  assert_int_equal(sio__ws_decode(&d, (char *)w.b, w.n, &CB, &r, NULL), w.n);
  /* Delivered from the caller's buffer, right after the 6-byte header, unmasked there. */
  assert_ptr_equal(r.first_msg, (char *)w.b + 6);
  assert_memory_equal(w.b + 6, "in place", 8);
  assert_null(d.frag);
  sio__buf_free(&r.log);
  sio__ws_decoder_free(&d);
  free(w.b);
}

static void frame_allocates_only_while_fragmented_message_in_progress(void **state) {
  (void)state;
  wire_t a = {0}, b = {0};
  WIRE_STR(&a, SIO__WS_OP_BINARY, 0, "part1");
  WIRE_STR(&b, SIO__WS_OP_CONT, 1, "part2");
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 100);
  rec_t r = {SIO__BUF_INIT, NULL};
  assert_null(d.frag);
  assert_int_equal(sio__ws_decode(&d, (char *)a.b, a.n, &CB, &r, NULL), a.n);
  assert_non_null(d.frag);
  assert_int_equal(d.frag_opcode, SIO__WS_OP_BINARY);
  assert_int_equal(sio__ws_decode(&d, (char *)b.b, b.n, &CB, &r, NULL), b.n);
  assert_null(d.frag);
  assert_int_equal(d.frag_opcode, 0);
  assert_int_equal(r.log.len, strlen("msg 2 10:part1part2\n"));
  assert_memory_equal(r.log.base, "msg 2 10:part1part2\n", r.log.len);
  sio__buf_free(&r.log);
  sio__ws_decoder_free(&d);
  free(a.b);
  free(b.b);
}

static void frame_reports_need_as_soon_as_length_is_known(void **state) {
  (void)state;
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, NOLIMIT);
  rec_t r = {SIO__BUF_INIT, NULL};
  size_t need;
  uint8_t *p = malloc(256);
  for (int i = 0; i < 256; i++) p[i] = (uint8_t)i;
  wire_t w = {0};
  wire_frame(&w, SIO__WS_OP_BINARY, 1, p, 256); /* 4 + 4 + 256 = 264 bytes */
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "x");        /* 7 bytes */
  char *buf = (char *)w.b;
  assert_int_equal(sio__ws_decode(&d, buf, 0, &CB, &r, &need), 0);
  assert_int_equal(need, 0);
  assert_int_equal(sio__ws_decode(&d, buf, 1, &CB, &r, &need), 0);
  assert_int_equal(need, 0);
  assert_int_equal(sio__ws_decode(&d, buf, 3, &CB, &r, &need), 0); /* 16-bit length half there */
  assert_int_equal(need, 0);
  assert_int_equal(sio__ws_decode(&d, buf, 4, &CB, &r, &need), 0);
  assert_int_equal(need, 264);
  assert_int_equal(sio__ws_decode(&d, buf, 263, &CB, &r, &need), 0);
  assert_int_equal(need, 264);
  assert_int_equal(r.log.len, 0);
  /* The first frame completes; need now describes the second (7 bytes from 264). */
  assert_int_equal(sio__ws_decode(&d, buf, 266, &CB, &r, &need), 264);
  assert_int_equal(need, 7);
  assert_int_equal(sio__ws_decode(&d, buf + 264, 7, &CB, &r, &need), 7);
  assert_int_equal(need, 0);
  /* A NULL need is fine. */
  assert_int_equal(sio__ws_decode(&d, buf + 264, 3, &CB, &r, NULL), 0);
  /* The 64-bit form: unknown until all 10 header bytes are there, then 14 + payload. */
  static const uint8_t big[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
  char tmp[10];
  memcpy(tmp, big, 10);
  assert_int_equal(sio__ws_decode(&d, tmp, 9, &CB, &r, &need), 0);
  assert_int_equal(need, 0);
  assert_int_equal(sio__ws_decode(&d, tmp, 10, &CB, &r, &need), 0);
  assert_int_equal(need, 14 + 65536);
  sio__buf_free(&r.log);
  sio__ws_decoder_free(&d);
  free(w.b);
  free(p);
}

static void frame_works_with_null_callbacks(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "a");
  WIRE_STR(&w, SIO__WS_OP_BINARY, 0, "b");
  WIRE_STR(&w, SIO__WS_OP_PING, 1, "c");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "d");
  WIRE_STR(&w, SIO__WS_OP_PONG, 1, "e");
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x03\xe8");
  static const sio__ws_decode_cb_t none = {NULL, NULL, NULL, NULL};
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 10);
  assert_int_equal(sio__ws_decode(&d, (char *)w.b, w.n, &none, NULL, NULL), w.n);
  assert_true(d.closed);
  sio__ws_decoder_free(&d);
  free(w.b);
}

static int fail_alloc;
static void *failing_malloc(void *ctx, size_t n) { return fail_alloc ? NULL : malloc(n); }
static void *failing_realloc(void *ctx, void *p, size_t n) { return fail_alloc ? NULL : realloc(p, n); }
static void plain_free(void *ctx, void *p) { free(p); }
static void count_message(void *user, int opcode, char *data, size_t len) { (*(int *)user)++; }

static void frame_reports_1011_when_fragment_buffer_cannot_grow(void **state) {
  (void)state;
  const sio_allocator_t a = {failing_malloc, failing_realloc, plain_free, NULL};
  sio_set_allocator(&a);
  fail_alloc = 1;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "whole messages need no memory");
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "but fragments do");
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 100);
  /* The recorder allocates, so count messages instead. */
  static const sio__ws_decode_cb_t counting = {count_message, NULL, NULL, NULL};
  int messages = 0;
  long rc = sio__ws_decode(&d, (char *)w.b, w.n, &counting, &messages, NULL);
  fail_alloc = 0;
  sio_set_allocator(NULL);
  assert_int_equal(rc, -1011);
  assert_int_equal(messages, 1);
  assert_null(d.frag);
  sio__ws_decoder_free(&d);
  free(w.b);
}

/* ============================ Protocol errors (1002) ============================ */

static void frame_rejects_unmasked_client_frame(void **state) {
  (void)state;
  /* The RFC §5.7 unmasked "Hello": fine from a server, a protocol error from a client. */
  static const uint8_t in[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
  EXPECT(in, sizeof in, NOLIMIT, -1002, "");
  static const uint8_t ping[] = {0x89, 0x00};
  EXPECT(ping, sizeof ping, NOLIMIT, -1002, "");
}

static void frame_rejects_rsv_bits(void **state) {
  (void)state;
  for (uint8_t bit = 0x10; bit <= 0x40; bit <<= 1) {
    wire_t w = {0};
    WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "ok");
    WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "rsv");
    w.b[8] |= bit; /* second frame's first byte */
    EXPECT(w.b, w.n, NOLIMIT, -1002, "msg 1 2:ok\n");
    /* Fails on the first header byte pair, before the rest arrives. */
    EXPECT(w.b, 10, NOLIMIT, -1002, "msg 1 2:ok\n");
    free(w.b);
  }
}

static void frame_rejects_reserved_opcodes(void **state) {
  (void)state;
  static const int ops[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    wire_t w = {0};
    wire_frame(&w, ops[i], 1, "x", 1);
    EXPECT(w.b, w.n, NOLIMIT, -1002, "");
    EXPECT(w.b, 2, NOLIMIT, -1002, "");
    free(w.b);
  }
}

static void frame_rejects_fragmented_control_frames(void **state) {
  (void)state;
  static const int ops[] = {SIO__WS_OP_CLOSE, SIO__WS_OP_PING, SIO__WS_OP_PONG};
  for (size_t i = 0; i < 3; i++) {
    wire_t w = {0};
    wire_frame(&w, ops[i], 0, "\x03\xe8", 2);
    EXPECT(w.b, w.n, NOLIMIT, -1002, "");
    free(w.b);
  }
}

static void frame_rejects_control_frames_over_125_bytes(void **state) {
  (void)state;
  char p[126];
  memset(p, 'p', sizeof p);
  static const int ops[] = {SIO__WS_OP_CLOSE, SIO__WS_OP_PING, SIO__WS_OP_PONG};
  for (size_t i = 0; i < 3; i++) {
    wire_t w = {0};
    wire_frame(&w, ops[i], 1, p, 126); /* uses the 16-bit length form */
    EXPECT(w.b, w.n, NOLIMIT, -1002, "");
    EXPECT(w.b, 2, NOLIMIT, -1002, "");
    free(w.b);
  }
  /* 125 is the largest allowed. */
  wire_t w = {0};
  wire_frame(&w, SIO__WS_OP_PING, 1, p, 125);
  sio__buf_t want = SIO__BUF_INIT;
  sio__buf_append_str(&want, "ping 125:");
  sio__buf_append(&want, p, 125);
  sio__buf_append_byte(&want, '\n');
  expect_full(w.b, w.n, 0, 0, 0, want.base, want.len);
  sio__buf_free(&want);
  free(w.b);
  /* The 64-bit length form is refused for control frames too. */
  static const uint8_t in[] = {0x89, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 'x'};
  EXPECT(in, sizeof in, NOLIMIT, -1002, "");
}

static void frame_rejects_continuation_without_message(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "orphan");
  EXPECT(w.b, w.n, NOLIMIT, -1002, "");
  free(w.b);
  w = (wire_t){0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "complete");
  WIRE_STR(&w, SIO__WS_OP_CONT, 0, "orphan");
  EXPECT(w.b, w.n, NOLIMIT, -1002, "msg 1 8:complete\n");
  free(w.b);
}

static void frame_rejects_new_message_during_fragmented_message(void **state) {
  (void)state;
  static const int first[] = {SIO__WS_OP_TEXT, SIO__WS_OP_TEXT, SIO__WS_OP_BINARY, SIO__WS_OP_BINARY};
  static const int second[] = {SIO__WS_OP_TEXT, SIO__WS_OP_BINARY, SIO__WS_OP_TEXT, SIO__WS_OP_BINARY};
  for (size_t i = 0; i < 4; i++) {
    for (int fin = 0; fin <= 1; fin++) {
      wire_t w = {0};
      WIRE_STR(&w, first[i], 0, "start");
      WIRE_STR(&w, SIO__WS_OP_PING, 1, "");
      WIRE_STR(&w, second[i], fin, "intruder");
      EXPECT(w.b, w.n, NOLIMIT, -1002, "ping 0:\n");
      free(w.b);
    }
  }
}

static void frame_rejects_64bit_length_with_top_bit_set(void **state) {
  (void)state;
  static const uint8_t in[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 'x'};
  EXPECT(in, sizeof in, NOLIMIT, -1002, "");
  EXPECT(in, 10, NOLIMIT, -1002, "");
  static const uint8_t all[] = {0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT(all, sizeof all, NOLIMIT, -1002, "");
}

/* ============================ Invalid UTF-8 (1007) ============================ */

static void frame_rejects_invalid_utf8_text(void **state) {
  (void)state;
  static const char *bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xff", "\xe2\x82"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    wire_t w = {0};
    WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "fine");
    wire_frame(&w, SIO__WS_OP_TEXT, 1, bad[i], strlen(bad[i]));
    EXPECT(w.b, w.n, NOLIMIT, -1007, "msg 1 4:fine\n");
    free(w.b);
  }
}

static void frame_rejects_invalid_utf8_in_fragment_before_fin(void **state) {
  (void)state;
  /* No FIN ever arrives: the bad first fragment alone must fail. */
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "abc\xc0\xaf");
  EXPECT(w.b, w.n, NOLIMIT, -1007, "");
  free(w.b);
  /* The same for a bad middle fragment (the sequence started in the previous one). */
  w = (wire_t){0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "abc\xed");
  WIRE_STR(&w, SIO__WS_OP_CONT, 0, "\xa0\x80");
  EXPECT(w.b, w.n, NOLIMIT, -1007, "");
  free(w.b);
}

static void frame_rejects_utf8_sequence_truncated_at_fin(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "a\xe2");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "\x82");
  EXPECT(w.b, w.n, NOLIMIT, -1007, "");
  free(w.b);
  w = (wire_t){0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "\xf0\x9f");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "");
  EXPECT(w.b, w.n, NOLIMIT, -1007, "");
  free(w.b);
}

/* ============================ Size limit (1009) ============================ */

static void frame_rejects_oversized_message_at_header(void **state) {
  (void)state;
  /* Only headers arrive: the declared length alone must be enough to fail. */
  static const uint8_t h7[] = {0x81, 0x80 | 101};
  EXPECT(h7, sizeof h7, 100, -1009, "");
  static const uint8_t h16[] = {0x82, 0xfe, 0x03, 0xe8}; /* 1000 bytes */
  EXPECT(h16, sizeof h16, 999, -1009, "");
  static const uint8_t h64[] = {0x82, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0}; /* 2^40 bytes */
  EXPECT(h64, sizeof h64, 1 << 20, -1009, "");
  static const uint8_t hmax[] = {0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT(hmax, sizeof hmax, 1 << 20, -1009, "");
  /* "No limit" is capped at UINT32_MAX (the decoder keeps 32 bits): a 4 GiB - 1 frame is
   * accepted as a (never completed) header, one byte more is refused. */
  static const uint8_t h32max[] = {0x82, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  expect_full(h32max, sizeof h32max, NOLIMIT, 0, sizeof h32max, "", 0);
  static const uint8_t h4g[] = {0x82, 0xff, 0, 0, 0, 0x01, 0, 0, 0, 0};
  EXPECT(h4g, sizeof h4g, NOLIMIT, -1009, "");
  EXPECT(hmax, sizeof hmax, NOLIMIT, -1009, "");
  /* A zero limit still allows empty messages (tested elsewhere) but not one byte. */
  static const uint8_t one[] = {0x81, 0x81};
  EXPECT(one, sizeof one, 0, -1009, "");
}

static void frame_limit_counts_across_fragments(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "hello");
  WIRE_STR(&w, SIO__WS_OP_PING, 1, "still fine");
  WIRE_STR(&w, SIO__WS_OP_CONT, 0, "world");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "!");
  EXPECT(w.b, w.n, 10, -1009, "ping 10:still fine\n");
  /* At exactly the limit it passes. */
  EXPECT(w.b, w.n, 11, 0, "ping 10:still fine\nmsg 1 11:helloworld!\n");
  /* The limit is per message: the next message starts from zero. */
  WIRE_STR(&w, SIO__WS_OP_BINARY, 0, "0123456789");
  WIRE_STR(&w, SIO__WS_OP_CONT, 1, "a");
  EXPECT(w.b, w.n, 11, 0, "ping 10:still fine\nmsg 1 11:helloworld!\nmsg 2 11:0123456789a\n");
  free(w.b);
}

static void frame_control_frames_ignore_message_limit(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_PING, 1, "a ping longer than the limit");
  EXPECT(w.b, w.n, 4, 0, "ping 28:a ping longer than the limit\n");
  free(w.b);
}

/* ============================ Close frames ============================ */

static void frame_close_without_payload_reports_1005(void **state) {
  (void)state;
  wire_t w = {0};
  wire_frame(&w, SIO__WS_OP_CLOSE, 1, NULL, 0);
  EXPECT(w.b, w.n, NOLIMIT, 0, "close 1005 0:\n");
  outcome_t o = feed(w.b, w.n, NOLIMIT, 1);
  assert_true(o.closed);
  sio__buf_free(&o.log);
  free(w.b);
}

static void frame_close_with_code_and_reason(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x03\xe8");
  EXPECT(w.b, w.n, NOLIMIT, 0, "close 1000 0:\n");
  free(w.b);
  w = (wire_t){0};
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x0f\xa0going \xe2\x82\xac");
  EXPECT(w.b, w.n, NOLIMIT, 0, "close 4000 9:going \xe2\x82\xac\n");
  free(w.b);
}

static void frame_accepts_close_codes_a_peer_may_send(void **state) {
  (void)state;
  static const int ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
                           1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char p[2] = {(char)(ok[i] >> 8), (char)ok[i]}, want[32];
    wire_t w = {0};
    wire_frame(&w, SIO__WS_OP_CLOSE, 1, p, 2);
    int n = snprintf(want, sizeof want, "close %d 0:\n", ok[i]);
    expect_full(w.b, w.n, NOLIMIT, 0, 0, want, (size_t)n);
    free(w.b);
  }
}

static void frame_rejects_close_codes_a_peer_may_not_send(void **state) {
  (void)state;
  static const int bad[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char p[2] = {(char)(bad[i] >> 8), (char)bad[i]};
    wire_t w = {0};
    wire_frame(&w, SIO__WS_OP_CLOSE, 1, p, 2);
    EXPECT(w.b, w.n, NOLIMIT, -1002, "");
    free(w.b);
  }
}

static void frame_rejects_one_byte_close_payload(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x03");
  EXPECT(w.b, w.n, NOLIMIT, -1002, "");
  free(w.b);
}

static void frame_rejects_close_reason_with_invalid_utf8(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80");
  EXPECT(w.b, w.n, NOLIMIT, -1007, "");
  free(w.b);
  w = (wire_t){0};
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x03\xe8\xe2\x82");
  EXPECT(w.b, w.n, NOLIMIT, -1007, "");
  free(w.b);
}

static void frame_stops_after_close_and_ignores_later_input(void **state) {
  (void)state;
  wire_t w = {0};
  WIRE_STR(&w, SIO__WS_OP_TEXT, 0, "unfinished");
  WIRE_STR(&w, SIO__WS_OP_CLOSE, 1, "\x03\xe9");
  size_t close_end = w.n;
  WIRE_STR(&w, SIO__WS_OP_TEXT, 1, "after");
  wire_raw(&w, "\xff\xff garbage", 10);
  /* Through the loop: everything is consumed or ignored, only the close is reported. */
  EXPECT(w.b, w.n, NOLIMIT, 0, "close 1001 0:\n");
  /* Directly: the return value stops right after the close frame. */
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 100);
  rec_t r = {SIO__BUF_INIT, NULL};
  size_t need = 99;
  assert_int_equal(sio__ws_decode(&d, (char *)w.b, w.n, &CB, &r, &need), close_end);
  assert_true(d.closed);
  assert_int_equal(need, 0);
  assert_null(d.frag); /* the unfinished message was dropped */
  size_t rest = w.n - close_end;
  assert_int_equal(sio__ws_decode(&d, (char *)w.b + close_end, rest, &CB, &r, &need), rest);
  assert_int_equal(need, 0);
  assert_int_equal(r.log.len, strlen("close 1001 0:\n"));
  sio__buf_free(&r.log);
  sio__ws_decoder_free(&d);
  free(w.b);
}

/* ============================ Encoding ============================ */

static void frame_header_encodes_length_boundaries(void **state) {
  (void)state;
  uint8_t out[10];
  /* RFC §5.7: unmasked "Hello" starts 0x81 0x05. */
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_TEXT, 5), 2);
  assert_memory_equal(out, "\x81\x05", 2);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_TEXT, 0), 2);
  assert_memory_equal(out, "\x81\x00", 2);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_BINARY, 125), 2);
  assert_memory_equal(out, "\x82\x7d", 2);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_BINARY, 126), 4);
  assert_memory_equal(out, "\x82\x7e\x00\x7e", 4);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_BINARY, 256), 4);
  assert_memory_equal(out, "\x82\x7e\x01\x00", 4); /* RFC §5.7 256-byte example */
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_BINARY, 65535), 4);
  assert_memory_equal(out, "\x82\x7e\xff\xff", 4);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_BINARY, 65536), 10);
  assert_memory_equal(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10); /* RFC 64 KiB example */
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_TEXT, (size_t)0x0102030405ULL), 10);
  assert_memory_equal(out, "\x81\x7f\x00\x00\x00\x01\x02\x03\x04\x05", 10);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_PING, 3), 2);
  assert_memory_equal(out, "\x89\x03", 2);
  assert_int_equal(sio__ws_frame_header(out, SIO__WS_OP_PONG, 0), 2);
  assert_memory_equal(out, "\x8a\x00", 2);
}

static void frame_client_builder_encodes_length_boundaries(void **state) {
  (void)state;
  static uint8_t payload[65536], out[65536 + 14];
  static const struct {
    size_t len, hlen;
    const char *hdr;
  } cases[] = {
      {0, 2, "\x82\x80"},
      {125, 2, "\x82\xfd"},
      {126, 4, "\x82\xfe\x00\x7e"},
      {65535, 4, "\x82\xfe\xff\xff"},
      {65536, 10, "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00"},
  };
  memset(payload, 0xaa, sizeof payload);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = sio__ws_client_frame(out, SIO__WS_OP_BINARY, 1, payload, cases[i].len, MASK);
    assert_int_equal(n, cases[i].hlen + 4 + cases[i].len);
    assert_memory_equal(out, cases[i].hdr, cases[i].hlen);
    assert_memory_equal(out + cases[i].hlen, MASK, 4);
    for (size_t k = 0; k < cases[i].len; k++) assert_int_equal(out[cases[i].hlen + 4 + k], 0xaa ^ MASK[k & 3]);
  }
  /* FIN clear keeps only the opcode in the first byte. */
  sio__ws_client_frame(out, SIO__WS_OP_CONT, 0, NULL, 0, MASK);
  assert_int_equal(out[0], 0x00);
}

static void frame_builds_close_frames(void **state) {
  (void)state;
  uint8_t out[127];
  assert_int_equal(sio__ws_close_frame(out, 0, "ignored"), 2);
  assert_memory_equal(out, "\x88\x00", 2);
  assert_int_equal(sio__ws_close_frame(out, 1000, NULL), 4);
  assert_memory_equal(out, "\x88\x02\x03\xe8", 4);
  assert_int_equal(sio__ws_close_frame(out, 1000, ""), 4);
  assert_memory_equal(out, "\x88\x02\x03\xe8", 4);
  assert_int_equal(sio__ws_close_frame(out, 1009, "too big"), 11);
  assert_memory_equal(out, "\x88\x09\x03\xf1too big", 11);
  assert_int_equal(sio__ws_close_frame(out, 4999, "x"), 5);
  assert_memory_equal(out, "\x88\x03\x13\x87x", 5);
}

static void frame_close_builder_truncates_reason_to_fit(void **state) {
  (void)state;
  uint8_t out[127 + 16];
  char reason[300];
  memset(out, 0xee, sizeof out);
  memset(reason, 'r', sizeof reason - 1);
  reason[sizeof reason - 1] = '\0';
  /* 123 reason bytes + 2 code bytes = the 125-byte control frame maximum. */
  assert_int_equal(sio__ws_close_frame(out, 1001, reason), 127);
  assert_memory_equal(out, "\x88\x7d\x03\xe9", 4);
  assert_int_equal(out[126], 'r');
  assert_int_equal(out[127], 0xee); /* nothing written past 127 bytes */
  /* Exactly 123 bytes is kept whole. */
  reason[123] = '\0';
  assert_int_equal(sio__ws_close_frame(out, 1001, reason), 127);
  /* A 2-byte character straddling the cut (bytes 122-123) is dropped whole. */
  memset(reason, 'r', 122);
  memcpy(reason + 122, "\xc3\xa9tail", 7);
  assert_int_equal(sio__ws_close_frame(out, 1001, reason), 126);
  assert_int_equal(out[1], 124);
  assert_int_equal(out[125], 'r');
  /* A 4-byte character at bytes 121-124 as well. */
  memset(reason, 'r', 121);
  memcpy(reason + 121, "\xf0\x9f\x98\x80", 5);
  assert_int_equal(sio__ws_close_frame(out, 1001, reason), 125);
  assert_int_equal(out[1], 123);
  /* Ending exactly at the limit, it is kept. */
  memset(reason, 'r', 120);
  memcpy(reason + 120, "\xe2\x82\xac", 4);
  assert_int_equal(sio__ws_close_frame(out, 1001, reason), 127);
  assert_memory_equal(out + 124, "\xe2\x82\xac", 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frame_decodes_rfc_masked_hello),
      cmocka_unit_test(frame_client_builder_matches_rfc_masked_hello),
      cmocka_unit_test(frame_decodes_rfc_fragmented_hello),
      cmocka_unit_test(frame_decodes_rfc_ping_and_masked_pong),
      cmocka_unit_test(frame_decodes_256_byte_binary_with_16bit_length),
      cmocka_unit_test(frame_decodes_64k_binary_with_64bit_length),
      cmocka_unit_test(frame_accepts_non_minimal_length_encodings),
      cmocka_unit_test(frame_delivers_ping_between_fragments),
      cmocka_unit_test(frame_accepts_utf8_split_across_fragments),
      cmocka_unit_test(frame_accepts_binary_that_is_not_utf8),
      cmocka_unit_test(frame_accepts_zero_length_frames_and_messages),
      cmocka_unit_test(frame_decodes_many_frames_in_one_buffer),
      cmocka_unit_test(frame_keeps_incomplete_tail_unconsumed),
      cmocka_unit_test(frame_delivers_unfragmented_message_in_place),
      cmocka_unit_test(frame_allocates_only_while_fragmented_message_in_progress),
      cmocka_unit_test(frame_reports_need_as_soon_as_length_is_known),
      cmocka_unit_test(frame_works_with_null_callbacks),
      cmocka_unit_test(frame_reports_1011_when_fragment_buffer_cannot_grow),
      cmocka_unit_test(frame_rejects_unmasked_client_frame),
      cmocka_unit_test(frame_rejects_rsv_bits),
      cmocka_unit_test(frame_rejects_reserved_opcodes),
      cmocka_unit_test(frame_rejects_fragmented_control_frames),
      cmocka_unit_test(frame_rejects_control_frames_over_125_bytes),
      cmocka_unit_test(frame_rejects_continuation_without_message),
      cmocka_unit_test(frame_rejects_new_message_during_fragmented_message),
      cmocka_unit_test(frame_rejects_64bit_length_with_top_bit_set),
      cmocka_unit_test(frame_rejects_invalid_utf8_text),
      cmocka_unit_test(frame_rejects_invalid_utf8_in_fragment_before_fin),
      cmocka_unit_test(frame_rejects_utf8_sequence_truncated_at_fin),
      cmocka_unit_test(frame_rejects_oversized_message_at_header),
      cmocka_unit_test(frame_limit_counts_across_fragments),
      cmocka_unit_test(frame_control_frames_ignore_message_limit),
      cmocka_unit_test(frame_close_without_payload_reports_1005),
      cmocka_unit_test(frame_close_with_code_and_reason),
      cmocka_unit_test(frame_accepts_close_codes_a_peer_may_send),
      cmocka_unit_test(frame_rejects_close_codes_a_peer_may_not_send),
      cmocka_unit_test(frame_rejects_one_byte_close_payload),
      cmocka_unit_test(frame_rejects_close_reason_with_invalid_utf8),
      cmocka_unit_test(frame_stops_after_close_and_ignores_later_input),
      cmocka_unit_test(frame_header_encodes_length_boundaries),
      cmocka_unit_test(frame_client_builder_encodes_length_boundaries),
      cmocka_unit_test(frame_builds_close_frames),
      cmocka_unit_test(frame_close_builder_truncates_reason_to_fit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
