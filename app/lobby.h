/*
 * The course's rooms and chat on the main namespace: enter_room, leave_room,
 * new_message, nickname, and the lobby's room_change / welcome / bye announcements.
 * Event shapes are documented in docs/app-events.md.
 */
#ifndef NOOM_LOBBY_H
#define NOOM_LOBBY_H

#include <uv.h>

#include "roomlist.h"
#include "sio.h"
#include "user.h"

typedef struct {
  noom_user_opts_t budgets;  /* per-socket rate limits of every user-driven event */
  noom_roomlist_opts_t list; /* the lobby's room list */
  uint64_t recovery_ms;      /* connection-state recovery window (0: off): session.h */
} noom_lobby_opts_t;

/* Registers the handlers on io's main namespace. opts copied. Returns 0 or an error. */
int noom_lobby_init(uv_loop_t *loop, sio_server_t *io, const noom_lobby_opts_t *opts);

/* Stops the lobby's timers (shutdown, before the server closes). */
void noom_lobby_close(void);

#endif
