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

typedef struct {
  uint64_t ping_interval_ms;    /* default 25000 */
  uint64_t ping_timeout_ms;     /* default 20000 */
  uint64_t upgrade_timeout_ms;  /* default 10000 */
  size_t max_http_buffer_size;  /* max bytes of one message / polling body; default 1000000 */
  int allow_polling;            /* default 1 */
  int allow_websocket;          /* default 1 */
  int allow_upgrades;           /* offer the polling -> websocket upgrade; default 1 */
  /* CORS: NULL or "" sends no CORS headers (same-origin only); "*" reflects any Origin;
   * otherwise a comma-separated list of allowed origins ("http://a.com,https://b.org").
   * Credentials are allowed only for listed (or reflected) origins. Default NULL. */
  const char *cors_origins;
  /* Bytes that may wait for a session (WebSocket output not yet written, or the polling
   * queue); default 8 MiB, 0 for no limit. Checked before queuing: a packet that would
   * pass it marks the session a slow consumer, refused from then on and closed hard
   * ("transport error", TCP reset, queue freed) later in the same loop turn, never
   * inside the send; a single packet larger than the limit is refused (SIO_ELIMIT) and
   * the session stays. */
  size_t max_send_queue;
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
/* its first header named lname (lower-case): 1 and *out, or 0 (the older polarity,
 * kept: sio_eio_get_header in sio/easy.h answers 0 / SIO_ENOTFOUND), */
SIO_EXTERN int sio_eio_header(const sio_eio_t *s, const char *lname, sio_str_t *out);
/* and every header in order, names lower-cased (slices borrowed for the call). */
SIO_EXTERN void sio_eio_headers(const sio_eio_t *s, void (*cb)(sio_str_t name, sio_str_t value, void *u), void *u);
/* The peer's IP address (borrowed: valid as long as s). */
SIO_EXTERN const char *sio_eio_address(const sio_eio_t *s);

#endif
