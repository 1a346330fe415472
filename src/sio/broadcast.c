/*
 * Broadcast operators (socket.io lib/broadcast-operator.ts) over the in-memory rooms:
 * a selection is "members of any of rooms (or everyone), minus members of any of
 * except", each socket once. Dedup uses per-namespace epochs stamped on sockets, so a
 * selection allocates nothing. Emits encode the packet once and queue references to the
 * same bytes on every recipient.
 *
 * Every operation does its local part first and then, unless SIO_BCAST_LOCAL, hands the
 * same selection to the namespace's adapter (sio/adapter.h). Operations that return data
 * from other nodes are in query.c; the handshake JSON they report is handshake.c's.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/recovery.h"
#include "sio/sio.h"

/* Appends s (referenced) to the selection list, growing it; SIO_ENOMEM leaves it as it was. */
static int list_push(sio_socket_t ***list, size_t *n, size_t *cap, sio_socket_t *s) {
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    sio_socket_t **p = sio__realloc(*list, ncap * sizeof *p);
    if (p == NULL) return SIO_ENOMEM;
    *list = p;
    *cap = ncap; /* only once the memory is there */
  }
  (*list)[(*n)++] = sio_socket_ref(s);
  return 0;
}

int sio__select(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *skip_id,
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
   * collect first so the rooms we walk cannot change under us. Collecting is also the
   * only step that allocates: when it fails, fn has run for nobody. */
  sio_socket_t **list = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  if (to && to->nrooms > 0) {
    for (size_t i = 0; i < to->nrooms && r == 0; i++) {
      sio__room_t *room = sio__adapter_room(ns, to->rooms[i], strlen(to->rooms[i]));
      for (uint32_t j = 0; room && j < room->n && r == 0; j++) {
        sio_socket_t *s = room->m[j].s;
        if (s->mark == except || s->sent == sent || s->state != SIO__SOCK_CONNECTED) continue;
        s->sent = sent;
        r = list_push(&list, &n, &cap, s);
      }
    }
  } else {
    uint32_t it = 0;
    void *v;
    while (r == 0 && sio__map_next(&ns->sockets, &it, NULL, NULL, &v)) {
      sio_socket_t *s = v;
      if (s->mark == except || s->state != SIO__SOCK_CONNECTED) continue;
      r = list_push(&list, &n, &cap, s);
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (r == 0 && list[i]->state == SIO__SOCK_CONNECTED) fn(list[i], u);
    sio_socket_unref(list[i]);
  }
  sio__free(list);
  return r;
}

int sio__ns_remote(const sio_ns_t *ns, const sio_broadcast_opts_t *to) {
  return ns->adapter != NULL && ns->adapter->version >= 2 && !(to && (to->flags & SIO_BCAST_LOCAL));
}

/* ---------------------------------------------------------------------------------
 * Emits
 * ------------------------------------------------------------------------------ */

typedef struct {
  sio__refbuf_t *text;
  const sio_args_t *args;
  const char *event;
  int flags; /* SIO_BCAST_VOLATILE and SIO_BCAST_NO_COMPRESS, for sio__client_send */
  int count;
  void *bcast;
  int64_t id;
} emit_ctx_t;

static void deliver(sio_socket_t *s, void *u) {
  emit_ctx_t *e = u;
  if (e->bcast && sio__ack_register(s, e->id, 0, NULL, NULL, e->bcast) != 0) return;
  if (s->any_out) sio__socket_fire_any_out(s, e->event, e->args);
  if (sio__client_send(s->client, e->text, e->args ? e->args->att : NULL, e->args ? e->args->natt : 0,
                       e->flags | SIO__SEND_SHARED) == 0) {
    e->count++;
  }
}

/* sio__select with deliver, then the compressed frames shared by the receivers are let
 * go: the packet may live on in a recovery buffer, which counts its bytes only. */
static int fan_out(sio_ns_t *ns, const sio_broadcast_opts_t *to, emit_ctx_t *e) {
  int r = sio__select(ns, to, NULL, deliver, e);
  sio__refbuf_drop_alt(e->text);
  for (uint32_t i = 0; e->args && i < e->args->natt; i++) sio__refbuf_drop_alt(e->args->att[i]);
  return r;
}

/* The adapter's view of an encoded packet: its text without the Engine.IO "4", and
 * slices of the attachments (atts must hold args->natt entries). */
static sio_packet_view_t packet_view(int parser, const char *event, const sio_args_t *args, sio__refbuf_t *text,
                                     sio_str_t *atts) {
  /* msgpack: the whole message is the packet, binary parts inside. */
  if (parser == SIO_PARSER_MSGPACK) return (sio_packet_view_t){{sio__refbuf_ptr(text), text->len}, atts, 0, event, args};
  size_t natt = args ? args->natt : 0;
  for (size_t i = 0; i < natt; i++) atts[i] = (sio_str_t){sio__refbuf_ptr(args->att[i]), args->att[i]->len};
  return (sio_packet_view_t){{sio__refbuf_ptr(text) + 1, text->len - 1}, atts, natt, event, args};
}

/* Room for the view's attachment slices: on the stack for the usual few, else
 * allocated, always before the local delivery so that a failure has no side effect. */
typedef struct {
  sio_str_t small[16];
  sio_str_t *atts;
} atts_t;

static int atts_init(atts_t *a, const sio_args_t *args) {
  size_t natt = args ? args->natt : 0;
  a->atts = natt <= 16 ? a->small : sio__calloc(natt, sizeof *a->atts);
  return a->atts ? 0 : SIO_ENOMEM;
}

static void atts_free(atts_t *a) {
  if (a->atts != a->small) sio__free(a->atts);
}

/* ---------------------------------------------------------------------------------
 * Recoverable broadcasts through an adapter's shared log (version-3 publish_offset):
 * the packet is published first and delivered locally once its offset is known, as
 * ClusterAdapter.broadcast does. The handle keeps a copy of what local delivery needs.
 * ------------------------------------------------------------------------------ */

struct sio_adapter_offset_s {
  sio_ns_t *ns;
  sio_args_t *args;          /* owned copy, NULL when there are none */
  sio_broadcast_opts_t to;   /* rooms/except point into names below */
  char *event;               /* into the same block */
  char *names[];             /* nrooms + nexcept pointers, then the text */
};

/* JSON text of offset: "<offset>", for Redis stream ids ("<ms>-<seq>") and anything
 * else made of [0-9A-Za-z_-]; other text is not an offset we append (returns 0). */
static size_t offset_text(const char *offset, char *out, size_t cap) {
  size_t n = offset ? strlen(offset) : 0;
  if (n == 0 || n + 2 > cap) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = offset[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
      return 0;
  }
  out[0] = '"';
  memcpy(out + 1, offset, n);
  out[n + 1] = '"';
  return n + 2;
}

/* Encodes event(args[, offset]) and sends it to the local selection. Returns the count
 * or an error. */
static int deliver_with_offset(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                               const sio_args_t *args, const char *offset) {
  emit_ctx_t e = {NULL, args, event, to ? (int)(to->flags & (SIO_BCAST_VOLATILE | SIO_BCAST_NO_COMPRESS)) : 0, 0,
                  NULL, -1};
  char tail[130];
  size_t n = ns->io->rec ? offset_text(offset, tail, sizeof tail) : 0;
  int parser = ns->io->opts.parser;
  int r = n ? sio__encode_event_tail(parser, ns->name, event, args, (sio_str_t){tail, n}, &e.text)
            : sio__encode_event(parser, ns->name, event, args, -1, &e.text);
  if (r) return r;
  sio_broadcast_opts_t local = {NULL, 0, NULL, 0, SIO_BCAST_LOCAL};
  if (to) local = (sio_broadcast_opts_t){to->rooms, to->nrooms, to->except, to->nexcept, to->flags | SIO_BCAST_LOCAL};
  r = sio__select(ns, &local, NULL, deliver, &e);
  sio__refbuf_unref(e.text);
  return r < 0 ? r : e.count;
}

int sio_adapter_emit_offset(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                            const char *offset) {
  return deliver_with_offset(ns, to, event, args, offset);
}

void sio_adapter_offset_done(sio_adapter_offset_t *h, const char *offset, int cancel) {
  if (!cancel) deliver_with_offset(h->ns, &h->to, h->event, h->args, offset);
  if (h->args) sio_args_free(h->args);
  sio__free(h);
}

/* Copies what local delivery needs; NULL when out of memory. */
static sio_adapter_offset_t *offset_handle(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                                           const sio_args_t *args) {
  size_t nr = to ? to->nrooms : 0, ne = to ? to->nexcept : 0, text = strlen(event) + 1;
  for (size_t i = 0; i < nr; i++) text += strlen(to->rooms[i]) + 1;
  for (size_t i = 0; i < ne; i++) text += strlen(to->except[i]) + 1;
  sio_adapter_offset_t *h = sio__malloc(sizeof *h + (nr + ne) * sizeof(char *) + text);
  if (h == NULL) return NULL;
  h->ns = ns;
  h->args = NULL;
  if (sio_args_count(args) > 0 && sio_args_copy(args, 0, sio_args_count(args), &h->args) != 0) {
    sio__free(h);
    return NULL;
  }
  char *w = (char *)(h->names + nr + ne);
  for (size_t i = 0; i < nr + ne; i++) {
    const char *src = i < nr ? to->rooms[i] : to->except[i - nr];
    size_t len = strlen(src) + 1;
    h->names[i] = memcpy(w, src, len);
    w += len;
  }
  h->event = memcpy(w, event, strlen(event) + 1);
  h->to = (sio_broadcast_opts_t){(const char *const *)h->names, nr, (const char *const *)h->names + nr, ne,
                                 to ? to->flags : 0};
  return h;
}

int sio__ns_emit_published(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args) {
  sio_adapter_offset_t *h = offset_handle(ns, to, event, args);
  if (h == NULL) return SIO_ENOMEM;
  sio__refbuf_t *text;
  atts_t atts;
  int r = sio__encode_event(ns->io->opts.parser, ns->name, event, args, -1, &text);
  if (r == 0 && (r = atts_init(&atts, args)) != 0) sio__refbuf_unref(text);
  if (r) {
    sio_adapter_offset_done(h, NULL, 1);
    return r;
  }
  sio_packet_view_t view = packet_view(ns->io->opts.parser, event, args, text, atts.atts);
  r = ns->adapter->publish_offset(ns->adapter_self, ns, to, &view, h);
  atts_free(&atts);
  sio__refbuf_unref(text);
  /* Refused (Redis down, too many in flight: the adapter logged why): local delivery
   * goes on without an offset, as socket.io does when publishing fails. */
  if (r) sio_adapter_offset_done(h, NULL, 0);
  return 0;
}

int sio_ns_emit(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args) {
  emit_ctx_t e = {NULL, args, event, to ? (int)(to->flags & (SIO_BCAST_VOLATILE | SIO_BCAST_NO_COMPRESS)) : 0, 0, NULL, -1};
  int fanout = ns->adapter != NULL && ns->adapter->broadcast != NULL && !(to && (to->flags & SIO_BCAST_LOCAL));
  int shared_log = ns->io->rec && sio__recovery_remote(ns);
  /* Recovery across nodes: the adapter's log gives the offset; local delivery waits for
   * it (the count of local receivers is then not known yet: 0). */
  if (shared_log && !(e.flags & SIO_BCAST_VOLATILE) && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return sio__ns_emit_published(ns, to, event, args);
  atts_t atts;
  /* Connection-state recovery stores the packet with its offset (not volatile ones). */
  int r = ns->io->rec && !(e.flags & SIO_BCAST_VOLATILE) && !shared_log
              ? sio__recovery_encode(ns, to, event, args, &e.text)
              : sio__encode_event(ns->io->opts.parser, ns->name, event, args, -1, &e.text);
  if (r) return r;
  if (fanout && (r = atts_init(&atts, args)) != 0) {
    sio__refbuf_unref(e.text);
    return r;
  }
  r = fan_out(ns, to, &e);
  if (r == 0) sio__m_broadcast(ns, (size_t)e.count, e.text, args);
  if (r == 0 && fanout) {
    sio_packet_view_t view = packet_view(ns->io->opts.parser, event, args, e.text, atts.atts);
    r = ns->adapter->broadcast(ns->adapter_self, ns, to, &view);
  }
  if (fanout) atts_free(&atts);
  sio__refbuf_unref(e.text);
  return r < 0 ? r : e.count;
}

/*
 * Encodes event(args) with a fresh ack id and an aggregate for the answers; the two
 * failure points come before anything is sent, so a failed call runs no callback.
 * *bcast gets the aggregate (cb(user) at its end), *text the encoded packet.
 */
static int prepare_acked(sio_ns_t *ns, const char *event, const sio_args_t *args, uint64_t timeout_ms,
                         sio_bcast_ack_cb cb, void *user, emit_ctx_t *e) {
  *e = (emit_ctx_t){NULL, args, event, 0, 0, NULL, ns->next_ack_id++};
  int r = sio__encode_event(ns->io->opts.parser, ns->name, event, args, e->id, &e->text);
  if (r) return r;
  e->bcast = sio__bcast_ack_new(ns->io, timeout_ms, cb, user);
  if (e->bcast == NULL) {
    sio__refbuf_unref(e->text);
    return SIO_ENOMEM;
  }
  return 0;
}

int sio_ns_emit_with_ack(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                         uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user) {
  int remote = sio__ns_remote(ns, to) && ns->adapter->broadcast_with_ack != NULL;
  atts_t atts;
  if (remote && atts_init(&atts, args) != 0) return SIO_ENOMEM;
  emit_ctx_t e;
  int r = prepare_acked(ns, event, args, timeout_ms, cb, user, &e);
  e.flags = to ? (int)(to->flags & SIO_BCAST_NO_COMPRESS) : 0;
  if (r == 0 && (r = fan_out(ns, to, &e)) != 0) {
    /* Nothing was sent: the aggregate goes without its callback. */
    sio__bcast_ack_discard(e.bcast);
    sio__refbuf_unref(e.text);
  }
  if (r) {
    if (remote) atts_free(&atts);
    return r;
  }
  if (remote) {
    /* The adapter holds the aggregate open until the other nodes' clients are counted
     * and have answered (sio_adapter_acks_done). A failing hook only loses them. */
    sio_packet_view_t view = packet_view(ns->io->opts.parser, event, args, e.text, atts.atts);
    sio__bcast_ack_hold(e.bcast);
    if (ns->adapter->broadcast_with_ack(ns->adapter_self, ns, to, &view, timeout_ms, e.bcast) < 0) {
      sio__bcast_ack_release(e.bcast);
    }
    atts_free(&atts);
  }
  sio__m_broadcast(ns, (size_t)e.count, e.text, args);
  sio__refbuf_unref(e.text);
  sio__bcast_ack_start(e.bcast, (uint32_t)e.count);
  return e.count;
}

void sio_adapter_acks_answer(sio_adapter_acks_t *acks, const sio_args_t *args) { sio__bcast_ack_answer(acks, args); }
void sio_adapter_acks_done(sio_adapter_acks_t *acks) { sio__bcast_ack_release(acks); }

/* A local emit-with-ack on behalf of another node: answers streamed, then the end. */
typedef struct {
  sio_adapter_each_ack_cb each;
  sio_adapter_acks_end_cb end;
  void *user;
} local_acks_t;

static void local_each(const sio_args_t *args, void *u) {
  local_acks_t *l = u;
  l->each(args, l->user);
}

static void local_end(int status, const sio_args_t *const *responses, size_t n, void *u) {
  local_acks_t *l = u;
  l->end(status, l->user);
  sio__free(l);
}

int sio_adapter_emit_with_ack_local(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                                    const sio_args_t *args, uint64_t timeout_ms, sio_adapter_each_ack_cb each,
                                    sio_adapter_acks_end_cb end, void *user) {
  local_acks_t *l = sio__malloc(sizeof *l);
  if (l == NULL) return SIO_ENOMEM;
  *l = (local_acks_t){each, end, user};
  emit_ctx_t e;
  int r = prepare_acked(ns, event, args, timeout_ms, local_end, l, &e);
  if (r) {
    sio__free(l);
    return r;
  }
  sio__bcast_ack_set_each(e.bcast, local_each, l);
  sio_broadcast_opts_t local = to ? *to : (sio_broadcast_opts_t)SIO_BROADCAST_ALL;
  local.flags |= SIO_BCAST_LOCAL;
  r = fan_out(ns, &local, &e);
  sio__refbuf_unref(e.text);
  if (r) {
    sio__bcast_ack_discard(e.bcast); /* local_end does not run: l is ours to free */
    sio__free(l);
    return r;
  }
  sio__bcast_ack_start(e.bcast, (uint32_t)e.count);
  return e.count;
}

/* ---------------------------------------------------------------------------------
 * Selection operations
 * ------------------------------------------------------------------------------ */

static void do_join(sio_socket_t *s, void *u) { sio__adapter_join(s, u, strlen(u)); }
static void do_leave(sio_socket_t *s, void *u) { sio__adapter_leave(s, u, strlen(u)); }
static void do_disconnect(sio_socket_t *s, void *u) { sio_socket_disconnect(s, *(int *)u); }

int sio_ns_sockets_join(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  int r = sio__select(ns, to, NULL, do_join, (void *)room);
  if (r) return r;
  if (ns->adapter && ns->adapter->sockets_join && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->sockets_join(ns->adapter_self, ns, to, room);
  return 0;
}

int sio_ns_sockets_leave(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  int r = sio__select(ns, to, NULL, do_leave, (void *)room);
  if (r) return r;
  if (ns->adapter && ns->adapter->sockets_leave && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->sockets_leave(ns->adapter_self, ns, to, room);
  return 0;
}

int sio_ns_disconnect_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, int close) {
  int r = sio__select(ns, to, NULL, do_disconnect, &close);
  if (r) return r;
  if (ns->adapter && ns->adapter->disconnect_sockets && !(to && (to->flags & SIO_BCAST_LOCAL)))
    return ns->adapter->disconnect_sockets(ns->adapter_self, ns, to, close);
  return 0;
}

void sio__collect(sio_socket_t *s, void *u) {
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
  int r = sio__select(ns, to, NULL, sio__collect, &f);
  if (r) f.err = r;
  if (f.err == 0) cb(0, f.list, f.n, user);
  for (size_t i = 0; i < f.n; i++) sio_socket_unref(f.list[i]);
  sio__free(f.list);
  return f.err;
}

