/*
 * libFuzzer target: bcrypt hash syntax through sio_admin_hash_parse (src/admin/hash.c),
 * the admin UI's one parser of operator input (--admin-password-hash). The answer is a
 * cost in 4..31 or SIO_EINVAL, it reads nothing past len (exact-size copy under ASan),
 * and an accepted hash is exactly 60 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sio/admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *v = malloc(size ? size : 1);
  if (v == NULL) return 0;
  memcpy(v, data, size);
  int r = sio_admin_hash_parse(v, size);
  if (r != SIO_EINVAL && (r < 4 || r > 31 || size != 60)) abort();
  free(v);
  return 0;
}
