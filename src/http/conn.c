/*
 * TCP connections on libuv: zero-copy reads into a shared buffer, a reference-counted
 * output queue, and one corked writev per connection per loop turn (see conn.h).
 */
#include "http/conn.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/tls.h"
#include "sio/errors.h"

#define RBUF_SIZE (64 * 1024)
#define MAX_IOV 64
/* Output segment arrays hold SEGS_MIN entries and double as needed. A connection gives
 * its array back as soon as its queue empties (idle connections hold none), so under
 * fan-out every receiver would malloc, realloc and free arrays on every loop turn: the
 * io keeps spare arrays of the first SIO__SEG_CLASSES sizes instead, up to
 * SEG_CACHE_BYTES in all (loop-wide, not per connection). */
#define SEGS_MIN 8
#define SEG_CACHE_BYTES (1024 * 1024)

static void on_flush(uv_check_t *h);
static void on_kick(uv_idle_t *h) { (void)h; }
static void on_conn_closed(uv_handle_t *h);

/* Closes c's handle: with an RST for an aborted connection (a FIN would wait behind the
 * bytes the peer does not read, and the kernel would keep them as an orphan socket). */
static void close_handle(sio__conn_t *c) {
  if (c->reset && uv_tcp_close_reset(&c->tcp, on_conn_closed) == 0) return;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Closes the handles of connections closed since the last check phase (sio__conn_close). */
static void close_deferred(sio__io_t *io) {
  while (!sio__list_empty(&io->close_list)) {
    sio__conn_t *c = sio__container_of(io->close_list.next, sio__conn_t, flush_link);
    sio__list_remove(&c->flush_link);
    close_handle(c);
  }
}

/* A graceful close whose output the peer did not take in SIO__CONN_LINGER_MS. */
static void on_linger_overdue(sio__tnode_t *n) {
  sio__conn_t *c = sio__container_of(n, sio__conn_t, timeout);
  SIO_LOGD("%s: %zu bytes not taken %d ms after close, resetting", sio__conn_peer(c), sio__conn_queued(c),
           SIO__CONN_LINGER_MS);
  sio__conn_abort(c);
}

int sio__io_init(sio__io_t *io, uv_loop_t *loop) {
  memset(io, 0, sizeof *io);
  io->loop = loop;
  sio__list_init(&io->flush_list);
  sio__list_init(&io->close_list);
  sio__list_init(&io->conns);
  io->max_conn_out = 8u << 20;
  io->rbuf = sio__malloc(RBUF_SIZE);
  if (io->rbuf == NULL) return SIO_ENOMEM;
  uv_check_init(loop, &io->flusher);
  uv_idle_init(loop, &io->kicker);
  io->flusher.data = io;
  io->kicker.data = io;
  /* Flush order: libuv runs check handles last-started-first (uv_check_start inserts at
   * the head of loop->check_handles). This flusher is started when the HTTP server is
   * created, before any engine on it, so every engine's check callback (closing slow
   * consumers, answering long-polls) runs first in a turn and its output is written by
   * this one in the same turn. Starting this flusher later would delay those writes by a
   * whole loop turn. */
  uv_check_start(&io->flusher, on_flush);
  uv_unref((uv_handle_t *)&io->flusher);
  int r = sio__thub_init(&io->thub, loop);
  if (r) return r;
  sio__tlist_init(&io->linger, &io->thub, SIO__CONN_LINGER_MS, on_linger_overdue);
  return 0;
}

static void io_handle_closed(uv_handle_t *h) {
  sio__io_t *io = h->data;
  if (--io->closing == 0) {
    for (int k = 0; k < SIO__SEG_CLASSES; k++) {
      while (io->seg_cache[k]) {
        void *next = *(void **)io->seg_cache[k];
        sio__free(io->seg_cache[k]);
        io->seg_cache[k] = next;
      }
    }
    io->seg_cached = 0;
    sio__free(io->rbuf);
    sio__free(io->pbuf);
    io->rbuf = io->pbuf = NULL;
    if (io->on_closed) io->on_closed(io);
  }
}

static void maybe_finish_close(sio__io_t *io) {
  if (io->closing != 1 || io->nconns != 0) return;
  /* All connections are gone: close the loop-wide handles (3), then report. */
  io->closing = 4;
  io->thub.timer.data = io;
  uv_close((uv_handle_t *)&io->flusher, io_handle_closed);
  uv_close((uv_handle_t *)&io->kicker, io_handle_closed);
  uv_close((uv_handle_t *)&io->thub.timer, io_handle_closed);
  io->closing--; /* the extra count kept us from finishing early */
}

void sio__io_close(sio__io_t *io, void (*on_closed)(sio__io_t *io)) {
  io->on_closed = on_closed;
  io->closing = 1;
  close_deferred(io);
  sio__list_t *it = io->conns.next;
  while (it != &io->conns) {
    sio__conn_t *c = sio__container_of(it, sio__conn_t, all_link);
    it = it->next;
    sio__conn_close(c, 0);
  }
  maybe_finish_close(io);
}

/* ---- reading ---- */

/* Unconsumed input: header and bytes in one allocation, which exists only while a
 * partial message is pending (the connection itself keeps one pointer, not a buffer). */
struct sio__conn_in_s {
  size_t len, cap;
  char data[];
};

static size_t in_len(const sio__conn_t *c) { return c->in ? c->in->len : 0; }

/* Ensures room for extra more bytes. Returns 0 or SIO_ENOMEM (input unchanged). */
static int in_reserve(sio__conn_t *c, size_t extra) {
  size_t len = in_len(c), cap = c->in ? c->in->cap : 0;
  if (cap - len >= extra) return 0;
  if (extra > SIZE_MAX / 4 - len) return SIO_ENOMEM;
  size_t want = cap ? cap : 64;
  while (want < len + extra) want *= 2;
  struct sio__conn_in_s *in = sio__realloc(c->in, sizeof *in + want);
  if (in == NULL) return SIO_ENOMEM;
  in->len = len;
  in->cap = want;
  c->in = in;
  return 0;
}

static int in_append(sio__conn_t *c, const char *data, size_t n) {
  if (in_reserve(c, n) != 0) return SIO_ENOMEM;
  memcpy(c->in->data + c->in->len, data, n);
  c->in->len += n;
  return 0;
}

/* Drops the first n bytes; gives the memory back as soon as nothing is pending. */
static void in_consume(sio__conn_t *c, size_t n) {
  struct sio__conn_in_s *in = c->in;
  if (n < in->len) {
    memmove(in->data, in->data + n, in->len - n);
    in->len -= n;
    return;
  }
  sio__free(in);
  c->in = NULL;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  sio__conn_t *c = h->data;
  (void)hint;
  if (in_len(c) == 0 || c->tls) {
    /* TLS reads ciphertext here too; plaintext tails live in c->in. */
    buf->base = c->io->rbuf;
    buf->len = RBUF_SIZE;
    return;
  }
  /* A partial message is pending: read right behind it so it becomes contiguous. */
  if (in_reserve(c, 16 * 1024) != 0) {
    buf->base = NULL;
    buf->len = 0;
    return;
  }
  buf->base = c->in->data + c->in->len;
  buf->len = c->in->cap - c->in->len;
}

/* Feeds data to the protocol, following protocol switches; returns bytes consumed or <0. */
static long feed(sio__conn_t *c, char *data, size_t len) {
  size_t done = 0;
  while (done < len && !c->closing && c->reading) {
    const sio__conn_proto_t *p = c->proto;
    long n = p->on_data(c, data + done, len - done);
    if (n < 0) return n;
    done += (size_t)n;
    if (c->proto == p) break; /* no switch: the rest is an incomplete tail */
  }
  return (long)done;
}

static int tls_send_pending(sio__conn_t *c);

/* Plaintext out of TLS: handled like bytes read from a plain socket. */
static int tls_deliver(void *u, char *plain, size_t n) {
  sio__conn_t *c = u;
  if (c->closing) return 1;
  if (in_len(c) == 0) {
    long k = feed(c, plain, n);
    if (k < 0 || c->closing) return 1;
    if ((size_t)k < n && in_append(c, plain + k, n - (size_t)k) != 0) {
      sio__conn_close(c, 0);
      return 1;
    }
    return 0;
  }
  if (in_append(c, plain, n) != 0) {
    sio__conn_close(c, 0);
    return 1;
  }
  sio__conn_replay(c);
  return c->closing;
}

static void tls_read(sio__conn_t *c, const char *cipher, size_t len) {
  sio__io_t *io = c->io;
  if (io->pbuf == NULL && (io->pbuf = sio__malloc(RBUF_SIZE)) == NULL) {
    sio__conn_close(c, 0);
    return;
  }
  if (sio__tls_feed(c->tls, cipher, len, io->pbuf, RBUF_SIZE, tls_deliver, c) != 0) {
    /* Bad records or the peer's close_notify: send any alert, then go. */
    if (!c->closing) {
      tls_send_pending(c);
      sio__conn_close(c, 0);
    }
    return;
  }
  /* Handshake records produced by SSL_read go out now. */
  if (!c->closing && tls_send_pending(c) != 0) sio__conn_close(c, 0);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  sio__conn_t *c = s->data;
  if (nread > 0 && c->tls) {
    tls_read(c, buf->base, (size_t)nread);
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF) SIO_LOGD("%s: read error: %s", sio__conn_peer(c), uv_strerror((int)nread));
    sio__conn_close(c, 0);
    return;
  }
  if (nread == 0) return;
  if (buf->base == c->io->rbuf) {
    long n = feed(c, buf->base, (size_t)nread);
    if (n < 0 || c->closing) return;
    if ((size_t)n < (size_t)nread && in_append(c, buf->base + n, (size_t)nread - (size_t)n) != 0) {
      sio__conn_close(c, 0);
    }
    return;
  }
  c->in->len += (size_t)nread;
  sio__conn_replay(c);
}

void sio__conn_replay(sio__conn_t *c) {
  if (in_len(c) == 0 || c->closing || !c->reading) return;
  long n = feed(c, c->in->data, c->in->len);
  if (n < 0 || c->closing) return;
  in_consume(c, (size_t)n);
}

void sio__conn_pause(sio__conn_t *c) {
  if (!c->reading) return;
  c->reading = 0;
  if (!c->closing) uv_read_stop((uv_stream_t *)&c->tcp);
}

void sio__conn_resume(sio__conn_t *c) {
  if (c->reading || c->closing) return;
  c->reading = 1;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- accepting and closing ---- */

sio__conn_t *sio__conn_accept(sio__io_t *io, uv_stream_t *server, const sio__conn_proto_t *proto) {
  sio__conn_t *c = sio__calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  if (uv_tcp_init(io->loop, &c->tcp) != 0) {
    sio__free(c);
    return NULL;
  }
  c->tcp.data = c;
  c->io = io;
  c->proto = proto;
  sio__list_init(&c->flush_link);
  sio__tnode_init(&c->timeout);
  sio__list_insert_tail(&io->conns, &c->all_link);
  io->nconns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    c->proto = NULL;
    sio__conn_close(c, 0);
    return NULL;
  }
  /* TCP_NODELAY comes from the listener (sio_http_listen): accepted sockets inherit it. */
  c->reading = 1;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  return c;
}

const char *sio__conn_peer(sio__conn_t *c) {
  sio__io_t *io = c->io;
  if (io->peer_of == c) return io->peer;
  struct sockaddr_storage ss;
  int sl = sizeof ss;
  char ip[46];
  io->peer_of = c;
  snprintf(io->peer, sizeof io->peer, "?");
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) != 0) return io->peer;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    if (uv_ip6_name(a, ip, sizeof ip) == 0) snprintf(io->peer, sizeof io->peer, "[%s]:%d", ip, ntohs(a->sin6_port));
  } else if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    if (uv_ip4_name(a, ip, sizeof ip) == 0) snprintf(io->peer, sizeof io->peer, "%s:%d", ip, ntohs(a->sin_port));
  }
  return io->peer;
}

/* ---- output segment arrays ---- */

/* The cache class of an array of cap entries, or -1 when it is not cached. */
static int seg_class(uint32_t cap) {
  for (int k = 0; k < SIO__SEG_CLASSES; k++) {
    if (cap == (uint32_t)SEGS_MIN << k) return k;
  }
  return -1;
}

static sio__wseg_t *segs_take(sio__io_t *io, uint32_t cap) {
  int k = seg_class(cap);
  void *p = k >= 0 ? io->seg_cache[k] : NULL;
  if (p == NULL) return sio__malloc(cap * sizeof(sio__wseg_t));
  io->seg_cache[k] = *(void **)p;
  io->seg_cached -= cap * sizeof(sio__wseg_t);
  return p;
}

static void segs_put(sio__io_t *io, sio__wseg_t *p, uint32_t cap) {
  int k = seg_class(cap);
  if (k < 0 || io->seg_cached + cap * sizeof *p > SEG_CACHE_BYTES) {
    sio__free(p);
    return;
  }
  *(void **)p = io->seg_cache[k];
  io->seg_cache[k] = p;
  io->seg_cached += cap * sizeof *p;
}

/* Releases c's (empty) segment array. */
static void segs_give(sio__conn_t *c) {
  if (c->out) segs_put(c->io, c->out, c->out_cap);
  c->out = NULL;
  c->out_cap = c->out_head = 0;
}

static void drop_output(sio__conn_t *c, uint32_t from) {
  for (uint32_t i = from; i < c->out_n; i++) sio__refbuf_unref(c->out[c->out_head + i].rb);
  c->out_n = from;
}

static void on_conn_closed(uv_handle_t *h) {
  sio__conn_t *c = h->data;
  sio__io_t *io = c->io;
  drop_output(c, 0);
  if (c->tls == NULL) sio__free(c->wreq); /* (a union with tls_inflight) */
  sio__tls_free(c->tls);
  segs_give(c);
  sio__free(c->in);
  sio__list_remove(&c->all_link);
  io->nconns--;
  if (io->peer_of == c) io->peer_of = NULL;
  sio__free(c);
  maybe_finish_close(io);
}

void sio__conn_close(sio__conn_t *c, int after_flush) {
  if (c->closing) return;
  if (after_flush && (c->out_n > 0 || c->tls)) {
    /* Let the flusher write what is queued (and TLS its close_notify); it closes when
     * everything is written. */
    c->close_after_flush = 1;
    sio__conn_pause(c);
    /* The protocol's timeouts are over; this one bounds the wait for the peer. */
    sio__tlist_arm(&c->io->linger, &c->timeout);
    if (c->tls && !sio__list_linked(&c->flush_link)) {
      sio__list_insert_tail(&c->io->flush_list, &c->flush_link);
      uv_idle_start(&c->io->kicker, on_kick);
    }
    return;
  }
  c->closing = 1;
  sio__tnode_disarm(&c->timeout);
  sio__list_remove(&c->flush_link);
  if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
  if (c->proto && c->proto->on_close) c->proto->on_close(c);
  c->proto = NULL;
  /* Output not handed to a pending uv_write can go now; in-flight segments stay until the
   * write callback, which libuv runs (with UV_ECANCELED) before the close callback. */
  drop_output(c, c->inflight);
  if (c->io->closing) {
    close_handle(c);
    return;
  }
  /* The handle is closed in the check phase: libuv's uv_close from inside a poll callback
   * scans that poll's whole batch of ready events for the descriptor (thousands of
   * instructions per close under load), and outside of it there is no batch to scan. */
  sio__list_insert_tail(&c->io->close_list, &c->flush_link);
  uv_idle_start(&c->io->kicker, on_kick);
}

void sio__conn_abort(sio__conn_t *c) {
  /* A graceful close in progress becomes a hard one; a closed connection whose handle
   * waits for the check phase is reset there. */
  c->reset = 1;
  c->close_after_flush = 0;
  sio__conn_close(c, 0);
}

/* ---- writing ---- */

static int push_seg(sio__conn_t *c, sio__refbuf_t *rb, size_t off, size_t len) {
  if (c->closing || c->close_after_flush) return SIO_ECLOSED;
  if (c->out_head + c->out_n == c->out_cap) {
    if (c->out_head > 0 && c->out_head >= c->inflight && c->inflight == 0) {
      memmove(c->out, c->out + c->out_head, c->out_n * sizeof *c->out);
      c->out_head = 0;
    }
    if (c->out_head + c->out_n == c->out_cap) {
      uint32_t cap = c->out_cap ? c->out_cap * 2 : SEGS_MIN;
      sio__wseg_t *p = segs_take(c->io, cap);
      if (p == NULL) return SIO_ENOMEM;
      if (c->out) {
        memcpy(p, c->out + c->out_head, c->out_n * sizeof *p);
        segs_put(c->io, c->out, c->out_cap);
      }
      c->out = p;
      c->out_cap = cap;
      c->out_head = 0;
    }
  }
  c->out[c->out_head + c->out_n++] = (sio__wseg_t){rb, (uint32_t)off, (uint32_t)len};
  c->out_bytes += len;
  if (!sio__list_linked(&c->flush_link) && c->inflight == 0) {
    sio__list_insert_tail(&c->io->flush_list, &c->flush_link);
    /* Keep the loop from blocking in poll so the check phase runs this turn. */
    uv_idle_start(&c->io->kicker, on_kick);
  }
  return 0;
}

int sio__conn_write_ref(sio__conn_t *c, sio__refbuf_t *rb, size_t off, size_t len) {
  if (len == 0) return 0;
  if (len > UINT32_MAX) return SIO_ETOOBIG;
  int r = push_seg(c, rb, off, len);
  if (r == 0) sio__refbuf_ref(rb);
  return r;
}

int sio__conn_write(sio__conn_t *c, const void *data, size_t len) {
  if (len == 0) return 0;
  if (c->closing || c->close_after_flush) return SIO_ECLOSED;
  sio__refbuf_t *rb = sio__refbuf_from(0, data, len);
  if (rb == NULL) return SIO_ENOMEM;
  int r = push_seg(c, rb, 0, len);
  if (r) sio__refbuf_unref(rb);
  return r;
}

/* Drops the first n bytes of the queue (written), releasing whole segments. */
static void consume_out(sio__conn_t *c, size_t n) {
  c->out_bytes -= n;
  while (n > 0 && c->out_n > 0) {
    sio__wseg_t *s = &c->out[c->out_head];
    if (n < s->len) {
      s->off += (uint32_t)n;
      s->len -= (uint32_t)n;
      return;
    }
    n -= s->len;
    sio__refbuf_unref(s->rb);
    c->out_head++;
    c->out_n--;
  }
  if (c->out_n == 0) c->out_head = 0;
}

static void flush_conn(sio__conn_t *c);

static void on_write(uv_write_t *req, int status) {
  sio__conn_t *c = req->data;
  /* Only a connection the kernel could not keep up with needs a write request: let it go
   * rather than keep ~200 bytes per connection that once had a full socket. */
  sio__free(req);
  c->wreq = NULL;
  /* The in-flight segments are the first `inflight` ones; all were written (or failed). */
  size_t bytes = 0;
  for (uint32_t i = 0; i < c->inflight; i++) bytes += c->out[c->out_head + i].len;
  uint32_t n = c->inflight;
  c->inflight = 0;
  if (c->closing) {
    for (uint32_t i = 0; i < n; i++) sio__refbuf_unref(c->out[c->out_head + i].rb);
    c->out_head += n;
    c->out_n -= n;
    return;
  }
  if (status < 0) {
    SIO_LOGD("%s: write error: %s", sio__conn_peer(c), uv_strerror(status));
    sio__conn_close(c, 0);
    return;
  }
  consume_out(c, bytes);
  flush_conn(c);
}

/* ---- TLS output: encrypt the queue, write the ciphertext ---- */

typedef struct {
  uv_write_t req;
  sio__conn_t *c;
  size_t len;
  char data[];
} tls_wreq_t;

static void finish_close_if_flushed(sio__conn_t *c) {
  if (c->close_after_flush && c->out_n == 0 && c->tls_inflight == 0) {
    c->close_after_flush = 0;
    sio__conn_close(c, 0);
  }
}

static void on_tls_write(uv_write_t *req, int status) {
  tls_wreq_t *w = req->data;
  sio__conn_t *c = w->c;
  c->tls_inflight -= w->len;
  sio__free(w);
  if (c->closing) return;
  if (status < 0) {
    sio__conn_close(c, 0);
    return;
  }
  finish_close_if_flushed(c);
}

static int tls_send_pending(sio__conn_t *c) {
  size_t n = sio__tls_pending(c->tls);
  if (n == 0) return 0;
  tls_wreq_t *w = sio__malloc(sizeof *w + n);
  if (w == NULL) return SIO_ENOMEM;
  n = sio__tls_take(c->tls, w->data, n);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
  /* uv_try_write answers EAGAIN while an earlier uv_write is queued, so order holds. */
  int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (r == UV_EAGAIN) r = 0;
  if (r < 0 || (size_t)r == n) {
    sio__free(w);
    return r < 0 ? r : 0;
  }
  b = uv_buf_init(w->data + r, (unsigned)(n - (size_t)r));
  w->c = c;
  w->len = n - (size_t)r;
  w->req.data = w;
  if ((r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_tls_write)) != 0) {
    sio__free(w);
    return r;
  }
  c->tls_inflight += w->len;
  return 0;
}

static void flush_tls(sio__conn_t *c) {
  while (c->out_n > 0) {
    sio__wseg_t *s = &c->out[c->out_head];
    if (sio__tls_encrypt(c->tls, s->rb->data + s->off, s->len) != 0) {
      sio__conn_close(c, 0);
      return;
    }
    consume_out(c, s->len);
  }
  segs_give(c);
  if (c->close_after_flush) sio__tls_shutdown(c->tls);
  if (tls_send_pending(c) != 0) {
    sio__conn_close(c, 0);
    return;
  }
  if (c->close_after_flush) {
    finish_close_if_flushed(c);
    return;
  }
  if (c->proto && c->proto->on_drain) c->proto->on_drain(c);
}

static void flush_conn(sio__conn_t *c) {
  if (c->tls) {
    if (!c->closing) flush_tls(c);
    return;
  }
  while (c->out_n > 0 && !c->closing) {
    uv_buf_t iov[MAX_IOV];
    uint32_t n = c->out_n < MAX_IOV ? c->out_n : MAX_IOV;
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
      sio__wseg_t *s = &c->out[c->out_head + i];
      iov[i] = uv_buf_init(s->rb->data + s->off, s->len);
      total += s->len;
    }
    int w = uv_try_write((uv_stream_t *)&c->tcp, iov, n);
    if (w == UV_EAGAIN) w = 0;
    if (w < 0) {
      SIO_LOGD("%s: write error: %s", sio__conn_peer(c), uv_strerror(w));
      sio__conn_close(c, 0);
      return;
    }
    consume_out(c, (size_t)w);
    if ((size_t)w == total) continue;
    /* The socket is full: hand the rest of this batch to uv_write and wait. */
    n = c->out_n < MAX_IOV ? c->out_n : MAX_IOV;
    for (uint32_t i = 0; i < n; i++) {
      sio__wseg_t *s = &c->out[c->out_head + i];
      iov[i] = uv_buf_init(s->rb->data + s->off, s->len);
    }
    if ((c->wreq = sio__malloc(sizeof *c->wreq)) == NULL) {
      sio__conn_close(c, 0);
      return;
    }
    c->wreq->data = c;
    if (uv_write(c->wreq, (uv_stream_t *)&c->tcp, iov, n, on_write) != 0) {
      sio__conn_close(c, 0);
      return;
    }
    c->inflight = n;
    return;
  }
  if (c->out_n == 0 && !c->closing) {
    segs_give(c);
    if (c->close_after_flush) {
      c->close_after_flush = 0;
      sio__conn_close(c, 0);
      return;
    }
    if (c->proto && c->proto->on_drain) c->proto->on_drain(c);
  }
}

static void on_flush(uv_check_t *h) {
  sio__io_t *io = h->data;
  /* Detach the list first: flushing may queue more output (on_drain) for the next turn. */
  while (!sio__list_empty(&io->flush_list)) {
    sio__conn_t *c = sio__container_of(io->flush_list.next, sio__conn_t, flush_link);
    sio__list_remove(&c->flush_link);
    if (c->inflight == 0) flush_conn(c);
  }
  close_deferred(io);
  if (sio__list_empty(&io->flush_list)) uv_idle_stop(&io->kicker);
}
