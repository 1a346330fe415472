/*
 * Lobby and chat (the course's server, done properly). Every handler validates its
 * arguments through one table-driven helper and answers a bad call with an ack carrying
 * {"error": "..."}; nothing from the client is trusted to be the right type or size.
 *
 * room_change(names, rooms): names is the sorted list of public rooms (rooms that are not
 * a socket's own id), as the course sends it; rooms repeats them as [{name, count}] so
 * the lobby can show "room (3)". A course client reads only the first argument.
 */
#include "lobby.h"

#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "sio.h"

typedef struct {
  char nick[NOOM_MAX_NICK + 1];
  double tokens;      /* rate limiter bucket */
  uint64_t refill_at; /* loop time of the last refill (ms) */
} user_t;

static uv_loop_t *loop;
static noom_lobby_opts_t opts;
static sio_ns_t *lobby;

/* ---- helpers ---- */

static void ack_error(sio_ack_t *ack, const char *msg) {
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

static void ack_ok(sio_ack_t *ack, sio_args_t *a) {
  if (ack) sio_ack_send(ack, a);
}

/* Trims ASCII white space and checks 1..max bytes with no control characters. Writes a
 * NUL-terminated copy into out (max + 1 bytes). Returns NULL or the error text. */
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

static user_t *user_of(sio_socket_t *s) { return sio_socket_get_data(s); }

/* ---- room_change ---- */

typedef struct {
  char **names;
  size_t n, cap;
} rooms_t;

static void collect_room(sio_str_t room, size_t size, int is_sid, void *u) {
  rooms_t *r = u;
  (void)size;
  if (is_sid || noom_call_is_internal_room(room.ptr, room.len)) return;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    char **nn = realloc(r->names, cap * sizeof *nn);
    if (nn == NULL) return;
    r->names = nn;
    r->cap = cap;
  }
  if ((r->names[r->n] = strndup(room.ptr, room.len)) != NULL) r->n++;
}

typedef struct {
  const char *name;
  int found;
} sid_room_t;

static void find_sid_room(sio_str_t room, size_t size, int is_sid, void *u) {
  sid_room_t *q = u;
  (void)size;
  if (is_sid && room.len == strlen(q->name) && memcmp(room.ptr, q->name, room.len) == 0) q->found = 1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* room_change to everyone, or to one socket (a newcomer's lobby starts filled). */
static void send_rooms(sio_socket_t *only) {
  rooms_t r = {0};
  sio_ns_rooms(lobby, collect_room, &r);
  qsort(r.names, r.n, sizeof *r.names, by_name);
  sio_args_t *names, *list, *out;
  if (sio_args_new(&names) || sio_args_new(&list) || sio_args_new(&out)) return;
  static const char *const keys[] = {"name", "count"};
  for (size_t i = 0; i < r.n; i++) {
    sio_args_t *v;
    sio_args_add_cstr(names, r.names[i]);
    if (sio_args_new(&v) == 0) {
      sio_args_add_cstr(v, r.names[i]);
      sio_args_add_int(v, (int64_t)sio_ns_room_size(lobby, r.names[i]));
      sio_args_add_object(list, keys, v);
      sio_args_free(v);
    }
    free(r.names[i]);
  }
  free(r.names);
  sio_args_add_array(out, names);
  sio_args_add_array(out, list);
  if (only) sio_socket_emit(only, "room_change", out);
  else sio_server_emit(sio_ns_server(lobby), "room_change", out);
  sio_args_free(names);
  sio_args_free(list);
  sio_args_free(out);
}

/* Sends event(nick, count, room) to room, except s (course clients read the first two). */
static void announce(sio_socket_t *s, const char *room, const char *event, size_t count) {
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, user_of(s)->nick);
  sio_args_add_int(a, (int64_t)count);
  sio_args_add_cstr(a, room);
  const char *rooms[] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, event, a);
  sio_args_free(a);
}

/* ---- events ---- */

static void on_enter_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char nick[NOOM_MAX_NICK + 1], room[NOOM_MAX_ROOM + 1];
  const char *err;
  size_t room_arg = 0;
  if (sio_args_count(args) >= 2 && sio_args_type(args, 1) == SIO_ARG_STRING) {
    /* enter_room(nickname, roomName, done) */
    if ((err = take_text(args, 0, NOOM_MAX_NICK, nick, "nickname must be 1-32 characters")) != NULL) {
      ack_error(ack, err);
      return;
    }
    room_arg = 1;
    strcpy(user_of(s)->nick, nick);
  }
  if ((err = take_text(args, room_arg, NOOM_MAX_ROOM, room, "room name must be 1-64 characters")) != NULL) {
    ack_error(ack, err);
    return;
  }
  sid_room_t q = {room, 0};
  if (strlen(room) == strlen(sio_socket_id(s))) sio_ns_rooms(lobby, find_sid_room, &q);
  if (q.found) {
    /* Joining a socket's own id room would let a user read that socket's messages. */
    ack_error(ack, "room name is taken");
    return;
  }
  int r = sio_socket_join(s, room);
  if (r != 0) {
    ack_error(ack, sio_strerror(r));
    return;
  }
  size_t count = sio_ns_room_size(lobby, room);
  sio_args_t *a;
  if (sio_args_new(&a) == 0) {
    static const char *const keys[] = {"room", "count", "nickname"};
    sio_args_t *v;
    if (sio_args_new(&v) == 0) {
      sio_args_add_cstr(v, room);
      sio_args_add_int(v, (int64_t)count);
      sio_args_add_cstr(v, user_of(s)->nick);
      sio_args_add_object(a, keys, v);
      sio_args_free(v);
    }
    ack_ok(ack, a);
    sio_args_free(a);
  }
  announce(s, room, "welcome", count);
  send_rooms(NULL);
}

static void on_leave_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1];
  const char *err = take_text(args, 0, NOOM_MAX_ROOM, room, "room name must be 1-64 characters");
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err) {
    ack_error(ack, err);
    return;
  }
  announce(s, room, "bye", sio_ns_room_size(lobby, room) - 1);
  noom_call_leave_room(s, room);
  sio_socket_leave(s, room);
  ack_ok(ack, NULL);
  send_rooms(NULL);
}

/* Token bucket: msg_burst messages at once, msg_rate per second sustained. */
static int rate_ok(user_t *u) {
  uint64_t now = uv_now(loop);
  u->tokens += (double)(now - u->refill_at) * (double)opts.msg_rate / 1000.0;
  if (u->tokens > (double)opts.msg_burst) u->tokens = (double)opts.msg_burst;
  u->refill_at = now;
  if (u->tokens < 1.0) return 0;
  u->tokens -= 1.0;
  return 1;
}

static void on_new_message(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  sio_str_t msg;
  char room[NOOM_MAX_ROOM + 1];
  if (sio_args_get_str(args, 0, &msg) != 0 || msg.len == 0 || msg.len > NOOM_MAX_MESSAGE) {
    ack_error(ack, "message must be 1-2000 bytes of text");
    return;
  }
  const char *err = take_text(args, 1, NOOM_MAX_ROOM, room, "room name must be 1-64 characters");
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err == NULL && !rate_ok(user_of(s))) err = "too many messages, slow down";
  if (err) {
    ack_error(ack, err);
    return;
  }
  /* "nickname: msg", as the course sends it. */
  size_t nl = strlen(user_of(s)->nick);
  char line[NOOM_MAX_NICK + 2 + NOOM_MAX_MESSAGE];
  memcpy(line, user_of(s)->nick, nl);
  memcpy(line + nl, ": ", 2);
  memcpy(line + nl + 2, msg.ptr, msg.len);
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_str(a, line, nl + 2 + msg.len);
  sio_args_add_cstr(a, room);
  const char *rooms[] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "new_message", a);
  sio_args_free(a);
  ack_ok(ack, NULL);
}

static void on_nickname(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char nick[NOOM_MAX_NICK + 1];
  const char *err = take_text(args, 0, NOOM_MAX_NICK, nick, "nickname must be 1-32 characters");
  if (err) {
    ack_error(ack, err);
    return;
  }
  strcpy(user_of(s)->nick, nick);
  sio_args_t *a;
  if (ack && sio_args_new(&a) == 0) {
    sio_args_add_cstr(a, nick);
    sio_ack_send(ack, a);
    sio_args_free(a);
  }
}

/* ---- connection lifecycle ---- */

static void on_connect(sio_socket_t *s, void *u) {
  (void)u;
  user_t *user = calloc(1, sizeof *user);
  if (user == NULL) {
    sio_socket_disconnect(s, 1);
    return;
  }
  strcpy(user->nick, "Anon");
  user->tokens = (double)opts.msg_burst;
  user->refill_at = uv_now(loop);
  sio_socket_set_data(s, user);
  sio_log_printf(SIO_LOG_INFO, "connect %s from %s (%s)", sio_socket_id(s), sio_socket_address(s),
                 sio_socket_transport(s));
  send_rooms(s);
}

const char *noom_lobby_nickname(const sio_socket_t *s) {
  const user_t *u = sio_socket_get_data(s);
  return u ? u->nick : "Anon";
}

typedef struct {
  sio_socket_t *s;
} bye_ctx_t;

static void say_bye(sio_str_t room, void *u) {
  bye_ctx_t *b = u;
  char name[NOOM_MAX_ROOM + 1];
  if (room.len > NOOM_MAX_ROOM) return;
  memcpy(name, room.ptr, room.len);
  name[room.len] = '\0';
  if (strcmp(name, sio_socket_id(b->s)) == 0 || noom_call_is_internal_room(name, room.len)) return;
  announce(b->s, name, "bye", sio_ns_room_size(lobby, name) - 1);
}

static void on_disconnecting(sio_socket_t *s, const char *reason, void *u) {
  (void)reason, (void)u;
  if (user_of(s) == NULL) return;
  bye_ctx_t b = {s};
  sio_socket_rooms(s, say_bye, &b);
}

static void on_disconnect(sio_socket_t *s, const char *reason, void *u) {
  (void)u;
  user_t *user = user_of(s);
  if (user == NULL) return;
  sio_log_printf(SIO_LOG_INFO, "disconnect %s (%s)", sio_socket_id(s), reason);
  free(user);
  sio_socket_set_data(s, NULL);
  send_rooms(NULL);
}

int noom_lobby_init(uv_loop_t *l, sio_server_t *io, const noom_lobby_opts_t *o) {
  loop = l;
  opts = *o;
  lobby = sio_server_main(io);
  int r = 0;
  r |= sio_ns_on_connect(lobby, on_connect, NULL);
  r |= sio_ns_on_disconnecting(lobby, on_disconnecting, NULL);
  r |= sio_ns_on_disconnect(lobby, on_disconnect, NULL);
  r |= sio_ns_on(lobby, "enter_room", on_enter_room, NULL);
  r |= sio_ns_on(lobby, "leave_room", on_leave_room, NULL);
  r |= sio_ns_on(lobby, "new_message", on_new_message, NULL);
  r |= sio_ns_on(lobby, "nickname", on_nickname, NULL);
  return r ? SIO_ENOMEM : 0;
}
