/*
 * Acknowledgements both ways. Outgoing: an emit with an ack registers a pending entry
 * on the socket; its callback runs exactly once, with the client's answer, on timeout,
 * or with SIO_ECANCELED at disconnect. A broadcast with acks shares one aggregate (one
 * timer) across its recipients. Incoming: sio_ack_t is the server's `done` for a
 * client's emit-with-ack, consumed by sending.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/http.h"
#include "sio/sio.h"

typedef struct sio__bcast_s {
  uint32_t refs;
  uint32_t waiting; /* recipients that have not answered */
  uint32_t holds;   /* adapters still forwarding answers from other nodes */
  uint8_t done;
  uint8_t started;  /* the local recipients are counted (sio__bcast_ack_start) */
  sio_bcast_ack_cb cb;
  void *user;
  void (*each)(const sio_args_t *args, void *user); /* streams answers instead (adapter) */
  void *each_user;
  sio_args_t **resp;
  size_t nresp;
  uv_timer_t timer;
  sio__list_t link; /* in io->bcasts until done */
} sio__bcast_t;

struct sio__pending_s {
  sio__pending_t *next;
  int64_t id;
  sio_ack_cb cb;
  void *user;
  sio__bcast_t *bcast;
  uv_timer_t *timer; /* per-emit timeout, or NULL */
  sio_socket_t *s;
};

static void timer_closed(uv_handle_t *h) { sio__free(h); }

static void bcast_unref(sio__bcast_t *b);

static void bcast_closed(uv_handle_t *h) {
  sio__bcast_t *b = h->data;
  for (size_t i = 0; i < b->nresp; i++) sio_args_free(b->resp[i]);
  sio__free(b->resp);
  sio__free(b);
}

/* Runs the callback once and drops the timer's reference: whichever comes first of the
 * last answer, the timeout, or the server's shutdown. Recipients that still hold a
 * pending entry keep b alive; their late answers are ignored. */
static void bcast_finish(sio__bcast_t *b, int status) {
  if (b->done) return;
  b->done = 1;
  uv_timer_stop(&b->timer);
  sio__list_remove(&b->link);
  b->cb(status, (const sio_args_t *const *)b->resp, b->nresp, b->user);
  bcast_unref(b); /* the timer's reference */
}

static void bcast_unref(sio__bcast_t *b) {
  if (--b->refs == 0) uv_close((uv_handle_t *)&b->timer, bcast_closed);
}

static void on_bcast_timeout(uv_timer_t *t) { bcast_finish(t->data, SIO_ETIMEDOUT); }

/* Finishes b once local recipients are counted and answered and no adapter holds it. */
static void bcast_check(sio__bcast_t *b) {
  if (b->started && !b->done && b->holds == 0 && b->waiting == 0) bcast_finish(b, 0);
}

/* Keeps one answer (copied), or streams it to the adapter's each callback. */
static void bcast_add(sio__bcast_t *b, const sio_args_t *args) {
  if (b->each) {
    b->each(args, b->each_user);
    return;
  }
  sio_args_t *copy = NULL;
  sio_args_t **resp = sio__realloc(b->resp, (b->nresp + 1) * sizeof *resp);
  if (resp) b->resp = resp;
  if (resp && sio_args_copy(args, 0, (size_t)-1, &copy) == 0) b->resp[b->nresp++] = copy;
}

static void free_pending(sio__pending_t *p) {
  if (p->timer) {
    uv_timer_stop(p->timer);
    uv_close((uv_handle_t *)p->timer, timer_closed);
  }
  if (p->bcast) bcast_unref(p->bcast);
  sio__free(p);
}

static int unlink_pending(sio_socket_t *s, sio__pending_t *p) {
  for (sio__pending_t **it = &s->acks; *it; it = &(*it)->next) {
    if (*it == p) {
      *it = p->next;
      return 1;
    }
  }
  return 0;
}

static void on_ack_timeout(uv_timer_t *t) {
  sio__pending_t *p = t->data;
  sio_socket_t *s = p->s;
  if (!unlink_pending(s, p)) return;
  sio_socket_ref(s);
  p->cb(s, SIO_ETIMEDOUT, NULL, p->user);
  free_pending(p);
  sio_socket_unref(s);
}

int sio__ack_register(sio_socket_t *s, int64_t id, uint64_t timeout_ms, sio_ack_cb cb, void *user, void *bcast) {
  sio__pending_t *p = sio__calloc(1, sizeof *p);
  if (p == NULL) return SIO_ENOMEM;
  p->id = id;
  p->cb = cb;
  p->user = user;
  p->s = s;
  if (bcast) {
    p->bcast = bcast;
    p->bcast->refs++;
  } else if (timeout_ms > 0) {
    p->timer = sio__malloc(sizeof *p->timer);
    if (p->timer == NULL) {
      sio__free(p);
      return SIO_ENOMEM;
    }
    uv_timer_init(sio_http_loop(s->ns->io->http), p->timer);
    p->timer->data = p;
    uv_timer_start(p->timer, on_ack_timeout, timeout_ms, 0);
  }
  p->next = s->acks;
  s->acks = p;
  return 0;
}

void sio__ack_received(sio_socket_t *s, sio__packet_t *pkt) {
  sio__pending_t *p = NULL;
  for (sio__pending_t *it = s->acks; it; it = it->next) {
    if (it->id == pkt->id) {
      p = it;
      break;
    }
  }
  if (p == NULL) {
    SIO_LOGD("socket.io: %s acked unknown id %lld", s->id, (long long)pkt->id);
    return;
  }
  unlink_pending(s, p);
  sio_args_t args;
  sio__args_of_packet(&args, pkt, 0);
  if (p->bcast) {
    sio__bcast_t *b = p->bcast;
    if (!b->done) {
      bcast_add(b, &args);
      if (b->waiting > 0) b->waiting--;
      bcast_check(b);
    }
  } else {
    p->cb(s, 0, &args, p->user);
  }
  free_pending(p);
}

void sio__ack_unregister(sio_socket_t *s, int64_t id) {
  for (sio__pending_t *p = s->acks; p; p = p->next) {
    if (p->id == id) {
      unlink_pending(s, p);
      free_pending(p);
      return;
    }
  }
}

void sio__ack_cancel_all(sio_socket_t *s) {
  while (s->acks) {
    sio__pending_t *p = s->acks;
    s->acks = p->next;
    if (p->bcast == NULL) p->cb(s, SIO_ECANCELED, NULL, p->user);
    free_pending(p);
  }
}

/* ---- broadcast with acks ---- */

void *sio__bcast_ack_new(sio_server_t *io, uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user) {
  sio__bcast_t *b = sio__calloc(1, sizeof *b);
  if (b == NULL) return NULL;
  b->refs = 1; /* the timer's */
  b->cb = cb;
  b->user = user;
  uv_timer_init(sio_http_loop(io->http), &b->timer);
  b->timer.data = b;
  uv_timer_start(&b->timer, on_bcast_timeout, timeout_ms, 0);
  sio__list_insert_tail(&io->bcasts, &b->link);
  return b;
}

void sio__bcast_ack_start(void *bcast, uint32_t recipients) {
  sio__bcast_t *b = bcast;
  b->waiting += recipients;
  b->started = 1;
  /* Nobody to wait for: answer now (socket.io does the same with zero clients). */
  bcast_check(b);
}

void sio__bcast_ack_discard(void *bcast) {
  sio__bcast_t *b = bcast;
  /* Before any recipient registered: nobody else holds b, and the call that made it
   * failed, so its callback must not run. */
  b->done = 1;
  uv_timer_stop(&b->timer);
  sio__list_remove(&b->link);
  bcast_unref(b);
}

void sio__bcast_ack_hold(void *bcast) {
  sio__bcast_t *b = bcast;
  b->holds++;
  b->refs++;
}

void sio__bcast_ack_answer(void *bcast, const sio_args_t *args) {
  sio__bcast_t *b = bcast;
  if (b->done) return;
  sio_args_t none = {.view = 1};
  bcast_add(b, args ? args : &none);
}

void sio__bcast_ack_release(void *bcast) {
  sio__bcast_t *b = bcast;
  b->holds--;
  bcast_check(b);
  bcast_unref(b);
}

void sio__bcast_ack_set_each(void *bcast, void (*each)(const sio_args_t *, void *), void *each_user) {
  sio__bcast_t *b = bcast;
  b->each = each;
  b->each_user = each_user;
}

void sio__bcast_ack_cancel_all(sio_server_t *io) {
  /* Shutdown: a pending timer would keep the loop (and its callback's user data) alive
   * past the server. */
  while (!sio__list_empty(&io->bcasts)) {
    bcast_finish(sio__container_of(io->bcasts.next, sio__bcast_t, link), SIO_ECANCELED);
  }
}

/* ---- incoming acks (the server's `done`) ---- */

/*
 * Lifetime of sio_ack_t: the dispatcher creates it for the event callback (in_cb). A
 * send or free during the callback only marks it done, since the dispatcher still holds
 * the pointer; sio__ack_after_callback then frees it, unless the handler retained it
 * and has not answered yet: from then on it is the handler's, and the send or free that
 * consumes it frees it at once.
 */
sio_ack_t *sio__ack_new(sio_socket_t *s, int64_t id) {
  sio_ack_t *a = sio__calloc(1, sizeof *a);
  if (a == NULL) return NULL;
  a->s = sio_socket_ref(s);
  a->id = id;
  a->in_cb = 1;
  return a;
}

static void ack_destroy(sio_ack_t *ack) {
  if (ack->s) sio_socket_unref(ack->s);
  sio__free(ack);
}

void sio_ack_free(sio_ack_t *ack) {
  if (ack == NULL) return;
  if (ack->in_cb) ack->done = 1;
  else ack_destroy(ack);
}

sio_ack_t *sio_ack_retain(sio_ack_t *ack) {
  ack->retained = 1;
  return ack;
}

void sio__ack_after_callback(sio_ack_t *ack) {
  ack->in_cb = 0;
  if (ack->done || !ack->retained) ack_destroy(ack);
}

/* Encodes and queues the ACK packet for ack->id with args. */
static int send_ack(sio_socket_t *s, int64_t id, const sio_args_t *args) {
  if (s->state != SIO__SOCK_CONNECTED || s->client == NULL) return SIO_ECLOSED;
  sio__refbuf_t *text = NULL;
  int r = sio__encode_ack(s->ns->io->opts.parser, s->ns->name, args, id, &text);
  if (r == 0) r = sio__client_send(s->client, text, args ? args->att : NULL, args ? args->natt : 0, 0);
  sio__refbuf_unref(text);
  return r;
}

int sio_ack_send(sio_ack_t *ack, const sio_args_t *args) {
  /* A second answer within the callback (the handle is still alive): refused. */
  if (ack->done) return SIO_EINVAL;
  int r = send_ack(ack->s, ack->id, args);
  /* Consumed either way. */
  if (ack->in_cb) ack->done = 1;
  else ack_destroy(ack);
  return r;
}

size_t sio__ack_pending(const sio_socket_t *s) {
  size_t n = 0;
  for (const sio__pending_t *p = s->acks; p; p = p->next) n++;
  return n;
}
