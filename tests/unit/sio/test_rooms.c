/*
 * Unit tests of rooms and broadcasts over the engine's in-memory transport: join,
 * leave, to/except selections, socket.broadcast, the own-id room, the rooms seen while
 * disconnecting, and the selection operations (fetchSockets, socketsJoin/Leave,
 * disconnectSockets). Each test checks that exactly the right clients got exactly the
 * expected packets.
 */
#include "helpers.h"

#define NC 3

typedef struct {
  env_t t;
  mc_t c[NC];
  char sid[NC][SIO__SID_LEN + 1];
  sio_socket_t *s[NC]; /* borrowed: connected while the test uses them */
  sio_ns_t *ns;
} room_env_t;

/* Three clients connected to "/": c[0], c[1], c[2]. */
static void rooms_setup(room_env_t *r) {
  env_init(&r->t, NULL);
  r->ns = sio_server_main(r->t.io);
  for (int i = 0; i < NC; i++) {
    mc_connect(&r->t, &r->c[i], "/", r->sid[i]);
    r->s[i] = find_socket(r->ns, r->sid[i]);
    assert_non_null(r->s[i]);
  }
}

static void rooms_teardown(room_env_t *r) {
  env_close(&r->t);
  for (int i = 0; i < NC; i++) mc_free(&r->c[i]);
}

/* Client i got exactly want (NULL: nothing). */
static void expect_only(room_env_t *r, int i, const char *want) {
  if (want) mc_expect(&r->c[i], want);
  mc_expect_none(&r->c[i]);
}

static void room_emit_reaches_exactly_its_members(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  assert_int_equal(sio_socket_join(r.s[0], "r"), 0);
  assert_int_equal(sio_socket_join(r.s[1], "r"), 0);
  assert_int_equal(sio_socket_join(r.s[1], "r"), 0); /* joining twice is one membership */
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 2);
  assert_true(sio_socket_in(r.s[0], "r"));
  assert_false(sio_socket_in(r.s[2], "r"));
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_args_t *a = args_json("[1]");
  assert_int_equal(sio_ns_emit(r.ns, &to, "m", a), 2);
  expect_only(&r, 0, "42[\"m\",1]");
  expect_only(&r, 1, "42[\"m\",1]");
  expect_only(&r, 2, NULL);
  sio_args_free(a);
  rooms_teardown(&r);
}

/* One user must never read another's private messages: a socket's own id room can be
 * joined by nobody else, directly or through socketsJoin, and the refusal has no effect. */
static void another_sockets_id_room_cannot_be_joined(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  assert_int_equal(sio_socket_join(r.s[1], r.sid[0]), SIO_EPERM);
  assert_false(sio_socket_in(r.s[1], r.sid[0]));
  assert_int_equal(sio_ns_room_size(r.ns, r.sid[0]), 1);
  const char *rooms[] = {r.sid[2]};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_ns_sockets_join(r.ns, &to, r.sid[0]); /* c[2] into c[0]'s room: refused */
  assert_false(sio_socket_in(r.s[2], r.sid[0]));
  /* A private emit still reaches its owner alone. */
  const char *own[] = {r.sid[0]};
  sio_broadcast_opts_t to_own = {own, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(r.ns, &to_own, "p", NULL), 1);
  expect_only(&r, 0, "42[\"p\"]");
  expect_only(&r, 1, NULL);
  expect_only(&r, 2, NULL);
  /* The owner itself may leave and re-join its room. */
  assert_int_equal(sio_socket_leave(r.s[0], r.sid[0]), 0);
  assert_int_equal(sio_socket_join(r.s[0], r.sid[0]), 0);
  rooms_teardown(&r);
}

static void rooms_per_socket_are_capped_without_counting_the_own_room(void **state) {
  (void)state;
  room_env_t r;
  sio_server_opts_t o = env_opts();
  o.max_rooms_per_socket = 2;
  env_init(&r.t, &o);
  r.ns = sio_server_main(r.t.io);
  mc_connect(&r.t, &r.c[0], "/", r.sid[0]);
  r.s[0] = find_socket(r.ns, r.sid[0]);
  assert_int_equal(sio_socket_join(r.s[0], "a"), 0);
  assert_int_equal(sio_socket_join(r.s[0], "b"), 0);
  assert_int_equal(sio_socket_join(r.s[0], "b"), 0); /* already in: not a new room */
  assert_int_equal(sio_socket_join(r.s[0], "c"), SIO_ELIMIT);
  assert_false(sio_socket_in(r.s[0], "c"));
  assert_int_equal(sio_ns_room_size(r.ns, "c"), 0);
  assert_int_equal(sio_socket_leave(r.s[0], "a"), 0);
  assert_int_equal(sio_socket_join(r.s[0], "c"), 0);
  env_close(&r.t);
  mc_free(&r.c[0]);
}

typedef struct {
  char log[512];
} room_log_t;

static void log_room(sio_ns_t *ns, const sio_room_event_t *ev, void *u) {
  (void)ns;
  room_log_t *l = u;
  static const char *const names[] = {"?", "create", "delete", "join", "leave"};
  if (ev->is_sid) return;
  size_t n = strlen(l->log);
  snprintf(l->log + n, sizeof l->log - n, "%s %.*s %zu%s;", names[ev->type], (int)ev->room.len, ev->room.ptr, ev->size,
           ev->socket_id ? "" : " -");
}

static void room_events_report_every_change(void **state) {
  (void)state;
  room_env_t r;
  room_log_t l = {{0}};
  rooms_setup(&r);
  sio_ns_on_room(r.ns, log_room, &l);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  sio_socket_join(r.s[1], "r"); /* no change: no event */
  sio_socket_leave(r.s[0], "r");
  sio_socket_leave(r.s[0], "r");
  sio_socket_disconnect(r.s[1], 0); /* leaving by disconnect reports too */
  assert_string_equal(l.log, "create r 0 -;join r 1;join r 2;leave r 1;leave r 0;delete r 0 -;");
  rooms_teardown(&r);
}

static void except_removes_the_members_of_excepted_rooms(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  sio_socket_join(r.s[1], "x");
  const char *rooms[] = {"r"}, *except[] = {"x"};
  /* Everyone but the members of r. */
  sio_broadcast_opts_t all_but_r = {NULL, 0, rooms, 1, 0};
  assert_int_equal(sio_ns_emit(r.ns, &all_but_r, "a", NULL), 1);
  expect_only(&r, 0, NULL);
  expect_only(&r, 1, NULL);
  expect_only(&r, 2, "42[\"a\"]");
  /* Members of r but not of x. */
  sio_broadcast_opts_t r_but_x = {rooms, 1, except, 1, 0};
  assert_int_equal(sio_ns_emit(r.ns, &r_but_x, "b", NULL), 1);
  expect_only(&r, 0, "42[\"b\"]");
  expect_only(&r, 1, NULL);
  expect_only(&r, 2, NULL);
  rooms_teardown(&r);
}

static void a_member_of_several_target_rooms_gets_the_packet_once(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "r1");
  sio_socket_join(r.s[0], "r2");
  sio_socket_join(r.s[1], "r2");
  const char *rooms[] = {"r1", "r2", "nobody"};
  sio_broadcast_opts_t to = {rooms, 3, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(r.ns, &to, "once", NULL), 2);
  expect_only(&r, 0, "42[\"once\"]");
  expect_only(&r, 1, "42[\"once\"]");
  expect_only(&r, 2, NULL);
  rooms_teardown(&r);
}

static void socket_broadcast_reaches_the_room_but_not_the_sender(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_socket_broadcast(r.s[0], &to, "hi", NULL), 1);
  expect_only(&r, 0, NULL);
  expect_only(&r, 1, "42[\"hi\"]");
  expect_only(&r, 2, NULL);
  /* No rooms: everyone else in the namespace. */
  assert_int_equal(sio_socket_broadcast(r.s[0], NULL, "all", NULL), 2);
  expect_only(&r, 0, NULL);
  expect_only(&r, 1, "42[\"all\"]");
  expect_only(&r, 2, "42[\"all\"]");
  rooms_teardown(&r);
}

/* socket.broadcast.except(...) with a long list: it used to be refused (SIO_EINVAL) from
 * 64 rooms on, a limit the header did not mention. */
static void socket_broadcast_takes_any_number_of_except_rooms(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  char names[100][8];
  const char *except[100];
  for (int i = 0; i < 100; i++) {
    snprintf(names[i], sizeof names[i], "x%d", i);
    except[i] = names[i];
  }
  sio_socket_join(r.s[1], "x99"); /* the last one counts too */
  sio_broadcast_opts_t to = {NULL, 0, except, 100, 0};
  assert_int_equal(sio_socket_broadcast(r.s[0], &to, "hi", NULL), 1);
  expect_only(&r, 0, NULL);
  expect_only(&r, 1, NULL);
  expect_only(&r, 2, "42[\"hi\"]");
  rooms_teardown(&r);
}

static void broadcast_with_binary_sends_text_then_attachment_to_each_member(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[1], "r");
  sio_socket_join(r.s[2], "r");
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_binary(a, "\x00\x01\x02", 3), 0);
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(r.ns, &to, "bin", a), 2);
  sio_args_free(a);
  expect_only(&r, 0, NULL);
  for (int i = 1; i < NC; i++) {
    mc_expect(&r.c[i], "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]");
    mc_expect_bin(&r.c[i], "\x00\x01\x02", 3);
    mc_expect_none(&r.c[i]);
  }
  rooms_teardown(&r);
}

static void leave_stops_delivery_and_an_empty_room_goes_away(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  assert_int_equal(sio_socket_leave(r.s[0], "r"), 0);
  assert_int_equal(sio_socket_leave(r.s[0], "never-joined"), 0);
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 1);
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(r.ns, &to, "m", NULL), 1);
  expect_only(&r, 0, NULL);
  expect_only(&r, 1, "42[\"m\"]");
  sio_socket_leave(r.s[1], "r");
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 0);
  assert_int_equal(sio_ns_emit(r.ns, &to, "m", NULL), 0);
  for (int i = 0; i < NC; i++) expect_only(&r, i, NULL);
  assert_null(sio__adapter_room(r.ns, "r", 1));
  rooms_teardown(&r);
}

typedef struct {
  size_t rooms, sid_rooms, public_rooms;
} rooms_count_t;

static void count_rooms(sio_str_t room, size_t size, int is_sid, void *u) {
  rooms_count_t *c = u;
  (void)room;
  (void)size;
  c->rooms++;
  if (is_sid) c->sid_rooms++;
  else c->public_rooms++;
}

static void every_socket_is_alone_in_its_own_id_room(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "lobby");
  for (int i = 0; i < NC; i++) {
    assert_true(sio_socket_in(r.s[i], r.sid[i]));
    assert_int_equal(sio_ns_room_size(r.ns, r.sid[i]), 1);
  }
  assert_int_equal(sio_socket_rooms(r.s[0], NULL, NULL), 2);
  rooms_count_t rc = {0};
  sio_ns_rooms(r.ns, count_rooms, &rc);
  assert_int_equal(rc.rooms, 4);
  assert_int_equal(rc.sid_rooms, 3);
  assert_int_equal(rc.public_rooms, 1);
  /* io.to(socketId) reaches that socket only. */
  const char *rooms[] = {r.sid[2]};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(r.ns, &to, "dm", NULL), 1);
  expect_only(&r, 0, NULL);
  expect_only(&r, 1, NULL);
  expect_only(&r, 2, "42[\"dm\"]");
  rooms_teardown(&r);
}

static void a_socket_can_leave_and_rejoin_its_own_room(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  /* Alone: leaving removes the room. */
  assert_int_equal(sio_socket_leave(r.s[0], r.sid[0]), 0);
  assert_false(sio_socket_in(r.s[0], r.sid[0]));
  assert_null(sio__adapter_room(r.ns, r.sid[0], SIO__SID_LEN));
  assert_int_equal(sio_socket_join(r.s[0], r.sid[0]), 0);
  assert_int_equal(sio_ns_room_size(r.ns, r.sid[0]), 1);
  rooms_count_t rc = {0};
  sio_ns_rooms(r.ns, count_rooms, &rc);
  assert_int_equal(rc.sid_rooms, 3);
  /* While it is out, the name is still nobody else's. */
  assert_int_equal(sio_socket_leave(r.s[0], r.sid[0]), 0);
  assert_int_equal(sio_socket_join(r.s[2], r.sid[0]), SIO_EPERM);
  assert_null(sio__adapter_room(r.ns, r.sid[0], SIO__SID_LEN));
  assert_int_equal(sio_socket_join(r.s[0], r.sid[0]), 0);
  const char *rooms[] = {r.sid[0]};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(r.ns, &to, "m", NULL), 1);
  expect_only(&r, 0, "42[\"m\"]");
  expect_only(&r, 1, NULL);
  expect_only(&r, 2, NULL);
  rooms_teardown(&r);
}

/* Many rooms per socket and many members per room: the inline first entries move to
 * arrays and back to consistent indexes through swap-removes. */
static void memberships_stay_consistent_across_many_joins_and_leaves(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  char name[16];
  for (int k = 0; k < 9; k++) {
    snprintf(name, sizeof name, "r%d", k);
    for (int i = 0; i < NC; i++) assert_int_equal(sio_socket_join(r.s[i], name), 0);
  }
  for (int k = 0; k < 9; k += 2) {
    snprintf(name, sizeof name, "r%d", k);
    assert_int_equal(sio_socket_leave(r.s[1], name), 0);
  }
  assert_int_equal(sio_socket_rooms(r.s[0], NULL, NULL), 10);
  assert_int_equal(sio_socket_rooms(r.s[1], NULL, NULL), 5);
  for (int k = 0; k < 9; k++) {
    snprintf(name, sizeof name, "r%d", k);
    assert_int_equal(sio_ns_room_size(r.ns, name), k % 2 ? 3 : 2);
    assert_int_equal(sio_socket_in(r.s[1], name), k % 2);
    const char *rooms[] = {name};
    sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
    assert_int_equal(sio_ns_emit(r.ns, &to, "m", NULL), k % 2 ? 3 : 2);
    expect_only(&r, 0, "42[\"m\"]");
    expect_only(&r, 1, k % 2 ? "42[\"m\"]" : NULL);
    expect_only(&r, 2, "42[\"m\"]");
  }
  mc_close(&r.c[1]);
  assert_int_equal(sio_ns_room_size(r.ns, "r1"), 2);
  rooms_teardown(&r);
}

/* disconnecting: the leaving socket tells its room. */
static void tell_room(sio_socket_t *s, const char *reason, void *user) {
  dc_record(s, reason, user);
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  sio_socket_broadcast(s, &to, "bye", NULL);
}

static void disconnecting_sees_the_rooms_and_disconnect_does_not(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  dc_log_t ing = {0}, ed = {0};
  sio_ns_on_disconnecting(r.ns, tell_room, &ing);
  sio_ns_on_disconnect(r.ns, dc_record, &ed);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  mc_close(&r.c[0]);
  assert_int_equal(ing.count, 1);
  assert_int_equal(ing.nrooms, 2); /* its id room and r */
  assert_true(ing.connected);
  assert_string_equal(ing.reason, "transport close");
  assert_int_equal(ed.count, 1);
  assert_int_equal(ed.nrooms, 0);
  assert_false(ed.connected);
  /* The broadcast from "disconnecting" reached the other member only. */
  expect_only(&r, 1, "42[\"bye\"]");
  expect_only(&r, 2, NULL);
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 1);
  assert_int_equal(sio_ns_room_size(r.ns, r.sid[0]), 0);
  rooms_teardown(&r);
}

typedef struct {
  int calls;
  int status;
  size_t n;
  char ids[NC][SIO__SID_LEN + 1];
} fetch_log_t;

static void fetch_record(int status, sio_socket_t *const *sockets, size_t n, void *user) {
  fetch_log_t *l = user;
  l->calls++;
  l->status = status;
  l->n = n;
  for (size_t i = 0; i < n && i < NC; i++) snprintf(l->ids[i], sizeof l->ids[i], "%s", sio_socket_id(sockets[i]));
}

static int has_id(const fetch_log_t *l, const char *sid) {
  for (size_t i = 0; i < l->n && i < NC; i++)
    if (strcmp(l->ids[i], sid) == 0) return 1;
  return 0;
}

static void fetch_sockets_returns_the_selection(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[2], "r");
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  fetch_log_t f = {0};
  assert_int_equal(sio_ns_fetch_sockets(r.ns, &to, fetch_record, &f), 0);
  assert_int_equal(f.calls, 1);
  assert_int_equal(f.status, 0);
  assert_int_equal(f.n, 2);
  assert_true(has_id(&f, r.sid[0]));
  assert_true(has_id(&f, r.sid[2]));
  fetch_log_t all = {0};
  assert_int_equal(sio_ns_fetch_sockets(r.ns, NULL, fetch_record, &all), 0);
  assert_int_equal(all.n, 3);
  for (int i = 0; i < NC; i++) expect_only(&r, i, NULL);
  rooms_teardown(&r);
}

static void sockets_join_and_leave_act_on_the_selection(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t in_r = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_sockets_join(r.ns, &in_r, "team"), 0);
  assert_true(sio_socket_in(r.s[0], "team"));
  assert_true(sio_socket_in(r.s[1], "team"));
  assert_false(sio_socket_in(r.s[2], "team"));
  /* Everyone leaves r; team stays. */
  assert_int_equal(sio_ns_sockets_leave(r.ns, NULL, "r"), 0);
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 0);
  assert_int_equal(sio_ns_room_size(r.ns, "team"), 2);
  for (int i = 0; i < NC; i++) expect_only(&r, i, NULL);
  rooms_teardown(&r);
}

static void disconnect_sockets_disconnects_only_the_selection(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  dc_log_t dc = {0};
  sio_ns_on_disconnect(r.ns, dc_record, &dc);
  sio_socket_join(r.s[0], "r");
  sio_socket_join(r.s[1], "r");
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t in_r = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_disconnect_sockets(r.ns, &in_r, 0), 0);
  expect_only(&r, 0, "41");
  expect_only(&r, 1, "41");
  expect_only(&r, 2, NULL);
  assert_int_equal(dc.count, 2);
  assert_string_equal(dc.reason, "server namespace disconnect");
  assert_false(r.c[0].closed); /* close = 0 keeps the connections */
  assert_int_equal(sio_ns_count(r.ns), 1);
  /* close = 1 closes the connection too. */
  assert_int_equal(sio_ns_disconnect_sockets(r.ns, NULL, 1), 0);
  expect_only(&r, 2, "41");
  assert_true(r.c[2].closed);
  assert_int_equal(dc.count, 3);
  rooms_teardown(&r);
}

static void namespaces_do_not_share_rooms_or_broadcasts(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_ns_t *chat;
  assert_int_equal(sio_server_of(r.t.io, "/chat", &chat), 0);
  mc_t other;
  char osid[SIO__SID_LEN + 1];
  mc_connect(&r.t, &other, "/chat", osid);
  sio_socket_t *os = find_socket(chat, osid);
  sio_socket_join(os, "r");
  sio_socket_join(r.s[0], "r");
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 1);
  assert_int_equal(sio_ns_room_size(chat, "r"), 1);
  const char *rooms[] = {"r"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(chat, &to, "c", NULL), 1);
  mc_expect(&other, "42/chat,[\"c\"]");
  expect_only(&r, 0, NULL);
  /* io.emit: the main namespace only. */
  assert_int_equal(sio_server_emit(r.t.io, "main", NULL), 3);
  for (int i = 0; i < NC; i++) expect_only(&r, i, "42[\"main\"]");
  mc_expect_none(&other);
  rooms_teardown(&r);
  mc_free(&other);
}

static void a_disconnected_socket_cannot_join(void **state) {
  (void)state;
  room_env_t r;
  rooms_setup(&r);
  sio_socket_t *s = sio_socket_ref(r.s[0]);
  mc_close(&r.c[0]);
  assert_int_equal(sio_socket_join(s, "r"), SIO_ECLOSED);
  assert_int_equal(sio_socket_leave(s, "r"), SIO_ECLOSED);
  assert_int_equal(sio_socket_rooms(s, NULL, NULL), 0);
  assert_int_equal(sio_ns_room_size(r.ns, "r"), 0);
  sio_socket_unref(s);
  rooms_teardown(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(room_emit_reaches_exactly_its_members),
      cmocka_unit_test(except_removes_the_members_of_excepted_rooms),
      cmocka_unit_test(a_member_of_several_target_rooms_gets_the_packet_once),
      cmocka_unit_test(socket_broadcast_reaches_the_room_but_not_the_sender),
      cmocka_unit_test(socket_broadcast_takes_any_number_of_except_rooms),
      cmocka_unit_test(broadcast_with_binary_sends_text_then_attachment_to_each_member),
      cmocka_unit_test(leave_stops_delivery_and_an_empty_room_goes_away),
      cmocka_unit_test(every_socket_is_alone_in_its_own_id_room),
      cmocka_unit_test(a_socket_can_leave_and_rejoin_its_own_room),
      cmocka_unit_test(memberships_stay_consistent_across_many_joins_and_leaves),
      cmocka_unit_test(disconnecting_sees_the_rooms_and_disconnect_does_not),
      cmocka_unit_test(fetch_sockets_returns_the_selection),
      cmocka_unit_test(sockets_join_and_leave_act_on_the_selection),
      cmocka_unit_test(disconnect_sockets_disconnects_only_the_selection),
      cmocka_unit_test(namespaces_do_not_share_rooms_or_broadcasts),
      cmocka_unit_test(a_disconnected_socket_cannot_join),
      cmocka_unit_test(another_sockets_id_room_cannot_be_joined),
      cmocka_unit_test(rooms_per_socket_are_capped_without_counting_the_own_room),
      cmocka_unit_test(room_events_report_every_change),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
