/* Unit tests for the SFU's SDP reader and answer writer (app/media/sdp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "media/sdp.c"

static noom_sdp_offer_t o;
static char answer[256 * 1024];

/* A Chromium offer (fuzz/corpus/sdp/chrome-full.sdp: sendonly audio+video, then
 * recvonly audio+video, every codec Chromium has). */
static char *read_corpus(const char *name, size_t *len) {
  char path[1024];
  const char *here = __FILE__;
  const char *cut = strstr(here, "tests/unit/app/");
  snprintf(path, sizeof path, "%.*sfuzz/corpus/sdp/%s", (int)(cut - here), here, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = malloc(1 << 20);
  *len = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

static const char *head =
    "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB\r\n";

static int parse(const char *sdp, const char **err) { return noom_sdp_parse_offer(sdp, strlen(sdp), &o, err); }

static void chrome_offer(void **state) {
  (void)state;
  size_t len;
  char *sdp = read_corpus("chrome-full.sdp", &len);
  const char *err = NULL;
  assert_int_equal(noom_sdp_parse_offer(sdp, len, &o, &err), 0);
  assert_null(err);
  assert_int_equal(o.nmedia, 4);
  assert_true(o.has_fingerprint);
  assert_true(o.ufrag[0] && o.pwd[0]);
  assert_int_equal(o.media[0].kind, NOOM_SDP_AUDIO);
  assert_int_equal(o.media[0].dir, NOOM_SDP_SENDONLY);
  assert_string_equal(o.media[0].codec, "opus");
  assert_int_equal(o.media[0].pt, 111);
  assert_int_equal(o.media[0].channels, 2);
  assert_string_equal(o.media[0].fmtp, "minptime=10;useinbandfec=1");
  assert_true(o.media[0].ssrc != 0);
  assert_int_equal(o.media[1].kind, NOOM_SDP_VIDEO);
  assert_string_equal(o.media[1].codec, "VP8");
  assert_int_equal(o.media[1].pt, 96);
  assert_int_equal(o.media[3].dir, NOOM_SDP_RECVONLY);
  free(sdp);
}

static void answer_mirrors_offer(void **state) {
  (void)state;
  size_t len;
  char *sdp = read_corpus("chrome-full.sdp", &len);
  const char *err = NULL;
  assert_int_equal(noom_sdp_parse_offer(sdp, len, &o, &err), 0);
  noom_sdp_answer_media_t am[4] = {
      {NOOM_SDP_RECVONLY, NULL, NULL, 0, 0},
      {NOOM_SDP_RECVONLY, NULL, NULL, 0, 0},
      {NOOM_SDP_SENDONLY, "peerA", "peerA-audio", 1111, 0},
      {NOOM_SDP_SENDONLY, "peerA", "peerA-video", 2222, 0},
  };
  const char *ips[] = {"192.0.2.1", "198.51.100.7"};
  noom_sdp_answer_t a = {"uf", "pw", "AA:BB", ips, 2, 3479, 42, 7, am};
  size_t n = noom_sdp_write_answer(&o, &a, answer, sizeof answer);
  assert_true(n > 0);
  char group[256];
  snprintf(group, sizeof group, "a=group:BUNDLE %s %s %s %s\r\n", o.media[0].mid, o.media[1].mid, o.media[2].mid,
           o.media[3].mid);
  assert_non_null(strstr(answer, group));
  assert_non_null(strstr(answer, "a=ice-lite\r\n"));
  assert_non_null(strstr(answer, "a=setup:passive\r\n"));
  assert_non_null(strstr(answer, "a=rtpmap:111 opus/48000/2\r\n"));
  assert_non_null(strstr(answer, "a=rtpmap:96 VP8/90000\r\n"));
  assert_null(strstr(answer, "rtx/90000")); /* one codec per kind; RTX only with an RTX SSRC */
  /* The offer's rtx format for VP8 (apt=96) is found; a subscriber leg with an RTX SSRC
   * gets it (m-line, rtpmap, fmtp, FID group); a publisher's m-line (recvonly) never. */
  assert_int_equal(o.media[1].rtx_pt, 97);
  assert_int_equal(o.media[3].rtx_pt, 97);
  assert_int_equal(o.media[0].rtx_pt, -1);
  am[3].rtx_ssrc = 3333;
  am[1].rtx_ssrc = 4444;
  assert_true(noom_sdp_write_answer(&o, &a, answer, sizeof answer) > 0);
  assert_non_null(strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"));
  assert_non_null(strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"));
  assert_non_null(strstr(answer, "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"));
  assert_non_null(strstr(answer, "a=ssrc-group:FID 2222 3333\r\n"));
  assert_non_null(strstr(answer, "a=ssrc:3333 msid:peerA peerA-video\r\n"));
  assert_null(strstr(answer, "4444"));
  am[3].rtx_ssrc = am[1].rtx_ssrc = 0;
  assert_true(noom_sdp_write_answer(&o, &a, answer, sizeof answer) > 0);
  assert_non_null(strstr(answer, "a=ssrc:2222 msid:peerA peerA-video\r\n"));
  assert_non_null(strstr(answer, "a=candidate:1 1 udp 2130706431 192.0.2.1 3479 typ host\r\n"));
  assert_non_null(strstr(answer, "a=candidate:2 1 udp 2130706430 198.51.100.7 3479 typ host\r\n"));
  assert_non_null(strstr(answer, "a=recvonly\r\n"));
  /* Too small a buffer: 0, never a cut answer. */
  assert_int_equal(noom_sdp_write_answer(&o, &a, answer, 100), 0);
  free(sdp);
}

static void rejected_and_h264(void **state) {
  (void)state;
  char sdp[4096];
  const char *err;
  snprintf(sdp, sizeof sdp,
           "%sm=video 9 UDP/TLS/RTP/SAVPF 102 127\r\na=mid:v\r\na=rtpmap:127 H264/90000\r\n"
           "a=fmtp:127 packetization-mode=0\r\na=rtpmap:102 H264/90000\r\n"
           "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\na=sendonly\r\n"
           "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:gone\r\na=rtpmap:111 opus/48000/2\r\n"
           "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n",
           head);
  assert_int_equal(parse(sdp, &err), 0);
  assert_int_equal(o.nmedia, 3);
  assert_string_equal(o.media[0].codec, "H264");
  assert_int_equal(o.media[0].pt, 102);
  assert_true(o.media[1].rejected);
  assert_true(o.media[2].rejected);
  noom_sdp_answer_media_t am[3] = {{NOOM_SDP_RECVONLY, NULL, NULL, 0, 0}, {0, NULL, NULL, 0, 0}, {0, NULL, NULL, 0, 0}};
  const char *ips[] = {"127.0.0.1"};
  noom_sdp_answer_t a = {"uf", "pw", "AA", ips, 1, 9, 1, 1, am};
  assert_true(noom_sdp_write_answer(&o, &a, answer, sizeof answer) > 0);
  assert_non_null(strstr(answer, "a=group:BUNDLE v\r\n"));
  assert_non_null(strstr(answer, "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"));
  assert_non_null(strstr(answer, "m=application 0 "));
}

static void hostile_offers(void **state) {
  (void)state;
  const char *err;
  /* 10,000 m-lines: refused at the m-line cap, not parsed to the end. */
  size_t cap = 1 << 20, n = 0;
  char *big = malloc(cap);
  n += (size_t)snprintf(big, cap, "%s", head);
  for (int i = 0; i < 10000 && n + 128 < cap; i++)
    n += (size_t)snprintf(big + n, cap - n, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:%d\r\n", i);
  assert_int_equal(noom_sdp_parse_offer(big, 200 * 1024, &o, &err), -1);
  assert_string_equal(err, "the offer has too many m-lines");
  assert_int_equal(noom_sdp_parse_offer(big, n, &o, &err), -1);
  assert_string_equal(err, "the offer is too large");
  free(big);
  char sdp[2048];
  /* A mid that would add a line to our answer. */
  snprintf(sdp, sizeof sdp, "%sm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0 x\r\na=rtpmap:111 opus/48000/2\r\n", head);
  assert_int_equal(parse(sdp, &err), -1);
  assert_string_equal(err, "bad mid");
  snprintf(sdp, sizeof sdp, "%sm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n", head);
  assert_int_equal(parse(sdp, &err), -1);
  assert_string_equal(err, "duplicate mid");
  assert_int_equal(parse("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n", &err), -1);
  assert_string_equal(err, "the offer has no ICE credentials");
  assert_int_equal(parse("v=0\r\na=ice-ufrag:ab\r\na=ice-pwd:cd\r\nm=audio 9 UDP/TLS/RTP/SAVPF 1\r\na=mid:0\r\n", &err), -1);
  assert_string_equal(err, "the offer has no sha-256 DTLS fingerprint");
  assert_int_equal(parse("hello", &err), -1);
  assert_int_equal(parse("v=0\r\nm=audio 99999999999999 X 1\r\n", &err), -1);
  /* An fmtp with odd bytes is ignored, not echoed. */
  snprintf(sdp, sizeof sdp, "%sm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 a\x01b\r\n", head);
  assert_int_equal(parse(sdp, &err), 0);
  assert_string_equal(o.media[0].fmtp, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chrome_offer),
      cmocka_unit_test(answer_mirrors_offer),
      cmocka_unit_test(rejected_and_h264),
      cmocka_unit_test(hostile_offers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
