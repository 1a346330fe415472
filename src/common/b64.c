/*
 * Base64 for Engine.IO's polling transport ("b" + base64 binary packets). OpenSSL does
 * the coding; we add the strictness it lacks (it skips whitespace and reports padding
 * as data bytes), because the input comes from the network.
 */
#include "common/b64.h"

#include <openssl/evp.h>
#include <string.h>

#include "sio/errors.h"

size_t sio__b64_encode(const void *in, size_t len, char *out) {
  size_t done = 0;
  const unsigned char *p = in;
  /* EVP_EncodeBlock NUL-terminates its output: encode everything but the last group
   * straight into out (each chunk's NUL is overwritten by the next chunk), and the last
   * group through a small buffer, so we never write past the encoded length. */
  size_t tail = len % 3 ? len % 3 : (len ? 3 : 0);
  size_t bulk = len - tail;
  while (bulk > 0) {
    size_t chunk = bulk > 3u * (1u << 28) ? 3u * (1u << 28) : bulk;
    done += (size_t)EVP_EncodeBlock((unsigned char *)out + done, p, (int)chunk);
    p += chunk;
    bulk -= chunk;
  }
  if (tail) {
    unsigned char last[5];
    EVP_EncodeBlock(last, p, (int)tail);
    memcpy(out + done, last, 4);
    done += 4;
  }
  return done;
}

static int b64_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

long sio__b64_decode(const char *in, size_t len, void *out) {
  if (len % 4 != 0 || len > (1u << 30)) return SIO_EPROTO;
  size_t pad = 0;
  if (len >= 1 && in[len - 1] == '=') pad++;
  if (len >= 2 && in[len - 2] == '=') pad++;
  for (size_t i = 0; i < len - pad; i++) {
    if (!b64_char((unsigned char)in[i])) return SIO_EPROTO;
  }
  if (len == 0) return 0;
  int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
  if (n < 0) return SIO_EPROTO;
  return (long)n - (long)pad;
}
