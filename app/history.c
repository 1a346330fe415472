/*
 * Room history on the loop thread (see history.h). Each room in use has a window: its
 * latest `keep` messages sorted by id, owned here. A window starts empty, takes the
 * room's accepted messages as they come, and is filled from the store on the first read;
 * merging dedupes by id, so a message both queued and read back appears once. On one node
 * a loaded window is exact from then on (every message of the room passes here). With
 * shared storage (several nodes) other nodes write too, so every enter_room re-reads.
 *
 * Ids sort by time: 12 hex digits of milliseconds, 8 of this node's random tag, 6 of a
 * counter. Times never go backwards on one node, so one sender's messages keep their
 * order even if the clock is stepped back.
 */
#include "history.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WINDOWS 4096          /* rooms whose window is kept; the least recently used goes */
#define MAX_BYTES (64u << 20)     /* and all windows together hold at most this much */
#define BUCKETS 1024

typedef struct waiter_s {
  struct waiter_s *next;
  noom_history_cb cb;
  void *user;
} waiter_t;

typedef struct win_s {
  struct win_s *next;
  char room[NOOM_MAX_ROOM + 1];
  noom_msg_t **m; /* keep slots, n used, oldest first */
  size_t n;
  int loaded;       /* filled from the store (one node: exact from then on) */
  int loading;      /* a read is in flight; waiters get its outcome */
  waiter_t *waiters;
  uint64_t used;    /* LRU clock */
} win_t;

static struct {
  noom_history_opts_t o;
  int on;
  win_t *bucket[BUCKETS];
  size_t windows;
  uint64_t clock;
  uint32_t node;
  uint32_t seq;
  int64_t last_ts;
  size_t bytes;     /* held by every window's messages */
  sio_ns_t *ns;     /* the fleet's namespace when storage is shared */
} G;

/* ---- windows ---- */

static size_t hash(const char *s) {
  size_t h = 5381;
  while (*s) h = h * 33 + (unsigned char)*s++;
  return h % BUCKETS;
}

static win_t *find(const char *room) {
  for (win_t *w = G.bucket[hash(room)]; w; w = w->next) {
    if (strcmp(w->room, room) == 0) {
      w->used = ++G.clock;
      return w;
    }
  }
  return NULL;
}

static size_t msg_bytes(const noom_msg_t *m) { return sizeof *m + m->len + 1 + m->json_len + 1; }

static void drop_msg(noom_msg_t *m) {
  G.bytes -= msg_bytes(m);
  noom_msg_unref(m);
}

static void win_free(win_t *w) {
  for (size_t i = 0; i < w->n; i++) drop_msg(w->m[i]);
  free(w->m);
  free(w);
}

/* Drops the least recently used idle window: it is re-read from the store when needed
 * (reads come after every queued write, so nothing is missed). */
static int evict_one(const win_t *keep) {
  win_t **best = NULL;
  for (size_t b = 0; b < BUCKETS; b++) {
    for (win_t **p = &G.bucket[b]; *p; p = &(*p)->next) {
      if (*p != keep && !(*p)->loading && (best == NULL || (*p)->used < (*best)->used)) best = p;
    }
  }
  if (best == NULL) return 0;
  win_t *w = *best;
  *best = w->next;
  win_free(w);
  G.windows--;
  return 1;
}

static win_t *get(const char *room) {
  win_t *w = find(room);
  if (w) return w;
  if (G.windows >= MAX_WINDOWS) evict_one(NULL);
  w = calloc(1, sizeof *w);
  if (w == NULL || (w->m = calloc(G.o.keep, sizeof *w->m)) == NULL) {
    free(w);
    return NULL;
  }
  snprintf(w->room, sizeof w->room, "%s", room);
  w->used = ++G.clock;
  size_t h = hash(room);
  w->next = G.bucket[h];
  G.bucket[h] = w;
  G.windows++;
  return w;
}

/* Puts m (a reference, taken) in id order; a duplicate id is dropped. Keeps the latest
 * `keep`. */
static void win_put(win_t *w, noom_msg_t *m) {
  size_t i = w->n;
  while (i > 0 && strcmp(w->m[i - 1]->id, m->id) > 0) i--;
  if (i > 0 && strcmp(w->m[i - 1]->id, m->id) == 0) {
    noom_msg_unref(m);
    return;
  }
  if (w->n == G.o.keep) {
    if (i == 0) { /* older than everything kept */
      noom_msg_unref(m);
      return;
    }
    drop_msg(w->m[0]);
    memmove(w->m, w->m + 1, (w->n - 1) * sizeof *w->m);
    w->n--;
    i--;
  }
  memmove(w->m + i + 1, w->m + i, (w->n - i) * sizeof *w->m);
  w->m[i] = m;
  w->n++;
  G.bytes += msg_bytes(m);
  /* Bounded memory: other rooms' windows go first (they are re-read when needed). */
  while (G.bytes > MAX_BYTES && evict_one(w)) {
  }
}

/* ---- the fleet ---- */

#define SHARE_EVENT "noom:history"

/* Sent before the room's broadcast, on the same Redis connection: a node that delivers
 * the message to its members already has it in its window. */
static void share(const noom_msg_t *m) {
  sio_args_t *a;
  if (sio_args_new(&a) != 0) return;
  if (sio_args_add_cstr(a, m->room) == 0 && noom_history_add_msg(a, m) == 0) sio_ns_server_side_emit(G.ns, SHARE_EVENT, a);
  sio_args_free(a);
}

/* Another node's accepted message: into this node's window (never stored here: the node
 * that accepted it stores it). Anything malformed is ignored. */
static void on_shared(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *u) {
  (void)ns, (void)u, (void)ack; /* sent without an ack; the library drops any */
  sio_str_t room, id, nick, text;
  sio_args_t *tsv = NULL;
  int64_t ts;
  if (!G.on || sio_args_get_str(args, 0, &room) != 0 || room.len == 0 || room.len > NOOM_MAX_ROOM ||
      sio_args_get_member_str(args, 1, "id", &id) != 0 || id.len == 0 || id.len >= NOOM_MSG_ID ||
      sio_args_get_member_str(args, 1, "nickname", &nick) != 0 || nick.len > NOOM_MAX_NICK ||
      sio_args_get_member_str(args, 1, "text", &text) != 0 || text.len > NOOM_MAX_MESSAGE ||
      sio_args_member(args, 1, "ts", &tsv) != 0 || sio_args_get_int(tsv, 0, &ts) != 0) {
    sio_args_free(tsv);
    return;
  }
  sio_args_free(tsv);
  char r[NOOM_MAX_ROOM + 1], i[NOOM_MSG_ID], n[NOOM_MAX_NICK + 1];
  memcpy(r, room.ptr, room.len);
  r[room.len] = '\0';
  memcpy(i, id.ptr, id.len);
  i[id.len] = '\0';
  memcpy(n, nick.ptr, nick.len);
  n[nick.len] = '\0';
  win_t *w = get(r);
  noom_msg_t *m = w ? noom_msg_new(i, r, n, text.ptr, text.len, ts) : NULL;
  if (m) win_put(w, m);
}

int noom_history_attach(sio_ns_t *ns) {
  if (!G.on || !G.o.shared) return 0;
  G.ns = ns;
  return sio_ns_on_server_side(ns, SHARE_EVENT, on_shared, NULL);
}

/* ---- ids ---- */

/* The n low hex digits of v, zero-padded, at w. */
static void put_hex(char *w, uint64_t v, int n) {
  static const char hex[] = "0123456789abcdef";
  for (int i = n - 1; i >= 0; i--, v >>= 4) w[i] = hex[v & 15];
}

noom_msg_t *noom_history_add(const char *room, const char *nick, const char *text, size_t len) {
  if (!G.on) return NULL;
  int64_t ts = noom_msg_now_ms();
  if (ts < G.last_ts) ts = G.last_ts;
  G.last_ts = ts;
  /* %012x%08x%06x of (ts, node, seq), by hand: snprintf showed in the chat path's profile. */
  char id[NOOM_MSG_ID];
  put_hex(id, (uint64_t)ts, 12);
  put_hex(id + 12, G.node, 8);
  put_hex(id + 20, G.seq++ & 0xffffff, 6);
  id[26] = '\0';
  /* One copy, three references: the caller's (for the broadcast), the window's and the
   * writer's. */
  noom_msg_t *m = noom_msg_new(id, room, nick, text, len, ts);
  if (m == NULL) return NULL;
  noom_histdb_write(noom_msg_ref(m));
  win_t *w = get(room);
  if (w) win_put(w, noom_msg_ref(m));
  if (G.ns) share(m);
  return m;
}

/* ---- reads ---- */

typedef struct {
  char room[NOOM_MAX_ROOM + 1];
  char before[NOOM_MSG_ID];
  size_t limit;
  noom_history_cb cb;
  void *user;
} page_t;

/* The window's messages below before, at most limit: the answer when the store fails. */
static void answer_from_window(const char *room, const char *before, size_t limit, noom_history_cb cb, void *user) {
  win_t *w = find(room);
  size_t end = 0;
  if (w) {
    end = w->n;
    if (before) {
      while (end > 0 && strcmp(w->m[end - 1]->id, before) >= 0) end--;
    }
  }
  size_t from = end > limit ? end - limit : 0;
  cb(w ? w->m + from : NULL, end - from, user);
}

static void loaded(int status, noom_msg_t **msgs, size_t n, void *u) {
  char *room = u;
  win_t *w = find(room);
  if (w == NULL) w = get(room);
  if (w == NULL) { /* memory ran out: nothing to answer with; the waiters went with it */
    noom_msgs_free(msgs, n);
    free(room);
    return;
  }
  for (size_t i = 0; i < n; i++) win_put(w, msgs[i]);
  free(msgs);
  if (status == NOOM_STORE_OK && !G.o.shared) w->loaded = 1;
  w->loading = 0;
  waiter_t *list = w->waiters;
  w->waiters = NULL;
  free(room);
  while (list) {
    waiter_t *next = list->next;
    /* Re-found each time: a callback may add messages (never frees a window). */
    answer_from_window(w->room, NULL, G.o.keep, list->cb, list->user);
    free(list);
    list = next;
  }
}

int noom_history_latest(const char *room, noom_history_cb cb, void *user) {
  if (!G.on) {
    cb(NULL, 0, user);
    return 0;
  }
  win_t *w = get(room);
  if (w == NULL) return SIO_ENOMEM;
  if (w->loaded) {
    answer_from_window(room, NULL, G.o.keep, cb, user);
    return 0;
  }
  waiter_t *x = malloc(sizeof *x);
  if (x == NULL) return SIO_ENOMEM;
  x->cb = cb;
  x->user = user;
  x->next = NULL;
  if (!w->loading) {
    char *key = strdup(room);
    if (key == NULL || noom_histdb_read(room, NULL, G.o.keep, loaded, key) != 0) {
      free(key);
      free(x);
      return SIO_ENOMEM;
    }
    w->loading = 1;
  }
  waiter_t **tail = &w->waiters; /* in arrival order */
  while (*tail) tail = &(*tail)->next;
  *tail = x;
  return 0;
}

static void paged(int status, noom_msg_t **msgs, size_t n, void *u) {
  page_t *p = u;
  if (status == NOOM_STORE_OK) p->cb(msgs, n, p->user);
  else answer_from_window(p->room, p->before[0] ? p->before : NULL, p->limit, p->cb, p->user);
  noom_msgs_free(msgs, n);
  free(p);
}

int noom_history_before(const char *room, const char *before, size_t limit, noom_history_cb cb, void *user) {
  if (!G.on || limit == 0) {
    cb(NULL, 0, user);
    return 0;
  }
  page_t *p = calloc(1, sizeof *p);
  if (p == NULL) return SIO_ENOMEM;
  snprintf(p->room, sizeof p->room, "%s", room);
  if (before) snprintf(p->before, sizeof p->before, "%s", before);
  p->limit = limit;
  p->cb = cb;
  p->user = user;
  if (noom_histdb_read(room, before, limit, paged, p) != 0) {
    free(p);
    return SIO_ENOMEM;
  }
  return 0;
}

/* ---- wire form ---- */

int noom_history_add_msg(sio_args_t *a, const noom_msg_t *m) { return sio_args_add_json_text(a, m->json, m->json_len); }

void noom_history_put_list(noom_json_t *j, noom_msg_t *const *msgs, size_t n) {
  size_t size = 2 + n;
  for (size_t i = 0; i < n; i++) size += msgs[i]->json_len;
  noom_json_reserve(j, size);
  noom_json_raw(j, "[", 1);
  for (size_t i = 0; i < n; i++) {
    if (i > 0) noom_json_raw(j, ",", 1);
    noom_json_raw(j, msgs[i]->json, msgs[i]->json_len);
  }
  noom_json_raw(j, "]", 1);
}

/* ---- lifecycle ---- */

int noom_history_init(uv_loop_t *loop, const noom_history_opts_t *o) {
  G.o = *o;
  if (o->keep == 0) {
    sio_log_printf(SIO_LOG_INFO, "history: off (--history 0)");
    return 0;
  }
  if (uv_random(NULL, NULL, &G.node, sizeof G.node, 0, NULL) != 0) G.node = (uint32_t)uv_hrtime();
  if (noom_histdb_start(loop, &o->db) != 0) return -1;
  G.on = 1;
  const char *url = o->db.url;
  if (noom_store_for(url) == &noom_store_pg) {
    /* The URL may carry a password: show the host part only. */
    const char *at = strrchr(url, '@');
    sio_log_printf(SIO_LOG_INFO, "history: PostgreSQL at %s (latest %zu per room on entry)", at ? at + 1 : url + strlen("postgres://"),
                   o->keep);
  } else if (strcmp(url, ":memory:") == 0) {
    sio_log_printf(SIO_LOG_INFO, "history: in memory only (--db :memory:), lost when noom stops");
  } else {
    char abs[4096];
    if (realpath(url, abs) == NULL) snprintf(abs, sizeof abs, "%s", url);
    sio_log_printf(SIO_LOG_INFO, "history: SQLite file %s (WAL; latest %zu per room on entry; --db to move it)", abs,
                   o->keep);
  }
  return 0;
}

int noom_history_on(void) { return G.on; }

void noom_history_close(void) {
  if (!G.on) return;
  noom_histdb_stop();
  G.on = 0;
  for (size_t b = 0; b < BUCKETS; b++) {
    while (G.bucket[b]) {
      win_t *w = G.bucket[b];
      G.bucket[b] = w->next;
      waiter_t *x = w->waiters;
      while (x) {
        waiter_t *next = x->next;
        x->cb(NULL, 0, x->user);
        free(x);
        x = next;
      }
      w->waiters = NULL;
      win_free(w);
    }
  }
}
