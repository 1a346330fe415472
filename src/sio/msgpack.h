/*
 * sio/msgpack.h: msgpack <-> jansson with binary attachments, as notepack.io reads and
 * writes JavaScript values. Sans-IO. Used by the msgpack packet parser (sio/mpparser.c,
 * socket.io-msgpack-parser) and the Redis adapter (adapter/redis_codec.c).
 *
 * Values are jansson trees whose binary parts are Socket.IO placeholders
 * {"_placeholder":true,"num":N} pointing into a list of refcounted attachments: exactly
 * how sio_args_t holds event arguments, so decoded values reach handlers without a
 * conversion step.
 *
 * msgpack is written the way notepack.io writes it, byte for byte: smallest integer
 * format (uint formats for non-negative values), float 64 for any number that is not
 * integral, str8/16/32 by UTF-8 length, bin8/16/32 for binary, object keys with
 * canonical array indices first (JavaScript's own key order).
 */
#ifndef SIO_SIO_MSGPACK_H
#define SIO_SIO_MSGPACK_H

#include <jansson.h>
#include <msgpack/pack.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/refbuf.h"

/* Nesting accepted by the decoder: deeper input is refused (SIO_ELIMIT), so a peer cannot
 * exhaust the stack. Node's own limit is its call stack (about 10,000 levels). */
#define SIO__MP_MAX_DEPTH 128
/* Binary parts accepted in one message (Socket.IO's default attachment limit). */
#define SIO__MP_MAX_ATTACHMENTS 256

/* A decoded value: root (owned reference) and the attachments its placeholders name. */
typedef struct {
  json_t *root;
  sio__refbuf_t **att; /* owned references, natt of them */
  uint32_t natt, cap;
} sio__mp_value_t;

/* Frees root and the attachments and zeroes v; NULL fields are fine. */
void sio__mp_value_free(sio__mp_value_t *v);

/*
 * Decodes exactly one msgpack value from buf[0..len) (borrowed) into *out (returns new:
 * free with sio__mp_value_free, also filled on success only).
 *  - nil -> null, bool, integers -> integer (uint64 above INT64_MAX -> real), float 32/64
 *    -> real (NaN and infinities -> null, as JSON.stringify prints them), str -> string,
 *    map -> object (str keys, or integer keys written in decimal),
 *    array -> array;
 *  - bin, and ext type 0 (notepack's old ArrayBuffer form) -> a placeholder plus an
 *    attachment (with Engine.IO headroom, ready to send);
 *  - ext -1 (timestamps) -> the ISO string Date#toJSON prints; fixext1 type 0
 *    (notepack's `undefined`) -> null in an array, member left out in a map; any other
 *    ext -> [type, <binary>] as notepack decodes it.
 * Returns 0, or:
 *   SIO_EPROTO  truncated input, trailing bytes, the unused byte 0xc1, a key that is not a
 *               string or integer, a key holding NUL or given twice in one map (no JS
 *               object has that), a map that looks like a placeholder
 *               ({"_placeholder": true, ...}, which clients would read as binary);
 *   SIO_EUTF8   a string or key that is not valid UTF-8;
 *   SIO_ELIMIT  deeper than SIO__MP_MAX_DEPTH or more than SIO__MP_MAX_ATTACHMENTS binaries;
 *   SIO_ENOMEM.
 * Counts in headers are checked against the bytes left before anything is allocated, so
 * memory use is bounded by a small multiple of len.
 */
int sio__mp_decode(const char *buf, size_t len, sio__mp_value_t *out);

/*
 * Appends v (borrowed) as msgpack, notepack-exact (see the top of this file), each
 * placeholder whose num < natt written as bin of att[num] (borrowed). Integers beyond
 * +-2^53 are written as the double a JS peer holds for them. out: on error its length is
 * restored. Returns 0 or SIO_ENOMEM.
 */
int sio__mp_encode(sio__buf_t *out, const json_t *v, sio__refbuf_t *const *att, uint32_t natt);

/* ---- the writer under sio__mp_encode, for callers that build containers around values ---- */

typedef struct {
  msgpack_packer pk;         /* writes into the sio__buf_t given to init */
  sio__refbuf_t *const *att; /* what placeholders name (borrowed) */
  uint32_t natt;
} sio__mp_writer_t;

void sio__mp_writer_init(sio__mp_writer_t *w, sio__buf_t *out, sio__refbuf_t *const *att, uint32_t natt);
/* Each returns 0 or SIO_ENOMEM; on error the buffer holds a partial value (callers
 * restore its length). */
int sio__mp_pack_value(sio__mp_writer_t *w, const json_t *v);
int sio__mp_pack_str(sio__mp_writer_t *w, const char *s, size_t len);
int sio__mp_pack_cstr(sio__mp_writer_t *w, const char *s);
/* A JS number: integral -> smallest integer format, else float 64. */
int sio__mp_pack_number(sio__mp_writer_t *w, double d);

#endif
