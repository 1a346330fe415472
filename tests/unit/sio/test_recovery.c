/*
 * Unit tests of connection-state recovery (src/sio/recovery.c) over the in-memory
 * transport: the CONNECT answer with "pid", offsets appended to stored packets (and not
 * to acked or volatile ones), the restore of id, rooms and data with the missed packets
 * replayed in order before the CONNECT answer and filtered by rooms/except like Node's
 * shouldIncludePacket, and every way to come back as a new socket instead: unknown pid,
 * bad offset, namespace disconnect, packets dropped by the byte cap, the window, the
 * session cap. Offsets are random per server, so the tests read them from the packets.
 */
#include "helpers.h"
#include "sio/recovery.h"

typedef struct {
  env_t t;
  sio_ns_t *ns;
  int connects, recovered_connects;
  char last_data[64];
} rec_env_t;

static void on_connect(sio_socket_t *s, void *user) {
  rec_env_t *r = user;
  r->connects++;
  if (sio_socket_recovered(s)) {
    r->recovered_connects++;
    snprintf(r->last_data, sizeof r->last_data, "%s", sio_socket_get_data_json(s));
  }
}

static void rec_setup(rec_env_t *r, uint64_t window_ms, size_t max_bytes, uint32_t max_sessions) {
  memset(r, 0, sizeof *r);
  sio_server_opts_t o = env_opts();
  o.recovery.enabled = 1;
  o.recovery.max_disconnection_ms = window_ms;
  if (max_bytes) o.recovery.max_bytes = max_bytes;
  if (max_sessions) o.recovery.max_sessions = max_sessions;
  env_init(&r->t, &o);
  r->ns = sio_server_main(r->t.io);
  assert_int_equal(sio_ns_on_connect(r->ns, on_connect, r), 0);
}

/* Takes the CONNECT answer 40{"sid":"<20>","pid":"<20>"}: copies both out. */
static void expect_connect_pid(mc_t *c, char sid[SIO__SID_LEN + 1], char pid[SIO__SID_LEN + 1]) {
  const pkt_t *p = mc_take(c);
  if (p == NULL) fail_msg("no packet, want the CONNECT answer");
  const char *a = "40{\"sid\":\"", *b = "\",\"pid\":\"";
  size_t al = strlen(a), bl = strlen(b);
  if (p->binary || p->len != al + SIO__SID_LEN + bl + SIO__SID_LEN + 2 || memcmp(p->data, a, al) != 0 ||
      memcmp(p->data + al + SIO__SID_LEN, b, bl) != 0 || memcmp(p->data + p->len - 2, "\"}", 2) != 0)
    fail_msg("got %s, want 40{\"sid\":<sid>,\"pid\":<pid>}", p->binary ? "(binary)" : p->data);
  memcpy(sid, p->data + al, SIO__SID_LEN);
  sid[SIO__SID_LEN] = '\0';
  memcpy(pid, p->data + al + SIO__SID_LEN + bl, SIO__SID_LEN);
  pid[SIO__SID_LEN] = '\0';
}

/* Opens c and sends CONNECT with auth (NULL: none); takes the answer. */
static void rc_connect(rec_env_t *r, mc_t *c, const char *auth, char sid[SIO__SID_LEN + 1],
                       char pid[SIO__SID_LEN + 1]) {
  mc_open(&r->t, c);
  char pkt[300];
  snprintf(pkt, sizeof pkt, "40%s", auth ? auth : "");
  assert_int_equal(mc_feed(c, pkt), 0);
  expect_connect_pid(c, sid, pid);
}

/* The next packet is `prefix` + "\"<offset>\"]" (an event whose last argument is its
 * offset): copies the offset into off. */
static void expect_with_offset(mc_t *c, const char *prefix, char off[64]) {
  const pkt_t *p = mc_take(c);
  if (p == NULL) fail_msg("no packet, want %s<offset>]", prefix);
  size_t pl = strlen(prefix);
  if (p->binary || p->len < pl + 4 || memcmp(p->data, prefix, pl) != 0 || p->data[pl] != '"' ||
      memcmp(p->data + p->len - 2, "\"]", 2) != 0 || p->len - pl - 3 >= 64)
    fail_msg("got %s, want %s\"<offset>\"]", p->binary ? "(binary)" : p->data, prefix);
  size_t n = p->len - pl - 3;
  memcpy(off, p->data + pl + 1, n);
  off[n] = '\0';
}

static void auth_of(char out[200], const char *pid, const char *off) {
  snprintf(out, 200, "{\"pid\":\"%s\",\"offset\":\"%s\"}", pid, off);
}

static void emit_to(sio_ns_t *ns, const char *room, const char *except, unsigned flags, const char *event) {
  const char *rooms[] = {room}, *ex[] = {except};
  sio_broadcast_opts_t to = {rooms, room != NULL, ex, except != NULL, flags};
  assert_true(sio_ns_emit(ns, &to, event, NULL) >= 0);
}

/* ---- the CONNECT answer and offsets ---- */

static void connect_answer_carries_a_pid(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 0, 0);
  mc_t c;
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1];
  rc_connect(&r, &c, NULL, sid, pid);
  assert_string_not_equal(sid, pid);
  sio_socket_t *s = find_socket(r.ns, sid);
  assert_non_null(s);
  assert_false(sio_socket_recovered(s));
  env_close(&r.t);
  mc_free(&c);
}

static void ack_answer(sio_socket_t *s, int status, const sio_args_t *args, void *user) {
  (void)s, (void)status, (void)args, (void)user;
}

/* SessionAwareAdapter.broadcast stores event packets without an ack id and not volatile,
 * and socket.emit goes through the socket's own room: those carry an offset, each a
 * new one; acked and volatile packets go out as they would without recovery. */
static void stored_packets_carry_offsets_and_acked_or_volatile_ones_do_not(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 0, 0);
  mc_t c;
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], o1[64], o2[64], o3[64];
  rc_connect(&r, &c, NULL, sid, pid);
  sio_socket_t *s = find_socket(r.ns, sid);
  sio_args_t *a = args_json("[1,\"x\"]");
  assert_int_equal(sio_ns_emit(r.ns, NULL, "m", a), 1);
  expect_with_offset(&c, "42[\"m\",1,\"x\",", o1);
  assert_int_equal(sio_socket_emit(s, "d", NULL), 0);
  expect_with_offset(&c, "42[\"d\",", o2);
  assert_int_equal(sio_server_emit(r.t.io, "e", a), 1);
  expect_with_offset(&c, "42[\"e\",1,\"x\",", o3);
  assert_string_not_equal(o1, o2);
  assert_string_not_equal(o2, o3);
  assert_int_equal(sio_socket_emit_with_ack(s, "k", a, 0, ack_answer, NULL), 0);
  mc_expect(&c, "420[\"k\",1,\"x\"]");
  emit_to(r.ns, NULL, NULL, SIO_BCAST_VOLATILE, "v");
  mc_expect(&c, "42[\"v\"]");
  mc_expect_none(&c);
  sio_args_free(a);
  env_close(&r.t);
  mc_free(&c);
}

/* ---- recovery ---- */

static void bcast_done(int status, const sio_args_t *const *responses, size_t n, void *user) {
  (void)status, (void)responses, (void)n, (void)user;
}

/* c0 is in room "r" with data, holds offset o, and drops ("transport close"). Packets
 * follow for: r, everyone, r from c1 (socket.broadcast), binary to r, c0's own id; and,
 * not for c0: room "other", everyone except r, r from c0's id... as sender exclusion,
 * c1's own id, a volatile one and an acked one (never stored). Coming back with {pid, o}
 * it gets exactly its packets, in order, then the CONNECT answer with the same sid and
 * pid; its rooms and data are back and the connect callbacks ran with recovered set. */
static void a_recovered_socket_gets_id_rooms_data_and_exactly_its_missed_packets(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 0, 0);
  mc_t c0, c1, c0b;
  char sid0[SIO__SID_LEN + 1], pid0[SIO__SID_LEN + 1], sid1[SIO__SID_LEN + 1], pid1[SIO__SID_LEN + 1];
  char off[64], auth[200];
  rc_connect(&r, &c0, NULL, sid0, pid0);
  rc_connect(&r, &c1, NULL, sid1, pid1);
  sio_socket_t *s0 = find_socket(r.ns, sid0), *s1 = find_socket(r.ns, sid1);
  assert_int_equal(sio_socket_join(s0, "r"), 0);
  assert_int_equal(sio_socket_set_data_json(s0, "{\"k\":1}"), 0);
  emit_to(r.ns, "r", NULL, 0, "first");
  expect_with_offset(&c0, "42[\"first\",", off);
  mc_close(&c0);
  assert_null(find_socket(r.ns, sid0));

  emit_to(r.ns, "r", NULL, 0, "a");
  emit_to(r.ns, NULL, NULL, 0, "b");
  emit_to(r.ns, "other", NULL, 0, "x1");
  emit_to(r.ns, NULL, "r", 0, "x2");
  emit_to(r.ns, "r", sid0, 0, "x3");
  emit_to(r.ns, sid1, NULL, 0, "x4");
  emit_to(r.ns, "r", NULL, SIO_BCAST_VOLATILE, "x5");
  assert_true(sio_ns_emit_with_ack(r.ns, NULL, "x6", NULL, 0, bcast_done, NULL) >= 0);
  const char *rr[] = {"r"};
  sio_broadcast_opts_t to_r = {rr, 1, NULL, 0, 0};
  assert_true(sio_socket_broadcast(s1, &to_r, "c", NULL) >= 0);
  sio_args_t *bin;
  assert_int_equal(sio_args_new(&bin), 0);
  assert_int_equal(sio_args_add_binary(bin, "\x00\x01\x02", 3), 0);
  assert_true(sio_ns_emit(r.ns, &to_r, "bin", bin) >= 0);
  sio_args_free(bin);
  emit_to(r.ns, sid0, NULL, 0, "own");

  auth_of(auth, pid0, off);
  mc_open(&r.t, &c0b);
  char pkt[300];
  snprintf(pkt, sizeof pkt, "40%s", auth);
  assert_int_equal(mc_feed(&c0b, pkt), 0);
  char o[64], sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1];
  expect_with_offset(&c0b, "42[\"a\",", o);
  expect_with_offset(&c0b, "42[\"b\",", o);
  expect_with_offset(&c0b, "42[\"c\",", o);
  const pkt_t *p = mc_take(&c0b);
  assert_non_null(p);
  assert_true(strncmp(p->data, "451-[\"bin\",{\"_placeholder\":true,\"num\":0},\"", 42) == 0);
  mc_expect_bin(&c0b, "\x00\x01\x02", 3);
  expect_with_offset(&c0b, "42[\"own\",", o);
  expect_connect_pid(&c0b, sid, pid);
  assert_string_equal(sid, sid0);
  assert_string_equal(pid, pid0);
  mc_expect_none(&c0b);

  sio_socket_t *s = find_socket(r.ns, sid0);
  assert_non_null(s);
  assert_true(sio_socket_recovered(s));
  assert_true(sio_socket_in(s, "r"));
  assert_true(sio_socket_in(s, sid0));
  assert_string_equal(sio_socket_get_data_json(s), "{\"k\":1}");
  assert_int_equal(r.recovered_connects, 1);
  assert_string_equal(r.last_data, "{\"k\":1}");
  /* And it is live in its room again. */
  emit_to(r.ns, "r", NULL, 0, "live");
  expect_with_offset(&c0b, "42[\"live\",", o);
  env_close(&r.t);
  mc_free(&c0);
  mc_free(&c1);
  mc_free(&c0b);
}

/* Fresh socket: new sid, new pid, recovered 0, nothing replayed. */
static void expect_fresh(rec_env_t *r, mc_t *c, const char *auth, const char *old_sid) {
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1];
  rc_connect(r, c, auth, sid, pid);
  if (old_sid) assert_string_not_equal(sid, old_sid);
  sio_socket_t *s = find_socket(r->ns, sid);
  assert_non_null(s);
  assert_false(sio_socket_recovered(s));
}

/* Kept session of one client that got one packet: sid, pid and offset out. */
static void drop_one(rec_env_t *r, mc_t *c, char sid[SIO__SID_LEN + 1], char pid[SIO__SID_LEN + 1], char off[64]) {
  rc_connect(r, c, NULL, sid, pid);
  sio_socket_t *s = find_socket(r->ns, sid);
  assert_int_equal(sio_socket_emit(s, "hi", NULL), 0);
  expect_with_offset(c, "42[\"hi\",", off);
  mc_close(c);
}

static void an_unknown_pid_or_a_bad_offset_gives_a_new_socket(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 0, 0);
  mc_t c[6];
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], off[64], auth[200];
  drop_one(&r, &c[0], sid, pid, off);
  auth_of(auth, "AAAAAAAAAAAAAAAAAAAA", off);
  expect_fresh(&r, &c[1], auth, sid); /* unknown pid: the session is still there */
  snprintf(auth, sizeof auth, "{\"pid\":\"%s\",\"offset\":7}", pid);
  expect_fresh(&r, &c[2], auth, sid); /* offset not a string: Node ignores the pid */
  snprintf(auth, sizeof auth, "{\"pid\":\"%s\"}", pid);
  expect_fresh(&r, &c[3], auth, sid); /* no offset at all (the client got nothing) */
  auth_of(auth, pid, "nope");
  expect_fresh(&r, &c[4], auth, sid); /* not one of our offsets: the session is used up */
  auth_of(auth, pid, off);
  expect_fresh(&r, &c[5], auth, sid); /* a pid serves once */
  assert_int_equal(r.recovered_connects, 0);
  env_close(&r.t);
  for (int i = 0; i < 6; i++) mc_free(&c[i]);
}

/* RECOVERABLE_DISCONNECT_REASONS leave out both namespace disconnects. */
static void a_namespace_disconnect_is_not_kept(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 0, 0);
  mc_t c[4];
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], off[64], auth[200];
  rc_connect(&r, &c[0], NULL, sid, pid);
  assert_int_equal(sio_socket_emit(find_socket(r.ns, sid), "hi", NULL), 0);
  expect_with_offset(&c[0], "42[\"hi\",", off);
  assert_int_equal(mc_feed(&c[0], "41"), 0); /* the client leaves the namespace */
  auth_of(auth, pid, off);
  expect_fresh(&r, &c[1], auth, sid);
  /* The server's side: sio_socket_disconnect. */
  rc_connect(&r, &c[2], NULL, sid, pid);
  assert_int_equal(sio_socket_emit(find_socket(r.ns, sid), "hi", NULL), 0);
  expect_with_offset(&c[2], "42[\"hi\",", off);
  assert_int_equal(sio_socket_disconnect(find_socket(r.ns, sid), 0), 0);
  auth_of(auth, pid, off);
  expect_fresh(&r, &c[3], auth, sid);
  env_close(&r.t);
  for (int i = 0; i < 4; i++) mc_free(&c[i]);
}

/* The byte cap drops the oldest packets; a session whose missed packets are among them
 * comes back fresh, not with a gap, while one that missed only newer packets recovers. */
static void eviction_by_the_byte_cap_means_not_recovered(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 4096, 0);
  mc_t c0, c1, c0b, c1b;
  char sid0[SIO__SID_LEN + 1], pid0[SIO__SID_LEN + 1], off0[64], auth[200];
  char sid1[SIO__SID_LEN + 1], pid1[SIO__SID_LEN + 1], off1[64], o[64];
  drop_one(&r, &c0, sid0, pid0, off0);
  rc_connect(&r, &c1, NULL, sid1, pid1);
#define FILL "0123456789012345678901234567890123456789012345678901234567890123456789"
  sio_args_t *a = args_json("[\"" FILL "\"]");
  for (int i = 0; i < 100; i++) assert_int_equal(sio_ns_emit(r.ns, NULL, "fill", a), 1);
  sio_args_free(a);
  for (int i = 0; i < 100; i++) expect_with_offset(&c1, "42[\"fill\",\"" FILL "\",", off1);
  mc_close(&c1);
  emit_to(r.ns, NULL, NULL, 0, "after");
  auth_of(auth, pid0, off0);
  expect_fresh(&r, &c0b, auth, sid0);
  mc_expect_none(&c0b); /* nothing replayed to a fresh socket */
  auth_of(auth, pid1, off1);
  mc_open(&r.t, &c1b);
  char pkt[300], sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1];
  snprintf(pkt, sizeof pkt, "40%s", auth);
  assert_int_equal(mc_feed(&c1b, pkt), 0);
  expect_with_offset(&c1b, "42[\"after\",", o);
  expect_connect_pid(&c1b, sid, pid);
  assert_string_equal(sid, sid1);
  assert_int_equal(r.recovered_connects, 1);
  env_close(&r.t);
  mc_free(&c0);
  mc_free(&c1);
  mc_free(&c0b);
  mc_free(&c1b);
}

/* A flood of broadcasts never holds more than the cap: the oldest go first, and what is
 * held is the most recent packets (each entry shares the sent bytes, no copy per socket). */
static void a_flood_stays_under_the_byte_cap(void **state) {
  (void)state;
  rec_env_t r;
  const size_t cap = 16384;
  rec_setup(&r, 120000, cap, 0);
  mc_t c[4];
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1];
  for (int i = 0; i < 4; i++) rc_connect(&r, &c[i], NULL, sid, pid);
  sio_args_t *a = args_json("[\"" FILL FILL FILL "\"]");
  size_t bytes = 0, packets = 0, most = 0;
  for (int i = 0; i < 2000; i++) {
    assert_int_equal(sio_ns_emit(r.ns, NULL, "fill", a), 4);
    sio__recovery_stored(r.t.io, &bytes, &packets);
    assert_true(bytes <= cap);
    if (packets > most) most = packets;
  }
  sio_args_free(a);
  /* Each stored packet costs its shared encoded text (~250 bytes here) plus a fixed
   * entry: the cap holds dozens of them, not a handful. */
  assert_true(packets >= cap / 512);
  assert_true(most <= cap / 250);
  env_close(&r.t);
  for (int i = 0; i < 4; i++) mc_free(&c[i]);
}

/* A packet larger than the whole cap is sent (with its offset) but not kept: its
 * receivers can still be recovered, a session that missed it cannot. */
static void a_packet_over_the_cap_is_sent_but_breaks_recovery_of_who_missed_it(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 256, 0);
  mc_t c0, c1, c0b, c1b;
  char sid0[SIO__SID_LEN + 1], pid0[SIO__SID_LEN + 1], off0[64], auth[200];
  char sid1[SIO__SID_LEN + 1], pid1[SIO__SID_LEN + 1], off1[64];
  drop_one(&r, &c0, sid0, pid0, off0);
  rc_connect(&r, &c1, NULL, sid1, pid1);
  char big[400];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_str(a, big, strlen(big)), 0);
  assert_int_equal(sio_ns_emit(r.ns, NULL, "big", a), 1);
  sio_args_free(a);
  char prefix[sizeof big + 16];
  snprintf(prefix, sizeof prefix, "42[\"big\",\"%s\",", big);
  expect_with_offset(&c1, prefix, off1);
  mc_close(&c1);
  auth_of(auth, pid0, off0);
  expect_fresh(&r, &c0b, auth, sid0);
  auth_of(auth, pid1, off1);
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1];
  rc_connect(&r, &c1b, auth, sid, pid);
  assert_string_equal(sid, sid1);
  assert_int_equal(r.recovered_connects, 1);
  env_close(&r.t);
  mc_free(&c0);
  mc_free(&c1);
  mc_free(&c0b);
  mc_free(&c1b);
}

static int never(void *ctx) {
  (void)ctx;
  return 0;
}

/* Past maxDisconnectionDuration the session is gone. */
static void a_session_past_the_window_is_not_recovered(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 20, 0, 0);
  mc_t c0, c0b;
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], off[64], auth[200];
  drop_one(&r, &c0, sid, pid, off);
  run_until(&r.t, never, NULL, 60);
  auth_of(auth, pid, off);
  expect_fresh(&r, &c0b, auth, sid);
  env_close(&r.t);
  mc_free(&c0);
  mc_free(&c0b);
}

/* Within the window it is recovered, after the timers ran (the packets aged out by
 * then do not matter: nothing after the client's offset was dropped). */
static void a_session_within_the_window_is_recovered(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 400, 0, 0);
  mc_t c0, c0b;
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], off[64], auth[200], s2[SIO__SID_LEN + 1], p2[SIO__SID_LEN + 1];
  drop_one(&r, &c0, sid, pid, off);
  run_until(&r.t, never, NULL, 30);
  auth_of(auth, pid, off);
  rc_connect(&r, &c0b, auth, s2, p2);
  assert_string_equal(s2, sid);
  assert_true(sio_socket_recovered(find_socket(r.ns, sid)));
  env_close(&r.t);
  mc_free(&c0);
  mc_free(&c0b);
}

/* Past max_sessions the oldest kept session goes first. */
static void the_oldest_session_goes_past_the_session_cap(void **state) {
  (void)state;
  rec_env_t r;
  rec_setup(&r, 120000, 0, 1);
  mc_t c[4];
  char sa[SIO__SID_LEN + 1], pa[SIO__SID_LEN + 1], oa[64], sb[SIO__SID_LEN + 1], pb[SIO__SID_LEN + 1], ob[64];
  char auth[200], s[SIO__SID_LEN + 1], p[SIO__SID_LEN + 1];
  drop_one(&r, &c[0], sa, pa, oa);
  drop_one(&r, &c[1], sb, pb, ob);
  auth_of(auth, pa, oa);
  expect_fresh(&r, &c[2], auth, sa);
  auth_of(auth, pb, ob);
  rc_connect(&r, &c[3], auth, s, p);
  assert_string_equal(s, sb);
  assert_int_equal(r.recovered_connects, 1);
  env_close(&r.t);
  for (int i = 0; i < 4; i++) mc_free(&c[i]);
}

/* skipMiddlewares false: the middlewares run for a recovered socket, which reads
 * recovered already. */
static int mw_calls, mw_saw_recovered;
static void counting_mw(sio_socket_t *s, sio_mw_t *mw, void *user) {
  (void)user;
  mw_calls++;
  mw_saw_recovered += sio_socket_recovered(s);
  sio_mw_next(mw, NULL, NULL);
}

static void middlewares_run_for_a_recovered_socket_unless_skipped(void **state) {
  (void)state;
  rec_env_t r;
  memset(&r, 0, sizeof r);
  sio_server_opts_t o = env_opts();
  o.recovery.enabled = 1;
  o.recovery.skip_middlewares = 0;
  env_init(&r.t, &o);
  r.ns = sio_server_main(r.t.io);
  mw_calls = mw_saw_recovered = 0;
  assert_int_equal(sio_ns_use(r.ns, counting_mw, NULL), 0);
  mc_t c[2];
  char sid[SIO__SID_LEN + 1], pid[SIO__SID_LEN + 1], off[64], auth[200], s2[SIO__SID_LEN + 1], p2[SIO__SID_LEN + 1];
  drop_one(&r, &c[0], sid, pid, off);
  auth_of(auth, pid, off);
  rc_connect(&r, &c[1], auth, s2, p2);
  assert_string_equal(s2, sid);
  assert_int_equal(mw_calls, 2);
  assert_int_equal(mw_saw_recovered, 1);
  env_close(&r.t);
  mc_free(&c[0]);
  mc_free(&c[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(connect_answer_carries_a_pid),
      cmocka_unit_test(stored_packets_carry_offsets_and_acked_or_volatile_ones_do_not),
      cmocka_unit_test(a_recovered_socket_gets_id_rooms_data_and_exactly_its_missed_packets),
      cmocka_unit_test(an_unknown_pid_or_a_bad_offset_gives_a_new_socket),
      cmocka_unit_test(a_namespace_disconnect_is_not_kept),
      cmocka_unit_test(eviction_by_the_byte_cap_means_not_recovered),
      cmocka_unit_test(a_flood_stays_under_the_byte_cap),
      cmocka_unit_test(a_packet_over_the_cap_is_sent_but_breaks_recovery_of_who_missed_it),
      cmocka_unit_test(a_session_past_the_window_is_not_recovered),
      cmocka_unit_test(a_session_within_the_window_is_recovered),
      cmocka_unit_test(the_oldest_session_goes_past_the_session_cap),
      cmocka_unit_test(middlewares_run_for_a_recovered_socket_unless_skipped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
