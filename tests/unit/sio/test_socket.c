/*
 * Unit tests of Socket.IO sockets over the engine's in-memory transport (no sockets):
 * the CONNECT handshake, events both ways (text and binary attachments), disconnect
 * reasons, malformed input closing the session, the connect timeout and the heartbeat.
 * Expectations are the exact Engine.IO packets on the wire ("40{\"sid\":...}",
 * "42[...]", "451-[...]" + binary), as in socketioxide's tests.
 */
#include "helpers.h"

/* ---- recording handlers ---- */

typedef struct {
  int calls;
  char sid[SIO__SID_LEN + 1];
  char json[8][128]; /* each argument as JSON (binary as a placeholder) */
  size_t nargs;
  char bin[64]; /* bytes of argument bin_index when it is binary */
  size_t bin_len;
  int bin_type;
  int had_ack;
} ev_log_t;

static void ev_record(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  ev_log_t *l = user;
  l->calls++;
  snprintf(l->sid, sizeof l->sid, "%s", sio_socket_id(s));
  l->nargs = sio_args_count(args);
  for (size_t i = 0; i < l->nargs && i < 8; i++) {
    char *j;
    size_t jl;
    assert_int_equal(sio_args_to_json(args, i, &j, &jl), 0);
    snprintf(l->json[i], sizeof l->json[i], "%s", j);
    sio_free(j);
  }
  l->had_ack = ack != NULL;
  /* The last argument, when binary. */
  l->bin_type = l->nargs ? sio_args_type(args, l->nargs - 1) : -1;
  sio_str_t b;
  if (l->nargs && sio_args_get_binary(args, l->nargs - 1, &b) == 0 && b.len <= sizeof l->bin) {
    memcpy(l->bin, b.ptr, b.len);
    l->bin_len = b.len;
  }
}

typedef struct {
  int calls;
  sio_socket_t *last; /* referenced */
  char auth[128];
} conn_log_t;

static void conn_record(sio_socket_t *s, void *user) {
  conn_log_t *l = user;
  l->calls++;
  if (l->last) sio_socket_unref(l->last);
  l->last = sio_socket_ref(s);
  snprintf(l->auth, sizeof l->auth, "%s", sio_socket_auth(s));
}

static void conn_log_free(conn_log_t *l) {
  if (l->last) sio_socket_unref(l->last);
  l->last = NULL;
}

/* ---- connecting ---- */

static void connect_answers_with_the_socket_id(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  conn_log_t cl = {0};
  sio_ns_on_connect(sio_server_main(t.io), conn_record, &cl);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  mc_expect_none(&c);
  assert_int_equal(cl.calls, 1);
  assert_string_equal(sio_socket_id(cl.last), sid);
  assert_true(sio_socket_connected(cl.last));
  assert_string_equal(sio_socket_auth(cl.last), "{}");
  assert_string_equal(sio_socket_transport(cl.last), "memory");
  assert_string_equal(sio_socket_engine_id(cl.last), sio_eio_id(c.eio));
  /* The socket id is not the engine id (socket.io v5: a private id per namespace). */
  assert_string_not_equal(sid, sio_eio_id(c.eio));
  assert_int_equal(sio_ns_count(sio_server_main(t.io)), 1);
  conn_log_free(&cl);
  env_close(&t);
  mc_free(&c);
}

static void connect_payload_is_the_socket_auth(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  conn_log_t cl = {0};
  sio_ns_on_connect(sio_server_main(t.io), conn_record, &cl);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40{\"token\":\"abc\",\"n\":1}"), 0);
  char sid[SIO__SID_LEN + 1];
  mc_expect_connect(&c, "/", sid);
  assert_string_equal(cl.auth, "{\"token\":\"abc\",\"n\":1}");
  sio_str_t tok;
  assert_int_equal(sio_socket_get_auth_str(cl.last, "token", &tok), 0);
  assert_int_equal(tok.len, 3);
  assert_memory_equal(tok.ptr, "abc", 3);
  assert_int_equal(sio_socket_get_auth_str(cl.last, "n", &tok), SIO_ENOTFOUND);
  conn_log_free(&cl);
  env_close(&t);
  mc_free(&c);
}

static void duplicate_connect_to_a_namespace_is_ignored(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  conn_log_t cl = {0};
  sio_ns_on_connect(sio_server_main(t.io), conn_record, &cl);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "40"), 0);
  mc_expect_none(&c);
  assert_int_equal(cl.calls, 1);
  assert_false(c.closed);
  conn_log_free(&cl);
  env_close(&t);
  mc_free(&c);
}

/* ---- events ---- */

static void client_event_runs_the_namespace_handler_with_its_arguments(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ev_log_t ev = {0};
  sio_ns_on(sio_server_main(t.io), "chat", ev_record, &ev);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "42[\"chat\",\"hi\",1,{\"a\":[true,null]}]"), 0);
  assert_int_equal(ev.calls, 1);
  assert_string_equal(ev.sid, sid);
  assert_int_equal(ev.nargs, 3);
  assert_string_equal(ev.json[0], "\"hi\"");
  assert_string_equal(ev.json[1], "1");
  assert_string_equal(ev.json[2], "{\"a\":[true,null]}");
  assert_false(ev.had_ack);
  /* An event nobody handles is dropped quietly. */
  assert_int_equal(mc_feed(&c, "42[\"other\"]"), 0);
  assert_int_equal(ev.calls, 1);
  assert_false(c.closed);
  mc_expect_none(&c);
  env_close(&t);
  mc_free(&c);
}

static void socket_handler_is_preferred_over_the_namespace_handler(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ev_log_t ns_ev = {0}, sock_ev = {0};
  sio_ns_on(sio_server_main(t.io), "chat", ev_record, &ns_ev);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  sio_socket_t *s = find_socket(sio_server_main(t.io), sid);
  assert_non_null(s);
  assert_int_equal(sio_socket_on(s, "chat", ev_record, &sock_ev), 0);
  assert_int_equal(mc_feed(&c, "42[\"chat\"]"), 0);
  assert_int_equal(sock_ev.calls, 1);
  assert_int_equal(ns_ev.calls, 0);
  env_close(&t);
  mc_free(&c);
}

typedef struct {
  int calls;
  char event[32];
} any_log_t;

static void any_record(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  any_log_t *l = user;
  (void)s;
  (void)args;
  l->calls++;
  snprintf(l->event, sizeof l->event, "%s", event);
}

static void any_listeners_see_incoming_and_outgoing_events(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  any_log_t in = {0}, out = {0};
  sio_socket_on_any(s, any_record, &in);
  sio_socket_on_any_outgoing(s, any_record, &out);
  assert_int_equal(mc_feed(&c, "42[\"unhandled\",1]"), 0);
  assert_int_equal(in.calls, 1);
  assert_string_equal(in.event, "unhandled");
  assert_int_equal(sio_socket_emit(s, "news", NULL), 0);
  mc_expect(&c, "42[\"news\"]");
  assert_int_equal(out.calls, 1);
  assert_string_equal(out.event, "news");
  assert_int_equal(sio_socket_off_any(s, any_record, &in), 1);
  assert_int_equal(mc_feed(&c, "42[\"unhandled\"]"), 0);
  assert_int_equal(in.calls, 1);
  env_close(&t);
  mc_free(&c);
}

/* An onAny listener that removes every onAny listener, itself and the next one included,
 * while the list is being walked (socket.offAny() inside a listener). */
static void any_remove_all(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  any_log_t *l = user;
  (void)event, (void)args;
  l->calls++;
  assert_int_equal(sio_socket_off_any(s, NULL, NULL), 2);
}

static void any_listener_may_remove_listeners_while_they_run(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  any_log_t first = {0}, second = {0}, later = {0};
  sio_socket_on_any(s, any_remove_all, &first);
  sio_socket_on_any(s, any_record, &second);
  assert_int_equal(mc_feed(&c, "42[\"a\"]"), 0);
  /* Removed during the walk: the second listener does not run for this event either. */
  assert_int_equal(first.calls, 1);
  assert_int_equal(second.calls, 0);
  /* The list is usable afterwards: a new listener runs, the removed ones do not. */
  sio_socket_on_any(s, any_record, &later);
  assert_int_equal(mc_feed(&c, "42[\"b\"]"), 0);
  assert_int_equal(first.calls, 1);
  assert_int_equal(second.calls, 0);
  assert_int_equal(later.calls, 1);
  assert_string_equal(later.event, "b");
  env_close(&t);
  mc_free(&c);
}

/* prependAny / prependAnyOutgoing run before the listeners already there;
 * listenersAny(Outgoing) count them and hand them out in that order. */
typedef struct {
  char order[16];
  size_t n;
} order_t;

static void any_a(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  (void)s, (void)event, (void)args;
  order_t *o = user;
  o->order[o->n++] = 'a';
}
static void any_b(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  (void)s, (void)event, (void)args;
  order_t *o = user;
  o->order[o->n++] = 'b';
}
static void any_c(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  (void)s, (void)event, (void)args;
  order_t *o = user;
  o->order[o->n++] = 'c';
}
static void each_any(sio_any_cb cb, void *user, void *u) {
  order_t *o = u;
  (void)user;
  o->order[o->n++] = cb == any_a ? 'a' : cb == any_b ? 'b' : cb == any_c ? 'c' : '?';
}

static void prepend_any_runs_first_and_listeners_any_lists_in_order(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  order_t in = {{0}, 0}, out = {{0}, 0}, seen = {{0}, 0};
  assert_int_equal(sio_socket_listeners_any(s, NULL, NULL), 0);
  ev_log_t evl;
  memset(&evl, 0, sizeof evl);
  sio_socket_on(s, "x", ev_record, &evl);
  assert_int_equal(sio_socket_on_any(s, any_a, &in), 0);
  assert_int_equal(sio_socket_prepend_any(s, any_b, &in), 0);
  assert_int_equal(sio_socket_on_any(s, any_c, &in), 0);
  assert_int_equal(sio_socket_listeners_any(s, each_any, &seen), 3);
  assert_string_equal(seen.order, "bac");
  assert_int_equal(mc_feed(&c, "42[\"y\"]"), 0);
  assert_string_equal(in.order, "bac");

  assert_int_equal(sio_socket_on_any_outgoing(s, any_a, &out), 0);
  assert_int_equal(sio_socket_prepend_any_outgoing(s, any_c, &out), 0);
  assert_int_equal(sio_socket_listeners_any_outgoing(s, NULL, NULL), 2);
  assert_int_equal(sio_socket_emit(s, "news", NULL), 0);
  mc_expect(&c, "42[\"news\"]");
  assert_string_equal(out.order, "ca");
  /* Event handlers and other listener kinds are not any listeners. */
  assert_int_equal(sio_socket_listeners_any(s, NULL, NULL), 3);
  env_close(&t);
  mc_free(&c);
}

/* offAnyOutgoing: removes the one given (or all), also from inside a listener. */
static void any_out_remove_all(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  any_log_t *l = user;
  (void)event, (void)args;
  l->calls++;
  assert_int_equal(sio_socket_off_any_outgoing(s, NULL, NULL), 2);
}

static void off_any_outgoing_removes_listeners_even_while_they_run(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  any_log_t a = {0}, b = {0};
  sio_socket_on_any_outgoing(s, any_record, &a);
  sio_socket_on_any_outgoing(s, any_record, &b);
  assert_int_equal(sio_socket_off_any_outgoing(s, any_record, &a), 1);
  assert_int_equal(sio_socket_off_any_outgoing(s, any_record, &a), 0);
  assert_int_equal(sio_socket_emit(s, "one", NULL), 0);
  assert_int_equal(a.calls, 0);
  assert_int_equal(b.calls, 1);
  /* A listener removing every outgoing listener, itself and the next one included. */
  any_log_t first = {0};
  assert_int_equal(sio_socket_off_any_outgoing(s, NULL, NULL), 1);
  sio_socket_on_any_outgoing(s, any_out_remove_all, &first);
  sio_socket_on_any_outgoing(s, any_record, &b);
  assert_int_equal(sio_socket_emit(s, "two", NULL), 0);
  assert_int_equal(first.calls, 1);
  assert_int_equal(b.calls, 1);
  assert_int_equal(sio_socket_listeners_any_outgoing(s, NULL, NULL), 0);
  assert_int_equal(sio_socket_emit(s, "three", NULL), 0);
  assert_int_equal(first.calls, 1);
  mc_expect(&c, "42[\"one\"]");
  mc_expect(&c, "42[\"two\"]");
  mc_expect(&c, "42[\"three\"]");
  env_close(&t);
  mc_free(&c);
}

/* socket.volatile.emit on a writable transport is a plain emit (the memory transport
 * always is; the drop itself: integration/socketio_emitter.test.mjs). */
static void volatile_emit_on_a_writable_transport_is_sent(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  assert_int_equal(sio_socket_emit_flags(s, "v", NULL, SIO_BCAST_VOLATILE), 0);
  mc_expect(&c, "42[\"v\"]");
  env_close(&t);
  mc_free(&c);
}

/* socket.conn's events on the memory transport: packet (before the packet is handled),
 * drain (from the check phase after a send), close (before the disconnect callbacks). */
typedef struct {
  int packets, messages, drains, closes;
  char last_type[16], last_data[32], reason[32];
  int disconnected_at_close; /* the disconnect callback had run when close ran */
  int disconnects;
} conn_log_ev_t;

static void conn_ev(sio_socket_t *s, sio_conn_event_t ev, const sio_conn_info_t *info, void *user) {
  conn_log_ev_t *l = user;
  (void)s;
  if (ev == SIO_CONN_PACKET) {
    l->packets++;
    l->messages += strcmp(info->packet_type, "message") == 0;
    snprintf(l->last_type, sizeof l->last_type, "%s", info->packet_type);
    snprintf(l->last_data, sizeof l->last_data, "%.*s", (int)info->data.len, info->data.ptr);
  } else if (ev == SIO_CONN_DRAIN) {
    l->drains++;
  } else if (ev == SIO_CONN_CLOSE) {
    l->closes++;
    l->disconnected_at_close = l->disconnects;
    snprintf(l->reason, sizeof l->reason, "%s", info->reason);
  }
}

static void conn_dc(sio_socket_t *s, const char *reason, void *user) {
  (void)s, (void)reason;
  ((conn_log_ev_t *)user)->disconnects++;
}

static int drained(void *ctx) { return ((conn_log_ev_t *)ctx)->drains > 0; }

static void conn_events_packet_drain_close(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  conn_log_ev_t l;
  memset(&l, 0, sizeof l);
  assert_int_equal(sio_socket_conn_on(s, (sio_conn_event_t)7, conn_ev, &l), SIO_EINVAL);
  assert_int_equal(sio_socket_conn_on(s, SIO_CONN_PACKET, conn_ev, &l), 0);
  assert_int_equal(sio_socket_conn_on(s, SIO_CONN_DRAIN, conn_ev, &l), 0);
  assert_int_equal(sio_socket_conn_on(s, SIO_CONN_CLOSE, conn_ev, &l), 0);
  assert_int_equal(sio_socket_on_disconnect(s, conn_dc, &l), 0);
  assert_int_equal(mc_feed(&c, "42[\"x\"]"), 0);
  assert_int_equal(l.packets, 1);
  assert_int_equal(l.messages, 1);
  assert_string_equal(l.last_type, "message");
  assert_string_equal(l.last_data, "2[\"x\"]");
  assert_int_equal(mc_feed(&c, "3"), 0); /* a pong */
  assert_int_equal(l.packets, 2);
  assert_string_equal(l.last_type, "pong");
  /* No drain inside the emit; one from the check phase after it. */
  assert_int_equal(sio_socket_emit(s, "news", NULL), 0);
  assert_int_equal(l.drains, 0);
  assert_true(run_until(&t, drained, &l, 1000));
  assert_int_equal(l.drains, 1);
  mc_expect(&c, "42[\"news\"]");
  mc_close(&c);
  assert_int_equal(l.closes, 1);
  assert_string_equal(l.reason, "transport close");
  assert_int_equal(l.disconnected_at_close, 0);
  assert_int_equal(l.disconnects, 1);
  env_close(&t);
  mc_free(&c);
}

static void server_emit_writes_one_event_packet(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  sio_args_t *a = args_json("[\"world\",{\"a\":1},2.5,-3]");
  assert_int_equal(sio_socket_emit(s, "hello", a), 0);
  mc_expect(&c, "42[\"hello\",\"world\",{\"a\":1},2.5,-3]");
  mc_expect_none(&c);
  sio_args_free(a);
  env_close(&t);
  mc_free(&c);
}

static void binary_event_waits_for_its_attachment_then_runs_with_the_bytes(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ev_log_t ev = {0};
  sio_ns_on(sio_server_main(t.io), "file", ev_record, &ev);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "451-[\"file\",\"name\",{\"_placeholder\":true,\"num\":0}]"), 0);
  assert_int_equal(ev.calls, 0); /* the attachment has not arrived */
  assert_int_equal(mc_feed_bin(&c, "\x01\x02\x00\xff", 4), 0);
  assert_int_equal(ev.calls, 1);
  assert_int_equal(ev.nargs, 2);
  assert_string_equal(ev.json[0], "\"name\"");
  assert_int_equal(ev.bin_type, SIO_ARG_BINARY);
  assert_int_equal(ev.bin_len, 4);
  assert_memory_equal(ev.bin, "\x01\x02\x00\xff", 4);
  assert_false(c.closed);
  env_close(&t);
  mc_free(&c);
}

static void server_emit_with_binary_sends_the_text_packet_then_each_attachment(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_binary(a, "\xde\xad", 2), 0);
  assert_int_equal(sio_args_add_cstr(a, "mid"), 0);
  assert_int_equal(sio_args_add_binary(a, "\x00", 1), 0);
  assert_int_equal(sio_socket_emit(s, "blob", a), 0);
  mc_expect(&c, "452-[\"blob\",{\"_placeholder\":true,\"num\":0},\"mid\",{\"_placeholder\":true,\"num\":1}]");
  mc_expect_bin(&c, "\xde\xad", 2);
  mc_expect_bin(&c, "\x00", 1);
  mc_expect_none(&c);
  sio_args_free(a);
  env_close(&t);
  mc_free(&c);
}

/* ---- disconnect reasons ---- */

static void client_disconnect_packet_leaves_with_client_namespace_disconnect(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "41"), 0);
  assert_int_equal(dc.count, 1);
  assert_string_equal(dc.reason, "client namespace disconnect");
  assert_string_equal(dc.sid, sid);
  assert_int_equal(sio_ns_count(sio_server_main(t.io)), 0);
  /* Leaving a namespace keeps the connection (the client may join again). */
  assert_false(c.closed);
  mc_expect_none(&c);
  assert_int_equal(mc_feed(&c, "40"), 0);
  char sid2[SIO__SID_LEN + 1];
  mc_expect_connect(&c, "/", sid2);
  assert_string_not_equal(sid, sid2);
  env_close(&t);
  mc_free(&c);
}

static void transport_close_is_the_reason_when_the_client_goes_away(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  mc_close(&c);
  assert_true(c.closed);
  assert_string_equal(c.reason, "transport close");
  assert_int_equal(dc.count, 1);
  assert_string_equal(dc.reason, "transport close");
  assert_int_equal(sio_engine_count(t.io->eng), 0);
  env_close(&t);
  mc_free(&c);
}

static void engine_close_packet_is_a_transport_close(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "1"), 0);
  assert_true(c.closed);
  assert_string_equal(dc.reason, "transport close");
  env_close(&t);
  mc_free(&c);
}

static void server_disconnect_sends_a_disconnect_packet_and_keeps_the_connection(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  sio_socket_t *s = sio_socket_ref(find_socket(sio_server_main(t.io), sid));
  assert_int_equal(sio_socket_disconnect(s, 0), 0);
  mc_expect(&c, "41");
  mc_expect_none(&c);
  assert_int_equal(dc.count, 1);
  assert_string_equal(dc.reason, "server namespace disconnect");
  assert_false(c.closed);
  /* A second disconnect, and any emit, find it closed. */
  assert_int_equal(sio_socket_disconnect(s, 0), SIO_ECLOSED);
  assert_int_equal(sio_socket_emit(s, "late", NULL), SIO_ECLOSED);
  assert_false(sio_socket_connected(s));
  sio_socket_unref(s);
  env_close(&t);
  mc_free(&c);
}

static void disconnect_with_close_leaves_every_namespace_then_closes(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *chat;
  assert_int_equal(sio_server_of(t.io, "/chat", &chat), 0);
  dc_log_t dc_main = {0}, dc_chat = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc_main);
  sio_ns_on_disconnect(chat, dc_record, &dc_chat);
  mc_t c;
  char sid[SIO__SID_LEN + 1], sid_chat[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "40/chat,"), 0);
  mc_expect_connect(&c, "/chat", sid_chat);
  assert_int_equal(sio_socket_disconnect(find_socket(chat, sid_chat), 1), 0);
  /* Each namespace gets its DISCONNECT (last joined first), then the session closes. */
  mc_expect(&c, "41/chat,");
  mc_expect(&c, "41");
  mc_expect_none(&c);
  assert_true(c.closed);
  assert_string_equal(c.reason, "forced close");
  assert_string_equal(dc_main.reason, "server namespace disconnect");
  assert_string_equal(dc_chat.reason, "server namespace disconnect");
  env_close(&t);
  mc_free(&c);
}

static void conn_close_closes_the_connection_without_a_packet(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(sio_socket_conn_close(find_socket(sio_server_main(t.io), sid)), 0);
  mc_expect_none(&c);
  assert_true(c.closed);
  assert_string_equal(dc.reason, "forced close");
  env_close(&t);
  mc_free(&c);
}

static void server_shutdown_disconnects_with_server_shutting_down(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c, late;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  sio_server_shutdown(t.io);
  assert_int_equal(dc.count, 1);
  assert_string_equal(dc.reason, "server shutting down");
  assert_true(c.closed);
  /* No new sessions after that. */
  assert_int_equal(mc_try_open(&t, &late), -1);
  env_close(&t);
  mc_free(&c);
}

static void closing_the_http_server_disconnects_with_server_shutting_down(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  env_close(&t);
  assert_true(c.closed);
  assert_int_equal(dc.count, 1);
  assert_string_equal(dc.reason, "server shutting down");
  mc_free(&c);
}

/* ---- malformed input ---- */

typedef struct {
  const char *first;  /* a valid packet sent before, or NULL */
  const char *bad;    /* the offending text packet, or NULL for a stray binary message */
} bad_case_t;

static void malformed_packets_close_the_session_with_parse_error(void **state) {
  (void)state;
  static const bad_case_t cases[] = {
      {NULL, "42not json"},
      {NULL, "42[\"disconnect\"]"},          /* a reserved event name */
      {NULL, "42{\"ev\":1}"},                /* EVENT data must be an array */
      {NULL, "43[1]"},                       /* an ACK without id */
      {NULL, "4x"},                          /* unknown packet type */
      {NULL, "42/nope,[\"ev\"]"},            /* a namespace the client did not join */
      {NULL, "44{\"message\":\"x\"}"},       /* CONNECT_ERROR comes from servers only */
      {NULL, NULL},                          /* a binary message with no packet waiting */
      {"451-[\"ev\",{\"_placeholder\":true,\"num\":0}]", "42[\"ev\"]"}, /* text mid-binary */
      {NULL, "451-[\"ev\",{\"_placeholder\":true,\"num\":1}]"},        /* bad placeholder */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    env_t t;
    env_init(&t, NULL);
    dc_log_t dc = {0};
    sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
    mc_t c;
    char sid[SIO__SID_LEN + 1];
    mc_connect(&t, &c, "/", sid);
    if (cases[i].first) assert_int_equal(mc_feed(&c, cases[i].first), 0);
    if (cases[i].bad) mc_feed(&c, cases[i].bad);
    else mc_feed_bin(&c, "\x01", 1);
    if (!c.closed) fail_msg("case %zu (%s) left the session open", i, cases[i].bad ? cases[i].bad : "binary");
    assert_int_equal(dc.count, 1);
    assert_string_equal(dc.reason, "parse error");
    mc_expect_none(&c);
    env_close(&t);
    mc_free(&c);
  }
}

static void engine_level_garbage_closes_with_parse_error(void **state) {
  (void)state;
  static const char *const cases[] = {"", "9", "0", "5"}; /* empty, bad type, OPEN, UPGRADE */
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    env_t t;
    env_init(&t, NULL);
    mc_t c;
    mc_open(&t, &c);
    mc_feed(&c, cases[i]);
    assert_true(c.closed);
    assert_string_equal(c.reason, "parse error");
    env_close(&t);
    mc_free(&c);
  }
}

static void message_over_max_buffer_size_closes_with_transport_error(void **state) {
  (void)state;
  sio_server_opts_t o = env_opts();
  o.engine.max_http_buffer_size = 16;
  env_t t;
  env_init(&t, &o);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "42[\"ev\",\"12345678\"]"), SIO_ETOOBIG);
  assert_true(c.closed);
  assert_string_equal(c.reason, "transport error");
  assert_string_equal(dc.reason, "transport error");
  env_close(&t);
  mc_free(&c);
}

/* ---- timeouts ---- */

static void connect_timeout_closes_a_session_that_joins_no_namespace(void **state) {
  (void)state;
  sio_server_opts_t o = env_opts();
  o.connect_timeout_ms = 20;
  env_t t;
  env_init(&t, &o);
  mc_t idle, joined;
  char sid[SIO__SID_LEN + 1];
  mc_open(&t, &idle);
  mc_connect(&t, &joined, "/", sid);
  assert_true(run_until(&t, flag_set, &idle.closed, 2000));
  assert_string_equal(idle.reason, "forced close");
  mc_expect_none(&idle);
  /* The connected one is spared. */
  assert_false(joined.closed);
  assert_int_equal(sio_engine_count(t.io->eng), 1);
  env_close(&t);
  mc_free(&idle);
  mc_free(&joined);
}

static void missing_pong_closes_with_ping_timeout(void **state) {
  (void)state;
  sio_server_opts_t o = env_opts();
  o.engine.ping_interval_ms = 10;
  o.engine.ping_timeout_ms = 10;
  env_t t;
  env_init(&t, &o);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  c.keep_pings = 1;
  assert_true(run_until(&t, flag_set, &c.closed, 2000));
  mc_expect(&c, "2");
  mc_expect_none(&c);
  assert_string_equal(c.reason, "ping timeout");
  assert_string_equal(dc.reason, "ping timeout");
  env_close(&t);
  mc_free(&c);
}

static int pinged_three_times_or_closed(void *ctx) {
  const mc_t *c = ctx;
  return c->pings >= 3 || c->closed;
}

static void pong_keeps_the_session_alive(void **state) {
  (void)state;
  sio_server_opts_t o = env_opts();
  o.engine.ping_interval_ms = 5;
  o.engine.ping_timeout_ms = 30;
  env_t t;
  env_init(&t, &o);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  /* Answer each ping as it comes: run until a ping, pong, repeat. */
  for (int want = 1; want <= 3; want++) {
    while (c.pings < want && !c.closed) run_until(&t, pinged_three_times_or_closed, &c, 5);
    assert_false(c.closed);
    assert_int_equal(mc_feed(&c, "3"), 0);
  }
  assert_false(c.closed);
  assert_int_equal(c.pings, 3);
  env_close(&t);
  mc_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(connect_answers_with_the_socket_id),
      cmocka_unit_test(connect_payload_is_the_socket_auth),
      cmocka_unit_test(duplicate_connect_to_a_namespace_is_ignored),
      cmocka_unit_test(client_event_runs_the_namespace_handler_with_its_arguments),
      cmocka_unit_test(socket_handler_is_preferred_over_the_namespace_handler),
      cmocka_unit_test(any_listeners_see_incoming_and_outgoing_events),
      cmocka_unit_test(any_listener_may_remove_listeners_while_they_run),
      cmocka_unit_test(prepend_any_runs_first_and_listeners_any_lists_in_order),
      cmocka_unit_test(off_any_outgoing_removes_listeners_even_while_they_run),
      cmocka_unit_test(volatile_emit_on_a_writable_transport_is_sent),
      cmocka_unit_test(conn_events_packet_drain_close),
      cmocka_unit_test(server_emit_writes_one_event_packet),
      cmocka_unit_test(binary_event_waits_for_its_attachment_then_runs_with_the_bytes),
      cmocka_unit_test(server_emit_with_binary_sends_the_text_packet_then_each_attachment),
      cmocka_unit_test(client_disconnect_packet_leaves_with_client_namespace_disconnect),
      cmocka_unit_test(transport_close_is_the_reason_when_the_client_goes_away),
      cmocka_unit_test(engine_close_packet_is_a_transport_close),
      cmocka_unit_test(server_disconnect_sends_a_disconnect_packet_and_keeps_the_connection),
      cmocka_unit_test(disconnect_with_close_leaves_every_namespace_then_closes),
      cmocka_unit_test(conn_close_closes_the_connection_without_a_packet),
      cmocka_unit_test(server_shutdown_disconnects_with_server_shutting_down),
      cmocka_unit_test(closing_the_http_server_disconnects_with_server_shutting_down),
      cmocka_unit_test(malformed_packets_close_the_session_with_parse_error),
      cmocka_unit_test(engine_level_garbage_closes_with_parse_error),
      cmocka_unit_test(message_over_max_buffer_size_closes_with_transport_error),
      cmocka_unit_test(connect_timeout_closes_a_session_that_joins_no_namespace),
      cmocka_unit_test(missing_pong_closes_with_ping_timeout),
      cmocka_unit_test(pong_keeps_the_session_alive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
