/*
 * The JSON log format: one object per line on stderr, {"time": ISO-8601 UTC with ms,
 * "level", "event", "msg"} plus "sid", "address", "transport" and "reason" where the
 * line is about a socket. Lines from the library carry no event name: theirs is the
 * message's leading word when it names a subsystem ("history: ...", "engine: ...",
 * "ws-chat: ..."), else "log".
 */
#include "logfmt.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int json_mode;

static const char *const level_names[] = {"none", "error", "warn", "info", "debug"};

static void put_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void put_member(FILE *f, const char *name, const char *value) {
  if (value == NULL) return;
  fprintf(f, ",\"%s\":", name);
  put_str(f, value);
}

static void write_json(sio_log_level_t level, const char *event, const noom_log_fields_t *fl, const char *msg) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char ts[96];
  snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
  FILE *f = stderr;
  flockfile(f);
  fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":", ts, level_names[level <= SIO_LOG_DEBUG ? level : 0]);
  put_str(f, event);
  fputs(",\"msg\":", f);
  put_str(f, msg);
  if (fl) {
    put_member(f, "sid", fl->sid);
    put_member(f, "address", fl->address);
    put_member(f, "transport", fl->transport);
    put_member(f, "reason", fl->reason);
  }
  fputs("}\n", f);
  funlockfile(f);
}

/* "history: ..." -> "history"; anything not shaped like a subsystem name -> "log". */
static void event_of(const char *msg, char *out, size_t cap) {
  size_t n = 0;
  while (msg[n] && (islower((unsigned char)msg[n]) || msg[n] == '-' || msg[n] == '.' || msg[n] == '_')) n++;
  if (n == 0 || n >= cap || msg[n] != ':') {
    snprintf(out, cap, "log");
    return;
  }
  memcpy(out, msg, n);
  out[n] = '\0';
}

static void json_sink(sio_log_level_t level, const char *msg, void *user) {
  (void)user;
  char event[32];
  event_of(msg, event, sizeof event);
  write_json(level, event, NULL, msg);
}

int noom_log_init(const char *format) {
  if (strcmp(format, "text") == 0) {
    json_mode = 0;
    sio_log_set_handler(NULL, NULL);
    return 0;
  }
  if (strcmp(format, "json") == 0) {
    json_mode = 1;
    sio_log_set_handler(json_sink, NULL);
    return 0;
  }
  return -1;
}

void noom_log_event(sio_log_level_t level, const char *event, const noom_log_fields_t *f, const char *fmt, ...) {
  if (level > sio_log_get_level() || level == SIO_LOG_NONE) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (json_mode) write_json(level, event, f, msg);
  else sio_log_printf(level, "%s", msg);
}
