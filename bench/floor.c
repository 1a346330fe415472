/*
 * bench/floor.c: the "floor" reference server: what the bench contract costs when almost
 * nothing but the kernel is left. bench/run.sh runs it next to noom and Node so a noom
 * figure can be read as "kernel floor + what libsio adds" on this machine.
 *
 *   floor [--port P] [--host H]      prints "listening on http://HOST:PORT" (port 0 = any)
 *
 * One thread, one level-triggered epoll loop, no libuv, no libsio. It speaks just enough
 * HTTP/1.1 upgrade + RFC 6455 + Engine.IO v4 + Socket.IO v5 for bench/loadgen's WebSocket
 * scenarios: the upgrade GET -> 101 + EIO open "0{...}"; "40" -> "40{"sid":...}"; on "/":
 * 42<id>["join","r"] -> joins r, "43<id>[true]"; 42["bcast",{"room":R,...}] -> the same
 * packet to every other member of R (framed once, then copied into each output buffer);
 * 42<id>["echo",X] -> "43<id>[X]" with X sliced out of the request bytes; "3" pongs are
 * ignored; "41", EIO "1" and WebSocket close frames close the connection.
 *
 * Syscalls are what noom makes per operation, no fewer: accept4 + TCP_NODELAY per
 * connection, one read per readable event, and output corked per epoll_wait batch (one
 * write per connection with everything queued for it, as noom's uv_check flush does),
 * EPOLLOUT only while a write came back short.
 *
 * What it skips, deliberately (it is a floor, not a server): no HTTP long-polling, no
 * ping timer or timeouts, no JSON parsing or UTF-8 validation, no namespaces other than
 * "/" (CONNECT to one closes), no binary packets, no fragmented frames (dropped), no
 * header validation beyond the path and Sec-WebSocket-Key, sids from a PRNG (not secret),
 * no back-pressure beyond dropping a connection with more than 8 MB queued. Malformed
 * input closes the connection; it must never crash the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 1024 /* libuv's batch size too */
#define MAX_ROOMS_PER_CONN 4
#define OUT_LIMIT (8u << 20)

enum { FREE = 0, HTTP, OPEN, READY };

typedef struct conn {
  uint8_t state, dirty, epout, closing; /* closing: close once the output is written */
  uint32_t in_len, in_cap, out_off, out_len, out_cap;
  char *in, *out;
  int next_dirty; /* fd of the next connection on the flush list, -1 = end */
  uint8_t nmem;
  struct { uint16_t room; uint32_t slot; } mem[MAX_ROOMS_PER_CONN];
} conn_t;

typedef struct {
  char name[64];
  int *fds;
  uint32_t n, cap;
} room_t;

static conn_t *conns; /* indexed by fd */
static int nconns_max, ep, lfd, dirty_head = -1;
static room_t *rooms;
static uint16_t nrooms;
static char *rbuf;
static size_t rcap = 1u << 18;
static uint64_t rng;

static void *xrealloc(void *p, size_t n) {
  if (!(p = realloc(p, n))) {
    fprintf(stderr, "floor: out of memory\n");
    abort();
  }
  return p;
}

/* ---- output: queued per connection, written once per epoll batch ---- */

static void mark_dirty(int fd) {
  if (conns[fd].dirty) return;
  conns[fd].dirty = 1;
  conns[fd].next_dirty = dirty_head;
  dirty_head = fd;
}

static char *out_reserve(int fd, size_t n) {
  conn_t *c = &conns[fd];
  if (c->out_len + n > c->out_cap) {
    if (c->out_off) { /* drop what was written before growing */
      memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
      c->out_len -= c->out_off;
      c->out_off = 0;
    }
    size_t cap = c->out_cap ? c->out_cap : 512;
    while (cap < c->out_len + n) cap *= 2;
    if (cap > c->out_cap) {
      c->out = xrealloc(c->out, cap);
      c->out_cap = (uint32_t)cap;
    }
  }
  char *p = c->out + c->out_len;
  c->out_len += (uint32_t)n;
  mark_dirty(fd);
  return p;
}

/* A server frame header (FIN, unmasked) for n payload bytes; returns its length. */
static size_t frame_hdr(uint8_t *h, int opcode, size_t n) {
  h[0] = (uint8_t)(0x80 | opcode);
  if (n < 126) {
    h[1] = (uint8_t)n;
    return 2;
  }
  if (n < 65536) {
    h[1] = 126, h[2] = (uint8_t)(n >> 8), h[3] = (uint8_t)n;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
  return 10;
}

/* Queues one text frame whose payload is the concatenation of up to 4 pieces. */
static void send_text(int fd, const char *a, size_t an, const char *b, size_t bn,
                      const char *c, size_t cn, const char *d, size_t dn) {
  uint8_t h[10];
  size_t hl = frame_hdr(h, 1, an + bn + cn + dn);
  char *o = out_reserve(fd, hl + an + bn + cn + dn);
  memcpy(o, h, hl), o += hl;
  memcpy(o, a, an), o += an;
  if (bn) memcpy(o, b, bn), o += bn;
  if (cn) memcpy(o, c, cn), o += cn;
  if (dn) memcpy(o, d, dn);
}

static void set_epout(int fd, int on) {
  conns[fd].epout = (uint8_t)on;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* ---- rooms: a flat list of names, each with an array of member fds ---- */

static void leave_all(int fd) {
  conn_t *c = &conns[fd];
  for (int i = 0; i < c->nmem; i++) {
    room_t *r = &rooms[c->mem[i].room];
    uint32_t slot = c->mem[i].slot;
    int moved = r->fds[--r->n];
    r->fds[slot] = moved; /* swap-remove; the moved member's slot changes */
    for (int k = 0; k < conns[moved].nmem; k++)
      if (conns[moved].mem[k].room == c->mem[i].room) conns[moved].mem[k].slot = slot;
  }
  c->nmem = 0;
}

static void join(int fd, const char *name, size_t len) {
  conn_t *c = &conns[fd];
  uint16_t i = 0;
  if (len >= sizeof rooms[0].name) return;
  while (i < nrooms && !(strlen(rooms[i].name) == len && memcmp(rooms[i].name, name, len) == 0)) i++;
  if (i == nrooms) {
    if (nrooms == UINT16_MAX) return;
    rooms = xrealloc(rooms, (size_t)(nrooms + 1) * sizeof *rooms);
    memset(&rooms[i], 0, sizeof rooms[i]);
    memcpy(rooms[i].name, name, len);
    nrooms++;
  }
  for (int k = 0; k < c->nmem; k++)
    if (c->mem[k].room == i) return;
  if (c->nmem == MAX_ROOMS_PER_CONN) return;
  room_t *r = &rooms[i];
  if (r->n == r->cap) r->fds = xrealloc(r->fds, (r->cap = r->cap ? r->cap * 2 : 64) * sizeof *r->fds);
  c->mem[c->nmem].room = i;
  c->mem[c->nmem++].slot = r->n;
  r->fds[r->n++] = fd;
}

static void bcast(int from, const char *name, size_t len, const char *json, size_t jn) {
  static char *frame;
  static size_t fcap;
  for (uint16_t i = 0; i < nrooms; i++) {
    room_t *r = &rooms[i];
    if (strlen(r->name) != len || memcmp(r->name, name, len) != 0) continue;
    /* Framed once: header + "42" + the event array, then a memcpy per receiver. */
    if (fcap < jn + 12) frame = xrealloc(frame, fcap = jn + 12);
    size_t hl = frame_hdr((uint8_t *)frame, 1, jn + 2);
    memcpy(frame + hl, "42", 2);
    memcpy(frame + hl + 2, json, jn);
    size_t n = hl + 2 + jn;
    for (uint32_t k = 0; k < r->n; k++)
      if (r->fds[k] != from) memcpy(out_reserve(r->fds[k], n), frame, n);
    return;
  }
}

/* ---- connection lifecycle ---- */

static void sid(char out[20]) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (int i = 0; i < 20; i++) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    out[i] = a[rng >> 58];
  }
}

static void drop(int fd) {
  conn_t *c = &conns[fd];
  if (c->state == FREE) return;
  leave_all(fd);
  close(fd); /* also leaves the epoll set */
  free(c->in);
  free(c->out);
  /* dirty/next_dirty stay: the flush list skips FREE entries and pops this one. */
  uint8_t dirty = c->dirty;
  int next = c->next_dirty;
  memset(c, 0, sizeof *c);
  c->dirty = dirty, c->next_dirty = next;
}

static void flush(int fd) {
  conn_t *c = &conns[fd];
  while (c->out_off < c->out_len) {
    ssize_t n = write(fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n > 0) {
      c->out_off += (uint32_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN && !c->closing && c->out_len - c->out_off <= OUT_LIMIT) {
      if (!c->epout) set_epout(fd, 1);
      return;
    } else {
      drop(fd);
      return;
    }
  }
  c->out_off = c->out_len = 0;
  if (c->out_cap > 65536) { /* idle connections keep no big buffer */
    free(c->out);
    c->out = NULL;
    c->out_cap = 0;
  }
  if (c->epout) set_epout(fd, 0);
  if (c->closing) drop(fd);
}

static void on_accept(void) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or out of descriptors: try again next turn */
    if (fd >= nconns_max) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    conns[fd].state = HTTP;
    conns[fd].nmem = 0;
  }
}

/* ---- input ---- */

/* The upgrade request, whole in d[0..len). Returns 0, or -1 to close. */
static int on_upgrade(int fd, char *d, size_t len) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  d[len - 1] = '\0'; /* the final '\n' of the header block: makes strcasestr safe */
  if (len < 16 || memcmp(d, "GET /socket.io/", 15) != 0 || !strstr(d, "transport=websocket")) return -1;
  char *k = strcasestr(d, "\r\nSec-WebSocket-Key:");
  if (!k) return -1;
  k += 20;
  while (*k == ' ') k++;
  size_t kn = strcspn(k, "\r\n ");
  if (kn == 0 || kn > 64) return -1;
  char buf[128];
  unsigned char md[SHA_DIGEST_LENGTH];
  memcpy(buf, k, kn);
  memcpy(buf + kn, guid, sizeof guid - 1);
  SHA1((unsigned char *)buf, kn + sizeof guid - 1, md);
  char accept[32];
  EVP_EncodeBlock((unsigned char *)accept, md, SHA_DIGEST_LENGTH);
  char head[256];
  int hn = snprintf(head, sizeof head,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
  memcpy(out_reserve(fd, (size_t)hn), head, (size_t)hn);
  char id[20];
  sid(id);
  static const char tail[] = "\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
                             "\"maxPayload\":1000000}";
  send_text(fd, "0{\"sid\":\"", 9, id, 20, tail, sizeof tail - 1, NULL, 0);
  conns[fd].state = OPEN;
  return 0;
}

/* A Socket.IO packet p[0..n) (the Engine.IO message after its '4'). Returns -1 to close. */
static int on_sio(int fd, const char *p, size_t n) {
  conn_t *c = &conns[fd];
  if (n == 0 || p[0] == '1') return -1;
  if (p[0] == '0') {
    if (n > 1 && p[1] == '/') return -1; /* only the main namespace */
    char id[20];
    sid(id);
    if (c->state == OPEN) send_text(fd, "40{\"sid\":\"", 10, id, 20, "\"}", 2, NULL, 0);
    c->state = READY;
    return 0;
  }
  if (p[0] != '2' || c->state != READY) return 0; /* binary, acks from clients: not ours */
  size_t i = 1;
  while (i < n && p[i] >= '0' && p[i] <= '9') i++;
  const char *ack = p + 1, *j = p + i;
  size_t ackn = i - 1, jn = n - i;
  if (jn >= 10 && memcmp(j, "[\"bcast\",", 9) == 0) {
    const char *r = memmem(j, jn, "\"room\":\"", 8);
    if (!r) return 0;
    r += 8;
    const char *e = memchr(r, '"', (size_t)(j + jn - r));
    if (e) bcast(fd, r, (size_t)(e - r), j, jn);
  } else if (jn >= 9 && memcmp(j, "[\"echo\",", 8) == 0 && j[jn - 1] == ']') {
    if (ackn) send_text(fd, "43", 2, ack, ackn, "[", 1, j + 8, jn - 8);
    /* the closing ']' of the request is the closing ']' of the ack */
  } else if (jn >= 11 && memcmp(j, "[\"join\",\"", 9) == 0) {
    const char *e = memchr(j + 9, '"', jn - 9);
    if (!e) return 0;
    join(fd, j + 9, (size_t)(e - j - 9));
    if (ackn) send_text(fd, "43", 2, ack, ackn, "[true]", 6, NULL, 0);
  }
  return 0;
}

/* Parses whole frames at d[0..len); returns the bytes consumed, or -1 to close. */
static ssize_t parse(int fd, char *d, size_t len) {
  size_t off = 0;
  if (conns[fd].state == HTTP) {
    char *e = memmem(d, len, "\r\n\r\n", 4);
    if (!e) return len > 8192 ? -1 : 0;
    off = (size_t)(e + 4 - d);
    if (on_upgrade(fd, d, off) != 0) return -1;
  }
  while (len - off >= 6) { /* client frames are masked: at least 2 + 4 bytes */
    uint8_t b0 = (uint8_t)d[off], b1 = (uint8_t)d[off + 1];
    uint64_t n = b1 & 0x7f;
    size_t h = 2;
    if (!(b1 & 0x80) || !(b0 & 0x80)) return -1; /* unmasked or fragmented */
    if (n == 126) {
      if (len - off < 8) break;
      n = (uint64_t)(uint8_t)d[off + 2] << 8 | (uint8_t)d[off + 3];
      h = 4;
    } else if (n == 127) {
      if (len - off < 14) break;
      n = 0;
      for (int i = 0; i < 8; i++) n = n << 8 | (uint8_t)d[off + 2 + i];
      h = 10;
      if (n > OUT_LIMIT) return -1;
    }
    if (len - off - h - 4 < n) break;
    uint8_t *mk = (uint8_t *)d + off + h, *p = mk + 4;
    for (size_t i = 0; i < n; i++) p[i] ^= mk[i & 3];
    off += h + 4 + n;
    switch (b0 & 0x0f) {
    case 1: /* text: one Engine.IO packet */
      if (n == 0 || p[0] == '1') return -1;
      if (p[0] == '4' && on_sio(fd, (char *)p + 1, n - 1) != 0) return -1;
      break;
    case 8: { /* close: answer it, then close TCP once written */
      uint8_t f[4];
      size_t fl = frame_hdr(f, 8, n >= 2 ? 2 : 0);
      if (n >= 2) f[fl++] = p[0], f[fl++] = p[1];
      memcpy(out_reserve(fd, fl), f, fl);
      conns[fd].closing = 1;
      return (ssize_t)len;
    }
    case 9: { /* ping: pong with the same payload (<= 125 bytes by RFC 6455) */
      if (n > 125) return -1;
      uint8_t f[2];
      frame_hdr(f, 10, n);
      char *o = out_reserve(fd, 2 + n);
      memcpy(o, f, 2);
      memcpy(o + 2, p, n);
      break;
    }
    default: break; /* binary, pong, continuation: ignored */
    }
  }
  return (ssize_t)off;
}

static void on_readable(int fd) {
  conn_t *c = &conns[fd];
  size_t have = c->in_len;
  if (have + 65536 > rcap) rbuf = xrealloc(rbuf, rcap = 2 * (have + 65536));
  if (have) memcpy(rbuf, c->in, have);
  ssize_t n = read(fd, rbuf + have, rcap - have);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    drop(fd);
    return;
  }
  size_t len = have + (size_t)n;
  ssize_t used = parse(fd, rbuf, len);
  if (used < 0) {
    drop(fd);
    return;
  }
  size_t left = len - (size_t)used; /* a partial frame, kept for the next read */
  if (left > c->in_cap) c->in = xrealloc(c->in, c->in_cap = (uint32_t)(left < 256 ? 256 : left));
  if (left) memcpy(c->in, rbuf + used, left);
  c->in_len = (uint32_t)left;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    else {
      fprintf(stderr, "floor: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  nconns_max = rl.rlim_cur > 1000000 ? 1000000 : (int)rl.rlim_cur;
  conns = calloc((size_t)nconns_max, sizeof *conns);
  rbuf = xrealloc(NULL, rcap);
  if (getrandom(&rng, sizeof rng, 0) != sizeof rng || rng == 0) rng = 88172645463325252ull;

  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  int one = 1;
  if (!conns || inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "floor: bad --host %s\n", host);
    return 2;
  }
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t al = sizeof a;
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1024) != 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) != 0) {
    perror("floor: listen");
    return 1;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  printf("listening on http://%s:%d\n", host, ntohs(a.sin_port));
  fflush(stdout);

  static struct epoll_event evs[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
    int accepting = 0;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        accepting = 1; /* after the batch, so no closed fd is reused under a stale event */
        continue;
      }
      if (conns[fd].state == FREE) continue;
      if (evs[i].events & EPOLLOUT) flush(fd);
      if (conns[fd].state != FREE && !conns[fd].closing &&
          (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        on_readable(fd);
    }
    while (dirty_head >= 0) { /* the cork: one write per connection per batch */
      int fd = dirty_head;
      dirty_head = conns[fd].next_dirty;
      conns[fd].dirty = 0;
      if (conns[fd].state != FREE && !conns[fd].epout) flush(fd);
    }
    if (accepting) on_accept();
  }
}
