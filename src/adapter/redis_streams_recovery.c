/*
 * The streams adapter's half of connection-state recovery across nodes (the version-3
 * hooks of sio/adapter.h): a recoverable broadcast waits for its XADD answer, whose entry
 * id is its offset; sessions go to Redis with SET PX; a restore reads the session back
 * (GET + DEL) and replays the stream from the client's offset (XRANGE), filtered by its
 * rooms. The exactly-once reasoning is at the top of redis_streams.c. Layer: adapter.
 */
#include <string.h>

#include "adapter/redis_shared.h"
#include "adapter/redis_streams.h"
#include "common/alloc.h"
#include "common/log.h"
#include "sio/sio.h"

/* ---- broadcasts waiting for their offset ---- */

static void on_xadd_offset(redisAsyncContext *ac, void *reply, void *priv) {
  publish_t *p = priv;
  redisReply *rep = reply;
  p->r->pending--;
  if (p->h) {
    sio__list_remove(&p->held.link);
    const char *id = rep && rep->type == REDIS_REPLY_STRING ? rep->str : NULL;
    sio__xid_t check;
    if (id && sio__xid_parse(rep->str, rep->len, &check) != 0) id = NULL;
    sio_adapter_offset_done(p->h, id, 0);
  }
  sio__free(p);
}

int sio__xsa_publish_offset(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt,
                               sio_adapter_offset_t *h) {
  xadapter_t *a = self;
  sio_redis_streams_t *r = a->r;
  if (r->pending >= r->max_pending) {
    if (!r->pending_logged) {
      r->pending_logged = 1;
      SIO_LOGW("redis streams adapter: %u broadcasts are waiting for Redis at %s to answer XADD: further ones are "
               "delivered locally without an offset and not sent to other nodes (raise max_pending, or check "
               "Redis latency)",
               r->pending, r->where);
    }
    sio__xsa_dropped(r, SIO_ELIMIT);
    return SIO_ELIMIT;
  }
  r->pending_logged = 0;
  json_t *data = sio__xsa_broadcast_data(a, to, pkt, -1);
  publish_t *p = sio__calloc(1, sizeof *p);
  if (data == NULL || p == NULL) {
    json_decref(data);
    sio__free(p);
    return SIO_ENOMEM;
  }
  p->r = r;
  p->h = h;
  const sio_args_t *args = pkt->args;
  int rc = sio__xsa_xadd(a, SIO__XS_BROADCAST, data, args ? args->att : NULL, args ? args->natt : 0, on_xadd_offset, p);
  json_decref(data);
  if (rc) {
    sio__free(p);
    return rc;
  }
  r->pending++;
  sio__list_insert_tail(&a->held, &p->held.link);
  return 0;
}

/* ---- sessions ---- */

void sio__xsa_persist_session(void *self, sio_ns_t *ns, const sio_adapter_session_t *sess, uint64_t window_ms) {
  xadapter_t *a = self;
  sio__buf_t v = SIO__BUF_INIT;
  char *key = sio__radp_concat(a->r->sess_prefix, sess->pid, NULL, NULL);
  char px[24];
  snprintf(px, sizeof px, "%llu", (unsigned long long)(window_ms ? window_ms : 1));
  int rc = key ? sio__xs_encode_session(&v, sess) : SIO_ENOMEM;
  if (rc == 0) {
    const char *argv[5] = {"SET", key, v.base, "PX", px};
    size_t lens[5] = {3, strlen(key), v.len, 2, strlen(px)};
    rc = sio__xsa_command(a->r, NULL, NULL, 5, argv, lens);
  }
  if (rc) SIO_LOGW("redis streams adapter: could not keep the session of %s in Redis (%s): it will reconnect as a "
                   "new socket", sess->sid, sio_strerror(rc));
  sio__free(key);
  sio__buf_free(&v);
}

/* Hands the restore back (session or not) and frees it once no reply is pending. */
static void stop_scanning(restore_t *t);

static void restore_finish(restore_t *t, int ok, int status) {
  stop_scanning(t);
  if (t->h == NULL) return;
  sio_adapter_restore_t *h = t->h;
  t->h = NULL;
  sio__list_remove(&t->held.link);
  t->r->restores--;
  sio_adapter_session_t view = sio__xs_session_view(&t->sess);
  sio_adapter_restore_done(h, ok ? &view : NULL, status);
}

/* An entry the reader delivered while a restore was reading the stream. */
typedef struct xtail_s {
  struct xtail_s *next;
  sio__xid_t id;
  sio__redis_bcast_t b; /* owns its decoded value */
} xtail_t;

static void stop_scanning(restore_t *t) {
  if (t->scanning && t->a) t->a->scanning--;
  t->scanning = 0;
}

static void restore_free(restore_t *t) {
  stop_scanning(t);
  while (t->tail) {
    xtail_t *n = t->tail->next;
    sio__redis_bcast_free(&t->tail->b);
    sio__free(t->tail);
    t->tail = n;
  }
  sio__xs_session_free(&t->sess);
  sio__xsa_client_unref(t->r);
  sio__free(t);
}

static void restore_scan(restore_t *t);
static int included(const sio__xs_session_t *s, const sio__redis_bcast_t *b);

/* Keeps ent in t's tail when t's session selects it. */
static void observe_one(restore_t *t, redisReply *ent, sio__xid_t id) {
  if (t->failed || t->h == NULL) return;
  if (t->ntail >= SIO__XSA_MAX_TAIL) {
    SIO_LOGW("redis streams adapter: more than %d entries arrived during one session restore: the client "
             "reconnects as a new socket",
             SIO__XSA_MAX_TAIL);
    t->failed = 1;
    return;
  }
  sio__xs_entry_t e;
  sio__xid_t check;
  if (sio__xsa_read_entry(ent, &e, &check) != 0) return;
  xtail_t *x = NULL;
  if (e.type == SIO__XS_BROADCAST && e.v.root && json_object_get(e.v.root, "requestId") == NULL &&
      (x = sio__calloc(1, sizeof *x)) != NULL) {
    if (sio__xsa_entry_bcast(&e, &x->b) == 0 && included(&t->sess, &x->b)) {
      x->id = id;
      if (t->tail_last) t->tail_last->next = x;
      else t->tail = x;
      t->tail_last = x;
      t->ntail++;
      x = NULL;
    }
  }
  if (x) {
    sio__redis_bcast_free(&x->b);
    sio__free(x);
  }
  sio__xs_entry_free(&e);
}

void sio__xsa_restore_observe(xadapter_t *a, redisReply *ent, sio__xid_t id) {
  sio__list_t *it;
  sio__list_foreach(it, &a->held) {
    held_t *hd = sio__container_of(it, held_t, link);
    if (hd->restore && ((restore_t *)hd)->scanning) observe_one((restore_t *)hd, ent, id);
  }
}

/* XRANGE has reached the end: the tail's entries past what it listed follow (those up
 * to it are in the replay already). */
static void add_tail(restore_t *t) {
  for (xtail_t *x = t->tail; x && !t->failed; x = x->next) {
    if (sio__xid_cmp(x->id, t->from) <= 0) continue;
    char idtxt[SIO__XID_MAX + 1];
    sio__xid_format(x->id, idtxt);
    sio_args_t args;
    sio__args_view(&args, x->b.data, 1, x->b.v.att, x->b.v.natt);
    if (sio_adapter_restore_add_packet(t->h, json_string_value(json_array_get(x->b.data, 0)), &args, idtxt) != 0)
      t->failed = 1;
    t->from = x->id;
  }
}

/* shouldIncludePacket: in one of opts.rooms (or no rooms), in none of opts.except. */
static int included(const sio__xs_session_t *s, const sio__redis_bcast_t *b) {
  int in = b->nrooms == 0, out = 0;
  for (size_t i = 0; i < s->nrooms; i++) {
    for (size_t k = 0; !in && k < b->nrooms; k++) in = strcmp(s->rooms[i], b->rooms[k]) == 0;
    for (size_t k = 0; !out && k < b->nexcept; k++) out = strcmp(s->rooms[i], b->except[k]) == 0;
  }
  return in && !out;
}

static void on_restore_range(redisAsyncContext *ac, void *reply, void *priv) {
  restore_t *t = priv;
  redisReply *rep = reply;
  if (t->h == NULL || t->a == NULL) {
    restore_free(t);
    return;
  }
  if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
    restore_finish(t, 0, 0);
    restore_free(t);
    return;
  }
  xadapter_t *a = t->a;
  for (size_t i = 0; i < rep->elements; i++) {
    sio__xs_entry_t e;
    sio__xid_t id;
    if (sio__xsa_read_entry(rep->element[i], &e, &id) != 0) continue;
    t->from = id;
    int ours = e.uid.len == UID_LEN && memcmp(e.uid.ptr, a->uid, UID_LEN) == 0;
    /* The split of the top comment: later entries of other nodes come live. */
    int live_later = !ours && (!a->r->cursor_known || sio__xid_cmp(id, a->r->cursor) > 0);
    if (e.type == SIO__XS_BROADCAST && !live_later && e.nsp.len == strlen(sio_ns_name(a->ns)) &&
        memcmp(e.nsp.ptr, sio_ns_name(a->ns), e.nsp.len) == 0 && e.v.root &&
        json_object_get(e.v.root, "requestId") == NULL) {
      sio__redis_bcast_t b;
      if (sio__xsa_entry_bcast(&e, &b) == 0 && included(&t->sess, &b)) {
        char idtxt[SIO__XID_MAX + 1];
        sio__xid_format(id, idtxt);
        sio_args_t args;
        sio__args_view(&args, b.data, 1, b.v.att, b.v.natt);
        if (sio_adapter_restore_add_packet(t->h, json_string_value(json_array_get(b.data, 0)), &args, idtxt) != 0)
          t->failed = 1;
      }
      sio__redis_bcast_free(&b);
    }
    sio__xs_entry_free(&e);
    if (t->failed) break;
  }
  if (t->failed) {
    restore_finish(t, 0, 0);
    restore_free(t);
  } else if (rep->elements < RESTORE_BATCH) {
    /* The end when this XRANGE ran. What the reader delivered since (the tail) went to
     * rooms the socket is not back in yet: it follows. */
    add_tail(t);
    restore_finish(t, !t->failed, 0);
    restore_free(t);
  } else if (++t->calls >= RESTORE_MAX_CALLS) {
    SIO_LOGW("redis streams adapter: a session restore read %s %d times and did not reach the end: the client "
             "reconnects as a new socket (the stream grows faster than it can be read, or Redis answers slowly)",
             a->r->stream, RESTORE_MAX_CALLS);
    restore_finish(t, 0, 0);
    restore_free(t);
  } else {
    restore_scan(t);
  }
}

/* XRANGE <stream> <from + 1> + COUNT <batch> (exclusive start, as nextOffset). */
static void restore_scan(restore_t *t) {
  char from[SIO__XID_MAX + 1], count[16];
  sio__xid_t next = t->from;
  if (next.seq == UINT64_MAX) {
    next.ms++;
    next.seq = 0;
  } else {
    next.seq++;
  }
  sio__xid_format(next, from);
  snprintf(count, sizeof count, "%d", RESTORE_BATCH);
  const char *argv[6] = {"XRANGE", t->r->stream, from, "+", "COUNT", count};
  if (sio__xsa_command(t->r, on_restore_range, t, 6, argv, NULL) != 0) {
    restore_finish(t, 0, 0);
    restore_free(t);
  }
}

/* Both first answers are in: the session (GET) and the offset check. */
static void restore_step(restore_t *t) {
  if (!t->got_session_reply || !t->got_offset_reply) return;
  if (t->h == NULL || t->a == NULL || !t->have_sess || !t->offset_ok) {
    SIO_LOGD("redis streams adapter: no session to restore under %s (%s)", t->key,
             !t->have_sess ? "no session kept" : !t->offset_ok ? "the offset is no longer in the stream" : "gone");
    restore_finish(t, 0, 0);
    restore_free(t);
    return;
  }
  t->scanning = 1;
  t->a->scanning++;
  restore_scan(t);
}

static void on_restore_get(redisAsyncContext *ac, void *reply, void *priv) {
  restore_t *t = priv;
  redisReply *rep = reply;
  t->got_session_reply = 1;
  if (rep && rep->type == REDIS_REPLY_STRING) {
    int rc = sio__xs_decode_session(rep->str, rep->len, &t->sess);
    if (rc == 0) t->have_sess = 1;
    else SIO_LOGD("redis streams adapter: dropped a malformed session (%s)", sio_strerror(rc));
  }
  restore_step(t);
}

static void on_restore_offset(redisAsyncContext *ac, void *reply, void *priv) {
  restore_t *t = priv;
  redisReply *rep = reply;
  t->got_offset_reply = 1;
  t->offset_ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1;
  restore_step(t);
}

int sio__xsa_restore_session(void *self, sio_ns_t *ns, const char *pid, const char *offset,
                                sio_adapter_restore_t *h) {
  xadapter_t *a = self;
  sio_redis_streams_t *r = a->r;
  sio__xid_t from;
  if (sio__xid_parse(offset, strlen(offset), &from) != 0) return SIO_EINVAL; /* "invalid offset" */
  if (!r->pub_up) return SIO_ECLOSED;
  if (r->restores >= r->max_restores) {
    if (!r->restores_logged) {
      r->restores_logged = 1;
      SIO_LOGW("redis streams adapter: %u session restores are in flight: further reconnecting clients connect "
               "as new sockets (raise max_restores, or check Redis latency)",
               r->restores);
    }
    return SIO_ELIMIT;
  }
  r->restores_logged = 0;
  size_t plen = strlen(r->sess_prefix), klen = strlen(pid);
  restore_t *t = sio__calloc(1, sizeof *t + plen + klen + 1);
  if (t == NULL) return SIO_ENOMEM;
  memcpy(t->key, r->sess_prefix, plen);
  memcpy(t->key + plen, pid, klen + 1);
  t->r = r;
  t->a = a;
  t->h = h;
  t->from = from;
  r->refs++;
  /* GETDEL, as the JS adapter's MULTI GET DEL EXEC but without a transaction: a
   * sio__xsa_command refused half-way (the backlog bound) cannot leave a MULTI open on the
   * shared connection, and a pid belongs to one client anyway. Then XRANGE o o. */
  const char *get[2] = {"GET", t->key}, *del[2] = {"DEL", t->key};
  const char *range[4] = {"XRANGE", r->stream, offset, offset};
  int rc = sio__xsa_command(r, on_restore_get, t, 2, get, NULL);
  if (rc != 0) {
    sio__xsa_client_unref(r);
    sio__free(t);
    return rc;
  }
  sio__xsa_command(r, NULL, NULL, 2, del, NULL);
  if (sio__xsa_command(r, on_restore_offset, t, 4, range, NULL) != 0) {
    t->got_offset_reply = 1; /* offset_ok stays 0: on_restore_get finishes as not found */
  }
  r->restores++;
  t->held.restore = 1;
  sio__list_insert_tail(&a->held, &t->held.link);
  return 0;
}

void sio__xsa_release_held(xadapter_t *a) {
  /* Handles the library gave us: back now, while the namespace exists. Their Redis
   * replies still come (the contexts are freed then). */
  while (!sio__list_empty(&a->held)) {
    held_t *hd = sio__container_of(a->held.next, held_t, link);
    sio__list_remove(&hd->link);
    if (hd->restore) {
      restore_t *t = (restore_t *)hd;
      sio_adapter_restore_t *h = t->h;
      t->h = NULL;
      stop_scanning(t);
      t->a = NULL;
      t->r->restores--;
      sio_adapter_restore_done(h, NULL, SIO_ECANCELED);
    } else {
      publish_t *p = (publish_t *)hd;
      sio_adapter_offset_done(p->h, NULL, 1);
      p->h = NULL;
    }
  }
}
