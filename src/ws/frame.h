/*
 * ws/frame.h: the server side of the RFC 6455 framing layer (§5), sans-IO.
 *
 * Decoding takes the bytes a client sent, checks every §5 rule that applies to a server
 * that negotiated no extension, and hands up whole messages through typed callbacks:
 * an unfragmented message is unmasked in place and delivered straight from the
 * caller's buffer (no copy); only a fragmented message is assembled, in a buffer that
 * exists only while that message is in progress, so an idle decoder owns no heap.
 * Encoding writes unmasked server headers only, so a broadcast's payload is encoded once
 * and shared (a header is at most 10 bytes and can be written per frame).
 *
 * Errors are reported as the negated close status code the server should send
 * (RFC 6455 §7.4.1), so the connection layer can send it as is and then close.
 *
 * No I/O and no libuv here: see ws/conn.c for the glue. Threading: a decoder belongs to
 * one connection and is used from the loop thread only; the encoders are pure.
 */
#ifndef SIO_WS_FRAME_H
#define SIO_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Opcodes (RFC 6455 §5.2). 3-7 and 11-15 are reserved and rejected. */
enum {
  SIO__WS_OP_CONT = 0,
  SIO__WS_OP_TEXT = 1,
  SIO__WS_OP_BINARY = 2,
  SIO__WS_OP_CLOSE = 8,
  SIO__WS_OP_PING = 9,
  SIO__WS_OP_PONG = 10
};

/* Close status codes (RFC 6455 §7.4.1) used by the decoder and its callers. */
enum {
  SIO__WS_CLOSE_NORMAL = 1000,
  SIO__WS_CLOSE_GOING_AWAY = 1001,
  SIO__WS_CLOSE_PROTOCOL = 1002,
  SIO__WS_CLOSE_NO_STATUS = 1005, /* never on the wire: "the close frame had no code" */
  SIO__WS_CLOSE_INVALID_DATA = 1007,
  SIO__WS_CLOSE_POLICY = 1008, /* policy violation: the server's own limits */
  SIO__WS_CLOSE_TOO_BIG = 1009,
  SIO__WS_CLOSE_INTERNAL = 1011
};

/* Largest header a server frame needs (2 + 8-byte length), and a client frame (+ mask). */
#define SIO__WS_SERVER_HEADER_MAX 10
#define SIO__WS_CLIENT_HEADER_MAX 14
/* Control frame payloads are at most 125 bytes (RFC 6455 §5.5); a close frame needs 2 more. */
#define SIO__WS_CONTROL_MAX 125
#define SIO__WS_CLOSE_FRAME_MAX 127

/*
 * Decoder callbacks. Any of them may be NULL (the event is then dropped). Each gets the
 * user pointer given to sio__ws_decode. All pointers are borrowed: valid only during the
 * call. A callback must not call sio__ws_decode or sio__ws_decoder_free on the same
 * decoder; to drop the connection, flag it and act after sio__ws_decode returns.
 */
typedef struct {
  /* A complete message (fragments assembled). opcode is SIO__WS_OP_TEXT or _BINARY,
   * OR'ed with SIO__WS_MSG_COMPRESSED when its first frame had RSV1 set (only with
   * rsv1_ok: permessage-deflate); data is then the compressed payload and its text is
   * NOT validated (the caller inflates and validates). data is writable (the caller may
   * parse it in place); it may point into the buffer passed to sio__ws_decode. Text is
   * otherwise already UTF-8 validated. len may be 0, data is then still a valid non-NULL
   * pointer. */
  void (*on_message)(void *user, int opcode, char *data, size_t len);
  /* A ping or pong, payload 0..125 bytes. Answering pings is the caller's job (§5.5.2). */
  void (*on_ping)(void *user, const char *data, size_t len);
  void (*on_pong)(void *user, const char *data, size_t len);
  /* A valid close frame. code is 1005 when the frame had no payload; reason is UTF-8
   * validated and not NUL-terminated (len 0 when absent). Decoding stops after it. */
  void (*on_close)(void *user, int code, const char *reason, size_t len);
} sio__ws_decode_cb_t;

/* The flag on on_message's opcode for a message sent with RSV1 (RFC 7692 §6). */
#define SIO__WS_MSG_COMPRESSED 0x40

/* Kept small: one lives in every WebSocket connection, idle ones included. */
typedef struct {
  sio__buf_t *frag;     /* payload of the fragmented message in progress (allocated only then) */
  uint32_t max_message; /* limit for one message (sum of fragments); more -> -1009 */
  uint32_t utf8_state;  /* validation state across text fragments (ws/utf8.h) */
  uint8_t frag_opcode;  /* opcode of the message in progress, 0 = none */
  uint8_t closed;       /* a close frame was decoded; further input is ignored */
  uint8_t rsv1_ok;      /* permessage-deflate negotiated: RSV1 allowed on a message's
                         * first frame (set by the caller after init) */
  uint8_t frag_rsv1;    /* the message in progress is compressed */
} sio__ws_decoder_t;

/* Initialises d (no allocation). max_message bounds one message's payload in bytes,
 * summed over its fragments; it is capped at UINT32_MAX (4 GiB - 1, "no limit" in
 * practice), 0 allows only empty messages.
 * Control frames are bounded by §5.5 instead. */
void sio__ws_decoder_init(sio__ws_decoder_t *d, size_t max_message);

/* Frees a partially assembled message, if any. d may be reused after sio__ws_decoder_init. */
void sio__ws_decoder_free(sio__ws_decoder_t *d);

/*
 * Decodes every COMPLETE client frame at the start of data[0..len).
 *
 * Payloads are unmasked in place (data must be writable; only complete frames are
 * touched, so an incomplete tail is left byte-for-byte as received). Callbacks fire in
 * frame order; control frames between fragments are delivered at once (§5.4).
 *
 * Returns the number of bytes consumed: whole frames only. The caller keeps the
 * unconsumed tail, appends the next bytes after it and calls again with the tail at
 * data[0]. Once d->closed is set (a close frame was decoded) decoding stops right after
 * that frame (the return value counts it) and later calls ignore their input and return
 * len without firing callbacks.
 *
 * Returns a negative close code when the peer broke the protocol; the caller should send
 * a close frame with that code (negated) and close. Callbacks may already have fired for
 * earlier frames in data. Codes:
 *   -1002 (protocol error): unmasked frame, RSV bits set (RSV1 is allowed on the first
 *         frame of a data message when rsv1_ok), reserved opcode, fragmented or
 *         >125-byte control frame, continuation with no message in progress, new data
 *         frame while a fragmented one is in progress, 64-bit length with the top bit
 *         set, 1-byte close payload, close code a peer may not send;
 *   -1007 (invalid data): text or close reason not valid UTF-8, checked per fragment as
 *         it arrives; a sequence still open at FIN counts as invalid;
 *   -1009 (too big): message over max_message, reported as soon as the frame's length
 *         field is complete, before the payload arrives;
 *   -1011 (internal error): out of memory while assembling a fragmented message.
 * After an error the decoder must not be fed again, only freed.
 *
 * need (may be NULL) receives the size in bytes of the next, incomplete frame counted
 * from data[return value], once its header's length field has arrived; 0 when that is
 * not known yet, when nothing is left over, and on error. The caller can size its read
 * buffer with it (a fragmented message needs only one frame buffered at a time).
 */
long sio__ws_decode(sio__ws_decoder_t *d, char *data, size_t len, const sio__ws_decode_cb_t *cb,
                    void *user, size_t *need);

/*
 * Writes the header of a server (unmasked) frame with FIN set into out and returns its
 * length: 2 for payloads up to 125 bytes, 4 up to 65535, else 10 (§5.2, shortest form).
 * The payload follows the header unchanged, so one payload can be shared by many frames.
 */
size_t sio__ws_frame_header(uint8_t out[SIO__WS_SERVER_HEADER_MAX], int opcode, size_t payload_len);

/*
 * Builds a complete server close frame into out and returns its length (2..127).
 * code 0 builds an empty close frame (no status, reason ignored); otherwise the 2-byte
 * code is followed by reason (NUL-terminated, may be NULL), truncated to 123 bytes at
 * a UTF-8 character boundary so the frame stays within §5.5's 125 bytes and valid.
 * The caller picks a code that may be sent (not 1005/1006/1015).
 */
size_t sio__ws_close_frame(uint8_t out[SIO__WS_CLOSE_FRAME_MAX], int code, const char *reason);

/*
 * Builds a client (masked) frame: header, the 4-byte mask and payload XOR mask, with FIN
 * as given. For tests and the load generator. out needs len + 14 bytes; payload (len
 * bytes, may be NULL when len is 0) and mask are borrowed. Returns the bytes written.
 */
size_t sio__ws_client_frame(uint8_t *out, int opcode, int fin, const void *payload, size_t len,
                            const uint8_t mask[4]);

#endif /* SIO_WS_FRAME_H */
