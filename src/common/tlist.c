/* Timeout lists driven by one uv_timer per hub (see tlist.h for why). */
#include "common/tlist.h"

static void reschedule(sio__thub_t *hub);

static void on_timer(uv_timer_t *t) {
  sio__thub_t *hub = t->data;
  uint64_t now = uv_now(t->loop);
  hub->scheduled = UINT64_MAX;
  for (sio__tlist_t *l = hub->lists; l; l = l->next) {
    while (!sio__list_empty(&l->head)) {
      sio__tnode_t *n = sio__container_of(l->head.next, sio__tnode_t, link);
      if (n->deadline > now) break;
      sio__list_remove(&n->link);
      /* The callback may re-arm n (on this or another list) or free it. */
      l->cb(n);
    }
  }
  reschedule(hub);
}

static void reschedule(sio__thub_t *hub) {
  uint64_t next = UINT64_MAX;
  for (sio__tlist_t *l = hub->lists; l; l = l->next) {
    if (sio__list_empty(&l->head)) continue;
    sio__tnode_t *n = sio__container_of(l->head.next, sio__tnode_t, link);
    if (n->deadline < next) next = n->deadline;
  }
  if (next == hub->scheduled) return;
  hub->scheduled = next;
  if (next == UINT64_MAX) {
    uv_timer_stop(&hub->timer);
    return;
  }
  uint64_t now = uv_now(hub->timer.loop);
  uv_timer_start(&hub->timer, on_timer, next > now ? next - now : 0, 0);
}

int sio__thub_init(sio__thub_t *hub, uv_loop_t *loop) {
  hub->scheduled = UINT64_MAX;
  hub->lists = NULL;
  hub->tail = &hub->lists;
  hub->timer.data = hub;
  int r = uv_timer_init(loop, &hub->timer);
  if (r == 0) uv_unref((uv_handle_t *)&hub->timer);
  return r;
}

void sio__thub_close(sio__thub_t *hub, uv_close_cb cb) { uv_close((uv_handle_t *)&hub->timer, cb); }

void sio__tlist_init(sio__tlist_t *l, sio__thub_t *hub, uint64_t timeout, sio__tnode_cb cb) {
  sio__list_init(&l->head);
  l->timeout = timeout;
  l->cb = cb;
  l->hub = hub;
  l->next = NULL;
  *hub->tail = l;
  hub->tail = &l->next;
}

void sio__tlist_remove(sio__tlist_t *l) {
  sio__thub_t *hub = l->hub;
  for (sio__tlist_t **p = &hub->lists; *p; p = &(*p)->next) {
    if (*p != l) continue;
    *p = l->next;
    if (hub->tail == &l->next) hub->tail = p;
    return;
  }
}

void sio__tlist_arm(sio__tlist_t *l, sio__tnode_t *n) {
  sio__list_remove(&n->link);
  n->deadline = uv_now(l->hub->timer.loop) + l->timeout;
  sio__list_insert_tail(&l->head, &n->link);
  /* Only an earlier deadline than the armed one needs the uv timer touched. */
  if (n->deadline < l->hub->scheduled) {
    l->hub->scheduled = n->deadline;
    uv_timer_start(&l->hub->timer, on_timer, l->timeout, 0);
  }
}
