/*
 * OOM injection through a msgpack server (sio_server_opts_t.parser =
 * SIO_PARSER_MSGPACK), as test_oom.c does for the default parser: the counting
 * allocator of oom_hooks.h (jansson pointed at it too, its parser kept out: see
 * test_oom.c) refuses the Nth allocation, N stepping up through one scenario on the
 * memory transport until a run refuses nothing: two clients CONNECT in msgpack, one
 * sends an event with an ack request and a binary argument, the handler broadcasts the
 * arguments to everyone and acks them, the server emits with an ack that the other
 * client answers with binary, a client mismatching the parser is closed, teardown.
 * Every run must end without a crash, with every allocation given back, each ack
 * callback run at most once and only for an emit that returned 0, and the loop closing
 * clean. A second pass refuses every allocation from the Nth on.
 */
#include "common/alloc.h"
#include "oom_hooks.h"
#include "sio/parser.h"

typedef struct {
  sio_socket_t *s[2]; /* referenced in on_connect */
  int nconn, events, acked, cb_calls, cb_status;
} ctx_t;

static void ok_or_nomem(int r) {
  if (r != 0 && r != SIO_ENOMEM) fail_msg("got %s, want 0 or SIO_ENOMEM", sio_err_name(r));
}

static void on_connect(sio_socket_t *s, void *user) {
  ctx_t *x = user;
  if (x->nconn < 2) x->s[x->nconn++] = sio_socket_ref(s);
}

static void on_msg(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  ctx_t *x = user;
  x->events++;
  int r = sio_ns_emit(sio_socket_ns(s), NULL, "relay", args);
  if (r < 0) assert_int_equal(r, SIO_ENOMEM);
  if (ack) {
    r = sio_ack_send(ack, args);
    ok_or_nomem(r);
    x->acked += r == 0;
  }
}

static void cb_answer(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  ctx_t *x = user;
  (void)s, (void)args;
  x->cb_calls++;
  x->cb_status = status;
}

static void feed_hex(mc_t *c, const char *h) {
  char b[256];
  size_t n = 0;
  for (; h[0] && h[1]; h += 2) {
    unsigned v;
    sscanf(h, "%2x", &v);
    b[n++] = (char)v;
  }
  if (c->eio) {
    int r = mc_feed_bin(c, b, n);
    if (r != 0 && r != SIO_ECLOSED) ok_or_nomem(r);
  }
}

/* Every packet the server sent is one well-formed msgpack packet in a binary message. */
static void packets_well_formed(const mc_t *c) {
  for (size_t i = 0; i < c->n; i++) {
    const pkt_t *p = &c->pkts[i];
    if (!p->binary) {
      /* Engine.IO control packets ("6" noop, "1" close) are text. */
      assert_true(p->len == 1);
      continue;
    }
    sio__decoder_t d;
    sio__decoder_init(&d);
    sio__packet_t *pk = NULL;
    long long saved = oom.fail_at;
    oom.fail_at = 0; /* checking, not testing */
    assert_int_equal(sio__decode_msgpack(&d, p->data, p->len, &pk), 0);
    oom.fail_at = saved;
    sio__packet_free(pk);
  }
}

static void run_scenario(void) {
  env_t t;
  ctx_t x;
  memset(&x, 0, sizeof x);
  mc_t a, b, m;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&m, 0, sizeof m);
  int e_ask = SIO_ECLOSED;
  assert_int_equal(uv_loop_init(&t.loop), 0);
  int r = sio_http_new(&t.loop, NULL, &t.http);
  if (r) {
    assert_int_equal(r, SIO_ENOMEM);
    assert_int_equal(uv_loop_close(&t.loop), 0);
    return;
  }
  sio_server_opts_t o;
  sio_server_opts_init(&o);
  o.parser = SIO_PARSER_MSGPACK;
  r = sio_server_new(t.http, &o, &t.io);
  if (r == 0) {
    sio_ns_t *ns = sio_server_main(t.io);
    ok_or_nomem(sio_ns_on_connect(ns, on_connect, &x));
    ok_or_nomem(sio_ns_on(ns, "msg", on_msg, &x));
    mc_try_open(&t, &a);
    mc_try_open(&t, &b);
    mc_try_open(&t, &m);
    feed_hex(&a, "82a47479706500a36e7370a12f"); /* {type:0, nsp:'/'} */
    feed_hex(&b, "83a47479706500a46461746181a17601a36e7370a12f"); /* {type:0, data:{v:1}, nsp:'/'} */
    /* {type:2, data:['msg','x',<01 02>,{k:[1,2]}], id:3, nsp:'/'} */
    feed_hex(&a, "84a47479706502a46461746194a36d7367a178c402010281a16b920102a2696403a36e7370a12f");
    if (x.nconn == 2 && sio_socket_connected(x.s[1])) {
      e_ask = sio_socket_emit_with_ack(x.s[1], "q", NULL, 0, cb_answer, &x);
      ok_or_nomem(e_ask);
      /* {id:0, type:3, data:[<ff>], nsp:'/'} */
      if (e_ask == 0) feed_hex(&b, "84a2696400a47479706503a46461746191c401ffa36e7370a12f");
    }
    if (m.eio) {
      int fr = mc_feed(&m, "40"); /* a default client: closed */
      if (fr != 0 && fr != SIO_ECLOSED) ok_or_nomem(fr);
    }
  } else {
    assert_int_equal(r, SIO_ENOMEM);
  }
  sio_http_close(t.http, NULL, NULL);
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&t.loop), 0);
  /* An ack callback runs at most once, and only for an emit that returned 0; an answered
   * one that did not run was canceled by an OOM close or the teardown. */
  assert_true(x.cb_calls <= 1);
  if (e_ask != 0) assert_int_equal(x.cb_calls, 0);
  else assert_int_equal(x.cb_calls, 1);
  /* The undisturbed run went all the way: both connected, the event handled and acked,
   * the server's question answered. */
  if (oom.refused == 0) {
    assert_int_equal(x.nconn, 2);
    assert_int_equal(x.events, 1);
    assert_int_equal(x.acked, 1);
    assert_int_equal(x.cb_status, 0);
    assert_true(m.closed);
  }
  packets_well_formed(&a);
  packets_well_formed(&b);
  for (int i = 0; i < x.nconn; i++) sio_socket_unref(x.s[i]);
  mc_free(&a);
  mc_free(&b);
  mc_free(&m);
}

static void every_single_allocation_failure_is_survived(void **state) {
  (void)state;
  long long runs = oom_step_through(run_scenario, OUTSIDE_PARSER, 0);
  assert_true(runs > 50);
  printf("# %lld runs, %lld allocations in the undisturbed one\n", runs, oom.n);
}

static void running_out_of_memory_for_good_is_survived(void **state) {
  (void)state;
  assert_true(oom_step_through(run_scenario, OUTSIDE_PARSER, 1) > 50);
}

int main(void) {
  static const sio_allocator_t alloc = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&alloc);
  sio__alloc_share_with_jansson(1);
  sio_log_set_level(SIO_LOG_NONE); /* the mismatch warning, once per run */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_single_allocation_failure_is_survived),
      cmocka_unit_test(running_out_of_memory_for_good_is_survived),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
