/*
 * The shortcuts of include/sio/easy.h: sio_args_pack and the emitf family, one-room
 * broadcasts, the (name, len) variants and the 0 / SIO_ENOTFOUND getters, checked on
 * the wire through clients on the in-memory transport.
 */
#include "helpers.h"

/* Argument i of a as JSON text, compared. */
static void expect_arg(const sio_args_t *a, size_t i, const char *want) {
  char *json;
  assert_int_equal(sio_args_to_json(a, i, &json, NULL), 0);
  assert_string_equal(json, want);
  sio_free(json);
}

static void pack_makes_one_argument_per_value(void **state) {
  (void)state;
  sio_args_t *a;
  assert_int_equal(sio_args_pack(&a, "s, i, I, f, b, n, s#, {s:s, s:[i,i]}, s?", "héllo", 42, (json_int_t)1 << 40, 2.5,
                                 1, "abcdef", 3, "room", "r1", "xy", 1, 2, (const char *)NULL),
                   0);
  assert_int_equal(sio_args_count(a), 9);
  expect_arg(a, 0, "\"héllo\"");
  expect_arg(a, 1, "42");
  expect_arg(a, 2, "1099511627776");
  expect_arg(a, 3, "2.5");
  expect_arg(a, 4, "true");
  expect_arg(a, 5, "null");
  expect_arg(a, 6, "\"abc\"");
  expect_arg(a, 7, "{\"room\":\"r1\",\"xy\":[1,2]}");
  expect_arg(a, 8, "null");
  sio_str_t s;
  assert_int_equal(sio_args_get_member_str(a, 7, "room", &s), 0);
  assert_int_equal(s.len, 2);
  /* The one found polarity: absent is SIO_ENOTFOUND, a wrong type SIO_EINVAL. */
  assert_int_equal(sio_args_get_member_str(a, 7, "nope", &s), SIO_ENOTFOUND);
  assert_int_equal(sio_args_get_member_str(a, 7, "xy", &s), SIO_EINVAL);
  assert_int_equal(sio_args_get_member_str_n(a, 7, "roomXX", 4, &s), 0);
  assert_memory_equal(s.ptr, "r1", 2);
  assert_int_equal(sio_args_has_member_n(a, 7, "xyz", 2), 1);
  assert_int_equal(sio_args_has_member_n(a, 7, "x\0y", 3), 0);
  /* Appending keeps what is there; "" appends nothing. */
  assert_int_equal(sio_args_add_pack(a, "[s]", "z"), 0);
  assert_int_equal(sio_args_add_pack(a, ""), 0);
  assert_int_equal(sio_args_count(a), 10);
  expect_arg(a, 9, "[\"z\"]");
  sio_args_free(a);

  assert_int_equal(sio_args_pack(&a, ""), 0);
  assert_int_equal(sio_args_count(a), 0);
  sio_args_free(a);
}

static void pack_refuses_bad_input_and_leaves_args_unchanged(void **state) {
  (void)state;
  sio_args_t *a = NULL;
  assert_int_equal(sio_args_pack(&a, "{s}", "k"), SIO_EINVAL);         /* malformed */
  assert_int_equal(sio_args_pack(&a, "s", (const char *)NULL), SIO_EINVAL);
  assert_int_equal(sio_args_pack(&a, "s", "\xff\xfe"), SIO_EINVAL);    /* not UTF-8 */
  assert_int_equal(sio_args_pack(&a, "{s:b, s:i}", "_placeholder", 1, "num", 0), SIO_EINVAL);
  assert_int_equal(sio_args_pack(&a, NULL), SIO_EINVAL);
  assert_null(a);
  assert_int_equal(sio_args_pack(&a, "i", 1), 0);
  /* All or nothing: the valid first value is not kept when the second fails. */
  assert_int_equal(sio_args_add_pack(a, "s, s", "ok", (const char *)NULL), SIO_EINVAL);
  assert_int_equal(sio_args_add_pack(a, "s, f", "ok", 1.0 / 0.0), SIO_EINVAL);
  assert_int_equal(sio_args_count(a), 1);
  sio_args_free(a);
}

/* ---- on the wire ---- */

typedef struct {
  env_t t;
  mc_t c[3];
  char sid[3][SIO__SID_LEN + 1];
  sio_socket_t *s[3];
  sio_ns_t *ns;
} easy_env_t;

static void setup3(easy_env_t *e) {
  env_init(&e->t, NULL);
  e->ns = sio_server_main(e->t.io);
  for (int i = 0; i < 3; i++) {
    mc_connect(&e->t, &e->c[i], "/", e->sid[i]);
    e->s[i] = find_socket(e->ns, e->sid[i]);
    assert_non_null(e->s[i]);
  }
}

static void teardown3(easy_env_t *e) {
  env_close(&e->t);
  for (int i = 0; i < 3; i++) mc_free(&e->c[i]);
}

static void emitf_and_one_room_broadcasts_reach_the_right_sockets(void **state) {
  (void)state;
  easy_env_t e;
  setup3(&e);
  /* Joined with slices out of a longer buffer, as read from arguments. */
  const char *buf = "lobby-and-more";
  assert_int_equal(sio_socket_join_n(e.s[0], buf, 5), 0);
  assert_int_equal(sio_socket_join_n(e.s[1], buf, 5), 0);
  assert_int_equal(sio_socket_in_n(e.s[0], buf, 5), 1);
  assert_int_equal(sio_socket_in(e.s[0], "lobby"), 1);
  assert_int_equal(sio_socket_in_n(e.s[2], buf, 5), 0);
  assert_int_equal(sio_ns_room_size_n(e.ns, buf, 5), 2);
  assert_int_equal(sio_socket_join_n(e.s[2], "a\0b", 3), SIO_EINVAL);
  assert_int_equal(sio_ns_room_size_n(e.ns, "a\0b", 3), 0);

  assert_int_equal(sio_socket_emitf(e.s[0], "hello", "s, {s:i}", "you", "n", 1), 0);
  mc_expect(&e.c[0], "42[\"hello\",\"you\",{\"n\":1}]");

  /* socket.to(room): the room minus the sender. */
  assert_int_equal(sio_socket_to_emitf(e.s[0], "lobby", "chat", "s", "hi"), 1);
  mc_expect(&e.c[1], "42[\"chat\",\"hi\"]");
  mc_expect_none(&e.c[0]);
  mc_expect_none(&e.c[2]);

  /* io.to(room): the whole room. */
  assert_int_equal(sio_ns_to_emitf(e.ns, "lobby", "news", "i", 7), 2);
  mc_expect(&e.c[0], "42[\"news\",7]");
  mc_expect(&e.c[1], "42[\"news\",7]");
  mc_expect_none(&e.c[2]);

  assert_int_equal(sio_ns_to_emit_n(e.ns, buf, 5, "bare", NULL), 2);
  mc_expect(&e.c[0], "42[\"bare\"]");
  mc_expect(&e.c[1], "42[\"bare\"]");
  assert_int_equal(sio_socket_to_emit_n(e.s[1], buf, 5, "x", NULL), 1);
  mc_expect(&e.c[0], "42[\"x\"]");
  assert_int_equal(sio_socket_emit_n(e.s[2], "evt-tail", 3, NULL), 0);
  mc_expect(&e.c[2], "42[\"evt\"]");
  assert_int_equal(sio_ns_emit_n(e.ns, SIO_TO_ROOM("lobby"), "all!", 3, NULL), 2);
  mc_expect(&e.c[0], "42[\"all\"]");
  mc_expect(&e.c[1], "42[\"all\"]");

  assert_int_equal(sio_server_emitf(e.t.io, "everyone", "b", 0), 3);
  for (int i = 0; i < 3; i++) {
    mc_expect(&e.c[i], "42[\"everyone\",false]");
    mc_expect_none(&e.c[i]);
  }
  /* A packing error sends nothing. */
  assert_int_equal(sio_socket_emitf(e.s[0], "bad", "{s}", "k"), SIO_EINVAL);
  assert_int_equal(sio_socket_to_emit(e.s[0], NULL, "e", NULL), SIO_EINVAL);
  mc_expect_none(&e.c[0]);

  sio_ns_t *chat;
  assert_int_equal(sio_server_of_n(e.t.io, "/chat/extra", 5, &chat), 0);
  assert_string_equal(sio_ns_name(chat), "/chat");

  /* Getters: 0 when found, SIO_ENOTFOUND when not. */
  sio_str_t v;
  assert_int_equal(sio_socket_get_header(e.s[0], "x-not-sent", &v), SIO_ENOTFOUND);
  assert_int_equal(sio_socket_get_auth_str(e.s[0], "token", &v), SIO_ENOTFOUND);
  assert_int_equal(sio_socket_get_header(e.s[0], NULL, &v), SIO_EINVAL);
  teardown3(&e);
}

/* ack_sendf answers with the packed values, and consumes the ack on a packing error. */
static void on_ask(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)s;
  (void)args;
  int *calls = user;
  if ((*calls)++ == 0) assert_int_equal(sio_ack_sendf(ack, "s, i", "ok", 3), 0);
  else assert_int_equal(sio_ack_sendf(ack, "{s}", "k"), SIO_EINVAL);
}

static void ack_sendf_answers_with_packed_values(void **state) {
  (void)state;
  easy_env_t e;
  setup3(&e);
  int calls = 0;
  assert_int_equal(sio_ns_on(e.ns, "ask", on_ask, &calls), 0);
  assert_int_equal(mc_feed(&e.c[0], "421[\"ask\"]"), 0);
  mc_expect(&e.c[0], "431[\"ok\",3]");
  assert_int_equal(mc_feed(&e.c[0], "422[\"ask\"]"), 0);
  mc_expect_none(&e.c[0]);
  assert_int_equal(calls, 2);
  teardown3(&e);
}

/* Handlers registered and acked emits sent with event names as slices. */
static void on_hi(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)s, (void)args, (void)ack;
  (*(int *)user)++;
}

static void on_sock_ack(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  (void)s, (void)status, (void)args, (void)user;
}
static void on_bcast_ack(int status, const sio_args_t *const *responses, size_t n, void *user) {
  (void)status, (void)responses, (void)n, (void)user;
}

static void handlers_and_acked_emits_take_slices(void **state) {
  (void)state;
  easy_env_t e;
  setup3(&e);
  int ns_calls = 0, sock_calls = 0;
  assert_int_equal(sio_ns_on_n(e.ns, "hi-there", 2, on_hi, &ns_calls), 0);
  assert_int_equal(sio_socket_on_n(e.s[1], "yo-yo", 2, on_hi, &sock_calls), 0);
  assert_int_equal(sio_ns_on_n(e.ns, "h\0i", 3, on_hi, &ns_calls), SIO_EINVAL);
  assert_int_equal(mc_feed(&e.c[0], "42[\"hi\"]"), 0);
  assert_int_equal(mc_feed(&e.c[1], "42[\"yo\"]"), 0);
  assert_int_equal(mc_feed(&e.c[0], "42[\"hi-there\"]"), 0); /* only "hi" was registered */
  assert_int_equal(ns_calls, 1);
  assert_int_equal(sock_calls, 1);
  assert_int_equal(sio_socket_emit_with_ack_n(e.s[2], "ping-pong", 4, NULL, 1000, on_sock_ack, NULL), 0);
  mc_expect(&e.c[2], "420[\"ping\"]");
  assert_int_equal(sio_ns_emit_with_ack_n(e.ns, SIO_TO_ROOM(e.sid[0]), "askXX", 3, NULL, 1000, on_bcast_ack, NULL), 1);
  mc_expect(&e.c[0], "421[\"ask\"]");
  sio_str_t v;
  assert_int_equal(sio_socket_get_auth_str_n(e.s[0], "user!", 4, &v), SIO_ENOTFOUND);
  assert_int_equal(sio_socket_get_header_n(e.s[0], "host\0", 5, &v), SIO_EINVAL);
  teardown3(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pack_makes_one_argument_per_value),
      cmocka_unit_test(pack_refuses_bad_input_and_leaves_args_unchanged),
      cmocka_unit_test(emitf_and_one_room_broadcasts_reach_the_right_sockets),
      cmocka_unit_test(ack_sendf_answers_with_packed_values),
      cmocka_unit_test(handlers_and_acked_emits_take_slices),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
