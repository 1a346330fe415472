/*
 * Engine.IO sessions (engine.io lib/socket.ts): creation with a copy of the handshake
 * request, the send path, the heartbeat (server pings every pingInterval and waits
 * pingTimeout for the pong, Engine.IO v4), and close.
 *
 * Lifetime: a session is referenced by the sid map while open and by callbacks in
 * progress (refs). sio__eio_close() runs on_close once; memory goes when refs drop to 0,
 * so a transport callback never touches freed memory after a close it caused.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "engine/engine_int.h"
#include "http/server.h"
#include "ws/conn.h"

/* ---- the handshake copy ----
 *
 * Socket.IO exposes the first request's url, query, address and headers for the life of
 * the session, so they are copied into the session's own allocation, as compactly as
 * stays simple: names of common headers become one byte (below 0x20, which no header
 * name starts with), everything else is name NUL value NUL. */

static const char *const common_names[] = {
    NULL, /* 0 terminates strings, so codes start at 1 */
    "host", "connection", "upgrade", "sec-websocket-key", "sec-websocket-version",
    "sec-websocket-extensions", "sec-websocket-protocol", "user-agent", "origin", "accept",
    "accept-encoding", "accept-language", "cache-control", "pragma", "cookie", "referer",
    "authorization", "content-type", "content-length", "x-forwarded-for", "x-forwarded-proto",
    "x-forwarded-host", "x-real-ip", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
    "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "dnt", "priority",
};
#define NCOMMON (sizeof common_names / sizeof common_names[0])
_Static_assert(NCOMMON <= 32, "header codes must stay below 0x20");

/* The code of a common header name, or 0. */
static unsigned name_code(sio_str_t name) {
  for (unsigned i = 1; i < NCOMMON; i++) {
    if (name.ptr[0] == common_names[i][0] && strlen(common_names[i]) == name.len &&
        memcmp(common_names[i], name.ptr, name.len) == 0) {
      return i;
    }
  }
  return 0;
}

/* Measures (out == NULL) or writes the headers part of the copy. */
typedef struct {
  char *out;
  size_t len;
} hs_copy_t;

static void hs_put(hs_copy_t *h, const void *data, size_t len) {
  if (h->out) memcpy(h->out + h->len, data, len);
  h->len += len;
}

static void copy_header(sio_str_t name, sio_str_t value, void *u) {
  hs_copy_t *h = u;
  unsigned code = name.len ? name_code(name) : 0;
  if (code) {
    char c = (char)code;
    hs_put(h, &c, 1);
  } else {
    hs_put(h, name.ptr, name.len);
    hs_put(h, "", 1);
  }
  hs_put(h, value.ptr, value.len);
  hs_put(h, "", 1);
}

/* Reads the header at p: fills name and value, returns the next header. */
static const char *next_header(const char *p, sio_str_t *name, sio_str_t *value) {
  if ((unsigned char)*p < NCOMMON && *p != '\0') {
    const char *n = common_names[(unsigned char)*p++];
    *name = (sio_str_t){n, strlen(n)};
  } else {
    size_t nl = strlen(p);
    *name = (sio_str_t){p, nl};
    p += nl + 1;
  }
  size_t vl = strlen(p);
  *value = (sio_str_t){p, vl};
  return p + vl + 1;
}

sio__refbuf_t *sio__eio_packet_new(int type, const void *data, size_t len) {
  sio__refbuf_t *rb = sio__refbuf_new(SIO__EIO_HEADROOM, len + 1);
  if (rb == NULL) return NULL;
  char *p = sio__refbuf_ptr(rb);
  p[0] = (char)('0' + type);
  if (len) memcpy(p + 1, data, len);
  return rb;
}

sio__refbuf_t *sio__eio_binary_new(const void *data, size_t len) {
  return sio__refbuf_from(SIO__EIO_HEADROOM, data, len);
}

/* The transport-independent part of a new session, with room for an hs_len-byte
 * handshake copy (the caller fills s->hs): registers it in the sid map with the map's
 * reference and starts its heartbeat. Returns NULL on OOM. */
static sio_eio_t *session_open(sio_engine_t *e, int transport, size_t hs_len, uint16_t nhdr) {
  if (hs_len > UINT32_MAX) return NULL;
  sio_eio_t *s = sio__calloc(1, offsetof(sio_eio_t, hs) + hs_len);
  if (s == NULL || sio__sid_generate(s->id) != 0) goto fail;
  s->eng = e;
  s->transport = (uint8_t)transport;
  SIO__COUNT(e->m.opened[transport]++);
  sio__tnode_init(&s->hb);
  sio__tnode_init(&s->upgrade_to);
  sio__list_init(&s->flush_link);
  s->hs_len = (uint32_t)hs_len;
  s->hs_nhdr = nhdr;
  if (sio__map_put(&e->sessions, s->id, SIO__SID_LEN, s) != 0) goto fail;
  s->refs = 1; /* the map's reference */
  sio__eio_heartbeat_start(s);
  return s;
fail:
  sio__free(s);
  return NULL;
}

sio_eio_t *sio__eio_new(sio_engine_t *e, sio_http_req_t *req, int transport) {
  sio_str_t path = sio_http_req_path(req);
  sio_str_t q = sio_http_req_query(req);
  const char *peer = sio_http_req_peer(req);
  const char *colon = strrchr(peer, ':');
  size_t plen = colon ? (size_t)(colon - peer) : strlen(peer);
  if (plen >= 2 && peer[0] == '[') peer++, plen -= 2; /* "[::1]:port" -> "::1" */
  /* Two passes over the headers (measure, then copy) instead of a growing buffer: the
   * copy is sized exactly and lives in the session's own allocation. */
  hs_copy_t h = {NULL, 0};
  sio_http_req_headers(req, copy_header, &h);
  size_t head = path.len + 1 + q.len + 1 + plen + 1;
  sio_eio_t *s = session_open(e, transport, head + h.len, (uint16_t)sio__http_req_nheaders(req));
  if (s == NULL) return NULL;
  /* The request target too (Socket.IO's handshake.url); the raw path has no '?', so the
   * first '?' of the copy starts the query. */
  h = (hs_copy_t){s->hs, 0};
  hs_put(&h, path.ptr, path.len);
  hs_put(&h, "?", 1);
  hs_put(&h, q.ptr, q.len);
  hs_put(&h, "", 1);
  hs_put(&h, peer, plen);
  hs_put(&h, "", 1);
  sio_http_req_headers(req, copy_header, &h);
  SIO_LOGD("engine: session %s opened (%s) from %.*s", s->id, transport ? "websocket" : "polling", (int)plen, peer);
  return s;
}

sio_eio_t *sio__eio_new_bare(sio_engine_t *e, int transport) {
  /* url "?" (read back as ""), no query, address "", no headers. */
  sio_eio_t *s = session_open(e, transport, 3, 0);
  if (s) memcpy(s->hs, "?\0\0", 3);
  return s;
}

void sio__eio_ref(sio_eio_t *s) { s->refs++; }

static void free_session(sio_eio_t *s) {
  for (uint32_t i = 0; i < s->qn; i++) sio__refbuf_unref(s->q[i].rb);
  sio__free(s->q);
  sio__free(s->mem);
  sio__free(s);
}

void sio__eio_unref(sio_eio_t *s) {
  if (--s->refs == 0) free_session(s);
}

/* ---- heartbeat ---- */

void sio__eio_heartbeat_start(sio_eio_t *s) {
  s->waiting_pong = 0;
  sio__tlist_arm(&s->eng->ping_wait, &s->hb);
}

void sio__eio_ping_due(sio__tnode_t *n) {
  sio_eio_t *s = sio__container_of(n, sio_eio_t, hb);
  if (s->closing || s->doomed) {
    /* A graceful close whose client stopped polling: do not wait any longer. (A doomed
     * session is closed by the check phase; this only catches one whose entry in the
     * doomed list could not be allocated.) */
    sio__eio_close(s, s->doomed ? "transport error" : "forced close");
    return;
  }
  s->waiting_pong = 1;
  sio__tlist_arm(&s->eng->pong_wait, &s->hb);
  sio__eio_send_ref(s, s->eng->ping_pkt, 0);
}

void sio__eio_pong_overdue(sio__tnode_t *n) {
  sio_eio_t *s = sio__container_of(n, sio_eio_t, hb);
  sio__eio_close(s, "ping timeout");
}

/* ---- receiving ---- */

void sio__eio_on_packet(sio_eio_t *s, sio__eio_packet_t *p) {
  if (s->state != SIO__EIO_S_OPEN) return;
  const sio__eio_observer_t *obs = s->eng->obs;
  if (obs && obs->on_packet) {
    /* engine.io's socket emits "packet" first; a listener may close the session. */
    sio__eio_ref(s);
    obs->on_packet(s, sio__eio_type_name(p->type), p->binary, p->data, p->len, s->eng->user);
    int open = s->state == SIO__EIO_S_OPEN;
    sio__eio_unref(s);
    if (!open) return;
  }
  switch (p->type) {
  case SIO__EIO_PONG:
    if (s->waiting_pong) sio__eio_heartbeat_start(s);
    break;
  case SIO__EIO_MESSAGE:
    if (s->eng->cbs.on_message) s->eng->cbs.on_message(s, p->binary, p->data, p->len, s->eng->user);
    break;
  case SIO__EIO_CLOSE:
    sio__eio_close(s, "transport close");
    break;
  case SIO__EIO_NOOP:
  case SIO__EIO_PING: /* v4 clients do not ping; tolerate it like engine.io does */
    break;
  default:
    /* OPEN or UPGRADE on an established transport. */
    SIO_LOGD("engine: session %s sent a %s packet, closing", s->id, sio__eio_type_name(p->type));
    sio__eio_close(s, "parse error");
    break;
  }
}

/* ---- sending ----
 *
 * max_send_queue is checked before a packet is queued, against what the session already
 * holds (the WebSocket's unwritten bytes, or the polling queue), so the queue never
 * passes it. Over the limit, a packet that is too big on its own is refused for this
 * receiver only; otherwise the receiver is not reading and is doomed: marked now, closed
 * in the check phase (server.c), because the sender may be a broadcast loop that must
 * not see close callbacks (which may leave rooms, emit, free sockets) run under it. */

/* Drops the polling queue (a doomed session: nobody will take it). */
static void drop_queue(sio_eio_t *s) {
  for (uint32_t i = 0; i < s->qn; i++) sio__refbuf_unref(s->q[i].rb);
  sio__free(s->q);
  s->q = NULL;
  s->qn = s->qcap = 0;
  s->qbytes = 0;
}

/* Cold path of the limit check: len bytes do not fit next to queued ones. */
static int over_limit(sio_eio_t *s, size_t len, size_t queued) {
  sio_engine_t *e = s->eng;
  size_t limit = e->opts.max_send_queue;
  if (len > limit) {
    if (!e->big_logged) {
      e->big_logged = 1;
      SIO_LOGW("engine: a %zu-byte packet is larger than max_send_queue (%zu) and was not sent (session %s); "
               "send smaller messages or raise max_send_queue (logged once)",
               len, limit, s->id);
    }
    return SIO_ELIMIT;
  }
  SIO_LOGW("engine: session %s is not %s (%zu bytes queued, max_send_queue %zu), closing it (a client that "
           "cannot keep up; raise max_send_queue if yours are only slow)", s->id,
           sio__eio_tp(s)->stall_verb, queued, limit);
  sio__eio_doom(s);
  return SIO_ELIMIT;
}

const sio__eio_transport_t *const sio__eio_transports[3] = {
    [SIO__EIO_POLLING] = &sio__eio_polling_transport,
    [SIO__EIO_WEBSOCKET] = &sio__eio_ws_transport,
    [SIO__EIO_MEMORY] = &sio__eio_memory_transport,
};

int sio__eio_fits(sio_eio_t *s, size_t len, size_t queued) {
  size_t limit = s->eng->opts.max_send_queue;
  return limit && len + queued > limit ? over_limit(s, len, queued) : 0;
}

int sio__eio_check_room(sio_eio_t *s, size_t len) {
  if (s->state != SIO__EIO_S_OPEN) return SIO_ECLOSED;
  if (s->doomed) return SIO_ELIMIT;
  return sio__eio_fits(s, len, sio__eio_tp(s)->queued(s));
}

int sio__eio_send_ref(sio_eio_t *s, sio__refbuf_t *rb, int binary) {
  if (s->state != SIO__EIO_S_OPEN) return SIO_ECLOSED;
  if (s->doomed) return SIO_ELIMIT;
  int r = sio__eio_tp(s)->send(s, rb, binary);
  if (r == 0 && s->drain_watch) {
    /* The drain event comes in the check phase (server.c on_flush), never inside a send. */
    s->drain_due = 1;
    sio__eio_schedule_flush(s);
  }
  return r;
}

void sio__eio_watch_drain(sio_eio_t *s) { s->drain_watch = 1; }

int sio_eio_send(sio_eio_t *s, int binary, const void *data, size_t len) {
  if (s->state != SIO__EIO_S_OPEN) return SIO_ECLOSED;
  sio__refbuf_t *rb = binary ? sio__eio_binary_new(data, len) : sio__eio_packet_new(SIO__EIO_MESSAGE, data, len);
  if (rb == NULL) return SIO_ENOMEM;
  int r = sio__eio_send_ref(s, rb, binary);
  sio__refbuf_unref(rb);
  return r;
}

/* ---- closing ---- */

void sio__eio_close(sio_eio_t *s, const char *reason) {
  if (s->state != SIO__EIO_S_OPEN) return;
  sio_engine_t *e = s->eng;
  s->state = SIO__EIO_S_CLOSED;
  sio__tnode_disarm(&s->hb);
  sio__tnode_disarm(&s->upgrade_to);
  sio__list_remove(&s->flush_link);
  sio__map_del(&e->sessions, s->id, SIO__SID_LEN);
  SIO_LOGD("engine: session %s closed (%s)", s->id, reason);
  /* A slow consumer's backlog goes now, not when the last reference does. */
  if (s->doomed) drop_queue(s);
  /* A pending long-poll learns about the close from a close packet, as in engine.io,
   * after whatever was still queued for it. */
  if (s->poll_req) sio__eio_polling_answer_close(s);
  int probe_ref = 0;
  if (s->ws) {
    sio_ws_t *ws = s->ws;
    s->ws = NULL;
    sio_ws_set_user(ws, NULL);
    /* A probe held a reference; its callbacks no longer see us, so drop it here. */
    probe_ref = s->probing;
    s->probing = 0;
    /* A slow consumer gets no close handshake (it would wait behind megabytes the
     * client does not read): the connection is reset and its queue freed. */
    if (s->doomed) sio__ws_abort(ws);
    else sio_ws_close(ws, 1000);
  }
  s->refs++;
  if (s->mem) sio__eio_memory_closed(s, reason); /* the test's peer learns it first */
  if (e->cbs.on_close) e->cbs.on_close(s, reason, e->user);
  s->refs--;
  if (probe_ref) sio__eio_unref(s);
  sio__eio_unref(s); /* the map's reference */
}

void sio_eio_close(sio_eio_t *s) { sio__eio_close(s, "forced close"); }

void sio__eio_close_graceful(sio_eio_t *s) {
  if (s->state != SIO__EIO_S_OPEN) return;
  /* engine.io waits for its write buffer to drain, then closes the transport; polling
   * sends the close packet on a GET, the pending one or the next. Sending queue and close
   * in one payload would not do: engine.io-client handles the close packet at once,
   * before socket.io-client (which defers each decoded packet to a microtask) has seen
   * the packets ahead of it, so a Socket.IO DISCONNECT would read as "transport close".
   * Without a pending GET (between two polls, or paused for an upgrade) closing now would
   * leave the client nothing to learn it from. */
  if (sio__eio_tp(s)->close_waits(s)) {
    s->closing = 1;
    return;
  }
  sio__eio_close(s, "forced close");
}

/* ---- accessors ---- */

const char *sio_eio_id(const sio_eio_t *s) { return s->id; }
const char *sio_eio_transport(const sio_eio_t *s) { return sio__eio_tp(s)->name; }
void sio_eio_set_data(sio_eio_t *s, void *data) { s->data = data; }
void *sio_eio_get_data(const sio_eio_t *s) { return s->data; }

sio_str_t sio_eio_query(const sio_eio_t *s) {
  const char *q = strchr(s->hs, '?') + 1; /* always there: see sio__eio_new */
  return (sio_str_t){q, strlen(q)};
}

sio_str_t sio__eio_url(const sio_eio_t *s) {
  size_t n = strlen(s->hs);
  /* "path?" with an empty query is printed as the path alone, as the client sent it. */
  if (n > 0 && s->hs[n - 1] == '?') n--;
  return (sio_str_t){s->hs, n};
}

int sio__eio_writable(const sio_eio_t *s) {
  if (s->state != SIO__EIO_S_OPEN || s->doomed) return 0;
  return sio__eio_tp(s)->writable(s);
}

const char *sio_eio_address(const sio_eio_t *s) { return s->hs + strlen(s->hs) + 1; }

void sio_eio_headers(const sio_eio_t *s, void (*cb)(sio_str_t, sio_str_t, void *), void *u) {
  const char *p = sio_eio_address(s);
  p += strlen(p) + 1;
  for (uint16_t i = 0; i < s->hs_nhdr && p < s->hs + s->hs_len; i++) {
    sio_str_t name, value;
    p = next_header(p, &name, &value);
    cb(name, value, u);
  }
}

typedef struct {
  const char *want;
  sio_str_t *out;
  int found;
} find_t;

static void find_header(sio_str_t name, sio_str_t value, void *u) {
  find_t *f = u;
  if (!f->found && name.len == strlen(f->want) && memcmp(name.ptr, f->want, name.len) == 0) {
    *f->out = value;
    f->found = 1;
  }
}

int sio__eio_header(const sio_eio_t *s, const char *lname, sio_str_t *out) {
  find_t f = {lname, out, 0};
  sio_eio_headers(s, find_header, &f);
  return f.found;
}
