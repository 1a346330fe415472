/* Intrusive doubly-linked circular list (libuv's queue.h idea, with typed helpers). */
#ifndef SIO_COMMON_LIST_H
#define SIO_COMMON_LIST_H

#include <stddef.h>

typedef struct sio__list_s {
  struct sio__list_s *next;
  struct sio__list_s *prev;
} sio__list_t;

#define sio__container_of(ptr, type, field) ((type *)((char *)(ptr)-offsetof(type, field)))

static inline void sio__list_init(sio__list_t *h) { h->next = h->prev = h; }
static inline int sio__list_empty(const sio__list_t *h) { return h->next == h; }
/* A node that was initialised or removed points at itself. */
static inline int sio__list_linked(const sio__list_t *n) { return n->next != n && n->next != NULL; }

static inline void sio__list_insert_tail(sio__list_t *h, sio__list_t *n) {
  n->next = h;
  n->prev = h->prev;
  h->prev->next = n;
  h->prev = n;
}

static inline void sio__list_remove(sio__list_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}

#define sio__list_foreach(it, head) for ((it) = (head)->next; (it) != (head); (it) = (it)->next)

#endif
