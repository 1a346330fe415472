/*
 * The failing allocator of the OOM step tests (test_oom.c, test_recovery_oom.c; STYLE.md
 * §4.7, after libuv's test-loop-oom.c): installed with sio_set_allocator, it counts the
 * allocations in scope and refuses the fail_at-th (or every one from it on). jansson's
 * parser entry points are interposed to know when it is parsing: test_oom.c says why
 * allocations inside it are kept out of the usual passes. Include it in one file of a
 * test executable (it defines json_loadb and json_loads).
 */
#ifndef TESTS_UNIT_SIO_OOM_HOOKS_H
#define TESTS_UNIT_SIO_OOM_HOOKS_H

#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>

#include "helpers.h"

enum { OUTSIDE_PARSER = 0, INSIDE_PARSER = 1 };

typedef struct {
  int scope;         /* which allocations are counted and may be refused */
  long long n;       /* allocations asked for in this run (in scope) */
  long long fail_at; /* the first one to refuse (1-based); 0: none */
  int fail_rest;     /* refuse every one from fail_at on, not just that one */
  long long live;    /* blocks handed out and not freed */
  long long refused; /* allocations refused in this run */
} oom_t;

static oom_t oom;
static int parsing; /* depth of json_loadb/json_loads calls in progress */

static int refuse(void) {
  if ((parsing > 0) != (oom.scope == INSIDE_PARSER)) return 0;
  oom.n++;
  int no = oom.fail_at > 0 && (oom.n == oom.fail_at || (oom.fail_rest && oom.n > oom.fail_at));
  oom.refused += no;
  return no;
}

static void *oom_malloc(void *ctx, size_t size) {
  (void)ctx;
  if (refuse()) return NULL;
  void *p = malloc(size);
  if (p) oom.live++;
  return p;
}

static void *oom_realloc(void *ctx, void *ptr, size_t size) {
  (void)ctx;
  if (refuse()) return NULL; /* like realloc: ptr stays valid */
  void *p = realloc(ptr, size);
  if (p && ptr == NULL) oom.live++;
  return p;
}

static void oom_free(void *ctx, void *ptr) {
  (void)ctx;
  if (ptr) oom.live--;
  free(ptr);
}

/* Runs scenario with fail_at stepping from 1 until a run refuses nothing (in scope;
 * fail_rest as in oom_t), failing the test when a run leaves blocks unfreed; returns the
 * number of runs. OOM_VERBOSE=1 prints each step. oom.n then holds the allocations of
 * the undisturbed last run. */
static inline long long oom_step_through(void (*scenario)(void), int scope, int fail_rest) {
  long long n;
  for (n = 1;; n++) {
    oom = (oom_t){scope, 0, n, fail_rest, 0, 0};
    if (getenv("OOM_VERBOSE")) fprintf(stderr, "# scope %d fail_at %lld fail_rest %d\n", scope, n, fail_rest);
    scenario();
    if (oom.live != 0) fail_msg("fail_at %lld (fail_rest %d): %lld blocks not freed", n, fail_rest, oom.live);
    if (oom.refused == 0) break;
  }
  return n;
}

/* The interposed parser entry points: the library's calls resolve to these (a symbol of
 * the executable wins over the shared library's), which call jansson's own. */
json_t *json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error) {
  static json_t *(*real)(const char *, size_t, size_t, json_error_t *);
  if (real == NULL) *(void **)&real = dlsym(RTLD_NEXT, "json_loadb");
  parsing++;
  json_t *v = real(buffer, buflen, flags, error);
  parsing--;
  return v;
}

json_t *json_loads(const char *input, size_t flags, json_error_t *error) {
  static json_t *(*real)(const char *, size_t, json_error_t *);
  if (real == NULL) *(void **)&real = dlsym(RTLD_NEXT, "json_loads");
  parsing++;
  json_t *v = real(input, flags, error);
  parsing--;
  return v;
}

#endif
