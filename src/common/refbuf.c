/* Refcounted shared byte buffers (encode once, send to many). */
#include "common/refbuf.h"

#include <string.h>

#include "common/alloc.h"

sio__refbuf_t *sio__refbuf_new(size_t headroom, size_t len) {
  if (headroom > UINT32_MAX || len > ((size_t)-1) / 2) return NULL;
  sio__refbuf_t *rb = sio__malloc(sizeof *rb + headroom + len);
  if (rb == NULL) return NULL;
  rb->refs = 1;
  rb->head = (uint32_t)headroom;
  rb->len = len;
  rb->alt = NULL;
  rb->alt_key = 0;
  return rb;
}

sio__refbuf_t *sio__refbuf_from(size_t headroom, const void *data, size_t len) {
  sio__refbuf_t *rb = sio__refbuf_new(headroom, len);
  if (rb != NULL && len) memcpy(rb->data + headroom, data, len);
  return rb;
}

void sio__refbuf_unref(sio__refbuf_t *rb) {
  if (rb != NULL && --rb->refs == 0) {
    sio__refbuf_unref(rb->alt); /* an alt has no alt of its own: one level deep */
    sio__free(rb);
  }
}

void sio__refbuf_set_alt(sio__refbuf_t *rb, sio__refbuf_t *alt, uint32_t key) {
  sio__refbuf_t *old = rb->alt;
  rb->alt = sio__refbuf_ref(alt);
  rb->alt_key = key;
  sio__refbuf_unref(old);
}

void sio__refbuf_drop_alt(sio__refbuf_t *rb) {
  if (rb == NULL || rb->alt == NULL) return;
  sio__refbuf_unref(rb->alt);
  rb->alt = NULL;
}
