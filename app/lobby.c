/*
 * Lobby and chat (the course's server, done properly). Every handler validates its
 * arguments through user.h's validators, spends from the caller's budget, and answers a
 * bad call with an ack carrying {"error": "..."} and no other effect; nothing from the
 * client is trusted to be the right type or size.
 *
 * The room list (room_change) is roomlist.c's: it follows the rooms by itself, so the
 * handlers here only join and leave. Head counts in acks, welcome and bye span every
 * node (--redis): they are read across nodes, so those handlers finish in a callback
 * (at once with the in-memory adapter).
 */
#include "lobby.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "logfmt.h"
#include "ops.h"
#include "roomlist.h"
#include "session.h"
#include "user.h"

static sio_ns_t *lobby;


static void ack_ok(sio_ack_t *ack, sio_args_t *a) {
  if (ack) sio_ack_send(ack, a);
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

/* ---- enter_room ---- */

typedef struct {
  int rename;                    /* the caller gave a nickname */
  char nick[NOOM_MAX_NICK + 1];
} enter_t;

/* The answer waits for the room's history (a store read at most, never blocking). */
typedef struct {
  sio_ack_t *ack;
  size_t count;
  char room[NOOM_MAX_ROOM + 1];
  char nick[NOOM_MAX_NICK + 1];
} entry_t;

/* Answers a kept ack with {error: "server busy, try again"} when its answer could not be
 * built, or frees it when even that fails: a kept ack is answered or freed, never leaked. */
static void ack_busy(sio_ack_t *ack) {
  static const char busy[] = "{\"error\":\"server busy, try again\"}";
  sio_args_t *a = NULL;
  if (ack == NULL) return;
  if (sio_args_new(&a) == 0 && sio_args_add_json_text(a, busy, sizeof busy - 1) == 0) sio_ack_send(ack, a);
  else sio_ack_free(ack);
  sio_args_free(a);
}

/* The answer {room, count, nickname, history} is written as JSON text: the history is
 * the messages' own texts joined, so 50 messages cost 50 memcpys and no tree. */
static void send_entered(noom_msg_t *const *msgs, size_t n, void *u) {
  entry_t *e = u;
  noom_json_t j = {0};
  noom_json_raw(&j, "{\"room\":", 8);
  noom_json_cstr(&j, e->room);
  noom_json_raw(&j, ",\"count\":", 9);
  noom_json_int(&j, (int64_t)e->count);
  noom_json_raw(&j, ",\"nickname\":", 12);
  noom_json_cstr(&j, e->nick);
  noom_json_raw(&j, ",\"history\":", 11);
  noom_history_put_list(&j, msgs, n);
  noom_json_raw(&j, "}", 1);
  sio_args_t *a;
  if (!j.err && sio_args_new(&a) == 0) {
    if (sio_args_add_json_text(a, j.p, j.len) == 0) {
      ack_ok(e->ack, a);
      e->ack = NULL;
    }
    sio_args_free(a);
  }
  free(j.p);
  ack_busy(e->ack); /* when it could not be sent */
  free(e);
}

/* The room is joined: only now does the nickname change (a refused call changes
 * nothing). */
static void entered(sio_socket_t *s, sio_ack_t *ack, const char *room, size_t count, void *u) {
  const enter_t *en = u;
  if (en->rename) noom_user_set_nick(s, en->nick);
  entry_t *e = ack ? calloc(1, sizeof *e) : NULL;
  if (e) {
    e->ack = ack;
    e->count = count;
    snprintf(e->room, sizeof e->room, "%s", room);
    snprintf(e->nick, sizeof e->nick, "%s", noom_user_nick(s));
    if (noom_history_latest(room, send_entered, e) != 0) send_entered(NULL, 0, e);
  } else {
    noom_ack_error(ack, "server busy, try again");
  }
  announce(sio_socket_id(s), noom_user_nick(s), room, "welcome", count);
}

static void on_enter_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  enter_t e = {0};
  char room[NOOM_MAX_ROOM + 1];
  const char *err = NULL;
  size_t room_arg = 0;
  if (sio_args_count(args) >= 2 && sio_args_type(args, 1) == SIO_ARG_STRING) {
    /* enter_room(nickname, roomName, done) */
    err = noom_nick_arg(args, 0, e.nick);
    e.rename = 1;
    room_arg = 1;
  }
  if (err == NULL) err = noom_room_arg(args, room_arg, room);
  if (err == NULL && !noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) err = NOOM_SLOW_DOWN;
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  noom_room_join(s, ack, room, entered, &e, sizeof e);
}

/* ---- leave_room and disconnect ---- */

typedef struct {
  char id[24];
  char nick[NOOM_MAX_NICK + 1];
} bye_t;

static void said_bye(size_t count, const char *room, void *u) {
  const bye_t *b = u;
  announce(b->id, b->nick, room, "bye", count);
}

/* bye(nick, count, room) once the room's other members are counted: s is left out of
 * the count (it is still in the room while it disconnects). */
static void say_bye(sio_socket_t *s, const char *room) {
  bye_t b;
  snprintf(b.id, sizeof b.id, "%s", sio_socket_id(s));
  snprintf(b.nick, sizeof b.nick, "%s", noom_user_nick(s));
  noom_room_count(lobby, room, b.id, said_bye, &b, sizeof b);
}

static void on_leave_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1];
  const char *err = noom_room_arg(args, 0, room);
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err == NULL && !noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) err = NOOM_SLOW_DOWN;
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  noom_room_leave(s, room);
  ack_ok(ack, NULL);
  say_bye(s, room);
}

/* Each public room of the leaver hears bye with the count without it. */
static void bye_each(sio_str_t room, void *u) {
  sio_socket_t *s = u;
  char name[NOOM_MAX_ROOM + 1];
  if (room.len > NOOM_MAX_ROOM || noom_room_is_internal(room.ptr, room.len)) return;
  memcpy(name, room.ptr, room.len);
  name[room.len] = '\0';
  if (strcmp(name, sio_socket_id(s)) != 0) say_bye(s, name);
}

static void on_disconnecting(sio_socket_t *s, const char *reason, void *u) {
  (void)u;
  if (sio_socket_get_data(s) == NULL) return;
  /* A kept session is away, not gone: its bye waits for the window (session.h). */
  if (noom_session_kept(reason)) noom_session_defer(s);
  else sio_socket_rooms(s, bye_each, s);
}

/* A kept session that never came back: bye in each public room it was in. */
static void farewell(const char *id, const char *nick, const char *room) {
  if (noom_room_is_internal(room, strlen(room))) return;
  bye_t b;
  snprintf(b.id, sizeof b.id, "%s", id);
  snprintf(b.nick, sizeof b.nick, "%s", nick);
  noom_room_count(lobby, room, b.id, said_bye, &b, sizeof b);
}

/* ---- chat ---- */

static void on_new_message(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  sio_str_t msg;
  char room[NOOM_MAX_ROOM + 1];
  if (sio_args_get_str(args, 0, &msg) != 0 || msg.len == 0 || msg.len > NOOM_MAX_MESSAGE) {
    noom_ack_error(ack, "message must be 1-2000 bytes of text");
    return;
  }
  const char *err = noom_room_arg(args, 1, room);
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err == NULL && !noom_user_allow(s, NOOM_BUDGET_MESSAGE, 1)) err = "too many messages, slow down";
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  /* "nickname: msg", as the course sends it. */
  const char *nick = noom_user_nick(s);
  size_t nl = strlen(nick);
  char line[NOOM_MAX_NICK + 2 + NOOM_MAX_MESSAGE];
  memcpy(line, nick, nl);
  memcpy(line + nl, ": ", 2);
  memcpy(line + nl + 2, msg.ptr, msg.len);
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_str(a, line, nl + 2 + msg.len);
  sio_args_add_cstr(a, room);
  /* Stored only now that it is accepted; the third argument is the stored form. */
  noom_msg_t *stored = noom_history_add(room, nick, msg.ptr, msg.len);
  if (stored) noom_history_add_msg(a, stored);
  const char *rooms[] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "new_message", a);
  sio_args_free(a);
  noom_stats.messages++;
  noom_msg_unref(stored);
  ack_ok(ack, NULL);
}

/* ---- history(roomName, {before, limit}, done) ---- */

static void send_page(noom_msg_t *const *msgs, size_t n, void *u) {
  sio_ack_t *ack = u;
  noom_json_t j = {0};
  noom_json_raw(&j, "{\"messages\":", 12);
  noom_history_put_list(&j, msgs, n);
  noom_json_raw(&j, "}", 1);
  sio_args_t *a;
  if (!j.err && sio_args_new(&a) == 0) {
    if (sio_args_add_json_text(a, j.p, j.len) == 0) {
      sio_ack_send(ack, a);
      ack = NULL;
    }
    sio_args_free(a);
  }
  free(j.p);
  ack_busy(ack);
}

static void on_history(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1], before[NOOM_MSG_ID];
  int64_t limit = 50;
  sio_str_t b = {0};
  const char *err = noom_room_arg(args, 0, room);
  if (err == NULL && (!sio_socket_in(s, room) || strcmp(room, sio_socket_id(s)) == 0)) err = "not in that room";
  if (err == NULL && sio_args_count(args) >= 2 && sio_args_type(args, 1) != SIO_ARG_OBJECT) err = "options must be {before, limit}";
  if (err == NULL && sio_args_count(args) >= 2) {
    sio_args_t *m;
    if (sio_args_has_member(args, 1, "before") &&
        (sio_args_get_member_str(args, 1, "before", &b) != 0 || b.len == 0 || b.len >= sizeof before))
      err = "before must be a message id";
    if (err == NULL && sio_args_member(args, 1, "limit", &m) == 0) {
      if (sio_args_get_int(m, 0, &limit) != 0 || limit < 1 || limit > NOOM_HISTORY_PAGE_MAX)
        err = "limit must be 1-200";
      sio_args_free(m);
    }
  }
  if (err == NULL && !noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) err = NOOM_SLOW_DOWN;
  if (err == NULL && ack == NULL) return;
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  if (b.len) {
    memcpy(before, b.ptr, b.len);
    before[b.len] = '\0';
  }
  ack = sio_ack_retain(ack);
  if (noom_history_before(room, b.len ? before : NULL, (size_t)limit, send_page, ack) != 0) {
    noom_ack_error(ack, "server busy, try again");
  }
}

static void on_nickname(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char nick[NOOM_MAX_NICK + 1];
  const char *err = noom_nick_arg(args, 0, nick);
  if (err == NULL && !noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) err = NOOM_SLOW_DOWN;
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  noom_user_set_nick(s, nick);
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
  if (noom_user_attach(s) != 0) {
    sio_socket_disconnect(s, 1);
    return;
  }
  int back = sio_socket_recovered(s);
  if (back) {
    /* Its rooms and socket data came back with it: no welcome, no bye pending. */
    noom_user_restore(s);
    noom_session_back(s);
  }
  noom_log_event(SIO_LOG_INFO, back ? "recovered" : "connect",
                 &(noom_log_fields_t){sio_socket_id(s), sio_socket_address(s), sio_socket_transport(s), NULL},
                 "%s %s from %s (%s)", back ? "recovered" : "connect", sio_socket_id(s), sio_socket_address(s),
                 sio_socket_transport(s));
  noom_roomlist_greet(s);
}

static void on_disconnect(sio_socket_t *s, const char *reason, void *u) {
  (void)u;
  if (sio_socket_get_data(s) == NULL) return;
  noom_log_event(SIO_LOG_INFO, "disconnect", &(noom_log_fields_t){sio_socket_id(s), sio_socket_address(s), NULL, reason},
                 "disconnect %s (%s)", sio_socket_id(s), reason);
  noom_user_detach(s);
}

int noom_lobby_init(uv_loop_t *loop, sio_server_t *io, const noom_lobby_opts_t *o) {
  lobby = sio_server_main(io);
  noom_user_init(loop, &o->budgets);
  int r = noom_roomlist_init(loop, lobby, &o->list);
  if (r == 0) r = noom_session_init(loop, lobby, o->recovery_ms);
  if (r == 0) r = noom_session_on_farewell(farewell);
  if (r != 0) return r;
  r |= sio_ns_on_connect(lobby, on_connect, NULL);
  r |= sio_ns_on_disconnecting(lobby, on_disconnecting, NULL);
  r |= sio_ns_on_disconnect(lobby, on_disconnect, NULL);
  r |= sio_ns_on(lobby, "enter_room", on_enter_room, NULL);
  r |= sio_ns_on(lobby, "leave_room", on_leave_room, NULL);
  r |= sio_ns_on(lobby, "new_message", on_new_message, NULL);
  r |= sio_ns_on(lobby, "nickname", on_nickname, NULL);
  r |= sio_ns_on(lobby, "history", on_history, NULL);
  r |= noom_history_attach(lobby);
  return r ? SIO_ENOMEM : 0;
}

void noom_lobby_close(void) {
  noom_roomlist_close();
  noom_session_close();
}
