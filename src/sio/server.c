/*
 * The Socket.IO server (socket.io lib/index.ts): an Engine.IO server at the Socket.IO
 * path, the namespace registry (static and dynamic), and the engine callbacks that
 * create a client per engine session.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/server.h"
#include "sio/recovery.h"
#include "sio/sio.h"

void sio_server_opts_init(sio_server_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->path = "/socket.io/";
  sio_engine_opts_init(&o->engine);
  o->connect_timeout_ms = 45000;
  /* socket.io index.ts: maxDisconnectionDuration 2 min, skipMiddlewares true. */
  o->recovery.max_disconnection_ms = 120000;
  o->recovery.skip_middlewares = 1;
  o->recovery.max_bytes = (size_t)16 << 20;
  o->recovery.max_sessions = 100000;
}

sio_http_t *sio_server_http(const sio_server_t *io) { return io->http; }

static void on_open(sio_eio_t *s, void *user) {
  sio_server_t *io = user;
  sio__client_t *c = sio__client_new(io, s);
  if (c == NULL) sio_eio_close(s);
}

static void on_message(sio_eio_t *s, int binary, char *data, size_t len, void *user) {
  (void)user;
  sio__client_t *c = sio_eio_get_data(s);
  if (c) sio__client_on_message(c, binary, data, len);
}

static void on_close(sio_eio_t *s, const char *reason, void *user) {
  sio_server_t *io = user;
  sio__client_t *c = sio_eio_get_data(s);
  if (c) sio__client_on_close(c, reason);
  for (uint8_t i = 0; i < io->nobs; i++) {
    if (io->obs[i].obs->on_session_close) io->obs[i].obs->on_session_close(io, reason, io->obs[i].user);
  }
}

/* The session moved to WebSocket: socket.conn's "upgrade", then the server observers. */
static void on_upgrade(sio_eio_t *s, void *user) {
  sio_server_t *io = user;
  sio__client_t *c = sio_eio_get_data(s);
  if (c == NULL) return;
  c->refs++; /* a listener may close the session */
  sio_conn_info_t info = {"websocket", NULL, 0, {NULL, 0}, NULL};
  sio__client_fire_conn(c, SIO_CONN_UPGRADE, &info);
  if (io->nobs && c->eio) sio__client_on_upgrade(c);
  sio__client_unref(c);
}

/* socket.conn's other events, from the engine's observer hooks. */

static void on_packet(sio_eio_t *s, const char *type, int binary, const char *data, size_t len, void *user) {
  (void)user;
  sio__client_t *c = sio_eio_get_data(s);
  sio_conn_info_t info = {NULL, type, binary, {data, len}, NULL};
  if (c && c->nsocks > 0) sio__client_fire_conn(c, SIO_CONN_PACKET, &info);
}

static void on_drain(sio_eio_t *s, void *user) {
  (void)user;
  sio__client_t *c = sio_eio_get_data(s);
  if (c) sio__client_fire_conn(c, SIO_CONN_DRAIN, &(sio_conn_info_t){NULL, NULL, 0, {NULL, 0}, NULL});
}

static const sio__eio_observer_t observer = {on_packet, on_drain};

static void server_teardown(void *arg) {
  sio_server_t *io = arg;
  sio_server_shutdown(io);
  /* Observers go first, while the namespaces they may look at still exist. */
  for (uint8_t i = 0; i < io->nobs; i++) {
    if (io->obs[i].obs->on_free) io->obs[i].obs->on_free(io, io->obs[i].user);
  }
  io->nobs = 0;
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) sio__ns_free(v);
  sio__map_free(&io->nsps);
  for (size_t i = 0; i < io->ndyn; i++) sio__ns_free(io->dyn[i].parent);
  sio__recovery_free(io);
  sio__free(io->dyn);
  sio__free(io->path);
  sio__free(io);
}

/* Runs first at sio_http_close (registered last; newest closer first): the sockets leave
 * with "server shutting down", as documented, before the engine's teardown would close
 * their sessions with "forced close". server_teardown frees io after the engine's. */
static void server_shutdown_first(void *arg) { sio_server_shutdown(arg); }

int sio_server_new(sio_http_t *http, const sio_server_opts_t *opts, sio_server_t **out) {
  if (opts && opts->parser != SIO_PARSER_DEFAULT && opts->parser != SIO_PARSER_MSGPACK) return SIO_EINVAL;
  sio_server_t *io = sio__calloc(1, sizeof *io);
  if (io == NULL) return SIO_ENOMEM;
  if (opts) io->opts = *opts;
  else sio_server_opts_init(&io->opts);
  io->http = http;
  sio__list_init(&io->bcasts);
  io->path = sio__strdup(io->opts.path ? io->opts.path : "/socket.io/");
  io->main = io->path ? sio__ns_new(io, "/", NULL) : NULL;
  if (io->main == NULL || sio__map_put(&io->nsps, io->main->name, 1, io->main) != 0) {
    sio__ns_free(io->main);
    sio__free(io->path);
    sio__free(io);
    return SIO_ENOMEM;
  }
  io->opts.path = io->path;
  sio__tlist_init(&io->connect_wait, sio__http_thub(http), io->opts.connect_timeout_ms, sio__client_connect_overdue);
  static const sio_engine_cbs_t cbs = {on_open, on_message, on_close, on_upgrade};
  /* Registered before the engine so that it runs after it: newest closer first. */
  sio__http_add_closer(http, &io->teardown_closer, server_teardown, io);
  int r = io->opts.recovery.enabled ? sio__recovery_new(io) : 0;
  if (r == 0) r = sio_engine_attach(http, io->path, &io->opts.engine, &cbs, io, &io->eng);
  if (r == 0) sio__engine_set_observer(io->eng, &observer);
  if (r == 0) sio__http_add_closer(http, &io->shutdown_closer, server_shutdown_first, io);
  if (r == 0) r = sio__post_init(io);
  if (r) {
    /* The closer stays registered and frees io when http closes. */
    return r;
  }
  *out = io;
  return 0;
}

void sio_server_shutdown(sio_server_t *io) {
  if (io->shutting_down) return;
  io->shutting_down = 1;
  /* Closing the engine sessions disconnects every socket with the engine's reason;
   * give them socket.io's reason first. */
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) {
    sio_ns_t *ns = v;
    /* One walk of the socket map, as in sio_engine_shutdown (restarting it after each
     * close was quadratic); another only if this one closed something, in case a
     * callback connected a socket and the table was resized under the walk. */
    for (int closed = 1; closed;) {
      closed = 0;
      uint32_t jt = 0;
      void *sv;
      while (sio__map_next(&ns->sockets, &jt, NULL, NULL, &sv)) {
        sio_socket_t *s = sv;
        sio__client_t *c = s->client;
        if (s->closing || c == NULL) continue; /* already leaving: it finishes on its own */
        c->refs++;
        sio__socket_onclose(s, "server shutting down");
        if (c->nsocks == 0 && c->eio) sio__client_close(c, "server shutting down");
        sio__client_unref(c);
        closed = 1;
      }
    }
  }
  if (io->eng) sio_engine_shutdown(io->eng);
  sio__bcast_ack_cancel_all(io);
}

sio_ns_t *sio_server_main(sio_server_t *io) { return io->main; }

int sio_server_of(sio_server_t *io, const char *name, sio_ns_t **out) {
  if (name == NULL || name[0] != '/') return SIO_EINVAL;
  sio_ns_t *ns = sio__map_get(&io->nsps, name, strlen(name));
  if (ns == NULL) {
    ns = sio__ns_new(io, name, NULL);
    if (ns == NULL) return SIO_ENOMEM;
    if (sio__map_put(&io->nsps, ns->name, strlen(ns->name), ns) != 0) {
      sio__ns_free(ns);
      return SIO_ENOMEM;
    }
    sio__ns_added(ns);
  }
  *out = ns;
  return 0;
}

int sio_server_of_dynamic(sio_server_t *io, sio_ns_match_cb match, void *user, sio_ns_t **out_parent) {
  sio__dyn_t *d = sio__realloc(io->dyn, (io->ndyn + 1) * sizeof *d);
  if (d == NULL) return SIO_ENOMEM;
  io->dyn = d;
  sio_ns_t *parent = sio__ns_new(io, "/_dynamic", NULL);
  if (parent == NULL) return SIO_ENOMEM;
  parent->is_parent = 1;
  io->dyn[io->ndyn++] = (sio__dyn_t){match, user, parent};
  *out_parent = parent;
  return 0;
}

int sio_server_emit(sio_server_t *io, const char *event, const sio_args_t *args) {
  sio_broadcast_opts_t all = SIO_BROADCAST_ALL;
  return sio_ns_emit(io->main, &all, event, args);
}
