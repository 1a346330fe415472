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

#include "../bytes.h"
#include "../stunmsg.h"

enum { IC_USERNAME = 0x0006, IC_MI = 0x0008, IC_USE_CANDIDATE = 0x0025 };

/* One attribute of a check; only FINGERPRINT (checked by the walk) may follow
 * MESSAGE-INTEGRITY. */
static int check_attr(uint16_t type, const uint8_t *val, uint16_t alen, size_t off, void *u) {
  noom_icecheck_t *c = u;
  if (c->integrity_off) return -1;
  if (type == IC_USERNAME) {
    c->username = val;
    c->username_len = alen;
  } else if (type == IC_USE_CANDIDATE) {
    c->use_candidate = 1;
  } else if (type == IC_MI) {
    if (alen != 20) return -1;
    c->integrity_off = off;
  }
  return 0;
}

int noom_icecheck_parse(const uint8_t *m, size_t len, noom_icecheck_t *c) {
  memset(c, 0, sizeof *c);
  if (len > 1500 || noom_stunmsg_check(m, len) != 0 || noom_rd16(m) != 0x0001) return -1;
  if (noom_stunmsg_walk(m, len, check_attr, c) != 0) return -1;
  return c->username && c->integrity_off ? 0 : -1;
}

/* HMAC-SHA1(pwd) of msg[0..off) with the length field claiming the message ends after a
 * MESSAGE-INTEGRITY at off. */
static void integrity(const uint8_t *msg, size_t off, const char *pwd, uint8_t mac[20]) {
  uint8_t buf[1500];
  unsigned int n = 0;
  if (off > sizeof buf) off = sizeof buf; /* parse() bounds requests to 1500 bytes */
  memcpy(buf, msg, off);
  noom_wr16(buf + 2, (uint16_t)(off + 24 - NOOM_STUN_HEADER));
  if (!HMAC(EVP_sha1(), pwd, (int)strlen(pwd), buf, off, mac, &n) || n != 20) memset(mac, 0, 20);
}

int noom_icecheck_verify(const uint8_t *msg, const noom_icecheck_t *c, const char *pwd) {
  uint8_t mac[20];
  integrity(msg, c->integrity_off, pwd, mac);
  return CRYPTO_memcmp(mac, msg + c->integrity_off + 4, 20) == 0;
}

size_t noom_icecheck_respond(const uint8_t *req, const struct sockaddr *from, const char *pwd, uint8_t *out, size_t cap) {
  if (cap < NOOM_ICECHECK_MAX_RESPONSE) return 0;
  size_t n = noom_stunmsg_xor_mapped(out, noom_stunmsg_header(out, 0x0101, req), req, from);
  if (n == 0) return 0;
  uint8_t mac[20];
  integrity(out, n, pwd, mac);
  noom_wr16(out + n, IC_MI);
  noom_wr16(out + n + 2, 20);
  memcpy(out + n + 4, mac, 20);
  n += 24;
  return noom_stunmsg_finish(out, n);
}
