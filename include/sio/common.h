/*
 * sio/common.h: process-wide settings shared by every layer: the allocator hook,
 * logging, and the string slice type.
 *
 * Threading: everything in libsio runs on the thread that runs its uv_loop_t. These
 * setters are meant to be called once at start-up, before any loop runs.
 */
#ifndef SIO_COMMON_H
#define SIO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifndef SIO_EXTERN
#define SIO_EXTERN __attribute__((visibility("default")))
#endif

/* A borrowed byte slice: never NUL-terminated unless said so. */
typedef struct {
  const char *ptr;
  size_t len;
} sio_str_t;

/*
 * A replaceable allocator for libsio's own memory: handles (servers, namespaces,
 * sockets, HTTP connections), buffers and write queues, event arguments' text and
 * binary attachments, maps and timers. A failing allocator is how the OOM tests reach
 * every error path.
 *
 * It does NOT affect, and libsio never changes:
 *  - jansson's allocator, which is one setting for the whole process
 *    (json_set_alloc_funcs): JSON trees that libsio parses or composes (objects and
 *    arrays in arguments, sio_args_pack values) come from jansson's allocator, malloc
 *    unless your program set another;
 *  - libuv's (uv_replace_allocator), OpenSSL's, hiredis's and libc's own.
 * realloc must behave like C realloc (NULL ptr allocates; failure leaves ptr intact).
 */
typedef struct {
  void *(*malloc)(void *ctx, size_t size);
  void *(*realloc)(void *ctx, void *ptr, size_t size);
  void (*free)(void *ctx, void *ptr);
  void *ctx;
} sio_allocator_t;

/* Installs an allocator for libsio's own allocations (alloc copied; NULL restores
 * libc's). Process-wide, not thread-safe: call it before any other libsio call, on one
 * thread; memory allocated by one allocator must not be freed by another. Memory the
 * library returns to you (sio_args_to_json...) is freed with sio_free, which uses it.
 * Returns 0. */
SIO_EXTERN int sio_set_allocator(const sio_allocator_t *alloc);

typedef enum {
  SIO_LOG_NONE = 0,
  SIO_LOG_ERROR = 1,
  SIO_LOG_WARN = 2,
  SIO_LOG_INFO = 3,
  SIO_LOG_DEBUG = 4
} sio_log_level_t;

/* A log sink. msg is borrowed and NUL-terminated, without a trailing newline. */
typedef void (*sio_log_cb)(sio_log_level_t level, const char *msg, void *user);

/* Messages above level are dropped. Default: SIO_LOG_INFO. Process-wide. */
SIO_EXTERN void sio_log_set_level(sio_log_level_t level);
/* The current level. */
SIO_EXTERN sio_log_level_t sio_log_get_level(void);

/* Parses "none|error|warn|info|debug" (name borrowed) into *out; returns 0 or
 * SIO_EINVAL. */
SIO_EXTERN int sio_log_level_parse(const char *name, sio_log_level_t *out);

/* Logs one line through the library's sink if level is enabled (for applications that
 * want their lines in the same stream and format). printf-style. */
SIO_EXTERN void sio_log_printf(sio_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces the default sink (one line to stderr with a UTC timestamp); NULL restores it.
 * cb runs on the thread that logs (the loop thread); user is passed through. */
SIO_EXTERN void sio_log_set_handler(sio_log_cb cb, void *user);

#endif /* SIO_COMMON_H */
