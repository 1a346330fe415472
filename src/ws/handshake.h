/*
 * ws/handshake.h: the server's part of the RFC 6455 opening handshake (§4.2), sans-IO.
 *
 * The HTTP layer parses the upgrade request; these helpers answer the WebSocket-specific
 * questions about its headers and compute the Sec-WebSocket-Accept value. Pure
 * functions, no allocation, safe from any thread.
 */
#ifndef SIO_WS_HANDSHAKE_H
#define SIO_WS_HANDSHAKE_H

#include <stddef.h>

/* The GUID appended to the client's key before hashing (§1.3, §4.2.2). */
#define SIO__WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Length of a Sec-WebSocket-Key (base64 of 16 bytes) and of the accept value (base64 of
 * a 20-byte SHA-1). */
#define SIO__WS_KEY_LEN 24
#define SIO__WS_ACCEPT_LEN 28

/*
 * Computes Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2 step 5.4):
 * base64(SHA-1(key + SIO__WS_GUID)). key[0..key_len) is borrowed, need not be
 * NUL-terminated, and must be exactly what the client sent with surrounding whitespace
 * already trimmed (the HTTP parser does that).
 *
 * Returns 0 and writes 28 characters plus a NUL into out, or SIO_EINVAL (out untouched)
 * when the key is not 24 characters of strict base64 decoding to 16 bytes (§4.2.1
 * item 5), in which case the server should answer 400.
 */
int sio__ws_accept(const char *key, size_t key_len, char out[SIO__WS_ACCEPT_LEN + 1]);

/*
 * Returns 1 when the comma-separated header value v[0..len) (RFC 7230 §7 list syntax,
 * optional whitespace around items, empty items allowed) contains token, compared
 * ASCII-case-insensitively, else 0. For "Connection: keep-alive, Upgrade" (§4.2.1
 * item 4) and "Upgrade: websocket" (item 3). v and token are borrowed; token is
 * NUL-terminated.
 */
int sio__ws_header_has_token(const char *v, size_t len, const char *token);

#endif /* SIO_WS_HANDSHAKE_H */
