/*
 * The session getter with the library's "found" polarity (include/sio/easy.h): 0 and
 * *out when found, SIO_ENOTFOUND when not, over the internal sio__eio_header's 1 or 0.
 */
#include "engine/engine.h"
#include "sio/easy.h"

int sio_eio_get_header(const sio_eio_t *s, const char *lname, sio_str_t *out) {
  if (s == NULL || lname == NULL || out == NULL) return SIO_EINVAL;
  return sio__eio_header(s, lname, out) ? 0 : SIO_ENOTFOUND;
}
