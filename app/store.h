/*
 * A history store: where chat messages are kept across restarts. Two backends share this
 * interface (store_sqlite.c, store_pg.c); histdb.c calls them, and only from its own
 * worker thread, so a backend may block (disk, network) without ever stalling the loop.
 * A store handle is used by one thread at a time.
 */
#ifndef NOOM_STORE_H
#define NOOM_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "user.h"

#define NOOM_MSG_ID 40 /* id buffer: 26 hex digits today, room to grow */

/* One stored message, in one allocation: the fields, the text and the message's stored
 * form as JSON text (what clients receive: {"id","nickname","text","ts"}), built once
 * when the message is made. Refcounted, so the broadcast, the room's window and the
 * writer's queue share one copy; the count is atomic because the writer thread drops
 * its reference. Immutable once made. */
typedef struct noom_msg_s {
  char id[NOOM_MSG_ID];
  char room[NOOM_MAX_ROOM + 1];
  char nick[NOOM_MAX_NICK + 1];
  int64_t ts;        /* milliseconds since the epoch */
  atomic_uint refs;
  size_t len;        /* text bytes (a NUL follows them) */
  const char *json;  /* the stored form, json_len bytes (a NUL follows), inside the block */
  size_t json_len;
  char text[];
} noom_msg_t;

/* Returns a new message with one reference (drop with noom_msg_unref), or NULL when
 * memory ran out. Strings copied; room and nick are cut to their maximum sizes. */
noom_msg_t *noom_msg_new(const char *id, const char *room, const char *nick, const char *text, size_t len, int64_t ts);
/* Adds a reference to m and returns it. Any thread. */
noom_msg_t *noom_msg_ref(noom_msg_t *m);
/* Drops a reference; the last one frees m. NULL allowed. Any thread. */
void noom_msg_unref(noom_msg_t *m);
/* Drops one reference to each of n messages and frees the array (either may be NULL). */
void noom_msgs_free(noom_msg_t **msgs, size_t n);

/* Wall-clock milliseconds since the epoch (message times, retention). Any thread. */
int64_t noom_msg_now_ms(void);

/* Results of the calls below. */
enum {
  NOOM_STORE_OK = 0,
  NOOM_STORE_RETRY = -1, /* the store is unreachable or refuses writes now: try later */
  NOOM_STORE_FATAL = -2, /* never usable as is (newer schema, corrupt, not ours): stop */
};

typedef struct noom_store_s noom_store_t;

typedef struct {
  const char *name; /* "SQLite", "PostgreSQL" */
  /* Opens the store at url and migrates its schema to the current version. On failure
   * err gets a sentence for the operator that says what to do; with NOOM_STORE_RETRY,
   * *out may still get a handle that only reads (a read-only file), else NULL. */
  int (*open)(const char *url, noom_store_t **out, char *err, size_t errlen);
  /* Stores the n messages in ONE transaction (all or none); a message already stored (the same
   * room and id) is skipped, so a retried batch is stored exactly once. msgs borrowed. */
  int (*insert)(noom_store_t *st, noom_msg_t *const *msgs, size_t n, char *err, size_t errlen);
  /* The latest limit messages of room with an id below before (NULL: the latest), oldest
   * first, into a new array *out of *n new messages (free with noom_msgs_free). */
  int (*read)(noom_store_t *st, const char *room, const char *before, size_t limit, noom_msg_t ***out, size_t *n,
              char *err, size_t errlen);
  /* Deletes messages older than min_ts, and all but the latest max_per_room (0: no
   * limit) of each of the n rooms (rooms NULL: of every room, one pass over the table).
   * *deleted gets how many went. rooms borrowed. */
  int (*prune)(noom_store_t *st, int64_t min_ts, uint64_t max_per_room, const char *const *rooms, size_t n,
               uint64_t *deleted, char *err, size_t errlen);
  void (*close)(noom_store_t *st);
} noom_store_ops_t;

extern const noom_store_ops_t noom_store_sqlite;
extern const noom_store_ops_t noom_store_pg;

/* The backend for a --db value: postgres:// and postgresql:// URLs go to PostgreSQL,
 * anything else is an SQLite path (":memory:" included). */
const noom_store_ops_t *noom_store_for(const char *url);

#endif
