/*
 * The handshake object of a local socket as fetchSockets reports it to any node
 * (socket.io's socket.handshake: headers, time, address, xdomain, secure, issued, url,
 * query, auth), written as JSON text.
 */
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "http/server.h"
#include "http/url.h"
#include "sio/json.h"
#include "sio/sio.h"
#include "ws/utf8.h"

/* Appends a JSON string value. */
static int put_str(json_t *obj, const char *key, const char *s, size_t len) {
  json_t *v = sio__utf8_valid(s, len) ? json_stringn(s, len) : json_string("");
  return json_object_set_new(obj, key, v);
}

/* Decodes a query component as URLSearchParams does: %XX, '+' as a space, and a bad
 * escape kept as it is (the library's one decoder, lenient). New string, NULL on OOM. */
static char *unescape(const char *s, size_t n, size_t *len) {
  char *out = sio__malloc(n + 1);
  if (out == NULL) return NULL;
  long o = sio__http_pct_decode((sio_str_t){s, n}, out, n, SIO__PCT_PLUS | SIO__PCT_LENIENT);
  out[o] = '\0'; /* never negative: lenient, and cap n suffices */
  *len = (size_t)o;
  return out;
}

/* handshake.query as engine.io 6.6 builds it: Object.fromEntries(new URL(url)
 * .searchParams), so a repeated key keeps its first place and its LAST value (older
 * engine.io used querystring.parse, which made an array: 6.6 does not). A pair that is
 * not UTF-8 once decoded is left out (Node would put U+FFFD in). NULL on OOM. */
json_t *sio__query_object(sio_str_t q) {
  json_t *obj = json_object();
  const char *end = q.ptr + q.len;
  int err = obj == NULL;
  for (const char *it = q.ptr; !err && it < end;) {
    const char *amp = memchr(it, '&', (size_t)(end - it));
    const char *stop = amp ? amp : end;
    if (stop == it) { /* "a&&b": an empty pair is no entry */
      it = stop + 1;
      continue;
    }
    const char *eq = memchr(it, '=', (size_t)(stop - it));
    const char *kend = eq ? eq : stop;
    size_t klen, vlen = 0;
    char *key = unescape(it, (size_t)(kend - it), &klen);
    char *val = key ? (eq ? unescape(eq + 1, (size_t)(stop - eq - 1), &vlen) : sio__strdup("")) : NULL;
    if (key == NULL || val == NULL) err = 1;
    else if (sio__utf8_valid(key, klen) && sio__utf8_valid(val, vlen) && memchr(key, 0, klen) == NULL) {
      json_t *v = json_stringn(val, vlen);
      /* Replacing keeps the key's first position, as Object.fromEntries does. */
      err = v == NULL || json_object_set_new(obj, key, v) != 0;
    }
    sio__free(key);
    sio__free(val);
    it = stop + 1;
  }
  if (err) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

/* Node joins repeated headers with ", " in IncomingMessage#headers. */
static void add_header(sio_str_t name, sio_str_t value, void *u) {
  json_t *h = u;
  char key[256];
  if (name.len >= sizeof key || !sio__utf8_valid(value.ptr, value.len)) return;
  memcpy(key, name.ptr, name.len);
  key[name.len] = '\0';
  json_t *old = json_object_get(h, key);
  if (old == NULL) {
    json_object_set_new(h, key, json_stringn(value.ptr, value.len));
    return;
  }
  sio__buf_t b = SIO__BUF_INIT;
  if (sio__buf_append(&b, json_string_value(old), json_string_length(old)) == 0 && sio__buf_append(&b, ", ", 2) == 0 &&
      sio__buf_append(&b, value.ptr, value.len) == 0) {
    json_object_set_new(h, key, json_stringn(b.base, b.len));
  }
  sio__buf_free(&b);
}

/* `new Date() + ""` for the handshake time, in UTC (the server's zone in our images). */
static int date_string(uint64_t ms, char *out, size_t size) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL) return -1;
  return strftime(out, size, "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm) > 0 ? 0 : -1;
}

/*
 * socket.handshake as socket.io builds it (lib/socket.ts buildHandshake), as JSON text
 * (returns new, free with sio__free): headers, time, address, xdomain, secure, issued,
 * url, query, auth, in that order.
 */
char *sio__handshake_json(sio_socket_t *s) {
  json_t *hs = json_object(), *headers = json_object();
  if (hs == NULL || headers == NULL) {
    json_decref(hs);
    json_decref(headers);
    return NULL;
  }
  sio_socket_headers(s, add_header, headers);
  char date[96];
  sio_str_t url = sio_socket_handshake_url(s);
  const char *addr = sio_socket_address(s);
  sio_str_t origin;
  json_object_set_new(hs, "headers", headers);
  if (date_string(s->issued_ms, date, sizeof date) == 0) json_object_set_new(hs, "time", json_string(date));
  put_str(hs, "address", addr, strlen(addr));
  json_object_set_new(hs, "xdomain", json_boolean(sio__socket_header(s, "origin", &origin)));
  json_object_set_new(hs, "secure", json_boolean(sio__http_secure(s->ns->io->http)));
  json_object_set_new(hs, "issued", json_integer((json_int_t)s->issued_ms));
  put_str(hs, "url", url.ptr, url.len);
  json_t *query = sio__query_object(sio_socket_query(s));
  if (query == NULL) {
    json_decref(hs);
    return NULL;
  }
  json_object_set_new(hs, "query", query);
  json_object_set_new(hs, "auth", s->auth_obj ? json_incref(s->auth_obj) : json_object());
  sio__buf_t b = SIO__BUF_INIT;
  char *out = NULL;
  if (sio__json_write(&b, hs) == 0 && sio__buf_append_byte(&b, '\0') == 0) out = sio__buf_steal(&b, NULL);
  sio__buf_free(&b);
  json_decref(hs);
  return out;
}
