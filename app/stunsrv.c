/* UDP glue for the STUN responder: one datagram in, at most one out (uv_udp_try_send). */
#include "stunsrv.h"

#include <string.h>

#include "sio.h"
#include "stun.h"

static uv_udp_t udp;
static int running;
static char rbuf[2048];

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h, (void)hint;
  *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags) {
  if (n <= 0 || from == NULL || (flags & UV_UDP_PARTIAL)) return;
  uint8_t out[NOOM_STUN_MAX_RESPONSE];
  size_t len = noom_stun_respond((const uint8_t *)buf->base, (size_t)n, from, out, sizeof out);
  if (len == 0) return;
  uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
  /* A full socket buffer drops the answer; the client retransmits (RFC 5389 §7.2.1). */
  uv_udp_try_send(h, &b, 1, from);
}

int noom_stunsrv_start(uv_loop_t *loop, const char *host, int port) {
  struct sockaddr_storage ss;
  int r = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                            : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  if (r) return r;
  if ((r = uv_udp_init(loop, &udp)) != 0) return r;
  if ((r = uv_udp_bind(&udp, (struct sockaddr *)&ss, UV_UDP_REUSEADDR)) != 0 ||
      (r = uv_udp_recv_start(&udp, on_alloc, on_recv)) != 0) {
    uv_close((uv_handle_t *)&udp, NULL);
    return r;
  }
  running = 1;
  return 0;
}

void noom_stunsrv_stop(void) {
  if (!running) return;
  running = 0;
  uv_close((uv_handle_t *)&udp, NULL);
}
