/* Unit tests for the timeout lists: every registered list is served, however many. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/tlist.h"

#define NLISTS 40

static int fired[NLISTS];
static sio__tlist_t lists[NLISTS];
static sio__tnode_t nodes[NLISTS];

static void on_expire(sio__tnode_t *n) { fired[n - nodes]++; }
static void stop(uv_timer_t *t) { uv_timer_stop(t); }

/* A hub once held 16 lists and silently never served a 17th: a server with two
 * engines plus the app's own lists could lose its connect timeout that way. */
static void every_list_of_a_hub_fires(void **state) {
  (void)state;
  uv_loop_t loop;
  sio__thub_t hub;
  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(sio__thub_init(&hub, &loop), 0);
  for (int i = 0; i < NLISTS; i++) {
    sio__tlist_init(&lists[i], &hub, (uint64_t)(1 + i % 3), on_expire);
    sio__tnode_init(&nodes[i]);
    sio__tlist_arm(&lists[i], &nodes[i]);
  }
  /* The hub's timer is unreferenced: a referenced one keeps the loop running. */
  uv_timer_t keep;
  uv_timer_init(&loop, &keep);
  uv_timer_start(&keep, stop, 20, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  for (int i = 0; i < NLISTS; i++) assert_int_equal(fired[i], 1);
  uv_close((uv_handle_t *)&keep, NULL);
  sio__thub_close(&hub, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_list_of_a_hub_fires),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
