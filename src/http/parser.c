/*
 * http/parser.c: strict HTTP/1.1 request parsing (RFC 9112) on llhttp 8.1; sans-IO.
 *
 * llhttp tokenises; this file decides what is acceptable. On top of llhttp's strict
 * defaults it adds:
 *   - line endings: in the head every CR must be followed by LF and every LF preceded
 *     by CR (RFC 9112 §2.2). llhttp 8.1 accepts a bare LF after the request line and
 *     takes "\r\n\rX" as the end of the headers, so the bytes are screened before
 *     llhttp sees them, and a CR at the end of a chunk is held back until the next byte;
 *   - obs-fold (a header line starting with SP/HTAB) is rejected (RFC 9112 §5.2);
 *   - limits on the request-target, head bytes, header count and Content-Length,
 *     checked as bytes arrive: the head is fed to llhttp in slices no longer than
 *     what is left of max_head, so nothing past a limit is ever buffered;
 *   - only Content-Length bodies: any Transfer-Encoding -> 411 (400 on HTTP/1.0, where
 *     RFC 9112 §6.1 says such a message is faulty); only HTTP/1.0 and 1.1 -> else 505.
 * It must never buffer past a limit, and never complete a request llhttp did not.
 * Layer: http (below ws, engine); no libuv.
 */
#include "http/parser.h"

#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"

/* ---- request building (llhttp callbacks) ---- */

static sio__http_parser_t *parser_of(llhttp_t *ll) { return ll->data; }

/* Records the status a callback failed with; llhttp then stops with an error, which
 * sio__http_parser_execute() turns into p->_err. */
static int cb_fail(sio__http_parser_t *p, int status) {
  p->status = status;
  p->_err = (status == 413 || status == 414 || status == 431) ? SIO_ETOOBIG
            : status == 500                                    ? SIO_ENOMEM
                                                               : SIO_EPROTO;
  return -1;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c; }
static int is_ows(char c) { return c == ' ' || c == '\t'; }

static int on_url(llhttp_t *ll, const char *at, size_t len) {
  sio__http_parser_t *p = parser_of(ll);
  if (len > p->limits.max_url - p->req.url_len) return cb_fail(p, 414);
  /* llhttp lets a few CTLs through in the target; none is valid there (RFC 3986). */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)at[i];
    if (c <= 0x20 || c == 0x7f) return cb_fail(p, 400);
  }
  if (sio__buf_append(&p->req.store, at, len)) return cb_fail(p, 500);
  p->req.url_len += (uint32_t)len;
  return 0;
}

/* Starts header number nhdrs, at the end of the store. */
static int begin_header(sio__http_parser_t *p) {
  sio__http_request_t *r = &p->req;
  if (r->nhdrs >= p->limits.max_headers) return cb_fail(p, 431);
  if (r->nhdrs == r->hdrs_cap) {
    uint32_t cap = r->hdrs_cap ? r->hdrs_cap * 2 : 16;
    sio__http_hdr_t *h = sio__realloc(r->hdrs, cap * sizeof *h);
    if (h == NULL) return cb_fail(p, 500);
    r->hdrs = h;
    r->hdrs_cap = cap;
  }
  r->hdrs[r->nhdrs++] = (sio__http_hdr_t){(uint32_t)r->store.len, 0, (uint32_t)r->store.len, 0};
  p->_in_field = 1;
  return 0;
}

/* tchar (RFC 9110 §5.6.2): the bytes of a token such as a field name: ALPHA, DIGIT and
 * !#$%&'*+-.^_`|~, as a bitmap because it runs for every byte of every header name. */
static const uint32_t tchar_bits[8] = {0x00000000, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff, 0, 0, 0, 0};
static int is_tchar(unsigned char c) { return (tchar_bits[c >> 5] >> (c & 31)) & 1; }

static int on_header_field(llhttp_t *ll, const char *at, size_t len) {
  sio__http_parser_t *p = parser_of(ll);
  if (!p->_in_field && begin_header(p)) return -1;
  sio__buf_t *s = &p->req.store;
  if (sio__buf_reserve(s, len)) return cb_fail(p, 500);
  char *o = s->base + s->len;
  for (size_t i = 0; i < len; i++) {
    /* llhttp 8.1 lets a SP inside a field name through ("X Y: z"). */
    if (!is_tchar((unsigned char)at[i])) return cb_fail(p, 400);
    o[i] = lower(at[i]);
  }
  s->len += len;
  p->req.hdrs[p->req.nhdrs - 1].name_len += (uint32_t)len;
  return 0;
}

static int on_header_field_complete(llhttp_t *ll) {
  sio__http_parser_t *p = parser_of(ll);
  /* llhttp 8.1 takes ": x" as a header with an empty name; field-name = token, which
   * has at least one character (RFC 9110 §5.1). */
  if (!p->_in_field || p->req.hdrs[p->req.nhdrs - 1].name_len == 0) return cb_fail(p, 400);
  p->_in_field = 0;
  p->req.hdrs[p->req.nhdrs - 1].value = (uint32_t)p->req.store.len;
  return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len) {
  sio__http_parser_t *p = parser_of(ll);
  if (p->req.nhdrs == 0 || p->_in_field) return cb_fail(p, 400); /* llhttp never does this */
  sio__http_hdr_t *h = &p->req.hdrs[p->req.nhdrs - 1];
  /* Leading OWS is not part of the value (RFC 9112 §5); llhttp mostly strips it. */
  while (h->value_len == 0 && len > 0 && is_ows(*at)) {
    at++;
    len--;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)at[i];
    /* field-value = *( VCHAR / obs-text / SP / HTAB ): any other CTL is an attack or a bug. */
    if ((c < 0x20 && c != '\t') || c == 0x7f) return cb_fail(p, 400);
  }
  if (sio__buf_append(&p->req.store, at, len)) return cb_fail(p, 500);
  h->value_len += (uint32_t)len;
  return 0;
}

static int on_header_value_complete(llhttp_t *ll) {
  sio__http_parser_t *p = parser_of(ll);
  if (p->req.nhdrs == 0 || p->_in_field) return cb_fail(p, 400);
  sio__http_hdr_t *h = &p->req.hdrs[p->req.nhdrs - 1];
  /* Trailing OWS is not part of the value either; give the bytes back to the store. */
  while (h->value_len > 0 && is_ows(p->req.store.base[h->value + h->value_len - 1])) h->value_len--;
  p->req.store.len = h->value + h->value_len;
  return 0;
}

static int check_version(sio__http_parser_t *p) {
  /* llhttp also takes HTTP/0.9 and HTTP/2.0 request lines; we speak 1.0 and 1.1 only. */
  if (p->ll.http_major != 1 || p->ll.http_minor > 1) return cb_fail(p, 505);
  return 0;
}

static int on_version_complete(llhttp_t *ll) { return check_version(parser_of(ll)); }

static int on_headers_complete(llhttp_t *ll) {
  sio__http_parser_t *p = parser_of(ll);
  if (check_version(p)) return -1;
  p->_head_done = 1;
  /* We take Content-Length bodies only: a chunked request gets 411 Length Required
   * (RFC 9110 §15.5.12). HTTP/1.0 has no Transfer-Encoding at all: a 1.0 message with
   * one is faulty (RFC 9112 §6.1) and a smuggling favourite, so it is a 400. llhttp has
   * already refused Transfer-Encoding together with Content-Length. */
  if (ll->flags & (F_TRANSFER_ENCODING | F_CHUNKED)) return cb_fail(p, ll->http_minor == 0 ? 400 : 411);
  if ((ll->flags & F_CONTENT_LENGTH) && ll->content_length > p->limits.max_body) return cb_fail(p, 413);
  p->req.method = ll->method;
  p->req.http_major = ll->http_major;
  p->req.http_minor = ll->http_minor;
  return 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t len) {
  sio__http_parser_t *p = parser_of(ll);
  /* Grown as bytes arrive, not reserved from Content-Length: an idle client announcing
   * a large body must not cost us the memory up front. */
  if (sio__buf_append(&p->req.body, at, len)) return cb_fail(p, 500);
  return 0;
}

static int on_message_complete(llhttp_t *ll) {
  sio__http_parser_t *p = parser_of(ll);
  p->complete = 1;
  p->req.keep_alive = (uint8_t)llhttp_should_keep_alive(ll);
  p->req.upgrade = ll->upgrade;
  /* Stop after one message so the caller answers before the next is parsed. An
   * upgrade stops by itself with HPE_PAUSED_UPGRADE right after this returns. */
  return ll->upgrade ? 0 : HPE_PAUSED;
}

/* llhttp keeps a pointer to this for the parser's lifetime, hence static. */
static const llhttp_settings_t settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_version_complete = on_version_complete,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value_complete = on_header_value_complete,
};

/* ---- feeding llhttp ---- */

static long fail(sio__http_parser_t *p, int status) {
  cb_fail(p, status);
  return p->_err;
}

/* Gives n bytes to llhttp. Returns 0 when all were taken, 1 when a message completed
 * (*used = bytes taken), or a negative error with p->status set. */
static long feed(sio__http_parser_t *p, const char *d, size_t n, size_t *used) {
  llhttp_errno_t e = llhttp_execute(&p->ll, d, n);
  switch (e) {
    case HPE_OK:
      *used = n;
      return 0;
    case HPE_PAUSED:         /* our on_message_complete */
    case HPE_PAUSED_UPGRADE: /* an upgrade request's end */
      if (!p->complete) return fail(p, 400); /* never: only on_message_complete pauses */
      /* The pause position is the first byte after the message. */
      *used = (size_t)(llhttp_get_error_pos(&p->ll) - d);
      return 1;
    case HPE_PAUSED_H2_UPGRADE: /* the HTTP/2 connection preface "PRI * HTTP/2.0" */
      return fail(p, 505);
    case HPE_INVALID_VERSION:
      return fail(p, 505);
    default:
      /* A callback of ours failed (status already set) or llhttp refused the bytes. */
      if (p->_err) return p->_err;
      return fail(p, 400);
  }
}

enum { SCAN_CLEAN, SCAN_BAD, SCAN_HOLD };

/*
 * Screens head bytes d[0..n) for bad line endings, with avail (>= n) bytes readable
 * for look-ahead and p->_prev the byte before d[0]. Sets *stop to the number of bytes
 * safe to feed; returns SCAN_BAD if d[*stop] is a bad byte (a bare CR, a bare LF,
 * SP/HTAB starting a line, i.e. obs-fold, or a second SP in a row in the request line),
 * SCAN_HOLD if d[*stop] is a CR ending the data. Whether a bad byte matters depends on
 * whether the head ends before it, which only llhttp knows.
 */
/* The bytes scan_head must look at; every other byte is fine once the request line has
 * started, so the scan skips runs of them (most of a head). */
static const uint32_t head_special[8] = {(1u << '\t') | (1u << '\n') | (1u << '\r'), 1u << (' ' - 32)};

static int scan_head(sio__http_parser_t *p, const char *d, size_t n, size_t avail, size_t *stop) {
  for (size_t i = 0; i < n; i++) {
    if (p->_rl != 0) {
      while (i < n && !((head_special[(unsigned char)d[i] >> 5] >> ((unsigned char)d[i] & 31)) & 1)) i++;
      if (i == n) break;
    }
    char c = d[i], pc = i ? d[i - 1] : (char)p->_prev;
    *stop = i;
    if (c == '\n' && pc != '\r') return SCAN_BAD;
    if (is_ows(c) && pc == '\n') return SCAN_BAD;
    if (c == '\r') {
      if (i + 1 == avail) return SCAN_HOLD;
      if (d[i + 1] != '\n') return SCAN_BAD;
    }
    /* request-line = method SP request-target SP HTTP-version (RFC 9112 §3): llhttp
     * lets "GET  /" through. Empty lines before it do not start it (RFC 9112 §2.2). */
    if (p->_rl == 0 && c != '\r' && c != '\n') p->_rl = 1;
    else if (p->_rl == 1 && c == '\n') p->_rl = 2;
    if (p->_rl == 1 && c == ' ' && pc == ' ') return SCAN_BAD;
  }
  *stop = n;
  return SCAN_CLEAN;
}

/* One step in the head: feeds what is left of the max_head budget, up to the first bad
 * byte. Returns 0 to go on, 1 on message complete (with *off advanced), or an error. */
static long head_step(sio__http_parser_t *p, const char *data, size_t len, size_t *off) {
  size_t used;
  long r;
  if (p->_held_cr) {
    if (data[*off] != '\n') return fail(p, 400);
    p->_held_cr = 0;
    p->_prev = '\r';
    /* A CR cannot end a message, but stay correct if it ever did: nothing of data used. */
    if ((r = feed(p, "\r", 1, &used)) != 0) return r;
    if (p->_head_done) return 0;
  }
  size_t budget = p->limits.max_head - p->_head_bytes;
  if (budget == 0) return fail(p, 431); /* more head bytes than max_head */
  size_t avail = len - *off, n = avail < budget ? avail : budget, stop;
  int scan = scan_head(p, data + *off, n, avail, &stop);
  if (stop > 0) {
    if ((r = feed(p, data + *off, stop, &used)) != 0) {
      if (r == 1) *off += used;
      return r;
    }
    p->_prev = (uint8_t)data[*off + stop - 1];
  }
  *off += stop;
  /* The head ended before the bad byte: it is body, screened no further. */
  if (p->_head_done) return 0;
  p->_head_bytes += stop;
  if (scan == SCAN_BAD) return fail(p, 400);
  if (scan == SCAN_HOLD) {
    p->_held_cr = 1;
    p->_head_bytes++;
    (*off)++;
  }
  return 0;
}

long sio__http_parser_execute(sio__http_parser_t *p, const char *data, size_t len) {
  if (p->_err) return p->_err;
  if (p->complete) return 0;
  /* llhttp drops whatever follows a non-keep-alive message; so do we, explicitly. */
  if (p->_closed) return (long)len;
  size_t off = 0, used = 0;
  while (off < len) {
    long r;
    if (!p->_head_done) {
      r = head_step(p, data, len, &off);
    } else {
      r = feed(p, data + off, len - off, &used);
      off += (r == 1 || r == 0) ? used : 0;
    }
    if (r < 0) return r;
    if (r == 1) return (long)off;
  }
  return (long)off;
}

/* ---- lifecycle ---- */

void sio__http_limits_default(sio__http_limits_t *l) {
  l->max_url = SIO__HTTP_MAX_URL;
  l->max_head = SIO__HTTP_MAX_HEAD;
  l->max_headers = SIO__HTTP_MAX_HEADERS;
  l->max_body = SIO__HTTP_MAX_BODY;
}

void sio__http_parser_init(sio__http_parser_t *p, const sio__http_limits_t *limits) {
  memset(p, 0, sizeof *p);
  if (limits) p->limits = *limits;
  else sio__http_limits_default(&p->limits);
  /* Store offsets are 32-bit, and the store only ever holds head bytes. */
  if (p->limits.max_head > UINT32_MAX) p->limits.max_head = UINT32_MAX;
  llhttp_init(&p->ll, HTTP_REQUEST, &settings);
  p->ll.data = p;
}

static void free_request(sio__http_request_t *r) {
  sio__buf_free(&r->store);
  sio__buf_free(&r->body);
  sio__free(r->hdrs);
  memset(r, 0, sizeof *r);
}

void sio__http_parser_free(sio__http_parser_t *p) { free_request(&p->req); }

void sio__http_parser_next(sio__http_parser_t *p) {
  int keep_alive = p->req.keep_alive;
  int was_complete = p->complete;
  free_request(&p->req);
  p->complete = 0;
  p->_head_bytes = 0;
  p->_head_done = 0;
  p->_prev = 0;
  p->_held_cr = 0;
  p->_in_field = 0;
  p->_rl = 0;
  if (p->_err || !was_complete) return;
  if (!keep_alive) p->_closed = 1;
  /* Resume llhttp from where on_message_complete paused it. After an upgrade the
   * caller declined, llhttp parses whatever follows as HTTP again. */
  if (llhttp_get_errno(&p->ll) == HPE_PAUSED_UPGRADE) llhttp_resume_after_upgrade(&p->ll);
  else if (llhttp_get_errno(&p->ll) == HPE_PAUSED) llhttp_resume(&p->ll);
}

int sio__http_parser_in_message(const sio__http_parser_t *p) {
  if (p->_err || p->complete || p->_closed) return 0;
  return p->_head_bytes > 0 || p->_head_done || p->_held_cr;
}

/* ---- request accessors ---- */

sio_str_t sio__http_req_url(const sio__http_request_t *r) {
  return (sio_str_t){r->store.base ? r->store.base : "", r->url_len};
}

static int name_is(const sio__http_request_t *r, const sio__http_hdr_t *h, const char *lname, size_t n) {
  return h->name_len == n && memcmp(r->store.base + h->name, lname, n) == 0;
}

int sio__http_req_header(const sio__http_request_t *r, const char *lname, sio_str_t *out) {
  size_t n = strlen(lname);
  for (uint32_t i = 0; i < r->nhdrs; i++) {
    const sio__http_hdr_t *h = &r->hdrs[i];
    if (!name_is(r, h, lname, n)) continue;
    *out = (sio_str_t){r->store.base + h->value, h->value_len};
    return 1;
  }
  return 0;
}

static int token_eq(const char *a, size_t n, const char *token, size_t tn) {
  if (n != tn) return 0;
  for (size_t i = 0; i < n; i++)
    if (lower(a[i]) != lower(token[i])) return 0;
  return 1;
}

/* Walks the comma-separated list in v (RFC 9110 §5.6.1), trimming OWS around elements. */
static int list_has(const char *v, size_t len, const char *token, size_t tn) {
  size_t i = 0;
  while (i <= len) {
    size_t start = i;
    while (i < len && v[i] != ',') i++;
    size_t end = i;
    while (start < end && is_ows(v[start])) start++;
    while (end > start && is_ows(v[end - 1])) end--;
    if (token_eq(v + start, end - start, token, tn)) return 1;
    i++;
  }
  return 0;
}

int sio__http_req_header_has_token(const sio__http_request_t *r, const char *lname, const char *token) {
  size_t n = strlen(lname), tn = strlen(token);
  if (tn == 0) return 0;
  for (uint32_t i = 0; i < r->nhdrs; i++) {
    const sio__http_hdr_t *h = &r->hdrs[i];
    if (name_is(r, h, lname, n) && list_has(r->store.base + h->value, h->value_len, token, tn)) return 1;
  }
  return 0;
}

const char *sio__http_method_str(int method) {
  /* Not llhttp_method_name(): it abort()s on a value it does not know. */
  switch (method) {
#define SIO__METHOD_CASE(num, name, string) \
  case num:                                 \
    return #string;
    HTTP_ALL_METHOD_MAP(SIO__METHOD_CASE)
#undef SIO__METHOD_CASE
    default:
      return "<unknown>";
  }
}
