/*
 * sio__buf_t: a growable byte buffer (reserve / append / consume), in the spirit of sds
 * and h2o_buffer. Any call that may grow the buffer may move base: never keep pointers
 * into it across such a call.
 */
#ifndef SIO_COMMON_BUF_H
#define SIO_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  char *base; /* NULL while empty and never grown */
  size_t len; /* bytes in use */
  size_t cap; /* bytes allocated */
} sio__buf_t;

#define SIO__BUF_INIT {NULL, 0, 0}

/* Ensures cap - len >= extra. Returns 0 or SIO_ENOMEM (buffer unchanged). */
int sio__buf_reserve(sio__buf_t *b, size_t extra);
int sio__buf_append(sio__buf_t *b, const void *data, size_t len);
int sio__buf_append_str(sio__buf_t *b, const char *s);
/* Appends v in decimal (what "%" PRIu64 prints, without the printf machinery). */
int sio__buf_append_u64(sio__buf_t *b, uint64_t v);

int sio__buf_append_byte_slow(sio__buf_t *b, char c);
/* Inline: encoders append byte by byte in their inner loops. */
static inline int sio__buf_append_byte(sio__buf_t *b, char c) {
  if (b->len < b->cap) {
    b->base[b->len++] = c;
    return 0;
  }
  return sio__buf_append_byte_slow(b, c);
}
/* printf-style append. Returns 0, SIO_ENOMEM or SIO_EINVAL (bad format). */
int sio__buf_appendf(sio__buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void sio__buf_consume(sio__buf_t *b, size_t n);
/* Frees the memory and resets to empty. */
void sio__buf_free(sio__buf_t *b);
/* Hands the bytes over: returns base (caller frees with sio__free) and resets b. */
char *sio__buf_steal(sio__buf_t *b, size_t *len);

#endif
