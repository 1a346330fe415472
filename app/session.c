/*
 * Kept sessions' deferred farewells (session.h).
 *
 * Every entry waits the same window, so the pending list is a FIFO in deadline order
 * served by one timer; a small hash by socket id finds the entry of a socket that came
 * back. The farewell fires window + GRACE_MS after the disconnect: by then the library
 * has dropped the session, so a socket cannot come back after its bye was said. Before
 * saying it the id room is read across nodes: a session recovered on another node
 * (--redis) is back too, and says nothing.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user.h"

#define GRACE_MS 1000
#define MAX_PENDING 100000 /* the library's default max_sessions */
#define NBUCKETS 4096
#define MAX_HOOKS 4

typedef struct entry_s {
  struct entry_s *next, *prev; /* FIFO */
  struct entry_s *hnext;     /* hash chain */
  uint64_t deadline;
  char id[24];
  char nick[NOOM_MAX_NICK + 1];
  size_t nrooms;
  char rooms[];              /* nrooms NUL-terminated names */
} entry_t;

static uv_loop_t *loop;
static sio_ns_t *lobby;
static uint64_t window;
static uv_timer_t timer;
static int timer_live;
static entry_t *head, *tail;
static entry_t *buckets[NBUCKETS];
static size_t npending;
static noom_farewell_cb hooks[MAX_HOOKS];
static size_t nhooks;

static entry_t **bucket(const char *id) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 16777619u;
  return &buckets[h % NBUCKETS];
}

static void unhash(entry_t *e) {
  for (entry_t **pp = bucket(e->id); *pp; pp = &(*pp)->hnext) {
    if (*pp == e) {
      *pp = e->hnext;
      return;
    }
  }
}

static void say_farewells(const entry_t *e) {
  const char *room = e->rooms;
  for (size_t i = 0; i < e->nrooms; i++, room += strlen(room) + 1)
    for (size_t k = 0; k < nhooks; k++) hooks[k](e->id, e->nick, room);
}

/* The id room's members on every node: empty means the session never came back. */
static void checked(int status, const char *const *ids, size_t n, void *u) {
  (void)ids;
  entry_t *e = u;
  if (status != SIO_ECANCELED && n == 0) say_farewells(e);
  free(e);
}

static void on_timer(uv_timer_t *t) {
  (void)t;
  uint64_t now = uv_now(loop);
  while (head && head->deadline <= now) {
    entry_t *e = head;
    head = e->next;
    if (head) head->prev = NULL;
    else tail = NULL;
    unhash(e);
    npending--;
    const char *rooms[] = {e->id};
    if (sio_ns_all_sockets(lobby, rooms, 1, checked, e) != 0) {
      say_farewells(e);
      free(e);
    }
  }
  if (head) uv_timer_start(&timer, on_timer, head->deadline - now, 0);
}

int noom_session_init(uv_loop_t *l, sio_ns_t *ns, uint64_t window_ms) {
  loop = l;
  lobby = ns;
  window = window_ms;
  if (window == 0) return 0;
  if (uv_timer_init(loop, &timer) != 0) return SIO_ENOMEM;
  timer_live = 1;
  return 0;
}

void noom_session_close(void) {
  while (head) {
    entry_t *e = head;
    head = e->next;
    free(e);
  }
  tail = NULL;
  memset(buckets, 0, sizeof buckets);
  npending = 0;
  if (timer_live) uv_close((uv_handle_t *)&timer, NULL);
  timer_live = 0;
}

/* The same list as socket.ts RECOVERABLE_DISCONNECT_REASONS, which the library keeps. */
int noom_session_kept(const char *reason) {
  static const char *const reasons[] = {"transport error", "transport close",      "forced close",
                                        "ping timeout",    "server shutting down", "forced server close"};
  if (window == 0 || !timer_live) return 0;
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
    if (strcmp(reason, reasons[i]) == 0) return 1;
  return 0;
}

int noom_session_on_farewell(noom_farewell_cb cb) {
  if (nhooks == MAX_HOOKS) return SIO_ENOMEM;
  hooks[nhooks++] = cb;
  return 0;
}

typedef struct {
  const char *id;
  size_t n, bytes;
  char *w;
} collect_t;

/* Public and call rooms, not the socket's own id room. */
static void collect(sio_str_t room, void *u) {
  collect_t *c = u;
  if (room.len > NOOM_MAX_ROOM + 8 || (room.len == strlen(c->id) && memcmp(room.ptr, c->id, room.len) == 0)) return;
  c->n++;
  c->bytes += room.len + 1;
  if (c->w) {
    memcpy(c->w, room.ptr, room.len);
    c->w[room.len] = '\0';
    c->w += room.len + 1;
  }
}

void noom_session_defer(sio_socket_t *s) {
  collect_t c = {sio_socket_id(s), 0, 0, NULL};
  sio_socket_rooms(s, collect, &c);
  int wait = npending < MAX_PENDING;
  entry_t *e = calloc(1, sizeof *e + c.bytes);
  if (e == NULL) return; /* no memory for a farewell: the room counts still drop */
  snprintf(e->id, sizeof e->id, "%s", sio_socket_id(s));
  snprintf(e->nick, sizeof e->nick, "%s", noom_user_nick(s));
  c = (collect_t){e->id, 0, 0, e->rooms};
  sio_socket_rooms(s, collect, &c);
  e->nrooms = c.n;
  if (!wait) {
    /* Too many away at once: say goodbye now (a later recovery comes back silently). */
    say_farewells(e);
    free(e);
    return;
  }
  e->deadline = uv_now(loop) + window + GRACE_MS;
  entry_t **b = bucket(e->id);
  e->hnext = *b;
  *b = e;
  e->prev = tail;
  if (tail) tail->next = e;
  else head = e;
  tail = e;
  npending++;
  if (head == e) uv_timer_start(&timer, on_timer, window + GRACE_MS, 0);
}

void noom_session_back(sio_socket_t *s) {
  const char *id = sio_socket_id(s);
  entry_t *e = *bucket(id);
  while (e && strcmp(e->id, id) != 0) e = e->hnext;
  if (e == NULL) return;
  unhash(e);
  if (e->prev) e->prev->next = e->next;
  else head = e->next;
  if (e->next) e->next->prev = e->prev;
  else tail = e->prev;
  npending--;
  free(e);
  if (head == NULL && timer_live) uv_timer_stop(&timer);
}
