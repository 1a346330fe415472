/*
 * Unit tests of the admin UI's server side (src/admin/): the bcrypt hash parser, the
 * per-socket listeners that exist only while an admin is connected, the events an admin
 * receives over the in-memory transport, and an OOM step run (tests/unit/sio/oom_hooks.h)
 * through attach, an admin's connect (config, all_sockets), app sockets coming, sending
 * an event and leaving, the admin's actions, and teardown: every run ends without a
 * crash and with every block freed.
 */
#include "../sio/oom_hooks.h"
#include "common/alloc.h"
#include "admin/admin_int.h"

/* ---- the hash parser ---- */

#define H(s) sio_admin_hash_parse((s), strlen(s))
static const char *const GOOD = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

static void hash_parse_accepts_bcrypt_hashes(void **state) {
  (void)state;
  assert_int_equal(H(GOOD), 10);
  char h[61];
  strcpy(h, GOOD);
  h[2] = 'a';
  assert_int_equal(H(h), 10);
  h[2] = 'y';
  h[4] = '3';
  h[5] = '1';
  assert_int_equal(H(h), 31);
  h[4] = '0';
  h[5] = '4';
  assert_int_equal(H(h), 4);
}

static void hash_parse_refuses_the_rest(void **state) {
  (void)state;
  char h[80];
  assert_int_equal(sio_admin_hash_parse(NULL, 60), SIO_EINVAL);
  assert_int_equal(H(""), SIO_EINVAL);
  assert_int_equal(H("secret"), SIO_EINVAL);
  assert_int_equal(sio_admin_hash_parse(GOOD, 59), SIO_EINVAL); /* one short */
  snprintf(h, sizeof h, "%sx", GOOD);
  assert_int_equal(H(h), SIO_EINVAL); /* one long */
  static const struct {
    int at;
    char c;
  } bad[] = {{0, '#'}, {1, '1'}, {2, 'x'}, {3, '_'}, {4, 'a'}, {5, ' '}, {6, '.'}, {7, '$'}, {30, '+'}, {59, '='}, {59, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    strcpy(h, GOOD);
    h[bad[i].at] = bad[i].c;
    if (sio_admin_hash_parse(h, 60) != SIO_EINVAL) fail_msg("accepted %d=%c", bad[i].at, bad[i].c);
  }
  strcpy(h, GOOD);
  h[4] = '0';
  h[5] = '3';
  assert_int_equal(H(h), SIO_EINVAL); /* cost 3 */
  h[4] = '3';
  h[5] = '2';
  assert_int_equal(H(h), SIO_EINVAL); /* cost 32 */
}

static void attach_checks_its_options(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_admin_opts_t o;
  sio_admin_t *a = NULL;
  sio_admin_opts_init(&o);
  assert_int_equal(sio_admin_attach(t.io, &o, &a), SIO_EINVAL); /* no credentials, no no_auth */
  o.username = "u";
  assert_int_equal(sio_admin_attach(t.io, &o, &a), SIO_EINVAL); /* a user without a hash */
  o.password_hash = "plain";
  assert_int_equal(sio_admin_attach(t.io, &o, &a), SIO_EINVAL);
  o.password_hash = GOOD;
  o.namespace_name = "admin";
  assert_int_equal(sio_admin_attach(t.io, &o, &a), SIO_EINVAL);
  o.namespace_name = "/admin";
  assert_int_equal(sio_admin_attach(t.io, &o, &a), 0);
  sio_admin_detach(a);
  sio_admin_detach(a); /* twice: nothing */
  env_close(&t);
}

/* ---- listeners only while an admin is connected ---- */

static int any_listeners(const sio_socket_t *s) {
  int n = s->any_out != NULL;
  for (const sio__cb_t *cb = s->cbs; cb; cb = cb->next) n += cb->kind == SIO__CB_ANY;
  return n;
}

static int has_packet(mc_t *c, const char *needle) {
  for (size_t i = 0; i < c->n; i++) {
    if (!c->pkts[i].binary && strstr(c->pkts[i].data, needle)) return 1;
  }
  return 0;
}

static void events_cost_nothing_without_an_admin(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_admin_opts_t o;
  sio_admin_t *a;
  sio_admin_opts_init(&o);
  o.no_auth = 1;
  assert_int_equal(sio_admin_attach(t.io, &o, &a), 0);
  mc_t app, adm;
  char app_id[SIO__SID_LEN + 1], adm_id[SIO__SID_LEN + 1];
  mc_connect(&t, &app, "/", app_id);
  sio_socket_t *s = find_socket(sio_server_main(t.io), app_id);
  assert_non_null(s);
  assert_int_equal(any_listeners(s), 0);

  mc_connect(&t, &adm, "/admin", adm_id);
  assert_int_equal(any_listeners(s), 2); /* onAny and onAnyOutgoing, for the admin */
  assert_true(has_packet(&adm, "42/admin,[\"config\",{\"supportedFeatures\":[\"EMIT\""));
  assert_true(has_packet(&adm, "42/admin,[\"all_sockets\",[{"));
  assert_true(has_packet(&adm, app_id));

  assert_int_equal(mc_feed(&app, "42[\"hi\",1]"), 0);
  char want[128];
  snprintf(want, sizeof want, "42/admin,[\"event_received\",\"/\",\"%s\",[\"hi\",1],\"", app_id);
  assert_true(has_packet(&adm, want));
  assert_int_equal(sio_socket_emit(s, "yo", NULL), 0);
  snprintf(want, sizeof want, "42/admin,[\"event_sent\",\"/\",\"%s\",[\"yo\"],\"", app_id);
  assert_true(has_packet(&adm, want));

  /* An action: the admin makes the app socket join a room, and sees it. */
  char act[128];
  snprintf(act, sizeof act, "42/admin,[\"join\",\"/\",\"r1\",\"%s\"]", app_id);
  assert_int_equal(mc_feed(&adm, act), 0);
  assert_int_equal(sio_socket_in(s, "r1"), 1);
  snprintf(want, sizeof want, "42/admin,[\"room_joined\",\"/\",\"r1\",\"%s\",\"", app_id);
  assert_true(has_packet(&adm, want));

  /* The last admin leaves: the listeners go. */
  assert_int_equal(mc_feed(&adm, "41/admin,"), 0);
  assert_int_equal(any_listeners(s), 0);
  mc_close(&app);
  mc_close(&adm);
  env_close(&t);
  mc_free(&app);
  mc_free(&adm);
}

/* ---- OOM steps ---- */

static void ok_or_nomem(int r) {
  if (r != 0 && r != SIO_ENOMEM) fail_msg("got %d (%s), want 0 or SIO_ENOMEM", r, sio_strerror(r));
}

static void run_scenario(void) {
  env_t t;
  mc_t app, adm, app2;
  memset(&app, 0, sizeof app);
  memset(&adm, 0, sizeof adm);
  memset(&app2, 0, sizeof app2);
  assert_int_equal(uv_loop_init(&t.loop), 0);
  int r = sio_http_new(&t.loop, NULL, &t.http);
  if (r) {
    assert_int_equal(r, SIO_ENOMEM);
    goto loop_only;
  }
  if ((r = sio_server_new(t.http, NULL, &t.io)) != 0) {
    assert_int_equal(r, SIO_ENOMEM);
    goto close_http;
  }
  sio_admin_opts_t o;
  sio_admin_t *a;
  sio_admin_opts_init(&o);
  o.no_auth = 1;
  r = sio_admin_attach(t.io, &o, &a);
  ok_or_nomem(r);
  if (mc_try_open(&t, &app) == 0) mc_feed(&app, "40");
  if (mc_try_open(&t, &adm) == 0) mc_feed(&adm, "40/admin,");
  if (mc_try_open(&t, &app2) == 0) mc_feed(&app2, "40");
  mc_feed(&app, "42[\"hi\",{\"a\":[1,2]}]");
  if (r == 0) {
    sio_ns_t *main_ns = sio_server_main(t.io);
    sio_socket_t *s = NULL;
    uint32_t it = 0;
    void *v;
    if (sio__map_next(&main_ns->sockets, &it, NULL, NULL, &v)) s = v;
    if (s) {
      ok_or_nomem(sio_socket_set_data_json(s, "{\"nick\":\"x\",\"_admin\":1}"));
      char act[128];
      snprintf(act, sizeof act, "42/admin,[\"join\",\"/\",\"r\",\"%s\"]", sio_socket_id(s));
      mc_feed(&adm, act);
      snprintf(act, sizeof act, "42/admin,[\"emit\",\"/\",\"r\",\"ev\",1,\"x\"]");
      mc_feed(&adm, act);
      snprintf(act, sizeof act, "42/admin,[\"_disconnect\",\"/\",false,\"%s\"]", sio_socket_id(s));
      mc_feed(&adm, act);
    }
    /* A stats tick. */
    sio__admin_emit_stats(a);
  }
  mc_close(&app2);
  mc_feed(&adm, "41/admin,");
  mc_close(&app);
  mc_close(&adm);
close_http:
  sio_http_close(t.http, NULL, NULL);
loop_only:
  assert_int_equal(uv_run(&t.loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&t.loop), 0);
  mc_free(&app);
  mc_free(&adm);
  mc_free(&app2);
}

/* oom_step_through, then the allocator back to refusing nothing. */
static long long step_through(int fail_rest) {
  long long n = oom_step_through(run_scenario, OUTSIDE_PARSER, fail_rest);
  oom = (oom_t){OUTSIDE_PARSER, 0, 0, 0, 0, 0};
  return n;
}

static void every_allocation_failure_is_survived(void **state) {
  (void)state;
  long long runs = step_through(0);
  assert_true(runs > 50);
  printf("# %lld runs\n", runs);
  assert_true(step_through(1) > 50);
}

int main(void) {
  static const sio_allocator_t alloc = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&alloc);
  sio__alloc_share_with_jansson(1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hash_parse_accepts_bcrypt_hashes),
      cmocka_unit_test(hash_parse_refuses_the_rest),
      cmocka_unit_test(attach_checks_its_options),
      cmocka_unit_test(events_cost_nothing_without_an_admin),
      cmocka_unit_test(every_allocation_failure_is_survived),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
