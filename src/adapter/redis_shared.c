/*
 * Everything else the adapter files (redis.c, redis_streams.c) share: random ids,
 * channel names, the JSON a Node peer expects for binary and selections, and applying
 * a remote selection locally. Layer: adapter.
 */
#include "adapter/redis_shared.h"

#include <string.h>

#include "adapter/redis_conn.h"
#include "common/alloc.h"
#include "common/log.h"
#include "sio/json.h"
#include "sio/sio.h"

/* uid2's alphabet: 62 URL-safe characters. */
void sio__radp_random_id(char *out, size_t n) {
  const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char b[64];
  if (n > sizeof b) n = sizeof b;
  if (uv_random(NULL, NULL, b, n, 0, NULL) != 0) {
    /* Only uniqueness matters here, not secrecy: fall back to the clock. */
    uint64_t t = uv_hrtime();
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(t >> (i * 8)) ^ (unsigned char)(i * 37);
  }
  for (size_t i = 0; i < n; i++) out[i] = abc[b[i] % 62];
  out[n] = '\0';
}

void sio__radp_hex_id(char *out, size_t n) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[32];
  if (n > 2 * sizeof b) n = 2 * sizeof b;
  if (uv_random(NULL, NULL, b, n / 2, 0, NULL) != 0) {
    uint64_t t = uv_hrtime();
    for (size_t i = 0; i < n / 2; i++) b[i] = (unsigned char)(t >> ((i & 7) * 8)) ^ (unsigned char)(i * 37);
  }
  for (size_t i = 0; i < n / 2; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[n] = '\0';
}

char *sio__radp_concat(const char *a, const char *b, const char *c, const char *d) {
  sio__buf_t buf = SIO__BUF_INIT;
  if (sio__buf_appendf(&buf, "%s%s%s%s", a, b, c ? c : "", d ? d : "") != 0 || sio__buf_append_byte(&buf, 0) != 0) {
    sio__buf_free(&buf);
    return NULL;
  }
  return sio__buf_steal(&buf, NULL);
}


/* JSON for a Node peer: binary parts (placeholders) become what JSON.stringify makes of
 * a Buffer, {"type":"Buffer","data":[...bytes]}, as the JS adapter's JSON requests
 * carry them. Returns a new tree. */
json_t *sio__radp_node_json(json_t *v, sio__refbuf_t *const *att, uint32_t natt) {
  uint32_t num;
  if (sio__placeholder_num(v, &num) && num < natt) {
    json_t *bytes = json_array();
    const unsigned char *p = (const unsigned char *)sio__refbuf_ptr(att[num]);
    for (size_t i = 0; bytes && i < att[num]->len; i++) json_array_append_new(bytes, json_integer(p[i]));
    return json_pack("{s:s,s:o}", "type", "Buffer", "data", bytes);
  }
  if (json_is_array(v)) {
    json_t *out = json_array();
    for (size_t i = 0; out && i < json_array_size(v); i++)
      json_array_append_new(out, sio__radp_node_json(json_array_get(v, i), att, natt));
    return out;
  }
  if (json_is_object(v)) {
    json_t *out = json_object();
    const char *k;
    json_t *m;
    json_object_foreach(v, k, m) json_object_set_new(out, k, sio__radp_node_json(m, att, natt));
    return out;
  }
  return json_incref(v);
}

/* [event, ...args] as a JSON array for a Node peer. */
json_t *sio__radp_event_data(const char *event, const sio_args_t *args) {
  json_t *arr = json_array();
  if (arr == NULL) return NULL;
  json_array_append_new(arr, json_string(event));
  for (size_t i = 0; i < sio_args_count(args); i++)
    json_array_append_new(arr, sio__radp_node_json(sio__args_json(args, i), args->att, args->natt));
  return arr;
}

/* {rooms:[...], except:[...]} of a selection. */
json_t *sio__radp_sel_json(const sio_broadcast_opts_t *to) {
  json_t *rooms = json_array(), *except = json_array();
  for (size_t i = 0; to && i < to->nrooms; i++) json_array_append_new(rooms, json_string(to->rooms[i]));
  for (size_t i = 0; to && i < to->nexcept; i++) json_array_append_new(except, json_string(to->except[i]));
  return json_pack("{s:o,s:o}", "rooms", rooms, "except", except);
}


/* A remote socket of a REMOTE_FETCH answer: {id, handshake, rooms, data}. */
void sio__radp_add_fetched(sio_adapter_query_t *h, json_t *s) {
  json_t *id = json_object_get(s, "id"), *rooms = json_object_get(s, "rooms");
  if (!json_is_string(id) || !json_is_array(rooms)) return;
  size_t n = json_array_size(rooms);
  const char **names = sio__calloc(n + 1, sizeof *names);
  sio__buf_t data = SIO__BUF_INIT, hs = SIO__BUF_INIT;
  json_t *d = json_object_get(s, "data"), *h0 = json_object_get(s, "handshake");
  int ok = names != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    json_t *e = json_array_get(rooms, i);
    if (!json_is_string(e)) ok = 0;
    else names[i] = json_string_value(e);
  }
  if (ok) ok = sio__json_write(&data, d ? d : json_null()) == 0 && sio__buf_append_byte(&data, 0) == 0;
  if (ok) ok = sio__json_write(&hs, h0 ? h0 : json_object()) == 0 && sio__buf_append_byte(&hs, 0) == 0;
  if (ok) {
    sio_remote_socket_t v = {json_string_value(id), names, n, data.base, hs.base, NULL};
    sio_adapter_query_add_socket(h, &v);
  }
  sio__free(names);
  sio__buf_free(&data);
  sio__buf_free(&hs);
}


/* Reads {rooms, except} into a selection (arrays owned by the caller, strings borrowed
 * from opts). */
typedef struct {
  const char **rooms, **except;
  sio_broadcast_opts_t to;
} sel_t;

int sio__radp_read_sel(json_t *opts, sio__radp_sel_t *s) {
  memset(s, 0, sizeof *s);
  json_t *arrs[2] = {json_object_get(opts, "rooms"), json_object_get(opts, "except")};
  const char **out[2] = {NULL, NULL};
  size_t n[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    if (arrs[k] == NULL) continue;
    if (!json_is_array(arrs[k])) goto bad;
    n[k] = json_array_size(arrs[k]);
    out[k] = sio__calloc(n[k] + 1, sizeof *out[k]);
    if (out[k] == NULL) goto bad;
    for (size_t i = 0; i < n[k]; i++) {
      json_t *e = json_array_get(arrs[k], i);
      if (!json_is_string(e)) goto bad;
      out[k][i] = json_string_value(e);
    }
  }
  s->rooms = out[0];
  s->except = out[1];
  s->to = (sio_broadcast_opts_t){out[0], n[0], out[1], n[1], SIO_BCAST_LOCAL};
  return 0;
bad:
  sio__free(out[0]);
  sio__free(out[1]);
  return SIO_EPROTO;
}

void sio__radp_sel_free(sio__radp_sel_t *s) {
  sio__free(s->rooms);
  sio__free(s->except);
}


typedef struct {
  json_t *rooms; /* room names to join or leave */
  int join;
} rooms_op_t;

void sio__radp_apply_rooms(int status, sio_socket_t *const *sockets, size_t n, void *u) {
  sio__radp_rooms_op_t *op = u;
  json_t *e;
  size_t k;
  for (size_t i = 0; status == 0 && i < n; i++) {
    json_array_foreach(op->rooms, k, e) {
      if (!json_is_string(e)) continue;
      if (op->join) sio_socket_join(sockets[i], json_string_value(e));
      else sio_socket_leave(sockets[i], json_string_value(e));
    }
  }
}


/* Parses JSON text produced by the library (socket data, handshake) into a tree. */
json_t *sio__radp_parse_text(const char *text) {
  json_t *v = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
  return v ? v : json_null();
}

void sio__radp_fetch_entries(int status, const sio_remote_socket_t *sockets, size_t n, void *u) {
  json_t *arr = u;
  for (size_t i = 0; status == 0 && i < n; i++) {
    json_t *rooms = json_array();
    for (size_t k = 0; rooms && k < sockets[i].nrooms; k++) json_array_append_new(rooms, json_string(sockets[i].rooms[k]));
    json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:o}", "id", sockets[i].id, "handshake",
                                         sio__radp_parse_text(sockets[i].handshake_json), "rooms", rooms, "data",
                                         sio__radp_parse_text(sockets[i].data_json)));
  }
}


/* The codec's view of an emit. ev->arr is new (the arguments as one tree, json_decref
 * it), NULL when there are none. Returns 0 or SIO_ENOMEM. */
int sio__radp_event_of(const char *nsp, const sio_packet_view_t *pkt, sio__redis_event_t *ev) {
  const sio_args_t *args = pkt->args;
  json_t *arr = NULL;
  if (sio_args_count(args) > 0 && (arr = sio__args_tree(args)) == NULL) return SIO_ENOMEM;
  *ev = (sio__redis_event_t){nsp, pkt->event, arr, 0, args ? args->att : NULL, args ? args->natt : 0};
  return 0;
}

sio__redis_sel_t sio__radp_sel_of(const sio_broadcast_opts_t *to, int64_t timeout_ms) {
  if (to == NULL) return (sio__redis_sel_t){NULL, 0, NULL, 0, 0, timeout_ms};
  return (sio__redis_sel_t){to->rooms, to->nrooms, to->except, to->nexcept, (to->flags & SIO_BCAST_VOLATILE) != 0,
                            timeout_ms};
}



void sio__radp_dropped(const char *who, const char *where, uint64_t *dropped, uint8_t *backlog_logged, int why) {
  (*dropped)++;
  if (why == SIO_ELIMIT && !*backlog_logged) {
    *backlog_logged = 1;
    SIO_LOGW("%s: Redis at %s is not reading fast enough (over %u MiB unsent): dropping messages to other nodes "
             "until it catches up",
             who, where, SIO__RCONN_MAX_BACKLOG >> 20);
  }
}

void sio__radp_log_outage(const char *who, const char *where, const char *why, int was_up, const char *flag) {
  if (was_up) {
    SIO_LOGW("%s: lost Redis at %s (%s): local delivery goes on, messages to other nodes are dropped until it is "
             "back; reconnecting",
             who, where, why);
  } else {
    SIO_LOGW("%s: cannot reach Redis at %s (%s): serving this process only until it is reachable (is "
             "redis-server running? check %s); retrying",
             who, where, why, flag);
  }
}

char *sio__radp_where(const sio__redis_url_t *url) {
  sio__buf_t where = SIO__BUF_INIT;
  char *out = NULL;
  if (sio__buf_appendf(&where, strchr(url->host, ':') ? "redis://[%s]:%d" : "redis://%s:%d", url->host, url->port) ==
          0 &&
      sio__buf_append_byte(&where, 0) == 0)
    out = sio__buf_steal(&where, NULL);
  sio__buf_free(&where);
  return out;
}

int sio__radp_check_free(sio_server_t *io) {
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) {
    if (((sio_ns_t *)v)->adapter) return SIO_EBUSY;
  }
  return 0;
}
