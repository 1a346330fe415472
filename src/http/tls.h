/*
 * TLS for the connection layer: OpenSSL with memory BIOs, so libuv keeps doing the I/O.
 * Ciphertext read from the socket goes into the read BIO and plaintext comes out of
 * SSL_read; plaintext written goes through SSL_write into the write BIO, whose bytes the
 * connection then writes to the socket. Renegotiation is off, TLS 1.2 is the minimum.
 */
#ifndef SIO_HTTP_TLS_H
#define SIO_HTTP_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

typedef struct sio__tls_s sio__tls_t;

/* Server context from PEM files; NULL with a logged reason on failure. */
SSL_CTX *sio__tls_ctx_from_files(const char *cert, const char *key);
/* Server context with a fresh self-signed certificate (EC P-256, 30 days, SAN localhost,
 * 127.0.0.1, ::1 and this host's name); writes the SHA-256 fingerprint as "AB:CD:..." into
 * fp (>= 96 bytes). NULL on failure. */
SSL_CTX *sio__tls_ctx_self_signed(char *fp, size_t fp_cap);

sio__tls_t *sio__tls_new(SSL_CTX *ctx);
void sio__tls_free(sio__tls_t *t);

/* Feeds ciphertext and decrypts what it can into plain (cap bytes), calling deliver for
 * each chunk. Returns 0, or a negative value on a TLS error (the peer sent garbage or
 * closed the TLS session): the connection must close. deliver returns non-zero to stop. */
int sio__tls_feed(sio__tls_t *t, const char *cipher, size_t len, char *plain, size_t cap,
                  int (*deliver)(void *u, char *plain, size_t n), void *u);
/* Encrypts plaintext (all of it, the write BIO grows). Returns 0 or negative on error. */
int sio__tls_encrypt(sio__tls_t *t, const void *plain, size_t len);
/* Ciphertext waiting to be written. */
size_t sio__tls_pending(sio__tls_t *t);
/* Moves up to len pending ciphertext bytes into out; returns the count. */
size_t sio__tls_take(sio__tls_t *t, char *out, size_t len);
/* Queues close_notify (RFC 8446 §6.1). */
void sio__tls_shutdown(sio__tls_t *t);

#endif
