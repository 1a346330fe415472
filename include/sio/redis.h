/*
 * sio/redis.h: the Redis adapter: rooms, broadcasts and every selection operation of a
 * server spread over several processes or machines through Redis pub/sub.
 *
 * +-------------------------------------------------------------------------------------+
 * | WIRE FORMAT: this adapter speaks the classic (non-sharded) pub/sub protocol of the   |
 * | npm package @socket.io/redis-adapter 8.x (createAdapter), byte for byte: the same    |
 * | channels, the same notepack msgpack / JSON messages, the same request types. So a    |
 * | noom process and a Node.js socket.io 4.x process using that adapter, pointed at the  |
 * | same Redis with the same key prefix, serve the same rooms side by side: broadcasts,  |
 * | acks, fetchSockets, socketsJoin/Leave, disconnectSockets and serverSideEmit cross    |
 * | between them. It does NOT speak the sharded adapter (createShardedAdapter, SPUBLISH) |
 * | nor @socket.io/redis-streams-adapter, and it is not the format of socketioxide's     |
 * | Redis adapter. Every node of a fleet must use the same protocol and prefix.          |
 * +-------------------------------------------------------------------------------------+
 *
 * Channels, for a namespace nsp and the prefix P (default "socket.io"):
 *   P#nsp#          broadcasts to several rooms or to all (PSUBSCRIBE P#nsp#*)
 *   P#nsp#room#     broadcasts to exactly one room
 *   P-request#nsp#  requests between nodes; its subscriber count is the server count
 *   P-response#nsp# and P-response#nsp#<uid>#   responses
 * docs/redis.md describes every message.
 *
 * Delivery is best effort, as with socket.io: a broadcast is published once and whoever
 * is subscribed gets it. If Redis goes away, local delivery keeps working, the adapter
 * logs it once, drops cross-node messages (nothing is queued: memory stays bounded),
 * and reconnects with backoff (50 ms doubling to 2 s), resubscribing every channel.
 * Queries (fetchSockets, allRooms, serverSideEmit with acks...) then answer with this
 * process's part and SIO_ECLOSED.
 *
 * Long-polling clients must keep talking to the node that holds their session: put the
 * nodes behind a load balancer with sticky sessions (deploy/nginx.conf, README).
 *
 * Threading: loop thread only, like the rest of the library.
 */
#ifndef SIO_REDIS_H
#define SIO_REDIS_H

#include "sio.h"

typedef struct sio_redis_s sio_redis_t; /* opaque: the Redis client of one server */

typedef struct {
  /* redis://[[user]:password@]host[:port][/db] (copied). Default
   * "redis://127.0.0.1:6379". The db number is accepted and has no effect: Redis
   * pub/sub ignores databases. No TLS (rediss://) and no Unix sockets. */
  const char *url;
  /* Key prefix of the channels (the JS adapter's `key` option), copied. Default
   * "socket.io". Fleets sharing one Redis are kept apart by different prefixes. */
  const char *prefix;
  /* How long a request to the other nodes (fetchSockets, allRooms, allSockets,
   * serverSideEmit with acks) waits for their answers (the JS `requestsTimeout`).
   * Default 5000. Broadcasts with acks use their own timeout. */
  uint64_t requests_timeout_ms;
} sio_redis_opts_t;

/* Fills *o (not NULL) with the defaults above. */
SIO_EXTERN void sio_redis_opts_init(sio_redis_opts_t *o);

/*
 * Puts every namespace of io (those that exist and those created later, dynamic ones
 * included) on the Redis adapter. Connects in the background: an unreachable Redis is
 * not an error here (it is retried; the server serves locally meanwhile). The adapter
 * lives as long as the server: sio_http_close() tears it down after the namespaces,
 * flushing what it still has to publish. opts copied (NULL: defaults). *out (may be
 * NULL) is borrowed, valid until then.
 * Returns 0, SIO_EINVAL (bad URL or empty prefix), SIO_EBUSY (a namespace of io already
 * has an adapter), SIO_ENOMEM.
 */
SIO_EXTERN int sio_redis_attach(sio_server_t *io, const sio_redis_opts_t *opts, sio_redis_t **out);

/* Predicate: 1 when both connections (publisher and subscriber) are up and subscribed,
 * else 0. */
SIO_EXTERN int sio_redis_connected(const sio_redis_t *r);

/* Counters since sio_redis_attach. */
typedef struct {
  uint64_t published;     /* messages published (broadcasts, requests, responses) */
  uint64_t received;      /* messages received from other nodes */
  uint64_t dropped;       /* publishes dropped: Redis down or not keeping up */
  uint64_t reconnects;    /* times the connection came back after a loss */
} sio_redis_stats_t;
/* Copies the counters into *out (not NULL). */
SIO_EXTERN void sio_redis_stats(const sio_redis_t *r, sio_redis_stats_t *out);

/* Bytes queued for Redis and not yet written (the adapter's queue depth; past 16 MiB
 * publishes are dropped and counted in sio_redis_stats_t.dropped). 0 while not connected. */
SIO_EXTERN size_t sio_redis_backlog(const sio_redis_t *r);

#endif /* SIO_REDIS_H */
