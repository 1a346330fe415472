/*
 * Static file serving. Embedded assets are looked up by exact path in a hash map; their
 * ETags were computed at build time. In web-root mode files are read from disk per
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
#include "http/mime.h"
#include "http/server_int.h"
#include "http/url.h"

int sio_http_set_assets(sio_http_t *h, const sio_asset_t *assets, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (assets[i].path == NULL) continue;
    int r = sio__map_put(&h->assets, assets[i].path, strlen(assets[i].path), (void *)&assets[i]);
    if (r) return r;
  }
  return 0;
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
  if (!sio_http_req_header(req, "if-none-match", &inm)) return 0;
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

static void serve_bytes(sio_http_req_t *req, const char *mime, const char *etag, const void *data, size_t len) {
  char extra[160];
  snprintf(extra, sizeof extra, "ETag: %s\r\nCache-Control: no-cache\r\n", etag);
  if (etag_matches(req, etag)) {
    sio_http_respond(req, 304, NULL, extra, NULL, 0);
    return;
  }
  sio_http_respond(req, 200, mime, extra, data, len);
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
  serve_bytes(req, sio__mime_for(real), etag, data, (size_t)got);
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
      serve_bytes(req, a->mime, a->etag, a->data, a->len);
      return;
    }
  }
  if (h->opts.redirect_unknown && get) {
    sio_http_respond(req, 302, "text/plain", "Location: /\r\n", "Found", 5);
    return;
  }
  sio_http_respond(req, 404, "text/plain", NULL, "Not Found", 9);
}
