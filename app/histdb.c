/*
 * The history worker thread (see histdb.h). Shared state is guarded by one mutex and is
 * small: the write queue, the read jobs, the finished jobs. The store handle, the batch
 * being written and the up/down state belong to the worker alone.
 */
#include "histdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

#define BATCH_MS 20          /* a queued message is committed within about this long */
#define BATCH_MAX 16384      /* messages per transaction */
#define RETRY_MS 1000        /* reopen an unavailable store this often */
#define PRUNE_MS (60 * 1000) /* retention runs this often */
#define MS 1000000ull        /* uv_hrtime units per millisecond */

typedef struct job_s {
  struct job_s *next;
  char room[NOOM_MAX_ROOM + 1];
  char before[NOOM_MSG_ID];
  int has_before;
  size_t limit;
  noom_histdb_read_cb cb;
  void *user;
  int status;
  noom_msg_t **msgs;
  size_t n;
} job_t;

static struct {
  uv_loop_t *loop;
  uv_async_t async;
  uv_thread_t thread;
  uv_mutex_t mu;
  uv_cond_t cv;
  noom_histdb_opts_t o;
  const noom_store_ops_t *ops;
  int running;
  /* Guarded by mu. */
  noom_msg_t **q;
  size_t qlen, qcap;
  size_t held;       /* messages the worker took but has not committed yet */
  uint64_t first_at; /* when the oldest queued message arrived */
  job_t *reads, **reads_tail, *done, **done_tail;
  int stop, started, start_result;
  uint64_t dropped;  /* since the store went down (or ever, when it never did) */
  int drop_logged;
  int store_down;          /* the worker's up/down state, for metrics and /readyz */
  uint64_t dropped_total;  /* since start */
  char err[512];
} H;

static void lock(void) { uv_mutex_lock(&H.mu); }
static void unlock(void) { uv_mutex_unlock(&H.mu); }

/* ---- worker thread ---- */

#define TOUCHED_MAX 512 /* rooms remembered for the next prune; beyond: one pass over all */

typedef struct {
  noom_store_t *st;
  int down;
  char (*touched)[NOOM_MAX_ROOM + 1]; /* rooms written since the last prune */
  size_t ntouched;
  int touched_all;                    /* too many to list: prune every room */
  int pruned_once;
  uint64_t retry_at, prune_at;
  noom_msg_t **batch;
  size_t bn;
} worker_t;

static void go_down(worker_t *w, const char *err) {
  if (!w->down) {
    sio_log_printf(SIO_LOG_ERROR,
                   "history: %s store unavailable: %s. Chat goes on live; up to %zu messages wait in memory and are "
                   "written when it works again (retried every %d s)",
                   H.ops->name, err, H.o.max_queue, RETRY_MS / 1000);
  }
  /* The handle stays for reads while it still answers (a full disk, a read-only file):
   * history keeps serving what is stored. A read that fails closes it. */
  w->down = 1;
  w->retry_at = uv_hrtime() + RETRY_MS * MS;
  lock();
  H.store_down = 1;
  unlock();
}

static void try_reopen(worker_t *w) {
  char err[512];
  noom_store_t *fresh = NULL;
  int r = H.ops->open(H.o.url, &fresh, err, sizeof err);
  if (fresh) { /* writable, or at least readable: the newer handle replaces the old */
    if (w->st) H.ops->close(w->st);
    w->st = fresh;
  }
  if (r != NOOM_STORE_OK) {
    w->retry_at = uv_hrtime() + RETRY_MS * MS;
    return;
  }
  lock();
  uint64_t dropped = H.dropped;
  H.dropped = 0;
  H.drop_logged = 0;
  H.store_down = 0;
  size_t waiting = H.qlen + w->bn;
  unlock();
  w->down = 0;
  sio_log_printf(SIO_LOG_INFO, "history: %s store available again; writing %zu waiting messages (%llu dropped while "
                 "it was unavailable)", H.ops->name, waiting, (unsigned long long)dropped);
}

/* Remembers the batch's rooms for the count limit (consecutive repeats are the common
 * case; a repeat further back only costs a second prune of that room). */
static void touch(worker_t *w) {
  if (w->touched == NULL && (w->touched = malloc(TOUCHED_MAX * sizeof *w->touched)) == NULL) w->touched_all = 1;
  for (size_t i = 0; i < w->bn && !w->touched_all; i++) {
    const char *room = w->batch[i]->room;
    size_t k = w->ntouched;
    while (k > 0 && strcmp(w->touched[k - 1], room) != 0 && w->ntouched - k < 8) k--;
    if (k > 0 && strcmp(w->touched[k - 1], room) == 0) continue;
    if (w->ntouched == TOUCHED_MAX) {
      w->touched_all = 1;
      break;
    }
    snprintf(w->touched[w->ntouched++], sizeof w->touched[0], "%s", room);
  }
}

static void write_batch(worker_t *w) {
  char err[512];
  int r = H.ops->insert(w->st, w->batch, w->bn, err, sizeof err);
  if (r != NOOM_STORE_OK) {
    go_down(w, err); /* the batch stays; it is retried first, stored once (ids are unique) */
    return;
  }
  touch(w);
  for (size_t i = 0; i < w->bn; i++) noom_msg_unref(w->batch[i]);
  lock();
  H.held -= w->bn;
  /* Drops while the store works mean messages came faster than it writes: say how many
   * once the queue has room again (drops while it is down are told on recovery). */
  uint64_t dropped = 0;
  if (H.dropped && H.qlen < H.o.max_queue / 2) {
    dropped = H.dropped;
    H.dropped = 0;
    H.drop_logged = 0;
  }
  unlock();
  w->bn = 0;
  if (dropped) {
    sio_log_printf(SIO_LOG_WARN, "history: %llu messages were not stored: they came faster than the %s store "
                   "writes them (%zu may wait; put the store on faster storage, or keep less with --history-max-*)",
                   (unsigned long long)dropped, H.ops->name, H.o.max_queue);
  }
}

static void prune(worker_t *w) {
  char err[512];
  uint64_t deleted = 0;
  int64_t min_ts = 0;
  if (H.o.max_age_ms) {
    min_ts = noom_msg_now_ms() - (int64_t)H.o.max_age_ms;
  }
  w->prune_at = uv_hrtime() + PRUNE_MS * MS;
  /* The first pass covers every room (rooms written before a restart); later ones only
   * the rooms written since. */
  const char **rooms = NULL;
  if (!w->touched_all && w->pruned_once) {
    rooms = malloc((w->ntouched ? w->ntouched : 1) * sizeof *rooms);
    for (size_t i = 0; rooms && i < w->ntouched; i++) rooms[i] = w->touched[i];
  }
  int r = H.ops->prune(w->st, min_ts, H.o.max_per_room, rooms, w->ntouched, &deleted, err, sizeof err);
  free(rooms);
  w->pruned_once = 1;
  w->ntouched = 0;
  w->touched_all = 0;
  if (r != NOOM_STORE_OK) {
    go_down(w, err);
  } else if (deleted) {
    sio_log_printf(SIO_LOG_INFO, "history: pruned %llu old messages", (unsigned long long)deleted);
  }
}

static void run_reads(worker_t *w, job_t *jobs) {
  while (jobs) {
    job_t *j = jobs;
    jobs = j->next;
    j->next = NULL;
    j->status = NOOM_STORE_RETRY;
    if (w->st) {
      char err[512];
      j->status = H.ops->read(w->st, j->room, j->has_before ? j->before : NULL, j->limit, &j->msgs, &j->n, err, sizeof err);
      if (j->status != NOOM_STORE_OK) {
        go_down(w, err);
        H.ops->close(w->st);
        w->st = NULL;
      }
    }
    lock();
    *H.done_tail = j;
    H.done_tail = &j->next;
    unlock();
    uv_async_send(&H.async);
  }
}

/* What the worker should do next, or 0 to keep waiting (mu held). */
static int ready(const worker_t *w, uint64_t now, uint64_t *wait) {
  uint64_t due = UINT64_MAX;
  if (H.stop || H.reads) return 1;
  if (w->down) {
    due = w->retry_at;
  } else {
    if (H.qlen || w->bn) due = H.qlen ? H.first_at + BATCH_MS * MS : now;
    if (w->prune_at < due) due = w->prune_at;
  }
  if (due <= now) return 1;
  *wait = due == UINT64_MAX ? 0 : due - now;
  return 0;
}

static void worker(void *arg) {
  (void)arg;
  worker_t w = {0};
  char err[512];
  int r = H.ops->open(H.o.url, &w.st, err, sizeof err);
  lock();
  H.started = 1;
  H.start_result = r;
  memcpy(H.err, err, sizeof err);
  uv_cond_broadcast(&H.cv);
  if (r == NOOM_STORE_FATAL) {
    unlock();
    return;
  }
  if (r != NOOM_STORE_OK) { /* w.st may still be a read-only handle */
    H.store_down = 1;
    w.down = 1;
    w.retry_at = uv_hrtime() + RETRY_MS * MS;
  }
  w.prune_at = uv_hrtime(); /* the first retention pass (every room) right away, before traffic builds */
  for (;;) {
    uint64_t wait = 0;
    while (!ready(&w, uv_hrtime(), &wait)) {
      if (wait) uv_cond_timedwait(&H.cv, &H.mu, wait);
      else uv_cond_wait(&H.cv, &H.mu);
    }
    int stopping = H.stop;
    job_t *reads = H.reads;
    H.reads = NULL;
    H.reads_tail = &H.reads;
    /* Take the queue into the batch (only while the store works: when it is down the
     * batch already holds what failed, and the queue is the bounded waiting room). */
    if (!w.down && H.qlen) {
      size_t take = H.qlen < BATCH_MAX - w.bn ? H.qlen : BATCH_MAX - w.bn;
      if (w.batch == NULL) w.batch = malloc(BATCH_MAX * sizeof *w.batch);
      if (w.batch) {
        memcpy(w.batch + w.bn, H.q, take * sizeof *H.q);
        memmove(H.q, H.q + take, (H.qlen - take) * sizeof *H.q);
        H.qlen -= take;
        H.held += take;
        w.bn += take;
        H.first_at = uv_hrtime();
      }
    }
    int more = H.qlen > 0;
    unlock();

    if (w.down && (stopping || uv_hrtime() >= w.retry_at)) try_reopen(&w);
    if (!w.down && w.bn) write_batch(&w);
    run_reads(&w, reads); /* after the writes: a read sees every message queued before it */
    if (!w.down && uv_hrtime() >= w.prune_at) prune(&w);

    lock();
    if (stopping && (w.down || (!more && H.qlen == 0 && w.bn == 0))) break;
  }
  size_t lost = H.qlen + w.bn;
  uint64_t dropped = H.dropped;
  unlock();
  if (dropped) {
    sio_log_printf(SIO_LOG_WARN, "history: %llu messages were not stored (the queue was full: the store is slower "
                   "than the chat; see noom_history_dropped_total)", (unsigned long long)dropped);
  }
  if (lost) {
    sio_log_printf(SIO_LOG_WARN, "history: %zu messages were not stored (the store was unavailable at shutdown; "
                   "bring it back before stopping noom to keep them)", lost);
  }
  if (w.st) H.ops->close(w.st);
  for (size_t i = 0; i < w.bn; i++) noom_msg_unref(w.batch[i]);
  free(w.batch);
  free(w.touched);
}

/* ---- loop thread ---- */

static void on_done(uv_async_t *a) {
  (void)a;
  lock();
  job_t *j = H.done;
  H.done = NULL;
  H.done_tail = &H.done;
  unlock();
  while (j) {
    job_t *next = j->next;
    j->cb(j->status, j->msgs, j->n, j->user);
    free(j);
    j = next;
  }
}

int noom_histdb_start(uv_loop_t *loop, const noom_histdb_opts_t *opts) {
  H.loop = loop;
  H.o = *opts;
  H.ops = noom_store_for(opts->url);
  H.reads_tail = &H.reads;
  H.done_tail = &H.done;
  if (uv_mutex_init(&H.mu) != 0 || uv_cond_init(&H.cv) != 0 || uv_async_init(loop, &H.async, on_done) != 0) return -1;
  if (uv_thread_create(&H.thread, worker, NULL) != 0) return -1;
  H.running = 1;
  lock();
  while (!H.started) uv_cond_wait(&H.cv, &H.mu);
  int r = H.start_result;
  unlock();
  if (r == NOOM_STORE_FATAL) {
    fprintf(stderr, "noom: cannot use the history store %s\n", H.err);
    uv_thread_join(&H.thread);
    H.running = 0;
    uv_close((uv_handle_t *)&H.async, NULL);
    return -1;
  }
  if (r != NOOM_STORE_OK) {
    sio_log_printf(SIO_LOG_ERROR, "history: %s store unavailable: %s. Chat goes on live; history is retried every %d s",
                   H.ops->name, H.err, RETRY_MS / 1000);
  }
  return 0;
}

int noom_histdb_write(noom_msg_t *m) {
  lock();
  if (H.qlen + H.held >= H.o.max_queue || (H.qlen == H.qcap && H.qcap >= H.o.max_queue)) {
    uint64_t n = ++H.dropped;
    H.dropped_total++;
    int first = !H.drop_logged;
    H.drop_logged = 1;
    unlock();
    noom_msg_unref(m);
    if (first) {
      sio_log_printf(SIO_LOG_WARN, "history: %zu messages wait for the store; new messages are not stored until "
                     "the queue has room again (dropped so far: %llu)",
                     H.o.max_queue, (unsigned long long)n);
    }
    return -1;
  }
  if (H.qlen == H.qcap) {
    size_t cap = H.qcap ? H.qcap * 2 : 256;
    noom_msg_t **q = realloc(H.q, cap * sizeof *q);
    if (q == NULL) {
      H.dropped++;
      unlock();
      noom_msg_unref(m);
      return -1;
    }
    H.q = q;
    H.qcap = cap;
  }
  /* Only the first message of a batch wakes the worker: it then sleeps until the batch
   * is due (first_at + BATCH_MS), so the others need no signal. A wake-up per message
   * (a futex call and a context switch, on the chat path) cost more than the write. */
  int first = H.qlen == 0;
  if (first) H.first_at = uv_hrtime();
  H.q[H.qlen++] = m;
  if (first) uv_cond_signal(&H.cv);
  unlock();
  return 0;
}

int noom_histdb_read(const char *room, const char *before, size_t limit, noom_histdb_read_cb cb, void *user) {
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return SIO_ENOMEM;
  snprintf(j->room, sizeof j->room, "%s", room);
  if (before) {
    j->has_before = 1;
    snprintf(j->before, sizeof j->before, "%s", before);
  }
  j->limit = limit;
  j->cb = cb;
  j->user = user;
  lock();
  if (!H.running || H.stop) {
    j->status = NOOM_STORE_RETRY;
    *H.done_tail = j;
    H.done_tail = &j->next;
    unlock();
    uv_async_send(&H.async);
    return 0;
  }
  *H.reads_tail = j;
  H.reads_tail = &j->next;
  uv_cond_signal(&H.cv);
  unlock();
  return 0;
}

void noom_histdb_stop(void) {
  if (!H.running) return;
  lock();
  H.stop = 1;
  uv_cond_signal(&H.cv);
  unlock();
  uv_thread_join(&H.thread);
  H.running = 0;
  on_done(&H.async); /* answers what finished; the worker left no read unanswered */
  lock();
  job_t *j = H.reads;
  H.reads = NULL;
  for (size_t i = 0; i < H.qlen; i++) noom_msg_unref(H.q[i]);
  free(H.q);
  H.q = NULL;
  H.qlen = H.qcap = 0;
  unlock();
  while (j) {
    job_t *next = j->next;
    j->cb(NOOM_STORE_RETRY, NULL, 0, j->user);
    free(j);
    j = next;
  }
  uv_close((uv_handle_t *)&H.async, NULL);
}

void noom_histdb_stats(noom_histdb_stats_t *out) {
  if (!H.running) {
    *out = (noom_histdb_stats_t){0};
    return;
  }
  lock();
  *out = (noom_histdb_stats_t){1, !H.store_down, H.qlen + H.held, H.o.max_queue, H.dropped_total};
  unlock();
}
