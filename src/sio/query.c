/*
 * Cluster queries (socket.io's fetchSockets, allSockets; namespace.c adds allRooms,
 * serverCount and serverSideEmit with acks): the local part is collected at the call, the
 * adapter adds the remote part (sio_adapter_query_*), and the user's callback runs once
 * when the adapter finishes, possibly inside the call.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/json.h"
#include "sio/sio.h"

/* ---------------------------------------------------------------------------------
 * Cluster queries: fetchSockets, allSockets (and, from namespace.c, allRooms,
 * serverCount, serverSideEmit with acks)
 * ------------------------------------------------------------------------------ */

struct sio_adapter_query_s {
  int kind;                 /* SIO__Q_* */
  sio_ns_t *ns;
  void (*cb)(void);         /* the user's callback, of the kind's type */
  void *user;
  fetch_ctx_t local;        /* SIO__Q_FETCH: the local selection (referenced) */
  sio_remote_socket_t *remote; /* SIO__Q_FETCH: copies added by the adapter */
  size_t nremote, remote_cap;
  char **names;             /* SIO__Q_SOCKETS / SIO__Q_ROOMS: owned, deduplicated */
  size_t nnames, names_cap;
  sio__map_t seen;          /* name -> itself */
  size_t count;             /* SIO__Q_COUNT */
  sio_args_t *values;       /* SIO__Q_SERVER_SIDE: one answer per node */
};

sio_adapter_query_t *sio__query_new(sio_ns_t *ns, int kind, void (*cb)(void), void *user) {
  sio_adapter_query_t *q = sio__calloc(1, sizeof *q);
  if (q == NULL) return NULL;
  q->kind = kind;
  q->ns = ns;
  q->cb = cb;
  q->user = user;
  q->count = 1; /* this node */
  if (kind == SIO__Q_SERVER_SIDE && sio_args_new(&q->values) != 0) {
    sio__free(q);
    return NULL;
  }
  return q;
}

void sio__query_abort(sio_adapter_query_t *q) {
  for (size_t i = 0; i < q->local.n; i++) sio_socket_unref(q->local.list[i]);
  sio__free(q->local.list);
  /* A remote entry is one block: the view first, its rooms and strings after it. */
  for (size_t i = 0; i < q->nremote; i++) sio__free((void *)q->remote[i].id);
  sio__free(q->remote);
  for (size_t i = 0; i < q->nnames; i++) sio__free(q->names[i]);
  sio__free(q->names);
  sio__map_free(&q->seen);
  sio_args_free(q->values);
  sio__free(q);
}

int sio_adapter_query_add_name(sio_adapter_query_t *q, const char *name, size_t len) {
  if (q->kind != SIO__Q_SOCKETS && q->kind != SIO__Q_ROOMS) return 0;
  if (sio__map_get(&q->seen, name, len)) return 0;
  if (q->nnames == q->names_cap) {
    size_t cap = q->names_cap ? q->names_cap * 2 : 16;
    char **p = sio__realloc(q->names, cap * sizeof *p);
    if (p == NULL) return SIO_ENOMEM;
    q->names = p;
    q->names_cap = cap;
  }
  char *copy = sio__strndup(name, len);
  if (copy == NULL) return SIO_ENOMEM;
  if (sio__map_put(&q->seen, copy, len, copy) != 0) {
    sio__free(copy);
    return SIO_ENOMEM;
  }
  q->names[q->nnames++] = copy;
  return 0;
}

/* Copies a view into one allocation: the strings, then the rooms array pointing at
 * copies after it. The block starts with the id so that freeing id frees it all. */
int sio_adapter_query_add_socket(sio_adapter_query_t *q, const sio_remote_socket_t *s) {
  if (q->kind != SIO__Q_FETCH) return 0;
  const char *data = s->data_json ? s->data_json : "null";
  const char *hs = s->handshake_json ? s->handshake_json : "{}";
  size_t size = strlen(s->id) + 1 + strlen(data) + 1 + strlen(hs) + 1 + s->nrooms * sizeof(char *) + sizeof(char *);
  for (size_t i = 0; i < s->nrooms; i++) size += strlen(s->rooms[i]) + 1;
  if (q->nremote == q->remote_cap) {
    size_t cap = q->remote_cap ? q->remote_cap * 2 : 8;
    sio_remote_socket_t *p = sio__realloc(q->remote, cap * sizeof *p);
    if (p == NULL) return SIO_ENOMEM;
    q->remote = p;
    q->remote_cap = cap;
  }
  char *block = sio__malloc(size);
  if (block == NULL) return SIO_ENOMEM;
  char *w = block;
  sio_remote_socket_t *v = &q->remote[q->nremote++];
  v->id = strcpy(w, s->id);
  w += strlen(w) + 1;
  v->data_json = strcpy(w, data);
  w += strlen(w) + 1;
  v->handshake_json = strcpy(w, hs);
  w += strlen(w) + 1;
  /* The pointer array must be aligned: round w up. */
  size_t off = (size_t)(w - block);
  off = (off + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
  const char **rooms = (const char **)(void *)(block + off);
  w = block + off + s->nrooms * sizeof(char *);
  for (size_t i = 0; i < s->nrooms; i++) {
    rooms[i] = strcpy(w, s->rooms[i]);
    w += strlen(w) + 1;
  }
  v->rooms = rooms;
  v->nrooms = s->nrooms;
  v->local = NULL;
  return 0;
}

int sio_adapter_query_add_value(sio_adapter_query_t *q, const sio_args_t *args, size_t i) {
  if (q->kind != SIO__Q_SERVER_SIDE) return 0;
  if (args == NULL || i >= sio_args_count(args)) return sio_args_add_null(q->values);
  return sio_args_add_arg(q->values, args, i);
}

void sio_adapter_query_set_count(sio_adapter_query_t *q, size_t nodes) {
  if (q->kind == SIO__Q_COUNT) q->count = nodes;
}

typedef struct {
  sio_remote_socket_t *views;
  char **hs;                  /* handshake texts to free */
  const char **rooms;         /* one array for every local socket's rooms */
} local_views_t;

/* Builds views of the local sockets of q (rooms as they are now). */
static int local_views(sio_adapter_query_t *q, local_views_t *lv) {
  size_t n = q->local.n, nrooms = 0;
  for (size_t i = 0; i < n; i++) nrooms += q->local.list[i]->nrooms;
  lv->views = sio__calloc(n + q->nremote + 1, sizeof *lv->views);
  lv->hs = sio__calloc(n + 1, sizeof *lv->hs);
  lv->rooms = sio__calloc(nrooms + 1, sizeof *lv->rooms);
  if (lv->views == NULL || lv->hs == NULL || lv->rooms == NULL) return SIO_ENOMEM;
  const char **r = lv->rooms;
  for (size_t i = 0; i < n; i++) {
    sio_socket_t *s = q->local.list[i];
    if ((lv->hs[i] = sio__handshake_json(s)) == NULL) return SIO_ENOMEM;
    for (uint32_t k = 0; k < s->nrooms; k++) r[k] = s->rooms[k].r->name;
    lv->views[i] = (sio_remote_socket_t){s->id, r, s->nrooms, sio_socket_get_data_json(s), lv->hs[i], s};
    r += s->nrooms;
  }
  if (q->nremote) memcpy(lv->views + n, q->remote, q->nremote * sizeof *q->remote);
  return 0;
}

static void local_views_free(local_views_t *lv, size_t n) {
  for (size_t i = 0; lv->hs && i < n; i++) sio__free(lv->hs[i]);
  sio__free(lv->hs);
  sio__free(lv->views);
  sio__free((void *)lv->rooms);
}

void sio_adapter_query_done(sio_adapter_query_t *q, int status) {
  switch (q->kind) {
  case SIO__Q_FETCH: {
    local_views_t lv = {NULL, NULL, NULL};
    int r = local_views(q, &lv);
    sio_fetch_all_cb cb = (sio_fetch_all_cb)q->cb;
    if (r == 0) cb(status, lv.views, q->local.n + q->nremote, q->user);
    else cb(r, NULL, 0, q->user);
    local_views_free(&lv, q->local.n);
    break;
  }
  case SIO__Q_SOCKETS:
  case SIO__Q_ROOMS:
    ((sio_names_cb)q->cb)(status, (const char *const *)q->names, q->nnames, q->user);
    break;
  case SIO__Q_COUNT: ((sio_count_cb)q->cb)(status, q->count, q->user); break;
  case SIO__Q_SERVER_SIDE: ((sio_server_side_ack_cb)q->cb)(status, q->values, q->user); break;
  }
  sio__query_abort(q);
}

/* After an adapter hook took q (r >= 0: it finishes q later) or refused it (r < 0: q is
 * dropped, its callback never runs, and r is the call's result). */
static int handed(sio_adapter_query_t *q, int r) {
  if (r < 0) sio__query_abort(q);
  return r < 0 ? r : 0;
}

int sio_ns_fetch_sockets_all(sio_ns_t *ns, const sio_broadcast_opts_t *to, sio_fetch_all_cb cb, void *user) {
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_FETCH, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  int rs = sio__select(ns, to, NULL, sio__collect, &q->local);
  if (rs) q->local.err = rs;
  if (q->local.err) {
    int err = q->local.err;
    sio__query_abort(q);
    return err;
  }
  if (sio__ns_remote(ns, to) && ns->adapter->fetch_sockets)
    return handed(q, ns->adapter->fetch_sockets(ns->adapter_self, ns, to, q));
  sio_adapter_query_done(q, 0);
  return 0;
}

typedef struct {
  sio_adapter_query_t *q;
  int err;
} ids_ctx_t;

static void collect_id(sio_socket_t *s, void *u) {
  ids_ctx_t *c = u;
  if (c->err == 0) c->err = sio_adapter_query_add_name(c->q, s->id, SIO__SID_LEN);
}

int sio_ns_all_sockets(sio_ns_t *ns, const char *const *rooms, size_t nrooms, sio_names_cb cb, void *user) {
  sio_adapter_query_t *q = sio__query_new(ns, SIO__Q_SOCKETS, (void (*)(void))cb, user);
  if (q == NULL) return SIO_ENOMEM;
  sio_broadcast_opts_t to = {rooms, nrooms, NULL, 0, 0};
  ids_ctx_t ids = {q, 0};
  int rs = sio__select(ns, &to, NULL, collect_id, &ids);
  if (rs || ids.err) {
    sio__query_abort(q); /* a partial list would be a wrong answer */
    return SIO_ENOMEM;
  }
  if (sio__ns_remote(ns, NULL) && ns->adapter->all_sockets)
    return handed(q, ns->adapter->all_sockets(ns->adapter_self, ns, rooms, nrooms, q));
  sio_adapter_query_done(q, 0);
  return 0;
}
