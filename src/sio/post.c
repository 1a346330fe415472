/*
 * sio_server_post: the one entry point other threads may call (include/sio/easy.h).
 *
 * A mutex-protected FIFO of (cb, user) and a uv_async_t on the server's loop. Posting
 * appends under the lock and calls uv_async_send (libuv's one thread-safe call), still
 * under the lock so that the handle cannot be closed in between. The async callback
 * takes the whole queue under the lock and runs it outside, so a callback may post
 * again (it runs on a later turn). The handle is unref'd: pending posts never keep a
 * loop alive on their own, the server's listening socket does.
 *
 * At sio_http_close, the closer registered here marks the queue closed (later posts
 * answer SIO_ECLOSED), runs what is still queued with SIO_ECANCELED, and closes the
 * handle; the state is freed in the close callback, after the server itself.
 */
#include "common/alloc.h"
#include "http/server.h"
#include "sio/easy.h"
#include "sio/sio.h"

typedef struct post_item_s {
  struct post_item_s *next;
  sio_post_cb cb;
  void *user;
} post_item_t;

struct sio__post_s {
  uv_async_t async;
  uv_mutex_t lock;
  post_item_t *head, **tail; /* under lock */
  int closed;                /* under lock */
  sio_server_t *io;
  sio__http_closer_t closer; /* post_close at sio_http_close */
};

/* Takes the queue (under the lock). */
static post_item_t *take_all(struct sio__post_s *p) {
  uv_mutex_lock(&p->lock);
  post_item_t *list = p->head;
  p->head = NULL;
  p->tail = &p->head;
  uv_mutex_unlock(&p->lock);
  return list;
}

static void run_all(struct sio__post_s *p, post_item_t *list, int status) {
  while (list != NULL) {
    post_item_t *next = list->next;
    list->cb(p->io, status, list->user);
    sio__free(list);
    list = next;
  }
}

static void on_async(uv_async_t *h) {
  struct sio__post_s *p = h->data;
  run_all(p, take_all(p), 0);
}

static void on_closed(uv_handle_t *h) {
  struct sio__post_s *p = h->data;
  uv_mutex_destroy(&p->lock);
  sio__free(p);
}

/* http closer: runs on the loop thread during sio_http_close, before the server is
 * freed. Posts still queued are canceled; a post racing with this sees closed. */
static void post_close(void *arg) {
  struct sio__post_s *p = arg;
  uv_mutex_lock(&p->lock);
  p->closed = 1;
  uv_mutex_unlock(&p->lock);
  run_all(p, take_all(p), SIO_ECANCELED);
  uv_close((uv_handle_t *)&p->async, on_closed);
}

int sio__post_init(sio_server_t *io) {
  struct sio__post_s *p = sio__calloc(1, sizeof *p);
  if (p == NULL) return SIO_ENOMEM;
  p->io = io;
  p->tail = &p->head;
  int r = uv_mutex_init(&p->lock);
  if (r) {
    sio__free(p);
    return r;
  }
  r = uv_async_init(sio_http_loop(io->http), &p->async, on_async);
  if (r) {
    uv_mutex_destroy(&p->lock);
    sio__free(p);
    return r;
  }
  p->async.data = p;
  uv_unref((uv_handle_t *)&p->async);
  sio__http_add_closer(io->http, &p->closer, post_close, p);
  io->post = p;
  return 0;
}

int sio_server_post(sio_server_t *io, sio_post_cb cb, void *user) {
  if (io == NULL || cb == NULL) return SIO_EINVAL;
  struct sio__post_s *p = io->post;
  if (p == NULL) return SIO_ECLOSED;
  post_item_t *it = sio__malloc(sizeof *it);
  if (it == NULL) return SIO_ENOMEM;
  *it = (post_item_t){NULL, cb, user};
  uv_mutex_lock(&p->lock);
  if (p->closed) {
    uv_mutex_unlock(&p->lock);
    sio__free(it);
    return SIO_ECLOSED;
  }
  *p->tail = it;
  p->tail = &it->next;
  int r = uv_async_send(&p->async);
  uv_mutex_unlock(&p->lock);
  /* uv_async_send fails only on a closing handle, which closed rules out. */
  (void)r;
  return 0;
}
