/*
 * sio/jscan.h: a validating JSON scanner for Socket.IO event arguments. It checks that
 * a text is exactly one JSON array (RFC 8259 grammar) and records where each of the
 * array's elements lies, without building anything: the arguments of most packets are
 * only forwarded or read as a string or two, so they stay text (see args.c).
 *
 * It accepts exactly what the library's jansson parse (json_loadb with JSON_DECODE_ANY
 * | JSON_ALLOW_NUL, see parser.h) accepts, including jansson's own limits: nesting up
 * to 2048 levels, no lone UTF-16 surrogate escapes, no \u0000 in object keys, no real
 * that overflows a double; and strict UTF-8 (RFC 3629) inside strings, since text from
 * the polling transport is not validated before. Where checking would cost more than
 * it is worth (a number of magnitude 1e308, right at the double's limit) it answers
 * SIO__JSCAN_UNSURE and the caller lets jansson decide.
 *
 * Layer: sio, sans-IO; no allocation, no jansson. Thread-safe.
 */
#ifndef SIO_SIO_JSCAN_H
#define SIO_SIO_JSCAN_H

#include <stddef.h>
#include <stdint.h>

/* jansson's JSON_PARSER_MAX_DEPTH: a value may sit at most this deep (the top one at 1). */
#define SIO__JSCAN_MAX_DEPTH 2048

/* Where one element lies: text[off .. off+len), no white space around it. */
typedef struct {
  size_t off, len;
  unsigned flags; /* SIO__JSPAN_* */
} sio__jspan_t;

enum {
  SIO__JSPAN_ESC = 1 /* a string whose text holds escapes: its bytes are not its value */
};

enum {
  /* An object key that is "_placeholder", or that holds an escape and so might spell
   * it: the caller must look at the tree (a placeholder means binary, see binary.c). */
  SIO__JSCAN_PLACEHOLDER = 1
};

enum {
  SIO__JSCAN_OK = 0,
  SIO__JSCAN_INVALID = -1, /* not one JSON array, or beyond one of jansson's limits */
  SIO__JSCAN_UNSURE = -2   /* a number too close to the double's limit to call */
};

/*
 * Scans s[0..len) (borrowed; need not be NUL-terminated), which must be one JSON array
 * with optional white space before and after it. Stores the first cap element spans
 * in spans (offsets into s) and the element count in *n, which may exceed cap: then
 * call again with room for *n. *flags gets SIO__JSCAN_* bits.
 * Returns SIO__JSCAN_OK, SIO__JSCAN_INVALID or SIO__JSCAN_UNSURE (then *n and spans
 * are meaningless).
 */
int sio__jscan_array(const char *s, size_t len, sio__jspan_t *spans, size_t cap, size_t *n, unsigned *flags);

/*
 * Walking values the scanner accepted (no checks: the text must be valid JSON).
 * skip returns the offset just past the value starting at s[i]. ws returns the offset
 * of the first byte at or after i that is not white space (len if none).
 */
size_t sio__jscan_skip(const char *s, size_t len, size_t i);
size_t sio__jscan_ws(const char *s, size_t len, size_t i);

/* Flags of the value s[0..len) (valid): SIO__JSPAN_ESC for a string holding '\\'. */
unsigned sio__jscan_value_flags(const char *s, size_t len);

/*
 * Decodes the body of a valid JSON string (the bytes between its quotes) into out (at
 * least len bytes; decoding never lengthens: "\u00e9" is 6 bytes for 2). Returns the
 * number of bytes written (UTF-8; \u0000 gives a NUL byte).
 */
size_t sio__jscan_unescape(const char *s, size_t len, char *out);

/*
 * Iterating the members of a valid object s[0..len) ("{...}"): start with *pos = 0;
 * each call sets *key (the key's body, quotes excluded), *key_esc (it holds escapes)
 * and the value span, and returns 1; 0 when there are no more members.
 */
int sio__jscan_member(const char *s, size_t len, size_t *pos, sio__jspan_t *key, sio__jspan_t *val);

/* Iterating the elements of a valid array s[0..len) ("[...]"), the same way. */
int sio__jscan_element(const char *s, size_t len, size_t *pos, sio__jspan_t *val);

/*
 * The value of the valid JSON number s[0..len) if it is written as an integer (no
 * fraction, no exponent) of at most 18 digits, so exact in int64: 1 and *out. 0 for
 * any other number (the caller parses it in full).
 */
int sio__jscan_small_int(const char *s, size_t len, int64_t *out);

#endif
