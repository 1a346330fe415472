/*
 * The wire format of @socket.io/redis-adapter 8.x, classic mode (lib/index.ts), with
 * notepack.io 3.0 as its msgpack parser (lib/encode.js, lib/decode.js): the broadcast /
 * request shapes, built on the msgpack <-> jansson value codec of sio/msgpack.c.
 *
 * Layer: adapter (above sio). Sans-IO.
 */
#include "adapter/redis_codec.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"

/* ---------------------------------------------------------------------------------
 * Broadcast packets and options
 * ------------------------------------------------------------------------------ */

/* {type: 2, data: [event, ...args], nsp}: a socket.io-parser packet object as the
 * broadcast operator builds it (type and data first, nsp set by the adapter after). */
static int pack_packet(sio__mp_writer_t *w, const sio__redis_event_t *ev) {
  size_t n = ev->arr ? json_array_size(ev->arr) : 0;
  size_t nargs = n > ev->base ? n - ev->base : 0;
  int r = msgpack_pack_map(&w->pk, 3) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(w, "type");
  if (r == 0) r = msgpack_pack_uint64(&w->pk, 2) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(w, "data");
  if (r == 0) r = msgpack_pack_array(&w->pk, 1 + nargs) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(w, ev->event);
  for (size_t i = 0; i < nargs && r == 0; i++) r = sio__mp_pack_value(w, json_array_get(ev->arr, ev->base + i));
  if (r == 0) r = sio__mp_pack_cstr(w, "nsp");
  if (r == 0) r = sio__mp_pack_cstr(w, ev->nsp ? ev->nsp : "/");
  return r;
}

/* Writes names without duplicates (the adapter spreads Sets: each name once, first
 * occurrence kept). The quadratic scan is fine for the handful of rooms a selection
 * names. */
static int pack_names(sio__mp_writer_t *w, const char *const *names, size_t n) {
  size_t uniq = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < i && strcmp(names[j], names[i]) != 0) j++;
    uniq += j == i;
  }
  int r = msgpack_pack_array(&w->pk, uniq) ? SIO_ENOMEM : 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    size_t j = 0;
    while (j < i && strcmp(names[j], names[i]) != 0) j++;
    if (j == i) r = sio__mp_pack_cstr(w, names[i]);
  }
  return r;
}

/* {rooms: [...], except: [...], flags: {volatile?, timeout?}} */
static int pack_opts(sio__mp_writer_t *w, const sio__redis_sel_t *sel) {
  int r = msgpack_pack_map(&w->pk, 3) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(w, "rooms");
  if (r == 0) r = pack_names(w, sel->rooms, sel->nrooms);
  if (r == 0) r = sio__mp_pack_cstr(w, "except");
  if (r == 0) r = pack_names(w, sel->except, sel->nexcept);
  if (r == 0) r = sio__mp_pack_cstr(w, "flags");
  if (r == 0) r = msgpack_pack_map(&w->pk, (sel->volatile_ ? 1 : 0) + (sel->timeout_ms >= 0 ? 1 : 0)) ? SIO_ENOMEM : 0;
  if (r == 0 && sel->volatile_) {
    r = sio__mp_pack_cstr(w, "volatile");
    if (r == 0) r = msgpack_pack_true(&w->pk) ? SIO_ENOMEM : 0;
  }
  if (r == 0 && sel->timeout_ms >= 0) {
    r = sio__mp_pack_cstr(w, "timeout");
    if (r == 0) r = sio__mp_pack_number(w, (double)sel->timeout_ms);
  }
  return r;
}

int sio__redis_encode_broadcast(sio__buf_t *out, const char *uid, const sio__redis_event_t *ev,
                                const sio__redis_sel_t *sel) {
  size_t mark = out->len;
  sio__mp_writer_t w;
  sio__mp_writer_init(&w, out, ev->att, ev->natt);
  int r = msgpack_pack_array(&w.pk, 3) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(&w, uid);
  if (r == 0) r = pack_packet(&w, ev);
  if (r == 0) r = pack_opts(&w, sel);
  if (r) out->len = mark;
  return r;
}

int sio__redis_encode_bcast_request(sio__buf_t *out, const char *uid, const char *request_id,
                                    const sio__redis_event_t *ev, const sio__redis_sel_t *sel) {
  size_t mark = out->len;
  sio__mp_writer_t w;
  sio__mp_writer_init(&w, out, ev->att, ev->natt);
  /* Key order of the adapter's object literal: uid, requestId, type, packet, opts. */
  int r = msgpack_pack_map(&w.pk, 5) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(&w, "uid");
  if (r == 0) r = sio__mp_pack_cstr(&w, uid);
  if (r == 0) r = sio__mp_pack_cstr(&w, "requestId");
  if (r == 0) r = sio__mp_pack_cstr(&w, request_id);
  if (r == 0) r = sio__mp_pack_cstr(&w, "type");
  if (r == 0) r = msgpack_pack_uint64(&w.pk, SIO__RREQ_BROADCAST) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(&w, "packet");
  if (r == 0) r = pack_packet(&w, ev);
  if (r == 0) r = sio__mp_pack_cstr(&w, "opts");
  if (r == 0) r = pack_opts(&w, sel);
  if (r) out->len = mark;
  return r;
}

int sio__redis_encode_bcast_ack(sio__buf_t *out, const char *request_id, json_t *arr, size_t base,
                                sio__refbuf_t *const *att, uint32_t natt) {
  size_t mark = out->len;
  sio__mp_writer_t w;
  sio__mp_writer_init(&w, out, att, natt);
  json_t *packet = arr && base < json_array_size(arr) ? json_array_get(arr, base) : NULL;
  int r = msgpack_pack_map(&w.pk, packet ? 3 : 2) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(&w, "type");
  if (r == 0) r = msgpack_pack_uint64(&w.pk, SIO__RREQ_BROADCAST_ACK) ? SIO_ENOMEM : 0;
  if (r == 0) r = sio__mp_pack_cstr(&w, "requestId");
  if (r == 0) r = sio__mp_pack_cstr(&w, request_id);
  if (r == 0 && packet) {
    r = sio__mp_pack_cstr(&w, "packet");
    if (r == 0) r = sio__mp_pack_value(&w, packet);
  }
  if (r) out->len = mark;
  return r;
}

/* ---------------------------------------------------------------------------------
 * Reading broadcasts and requests
 * ------------------------------------------------------------------------------ */

/*
 * Reads an array of room names into a new array of borrowed strings. Rooms are strings;
 * a Set<Room> may also hold numbers, which socket.io turns into strings when it joins,
 * so integers are rewritten in place as their decimal strings. Absent means empty.
 */
static int read_names(json_t *arr, const char ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (arr == NULL || json_is_null(arr)) return 0;
  if (!json_is_array(arr)) return SIO_EPROTO;
  size_t len = json_array_size(arr);
  if (len == 0) return 0;
  const char **v = sio__malloc(len * sizeof *v);
  if (v == NULL) return SIO_ENOMEM;
  for (size_t i = 0; i < len; i++) {
    json_t *e = json_array_get(arr, i);
    if (json_is_integer(e)) {
      char num[24];
      snprintf(num, sizeof num, "%lld", (long long)json_integer_value(e));
      if (json_array_set_new(arr, i, json_string(num)) != 0) {
        sio__free(v);
        return SIO_ENOMEM;
      }
      e = json_array_get(arr, i);
    }
    if (!json_is_string(e) || memchr(json_string_value(e), 0, json_string_length(e)) != NULL) {
      sio__free(v);
      return SIO_EPROTO;
    }
    v[i] = json_string_value(e);
  }
  *out = v;
  *n = len;
  return 0;
}

int sio__redis_read_bcast(json_t *packet, json_t *opts, sio__redis_bcast_t *b) {
  json_t *type = json_object_get(packet, "type");
  json_t *data = json_object_get(packet, "data");
  json_t *nsp = json_object_get(packet, "nsp");
  if (!json_is_object(packet) || !json_is_integer(type) ||
      (json_integer_value(type) != 2 && json_integer_value(type) != 5) || !json_is_array(data) ||
      !json_is_string(json_array_get(data, 0)) || (nsp != NULL && !json_is_string(nsp)) ||
      (opts != NULL && !json_is_object(opts))) {
    return SIO_EPROTO;
  }
  json_t *flags = json_object_get(opts, "flags");
  json_t *timeout = json_object_get(flags, "timeout");
  int r = read_names(json_object_get(opts, "rooms"), &b->rooms, &b->nrooms);
  if (r == 0) r = read_names(json_object_get(opts, "except"), &b->except, &b->nexcept);
  if (r) {
    sio__free((void *)b->rooms);
    b->rooms = NULL;
    b->nrooms = 0;
    return r;
  }
  b->type = (int)json_integer_value(type);
  b->data = data;
  b->nsp = nsp ? json_string_value(nsp) : "/";
  b->volatile_ = json_is_true(json_object_get(flags, "volatile"));
  b->timeout_ms = json_is_number(timeout) && json_number_value(timeout) >= 0 ? (int64_t)json_number_value(timeout) : -1;
  return 0;
}

void sio__redis_bcast_free(sio__redis_bcast_t *b) {
  sio__free((void *)b->rooms);
  sio__free((void *)b->except);
  sio__mp_value_free(&b->v);
  memset(b, 0, sizeof *b);
}

int sio__redis_decode_broadcast(const char *buf, size_t len, sio__redis_bcast_t *out) {
  sio__redis_bcast_t b;
  memset(&b, 0, sizeof b);
  int r = sio__mp_decode(buf, len, &b.v);
  if (r) return r;
  json_t *root = b.v.root;
  json_t *uid = json_array_get(root, 0);
  if (!json_is_array(root) || json_array_size(root) != 3 || !json_is_string(uid)) r = SIO_EPROTO;
  else r = sio__redis_read_bcast(json_array_get(root, 1), json_array_get(root, 2), &b);
  if (r) {
    sio__redis_bcast_free(&b);
    return r;
  }
  b.uid = (sio_str_t){json_string_value(uid), json_string_length(uid)};
  *out = b;
  return 0;
}

int sio__redis_decode_message(const char *buf, size_t len, sio__mp_value_t *out) {
  if (len > 0 && buf[0] == '{') {
    /* The adapter's own test: "if the buffer starts with a '{' character", JSON. */
    json_t *v = json_loadb(buf, len, JSON_ALLOW_NUL, NULL);
    if (v == NULL) return SIO_EJSON;
    if (!json_is_object(v)) {
      json_decref(v);
      return SIO_EPROTO;
    }
    *out = (sio__mp_value_t){v, NULL, 0, 0};
    return 0;
  }
  sio__mp_value_t v;
  int r = sio__mp_decode(buf, len, &v);
  if (r) return r;
  if (!json_is_object(v.root)) {
    sio__mp_value_free(&v);
    return SIO_EPROTO;
  }
  *out = v;
  return 0;
}
