/*
 * Connection-state recovery on one node (socket.io 4.6+ connectionStateRecovery, the
 * in-memory SessionAwareAdapter of socket.io-adapter): a store of recent packets shared
 * by every namespace of a server, and the sessions of sockets that left for a
 * recoverable reason. The other files call in at five points: encoding a stored packet
 * (broadcast.c, socket.c), a CONNECT (namespace.c: restore, then the answer with "pid"
 * and the replay), a disconnect (socket.c: persist) and the socket's end (socket.c).
 * Layer: sio. docs/design.md "Connection-state recovery" explains the bounds.
 */
#ifndef SIO_SIO_RECOVERY_H
#define SIO_SIO_RECOVERY_H

#include "sio/sio.h"

typedef struct sio__recovery_s sio__recovery_t;

/* What a socket carries while recovery is on (sio_socket_s.rec; NULL when off, or when
 * its allocation failed: then the socket simply cannot be recovered). */
/* A missed packet fetched from another node's store (recovery_remote.c), encoded. */
typedef struct sio__rmissed_s {
  struct sio__rmissed_s *next;
  sio__refbuf_t *text;
  uint32_t natt;
  sio__refbuf_t *att[];
} sio__rmissed_t;

typedef struct sio__rsock_s {
  char pid[SIO__SID_LEN + 1]; /* the private session id sent in the CONNECT answer */
  uint8_t recovered;          /* took over a kept session */
  uint8_t remote;             /* ...kept by the adapter (version 3): replay missed */
  uint64_t from_seq;          /* recovered: the last packet the client had (its offset) */
  sio__rmissed_t *missed;     /* remote: the packets to replay, in order (owned) */
} sio__rsock_t;

/* sio__recovery_restore's answer when the adapter looks the session up (async). */
#define SIO__RESTORE_PENDING 2

/* 1 when ns's adapter keeps sessions and offsets itself (version 3 with
 * publish_offset, persist_session and restore_session): the in-memory store is then
 * not used for ns. */
int sio__recovery_remote(const sio_ns_t *ns);
/* recovery_remote.c: starts an adapter restore of s from pid/offset (strings, borrowed).
 * Returns SIO__RESTORE_PENDING (sio__ns_connect_resume runs later) or 0 (refused: s
 * connects as new). */
int sio__recovery_restore_remote(sio_socket_t *s, const char *pid, const char *offset);
/* Keeps s's session through the adapter. */
void sio__recovery_persist_remote(sio_socket_t *s);
/* Sends s's remote missed packets in order (freeing them). 0 or the send's error. */
int sio__recovery_replay_remote(sio_socket_t *s);
/* Frees a missed-packet list. */
void sio__rmissed_free(sio__rmissed_t *m);

/* Creates io->rec from io->opts.recovery (called by sio_server_new when enabled).
 * SIO_ENOMEM. */
int sio__recovery_new(sio_server_t *io);
/* Frees io->rec with every stored packet and session (NULL allowed). */
void sio__recovery_free(sio_server_t *io);

/* Encodes event(args) for ns with the next offset appended as a last string argument
 * and stores it with the selection to (NULL: everyone; copied), the way
 * SessionAwareAdapter.broadcast does. Returns 0 and *text (returns new: one reference
 * for the caller; the store keeps its own), or SIO_EINVAL / SIO_ENOMEM from the encoder.
 * When only the store's own allocation fails, the packet is still encoded and sent, and
 * the store records a hole: clients that miss it will not be recovered. */
int sio__recovery_encode(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                         sio__refbuf_t **text);

/* A CONNECT for s's namespace with auth (borrowed, may be NULL): gives s its pid, or, when
 * auth has {pid, offset} of a kept session of this namespace whose missed packets are all
 * still stored, takes the session over: s gets its id, rooms and data JSON back and
 * reads as recovered. Returns 1 when recovered, else 0 (also on allocation failure), or
 * SIO__RESTORE_PENDING when the adapter looks the session up (sio__recovery_remote). */
int sio__recovery_restore(sio_socket_t *s, json_t *auth);

/* Accepting s (in ns->sockets, about to count as connected): replays the packets a
 * recovered s missed, in order, then sends the CONNECT answer {"sid":..,"pid":..}. A
 * recovered s whose missed packets were dropped since the restore (slow middlewares)
 * gets a new pid instead and reads as not recovered. Returns 0, or the error of a send
 * that failed (the caller closes the connection: a client never resumes past a gap). */
int sio__recovery_accept(sio_socket_t *s);

/* s is leaving with reason (its "disconnecting" listeners ran, rooms still present):
 * keeps its session when the reason is recoverable. */
void sio__recovery_persist(sio_socket_t *s, const char *reason);

/* s's memory goes (sio_socket_unref). */
void sio__recovery_socket_free(sio_socket_t *s);

/* What the packet store holds now: *bytes counted against max_bytes, *packets entries
 * (both 0 when recovery is off). For tests and the bench's memory figures. */
void sio__recovery_stored(const sio_server_t *io, size_t *bytes, size_t *packets);

#endif
