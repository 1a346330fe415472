/*
 * The HTTP server's own structs (src/http only): other layers go through the functions
 * of http/server.h and include/sio/http.h, so these layouts can change freely.
 */
#ifndef SIO_HTTP_SERVER_INT_H
#define SIO_HTTP_SERVER_INT_H

#include "http/server.h"

typedef struct {
  char *path;
  size_t len;
  int exact;
  sio_http_handler_cb cb;
  void *user;
} sio__route_t;

struct sio_http_s {
  uv_loop_t *loop;
  sio__io_t io;
  uv_tcp_t listener;
  sio_http_opts_t opts;
  sio__http_limits_t limits;
  sio__route_t *routes;
  size_t nroutes;
  sio__map_t assets; /* path -> const sio_asset_t* */
  sio__map_t assets_gz; /* path -> sio__http_gz_t* (static.c): gzip copies, made once */
  char *web_root;    /* realpath of the development root, or NULL */
  SSL_CTX *tls_ctx;  /* HTTPS/WSS when set */
  sio__tlist_t req_timeouts;
  sio__tlist_t idle_timeouts;
  sio__http_ws_timers_t ws; /* the WebSocket layer's (ws/limits.c) */
  int listening;
  uint8_t unlistened;  /* sio_http_unlisten ran: the listener is closed or closing */
  uint8_t listener_gone; /* its uv_close callback ran */
  uint8_t close_waits; /* sio_http_close came while it was still closing */
  sio__http_counters_t m; /* for sio_metrics_* (loop thread only) */
  sio__http_closer_t *closers; /* attached layers' teardown, newest first */
  void (*close_cb)(void *user);
  void *close_user;
};

/* Per-connection HTTP state (freed when the connection upgrades). */
typedef struct sio__http_conn_s sio__http_conn_t;

struct sio_http_req_s {
  sio__conn_t *conn;        /* NULL once the connection is gone */
  sio_http_t *http;
  sio__http_request_t *r;   /* the parsed request (in the connection's parser) */
  sio_str_t path, query;
  void (*on_abort)(sio_http_req_t *req, void *user);
  void *abort_user;
  uint8_t answered;
};

#endif
