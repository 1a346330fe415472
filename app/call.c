/*
 * Signaling relay. Call membership is a hidden room per chat room ("\x01call:" + name):
 * room names from clients may not contain control characters, so these never collide
 * with a user's room, and the lobby filters them out.
 *
 * Relays go only to a target that shares a room with the sender (a room the sender is
 * in, or a socket that is in one of the sender's rooms), never back to the sender, with
 * the sender's id appended as the last argument (course clients ignore it). Payloads are
 * checked for shape and size first; anything else gets an {"error"} ack.
 *
 * With several nodes (--redis) the target socket and the call's members may be on
 * another node: they are read with a cluster-wide fetch, whose callback finishes the
 * request (at once with the in-memory adapter).
 */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "media/sfu.h"
#include "user.h"
#include "ops.h"

static sio_ns_t *ns;
static int sfu_on;                               /* --media sfu */
static int max_call = NOOM_CALL_MAX_PEERS;       /* people per call, oneself included */

int noom_call_max(void) { return max_call; }

#define CALL_PREFIX "\x01" "call:"

/* Reads a room name through the app's one validator. */
static int room_arg(const sio_args_t *args, size_t i, char out[NOOM_MAX_ROOM + 1]) {
  return noom_room_arg(args, i, out) == NULL;
}

static void call_room(const char *room, char out[NOOM_MAX_ROOM + 8]) { snprintf(out, NOOM_MAX_ROOM + 8, CALL_PREFIX "%s", room); }

/* Emits event(args..., sender id) to target (a room or a socket id) except the sender. */
static void relay(sio_socket_t *s, const char *target, const char *event, const sio_args_t *args, size_t nargs) {
  sio_args_t *out;
  if (sio_args_copy(args, 0, nargs, &out) != 0) return;
  sio_args_add_cstr(out, sio_socket_id(s));
  const char *rooms[] = {target};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, event, out);
  sio_args_free(out);
  noom_stats.relays++;
}

/* ---- does the target share a room with the sender? ---- */

/* A relay waiting for the target's rooms (the target may live on another node). */
typedef struct {
  sio_socket_t *s;    /* the sender, referenced */
  sio_ack_t *ack;     /* retained, or NULL */
  sio_args_t *args;   /* the payload to relay (copied) */
  const char *event;  /* static */
  char target[NOOM_MAX_ROOM + 1];
} relay_t;

/* 1 when one of the target's rooms, other than its own id room, has the sender in it. */
static int shares_room(sio_socket_t *sender, const sio_remote_socket_t *t) {
  if (strcmp(t->id, sio_socket_id(sender)) == 0) return 0;
  for (size_t i = 0; i < t->nrooms; i++) {
    /* Own-id rooms do not count: everybody is alone in theirs. */
    if (strcmp(t->rooms[i], t->id) != 0 && strcmp(t->rooms[i], sio_socket_id(sender)) != 0 &&
        sio_socket_in(sender, t->rooms[i]))
      return 1;
  }
  return 0;
}

static void relay_done(relay_t *r, int ok) {
  if (ok && sio_socket_connected(r->s)) {
    relay(r->s, r->target, r->event, r->args, 1);
    if (r->ack) sio_ack_send(r->ack, NULL);
  } else if (r->ack) {
    noom_ack_error(r->ack, "target does not share a room with you");
  }
  sio_args_free(r->args);
  sio_socket_unref(r->s);
  free(r);
}

static void on_target(int status, const sio_remote_socket_t *sockets, size_t n, void *u) {
  relay_t *r = u;
  int shared = 0;
  for (size_t i = 0; status != SIO_ECANCELED && i < n && !shared; i++) shared = shares_room(r->s, &sockets[i]);
  relay_done(r, shared);
}

/* Relays once the target is known to share a room with the sender. */
static void relay_checked(sio_socket_t *s, sio_ack_t *ack, const char *event, const sio_args_t *args, const char *target) {
  if (strcmp(target, sio_socket_id(s)) == 0) { /* never to oneself */
    noom_ack_error(ack, "target does not share a room with you");
    return;
  }
  if (sio_socket_in(s, target)) { /* a room the sender is in */
    relay(s, target, event, args, 1);
    if (ack) sio_ack_send(ack, NULL);
    return;
  }
  relay_t *r = calloc(1, sizeof *r);
  if (r == NULL || sio_args_copy(args, 0, 1, &r->args) != 0) {
    free(r);
    noom_ack_error(ack, "server busy, try again");
    return;
  }
  r->s = sio_socket_ref(s);
  r->ack = ack ? sio_ack_retain(ack) : NULL;
  r->event = event;
  snprintf(r->target, sizeof r->target, "%s", target);
  const char *rooms[] = {r->target};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  if (sio_ns_fetch_sockets_all(ns, &to, on_target, r) != 0) relay_done(r, 0);
}

/* ---- payload shapes ---- */

static int description_ok(const sio_args_t *a) {
  sio_str_t type, sdp;
  if (sio_args_type(a, 0) != SIO_ARG_OBJECT || sio_args_size(a, 0) > NOOM_MAX_SDP) return 0;
  if (sio_args_get_member_str(a, 0, "type", &type) != 0 || sio_args_get_member_str(a, 0, "sdp", &sdp) != 0) return 0;
  return (type.len == 5 && memcmp(type.ptr, "offer", 5) == 0) || (type.len == 6 && memcmp(type.ptr, "answer", 6) == 0) ||
         (type.len == 8 && memcmp(type.ptr, "pranswer", 8) == 0) || (type.len == 8 && memcmp(type.ptr, "rollback", 8) == 0);
}

static int candidate_ok(const sio_args_t *a) {
  int t = sio_args_type(a, 0);
  if (t == SIO_ARG_NULL) return 1; /* end of candidates: passed through */
  if (sio_args_size(a, 0) > NOOM_MAX_CANDIDATE) return 0;
  if (t == SIO_ARG_STRING) return 1;
  sio_str_t c;
  return t == SIO_ARG_OBJECT && sio_args_get_member_str(a, 0, "candidate", &c) == 0;
}

static void relay_event(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, const char *event, int (*shape)(const sio_args_t *)) {
  char target[NOOM_MAX_ROOM + 1];
  if (sio_args_count(args) < 2 || !shape(args)) {
    noom_ack_error(ack, "bad payload");
    return;
  }
  /* A count and a byte budget: a tight loop of 60 KB offers stops here, not at the
   * receivers' send queues. */
  static const noom_budget_t relay[] = {NOOM_BUDGET_RELAY, NOOM_BUDGET_BYTES};
  const uint64_t cost[] = {1, sio_args_size(args, 0)};
  if (!noom_user_allow_all(s, relay, cost, 2)) {
    noom_ack_error(ack, NOOM_SLOW_DOWN);
    return;
  }
  if (!room_arg(args, 1, target)) {
    noom_ack_error(ack, "target does not share a room with you");
    return;
  }
  relay_checked(s, ack, event, args, target);
}

static void on_offer(sio_socket_t *s, const sio_args_t *a, sio_ack_t *ack, void *u) {
  (void)u;
  relay_event(s, a, ack, "offer", description_ok);
}
static void on_answer(sio_socket_t *s, const sio_args_t *a, sio_ack_t *ack, void *u) {
  (void)u;
  relay_event(s, a, ack, "answer", description_ok);
}
static void on_ice(sio_socket_t *s, const sio_args_t *a, sio_ack_t *ack, void *u) {
  (void)u;
  relay_event(s, a, ack, "ice", candidate_ok);
}

/* ---- the course's join_room ---- */

/* join_room(roomName, done?): the course's 1:1 call room. It goes through the app's one
 * room join, so a socket's own id room (on any node) cannot be joined here either. */
static void joined(sio_socket_t *s, sio_ack_t *ack, const char *room, size_t count, void *u) {
  (void)count, (void)u;
  if (ack) sio_ack_send(ack, NULL);
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, sio_socket_id(s));
  const char *rooms[] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "welcome", a);
  sio_args_free(a);
}

static void on_join_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1];
  const char *err = noom_room_arg(args, 0, room);
  if (err == NULL && !noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) err = NOOM_SLOW_DOWN;
  if (err) {
    noom_ack_error(ack, err);
    return;
  }
  noom_room_join(s, ack, room, joined, NULL, 0);
}

/* ---- group calls ---- */

/* A call_join waiting for the call's members (on every node). */
typedef struct {
  sio_socket_t *s;   /* referenced */
  sio_ack_t *ack;    /* retained, or NULL */
  char croom[NOOM_MAX_ROOM + 8];
} join_t;

/* Emits event(id, nickname) to the call room except the sender. */
static void announce(sio_socket_t *s, const char *croom, const char *event) {
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, sio_socket_id(s));
  sio_args_add_cstr(a, noom_user_nick(s));
  const char *rooms[] = {croom};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, event, a);
  sio_args_free(a);
}

/* call_join once the members are known: refuse a seventh, else join, answer with the
 * peers already there and tell them (they offer to the newcomer, the course's flow). */
static void call_members(int status, const sio_remote_socket_t *sockets, size_t n, void *u) {
  join_t *j = u;
  sio_socket_t *s = j->s;
  if (status == SIO_ECANCELED || !sio_socket_connected(s)) goto done;
  size_t members = 0;
  for (size_t i = 0; i < n; i++) members += strcmp(sockets[i].id, sio_socket_id(s)) != 0;
  if (!sio_socket_in(s, j->croom) && members >= (size_t)max_call) {
    char why[64];
    snprintf(why, sizeof why, "the call is full (%d people at most)", max_call);
    noom_ack_error(j->ack, why);
    j->ack = NULL;
    goto done;
  }
  /* SFU: the media state exists from the join on, so others' offers can name us. */
  if (sfu_on && noom_sfu_join(s, j->croom) != 0) {
    noom_ack_error(j->ack, "server busy, try again");
    j->ack = NULL;
    goto done;
  }
  sio_args_t *a, *list;
  if (sio_args_new(&a) != 0) goto done;
  if (sio_args_new(&list) != 0) {
    sio_args_free(a);
    goto done;
  }
  static const char *const peer_keys[] = {"id", "nickname"};
  for (size_t i = 0; i < n; i++) {
    char nick[NOOM_MAX_NICK + 1];
    sio_args_t *v;
    if (strcmp(sockets[i].id, sio_socket_id(s)) == 0 || sio_args_new(&v) != 0) continue;
    noom_user_view_nick(&sockets[i], nick);
    sio_args_add_cstr(v, sockets[i].id);
    sio_args_add_cstr(v, nick);
    sio_args_add_object(list, peer_keys, v);
    sio_args_free(v);
  }
  sio_socket_join(s, j->croom);
  noom_stats.call_joins++;
  /* "media" only with the SFU: a mesh ack stays what course clients know. */
  static const char *const keys[] = {"peers", "max", "media"};
  sio_args_t *v;
  if (sio_args_new(&v) == 0) {
    sio_args_add_array(v, list);
    sio_args_add_int(v, max_call);
    if (sfu_on) sio_args_add_cstr(v, "sfu");
    sio_args_add_object(a, keys, v);
    sio_args_free(v);
  }
  if (j->ack) sio_ack_send(j->ack, a);
  j->ack = NULL;
  sio_args_free(a);
  sio_args_free(list);
  announce(s, j->croom, "call_peer_joined");
done:
  sio_ack_free(j->ack);
  sio_socket_unref(s);
  free(j);
}

static void on_call_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1];
  if (!room_arg(args, 0, room) || !sio_socket_in(s, room)) {
    noom_ack_error(ack, "enter the room first");
    return;
  }
  if (!noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) {
    noom_ack_error(ack, NOOM_SLOW_DOWN);
    return;
  }
  join_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    noom_ack_error(ack, "server busy, try again");
    return;
  }
  j->s = sio_socket_ref(s);
  j->ack = ack ? sio_ack_retain(ack) : NULL;
  call_room(room, j->croom);
  const char *rooms[] = {j->croom};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  if (sio_ns_fetch_sockets_all(ns, &to, call_members, j) != 0) {
    noom_ack_error(j->ack, "server busy, try again");
    sio_socket_unref(s);
    free(j);
  }
}

static void leave_call(sio_socket_t *s, const char *croom) {
  if (sfu_on) noom_sfu_leave(sio_socket_id(s), croom);
  if (!sio_socket_in(s, croom)) return;
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, sio_socket_id(s));
  const char *rooms[] = {croom};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "peer_left", a);
  sio_args_free(a);
  sio_socket_leave(s, croom);
}

/* Leaving a chat room ends one's call there (noom_on_room_leave). */
static void leave_room_call(sio_socket_t *s, const char *room) {
  char croom[NOOM_MAX_ROOM + 8];
  call_room(room, croom);
  leave_call(s, croom);
}

static void on_call_leave(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1], croom[NOOM_MAX_ROOM + 8];
  if (!room_arg(args, 0, room)) {
    noom_ack_error(ack, "room name must be 1-64 characters");
    return;
  }
  if (!noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) {
    noom_ack_error(ack, NOOM_SLOW_DOWN);
    return;
  }
  call_room(room, croom);
  leave_call(s, croom);
  if (ack) sio_ack_send(ack, NULL);
}

/* call_state(room, {muted, cameraOff}) -> peer_state(id, state) to the call. */
static void on_call_state(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char room[NOOM_MAX_ROOM + 1], croom[NOOM_MAX_ROOM + 8];
  if (!room_arg(args, 0, room) || sio_args_type(args, 1) != SIO_ARG_OBJECT || sio_args_size(args, 1) > 1024) {
    noom_ack_error(ack, "bad payload");
    return;
  }
  call_room(room, croom);
  if (!sio_socket_in(s, croom)) {
    noom_ack_error(ack, "not in that call");
    return;
  }
  if (!noom_user_allow(s, NOOM_BUDGET_EVENT, 1)) {
    noom_ack_error(ack, NOOM_SLOW_DOWN);
    return;
  }
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, sio_socket_id(s));
  sio_args_add_arg(a, args, 1);
  const char *rooms[] = {croom};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "peer_state", a);
  sio_args_free(a);
  if (ack) sio_ack_send(ack, NULL);
}

/* Leaving a chat room, or the server, ends one's calls there. */
static void leave_calls(sio_str_t room, void *u) {
  sio_socket_t *s = u;
  char name[NOOM_MAX_ROOM + 8];
  if (room.len >= sizeof name || !noom_room_is_internal(room.ptr, room.len)) return;
  memcpy(name, room.ptr, room.len);
  name[room.len] = '\0';
  if (sfu_on) noom_sfu_leave(sio_socket_id(s), name);
  /* Announce only: the disconnect removes the membership itself. */
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, sio_socket_id(s));
  const char *rooms[] = {name};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "peer_left", a);
  sio_args_free(a);
}

static void on_disconnecting(sio_socket_t *s, const char *reason, void *u) {
  (void)u;
  /* A kept session stays in its calls (the media runs peer to peer meanwhile): peer_left
   * waits for the window (session.h, whose farewell below says it). */
  if (!noom_session_kept(reason)) sio_socket_rooms(s, leave_calls, s);
}

/* A kept session that never came back: peer_left in each call it was in. */
static void farewell(const char *id, const char *nick, const char *room) {
  (void)nick;
  if (!noom_room_is_internal(room, strlen(room))) return;
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, id);
  const char *rooms[] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_ns_emit(ns, &to, "peer_left", a);
  sio_args_free(a);
}

/* The SFU saw no ICE consent for too long: the browser is gone; end its part. */
static void sfu_expired(sio_socket_t *s, const char *croom) {
  leave_call(s, croom);
  /* Tell the page too: its socket may be fine while its media is not. */
  sio_args_t *a;
  if (!sio_socket_connected(s) || sio_args_new(&a) != 0) return;
  sio_args_add_cstr(a, croom + strlen(CALL_PREFIX));
  sio_args_add_cstr(a, "the media connection to the server was lost");
  sio_socket_emit(s, "call_ended", a);
  sio_args_free(a);
}

int noom_call_init(sio_server_t *io, const noom_call_opts_t *o) {
  ns = sio_server_main(io);
  sfu_on = o && o->sfu;
  if (o && o->max_call > 1) max_call = o->max_call;
  if (sfu_on) noom_sfu_set_expire(sfu_expired);
  int r = 0;
  r |= sio_ns_on(ns, "join_room", on_join_room, NULL);
  r |= sio_ns_on(ns, "offer", on_offer, NULL);
  r |= sio_ns_on(ns, "answer", on_answer, NULL);
  r |= sio_ns_on(ns, "ice", on_ice, NULL);
  r |= sio_ns_on(ns, "call_join", on_call_join, NULL);
  r |= sio_ns_on(ns, "call_leave", on_call_leave, NULL);
  r |= sio_ns_on(ns, "call_state", on_call_state, NULL);
  r |= sio_ns_on_disconnecting(ns, on_disconnecting, NULL);
  r |= noom_on_room_leave(leave_room_call);
  r |= noom_session_on_farewell(farewell);
  return r ? SIO_ENOMEM : 0;
}
