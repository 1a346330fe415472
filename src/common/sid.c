/* Random ids from OpenSSL's DRBG (user space, no syscall per id). */
#include "common/sid.h"

#include <openssl/rand.h>

#include "sio/errors.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sio__sid_generate(char out[SIO__SID_LEN + 1]) {
  unsigned char raw[15];
  if (RAND_bytes(raw, sizeof raw) != 1) return SIO_EPROTO;
  for (int i = 0, o = 0; i < 15; i += 3) {
    unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  out[SIO__SID_LEN] = '\0';
  return 0;
}
