/*
 * sio/admin.h: the server side of the Socket.IO admin UI (@socket.io/admin-ui 0.5.1's
 * instrument()), so the official UI (https://admin.socket.io, or its ui/dist served
 * anywhere) shows this server's namespaces, sockets, rooms and events next to Node
 * servers of the same fleet.
 *
 * What it does, as instrument() does:
 *  - a namespace ("/admin" by default) guarded by basic authentication: the UI's CONNECT
 *    auth {username, password} is checked against a bcrypt hash (libcrypt's crypt_r, on
 *    libuv's thread pool, so the loop never waits for bcrypt); a success answers a
 *    "session" event whose id later CONNECTs may give instead ({sessionId});
 *  - on connect: "config" {supportedFeatures}, then in development mode "all_sockets"
 *    (every socket of every namespace, on every node through the adapter);
 *  - every stats_interval_ms: "server_stats" {serverId, hostname, pid, uptime,
 *    clientsCount, pollingClientsCount, aggregatedEvents, namespaces};
 *  - in development mode: socket_connected, socket_updated (transport upgrade, and
 *    socket.data set with sio_socket_set_data_json),
 *    socket_disconnected, room_joined, room_left, event_received, event_sent;
 *  - unless readonly: the UI's actions "_disconnect" (nsp, close, filter), "join" and
 *    "leave" (nsp, room, filter) and "emit" (nsp, filter, event, ...args), applied to
 *    the whole fleet through the namespace's adapter.
 * Everything goes to the admin namespace as a broadcast, so with an adapter (sio/redis.h)
 * a UI connected to any node sees every node, Node ones included.
 *
 * Cost: nothing per event while no admin is connected anywhere (the per-socket event
 * listeners are only added while one is; another node's admin is noticed within one
 * stats interval). event_received / event_sent go out volatile: a slow UI misses some
 * rather than growing a queue.
 */
#ifndef SIO_ADMIN_H
#define SIO_ADMIN_H

#include "sio.h"

typedef struct sio_admin_s sio_admin_t; /* opaque */

enum { SIO_ADMIN_DEVELOPMENT = 0, SIO_ADMIN_PRODUCTION = 1 };

typedef struct {
  const char *namespace_name;  /* default "/admin" (copied) */
  /* Basic authentication: both set, or neither with no_auth = 1 (instrument's
   * auth: false). password_hash is a bcrypt hash ($2a$, $2b$ or $2y$). Copied. */
  const char *username;
  const char *password_hash;
  int no_auth;                 /* default 0: attach refuses to run without credentials */
  int readonly;                /* default 0: the UI may disconnect, join, leave, emit */
  int mode;                    /* SIO_ADMIN_DEVELOPMENT (default) or SIO_ADMIN_PRODUCTION
                                  (server_stats and config only, no per-socket detail) */
  const char *server_id;       /* default: the host name (copied) */
  uint64_t stats_interval_ms;  /* default 2000 */
  uint32_t max_sessions;       /* remembered login sessions, oldest dropped; default 1000 */
  uint64_t session_ttl_ms;     /* a session id is accepted this long; default 24 h */
  uint32_t max_pending_logins; /* bcrypt checks at once; more are refused; default 4 */
} sio_admin_opts_t;

/* Fills *o (not NULL) with the defaults above. */
SIO_EXTERN void sio_admin_opts_init(sio_admin_opts_t *o);

/* Instruments io (instrument(io, opts) in JS). opts copied. Returns 0 and *out, or
 * SIO_EINVAL (credentials missing without no_auth, a password_hash that is not a bcrypt
 * hash, a username without a hash, a bad namespace name), SIO_ELIMIT (io has
 * SIO_SERVER_MAX_OBSERVERS observers already), SIO_ENOMEM. */
SIO_EXTERN int sio_admin_attach(sio_server_t *io, const sio_admin_opts_t *opts, sio_admin_t **out);

/* Stops reporting (NULL allowed; a second call does nothing). The admin namespace and
 * its sockets stay. a itself is freed with the server (sio_http_close), which detaches
 * it if that was not done; login checks still running on the thread pool finish first,
 * without effect. */
SIO_EXTERN void sio_admin_detach(sio_admin_t *a);

/* Parses a bcrypt hash as bcryptjs's getRounds accepts it: "$2a$", "$2b$" or "$2y$", a
 * two-digit cost 04..31, "$", then 53 characters of bcrypt's base64 (22 of salt, 31 of
 * hash). Returns the cost (4..31) or SIO_EINVAL. len bytes of hash are read (no NUL
 * needed). */
SIO_EXTERN int sio_admin_hash_parse(const char *hash, size_t len);

#endif
