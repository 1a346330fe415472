/*
 * sio__map_t: a compact open-addressing hash map from byte-string keys to pointers.
 *
 * Keys are borrowed: the map stores the key pointer, which must stay valid (usually it
 * points into the value, e.g. a session's own sid) until the entry is deleted. 24 bytes
 * per slot, no allocation per entry: this is what keeps per-connection state small.
 * The hash is seeded per process so clients cannot pick colliding room names ahead of time.
 */
#ifndef SIO_COMMON_MAP_H
#define SIO_COMMON_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *key; /* NULL: empty; (const char *)1 with len 0 marks a tombstone */
  uint32_t klen;
  uint32_t hash;
  void *val;
} sio__map_slot_t;

typedef struct {
  sio__map_slot_t *slots;
  uint32_t cap;   /* power of two, 0 while empty */
  uint32_t len;   /* live entries */
  uint32_t used;  /* live + tombstones */
} sio__map_t;

#define SIO__MAP_INIT {NULL, 0, 0, 0}

uint32_t sio__map_hash(const char *key, size_t len);
void *sio__map_get(const sio__map_t *m, const char *key, size_t len);
/* Inserts or replaces. Returns 0 or SIO_ENOMEM (map unchanged). */
int sio__map_put(sio__map_t *m, const char *key, size_t len, void *val);
/* Removes the entry; returns its value or NULL if absent. */
void *sio__map_del(sio__map_t *m, const char *key, size_t len);
void sio__map_free(sio__map_t *m);
static inline uint32_t sio__map_size(const sio__map_t *m) { return m->len; }

/* Iteration: start with *it = 0; returns 0 when done. Do not insert while iterating;
 * deleting the entry just returned is allowed. */
int sio__map_next(const sio__map_t *m, uint32_t *it, const char **key, size_t *len, void **val);

#endif
