/*
 * WebSocket connection glue (RFC 6455 §4 handshake, §5.5 control frames, §7 closing) on
 * top of the connection layer. Decoding is zero-copy: frames are unmasked in place in the
 * read buffer and handed up; only an incomplete frame tail is buffered by the connection.
 */
#include "ws/conn_int.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/parser.h"
#include "http/server.h"
#include "ws/handshake.h"
#include "ws/utf8.h"

void sio__ws_set_cbs(sio_ws_t *ws, const sio_ws_cbs_t *cbs) { ws->cbs = cbs; }

static long ws_on_data(sio__conn_t *c, char *data, size_t len);
static void ws_on_close(sio__conn_t *c);
static const sio__conn_proto_t ws_proto = {ws_on_data, ws_on_close, NULL};

size_t sio__ws_frame_in_headroom(sio__refbuf_t *rb, int binary) {
  uint8_t hdr[SIO__WS_SERVER_HEADER_MAX];
  size_t hl = sio__ws_frame_header(hdr, binary ? SIO__WS_OP_BINARY : SIO__WS_OP_TEXT, rb->len);
  memcpy(rb->data + rb->head - hl, hdr, hl);
  return rb->head - hl;
}

/* Compresses data (or src's payload, shared with src's other receivers when src is not
 * NULL) into a frame of its own with RSV1 set (RFC 7692 §6) and queues it. */
static int send_compressed(sio_ws_t *ws, int opcode, const void *data, size_t len, sio__refbuf_t *src) {
  sio__refbuf_t *rb;
  int binary = opcode == SIO__WS_OP_BINARY;
  if ((src ? sio__ws_pmd_compress_shared(ws->pmd, src, binary, SIO__WS_SERVER_HEADER_MAX, &rb)
           : sio__ws_pmd_compress(ws->pmd, data, len, SIO__WS_SERVER_HEADER_MAX, &rb)) != 0) {
    /* The compressor may hold part of this message: the peer's inflater would be out of
     * step from here on. */
    SIO_LOGW("%s: out of memory compressing a websocket message, closing it", sio__conn_peer(ws->conn));
    sio__ws_abort_later(ws, SIO__WS_CLOSE_INTERNAL);
    return SIO_ENOMEM;
  }
  /* A shared frame gets the same header bytes from every receiver. */
  size_t off = sio__ws_frame_in_headroom(rb, binary);
  rb->data[off] |= 0x40;
  int r = sio__conn_write_ref(ws->conn, rb, off, rb->head + rb->len - off);
  sio__refbuf_unref(rb);
  return r;
}

int sio__ws_send_ref(sio_ws_t *ws, sio__refbuf_t *rb, size_t off, size_t len, int compress) {
  if (ws->conn == NULL || ws->close_sent) return SIO_ECLOSED;
  if (compress && sio__ws_pmd_wants(ws->pmd, rb->len))
    return send_compressed(ws, rb->data[off] & 0x0F, rb->data + rb->head, rb->len,
                           compress == SIO__WS_COMPRESS_SHARED ? rb : NULL);
  return sio__conn_write_ref(ws->conn, rb, off, len);
}

int sio_ws_deflate_active(const sio_ws_t *ws) { return ws->pmd != NULL; }

size_t sio__ws_queued(const sio_ws_t *ws) { return ws->conn ? sio__conn_queued(ws->conn) : 0; }

size_t sio_ws_queued(const sio_ws_t *ws) { return sio__ws_queued(ws); }

int sio_ws_send(sio_ws_t *ws, int binary, const void *data, size_t len) {
  return sio_ws_send_opts(ws, binary, data, len, 1);
}

int sio_ws_send_opts(sio_ws_t *ws, int binary, const void *data, size_t len, int compress) {
  if (ws->conn == NULL || ws->close_sent) return SIO_ECLOSED;
  const sio_http_t *h = ws->conn->io->data;
  size_t limit = sio__http_opts(h)->ws_max_queued, queued = sio__conn_queued(ws->conn);
  if (limit && (queued > limit || len > limit - queued)) {
    /* Redis's client-output-buffer-limit: a peer this far behind is not reading, and
     * waiting for it only grows the queue. */
    SIO_LOGW("%s: websocket peer is not reading (%zu bytes queued), closing it (raise the queue limit, "
             "--ws-max-queued in noom, if your clients are only slow)", sio__conn_peer(ws->conn), queued);
    sio__ws_abort_later(ws, SIO__WS_CLOSE_POLICY);
    return SIO_ELIMIT;
  }
  if (compress && sio__ws_pmd_wants(ws->pmd, len))
    return send_compressed(ws, binary ? SIO__WS_OP_BINARY : SIO__WS_OP_TEXT, data, len, NULL);
  sio__refbuf_t *rb = sio__refbuf_from(SIO__WS_SERVER_HEADER_MAX, data, len);
  if (rb == NULL) return SIO_ENOMEM;
  size_t off = sio__ws_frame_in_headroom(rb, binary);
  int r = sio__conn_write_ref(ws->conn, rb, off, rb->head + len - off);
  sio__refbuf_unref(rb);
  return r;
}

static void notify_close(sio_ws_t *ws, int code) {
  if (ws->close_notified) return;
  ws->close_notified = 1;
  if (ws->cbs->on_close) ws->cbs->on_close(ws, code, ws->user);
}

/* The closing handshake (RFC 6455 §7.1.2): wait for the peer's close frame, bounded by
 * ws_close_timeout_ms so that a silent peer cannot hold the connection. */
void sio_ws_close(sio_ws_t *ws, int code) { sio__ws_close_graceful(ws, code, NULL, 1); }
void sio_ws_close_reason(sio_ws_t *ws, int code, const char *reason) { sio__ws_close_graceful(ws, code, reason, 1); }

void sio__ws_abort(sio_ws_t *ws) {
  if (ws->conn == NULL) return;
  ws->close_sent = 1;
  /* No close frame: it would queue behind the bytes the peer is not reading. */
  sio__conn_abort(ws->conn);
}

void sio_ws_set_user(sio_ws_t *ws, void *user) { ws->user = user; }
const char *sio_ws_peer(const sio_ws_t *ws) { return ws->conn ? sio__conn_peer(ws->conn) : "?"; }

/* A message that cannot be delivered: stop decoding (the frames after it are dropped)
 * and let ws_on_data close with code once the decoder has returned. */
static void fail(sio_ws_t *ws, int code) {
  ws->failed = 1;
  ws->close_code = (uint16_t)code;
  ws->dec.closed = 1;
}

/* A compressed message (RFC 7692 §7.2.2): inflated into a buffer of its own, at most
 * the max message size (the bound is on the inflated size: 1009 past it). */
static void on_compressed(sio_ws_t *ws, int opcode, const char *data, size_t len) {
  sio__buf_t out = SIO__BUF_INIT;
  int r = sio__ws_pmd_inflate(ws->pmd, data, len, ws->dec.max_message, &out);
  int code = r == 0             ? 0
             : r == SIO_ETOOBIG ? SIO__WS_CLOSE_TOO_BIG
             : r == SIO_EPROTO  ? SIO__WS_CLOSE_INVALID_DATA
                                : SIO__WS_CLOSE_INTERNAL;
  if (code == 0 && opcode == SIO__WS_OP_TEXT && !sio__utf8_valid(out.base, out.len)) code = SIO__WS_CLOSE_INVALID_DATA;
  if (code) {
    SIO_LOGD("%s: websocket compressed message refused (%s), closing with %d", sio__conn_peer(ws->conn),
             r == SIO_ETOOBIG ? "inflates past the message limit" : r ? "bad deflate data" : "not UTF-8", code);
    fail(ws, code);
  } else if (ws->cbs->on_message) {
    ws->cbs->on_message(ws, opcode == SIO__WS_OP_BINARY, out.base ? out.base : "", out.len, ws->user);
  }
  sio__buf_free(&out);
}

static void on_message(void *user, int opcode, char *data, size_t len) {
  sio_ws_t *ws = user;
  if (ws->close_sent || ws->failed) return;
  if (opcode & SIO__WS_MSG_COMPRESSED) {
    /* Inflated even without a listener: with context takeover the next message may
     * refer back to this one (a table swap, probe to transport, keeps the stream). */
    on_compressed(ws, opcode & 0x0F, data, len);
    return;
  }
  if (ws->cbs->on_message == NULL) return;
  ws->cbs->on_message(ws, opcode == SIO__WS_OP_BINARY, data, len, ws->user);
}

static void on_ping(void *user, const char *data, size_t len) {
  sio_ws_t *ws = user;
  if (ws->conn == NULL || ws->close_sent) return;
  uint8_t frame[SIO__WS_SERVER_HEADER_MAX + SIO__WS_CONTROL_MAX];
  size_t hl = sio__ws_frame_header(frame, SIO__WS_OP_PONG, len);
  memcpy(frame + hl, data, len);
  sio__conn_write(ws->conn, frame, hl + len);
}

static void on_pong(void *user, const char *data, size_t len) {
  (void)data, (void)len;
  sio__ws_pong_seen(user);
}

static void on_close_frame(void *user, int code, const char *reason, size_t len) {
  sio_ws_t *ws = user;
  (void)reason, (void)len;
  ws->close_code = (uint16_t)code;
  /* Echo the status code (RFC 6455 §5.5.1); a close without one is answered with 1000.
   * After our own close frame, this is the answer: ws_on_data closes after decoding. */
  sio__ws_close_graceful(ws, code == SIO__WS_CLOSE_NO_STATUS ? 1000 : code, NULL, 0);
}

static const sio__ws_decode_cb_t decode_cbs = {on_message, on_ping, on_pong, on_close_frame};

static long ws_on_data(sio__conn_t *c, char *data, size_t len) {
  sio_ws_t *ws = c->proto_data;
  ws->heard = 1;
  long n = sio__ws_decode(&ws->dec, data, len, &decode_cbs, ws, NULL);
  if (n >= 0 && ws->failed && !c->closing) n = -(long)ws->close_code;
  if (n < 0) {
    int code = (int)-n;
    SIO_LOGD("%s: websocket protocol error, closing with %d", sio__conn_peer(c), code);
    if (!ws->close_sent && ws->conn) {
      ws->close_code = (uint16_t)code;
      sio__ws_close_graceful(ws, code, NULL, 0);
    } else {
      sio__conn_close(c, 1);
    }
    return -1;
  }
  if (c->closing) return (long)len;
  if (ws->dec.closed) {
    /* The peer's close frame ended our lingering close (or was echoed above): go once
     * the queue is written. Not inside the decoder: this may free ws. */
    sio__conn_close(c, 1);
    return (long)len;
  }
  return n;
}

static void ws_on_close(sio__conn_t *c) {
  sio_ws_t *ws = c->proto_data;
  ws->conn = NULL;
  sio__ws_decoder_free(&ws->dec);
  notify_close(ws, ws->close_code ? ws->close_code : 1006);
  sio__ws_pmd_free(ws->pmd);
  sio__free(ws);
}

int sio__ws_is_upgrade(const sio_http_req_t *req) {
  return sio__http_req_conn(req) && strcmp(sio_http_req_method(req), "GET") == 0 &&
         sio__http_req_header_has_token(sio__http_req_parsed(req), "upgrade", "websocket");
}

int sio_http_upgrade(sio_http_req_t *req, const sio_ws_cbs_t *cbs, void *user, size_t max_message, sio_ws_t **out) {
  const sio_http_opts_t *o = sio__http_opts(sio__http_req_server(req));
  return sio__ws_upgrade(req, cbs, user, max_message, NULL, &o->ws_deflate, out);
}

static void join_extensions(sio_str_t name, sio_str_t value, void *u) {
  sio__buf_t *b = u;
  if (name.len != 24 || memcmp(name.ptr, "sec-websocket-extensions", 24) != 0) return;
  /* Several headers are one comma-separated list (RFC 7230 §3.2.2). OOM: fewer offers. */
  if (b->len) sio__buf_append(b, ", ", 2);
  sio__buf_append(b, value.ptr, value.len);
}

/* permessage-deflate: the accepted offer's state and the 101's header line, or nothing. */
static sio__ws_pmd_t *negotiate(sio_http_req_t *req, const sio_ws_deflate_opts_t *o, char *line, size_t cap) {
  line[0] = '\0';
  if (o == NULL || !o->enabled) return NULL;
  sio__buf_t v = SIO__BUF_INIT;
  sio_http_req_headers(req, join_extensions, &v);
  sio__ws_pmd_params_t p;
  char answer[SIO__WS_PMD_ANSWER_MAX];
  sio__ws_pmd_t *pmd = NULL;
  if (v.len && sio__ws_pmd_negotiate(o, v.base, v.len, &p, answer) && (pmd = sio__ws_pmd_new(o, &p)) != NULL)
    snprintf(line, cap, "Sec-WebSocket-Extensions: %s\r\n", answer);
  sio__buf_free(&v);
  return pmd;
}

int sio__ws_upgrade(sio_http_req_t *req, const sio_ws_cbs_t *cbs, void *user, size_t max_message, const char *extra,
                    const sio_ws_deflate_opts_t *pmd_opts, sio_ws_t **out) {
  sio_str_t key, version;
  const sio__http_request_t *r = sio__http_req_parsed(req);
  if (sio__http_req_conn(req) == NULL) return SIO_ECLOSED;
  char accept[SIO__WS_ACCEPT_LEN + 1];
  if (strcmp(sio_http_req_method(req), "GET") != 0 || !sio__http_req_header_has_token(r, "upgrade", "websocket") ||
      !sio__http_req_header_has_token(r, "connection", "upgrade") || !sio__http_req_header(r, "sec-websocket-version", &version) ||
      version.len != 2 || memcmp(version.ptr, "13", 2) != 0 || !sio__http_req_header(r, "sec-websocket-key", &key) ||
      sio__ws_accept(key.ptr, key.len, accept) != 0) {
    sio_http_respond(req, 400, "text/plain", "Sec-WebSocket-Version: 13\r\n", "Bad WebSocket handshake", 23);
    return SIO_EINVAL;
  }
  sio_ws_t *ws = sio__calloc(1, sizeof *ws);
  if (ws == NULL) return SIO_ENOMEM;
  char ext[SIO__WS_PMD_ANSWER_MAX + 32];
  ws->pmd = negotiate(req, pmd_opts, ext, sizeof ext);
  static const char head[] =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  /* The extra lines (an engine's headers hook, CORS, cookies) go after the accept. */
  sio__buf_t resp = SIO__BUF_INIT;
  int err = sio__buf_append(&resp, head, sizeof head - 1);
  if (!err) err = sio__buf_append(&resp, accept, SIO__WS_ACCEPT_LEN);
  if (!err) err = sio__buf_append(&resp, "\r\n", 2);
  if (!err) err = sio__buf_append_str(&resp, ext);
  if (!err && extra) err = sio__buf_append_str(&resp, extra);
  if (!err) err = sio__buf_append(&resp, "\r\n", 2);
  sio__conn_t *c = sio__http_req_conn(req);
  if (err || sio__conn_write(c, resp.base, resp.len) != 0) {
    sio__buf_free(&resp);
    sio__ws_pmd_free(ws->pmd);
    sio__free(ws);
    return SIO_ENOMEM;
  }
  sio__buf_free(&resp);
  sio__ws_decoder_init(&ws->dec, max_message);
  ws->dec.rsv1_ok = ws->pmd != NULL;
  ws->cbs = cbs;
  ws->user = user;
  ws->conn = sio__http_detach(req, &ws_proto, ws);
  sio__ws_timers_init(sio__http_req_server(req));
  sio__ws_keepalive_start(ws);
  *out = ws;
  return 0;
}
