/*
 * The Redis adapter (socket.io-redis-adapter lib/index.ts, classic mode): one per
 * namespace, sharing one publisher and one subscriber connection (redis_conn.c) per
 * server. It implements the version-2 adapter hooks of sio/adapter.h on the wire format
 * of @socket.io/redis-adapter 8.x (redis_codec.c; docs/redis.md), so it interoperates
 * with Node processes running that adapter.
 *
 *   outgoing  broadcast -> PUBLISH P#nsp#[room#] [uid, packet, opts] (msgpack)
 *             socketsJoin/Leave, disconnectSockets, serverSideEmit -> JSON request
 *             queries -> request with a requestId, PUBSUB NUMSUB for the number of
 *             nodes, then responses gathered until every other node answered or the
 *             requests timeout
 *   incoming  broadcasts (ours ignored by uid, rooms we do not have skipped before
 *             decoding), requests (applied locally with SIO_BCAST_LOCAL, answered on
 *             the response channel), responses (matched by requestId)
 *
 * Never a crash on what another node sends: anything that does not decode or has the
 * wrong shape is dropped with a debug line. Redis going away is logged once; while it
 * is away publishes are dropped and queries answer with the local part (SIO_ECLOSED).
 * Layer: adapter (uses the sio layer's internals for zero-copy argument views).
 */
#include "sio/redis.h"

#include <string.h>

#include "adapter/redis_codec.h"
#include "adapter/redis_conn.h"
#include "adapter/redis_req.h"
#include "adapter/redis_shared.h"
#include "common/alloc.h"
#include "common/log.h"
#include "http/server.h"
#include "sio/json.h"
#include "sio/sio.h"

#define UID_LEN 6 /* uid2(6), as the JS adapter */

struct sio_redis_s {
  uv_loop_t *loop;
  sio__http_closer_t closer; /* on_server_close at sio_http_close */
  sio__redis_url_t url;
  char *where;              /* "redis://host:port" for logs (never the password) */
  char *prefix;
  uint64_t timeout_ms;
  sio__rconn_t *pub, *sub;
  sio__list_t adapters;     /* adapter_t.link */
  sio__map_t routes;        /* subscribed channel / pattern -> adapter_t* */
  uint32_t refs;            /* the server's, one per adapter */
  uint32_t confirming;      /* (p)subscribe confirmations still awaited */
  uint8_t pub_up, sub_up;
  uint8_t was_up;           /* has been fully connected at least once */
  uint8_t outage;           /* a loss was logged and not yet recovered */
  uint8_t backlog_logged;
  sio_redis_stats_t stats;
  uint64_t dropped_before;  /* stats.dropped when the current outage began */
};

typedef struct {
  sio_redis_t *r;
  sio_ns_t *ns;
  char uid[UID_LEN + 1];
  char *channel;            /* P#nsp# */
  char *pattern;            /* P#nsp#* */
  char *req_channel;        /* P-request#nsp# */
  char *resp_channel;       /* P-response#nsp# */
  char *own_resp_channel;   /* P-response#nsp#uid# */
  sio__map_t requests;      /* requestId -> request_t* */
  sio__redis_req_owner_t reqs; /* lends requests (requestId map, loop, id) */
  sio__list_t link;
} adapter_t;

/* A request of ours waiting for the other nodes (redis_req.h). */
typedef sio__redis_req_t request_t;

static void client_unref(sio_redis_t *r);

/* ---------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------ */

static int publish_raw(sio_redis_t *r, const char *channel, const char *msg, size_t len);

/* Publishes a JSON object (JSON.stringify-exact, the JS adapter's encoding of requests
 * and most responses); consumes obj. */
static int publish_json(sio_redis_t *r, const char *channel, json_t *obj) {
  if (obj == NULL) return SIO_ENOMEM;
  sio__buf_t b = SIO__BUF_INIT;
  int rc = sio__json_write(&b, obj);
  json_decref(obj);
  if (rc == 0) rc = publish_raw(r, channel, b.base, b.len);
  sio__buf_free(&b);
  return rc;
}

/* Notes a publish that could not go out; logged once per episode. */
static void dropped(sio_redis_t *r, int why) {
  sio__radp_dropped("redis adapter", r->where, &r->stats.dropped, &r->backlog_logged, why);
}

static int publish_raw(sio_redis_t *r, const char *channel, const char *msg, size_t len) {
  const char *argv[3] = {"PUBLISH", channel, msg};
  size_t lens[3] = {7, strlen(channel), len};
  int rc = r->pub ? sio__rconn_command(r->pub, NULL, NULL, 3, argv, lens) : SIO_ECLOSED;
  if (rc == 0) {
    r->stats.published++;
    r->backlog_logged = 0;
  } else {
    dropped(r, rc);
  }
  return rc;
}

/* ---------------------------------------------------------------------------------
 * Our requests and their answers
 * ------------------------------------------------------------------------------ */

static request_t *request_new(adapter_t *a, int type, const char *what, uint64_t timeout_ms) {
  return sio__redis_req_new(&a->reqs, a, a->ns, type, what, timeout_ms);
}

/*
 * Sends a request (msg, already encoded) and asks how many nodes should answer. The
 * request goes out first, so the other nodes start at once; answers that arrive before
 * the count are kept and checked when it comes. Redis down: finished at once with
 * SIO_ECLOSED (the local part is delivered). Returns 0 (q now finishes on its own).
 */
static int request_send(request_t *q, const char *msg, size_t len) {
  adapter_t *a = q->a;
  sio_redis_t *r = a->r;
  if (msg && publish_raw(r, a->req_channel, msg, len) != 0) {
    sio__redis_req_finish(q, SIO_ECLOSED);
    return 0;
  }
  const char *argv[3] = {"PUBSUB", "NUMSUB", a->req_channel};
  if (r->pub && sio__rconn_command(r->pub, sio__redis_req_on_numsub, q, 3, argv, NULL) == 0) {
    q->inflight++;
  } else {
    sio__redis_req_finish(q, SIO_ECLOSED);
  }
  return 0;
}

/* Starts a JSON request {uid, requestId, type, ...extra} for query handle h. */
static int json_request(adapter_t *a, int type, const char *what, sio_adapter_query_t *h, json_t *extra) {
  request_t *q = request_new(a, type, what, a->r->timeout_ms);
  if (q == NULL) {
    json_decref(extra);
    return SIO_ENOMEM;
  }
  q->q = h;
  /* Key order of the JS adapter's object literals: uid, requestId, type, then the rest. */
  json_t *obj = json_pack("{s:s,s:s,s:i}", "uid", a->uid, "requestId", q->id, "type", type);
  if (obj && extra) json_object_update(obj, extra);
  json_decref(extra);
  sio__buf_t b = SIO__BUF_INIT;
  int rc = obj ? sio__json_write(&b, obj) : SIO_ENOMEM;
  json_decref(obj);
  if (rc) {
    /* Nothing went out: take the request back without running the callback. */
    q->q = NULL;
    sio__redis_req_finish(q, rc);
    sio__buf_free(&b);
    return rc;
  }
  request_send(q, b.base, b.len);
  sio__buf_free(&b);
  return 0;
}

/* Adds the strings of array member key of resp. */
static void add_names(sio_adapter_query_t *h, json_t *resp, const char *key) {
  json_t *arr = json_object_get(resp, key), *e;
  size_t i;
  json_array_foreach(arr, i, e) {
    if (json_is_string(e)) sio_adapter_query_add_name(h, json_string_value(e), json_string_length(e));
  }
}

/* A response on one of our response channels. */
static void handle_response(adapter_t *a, const char *msg, size_t len) {
  sio__mp_value_t v;
  if (sio__redis_decode_message(msg, len, &v) != 0) {
    SIO_LOGD("redis adapter: dropped a malformed response on %s", a->resp_channel);
    return;
  }
  json_t *rid = json_object_get(v.root, "requestId");
  request_t *q = json_is_string(rid) ? sio__map_get(&a->requests, json_string_value(rid), json_string_length(rid)) : NULL;
  if (q == NULL || q->finished) {
    sio__mp_value_free(&v); /* someone else's, or late */
    return;
  }
  json_t *type = json_object_get(v.root, "type");
  switch (q->type) {
  case SIO__RREQ_SOCKETS:
    add_names(q->q, v.root, "sockets");
    q->got++;
    break;
  case SIO__RREQ_ALL_ROOMS:
    add_names(q->q, v.root, "rooms");
    q->got++;
    break;
  case SIO__RREQ_REMOTE_FETCH: {
    json_t *arr = json_object_get(v.root, "sockets"), *s;
    size_t i;
    if (!json_is_array(arr)) break; /* the JS adapter ignores such answers too */
    json_array_foreach(arr, i, s) sio__radp_add_fetched(q->q, s);
    q->got++;
    break;
  }
  case SIO__RREQ_SERVER_SIDE_EMIT: {
    sio__redis_req_add_value(q, json_object_get(v.root, "data"), v.att, v.natt);
    break;
  }
  case SIO__RREQ_BROADCAST:
    if (json_integer_value(type) == SIO__RREQ_BROADCAST_CLIENT_COUNT) {
      json_t *n = json_object_get(v.root, "clientCount");
      q->clients += json_is_integer(n) && json_integer_value(n) > 0 ? (size_t)json_integer_value(n) : 0;
      q->got++;
    } else if (json_integer_value(type) == SIO__RREQ_BROADCAST_ACK) {
      sio__redis_req_add_ack(q, json_object_get(v.root, "packet"), v.att, v.natt);
    }
    break;
  }
  a->r->stats.received++;
  sio__redis_req_check(q);
  sio__mp_value_free(&v);
}

/* ---------------------------------------------------------------------------------
 * Requests from the other nodes
 * ------------------------------------------------------------------------------ */

/* Publishes {requestId, key: value} (consumes value) on the response channel. */
static void respond(adapter_t *a, json_t *rid, const char *key, json_t *value) {
  json_t *obj = json_pack("{s:O}", "requestId", rid);
  if (obj && key) json_object_set_new(obj, key, value);
  else json_decref(value);
  publish_json(a->r, a->resp_channel, obj);
}

static void add_socket_id(int status, sio_socket_t *const *sockets, size_t n, void *u) {
  for (size_t i = 0; status == 0 && i < n; i++) json_array_append_new(u, json_string(sio_socket_id(sockets[i])));
}

static void add_room_name(sio_str_t room, size_t size, int is_sid, void *u) {
  json_array_append_new(u, json_stringn(room.ptr, room.len));
}

/* The local part of an old-style request {sid, room} / {sid, close}: one socket. */
static void legacy_one(adapter_t *a, json_t *req, int type) {
  json_t *sid = json_object_get(req, "sid"), *room = json_object_get(req, "room");
  if (!json_is_string(sid)) return;
  const char *rooms[] = {json_string_value(sid)};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, SIO_BCAST_LOCAL};
  if (type == SIO__RREQ_REMOTE_DISCONNECT) {
    if (sio_ns_room_size(a->ns, rooms[0]) == 0) return;
    sio_ns_disconnect_sockets(a->ns, &to, json_is_true(json_object_get(req, "close")));
  } else {
    if (!json_is_string(room) || sio_ns_room_size(a->ns, rooms[0]) == 0) return;
    json_t *list = json_pack("[O]", room);
    sio__radp_rooms_op_t op = {list, type == SIO__RREQ_REMOTE_JOIN};
    sio_ns_fetch_sockets(a->ns, &to, sio__radp_apply_rooms, &op);
    json_decref(list);
  }
  json_t *rid = json_object_get(req, "requestId");
  if (rid) respond(a, rid, NULL, NULL);
}

/* ---- serverSideEmit with an ack: the answer goes back as JSON ---- */

typedef struct {
  sio_redis_t *r;           /* referenced */
  char *channel;            /* response channel */
  json_t *rid;
} reply_ctx_t;

static void on_server_side_reply(void *u, const sio_args_t *args) {
  reply_ctx_t *c = u;
  if (args) {
    /* {type: 6, requestId, data}: only the first argument travels (socket.io's callback
     * takes one); no argument leaves data out, as JSON.stringify drops undefined. */
    json_t *obj = json_pack("{s:i,s:O}", "type", SIO__RREQ_SERVER_SIDE_EMIT, "requestId", c->rid);
    if (obj && sio_args_count(args) > 0)
      json_object_set_new(obj, "data", sio__radp_node_json(sio__args_json(args, 0), args->att, args->natt));
    publish_json(c->r, c->channel, obj);
  }
  json_decref(c->rid);
  sio__free(c->channel);
  client_unref(c->r);
  sio__free(c);
}

/* ---- BROADCAST (with acks) for a remote requester ---- */

typedef struct {
  sio_redis_t *r; /* referenced */
  char *channel;
  char rid[64];
} bcast_ctx_t;

static void bcast_each(const sio_args_t *args, void *u) {
  bcast_ctx_t *c = u;
  sio__buf_t b = SIO__BUF_INIT;
  json_t *arr = sio__args_tree(args);
  if (arr && sio__redis_encode_bcast_ack(&b, c->rid, arr, 0, args->att, args->natt) == 0)
    publish_raw(c->r, c->channel, b.base, b.len);
  json_decref(arr);
  sio__buf_free(&b);
}

static void bcast_end(int status, void *u) {
  bcast_ctx_t *c = u;
  sio__free(c->channel);
  client_unref(c->r);
  sio__free(c);
}

static void remote_broadcast_with_ack(adapter_t *a, sio__mp_value_t *v) {
  json_t *rid = json_object_get(v->root, "requestId");
  sio__redis_bcast_t b;
  memset(&b, 0, sizeof b);
  if (!json_is_string(rid) || json_string_length(rid) >= 64 ||
      sio__redis_read_bcast(json_object_get(v->root, "packet"), json_object_get(v->root, "opts"), &b) != 0) {
    SIO_LOGD("redis adapter: dropped a malformed BROADCAST request on %s", a->req_channel);
    return;
  }
  bcast_ctx_t *c = sio__calloc(1, sizeof *c);
  if (c == NULL || (c->channel = sio__strdup(a->resp_channel)) == NULL) {
    sio__free(c);
    sio__free((void *)b.rooms);
    sio__free((void *)b.except);
    return;
  }
  c->r = a->r;
  a->r->refs++;
  memcpy(c->rid, json_string_value(rid), json_string_length(rid) + 1);
  sio_args_t args;
  sio__args_view(&args, b.data, 1, v->att, v->natt);
  sio_broadcast_opts_t to = {b.rooms, b.nrooms, b.except, b.nexcept, SIO_BCAST_LOCAL};
  uint64_t timeout = b.timeout_ms >= 0 ? (uint64_t)b.timeout_ms : a->r->timeout_ms;
  int count = sio_adapter_emit_with_ack_local(a->ns, &to, json_string_value(json_array_get(b.data, 0)), &args,
                                              timeout, bcast_each, bcast_end, c);
  if (count < 0) bcast_end(0, c);
  /* The count goes out after the packets, before any answer (answers need a round trip
   * to a client), as in socket-io-adapter's broadcastWithAck. */
  json_t *obj = json_pack("{s:i,s:O,s:i}", "type", SIO__RREQ_BROADCAST_CLIENT_COUNT, "requestId", rid, "clientCount",
                          count < 0 ? 0 : count);
  publish_json(a->r, a->resp_channel, obj);
  sio__free((void *)b.rooms);
  sio__free((void *)b.except);
}

/* A request from another node (or our own, echoed back by Redis: ignored). */
static void handle_request(adapter_t *a, const char *msg, size_t len) {
  sio__mp_value_t v;
  if (sio__redis_decode_message(msg, len, &v) != 0) {
    SIO_LOGD("redis adapter: dropped a malformed request on %s", a->req_channel);
    return;
  }
  json_t *req = v.root;
  json_t *uid = json_object_get(req, "uid"), *rid = json_object_get(req, "requestId");
  json_t *type = json_object_get(req, "type");
  if ((json_is_string(uid) && strcmp(json_string_value(uid), a->uid) == 0) ||
      (json_is_string(rid) && sio__map_get(&a->requests, json_string_value(rid), json_string_length(rid)))) {
    sio__mp_value_free(&v);
    return;
  }
  a->r->stats.received++;
  sio__radp_sel_t sel;
  switch (json_is_integer(type) ? (int)json_integer_value(type) : -1) {
  case SIO__RREQ_SOCKETS: {
    if (!rid) break;
    /* Only rooms count here, as in the JS adapter's sockets(rooms). */
    if (sio__radp_read_sel(req, &sel) != 0) break;
    sel.to.nexcept = 0;
    json_t *ids = json_array();
    sio_ns_fetch_sockets(a->ns, &sel.to, add_socket_id, ids);
    respond(a, rid, "sockets", ids);
    sio__radp_sel_free(&sel);
    break;
  }
  case SIO__RREQ_ALL_ROOMS: {
    if (!rid) break;
    json_t *rooms = json_array();
    sio_ns_rooms(a->ns, add_room_name, rooms);
    respond(a, rid, "rooms", rooms);
    break;
  }
  case SIO__RREQ_REMOTE_JOIN:
  case SIO__RREQ_REMOTE_LEAVE: {
    json_t *opts = json_object_get(req, "opts");
    if (opts == NULL) {
      legacy_one(a, req, (int)json_integer_value(type));
      break;
    }
    if (sio__radp_read_sel(opts, &sel) != 0) break;
    /* One selection for every room (adapter.addSockets / delSockets). */
    sio__radp_rooms_op_t op = {json_object_get(req, "rooms"), json_integer_value(type) == SIO__RREQ_REMOTE_JOIN};
    if (json_is_array(op.rooms)) sio_ns_fetch_sockets(a->ns, &sel.to, sio__radp_apply_rooms, &op);
    sio__radp_sel_free(&sel);
    break;
  }
  case SIO__RREQ_REMOTE_DISCONNECT: {
    json_t *opts = json_object_get(req, "opts");
    if (opts == NULL) {
      legacy_one(a, req, SIO__RREQ_REMOTE_DISCONNECT);
      break;
    }
    if (sio__radp_read_sel(opts, &sel) != 0) break;
    sio_ns_disconnect_sockets(a->ns, &sel.to, json_is_true(json_object_get(req, "close")));
    sio__radp_sel_free(&sel);
    break;
  }
  case SIO__RREQ_REMOTE_FETCH: {
    if (!rid || sio__radp_read_sel(json_object_get(req, "opts"), &sel) != 0) break;
    json_t *list = json_array();
    sio_ns_fetch_sockets_all(a->ns, &sel.to, sio__radp_fetch_entries, list);
    respond(a, rid, "sockets", list);
    sio__radp_sel_free(&sel);
    break;
  }
  case SIO__RREQ_SERVER_SIDE_EMIT: {
    json_t *data = json_object_get(req, "data");
    if (!json_is_array(data) || !json_is_string(json_array_get(data, 0))) break;
    sio_args_t args;
    sio__args_view(&args, data, 1, v.att, v.natt);
    reply_ctx_t *c = NULL;
    if (rid) {
      c = sio__calloc(1, sizeof *c);
      if (c == NULL || (c->channel = sio__strdup(a->resp_channel)) == NULL) {
        sio__free(c);
        break;
      }
      c->r = a->r;
      a->r->refs++;
      c->rid = json_incref(rid);
    }
    if (sio_adapter_server_side_dispatch(a->ns, json_string_value(json_array_get(data, 0)), &args,
                                         c ? on_server_side_reply : NULL, c) != 0 && c) {
      json_decref(c->rid);
      sio__free(c->channel);
      client_unref(c->r);
      sio__free(c);
    }
    break;
  }
  case SIO__RREQ_BROADCAST:
    remote_broadcast_with_ack(a, &v);
    break;
  default:
    SIO_LOGD("redis adapter: ignored a request of unknown type on %s", a->req_channel);
  }
  sio__mp_value_free(&v);
}

/* ---------------------------------------------------------------------------------
 * Broadcasts from the other nodes
 * ------------------------------------------------------------------------------ */

static void handle_broadcast(adapter_t *a, const char *channel, size_t clen, const char *msg, size_t len) {
  size_t plen = strlen(a->channel);
  if (clen < plen || memcmp(channel, a->channel, plen) != 0) return;
  /* P#nsp#room#: skip rooms we have no member of before paying for the decode. P#nsp#
   * itself carries broadcasts to everyone or to several rooms. */
  if (clen > plen) {
    char small[256], *room = small;
    size_t rlen = clen - plen - 1;
    if (rlen == 0 || channel[clen - 1] != '#') return;
    if (rlen >= sizeof small && (room = sio__malloc(rlen + 1)) == NULL) return;
    memcpy(room, channel + plen, rlen);
    room[rlen] = '\0';
    size_t members = sio_ns_room_size(a->ns, room);
    if (room != small) sio__free(room);
    if (members == 0) return;
  }
  /* Our own broadcasts come back too (we are subscribed to the pattern): notepack puts
   * the uid first, [uid, ...] = 0x93 0xa6 <6 bytes>, so skip them without decoding. */
  if (len > 2 + UID_LEN && (unsigned char)msg[0] == 0x93 && (unsigned char)msg[1] == (0xa0 | UID_LEN) &&
      memcmp(msg + 2, a->uid, UID_LEN) == 0)
    return;
  sio__redis_bcast_t b;
  int rc = sio__redis_decode_broadcast(msg, len, &b);
  if (rc != 0) {
    SIO_LOGD("redis adapter: dropped a malformed broadcast on %.*s (%s)", (int)clen, channel, sio_strerror(rc));
    return;
  }
  if ((b.uid.len == UID_LEN && memcmp(b.uid.ptr, a->uid, UID_LEN) == 0) || strcmp(b.nsp, sio_ns_name(a->ns)) != 0) {
    sio__redis_bcast_free(&b); /* our own, or another namespace's */
    return;
  }
  a->r->stats.received++;
  sio_args_t args;
  sio__args_view(&args, b.data, 1, b.v.att, b.v.natt);
  sio_broadcast_opts_t to = {b.rooms, b.nrooms, b.except, b.nexcept,
                             SIO_BCAST_LOCAL | (b.volatile_ ? SIO_BCAST_VOLATILE : 0)};
  sio_ns_emit(a->ns, &to, json_string_value(json_array_get(b.data, 0)), &args);
  sio__redis_bcast_free(&b);
}

/* ---------------------------------------------------------------------------------
 * The adapter hooks (outgoing)
 * ------------------------------------------------------------------------------ */

static int hook_broadcast(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt) {
  adapter_t *a = self;
  sio__redis_event_t ev;
  if (sio__radp_event_of(sio_ns_name(a->ns), pkt, &ev) != 0) return SIO_ENOMEM;
  sio__redis_sel_t sel = sio__radp_sel_of(to, -1);
  /* Exactly one (distinct) room: its own channel, so nodes without it never see it. */
  const char *single = NULL;
  for (size_t i = 0; i < sel.nrooms; i++) {
    if (single == NULL) single = sel.rooms[i];
    else if (strcmp(single, sel.rooms[i]) != 0) {
      single = NULL;
      break;
    }
  }
  sio__buf_t b = SIO__BUF_INIT;
  int rc = sio__redis_encode_broadcast(&b, a->uid, &ev, &sel);
  json_decref(ev.arr);
  char *channel = rc == 0 ? (single ? sio__radp_concat(a->channel, single, "#", NULL) : a->channel) : NULL;
  if (rc == 0 && channel == NULL) rc = SIO_ENOMEM;
  /* Best effort, as socket.io: a publish that cannot go out is counted, not an error
   * for the local delivery that already happened. */
  if (rc == 0) publish_raw(a->r, channel, b.base, b.len);
  if (channel != a->channel) sio__free(channel);
  sio__buf_free(&b);
  return rc;
}

/* {uid, type, opts:{rooms, except}, <extra>} for socketsJoin / socketsLeave /
 * disconnectSockets: fire and forget (the JS adapter applies even its own through
 * Redis; we did the local part already and ignore our uid when it comes back). */
static int selection_request(adapter_t *a, int type, const sio_broadcast_opts_t *to, const char *key, json_t *value) {
  json_t *obj = json_pack("{s:s,s:i,s:o}", "uid", a->uid, "type", type, "opts", sio__radp_sel_json(to));
  if (obj) json_object_set_new(obj, key, value);
  else json_decref(value);
  publish_json(a->r, a->req_channel, obj);
  return 0;
}

static int hook_sockets_join(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  return selection_request(self, SIO__RREQ_REMOTE_JOIN, to, "rooms", json_pack("[s]", room));
}

static int hook_sockets_leave(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room) {
  return selection_request(self, SIO__RREQ_REMOTE_LEAVE, to, "rooms", json_pack("[s]", room));
}

static int hook_disconnect_sockets(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, int close) {
  return selection_request(self, SIO__RREQ_REMOTE_DISCONNECT, to, "close", json_boolean(close));
}

static int hook_broadcast_with_ack(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to,
                                   const sio_packet_view_t *pkt, uint64_t timeout_ms, sio_adapter_acks_t *acks) {
  adapter_t *a = self;
  request_t *q = request_new(a, SIO__RREQ_BROADCAST, "broadcast with acks", timeout_ms);
  if (q == NULL) return SIO_ENOMEM;
  sio__redis_event_t ev = {0};
  sio__redis_sel_t sel = sio__radp_sel_of(to, (int64_t)timeout_ms);
  sio__buf_t b = SIO__BUF_INIT;
  int rc = sio__radp_event_of(sio_ns_name(a->ns), pkt, &ev);
  if (rc == 0) rc = sio__redis_encode_bcast_request(&b, a->uid, q->id, &ev, &sel);
  json_decref(ev.arr);
  if (rc) {
    sio__redis_req_finish(q, rc); /* holds nothing yet: the library releases acks itself */
    sio__buf_free(&b);
    return rc;
  }
  q->acks = acks;
  request_send(q, b.base, b.len);
  sio__buf_free(&b);
  return 0;
}

static int hook_fetch_sockets(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_adapter_query_t *h) {
  return json_request(self, SIO__RREQ_REMOTE_FETCH, "fetchSockets", h, json_pack("{s:o}", "opts", sio__radp_sel_json(to)));
}

static int hook_all_sockets(void *self, sio_ns_t *ns, const char *const *rooms, size_t nrooms, sio_adapter_query_t *h) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < nrooms; i++) json_array_append_new(arr, json_string(rooms[i]));
  return json_request(self, SIO__RREQ_SOCKETS, "allSockets", h, json_pack("{s:o}", "rooms", arr));
}

static int hook_all_rooms(void *self, sio_ns_t *ns, sio_adapter_query_t *h) {
  return json_request(self, SIO__RREQ_ALL_ROOMS, "allRooms", h, NULL);
}

static int hook_server_count(void *self, sio_ns_t *ns, sio_adapter_query_t *h) {
  adapter_t *a = self;
  request_t *q = request_new(a, -1, "serverCount", a->r->timeout_ms);
  if (q == NULL) return SIO_ENOMEM;
  q->q = h;
  request_send(q, NULL, 0);
  return 0;
}

static int hook_server_side_emit(void *self, sio_ns_t *ns, const char *event, const sio_args_t *args,
                                 sio_adapter_query_t *h) {
  adapter_t *a = self;
  json_t *data = sio__radp_event_data(event, args);
  if (data == NULL) return SIO_ENOMEM;
  if (h == NULL) {
    publish_json(a->r, a->req_channel, json_pack("{s:s,s:i,s:o}", "uid", a->uid, "type", SIO__RREQ_SERVER_SIDE_EMIT, "data", data));
    return 0;
  }
  return json_request(a, SIO__RREQ_SERVER_SIDE_EMIT, "serverSideEmit", h, json_pack("{s:o}", "data", data));
}

static void unsubscribe(adapter_t *a);

static void hook_destroy(void *self) {
  adapter_t *a = self;
  /* Queries still waiting end now: their callbacks run while the namespace exists. */
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&a->requests, &it, NULL, NULL, &v)) {
    sio__redis_req_finish(v, SIO_ECANCELED);
    it = 0; /* finishing deleted the entry */
  }
  sio__map_free(&a->requests);
  unsubscribe(a);
  sio__list_remove(&a->link);
  sio_redis_t *r = a->r;
  sio__free(a->channel);
  sio__free(a->pattern);
  sio__free(a->req_channel);
  sio__free(a->resp_channel);
  sio__free(a->own_resp_channel);
  sio__free(a);
  client_unref(r);
}

static const sio_adapter_vtable_t redis_vtable = {
    SIO_ADAPTER_VERSION,   hook_broadcast,   hook_sockets_join, hook_sockets_leave, hook_disconnect_sockets,
    hook_destroy,          hook_broadcast_with_ack, hook_fetch_sockets, hook_all_sockets, hook_all_rooms,
    hook_server_count,     hook_server_side_emit,   NULL, NULL, NULL, /* recovery stays in memory */
};

/* ---------------------------------------------------------------------------------
 * Subscriptions
 * ------------------------------------------------------------------------------ */

/* Both connections up and every channel subscribed: (back) in business. Called when
 * either connection comes up and when the last subscription is confirmed, whichever is
 * last. */
static void check_recovered(sio_redis_t *r) {
  if (!sio_redis_connected(r) || (r->was_up && !r->outage)) return;
  if (r->was_up) {
    r->stats.reconnects++;
    SIO_LOGI("redis adapter: reconnected to %s and resubscribed (%llu messages to other nodes were dropped "
             "meanwhile)",
             r->where, (unsigned long long)(r->stats.dropped - r->dropped_before));
  } else {
    SIO_LOGI("redis adapter: connected to %s, prefix \"%s\"", r->where, r->prefix);
  }
  r->outage = 0;
  r->was_up = 1;
}

static void on_sub_message(redisAsyncContext *ac, void *reply, void *priv) {
  sio_redis_t *r = priv;
  redisReply *rep = reply;
  if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) return;
  redisReply **e = rep->element;
  if (e[0]->type != REDIS_REPLY_STRING) return;
  const char *kind = e[0]->str;
  if (strcmp(kind, "message") == 0 && e[1]->type == REDIS_REPLY_STRING && e[2]->type == REDIS_REPLY_STRING) {
    adapter_t *a = sio__map_get(&r->routes, e[1]->str, e[1]->len);
    if (a == NULL) return;
    if (e[1]->len == strlen(a->req_channel) && memcmp(e[1]->str, a->req_channel, e[1]->len) == 0)
      handle_request(a, e[2]->str, e[2]->len);
    else handle_response(a, e[2]->str, e[2]->len);
  } else if (strcmp(kind, "pmessage") == 0 && rep->elements == 4 && e[1]->type == REDIS_REPLY_STRING &&
             e[2]->type == REDIS_REPLY_STRING && e[3]->type == REDIS_REPLY_STRING) {
    adapter_t *a = sio__map_get(&r->routes, e[1]->str, e[1]->len);
    if (a) handle_broadcast(a, e[2]->str, e[2]->len, e[3]->str, e[3]->len);
  } else if ((strcmp(kind, "subscribe") == 0 || strcmp(kind, "psubscribe") == 0) && r->confirming > 0) {
    if (--r->confirming == 0) check_recovered(r);
  }
}

/* (P)SUBSCRIBE a's channels on the subscriber connection (if it is up). */
static void subscribe(adapter_t *a) {
  sio_redis_t *r = a->r;
  if (!r->sub_up) return;
  const char *p[2] = {"PSUBSCRIBE", a->pattern};
  const char *s[4] = {"SUBSCRIBE", a->req_channel, a->resp_channel, a->own_resp_channel};
  if (sio__rconn_command(r->sub, on_sub_message, r, 2, p, NULL) == 0) r->confirming += 1;
  if (sio__rconn_command(r->sub, on_sub_message, r, 4, s, NULL) == 0) r->confirming += 3;
}

static void unsubscribe(adapter_t *a) {
  sio_redis_t *r = a->r;
  const char *chans[4] = {a->pattern, a->req_channel, a->resp_channel, a->own_resp_channel};
  for (int i = 0; i < 4; i++) sio__map_del(&r->routes, chans[i], strlen(chans[i]));
  if (!r->sub_up) return;
  const char *p[2] = {"PUNSUBSCRIBE", a->pattern};
  const char *s[4] = {"UNSUBSCRIBE", a->req_channel, a->resp_channel, a->own_resp_channel};
  sio__rconn_command(r->sub, NULL, NULL, 2, p, NULL);
  sio__rconn_command(r->sub, NULL, NULL, 4, s, NULL);
}

/* ---------------------------------------------------------------------------------
 * The client: connections, lifetime
 * ------------------------------------------------------------------------------ */

static void on_conn_up(sio__rconn_t *c, void *user) {
  sio_redis_t *r = user;
  if (c == r->pub) r->pub_up = 1;
  if (c == r->sub) {
    r->sub_up = 1;
    r->confirming = 0;
    sio__list_t *it;
    sio__list_foreach(it, &r->adapters) subscribe(sio__container_of(it, adapter_t, link));
  }
  check_recovered(r);
}

static void on_conn_down(sio__rconn_t *c, const char *why, void *user) {
  sio_redis_t *r = user;
  if (c == r->pub) r->pub_up = 0;
  if (c == r->sub) r->sub_up = 0;
  if (r->outage) return; /* logged once per outage */
  r->outage = 1;
  r->dropped_before = r->stats.dropped;
  sio__radp_log_outage("redis adapter", r->where, why, r->was_up, "--redis");
}

/* Frees r once both connections are gone: hiredis may still run subscription callbacks
 * (with r as their data) until then, e.g. when the teardown started inside one. */
static void client_free(sio_redis_t *r) {
  if (r->pub || r->sub) return;
  sio__map_free(&r->routes);
  sio__redis_url_free(&r->url);
  sio__free(r->where);
  sio__free(r->prefix);
  sio__free(r);
}

static void on_conn_closed(sio__rconn_t *c, void *user) {
  sio_redis_t *r = user;
  if (c == r->pub) r->pub = NULL;
  if (c == r->sub) r->sub = NULL;
  client_free(r);
}

static void client_unref(sio_redis_t *r) {
  if (--r->refs > 0) return;
  r->pub_up = r->sub_up = 0;
  /* Last user gone (server torn down): flush what the publisher still holds. Closing
   * may complete inside these calls (on_conn_closed) and free r. */
  sio__rconn_t *pub = r->pub, *sub = r->sub;
  if (pub == NULL && sub == NULL) {
    client_free(r);
    return;
  }
  if (sub) sio__rconn_close(sub, 0);
  if (pub) sio__rconn_close(pub, 1);
}

static void on_server_close(void *arg) { client_unref(arg); }

/* The factory: one adapter_t per namespace. */
static int attach_ns(sio_ns_t *ns, void *user) {
  sio_redis_t *r = user;
  adapter_t *a = sio__calloc(1, sizeof *a);
  if (a == NULL) return SIO_ENOMEM;
  a->r = r;
  a->ns = ns;
  sio__radp_random_id(a->uid, UID_LEN);
  a->reqs = (sio__redis_req_owner_t){&a->requests, r->loop, "redis adapter", SIO__RREQ_BROADCAST,
                                     sio__radp_random_id, UID_LEN};
  const char *nsp = sio_ns_name(ns);
  a->channel = sio__radp_concat(r->prefix, "#", nsp, "#");
  a->pattern = a->channel ? sio__radp_concat(a->channel, "*", NULL, NULL) : NULL;
  a->req_channel = sio__radp_concat(r->prefix, "-request#", nsp, "#");
  a->resp_channel = sio__radp_concat(r->prefix, "-response#", nsp, "#");
  a->own_resp_channel = a->resp_channel ? sio__radp_concat(a->resp_channel, a->uid, "#", NULL) : NULL;
  int rc = SIO_ENOMEM;
  if (a->channel && a->pattern && a->req_channel && a->resp_channel && a->own_resp_channel &&
      sio__map_put(&r->routes, a->pattern, strlen(a->pattern), a) == 0 &&
      sio__map_put(&r->routes, a->req_channel, strlen(a->req_channel), a) == 0 &&
      sio__map_put(&r->routes, a->resp_channel, strlen(a->resp_channel), a) == 0 &&
      sio__map_put(&r->routes, a->own_resp_channel, strlen(a->own_resp_channel), a) == 0) {
    rc = sio_ns_set_adapter(ns, &redis_vtable, a);
  }
  if (rc) {
    const char *chans[4] = {a->pattern, a->req_channel, a->resp_channel, a->own_resp_channel};
    for (int i = 0; i < 4; i++)
      if (chans[i] && sio__map_get(&r->routes, chans[i], strlen(chans[i])) == a)
        sio__map_del(&r->routes, chans[i], strlen(chans[i]));
    sio__free(a->channel);
    sio__free(a->pattern);
    sio__free(a->req_channel);
    sio__free(a->resp_channel);
    sio__free(a->own_resp_channel);
    sio__free(a);
    return rc;
  }
  r->refs++;
  sio__list_insert_tail(&r->adapters, &a->link);
  subscribe(a);
  return 0;
}

void sio_redis_opts_init(sio_redis_opts_t *o) {
  o->url = "redis://127.0.0.1:6379";
  o->prefix = "socket.io";
  o->requests_timeout_ms = 5000;
}

int sio_redis_attach(sio_server_t *io, const sio_redis_opts_t *opts, sio_redis_t **out) {
  sio_redis_opts_t d;
  if (opts == NULL) {
    sio_redis_opts_init(&d);
    opts = &d;
  }
  if (opts->prefix == NULL || opts->prefix[0] == '\0') return SIO_EINVAL;
  /* Refuse before anything is installed: one adapter per namespace. */
  if (sio__radp_check_free(io) != 0) return SIO_EBUSY;
  sio_redis_t *r = sio__calloc(1, sizeof *r);
  if (r == NULL) return SIO_ENOMEM;
  int rc = sio__redis_url_parse(opts->url ? opts->url : "redis://127.0.0.1:6379", &r->url);
  if (rc) {
    sio__free(r);
    return rc;
  }
  r->loop = sio_http_loop(sio_server_http(io));
  r->timeout_ms = opts->requests_timeout_ms ? opts->requests_timeout_ms : 5000;
  r->prefix = sio__strdup(opts->prefix);
  r->refs = 1; /* the server's, dropped when it closes */
  sio__list_init(&r->adapters);
  r->where = sio__radp_where(&r->url);
  static const sio__rconn_cbs_t cbs = {on_conn_up, on_conn_down, on_conn_closed};
  if (r->prefix == NULL || r->where == NULL) {
    client_unref(r);
    return SIO_ENOMEM;
  }
  sio__http_add_closer(sio_server_http(io), &r->closer, on_server_close, r);
  if ((rc = sio__rconn_new(r->loop, &r->url, &cbs, r, &r->pub)) != 0 ||
      (rc = sio__rconn_new(r->loop, &r->url, &cbs, r, &r->sub)) != 0) {
    /* The closer still holds the server's reference and frees r when http closes. */
    return rc;
  }
  rc = sio_server_set_adapter_factory(io, attach_ns, r);
  if (rc == 0 && out) *out = r;
  return rc;
}

int sio_redis_connected(const sio_redis_t *r) { return r->pub_up && r->sub_up && r->confirming == 0; }

void sio_redis_stats(const sio_redis_t *r, sio_redis_stats_t *out) { *out = r->stats; }

size_t sio_redis_backlog(const sio_redis_t *r) {
  return (r->pub ? sio__rconn_backlog(r->pub) : 0) + (r->sub ? sio__rconn_backlog(r->sub) : 0);
}
