/*
 * Binary attachments of Socket.IO v5 packets (socket.io-protocol v5 §"Packet encoding",
 * BINARY_EVENT / BINARY_ACK; socket.io-parser lib/binary.ts). A binary packet's JSON
 * carries placeholders {"_placeholder":true,"num":N}; the N-th binary Engine.IO
 * message after the header is the attachment that belongs there.
 *
 * Unlike socket.io-parser we do not splice the buffers into the tree (jansson has no
 * binary type): the placeholders stay, and the packet holds the attachments in arrival
 * order, so att[N] is what placeholder N stands for. This file checks the placeholders
 * and collects the attachments. Layer: sio, sans-IO.
 */
#include <assert.h>

#include "common/alloc.h"
#include "sio/errors.h"
#include "sio/parser.h"

json_t *sio__placeholder_new(uint32_t num) {
  json_t *o = json_object();
  /* Key order as socket.io-parser builds it: { _placeholder: true, num }. */
  if (o == NULL || json_object_set_new(o, "_placeholder", json_true()) != 0 ||
      json_object_set_new(o, "num", json_integer((json_int_t)num)) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

int sio__placeholder_num(const json_t *v, uint32_t *num) {
  if (!json_is_object(v) || !json_is_true(json_object_get(v, "_placeholder"))) return 0;
  json_t *n = json_object_get(v, "num");
  if (!json_is_integer(n)) return 0;
  json_int_t i = json_integer_value(n);
  if (i < 0 || i > (json_int_t)UINT32_MAX) return 0;
  *num = (uint32_t)i;
  return 1;
}

/*
 * reconstructPacket's walk: an object with `_placeholder === true` is a placeholder and
 * is not descended into; its num must index a received buffer ("illegal attachments"
 * otherwise). We are stricter on one point: num must be a JSON integer, where JS would
 * also take 0.0. Depth is bounded by jansson's parser (2048).
 */
int sio__placeholder_check(const json_t *data, uint32_t natt) {
  if (json_is_array(data)) {
    size_t n = json_array_size(data);
    for (size_t i = 0; i < n; i++) {
      int r = sio__placeholder_check(json_array_get(data, i), natt);
      if (r) return r;
    }
    return 0;
  }
  if (!json_is_object(data)) return 0;
  if (json_is_true(json_object_get(data, "_placeholder"))) {
    uint32_t num;
    return sio__placeholder_num(data, &num) && num < natt ? 0 : SIO_EPROTO;
  }
  /* jansson's iterator API wants a non-const object; the walk only reads. */
  json_t *obj = (json_t *)data;
  for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
    int r = sio__placeholder_check(json_object_iter_value(it), natt);
    if (r) return r;
  }
  return 0;
}

int sio__decode_binary(sio__decoder_t *d, sio__refbuf_t *att, sio__packet_t **out) {
  *out = NULL;
  if (att == NULL) return SIO_EINVAL;
  sio__packet_t *p = d->pending;
  if (p == NULL) {
    /* socket.io-parser: "got binary data when not reconstructing a packet". */
    sio__refbuf_unref(att);
    return SIO_EPROTO;
  }
  /* sio__decode_text only parks packets with 1 <= natt, and hands them over as soon
   * as att_received reaches natt, so there is always a free slot here. */
  SIO_ASSERT(p->att_received < p->natt);
  p->att[p->att_received++] = att;
  if (p->att_received < p->natt) return SIO_EAGAIN;
  d->pending = NULL;
  *out = p;
  return 0;
}
