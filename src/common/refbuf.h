/*
 * sio__refbuf_t: refcounted, immutable-once-shared bytes. A broadcast encodes its frame
 * once into a refbuf and every recipient's write queue holds a reference (h2o's
 * h2o_mem_shared). Single-threaded: the count is a plain integer.
 *
 * `head` bytes of headroom sit before the payload so a transport can prepend its own
 * framing (a WebSocket header is at most 10 bytes) without copying the payload.
 *
 * `alt` is another encoding of the same payload made by a transport for many recipients
 * (a permessage-deflate frame shared by a broadcast's receivers), tagged with `alt_key`,
 * the producer's parameters. Owned by the refbuf: freed with it, or earlier with
 * sio__refbuf_drop_alt once the fan-out that wanted it is over.
 */
#ifndef SIO_COMMON_REFBUF_H
#define SIO_COMMON_REFBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sio__refbuf_s {
  uint32_t refs;
  uint32_t head; /* offset of the payload in data[] (headroom before it) */
  size_t len;    /* payload length */
  struct sio__refbuf_s *alt; /* owned reference, or NULL */
  uint32_t alt_key;
  char data[]; /* headroom, then the payload */
} sio__refbuf_t;

/* Returns new with refs = 1 and room for headroom + len bytes, or NULL. */
sio__refbuf_t *sio__refbuf_new(size_t headroom, size_t len);
/* Copies bytes into a new refbuf (headroom bytes reserved before them). */
sio__refbuf_t *sio__refbuf_from(size_t headroom, const void *data, size_t len);

static inline char *sio__refbuf_ptr(sio__refbuf_t *rb) { return rb->data + rb->head; }

static inline sio__refbuf_t *sio__refbuf_ref(sio__refbuf_t *rb) {
  rb->refs++;
  return rb;
}

/* Drops one reference; frees at zero (its alt too). NULL is allowed. */
void sio__refbuf_unref(sio__refbuf_t *rb);

/* Makes alt (a new reference is taken) rb's alternative encoding under key, releasing
 * the previous one. */
void sio__refbuf_set_alt(sio__refbuf_t *rb, sio__refbuf_t *alt, uint32_t key);
/* Releases rb's alternative encoding, if any. */
void sio__refbuf_drop_alt(sio__refbuf_t *rb);

#endif
