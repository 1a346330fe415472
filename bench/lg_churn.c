/*
 * bench/lg_churn.c: the `churn` scenario: clients arriving, chatting and leaving.
 *
 * --conns slots each run one client lifecycle after another, like visitors of the noom
 * lobby: connect; join("lobby") and join("room<k>") (acked); announce the room change
 * to the lobby (bcast {room:"lobby", type:"room_change"}, which reaches every other
 * lobby member: the lobby's room_change fan-out); emit --msgs chat messages to room<k>
 * (bcast); echo(1) as a barrier (its ack means the server has handled everything
 * before it); announce leaving to the lobby; then disconnect ("41", WebSocket close,
 * the server closes TCP). A slot whose client is gone starts the next one at once.
 * Reports lifecycles per second (connections/s sustained), the server CPU per
 * lifecycle, each lifecycle's duration, and the deliveries the clients received.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

static uint64_t lifecycles, deliveries, failures, last_done;
static int measuring;
static uint32_t rooms, msgs;
static lg_hist_t *lat;

static void send_fmt(lg_conn_t *c, const char *fmt, uint32_t a, uint32_t b) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, fmt, a, b);
  lg_send(c, buf, (size_t)n);
}

static void on_ready(lg_conn_t *c, uint64_t now) {
  (void)now;
  c->group = c->id % rooms;
  lg_send(c, "421[\"join\",\"lobby\"]", 19);
  send_fmt(c, "422[\"join\",\"room%u\"]", c->group, 0);
  c->phase = 1;
}

static void on_ack(lg_conn_t *c, uint64_t id, const char *json, size_t len, uint64_t now) {
  (void)json, (void)len, (void)now;
  if (id == 2 && c->phase == 1) { /* acks come in order: both joins are done */
    send_fmt(c, "42[\"bcast\",{\"room\":\"lobby\",\"type\":\"room_change\",\"to\":\"room%u\",\"user\":%u}]",
             c->group, c->id);
    for (uint32_t i = 0; i < msgs; i++)
      send_fmt(c, "42[\"bcast\",{\"room\":\"room%u\",\"type\":\"chat\",\"text\":\"hello number %u from a churning client\"}]",
               c->group, i);
    lg_send(c, "423[\"echo\",1]", 13);
    c->phase = 2;
  } else if (id == 3 && c->phase == 2) {
    send_fmt(c, "42[\"bcast\",{\"room\":\"lobby\",\"type\":\"room_change\",\"to\":null,\"user\":%u}]", c->id, 0);
    c->phase = 3;
    lg_close(c, 1);
  }
}

static void on_event(lg_conn_t *c, const char *json, size_t len, uint64_t now) {
  (void)c, (void)now;
  /* Only the broadcasts are deliveries (both servers also greet each socket with "auth"). */
  if (measuring && len >= 9 && memcmp(json, "[\"bcast\",", 9) == 0) deliveries++;
}

static void on_close(lg_conn_t *c, int err) {
  uint64_t now = lg_now();
  if (c->phase == 3 && err == 0) {
    if (measuring) {
      lifecycles++;
      lg_hist_add(lat, now - c->t0);
      last_done = now;
    }
  } else if (measuring) {
    failures++;
  }
  c->phase = 0;
}

int lg_run_churn(const lg_opts_t *o, lg_result_t *r) {
  uint32_t n = o->conns;
  lifecycles = deliveries = failures = last_done = 0;
  measuring = 0;
  msgs = o->msgs;
  rooms = n / 10 ? n / 10 : 1;
  lat = &r->lat;
  lg_conn_t *conns = calloc(n, sizeof *conns);
  lg_handlers_t h = {.on_ready = on_ready, .on_event = on_event, .on_ack = on_ack, .on_close = on_close};
  if (!conns || lg_client_init(o, &h) != 0) {
    free(conns);
    return -1;
  }
  r->unit = "lifecycle";
  r->rss_before = r->rss_peak = lg_proc_rss(o->pid);
  double warm = o->duration / 5 < 1 ? o->duration / 5 : 1;
  uint64_t start = lg_now(), warm_end = start + (uint64_t)(warm * 1e9);
  uint64_t end = warm_end + (uint64_t)(o->duration * 1e9);
  lg_mark_t m = {0};
  for (uint64_t now = start; now < end; now = lg_now()) {
    if (!measuring && now >= warm_end) {
      lg_mark(&m, o->pid);
      lg_hist_reset(lat);
      measuring = 1;
    }
    /* Refill the population: a free slot starts its next client now. */
    for (uint32_t i = 0; i < n; i++)
      if (conns[i].state == LG_FREE) {
        conns[i].id = i;
        conns[i].phase = 0;
        lg_open(&conns[i]);
      }
    lg_flush();
    lg_poll(1000000);
    lg_sample_rss(r, o->pid, now);
  }
  measuring = 0;
  lg_mark_end(&m, o->pid, last_done, r);
  r->rss_after = lg_proc_rss(o->pid);
  if (r->rss_after > r->rss_peak) r->rss_peak = r->rss_after;
  r->ops = lifecycles;
  r->errors = failures;
  double secs = r->secs > 0 ? r->secs : 1;
  lg_extra(r, ",\"population\":%u,\"rooms\":%u,\"msgs\":%u,\"deliveries\":%llu,\"deliveries_per_s\":%.1f",
           n, rooms, msgs, (unsigned long long)deliveries, (double)deliveries / secs);
  lg_client_done(conns, n);
  free(conns);
  return 0;
}
