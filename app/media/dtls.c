/*
 * DTLS server on OpenSSL with an in-memory read BIO and a write BIO of our own (a
 * memory BIO would glue a whole flight into one datagram; ours hands each write to the
 * UDP socket). We are always the passive side (a=setup:passive): browsers connect.
 */
#include "dtls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

#define MTU 1200

struct noom_dtls {
  SSL *ssl;
  BIO *rbio;
  noom_dtls_send_cb send;
  void *u;
  int done;
};

static SSL_CTX *ctx;
static BIO_METHOD *out_method;
static char fingerprint[96];

/* ---- the write BIO: every write is one datagram ---- */

static int out_write(BIO *b, const char *data, int len) {
  noom_dtls_t *d = BIO_get_data(b);
  if (d && len > 0) d->send((const uint8_t *)data, (size_t)len, d->u);
  return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_MTU:
    return MTU;
  default:
    return 0;
  }
}

static int out_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static void log_ssl(const char *what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  sio_log_printf(SIO_LOG_WARN, "sfu: %s: %s", what, e ? buf : "unknown OpenSSL error");
  ERR_clear_error();
}

/* The browser's certificate is self-signed; it is checked against the SDP afterwards. */
static int accept_any(int ok, X509_STORE_CTX *x) {
  (void)ok, (void)x;
  return 1;
}

static X509 *make_cert(EVP_PKEY *key) {
  X509 *x = X509_new();
  if (!x) return NULL;
  uint64_t serial;
  RAND_bytes((unsigned char *)&serial, sizeof serial);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1);
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), -86400);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"noom", -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  if (!X509_sign(x, key, EVP_sha256())) {
    X509_free(x);
    return NULL;
  }
  return x;
}

int noom_dtls_global_init(void) {
  if (ctx) return 0;
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = key ? make_cert(key) : NULL;
  ctx = SSL_CTX_new(DTLS_server_method());
  if (!key || !cert || !ctx || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
      SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0 ||
      SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305") != 1) {
    log_ssl("cannot make the DTLS context");
    EVP_PKEY_free(key);
    X509_free(cert);
    SSL_CTX_free(ctx);
    ctx = NULL;
    return -1;
  }
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
  SSL_CTX_set_read_ahead(ctx, 1);
  unsigned char md[32];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  for (unsigned i = 0; i < n && i < 32; i++) snprintf(fingerprint + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
  X509_free(cert); /* the context holds its own references */
  EVP_PKEY_free(key);
  out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "noom dtls out");
  BIO_meth_set_write(out_method, out_write);
  BIO_meth_set_ctrl(out_method, out_ctrl);
  BIO_meth_set_create(out_method, out_create);
  return 0;
}

void noom_dtls_global_free(void) {
  SSL_CTX_free(ctx);
  ctx = NULL;
  BIO_meth_free(out_method);
  out_method = NULL;
}

const char *noom_dtls_fingerprint(void) { return fingerprint; }

noom_dtls_t *noom_dtls_new(noom_dtls_send_cb send, void *u) {
  noom_dtls_t *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->send = send;
  d->u = u;
  d->ssl = SSL_new(ctx);
  d->rbio = BIO_new(BIO_s_mem());
  BIO *w = BIO_new(out_method);
  if (!d->ssl || !d->rbio || !w) {
    BIO_free(d->rbio);
    BIO_free(w);
    SSL_free(d->ssl);
    free(d);
    return NULL;
  }
  BIO_set_data(w, d);
  BIO_set_mem_eof_return(d->rbio, -1);
  SSL_set_bio(d->ssl, d->rbio, w); /* the SSL owns both now */
  SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(d->ssl, MTU);
  DTLS_set_link_mtu(d->ssl, MTU);
  SSL_set_accept_state(d->ssl);
  return d;
}

void noom_dtls_free(noom_dtls_t *d) {
  if (!d) return;
  SSL_free(d->ssl);
  free(d);
}

int noom_dtls_feed(noom_dtls_t *d, const uint8_t *p, size_t n) {
  if (BIO_write(d->rbio, p, (int)n) != (int)n) return NOOM_DTLS_FAILED;
  if (d->done) {
    /* After the handshake only alerts come (no application data on this path). */
    uint8_t buf[256];
    int r = SSL_read(d->ssl, buf, sizeof buf);
    int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(d->ssl, r);
    (void)BIO_reset(d->rbio);
    ERR_clear_error();
    return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SSL ? NOOM_DTLS_FAILED : NOOM_DTLS_PENDING;
  }
  int r = SSL_do_handshake(d->ssl);
  if (r == 1) {
    d->done = 1;
    return NOOM_DTLS_DONE;
  }
  int e = SSL_get_error(d->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return NOOM_DTLS_PENDING;
  log_ssl("DTLS handshake failed");
  return NOOM_DTLS_FAILED;
}

void noom_dtls_tick(noom_dtls_t *d) {
  if (!d->done) DTLSv1_handle_timeout(d->ssl);
}

int noom_dtls_keys(noom_dtls_t *d, const uint8_t fp[32], uint8_t client[NOOM_SRTP_MASTER_LEN],
                   uint8_t server[NOOM_SRTP_MASTER_LEN], int *gcm) {
  X509 *peer = SSL_get1_peer_certificate(d->ssl);
  unsigned char md[32];
  unsigned int n = 0;
  int ok = peer && X509_digest(peer, EVP_sha256(), md, &n) && n == 32 && CRYPTO_memcmp(md, fp, 32) == 0;
  X509_free(peer);
  if (!ok) {
    sio_log_printf(SIO_LOG_WARN, "sfu: DTLS peer certificate does not match the offer's a=fingerprint: media refused");
    return -1;
  }
  SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(d->ssl);
  if (!prof || (prof->id != SRTP_AES128_CM_SHA1_80 && prof->id != SRTP_AEAD_AES_128_GCM)) return -1;
  *gcm = prof->id == SRTP_AEAD_AES_128_GCM;
  size_t salt = *gcm ? 12 : 14;
  uint8_t m[2 * NOOM_SRTP_MASTER_LEN];
  size_t total = 2 * (16 + salt);
  if (SSL_export_keying_material(d->ssl, m, total, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1) return -1;
  /* RFC 5764 §4.2: client key, server key, client salt, server salt. */
  memcpy(client, m, 16);
  memcpy(server, m + 16, 16);
  memcpy(client + 16, m + 32, salt);
  memcpy(server + 16, m + 32 + salt, salt);
  return 0;
}
