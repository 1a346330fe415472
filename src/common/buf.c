/* Growable byte buffer; growth doubles so appends are amortised O(1). */
#include "common/buf.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"

int sio__buf_reserve(sio__buf_t *b, size_t extra) {
  if (b->cap - b->len >= extra) return 0;
  if (extra > (size_t)-1 / 2 - b->len) return SIO_ENOMEM;
  size_t need = b->len + extra;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  char *p = sio__realloc(b->base, cap);
  if (p == NULL) return SIO_ENOMEM;
  b->base = p;
  b->cap = cap;
  return 0;
}

int sio__buf_append(sio__buf_t *b, const void *data, size_t len) {
  if (len == 0) return 0;
  int r = sio__buf_reserve(b, len);
  if (r) return r;
  memcpy(b->base + b->len, data, len);
  b->len += len;
  return 0;
}

int sio__buf_append_byte_slow(sio__buf_t *b, char c) { return sio__buf_append(b, &c, 1); }

int sio__buf_append_u64(sio__buf_t *b, uint64_t v) {
  char tmp[20];
  size_t n = sizeof tmp;
  do {
    tmp[--n] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return sio__buf_append(b, tmp + n, sizeof tmp - n);
}

int sio__buf_append_str(sio__buf_t *b, const char *s) { return sio__buf_append(b, s, strlen(s)); }

int sio__buf_appendf(sio__buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return SIO_EINVAL;
  if ((size_t)n < sizeof small) return sio__buf_append(b, small, (size_t)n);
  int r = sio__buf_reserve(b, (size_t)n + 1);
  if (r) return r;
  va_start(ap, fmt);
  vsnprintf(b->base + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void sio__buf_consume(sio__buf_t *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->base, b->base + n, b->len - n);
  b->len -= n;
}

void sio__buf_free(sio__buf_t *b) {
  sio__free(b->base);
  b->base = NULL;
  b->len = b->cap = 0;
}

char *sio__buf_steal(sio__buf_t *b, size_t *len) {
  char *p = b->base;
  if (len) *len = b->len;
  b->base = NULL;
  b->len = b->cap = 0;
  return p;
}
