/*
 * echo: the example server the integration suites and benchmarks run against.
 *
 *   /engine.io/  a raw Engine.IO server that echoes every message (text or binary)
 *                back to its session.
 *   /socket.io/  Socket.IO on "/" and "/custom": at connection each socket gets `auth`
 *                with its CONNECT payload; on "/", `message(...)` is answered with
 *                `message-back(...)`, `message-with-ack(...)` is acked with the same
 *                arguments, and the bench contract: `join(room)` acks true,
 *                `bcast({room, ...})` re-emits `bcast` to the room but the sender,
 *                `echo(x)` acks x, `dm({to, ...})` emits `dm` with that object to the
 *                socket whose id is `to` (a plain socket emit); `recovered()` acks
 *                whether the socket was recovered. Other namespaces are refused
 *                ("Invalid namespace").
 *
 * Usage: echo [--port P] [--host H] [--ping-interval MS] [--ping-timeout MS]
 *             [--max-payload BYTES] [--upgrade-timeout MS] [--connect-timeout MS] [--header-timeout MS]
 *             [--idle-timeout MS] [--recovery-ms MS] [--log-level L]
 * Prints "listening on http://HOST:PORT" on stdout once ready; SIGINT/SIGTERM stop it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sio.h"

static sio_http_t *http;
static uv_signal_t sigint, sigterm;

static void echo_message(sio_eio_t *s, int binary, char *data, size_t len, void *user) {
  (void)user;
  sio_eio_send(s, binary, data, len);
}

/* ---- Socket.IO handlers ---- */

static void send_auth(sio_socket_t *s, void *user) {
  (void)user;
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  const char *auth = sio_socket_auth(s);
  if (sio_args_add_json(a, auth, strlen(auth)) == 0) sio_socket_emit(s, "auth", a);
  sio_args_free(a);
}

static void on_message(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)ack, (void)user;
  sio_socket_emit(s, "message-back", args);
}

/* Acks with the arguments it got: message-with-ack(...) and echo(x). */
static void on_ack_back(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)s, (void)user;
  if (ack) sio_ack_send(ack, args);
}

static void on_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)user;
  sio_str_t room;
  char name[256];
  int ok = sio_args_get_str(args, 0, &room) == 0 && room.len < sizeof name;
  if (ok) {
    memcpy(name, room.ptr, room.len);
    name[room.len] = '\0';
    ok = sio_socket_join(s, name) == 0;
  }
  if (ack) {
    sio_args_t *a;
    if (sio_args_new(&a) == 0) {
      sio_args_add_bool(a, ok);
      sio_ack_send(ack, a);
      sio_args_free(a);
    }
  }
}

static void on_bcast(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)ack, (void)user;
  sio_str_t room;
  char name[256];
  if (sio_args_get_member_str(args, 0, "room", &room) != 0 || room.len >= sizeof name) return;
  memcpy(name, room.ptr, room.len);
  name[room.len] = '\0';
  const char *rooms[] = {name};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_args_t *a;
  if (sio_args_copy(args, 0, 1, &a) != 0) return;
  sio_socket_broadcast(s, &to, "bcast", a);
  sio_args_free(a);
}

/* dm({to, ...}): socket.emit on the addressee, the path connection-state recovery stores
 * through the socket's own room. */
static void emit_dm(int status, sio_socket_t *const *sockets, size_t n, void *user) {
  for (size_t i = 0; status == 0 && i < n; i++) sio_socket_emit(sockets[i], "dm", user);
}

static void on_dm(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)ack, (void)user;
  sio_str_t to;
  char id[64];
  if (sio_args_get_member_str(args, 0, "to", &to) != 0 || to.len >= sizeof id) return;
  memcpy(id, to.ptr, to.len);
  id[to.len] = '\0';
  const char *rooms[] = {id};
  sio_broadcast_opts_t sel = {rooms, 1, NULL, 0, SIO_BCAST_LOCAL};
  sio_args_t *a;
  if (sio_args_copy(args, 0, 1, &a) != 0) return;
  sio_ns_fetch_sockets(sio_socket_ns(s), &sel, emit_dm, a);
  sio_args_free(a);
}

static void on_recovered(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)args, (void)user;
  sio_args_t *a;
  if (ack == NULL || sio_args_new(&a) != 0) return;
  sio_args_add_bool(a, sio_socket_recovered(s));
  sio_ack_send(ack, a);
  sio_args_free(a);
}

static void on_closed(void *user) { (void)user; }

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  uv_close((uv_handle_t *)&sigint, NULL);
  uv_close((uv_handle_t *)&sigterm, NULL);
  sio_http_close(http, on_closed, NULL);
  (void)h;
}

static void usage(void) {
  printf("usage: echo [options]\n"
         "  --host H              address to bind (default 127.0.0.1)\n"
         "  --port P              port, 0 picks a free one (default 3000)\n"
         "  --ping-interval MS    Engine.IO pingInterval (default 25000)\n"
         "  --ping-timeout MS     Engine.IO pingTimeout (default 20000)\n"
         "  --max-payload BYTES   Engine.IO maxHttpBufferSize (default 1000000)\n"
         "  --upgrade-timeout MS  Engine.IO upgradeTimeout (default 10000)\n"
         "  --connect-timeout MS  Socket.IO connectTimeout (default 45000)\n"
         "  --header-timeout MS   HTTP request timeout (default 10000)\n"
         "  --idle-timeout MS     HTTP keep-alive idle timeout (default 5000)\n"
         "  --recovery-ms MS      connection-state recovery window, 0 = off (default 0)\n"
         "  --log-level L         none|error|warn|info|debug (default warn)\n");
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 3000;
  sio_http_opts_t hopts;
  sio_engine_opts_t eopts;
  sio_server_opts_t sopts;
  sio_server_opts_init(&sopts);
  sio_http_opts_init(&hopts);
  sio_engine_opts_init(&eopts);
  eopts.cors_origins = "*";
  sio_log_set_level(SIO_LOG_WARN);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 0;
    }
    if (v == NULL) {
      fprintf(stderr, "echo: %s needs a value (see --help)\n", a);
      return 2;
    }
    i++;
    if (strcmp(a, "--host") == 0) host = v;
    else if (strcmp(a, "--port") == 0) port = atoi(v);
    else if (strcmp(a, "--ping-interval") == 0) eopts.ping_interval_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--ping-timeout") == 0) eopts.ping_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--max-payload") == 0) eopts.max_http_buffer_size = strtoull(v, NULL, 10);
    else if (strcmp(a, "--upgrade-timeout") == 0) eopts.upgrade_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--connect-timeout") == 0) sopts.connect_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--header-timeout") == 0) hopts.request_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--idle-timeout") == 0) hopts.idle_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--recovery-ms") == 0) {
      sopts.recovery.max_disconnection_ms = strtoull(v, NULL, 10);
      sopts.recovery.enabled = sopts.recovery.max_disconnection_ms > 0;
    }
    else if (strcmp(a, "--log-level") == 0) {
      sio_log_level_t l;
      if (sio_log_level_parse(v, &l) != 0) {
        fprintf(stderr, "echo: bad --log-level %s\n", v);
        return 2;
      }
      sio_log_set_level(l);
    } else {
      fprintf(stderr, "echo: unknown option %s (see --help)\n", a);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t *loop = uv_default_loop();
  if (sio_http_new(loop, &hopts, &http) != 0) return 1;
  sio_engine_t *eng;
  static const sio_engine_cbs_t cbs = {NULL, echo_message, NULL};
  if (sio_engine_attach(http, "/engine.io/", &eopts, &cbs, NULL, &eng) != 0) return 1;
  sopts.engine = eopts;
  sio_server_t *io;
  sio_ns_t *custom;
  if (sio_server_new(http, &sopts, &io) != 0 || sio_server_of(io, "/custom", &custom) != 0) return 1;
  sio_ns_t *main_ns = sio_server_main(io);
  sio_ns_on_connect(main_ns, send_auth, NULL);
  sio_ns_on_connect(custom, send_auth, NULL);
  sio_ns_on(main_ns, "message", on_message, NULL);
  sio_ns_on(main_ns, "message-with-ack", on_ack_back, NULL);
  sio_ns_on(main_ns, "echo", on_ack_back, NULL);
  sio_ns_on(main_ns, "join", on_join, NULL);
  sio_ns_on(main_ns, "bcast", on_bcast, NULL);
  sio_ns_on(main_ns, "dm", on_dm, NULL);
  sio_ns_on(main_ns, "recovered", on_recovered, NULL);
  int r = sio_http_listen(http, host, port);
  if (r != 0) {
    fprintf(stderr, "echo: cannot listen on %s:%d: %s\n", host, port, sio_strerror(r));
    return 1;
  }
  printf("listening on http://%s:%d\n", host, sio_http_port(http));
  fflush(stdout);
  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
