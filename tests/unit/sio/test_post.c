/*
 * sio_server_post, the one thread-safe call: work posted from a real thread runs on the
 * loop thread, once per post, in posting order, and can emit; posts still queued when
 * the server closes run once with SIO_ECANCELED; the loop closes clean.
 */
#include "helpers.h"

enum { NPOSTS = 2000 };

typedef struct {
  env_t *t;
  mc_t *client;
  sio_socket_t *sock;
  uv_thread_t loop_thread; /* the thread running the loop (this one) */
  int ran;                 /* callbacks run with status 0 (loop thread only) */
  int canceled;            /* callbacks run with SIO_ECANCELED */
  int next;                /* the value the next callback must carry: order check */
  int wrong_thread;
  int out_of_order;
  int post_errors;         /* posts that did not return 0 (worker thread) */
} post_env_t;

typedef struct {
  post_env_t *e;
  int seq;
} job_t;

static void on_job(sio_server_t *io, int status, void *user) {
  job_t *j = user;
  post_env_t *e = j->e;
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &e->loop_thread)) e->wrong_thread++;
  if (j->seq != e->next++) e->out_of_order++;
  if (status == 0) {
    e->ran++;
    /* Loop-thread work: the last job tells the client. */
    if (j->seq == NPOSTS - 1) assert_int_equal(sio_socket_emitf(e->sock, "done", "i", j->seq), 0);
  } else {
    assert_int_equal(status, SIO_ECANCELED);
    e->canceled++;
  }
  (void)io;
  free(j);
}

static void worker(void *arg) {
  post_env_t *e = arg;
  for (int i = 0; i < NPOSTS; i++) {
    job_t *j = malloc(sizeof *j);
    if (j == NULL) abort();
    j->e = e;
    j->seq = i;
    if (sio_server_post(e->t->io, on_job, j) != 0) {
      e->post_errors++;
      free(j);
    }
  }
}

static int all_ran(void *ctx) {
  post_env_t *e = ctx;
  return e->ran == NPOSTS;
}

static void posts_from_a_thread_run_on_the_loop_in_order(void **state) {
  (void)state;
  env_t t;
  mc_t c;
  char sid[SIO__SID_LEN + 1];
  env_init(&t, NULL);
  mc_connect(&t, &c, "/", sid);
  post_env_t e = {.t = &t, .client = &c};
  e.sock = find_socket(sio_server_main(t.io), sid);
  e.loop_thread = uv_thread_self();

  uv_thread_t th;
  assert_int_equal(uv_thread_create(&th, worker, &e), 0);
  /* The loop runs while the worker posts: posts land between and during turns. */
  assert_true(run_until(&t, all_ran, &e, 10000));
  assert_int_equal(uv_thread_join(&th), 0);
  assert_int_equal(e.post_errors, 0);
  assert_int_equal(e.ran, NPOSTS);
  assert_int_equal(e.wrong_thread, 0);
  assert_int_equal(e.out_of_order, 0);
  mc_expect(&c, "42[\"done\",1999]");

  /* Queued but not yet run when the server closes: canceled, exactly once each. */
  e.next = 0;
  for (int i = 0; i < 3; i++) {
    job_t *j = malloc(sizeof *j);
    assert_non_null(j);
    *j = (job_t){&e, i};
    assert_int_equal(sio_server_post(t.io, on_job, j), 0);
  }
  assert_int_equal(sio_server_post(t.io, NULL, NULL), SIO_EINVAL);
  assert_int_equal(sio_server_post(NULL, on_job, NULL), SIO_EINVAL);
  env_close(&t); /* uv_loop_close == 0: the async handle was closed */
  assert_int_equal(e.canceled, 3);
  assert_int_equal(e.ran, NPOSTS);
  assert_int_equal(e.out_of_order, 0);
  mc_free(&c);
}

/* An idle server with nothing posted: the unref'd async handle does not keep the loop
 * alive, and closing frees it. */
static void an_unused_post_queue_closes_clean(void **state) {
  (void)state;
  env_t t;
  env_init(&t, NULL);
  assert_int_equal(uv_run(&t.loop, UV_RUN_NOWAIT), 0);
  env_close(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(posts_from_a_thread_run_on_the_loop_in_order),
      cmocka_unit_test(an_unused_post_queue_closes_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
