/*
 * http/url.h: request-target helpers (RFC 9112 §3.2, RFC 3986 §2.1 and §3.3): split
 * path from query, look up query parameters, percent-decode, and normalise a path for
 * static file serving. Pure functions on borrowed slices; no allocation.
 */
#ifndef SIO_HTTP_URL_H
#define SIO_HTTP_URL_H

#include <stddef.h>

#include "sio/common.h"

/*
 * Splits a request-target into path and query (without the '?'); a '#' fragment is
 * dropped. An absolute-form target ("http://host/p?q") yields its path ("/p"), or "/"
 * when it has none. A path or query that is absent comes back with len 0. Both results
 * are borrowed from url (or static); path or query may be NULL when not wanted.
 */
void sio__http_url_split(sio_str_t url, sio_str_t *path, sio_str_t *query);

/*
 * Finds the first parameter named exactly name (compared byte for byte, not decoded)
 * in a query of '&'-separated name[=value] pairs. Returns 1 and sets *value to the raw,
 * still percent-encoded value (borrowed from query; empty for "name" or "name="), or 0.
 */
int sio__http_query_get(sio_str_t query, const char *name, sio_str_t *value);

/*
 * Percent-decodes in into out (cap bytes; no NUL is added); the one decoder of the
 * library (URLs, handshake queries, redis:// credentials). flags: SIO__PCT_PLUS makes
 * '+' a ' ' (form encoding, for query values); SIO__PCT_LENIENT keeps a '%' that is not
 * followed by two hex digits as it is (Node's querystring.unescape) instead of failing.
 * Returns the decoded length, SIO_EPROTO for a bad escape (not lenient), or SIO_ETOOBIG
 * if the result does not fit in cap (never when cap >= in.len: decoding only shrinks).
 * Decoded bytes may include NUL: callers check what they need.
 */
enum { SIO__PCT_PLUS = 1, SIO__PCT_LENIENT = 2 };
long sio__http_pct_decode(sio_str_t in, char *out, size_t cap, int flags);

/*
 * Normalises a URL path for static file serving: percent-decodes each segment, removes
 * empty and "." segments (so "//a/./b/" becomes "/a/b", and no trailing slash is kept),
 * and writes a NUL-terminated path starting with '/' into out ("/" for the root).
 * Rejects with SIO_EPROTO: a path not starting with '/', a bad escape, any ".." segment
 * (also as "%2e%2e"), a decoded NUL or other control byte, a backslash, and an encoded
 * slash "%2F" (it would hide a separator inside a segment). Returns the length (without
 * the NUL), SIO_EPROTO, or SIO_ETOOBIG if the result and its NUL do not fit in cap.
 */
long sio__http_path_normalize(sio_str_t path, char *out, size_t cap);

#endif /* SIO_HTTP_URL_H */
