/*
 * OpenSSL memory-BIO TLS (see tls.h). The handshake happens inside SSL_read: the first
 * feed of a ClientHello produces handshake records in the write BIO, which the caller
 * flushes like any other output.
 */
#include "http/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"

struct sio__tls_s {
  SSL *ssl;
  BIO *rbio; /* network -> SSL */
  BIO *wbio; /* SSL -> network */
};

static SSL_CTX *new_ctx(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL) return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  /* Idle connections give their record buffers back (tens of KB each). */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

static void log_ssl_error(const char *what) {
  char buf[256];
  unsigned long e = ERR_get_error();
  ERR_error_string_n(e, buf, sizeof buf);
  SIO_LOGE("TLS: %s: %s", what, e ? buf : "unknown error");
  ERR_clear_error();
}

SSL_CTX *sio__tls_ctx_from_files(const char *cert, const char *key) {
  SSL_CTX *ctx = new_ctx();
  if (ctx == NULL) return NULL;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    log_ssl_error("cannot load the certificate (PEM chain expected)");
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    log_ssl_error("cannot load the private key, or it does not match the certificate");
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

SSL_CTX *sio__tls_ctx_self_signed(char *fp, size_t fp_cap) {
  SSL_CTX *ctx = NULL;
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509 *x = X509_new();
  if (pkey == NULL || x == NULL) goto done;
  ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid() ^ (long)time(NULL));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_version(x, 2);
  X509_set_pubkey(x, pkey);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"noom self-signed", -1, -1, 0);
  X509_set_issuer_name(x, name);
  char host[128] = "localhost", san[320];
  gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1%s%s", strcmp(host, "localhost") ? ",DNS:" : "",
           strcmp(host, "localhost") ? host : "");
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
  if (ext) {
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, pkey, EVP_sha256()) == 0) goto done;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  X509_digest(x, EVP_sha256(), md, &mdlen);
  size_t o = 0;
  for (unsigned int i = 0; i < mdlen && o + 3 < fp_cap; i++) o += (size_t)snprintf(fp + o, fp_cap - o, i ? ":%02X" : "%02X", md[i]);
  ctx = new_ctx();
  if (ctx && (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1)) {
    SSL_CTX_free(ctx);
    ctx = NULL;
  }
done:
  if (ctx == NULL) log_ssl_error("cannot make a self-signed certificate");
  X509_free(x);
  EVP_PKEY_free(pkey);
  return ctx;
}

sio__tls_t *sio__tls_new(SSL_CTX *ctx) {
  sio__tls_t *t = sio__calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->ssl = SSL_new(ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
    SSL_free(t->ssl);
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    sio__free(t);
    return NULL;
  }
  /* An empty read BIO means "would block", not end of file. */
  BIO_set_mem_eof_return(t->rbio, -1);
  SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns both BIOs now */
  SSL_set_accept_state(t->ssl);
  return t;
}

void sio__tls_free(sio__tls_t *t) {
  if (t == NULL) return;
  SSL_free(t->ssl);
  sio__free(t);
}

int sio__tls_feed(sio__tls_t *t, const char *cipher, size_t len, char *plain, size_t cap,
                  int (*deliver)(void *u, char *plain, size_t n), void *u) {
  if (len > 0 && BIO_write(t->rbio, cipher, (int)len) != (int)len) return -1;
  for (;;) {
    int n = SSL_read(t->ssl, plain, (int)cap);
    if (n > 0) {
      if (deliver(u, plain, (size_t)n)) return 0;
      continue;
    }
    int err = SSL_get_error(t->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
    if (err == SSL_ERROR_ZERO_RETURN) return -1; /* close_notify: the peer is done */
    SIO_LOGD("TLS: handshake or record error (%d)", err);
    ERR_clear_error();
    return -1;
  }
}

int sio__tls_encrypt(sio__tls_t *t, const void *plain, size_t len) {
  const char *p = plain;
  while (len > 0) {
    int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
    int n = SSL_write(t->ssl, p, chunk);
    if (n <= 0) {
      ERR_clear_error();
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

size_t sio__tls_pending(sio__tls_t *t) { return BIO_ctrl_pending(t->wbio); }

size_t sio__tls_take(sio__tls_t *t, char *out, size_t len) {
  int n = BIO_read(t->wbio, out, (int)len);
  return n > 0 ? (size_t)n : 0;
}

void sio__tls_shutdown(sio__tls_t *t) {
  if (SSL_is_init_finished(t->ssl)) SSL_shutdown(t->ssl);
  ERR_clear_error();
}
