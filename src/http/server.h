/* Internal view of the HTTP server (src/http/server.c), for the ws and engine layers. */
#ifndef SIO_HTTP_SERVER_H
#define SIO_HTTP_SERVER_H

#include "common/map.h"
#include "common/tlist.h"
#include "http/conn.h"
#include "http/parser.h"
#include "http/tls.h"
#include "sio/http.h"

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
  char *web_root;    /* realpath of the development root, or NULL */
  SSL_CTX *tls_ctx;  /* HTTPS/WSS when set */
  sio__tlist_t req_timeouts;
  sio__tlist_t idle_timeouts;
  /* The WebSocket layer's timeouts (ws/limits.c sets them up at the first upgrade). */
  sio__tlist_t ws_ping_wait, ws_pong_wait, ws_close_wait, ws_abort;
  int ws_timers_ready;
  int listening;
  struct {
    void (*fn)(void *arg);
    void *arg;
  } closers[8];   /* attached layers' teardown, run first by sio_http_close */
  int nclosers;
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

/* Hands the connection of req over to another protocol (WebSocket): the HTTP state is
 * freed and the bytes after the request head go to proto. Returns the conn. */
sio__conn_t *sio__http_detach(sio_http_req_t *req, const sio__conn_proto_t *proto, void *proto_data);

/* Registers fn(arg) to run at the start of sio_http_close (attached servers tear down). */
int sio__http_add_closer(sio_http_t *h, void (*fn)(void *arg), void *arg);

/* Reason phrase for a status code. */
const char *sio__http_reason(int status);

#endif
