/*
 * libFuzzer target: a datagram through the SFU's ICE-lite check handling
 * (app/media/icecheck.c): parse, MESSAGE-INTEGRITY check with a fixed password, and the
 * success response for IPv4 and IPv6 sources, whose length must stay in bounds and which
 * must carry a valid FINGERPRINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../app/media/icecheck.c"
#include "../app/stunmsg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *v = malloc(size ? size : 1);
  if (!v) return 0;
  memcpy(v, data, size);
  noom_icecheck_t c;
  if (noom_icecheck_parse(v, size, &c) == 0) {
    if (!c.username || c.username + c.username_len > v + size || c.integrity_off + 24 > size) abort();
    (void)noom_icecheck_verify(v, &c, "fuzzpassword");
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(5000)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(5000)};
    a4.sin_addr.s_addr = htonl(0x7f000001);
    uint8_t out[NOOM_ICECHECK_MAX_RESPONSE];
    for (int i = 0; i < 2; i++) {
      size_t n = noom_icecheck_respond(v, i ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4, "fuzzpassword", out, sizeof out);
      if (n == 0 || n > sizeof out || n % 4) abort();
      uint32_t fp = (uint32_t)out[n - 4] << 24 | (uint32_t)out[n - 3] << 16 | (uint32_t)out[n - 2] << 8 | out[n - 1];
      if (fp != noom_stun_fingerprint(out, n - 8)) abort();
    }
  }
  free(v);
  return 0;
}
