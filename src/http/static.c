/*
 * Static file serving. Embedded assets are looked up by exact path in a hash map; their
 * ETags were computed at build time. Text assets are gzipped once when the table is set
 * (level 9: it is paid once) and served gzipped where Accept-Encoding allows, each
 * representation with its own ETag and "Vary: Accept-Encoding" on both. In web-root mode files are read from disk per
 * request (development only), after normalisation and a realpath() check that keeps
 * every file inside the root, symlinks included.
 */
#include "http/static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/compress.h"
#include "http/mime.h"
#include "http/server_int.h"
#include "http/url.h"

/* One asset's gzip copy. */
typedef struct {
  char etag[96];
  size_t len;
  unsigned char data[];
} sio__http_gz_t;

/* The identity ETag with "-gz" before its closing quote: a cache must not answer a
 * gzip request with the plain bytes' 304, nor the other way round. */
static void gz_etag(const char *etag, char *out, size_t cap) {
  size_t n = strlen(etag);
  if (n >= 2 && etag[n - 1] == '"') snprintf(out, cap, "%.*s-gz\"", (int)(n - 1), etag);
  else snprintf(out, cap, "%s-gz", etag);
}

/* Gzips a text asset worth it; NULL when not (or out of memory: then served plain). */
static sio__http_gz_t *gzip_asset(const char *mime, const char *etag, const void *data, size_t len) {
  if (!sio__http_compressible(mime) || len < SIO__COMPRESS_THRESHOLD || strlen(etag) > 80) return NULL;
  sio__buf_t b = SIO__BUF_INIT;
  sio__http_gz_t *gz = NULL;
  if (sio__http_compress(SIO__ENC_GZIP, data, len, 9, &b) == 0 && b.len < len - len / 20 &&
      (gz = sio__malloc(sizeof *gz + b.len)) != NULL) {
    gz_etag(etag, gz->etag, sizeof gz->etag);
    gz->len = b.len;
    memcpy(gz->data, b.base, b.len);
  }
  sio__buf_free(&b);
  return gz;
}

int sio_http_set_assets(sio_http_t *h, const sio_asset_t *assets, size_t n) {
  size_t plain = 0, sent = 0;
  for (size_t i = 0; i < n; i++) {
    const sio_asset_t *a = &assets[i];
    if (a->path == NULL) continue;
    int r = sio__map_put(&h->assets, a->path, strlen(a->path), (void *)a);
    if (r) return r;
    sio__http_gz_t *old = sio__map_del(&h->assets_gz, a->path, strlen(a->path));
    sio__free(old);
    sio__http_gz_t *gz = h->opts.static_compression ? gzip_asset(a->mime, a->etag, a->data, a->len) : NULL;
    if (gz && sio__map_put(&h->assets_gz, a->path, strlen(a->path), gz) != 0) {
      sio__free(gz);
      gz = NULL;
    }
    plain += a->len;
    sent += gz ? gz->len : a->len;
  }
  SIO_LOGD("http: %zu assets, %zu bytes, %zu as served to gzip clients", n, plain, sent);
  return 0;
}

void sio__http_static_free(sio_http_t *h) {
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&h->assets_gz, &it, NULL, NULL, &v)) sio__free(v);
  sio__map_free(&h->assets_gz);
}

int sio_http_set_web_root(sio_http_t *h, const char *dir) {
  char real[PATH_MAX];
  if (realpath(dir, real) == NULL) return SIO_EINVAL;
  struct stat st;
  if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) return SIO_EINVAL;
  char *p = sio__strdup(real);
  if (p == NULL) return SIO_ENOMEM;
  sio__free(h->web_root);
  h->web_root = p;
  return 0;
}

static int etag_matches(sio_http_req_t *req, const char *etag) {
  sio_str_t inm;
  if (!sio__req_header(req, "if-none-match", &inm)) return 0;
  size_t el = strlen(etag);
  /* If-None-Match is a list of ETags (or "*"); a weak match is enough for GET (RFC 9110 §13.1.2). */
  for (size_t i = 0; i < inm.len;) {
    while (i < inm.len && (inm.ptr[i] == ' ' || inm.ptr[i] == ',')) i++;
    size_t j = i;
    while (j < inm.len && inm.ptr[j] != ',') j++;
    size_t k = j;
    while (k > i && inm.ptr[k - 1] == ' ') k--;
    const char *t = inm.ptr + i;
    size_t tl = k - i;
    if (tl >= 2 && t[0] == 'W' && t[1] == '/') {
      t += 2;
      tl -= 2;
    }
    if ((tl == 1 && t[0] == '*') || (tl == el && memcmp(t, etag, el) == 0)) return 1;
    i = j;
  }
  return 0;
}

/* Answers with data, or with its gzip copy gz (NULL: none) when the client takes gzip. */
static void serve_bytes(sio_http_req_t *req, const char *mime, const char *etag, const void *data, size_t len,
                        const sio__http_gz_t *gz) {
  char extra[300];
  sio_str_t ae = {NULL, 0};
  int use_gz = gz && sio__req_header(req, "accept-encoding", &ae) && sio__http_pick_encoding(ae, 0) == SIO__ENC_GZIP;
  const char *tag = use_gz ? gz->etag : etag;
  snprintf(extra, sizeof extra, "ETag: %s\r\nCache-Control: no-cache\r\n%s%s", tag,
           gz ? "Vary: Accept-Encoding\r\n" : "", use_gz ? "Content-Encoding: gzip\r\n" : "");
  if (etag_matches(req, tag)) {
    sio_http_respond(req, 304, NULL, extra, NULL, 0);
    return;
  }
  if (use_gz) sio_http_respond(req, 200, mime, extra, gz->data, gz->len);
  else sio_http_respond(req, 200, mime, extra, data, len);
}

/* Reads a file under the web root; returns 1 when answered, 0 when not found. */
static int serve_disk(sio_http_t *h, sio_http_req_t *req, const char *path) {
  char full[PATH_MAX], real[PATH_MAX];
  if (snprintf(full, sizeof full, "%s%s", h->web_root, path) >= (int)sizeof full) return 0;
  if (realpath(full, real) == NULL) return 0;
  size_t rl = strlen(h->web_root);
  if (strncmp(real, h->web_root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) {
    SIO_LOGW("%s: refused %s: outside the web root", sio_http_req_peer(req), path);
    return 0;
  }
  int fd = open(real, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
    close(fd);
    return 0;
  }
  char *data = sio__malloc((size_t)st.st_size);
  ssize_t got = data ? read(fd, data, (size_t)st.st_size) : -1;
  close(fd);
  if (got != st.st_size) {
    sio__free(data);
    sio_http_respond(req, 500, "text/plain", NULL, "read error", 10);
    return 1;
  }
  char etag[64];
  snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
  /* Development files change: gzipped per request, not cached. */
  const char *mime = sio__mime_for(real);
  sio__http_gz_t *gz = h->opts.static_compression ? gzip_asset(mime, etag, data, (size_t)got) : NULL;
  serve_bytes(req, mime, etag, data, (size_t)got, gz);
  sio__free(gz);
  sio__free(data);
  return 1;
}

int sio__http_static_has(sio_http_t *h, sio_str_t raw) {
  char path[1024];
  long n = sio__http_path_normalize(raw, path, sizeof path);
  if (n <= 1) return 0;
  if (h->web_root == NULL) return sio__map_get(&h->assets, path, (size_t)n) != NULL;
  char full[PATH_MAX], real[PATH_MAX];
  struct stat st;
  if (snprintf(full, sizeof full, "%s%s", h->web_root, path) >= (int)sizeof full || realpath(full, real) == NULL) return 0;
  size_t rl = strlen(h->web_root);
  return strncmp(real, h->web_root, rl) == 0 && real[rl] == '/' && stat(real, &st) == 0 && S_ISREG(st.st_mode);
}

void sio__http_static_serve(sio_http_t *h, sio_http_req_t *req) {
  const char *method = sio_http_req_method(req);
  int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
  if (!get && !head) {
    sio_http_respond(req, 405, "text/plain", "Allow: GET, HEAD\r\n", "Method Not Allowed", 18);
    return;
  }
  char path[1024];
  long n = sio__http_path_normalize(sio_http_req_path(req), path, sizeof path - 16);
  if (n < 0) {
    sio_http_respond(req, 400, "text/plain", NULL, "Bad Request", 11);
    return;
  }
  if (n == 1 && path[0] == '/') {
    memcpy(path, "/index.html", 12);
    n = 11;
  }
  if (h->web_root) {
    if (serve_disk(h, req, path)) return;
    /* "/ws-chat" serves "/ws-chat.html", as with embedded assets. */
    if (n + 5 < (long)sizeof path) {
      memcpy(path + n, ".html", 6);
      if (serve_disk(h, req, path)) return;
    }
  } else {
    const sio_asset_t *a = sio__map_get(&h->assets, path, (size_t)n);
    if (a == NULL && n + 5 < (long)sizeof path) {
      /* "/ws-chat" serves "/ws-chat.html": pages have clean URLs. */
      memcpy(path + n, ".html", 6);
      a = sio__map_get(&h->assets, path, (size_t)n + 5);
    }
    if (a != NULL) {
      serve_bytes(req, a->mime, a->etag, a->data, a->len, sio__map_get(&h->assets_gz, a->path, strlen(a->path)));
      return;
    }
  }
  if (h->opts.redirect_unknown && get) {
    sio_http_respond(req, 302, "text/plain", "Location: /\r\n", "Found", 5);
    return;
  }
  sio_http_respond(req, 404, "text/plain", NULL, "Not Found", 9);
}
