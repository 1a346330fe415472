/*
 * engine/packet.h: the Engine.IO v4 packet and payload codec (engine.io-parser v5 wire
 * format). Sans-IO: no sockets, no loop, no allocation except appends to a caller's
 * sio__buf_t. Decoders hand out slices that borrow the caller's buffer.
 *
 * Wire summary (Engine.IO v4 protocol, "Packet encoding" and "Payload"):
 *   text packet     <type digit 0..6><data>          (WebSocket text frame)
 *   binary message  the raw bytes                    (WebSocket binary frame)
 *   polling payload packets joined by 0x1e; a binary message is 'b' + base64(bytes)
 *
 * Threading: every function is reentrant; none keeps state between calls.
 */
#ifndef SIO_ENGINE_PACKET_H
#define SIO_ENGINE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The packet types; the wire carries them as the ASCII digits '0'..'6'. */
typedef enum {
  SIO__EIO_OPEN = 0,
  SIO__EIO_CLOSE = 1,
  SIO__EIO_PING = 2,
  SIO__EIO_PONG = 3,
  SIO__EIO_MESSAGE = 4,
  SIO__EIO_UPGRADE = 5,
  SIO__EIO_NOOP = 6
} sio__eio_type_t;

/* The record separator between the packets of a polling payload. */
#define SIO__EIO_SEPARATOR '\x1e'

typedef struct {
  uint8_t type;   /* a sio__eio_type_t */
  uint8_t binary; /* 1 for a binary message (type is then SIO__EIO_MESSAGE) */
  char *data;     /* borrowed slice into the caller's buffer (text after the type digit, or the binary bytes) */
  size_t len;     /* bytes at data; 0 for a packet without data */
} sio__eio_packet_t;

/*
 * Decodes one text packet: a WebSocket text frame, or one part of a polling payload that
 * does not start with 'b'. The first byte is the type digit '0'..'6'; the rest is data.
 * s is borrowed and not modified; out->data points into it (out->binary = 0).
 * Returns 0, or SIO_EPROTO for empty input or an unknown type (out untouched).
 */
int sio__eio_decode_text(char *s, size_t len, sio__eio_packet_t *out);

/*
 * Describes a WebSocket binary frame: in Engine.IO v4 every binary frame is a whole
 * binary message with no type prefix. out->data borrows data. Always returns 0.
 */
int sio__eio_decode_binary(char *data, size_t len, sio__eio_packet_t *out);

/*
 * Called once per decoded packet. p and the bytes it points at are borrowed: valid
 * until sio__eio_decode_payload returns (they live in the caller's body). Return 0 to
 * go on, non-zero to stop decoding (that value is then returned).
 */
typedef int (*sio__eio_packet_cb)(void *user, sio__eio_packet_t *p);

/*
 * Decodes a polling payload (the body of an HTTP POST). Parts are split on 0x1e; a part
 * that starts with 'b' is a binary message whose base64 (after the 'b') is decoded IN
 * PLACE into the part itself; every other part is a text packet.
 *
 * The whole body is validated before cb first runs, so a malformed payload delivers
 * nothing: when SIO_EPROTO or SIO_ELIMIT is returned, cb was never called.
 *
 * body: borrowed and modified (binary parts are overwritten with their bytes).
 * max_packets: the most parts accepted; 0 means no limit.
 * cb: called in order for each packet; user is passed through.
 * Returns 0, SIO_EPROTO (empty payload, empty part, e.g. a leading, doubled or trailing
 * separator, unknown type, bad base64: length not a multiple of 4, a character outside
 * the alphabet, '=' anywhere but the last one or two places), SIO_ELIMIT (more than
 * max_packets parts), or the non-zero value cb returned.
 */
int sio__eio_decode_payload(char *body, size_t len, size_t max_packets, sio__eio_packet_cb cb,
                            void *user);

/*
 * Appends one packet in its polling-payload form to out: a text packet as its type digit
 * and data, a binary message as 'b' + base64(data). sep != 0 writes a 0x1e first (pass
 * it for every packet but the first). p is borrowed; out may be reallocated (never keep
 * pointers into it across this call). Nothing is appended on error.
 * Returns 0, SIO_ENOMEM, or SIO_EINVAL (type above 6, binary with a type other than
 * message, or text data containing 0x1e, which the receiver would split).
 */
int sio__eio_payload_append(sio__buf_t *out, const sio__eio_packet_t *p, int sep);

/*
 * Appends the text form "<digit><data>" (a WebSocket text frame's content) to out.
 * data is borrowed and may be NULL when len is 0. Nothing is appended on error.
 * Returns 0, SIO_ENOMEM, or SIO_EINVAL (type outside 0..6).
 */
int sio__eio_encode_text(sio__buf_t *out, int type, const char *data, size_t len);

/*
 * Appends the open packet, byte-exact with engine.io 6.x (same key order):
 *   0{"sid":"<sid>","upgrades":["websocket"],"pingInterval":N,"pingTimeout":N,"maxPayload":N}
 * with "upgrades":[] when offer_websocket is 0. sid is a borrowed NUL-terminated string,
 * JSON-escaped on output. Nothing is appended on error. Returns 0 or SIO_ENOMEM.
 */
int sio__eio_encode_open(sio__buf_t *out, const char *sid, int offer_websocket, uint64_t ping_interval,
                         uint64_t ping_timeout, uint64_t max_payload);

/* engine.io's Server.errors: the "code" of an HTTP 400 body. */
enum {
  SIO__EIO_ERR_UNKNOWN_TRANSPORT = 0,
  SIO__EIO_ERR_UNKNOWN_SID = 1,
  SIO__EIO_ERR_BAD_HANDSHAKE_METHOD = 2,
  SIO__EIO_ERR_BAD_REQUEST = 3,
  SIO__EIO_ERR_FORBIDDEN = 4,
  SIO__EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION = 5
};

/*
 * Appends engine.io's error body {"code":N,"message":"..."} with the stock message of
 * Server.errorMessages ("Transport unknown", "Session ID unknown", "Bad handshake
 * method", "Bad request", "Forbidden", "Unsupported protocol version").
 * Returns 0, SIO_ENOMEM, or SIO_EINVAL (code outside 0..5). Nothing is appended on error.
 */
int sio__eio_error_json(sio__buf_t *out, int code);

/* engine.io's Server.errorMessages[code] (static); "Bad request" for an unknown code. */
const char *sio__eio_error_message(int code);

/*
 * Same with a custom message, as engine.io sends when allowRequest rejects with
 * {message}. msg (len bytes, borrowed) is JSON-escaped the way JSON.stringify does.
 * Returns 0, SIO_ENOMEM, or SIO_EINVAL (code outside 0..5). Nothing is appended on error.
 */
int sio__eio_error_json_msg(sio__buf_t *out, int code, const char *msg, size_t len);

/* The engine.io-parser name of a type ("open", "close", ..., "noop"), or "error" for an
 * unknown one. Static string; for logs. */
const char *sio__eio_type_name(int type);

#endif /* SIO_ENGINE_PACKET_H */
