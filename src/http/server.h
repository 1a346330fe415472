/* What the HTTP server (src/http/server.c) offers the ws and engine layers. */
#ifndef SIO_HTTP_SERVER_H
#define SIO_HTTP_SERVER_H

#include "common/count.h"
#include "common/map.h"
#include "common/tlist.h"
#include "http/conn.h"
#include "http/parser.h"
#include "http/tls.h"
#include "sio/http.h"

/* A layer's teardown, run at the start of sio_http_close. The node lives in the layer's
 * own struct (no allocation, so registering cannot fail), linked newest first. */
typedef struct sio__http_closer_s {
  struct sio__http_closer_s *next;
  void (*fn)(void *arg);
  void *arg;
} sio__http_closer_t;

/* The WebSocket layer's timeout lists (ws/limits.c), kept with the server so they live as
 * long as its timer hub; the WebSocket layer sets them up at the first upgrade. */
typedef struct {
  sio__tlist_t ping_wait, pong_wait, close_wait, abort;
  int ready;
} sio__http_ws_timers_t;

/* Accessors for the layers above (the structs are private to src/http). */

/* The WebSocket layer's lists (borrowed). */
sio__http_ws_timers_t *sio__http_ws_timers(sio_http_t *h);
/* The options the server was created with (borrowed). */
const sio_http_opts_t *sio__http_opts(const sio_http_t *h);

/* The timer hub every layer on this server shares (borrowed). */
sio__thub_t *sio__http_thub(sio_http_t *h);
/* Raises the request body limit to at least n bytes (an engine's maxHttpBufferSize
 * plus framing); never lowers it. */
void sio__http_raise_body_limit(sio_http_t *h, size_t n);
/* 1 when the server speaks TLS (handshake.secure). */
int sio__http_secure(const sio_http_t *h);
/* The connection of req, NULL once it is gone. */
sio__conn_t *sio__http_req_conn(const sio_http_req_t *req);
/* The parsed request of req (borrowed while req is). */
const sio__http_request_t *sio__http_req_parsed(const sio_http_req_t *req);
/* 1 and *out (borrowed from req) for a raw query parameter / the first header named
 * name (case-insensitive), else 0 (sio_http_req_get_param/_header are the public forms). */
int sio__req_param(const sio_http_req_t *req, const char *name, sio_str_t *out);
int sio__req_header(const sio_http_req_t *req, const char *name, sio_str_t *out);
/* The server req arrived on. */
sio_http_t *sio__http_req_server(const sio_http_req_t *req);
/* The connection closes once req is answered ("Connection: close"), keep-alive or not. */
void sio__http_req_close_after(sio_http_req_t *req);
/* Number of header lines of req. */
size_t sio__http_req_nheaders(const sio_http_req_t *req);

/* Hands the connection of req over to another protocol (WebSocket): the HTTP state is
 * freed and the bytes after the request head go to proto. Returns the conn. */
sio__conn_t *sio__http_detach(sio_http_req_t *req, const sio__conn_proto_t *proto, void *proto_data);

/* Registers fn(arg) to run at the start of sio_http_close (attached servers tear down),
 * before the closers registered earlier. c (usually a member of arg) must stay valid
 * until fn runs; fn may free it. Cannot fail: every layer attached is torn down. */
/* What the HTTP server counts, for sio_metrics_* (loop thread only). */
typedef struct {
  uint64_t requests;       /* requests dispatched to a handler, static files or routes */
  uint64_t status_4xx, status_5xx; /* answers with those statuses (sio_http_respond) */
  uint64_t bad_requests;   /* malformed or over-limit requests, answered and closed */
  uint64_t refused;        /* connections refused at max_connections (503) */
  uint32_t connections;    /* open now (WebSocket and detached ones included) */
} sio__http_counters_t;
void sio__http_counters(const sio_http_t *h, sio__http_counters_t *out);

void sio__http_add_closer(sio_http_t *h, sio__http_closer_t *c, void (*fn)(void *arg), void *arg);

/* Reason phrase for a status code. */
const char *sio__http_reason(int status);

#endif
