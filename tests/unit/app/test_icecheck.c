/* Unit tests for the SFU's ICE-lite checks (app/media/icecheck.c): a Chromium-shaped
 * Binding request is parsed and verified, the response carries the mapped address, a
 * MESSAGE-INTEGRITY keyed with our password and a FINGERPRINT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <cmocka.h>

#include "stun.c"
#include "media/icecheck.c"
#include "stunmsg.c"

/* A Binding request as Chromium sends it: USERNAME, PRIORITY, USE-CANDIDATE,
 * MESSAGE-INTEGRITY (key: the answerer's ice-pwd), FINGERPRINT. */
static size_t make_check(uint8_t *m, const char *user, const char *pwd) {
  size_t n = 20, ul = strlen(user);
  m[0] = 0;
  m[1] = 1;
  memcpy(m + 4, "\x21\x12\xA4\x42" "0123456789ab", 16);
  noom_wr16(m + n, 0x0006);
  noom_wr16(m + n + 2, (uint16_t)ul);
  memcpy(m + n + 4, user, ul);
  n += 4 + ((ul + 3) & ~3u);
  noom_wr16(m + n, 0x0025);
  noom_wr16(m + n + 2, 0);
  n += 4;
  noom_wr16(m + 2, (uint16_t)(n + 24 - 20));
  unsigned int ml = 20;
  HMAC(EVP_sha1(), pwd, (int)strlen(pwd), m, n, m + n + 4, &ml);
  noom_wr16(m + n, 0x0008);
  noom_wr16(m + n + 2, 20);
  n += 24;
  noom_wr16(m + 2, (uint16_t)(n + 8 - 20));
  uint32_t fp = noom_stun_fingerprint(m, n);
  noom_wr16(m + n, 0x8028);
  noom_wr16(m + n + 2, 4);
  noom_wr32(m + n + 4, fp);
  return n + 8;
}

static void ice_checks(void **state) {
  (void)state;
  uint8_t m[256], out[NOOM_ICECHECK_MAX_RESPONSE];
  size_t n = make_check(m, "ours:theirs", "serverpassword");
  noom_icecheck_t c;
  assert_int_equal(noom_icecheck_parse(m, n, &c), 0);
  assert_int_equal(c.username_len, 11);
  assert_memory_equal(c.username, "ours:theirs", 11);
  assert_true(c.use_candidate);
  assert_true(noom_icecheck_verify(m, &c, "serverpassword"));
  assert_false(noom_icecheck_verify(m, &c, "wrong"));
  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(40000)};
  from.sin_addr.s_addr = htonl(0x7F000001);
  size_t rn = noom_icecheck_respond(m, (struct sockaddr *)&from, "serverpassword", out, sizeof out);
  assert_true(rn > 0);
  assert_int_equal(noom_rd16(out), 0x0101);
  assert_memory_equal(out + 8, "0123456789ab", 12);
  /* XOR-MAPPED-ADDRESS gives back 127.0.0.1:40000. */
  assert_int_equal(noom_rd16(out + 20), 0x0020);
  assert_int_equal(noom_rd16(out + 26) ^ 0x2112, 40000);
  assert_int_equal(noom_rd32(out + 28) ^ 0x2112A442, 0x7F000001);
  /* Its MESSAGE-INTEGRITY is right for our password, its FINGERPRINT for its bytes. */
  uint8_t mac[20];
  integrity(out, 32, "serverpassword", mac);
  assert_memory_equal(out + 36, mac, 20);
  assert_int_equal(noom_rd32(out + rn - 4), noom_stun_fingerprint(out, rn - 8));
  /* A flipped bit anywhere: no longer a valid check. */
  m[25] ^= 1;
  assert_true(noom_icecheck_parse(m, n, &c) != 0 || !noom_icecheck_verify(m, &c, "serverpassword"));
  /* No MESSAGE-INTEGRITY: refused. */
  uint8_t bare[] = {0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  assert_int_equal(noom_icecheck_parse(bare, sizeof bare, &c), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(ice_checks)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
