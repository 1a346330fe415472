/*
 * The request getters with the library's "found" polarity (include/sio/easy.h): 0 and
 * *out when found, SIO_ENOTFOUND when not, over the internal ones that answer 1 or 0.
 */
#include "http/server.h"
#include "sio/easy.h"

int sio_http_req_get_header(const sio_http_req_t *req, const char *name, sio_str_t *out) {
  if (req == NULL || name == NULL || out == NULL) return SIO_EINVAL;
  return sio__req_header(req, name, out) ? 0 : SIO_ENOTFOUND;
}

int sio_http_req_get_param(const sio_http_req_t *req, const char *name, sio_str_t *out) {
  if (req == NULL || name == NULL || out == NULL) return SIO_EINVAL;
  return sio__req_param(req, name, out) ? 0 : SIO_ENOTFOUND;
}
