/* --log-format: today's text lines, or one JSON object per line for log shippers. */
#ifndef NOOM_LOGFMT_H
#define NOOM_LOGFMT_H

#include "sio.h"

/* "text" (the library's default sink) or "json" (installs a sink that writes
 * {"time","level","event","msg"} lines on stderr). 0, or -1 for another name. */
int noom_log_init(const char *format);

/* What is known about the subject of a log line (any member may be NULL). */
typedef struct {
  const char *sid;
  const char *address;
  const char *transport;
  const char *reason;
} noom_log_fields_t;

/* A log line about one thing: event is a short stable name ("connect", "drain"), the
 * message is printf-formatted. In text mode it is the message alone, as before; in JSON
 * mode the fields become members. */
void noom_log_event(sio_log_level_t level, const char *event, const noom_log_fields_t *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
