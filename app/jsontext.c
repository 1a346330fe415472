/* JSON text written directly (see jsontext.h). */
#include "jsontext.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The escape of each byte below 0x20, '"' and '\\' (0: written as it is). */
static char short_escape(unsigned char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default: return 0;
  }
}

size_t noom_json_str_size(const char *s, size_t len) {
  size_t n = len + 2;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') n += 1;
    else if (c < 0x20) n += short_escape(c) ? 1 : 5; /* \n or \u001f */
  }
  return n;
}

char *noom_json_str_put(char *w, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  *w++ = '"';
  size_t from = 0; /* plain bytes are copied in runs */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    memcpy(w, s + from, i - from);
    w += i - from;
    from = i + 1;
    *w++ = '\\';
    char e = short_escape(c);
    if (e) {
      *w++ = e;
    } else {
      memcpy(w, "u00", 3);
      w[3] = hex[c >> 4];
      w[4] = hex[c & 15];
      w += 5;
    }
  }
  memcpy(w, s + from, len - from);
  w += len - from;
  *w++ = '"';
  return w;
}

void noom_json_reserve(noom_json_t *j, size_t n) {
  if (j->err || j->cap - j->len >= n) return;
  size_t cap = j->cap ? j->cap : 256;
  while (cap - j->len < n) cap *= 2;
  char *p = realloc(j->p, cap);
  if (p == NULL) {
    j->err = 1;
    return;
  }
  j->p = p;
  j->cap = cap;
}

void noom_json_raw(noom_json_t *j, const char *s, size_t len) {
  noom_json_reserve(j, len);
  if (j->err) return;
  memcpy(j->p + j->len, s, len);
  j->len += len;
}

void noom_json_str(noom_json_t *j, const char *s, size_t len) {
  size_t n = noom_json_str_size(s, len);
  noom_json_reserve(j, n);
  if (j->err) return;
  noom_json_str_put(j->p + j->len, s, len);
  j->len += n;
}

void noom_json_cstr(noom_json_t *j, const char *s) { noom_json_str(j, s, strlen(s)); }

void noom_json_int(noom_json_t *j, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
  noom_json_raw(j, tmp, (size_t)n);
}
