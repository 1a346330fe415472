/*
 * Fuzz target: the Socket.IO v5 packet decoder with attachment reassembly
 * (src/sio/parser.c, src/sio/binary.c) and the JSON.stringify writer behind the
 * encoder (src/sio/json.c).
 *
 * Input: a sequence of Engine.IO messages separated by 0x00 bytes. A message starting
 * with 'B' is a binary attachment (the bytes after the 'B'); anything else is a text
 * message. Every message goes through one decoder, as on one connection.
 *
 * Invariant checked for every packet that decodes: it re-encodes without error, the
 * encoding decodes again (with its attachments) into the same header, and encoding
 * that second packet yields the same bytes (the encoder's output is a fixed point).
 * Everything is freed, so LeakSanitizer sees any leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/refbuf.h"
#include "sio/errors.h"
#include "sio/parser.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

/* Decodes enc (plus p's attachments) with a fresh decoder; returns the packet. */
static sio__packet_t *redecode(const sio__packet_t *p, const sio__buf_t *enc) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *q = NULL;
  int r = sio__decode_text(&d, enc->base, enc->len, &q);
  if (p->natt > 0) {
    CHECK(r == SIO_EAGAIN);
    for (uint32_t i = 0; i < p->natt; i++) {
      r = sio__decode_binary(&d, sio__refbuf_ref(p->att[i]), &q);
      CHECK(r == (i + 1 < p->natt ? SIO_EAGAIN : 0));
    }
  }
  CHECK(r == 0 && q != NULL);
  sio__decoder_free(&d);
  return q;
}

static void check_roundtrip(const sio__packet_t *p) {
  CHECK(p->att_received == p->natt);
  sio__buf_t enc = SIO__BUF_INIT, enc2 = SIO__BUF_INIT;
  CHECK(sio__encode(p, &enc) == 0);
  sio__packet_t *q = redecode(p, &enc);
  CHECK(q->type == p->type && q->id == p->id && q->natt == p->natt);
  CHECK(strcmp(q->nsp, p->nsp) == 0);
  CHECK((q->data == NULL) == (p->data == NULL));
  CHECK(sio__encode(q, &enc2) == 0);
  CHECK(enc.len == enc2.len && memcmp(enc.base, enc2.base, enc.len) == 0);
  sio__packet_free(q);
  sio__buf_free(&enc);
  sio__buf_free(&enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  /* Small enough that the fuzzer reaches the limits, large enough for real packets. */
  d.max_attachments = 8;
  d.max_nsp = 64;

  const char *s = (const char *)data;
  size_t pos = 0;
  while (pos <= size) {
    const char *nul = memchr(s + pos, 0, size - pos);
    size_t end = nul != NULL ? (size_t)(nul - s) : size;
    const char *msg = s + pos;
    size_t len = end - pos;
    sio__packet_t *p = NULL;
    int r;
    if (len > 0 && msg[0] == 'B') {
      sio__refbuf_t *att = sio__refbuf_from(0, msg + 1, len - 1);
      CHECK(att != NULL);
      r = sio__decode_binary(&d, att, &p);
    } else {
      r = sio__decode_text(&d, msg, len, &p);
    }
    CHECK((r == 0) == (p != NULL));
    if (r != SIO_EAGAIN) CHECK(d.pending == NULL);
    if (r == 0) {
      check_roundtrip(p);
      sio__packet_free(p);
    }
    pos = end + 1;
  }
  sio__decoder_free(&d);
  return 0;
}
