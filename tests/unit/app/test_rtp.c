/* Unit tests for the SFU's packet code: first-byte demux, RTP rewriting, RTCP walking
 * and feedback (app/media/rtp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "media/rtp.c"

static void demux(void **state) {
  (void)state;
  uint8_t stun[] = {0x00, 0x01, 0, 0}, dtls[] = {22, 0xfe, 0xfd, 0}, rtp[] = {0x80, 96, 0, 1}, rtcp[] = {0x81, 205, 0, 1};
  uint8_t other[] = {70, 0, 0, 0};
  assert_int_equal(noom_pkt_classify(stun, 4), NOOM_PKT_STUN);
  assert_int_equal(noom_pkt_classify(dtls, 4), NOOM_PKT_DTLS);
  assert_int_equal(noom_pkt_classify(rtp, 4), NOOM_PKT_RTP);
  assert_int_equal(noom_pkt_classify(rtcp, 4), NOOM_PKT_RTCP);
  assert_int_equal(noom_pkt_classify(other, 4), NOOM_PKT_OTHER);
  assert_int_equal(noom_pkt_classify(rtp, 0), NOOM_PKT_OTHER);
}

static void rewrite(void **state) {
  (void)state;
  /* Marker set, 1 CSRC, a one-byte-header extension of 1 word, 3 bytes of padding. */
  uint8_t p[] = {0xB1, 0x80 | 96, 0x03, 0xE8, 0, 1, 0x5F, 0x90, 0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 9,
                 0xBE, 0xDE, 0, 1, 0x10, 0xFF, 0, 0, 'v', 'p', '8', 0, 0, 3};
  noom_rtp_t h;
  assert_int_equal(noom_rtp_parse(p, sizeof p, &h), 0);
  assert_int_equal(h.pt, 96);
  assert_int_equal(h.marker, 1);
  assert_int_equal(h.seq, 1000);
  assert_int_equal(h.ts, 90000);
  assert_int_equal(h.ssrc, 0xDEADBEEF);
  assert_int_equal(h.header_len, 24);
  noom_rtp_rewrite(p, 100, 7, 123456, 42);
  assert_int_equal(noom_rtp_parse(p, sizeof p, &h), 0);
  assert_int_equal(h.pt, 100);
  assert_int_equal(h.marker, 1);
  assert_int_equal(h.seq, 7);
  assert_int_equal(h.ts, 123456);
  assert_int_equal(h.ssrc, 42);
  assert_memory_equal(p + 24, "vp8", 3); /* payload untouched */
  /* Lengths that run past the packet. */
  assert_int_equal(noom_rtp_parse(p, 20, &h), -1);
  p[sizeof p - 1] = 200;
  assert_int_equal(noom_rtp_parse(p, sizeof p, &h), -1);
  uint8_t v1[12] = {0x40};
  assert_int_equal(noom_rtp_parse(v1, 12, &h), -1);
}

static int seen[8], nseen;
static int collect(int pt, int fmt, uint8_t *pkt, size_t len, void *u) {
  (void)pkt, (void)len, (void)u;
  seen[nseen++] = pt * 100 + fmt;
  return 0;
}
static uint16_t nacked[40];
static int nnacked;
static void on_nack(uint16_t seq, void *u) {
  (void)u;
  nacked[nnacked++] = seq;
}

static void rtcp(void **state) {
  (void)state;
  uint8_t c[64];
  size_t n = 0;
  uint8_t rr[] = {0x80, 201, 0, 1, 0, 0, 0, 1};
  memcpy(c, rr, 8);
  n += 8;
  n += noom_rtcp_pli(c + n, 1, 0xABCD);
  uint8_t nack[] = {0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0xAB, 0xCD, 0xFF, 0xFF, 0x80, 0x01};
  memcpy(c + n, nack, sizeof nack);
  n += sizeof nack;
  nseen = 0;
  assert_int_equal(noom_rtcp_walk(c, n, collect, NULL), 0);
  assert_int_equal(nseen, 3);
  assert_int_equal(seen[0], 20100);
  assert_int_equal(seen[1], 20601);
  assert_int_equal(seen[2], 20501);
  assert_int_equal(noom_rtcp_fb_media(c + 8), 0xABCD);
  nnacked = 0;
  noom_rtcp_nack_each(nack, sizeof nack, on_nack, NULL);
  assert_int_equal(nnacked, 3); /* 65535, then +1 (wraps to 0) and +16 */
  assert_int_equal(nacked[0], 65535);
  assert_int_equal(nacked[1], 0);
  assert_int_equal(nacked[2], 15);
  /* Our NACK builder: 100, 101, 116 share one entry (BLP bits 0 and 15); 200 opens
   * another; read back, the same numbers come out. */
  uint16_t want[] = {100, 101, 116, 200, 100};
  uint8_t built[12 + 4 * 5];
  size_t bl = noom_rtcp_nack(built, 1, 2, want, 5);
  assert_int_equal(bl, 20);
  nnacked = 0;
  noom_rtcp_nack_each(built, bl, on_nack, NULL);
  assert_int_equal(nnacked, 4);
  assert_int_equal(nacked[0], 100);
  assert_int_equal(nacked[1], 101);
  assert_int_equal(nacked[2], 116);
  assert_int_equal(nacked[3], 200);
  nseen = 0;
  assert_int_equal(noom_rtcp_walk(built, bl, collect, NULL), 0);
  assert_int_equal(seen[0], 20501);
  /* A length that does not tile the datagram: nothing is acted on. */
  c[3] = 9;
  nseen = 0;
  assert_int_equal(noom_rtcp_walk(c, n, collect, NULL), -1);
  assert_int_equal(nseen, 0);
  /* REMB: 2.5 Mbit/s in mantissa/exponent form. */
  uint8_t remb[24];
  assert_int_equal(noom_rtcp_remb(remb, 1, 2500000, 77), 24);
  unsigned exp = remb[17] >> 2;
  uint32_t mant = (uint32_t)(remb[17] & 3) << 16 | (uint32_t)remb[18] << 8 | remb[19];
  assert_true((uint64_t)mant << exp <= 2500000 && ((uint64_t)mant + 1) << exp > 2500000);
  assert_memory_equal(remb + 12, "REMB", 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(demux), cmocka_unit_test(rewrite), cmocka_unit_test(rtcp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
