/*
 * bench/lg_connect.c: the `connect` scenario: N idle Socket.IO connections.
 *
 * Opens --conns connections at --rate per second (0 = as fast as the server accepts)
 * with at most --window handshakes in flight, then holds them idle for --duration
 * seconds, answering pings. Reports each handshake's latency (TCP connect to the SIO
 * CONNECT answer), the server CPU per new connection (handshake + upgrade + CONNECT)
 * over the connect phase, and the server RSS before the first connection and at the
 * end of the hold: (after - before) / N is the memory one idle connection costs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lg.h"

int lg_run_connect(const lg_opts_t *o, lg_result_t *r) {
  lg_handlers_t h = {0};
  lg_conn_t *conns = calloc(o->conns, sizeof *conns);
  if (!conns || lg_client_init(o, &h) != 0) {
    free(conns);
    return -1;
  }
  r->unit = "connection";
  r->rss_before = r->rss_peak = lg_proc_rss(o->pid);
  lg_mark_t m;
  lg_mark(&m, o->pid);
  double timeout = (o->rate > 0 ? o->conns / o->rate : 0) + 60;
  uint32_t ready =
      lg_connect_all(conns, o->conns, o->rate, o->window ? o->window : 256, timeout, &r->lat);
  lg_mark_end(&m, o->pid, 0, r);
  r->ops = ready;
  r->sent = o->conns;
  r->errors = o->conns - ready;

  /* Hold: the connections stay idle; only heartbeats flow. */
  lg_mark_t hold;
  lg_mark(&hold, o->pid);
  uint64_t end = hold.t + (uint64_t)(o->duration * 1e9);
  for (uint64_t now = hold.t; now < end; now = lg_now()) {
    lg_poll(end - now < 50000000 ? end - now : 50000000);
    lg_sample_rss(r, o->pid, now);
  }
  r->rss_after = lg_proc_rss(o->pid);
  if (r->rss_after > r->rss_peak) r->rss_peak = r->rss_after;
  uint32_t held = 0;
  for (uint32_t i = 0; i < o->conns; i++) held += conns[i].state == LG_READY;
  r->lost = ready - held;
  int64_t hold_cpu = lg_proc_cpu_us(o->pid) - hold.cpu;
  double per_conn = ready && r->rss_after >= 0 ? (double)(r->rss_after - r->rss_before) / ready : -1;
  lg_extra(r, ",\"held\":%u,\"rss_per_conn\":%.0f,\"hold_s\":%g,\"hold_cpu_us\":%lld", held,
           per_conn, o->duration, (long long)hold_cpu);
  if (!o->quiet)
    fprintf(stderr, "%s connect: %u/%u connections ready, %u held; %.0f bytes RSS per idle connection\n",
            o->label, ready, o->conns, held, per_conn);
  lg_client_done(conns, o->conns);
  free(conns);
  return 0;
}
