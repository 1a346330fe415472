/*
 * Engine.IO over WebSocket (engine.io lib/transports/websocket.ts) and the upgrade from
 * polling (lib/socket.ts maybeUpgrade): the client opens a probe WebSocket with the sid,
 * sends "2probe", we answer "3probe" and a noop "6" to the pending GET so the client can
 * pause polling; its "5" completes the upgrade, and the queued packets move to the
 * WebSocket in order. Text packets travel in text frames, binary messages as raw binary
 * frames.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "engine/engine_int.h"
#include "http/server.h"
#include "ws/conn.h"

/* ---- the WebSocket transport of an established session ---- */

static void ws_on_message(sio_ws_t *ws, int binary, const char *data, size_t len, void *user) {
  sio_eio_t *s = user;
  (void)ws;
  if (s == NULL || s->state != SIO__EIO_S_OPEN) return;
  sio__eio_packet_t p;
  if (binary) {
    p = (sio__eio_packet_t){SIO__EIO_MESSAGE, 1, (char *)data, len};
  } else if (sio__eio_decode_text((char *)data, len, &p) != 0) {
    SIO_LOGD("engine: session %s sent a malformed packet, closing", s->id);
    sio__eio_close(s, "parse error");
    return;
  }
  if (len > s->eng->opts.max_http_buffer_size) {
    sio__eio_close(s, "transport error");
    return;
  }
  sio__eio_ref(s);
  sio__eio_on_packet(s, &p);
  sio__eio_unref(s);
}

static void ws_on_close(sio_ws_t *ws, int code, void *user) {
  sio_eio_t *s = user;
  (void)ws;
  if (s == NULL) return;
  s->ws = NULL;
  /* 1000/1001/1005/1006 are ordinary ends; anything else was a protocol violation. */
  int clean = code == 1000 || code == 1001 || code == 1005 || code == 1006;
  sio__eio_close(s, clean ? "transport close" : "transport error");
}

static const sio_ws_cbs_t transport_cbs = {ws_on_message, ws_on_close};

void sio__eio_ws_handshake(sio_engine_t *e, sio_http_req_t *req) {
  sio_eio_t *s = sio__eio_new(e, req, SIO__EIO_WEBSOCKET);
  if (s == NULL) {
    sio_http_respond(req, 500, "text/plain", NULL, "Internal Server Error", 21);
    return;
  }
  sio_ws_t *ws;
  /* engine.io's ws "headers" event: initial_headers, then headers (no cookie here). */
  sio__buf_t hdrs = SIO__BUF_INIT;
  int r = sio__eio_response_headers(e, req, 1, NULL, &hdrs);
  /* A message may carry maxHttpBufferSize bytes plus its type digit. */
  if (r == 0) r = sio__ws_upgrade(req, &transport_cbs, s, e->opts.max_http_buffer_size + 1, hdrs.base,
                                &e->opts.per_message_deflate, &ws);
  sio__buf_free(&hdrs);
  if (r != 0) {
    sio__eio_close(s, "transport error");
    return;
  }
  sio_ws_set_keepalive(ws, 0); /* Engine.IO's own ping/pong keeps it */
  s->ws = ws;
  sio__buf_t b = SIO__BUF_INIT;
  if (sio__eio_encode_open(&b, s->id, 0, e->opts.ping_interval_ms, e->opts.ping_timeout_ms,
                           e->opts.max_http_buffer_size) != 0 ||
      sio_ws_send(ws, 0, b.base, b.len) != 0) {
    sio__buf_free(&b);
    sio__eio_close(s, "transport error");
    return;
  }
  sio__buf_free(&b);
  sio__eio_ref(s);
  if (e->cbs.on_open) e->cbs.on_open(s, e->user);
  sio__eio_unref(s);
}

/* ---- the probe ----
 * While probing, s->ws is the probe and holds a session reference, dropped when the
 * probe closes (probe_on_close) or becomes the transport (finish_upgrade). */

static void finish_upgrade(sio_eio_t *s, sio_ws_t *ws) {
  s->probing = 0;
  s->probe_acked = 0;
  s->upgraded = 1;
  SIO__COUNT(s->eng->m.upgrades++);
  sio__tnode_disarm(&s->upgrade_to);
  /* The pending GET must not hang: a noop releases it (the client is paused anyway). */
  if (s->poll_req) sio__eio_polling_answer_control(s, SIO__EIO_NOOP);
  sio__list_remove(&s->flush_link);
  s->transport = SIO__EIO_WEBSOCKET;
  s->ws = ws;
  sio__ws_set_cbs(ws, &transport_cbs);
  /* Everything queued for polling goes out on the WebSocket, in order. */
  uint32_t n = s->qn;
  sio__eio_qent_t *q = s->q;
  s->q = NULL;
  s->qn = s->qcap = 0;
  s->qbytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (s->state == SIO__EIO_S_OPEN) sio__eio_send_ref(s, q[i].rb, q[i].binary);
    sio__refbuf_unref(q[i].rb);
  }
  sio__free(q);
  SIO_LOGD("engine: session %s upgraded to websocket", s->id);
  if (s->state == SIO__EIO_S_OPEN && s->eng->cbs.on_upgrade) s->eng->cbs.on_upgrade(s, s->eng->user);
  sio__eio_unref(s); /* the probe's reference; the sid map still holds one */
  /* A graceful close waiting for the client: the WebSocket delivers the queue, then closes. */
  if (s->closing) {
    sio__eio_close(s, "forced close");
    return;
  }
}

/* A WebSocket for a session that already has one, or is getting one: engine.io completes
 * the handshake and closes the newcomer ("transport had already been upgraded"), leaving
 * the session and its transport alone. transport_cbs with no user ignore it till then. */
void sio__eio_ws_refuse(sio_http_req_t *req) {
  sio_ws_t *ws;
  if (sio_http_upgrade(req, &transport_cbs, NULL, 125, &ws) == 0) sio_ws_close(ws, 1000);
}

static void probe_on_message(sio_ws_t *ws, int binary, const char *data, size_t len, void *user) {
  sio_eio_t *s = user;
  if (s == NULL || s->state != SIO__EIO_S_OPEN || !s->probing) return;
  if (!binary && len == 6 && memcmp(data, "2probe", 6) == 0) {
    sio_ws_send(ws, 0, "3probe", 6);
    /* The client now pauses polling, which waits for its GET to return: answer the
     * pending one (and any later one, see polling.c) with a noop, as engine.io does. */
    s->probe_acked = 1;
    if (s->poll_req && s->qn == 0) sio__eio_polling_answer_control(s, SIO__EIO_NOOP);
    return;
  }
  if (!binary && len == 1 && data[0] == '5') {
    finish_upgrade(s, ws);
    return;
  }
  /* Anything else during the probe is a failed upgrade: drop the probe only. */
  SIO_LOGD("engine: session %s: unexpected packet during upgrade, dropping the probe", s->id);
  sio_ws_close(ws, 1002);
}

static void probe_on_close(sio_ws_t *ws, int code, void *user) {
  sio_eio_t *s = user;
  (void)code;
  if (s == NULL) return;
  if (s->ws == ws) s->ws = NULL;
  s->probing = 0;
  s->probe_acked = 0;
  sio__tnode_disarm(&s->upgrade_to);
  /* A graceful close was waiting for this upgrade; a client paused for it would not poll
   * again, so close now. */
  if (s->closing) sio__eio_close(s, "forced close");
  sio__eio_unref(s);
}

static const sio_ws_cbs_t probe_cbs = {probe_on_message, probe_on_close};

void sio__eio_ws_probe(sio_eio_t *s, sio_http_req_t *req) {
  sio_ws_t *ws;
  sio__buf_t hdrs = SIO__BUF_INIT;
  int r = sio__eio_response_headers(s->eng, req, 0, NULL, &hdrs);
  if (r == 0) r = sio__ws_upgrade(req, &probe_cbs, s, s->eng->opts.max_http_buffer_size + 1, hdrs.base,
                                &s->eng->opts.per_message_deflate, &ws);
  sio__buf_free(&hdrs);
  if (r != 0) return;
  sio_ws_set_keepalive(ws, 0); /* the session's heartbeat and the upgrade timeout cover it */
  sio__eio_ref(s);
  s->probing = 1;
  s->ws = ws;
  sio__tlist_arm(&s->eng->upgrade_wait, &s->upgrade_to);
}

void sio__eio_upgrade_overdue(sio__tnode_t *n) {
  sio_eio_t *s = sio__container_of(n, sio_eio_t, upgrade_to);
  if (!s->probing || s->ws == NULL) return;
  SIO_LOGD("engine: session %s did not complete its upgrade in time", s->id);
  /* probe_on_close clears the probe and drops its reference. */
  sio_ws_close(s->ws, 1000);
}

/* ---- the transport table ---- */

/* Framed in the packet's headroom and queued by reference on the connection. */
static int ws_send(sio_eio_t *s, sio__refbuf_t *rb, int flags) {
  size_t off = sio__ws_frame_in_headroom(rb, flags & SIO__EIO_SEND_BINARY);
  size_t len = rb->head + rb->len - off;
  int r = sio__eio_fits(s, len, sio__ws_queued(s->ws));
  int compress = flags & SIO__EIO_SEND_NO_COMPRESS ? SIO__WS_COMPRESS_NO
                 : flags & SIO__EIO_SEND_SHARED     ? SIO__WS_COMPRESS_SHARED
                                                    : SIO__WS_COMPRESS_YES;
  return r ? r : sio__ws_send_ref(s->ws, rb, off, len, compress);
}

static size_t ws_queued(const sio_eio_t *s) { return s->ws ? sio__ws_queued(s->ws) : 0; }
/* Nothing in flight on the WebSocket. */
static int ws_writable(const sio_eio_t *s) { return s->ws != NULL && sio__ws_queued(s->ws) == 0; }
static int ws_close_waits(const sio_eio_t *s) { return 0; }

const sio__eio_transport_t sio__eio_ws_transport = {
    "websocket", "reading", ws_send, ws_queued, ws_writable, ws_close_waits, 0,
};
