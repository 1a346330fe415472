/*
 * A server with the msgpack parser (sio_server_opts_t.parser = SIO_PARSER_MSGPACK) on the
 * memory transport: the CONNECT answer, an event with an ack id answered with binary, a
 * broadcast whose bytes every receiver gets identical (one encode), the recovery offset
 * as a last str, DISCONNECT, and both parser mismatches closing the connection. The
 * expected bytes are notepack.io's encodings of the same packet objects.
 */
#include "helpers.h"

#include "sio/parser.h"

static void hexb(const char *h, char *out, size_t *n) {
  *n = 0;
  for (; h[0] && h[1]; h += 2) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[(*n)++] = (char)v;
  }
}

static void feed_hex(mc_t *c, const char *h) {
  char b[256];
  size_t n;
  hexb(h, b, &n);
  assert_int_equal(mc_feed_bin(c, b, n), 0);
}

static void expect_hex(mc_t *c, const char *h) {
  char b[256];
  size_t n;
  hexb(h, b, &n);
  mc_expect_bin(c, b, n);
}

/* Takes the binary CONNECT answer and returns its sid. */
static void expect_connect(mc_t *c, char sid[SIO__SID_LEN + 1]) {
  const pkt_t *p = mc_take(c);
  assert_non_null(p);
  assert_true(p->binary);
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *pk = NULL;
  assert_int_equal(sio__decode_msgpack(&d, p->data, p->len, &pk), 0);
  assert_int_equal(pk->type, SIO__PKT_CONNECT);
  assert_string_equal(pk->nsp, "/");
  const char *s = json_string_value(json_object_get(pk->data, "sid"));
  assert_non_null(s);
  assert_int_equal(strlen(s), SIO__SID_LEN);
  memcpy(sid, s, SIO__SID_LEN + 1);
  sio__packet_free(pk);
}

static void mp_connect(env_t *t, mc_t *c, char sid[SIO__SID_LEN + 1]) {
  mc_open(t, c);
  feed_hex(c, "82a47479706500a36e7370a12f"); /* {type:0, nsp:'/'} */
  expect_connect(c, sid);
}

static void ack_back(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)s;
  (*(int *)user)++;
  if (ack) assert_int_equal(sio_ack_send(ack, args), 0);
}

static void msgpack_server_connects_acks_and_broadcasts_once(void **state) {
  (void)state;
  sio_server_opts_t o = env_opts();
  o.parser = SIO_PARSER_MSGPACK;
  env_t t;
  env_init(&t, &o);
  int calls = 0;
  assert_int_equal(sio_ns_on(sio_server_main(t.io), "echo", ack_back, &calls), 0);
  mc_t a, b;
  char sa[SIO__SID_LEN + 1], sb[SIO__SID_LEN + 1];
  mp_connect(&t, &a, sa);
  mp_connect(&t, &b, sb);
  assert_string_not_equal(sa, sb);

  /* {type:2, data:['echo','x',<01 02>], id:3, nsp:'/'} -> {id:3, type:3, data:['x',<01 02>], nsp:'/'} */
  feed_hex(&a, "84a47479706502a46461746193a46563686fa178c4020102a2696403a36e7370a12f");
  assert_int_equal(calls, 1);
  expect_hex(&a, "84a2696403a47479706503a46461746192a178c4020102a36e7370a12f");
  mc_expect_none(&a);

  /* A broadcast with a binary argument: one binary message per receiver, no attachment. */
  sio_args_t *args;
  assert_int_equal(sio_args_new(&args), 0);
  assert_int_equal(sio_args_add_binary(args, "\x09", 1), 0);
  assert_int_equal(sio_ns_emit(sio_server_main(t.io), NULL, "news", args), 2);
  sio_args_free(args);
  expect_hex(&a, "83a47479706502a46461746192a46e657773c40109a36e7370a12f");
  expect_hex(&b, "83a47479706502a46461746192a46e657773c40109a36e7370a12f");
  mc_expect_none(&a);
  mc_expect_none(&b);

  /* A server-side namespace disconnect is a msgpack DISCONNECT. */
  sio_socket_t *s = find_socket(sio_server_main(t.io), sb);
  assert_non_null(s);
  assert_int_equal(sio_socket_disconnect(s, 0), 0);
  expect_hex(&b, "82a47479706501a36e7370a12f");
  env_close(&t);
  mc_free(&a);
  mc_free(&b);
}

static void msgpack_server_appends_the_recovery_offset_as_a_str(void **state) {
  (void)state;
  sio_server_opts_t o = env_opts();
  o.parser = SIO_PARSER_MSGPACK;
  o.recovery.enabled = 1;
  env_t t;
  env_init(&t, &o);
  mc_t c;
  mc_open(&t, &c);
  feed_hex(&c, "82a47479706500a36e7370a12f");
  const pkt_t *p = mc_take(&c);
  assert_non_null(p);
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *pk = NULL;
  assert_int_equal(sio__decode_msgpack(&d, p->data, p->len, &pk), 0);
  const char *sid = json_string_value(json_object_get(pk->data, "sid"));
  assert_non_null(sid);
  assert_non_null(json_string_value(json_object_get(pk->data, "pid")));
  sio_socket_t *s = find_socket(sio_server_main(t.io), sid);
  sio__packet_free(pk);
  assert_non_null(s);
  assert_int_equal(sio_socket_emit(s, "e", NULL), 0);
  p = mc_take(&c);
  assert_non_null(p);
  assert_true(p->binary);
  assert_int_equal(sio__decode_msgpack(&d, p->data, p->len, &pk), 0);
  assert_int_equal(json_array_size(pk->data), 2);
  assert_string_equal(json_string_value(json_array_get(pk->data, 0)), "e");
  assert_true(json_is_string(json_array_get(pk->data, 1))); /* the offset */
  sio__packet_free(pk);
  env_close(&t);
  mc_free(&c);
}

static int closed(void *ctx) { return ((mc_t *)ctx)->closed; }

static void parser_mismatch_closes_the_connection(void **state) {
  (void)state;
  /* A default client ("40" as text) on a msgpack server. */
  sio_server_opts_t o = env_opts();
  o.parser = SIO_PARSER_MSGPACK;
  env_t t;
  env_init(&t, &o);
  mc_t c;
  mc_open(&t, &c);
  assert_int_equal(mc_feed(&c, "40"), 0);
  assert_true(run_until(&t, closed, &c, 1000));
  mc_expect_none(&c);
  assert_int_equal(t.io->mismatch_logged, 1);
  env_close(&t);
  mc_free(&c);

  /* A msgpack client on a default server. */
  env_init(&t, NULL);
  mc_open(&t, &c);
  feed_hex(&c, "82a47479706500a36e7370a12f");
  assert_true(run_until(&t, closed, &c, 1000));
  mc_expect_none(&c);
  assert_int_equal(t.io->mismatch_logged, 1);
  /* Binary garbage is a plain protocol error, not a mismatch. */
  mc_t g;
  mc_open(&t, &g);
  assert_int_equal(mc_feed_bin(&g, "\x01\x02", 2), 0);
  assert_true(run_until(&t, closed, &g, 1000));
  assert_int_equal(t.io->mismatch_logged, 1);
  env_close(&t);
  mc_free(&c);
  mc_free(&g);
}

static void unknown_parser_is_refused(void **state) {
  (void)state;
  uv_loop_t loop;
  sio_http_t *http;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(sio_http_new(&loop, NULL, &http), 0);
  sio_server_opts_t o;
  sio_server_opts_init(&o);
  o.parser = 7;
  sio_server_t *io = NULL;
  assert_int_equal(sio_server_new(http, &o, &io), SIO_EINVAL);
  assert_null(io);
  sio_http_close(http, NULL, NULL);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(msgpack_server_connects_acks_and_broadcasts_once),
      cmocka_unit_test(msgpack_server_appends_the_recovery_offset_as_a_str),
      cmocka_unit_test(parser_mismatch_closes_the_connection),
      cmocka_unit_test(unknown_parser_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
