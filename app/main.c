/*
 * noom: the server binary. Wiring only: flags, the HTTP server with the embedded web
 * app, the Socket.IO server with the lobby/chat handlers, the plain-WebSocket chat, and
 * a graceful stop on SIGINT/SIGTERM. Application logic lives in the other app/ files.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "assets.h"
#include "call.h"
#include "callsfu.h"
#include "ice.h"
#include "history.h"
#include "checkconf.h"
#include "admin.h"
#include "lobby.h"
#include "logfmt.h"
#include "ops.h"
#include "media/sfu.h"
#include "options.h"
#include "stunsrv.h"
#include "sio.h"
#include "sio/redis.h"
#include "wschat.h"

static sio_http_t *http;
static uv_signal_t sig_int, sig_term;
static sio_redis_t *redis;
static sio_redis_streams_t *streams;

static void on_stopped(void *user) {
  (void)user;
  sio_log_printf(SIO_LOG_INFO, "stopped");
}

/* --redis / --redis-streams: every namespace goes on a Redis adapter. It connects in the
 * background: an unreachable Redis is retried, not fatal. */
static int start_redis(sio_server_t *io, const noom_options_t *o) {
  int r;
  if (o->redis_streams) {
    sio_redis_streams_opts_t xopts;
    sio_redis_streams_opts_init(&xopts);
    xopts.url = o->redis_streams;
    xopts.channel_prefix = o->redis_prefix;
    xopts.stream_name = o->redis_stream;
    xopts.maxlen = (size_t)o->redis_maxlen;
    if ((r = sio_redis_streams_attach(io, &xopts, &streams)) != 0)
      fprintf(stderr, "noom: cannot use --redis-streams %s --redis-stream '%s' --redis-maxlen %llu: %s (expected "
                      "redis://host[:port][/db], a non-empty name and N > 0)\n",
              o->redis_streams, o->redis_stream, (unsigned long long)o->redis_maxlen, sio_strerror(r));
    return r;
  }
  sio_redis_opts_t ropts;
  sio_redis_opts_init(&ropts);
  ropts.url = o->redis;
  ropts.prefix = o->redis_prefix;
  r = sio_redis_attach(io, &ropts, &redis);
  if (r != 0) {
    fprintf(stderr, "noom: cannot use --redis %s --redis-prefix '%s': %s (expected redis://host[:port][/db] and a "
                    "non-empty prefix)\n",
            o->redis, o->redis_prefix, sio_strerror(r));
  }
  return r;
}

/* The drain is over (ops.c): close the rest, flushing the history writer. */
static void on_drained(void *user) {
  (void)user;
  uv_close((uv_handle_t *)&sig_int, NULL);
  uv_close((uv_handle_t *)&sig_term, NULL);
  noom_wschat_close();
  noom_stunsrv_stop();
  noom_sfu_stop();
  noom_lobby_close();
  noom_history_close(); /* writes what is queued */
  noom_ops_close();
  sio_http_close(http, on_stopped, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
  (void)h;
  const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
  if (noom_ops_draining()) {
    noom_log_event(SIO_LOG_WARN, "signal", NULL, "%s again: exiting now, without waiting for the drain "
                   "(messages not yet written to the history store are lost)", name);
    _exit(1);
  }
  noom_log_event(SIO_LOG_INFO, "signal", NULL, "%s: shutting down", name);
  noom_ops_drain(on_drained, NULL);
}

int main(int argc, char **argv) {
  noom_options_t o;
  int pr = noom_options_parse(&o, argc, argv);
  if (pr != 0) return pr > 0 ? 0 : 2;
  sio_log_level_t level;
  if (sio_log_level_parse(o.log_level, &level) != 0) {
    fprintf(stderr, "noom: bad --log-level '%s' (none, error, warn, info or debug)\n", o.log_level);
    return 2;
  }
  sio_log_set_level(level);
  if (noom_log_init(o.log_format) != 0) {
    fprintf(stderr, "noom: bad --log-format '%s' (text or json)\n", o.log_format);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (o.check_config) return noom_check_config(&o) == 0 ? 0 : 1;

  uv_loop_t *loop = uv_default_loop();
  sio_http_opts_t hopts;
  sio_http_opts_init(&hopts);
  hopts.request_timeout_ms = o.request_timeout_ms;
  hopts.idle_timeout_ms = o.idle_timeout_ms;
  hopts.max_connections = o.max_connections > UINT_MAX ? UINT_MAX : (unsigned)o.max_connections;
  /* The ws settings reach only /ws: Engine.IO turns pings off on its sockets and keeps
   * its own send-queue limit. */
  hopts.ws_ping_interval_ms = o.ws_ping_interval_ms;
  hopts.ws_ping_timeout_ms = o.ws_ping_timeout_ms;
  hopts.ws_max_queued = (size_t)o.ws_max_queued;
  hopts.ws_deflate.enabled = o.ws_deflate;
  hopts.redirect_unknown = 1; /* unknown paths go to "/", as the course server does */
  int r = sio_http_new(loop, &hopts, &http);
  if (r == 0 && o.web_root) {
    r = sio_http_set_web_root(http, o.web_root);
    if (r) fprintf(stderr, "noom: --web-root %s is not a readable directory\n", o.web_root);
  } else if (r == 0) {
    r = sio_http_set_assets(http, noom_assets, noom_assets_count);
  }
  if (r) return 1;
  if ((o.tls_cert != NULL) != (o.tls_key != NULL)) {
    fprintf(stderr, "noom: --tls-cert and --tls-key go together\n");
    return 2;
  }
  int tls = 0;
  if (o.tls_cert) {
    if (sio_http_set_tls(http, o.tls_cert, o.tls_key) != 0) {
      fprintf(stderr, "noom: cannot use --tls-cert %s / --tls-key %s (see the error above)\n", o.tls_cert, o.tls_key);
      return 1;
    }
    tls = 1;
  } else if (o.tls_self_signed) {
    char fp[128];
    if (sio_http_set_tls_self_signed(http, fp, sizeof fp) != 0) return 1;
    printf("noom: self-signed certificate, SHA-256 fingerprint %s\n", fp);
    tls = 1;
  }

  sio_server_opts_t sopts;
  sio_server_opts_init(&sopts);
  sopts.engine.ping_interval_ms = o.ping_interval_ms;
  sopts.engine.ping_timeout_ms = o.ping_timeout_ms;
  sopts.engine.max_http_buffer_size = o.max_payload;
  sopts.engine.upgrade_timeout_ms = o.upgrade_timeout_ms;
  sopts.engine.cors_origins = o.cors_origins;
  sopts.engine.per_message_deflate.enabled = o.ws_deflate;
  sopts.connect_timeout_ms = o.connect_timeout_ms;
  /* Connection-state recovery: a tab whose network blipped comes back as itself. */
  sopts.recovery.enabled = o.recovery_ms > 0;
  sopts.recovery.max_disconnection_ms = o.recovery_ms;
  sio_server_t *io;
  noom_lobby_opts_t lopts = {
      .budgets = {.rate = {o.msg_rate, o.event_rate, o.relay_rate, o.relay_bytes_rate},
                  .burst = {o.msg_burst, o.event_burst, o.relay_burst, o.relay_bytes_burst}},
      .list = {o.lobby_interval_ms, (uint32_t)(o.lobby_max > UINT32_MAX ? UINT32_MAX : o.lobby_max),
               o.redis != NULL || o.redis_streams != NULL},
      .recovery_ms = o.recovery_ms,
  };
  sopts.max_rooms_per_socket = (uint32_t)(o.max_rooms > UINT32_MAX ? UINT32_MAX : o.max_rooms);
  noom_wschat_opts_t wopts = {o.msg_rate, o.msg_burst};
  noom_ice_opts_t iopts = {o.stun_port, o.stun_urls, o.turn_urls, o.turn_secret, o.turn_ttl};
  if (o.turn_urls && !o.turn_secret) {
    fprintf(stderr, "noom: --turn-urls needs --turn-secret (the secret your TURN server checks)\n");
    return 2;
  }
  noom_history_opts_t hist = {
      .keep = o.history > NOOM_HISTORY_PAGE_MAX ? NOOM_HISTORY_PAGE_MAX : (size_t)o.history,
      .shared = o.redis != NULL || o.redis_streams != NULL,
      .db = {o.db, o.history_max_age_days * 86400000ull, o.history_max_per_room, 10000},
  };
  /* Default: the SFU, except with --redis or --redis-streams (its media is per node)
   * where the mesh works across nodes. */
  int fleet = o.redis != NULL || o.redis_streams != NULL;
  const char *media = o.media ? o.media : (fleet ? "mesh" : "sfu");
  int sfu = strcmp(media, "sfu") == 0;
  if (!sfu && strcmp(media, "mesh") != 0) {
    fprintf(stderr, "noom: bad --media '%s' (sfu or mesh)\n", media);
    return 2;
  }
  noom_call_opts_t copts = {sfu, sfu ? (int)(o.max_call > 1000 ? 1000 : o.max_call) : NOOM_CALL_MAX_PEERS};
  if (noom_history_init(loop, &hist) != 0) return 1;
  if ((r = sio_server_new(http, &sopts, &io)) == 0 && (o.redis || o.redis_streams) && (r = start_redis(io, &o)) != 0)
    return 2;
  if (r != 0 || (r = noom_lobby_init(loop, io, &lopts)) != 0 ||
      (r = noom_call_init(io, &copts)) != 0 ||
      (sfu && (r = noom_callsfu_init(io)) != 0) || (r = noom_ice_init(http, &iopts)) != 0 ||
      (r = noom_wschat_init(loop, http, "/ws", &wopts)) != 0 ||
      (r = noom_ops_init(loop, io, http, &(noom_ops_opts_t){o.metrics, o.metrics_addr, o.drain_ms, redis, streams})) != 0) {
    fprintf(stderr, "noom: start-up failed: %s\n", sio_strerror(r));
    return 1;
  }
  if (noom_admin_init(http, io, &o) != 0) return 2;
  if ((r = sio_http_listen(http, o.host, o.port)) != 0) {
    fprintf(stderr, "noom: cannot listen on %s:%d: %s (is another server using the port? try --port)\n", o.host,
            o.port, sio_strerror(r));
    return 1;
  }
  if (o.stun_port > 0 && (r = noom_stunsrv_start(loop, o.host, o.stun_port)) != 0) {
    /* Calls still work on a LAN without it (host candidates); say so and go on. */
    sio_log_printf(SIO_LOG_WARN, "STUN responder not started on UDP %s:%d: %s (use --stun-port, 0 disables it)",
                   o.host, o.stun_port, sio_strerror(r));
  }
  if (sfu) {
    /* Only the default port may move: an explicit --media-port is what firewalls know. */
    noom_sfu_opts_t mo = {o.host, o.media_port, o.media_ip, o.max_bitrate, 30000, !o.media_port_set};
    if ((r = noom_sfu_start(loop, &mo)) != 0) {
      fprintf(stderr, "noom: cannot open the SFU's UDP port %s:%d: %s (is it in use? try --media-port, or --media mesh)\n",
              o.host, o.media_port, sio_strerror(r));
      return 1;
    }
    sio_log_printf(SIO_LOG_INFO, "calls through the SFU on UDP port %d, up to %d people each", noom_sfu_port(),
                   copts.max_call);
    if (fleet)
      sio_log_printf(SIO_LOG_WARN, "--media sfu with a Redis adapter: media is forwarded within one node only; route every "
                                   "member of a call to the same node (sticky by room) or use --media mesh");
  }
  if (hopts.max_connections) {
    sio_log_printf(SIO_LOG_INFO, "accepting up to %u connections at once, then 503 (--max-connections)",
                   hopts.max_connections);
  }
  int port = sio_http_port(http);
  const char *shown = strchr(o.host, ':') ? "[::1]" : (strcmp(o.host, "0.0.0.0") == 0 ? "127.0.0.1" : o.host);
  printf("noom listening on %s://%s:%d (open it in a browser; Ctrl-C stops)\n", tls ? "https" : "http", shown, port);
  fflush(stdout);
  uv_signal_init(loop, &sig_int);
  uv_signal_init(loop, &sig_term);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
