/* Open addressing with linear probing; tombstones on delete; rehashes at 3/4 load. */
#include "common/map.h"

#include <openssl/rand.h>
#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"

#define TOMB ((const char *)1)

static uint64_t seed;

uint32_t sio__map_hash(const char *key, size_t len) {
  if (seed == 0) {
    if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1 || seed == 0) seed = 0x9e3779b97f4a7c15ull;
  }
  /* FNV-1a over a per-process seed, then a final avalanche (murmur3 fmix64). */
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)key[i];
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return (uint32_t)h;
}

static int slot_live(const sio__map_slot_t *s) { return s->key != NULL && s->key != TOMB; }

static sio__map_slot_t *find(const sio__map_t *m, const char *key, size_t len, uint32_t h) {
  if (m->cap == 0) return NULL;
  uint32_t mask = m->cap - 1;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    sio__map_slot_t *s = &m->slots[i];
    if (s->key == NULL) return NULL;
    if (s->key != TOMB && s->hash == h && s->klen == len && memcmp(s->key, key, len) == 0) return s;
  }
}

void *sio__map_get(const sio__map_t *m, const char *key, size_t len) {
  sio__map_slot_t *s = find(m, key, len, sio__map_hash(key, len));
  return s ? s->val : NULL;
}

static int resize(sio__map_t *m, uint32_t cap) {
  sio__map_slot_t *slots = sio__calloc(cap, sizeof *slots);
  if (slots == NULL) return SIO_ENOMEM;
  for (uint32_t i = 0; i < m->cap; i++) {
    sio__map_slot_t *s = &m->slots[i];
    if (!slot_live(s)) continue;
    uint32_t j = s->hash & (cap - 1);
    while (slots[j].key != NULL) j = (j + 1) & (cap - 1);
    slots[j] = *s;
  }
  sio__free(m->slots);
  m->slots = slots;
  m->cap = cap;
  m->used = m->len;
  return 0;
}

int sio__map_put(sio__map_t *m, const char *key, size_t len, void *val) {
  if (len > UINT32_MAX) return SIO_EINVAL;
  uint32_t h = sio__map_hash(key, len);
  sio__map_slot_t *s = find(m, key, len, h);
  if (s != NULL) {
    s->key = key;
    s->val = val;
    return 0;
  }
  if ((m->used + 1) * 4 > m->cap * 3) {
    uint32_t cap = m->cap ? m->cap : 8;
    /* Rehash at the smallest size that leaves the live entries at most half full: inserts
     * alone double the table (between 3/8 and 3/4 full), tombstones alone rehash it in
     * place, and either way cap/4 operations pass before the next rehash. (This used to
     * ask for 3/8, which a full table never is after doubling: it grew 4x each time,
     * down to 19% full, ~128 instead of ~43 bytes per entry.) */
    while ((m->len + 1) * 2 > cap) {
      if (cap > UINT32_MAX / 2) return SIO_ENOMEM;
      cap *= 2;
    }
    int r = resize(m, cap);
    if (r) return r;
  }
  uint32_t mask = m->cap - 1;
  uint32_t i = h & mask;
  while (slot_live(&m->slots[i])) i = (i + 1) & mask;
  if (m->slots[i].key == NULL) m->used++;
  m->slots[i] = (sio__map_slot_t){key, (uint32_t)len, h, val};
  m->len++;
  return 0;
}

void *sio__map_del(sio__map_t *m, const char *key, size_t len) {
  sio__map_slot_t *s = find(m, key, len, sio__map_hash(key, len));
  if (s == NULL) return NULL;
  void *v = s->val;
  s->key = TOMB;
  s->klen = 0;
  s->val = NULL;
  m->len--;
  if (m->len == 0) {
    /* An empty map gives its memory back: idle sessions should cost nothing here. */
    sio__map_free(m);
  }
  return v;
}

void sio__map_free(sio__map_t *m) {
  sio__free(m->slots);
  *m = (sio__map_t)SIO__MAP_INIT;
}

int sio__map_next(const sio__map_t *m, uint32_t *it, const char **key, size_t *len, void **val) {
  while (*it < m->cap) {
    const sio__map_slot_t *s = &m->slots[(*it)++];
    if (slot_live(s)) {
      if (key) *key = s->key;
      if (len) *len = s->klen;
      if (val) *val = s->val;
      return 1;
    }
  }
  return 0;
}
