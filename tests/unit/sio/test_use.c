/*
 * Unit tests of per-packet middlewares (socket.use in socket.io 4.8, sio_socket_use)
 * over the engine's in-memory transport: an event passes, is refused (no handler, the
 * socket's error listeners get the message, nothing goes to the client, its ack is
 * never answered) or is rewritten; several middlewares run in registration order after
 * the onAny listeners; a middleware may answer later while the next events wait in
 * order; and a socket that leaves while an event waits in a middleware frees it.
 */
#include "helpers.h"

/* ---- recording ---- */

typedef struct {
  char log[512];     /* "any:e mw1:e mw2:e h:e(args) err:msg ..." in the order things ran */
  sio_event_mw_t *held[8]; /* events a holding middleware kept */
  size_t nheld;
  int hold;          /* the holding middleware keeps events instead of passing them */
  const char *refuse; /* the refusing middleware refuses this event name */
  int disconnect_on_error;
} rec_t;

static void rec_add(rec_t *r, const char *fmt, ...) {
  size_t n = strlen(r->log);
  if (n && n < sizeof r->log - 1) r->log[n++] = ' ';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->log + n, sizeof r->log - n, fmt, ap);
  va_end(ap);
}

/* Arguments as a JSON array text, for the log. */
static void args_text(const sio_args_t *args, char *out, size_t cap) {
  size_t n = 0;
  out[n++] = '[';
  for (size_t i = 0; i < sio_args_count(args); i++) {
    char *j;
    size_t jl;
    assert_int_equal(sio_args_to_json(args, i, &j, &jl), 0);
    n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", j);
    sio_free(j);
  }
  snprintf(out + n, cap - n, "]");
}

static void on_any(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  (void)s, (void)args;
  rec_add(user, "any:%s", event);
}

static void handler(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  (void)s;
  char a[128];
  args_text(args, a, sizeof a);
  rec_add(user, "h:%s", a);
  if (ack) assert_int_equal(sio_ack_send(ack, args), 0);
}

static void on_error(sio_socket_t *s, const char *message, void *user) {
  rec_t *r = user;
  rec_add(r, "err:%s", message);
  if (r->disconnect_on_error) assert_int_equal(sio_socket_disconnect(s, 0), 0);
}

static void mw1(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw, void *user) {
  (void)s, (void)args;
  rec_add(user, "mw1:%s", event);
  assert_int_equal(sio_event_mw_next(mw, NULL), 0);
}

static void mw2(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw, void *user) {
  (void)s, (void)args;
  rec_add(user, "mw2:%s", event);
  assert_int_equal(sio_event_mw_next(mw, NULL), 0);
}

/* Refuses r->refuse, rewrites "rewrite-me" into ("rewritten", "new", 2), passes the rest. */
static void policy(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw, void *user) {
  rec_t *r = user;
  (void)s, (void)args;
  if (r->refuse && strcmp(event, r->refuse) == 0) {
    assert_int_equal(sio_event_mw_next(mw, "forbidden event"), 0);
    return;
  }
  if (strcmp(event, "rewrite-me") == 0) {
    sio_args_t *a = args_json("[\"new\",2]");
    assert_int_equal(sio_event_mw_rewrite(mw, "rewritten", a), 0);
    sio_args_free(a);
    /* The arguments this middleware got stay valid until it passes the event on. */
    assert_int_equal(sio_args_count(args), 1);
  }
  assert_int_equal(sio_event_mw_next(mw, NULL), 0);
}

/* Keeps every event (answered later by the test) while r->hold is set. */
static void holder(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw, void *user) {
  rec_t *r = user;
  (void)s, (void)args;
  rec_add(r, "hold:%s", event);
  if (!r->hold) {
    assert_int_equal(sio_event_mw_next(mw, NULL), 0);
    return;
  }
  assert_true(r->nheld < 8);
  r->held[r->nheld++] = mw;
}

/* A server whose "/" sockets get handlers for a, b, c, "rewritten" and "forbidden", an
 * onAny listener and an error listener, all logging into r; one client connected. */
typedef struct {
  env_t t;
  mc_t c;
  sio_socket_t *s;
} fx_t;

static void fx_open(fx_t *f, rec_t *r) {
  memset(r, 0, sizeof *r);
  env_init(&f->t, NULL);
  sio_ns_t *ns = sio_server_main(f->t.io);
  static const char *const events[] = {"a", "b", "c", "rewritten", "rewrite-me", "forbidden"};
  for (size_t i = 0; i < sizeof events / sizeof *events; i++) assert_int_equal(sio_ns_on(ns, events[i], handler, r), 0);
  char sid[SIO__SID_LEN + 1];
  mc_connect(&f->t, &f->c, "/", sid);
  f->s = find_socket(ns, sid);
  assert_non_null(f->s);
  assert_int_equal(sio_socket_on_any(f->s, on_any, r), 0);
  assert_int_equal(sio_socket_on_error(f->s, on_error, r), 0);
}

static void fx_close(fx_t *f) {
  env_close(&f->t);
  mc_free(&f->c);
}

/* ---- tests ---- */

static void a_passing_middleware_lets_the_event_and_its_ack_through(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  assert_int_equal(sio_socket_use(f.s, mw1, &r), 0);
  assert_int_equal(mc_feed(&f.c, "425[\"a\",1,{\"k\":\"v\"}]"), 0);
  assert_string_equal(r.log, "any:a mw1:a h:[1,{\"k\":\"v\"}]");
  mc_expect(&f.c, "435[1,{\"k\":\"v\"}]");
  mc_expect_none(&f.c);
  fx_close(&f);
}

static void middlewares_run_in_registration_order_after_on_any(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  assert_int_equal(sio_socket_use(f.s, mw2, &r), 0);
  assert_int_equal(sio_socket_use(f.s, mw1, &r), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"a\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"b\",true]"), 0);
  assert_string_equal(r.log, "any:a mw2:a mw1:a h:[] any:b mw2:b mw1:b h:[true]");
  /* An event nobody handles still goes through them. */
  r.log[0] = '\0';
  assert_int_equal(mc_feed(&f.c, "42[\"nobody\"]"), 0);
  assert_string_equal(r.log, "any:nobody mw2:nobody mw1:nobody");
  fx_close(&f);
}

static void a_refused_event_reaches_the_error_listeners_and_nothing_else(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.refuse = "forbidden";
  rec_t later;
  memset(&later, 0, sizeof later);
  assert_int_equal(sio_socket_use(f.s, policy, &r), 0);
  assert_int_equal(sio_socket_use(f.s, mw1, &later), 0);
  /* With an ack request: the handler does not run, the ack is never answered, the
   * middlewares after the refusing one do not run, and the client gets nothing. */
  assert_int_equal(mc_feed(&f.c, "427[\"forbidden\",\"x\"]"), 0);
  assert_string_equal(r.log, "any:forbidden err:forbidden event");
  assert_string_equal(later.log, "");
  mc_expect_none(&f.c);
  assert_true(sio_socket_connected(f.s));
  /* The socket goes on: the next event passes. */
  assert_int_equal(mc_feed(&f.c, "428[\"a\"]"), 0);
  assert_string_equal(r.log, "any:forbidden err:forbidden event any:a h:[]");
  assert_string_equal(later.log, "mw1:a");
  mc_expect(&f.c, "438[]");
  mc_expect_none(&f.c);
  fx_close(&f);
}

static void a_rewrite_changes_the_event_the_handler_sees(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  assert_int_equal(sio_socket_use(f.s, policy, &r), 0);
  assert_int_equal(sio_socket_use(f.s, mw1, &r), 0);
  assert_int_equal(mc_feed(&f.c, "423[\"rewrite-me\",\"old\"]"), 0);
  /* onAny saw it as sent; the next middleware and the handler ("rewritten") the new one. */
  assert_string_equal(r.log, "any:rewrite-me mw1:rewritten h:[\"new\",2]");
  mc_expect(&f.c, "433[\"new\",2]");
  mc_expect_none(&f.c);
  fx_close(&f);
}

static void rewrite_keeps_what_null_leaves_and_refuses_bad_names(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.hold = 1;
  assert_int_equal(sio_socket_use(f.s, holder, &r), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"a\",1]"), 0);
  assert_int_equal(r.nheld, 1);
  assert_int_equal(sio_event_mw_rewrite(r.held[0], "\xff", NULL), SIO_EINVAL);
  /* Only the arguments; the last rewrite wins. */
  sio_args_t *a = args_json("[\"first\"]"), *b = args_json("[\"second\"]");
  assert_int_equal(sio_event_mw_rewrite(r.held[0], NULL, a), 0);
  assert_int_equal(sio_event_mw_rewrite(r.held[0], NULL, b), 0);
  sio_args_free(a);
  sio_args_free(b);
  assert_int_equal(sio_event_mw_next(r.held[0], NULL), 0);
  assert_string_equal(r.log, "any:a hold:a h:[\"second\"]");
  fx_close(&f);
}

static void binary_arguments_survive_the_copy_into_a_middleware(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.hold = 1;
  assert_int_equal(sio_socket_use(f.s, holder, &r), 0);
  assert_int_equal(mc_feed(&f.c, "451-2[\"a\",{\"_placeholder\":true,\"num\":0}]"), 0);
  assert_int_equal(mc_feed_bin(&f.c, "\x01\x02", 2), 0);
  assert_int_equal(r.nheld, 1);
  assert_int_equal(sio_event_mw_next(r.held[0], NULL), 0);
  assert_string_equal(r.log, "any:a hold:a h:[{\"_placeholder\":true,\"num\":0}]");
  /* The handler answered with the same arguments: the bytes came through. */
  mc_expect(&f.c, "461-2[{\"_placeholder\":true,\"num\":0}]");
  mc_expect_bin(&f.c, "\x01\x02", 2);
  fx_close(&f);
}

static void an_async_middleware_keeps_later_events_waiting_in_order(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.hold = 1;
  r.refuse = "b";
  assert_int_equal(sio_socket_use(f.s, holder, &r), 0);
  assert_int_equal(sio_socket_use(f.s, policy, &r), 0);
  assert_int_equal(mc_feed(&f.c, "421[\"a\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "422[\"b\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "423[\"c\"]"), 0);
  /* onAny ran for each as it arrived; only a is in a middleware. */
  assert_string_equal(r.log, "any:a hold:a any:b any:c");
  assert_int_equal(r.nheld, 1);
  mc_expect_none(&f.c);
  /* Answered later: a reaches its handler, then b enters the middleware and waits. */
  assert_int_equal(sio_event_mw_next(r.held[0], NULL), 0);
  assert_string_equal(r.log, "any:a hold:a any:b any:c h:[] hold:b");
  mc_expect(&f.c, "431[]");
  /* b is refused (asynchronously, by the holder): c follows. */
  r.hold = 0;
  assert_int_equal(sio_event_mw_next(r.held[1], "later"), 0);
  assert_string_equal(r.log, "any:a hold:a any:b any:c h:[] hold:b err:later hold:c h:[]");
  mc_expect(&f.c, "433[]");
  mc_expect_none(&f.c);
  fx_close(&f);
}

static void a_socket_that_leaves_frees_the_events_held_and_waiting(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.hold = 1;
  assert_int_equal(sio_socket_use(f.s, holder, &r), 0);
  sio_socket_t *s = sio_socket_ref(f.s);
  assert_int_equal(mc_feed(&f.c, "421[\"a\",\"x\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"b\",{\"big\":[1,2,3]}]"), 0);
  mc_close(&f.c);
  assert_false(sio_socket_connected(s));
  /* The middleware still holds a: its handle stays usable, and only frees it. */
  assert_int_equal(sio_event_mw_rewrite(r.held[0], "c", NULL), SIO_ECLOSED);
  assert_int_equal(sio_event_mw_next(r.held[0], NULL), SIO_ECLOSED);
  assert_string_equal(r.log, "any:a hold:a any:b");
  assert_int_equal(sio_socket_use(s, mw1, &r), SIO_ECLOSED);
  assert_int_equal(sio_socket_on_error(s, on_error, &r), SIO_ECLOSED);
  sio_socket_unref(s);
  fx_close(&f);
}

static void a_refusal_after_the_socket_left_runs_no_listener(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.hold = 1;
  assert_int_equal(sio_socket_use(f.s, holder, &r), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"a\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "41"), 0);
  assert_int_equal(sio_event_mw_next(r.held[0], "too late"), SIO_ECLOSED);
  assert_string_equal(r.log, "any:a hold:a");
  fx_close(&f);
}

static void an_error_listener_may_disconnect_with_events_waiting(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  r.hold = 1;
  r.refuse = "forbidden";
  r.disconnect_on_error = 1;
  assert_int_equal(sio_socket_use(f.s, holder, &r), 0);
  assert_int_equal(sio_socket_use(f.s, policy, &r), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"a\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"forbidden\"]"), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"c\"]"), 0);
  r.hold = 0;
  /* a passes; forbidden is refused at once, its error listener disconnects the socket,
   * and c, still waiting, is dropped. */
  assert_int_equal(sio_event_mw_next(r.held[0], NULL), 0);
  assert_string_equal(r.log, "any:a hold:a any:forbidden any:c h:[] hold:forbidden err:forbidden event");
  mc_expect(&f.c, "41");
  mc_expect_none(&f.c);
  fx_close(&f);
}

/* A middleware that disconnects the socket itself, then passes: the event is dropped. */
static void kicker(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw, void *user) {
  (void)args;
  rec_add(user, "kick:%s", event);
  assert_int_equal(sio_socket_disconnect(s, 0), 0);
  assert_int_equal(sio_event_mw_next(mw, NULL), SIO_ECLOSED);
}

static void a_middleware_may_disconnect_the_socket(void **state) {
  (void)state;
  fx_t f;
  rec_t r;
  fx_open(&f, &r);
  assert_int_equal(sio_socket_use(f.s, kicker, &r), 0);
  assert_int_equal(mc_feed(&f.c, "42[\"a\"]"), 0);
  assert_string_equal(r.log, "any:a kick:a");
  mc_expect(&f.c, "41");
  mc_expect_none(&f.c);
  fx_close(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_passing_middleware_lets_the_event_and_its_ack_through),
      cmocka_unit_test(middlewares_run_in_registration_order_after_on_any),
      cmocka_unit_test(a_refused_event_reaches_the_error_listeners_and_nothing_else),
      cmocka_unit_test(a_rewrite_changes_the_event_the_handler_sees),
      cmocka_unit_test(rewrite_keeps_what_null_leaves_and_refuses_bad_names),
      cmocka_unit_test(binary_arguments_survive_the_copy_into_a_middleware),
      cmocka_unit_test(an_async_middleware_keeps_later_events_waiting_in_order),
      cmocka_unit_test(a_socket_that_leaves_frees_the_events_held_and_waiting),
      cmocka_unit_test(a_refusal_after_the_socket_left_runs_no_listener),
      cmocka_unit_test(an_error_listener_may_disconnect_with_events_waiting),
      cmocka_unit_test(a_middleware_may_disconnect_the_socket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
