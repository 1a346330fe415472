/*
 * ICE configuration for the browser (GET /config): our own STUN responder, extra STUN
 * URLs, and TURN URLs with time-limited credentials in the TURN REST scheme that
 * coturn's use-auth-secret checks: username "<expiry unix time>:<user>", credential
 * base64(HMAC-SHA1(secret, username)).
 */
#ifndef NOOM_ICE_H
#define NOOM_ICE_H

#include <stdint.h>

#include "sio.h"

typedef struct {
  int stun_port;           /* our responder's UDP port, 0 when off */
  const char *stun_urls;   /* comma-separated extra STUN URLs, or NULL */
  const char *turn_urls;   /* comma-separated TURN URLs, or NULL */
  const char *turn_secret; /* shared secret for TURN REST credentials */
  uint64_t turn_ttl;       /* credential lifetime in seconds */
} noom_ice_opts_t;

int noom_ice_init(sio_http_t *http, const noom_ice_opts_t *opts);

/* The TURN REST credential for username (NUL-terminated base64 into out, >= 29 bytes). */
void noom_ice_turn_credential(const char *secret, const char *username, char out[29]);

#endif
