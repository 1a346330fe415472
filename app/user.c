/*
 * The per-socket user, validation and the cluster-wide room join (user.h).
 *
 * Budgets are token buckets kept as integers in thousandths of a token, refilled from
 * the loop's millisecond clock when they are asked: no timer per user.
 */
#include "user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char nick[NOOM_MAX_NICK + 1];
  uint64_t milli[NOOM_BUDGETS]; /* tokens x 1000 */
  uint64_t refill_at;           /* loop time of the last refill (ms) */
} user_t;

static uv_loop_t *loop;
static noom_user_opts_t opts;

void noom_user_init(uv_loop_t *l, const noom_user_opts_t *o) {
  loop = l;
  opts = *o;
}

static user_t *user_of(const sio_socket_t *s) { return sio_socket_get_data(s); }

int noom_user_attach(sio_socket_t *s) {
  user_t *u = malloc(sizeof *u);
  if (u == NULL) return SIO_ENOMEM;
  strcpy(u->nick, "Anon");
  for (int b = 0; b < NOOM_BUDGETS; b++) u->milli[b] = opts.burst[b] * 1000;
  u->refill_at = uv_now(loop);
  sio_socket_set_data(s, u);
  return 0;
}

void noom_user_detach(sio_socket_t *s) {
  free(user_of(s));
  sio_socket_set_data(s, NULL);
}

const char *noom_user_nick(const sio_socket_t *s) {
  const user_t *u = user_of(s);
  return u ? u->nick : "Anon";
}

/* socket.data = {"nickname": ...}: what other nodes see of the user (fetchSockets). */
void noom_user_set_nick(sio_socket_t *s, const char *nick) {
  user_t *u = user_of(s);
  if (u == NULL) return;
  snprintf(u->nick, sizeof u->nick, "%s", nick);
  static const char *const keys[] = {"nickname"};
  sio_args_t *v, *obj;
  char *json;
  if (sio_args_new(&v) != 0) return;
  if (sio_args_new(&obj) == 0) {
    sio_args_add_cstr(v, nick);
    if (sio_args_add_object(obj, keys, v) == 0 && sio_args_to_json(obj, 0, &json, NULL) == 0) {
      sio_socket_set_data_json(s, json);
      sio_free(json);
    }
    sio_args_free(obj);
  }
  sio_args_free(v);
}

void noom_user_restore(sio_socket_t *s) {
  user_t *u = user_of(s);
  const char *json = sio_socket_get_data_json(s);
  sio_args_t *a;
  sio_str_t nick;
  if (u == NULL || json == NULL || sio_args_new(&a) != 0) return;
  if (sio_args_add_json(a, json, strlen(json)) == 0 && sio_args_get_member_str(a, 0, "nickname", &nick) == 0 &&
      nick.len > 0 && nick.len <= NOOM_MAX_NICK)
    snprintf(u->nick, sizeof u->nick, "%.*s", (int)nick.len, nick.ptr);
  sio_args_free(a);
}

int noom_user_allow_all(sio_socket_t *s, const noom_budget_t *b, const uint64_t *cost, size_t n) {
  user_t *u = user_of(s);
  if (u == NULL) return 0;
  uint64_t now = uv_now(loop), dt = now - u->refill_at;
  u->refill_at = now;
  for (int k = 0; k < NOOM_BUDGETS; k++) {
    uint64_t cap = opts.burst[k] * 1000;
    /* rate tokens/s = rate milli-tokens/ms; dt is capped so the product cannot wrap. */
    uint64_t add = (dt > 86400000 ? 86400000 : dt) * opts.rate[k];
    u->milli[k] = cap - u->milli[k] <= add ? cap : u->milli[k] + add;
  }
  for (size_t i = 0; i < n; i++)
    if (cost[i] > UINT64_MAX / 1000 || u->milli[b[i]] < cost[i] * 1000) return 0;
  for (size_t i = 0; i < n; i++) u->milli[b[i]] -= cost[i] * 1000;
  return 1;
}

int noom_user_allow(sio_socket_t *s, noom_budget_t b, uint64_t cost) { return noom_user_allow_all(s, &b, &cost, 1); }

int noom_user_view_nick(const sio_remote_socket_t *v, char out[NOOM_MAX_NICK + 1]) {
  sio_args_t *a;
  sio_str_t nick;
  snprintf(out, NOOM_MAX_NICK + 1, "Anon");
  if (v->local) {
    snprintf(out, NOOM_MAX_NICK + 1, "%s", noom_user_nick(v->local));
    return 1;
  }
  if (sio_args_new(&a) != 0) return 0;
  int ok = sio_args_add_json(a, v->data_json, strlen(v->data_json)) == 0 &&
           sio_args_get_member_str(a, 0, "nickname", &nick) == 0 && nick.len <= NOOM_MAX_NICK;
  if (ok) snprintf(out, NOOM_MAX_NICK + 1, "%.*s", (int)nick.len, nick.ptr);
  sio_args_free(a);
  return ok;
}

void noom_ack_error(sio_ack_t *ack, const char *msg) {
  if (ack == NULL) return;
  sio_args_t *a, *v;
  if (sio_args_new(&a) != 0) return;
  if (sio_args_new(&v) == 0) {
    static const char *const keys[] = {"error"};
    sio_args_add_cstr(v, msg);
    sio_args_add_object(a, keys, v);
    sio_args_free(v);
  }
  sio_ack_send(ack, a);
  sio_args_free(a);
}

/* ---- validation ---- */

/* Trims ASCII white space and checks 1..max bytes with no control characters. */
static const char *take_text(const sio_args_t *args, size_t i, size_t max, char *out, const char *what) {
  sio_str_t s;
  if (sio_args_get_str(args, i, &s) != 0) return what;
  while (s.len && strchr(" \t\r\n", s.ptr[0])) s.ptr++, s.len--;
  while (s.len && strchr(" \t\r\n", s.ptr[s.len - 1])) s.len--;
  if (s.len == 0 || s.len > max) return what;
  for (size_t k = 0; k < s.len; k++) {
    unsigned char c = (unsigned char)s.ptr[k];
    if (c < 0x20 || c == 0x7f) return what;
  }
  memcpy(out, s.ptr, s.len);
  out[s.len] = '\0';
  return NULL;
}

const char *noom_nick_arg(const sio_args_t *args, size_t i, char out[NOOM_MAX_NICK + 1]) {
  return take_text(args, i, NOOM_MAX_NICK, out, "nickname must be 1-32 characters");
}

const char *noom_room_arg(const sio_args_t *args, size_t i, char out[NOOM_MAX_ROOM + 1]) {
  return take_text(args, i, NOOM_MAX_ROOM, out, "room name must be 1-64 characters");
}

int noom_room_is_internal(const char *name, size_t len) { return len > 0 && name[0] == '\x01'; }

/* ---- leaving ---- */

static noom_leave_cb leave_hooks[4];
static size_t nleave_hooks;

int noom_on_room_leave(noom_leave_cb cb) {
  if (nleave_hooks == sizeof leave_hooks / sizeof leave_hooks[0]) return SIO_ENOMEM;
  leave_hooks[nleave_hooks++] = cb;
  return 0;
}

void noom_room_leave(sio_socket_t *s, const char *room) {
  for (size_t i = 0; i < nleave_hooks; i++) leave_hooks[i](s, room);
  sio_socket_leave(s, room);
}

/* ---- counting and joining across nodes ---- */

typedef struct {
  sio_socket_t *s;   /* referenced, or NULL (counts) */
  sio_ack_t *ack;    /* retained, or NULL */
  noom_joined_cb joined;
  noom_count_cb counted;
  char room[NOOM_MAX_ROOM + 1];
  char except[24];
  size_t user_size;
  max_align_t user[]; /* the caller's copied context */
} pending_t;

static pending_t *pending_new(const char *room, const void *user, size_t user_size) {
  pending_t *p = calloc(1, sizeof *p + user_size);
  if (p == NULL) return NULL;
  snprintf(p->room, sizeof p->room, "%s", room);
  if (user_size) memcpy(p->user, user, user_size);
  p->user_size = user_size;
  return p;
}

static void pending_free(pending_t *p) {
  sio_ack_free(p->ack); /* NULL, or not answered: dropped */
  if (p->s) sio_socket_unref(p->s);
  free(p);
}

static int contains(const char *const *ids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(ids[i], id) == 0) return 1;
  return 0;
}

static void members_known(int status, const char *const *ids, size_t n, void *u) {
  pending_t *p = u;
  sio_socket_t *s = p->s;
  if (status == SIO_ECANCELED || !sio_socket_connected(s)) goto done;
  /* A room whose members include the room's own name is that socket's id room. */
  int r = contains(ids, n, p->room) && strcmp(p->room, sio_socket_id(s)) != 0 ? SIO_EPERM : sio_socket_join(s, p->room);
  if (r != 0) {
    noom_ack_error(p->ack, r == SIO_EPERM    ? "room name is taken"
                           : r == SIO_ELIMIT ? "you are in too many rooms, leave one first"
                                             : "server busy, try again");
    p->ack = NULL; /* consumed */
    goto done;
  }
  size_t count = n + !contains(ids, n, sio_socket_id(s));
  p->joined(s, p->ack, p->room, count, p->user);
  p->ack = NULL; /* joined consumed it */
done:
  pending_free(p);
}

void noom_room_join(sio_socket_t *s, sio_ack_t *ack, const char *room, noom_joined_cb done, void *user, size_t user_size) {
  pending_t *p = pending_new(room, user, user_size);
  if (p == NULL) {
    noom_ack_error(ack, "server busy, try again");
    return;
  }
  p->s = sio_socket_ref(s);
  p->ack = ack ? sio_ack_retain(ack) : NULL;
  p->joined = done;
  const char *rooms[] = {p->room};
  if (sio_ns_all_sockets(sio_socket_ns(s), rooms, 1, members_known, p) != 0) {
    noom_ack_error(p->ack, "server busy, try again");
    p->ack = NULL;
    pending_free(p);
  }
}

static void counted(int status, const char *const *ids, size_t n, void *u) {
  pending_t *p = u;
  if (status != SIO_ECANCELED) p->counted(n - contains(ids, n, p->except), p->room, p->user);
  pending_free(p);
}

void noom_room_count(sio_ns_t *ns, const char *room, const char *except_id, noom_count_cb done, const void *user,
                     size_t user_size) {
  pending_t *p = pending_new(room, user, user_size);
  if (p == NULL) return;
  p->counted = done;
  snprintf(p->except, sizeof p->except, "%s", except_id ? except_id : "");
  const char *rooms[] = {p->room};
  if (sio_ns_all_sockets(ns, rooms, 1, counted, p) != 0) pending_free(p);
}
