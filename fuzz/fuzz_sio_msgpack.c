/*
 * Fuzz target: the msgpack packet decoder (src/sio/mpparser.c over src/sio/msgpack.c),
 * i.e. one binary Engine.IO message from a client configured with
 * socket.io-msgpack-parser, as a server started with SIO_PARSER_MSGPACK reads it.
 *
 * Input: the raw message.
 *
 * Invariants:
 *  - decoding answers 0 or one of the documented errors, never anything else;
 *  - a decoded packet is well formed: a namespace starting with '/', a type 0..6 that is
 *    BINARY_* exactly when it has binary parts (all of them present), an event name for
 *    an EVENT, an ack id for an ACK;
 *  - a decoded packet re-encodes (event and ack arguments through the args view the
 *    handlers get, control packets as they are), the encoding decodes into the same
 *    header with as many binary parts, and encoding that again gives the same bytes
 *    (a fixed point);
 *  - sio__looks_msgpack agrees with the decoder (the mismatch warning's test).
 * Everything is freed, so LeakSanitizer sees any leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/refbuf.h"
#include "sio/errors.h"
#include "sio/parser.h"
#include "sio/sio.h"

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

/* The packet written back as the server would write it. */
static sio__refbuf_t *encode(const sio__packet_t *p) {
  sio__refbuf_t *rb = NULL;
  int r;
  if (p->type == SIO__PKT_EVENT || p->type == SIO__PKT_BINARY_EVENT) {
    sio_args_t a;
    sio__args_of_packet(&a, p, 1);
    r = sio__encode_event(SIO_PARSER_MSGPACK, p->nsp, sio__event_name(p), &a, p->id, &rb);
  } else if (p->type == SIO__PKT_ACK || p->type == SIO__PKT_BINARY_ACK) {
    sio_args_t a;
    sio__args_of_packet(&a, p, 0);
    r = sio__encode_ack(SIO_PARSER_MSGPACK, p->nsp, &a, p->id, &rb);
  } else {
    r = sio__encode_packet(SIO_PARSER_MSGPACK, (sio__packet_t *)p, &rb);
  }
  CHECK(r == 0 && rb != NULL);
  return rb;
}

static sio__packet_t *decode(const char *s, size_t len, int *r) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  *r = sio__decode_msgpack(&d, s, len, &p);
  sio__decoder_free(&d);
  CHECK((*r == 0) == (p != NULL));
  return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int r;
  sio__packet_t *p = decode((const char *)data, size, &r);
  CHECK(r == 0 || r == SIO_EPROTO || r == SIO_EUTF8 || r == SIO_ELIMIT);
  CHECK(sio__looks_msgpack((const char *)data, size) == (r == 0));
  if (p == NULL) return 0;

  CHECK(p->nsp != NULL && p->nsp[0] == '/');
  CHECK(p->type <= SIO__PKT_BINARY_ACK);
  int binary = p->type == SIO__PKT_BINARY_EVENT || p->type == SIO__PKT_BINARY_ACK;
  CHECK(binary == (p->natt > 0) && p->att_received == p->natt);
  for (uint32_t i = 0; i < p->natt; i++) CHECK(p->att[i] != NULL);
  if (p->type == SIO__PKT_EVENT || p->type == SIO__PKT_BINARY_EVENT) CHECK(sio__event_name(p) != NULL);
  if (p->type == SIO__PKT_ACK || p->type == SIO__PKT_BINARY_ACK) CHECK(p->id >= 0);

  sio__refbuf_t *a = encode(p);
  sio__packet_t *q = decode(sio__refbuf_ptr(a), a->len, &r);
  CHECK(r == 0);
  CHECK(q->type == p->type && q->id == p->id && q->natt == p->natt && strcmp(q->nsp, p->nsp) == 0);
  sio__refbuf_t *b = encode(q);
  CHECK(a->len == b->len && memcmp(sio__refbuf_ptr(a), sio__refbuf_ptr(b), a->len) == 0);
  sio__refbuf_unref(a);
  sio__refbuf_unref(b);
  sio__packet_free(q);
  sio__packet_free(p);
  return 0;
}
