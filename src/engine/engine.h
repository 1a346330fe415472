/*
 * Internal view of the Engine.IO server: the session struct, the send path used by the
 * Socket.IO layer (shared, pre-encoded packets), and the transport entry points.
 * Files: server.c (requests, handshake, CORS), socket.c (session state, heartbeat,
 * send, close), polling.c (long-polling), websocket.c (WebSocket and upgrade), memory.c
 * (an in-memory transport for unit tests of the layers above: no sockets).
 */
#ifndef SIO_ENGINE_ENGINE_H
#define SIO_ENGINE_ENGINE_H

#include "common/map.h"
#include "common/refbuf.h"
#include "common/sid.h"
#include "common/tlist.h"
#include "engine/packet.h"
#include "http/server.h"
#include "sio/engine.h"

/* A session's transport is one byte, the index of its table in sio__eio_transports.
 * SIO__EIO_MEMORY is the test seam of memory.c; HTTP requests never reach such a session
 * (server.c answers "Bad request" to a session whose transport takes no requests). */
enum { SIO__EIO_POLLING = 0, SIO__EIO_WEBSOCKET = 1, SIO__EIO_MEMORY = 2 };

/* stats.c: what the engine counts for sio_metrics_* (loop thread only). */
typedef struct {
  uint64_t opened[3];      /* sessions opened, by the transport they started on */
  uint64_t upgrades;       /* polling sessions moved to WebSocket */
  uint64_t slow_consumers; /* sessions closed for not reading (max_send_queue) */
} sio__eio_counters_t;
typedef struct {
  sio__eio_counters_t c;
  uint32_t open[3];        /* sessions open now, by their current transport */
} sio__eio_stats_t;
void sio__eio_stats(const sio_engine_t *e, sio__eio_stats_t *out);
/* Closes up to max open sessions the way a lost transport closes (the client reconnects,
 * and recovers where recovery is on): a graceful close that delivers what is queued and
 * then closes the transport, with no Socket.IO DISCONNECT; now: at once, graceful closes
 * still waiting included. Returns how many it closed (or started closing). */
size_t sio__eio_drain(sio_engine_t *e, size_t max, int now);
enum { SIO__EIO_S_OPEN = 0, SIO__EIO_S_CLOSED = 1 };

/* Headroom for a WebSocket header in every encoded packet. */
#define SIO__EIO_HEADROOM 10

/* ---- socket.c ---- */
/* 1 and *out for the handshake's first header named lname, else 0 (sio_eio_get_header is
 * the public form). */
int sio__eio_header(const sio_eio_t *s, const char *lname, sio_str_t *out);
sio_eio_t *sio__eio_new(sio_engine_t *e, sio_http_req_t *req, int transport);
/* A session without a handshake request (empty url, query and address, no headers),
 * registered and with its heartbeat running; on_open is the caller's to run. Returns
 * NULL on OOM. For the memory transport. */
sio_eio_t *sio__eio_new_bare(sio_engine_t *e, int transport);
void sio__eio_ref(sio_eio_t *s);
void sio__eio_unref(sio_eio_t *s);
/* Dispatches a received packet (pong, message, close...). The caller holds a ref. */
void sio__eio_on_packet(sio_eio_t *s, sio__eio_packet_t *p);
/* Closes with an engine.io reason string (static). Idempotent. */
void sio__eio_close(sio_eio_t *s, const char *reason);
/* Closes ("forced close") like engine.io's socket.close(): over polling with packets
 * still queued or no GET pending, the session stays open (closing = 1) until the queue
 * is delivered and a GET can carry the close packet, an upgrade completes (the WebSocket
 * then delivers and closes) or fails, or the next ping is due. Otherwise at once. */
void sio__eio_close_graceful(sio_eio_t *s);
/* sio__eio_send_ref's flags (binary is 0 or SIO__EIO_SEND_BINARY): SIO__EIO_SEND_NO_COMPRESS
 * sends the packet uncompressed over a permessage-deflate WebSocket (socket.io's
 * compress(false)); polling queues keep the flag for the upgrade. SIO__EIO_SEND_SHARED: the
 * same refbuf goes to many sessions (a broadcast), so a compressed frame that does not
 * depend on one connection may be kept on it (sio__ws_send_ref); polling queues drop it. */
enum { SIO__EIO_SEND_BINARY = 1, SIO__EIO_SEND_NO_COMPRESS = 2, SIO__EIO_SEND_SHARED = 4 };

/* Queues a shared encoded packet (takes a new reference). Returns 0, SIO_ECLOSED,
 * SIO_ENOMEM or SIO_ELIMIT: the packet alone is over max_send_queue (refused, the session
 * stays), or it would push the session's backlog over it (a slow consumer: refused, and
 * the session is closed hard with "transport error" in this turn's check phase, never
 * inside this call, so a broadcast loop runs no close callback and goes on). */
int sio__eio_send_ref(sio_eio_t *s, sio__refbuf_t *rb, int binary);

/* What socket.conn emits in engine.io (packet, drain; "upgrade" is sio_engine_cbs_t's
 * on_upgrade), for the Socket.IO layer: each hook may be NULL; all run from the loop
 * outside any send (packet before the packet is handled, drain in the check phase once
 * what was sent since the last drain has been handed to the transport: the WebSocket, or
 * the long-poll GET that carried it). The table is borrowed (static const). */
typedef struct {
  void (*on_packet)(sio_eio_t *s, const char *type, int binary, const char *data, size_t len, void *user);
  void (*on_drain)(sio_eio_t *s, void *user);
} sio__eio_observer_t;
void sio__engine_set_observer(sio_engine_t *e, const sio__eio_observer_t *obs);
/* Drain events cost a check-phase visit per sending turn: they are on for a session only
 * once asked. */
void sio__eio_watch_drain(sio_eio_t *s);

/* The max_send_queue check for len more bytes next to queued ones: 0 if they fit, else
 * SIO_ELIMIT with sio__eio_send_ref's consequences (a transport's send calls it). */
int sio__eio_fits(sio_eio_t *s, size_t len, size_t queued);
/* The max_send_queue check alone for a message of len bytes about to be sent as several
 * packets (a Socket.IO packet and its attachments): 0 if it fits, else SIO_ELIMIT with
 * sio__eio_send_ref's consequences, so none of its parts goes out. */
int sio__eio_check_room(sio_eio_t *s, size_t len);
/* Encodes type+data into a new packet refbuf with WebSocket headroom (returns new). */
sio__refbuf_t *sio__eio_packet_new(int type, const void *data, size_t len);
sio__refbuf_t *sio__eio_binary_new(const void *data, size_t len);
void sio__eio_heartbeat_start(sio_eio_t *s);
void sio__eio_ping_due(sio__tnode_t *n);
void sio__eio_pong_overdue(sio__tnode_t *n);
/* The handshake request's target, "path?query" (borrowed from s, for Socket.IO's
 * handshake.url). */
sio_str_t sio__eio_url(const sio_eio_t *s);
/* 1 if a packet sent now would go out at once (a long-poll GET is pending, or nothing is
 * in flight on the WebSocket): Socket.IO drops volatile packets otherwise. */
int sio__eio_writable(const sio_eio_t *s);

/* ---- polling.c ---- */
void sio__eio_polling_get(sio_eio_t *s, sio_http_req_t *req);
void sio__eio_polling_post(sio_eio_t *s, sio_http_req_t *req);
/* Answers the pending GET with the queued packets (check phase). */
void sio__eio_polling_flush(sio_eio_t *s);
/* Answers the pending GET with a single packet type (noop/close), dropping nothing. */
void sio__eio_polling_answer_control(sio_eio_t *s, int type);
void sio__eio_schedule_flush(sio_eio_t *s);
/* Appends rb to s's polling queue (a memory session that stalled uses it too). */
int sio__eio_polling_queue(sio_eio_t *s, sio__refbuf_t *rb, int binary);
/* Marks s a slow consumer: sends are refused from now on and the check phase closes it
 * (server.c). */
void sio__eio_doom(sio_eio_t *s);
/* Answers the pending GET (if any) with the queued packets followed by a close packet. */
void sio__eio_polling_answer_close(sio_eio_t *s);

/* ---- websocket.c ---- */
/* A handshake over WebSocket (no sid). */
void sio__eio_ws_handshake(sio_engine_t *e, sio_http_req_t *req);
/* A probe on an existing polling session. */
void sio__eio_ws_probe(sio_eio_t *s, sio_http_req_t *req);
void sio__eio_upgrade_overdue(sio__tnode_t *n);
/* A WebSocket with the sid of a session that is upgrading or has upgraded: the
 * handshake completes, then that WebSocket is closed (engine.io's onWebSocket). */
void sio__eio_ws_refuse(sio_http_req_t *req);

/* ---- memory.c: the in-memory transport (a test seam, like socketioxide's io.rs) ----
 *
 * A test plays the client: it feeds Engine.IO packets in and receives, synchronously,
 * every packet the server sends to the session. Everything above the transport
 * (heartbeat, Socket.IO) runs as it does over polling or WebSocket. */
typedef struct {
  /* A packet the server sent: text as "<type digit><data>" (e.g. "40{\"sid\":...}"),
   * binary as the raw bytes of a message. data is borrowed for the call; do not call
   * back into the library from here. */
  void (*on_packet)(void *user, int binary, const char *data, size_t len);
  /* The session closed with engine.io's reason (static string); the session is freed
   * right after, so the test must forget its pointer. */
  void (*on_close)(void *user, const char *reason);
  void *user;
} sio__eio_memory_peer_t;

/* Opens a memory session on e (peer copied) and runs e's on_open, as a handshake would.
 * Returns the session (borrowed: valid until peer->on_close), or NULL on OOM or when
 * on_open closed it at once (peer->on_close then ran). */
sio_eio_t *sio__eio_new_memory(sio_engine_t *e, const sio__eio_memory_peer_t *peer);
/* Delivers one Engine.IO packet as if the client sent it: text "<type><data>" ("40",
 * "3" for a pong, "1" to close) or, binary = 1, a binary message's bytes (data copied).
 * A text packet that does not decode closes the session with "parse error" like the
 * WebSocket transport. Returns 0, SIO_ECLOSED (session closed), SIO_EPROTO (that bad
 * packet), SIO_ETOOBIG (over maxHttpBufferSize: closed with "transport error") or
 * SIO_ENOMEM (nothing delivered). */
int sio__eio_memory_feed(sio_eio_t *s, int binary, const char *data, size_t len);
/* stalled 1: the client stops reading; packets stay queued in the session (counted
 * against max_send_queue, never delivered) instead of reaching on_packet. */
void sio__eio_memory_stall(sio_eio_t *s, int stalled);
/* The client goes away: closes the session with "transport close". */
void sio__eio_memory_close(sio_eio_t *s);
/* socket.c's hook: the close notification. */
void sio__eio_memory_closed(sio_eio_t *s, const char *reason);

/* The CORS options as cors.c answers them (copied at attach). */
typedef struct {
  int mode;              /* cors.c's CORS_* */
  int credentials;
  int64_t max_age;       /* -1: none */
  int (*cb)(const sio_http_req_t *req, sio_str_t origin, void *user);
  void *cb_user;
  char **list;           /* allowed origins (CORS_LIST) */
  size_t nlist;
  char *fixed, *methods, *allowed, *exposed; /* NULL: not set */
} sio__eio_cors_t;

/* ---- cors.c ---- */
/* Compiles opts' CORS (cors, else the cors_origins short form) into c. 0, SIO_EINVAL (a
 * value with a line break) or SIO_ENOMEM; c needs sio__eio_cors_free after success. */
int sio__eio_cors_compile(sio__eio_cors_t *c, const sio_engine_opts_t *o);
void sio__eio_cors_free(sio__eio_cors_t *c);
/* Appends the CORS header lines of an actual response for req (none when CORS does not
 * apply) to out. Returns 0 or SIO_ENOMEM. */
int sio__eio_cors_headers(sio_engine_t *e, sio_http_req_t *req, sio__buf_t *out);
/* Answers an OPTIONS preflight as cors does (204) and returns 1, or returns 0 without
 * answering when CORS does not apply (the request goes on to the engine). */
int sio__eio_cors_preflight(sio_engine_t *e, sio_http_req_t *req);

/* ---- server.c ---- */
/* Opens a session for a handshake request that passed every check (allow_request
 * included): answers it (polling) or upgrades it (WebSocket), then runs on_open. */
void sio__eio_handshake(sio_engine_t *e, sio_http_req_t *req, int transport);

/* ---- hooks.c ---- */
/* Appends every extra header line of a polling response or WebSocket 101 to out, NUL-
 * terminated (not counted): CORS, then on a handshake (initial) the Set-Cookie for
 * cookie_sid (NULL: none) and on_initial_headers, then on_headers. 0 or SIO_ENOMEM. */
int sio__eio_response_headers(sio_engine_t *e, sio_http_req_t *req, int initial, const char *cookie_sid,
                              sio__buf_t *out);
/* Refuses req with an engine.io error: on_connection_error, then engine.io's answer
 * (JSON 400/403 with CORS headers, or for a WebSocket upgrade a text/html 400 and the
 * connection closed). context: sio_engine_error_t.context (for FORBIDDEN, the message
 * sent instead of "Forbidden"), may be NULL. */
void sio__eio_fail(sio_engine_t *e, sio_http_req_t *req, int code, const char *context);
void sio__eio_respond_error(sio_engine_t *e, sio_http_req_t *req, int code);
/* Asks allow_request about a handshake; the verdict continues it (sio__eio_handshake). */
void sio__eio_ask(sio_engine_t *e, sio_http_req_t *req, int transport);
/* At teardown: verdicts still out no longer point at e. */
void sio__eio_orphan_verdicts(sio_engine_t *e);
/* Serializes opts.cookie once into e->cookie. 0, SIO_EINVAL (a bad name, path, domain or
 * SameSite) or SIO_ENOMEM. */
int sio__eio_cookie_compile(sio_engine_t *e);

#endif
