/* Static files: the embedded asset table, or a development directory (--web-root). */
#ifndef SIO_HTTP_STATIC_H
#define SIO_HTTP_STATIC_H

#include "sio/http.h"

/* Answers req from the assets or the web root: 200, 304 (ETag match), 302 to "/" for
 * unknown GET paths when redirect_unknown is set, 404, or 405 for other methods. */
void sio__http_static_serve(sio_http_t *h, sio_http_req_t *req);

#endif
