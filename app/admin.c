/*
 * --admin: wires sio/admin.h into noom from the flags, refusing an admin namespace
 * without credentials unless --admin-no-auth says so, and --admin-ui DIR: the UI's
 * static files (a built web app, relative links) served at /admin/.
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/admin.h"

static const char *ui_dir;

static const char *mime(const char *path) {
  const char *dot = strrchr(path, '.');
  static const char *const map[][2] = {{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
                                       {".css", "text/css; charset=utf-8"},    {".png", "image/png"},
                                       {".svg", "image/svg+xml"},              {".map", "application/json"},
                                       {".ico", "image/x-icon"},               {".woff2", "font/woff2"}};
  for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++) {
    if (strcmp(dot, map[i][0]) == 0) return map[i][1];
  }
  return "application/octet-stream";
}

/* GET /admin/<file>: a file of ui_dir, "" meaning index.html; no "..", no hidden files. */
static void serve_ui(sio_http_req_t *req, void *user) {
  (void)user;
  sio_str_t p = sio_http_req_path(req);
  if (p.len == 6) { /* "/admin" */
    sio_http_respond(req, 301, NULL, "Location: /admin/\r\n", NULL, 0);
    return;
  }
  char rel[256], full[1024];
  if (p.ptr[6] != '/') goto missing; /* "/administrator" is not ours */
  size_t n = p.len - 7;
  if (n >= sizeof rel || strcmp(sio_http_req_method(req), "GET") != 0) goto missing;
  memcpy(rel, p.ptr + 7, n);
  rel[n] = 0;
  if (n == 0) strcpy(rel, "index.html");
  if (strstr(rel, "..") || strstr(rel, "/.") || rel[0] == '.' || rel[0] == '/') goto missing;
  snprintf(full, sizeof full, "%s/%s", ui_dir, rel);
  FILE *f = fopen(full, "rb");
  if (f == NULL) goto missing;
  /* A few small files, read once per request: the UI is an operator's tool. */
  char *body = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < (32l << 20) && fseek(f, 0, SEEK_SET) == 0 &&
      (body = malloc((size_t)len + 1)) != NULL && fread(body, 1, (size_t)len, f) == (size_t)len) {
    sio_http_respond(req, 200, mime(rel), "Cache-Control: no-cache\r\n", body, (size_t)len);
  } else {
    sio_http_respond(req, 500, "text/plain", NULL, "read error\n", 11);
  }
  free(body);
  fclose(f);
  return;
missing:
  sio_http_respond(req, 404, "text/plain", NULL, "not found\n", 10);
}

int noom_admin_init(sio_http_t *http, sio_server_t *io, const noom_options_t *o) {
  if (!o->admin) {
    if (o->admin_ui || o->admin_user || o->admin_password_hash || o->admin_no_auth || o->admin_readonly)
      fprintf(stderr, "noom: --admin-* flags do nothing without --admin\n");
    return 0;
  }
  sio_admin_opts_t ao;
  sio_admin_opts_init(&ao);
  ao.username = o->admin_user;
  ao.password_hash = o->admin_password_hash;
  ao.no_auth = o->admin_no_auth;
  ao.readonly = o->admin_readonly;
  ao.server_id = o->admin_server_id;
  if (strcmp(o->admin_mode, "production") == 0) {
    ao.mode = SIO_ADMIN_PRODUCTION;
  } else if (strcmp(o->admin_mode, "development") != 0) {
    fprintf(stderr, "noom: --admin-mode is development or production, not '%s'\n", o->admin_mode);
    return 1;
  }
  if (!o->admin_user != !o->admin_password_hash) {
    fprintf(stderr, "noom: --admin-user and --admin-password-hash go together\n");
    return 1;
  }
  if (!o->admin_user && !o->admin_no_auth) {
    fprintf(stderr, "noom: --admin needs --admin-user and --admin-password-hash (a bcrypt hash: see docs/operations.md, "
                    "Admin UI), or --admin-no-auth for development\n");
    return 1;
  }
  if (o->admin_password_hash && sio_admin_hash_parse(o->admin_password_hash, strlen(o->admin_password_hash)) < 0) {
    fprintf(stderr, "noom: --admin-password-hash is not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters)\n");
    return 1;
  }
  sio_admin_t *a;
  int r = sio_admin_attach(io, &ao, &a);
  if (r == 0 && o->admin_ui) {
    ui_dir = o->admin_ui;
    if ((r = sio_http_handle(http, "/admin", 0, serve_ui, NULL)) == 0)
      sio_log_printf(SIO_LOG_INFO, "admin UI at /admin/ (files from %s), namespace /admin", o->admin_ui);
  }
  if (r != 0) {
    fprintf(stderr, "noom: cannot start the admin UI: %s\n", sio_strerror(r));
    return 1;
  }
  return 0;
}
