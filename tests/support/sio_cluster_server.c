/*
 * sio_cluster_server: one node of a cluster for the suites in tests/cluster/. It puts
 * every namespace on the Redis adapter (sio/redis.h) and lets clients drive the
 * cross-node API through commands (client events that ack their result). The Node
 * reference, tests/support/ref-redis-node.mjs, implements the same contract on npm
 * socket.io 4.8 + @socket.io/redis-adapter 8, so a suite can run a mixed fleet.
 *
 * Usage: sio_cluster_server --redis URL|none [--port P] [--name NAME] [--prefix P]
 *                           [--requests-timeout MS] [--streams 1] [--recovery-ms MS]
 * (--streams 1: the Redis Streams adapter, prefix = its channel prefix, stream
 * "socket.io"; --recovery-ms: connection-state recovery with that window.)
 * ("none": no adapter at all, the single-process baseline of bench/redis_fanout.mjs.)
 * Binds 127.0.0.1, prints "listening on http://127.0.0.1:PORT" (flushed) once ready,
 * logs to stderr at info level (the adapter's "connected" / "reconnected" lines), stops
 * on SIGTERM / SIGINT.
 *
 * Namespaces "/" and "/other". Socket data is {"node": NAME, "user": auth.user or null}.
 * Selections are {in?, except?} (a room name or an array). Commands (docs/redis.md):
 *   whoami                       -> {id, node, rooms}
 *   join / leave  room|[rooms]   -> rooms
 *   emit {event, args?, to?, except?, volatile?, broadcast?} -> true (after queueing)
 *   emit-ack {event, args?, to?, except?, timeout} -> {err: null|"timeout", responses}
 *                                   (the first ack argument of each client)
 *   fetch {in?, except?}         -> [{id, rooms, data, handshake, local}]
 *   sockets-join / sockets-leave {in?, except?, room} -> true
 *   disconnect-sockets {in?, except?, close?} -> true (acked before acting)
 *   server-emit {event, args?}   -> true
 *   server-emit-ack {event, args?} -> {err: null|"timeout"|"closed", responses}
 *   all-rooms -> [names]; all-sockets {in?} -> [ids]; server-count -> n
 * Server-side handlers: "hello" (emits hello-from-server(NAME, ...args) to this node's
 * sockets), "whoareyou" (answers NAME), "mute" (never answers).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sio.h"
#include "sio/redis.h"

#define CMD_PROGRAM "sio_cluster_server"
#include "cmd_args.h"

static sio_http_t *http;
static uv_signal_t sigint_h, sigterm_h;
static const char *node_name = "c";

/* A duration member in ms, or def when absent or not positive. */
static uint64_t member_ms(const sio_args_t *args, const char *key, uint64_t def) {
  sio_args_t *m = member(args, key);
  double d;
  uint64_t v = sio_args_get_double(m, 0, &d) == 0 && d > 0 ? (uint64_t)d : def;
  sio_args_free(m);
  return v;
}

static const char *status_text(int status) {
  if (status == 0) return NULL;
  if (status == SIO_ETIMEDOUT) return "timeout";
  if (status == SIO_ECLOSED) return "closed";
  return sio_err_name(status);
}

/* Acks {err, <key>: items}; frees items. */
static void reply_outcome(sio_ack_t *ack, int status, const char *key, sio_args_t *items) {
  const char *keys[] = {"err", key};
  sio_args_t *v = args_new(), *o = args_new();
  if (status_text(status)) sio_args_add_cstr(v, status_text(status));
  else sio_args_add_null(v);
  add_array(v, items);
  add_object(o, keys, v);
  reply(ack, o);
}

/* ---- commands ---- */

static void cmd_whoami(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  static const char *const keys[] = {"id", "node", "rooms"};
  sio_args_t *v = args_new(), *rooms = args_new(), *o = args_new();
  sio_args_add_cstr(v, sio_socket_id(s));
  sio_args_add_cstr(v, node_name);
  sio_socket_rooms(s, add_room, rooms);
  add_array(v, rooms);
  add_object(o, keys, v);
  reply(ack, o);
}

static void reply_rooms(sio_ack_t *ack, sio_socket_t *s) {
  sio_args_t *rooms = args_new(), *v = args_new();
  sio_socket_rooms(s, add_room, rooms);
  add_array(v, rooms);
  reply(ack, v);
}

static void cmd_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  names_t n;
  names_read(args, 0, &n);
  for (size_t i = 0; i < n.n; i++) sio_socket_join(s, n.v[i]);
  names_free(&n);
  reply_rooms(ack, s);
}

static void cmd_leave(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  names_t n;
  names_read(args, 0, &n);
  for (size_t i = 0; i < n.n; i++) sio_socket_leave(s, n.v[i]);
  names_free(&n);
  reply_rooms(ack, s);
}

static void cmd_emit(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  selection_t sel;
  selection_read(args, "to", &sel);
  if (member_true(args, "volatile")) sel.opts.flags |= SIO_BCAST_VOLATILE;
  if (event && member_true(args, "broadcast")) sio_socket_broadcast(s, &sel.opts, event, list);
  else if (event) sio_ns_emit(sio_socket_ns(s), &sel.opts, event, list);
  selection_free(&sel);
  sio_args_free(list);
  free(event);
  reply_true(ack);
}

static void emit_ack_done(int status, const sio_args_t *const *responses, size_t n, void *user) {
  sio_args_t *firsts = args_new();
  for (size_t i = 0; i < n; i++) {
    if (sio_args_count(responses[i]) == 0) sio_args_add_null(firsts);
    else sio_args_add_arg(firsts, responses[i], 0);
  }
  reply_outcome(user, status, "responses", firsts);
}

static void cmd_emit_ack(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  selection_t sel;
  selection_read(args, "to", &sel);
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  int r = event ? sio_ns_emit_with_ack(sio_socket_ns(s), &sel.opts, event, list, member_ms(args, "timeout", 2000),
                                       emit_ack_done, keep)
                : SIO_EINVAL;
  if (r < 0) reply_outcome(keep, r, "responses", args_new());
  selection_free(&sel);
  sio_args_free(list);
  free(event);
}

static void fetched(int status, const sio_remote_socket_t *sockets, size_t n, void *user) {
  static const char *const keys[] = {"id", "rooms", "data", "handshake", "local"};
  sio_args_t *list = args_new();
  for (size_t i = 0; i < n; i++) {
    sio_args_t *v = args_new(), *rooms = args_new();
    sio_args_add_cstr(v, sockets[i].id);
    for (size_t k = 0; k < sockets[i].nrooms; k++) sio_args_add_cstr(rooms, sockets[i].rooms[k]);
    add_array(v, rooms);
    add_json_text(v, sockets[i].data_json);
    add_json_text(v, sockets[i].handshake_json);
    sio_args_add_bool(v, sockets[i].local != NULL);
    add_object(list, keys, v);
  }
  reply_outcome(user, status, "sockets", list);
}

static void cmd_fetch(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  selection_t sel;
  selection_read(args, "in", &sel);
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  int r = sio_ns_fetch_sockets_all(sio_socket_ns(s), &sel.opts, fetched, keep);
  if (r < 0) reply_outcome(keep, r, "sockets", args_new());
  selection_free(&sel);
}

static void sockets_rooms(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, int join) {
  selection_t sel;
  selection_read(args, "in", &sel);
  char *room = member_cstr(args, "room");
  if (room && join) sio_ns_sockets_join(sio_socket_ns(s), &sel.opts, room);
  else if (room) sio_ns_sockets_leave(sio_socket_ns(s), &sel.opts, room);
  free(room);
  selection_free(&sel);
  reply_true(ack);
}

static void cmd_sockets_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  sockets_rooms(s, args, ack, 1);
}

static void cmd_sockets_leave(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  sockets_rooms(s, args, ack, 0);
}

static void cmd_disconnect_sockets(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  selection_t sel;
  selection_read(args, "in", &sel);
  int close = member_true(args, "close");
  sio_ns_t *ns = sio_socket_ns(s);
  reply_true(ack);
  sio_ns_disconnect_sockets(ns, &sel.opts, close);
  selection_free(&sel);
}

static void cmd_server_emit(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  if (event) sio_ns_server_side_emit(sio_socket_ns(s), event, list);
  sio_args_free(list);
  free(event);
  reply_true(ack);
}

static void server_emit_done(int status, const sio_args_t *responses, void *user) {
  sio_args_t *copy;
  if (sio_args_copy(responses, 0, (size_t)-1, &copy) != 0) copy = args_new();
  reply_outcome(user, status, "responses", copy);
}

static void cmd_server_emit_ack(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  int r = event ? sio_ns_server_side_emit_with_ack(sio_socket_ns(s), event, list, server_emit_done, keep) : SIO_EINVAL;
  if (r < 0) reply_outcome(keep, r, "responses", args_new());
  sio_args_free(list);
  free(event);
}

static void names_done(int status, const char *const *names, size_t n, void *user) {
  sio_args_t *list = args_new();
  for (size_t i = 0; i < n; i++) sio_args_add_cstr(list, names[i]);
  reply_outcome(user, status, "names", list);
}

static void cmd_all_rooms(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  int r = sio_ns_all_rooms(sio_socket_ns(s), names_done, keep);
  if (r < 0) reply_outcome(keep, r, "names", args_new());
}

static void cmd_all_sockets(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  names_t in;
  names_member(args, "in", &in);
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  int r = sio_ns_all_sockets(sio_socket_ns(s), (const char *const *)in.v, in.n, names_done, keep);
  if (r < 0) reply_outcome(keep, r, "names", args_new());
  names_free(&in);
}

static void count_done(int status, size_t count, void *user) {
  sio_args_t *v = args_new();
  sio_args_add_int(v, (int64_t)count);
  reply(user, v);
}

static void cmd_server_count(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  if (sio_ns_server_count(sio_socket_ns(s), count_done, keep) < 0) sio_ack_free(keep);
}

static const struct {
  const char *event;
  sio_event_cb cb;
} commands[] = {
    {"whoami", cmd_whoami},
    {"join", cmd_join},
    {"leave", cmd_leave},
    {"emit", cmd_emit},
    {"emit-ack", cmd_emit_ack},
    {"fetch", cmd_fetch},
    {"sockets-join", cmd_sockets_join},
    {"sockets-leave", cmd_sockets_leave},
    {"disconnect-sockets", cmd_disconnect_sockets},
    {"server-emit", cmd_server_emit},
    {"server-emit-ack", cmd_server_emit_ack},
    {"all-rooms", cmd_all_rooms},
    {"all-sockets", cmd_all_sockets},
    {"server-count", cmd_server_count},
};

/* ---- server-side events from other nodes ---- */

static void on_hello(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *u) {
  sio_args_t *out = args_new();
  sio_args_add_cstr(out, node_name);
  for (size_t i = 0; i < sio_args_count(args); i++) sio_args_add_arg(out, args, i);
  sio_broadcast_opts_t local = {NULL, 0, NULL, 0, SIO_BCAST_LOCAL};
  sio_ns_emit(ns, &local, "hello-from-server", out);
  sio_args_free(out);
  if (ack) sio_server_ack_send(ack, NULL);
}

static void on_whoareyou(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *u) {
  sio_args_t *v = args_new();
  sio_args_add_cstr(v, node_name);
  if (ack) sio_server_ack_send(ack, v);
  sio_args_free(v);
}

static void on_mute(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *u) {
  /* Never answers: the requester times out. */
}

/* ---- namespaces ---- */

static void on_connection(sio_socket_t *s, void *u) {
  static const char *const keys[] = {"node", "user"};
  sio_args_t *v = args_new(), *data = args_new();
  sio_str_t user;
  sio_args_add_cstr(v, node_name);
  if (sio_socket_get_auth_str(s, "user", &user) != 0 || sio_args_add_str(v, user.ptr, user.len) != 0) sio_args_add_null(v);
  add_object(data, keys, v);
  char *json;
  if (sio_args_to_json(data, 0, &json, NULL) == 0) {
    sio_socket_set_data_json(s, json);
    sio_free(json);
  }
  sio_args_free(data);
}

static int setup_namespace(sio_ns_t *ns) {
  int r = sio_ns_on_connect(ns, on_connection, NULL);
  for (size_t i = 0; r == 0 && i < sizeof commands / sizeof commands[0]; i++)
    r = sio_ns_on(ns, commands[i].event, commands[i].cb, NULL);
  if (r == 0) r = sio_ns_on_server_side(ns, "hello", on_hello, NULL);
  if (r == 0) r = sio_ns_on_server_side(ns, "whoareyou", on_whoareyou, NULL);
  if (r == 0) r = sio_ns_on_server_side(ns, "mute", on_mute, NULL);
  return r;
}

static void on_signal(uv_signal_t *h, int sig) {
  uv_close((uv_handle_t *)&sigint_h, NULL);
  uv_close((uv_handle_t *)&sigterm_h, NULL);
  sio_http_close(http, NULL, NULL);
}

/* The classic adapter, or the streams one with the same URL, prefix and timeout. */
static int attach(sio_server_t *io, const sio_redis_opts_t *ro, int streams) {
  if (!streams) return sio_redis_attach(io, ro, NULL);
  sio_redis_streams_opts_t xo;
  sio_redis_streams_opts_init(&xo);
  xo.url = ro->url;
  xo.channel_prefix = ro->prefix;
  xo.requests_timeout_ms = ro->requests_timeout_ms;
  return sio_redis_streams_attach(io, &xo, NULL);
}

int main(int argc, char **argv) {
  int port = 0;
  sio_redis_opts_t ro;
  sio_redis_opts_init(&ro);
  ro.url = NULL;
  int streams = 0;
  sio_server_opts_t so;
  sio_server_opts_init(&so);
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *f = argv[i], *v = argv[i + 1];
    if (strcmp(f, "--port") == 0) port = atoi(v);
    else if (strcmp(f, "--redis") == 0) ro.url = v;
    else if (strcmp(f, "--name") == 0) node_name = v;
    else if (strcmp(f, "--prefix") == 0) ro.prefix = v;
    else if (strcmp(f, "--requests-timeout") == 0) ro.requests_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(f, "--streams") == 0) streams = atoi(v);
    else if (strcmp(f, "--recovery-ms") == 0) {
      so.recovery.max_disconnection_ms = strtoull(v, NULL, 10);
      so.recovery.enabled = so.recovery.max_disconnection_ms > 0;
    } else {
      fprintf(stderr, "sio_cluster_server: unknown flag %s (--port --redis --name --prefix --requests-timeout)\n", f);
      return 2;
    }
  }
  if (ro.url == NULL) {
    fprintf(stderr, "sio_cluster_server: --redis URL is required (\"none\": no adapter, for a baseline)\n");
    return 2;
  }
  int with_redis = strcmp(ro.url, "none") != 0;
  signal(SIGPIPE, SIG_IGN);
  sio_log_set_level(SIO_LOG_INFO);
  uv_loop_t *loop = uv_default_loop();
  sio_server_t *io;
  sio_ns_t *other;
  int r;
  if ((r = sio_http_new(loop, NULL, &http)) != 0 || (r = sio_server_new(http, &so, &io)) != 0 ||
      (r = sio_server_of(io, "/other", &other)) != 0 || (r = setup_namespace(sio_server_main(io))) != 0 ||
      (r = setup_namespace(other)) != 0 || (with_redis && (r = attach(io, &ro, streams)) != 0) ||
      (r = sio_http_listen(http, "127.0.0.1", port)) != 0) {
    fprintf(stderr, "sio_cluster_server: cannot start: %s\n", sio_strerror(r));
    return 1;
  }
  printf("listening on http://127.0.0.1:%d\n", sio_http_port(http));
  fflush(stdout);
  uv_signal_init(loop, &sigint_h);
  uv_signal_init(loop, &sigterm_h);
  uv_signal_start(&sigint_h, on_signal, SIGINT);
  uv_signal_start(&sigterm_h, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
