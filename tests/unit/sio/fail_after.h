/*
 * The simplest failing allocator of the unit tests (test_args.c, test_json.c,
 * test_mpparser.c, test_parser.c): installed with sio_set_allocator, it hands out
 * fail_after more blocks and refuses every one after (-1: never refuses). The OOM step
 * suites that count and scope allocations use oom_hooks.h instead.
 */
#ifndef TESTS_UNIT_SIO_FAIL_AFTER_H
#define TESTS_UNIT_SIO_FAIL_AFTER_H

#include <stdlib.h>

static long fail_after = -1; /* allocations left before failing; -1: never fail */

static inline void *oom_malloc(void *ctx, size_t n) {
  (void)ctx;
  if (fail_after == 0) return NULL;
  if (fail_after > 0) fail_after--;
  return malloc(n);
}

static inline void *oom_realloc(void *ctx, void *p, size_t n) {
  (void)ctx;
  if (fail_after == 0) return NULL;
  if (fail_after > 0) fail_after--;
  return realloc(p, n);
}

static inline void oom_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

#endif
