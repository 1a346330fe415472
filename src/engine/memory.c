/*
 * An in-memory Engine.IO transport: the seam that lets unit tests drive the Socket.IO
 * layer without sockets (socketioxide's io.rs test utilities do the same). The test
 * plays the client: sio__eio_memory_feed delivers Engine.IO packets (Engine.IO v4
 * "Packet encoding": text "<type><data>", binary messages as raw bytes) and every packet
 * the server sends reaches the test's peer callback at once, in order, in the form a
 * WebSocket frame would carry. The session is a normal one otherwise: heartbeat, sid
 * map, close reasons and the engine callbacks all run as over polling or WebSocket.
 * Never used by the servers themselves; HTTP requests cannot reach a memory session.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "engine/engine_int.h"

struct sio__eio_memory_s {
  sio__eio_memory_peer_t peer;
  int stalled;
};

sio_eio_t *sio__eio_new_memory(sio_engine_t *e, const sio__eio_memory_peer_t *peer) {
  if (e->shutting_down) return NULL; /* as the HTTP handshake refuses (503) */
  struct sio__eio_memory_s *m = sio__malloc(sizeof *m);
  if (m == NULL) return NULL;
  m->peer = *peer;
  m->stalled = 0;
  sio_eio_t *s = sio__eio_new_bare(e, SIO__EIO_MEMORY);
  if (s == NULL) {
    sio__free(m);
    return NULL;
  }
  s->mem = m;
  SIO_LOGD("engine: session %s opened (memory)", s->id);
  /* on_open may close the session (OOM above us): hold it to look at its state after. */
  sio__eio_ref(s);
  if (e->cbs.on_open) e->cbs.on_open(s, e->user);
  int open = s->state == SIO__EIO_S_OPEN;
  sio__eio_unref(s);
  return open ? s : NULL;
}

/* Handed to the peer at once, unless the peer plays a client that stopped reading: then
 * packets queue like polling without a GET. */
static int memory_send(sio_eio_t *s, sio__refbuf_t *rb, int binary) {
  if (s->mem->stalled) return sio__eio_polling_queue(s, rb, binary);
  int r = sio__eio_fits(s, rb->len, s->qbytes);
  if (r) return r;
  const sio__eio_memory_peer_t *p = &s->mem->peer;
  if (p->on_packet) p->on_packet(p->user, binary & SIO__EIO_SEND_BINARY, sio__refbuf_ptr(rb), rb->len);
  return 0;
}

static size_t memory_queued(const sio_eio_t *s) { return s->qbytes; }
static int memory_writable(const sio_eio_t *s) { return 1; } /* delivered synchronously */
static int memory_close_waits(const sio_eio_t *s) { return 0; }

const sio__eio_transport_t sio__eio_memory_transport = {
    "memory", "reading", memory_send, memory_queued, memory_writable, memory_close_waits, 0,
};

void sio__eio_memory_stall(sio_eio_t *s, int stalled) { s->mem->stalled = stalled; }

void sio__eio_memory_closed(sio_eio_t *s, const char *reason) {
  const sio__eio_memory_peer_t *p = &s->mem->peer;
  if (p->on_close) p->on_close(p->user, reason);
}

int sio__eio_memory_feed(sio_eio_t *s, int binary, const char *data, size_t len) {
  if (s->state != SIO__EIO_S_OPEN) return SIO_ECLOSED;
  if (len > s->eng->opts.max_http_buffer_size) {
    sio__eio_close(s, "transport error");
    return SIO_ETOOBIG;
  }
  /* The engine callbacks get a writable buffer (the transports decode in place). */
  char *copy = sio__malloc(len);
  if (copy == NULL) return SIO_ENOMEM;
  if (len) memcpy(copy, data, len);
  sio__eio_packet_t p;
  int r = 0;
  if (binary) {
    sio__eio_decode_binary(copy, len, &p);
  } else if (sio__eio_decode_text(copy, len, &p) != 0) {
    SIO_LOGD("engine: session %s sent a malformed packet, closing", s->id);
    sio__eio_close(s, "parse error");
    r = SIO_EPROTO;
  }
  if (r == 0) {
    sio__eio_ref(s);
    sio__eio_on_packet(s, &p);
    sio__eio_unref(s);
  }
  sio__free(copy);
  return r;
}

void sio__eio_memory_close(sio_eio_t *s) { sio__eio_close(s, "transport close"); }
