/*
 * bench/loadgen.c: a Socket.IO load generator for the bench contract of issue 6.
 *
 *   loadgen --port P --pid SERVER_PID --label noom --scenario fanout --conns 1000 ...
 *
 * Runs one scenario against a server on loopback (scenarios in bench/lg_*.c, the client
 * in bench/lg_client.c) and reports one JSON line on stdout (also appended to --json
 * FILE) and a one-line human summary on stderr: the operation rate, latency percentiles,
 * losses, the server's CPU time per operation and RSS from /proc/<pid>, and the
 * generator's own CPU share (near 100% means the generator, not the server, was the
 * bottleneck: trust CPU-per-operation then, not the rate).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

/* ======================================================================== shared helpers */

void lg_extra(lg_result_t *r, const char *fmt, ...) {
  size_t used = strlen(r->extra);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->extra + used, sizeof r->extra - used, fmt, ap);
  va_end(ap);
}

size_t lg_pad(char *out, size_t cap, const char *prefix, size_t plen, const char *suffix,
              size_t size) {
  size_t slen = strlen(suffix);
  size_t pad = size > plen + slen ? size - plen - slen : 0;
  if (plen + pad + slen > cap) pad = cap > plen + slen ? cap - plen - slen : 0;
  memcpy(out, prefix, plen);
  memset(out + plen, 'x', pad);
  memcpy(out + plen + pad, suffix, slen);
  return plen + pad + slen;
}

int lg_json_u64(const char *json, size_t len, const char *key, uint64_t *v) {
  char pat[32];
  int pl = snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = memmem(json, len, pat, (size_t)pl);
  if (!p) return -1;
  p += pl;
  const char *end = json + len;
  if (p >= end || *p < '0' || *p > '9') return -1;
  uint64_t x = 0;
  while (p < end && *p >= '0' && *p <= '9') x = x * 10 + (uint64_t)(*p++ - '0');
  *v = x;
  return 0;
}

void lg_mark(lg_mark_t *m, int pid) {
  m->t = lg_now();
  m->cpu = lg_proc_cpu_us(pid);
  m->gen = lg_self_cpu_us();
}

void lg_mark_end(const lg_mark_t *m, int pid, uint64_t end, lg_result_t *r) {
  uint64_t now = lg_now();
  if (end == 0 || end < m->t) end = now;
  r->secs = (double)(end - m->t) / 1e9;
  int64_t cpu = lg_proc_cpu_us(pid);
  r->cpu_us = (cpu >= 0 && m->cpu >= 0) ? cpu - m->cpu : -1;
  double wall = (double)(now - m->t) / 1e3;
  r->gen_cpu_pct = wall > 0 ? 100.0 * (double)(lg_self_cpu_us() - m->gen) / wall : 0;
}

void lg_sample_rss(lg_result_t *r, int pid, uint64_t now) {
  static uint64_t last;
  if (now - last < 100000000ull) return;
  last = now;
  int64_t rss = lg_proc_rss(pid);
  if (rss > r->rss_peak) r->rss_peak = rss;
}

uint32_t lg_connect_all(lg_conn_t *conns, uint32_t n, double rate, uint32_t window,
                        double timeout_s, lg_hist_t *lat) {
  uint64_t start = lg_now(), ready0 = lg_stats.ready, failed0 = lg_stats.failed;
  uint32_t next = 0;
  if (window == 0) window = 256;
  lg_connect_lat = lat;
  for (;;) {
    uint64_t now = lg_now();
    uint64_t done = (lg_stats.ready - ready0) + (lg_stats.failed - failed0);
    if (done >= n || (double)(now - start) / 1e9 > timeout_s) break;
    /* Paced by rate, and never more than `window` handshakes in flight, so the listen
     * backlog does not overflow (a dropped SYN costs a 1 s retransmit, not server CPU). */
    uint64_t allowed = rate > 0 ? (uint64_t)((double)(now - start) / 1e9 * rate) + 1 : n;
    while (next < n && next < allowed && next - done < window) {
      conns[next].id = next;
      lg_open(&conns[next]);
      next++;
    }
    lg_flush();
    lg_poll(rate > 0 ? 200000 : 5000000);
  }
  lg_connect_lat = NULL;
  uint32_t ready = 0;
  for (uint32_t i = 0; i < n; i++) ready += conns[i].state == LG_READY;
  return ready;
}

/* ======================================================================== options */

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --port P [options]\n"
          "  --host H        server address, 127.x.x.x only (default 127.0.0.1)\n"
          "  --port P        server port (required)\n"
          "  --pid N         server pid, for CPU and RSS from /proc (default: none)\n"
          "  --label S       name in the report, e.g. noom or node (default server)\n"
          "  --case S        case name in the report (default: the scenario)\n"
          "  --scenario S    connect | fanout | echo | churn | slow | app (default echo)\n"
          "  --conns N       connections: idle (connect), receivers (fanout, slow),\n"
          "                  clients (echo), population (churn) (default 100)\n"
          "  --duration S    seconds of the measured phase (default 5)\n"
          "  --rate R        offered load: connects/s (connect), messages/s (fanout, slow),\n"
          "                  acks/s (echo); 0 = closed loop (default 0)\n"
          "  --window W      closed loop: echo requests per client, or fanout messages in\n"
          "                  flight to all receivers; connect: handshakes in flight\n"
          "                  (defaults 1, 16, 256)\n"
          "  --size B        Socket.IO packet size in bytes (default 100)\n"
          "  --slow K        slow: receivers that stop reading (default conns/10)\n"
          "  --msgs M        churn: chat messages per client lifecycle (default 3)\n"
          "  --dialect D     app: app (build/noom's lobby: enter_room, new_message) or lib\n"
          "                  (examples/echo: join, bcast, echo) (default lib)\n"
          "  --chat N        app: chat clients in one room, sending during the run (default 4)\n"
          "  --chat-rate R   app: messages/s each chat client sends (default 4)\n"
          "  --close M       app: idle connections closed in the disconnect phase (default 10000)\n"
          "  --phase-timeout S  app: bound on the connect and on the disconnect phase (default 120)\n"
          "  --sources K     spread sockets over 127.0.0.1..K (default 16)\n"
          "  --json FILE     append the JSON line to FILE too\n"
          "  --quiet         no human summary on stderr\n");
}

static int parse_args(int argc, char **argv, lg_opts_t *o) {
  *o = (lg_opts_t){.host = "127.0.0.1", .label = "server", .scenario = "echo", .conns = 100,
                   .duration = 5, .size = 100, .sources = 16, .msgs = 3, .slow = UINT32_MAX,
                   .dialect = "lib", .chat = 4, .chat_rate = 4, .close = 10000, .phase_timeout = 120};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage();
      exit(0);
    }
    if (!strcmp(a, "--quiet")) {
      o->quiet = 1;
      continue;
    }
    if (!v) {
      fprintf(stderr, "loadgen: %s needs a value (see --help)\n", a);
      return -1;
    }
    i++;
    if (!strcmp(a, "--host")) o->host = v;
    else if (!strcmp(a, "--port")) o->port = atoi(v);
    else if (!strcmp(a, "--pid")) o->pid = atoi(v);
    else if (!strcmp(a, "--label")) o->label = v;
    else if (!strcmp(a, "--case")) o->tag = v;
    else if (!strcmp(a, "--scenario")) o->scenario = v;
    else if (!strcmp(a, "--conns")) o->conns = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--duration")) o->duration = atof(v);
    else if (!strcmp(a, "--rate")) o->rate = atof(v);
    else if (!strcmp(a, "--window")) o->window = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--size")) o->size = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--slow")) o->slow = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--msgs")) o->msgs = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--sources")) o->sources = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--dialect")) o->dialect = v;
    else if (!strcmp(a, "--chat")) o->chat = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--chat-rate")) o->chat_rate = atof(v);
    else if (!strcmp(a, "--close")) o->close = (uint32_t)strtoul(v, NULL, 10);
    else if (!strcmp(a, "--phase-timeout")) o->phase_timeout = atof(v);
    else if (!strcmp(a, "--json")) o->json = v;
    else {
      fprintf(stderr, "loadgen: unknown option %s (see --help)\n", a);
      return -1;
    }
  }
  if (o->port <= 0 || o->port > 65535 || o->conns == 0 || o->duration <= 0) {
    fprintf(stderr, "loadgen: need --port, and --conns and --duration above 0 (see --help)\n");
    return -1;
  }
  if (o->sources == 0 || o->sources > 254) o->sources = 1;
  return 0;
}

/* ======================================================================== report */

static double us(uint64_t ns) { return (double)ns / 1e3; }

static void report(const lg_opts_t *o, const lg_result_t *r) {
  char line[6144];
  const lg_hist_t *h = &r->lat;
  double rate = r->secs > 0 ? (double)r->ops / r->secs : 0;
  double per_op = (r->cpu_us >= 0 && r->ops) ? (double)r->cpu_us / (double)r->ops : -1;
  double srv_pct = (r->cpu_us >= 0 && r->secs > 0) ? (double)r->cpu_us / (r->secs * 1e4) : -1;
  int n = snprintf(
      line, sizeof line,
      "{\"label\":\"%s\",\"case\":\"%s\",\"scenario\":\"%s\",\"conns\":%u,\"duration_s\":%g,\"rate\":%g,"
      "\"window\":%u,\"size\":%u,\"unit\":\"%s\",\"ops\":%llu,\"secs\":%.3f,\"ops_per_s\":%.1f,"
      "\"sent\":%llu,\"lost\":%llu,\"errors\":%llu,"
      "\"lat_us\":{\"n\":%llu,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f},"
      "\"server_cpu_us\":%lld,\"server_cpu_us_per_op\":%.3f,\"server_cpu_pct\":%.1f,"
      "\"rss_before\":%lld,\"rss_after\":%lld,\"rss_peak\":%lld,\"gen_cpu_pct\":%.1f,"
      "\"client\":{\"opened\":%llu,\"ready\":%llu,\"failed\":%llu,\"lost\":%llu,\"refused\":%llu,"
      "\"eof\":%llu,\"proto\":%llu,\"timeouts\":%llu,\"sys\":%llu,\"pings\":%llu}%s}",
      o->label, o->tag ? o->tag : o->scenario, o->scenario, o->conns, o->duration, o->rate, o->window, o->size, r->unit,
      (unsigned long long)r->ops, r->secs, rate, (unsigned long long)r->sent,
      (unsigned long long)r->lost, (unsigned long long)r->errors, (unsigned long long)h->count,
      us(lg_hist_quantile(h, 0.5)), us(lg_hist_quantile(h, 0.99)), us(lg_hist_quantile(h, 0.999)),
      us(h->max), h->count ? us(h->sum / h->count) : 0.0, (long long)r->cpu_us, per_op, srv_pct,
      (long long)r->rss_before, (long long)r->rss_after, (long long)r->rss_peak, r->gen_cpu_pct,
      (unsigned long long)lg_stats.opened, (unsigned long long)lg_stats.ready,
      (unsigned long long)lg_stats.failed, (unsigned long long)lg_stats.lost,
      (unsigned long long)lg_stats.refused, (unsigned long long)lg_stats.eof,
      (unsigned long long)lg_stats.proto, (unsigned long long)lg_stats.timeouts,
      (unsigned long long)lg_stats.sys, (unsigned long long)lg_stats.pings, r->extra);
  if (n < 0 || (size_t)n >= sizeof line) {
    fprintf(stderr, "loadgen: report too long\n");
    return;
  }
  puts(line);
  fflush(stdout);
  if (o->json) {
    FILE *f = fopen(o->json, "a");
    if (f) {
      fprintf(f, "%s\n", line);
      fclose(f);
    } else {
      perror(o->json);
    }
  }
  if (o->quiet) return;
  fprintf(stderr,
          "%s %s: %.0f %s/s over %.1f s (%llu), latency p50 %.0f p99 %.0f p99.9 %.0f max %.0f us, "
          "lost %llu, errors %llu, server %.2f us CPU/%s (%.0f%% of a core), RSS %.1f -> %.1f MB "
          "(peak %.1f), generator %.0f%% of a core\n",
          o->label, o->scenario, rate, r->unit, r->secs, (unsigned long long)r->ops,
          us(lg_hist_quantile(h, 0.5)), us(lg_hist_quantile(h, 0.99)),
          us(lg_hist_quantile(h, 0.999)), us(h->max), (unsigned long long)r->lost,
          (unsigned long long)r->errors, per_op, r->unit, srv_pct, (double)r->rss_before / 1048576,
          (double)r->rss_after / 1048576, (double)r->rss_peak / 1048576, r->gen_cpu_pct);
}

int main(int argc, char **argv) {
  lg_opts_t o;
  if (parse_args(argc, argv, &o) != 0) return 2;
  static lg_result_t r;
  r.unit = "op";
  r.cpu_us = r.rss_before = r.rss_after = r.rss_peak = -1;
  int rc;
  if (!strcmp(o.scenario, "connect")) rc = lg_run_connect(&o, &r);
  else if (!strcmp(o.scenario, "fanout")) rc = lg_run_fanout(&o, &r);
  else if (!strcmp(o.scenario, "slow")) rc = lg_run_slow(&o, &r);
  else if (!strcmp(o.scenario, "echo")) rc = lg_run_echo(&o, &r);
  else if (!strcmp(o.scenario, "churn")) rc = lg_run_churn(&o, &r);
  else if (!strcmp(o.scenario, "app")) rc = lg_run_app(&o, &r);
  else {
    fprintf(stderr, "loadgen: unknown scenario %s (see --help)\n", o.scenario);
    return 2;
  }
  if (rc != 0) return 1;
  report(&o, &r);
  return 0;
}
