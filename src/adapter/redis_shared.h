/*
 * adapter/redis_shared.h: helpers both Redis adapters use (redis.c, the classic pub/sub
 * one, and redis_streams.c): ids, channel names, JSON for Node peers, selections read
 * from and applied to other nodes' messages. Layer: adapter. Loop thread only.
 */
#ifndef SIO_ADAPTER_REDIS_SHARED_H
#define SIO_ADAPTER_REDIS_SHARED_H

#include <jansson.h>

#include "adapter/redis_codec.h"
#include "adapter/redis_conn.h"
#include "sio/adapter.h"

/* n random characters of uid2's alphabet (62 URL-safe ones) and a NUL into out[n+1];
 * n <= 64. Falls back to the clock when the system has no randomness. */
void sio__radp_random_id(char *out, size_t n);
/* n lowercase hex digits (n/2 random bytes, as randomBytes(n/2).toString("hex")) and a
 * NUL into out[n+1]; n even, <= 64. Clock fallback as above. */
void sio__radp_hex_id(char *out, size_t n);

/* a+b+c+d (c, d may be NULL) as a new string (sio__free); NULL when out of memory. */
char *sio__radp_concat(const char *a, const char *b, const char *c, const char *d);

/* v (borrowed) for a Node peer's JSON: binary placeholders become JSON.stringify's form
 * of a Buffer, {"type":"Buffer","data":[...]}. Returns a new tree. */
json_t *sio__radp_node_json(json_t *v, sio__refbuf_t *const *att, uint32_t natt);
/* [event, ...args] as a new JSON array for a Node peer (binary as above). */
json_t *sio__radp_event_data(const char *event, const sio_args_t *args);
/* {rooms:[...], except:[...]} of a selection (to may be NULL), new. */
json_t *sio__radp_sel_json(const sio_broadcast_opts_t *to);

/* A selection read from a message: arrays owned, strings borrowed from the message. */
typedef struct {
  const char **rooms, **except;
  sio_broadcast_opts_t to; /* SIO_BCAST_LOCAL */
} sio__radp_sel_t;
/* Reads {rooms, except} (either may be absent). 0 or SIO_EPROTO (not arrays of strings,
 * or out of memory). */
int sio__radp_read_sel(json_t *opts, sio__radp_sel_t *s);
void sio__radp_sel_free(sio__radp_sel_t *s);

/* sio_ns_fetch_sockets callback: each socket joins (or leaves) every room of rooms. */
typedef struct {
  json_t *rooms; /* room names to join or leave */
  int join;
} sio__radp_rooms_op_t;
void sio__radp_apply_rooms(int status, sio_socket_t *const *sockets, size_t n, void *u);

/* JSON text written by the library (socket data, handshake) as a new tree (null when
 * NULL or unparsable). */
json_t *sio__radp_parse_text(const char *text);
/* sio_ns_fetch_sockets_all callback: appends {id, handshake, rooms, data} of each socket
 * to the JSON array u. */
void sio__radp_fetch_entries(int status, const sio_remote_socket_t *sockets, size_t n, void *u);
/* Adds one {id, handshake, rooms, data} of a fetchSockets answer to query h. */
void sio__radp_add_fetched(sio_adapter_query_t *h, json_t *s);

/* The codec's view of an emit for namespace nsp: ev->arr is new (json_decref it), NULL
 * when there are no arguments. 0 or SIO_ENOMEM. */
int sio__radp_event_of(const char *nsp, const sio_packet_view_t *pkt, sio__redis_event_t *ev);
/* The codec's view of a selection (to may be NULL). */
sio__redis_sel_t sio__radp_sel_of(const sio_broadcast_opts_t *to, int64_t timeout_ms);

/* "redis://host:port" of url for logs (never the password; IPv6 hosts in brackets), new
 * (sio__free); NULL when out of memory. */
char *sio__radp_where(const sio__redis_url_t *url);
/* SIO_EBUSY when a namespace of io already has an adapter (one per namespace: refused
 * before anything is installed), else 0. */
int sio__radp_check_free(sio_server_t *io);

/* A message to other nodes that could not go out (why: sio__rconn_command's error) is
 * counted in *dropped; a full backlog (SIO_ELIMIT) is logged once per episode (until the
 * caller clears *backlog_logged when a command goes out again). who: "redis adapter"...,
 * where: the server's "redis://host:port". */
void sio__radp_dropped(const char *who, const char *where, uint64_t *dropped, uint8_t *backlog_logged, int why);
/* Logs the start of an outage (once per outage): Redis lost (was_up) or never reached
 * (flag: the option naming its URL, for the hint). */
void sio__radp_log_outage(const char *who, const char *where, const char *why, int was_up, const char *flag);

#endif
