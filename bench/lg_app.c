/*
 * bench/lg_app.c: the `app` scenario: idle lobby visitors arriving and leaving while a
 * few people chat. It compares the noom app (build/noom, lobby on) with the library
 * alone (build/examples/echo): --dialect app or lib picks the events spoken.
 *
 *   1. --chat clients (default 4) connect and enter the room "chat": app: enter_room
 *      ("c<i>", "chat", ack); lib: join("chat", ack). From then on until the end each
 *      sends --chat-rate (default 4, under the app's 5/s rate limit) messages per second:
 *      app: new_message("m<seq>", "chat", ack), which the server relays to the others as
 *      new_message("c<i>: m<seq>", "chat"); lib: bcast({room:"chat", seq}) followed by
 *      echo(seq) for the ack. Each relayed message a chat client receives is one
 *      delivery; its latency is send -> receipt.
 *   2. Connect phase: --conns idle connections at --rate per second (at most --window
 *      handshakes in flight). Each gets one greeting from the server on connect (app:
 *      room_change from the lobby; lib: auth). The phase ends once every connection is
 *      ready and greeted (or --phase-timeout); server CPU over it / connections = CPU per
 *      connect. Chat latency over this phase is the `chat` figure.
 *   3. Hold --duration seconds: RSS with everyone connected (rss_held, rss_per_conn).
 *   4. Disconnect phase: --close connections (default 10000, at most --conns) leave the
 *      way socket.io-client's disconnect() does (SIO "41", WebSocket close, the server
 *      closes TCP), at --rate per second with at most 64 closes in flight. The phase
 *      ends when the server is quiet again: every close finished, no event reached an
 *      idle connection and the server used under 10% of a core for 300 ms. Server CPU
 *      over it / closes = CPU per disconnect (it includes what a disconnect makes the
 *      server send the remaining sockets, e.g. the app's lobby refresh).
 *   5. The chat stops and its last deliveries are awaited (2 s at most); rss_after.
 *
 * The chat traffic (16 messages/s by default) runs in both phases and costs the same on
 * both servers; it is part of the measured CPU, a few hundred microseconds per second.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

#define CLOSE_WINDOW 64
#define QUIET_NS 300000000ull

enum { P_IDLE = 0, P_ENTERING, P_CHATTING, P_CLOSING, P_CLOSED };
enum { PH_SETUP = 0, PH_CONNECT, PH_HOLD, PH_CLOSE, PH_DRAIN };

static int app;          /* dialect: 1 = noom app, 0 = the library's echo example */
static uint32_t nidle, nchat, entered, greeted, closed, close_timeouts, idle_lost, chat_lost;
static uint64_t idle_events;
static int phase;
/* Chat bookkeeping, indexed by sequence number. */
static uint64_t *sent_at;
static uint8_t *sent_phase;
static uint64_t seq_cap, chat_sent, chat_acked, chat_ack_errors, chat_delivered, chat_expected;
static uint64_t *next_send; /* per chat client */
static lg_hist_t chat_lat[2]; /* deliveries of messages sent in the connect / close phase */

static int is_chat(const lg_conn_t *c) { return c->id >= nidle; }

static void on_ready(lg_conn_t *c, uint64_t now) {
  (void)now;
  if (!is_chat(c)) return;
  char buf[128];
  int n = app ? snprintf(buf, sizeof buf, "421[\"enter_room\",\"c%u\",\"chat\"]", c->id - nidle)
              : snprintf(buf, sizeof buf, "421[\"join\",\"chat\"]");
  lg_send(c, buf, (size_t)n);
  c->phase = P_ENTERING;
  c->next_ack = 2;
}

static void on_ack(lg_conn_t *c, uint64_t id, const char *json, size_t len, uint64_t now) {
  (void)now;
  if (!is_chat(c)) return;
  if (id == 1 && c->phase == P_ENTERING) {
    c->phase = P_CHATTING;
    entered++;
    return;
  }
  chat_acked++;
  if (memmem(json, len, "\"error\"", 7)) chat_ack_errors++;
}

/* The sequence number of a relayed chat message, or -1. */
static int64_t chat_seq(const char *json, size_t len) {
  uint64_t v;
  if (!app) {
    if (len < 9 || memcmp(json, "[\"bcast\",", 9) != 0) return -1;
    return lg_json_u64(json, len, "seq", &v) == 0 ? (int64_t)v : -1;
  }
  if (len < 15 || memcmp(json, "[\"new_message\",", 15) != 0) return -1;
  const char *p = memmem(json, len, ": m", 3);
  if (!p) return -1;
  p += 3;
  const char *end = json + len;
  if (p >= end || *p < '0' || *p > '9') return -1;
  v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
  return (int64_t)v;
}

static void on_event(lg_conn_t *c, const char *json, size_t len, uint64_t now) {
  if (!is_chat(c)) {
    /* The first event is the greeting (app: room_change; lib: auth). */
    if (c->rx++ == 0) greeted++;
    idle_events++;
    return;
  }
  int64_t s = chat_seq(json, len);
  if (s < 0 || (uint64_t)s >= chat_sent) return;
  chat_delivered++;
  uint8_t ph = sent_phase[s];
  if (ph == PH_CONNECT) lg_hist_add(&chat_lat[0], now - sent_at[s]);
  else if (ph == PH_CLOSE) lg_hist_add(&chat_lat[1], now - sent_at[s]);
}

static void on_close(lg_conn_t *c, int err) {
  if (is_chat(c)) {
    chat_lost++;
    c->phase = P_CLOSED;
    return;
  }
  if (c->phase == P_CLOSING) {
    closed++;
    if (err == LG_ETIMEOUT) close_timeouts++;
  } else {
    idle_lost++;
  }
  c->phase = P_CLOSED;
}

/* Sends the chat messages that are due. */
static void chat_tick(lg_conn_t *chat, double rate, uint64_t now) {
  if (rate <= 0) return;
  uint64_t period = (uint64_t)(1e9 / rate);
  for (uint32_t i = 0; i < nchat; i++) {
    lg_conn_t *c = &chat[i];
    if (c->phase != P_CHATTING || now < next_send[i]) continue;
    /* Late (the generator was busy): send one now and resume the pace from here. */
    next_send[i] = next_send[i] + period < now ? now + period : next_send[i] + period;
    if (chat_sent == seq_cap) {
      seq_cap = seq_cap ? seq_cap * 2 : 4096;
      sent_at = realloc(sent_at, seq_cap * sizeof *sent_at);
      sent_phase = realloc(sent_phase, seq_cap);
      if (!sent_at || !sent_phase) abort();
    }
    uint64_t s = chat_sent++;
    sent_at[s] = now;
    sent_phase[s] = (uint8_t)phase;
    chat_expected += entered > 0 ? entered - 1 : 0;
    char buf[160];
    int n;
    if (app) {
      n = snprintf(buf, sizeof buf, "42%u[\"new_message\",\"m%llu\",\"chat\"]", c->next_ack++,
                   (unsigned long long)s);
    } else {
      n = snprintf(buf, sizeof buf, "42[\"bcast\",{\"room\":\"chat\",\"seq\":%llu}]", (unsigned long long)s);
      lg_send(c, buf, (size_t)n);
      n = snprintf(buf, sizeof buf, "42%u[\"echo\",%llu]", c->next_ack++, (unsigned long long)s);
    }
    lg_send(c, buf, (size_t)n);
  }
}

static void hist_json(lg_result_t *r, const char *name, const lg_hist_t *h) {
  lg_extra(r, ",\"%s\":{\"n\":%llu,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}", name,
           (unsigned long long)h->count, (double)lg_hist_quantile(h, 0.5) / 1e3,
           (double)lg_hist_quantile(h, 0.99) / 1e3, (double)h->max / 1e3);
}

int lg_run_app(const lg_opts_t *o, lg_result_t *r) {
  app = o->dialect && strcmp(o->dialect, "app") == 0;
  nidle = o->conns;
  nchat = o->chat;
  uint32_t nclose = o->close < nidle ? o->close : nidle;
  entered = greeted = closed = close_timeouts = idle_lost = chat_lost = 0;
  idle_events = chat_sent = chat_acked = chat_ack_errors = chat_delivered = chat_expected = 0;
  lg_hist_reset(&chat_lat[0]);
  lg_hist_reset(&chat_lat[1]);
  phase = PH_SETUP;
  lg_conn_t *conns = calloc((size_t)nidle + nchat, sizeof *conns);
  next_send = calloc(nchat ? nchat : 1, sizeof *next_send);
  lg_handlers_t h = {.on_ready = on_ready, .on_event = on_event, .on_ack = on_ack, .on_close = on_close};
  if (!conns || !next_send || lg_client_init(o, &h) != 0) {
    free(conns);
    free(next_send);
    return -1;
  }
  lg_conn_t *chat = conns + nidle;
  r->unit = "connection";

  /* 1. The chat room. */
  uint64_t t = lg_now(), deadline = t + 10000000000ull;
  for (uint32_t i = 0; i < nchat; i++) {
    chat[i].id = nidle + i;
    lg_open(&chat[i]);
  }
  lg_flush();
  while (entered + chat_lost < nchat && (t = lg_now()) < deadline) lg_poll(5000000);
  if (entered < nchat) {
    fprintf(stderr, "loadgen: app: only %u of %u chat clients entered the room\n", entered, nchat);
    lg_client_done(conns, (size_t)nidle + nchat);
    free(conns);
    free(next_send);
    return -1;
  }
  t = lg_now();
  for (uint32_t i = 0; i < nchat; i++) next_send[i] = t + (uint64_t)(1e9 / (o->chat_rate > 0 ? o->chat_rate : 1) * i / nchat);

  /* 2. Connect phase. */
  r->rss_before = r->rss_peak = lg_proc_rss(o->pid);
  phase = PH_CONNECT;
  lg_mark_t m;
  lg_mark(&m, o->pid);
  deadline = m.t + (uint64_t)(o->phase_timeout * 1e9);
  uint64_t ready0 = lg_stats.ready, failed0 = lg_stats.failed;
  uint32_t window = o->window ? o->window : 256, next = 0;
  lg_connect_lat = &r->lat;
  for (;;) {
    uint64_t now = lg_now();
    uint64_t ready = lg_stats.ready - ready0, done = ready + (lg_stats.failed - failed0);
    if ((done >= nidle && greeted >= ready) || now >= deadline) break;
    uint64_t allowed = o->rate > 0 ? (uint64_t)((double)(now - m.t) / 1e9 * o->rate) + 1 : nidle;
    while (next < nidle && next < allowed && next - done < window) {
      conns[next].id = next;
      lg_open(&conns[next]);
      next++;
    }
    chat_tick(chat, o->chat_rate, now);
    lg_flush();
    lg_poll(200000);
    lg_sample_rss(r, o->pid, now);
  }
  lg_connect_lat = NULL;
  lg_mark_end(&m, o->pid, 0, r);
  uint32_t ready = 0;
  for (uint32_t i = 0; i < nidle; i++) ready += conns[i].state == LG_READY;
  r->ops = ready;
  r->sent = nidle;
  r->errors = nidle - ready;
  uint32_t greeted_connect = greeted;

  /* 3. Hold. */
  phase = PH_HOLD;
  uint64_t hold_end = lg_now() + (uint64_t)(o->duration * 1e9);
  for (uint64_t now = lg_now(); now < hold_end; now = lg_now()) {
    chat_tick(chat, o->chat_rate, now);
    lg_flush();
    lg_poll(1000000);
    lg_sample_rss(r, o->pid, now);
  }
  int64_t rss_held = lg_proc_rss(o->pid);
  if (rss_held > r->rss_peak) r->rss_peak = rss_held;
  uint32_t held = 0;
  for (uint32_t i = 0; i < nidle; i++) held += conns[i].state == LG_READY;
  r->lost = ready - held;

  /* 4. Disconnect phase. */
  phase = PH_CLOSE;
  lg_mark_t cm;
  lg_mark(&cm, o->pid);
  deadline = cm.t + (uint64_t)(o->phase_timeout * 1e9);
  uint32_t issued = 0, cursor = 0;
  uint64_t quiet_since = 0, quiet_events = 0, last_close = cm.t;
  int64_t quiet_cpu = 0;
  for (;;) {
    uint64_t now = lg_now();
    if (now >= deadline) break;
    uint64_t allowed = o->rate > 0 ? (uint64_t)((double)(now - cm.t) / 1e9 * o->rate) + 1 : nclose;
    while (issued < nclose && issued < allowed && issued - closed < CLOSE_WINDOW && cursor < nidle) {
      lg_conn_t *c = &conns[cursor++];
      if (c->state != LG_READY) continue;
      c->phase = P_CLOSING;
      lg_close(c, 1);
      issued++;
    }
    if (cursor >= nidle) nclose = issued; /* fewer held than asked for */
    if (issued >= nclose && closed >= issued) {
      /* Every close is done: wait for the server to go quiet. */
      if (quiet_since == 0 || idle_events != quiet_events) {
        if (quiet_since == 0) last_close = now;
        quiet_since = now;
        quiet_events = idle_events;
        quiet_cpu = lg_proc_cpu_us(o->pid);
      } else if (now - quiet_since >= QUIET_NS) {
        int64_t cpu = lg_proc_cpu_us(o->pid);
        if (cpu - quiet_cpu < (int64_t)(QUIET_NS / 1000 / 10)) break;
        quiet_since = now;
        quiet_cpu = cpu;
      }
    }
    chat_tick(chat, o->chat_rate, now);
    lg_flush();
    lg_poll(200000);
    lg_sample_rss(r, o->pid, now);
  }
  lg_result_t cr = {0};
  lg_mark_end(&cm, o->pid, 0, &cr);
  double close_secs = (double)(last_close - cm.t) / 1e9;

  /* 5. Drain the chat. */
  phase = PH_DRAIN;
  deadline = lg_now() + 2000000000ull;
  while ((chat_delivered < chat_expected || chat_acked < chat_sent) && lg_now() < deadline) lg_poll(5000000);
  r->rss_after = lg_proc_rss(o->pid);
  if (r->rss_after > r->rss_peak) r->rss_peak = r->rss_after;

  double per_conn = ready && rss_held >= 0 ? (double)(rss_held - r->rss_before) / ready : -1;
  lg_extra(r, ",\"dialect\":\"%s\",\"held\":%u,\"greeted\":%u,\"rss_held\":%lld,\"rss_per_conn\":%.0f,\"hold_s\":%g",
           app ? "app" : "lib", held, greeted_connect, (long long)rss_held, per_conn, o->duration);
  lg_extra(r, ",\"closes\":%u,\"closed\":%u,\"close_timeouts\":%u,\"close_secs\":%.3f,\"close_settle_secs\":%.3f,"
              "\"close_cpu_us\":%lld,\"close_cpu_us_per_op\":%.3f,\"idle_lost\":%u,\"idle_events\":%llu",
           issued, closed, close_timeouts, close_secs, cr.secs, (long long)cr.cpu_us,
           issued && cr.cpu_us >= 0 ? (double)cr.cpu_us / issued : -1.0, idle_lost,
           (unsigned long long)idle_events);
  lg_extra(r, ",\"chat_clients\":%u,\"chat_rate\":%g,\"chat_sent\":%llu,\"chat_acked\":%llu,\"chat_ack_errors\":%llu,"
              "\"chat_expected\":%llu,\"chat_delivered\":%llu,\"chat_lost_conns\":%u",
           nchat, o->chat_rate, (unsigned long long)chat_sent, (unsigned long long)chat_acked,
           (unsigned long long)chat_ack_errors, (unsigned long long)chat_expected,
           (unsigned long long)chat_delivered, chat_lost);
  hist_json(r, "chat_lat_us", &chat_lat[0]);
  hist_json(r, "chat_close_lat_us", &chat_lat[1]);
  if (!o->quiet)
    fprintf(stderr,
            "%s app (%s): %u/%u connected (%u greeted), %.1f us CPU per connect; %u closed, %.1f us CPU per "
            "disconnect; RSS held %.1f MB, after %.1f MB, peak %.1f MB; chat %llu/%llu delivered, p50 %.0f p99 %.0f "
            "us while connecting, p50 %.0f p99 %.0f us while disconnecting; %llu/%llu acked (%llu errors)\n",
            o->label, app ? "app" : "lib", ready, nidle, greeted_connect,
            ready && r->cpu_us >= 0 ? (double)r->cpu_us / ready : -1.0, closed,
            issued && cr.cpu_us >= 0 ? (double)cr.cpu_us / issued : -1.0, (double)rss_held / 1048576,
            (double)r->rss_after / 1048576, (double)r->rss_peak / 1048576,
            (unsigned long long)chat_delivered, (unsigned long long)chat_expected,
            (double)lg_hist_quantile(&chat_lat[0], 0.5) / 1e3, (double)lg_hist_quantile(&chat_lat[0], 0.99) / 1e3,
            (double)lg_hist_quantile(&chat_lat[1], 0.5) / 1e3, (double)lg_hist_quantile(&chat_lat[1], 0.99) / 1e3,
            (unsigned long long)chat_acked, (unsigned long long)chat_sent, (unsigned long long)chat_ack_errors);
  lg_client_done(conns, (size_t)nidle + nchat);
  free(conns);
  free(next_send);
  free(sent_at);
  free(sent_phase);
  sent_at = NULL;
  sent_phase = NULL;
  seq_cap = 0;
  return 0;
}
