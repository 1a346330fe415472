/*
 * Engine.IO long-polling (engine.io lib/transports/polling.ts). A GET waits until there
 * is something to send (answered in the loop's check phase so that every packet queued
 * during this turn goes out in one payload); a POST carries client packets, answered
 * "ok". A second GET while one is pending is an error that closes the session, and so is
 * a pending GET the client aborts; a POST body over maxHttpBufferSize gets 413 and closes
 * it; a POSTed close packet answers the pending GET with a noop, then closes.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/b64.h"
#include "common/log.h"
#include "engine/engine_int.h"
#include "http/compress.h"
#include "http/server.h"

static void on_get_abort(sio_http_req_t *req, void *user) {
  sio_eio_t *s = user;
  (void)req;
  /* The client went away mid-poll (request cancelled, connection gone): engine.io calls
   * that "poll connection closed prematurely" and closes the session at once, so the
   * next GET with this sid gets 400. Nothing can answer req any more. */
  s->poll_req = NULL;
  sio__list_remove(&s->flush_link);
  SIO_LOGD("engine: session %s aborted its long-poll GET, closing", s->id);
  sio__eio_close(s, "transport error");
}

/* engine.io's polling doWrite: a payload over the threshold is compressed when the
 * client accepts gzip or deflate. Returns the encoding used (zbody filled) or identity. */
static int maybe_compress(sio_engine_t *e, sio_http_req_t *req, const char *body, size_t len, sio__buf_t *zbody) {
  sio_str_t ae = {NULL, 0};
  if (!e->opts.http_compression || len < e->opts.http_compression_threshold) return SIO__ENC_IDENTITY;
  if (!sio__req_header(req, "accept-encoding", &ae)) return SIO__ENC_IDENTITY;
  int enc = sio__http_pick_encoding(ae, 1);
  if (enc == SIO__ENC_IDENTITY || sio__http_compress(enc, body, len, -1, zbody) != 0) return SIO__ENC_IDENTITY;
  return enc;
}

static void respond_payload(sio_eio_t *s, const char *body, size_t len) {
  sio_http_req_t *req = s->poll_req;
  sio__buf_t hdrs = SIO__BUF_INIT, z = SIO__BUF_INIT;
  s->poll_req = NULL;
  sio_http_req_on_abort(req, NULL, NULL);
  int enc = maybe_compress(s->eng, req, body, len, &z);
  int r = enc == SIO__ENC_IDENTITY ? 0 : sio__buf_appendf(&hdrs, "Content-Encoding: %s\r\n", sio__http_encoding_name(enc));
  if (!r) r = sio__eio_response_headers(s->eng, req, 0, NULL, &hdrs);
  if (r) sio_http_respond(req, 500, NULL, NULL, NULL, 0);
  else if (enc != SIO__ENC_IDENTITY) sio_http_respond(req, 200, "text/plain; charset=UTF-8", hdrs.base, z.base, z.len);
  else sio_http_respond(req, 200, "text/plain; charset=UTF-8", hdrs.base, body, len);
  sio__buf_free(&z);
  sio__buf_free(&hdrs);
}

void sio__eio_polling_answer_control(sio_eio_t *s, int type) {
  if (s->poll_req == NULL) return;
  char pkt = (char)('0' + type);
  sio__list_remove(&s->flush_link);
  respond_payload(s, &pkt, 1);
}

/* Encodes the send queue as one payload into b, then empties the queue. */
static int take_queue(sio_eio_t *s, sio__buf_t *b) {
  int r = 0;
  for (uint32_t i = 0; i < s->qn && r == 0; i++) {
    sio__refbuf_t *rb = s->q[i].rb;
    if (i > 0) r = sio__buf_append_byte(b, SIO__EIO_SEPARATOR);
    if (r) break;
    if (!(s->q[i].binary & SIO__EIO_SEND_BINARY)) {
      r = sio__buf_append(b, sio__refbuf_ptr(rb), rb->len);
    } else if ((r = sio__buf_reserve(b, 1 + sio__b64_encoded_len(rb->len))) == 0) {
      b->base[b->len++] = 'b';
      b->len += sio__b64_encode(sio__refbuf_ptr(rb), rb->len, b->base + b->len);
    }
  }
  if (r) return r;
  for (uint32_t i = 0; i < s->qn; i++) sio__refbuf_unref(s->q[i].rb);
  s->qn = 0;
  s->qbytes = 0;
  if (s->qcap > 16) {
    /* A burst grew the queue: give the memory back. */
    sio__free(s->q);
    s->q = NULL;
    s->qcap = 0;
  }
  return 0;
}

void sio__eio_polling_flush(sio_eio_t *s) {
  if (s->poll_req == NULL || s->qn == 0 || s->state != SIO__EIO_S_OPEN) return;
  sio__buf_t b = SIO__BUF_INIT;
  if (take_queue(s, &b) != 0) {
    sio__buf_free(&b);
    sio__eio_close(s, "transport error");
    return;
  }
  respond_payload(s, b.base, b.len);
  sio__buf_free(&b);
}

void sio__eio_polling_answer_close(sio_eio_t *s) {
  if (s->poll_req == NULL) return;
  /* engine.io flushes its write buffer before closing the transport: what was queued
   * (a Socket.IO DISCONNECT, an ack sent just before) goes out ahead of the close
   * packet in the same payload. */
  sio__buf_t b = SIO__BUF_INIT;
  int r = take_queue(s, &b);
  if (r == 0 && b.len > 0) r = sio__buf_append_byte(&b, SIO__EIO_SEPARATOR);
  if (r == 0) r = sio__buf_append_byte(&b, (char)('0' + SIO__EIO_CLOSE));
  sio__list_remove(&s->flush_link);
  if (r == 0) respond_payload(s, b.base, b.len);
  else sio__eio_polling_answer_control(s, SIO__EIO_CLOSE);
  sio__buf_free(&b);
}

void sio__eio_polling_get(sio_eio_t *s, sio_http_req_t *req) {
  if (s->poll_req != NULL) {
    /* engine.io: "overlap from client": 400 for this GET, and the session errors out. */
    SIO_LOGD("engine: session %s sent overlapping GETs, closing", s->id);
    sio__eio_respond_error(s->eng, req, SIO__EIO_ERR_BAD_REQUEST);
    sio__eio_close(s, "transport error");
    return;
  }
  s->poll_req = req;
  sio_http_req_on_abort(req, on_get_abort, s);
  /* A graceful close whose packets were delivered: this GET gets the close packet. */
  if (s->closing && s->qn == 0) sio__eio_close(s, "forced close");
  else if (s->qn > 0) sio__eio_schedule_flush(s);
  else if (s->probing && s->probe_acked) sio__eio_polling_answer_control(s, SIO__EIO_NOOP);
}

static int on_posted_packet(void *user, sio__eio_packet_t *p) {
  sio_eio_t *s = user;
  if (s->state != SIO__EIO_S_OPEN) return 1;
  /* engine.io's polling onClose: the pending GET gets a noop (what is queued is dropped,
   * the client is leaving), not the close packet that a server-side close sends. */
  if (p->type == SIO__EIO_CLOSE) sio__eio_polling_answer_control(s, SIO__EIO_NOOP);
  sio__eio_on_packet(s, p);
  return s->state != SIO__EIO_S_OPEN;
}

void sio__eio_polling_post(sio_eio_t *s, sio_http_req_t *req) {
  sio_engine_t *e = s->eng;
  sio_str_t body = sio_http_req_body(req);
  sio__buf_t hdrs = SIO__BUF_INIT;
  if (sio__eio_response_headers(e, req, 0, NULL, &hdrs) != 0) {
    sio__buf_free(&hdrs);
    sio_http_respond(req, 500, NULL, NULL, NULL, 0);
    return;
  }
  const char *cors = hdrs.base;
  if (body.len > e->opts.max_http_buffer_size) {
    SIO_LOGD("engine: session %s posted %zu bytes (max %zu), closing", s->id, body.len, e->opts.max_http_buffer_size);
    sio_http_respond(req, 413, "text/plain", cors, "Payload Too Large", 17);
    sio__buf_free(&hdrs);
    sio__eio_close(s, "transport error");
    return;
  }
  sio__eio_ref(s);
  /* The body buffer belongs to the request and is ours to decode in place. */
  int r = sio__eio_decode_payload((char *)body.ptr, body.len, 100000, on_posted_packet, s);
  if (r < 0) {
    SIO_LOGD("engine: session %s posted a malformed payload, closing", s->id);
    sio_http_respond(req, 400, "text/plain", cors, "Bad Request", 11);
    sio__eio_close(s, "parse error");
  } else {
    sio_http_respond(req, 200, "text/html", cors, "ok", 2);
  }
  sio__buf_free(&hdrs);
  sio__eio_unref(s);
}

/* ---- the transport table ---- */

/* Queued until a GET takes them (answered in the check phase). */
int sio__eio_polling_queue(sio_eio_t *s, sio__refbuf_t *rb, int binary) {
  int r = sio__eio_fits(s, rb->len, s->qbytes);
  if (r) return r;
  if (s->qn == s->qcap) {
    uint32_t cap = s->qcap ? s->qcap * 2 : 4;
    sio__eio_qent_t *q = sio__realloc(s->q, cap * sizeof *q);
    if (q == NULL) return SIO_ENOMEM;
    s->q = q;
    s->qcap = cap;
  }
  /* Not SHARED: sent later (after an upgrade, on the WebSocket), the fan-out that would
   * release a kept compressed frame is long over. */
  s->q[s->qn++] = (sio__eio_qent_t){sio__refbuf_ref(rb), (uint8_t)(binary & ~SIO__EIO_SEND_SHARED)};
  s->qbytes += rb->len;
  if (s->poll_req) sio__eio_schedule_flush(s);
  return 0;
}

static size_t polling_queued(const sio_eio_t *s) { return s->qbytes; }
/* A long-poll GET is waiting and nothing is queued for it yet: engine.io's polling
 * transport is writable until its first send() to the waiting GET, so socket.io sends
 * one volatile packet per GET and drops the ones behind it. */
static int polling_writable(const sio_eio_t *s) { return s->poll_req != NULL && s->qn == 0; }
/* The close packet travels on a GET, after what is queued (see sio__eio_close_graceful). */
static int polling_close_waits(const sio_eio_t *s) { return s->qn > 0 || s->poll_req == NULL; }

const sio__eio_transport_t sio__eio_polling_transport = {
    "polling", "polling", sio__eio_polling_queue, polling_queued, polling_writable, polling_close_waits, 1,
};
