/*
 * Operations: /metrics (the library's families plus the app's), /healthz, /readyz, and
 * the graceful drain on SIGTERM (docs/operations.md).
 */
#ifndef NOOM_OPS_H
#define NOOM_OPS_H

#include <stdint.h>
#include <uv.h>

#include "sio.h"
#include "sio/redis.h"

/* The app's own counters, bumped on the loop thread where things happen. */
typedef struct {
  uint64_t messages;   /* chat messages accepted and broadcast */
  uint64_t call_joins; /* call_join answered with a place in the call */
  uint64_t relays;     /* offer/answer/ice relayed */
} noom_stats_t;
extern noom_stats_t noom_stats;

typedef struct {
  int metrics;              /* mount GET /metrics */
  const char *metrics_addr; /* HOST:PORT: serve /metrics, /healthz, /readyz there too; NULL: main port */
  uint64_t drain_ms;
  sio_redis_t *redis;       /* NULL without --redis */
  sio_redis_streams_t *streams; /* NULL without --redis-streams */
} noom_ops_opts_t;

/* Mounts the endpoints (and starts the --metrics-addr listener). 0, or a SIO_E* / libuv
 * error (printed on stderr). opts copied. */
int noom_ops_init(uv_loop_t *loop, sio_server_t *io, sio_http_t *http, const noom_ops_opts_t *opts);

/* Starts the drain: stop accepting, /readyz answers 503, sessions are closed spread over
 * drain_ms; done(user) runs once every session is gone (or 5 s after the window). */
void noom_ops_drain(void (*done)(void *user), void *user);

/* Draining already (a second signal means: exit now). */
int noom_ops_draining(void);

/* HOST:PORT or [V6]:PORT (--metrics-addr) into host and port. 0, or -1 when malformed. */
int noom_ops_addr_parse(const char *a, char *host, size_t cap, int *port);

/* Sessions the drain closed; closes the --metrics-addr listener. */
size_t noom_ops_close(void);

#endif
