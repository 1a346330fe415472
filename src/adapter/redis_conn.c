/*
 * A Redis connection that stays up (hiredis 0.14.1 async API on libuv), for the Redis
 * adapter. hiredis does the RESP protocol; this file gives it a loop and a life:
 *
 *  - our own uv_poll glue instead of hiredis/adapters/libuv.h: the shipped one allocates
 *    with malloc (outside the allocator hook) and leaks its poll state when uv_poll_init
 *    fails;
 *  - reconnection: a lost or refused connection is retried after 50 ms, doubling up to
 *    2 s, forever, and an attempt that hangs (hiredis 0.14 has no connect timeout) is
 *    abandoned after 5 s;
 *  - bounded memory: commands are refused while the connection is down (nothing is
 *    queued for later) and while hiredis's write buffer holds more than 16 MiB that Redis
 *    has not read.
 *
 * hiredis rules this relies on (async.c 0.14.1): a failed connect runs the connect
 * callback with REDIS_ERR and then frees the context; a lost connection runs the
 * disconnect callback and frees it; either way pending callbacks first get a NULL reply.
 * redisAsyncFree() from inside one of the context's callbacks is deferred until that
 * callback returns.
 */
#include "adapter/redis_conn.h"

#include <hiredis/sds.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "http/url.h"
#include "common/log.h"
#include "sio/errors.h"

/* ---------------------------------------------------------------------------------
 * redis:// URLs
 * ------------------------------------------------------------------------------ */

/* Copies s[0..n) with %XX decoded. NULL on OOM or a bad escape (*bad set); %00 is a bad
 * escape here, since the result goes into a C string. */
static char *decoded(const char *s, size_t n, int *bad) {
  char *out = sio__malloc(n + 1);
  if (out == NULL) return NULL;
  long o = sio__http_pct_decode((sio_str_t){s, n}, out, n, 0);
  if (o < 0 || memchr(out, '\0', (size_t)o) != NULL) {
    *bad = 1;
    sio__free(out);
    return NULL;
  }
  out[o] = '\0';
  return out;
}

/* Parses a decimal number in [min, max] from s[0..n). */
static int number(const char *s, size_t n, long min, long max, long *out) {
  if (n == 0 || n > 9) return -1;
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (v < min || v > max) return -1;
  *out = v;
  return 0;
}

void sio__redis_url_free(sio__redis_url_t *u) {
  sio__free(u->host);
  sio__free(u->user);
  sio__free(u->password);
  memset(u, 0, sizeof *u);
}

int sio__redis_url_parse(const char *url, sio__redis_url_t *out) {
  static const char scheme[] = "redis://";
  sio__redis_url_t u = {NULL, 6379, NULL, NULL, 0};
  if (url == NULL || strncmp(url, scheme, sizeof scheme - 1) != 0) return SIO_EINVAL;
  const char *p = url + sizeof scheme - 1;
  const char *end = p + strlen(p);
  int bad = 0;
  /* userinfo: everything up to the last '@' before the path. */
  const char *slash = memchr(p, '/', (size_t)(end - p));
  const char *hostend = slash ? slash : end;
  const char *at = NULL;
  for (const char *q = p; q < hostend; q++)
    if (*q == '@') at = q;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (colon > p && (u.user = decoded(p, (size_t)(colon - p), &bad)) == NULL) goto fail;
      if ((u.password = decoded(colon + 1, (size_t)(at - colon - 1), &bad)) == NULL) goto fail;
    } else if (at > p && (u.user = decoded(p, (size_t)(at - p), &bad)) == NULL) {
      goto fail;
    }
    p = at + 1;
  }
  /* host: [v6] or name, then :port. */
  const char *h = p, *hend;
  if (*p == '[') {
    const char *close = memchr(p, ']', (size_t)(hostend - p));
    if (close == NULL) goto invalid;
    h = p + 1;
    hend = close;
    p = close + 1;
  } else {
    const char *colon = memchr(p, ':', (size_t)(hostend - p));
    hend = colon ? colon : hostend;
    p = hend;
  }
  if (hend == h) goto invalid;
  if (p < hostend) {
    long port;
    if (*p != ':' || number(p + 1, (size_t)(hostend - p - 1), 1, 65535, &port) != 0) goto invalid;
    u.port = (int)port;
  }
  if (slash && slash + 1 < end) {
    long db;
    if (number(slash + 1, (size_t)(end - slash - 1), 0, 1000000, &db) != 0) goto invalid;
    u.db = (int)db;
  }
  if ((u.host = sio__strndup(h, (size_t)(hend - h))) == NULL) goto fail;
  *out = u;
  return 0;
invalid:
  bad = 1;
fail:
  sio__redis_url_free(&u);
  return bad ? SIO_EINVAL : SIO_ENOMEM;
}

/* ---------------------------------------------------------------------------------
 * hiredis on libuv
 * ------------------------------------------------------------------------------ */

typedef struct {
  redisAsyncContext *ac; /* NULL once hiredis let go of the context */
  uv_poll_t poll;
  int events;
} glue_t;

static void glue_poll(uv_poll_t *h, int status, int events) {
  glue_t *g = h->data;
  /* An error on the socket (a refused connect, a reset): let hiredis read it, which
   * makes it notice and disconnect. */
  if (status < 0) events = UV_READABLE | UV_WRITABLE;
  /* Reading may end in a disconnect that frees the context (cleanup clears g->ac). */
  if (g->ac && (events & UV_READABLE)) redisAsyncHandleRead(g->ac);
  if (g->ac && (events & UV_WRITABLE)) redisAsyncHandleWrite(g->ac);
}

static void glue_update(glue_t *g, int add, int del) {
  g->events = (g->events | add) & ~del;
  if (g->events) uv_poll_start(&g->poll, g->events, glue_poll);
  else uv_poll_stop(&g->poll);
}

static void glue_add_read(void *p) { glue_update(p, UV_READABLE, 0); }
static void glue_del_read(void *p) { glue_update(p, 0, UV_READABLE); }
static void glue_add_write(void *p) { glue_update(p, UV_WRITABLE, 0); }
static void glue_del_write(void *p) { glue_update(p, 0, UV_WRITABLE); }
static void glue_closed(uv_handle_t *h) { sio__free(h->data); }

static void glue_cleanup(void *p) {
  glue_t *g = p;
  g->ac = NULL;
  uv_close((uv_handle_t *)&g->poll, glue_closed);
}

static int glue_attach(redisAsyncContext *ac, uv_loop_t *loop) {
  glue_t *g = sio__calloc(1, sizeof *g);
  if (g == NULL) return SIO_ENOMEM;
  int r = uv_poll_init(loop, &g->poll, ac->c.fd);
  if (r != 0) {
    sio__free(g);
    return r;
  }
  g->ac = ac;
  g->poll.data = g;
  ac->ev.data = g;
  ac->ev.addRead = glue_add_read;
  ac->ev.delRead = glue_del_read;
  ac->ev.addWrite = glue_add_write;
  ac->ev.delWrite = glue_del_write;
  ac->ev.cleanup = glue_cleanup;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * The connection
 * ------------------------------------------------------------------------------ */

struct sio__rconn_s {
  uv_loop_t *loop;
  sio__redis_url_t url;   /* owned copy */
  sio__rconn_cbs_t cbs;
  void *user;
  redisAsyncContext *ac;  /* the current attempt or connection, NULL between attempts */
  int up;                 /* connected (and authenticated): commands may be sent */
  int closing;
  uint64_t delay_ms;      /* next retry delay */
  uv_timer_t retry;       /* waits before the next attempt */
  uv_timer_t connect_to;  /* abandons an attempt that hangs */
  int open_handles;       /* timers not yet closed */
};

static void start_attempt(sio__rconn_t *c);

static void maybe_free(sio__rconn_t *c) {
  if (c->closing && c->ac == NULL && c->open_handles == 0) {
    if (c->cbs.on_closed) c->cbs.on_closed(c, c->user);
    sio__redis_url_free(&c->url);
    sio__free(c);
  }
}

static void timer_closed(uv_handle_t *h) {
  sio__rconn_t *c = h->data;
  c->open_handles--;
  maybe_free(c);
}

static void on_retry(uv_timer_t *t) { start_attempt(t->data); }

/* The attempt or connection failed: tell the owner and try again later. */
static void went_down(sio__rconn_t *c, const char *why) {
  c->up = 0;
  if (c->closing) return;
  uv_timer_stop(&c->connect_to);
  c->cbs.on_down(c, why, c->user);
  uv_timer_start(&c->retry, on_retry, c->delay_ms, 0);
  c->delay_ms = c->delay_ms * 2 > SIO__RCONN_RETRY_MAX_MS ? SIO__RCONN_RETRY_MAX_MS : c->delay_ms * 2;
}

static void came_up(sio__rconn_t *c) {
  c->up = 1;
  c->delay_ms = SIO__RCONN_RETRY_MIN_MS;
  uv_timer_stop(&c->connect_to);
  c->cbs.on_up(c, c->user);
}

static void on_auth(redisAsyncContext *ac, void *reply, void *priv) {
  sio__rconn_t *c = priv;
  redisReply *rep = reply;
  if (rep == NULL || c->closing) return;
  if (rep->type == REDIS_REPLY_ERROR) {
    SIO_LOGE("redis adapter: Redis refused AUTH (%.*s): check the user and password in the redis:// URL",
             (int)rep->len, rep->str);
    /* Deferred by hiredis until this callback returns; the disconnect retries. */
    redisAsyncDisconnect(ac);
    return;
  }
  if (c->url.db == 0) came_up(c); /* else on_select brings it up */
}

static void on_select(redisAsyncContext *ac, void *reply, void *priv) {
  sio__rconn_t *c = priv;
  redisReply *rep = reply;
  if (rep == NULL || c->closing) return;
  if (rep->type == REDIS_REPLY_ERROR) {
    SIO_LOGE("redis adapter: Redis refused SELECT %d (%.*s): check the database number in the redis:// URL",
             c->url.db, (int)rep->len, rep->str);
    redisAsyncDisconnect(ac);
    return;
  }
  came_up(c);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  sio__rconn_t *c = ac->data;
  if (status != REDIS_OK) {
    /* hiredis frees the context after this callback. */
    c->ac = NULL;
    went_down(c, ac->errstr[0] ? ac->errstr : "connection failed");
    maybe_free(c);
    return;
  }
  if (c->url.password == NULL && c->url.db == 0) came_up(c);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  sio__rconn_t *c = ac->data;
  c->ac = NULL; /* freed by hiredis after this callback */
  if (c->closing) {
    maybe_free(c);
    return;
  }
  went_down(c, status == REDIS_OK ? "connection closed" : (ac->errstr[0] ? ac->errstr : "connection lost"));
}

static void on_connect_timeout(uv_timer_t *t) {
  sio__rconn_t *c = t->data;
  if (c->ac == NULL || c->up) return;
  redisAsyncContext *ac = c->ac;
  c->ac = NULL;
  /* Not connected yet: hiredis runs no disconnect callback for it. */
  redisAsyncFree(ac);
  went_down(c, "connect timed out");
}

static void start_attempt(sio__rconn_t *c) {
  if (c->closing) return;
  redisAsyncContext *ac = redisAsyncConnect(c->url.host, c->url.port);
  if (ac == NULL || ac->err) {
    char why[128];
    snprintf(why, sizeof why, "%s", ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    went_down(c, why);
    return;
  }
  if (glue_attach(ac, c->loop) != 0) {
    redisAsyncFree(ac);
    went_down(c, "cannot watch the socket");
    return;
  }
  ac->data = c;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  c->ac = ac;
  if (c->url.password) {
    /* Queued now, written first once the connection is up. */
    const char *argv[3] = {"AUTH", c->url.user, c->url.password};
    int argc = c->url.user ? 3 : 2;
    if (!c->url.user) argv[1] = c->url.password;
    redisAsyncCommandArgv(ac, on_auth, c, argc, argv, NULL);
  }
  if (c->url.db != 0) {
    /* Streams and session keys live in a database (pub/sub ignores it). */
    char db[16];
    snprintf(db, sizeof db, "%d", c->url.db);
    const char *argv[2] = {"SELECT", db};
    redisAsyncCommandArgv(ac, on_select, c, 2, argv, NULL);
  }
  uv_timer_start(&c->connect_to, on_connect_timeout, SIO__RCONN_CONNECT_TIMEOUT_MS, 0);
}

static int copy_url(sio__redis_url_t *dst, const sio__redis_url_t *src) {
  *dst = (sio__redis_url_t){NULL, src->port, NULL, NULL, src->db};
  dst->host = sio__strdup(src->host);
  if (src->user) dst->user = sio__strdup(src->user);
  if (src->password) dst->password = sio__strdup(src->password);
  if (dst->host == NULL || (src->user && dst->user == NULL) || (src->password && dst->password == NULL)) {
    sio__redis_url_free(dst);
    return SIO_ENOMEM;
  }
  return 0;
}

int sio__rconn_new(uv_loop_t *loop, const sio__redis_url_t *url, const sio__rconn_cbs_t *cbs, void *user,
                   sio__rconn_t **out) {
  sio__rconn_t *c = sio__calloc(1, sizeof *c);
  if (c == NULL) return SIO_ENOMEM;
  if (copy_url(&c->url, url) != 0) {
    sio__free(c);
    return SIO_ENOMEM;
  }
  c->loop = loop;
  c->cbs = *cbs;
  c->user = user;
  c->delay_ms = SIO__RCONN_RETRY_MIN_MS;
  uv_timer_init(loop, &c->retry);
  uv_timer_init(loop, &c->connect_to);
  c->retry.data = c->connect_to.data = c;
  c->open_handles = 2;
  *out = c;
  start_attempt(c);
  return 0;
}

int sio__rconn_up(const sio__rconn_t *c) { return c->up && c->ac != NULL; }

int sio__rconn_command(sio__rconn_t *c, redisCallbackFn *fn, void *priv, int argc, const char **argv,
                       const size_t *argvlen) {
  if (!sio__rconn_up(c)) return SIO_ECLOSED;
  /* Redis reads slower than we write (or stopped reading without closing): refuse
   * rather than let the buffer grow without bound. */
  if (sdslen(c->ac->c.obuf) > SIO__RCONN_MAX_BACKLOG) return SIO_ELIMIT;
  if (c->ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING)) return SIO_ECLOSED;
  return redisAsyncCommandArgv(c->ac, fn, priv, argc, argv, argvlen) == REDIS_OK ? 0 : SIO_ENOMEM;
}

void sio__rconn_close(sio__rconn_t *c, int graceful) {
  if (c->closing) return;
  c->closing = 1;
  c->up = 0;
  uv_timer_stop(&c->retry);
  uv_timer_stop(&c->connect_to);
  uv_close((uv_handle_t *)&c->retry, timer_closed);
  uv_close((uv_handle_t *)&c->connect_to, timer_closed);
  if (c->ac) {
    redisAsyncContext *ac = c->ac;
    /* A connected context runs on_disconnect (which clears c->ac); one still connecting
     * does not, so forget it here. Freeing inside one of its callbacks is deferred. */
    if (!(ac->c.flags & REDIS_CONNECTED)) c->ac = NULL;
    /* Graceful: hiredis writes what is queued, waits for the replies, then closes. */
    if (graceful && (ac->c.flags & REDIS_CONNECTED)) redisAsyncDisconnect(ac);
    else redisAsyncFree(ac);
  }
  maybe_free(c);
}

size_t sio__rconn_backlog(const sio__rconn_t *c) { return sio__rconn_up(c) ? sdslen(c->ac->c.obuf) : 0; }
