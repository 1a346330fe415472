/*
 * Outgoing Socket.IO packets as Engine.IO messages: "4" + the packet text, in one
 * refbuf with headroom for the transport's framing (docs/design.md, "Writing"). With the
 * msgpack parser each entry point hands over to mpparser.c instead.
 *
 * Event and ack arguments that are text (received from a client, copied from received
 * args, or added as strings, numbers, booleans) are copied as they are, so echoing or
 * relaying an event costs a memcpy per argument and one allocation of the exact size.
 * Only trees (binary placeholders, composed values, add_json) go through the
 * JSON.stringify writer (json.c). A JS peer's JSON.parse reads the same values either
 * way; received text keeps its spelling (white space, escapes, "1.0"), the writer
 * spells values as V8 would.
 * Layer: sio, no I/O.
 */
#include <assert.h>
#include <string.h>

#include "common/alloc.h"
#include "sio/json.h"
#include "sio/sio.h"
#include "ws/utf8.h"

int sio__encode_packet(int parser, sio__packet_t *p, sio__refbuf_t **text) {
  if (parser == SIO_PARSER_MSGPACK) return sio__mp_encode_packet(p, text);
  sio__buf_t b = SIO__BUF_INIT;
  /* Engine.IO message type first, so the buffer is the wire packet as is. */
  int r = sio__buf_append_byte(&b, '4');
  if (r == 0) r = sio__encode(p, &b);
  if (r == 0) {
    *text = sio__refbuf_from(SIO__EIO_HEADROOM, b.base, b.len);
    if (*text == NULL) r = SIO_ENOMEM;
  }
  sio__buf_free(&b);
  return r;
}

/* 1 if every argument of a is text: then the packet's size is known before writing. */
static int all_text(const sio_args_t *a) {
  if (a == NULL) return 1;
  if (a->arr != NULL) return sio_args_count(a) == 0;
  for (size_t i = 0; i < a->n; i++)
    if (a->items[i].text == NULL) return 0;
  return 1;
}

/* The packet in one allocation: every argument is text. hl bounds the header (its
 * digits are not counted first), so the refbuf may have a few bytes to spare. tail
 * (JSON text, may be NULL) is one more last element: a recovery offset. */
static int encode_text(const sio__packet_t *p, size_t hl, const char *event, const sio_args_t *args,
                       const sio_str_t *tail, sio__refbuf_t **text) {
  size_t n = sio_args_count(args), elen = event ? strlen(event) : 0;
  size_t m = n + (event != NULL) + (tail != NULL); /* array elements */
  size_t size = 1 + hl + 2 + (m > 0 ? m - 1 : 0) + (event ? sio__json_str_size(event, elen) : 0);
  for (size_t i = 0; i < n; i++) size += args->items[i].len;
  if (tail) size += tail->len;
  sio__refbuf_t *rb = sio__refbuf_new(SIO__EIO_HEADROOM, size);
  if (rb == NULL) return SIO_ENOMEM;
  char *w = sio__refbuf_ptr(rb);
  *w++ = '4';
  sio__encode_head(p, w, &hl);
  w += hl;
  *w++ = '[';
  if (event) w = sio__json_str_put(w, event, elen);
  for (size_t i = 0; i < n; i++) {
    if (i > 0 || event) *w++ = ',';
    memcpy(w, args->items[i].text, args->items[i].len);
    w += args->items[i].len;
  }
  if (tail) {
    if (n > 0 || event) *w++ = ',';
    memcpy(w, tail->ptr, tail->len);
    w += tail->len;
  }
  *w++ = ']';
  SIO_ASSERT((size_t)(w - sio__refbuf_ptr(rb)) <= size);
  rb->len = (size_t)(w - sio__refbuf_ptr(rb));
  *text = rb;
  return 0;
}

/* Appends argument i of a as JSON: its text, or its tree written out. */
static int write_arg(sio__buf_t *b, const sio_args_t *a, size_t i) {
  if (a->arr != NULL) return sio__json_write(b, json_array_get(a->arr, a->base + i));
  const sio__jitem_t *it = &a->items[i];
  if (it->text != NULL) return sio__buf_append(b, it->text, it->len);
  return sio__json_write(b, it->v);
}

/* The general case: built in a buffer, then copied behind the headroom. */
static int encode_any(const sio__packet_t *p, size_t hl, const char *event, const sio_args_t *args,
                      const sio_str_t *tail, sio__refbuf_t **text) {
  sio__buf_t b = SIO__BUF_INIT;
  size_t n = sio_args_count(args), elen = event ? strlen(event) : 0;
  size_t esize = event ? sio__json_str_size(event, elen) : 0;
  int r = sio__buf_reserve(&b, 1 + hl + 2 + esize);
  if (r == 0) {
    b.base[b.len++] = '4';
    sio__encode_head(p, b.base + b.len, &hl);
    b.len += hl;
    b.base[b.len++] = '[';
    if (event) b.len = (size_t)(sio__json_str_put(b.base + b.len, event, elen) - b.base);
  }
  for (size_t i = 0; r == 0 && i < n; i++) {
    if (i > 0 || event) r = sio__buf_append_byte(&b, ',');
    if (r == 0) r = write_arg(&b, args, i);
  }
  if (r == 0 && tail && (n > 0 || event)) r = sio__buf_append_byte(&b, ',');
  if (r == 0 && tail) r = sio__buf_append(&b, tail->ptr, tail->len);
  if (r == 0) r = sio__buf_append_byte(&b, ']');
  if (r == 0 && (*text = sio__refbuf_from(SIO__EIO_HEADROOM, b.base, b.len)) == NULL) r = SIO_ENOMEM;
  sio__buf_free(&b);
  return r;
}

/* [event?, ...args] as a packet of type for nsp with ack id (-1: none). */
static int encode_args(int parser, uint8_t type, const char *nsp, const char *event, const sio_args_t *args,
                       int64_t id, const sio_str_t *tail, sio__refbuf_t **text) {
  if (parser == SIO_PARSER_MSGPACK) return sio__mp_encode_args(type, nsp, event, args, id, tail, text);
  sio__packet_t p = {type, (char *)nsp, id, NULL, NULL, args ? args->natt : 0, 0, NULL};
  size_t hl;
  int r = sio__encode_head(&p, NULL, &hl);
  if (r != 0) return r;
  /* The name goes out in a WebSocket text frame: it must be UTF-8 like every string. */
  if (type == SIO__PKT_EVENT && (event == NULL || !sio__utf8_valid(event, strlen(event)))) return SIO_EINVAL;
  return all_text(args) ? encode_text(&p, hl, event, args, tail, text) : encode_any(&p, hl, event, args, tail, text);
}

int sio__encode_event(int parser, const char *nsp, const char *event, const sio_args_t *args, int64_t id,
                      sio__refbuf_t **text) {
  return encode_args(parser, SIO__PKT_EVENT, nsp, event, args, id, NULL, text);
}

int sio__encode_event_tail(int parser, const char *nsp, const char *event, const sio_args_t *args, sio_str_t tail,
                           sio__refbuf_t **text) {
  return encode_args(parser, SIO__PKT_EVENT, nsp, event, args, -1, &tail, text);
}

int sio__encode_ack(int parser, const char *nsp, const sio_args_t *args, int64_t id, sio__refbuf_t **text) {
  return encode_args(parser, SIO__PKT_ACK, nsp, NULL, args, id, NULL, text);
}
