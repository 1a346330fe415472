/*
 * sio_test_server: the Socket.IO test server driven by the integration suites
 * tests/integration/socketio_rooms.test.mjs and socketio_api.test.mjs. It implements
 * "Contract 2" of docs/test-server.md (the Node reference is
 * tests/support/ref-sio-server.mjs) with the public libsio API only, so it doubles as a
 * tour of that API: namespaces (static and dynamic), a middleware, per-socket onAny /
 * onAnyOutgoing logs, rooms, broadcast operators, emits with acks and timeouts,
 * fetchSockets / socketsJoin / socketsLeave / disconnectSockets, the disconnecting event,
 * and composing nested arguments that carry binary (sio_args_member / _unpack /
 * _add_array / _add_object).
 *
 * Clients send "commands" (events) that each exercise one piece of the API and ack the
 * result; see the table in docs/test-server.md.
 *
 * Usage: sio_test_server [--port P] [--ping-interval MS] [--ping-timeout MS]
 *                        [--max-payload BYTES] [--connect-timeout MS]
 * Binds 127.0.0.1, prints "listening on http://127.0.0.1:PORT" once ready (flushed),
 * logs to stderr, and stops on SIGTERM / SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sio.h"

#define CMD_PROGRAM "sio_test_server"
#include "cmd_args.h"

static sio_http_t *http;
static uv_signal_t sigint_h, sigterm_h;

/* ======================================================================== helpers */

/* Member key as a duration in ms (0 when absent, negative or not a number). */
static uint64_t member_ms(const sio_args_t *args, const char *key) {
  sio_args_t *m = member(args, key);
  double d = 0;
  if (sio_args_get_double(m, 0, &d) != 0 || !(d > 0)) d = 0;
  sio_args_free(m);
  return d < 1e15 ? (uint64_t)d : (uint64_t)1e15;
}

/* ======================================================================== socket values */

/* Appends the socket's rooms (own id included) as one array argument. */
static void add_rooms(sio_args_t *out, sio_socket_t *s) {
  sio_args_t *rooms = args_new();
  sio_socket_rooms(s, add_room, rooms);
  add_array(out, rooms);
}


/* Keys and values collected into an object (headers, query). */
typedef struct {
  char **keys;
  size_t n, cap;
  sio_args_t *values;
} pairs_t;

static void pairs_add(pairs_t *p, char *key, const char *value, size_t len) {
  if (sio_args_add_str(p->values, value, len) != 0) {
    free(key); /* not UTF-8: left out, as the key must match a value */
    return;
  }
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 16;
    char **k = realloc(p->keys, p->cap * sizeof *k);
    if (k == NULL) out_of_memory();
    p->keys = k;
  }
  p->keys[p->n++] = key;
}

/* Appends the pairs as one object argument and frees them. */
static void pairs_finish(pairs_t *p, sio_args_t *out) {
  add_object(out, (const char *const *)p->keys, p->values);
  for (size_t i = 0; i < p->n; i++) free(p->keys[i]);
  free(p->keys);
}

static void add_header(sio_str_t name, sio_str_t value, void *u) { pairs_add(u, cstr(name), value.ptr, value.len); }

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes a query component (%XX escapes, '+' as space) into a new C string; *len gets
 * its length (it may hold NULs). */
static char *url_decode(const char *s, size_t n, size_t *len) {
  char *out = xmalloc(n + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') out[o++] = ' ';
    else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else out[o++] = s[i];
  }
  out[o] = '\0';
  *len = o;
  return out;
}

/* Appends the query parameters as one object of strings (a later duplicate wins). */
static void add_query(sio_args_t *out, sio_str_t q) {
  pairs_t p = {NULL, 0, 0, args_new()};
  const char *end = q.ptr + q.len;
  for (const char *it = q.ptr; it < end;) {
    const char *amp = memchr(it, '&', (size_t)(end - it));
    const char *stop = amp ? amp : end;
    const char *eq = memchr(it, '=', (size_t)(stop - it));
    const char *kend = eq ? eq : stop;
    size_t klen, vlen;
    if (kend > it) { /* "&&" and "&=x" carry no parameter */
      char *key = url_decode(it, (size_t)(kend - it), &klen);
      char *val = eq ? url_decode(eq + 1, (size_t)(stop - eq - 1), &vlen) : url_decode("", 0, &vlen);
      pairs_add(&p, key, val, vlen);
      free(val);
    }
    it = stop + 1;
  }
  pairs_finish(&p, out);
}

/* Appends socket.handshake: {headers, query, auth, address, url, issued}. */
static void add_handshake(sio_args_t *out, sio_socket_t *s) {
  static const char *const keys[] = {"headers", "query", "auth", "address", "url", "issued"};
  sio_args_t *v = args_new();
  pairs_t headers = {NULL, 0, 0, args_new()};
  sio_socket_headers(s, add_header, &headers);
  pairs_finish(&headers, v);
  add_query(v, sio_socket_query(s));
  add_json_text(v, sio_socket_auth(s));
  sio_args_add_cstr(v, sio_socket_address(s));
  sio_str_t url = sio_socket_handshake_url(s);
  sio_args_add_str(v, url.ptr, url.len);
  sio_args_add_int(v, (int64_t)sio_socket_handshake_time(s));
  add_object(out, keys, v);
}

/* ======================================================================== per-socket logs */

/* What `stats` reports: every event in and out as [event, ...args], and how many ack
 * callbacks of this socket's `ask` / `ask-room` commands fired. Hung on the socket with
 * sio_socket_set_data at connection, freed at disconnect. */
typedef struct {
  sio_args_t *incoming;
  sio_args_t *outgoing;
  int64_t callbacks;
  char upgrade[16];  /* socket.conn "upgrade": the new transport's name, "" before */
  int64_t messages;  /* socket.conn "packet"s of type message since the connection */
  int64_t drains;    /* socket.conn "drain"s */
} socket_log_t;

static socket_log_t *log_of(const sio_socket_t *s) { return sio_socket_get_data(s); }

/* Appends [event, ...args] (binary kept) to list as one argument. */
static void log_event(sio_args_t *list, const char *event, const sio_args_t *args) {
  sio_args_t *entry = args_new();
  sio_args_add_cstr(entry, event);
  for (size_t i = 0; i < sio_args_count(args); i++) sio_args_add_arg(entry, args, i);
  add_array(list, entry);
}

/* onAny: runs before the event's own handler, so `stats` sees itself. */
static void log_incoming(sio_socket_t *s, const char *event, const sio_args_t *args, void *u) {
  (void)u;
  if (log_of(s)) log_event(log_of(s)->incoming, event, args);
}

/* onAnyOutgoing: direct emits and the broadcasts that reach this socket (not acks). */
static void log_outgoing(sio_socket_t *s, const char *event, const sio_args_t *args, void *u) {
  (void)u;
  if (log_of(s)) log_event(log_of(s)->outgoing, event, args);
}

static void log_count_callback(sio_socket_t *s) {
  if (log_of(s)) log_of(s)->callbacks++;
}

/* ======================================================================== commands */

static void cmd_whoami(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)args, (void)u;
  static const char *const keys[] = {"id", "nsp", "rooms", "data", "handshake"};
  sio_args_t *v = args_new();
  sio_args_add_cstr(v, sio_socket_id(s));
  sio_args_add_cstr(v, sio_ns_name(sio_socket_ns(s)));
  add_rooms(v, s);
  add_json_text(v, sio_socket_get_data_json(s));
  add_handshake(v, s);
  reply_object(ack, keys, v);
}

static void reply_rooms(sio_ack_t *ack, sio_socket_t *s) {
  sio_args_t *v = args_new();
  add_rooms(v, s);
  reply(ack, v);
}

static void cmd_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  names_t rooms;
  names_read(args, 0, &rooms);
  for (size_t i = 0; i < rooms.n; i++) sio_socket_join(s, rooms.v[i]);
  names_free(&rooms);
  reply_rooms(ack, s);
}

static void cmd_leave(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  names_t rooms;
  names_read(args, 0, &rooms);
  for (size_t i = 0; i < rooms.n; i++) sio_socket_leave(s, rooms.v[i]); /* unknown: no-op */
  names_free(&rooms);
  reply_rooms(ack, s);
}

/* do-emit {event, args?, self?, repeat?, broadcast?, to?, except?, volatile?} (repeat: self only) */
static void cmd_do_emit(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  unsigned flags = member_true(args, "volatile") ? SIO_BCAST_VOLATILE : 0;
  if (event && member_true(args, "self")) {
    /* socket.emit / socket.volatile.emit, repeat times in a row. */
    uint64_t repeat = member_ms(args, "repeat"); /* a count, read like a duration */
    for (uint64_t i = 0; i < (repeat ? repeat : 1) && i < 100; i++) sio_socket_emit_flags(s, event, list, flags);
  } else if (event) {
    selection_t sel;
    selection_read(args, "to", &sel);
    sel.opts.flags = flags;
    if (member_true(args, "broadcast")) sio_socket_broadcast(s, &sel.opts, event, list);
    else sio_ns_emit(sio_socket_ns(s), &sel.opts, event, list);
    selection_free(&sel);
  }
  sio_args_free(list);
  free(event);
  reply_true(ack);
}

/* Acks {err, <key>: items} and frees items. */
static void reply_outcome(sio_ack_t *ack, const char *err, const char *key, sio_args_t *items) {
  const char *keys[] = {"err", key};
  sio_args_t *v = args_new();
  if (err) sio_args_add_cstr(v, err);
  else sio_args_add_null(v);
  add_array(v, items);
  reply_object(ack, keys, v);
}

/* The ack callback of an `ask`: user is the requester's retained ack (or NULL). */
static void ask_done(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  log_count_callback(s);
  sio_args_t *items;
  if (status != 0 || sio_args_copy(args, 0, sio_args_count(args), &items) != 0) items = args_new();
  reply_outcome(user, status == 0 ? NULL : "timeout", "args", items);
}

/* ask {event, args?, timeout}: socket.timeout(timeout).emit(event, ...args, cb). */
static void cmd_ask(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  sio_ack_t *keep = ack ? sio_ack_retain(ack) : NULL;
  int r = event ? sio_socket_emit_with_ack(s, event, list, member_ms(args, "timeout"), ask_done, keep)
                : SIO_EINVAL;
  if (r != 0) reply_outcome(keep, sio_err_name(r), "args", args_new());
  sio_args_free(list);
  free(event);
}

typedef struct {
  sio_socket_t *s;  /* the requester (referenced) */
  sio_ack_t *ack;   /* its retained ack, or NULL */
} room_ask_t;

/* The ack callback of an `ask-room`: the first argument of every answer, in order. */
static void ask_room_done(int status, const sio_args_t *const *responses, size_t n, void *user) {
  room_ask_t *q = user;
  log_count_callback(q->s);
  sio_args_t *firsts = args_new();
  for (size_t i = 0; i < n; i++) {
    /* An answer without arguments is `undefined` in JS: null in a JSON array. */
    if (sio_args_count(responses[i]) == 0) sio_args_add_null(firsts);
    else sio_args_add_arg(firsts, responses[i], 0);
  }
  reply_outcome(q->ack, status == 0 ? NULL : "timeout", "responses", firsts);
  sio_socket_unref(q->s);
  free(q);
}

/* ask-room {to, except?, event, args?, timeout}: nsp.to(to).except(except)
 * .timeout(timeout).emit(event, ...args, cb). */
static void cmd_ask_room(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char *event = member_cstr(args, "event");
  sio_args_t *list = member_list(args, "args");
  selection_t sel;
  selection_read(args, "to", &sel);
  room_ask_t *q = xmalloc(sizeof *q);
  q->s = sio_socket_ref(s);
  q->ack = ack ? sio_ack_retain(ack) : NULL;
  /* An empty room answers at once, inside this call. */
  int r = event ? sio_ns_emit_with_ack(sio_socket_ns(s), &sel.opts, event, list,
                                       member_ms(args, "timeout"), ask_room_done, q)
                : SIO_EINVAL;
  if (r < 0) {
    reply_outcome(q->ack, sio_err_name(r), "responses", args_new());
    sio_socket_unref(q->s);
    free(q);
  }
  selection_free(&sel);
  sio_args_free(list);
  free(event);
}

/* fetch: one {id, rooms, data, auth} per selected socket. */
static void fetched(int status, sio_socket_t *const *sockets, size_t n, void *user) {
  static const char *const keys[] = {"id", "rooms", "data", "auth"};
  sio_args_t *list = user;
  for (size_t i = 0; status == 0 && i < n; i++) {
    sio_args_t *v = args_new();
    sio_args_add_cstr(v, sio_socket_id(sockets[i]));
    add_rooms(v, sockets[i]);
    add_json_text(v, sio_socket_get_data_json(sockets[i]));
    add_json_text(v, sio_socket_auth(sockets[i]));
    add_object(list, keys, v);
  }
}

static void cmd_fetch(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  selection_t sel;
  selection_read(args, "in", &sel);
  sio_args_t *list = args_new();
  sio_ns_fetch_sockets(sio_socket_ns(s), &sel.opts, fetched, list);
  sio_args_t *v = args_new();
  add_array(v, list);
  reply(ack, v);
  selection_free(&sel);
}

typedef struct {
  names_t rooms;
  int join;
} rooms_op_t;

/* Joins or leaves every room for each selected socket. */
static void apply_rooms(int status, sio_socket_t *const *sockets, size_t n, void *user) {
  rooms_op_t *op = user;
  for (size_t i = 0; status == 0 && i < n; i++) {
    for (size_t k = 0; k < op->rooms.n; k++) {
      if (op->join) sio_socket_join(sockets[i], op->rooms.v[k]);
      else sio_socket_leave(sockets[i], op->rooms.v[k]);
    }
  }
}

/* sockets-join / sockets-leave {in?, except?, rooms}: socketsJoin / socketsLeave(rooms).
 * sio_ns_sockets_join takes one room and re-evaluates the selection per call, which would
 * change it midway (leaving a room of `in`, joining one of `except`); socket.io selects
 * once for all the rooms, so we fetch the selection once and apply every room to it. */
static void sockets_rooms(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, int join) {
  selection_t sel;
  selection_read(args, "in", &sel);
  rooms_op_t op = {{NULL, 0}, join};
  names_member(args, "rooms", &op.rooms);
  sio_ns_fetch_sockets(sio_socket_ns(s), &sel.opts, apply_rooms, &op);
  names_free(&op.rooms);
  selection_free(&sel);
  reply_true(ack);
}

static void cmd_sockets_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  sockets_rooms(s, args, ack, 1);
}

static void cmd_sockets_leave(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  sockets_rooms(s, args, ack, 0);
}

/* disconnect-sockets {in?, except?, close?}: acks first, so a requester inside the
 * selection still gets its answer, then disconnectSockets(close). */
static void cmd_disconnect_sockets(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  selection_t sel;
  selection_read(args, "in", &sel);
  int close = member_true(args, "close");
  reply_true(ack);
  sio_ns_disconnect_sockets(sio_socket_ns(s), &sel.opts, close);
  selection_free(&sel);
}

/* disconnect-me {close?}: socket.disconnect(close); no ack. */
static void cmd_disconnect_me(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)ack, (void)u;
  sio_socket_disconnect(s, member_true(args, "close"));
}

/* drop-me: socket.conn.close(), no Socket.IO DISCONNECT; no ack. */
static void cmd_drop_me(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)args, (void)ack, (void)u;
  sio_socket_conn_close(s);
}

static void cmd_stats(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)args, (void)u;
  static const char *const keys[] = {"incoming", "outgoing", "callbacks"};
  socket_log_t *log = log_of(s);
  if (log == NULL) return;
  sio_args_t *v = args_new();
  sio_args_add_array(v, log->incoming);
  sio_args_add_array(v, log->outgoing);
  sio_args_add_int(v, log->callbacks);
  reply_object(ack, keys, v);
}

/* conn-stats: what the socket.conn listeners counted {upgrade, messages, drains}. */
static void cmd_conn_stats(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)args, (void)u;
  static const char *const keys[] = {"upgrade", "messages", "drains"};
  socket_log_t *log = log_of(s);
  if (log == NULL) return;
  sio_args_t *v = args_new();
  if (log->upgrade[0]) sio_args_add_cstr(v, log->upgrade);
  else sio_args_add_null(v);
  sio_args_add_int(v, log->messages);
  sio_args_add_int(v, log->drains);
  reply_object(ack, keys, v);
}

static const struct {
  const char *event;
  sio_event_cb cb;
} commands[] = {
    {"conn-stats", cmd_conn_stats},
    {"whoami", cmd_whoami},
    {"join", cmd_join},
    {"leave", cmd_leave},
    {"do-emit", cmd_do_emit},
    {"ask", cmd_ask},
    {"ask-room", cmd_ask_room},
    {"fetch", cmd_fetch},
    {"sockets-join", cmd_sockets_join},
    {"sockets-leave", cmd_sockets_leave},
    {"disconnect-sockets", cmd_disconnect_sockets},
    {"disconnect-me", cmd_disconnect_me},
    {"drop-me", cmd_drop_me},
    {"stats", cmd_stats},
};

/* ======================================================================== namespaces */

/* Refuses auth.token "bad"; otherwise stores {user, nsp} as the socket's data. */
static void middleware(sio_socket_t *s, sio_mw_t *mw, void *u) {
  (void)u;
  static const char *const keys[] = {"user", "nsp"};
  sio_str_t token, user;
  if (sio_socket_get_auth_str(s, "token", &token) == 0 && token.len == 3 && memcmp(token.ptr, "bad", 3) == 0) {
    sio_mw_next(mw, "unauthorized", "{\"code\":42}");
    return;
  }
  sio_args_t *v = args_new(), *data = args_new();
  if (sio_socket_get_auth_str(s, "user", &user) != 0 || sio_args_add_str(v, user.ptr, user.len) != 0) sio_args_add_null(v);
  sio_args_add_cstr(v, sio_ns_name(sio_socket_ns(s)));
  add_object(data, keys, v);
  char *json;
  if (sio_args_to_json(data, 0, &json, NULL) == 0) {
    sio_socket_set_data_json(s, json);
    sio_free(json);
  }
  sio_args_free(data);
  sio_mw_next(mw, NULL, NULL);
}

/* socket.conn's events, counted for conn-stats. */
static void on_conn(sio_socket_t *s, sio_conn_event_t ev, const sio_conn_info_t *info, void *u) {
  (void)u;
  socket_log_t *log = log_of(s);
  if (log == NULL) return;
  if (ev == SIO_CONN_UPGRADE) snprintf(log->upgrade, sizeof log->upgrade, "%s", info->transport);
  else if (ev == SIO_CONN_PACKET && strcmp(info->packet_type, "message") == 0) log->messages++;
  else if (ev == SIO_CONN_DRAIN) log->drains++;
}

/* Starts the logs before anything is sent, then emits `auth` with the CONNECT payload. */
static void on_connection(sio_socket_t *s, void *u) {
  (void)u;
  socket_log_t *log = xmalloc(sizeof *log);
  *log = (socket_log_t){args_new(), args_new(), 0, "", 0, 0};
  sio_socket_set_data(s, log);
  sio_socket_conn_on(s, SIO_CONN_UPGRADE, on_conn, NULL);
  sio_socket_conn_on(s, SIO_CONN_PACKET, on_conn, NULL);
  sio_socket_conn_on(s, SIO_CONN_DRAIN, on_conn, NULL);
  sio_socket_on_any(s, log_incoming, NULL);
  sio_socket_on_any_outgoing(s, log_outgoing, NULL);
  sio_args_t *a = args_new();
  add_json_text(a, sio_socket_auth(s));
  sio_socket_emit(s, "auth", a);
  sio_args_free(a);
}

/* disconnecting: tells the room "watchers" (but the leaver) `left {id, nsp, rooms,
 * reason}` while the leaver is still in its rooms. */
static void on_disconnecting(sio_socket_t *s, const char *reason, void *u) {
  (void)u;
  static const char *const keys[] = {"id", "nsp", "rooms", "reason"};
  static const char *const watchers[] = {"watchers"};
  sio_args_t *v = args_new(), *info = args_new();
  sio_args_add_cstr(v, sio_socket_id(s));
  sio_args_add_cstr(v, sio_ns_name(sio_socket_ns(s)));
  add_rooms(v, s);
  sio_args_add_cstr(v, reason);
  add_object(info, keys, v);
  sio_broadcast_opts_t to = {watchers, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "left", info);
  sio_args_free(info);
}

static void on_disconnect(sio_socket_t *s, const char *reason, void *u) {
  (void)reason, (void)u;
  socket_log_t *log = log_of(s);
  if (log == NULL) return;
  sio_socket_set_data(s, NULL); /* late ask-room callbacks find no log */
  sio_args_free(log->incoming);
  sio_args_free(log->outgoing);
  free(log);
}

/* Dynamic namespaces: ^/dyn-[0-9]+$ */
static int is_dyn(const char *name, void *u) {
  (void)u;
  if (strncmp(name, "/dyn-", 5) != 0 || name[5] == '\0') return 0;
  for (const char *p = name + 5; *p; p++) {
    if (*p < '0' || *p > '9') return 0;
  }
  return 1;
}

static int setup_namespace(sio_ns_t *ns) {
  int r = sio_ns_use(ns, middleware, NULL);
  if (r == 0) r = sio_ns_on_connect(ns, on_connection, NULL);
  if (r == 0) r = sio_ns_on_disconnecting(ns, on_disconnecting, NULL);
  if (r == 0) r = sio_ns_on_disconnect(ns, on_disconnect, NULL);
  for (size_t i = 0; r == 0 && i < sizeof commands / sizeof commands[0]; i++) {
    r = sio_ns_on(ns, commands[i].event, commands[i].cb, NULL);
  }
  return r;
}

/* "/", "/custom" and the dynamic /dyn-N children all behave the same. Other namespaces
 * are refused by the library ("Invalid namespace"). */
static int setup_server(sio_server_t *io) {
  sio_ns_t *custom, *dyn;
  int r = sio_server_of(io, "/custom", &custom);
  if (r == 0) r = sio_server_of_dynamic(io, is_dyn, NULL, &dyn);
  if (r == 0) r = setup_namespace(sio_server_main(io));
  if (r == 0) r = setup_namespace(custom);
  if (r == 0) r = setup_namespace(dyn);
  return r;
}

/* ======================================================================== start-up */

typedef struct {
  int port;
  sio_server_opts_t sio;
} config_t;

/* Parses "--flag N" pairs (non-negative integers). Returns 0 or prints why and 2. */
static int parse_flags(int argc, char **argv, config_t *cfg) {
  cfg->port = 0;
  sio_server_opts_init(&cfg->sio);
  for (int i = 1; i < argc; i += 2) {
    const char *flag = argv[i], *arg = i + 1 < argc ? argv[i + 1] : "";
    if (strcmp(flag, "--parser") == 0 && (strcmp(arg, "msgpack") == 0 || strcmp(arg, "default") == 0)) {
      cfg->sio.parser = strcmp(arg, "msgpack") == 0 ? SIO_PARSER_MSGPACK : SIO_PARSER_DEFAULT;
      continue;
    }
    char *end;
    unsigned long long v = strtoull(arg, &end, 10);
    if (arg[0] == '\0' || arg[0] == '-' || *end != '\0') {
      fprintf(stderr, "sio_test_server: bad value for %s: \"%s\"\n", flag, arg);
      return 2;
    }
    if (strcmp(flag, "--port") == 0 && v <= 65535) cfg->port = (int)v;
    else if (strcmp(flag, "--ping-interval") == 0) cfg->sio.engine.ping_interval_ms = v;
    else if (strcmp(flag, "--ping-timeout") == 0) cfg->sio.engine.ping_timeout_ms = v;
    else if (strcmp(flag, "--max-payload") == 0) cfg->sio.engine.max_http_buffer_size = (size_t)v;
    else if (strcmp(flag, "--connect-timeout") == 0) cfg->sio.connect_timeout_ms = v;
    else {
      fprintf(stderr, "sio_test_server: unknown flag %s (flags: --port --ping-interval --ping-timeout "
                      "--max-payload --connect-timeout --parser)\n", flag);
      return 2;
    }
  }
  return 0;
}

/* SIGTERM / SIGINT: closing the HTTP server disconnects every socket ("server shutting
 * down") and frees the Socket.IO server; with the signal handles closed the loop ends. */
static void on_signal(uv_signal_t *h, int sig) {
  (void)h, (void)sig;
  uv_close((uv_handle_t *)&sigint_h, NULL);
  uv_close((uv_handle_t *)&sigterm_h, NULL);
  sio_http_close(http, NULL, NULL);
}

int main(int argc, char **argv) {
  config_t cfg;
  int r = parse_flags(argc, argv, &cfg);
  if (r) return r;
  signal(SIGPIPE, SIG_IGN);
  sio_log_set_level(SIO_LOG_WARN);
  uv_loop_t *loop = uv_default_loop();
  sio_server_t *io;
  if ((r = sio_http_new(loop, NULL, &http)) != 0 || (r = sio_server_new(http, &cfg.sio, &io)) != 0 ||
      (r = setup_server(io)) != 0 || (r = sio_http_listen(http, "127.0.0.1", cfg.port)) != 0) {
    fprintf(stderr, "sio_test_server: cannot start: %s\n", sio_strerror(r));
    return 1;
  }
  printf("listening on http://127.0.0.1:%d\n", sio_http_port(http));
  fflush(stdout); /* stdout is a pipe: the suites wait for this line */
  uv_signal_init(loop, &sigint_h);
  uv_signal_init(loop, &sigterm_h);
  uv_signal_start(&sigint_h, on_signal, SIGINT);
  uv_signal_start(&sigterm_h, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
