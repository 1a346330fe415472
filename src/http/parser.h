/*
 * http/parser.h: a strict, sans-IO HTTP/1.1 request parser (RFC 9112) on top of llhttp 8.1.
 *
 * llhttp does the tokenising in its default strict mode; this wrapper adds what llhttp
 * lacks for a server that must never be smuggled past: byte limits checked as bytes
 * arrive (so no more than the limit is ever buffered), bare CR / bare LF / obs-fold
 * rejection in the head (tracked across chunk boundaries), and a Content-Length-only
 * body policy (any Transfer-Encoding on a request is refused with 411).
 *
 * No I/O, no libuv: bytes in, one request out at a time. Not thread-safe; one parser
 * per connection, used on the loop thread.
 */
#ifndef SIO_HTTP_PARSER_H
#define SIO_HTTP_PARSER_H

#include <llhttp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "sio/common.h"

/* Per-connection limits. Each is checked while bytes arrive, never after buffering. */
typedef struct {
  size_t max_url;       /* request-target bytes; over -> 414. default 8192 */
  size_t max_head;      /* request line + header lines bytes (with CRLFs); over -> 431. default 16384 */
  uint32_t max_headers; /* header field count; over -> 431. default 100 */
  size_t max_body;      /* Content-Length value; over -> 413, decided from the header before
                           any body byte arrives. default 1000000 */
} sio__http_limits_t;

#define SIO__HTTP_MAX_URL 8192
#define SIO__HTTP_MAX_HEAD 16384
#define SIO__HTTP_MAX_HEADERS 100
#define SIO__HTTP_MAX_BODY 1000000

/* Fills l with the defaults above. l must not be NULL. */
void sio__http_limits_default(sio__http_limits_t *l);

/* One header: offsets and lengths into sio__http_request_t.store. */
typedef struct {
  uint32_t name, name_len, value, value_len;
} sio__http_hdr_t;

/* A parsed request. Everything points into buffers owned by the parser: valid until
 * sio__http_parser_next() or sio__http_parser_free(). */
typedef struct {
  uint8_t method;       /* llhttp_method_t (HTTP_GET, HTTP_POST...) */
  uint8_t http_major, http_minor; /* always 1.0 or 1.1 (others are refused with 505) */
  uint8_t keep_alive;   /* llhttp_should_keep_alive(): 0 for HTTP/1.0 without keep-alive and
                           for Connection: close; the caller closes after answering */
  uint8_t upgrade;      /* the request asks for a protocol upgrade (Connection: upgrade plus
                           Upgrade, or a CONNECT): llhttp's upgrade flag */
  sio__buf_t store;     /* url bytes first (offset 0, url_len), then header names (lower-cased)
                           and values (leading and trailing SP/HTAB trimmed) */
  uint32_t url_len;
  sio__http_hdr_t *hdrs; /* nhdrs entries, in arrival order */
  uint32_t nhdrs, hdrs_cap;
  sio__buf_t body; /* the Content-Length body (empty without one) */
} sio__http_request_t;

typedef struct {
  llhttp_t ll;
  sio__http_limits_t limits;
  sio__http_request_t req;
  int status;       /* after an error: the HTTP status to answer (400, 411, 413, 414, 431, 500, 505) */
  uint8_t complete; /* a full request is in req (for an upgrade: its head, plus any body) */
  /* Private state. */
  int _err;           /* sticky return code once an error happened, else 0 */
  size_t _head_bytes; /* bytes of the current head fed so far (leading CRLFs included) */
  uint8_t _head_done; /* on_headers_complete was seen for the current message */
  uint8_t _prev;      /* the last head byte given to llhttp, for line-ending checks across calls */
  uint8_t _held_cr;   /* a head CR that ended the previous chunk: counted as consumed, given to
                         llhttp only once the next byte is known to be LF */
  uint8_t _in_field;  /* inside a header name (its pieces may arrive across several calls) */
  uint8_t _rl;        /* request line: 0 not started, 1 in it, 2 past it */
  uint8_t _closed;    /* the last request was not keep-alive: later bytes are discarded */
} sio__http_parser_t;

/* Initialises p. limits is copied as is (max_head is capped at UINT32_MAX); NULL means
 * sio__http_limits_default(). */
void sio__http_parser_init(sio__http_parser_t *p, const sio__http_limits_t *limits);

/* Frees the request buffers. p may be re-initialised afterwards. */
void sio__http_parser_free(sio__http_parser_t *p);

/*
 * Feeds len bytes of data (borrowed; only copied into the request). Parses at most up
 * to the end of ONE message and returns the bytes consumed (>= 0; all of them unless a
 * message completed). When p->complete becomes 1, p->req holds the request: the caller
 * answers it, calls sio__http_parser_next() and feeds the bytes after the consumed
 * ones (pipelining). While complete is 1, further calls consume nothing and return 0.
 *
 * Upgrade requests (p->req.upgrade) complete at the end of the head (and body, if it
 * had a Content-Length); the bytes after it are NOT consumed: they belong to the new
 * protocol. If the caller declines the upgrade, sio__http_parser_next() lets it go on
 * parsing HTTP.
 *
 * After a request with keep_alive == 0 (and sio__http_parser_next()), bytes are
 * discarded: the whole length is returned and no request ever completes.
 *
 * Errors (p->status set; answer it and close the connection; every later call returns
 * the same code):
 *   SIO_ETOOBIG  414 (url), 431 (head bytes or header count), 413 (Content-Length);
 *   SIO_EPROTO   400 (malformed, bare CR/LF, obs-fold, CTL in a value, smuggling shapes),
 *                411 (a Transfer-Encoding on an HTTP/1.1 request), 505 (not HTTP/1.0 or 1.1);
 *   SIO_ENOMEM   500.
 */
long sio__http_parser_execute(sio__http_parser_t *p, const char *data, size_t len);

/* Frees the finished request's buffers (idle keep-alive connections stay small) and
 * gets ready for the next request. An error, if any, stays. */
void sio__http_parser_next(sio__http_parser_t *p);

/* 1 if a message has started (any head byte, even a leading CRLF) but is not complete:
 * the connection uses it to switch from the idle timeout to the request timeout. */
int sio__http_parser_in_message(const sio__http_parser_t *p);

/* The request-target, borrowed from r (ptr never NULL). */
sio_str_t sio__http_req_url(const sio__http_request_t *r);

/* First header named lname (which must be lower case); returns 1 and fills out
 * (borrowed from r), or 0. */
int sio__http_req_header(const sio__http_request_t *r, const char *lname, sio_str_t *out);

/* 1 if any header named lname (lower case) holds token as one of its comma-separated
 * elements (OWS trimmed, compared case-insensitively); e.g. Connection: keep-alive, Upgrade. */
int sio__http_req_header_has_token(const sio__http_request_t *r, const char *lname, const char *token);

/* "GET", "POST"... for an llhttp_method_t; never NULL ("<unknown>" for bad values). */
const char *sio__http_method_str(int method);

#endif /* SIO_HTTP_PARSER_H */
