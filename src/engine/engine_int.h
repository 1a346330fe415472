/*
 * The engine's own structs (src/engine only): the session, the server and the
 * per-transport table. The Socket.IO layer sees sessions only through engine.h's
 * functions and include/sio/engine.h, so these layouts can change freely.
 */
#ifndef SIO_ENGINE_ENGINE_INT_H
#define SIO_ENGINE_ENGINE_INT_H

#include "common/count.h"
#include "engine/engine.h"

typedef struct {
  sio__refbuf_t *rb; /* the packet: "<digit><data>" for text, raw bytes for binary */
  uint8_t binary;
} sio__eio_qent_t;

/* One allocation: the struct, then the handshake copy (hs). */
struct sio_eio_s {
  char id[SIO__SID_LEN + 1];
  uint8_t state;
  uint8_t transport;
  uint8_t probing;        /* a WebSocket probe is attached (upgrade in progress) */
  uint8_t waiting_pong;   /* hb is on the pong list */
  uint8_t probe_acked;    /* the probe answered "3probe": the client is pausing polling */
  uint8_t closing;        /* sio__eio_close_graceful is waiting to deliver the close */
  uint8_t upgraded;       /* moved from polling to WebSocket */
  uint8_t doomed;         /* a slow consumer: sends refused, closed hard in the check phase */
  uint8_t drain_watch : 1; /* the observer wants drain events (sio__eio_watch_drain) */
  uint8_t drain_due : 1;   /* sent since the last drain event */
  uint32_t refs;          /* held by callbacks in progress; freed at 0 once closed */
  sio_engine_t *eng;
  sio_http_req_t *poll_req; /* the pending long-poll GET */
  sio_ws_t *ws;             /* the WebSocket transport, or the probe while probing */
  sio__eio_qent_t *q;       /* polling send queue */
  uint32_t qn, qcap;
  size_t qbytes;
  sio__tnode_t hb;          /* heartbeat: waiting to ping, or waiting for the pong */
  sio__tnode_t upgrade_to;  /* armed while probing */
  sio__list_t flush_link;   /* in eng->flush_list while a GET can be answered, or a drain
                               event is due (drain_due) */
  void *data;
  struct sio__eio_memory_s *mem; /* the memory transport's peer (memory.c), else NULL */
  uint32_t hs_len;
  uint16_t hs_nhdr;
  /* The handshake copy: "path?query" NUL, address NUL, then per header either a byte
   * 1..31 naming a common header (socket.c's table) or name NUL, then value NUL. */
  char hs[];
};

struct sio_engine_s {
  sio_http_t *http;
  char *path;
  sio_engine_opts_t opts;
  char *cors;               /* owned copy of opts.cors_origins */
  sio__eio_cors_t corsc;    /* what CORS answers (cors.c) */
  sio_engine_cbs_t cbs;
  const sio__eio_observer_t *obs; /* socket.conn's events for the Socket.IO layer, or NULL */
  sio__list_t verdicts;     /* allow_request verdicts not given yet (hooks.c) */
  char *cookie;             /* "io=" + "; Path=/; HttpOnly; SameSite=Lax", or NULL */
  uint32_t cookie_attrs_at; /* where the attributes start in cookie */
  void *user;
  sio__map_t sessions;      /* id -> sio_eio_t* */
  sio__tlist_t ping_wait;   /* pingInterval */
  sio__tlist_t pong_wait;   /* pingTimeout */
  sio__tlist_t upgrade_wait;/* upgradeTimeout */
  uv_check_t flusher;
  uv_idle_t kicker;
  sio__list_t flush_list;
  sio__refbuf_t *ping_pkt;  /* the shared "2" packet */
  sio_eio_t **doomed;       /* slow consumers to close in the check phase (a ref each) */
  uint32_t ndoomed, doomed_cap;
  uint8_t big_logged;       /* the "packet larger than max_send_queue" warning was given */
  sio__eio_counters_t m;    /* stats.c; loop thread only */
  int shutting_down;
  sio__http_closer_t closer; /* engine_teardown at sio_http_close */
};

/* What differs between transports: socket.c and server.c ask the session's table instead
 * of branching on its transport, and each transport's file defines its own table. */
typedef struct {
  const char *name;        /* sio_eio_transport(): "polling", "websocket", "memory" */
  const char *stall_verb;  /* what a slow consumer stopped doing, for the log */
  /* Queues rb (takes a new reference), after the max_send_queue check
   * (sio__eio_fits); returns 0, SIO_ELIMIT or SIO_ENOMEM. The state is checked. */
  int (*send)(sio_eio_t *s, sio__refbuf_t *rb, int binary);
  /* Bytes queued and not yet taken by the client. */
  size_t (*queued)(const sio_eio_t *s);
  /* A packet sent now would go out at once (engine.io's transport.writable). */
  int (*writable)(const sio_eio_t *s);
  /* A graceful close must wait for the queue to be delivered (sio__eio_close_graceful). */
  int (*close_waits)(const sio_eio_t *s);
  uint8_t takes_requests;  /* long-polling GET/POST and the WebSocket upgrade apply */
} sio__eio_transport_t;

extern const sio__eio_transport_t sio__eio_polling_transport; /* polling.c */
extern const sio__eio_transport_t sio__eio_ws_transport;      /* websocket.c */
extern const sio__eio_transport_t sio__eio_memory_transport;  /* memory.c */
extern const sio__eio_transport_t *const sio__eio_transports[3];

static inline const sio__eio_transport_t *sio__eio_tp(const sio_eio_t *s) { return sio__eio_transports[s->transport]; }

#endif
