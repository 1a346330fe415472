/*
 * libFuzzer target: an SDP offer through the SFU's reader (app/media/sdp.c), then our
 * answer to it (every recvonly m-line answered sendonly with an SSRC and msid). The
 * answer must fit, and must itself read back with the same m-lines and mids: nothing the
 * offer says can add or break a line of ours.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../app/media/sdp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static noom_sdp_offer_t o, back;
  static noom_sdp_answer_media_t am[NOOM_SDP_MAX_MEDIA];
  static char answer[256 * 1024];
  char *v = malloc(size ? size : 1); /* exact size: ASan sees reads past the end */
  if (!v) return 0;
  memcpy(v, data, size);
  const char *err = NULL;
  if (noom_sdp_parse_offer(v, size, &o, &err) == 0) {
    if (err || o.nmedia == 0 || o.nmedia > NOOM_SDP_MAX_MEDIA) abort();
    for (size_t i = 0; i < o.nmedia; i++) {
      am[i].dir = o.media[i].dir == NOOM_SDP_RECVONLY ? NOOM_SDP_SENDONLY : NOOM_SDP_RECVONLY;
      am[i].msid_stream = "pub";
      am[i].msid_track = "pub-track";
      am[i].ssrc = 1234 + (uint32_t)i;
    }
    const char *ips[] = {"127.0.0.1", "::1"};
    static const char fp[] = "AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB";
    noom_sdp_answer_t a = {"ufrag123", "pwd4567890123456789012", fp, ips, 2, 3479, 1, 2, am};
    size_t n = noom_sdp_write_answer(&o, &a, answer, sizeof answer);
    if (n == 0 || n >= sizeof answer || strlen(answer) != n) abort();
    noom_sdp_media_t first = o.media[0];
    if (noom_sdp_parse_offer(answer, n, &back, &err) == 0 && (back.nmedia != o.nmedia || strcmp(back.media[0].mid, first.mid)))
      abort();
  } else if (!err) {
    abort();
  }
  free(v);
  return 0;
}
