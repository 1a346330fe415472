/* Internal logging: one line per event, with the peer where there is one. */
#ifndef SIO_COMMON_LOG_H
#define SIO_COMMON_LOG_H

#include "sio/common.h"

extern sio_log_level_t sio__log_level;

void sio__log_emit(sio_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The level check is inline so a quiet log costs one compare, not a vsnprintf. */
#define sio__log(level, ...)                                  \
  do {                                                        \
    if ((level) <= sio__log_level) sio__log_emit(level, __VA_ARGS__); \
  } while (0)

#define SIO_LOGE(...) sio__log(SIO_LOG_ERROR, __VA_ARGS__)
#define SIO_LOGW(...) sio__log(SIO_LOG_WARN, __VA_ARGS__)
#define SIO_LOGI(...) sio__log(SIO_LOG_INFO, __VA_ARGS__)
#define SIO_LOGD(...) sio__log(SIO_LOG_DEBUG, __VA_ARGS__)

#endif
