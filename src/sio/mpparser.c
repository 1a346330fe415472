/*
 * The msgpack packet codec: socket.io-msgpack-parser 3.0 (index.js) over notepack.io.
 * Every packet is one msgpack map {type, data, nsp, id?} in one binary Engine.IO
 * message; binary arguments are msgpack bin values inside data, never attachments.
 *
 * A decoded packet takes the shape the text parser gives a binary packet: data is a
 * jansson tree whose bin values are placeholders into p->att, so everything above the
 * codec (args views, acks, handlers) works unchanged. Encoding writes the same map from
 * event arguments (text items parsed on demand, trees as they are, placeholders as bin)
 * into one refbuf with Engine.IO headroom, shared by every receiver of a broadcast.
 *
 * Decoding is stricter than socket.io-msgpack-parser's checkPacket in the ways the text
 * parser is (see parser.h): an ack id within 2^53, an ACK with an id, an event name that
 * is a string without NUL and not reserved, a namespace starting with '/'.
 * Layer: sio, sans-IO.
 */
#include <string.h>

#include "common/alloc.h"
#include "engine/engine.h"
#include "sio/errors.h"
#include "sio/msgpack.h"
#include "sio/sio.h"
#include "ws/utf8.h"

/* ---------------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------------ */

/* The integer value of v if it is one in [0, max]; -1 otherwise. A JS peer's integral
 * number arrives as a msgpack integer (notepack), so reals are not accepted. */
static int64_t small_int(const json_t *v, int64_t max) {
  if (!json_is_integer(v)) return -1;
  json_int_t i = json_integer_value(v);
  return i >= 0 && i <= max ? (int64_t)i : -1;
}

int sio__decode_msgpack(const sio__decoder_t *d, const char *buf, size_t len, sio__packet_t **out) {
  *out = NULL;
  sio__mp_value_t v;
  int r = sio__mp_decode(buf, len, &v);
  if (r != 0) return r;
  json_t *root = v.root;
  json_t *jtype = json_object_get(root, "type"), *jnsp = json_object_get(root, "nsp");
  json_t *data = json_object_get(root, "data"), *jid = json_object_get(root, "id");
  int64_t type = small_int(jtype, SIO__PKT_CONNECT_ERROR);
  int64_t id = jid != NULL ? small_int(jid, SIO__ACK_ID_MAX) : -1;
  /* socket.io-msgpack-parser's checkPacket: type 0..4, nsp a string, id an integer.
   * Binary values only make sense as event or ack arguments. */
  if (!json_is_object(root) || type < 0 || !json_is_string(jnsp) || (jid != NULL && id < 0) ||
      (type == SIO__PKT_ACK && id < 0) || (v.natt > 0 && type != SIO__PKT_EVENT && type != SIO__PKT_ACK) ||
      !sio__payload_valid((uint8_t)type, data)) {
    r = SIO_EPROTO;
  }
  size_t nlen = r == 0 ? json_string_length(jnsp) : 0;
  const char *nsp = r == 0 ? json_string_value(jnsp) : NULL;
  if (r == 0 && nlen > d->max_nsp) r = SIO_ELIMIT;
  if (r == 0 && (nlen == 0 || nsp[0] != '/' || memchr(nsp, '\0', nlen) != NULL)) r = SIO_EPROTO;
  sio__packet_t *p = NULL;
  if (r == 0 && ((p = sio__calloc(1, sizeof *p)) == NULL || (p->nsp = sio__strndup(nsp, nlen)) == NULL))
    r = SIO_ENOMEM;
  if (r != 0) {
    if (p) sio__free(p);
    sio__mp_value_free(&v);
    return r;
  }
  /* With binary parts the packet is what the text parser makes of a BINARY_* packet
   * once its attachments are in: the layers above read args as a tree view then. */
  p->type = (uint8_t)(v.natt == 0 ? type : type == SIO__PKT_EVENT ? SIO__PKT_BINARY_EVENT : SIO__PKT_BINARY_ACK);
  p->id = id;
  p->data = json_incref(data);
  p->att = v.att;
  p->natt = p->att_received = v.natt;
  v.att = NULL;
  v.natt = 0;
  sio__mp_value_free(&v);
  *out = p;
  return 0;
}

int sio__looks_msgpack(const char *buf, size_t len) {
  sio__decoder_t d;
  sio__packet_t *p;
  sio__decoder_init(&d);
  if (sio__decode_msgpack(&d, buf, len, &p) != 0) return 0;
  sio__packet_free(p);
  return 1;
}

/* ---------------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------------ */

static int pk(int failed) { return failed ? SIO_ENOMEM : 0; }

/* The bytes of b as an Engine.IO binary message (headroom for the framing). */
static int to_refbuf(sio__buf_t *b, int r, sio__refbuf_t **out) {
  if (r == 0 && (*out = sio__refbuf_from(SIO__EIO_HEADROOM, b->base, b->len)) == NULL) r = SIO_ENOMEM;
  sio__buf_free(b);
  return r;
}

/* Writes "nsp": nsp ("/" for NULL or ""). */
static int pack_nsp(sio__mp_writer_t *w, const char *nsp) {
  int r = sio__mp_pack_cstr(w, "nsp");
  return r ? r : sio__mp_pack_cstr(w, nsp && *nsp ? nsp : "/");
}

/* data: [event?, ...args, tail?]. tail is the JSON text of one string (a recovery
 * offset: tag and hex digits, nothing escaped). */
static int pack_data(sio__mp_writer_t *w, const char *event, const sio_args_t *args, const sio_str_t *tail) {
  size_t n = sio_args_count(args);
  int r = pk(msgpack_pack_array(&w->pk, n + (event != NULL) + (tail != NULL)));
  if (r == 0 && event) r = sio__mp_pack_cstr(w, event);
  for (size_t i = 0; r == 0 && i < n; i++) {
    json_t *v = sio__args_json(args, i);
    r = v ? sio__mp_pack_value(w, v) : SIO_ENOMEM;
  }
  if (r == 0 && tail) {
    if (tail->len < 2 || tail->ptr[0] != '"' || memchr(tail->ptr + 1, '\\', tail->len - 2) != NULL) return SIO_EINVAL;
    r = sio__mp_pack_str(w, tail->ptr + 1, tail->len - 2);
  }
  return r;
}

int sio__mp_encode_args(uint8_t type, const char *nsp, const char *event, const sio_args_t *args, int64_t id,
                        const sio_str_t *tail, sio__refbuf_t **out) {
  if (type == SIO__PKT_EVENT && (event == NULL || !sio__utf8_valid(event, strlen(event)))) return SIO_EINVAL;
  if (id > SIO__ACK_ID_MAX) return SIO_EINVAL;
  sio__buf_t b = SIO__BUF_INIT;
  sio__mp_writer_t w;
  sio__mp_writer_init(&w, &b, args ? args->att : NULL, args ? args->natt : 0);
  /* Node's key order: socket.emit builds {type, data, id?} and adds nsp; an ack is
   * {id, type, data} plus nsp. */
  int r = pk(msgpack_pack_map(&w.pk, 3 + (id >= 0)));
  if (r == 0 && type == SIO__PKT_ACK) {
    r = sio__mp_pack_cstr(&w, "id");
    if (r == 0) r = pk(msgpack_pack_uint64(&w.pk, (uint64_t)id));
  }
  if (r == 0) r = sio__mp_pack_cstr(&w, "type");
  if (r == 0) r = pk(msgpack_pack_uint8(&w.pk, type));
  if (r == 0) r = sio__mp_pack_cstr(&w, "data");
  if (r == 0) r = pack_data(&w, type == SIO__PKT_EVENT ? event : NULL, args, tail);
  if (r == 0 && type != SIO__PKT_ACK && id >= 0) {
    r = sio__mp_pack_cstr(&w, "id");
    if (r == 0) r = pk(msgpack_pack_uint64(&w.pk, (uint64_t)id));
  }
  if (r == 0) r = pack_nsp(&w, nsp);
  return to_refbuf(&b, r, out);
}

int sio__mp_encode_packet(const sio__packet_t *p, sio__refbuf_t **out) {
  json_t *data = p->data, *parsed = NULL;
  int r = 0;
  if (p->type > SIO__PKT_CONNECT_ERROR) return SIO_EINVAL;
  /* A payload given as text (the CONNECT answer): parsed for the writer. */
  if (data == NULL && p->raw != NULL && (r = sio__json_load(p->raw->text, p->raw->len, &parsed)) != 0) return r;
  if (parsed) data = parsed;
  sio__buf_t b = SIO__BUF_INIT;
  sio__mp_writer_t w;
  sio__mp_writer_init(&w, &b, p->att, p->natt);
  r = pk(msgpack_pack_map(&w.pk, 2 + (data != NULL) + (p->id >= 0)));
  if (r == 0) r = sio__mp_pack_cstr(&w, "type");
  if (r == 0) r = pk(msgpack_pack_uint8(&w.pk, p->type));
  if (r == 0 && data) {
    r = sio__mp_pack_cstr(&w, "data");
    if (r == 0) r = sio__mp_pack_value(&w, data);
  }
  if (r == 0 && p->id >= 0) {
    r = sio__mp_pack_cstr(&w, "id");
    if (r == 0) r = pk(msgpack_pack_uint64(&w.pk, (uint64_t)p->id));
  }
  if (r == 0) r = pack_nsp(&w, p->nsp);
  json_decref(parsed);
  return to_refbuf(&b, r, out);
}
