/*
 * The history store's worker: one thread owns the store (store.h) and does every write
 * and read, so disk and network waits never stall the event loop. Accepted messages are
 * queued (bounded) and committed in batches, one transaction each, at most BATCH_MS
 * after they were queued. When the store fails (disk full, read-only, PostgreSQL down)
 * the problem is logged once, the queue holds what it can (drops are counted and
 * logged), reads answer "unavailable" at once, and the worker reopens the store every
 * second until it works again.
 */
#ifndef NOOM_HISTDB_H
#define NOOM_HISTDB_H

#include <uv.h>

#include "store.h"

typedef struct {
  const char *url;       /* --db: SQLite path, ":memory:" or postgres://...; borrowed for the process */
  uint64_t max_age_ms;   /* prune messages older than this (0: keep) */
  uint64_t max_per_room; /* prune all but the latest N of a room (0: keep) */
  size_t max_queue;      /* messages held while the store is unavailable */
} noom_histdb_opts_t;

/* Starts the worker and waits for its first open of the store (before the loop runs).
 * Returns 0 (the store works, or is unavailable for now and will be retried: logged), or
 * -1 when it can never be used as is (newer schema, corrupt file): the reason is printed
 * on stderr and noom should exit. opts copied. */
int noom_histdb_start(uv_loop_t *loop, const noom_histdb_opts_t *opts);

/* Queues m for the next batch. Takes ownership of one reference to m (dropped when m
 * is not queued). Returns 0, or -1 when the queue is full (counted and logged). Loop
 * thread only. */
int noom_histdb_write(noom_msg_t *m);

/* status NOOM_STORE_OK with msgs (oldest first; ownership passes to the callback: free
 * with noom_msgs_free), or NOOM_STORE_RETRY with none when the store is unavailable or
 * the worker stopped. Called on the loop thread. */
typedef void (*noom_histdb_read_cb)(int status, noom_msg_t **msgs, size_t n, void *user);

/* Reads the latest limit messages of room below id before (NULL: the latest), after
 * every message queued before this call is committed. room and before copied. Returns 0
 * (cb will run) or SIO_ENOMEM (it will not). Loop thread only. */
int noom_histdb_read(const char *room, const char *before, size_t limit, noom_histdb_read_cb cb, void *user);

/* The worker's state now (for metrics and readiness): a snapshot taken under its lock. */
typedef struct {
  int running;       /* started and not stopped */
  int store_up;      /* the last write or open worked */
  size_t queued;     /* messages accepted and not committed yet */
  size_t max_queue;
  uint64_t dropped;  /* messages not stored because the queue was full, since start */
} noom_histdb_stats_t;
void noom_histdb_stats(noom_histdb_stats_t *out);

/* Commits what is queued (if the store works), stops the worker, and answers pending reads
 * with NOOM_STORE_RETRY. Blocks for the final commit: call at shutdown only. */
void noom_histdb_stop(void);

#endif
