/*
 * The admin namespace's authentication middleware (instrument()'s
 * initAuthenticationMiddleware with type "basic"): a known session id passes; otherwise
 * the CONNECT auth's username must match and its password must match the bcrypt hash.
 * bcrypt costs tens of milliseconds by design, so crypt_r runs on libuv's thread pool
 * and the middleware answers when it is back; at most max_pending_logins run at once
 * (more are refused), so a flood of logins cannot queue unbounded work.
 */
#include <crypt.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin_int.h"
#include "common/alloc.h"
#include "common/log.h"

typedef struct {
  uv_work_t work;
  sio_admin_t *a;
  sio_socket_t *s;
  sio_mw_t *mw;
  char *password;
  int ok;
  struct crypt_data cd; /* crypt_r's scratch, ~32 KiB: one per check, off the stack */
} login_t;

void sio__admin_unref(sio_admin_t *a) {
  if (--a->refs > 0) return;
  sio__free(a->sessions);
  sio__free(a->nsp_name);
  sio__free(a->username);
  sio__free(a->hash);
  sio__free(a->server_id);
  sio__free(a);
}

static int session_known(sio_admin_t *a, sio_str_t id) {
  uint64_t now = uv_now(a->loop);
  for (uint32_t i = 0; i < a->nsessions; i++) {
    const sio__admin_session_t *x = &a->sessions[i];
    if (x->expires_ms > now && id.len == 16 && memcmp(x->id, id.ptr, 16) == 0) return 1;
  }
  return 0;
}

/* Remembers a new session in the ring (the oldest goes when it is full); fills id. */
static int session_new(sio_admin_t *a, char id[17]) {
  unsigned char raw[8];
  if (uv_random(NULL, NULL, raw, sizeof raw, 0, NULL) != 0) return SIO_EINVAL;
  for (int i = 0; i < 8; i++) snprintf(id + 2 * i, 3, "%02x", raw[i]);
  sio__admin_session_t *x = &a->sessions[a->next_session];
  if (a->nsessions == a->opts.max_sessions && x->expires_ms > uv_now(a->loop))
    SIO_LOGW("admin: %u login sessions kept, forgetting the oldest (its UI must log in again; raise "
             "max_sessions if admins often see the login form)", a->opts.max_sessions);
  memcpy(x->id, id, 17);
  x->expires_ms = uv_now(a->loop) + a->opts.session_ttl_ms;
  a->next_session = (a->next_session + 1) % a->opts.max_sessions;
  if (a->nsessions < a->opts.max_sessions) a->nsessions++;
  return 0;
}

/* Constant-time comparison, so the answer's timing says nothing about the hash. */
static int same(const char *x, const char *y) {
  size_t n = strlen(y);
  if (strlen(x) != n) return 0;
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++) d |= (unsigned char)(x[i] ^ y[i]);
  return d == 0;
}

static void login_work(uv_work_t *w) {
  login_t *l = w->data;
  const char *out = crypt_r(l->password, l->a->hash, &l->cd);
  l->ok = out != NULL && out[0] != '*' && same(out, l->a->hash);
}

/* Back on the loop. The server may be gone meanwhile (sio_http_close): its shutdown
 * disconnected the socket first, and sio_mw_next and sio_socket_unref on a disconnected
 * socket touch neither its namespace nor the server, so answering stays safe. */
static void login_done(uv_work_t *w, int status) {
  login_t *l = w->data;
  sio_admin_t *a = l->a;
  a->pending_logins--;
  if (status == 0 && l->ok && !a->detached) {
    char id[17];
    if (session_new(a, id) != 0) {
      sio_mw_next(l->mw, "server error", NULL);
    } else {
      sio_mw_next(l->mw, NULL, NULL);
      /* instrument() emits it from the middleware; the client takes it either way. */
      if (sio_socket_connected(l->s)) {
        sio_args_t *args = NULL;
        if (sio_args_pack(&args, "s", id) == 0) sio_socket_emit(l->s, "session", args);
        sio_args_free(args);
      }
    }
  } else {
    sio_mw_next(l->mw, "invalid credentials", NULL);
  }
  explicit_bzero(l->password, strlen(l->password));
  sio__free(l->password);
  sio_socket_unref(l->s);
  sio__free(l);
  sio__admin_unref(a);
}

void sio__admin_auth_mw(sio_socket_t *s, sio_mw_t *mw, void *user) {
  sio_admin_t *a = user;
  sio_str_t sid, name, pw;
  if (a->opts.no_auth || a->detached) {
    sio_mw_next(mw, NULL, NULL);
    return;
  }
  if (sio_socket_get_auth_str(s, "sessionId", &sid) == 0 && session_known(a, sid)) {
    sio_mw_next(mw, NULL, NULL);
    return;
  }
  if (sio_socket_get_auth_str(s, "username", &name) != 0 || name.len != strlen(a->username) ||
      memcmp(name.ptr, a->username, name.len) != 0 || sio_socket_get_auth_str(s, "password", &pw) != 0) {
    sio_mw_next(mw, "invalid credentials", NULL);
    return;
  }
  if (a->pending_logins >= a->opts.max_pending_logins) {
    SIO_LOGW("admin: %u logins are being checked already, refusing one from %s (raise max_pending_logins if "
             "this is not an attack)", a->pending_logins, sio_socket_address(s));
    sio_mw_next(mw, "too many login attempts, try again", NULL);
    return;
  }
  login_t *l = sio__calloc(1, sizeof *l);
  if (l == NULL || (l->password = sio__strndup(pw.ptr, pw.len)) == NULL) {
    sio__free(l);
    sio_mw_next(mw, "server error", NULL);
    return;
  }
  l->a = a;
  l->s = sio_socket_ref(s);
  l->mw = mw;
  l->work.data = l;
  if (uv_queue_work(a->loop, &l->work, login_work, login_done) != 0) {
    sio_socket_unref(s);
    sio__free(l->password);
    sio__free(l);
    sio_mw_next(mw, "server error", NULL);
    return;
  }
  a->refs++;
  a->pending_logins++;
}
