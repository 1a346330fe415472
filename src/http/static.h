/* Static files: the embedded asset table, or a development directory (--web-root). */
#ifndef SIO_HTTP_STATIC_H
#define SIO_HTTP_STATIC_H

#include "sio/http.h"

/* Answers req from the assets or the web root: 200, 304 (ETag match), 302 to "/" for
 * unknown GET paths when redirect_unknown is set, 404, or 405 for other methods. */
void sio__http_static_serve(sio_http_t *h, sio_http_req_t *req);

/* 1 if a file exists for this URL path (files win over prefix routes, so the Socket.IO
 * client at /socket.io/socket.io.js is served although /socket.io/ is the engine's). */
int sio__http_static_has(sio_http_t *h, sio_str_t path);

/* Frees the compressed copies of the assets (at server teardown). */
void sio__http_static_free(sio_http_t *h);

#endif
