/*
 * The in-memory adapter (socket.io-adapter lib/in-memory-adapter.ts): rooms -> sockets
 * and socket -> rooms. Both sides are arrays that remember each other's index, so join,
 * leave and membership tests are O(1) (swap-remove keeps them dense). A room is freed
 * with its last member.
 */
#include <string.h>

#include "common/alloc.h"
#include "sio/sio.h"

sio__room_t *sio__adapter_room(const sio_ns_t *ns, const char *room, size_t len) {
  return sio__map_get(&ns->rooms, room, len);
}

static int grow(void **arr, uint32_t *cap, size_t elem) {
  uint32_t c = *cap ? *cap * 2 : 2;
  void *p = sio__realloc(*arr, c * elem);
  if (p == NULL) return SIO_ENOMEM;
  *arr = p;
  *cap = c;
  return 0;
}

int sio__adapter_join(sio_socket_t *s, const char *name, size_t len) {
  sio_ns_t *ns = s->ns;
  sio__room_t *r = sio__adapter_room(ns, name, len);
  if (r) {
    for (uint32_t i = 0; i < s->nrooms; i++) {
      if (s->rooms[i].r == r) return 0; /* already a member */
    }
  } else {
    r = sio__calloc(1, sizeof *r);
    if (r == NULL || (r->name = sio__strndup(name, len)) == NULL) {
      sio__free(r);
      return SIO_ENOMEM;
    }
    r->len = len;
    r->is_sid = len == SIO__SID_LEN && memcmp(name, s->id, len) == 0;
    if (sio__map_put(&ns->rooms, r->name, len, r) != 0) {
      sio__free(r->name);
      sio__free(r);
      return SIO_ENOMEM;
    }
  }
  if ((r->n == r->cap && grow((void **)&r->m, &r->cap, sizeof *r->m) != 0) ||
      (s->nrooms == s->rooms_cap && grow((void **)&s->rooms, &s->rooms_cap, sizeof *s->rooms) != 0)) {
    if (r->n == 0) {
      sio__map_del(&ns->rooms, r->name, r->len);
      sio__free(r->m);
      sio__free(r->name);
      sio__free(r);
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
    sio__free(r->m);
    sio__free(r->name);
    sio__free(r);
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
  sio__free(s->rooms);
  s->rooms = NULL;
  s->rooms_cap = 0;
}

void sio__adapter_free_rooms(sio_ns_t *ns) {
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&ns->rooms, &it, NULL, NULL, &v)) {
    sio__room_t *r = v;
    sio__free(r->m);
    sio__free(r->name);
    sio__free(r);
  }
  sio__map_free(&ns->rooms);
}
