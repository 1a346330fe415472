/*
 * bench/lg_fanout.c: the `fanout` and `slow` scenarios: one sender, a room of receivers.
 *
 * --conns receivers connect and emit join("r") (acked true); one more connection, the
 * sender, emits bcast({room:"r", t, s, p}) which the server re-emits as `bcast` to every
 * member but the sender. t is the send time (CLOCK_MONOTONIC ns, same host) so each
 * receiver measures end-to-end latency; s is a sequence number so each receiver counts
 * gaps and the run counts losses; p pads the packet to --size bytes.
 *
 * fanout: closed loop with at most --window messages not yet delivered to every receiver
 * (--rate 0), or an open loop of --rate messages per second. The first second (a fifth
 * of --duration when shorter) warms up (Node's JIT) and is not measured.
 *
 * slow: the same at a fixed rate, but the first --slow receivers stop reading once they
 * have joined. A server that buffers without limit grows its RSS by rate x size per slow
 * receiver and second; one with a bounded send queue drops them (or volatile packets).
 * Reports the server's peak RSS, how many slow receivers the server disconnected, and
 * the healthy receivers' deliveries and latency (they should not suffer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

#define RING (1u << 20) /* completion counters, indexed by sequence number */

static uint32_t nrecv, joined, expect, healthy_closed, slow_closed;
static uint32_t *ring;
static uint64_t sent, completed, delivered, last_rx;
static int measuring;
static lg_hist_t *lat;

static void on_ready(lg_conn_t *c, uint64_t now) {
  (void)now;
  if (c->id >= nrecv) return; /* the sender joins nothing */
  static const char join[] = "420[\"join\",\"r\"]";
  lg_send(c, join, sizeof join - 1);
  c->phase = 1;
}

static void on_ack(lg_conn_t *c, uint64_t id, const char *json, size_t len, uint64_t now) {
  (void)id, (void)json, (void)len, (void)now;
  if (c->phase == 1) {
    c->phase = 2;
    joined++;
  }
}

static void on_event(lg_conn_t *c, const char *json, size_t len, uint64_t now) {
  uint64_t t, s;
  if (len < 9 || memcmp(json, "[\"bcast\",", 9) != 0) return;
  if (lg_json_u64(json, len, "t", &t) != 0 || lg_json_u64(json, len, "s", &s) != 0) return;
  c->rx++;
  if (s > c->next_seq) c->gaps += s - c->next_seq;
  c->next_seq = s + 1;
  if (measuring) {
    delivered++;
    lg_hist_add(lat, now > t ? now - t : 0);
    last_rx = now;
  }
  /* A message is complete when every healthy receiver has it: the closed loop's window. */
  if (c->group == 1) {
    uint32_t *k = &ring[s & (RING - 1)];
    if (++*k == expect) {
      *k = 0;
      completed++;
    }
  }
}

static void on_close(lg_conn_t *c, int err) {
  (void)err;
  if (c->id >= nrecv) return;
  if (c->group == 1) healthy_closed++;
  else if (c->group == 2) slow_closed++;
}

static void send_msgs(lg_conn_t *sender, uint64_t count, uint32_t size) {
  static char buf[1 << 17];
  char prefix[128];
  uint64_t now = lg_now();
  if (size > sizeof buf - 64) size = sizeof buf - 64;
  for (uint64_t i = 0; i < count; i++) {
    int pl = snprintf(prefix, sizeof prefix, "42[\"bcast\",{\"room\":\"r\",\"t\":%llu,\"s\":%llu,\"p\":\"",
                      (unsigned long long)now, (unsigned long long)sent);
    size_t n = lg_pad(buf, sizeof buf, prefix, (size_t)pl, "\"}]", size);
    lg_send(sender, buf, n);
    sent++;
  }
}

static int run(const lg_opts_t *o, lg_result_t *r, uint32_t nslow) {
  nrecv = o->conns;
  joined = expect = healthy_closed = slow_closed = 0;
  sent = completed = delivered = last_rx = 0;
  measuring = 0;
  lat = &r->lat;
  ring = calloc(RING, sizeof *ring);
  lg_conn_t *conns = calloc(nrecv + 1, sizeof *conns);
  lg_handlers_t h = {.on_ready = on_ready, .on_event = on_event, .on_ack = on_ack, .on_close = on_close};
  if (!ring || !conns || lg_client_init(o, &h) != 0) {
    free(ring);
    free(conns);
    return -1;
  }
  r->unit = "delivery";
  lg_conn_t *sender = &conns[nrecv];

  /* Setup (not measured): everyone connects, receivers join the room. */
  uint32_t ready = lg_connect_all(conns, nrecv + 1, 0, 256, 120, NULL);
  uint64_t t0 = lg_now();
  while (joined < ready - (sender->state == LG_READY) && lg_now() - t0 < 30000000000ull) {
    lg_flush();
    lg_poll(5000000);
  }
  if (sender->state != LG_READY || joined == 0) {
    fprintf(stderr, "loadgen: %s: setup failed (%u of %u connected, %u joined)\n", o->scenario,
            ready, nrecv + 1, joined);
    lg_client_done(conns, nrecv + 1);
    free(conns);
    free(ring);
    return -1;
  }
  /* group: 0 not joined, 1 healthy receiver, 2 slow receiver (stops reading). */
  uint32_t slow_set = 0;
  for (uint32_t i = 0; i < nrecv; i++) {
    if (conns[i].phase != 2 || conns[i].state != LG_READY) continue;
    if (slow_set < nslow) {
      conns[i].group = 2;
      lg_set_reading(&conns[i], 0);
      slow_set++;
    } else {
      conns[i].group = 1;
      expect++;
    }
  }
  r->rss_before = r->rss_peak = lg_proc_rss(o->pid);

  /* Send: warm-up, then the measured phase. */
  uint32_t window = o->window ? o->window : 16;
  double warm = o->duration / 5 < 1 ? o->duration / 5 : 1;
  uint64_t start = lg_now(), warm_end = start + (uint64_t)(warm * 1e9);
  uint64_t end = warm_end + (uint64_t)(o->duration * 1e9);
  uint64_t last_progress = start, last_completed = 0;
  lg_mark_t m = {0};
  int stalled = 0;
  for (;;) {
    uint64_t now = lg_now();
    if (!measuring && now >= warm_end) {
      lg_mark(&m, o->pid);
      lg_hist_reset(lat);
      delivered = 0;
      measuring = 1;
    }
    if (now >= end || sender->state != LG_READY) break;
    if (o->rate > 0) {
      uint64_t due = (uint64_t)((double)(now - start) / 1e9 * o->rate);
      if (due > sent) send_msgs(sender, due - sent > 1000 ? 1000 : due - sent, o->size);
    } else if (sent - completed < window) {
      send_msgs(sender, window - (sent - completed), o->size);
    }
    if (completed != last_completed) {
      last_completed = completed;
      last_progress = now;
    } else if (o->rate == 0 && now - last_progress > 5000000000ull) {
      stalled = 1; /* a receiver died or lost messages: the window never reopens */
      break;
    }
    lg_flush();
    uint64_t tick = o->rate > 0 ? (uint64_t)(1e9 / o->rate) : 1000000;
    lg_poll(tick > 1000000 ? 1000000 : tick < 20000 ? 20000 : tick);
    lg_sample_rss(r, o->pid, now);
  }
  /* Drain what is in flight: "lost" below means not delivered by the end of the drain
   * (the slow scenario never completes its window: it stops after 2 s). */
  uint64_t drain_end = lg_now() + (nslow ? 2000000000ull : 3000000000ull);
  for (uint64_t now = lg_now(); completed < sent && now < drain_end; now = lg_now()) {
    lg_poll(1000000);
    lg_sample_rss(r, o->pid, now);
  }
  measuring = 0;
  lg_mark_end(&m, o->pid, last_rx, r);
  r->rss_after = lg_proc_rss(o->pid);
  if (r->rss_after > r->rss_peak) r->rss_peak = r->rss_after;

  /* Losses over the whole run: every healthy receiver should hold every message. */
  uint64_t received = 0, gaps = 0;
  uint32_t slow_dropped = 0;
  for (uint32_t i = 0; i < nrecv; i++) {
    if (conns[i].group == 1) {
      received += conns[i].rx;
      gaps += conns[i].gaps;
    } else if (conns[i].group == 2 && conns[i].state != LG_FREE) {
      slow_dropped += lg_drain_check_closed(&conns[i], 300000000ull);
    }
  }
  slow_dropped += slow_closed;
  r->ops = delivered;
  r->sent = sent;
  r->lost = sent * expect > received ? sent * expect - received : 0;
  r->errors = healthy_closed + (uint64_t)stalled;
  lg_extra(r, ",\"receivers\":%u,\"healthy\":%u,\"messages\":%llu,\"gaps\":%llu,\"stalled\":%d",
           nrecv, expect, (unsigned long long)sent, (unsigned long long)gaps, stalled);
  if (nslow)
    lg_extra(r, ",\"slow\":%u,\"slow_disconnected\":%u,\"rss_growth\":%lld", slow_set,
             slow_dropped, (long long)(r->rss_peak - r->rss_before));
  if (!o->quiet) {
    fprintf(stderr, "%s %s: %llu messages to %u receivers, %llu lost, %llu gaps%s\n", o->label,
            o->scenario, (unsigned long long)sent, expect, (unsigned long long)r->lost,
            (unsigned long long)gaps, stalled ? ", STALLED" : "");
    if (nslow)
      fprintf(stderr, "%s slow: %u of %u slow receivers disconnected by the server; RSS peak %.1f MB (+%.1f MB)\n",
              o->label, slow_dropped, slow_set, (double)r->rss_peak / 1048576,
              (double)(r->rss_peak - r->rss_before) / 1048576);
  }
  lg_client_done(conns, nrecv + 1);
  free(conns);
  free(ring);
  return 0;
}

int lg_run_fanout(const lg_opts_t *o, lg_result_t *r) { return run(o, r, 0); }

int lg_run_slow(const lg_opts_t *o, lg_result_t *r) {
  uint32_t nslow = o->slow == UINT32_MAX ? (o->conns + 9) / 10 : o->slow;
  if (nslow >= o->conns) nslow = o->conns - 1;
  if (o->rate <= 0) {
    fprintf(stderr, "loadgen: slow needs --rate (messages/s)\n");
    return -1;
  }
  return run(o, r, nslow);
}
