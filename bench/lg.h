/*
 * bench/lg.h: the pieces the load generator (bench/loadgen.c) is built from.
 *
 *   lg_client.c  one epoll loop driving many client connections, each its own small
 *                Socket.IO v5 / Engine.IO v4 client over WebSocket (RFC 6455 masked
 *                client frames, HTTP/1.1 upgrade, EIO open -> SIO CONNECT "40", pings
 *                answered, events and acks handed to the running scenario).
 *   lg_hist.c    a log-linear latency histogram (< 1% bucket error) with percentiles.
 *   lg_proc.c    server CPU time and RSS from /proc/<pid>, the generator's own CPU.
 *   lg_*.c       one file per scenario: connect, fanout (and slow), echo, churn, app.
 *
 * Single-threaded, loopback only, no library dependency: a benchmark tool, not part of
 * libsio, so it uses plain malloc and aborts on allocation failure.
 */
#ifndef LG_H
#define LG_H

#include <stddef.h>
#include <stdint.h>

/* ======================================================================== options */

typedef struct {
  const char *host;     /* server address, loopback only (default 127.0.0.1) */
  int port;             /* server port (required) */
  int pid;              /* server pid for /proc figures; 0 = none */
  const char *label;    /* "noom", "node": copied into the JSON line */
  const char *tag;      /* the case name bench/run.sh pairs runs by (default: scenario) */
  const char *scenario; /* connect | fanout | echo | churn | slow | app */
  uint32_t conns;       /* connections (receivers, clients, population) */
  double duration;      /* seconds of the measured phase (hold, send, churn) */
  double rate;          /* offered rate (connects/s, messages/s, acks/s); 0 = closed loop */
  uint32_t window;      /* closed loop: requests (or messages) in flight */
  uint32_t size;        /* Socket.IO packet size in bytes (fanout, echo) */
  uint32_t slow;        /* slow scenario: receivers that stop reading */
  uint32_t sources;     /* spread client sockets over 127.0.0.1 .. 127.0.0.<sources> */
  uint32_t msgs;        /* churn: chat messages per client lifecycle */
  const char *dialect;  /* app: "app" (build/noom's lobby events) or "lib" (examples/echo) */
  uint32_t chat;        /* app: chat clients in the room "chat" */
  double chat_rate;     /* app: messages per second each chat client sends */
  uint32_t close;       /* app: idle connections closed in the disconnect phase */
  double phase_timeout; /* app: seconds at most for the connect and the disconnect phase */
  const char *json;     /* append the JSON line to this file (also printed on stdout) */
  int quiet;            /* no human summary */
} lg_opts_t;

/* ======================================================================== histogram */

#define LG_HIST_BUCKETS (59 * 128)

typedef struct {
  uint64_t count;
  uint64_t max;
  uint64_t sum;
  uint32_t b[LG_HIST_BUCKETS];
} lg_hist_t;

void lg_hist_reset(lg_hist_t *h);
void lg_hist_add(lg_hist_t *h, uint64_t v);
/* The value at quantile q (0..1]: the midpoint of the bucket holding it; 0 when empty. */
uint64_t lg_hist_quantile(const lg_hist_t *h, double q);

/* ======================================================================== /proc */

/* Server CPU time (utime + stime, all threads) in microseconds; -1 when unreadable. */
int64_t lg_proc_cpu_us(int pid);
/* Server resident set size in bytes; -1 when unreadable. */
int64_t lg_proc_rss(int pid);
/* This process's CPU time (user + system) in microseconds. */
int64_t lg_self_cpu_us(void);

/* ======================================================================== client */

/* Connection states, in order. */
enum { LG_FREE = 0, LG_TCP, LG_HTTP, LG_EIO, LG_SIO, LG_READY, LG_CLOSING };

typedef struct lg_conn lg_conn_t;
struct lg_conn {
  int fd;
  uint8_t state;        /* LG_* */
  uint8_t dirty;        /* on the flush list */
  uint8_t paused;       /* not reading (a slow receiver) */
  uint8_t epout;        /* EPOLLOUT registered */
  uint32_t id;          /* index in the scenario's array */
  uint32_t rnd;         /* xorshift state for frame masks */
  uint32_t in_len, in_cap, out_len, out_off, out_cap;
  char *in;             /* unparsed tail of the input (a partial frame), or NULL */
  char *out;            /* bytes not yet written, or NULL */
  lg_conn_t *next_dirty;
  lg_conn_t *next_closing, *prev_closing; /* LG_CLOSING list, oldest first */
  uint64_t t0;          /* when lg_open started it (ns) */
  uint64_t deadline;    /* LG_CLOSING: give up waiting for the server's close (ns) */
  /* Scenario fields (meaning depends on the scenario). */
  uint64_t rx;          /* messages received */
  uint64_t next_seq;    /* next sequence number expected */
  uint64_t gaps;        /* sequence numbers skipped */
  uint32_t inflight;    /* requests awaiting an ack */
  uint32_t next_ack;    /* next ack id to use */
  uint32_t phase;
  uint32_t group;
};

typedef struct {
  /* Socket.IO CONNECT acknowledged ("40{...}"): the connection is usable. */
  void (*on_ready)(lg_conn_t *c, uint64_t now);
  /* An event "42[...]": json is the array text (borrowed, not NUL-terminated). */
  void (*on_event)(lg_conn_t *c, const char *json, size_t len, uint64_t now);
  /* An ack "43<id>[...]". */
  void (*on_ack)(lg_conn_t *c, uint64_t id, const char *json, size_t len, uint64_t now);
  /* The connection is gone; err 0 after a clean close we asked for, else a negative
   * errno or LG_E*. Called after the epoll batch, so the struct may be reopened here. */
  void (*on_close)(lg_conn_t *c, int err);
} lg_handlers_t;

/* Errors reported to on_close besides -errno. */
#define LG_EPROTO (-10001)  /* unexpected bytes from the server */
#define LG_EREFUSED (-10002) /* handshake refused (not 101, or CONNECT_ERROR) */
#define LG_EEOF (-10003)    /* the server closed the connection */
#define LG_ETIMEOUT (-10004) /* close handshake not completed in time */

/* Sets up the loop for one run. Returns 0 or -1 (message printed). */
int lg_client_init(const lg_opts_t *o, const lg_handlers_t *h);
/* Closes every connection still open (no callbacks) and the loop. */
void lg_client_done(lg_conn_t *conns, size_t n);

/* Starts connecting c, which must be LG_FREE (zeroed, or handed back by on_close); the
 * scenario fields and id are left as they are. Returns 0, or a negative errno: c stays
 * LG_FREE, on_close is not called, and lg_stats.failed counts it. */
int lg_open(lg_conn_t *c);
/* Queues payload as one masked WebSocket text frame; written after the current batch. */
void lg_send(lg_conn_t *c, const char *payload, size_t len);
/* graceful: sends SIO DISCONNECT "41" and a WebSocket close, waits for the server to
 * close (on_close(c, 0) then); otherwise closes the socket now (on_close(c, 0) deferred). */
void lg_close(lg_conn_t *c, int graceful);
/* Stops (0) or resumes (1) reading c: a receiver that stops reading. */
void lg_set_reading(lg_conn_t *c, int on);
/* Reads and discards what a paused c receives until the server closes it (returns 1, EOF
 * or reset) or nothing arrives for quiet_ns (returns 0: the server kept it open). */
int lg_drain_check_closed(lg_conn_t *c, uint64_t quiet_ns);

/* Writes every queued frame now (a scenario calls it after sending outside a callback). */
void lg_flush(void);

/* Waits up to timeout_ns for events, handles them, writes queued frames, delivers
 * deferred on_close calls. Returns the number of events handled. */
int lg_poll(uint64_t timeout_ns);

/* CLOCK_MONOTONIC in ns. */
uint64_t lg_now(void);

/* Counters since lg_client_init. */
typedef struct {
  uint64_t opened;   /* lg_open calls that started a connection */
  uint64_t ready;    /* connections that reached LG_READY */
  uint64_t failed;   /* connections closed before LG_READY (any reason) */
  uint64_t lost;     /* ready connections closed without our asking */
  uint64_t refused, eof, proto, timeouts, sys; /* failures by cause */
  uint64_t frames_in, frames_out, pings;
} lg_stats_t;
extern lg_stats_t lg_stats;
/* When not NULL, each handshake's latency (lg_open -> "40" received) is added here. */
extern lg_hist_t *lg_connect_lat;

/* ======================================================================== results */

typedef struct {
  const char *unit;      /* what one operation is: "connection", "delivery", "ack", "lifecycle" */
  uint64_t ops;          /* operations completed in the measured phase */
  double secs;           /* length of the measured phase */
  uint64_t sent, lost, errors;
  int64_t cpu_us;        /* server CPU over the measured phase */
  int64_t rss_before, rss_after, rss_peak;
  double gen_cpu_pct;    /* generator CPU over the measured phase, % of one core */
  lg_hist_t lat;         /* latency of each operation, ns */
  char extra[1536];       /* scenario-specific JSON members, ",\"k\":v..." */
} lg_result_t;

/* Scenario entry points: fill r, return 0 (or -1 on setup failure, message printed). */
int lg_run_connect(const lg_opts_t *o, lg_result_t *r);
int lg_run_fanout(const lg_opts_t *o, lg_result_t *r);
int lg_run_slow(const lg_opts_t *o, lg_result_t *r);
int lg_run_echo(const lg_opts_t *o, lg_result_t *r);
int lg_run_churn(const lg_opts_t *o, lg_result_t *r);
int lg_run_app(const lg_opts_t *o, lg_result_t *r);

/* Shared by scenarios: opens n connections at o->rate per second (0 = as fast as
 * possible) with at most `window` handshakes in flight, polling until they are ready or
 * failed or timeout_s passed. Latency of each handshake goes to lat if not NULL.
 * Returns how many are ready. */
uint32_t lg_connect_all(lg_conn_t *conns, uint32_t n, double rate, uint32_t window,
                        double timeout_s, lg_hist_t *lat);

/* Start of a measured phase: wall clock, server CPU, generator CPU. */
typedef struct {
  uint64_t t;
  int64_t cpu, gen;
} lg_mark_t;
void lg_mark(lg_mark_t *m, int pid);
/* Ends the measured phase begun at m: sets r->secs (to `end` ns, or now when 0),
 * r->cpu_us and r->gen_cpu_pct. */
void lg_mark_end(const lg_mark_t *m, int pid, uint64_t end, lg_result_t *r);
/* Samples the server's RSS into r->rss_peak at most every 100 ms. */
void lg_sample_rss(lg_result_t *r, int pid, uint64_t now);

/* Appends JSON text to r->extra. */
void lg_extra(lg_result_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Builds a string of exactly `size` bytes around a prefix and suffix by padding with
 * 'x' in the middle (or just prefix+suffix when size is too small) into out (cap bytes);
 * returns the length. */
size_t lg_pad(char *out, size_t cap, const char *prefix, size_t plen, const char *suffix,
              size_t size);

/* Reads the integer after `"key":` in json (first match); returns 0 and *v, or -1. */
int lg_json_u64(const char *json, size_t len, const char *key, uint64_t *v);

#endif /* LG_H */
