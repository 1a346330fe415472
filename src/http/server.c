/*
 * The HTTP/1.1 server: accept, parse (src/http/parser.c), route, answer in order.
 *
 * Requests on one connection are handled one at a time: while a request is unanswered
 * (a long-poll GET), reading pauses and pipelined bytes wait in the connection's buffer,
 * so responses always go out in request order (RFC 9112 §9.3.2). Malformed requests get
 * their status (400, 411, 413, 414, 431, 505) and the connection closes.
 */
#include "http/server_int.h"

#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/static.h"
#include "http/url.h"

struct sio__http_conn_s {
  sio__http_parser_t parser;
  sio_http_req_t req;
  uint8_t dispatching; /* inside a handler call from on_data */
  uint8_t pending;     /* a request was dispatched and is not answered yet */
  uint8_t dead;        /* closed or detached during dispatch: free when the handler returns */
};

static long http_on_data(sio__conn_t *c, char *data, size_t len);
static void http_on_close(sio__conn_t *c);
static const sio__conn_proto_t http_proto = {http_on_data, http_on_close, NULL};

void sio_http_opts_init(sio_http_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->max_header_bytes = 16384;
  o->max_headers = 100;
  o->max_url_bytes = 8192;
  o->max_body_bytes = 1000000;
  o->request_timeout_ms = 10000;
  o->idle_timeout_ms = 5000;
  o->ws_ping_interval_ms = 25000;
  o->ws_ping_timeout_ms = 20000;
  o->ws_close_timeout_ms = 5000;
  o->ws_max_queued = 8u << 20;
  o->static_compression = 1;
  sio_ws_deflate_opts_init(&o->ws_deflate);
}

const char *sio__http_reason(int status) {
  switch (status) {
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 204: return "No Content";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

static void on_request_timeout(sio__tnode_t *n) {
  sio__conn_t *c = sio__container_of(n, sio__conn_t, timeout);
  SIO_LOGD("%s: request timeout", sio__conn_peer(c));
  /* 408 then close, as Node does for a stalled request head. */
  static const char resp[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  sio__conn_write(c, resp, sizeof resp - 1);
  sio__conn_close(c, 1);
}

static void on_idle_timeout(sio__tnode_t *n) {
  sio__conn_t *c = sio__container_of(n, sio__conn_t, timeout);
  sio__conn_close(c, 1);
}

static void on_connection(uv_stream_t *server, int status) {
  sio_http_t *h = server->data;
  if (status < 0) {
    SIO_LOGW("accept failed: %s (out of file descriptors? raise ulimit -n, or lower max_connections so that "
             "clients get a 503 instead)", uv_strerror(status));
    return;
  }
  sio__conn_t *c = sio__conn_accept(&h->io, server, &http_proto);
  if (c == NULL) return;
  if (h->opts.max_connections && h->io.nconns > h->opts.max_connections) {
    SIO_LOGW("%s: refused, %u connections open (max_connections; raise it with ulimit -n, or add a node)",
             sio__conn_peer(c), h->io.nconns - 1);
    SIO__COUNT(h->m.refused++);
    static const char resp[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    sio__conn_write(c, resp, sizeof resp - 1);
    sio__conn_close(c, 1);
    return;
  }
  if (h->tls_ctx && (c->tls = sio__tls_new(h->tls_ctx)) == NULL) {
    sio__conn_close(c, 0);
    return;
  }
  sio__http_conn_t *hc = sio__calloc(1, sizeof *hc);
  if (hc == NULL) {
    sio__conn_close(c, 0);
    return;
  }
  sio__http_parser_init(&hc->parser, &h->limits);
  c->proto_data = hc;
  sio__tlist_arm(&h->idle_timeouts, &c->timeout);
}

int sio_http_new(uv_loop_t *loop, const sio_http_opts_t *opts, sio_http_t **out) {
  sio_http_t *h = sio__calloc(1, sizeof *h);
  if (h == NULL) return SIO_ENOMEM;
  h->loop = loop;
  if (opts) h->opts = *opts;
  else sio_http_opts_init(&h->opts);
  sio__http_limits_default(&h->limits);
  h->limits.max_head = h->opts.max_header_bytes;
  h->limits.max_headers = h->opts.max_headers;
  h->limits.max_url = h->opts.max_url_bytes;
  h->limits.max_body = h->opts.max_body_bytes;
  int r = sio__io_init(&h->io, loop);
  if (r) {
    sio__free(h->io.rbuf);
    sio__free(h);
    return r;
  }
  h->io.data = h;
  sio__tlist_init(&h->req_timeouts, &h->io.thub, h->opts.request_timeout_ms, on_request_timeout);
  sio__tlist_init(&h->idle_timeouts, &h->io.thub, h->opts.idle_timeout_ms, on_idle_timeout);
  uv_tcp_init(loop, &h->listener);
  h->listener.data = h;
  *out = h;
  return 0;
}

int sio_http_listen(sio_http_t *h, const char *host, int port) {
  struct sockaddr_storage ss;
  int r = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                            : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  if (r) return r;
  r = uv_tcp_bind(&h->listener, (struct sockaddr *)&ss, 0);
  if (r) return r;
  /* Accepted sockets inherit TCP_NODELAY from the listener on Linux: one
   * setsockopt here instead of one per connection (frames are corked per loop turn, so
   * Nagle would only add latency). */
  r = uv_tcp_nodelay(&h->listener, 1);
  if (r) return r;
  r = uv_listen((uv_stream_t *)&h->listener, 1024, on_connection);
  if (r) return r;
  h->listening = 1;
  return 0;
}

uv_loop_t *sio_http_loop(const sio_http_t *h) { return h->loop; }
sio__thub_t *sio__http_thub(sio_http_t *h) { return &h->io.thub; }
sio__http_ws_timers_t *sio__http_ws_timers(sio_http_t *h) { return &h->ws; }
const sio_http_opts_t *sio__http_opts(const sio_http_t *h) { return &h->opts; }
int sio__http_secure(const sio_http_t *h) { return h->tls_ctx != NULL; }
sio__conn_t *sio__http_req_conn(const sio_http_req_t *req) { return req->conn; }
const sio__http_request_t *sio__http_req_parsed(const sio_http_req_t *req) { return req->r; }
sio_http_t *sio__http_req_server(const sio_http_req_t *req) { return req->http; }
size_t sio__http_req_nheaders(const sio_http_req_t *req) { return req->r->nhdrs; }

void sio__http_raise_body_limit(sio_http_t *h, size_t n) {
  if (h->limits.max_body < n) h->limits.max_body = n;
}

int sio_http_port(const sio_http_t *h) {
  if (!h->listening) return SIO_ECLOSED;
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int r = uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len);
  if (r) return r;
  return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                        : ((struct sockaddr_in *)&ss)->sin_port);
}

static void free_server(sio_http_t *h) {
  void (*cb)(void *) = h->close_cb;
  void *user = h->close_user;
  for (size_t i = 0; i < h->nroutes; i++) sio__free(h->routes[i].path);
  sio__free(h->routes);
  sio__http_static_free(h);
  sio__map_free(&h->assets);
  sio__free(h->web_root);
  if (h->tls_ctx) SSL_CTX_free(h->tls_ctx);
  sio__free(h);
  if (cb) cb(user);
}

static void on_io_closed(sio__io_t *io) { free_server(io->data); }

static void on_listener_closed(uv_handle_t *handle) {
  sio_http_t *h = handle->data;
  sio__io_close(&h->io, on_io_closed);
}

int sio_http_set_tls(sio_http_t *h, const char *cert_file, const char *key_file) {
  SSL_CTX *ctx = sio__tls_ctx_from_files(cert_file, key_file);
  if (ctx == NULL) return SIO_EINVAL;
  if (h->tls_ctx) SSL_CTX_free(h->tls_ctx);
  h->tls_ctx = ctx;
  return 0;
}

int sio_http_set_tls_self_signed(sio_http_t *h, char *fingerprint, size_t cap) {
  SSL_CTX *ctx = sio__tls_ctx_self_signed(fingerprint, cap);
  if (ctx == NULL) return SIO_EINVAL;
  if (h->tls_ctx) SSL_CTX_free(h->tls_ctx);
  h->tls_ctx = ctx;
  return 0;
}

void sio__http_add_closer(sio_http_t *h, sio__http_closer_t *c, void (*fn)(void *arg), void *arg) {
  *c = (sio__http_closer_t){h->closers, fn, arg};
  h->closers = c;
}

void sio_http_close(sio_http_t *h, void (*cb)(void *user), void *user) {
  /* Upper layers first (newest first), while connections still exist to say goodbye on. */
  while (h->closers) {
    sio__http_closer_t *c = h->closers;
    h->closers = c->next; /* before fn, which may free c */
    c->fn(c->arg);
  }
  h->close_cb = cb;
  h->close_user = user;
  h->listening = 0;
  if (!h->unlistened) uv_close((uv_handle_t *)&h->listener, on_listener_closed);
  else if (h->listener_gone) sio__io_close(&h->io, on_io_closed);
  else h->close_waits = 1; /* on_unlistened goes on from there */
}

static void on_unlistened(uv_handle_t *handle) {
  sio_http_t *h = handle->data;
  h->listener_gone = 1;
  if (h->close_waits) sio__io_close(&h->io, on_io_closed);
}

void sio_http_unlisten(sio_http_t *h) {
  if (h->unlistened) return;
  h->unlistened = 1;
  h->listening = 0;
  uv_close((uv_handle_t *)&h->listener, on_unlistened);
}

void sio__http_counters(const sio_http_t *h, sio__http_counters_t *out) {
  *out = h->m;
  out->connections = h->io.nconns;
}

int sio_http_handle(sio_http_t *h, const char *path, int exact, sio_http_handler_cb cb, void *user) {
  for (size_t i = 0; i < h->nroutes; i++) {
    if (h->routes[i].exact == exact && strcmp(h->routes[i].path, path) == 0) return SIO_EEXIST;
  }
  sio__route_t *r = sio__realloc(h->routes, (h->nroutes + 1) * sizeof *r);
  if (r == NULL) return SIO_ENOMEM;
  h->routes = r;
  char *p = sio__strdup(path);
  if (p == NULL) return SIO_ENOMEM;
  h->routes[h->nroutes++] = (sio__route_t){p, strlen(p), exact, cb, user};
  return 0;
}

/* Exact routes win; then the longest matching prefix. */
static const sio__route_t *find_route(const sio_http_t *h, sio_str_t path) {
  const sio__route_t *best = NULL;
  for (size_t i = 0; i < h->nroutes; i++) {
    const sio__route_t *r = &h->routes[i];
    if (r->exact) {
      if (path.len == r->len && memcmp(path.ptr, r->path, r->len) == 0) return r;
    } else if (path.len >= r->len && memcmp(path.ptr, r->path, r->len) == 0) {
      if (best == NULL || r->len > best->len) best = r;
    }
  }
  return best;
}

/* ---- answering ---- */

static void request_done(sio__conn_t *c, sio__http_conn_t *hc, int keep_alive) {
  sio_http_t *h = hc->req.http;
  hc->pending = 0;
  sio__http_parser_next(&hc->parser);
  if (!keep_alive) {
    sio__conn_close(c, 1);
    return;
  }
  sio__tlist_arm(&h->idle_timeouts, &c->timeout);
  if (!hc->dispatching) {
    /* Answered later (long-poll): go on with pipelined bytes and new reads. */
    sio__conn_resume(c);
    sio__conn_replay(c);
  }
}

void sio__http_req_close_after(sio_http_req_t *req) {
  if (req->r) req->r->keep_alive = 0;
}

int sio_http_respond(sio_http_req_t *req, int status, const char *content_type, const char *extra_headers,
                     const void *body, size_t len) {
  if (req->answered) return SIO_EINVAL;
  sio__conn_t *c = req->conn;
  if (c == NULL) return SIO_ECLOSED;
  sio__http_conn_t *hc = c->proto_data;
  int keep_alive = req->r->keep_alive;
  sio__buf_t b = SIO__BUF_INIT;
  int head_only = req->r->method == HTTP_HEAD;
  int r = sio__buf_appendf(&b, "HTTP/1.1 %d %s\r\n", status, sio__http_reason(status));
  if (!r && content_type) r = sio__buf_appendf(&b, "Content-Type: %s\r\n", content_type);
  if (!r && status != 304 && status != 204) r = sio__buf_appendf(&b, "Content-Length: %zu\r\n", len);
  if (!r && !keep_alive) r = sio__buf_append_str(&b, "Connection: close\r\n");
  if (!r && extra_headers) r = sio__buf_append_str(&b, extra_headers);
  if (!r) r = sio__buf_append(&b, "\r\n", 2);
  if (!r && !head_only && status != 304 && status != 204) r = sio__buf_append(&b, body, len);
  if (!r) r = sio__conn_write(c, b.base, b.len);
  sio__buf_free(&b);
  req->answered = 1;
  if (status >= 400) SIO__COUNT(status >= 500 ? req->http->m.status_5xx++ : req->http->m.status_4xx++);
  if (r) {
    sio__conn_close(c, 0);
    return r;
  }
  request_done(c, hc, keep_alive);
  return 0;
}

/* Protocol-level error: status, then close. */
static void respond_error(sio__conn_t *c, int status) {
  char resp[160];
  int n = snprintf(resp, sizeof resp, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
                   status, sio__http_reason(status), strlen(sio__http_reason(status)), sio__http_reason(status));
  SIO_LOGD("%s: bad request, answering %d", sio__conn_peer(c), status);
  SIO__COUNT(((sio_http_t *)c->io->data)->m.bad_requests++);
  sio__conn_write(c, resp, (size_t)n);
  sio__conn_close(c, 1);
}

/* Runs the handler. Returns 1 if hc is gone afterwards (connection closed or upgraded). */
static int dispatch(sio__conn_t *c, sio__http_conn_t *hc) {
  sio_http_t *h = hc->req.http;
  sio_http_req_t *req = &hc->req;
  req->conn = c;
  req->r = &hc->parser.req;
  req->answered = 0;
  req->on_abort = NULL;
  sio__http_url_split(sio__http_req_url(req->r), &req->path, &req->query);
  hc->pending = 1;
  SIO__COUNT(h->m.requests++);
  sio__tnode_disarm(&c->timeout);
  const sio__route_t *route = find_route(h, req->path);
  hc->dispatching = 1;
  if (route && !route->exact && sio__http_static_has(h, req->path)) route = NULL;
  if (route) route->cb(req, route->user);
  else sio__http_static_serve(h, req);
  hc->dispatching = 0;
  if (hc->dead) {
    sio__http_parser_free(&hc->parser);
    sio__free(hc);
    return 1;
  }
  return 0;
}

static long http_on_data(sio__conn_t *c, char *data, size_t len) {
  sio__http_conn_t *hc = c->proto_data;
  sio_http_t *h = sio__container_of(c->io, sio_http_t, io);
  hc->req.http = h;
  size_t done = 0;
  while (done < len) {
    if (hc->pending) {
      /* An unanswered request: keep the rest for later, in order. */
      sio__conn_pause(c);
      return (long)done;
    }
    int was_in_message = sio__http_parser_in_message(&hc->parser);
    long n = sio__http_parser_execute(&hc->parser, data + done, len - done);
    if (n < 0) {
      respond_error(c, hc->parser.status ? hc->parser.status : 400);
      return -1;
    }
    done += (size_t)n;
    if (!was_in_message && sio__http_parser_in_message(&hc->parser)) {
      sio__tlist_arm(&h->req_timeouts, &c->timeout);
    }
    if (!hc->parser.complete) break;
    int upgrade = hc->parser.req.upgrade;
    sio_str_t host;
    if (hc->parser.req.http_major == 1 && hc->parser.req.http_minor >= 1 &&
        !sio__http_req_header(&hc->parser.req, "host", &host)) {
      /* RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host. */
      respond_error(c, 400);
      return -1;
    }
    if (dispatch(c, hc)) return c->closing ? -1 : (long)done; /* upgraded: the rest is the new protocol's */
    if (c->closing) return -1;
    if (upgrade && hc->pending) {
      /* An upgrade the handler did not take: nothing after the head can be HTTP. */
      return (long)len;
    }
  }
  return (long)done;
}

static void http_on_close(sio__conn_t *c) {
  sio__http_conn_t *hc = c->proto_data;
  if (hc == NULL) return;
  if (hc->pending && !hc->req.answered) {
    hc->req.conn = NULL;
    if (hc->req.on_abort) hc->req.on_abort(&hc->req, hc->req.abort_user);
  }
  c->proto_data = NULL;
  if (hc->dispatching) {
    hc->dead = 1; /* dispatch() frees it when the handler returns */
    return;
  }
  sio__http_parser_free(&hc->parser);
  sio__free(hc);
}

sio__conn_t *sio__http_detach(sio_http_req_t *req, const sio__conn_proto_t *proto, void *proto_data) {
  sio__conn_t *c = req->conn;
  sio__http_conn_t *hc = c->proto_data;
  req->answered = 1;
  /* The handler is still running with req in hand: the parser's request stays readable
   * until it returns, and dispatch() frees the HTTP state then. */
  hc->dead = 1;
  c->proto = proto;
  c->proto_data = proto_data;
  sio__tnode_disarm(&c->timeout);
  return c;
}

/* ---- request accessors ---- */

const char *sio_http_req_method(const sio_http_req_t *req) { return sio__http_method_str(req->r->method); }
sio_str_t sio_http_req_path(const sio_http_req_t *req) { return req->path; }
sio_str_t sio_http_req_query(const sio_http_req_t *req) { return req->query; }

int sio__req_param(const sio_http_req_t *req, const char *name, sio_str_t *out) {
  return sio__http_query_get(req->query, name, out);
}

int sio__req_header(const sio_http_req_t *req, const char *name, sio_str_t *out) {
  char lname[64];
  size_t n = strlen(name);
  if (n >= sizeof lname) return 0;
  for (size_t i = 0; i <= n; i++) lname[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
  return sio__http_req_header(req->r, lname, out);
}

void sio_http_req_headers(const sio_http_req_t *req, void (*cb)(sio_str_t, sio_str_t, void *), void *u) {
  const sio__http_request_t *r = req->r;
  for (uint32_t i = 0; i < r->nhdrs; i++) {
    const sio__http_hdr_t *hd = &r->hdrs[i];
    cb((sio_str_t){r->store.base + hd->name, hd->name_len}, (sio_str_t){r->store.base + hd->value, hd->value_len}, u);
  }
}

sio_str_t sio_http_req_body(const sio_http_req_t *req) {
  return (sio_str_t){req->r->body.base, req->r->body.len};
}

const char *sio_http_req_peer(const sio_http_req_t *req) { return req->conn ? sio__conn_peer(req->conn) : "?"; }

void sio_http_req_on_abort(sio_http_req_t *req, void (*cb)(sio_http_req_t *, void *), void *user) {
  req->on_abort = cb;
  req->abort_user = user;
}
