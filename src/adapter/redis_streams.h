/*
 * adapter/redis_streams.h: what the streams adapter's two files share (redis_streams.c:
 * connections, reader, pub/sub requests, hooks; redis_streams_recovery.c: offsets and
 * sessions). Internal to the adapter layer. Loop thread only.
 */
#ifndef SIO_ADAPTER_REDIS_STREAMS_H
#define SIO_ADAPTER_REDIS_STREAMS_H

#include "adapter/redis_codec.h"
#include "adapter/redis_conn.h"
#include "adapter/redis_req.h"
#include "adapter/redis_streams_codec.h"
#include "common/list.h"
#include "common/map.h"
#include "http/server.h"
#include "sio/redis.h"

#define UID_LEN 16            /* randomBytes(8).toString("hex"), as ClusterAdapter */
#define RESTORE_BATCH 1000    /* XRANGE COUNT while restoring */
#define RESTORE_MAX_CALLS 100 /* RESTORE_SESSION_MAX_XRANGE_CALLS of the JS adapter */

struct sio_redis_streams_s {
  uv_loop_t *loop;
  sio__http_closer_t closer;
  sio__redis_url_t url;
  char *where;                  /* "redis://host:port" for logs */
  char *stream, *chan_prefix, *sess_prefix;
  char maxlen_s[24], count_s[16], block_s[24];
  uint64_t timeout_ms;
  uint32_t max_pending, max_restores;
  uint32_t pending, restores;   /* in flight now */
  sio__rconn_t *pub, *sub, *rd;
  sio__list_t adapters;         /* xadapter_t.link */
  sio__map_t routes;            /* subscribed channel -> xadapter_t* */
  sio__map_t nsps;              /* namespace name -> xadapter_t* */
  uint32_t refs, confirming;
  uint8_t pub_up, sub_up, rd_up, was_up, outage, reading;
  uint8_t cursor_known, pending_logged, restores_logged, backlog_logged;
  sio__xid_t cursor;            /* last entry id the reader has handed over */
  sio_redis_stats_t stats;
  uint64_t dropped_before;
};

typedef struct {
  sio_redis_streams_t *r;
  sio_ns_t *ns;
  char uid[UID_LEN + 1];
  char *channel;                /* P#nsp# */
  char *own_channel;            /* P#nsp#uid# */
  sio__map_t requests;          /* requestId -> request_t* */
  sio__redis_req_owner_t reqs;  /* lends requests (requestId map, loop, id) */
  sio__list_t held;             /* publish_t / restore_t holding library handles */
  uint32_t scanning;            /* restores of this namespace reading the stream */
  sio__list_t link;
} xadapter_t;

/* A request of ours waiting for the other nodes (redis_req.h, as redis.c's). */
typedef sio__redis_req_t request_t;

/* What holds a library handle (on xadapter_t.held until handed back). */
typedef struct {
  sio__list_t link;
  int restore;                  /* 0: publish_t, 1: restore_t */
} held_t;

/* A recoverable broadcast waiting for its XADD answer. */
typedef struct {
  held_t held;
  sio_redis_streams_t *r;
  sio_adapter_offset_t *h;      /* NULL once handed back */
} publish_t;

/* A session restore in flight. */
typedef struct {
  held_t held;
  sio_redis_streams_t *r;
  xadapter_t *a;                /* NULL once the namespace is gone */
  sio_adapter_restore_t *h;     /* NULL once handed back */
  sio__xs_session_t sess;
  uint8_t have_sess, offset_ok, got_session_reply, got_offset_reply, failed, scanning;
  struct xtail_s *tail, *tail_last; /* what the reader delivered meanwhile (see the .c) */
  size_t ntail;
  sio__xid_t from;              /* the client's offset, then the last entry scanned */
  int calls;
  char key[];                   /* <session prefix><pid> */
} restore_t;


/* Drops a reference on r; the last one closes the connections (r freed after them). */
void sio__xsa_client_unref(sio_redis_streams_t *r);
/* Counts a publish that could not go out (why: SIO_ELIMIT is logged once per episode). */
void sio__xsa_dropped(sio_redis_streams_t *r, int why);
/* A command on the publisher connection (see sio__rconn_command); refusals counted. */
int sio__xsa_command(sio_redis_streams_t *r, redisCallbackFn *fn, void *priv, int argc, const char **argv,
                     const size_t *lens);
/* XADD <stream> MAXLEN ~ n * uid nsp type [data]: data borrowed (NULL: none). */
int sio__xsa_xadd(xadapter_t *a, int type, json_t *data, sio__refbuf_t *const *att, uint32_t natt,
                  redisCallbackFn *fn, void *priv);
/* A broadcast's message data {packet, opts} (new), flags.timeout when timeout_ms >= 0. */
json_t *sio__xsa_broadcast_data(xadapter_t *a, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                                int64_t timeout_ms);
/* An XREAD/XRANGE entry reply [id, [f, v...]] decoded into *e (free with
 * sio__xs_entry_free) and *id. 0 or an error. */
int sio__xsa_read_entry(redisReply *ent, sio__xs_entry_t *e, sio__xid_t *id);
/* The packet and selection of a broadcast entry (e->v moves into *b; free *b either way). */
int sio__xsa_entry_bcast(sio__xs_entry_t *e, sio__redis_bcast_t *b);

/* redis_streams_recovery.c: the version-3 hooks, and giving back every handle a
 * namespace's adapter still holds (at destroy). */
int sio__xsa_publish_offset(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                            sio_adapter_offset_t *h);
void sio__xsa_persist_session(void *self, sio_ns_t *ns, const sio_adapter_session_t *sess, uint64_t window_ms);
int sio__xsa_restore_session(void *self, sio_ns_t *ns, const char *pid, const char *offset, sio_adapter_restore_t *h);
void sio__xsa_release_held(xadapter_t *a);
/* The reader handed over another node's entry ent (id) of a's namespace: restores of a
 * that are reading the stream keep it if it is a broadcast their session selects. */
void sio__xsa_restore_observe(xadapter_t *a, redisReply *ent, sio__xid_t id);
/* Most entries a restore keeps that way before it gives up (logged). */
#define SIO__XSA_MAX_TAIL 10000

#endif
