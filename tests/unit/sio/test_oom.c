/*
 * OOM injection (STYLE.md §4.7, after libuv's test-loop-oom.c): a counting allocator
 * installed with sio_set_allocator refuses the Nth allocation, and N steps upward
 * through one whole scenario on the in-memory transport (server set-up, two clients
 * CONNECT and join a room, a client event with an ack request that the handler answers
 * after broadcasting a binary argument to the room, server emits with acks answered,
 * timed out and canceled, a client namespace disconnect, a transport close, teardown)
 * until a run completes with no allocation refused. Every run must end without a
 * crash, with every allocation given back (counted here, and LeakSanitizer at exit),
 * with each ack callback run exactly once for every emit that returned 0, and with the
 * loop closing clean. A second pass refuses every allocation from the Nth on. The
 * scenario also runs a middleware, a CONNECT to an unknown namespace, a broadcast with
 * acks, fetchSockets, socketsJoin, a broadcast to two rooms, a server-side
 * disconnect(true), and a per-packet middleware (socket.use) on every socket that
 * rewrites the event with a copy of its arguments, and holds one event until after its
 * socket left.
 *
 * jansson's parser is kept out of those two passes. jansson 2.14 (Debian bookworm)
 * asserts instead of failing when an allocation fails in its lexer: lex_save() ignores
 * strbuffer_append_byte()'s error, so when the saved text of a number or bare-word
 * token has to grow (at its 16th character, counting the character that ends it:
 * STRBUFFER_MIN_SIZE is 16) and that allocation fails, lex_unget_unsave() pops another
 * character than the one it pushes back and `assert(c == d)` (load.c:255) aborts. One
 * refused allocation is enough: "3.1415926535897" followed by ']' does it. So this
 * test interposes json_loadb and json_loads (the library's only entry points into the
 * parser) to know when jansson is parsing, and refuses nothing then. A third test
 * refuses allocations only inside the parser, on input whose tokens are all short
 * enough that the lexer's buffer never grows, to check that the library turns
 * jansson's OOM into a clean close.
 */
#include "common/alloc.h"
#include "oom_hooks.h"

/* ---- the scenario ---- */

typedef struct {
  char eio_a[SIO__SID_LEN + 1], eio_b[SIO__SID_LEN + 1], eio_c[SIO__SID_LEN + 1];
  sio_socket_t *sa, *sb, *sc; /* referenced in on_connect */
  int mws, connects;
  int events;
  int acked;              /* sio_ack_send returned 0 */
  int cb_answer, cb_timeout, cb_cancel; /* ack callback runs, per emit */
  int st_answer, st_timeout, st_cancel; /* and their statuses */
  int cb_bcast, st_bcast; /* the broadcast with acks */
  size_t n_bcast;
  int cb_fetch;
  size_t n_fetch;
  int e_timeout, e_bcast;    /* results of the emits whose timers the loop runs into */
  int e_multi;               /* the broadcast to two rooms */
  int pmws;                  /* events through the per-packet middleware */
  sio_event_mw_t *held;      /* the "held" event, kept by the middleware */
} ctx_t;

/* The short timers ran out (or their emits failed, or an OOM canceled them first). */
static int timers_done(void *u) {
  const ctx_t *x = u;
  return (x->e_timeout != 0 || x->cb_timeout) && (x->e_bcast < 0 || x->cb_bcast);
}

static void middleware(sio_socket_t *s, sio_mw_t *mw, void *user) {
  ctx_t *x = user;
  (void)s;
  x->mws++;
  assert_int_equal(sio_mw_next(mw, NULL, NULL), 0);
}

static void ok_or_nomem(int r) {
  if (r != 0 && r != SIO_ENOMEM) fail_msg("got %d (%s), want 0 or SIO_ENOMEM", r, sio_err_name(r));
}

/* socket.use: rewrites each event with a copy of its own arguments (the copy allocates,
 * the handler sees the same), keeps "held" for later, passes the rest. */
static void packet_mw(sio_socket_t *s, const char *event, const sio_args_t *args, sio_event_mw_t *mw, void *user) {
  ctx_t *x = user;
  (void)s;
  x->pmws++;
  if (strcmp(event, "held") == 0 && x->held == NULL) {
    x->held = mw;
    return;
  }
  ok_or_nomem(sio_event_mw_rewrite(mw, NULL, args));
  assert_int_equal(sio_event_mw_next(mw, NULL), 0);
}

static void on_connect(sio_socket_t *s, void *user) {
  ctx_t *x = user;
  x->connects++;
  ok_or_nomem(sio_socket_use(s, packet_mw, x));
  /* Either works or fails cleanly; the rest of the scenario copes with both. */
  int r = sio_socket_join(s, "room");
  assert_true(r == 0 || r == SIO_ENOMEM);
  const char *e = sio_socket_engine_id(s);
  if (strcmp(e, x->eio_a) == 0 && x->sa == NULL) x->sa = sio_socket_ref(s);
  if (strcmp(e, x->eio_b) == 0 && x->sb == NULL) x->sb = sio_socket_ref(s);
  if (strcmp(e, x->eio_c) == 0 && x->sc == NULL) x->sc = sio_socket_ref(s);
}

static void on_msg(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  ctx_t *x = user;
  (void)args;
  x->events++;
  sio_args_t *a = NULL;
  int r = sio_args_new(&a);
  if (r == 0) r = sio_args_add_cstr(a, "news");
  if (r == 0) r = sio_args_add_binary(a, "\x01\x02\x03", 3);
  if (r == 0) {
    const char *rooms[] = {"room"};
    sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
    r = sio_socket_broadcast(s, &to, "bcast", a);
    assert_true(r >= 0 || r == SIO_ENOMEM);
  } else {
    assert_int_equal(r, SIO_ENOMEM);
  }
  if (ack) {
    r = sio_ack_send(ack, a); /* a may be NULL: an empty answer */
    assert_true(r == 0 || r == SIO_ENOMEM);
    x->acked += r == 0;
  }
  sio_args_free(a);
}

static void cb_answer(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  ctx_t *x = user;
  (void)s;
  (void)args;
  x->cb_answer++;
  x->st_answer = status;
}

static void cb_timeout(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  ctx_t *x = user;
  (void)s;
  (void)args;
  x->cb_timeout++;
  x->st_timeout = status;
}

static void cb_cancel(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  ctx_t *x = user;
  (void)s;
  (void)args;
  x->cb_cancel++;
  x->st_cancel = status;
}

static void cb_bcast(int status, const sio_args_t *const *responses, size_t n, void *user) {
  ctx_t *x = user;
  (void)responses;
  x->cb_bcast++;
  x->st_bcast = status;
  x->n_bcast = n;
}

static void cb_fetch(int status, sio_socket_t *const *sockets, size_t n, void *user) {
  ctx_t *x = user;
  (void)sockets;
  assert_int_equal(status, 0);
  x->cb_fetch++;
  x->n_fetch = n;
}

/* A call made under OOM: success or a clean SIO_ENOMEM, nothing else. */

/* An emit with ack: 0, SIO_ENOMEM, or SIO_ECLOSED (the socket was lost to an OOM). */
static void emitted(int r) {
  if (r != 0 && r != SIO_ENOMEM && r != SIO_ECLOSED) fail_msg("emit returned %d (%s)", r, sio_err_name(r));
}

/* Feeding: 0, or the session is gone (closed by the server after an OOM) or the copy
 * of the packet could not be made. */
static void fed(int r) {
  if (r != 0 && r != SIO_ENOMEM && r != SIO_ECLOSED) fail_msg("feed returned %d (%s)", r, sio_err_name(r));
}

/* Answers the server's "42<id>[\"<event>\"]" if c received it (it may have been lost
 * to an OOM): the id is read off the packet. */
static void answer(mc_t *c, const char *event, const char *args) {
  char tail[64];
  snprintf(tail, sizeof tail, "[\"%s\"]", event);
  for (size_t i = 0; i < c->n; i++) {
    const pkt_t *p = &c->pkts[i];
    size_t tl = strlen(tail);
    if (p->binary || p->len < 3 + tl || memcmp(p->data, "42", 2) != 0 || strcmp(p->data + p->len - tl, tail) != 0)
      continue;
    char pkt[128];
    snprintf(pkt, sizeof pkt, "43%.*s%s", (int)(p->len - 2 - tl), p->data + 2, args);
    fed(mc_feed(c, pkt));
    return;
  }
}

/* What a client got is whole even when something was not sent: every CONNECT answer
 * carries its sid, every binary packet is followed by its attachment. */
static void packets_well_formed(const mc_t *c) {
  for (size_t i = 0; i < c->n; i++) {
    const pkt_t *p = &c->pkts[i];
    if (p->binary) continue;
    if (p->len >= 2 && memcmp(p->data, "40", 2) == 0 &&
        (p->len != 10 + SIO__SID_LEN + 2 || memcmp(p->data, "40{\"sid\":\"", 10) != 0))
      fail_msg("bad CONNECT answer %s", p->data);
    if (p->len >= 4 && memcmp(p->data, "451-", 4) == 0 && (i + 1 >= c->n || !c->pkts[i + 1].binary))
      fail_msg("%s without its attachment", p->data);
  }
}

/* 1 if c received the text packet want. */
static int mc_got(const mc_t *c, const char *want) {
  for (size_t i = 0; i < c->n; i++) {
    if (!c->pkts[i].binary && c->pkts[i].len == strlen(want) && memcmp(c->pkts[i].data, want, c->pkts[i].len) == 0)
      return 1;
  }
  return 0;
}

/* Feeds a CONNECT. Once it arrived, the client hears about it: an answer (CONNECT or
 * CONNECT_ERROR for that namespace) or the connection closes. A server that could not
 * build or queue the answer used to count the socket connected (or refused) and say
 * nothing, leaving the client waiting. */
static void connect_fed(mc_t *c, const char *pkt) {
  if (c->eio == NULL) return;
  size_t before = c->n;
  int r = mc_feed(c, pkt);
  fed(r);
  if (r != 0 || c->closed) return;
  int nsp = strcmp(pkt, "40/nope,") == 0;
  for (size_t i = before; i < c->n; i++) {
    const char *d = c->pkts[i].data;
    if (c->pkts[i].binary) continue;
    if (nsp ? strncmp(d, "44/nope,{", 9) == 0 : (strncmp(d, "40{", 3) == 0 || strncmp(d, "44{", 3) == 0)) return;
  }
  fail_msg("CONNECT %s: no answer, and the connection is still open", pkt);
}

static void run_scenario(void) {
  env_t t;
  ctx_t x;
  memset(&x, 0, sizeof x);
  mc_t a, b, c;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&c, 0, sizeof c);
  int e_answer = SIO_ECLOSED, e_cancel = SIO_ECLOSED;
  x.e_timeout = SIO_ECLOSED;
  x.e_bcast = SIO_ENOMEM;
  assert_int_equal(uv_loop_init(&t.loop), 0);
  int r = sio_http_new(&t.loop, NULL, &t.http);
  if (r) {
    assert_int_equal(r, SIO_ENOMEM);
    goto loop_only;
  }
  sio_server_opts_t o;
  sio_server_opts_init(&o);
  r = sio_server_new(t.http, &o, &t.io);
  if (r) {
    assert_int_equal(r, SIO_ENOMEM);
    goto close_http;
  }
  sio_ns_t *ns = sio_server_main(t.io);
  ok_or_nomem(sio_ns_use(ns, middleware, &x));
  ok_or_nomem(sio_ns_on_connect(ns, on_connect, &x));
  ok_or_nomem(sio_ns_on(ns, "msg", on_msg, &x));

  /* CONNECT (each joins "room" in on_connect); b also asks for a namespace that does not
   * exist. */
  if (mc_try_open(&t, &a) == 0) snprintf(x.eio_a, sizeof x.eio_a, "%s", sio_eio_id(a.eio));
  if (mc_try_open(&t, &b) == 0) snprintf(x.eio_b, sizeof x.eio_b, "%s", sio_eio_id(b.eio));
  if (mc_try_open(&t, &c) == 0) snprintf(x.eio_c, sizeof x.eio_c, "%s", sio_eio_id(c.eio));
  connect_fed(&a, "40");
  connect_fed(&b, "40");
  connect_fed(&b, "40/nope,");
  connect_fed(&c, "40{\"k\":\"v\"}");

  /* An event with an ack request: a broadcast with a binary argument, then the ack. */
  fed(mc_feed(&a, "421[\"msg\",\"hi\",{\"k\":[1,2]},3.14159265358979323846]"));

  /* Server emits with acks: answered (binary answer), timed out, canceled. */
  if (x.sb) {
    emitted(e_answer = sio_socket_emit_with_ack(x.sb, "q", NULL, 0, cb_answer, &x));
    fed(mc_feed(&b, "461-0[{\"_placeholder\":true,\"num\":0}]"));
    fed(mc_feed_bin(&b, "\xff", 1));
    emitted(x.e_timeout = sio_socket_emit_with_ack(x.sb, "slow", NULL, 1, cb_timeout, &x));
  }
  if (x.sa) emitted(e_cancel = sio_socket_emit_with_ack(x.sa, "never", NULL, 60000, cb_cancel, &x));

  /* A broadcast with acks to the room, answered by a and b (c never answers: it times
   * out when the loop runs below). Then the selection operations. */
  const char *rooms[] = {"room"};
  sio_broadcast_opts_t to_room = {rooms, 1, NULL, 0, 0};
  x.e_bcast = sio_ns_emit_with_ack(ns, &to_room, "poll", NULL, 2, cb_bcast, &x);
  if (x.e_bcast < 0) assert_int_equal(x.e_bcast, SIO_ENOMEM);
  answer(&a, "poll", "[\"a\"]");
  answer(&b, "poll", "[\"b\"]");
  r = sio_ns_fetch_sockets(ns, &to_room, cb_fetch, &x);
  ok_or_nomem(r);
  assert_int_equal(x.cb_fetch, r == 0);
  ok_or_nomem(sio_ns_sockets_join(ns, NULL, "team"));

  /* A broadcast to two rooms (each socket once): its selection grows a list, and a
   * refusal there must come back as SIO_ENOMEM with nobody reached (it wrote through
   * NULL). */
  const char *two[] = {"room", "team"};
  sio_broadcast_opts_t to_two = {two, 2, NULL, 0, 0};
  x.e_multi = sio_ns_emit(ns, &to_two, "multi", NULL);
  if (x.e_multi < 0) assert_int_equal(x.e_multi, SIO_ENOMEM);

  /* Disconnects: a leaves its namespace, c is disconnected by the server (connection
   * closed too), and the 1 and 2 ms timers run out (the 60 s one went with a). */
  fed(mc_feed(&a, "42[\"held\"]"));
  fed(mc_feed(&a, "41"));
  /* Passed after a left (or, when an OOM lost the "41", while it is still there). */
  if (x.held) {
    r = sio_event_mw_next(x.held, NULL);
    assert_true(r == 0 || r == SIO_ECLOSED);
  }
  if (x.sc && sio_socket_connected(x.sc)) assert_int_equal(sio_socket_disconnect(x.sc, 1), 0);
  /* Not uv_run(UV_RUN_DEFAULT): when an OOM kept "41" from arriving, a's 60 s timer is
   * still armed (the shutdown below cancels it). */
  assert_true(run_until(&t, timers_done, &x, 5000));

  /* b goes away. */
  mc_close(&b);

  if (oom.refused == 0) {
    /* The undisturbed run: the whole scenario happened. */
    assert_int_equal(x.mws, 3);
    assert_int_equal(x.connects, 3);
    assert_int_equal(x.events, 1);
    assert_int_equal(x.pmws, 2);
    assert_int_equal(x.acked, 1);
    assert_int_equal(x.st_answer, 0);
    assert_int_equal(x.st_timeout, SIO_ETIMEDOUT);
    assert_int_equal(x.e_bcast, 3);
    assert_int_equal(x.n_fetch, 3);
    assert_int_equal(x.e_multi, 3);
    mc_expect_connect(&a, "/", (char[SIO__SID_LEN + 1]){0});
    mc_expect(&a, "461-1[\"news\",{\"_placeholder\":true,\"num\":0}]");
    mc_expect_bin(&a, "\x01\x02\x03", 3);
    mc_expect(&a, "422[\"never\"]");
    mc_expect(&a, "423[\"poll\"]");
    mc_expect(&a, "42[\"multi\"]");
    mc_expect_none(&a);
    mc_expect_connect(&b, "/", (char[SIO__SID_LEN + 1]){0});
    mc_expect(&b, "44/nope,{\"message\":\"Invalid namespace\"}");
    mc_expect(&b, "451-[\"bcast\",\"news\",{\"_placeholder\":true,\"num\":0}]");
    mc_expect_bin(&b, "\x01\x02\x03", 3);
    mc_expect(&b, "420[\"q\"]");
    mc_expect(&b, "421[\"slow\"]");
    mc_expect(&b, "423[\"poll\"]");
    mc_expect(&b, "42[\"multi\"]");
    mc_expect_none(&b);
    mc_expect_connect(&c, "/", (char[SIO__SID_LEN + 1]){0});
    mc_expect(&c, "451-[\"bcast\",\"news\",{\"_placeholder\":true,\"num\":0}]");
    mc_expect_bin(&c, "\x01\x02\x03", 3);
    mc_expect(&c, "423[\"poll\"]");
    mc_expect(&c, "42[\"multi\"]");
    mc_expect(&c, "41");
    mc_expect_none(&c);
    assert_string_equal(c.reason, "forced close");
  }
  if (x.sa) sio_socket_unref(x.sa);
  if (x.sb) sio_socket_unref(x.sb);
  if (x.sc) sio_socket_unref(x.sc);
close_http:
  sio_http_close(t.http, NULL, NULL);
loop_only:
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&t.loop), 0);
  /* Each ack callback ran exactly once for an emit that was accepted, never otherwise.
   * An OOM may turn an answer or a timeout into SIO_ECANCELED: a connection that cannot
   * take a packet is closed, a packet that cannot be decoded closes it, and a message
   * that cannot be copied in is lost (then the shutdown cancels what waits for it). */
  assert_int_equal(x.cb_answer, e_answer == 0);
  if (e_answer == 0) assert_true(x.st_answer == 0 || x.st_answer == SIO_ECANCELED);
  assert_int_equal(x.cb_timeout, x.e_timeout == 0);
  if (x.e_timeout == 0) assert_true(x.st_timeout == SIO_ETIMEDOUT || x.st_timeout == SIO_ECANCELED);
  assert_int_equal(x.cb_cancel, e_cancel == 0);
  if (e_cancel == 0) assert_int_equal(x.st_cancel, SIO_ECANCELED);
  assert_int_equal(x.cb_bcast, x.e_bcast >= 0);
  if (x.e_bcast >= 0) assert_true(x.st_bcast == SIO_ETIMEDOUT || x.st_bcast == 0);
  if (oom.refused == 0) {
    assert_int_equal(x.st_bcast, SIO_ETIMEDOUT);
    assert_int_equal(x.n_bcast, 2);
  }
  packets_well_formed(&a);
  packets_well_formed(&b);
  packets_well_formed(&c);
  /* A refused broadcast reached nobody. */
  if (x.e_multi == SIO_ENOMEM) {
    assert_false(mc_got(&a, "42[\"multi\"]") || mc_got(&b, "42[\"multi\"]") || mc_got(&c, "42[\"multi\"]"));
  }
  mc_free(&a);
  mc_free(&b);
  mc_free(&c);
}

/* ---- refusals inside the parser ---- */

typedef struct {
  int calls;
  char args[4][32];
  int rc[4];      /* sio_args_to_json's answer for each argument */
  size_t nargs;
  int bin_ok;
} parse_log_t;

static void on_parsed(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  parse_log_t *l = user;
  (void)s;
  l->calls++;
  l->nargs = sio_args_count(args);
  for (size_t i = 0; i < l->nargs && i < 4; i++) {
    char *j = NULL;
    size_t jl;
    if ((l->rc[i] = sio_args_to_json(args, i, &j, &jl)) == 0) snprintf(l->args[i], sizeof l->args[i], "%s", j);
    sio_free(j);
  }
  sio_str_t b;
  l->bin_ok = sio_args_get_binary(args, 0, &b) == 0 && b.len == 2 && memcmp(b.ptr, "\x05\x06", 2) == 0;
  if (ack) sio_ack_send(ack, NULL);
}

/* Every token is under 15 characters: jansson's lexer buffer never grows (see top). A
 * refused allocation must either not matter (the packet arrives whole) or close the
 * connection with "parse error"; a packet is never delivered damaged. A plain event
 * is parsed only when the handler reads an argument as a tree (to_json of an object
 * or of "-5.25"): a refusal then fails that read with SIO_ENOMEM, and only that. */
static void run_parse_scenario(void) {
  env_t t;
  assert_int_equal(uv_loop_init(&t.loop), 0);
  assert_int_equal(sio_http_new(&t.loop, NULL, &t.http), 0);
  assert_int_equal(sio_server_new(t.http, NULL, &t.io), 0);
  sio_ns_t *ns = sio_server_main(t.io);
  parse_log_t text = {0}, bin = {0};
  dc_log_t dc = {0};
  assert_int_equal(sio_ns_on(ns, "msg", on_parsed, &text), 0);
  assert_int_equal(sio_ns_on(ns, "bin", on_parsed, &bin), 0);
  assert_int_equal(sio_ns_on_disconnect(ns, dc_record, &dc), 0);
  mc_t c;
  mc_open(&t, &c);
  fed(mc_feed(&c, "40{\"token\":\"abc\"}"));
  if (sio_ns_count(ns) == 1) {
    char sid[SIO__SID_LEN + 1];
    mc_expect_connect(&c, "/", sid);
    fed(mc_feed(&c, "421[\"msg\",{\"k\":[1,2,\"abc\"]},true,-5.25]"));
    if (text.calls) {
      assert_int_equal(text.calls, 1);
      assert_int_equal(text.nargs, 3);
      static const char *const want[] = {"{\"k\":[1,2,\"abc\"]}", "true", "-5.25"};
      for (int i = 0; i < 3; i++) {
        if (text.rc[i] == SIO_ENOMEM) continue;
        assert_int_equal(text.rc[i], 0);
        assert_string_equal(text.args[i], want[i]);
      }
      mc_expect(&c, "431[]");
      fed(mc_feed(&c, "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]"));
      fed(mc_feed_bin(&c, "\x05\x06", 2));
      if (bin.calls) assert_true(bin.bin_ok);
    }
    if (!text.calls || !bin.calls) {
      assert_true(c.closed);
      assert_int_equal(dc.count, 1);
      assert_string_equal(dc.reason, "parse error");
    }
  } else {
    /* The CONNECT itself did not parse: the session was closed, nobody connected. */
    assert_true(c.closed);
  }
  mc_expect_none(&c);
  env_close(&t);
  mc_free(&c);
}

static void every_single_allocation_failure_is_survived(void **state) {
  (void)state;
  long long runs = oom_step_through(run_scenario, OUTSIDE_PARSER, 0);
  /* The scenario allocates; a run count of 1 would mean the allocator is not in use. */
  assert_true(runs > 100);
  printf("# %lld runs, %lld allocations in the undisturbed one\n", runs, oom.n);
}

static void running_out_of_memory_for_good_is_survived(void **state) {
  (void)state;
  long long runs = oom_step_through(run_scenario, OUTSIDE_PARSER, 1);
  assert_true(runs > 100);
}

static void allocation_failures_in_the_json_parser_close_the_connection(void **state) {
  (void)state;
  long long once = oom_step_through(run_parse_scenario, INSIDE_PARSER, 0);
  long long rest = oom_step_through(run_parse_scenario, INSIDE_PARSER, 1);
  assert_true(once > 5);
  assert_true(rest > 5);
}

int main(void) {
  static const sio_allocator_t alloc = {oom_malloc, oom_realloc, oom_free, NULL};
  /* Before any other libsio call. sio_set_allocator leaves jansson's process-wide
   * allocator alone; this test points jansson at it too, to fail its allocations. */
  sio_set_allocator(&alloc);
  sio__alloc_share_with_jansson(1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_single_allocation_failure_is_survived),
      cmocka_unit_test(running_out_of_memory_for_good_is_survived),
      cmocka_unit_test(allocation_failures_in_the_json_parser_close_the_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
