/*
 * Lobby and chat (the course's server, done properly). Every handler validates its
 * arguments through one table-driven helper and answers a bad call with an ack carrying
 * {"error": "..."}; nothing from the client is trusted to be the right type or size.
 *
 * room_change(names, rooms): names is the sorted list of public rooms (rooms that are not
 * a socket's own id), as the course sends it; rooms repeats them as [{name, count}] so
 * the lobby can show "room (3)". A course client reads only the first argument.
 *
 * Several nodes (--redis): rooms and head counts are read across nodes (fetchSockets /
 * allSockets), so those reads complete in a callback; with the in-memory adapter the
 * callback runs at once and nothing changes. A node whose lobby changed refreshes its
 * own sockets' lobbies and tells the others (serverSideEmit "noom:lobby"), which refresh
 * theirs: each node re-reads after the last change it hears of, so every lobby ends up
 * with the last state.
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
static int refreshing, refresh_again; /* a lobby-wide refresh is in flight / wanted after it */

#define LOBBY_CHANGED "noom:lobby" /* serverSideEmit between nodes: a room changed */

/* ---- helpers ---- */

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

/* socket.data = {"nickname": ...}: what other nodes see of the user (fetchSockets). */
static void set_nick_data(sio_socket_t *s) {
  static const char *const keys[] = {"nickname"};
  sio_args_t *v, *obj;
  char *json;
  if (sio_args_new(&v) != 0) return;
  if (sio_args_new(&obj) == 0) {
    sio_args_add_cstr(v, user_of(s)->nick);
    if (sio_args_add_object(obj, keys, v) == 0 && sio_args_to_json(obj, 0, &json, NULL) == 0) {
      sio_socket_set_data_json(s, json);
      sio_free(json);
    }
    sio_args_free(obj);
  }
  sio_args_free(v);
}

/* ---- room_change ---- */

/*
 * Reading the lobby across nodes takes three cheap queries rather than one fetchSockets
 * (which would ship every socket's handshake): allRooms (room names, socket id rooms
 * included), allSockets (every socket id, to tell those id rooms apart), then allSockets
 * of each public room for its head count. With the in-memory adapter each callback runs
 * inside its call, and the cost is that of walking the rooms, as before.
 */
typedef struct lobby_read_s lobby_read_t;

typedef struct {
  lobby_read_t *read;
  size_t index;
} room_count_t;

struct lobby_read_s {
  sio_socket_t *only;   /* referenced; NULL: every socket of this node */
  char **names;         /* public rooms (owned), sorted */
  size_t n;
  size_t *counts;
  room_count_t *slots;  /* one per room, handed to its count query */
  size_t pending;       /* count queries not answered yet, plus one while starting */
  int canceled;         /* the server is shutting down */
};

static void send_rooms(sio_socket_t *only);

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void read_free(lobby_read_t *r) {
  for (size_t i = 0; i < r->n; i++) free(r->names[i]);
  free(r->names);
  free(r->counts);
  free(r->slots);
  if (r->only) sio_socket_unref(r->only);
  free(r);
}

/* room_change(names, [{name, count}]) for the rooms that still have members. */
static sio_args_t *rooms_args(const lobby_read_t *r) {
  sio_args_t *names, *list, *out;
  if (sio_args_new(&names) != 0) return NULL;
  if (sio_args_new(&list) != 0 || sio_args_new(&out) != 0) {
    sio_args_free(names);
    sio_args_free(list);
    return NULL;
  }
  static const char *const keys[] = {"name", "count"};
  for (size_t i = 0; i < r->n; i++) {
    sio_args_t *v;
    if (r->counts[i] == 0) continue; /* emptied while we were counting */
    sio_args_add_cstr(names, r->names[i]);
    if (sio_args_new(&v) == 0) {
      sio_args_add_cstr(v, r->names[i]);
      sio_args_add_int(v, (int64_t)r->counts[i]);
      sio_args_add_object(list, keys, v);
      sio_args_free(v);
    }
  }
  sio_args_add_array(out, names);
  sio_args_add_array(out, list);
  sio_args_free(names);
  sio_args_free(list);
  return out;
}

/* Every count is in: send room_change. Statuses other than a shutdown are not errors
 * here: a node that did not answer in time only lacks its part. */
static void read_done(lobby_read_t *r) {
  sio_args_t *out = r->canceled ? NULL : rooms_args(r);
  if (out && r->only && sio_socket_connected(r->only)) {
    sio_socket_emit(r->only, "room_change", out);
  } else if (out && r->only == NULL) {
    sio_broadcast_opts_t here = {NULL, 0, NULL, 0, SIO_BCAST_LOCAL};
    sio_ns_emit(lobby, &here, "room_change", out);
  }
  sio_args_free(out);
  int whole = r->only == NULL;
  read_free(r);
  if (whole) {
    refreshing = 0;
    if (refresh_again) {
      refresh_again = 0;
      send_rooms(NULL);
    }
  }
}

static void room_counted(int status, const char *const *ids, size_t n, void *u) {
  room_count_t *slot = u;
  lobby_read_t *r = slot->read;
  if (status == SIO_ECANCELED) r->canceled = 1;
  r->counts[slot->index] = n;
  if (--r->pending == 0) read_done(r);
}

static int has(const char *const *v, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0) return 1;
  return 0;
}

/* The socket ids are known: keep the public rooms, count each. */
static void ids_known(int status, const char *const *ids, size_t nids, void *u) {
  lobby_read_t *r = u;
  if (status == SIO_ECANCELED) r->canceled = 1;
  /* Sorted ids: one binary search per room name (a lobby has many more ids than rooms). */
  const char **sorted = nids ? malloc(nids * sizeof *sorted) : NULL;
  size_t keep = 0;
  if (sorted) {
    memcpy(sorted, ids, nids * sizeof *sorted);
    qsort(sorted, nids, sizeof *sorted, by_name);
  }
  for (size_t i = 0; i < r->n; i++) {
    const char *name = r->names[i];
    int id_room = nids && (sorted ? bsearch(&name, sorted, nids, sizeof *sorted, by_name) != NULL : has(ids, nids, name));
    if (id_room || noom_call_is_internal_room(name, strlen(name))) free(r->names[i]);
    else r->names[keep++] = r->names[i];
  }
  free(sorted);
  r->n = keep;
  if (r->n > 1) qsort(r->names, r->n, sizeof *r->names, by_name);
  r->counts = calloc(r->n + 1, sizeof *r->counts);
  r->slots = calloc(r->n + 1, sizeof *r->slots);
  if (r->canceled || r->counts == NULL || r->slots == NULL) {
    r->canceled = 1;
    read_done(r);
    return;
  }
  r->pending = r->n + 1; /* +1: a count answered inside its call must not finish early */
  for (size_t i = 0; i < r->n; i++) {
    const char *rooms[] = {r->names[i]};
    r->slots[i] = (room_count_t){r, i};
    if (sio_ns_all_sockets(lobby, rooms, 1, room_counted, &r->slots[i]) != 0) r->pending--;
  }
  if (--r->pending == 0) read_done(r);
}

static void rooms_known(int status, const char *const *names, size_t n, void *u) {
  lobby_read_t *r = u;
  if (status == SIO_ECANCELED || (n && (r->names = malloc(n * sizeof *r->names)) == NULL)) {
    r->canceled = 1;
    read_done(r);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if ((r->names[r->n] = strdup(names[i])) != NULL) r->n++;
  if (sio_ns_all_sockets(lobby, NULL, 0, ids_known, r) != 0) {
    r->canceled = 1;
    read_done(r);
  }
}

/* room_change to one socket (a newcomer's lobby starts filled), or to every socket of
 * this node, one lobby-wide read at a time: a change during a read triggers one more
 * read after it, so the last change is always shown. */
static void send_rooms(sio_socket_t *only) {
  if (only == NULL && refreshing) {
    refresh_again = 1;
    return;
  }
  lobby_read_t *r = calloc(1, sizeof *r);
  if (r == NULL) return;
  r->only = only ? sio_socket_ref(only) : NULL;
  if (only == NULL) refreshing = 1;
  if (sio_ns_all_rooms(lobby, rooms_known, r) != 0) {
    r->canceled = 1;
    read_done(r);
  }
}

/* A room appeared, disappeared or changed size here: every node's lobby is refreshed. */
static void rooms_changed(void) {
  send_rooms(NULL);
  sio_ns_server_side_emit(lobby, LOBBY_CHANGED, NULL);
}

static void on_lobby_changed(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *u) {
  (void)ns, (void)args, (void)ack, (void)u;
  send_rooms(NULL);
}

/* Sends event(nick, count, room) to room, except the socket id (course clients read the
 * first two). By id, not socket: a count from other nodes may arrive after it left. */
static void announce(const char *id, const char *nick, const char *room, const char *event, size_t count) {
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, nick);
  sio_args_add_int(a, (int64_t)count);
  sio_args_add_cstr(a, room);
  const char *rooms[] = {room}, *except[] = {id};
  sio_broadcast_opts_t to = {rooms, 1, except, 1, 0};
  sio_ns_emit(lobby, &to, event, a);
  sio_args_free(a);
}

/* Keeps what a room count needs once the reply arrives (a socket may leave meanwhile). */
typedef struct {
  sio_socket_t *s;   /* referenced */
  sio_ack_t *ack;    /* retained, or NULL */
  char id[24];
  char nick[NOOM_MAX_NICK + 1];
  char room[NOOM_MAX_ROOM + 1];
  int refresh;       /* refresh the lobbies once done (a disconnect refreshes on its own) */
} pending_t;

static pending_t *pending_new(sio_socket_t *s, sio_ack_t *ack, const char *room) {
  pending_t *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->s = sio_socket_ref(s);
  p->ack = ack ? sio_ack_retain(ack) : NULL;
  snprintf(p->id, sizeof p->id, "%s", sio_socket_id(s));
  snprintf(p->nick, sizeof p->nick, "%s", user_of(s) ? user_of(s)->nick : "Anon");
  snprintf(p->room, sizeof p->room, "%s", room);
  return p;
}

static void pending_free(pending_t *p) {
  sio_ack_free(p->ack); /* NULL, or not answered: dropped */
  sio_socket_unref(p->s);
  free(p);
}

/* Number of ids other than id. */
static size_t others(const char *const *ids, size_t n, const char *id) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += strcmp(ids[i], id) != 0;
  return k;
}

/* Starts a cluster-wide read of p->room's members; done(p, ...) runs once. */
static void count_room(pending_t *p, sio_names_cb done) {
  const char *rooms[] = {p->room};
  if (sio_ns_all_sockets(lobby, rooms, 1, done, p) != 0) pending_free(p);
}

/* ---- events ---- */

/* enter_room, once the room's members on every node are known. */
static void entered(int status, const char *const *ids, size_t n, void *u) {
  pending_t *p = u;
  sio_socket_t *s = p->s;
  if (status == SIO_ECANCELED || !sio_socket_connected(s)) {
    pending_free(p);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(ids[i], p->room) == 0) {
      noom_ack_error(p->ack, "room name is taken");
      p->ack = NULL;
      pending_free(p);
      return;
    }
  }
  int r = sio_socket_join(s, p->room);
  if (r != 0) {
    noom_ack_error(p->ack, sio_strerror(r));
    p->ack = NULL;
    pending_free(p);
    return;
  }
  size_t count = others(ids, n, p->id) + 1;
  sio_args_t *a;
  if (p->ack && sio_args_new(&a) == 0) {
    static const char *const keys[] = {"room", "count", "nickname"};
    sio_args_t *v;
    if (sio_args_new(&v) == 0) {
      sio_args_add_cstr(v, p->room);
      sio_args_add_int(v, (int64_t)count);
      sio_args_add_cstr(v, user_of(s)->nick);
      sio_args_add_object(a, keys, v);
      sio_args_free(v);
    }
    ack_ok(p->ack, a);
    p->ack = NULL;
    sio_args_free(a);
  }
  announce(p->id, user_of(s)->nick, p->room, "welcome", count);
  pending_free(p);
  rooms_changed();
}

static void on_enter_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char nick[NOOM_MAX_NICK + 1], room[NOOM_MAX_ROOM + 1];
  const char *err;
  size_t room_arg = 0;
  if (sio_args_count(args) >= 2 && sio_args_type(args, 1) == SIO_ARG_STRING) {
    /* enter_room(nickname, roomName, done) */
    if ((err = take_text(args, 0, NOOM_MAX_NICK, nick, "nickname must be 1-32 characters")) != NULL) {
      noom_ack_error(ack, err);
      return;
    }
    room_arg = 1;
    strcpy(user_of(s)->nick, nick);
  }
  if ((err = take_text(args, room_arg, NOOM_MAX_ROOM, room, "room name must be 1-64 characters")) != NULL) {
    noom_ack_error(ack, err);
    return;
  }
  if (room_arg == 1) set_nick_data(s);
  /* Who is in the room on every node: the head count, and whether the name is a
   * socket's own id room (joining one would let a user read that socket's messages). */
  pending_t *p = pending_new(s, ack, room);
  if (p == NULL) {
    noom_ack_error(ack, "server busy, try again");
    return;
  }
  count_room(p, entered);
}

/* bye(nick, count, room) once the room's remaining members are counted; p->id is left
 * out of the count (it is still in the room while it disconnects). */
static void said_bye(int status, const char *const *ids, size_t n, void *u) {
  pending_t *p = u;
  if (status != SIO_ECANCELED) {
    announce(p->id, p->nick, p->room, "bye", others(ids, n, p->id));
    if (p->refresh) rooms_changed();
  }
  pending_free(p);
}

static void on_leave_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1];
  const char *err = take_text(args, 0, NOOM_MAX_ROOM, room, "room name must be 1-64 characters");
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  noom_call_leave_room(s, room);
  sio_socket_leave(s, room);
  ack_ok(ack, NULL);
  pending_t *p = pending_new(s, NULL, room);
  if (p) {
    p->refresh = 1;
    count_room(p, said_bye);
  }
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
    noom_ack_error(ack, "message must be 1-2000 bytes of text");
    return;
  }
  const char *err = take_text(args, 1, NOOM_MAX_ROOM, room, "room name must be 1-64 characters");
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err == NULL && !rate_ok(user_of(s))) err = "too many messages, slow down";
  if (err) {
    noom_ack_error(ack, err);
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
    noom_ack_error(ack, err);
    return;
  }
  strcpy(user_of(s)->nick, nick);
  set_nick_data(s);
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
  set_nick_data(s);
  sio_log_printf(SIO_LOG_INFO, "connect %s from %s (%s)", sio_socket_id(s), sio_socket_address(s),
                 sio_socket_transport(s));
  send_rooms(s);
}

const char *noom_lobby_nickname(const sio_socket_t *s) {
  const user_t *u = sio_socket_get_data(s);
  return u ? u->nick : "Anon";
}

int noom_lobby_view_nickname(const sio_remote_socket_t *v, char out[NOOM_MAX_NICK + 1]) {
  sio_args_t *a;
  sio_str_t nick;
  snprintf(out, NOOM_MAX_NICK + 1, "Anon");
  if (v->local) {
    snprintf(out, NOOM_MAX_NICK + 1, "%s", noom_lobby_nickname(v->local));
    return 1;
  }
  if (sio_args_new(&a) != 0) return 0;
  int ok = sio_args_add_json(a, v->data_json, strlen(v->data_json)) == 0 &&
           sio_args_get_member_str(a, 0, "nickname", &nick) == 0 && nick.len <= NOOM_MAX_NICK;
  if (ok) snprintf(out, NOOM_MAX_NICK + 1, "%.*s", (int)nick.len, nick.ptr);
  sio_args_free(a);
  return ok;
}

/* Each public room of the leaver hears bye with the count without it. */
static void say_bye(sio_str_t room, void *u) {
  sio_socket_t *s = u;
  char name[NOOM_MAX_ROOM + 1];
  if (room.len > NOOM_MAX_ROOM) return;
  memcpy(name, room.ptr, room.len);
  name[room.len] = '\0';
  if (strcmp(name, sio_socket_id(s)) == 0 || noom_call_is_internal_room(name, room.len)) return;
  pending_t *p = pending_new(s, NULL, name);
  if (p) count_room(p, said_bye);
}

static void on_disconnecting(sio_socket_t *s, const char *reason, void *u) {
  (void)reason, (void)u;
  if (user_of(s) == NULL) return;
  sio_socket_rooms(s, say_bye, s);
}

static void on_disconnect(sio_socket_t *s, const char *reason, void *u) {
  (void)u;
  user_t *user = user_of(s);
  if (user == NULL) return;
  sio_log_printf(SIO_LOG_INFO, "disconnect %s (%s)", sio_socket_id(s), reason);
  free(user);
  sio_socket_set_data(s, NULL);
  rooms_changed();
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
  r |= sio_ns_on_server_side(lobby, LOBBY_CHANGED, on_lobby_changed, NULL);
  return r ? SIO_ENOMEM : 0;
}
