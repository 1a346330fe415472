/*
 * sio/parser.h: the Socket.IO v5 packet codec (socket.io-parser v4 wire format), with
 * binary attachment reassembly. Sans-IO: text and binary Engine.IO messages go in,
 * packets come out; no loop, no sockets. Layer: sio (below server/namespace/socket).
 *
 * Wire format (socket.io-protocol v5, "Packet encoding"):
 *
 *   <type>[<attachments>-][<nsp>,][<ack id>][<JSON payload>]
 *
 *   type         one digit 0..6 (sio__pkt_type_t)
 *   attachments  decimal count, only for BINARY_EVENT / BINARY_ACK, then '-'
 *   nsp          only when not "/": starts with '/', runs up to the first ','
 *   ack id       decimal digits
 *   payload      JSON (object, array or string depending on the type)
 *
 * A BINARY_* packet is followed by <attachments> binary Engine.IO messages; its JSON
 * holds a placeholder {"_placeholder":true,"num":N} where attachment N belongs.
 *
 * Threading: none of this is thread-safe; use one decoder per connection.
 */
#ifndef SIO_SIO_PARSER_H
#define SIO_SIO_PARSER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/refbuf.h"

typedef enum {
  SIO__PKT_CONNECT = 0,
  SIO__PKT_DISCONNECT = 1,
  SIO__PKT_EVENT = 2,
  SIO__PKT_ACK = 3,
  SIO__PKT_CONNECT_ERROR = 4,
  SIO__PKT_BINARY_EVENT = 5,
  SIO__PKT_BINARY_ACK = 6
} sio__pkt_type_t;

/* Largest ack id accepted or written: Number.MAX_SAFE_INTEGER, 2^53 - 1. A JS peer
 * cannot represent anything above it exactly. */
#define SIO__ACK_ID_MAX ((int64_t)9007199254740991)

#define SIO__DEFAULT_MAX_ATTACHMENTS 256
#define SIO__DEFAULT_MAX_NSP 256

/*
 * One event argument as JSON text, as a jansson tree, or both (sio/sio.h). Arguments
 * that arrive in a plain packet stay text: they are checked by sio/jscan.c, forwarded
 * as they are, and parsed only if something asks for more than the text gives.
 */
typedef struct {
  const char *text; /* its JSON text (no white space around it), or NULL: then v is it */
  size_t len;
  json_t *v;        /* owned reference or NULL: the value when text is NULL (binary
                       placeholders inside), else a cache of text parsed on demand. When
                       both are set they stand for the same value */
  unsigned flags;   /* SIO__JSPAN_* of text (SIO__JSPAN_ESC: a string with escapes) */
} sio__jitem_t;

/* The payload of a plain EVENT / ACK kept as text: an array and its elements. */
typedef struct {
  const char *text;    /* the payload's JSON text (in the packet's own block) */
  size_t len;
  sio__jitem_t *items; /* its elements, in order, pointing into text */
  uint32_t n;
  const char *event;   /* EVENT: items[0] decoded, NUL-terminated (no NUL inside) */
} sio__raw_t;

typedef struct {
  uint8_t type;          /* as decoded/encoded; BINARY_* when attachments are present */
  char *nsp;             /* owned, NUL-terminated; "/" by default */
  int64_t id;            /* ack id, -1 when absent */
  json_t *data;          /* owned reference, may be NULL (no payload); binary args appear
                            in the tree as placeholders {"_placeholder":true,"num":N} */
  sio__refbuf_t **att;   /* owned references to the attachments, natt entries (NULL until
                            received); NULL when natt is 0 */
  uint32_t natt;         /* attachments announced in the header */
  uint32_t att_received; /* how many of att[] are filled, in arrival order */
  sio__raw_t *raw;       /* decoded plain EVENT / ACK: the payload as text (data is NULL,
                            raw, nsp and the items live in p's own allocation) */
} sio__packet_t;

/*
 * Returns new packet (free with sio__packet_free) of the given type for namespace nsp
 * (copied; NULL means "/"), with id -1, no data and no attachments. NULL on OOM.
 */
sio__packet_t *sio__packet_new(uint8_t type, const char *nsp);

/* Frees nsp, drops the data reference, unrefs every attachment and frees p. NULL ok. */
void sio__packet_free(sio__packet_t *p);

typedef struct {
  uint32_t max_attachments; /* per packet; more -> SIO_ELIMIT. Default 256 */
  size_t max_nsp;           /* namespace name bytes; longer -> SIO_ELIMIT. Default 256 */
  sio__packet_t *pending;   /* owned: a BINARY_* packet waiting for its attachments */
} sio__decoder_t;

/* Fills the defaults; no allocation. */
void sio__decoder_init(sio__decoder_t *d);

/* Drops a pending packet (and the attachments it already holds). */
void sio__decoder_free(sio__decoder_t *d);

/*
 * Decodes one text Engine.IO message s[0..len) (borrowed; need not be NUL-terminated).
 * The caller bounds len (Engine.IO maxPayload); this function does not.
 *
 * Returns:
 *   0            *out = a complete packet (returns new: free with sio__packet_free);
 *   SIO_EAGAIN   a BINARY_* header: the packet waits in d->pending for its
 *                attachments, feed them to sio__decode_binary; *out = NULL;
 *   SIO_EPROTO   unknown or missing type; attachment count missing, zero, not followed
 *                by '-'; text while attachments are pending; ack id above 2^53-1; ACK /
 *                BINARY_ACK without an ack id; a NUL in the namespace; JSON whitespace
 *                right before the payload (socket.io-parser would read it as ack id 0);
 *                payload invalid for the type (below); a placeholder whose num is not
 *                an integer in [0, natt) (any placeholder in a non-binary packet);
 *   SIO_EJSON    the payload is not exactly one JSON value (trailing garbage included);
 *   SIO_EUTF8    the namespace is not valid UTF-8;
 *   SIO_ELIMIT   more than max_attachments, or a namespace longer than max_nsp;
 *   SIO_ENOMEM   out of memory. (jansson 2.14 reports some allocation failures inside
 *                json_loadb as syntax errors, so OOM there may surface as SIO_EJSON;
 *                a failed lexer-buffer growth even trips an assert in its load.c.)
 * On any error *out is NULL and the decoder is back in its initial state (a pending
 * packet is dropped): the connection should be closed anyway.
 *
 * Payload validity, socket.io-parser's isPayloadValid made strict for a server:
 *   CONNECT         object or absent
 *   DISCONNECT      absent
 *   CONNECT_ERROR   string or object
 *   (BINARY_)EVENT  array whose first element is a string without NUL that is not a
 *                   reserved event name (connect, connect_error, disconnect,
 *                   disconnecting, newListener, removeListener); absent is an error.
 *                   (socket.io-parser also takes a number there; no client emits one.)
 *   (BINARY_)ACK    array; absent is an error
 * JSON is parsed with json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL), not rejecting
 * duplicate keys: like JSON.parse the last value wins and the key keeps its first
 * position. Integers beyond int64 (which JS prints for numbers in [2^63, 1e21)) are
 * read as reals rather than refused. jansson refuses invalid UTF-8, lone surrogates,
 * NaN/Infinity, NUL in object keys and nesting deeper than 2048 (SIO_EJSON).
 *
 * A plain EVENT or ACK whose payload is an array is not parsed into a tree: it is
 * checked by sio__jscan_array (which accepts exactly what the parse above accepts) and
 * kept as text in p->raw, data NULL. Anything the scanner does not take (invalid JSON,
 * an object key that is or may be "_placeholder", a number at the edge of the double
 * range) goes the jansson way, so the errors are the ones listed here.
 */
int sio__decode_text(sio__decoder_t *d, const char *s, size_t len, sio__packet_t **out);

/*
 * Parses exactly one JSON value s[0..len) as sio__decode_text does (any type, U+0000
 * allowed in strings, integers beyond int64 as reals). *out: returns new reference.
 * Returns 0, SIO_EJSON or SIO_ENOMEM.
 */
int sio__json_load(const char *s, size_t len, json_t **out);

/*
 * Feeds one binary Engine.IO message as the next attachment of the pending packet.
 * att: takes ownership of one reference, also on error.
 * Returns 0 with *out = the completed packet (returns new) when this was the last
 * attachment, SIO_EAGAIN when more are expected, SIO_EPROTO when no packet is pending,
 * SIO_EINVAL when att is NULL.
 */
int sio__decode_binary(sio__decoder_t *d, sio__refbuf_t *att, sio__packet_t **out);

/*
 * Appends the text part of p, byte-exact with socket.io-parser's Encoder: the type
 * digit (5/6 instead of 2/3 when natt > 0; a BINARY_* type with natt 0 is written as
 * 2/3), "<natt>-" for binary types, the namespace and ',' unless it is "/" (NULL and ""
 * also mean "/"), the ack id if >= 0, then the payload via sio__json_write unless data
 * is NULL or JSON null (a raw packet's text is written as it is). The attachments are
 * the caller's to send, in order, as binary messages after it.
 * p: borrowed. out: appended to; restored to its length on error.
 * Returns 0, SIO_ENOMEM, or SIO_EINVAL (type > 6, natt > 0 on a type that cannot
 * carry attachments, a namespace not starting with '/' or containing ',', an ack id
 * above 2^53-1).
 */
int sio__encode(const sio__packet_t *p, sio__buf_t *out);

/*
 * The header part of sio__encode alone (everything before the payload), for callers
 * that size their buffer first: with dst NULL, checks p and sets *len to a bound on
 * the header's byte count (SIO_EINVAL as sio__encode); with dst (room for that bound),
 * writes the header there and sets *len to its byte count.
 */
int sio__encode_head(const sio__packet_t *p, char *dst, size_t *len);

/*
 * The payload table of sio__decode_text for a packet of type with data (borrowed, NULL
 * when absent): 1 if valid. The msgpack codec applies the same table.
 */
int sio__payload_valid(uint8_t type, const json_t *data);

/*
 * Decodes one binary Engine.IO message as a socket.io-msgpack-parser packet: a msgpack
 * map {type, data, nsp, id?} (sio/mpparser.c). buf[0..len) is borrowed; the caller bounds
 * len. Returns 0 and *out (returns new: free with sio__packet_free): type as in the map,
 * except that an EVENT / ACK holding bin values comes out as BINARY_EVENT / BINARY_ACK
 * with data's bin values as placeholders into att (natt = att_received, nothing pending),
 * as the text parser hands over a completed binary packet. Errors (*out NULL):
 *   SIO_EPROTO  not one msgpack map; type not an integer 0..4; nsp not a string starting
 *               with '/' or holding NUL; id not an integer in [0, 2^53-1]; an ACK without
 *               id; bin values outside an EVENT / ACK; data invalid for the type (the
 *               table of sio__decode_text); and sio__mp_decode's own cases;
 *   SIO_EUTF8, SIO_ELIMIT (also: nsp longer than d->max_nsp), SIO_ENOMEM.
 * d is only read (its limits); nothing stays pending between messages.
 */
int sio__decode_msgpack(const sio__decoder_t *d, const char *buf, size_t len, sio__packet_t **out);

/* 1 if buf[0..len) decodes as a msgpack packet (a client speaking msgpack to a server
 * that does not): for the mismatch warning. */
int sio__looks_msgpack(const char *buf, size_t len);

/* Returns new placeholder object {"_placeholder":true,"num":num}, or NULL on OOM. */
json_t *sio__placeholder_new(uint32_t num);

/* 1 if v (borrowed, NULL ok) is a placeholder: an object whose "_placeholder" is true
 * and whose "num" is an integer in [0, 2^32); sets *num. 0 otherwise. */
int sio__placeholder_num(const json_t *v, uint32_t *num);

/*
 * Internal to the codec (binary.c): walks data (NULL ok) the way socket.io-parser's
 * reconstructPacket does and checks every object whose "_placeholder" is true has an
 * integer num in [0, natt). Returns 0 or SIO_EPROTO.
 */
int sio__placeholder_check(const json_t *data, uint32_t natt);

#endif
