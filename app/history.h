/*
 * Room history on the loop thread: the ids and times of accepted messages, a window of
 * each room's latest messages in memory (filled from the store on first use), and the
 * reads behind enter_room's `history` and the `history` event. The store itself is
 * histdb.c's worker; nothing here blocks.
 */
#ifndef NOOM_HISTORY_H
#define NOOM_HISTORY_H

#include <uv.h>

#include "histdb.h"
#include "jsontext.h"
#include "sio.h"
#include "store.h"

#define NOOM_HISTORY_PAGE_MAX 200 /* the most one `history` call returns */

typedef struct {
  size_t keep;           /* --history: messages enter_room returns (0: history off) */
  int shared;            /* other nodes write the same store (--redis): re-read on enter_room */
  noom_histdb_opts_t db; /* the store and its retention */
} noom_history_opts_t;

/* Opens the store (see noom_histdb_start) unless keep is 0, and logs where history is
 * kept. Returns 0, or -1 when noom must exit (reason printed). opts copied; opts->db.url
 * borrowed for the process. */
int noom_history_init(uv_loop_t *loop, const noom_history_opts_t *opts);

/* Shares accepted messages with the other nodes of a fleet through ns (serverSideEmit
 * "noom:history"), so each node's windows hold the whole fleet's latest messages even
 * before the sender's batch is committed. Only when opts.shared. Returns 0 or an error. */
int noom_history_attach(sio_ns_t *ns);

/* 1 when history is on. */
int noom_history_on(void);

/* Records an accepted message of nick in room, queues it for the store and tells the
 * other nodes (noom_history_attach). Returns its stored form (returns a new reference:
 * drop it with noom_msg_unref; the window and the writer hold their own), or NULL when
 * history is off or memory ran out. */
noom_msg_t *noom_history_add(const char *room, const char *nick, const char *text, size_t len);

/* cb gets messages oldest first, borrowed for the call. */
typedef void (*noom_history_cb)(noom_msg_t *const *msgs, size_t n, void *user);

/* The latest --history messages of room. cb runs later (after a store read) or at once;
 * when the store is unavailable it gets what this node has. Returns 0 or SIO_ENOMEM (cb
 * not called). */
int noom_history_latest(const char *room, noom_history_cb cb, void *user);

/* At most limit messages of room older than id before (NULL: the latest), like
 * noom_history_latest. */
int noom_history_before(const char *room, const char *before, size_t limit, noom_history_cb cb, void *user);

/* Appends m as one argument {id, nickname, text, ts}: its JSON text, made once with m.
 * Returns 0 or an sio error. */
int noom_history_add_msg(sio_args_t *a, const noom_msg_t *m);
/* Appends the JSON array of n messages to j (their JSON texts joined: no tree). */
void noom_history_put_list(noom_json_t *j, noom_msg_t *const *msgs, size_t n);

/* Writes what is queued and stops the store (shutdown). */
void noom_history_close(void);

#endif
