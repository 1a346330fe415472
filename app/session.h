/*
 * Kept sessions (connection-state recovery, --recovery-ms): a socket that dropped for a
 * recoverable reason may come back within the window with its id, rooms and socket data
 * (the library restores them). Until the window is over the app treats it as away, not
 * gone: no "bye" in its chat rooms and no "peer_left" in its calls. When it comes back
 * (sio_socket_recovered) its nickname is rebuilt from the socket data and its farewell
 * is cancelled; when the window passes without it (on any node) the farewell goes out
 * then, through the hooks lobby.c and call.c register. docs/app-events.md "Reconnecting".
 */
#ifndef NOOM_SESSION_H
#define NOOM_SESSION_H

#include <uv.h>

#include "sio.h"

/* Starts the module: window_ms is the library's recovery window (0: recovery off, and
 * every farewell is said at once). Returns 0 or SIO_ENOMEM. */
int noom_session_init(uv_loop_t *loop, sio_ns_t *ns, uint64_t window_ms);
/* Drops every pending farewell (shutdown: nobody is left to hear it). */
void noom_session_close(void);

/* 1 when s, disconnecting for reason, leaves a session the library keeps: its farewell
 * is to wait (noom_session_defer). */
int noom_session_kept(const char *reason);

/* A farewell for one of the leaver's rooms (its id room excluded); room may be internal
 * (call rooms). Runs when a kept session expired; the socket is gone by then. */
typedef void (*noom_farewell_cb)(const char *id, const char *nick, const char *room);
/* Registers a farewell hook (at most 4). Returns 0 or SIO_ENOMEM. */
int noom_session_on_farewell(noom_farewell_cb cb);

/* s is disconnecting with a kept session: remembers its id, nickname and rooms and runs
 * the farewell hooks for them once the window passed, unless it came back by then. When
 * that cannot be remembered (too many pending, no memory) the hooks run at once. */
void noom_session_defer(sio_socket_t *s);

/* s connected as recovered: cancels its pending farewell. */
void noom_session_back(sio_socket_t *s);

#endif
