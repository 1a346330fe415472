/*
 * History in PostgreSQL, shared by every node of a fleet (--redis). Runs on histdb.c's
 * worker thread, so libpq's blocking calls are fine here. Every value is a bound
 * parameter ($1), never spliced into SQL. A message is inserted only by the node that
 * accepted it, and ON CONFLICT (id) DO NOTHING makes a retried batch land exactly once.
 * The schema version lives in noom_meta; nodes starting together migrate under an
 * advisory lock, and a version newer than this binary is refused.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define SCHEMA_VERSION 1
#define MIGRATE_LOCK "7472110" /* pg_advisory_xact_lock key: noom's history migrations */

struct noom_store_s {
  PGconn *pg;
};

static const char *const migrations[SCHEMA_VERSION] = {
    "CREATE TABLE noom_messages(id text PRIMARY KEY, room text NOT NULL, nickname text NOT NULL,"
    " text text NOT NULL, ts bigint NOT NULL);"
    "CREATE INDEX noom_messages_room_id ON noom_messages(room, id);"
    "CREATE INDEX noom_messages_ts ON noom_messages(ts);",
};

/* Describes the failure of r (may be NULL) for the operator. Always RETRY: a server that
 * is down or restarting comes back. */
static int report(noom_store_t *st, PGresult *r, const char *what, char *err, size_t errlen) {
  const char *msg = r ? PQresultErrorMessage(r) : "";
  if (msg[0] == '\0') msg = PQerrorMessage(st->pg);
  char clean[400];
  snprintf(clean, sizeof clean, "%s", msg);
  for (char *p = clean; *p; p++)
    if (*p == '\n') *p = ' ';
  snprintf(err, errlen, "PostgreSQL %s@%s:%s: %s: %s(is the server up and the --db URL right?)", PQuser(st->pg),
           PQhost(st->pg), PQport(st->pg), what, clean);
  if (r) PQclear(r);
  return NOOM_STORE_RETRY;
}

static int exec_ok(PGresult *r) {
  ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static int run(noom_store_t *st, const char *sql, const char *what, char *err, size_t errlen) {
  PGresult *r = PQexec(st->pg, sql);
  if (!exec_ok(r)) return report(st, r, what, err, errlen);
  PQclear(r);
  return NOOM_STORE_OK;
}

static int migrate(noom_store_t *st, char *err, size_t errlen) {
  int r = run(st, "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
                  "CREATE TABLE IF NOT EXISTS noom_meta(key text PRIMARY KEY, value text NOT NULL)",
              "cannot create the schema table", err, errlen);
  if (r != NOOM_STORE_OK) return r;
  PGresult *q = PQexec(st->pg, "SELECT value FROM noom_meta WHERE key='schema_version'");
  if (!exec_ok(q)) {
    r = report(st, q, "cannot read the schema version", err, errlen);
    PQclear(PQexec(st->pg, "ROLLBACK"));
    return r;
  }
  int v = PQntuples(q) ? atoi(PQgetvalue(q, 0, 0)) : 0;
  PQclear(q);
  if (v > SCHEMA_VERSION) {
    PQclear(PQexec(st->pg, "ROLLBACK"));
    snprintf(err, errlen, "PostgreSQL %s: history schema version %d was written by a newer noom (this one knows %d): "
                          "run the newer noom, or use another database", PQdb(st->pg), v, SCHEMA_VERSION);
    return NOOM_STORE_FATAL;
  }
  for (; v < SCHEMA_VERSION; v++) {
    char ver[16];
    snprintf(ver, sizeof ver, "%d", v + 1);
    const char *p[] = {ver};
    if ((r = run(st, migrations[v], "cannot migrate the schema", err, errlen)) != NOOM_STORE_OK) break;
    q = PQexecParams(st->pg,
                     "INSERT INTO noom_meta(key, value) VALUES('schema_version', $1) "
                     "ON CONFLICT (key) DO UPDATE SET value=EXCLUDED.value",
                     1, NULL, p, NULL, NULL, 0);
    if (!exec_ok(q)) {
      r = report(st, q, "cannot record the schema version", err, errlen);
      break;
    }
    PQclear(q);
  }
  if (r != NOOM_STORE_OK) {
    PQclear(PQexec(st->pg, "ROLLBACK"));
    return r;
  }
  return run(st, "COMMIT", "cannot commit the schema", err, errlen);
}

static void st_close(noom_store_t *st) {
  if (st == NULL) return;
  PQfinish(st->pg);
  free(st);
}

static int st_open(const char *url, noom_store_t **out, char *err, size_t errlen) {
  noom_store_t *st = calloc(1, sizeof *st);
  if (st == NULL) {
    snprintf(err, errlen, "out of memory");
    return NOOM_STORE_RETRY;
  }
  /* Bounds on how long the worker (and an enter_room waiting for a read) can hang on a
   * server that is dead or stuck: connecting, each statement, a silent connection. */
  const char *keys[] = {"dbname", "connect_timeout", "options", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "application_name", NULL};
  const char *vals[] = {url, "3", "-c statement_timeout=5000", "10", "5", "3", "noom", NULL};
  st->pg = PQconnectdbParams(keys, vals, 1);
  int r;
  if (st->pg == NULL || PQstatus(st->pg) != CONNECTION_OK) {
    snprintf(err, errlen, "PostgreSQL: cannot connect: %s(is the server up and the --db URL right?)",
             st->pg ? PQerrorMessage(st->pg) : "out of memory");
    for (char *p = err; *p; p++)
      if (*p == '\n') *p = ' ';
    r = NOOM_STORE_RETRY;
  } else {
    PQclear(PQexec(st->pg, "SET client_min_messages=warning"));
    r = migrate(st, err, errlen);
  }
  if (r != NOOM_STORE_OK) {
    st_close(st);
    return r;
  }
  *out = st;
  return NOOM_STORE_OK;
}

static int st_insert(noom_store_t *st, noom_msg_t *const *msgs, size_t n, char *err, size_t errlen) {
  int r = run(st, "BEGIN", "cannot write", err, errlen);
  for (size_t i = 0; r == NOOM_STORE_OK && i < n; i++) {
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)msgs[i]->ts);
    const char *p[] = {msgs[i]->id, msgs[i]->room, msgs[i]->nick, msgs[i]->text, ts};
    PGresult *q = PQexecParams(st->pg,
                               "INSERT INTO noom_messages(id, room, nickname, text, ts) VALUES($1,$2,$3,$4,$5) "
                               "ON CONFLICT (id) DO NOTHING",
                               5, NULL, p, NULL, NULL, 0);
    if (!exec_ok(q)) r = report(st, q, "cannot write", err, errlen);
    else PQclear(q);
  }
  if (r == NOOM_STORE_OK) return run(st, "COMMIT", "cannot commit", err, errlen);
  PQclear(PQexec(st->pg, "ROLLBACK"));
  return r;
}

static int st_read(noom_store_t *st, const char *room, const char *before, size_t limit, noom_msg_t ***out, size_t *n,
                   char *err, size_t errlen) {
  char lim[24];
  snprintf(lim, sizeof lim, "%zu", limit);
  PGresult *q;
  if (before) {
    const char *p[] = {room, before, lim};
    q = PQexecParams(st->pg, "SELECT id, nickname, text, ts FROM noom_messages WHERE room=$1 AND id<$2 ORDER BY id DESC "
                             "LIMIT $3", 3, NULL, p, NULL, NULL, 0);
  } else {
    const char *p[] = {room, lim};
    q = PQexecParams(st->pg, "SELECT id, nickname, text, ts FROM noom_messages WHERE room=$1 ORDER BY id DESC LIMIT $2",
                     2, NULL, p, NULL, NULL, 0);
  }
  if (PQresultStatus(q) != PGRES_TUPLES_OK) return report(st, q, "cannot read", err, errlen);
  size_t rows = (size_t)PQntuples(q);
  noom_msg_t **v = calloc(rows ? rows : 1, sizeof *v);
  for (size_t i = 0; v && i < rows; i++) {
    /* Rows come newest first; the contract is oldest first. */
    int row = (int)(rows - 1 - i);
    v[i] = noom_msg_new(PQgetvalue(q, row, 0), room, PQgetvalue(q, row, 1), PQgetvalue(q, row, 2),
                        (size_t)PQgetlength(q, row, 2), strtoll(PQgetvalue(q, row, 3), NULL, 10));
    if (v[i] == NULL) {
      noom_msgs_free(v, i);
      v = NULL;
    }
  }
  PQclear(q);
  if (v == NULL) {
    snprintf(err, errlen, "out of memory");
    return NOOM_STORE_RETRY;
  }
  *out = v;
  *n = rows;
  return NOOM_STORE_OK;
}

static int st_prune(noom_store_t *st, int64_t min_ts, uint64_t max_per_room, const char *const *rooms, size_t n,
                    uint64_t *deleted, char *err, size_t errlen) {
  char a[24], b[24];
  snprintf(a, sizeof a, "%lld", (long long)min_ts);
  snprintf(b, sizeof b, "%llu", (unsigned long long)max_per_room);
  const char *p1[] = {a}, *p2[] = {b};
  *deleted = 0;
  PGresult *q = PQexecParams(st->pg, "DELETE FROM noom_messages WHERE ts<$1", 1, NULL, p1, NULL, NULL, 0);
  if (!exec_ok(q)) return report(st, q, "cannot prune", err, errlen);
  *deleted += strtoull(PQcmdTuples(q), NULL, 10);
  PQclear(q);
  if (max_per_room == 0) return NOOM_STORE_OK;
  for (size_t i = 0; rooms && i < n; i++) {
    const char *p3[] = {rooms[i], b};
    q = PQexecParams(st->pg,
                     "DELETE FROM noom_messages WHERE room=$1 AND id<=(SELECT id FROM noom_messages WHERE room=$1 "
                     "ORDER BY id DESC LIMIT 1 OFFSET $2)", 2, NULL, p3, NULL, NULL, 0);
    if (!exec_ok(q)) return report(st, q, "cannot prune", err, errlen);
    *deleted += strtoull(PQcmdTuples(q), NULL, 10);
    PQclear(q);
  }
  if (rooms) return NOOM_STORE_OK;
  q = PQexecParams(st->pg,
                   "DELETE FROM noom_messages WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
                   "(PARTITION BY room ORDER BY id DESC) AS n FROM noom_messages) t WHERE n>$1)",
                   1, NULL, p2, NULL, NULL, 0);
  if (!exec_ok(q)) return report(st, q, "cannot prune", err, errlen);
  *deleted += strtoull(PQcmdTuples(q), NULL, 10);
  PQclear(q);
  return NOOM_STORE_OK;
}

const noom_store_ops_t noom_store_pg = {"PostgreSQL", st_open, st_insert, st_read, st_prune, st_close};
