/*
 * The Redis Streams adapter (@socket.io/redis-streams-adapter 0.3.1 lib/adapter.ts over
 * socket.io-adapter 2.5's ClusterAdapter): one per namespace, sharing three connections
 * per server (redis_conn.c): a publisher (XADD, PUBLISH, SET, XRANGE...), a subscriber
 * (SUBSCRIBE) and a reader that loops on XREAD BLOCK. It implements the version-3
 * adapter hooks of sio/adapter.h, so connection-state recovery works across nodes.
 *
 *   outgoing  broadcast, socketsJoin/Leave, disconnectSockets -> XADD stream entry
 *             (a recoverable broadcast waits for the XADD answer: its id is the offset)
 *             broadcast with acks, fetchSockets, serverSideEmit -> PUBLISH P#nsp# (msgpack)
 *             with the answers on P#nsp#<uid>#; PUBSUB NUMSUB P#nsp# counts the nodes
 *             allRooms / allSockets -> a fetchSockets (the JS adapter has no cluster form)
 *   incoming  stream entries of other nodes (XREAD, ours skipped by uid), requests on
 *             P#nsp#, answers on P#nsp#<uid>#
 *   sessions  SET <session prefix><pid> base64(msgpack(session)) PX <window>; restore =
 *             GET + DEL + XRANGE <offset> <offset>, then XRANGE from the offset
 *
 * Exactly once across a restore: a missed packet is either replayed or delivered live,
 * never both. The reader's cursor C (the last entry id XREAD handed us, or the stream's
 * last id when reading started) splits them: another node's entries up to C were
 * delivered here before the socket was back in its rooms (replay them); later ones
 * will come through XREAD after it is (skip them). An XRANGE answer that ends before C
 * (it ran on Redis before an XADD whose XREAD answer reached us first) is read on until it
 * reaches C, or those entries would be neither. Our own entries were delivered when
 * their XADD answered, which on the same connection comes before the XRANGE answer
 * that lists them: replay every one XRANGE lists.
 *
 * Never a crash on what another node sends: anything that does not decode is sio__xsa_dropped
 * with a debug line. Layer: adapter.
 */
#include <string.h>

#include "adapter/redis_codec.h"
#include "adapter/redis_conn.h"
#include "adapter/redis_shared.h"
#include "adapter/redis_streams.h"
#include "adapter/redis_streams_codec.h"
#include "common/alloc.h"
#include "common/log.h"
#include "http/server.h"
#include "sio/redis.h"
#include "sio/sio.h"


/* ---------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------ */

static void hex_id(char out[UID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[UID_LEN / 2];
  if (uv_random(NULL, NULL, b, sizeof b, 0, NULL) != 0) {
    uint64_t t = uv_hrtime();
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(t >> (i * 8)) ^ (unsigned char)(i * 37);
  }
  for (size_t i = 0; i < sizeof b; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[UID_LEN] = '\0';
}

void sio__xsa_dropped(sio_redis_streams_t *r, int why) {
  r->stats.dropped++;
  if (why == SIO_ELIMIT && !r->backlog_logged) {
    r->backlog_logged = 1;
    SIO_LOGW("redis streams adapter: Redis at %s is not reading fast enough (over %u MiB unsent): dropping "
             "messages to other nodes until it catches up",
             r->where, SIO__RCONN_MAX_BACKLOG >> 20);
  }
}

/* Sends a sio__xsa_command on the publisher; counts it. */
int sio__xsa_command(sio_redis_streams_t *r, redisCallbackFn *fn, void *priv, int argc, const char **argv,
                   const size_t *lens) {
  int rc = r->pub ? sio__rconn_command(r->pub, fn, priv, argc, argv, lens) : SIO_ECLOSED;
  if (rc == 0) r->backlog_logged = 0;
  else sio__xsa_dropped(r, rc);
  return rc;
}

static int publish_raw(sio_redis_streams_t *r, const char *channel, const char *msg, size_t len) {
  const char *argv[3] = {"PUBLISH", channel, msg};
  size_t lens[3] = {7, strlen(channel), len};
  int rc = sio__xsa_command(r, NULL, NULL, 3, argv, lens);
  if (rc == 0) r->stats.published++;
  return rc;
}

/* PUBLISHes msgpack({type, data, uid, nsp}) on channel; data borrowed. */
static int publish_msg(xadapter_t *a, const char *channel, int type, json_t *data, sio__refbuf_t *const *att,
                       uint32_t natt) {
  sio__buf_t b = SIO__BUF_INIT;
  int rc = sio__xs_encode_message(&b, type, data, att, natt, a->uid, sio_ns_name(a->ns));
  if (rc == 0) rc = publish_raw(a->r, channel, b.base, b.len);
  sio__buf_free(&b);
  return rc;
}

/* Answers requester uid on P#nsp#<uid>#; consumes data. */
static void respond(xadapter_t *a, json_t *requester, int type, json_t *data, sio__refbuf_t *const *att,
                    uint32_t natt) {
  char *channel = json_is_string(requester) ? sio__radp_concat(a->channel, json_string_value(requester), "#", NULL)
                                            : NULL;
  if (channel && data) publish_msg(a, channel, type, data, att, natt);
  sio__free(channel);
  json_decref(data);
}

/* XADD <stream> MAXLEN ~ <n> * uid <uid> nsp <nsp> type <type> [data <data>]. */
int sio__xsa_xadd(xadapter_t *a, int type, json_t *data, sio__refbuf_t *const *att, uint32_t natt,
                redisCallbackFn *fn, void *priv) {
  sio_redis_streams_t *r = a->r;
  sio__buf_t d = SIO__BUF_INIT;
  int rc = data ? sio__xs_encode_data(&d, data, att, natt) : 0;
  if (rc) return rc;
  char t[12];
  snprintf(t, sizeof t, "%d", type);
  const char *argv[13] = {"XADD", r->stream, "MAXLEN", "~", r->maxlen_s, "*", "uid", a->uid, "nsp",
                          sio_ns_name(a->ns), "type", t, "data"};
  size_t lens[14];
  for (int i = 0; i < 13; i++) lens[i] = strlen(argv[i]);
  const char *full[14];
  memcpy(full, argv, sizeof argv);
  full[13] = d.base ? d.base : "";
  lens[13] = d.len;
  rc = sio__xsa_command(r, fn, priv, data ? 14 : 12, full, lens);
  if (rc == 0) r->stats.published++;
  sio__buf_free(&d);
  return rc;
}

/* {packet: {type: 2, data: [event, ...args], nsp}, opts: {rooms, except, flags}} (new),
 * binary as placeholders into the args' attachments. */
json_t *sio__xsa_broadcast_data(xadapter_t *a, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                              int64_t timeout_ms) {
  json_t *arr = json_array();
  if (arr == NULL) return NULL;
  json_array_append_new(arr, json_string(pkt->event));
  for (size_t i = 0; i < sio_args_count(pkt->args); i++) json_array_append(arr, sio__args_json(pkt->args, i));
  json_t *flags = json_object();
  if (flags && to && (to->flags & SIO_BCAST_VOLATILE)) json_object_set_new(flags, "volatile", json_true());
  if (flags && timeout_ms >= 0) json_object_set_new(flags, "timeout", json_integer(timeout_ms));
  json_t *opts = sio__radp_sel_json(to);
  if (opts && flags) json_object_set(opts, "flags", flags);
  json_decref(flags);
  return json_pack("{s:{s:i,s:o,s:s},s:o}", "packet", "type", 2, "data", arr, "nsp", sio_ns_name(a->ns), "opts",
                   opts);
}

/* ---------------------------------------------------------------------------------
 * Our requests and their answers (pub/sub)
 * ------------------------------------------------------------------------------ */

static void request_maybe_free(request_t *q) {
  if (q->finished && q->timer_closed && q->inflight == 0) sio__free(q);
}

static void request_timer_closed(uv_handle_t *h) {
  request_t *q = h->data;
  q->timer_closed = 1;
  request_maybe_free(q);
}

static void request_finish(request_t *q, int status) {
  if (q->finished) return;
  q->finished = 1;
  xadapter_t *a = q->a;
  q->a = NULL;
  if (a) sio__map_del(&a->requests, q->id, UID_LEN);
  uv_timer_stop(&q->timer);
  uv_close((uv_handle_t *)&q->timer, request_timer_closed);
  if (q->q) sio_adapter_query_done(q->q, status);
  if (q->acks) sio_adapter_acks_done(q->acks);
}

static void request_check(request_t *q) {
  if (!q->expected_known || q->got < q->expected) return;
  if (q->type == SIO__XS_BROADCAST && q->answered < q->clients) return;
  request_finish(q, 0);
}

static void on_request_timeout(uv_timer_t *t) {
  request_t *q = t->data;
  if (q->type != SIO__XS_BROADCAST && q->a) {
    SIO_LOGW("redis streams adapter: %s on namespace %s timed out after %llu ms: %zu of %zu other nodes "
             "answered (a node may be stuck or gone; raise requests_timeout_ms if they are only slow)",
             q->what, sio_ns_name(q->a->ns), (unsigned long long)q->a->r->timeout_ms, q->got,
             q->expected_known ? q->expected : q->got);
  }
  request_finish(q, SIO_ETIMEDOUT);
}

/* PUBSUB NUMSUB P#nsp#: every node of the namespace subscribes to it. */
static void on_numsub(redisAsyncContext *ac, void *reply, void *priv) {
  request_t *q = priv;
  redisReply *rep = reply;
  q->inflight--;
  if (q->finished) {
    request_maybe_free(q);
    return;
  }
  if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
      rep->element[1]->type != REDIS_REPLY_INTEGER) {
    request_finish(q, SIO_ECLOSED);
    return;
  }
  long long n = rep->element[1]->integer;
  if (q->type == -1) {
    sio_adapter_query_set_count(q->q, n < 1 ? 1 : (size_t)n);
    request_finish(q, 0);
    return;
  }
  q->expected = n > 1 ? (size_t)(n - 1) : 0;
  q->expected_known = 1;
  request_check(q);
}

static request_t *request_new(xadapter_t *a, int type, const char *what, uint64_t timeout_ms) {
  request_t *q = sio__calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  q->a = a;
  q->type = type;
  q->what = what;
  do hex_id(q->id);
  while (sio__map_get(&a->requests, q->id, UID_LEN) != NULL);
  if (sio__map_put(&a->requests, q->id, UID_LEN, q) != 0) {
    sio__free(q);
    return NULL;
  }
  uv_timer_init(a->r->loop, &q->timer);
  q->timer.data = q;
  uv_timer_start(&q->timer, on_request_timeout, timeout_ms, 0);
  return q;
}

/* Publishes the request (data consumed, may be NULL for serverCount) and asks how many
 * nodes answer. Redis down: finished at once with SIO_ECLOSED. */
static void request_send(request_t *q, json_t *data, sio__refbuf_t *const *att, uint32_t natt) {
  xadapter_t *a = q->a;
  int rc = data ? publish_msg(a, a->channel, q->type == -1 ? 0 : q->type, data, att, natt) : 0;
  json_decref(data);
  if (rc != 0) {
    request_finish(q, SIO_ECLOSED);
    return;
  }
  const char *argv[3] = {"PUBSUB", "NUMSUB", a->channel};
  if (sio__xsa_command(a->r, on_numsub, q, 3, argv, NULL) == 0) q->inflight++;
  else request_finish(q, SIO_ECLOSED);
}

/* An answer on our own channel. */
static void handle_response(xadapter_t *a, sio__mp_value_t *v) {
  json_t *data = json_object_get(v->root, "data");
  json_t *rid = json_object_get(data, "requestId");
  int type = (int)json_integer_value(json_object_get(v->root, "type"));
  request_t *q = json_is_string(rid) ? sio__map_get(&a->requests, json_string_value(rid), json_string_length(rid))
                                     : NULL;
  if (q == NULL || q->finished) return;
  a->r->stats.received++;
  switch (type) {
  case SIO__XS_FETCH_SOCKETS_RESPONSE: {
    if (q->type != SIO__XS_FETCH_SOCKETS) return;
    json_t *arr = json_object_get(data, "sockets"), *s;
    size_t i;
    json_array_foreach(arr, i, s) {
      if (q->rooms_only) {
        json_t *rooms = json_object_get(s, "rooms"), *e;
        size_t k;
        json_array_foreach(rooms, k, e) {
          if (json_is_string(e)) sio_adapter_query_add_name(q->q, json_string_value(e), json_string_length(e));
        }
      } else if (q->ids_only) {
        json_t *id = json_object_get(s, "id");
        if (json_is_string(id)) sio_adapter_query_add_name(q->q, json_string_value(id), json_string_length(id));
      } else {
        sio__radp_add_fetched(q->q, s);
      }
    }
    q->got++;
    break;
  }
  case SIO__XS_SERVER_SIDE_EMIT_RESPONSE: {
    if (q->type != SIO__XS_SERVER_SIDE_EMIT) return;
    json_t *packet = json_object_get(data, "packet");
    json_t *one = json_array();
    sio_args_t args;
    if (one && packet) json_array_append(one, packet);
    sio__args_view(&args, one, 0, v->att, v->natt);
    sio_adapter_query_add_value(q->q, packet ? &args : NULL, 0);
    json_decref(one);
    q->got++;
    break;
  }
  case SIO__XS_BROADCAST_CLIENT_COUNT: {
    if (q->type != SIO__XS_BROADCAST) return;
    json_t *n = json_object_get(data, "clientCount");
    q->clients += json_is_integer(n) && json_integer_value(n) > 0 ? (size_t)json_integer_value(n) : 0;
    q->got++;
    break;
  }
  case SIO__XS_BROADCAST_ACK: {
    if (q->type != SIO__XS_BROADCAST) return;
    json_t *packet = json_object_get(data, "packet");
    json_t *one = json_array();
    sio_args_t args;
    if (one && packet) json_array_append(one, packet);
    sio__args_view(&args, one, 0, v->att, v->natt);
    sio_adapter_acks_answer(q->acks, &args);
    json_decref(one);
    q->answered++;
    break;
  }
  default:
    return;
  }
  request_check(q);
}

/* ---------------------------------------------------------------------------------
 * Requests from the other nodes (pub/sub)
 * ------------------------------------------------------------------------------ */

typedef struct {
  sio_redis_streams_t *r; /* referenced: the context may outlive the namespace */
  char *channel;      /* the requester's channel */
  char rid[UID_LEN * 4 + 1];
  char nsp_uid[UID_LEN + 1];
  char *nsp;
} reply_ctx_t;

static reply_ctx_t *reply_ctx(xadapter_t *a, json_t *requester, json_t *rid) {
  if (!json_is_string(requester) || !json_is_string(rid) || json_string_length(rid) >= sizeof(((reply_ctx_t *)0)->rid))
    return NULL;
  reply_ctx_t *c = sio__calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->channel = sio__radp_concat(a->channel, json_string_value(requester), "#", NULL);
  c->nsp = sio__strdup(sio_ns_name(a->ns));
  if (c->channel == NULL || c->nsp == NULL) {
    sio__free(c->channel);
    sio__free(c->nsp);
    sio__free(c);
    return NULL;
  }
  memcpy(c->rid, json_string_value(rid), json_string_length(rid) + 1);
  memcpy(c->nsp_uid, a->uid, sizeof c->nsp_uid);
  c->r = a->r;
  a->r->refs++;
  return c;
}

static void reply_ctx_free(reply_ctx_t *c) {
  sio__free(c->channel);
  sio__free(c->nsp);
  sio__xsa_client_unref(c->r);
  sio__free(c);
}

/* Publishes {type, data: {requestId, key: value}, uid, nsp} for c (value consumed). */
static void reply_publish(reply_ctx_t *c, int type, const char *key, json_t *value, sio__refbuf_t *const *att,
                          uint32_t natt) {
  json_t *data = json_pack("{s:s}", "requestId", c->rid);
  if (data && key && value) json_object_set(data, key, value);
  json_decref(value);
  sio__buf_t b = SIO__BUF_INIT;
  if (data && sio__xs_encode_message(&b, type, data, att, natt, c->nsp_uid, c->nsp) == 0)
    publish_raw(c->r, c->channel, b.base, b.len);
  sio__buf_free(&b);
  json_decref(data);
}

static void on_server_side_reply(void *u, const sio_args_t *args) {
  reply_ctx_t *c = u;
  if (args) {
    json_t *one = sio_args_count(args) > 0 ? json_incref(sio__args_json(args, 0)) : NULL;
    reply_publish(c, SIO__XS_SERVER_SIDE_EMIT_RESPONSE, "packet", one, args->att, args->natt);
  }
  reply_ctx_free(c);
}

static void bcast_each(const sio_args_t *args, void *u) {
  reply_ctx_t *c = u;
  json_t *one = sio_args_count(args) > 0 ? json_incref(sio__args_json(args, 0)) : NULL;
  reply_publish(c, SIO__XS_BROADCAST_ACK, "packet", one, args ? args->att : NULL, args ? args->natt : 0);
}

static void bcast_end(int status, void *u) { reply_ctx_free(u); }

/* A BROADCAST with a requestId (broadcastWithAck of another node). */
static void remote_broadcast_with_ack(xadapter_t *a, sio__mp_value_t *v, json_t *uid, json_t *data) {
  json_t *rid = json_object_get(data, "requestId");
  sio__redis_bcast_t b;
  memset(&b, 0, sizeof b);
  if (sio__redis_read_bcast(json_object_get(data, "packet"), json_object_get(data, "opts"), &b) != 0) {
    SIO_LOGD("redis streams adapter: sio__xsa_dropped a malformed broadcast with acks on %s", a->channel);
    return;
  }
  reply_ctx_t *c = reply_ctx(a, uid, rid);
  if (c == NULL) {
    sio__free((void *)b.rooms);
    sio__free((void *)b.except);
    return;
  }
  sio_args_t args;
  sio__args_view(&args, b.data, 1, v->att, v->natt);
  sio_broadcast_opts_t to = {b.rooms, b.nrooms, b.except, b.nexcept, SIO_BCAST_LOCAL};
  uint64_t timeout = b.timeout_ms >= 0 ? (uint64_t)b.timeout_ms : a->r->timeout_ms;
  int count = sio_adapter_emit_with_ack_local(a->ns, &to, json_string_value(json_array_get(b.data, 0)), &args,
                                              timeout, bcast_each, bcast_end, c);
  /* The count goes out after the packets, before any answer, as ClusterAdapter does. */
  json_t *cnt = json_pack("{s:s,s:i}", "requestId", json_string_value(rid), "clientCount", count < 0 ? 0 : count);
  respond(a, uid, SIO__XS_BROADCAST_CLIENT_COUNT, cnt, NULL, 0);
  if (count < 0) bcast_end(0, c);
  sio__free((void *)b.rooms);
  sio__free((void *)b.except);
}

static void handle_request(xadapter_t *a, sio__mp_value_t *v) {
  json_t *uid = json_object_get(v->root, "uid"), *data = json_object_get(v->root, "data");
  int type = (int)json_integer_value(json_object_get(v->root, "type"));
  if (json_is_string(uid) && strcmp(json_string_value(uid), a->uid) == 0) return; /* our own */
  a->r->stats.received++;
  switch (type) {
  case SIO__XS_BROADCAST:
    if (json_object_get(data, "requestId")) remote_broadcast_with_ack(a, v, uid, data);
    break;
  case SIO__XS_FETCH_SOCKETS: {
    sio__radp_sel_t sel;
    json_t *rid = json_object_get(data, "requestId");
    if (!json_is_string(rid) || sio__radp_read_sel(json_object_get(data, "opts"), &sel) != 0) break;
    json_t *list = json_array();
    sio_ns_fetch_sockets_all(a->ns, &sel.to, sio__radp_fetch_entries, list);
    sio__radp_sel_free(&sel);
    respond(a, uid, SIO__XS_FETCH_SOCKETS_RESPONSE, json_pack("{s:O,s:o}", "requestId", rid, "sockets", list), NULL,
            0);
    break;
  }
  case SIO__XS_SERVER_SIDE_EMIT: {
    json_t *packet = json_object_get(data, "packet"), *rid = json_object_get(data, "requestId");
    if (!json_is_array(packet) || !json_is_string(json_array_get(packet, 0))) break;
    sio_args_t args;
    sio__args_view(&args, packet, 1, v->att, v->natt);
    reply_ctx_t *c = rid ? reply_ctx(a, uid, rid) : NULL;
    if (rid && c == NULL) break;
    if (sio_adapter_server_side_dispatch(a->ns, json_string_value(json_array_get(packet, 0)), &args,
                                         c ? on_server_side_reply : NULL, c) != 0 &&
        c)
      reply_ctx_free(c);
    break;
  }
  default:
    SIO_LOGD("redis streams adapter: ignored a message of type %d on %s", type, a->channel);
  }
}

/* ---------------------------------------------------------------------------------
 * Stream entries of the other nodes (the reader)
 * ------------------------------------------------------------------------------ */

/* The broadcast of an entry: packet/opts of e's data (e->v moves into *b). */
int sio__xsa_entry_bcast(sio__xs_entry_t *e, sio__redis_bcast_t *b) {
  memset(b, 0, sizeof *b);
  json_t *data = e->v.root;
  if (data == NULL) return SIO_EPROTO;
  b->v = e->v;
  memset(&e->v, 0, sizeof e->v);
  return sio__redis_read_bcast(json_object_get(data, "packet"), json_object_get(data, "opts"), b);
}

static void apply_entry(xadapter_t *a, sio__xs_entry_t *e, const char *id) {
  json_t *data = e->v.root;
  sio__radp_sel_t sel;
  switch (e->type) {
  case SIO__XS_BROADCAST: {
    if (json_object_get(data, "requestId")) break; /* acks travel over pub/sub */
    sio__redis_bcast_t b;
    if (sio__xsa_entry_bcast(e, &b) != 0) {
      SIO_LOGD("redis streams adapter: sio__xsa_dropped a malformed broadcast entry %s", id);
      sio__redis_bcast_free(&b);
      break;
    }
    sio_args_t args;
    sio__args_view(&args, b.data, 1, b.v.att, b.v.natt);
    sio_broadcast_opts_t to = {b.rooms, b.nrooms, b.except, b.nexcept,
                               SIO_BCAST_LOCAL | (b.volatile_ ? SIO_BCAST_VOLATILE : 0)};
    /* addOffsetIfNecessary: no offset on volatile packets. */
    sio_adapter_emit_offset(a->ns, &to, json_string_value(json_array_get(b.data, 0)), &args, b.volatile_ ? NULL : id);
    sio__redis_bcast_free(&b);
    break;
  }
  case SIO__XS_SOCKETS_JOIN:
  case SIO__XS_SOCKETS_LEAVE: {
    if (sio__radp_read_sel(json_object_get(data, "opts"), &sel) != 0) break;
    sio__radp_rooms_op_t op = {json_object_get(data, "rooms"), e->type == SIO__XS_SOCKETS_JOIN};
    if (json_is_array(op.rooms)) sio_ns_fetch_sockets(a->ns, &sel.to, sio__radp_apply_rooms, &op);
    sio__radp_sel_free(&sel);
    break;
  }
  case SIO__XS_DISCONNECT_SOCKETS:
    if (sio__radp_read_sel(json_object_get(data, "opts"), &sel) != 0) break;
    sio_ns_disconnect_sockets(a->ns, &sel.to, json_is_true(json_object_get(data, "close")));
    sio__radp_sel_free(&sel);
    break;
  default:
    break; /* heartbeats and the like: ClusterAdapter (no heartbeat) ignores them too */
  }
}

/* Reads the field/value pairs of an entry reply [id, [f, v, ...]]. Returns the number of
 * pairs (fields points into a small array or an allocation in *heap), or -1. */
static long entry_fields(redisReply *fv, sio_str_t *small, size_t nsmall, sio_str_t **heap) {
  *heap = NULL;
  if (fv == NULL || fv->type != REDIS_REPLY_ARRAY || fv->elements % 2) return -1;
  sio_str_t *f = small;
  if (fv->elements > nsmall && (f = *heap = sio__calloc(fv->elements, sizeof *f)) == NULL) return -1;
  for (size_t i = 0; i < fv->elements; i++) {
    if (fv->element[i]->type != REDIS_REPLY_STRING) return -1;
    f[i] = (sio_str_t){fv->element[i]->str, fv->element[i]->len};
  }
  return (long)(fv->elements / 2);
}

/* Decodes entry reply ent ([id, [fields]]) into *e and *id. 0 or an error. */
int sio__xsa_read_entry(redisReply *ent, sio__xs_entry_t *e, sio__xid_t *id) {
  if (ent == NULL || ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
      ent->element[0]->type != REDIS_REPLY_STRING ||
      sio__xid_parse(ent->element[0]->str, ent->element[0]->len, id) != 0)
    return SIO_EPROTO;
  sio_str_t small[16], *heap;
  long n = entry_fields(ent->element[1], small, 16, &heap);
  int rc = n < 0 ? SIO_EPROTO : sio__xs_decode_entry(heap ? heap : small, (size_t)n, e);
  sio__free(heap);
  return rc;
}

static void read_next(sio_redis_streams_t *r);

/* 0 when entry reply ent is ours or for a namespace this node does not have, from its
 * raw uid and nsp fields; 1 otherwise (malformed ones too: the decoder says why). */
static int wanted(sio_redis_streams_t *r, redisReply *ent) {
  if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 || ent->element[1]->type != REDIS_REPLY_ARRAY) return 1;
  redisReply *fv = ent->element[1];
  const redisReply *uid = NULL, *nsp = NULL;
  for (size_t i = 0; i + 1 < fv->elements; i += 2) {
    const redisReply *k = fv->element[i];
    if (k->type != REDIS_REPLY_STRING || fv->element[i + 1]->type != REDIS_REPLY_STRING) return 1;
    if (k->len == 3 && memcmp(k->str, "uid", 3) == 0) uid = fv->element[i + 1];
    else if (k->len == 3 && memcmp(k->str, "nsp", 3) == 0) nsp = fv->element[i + 1];
  }
  if (uid == NULL || nsp == NULL) return 1;
  xadapter_t *a = sio__map_get(&r->nsps, nsp->str, nsp->len);
  return a != NULL && !(uid->len == UID_LEN && memcmp(uid->str, a->uid, UID_LEN) == 0);
}

static void on_xread(redisAsyncContext *ac, void *reply, void *priv) {
  sio_redis_streams_t *r = priv;
  redisReply *rep = reply;
  r->reading = 0;
  if (rep == NULL) return; /* connection gone: on_conn_up reads again */
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 && rep->element[0]->type == REDIS_REPLY_ARRAY &&
      rep->element[0]->elements == 2 && rep->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
    redisReply *entries = rep->element[0]->element[1];
    for (size_t i = 0; i < entries->elements; i++) {
      redisReply *ent = entries->element[i];
      sio__xs_entry_t e;
      sio__xid_t id;
      if (ent->type == REDIS_REPLY_ARRAY && ent->elements == 2 && ent->element[0]->type == REDIS_REPLY_STRING &&
          sio__xid_parse(ent->element[0]->str, ent->element[0]->len, &id) == 0) {
        r->cursor = id; /* past it even when it does not decode */
        r->cursor_known = 1;
      }
      /* Our own entries (delivered when XADD answered) and other namespaces' are skipped
       * before their data is decoded. */
      if (!wanted(r, ent)) continue;
      if (sio__xsa_read_entry(ent, &e, &id) != 0) {
        SIO_LOGD("redis streams adapter: skipped a malformed stream entry");
        continue;
      }
      xadapter_t *a = sio__map_get(&r->nsps, e.nsp.ptr, e.nsp.len);
      if (a && !(e.uid.len == UID_LEN && memcmp(e.uid.ptr, a->uid, UID_LEN) == 0)) {
        char idtxt[SIO__XID_MAX + 1];
        sio__xid_format(id, idtxt);
        r->stats.received++;
        apply_entry(a, &e, idtxt);
      }
      sio__xs_entry_free(&e);
    }
  } else if (rep->type == REDIS_REPLY_ERROR) {
    SIO_LOGW("redis streams adapter: XREAD on %s failed (%.*s)", r->stream, (int)rep->len, rep->str);
  }
  if (r->rd_up && r->refs > 0) read_next(r);
}

/* Where reading starts: the stream's last entry now (XREVRANGE + - COUNT 1), so that
 * the cursor is a real id from the start (the restore split needs one). */
static void on_last_id(redisAsyncContext *ac, void *reply, void *priv) {
  sio_redis_streams_t *r = priv;
  redisReply *rep = reply;
  r->reading = 0;
  if (rep == NULL) return;
  if (rep->type == REDIS_REPLY_ARRAY) {
    sio__xid_t id = {0, 0};
    if (rep->elements >= 1 && rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2 &&
        rep->element[0]->element[0]->type == REDIS_REPLY_STRING)
      sio__xid_parse(rep->element[0]->element[0]->str, rep->element[0]->element[0]->len, &id);
    r->cursor = id;
    r->cursor_known = 1;
  }
  if (r->rd_up && r->refs > 0) read_next(r);
}

static void read_next(sio_redis_streams_t *r) {
  if (r->reading || !r->rd_up) return;
  if (!r->cursor_known) {
    const char *argv[5] = {"XREVRANGE", r->stream, "+", "-", "COUNT"};
    const char *full[6] = {argv[0], argv[1], argv[2], argv[3], argv[4], "1"};
    if (sio__rconn_command(r->rd, on_last_id, r, 6, full, NULL) == 0) r->reading = 1;
    return;
  }
  char from[SIO__XID_MAX + 1];
  sio__xid_format(r->cursor, from);
  const char *argv[7] = {"XREAD", "BLOCK", r->block_s, "COUNT", r->count_s, "STREAMS", r->stream};
  const char *full[8];
  memcpy(full, argv, sizeof argv);
  full[7] = from;
  if (sio__rconn_command(r->rd, on_xread, r, 8, full, NULL) == 0) r->reading = 1;
}

/* ---------------------------------------------------------------------------------
 * The adapter hooks (outgoing)
 * ------------------------------------------------------------------------------ */

static int hook_broadcast(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt) {
  xadapter_t *a = self;
  json_t *data = sio__xsa_broadcast_data(a, to, pkt, -1);
  if (data == NULL) return SIO_ENOMEM;
  const sio_args_t *args = pkt->args;
  /* Best effort, as socket.io: a publish that cannot go out is counted, not an error. */
  int rc = sio__xsa_xadd(a, SIO__XS_BROADCAST, data, args ? args->att : NULL, args ? args->natt : 0, NULL, NULL);
  json_decref(data);
  return rc == SIO_ENOMEM ? rc : 0;
}

/* SOCKETS_JOIN / SOCKETS_LEAVE / DISCONNECT_SOCKETS: {opts: {rooms, except, flags}, key}. */
static int selection_entry(xadapter_t *a, int type, const sio_broadcast_opts_t *to, const char *key, json_t *value) {
  json_t *opts = sio__radp_sel_json(to);
  if (opts) json_object_set_new(opts, "flags", json_object());
  json_t *data = json_pack("{s:o}", "opts", opts);
  if (data) json_object_set_new(data, key, value);
  else json_decref(value);
  if (data == NULL) return SIO_ENOMEM;
  sio__xsa_xadd(a, type, data, NULL, 0, NULL, NULL);
  json_decref(data);
  return 0;
}

static int hook_sockets_join(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  return selection_entry(self, SIO__XS_SOCKETS_JOIN, to, "rooms", json_pack("[s]", room));
}

static int hook_sockets_leave(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  return selection_entry(self, SIO__XS_SOCKETS_LEAVE, to, "rooms", json_pack("[s]", room));
}

static int hook_disconnect_sockets(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, int close) {
  return selection_entry(self, SIO__XS_DISCONNECT_SOCKETS, to, "close", json_boolean(close));
}

static int hook_broadcast_with_ack(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to,
                                   const sio_packet_view_t *pkt, uint64_t timeout_ms, sio_adapter_acks_t *acks) {
  xadapter_t *a = self;
  request_t *q = request_new(a, SIO__XS_BROADCAST, "broadcast with acks", timeout_ms);
  if (q == NULL) return SIO_ENOMEM;
  json_t *data = sio__xsa_broadcast_data(a, to, pkt, (int64_t)timeout_ms);
  if (data == NULL || json_object_set_new(data, "requestId", json_string(q->id)) != 0) {
    json_decref(data);
    request_finish(q, SIO_ENOMEM);
    return SIO_ENOMEM;
  }
  q->acks = acks;
  const sio_args_t *args = pkt->args;
  request_send(q, data, args ? args->att : NULL, args ? args->natt : 0);
  return 0;
}

/* A FETCH_SOCKETS request for h: {opts, requestId}. */
static int fetch_request(xadapter_t *a, const sio_broadcast_opts_t *to, sio_adapter_query_t *h, const char *what,
                         int ids_only, int rooms_only) {
  request_t *q = request_new(a, SIO__XS_FETCH_SOCKETS, what, a->r->timeout_ms);
  if (q == NULL) return SIO_ENOMEM;
  q->ids_only = ids_only;
  q->rooms_only = rooms_only;
  json_t *opts = sio__radp_sel_json(to);
  if (opts) json_object_set_new(opts, "flags", json_object());
  json_t *data = json_pack("{s:o,s:s}", "opts", opts, "requestId", q->id);
  if (data == NULL) {
    request_finish(q, SIO_ENOMEM);
    return SIO_ENOMEM;
  }
  q->q = h;
  request_send(q, data, NULL, 0);
  return 0;
}

static int hook_fetch_sockets(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_adapter_query_t *h) {
  return fetch_request(self, to, h, "fetchSockets", 0, 0);
}

static int hook_all_sockets(void *self, sio_ns_t *ns, const char *const *rooms, size_t nrooms, sio_adapter_query_t *h) {
  sio_broadcast_opts_t to = {rooms, nrooms, NULL, 0, 0};
  return fetch_request(self, &to, h, "allSockets", 1, 0);
}

static int hook_all_rooms(void *self, sio_ns_t *ns, sio_adapter_query_t *h) {
  return fetch_request(self, NULL, h, "allRooms", 0, 1);
}

static int hook_server_count(void *self, sio_ns_t *ns, sio_adapter_query_t *h) {
  xadapter_t *a = self;
  request_t *q = request_new(a, -1, "serverCount", a->r->timeout_ms);
  if (q == NULL) return SIO_ENOMEM;
  q->q = h;
  request_send(q, NULL, NULL, 0);
  return 0;
}

static int hook_server_side_emit(void *self, sio_ns_t *ns, const char *event, const sio_args_t *args,
                                 sio_adapter_query_t *h) {
  xadapter_t *a = self;
  json_t *packet = json_array();
  if (packet == NULL) return SIO_ENOMEM;
  json_array_append_new(packet, json_string(event));
  for (size_t i = 0; i < sio_args_count(args); i++) json_array_append(packet, sio__args_json(args, i));
  sio__refbuf_t *const *att = args ? args->att : NULL;
  uint32_t natt = args ? args->natt : 0;
  if (h == NULL) {
    json_t *data = json_pack("{s:o}", "packet", packet);
    if (data) publish_msg(a, a->channel, SIO__XS_SERVER_SIDE_EMIT, data, att, natt);
    json_decref(data);
    return 0;
  }
  request_t *q = request_new(a, SIO__XS_SERVER_SIDE_EMIT, "serverSideEmit", a->r->timeout_ms);
  json_t *data = q ? json_pack("{s:s,s:o}", "requestId", q->id, "packet", packet) : NULL;
  if (data == NULL) {
    if (q) request_finish(q, SIO_ENOMEM);
    else json_decref(packet);
    return SIO_ENOMEM;
  }
  q->q = h;
  request_send(q, data, att, natt);
  return 0;
}

static void unsubscribe(xadapter_t *a);

static void hook_destroy(void *self) {
  xadapter_t *a = self;
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&a->requests, &it, NULL, NULL, &v)) {
    request_finish(v, SIO_ECANCELED);
    it = 0;
  }
  sio__map_free(&a->requests);
  sio__xsa_release_held(a);
  unsubscribe(a);
  sio__map_del(&a->r->nsps, sio_ns_name(a->ns), strlen(sio_ns_name(a->ns)));
  sio__list_remove(&a->link);
  sio_redis_streams_t *r = a->r;
  sio__free(a->channel);
  sio__free(a->own_channel);
  sio__free(a);
  sio__xsa_client_unref(r);
}

static const sio_adapter_vtable_t streams_vtable = {
    SIO_ADAPTER_VERSION,     hook_broadcast,     hook_sockets_join, hook_sockets_leave,  hook_disconnect_sockets,
    hook_destroy,            hook_broadcast_with_ack, hook_fetch_sockets, hook_all_sockets, hook_all_rooms,
    hook_server_count,       hook_server_side_emit,   sio__xsa_publish_offset, sio__xsa_persist_session,
    sio__xsa_restore_session,
};

/* ---------------------------------------------------------------------------------
 * Subscriptions
 * ------------------------------------------------------------------------------ */

static void check_recovered(sio_redis_streams_t *r) {
  if (!sio_redis_streams_connected(r) || (r->was_up && !r->outage)) return;
  if (r->was_up) {
    r->stats.reconnects++;
    SIO_LOGI("redis streams adapter: reconnected to %s (%llu messages to other nodes were sio__xsa_dropped meanwhile)",
             r->where, (unsigned long long)(r->stats.dropped - r->dropped_before));
  } else {
    SIO_LOGI("redis streams adapter: connected to %s, stream \"%s\"", r->where, r->stream);
  }
  r->outage = 0;
  r->was_up = 1;
}

static void on_sub_message(redisAsyncContext *ac, void *reply, void *priv) {
  sio_redis_streams_t *r = priv;
  redisReply *rep = reply;
  if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return;
  redisReply **e = rep->element;
  if (e[0]->type != REDIS_REPLY_STRING) return;
  if (strcmp(e[0]->str, "message") == 0 && e[1]->type == REDIS_REPLY_STRING && e[2]->type == REDIS_REPLY_STRING) {
    xadapter_t *a = sio__map_get(&r->routes, e[1]->str, e[1]->len);
    if (a == NULL) return;
    sio__mp_value_t v;
    if (sio__xs_decode_message(e[2]->str, e[2]->len, &v) != 0) {
      SIO_LOGD("redis streams adapter: sio__xsa_dropped a malformed message on %.*s", (int)e[1]->len, e[1]->str);
      return;
    }
    json_t *nsp = json_object_get(v.root, "nsp");
    if (json_is_string(nsp) && strcmp(json_string_value(nsp), sio_ns_name(a->ns)) == 0) {
      if (e[1]->len == strlen(a->own_channel) && memcmp(e[1]->str, a->own_channel, e[1]->len) == 0)
        handle_response(a, &v);
      else handle_request(a, &v);
    }
    sio__mp_value_free(&v);
  } else if (strcmp(e[0]->str, "subscribe") == 0 && r->confirming > 0) {
    if (--r->confirming == 0) check_recovered(r);
  }
}

static void subscribe(xadapter_t *a) {
  sio_redis_streams_t *r = a->r;
  if (!r->sub_up) return;
  const char *s[3] = {"SUBSCRIBE", a->channel, a->own_channel};
  if (sio__rconn_command(r->sub, on_sub_message, r, 3, s, NULL) == 0) r->confirming += 2;
}

static void unsubscribe(xadapter_t *a) {
  sio_redis_streams_t *r = a->r;
  sio__map_del(&r->routes, a->channel, strlen(a->channel));
  sio__map_del(&r->routes, a->own_channel, strlen(a->own_channel));
  if (!r->sub_up) return;
  const char *s[3] = {"UNSUBSCRIBE", a->channel, a->own_channel};
  sio__rconn_command(r->sub, NULL, NULL, 3, s, NULL);
}

/* ---------------------------------------------------------------------------------
 * The client: connections, lifetime
 * ------------------------------------------------------------------------------ */

static void on_conn_up(sio__rconn_t *c, void *user) {
  sio_redis_streams_t *r = user;
  if (c == r->pub) r->pub_up = 1;
  if (c == r->rd) {
    r->rd_up = 1;
    r->reading = 0;
    read_next(r);
  }
  if (c == r->sub) {
    r->sub_up = 1;
    r->confirming = 0;
    sio__list_t *it;
    sio__list_foreach(it, &r->adapters) subscribe(sio__container_of(it, xadapter_t, link));
  }
  check_recovered(r);
}

static void on_conn_down(sio__rconn_t *c, const char *why, void *user) {
  sio_redis_streams_t *r = user;
  if (c == r->pub) r->pub_up = 0;
  if (c == r->sub) r->sub_up = 0;
  if (c == r->rd) r->rd_up = 0;
  if (r->outage) return;
  r->outage = 1;
  r->dropped_before = r->stats.dropped;
  if (r->was_up) {
    SIO_LOGW("redis streams adapter: lost Redis at %s (%s): local delivery goes on, messages to other nodes are "
             "sio__xsa_dropped until it is back; reconnecting",
             r->where, why);
  } else {
    SIO_LOGW("redis streams adapter: cannot reach Redis at %s (%s): serving this process only until it is "
             "reachable (is redis-server running? check --redis-streams); retrying",
             r->where, why);
  }
}

static void client_free(sio_redis_streams_t *r) {
  if (r->pub || r->sub || r->rd) return;
  sio__map_free(&r->routes);
  sio__map_free(&r->nsps);
  sio__redis_url_free(&r->url);
  sio__free(r->where);
  sio__free(r->stream);
  sio__free(r->chan_prefix);
  sio__free(r->sess_prefix);
  sio__free(r);
}

static void on_conn_closed(sio__rconn_t *c, void *user) {
  sio_redis_streams_t *r = user;
  if (c == r->pub) r->pub = NULL;
  if (c == r->sub) r->sub = NULL;
  if (c == r->rd) r->rd = NULL;
  client_free(r);
}

void sio__xsa_client_unref(sio_redis_streams_t *r) {
  if (--r->refs > 0) return;
  r->pub_up = r->sub_up = r->rd_up = 0;
  sio__rconn_t *pub = r->pub, *sub = r->sub, *rd = r->rd;
  if (pub == NULL && sub == NULL && rd == NULL) {
    client_free(r);
    return;
  }
  if (sub) sio__rconn_close(sub, 0);
  if (rd) sio__rconn_close(rd, 0);
  if (pub) sio__rconn_close(pub, 1);
}

static void on_server_close(void *arg) { sio__xsa_client_unref(arg); }

static int attach_ns(sio_ns_t *ns, void *user) {
  sio_redis_streams_t *r = user;
  xadapter_t *a = sio__calloc(1, sizeof *a);
  if (a == NULL) return SIO_ENOMEM;
  a->r = r;
  a->ns = ns;
  hex_id(a->uid);
  sio__list_init(&a->held);
  const char *nsp = sio_ns_name(ns);
  a->channel = sio__radp_concat(r->chan_prefix, "#", nsp, "#");
  a->own_channel = a->channel ? sio__radp_concat(a->channel, a->uid, "#", NULL) : NULL;
  int rc = SIO_ENOMEM;
  if (a->channel && a->own_channel && sio__map_put(&r->routes, a->channel, strlen(a->channel), a) == 0 &&
      sio__map_put(&r->routes, a->own_channel, strlen(a->own_channel), a) == 0 &&
      sio__map_put(&r->nsps, nsp, strlen(nsp), a) == 0) {
    rc = sio_ns_set_adapter(ns, &streams_vtable, a);
  }
  if (rc) {
    if (a->channel && sio__map_get(&r->routes, a->channel, strlen(a->channel)) == a)
      sio__map_del(&r->routes, a->channel, strlen(a->channel));
    if (a->own_channel && sio__map_get(&r->routes, a->own_channel, strlen(a->own_channel)) == a)
      sio__map_del(&r->routes, a->own_channel, strlen(a->own_channel));
    if (sio__map_get(&r->nsps, nsp, strlen(nsp)) == a) sio__map_del(&r->nsps, nsp, strlen(nsp));
    sio__free(a->channel);
    sio__free(a->own_channel);
    sio__free(a);
    return rc;
  }
  r->refs++;
  sio__list_insert_tail(&r->adapters, &a->link);
  subscribe(a);
  return 0;
}

void sio_redis_streams_opts_init(sio_redis_streams_opts_t *o) {
  o->url = "redis://127.0.0.1:6379";
  o->stream_name = "socket.io";
  o->maxlen = 10000;
  o->channel_prefix = "socket.io";
  o->session_prefix = "sio:session:";
  o->read_count = 100;
  o->block_ms = 5000;
  o->requests_timeout_ms = 5000;
  o->max_pending = 65536;
  o->max_restores = 1024;
}

int sio_redis_streams_attach(sio_server_t *io, const sio_redis_streams_opts_t *opts, sio_redis_streams_t **out) {
  sio_redis_streams_opts_t d;
  sio_redis_streams_opts_init(&d);
  if (opts == NULL) opts = &d;
  if (opts->stream_name == NULL || opts->stream_name[0] == '\0' || opts->channel_prefix == NULL ||
      opts->channel_prefix[0] == '\0' || opts->session_prefix == NULL || opts->maxlen == 0)
    return SIO_EINVAL;
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) {
    if (((sio_ns_t *)v)->adapter) return SIO_EBUSY;
  }
  sio_redis_streams_t *r = sio__calloc(1, sizeof *r);
  if (r == NULL) return SIO_ENOMEM;
  int rc = sio__redis_url_parse(opts->url ? opts->url : d.url, &r->url);
  if (rc) {
    sio__free(r);
    return rc;
  }
  r->loop = sio_http_loop(sio_server_http(io));
  r->timeout_ms = opts->requests_timeout_ms ? opts->requests_timeout_ms : d.requests_timeout_ms;
  r->max_pending = opts->max_pending ? opts->max_pending : d.max_pending;
  r->max_restores = opts->max_restores ? opts->max_restores : d.max_restores;
  snprintf(r->maxlen_s, sizeof r->maxlen_s, "%zu", opts->maxlen);
  snprintf(r->count_s, sizeof r->count_s, "%u", opts->read_count ? opts->read_count : d.read_count);
  snprintf(r->block_s, sizeof r->block_s, "%llu", (unsigned long long)(opts->block_ms ? opts->block_ms : d.block_ms));
  r->stream = sio__strdup(opts->stream_name);
  r->chan_prefix = sio__strdup(opts->channel_prefix);
  r->sess_prefix = sio__strdup(opts->session_prefix);
  r->refs = 1;
  sio__list_init(&r->adapters);
  sio__buf_t where = SIO__BUF_INIT;
  if (sio__buf_appendf(&where, strchr(r->url.host, ':') ? "redis://[%s]:%d" : "redis://%s:%d", r->url.host,
                       r->url.port) == 0 &&
      sio__buf_append_byte(&where, 0) == 0)
    r->where = sio__buf_steal(&where, NULL);
  sio__buf_free(&where);
  static const sio__rconn_cbs_t cbs = {on_conn_up, on_conn_down, on_conn_closed};
  if (r->stream == NULL || r->chan_prefix == NULL || r->sess_prefix == NULL || r->where == NULL) {
    sio__xsa_client_unref(r);
    return SIO_ENOMEM;
  }
  sio__http_add_closer(sio_server_http(io), &r->closer, on_server_close, r);
  if ((rc = sio__rconn_new(r->loop, &r->url, &cbs, r, &r->pub)) != 0 ||
      (rc = sio__rconn_new(r->loop, &r->url, &cbs, r, &r->sub)) != 0 ||
      (rc = sio__rconn_new(r->loop, &r->url, &cbs, r, &r->rd)) != 0) {
    return rc;
  }
  rc = sio_server_set_adapter_factory(io, attach_ns, r);
  if (rc == 0 && out) *out = r;
  return rc;
}

int sio_redis_streams_connected(const sio_redis_streams_t *r) {
  return r->pub_up && r->sub_up && r->rd_up && r->confirming == 0;
}

void sio_redis_streams_stats(const sio_redis_streams_t *r, sio_redis_stats_t *out) { *out = r->stats; }
