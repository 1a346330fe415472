/*
 * Operations endpoints and the graceful drain.
 *
 * /healthz answers 200 while the process serves. /readyz answers 200 when what the node
 * depends on is reachable (the Redis adapter when --redis is set, the history store when
 * history is on) and 503 with one line per problem otherwise, and 503 from the moment a
 * drain starts, so that a load balancer stops sending new users before the listener is
 * gone. /metrics is the library's text (sio/metrics.h) plus the app's families.
 *
 * The drain closes Engine.IO sessions as a lost transport would (sio_server_drain): the
 * clients reconnect, and with connection-state recovery they recover on another node.
 * They are closed in slices every TICK_MS so that the whole fleet of clients does not
 * come back in the same second (at least MIN_SLICE a tick: a handful of sessions, as in
 * development, goes at once). Long-polling sessions are not spread: the library closes
 * them all on the first tick, since their next poll can no longer reach this node.
 */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histdb.h"
#include "history.h"
#include "logfmt.h"
#include "roomlist.h"
#include "sio/metrics.h"

#define TICK_MS 100
#define MIN_SLICE 10  /* sessions per tick at least: spreading fewer than 100/s helps no one */
#define GRACE_MS 1000 /* once every session is closing: time for them to deliver, then closed hard */

noom_stats_t noom_stats;

static struct {
  uv_loop_t *loop;
  sio_server_t *io;
  sio_http_t *http, *side; /* the main server; the --metrics-addr one or NULL */
  noom_ops_opts_t o;
  int draining;
  uv_timer_t timer;
  uint64_t started, per_tick, all_closing_at;
  size_t at_start, closed;
  void (*done)(void *);
  void *done_user;
} S;

/* ---- endpoints ---- */

static void on_healthz(sio_http_req_t *req, void *u) {
  (void)u;
  sio_http_respond(req, 200, "text/plain", "Cache-Control: no-store\r\n", "ok\n", 3);
}

static void on_readyz(sio_http_req_t *req, void *u) {
  (void)u;
  char body[256];
  size_t n = 0;
  if (S.draining) n += (size_t)snprintf(body + n, sizeof body - n, "draining: shutting down, not taking new users\n");
  if (S.o.redis && !sio_redis_connected(S.o.redis)) {
    n += (size_t)snprintf(body + n, sizeof body - n, "redis: not connected (reconnecting; check --redis)\n");
  }
  if (S.o.streams && !sio_redis_streams_connected(S.o.streams)) {
    n += (size_t)snprintf(body + n, sizeof body - n, "redis: not connected (reconnecting; check --redis-streams)\n");
  }
  noom_histdb_stats_t hs;
  noom_histdb_stats(&hs);
  if (hs.running && !hs.store_up) {
    n += (size_t)snprintf(body + n, sizeof body - n, "database: unavailable (retried every second; check --db)\n");
  }
  if (n == 0) sio_http_respond(req, 200, "text/plain", "Cache-Control: no-store\r\n", "ok\n", 3);
  else sio_http_respond(req, 503, "text/plain", "Cache-Control: no-store\r\n", body, n);
}

static void app_metrics(sio_metrics_out_t *o, void *u) {
  (void)u;
  sio_metrics_family(o, "noom_chat_rooms", SIO_METRIC_GAUGE, "Chat rooms listed in the lobby (this node's view)");
  sio_metrics_sample(o, "noom_chat_rooms", (double)noom_roomlist_count(), NULL);
  sio_metrics_family(o, "noom_chat_messages_total", SIO_METRIC_COUNTER, "Chat messages accepted and broadcast");
  sio_metrics_sample(o, "noom_chat_messages_total", (double)noom_stats.messages, NULL);
  sio_metrics_family(o, "noom_call_joins_total", SIO_METRIC_COUNTER, "Calls joined (call_join accepted)");
  sio_metrics_sample(o, "noom_call_joins_total", (double)noom_stats.call_joins, NULL);
  sio_metrics_family(o, "noom_call_relays_total", SIO_METRIC_COUNTER, "Call signaling messages relayed (offer, answer, ice)");
  sio_metrics_sample(o, "noom_call_relays_total", (double)noom_stats.relays, NULL);
  sio_metrics_family(o, "noom_draining", SIO_METRIC_GAUGE, "1 while a graceful drain is under way");
  sio_metrics_sample(o, "noom_draining", S.draining, NULL);

  sio_metrics_family(o, "noom_adapter_connected", SIO_METRIC_GAUGE,
                     "1 when the Redis adapter is connected and subscribed (absent without --redis)");
  if (S.o.redis || S.o.streams) {
    sio_redis_stats_t rs;
    if (S.o.redis) {
      sio_metrics_sample(o, "noom_adapter_connected", sio_redis_connected(S.o.redis), "adapter", "redis", NULL);
      sio_redis_stats(S.o.redis, &rs);
    } else {
      sio_metrics_sample(o, "noom_adapter_connected", sio_redis_streams_connected(S.o.streams), "adapter",
                         "redis-streams", NULL);
      sio_redis_streams_stats(S.o.streams, &rs);
    }
    sio_metrics_family(o, "noom_redis_messages_total", SIO_METRIC_COUNTER, "Redis adapter messages, by direction");
    sio_metrics_sample(o, "noom_redis_messages_total", (double)rs.published, "direction", "published", NULL);
    sio_metrics_sample(o, "noom_redis_messages_total", (double)rs.received, "direction", "received", NULL);
    sio_metrics_family(o, "noom_redis_dropped_total", SIO_METRIC_COUNTER,
                       "Publishes dropped (Redis down or not keeping up)");
    sio_metrics_sample(o, "noom_redis_dropped_total", (double)rs.dropped, NULL);
    sio_metrics_family(o, "noom_redis_reconnects_total", SIO_METRIC_COUNTER, "Times the Redis connection came back");
    sio_metrics_sample(o, "noom_redis_reconnects_total", (double)rs.reconnects, NULL);
    sio_metrics_family(o, "noom_redis_queue_bytes", SIO_METRIC_GAUGE,
                       "Bytes queued for Redis and not yet written (publishes are dropped past 16 MiB)");
    if (S.o.redis) sio_metrics_sample(o, "noom_redis_queue_bytes", (double)sio_redis_backlog(S.o.redis), NULL);
  }

  noom_histdb_stats_t hs;
  noom_histdb_stats(&hs);
  sio_metrics_family(o, "noom_history_db_up", SIO_METRIC_GAUGE,
                     "1 when the history store works (absent when history is off)");
  if (hs.running) {
    sio_metrics_sample(o, "noom_history_db_up", hs.store_up, NULL);
    sio_metrics_family(o, "noom_history_queue", SIO_METRIC_GAUGE, "Messages waiting for the history writer");
    sio_metrics_sample(o, "noom_history_queue", (double)hs.queued, NULL);
    sio_metrics_family(o, "noom_history_queue_max", SIO_METRIC_GAUGE, "Bound of the history writer's queue");
    sio_metrics_sample(o, "noom_history_queue_max", (double)hs.max_queue, NULL);
    sio_metrics_family(o, "noom_history_dropped_total", SIO_METRIC_COUNTER,
                       "Messages not stored because the writer's queue was full");
    sio_metrics_sample(o, "noom_history_dropped_total", (double)hs.dropped, NULL);
  }
}

/* HOST:PORT or [V6]:PORT into host (NUL-terminated) and port. 0 or -1. */
static int split_addr(const char *a, char *host, size_t cap, int *port) {
  const char *colon = strrchr(a, ':');
  if (colon == NULL || colon == a) return -1;
  const char *h = a;
  size_t hl = (size_t)(colon - a);
  if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') h++, hl -= 2;
  if (hl == 0 || hl >= cap) return -1;
  memcpy(host, h, hl);
  host[hl] = '\0';
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || p < 0 || p > 65535) return -1;
  *port = (int)p;
  return 0;
}

int noom_ops_addr_parse(const char *a, char *host, size_t cap, int *port) { return split_addr(a, host, cap, port); }

static int mount_on(sio_http_t *h, int metrics) {
  int r = sio_http_handle(h, "/healthz", 1, on_healthz, NULL);
  if (r == 0) r = sio_http_handle(h, "/readyz", 1, on_readyz, NULL);
  if (r == 0 && metrics) r = sio_metrics_mount(S.io, h, "/metrics", app_metrics, NULL);
  return r;
}

int noom_ops_init(uv_loop_t *loop, sio_server_t *io, sio_http_t *http, const noom_ops_opts_t *opts) {
  S.loop = loop;
  S.io = io;
  S.http = http;
  S.o = *opts;
  S.o.metrics_addr = NULL;
  int r = mount_on(http, opts->metrics && opts->metrics_addr == NULL);
  if (r || opts->metrics_addr == NULL) return r;
  char host[256];
  int port;
  if (split_addr(opts->metrics_addr, host, sizeof host, &port) != 0) {
    fprintf(stderr, "noom: bad --metrics-addr '%s' (expected HOST:PORT, e.g. 127.0.0.1:9100)\n", opts->metrics_addr);
    return SIO_EINVAL;
  }
  if ((r = sio_http_new(loop, NULL, &S.side)) != 0 || (r = mount_on(S.side, opts->metrics)) != 0) return r;
  if ((r = sio_http_listen(S.side, host, port)) != 0) {
    fprintf(stderr, "noom: cannot listen on --metrics-addr %s: %s (is the port taken?)\n", opts->metrics_addr,
            sio_strerror(r));
    return r;
  }
  sio_log_printf(SIO_LOG_INFO, "metrics, health and readiness on http://%s:%d/ (--metrics-addr)", host,
                 sio_http_port(S.side));
  return 0;
}

/* ---- drain ---- */

static void finish(void) {
  uv_timer_stop(&S.timer);
  uv_close((uv_handle_t *)&S.timer, NULL);
  uint64_t ms = uv_now(S.loop) - S.started;
  noom_histdb_stats_t hs;
  noom_histdb_stats(&hs);
  noom_log_event(SIO_LOG_INFO, "drain",
                 NULL, "drain: %zu of %zu sessions closed over %llu ms, %zu still open; stopping (%zu history messages "
                 "to write first)", S.closed, S.at_start, (unsigned long long)ms, sio_server_session_count(S.io),
                 hs.queued);
  if (S.done) S.done(S.done_user);
}

/* Each tick starts the graceful close of the next slice. Once none is left to start,
 * the closing ones get GRACE_MS to deliver what they have queued, and whatever remains
 * then (or at the end of the window plus the grace) is closed at once. */
static void on_tick(uv_timer_t *t) {
  (void)t;
  uint64_t now = uv_now(S.loop), elapsed = now - S.started;
  size_t n = sio_server_drain(S.io, elapsed < S.o.drain_ms ? S.per_tick : SIZE_MAX, 0);
  S.closed += n;
  if (n == 0 && S.all_closing_at == 0) S.all_closing_at = now;
  if (sio_server_session_count(S.io) > 0 && S.all_closing_at && now - S.all_closing_at >= GRACE_MS) {
    sio_server_drain(S.io, SIZE_MAX, 1);
  }
  if (sio_server_session_count(S.io) == 0) finish();
}

void noom_ops_drain(void (*done)(void *user), void *user) {
  if (S.draining) return;
  S.draining = 1;
  S.done = done;
  S.done_user = user;
  sio_http_unlisten(S.http); /* new connections are refused from now on */
  S.started = uv_now(S.loop);
  S.at_start = sio_server_session_count(S.io);
  uint64_t ticks = S.o.drain_ms / TICK_MS;
  if (ticks == 0) ticks = 1;
  S.per_tick = (S.at_start + ticks - 1) / ticks;
  if (S.per_tick < MIN_SLICE) S.per_tick = MIN_SLICE;
  noom_log_event(SIO_LOG_INFO, "drain", NULL,
                 "drain: stopped accepting; closing %zu sessions over %llu ms (clients reconnect to another node; "
                 "send the signal again to stop at once)",
                 S.at_start, (unsigned long long)S.o.drain_ms);
  uv_timer_init(S.loop, &S.timer);
  on_tick(&S.timer);
  if (S.draining && uv_is_active((uv_handle_t *)&S.timer) == 0 && !uv_is_closing((uv_handle_t *)&S.timer)) {
    uv_timer_start(&S.timer, on_tick, TICK_MS, TICK_MS);
  }
}

int noom_ops_draining(void) { return S.draining; }

size_t noom_ops_close(void) {
  if (S.side) sio_http_close(S.side, NULL, NULL);
  S.side = NULL;
  return S.closed;
}
