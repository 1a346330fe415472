/*
 * UTF-8 validation DFA (RFC 3629 §4 "Syntax of UTF-8 Byte Sequences").
 *
 * States: ACCEPT (0) between characters, REJECT (1) sticky, and one state per "what the
 * next continuation byte may be". RFC 3629's grammar narrows the second byte after four
 * lead bytes (E0, ED, F0, F4); every other continuation byte is 80..BF. So:
 *
 *   state  waiting for                       next byte  goes to
 *   CONT1  the last continuation byte        80..BF     ACCEPT
 *   CONT2  two more continuation bytes       80..BF     CONT1
 *   CONT3  three more continuation bytes     80..BF     CONT2
 *   E0     2nd byte after E0 (no overlongs)  A0..BF     CONT1
 *   ED     2nd byte after ED (no surrogates) 80..9F     CONT1
 *   F0     2nd byte after F0 (no overlongs)  90..BF     CONT2
 *   F4     2nd byte after F4 (<= U+10FFFF)   80..8F     CONT2
 *
 * ASCII dominates real traffic (Socket.IO packets are JSON), so ACCEPT skips 8 ASCII
 * bytes at a time before falling back to one byte per step.
 */
#include "ws/utf8.h"

#include <string.h>

enum { CONT1 = 2, CONT2, CONT3, AFTER_E0, AFTER_ED, AFTER_F0, AFTER_F4, NSTATES };

/* The state a lead byte leads to from ACCEPT. C0/C1 can only start overlong forms and
 * F5..FF would encode beyond U+10FFFF, so they (and bare continuations) reject. */
static const uint8_t lead_state[256] = {
    [0x00 ... 0x7F] = SIO__UTF8_ACCEPT,
    [0x80 ... 0xC1] = SIO__UTF8_REJECT,
    [0xC2 ... 0xDF] = CONT1,
    [0xE0] = AFTER_E0,
    [0xE1 ... 0xEC] = CONT2,
    [0xED] = AFTER_ED,
    [0xEE ... 0xEF] = CONT2,
    [0xF0] = AFTER_F0,
    [0xF1 ... 0xF3] = CONT3,
    [0xF4] = AFTER_F4,
    [0xF5 ... 0xFF] = SIO__UTF8_REJECT,
};

/* For each mid-sequence state: the accepted byte range and the state it leads to. */
static const struct {
  uint8_t lo, hi, next;
} cont[NSTATES] = {
    [CONT1] = {0x80, 0xBF, SIO__UTF8_ACCEPT},
    [CONT2] = {0x80, 0xBF, CONT1},
    [CONT3] = {0x80, 0xBF, CONT2},
    [AFTER_E0] = {0xA0, 0xBF, CONT1},
    [AFTER_ED] = {0x80, 0x9F, CONT1},
    [AFTER_F0] = {0x90, 0xBF, CONT2},
    [AFTER_F4] = {0x80, 0x8F, CONT2},
};

uint32_t sio__utf8_step(uint32_t state, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  if (state >= NSTATES) return SIO__UTF8_REJECT; /* not a state we ever hand out */
  while (p < end) {
    if (state == SIO__UTF8_REJECT) return state;
    if (state == SIO__UTF8_ACCEPT) {
      /* Fast path: whole words of ASCII. memcpy keeps the load alignment-agnostic. */
      while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (w & UINT64_C(0x8080808080808080)) break;
        p += 8;
      }
      if (p == end) break;
      state = lead_state[*p++];
      continue;
    }
    unsigned char c = *p++;
    state = (c >= cont[state].lo && c <= cont[state].hi) ? cont[state].next : SIO__UTF8_REJECT;
  }
  return state;
}

int sio__utf8_valid(const char *s, size_t len) {
  return sio__utf8_step(SIO__UTF8_ACCEPT, s, len) == SIO__UTF8_ACCEPT;
}
