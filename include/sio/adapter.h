/*
 * sio/adapter.h: the adapter interface, for adapters that spread a namespace over
 * several processes (the Redis adapter in sio/redis.h, or an out-of-tree one).
 *
 * Every namespace keeps its rooms in memory (the in-memory adapter of socket.io-adapter:
 * rooms -> socket ids and socket id -> rooms, O(1) lookups). An adapter installed with
 * sio_ns_set_adapter() extends it across processes: the library does the local part of
 * each operation first, then calls the adapter's hook with the same selection value the
 * caller built (so local and remote delivery see one sio_broadcast_opts_t). Hooks are
 * skipped for SIO_BCAST_LOCAL. All hooks are optional (NULL = this process only) and run
 * on the loop thread.
 *
 * Two kinds of hooks:
 *  - fire-and-forget (broadcast, sockets_join, sockets_leave, disconnect_sockets,
 *    server_side_emit without a query): the adapter forwards the operation to the other
 *    nodes, which apply it to their own sockets;
 *  - queries (fetch_sockets, all_sockets, all_rooms, server_count, server_side_emit with
 *    a query, broadcast_with_ack): the library hands the adapter a handle, the adapter
 *    adds what the other nodes answer and finishes the handle exactly once, possibly from
 *    inside the hook. A hook that returns an error must not touch the handle; the library
 *    then finishes the operation with the local part and that error.
 *
 * Incoming operations (another node's broadcast, join, fetch...) are applied with the
 * public API plus the sio_adapter_* helpers below, with SIO_BCAST_LOCAL so they do not
 * bounce back.
 *
 * Versioning: SIO_ADAPTER_VERSION 2 added the query hooks; a version-1 vtable (the first
 * five hooks) is still accepted, and its namespace answers queries locally. Version 3
 * added connection-state recovery across nodes (publish_offset, persist_session,
 * restore_session); a version-1 or -2 vtable keeps the in-memory store of recovery.c.
 */
#ifndef SIO_ADAPTER_H
#define SIO_ADAPTER_H

#include "sio.h"

#define SIO_ADAPTER_VERSION 3

/* An encoded packet as it goes on the wire: the Socket.IO text part (without the
 * Engine.IO "4" prefix) and its binary attachments, plus the event and arguments. All
 * borrowed for the call. Under connection-state recovery the text ends with this node's
 * offset as one more argument; args do not include it (another node that stores the
 * packet appends its own). With SIO_PARSER_MSGPACK, text is the whole msgpack packet
 * (binary parts inside) and there are no attachments. */
typedef struct {
  sio_str_t text;
  const sio_str_t *attachments;
  size_t nattachments;
  const char *event;
  const sio_args_t *args;
} sio_packet_view_t;

/* A cluster query in progress (opaque; owned by the library until finished). */
typedef struct sio_adapter_query_s sio_adapter_query_t;
/* A broadcast with acks in progress (opaque; see broadcast_with_ack). */
typedef struct sio_adapter_acks_s sio_adapter_acks_t;
/* A broadcast waiting for its recovery offset (opaque; see publish_offset). */
typedef struct sio_adapter_offset_s sio_adapter_offset_t;
/* A session restore in progress (opaque; see restore_session). */
typedef struct sio_adapter_restore_s sio_adapter_restore_t;

/* The state of a socket that left for a recoverable reason (socket.ts persistSession):
 * all borrowed for the call. rooms include the socket's own id room. data_json is
 * socket.data as JSON text, NULL when unset. */
typedef struct {
  const char *sid;
  const char *pid;
  const char *const *rooms;
  size_t nrooms;
  const char *data_json;
} sio_adapter_session_t;

typedef struct {
  int version; /* SIO_ADAPTER_VERSION (or 1) */

  /* ---- version 1 ---- */
  int (*broadcast)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt);
  int (*sockets_join)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room);
  int (*sockets_leave)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room);
  int (*disconnect_sockets)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, int close);
  /* The namespace is going away (server teardown): finish every query still held with
   * SIO_ECANCELED, then free self. The namespace is still readable during the call but
   * no longer uses the adapter. */
  void (*destroy)(void *self);

  /* ---- version 2 ---- */
  /* emitWithAck across nodes: pkt went to the local selection; forward it so remote
   * clients' answers reach acks (sio_adapter_acks_answer), and call
   * sio_adapter_acks_done(acks) once no more answers can come (every node reported and
   * its clients answered, or timeout_ms passed, or the adapter is destroyed). */
  int (*broadcast_with_ack)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                            uint64_t timeout_ms, sio_adapter_acks_t *acks);
  /* fetchSockets: add every remote socket of the selection (sio_adapter_query_add_socket). */
  int (*fetch_sockets)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_adapter_query_t *q);
  /* allSockets: add the ids of the remote sockets in any of rooms (all when nrooms is 0)
   * with sio_adapter_query_add_name. */
  int (*all_sockets)(void *self, sio_ns_t *ns, const char *const *rooms, size_t nrooms, sio_adapter_query_t *q);
  /* allRooms: add the names of the remote rooms (sio_adapter_query_add_name). */
  int (*all_rooms)(void *self, sio_ns_t *ns, sio_adapter_query_t *q);
  /* serverCount: set the number of nodes, this one included (sio_adapter_query_set_count). */
  int (*server_count)(void *self, sio_ns_t *ns, sio_adapter_query_t *q);
  /* serverSideEmit: send event(args) to the other nodes' sio_ns_on_server_side handlers.
   * q is NULL without an ack; otherwise add each node's answer with
   * sio_adapter_query_add_value (one per node) and finish q. */
  int (*server_side_emit)(void *self, sio_ns_t *ns, const char *event, const sio_args_t *args,
                          sio_adapter_query_t *q);

  /* ---- version 3: connection-state recovery across nodes ---- */
  /* Replaces `broadcast` for a recoverable packet (an event without ack, not volatile,
   * not SIO_BCAST_LOCAL) while recovery is on: publish pkt (its text has no offset) and
   * call sio_adapter_offset_done(h, offset) once the shared log gave it its offset; the
   * library then delivers it locally with that offset appended (ClusterAdapter.broadcast
   * of socket.io-adapter). A hook that returns an error must not touch h: the library
   * delivers locally at once, without an offset. Pending handles are the adapter's to
   * bound; destroy finishes them with sio_adapter_offset_done(h, NULL, 0). */
  int (*publish_offset)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                        sio_adapter_offset_t *h);
  /* A socket left for a recoverable reason: keep sess for the recovery window
   * (window_ms) where every node can find it by pid. Best effort (no answer). */
  void (*persist_session)(void *self, sio_ns_t *ns, const sio_adapter_session_t *sess, uint64_t window_ms);
  /* A CONNECT carries {pid, offset}: look the session up (taking it: a pid is used
   * once), add every packet after offset that its rooms select in order
   * (sio_adapter_restore_add_packet), then call sio_adapter_restore_done exactly once.
   * The library holds the CONNECT until then. A hook that returns an error must not
   * touch h: the socket connects as a new one. */
  int (*restore_session)(void *self, sio_ns_t *ns, const char *pid, const char *offset, sio_adapter_restore_t *h);
} sio_adapter_vtable_t;

/* Installs an adapter on ns (vtable borrowed: static storage; self owned by the adapter,
 * destroyed with the namespace). Returns 0, SIO_EINVAL (NULL vtable or a version other
 * than 1, 2 and 3) or SIO_EBUSY (ns has one already). */
SIO_EXTERN int sio_ns_set_adapter(sio_ns_t *ns, const sio_adapter_vtable_t *vt, void *self);

/* Called with every namespace of a server as it is created (and, once, with the ones
 * that exist when it is installed): the place to sio_ns_set_adapter() it. Dynamic
 * namespaces' parent templates are not passed. fn returns 0 or an error, which is
 * logged (the namespace then stays local). */
typedef int (*sio_adapter_factory_cb)(sio_ns_t *ns, void *user);
/* Installs fn on io (replacing any previous one; NULL removes it). Returns 0 or the first
 * error fn returned for an existing namespace. */
SIO_EXTERN int sio_server_set_adapter_factory(sio_server_t *io, sio_adapter_factory_cb fn, void *user);

/* ---- finishing queries (adapter side) ---- */

/* Adds one remote socket (copied). Ignored for a query of another kind or already
 * finished. Returns 0 or SIO_ENOMEM (the socket is left out). */
SIO_EXTERN int sio_adapter_query_add_socket(sio_adapter_query_t *q, const sio_remote_socket_t *s);
/* Adds a socket id (all_sockets) or a room name (all_rooms); copied, duplicates dropped. */
SIO_EXTERN int sio_adapter_query_add_name(sio_adapter_query_t *q, const char *name, size_t len);
/* Adds one node's serverSideEmit answer: argument i of args (copied, binary included);
 * args NULL adds null (the node answered with no value). */
SIO_EXTERN int sio_adapter_query_add_value(sio_adapter_query_t *q, const sio_args_t *args, size_t i);
/* Sets the node count of a server_count query (ignored for another kind). */
SIO_EXTERN void sio_adapter_query_set_count(sio_adapter_query_t *q, size_t nodes);
/* Finishes q: the user's callback runs now with the local part plus everything added, and
 * status (0, SIO_ETIMEDOUT when some nodes did not answer in time, SIO_ECLOSED when the
 * adapter cannot reach the others, SIO_ECANCELED at shutdown). q is freed; call exactly
 * once. */
SIO_EXTERN void sio_adapter_query_done(sio_adapter_query_t *q, int status);

/* One remote client's answer to a broadcast with acks (args borrowed; NULL or empty: the
 * client answered with no value). Answers after the broadcast's callback ran are dropped. */
SIO_EXTERN void sio_adapter_acks_answer(sio_adapter_acks_t *acks, const sio_args_t *args);
/* The adapter's part is over: no more answers will come. Releases the handle (call exactly
 * once); the broadcast's callback runs once local answers are complete too, or at its
 * timeout. */
SIO_EXTERN void sio_adapter_acks_done(sio_adapter_acks_t *acks);

/* ---- connection-state recovery (adapter side, version 3) ---- */

/* The offset of a publish_offset broadcast is known (offset: NUL-terminated, copied), or
 * NULL when publishing failed: the packet is delivered to the local selection now, with
 * the offset as its last argument, or without one. cancel != 0 (adapter destroyed):
 * nothing is delivered. Releases h (call exactly once). */
SIO_EXTERN void sio_adapter_offset_done(sio_adapter_offset_t *h, const char *offset, int cancel);

/* Delivers a packet another node published to this node's sockets of to (SIO_BCAST_LOCAL
 * implied), with offset (may be NULL) appended as the last argument when recovery is on,
 * as ClusterAdapter.onMessage does. Returns the number of sockets reached or an error. */
SIO_EXTERN int sio_adapter_emit_offset(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                                       const sio_args_t *args, const char *offset);

/* Adds one missed packet to a restore, in order: event(args..., offset) is encoded now
 * (args borrowed). Returns 0, SIO_ELIMIT (the restore's packets passed the recovery
 * store's max_bytes: finish with a NULL session) or SIO_ENOMEM. */
SIO_EXTERN int sio_adapter_restore_add_packet(sio_adapter_restore_t *h, const char *event, const sio_args_t *args,
                                              const char *offset);
/* Finishes a restore: sess (borrowed; NULL: not found, expired, offset gone...) gives
 * the socket its id, rooms and data back, and the added packets are replayed before the
 * CONNECT answer. status SIO_ECANCELED (adapter destroyed): the CONNECT is dropped.
 * Releases h (call exactly once). */
SIO_EXTERN void sio_adapter_restore_done(sio_adapter_restore_t *h, const sio_adapter_session_t *sess, int status);

/* ---- applying remote operations (adapter side) ---- */

/* Per-client answers of a local broadcast with acks made for a remote requester: each
 * runs once per answering client (args borrowed), done once at the end (status 0 when
 * everyone answered, SIO_ETIMEDOUT, SIO_ECANCELED). */
typedef void (*sio_adapter_each_ack_cb)(const sio_args_t *args, void *user);
typedef void (*sio_adapter_acks_end_cb)(int status, void *user);
/* Emits event(args) with an ack id to the local sockets of to (SIO_BCAST_LOCAL implied)
 * and streams their answers. Returns the number of clients reached (>= 0; with 0, end
 * runs inside the call) or an error (no callback runs). */
SIO_EXTERN int sio_adapter_emit_with_ack_local(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                                               const sio_args_t *args, uint64_t timeout_ms, sio_adapter_each_ack_cb each,
                                               sio_adapter_acks_end_cb end, void *user);

/* Answer path of a serverSideEmit with ack: reply(user, args) runs exactly once, with the
 * handler's answer (args borrowed), or with NULL when the handler dropped its ack or no
 * handler exists (the requester then sees that node as not answering). */
typedef void (*sio_adapter_reply_cb)(void *user, const sio_args_t *args);
/* Runs the sio_ns_on_server_side handler of event with args (borrowed). reply NULL: no
 * ack wanted. Returns 0 (reply, if any, has run or will run) or SIO_ENOMEM (reply will
 * not run). */
SIO_EXTERN int sio_adapter_server_side_dispatch(sio_ns_t *ns, const char *event, const sio_args_t *args,
                                                sio_adapter_reply_cb reply, void *user);

#endif
