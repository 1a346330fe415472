/*
 * The allocator hook. libsio's own allocations go through here, so a test can swap in a
 * failing allocator and check that every path returns SIO_ENOMEM or closes cleanly.
 *
 * jansson's allocator is one setting for the whole process (json_set_alloc_funcs), which
 * the application or another library may own: sio_set_allocator leaves it alone. Tests
 * that want jansson's allocations counted too (the OOM tests) ask for it with
 * sio__alloc_share_with_jansson().
 */
#include "common/alloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sio/common.h"

static void *libc_malloc(void *ctx, size_t size) {
  (void)ctx;
  return malloc(size);
}
static void *libc_realloc(void *ctx, void *ptr, size_t size) {
  (void)ctx;
  return realloc(ptr, size);
}
static void libc_free(void *ctx, void *ptr) {
  (void)ctx;
  free(ptr);
}

static sio_allocator_t allocator = {libc_malloc, libc_realloc, libc_free, NULL};

static void *json_malloc(size_t size) { return sio__malloc(size); }
static void json_free(void *ptr) { sio__free(ptr); }

int sio_set_allocator(const sio_allocator_t *alloc) {
  if (alloc == NULL) {
    allocator = (sio_allocator_t){libc_malloc, libc_realloc, libc_free, NULL};
  } else {
    allocator = *alloc;
  }
  return 0;
}

void sio__alloc_share_with_jansson(int on) {
  if (on) json_set_alloc_funcs(json_malloc, json_free);
  else json_set_alloc_funcs(malloc, free);
}

void *sio__malloc(size_t size) {
  /* malloc(0) may return NULL legitimately; ask for one byte so NULL always means OOM. */
  return allocator.malloc(allocator.ctx, size ? size : 1);
}

void *sio__calloc(size_t n, size_t size) {
  if (size != 0 && n > (size_t)-1 / size) return NULL;
  void *p = sio__malloc(n * size);
  if (p != NULL) memset(p, 0, n * size);
  return p;
}

void *sio__realloc(void *ptr, size_t size) {
  return allocator.realloc(allocator.ctx, ptr, size ? size : 1);
}

void sio__free(void *ptr) {
  if (ptr != NULL) allocator.free(allocator.ctx, ptr);
}

char *sio__strndup(const char *s, size_t len) {
  char *p = sio__malloc(len + 1);
  if (p == NULL) return NULL;
  if (len) memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *sio__strdup(const char *s) { return sio__strndup(s, strlen(s)); }
