/* RTP/RTCP parsing and the feedback packets the SFU builds (see rtp.h). */
#include "rtp.h"

#include <string.h>

#include "../bytes.h"

int noom_pkt_classify(const uint8_t *p, size_t len) {
  if (len == 0) return NOOM_PKT_OTHER;
  uint8_t b = p[0];
  if (b <= 3) return NOOM_PKT_STUN;
  if (b >= 20 && b <= 63) return NOOM_PKT_DTLS;
  if (b >= 128 && b <= 191) {
    if (len < 4) return NOOM_PKT_OTHER;
    return p[1] >= 192 && p[1] <= 223 ? NOOM_PKT_RTCP : NOOM_PKT_RTP;
  }
  return NOOM_PKT_OTHER;
}

int noom_rtp_parse(const uint8_t *p, size_t len, noom_rtp_t *r) {
  if (len < 12 || (p[0] >> 6) != 2) return -1;
  size_t h = 12 + 4 * (size_t)(p[0] & 0x0F);
  if (h > len) return -1;
  if (p[0] & 0x10) {
    if (h + 4 > len) return -1;
    h += 4 + 4 * (size_t)noom_rd16(p + h + 2);
    if (h > len) return -1;
  }
  if (p[0] & 0x20) { /* padding: the last byte counts it */
    size_t pad = p[len - 1];
    if (pad == 0 || h + pad > len) return -1;
  }
  r->pt = p[1] & 0x7F;
  r->marker = p[1] >> 7;
  r->seq = noom_rd16(p + 2);
  r->ts = noom_rd32(p + 4);
  r->ssrc = noom_rd32(p + 8);
  r->header_len = h;
  return 0;
}

void noom_rtp_rewrite(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  p[1] = (uint8_t)((p[1] & 0x80) | (pt & 0x7F));
  noom_wr16(p + 2, seq);
  noom_wr32(p + 4, ts);
  noom_wr32(p + 8, ssrc);
}

int noom_rtcp_walk(uint8_t *p, size_t len, noom_rtcp_cb cb, void *u) {
  if (len < 4) return -1;
  for (size_t off = 0; off < len;) { /* check first, act after */
    if (len - off < 4 || (p[off] >> 6) != 2) return -1;
    size_t n = 4 + 4 * (size_t)noom_rd16(p + off + 2);
    if (n > len - off) return -1;
    off += n;
  }
  for (size_t off = 0; off < len;) {
    size_t n = 4 + 4 * (size_t)noom_rd16(p + off + 2);
    if (cb(p[off + 1], p[off] & 0x1F, p + off, n, u) != 0) break;
    off += n;
  }
  return 0;
}

uint32_t noom_rtcp_fb_media(const uint8_t *pkt) { return noom_rd32(pkt + 8); }

void noom_rtcp_nack_each(const uint8_t *pkt, size_t len, void (*cb)(uint16_t, void *), void *u) {
  for (size_t off = 12; off + 4 <= len; off += 4) {
    uint16_t pid = noom_rd16(pkt + off), blp = noom_rd16(pkt + off + 2);
    cb(pid, u);
    for (int i = 0; i < 16; i++)
      if (blp & (1u << i)) cb((uint16_t)(pid + i + 1), u);
  }
}

size_t noom_rtcp_nack(uint8_t *out, uint32_t sender, uint32_t media, const uint16_t *seqs, size_t n) {
  size_t len = 12;
  for (size_t i = 0; i < n; i++) {
    size_t e = 12;
    for (; e < len; e += 4) { /* an entry this one falls into? */
      uint16_t d = (uint16_t)(seqs[i] - noom_rd16(out + e));
      if (d == 0) break;
      if (d <= 16) {
        out[e + 2 + (d <= 8)] |= (uint8_t)(1u << ((d - 1) % 8));
        break;
      }
    }
    if (e < len) continue;
    noom_wr16(out + len, seqs[i]);
    noom_wr16(out + len + 2, 0);
    len += 4;
  }
  out[0] = 0x81; /* V=2, FMT=1 */
  out[1] = NOOM_RTCP_RTPFB;
  noom_wr16(out + 2, (uint16_t)(len / 4 - 1));
  noom_wr32(out + 4, sender);
  noom_wr32(out + 8, media);
  return len;
}

size_t noom_rtcp_pli(uint8_t *out, uint32_t sender, uint32_t media) {
  out[0] = 0x81; /* V=2, FMT=1 */
  out[1] = NOOM_RTCP_PSFB;
  noom_wr16(out + 2, 2);
  noom_wr32(out + 4, sender);
  noom_wr32(out + 8, media);
  return 12;
}

size_t noom_rtcp_remb(uint8_t *out, uint32_t sender, uint64_t bps, uint32_t media) {
  out[0] = 0x8F; /* V=2, FMT=15 (application layer feedback) */
  out[1] = NOOM_RTCP_PSFB;
  noom_wr16(out + 2, 5);
  noom_wr32(out + 4, sender);
  noom_wr32(out + 8, 0);
  memcpy(out + 12, "REMB", 4);
  unsigned exp = 0;
  while (bps >= (1u << 18)) bps >>= 1, exp++; /* 18-bit mantissa, 6-bit exponent */
  out[16] = 1;
  out[17] = (uint8_t)(exp << 2 | (bps >> 16));
  noom_wr16(out + 18, (uint16_t)bps);
  noom_wr32(out + 20, media);
  return 24;
}
