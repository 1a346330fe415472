/* Big-endian (network order) field access for the app's packet codecs: STUN, RTP/RTCP. */
#ifndef NOOM_BYTES_H
#define NOOM_BYTES_H

#include <stdint.h>

static inline uint16_t noom_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t noom_rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void noom_wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void noom_wr32(uint8_t *p, uint32_t v) {
  noom_wr16(p, (uint16_t)(v >> 16));
  noom_wr16(p + 2, (uint16_t)v);
}

#endif
