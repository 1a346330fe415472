/*
 * adapter/redis_codec.h: the messages of @socket.io/redis-adapter 8.x (classic pub/sub
 * mode) as bytes, on sio/msgpack.h's msgpack <-> jansson codec. Sans-IO: no loop, no
 * sockets, no Redis; the adapter (redis.c) and the fuzz target drive it.
 *
 * Values are jansson trees whose binary parts are Socket.IO placeholders
 * {"_placeholder":true,"num":N} pointing into a list of refcounted attachments: exactly
 * how sio_args_t holds event arguments, so a decoded broadcast is delivered without a
 * conversion step, and an emit is published without one either.
 *
 * msgpack is written the way notepack.io 3.0 (the adapter's parser) writes it, byte for
 * byte: smallest integer format (uint formats for non-negative values), float 64 for any
 * number that is not integral, str8/16/32 by UTF-8 length, bin8/16/32 for binary, object
 * keys with canonical array indices first (JavaScript's own key order). docs/redis.md
 * lists the wire format.
 */
#ifndef SIO_ADAPTER_REDIS_CODEC_H
#define SIO_ADAPTER_REDIS_CODEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/refbuf.h"
#include "sio/common.h"
#include "sio/msgpack.h"

/* Request types of the classic adapter (lib/index.ts RequestType). */
enum {
  SIO__RREQ_SOCKETS = 0,
  SIO__RREQ_ALL_ROOMS = 1,
  SIO__RREQ_REMOTE_JOIN = 2,
  SIO__RREQ_REMOTE_LEAVE = 3,
  SIO__RREQ_REMOTE_DISCONNECT = 4,
  SIO__RREQ_REMOTE_FETCH = 5,
  SIO__RREQ_SERVER_SIDE_EMIT = 6,
  SIO__RREQ_BROADCAST = 7,
  SIO__RREQ_BROADCAST_CLIENT_COUNT = 8,
  SIO__RREQ_BROADCAST_ACK = 9
};

/* ---- broadcast messages: [uid, packet, opts] on socket.io#<nsp>#[<room>#] ---- */

/* The packet and options of a broadcast, as read from a message (slices borrow from
 * the decoded value). */
typedef struct {
  sio__mp_value_t v;      /* owns every borrowed field below */
  sio_str_t uid;          /* the sender's uid (empty for a BROADCAST request) */
  int type;               /* packet.type: 2 (EVENT) or 5 (BINARY_EVENT) */
  const char *nsp;        /* packet.nsp, "/" when absent */
  json_t *data;           /* packet.data: [event, ...args] (borrowed) */
  const char **rooms;     /* opts.rooms (owned array of borrowed strings) */
  size_t nrooms;
  const char **except;    /* opts.except, same */
  size_t nexcept;
  int volatile_;          /* opts.flags.volatile */
  int64_t timeout_ms;     /* opts.flags.timeout, -1 when absent */
} sio__redis_bcast_t;

/* Frees what sio__redis_decode_broadcast / sio__redis_read_bcast filled. */
void sio__redis_bcast_free(sio__redis_bcast_t *b);

/*
 * Decodes a broadcast message [uid, packet, opts] (msgpack). Returns 0 and *out (free
 * with sio__redis_bcast_free), or an sio__mp_decode error, or SIO_EPROTO when the shape
 * is wrong: not a 3-element array, uid not a string, packet not a map whose type is 2
 * or 5 and whose data is an array starting with a string event name, nsp not a string,
 * opts not a map, rooms/except not arrays of strings (numbers are taken in decimal, as
 * Set<Room> may hold them). out is untouched on error.
 */
int sio__redis_decode_broadcast(const char *buf, size_t len, sio__redis_bcast_t *out);

/*
 * Fills the packet/opts fields of b from a BROADCAST request's members packet and opts
 * (borrowed from b->v.root, which the caller has already decoded into b->v). Same shape
 * rules and codes as sio__redis_decode_broadcast.
 */
int sio__redis_read_bcast(json_t *packet, json_t *opts, sio__redis_bcast_t *b);

/* An event to publish: [event, ...args], args being the elements of arr from base on,
 * whose placeholders point into att. All borrowed. */
typedef struct {
  const char *nsp;
  const char *event;
  json_t *arr; /* may be NULL: no arguments */
  size_t base;
  sio__refbuf_t *const *att;
  uint32_t natt;
} sio__redis_event_t;

/* The selection of a broadcast: rooms, except (duplicates removed on the wire, as the
 * adapter's Sets do) and flags. */
typedef struct {
  const char *const *rooms;
  size_t nrooms;
  const char *const *except;
  size_t nexcept;
  int volatile_;
  int64_t timeout_ms; /* written as flags.timeout when >= 0 */
} sio__redis_sel_t;

/* Appends [uid, {type:2, data:[event, ...args], nsp}, {rooms, except, flags}] as msgpack.
 * Returns 0 or SIO_ENOMEM (out restored). */
int sio__redis_encode_broadcast(sio__buf_t *out, const char *uid, const sio__redis_event_t *ev,
                                const sio__redis_sel_t *sel);

/* Appends the BROADCAST request {uid, requestId, type:7, packet, opts} as msgpack. */
int sio__redis_encode_bcast_request(sio__buf_t *out, const char *uid, const char *request_id,
                                    const sio__redis_event_t *ev, const sio__redis_sel_t *sel);

/* Appends the BROADCAST_ACK response {type:9, requestId, packet} as msgpack, packet being
 * arr[base] (a client's first ack argument; member left out when there is none, as
 * notepack leaves out `undefined`). */
int sio__redis_encode_bcast_ack(sio__buf_t *out, const char *request_id, json_t *arr, size_t base,
                                sio__refbuf_t *const *att, uint32_t natt);

/*
 * Decodes a request or response: JSON when the first byte is '{' (how the adapter tells
 * them apart), msgpack otherwise. Returns 0 and *out whose root is an object (free with
 * sio__mp_value_free), an sio__mp_decode error, SIO_EJSON (bad JSON), or SIO_EPROTO
 * (not an object).
 */
int sio__redis_decode_message(const char *buf, size_t len, sio__mp_value_t *out);

#endif
