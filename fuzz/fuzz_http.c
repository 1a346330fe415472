/*
 * libFuzzer target: a stream of HTTP/1.1 requests through sio__http_parser_execute
 * (src/http/parser.c) with small limits. The first input byte picks where the rest is
 * split into two reads, so the cross-read state (held CR, partial names and values,
 * limits) is exercised; the outcome must equal that of one whole read and that of
 * one-byte reads. Pipelined messages are parsed in a loop; upgrades are declined so
 * parsing goes on. Every parsed request also goes through the url helpers
 * (src/http/url.c). Any broken invariant abort()s; everything is freed (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"
#include "http/url.h"
#include "sio/errors.h"

static const sio__http_limits_t limits = {.max_url = 64, .max_head = 512, .max_headers = 8, .max_body = 256};

static void check_request(const sio__http_request_t *r) {
  if (r->url_len > limits.max_url || r->nhdrs > limits.max_headers) abort();
  if (r->store.len > limits.max_head || r->body.len > limits.max_body) abort();
  if (r->http_major != 1 || r->http_minor > 1) abort();
  for (uint32_t i = 0; i < r->nhdrs; i++) {
    const sio__http_hdr_t *h = &r->hdrs[i];
    if (h->name_len == 0 || h->name + h->name_len > r->store.len || h->value + h->value_len > r->store.len) abort();
    for (uint32_t k = 0; k < h->name_len; k++) {
      char c = r->store.base[h->name + k];
      if (c >= 'A' && c <= 'Z') abort(); /* names are lower-cased */
    }
  }
  sio_str_t v;
  (void)sio__http_req_header(r, "host", &v);
  (void)sio__http_req_header_has_token(r, "connection", "upgrade");
  (void)sio__http_method_str(r->method);

  sio_str_t path, query;
  sio__http_url_split(sio__http_req_url(r), &path, &query);
  char out[128];
  long n = sio__http_path_normalize(path, out, sizeof out);
  if (n >= 0) {
    /* A normalised path starts with '/', is NUL-terminated and holds no "..". */
    if (out[0] != '/' || strlen(out) != (size_t)n || strstr(out, "/../") != NULL) abort();
    if (n >= 3 && memcmp(out + n - 3, "/..", 3) == 0) abort();
  } else if (n != SIO_EPROTO && n != SIO_ETOOBIG) {
    abort();
  }
  if (sio__http_query_get(query, "sid", &v)) {
    if (v.ptr < query.ptr || v.ptr + v.len > query.ptr + query.len) abort();
    long d = sio__http_pct_decode(v, out, sizeof out, SIO__PCT_PLUS);
    if (d > (long)v.len) abort();
  }
}

/* What a parse produced, to compare a split feed with a whole one. Which error status
 * comes out may legitimately depend on chunking (a url over max_url is seen when llhttp
 * reports a piece, which may be before or after an invalid byte in it), so only whether
 * it failed is compared. */
typedef struct {
  int requests, failed;
  uint64_t hash;
} outcome_t;

static uint64_t mix(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211u; /* FNV-1a */
  return h;
}

static uint64_t hash_request(uint64_t h, const sio__http_request_t *r) {
  h = mix(h, r->store.base ? r->store.base : "", r->store.len);
  h = mix(h, r->body.base ? r->body.base : "", r->body.len);
  uint8_t flags[5] = {r->method, r->http_minor, r->keep_alive, r->upgrade, (uint8_t)r->nhdrs};
  return mix(h, flags, sizeof flags);
}

/* Parses buf[0..len) as reads: [0, split), then slices of step bytes (0: the rest). */
static void parse(const char *buf, size_t len, size_t split, size_t step, outcome_t *o) {
  sio__http_parser_t p;
  sio__http_parser_init(&p, &limits);
  size_t pos = 0;
  *o = (outcome_t){0, 0, 14695981039346656037u};
  while (pos < len) {
    size_t end = pos < split ? split : (step && step < len - pos ? pos + step : len);
    while (pos < end) {
      long r = sio__http_parser_execute(&p, buf + pos, end - pos);
      if (r < 0) {
        if (p.status < 400 || p.status > 505) abort();
        if (sio__http_parser_execute(&p, buf, len) != r) abort(); /* errors stick */
        o->failed = 1;
        goto done;
      }
      if ((size_t)r > end - pos) abort();
      pos += (size_t)r;
      if (!p.complete) {
        if (pos != end) abort(); /* all bytes are taken unless a message completed */
        break;
      }
      check_request(&p.req);
      o->hash = hash_request(o->hash, &p.req);
      /* Upgrades are declined: parsing goes on with HTTP after the head. */
      sio__http_parser_next(&p);
      if (++o->requests > 10000) abort(); /* every message takes at least one byte */
    }
  }
done:
  sio__http_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t len = size - 1, split = data[0] % (len + 1);
  /* An exact-size private copy, so ASan sees any read past the end. */
  char *buf = malloc(len ? len : 1);
  if (buf == NULL) return 0;
  if (len) memcpy(buf, data + 1, len);
  outcome_t whole, halves, bytes;
  parse(buf, len, len, 0, &whole);
  parse(buf, len, split, 0, &halves);
  parse(buf, len, 0, 1, &bytes);
  /* Read boundaries must not change what is parsed. */
  if (whole.requests != halves.requests || whole.failed != halves.failed || whole.hash != halves.hash) abort();
  if (whole.requests != bytes.requests || whole.failed != bytes.failed || whole.hash != bytes.hash) abort();
  free(buf);
  return 0;
}
