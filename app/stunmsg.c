/* STUN message codec (see stunmsg.h). */
#include "stunmsg.h"

#include <netinet/in.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"

uint32_t noom_stun_fingerprint(const uint8_t *msg, size_t len) {
  return (uint32_t)crc32(crc32(0L, Z_NULL, 0), msg, (uInt)len) ^ 0x5354554eu;
}

int noom_stunmsg_check(const uint8_t *m, size_t len) {
  if (len < NOOM_STUN_HEADER || (m[0] & 0xC0) != 0 || noom_rd32(m + 4) != NOOM_STUN_MAGIC) return -1;
  size_t mlen = noom_rd16(m + 2);
  return mlen % 4 == 0 && mlen + NOOM_STUN_HEADER == len ? 0 : -1;
}

int noom_stunmsg_walk(const uint8_t *m, size_t len, noom_stunmsg_attr_cb cb, void *u) {
  for (size_t off = NOOM_STUN_HEADER; off < len;) {
    if (len - off < 4) return -1;
    uint16_t type = noom_rd16(m + off), alen = noom_rd16(m + off + 2);
    size_t padded = ((size_t)alen + 3) & ~(size_t)3;
    if (padded > len - off - 4) return -1;
    if (type == NOOM_STUN_ATTR_FINGERPRINT) {
      /* Must be the last attribute and match the message before it. */
      if (alen != 4 || off + 8 != len || noom_rd32(m + off + 4) != noom_stun_fingerprint(m, off)) return -1;
    } else if (cb(type, m + off + 4, alen, off, u) != 0) {
      return -1;
    }
    off += 4 + padded;
  }
  return 0;
}

size_t noom_stunmsg_header(uint8_t *out, uint16_t type, const uint8_t *req) {
  noom_wr16(out, type);
  noom_wr16(out + 2, 0);
  memcpy(out + 4, req + 4, 16); /* magic cookie + transaction id */
  return NOOM_STUN_HEADER;
}

size_t noom_stunmsg_xor_mapped(uint8_t *out, size_t n, const uint8_t *req, const struct sockaddr *from) {
  noom_wr16(out + n, 0x0020); /* XOR-MAPPED-ADDRESS */
  if (from->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    noom_wr16(out + n + 2, 8);
    out[n + 4] = 0;
    out[n + 5] = 0x01;
    noom_wr16(out + n + 6, (uint16_t)(ntohs(a->sin_port) ^ (NOOM_STUN_MAGIC >> 16)));
    noom_wr32(out + n + 8, ntohl(a->sin_addr.s_addr) ^ NOOM_STUN_MAGIC);
    return n + 12;
  }
  if (from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    noom_wr16(out + n + 2, 20);
    out[n + 4] = 0;
    out[n + 5] = 0x02;
    noom_wr16(out + n + 6, (uint16_t)(ntohs(a->sin6_port) ^ (NOOM_STUN_MAGIC >> 16)));
    /* IPv6: xor with the cookie followed by the transaction id (§15.2). */
    for (int i = 0; i < 16; i++) out[n + 8 + i] = a->sin6_addr.s6_addr[i] ^ req[4 + i];
    return n + 24;
  }
  return 0;
}

size_t noom_stunmsg_finish(uint8_t *out, size_t n) {
  noom_wr16(out + 2, (uint16_t)(n + 8 - NOOM_STUN_HEADER));
  uint32_t fp = noom_stun_fingerprint(out, n);
  noom_wr16(out + n, NOOM_STUN_ATTR_FINGERPRINT);
  noom_wr16(out + n + 2, 4);
  noom_wr32(out + n + 4, fp);
  return n + 8;
}
