/*
 * History in an SQLite file (the single-node default). WAL journal with
 * synchronous=NORMAL: a commit is a write to the WAL without fsync, so a killed process
 * (kill -9) loses nothing committed and a power cut at most the last commits, never the
 * file's consistency. The schema version lives in PRAGMA user_version and is migrated
 * forward at open; a newer version, a corrupt file or someone else's database is refused
 * with a message, never reset.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define SCHEMA_VERSION 2

struct noom_store_s {
  sqlite3 *db;
  sqlite3_stmt *ins, *ins_many, *latest, *before, *begin, *commit;
};

/* Rows per multi-row INSERT: a batch is mostly statements of this many rows, so the cost
 * of running a statement (start, halt, reset) is paid once per INS_ROWS messages. */
#define INS_ROWS 32
#define INS_SQL "INSERT OR IGNORE INTO messages(id, room, nickname, text, ts) VALUES"


/* Each step brings the schema from version i to i+1. Version 2 keeps the rows in their
 * (room, id) key, the order every read wants, with no rowid table beside it: an insert
 * writes two B-trees (the key and the ts index for retention) instead of four (the
 * table, the unique id, (room, id) and ts). Ids are unique per node and room, so the key
 * also makes a retried batch land once. */
static const char *const migrations[SCHEMA_VERSION] = {
    "CREATE TABLE messages(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, room TEXT NOT NULL,"
    " nickname TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL);"
    "CREATE INDEX messages_room_id ON messages(room, id);"
    "CREATE INDEX messages_ts ON messages(ts);",
    "CREATE TABLE messages_v2(room TEXT NOT NULL, id TEXT NOT NULL, nickname TEXT NOT NULL, text TEXT NOT NULL,"
    " ts INTEGER NOT NULL, PRIMARY KEY(room, id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO messages_v2(room, id, nickname, text, ts) SELECT room, id, nickname, text, ts FROM messages;"
    "DROP TABLE messages;"
    "ALTER TABLE messages_v2 RENAME TO messages;"
    "CREATE INDEX messages_ts ON messages(ts);",
};

static int report(sqlite3 *db, const char *what, const char *path, char *err, size_t errlen) {
  int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
  const char *msg = db ? sqlite3_errmsg(db) : "out of memory";
  int fatal = code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
  if (fatal) {
    snprintf(err, errlen, "%s: %s (%s): the file is corrupt or not a database; noom never resets it: move it away "
                          "(or restore a backup) and start again", path, what, msg);
  } else if (code == SQLITE_FULL) {
    snprintf(err, errlen, "%s: %s: disk full: free some space", path, what);
  } else if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM) {
    snprintf(err, errlen, "%s: %s (%s): make the file and its directory writable by noom, or pass another --db",
             path, what, msg);
  } else {
    snprintf(err, errlen, "%s: %s: %s", path, what, msg);
  }
  return fatal ? NOOM_STORE_FATAL : NOOM_STORE_RETRY;
}

static int user_version(sqlite3 *db, int *v) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
  int rc = sqlite3_step(st);
  *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : -1;
}

/* 1 when a version-0 file already holds tables: someone else's database. */
static int foreign(sqlite3 *db) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) != SQLITE_OK) return -1;
  int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  return n;
}

/* Refuses a file noom must not touch, before anything is written to it (even switching
 * to WAL changes the header). *version gets the schema version found. */
static int check(sqlite3 *db, const char *path, int *version, char *err, size_t errlen) {
  int v;
  if (user_version(db, &v) != 0) return report(db, "cannot read the schema version", path, err, errlen);
  *version = v;
  if (v > SCHEMA_VERSION) {
    snprintf(err, errlen, "%s: history schema version %d was written by a newer noom (this one knows %d): run the "
                          "newer noom, or pass another --db", path, v, SCHEMA_VERSION);
    return NOOM_STORE_FATAL;
  }
  if (v == 0) {
    int n = foreign(db);
    if (n < 0) return report(db, "cannot read the schema", path, err, errlen);
    if (n > 0) {
      snprintf(err, errlen, "%s: holds tables that are not noom's history: pass another --db", path);
      return NOOM_STORE_FATAL;
    }
  }
  return NOOM_STORE_OK;
}

static int migrate(sqlite3 *db, const char *path, int v, char *err, size_t errlen) {
  for (; v < SCHEMA_VERSION; v++) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
    /* One transaction per step: a crash mid-migration leaves the old version intact. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      int r = report(db, "cannot migrate the schema", path, err, errlen);
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      return r;
    }
  }
  return NOOM_STORE_OK;
}

static void st_close(noom_store_t *st) {
  if (st == NULL) return;
  sqlite3_finalize(st->ins);
  sqlite3_finalize(st->ins_many);
  sqlite3_finalize(st->latest);
  sqlite3_finalize(st->before);
  sqlite3_finalize(st->begin);
  sqlite3_finalize(st->commit);
  sqlite3_close(st->db);
  free(st);
}

static int st_open(const char *path, noom_store_t **out, char *err, size_t errlen) {
  noom_store_t *st = calloc(1, sizeof *st);
  if (st == NULL) return report(NULL, "open", path, err, errlen);
  int r = NOOM_STORE_OK, v = 0;
  char many[sizeof INS_SQL + INS_ROWS * sizeof ",(?,?,?,?,?)"] = INS_SQL;
  for (int i = 0; i < INS_ROWS; i++) strcat(many, i ? ",(?,?,?,?,?)" : "(?,?,?,?,?)");
  if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    r = report(st->db, "cannot open", path, err, errlen);
  } else if (sqlite3_exec(st->db, "PRAGMA busy_timeout=2000", NULL, NULL, NULL) != SQLITE_OK) {
    r = report(st->db, "cannot open", path, err, errlen);
  } else if ((r = check(st->db, path, &v, err, errlen)) != NOOM_STORE_OK) {
  } else if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
             sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
    r = report(st->db, "cannot set WAL mode", path, err, errlen);
  } else if ((r = migrate(st->db, path, v, err, errlen)) != NOOM_STORE_OK) {
  } else if (sqlite3_prepare_v2(st->db, INS_SQL "(?,?,?,?,?)", -1, &st->ins, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(st->db, many, -1, &st->ins_many, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(st->db, "SELECT id, nickname, text, ts FROM messages WHERE room=? ORDER BY id DESC LIMIT ?",
                                -1, &st->latest, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(st->db,
                                "SELECT id, nickname, text, ts FROM messages WHERE room=? AND id<? ORDER BY id DESC LIMIT ?",
                                -1, &st->before, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(st->db, "BEGIN IMMEDIATE", -1, &st->begin, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(st->db, "COMMIT", -1, &st->commit, NULL) != SQLITE_OK) {
    r = report(st->db, "cannot prepare statements", path, err, errlen);
  } else if (sqlite3_db_readonly(st->db, "main") == 1) {
    /* Readable still: history is served, new messages wait for the file to be writable. */
    snprintf(err, errlen, "%s is read-only: make it and its directory writable by noom, or pass another --db", path);
    *out = st;
    return NOOM_STORE_RETRY;
  }
  if (r != NOOM_STORE_OK) {
    st_close(st);
    return r;
  }
  *out = st;
  return NOOM_STORE_OK;
}

static int st_insert(noom_store_t *st, noom_msg_t *const *msgs, size_t n, char *err, size_t errlen) {
  const char *path = sqlite3_db_filename(st->db, "main");
  /* Prepared once at open, like the insert: a batch parses no SQL. */
  int rc = sqlite3_step(st->begin);
  sqlite3_reset(st->begin);
  if (rc != SQLITE_DONE) return report(st->db, "cannot write", path, err, errlen);
  for (size_t i = 0; i < n;) {
    /* INS_ROWS at a time while there are that many, then one by one. */
    sqlite3_stmt *q = n - i >= INS_ROWS ? st->ins_many : st->ins;
    int rows = q == st->ins_many ? INS_ROWS : 1;
    for (int k = 0; k < rows; k++, i++) {
      const noom_msg_t *m = msgs[i];
      sqlite3_bind_text(q, k * 5 + 1, m->id, -1, SQLITE_STATIC);
      sqlite3_bind_text(q, k * 5 + 2, m->room, -1, SQLITE_STATIC);
      sqlite3_bind_text(q, k * 5 + 3, m->nick, -1, SQLITE_STATIC);
      sqlite3_bind_text(q, k * 5 + 4, m->text, (int)m->len, SQLITE_STATIC);
      sqlite3_bind_int64(q, k * 5 + 5, m->ts);
    }
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
      int r = report(st->db, "cannot write", path, err, errlen);
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
      return r;
    }
  }
  rc = sqlite3_step(st->commit);
  sqlite3_reset(st->commit);
  if (rc != SQLITE_DONE) {
    int r = report(st->db, "cannot commit", path, err, errlen);
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
  }
  return NOOM_STORE_OK;
}

static int st_read(noom_store_t *st, const char *room, const char *before, size_t limit, noom_msg_t ***out, size_t *n,
                   char *err, size_t errlen) {
  sqlite3_stmt *q = before ? st->before : st->latest;
  int k = 1;
  sqlite3_bind_text(q, k++, room, -1, SQLITE_STATIC);
  if (before) sqlite3_bind_text(q, k++, before, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, k, (sqlite3_int64)limit);
  noom_msg_t **v = calloc(limit ? limit : 1, sizeof *v);
  size_t got = 0;
  int rc;
  while (v && got < limit && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(q, 2);
    size_t len = (size_t)sqlite3_column_bytes(q, 2);
    v[got] = noom_msg_new((const char *)sqlite3_column_text(q, 0), room, (const char *)sqlite3_column_text(q, 1),
                          text ? text : "", len, sqlite3_column_int64(q, 3));
    if (v[got] == NULL) break;
    got++;
  }
  int ok = v && (got == limit || rc == SQLITE_DONE);
  int r = ok ? NOOM_STORE_OK : report(v ? st->db : NULL, "cannot read", sqlite3_db_filename(st->db, "main"), err, errlen);
  sqlite3_reset(q);
  if (!ok) {
    noom_msgs_free(v, got);
    return r;
  }
  /* Newest first from the index; the contract is oldest first. */
  for (size_t i = 0; i < got / 2; i++) {
    noom_msg_t *t = v[i];
    v[i] = v[got - 1 - i];
    v[got - 1 - i] = t;
  }
  *out = v;
  *n = got;
  return NOOM_STORE_OK;
}

static int st_prune(noom_store_t *st, int64_t min_ts, uint64_t max_per_room, const char *const *rooms, size_t n,
                    uint64_t *deleted, char *err, size_t errlen) {
  const char *path = sqlite3_db_filename(st->db, "main");
  sqlite3_stmt *q;
  *deleted = 0;
  if (sqlite3_prepare_v2(st->db, "DELETE FROM messages WHERE ts<?", -1, &q, NULL) != SQLITE_OK)
    return report(st->db, "cannot prune", path, err, errlen);
  sqlite3_bind_int64(q, 1, min_ts);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return report(st->db, "cannot prune", path, err, errlen);
  *deleted += (uint64_t)sqlite3_changes(st->db);
  if (max_per_room == 0) return NOOM_STORE_OK;
  if (rooms) {
    /* Per room through the (room, id) index: cost follows what is deleted, not the table. */
    if (sqlite3_prepare_v2(st->db,
                           "DELETE FROM messages WHERE room=?1 AND id<=(SELECT id FROM messages WHERE room=?1 "
                           "ORDER BY id DESC LIMIT 1 OFFSET ?2)", -1, &q, NULL) != SQLITE_OK)
      return report(st->db, "cannot prune", path, err, errlen);
    for (size_t i = 0; i < n; i++) {
      sqlite3_bind_text(q, 1, rooms[i], -1, SQLITE_STATIC);
      sqlite3_bind_int64(q, 2, (sqlite3_int64)max_per_room);
      rc = sqlite3_step(q);
      sqlite3_reset(q);
      if (rc != SQLITE_DONE) break;
      *deleted += (uint64_t)sqlite3_changes(st->db);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE || n == 0 ? NOOM_STORE_OK : report(st->db, "cannot prune", path, err, errlen);
  }
  if (sqlite3_prepare_v2(st->db,
                         "DELETE FROM messages WHERE (room, id) IN (SELECT room, id FROM (SELECT room, id, row_number() OVER "
                         "(PARTITION BY room ORDER BY id DESC) AS n FROM messages) WHERE n>?)",
                         -1, &q, NULL) != SQLITE_OK)
    return report(st->db, "cannot prune", path, err, errlen);
  sqlite3_bind_int64(q, 1, (sqlite3_int64)max_per_room);
  rc = sqlite3_step(q);
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return report(st->db, "cannot prune", path, err, errlen);
  *deleted += (uint64_t)sqlite3_changes(st->db);
  return NOOM_STORE_OK;
}

const noom_store_ops_t noom_store_sqlite = {"SQLite", st_open, st_insert, st_read, st_prune, st_close};
