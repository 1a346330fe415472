/*
 * The engine's hooks, as engine.io's Server offers them: allowRequest (an asynchronous
 * verdict on a handshake), the "initial_headers" / "headers" events (headers added to
 * responses), the cookie option (Set-Cookie with the session id on the handshake), and
 * the "connection_error" event with the refused request's answer (abortRequest /
 * abortUpgrade in engine.io's lib/server.ts).
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "engine/engine_int.h"
#include "http/server.h"
#include "ws/conn.h"

/* ---- response headers ---- */

struct sio_eio_headers_s {
  sio__buf_t *b;
};

/* RFC 9110 tchar. */
static int is_token(const char *s) {
  if (*s == '\0') return 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c <= 32 || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c)) return 0;
  }
  return 1;
}

int sio_eio_headers_add(sio_eio_headers_t *h, const char *name, const char *value) {
  if (h == NULL || name == NULL || value == NULL || !is_token(name)) return SIO_EINVAL;
  /* A value with a line break would smuggle headers (or a body) into the response. */
  if (strpbrk(value, "\r\n") != NULL) return SIO_EINVAL;
  return sio__buf_appendf(h->b, "%s: %s\r\n", name, value);
}

int sio__eio_cookie_compile(sio_engine_t *e) {
  const sio_engine_cookie_t *c = &e->opts.cookie;
  if (!c->enabled) return 0;
  const char *name = c->name ? c->name : "io";
  /* npm cookie's serialize() checks these too (it throws; we refuse to attach). */
  if (!is_token(name) || (c->path && strpbrk(c->path, ";\r\n")) || (c->domain && strpbrk(c->domain, ";\r\n")))
    return SIO_EINVAL;
  const char *ss = NULL;
  if (c->same_site) {
    if (strcasecmp(c->same_site, "lax") == 0) ss = "Lax";
    else if (strcasecmp(c->same_site, "strict") == 0) ss = "Strict";
    else if (strcasecmp(c->same_site, "none") == 0) ss = "None";
    else return SIO_EINVAL;
  }
  sio__buf_t b = SIO__BUF_INIT;
  /* Attribute order of npm cookie 0.7 (what engine.io uses), after "name=value". */
  int r = sio__buf_appendf(&b, "%s=", name);
  e->cookie_attrs_at = (uint32_t)b.len;
  if (!r && c->max_age >= 0) r = sio__buf_appendf(&b, "; Max-Age=%lld", (long long)c->max_age);
  if (!r && c->domain) r = sio__buf_appendf(&b, "; Domain=%s", c->domain);
  if (!r && c->path) r = sio__buf_appendf(&b, "; Path=%s", c->path);
  if (!r && c->http_only) r = sio__buf_append_str(&b, "; HttpOnly");
  if (!r && c->secure) r = sio__buf_append_str(&b, "; Secure");
  if (!r && ss) r = sio__buf_appendf(&b, "; SameSite=%s", ss);
  if (!r) r = sio__buf_append_byte(&b, '\0');
  if (r) {
    sio__buf_free(&b);
    return r;
  }
  e->cookie = b.base;
  return 0;
}

int sio__eio_response_headers(sio_engine_t *e, sio_http_req_t *req, int initial, const char *cookie_sid,
                              sio__buf_t *out) {
  int r = sio__eio_cors_headers(e, req, out);
  if (!r && cookie_sid && e->cookie) {
    /* "io=" then the sid (base64url: nothing to encode) then the attributes. */
    r = sio__buf_appendf(out, "Set-Cookie: %.*s%s%s\r\n", (int)e->cookie_attrs_at, e->cookie, cookie_sid,
                         e->cookie + e->cookie_attrs_at);
  }
  sio_eio_headers_t h = {out};
  if (!r && initial && e->opts.on_initial_headers) e->opts.on_initial_headers(&h, req, e->opts.hooks_user);
  if (!r && e->opts.on_headers) e->opts.on_headers(&h, req, e->opts.hooks_user);
  /* NUL-terminated for sio_http_respond, not counted. */
  if (!r) r = sio__buf_append_byte(out, '\0');
  if (!r) out->len--;
  return r;
}

/* ---- refusals ---- */

void sio__eio_fail(sio_engine_t *e, sio_http_req_t *req, int code, const char *context) {
  const char *message = sio__eio_error_message(code);
  if (e->opts.on_connection_error) {
    sio_engine_error_t err = {code, message, context};
    e->opts.on_connection_error(req, &err, e->opts.hooks_user);
  }
  /* Only allowRequest's refusal carries its own message (error.context.message). */
  const char *body = code == SIO__EIO_ERR_FORBIDDEN && context ? context : message;
  if (sio__ws_is_upgrade(req)) {
    /* engine.io's abortUpgrade: always 400, the message as text/html, then the end. */
    sio__http_req_close_after(req);
    sio_http_respond(req, 400, "text/html", NULL, body, strlen(body));
    return;
  }
  sio__buf_t cors = SIO__BUF_INIT, b = SIO__BUF_INIT;
  int r = sio__eio_cors_headers(e, req, &cors);
  if (!r) r = sio__buf_append_byte(&cors, '\0');
  if (!r) r = sio__eio_error_json_msg(&b, code, body, strlen(body));
  if (r == 0) {
    sio_http_respond(req, code == SIO__EIO_ERR_FORBIDDEN ? 403 : 400, "application/json", cors.base, b.base, b.len);
  } else {
    sio_http_respond(req, 500, NULL, NULL, NULL, 0);
  }
  sio__buf_free(&cors);
  sio__buf_free(&b);
}

void sio__eio_respond_error(sio_engine_t *e, sio_http_req_t *req, int code) { sio__eio_fail(e, req, code, NULL); }

/* ---- allowRequest ---- */

struct sio_engine_verdict_s {
  sio__list_t link;     /* in e->verdicts; lets teardown orphan the verdicts it leaves */
  sio_engine_t *e;      /* NULL once the engine is gone */
  sio_http_req_t *req;  /* NULL once the client is gone */
  uint8_t transport;
};

static void verdict_abort(sio_http_req_t *req, void *user) {
  sio_engine_verdict_t *v = user;
  (void)req;
  v->req = NULL;
}

void sio__eio_ask(sio_engine_t *e, sio_http_req_t *req, int transport) {
  sio_engine_verdict_t *v = sio__calloc(1, sizeof *v);
  if (v == NULL) {
    sio_http_respond(req, 500, "text/plain", NULL, "Internal Server Error", 21);
    return;
  }
  v->e = e;
  v->req = req;
  v->transport = (uint8_t)transport;
  sio__list_insert_tail(&e->verdicts, &v->link);
  sio_http_req_on_abort(req, verdict_abort, v);
  e->opts.allow_request(req, v, e->opts.hooks_user);
}

sio_http_req_t *sio_engine_verdict_req(const sio_engine_verdict_t *v) { return v->req; }

void sio_engine_allow(sio_engine_verdict_t *v, int ok, const char *message) {
  sio_engine_t *e = v->e;
  sio_http_req_t *req = v->req;
  int transport = v->transport;
  sio__list_remove(&v->link);
  sio__free(v);
  if (req == NULL) return;
  sio_http_req_on_abort(req, NULL, NULL);
  if (e == NULL) {
    sio_http_respond(req, 503, "text/plain", NULL, "Server shutting down", 20);
    return;
  }
  if (!ok) {
    SIO_LOGD("engine: allow_request refused a handshake from %s: %s", sio_http_req_peer(req), message ? message : "");
    sio__eio_fail(e, req, SIO__EIO_ERR_FORBIDDEN, message);
    return;
  }
  sio__eio_handshake(e, req, transport);
}

void sio__eio_orphan_verdicts(sio_engine_t *e) {
  while (!sio__list_empty(&e->verdicts)) {
    sio_engine_verdict_t *v = sio__container_of(e->verdicts.next, sio_engine_verdict_t, link);
    sio__list_remove(&v->link);
    v->e = NULL;
  }
}
