/*
 * RFC 6455 §4.2 server handshake helpers: the Sec-WebSocket-Accept computation (§4.2.2)
 * and the header-token test used to check Upgrade/Connection (§4.2.1). Sans-IO.
 * SHA-1 comes from OpenSSL's libcrypto, base64 from common/b64.
 */
#include "ws/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "common/b64.h"
#include "sio/errors.h"

int sio__ws_accept(const char *key, size_t key_len, char out[SIO__WS_ACCEPT_LEN + 1]) {
  /* §4.2.1 item 5: "a base64-encoded value that, when decoded, is 16 bytes in length".
   * 16 bytes always encode to 24 characters ending in "==", so check the length first;
   * the strict decoder rejects stray characters and misplaced padding. */
  unsigned char raw[18];
  if (key == NULL || key_len != SIO__WS_KEY_LEN) return SIO_EINVAL;
  if (sio__b64_decode(key, key_len, raw) != 16) return SIO_EINVAL;

  /* The key is hashed as sent (its text, not the decoded bytes), per §4.2.2 step 5.4. */
  char cat[SIO__WS_KEY_LEN + sizeof SIO__WS_GUID - 1];
  memcpy(cat, key, SIO__WS_KEY_LEN);
  memcpy(cat + SIO__WS_KEY_LEN, SIO__WS_GUID, sizeof SIO__WS_GUID - 1);
  /* OpenSSL 3's SHA1() fetches the algorithm and allocates a context on every call;
   * fetch once and reuse one context (the library runs on one loop thread). */
  static EVP_MD *sha1;
  static EVP_MD_CTX *ctx;
  if (sha1 == NULL && (sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL) return SIO_EINVAL;
  if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL) return SIO_EINVAL;
  unsigned char digest[SHA_DIGEST_LENGTH];
  if (EVP_DigestInit_ex2(ctx, sha1, NULL) != 1 || EVP_DigestUpdate(ctx, cat, sizeof cat) != 1 ||
      EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
    return SIO_EINVAL;
  size_t n = sio__b64_encode(digest, sizeof digest, out);
  out[n] = '\0';
  return 0;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

static int is_ows(char c) { return c == ' ' || c == '\t'; }

int sio__ws_header_has_token(const char *v, size_t len, const char *token) {
  size_t tlen = strlen(token);
  size_t i = 0;
  while (i < len) {
    /* One list item: skip leading OWS, find the comma, trim trailing OWS. */
    while (i < len && is_ows(v[i])) i++;
    size_t start = i;
    while (i < len && v[i] != ',') i++;
    size_t end = i;
    while (end > start && is_ows(v[end - 1])) end--;
    if (end - start == tlen) {
      size_t k = 0;
      while (k < tlen && lower((unsigned char)v[start + k]) == lower((unsigned char)token[k])) k++;
      if (k == tlen) return 1;
    }
    i++; /* past the comma */
  }
  return 0;
}
