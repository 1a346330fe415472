/* Unit tests for the STUN Binding responder (RFC 5389), byte-exact. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stun.c"
#include "stunmsg.c"

static const uint8_t tid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* Builds a Binding request with optional attributes (already padded) and FINGERPRINT. */
static size_t request(uint8_t *out, const uint8_t *attrs, size_t alen, int fingerprint) {
  noom_wr16(out, 0x0001);
  noom_wr32(out + 4, NOOM_STUN_MAGIC);
  memcpy(out + 8, tid, 12);
  if (alen) memcpy(out + 20, attrs, alen);
  size_t n = 20 + alen;
  noom_wr16(out + 2, (uint16_t)alen);
  if (fingerprint) n = noom_stunmsg_finish(out, n);
  return n;
}

static struct sockaddr_in v4(const char *ip, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

/* Finds attribute type in a response; returns its value or NULL. */
static const uint8_t *find_attr(const uint8_t *msg, size_t len, uint16_t type, uint16_t *alen) {
  for (size_t off = 20; off + 4 <= len;) {
    uint16_t t = noom_rd16(msg + off), l = noom_rd16(msg + off + 2);
    if (t == type) {
      *alen = l;
      return msg + off + 4;
    }
    off += 4 + ((l + 3u) & ~3u);
  }
  return NULL;
}

static void stun_answers_binding_with_xor_mapped_address_v4(void **state) {
  (void)state;
  uint8_t req[64], out[NOOM_STUN_MAX_RESPONSE];
  size_t n = request(req, NULL, 0, 0);
  struct sockaddr_in from = v4("192.0.2.1", 32853);
  size_t r = noom_stun_respond(req, n, (struct sockaddr *)&from, out, sizeof out);
  assert_int_equal(r, 20 + 12 + 8 + 8);
  assert_int_equal(noom_rd16(out), 0x0101);
  assert_int_equal(noom_rd16(out + 2), r - 20);
  assert_memory_equal(out + 4, req + 4, 16);
  uint16_t alen;
  const uint8_t *x = find_attr(out, r, 0x0020, &alen);
  assert_non_null(x);
  assert_int_equal(alen, 8);
  /* RFC 5769 §2.2's values: port 32853 -> 0xa147, 192.0.2.1 -> e1 12 a6 43. */
  static const uint8_t want[] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
  assert_memory_equal(x, want, 8);
  const uint8_t *fp = find_attr(out, r, 0x8028, &alen);
  assert_non_null(fp);
  assert_int_equal(fp - out, (long)r - 4);
  assert_int_equal(noom_rd32(fp), noom_stun_fingerprint(out, r - 8));
}

static void stun_answers_v6_with_transaction_xor(void **state) {
  (void)state;
  uint8_t req[64], out[NOOM_STUN_MAX_RESPONSE];
  size_t n = request(req, NULL, 0, 1);
  struct sockaddr_in6 from = {0};
  from.sin6_family = AF_INET6;
  from.sin6_port = htons(32853);
  /* RFC 5769 §2.3: 2001:db8:1234:5678:11:2233:4455:6677 */
  inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &from.sin6_addr);
  size_t r = noom_stun_respond(req, n, (struct sockaddr *)&from, out, sizeof out);
  assert_true(r > 0);
  uint16_t alen;
  const uint8_t *x = find_attr(out, r, 0x0020, &alen);
  assert_non_null(x);
  assert_int_equal(alen, 20);
  static const uint8_t want[] = {0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
                                 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9};
  assert_memory_equal(x, want, 20);
}

static void stun_accepts_known_attributes_and_a_good_fingerprint(void **state) {
  (void)state;
  /* SOFTWARE (optional), PRIORITY (known), USERNAME (known): all fine. */
  static const uint8_t attrs[] = {0x80, 0x22, 0x00, 0x03, 'a', 'b', 'c', 0x00, 0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4,
                                  0x00, 0x06, 0x00, 0x02, 'u', 'x', 0x00, 0x00};
  uint8_t req[128], out[NOOM_STUN_MAX_RESPONSE];
  size_t n = request(req, attrs, sizeof attrs, 1);
  struct sockaddr_in from = v4("127.0.0.1", 5000);
  size_t r = noom_stun_respond(req, n, (struct sockaddr *)&from, out, sizeof out);
  assert_true(r > 0);
  assert_int_equal(noom_rd16(out), 0x0101);
}

static void stun_drops_malformed_and_non_binding_requests(void **state) {
  (void)state;
  uint8_t req[128], out[NOOM_STUN_MAX_RESPONSE];
  struct sockaddr_in from = v4("127.0.0.1", 5000);
  size_t n = request(req, NULL, 0, 1);
  /* Short, top bits set, bad cookie, wrong length, wrong method/class. */
  assert_int_equal(noom_stun_respond(req, 19, (struct sockaddr *)&from, out, sizeof out), 0);
  uint8_t bad[128];
  memcpy(bad, req, n);
  bad[0] |= 0x40;
  assert_int_equal(noom_stun_respond(bad, n, (struct sockaddr *)&from, out, sizeof out), 0);
  memcpy(bad, req, n);
  bad[4] ^= 1; /* no cookie: an RFC 3489 request, whose FINGERPRINT-looking tail is fine */
  noom_wr16(bad, 0x0002);
  assert_int_equal(noom_stun_respond(bad, n, (struct sockaddr *)&from, out, sizeof out), 0);
  memcpy(bad, req, n);
  noom_wr16(bad + 2, 4);
  assert_int_equal(noom_stun_respond(bad, n, (struct sockaddr *)&from, out, sizeof out), 0);
  memcpy(bad, req, n);
  noom_wr16(bad, 0x0011); /* Binding indication */
  assert_int_equal(noom_stun_respond(bad, n, (struct sockaddr *)&from, out, sizeof out), 0);
  /* A wrong FINGERPRINT, and one that is not the last attribute. */
  memcpy(bad, req, n);
  bad[n - 1] ^= 1;
  assert_int_equal(noom_stun_respond(bad, n, (struct sockaddr *)&from, out, sizeof out), 0);
  static const uint8_t after_fp[] = {0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0, 0x80, 0x22, 0x00, 0x00};
  size_t m = request(bad, after_fp, sizeof after_fp, 0);
  assert_int_equal(noom_stun_respond(bad, m, (struct sockaddr *)&from, out, sizeof out), 0);
  /* An attribute running past the end. */
  static const uint8_t overrun[] = {0x80, 0x22, 0x00, 0x40, 'x', 'x', 'x', 'x'};
  m = request(bad, overrun, sizeof overrun, 0);
  assert_int_equal(noom_stun_respond(bad, m, (struct sockaddr *)&from, out, sizeof out), 0);
  /* A too-small output buffer is refused rather than overrun. */
  assert_int_equal(noom_stun_respond(req, n, (struct sockaddr *)&from, out, 32), 0);
}

static void stun_answers_420_for_unknown_required_attributes(void **state) {
  (void)state;
  static const uint8_t attrs[] = {0x00, 0x03, 0x00, 0x04, 0, 0, 0, 4, /* CHANGE-REQUEST (RFC 3489) */
                                  0x7f, 0x01, 0x00, 0x00};
  uint8_t req[128], out[NOOM_STUN_MAX_RESPONSE];
  size_t n = request(req, attrs, sizeof attrs, 0);
  struct sockaddr_in from = v4("127.0.0.1", 5000);
  size_t r = noom_stun_respond(req, n, (struct sockaddr *)&from, out, sizeof out);
  assert_true(r > 0);
  assert_int_equal(noom_rd16(out), 0x0111);
  uint16_t alen;
  const uint8_t *e = find_attr(out, r, 0x0009, &alen);
  assert_non_null(e);
  assert_int_equal(e[2], 4);
  assert_int_equal(e[3], 20);
  const uint8_t *u = find_attr(out, r, 0x000A, &alen);
  assert_non_null(u);
  assert_int_equal(alen, 4);
  assert_int_equal(noom_rd16(u), 0x0003);
  assert_int_equal(noom_rd16(u + 2), 0x7f01);
  assert_int_equal(noom_rd32(out + r - 4), noom_stun_fingerprint(out, r - 8));
}

static void stun_answers_rfc3489_clients_with_mapped_address(void **state) {
  (void)state;
  uint8_t req[20] = {0x00, 0x01, 0x00, 0x00};
  for (int i = 4; i < 20; i++) req[i] = (uint8_t)i; /* a 16-byte transaction id, no cookie */
  uint8_t out[NOOM_STUN_MAX_RESPONSE];
  struct sockaddr_in from = v4("10.1.2.3", 4660);
  size_t r = noom_stun_respond(req, sizeof req, (struct sockaddr *)&from, out, sizeof out);
  static const uint8_t want[] = {0x01, 0x01, 0x00, 0x0c, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                 0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x12, 0x34, 10, 1, 2, 3};
  assert_int_equal(r, sizeof want);
  assert_memory_equal(out, want, sizeof want);
}

static void stun_fingerprint_matches_rfc5769_sample(void **state) {
  (void)state;
  /* RFC 5769 §2.1 sample request (fingerprint over everything before it). */
  static const uint8_t msg[] = {
      0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
      0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
      0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f,
      0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
      0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
      0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};
  assert_int_equal(noom_stun_fingerprint(msg, sizeof msg - 8), 0xe57a3bcf);
  uint8_t out[NOOM_STUN_MAX_RESPONSE];
  struct sockaddr_in from = v4("127.0.0.1", 5000);
  /* The whole sample (with ICE attributes and MESSAGE-INTEGRITY) gets a success answer. */
  assert_true(noom_stun_respond(msg, sizeof msg, (struct sockaddr *)&from, out, sizeof out) > 0);
  assert_int_equal(noom_rd16(out), 0x0101);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stun_answers_binding_with_xor_mapped_address_v4),
      cmocka_unit_test(stun_answers_v6_with_transaction_xor),
      cmocka_unit_test(stun_accepts_known_attributes_and_a_good_fingerprint),
      cmocka_unit_test(stun_drops_malformed_and_non_binding_requests),
      cmocka_unit_test(stun_answers_420_for_unknown_required_attributes),
      cmocka_unit_test(stun_answers_rfc3489_clients_with_mapped_address),
      cmocka_unit_test(stun_fingerprint_matches_rfc5769_sample),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
