/* Error names and messages from the SIO_ERRNO_MAP table; libuv's codes pass through. */
#include <uv.h>

#include "sio/errors.h"
#include "sio/version.h"

const char *sio_strerror(int err) {
  switch (err) {
#define XX(name, code, msg) \
  case code:                \
    return msg;
    SIO_ERRNO_MAP(XX)
#undef XX
  default:
    return err < 0 ? uv_strerror(err) : "success";
  }
}

const char *sio_err_name(int err) {
  switch (err) {
#define XX(name, code, msg) \
  case code:                \
    return "SIO_" #name;
    SIO_ERRNO_MAP(XX)
#undef XX
  default:
    return err < 0 ? uv_err_name(err) : "OK";
  }
}

const char *sio_version_string(void) {
#define SIO_STR_(x) #x
#define SIO_STR(x) SIO_STR_(x)
  return SIO_STR(SIO_VERSION_MAJOR) "." SIO_STR(SIO_VERSION_MINOR) "." SIO_STR(SIO_VERSION_PATCH);
}
