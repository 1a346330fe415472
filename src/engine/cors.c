/*
 * CORS for the Engine.IO endpoints, answering as engine.io does with its cors option:
 * engine.io runs the npm cors package (2.8) as a middleware in front of every request,
 * so the headers and the preflight below follow cors's lib/index.js line by line
 * (configureOrigin, configureCredentials, configureMethods, configureAllowedHeaders,
 * configureMaxAge, configureExposedHeaders). The options are copied once at attach.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "engine/engine_int.h"
#include "http/server.h"

enum { CORS_OFF = 0, CORS_STAR, CORS_FIXED, CORS_LIST, CORS_CB };

int sio_engine_cors_any(const sio_http_req_t *req, sio_str_t origin, void *user) {
  (void)req, (void)origin, (void)user;
  return 1;
}

/* Copies s (NULL stays NULL); a value with a line break is refused (header injection). */
static int dup_value(const char *s, char **out) {
  *out = NULL;
  if (s == NULL) return 0;
  if (strpbrk(s, "\r\n") != NULL) return SIO_EINVAL;
  *out = sio__strdup(s);
  return *out ? 0 : SIO_ENOMEM;
}

/* Adds one origin (trimmed s[0..n)) to the list. */
static int add_origin(sio__eio_cors_t *c, const char *s, size_t n) {
  while (n > 0 && s[0] == ' ') s++, n--;
  while (n > 0 && s[n - 1] == ' ') n--;
  if (n == 0) return 0;
  char **l = sio__realloc(c->list, (c->nlist + 1) * sizeof *l);
  if (l == NULL) return SIO_ENOMEM;
  c->list = l;
  if ((l[c->nlist] = sio__malloc(n + 1)) == NULL) return SIO_ENOMEM;
  memcpy(l[c->nlist], s, n);
  l[c->nlist++][n] = '\0';
  return 0;
}

static int compile(sio__eio_cors_t *c, const sio_engine_opts_t *o) {
  const sio_engine_cors_t *in = &o->cors;
  int r;
  c->max_age = -1;
  if (!in->enabled) {
    /* The short form: "*" is cors {origin: true, credentials: true}, a list is cors
     * {origin: [list], credentials: true}. */
    const char *s = o->cors_origins;
    if (s == NULL || s[0] == '\0') return 0;
    c->credentials = 1;
    if (strcmp(s, "*") == 0) {
      c->mode = CORS_CB;
      c->cb = sio_engine_cors_any;
      return 0;
    }
    c->mode = CORS_LIST;
    for (const char *p = s;;) {
      const char *end = strchr(p, ',');
      if ((r = add_origin(c, p, end ? (size_t)(end - p) : strlen(p))) != 0) return r;
      if (end == NULL) return 0;
      p = end + 1;
    }
  }
  c->credentials = in->credentials != 0;
  c->max_age = in->max_age;
  c->cb = in->origin_cb;
  c->cb_user = in->origin_user;
  if ((r = dup_value(in->methods, &c->methods)) || (r = dup_value(in->allowed_headers, &c->allowed)) ||
      (r = dup_value(in->exposed_headers, &c->exposed)))
    return r;
  if (in->origin_cb) {
    c->mode = CORS_CB;
  } else if (in->origins) {
    c->mode = CORS_LIST;
    for (size_t i = 0; i < in->norigins; i++) {
      if (in->origins[i] == NULL) continue;
      if ((r = add_origin(c, in->origins[i], strlen(in->origins[i]))) != 0) return r;
    }
    /* Listing an origin with a line break would be refused as a header anyway. */
  } else if (in->origin == NULL || strcmp(in->origin, "*") == 0) {
    c->mode = CORS_STAR;
  } else {
    c->mode = CORS_FIXED;
    if ((r = dup_value(in->origin, &c->fixed)) != 0) return r;
  }
  return 0;
}

void sio__eio_cors_free(sio__eio_cors_t *c) {
  for (size_t i = 0; i < c->nlist; i++) sio__free(c->list[i]);
  sio__free(c->list);
  sio__free(c->fixed);
  sio__free(c->methods);
  sio__free(c->allowed);
  sio__free(c->exposed);
  memset(c, 0, sizeof *c);
}

int sio__eio_cors_compile(sio__eio_cors_t *c, const sio_engine_opts_t *o) {
  memset(c, 0, sizeof *c);
  int r = compile(c, o);
  if (r) sio__eio_cors_free(c);
  return r;
}

/* What configureOrigin answers for req: 0 = cors does not apply at all (off, or the
 * origin callback refused: cors calls next() with no header), else 1 with *acao set to
 * the value to send (ptr NULL: none) and *vary whether "Vary: Origin" goes out. */
static int origin_for(sio_engine_t *e, sio_http_req_t *req, sio_str_t *acao, int *vary) {
  const sio__eio_cors_t *c = &e->corsc;
  sio_str_t origin = {NULL, 0};
  int have = sio__req_header(req, "origin", &origin);
  /* A reflected Origin must not smuggle header lines (engine.io refuses such a request
   * as INVALID_ORIGIN; the HTTP parser already does not let them through). */
  if (have && (origin.len > 4096 || memchr(origin.ptr, '\r', origin.len) || memchr(origin.ptr, '\n', origin.len)))
    have = 0;
  *acao = (sio_str_t){NULL, 0};
  *vary = 1;
  switch (c->mode) {
  case CORS_STAR:
    *acao = (sio_str_t){"*", 1};
    *vary = 0;
    return 1;
  case CORS_FIXED:
    *acao = (sio_str_t){c->fixed, strlen(c->fixed)};
    return 1;
  case CORS_LIST:
    for (size_t i = 0; have && i < c->nlist; i++) {
      if (strlen(c->list[i]) == origin.len && memcmp(c->list[i], origin.ptr, origin.len) == 0) {
        *acao = origin;
        break;
      }
    }
    return 1;
  case CORS_CB:
    if (!c->cb(req, have ? origin : (sio_str_t){NULL, 0}, c->cb_user)) return 0;
    if (have) *acao = origin; /* cors's origin: true reflects; no Origin, no header */
    return 1;
  default:
    return 0;
  }
}

int sio__eio_cors_headers(sio_engine_t *e, sio_http_req_t *req, sio__buf_t *out) {
  sio_str_t acao;
  int vary, r = 0;
  if (!origin_for(e, req, &acao, &vary)) return 0;
  const sio__eio_cors_t *c = &e->corsc;
  if (acao.ptr) r = sio__buf_appendf(out, "Access-Control-Allow-Origin: %.*s\r\n", (int)acao.len, acao.ptr);
  if (!r && vary) r = sio__buf_append_str(out, "Vary: Origin\r\n");
  if (!r && c->credentials) r = sio__buf_append_str(out, "Access-Control-Allow-Credentials: true\r\n");
  if (!r && c->exposed && c->exposed[0]) r = sio__buf_appendf(out, "Access-Control-Expose-Headers: %s\r\n", c->exposed);
  return r;
}

int sio__eio_cors_preflight(sio_engine_t *e, sio_http_req_t *req) {
  const sio__eio_cors_t *c = &e->corsc;
  sio_str_t acao, want = {NULL, 0};
  int vary;
  if (!origin_for(e, req, &acao, &vary)) return 0;
  sio__buf_t b = SIO__BUF_INIT;
  int r = 0;
  if (acao.ptr) r = sio__buf_appendf(&b, "Access-Control-Allow-Origin: %.*s\r\n", (int)acao.len, acao.ptr);
  if (!r && c->credentials) r = sio__buf_append_str(&b, "Access-Control-Allow-Credentials: true\r\n");
  if (!r) r = sio__buf_appendf(&b, "Access-Control-Allow-Methods: %s\r\n", c->methods ? c->methods : "GET,HEAD,PUT,PATCH,POST,DELETE");
  const char *allowed = c->allowed;
  int reflect = allowed == NULL;
  if (reflect && sio__req_header(req, "access-control-request-headers", &want) &&
      (want.len > 4096 || memchr(want.ptr, '\r', want.len) || memchr(want.ptr, '\n', want.len)))
    want.len = 0;
  if (!r && reflect && want.len) r = sio__buf_appendf(&b, "Access-Control-Allow-Headers: %.*s\r\n", (int)want.len, want.ptr);
  if (!r && !reflect && allowed[0]) r = sio__buf_appendf(&b, "Access-Control-Allow-Headers: %s\r\n", allowed);
  if (!r && c->max_age >= 0) r = sio__buf_appendf(&b, "Access-Control-Max-Age: %lld\r\n", (long long)c->max_age);
  if (!r && c->exposed && c->exposed[0]) r = sio__buf_appendf(&b, "Access-Control-Expose-Headers: %s\r\n", c->exposed);
  /* cors's vary() merges its two Vary values into one header. */
  if (!r && (vary || reflect))
    r = sio__buf_appendf(&b, "Vary: %s%s%s\r\n", vary ? "Origin" : "", vary && reflect ? ", " : "",
                         reflect ? "Access-Control-Request-Headers" : "");
  /* "Safari (and potentially other browsers) need content-length 0 for 204". */
  if (!r) r = sio__buf_append_str(&b, "Content-Length: 0\r\n");
  if (!r) r = sio__buf_append_byte(&b, '\0');
  if (r) sio_http_respond(req, 500, NULL, NULL, NULL, 0);
  else sio_http_respond(req, 204, NULL, b.base, NULL, 0);
  sio__buf_free(&b);
  return 1;
}
