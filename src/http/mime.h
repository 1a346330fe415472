/* MIME type by file extension; shared by the asset packer and the disk server. */
#ifndef SIO_HTTP_MIME_H
#define SIO_HTTP_MIME_H

#include <string.h>
#include <strings.h>

static inline const char *sio__mime_for(const char *path) {
  static const char *const table[][2] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "application/javascript; charset=utf-8"},
      {".mjs", "application/javascript; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".wasm", "application/wasm"},
      {".webmanifest", "application/manifest+json"},
  };
  const char *dot = strrchr(path, '.');
  const char *slash = strrchr(path, '/');
  if (dot != NULL && (slash == NULL || dot > slash)) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
      if (strcasecmp(dot, table[i][0]) == 0) return table[i][1];
    }
  }
  return "application/octet-stream";
}

#endif
