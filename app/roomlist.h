/*
 * The lobby's list of public rooms: room_change(names, rooms, total) (docs/app-events.md).
 *
 * The cost of a connect or a disconnect does not depend on how many users there are:
 * the list is kept from the library's room events (O(1) a join or leave), a newcomer
 * gets the last list sent, a user who joins no room changes nothing, and changes are
 * coalesced into at most one room_change per interval, listing at most max_listed
 * rooms (the largest) plus the total.
 */
#ifndef NOOM_ROOMLIST_H
#define NOOM_ROOMLIST_H

#include <uv.h>

#include "sio.h"

typedef struct {
  uint64_t interval_ms; /* at most one room_change per interval */
  uint32_t max_listed;  /* rooms listed in one room_change (the largest ones) */
  int fleet;            /* several nodes (--redis): counts are read across nodes and the
                           list is sent as a cluster-wide broadcast */
} noom_roomlist_opts_t;

/* Starts keeping the list of ns's public rooms. opts copied. Returns 0 or an error. */
int noom_roomlist_init(uv_loop_t *loop, sio_ns_t *ns, const noom_roomlist_opts_t *opts);

/* Sends s the current list (a newcomer's lobby starts filled). */
void noom_roomlist_greet(sio_socket_t *s);

/* Stops the timers (shutdown). */
void noom_roomlist_close(void);

/* Rooms in the table now (this node's view; for metrics). */
size_t noom_roomlist_count(void);

#endif
