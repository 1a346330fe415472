/* Unit tests for the SQLite history store (app/store_sqlite.c), no loop, no threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store.c"
#include "store_sqlite.c"

static char err[512];

static noom_msg_t *msg(const char *id, const char *room, const char *text, int64_t ts) {
  return noom_msg_new(id, room, "nick", text, strlen(text), ts);
}

static void insert(noom_store_t *st, const char *id, const char *room, const char *text, int64_t ts) {
  noom_msg_t *m = msg(id, room, text, ts);
  assert_int_equal(noom_store_sqlite.insert(st, &m, 1, err, sizeof err), NOOM_STORE_OK);
  free(m);
}

static void read_texts(noom_store_t *st, const char *room, const char *before, size_t limit, const char *want) {
  noom_msg_t **v = NULL;
  size_t n = 0;
  assert_int_equal(noom_store_sqlite.read(st, room, before, limit, &v, &n, err, sizeof err), NOOM_STORE_OK);
  char got[256] = "";
  for (size_t i = 0; i < n; i++) {
    strcat(got, v[i]->text);
    strcat(got, i + 1 < n ? "," : "");
  }
  noom_msgs_free(v, n);
  assert_string_equal(got, want);
}

static void store_reads_latest_and_pages_oldest_first(void **state) {
  (void)state;
  noom_store_t *st;
  assert_int_equal(noom_store_sqlite.open(":memory:", &st, err, sizeof err), NOOM_STORE_OK);
  insert(st, "a1", "r", "one", 1);
  insert(st, "a2", "r", "two", 2);
  insert(st, "a3", "other", "elsewhere", 3);
  insert(st, "a4", "r", "three", 4);
  read_texts(st, "r", NULL, 2, "two,three");
  read_texts(st, "r", "a4", 10, "one,two");
  read_texts(st, "r", "a1", 10, "");
  read_texts(st, "nobody", NULL, 10, "");
  noom_store_sqlite.close(st);
}

static void store_keeps_a_retried_batch_once(void **state) {
  (void)state;
  noom_store_t *st;
  assert_int_equal(noom_store_sqlite.open(":memory:", &st, err, sizeof err), NOOM_STORE_OK);
  noom_msg_t *b[2] = {msg("b1", "r", "x", 1), msg("b2", "r", "y", 2)};
  assert_int_equal(noom_store_sqlite.insert(st, b, 2, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(noom_store_sqlite.insert(st, b, 2, err, sizeof err), NOOM_STORE_OK);
  read_texts(st, "r", NULL, 10, "x,y");
  free(b[0]);
  free(b[1]);
  noom_store_sqlite.close(st);
}

static void store_prunes_by_age_and_count(void **state) {
  (void)state;
  noom_store_t *st;
  uint64_t deleted;
  assert_int_equal(noom_store_sqlite.open(":memory:", &st, err, sizeof err), NOOM_STORE_OK);
  insert(st, "c1", "r", "old", 10);
  insert(st, "c2", "r", "a", 100);
  insert(st, "c3", "r", "b", 101);
  insert(st, "c4", "r", "c", 102);
  insert(st, "c5", "s", "only", 103);
  assert_int_equal(noom_store_sqlite.prune(st, 50, 2, NULL, 0, &deleted, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(deleted, 2); /* "old" by age, then "a" by count */
  read_texts(st, "r", NULL, 10, "b,c");
  read_texts(st, "s", NULL, 10, "only");
  /* Only the rooms named: s keeps its two, r goes down to one. */
  insert(st, "c6", "s", "two", 104);
  const char *rooms[] = {"r"};
  assert_int_equal(noom_store_sqlite.prune(st, 0, 1, rooms, 1, &deleted, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(deleted, 1);
  read_texts(st, "r", NULL, 10, "c");
  read_texts(st, "s", NULL, 10, "only,two");
  noom_store_sqlite.close(st);
}

static void store_survives_reopen_and_refuses_a_newer_schema(void **state) {
  (void)state;
  char path[] = "/tmp/noom-store-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  noom_store_t *st;
  assert_int_equal(noom_store_sqlite.open(path, &st, err, sizeof err), NOOM_STORE_OK);
  insert(st, "d1", "r", "kept", 1);
  noom_store_sqlite.close(st);
  assert_int_equal(noom_store_sqlite.open(path, &st, err, sizeof err), NOOM_STORE_OK);
  read_texts(st, "r", NULL, 10, "kept");
  assert_int_equal(sqlite3_exec(st->db, "PRAGMA user_version=7", NULL, NULL, NULL), SQLITE_OK);
  noom_store_sqlite.close(st);
  assert_int_equal(noom_store_sqlite.open(path, &st, err, sizeof err), NOOM_STORE_FATAL);
  assert_non_null(strstr(err, "newer noom"));
  char wal[64];
  unlink(path);
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
}

static void store_for_picks_the_backend_by_url(void **state) {
  (void)state;
  assert_ptr_equal(noom_store_for("postgres://u@h/db"), &noom_store_pg);
  assert_ptr_equal(noom_store_for("postgresql://h/db"), &noom_store_pg);
  assert_ptr_equal(noom_store_for("noom.db"), &noom_store_sqlite);
  assert_ptr_equal(noom_store_for(":memory:"), &noom_store_sqlite);
}

/* The PostgreSQL backend is not linked here: only its address is compared. */
const noom_store_ops_t noom_store_pg = {"PostgreSQL", NULL, NULL, NULL, NULL, NULL};

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(store_reads_latest_and_pages_oldest_first),
      cmocka_unit_test(store_keeps_a_retried_batch_once),
      cmocka_unit_test(store_prunes_by_age_and_count),
      cmocka_unit_test(store_survives_reopen_and_refuses_a_newer_schema),
      cmocka_unit_test(store_for_picks_the_backend_by_url),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
