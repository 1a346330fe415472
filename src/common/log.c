/* Log sink: default is one stderr line "2026-01-02T03:04:05.678Z LEVEL message". */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "sio/errors.h"

sio_log_level_t sio__log_level = SIO_LOG_INFO;
static sio_log_cb log_cb;
static void *log_user;

static const char *level_names[] = {"none", "error", "warn", "info", "debug"};

void sio_log_set_level(sio_log_level_t level) { sio__log_level = level; }
sio_log_level_t sio_log_get_level(void) { return sio__log_level; }

int sio_log_level_parse(const char *name, sio_log_level_t *out) {
  for (int i = 0; i <= SIO_LOG_DEBUG; i++) {
    if (strcasecmp(name, level_names[i]) == 0) {
      *out = (sio_log_level_t)i;
      return 0;
    }
  }
  return SIO_EINVAL;
}

void sio_log_set_handler(sio_log_cb cb, void *user) {
  log_cb = cb;
  log_user = user;
}

static void emit_v(sio_log_level_t level, const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (log_cb != NULL) {
    log_cb(level, msg, log_user);
    return;
  }
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  static const char *tags[] = {"", "ERROR", "WARN ", "INFO ", "DEBUG"};
  fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
          tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
          tags[level <= SIO_LOG_DEBUG ? level : 0], msg);
}

void sio__log_emit(sio_log_level_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit_v(level, fmt, ap);
  va_end(ap);
}

void sio_log_printf(sio_log_level_t level, const char *fmt, ...) {
  if (level > sio__log_level || level == SIO_LOG_NONE) return;
  va_list ap;
  va_start(ap, fmt);
  emit_v(level, fmt, ap);
  va_end(ap);
}
