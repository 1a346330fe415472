/*
 * bcrypt hash syntax (what bcryptjs's getRounds accepts before instrument() starts):
 * "$2" + one of a/b/y + "$" + two-digit cost + "$" + 53 characters of bcrypt's base64
 * alphabet. A codec only: no allocation, no I/O (fuzz/fuzz_admin_hash.c). The
 * verification itself is libcrypt's (auth.c).
 */
#include <string.h>

#include "sio/admin.h"

#define BCRYPT_LEN 60

static int b64_char(char c) {
  return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int sio_admin_hash_parse(const char *hash, size_t len) {
  if (hash == NULL || len != BCRYPT_LEN) return SIO_EINVAL;
  if (hash[0] != '$' || hash[1] != '2' || (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$')
    return SIO_EINVAL;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$') return SIO_EINVAL;
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return SIO_EINVAL;
  for (size_t i = 7; i < BCRYPT_LEN; i++) {
    if (!b64_char(hash[i])) return SIO_EINVAL;
  }
  return cost;
}
