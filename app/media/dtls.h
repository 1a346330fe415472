/*
 * DTLS-SRTP server side (RFC 5763, 5764) on OpenSSL: one certificate made at start-up,
 * whose SHA-256 fingerprint goes into every answer; one handshake per browser, fed with
 * datagrams and writing its flights through a callback (one callback call per record
 * batch OpenSSL writes, each sent as one datagram). Once done, the browser's certificate
 * is checked against the offer's a=fingerprint and the SRTP keys are exported.
 */
#ifndef NOOM_DTLS_H
#define NOOM_DTLS_H

#include <stddef.h>
#include <stdint.h>

#define NOOM_SRTP_MASTER_LEN 30 /* the longest master key + salt: AES_CM_128_HMAC_SHA1_80's 16 + 14 */

typedef struct noom_dtls noom_dtls_t;
typedef void (*noom_dtls_send_cb)(const uint8_t *p, size_t n, void *u);

/* Makes the certificate and context. Returns 0 or -1 (OpenSSL error logged). */
int noom_dtls_global_init(void);
void noom_dtls_global_free(void);
/* "AB:CD:..." (95 characters), valid after init. */
const char *noom_dtls_fingerprint(void);

noom_dtls_t *noom_dtls_new(noom_dtls_send_cb send, void *u);
void noom_dtls_free(noom_dtls_t *d);

enum { NOOM_DTLS_PENDING = 0, NOOM_DTLS_DONE = 1, NOOM_DTLS_FAILED = -1 };

/* Feeds one DTLS datagram. Returns NOOM_DTLS_DONE once (the call that completes the
 * handshake), NOOM_DTLS_PENDING before and after, NOOM_DTLS_FAILED on a fatal error. */
int noom_dtls_feed(noom_dtls_t *d, const uint8_t *p, size_t n);

/* Retransmits a flight whose timer ran out (call every ~100 ms during the handshake). */
void noom_dtls_tick(noom_dtls_t *d);

/* After DONE: checks the peer certificate's SHA-256 against fp and exports the keys
 * (client = the browser's write key+salt, server = ours) of the negotiated profile:
 * *gcm = 1 for AEAD_AES_128_GCM (16 + 12 bytes), 0 for AES128_CM_SHA1_80 (16 + 14).
 * Returns 0, or -1 for a wrong fingerprint or a missing SRTP profile. */
int noom_dtls_keys(noom_dtls_t *d, const uint8_t fp[32], uint8_t client[NOOM_SRTP_MASTER_LEN],
                   uint8_t server[NOOM_SRTP_MASTER_LEN], int *gcm);

#endif
