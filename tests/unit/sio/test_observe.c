/*
 * Server observers and counters (src/sio/observe.c, include/sio.h "observing a
 * server"): sio_server_stats moves with what the clients do, observers get namespaces,
 * room events (next to the namespace's own listener), data changes and session closes,
 * and on_free once at teardown; the observer table is bounded.
 */
#include "helpers.h"

typedef struct {
  int namespaces, rooms_join, rooms_leave, data, closes, frees;
  char last_ns[32], last_reason[32];
  int app_rooms; /* the namespace's own listener (sio_ns_on_room) */
} seen_t;

static void o_ns(sio_ns_t *ns, void *u) {
  seen_t *x = u;
  x->namespaces++;
  snprintf(x->last_ns, sizeof x->last_ns, "%s", sio_ns_name(ns));
}
static void o_room(sio_ns_t *ns, const sio_room_event_t *ev, void *u) {
  seen_t *x = u;
  x->rooms_join += ev->type == SIO_ROOM_JOIN;
  x->rooms_leave += ev->type == SIO_ROOM_LEAVE;
}
static void o_close(sio_server_t *io, const char *reason, void *u) {
  seen_t *x = u;
  x->closes++;
  snprintf(x->last_reason, sizeof x->last_reason, "%s", reason);
}
static void o_free(sio_server_t *io, void *u) { ((seen_t *)u)->frees++; }
static void o_data(sio_socket_t *s, void *u) { ((seen_t *)u)->data++; }
static void app_room(sio_ns_t *ns, const sio_room_event_t *ev, void *u) { (*(int *)u)++; }

static const sio_server_observer_t obs = {o_ns, o_room, NULL, o_close, o_free, o_data};

static void observers_see_namespaces_rooms_data_closes_and_the_end(void **state) {
  (void)state;
  env_t t;
  seen_t x;
  memset(&x, 0, sizeof x);
  env_init(&t, NULL);
  assert_int_equal(sio_server_observe(t.io, &obs, &x), 0);
  sio_ns_t *chat;
  assert_int_equal(sio_server_of(t.io, "/chat", &chat), 0);
  assert_int_equal(x.namespaces, 1);
  assert_string_equal(x.last_ns, "/chat");
  sio_ns_on_room(sio_server_main(t.io), app_room, &x.app_rooms);

  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  sio_socket_t *s = find_socket(sio_server_main(t.io), sid);
  assert_int_equal(x.rooms_join, 1); /* its own id room */
  assert_int_equal(sio_socket_join(s, "r"), 0);
  assert_int_equal(x.rooms_join, 2);
  assert_true(x.app_rooms >= 2); /* the namespace's listener still runs too */
  assert_int_equal(sio_socket_set_data_json(s, "{\"a\":1}"), 0);
  assert_int_equal(x.data, 1);

  sio_server_stats_t st;
  sio_server_stats(t.io, &st);
  assert_int_equal(st.connections, 1);
  assert_int_equal(st.clients, 1);
  assert_int_equal(st.packets_in, 1);  /* the CONNECT */
  assert_true(st.packets_out >= 1);    /* its answer */
  assert_int_equal(st.bytes_in, 1); /* "0": the Engine.IO message without its "4" */
  assert_true(st.bytes_out >= strlen("0{\"sid\":\"\"}") + SIO__SID_LEN);
  assert_int_equal(mc_feed(&c, "42[\"x\",\"abc\"]"), 0);
  sio_server_stats_t st2;
  sio_server_stats(t.io, &st2);
  assert_int_equal(st2.packets_in, 2);
  assert_int_equal(st2.bytes_in, st.bytes_in + strlen("2[\"x\",\"abc\"]"));

  mc_close(&c);
  assert_int_equal(x.rooms_leave, 2);
  assert_int_equal(x.closes, 1);
  assert_string_equal(x.last_reason, "transport close");
  sio_server_stats(t.io, &st);
  assert_int_equal(st.disconnections, 1);
  assert_int_equal(st.clients, 0);
  assert_int_equal(x.frees, 0);
  env_close(&t);
  assert_int_equal(x.frees, 1);
  mc_free(&c);
}

static void the_observer_table_is_bounded(void **state) {
  (void)state;
  env_t t;
  seen_t x[SIO_SERVER_MAX_OBSERVERS + 1];
  memset(x, 0, sizeof x);
  env_init(&t, NULL);
  for (int i = 0; i < SIO_SERVER_MAX_OBSERVERS; i++) assert_int_equal(sio_server_observe(t.io, &obs, &x[i]), 0);
  assert_int_equal(sio_server_observe(t.io, &obs, &x[SIO_SERVER_MAX_OBSERVERS]), SIO_ELIMIT);
  assert_int_equal(sio_server_unobserve(t.io, &obs, &x[SIO_SERVER_MAX_OBSERVERS]), SIO_ENOTFOUND);
  assert_int_equal(sio_server_unobserve(t.io, &obs, &x[1]), 0);
  assert_int_equal(sio_server_observe(t.io, &obs, &x[SIO_SERVER_MAX_OBSERVERS]), 0);
  env_close(&t);
  assert_int_equal(x[0].frees, 1);
  assert_int_equal(x[1].frees, 0); /* removed before the end */
  assert_int_equal(x[SIO_SERVER_MAX_OBSERVERS].frees, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(observers_see_namespaces_rooms_data_closes_and_the_end),
      cmocka_unit_test(the_observer_table_is_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
