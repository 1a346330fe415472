/*
 * ICE-lite connectivity checks (RFC 8445 §2.5, §7.3; STUN RFC 5389): a Binding request
 * whose USERNAME is "<our ufrag>:<their ufrag>" and whose MESSAGE-INTEGRITY is keyed with
 * our password gets a success response (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY,
 * FINGERPRINT). We never send checks. Sans-IO.
 */
#ifndef NOOM_ICECHECK_H
#define NOOM_ICECHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NOOM_ICECHECK_MAX_RESPONSE 128

typedef struct {
  const uint8_t *username;  /* points into the request */
  size_t username_len;
  size_t integrity_off;     /* offset of the MESSAGE-INTEGRITY attribute */
  int use_candidate;
} noom_icecheck_t;

/* Parses a Binding request with USERNAME and MESSAGE-INTEGRITY (FINGERPRINT checked when
 * present). Returns 0, or -1 for anything else (to be dropped silently). */
int noom_icecheck_parse(const uint8_t *msg, size_t len, noom_icecheck_t *out);

/* 1 when the request's MESSAGE-INTEGRITY is right for pwd. */
int noom_icecheck_verify(const uint8_t *msg, const noom_icecheck_t *c, const char *pwd);

/* Writes the success response into out (cap >= NOOM_ICECHECK_MAX_RESPONSE). Returns its
 * length, 0 for an address family we do not answer. */
size_t noom_icecheck_respond(const uint8_t *req, const struct sockaddr *from, const char *pwd, uint8_t *out, size_t cap);

#endif
