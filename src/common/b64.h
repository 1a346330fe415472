/* Standard base64 (RFC 4648 §4, with padding), on OpenSSL's EVP block coder. */
#ifndef SIO_COMMON_B64_H
#define SIO_COMMON_B64_H

#include <stddef.h>

static inline size_t sio__b64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }
static inline size_t sio__b64_decoded_max(size_t n) { return n / 4 * 3; }

/* Writes sio__b64_encoded_len(len) chars (no NUL) into out; returns that count. */
size_t sio__b64_encode(const void *in, size_t len, char *out);

/* Strict decode: only the alphabet, length a multiple of 4, '=' only as final padding.
 * out needs sio__b64_decoded_max(len) bytes. Returns the decoded length or SIO_EPROTO. */
long sio__b64_decode(const char *in, size_t len, void *out);

#endif
