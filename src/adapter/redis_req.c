/*
 * Our requests to the other nodes and their bookkeeping, shared by both Redis adapters
 * (see redis_req.h). Layer: adapter.
 */
#include "adapter/redis_req.h"

#include "common/alloc.h"
#include "common/log.h"
#include "sio/sio.h"

static void req_maybe_free(sio__redis_req_t *q) {
  if (q->finished && q->timer_closed && q->inflight == 0) sio__free(q);
}

static void req_timer_closed(uv_handle_t *h) {
  sio__redis_req_t *q = h->data;
  q->timer_closed = 1;
  req_maybe_free(q);
}

void sio__redis_req_finish(sio__redis_req_t *q, int status) {
  if (q->finished) return;
  q->finished = 1;
  void *a = q->a;
  q->a = NULL;
  if (a) sio__map_del(q->owner->requests, q->id, q->owner->id_len);
  uv_timer_stop(&q->timer);
  uv_close((uv_handle_t *)&q->timer, req_timer_closed);
  if (q->q) sio_adapter_query_done(q->q, status);
  if (q->acks) sio_adapter_acks_done(q->acks);
}

void sio__redis_req_check(sio__redis_req_t *q) {
  if (!q->expected_known || q->got < q->expected) return;
  if (q->type == q->owner->bcast_type && q->answered < q->clients) return;
  sio__redis_req_finish(q, 0);
}

static void on_req_timeout(uv_timer_t *t) {
  sio__redis_req_t *q = t->data;
  /* A broadcast's clients may simply not answer in time: socket.io's own timeout
   * reports that, no need to log. A node that does not answer a query is news. */
  if (q->type != q->owner->bcast_type && q->a) {
    SIO_LOGW("%s: %s on namespace %s timed out after %llu ms: %zu of %zu other nodes answered "
             "(a node may be stuck or gone; raise requests_timeout_ms if they are only slow)",
             q->owner->log_name, q->what, sio_ns_name(q->ns), (unsigned long long)q->timeout_ms, q->got,
             q->expected_known ? q->expected : q->got);
  }
  sio__redis_req_finish(q, SIO_ETIMEDOUT);
}

void sio__redis_req_on_numsub(redisAsyncContext *ac, void *reply, void *priv) {
  (void)ac;
  sio__redis_req_t *q = priv;
  redisReply *rep = reply;
  q->inflight--;
  if (q->finished) {
    req_maybe_free(q);
    return;
  }
  if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
      rep->element[1]->type != REDIS_REPLY_INTEGER) {
    sio__redis_req_finish(q, SIO_ECLOSED);
    return;
  }
  long long n = rep->element[1]->integer;
  if (q->type == -1) {
    /* serverCount itself. At least this node, even before its subscription is active. */
    sio_adapter_query_set_count(q->q, n < 1 ? 1 : (size_t)n);
    sio__redis_req_finish(q, 0);
    return;
  }
  q->expected = n > 1 ? (size_t)(n - 1) : 0;
  q->expected_known = 1;
  sio__redis_req_check(q);
}

sio__redis_req_t *sio__redis_req_new(const sio__redis_req_owner_t *o, void *a, sio_ns_t *ns, int type,
                                     const char *what, uint64_t timeout_ms) {
  sio__redis_req_t *q = sio__calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  q->a = a;
  q->owner = o;
  q->ns = ns;
  q->type = type;
  q->what = what;
  q->timeout_ms = timeout_ms;
  do o->make_id(q->id, o->id_len);
  while (sio__map_get(o->requests, q->id, o->id_len) != NULL);
  if (sio__map_put(o->requests, q->id, o->id_len, q) != 0) {
    sio__free(q);
    return NULL;
  }
  uv_timer_init(o->loop, &q->timer);
  q->timer.data = q;
  uv_timer_start(&q->timer, on_req_timeout, timeout_ms, 0);
  return q;
}

/* value as a one-argument view (one: the array to json_decref after use). */
static json_t *one_arg(sio_args_t *args, json_t *value, sio__refbuf_t **att, uint32_t natt) {
  json_t *one = json_array();
  if (one && value) json_array_append(one, value);
  sio__args_view(args, one, 0, att, natt);
  return one;
}

void sio__redis_req_add_value(sio__redis_req_t *q, json_t *value, sio__refbuf_t **att, uint32_t natt) {
  sio_args_t args;
  json_t *one = one_arg(&args, value, att, natt);
  sio_adapter_query_add_value(q->q, value ? &args : NULL, 0);
  json_decref(one);
  q->got++;
}

void sio__redis_req_add_ack(sio__redis_req_t *q, json_t *value, sio__refbuf_t **att, uint32_t natt) {
  sio_args_t args;
  json_t *one = one_arg(&args, value, att, natt);
  sio_adapter_acks_answer(q->acks, &args);
  json_decref(one);
  q->answered++;
}
