/*
 * ICE-lite check handling. MESSAGE-INTEGRITY is HMAC-SHA1 over the message up to the
 * attribute, with the header length set as if the attribute were the last one (RFC 5389
 * §15.4); FINGERPRINT, when present, follows it and is checked too.
 */
#include "icecheck.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "../stun.h"

enum { IC_USERNAME = 0x0006, IC_MI = 0x0008, IC_XOR_MAPPED = 0x0020, IC_USE_CANDIDATE = 0x0025,
       IC_FINGERPRINT = 0x8028 };

static uint16_t ic_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t ic_rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void ic_wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void ic_wr32(uint8_t *p, uint32_t v) {
  ic_wr16(p, (uint16_t)(v >> 16));
  ic_wr16(p + 2, (uint16_t)v);
}

int noom_icecheck_parse(const uint8_t *m, size_t len, noom_icecheck_t *c) {
  memset(c, 0, sizeof *c);
  if (len < NOOM_STUN_HEADER || len > 1500 || (m[0] & 0xC0) != 0 || ic_rd16(m) != 0x0001) return -1;
  if (ic_rd32(m + 4) != NOOM_STUN_MAGIC || ic_rd16(m + 2) + (size_t)NOOM_STUN_HEADER != len || ic_rd16(m + 2) % 4) return -1;
  for (size_t off = NOOM_STUN_HEADER; off < len;) {
    if (len - off < 4) return -1;
    uint16_t type = ic_rd16(m + off), alen = ic_rd16(m + off + 2);
    size_t padded = ((size_t)alen + 3) & ~(size_t)3;
    if (padded > len - off - 4) return -1;
    if (c->integrity_off && type != IC_FINGERPRINT) return -1; /* only FINGERPRINT may follow */
    if (type == IC_USERNAME) {
      c->username = m + off + 4;
      c->username_len = alen;
    } else if (type == IC_USE_CANDIDATE) {
      c->use_candidate = 1;
    } else if (type == IC_MI) {
      if (alen != 20) return -1;
      c->integrity_off = off;
    } else if (type == IC_FINGERPRINT) {
      if (alen != 4 || off + 8 != len || ic_rd32(m + off + 4) != noom_stun_fingerprint(m, off)) return -1;
    }
    off += 4 + padded;
  }
  return c->username && c->integrity_off ? 0 : -1;
}

/* HMAC-SHA1(pwd) of msg[0..off) with the length field claiming the message ends after a
 * MESSAGE-INTEGRITY at off. */
static void integrity(const uint8_t *msg, size_t off, const char *pwd, uint8_t mac[20]) {
  uint8_t buf[1500];
  unsigned int n = 0;
  if (off > sizeof buf) off = sizeof buf; /* parse() bounds requests to 1500 bytes */
  memcpy(buf, msg, off);
  ic_wr16(buf + 2, (uint16_t)(off + 24 - NOOM_STUN_HEADER));
  if (!HMAC(EVP_sha1(), pwd, (int)strlen(pwd), buf, off, mac, &n) || n != 20) memset(mac, 0, 20);
}

int noom_icecheck_verify(const uint8_t *msg, const noom_icecheck_t *c, const char *pwd) {
  uint8_t mac[20];
  integrity(msg, c->integrity_off, pwd, mac);
  return CRYPTO_memcmp(mac, msg + c->integrity_off + 4, 20) == 0;
}

size_t noom_icecheck_respond(const uint8_t *req, const struct sockaddr *from, const char *pwd, uint8_t *out, size_t cap) {
  if (cap < NOOM_ICECHECK_MAX_RESPONSE) return 0;
  ic_wr16(out, 0x0101);
  memcpy(out + 4, req + 4, 16);
  size_t n = NOOM_STUN_HEADER;
  ic_wr16(out + n, IC_XOR_MAPPED);
  if (from->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    ic_wr16(out + n + 2, 8);
    out[n + 4] = 0;
    out[n + 5] = 0x01;
    ic_wr16(out + n + 6, (uint16_t)(ntohs(a->sin_port) ^ (NOOM_STUN_MAGIC >> 16)));
    ic_wr32(out + n + 8, ntohl(a->sin_addr.s_addr) ^ NOOM_STUN_MAGIC);
    n += 12;
  } else if (from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    ic_wr16(out + n + 2, 20);
    out[n + 4] = 0;
    out[n + 5] = 0x02;
    ic_wr16(out + n + 6, (uint16_t)(ntohs(a->sin6_port) ^ (NOOM_STUN_MAGIC >> 16)));
    for (int i = 0; i < 16; i++) out[n + 8 + i] = a->sin6_addr.s6_addr[i] ^ req[4 + i];
    n += 24;
  } else {
    return 0;
  }
  uint8_t mac[20];
  integrity(out, n, pwd, mac);
  ic_wr16(out + n, IC_MI);
  ic_wr16(out + n + 2, 20);
  memcpy(out + n + 4, mac, 20);
  n += 24;
  ic_wr16(out + 2, (uint16_t)(n + 8 - NOOM_STUN_HEADER));
  uint32_t fp = noom_stun_fingerprint(out, n);
  ic_wr16(out + n, IC_FINGERPRINT);
  ic_wr16(out + n + 2, 4);
  ic_wr32(out + n + 4, fp);
  return n + 8;
}
