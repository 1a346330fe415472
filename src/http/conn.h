/*
 * sio__conn_t: one accepted TCP connection and its output queue.
 *
 * Reading: data arrives in a loop-wide 64 KiB buffer and goes to the current protocol
 * (HTTP, then maybe WebSocket) without a copy; only an incomplete tail (a partial
 * request or frame) is kept in a per-connection buffer, so an idle connection holds no
 * input memory.
 *
 * Writing: the queue holds references to refcounted byte ranges (sio__refbuf_t), so a
 * broadcast frame encoded once is queued on N connections without copies. Queued bytes
 * are written once per loop turn (a uv_check handle "corks" them): many packets become
 * one writev. Layer: http (below ws and engine); no protocol knowledge here.
 */
#ifndef SIO_HTTP_CONN_H
#define SIO_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/list.h"
#include "common/refbuf.h"
#include "common/tlist.h"

typedef struct sio__conn_s sio__conn_t;
typedef struct sio__io_s sio__io_t;

typedef struct {
  /* Bytes arrived (data is writable, valid during the call). Return how many were
   * consumed; the rest is kept and offered again with the next bytes. Return a negative
   * value after calling sio__conn_close() to stop. The protocol may switch c->proto
   * during the call; the remaining bytes then go to the new protocol. */
  long (*on_data)(sio__conn_t *c, char *data, size_t len);
  /* The connection is closed (peer, error or sio__conn_close); free protocol state.
   * Called once; the conn is freed right after. */
  void (*on_close)(sio__conn_t *c);
  /* Optional: the output queue was fully written. */
  void (*on_drain)(sio__conn_t *c);
} sio__conn_proto_t;

typedef struct {
  sio__refbuf_t *rb;
  uint32_t off;
  uint32_t len;
} sio__wseg_t;

struct sio__conn_s {
  uv_tcp_t tcp;
  sio__io_t *io;
  const sio__conn_proto_t *proto;
  void *proto_data;
  struct sio__conn_in_s *in; /* unconsumed input (conn.c); NULL (no memory) most of the time */
  sio__wseg_t *out;       /* output segments: [out_head, out_head+out_n) */
  uint32_t out_cap, out_head, out_n;
  uint32_t inflight;      /* segments handed to a pending uv_write */
  size_t out_bytes;       /* bytes queued and not yet written */
  union {
    uv_write_t *wreq;     /* plain: allocated while a uv_write is pending */
    size_t tls_inflight;  /* TLS: ciphertext bytes handed to uv_write */
  };
  sio__list_t flush_link; /* in io->flush_list while output waits for the next flush, or
                             in io->close_list once closed */
  sio__list_t all_link;   /* in io->conns */
  sio__tnode_t timeout;   /* header/idle timeouts of the protocol */
  struct sio__tls_s *tls; /* TLS state when serving HTTPS, else NULL */
  uint8_t closing;
  uint8_t reading;
  uint8_t close_after_flush;
  uint8_t reset;          /* close with an RST (sio__conn_abort): nothing more is sent */
};

/* How long a graceful close may wait for the peer to take queued output. */
#define SIO__CONN_LINGER_MS 5000

/* Size classes of cached output segment arrays: 8, 16, 32, 64 entries. */
#define SIO__SEG_CLASSES 4

/* The loop-wide part: accepted connections, the flush list, the timeout hub. */
struct sio__io_s {
  uv_loop_t *loop;
  uv_check_t flusher;  /* writes queued output after each poll phase */
  uv_idle_t kicker;    /* keeps poll from blocking while output is queued outside I/O callbacks */
  sio__list_t flush_list;
  sio__list_t close_list; /* closed connections whose uv_close waits for the check phase */
  sio__list_t conns;
  uint32_t nconns;
  sio__thub_t thub;
  char *rbuf;          /* the shared read buffer */
  char *pbuf;          /* the shared TLS plaintext buffer (allocated on first use) */
  size_t max_conn_out; /* output bytes above which a connection is a slow consumer */
  sio__tlist_t linger; /* graceful closes waiting to flush: hard close at the deadline */
  int closing;
  void (*on_closed)(sio__io_t *io); /* after sio__io_close finished */
  void *data;
  void *seg_cache[SIO__SEG_CLASSES]; /* spare output segment arrays by size (conn.c) */
  size_t seg_cached;    /* bytes in seg_cache */
  sio__conn_t *peer_of; /* whose address peer holds (sio__conn_peer), or NULL */
  char peer[64];        /* "[v6 address]:port" fits */
};

int sio__io_init(sio__io_t *io, uv_loop_t *loop);
/* Closes every connection and the io handles; on_closed fires when all are gone. */
void sio__io_close(sio__io_t *io, void (*on_closed)(sio__io_t *io));

/* Accepts a pending connection from server into a new conn with proto. Returns the conn
 * or NULL (the pending connection is then dropped). */
sio__conn_t *sio__conn_accept(sio__io_t *io, uv_stream_t *server, const sio__conn_proto_t *proto);

/* Queues bytes (copied) for the next flush. Returns 0, SIO_ECLOSED or SIO_ENOMEM. */
int sio__conn_write(sio__conn_t *c, const void *data, size_t len);
/* Queues a reference to rb's bytes [off, off+len) (takes a new reference). */
int sio__conn_write_ref(sio__conn_t *c, sio__refbuf_t *rb, size_t off, size_t len);
/* Closes: queued output is dropped unless after_flush, in which case it is written first,
 * for at most SIO__CONN_LINGER_MS: a peer that does not take it by then is reset
 * (sio__conn_abort), so a non-reading peer cannot keep megabytes and a descriptor. */
void sio__conn_close(sio__conn_t *c, int after_flush);
/* Closes hard: drops queued output (even of a graceful close in progress) and resets the
 * TCP connection (RST) instead of a FIN queued behind unread bytes. For slow consumers. */
void sio__conn_abort(sio__conn_t *c);
void sio__conn_pause(sio__conn_t *c);
void sio__conn_resume(sio__conn_t *c);
/* Offers buffered unconsumed input to the protocol again (after a resume or a switch). */
void sio__conn_replay(sio__conn_t *c);

/* The peer's "ip:port" ("[ip]:port" for IPv6; "?" when unknown, e.g. after a reset),
 * for logs and handshakes. Connections keep no copy (48 bytes each, and a syscall per
 * accept when nobody asks): it is read with getpeername on demand into one loop-wide
 * buffer. Borrowed: valid until the address of another connection is asked for. */
const char *sio__conn_peer(sio__conn_t *c);

static inline size_t sio__conn_queued(const sio__conn_t *c) { return c->out_bytes + (c->tls ? c->tls_inflight : 0); }

#endif
