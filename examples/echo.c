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
 *                ("Invalid namespace"). With --socket-use MS every "/" socket gets a
 *                per-packet middleware (socket.use): `forbidden` is refused with
 *                "forbidden event", `rewrite-me(...)` becomes
 *                `message-with-ack("rewritten", ...)`, `slow(...)` waits MS ms and then
 *                becomes `message-with-ack(...)`; its error listener emits
 *                `server-error(message)` back to the client. `message-nocompress(...)`
 *                answers `message-back(...)` with compress(false) (SIO_BCAST_NO_COMPRESS).
 *   /ws          a plain WebSocket (sio_http_upgrade) echoing every message, with the
 *                same size limit (--max-payload) and permessage-deflate settings.
 *
 * Usage: echo [--port P] [--host H] [--ping-interval MS] [--ping-timeout MS]
 *             [--max-payload BYTES] [--upgrade-timeout MS] [--connect-timeout MS] [--header-timeout MS]
 *             [--idle-timeout MS] [--recovery-ms MS] [--recovery-max-bytes N] [--socket-use MS] [--log-level L] [--allow-request deny-param]
 *             [--test-headers] [--log-connection-errors] [--cookie NAME] [--cookie-max-age S]
 *             [--cors-origin O] [--cors-credentials] [--cors-methods M] [--cors-allowed-headers H]
 *             [--cors-exposed-headers H] [--cors-max-age S] [--cors-off]
 *             [--http-compression BYTES|off] [--per-message-deflate] [--deflate-threshold BYTES]
 *             [--deflate-server-no-takeover] [--deflate-client-no-takeover]
 *             [--deflate-server-window-bits N] [--deflate-client-window-bits N]
 *             [--parser default|msgpack]
 *             [--redis URL | --redis-streams URL [--redis-stream NAME] [--redis-maxlen N]]
 * Prints "listening on http://HOST:PORT" on stdout once ready; SIGINT/SIGTERM stop it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sio.h"
#include "sio/metrics.h"
#include "sio/easy.h"
#ifdef EXAMPLE_WITH_REDIS
#include "sio/redis.h"
#endif

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

/* message-nocompress(...): message-back(...) to this socket alone, compress(false). */
static void on_nocompress(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)ack, (void)user;
  const char *rooms[] = {sio_socket_id(s)};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, SIO_BCAST_LOCAL | SIO_BCAST_NO_COMPRESS};
  sio_ns_emit(sio_socket_ns(s), &to, "message-back", args);
}

/* ---- /ws: a plain WebSocket echo ---- */

static size_t ws_max_message = 1000000;

static void ws_echo(sio_ws_t *ws, int binary, const char *data, size_t len, void *user) {
  (void)user;
  sio_ws_send(ws, binary, data, len);
}

static void ws_upgrade(sio_http_req_t *req, void *user) {
  static const sio_ws_cbs_t cbs = {ws_echo, NULL};
  sio_ws_t *ws;
  (void)user;
  sio_http_upgrade(req, &cbs, NULL, ws_max_message, &ws);
}

/* ---- --socket-use MS: a per-packet middleware on every "/" socket ---- */

static uint64_t socket_use_ms;

typedef struct {
  uv_timer_t timer;
  sio_event_mw_t *mw;
} slow_wait_t;

static void slow_closed(uv_handle_t *h) { free(h->data); }

/* The client may have left meanwhile: then sio_event_mw_next only frees the event. */
static void slow_due(uv_timer_t *t) {
  slow_wait_t *w = t->data;
  sio_event_mw_rewrite(w->mw, "message-with-ack", NULL);
  sio_event_mw_next(w->mw, NULL);
  uv_close((uv_handle_t *)t, slow_closed);
}

static void packet_policy(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw,
                          void *user) {
  (void)s, (void)user;
  if (strcmp(event, "forbidden") == 0) {
    sio_event_mw_next(mw, "forbidden event");
    return;
  }
  if (strcmp(event, "rewrite-me") == 0) {
    /* ["rewritten", ...args]: the JS middleware's packet.splice(1, 0, "rewritten"). */
    sio_args_t *a;
    if (sio_args_new(&a) == 0) {
      int r = sio_args_add_cstr(a, "rewritten");
      for (size_t i = 0; r == 0 && i < sio_args_count(args); i++) r = sio_args_add_arg(a, args, i);
      if (r == 0) sio_event_mw_rewrite(mw, "message-with-ack", a);
      sio_args_free(a);
    }
  } else if (strcmp(event, "slow") == 0) {
    slow_wait_t *w = malloc(sizeof *w);
    if (w != NULL) {
      w->mw = mw;
      uv_timer_init(uv_default_loop(), &w->timer);
      w->timer.data = w;
      uv_timer_start(&w->timer, slow_due, socket_use_ms, 0);
      return;
    }
  }
  sio_event_mw_next(mw, NULL);
}

static void report_error(sio_socket_t *s, const char *message, void *user) {
  (void)user;
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  if (sio_args_add_cstr(a, message) == 0) sio_socket_emit(s, "server-error", a);
  sio_args_free(a);
}

static void install_socket_use(sio_socket_t *s, void *user) {
  (void)user;
  sio_socket_use(s, packet_policy, NULL);
  sio_socket_on_error(s, report_error, NULL);
}

/* ---- "/custom": a namespace middleware refusing auth {refuse: MSG} with MSG ---- */

static void refuse_mw(sio_socket_t *s, sio_mw_t *mw, void *user) {
  (void)user;
  sio_str_t msg;
  if (sio_socket_get_auth_str(s, "refuse", &msg) != 0) {
    sio_mw_next(mw, NULL, NULL);
    return;
  }
  char text[256];
  snprintf(text, sizeof text, "%.*s", (int)msg.len, msg.ptr);
  sio_mw_next(mw, text, "{\"reason\":\"refused by middleware\"}");
}

/* ---- engine hooks (the integration suites' switches) ---- */

/* --allow-request deny-param: a handshake whose query has deny=MSG is refused with MSG,
 * 20 ms later (allow_request answers asynchronously); any other is accepted then. */
typedef struct {
  uv_timer_t timer;
  sio_engine_verdict_t *v;
} verdict_wait_t;

static void verdict_closed(uv_handle_t *h) { free(h->data); }

static void verdict_due(uv_timer_t *t) {
  verdict_wait_t *w = t->data;
  sio_http_req_t *req = sio_engine_verdict_req(w->v);
  char msg[128] = "";
  sio_str_t deny;
  int refuse = req && sio_http_req_get_param(req, "deny", &deny) == 0;
  if (refuse) {
    /* Plain letters and '+' for spaces are enough for the tests. */
    size_t n = deny.len < sizeof msg - 1 ? deny.len : sizeof msg - 1;
    for (size_t i = 0; i < n; i++) msg[i] = deny.ptr[i] == '+' ? ' ' : deny.ptr[i];
    msg[n] = '\0';
  }
  sio_engine_allow(w->v, !refuse, refuse ? msg : NULL);
  uv_close((uv_handle_t *)t, verdict_closed);
}

static void allow_request(sio_http_req_t *req, sio_engine_verdict_t *v, void *user) {
  (void)req, (void)user;
  verdict_wait_t *w = malloc(sizeof *w);
  if (w == NULL) {
    sio_engine_allow(v, 0, "out of memory");
    return;
  }
  w->v = v;
  uv_timer_init(uv_default_loop(), &w->timer);
  w->timer.data = w;
  uv_timer_start(&w->timer, verdict_due, 20, 0);
}

/* --test-headers: a cookie on the handshake response, a marker on every response. */
static void initial_headers(sio_eio_headers_t *h, const sio_http_req_t *req, void *user) {
  (void)req, (void)user;
  sio_eio_headers_add(h, "Set-Cookie", "mycookie=1234");
}

static void every_headers(sio_eio_headers_t *h, const sio_http_req_t *req, void *user) {
  (void)req, (void)user;
  sio_eio_headers_add(h, "X-Noom", "yes");
}

/* --log-connection-errors: one stderr line per refused request. */
static void connection_error(const sio_http_req_t *req, const sio_engine_error_t *err, void *user) {
  (void)req, (void)user;
  fprintf(stderr, "connection_error code=%d message=\"%s\" context=\"%s\"\n", err->code, err->message,
          err->context ? err->context : "");
}

/* --cors-origin suffix:S: an origin callback allowing origins that end with S. */
static const char *cors_suffix;
static int origin_has_suffix(const sio_http_req_t *req, sio_str_t origin, void *user) {
  (void)req, (void)user;
  size_t n = strlen(cors_suffix);
  return origin.ptr && origin.len >= n && memcmp(origin.ptr + origin.len - n, cors_suffix, n) == 0;
}

/* --cors-origin: "*", "true" (reflect any), "suffix:S", or a comma-separated list. */
static const char *cors_list[16];
static void set_cors_origin(sio_engine_cors_t *c, char *v) {
  c->enabled = 1;
  if (strcmp(v, "true") == 0) c->origin_cb = sio_engine_cors_any;
  else if (strncmp(v, "suffix:", 7) == 0) {
    cors_suffix = v + 7;
    c->origin_cb = origin_has_suffix;
  } else if (strchr(v, ',') || strncmp(v, "list:", 5) == 0) {
    if (strncmp(v, "list:", 5) == 0) v += 5;
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(v, ",", &save); t && n < 16; t = strtok_r(NULL, ",", &save)) cors_list[n++] = t;
    c->origins = cors_list;
    c->norigins = n;
  } else c->origin = v;
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
         "  --recovery-max-bytes N  bytes of sent packets kept for recovery (default 16 MiB)\n"
         "  --redis URL           share rooms through Redis pub/sub (@socket.io/redis-adapter)\n"
         "  --redis-streams URL   share rooms through a Redis stream (@socket.io/redis-streams-adapter);\n"
         "                        with --recovery-ms, sessions survive a reconnect to another node\n"
         "  --redis-stream NAME   the stream of --redis-streams (default socket.io)\n"
         "  --redis-maxlen N      XADD MAXLEN ~ N of --redis-streams (default 10000)\n"
         "  --socket-use MS       a socket.use middleware on \"/\": refuses forbidden, rewrites\n"
         "                        rewrite-me, delays slow by MS ms (0 = off, the default)\n"
         "  --log-level L         none|error|warn|info|debug (default warn)\n"
         "  --parser P            default (text packets) or msgpack (socket.io-msgpack-parser)\n"
         "  --allow-request deny-param  refuse handshakes with ?deny=MSG (MSG), 20 ms later\n"
         "  --test-headers        Set-Cookie mycookie=1234 on handshakes, X-Noom: yes on every response\n"
         "  --log-connection-errors  print engine.io's connection_error events on stderr\n"
         "  --metrics             serve Prometheus metrics at GET /metrics (sio/metrics.h)\n"
         "  --cookie NAME         engine.io cookie option (the sid in a cookie NAME)\n"
         "  --cookie-max-age S    the cookie's Max-Age\n"
         "  --cors-origin O       CORS origin: *, true (reflect any), suffix:S (a callback), a,b or\n"
         "                        list:a (a list), or one fixed origin (default: the short form *)\n"
         "  --cors-credentials    Access-Control-Allow-Credentials: true\n"
         "  --cors-methods M      --cors-allowed-headers H  --cors-exposed-headers H  --cors-max-age S\n"
         "  --cors-off            no CORS at all\n"
         "  --http-compression B  compress long-poll answers of B bytes or more (default 1024,\n"
         "                        engine.io's), or off\n"
         "  --per-message-deflate WebSocket permessage-deflate (RFC 7692) on /engine.io/,\n"
         "                        /socket.io/ and /ws (default off, as in Node)\n"
         "  --deflate-threshold B messages under B bytes go uncompressed (default 1024)\n"
         "  --deflate-server-no-takeover / --deflate-client-no-takeover  no context takeover\n"
         "  --deflate-server-window-bits N / --deflate-client-window-bits N  window limits\n");
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 3000, metrics = 0;
  sio_http_opts_t hopts;
  sio_engine_opts_t eopts;
  sio_server_opts_t sopts;
  sio_server_opts_init(&sopts);
  sio_http_opts_init(&hopts);
  sio_engine_opts_init(&eopts);
  eopts.cors_origins = "*";
  sio_log_set_level(SIO_LOG_WARN);
  const char *redis_url = NULL, *streams_url = NULL, *stream_name = NULL;
  uint64_t stream_maxlen = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 0;
    }
    /* Switches without a value. */
    if (strcmp(a, "--test-headers") == 0) {
      eopts.on_initial_headers = initial_headers;
      eopts.on_headers = every_headers;
      continue;
    }
    if (strcmp(a, "--cors-credentials") == 0) {
      eopts.cors.credentials = 1;
      continue;
    }
    if (strcmp(a, "--cors-off") == 0) {
      eopts.cors_origins = NULL;
      continue;
    }
    if (strcmp(a, "--per-message-deflate") == 0) {
      eopts.per_message_deflate.enabled = 1;
      continue;
    }
    if (strcmp(a, "--deflate-server-no-takeover") == 0) {
      eopts.per_message_deflate.server_no_context_takeover = 1;
      continue;
    }
    if (strcmp(a, "--deflate-client-no-takeover") == 0) {
      eopts.per_message_deflate.client_no_context_takeover = 1;
      continue;
    }
    if (strcmp(a, "--log-connection-errors") == 0) {
      eopts.on_connection_error = connection_error;
      continue;
    }
    if (strcmp(a, "--metrics") == 0) {
      metrics = 1;
      continue;
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
    else if (strcmp(a, "--allow-request") == 0 && strcmp(v, "deny-param") == 0) eopts.allow_request = allow_request;
    else if (strcmp(a, "--cookie") == 0) {
      eopts.cookie.enabled = 1;
      eopts.cookie.name = v;
    } else if (strcmp(a, "--cookie-max-age") == 0) eopts.cookie.max_age = strtoll(v, NULL, 10);
    else if (strcmp(a, "--cors-origin") == 0) set_cors_origin(&eopts.cors, argv[i]);
    else if (strcmp(a, "--http-compression") == 0) {
      eopts.http_compression = strcmp(v, "off") != 0;
      if (eopts.http_compression) eopts.http_compression_threshold = strtoull(v, NULL, 10);
    } else if (strcmp(a, "--cors-methods") == 0) eopts.cors.methods = v;
    else if (strcmp(a, "--cors-allowed-headers") == 0) eopts.cors.allowed_headers = v;
    else if (strcmp(a, "--cors-exposed-headers") == 0) eopts.cors.exposed_headers = v;
    else if (strcmp(a, "--cors-max-age") == 0) eopts.cors.max_age = strtoll(v, NULL, 10);
    else if (strcmp(a, "--recovery-max-bytes") == 0) sopts.recovery.max_bytes = strtoull(v, NULL, 10);
    else if (strcmp(a, "--recovery-ms") == 0) {
      sopts.recovery.max_disconnection_ms = strtoull(v, NULL, 10);
      sopts.recovery.enabled = sopts.recovery.max_disconnection_ms > 0;
    }
    else if (strcmp(a, "--socket-use") == 0) socket_use_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--deflate-threshold") == 0) eopts.per_message_deflate.threshold = strtoull(v, NULL, 10);
    else if (strcmp(a, "--deflate-server-window-bits") == 0) eopts.per_message_deflate.server_max_window_bits = atoi(v);
    else if (strcmp(a, "--deflate-client-window-bits") == 0) eopts.per_message_deflate.client_max_window_bits = atoi(v);
    else if (strcmp(a, "--parser") == 0) {
      if (strcmp(v, "msgpack") != 0 && strcmp(v, "default") != 0) {
        fprintf(stderr, "echo: bad --parser %s (default or msgpack)\n", v);
        return 2;
      }
      sopts.parser = strcmp(v, "msgpack") == 0 ? SIO_PARSER_MSGPACK : SIO_PARSER_DEFAULT;
    }
    else if (strcmp(a, "--redis") == 0) redis_url = v;
    else if (strcmp(a, "--redis-streams") == 0) streams_url = v;
    else if (strcmp(a, "--redis-stream") == 0) stream_name = v;
    else if (strcmp(a, "--redis-maxlen") == 0) stream_maxlen = strtoull(v, NULL, 10);
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
  if (redis_url && streams_url) {
    fprintf(stderr, "echo: --redis and --redis-streams are mutually exclusive: pick one adapter\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  hopts.ws_deflate = eopts.per_message_deflate; /* /ws gets the same settings */
  ws_max_message = eopts.max_http_buffer_size;
  uv_loop_t *loop = uv_default_loop();
  if (sio_http_new(loop, &hopts, &http) != 0) return 1;
  sio_engine_t *eng;
  static const sio_engine_cbs_t cbs = {NULL, echo_message, NULL, NULL};
  if (sio_engine_attach(http, "/engine.io/", &eopts, &cbs, NULL, &eng) != 0) return 1;
  sopts.engine = eopts;
  sio_server_t *io;
  sio_ns_t *custom;
  if (sio_server_new(http, &sopts, &io) != 0 || sio_server_of(io, "/custom", &custom) != 0) return 1;
  if (metrics && sio_metrics_mount(io, NULL, "/metrics", NULL, NULL) != 0) return 1;
  sio_ns_t *main_ns = sio_server_main(io);
  if (redis_url || streams_url) {
#ifdef EXAMPLE_WITH_REDIS
    sio_redis_opts_t ropts;
    sio_redis_opts_init(&ropts);
    ropts.url = redis_url;
    sio_redis_streams_opts_t xopts;
    sio_redis_streams_opts_init(&xopts);
    xopts.url = streams_url;
    if (stream_name) xopts.stream_name = stream_name;
    if (stream_maxlen) xopts.maxlen = (size_t)stream_maxlen;
    int rr = redis_url ? sio_redis_attach(io, &ropts, NULL) : sio_redis_streams_attach(io, &xopts, NULL);
    if (rr != 0) {
      fprintf(stderr, "echo: cannot use Redis at %s: %s\n", redis_url ? redis_url : streams_url, sio_strerror(rr));
      return 2;
    }
#else
    (void)stream_name, (void)stream_maxlen;
    fprintf(stderr, "echo: built without the Redis adapter (-DSIO_REDIS=OFF): --redis and --redis-streams are off\n");
    return 2;
#endif
  }
  sio_ns_on_connect(main_ns, send_auth, NULL);
  if (socket_use_ms > 0) sio_ns_on_connect(main_ns, install_socket_use, NULL);
  sio_ns_use(custom, refuse_mw, NULL);
  sio_ns_on_connect(custom, send_auth, NULL);
  sio_ns_on(main_ns, "message", on_message, NULL);
  sio_ns_on(main_ns, "message-with-ack", on_ack_back, NULL);
  sio_ns_on(main_ns, "echo", on_ack_back, NULL);
  sio_ns_on(main_ns, "join", on_join, NULL);
  sio_ns_on(main_ns, "bcast", on_bcast, NULL);
  sio_ns_on(main_ns, "dm", on_dm, NULL);
  sio_ns_on(main_ns, "message-nocompress", on_nocompress, NULL);
  sio_http_handle(http, "/ws", 1, ws_upgrade, NULL);
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
