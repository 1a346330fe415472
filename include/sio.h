/*
 * sio.h: libsio, a Socket.IO v5 server in C.
 *
 * Wire-compatible with the official clients (socket.io-client 4.x, python-socketio 5.x).
 * The API follows the JavaScript server (`socket.io` 4.x): a server with namespaces,
 * namespace middlewares, sockets with events, acknowledgements and rooms, broadcast
 * operators (to / except / volatile / local / timeout), and an adapter underneath.
 *
 *   uv_loop_t *loop = uv_default_loop();
 *   sio_http_t *http;  sio_http_new(loop, NULL, &http);
 *   sio_server_t *io;  sio_server_new(http, NULL, &io);
 *   sio_ns_on_connect(sio_server_main(io), on_connect, NULL);
 *   sio_ns_on(sio_server_main(io), "chat", on_chat, NULL);
 *   sio_http_listen(http, "0.0.0.0", 3000);
 *   uv_run(loop, UV_RUN_DEFAULT);
 *
 * Ownership words used below: "borrowed" (valid during the call or callback only),
 * "copied" (the library copies before returning), "returns new" (free it as said).
 * Every call returns 0 (or a count) on success and a negative SIO_E* / UV_E* code on
 * failure; a call that fails never runs its callback.
 *
 * Threading: every function must be called on the thread running the uv loop; none is
 * thread-safe. Callbacks run on that thread.
 */
#ifndef SIO_H
#define SIO_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sio/common.h"
#include "sio/engine.h"
#include "sio/errors.h"
#include "sio/http.h"
#include "sio/version.h"

typedef struct sio_server_s sio_server_t; /* opaque */
typedef struct sio_ns_s sio_ns_t;         /* opaque: a namespace ("/", "/admin") */
typedef struct sio_socket_s sio_socket_t; /* opaque, refcounted: one client in one namespace */
typedef struct sio_args_s sio_args_t;     /* opaque: event arguments (JSON values and binary) */
typedef struct sio_ack_s sio_ack_t;       /* opaque, one-shot: the client's ack callback */
typedef struct sio_mw_s sio_mw_t;         /* opaque, one-shot: a middleware's verdict */
typedef struct sio_event_mw_s sio_event_mw_t; /* opaque, one-shot: an event held by socket.use middlewares */

/* ======================================================================== arguments */

/* The type of one argument. */
typedef enum {
  SIO_ARG_NULL = 0,
  SIO_ARG_BOOL,
  SIO_ARG_NUMBER,
  SIO_ARG_STRING,
  SIO_ARG_ARRAY,
  SIO_ARG_OBJECT,
  SIO_ARG_BINARY /* a Buffer / ArrayBuffer / bytes on the client */
} sio_arg_type_t;

/* Returns new empty args in *out (free with sio_args_free). SIO_ENOMEM. */
SIO_EXTERN int sio_args_new(sio_args_t **out);
/* Frees args made with sio_args_new/sio_args_copy; NULL allowed. Never free args that a
 * callback handed you (borrowed). */
SIO_EXTERN void sio_args_free(sio_args_t *a);
/* Returns new args in *out (free with sio_args_free) holding copies of arguments
 * [from, from+count) of src (borrowed; count clamped, from past the end gives none).
 * Returns 0 or SIO_ENOMEM. */
SIO_EXTERN int sio_args_copy(const sio_args_t *src, size_t from, size_t count, sio_args_t **out);

/* Appends one argument (copied). Return 0 or SIO_ENOMEM; add_json also SIO_EJSON for text
 * that is not one valid JSON value, add_double SIO_EINVAL for NaN and infinities (JSON
 * has no such numbers). */
SIO_EXTERN int sio_args_add_str(sio_args_t *a, const char *s, size_t len); /* UTF-8; SIO_EUTF8 */
SIO_EXTERN int sio_args_add_cstr(sio_args_t *a, const char *s);
SIO_EXTERN int sio_args_add_int(sio_args_t *a, int64_t v);
SIO_EXTERN int sio_args_add_double(sio_args_t *a, double v);
SIO_EXTERN int sio_args_add_bool(sio_args_t *a, int v);
SIO_EXTERN int sio_args_add_null(sio_args_t *a);
SIO_EXTERN int sio_args_add_json(sio_args_t *a, const char *json, size_t len);
SIO_EXTERN int sio_args_add_binary(sio_args_t *a, const void *data, size_t len);
/* Appends one argument given as JSON text you encoded yourself (copied): the text is
 * checked (exactly one JSON value, UTF-8 strings) and kept as it is, white space around
 * it trimmed, with no tree built. Encoding it is a memcpy, so a value serialised once can
 * be sent many times for the price of a string. (sio_args_add_json, by contrast, parses
 * the value and writes it out as JSON.stringify spells it.) A value with an object key
 * that is or may spell "_placeholder", or with a number at the double's limit, is added
 * the way sio_args_add_json adds it. Returns 0, SIO_EJSON (not one valid JSON value, or
 * a {"_placeholder":true} object), SIO_EINVAL (a NULL or borrowed from a callback) or
 * SIO_ENOMEM; on failure a is unchanged. */
SIO_EXTERN int sio_args_add_json_text(sio_args_t *a, const char *json, size_t len);
/* Appends a copy of argument i of src (borrowed; its binary parts are shared). Returns
 * 0, SIO_EINVAL (i out of range, or a borrowed from a callback), SIO_ENOMEM. */
SIO_EXTERN int sio_args_add_arg(sio_args_t *a, const sio_args_t *src, size_t i);

/* Composing nested values that may hold binary. The binary parts of the copied values
 * are kept (shared, not copied) and renumbered into a's attachment list. items / values
 * are borrowed and may be a itself. On failure a is unchanged.
 *
 * Appends ONE argument: a JSON array whose elements are all of items' arguments, in
 * order (items NULL or empty: []). Returns 0, SIO_ENOMEM, or SIO_EINVAL (a is NULL or
 * borrowed from a callback). */
SIO_EXTERN int sio_args_add_array(sio_args_t *a, const sio_args_t *items);
/* Appends ONE argument: an object whose member keys[i] (UTF-8, copied) is values'
 * argument i, for i < sio_args_count(values) (keys must have that many entries; a key
 * given twice keeps its last value, at its first position). Returns 0, SIO_ENOMEM,
 * SIO_EUTF8 (a key), or SIO_EINVAL (a NULL or borrowed, a NULL key, or a "_placeholder"
 * member set to true, which clients would read as a binary attachment). */
SIO_EXTERN int sio_args_add_object(sio_args_t *a, const char *const *keys, const sio_args_t *values);
/* Returns new args in *out (free with sio_args_free) holding one argument: the value of
 * member key of object argument i (binary parts kept). SIO_ENOTFOUND when the object has
 * no such member, SIO_EINVAL when i is out of range or not an object (binary included),
 * SIO_ENOMEM. */
SIO_EXTERN int sio_args_member(const sio_args_t *a, size_t i, const char *key, sio_args_t **out);
/* Returns new args in *out (free with sio_args_free) whose arguments are the elements of
 * array argument i, in order (binary parts kept). SIO_EINVAL when i is out of range or
 * not an array, SIO_ENOMEM. */
SIO_EXTERN int sio_args_unpack(const sio_args_t *a, size_t i, sio_args_t **out);

/* Number of arguments in a (borrowed); NULL counts as 0. */
SIO_EXTERN size_t sio_args_count(const sio_args_t *a);
/* Type of argument i (a sio_arg_type_t, >= 0); SIO_EINVAL when i is out of range,
 * SIO_ENOMEM when it had to be parsed and memory ran out. */
SIO_EXTERN int sio_args_type(const sio_args_t *a, size_t i);
/* Typed reads: 0 on success, SIO_EINVAL when i is out of range or of another type,
 * SIO_ENOMEM when the argument had to be parsed and memory ran out. Strings and binary
 * are borrowed from a (valid while a is; a slice, not NUL-terminated). get_int accepts
 * integral numbers only. */
SIO_EXTERN int sio_args_get_str(const sio_args_t *a, size_t i, sio_str_t *out);
SIO_EXTERN int sio_args_get_int(const sio_args_t *a, size_t i, int64_t *out);
SIO_EXTERN int sio_args_get_double(const sio_args_t *a, size_t i, double *out);
SIO_EXTERN int sio_args_get_bool(const sio_args_t *a, size_t i, int *out);
SIO_EXTERN int sio_args_get_binary(const sio_args_t *a, size_t i, sio_str_t *out);
/* Reads the string member key of object argument i (borrowed from a): 0 and *out,
 * SIO_ENOTFOUND when the object has no member key, SIO_EINVAL when i is out of range,
 * not an object, or the member is not a string, SIO_ENOMEM. */
SIO_EXTERN int sio_args_get_member_str(const sio_args_t *a, size_t i, const char *key, sio_str_t *out);
/* Predicate: 1 if object argument i has member key (borrowed), else 0 (also when i is
 * out of range, not an object, or key is NULL). */
SIO_EXTERN int sio_args_has_member(const sio_args_t *a, size_t i, const char *key);
/* Serialises argument i as JSON (binary parts as {"_placeholder":true,"num":N}) into a
 * returned new NUL-terminated string (free with sio_free). SIO_EINVAL, SIO_ENOMEM. */
SIO_EXTERN int sio_args_to_json(const sio_args_t *a, size_t i, char **out, size_t *len);
/* Serialised size in bytes of argument i (JSON text, or binary length); 0 when i is out
 * of range or memory ran out. */
SIO_EXTERN size_t sio_args_size(const sio_args_t *a, size_t i);
/* Frees memory the library returned as "free with sio_free" (sio_args_to_json...);
 * NULL allowed. Uses the sio_set_allocator allocator. */
SIO_EXTERN void sio_free(void *p);

/* ======================================================================== server */

/* The Socket.IO packet encoding a server speaks (socket.io's `parser` option). */
typedef enum {
  SIO_PARSER_DEFAULT = 0, /* socket.io-parser: text packets, binary parts as attachments */
  SIO_PARSER_MSGPACK = 1  /* socket.io-msgpack-parser 3.x: each packet one msgpack map
                             {type, data, nsp, id} in one binary message, binary
                             arguments as msgpack bin; clients must be configured with
                             `parser: require("socket.io-msgpack-parser")` */
} sio_parser_t;

typedef struct {
  const char *path;             /* default "/socket.io/" (copied) */
  sio_engine_opts_t engine;     /* pingInterval, pingTimeout, maxHttpBufferSize, CORS... */
  uint64_t connect_timeout_ms;  /* an engine session with no namespace joined by then is
                                   closed; default 45000 */
  uint32_t max_rooms_per_socket;/* rooms a socket may be in besides its own id room;
                                   sio_socket_join answers SIO_ELIMIT past it. 0 (the
                                   default, as in Node): no limit */
  int parser;                   /* sio_parser_t; default SIO_PARSER_DEFAULT. A client
                                   speaking the other encoding is closed after one
                                   warning that names the fix */
  /* Connection-state recovery (socket.io 4.6+ `connectionStateRecovery`, docs/design.md
   * "Connection-state recovery"). Off by default, as in Node. When on, the CONNECT
   * answer carries a private session id ("pid"), every stored packet carries its offset
   * as an extra last string argument, and a socket that leaves for a recoverable reason
   * ("transport close", "transport error", "ping timeout", "forced close", "server
   * shutting down", "forced server close"; never a namespace disconnect) is kept for
   * max_disconnection_ms with its id, rooms and data JSON. A client that reconnects in
   * that window with {pid, offset} gets them back and every packet it missed, in order;
   * sio_socket_recovered() then answers 1. Stored: every broadcast and socket emit that
   * is neither volatile nor waiting for an ack. Memory is bounded: stored packets share
   * the broadcast's encoded bytes, and are dropped past the window or, oldest first, past
   * max_bytes; a session that would miss a dropped packet is not recovered (recovered 0,
   * fresh id) rather than recovered with a gap. Sessions past max_sessions drop the oldest. */
  struct {
    int enabled;                   /* default 0 */
    uint64_t max_disconnection_ms; /* maxDisconnectionDuration; default 120000 */
    int skip_middlewares;          /* a recovered socket skips the middlewares; default 1 */
    size_t max_bytes;              /* stored packets, all namespaces; default (and 0) 16 MiB */
    uint32_t max_sessions;         /* kept sessions, all namespaces; default (and 0) 100000 */
  } recovery;
} sio_server_opts_t;

/* Fills *o (not NULL) with the JS server's defaults, listed with each field. */
SIO_EXTERN void sio_server_opts_init(sio_server_opts_t *o);

/* Creates a Socket.IO server attached to http at opts->path (opts copied; NULL for
 * defaults). The main namespace "/" exists from the start. Returns 0 and *out, or
 * SIO_EEXIST (path taken), SIO_EINVAL (an unknown parser), SIO_ENOMEM. The server is
 * freed when http is closed (sio_http_close), after every socket got "server shutting
 * down". */
SIO_EXTERN int sio_server_new(sio_http_t *http, const sio_server_opts_t *opts, sio_server_t **out);

/* Disconnects every socket ("server shutting down"), finishes pending broadcast acks
 * (SIO_ECANCELED) and refuses new sessions. Idempotent; io stays valid until
 * sio_http_close frees it. */
SIO_EXTERN void sio_server_shutdown(sio_server_t *io);

/* The HTTP server io is attached to (borrowed). */
SIO_EXTERN sio_http_t *sio_server_http(const sio_server_t *io);

/* The main namespace "/" (borrowed, lives as long as the server). */
SIO_EXTERN sio_ns_t *sio_server_main(sio_server_t *io);

/* The namespace name (e.g. "/chat"; copied), created if missing. Returns 0 and *out
 * (borrowed: lives as long as the server), SIO_EINVAL (name NULL or not starting with
 * '/'), SIO_ENOMEM. */
SIO_EXTERN int sio_server_of(sio_server_t *io, const char *name, sio_ns_t **out);

/* Dynamic namespaces: when a client connects to an unknown namespace, match(name) is
 * asked; if it returns non-zero the namespace is created as a child of *out_parent:
 * middlewares, connect/disconnect callbacks and event handlers registered on the parent
 * apply to every child (io.of(/regex/) in JS). match runs on the loop thread with name
 * borrowed. Returns 0 and the parent (borrowed: lives as long as the server), or
 * SIO_ENOMEM. */
typedef int (*sio_ns_match_cb)(const char *name, void *user);
SIO_EXTERN int sio_server_of_dynamic(sio_server_t *io, sio_ns_match_cb match, void *user, sio_ns_t **out_parent);

/* ======================================================================== namespaces */

/* The namespace's name, "/" or "/chat" (borrowed: lives as long as ns). */
SIO_EXTERN const char *sio_ns_name(const sio_ns_t *ns);
/* Connected sockets of ns on this process. */
SIO_EXTERN size_t sio_ns_count(const sio_ns_t *ns);
/* The server ns belongs to (borrowed). */
SIO_EXTERN sio_server_t *sio_ns_server(const sio_ns_t *ns);

/* Middleware: runs for every connecting socket, in registration order, before the
 * connect callbacks. It must eventually call sio_mw_next(mw, NULL, NULL) to accept, or
 * sio_mw_next(mw, message, data_json) to refuse (the client gets connect_error with
 * err.message = message and err.data = the parsed data_json, which may be NULL).
 * It may answer later (async); if the client leaves meanwhile, sio_mw_next just frees mw.
 * The socket's handshake (auth, headers, query, address) is readable in the middleware. */
typedef void (*sio_middleware_cb)(sio_socket_t *s, sio_mw_t *mw, void *user);
/* Adds a middleware (user is passed through, never freed by the library). Returns 0 or
 * SIO_ENOMEM. */
SIO_EXTERN int sio_ns_use(sio_ns_t *ns, sio_middleware_cb cb, void *user);
/* Consumes mw. message and data_json copied. Returns 0 or SIO_EJSON (bad data_json:
 * the socket is refused with message only). */
SIO_EXTERN int sio_mw_next(sio_mw_t *mw, const char *message, const char *data_json);

typedef void (*sio_connect_cb)(sio_socket_t *s, void *user);
/* A socket connected (middlewares passed). Several callbacks run in order; s is
 * borrowed (see sio_socket_ref). Returns 0 or SIO_ENOMEM. */
SIO_EXTERN int sio_ns_on_connect(sio_ns_t *ns, sio_connect_cb cb, void *user);

/* Event handler. args and ack are borrowed: ack is NULL when the client asked for no
 * acknowledgement; otherwise answer with sio_ack_send() during the callback, or keep it
 * with sio_ack_retain() and answer (or sio_ack_free) later. */
typedef void (*sio_event_cb)(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user);
/* Handler for event on every socket of ns (no per-socket cost). One handler per event
 * and namespace; a second call replaces it. event copied. Returns 0 or SIO_ENOMEM. */
SIO_EXTERN int sio_ns_on(sio_ns_t *ns, const char *event, sio_event_cb cb, void *user);

typedef void (*sio_disconnect_cb)(sio_socket_t *s, const char *reason, void *user);
/* "disconnecting": the socket is leaving. It is still connected and in its rooms during
 * the callback: it can read them, emit, and broadcast to them (socket.to(room) reaches
 * the others); calling sio_socket_disconnect on it returns SIO_ECLOSED. reason is
 * static. Returns 0 or SIO_ENOMEM. */
SIO_EXTERN int sio_ns_on_disconnecting(sio_ns_t *ns, sio_disconnect_cb cb, void *user);
/* "disconnect": the socket left (rooms gone). Reasons are socket.io's strings:
 * "client namespace disconnect", "server namespace disconnect", "transport close",
 * "transport error", "ping timeout", "parse error", "forced close",
 * "forced server close", "server shutting down" (static strings). Returns 0 or
 * SIO_ENOMEM. */
SIO_EXTERN int sio_ns_on_disconnect(sio_ns_t *ns, sio_disconnect_cb cb, void *user);

/* Calls cb for every room of ns that has members (on this process): its name, member
 * count and whether it is a socket's own id room (the course's "public rooms" are the
 * ones where is_sid is 0). Rooms are borrowed for the call. */
SIO_EXTERN void sio_ns_rooms(sio_ns_t *ns, void (*cb)(sio_str_t room, size_t size, int is_sid, void *u), void *u);
/* Members of room (0 if none). room copied. */
SIO_EXTERN size_t sio_ns_room_size(sio_ns_t *ns, const char *room);

/* Room events (the in-memory adapter's "create-room", "delete-room", "join-room" and
 * "leave-room" in JS), on this process: a room is created before its first member
 * joins and deleted after its last member left. A lobby keeps its room counts from
 * these in O(1) per change instead of walking every room. */
enum { SIO_ROOM_CREATE = 1, SIO_ROOM_DELETE, SIO_ROOM_JOIN, SIO_ROOM_LEAVE };
typedef struct {
  int type;              /* SIO_ROOM_* */
  sio_str_t room;        /* borrowed for the call */
  int is_sid;            /* the room is a socket's own id room */
  const char *socket_id; /* who joined or left; NULL for CREATE and DELETE */
  size_t size;           /* members after the change */
} sio_room_event_t;
typedef void (*sio_room_cb)(sio_ns_t *ns, const sio_room_event_t *ev, void *user);
/* Sets ns's one room listener (NULL removes it); a dynamic namespace's parent lends
 * its listener to its children. cb runs inside the join or leave that caused it and
 * must not join or leave rooms itself (it may emit). Returns 0. */
SIO_EXTERN int sio_ns_on_room(sio_ns_t *ns, sio_room_cb cb, void *user);

/* ======================================================================== observing a server */

/* What a monitor (sio/admin.h, a metrics exporter) reads from a server: engine-level
 * figures of this process, cumulative since sio_server_new except clients and
 * polling_clients. Reading costs nothing on the hot path (a few counters). */
typedef struct {
  uint64_t connections;     /* Engine.IO sessions opened */
  uint64_t disconnections;  /* Engine.IO sessions closed */
  uint64_t packets_in;      /* Engine.IO messages received (text and binary) */
  uint64_t bytes_in;
  uint64_t packets_out;     /* Socket.IO packet parts queued to a session (text and
                               attachments; a broadcast counts once per recipient) */
  uint64_t bytes_out;
  size_t clients;           /* sessions open now */
  size_t polling_clients;   /* of which still on long-polling */
} sio_server_stats_t;
/* Fills *out (not NULL). */
SIO_EXTERN void sio_server_stats(const sio_server_t *io, sio_server_stats_t *out);

/* Calls cb for every namespace of io (dynamic children included, their parent templates
 * not), in no order. cb must not create namespaces. */
SIO_EXTERN void sio_server_namespaces(sio_server_t *io, void (*cb)(sio_ns_t *ns, void *u), void *u);

/* Server-wide listeners for monitors (socket.io's "new_namespace", the adapters'
 * "join-room"/"leave-room", engine.io's "upgrade" and "close"). Every member may be NULL;
 * all run on the loop thread with user. Unlike sio_ns_on_room (one per namespace, the
 * application's), several observers can coexist. */
typedef struct {
  /* A namespace was created (not called for the ones that exist at sio_server_observe:
   * walk them with sio_server_namespaces). */
  void (*on_namespace)(sio_ns_t *ns, void *user);
  /* A room event of any namespace, after the namespace's own listener; same rules as a
   * sio_room_cb (must not join or leave; may emit). */
  void (*on_room)(sio_ns_t *ns, const sio_room_event_t *ev, void *user);
  /* s's connection moved from long-polling to WebSocket: once per socket of that client. */
  void (*on_upgrade)(sio_socket_t *s, void *user);
  /* An Engine.IO session closed with reason (engine.io's string, static). */
  void (*on_session_close)(sio_server_t *io, const char *reason, void *user);
  /* io is being freed (sio_http_close): the observer's last call, the place to free
   * user. */
  void (*on_free)(sio_server_t *io, void *user);
  /* A connected socket's data JSON changed (sio_socket_set_data_json): read it with
   * sio_socket_get_data_json. */
  void (*on_data)(sio_socket_t *s, void *user);
} sio_server_observer_t;
#define SIO_SERVER_MAX_OBSERVERS 4
/* Adds an observer (obs borrowed: static storage). Returns 0, or SIO_ELIMIT past
 * SIO_SERVER_MAX_OBSERVERS. */
SIO_EXTERN int sio_server_observe(sio_server_t *io, const sio_server_observer_t *obs, void *user);
/* Removes the observer added with obs and user; returns 0 or SIO_ENOTFOUND. Not from
 * inside one of its callbacks. */
SIO_EXTERN int sio_server_unobserve(sio_server_t *io, const sio_server_observer_t *obs, void *user);

/* ======================================================================== broadcast */

enum {
  SIO_BCAST_VOLATILE = 1 << 0, /* dropped for a socket whose transport cannot write right
                                  now (no pending long-poll GET, WebSocket busy) */
  SIO_BCAST_LOCAL = 1 << 1,    /* this process only (no adapter fan-out to other nodes) */
  SIO_BCAST_NO_COMPRESS = 1 << 2 /* compress(false): sent without permessage-deflate
                                    whatever its size (engine per_message_deflate) */
};

/* A selection of sockets, filled by value (the JS operators to/in/except/volatile/local):
 * every socket of the namespace in any of rooms (all sockets when nrooms is 0), minus
 * every socket in any of except. The arrays are borrowed for the call; neither has a
 * size limit (nor has the number of binary attachments of what is sent to them). */
typedef struct {
  const char *const *rooms;
  size_t nrooms;
  const char *const *except;
  size_t nexcept;
  unsigned flags;
} sio_broadcast_opts_t;

#define SIO_BROADCAST_ALL {NULL, 0, NULL, 0, 0}

/* Emits event(args) to the selection (to borrowed for the call; NULL: every socket);
 * event and args copied (encoded once for all recipients; args NULL: no arguments).
 * Returns the number of local recipients (>= 0), SIO_EINVAL (event NULL or not UTF-8),
 * SIO_ENOMEM, or the adapter's error for the remote part. SIO_ENOMEM while encoding or
 * selecting comes before any recipient got the packet; the adapter's fan-out (sent after
 * the local delivery) may fail on its own, with its error returned. The selection
 * operations and queries below fail the same way: SIO_ENOMEM means nothing was done.
 * Under connection-state recovery with an adapter that keeps the offsets (version 3,
 * sio_redis_streams_attach), a recoverable emit is delivered locally once the adapter
 * has its offset: it returns 0 (no local count yet) or SIO_ENOMEM. */
SIO_EXTERN int sio_ns_emit(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args);

/* Broadcast with acknowledgements: cb runs exactly once, when every recipient answered
 * (status 0), after timeout_ms (status SIO_ETIMEDOUT, with the answers so far), or when
 * the server shuts down first (SIO_ECANCELED). With no recipient it runs at once, inside
 * this call (status 0, n 0). A recipient that disconnects is still waited for until the
 * timeout, as in socket.io; answers after cb ran are ignored. responses[i] are the ack
 * args of each answering socket, in arrival order (borrowed for the call).
 * With an adapter the selection spans every node: cb waits for every node to report how
 * many of its clients it reached and for their answers; an answer from another node
 * carries only the client's first ack argument (what the wire format carries). The
 * return value counts this process's recipients only. */
typedef void (*sio_bcast_ack_cb)(int status, const sio_args_t *const *responses, size_t n, void *user);
/* Returns the number of local recipients (>= 0), or SIO_EINVAL, SIO_ENOMEM, SIO_ELIMIT
 * (more than 64 binary attachments to send across nodes), or the adapter's error; on
 * error cb does not run. */
SIO_EXTERN int sio_ns_emit_with_ack(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event,
                                    const sio_args_t *args, uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user);

/* Every socket of the main namespace (io.emit). Returns as sio_ns_emit. */
SIO_EXTERN int sio_server_emit(sio_server_t *io, const char *event, const sio_args_t *args);

/* Selection operations (socketsJoin / socketsLeave / disconnectSockets): applied to this
 * process's sockets, then, with an adapter (sio/redis.h) and without SIO_BCAST_LOCAL,
 * sent to every other node, which applies them to its own. to borrowed, room copied.
 * Return 0, SIO_ENOMEM, or the adapter's error (the local part is done anyway). */
SIO_EXTERN int sio_ns_sockets_join(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room);
SIO_EXTERN int sio_ns_sockets_leave(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room);
SIO_EXTERN int sio_ns_disconnect_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, int close);

/* ======================================================================== fetchSockets */

/* fetchSockets on this process: cb runs inside the call with live handles of the
 * selected local sockets (borrowed for the call; sio_socket_ref to keep one). Sockets on
 * other nodes are not included: see sio_ns_fetch_sockets_all. Returns 0 or SIO_ENOMEM
 * (cb not run). */
typedef void (*sio_fetch_cb)(int status, sio_socket_t *const *sockets, size_t n, void *user);
SIO_EXTERN int sio_ns_fetch_sockets(sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_fetch_cb cb, void *user);

/*
 * A socket as a cluster-wide fetch sees it (socket.io's RemoteSocket): a read-only
 * snapshot that looks the same whichever node the socket is on. Everything is borrowed
 * for the callback. To act on it anywhere, use its id as a room: a selection
 * {rooms = &id, nrooms = 1} reaches exactly that socket on whatever node it lives
 * (emit, sio_ns_sockets_join, sio_ns_disconnect_sockets...).
 */
typedef struct {
  const char *id;             /* the socket id (NUL-terminated) */
  const char *const *rooms;   /* its rooms, its own id room included, in no order */
  size_t nrooms;
  const char *data_json;      /* socket.data as JSON text ("null" when never set) */
  const char *handshake_json; /* socket.handshake as JSON: {"headers":{...},"time":"...",
                                 "address":"...","xdomain":bool,"secure":bool,"issued":ms,
                                 "url":"...","query":{...},"auth":{...}}; query as
                                 engine.io 6.6 builds it: decoded strings, a repeated
                                 key with its last value (not an array) */
  sio_socket_t *local;        /* the live socket when it is on this process, else NULL. It
                                 may have disconnected since the call (check
                                 sio_socket_connected); its rooms are read when cb runs */
} sio_remote_socket_t;

/*
 * fetchSockets across nodes: cb runs once with every selected socket of every node,
 * this process's first (with .local set). Without an adapter, or with SIO_BCAST_LOCAL,
 * it runs inside this call; otherwise when every other node answered or the adapter's
 * request timeout passed. status: 0; SIO_ETIMEDOUT (some nodes did not answer in time:
 * what did arrive is delivered); SIO_ECLOSED (the adapter cannot reach the other nodes:
 * local sockets only); SIO_ECANCELED (server shutdown). sockets is borrowed for the call.
 * Returns 0, or an error (SIO_ENOMEM, or the adapter's), and then cb does not run.
 * (This and the queries below return errors the same way.)
 */
typedef void (*sio_fetch_all_cb)(int status, const sio_remote_socket_t *sockets, size_t n, void *user);
SIO_EXTERN int sio_ns_fetch_sockets_all(sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_fetch_all_cb cb, void *user);

/* Names (socket ids, room names) gathered across nodes, each once; borrowed for the call.
 * status as for sio_fetch_all_cb. */
typedef void (*sio_names_cb)(int status, const char *const *names, size_t n, void *user);
/* allSockets: the ids of the sockets in any of rooms (every socket when nrooms is 0) on
 * every node. rooms borrowed for the call. Runs cb like sio_ns_fetch_sockets_all. */
SIO_EXTERN int sio_ns_all_sockets(sio_ns_t *ns, const char *const *rooms, size_t nrooms, sio_names_cb cb, void *user);
/* allRooms: every room that has members on some node, socket id rooms included (as the
 * JS adapter's allRooms()). */
SIO_EXTERN int sio_ns_all_rooms(sio_ns_t *ns, sio_names_cb cb, void *user);
/* serverCount: the number of nodes serving ns, this one included (1 without an
 * adapter; with Redis, the subscribers of the namespace's request channel). */
typedef void (*sio_count_cb)(int status, size_t count, void *user);
SIO_EXTERN int sio_ns_server_count(sio_ns_t *ns, sio_count_cb cb, void *user);

/* ======================================================================== serverSideEmit */

typedef struct sio_server_ack_s sio_server_ack_t; /* opaque, one-shot: a node's answer */

/* Handler of a server-side event sent by another node (io.on(event) in JS). args
 * borrowed. ack is NULL when the sender wants no answer; otherwise answer with
 * sio_server_ack_send() during the call, or sio_server_ack_retain() it and send (or
 * sio_server_ack_free) later, exactly once. An ack neither sent nor retained is dropped
 * when the handler returns (the sender then counts this node as not answering). */
typedef void (*sio_server_side_cb)(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *user);
/* One handler per event (a second call replaces it). event copied. Returns 0, SIO_ENOMEM. */
SIO_EXTERN int sio_ns_on_server_side(sio_ns_t *ns, const char *event, sio_server_side_cb cb, void *user);

/* serverSideEmit: event(args) to the handlers of every OTHER node (never this one);
 * args copied. Without an adapter there is nobody to send to: returns 0. Returns
 * SIO_EINVAL for the reserved names "connect", "connection" and "new_namespace". */
SIO_EXTERN int sio_ns_server_side_emit(sio_ns_t *ns, const char *event, const sio_args_t *args);
/* The same on the main namespace (io.serverSideEmit). */
SIO_EXTERN int sio_server_side_emit(sio_server_t *io, const char *event, const sio_args_t *args);

/* With acknowledgements: cb runs once, with one answer per other node in responses
 * (argument i = node i's first answer argument, null when it answered with none), when
 * every node answered (status 0), or after the adapter's request timeout
 * (SIO_ETIMEDOUT, answers so far), SIO_ECLOSED or SIO_ECANCELED. With no other node cb
 * runs inside the call with none. responses borrowed for the call. */
typedef void (*sio_server_side_ack_cb)(int status, const sio_args_t *responses, void *user);
SIO_EXTERN int sio_ns_server_side_emit_with_ack(sio_ns_t *ns, const char *event, const sio_args_t *args,
                                                sio_server_side_ack_cb cb, void *user);

/* Answers (consumes ack; args copied; only the first argument travels, as in socket.io,
 * NULL or none: no value). SIO_EINVAL when already answered. */
SIO_EXTERN int sio_server_ack_send(sio_server_ack_t *ack, const sio_args_t *args);
/* Keeps ack past the handler (returns ack); it must then be sent or freed, once. */
SIO_EXTERN sio_server_ack_t *sio_server_ack_retain(sio_server_ack_t *ack);
/* Drops ack without answering (consumes it; NULL allowed). */
SIO_EXTERN void sio_server_ack_free(sio_server_ack_t *ack);

/* ======================================================================== sockets */

/* A socket handed to a callback is valid until its disconnect callbacks return. To keep
 * it longer take a reference; calls on a disconnected socket return SIO_ECLOSED. */
/* Takes a reference (returns s). */
SIO_EXTERN sio_socket_t *sio_socket_ref(sio_socket_t *s);
/* Drops a reference; the memory goes on a later loop turn once the socket is
 * disconnected and unreferenced. */
SIO_EXTERN void sio_socket_unref(sio_socket_t *s);

/* The socket id: 20 characters, NUL-terminated, borrowed (valid as long as s). */
SIO_EXTERN const char *sio_socket_id(const sio_socket_t *s);
/* The socket's namespace (borrowed). */
SIO_EXTERN sio_ns_t *sio_socket_ns(const sio_socket_t *s);
/* Predicate: 1 while connected (during "disconnecting" callbacks too), 0 once it left
 * (during "disconnect" callbacks and after). */
SIO_EXTERN int sio_socket_connected(const sio_socket_t *s);
/* 1 when s took over a session kept by connection-state recovery (socket.recovered in
 * JS): same id, rooms and data JSON as before, and the packets it missed were replayed
 * before its CONNECT answer. The connect callbacks run for it too, so an app can rebuild
 * its per-socket state (sio_socket_set_data) from sio_socket_get_data_json. 0 otherwise,
 * and always when recovery is off. Readable from the middlewares on. */
SIO_EXTERN int sio_socket_recovered(const sio_socket_t *s);
/* An application pointer kept with the socket (borrowed: the library never reads or
 * frees it; free it in a disconnect callback). */
SIO_EXTERN void sio_socket_set_data(sio_socket_t *s, void *data);
SIO_EXTERN void *sio_socket_get_data(const sio_socket_t *s);
/* A JSON value that travels with the socket (socket.data in JS, seen by fetchSockets on
 * other nodes). json copied; NULL clears. SIO_EJSON. Get returns borrowed text ("null"). */
SIO_EXTERN int sio_socket_set_data_json(sio_socket_t *s, const char *json);
SIO_EXTERN const char *sio_socket_get_data_json(const sio_socket_t *s);

/* Handshake (borrowed): the CONNECT auth payload as JSON text ("{}" when none), the
 * headers and query of the engine's first request, the peer address. The engine parts
 * (headers, query, url, address) read as empty once the socket is disconnected. */
SIO_EXTERN const char *sio_socket_auth(const sio_socket_t *s);
/* One auth member or handshake header: sio_socket_get_auth_str and sio_socket_get_header
 * (sio/easy.h: 0 and *out, or SIO_ENOTFOUND). */
/* Calls cb for every header of the engine's first request, in order, names lower-cased
 * (slices borrowed for the call). */
SIO_EXTERN void sio_socket_headers(const sio_socket_t *s, void (*cb)(sio_str_t name, sio_str_t value, void *u),
                                   void *u);
/* The raw (percent-encoded) query string of that request, without '?': every value of a
 * repeated key is there (handshake.query in fetchSockets keeps the last, as Node does). */
SIO_EXTERN sio_str_t sio_socket_query(const sio_socket_t *s);
/* Its request target, "/socket.io/?EIO=4&transport=polling&..." (handshake.url). */
SIO_EXTERN sio_str_t sio_socket_handshake_url(const sio_socket_t *s);
/* When the socket's handshake happened (its CONNECT), in ms since the Unix epoch
 * (handshake.issued). */
SIO_EXTERN uint64_t sio_socket_handshake_time(const sio_socket_t *s);
/* The peer's IP address (borrowed; "" once disconnected). */
SIO_EXTERN const char *sio_socket_address(const sio_socket_t *s);
/* "polling" or "websocket" (static). */
SIO_EXTERN const char *sio_socket_transport(const sio_socket_t *s);
/* The Engine.IO session id (borrowed), shared by the client's sockets of every namespace. */
SIO_EXTERN const char *sio_socket_engine_id(const sio_socket_t *s);

/* Emits event(args) to this socket; args copied (NULL: no arguments). SIO_ECLOSED, SIO_ENOMEM,
 * SIO_EINVAL (event NULL or not UTF-8; this holds for every emit). */
SIO_EXTERN int sio_socket_emit(sio_socket_t *s, const char *event, const sio_args_t *args);

/* sio_socket_emit with flags (socket.volatile.emit in JS): SIO_BCAST_VOLATILE drops the
 * packet, returning 0, when the transport cannot write it right now (a long-poll with
 * no GET waiting, a WebSocket with a write in flight); a volatile packet is never stored
 * for connection-state recovery; SIO_BCAST_NO_COMPRESS (socket.compress(false)) sends it
 * without permessage-deflate. Other bits are ignored. Returns as sio_socket_emit. */
SIO_EXTERN int sio_socket_emit_flags(sio_socket_t *s, const char *event, const sio_args_t *args, unsigned flags);

/* Ack callback of an emit: runs exactly once with status 0 and the client's answer, or
 * SIO_ETIMEDOUT (args NULL) after the timeout, or SIO_ECANCELED when the socket
 * disconnects first. */
typedef void (*sio_ack_cb)(sio_socket_t *s, int status, const sio_args_t *args, void *user);
/* timeout_ms 0 waits until the answer or the disconnect. event and args copied. Returns
 * 0, SIO_ECLOSED, SIO_EINVAL, SIO_ENOMEM; on error cb does not run. */
SIO_EXTERN int sio_socket_emit_with_ack(sio_socket_t *s, const char *event, const sio_args_t *args,
                                        uint64_t timeout_ms, sio_ack_cb cb, void *user);

/* Emits to the selection minus this socket (socket.broadcast / socket.to(room)); to
 * borrowed for the call. Returns as sio_ns_emit, plus SIO_ECLOSED (s disconnected) and
 * SIO_EINVAL (64 or more except rooms). sio_socket_to_emit (sio/easy.h) is the one-room
 * form. */
SIO_EXTERN int sio_socket_broadcast(sio_socket_t *s, const sio_broadcast_opts_t *to, const char *event,
                                    const sio_args_t *args);

/* Answers a client's ack (consumes ack; args copied, NULL for none). SIO_ECLOSED when the
 * socket is gone (ack still consumed). Allowed during the event callback (retained or
 * not) and, on a retained ack, at any later time, including from a callback that runs
 * before the event callback returns. A second answer during the event callback returns
 * SIO_EINVAL and sends nothing. */
SIO_EXTERN int sio_ack_send(sio_ack_t *ack, const sio_args_t *args);
/* Keeps ack past the callback (returns ack); then it must be sent or freed (exactly
 * once). */
SIO_EXTERN sio_ack_t *sio_ack_retain(sio_ack_t *ack);
/* Drops ack without answering (consumes it; NULL allowed). */
SIO_EXTERN void sio_ack_free(sio_ack_t *ack);

/* Per-socket event handler (socket.on), checked before the namespace's (sio_ns_on).
 * event copied. Returns 0, SIO_ECLOSED, SIO_ENOMEM. */
SIO_EXTERN int sio_socket_on(sio_socket_t *s, const char *event, sio_event_cb cb, void *user);
/* Catch-all listeners (onAny / offAny / onAnyOutgoing): run for every incoming (or
 * outgoing) event before the event's own handler; event and args borrowed for the
 * call. on_any / on_any_outgoing return 0 or SIO_ENOMEM. off_any removes the one with cb
 * and user (cb NULL: all) and returns how many it removed. */
typedef void (*sio_any_cb)(sio_socket_t *s, const char *event, const sio_args_t *args, void *user);
SIO_EXTERN int sio_socket_on_any(sio_socket_t *s, sio_any_cb cb, void *user);
SIO_EXTERN int sio_socket_off_any(sio_socket_t *s, sio_any_cb cb, void *user);
SIO_EXTERN int sio_socket_on_any_outgoing(sio_socket_t *s, sio_any_cb cb, void *user);
/* offAnyOutgoing: as sio_socket_off_any, for the outgoing listeners. */
SIO_EXTERN int sio_socket_off_any_outgoing(sio_socket_t *s, sio_any_cb cb, void *user);
/* prependAny / prependAnyOutgoing: as on_any / on_any_outgoing, but the listener runs
 * before those already registered. A listener added while the listeners run (by one of
 * them) is first called for the next event, as in JS. 0 or SIO_ENOMEM. */
SIO_EXTERN int sio_socket_prepend_any(sio_socket_t *s, sio_any_cb cb, void *user);
SIO_EXTERN int sio_socket_prepend_any_outgoing(sio_socket_t *s, sio_any_cb cb, void *user);
/* listenersAny / listenersAnyOutgoing: the number of listeners; each (may be NULL) gets
 * every one (cb, user) in the order they run. Do not add or remove listeners from each. */
SIO_EXTERN size_t sio_socket_listeners_any(const sio_socket_t *s, void (*each)(sio_any_cb cb, void *user, void *u),
                                           void *u);
SIO_EXTERN size_t sio_socket_listeners_any_outgoing(const sio_socket_t *s,
                                                    void (*each)(sio_any_cb cb, void *user, void *u), void *u);
/* Per-packet middlewares (socket.use in socket.io 4.8): cb runs before each incoming
 * event of s is dispatched to its handler, middlewares in registration order. onAny
 * listeners are not behind them: as in socket.ts (onevent), they run first, when the
 * event arrives, and see it as the client sent it. A middleware gets the event's name
 * and arguments (both borrowed until it consumes mw) and must eventually answer with
 * sio_event_mw_next(mw, NULL) to pass it on, or sio_event_mw_next(mw, message) to refuse
 * it: the event is then not dispatched (its ack, if the client asked for one, is never
 * answered), nothing is sent to the client, and the socket's error listeners
 * (sio_socket_on_error) run with message. Before passing it may rewrite the event with
 * sio_event_mw_rewrite: the later middlewares and the handler see the new one.
 *
 * A middleware may answer later (asynchronously, from another callback, on the loop
 * thread). Meanwhile the socket's next events wait behind the held one, so that
 * handlers see events in the order the client sent them (socket.io does not promise
 * that). If the socket disconnects meanwhile, the waiting events are dropped and
 * sio_event_mw_next only frees mw. mw holds a reference on s until it is consumed.
 *
 * The library copies each event of a socket that has middlewares (its name and
 * arguments): when that copy runs out of memory the event is dropped (and logged).
 * user is passed through, never freed. Returns 0, SIO_ECLOSED (s disconnected),
 * SIO_ENOMEM. */
typedef void (*sio_event_mw_cb)(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw,
                                void *user);
SIO_EXTERN int sio_socket_use(sio_socket_t *s, sio_event_mw_cb cb, void *user);
/* Replaces the held event's name (event, UTF-8, copied; NULL keeps it) and arguments
 * (args copied; NULL keeps them, empty args give none), as a JS middleware that
 * assigns to its packet array. Takes effect when mw is passed on (the arguments the
 * running middleware got stay valid until then); a second rewrite replaces the first.
 * Does not consume mw. Returns 0, SIO_EINVAL (event not UTF-8), SIO_ECLOSED
 * (the socket left; mw must still be consumed), SIO_ENOMEM (nothing changed). */
SIO_EXTERN int sio_event_mw_rewrite(sio_event_mw_t *mw, const char *event, const sio_args_t *args);
/* Consumes mw: message NULL passes the event to the next middleware (or its handler),
 * else refuses it with message (borrowed for the call: the error listeners run before
 * this returns). Returns 0, or SIO_ECLOSED when the socket left meanwhile (mw freed,
 * nothing runs). */
SIO_EXTERN int sio_event_mw_next(sio_event_mw_t *mw, const char *message);
/* The socket's reserved "error" event (socket.on("error") in JS): runs, in registration
 * order, when a per-packet middleware refuses an event, with its message (borrowed for
 * the call). Returns 0, SIO_ECLOSED, SIO_ENOMEM. */
typedef void (*sio_socket_error_cb)(sio_socket_t *s, const char *message, void *user);
SIO_EXTERN int sio_socket_on_error(sio_socket_t *s, sio_socket_error_cb cb, void *user);
/* Per-socket disconnect / disconnecting callbacks (as the namespace's above). Return 0
 * or SIO_ENOMEM. */
SIO_EXTERN int sio_socket_on_disconnect(sio_socket_t *s, sio_disconnect_cb cb, void *user);
SIO_EXTERN int sio_socket_on_disconnecting(sio_socket_t *s, sio_disconnect_cb cb, void *user);

/* Rooms: room copied. A socket's own id room belongs to it alone: joining a room that
 * is another connected socket's id room answers SIO_EPERM (it would let one user read
 * another's private messages). Past opts.max_rooms_per_socket: SIO_ELIMIT. Either
 * refusal has no effect. Join returns 0 (also when already in room), SIO_EPERM,
 * SIO_ELIMIT, SIO_ECLOSED, SIO_ENOMEM; leave returns 0 (also when not in room) or
 * SIO_ECLOSED. The _n forms (sio/easy.h) take (room, len). */
SIO_EXTERN int sio_socket_join(sio_socket_t *s, const char *room);
SIO_EXTERN int sio_socket_leave(sio_socket_t *s, const char *room);
/* Predicate: 1 if s is in room, else 0. */
SIO_EXTERN int sio_socket_in(const sio_socket_t *s, const char *room);
/* Number of rooms (own id room included); cb (may be NULL) gets each, borrowed. */
SIO_EXTERN size_t sio_socket_rooms(const sio_socket_t *s, void (*cb)(sio_str_t room, void *u), void *u);

/* Disconnects from the namespace: the client gets a DISCONNECT packet ("io server
 * disconnect", it does not reconnect) and the socket leaves with "server namespace
 * disconnect". close != 0 does that for every namespace the client joined on this
 * connection, then closes the connection once those packets are out (socket.io's
 * disconnect(true)). Returns 0, or SIO_ECLOSED when s is not connected or already in
 * its disconnect sequence. */
SIO_EXTERN int sio_socket_disconnect(sio_socket_t *s, int close);
/* Closes the underlying Engine.IO connection without any Socket.IO packet
 * (socket.conn.close() in JS): every socket of that connection leaves with "forced
 * close"; the client sees "transport close" and reconnects if it is set to. Returns 0
 * or SIO_ECLOSED. */
SIO_EXTERN int sio_socket_conn_close(sio_socket_t *s);

/* socket.conn's events (the engine.io socket under a Socket.IO socket), for C programs
 * that watch the connection itself:
 *   SIO_CONN_UPGRADE  the connection moved from long-polling to WebSocket ("upgrade");
 *                     info->transport is "websocket";
 *   SIO_CONN_PACKET   an Engine.IO packet arrived, before it is handled ("packet"):
 *                     info->packet_type is engine.io's name ("message", "pong", "ping",
 *                     "close", "noop", ...), info->data its data (borrowed for the call)
 *                     and info->binary 1 for a binary message;
 *   SIO_CONN_DRAIN    what was sent since the last drain has been handed to the
 *                     transport ("drain"); delivered from the loop's check phase, never
 *                     inside an emit;
 *   SIO_CONN_CLOSE    the connection closed ("close"), before the sockets' disconnect
 *                     callbacks; info->reason is engine.io's reason.
 * The listener belongs to s: it runs while s is connected or in its disconnect sequence
 * (a connection shared by several namespaces runs the listeners of each of its sockets).
 * Fields that do not apply are NULL / 0. Returns 0, SIO_EINVAL (unknown ev), SIO_ECLOSED,
 * SIO_ENOMEM. */
typedef enum { SIO_CONN_UPGRADE = 0, SIO_CONN_PACKET, SIO_CONN_DRAIN, SIO_CONN_CLOSE } sio_conn_event_t;
typedef struct {
  const char *transport;   /* UPGRADE */
  const char *packet_type; /* PACKET */
  int binary;              /* PACKET */
  sio_str_t data;          /* PACKET */
  const char *reason;      /* CLOSE */
} sio_conn_info_t;
typedef void (*sio_conn_cb)(sio_socket_t *s, sio_conn_event_t ev, const sio_conn_info_t *info, void *user);
SIO_EXTERN int sio_socket_conn_on(sio_socket_t *s, sio_conn_event_t ev, sio_conn_cb cb, void *user);

/* Shortcuts: sio_args_pack and sio_socket_emitf, one-room broadcasts, _n variants,
 * sio_server_post (the one thread-safe call). */
#include "sio/easy.h"

#endif /* SIO_H */
