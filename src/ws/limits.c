/*
 * WebSocket limits: pings and the idle timeout, the deadline of a graceful close, and the
 * deferred hard close of a socket whose peer stopped reading. All four share the
 * connection's timeout node (one timer at a time: see conn.h), on per-server lists of
 * the loop's timeout hub, so they cost a WebSocket no memory.
 */
#include "ws/conn_int.h"

#include "common/log.h"
#include "http/server.h"

static sio_http_t *http_of(const sio__conn_t *c) { return c->io->data; }

static sio_ws_t *ws_of(sio__tnode_t *n) { return sio__container_of(n, sio__conn_t, timeout)->proto_data; }

static void arm(sio_ws_t *ws, sio__tlist_t *l, int what) {
  ws->timer = (uint8_t)what;
  sio__tlist_arm(l, &ws->conn->timeout);
}

static void ping_due(sio__tnode_t *n) {
  sio_ws_t *ws = ws_of(n);
  ws->timer = SIO__WS_T_NONE;
  if (ws->conn == NULL || ws->close_sent) return;
  uint8_t frame[SIO__WS_SERVER_HEADER_MAX];
  size_t hl = sio__ws_frame_header(frame, SIO__WS_OP_PING, 0);
  ws->heard = 0;
  if (sio__conn_write(ws->conn, frame, hl) != 0) return;
  arm(ws, &sio__http_ws_timers(http_of(ws->conn))->pong_wait, SIO__WS_T_PONG);
}

static void pong_overdue(sio__tnode_t *n) {
  sio_ws_t *ws = ws_of(n);
  sio_http_t *h = http_of(ws->conn);
  ws->timer = SIO__WS_T_NONE;
  if (ws->close_sent) return;
  /* Any bytes count as an answer: a busy peer's pong may be behind its messages. */
  if (ws->heard) {
    arm(ws, &sio__http_ws_timers(h)->ping_wait, SIO__WS_T_PING);
    return;
  }
  SIO_LOGI("%s: websocket answered no ping within %llu ms, closing it", sio__conn_peer(ws->conn),
           (unsigned long long)sio__http_opts(h)->ws_ping_timeout_ms);
  ws->close_code = SIO__WS_CLOSE_GOING_AWAY;
  /* A silent peer sends nothing to linger for. */
  sio__ws_close_graceful(ws, SIO__WS_CLOSE_GOING_AWAY, "ping timeout", 0);
}

static void close_overdue(sio__tnode_t *n) {
  sio_ws_t *ws = ws_of(n);
  ws->timer = SIO__WS_T_NONE;
  if (ws->conn == NULL) return;
  SIO_LOGD("%s: websocket close not written within %llu ms (%zu bytes queued), closing hard",
           sio__conn_peer(ws->conn), (unsigned long long)sio__http_opts(http_of(ws->conn))->ws_close_timeout_ms,
           sio__ws_queued(ws));
  sio__conn_abort(ws->conn); /* an RST: a FIN would wait behind what the peer does not read */
}

static void abort_due(sio__tnode_t *n) {
  sio_ws_t *ws = ws_of(n);
  ws->timer = SIO__WS_T_NONE;
  if (ws->conn) sio__conn_abort(ws->conn);
}

void sio__ws_timers_init(sio_http_t *h) {
  sio__http_ws_timers_t *t = sio__http_ws_timers(h);
  const sio_http_opts_t *o = sio__http_opts(h);
  if (t->ready) return;
  t->ready = 1;
  sio__thub_t *hub = sio__http_thub(h);
  sio__tlist_init(&t->ping_wait, hub, o->ws_ping_interval_ms, ping_due);
  sio__tlist_init(&t->pong_wait, hub, o->ws_ping_timeout_ms, pong_overdue);
  sio__tlist_init(&t->close_wait, hub, o->ws_close_timeout_ms, close_overdue);
  sio__tlist_init(&t->abort, hub, 0, abort_due);
}

void sio__ws_keepalive_start(sio_ws_t *ws) {
  sio_http_t *h = http_of(ws->conn);
  if (ws->no_keepalive || sio__http_opts(h)->ws_ping_interval_ms == 0 || sio__http_opts(h)->ws_ping_timeout_ms == 0) return;
  arm(ws, &sio__http_ws_timers(h)->ping_wait, SIO__WS_T_PING);
}

void sio__ws_pong_seen(sio_ws_t *ws) {
  if (ws->conn && ws->timer == SIO__WS_T_PONG) arm(ws, &sio__http_ws_timers(http_of(ws->conn))->ping_wait, SIO__WS_T_PING);
}

void sio_ws_set_keepalive(sio_ws_t *ws, int on) {
  ws->no_keepalive = !on;
  if (ws->conn == NULL || ws->close_sent) return;
  if (!on && (ws->timer == SIO__WS_T_PING || ws->timer == SIO__WS_T_PONG)) {
    sio__tnode_disarm(&ws->conn->timeout);
    ws->timer = SIO__WS_T_NONE;
  } else if (on && ws->timer == SIO__WS_T_NONE) {
    sio__ws_keepalive_start(ws);
  }
}

void sio__ws_close_graceful(sio_ws_t *ws, int code, const char *reason, int linger) {
  sio__conn_t *c = ws->conn;
  if (c == NULL || ws->close_sent) return;
  uint8_t frame[SIO__WS_CLOSE_FRAME_MAX];
  size_t n = sio__ws_close_frame(frame, code, reason);
  sio__conn_write(c, frame, n);
  ws->close_sent = 1;
  /* Either way the close waits for something a peer that does not read or answer never
   * gives (the queue to drain, its close frame): the deadline bounds it. */
  sio_http_t *h = http_of(c);
  if (sio__http_opts(h)->ws_close_timeout_ms) {
    arm(ws, &sio__http_ws_timers(h)->close_wait, SIO__WS_T_CLOSE);
  } else {
    sio__tnode_disarm(&c->timeout);
    ws->timer = SIO__WS_T_NONE;
  }
  /* Lingering, we keep reading (and dropping) until the peer's close frame: closing with
   * its messages unread would make the kernel answer RST, and the peer could lose our
   * close frame with them (a flooder would see 1006, not our code). */
  if (linger) return;
  /* May close (and free ws) right away when nothing is queued. */
  sio__conn_close(c, 1);
}

void sio__ws_abort_later(sio_ws_t *ws, int code) {
  sio__conn_t *c = ws->conn;
  if (c == NULL || ws->timer == SIO__WS_T_ABORT) return;
  ws->close_sent = 1;
  ws->close_code = (uint16_t)code;
  sio__conn_pause(c);
  /* on_close must not run inside the caller's sio_ws_send (it may be walking a list of
   * sockets that on_close edits): the hard close happens on the next timer turn. */
  arm(ws, &sio__http_ws_timers(http_of(c))->abort, SIO__WS_T_ABORT);
}
