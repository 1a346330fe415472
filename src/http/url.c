/*
 * http/url.c: request-target helpers (RFC 9112 §3.2, RFC 3986 §2.1, §3.3, §3.4).
 *
 * The path normaliser guards the static file server: whatever it returns must never
 * name anything outside the served directory, so it rejects rather than repairs
 * (no ".." resolution, no encoded separators, no control bytes). Sans-IO, no
 * allocation; layer: http.
 */
#include "http/url.h"

#include <string.h>

#include "sio/errors.h"

/* Index just past "://" in s[0..n), before any '/', or 0: the mark of an absolute-form
 * target (a scheme has no '/', so one before "://" means it is only part of a path). */
static size_t scheme_end(const char *s, size_t n) {
  for (size_t i = 0; i + 3 <= n && s[i] != '/'; i++)
    if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') return i + 3;
  return 0;
}

void sio__http_url_split(sio_str_t url, sio_str_t *path, sio_str_t *query) {
  const char *s = url.ptr ? url.ptr : "";
  size_t end = url.ptr ? url.len : 0, qpos, a;
  for (size_t i = 0; i < end; i++)
    if (s[i] == '#') end = i; /* the fragment is the client's business (RFC 3986 §3.5) */
  for (qpos = 0; qpos < end && s[qpos] != '?'; qpos++) continue;
  sio_str_t pth = {s, qpos};
  /* absolute-form: skip "scheme://authority" (RFC 9112 §3.2.2). */
  if ((a = scheme_end(s, qpos)) != 0) {
    while (a < qpos && s[a] != '/') a++;
    pth = a < qpos ? (sio_str_t){s + a, qpos - a} : (sio_str_t){"/", 1};
  }
  if (path) *path = pth;
  if (query) *query = qpos < end ? (sio_str_t){s + qpos + 1, end - qpos - 1} : (sio_str_t){s + end, 0};
}

int sio__http_query_get(sio_str_t query, const char *name, sio_str_t *value) {
  size_t n = strlen(name);
  if (query.ptr == NULL) return 0;
  const char *s = query.ptr, *end = query.ptr + query.len;
  while (s < end) {
    const char *amp = memchr(s, '&', (size_t)(end - s));
    const char *pe = amp ? amp : end;
    const char *eq = memchr(s, '=', (size_t)(pe - s));
    const char *ke = eq ? eq : pe;
    /* An empty pair ("a=1&&b=2") is no parameter, not one with an empty name. */
    if (pe > s && (size_t)(ke - s) == n && memcmp(s, name, n) == 0) {
      *value = eq ? (sio_str_t){eq + 1, (size_t)(pe - eq - 1)} : (sio_str_t){pe, 0};
      return 1;
    }
    if (!amp) break;
    s = amp + 1;
  }
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long sio__http_pct_decode(sio_str_t in, char *out, size_t cap, int flags) {
  size_t o = 0;
  for (size_t i = 0; i < in.len; i++) {
    char c = in.ptr[i];
    if (c == '%') {
      /* Both digits must be there: "%4" at the end and "%zz" are errors, or literals
       * when lenient. */
      int hi = in.len - i > 2 ? hexval(in.ptr[i + 1]) : -1;
      int lo = hi >= 0 ? hexval(in.ptr[i + 2]) : -1;
      if (lo >= 0) {
        c = (char)(hi << 4 | lo);
        i += 2;
      } else if (!(flags & SIO__PCT_LENIENT)) {
        return SIO_EPROTO;
      }
    } else if (c == '+' && (flags & SIO__PCT_PLUS)) {
      c = ' ';
    }
    if (o == cap) return SIO_ETOOBIG;
    out[o++] = c;
  }
  return (long)o;
}

/* Bytes a file name never legitimately holds, after decoding. */
static int bad_path_byte(unsigned char c) { return c < 0x20 || c == 0x7f || c == '\\' || c == '/'; }

long sio__http_path_normalize(sio_str_t path, char *out, size_t cap) {
  if (path.len == 0 || path.ptr[0] != '/') return SIO_EPROTO;
  if (cap < 2) return SIO_ETOOBIG;
  size_t o = 0, i = 1;
  while (i <= path.len) {
    /* One raw segment [i, j), decoded after a '/' at out[o]. Decoding happens per
     * segment, so a decoded '/' can be told from a real separator and refused. */
    size_t j = i;
    while (j < path.len && path.ptr[j] != '/') j++;
    if (o + 1 >= cap) return SIO_ETOOBIG;
    out[o] = '/';
    long n = sio__http_pct_decode((sio_str_t){path.ptr + i, j - i}, out + o + 1, cap - o - 1, 0);
    if (n < 0) return n;
    const char *seg = out + o + 1;
    for (long k = 0; k < n; k++)
      if (bad_path_byte((unsigned char)seg[k])) return SIO_EPROTO;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') return SIO_EPROTO;
    /* Empty ("//") and "." segments name nothing: drop them. */
    if (!(n == 0 || (n == 1 && seg[0] == '.'))) o += 1 + (size_t)n;
    i = j + 1;
  }
  if (o == 0) out[o++] = '/';
  if (o >= cap) return SIO_ETOOBIG;
  out[o] = '\0';
  return (long)o;
}
