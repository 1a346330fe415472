/*
 * Prometheus text exposition (format 0.0.4) of a server's counters (include/sio/metrics.h).
 * The counters themselves are bumped where things happen (sio.h's sio__m_* helpers, the
 * engine's stats.c, the HTTP server); this file only reads and formats them, at scrape
 * time, so a server nobody scrapes pays nothing here. Gauges that a table already knows
 * (sockets, rooms, sessions by transport, acks pending) are counted by walking it now
 * rather than kept up to date on every change.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "http/server.h"
#include "sio/metrics.h"
#include "sio/sio.h"

struct sio_metrics_out_s {
  sio__buf_t b;
  int err; /* first error: every later write is refused with it */
};

/* ---- writing ---- */

static int valid_name(const char *s, int colon) {
  if (s == NULL || !(isalpha((unsigned char)*s) || *s == '_' || (colon && *s == ':'))) return 0;
  for (s++; *s; s++) {
    if (!(isalnum((unsigned char)*s) || *s == '_' || (colon && *s == ':'))) return 0;
  }
  return 1;
}

/* Escapes \ and newline (HELP), plus " (label values). */
static int append_escaped(sio__buf_t *b, const char *s, int quote) {
  int r = 0;
  for (; *s && r == 0; s++) {
    if (*s == '\\') r = sio__buf_append(b, "\\\\", 2);
    else if (*s == '\n') r = sio__buf_append(b, "\\n", 2);
    else if (quote && *s == '"') r = sio__buf_append(b, "\\\"", 2);
    else r = sio__buf_append_byte(b, *s);
  }
  return r;
}

int sio__metrics_err(const sio_metrics_out_t *o); /* for metrics_proc.c */
int sio__metrics_err(const sio_metrics_out_t *o) { return o->err; }

static int fail(sio_metrics_out_t *o, int r) {
  if (r && o->err == 0) o->err = r;
  return r;
}

int sio_metrics_family(sio_metrics_out_t *o, const char *name, sio_metric_type_t type, const char *help) {
  if (o->err) return o->err;
  if (!valid_name(name, 1)) return fail(o, SIO_EINVAL);
  int r = sio__buf_appendf(&o->b, "# HELP %s ", name);
  if (r == 0) r = append_escaped(&o->b, help ? help : "", 0);
  if (r == 0) r = sio__buf_appendf(&o->b, "\n# TYPE %s %s\n", name, type == SIO_METRIC_GAUGE ? "gauge" : "counter");
  return fail(o, r);
}

static int sample_v(sio_metrics_out_t *o, const char *name, double value, va_list ap) {
  if (o->err) return o->err;
  if (!valid_name(name, 1)) return fail(o, SIO_EINVAL);
  int r = sio__buf_append_str(&o->b, name);
  const char *k;
  int first = 1;
  while (r == 0 && (k = va_arg(ap, const char *)) != NULL) {
    const char *v = va_arg(ap, const char *);
    if (!valid_name(k, 0) || v == NULL) return fail(o, SIO_EINVAL);
    r = sio__buf_append_str(&o->b, first ? "{" : ",");
    if (r == 0) r = sio__buf_append_str(&o->b, k);
    if (r == 0) r = sio__buf_append(&o->b, "=\"", 2);
    if (r == 0) r = append_escaped(&o->b, v, 1);
    if (r == 0) r = sio__buf_append_byte(&o->b, '"');
    first = 0;
  }
  if (r == 0 && !first) r = sio__buf_append_byte(&o->b, '}');
  if (r) return fail(o, r);
  /* Counters are integers: write them exactly, not as %g's 6 digits. */
  if (isnan(value)) r = sio__buf_append_str(&o->b, " NaN\n");
  else if (isinf(value)) r = sio__buf_append_str(&o->b, value > 0 ? " +Inf\n" : " -Inf\n");
  else if (value == floor(value) && fabs(value) < 9007199254740992.0) r = sio__buf_appendf(&o->b, " %.0f\n", value);
  else r = sio__buf_appendf(&o->b, " %.17g\n", value);
  return fail(o, r);
}

int sio_metrics_sample(sio_metrics_out_t *o, const char *name, double value, ...) {
  va_list ap;
  va_start(ap, value);
  int r = sample_v(o, name, value, ap);
  va_end(ap);
  return r;
}

/* A family with one unlabelled sample. */
static void one(sio_metrics_out_t *o, const char *name, sio_metric_type_t type, const char *help, double v) {
  sio_metrics_family(o, name, type, help);
  sio_metrics_sample(o, name, v, NULL);
}

/* ---- the server's families ---- */

typedef enum {
  NS_CONNECTED, NS_CONNECTS, NS_DISCONNECTS, NS_ERRORS, NS_EV_IN, NS_EV_OUT, NS_BYTES_IN, NS_BYTES_OUT, NS_ROOMS
} ns_field_t;

static double ns_value(const sio_ns_t *ns, ns_field_t f) {
  switch (f) {
  case NS_CONNECTED: return sio__map_size(&ns->sockets);
  case NS_CONNECTS: return (double)ns->m.connects;
  case NS_DISCONNECTS: return (double)ns->m.disconnects;
  case NS_ERRORS: return (double)ns->m.errors;
  case NS_EV_IN: return (double)ns->m.events_in;
  case NS_EV_OUT: return (double)ns->m.events_out;
  case NS_BYTES_IN: return (double)ns->m.bytes_in;
  case NS_BYTES_OUT: return (double)ns->m.bytes_out;
  case NS_ROOMS: {
    /* Rooms named after a socket's id are its own, not rooms anyone made. */
    size_t n = 0;
    uint32_t it = 0;
    void *v;
    while (sio__map_next(&ns->rooms, &it, NULL, NULL, &v)) n += !((sio__room_t *)v)->is_sid;
    return (double)n;
  }
  }
  return 0;
}

static void per_ns(sio_metrics_out_t *o, sio_server_t *io, const char *name, sio_metric_type_t type, const char *help,
                   ns_field_t f) {
  sio_metrics_family(o, name, type, help);
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) {
    const sio_ns_t *ns = v;
    sio_metrics_sample(o, name, ns_value(ns, f), "namespace", ns->name, NULL);
  }
}

/* Every recipient of an emit with an ack holds one entry until it answers or times out. */
static size_t acks_pending(sio_server_t *io) {
  size_t n = 0;
  uint32_t it = 0, jt;
  void *v, *w;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) {
    const sio_ns_t *ns = v;
    for (jt = 0; sio__map_next(&ns->sockets, &jt, NULL, NULL, &w);) n += sio__ack_pending(w);
  }
  return n;
}

int sio_metrics_write_server(sio_metrics_out_t *o, sio_server_t *io) {
  static const char *const tnames[] = {"polling", "websocket", "memory"};
  sio__eio_stats_t es;
  sio__eio_stats(io->eng, &es);
  sio__http_counters_t hc;
  sio__http_counters(io->http, &hc);
  const sio__metrics_t *m = &io->m;

  per_ns(o, io, "socket_io_connected", SIO_METRIC_GAUGE, "Sockets connected now", NS_CONNECTED);
  per_ns(o, io, "socket_io_connect_total", SIO_METRIC_COUNTER, "Sockets that connected", NS_CONNECTS);
  per_ns(o, io, "socket_io_disconnect_total", SIO_METRIC_COUNTER, "Connected sockets that left", NS_DISCONNECTS);
  per_ns(o, io, "socket_io_errors_total", SIO_METRIC_COUNTER, "Connections refused by a middleware", NS_ERRORS);
  per_ns(o, io, "socket_io_events_received_total", SIO_METRIC_COUNTER, "Events received from clients", NS_EV_IN);
  per_ns(o, io, "socket_io_events_sent_total", SIO_METRIC_COUNTER, "Events sent to clients (one per recipient)",
         NS_EV_OUT);
  per_ns(o, io, "socket_io_recieve_bytes", SIO_METRIC_COUNTER, "Event payload bytes received (attachments included)",
         NS_BYTES_IN);
  per_ns(o, io, "socket_io_transmit_bytes", SIO_METRIC_COUNTER, "Event payload bytes sent (one copy per recipient)",
         NS_BYTES_OUT);
  per_ns(o, io, "noom_rooms", SIO_METRIC_GAUGE, "Rooms (not counting each socket's own)", NS_ROOMS);

  sio_metrics_family(o, "noom_engine_connections", SIO_METRIC_GAUGE, "Engine.IO sessions open now, by transport");
  for (int t = 0; t < 2; t++) sio_metrics_sample(o, "noom_engine_connections", es.open[t], "transport", tnames[t], NULL);
  sio_metrics_family(o, "noom_engine_connections_total", SIO_METRIC_COUNTER,
                     "Engine.IO sessions opened, by the transport they started on");
  for (int t = 0; t < 2; t++) {
    sio_metrics_sample(o, "noom_engine_connections_total", (double)es.c.opened[t], "transport", tnames[t], NULL);
  }
  one(o, "noom_engine_upgrades_total", SIO_METRIC_COUNTER, "Sessions upgraded from polling to WebSocket",
      (double)es.c.upgrades);
  one(o, "noom_slow_consumer_disconnects_total", SIO_METRIC_COUNTER,
      "Sessions closed because the client did not read (send queue over its limit)", (double)es.c.slow_consumers);
  one(o, "noom_namespaces", SIO_METRIC_GAUGE, "Namespaces", sio__map_size(&io->nsps));
  size_t socks = 0;
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) socks += sio__map_size(&((sio_ns_t *)v)->sockets);
  one(o, "noom_sockets", SIO_METRIC_GAUGE, "Sockets connected now, all namespaces", (double)socks);
  one(o, "noom_packets_received_total", SIO_METRIC_COUNTER, "Engine.IO messages received", (double)m->packets_in);
  one(o, "noom_packets_sent_total", SIO_METRIC_COUNTER, "Engine.IO messages queued to clients", (double)m->packets_out);
  one(o, "noom_bytes_received_total", SIO_METRIC_COUNTER, "Bytes of the Engine.IO messages received",
      (double)m->bytes_in);
  one(o, "noom_bytes_sent_total", SIO_METRIC_COUNTER, "Bytes of the Engine.IO messages queued", (double)m->bytes_out);
  one(o, "noom_broadcasts_total", SIO_METRIC_COUNTER, "Broadcasts (emits to a selection)", (double)m->broadcasts);
  one(o, "noom_broadcast_deliveries_total", SIO_METRIC_COUNTER, "Local recipients the broadcasts reached",
      (double)m->deliveries);
  one(o, "noom_acks_pending", SIO_METRIC_GAUGE, "Acknowledgements awaited from clients", (double)acks_pending(io));
  one(o, "noom_volatile_drops_total", SIO_METRIC_COUNTER, "Volatile packets dropped (transport not writable)",
      (double)m->volatile_drops);
  one(o, "noom_invalid_namespace_total", SIO_METRIC_COUNTER, "CONNECTs to a namespace that does not exist",
      (double)m->bad_namespace);
  sio_metrics_family(o, "noom_recoveries_total", SIO_METRIC_COUNTER,
                     "Connection-state recovery attempts, by result (ok: state restored)");
  sio_metrics_sample(o, "noom_recoveries_total", (double)m->recoveries, "result", "ok", NULL);
  sio_metrics_sample(o, "noom_recoveries_total", (double)(m->recovery_tries - m->recoveries), "result", "failed", NULL);
  one(o, "noom_http_connections", SIO_METRIC_GAUGE, "TCP connections open now (WebSocket included)", hc.connections);
  one(o, "noom_http_requests_total", SIO_METRIC_COUNTER, "HTTP requests", (double)hc.requests);
  sio_metrics_family(o, "noom_http_errors_total", SIO_METRIC_COUNTER,
                     "HTTP errors: 4xx and 5xx answers, malformed requests, connections refused at the limit");
  sio_metrics_sample(o, "noom_http_errors_total", (double)hc.status_4xx, "kind", "4xx", NULL);
  sio_metrics_sample(o, "noom_http_errors_total", (double)hc.status_5xx, "kind", "5xx", NULL);
  sio_metrics_sample(o, "noom_http_errors_total", (double)hc.bad_requests, "kind", "bad_request", NULL);
  sio_metrics_sample(o, "noom_http_errors_total", (double)hc.refused, "kind", "refused", NULL);
  return o->err;
}

/* ---- the text and its handler ---- */

int sio_metrics_text(sio_server_t *io, sio_metrics_cb extra, void *user, char **out, size_t *len) {
  sio_metrics_out_t o = {SIO__BUF_INIT, 0};
  sio_metrics_write_server(&o, io);
  sio_metrics_write_process(&o);
  if (extra && o.err == 0) extra(&o, user);
  if (o.err == 0) o.err = sio__buf_append_byte(&o.b, '\0');
  if (o.err) {
    sio__buf_free(&o.b);
    return o.err;
  }
  size_t n;
  *out = sio__buf_steal(&o.b, &n);
  *len = n - 1;
  return 0;
}

typedef struct {
  sio__http_closer_t closer;
  sio_server_t *io;
  sio_metrics_cb extra;
  void *user;
} mount_t;

static void serve(sio_http_req_t *req, void *user) {
  mount_t *mt = user;
  const char *method = sio_http_req_method(req);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    sio_http_respond(req, 405, "text/plain", "Allow: GET, HEAD\r\n", "Method Not Allowed\n", 19);
    return;
  }
  char *text;
  size_t len;
  if (sio_metrics_text(mt->io, mt->extra, mt->user, &text, &len) != 0) {
    sio_http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
    return;
  }
  sio_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", "Cache-Control: no-store\r\n", text, len);
  sio__free(text);
}

int sio_metrics_mount(sio_server_t *io, sio_http_t *http, const char *path, sio_metrics_cb extra, void *user) {
  if (http == NULL) http = io->http;
  mount_t *mt = sio__calloc(1, sizeof *mt);
  if (mt == NULL) return SIO_ENOMEM;
  *mt = (mount_t){.io = io, .extra = extra, .user = user};
  int r = sio_http_handle(http, path, 1, serve, mt);
  if (r) {
    sio__free(mt);
    return r;
  }
  sio__http_add_closer(http, &mt->closer, sio__free, mt);
  return 0;
}

/* ---- draining ---- */

size_t sio_server_drain(sio_server_t *io, size_t max, int now) {
  return io->eng ? sio__eio_drain(io->eng, max, now) : 0;
}
size_t sio_server_session_count(const sio_server_t *io) { return io->eng ? sio_engine_count(io->eng) : 0; }
