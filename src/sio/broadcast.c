/*
 * Broadcast operators (socket.io lib/broadcast-operator.ts) over the in-memory rooms:
 * a selection is "members of any of rooms (or everyone), minus members of any of
 * except", each socket once. Dedup uses per-namespace epochs stamped on sockets, so a
 * selection allocates nothing. Emits encode the packet once and queue references to the
 * same bytes on every recipient.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/sio.h"

void sio__select(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *skip_id,
                 void (*fn)(sio_socket_t *s, void *u), void *u) {
  uint32_t except = ++ns->epoch;
  uint32_t sent = ++ns->epoch;
  for (size_t i = 0; to && i < to->nexcept; i++) {
    sio__room_t *r = sio__adapter_room(ns, to->except[i], strlen(to->except[i]));
    for (uint32_t j = 0; r && j < r->n; j++) r->m[j].s->mark = except;
  }
  if (skip_id) {
    sio_socket_t *s = sio__map_get(&ns->sockets, skip_id, strlen(skip_id));
    if (s) s->mark = except;
  }
  /* fn may disconnect sockets (disconnectSockets): keep each alive while it runs, and
   * collect first so the rooms we walk cannot change under us. */
  sio_socket_t **list = NULL;
  size_t n = 0, cap = 0;
  if (to && to->nrooms > 0) {
    for (size_t i = 0; i < to->nrooms; i++) {
      sio__room_t *r = sio__adapter_room(ns, to->rooms[i], strlen(to->rooms[i]));
      for (uint32_t j = 0; r && j < r->n; j++) {
        sio_socket_t *s = r->m[j].s;
        if (s->mark == except || s->sent == sent || s->state != SIO__SOCK_CONNECTED) continue;
        s->sent = sent;
        if (n == cap) {
          cap = cap ? cap * 2 : 64;
          sio_socket_t **p = sio__realloc(list, cap * sizeof *p);
          if (p == NULL) break;
          list = p;
        }
        list[n++] = sio_socket_ref(s);
      }
    }
  } else {
    uint32_t it = 0;
    void *v;
    while (sio__map_next(&ns->sockets, &it, NULL, NULL, &v)) {
      sio_socket_t *s = v;
      if (s->mark == except || s->state != SIO__SOCK_CONNECTED) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        sio_socket_t **p = sio__realloc(list, cap * sizeof *p);
        if (p == NULL) break;
        list = p;
      }
      list[n++] = sio_socket_ref(s);
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (list[i]->state == SIO__SOCK_CONNECTED) fn(list[i], u);
    sio_socket_unref(list[i]);
  }
  sio__free(list);
}

typedef struct {
  sio__refbuf_t *text;
  const sio_args_t *args;
  const char *event;
  int volatile_;
  int count;
  void *bcast;
  int64_t id;
} emit_ctx_t;

static void deliver(sio_socket_t *s, void *u) {
  emit_ctx_t *e = u;
  if (e->bcast && sio__ack_register(s, e->id, 0, NULL, NULL, e->bcast) != 0) return;
  if (s->any_out) sio__socket_fire_any_out(s, e->event, e->args);
  if (sio__client_send(s->client, e->text, e->args ? e->args->att : NULL, e->args ? e->args->natt : 0, e->volatile_) == 0) {
    e->count++;
  }
}

static int adapter_fanout(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                          sio__refbuf_t *text) {
  if (ns->adapter == NULL || ns->adapter->broadcast == NULL || (to && (to->flags & SIO_BCAST_LOCAL))) return 0;
  sio_str_t atts[64];
  size_t natt = args ? args->natt : 0;
  if (natt > 64) return SIO_ELIMIT;
  for (size_t i = 0; i < natt; i++) atts[i] = (sio_str_t){sio__refbuf_ptr(args->att[i]), args->att[i]->len};
  sio_packet_view_t view = {{sio__refbuf_ptr(text) + 1, text->len - 1}, atts, natt, event, args};
  return ns->adapter->broadcast(ns->adapter_self, ns, to, &view);
}

int sio_ns_emit(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args) {
  emit_ctx_t e = {NULL, args, event, to ? (int)(to->flags & SIO_BCAST_VOLATILE) : 0, 0, NULL, -1};
  int r = sio__encode_event(ns->name, event, args, -1, &e.text);
  if (r) return r;
  sio__select(ns, to, NULL, deliver, &e);
  r = adapter_fanout(ns, to, event, args, e.text);
  sio__refbuf_unref(e.text);
  return r < 0 ? r : e.count;
}

int sio_ns_emit_with_ack(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                         uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user) {
  emit_ctx_t e = {NULL, args, event, 0, 0, NULL, ns->next_ack_id++};
  int r = sio__encode_event(ns->name, event, args, e.id, &e.text);
  if (r) return r;
  e.bcast = sio__bcast_ack_new(ns->io, timeout_ms, cb, user);
  if (e.bcast == NULL) {
    sio__refbuf_unref(e.text);
    return SIO_ENOMEM;
  }
  sio__select(ns, to, NULL, deliver, &e);
  sio__refbuf_unref(e.text);
  sio__bcast_ack_start(e.bcast, (uint32_t)e.count);
  return e.count;
}

/* ---- selection operations ---- */

static void do_join(sio_socket_t *s, void *u) { sio__adapter_join(s, u, strlen(u)); }
static void do_leave(sio_socket_t *s, void *u) { sio__adapter_leave(s, u, strlen(u)); }
static void do_disconnect(sio_socket_t *s, void *u) { sio_socket_disconnect(s, *(int *)u); }

int sio_ns_sockets_join(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  sio__select(ns, to, NULL, do_join, (void *)room);
  if (ns->adapter && ns->adapter->sockets_join && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->sockets_join(ns->adapter_self, ns, to, room);
  return 0;
}

int sio_ns_sockets_leave(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  sio__select(ns, to, NULL, do_leave, (void *)room);
  if (ns->adapter && ns->adapter->sockets_leave && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->sockets_leave(ns->adapter_self, ns, to, room);
  return 0;
}

int sio_ns_disconnect_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, int close) {
  sio__select(ns, to, NULL, do_disconnect, &close);
  if (ns->adapter && ns->adapter->disconnect_sockets && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->disconnect_sockets(ns->adapter_self, ns, to, close);
  return 0;
}

typedef struct {
  sio_socket_t **list;
  size_t n, cap;
  int err;
} fetch_ctx_t;

static void collect(sio_socket_t *s, void *u) {
  fetch_ctx_t *f = u;
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 16;
    sio_socket_t **p = sio__realloc(f->list, cap * sizeof *p);
    if (p == NULL) {
      f->err = SIO_ENOMEM;
      return;
    }
    f->list = p;
    f->cap = cap;
  }
  f->list[f->n++] = sio_socket_ref(s);
}

int sio_ns_fetch_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_fetch_cb cb, void *user) {
  fetch_ctx_t f = {NULL, 0, 0, 0};
  sio__select(ns, to, NULL, collect, &f);
  if (f.err == 0) cb(0, f.list, f.n, user);
  for (size_t i = 0; i < f.n; i++) sio_socket_unref(f.list[i]);
  sio__free(f.list);
  return f.err;
}
