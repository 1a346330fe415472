/*
 * sio/json.h: a JSON writer whose output is byte-identical to JavaScript's
 * JSON.stringify(v) for the value v that a jansson tree stands for.
 *
 * jansson's own json_dumps() differs from JSON.stringify in ways a peer can see: it
 * prints reals as "1.0" / "1e21" / "1.5e-07", escapes '/' when asked to and prints
 * non-ASCII as \u escapes when asked to. Socket.IO peers compare our wire bytes with
 * what a Node server sends (tests, caches, signatures), so we print exactly what V8
 * prints. Layer: sio. Sans-IO, no allocation per node.
 */
#ifndef SIO_SIO_JSON_H
#define SIO_SIO_JSON_H

#include <jansson.h>

#include "common/buf.h"

/*
 * Appends v serialised as JSON.stringify(v) would print it (ECMA-262 §25.5.2.2):
 *  - compact: no whitespace anywhere;
 *  - object keys in insertion order (jansson 2.14 objects keep it; json_object_iter
 *    walks it), except that keys which are array indices ("0".."4294967294", canonical
 *    decimal) come first in ascending numeric order, as OrdinaryOwnPropertyKeys
 *    (ECMA-262 §10.1.11.1) orders them. A key set twice keeps its first position;
 *  - strings escaped like JSON.stringify: \" \\ \b \f \n \r \t, other C0 controls as
 *    \u00xx (lowercase hex), '/' and U+007F.. raw (UTF-8 as stored; jansson only holds
 *    valid UTF-8, so lone surrogates cannot occur). Embedded NULs (JSON_ALLOW_NUL) are
 *    written as \u0000;
 *  - numbers as Number#toString prints them (ECMA-262 §6.1.6.1.20): the shortest
 *    digits that round-trip, "1e+21", "1.5e-7", 100.0 -> "100", -0.0 -> "0". Integers
 *    beyond +-2^53 are printed as the double they round to (9223372036854775807 ->
 *    "9223372036854776000"), because that is the number a JS peer holds;
 *  - true, false, null.
 *
 * v: borrowed, must not be NULL. out: appended to; on error out->len is restored (the
 * buffer may have grown). Returns 0 or SIO_ENOMEM. Thread-safe for distinct buffers.
 */
int sio__json_write(sio__buf_t *out, const json_t *v);

/*
 * A string quoted as JSON.stringify quotes it (the escapes listed above): str_size
 * returns the byte count, quotes included; str_put writes those bytes at dst and
 * returns the end. s (len bytes, UTF-8, NULs allowed) is borrowed.
 */
size_t sio__json_str_size(const char *s, size_t len);
char *sio__json_str_put(char *dst, const char *s, size_t len);

/*
 * Formats a double as Number#toString(10) does into dst (at least 32 bytes), NUL-
 * terminated; returns the length. NaN and infinities print as "null", which is what
 * JSON.stringify writes for them.
 */
int sio__json_format_double(char *dst, double d);

#endif
