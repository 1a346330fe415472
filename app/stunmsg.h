/*
 * The STUN message codec (RFC 5389) shared by the Binding responder (stun.c) and the
 * SFU's ICE-lite checks (media/icecheck.c): header checks, the attribute walk with its
 * padding and FINGERPRINT rule, and the response pieces both send. Sans-IO.
 */
#ifndef NOOM_STUNMSG_H
#define NOOM_STUNMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NOOM_STUN_MAGIC 0x2112A442u
#define NOOM_STUN_HEADER 20
#define NOOM_STUN_ATTR_FINGERPRINT 0x8028

/* The FINGERPRINT value of msg[0..len) (CRC-32 xor 0x5354554e, §15.5). */
uint32_t noom_stun_fingerprint(const uint8_t *msg, size_t len);

/* 0 when msg[0..len) has a STUN header (§6): at least 20 bytes, the two top bits zero,
 * the magic cookie, a length that is a multiple of 4 and matches len; else -1. */
int noom_stunmsg_check(const uint8_t *msg, size_t len);

/* Called for each attribute but FINGERPRINT: its type, value (alen bytes, unpadded) and
 * offset of the attribute in the message. Nonzero stops the walk, which then fails. */
typedef int (*noom_stunmsg_attr_cb)(uint16_t type, const uint8_t *val, uint16_t alen, size_t off, void *u);

/* Walks the attributes of a checked message (noom_stunmsg_check). A FINGERPRINT must be
 * the last attribute and correct. Returns 0, or -1 for a malformed message. */
int noom_stunmsg_walk(const uint8_t *msg, size_t len, noom_stunmsg_attr_cb cb, void *u);

/* Writes a response header of type answering req (same transaction id), length 0.
 * Returns NOOM_STUN_HEADER. */
size_t noom_stunmsg_header(uint8_t *out, uint16_t type, const uint8_t *req);

/* Appends XOR-MAPPED-ADDRESS for from (IPv4 or IPv6; §15.2) at out + n. Returns the new
 * length (at most n + 24), or 0 for another address family. */
size_t noom_stunmsg_xor_mapped(uint8_t *out, size_t n, const uint8_t *req, const struct sockaddr *from);

/* Appends FINGERPRINT at out + n, fixing up the header length first (§15.5). Returns the
 * final length, n + 8. */
size_t noom_stunmsg_finish(uint8_t *out, size_t n);

#endif
