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
 * | nor @socket.io/redis-streams-adapter (that one is sio_redis_streams_attach below),   |
 * | and it is not socketioxide's format. Every node of a fleet must use the same one.    |
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
   * "redis://127.0.0.1:6379". The db number is SELECTed, with no effect on pub/sub
   * (Redis pub/sub ignores databases). No TLS (rediss://) and no Unix sockets. */
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

/* ==================================================================================
 * The Redis Streams adapter
 *
 * +-------------------------------------------------------------------------------------+
 * | WIRE FORMAT: @socket.io/redis-streams-adapter 0.3.1 (socket.io-adapter 2.5's         |
 * | ClusterAdapter), byte for byte: broadcasts, socketsJoin/Leave and disconnectSockets |
 * | are XADDed to one stream (default "socket.io", MAXLEN ~ 10000) that every node reads |
 * | with XREAD BLOCK; broadcasts with acks, fetchSockets and serverSideEmit go over pub/ |
 * | sub on P#nsp# with answers on P#nsp#<uid>#; serverCount is PUBSUB NUMSUB P#nsp#.      |
 * | noom and Node.js socket.io 4.x nodes using that adapter serve the same rooms.        |
 * +-------------------------------------------------------------------------------------+
 *
 * What it adds over the classic adapter: connection-state recovery across nodes. With
 * sio_server_opts_t.recovery on, a broadcast's offset is its stream entry id (published
 * first, delivered locally once XADD answered), a disconnected socket's session is kept
 * in Redis under <session_prefix><pid> with PX = the recovery window, and a client that
 * reconnects to ANY node with {pid, offset} gets its id, rooms and data back plus the
 * packets it missed (XRANGE from its offset, filtered by its rooms), as Node does.
 *
 * Bounds: publishes waiting for their XADD answer (max_pending, default 65536) and
 * session restores in flight (max_restores, default 1024); past either the adapter
 * refuses and logs (the broadcast is delivered locally without an offset; the client
 * connects as a new socket). A restore's replay is capped by recovery.max_bytes.
 * Redis going away: as the classic adapter (local delivery goes on, reconnect with
 * backoff, XREAD resumes from the last entry read). docs/redis.md has the details.
 * ================================================================================== */

typedef struct sio_redis_streams_s sio_redis_streams_t; /* opaque */

typedef struct {
  const char *url;             /* as sio_redis_opts_t.url; the stream and the session keys live in its db */
  const char *stream_name;     /* "socket.io" (the JS streamName), copied */
  size_t maxlen;               /* 10000: XADD MAXLEN ~ (the JS maxLen) */
  const char *channel_prefix;  /* "socket.io" (the JS channelPrefix), copied */
  const char *session_prefix;  /* "sio:session:" (the JS sessionKeyPrefix), copied */
  uint32_t read_count;         /* 100: XREAD COUNT (the JS readCount) */
  uint64_t block_ms;           /* 5000: XREAD BLOCK (the JS blockTimeInMs) */
  uint64_t requests_timeout_ms; /* 5000: fetchSockets, serverSideEmit with acks... */
  uint32_t max_pending;        /* 65536: broadcasts waiting for their XADD answer */
  uint32_t max_restores;       /* 1024: session restores in flight */
} sio_redis_streams_opts_t;

/* Fills *o (not NULL) with the defaults above. */
SIO_EXTERN void sio_redis_streams_opts_init(sio_redis_streams_opts_t *o);

/* Puts every namespace of io on the streams adapter, as sio_redis_attach does for the
 * classic one (same lifetime rules; *out borrowed until sio_http_close). Enable
 * recovery (sio_server_opts_t.recovery) before sio_server_new for cross-node recovery;
 * without it the adapter still shares rooms and broadcasts. Returns 0, SIO_EINVAL (bad
 * URL, empty stream name or prefix, maxlen 0), SIO_EBUSY, SIO_ENOMEM. */
SIO_EXTERN int sio_redis_streams_attach(sio_server_t *io, const sio_redis_streams_opts_t *opts,
                                        sio_redis_streams_t **out);

/* Predicate: 1 when the publisher, subscriber and reader connections are all up. */
SIO_EXTERN int sio_redis_streams_connected(const sio_redis_streams_t *r);

/* Counters since attach (published: XADDs and PUBLISHes that went out). */
SIO_EXTERN void sio_redis_streams_stats(const sio_redis_streams_t *r, sio_redis_stats_t *out);

#endif /* SIO_REDIS_H */
