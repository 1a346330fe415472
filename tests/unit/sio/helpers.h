/*
 * Shared helpers for the Socket.IO layer's unit tests: a server on a private uv loop and
 * an HTTP server that never listens, and test clients on the engine's in-memory
 * transport (src/engine/memory.c). A client records every packet the server sends it
 * (text as the Engine.IO packet "<type><data>", e.g. "40{\"sid\":...}", binary as raw
 * bytes) so tests can take them in order and compare them byte for byte, the way
 * socketioxide's tests do. Every helper is static inline (a test uses what it needs).
 *
 * A test ends with env_close: the HTTP server closes (engine, then Socket.IO server),
 * the loop runs to completion and uv_loop_close must return 0.
 */
#ifndef TESTS_UNIT_SIO_HELPERS_H
#define TESTS_UNIT_SIO_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine.h"
#include "sio.h"
#include "sio/sio.h"

/* ---- the server ---- */

typedef struct {
  uv_loop_t loop;
  sio_http_t *http;
  sio_server_t *io;
} env_t;

/* opts NULL: the defaults. Quiet logs: the tests provoke errors on purpose. */
static inline void env_init(env_t *t, const sio_server_opts_t *opts) {
  sio_log_set_level(SIO_LOG_NONE);
  assert_int_equal(uv_loop_init(&t->loop), 0);
  assert_int_equal(sio_http_new(&t->loop, NULL, &t->http), 0);
  assert_int_equal(sio_server_new(t->http, opts, &t->io), 0);
}

/* Server options with short timeouts for tests that run the loop into them. */
static inline sio_server_opts_t env_opts(void) {
  sio_server_opts_t o;
  sio_server_opts_init(&o);
  return o;
}

static inline void env_close(env_t *t) {
  sio_http_close(t->http, NULL, NULL);
  assert_int_equal(uv_run(&t->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* Runs the loop until pred(ctx) holds or max_ms pass, and returns pred(ctx). A
 * referenced 1 ms check timer keeps the loop alive, since the engine's own timers
 * (heartbeat, connect timeout) are unreferenced. No sleeping: the loop waits on timers. */
typedef struct {
  uv_timer_t timer;
  int (*pred)(void *ctx);
  void *ctx;
  uint64_t deadline;
} run_until_t;

static inline void run_until_tick(uv_timer_t *h) {
  run_until_t *r = h->data;
  if (r->pred(r->ctx) || uv_now(h->loop) >= r->deadline) uv_timer_stop(h);
}

static inline int run_until(env_t *t, int (*pred)(void *ctx), void *ctx, uint64_t max_ms) {
  run_until_t r;
  r.pred = pred;
  r.ctx = ctx;
  uv_update_time(&t->loop);
  r.deadline = uv_now(&t->loop) + max_ms;
  uv_timer_init(&t->loop, &r.timer);
  r.timer.data = &r;
  uv_timer_start(&r.timer, run_until_tick, 1, 1);
  while (uv_is_active((uv_handle_t *)&r.timer)) uv_run(&t->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&r.timer, NULL);
  uv_run(&t->loop, UV_RUN_NOWAIT); /* runs the close */
  return pred(ctx);
}

static inline int flag_set(void *ctx) { return *(const int *)ctx != 0; }

/* ---- a client on the memory transport ---- */

typedef struct {
  int binary;
  char *data; /* NUL-terminated copy */
  size_t len;
} pkt_t;

typedef struct {
  sio_eio_t *eio;     /* NULL once the session closed */
  pkt_t *pkts;
  size_t n, cap, next; /* received, allocated, next to take */
  int closed;
  const char *reason; /* the engine's close reason */
  int keep_pings;     /* record the engine's "2" pings too (default: dropped) */
  int pings;          /* pings received */
} mc_t;

static inline void mc_on_packet(void *user, int binary, const char *data, size_t len) {
  mc_t *c = user;
  int ping = !binary && len == 1 && data[0] == '2';
  c->pings += ping;
  if (ping && !c->keep_pings) return;
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    c->pkts = realloc(c->pkts, c->cap * sizeof *c->pkts);
    if (c->pkts == NULL) abort();
  }
  pkt_t *p = &c->pkts[c->n++];
  p->binary = binary;
  p->len = len;
  p->data = malloc(len + 1);
  if (p->data == NULL) abort();
  memcpy(p->data, data, len);
  p->data[len] = '\0';
}

static inline void mc_on_close(void *user, const char *reason) {
  mc_t *c = user;
  c->closed = 1;
  c->reason = reason;
  c->eio = NULL;
}

/* Opens a memory session (c zeroed first); returns 0 or -1 when the server refused it. */
static inline int mc_try_open(env_t *t, mc_t *c) {
  memset(c, 0, sizeof *c);
  sio__eio_memory_peer_t peer = {mc_on_packet, mc_on_close, c};
  c->eio = sio__eio_new_memory(t->io->eng, &peer);
  return c->eio ? 0 : -1;
}

static inline void mc_open(env_t *t, mc_t *c) { assert_int_equal(mc_try_open(t, c), 0); }

/* Frees what the client recorded (the session, if still open, is the server's). */
static inline void mc_free(mc_t *c) {
  for (size_t i = 0; i < c->n; i++) free(c->pkts[i].data);
  free(c->pkts);
  c->pkts = NULL;
  c->n = c->cap = c->next = 0;
}

static inline int mc_feed(mc_t *c, const char *text) {
  if (c->eio == NULL) return SIO_ECLOSED;
  return sio__eio_memory_feed(c->eio, 0, text, strlen(text));
}

static inline int mc_feed_bin(mc_t *c, const void *data, size_t len) {
  if (c->eio == NULL) return SIO_ECLOSED;
  return sio__eio_memory_feed(c->eio, 1, data, len);
}

/* The client goes away ("transport close"). */
static inline void mc_close(mc_t *c) {
  if (c->eio) sio__eio_memory_close(c->eio);
}

static inline size_t mc_pending(const mc_t *c) { return c->n - c->next; }

/* The next recorded packet, or NULL. */
static inline const pkt_t *mc_take(mc_t *c) { return c->next < c->n ? &c->pkts[c->next++] : NULL; }

/* The next packet is the text packet want, byte for byte. */
static inline void mc_expect(mc_t *c, const char *want) {
  const pkt_t *p = mc_take(c);
  if (p == NULL) fail_msg("no packet, want %s", want);
  if (p->binary) fail_msg("got a binary packet of %zu bytes, want %s", p->len, want);
  if (p->len != strlen(want) || memcmp(p->data, want, p->len) != 0) fail_msg("got  %s\nwant %s", p->data, want);
}

/* The next packet is a binary message with exactly these bytes. */
static inline void mc_expect_bin(mc_t *c, const void *want, size_t len) {
  const pkt_t *p = mc_take(c);
  if (p == NULL) fail_msg("no packet, want %zu binary bytes", len);
  if (!p->binary) fail_msg("got text %s, want %zu binary bytes", p->data, len);
  assert_int_equal(p->len, len);
  assert_memory_equal(p->data, want, len);
}

static inline void mc_expect_none(mc_t *c) {
  const pkt_t *p = mc_take(c);
  if (p) fail_msg("unexpected packet %s", p->binary ? "(binary)" : p->data);
}

/* Takes the next packet, which must be a CONNECT answer for nsp ("/" or "/x"):
 * "40{"sid":"<20 chars>"}" or "40/x,{"sid":...}". Copies the sid into sid. */
static inline void mc_expect_connect(mc_t *c, const char *nsp, char sid[SIO__SID_LEN + 1]) {
  char prefix[300];
  if (strcmp(nsp, "/") == 0) snprintf(prefix, sizeof prefix, "40{\"sid\":\"");
  else snprintf(prefix, sizeof prefix, "40%s,{\"sid\":\"", nsp);
  const pkt_t *p = mc_take(c);
  if (p == NULL) fail_msg("no packet, want the CONNECT answer of %s", nsp);
  size_t pl = strlen(prefix);
  if (p->binary || p->len != pl + SIO__SID_LEN + 2 || memcmp(p->data, prefix, pl) != 0 ||
      memcmp(p->data + pl + SIO__SID_LEN, "\"}", 2) != 0)
    fail_msg("got %s, want %s<sid>\"}", p->binary ? "(binary)" : p->data, prefix);
  memcpy(sid, p->data + pl, SIO__SID_LEN);
  sid[SIO__SID_LEN] = '\0';
}

/* Opens a client and connects it to nsp; returns its socket id in sid. */
static inline void mc_connect(env_t *t, mc_t *c, const char *nsp, char sid[SIO__SID_LEN + 1]) {
  mc_open(t, c);
  char pkt[300];
  if (strcmp(nsp, "/") == 0) snprintf(pkt, sizeof pkt, "40");
  else snprintf(pkt, sizeof pkt, "40%s,", nsp);
  assert_int_equal(mc_feed(c, pkt), 0);
  mc_expect_connect(c, nsp, sid);
}

/* The server-side socket with id sid in ns (NULL when not connected). */
static inline sio_socket_t *find_socket(sio_ns_t *ns, const char *sid) {
  return sio__map_get(&ns->sockets, sid, strlen(sid));
}

/* The most common start of a test: a server with default options and one client c
 * connected to "/" (its id in sid); returns the server-side socket. */
static inline sio_socket_t *env_one_client(env_t *t, mc_t *c, char sid[SIO__SID_LEN + 1]) {
  env_init(t, NULL);
  mc_connect(t, c, "/", sid);
  sio_socket_t *s = find_socket(sio_server_main(t->io), sid);
  assert_non_null(s);
  return s;
}

/* ---- recording callbacks ---- */

/* A disconnect/disconnecting log: how many times, and the last reason. */
typedef struct {
  int count;
  char reason[64];
  char sid[SIO__SID_LEN + 1];
  size_t nrooms; /* rooms the socket was in during the callback */
  int connected; /* sio_socket_connected during the callback */
} dc_log_t;

static inline void dc_record(sio_socket_t *s, const char *reason, void *user) {
  dc_log_t *l = user;
  l->count++;
  snprintf(l->reason, sizeof l->reason, "%s", reason);
  snprintf(l->sid, sizeof l->sid, "%s", sio_socket_id(s));
  l->nrooms = sio_socket_rooms(s, NULL, NULL);
  l->connected = sio_socket_connected(s);
}

/* Builds args from a JSON array text: "[1,\"a\"]" -> two arguments. */
static inline sio_args_t *args_json(const char *arr) {
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  json_t *v = json_loads(arr, 0, NULL);
  assert_non_null(v);
  assert_true(json_is_array(v));
  for (size_t i = 0; i < json_array_size(v); i++) {
    char *s = json_dumps(json_array_get(v, i), JSON_ENCODE_ANY | JSON_COMPACT);
    assert_int_equal(sio_args_add_json(a, s, strlen(s)), 0);
    json_free_t jfree; /* jansson's allocator, whichever it is (sio_set_allocator leaves it) */
    json_get_alloc_funcs(NULL, &jfree);
    jfree(s);
  }
  json_decref(v);
  return a;
}

#endif
