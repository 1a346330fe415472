/*
 * Unit tests of acknowledgements over the engine's in-memory transport. Client to
 * server: "421[...]" reaches the handler with an ack whose answer is "431[...]" (also
 * retained and answered later, with binary, in a namespace). Server to client:
 * emit_with_ack's callback runs exactly once, on the answer, on the timeout (the loop
 * runs into a short one) or with SIO_ECANCELED when the socket leaves; broadcasts with
 * acks gather every answer.
 */
#include "helpers.h"

/* ---- the server's `done` for a client's ack request ---- */

typedef struct {
  int calls;
  sio_args_t *answer;  /* sent from the handler when set */
  int retain;          /* keep the ack instead */
  sio_ack_t *kept;
  int second_send;     /* the result of a second sio_ack_send in the callback */
  int send_result;
} ack_handler_t;

static void answer_ack(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  ack_handler_t *h = user;
  (void)s;
  (void)args;
  h->calls++;
  if (ack == NULL) return;
  if (h->retain) {
    h->kept = sio_ack_retain(ack);
    return;
  }
  h->send_result = sio_ack_send(ack, h->answer);
  h->second_send = sio_ack_send(ack, h->answer);
}

static void client_ack_request_is_answered_with_an_ack_packet(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ack_handler_t h = {0};
  h.answer = args_json("[2,\"x\",{\"ok\":true}]");
  sio_ns_on(sio_server_main(t.io), "ev", answer_ack, &h);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "421[\"ev\",1]"), 0);
  assert_int_equal(h.calls, 1);
  assert_int_equal(h.send_result, 0);
  mc_expect(&c, "431[2,\"x\",{\"ok\":true}]");
  /* One answer per request: the second is refused and sends nothing. */
  assert_int_equal(h.second_send, SIO_EINVAL);
  mc_expect_none(&c);
  /* Large ids round-trip. */
  assert_int_equal(mc_feed(&c, "429007199254740991[\"ev\"]"), 0);
  mc_expect(&c, "439007199254740991[2,\"x\",{\"ok\":true}]");
  sio_args_free(h.answer);
  env_close(&t);
  mc_free(&c);
}

static void an_empty_answer_is_an_empty_array(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ack_handler_t h = {0};
  sio_ns_on(sio_server_main(t.io), "ev", answer_ack, &h);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "427[\"ev\"]"), 0);
  mc_expect(&c, "437[]");
  mc_expect_none(&c);
  env_close(&t);
  mc_free(&c);
}

static void retained_ack_is_answered_later(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ack_handler_t h = {0};
  h.retain = 1;
  sio_ns_on(sio_server_main(t.io), "ev", answer_ack, &h);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "423[\"ev\"]"), 0);
  mc_expect_none(&c);
  assert_non_null(h.kept);
  sio_args_t *a = args_json("[\"later\"]");
  assert_int_equal(sio_ack_send(h.kept, a), 0);
  mc_expect(&c, "433[\"later\"]");
  /* A retained ack whose socket left is still consumed, with SIO_ECLOSED. */
  assert_int_equal(mc_feed(&c, "424[\"ev\"]"), 0);
  sio_ack_t *stale = h.kept;
  mc_close(&c);
  assert_int_equal(sio_ack_send(stale, a), SIO_ECLOSED);
  sio_args_free(a);
  env_close(&t);
  mc_free(&c);
}

static void retained_ack_may_be_dropped_unanswered(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ack_handler_t h = {0};
  h.retain = 1;
  sio_ns_on(sio_server_main(t.io), "ev", answer_ack, &h);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "420[\"ev\"]"), 0);
  sio_ack_free(h.kept);
  mc_expect_none(&c);
  env_close(&t);
  mc_free(&c);
}

static void ack_with_binary_is_a_binary_ack_followed_by_the_attachment(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  ack_handler_t h = {0};
  assert_int_equal(sio_args_new(&h.answer), 0);
  assert_int_equal(sio_args_add_cstr(h.answer, "f"), 0);
  assert_int_equal(sio_args_add_binary(h.answer, "\x07\x08", 2), 0);
  sio_ns_on(sio_server_main(t.io), "ev", answer_ack, &h);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  assert_int_equal(mc_feed(&c, "425[\"ev\"]"), 0);
  mc_expect(&c, "461-5[\"f\",{\"_placeholder\":true,\"num\":0}]");
  mc_expect_bin(&c, "\x07\x08", 2);
  mc_expect_none(&c);
  sio_args_free(h.answer);
  env_close(&t);
  mc_free(&c);
}

static void ack_in_a_namespace_carries_the_namespace(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *chat;
  assert_int_equal(sio_server_of(t.io, "/chat", &chat), 0);
  ack_handler_t h = {0};
  h.answer = args_json("[true]");
  sio_ns_on(chat, "ev", answer_ack, &h);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/chat", sid);
  assert_int_equal(mc_feed(&c, "42/chat,12[\"ev\"]"), 0);
  mc_expect(&c, "43/chat,12[true]");
  mc_expect_none(&c);
  sio_args_free(h.answer);
  env_close(&t);
  mc_free(&c);
}

/* ---- emit with ack ---- */

typedef struct {
  int calls;
  int status;
  char json[128]; /* the answer's first argument */
  size_t nargs;
  char bin[16];
  size_t bin_len;
  int connected; /* the socket, during the callback */
} emit_ack_log_t;

static void ack_record(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  emit_ack_log_t *l = user;
  l->calls++;
  l->status = status;
  l->nargs = sio_args_count(args);
  l->connected = sio_socket_connected(s);
  l->json[0] = '\0';
  if (l->nargs) {
    char *j;
    size_t jl;
    assert_int_equal(sio_args_to_json(args, 0, &j, &jl), 0);
    snprintf(l->json, sizeof l->json, "%s", j);
    sio_free(j);
    sio_str_t b;
    if (sio_args_get_binary(args, l->nargs - 1, &b) == 0 && b.len <= sizeof l->bin) {
      memcpy(l->bin, b.ptr, b.len);
      l->bin_len = b.len;
    }
  }
}

static void emit_with_ack_runs_the_callback_once_on_the_answer(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  emit_ack_log_t l = {0};
  sio_args_t *a = args_json("[\"q\"]");
  assert_int_equal(sio_socket_emit_with_ack(s, "ask", a, 0, ack_record, &l), 0);
  mc_expect(&c, "420[\"ask\",\"q\"]");
  assert_int_equal(l.calls, 0);
  assert_int_equal(mc_feed(&c, "430[\"answer\",2]"), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, 0);
  assert_int_equal(l.nargs, 2);
  assert_string_equal(l.json, "\"answer\"");
  /* A repeated answer is for an id nobody waits on any more: ignored. */
  assert_int_equal(mc_feed(&c, "430[\"again\"]"), 0);
  assert_int_equal(l.calls, 1);
  assert_false(c.closed);
  /* Ids increase per namespace. */
  assert_int_equal(sio_socket_emit_with_ack(s, "ask", NULL, 0, ack_record, &l), 0);
  mc_expect(&c, "421[\"ask\"]");
  sio_args_free(a);
  env_close(&t);
  mc_free(&c);
}

static void binary_ack_from_the_client_reaches_the_callback_with_the_bytes(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  emit_ack_log_t l = {0};
  assert_int_equal(sio_socket_emit_with_ack(s, "ask", NULL, 0, ack_record, &l), 0);
  mc_expect(&c, "420[\"ask\"]");
  assert_int_equal(mc_feed(&c, "461-0[\"f\",{\"_placeholder\":true,\"num\":0}]"), 0);
  assert_int_equal(l.calls, 0);
  assert_int_equal(mc_feed_bin(&c, "\xca\xfe", 2), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, 0);
  assert_int_equal(l.nargs, 2);
  assert_int_equal(l.bin_len, 2);
  assert_memory_equal(l.bin, "\xca\xfe", 2);
  env_close(&t);
  mc_free(&c);
}

static void emit_with_ack_times_out_once_and_ignores_a_late_answer(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  emit_ack_log_t l = {0};
  assert_int_equal(sio_socket_emit_with_ack(s, "slow", NULL, 10, ack_record, &l), 0);
  mc_expect(&c, "420[\"slow\"]");
  /* The ack timer is the only referenced handle: the loop runs until it fires. */
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, SIO_ETIMEDOUT);
  assert_int_equal(l.nargs, 0);
  assert_true(l.connected);
  assert_int_equal(mc_feed(&c, "430[\"late\"]"), 0);
  assert_int_equal(l.calls, 1);
  assert_false(c.closed);
  env_close(&t);
  mc_free(&c);
}

static void answer_before_the_timeout_stops_the_timer(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  emit_ack_log_t l = {0};
  assert_int_equal(sio_socket_emit_with_ack(s, "fast", NULL, 60000, ack_record, &l), 0);
  assert_int_equal(mc_feed(&c, "430[]"), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, 0);
  /* Nothing is left to wait for: the loop ends at once, without a second call. */
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(l.calls, 1);
  env_close(&t);
  mc_free(&c);
}

static void pending_acks_are_canceled_when_the_socket_leaves(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  sio_socket_t *s = env_one_client(&t, &c, sid);
  emit_ack_log_t with_timeout = {0}, without = {0};
  assert_int_equal(sio_socket_emit_with_ack(s, "a", NULL, 60000, ack_record, &with_timeout), 0);
  assert_int_equal(sio_socket_emit_with_ack(s, "b", NULL, 0, ack_record, &without), 0);
  mc_close(&c);
  assert_int_equal(with_timeout.calls, 1);
  assert_int_equal(with_timeout.status, SIO_ECANCELED);
  assert_int_equal(without.calls, 1);
  assert_int_equal(without.status, SIO_ECANCELED);
  /* The timer went with it: running the loop calls nothing more. */
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(with_timeout.calls, 1);
  env_close(&t);
  mc_free(&c);
}

static void emit_with_ack_on_a_closed_socket_fails_without_a_callback(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  mc_connect(&t, &c, "/", sid);
  sio_socket_t *s = sio_socket_ref(find_socket(sio_server_main(t.io), sid));
  mc_close(&c);
  emit_ack_log_t l = {0};
  assert_int_equal(sio_socket_emit_with_ack(s, "a", NULL, 10, ack_record, &l), SIO_ECLOSED);
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(l.calls, 0);
  sio_socket_unref(s);
  env_close(&t);
  mc_free(&c);
}

/* ---- broadcast with acks ---- */

typedef struct {
  int calls;
  int status;
  size_t n;
  char first[64];
} bcast_log_t;

static void bcast_record(int status, const sio_args_t *const *responses, size_t n, void *user) {
  bcast_log_t *l = user;
  l->calls++;
  l->status = status;
  l->n = n;
  l->first[0] = '\0';
  if (n && sio_args_count(responses[0])) {
    char *j;
    size_t jl;
    assert_int_equal(sio_args_to_json(responses[0], 0, &j, &jl), 0);
    snprintf(l->first, sizeof l->first, "%s", j);
    sio_free(j);
  }
}

static void broadcast_with_ack_gathers_every_answer(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  mc_t a, b;
  char sa[SIO__SID_LEN + 1], sb[SIO__SID_LEN + 1];
  mc_connect(&t, &a, "/", sa);
  mc_connect(&t, &b, "/", sb);
  bcast_log_t l = {0};
  assert_int_equal(sio_ns_emit_with_ack(sio_server_main(t.io), NULL, "poll", NULL, 60000, bcast_record, &l), 2);
  mc_expect(&a, "420[\"poll\"]");
  mc_expect(&b, "420[\"poll\"]");
  assert_int_equal(mc_feed(&b, "430[\"from-b\"]"), 0);
  assert_int_equal(l.calls, 0);
  assert_int_equal(mc_feed(&a, "430[\"from-a\"]"), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, 0);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.first, "\"from-b\""); /* arrival order */
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(l.calls, 1);
  env_close(&t);
  mc_free(&a);
  mc_free(&b);
}

static void broadcast_with_ack_times_out_with_the_answers_so_far(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  mc_t a, b;
  char sa[SIO__SID_LEN + 1], sb[SIO__SID_LEN + 1];
  mc_connect(&t, &a, "/", sa);
  mc_connect(&t, &b, "/", sb);
  bcast_log_t l = {0};
  assert_int_equal(sio_ns_emit_with_ack(sio_server_main(t.io), NULL, "poll", NULL, 10, bcast_record, &l), 2);
  assert_int_equal(mc_feed(&a, "430[1]"), 0);
  /* b leaves without answering: it is still waited for, until the timeout. */
  mc_close(&b);
  assert_int_equal(l.calls, 0);
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, SIO_ETIMEDOUT);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.first, "1");
  env_close(&t);
  mc_free(&a);
  mc_free(&b);
}

static void broadcast_with_ack_and_no_recipient_answers_at_once(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  bcast_log_t l = {0};
  assert_int_equal(sio_ns_emit_with_ack(sio_server_main(t.io), NULL, "poll", NULL, 60000, bcast_record, &l), 0);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, 0);
  assert_int_equal(l.n, 0);
  env_close(&t);
}

static void broadcast_with_ack_is_canceled_by_server_shutdown(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  mc_t a;
  char sa[SIO__SID_LEN + 1];
  mc_connect(&t, &a, "/", sa);
  bcast_log_t l = {0};
  assert_int_equal(sio_ns_emit_with_ack(sio_server_main(t.io), NULL, "poll", NULL, 60000, bcast_record, &l), 1);
  sio_server_shutdown(t.io);
  assert_int_equal(l.calls, 1);
  assert_int_equal(l.status, SIO_ECANCELED);
  env_close(&t);
  assert_int_equal(l.calls, 1);
  mc_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(client_ack_request_is_answered_with_an_ack_packet),
      cmocka_unit_test(an_empty_answer_is_an_empty_array),
      cmocka_unit_test(retained_ack_is_answered_later),
      cmocka_unit_test(retained_ack_may_be_dropped_unanswered),
      cmocka_unit_test(ack_with_binary_is_a_binary_ack_followed_by_the_attachment),
      cmocka_unit_test(ack_in_a_namespace_carries_the_namespace),
      cmocka_unit_test(emit_with_ack_runs_the_callback_once_on_the_answer),
      cmocka_unit_test(binary_ack_from_the_client_reaches_the_callback_with_the_bytes),
      cmocka_unit_test(emit_with_ack_times_out_once_and_ignores_a_late_answer),
      cmocka_unit_test(answer_before_the_timeout_stops_the_timer),
      cmocka_unit_test(pending_acks_are_canceled_when_the_socket_leaves),
      cmocka_unit_test(emit_with_ack_on_a_closed_socket_fails_without_a_callback),
      cmocka_unit_test(broadcast_with_ack_gathers_every_answer),
      cmocka_unit_test(broadcast_with_ack_times_out_with_the_answers_so_far),
      cmocka_unit_test(broadcast_with_ack_and_no_recipient_answers_at_once),
      cmocka_unit_test(broadcast_with_ack_is_canceled_by_server_shutdown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
