/*
 * sio/engine.h: the Engine.IO v4 server (the transport under Socket.IO), usable on its
 * own as a raw message server: HTTP long-polling, WebSocket, the polling -> WebSocket
 * upgrade, and heartbeats. Wire-compatible with engine.io-client 6.x.
 *
 * Threading: loop thread only.
 */
#ifndef SIO_ENGINE_H
#define SIO_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "sio/http.h"

typedef struct sio_engine_s sio_engine_t;   /* opaque: a server attached at a path */
typedef struct sio_eio_s sio_eio_t;         /* opaque: one Engine.IO session */

/* engine.io's Server.errors: the code of a refused request, in its JSON body
 * {"code":N,"message":"..."} and in on_connection_error. */
enum {
  SIO_EIO_ERR_UNKNOWN_TRANSPORT = 0,        /* "Transport unknown" */
  SIO_EIO_ERR_UNKNOWN_SID = 1,              /* "Session ID unknown" */
  SIO_EIO_ERR_BAD_HANDSHAKE_METHOD = 2,     /* "Bad handshake method" */
  SIO_EIO_ERR_BAD_REQUEST = 3,              /* "Bad request" */
  SIO_EIO_ERR_FORBIDDEN = 4,                /* "Forbidden" (allow_request said no) */
  SIO_EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION = 5 /* "Unsupported protocol version" */
};

/* What engine.io's "connection_error" event carries. All strings static or borrowed for
 * the call. */
typedef struct {
  int code;            /* SIO_EIO_ERR_* */
  const char *message; /* engine.io's message for code ("Forbidden") */
  /* What engine.io puts in error.context, flattened to one string, or NULL: the name
   * ("TRANSPORT_MISMATCH", "TRANSPORT_HANDSHAKE_ERROR", "INVALID_ORIGIN") or, for
   * SIO_EIO_ERR_FORBIDDEN, allow_request's message. */
  const char *context;
} sio_engine_error_t;

/* The extra headers of one response being built (engine.io's "headers" event object).
 * Valid only during the hook call. */
typedef struct sio_eio_headers_s sio_eio_headers_t;

/* Adds "name: value" to the response (both copied). name must be an HTTP token, value
 * must hold no CR, LF or NUL. Returns 0, SIO_EINVAL or SIO_ENOMEM. */
SIO_EXTERN int sio_eio_headers_add(sio_eio_headers_t *h, const char *name, const char *value);

/* A handshake waiting for allow_request's answer (see sio_engine_opts_t.allow_request). */
typedef struct sio_engine_verdict_s sio_engine_verdict_t;

/* Answers a pending handshake: ok = 1 goes on with it, ok = 0 refuses it as engine.io
 * does: 403 {"code":4,"message":<message or "Forbidden">} to a polling GET, "400 Bad
 * Request" with the message as text/html to a WebSocket upgrade (connection closed),
 * and on_connection_error (SIO_EIO_ERR_FORBIDDEN). message copied, may be NULL. Call
 * exactly once per verdict, from the loop thread, at any later time: v is freed by this
 * call. If the client went away meanwhile, or the engine was shut down, nothing is sent. */
SIO_EXTERN void sio_engine_allow(sio_engine_verdict_t *v, int ok, const char *message);

/* The request waiting in v (borrowed), or NULL when the client has gone away. */
SIO_EXTERN sio_http_req_t *sio_engine_verdict_req(const sio_engine_verdict_t *v);

/* engine.io's cookie option: a cookie holding the session id, set on the handshake
 * response of a polling session (engine.io 6.6 sets none on a WebSocket-only handshake),
 * so a load balancer can pin a client to its node by cookie. Serialized as npm cookie
 * does: "io=<sid>; Max-Age=N; Domain=D; Path=/; HttpOnly; Secure; SameSite=Lax". */
typedef struct {
  int enabled;           /* default 0 (engine.io: cookie false) */
  const char *name;      /* default "io" */
  const char *path;      /* default "/"; NULL: none */
  const char *domain;    /* default NULL */
  int http_only;         /* default 1 */
  int secure;            /* default 0 */
  const char *same_site; /* "lax" (default), "strict", "none", or NULL: none */
  int64_t max_age;       /* seconds; default -1: none (a session cookie) */
} sio_engine_cookie_t;

/* engine.io's cors option, which it hands to the npm cors package: the same origin
 * forms, the same headers on every Engine.IO response, and the same preflight answer
 * (204, Content-Length: 0). Strings are copied at attach; header values may hold no CR
 * or LF (SIO_EINVAL). */
typedef struct {
  int enabled; /* default 0 (engine.io: cors false); cors_origins below is the short form */
  /* Which origins, checked in this order (as cors's origin option):
   *  - origin_cb: called with the request's Origin (ptr NULL when absent); 1 allows it
   *    (reflected, with Vary: Origin), 0 refuses: no CORS headers at all, and a preflight
   *    goes on to the engine, which refuses the OPTIONS (cors calls next()). Pass
   *    sio_engine_cors_any for cors's origin: true (reflect any origin).
   *  - origins/norigins: a list; a listed Origin is reflected, any other gets no
   *    Access-Control-Allow-Origin (and Vary: Origin).
   *  - origin: NULL or "*" answers "Access-Control-Allow-Origin: *" to everyone (cors's
   *    default); any other string is sent as is (a fixed origin, with Vary: Origin). */
  int (*origin_cb)(const sio_http_req_t *req, sio_str_t origin, void *user);
  void *origin_user;
  const char *const *origins;
  size_t norigins;
  const char *origin;
  const char *methods;         /* preflight; default "GET,HEAD,PUT,PATCH,POST,DELETE" */
  const char *allowed_headers; /* preflight; NULL (default): the request's
                                * Access-Control-Request-Headers, reflected */
  const char *exposed_headers; /* Access-Control-Expose-Headers; default NULL: none */
  int credentials;             /* Access-Control-Allow-Credentials: true; default 0 */
  int64_t max_age;             /* preflight Access-Control-Max-Age; default -1: none */
} sio_engine_cors_t;

/* An origin_cb that allows every origin (cors's origin: true). */
SIO_EXTERN int sio_engine_cors_any(const sio_http_req_t *req, sio_str_t origin, void *user);

typedef struct {
  uint64_t ping_interval_ms;    /* default 25000 */
  uint64_t ping_timeout_ms;     /* default 20000 */
  uint64_t upgrade_timeout_ms;  /* default 10000 */
  size_t max_http_buffer_size;  /* max bytes of one message / polling body; default 1000000 */
  int allow_polling;            /* default 1 */
  int allow_websocket;          /* default 1 */
  int allow_upgrades;           /* offer the polling -> websocket upgrade; default 1 */
  /* CORS, short form (used when cors.enabled is 0): NULL or "" sends no CORS headers
   * (same-origin only); "*" reflects any Origin (cors {origin: true, credentials:
   * true}); otherwise a comma-separated list of allowed origins ("http://a.com,
   * https://b.org"), reflected with credentials (cors {origin: [...], credentials:
   * true}). Default NULL. */
  const char *cors_origins;
  /* CORS, every option (see sio_engine_cors_t); wins over cors_origins when enabled. */
  sio_engine_cors_t cors;
  /* Bytes that may wait for a session (WebSocket output not yet written, or the polling
   * queue); default 8 MiB, 0 for no limit. Checked before queuing: a packet that would
   * pass it marks the session a slow consumer, refused from then on and closed hard
   * ("transport error", TCP reset, queue freed) later in the same loop turn, never
   * inside the send; a single packet larger than the limit is refused (SIO_ELIMIT) and
   * the session stays. */
  size_t max_send_queue;
  /* engine.io's httpCompression: a long-poll answer of at least
   * http_compression_threshold bytes goes out gzip- or deflate-compressed (zlib level 6)
   * when the request's Accept-Encoding allows it, chosen as engine.io does (npm accepts);
   * smaller ones, POST answers and WebSocket frames as they are. Defaults 1 and 1024
   * (engine.io's); 0 turns it off. */
  int http_compression;
  size_t http_compression_threshold;
  /* engine.io's perMessageDeflate (ws's options, see sio_ws_deflate_opts_t): off by
   * default; the threshold applies per Engine.IO packet. Socket.IO's compress flag
   * (SIO_BCAST_NO_COMPRESS) sends a packet uncompressed whatever its size. */
  sio_ws_deflate_opts_t per_message_deflate;

  /* ---- hooks: engine.io's allowRequest option and its events. All run on the loop
   * thread with hooks_user; req is borrowed for the call. NULL: not used. ---- */

  /* Accepts or refuses a handshake (a request without sid: the first polling GET or a
   * WebSocket-only upgrade), like engine.io's allowRequest(req, fn): answer now or later
   * with sio_engine_allow(v, ok, message). Called after the request passed engine.io's
   * checks (transport, method), before the session exists; requests with a sid (polls,
   * the upgrade probe) are not asked. */
  void (*allow_request)(sio_http_req_t *req, sio_engine_verdict_t *v, void *user);
  /* Add headers to the handshake response (engine.io "initial_headers"). */
  void (*on_initial_headers)(sio_eio_headers_t *h, const sio_http_req_t *req, void *user);
  /* Add headers to every polling response and WebSocket 101 (engine.io "headers"). */
  void (*on_headers)(sio_eio_headers_t *h, const sio_http_req_t *req, void *user);
  /* A request was refused with an engine.io error (engine.io "connection_error"). */
  void (*on_connection_error)(const sio_http_req_t *req, const sio_engine_error_t *err, void *user);
  void *hooks_user;

  sio_engine_cookie_t cookie;
} sio_engine_opts_t;

/* Fills *opts (not NULL) with the defaults listed above. */
SIO_EXTERN void sio_engine_opts_init(sio_engine_opts_t *opts);

typedef struct {
  /* A new session (handshake done). */
  void (*on_open)(sio_eio_t *s, void *user);
  /* A message; data borrowed (writable) for the call. */
  void (*on_message)(sio_eio_t *s, int binary, char *data, size_t len, void *user);
  /* The session closed; reason is engine.io's string ("transport close", "transport error",
   * "ping timeout", "forced close", "parse error"). s is freed after the call. As in
   * engine.io 6.6, a polling client that aborts its pending GET closes the session at
   * once ("transport error"), and one that POSTs a close packet ("transport close") has
   * its pending GET answered with a noop. */
  void (*on_close)(sio_eio_t *s, const char *reason, void *user);
  /* The session moved from long-polling to WebSocket (engine.io "upgrade"); may be NULL. */
  void (*on_upgrade)(sio_eio_t *s, void *user);
} sio_engine_cbs_t;

/* Attaches an Engine.IO server to http at path ("/engine.io/"). opts and cbs copied;
 * user passed to every callback. Returns 0 and *out, SIO_EEXIST (path taken), SIO_ENOMEM. */
SIO_EXTERN int sio_engine_attach(sio_http_t *http, const char *path, const sio_engine_opts_t *opts,
                                 const sio_engine_cbs_t *cbs, void *user, sio_engine_t **out);

/* Closes every session ("forced close"); the engine stays attached but refuses new
 * sessions (503). Call before sio_http_close. */
SIO_EXTERN void sio_engine_shutdown(sio_engine_t *e);

/* Number of open sessions of e. */
SIO_EXTERN size_t sio_engine_count(const sio_engine_t *e);

/* Sends one message (copied). Returns 0, SIO_ECLOSED, SIO_ENOMEM, or SIO_ELIMIT: the
 * message was not queued, because it is larger than max_send_queue (the session stays)
 * or the session is a slow consumer (over the limit: on_close follows in this loop
 * turn's check phase, not inside this call). */
SIO_EXTERN int sio_eio_send(sio_eio_t *s, int binary, const void *data, size_t len);
/* Closes the session ("forced close"); on_close follows synchronously. */
SIO_EXTERN void sio_eio_close(sio_eio_t *s);
/* The session id (borrowed: valid as long as s). */
SIO_EXTERN const char *sio_eio_id(const sio_eio_t *s);
/* "polling" or "websocket" (static). */
SIO_EXTERN const char *sio_eio_transport(const sio_eio_t *s);
/* An application pointer kept with the session (borrowed: never freed by the library). */
SIO_EXTERN void sio_eio_set_data(sio_eio_t *s, void *data);
SIO_EXTERN void *sio_eio_get_data(const sio_eio_t *s);
/* The handshake request, kept for the session's life (slices borrowed from s): its raw
 * query, */
SIO_EXTERN sio_str_t sio_eio_query(const sio_eio_t *s);
/* (one header: sio_eio_get_header in sio/easy.h, 0 and *out or SIO_ENOTFOUND), */
/* and every header in order, names lower-cased (slices borrowed for the call). */
SIO_EXTERN void sio_eio_headers(const sio_eio_t *s, void (*cb)(sio_str_t name, sio_str_t value, void *u), void *u);
/* The peer's IP address (borrowed: valid as long as s). */
SIO_EXTERN const char *sio_eio_address(const sio_eio_t *s);

#endif
