/*
 * The in-memory adapter (socket.io-adapter lib/in-memory-adapter.ts): rooms -> sockets
 * and socket -> rooms. Both sides are arrays that remember each other's index, so join,
 * leave and membership tests are O(1) (swap-remove keeps them dense). A room is freed
 * with its last member.
 *
 * Memory: every connected socket is in its own room, so that case costs no allocation.
 * The room lives inside the socket (sio_socket_s.own, named by the socket's id), and both
 * sides keep their first entry inline (room.m1, socket.room1). Nobody else may join a
 * socket's id room (SIO_EPERM: it carries that socket's private messages), but the owner
 * may leave it and a remote socketsJoin may race its disconnect, so the embedded room
 * holds a reference on its socket while in use, which keeps the memory until the last
 * member leaves.
 *
 * Every change is reported to the namespace's room listener (sio_ns_on_room), which is
 * how a lobby keeps its counts without walking the rooms.
 */
#include <string.h>

#include "common/alloc.h"
#include "sio/sio.h"

sio__room_t *sio__adapter_room(const sio_ns_t *ns, const char *room, size_t len) {
  return sio__map_get(&ns->rooms, room, len);
}

int sio_ns_on_room(sio_ns_t *ns, sio_room_cb cb, void *user) {
  ns->on_room = cb;
  ns->on_room_user = user;
  return 0;
}

/* Tells the room listener (the namespace's own, else its dynamic parent's). */
static void room_event(sio_ns_t *ns, int type, const sio__room_t *r, const sio_socket_t *s) {
  const sio_ns_t *src = ns->on_room ? ns : ns->parent;
  int own = src != NULL && src->on_room != NULL;
  if (!own && ns->io->nobs == 0) return;
  sio_room_event_t ev = {type, {r->name, r->len}, r->is_sid, s ? s->id : NULL, r->n};
  if (own) src->on_room(ns, &ev, src->on_room_user);
  if (ns->io->nobs) sio__observe_room(ns, &ev);
}

/* Makes room for one more entry in an array whose first entry is inline (*arr == one
 * while *cap is 1). */
static int grow(void **arr, uint32_t *cap, size_t elem, void *one) {
  uint32_t c = *cap * 2;
  void *p;
  if (*arr == one) {
    if ((p = sio__malloc(c * elem)) == NULL) return SIO_ENOMEM;
    memcpy(p, one, elem);
  } else if ((p = sio__realloc(*arr, c * elem)) == NULL) {
    return SIO_ENOMEM;
  }
  *arr = p;
  *cap = c;
  return 0;
}

static void free_room(sio__room_t *r);

/* Creates and registers an empty room: the socket's embedded one for its own id when
 * that is free, else a new allocation. NULL on OOM. */
static sio__room_t *room_new(sio_socket_t *s, const char *name, size_t len) {
  int own = len == SIO__SID_LEN && memcmp(name, s->id, len) == 0;
  sio__room_t *r;
  if (own && s->own.name == NULL) {
    r = &s->own;
    *r = (sio__room_t){.name = s->id, .embedded = 1};
  } else {
    if ((r = sio__calloc(1, sizeof *r + len + 1)) == NULL) return NULL;
    r->name = memcpy((char *)(r + 1), name, len);
  }
  r->len = (uint32_t)len;
  r->is_sid = (uint8_t)own;
  r->m = &r->m1;
  r->cap = 1;
  if (sio__map_put(&s->ns->rooms, r->name, len, r) != 0) {
    if (r->embedded) r->name = NULL;
    else sio__free(r);
    return NULL;
  }
  if (r->embedded) sio_socket_ref(s); /* released with the room (free_room) */
  room_event(s->ns, SIO_ROOM_CREATE, r, NULL);
  return r;
}

/* Unregisters an empty room, tells the listener, and frees it. */
static void drop_room(sio_ns_t *ns, sio__room_t *r) {
  sio__map_del(&ns->rooms, r->name, r->len);
  room_event(ns, SIO_ROOM_DELETE, r, NULL);
  free_room(r);
}

/* Releases an empty (or abandoned) room's memory; it is no longer in the map. */
static void free_room(sio__room_t *r) {
  if (r->m != &r->m1) sio__free(r->m);
  if (!r->embedded) {
    sio__free(r);
    return;
  }
  /* Last: dropping the reference may free the socket and the room with it. */
  sio_socket_t *owner = sio__container_of(r, sio_socket_t, own);
  r->name = NULL;
  sio_socket_unref(owner);
}

int sio__adapter_join(sio_socket_t *s, const char *name, size_t len) {
  sio_ns_t *ns = s->ns;
  if (len > UINT32_MAX) return SIO_EINVAL;
  sio__room_t *r = sio__adapter_room(ns, name, len);
  if (r) {
    for (uint32_t i = 0; i < s->nrooms; i++) {
      if (s->rooms[i].r == r) return 0; /* already a member */
    }
  }
  /* Another connected socket's id (whether or not it is in its room right now): its
   * private messages go there. */
  int own = len == SIO__SID_LEN && memcmp(name, s->id, len) == 0;
  if (!own && ((r && r->is_sid) || (len == SIO__SID_LEN && sio__map_get(&ns->sockets, name, len)))) return SIO_EPERM;
  /* The own id room does not count against the limit. Its storage is in use exactly
   * while the owner is in it: nobody else can be a member of it. */
  uint32_t max = ns->io->opts.max_rooms_per_socket;
  if (max && !own && s->nrooms - (s->own.name != NULL) >= max) return SIO_ELIMIT;
  if (r == NULL && (r = room_new(s, name, len)) == NULL) return SIO_ENOMEM;
  if (s->rooms_cap == 0) {
    s->rooms = &s->room1;
    s->rooms_cap = 1;
  }
  if ((r->n == r->cap && grow((void **)&r->m, &r->cap, sizeof *r->m, &r->m1) != 0) ||
      (s->nrooms == s->rooms_cap && grow((void **)&s->rooms, &s->rooms_cap, sizeof *s->rooms, &s->room1) != 0)) {
    if (r->n == 0) drop_room(ns, r);
    return SIO_ENOMEM;
  }
  r->m[r->n] = (sio__member_t){s, s->nrooms};
  s->rooms[s->nrooms] = (sio__sroom_t){r, r->n};
  r->n++;
  s->nrooms++;
  room_event(ns, SIO_ROOM_JOIN, r, s);
  return 0;
}

/* Removes membership i of s (swap-remove on both sides). */
static void remove_at(sio_socket_t *s, uint32_t i) {
  sio__room_t *r = s->rooms[i].r;
  uint32_t ri = s->rooms[i].ridx;
  /* Room side: move the last member into ri. */
  r->m[ri] = r->m[--r->n];
  if (ri < r->n) r->m[ri].s->rooms[r->m[ri].sidx].ridx = ri;
  /* Socket side: move the last room into i. */
  s->rooms[i] = s->rooms[--s->nrooms];
  if (i < s->nrooms) s->rooms[i].r->m[s->rooms[i].ridx].sidx = i;
  room_event(s->ns, SIO_ROOM_LEAVE, r, s);
  if (r->n == 0) drop_room(s->ns, r);
}

int sio__adapter_leave(sio_socket_t *s, const char *name, size_t len) {
  for (uint32_t i = 0; i < s->nrooms; i++) {
    sio__room_t *r = s->rooms[i].r;
    if (r->len == len && memcmp(r->name, name, len) == 0) {
      remove_at(s, i);
      return 0;
    }
  }
  return 0;
}

void sio__adapter_leave_all(sio_socket_t *s) {
  while (s->nrooms > 0) remove_at(s, s->nrooms - 1);
  if (s->rooms != &s->room1) sio__free(s->rooms);
  s->rooms = NULL;
  s->rooms_cap = 0;
}

void sio__adapter_free_rooms(sio_ns_t *ns) {
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&ns->rooms, &it, NULL, NULL, &v)) free_room(v);
  sio__map_free(&ns->rooms);
}
