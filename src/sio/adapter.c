/*
 * The in-memory adapter (socket.io-adapter lib/in-memory-adapter.ts): rooms -> sockets
 * and socket -> rooms. Both sides are arrays that remember each other's index, so join,
 * leave and membership tests are O(1) (swap-remove keeps them dense). A room is freed
 * with its last member.
 *
 * Memory: every connected socket is in its own room, so that case costs no allocation.
 * The room lives inside the socket (sio_socket_s.own, named by the socket's id), and both
 * sides keep their first entry inline (room.m1, socket.room1). Anyone may join a room
 * named after another socket's id, so the embedded room can outlive its owner's
 * membership: it holds a reference on its socket while in use, which keeps the memory
 * until the last member leaves.
 */
#include <string.h>

#include "common/alloc.h"
#include "sio/sio.h"

sio__room_t *sio__adapter_room(const sio_ns_t *ns, const char *room, size_t len) {
  return sio__map_get(&ns->rooms, room, len);
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
  return r;
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
  } else if ((r = room_new(s, name, len)) == NULL) {
    return SIO_ENOMEM;
  }
  if (s->rooms_cap == 0) {
    s->rooms = &s->room1;
    s->rooms_cap = 1;
  }
  if ((r->n == r->cap && grow((void **)&r->m, &r->cap, sizeof *r->m, &r->m1) != 0) ||
      (s->nrooms == s->rooms_cap && grow((void **)&s->rooms, &s->rooms_cap, sizeof *s->rooms, &s->room1) != 0)) {
    if (r->n == 0) {
      sio__map_del(&ns->rooms, r->name, r->len);
      free_room(r);
    }
    return SIO_ENOMEM;
  }
  r->m[r->n] = (sio__member_t){s, s->nrooms};
  s->rooms[s->nrooms] = (sio__sroom_t){r, r->n};
  r->n++;
  s->nrooms++;
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
  if (r->n == 0) {
    sio__map_del(&s->ns->rooms, r->name, r->len);
    free_room(r);
  }
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
