/*
 * Sockets (socket.io lib/socket.ts): one client in one namespace. Event dispatch
 * (onAny listeners, the per-packet middlewares of socket.use, the socket's handler,
 * then the namespace's), emits (encoded into one refcounted Engine.IO packet plus
 * attachments), rooms, and the disconnect sequence: "disconnecting" with rooms still
 * present, pending acks cancelled, rooms left, then "disconnect". Memory goes when the
 * last reference drops (sio_socket_unref).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/json.h"
#include "sio/recovery.h"
#include "sio/sio.h"
#include "ws/utf8.h"

/* Most clients send no CONNECT payload (or "{}"): such sockets share this text and keep
 * no JSON object, which saves four allocations (~260 bytes) per idle connection. */
static char empty_auth[] = "{}";

/* Keeps auth (borrowed) as the socket's payload: a reference to the object and its text,
 * written now because sio_socket_auth() has no way to report an allocation failure. */
static int set_auth(sio_socket_t *s, json_t *auth) {
  s->auth = empty_auth;
  if (auth == NULL || (json_is_object(auth) && json_object_size(auth) == 0)) return 0;
  sio__buf_t b = SIO__BUF_INIT;
  if (sio__json_write(&b, auth) != 0 || sio__buf_append_byte(&b, '\0') != 0) {
    sio__buf_free(&b);
    return SIO_ENOMEM;
  }
  s->auth = sio__buf_steal(&b, NULL);
  s->auth_obj = json_incref(auth);
  return 0;
}

static void free_auth(sio_socket_t *s) {
  if (s->auth != empty_auth) sio__free(s->auth);
  json_decref(s->auth_obj);
  s->auth = empty_auth;
  s->auth_obj = NULL;
}

sio_socket_t *sio__socket_new(sio_ns_t *ns, sio__client_t *c, json_t *auth) {
  sio_socket_t *s = sio__calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  if (sio__sid_generate(s->id) != 0) goto fail;
  s->refs = 1; /* held until the disconnect sequence ends */
  s->ns = ns;
  s->client = c;
  s->state = SIO__SOCK_CONNECTING;
  memcpy(s->eio_id, sio_eio_id(c->eio), sizeof s->eio_id);
  if (set_auth(s, auth) != 0 || sio__client_add(c, s) != 0) {
    free_auth(s);
    goto fail;
  }
  c->refs++; /* dropped when the socket leaves the client (sio__socket_onclose) */
  uv_timeval64_t now;
  s->issued_ms = uv_gettimeofday(&now) == 0 ? (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_usec / 1000 : 0;
  return s;
fail:
  sio__free(s);
  return NULL;
}

sio_socket_t *sio_socket_ref(sio_socket_t *s) {
  s->refs++;
  return s;
}

void sio__cbs_free(sio__cb_t *cb) {
  while (cb) {
    sio__cb_t *next = cb->next;
    sio__free(cb->event);
    sio__free(cb);
    cb = next;
  }
}

void sio_socket_unref(sio_socket_t *s) {
  if (--s->refs > 0) return;
  sio__cbs_free(s->cbs);
  sio__cbs_free(s->any_out);
  sio__recovery_socket_free(s);
  sio__free(s->use); /* emptied by the disconnect sequence: each held event holds a reference */
  if (s->rooms != &s->room1) sio__free(s->rooms);
  sio__free(s->data_json);
  free_auth(s);
  sio__free(s);
}

/* ---- the disconnect sequence ---- */

static void drop_held(sio_socket_t *s); /* per-packet middlewares, below */

static void run_disconnect_cbs(sio_socket_t *s, const sio__fn_t *arr, size_t n, const char *reason) {
  for (size_t i = 0; i < n; i++) ((sio_disconnect_cb)arr[i].fn)(s, reason, arr[i].user);
}

/* A listener may remove listeners (sio_socket_off_any) while the list is walked: during
 * a walk removal only marks the node, and the outermost walk unlinks and frees it. */
static void walk_begin(sio_socket_t *s) { s->walking++; }

static void sweep(sio__cb_t **p) {
  while (*p) {
    if ((*p)->kind == SIO__CB_REMOVED) {
      sio__cb_t *dead = *p;
      *p = dead->next;
      dead->next = NULL;
      sio__cbs_free(dead);
    } else {
      p = &(*p)->next;
    }
  }
}

static void walk_end(sio_socket_t *s) {
  if (--s->walking > 0) return;
  sweep(&s->cbs);
  sweep(&s->any_out);
}

static void run_socket_cbs(sio_socket_t *s, int kind, const char *reason) {
  walk_begin(s);
  for (sio__cb_t *cb = s->cbs; cb; cb = cb->next) {
    if (cb->kind == kind) ((sio_disconnect_cb)cb->fn)(s, reason, cb->user);
  }
  walk_end(s);
}

void sio__socket_onclose(sio_socket_t *s, const char *reason) {
  /* A listener of this very sequence may get here again (disconnect, client close). */
  if (s->state == SIO__SOCK_DISCONNECTED || s->closing) return;
  int was_connected = s->state == SIO__SOCK_CONNECTED;
  sio_ns_t *ns = s->ns;
  s->closing = 1;
  s->refs++;
  if (was_connected) {
    /* "disconnecting": as in socket.io the socket is still connected and in its rooms,
     * so listeners can read them, emit, and broadcast to them (socket.to(room)). */
    run_socket_cbs(s, SIO__CB_DISCONNECTING, reason);
    if (ns->parent) run_disconnect_cbs(s, ns->parent->on_disconnecting, ns->parent->non_disconnecting, reason);
    run_disconnect_cbs(s, ns->on_disconnecting, ns->non_disconnecting, reason);
    if (s->rec) sio__recovery_persist(s, reason); /* after "disconnecting", as socket.ts */
  }
  s->state = SIO__SOCK_DISCONNECTED;
  SIO__COUNT(ns->m.disconnects += was_connected);
  drop_held(s);
  sio__ack_cancel_all(s);
  sio__adapter_leave_all(s);
  /* Not only when connected: accept_socket registers the socket before joining its own
   * room, and leaves through here when that join runs out of memory. */
  if (sio__map_get(&ns->sockets, s->id, SIO__SID_LEN) == s) sio__map_del(&ns->sockets, s->id, SIO__SID_LEN);
  if (s->client) {
    sio__client_t *c = s->client;
    sio__client_remove(c, s);
    s->client = NULL;
    sio__client_unref(c);
  }
  if (was_connected) {
    SIO_LOGD("socket.io: %s left %s (%s)", s->id, ns->name, reason);
    run_socket_cbs(s, SIO__CB_DISCONNECT, reason);
    if (ns->parent) run_disconnect_cbs(s, ns->parent->on_disconnect, ns->parent->non_disconnect, reason);
    run_disconnect_cbs(s, ns->on_disconnect, ns->non_disconnect, reason);
  }
  s->refs--;
  sio_socket_unref(s); /* the connection's reference */
}

void sio__socket_server_disconnect(sio_socket_t *s) {
  sio__packet_t p = {SIO__PKT_DISCONNECT, s->ns->name, -1, NULL, NULL, 0, 0, NULL};
  sio__refbuf_t *text;
  if (s->client && sio__encode_packet(s->ns->io->opts.parser, &p, &text) == 0) {
    sio__client_send(s->client, text, NULL, 0, 0);
    sio__refbuf_unref(text);
  }
  sio__socket_onclose(s, "server namespace disconnect");
}

int sio_socket_disconnect(sio_socket_t *s, int close) {
  if (s->state != SIO__SOCK_CONNECTED || s->closing || s->client == NULL) return SIO_ECLOSED;
  if (close) sio__client_disconnect_all(s->client);
  else sio__socket_server_disconnect(s);
  return 0;
}

int sio_socket_conn_close(sio_socket_t *s) {
  if (s->state == SIO__SOCK_DISCONNECTED || s->closing || s->client == NULL) return SIO_ECLOSED;
  /* socket.conn.close(): the engine closes with "forced close", which every socket of
   * the connection gets as its reason; no Socket.IO packet is sent. */
  sio__client_close(s->client, "forced close");
  return 0;
}

void sio__socket_fire_any_out(sio_socket_t *s, const char *event, const sio_args_t *args) {
  /* A listener may remove listeners (sio_socket_off_any_outgoing): see walk_begin. */
  walk_begin(s);
  for (sio__cb_t *cb = s->any_out; cb; cb = cb->next)
    if (cb->kind == SIO__CB_ANY) ((sio_any_cb)cb->fn)(s, event, args, cb->user);
  walk_end(s);
}

static int emit(sio_socket_t *s, const char *event, const sio_args_t *args, int64_t id, unsigned flags) {
  if (s->state != SIO__SOCK_CONNECTED || s->client == NULL) return SIO_ECLOSED;
  sio__refbuf_t *text;
  /* Under connection-state recovery socket.ts emits through the socket's own room so
   * that the packet is stored (with acks it is not: a callback cannot be replayed; nor
   * is a volatile packet, which the session-aware adapter does not store). */
  sio_broadcast_opts_t own = {(const char *const[]){s->id}, 1, NULL, 0, 0};
  if (s->rec && id < 0 && !(flags & SIO_BCAST_VOLATILE) && sio__recovery_remote(s->ns))
    return sio__ns_emit_published(s->ns, &own, event, args);
  int r = s->rec && id < 0 && !(flags & SIO_BCAST_VOLATILE)
              ? sio__recovery_encode(s->ns, &own, event, args, &text)
              : sio__encode_event(s->ns->io->opts.parser, s->ns->name, event, args, id, &text);
  if (r) return r;
  /* socket.ts notifies the outgoing listeners before a volatile packet may be dropped. */
  if (s->any_out) sio__socket_fire_any_out(s, event, args);
  r = s->client ? sio__client_send(s->client, text, args ? args->att : NULL, args ? args->natt : 0, (int)flags)
                : SIO_ECLOSED;
  if (r == 0) sio__m_sent(s->ns, 1, text, args);
  sio__refbuf_unref(text);
  return r;
}

int sio_socket_emit(sio_socket_t *s, const char *event, const sio_args_t *args) {
  return emit(s, event, args, -1, 0);
}

int sio_socket_emit_flags(sio_socket_t *s, const char *event, const sio_args_t *args, unsigned flags) {
  return emit(s, event, args, -1, flags & (SIO_BCAST_VOLATILE | SIO_BCAST_NO_COMPRESS));
}

int sio_socket_emit_with_ack(sio_socket_t *s, const char *event, const sio_args_t *args, uint64_t timeout_ms,
                             sio_ack_cb cb, void *user) {
  if (s->state != SIO__SOCK_CONNECTED) return SIO_ECLOSED;
  int64_t id = s->ns->next_ack_id++;
  int r = sio__ack_register(s, id, timeout_ms, cb, user, NULL);
  if (r) return r;
  r = emit(s, event, args, id, 0);
  /* A failed call never runs its callback: take the registration back silently. (This
   * used to empty the list around sio__ack_cancel_all, which left the entry in place:
   * its callback then ran with SIO_ECANCELED at disconnect.) */
  if (r) sio__ack_unregister(s, id);
  return r;
}

int sio_socket_broadcast(sio_socket_t *s, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args) {
  if (s->state != SIO__SOCK_CONNECTED) return SIO_ECLOSED;
  sio_broadcast_opts_t o = to ? *to : (sio_broadcast_opts_t)SIO_BROADCAST_ALL;
  /* The caller's except list plus this socket's own room: on the stack for the usual
   * few, else allocated (no limit on the list). */
  const char *small[16], **ex = small;
  if (o.nexcept >= 16 && (ex = sio__calloc(o.nexcept + 1, sizeof *ex)) == NULL) return SIO_ENOMEM;
  for (size_t i = 0; i < o.nexcept; i++) ex[i] = o.except[i];
  ex[o.nexcept] = s->id;
  o.except = ex;
  o.nexcept++;
  int r = sio_ns_emit(s->ns, &o, event, args);
  if (ex != small) sio__free(ex);
  return r;
}

/* ---- receiving ---- */

/* Runs the event's own handler: the socket's, else the namespace's. The ack handle is
 * made only when there is a handler to answer it (id < 0: the client asked for none). */
static void deliver(sio_socket_t *s, const char *event, const sio_args_t *args, int64_t id) {
  const sio__cb_t *h = NULL;
  for (sio__cb_t *cb = s->cbs; cb; cb = cb->next) {
    if (cb->kind == SIO__CB_EVENT && strcmp(cb->event, event) == 0) {
      h = cb;
      break;
    }
  }
  if (h == NULL) h = sio__ns_handler(s->ns, event, strlen(event));
  if (h == NULL) return;
  sio_ack_t *ack = id >= 0 ? sio__ack_new(s, id) : NULL;
  if (id >= 0 && ack == NULL) return;
  ((sio_event_cb)h->fn)(s, args, ack, h->user);
  if (ack) sio__ack_after_callback(ack);
}

static int hold_event(sio_socket_t *s, const char *event, const sio_args_t *args, int64_t id);

static void dispatch_event(sio_socket_t *s, sio__packet_t *p) {
  const char *event = sio__event_name(p);
  if (event == NULL) return;
  sio_args_t args;
  sio__args_of_packet(&args, p, 1);
  /* onAny first, as socket.ts onevent does: before the per-packet middlewares. */
  walk_begin(s);
  for (sio__cb_t *cb = s->cbs; cb && s->state == SIO__SOCK_CONNECTED; cb = cb->next) {
    if (cb->kind == SIO__CB_ANY) ((sio_any_cb)cb->fn)(s, event, &args, cb->user);
  }
  walk_end(s);
  if (s->state != SIO__SOCK_CONNECTED) return;
  if (s->use) {
    if (hold_event(s, event, &args, p->id) != 0)
      SIO_LOGW("socket.io: %s: event \"%s\" dropped: out of memory for its middlewares", s->id, event);
    return;
  }
  deliver(s, event, &args, p->id);
}

/* ---- per-packet middlewares (socket.ts use / run / dispatch) ----
 *
 * A socket with middlewares copies each incoming event into a sio_event_mw_t and
 * queues it on s->use. Only the head of the queue is ever in a middleware ("held"):
 * the events behind it wait, so that a middleware that answers later does not let a
 * later event overtake it. pump() walks the head through the middlewares and on to
 * its handler, then the next one; it is a loop rather than recursion, so that a long
 * chain of synchronous middlewares and queued events does not grow the stack. A
 * middleware that answers at once (sio_event_mw_next inside the callback) only marks
 * the event ready, and the loop that called it carries on. */

typedef struct sio__useq_s {
  sio_event_mw_t *head, *tail; /* events in arrival order; the head may be held */
  uint8_t pumping;             /* pump() is running (further calls return at once) */
} sio__useq_t;

enum { MW_READY = 0, MW_HELD, MW_ORPHAN };

struct sio_event_mw_s {
  sio_event_mw_t *next; /* in s->use */
  sio_socket_t *s;      /* referenced until freed */
  sio__cb_t *at;        /* the middleware it was last given to (NULL: none yet) */
  char *event;          /* name and arguments, owned */
  sio_args_t *args;
  char *new_event;      /* a rewrite not yet applied (sio_event_mw_rewrite) */
  sio_args_t *new_args;
  int64_t id;           /* the client's ack id, -1 for none */
  uint8_t state;        /* MW_*: ready for its next step, in a middleware, or its socket left */
};

static void mw_free(sio_event_mw_t *m) {
  sio__free(m->event);
  sio_args_free(m->args);
  sio__free(m->new_event);
  sio_args_free(m->new_args);
  sio_socket_unref(m->s);
  sio__free(m);
}

static sio__cb_t *next_use(sio__cb_t *cb) {
  while (cb && cb->kind != SIO__CB_USE) cb = cb->next;
  return cb;
}

static sio_event_mw_t *pop_head(sio__useq_t *q) {
  sio_event_mw_t *m = q->head;
  q->head = m->next;
  if (q->head == NULL) q->tail = NULL;
  m->next = NULL;
  return m;
}

static void pump(sio_socket_t *s) {
  sio__useq_t *q = s->use;
  if (q->pumping) return;
  q->pumping = 1;
  sio_socket_ref(s);
  sio_event_mw_t *m;
  while (s->state == SIO__SOCK_CONNECTED && (m = q->head) != NULL && m->state == MW_READY) {
    sio__cb_t *cb = next_use(m->at ? m->at->next : s->cbs);
    if (cb == NULL) { /* through every middleware: to the handler */
      pop_head(q);
      deliver(s, m->event, m->args, m->id);
      mw_free(m);
      continue;
    }
    m->at = cb;
    m->state = MW_HELD;
    ((sio_event_mw_cb)cb->fn)(s, m->event, m->args, m, cb->user);
  }
  q->pumping = 0;
  sio_socket_unref(s);
}

/* Queues a copy of the event and lets pump() take it. 0 or SIO_ENOMEM (nothing held). */
static int hold_event(sio_socket_t *s, const char *event, const sio_args_t *args, int64_t id) {
  sio_event_mw_t *m = sio__calloc(1, sizeof *m);
  if (m == NULL) return SIO_ENOMEM;
  if ((m->event = sio__strdup(event)) == NULL || sio_args_copy(args, 0, (size_t)-1, &m->args) != 0) {
    sio__free(m->event);
    sio__free(m);
    return SIO_ENOMEM;
  }
  m->s = sio_socket_ref(s);
  m->id = id;
  sio__useq_t *q = s->use;
  if (q->tail) q->tail->next = m;
  else q->head = m;
  q->tail = m;
  pump(s);
  return 0;
}

/* The socket left: events waiting in the queue go; the one a middleware holds is only
 * marked, since the middleware still has its handle and will consume it. */
static void drop_held(sio_socket_t *s) {
  sio__useq_t *q = s->use;
  while (q && q->head) {
    sio_event_mw_t *m = pop_head(q);
    if (m->state == MW_HELD) m->state = MW_ORPHAN;
    else mw_free(m);
  }
}

static void run_error_cbs(sio_socket_t *s, const char *message) {
  walk_begin(s);
  for (sio__cb_t *cb = s->cbs; cb && s->state == SIO__SOCK_CONNECTED; cb = cb->next) {
    if (cb->kind == SIO__CB_ERROR) ((sio_socket_error_cb)cb->fn)(s, message, cb->user);
  }
  walk_end(s);
}

int sio_event_mw_rewrite(sio_event_mw_t *m, const char *event, const sio_args_t *args) {
  if (m->state == MW_ORPHAN) return SIO_ECLOSED;
  if (event && !sio__utf8_valid(event, strlen(event))) return SIO_EINVAL;
  char *e = NULL;
  sio_args_t *a = NULL;
  if ((event && (e = sio__strdup(event)) == NULL) || (args && sio_args_copy(args, 0, (size_t)-1, &a) != 0)) {
    sio__free(e);
    return SIO_ENOMEM;
  }
  if (e) {
    sio__free(m->new_event);
    m->new_event = e;
  }
  if (a) {
    sio_args_free(m->new_args);
    m->new_args = a;
  }
  return 0;
}

int sio_event_mw_next(sio_event_mw_t *m, const char *message) {
  sio_socket_t *s = m->s;
  if (m->state == MW_ORPHAN) {
    mw_free(m);
    return SIO_ECLOSED;
  }
  sio_socket_ref(s);
  if (message) {
    /* Refused: the held event is the queue's head. It goes before the error listeners
     * run, so that one of them may disconnect the socket (the usual answer). */
    pop_head(s->use);
    mw_free(m);
    SIO_LOGD("socket.io: %s: event refused by a middleware: %s", s->id, message);
    run_error_cbs(s, message);
  } else {
    if (m->new_event) {
      sio__free(m->event);
      m->event = m->new_event;
      m->new_event = NULL;
    }
    if (m->new_args) {
      sio_args_free(m->args);
      m->args = m->new_args;
      m->new_args = NULL;
    }
    m->state = MW_READY;
  }
  pump(s);
  sio_socket_unref(s);
  return 0;
}

void sio__socket_on_packet(sio_socket_t *s, sio__packet_t *p) {
  sio_socket_ref(s);
  switch (p->type) {
  case SIO__PKT_EVENT:
  case SIO__PKT_BINARY_EVENT:
    sio__m_received(s->ns, p);
    dispatch_event(s, p);
    break;
  case SIO__PKT_ACK:
  case SIO__PKT_BINARY_ACK:
    sio__ack_received(s, p);
    break;
  case SIO__PKT_DISCONNECT:
    sio__socket_onclose(s, "client namespace disconnect");
    break;
  default:
    break;
  }
  sio_socket_unref(s);
}

/* ---- handlers ---- */

static int push_cb(sio__cb_t **list, int kind, void *fn, void *user, const char *event) {
  sio__cb_t *cb = sio__calloc(1, sizeof *cb);
  if (cb == NULL) return SIO_ENOMEM;
  cb->fn = (void (*)(void))fn;
  cb->user = user;
  cb->kind = (uint8_t)kind;
  if (event && (cb->event = sio__strdup(event)) == NULL) {
    sio__free(cb);
    return SIO_ENOMEM;
  }
  /* Append: listeners run in registration order. */
  while (*list) list = &(*list)->next;
  *list = cb;
  return 0;
}

int sio_socket_on(sio_socket_t *s, const char *event, sio_event_cb cb, void *user) {
  if (s->state == SIO__SOCK_DISCONNECTED) return SIO_ECLOSED;
  for (sio__cb_t *h = s->cbs; h; h = h->next) {
    if (h->kind == SIO__CB_EVENT && strcmp(h->event, event) == 0) {
      h->fn = (void (*)(void))cb;
      h->user = user;
      return 0;
    }
  }
  return push_cb(&s->cbs, SIO__CB_EVENT, (void *)cb, user, event);
}

int sio_socket_on_any(sio_socket_t *s, sio_any_cb cb, void *user) {
  return push_cb(&s->cbs, SIO__CB_ANY, (void *)cb, user, NULL);
}
int sio_socket_on_any_outgoing(sio_socket_t *s, sio_any_cb cb, void *user) {
  return push_cb(&s->any_out, SIO__CB_ANY, (void *)cb, user, NULL);
}

/* prependAny / prependAnyOutgoing: at the head of the list, so first among the any
 * listeners (the list's other kinds are filtered by kind). A walk in progress has
 * passed the head already: like the JS copy of the listener array, it does not run the
 * new one for the current event. */
static int prepend_any(sio__cb_t **list, sio_any_cb cb, void *user) {
  sio__cb_t *n = sio__calloc(1, sizeof *n);
  if (n == NULL) return SIO_ENOMEM;
  n->fn = (void (*)(void))cb;
  n->user = user;
  n->kind = SIO__CB_ANY;
  n->next = *list;
  *list = n;
  return 0;
}
int sio_socket_prepend_any(sio_socket_t *s, sio_any_cb cb, void *user) { return prepend_any(&s->cbs, cb, user); }
int sio_socket_prepend_any_outgoing(sio_socket_t *s, sio_any_cb cb, void *user) {
  return prepend_any(&s->any_out, cb, user);
}

/* listenersAny / listenersAnyOutgoing: the count, each one to each() in call order. */
static size_t list_any(const sio__cb_t *cb, void (*each)(sio_any_cb cb, void *user, void *u), void *u) {
  size_t n = 0;
  for (; cb; cb = cb->next) {
    if (cb->kind != SIO__CB_ANY) continue;
    n++;
    if (each) each((sio_any_cb)cb->fn, cb->user, u);
  }
  return n;
}
size_t sio_socket_listeners_any(const sio_socket_t *s, void (*each)(sio_any_cb cb, void *user, void *u), void *u) {
  return list_any(s->cbs, each, u);
}
size_t sio_socket_listeners_any_outgoing(const sio_socket_t *s, void (*each)(sio_any_cb cb, void *user, void *u),
                                         void *u) {
  return list_any(s->any_out, each, u);
}
int sio_socket_use(sio_socket_t *s, sio_event_mw_cb cb, void *user) {
  if (s->state == SIO__SOCK_DISCONNECTED) return SIO_ECLOSED;
  if (s->use == NULL && (s->use = sio__calloc(1, sizeof *s->use)) == NULL) return SIO_ENOMEM;
  int r = push_cb(&s->cbs, SIO__CB_USE, (void *)cb, user, NULL);
  /* No middleware after all: without the queue, events are not copied for nothing. */
  if (r && next_use(s->cbs) == NULL) {
    sio__free(s->use);
    s->use = NULL;
  }
  return r;
}
int sio_socket_on_error(sio_socket_t *s, sio_socket_error_cb cb, void *user) {
  if (s->state == SIO__SOCK_DISCONNECTED) return SIO_ECLOSED;
  return push_cb(&s->cbs, SIO__CB_ERROR, (void *)cb, user, NULL);
}
int sio_socket_conn_on(sio_socket_t *s, sio_conn_event_t ev, sio_conn_cb cb, void *user) {
  if ((unsigned)ev > SIO_CONN_CLOSE || cb == NULL) return SIO_EINVAL;
  if (s->state == SIO__SOCK_DISCONNECTED || s->client == NULL || s->client->eio == NULL) return SIO_ECLOSED;
  int r = push_cb(&s->cbs, SIO__CB_CONN + (int)ev, (void *)cb, user, NULL);
  if (r == 0) s->client->conn_evs |= (uint8_t)(1u << ev);
  if (r == 0 && ev == SIO_CONN_DRAIN) sio__eio_watch_drain(s->client->eio);
  return r;
}

void sio__socket_fire_conn(sio_socket_t *s, int ev, const sio_conn_info_t *info) {
  walk_begin(s);
  for (sio__cb_t *cb = s->cbs; cb; cb = cb->next)
    if (cb->kind == SIO__CB_CONN + ev) ((sio_conn_cb)cb->fn)(s, (sio_conn_event_t)ev, info, cb->user);
  walk_end(s);
}

int sio_socket_on_disconnect(sio_socket_t *s, sio_disconnect_cb cb, void *user) {
  return push_cb(&s->cbs, SIO__CB_DISCONNECT, (void *)cb, user, NULL);
}
int sio_socket_on_disconnecting(sio_socket_t *s, sio_disconnect_cb cb, void *user) {
  return push_cb(&s->cbs, SIO__CB_DISCONNECTING, (void *)cb, user, NULL);
}

/* Removes the any listeners of list matching cb and user (cb NULL: all). */
static int off_any(sio_socket_t *s, sio__cb_t **list, sio_any_cb cb, void *user) {
  int removed = 0;
  for (sio__cb_t **p = list; *p;) {
    if ((*p)->kind == SIO__CB_ANY && (cb == NULL || ((*p)->fn == (void (*)(void))cb && (*p)->user == user))) {
      removed++;
      if (s->walking) { /* a walk may be standing on it: walk_end frees it */
        (*p)->kind = SIO__CB_REMOVED;
        p = &(*p)->next;
        continue;
      }
      sio__cb_t *dead = *p;
      *p = dead->next;
      sio__free(dead);
    } else {
      p = &(*p)->next;
    }
  }
  return removed;
}

int sio_socket_off_any(sio_socket_t *s, sio_any_cb cb, void *user) { return off_any(s, &s->cbs, cb, user); }
int sio_socket_off_any_outgoing(sio_socket_t *s, sio_any_cb cb, void *user) {
  return off_any(s, &s->any_out, cb, user);
}

/* ---- rooms and accessors ---- */

int sio_socket_join(sio_socket_t *s, const char *room) {
  if (s->state != SIO__SOCK_CONNECTED) return SIO_ECLOSED;
  return sio__adapter_join(s, room, strlen(room));
}

int sio_socket_leave(sio_socket_t *s, const char *room) {
  if (s->state != SIO__SOCK_CONNECTED) return SIO_ECLOSED;
  return sio__adapter_leave(s, room, strlen(room));
}

int sio_socket_in(const sio_socket_t *s, const char *room) {
  size_t len = strlen(room);
  for (uint32_t i = 0; i < s->nrooms; i++) {
    if (s->rooms[i].r->len == len && memcmp(s->rooms[i].r->name, room, len) == 0) return 1;
  }
  return 0;
}

size_t sio_socket_rooms(const sio_socket_t *s, void (*cb)(sio_str_t, void *), void *u) {
  for (uint32_t i = 0; cb && i < s->nrooms; i++) cb((sio_str_t){s->rooms[i].r->name, s->rooms[i].r->len}, u);
  return s->nrooms;
}

const char *sio_socket_id(const sio_socket_t *s) { return s->id; }
sio_ns_t *sio_socket_ns(const sio_socket_t *s) { return s->ns; }
int sio_socket_connected(const sio_socket_t *s) { return s->state == SIO__SOCK_CONNECTED; }
void sio_socket_set_data(sio_socket_t *s, void *data) { s->data = data; }
void *sio_socket_get_data(const sio_socket_t *s) { return s->data; }

int sio_socket_set_data_json(sio_socket_t *s, const char *json) {
  char *copy = NULL;
  if (json) {
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    if (v == NULL) return SIO_EJSON;
    json_decref(v);
    if ((copy = sio__strdup(json)) == NULL) return SIO_ENOMEM;
  }
  sio__free(s->data_json);
  s->data_json = copy;
  if (s->ns->io->nobs && s->state == SIO__SOCK_CONNECTED) sio__observe_data(s);
  return 0;
}

const char *sio_socket_get_data_json(const sio_socket_t *s) { return s->data_json ? s->data_json : "null"; }
const char *sio_socket_auth(const sio_socket_t *s) { return s->auth; }

int sio__socket_auth_str(const sio_socket_t *s, const char *key, sio_str_t *out) {
  json_t *v = json_is_object(s->auth_obj) ? json_object_get(s->auth_obj, key) : NULL;
  if (!json_is_string(v)) return 0;
  *out = (sio_str_t){json_string_value(v), json_string_length(v)};
  return 1;
}

void sio_socket_headers(const sio_socket_t *s, void (*cb)(sio_str_t name, sio_str_t value, void *u), void *u) {
  if (s->client && s->client->eio) sio_eio_headers(s->client->eio, cb, u);
}

sio_str_t sio_socket_handshake_url(const sio_socket_t *s) {
  return s->client && s->client->eio ? sio__eio_url(s->client->eio) : (sio_str_t){"", 0};
}

uint64_t sio_socket_handshake_time(const sio_socket_t *s) { return s->issued_ms; }

int sio__socket_header(const sio_socket_t *s, const char *lname, sio_str_t *out) {
  return s->client && s->client->eio ? sio__eio_header(s->client->eio, lname, out) : 0;
}

sio_str_t sio_socket_query(const sio_socket_t *s) {
  return s->client && s->client->eio ? sio_eio_query(s->client->eio) : (sio_str_t){"", 0};
}

const char *sio_socket_address(const sio_socket_t *s) {
  return s->client && s->client->eio ? sio_eio_address(s->client->eio) : "";
}

const char *sio_socket_transport(const sio_socket_t *s) {
  return s->client && s->client->eio ? sio_eio_transport(s->client->eio) : "closed";
}

const char *sio_socket_engine_id(const sio_socket_t *s) { return s->eio_id; }
