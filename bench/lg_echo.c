/*
 * bench/lg_echo.c: the `echo` scenario: emit-with-ack round trips.
 *
 * --conns clients each emit echo({t, p}) with an ack id ("42<id>["echo",{...}]"); the
 * server acks with the same object ("43<id>[{...}]"), so t (send time, ns) gives the
 * round-trip latency. Closed loop (--rate 0): every client keeps --window requests in
 * flight and sends the next one as each ack arrives. Open loop: --rate requests per
 * second in total, spread round-robin over the clients, so two servers can be compared
 * at the same offered load; a client with 256 requests in flight is skipped (counted as
 * "unsent"). The first second (or a fifth of --duration) is warm-up, not measured.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lg.h"

#define MAX_INFLIGHT 256

static uint64_t sent, acked, last_ack, unsent;
static int measuring, sending;
static uint32_t size, window;
static lg_hist_t *lat;

static void send_echo(lg_conn_t *c, uint64_t now) {
  static char buf[1 << 17];
  char prefix[96];
  int pl = snprintf(prefix, sizeof prefix, "42%u[\"echo\",{\"t\":%llu,\"p\":\"", c->next_ack++,
                    (unsigned long long)now);
  size_t n = lg_pad(buf, sizeof buf, prefix, (size_t)pl, "\"}]", size);
  lg_send(c, buf, n);
  c->inflight++;
  sent++;
}

static void on_ack(lg_conn_t *c, uint64_t id, const char *json, size_t len, uint64_t now) {
  (void)id;
  uint64_t t;
  if (lg_json_u64(json, len, "t", &t) != 0) return;
  if (c->inflight) c->inflight--;
  c->rx++;
  if (measuring) {
    acked++;
    lg_hist_add(lat, now > t ? now - t : 0);
    last_ack = now;
  }
  /* Closed loop: the ack frees a slot; the next request leaves with this batch. */
  if (sending && window) send_echo(c, now);
}

int lg_run_echo(const lg_opts_t *o, lg_result_t *r) {
  uint32_t n = o->conns;
  sent = acked = last_ack = unsent = 0;
  measuring = sending = 0;
  size = o->size;
  window = o->rate > 0 ? 0 : (o->window ? o->window : 1);
  lat = &r->lat;
  lg_conn_t *conns = calloc(n, sizeof *conns);
  lg_handlers_t h = {.on_ack = on_ack};
  if (!conns || lg_client_init(o, &h) != 0) {
    free(conns);
    return -1;
  }
  r->unit = "ack";
  uint32_t ready = lg_connect_all(conns, n, 0, 256, 120, NULL);
  if (ready == 0) {
    fprintf(stderr, "loadgen: echo: no client connected\n");
    lg_client_done(conns, n);
    free(conns);
    return -1;
  }
  r->rss_before = r->rss_peak = lg_proc_rss(o->pid);

  double warm = o->duration / 5 < 1 ? o->duration / 5 : 1;
  uint64_t start = lg_now(), warm_end = start + (uint64_t)(warm * 1e9);
  uint64_t end = warm_end + (uint64_t)(o->duration * 1e9);
  lg_mark_t m = {0};
  sending = 1;
  if (window)
    for (uint32_t i = 0; i < n; i++)
      for (uint32_t k = 0; k < window && conns[i].state == LG_READY; k++) send_echo(&conns[i], start);
  uint32_t rr = 0;
  for (;;) {
    uint64_t now = lg_now();
    if (!measuring && now >= warm_end) {
      lg_mark(&m, o->pid);
      lg_hist_reset(lat);
      acked = 0;
      measuring = 1;
    }
    if (now >= end) break;
    if (o->rate > 0) {
      uint64_t due = (uint64_t)((double)(now - start) / 1e9 * o->rate);
      uint64_t offered = sent + unsent;
      for (uint64_t k = offered; k < due && k < offered + 10000; k++) {
        lg_conn_t *c = &conns[rr++ % n];
        if (c->state == LG_READY && c->inflight < MAX_INFLIGHT) send_echo(c, now);
        else unsent++;
      }
    }
    lg_flush();
    uint64_t tick = o->rate > 0 ? (uint64_t)(1e9 / o->rate) : 1000000;
    lg_poll(tick > 1000000 ? 1000000 : tick < 20000 ? 20000 : tick);
    lg_sample_rss(r, o->pid, now);
  }
  sending = 0;
  /* Drain the requests in flight. */
  uint64_t inflight = 0, drain_end = lg_now() + 3000000000ull;
  for (uint64_t now = lg_now(); now < drain_end; now = lg_now()) {
    inflight = 0;
    for (uint32_t i = 0; i < n; i++) inflight += conns[i].state == LG_READY ? conns[i].inflight : 0;
    if (inflight == 0) break;
    lg_poll(1000000);
  }
  measuring = 0;
  lg_mark_end(&m, o->pid, last_ack, r);
  r->rss_after = lg_proc_rss(o->pid);
  if (r->rss_after > r->rss_peak) r->rss_peak = r->rss_after;
  uint64_t got = 0;
  for (uint32_t i = 0; i < n; i++) got += conns[i].rx;
  r->ops = acked;
  r->sent = sent;
  r->lost = sent > got ? sent - got : 0;
  r->errors = lg_stats.lost + lg_stats.failed;
  lg_extra(r, ",\"clients\":%u,\"unsent\":%llu", ready, (unsigned long long)unsent);
  lg_client_done(conns, n);
  free(conns);
  return 0;
}
