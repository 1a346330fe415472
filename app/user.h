/*
 * What the app's event handlers share: the per-socket user (nickname, rate buckets),
 * the one validator of nicknames and room names, the {"error"} answer, and the cluster-
 * wide room join that every app event which joins a room goes through. lobby.c and
 * call.c both build on this file and not on each other.
 */
#ifndef NOOM_USER_H
#define NOOM_USER_H

#include <uv.h>

#include "sio.h"

#define NOOM_MAX_ROOM 64
#define NOOM_MAX_NICK 32
#define NOOM_MAX_MESSAGE 2000

/* Per-socket budgets: each is a token bucket (burst tokens, rate refilled per second). */
typedef enum {
  NOOM_BUDGET_MESSAGE, /* new_message */
  NOOM_BUDGET_EVENT,   /* enter_room, leave_room, join_room, nickname, call_* */
  NOOM_BUDGET_RELAY,   /* offer, answer, ice: one token each */
  NOOM_BUDGET_BYTES,   /* offer, answer, ice: one token per payload byte */
  NOOM_BUDGETS
} noom_budget_t;

typedef struct {
  uint64_t rate[NOOM_BUDGETS];  /* tokens added per second */
  uint64_t burst[NOOM_BUDGETS]; /* bucket size */
} noom_user_opts_t;

/* Sets the loop (for the buckets' clock) and the budgets. opts copied. */
void noom_user_init(uv_loop_t *loop, const noom_user_opts_t *opts);

/* Gives s its user ("Anon", full buckets). Returns 0 or SIO_ENOMEM. */
int noom_user_attach(sio_socket_t *s);
/* Frees s's user; s reads as "Anon" after. */
void noom_user_detach(sio_socket_t *s);

/* A recovered socket (sio_socket_recovered): takes its nickname back from its socket
 * data, which the library restored. */
void noom_user_restore(sio_socket_t *s);
/* The socket's nickname ("Anon" until set); borrowed. */
const char *noom_user_nick(const sio_socket_t *s);
/* Sets the nickname (already validated) and socket.data {"nickname"} for other nodes. */
void noom_user_set_nick(sio_socket_t *s, const char *nick);

/* The answer to a call over its budget. */
#define NOOM_SLOW_DOWN "too many requests, slow down"

/* Takes cost tokens of budget b from s's bucket: 1 if allowed, 0 if over the limit (or
 * s has no user). Nothing is taken on refusal. */
int noom_user_allow(sio_socket_t *s, noom_budget_t b, uint64_t cost);
/* The same for n budgets at once: all are taken, or none (b[i] distinct). */
int noom_user_allow_all(sio_socket_t *s, const noom_budget_t *b, const uint64_t *cost, size_t n);

/* The nickname of a socket seen by a cluster-wide fetch, on any node (its socket.data
 * carries it), into out; "Anon" and 0 when it has none. */
int noom_user_view_nick(const sio_remote_socket_t *v, char out[NOOM_MAX_NICK + 1]);

/* Answers ack (NULL allowed) with {"error": msg}: how every app event refuses a call. */
void noom_ack_error(sio_ack_t *ack, const char *msg);

/* Reads argument i as a nickname: trimmed of ASCII white space, 1..32 bytes, no control
 * characters; copied NUL-terminated into out. Returns NULL or the error text. */
const char *noom_nick_arg(const sio_args_t *args, size_t i, char out[NOOM_MAX_NICK + 1]);

/* Reads argument i as a room name, the one rule for every app event: trimmed of ASCII
 * white space, 1..64 bytes, no control characters (so the app's internal rooms, which
 * start with \x01, can never be named). Returns NULL or the error text. */
const char *noom_room_arg(const sio_args_t *args, size_t i, char out[NOOM_MAX_ROOM + 1]);

/* 1 for the internal rooms (call membership; never shown in the lobby). */
int noom_room_is_internal(const char *name, size_t len);

/* Joins s to room once the room's members on every node are known, refusing a name
 * that is a socket's own id room on any node ("room name is taken": joining it would
 * read that socket's private messages) and the library's refusals (another local
 * socket's id, too many rooms). Then done(s, ack, room, count, user) runs with count =
 * members including s, or with count 0 and the ack already answered with the error.
 * done is not called when s disconnected meanwhile or the server shut down. done
 * consumes ack (sio_ack_send or sio_ack_free; it may be NULL). */
typedef void (*noom_joined_cb)(sio_socket_t *s, sio_ack_t *ack, const char *room, size_t count, void *user);
void noom_room_join(sio_socket_t *s, sio_ack_t *ack, const char *room, noom_joined_cb done, void *user, size_t user_size);

/* Leaving a chat room also ends what hangs on it (a call there): hooks run before s
 * leaves room, in the order added. Returns 0 or SIO_ENOMEM. */
typedef void (*noom_leave_cb)(sio_socket_t *s, const char *room);
int noom_on_room_leave(noom_leave_cb cb);
/* Runs the hooks, then s leaves room. */
void noom_room_leave(sio_socket_t *s, const char *room);

/* Counts room's members on every node except id, then done(count, room, user) (not on
 * shutdown). user (user_size bytes) is copied. */
typedef void (*noom_count_cb)(size_t count, const char *room, void *user);
void noom_room_count(sio_ns_t *ns, const char *room, const char *except_id, noom_count_cb done, const void *user,
                     size_t user_size);

#endif
