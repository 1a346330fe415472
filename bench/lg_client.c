/*
 * bench/lg_client.c: the load generator's client side, many connections on one epoll loop.
 *
 * Each connection is a minimal Socket.IO v5 client over Engine.IO v4's WebSocket
 * transport, connecting straight to WebSocket (no polling first, as the official client
 * does with transports: ["websocket"]):
 *   TCP connect -> "GET /socket.io/?EIO=4&transport=websocket" upgrade (RFC 6455 §4.1)
 *   -> server "0{open}" -> client "40" (SIO CONNECT to "/") -> server "40{sid}" = ready.
 * Client frames are masked (§5.3) with a per-connection xorshift key; server frames must
 * be unmasked and unfragmented (both servers send whole messages). EIO ping "2" is
 * answered "3", WebSocket pings get pongs. Events "42..." and acks "43<id>..." go to the
 * scenario's handlers with a timestamp taken once per read().
 *
 * Writes are queued per connection and flushed once per epoll batch, the way a corking
 * server would, so a sender emitting many packets makes few syscalls. A connection that
 * dies is closed at once but its on_close runs after the batch, so stale events in the
 * same batch are skipped and the scenario may reopen the struct from on_close.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lg.h"

lg_stats_t lg_stats;
lg_hist_t *lg_connect_lat;

#define MAX_EVENTS 1024
#define CLOSE_WAIT_NS 2000000000ull /* how long a graceful close waits for the server */

static int ep = -1;
static const lg_opts_t *opt;
static lg_handlers_t handlers;
static struct sockaddr_in server;
static char request[512];
static size_t request_len;
static char *rbuf; /* shared read buffer: a connection's saved tail, then fresh bytes */
static size_t rcap;
static lg_conn_t *dirty_head;
static lg_conn_t *closing_head, *closing_tail;
static uint32_t src_next;

/* Connections that died during this batch, with their error, for deferred on_close. */
static struct dead {
  lg_conn_t *c;
  int err;
} *dead;
static size_t ndead, dead_cap;

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) {
    fprintf(stderr, "loadgen: out of memory\n");
    abort();
  }
  return p;
}

uint64_t lg_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int lg_client_init(const lg_opts_t *o, const lg_handlers_t *h) {
  opt = o;
  handlers = *h;
  memset(&lg_stats, 0, sizeof lg_stats);
  memset(&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->host, &server.sin_addr) != 1 ||
      (ntohl(server.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "loadgen: --host must be a 127.x.x.x address (loopback only)\n");
    return -1;
  }
  /* A fixed Sec-WebSocket-Key: servers hash it the same whatever its value. */
  request_len = (size_t)snprintf(request, sizeof request,
                                 "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                                 "Host: %s:%d\r\n"
                                 "Upgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Version: 13\r\n\r\n",
                                 o->host, o->port);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("loadgen: epoll_create1");
    return -1;
  }
  if (!rbuf) {
    rcap = 1u << 20;
    rbuf = xrealloc(NULL, rcap);
  }
  return 0;
}

/* ---- per-connection plumbing ---- */

static void set_events(lg_conn_t *c) {
  struct epoll_event ev = {.events = (c->paused ? 0 : EPOLLIN) | (c->epout ? EPOLLOUT : 0),
                           .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void closing_unlink(lg_conn_t *c) {
  if (c->prev_closing) c->prev_closing->next_closing = c->next_closing;
  else closing_head = c->next_closing;
  if (c->next_closing) c->next_closing->prev_closing = c->prev_closing;
  else closing_tail = c->prev_closing;
  c->next_closing = c->prev_closing = NULL;
}

/* Closes c now; on_close(c, err) runs after the batch. */
static void die(lg_conn_t *c, int err) {
  if (c->state == LG_FREE) return;
  if (c->state == LG_CLOSING) closing_unlink(c);
  if (c->state < LG_READY) lg_stats.failed++;
  else if (err != 0) lg_stats.lost++;
  switch (err) {
  case 0: break;
  case LG_EREFUSED: lg_stats.refused++; break;
  case LG_EEOF: lg_stats.eof++; break;
  case LG_EPROTO: lg_stats.proto++; break;
  case LG_ETIMEOUT: lg_stats.timeouts++; break;
  default: lg_stats.sys++; break;
  }
  close(c->fd); /* also leaves the epoll set */
  c->fd = -1;
  free(c->in);
  free(c->out);
  c->in = c->out = NULL;
  c->in_len = c->in_cap = c->out_len = c->out_off = c->out_cap = 0;
  c->state = LG_FREE;
  if (ndead == dead_cap) {
    dead_cap = dead_cap ? dead_cap * 2 : 256;
    dead = xrealloc(dead, dead_cap * sizeof *dead);
  }
  dead[ndead].c = c;
  dead[ndead].err = err;
  ndead++;
}

static void mark_dirty(lg_conn_t *c) {
  if (c->dirty) return;
  c->dirty = 1;
  c->next_dirty = dirty_head;
  dirty_head = c;
}

static void out_reserve(lg_conn_t *c, size_t n) {
  if (c->out_len + n <= c->out_cap) return;
  /* Drop what was already written before growing. */
  if (c->out_off) {
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
    if (c->out_len + n <= c->out_cap) return;
  }
  size_t cap = c->out_cap ? c->out_cap : 256;
  while (cap < c->out_len + n) cap *= 2;
  c->out = xrealloc(c->out, cap);
  c->out_cap = (uint32_t)cap;
}

/* Appends one masked client frame (FIN set). */
static void put_frame(lg_conn_t *c, int opcode, const char *p, size_t n) {
  out_reserve(c, n + 14);
  uint8_t *o = (uint8_t *)c->out + c->out_len;
  size_t h;
  o[0] = (uint8_t)(0x80 | opcode);
  if (n < 126) {
    o[1] = (uint8_t)(0x80 | n);
    h = 2;
  } else if (n < 65536) {
    o[1] = 0x80 | 126;
    o[2] = (uint8_t)(n >> 8);
    o[3] = (uint8_t)n;
    h = 4;
  } else {
    o[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) o[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    h = 10;
  }
  /* xorshift32: an unpredictable-enough mask, the cost a real client pays (§5.3). */
  uint32_t x = c->rnd;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  c->rnd = x;
  uint8_t mk[4];
  memcpy(mk, &x, 4);
  memcpy(o + h, mk, 4);
  h += 4;
  uint8_t *dst = o + h;
  size_t i = 0;
  uint64_t m8;
  memcpy(&m8, (uint8_t[8]){mk[0], mk[1], mk[2], mk[3], mk[0], mk[1], mk[2], mk[3]}, 8);
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    w ^= m8;
    memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++) dst[i] = (uint8_t)p[i] ^ mk[i & 3];
  c->out_len += (uint32_t)(h + n);
  lg_stats.frames_out++;
  mark_dirty(c);
}

void lg_send(lg_conn_t *c, const char *payload, size_t len) {
  if (c->state == LG_FREE || c->state == LG_CLOSING) return;
  put_frame(c, 1, payload, len);
}

static void flush(lg_conn_t *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n > 0) {
      c->out_off += (uint32_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!c->epout) {
        c->epout = 1;
        set_events(c);
      }
      return;
    }
    die(c, n < 0 ? -errno : LG_EEOF);
    return;
  }
  c->out_off = c->out_len = 0;
  /* Idle connections keep no big buffer: memory per connection stays small at 20k. */
  if (c->out_cap > 65536) {
    free(c->out);
    c->out = NULL;
    c->out_cap = 0;
  }
  if (c->epout) {
    c->epout = 0;
    set_events(c);
  }
}

/* A connection that could not even start counts as a failed handshake. */
static int open_failed(int err) {
  lg_stats.failed++;
  lg_stats.sys++;
  return err;
}

int lg_open(lg_conn_t *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return open_failed(-errno);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (opt->sources > 1) {
    /* Spread over 127.0.0.x so one source address never runs out of ephemeral ports;
     * NO_PORT lets connect() pick the port per 4-tuple instead of per address. */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000001u + (src_next++ % opt->sources));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
      int e = -errno;
      close(fd);
      return open_failed(e);
    }
  }
  if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS) {
    int e = -errno;
    close(fd);
    return open_failed(e);
  }
  c->fd = fd;
  c->state = LG_TCP;
  /* c->dirty is left alone: a struct reopened from on_close may still sit on the flush
   * list, which pops it (and clears the flag) on its next pass. */
  c->paused = 0;
  c->epout = 1;
  c->in = c->out = NULL;
  c->in_len = c->in_cap = c->out_len = c->out_off = c->out_cap = 0;
  c->next_closing = c->prev_closing = NULL;
  c->t0 = lg_now();
  c->rnd = (c->id + 1) * 2654435761u ^ (uint32_t)c->t0;
  if (c->rnd == 0) c->rnd = 1;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int e = -errno;
    close(fd);
    c->fd = -1;
    c->state = LG_FREE;
    return open_failed(e);
  }
  lg_stats.opened++;
  return 0;
}

void lg_close(lg_conn_t *c, int graceful) {
  if (c->state == LG_FREE || c->state == LG_CLOSING) return;
  if (!graceful || c->state < LG_READY) {
    die(c, 0);
    return;
  }
  /* What socket.io-client's disconnect() does: SIO DISCONNECT, then the transport
   * closes; the WebSocket close handshake lets the server close TCP first (§7.1.1). */
  put_frame(c, 1, "41", 2);
  put_frame(c, 8, "\x03\xe8", 2);
  c->state = LG_CLOSING;
  c->deadline = lg_now() + CLOSE_WAIT_NS;
  c->prev_closing = closing_tail;
  c->next_closing = NULL;
  if (closing_tail) closing_tail->next_closing = c;
  else closing_head = c;
  closing_tail = c;
}

void lg_set_reading(lg_conn_t *c, int on) {
  if (c->state == LG_FREE) return;
  c->paused = !on;
  set_events(c);
}

int lg_drain_check_closed(lg_conn_t *c, uint64_t quiet_ns) {
  if (c->state == LG_FREE) return 1;
  /* A server that closes a connection with megabytes still in its socket buffer sends
   * the FIN only after them, as our window reopens: keep reading until EOF, or until
   * nothing arrived for quiet_ns (the server did not close). */
  for (;;) {
    ssize_t n = recv(c->fd, rbuf, rcap, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return 1;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return 1;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, (int)(quiet_ns / 1000000)) <= 0) return 0;
  }
}

/* ---- input: HTTP response, frames, Engine.IO and Socket.IO packets ---- */

/* Reads the decimal ack id at p[*i..n), advancing *i. */
static uint64_t read_id(const char *p, size_t n, size_t *i) {
  uint64_t v = 0;
  while (*i < n && p[*i] >= '0' && p[*i] <= '9') v = v * 10 + (uint64_t)(p[(*i)++] - '0');
  return v;
}

/* A Socket.IO packet (the Engine.IO message after its '4'). */
static void on_sio(lg_conn_t *c, const char *p, size_t n, uint64_t now) {
  if (n == 0) {
    die(c, LG_EPROTO);
    return;
  }
  char type = p[0];
  size_t i = 1;
  if (i < n && p[i] == '/') { /* a namespace other than "/" is never ours; skip it */
    while (i < n && p[i] != ',') i++;
    i++;
  }
  switch (type) {
  case '0':
    if (c->state != LG_SIO) return;
    c->state = LG_READY;
    lg_stats.ready++;
    if (lg_connect_lat) lg_hist_add(lg_connect_lat, now - c->t0);
    if (handlers.on_ready) handlers.on_ready(c, now);
    return;
  case '2': {
    (void)read_id(p, n, &i);
    if (handlers.on_event && i < n) handlers.on_event(c, p + i, n - i, now);
    return;
  }
  case '3': {
    uint64_t id = read_id(p, n, &i);
    if (handlers.on_ack && i < n) handlers.on_ack(c, id, p + i, n - i, now);
    return;
  }
  case '1': die(c, LG_EEOF); return;
  case '4': die(c, LG_EREFUSED); return;
  default: return; /* binary events/acks: not part of the bench contract */
  }
}

/* An Engine.IO packet in one text frame. */
static void on_text(lg_conn_t *c, const char *p, size_t n, uint64_t now) {
  if (n == 0) return;
  switch (p[0]) {
  case '0':
    if (c->state == LG_EIO) {
      c->state = LG_SIO;
      put_frame(c, 1, "40", 2);
    }
    return;
  case '2':
    lg_stats.pings++;
    put_frame(c, 1, "3", 1);
    return;
  case '4': on_sio(c, p + 1, n - 1, now); return;
  case '1': die(c, c->state == LG_CLOSING ? 0 : LG_EEOF); return;
  case '3':
  case '6': return;
  default: die(c, LG_EPROTO); return;
  }
}

/* Parses whole frames at d[0..len); returns the bytes consumed. */
static size_t parse(lg_conn_t *c, char *d, size_t len, uint64_t now) {
  size_t off = 0;
  if (c->state == LG_HTTP) {
    char *e = memmem(d, len, "\r\n\r\n", 4);
    if (!e) {
      if (len > 16384) die(c, LG_EPROTO);
      return 0;
    }
    if (len < 12 || memcmp(d, "HTTP/1.1 101", 12) != 0) {
      die(c, LG_EREFUSED);
      return len;
    }
    off = (size_t)(e + 4 - d);
    c->state = LG_EIO;
  }
  while (c->state != LG_FREE && len - off >= 2) {
    uint8_t b0 = (uint8_t)d[off], b1 = (uint8_t)d[off + 1];
    uint64_t plen = b1 & 0x7f;
    size_t h = 2;
    if (b1 & 0x80) { /* servers never mask (§5.1) */
      die(c, LG_EPROTO);
      break;
    }
    if (plen == 126) {
      if (len - off < 4) break;
      plen = ((uint64_t)(uint8_t)d[off + 2] << 8) | (uint8_t)d[off + 3];
      h = 4;
    } else if (plen == 127) {
      if (len - off < 10) break;
      plen = 0;
      for (int i = 0; i < 8; i++) plen = (plen << 8) | (uint8_t)d[off + 2 + i];
      h = 10;
    }
    if (len - off - h < plen) break;
    char *p = d + off + h;
    off += h + plen;
    lg_stats.frames_in++;
    if (!(b0 & 0x80)) { /* neither server fragments its messages */
      die(c, LG_EPROTO);
      break;
    }
    switch (b0 & 0x0f) {
    case 1: on_text(c, p, plen, now); break;
    case 2: break;
    case 8:
      /* Ours answered, or the server's own close: either way TCP closes next. */
      if (c->state != LG_CLOSING) {
        put_frame(c, 8, p, plen >= 2 ? 2 : 0);
        die(c, LG_EEOF);
      }
      break;
    case 9: put_frame(c, 10, p, plen); break;
    case 10: break;
    default: die(c, LG_EPROTO); break;
    }
  }
  return off;
}

static void on_readable(lg_conn_t *c, uint64_t now) {
  size_t have = c->in_len;
  if (have + 65536 > rcap) {
    rcap = 2 * (have + 65536);
    rbuf = xrealloc(rbuf, rcap);
  }
  if (have) memcpy(rbuf, c->in, have);
  ssize_t n = read(c->fd, rbuf + have, rcap - have);
  if (n == 0) {
    die(c, c->state == LG_CLOSING ? 0 : LG_EEOF);
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    die(c, c->state == LG_CLOSING ? 0 : -errno);
    return;
  }
  size_t len = have + (size_t)n;
  size_t used = parse(c, rbuf, len, now);
  if (c->state == LG_FREE) return;
  size_t left = len - used;
  if (left) {
    if (c->in_cap < left) {
      c->in_cap = (uint32_t)(left < 256 ? 256 : left);
      c->in = xrealloc(c->in, c->in_cap);
    }
    memcpy(c->in, rbuf + used, left);
  } else if (c->in_cap > 4096) {
    free(c->in);
    c->in = NULL;
    c->in_cap = 0;
  }
  c->in_len = (uint32_t)left;
}

/* The TCP connect finished (or failed): send the upgrade request. */
static void on_connected(lg_conn_t *c) {
  int err = 0;
  socklen_t el = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) err = errno;
  if (err) {
    die(c, -err);
    return;
  }
  c->state = LG_HTTP;
  out_reserve(c, request_len);
  memcpy(c->out + c->out_len, request, request_len);
  c->out_len += (uint32_t)request_len;
  c->epout = 0;
  set_events(c);
  mark_dirty(c);
}

static void flush_dirty(void) {
  while (dirty_head) {
    lg_conn_t *c = dirty_head;
    dirty_head = c->next_dirty;
    c->dirty = 0;
    if (c->state != LG_FREE && c->state != LG_TCP) flush(c);
  }
}

void lg_flush(void) { flush_dirty(); }

int lg_poll(uint64_t timeout_ns) {
  static struct epoll_event evs[MAX_EVENTS];
  struct timespec ts = {(time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull)};
  int n = epoll_pwait2(ep, evs, MAX_EVENTS, &ts, NULL);
  if (n < 0) n = 0;
  uint64_t now = lg_now();
  for (int i = 0; i < n; i++) {
    lg_conn_t *c = evs[i].data.ptr;
    uint32_t e = evs[i].events;
    if (c->state == LG_FREE) continue; /* died earlier in this batch */
    if (c->state == LG_TCP) {
      on_connected(c);
      continue;
    }
    if (e & EPOLLOUT) flush(c);
    if (c->state == LG_FREE) continue;
    if (c->paused) {
      if (e & (EPOLLERR | EPOLLHUP)) die(c, LG_EEOF);
      continue;
    }
    if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c, now);
  }
  /* Graceful closes the server never finished. */
  while (closing_head && closing_head->deadline <= now) die(closing_head, LG_ETIMEOUT);
  flush_dirty();
  /* on_close may reopen connections and send: flush once more after. */
  for (size_t i = 0; i < ndead; i++)
    if (handlers.on_close) handlers.on_close(dead[i].c, dead[i].err);
  ndead = 0;
  flush_dirty();
  return n;
}

void lg_client_done(lg_conn_t *conns, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (conns[i].state != LG_FREE) {
      close(conns[i].fd);
      free(conns[i].in);
      free(conns[i].out);
      conns[i].in = conns[i].out = NULL;
      conns[i].state = LG_FREE;
    }
  ndead = 0;
  dirty_head = NULL;
  closing_head = closing_tail = NULL;
  if (ep >= 0) close(ep);
  ep = -1;
}
