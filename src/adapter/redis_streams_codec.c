/*
 * The messages of @socket.io/redis-streams-adapter 0.3.x (lib/adapter.ts encode/decode,
 * persistSession, restoreSession) and of socket.io-adapter's ClusterAdapter, on top of
 * redis_codec.c's msgpack <-> jansson. See redis_streams_codec.h.
 */
#include "adapter/redis_streams_codec.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/b64.h"
#include "sio/errors.h"
#include "sio/json.h"

/* ---------------------------------------------------------------------------------
 * Entry ids
 * ------------------------------------------------------------------------------ */

static int parse_u64(const char *s, size_t len, uint64_t *out) {
  if (len == 0 || len > 20) return SIO_EPROTO;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return SIO_EPROTO;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return SIO_EPROTO;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int sio__xid_parse(const char *s, size_t len, sio__xid_t *out) {
  const char *dash = memchr(s, '-', len);
  if (dash == NULL) return SIO_EPROTO;
  sio__xid_t id;
  if (parse_u64(s, (size_t)(dash - s), &id.ms) || parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &id.seq))
    return SIO_EPROTO;
  *out = id;
  return 0;
}

int sio__xid_cmp(sio__xid_t a, sio__xid_t b) {
  if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

size_t sio__xid_format(sio__xid_t id, char *out) {
  return (size_t)snprintf(out, SIO__XID_MAX + 1, "%llu-%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
}

/* ---------------------------------------------------------------------------------
 * base64 of msgpack
 * ------------------------------------------------------------------------------ */

/* Appends base64(msgpack(v)). */
static int append_b64_msgpack(sio__buf_t *out, const json_t *v, sio__refbuf_t *const *att, uint32_t natt) {
  sio__buf_t mp = SIO__BUF_INIT;
  size_t mark = out->len;
  int r = sio__mp_encode(&mp, v, att, natt);
  if (r == 0) r = sio__buf_reserve(out, sio__b64_encoded_len(mp.len));
  if (r == 0) out->len += sio__b64_encode(mp.base, mp.len, out->base + out->len);
  sio__buf_free(&mp);
  if (r) out->len = mark;
  return r;
}

/* Decodes base64 text into msgpack into *out. */
static int decode_b64_msgpack(const char *b64, size_t len, sio__mp_value_t *out) {
  char *bytes = sio__malloc(sio__b64_decoded_max(len) + 1);
  if (bytes == NULL) return SIO_ENOMEM;
  long n = sio__b64_decode(b64, len, bytes);
  int r = n < 0 ? SIO_EPROTO : sio__mp_decode(bytes, (size_t)n, out);
  sio__free(bytes);
  return r;
}

int sio__xs_encode_data(sio__buf_t *out, const json_t *data, sio__refbuf_t *const *att, uint32_t natt) {
  /* adapter.ts encode(): base64 msgpack only when the data holds binary. */
  if (natt > 0) return append_b64_msgpack(out, data, att, natt);
  return sio__json_write(out, data);
}

/* ---------------------------------------------------------------------------------
 * Stream entries
 * ------------------------------------------------------------------------------ */

static int field_is(sio_str_t f, const char *name) { return f.len == strlen(name) && memcmp(f.ptr, name, f.len) == 0; }

int sio__xs_decode_entry(const sio_str_t *fields, size_t nfields, sio__xs_entry_t *out) {
  const sio_str_t *uid = NULL, *nsp = NULL, *type = NULL, *data = NULL;
  for (size_t i = 0; i + 1 < 2 * nfields; i += 2) {
    if (field_is(fields[i], "uid")) uid = &fields[i + 1];
    else if (field_is(fields[i], "nsp")) nsp = &fields[i + 1];
    else if (field_is(fields[i], "type")) type = &fields[i + 1];
    else if (field_is(fields[i], "data")) data = &fields[i + 1];
  }
  if (uid == NULL || nsp == NULL || type == NULL) return SIO_EPROTO;
  uint64_t t;
  if (parse_u64(type->ptr, type->len, &t) || t > 1000) return SIO_EPROTO;
  sio__xs_entry_t e = {{NULL, NULL, 0, 0}, *uid, *nsp, (int)t};
  /* decode(): data absent or empty means no data (the JS test is `if (rawMessage.data)`). */
  if (data && data->len > 0) {
    int r;
    if (data->ptr[0] == '{') {
      json_t *v = json_loadb(data->ptr, data->len, JSON_ALLOW_NUL, NULL);
      if (v == NULL) return SIO_EJSON;
      e.v.root = v;
    } else if ((r = decode_b64_msgpack(data->ptr, data->len, &e.v)) != 0) {
      return r;
    }
    if (!json_is_object(e.v.root)) {
      sio__mp_value_free(&e.v);
      return SIO_EPROTO;
    }
  }
  *out = e;
  return 0;
}

void sio__xs_entry_free(sio__xs_entry_t *e) { sio__mp_value_free(&e->v); }

/* ---------------------------------------------------------------------------------
 * Pub/sub messages
 * ------------------------------------------------------------------------------ */

int sio__xs_encode_message(sio__buf_t *out, int type, const json_t *data, sio__refbuf_t *const *att, uint32_t natt,
                           const char *uid, const char *nsp) {
  /* Key order of ClusterAdapter: the literal {type, data}, then uid and nsp set on it. */
  json_t *m = json_pack("{s:i}", "type", type);
  if (m == NULL) return SIO_ENOMEM;
  int r = 0;
  if (data && json_object_set(m, "data", (json_t *)data) != 0) r = SIO_ENOMEM;
  if (r == 0 && (json_object_set_new(m, "uid", json_string(uid)) != 0 ||
                 json_object_set_new(m, "nsp", json_string(nsp)) != 0))
    r = SIO_ENOMEM;
  if (r == 0) r = sio__mp_encode(out, m, att, natt);
  json_decref(m);
  return r;
}

int sio__xs_decode_message(const char *buf, size_t len, sio__mp_value_t *out) {
  sio__mp_value_t v;
  int r = sio__mp_decode(buf, len, &v);
  if (r) return r;
  if (!json_is_object(v.root) || !json_is_integer(json_object_get(v.root, "type"))) {
    sio__mp_value_free(&v);
    return SIO_EPROTO;
  }
  *out = v;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------------ */

int sio__xs_encode_session(sio__buf_t *out, const sio_adapter_session_t *s) {
  json_t *data = s->data_json ? json_loads(s->data_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : json_object();
  if (data == NULL) return s->data_json ? SIO_EJSON : SIO_ENOMEM;
  json_t *rooms = json_array();
  for (size_t i = 0; rooms && i < s->nrooms; i++) {
    if (json_array_append_new(rooms, json_string(s->rooms[i])) != 0) {
      json_decref(rooms);
      rooms = NULL;
    }
  }
  /* socket.ts persistSession's literal: {sid, pid, rooms, data}. */
  json_t *obj = rooms ? json_pack("{s:s,s:s,s:o,s:o}", "sid", s->sid, "pid", s->pid, "rooms", rooms, "data", data)
                      : NULL;
  if (rooms == NULL) json_decref(data);
  int r = obj ? append_b64_msgpack(out, obj, NULL, 0) : SIO_ENOMEM;
  json_decref(obj);
  return r;
}

int sio__xs_decode_session(const char *b64, size_t len, sio__xs_session_t *out) {
  sio__xs_session_t s;
  memset(&s, 0, sizeof s);
  int r = decode_b64_msgpack(b64, len, &s.v);
  if (r) return r;
  json_t *sid = json_object_get(s.v.root, "sid"), *pid = json_object_get(s.v.root, "pid");
  json_t *rooms = json_object_get(s.v.root, "rooms"), *data = json_object_get(s.v.root, "data");
  if (!json_is_object(s.v.root) || !json_is_string(sid) || !json_is_string(pid) || !json_is_array(rooms)) {
    r = SIO_EPROTO;
    goto fail;
  }
  s.sid = json_string_value(sid);
  s.pid = json_string_value(pid);
  s.nrooms = json_array_size(rooms);
  if ((s.rooms = sio__calloc(s.nrooms + 1, sizeof *s.rooms)) == NULL) {
    r = SIO_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < s.nrooms; i++) {
    json_t *e = json_array_get(rooms, i);
    if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
      r = SIO_EPROTO;
      goto fail;
    }
    s.rooms[i] = json_string_value(e);
  }
  if (data && !json_is_null(data)) {
    sio__buf_t b = SIO__BUF_INIT;
    /* Binary in data has no JSON form in socket.data: refused rather than mangled. */
    if (s.v.natt > 0) {
      r = SIO_EPROTO;
      goto fail;
    }
    if (sio__json_write(&b, data) != 0 || sio__buf_append_byte(&b, 0) != 0) {
      sio__buf_free(&b);
      r = SIO_ENOMEM;
      goto fail;
    }
    s.data_json = sio__buf_steal(&b, NULL);
  }
  *out = s;
  return 0;
fail:
  sio__xs_session_free(&s);
  return r;
}

void sio__xs_session_free(sio__xs_session_t *s) {
  sio__free(s->rooms);
  sio__free(s->data_json);
  sio__mp_value_free(&s->v);
  memset(s, 0, sizeof *s);
}

sio_adapter_session_t sio__xs_session_view(const sio__xs_session_t *s) {
  return (sio_adapter_session_t){s->sid, s->pid, s->rooms, s->nrooms, s->data_json};
}
