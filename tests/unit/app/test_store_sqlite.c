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

#include "jsontext.c"
#include "store.c"
#include "store_sqlite.c"
#include "sio.h"

static char err[512];

static noom_msg_t *msg(const char *id, const char *room, const char *text, int64_t ts) {
  return noom_msg_new(id, room, "nick", text, strlen(text), ts);
}

static void insert(noom_store_t *st, const char *id, const char *room, const char *text, int64_t ts) {
  noom_msg_t *m = msg(id, room, text, ts);
  assert_int_equal(noom_store_sqlite.insert(st, &m, 1, err, sizeof err), NOOM_STORE_OK);
  noom_msg_unref(m);
}

/* Creates an empty file named after template path (its XXXXXX replaced). */
static void temp_file(char *path) {
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
}

/* Removes database file path and its WAL companions. */
static void remove_db(const char *path) {
  char side[64];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
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
  noom_msg_unref(b[0]);
  noom_msg_unref(b[1]);
  noom_store_sqlite.close(st);
}

/* A batch larger than one multi-row INSERT (INS_ROWS) is stored whole, in order, and a
 * retry of it (after a failed commit) stores nothing twice. */
static void store_writes_a_large_batch_once(void **state) {
  (void)state;
  noom_store_t *st;
  assert_int_equal(noom_store_sqlite.open(":memory:", &st, err, sizeof err), NOOM_STORE_OK);
  enum { N = INS_ROWS * 2 + 5 };
  noom_msg_t *b[N];
  for (int i = 0; i < N; i++) {
    char id[16], text[16];
    snprintf(id, sizeof id, "m%03d", i);
    snprintf(text, sizeof text, "t%d", i);
    b[i] = msg(id, i % 2 ? "odd" : "even", text, i);
  }
  assert_int_equal(noom_store_sqlite.insert(st, b, N, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(noom_store_sqlite.insert(st, b, N, err, sizeof err), NOOM_STORE_OK);
  noom_msg_t **v = NULL;
  size_t n = 0;
  assert_int_equal(noom_store_sqlite.read(st, "odd", NULL, 200, &v, &n, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(n, N / 2);
  for (size_t i = 0; i < n; i++) assert_string_equal(v[i]->id, b[2 * i + 1]->id);
  noom_msgs_free(v, n);
  assert_int_equal(noom_store_sqlite.read(st, "even", NULL, 200, &v, &n, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(n, N - N / 2);
  assert_string_equal(v[n - 1]->text, "t68");
  noom_msgs_free(v, n);
  for (int i = 0; i < N; i++) noom_msg_unref(b[i]);
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
  temp_file(path);
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
  remove_db(path);
}

/* A version-1 file (rowid table, three indexes) is migrated to version 2 at open with
 * every message kept, and keeps skipping a retried batch. */
static void store_migrates_a_version_1_file(void **state) {
  (void)state;
  char path[] = "/tmp/noom-store-XXXXXX";
  temp_file(path);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, migrations[0], NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "INSERT INTO messages(id, room, nickname, text, ts) VALUES"
                                    "('e2','r','n','second',2),('e1','r','n','first',1),('e3','o','n','other',3);"
                                    "PRAGMA user_version=1", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  noom_store_t *st;
  assert_int_equal(noom_store_sqlite.open(path, &st, err, sizeof err), NOOM_STORE_OK);
  int v = 0;
  assert_int_equal(user_version(st->db, &v), 0);
  assert_int_equal(v, SCHEMA_VERSION);
  read_texts(st, "r", NULL, 10, "first,second");
  read_texts(st, "o", NULL, 10, "other");
  noom_msg_t *m = msg("e2", "r", "second", 2);
  assert_int_equal(noom_store_sqlite.insert(st, &m, 1, err, sizeof err), NOOM_STORE_OK);
  noom_msg_unref(m);
  read_texts(st, "r", NULL, 10, "first,second");
  noom_store_sqlite.close(st);
  remove_db(path);
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

/* The stored form clients receive is built once as JSON text: every field escaped the way
 * JSON.stringify does it, so JSON.parse gives back exactly what was sent. */
static void message_json_is_its_fields_escaped_like_json_stringify(void **state) {
  (void)state;
  const char text[] = "<script>alert(\"x\")</script> \\ \xc3\xa9 \xf0\x9f\x98\x80\n\t\x01\x1f\x7f end";
  noom_msg_t *m = noom_msg_new("0190a1b2c3d4abcdef01000001", "room", "n\"ick", text, sizeof text - 1, 1733480000123);
  assert_non_null(m);
  assert_string_equal(m->json, "{\"id\":\"0190a1b2c3d4abcdef01000001\",\"nickname\":\"n\\\"ick\",\"text\":\"<script>alert("
                               "\\\"x\\\")</script> \\\\ \xc3\xa9 \xf0\x9f\x98\x80\\n\\t\\u0001\\u001f\x7f end\","
                               "\"ts\":1733480000123}");
  assert_int_equal(m->json_len, strlen(m->json));
  assert_int_equal(m->len, sizeof text - 1);
  assert_memory_equal(m->text, text, sizeof text - 1);
  /* The library accepts it as one JSON value and reads back the very same fields. */
  sio_args_t *a;
  sio_str_t s;
  assert_int_equal(sio_args_new(&a), 0);
  assert_int_equal(sio_args_add_json_text(a, m->json, m->json_len), 0);
  assert_int_equal(sio_args_get_member_str(a, 0, "text", &s), 0);
  assert_int_equal(s.len, sizeof text - 1);
  assert_memory_equal(s.ptr, text, s.len);
  assert_int_equal(sio_args_get_member_str(a, 0, "nickname", &s), 0);
  assert_int_equal(s.len, 5);
  assert_memory_equal(s.ptr, "n\"ick", 5);
  sio_args_free(a);
  /* Shared by reference: the last unref frees it (ASan checks). */
  noom_msg_t *r = noom_msg_ref(m);
  noom_msg_unref(m);
  assert_string_equal(r->nick, "n\"ick");
  noom_msg_unref(r);
  /* An empty text and a NUL inside one. */
  m = noom_msg_new("i", "r", "", "a\0b", 3, 0);
  assert_string_equal(m->json, "{\"id\":\"i\",\"nickname\":\"\",\"text\":\"a\\u0000b\",\"ts\":0}");
  noom_msg_unref(m);
}

/* Messages read back from the store carry the same JSON form. */
static void store_reads_messages_with_their_json_form(void **state) {
  (void)state;
  noom_store_t *st;
  assert_int_equal(noom_store_sqlite.open(":memory:", &st, err, sizeof err), NOOM_STORE_OK);
  insert(st, "c1", "r", "say \"hi\" \xf0\x9f\x91\x8b", 42);
  noom_msg_t **v = NULL;
  size_t n = 0;
  assert_int_equal(noom_store_sqlite.read(st, "r", NULL, 10, &v, &n, err, sizeof err), NOOM_STORE_OK);
  assert_int_equal(n, 1);
  assert_string_equal(v[0]->json, "{\"id\":\"c1\",\"nickname\":\"nick\",\"text\":\"say \\\"hi\\\" \xf0\x9f\x91\x8b\",\"ts\":42}");
  noom_msgs_free(v, n);
  noom_store_sqlite.close(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(store_reads_latest_and_pages_oldest_first),
      cmocka_unit_test(store_keeps_a_retried_batch_once),
      cmocka_unit_test(store_writes_a_large_batch_once),
      cmocka_unit_test(store_prunes_by_age_and_count),
      cmocka_unit_test(store_survives_reopen_and_refuses_a_newer_schema),
      cmocka_unit_test(store_migrates_a_version_1_file),
      cmocka_unit_test(store_for_picks_the_backend_by_url),
      cmocka_unit_test(message_json_is_its_fields_escaped_like_json_stringify),
      cmocka_unit_test(store_reads_messages_with_their_json_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
