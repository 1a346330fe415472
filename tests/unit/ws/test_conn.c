/*
 * Unit tests for the WebSocket bounds (src/ws/conn.c, src/ws/limits.c) on a real loop and
 * a real TCP socket: sio_ws_queued counts what sio_ws_send queues; a socket whose peer
 * does not read is closed (1008) once the queue would pass ws_max_queued, outside the
 * sio_ws_send call; a graceful close to a peer that does not read ends within
 * ws_close_timeout_ms; a peer that answers no ping is closed (1001). The client is a
 * plain blocking socket with a small receive buffer that the test reads only when told.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "sio/http.h"

typedef struct {
  uv_loop_t loop;
  sio_http_t *http;
  sio_ws_t *ws;
  int fd;
  int closed;     /* on_close ran */
  int close_code;
  int in_send;    /* inside sio_ws_send: on_close must not run now */
  int closed_in_send;
} env_t;

static void on_message(sio_ws_t *ws, int binary, const char *data, size_t len, void *user) {
  (void)ws, (void)binary, (void)data, (void)len, (void)user;
}

static void on_close(sio_ws_t *ws, int code, void *user) {
  env_t *e = user;
  (void)ws;
  e->closed = 1;
  e->close_code = code;
  if (e->in_send) e->closed_in_send = 1;
  e->ws = NULL;
}

static const sio_ws_cbs_t cbs = {on_message, on_close};

static void on_request(sio_http_req_t *req, void *user) {
  env_t *e = user;
  assert_int_equal(sio_http_upgrade(req, &cbs, e, 1024, &e->ws), 0);
}

/* Runs the loop until *flag is set or ms pass (loop time). Returns the flag. */
static int run_until(env_t *e, const int *flag, uint64_t ms) {
  uv_update_time(&e->loop);
  uint64_t end = uv_now(&e->loop) + ms;
  while (!*flag && uv_now(&e->loop) < end) {
    uv_run(&e->loop, UV_RUN_NOWAIT);
    usleep(1000);
    uv_update_time(&e->loop);
  }
  return *flag;
}

/* Starts a server with opts, connects a client that does not read, upgrades. */
static void env_open(env_t *e, const sio_http_opts_t *opts) {
  memset(e, 0, sizeof *e);
  assert_int_equal(uv_loop_init(&e->loop), 0);
  assert_int_equal(sio_http_new(&e->loop, opts, &e->http), 0);
  assert_int_equal(sio_http_handle(e->http, "/ws", 1, on_request, e), 0);
  assert_int_equal(sio_http_listen(e->http, "127.0.0.1", 0), 0);
  e->fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096; /* keep the kernel's share of a non-reading peer's backlog small */
  setsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sio_http_port(e->http))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(e->fd, (struct sockaddr *)&a, sizeof a), 0);
  static const char hs[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  assert_int_equal(write(e->fd, hs, sizeof hs - 1), (ssize_t)(sizeof hs - 1));
  for (int i = 0; i < 5000 && e->ws == NULL; i++) {
    uv_run(&e->loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  assert_non_null(e->ws);
  struct timeval tv = {2, 0}; /* reads never block a failing test for long */
  setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void env_close(env_t *e) {
  close(e->fd);
  sio_http_close(e->http, NULL, NULL);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&e->loop), 0);
}

static sio_http_opts_t opts_base(void) {
  sio_http_opts_t o;
  sio_http_opts_init(&o);
  o.ws_ping_interval_ms = 0; /* only the ping test pings */
  return o;
}

/* Sends 1000-byte messages, running the loop between, until the kernel stops taking
 * them and bytes stay queued (the peer does not read). */
static void fill_until_queued(env_t *e, size_t want) {
  static char msg[1000];
  for (int i = 0; i < 100000 && sio_ws_queued(e->ws) < want; i++) {
    assert_int_equal(sio_ws_send(e->ws, 1, msg, sizeof msg), 0);
    if (i % 16 == 0) uv_run(&e->loop, UV_RUN_NOWAIT);
  }
  assert_true(sio_ws_queued(e->ws) >= want);
}

static void queued_counts_each_frame(void **state) {
  (void)state;
  env_t e;
  sio_http_opts_t o = opts_base();
  env_open(&e, &o);
  /* The loop has run: the 101 answer went out, nothing is queued. */
  uv_run(&e.loop, UV_RUN_NOWAIT);
  assert_int_equal(sio_ws_queued(e.ws), 0);
  static char msg[1000];
  /* Queued until the next loop turn's flush: payload plus the 4-byte header (126..65535). */
  assert_int_equal(sio_ws_send(e.ws, 0, msg, 100), 0);
  assert_int_equal(sio_ws_queued(e.ws), 102);
  assert_int_equal(sio_ws_send(e.ws, 1, msg, sizeof msg), 0);
  assert_int_equal(sio_ws_queued(e.ws), 102 + 1004);
  uv_run(&e.loop, UV_RUN_NOWAIT);
  assert_int_equal(sio_ws_queued(e.ws), 0);
  /* A peer that does not read: bytes stay queued once the kernel is full. */
  fill_until_queued(&e, 64 * 1024);
  env_close(&e);
  assert_int_equal(e.closed, 1);
}

static void send_queue_limit_closes_later(void **state) {
  (void)state;
  env_t e;
  sio_http_opts_t o = opts_base();
  o.ws_max_queued = 256 * 1024;
  env_open(&e, &o);
  static char msg[1000];
  int r = 0, sent = 0;
  e.in_send = 1;
  for (int i = 0; i < 100000 && r == 0; i++) {
    r = sio_ws_send(e.ws, 1, msg, sizeof msg);
    if (r == 0) sent++;
    assert_true(sio_ws_queued(e.ws) <= o.ws_max_queued);
    if (i % 16 == 0) {
      e.in_send = 0;
      uv_run(&e.loop, UV_RUN_NOWAIT);
      e.in_send = 1;
    }
  }
  e.in_send = 0;
  assert_int_equal(r, SIO_ELIMIT);
  assert_true(sent > 256);
  /* Not closed inside sio_ws_send; refused from then on; closed on a later turn. */
  assert_int_equal(e.closed_in_send, 0);
  if (!e.closed) assert_int_equal(sio_ws_send(e.ws, 0, "x", 1), SIO_ECLOSED);
  assert_int_equal(run_until(&e, &e.closed, 2000), 1);
  assert_int_equal(e.close_code, 1008);
  env_close(&e);
}

static void close_to_non_reader_has_deadline(void **state) {
  (void)state;
  env_t e;
  sio_http_opts_t o = opts_base();
  o.ws_max_queued = 0;
  o.ws_close_timeout_ms = 200;
  env_open(&e, &o);
  fill_until_queued(&e, 256 * 1024);
  sio_ws_close(e.ws, 1000);
  uint64_t t0 = uv_hrtime();
  /* The close frame is behind 256 KiB the peer never reads: only the deadline ends it. */
  assert_int_equal(run_until(&e, &e.closed, 3000), 1);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  assert_true(ms >= 150);
  assert_true(ms < 2000);
  env_close(&e);
}

static void silent_peer_is_closed_after_ping_timeout(void **state) {
  (void)state;
  env_t e;
  sio_http_opts_t o = opts_base();
  o.ws_ping_interval_ms = 50;
  o.ws_ping_timeout_ms = 100;
  env_open(&e, &o);
  uint64_t t0 = uv_hrtime();
  assert_int_equal(run_until(&e, &e.closed, 3000), 1);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  assert_int_equal(e.close_code, 1001);
  assert_true(ms >= 120);
  /* The client got the 101, a ping (0x89 0x00) and the close frame 1001 "ping timeout". */
  char buf[512];
  size_t n = 0;
  ssize_t k;
  while (n < sizeof buf && (k = recv(e.fd, buf + n, sizeof buf - n, 0)) > 0) n += (size_t)k;
  const char *end = memmem(buf, n, "\r\n\r\n", 4);
  assert_non_null(end);
  const unsigned char *f = (const unsigned char *)end + 4;
  assert_int_equal(f[0], 0x89);
  assert_int_equal(f[1], 0x00);
  assert_int_equal(f[2], 0x88);
  assert_int_equal(f[3], 2 + 12);
  assert_int_equal((f[4] << 8) | f[5], 1001);
  assert_memory_equal(f + 6, "ping timeout", 12);
  env_close(&e);
}

static void answered_pings_keep_the_socket(void **state) {
  (void)state;
  env_t e;
  sio_http_opts_t o = opts_base();
  o.ws_ping_interval_ms = 30;
  o.ws_ping_timeout_ms = 60;
  env_open(&e, &o);
  /* Answer each ping with a masked empty pong for 400 ms (several timeouts). */
  static const unsigned char pong[] = {0x8a, 0x80, 1, 2, 3, 4};
  char buf[512];
  uint64_t t0 = uv_hrtime();
  int pongs = 0;
  while ((uv_hrtime() - t0) / 1000000 < 400) {
    uv_run(&e.loop, UV_RUN_NOWAIT);
    ssize_t k = recv(e.fd, buf, sizeof buf, MSG_DONTWAIT);
    for (ssize_t i = 0; i + 1 < k; i++) {
      if ((unsigned char)buf[i] == 0x89 && buf[i + 1] == 0) {
        assert_int_equal(write(e.fd, pong, sizeof pong), (ssize_t)sizeof pong);
        pongs++;
      }
    }
    usleep(2000);
  }
  assert_int_equal(e.closed, 0);
  assert_true(pongs >= 3);
  env_close(&e);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* the server writes to sockets the tests have closed */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(queued_counts_each_frame),
      cmocka_unit_test(send_queue_limit_closes_later),
      cmocka_unit_test(close_to_non_reader_has_deadline),
      cmocka_unit_test(silent_peer_is_closed_after_ping_timeout),
      cmocka_unit_test(answered_pings_keep_the_socket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
