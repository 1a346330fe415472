/*
 * The course's rooms and chat on the main namespace: enter_room, leave_room,
 * new_message, nickname, and the lobby's room_change / welcome / bye announcements.
 * Event shapes are documented in docs/app-events.md.
 */
#ifndef NOOM_LOBBY_H
#define NOOM_LOBBY_H

#include <uv.h>

#include "sio.h"

typedef struct {
  uint64_t msg_rate;  /* new_message tokens added per second */
  uint64_t msg_burst; /* bucket size */
} noom_lobby_opts_t;

/* Registers the handlers on io's main namespace. opts copied. Returns 0 or an error. */
int noom_lobby_init(uv_loop_t *loop, sio_server_t *io, const noom_lobby_opts_t *opts);

/* Answers ack (NULL allowed) with {"error": msg}: how every app event refuses a call. */
void noom_ack_error(sio_ack_t *ack, const char *msg);

/* The socket's nickname ("Anon" until set); borrowed. */
const char *noom_lobby_nickname(const sio_socket_t *s);

#define NOOM_MAX_ROOM 64
#define NOOM_MAX_NICK 32

/* The nickname of a socket seen by a cluster-wide fetch, on any node (its socket.data
 * carries it), into out; "Anon" and 0 when it has none. */
int noom_lobby_view_nickname(const sio_remote_socket_t *v, char out[NOOM_MAX_NICK + 1]);
#define NOOM_MAX_MESSAGE 2000

#endif
