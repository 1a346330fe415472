/*
 * Engine.IO v4 server: request routing (handshake, existing sessions), the protocol's
 * HTTP 400 JSON errors and CORS. Mirrors engine.io's lib/server.ts (verify, handshake,
 * handleRequest). Sessions live in a hash map keyed by their 20-character id.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "engine/engine_int.h"
#include "http/server.h"
#include "ws/conn.h"

void sio_engine_opts_init(sio_engine_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->ping_interval_ms = 25000;
  o->ping_timeout_ms = 20000;
  o->upgrade_timeout_ms = 10000;
  o->max_http_buffer_size = 1000000;
  o->allow_polling = 1;
  o->allow_websocket = 1;
  o->allow_upgrades = 1;
  o->cors_origins = NULL;
  o->max_send_queue = 8u << 20;
  o->http_compression = 1;
  o->http_compression_threshold = 1024;
  sio_ws_deflate_opts_init(&o->per_message_deflate);
  /* engine.io's cookie defaults, used once cookie.enabled is set. */
  o->cookie.name = "io";
  o->cookie.path = "/";
  o->cookie.http_only = 1;
  o->cookie.same_site = "lax";
  o->cookie.max_age = -1;
  o->cors.max_age = -1;
}

static int str_is(sio_str_t s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

void sio__eio_handshake(sio_engine_t *e, sio_http_req_t *req, int t) {
  if (e->shutting_down) {
    sio_http_respond(req, 503, "text/plain", NULL, "Server shutting down", 20);
    return;
  }
  if (t == SIO__EIO_WEBSOCKET) {
    sio__eio_ws_handshake(e, req);
    return;
  }
  sio_eio_t *s = sio__eio_new(e, req, SIO__EIO_POLLING);
  if (s == NULL) {
    sio_http_respond(req, 500, "text/plain", NULL, "Internal Server Error", 21);
    return;
  }
  sio__buf_t b = SIO__BUF_INIT, hdrs = SIO__BUF_INIT;
  int r = sio__eio_response_headers(e, req, 1, s->id, &hdrs);
  if (!r) r = sio__eio_encode_open(&b, s->id, e->opts.allow_websocket && e->opts.allow_upgrades, e->opts.ping_interval_ms,
                                   e->opts.ping_timeout_ms, e->opts.max_http_buffer_size);
  if (r) sio_http_respond(req, 500, "text/plain", NULL, "Internal Server Error", 21);
  else sio_http_respond(req, 200, "text/plain; charset=UTF-8", hdrs.base, b.base, b.len);
  sio__buf_free(&b);
  sio__buf_free(&hdrs);
  if (r) {
    sio__eio_close(s, "transport error");
    return;
  }
  sio__eio_ref(s);
  if (e->cbs.on_open) e->cbs.on_open(s, e->user);
  sio__eio_unref(s);
}

static void on_request(sio_http_req_t *req, void *user) {
  sio_engine_t *e = user;
  const char *method = sio_http_req_method(req);
  /* cors answers a preflight itself; one it does not apply to goes on (and fails). */
  if (strcmp(method, "OPTIONS") == 0 && sio__eio_cors_preflight(e, req)) return;
  sio_str_t eio, transport, sid;
  if (!sio__req_param(req, "EIO", &eio) || !str_is(eio, "4")) {
    sio__eio_respond_error(e, req, SIO__EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION);
    return;
  }
  int t;
  if (!sio__req_param(req, "transport", &transport)) {
    sio__eio_respond_error(e, req, SIO__EIO_ERR_UNKNOWN_TRANSPORT);
    return;
  }
  if (str_is(transport, "polling") && e->opts.allow_polling) t = SIO__EIO_POLLING;
  else if (str_is(transport, "websocket") && e->opts.allow_websocket) t = SIO__EIO_WEBSOCKET;
  else {
    sio__eio_respond_error(e, req, SIO__EIO_ERR_UNKNOWN_TRANSPORT);
    return;
  }
  int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;
  if (t == SIO__EIO_WEBSOCKET && !sio__ws_is_upgrade(req)) {
    /* transport=websocket over plain HTTP (engine.io: "invalid transport upgrade"). */
    sio__eio_fail(e, req, SIO__EIO_ERR_BAD_REQUEST, "TRANSPORT_HANDSHAKE_ERROR");
    return;
  }
  if (!sio__req_param(req, "sid", &sid)) {
    /* A new session: only GET may open one. */
    if (!is_get) {
      sio__eio_respond_error(e, req, SIO__EIO_ERR_BAD_HANDSHAKE_METHOD);
      return;
    }
    if (e->opts.allow_request && !e->shutting_down) {
      sio__eio_ask(e, req, t);
      return;
    }
    sio__eio_handshake(e, req, t);
    return;
  }
  sio_eio_t *s = sid.len == SIO__SID_LEN ? sio__map_get(&e->sessions, sid.ptr, sid.len) : NULL;
  if (s == NULL || s->state != SIO__EIO_S_OPEN) {
    sio__eio_respond_error(e, req, SIO__EIO_ERR_UNKNOWN_SID);
    return;
  }
  if (t == SIO__EIO_WEBSOCKET) {
    if (s->probing || s->upgraded) {
      sio__eio_ws_refuse(req);
      return;
    }
    if (!sio__eio_tp(s)->takes_requests || !e->opts.allow_upgrades) {
      sio__eio_respond_error(e, req, SIO__EIO_ERR_BAD_REQUEST);
      return;
    }
    sio__eio_ws_probe(s, req);
    return;
  }
  /* Polling on a session that moved to WebSocket is refused (engine.io: BAD_REQUEST). */
  if (!sio__eio_tp(s)->takes_requests) {
    sio__eio_fail(e, req, SIO__EIO_ERR_BAD_REQUEST, "TRANSPORT_MISMATCH");
    return;
  }
  if (is_get) sio__eio_polling_get(s, req);
  else if (is_post) sio__eio_polling_post(s, req);
  else sio__eio_respond_error(e, req, SIO__EIO_ERR_BAD_REQUEST);
}

static void on_kick(uv_idle_t *h) { (void)h; }

/* Closes the slow consumers marked this turn (sio__eio_doom). Their close callbacks may
 * send, and so doom more: the list is read to its end as it grows. */
static void close_doomed(sio_engine_t *e) {
  for (uint32_t i = 0; i < e->ndoomed; i++) {
    sio_eio_t *s = e->doomed[i];
    sio__eio_close(s, "transport error");
    sio__eio_unref(s);
  }
  e->ndoomed = 0;
}

void sio__eio_doom(sio_eio_t *s) {
  sio_engine_t *e = s->eng;
  if (s->doomed) return;
  s->doomed = 1;
  SIO__COUNT(e->m.slow_consumers++);
  if (e->ndoomed == e->doomed_cap) {
    uint32_t cap = e->doomed_cap ? e->doomed_cap * 2 : 8;
    sio_eio_t **d = sio__realloc(e->doomed, cap * sizeof *d);
    /* Out of memory: the session stays doomed (sends refused) and its next ping, which
     * sees the mark, closes it. */
    if (d == NULL) return;
    e->doomed = d;
    e->doomed_cap = cap;
  }
  sio__eio_ref(s);
  e->doomed[e->ndoomed++] = s;
  /* The check phase must come this turn even if we are in a timer callback. */
  uv_idle_start(&e->kicker, on_kick);
}

static void on_flush(uv_check_t *h) {
  sio_engine_t *e = h->data;
  close_doomed(e);
  while (!sio__list_empty(&e->flush_list)) {
    sio_eio_t *s = sio__container_of(e->flush_list.next, sio_eio_t, flush_link);
    sio__list_remove(&s->flush_link);
    sio__eio_polling_flush(s);
    /* Drain: what was sent is with the transport (over polling: answered GET, empty
     * queue; a queue waiting for its GET drains when that GET is answered). */
    if (s->drain_due && s->state == SIO__EIO_S_OPEN && s->qn == 0) {
      s->drain_due = 0;
      if (e->obs && e->obs->on_drain) {
        sio__eio_ref(s);
        e->obs->on_drain(s, e->user);
        sio__eio_unref(s);
      }
    }
  }
  /* (A close in a flush may have doomed a session: keep the loop turning for it.) */
  if (e->ndoomed == 0) uv_idle_stop(&e->kicker);
}

static void engine_handle_closed(uv_handle_t *h) {
  sio_engine_t *e = h->data;
  /* Two handles (flusher, kicker): free on the second. */
  if (++e->shutting_down < 3) return;
  sio__refbuf_unref(e->ping_pkt);
  sio__free(e->doomed);
  sio__map_free(&e->sessions);
  sio__free(e->path);
  sio__free(e->cors);
  sio__free(e->cookie);
  sio__eio_cors_free(&e->corsc);
  sio__free(e);
}

/* Runs when the HTTP server closes: every session ends, then the engine's handles. */
static void engine_teardown(void *arg) {
  sio_engine_t *e = arg;
  sio_engine_shutdown(e);
  sio__eio_orphan_verdicts(e);
  e->shutting_down = 1;
  uv_close((uv_handle_t *)&e->flusher, engine_handle_closed);
  uv_close((uv_handle_t *)&e->kicker, engine_handle_closed);
}

int sio_engine_attach(sio_http_t *http, const char *path, const sio_engine_opts_t *opts, const sio_engine_cbs_t *cbs,
                      void *user, sio_engine_t **out) {
  sio_engine_t *e = sio__calloc(1, sizeof *e);
  if (e == NULL) return SIO_ENOMEM;
  if (opts) e->opts = *opts;
  else sio_engine_opts_init(&e->opts);
  e->path = sio__strdup(path);
  e->cors = e->opts.cors_origins ? sio__strdup(e->opts.cors_origins) : NULL;
  e->ping_pkt = sio__eio_packet_new(SIO__EIO_PING, NULL, 0);
  if (e->path == NULL || (e->opts.cors_origins && e->cors == NULL) || e->ping_pkt == NULL) goto nomem;
  e->opts.cors_origins = e->cors;
  sio__list_init(&e->verdicts);
  int cr = sio__eio_cookie_compile(e);
  if (cr == 0) {
    cr = sio__eio_cors_compile(&e->corsc, &e->opts);
    if (cr == SIO_EINVAL) SIO_LOGE("engine: a CORS option holds a line break (remove it from the option)");
  } else if (cr == SIO_EINVAL) {
    SIO_LOGE("engine: bad cookie option (name, path, domain or SameSite): use a token name, no ';' or line "
             "breaks, SameSite Strict, Lax or None");
  }
  if (cr == SIO_EINVAL) {
    sio__free(e->cookie);
    sio__refbuf_unref(e->ping_pkt);
    sio__free(e->path);
    sio__free(e->cors);
    sio__free(e);
    return SIO_EINVAL;
  }
  if (cr) goto nomem;
  /* Both were copied: the caller's strings need not outlive this call. */
  memset(&e->opts.cors, 0, sizeof e->opts.cors);
  memset(&e->opts.cookie, 0, sizeof e->opts.cookie);
  e->http = http;
  e->cbs = *cbs;
  e->user = user;
  sio__list_init(&e->flush_list);
  sio__tlist_init(&e->ping_wait, sio__http_thub(http), e->opts.ping_interval_ms, sio__eio_ping_due);
  sio__tlist_init(&e->pong_wait, sio__http_thub(http), e->opts.ping_timeout_ms, sio__eio_pong_overdue);
  sio__tlist_init(&e->upgrade_wait, sio__http_thub(http), e->opts.upgrade_timeout_ms, sio__eio_upgrade_overdue);
  /* Polling bodies up to maxHttpBufferSize must reach us (we answer 413 ourselves). */
  sio__http_raise_body_limit(http, e->opts.max_http_buffer_size + 1024);
  int r = sio_http_handle(http, path, 0, on_request, e);
  if (r) {
    sio__refbuf_unref(e->ping_pkt);
    sio__free(e->path);
    sio__free(e->cors);
    sio__free(e->cookie);
    sio__eio_cors_free(&e->corsc);
    sio__free(e);
    return r;
  }
  uv_check_init(sio_http_loop(http), &e->flusher);
  uv_idle_init(sio_http_loop(http), &e->kicker);
  e->flusher.data = e->kicker.data = e;
  /* Started after the HTTP server's own flusher, so it runs before it in each check
   * phase (libuv: last started, first run): what this flush queues is written in the
   * same turn (see sio__io_init). */
  uv_check_start(&e->flusher, on_flush);
  uv_unref((uv_handle_t *)&e->flusher);
  sio__http_add_closer(http, &e->closer, engine_teardown, e);
  *out = e;
  return 0;
nomem:
  sio__free(e->cookie);
  sio__refbuf_unref(e->ping_pkt);
  sio__free(e->path);
  sio__free(e->cors);
  sio__free(e);
  return SIO_ENOMEM;
}

void sio__engine_set_observer(sio_engine_t *e, const sio__eio_observer_t *obs) { e->obs = obs; }

void sio__eio_schedule_flush(sio_eio_t *s) {
  if (sio__list_linked(&s->flush_link)) return;
  sio__list_insert_tail(&s->eng->flush_list, &s->flush_link);
  uv_idle_start(&s->eng->kicker, on_kick);
}

void sio_engine_shutdown(sio_engine_t *e) {
  e->shutting_down = 1;
  /* One walk closes everything: a close deletes its own entry, which the walk allows, and
   * other deletions leave tombstones it steps over. (Restarting at slot 0 after each close
   * made shutdown quadratic: 23 s at 100k sessions.) Only a session inserted during the
   * walk (a resize reorders the table) could be missed: walk again while closes happen. */
  for (int closed = 1; closed && sio__map_size(&e->sessions) > 0;) {
    closed = 0;
    uint32_t it = 0;
    void *v;
    while (sio__map_next(&e->sessions, &it, NULL, NULL, &v)) {
      sio__eio_close(v, "forced close");
      closed = 1;
    }
  }
  close_doomed(e); /* closed above: this drops their references */
}

size_t sio_engine_count(const sio_engine_t *e) { return sio__map_size(&e->sessions); }
