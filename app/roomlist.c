/*
 * The lobby's room list (roomlist.h).
 *
 * One node: a hash table of this node's public rooms and their sizes, kept from the
 * library's room events (sio_ns_on_room). A change arms a timer; when it fires the table
 * becomes one room_change to every socket, and that list is kept for newcomers.
 *
 * Several nodes: a room's members may be anywhere, so when this node's rooms changed
 * it reads the rooms across nodes (allRooms, allSockets to tell id rooms apart, then one
 * count per listed room) and sends room_change as an ordinary cluster-wide broadcast, the
 * way a Node server running the course's code does (io.emit), so both kinds of node
 * share one lobby. The list also goes to the other noom nodes (serverSideEmit
 * "noom:lobby") to greet their newcomers with, and a slow timer re-reads it so that
 * changes made on nodes that do not send it (Node's) reach newcomers too. Reading across
 * nodes costs O(users) there, once per interval at most and only after a change a lobby
 * shows: a connect or disconnect of someone in no room costs nothing.
 */
#include "roomlist.h"

#include <stdlib.h>
#include <string.h>

#include "user.h"

#define LOBBY_PEERS "noom:lobby"  /* serverSideEmit: the list just sent, for newcomers */
#define FLEET_REREAD_MS 5000      /* newcomers' list refresh while several nodes run */
#define MAX_COUNTED 1000          /* rooms counted across nodes in one read */

typedef struct entry_s {
  struct entry_s *next;
  size_t count;
  size_t len;
  char name[];
} entry_t;

static uv_loop_t *loop;
static sio_ns_t *lobby;
static noom_roomlist_opts_t opts;
static entry_t **table;
static size_t nbuckets, nentries;
static uv_timer_t flush_timer, reread_timer;
static int timers_on, dirty, reading, read_again;
static int stale;            /* one node: the table changed since `current` was built */
static uint64_t last_sent;   /* loop time of the last room_change */
static sio_args_t *current;  /* the last list, for newcomers (owned) */

/* ---- the table of this node's public rooms ---- */

static size_t hash(const char *s, size_t len) {
  size_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static entry_t **slot(const char *name, size_t len) {
  entry_t **p = &table[hash(name, len) & (nbuckets - 1)];
  while (*p && ((*p)->len != len || memcmp((*p)->name, name, len) != 0)) p = &(*p)->next;
  return p;
}

static void grow(void) {
  size_t n = nbuckets * 2;
  entry_t **t = calloc(n, sizeof *t);
  if (t == NULL) return; /* stays correct, only slower */
  for (size_t i = 0; i < nbuckets; i++) {
    for (entry_t *e = table[i], *next; e; e = next) {
      next = e->next;
      entry_t **b = &t[hash(e->name, e->len) & (n - 1)];
      e->next = *b;
      *b = e;
    }
  }
  free(table);
  table = t;
  nbuckets = n;
}

static void arm_flush(void);

static void on_room(sio_ns_t *ns, const sio_room_event_t *ev, void *u) {
  (void)ns, (void)u;
  if (ev->is_sid || noom_room_is_internal(ev->room.ptr, ev->room.len)) return;
  entry_t **p = slot(ev->room.ptr, ev->room.len);
  if (ev->type == SIO_ROOM_DELETE) {
    if (*p) {
      entry_t *e = *p;
      *p = e->next;
      free(e);
      nentries--;
    }
  } else if (*p == NULL) {
    entry_t *e = malloc(sizeof *e + ev->room.len + 1);
    if (e == NULL) return; /* the room works, the lobby misses it until its next change */
    memcpy(e->name, ev->room.ptr, ev->room.len);
    e->name[ev->room.len] = '\0';
    e->len = ev->room.len;
    e->count = ev->size;
    e->next = NULL;
    *p = e;
    if (++nentries > nbuckets) grow();
  } else {
    (*p)->count = ev->size;
  }
  /* Joins while a room is being created are one change; only a size a lobby shows. */
  if (ev->type != SIO_ROOM_CREATE) {
    stale = 1;
    arm_flush();
  }
}

/* ---- building one room_change ---- */

typedef struct {
  const char *name;
  size_t count;
} row_t;

static int by_size(const void *a, const void *b) {
  const row_t *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b) { return strcmp(((const row_t *)a)->name, ((const row_t *)b)->name); }

/* room_change(names, [{name, count}], total): the max_listed largest rooms, sorted by
 * name as the course sends them, and how many public rooms there are in all. rows is
 * reordered. NULL on OOM. */
static sio_args_t *build(row_t *rows, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) /* a room emptied while it was counted is gone */
    if (rows[i].count) rows[total++] = rows[i];
  size_t shown = total;
  if (shown > opts.max_listed) {
    qsort(rows, total, sizeof *rows, by_size);
    shown = opts.max_listed;
  }
  qsort(rows, shown, sizeof *rows, by_name);
  sio_args_t *names, *list, *out;
  if (sio_args_new(&names) != 0) return NULL;
  if (sio_args_new(&list) != 0 || sio_args_new(&out) != 0) {
    sio_args_free(names);
    sio_args_free(list);
    return NULL;
  }
  static const char *const keys[] = {"name", "count"};
  int r = 0;
  for (size_t i = 0; i < shown && r == 0; i++) {
    sio_args_t *v;
    r |= sio_args_add_cstr(names, rows[i].name);
    if ((r |= sio_args_new(&v)) != 0) break;
    r |= sio_args_add_cstr(v, rows[i].name);
    r |= sio_args_add_int(v, (int64_t)rows[i].count);
    r |= sio_args_add_object(list, keys, v);
    sio_args_free(v);
  }
  r |= sio_args_add_array(out, names);
  r |= sio_args_add_array(out, list);
  r |= sio_args_add_int(out, (int64_t)total);
  sio_args_free(names);
  sio_args_free(list);
  if (r != 0) {
    sio_args_free(out);
    return NULL;
  }
  return out;
}

/* Keeps list for newcomers and, when send, sends it: to every socket of every node in
 * a fleet (and to the other noom nodes' caches), else to this node's sockets. */
static void publish(sio_args_t *list, int send) {
  if (list == NULL) return;
  sio_args_free(current);
  current = list;
  if (!send) return;
  last_sent = uv_now(loop);
  sio_ns_emit(lobby, NULL, "room_change", list);
  if (opts.fleet) sio_ns_server_side_emit(lobby, LOBBY_PEERS, list);
}

/* ---- one node ---- */

/* The table as a room_change; sent to everyone when send, else kept for newcomers. */
static void publish_local(int send) {
  row_t *rows = malloc((nentries + 1) * sizeof *rows);
  if (rows == NULL) return;
  size_t n = 0;
  for (size_t i = 0; i < nbuckets; i++)
    for (entry_t *e = table[i]; e; e = e->next) rows[n++] = (row_t){e->name, e->count};
  sio_args_t *list = build(rows, n);
  free(rows);
  if (list) stale = 0;
  publish(list, send);
}

/* ---- several nodes ---- */

typedef struct read_s read_t;
typedef struct {
  read_t *read;
  size_t index;
} count_slot_t;

struct read_s {
  int send;           /* broadcast the result (else: newcomers' copy only) */
  int canceled;       /* the server is shutting down */
  char **names;       /* public rooms (owned) */
  size_t n;
  size_t *counts;
  count_slot_t *slots;
  size_t pending;     /* count queries not answered yet, plus one while starting */
};

static void start_read(int send);

static void read_free(read_t *r) {
  for (size_t i = 0; i < r->n; i++) free(r->names[i]);
  free(r->names);
  free(r->counts);
  free(r->slots);
  free(r);
}

static void read_done(read_t *r) {
  if (!r->canceled) {
    row_t *rows = malloc((r->n + 1) * sizeof *rows);
    if (rows) {
      for (size_t i = 0; i < r->n; i++) rows[i] = (row_t){r->names[i], r->counts[i]};
      publish(build(rows, r->n), r->send);
      free(rows);
    }
  }
  int send = r->send, canceled = r->canceled;
  read_free(r);
  if (!send) return;
  reading = 0;
  if (read_again && !canceled) {
    read_again = 0;
    arm_flush();
  }
}

static void room_counted(int status, const char *const *ids, size_t n, void *u) {
  (void)ids;
  count_slot_t *slot = u;
  read_t *r = slot->read;
  if (status == SIO_ECANCELED) r->canceled = 1;
  r->counts[slot->index] = n;
  if (--r->pending == 0) read_done(r);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Rooms this node has members in come first when there are too many to count. */
static int local_first(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  entry_t *ex = *slot(x, strlen(x)), *ey = *slot(y, strlen(y));
  size_t cx = ex ? ex->count : 0, cy = ey ? ey->count : 0;
  if (cx != cy) return cx > cy ? -1 : 1;
  return strcmp(x, y);
}

/* Every socket id is known: keep the public rooms, count each. */
static void ids_known(int status, const char *const *ids, size_t nids, void *u) {
  read_t *r = u;
  if (status == SIO_ECANCELED) r->canceled = 1;
  const char **sorted = nids ? malloc(nids * sizeof *sorted) : NULL;
  if (nids && sorted == NULL) r->canceled = 1;
  size_t keep = 0;
  if (!r->canceled) {
    if (nids) memcpy(sorted, ids, nids * sizeof *sorted);
    qsort(sorted, nids, sizeof *sorted, cmp_str);
    for (size_t i = 0; i < r->n; i++) {
      const char *name = r->names[i];
      if ((nids && bsearch(&name, sorted, nids, sizeof *sorted, cmp_str)) || noom_room_is_internal(name, strlen(name)))
        free(r->names[i]);
      else
        r->names[keep++] = r->names[i];
    }
    r->n = keep;
  }
  free(sorted);
  if (r->n > MAX_COUNTED) {
    qsort(r->names, r->n, sizeof *r->names, local_first);
    for (size_t i = MAX_COUNTED; i < r->n; i++) free(r->names[i]);
    r->n = MAX_COUNTED;
  }
  r->counts = calloc(r->n + 1, sizeof *r->counts);
  r->slots = calloc(r->n + 1, sizeof *r->slots);
  if (r->canceled || r->counts == NULL || r->slots == NULL) {
    r->canceled = 1;
    read_done(r);
    return;
  }
  r->pending = r->n + 1; /* +1: a count answered inside its call must not finish early */
  for (size_t i = 0; i < r->n; i++) {
    const char *rooms[] = {r->names[i]};
    r->slots[i] = (count_slot_t){r, i};
    if (sio_ns_all_sockets(lobby, rooms, 1, room_counted, &r->slots[i]) != 0) r->pending--;
  }
  if (--r->pending == 0) read_done(r);
}

static void rooms_known(int status, const char *const *names, size_t n, void *u) {
  read_t *r = u;
  if (status == SIO_ECANCELED || (n && (r->names = malloc(n * sizeof *r->names)) == NULL)) {
    r->canceled = 1;
    read_done(r);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if ((r->names[r->n] = strdup(names[i])) != NULL) r->n++;
  if (sio_ns_all_sockets(lobby, NULL, 0, ids_known, r) != 0) {
    r->canceled = 1;
    read_done(r);
  }
}

static void start_read(int send) {
  read_t *r = calloc(1, sizeof *r);
  if (r == NULL) return;
  r->send = send;
  if (send) reading = 1;
  if (sio_ns_all_rooms(lobby, rooms_known, r) != 0) {
    r->canceled = 1;
    read_done(r);
  }
}

static void on_peer_list(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *u) {
  (void)ns, (void)ack, (void)u;
  sio_args_t *copy;
  if (sio_args_count(args) >= 2 && sio_args_copy(args, 0, 3, &copy) == 0) publish(copy, 0);
}

static void on_reread(uv_timer_t *t) {
  (void)t;
  start_read(0);
}

/* ---- coalescing ---- */

static void on_flush(uv_timer_t *t) {
  (void)t;
  if (!dirty) return;
  if (opts.fleet && reading) { /* one read at a time; the last change gets one after it */
    read_again = 1;
    return;
  }
  dirty = 0;
  if (opts.fleet) start_read(1);
  else publish_local(1);
}

/* A change a lobby shows: one room_change once the interval since the last has passed. */
static void arm_flush(void) {
  if (!timers_on) return;
  dirty = 1;
  if (uv_is_active((uv_handle_t *)&flush_timer)) return;
  uint64_t now = uv_now(loop), at = last_sent + opts.interval_ms;
  uv_timer_start(&flush_timer, on_flush, at > now ? at - now : 0, 0);
}

/* One node: a newcomer sees changes not sent yet, at the cost of one rebuild per change
 * (not per newcomer). Several nodes: the last list read or received. */
void noom_roomlist_greet(sio_socket_t *s) {
  if (stale && !opts.fleet) publish_local(0);
  if (current) sio_socket_emit(s, "room_change", current);
}

int noom_roomlist_init(uv_loop_t *l, sio_ns_t *ns, const noom_roomlist_opts_t *o) {
  loop = l;
  lobby = ns;
  opts = *o;
  if (opts.max_listed == 0) opts.max_listed = 1;
  nbuckets = 64;
  if ((table = calloc(nbuckets, sizeof *table)) == NULL) return SIO_ENOMEM;
  row_t none;
  publish(build(&none, 0), 0); /* newcomers of an empty server get an empty list */
  uv_timer_init(loop, &flush_timer);
  uv_timer_init(loop, &reread_timer);
  timers_on = 1;
  if (opts.fleet) {
    uv_timer_start(&reread_timer, on_reread, FLEET_REREAD_MS, FLEET_REREAD_MS);
    uv_unref((uv_handle_t *)&reread_timer);
    if (sio_ns_on_server_side(lobby, LOBBY_PEERS, on_peer_list, NULL) != 0) return SIO_ENOMEM;
  }
  return sio_ns_on_room(lobby, on_room, NULL);
}

void noom_roomlist_close(void) {
  if (!timers_on) return;
  timers_on = 0;
  uv_close((uv_handle_t *)&flush_timer, NULL);
  uv_close((uv_handle_t *)&reread_timer, NULL);
  sio_ns_on_room(lobby, NULL, NULL);
  for (size_t i = 0; i < nbuckets; i++) {
    for (entry_t *e = table[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  }
  free(table);
  table = NULL;
  nbuckets = nentries = 0;
  sio_args_free(current);
  current = NULL;
}
