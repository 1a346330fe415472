/*
 * Namespaces (socket.io lib/namespace.ts): registration of middlewares and handlers,
 * and the connect sequence: create the socket, run the middlewares one after the other
 * (each may answer asynchronously), then join the socket's own room, answer CONNECT
 * with {"sid"} and run the connect callbacks; or answer CONNECT_ERROR with the refusal.
 * A dynamic namespace's parent lends it its middlewares and handlers.
 *
 * Also the namespace's cluster side: the adapter slot (and the server's adapter
 * factory), serverSideEmit (namespace.ts serverSideEmit / _onServerSideEmit) and the
 * adapter-level queries allRooms and serverCount.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/recovery.h"
#include "sio/sio.h"

sio_ns_t *sio__ns_new(sio_server_t *io, const char *name, sio_ns_t *parent) {
  sio_ns_t *ns = sio__calloc(1, sizeof *ns);
  if (ns == NULL) return NULL;
  ns->name = sio__strdup(name);
  if (ns->name == NULL) {
    sio__free(ns);
    return NULL;
  }
  ns->io = io;
  ns->parent = parent;
  return ns;
}

void sio__ns_free(sio_ns_t *ns) {
  if (ns == NULL) return;
  /* Detach first: destroy finishes pending queries, whose callbacks may emit on ns; they
   * must find no adapter rather than one being freed. */
  const sio_adapter_vtable_t *vt = ns->adapter;
  ns->adapter = NULL;
  if (vt && vt->destroy) vt->destroy(ns->adapter_self);
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&ns->handlers, &it, NULL, NULL, &v)) sio__cbs_free(v);
  sio__map_free(&ns->handlers);
  it = 0;
  while (sio__map_next(&ns->ss_handlers, &it, NULL, NULL, &v)) sio__cbs_free(v);
  sio__map_free(&ns->ss_handlers);
  sio__map_free(&ns->sockets);
  sio__adapter_free_rooms(ns);
  sio__free(ns->mws);
  sio__free(ns->on_connect);
  sio__free(ns->on_disconnecting);
  sio__free(ns->on_disconnect);
  sio__free(ns->name);
  sio__free(ns);
}

static int add_fn(sio__fn_t **arr, size_t *n, void *fn, void *user) {
  sio__fn_t *p = sio__realloc(*arr, (*n + 1) * sizeof *p);
  if (p == NULL) return SIO_ENOMEM;
  *arr = p;
  p[(*n)++] = (sio__fn_t){fn, user};
  return 0;
}

int sio_ns_use(sio_ns_t *ns, sio_middleware_cb cb, void *user) { return add_fn(&ns->mws, &ns->nmws, (void *)cb, user); }
int sio_ns_on_connect(sio_ns_t *ns, sio_connect_cb cb, void *user) {
  return add_fn(&ns->on_connect, &ns->non_connect, (void *)cb, user);
}
int sio_ns_on_disconnecting(sio_ns_t *ns, sio_disconnect_cb cb, void *user) {
  return add_fn(&ns->on_disconnecting, &ns->non_disconnecting, (void *)cb, user);
}
int sio_ns_on_disconnect(sio_ns_t *ns, sio_disconnect_cb cb, void *user) {
  return add_fn(&ns->on_disconnect, &ns->non_disconnect, (void *)cb, user);
}

/* Sets the handler of event in map (one per event; a second call replaces it). */
static int set_handler(sio__map_t *map, const char *event, void (*cb)(void), void *user) {
  size_t len = strlen(event);
  sio__cb_t *h = sio__map_get(map, event, len);
  if (h) {
    h->fn = cb;
    h->user = user;
    return 0;
  }
  h = sio__calloc(1, sizeof *h);
  if (h == NULL || (h->event = sio__strdup(event)) == NULL) {
    sio__free(h);
    return SIO_ENOMEM;
  }
  h->fn = cb;
  h->user = user;
  if (sio__map_put(map, h->event, len, h) != 0) {
    sio__cbs_free(h);
    return SIO_ENOMEM;
  }
  return 0;
}

int sio_ns_on(sio_ns_t *ns, const char *event, sio_event_cb cb, void *user) {
  return set_handler(&ns->handlers, event, (void (*)(void))cb, user);
}

const sio__cb_t *sio__ns_handler(const sio_ns_t *ns, const char *event, size_t len) {
  const sio__cb_t *h = sio__map_get(&ns->handlers, event, len);
  if (h == NULL && ns->parent) h = sio__map_get(&ns->parent->handlers, event, len);
  return h;
}

const char *sio_ns_name(const sio_ns_t *ns) { return ns->name; }
size_t sio_ns_count(const sio_ns_t *ns) { return sio__map_size(&ns->sockets); }
sio_server_t *sio_ns_server(const sio_ns_t *ns) { return ns->io; }

int sio_ns_set_adapter(sio_ns_t *ns, const sio_adapter_vtable_t *vt, void *self) {
  /* A version-1 vtable ends after destroy: sio__ns_remote() keeps the version-2 hooks
   * from being read on one. */
  if (vt == NULL || vt->version < 1 || vt->version > SIO_ADAPTER_VERSION) return SIO_EINVAL;
  if (ns->adapter) return SIO_EBUSY;
  ns->adapter = vt;
  ns->adapter_self = self;
  return 0;
}

/* ---- the connect sequence ---- */

/* The middlewares that apply to ns: the parent's first, then its own. */
static size_t mw_count(const sio_ns_t *ns) { return ns->nmws + (ns->parent ? ns->parent->nmws : 0); }
static const sio__fn_t *mw_at(const sio_ns_t *ns, size_t i) {
  size_t pn = ns->parent ? ns->parent->nmws : 0;
  return i < pn ? &ns->parent->mws[i] : &ns->mws[i - pn];
}

/* Encodes a packet whose payload is data (a tree) or raw (text); either may be NULL.
 * Returns 0 and *out (new), or SIO_ENOMEM. */
static int encode_packet(sio_socket_t *s, int type, json_t *data, sio__raw_t *raw, sio__refbuf_t **out) {
  sio__packet_t p = {(uint8_t)type, s->ns->name, -1, data, NULL, 0, 0, raw};
  return sio__encode_packet(s->ns->io->opts.parser, &p, out);
}

/* The connect sequence could not answer the client (out of memory): s leaves without
 * callbacks (it never connected) and the connection closes, the only way left to tell
 * the client, which would otherwise wait for an answer that never comes. */
static void connect_failed(sio_socket_t *s) {
  sio__client_t *c = s->client;
  SIO_LOGW("socket.io: could not answer %s's CONNECT to %s (out of memory), closing its connection", s->id, s->ns->name);
  if (c) c->refs++;
  sio__socket_onclose(s, "server namespace disconnect");
  if (c) {
    sio__client_close(c, "transport error");
    sio__client_unref(c);
  }
}
static void run_connect_cbs(sio_ns_t *src, sio_socket_t *s) {
  for (size_t i = 0; i < src->non_connect && s->state == SIO__SOCK_CONNECTED; i++) {
    ((sio_connect_cb)src->on_connect[i].fn)(s, src->on_connect[i].user);
  }
}

static void accept_socket(sio_socket_t *s) {
  sio_ns_t *ns = s->ns;
  /* {"sid":"<id>"} as text: ids are base64url, nothing to escape, no JSON tree needed
   * (the answer is on the path of every new connection). Encoded and sent before the
   * socket counts as connected, so that a failure leaves no socket behind. */
  char sid[sizeof "{\"sid\":\"\"}" + SIO__SID_LEN];
  memcpy(sid, "{\"sid\":\"", 8);
  memcpy(sid + 8, s->id, SIO__SID_LEN);
  memcpy(sid + 8 + SIO__SID_LEN, "\"}", 2);
  sio__raw_t raw = {sid, 8 + SIO__SID_LEN + 2, NULL, 0, NULL};
  sio__refbuf_t *text = NULL;
  /* With recovery on, the answer is {"sid","pid"}, after any missed packets (recovery.c). */
  if (s->client == NULL || (s->rec == NULL && encode_packet(s, SIO__PKT_CONNECT, NULL, &raw, &text) != 0) ||
      sio__map_put(&ns->sockets, s->id, SIO__SID_LEN, s) != 0 || sio__adapter_join(s, s->id, SIO__SID_LEN) != 0 ||
      (s->rec ? sio__recovery_accept(s) : sio__client_send(s->client, text, NULL, 0, 0)) != 0) {
    sio__refbuf_unref(text);
    connect_failed(s); /* sio__socket_onclose undoes the map entry and the room */
    return;
  }
  sio__refbuf_unref(text);
  s->state = SIO__SOCK_CONNECTED;
  SIO__COUNT(ns->m.connects++, ns->io->m.recoveries += sio_socket_recovered(s));
  sio__tnode_disarm(&s->client->connect_to);
  SIO_LOGD("socket.io: %s connected to %s", s->id, ns->name);
  sio_socket_ref(s);
  if (ns->parent) run_connect_cbs(ns->parent, s);
  run_connect_cbs(ns, s);
  sio_socket_unref(s);
}

static void refuse_socket(sio_socket_t *s, const char *message, json_t *data) {
  json_t *err = json_pack("{s:s}", "message", message ? message : "refused");
  sio__refbuf_t *text = NULL;
  int r = err == NULL || (data && json_object_set(err, "data", data) != 0) ? SIO_ENOMEM : 0;
  if (r == 0 && s->client) r = encode_packet(s, SIO__PKT_CONNECT_ERROR, err, NULL, &text);
  if (r == 0 && s->client) r = sio__client_send(s->client, text, NULL, 0, 0);
  sio__refbuf_unref(text);
  json_decref(err);
  if (r) {
    connect_failed(s);
    return;
  }
  SIO_LOGD("socket.io: %s refused by %s: %s", s->id, s->ns->name, message);
  SIO__COUNT(s->ns->m.errors++);
  sio__socket_onclose(s, "server namespace disconnect");
}

static void run_middlewares(sio_socket_t *s, size_t from) {
  if (s->state != SIO__SOCK_CONNECTING || s->client == NULL) return;
  if (from >= mw_count(s->ns)) {
    accept_socket(s);
    return;
  }
  sio_mw_t *mw = sio__malloc(sizeof *mw);
  if (mw == NULL) {
    refuse_socket(s, "server error", NULL);
    return;
  }
  mw->s = sio_socket_ref(s);
  mw->index = from + 1;
  const sio__fn_t *f = mw_at(s->ns, from);
  ((sio_middleware_cb)f->fn)(s, mw, f->user);
}

int sio_mw_next(sio_mw_t *mw, const char *message, const char *data_json) {
  sio_socket_t *s = mw->s;
  size_t next = mw->index;
  sio__free(mw);
  int r = 0;
  if (message == NULL) {
    run_middlewares(s, next);
  } else if (s->state == SIO__SOCK_CONNECTING && s->client) {
    json_t *data = NULL;
    if (data_json) {
      data = json_loads(data_json, JSON_DECODE_ANY, NULL);
      if (data == NULL) r = SIO_EJSON;
    }
    refuse_socket(s, message, data);
    json_decref(data);
  }
  sio_socket_unref(s);
  return r;
}

void sio__ns_connect(sio_ns_t *ns, sio__client_t *c, json_t *auth) {
  sio_socket_t *s = sio__socket_new(ns, c, auth);
  if (s == NULL) {
    sio__client_close(c, "transport error");
    return;
  }
  /* namespace.ts _add: a recovered socket skips the middlewares (by default). A restore
   * through the adapter answers later (sio__ns_connect_resume). */
  int rc = ns->io->rec ? sio__recovery_restore(s, auth) : 0;
  if (rc == SIO__RESTORE_PENDING) return;
  if (rc && ns->io->opts.recovery.skip_middlewares) accept_socket(s);
  else run_middlewares(s, 0);
}

void sio__ns_connect_resume(sio_socket_t *s) {
  if (s->state != SIO__SOCK_CONNECTING || s->client == NULL) return;
  if (sio_socket_recovered(s) && s->ns->io->opts.recovery.skip_middlewares) accept_socket(s);
  else run_middlewares(s, 0);
}

/* ---- rooms, for the lobby ---- */

void sio_ns_rooms(sio_ns_t *ns, void (*cb)(sio_str_t, size_t, int, void *), void *u) {
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&ns->rooms, &it, NULL, NULL, &v)) {
    sio__room_t *r = v;
    cb((sio_str_t){r->name, r->len}, r->n, r->is_sid, u);
  }
}

size_t sio_ns_room_size(sio_ns_t *ns, const char *room) {
  sio__room_t *r = sio__adapter_room(ns, room, strlen(room));
  return r ? r->n : 0;
}

/* ---- the adapter factory ---- */

void sio__ns_added(sio_ns_t *ns) {
  sio_server_t *io = ns->io;
  if (io->nobs && !ns->is_parent) sio__observe_namespace(ns);
  if (io->adapter_factory == NULL || ns->is_parent || ns->adapter) return;
  int r = io->adapter_factory(ns, io->adapter_factory_user);
  if (r) {
    SIO_LOGW("socket.io: no adapter for namespace %s (%s): it stays local to this process (out of memory, or "
             "another adapter is already set on it)", ns->name, sio_strerror(r));
  }
}

int sio_server_set_adapter_factory(sio_server_t *io, sio_adapter_factory_cb fn, void *user) {
  io->adapter_factory = fn;
  io->adapter_factory_user = user;
  int first = 0;
  uint32_t it = 0;
  void *v;
  while (fn && sio__map_next(&io->nsps, &it, NULL, NULL, &v)) {
    sio_ns_t *ns = v;
    if (ns->adapter) continue;
    int r = fn(ns, user);
    if (r && first == 0) first = r;
  }
  return first;
}

/* ---- serverSideEmit ---- */

struct sio_server_ack_s {
  sio_adapter_reply_cb reply;
  void *user;
  uint8_t in_cb;    /* the handler is running: the dispatcher frees the ack after it */
  uint8_t retained; /* the handler keeps it past its return */
  uint8_t done;     /* answered or dropped */
};

int sio_ns_on_server_side(sio_ns_t *ns, const char *event, sio_server_side_cb cb, void *user) {
  return set_handler(&ns->ss_handlers, event, (void (*)(void))cb, user);
}

/* socket.io refuses these names: they are the namespace's own events. */
static int reserved_server_event(const char *event) {
  return strcmp(event, "connect") == 0 || strcmp(event, "connection") == 0 || strcmp(event, "new_namespace") == 0;
}

int sio_ns_server_side_emit(sio_ns_t *ns, const char *event, const sio_args_t *args) {
  if (event == NULL || reserved_server_event(event)) return SIO_EINVAL;
  if (!sio__ns_remote(ns, NULL) || ns->adapter->server_side_emit == NULL) return 0;
  int r = ns->adapter->server_side_emit(ns->adapter_self, ns, event, args, NULL);
  return r < 0 ? r : 0;
}

int sio_server_side_emit(sio_server_t *io, const char *event, const sio_args_t *args) {
  return sio_ns_server_side_emit(io->main, event, args);
}

int sio_ns_server_side_emit_with_ack(sio_ns_t *ns, const char *event, const sio_args_t *args,
                                     sio_server_side_ack_cb cb, void *user) {
  if (event == NULL || reserved_server_event(event)) return SIO_EINVAL;
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_SERVER_SIDE, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  if (sio__ns_remote(ns, NULL) && ns->adapter->server_side_emit) {
    int r = ns->adapter->server_side_emit(ns->adapter_self, ns, event, args, q);
    if (r < 0) sio__query_abort(q);
    return r < 0 ? r : 0;
  }
  /* No other node: nobody to wait for (the adapter answers [] at once too). */
  sio_adapter_query_done(q, 0);
  return 0;
}

static void server_ack_destroy(sio_server_ack_t *ack) { sio__free(ack); }

int sio_server_ack_send(sio_server_ack_t *ack, const sio_args_t *args) {
  if (ack->done) return SIO_EINVAL;
  ack->done = 1;
  sio_args_t none = {.view = 1};
  ack->reply(ack->user, args ? args : &none);
  if (!ack->in_cb) server_ack_destroy(ack);
  return 0;
}

void sio_server_ack_free(sio_server_ack_t *ack) {
  if (ack == NULL) return;
  if (!ack->done) {
    ack->done = 1;
    ack->reply(ack->user, NULL);
  }
  if (!ack->in_cb) server_ack_destroy(ack);
}

sio_server_ack_t *sio_server_ack_retain(sio_server_ack_t *ack) {
  ack->retained = 1;
  return ack;
}

int sio_adapter_server_side_dispatch(sio_ns_t *ns, const char *event, const sio_args_t *args,
                                     sio_adapter_reply_cb reply, void *user) {
  size_t len = strlen(event);
  const sio__cb_t *h = sio__map_get(&ns->ss_handlers, event, len);
  if (h == NULL && ns->parent) h = sio__map_get(&ns->parent->ss_handlers, event, len);
  if (h == NULL) {
    /* socket.io emits on the namespace's EventEmitter: with no listener nothing answers. */
    if (reply) reply(user, NULL);
    return 0;
  }
  sio_server_ack_t *ack = NULL;
  if (reply) {
    ack = sio__calloc(1, sizeof *ack);
    if (ack == NULL) return SIO_ENOMEM;
    *ack = (sio_server_ack_t){reply, user, 1, 0, 0};
  }
  ((sio_server_side_cb)h->fn)(ns, args, ack, h->user);
  if (ack) {
    /* Like a client's ack: freed after the handler unless it kept it to answer later. */
    ack->in_cb = 0;
    if (ack->done) server_ack_destroy(ack);
    else if (!ack->retained) sio_server_ack_free(ack);
  }
  return 0;
}

/* ---- allRooms, serverCount ---- */

int sio_ns_all_rooms(sio_ns_t *ns, sio_names_cb cb, void *user) {
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_ROOMS, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&ns->rooms, &it, NULL, NULL, &v)) {
    sio__room_t *r = v;
    if (sio_adapter_query_add_name(q, r->name, r->len) != 0) {
      sio__query_abort(q);
      return SIO_ENOMEM;
    }
  }
  if (sio__ns_remote(ns, NULL) && ns->adapter->all_rooms) {
    int r = ns->adapter->all_rooms(ns->adapter_self, ns, q);
    if (r < 0) sio__query_abort(q);
    return r < 0 ? r : 0;
  }
  sio_adapter_query_done(q, 0);
  return 0;
}

int sio_ns_server_count(sio_ns_t *ns, sio_count_cb cb, void *user) {
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_COUNT, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  if (sio__ns_remote(ns, NULL) && ns->adapter->server_count) {
    int r = ns->adapter->server_count(ns->adapter_self, ns, q);
    if (r < 0) sio__query_abort(q);
    return r < 0 ? r : 0;
  }
  sio_adapter_query_done(q, 0);
  return 0;
}
