/*
 * STUN Binding responder (RFC 5389). Checks, in the order of §7.3: the two top bits are
 * zero, the length is a multiple of 4 and matches, the magic cookie is present, the
 * method is Binding and the class a request; attributes are walked with their padding; a
 * FINGERPRINT must be last and correct. Unknown comprehension-required attributes
 * (type < 0x8000) get 420 with UNKNOWN-ATTRIBUTES (§7.3.1). The success response carries
 * XOR-MAPPED-ADDRESS, SOFTWARE and FINGERPRINT.
 */
#include "stun.h"

#include <netinet/in.h>
#include <string.h>
#include <zlib.h>

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
  ATTR_FINGERPRINT = 0x8028,
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v) {
  wr16(p, (uint16_t)(v >> 16));
  wr16(p + 2, (uint16_t)v);
}

uint32_t noom_stun_fingerprint(const uint8_t *msg, size_t len) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), msg, (uInt)len) ^ 0x5354554eu;
}

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

/* Appends the FINGERPRINT attribute, fixing up the header length first (§15.5). */
static size_t finish(uint8_t *out, size_t n) {
  wr16(out + 2, (uint16_t)(n + 8 - NOOM_STUN_HEADER));
  uint32_t fp = noom_stun_fingerprint(out, n);
  wr16(out + n, ATTR_FINGERPRINT);
  wr16(out + n + 2, 4);
  wr32(out + n + 4, fp);
  return n + 8;
}

static size_t header(uint8_t *out, uint16_t type, const uint8_t *req) {
  wr16(out, type);
  wr16(out + 2, 0);
  memcpy(out + 4, req + 4, 16); /* magic cookie + transaction id */
  return NOOM_STUN_HEADER;
}

static size_t software(uint8_t *out, size_t n) {
  static const char sw[] = "noom"; /* 4 bytes: no padding needed */
  wr16(out + n, ATTR_SOFTWARE);
  wr16(out + n + 2, 4);
  memcpy(out + n + 4, sw, 4);
  return n + 8;
}

/* RFC 3489 clients (no magic cookie) get MAPPED-ADDRESS in the clear (RFC 5389 §12.2).
 * We cannot answer from another address, so CHANGE-REQUEST is ignored. */
static size_t respond_classic(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out) {
  if (rd16(req) != BINDING_REQUEST || (rd16(req + 2) % 4) != 0 || (size_t)rd16(req + 2) + NOOM_STUN_HEADER != len ||
      from->sa_family != AF_INET)
    return 0;
  const struct sockaddr_in *a = (const struct sockaddr_in *)from;
  size_t n = header(out, BINDING_SUCCESS, req);
  wr16(out + n, ATTR_MAPPED_ADDRESS);
  wr16(out + n + 2, 8);
  out[n + 4] = 0;
  out[n + 5] = 0x01;
  memcpy(out + n + 6, &a->sin_port, 2);
  memcpy(out + n + 8, &a->sin_addr.s_addr, 4);
  n += 12;
  wr16(out + 2, (uint16_t)(n - NOOM_STUN_HEADER));
  return n;
}

size_t noom_stun_respond(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out, size_t cap) {
  if (cap < NOOM_STUN_MAX_RESPONSE || len < NOOM_STUN_HEADER || len > 2048) return 0;
  if ((req[0] & 0xC0) != 0) return 0;
  if (rd32(req + 4) != NOOM_STUN_MAGIC) return respond_classic(req, len, from, out);
  size_t mlen = rd16(req + 2);
  if (mlen % 4 != 0 || mlen + NOOM_STUN_HEADER != len) return 0;
  if (rd16(req) != BINDING_REQUEST) return 0;
  uint16_t unknown[4];
  size_t nunknown = 0;
  for (size_t off = NOOM_STUN_HEADER; off < len;) {
    if (len - off < 4) return 0;
    uint16_t type = rd16(req + off), alen = rd16(req + off + 2);
    size_t padded = ((size_t)alen + 3) & ~(size_t)3;
    if (padded > len - off - 4) return 0;
    if (type == ATTR_FINGERPRINT) {
      /* Must be the last attribute and match the message before it. */
      if (alen != 4 || off + 8 != len || rd32(req + off + 4) != noom_stun_fingerprint(req, off)) return 0;
    } else if (!known(type) && nunknown < 4) {
      unknown[nunknown++] = type;
    }
    off += 4 + padded;
  }
  size_t n;
  if (nunknown > 0) {
    n = header(out, BINDING_ERROR, req);
    static const char reason[] = "Unknown Attribute"; /* 17 bytes -> padded to 20 */
    wr16(out + n, ATTR_ERROR_CODE);
    wr16(out + n + 2, (uint16_t)(4 + sizeof reason - 1));
    out[n + 4] = out[n + 5] = 0;
    out[n + 6] = 4;  /* class: 4xx */
    out[n + 7] = 20; /* number: 420 */
    memcpy(out + n + 8, reason, sizeof reason - 1);
    memset(out + n + 8 + sizeof reason - 1, 0, 3);
    n += 8 + 20;
    wr16(out + n, ATTR_UNKNOWN_ATTRIBUTES);
    wr16(out + n + 2, (uint16_t)(2 * nunknown));
    for (size_t i = 0; i < nunknown; i++) wr16(out + n + 4 + 2 * i, unknown[i]);
    size_t body = 2 * nunknown;
    if (body % 4) memset(out + n + 4 + body, 0, 4 - body % 4);
    n += 4 + ((body + 3) & ~(size_t)3);
    return finish(out, software(out, n));
  }
  n = header(out, BINDING_SUCCESS, req);
  wr16(out + n, ATTR_XOR_MAPPED_ADDRESS);
  if (from->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    wr16(out + n + 2, 8);
    out[n + 4] = 0;
    out[n + 5] = 0x01;
    wr16(out + n + 6, (uint16_t)(ntohs(a->sin_port) ^ (NOOM_STUN_MAGIC >> 16)));
    wr32(out + n + 8, ntohl(a->sin_addr.s_addr) ^ NOOM_STUN_MAGIC);
    n += 12;
  } else if (from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    wr16(out + n + 2, 20);
    out[n + 4] = 0;
    out[n + 5] = 0x02;
    wr16(out + n + 6, (uint16_t)(ntohs(a->sin6_port) ^ (NOOM_STUN_MAGIC >> 16)));
    /* IPv6: xor with the cookie followed by the transaction id (§15.2). */
    for (int i = 0; i < 16; i++) out[n + 8 + i] = a->sin6_addr.s6_addr[i] ^ req[4 + i];
    n += 24;
  } else {
    return 0;
  }
  return finish(out, software(out, n));
}
