/* Internal allocation wrappers: every allocation in src/ goes through these. */
#ifndef SIO_COMMON_ALLOC_H
#define SIO_COMMON_ALLOC_H

#include <stddef.h>

void *sio__malloc(size_t size);
void *sio__calloc(size_t n, size_t size);
void *sio__realloc(void *ptr, size_t size);
void sio__free(void *ptr);
/* Copies len bytes and adds a NUL; returns new (free with sio__free) or NULL. */
char *sio__strndup(const char *s, size_t len);
char *sio__strdup(const char *s);
/* Tests only: routes jansson's process-wide allocator through sio__malloc/sio__free
 * (on = 1) or back to libc (on = 0). The library itself never calls it. */
void sio__alloc_share_with_jansson(int on);

#define SIO_ASSERT(cond) assert(cond)

#endif
