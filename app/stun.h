/*
 * A STUN Binding responder (RFC 5389 §7, §10, §15): answers a Binding request with the
 * address it came from (XOR-MAPPED-ADDRESS), so browsers on a LAN get a server-reflexive
 * candidate without a third-party server. Sans-IO: bytes in, bytes out; stunsrv.c puts it
 * on a UDP socket.
 */
#ifndef NOOM_STUN_H
#define NOOM_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stunmsg.h" /* NOOM_STUN_MAGIC, NOOM_STUN_HEADER, noom_stun_fingerprint */

#define NOOM_STUN_MAX_RESPONSE 128

/* Answers one datagram. Returns the response length written into out (cap >=
 * NOOM_STUN_MAX_RESPONSE), or 0 when the datagram must be dropped silently (not STUN,
 * not a Binding request, malformed, bad FINGERPRINT: RFC 5389 §7.3). A request with
 * unknown comprehension-required attributes gets a 420 error response listing them.
 * from is the datagram's source (IPv4 or IPv6). */
size_t noom_stun_respond(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out, size_t cap);

#endif
