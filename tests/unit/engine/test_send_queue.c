/*
 * Unit tests of max_send_queue (engine/socket.c): a receiver that stopped reading is
 * closed ("transport error") after the broadcast that found it over the limit, never
 * inside it, and the broadcast still reaches the receivers after it; a packet larger than
 * the limit on its own is refused for a healthy receiver, which stays connected. Clients
 * are the engine's in-memory transport; a stalled one keeps what it is sent queued in its
 * session, as a WebSocket or long-poll that nobody reads does.
 */
#include "../sio/helpers.h"

#define NC 3
#define LIMIT 1000

typedef struct {
  env_t t;
  mc_t c[NC];
  char sid[NC][SIO__SID_LEN + 1];
  sio_socket_t *s[NC];
  sio_ns_t *ns;
  int in_emit;        /* the test is inside an emit call */
  int dc_count;       /* disconnect callbacks run */
  int dc_during_emit; /* ... of which inside an emit */
  char reason[64];
} sq_env_t;

static void on_disconnect(sio_socket_t *s, const char *reason, void *user) {
  sq_env_t *q = user;
  (void)s;
  q->dc_count++;
  q->dc_during_emit += q->in_emit;
  snprintf(q->reason, sizeof q->reason, "%s", reason);
}

/* Three clients connected to "/" and in room "r", with max_send_queue = LIMIT. */
static void sq_setup(sq_env_t *q) {
  memset(q, 0, sizeof *q);
  sio_server_opts_t o = env_opts();
  o.engine.max_send_queue = LIMIT;
  env_init(&q->t, &o);
  q->ns = sio_server_main(q->t.io);
  assert_int_equal(sio_ns_on_disconnect(q->ns, on_disconnect, q), 0);
  for (int i = 0; i < NC; i++) {
    mc_connect(&q->t, &q->c[i], "/", q->sid[i]);
    q->s[i] = find_socket(q->ns, q->sid[i]);
    assert_non_null(q->s[i]);
    assert_int_equal(sio_socket_join(q->s[i], "r"), 0);
  }
}

static void sq_teardown(sq_env_t *q) {
  env_close(&q->t);
  for (int i = 0; i < NC; i++) mc_free(&q->c[i]);
}

/* ["m", "<n x's>"]: an event of about n + 10 bytes. */
static sio_args_t *payload(size_t n) {
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  char *x = malloc(n);
  assert_non_null(x);
  memset(x, 'x', n);
  assert_int_equal(sio_args_add_str(a, x, n), 0);
  free(x);
  return a;
}

static int emit_to_room(sq_env_t *q, const sio_args_t *a) {
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  q->in_emit = 1;
  int n = sio_ns_emit(q->ns, &to, "m", a);
  q->in_emit = 0;
  return n;
}

static int disconnected(void *ctx) { return ((sq_env_t *)ctx)->dc_count > 0; }

static void a_slow_consumer_is_closed_after_the_broadcast_not_inside_it(void **state) {
  (void)state;
  sq_env_t q;
  sq_setup(&q);
  /* c[1], in the middle of the room, stops reading. */
  sio__eio_memory_stall(q.c[1].eio, 1);
  sio_args_t *a = payload(300);
  int counts[6];
  for (int i = 0; i < 6; i++) counts[i] = emit_to_room(&q, a);
  sio_args_free(a);
  /* Three packets fit in c[1]'s 1000 bytes; the fourth would not: it is refused and c[1]
   * is doomed, but nothing closed it yet, inside or after the emits of this turn. */
  assert_int_equal(counts[0], 3);
  assert_int_equal(counts[2], 3);
  for (int i = 3; i < 6; i++) assert_int_equal(counts[i], 2);
  assert_int_equal(q.dc_count, 0);
  assert_false(q.c[1].closed);
  /* The receiver after it in the loop got every packet, as did the one before. */
  for (int k = 0; k < 6; k++) {
    assert_non_null(mc_take(&q.c[0]));
    assert_non_null(mc_take(&q.c[2]));
  }
  mc_expect_none(&q.c[0]);
  mc_expect_none(&q.c[2]);
  mc_expect_none(&q.c[1]); /* (stalled: nothing delivered) */
  /* The check phase of this loop turn closes it, with socket.io's reason. */
  assert_true(run_until(&q.t, disconnected, &q, 1000));
  assert_int_equal(q.dc_count, 1);
  assert_int_equal(q.dc_during_emit, 0);
  assert_string_equal(q.reason, "transport error");
  assert_true(q.c[1].closed);
  assert_string_equal(q.c[1].reason, "transport error");
  assert_false(q.c[0].closed);
  assert_false(q.c[2].closed);
  assert_int_equal(sio_ns_room_size(q.ns, "r"), 2);
  sq_teardown(&q);
}

static void a_packet_over_the_limit_is_refused_and_the_receiver_stays(void **state) {
  (void)state;
  sq_env_t q;
  sq_setup(&q);
  sio_args_t *big = payload(2 * LIMIT), *small = payload(10);
  /* To one socket: refused with SIO_ELIMIT. */
  q.in_emit = 1;
  assert_int_equal(sio_socket_emit(q.s[0], "m", big), SIO_ELIMIT);
  q.in_emit = 0;
  /* To the room: nobody gets it. */
  assert_int_equal(emit_to_room(&q, big), 0);
  /* With a binary attachment over the limit: not even the header goes out. */
  sio_args_t *bin;
  assert_int_equal(sio_args_new(&bin), 0);
  char *raw = calloc(1, 2 * LIMIT);
  assert_non_null(raw);
  assert_int_equal(sio_args_add_binary(bin, raw, 2 * LIMIT), 0);
  free(raw);
  assert_int_equal(emit_to_room(&q, bin), 0);
  sio_args_free(bin);
  for (int i = 0; i < NC; i++) mc_expect_none(&q.c[i]);
  /* Several loop turns later everyone is still connected and receives. */
  for (int i = 0; i < 5; i++) uv_run(&q.t.loop, UV_RUN_NOWAIT);
  assert_int_equal(q.dc_count, 0);
  assert_int_equal(emit_to_room(&q, small), NC);
  for (int i = 0; i < NC; i++) {
    assert_false(q.c[i].closed);
    mc_expect(&q.c[i], "42[\"m\",\"xxxxxxxxxx\"]");
  }
  sio_args_free(big);
  sio_args_free(small);
  sq_teardown(&q);
}

/* A doomed session that also gets closed another way before the check phase (here the
 * client goes away) is closed once, and its doomed entry just lets go of it. */
static void a_doomed_session_closed_meanwhile_is_closed_once(void **state) {
  (void)state;
  sq_env_t q;
  sq_setup(&q);
  sio__eio_memory_stall(q.c[1].eio, 1);
  sio_args_t *a = payload(600);
  emit_to_room(&q, a);
  assert_int_equal(emit_to_room(&q, a), 2); /* doomed */
  sio_args_free(a);
  mc_close(&q.c[1]);
  assert_int_equal(q.dc_count, 1);
  assert_string_equal(q.reason, "transport close");
  for (int i = 0; i < 5; i++) uv_run(&q.t.loop, UV_RUN_NOWAIT);
  assert_int_equal(q.dc_count, 1);
  sq_teardown(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_slow_consumer_is_closed_after_the_broadcast_not_inside_it),
      cmocka_unit_test(a_packet_over_the_limit_is_refused_and_the_receiver_stays),
      cmocka_unit_test(a_doomed_session_closed_meanwhile_is_closed_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
