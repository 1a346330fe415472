/*
 * sio/metrics.h: the text exposition's escaping and number forms, name checks, and
 * counters that move with what in-memory clients do.
 */
#include "helpers.h"
#include "sio/metrics.h"

typedef struct {
  int rc[8];
  int n;
} extra_t;

/* Writes families of the test's own: an escaped HELP, an escaped label, number forms. */
static void write_extra(sio_metrics_out_t *o, void *user) {
  extra_t *x = user;
  x->rc[x->n++] = sio_metrics_family(o, "t_esc", SIO_METRIC_GAUGE, "back\\slash\nnew line \"quotes\" stay");
  x->rc[x->n++] = sio_metrics_sample(o, "t_esc", 1e6, "v", "a\"b\\c\nd", "w", "", NULL);
  x->rc[x->n++] = sio_metrics_sample(o, "t_esc", 0.25, NULL);
  x->rc[x->n++] = sio_metrics_sample(o, "t_esc", 9007199254740993.0 * 4, NULL);
  x->rc[x->n++] = sio_metrics_sample(o, "t_esc", -3, NULL);
}

static char *text_of(env_t *t, sio_metrics_cb extra, void *user, int *rc) {
  char *s = NULL;
  size_t len = 0;
  *rc = sio_metrics_text(t->io, extra, user, &s, &len);
  if (*rc == 0) assert_int_equal(strlen(s), len);
  return s;
}

static void escapes_help_and_label_values_and_writes_exact_integers(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  extra_t x = {{0}, 0};
  int rc;
  char *s = text_of(&t, write_extra, &x, &rc);
  assert_int_equal(rc, 0);
  for (int i = 0; i < x.n; i++) assert_int_equal(x.rc[i], 0);
  assert_non_null(strstr(s, "# HELP t_esc back\\\\slash\\nnew line \"quotes\" stay\n# TYPE t_esc gauge\n"));
  assert_non_null(strstr(s, "t_esc{v=\"a\\\"b\\\\c\\nd\",w=\"\"} 1000000\n"));
  assert_non_null(strstr(s, "\nt_esc 0.25\n"));
  assert_non_null(strstr(s, "\nt_esc 36028797018963968\n"));
  assert_non_null(strstr(s, "\nt_esc -3\n"));
  /* The library's families come first, each with HELP and TYPE. */
  assert_non_null(strstr(s, "# TYPE socket_io_connected gauge\nsocket_io_connected{namespace=\"/\"} 0\n"));
  assert_non_null(strstr(s, "# TYPE process_open_fds gauge\n"));
  sio_free(s);
  env_close(&t);
}

static void bad_names(sio_metrics_out_t *o, void *user) {
  int *rc = user;
  rc[0] = sio_metrics_family(o, "9starts_with_digit", SIO_METRIC_GAUGE, "x");
}
static void bad_label(sio_metrics_out_t *o, void *user) {
  int *rc = user;
  rc[0] = sio_metrics_family(o, "ok_name", SIO_METRIC_GAUGE, "x");
  rc[1] = sio_metrics_sample(o, "ok_name", 1, "bad-label", "v", NULL);
  rc[2] = sio_metrics_sample(o, "ok_name", 1, NULL); /* after an error: refused too */
}

static void refuses_bad_metric_and_label_names(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  int rc3[3] = {0}, rc;
  assert_null(text_of(&t, bad_names, rc3, &rc));
  assert_int_equal(rc, SIO_EINVAL);
  assert_int_equal(rc3[0], SIO_EINVAL);
  assert_null(text_of(&t, bad_label, rc3, &rc));
  assert_int_equal(rc, SIO_EINVAL);
  assert_int_equal(rc3[0], 0);
  assert_int_equal(rc3[1], SIO_EINVAL);
  assert_int_equal(rc3[2], SIO_EINVAL);
  env_close(&t);
}

/* The value of the sample line that starts with prefix (name and labels), or -1. */
static double sample(const char *text, const char *prefix) {
  char want[256];
  snprintf(want, sizeof want, "\n%s ", prefix);
  const char *p = strstr(text, want);
  return p ? strtod(p + strlen(want), NULL) : -1;
}

static double scrape(env_t *t, const char *prefix) {
  int rc;
  char *s = text_of(t, NULL, NULL, &rc);
  assert_int_equal(rc, 0);
  double v = sample(s, prefix);
  sio_free(s);
  return v;
}

static void counters_move_with_connects_events_and_disconnects(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  sio_ns_t *odd;
  /* A namespace name that needs escaping in a label. */
  assert_int_equal(sio_server_of(t.io, "/we\"ird", &odd), 0);
  mc_t a = {0}, b = {0};
  char sa[SIO__SID_LEN + 1], sb[SIO__SID_LEN + 1];
  mc_connect(&t, &a, "/", sa);
  mc_connect(&t, &b, "/we\"ird", sb);
  assert_int_equal(mc_feed(&a, "42[\"hello\",1]"), 0);
  assert_int_equal(mc_feed(&a, "42[\"hello\",22]"), 0);
  assert_int_equal(mc_feed(&b, "42/we\"ird,[\"x\"]"), 0);
  assert_int_equal(sio_ns_emit(odd, NULL, "news", NULL), 1);
  assert_int_equal(scrape(&t, "socket_io_connected{namespace=\"/\"}"), 1);
  assert_int_equal(scrape(&t, "socket_io_connected{namespace=\"/we\\\"ird\"}"), 1);
  assert_int_equal(scrape(&t, "socket_io_connect_total{namespace=\"/\"}"), 1);
  assert_int_equal(scrape(&t, "socket_io_events_received_total{namespace=\"/\"}"), 2);
  assert_int_equal(scrape(&t, "socket_io_recieve_bytes{namespace=\"/\"}"),
                   strlen("2[\"hello\",1]") + strlen("2[\"hello\",22]")); /* whole packets, without the Engine.IO "4" */
  assert_int_equal(scrape(&t, "socket_io_events_received_total{namespace=\"/we\\\"ird\"}"), 1);
  assert_int_equal(scrape(&t, "socket_io_events_sent_total{namespace=\"/we\\\"ird\"}"), 1);
  assert_int_equal(scrape(&t, "noom_broadcasts_total"), 1);
  assert_int_equal(scrape(&t, "noom_broadcast_deliveries_total"), 1);
  assert_int_equal(scrape(&t, "noom_namespaces"), 2);
  assert_int_equal(scrape(&t, "noom_sockets"), 2);
  /* 2 CONNECTs + 3 events; in-memory sessions are not counted under a network transport. */
  assert_int_equal(scrape(&t, "noom_packets_received_total"), 5);
  assert_int_equal(mc_feed(&a, "41"), 0); /* DISCONNECT from the client */
  assert_int_equal(scrape(&t, "socket_io_disconnect_total{namespace=\"/\"}"), 1);
  assert_int_equal(scrape(&t, "socket_io_connected{namespace=\"/\"}"), 0);
  mc_close(&a);
  mc_close(&b);
  mc_free(&a);
  mc_free(&b);
  env_close(&t);
}

/* sio_server_drain: closes at most max sessions each call, as a transport close (no
 * Socket.IO DISCONNECT packet reaches the client), and none twice. */
static void drain_closes_sessions_in_slices_without_a_disconnect_packet(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  dc_log_t dc = {0};
  assert_int_equal(sio_ns_on_disconnect(sio_server_main(t.io), dc_record, &dc), 0);
  mc_t c[3];
  char sid[SIO__SID_LEN + 1];
  for (int i = 0; i < 3; i++) mc_connect(&t, &c[i], "/", sid);
  assert_int_equal(sio_server_session_count(t.io), 3);
  assert_int_equal(sio_server_drain(t.io, 2, 0), 2);
  assert_int_equal(sio_server_session_count(t.io), 1);
  assert_int_equal(dc.count, 2);
  assert_string_equal(dc.reason, "forced close"); /* recoverable (socket.ts RECOVERABLE_DISCONNECT_REASONS) */
  int closed = 0;
  for (int i = 0; i < 3; i++) {
    if (c[i].closed) {
      closed++;
      mc_expect_none(&c[i]); /* the transport went; no "41" came before it */
    }
  }
  assert_int_equal(closed, 2);
  assert_int_equal(sio_server_drain(t.io, 5, 1), 1);
  assert_int_equal(sio_server_session_count(t.io), 0);
  assert_int_equal(sio_server_drain(t.io, 5, 0), 0);
  assert_int_equal(dc.count, 3);
  for (int i = 0; i < 3; i++) mc_free(&c[i]);
  env_close(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(escapes_help_and_label_values_and_writes_exact_integers),
      cmocka_unit_test(refuses_bad_metric_and_label_names),
      cmocka_unit_test(counters_move_with_connects_events_and_disconnects),
      cmocka_unit_test(drain_closes_sessions_in_slices_without_a_disconnect_packet),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
