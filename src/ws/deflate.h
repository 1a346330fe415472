/*
 * ws/deflate.h: permessage-deflate (RFC 7692), sans-IO: the extension negotiation
 * (parsing a client's Sec-WebSocket-Extensions offers and building the answer) and the
 * per-connection compression state (zlib raw deflate, the 00 00 FF FF tail stripped
 * and restored, §7.2).
 *
 * Memory: a negotiated connection owns one small sio__ws_pmd_t; zlib's streams are
 * created on the first message above the threshold in their direction and freed with
 * it, or after every message of a direction without context takeover. Inflating stops
 * at a caller's bound (the max message size applies to the inflated size), so a
 * decompression bomb costs at most that bound.
 *
 * No libuv here; ws/conn.c does the I/O. Threading: one state per connection, loop
 * thread only; the negotiation functions are pure.
 */
#ifndef SIO_WS_DEFLATE_H
#define SIO_WS_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/refbuf.h"
#include "sio/http.h"

/* The parameters agreed for one connection (RFC 7692 §7.1). Window bits are 8..15;
 * 0 means the parameter is not in the answer (15 is then used). */
typedef struct {
  uint8_t server_no_context_takeover;
  uint8_t client_no_context_takeover;
  uint8_t server_max_window_bits;
  uint8_t client_max_window_bits;
} sio__ws_pmd_params_t;

/* Longest answer sio__ws_pmd_negotiate writes, NUL included. */
#define SIO__WS_PMD_ANSWER_MAX 160

/*
 * Picks the first permessage-deflate offer in the Sec-WebSocket-Extensions value
 * v[0..len) (several headers joined with ", ") that opts can honour, as ws's
 * PerMessageDeflate.acceptAsServer does. Offers of other extensions are ignored; an
 * offer with an unknown, repeated or badly valued parameter is declined (RFC 7692
 * §5.1), and so is one that asks for a window smaller than 9 bits from us (zlib cannot
 * deflate with 8) or, when opts limits the client's window, one without
 * client_max_window_bits. v is borrowed and need not be NUL-terminated.
 *
 * Returns 1 with *out filled and the header value for the 101 written into answer
 * ("permessage-deflate; ...", NUL-terminated), or 0 when nothing is accepted.
 */
int sio__ws_pmd_negotiate(const sio_ws_deflate_opts_t *opts, const char *v, size_t len, sio__ws_pmd_params_t *out,
                          char answer[SIO__WS_PMD_ANSWER_MAX]);

/* A connection's compression state (opaque outside deflate.c). */
typedef struct sio__ws_pmd_s sio__ws_pmd_t;

/* Returns new state for negotiated params and opts' threshold and zlib settings (both
 * copied), or NULL on OOM. No zlib stream yet. Free with sio__ws_pmd_free. */
sio__ws_pmd_t *sio__ws_pmd_new(const sio_ws_deflate_opts_t *opts, const sio__ws_pmd_params_t *params);
/* Frees p and its streams; NULL allowed. */
void sio__ws_pmd_free(sio__ws_pmd_t *p);

/* 1 if a message of len bytes is to be compressed (len >= threshold). */
int sio__ws_pmd_wants(const sio__ws_pmd_t *p, size_t len);

/*
 * Compresses one message in[0..len) (borrowed) into a new refbuf with headroom bytes
 * before the payload (for the frame header). The compressor is created if needed, and
 * freed again afterwards without server context takeover. Returns 0 and *out (returns
 * new), or SIO_ENOMEM: the compressor may have taken in part of the message, so the
 * peer's inflater is out of step from here; the caller closes the connection (1011).
 */
int sio__ws_pmd_compress(sio__ws_pmd_t *p, const void *in, size_t len, size_t headroom, sio__refbuf_t **out);

/*
 * sio__ws_pmd_compress of src's payload for a message sent to many connections (a
 * broadcast). Without server context takeover a fresh compressor turns the same bytes
 * into the same frame for the same window, level and memLevel, so the first connection's
 * result is kept on src (sio__refbuf_set_alt, keyed by those and binary) and the next
 * connections with the same parameters get a reference to it: one compression per
 * broadcast instead of one per receiver. With takeover it compresses as usual. The
 * caller releases the kept frame when its fan-out is over (sio__refbuf_drop_alt).
 */
int sio__ws_pmd_compress_shared(sio__ws_pmd_t *p, sio__refbuf_t *src, int binary, size_t headroom,
                                sio__refbuf_t **out);

/*
 * Inflates one compressed message in[0..len) (borrowed) and appends it to out, which
 * must be empty. At most max bytes are produced. Returns 0, SIO_ETOOBIG (it would
 * inflate past max: close with 1009), SIO_EPROTO (not valid deflate data: close with
 * 1007) or SIO_ENOMEM (close with 1011). After an error the state must only be freed.
 * On error out may hold partial output; the caller frees it either way.
 */
int sio__ws_pmd_inflate(sio__ws_pmd_t *p, const void *in, size_t len, size_t max, sio__buf_t *out);

/* 1 while a deflate (dir 0) or inflate (dir 1) stream is allocated: for tests. */
int sio__ws_pmd_has_stream(const sio__ws_pmd_t *p, int dir);

#endif /* SIO_WS_DEFLATE_H */
