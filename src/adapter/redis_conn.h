/*
 * adapter/redis_conn.h: one Redis connection that stays up: hiredis 0.14's async context
 * on the loop (our own uv_poll glue), reconnecting with backoff when Redis goes away,
 * with a bounded write backlog. The adapter (redis.c) uses two: a publisher and a
 * subscriber. Also the redis:// URL parser. Layer: adapter. Loop thread only.
 */
#ifndef SIO_ADAPTER_REDIS_CONN_H
#define SIO_ADAPTER_REDIS_CONN_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <uv.h>

/* A parsed redis://[[user]:password@]host[:port][/db] URL (strings owned). */
typedef struct {
  char *host;     /* "127.0.0.1"; brackets of an IPv6 literal removed */
  int port;       /* default 6379 */
  char *user;     /* NULL unless given (Redis 6 ACL user) */
  char *password; /* NULL unless given */
  int db;         /* SELECTed when not 0 (pub/sub ignores it; streams and keys do not) */
} sio__redis_url_t;

/* Parses url (borrowed) into *out (free with sio__redis_url_free). Percent-escapes in
 * the user and password are decoded. Returns 0, SIO_EINVAL (not redis://, empty host,
 * bad port or db, trailing garbage) or SIO_ENOMEM. */
int sio__redis_url_parse(const char *url, sio__redis_url_t *out);
void sio__redis_url_free(sio__redis_url_t *u);

typedef struct sio__rconn_s sio__rconn_t;

typedef struct {
  /* The connection is (again) established, AUTH and SELECT done if configured. */
  void (*on_up)(sio__rconn_t *c, void *user);
  /* The connection was lost (or never came up): why is hiredis's message. Commands are
   * refused (SIO_ECLOSED) until on_up; pending ones were answered with a NULL reply. */
  void (*on_down)(sio__rconn_t *c, const char *why, void *user);
  /* After sio__rconn_close: hiredis has let go of the connection and every callback has
   * run; c is freed after this returns. May be NULL. */
  void (*on_closed)(sio__rconn_t *c, void *user);
} sio__rconn_cbs_t;

/* Largest write backlog (bytes hiredis holds for a Redis that does not read) before
 * commands are refused with SIO_ELIMIT. */
#define SIO__RCONN_MAX_BACKLOG (16u << 20)
/* Reconnect delays: the first retry after 50 ms, doubling up to 2 s. */
#define SIO__RCONN_RETRY_MIN_MS 50
#define SIO__RCONN_RETRY_MAX_MS 2000
/* A connection attempt that has not completed by then is abandoned and retried. */
#define SIO__RCONN_CONNECT_TIMEOUT_MS 5000

/* Starts connecting to url (borrowed; copied) and keeps the connection up until
 * sio__rconn_close. cbs copied. Returns 0 and *out, or SIO_ENOMEM. A refused or failed
 * first attempt is not an error: it is retried like a lost connection. */
int sio__rconn_new(uv_loop_t *loop, const sio__redis_url_t *url, const sio__rconn_cbs_t *cbs, void *user,
                   sio__rconn_t **out);

/* 1 when commands can be sent. */
int sio__rconn_up(const sio__rconn_t *c);

/* Bytes of commands written but not yet taken by Redis (0 when not connected). */
size_t sio__rconn_backlog(const sio__rconn_t *c);

/* Sends a command (argv copied). fn(ac, reply, priv) runs once: with the reply, or with
 * a NULL reply when the connection goes away or is closed first. fn may be NULL.
 * Returns 0, SIO_ECLOSED (not connected: fn never runs), SIO_ELIMIT (backlog full: fn
 * never runs), SIO_ENOMEM. */
int sio__rconn_command(sio__rconn_t *c, redisCallbackFn *fn, void *priv, int argc, const char **argv,
                       const size_t *argvlen);

/* Closes: no more on_up/on_down; memory goes on a later loop turn. graceful: what is
 * queued is still written and answered first (callbacks get their replies); otherwise
 * pending callbacks run with a NULL reply, possibly inside this call. */
void sio__rconn_close(sio__rconn_t *c, int graceful);

#endif
