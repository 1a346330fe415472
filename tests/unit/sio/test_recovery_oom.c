/*
 * OOM injection through connection-state recovery (test_oom.c's method): a counting
 * allocator refuses the Nth allocation, and N steps upward through one scenario until a
 * run refuses nothing. The scenario: a server with recovery on, two clients, one joins
 * a room and holds an offset, drops; broadcasts (text and binary, to the room, to its
 * id, socket.broadcast) are stored while it is away; it comes back with {pid, offset};
 * then a second drop and return, and teardown. Every run must end without a crash, with
 * every block given back and the loop closing clean; a run either recovers with exactly
 * the missed packets in order or connects fresh (never a recovered socket with a gap).
 * jansson's parser is kept out, for the reason test_oom.c gives.
 */
#include "oom_hooks.h"

/* ---- the scenario ---- */

typedef struct {
  int connects, recovered;
} ctx_t;

static ctx_t x; /* the last run's */
static int for_a[64]; /* e<k> went out and a (in room r or not) should have it */
static int a_in_r;

static void on_connect(sio_socket_t *s, void *user) {
  (void)user;
  x.connects++;
  x.recovered += sio_socket_recovered(s);
}

static void ok_or_nomem(int r) { assert_true(r >= 0 || r == SIO_ENOMEM); }

/* The last packet c got whose text ends with "\"]" (an event with an offset): copies
 * the offset; "" when there is none. */
static void last_offset(const mc_t *c, char off[64]) {
  off[0] = '\0';
  for (size_t i = c->n; i-- > 0;) {
    const pkt_t *p = &c->pkts[i];
    if (p->binary || p->len < 4 || p->data[0] != '4' || (p->data[1] != '2' && p->data[1] != '5')) continue;
    if (memcmp(p->data + p->len - 2, "\"]", 2) != 0) continue;
    const char *q = p->data + p->len - 3;
    while (q > p->data && *q != '"') q--;
    size_t n = (size_t)(p->data + p->len - 2 - (q + 1));
    if (n >= 64) return;
    memcpy(off, q + 1, n);
    off[n] = '\0';
    return;
  }
}

/* The CONNECT answer's pid, or "" (sid "" too) when there is none. */
static void connect_ids(const mc_t *c, char sid[SIO__SID_LEN + 1], char pid[SIO__SID_LEN + 1]) {
  sid[0] = pid[0] = '\0';
  for (size_t i = 0; i < c->n; i++) {
    const pkt_t *p = &c->pkts[i];
    if (p->binary || strncmp(p->data, "40{\"sid\":\"", 10) != 0) continue;
    if (p->len < 10 + SIO__SID_LEN + 9 + SIO__SID_LEN + 2) continue;
    memcpy(sid, p->data + 10, SIO__SID_LEN);
    sid[SIO__SID_LEN] = '\0';
    memcpy(pid, p->data + 10 + SIO__SID_LEN + 9, SIO__SID_LEN);
    pid[SIO__SID_LEN] = '\0';
  }
}

/* A recovered return (the CONNECT answer carries the old sid) must have received the
 * stored events "e<k>" it missed in order, none skipped: between two it saw, every
 * number is one that did not go out (ENOMEM) or was not for it. */
static void replay_has_no_gap(const mc_t *c) {
  int prev = -1;
  for (size_t i = 0; i < c->n; i++) {
    const pkt_t *p = &c->pkts[i];
    int k;
    if (p->binary || (sscanf(p->data, "42[\"e%d\"", &k) != 1 && sscanf(p->data, "451-[\"e%d\"", &k) != 1)) continue;
    for (int j = prev + 1; prev >= 0 && j < k; j++)
      if (for_a[j]) fail_msg("gap in the replay: e%d after e%d, e%d missing", k, prev, j);
    prev = k;
  }
}

static void emit_n(sio_ns_t *ns, const char *room, const char *except, int k) {
  char ev[16];
  snprintf(ev, sizeof ev, "e%d", k);
  const char *rooms[] = {room}, *ex[] = {except};
  sio_broadcast_opts_t to = {rooms, room != NULL, ex, except != NULL, 0};
  sio_args_t *a = NULL;
  if (k % 3 == 0 && sio_args_new(&a) == 0 && sio_args_add_binary(a, "\x01\x02", 2) != 0) {
    sio_args_free(a);
    a = NULL;
  }
  int r = sio_ns_emit(ns, &to, ev, a);
  ok_or_nomem(r);
  if (k < 64) for_a[k] = r >= 0 && (room == NULL || strcmp(room, "r") != 0 || a_in_r);
  sio_args_free(a);
}

static void run_scenario(void) {
  env_t t;
  x = (ctx_t){0, 0};
  memset(for_a, 0, sizeof for_a);
  a_in_r = 0;
  sio_log_set_level(SIO_LOG_NONE);
  assert_int_equal(uv_loop_init(&t.loop), 0);
  if (sio_http_new(&t.loop, NULL, &t.http) != 0) {
    assert_int_equal(uv_loop_close(&t.loop), 0);
    return;
  }
  sio_server_opts_t o;
  sio_server_opts_init(&o);
  o.recovery.enabled = 1;
  o.recovery.max_bytes = 64 << 10;
  if (sio_server_new(t.http, &o, &t.io) != 0) {
    env_close(&t);
    return;
  }
  sio_ns_t *ns = sio_server_main(t.io);
  ok_or_nomem(sio_ns_on_connect(ns, on_connect, NULL));
  mc_t a, b, a2, a3;
  memset(&a2, 0, sizeof a2);
  memset(&a3, 0, sizeof a3);
  if (mc_try_open(&t, &a) != 0) {
    env_close(&t);
    return;
  }
  int have_b = mc_try_open(&t, &b) == 0;
  mc_feed(&a, "40");
  if (have_b) mc_feed(&b, "40");
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], sid2[SIO__SID_LEN + 1], pid2[SIO__SID_LEN + 1], off[64];
  connect_ids(&a, sid, pid);
  sio_socket_t *sa = sid[0] ? find_socket(ns, sid) : NULL;
  if (sa) {
    int r = sio_socket_join(sa, "r");
    ok_or_nomem(r);
    a_in_r = r == 0;
    ok_or_nomem(sio_socket_set_data_json(sa, "{\"n\":1}"));
    ok_or_nomem(sio_socket_emit(sa, "hello", NULL));
  }
  int k = 0;
  emit_n(ns, "r", NULL, k++);
  last_offset(&a, off);
  mc_close(&a);
  /* While a is away: to r, to a's id, everyone, everyone but r (not for a). */
  for (int i = 0; i < 6; i++) {
    emit_n(ns, "r", NULL, k++);
    if (sid[0]) emit_n(ns, sid, NULL, k++);
    emit_n(ns, NULL, NULL, k++);
  }
  ok_or_nomem(sio_ns_emit(ns, &(sio_broadcast_opts_t){NULL, 0, (const char *const[]){"r"}, 1, 0}, "skip", NULL));
  char auth[200];
  snprintf(auth, sizeof auth, "40{\"pid\":\"%s\",\"offset\":\"%s\"}", pid, off);
  if (mc_try_open(&t, &a2) == 0) {
    mc_feed(&a2, auth);
    connect_ids(&a2, sid2, pid2);
    if (sid[0] && strcmp(sid2, sid) == 0) replay_has_no_gap(&a2);
    for (size_t i = 0; a_in_r && i < a2.n; i++)
      assert_true(a2.pkts[i].binary || strncmp(a2.pkts[i].data, "42[\"skip\"", 9) != 0);
    /* Once more: drop and come back. */
    last_offset(&a2, off);
    mc_close(&a2);
    emit_n(ns, NULL, NULL, k++);
    snprintf(auth, sizeof auth, "40{\"pid\":\"%s\",\"offset\":\"%s\"}", pid2, off);
    if (mc_try_open(&t, &a3) == 0) mc_feed(&a3, auth);
  }
  env_close(&t);
  mc_free(&a);
  if (have_b) mc_free(&b);
  mc_free(&a2);
  mc_free(&a3);
}

static void every_single_allocation_failure_in_recovery_is_survived(void **state) {
  (void)state;
  long long runs = oom_step_through(run_scenario, OUTSIDE_PARSER, 0);
  assert_true(runs > 100);
  printf("# %lld runs, %lld allocations in the undisturbed one\n", runs, oom.n);
}

static void running_out_of_memory_for_good_in_recovery_is_survived(void **state) {
  (void)state;
  assert_true(oom_step_through(run_scenario, OUTSIDE_PARSER, 1) > 100);
}

/* The undisturbed run recovers twice (the checks above would pass with no recovery). */
static void the_undisturbed_scenario_recovers(void **state) {
  (void)state;
  oom = (oom_t){.scope = OUTSIDE_PARSER};
  run_scenario();
  assert_int_equal(oom.live, 0);
  assert_int_equal(x.connects, 4);
  assert_int_equal(x.recovered, 2);
}

int main(void) {
  static const sio_allocator_t alloc = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&alloc);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_undisturbed_scenario_recovers),
      cmocka_unit_test(every_single_allocation_failure_in_recovery_is_survived),
      cmocka_unit_test(running_out_of_memory_for_good_in_recovery_is_survived),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
