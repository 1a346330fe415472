/*
 * Broadcast operators (socket.io lib/broadcast-operator.ts) over the in-memory rooms:
 * a selection is "members of any of rooms (or everyone), minus members of any of
 * except", each socket once. Dedup uses per-namespace epochs stamped on sockets, so a
 * selection allocates nothing. Emits encode the packet once and queue references to the
 * same bytes on every recipient.
 *
 * Every operation does its local part first and then, unless SIO_BCAST_LOCAL, hands the
 * same selection to the namespace's adapter (sio/adapter.h). Operations that return data
 * from other nodes (fetchSockets, allSockets, emitWithAck) are "queries": the local part
 * is collected at the call, the adapter adds the remote part, and the user's callback
 * runs once when the adapter finishes (possibly inside the call).
 */
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/server.h"
#include "sio/json.h"
#include "sio/recovery.h"
#include "sio/sio.h"
#include "ws/utf8.h"

void sio__select(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *skip_id,
                 void (*fn)(sio_socket_t *s, void *u), void *u) {
  uint32_t except = ++ns->epoch;
  uint32_t sent = ++ns->epoch;
  for (size_t i = 0; to && i < to->nexcept; i++) {
    sio__room_t *r = sio__adapter_room(ns, to->except[i], strlen(to->except[i]));
    for (uint32_t j = 0; r && j < r->n; j++) r->m[j].s->mark = except;
  }
  if (skip_id) {
    sio_socket_t *s = sio__map_get(&ns->sockets, skip_id, strlen(skip_id));
    if (s) s->mark = except;
  }
  /* fn may disconnect sockets (disconnectSockets): keep each alive while it runs, and
   * collect first so the rooms we walk cannot change under us. */
  sio_socket_t **list = NULL;
  size_t n = 0, cap = 0;
  if (to && to->nrooms > 0) {
    for (size_t i = 0; i < to->nrooms; i++) {
      sio__room_t *r = sio__adapter_room(ns, to->rooms[i], strlen(to->rooms[i]));
      for (uint32_t j = 0; r && j < r->n; j++) {
        sio_socket_t *s = r->m[j].s;
        if (s->mark == except || s->sent == sent || s->state != SIO__SOCK_CONNECTED) continue;
        s->sent = sent;
        if (n == cap) {
          cap = cap ? cap * 2 : 64;
          sio_socket_t **p = sio__realloc(list, cap * sizeof *p);
          if (p == NULL) break;
          list = p;
        }
        list[n++] = sio_socket_ref(s);
      }
    }
  } else {
    uint32_t it = 0;
    void *v;
    while (sio__map_next(&ns->sockets, &it, NULL, NULL, &v)) {
      sio_socket_t *s = v;
      if (s->mark == except || s->state != SIO__SOCK_CONNECTED) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        sio_socket_t **p = sio__realloc(list, cap * sizeof *p);
        if (p == NULL) break;
        list = p;
      }
      list[n++] = sio_socket_ref(s);
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (list[i]->state == SIO__SOCK_CONNECTED) fn(list[i], u);
    sio_socket_unref(list[i]);
  }
  sio__free(list);
}

int sio__ns_remote(const sio_ns_t *ns, const sio_broadcast_opts_t *to) {
  return ns->adapter != NULL && ns->adapter->version >= 2 && !(to && (to->flags & SIO_BCAST_LOCAL));
}

/* ---------------------------------------------------------------------------------
 * Emits
 * ------------------------------------------------------------------------------ */

typedef struct {
  sio__refbuf_t *text;
  const sio_args_t *args;
  const char *event;
  int volatile_;
  int count;
  void *bcast;
  int64_t id;
} emit_ctx_t;

static void deliver(sio_socket_t *s, void *u) {
  emit_ctx_t *e = u;
  if (e->bcast && sio__ack_register(s, e->id, 0, NULL, NULL, e->bcast) != 0) return;
  if (s->any_out) sio__socket_fire_any_out(s, e->event, e->args);
  if (sio__client_send(s->client, e->text, e->args ? e->args->att : NULL, e->args ? e->args->natt : 0, e->volatile_) == 0) {
    e->count++;
  }
}

/* The adapter's view of an encoded packet: its text without the Engine.IO "4", and
 * slices of the attachments (atts must hold args->natt entries). */
static sio_packet_view_t packet_view(const char *event, const sio_args_t *args, sio__refbuf_t *text, sio_str_t *atts) {
  size_t natt = args ? args->natt : 0;
  for (size_t i = 0; i < natt; i++) atts[i] = (sio_str_t){sio__refbuf_ptr(args->att[i]), args->att[i]->len};
  return (sio_packet_view_t){{sio__refbuf_ptr(text) + 1, text->len - 1}, atts, natt, event, args};
}

static int adapter_fanout(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                          sio__refbuf_t *text) {
  if (ns->adapter == NULL || ns->adapter->broadcast == NULL || (to && (to->flags & SIO_BCAST_LOCAL))) return 0;
  sio_str_t atts[64];
  if (args && args->natt > 64) return SIO_ELIMIT;
  sio_packet_view_t view = packet_view(event, args, text, atts);
  return ns->adapter->broadcast(ns->adapter_self, ns, to, &view);
}

int sio_ns_emit(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args) {
  emit_ctx_t e = {NULL, args, event, to ? (int)(to->flags & SIO_BCAST_VOLATILE) : 0, 0, NULL, -1};
  /* Connection-state recovery stores the packet with its offset (not volatile ones). */
  int r = ns->io->rec && !e.volatile_ ? sio__recovery_encode(ns, to, event, args, &e.text)
                                      : sio__encode_event(ns->name, event, args, -1, &e.text);
  if (r) return r;
  sio__select(ns, to, NULL, deliver, &e);
  r = adapter_fanout(ns, to, event, args, e.text);
  sio__refbuf_unref(e.text);
  return r < 0 ? r : e.count;
}

/*
 * Encodes event(args) with a fresh ack id and an aggregate for the answers; the two
 * failure points come before anything is sent, so a failed call runs no callback.
 * *bcast gets the aggregate (cb(user) at its end), *text the encoded packet.
 */
static int prepare_acked(sio_ns_t *ns, const char *event, const sio_args_t *args, uint64_t timeout_ms,
                         sio_bcast_ack_cb cb, void *user, emit_ctx_t *e) {
  *e = (emit_ctx_t){NULL, args, event, 0, 0, NULL, ns->next_ack_id++};
  int r = sio__encode_event(ns->name, event, args, e->id, &e->text);
  if (r) return r;
  e->bcast = sio__bcast_ack_new(ns->io, timeout_ms, cb, user);
  if (e->bcast == NULL) {
    sio__refbuf_unref(e->text);
    return SIO_ENOMEM;
  }
  return 0;
}

int sio_ns_emit_with_ack(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                         uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user) {
  int remote = sio__ns_remote(ns, to) && ns->adapter->broadcast_with_ack != NULL;
  if (remote && args && args->natt > 64) return SIO_ELIMIT;
  emit_ctx_t e;
  int r = prepare_acked(ns, event, args, timeout_ms, cb, user, &e);
  if (r) return r;
  sio__select(ns, to, NULL, deliver, &e);
  if (remote) {
    /* The adapter holds the aggregate open until the other nodes' clients are counted
     * and have answered (sio_adapter_acks_done). A failing hook only loses them. */
    sio_str_t atts[64];
    sio_packet_view_t view = packet_view(event, args, e.text, atts);
    sio__bcast_ack_hold(e.bcast);
    if (ns->adapter->broadcast_with_ack(ns->adapter_self, ns, to, &view, timeout_ms, e.bcast) < 0) {
      sio__bcast_ack_release(e.bcast);
    }
  }
  sio__refbuf_unref(e.text);
  sio__bcast_ack_start(e.bcast, (uint32_t)e.count);
  return e.count;
}

void sio_adapter_acks_answer(sio_adapter_acks_t *acks, const sio_args_t *args) { sio__bcast_ack_answer(acks, args); }
void sio_adapter_acks_done(sio_adapter_acks_t *acks) { sio__bcast_ack_release(acks); }

/* A local emit-with-ack on behalf of another node: answers streamed, then the end. */
typedef struct {
  sio_adapter_each_ack_cb each;
  sio_adapter_acks_end_cb end;
  void *user;
} local_acks_t;

static void local_each(const sio_args_t *args, void *u) {
  local_acks_t *l = u;
  l->each(args, l->user);
}

static void local_end(int status, const sio_args_t *const *responses, size_t n, void *u) {
  local_acks_t *l = u;
  l->end(status, l->user);
  sio__free(l);
}

int sio_adapter_emit_with_ack_local(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                                    const sio_args_t *args, uint64_t timeout_ms, sio_adapter_each_ack_cb each,
                                    sio_adapter_acks_end_cb end, void *user) {
  local_acks_t *l = sio__malloc(sizeof *l);
  if (l == NULL) return SIO_ENOMEM;
  *l = (local_acks_t){each, end, user};
  emit_ctx_t e;
  int r = prepare_acked(ns, event, args, timeout_ms, local_end, l, &e);
  if (r) {
    sio__free(l);
    return r;
  }
  sio__bcast_ack_set_each(e.bcast, local_each, l);
  sio_broadcast_opts_t local = to ? *to : (sio_broadcast_opts_t)SIO_BROADCAST_ALL;
  local.flags |= SIO_BCAST_LOCAL;
  sio__select(ns, &local, NULL, deliver, &e);
  sio__refbuf_unref(e.text);
  sio__bcast_ack_start(e.bcast, (uint32_t)e.count);
  return e.count;
}

/* ---------------------------------------------------------------------------------
 * Selection operations
 * ------------------------------------------------------------------------------ */

static void do_join(sio_socket_t *s, void *u) { sio__adapter_join(s, u, strlen(u)); }
static void do_leave(sio_socket_t *s, void *u) { sio__adapter_leave(s, u, strlen(u)); }
static void do_disconnect(sio_socket_t *s, void *u) { sio_socket_disconnect(s, *(int *)u); }

int sio_ns_sockets_join(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  sio__select(ns, to, NULL, do_join, (void *)room);
  if (ns->adapter && ns->adapter->sockets_join && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->sockets_join(ns->adapter_self, ns, to, room);
  return 0;
}

int sio_ns_sockets_leave(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  sio__select(ns, to, NULL, do_leave, (void *)room);
  if (ns->adapter && ns->adapter->sockets_leave && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->sockets_leave(ns->adapter_self, ns, to, room);
  return 0;
}

int sio_ns_disconnect_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, int close) {
  sio__select(ns, to, NULL, do_disconnect, &close);
  if (ns->adapter && ns->adapter->disconnect_sockets && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->disconnect_sockets(ns->adapter_self, ns, to, close);
  return 0;
}

typedef struct {
  sio_socket_t **list;
  size_t n, cap;
  int err;
} fetch_ctx_t;

static void collect(sio_socket_t *s, void *u) {
  fetch_ctx_t *f = u;
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 16;
    sio_socket_t **p = sio__realloc(f->list, cap * sizeof *p);
    if (p == NULL) {
      f->err = SIO_ENOMEM;
      return;
    }
    f->list = p;
    f->cap = cap;
  }
  f->list[f->n++] = sio_socket_ref(s);
}

int sio_ns_fetch_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_fetch_cb cb, void *user) {
  fetch_ctx_t f = {NULL, 0, 0, 0};
  sio__select(ns, to, NULL, collect, &f);
  if (f.err == 0) cb(0, f.list, f.n, user);
  for (size_t i = 0; i < f.n; i++) sio_socket_unref(f.list[i]);
  sio__free(f.list);
  return f.err;
}

/* ---------------------------------------------------------------------------------
 * Cluster queries: fetchSockets, allSockets (and, from namespace.c, allRooms,
 * serverCount, serverSideEmit with acks)
 * ------------------------------------------------------------------------------ */

struct sio_adapter_query_s {
  int kind;                 /* SIO__Q_* */
  sio_ns_t *ns;
  void (*cb)(void);         /* the user's callback, of the kind's type */
  void *user;
  fetch_ctx_t local;        /* SIO__Q_FETCH: the local selection (referenced) */
  sio_remote_socket_t *remote; /* SIO__Q_FETCH: copies added by the adapter */
  size_t nremote, remote_cap;
  char **names;             /* SIO__Q_SOCKETS / SIO__Q_ROOMS: owned, deduplicated */
  size_t nnames, names_cap;
  sio__map_t seen;          /* name -> itself */
  size_t count;             /* SIO__Q_COUNT */
  sio_args_t *values;       /* SIO__Q_SERVER_SIDE: one answer per node */
};

sio_adapter_query_t *sio__query_new(sio_ns_t *ns, int kind, void (*cb)(void), void *user) {
  sio_adapter_query_t *q = sio__calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  q->kind = kind;
  q->ns = ns;
  q->cb = cb;
  q->user = user;
  q->count = 1; /* this node */
  if (kind == SIO__Q_SERVER_SIDE && sio_args_new(&q->values) != 0) {
    sio__free(q);
    return NULL;
  }
  return q;
}

void sio__query_abort(sio_adapter_query_t *q) {
  for (size_t i = 0; i < q->local.n; i++) sio_socket_unref(q->local.list[i]);
  sio__free(q->local.list);
  /* A remote entry is one block: the view first, its rooms and strings after it. */
  for (size_t i = 0; i < q->nremote; i++) sio__free((void *)q->remote[i].id);
  sio__free(q->remote);
  for (size_t i = 0; i < q->nnames; i++) sio__free(q->names[i]);
  sio__free(q->names);
  sio__map_free(&q->seen);
  sio_args_free(q->values);
  sio__free(q);
}

int sio_adapter_query_add_name(sio_adapter_query_t *q, const char *name, size_t len) {
  if (q->kind != SIO__Q_SOCKETS && q->kind != SIO__Q_ROOMS) return 0;
  if (sio__map_get(&q->seen, name, len)) return 0;
  if (q->nnames == q->names_cap) {
    size_t cap = q->names_cap ? q->names_cap * 2 : 16;
    char **p = sio__realloc(q->names, cap * sizeof *p);
    if (p == NULL) return SIO_ENOMEM;
    q->names = p;
    q->names_cap = cap;
  }
  char *copy = sio__strndup(name, len);
  if (copy == NULL) return SIO_ENOMEM;
  if (sio__map_put(&q->seen, copy, len, copy) != 0) {
    sio__free(copy);
    return SIO_ENOMEM;
  }
  q->names[q->nnames++] = copy;
  return 0;
}

/* Copies a view into one allocation: the strings, then the rooms array pointing at
 * copies after it. The block starts with the id so that freeing id frees it all. */
int sio_adapter_query_add_socket(sio_adapter_query_t *q, const sio_remote_socket_t *s) {
  if (q->kind != SIO__Q_FETCH) return 0;
  const char *data = s->data_json ? s->data_json : "null";
  const char *hs = s->handshake_json ? s->handshake_json : "{}";
  size_t size = strlen(s->id) + 1 + strlen(data) + 1 + strlen(hs) + 1 + s->nrooms * sizeof(char *) + sizeof(char *);
  for (size_t i = 0; i < s->nrooms; i++) size += strlen(s->rooms[i]) + 1;
  if (q->nremote == q->remote_cap) {
    size_t cap = q->remote_cap ? q->remote_cap * 2 : 8;
    sio_remote_socket_t *p = sio__realloc(q->remote, cap * sizeof *p);
    if (p == NULL) return SIO_ENOMEM;
    q->remote = p;
    q->remote_cap = cap;
  }
  char *block = sio__malloc(size);
  if (block == NULL) return SIO_ENOMEM;
  char *w = block;
  sio_remote_socket_t *v = &q->remote[q->nremote++];
  v->id = strcpy(w, s->id);
  w += strlen(w) + 1;
  v->data_json = strcpy(w, data);
  w += strlen(w) + 1;
  v->handshake_json = strcpy(w, hs);
  w += strlen(w) + 1;
  /* The pointer array must be aligned: round w up. */
  size_t off = (size_t)(w - block);
  off = (off + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
  const char **rooms = (const char **)(void *)(block + off);
  w = block + off + s->nrooms * sizeof(char *);
  for (size_t i = 0; i < s->nrooms; i++) {
    rooms[i] = strcpy(w, s->rooms[i]);
    w += strlen(w) + 1;
  }
  v->rooms = rooms;
  v->nrooms = s->nrooms;
  v->local = NULL;
  return 0;
}

int sio_adapter_query_add_value(sio_adapter_query_t *q, const sio_args_t *args, size_t i) {
  if (q->kind != SIO__Q_SERVER_SIDE) return 0;
  if (args == NULL || i >= sio_args_count(args)) return sio_args_add_null(q->values);
  return sio_args_add_arg(q->values, args, i);
}

void sio_adapter_query_set_count(sio_adapter_query_t *q, size_t nodes) {
  if (q->kind == SIO__Q_COUNT) q->count = nodes;
}

/* ---- local sockets as views ---- */

/* Appends a JSON string value. */
static int put_str(json_t *obj, const char *key, const char *s, size_t len) {
  json_t *v = sio__utf8_valid(s, len) ? json_stringn(s, len) : json_string("");
  return json_object_set_new(obj, key, v);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes a query component as Node's querystring.unescape does: %XX and '+'. */
static char *unescape(const char *s, size_t n, size_t *len) {
  char *out = sio__malloc(n + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') out[o++] = ' ';
    else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else out[o++] = s[i];
  }
  out[o] = '\0';
  *len = o;
  return out;
}

/* handshake.query: url.parse(url, true).query, a repeated key becoming an array. */
static json_t *query_object(sio_str_t q) {
  json_t *obj = json_object();
  const char *end = q.ptr + q.len;
  for (const char *it = q.ptr; obj && it < end;) {
    const char *amp = memchr(it, '&', (size_t)(end - it));
    const char *stop = amp ? amp : end;
    const char *eq = memchr(it, '=', (size_t)(stop - it));
    const char *kend = eq ? eq : stop;
    size_t klen, vlen = 0;
    char *key = kend > it ? unescape(it, (size_t)(kend - it), &klen) : NULL;
    char *val = key ? (eq ? unescape(eq + 1, (size_t)(stop - eq - 1), &vlen) : sio__strdup("")) : NULL;
    if (key && val && sio__utf8_valid(key, klen) && sio__utf8_valid(val, vlen) && memchr(key, 0, klen) == NULL) {
      json_t *old = json_object_get(obj, key);
      json_t *v = json_stringn(val, vlen);
      if (old == NULL) json_object_set_new(obj, key, v);
      else if (json_is_array(old)) json_array_append_new(old, v);
      else {
        json_t *arr = json_array();
        json_array_append(arr, old);
        json_array_append_new(arr, v);
        json_object_set_new(obj, key, arr);
      }
    }
    sio__free(key);
    sio__free(val);
    it = stop + 1;
  }
  return obj;
}

/* Node joins repeated headers with ", " in IncomingMessage#headers. */
static void add_header(sio_str_t name, sio_str_t value, void *u) {
  json_t *h = u;
  char key[256];
  if (name.len >= sizeof key || !sio__utf8_valid(value.ptr, value.len)) return;
  memcpy(key, name.ptr, name.len);
  key[name.len] = '\0';
  json_t *old = json_object_get(h, key);
  if (old == NULL) {
    json_object_set_new(h, key, json_stringn(value.ptr, value.len));
    return;
  }
  sio__buf_t b = SIO__BUF_INIT;
  if (sio__buf_append(&b, json_string_value(old), json_string_length(old)) == 0 && sio__buf_append(&b, ", ", 2) == 0 &&
      sio__buf_append(&b, value.ptr, value.len) == 0) {
    json_object_set_new(h, key, json_stringn(b.base, b.len));
  }
  sio__buf_free(&b);
}

/* `new Date() + ""` for the handshake time, in UTC (the server's zone in our images). */
static int date_string(uint64_t ms, char *out, size_t size) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL) return -1;
  return strftime(out, size, "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm) > 0 ? 0 : -1;
}

/*
 * socket.handshake as socket.io builds it (lib/socket.ts buildHandshake), as JSON text
 * (returns new, free with sio__free): headers, time, address, xdomain, secure, issued,
 * url, query, auth, in that order.
 */
static char *handshake_json(sio_socket_t *s) {
  json_t *hs = json_object(), *headers = json_object();
  if (hs == NULL || headers == NULL) {
    json_decref(hs);
    json_decref(headers);
    return NULL;
  }
  sio_socket_headers(s, add_header, headers);
  char date[96];
  sio_str_t url = sio_socket_handshake_url(s);
  const char *addr = sio_socket_address(s);
  sio_str_t origin;
  json_object_set_new(hs, "headers", headers);
  if (date_string(s->issued_ms, date, sizeof date) == 0) json_object_set_new(hs, "time", json_string(date));
  put_str(hs, "address", addr, strlen(addr));
  json_object_set_new(hs, "xdomain", json_boolean(sio_socket_header(s, "origin", &origin)));
  json_object_set_new(hs, "secure", json_boolean(s->ns->io->http->tls_ctx != NULL));
  json_object_set_new(hs, "issued", json_integer((json_int_t)s->issued_ms));
  put_str(hs, "url", url.ptr, url.len);
  json_object_set_new(hs, "query", query_object(sio_socket_query(s)));
  json_object_set_new(hs, "auth", s->auth_obj ? json_incref(s->auth_obj) : json_object());
  sio__buf_t b = SIO__BUF_INIT;
  char *out = NULL;
  if (sio__json_write(&b, hs) == 0 && sio__buf_append_byte(&b, '\0') == 0) out = sio__buf_steal(&b, NULL);
  sio__buf_free(&b);
  json_decref(hs);
  return out;
}

typedef struct {
  sio_remote_socket_t *views;
  char **hs;                  /* handshake texts to free */
  const char **rooms;         /* one array for every local socket's rooms */
} local_views_t;

/* Builds views of the local sockets of q (rooms as they are now). */
static int local_views(sio_adapter_query_t *q, local_views_t *lv) {
  size_t n = q->local.n, nrooms = 0;
  for (size_t i = 0; i < n; i++) nrooms += q->local.list[i]->nrooms;
  lv->views = sio__calloc(n + q->nremote + 1, sizeof *lv->views);
  lv->hs = sio__calloc(n + 1, sizeof *lv->hs);
  lv->rooms = sio__calloc(nrooms + 1, sizeof *lv->rooms);
  if (lv->views == NULL || lv->hs == NULL || lv->rooms == NULL) return SIO_ENOMEM;
  const char **r = lv->rooms;
  for (size_t i = 0; i < n; i++) {
    sio_socket_t *s = q->local.list[i];
    if ((lv->hs[i] = handshake_json(s)) == NULL) return SIO_ENOMEM;
    for (uint32_t k = 0; k < s->nrooms; k++) r[k] = s->rooms[k].r->name;
    lv->views[i] = (sio_remote_socket_t){s->id, r, s->nrooms, sio_socket_get_data_json(s), lv->hs[i], s};
    r += s->nrooms;
  }
  if (q->nremote) memcpy(lv->views + n, q->remote, q->nremote * sizeof *q->remote);
  return 0;
}

static void local_views_free(local_views_t *lv, size_t n) {
  for (size_t i = 0; lv->hs && i < n; i++) sio__free(lv->hs[i]);
  sio__free(lv->hs);
  sio__free(lv->views);
  sio__free((void *)lv->rooms);
}

void sio_adapter_query_done(sio_adapter_query_t *q, int status) {
  switch (q->kind) {
  case SIO__Q_FETCH: {
    local_views_t lv = {NULL, NULL, NULL};
    int r = local_views(q, &lv);
    sio_fetch_all_cb cb = (sio_fetch_all_cb)q->cb;
    if (r == 0) cb(status, lv.views, q->local.n + q->nremote, q->user);
    else cb(r, NULL, 0, q->user);
    local_views_free(&lv, q->local.n);
    break;
  }
  case SIO__Q_SOCKETS:
  case SIO__Q_ROOMS:
    ((sio_names_cb)q->cb)(status, (const char *const *)q->names, q->nnames, q->user);
    break;
  case SIO__Q_COUNT: ((sio_count_cb)q->cb)(status, q->count, q->user); break;
  case SIO__Q_SERVER_SIDE: ((sio_server_side_ack_cb)q->cb)(status, q->values, q->user); break;
  }
  sio__query_abort(q);
}

int sio_ns_fetch_sockets_all(sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_fetch_all_cb cb, void *user) {
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_FETCH, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  sio__select(ns, to, NULL, collect, &q->local);
  if (q->local.err) {
    int err = q->local.err;
    sio__query_abort(q);
    return err;
  }
  if (sio__ns_remote(ns, to) && ns->adapter->fetch_sockets) {
    int r = ns->adapter->fetch_sockets(ns->adapter_self, ns, to, q);
    if (r < 0) {
      sio__query_abort(q);
      return r;
    }
    return 0;
  }
  sio_adapter_query_done(q, 0);
  return 0;
}

static void collect_id(sio_socket_t *s, void *u) { sio_adapter_query_add_name(u, s->id, SIO__SID_LEN); }

int sio_ns_all_sockets(sio_ns_t *ns, const char *const *rooms, size_t nrooms, sio_names_cb cb, void *user) {
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_SOCKETS, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  sio_broadcast_opts_t to = {rooms, nrooms, NULL, 0, 0};
  sio__select(ns, &to, NULL, collect_id, q);
  if (sio__ns_remote(ns, NULL) && ns->adapter->all_sockets) {
    int r = ns->adapter->all_sockets(ns->adapter_self, ns, rooms, nrooms, q);
    if (r < 0) {
      sio__query_abort(q);
      return r;
    }
    return 0;
  }
  sio_adapter_query_done(q, 0);
  return 0;
}
