/*
 * Internal view of the Socket.IO layer. Files: args.c (event arguments), encode.c
 * (outgoing packets), server.c (server, engine callbacks), client.c (one engine
 * session: decoding, multiplexing namespaces, connect timeout), namespace.c
 * (namespaces, middlewares, connect), socket.c (the socket API), ack.c
 * (acknowledgements both ways), adapter.c (rooms: the in-memory adapter), broadcast.c
 * (selections, encode-once fan-out).
 */
#ifndef SIO_SIO_SIO_H
#define SIO_SIO_SIO_H

#include <jansson.h>

#include "common/count.h"
#include "common/list.h"
#include "common/map.h"
#include "common/refbuf.h"
#include "common/sid.h"
#include "common/tlist.h"
#include "engine/engine.h"
#include "sio.h"
#include "sio/adapter.h"
#include "sio/parser.h"

/* Text owned by an args object, for the items that point into it. A chunk never
 * moves, so a string read from an argument stays put while more are appended. */
typedef struct sio__chunk_s {
  struct sio__chunk_s *next;
  size_t cap, used;
  uint8_t embedded;     /* inside the args' own allocation (sio_args_copy): not freed alone */
  char data[];
} sio__chunk_t;

/*
 * Event arguments, in one of two shapes (args.c):
 *  - items: one sio__jitem_t per argument, as text (kept from the wire, or written by
 *    sio_args_add_*) and/or as a jansson tree (binary placeholders, composed values);
 *    owned args, and views on plain received packets (the packet owns the items);
 *  - a tree view: a borrowed jansson array from base on (binary packets, adapters).
 */
struct sio_args_s {
  json_t *arr;          /* tree view: JSON array holding the arguments from base on */
  size_t base;          /* tree view: first argument's index in arr (1 for [event, ...]) */
  sio__jitem_t *items;  /* otherwise: the arguments (trees parsed on demand are kept in them) */
  size_t n, cap;
  sio__chunk_t *chunks; /* owned text the items point into, newest first */
  sio__refbuf_t **att;  /* binary parts the placeholders point at (headroom for framing) */
  uint32_t natt, att_cap;
  uint8_t view;         /* borrowed view on a packet: nothing is owned */
  uint8_t items_embedded; /* items sit in the args' own allocation */
};

/* A borrowed tree view: arguments arr[base...] with their attachments. */
void sio__args_view(sio_args_t *a, json_t *arr, size_t base, sio__refbuf_t **att, uint32_t natt);
/* A borrowed view on a received packet's arguments from element base on (1 for an
 * EVENT, skipping its name): items for a plain packet, a tree view otherwise. */
void sio__args_of_packet(sio_args_t *a, const sio__packet_t *p, size_t base);
/* Argument i as a tree (borrowed: parsed from its text on first use and kept with the
 * args or their packet). NULL when i is out of range, or when out of memory. */
json_t *sio__args_json(const sio_args_t *a, size_t i);
/* Returns new JSON array of all the arguments (trees as sio__args_json), for code that
 * needs them as one tree (the Redis adapter). NULL when out of memory. */
json_t *sio__args_tree(const sio_args_t *a);
/* Appends tree v (owned: consumed in every case) as one argument. 0, SIO_ENOMEM, or
 * SIO_EINVAL for a view. (sio_args_pack, easy.c) */
int sio__args_add_tree(sio_args_t *a, json_t *v);
/* sio_server_post's state: made in sio_server_new (loop thread), closed by an http
 * closer that cancels what is still queued. 0 or SIO_ENOMEM / a libuv error. */
int sio__post_init(sio_server_t *io);
/* Drops the arguments from index n on (for appends that must be all or nothing;
 * attachments are left alone: callers add none). */
void sio__args_truncate(sio_args_t *a, size_t n);

/* What a socket's listener is for (sio_socket_s.cbs holds them all in one list). */
enum {
  SIO__CB_EVENT = 0,
  SIO__CB_ANY,
  SIO__CB_DISCONNECTING,
  SIO__CB_DISCONNECT,
  SIO__CB_REMOVED,
  SIO__CB_USE,   /* per-packet middlewares (sio_socket_use), never removed */
  SIO__CB_ERROR, /* the reserved "error" event (sio_socket_on_error) */
  SIO__CB_CONN   /* socket.conn listeners: SIO__CB_CONN + sio_conn_event_t */
};

typedef struct sio__cb_s {
  struct sio__cb_s *next;
  void (*fn)(void);
  void *user;
  char *event;  /* for event handlers */
  uint8_t kind; /* SIO__CB_*; namespaces' handler lists hold events only */
} sio__cb_t;

typedef struct {
  void *fn;
  void *user;
} sio__fn_t;

typedef struct sio__room_s sio__room_t;
typedef struct {
  sio_socket_t *s;
  uint32_t sidx; /* index of this room in s->rooms */
} sio__member_t;
/* A room (adapter.c). A socket's own room (named after its id) is embedded in the socket;
 * other rooms are one allocation with the name behind the struct. */
struct sio__room_s {
  char *name;
  sio__member_t *m;    /* the members: &m1 until a second one joins */
  uint32_t len;
  uint32_t n, cap;
  uint8_t is_sid;      /* named after the id of its first member */
  uint8_t embedded;    /* the own room inside its socket: holds a reference on it */
  sio__member_t m1;
};
typedef struct {
  sio__room_t *r;
  uint32_t ridx; /* index of s in r->m */
} sio__sroom_t;

typedef struct sio__dyn_s {
  sio_ns_match_cb match;
  void *user;
  sio_ns_t *parent;
} sio__dyn_t;

/* Counters read by sio_metrics_* (metrics.c). Plain integers: every writer and reader is
 * on the loop thread. */
typedef struct {
  uint64_t connects, disconnects, errors;   /* sockets connected, left, refused */
  uint64_t events_in, events_out;           /* EVENT packets received, sent (deliveries) */
  uint64_t bytes_in, bytes_out;             /* their payload bytes, attachments included */
} sio__ns_metrics_t;
typedef struct {
  uint64_t packets_in, bytes_in;            /* Engine.IO messages from clients */
  uint64_t packets_out, bytes_out;          /* messages queued to clients (attachments each) */
  uint64_t broadcasts, deliveries;          /* sio_ns_emit calls, local recipients reached */
  uint64_t volatile_drops;                  /* volatile packets not sent (transport busy) */
  uint64_t bad_namespace;                   /* CONNECTs to a namespace that does not exist */
  uint64_t recovery_tries, recoveries;      /* CONNECTs with a pid and offset; restored */
  size_t text_len;                          /* the text message being handled (0: binary) */
} sio__metrics_t;

struct sio_server_s {
  sio_http_t *http;
  sio_engine_t *eng;
  sio_server_opts_t opts;
  char *path;
  sio__map_t nsps;     /* name -> sio_ns_t* */
  sio_ns_t *main;
  sio__dyn_t *dyn;
  size_t ndyn;
  sio__tlist_t connect_wait;
  sio__list_t bcasts;  /* broadcasts with acks still waiting (ack.c) */
  int shutting_down;
  sio__http_closer_t teardown_closer, shutdown_closer; /* server.c */
  sio_adapter_factory_cb adapter_factory; /* installs an adapter on each new namespace */
  void *adapter_factory_user;
  struct sio__post_s *post; /* sio_server_post's queue and uv_async_t (post.c) */
  struct sio__recovery_s *rec; /* connection-state recovery (recovery.c), NULL when off */
  sio__metrics_t m;            /* metrics.c */
  uint64_t mismatch_at;  /* parser mismatch warnings (client.c): window start (loop ms) */
  uint32_t mismatch_logged, mismatch_held; /* lines in this window, lines held back */
  struct {
    const sio_server_observer_t *obs;
    void *user;
  } obs[SIO_SERVER_MAX_OBSERVERS]; /* observe.c */
  uint8_t nobs;
};

struct sio_ns_s {
  sio_server_t *io;
  char *name;
  sio_ns_t *parent;      /* dynamic namespaces: the parent holds the shared handlers */
  sio__map_t sockets;    /* id -> sio_socket_t* (connected) */
  sio__map_t rooms;      /* name -> sio__room_t* */
  sio__fn_t *mws;
  size_t nmws;
  sio__fn_t *on_connect, *on_disconnecting, *on_disconnect;
  size_t non_connect, non_disconnecting, non_disconnect;
  sio__map_t handlers;   /* event -> sio__cb_t* */
  int64_t next_ack_id;
  uint32_t epoch;        /* broadcast stamps (sio_socket_s.mark/sent) */
  const sio_adapter_vtable_t *adapter;
  void *adapter_self;
  sio__map_t ss_handlers; /* serverSideEmit handlers: event -> sio__cb_t* (namespace.c) */
  sio_room_cb on_room;   /* room events (adapter.c), or NULL */
  void *on_room_user;
  sio__ns_metrics_t m;   /* metrics.c */
  uint8_t is_parent;
};

typedef struct sio__client_s sio__client_t;

typedef struct sio__pending_s sio__pending_t;

enum { SIO__SOCK_CONNECTING = 0, SIO__SOCK_CONNECTED = 1, SIO__SOCK_DISCONNECTED = 2 };

struct sio_socket_s {
  char id[SIO__SID_LEN + 1];
  char eio_id[SIO__SID_LEN + 1]; /* the engine id, kept: the session may go first */
  uint8_t state;
  uint8_t closing : 1;     /* in its disconnect sequence ("disconnecting" is running) */
  uint8_t walking : 7;     /* listener walks in progress (nested): off_any only marks
                              nodes SIO__CB_REMOVED, the last walk frees them */
  uint32_t refs;
  sio_ns_t *ns;
  sio__client_t *client;   /* referenced; NULL once disconnected */
  uint64_t issued_ms;      /* handshake time, ms since the Unix epoch */
  sio__sroom_t *rooms;     /* &room1 until the socket is in a second room */
  uint32_t nrooms, rooms_cap;
  uint32_t mark, sent;     /* broadcast epochs of ns */
  void *data;
  char *data_json;
  char *auth;              /* CONNECT payload as JSON text; a shared "{}" when empty */
  json_t *auth_obj;        /* the payload, NULL when empty */
  sio__cb_t *cbs;           /* event handlers, onAny and disconnect(ing) listeners, by kind */
  sio__cb_t *any_out;       /* onAnyOutgoing listeners (apart: broadcasts test it per recipient) */
  sio__pending_t *acks;    /* emit-with-ack callbacks waiting for the client */
  sio__sroom_t room1;
  sio__room_t own;         /* storage for the room named after id, in use when own.name */
  struct sio__rsock_s *rec; /* connection-state recovery: pid, recovered (recovery.c) */
  struct sio__useq_s *use; /* events held by per-packet middlewares; NULL until sio_socket_use */
};

/* Kept at 88 bytes (a 96-byte malloc chunk): one more field costs 16 bytes per
 * connection. */
struct sio__client_s {
  sio_server_t *io;
  sio_eio_t *eio;          /* NULL once closed */
  sio__decoder_t dec;
  sio_socket_t **socks;    /* one per namespace joined or joining: &sock1, then an array */
  sio_socket_t *sock1;     /* inline slot for the usual single namespace */
  sio__tnode_t connect_to;
  uint32_t refs;           /* the engine session's (until on_close) + one per socket */
  uint16_t nsocks;         /* at most SIO__CLIENT_MAX_SOCKS */
  uint8_t closing;         /* sio__client_close ran: the session is on its way out */
  uint8_t conn_evs;        /* 1 << sio_conn_event_t for each kind some socket listens to
                              (sio_socket_conn_on; never cleared): packets skip the walk */
};

#define SIO__CLIENT_MAX_SOCKS UINT16_MAX

struct sio_ack_s {
  sio_socket_t *s;  /* referenced */
  int64_t id;
  uint8_t retained; /* sio_ack_retain was called */
  uint8_t done;     /* sent or freed while the dispatcher still held it */
  uint8_t in_cb;    /* the event callback is running (the dispatcher frees it after) */
};

struct sio_mw_s {
  sio_socket_t *s;  /* referenced */
  size_t index;     /* next middleware */
};

/* client.c */
sio__client_t *sio__client_new(sio_server_t *io, sio_eio_t *eio);
void sio__client_on_message(sio__client_t *c, int binary, char *data, size_t len);
void sio__client_on_close(sio__client_t *c, const char *reason);
/* socket.conn's events: every socket of c runs its listeners of ev. */
void sio__client_fire_conn(sio__client_t *c, int ev, const sio_conn_info_t *info);
void sio__client_on_upgrade(sio__client_t *c); /* tells the observers (observe.c) */
/* Adds s to c's sockets. Returns 0, SIO_ENOMEM or SIO_ELIMIT (SIO__CLIENT_MAX_SOCKS). */
int sio__client_add(sio__client_t *c, sio_socket_t *s);
void sio__client_remove(sio__client_t *c, sio_socket_t *s);
/* Sends an encoded packet (text + attachments) to the client.
 * flags: SIO_BCAST_VOLATILE (dropped unless writable now), SIO_BCAST_NO_COMPRESS, and
 * SIO__SEND_SHARED: the same refbufs go to many clients (a broadcast), so a compressed
 * frame that can be shared is kept on them; the caller drops it afterwards
 * (sio__refbuf_drop_alt). */
#define SIO__SEND_SHARED (1 << 16)
int sio__client_send(sio__client_t *c, sio__refbuf_t *text, sio__refbuf_t *const *att, uint32_t natt, int flags);
/* Runs every socket's disconnect sequence with reason, then closes the session. */
void sio__client_close(sio__client_t *c, const char *reason);
/* socket.disconnect(true): DISCONNECT to every connected socket of c, then the close. */
void sio__client_disconnect_all(sio__client_t *c);
void sio__client_unref(sio__client_t *c);
void sio__client_connect_overdue(sio__tnode_t *n);

/* namespace.c */
sio_ns_t *sio__ns_new(sio_server_t *io, const char *name, sio_ns_t *parent);
void sio__ns_free(sio_ns_t *ns);
/* Handles a CONNECT for ns from client c with auth (borrowed, may be NULL). */
void sio__ns_connect(sio_ns_t *ns, sio__client_t *c, json_t *auth);
const sio__cb_t *sio__ns_handler(const sio_ns_t *ns, const char *event, size_t len);
/* A namespace was registered in io->nsps: runs the server's adapter factory on it. */
void sio__ns_added(sio_ns_t *ns);
/* observe.c: tell the server's observers. */
void sio__observe_room(sio_ns_t *ns, const sio_room_event_t *ev);
void sio__observe_namespace(sio_ns_t *ns);
void sio__observe_data(sio_socket_t *s);

/* socket.c */
/* Frees a list of callbacks and their event names (NULL allowed). */
void sio__cbs_free(sio__cb_t *cb);
sio_socket_t *sio__socket_new(sio_ns_t *ns, sio__client_t *c, json_t *auth);
/* Runs the disconnect sequence (disconnecting, rooms, pending acks, disconnect). */
void sio__socket_onclose(sio_socket_t *s, const char *reason);
void sio__socket_on_packet(sio_socket_t *s, sio__packet_t *p);
/* Sends DISCONNECT and runs the sequence with "server namespace disconnect". */
void sio__socket_server_disconnect(sio_socket_t *s);
void sio__socket_fire_any_out(sio_socket_t *s, const char *event, const sio_args_t *args);
/* Runs s's socket.conn listeners of ev (sio_socket_conn_on) with info. */
void sio__socket_fire_conn(sio_socket_t *s, int ev, const sio_conn_info_t *info);

/* encode.c: outgoing packets as Engine.IO messages in refbufs with headroom. parser is
 * the server's (sio_server_opts_t.parser): SIO_PARSER_DEFAULT gives "4" + the packet
 * text, to be sent as a text message followed by the args' own attachments (args->att);
 * SIO_PARSER_MSGPACK gives one msgpack packet, binary parts inside, to be sent as one
 * binary message (sio__client_send does both right). */
/* [event, ...args] as an EVENT for namespace nsp (args NULL: none). */
int sio__encode_event(int parser, const char *nsp, const char *event, const sio_args_t *args, int64_t id,
                      sio__refbuf_t **text);
/* [event, ...args, tail] with no ack id: tail is the JSON text of one more last element
 * (connection-state recovery's offset, recovery.c). */
int sio__encode_event_tail(int parser, const char *nsp, const char *event, const sio_args_t *args, sio_str_t tail,
                           sio__refbuf_t **text);
/* [...args] as the ACK of id. */
int sio__encode_ack(int parser, const char *nsp, const sio_args_t *args, int64_t id, sio__refbuf_t **text);
/* A packet whose data/attachments are given. */
int sio__encode_packet(int parser, sio__packet_t *p, sio__refbuf_t **text);

/* mpparser.c: the msgpack forms of the above (sio__decode_msgpack is in parser.h).
 * tail as in sio__encode_event_tail (may be NULL). Returns 0, SIO_EINVAL, SIO_ENOMEM. */
int sio__mp_encode_args(uint8_t type, const char *nsp, const char *event, const sio_args_t *args, int64_t id,
                        const sio_str_t *tail, sio__refbuf_t **out);
int sio__mp_encode_packet(const sio__packet_t *p, sio__refbuf_t **out);

/* ack.c */
int sio__ack_register(sio_socket_t *s, int64_t id, uint64_t timeout_ms, sio_ack_cb cb, void *user, void *bcast);
void sio__ack_received(sio_socket_t *s, sio__packet_t *p);
/* Withdraws the registration of id without running its callback (the emit failed). */
void sio__ack_unregister(sio_socket_t *s, int64_t id);
void sio__ack_cancel_all(sio_socket_t *s);
/* Acks s awaits from its client (a walk: for metrics, not for hot paths). */
size_t sio__ack_pending(const sio_socket_t *s);
sio_ack_t *sio__ack_new(sio_socket_t *s, int64_t id);
/* After an event callback: frees ack unless it was sent or retained. */
void sio__ack_after_callback(sio_ack_t *ack);
/* Broadcast with acks: one aggregate (timer + answers) per emit. new returns NULL on OOM;
 * start sets how many recipients were reached (0 answers at once); cancel_all finishes
 * every pending one with SIO_ECANCELED (server shutdown). */
void *sio__bcast_ack_new(sio_server_t *io, uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user);
void sio__bcast_ack_start(void *bcast, uint32_t recipients);
/* 1 and *out (borrowed) if the auth payload has a string member key, else 0
 * (sio_socket_get_auth_str is the public form). */
int sio__socket_auth_str(const sio_socket_t *s, const char *key, sio_str_t *out);
/* 1 and *out (borrowed) for the first handshake header named lname, else 0. */
int sio__socket_header(const sio_socket_t *s, const char *lname, sio_str_t *out);
/* A selection collected into a list (broadcast.c: sio__collect references each socket;
 * err is SIO_ENOMEM when the list could not grow). */
typedef struct {
  sio_socket_t **list;
  size_t n, cap;
  int err;
} fetch_ctx_t;
void sio__collect(sio_socket_t *s, void *u);
/* handshake.c: socket.handshake as JSON text (new, sio__free), NULL on OOM. */
char *sio__handshake_json(sio_socket_t *s);
/* handshake.query (engine.io 6.6: a repeated key keeps its last value) of a raw query
 * string, as a new JSON object; NULL on OOM. */
json_t *sio__query_object(sio_str_t q);
/* Drops an aggregate no recipient has seen, without running its callback (the call
 * that made it failed). */
void sio__bcast_ack_discard(void *bcast);
void sio__bcast_ack_cancel_all(sio_server_t *io);
/* Adapter side of an aggregate (broadcast.c exposes these as sio_adapter_acks_*): hold
 * takes a reference that also keeps the aggregate from finishing until release; answer
 * adds a remote client's answer (args may be NULL: no value). set_each streams every
 * answer to each(args, each_user) instead of keeping it. */
void sio__bcast_ack_hold(void *bcast);
void sio__bcast_ack_answer(void *bcast, const sio_args_t *args);
void sio__bcast_ack_release(void *bcast);
void sio__bcast_ack_set_each(void *bcast, void (*each)(const sio_args_t *args, void *user), void *each_user);

/* adapter.c (in-memory rooms) */
int sio__adapter_join(sio_socket_t *s, const char *room, size_t len);
int sio__adapter_leave(sio_socket_t *s, const char *room, size_t len);
void sio__adapter_leave_all(sio_socket_t *s);
sio__room_t *sio__adapter_room(const sio_ns_t *ns, const char *room, size_t len);
void sio__adapter_free_rooms(sio_ns_t *ns);

/* broadcast.c */
/* Calls fn for each connected local socket of the selection (each once). Returns 0, or
 * SIO_ENOMEM before fn ran for anyone (the selection is collected first). */
int sio__select(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *skip_id,
                 void (*fn)(sio_socket_t *s, void *u), void *u);
/* Cluster queries (broadcast.c), also started by namespace.c. */
enum { SIO__Q_FETCH, SIO__Q_SOCKETS, SIO__Q_ROOMS, SIO__Q_COUNT, SIO__Q_SERVER_SIDE };
sio_adapter_query_t *sio__query_new(sio_ns_t *ns, int kind, void (*cb)(void), void *user);
/* Frees a query that was never handed to an adapter, without running its callback. */
void sio__query_abort(sio_adapter_query_t *q);
/* 1 when ns has a version-2 adapter that is to be used for this selection. */
int sio__ns_remote(const sio_ns_t *ns, const sio_broadcast_opts_t *to);
/* A recoverable emit through the adapter's shared log (publish_offset): published now,
 * delivered locally once the offset is known. Returns 0 or SIO_ENOMEM. */
int sio__ns_emit_published(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args);
/* namespace.c: goes on with a CONNECT whose restore (recovery_remote.c) has finished. */
void sio__ns_connect_resume(sio_socket_t *s);

/* metrics.c: counter bumps for the hot paths, one call each. */
static inline size_t sio__m_size(const sio__refbuf_t *text, sio__refbuf_t *const *att, uint32_t natt) {
  size_t n = text->len;
  for (uint32_t i = 0; i < natt; i++) n += att[i]->len;
  return n;
}
/* n deliveries of one encoded event in ns. */
/* n deliveries of one encoded event in ns (a broadcast, or n = 1 for a socket's emit). */
static inline void sio__m_sent(sio_ns_t *ns, size_t n, const sio__refbuf_t *text, const sio_args_t *args) {
  SIO__COUNT(ns->m.events_out += n, ns->m.bytes_out += n * sio__m_size(text, args ? args->att : NULL, args ? args->natt : 0));
}
static inline void sio__m_broadcast(sio_ns_t *ns, size_t n, const sio__refbuf_t *text, const sio_args_t *args) {
  sio__m_sent(ns, n, text, args);
  SIO__COUNT(ns->io->m.broadcasts++, ns->io->m.deliveries += n);
}
/* A received event: a text packet counts whole ("2[...]"), a binary one by its
 * attachments (its header text was an earlier message). */
static inline void sio__m_received(sio_ns_t *ns, const sio__packet_t *p) {
#ifndef SIO_NO_METRICS
  ns->m.events_in++;
  size_t n = ns->io->m.text_len;
  for (uint32_t i = 0; i < p->att_received; i++) n += p->att[i]->len;
  ns->m.bytes_in += n;
#else
  (void)ns, (void)p;
#endif
}

/* Event name of a received EVENT packet (data[0]), or NULL. */
static inline const char *sio__event_name(const sio__packet_t *p) {
  if (p->raw != NULL) return p->raw->event;
  if (p->data == NULL || !json_is_array(p->data)) return NULL;
  json_t *e = json_array_get(p->data, 0);
  return json_is_string(e) ? json_string_value(e) : NULL;
}

#endif
