/*
 * Unit tests of namespaces over the engine's in-memory transport: CONNECT to a custom
 * namespace ("40/custom," -> "40/custom,{\"sid\":...}"), an unknown one ("44/x,{...
 * Invalid namespace}"), dynamic namespaces, several namespaces on one connection, and
 * middlewares (order, asynchronous answers, refusal with message and data, a client
 * that leaves while one is pending).
 */
#include "helpers.h"

typedef struct {
  int calls;
  char ns[32];
} conn_count_t;

static void count_connect(sio_socket_t *s, void *user) {
  conn_count_t *c = user;
  c->calls++;
  snprintf(c->ns, sizeof c->ns, "%s", sio_ns_name(sio_socket_ns(s)));
}

typedef struct {
  int calls;
  char ns[32];
} ev_count_t;

static void count_event(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  ev_count_t *e = user;
  (void)args;
  (void)ack;
  e->calls++;
  snprintf(e->ns, sizeof e->ns, "%s", sio_ns_name(sio_socket_ns(s)));
}

static void connect_to_a_custom_namespace_answers_with_its_name(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *custom;
  assert_int_equal(sio_server_of(t.io, "/custom", &custom), 0);
  conn_count_t main_cc = {0}, custom_cc = {0};
  sio_ns_on_connect(sio_server_main(t.io), count_connect, &main_cc);
  sio_ns_on_connect(custom, count_connect, &custom_cc);
  ev_count_t main_ev = {0}, custom_ev = {0};
  sio_ns_on(sio_server_main(t.io), "ev", count_event, &main_ev);
  sio_ns_on(custom, "ev", count_event, &custom_ev);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/custom", sid);
  assert_int_equal(custom_cc.calls, 1);
  assert_int_equal(main_cc.calls, 0);
  assert_int_equal(sio_ns_count(custom), 1);
  assert_int_equal(sio_ns_count(sio_server_main(t.io)), 0);
  assert_int_equal(mc_feed(&c, "42/custom,[\"ev\"]"), 0);
  assert_int_equal(custom_ev.calls, 1);
  assert_int_equal(main_ev.calls, 0);
  sio_socket_emit(find_socket(custom, sid), "out", NULL);
  mc_expect(&c, "42/custom,[\"out\"]");
  mc_expect_none(&c);
  env_close(&t);
  mc_free(&c);
}

static void connect_to_an_unknown_namespace_is_refused_and_keeps_the_connection(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40/x,"), 0);
  mc_expect(&c, "44/x,{\"message\":\"Invalid namespace\"}");
  mc_expect_none(&c);
  assert_false(c.closed);
  /* The client may still join a namespace that exists. */
  assert_int_equal(mc_feed(&c, "40"), 0);
  char sid[SIO__SID_LEN + 1];
  mc_expect_connect(&c, "/", sid);
  env_close(&t);
  mc_free(&c);
}

static void one_connection_carries_several_namespaces(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *a;
  assert_int_equal(sio_server_of(t.io, "/a", &a), 0);
  dc_log_t dc_main = {0}, dc_a = {0};
  sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc_main);
  sio_ns_on_disconnect(a, dc_record, &dc_a);
  mc_t c;
  char sid_main[SIO__SID_LEN + 1], sid_a[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid_main);
  assert_int_equal(mc_feed(&c, "40/a,{\"k\":1}"), 0);
  mc_expect_connect(&c, "/a", sid_a);
  assert_string_not_equal(sid_main, sid_a);
  sio_socket_t *sa = find_socket(a, sid_a);
  assert_string_equal(sio_socket_auth(sa), "{\"k\":1}");
  assert_string_equal(sio_socket_engine_id(sa), sio_socket_engine_id(find_socket(sio_server_main(t.io), sid_main)));
  /* Leaving /a keeps "/". */
  assert_int_equal(mc_feed(&c, "41/a,"), 0);
  assert_int_equal(dc_a.count, 1);
  assert_string_equal(dc_a.reason, "client namespace disconnect");
  assert_int_equal(dc_main.count, 0);
  assert_false(c.closed);
  /* A packet for /a now is a protocol error: the connection closes, "/" included. */
  mc_feed(&c, "42/a,[\"ev\"]");
  assert_true(c.closed);
  assert_int_equal(dc_main.count, 1);
  assert_string_equal(dc_main.reason, "parse error");
  env_close(&t);
  mc_free(&c);
}

static int match_rooms(const char *name, void *user) {
  (void)user;
  return strncmp(name, "/room-", 6) == 0;
}

static void dynamic_namespace_is_created_on_a_matching_connect(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *parent;
  assert_int_equal(sio_server_of_dynamic(t.io, match_rooms, NULL, &parent), 0);
  conn_count_t cc = {0};
  ev_count_t ev = {0};
  sio_ns_on_connect(parent, count_connect, &cc);
  sio_ns_on(parent, "ev", count_event, &ev);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/room-42", sid);
  assert_int_equal(cc.calls, 1);
  assert_string_equal(cc.ns, "/room-42");
  assert_int_equal(mc_feed(&c, "42/room-42,[\"ev\"]"), 0);
  assert_int_equal(ev.calls, 1);
  assert_string_equal(ev.ns, "/room-42");
  /* Not matching: refused. */
  assert_int_equal(mc_feed(&c, "40/other,"), 0);
  mc_expect(&c, "44/other,{\"message\":\"Invalid namespace\"}");
  env_close(&t);
  mc_free(&c);
}

static void feed_nsp(mc_t *c, const char *fmt, int k) {
  char pkt[64];
  snprintf(pkt, sizeof pkt, fmt, k);
  assert_int_equal(mc_feed(c, pkt), 0);
}

/* A client's sockets: the first in an inline slot, then an array that grows at powers of
 * two and shrinks by swap-remove. Packets keep reaching the right socket throughout. */
static void a_connection_joins_and_leaves_many_namespaces(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *parent;
  assert_int_equal(sio_server_of_dynamic(t.io, match_rooms, NULL, &parent), 0);
  ev_count_t ev = {0};
  sio_ns_on(parent, "ev", count_event, &ev);
  mc_t c;
  mc_open(&t, &c);
  char sid[SIO__SID_LEN + 1], nsp[32];
  static const int leave_order[] = {4, 8, 1, 7, 2, 5, 0, 6, 3};
  for (int k = 0; k < 9; k++) {
    feed_nsp(&c, "40/room-%d,", k);
    snprintf(nsp, sizeof nsp, "/room-%d", k);
    mc_expect_connect(&c, nsp, sid);
  }
  for (int i = 0; i < 9; i++) feed_nsp(&c, "41/room-%d,", leave_order[i]);
  for (int k = 0; k < 9; k += 3) {
    feed_nsp(&c, "40/room-%d,", k);
    snprintf(nsp, sizeof nsp, "/room-%d", k);
    mc_expect_connect(&c, nsp, sid);
  }
  mc_expect_none(&c);
  /* Joined now: room-0, room-3, room-6. */
  for (int k = 0; k < 9; k += 3) {
    feed_nsp(&c, "42/room-%d,[\"ev\"]", k);
    assert_int_equal(ev.calls, k / 3 + 1);
    snprintf(nsp, sizeof nsp, "/room-%d", k);
    assert_string_equal(ev.ns, nsp);
  }
  /* Any other is a namespace the client has not joined: a protocol error. */
  assert_false(c.closed);
  mc_feed(&c, "42/room-1,[\"ev\"]");
  assert_true(c.closed);
  env_close(&t);
  mc_free(&c);
}

/* ---- middlewares ---- */

typedef struct {
  char trace[64];     /* one letter per middleware run */
  char letter;
  const char *refuse; /* refuse with this message */
  const char *data;   /* and this data */
  int keep;           /* answer later */
  sio_mw_t *kept;
  int next_result;
} mw_t;

static void middleware(sio_socket_t *s, sio_mw_t *mw, void *user) {
  mw_t *m = user;
  (void)s;
  size_t n = strlen(m->trace);
  m->trace[n] = m->letter;
  m->trace[n + 1] = '\0';
  if (m->keep) m->kept = mw;
  else m->next_result = sio_mw_next(mw, m->refuse, m->data);
}

static void middlewares_run_in_order_before_connect(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *ns = sio_server_main(t.io);
  mw_t m1 = {.letter = 'a'}, m2 = {.letter = 'b'};
  sio_ns_use(ns, middleware, &m1);
  sio_ns_use(ns, middleware, &m2);
  conn_count_t cc = {0};
  sio_ns_on_connect(ns, count_connect, &cc);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_string_equal(m1.trace, "a");
  assert_string_equal(m2.trace, "b");
  assert_int_equal(cc.calls, 1);
  env_close(&t);
  mc_free(&c);
}

static void middleware_refusal_sends_connect_error_with_message_and_data(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *ns = sio_server_main(t.io);
  mw_t m1 = {.letter = 'a', .refuse = "not allowed", .data = "{\"code\":42,\"why\":[\"x\"]}"};
  mw_t m2 = {.letter = 'b'};
  sio_ns_use(ns, middleware, &m1);
  sio_ns_use(ns, middleware, &m2);
  conn_count_t cc = {0};
  sio_ns_on_connect(ns, count_connect, &cc);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(ns, dc_record, &dc);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40"), 0);
  mc_expect(&c, "44{\"message\":\"not allowed\",\"data\":{\"code\":42,\"why\":[\"x\"]}}");
  mc_expect_none(&c);
  assert_int_equal(m1.next_result, 0);
  assert_string_equal(m2.trace, ""); /* the chain stops at a refusal */
  assert_int_equal(cc.calls, 0);
  assert_int_equal(dc.count, 0); /* it never connected */
  assert_int_equal(sio_ns_count(ns), 0);
  assert_false(c.closed);
  env_close(&t);
  mc_free(&c);
}

static void middleware_refusal_without_data_or_with_bad_data_sends_the_message(void **state) {
  (void)state;
  sio_ns_t *ns;
  static const char *const datas[] = {NULL, "{bad json"};
  for (size_t i = 0; i < 2; i++) {
    env_t t;
    env_init(&t, NULL);
    assert_int_equal(sio_server_of(t.io, "/admin", &ns), 0);
    mw_t m = {.letter = 'a', .refuse = "go away", .data = datas[i]};
    sio_ns_use(ns, middleware, &m);
    mc_t c;
    mc_open(&t, &c);
    assert_int_equal(mc_feed(&c, "40/admin,"), 0);
    mc_expect(&c, "44/admin,{\"message\":\"go away\"}");
    assert_int_equal(m.next_result, datas[i] ? SIO_EJSON : 0);
    env_close(&t);
    mc_free(&c);
  }
}

static void asynchronous_middleware_connects_when_it_answers(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *ns = sio_server_main(t.io);
  mw_t m = {.letter = 'a', .keep = 1};
  sio_ns_use(ns, middleware, &m);
  ev_count_t ev = {0};
  sio_ns_on(ns, "ev", count_event, &ev);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40"), 0);
  mc_expect_none(&c);
  assert_non_null(m.kept);
  /* Events before the answer are dropped, not an error. */
  assert_int_equal(mc_feed(&c, "42[\"ev\"]"), 0);
  assert_int_equal(ev.calls, 0);
  assert_false(c.closed);
  assert_int_equal(sio_mw_next(m.kept, NULL, NULL), 0);
  char sid[SIO__SID_LEN + 1];
  mc_expect_connect(&c, "/", sid);
  assert_int_equal(sio_ns_count(ns), 1);
  env_close(&t);
  mc_free(&c);
}

static void client_leaving_during_a_pending_middleware_only_frees_it(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *ns = sio_server_main(t.io);
  mw_t m = {.letter = 'a', .keep = 1};
  sio_ns_use(ns, middleware, &m);
  conn_count_t cc = {0};
  sio_ns_on_connect(ns, count_connect, &cc);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40"), 0);
  mc_close(&c);
  assert_int_equal(sio_mw_next(m.kept, NULL, NULL), 0);
  assert_int_equal(cc.calls, 0);
  assert_int_equal(sio_ns_count(ns), 0);
  mc_expect_none(&c);
  env_close(&t);
  mc_free(&c);
}

static void handshake_is_readable_in_the_middleware(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *ns = sio_server_main(t.io);
  mw_t m = {.letter = 'a', .keep = 1};
  sio_ns_use(ns, middleware, &m);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40{\"user\":\"ann\"}"), 0);
  assert_non_null(m.kept);
  sio_socket_t *s = m.kept->s;
  sio_str_t user;
  assert_int_equal(sio_socket_get_auth_str(s, "user", &user), 0);
  assert_int_equal(user.len, 3);
  assert_false(sio_socket_connected(s));
  /* The memory transport's handshake is empty. */
  assert_int_equal(sio_socket_query(s).len, 0);
  assert_int_equal(sio_socket_handshake_url(s).len, 0);
  assert_string_equal(sio_socket_address(s), "");
  assert_int_equal(sio_mw_next(m.kept, NULL, NULL), 0);
  char sid[SIO__SID_LEN + 1];
  mc_expect_connect(&c, "/", sid);
  env_close(&t);
  mc_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(connect_to_a_custom_namespace_answers_with_its_name),
      cmocka_unit_test(connect_to_an_unknown_namespace_is_refused_and_keeps_the_connection),
      cmocka_unit_test(one_connection_carries_several_namespaces),
      cmocka_unit_test(dynamic_namespace_is_created_on_a_matching_connect),
      cmocka_unit_test(a_connection_joins_and_leaves_many_namespaces),
      cmocka_unit_test(middlewares_run_in_order_before_connect),
      cmocka_unit_test(middleware_refusal_sends_connect_error_with_message_and_data),
      cmocka_unit_test(middleware_refusal_without_data_or_with_bad_data_sends_the_message),
      cmocka_unit_test(asynchronous_middleware_connects_when_it_answers),
      cmocka_unit_test(client_leaving_during_a_pending_middleware_only_frees_it),
      cmocka_unit_test(handshake_is_readable_in_the_middleware),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
