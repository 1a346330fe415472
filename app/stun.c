/*
 * STUN Binding responder (RFC 5389). Checks, in the order of §7.3: the two top bits are
 * zero, the length is a multiple of 4 and matches, the magic cookie is present, the
 * method is Binding and the class a request; attributes are walked with their padding; a
 * FINGERPRINT must be last and correct (the codec is stunmsg.c, shared with ICE-lite). Unknown comprehension-required attributes
 * (type < 0x8000) get 420 with UNKNOWN-ATTRIBUTES (§7.3.1). The success response carries
 * XOR-MAPPED-ADDRESS, SOFTWARE and FINGERPRINT.
 */
#include "stun.h"

#include <netinet/in.h>
#include <string.h>

#include "bytes.h"

enum {
  BINDING_REQUEST = 0x0001,
  BINDING_SUCCESS = 0x0101,
  BINDING_ERROR = 0x0111,
  ATTR_MAPPED_ADDRESS = 0x0001,
  ATTR_USERNAME = 0x0006,
  ATTR_MESSAGE_INTEGRITY = 0x0008,
  ATTR_ERROR_CODE = 0x0009,
  ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
  ATTR_REALM = 0x0014,
  ATTR_NONCE = 0x0015,
  ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  ATTR_PRIORITY = 0x0024,
  ATTR_USE_CANDIDATE = 0x0025,
  ATTR_SOFTWARE = 0x8022,
};

/* Attributes we understand (or may ignore without harm, as a server without auth). */
static int known(uint16_t type) {
  switch (type) {
  case ATTR_MAPPED_ADDRESS:
  case ATTR_USERNAME:
  case ATTR_MESSAGE_INTEGRITY:
  case ATTR_ERROR_CODE:
  case ATTR_UNKNOWN_ATTRIBUTES:
  case ATTR_REALM:
  case ATTR_NONCE:
  case ATTR_XOR_MAPPED_ADDRESS:
  case ATTR_PRIORITY:
  case ATTR_USE_CANDIDATE:
    return 1;
  default:
    return type >= 0x8000; /* comprehension-optional */
  }
}

static size_t software(uint8_t *out, size_t n) {
  static const char sw[] = "noom"; /* 4 bytes: no padding needed */
  noom_wr16(out + n, ATTR_SOFTWARE);
  noom_wr16(out + n + 2, 4);
  memcpy(out + n + 4, sw, 4);
  return n + 8;
}

typedef struct {
  uint16_t type[4];
  size_t n;
} unknowns_t;

/* Notes up to four comprehension-required attributes we do not know (§7.3.1). */
static int note_unknown(uint16_t type, const uint8_t *val, uint16_t alen, size_t off, void *u) {
  (void)val, (void)alen, (void)off;
  unknowns_t *k = u;
  if (!known(type) && k->n < 4) k->type[k->n++] = type;
  return 0;
}

/* RFC 3489 clients (no magic cookie) get MAPPED-ADDRESS in the clear (RFC 5389 §12.2).
 * We cannot answer from another address, so CHANGE-REQUEST is ignored. */
static size_t respond_classic(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out) {
  if (noom_rd16(req) != BINDING_REQUEST || (noom_rd16(req + 2) % 4) != 0 || (size_t)noom_rd16(req + 2) + NOOM_STUN_HEADER != len ||
      from->sa_family != AF_INET)
    return 0;
  const struct sockaddr_in *a = (const struct sockaddr_in *)from;
  size_t n = noom_stunmsg_header(out, BINDING_SUCCESS, req);
  noom_wr16(out + n, ATTR_MAPPED_ADDRESS);
  noom_wr16(out + n + 2, 8);
  out[n + 4] = 0;
  out[n + 5] = 0x01;
  memcpy(out + n + 6, &a->sin_port, 2);
  memcpy(out + n + 8, &a->sin_addr.s_addr, 4);
  n += 12;
  noom_wr16(out + 2, (uint16_t)(n - NOOM_STUN_HEADER));
  return n;
}

size_t noom_stun_respond(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out, size_t cap) {
  if (cap < NOOM_STUN_MAX_RESPONSE || len < NOOM_STUN_HEADER || len > 2048) return 0;
  if ((req[0] & 0xC0) != 0) return 0;
  if (noom_rd32(req + 4) != NOOM_STUN_MAGIC) return respond_classic(req, len, from, out);
  if (noom_stunmsg_check(req, len) != 0 || noom_rd16(req) != BINDING_REQUEST) return 0;
  unknowns_t u = {.n = 0};
  if (noom_stunmsg_walk(req, len, note_unknown, &u) != 0) return 0;
  size_t n;
  if (u.n > 0) {
    n = noom_stunmsg_header(out, BINDING_ERROR, req);
    static const char reason[] = "Unknown Attribute"; /* 17 bytes -> padded to 20 */
    noom_wr16(out + n, ATTR_ERROR_CODE);
    noom_wr16(out + n + 2, (uint16_t)(4 + sizeof reason - 1));
    out[n + 4] = out[n + 5] = 0;
    out[n + 6] = 4;  /* class: 4xx */
    out[n + 7] = 20; /* number: 420 */
    memcpy(out + n + 8, reason, sizeof reason - 1);
    memset(out + n + 8 + sizeof reason - 1, 0, 3);
    n += 8 + 20;
    noom_wr16(out + n, ATTR_UNKNOWN_ATTRIBUTES);
    noom_wr16(out + n + 2, (uint16_t)(2 * u.n));
    for (size_t i = 0; i < u.n; i++) noom_wr16(out + n + 4 + 2 * i, u.type[i]);
    size_t body = 2 * u.n;
    if (body % 4) memset(out + n + 4 + body, 0, 4 - body % 4);
    n += 4 + ((body + 3) & ~(size_t)3);
    return noom_stunmsg_finish(out, software(out, n));
  }
  n = noom_stunmsg_header(out, BINDING_SUCCESS, req);
  n = noom_stunmsg_xor_mapped(out, n, req, from);
  if (n == 0) return 0;
  return noom_stunmsg_finish(out, software(out, n));
}
