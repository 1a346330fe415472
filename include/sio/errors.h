/*
 * sio/errors.h: the library's error codes.
 *
 * Every public call returns 0 (or a count) on success and a negative code on failure.
 * I/O failures pass libuv's UV_E* codes through unchanged; the library's own codes live
 * in the range below -30000 so the two never collide. One X-macro table yields the
 * constants, their names and their messages.
 */
#ifndef SIO_ERRORS_H
#define SIO_ERRORS_H

#ifndef SIO_EXTERN
#define SIO_EXTERN __attribute__((visibility("default")))
#endif

#define SIO_ERRNO_MAP(XX)                                                     \
  XX(EAGAIN, -30001, "incomplete input, more bytes needed")                  \
  XX(EPROTO, -30002, "protocol error")                                       \
  XX(ETOOBIG, -30003, "payload exceeds the configured limit")                \
  XX(ECLOSED, -30004, "socket or session is closed")                         \
  XX(ETIMEDOUT, -30005, "operation timed out")                               \
  XX(ECANCELED, -30006, "operation canceled")                                \
  XX(ENOMEM, -30007, "out of memory")                                        \
  XX(EINVAL, -30008, "invalid argument")                                     \
  XX(ENOTFOUND, -30009, "not found")                                         \
  XX(EEXIST, -30010, "already exists")                                       \
  XX(EBUSY, -30011, "resource busy")                                         \
  XX(EUTF8, -30012, "invalid UTF-8")                                         \
  XX(EJSON, -30013, "invalid JSON")                                          \
  XX(ELIMIT, -30014, "a configured limit was reached")                       \
  XX(ENOTSUP, -30015, "not supported")                                       \
  XX(EPERM, -30016, "operation not permitted")

typedef enum {
#define SIO_ERR_ENUM(name, code, msg) SIO_##name = (code),
  SIO_ERRNO_MAP(SIO_ERR_ENUM)
#undef SIO_ERR_ENUM
  SIO_ERRNO_LAST_ = -30017
} sio_errno_t;

/* Returns a static message for an error code (ours or libuv's); never NULL. */
SIO_EXTERN const char *sio_strerror(int err);

/* Returns the static symbolic name ("SIO_EPROTO", "ECONNRESET"...); never NULL. */
SIO_EXTERN const char *sio_err_name(int err);

#endif /* SIO_ERRORS_H */
