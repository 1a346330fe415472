/*
 * Timeout lists: O(1) timers for timeouts that share one duration.
 *
 * Every Engine.IO session waits either pingInterval or pingTimeout, every HTTP connection
 * waits headerTimeout or idleTimeout: the durations are per server, not per object. When
 * all nodes of a list share the duration, appending on (re)arm keeps the list sorted by
 * deadline, so expiry only looks at the head. A node costs 24 bytes instead of a 152-byte
 * uv_timer_t, which matters at 50,000 idle sessions. One uv_timer per hub drives all lists.
 */
#ifndef SIO_COMMON_TLIST_H
#define SIO_COMMON_TLIST_H

#include <stdint.h>
#include <uv.h>

#include "common/list.h"

typedef struct sio__tnode_s sio__tnode_t;
typedef void (*sio__tnode_cb)(sio__tnode_t *node);

struct sio__tnode_s {
  sio__list_t link;
  uint64_t deadline; /* loop time in ms */
};

typedef struct sio__thub_s sio__thub_t;

typedef struct sio__tlist_s sio__tlist_t;
struct sio__tlist_s {
  sio__list_t head;
  uint64_t timeout;       /* ms, shared by all nodes of this list */
  sio__tnode_cb cb;       /* called for each expired node, after it is unlinked */
  sio__thub_t *hub;
  sio__tlist_t *next;     /* the hub's next list */
};

/* One hub per HTTP server carries the lists of every layer on it: io, http, each engine
 * (the echo example attaches two) and Socket.IO. The lists chain through themselves, so
 * any number can register and none is ever left unserved. */
struct sio__thub_s {
  uv_timer_t timer;
  uint64_t scheduled; /* deadline the uv timer is armed for, UINT64_MAX when idle */
  sio__tlist_t *lists, **tail; /* in registration order, as they are served */
};

/* Initialises the hub's uv timer on loop; close with sio__thub_close (async, uv_close). */
int sio__thub_init(sio__thub_t *hub, uv_loop_t *loop);
void sio__thub_close(sio__thub_t *hub, uv_close_cb cb);
/* Registers list with the hub, once (the list's memory must outlive the hub's use). */
void sio__tlist_init(sio__tlist_t *l, sio__thub_t *hub, uint64_t timeout, sio__tnode_cb cb);

static inline void sio__tnode_init(sio__tnode_t *n) { sio__list_init(&n->link); }
static inline int sio__tnode_armed(const sio__tnode_t *n) { return n->link.next != &n->link; }

/* Unregisters l from its hub (its nodes must be disarmed): for a list that goes away
 * before the hub does. */
void sio__tlist_remove(sio__tlist_t *l);
/* (Re)arms node on list l for l->timeout from now; moves it from any list it was on. */
void sio__tlist_arm(sio__tlist_t *l, sio__tnode_t *n);
static inline void sio__tnode_disarm(sio__tnode_t *n) { sio__list_remove(&n->link); }

#endif
