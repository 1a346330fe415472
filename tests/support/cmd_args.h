/*
 * Helpers shared by the C test servers (sio_test_server.c, sio_cluster_server.c): building
 * ack values and reading their command arguments ("a room name or an array of names",
 * selections {in?, except?}) through the public sio_args API. Header-only: each test
 * server is its own program, and uses a subset (hence static inline). Define CMD_PROGRAM (the program's name) before including.
 */
#ifndef NOOM_TESTS_CMD_ARGS_H
#define NOOM_TESTS_CMD_ARGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"


/* Allocation failures end the program: this is a test server, not a library. */
static inline void out_of_memory(void) {
  fprintf(stderr, "%s: out of memory\n", CMD_PROGRAM);
  abort();
}

static inline void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL) out_of_memory();
  return p;
}

static inline sio_args_t *args_new(void) {
  sio_args_t *a;
  if (sio_args_new(&a) != 0) out_of_memory();
  return a;
}

/* A NUL-terminated copy of a slice (free with free). */
static inline char *cstr(sio_str_t s) {
  char *p = xmalloc(s.len + 1);
  memcpy(p, s.ptr, s.len);
  p[s.len] = '\0';
  return p;
}

/* Appends one object argument {keys[i]: values' argument i} to out, then frees values.
 * On failure (a key that is not UTF-8...) it appends null, so that out keeps one
 * argument per value its caller expects. */
static inline void add_object(sio_args_t *out, const char *const *keys, sio_args_t *values) {
  int r = sio_args_add_object(out, keys, values);
  if (r) {
    fprintf(stderr, "%s: cannot build an object: %s\n", CMD_PROGRAM, sio_strerror(r));
    sio_args_add_null(out);
  }
  sio_args_free(values);
}

/* Appends one array argument holding items' arguments to out, then frees items. */
static inline void add_array(sio_args_t *out, sio_args_t *items) {
  if (sio_args_add_array(out, items) != 0) sio_args_add_null(out);
  sio_args_free(items);
}

/* Acks with one value (args holding exactly one argument), then frees it. ack may be
 * NULL (the client asked for no ack). */
static inline void reply(sio_ack_t *ack, sio_args_t *value) {
  if (ack) sio_ack_send(ack, value);
  sio_args_free(value);
}

/* Acks with one object {keys[i]: values' argument i}; frees values. */
static inline void reply_object(sio_ack_t *ack, const char *const *keys, sio_args_t *values) {
  sio_args_t *v = args_new();
  add_object(v, keys, values);
  reply(ack, v);
}

static inline void reply_true(sio_ack_t *ack) {
  sio_args_t *v = args_new();
  sio_args_add_bool(v, 1);
  reply(ack, v);
}

/* ---- reading the command argument (an object, or nothing: "args[0] ?? {}") ---- */

/* Member key of argument 0 as new args (NULL when absent or not an object). */
static inline sio_args_t *member(const sio_args_t *args, const char *key) {
  sio_args_t *m;
  return sio_args_member(args, 0, key, &m) == 0 ? m : NULL;
}

/* Member key as a new C string (free with free), or NULL when it is not a string. */
static inline char *member_cstr(const sio_args_t *args, const char *key) {
  sio_str_t s;
  return sio_args_get_member_str(args, 0, key, &s) == 0 ? cstr(s) : NULL;
}

/* 1 when member key is true. */
static inline int member_true(const sio_args_t *args, const char *key) {
  sio_args_t *m = member(args, key);
  int v = 0;
  if (sio_args_get_bool(m, 0, &v) != 0) v = 0;
  sio_args_free(m);
  return v;
}

/* The elements of array member key as new args (empty when absent): `spec.args ?? []`. */
static inline sio_args_t *member_list(const sio_args_t *args, const char *key) {
  sio_args_t *m = member(args, key), *list;
  if (sio_args_unpack(m, 0, &list) != 0) list = args_new();
  sio_args_free(m);
  return list;
}

/* ---- room names: "a room name or an array of room names" ---- */

typedef struct {
  char **v;
  size_t n;
} names_t;

static inline void names_free(names_t *names) {
  for (size_t i = 0; i < names->n; i++) free(names->v[i]);
  free(names->v);
  *names = (names_t){NULL, 0};
}

/* Reads argument i of a: a string or an array of strings (anything else, or nothing,
 * reads as no names). */
static inline void names_read(const sio_args_t *a, size_t i, names_t *out) {
  *out = (names_t){NULL, 0};
  sio_str_t s;
  sio_args_t *list;
  if (sio_args_get_str(a, i, &s) == 0) {
    out->v = xmalloc(sizeof *out->v);
    out->v[out->n++] = cstr(s);
  } else if (sio_args_unpack(a, i, &list) == 0) {
    out->v = xmalloc(sio_args_count(list) * sizeof *out->v);
    for (size_t k = 0; k < sio_args_count(list); k++) {
      if (sio_args_get_str(list, k, &s) == 0) out->v[out->n++] = cstr(s);
    }
    sio_args_free(list);
  }
}

/* Reads member key of argument 0 as names. */
static inline void names_member(const sio_args_t *args, const char *key, names_t *out) {
  sio_args_t *m = member(args, key);
  names_read(m, 0, out);
  sio_args_free(m);
}

/* ---- selections: {in?, except?} (or {to?, except?} for do-emit / ask-room) ---- */

typedef struct {
  names_t in, except;
  sio_broadcast_opts_t opts;
} selection_t;

static inline void selection_read(const sio_args_t *args, const char *in_key, selection_t *sel) {
  names_member(args, in_key, &sel->in);
  names_member(args, "except", &sel->except);
  sel->opts = (sio_broadcast_opts_t)SIO_BROADCAST_ALL;
  /* No rooms (absent or []) selects the whole namespace, like socket.io. */
  sel->opts.rooms = (const char *const *)sel->in.v;
  sel->opts.nrooms = sel->in.n;
  sel->opts.except = (const char *const *)sel->except.v;
  sel->opts.nexcept = sel->except.n;
}

static inline void selection_free(selection_t *sel) {
  names_free(&sel->in);
  names_free(&sel->except);
}

static inline void add_room(sio_str_t room, void *u) { sio_args_add_str(u, room.ptr, room.len); }

/* Appends a JSON text (socket data, auth) as one argument; null if absent or unparsable. */
static inline void add_json_text(sio_args_t *out, const char *json) {
  if (json == NULL || sio_args_add_json(out, json, strlen(json)) != 0) sio_args_add_null(out);
}

#endif
