/*
 * libFuzzer target: a datagram through the SFU's demultiplexer and RTP/RTCP readers
 * (app/media/rtp.c). RTP headers are rewritten on a copy and read back with the new
 * values; RTCP compounds are walked and NACKs expanded; nothing may read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../app/media/rtp.c"

static void nack(uint16_t seq, void *u) { *(size_t *)u += seq != 0xFFFF || 1; }

static int each(int pt, int fmt, uint8_t *pkt, size_t len, void *u) {
  if (len < 4 || pkt[1] != pt || (pkt[0] & 0x1F) != fmt) abort();
  size_t n = 0;
  if (pt == NOOM_RTCP_RTPFB && fmt == 1 && len >= 16) {
    noom_rtcp_nack_each(pkt, len, nack, &n);
    if (n > 17 * (len / 4)) abort();
  }
  if ((pt == NOOM_RTCP_RTPFB || pt == NOOM_RTCP_PSFB) && len >= 12) (void)noom_rtcp_fb_media(pkt);
  (*(size_t *)u)++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *v = malloc(size ? size : 1);
  if (!v) return 0;
  memcpy(v, data, size);
  int cls = noom_pkt_classify(v, size);
  noom_rtp_t h, h2;
  if (noom_rtp_parse(v, size, &h) == 0) {
    if (h.header_len > size || h.header_len < 12) abort();
    noom_rtp_rewrite(v, (uint8_t)(h.pt ^ 1), (uint16_t)(h.seq + 1), h.ts + 1, ~h.ssrc);
    if (noom_rtp_parse(v, size, &h2) != 0 || h2.pt != (h.pt ^ 1) || h2.seq != (uint16_t)(h.seq + 1) ||
        h2.ts != h.ts + 1 || h2.ssrc != ~h.ssrc || h2.marker != h.marker || h2.header_len != h.header_len)
      abort();
  }
  size_t count = 0;
  if (cls == NOOM_PKT_RTCP && noom_rtcp_walk(v, size, each, &count) == 0 && count == 0) abort();
  free(v);
  return 0;
}
