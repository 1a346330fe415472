/*
 * WebSocket connections: the upgrade handshake, the decoder on the connection's bytes,
 * automatic pongs, the close handshake, and sends. Pre-encoded frames can be queued by
 * reference (sio__ws_send_ref) so one broadcast frame serves every recipient.
 */
#ifndef SIO_WS_CONN_H
#define SIO_WS_CONN_H

#include "common/refbuf.h"
#include "http/conn.h"
#include "sio/http.h"
#include "ws/frame.h"

/* Replaces ws's callback table (the engine moves a probe WebSocket to its transport
 * table on upgrade); the user pointer stays. */
void sio__ws_set_cbs(sio_ws_t *ws, const sio_ws_cbs_t *cbs);

/* Writes the WebSocket header for rb's payload into its headroom (rb->head >= 10) and
 * returns the offset of the frame in rb->data; the frame is rb->data[off .. head+len). */
size_t sio__ws_frame_in_headroom(sio__refbuf_t *rb, int binary);

/* sio__ws_send_ref's compress argument. SHARED: rb goes to many connections, so a
 * compressed frame that does not depend on this connection's history (no server context
 * takeover) is kept on rb for the next ones (sio__ws_pmd_compress_shared; the sender
 * releases it with sio__refbuf_drop_alt). */
enum { SIO__WS_COMPRESS_NO = 0, SIO__WS_COMPRESS_YES = 1, SIO__WS_COMPRESS_SHARED = 2 };

/* Queues a pre-framed range of rb (takes a reference): rb->data[off .. off+len) must be
 * the frame sio__ws_frame_in_headroom built around rb's payload. With permessage-deflate
 * negotiated, compress not NO and the payload at or above the threshold, the payload is
 * compressed into a frame of ws's own instead (rb untouched but for its alt with
 * SHARED). Returns 0, SIO_ECLOSED, SIO_ENOMEM (compression failed: ws is then being
 * closed with 1011). */
int sio__ws_send_ref(sio_ws_t *ws, sio__refbuf_t *rb, size_t off, size_t len, int compress);

/* Closes at once without a close frame, dropping queued output and resetting the TCP
 * connection (a peer that stopped reading). on_close runs (code 1006) unless the user
 * was cleared. */
void sio__ws_abort(sio_ws_t *ws);

/* 1 if req asks for a WebSocket upgrade (GET with Upgrade: websocket). */
int sio__ws_is_upgrade(const sio_http_req_t *req);
/* sio_http_upgrade with extra header lines for the 101 (each ending "\r\n"; NULL: none;
 * borrowed for the call) and permessage-deflate settings (NULL or not enabled: the
 * extension is never accepted; borrowed for the call). */
int sio__ws_upgrade(sio_http_req_t *req, const sio_ws_cbs_t *cbs, void *user, size_t max_message, const char *extra,
                    const sio_ws_deflate_opts_t *pmd, sio_ws_t **out);

/* Bytes queued on the connection and not yet written (for slow-consumer limits). */
size_t sio__ws_queued(const sio_ws_t *ws);

/* ---- limits (ws/limits.c) ---- */

/* Sets up the server's WebSocket timeout lists (once, at the first upgrade). */
void sio__ws_timers_init(sio_http_t *h);
/* Arms the first ping of a new socket (if the server pings). */
void sio__ws_keepalive_start(sio_ws_t *ws);
/* A pong arrived: the next ping is due an interval from now. */
void sio__ws_pong_seen(sio_ws_t *ws);
/* Queues a close frame (code, reason), then closes within the server's
 * ws_close_timeout_ms: once it is written (linger 0), or (linger 1) once the peer's close
 * frame or EOF arrives, reading and dropping its messages meanwhile. No-op once a close
 * was sent. linger 0 may close and free ws before returning. */
void sio__ws_close_graceful(sio_ws_t *ws, int code, const char *reason, int linger);
/* Stops the socket at once (reads, sends), drops its queue and closes it hard on the next
 * loop turn, reporting code to on_close: never inside the caller's call. */
void sio__ws_abort_later(sio_ws_t *ws, int code);

#endif
