/*
 * The SRTP/SRTCP policy the SFU uses for a DTLS-SRTP profile: AES-128-GCM (16-byte tag) or
 * AES-128-CM with HMAC-SHA1-80, any SSRC, a 1024-packet replay window. Header-only so that
 * bench/ (its own project, no app objects) protects and unprotects exactly like the app.
 */
#ifndef NOOM_SRTP_POLICY_H
#define NOOM_SRTP_POLICY_H

#include <srtp2/srtp.h>
#include <string.h>

/* Fills pol for key (master key then salt: 28 bytes for GCM, 30 for CM); pol->key
 * points at key, which must outlive srtp_create. */
static inline void noom_srtp_policy(srtp_policy_t *pol, unsigned char *key, int inbound, int gcm) {
  memset(pol, 0, sizeof *pol);
  if (gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
  }
  pol->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  pol->key = key;
  pol->window_size = 1024;
}

#endif
