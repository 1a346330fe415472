/*
 * Unit tests for the adapter interface (include/sio/adapter.h) as the library drives it
 * (src/sio/broadcast.c, src/sio/namespace.c, the aggregate in src/sio/ack.c): a fake
 * version-2 adapter that records its hooks and answers queries when the test says so,
 * and a version-3 one for recovery across nodes (offsets from the adapter).
 * No sockets and no Redis: the server runs on a private loop with an HTTP server that
 * never listens, and every test ends with the loop closing clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio.h"
#include "sio/adapter.h"

typedef struct {
  uv_loop_t loop;
  sio_http_t *http;
  sio_server_t *io;
} env_t;

static void env_init(env_t *t) {
  sio_log_set_level(SIO_LOG_NONE);
  assert_int_equal(uv_loop_init(&t->loop), 0);
  assert_int_equal(sio_http_new(&t->loop, NULL, &t->http), 0);
  assert_int_equal(sio_server_new(t->http, NULL, &t->io), 0);
}

static void env_close(env_t *t) {
  sio_http_close(t->http, NULL, NULL);
  assert_int_equal(uv_run(&t->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* ---- the fake adapter ---- */

typedef struct {
  int fail;                    /* hooks return this when non-zero */
  int destroyed;
  int broadcasts;
  char last_text[128];         /* the packet text of the last broadcast */
  size_t last_nrooms;
  size_t last_natt;            /* and its attachments, checked against what was sent */
  int atts_ok;
  sio_adapter_query_t *q;      /* the query last handed over, not finished yet */
  sio_adapter_acks_t *acks;    /* the broadcast with acks last handed over */
  uint64_t acks_timeout;
  int server_side, server_side_q;
  char last_event[32];
} fake_t;

static int f_broadcast(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt) {
  fake_t *f = self;
  f->broadcasts++;
  snprintf(f->last_text, sizeof f->last_text, "%.*s", (int)pkt->text.len, pkt->text.ptr);
  f->last_nrooms = to ? to->nrooms : 0;
  f->last_natt = pkt->nattachments;
  /* Attachment i holds the single byte i (see many_attachments). */
  f->atts_ok = 1;
  for (size_t i = 0; i < pkt->nattachments; i++) {
    if (pkt->attachments[i].len != 1 || (unsigned char)pkt->attachments[i].ptr[0] != (unsigned char)i) f->atts_ok = 0;
  }
  return f->fail;
}

static void f_destroy(void *self) {
  fake_t *f = self;
  f->destroyed++;
  /* A query still held at teardown is finished now, as the contract says. */
  if (f->q) sio_adapter_query_done(f->q, SIO_ECANCELED);
  if (f->acks) sio_adapter_acks_done(f->acks);
  f->q = NULL;
  f->acks = NULL;
}

static int f_broadcast_with_ack(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                                uint64_t timeout_ms, sio_adapter_acks_t *acks) {
  fake_t *f = self;
  if (f->fail) return f->fail;
  f->acks = acks;
  f->acks_timeout = timeout_ms;
  return 0;
}

static int keep_query(fake_t *f, sio_adapter_query_t *q) {
  if (f->fail) return f->fail;
  f->q = q;
  return 0;
}

static int f_fetch(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_adapter_query_t *q) {
  return keep_query(self, q);
}
static int f_all_sockets(void *self, sio_ns_t *ns, const char *const *rooms, size_t n, sio_adapter_query_t *q) {
  return keep_query(self, q);
}
static int f_all_rooms(void *self, sio_ns_t *ns, sio_adapter_query_t *q) { return keep_query(self, q); }
static int f_server_count(void *self, sio_ns_t *ns, sio_adapter_query_t *q) { return keep_query(self, q); }
static int f_server_side_emit(void *self, sio_ns_t *ns, const char *event, const sio_args_t *args,
                              sio_adapter_query_t *q) {
  fake_t *f = self;
  f->server_side++;
  snprintf(f->last_event, sizeof f->last_event, "%s", event);
  if (q) {
    f->server_side_q++;
    return keep_query(f, q);
  }
  return f->fail;
}

static const sio_adapter_vtable_t fake_vt = {
    SIO_ADAPTER_VERSION, f_broadcast, NULL, NULL, NULL, f_destroy, f_broadcast_with_ack,
    f_fetch, f_all_sockets, f_all_rooms, f_server_count, f_server_side_emit, NULL, NULL, NULL,
};

/* A version-1 adapter: five hooks, nothing after destroy. */
typedef struct {
  int version;
  int (*broadcast)(void *, sio_ns_t *, const sio_broadcast_opts_t *, const sio_packet_view_t *);
  int (*sockets_join)(void *, sio_ns_t *, const sio_broadcast_opts_t *, const char *);
  int (*sockets_leave)(void *, sio_ns_t *, const sio_broadcast_opts_t *, const char *);
  int (*disconnect_sockets)(void *, sio_ns_t *, const sio_broadcast_opts_t *, int);
  void (*destroy)(void *);
} v1_vtable_t;

static const v1_vtable_t v1_vt = {1, f_broadcast, NULL, NULL, NULL, f_destroy};

/* ---- result holders ---- */

typedef struct {
  int calls, status;
  size_t n;
  char ids[4][32];
  char rooms[4][64];
  char data[4][64];
  int local[4];
} fetched_t;

static void on_fetched(int status, const sio_remote_socket_t *s, size_t n, void *user) {
  fetched_t *r = user;
  r->calls++;
  r->status = status;
  r->n = n;
  for (size_t i = 0; i < n && i < 4; i++) {
    snprintf(r->ids[i], sizeof r->ids[i], "%s", s[i].id);
    snprintf(r->rooms[i], sizeof r->rooms[i], "%s", s[i].nrooms > 1 ? s[i].rooms[1] : "");
    snprintf(r->data[i], sizeof r->data[i], "%s", s[i].data_json);
    r->local[i] = s[i].local != NULL;
  }
}

typedef struct {
  int calls, status;
  size_t n;
  char names[8][32];
} names_t;

static void on_names(int status, const char *const *names, size_t n, void *user) {
  names_t *r = user;
  r->calls++;
  r->status = status;
  r->n = n;
  for (size_t i = 0; i < n && i < 8; i++) snprintf(r->names[i], sizeof r->names[i], "%s", names[i]);
}

typedef struct {
  int calls, status;
  size_t n;
  char first[4][32];
} acked_t;

static void on_acked(int status, const sio_args_t *const *responses, size_t n, void *user) {
  acked_t *r = user;
  r->calls++;
  r->status = status;
  r->n = n;
  for (size_t i = 0; i < n && i < 4; i++) {
    sio_str_t s = {"", 0};
    if (sio_args_get_str(responses[i], 0, &s) != 0) s = (sio_str_t){"<none>", 6};
    snprintf(r->first[i], sizeof r->first[i], "%.*s", (int)s.len, s.ptr);
  }
}

static sio_args_t *args_of(const char *s) {
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  if (s) assert_int_equal(sio_args_add_cstr(a, s), 0);
  return a;
}

/* ---- tests ---- */

static void set_adapter_checks_the_vtable_version_and_refuses_a_second(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  sio_adapter_vtable_t bad = fake_vt;
  bad.version = SIO_ADAPTER_VERSION + 1;
  assert_int_equal(sio_ns_set_adapter(ns, NULL, &f), SIO_EINVAL);
  assert_int_equal(sio_ns_set_adapter(ns, &bad, &f), SIO_EINVAL);
  bad.version = 0;
  assert_int_equal(sio_ns_set_adapter(ns, &bad, &f), SIO_EINVAL);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), SIO_EBUSY);
  env_close(&t);
  assert_int_equal(f.destroyed, 1);
}

static void a_version_1_adapter_is_kept_and_queries_stay_local(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, (const sio_adapter_vtable_t *)&v1_vt, &f), 0);
  fetched_t r = {0};
  assert_int_equal(sio_ns_fetch_sockets_all(ns, NULL, on_fetched, &r), 0);
  assert_int_equal(r.calls, 1); /* inside the call: no version-2 hook to ask */
  assert_int_equal(r.n, 0);
  assert_int_equal(sio_ns_emit(ns, NULL, "ev", NULL), 0);
  assert_int_equal(f.broadcasts, 1);
  env_close(&t);
  assert_int_equal(f.destroyed, 1);
}

static int factory_calls;
static fake_t factory_fakes[4];

static int factory(sio_ns_t *ns, void *user) {
  assert_ptr_equal(user, &factory_calls);
  return sio_ns_set_adapter(ns, &fake_vt, &factory_fakes[factory_calls++]);
}

static int match_dyn(const char *name, void *u) { return strncmp(name, "/dyn", 4) == 0; }

static void the_factory_covers_existing_and_new_namespaces_not_dynamic_templates(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  memset(factory_fakes, 0, sizeof factory_fakes);
  factory_calls = 0;
  sio_ns_t *a, *tmpl;
  assert_int_equal(sio_server_of(t.io, "/a", &a), 0);
  assert_int_equal(sio_server_of_dynamic(t.io, match_dyn, NULL, &tmpl), 0);
  assert_int_equal(sio_server_set_adapter_factory(t.io, factory, &factory_calls), 0);
  assert_int_equal(factory_calls, 2); /* "/" and "/a" */
  sio_ns_t *b;
  assert_int_equal(sio_server_of(t.io, "/b", &b), 0);
  assert_int_equal(factory_calls, 3);
  assert_int_equal(sio_server_of(t.io, "/b", &b), 0); /* existing: not again */
  assert_int_equal(factory_calls, 3);
  env_close(&t);
  for (int i = 0; i < 3; i++) assert_int_equal(factory_fakes[i].destroyed, 1);
}

static void fetch_all_delivers_what_the_adapter_adds_when_it_finishes(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  fetched_t r = {0};
  const char *rooms[] = {"room"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  assert_int_equal(sio_ns_fetch_sockets_all(ns, &to, on_fetched, &r), 0);
  assert_int_equal(r.calls, 0);
  assert_non_null(f.q);
  /* The views are copied: the adapter's buffers can go right after. */
  char id[] = "remote-socket-id-0001", room[] = "room", data[] = "{\"n\":1}";
  const char *srooms[] = {id, room};
  sio_remote_socket_t v = {id, srooms, 2, data, "{\"auth\":{}}", NULL};
  assert_int_equal(sio_adapter_query_add_socket(f.q, &v), 0);
  memset(id, 'x', sizeof id - 1);
  memset(data, 0, sizeof data);
  /* Wrong-kind additions are ignored. */
  assert_int_equal(sio_adapter_query_add_name(f.q, "nope", 4), 0);
  sio_adapter_query_done(f.q, SIO_ETIMEDOUT);
  f.q = NULL;
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, SIO_ETIMEDOUT);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.ids[0], "remote-socket-id-0001");
  assert_string_equal(r.rooms[0], "room");
  assert_string_equal(r.data[0], "{\"n\":1}");
  assert_int_equal(r.local[0], 0);
  env_close(&t);
}

static void a_failing_hook_fails_the_call_and_runs_no_callback(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  f.fail = SIO_ENOMEM;
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  fetched_t r = {0};
  names_t nm = {0};
  assert_int_equal(sio_ns_fetch_sockets_all(ns, NULL, on_fetched, &r), SIO_ENOMEM);
  assert_int_equal(sio_ns_all_rooms(ns, on_names, &nm), SIO_ENOMEM);
  assert_int_equal(sio_ns_all_sockets(ns, NULL, 0, on_names, &nm), SIO_ENOMEM);
  assert_int_equal(r.calls + nm.calls, 0);
  /* A broadcast already delivered locally reports the adapter's error. */
  assert_int_equal(sio_ns_emit(ns, NULL, "ev", NULL), SIO_ENOMEM);
  env_close(&t);
}

static void local_selections_never_reach_the_adapter(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  sio_broadcast_opts_t local = {NULL, 0, NULL, 0, SIO_BCAST_LOCAL};
  fetched_t r = {0};
  acked_t a = {0};
  assert_int_equal(sio_ns_fetch_sockets_all(ns, &local, on_fetched, &r), 0);
  assert_int_equal(sio_ns_emit(ns, &local, "ev", NULL), 0);
  assert_int_equal(sio_ns_emit_with_ack(ns, &local, "ev", NULL, 1000, on_acked, &a), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(a.calls, 1);
  assert_int_equal(f.broadcasts, 0);
  assert_null(f.q);
  assert_null(f.acks);
  env_close(&t);
}

static void broadcasts_hand_the_adapter_the_packet_text(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns;
  assert_int_equal(sio_server_of(t.io, "/chat", &ns), 0);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  sio_args_t *a = args_of("hi");
  const char *rooms[] = {"r1", "r2"};
  sio_broadcast_opts_t to = {rooms, 2, NULL, 0, 0};
  assert_int_equal(sio_ns_emit(ns, &to, "msg", a), 0);
  /* Without the Engine.IO "4": the Socket.IO packet as any node would encode it. */
  assert_string_equal(f.last_text, "2/chat,[\"msg\",\"hi\"]");
  assert_int_equal(f.last_nrooms, 2);
  sio_args_free(a);
  env_close(&t);
}

/* n binary arguments, argument i holding the byte i. */
static sio_args_t *many_attachments(size_t n) {
  sio_args_t *a;
  assert_int_equal(sio_args_new(&a), 0);
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)i;
    assert_int_equal(sio_args_add_binary(a, &b, 1), 0);
  }
  return a;
}

/* There used to be a 64-slice array for the view: a packet with more attachments was
 * delivered locally, then the call failed with SIO_ELIMIT and the adapter saw nothing. */
static void a_hundred_attachments_reach_the_adapter(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  sio_args_t *a = many_attachments(100);
  assert_int_equal(sio_ns_emit(ns, NULL, "bin", a), 0);
  assert_int_equal(f.broadcasts, 1);
  assert_int_equal(f.last_natt, 100);
  assert_true(f.atts_ok);
  acked_t r = {0};
  assert_int_equal(sio_ns_emit_with_ack(ns, NULL, "bin", a, 60000, on_acked, &r), 0);
  assert_non_null(f.acks);
  sio_adapter_acks_done(f.acks);
  f.acks = NULL;
  assert_int_equal(r.calls, 1);
  sio_args_free(a);
  env_close(&t);
}

static void emit_with_ack_waits_for_the_adapter_then_answers_with_remote_acks(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  acked_t r = {0};
  assert_int_equal(sio_ns_emit_with_ack(ns, NULL, "ask", NULL, 60000, on_acked, &r), 0);
  /* No local recipient, but the adapter holds the aggregate open. */
  assert_int_equal(r.calls, 0);
  assert_non_null(f.acks);
  assert_int_equal(f.acks_timeout, 60000);
  sio_args_t *x = args_of("x"), *y = args_of("y");
  sio_adapter_acks_answer(f.acks, x);
  sio_adapter_acks_answer(f.acks, NULL); /* a client that answered with no value */
  sio_adapter_acks_answer(f.acks, y);
  assert_int_equal(r.calls, 0);
  sio_adapter_acks_done(f.acks);
  f.acks = NULL;
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.n, 3);
  assert_string_equal(r.first[0], "x");
  assert_string_equal(r.first[1], "<none>");
  assert_string_equal(r.first[2], "y");
  sio_args_free(x);
  sio_args_free(y);
  env_close(&t);
}

static void emit_with_ack_times_out_while_the_adapter_waits(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  acked_t r = {0};
  assert_int_equal(sio_ns_emit_with_ack(ns, NULL, "ask", NULL, 1, on_acked, &r), 0);
  sio_args_t *x = args_of("early");
  sio_adapter_acks_answer(f.acks, x);
  /* The loop runs into the 1 ms timer. */
  while (r.calls == 0) uv_run(&t.loop, UV_RUN_ONCE);
  assert_int_equal(r.status, SIO_ETIMEDOUT);
  assert_int_equal(r.n, 1);
  /* Late answers and the adapter's release after the callback change nothing. */
  sio_adapter_acks_answer(f.acks, x);
  sio_adapter_acks_done(f.acks);
  f.acks = NULL;
  assert_int_equal(r.calls, 1);
  sio_args_free(x);
  env_close(&t);
}

static void emit_with_ack_with_a_failing_hook_answers_the_local_part(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  f.fail = SIO_ENOMEM;
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  acked_t r = {0};
  /* The local part was sent (to nobody here): the call succeeds, the remote part is lost. */
  assert_int_equal(sio_ns_emit_with_ack(ns, NULL, "ask", NULL, 60000, on_acked, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, 0);
  env_close(&t);
}

static void names_are_gathered_without_duplicates(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  names_t r = {0};
  assert_int_equal(sio_ns_all_rooms(ns, on_names, &r), 0);
  assert_int_equal(sio_adapter_query_add_name(f.q, "a", 1), 0);
  assert_int_equal(sio_adapter_query_add_name(f.q, "b", 1), 0);
  assert_int_equal(sio_adapter_query_add_name(f.q, "a", 1), 0);
  assert_int_equal(sio_adapter_query_add_name(f.q, "abc", 2), 0); /* "ab": len counts */
  sio_adapter_query_done(f.q, 0);
  f.q = NULL;
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.n, 3);
  assert_string_equal(r.names[0], "a");
  assert_string_equal(r.names[1], "b");
  assert_string_equal(r.names[2], "ab");
  names_t s = {0};
  const char *rooms[] = {"x"};
  assert_int_equal(sio_ns_all_sockets(ns, rooms, 1, on_names, &s), 0);
  sio_adapter_query_add_name(f.q, "id1", 3);
  sio_adapter_query_done(f.q, SIO_ECLOSED);
  f.q = NULL;
  assert_int_equal(s.status, SIO_ECLOSED);
  assert_int_equal(s.n, 1);
  env_close(&t);
}

static void on_count(int status, size_t count, void *user) {
  size_t *out = user;
  *out = count + (status == 0 ? 0 : 1000);
}

static void server_count_is_one_alone_and_what_the_adapter_says_otherwise(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  size_t n = 0;
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_server_count(ns, on_count, &n), 0);
  assert_int_equal(n, 1);
  fake_t f = {0};
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  n = 0;
  assert_int_equal(sio_ns_server_count(ns, on_count, &n), 0);
  assert_int_equal(n, 0);
  sio_adapter_query_set_count(f.q, 4);
  sio_adapter_query_done(f.q, 0);
  f.q = NULL;
  assert_int_equal(n, 4);
  env_close(&t);
}

typedef struct {
  int calls, status;
  size_t n;
  char json[128];
} ss_t;

static void on_ss(int status, const sio_args_t *responses, void *user) {
  ss_t *r = user;
  r->calls++;
  r->status = status;
  r->n = sio_args_count(responses);
  r->json[0] = '\0';
  for (size_t i = 0; i < r->n; i++) {
    char *j;
    assert_int_equal(sio_args_to_json(responses, i, &j, NULL), 0);
    strncat(r->json, j, sizeof r->json - strlen(r->json) - 2);
    strcat(r->json, ";");
    sio_free(j);
  }
}

static void server_side_emit_goes_to_the_adapter_and_gathers_one_answer_per_node(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  sio_ns_t *ns = sio_server_main(t.io);
  ss_t r = {0};
  /* Alone: nobody to send to; with acks, an empty answer at once. */
  assert_int_equal(sio_ns_server_side_emit(ns, "hello", NULL), 0);
  assert_int_equal(sio_ns_server_side_emit_with_ack(ns, "hello", NULL, on_ss, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.n, 0);
  assert_int_equal(sio_server_side_emit(t.io, "connection", NULL), SIO_EINVAL);
  assert_int_equal(sio_ns_server_side_emit_with_ack(ns, "new_namespace", NULL, on_ss, &r), SIO_EINVAL);
  fake_t f = {0};
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  assert_int_equal(sio_server_side_emit(t.io, "hello", NULL), 0);
  assert_int_equal(f.server_side, 1);
  assert_string_equal(f.last_event, "hello");
  r.calls = 0;
  assert_int_equal(sio_ns_server_side_emit_with_ack(ns, "who", NULL, on_ss, &r), 0);
  assert_int_equal(f.server_side_q, 1);
  sio_args_t *a = args_of("node-b");
  assert_int_equal(sio_adapter_query_add_value(f.q, a, 0), 0);
  assert_int_equal(sio_adapter_query_add_value(f.q, NULL, 0), 0);
  sio_adapter_query_done(f.q, SIO_ETIMEDOUT);
  f.q = NULL;
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, SIO_ETIMEDOUT);
  assert_string_equal(r.json, "\"node-b\";null;");
  sio_args_free(a);
  env_close(&t);
}

/* ---- incoming server-side events ---- */

typedef struct {
  int calls;
  char got[64];
  sio_server_ack_t *kept; /* retained to answer later */
  int mode;               /* 0 answer now, 1 ignore, 2 retain, 3 free explicitly */
} handler_t;

static void on_server_event(sio_ns_t *ns, const sio_args_t *args, sio_server_ack_t *ack, void *user) {
  handler_t *h = user;
  h->calls++;
  sio_str_t s = {"", 0};
  sio_args_get_str(args, 0, &s);
  snprintf(h->got, sizeof h->got, "%.*s", (int)s.len, s.ptr);
  if (ack == NULL) return;
  if (h->mode == 0) {
    sio_args_t *a = args_of("pong");
    assert_int_equal(sio_server_ack_send(ack, a), 0);
    assert_int_equal(sio_server_ack_send(ack, a), SIO_EINVAL); /* once */
    sio_args_free(a);
  } else if (h->mode == 2) {
    h->kept = sio_server_ack_retain(ack);
  } else if (h->mode == 3) {
    sio_server_ack_free(ack);
  }
}

typedef struct {
  int calls;
  int with_value;
  char value[32];
} reply_t;

static void on_reply(void *user, const sio_args_t *args) {
  reply_t *r = user;
  r->calls++;
  r->with_value = args != NULL;
  sio_str_t s = {"", 0};
  if (args) sio_args_get_str(args, 0, &s);
  snprintf(r->value, sizeof r->value, "%.*s", (int)s.len, s.ptr);
}

static void incoming_server_side_events_reach_the_handler_and_answer_once(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  sio_ns_t *ns = sio_server_main(t.io);
  handler_t h = {0};
  assert_int_equal(sio_ns_on_server_side(ns, "ping", on_server_event, &h), 0);
  sio_args_t *in = args_of("from-b");
  reply_t r = {0};
  /* No ack wanted. */
  assert_int_equal(sio_adapter_server_side_dispatch(ns, "ping", in, NULL, NULL), 0);
  assert_int_equal(h.calls, 1);
  assert_string_equal(h.got, "from-b");
  /* Answered during the handler. */
  assert_int_equal(sio_adapter_server_side_dispatch(ns, "ping", in, on_reply, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_true(r.with_value);
  assert_string_equal(r.value, "pong");
  /* Ignored: dropped when the handler returns (no value). */
  h.mode = 1;
  r = (reply_t){0};
  assert_int_equal(sio_adapter_server_side_dispatch(ns, "ping", in, on_reply, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_false(r.with_value);
  /* Freed explicitly. */
  h.mode = 3;
  r = (reply_t){0};
  assert_int_equal(sio_adapter_server_side_dispatch(ns, "ping", in, on_reply, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_false(r.with_value);
  /* Retained, answered later. */
  h.mode = 2;
  r = (reply_t){0};
  assert_int_equal(sio_adapter_server_side_dispatch(ns, "ping", in, on_reply, &r), 0);
  assert_int_equal(r.calls, 0);
  assert_int_equal(sio_server_ack_send(h.kept, NULL), 0);
  assert_int_equal(r.calls, 1);
  assert_true(r.with_value); /* answered, with no value */
  /* No handler: nothing answers. */
  r = (reply_t){0};
  assert_int_equal(sio_adapter_server_side_dispatch(ns, "nobody", in, on_reply, &r), 0);
  assert_int_equal(r.calls, 1);
  assert_false(r.with_value);
  sio_args_free(in);
  env_close(&t);
}

static void destroy_finishes_held_queries_with_ecanceled(void **state) {
  (void)state;
  env_t t;
  env_init(&t);
  fake_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake_vt, &f), 0);
  fetched_t r = {0};
  acked_t a = {0};
  assert_int_equal(sio_ns_fetch_sockets_all(ns, NULL, on_fetched, &r), 0);
  /* A second query replaces the fake's slot: finish the first one by hand. */
  sio_adapter_query_t *first = f.q;
  assert_int_equal(sio_ns_emit_with_ack(ns, NULL, "ask", NULL, 60000, on_acked, &a), 0);
  assert_ptr_equal(f.q, first);
  env_close(&t);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, SIO_ECANCELED);
  /* The server's shutdown finished the broadcast first (ECANCELED as well). */
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.status, SIO_ECANCELED);
}

/* ---- version 3: recovery across nodes ---- */

typedef struct {
  fake_t base;
  int published, persisted;
  char last_text[128];
  sio_adapter_offset_t *held[4];
  size_t nheld;
} fake3_t;

static int f3_publish_offset(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                             sio_adapter_offset_t *h) {
  fake3_t *f = self;
  f->published++;
  snprintf(f->last_text, sizeof f->last_text, "%.*s", (int)pkt->text.len, pkt->text.ptr);
  if (f->base.fail) return f->base.fail;
  f->held[f->nheld++] = h;
  return 0;
}
static void f3_persist(void *self, sio_ns_t *ns, const sio_adapter_session_t *sess, uint64_t window_ms) {
  ((fake3_t *)self)->persisted++;
}
static int f3_restore(void *self, sio_ns_t *ns, const char *pid, const char *offset, sio_adapter_restore_t *h) {
  return SIO_ENOTSUP;
}
static void f3_destroy(void *self) {
  fake3_t *f = self;
  f->base.destroyed++;
  /* Handles still held are given back without a delivery, as the contract says. */
  for (size_t i = 0; i < f->nheld; i++) sio_adapter_offset_done(f->held[i], NULL, 1);
  f->nheld = 0;
}

static const sio_adapter_vtable_t fake3_vt = {
    SIO_ADAPTER_VERSION, f_broadcast, NULL, NULL, NULL, f3_destroy, NULL, NULL, NULL, NULL, NULL, NULL,
    f3_publish_offset,   f3_persist,  f3_restore,
};
/* Version 3 without the restore hook: recovery stays in memory, broadcast is used. */
static const sio_adapter_vtable_t partial3_vt = {
    SIO_ADAPTER_VERSION, f_broadcast, NULL, NULL, NULL, f3_destroy, NULL, NULL, NULL, NULL, NULL, NULL,
    f3_publish_offset,   f3_persist,  NULL,
};

static void env_init_recovery(env_t *t) {
  sio_log_set_level(SIO_LOG_NONE);
  assert_int_equal(uv_loop_init(&t->loop), 0);
  assert_int_equal(sio_http_new(&t->loop, NULL, &t->http), 0);
  sio_server_opts_t o;
  sio_server_opts_init(&o);
  o.recovery.enabled = 1;
  assert_int_equal(sio_server_new(t->http, &o, &t->io), 0);
}

static void recoverable_emits_wait_for_the_adapters_offset(void **state) {
  (void)state;
  env_t t;
  env_init_recovery(&t);
  fake3_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &fake3_vt, &f), 0);
  sio_args_t *a = args_of("hi");
  const char *rooms[] = {"r1"};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  /* Published without an offset, not through broadcast; nothing delivered yet (0). */
  assert_int_equal(sio_ns_emit(ns, &to, "msg", a), 0);
  assert_int_equal(f.published, 1);
  assert_int_equal(f.base.broadcasts, 0);
  assert_string_equal(f.last_text, "2[\"msg\",\"hi\"]");
  /* Local-only and volatile emits are not recoverable: the old path (no adapter for
   * local, broadcast for volatile), no offset handle. */
  sio_broadcast_opts_t local = {rooms, 1, NULL, 0, SIO_BCAST_LOCAL};
  assert_int_equal(sio_ns_emit(ns, &local, "msg", a), 0);
  sio_broadcast_opts_t vol = {rooms, 1, NULL, 0, SIO_BCAST_VOLATILE};
  assert_int_equal(sio_ns_emit(ns, &vol, "msg", a), 0);
  assert_int_equal(f.published, 1);
  assert_int_equal(f.base.broadcasts, 1);
  /* The offset comes back: delivered (to nobody here) and released. */
  sio_adapter_offset_done(f.held[0], "1700000000000-0", 0);
  f.nheld = 0;
  /* A refused publish (the adapter's bound) still delivers locally, and holds nothing. */
  f.base.fail = SIO_ELIMIT;
  assert_int_equal(sio_ns_emit(ns, &to, "msg", a), 0);
  assert_int_equal(f.published, 2);
  assert_int_equal(f.nheld, 0);
  f.base.fail = 0;
  /* One more held at teardown: destroy gives it back (LeakSanitizer checks the copy). */
  assert_int_equal(sio_ns_emit(ns, NULL, "msg", a), 0);
  assert_int_equal(f.nheld, 1);
  sio_args_free(a);
  env_close(&t);
  assert_int_equal(f.base.destroyed, 1);
  assert_int_equal(f.nheld, 0);
}

static void a_partial_version_3_adapter_keeps_recovery_in_memory(void **state) {
  (void)state;
  env_t t;
  env_init_recovery(&t);
  fake3_t f = {0};
  sio_ns_t *ns = sio_server_main(t.io);
  assert_int_equal(sio_ns_set_adapter(ns, &partial3_vt, &f), 0);
  sio_args_t *a = args_of("hi");
  assert_int_equal(sio_ns_emit(ns, NULL, "msg", a), 0);
  assert_int_equal(f.published, 0);
  assert_int_equal(f.base.broadcasts, 1);
  /* The in-memory store appended its own offset (a last string argument). */
  assert_true(strncmp(f.base.last_text, "2[\"msg\",\"hi\",\"", 14) == 0);
  sio_args_free(a);
  env_close(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(recoverable_emits_wait_for_the_adapters_offset),
      cmocka_unit_test(a_partial_version_3_adapter_keeps_recovery_in_memory),
      cmocka_unit_test(set_adapter_checks_the_vtable_version_and_refuses_a_second),
      cmocka_unit_test(a_version_1_adapter_is_kept_and_queries_stay_local),
      cmocka_unit_test(the_factory_covers_existing_and_new_namespaces_not_dynamic_templates),
      cmocka_unit_test(fetch_all_delivers_what_the_adapter_adds_when_it_finishes),
      cmocka_unit_test(a_failing_hook_fails_the_call_and_runs_no_callback),
      cmocka_unit_test(local_selections_never_reach_the_adapter),
      cmocka_unit_test(broadcasts_hand_the_adapter_the_packet_text),
      cmocka_unit_test(a_hundred_attachments_reach_the_adapter),
      cmocka_unit_test(emit_with_ack_waits_for_the_adapter_then_answers_with_remote_acks),
      cmocka_unit_test(emit_with_ack_times_out_while_the_adapter_waits),
      cmocka_unit_test(emit_with_ack_with_a_failing_hook_answers_the_local_part),
      cmocka_unit_test(names_are_gathered_without_duplicates),
      cmocka_unit_test(server_count_is_one_alone_and_what_the_adapter_says_otherwise),
      cmocka_unit_test(server_side_emit_goes_to_the_adapter_and_gathers_one_answer_per_node),
      cmocka_unit_test(incoming_server_side_events_reach_the_handler_and_answer_once),
      cmocka_unit_test(destroy_finishes_held_queries_with_ecanceled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
