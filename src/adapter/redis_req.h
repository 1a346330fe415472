/*
 * adapter/redis_req.h: a request of ours waiting for the other nodes, as both Redis
 * adapters keep them (redis.c, redis_streams.c): registered under a random requestId
 * in the adapter's map, answered until every other node did (PUBSUB NUMSUB counts
 * them) or the timer fires. The adapter sends the request and reads the answers; this
 * file does the bookkeeping. Layer: adapter. Loop thread only.
 */
#ifndef SIO_ADAPTER_REDIS_REQ_H
#define SIO_ADAPTER_REDIS_REQ_H

#include <hiredis/async.h>
#include <jansson.h>
#include <uv.h>

#include "common/map.h"
#include "common/refbuf.h"
#include "sio/adapter.h"

#define SIO__REDIS_REQ_ID_MAX 16 /* longest requestId (the streams adapter's hex) */

typedef struct sio__redis_req_s sio__redis_req_t;

/* What the adapter a request belongs to lends it (one per adapter, outlives its requests
 * while they are registered). */
typedef struct {
  sio__map_t *requests;     /* requestId -> sio__redis_req_t* */
  uv_loop_t *loop;
  const char *log_name;     /* "redis adapter"..., for logs */
  int bcast_type;           /* the request type of a broadcast with acks */
  void (*make_id)(char *out, size_t n); /* n random characters and a NUL */
  size_t id_len;            /* <= SIO__REDIS_REQ_ID_MAX */
} sio__redis_req_owner_t;

struct sio__redis_req_s {
  void *a;                  /* the adapter; NULL once finished */
  const sio__redis_req_owner_t *owner;
  sio_ns_t *ns;             /* for logs */
  int type;                 /* the adapter's request type, or -1 for serverCount */
  int rooms_only;           /* streams: allRooms through a fetch: add rooms, not sockets */
  int ids_only;             /* streams: allSockets through a fetch: add ids */
  const char *what;         /* "fetchSockets"..., for logs */
  char id[SIO__REDIS_REQ_ID_MAX + 1];
  sio_adapter_query_t *q;   /* queries */
  sio_adapter_acks_t *acks; /* broadcasts with acks */
  size_t expected;          /* other nodes: known once NUMSUB answered */
  size_t got;               /* nodes that answered */
  size_t clients, answered; /* broadcasts with acks: remote clients reached / answered */
  uint64_t timeout_ms;
  uint8_t expected_known, finished, timer_closed;
  int inflight;             /* our commands whose reply callback has not run */
  uv_timer_t timer;
};

/* A new request of adapter a (namespace ns) registered in o->requests with a fresh id,
 * its timer running. NULL when out of memory. */
sio__redis_req_t *sio__redis_req_new(const sio__redis_req_owner_t *o, void *a, sio_ns_t *ns, int type,
                                     const char *what, uint64_t timeout_ms);
/* Finishes q once: unregistered, the library gets the answers (or the acks handle back);
 * freed when its timer closed and no reply callback is pending. */
void sio__redis_req_finish(sio__redis_req_t *q, int status);
/* Finishes q when every other node answered (and, for a broadcast, every client). */
void sio__redis_req_check(sio__redis_req_t *q);
/* Reply callback of PUBSUB NUMSUB <channel> for q (bump q->inflight before sending):
 * how many other nodes answer, or serverCount itself for type -1. */
void sio__redis_req_on_numsub(redisAsyncContext *ac, void *reply, void *priv);

/* One node's answer to a serverSideEmit: value (borrowed, NULL: it sent none) with its
 * attachments goes to the query; counted in q->got. */
void sio__redis_req_add_value(sio__redis_req_t *q, json_t *value, sio__refbuf_t **att, uint32_t natt);
/* One remote client's ack of a broadcast: value (borrowed) goes to the acks handle;
 * counted in q->answered. */
void sio__redis_req_add_ack(sio__redis_req_t *q, json_t *value, sio__refbuf_t **att, uint32_t natt);

#endif
