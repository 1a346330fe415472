/* Random ids from OpenSSL's DRBG (user space, no syscall per id). */
#include "common/sid.h"

#include <openssl/rand.h>
#include <string.h>

#include "sio/errors.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Ids are drawn from a pool refilled 64 ids at a time: RAND_bytes per id cost a fifth
 * of a connection's user-space instructions and a getpid() each (OpenSSL's fork check). */
static unsigned char pool[15 * 64];
static size_t pool_left;

int sio__sid_generate(char out[SIO__SID_LEN + 1]) {
  if (pool_left == 0) {
    if (RAND_bytes(pool, sizeof pool) != 1) return SIO_EPROTO;
    pool_left = sizeof pool;
  }
  unsigned char raw[15];
  memcpy(raw, pool + sizeof pool - pool_left, sizeof raw);
  /* Used bytes are wiped so an id never lingers in memory after it was handed out. */
  memset(pool + sizeof pool - pool_left, 0, sizeof raw);
  pool_left -= sizeof raw;
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
