/*
 * What the admin UI reads, built as instrument() builds it: a socket serialized as
 * serialize() does (id, clientId, transport, nsp, data without _admin, handshake without
 * auth, rooms), dates as JSON.stringify(new Date()) writes them, server_stats with the
 * interval's aggregatedEvents, and the all_sockets answer gathered from every namespace
 * (every node, through fetchSockets).
 */
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_int.h"
#include "common/alloc.h"
#include "common/log.h"

json_t *sio__admin_date(void) {
  struct timeval tv;
  struct tm tm;
  char buf[40];
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(tv.tv_usec / 1000));
  return json_string(buf);
}

int sio__admin_add_json(sio_args_t *args, json_t *v) {
  if (v == NULL) return SIO_ENOMEM;
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(v);
  if (text == NULL) return SIO_ENOMEM;
  int r = sio_args_add_json(args, text, strlen(text));
  json_free_t jfree; /* jansson's allocator, whichever the program set */
  json_get_alloc_funcs(NULL, &jfree);
  jfree(text);
  return r;
}

int sio__admin_emit(sio_admin_t *a, const char *event, sio_args_t *args, unsigned flags) {
  sio_broadcast_opts_t to = SIO_BROADCAST_ALL;
  to.flags = flags;
  int r = sio_ns_emit(a->ns, &to, event, args);
  sio_args_free(args);
  return r < 0 ? r : 0;
}

/* x-forwarded-for and cf-connecting-ip win over the peer address, as in serialize(). */
static json_t *address_of(json_t *hs) {
  json_t *h = json_object_get(hs, "headers");
  json_t *v = json_object_get(h, "cf-connecting-ip");
  if (!json_is_string(v)) v = json_object_get(h, "x-forwarded-for");
  if (!json_is_string(v)) v = json_object_get(hs, "address");
  return v ? json_incref(v) : json_string("");
}

json_t *sio__admin_serialize(const sio_remote_socket_t *rs, const char *nsp) {
  json_t *o = json_object(), *hs = json_loads(rs->handshake_json, 0, NULL);
  json_t *data = json_loads(rs->data_json, JSON_DECODE_ANY, NULL);
  json_t *rooms = json_array(), *h = json_object();
  if (o == NULL || hs == NULL || rooms == NULL || h == NULL) goto fail;
  if (!json_is_object(data)) {
    json_decref(data);
    data = json_object();
  }
  json_t *meta = json_object_get(data, "_admin"); /* a Node node's socket */
  json_t *client_id = NULL, *transport = NULL;
  if (rs->local) {
    client_id = json_stringn(sio_socket_engine_id(rs->local), 12);
    transport = json_string(sio_socket_transport(rs->local));
  } else if (json_is_object(meta)) {
    client_id = json_incref(json_object_get(meta, "clientId"));
    transport = json_incref(json_object_get(meta, "transport"));
  }
  if (client_id) json_object_set_new(o, "clientId", client_id);
  if (transport) json_object_set_new(o, "transport", transport);
  json_object_del(data, "_admin");
  static const char *const keep[] = {"headers", "query", "issued", "secure", "time", "url", "xdomain"};
  json_object_set_new(h, "address", address_of(hs));
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
    json_t *v = json_object_get(hs, keep[i]);
    if (v) json_object_set(h, keep[i], v);
  }
  for (size_t i = 0; i < rs->nrooms; i++) json_array_append_new(rooms, json_string(rs->rooms[i]));
  json_object_set_new(o, "id", json_string(rs->id));
  json_object_set_new(o, "nsp", json_string(nsp));
  json_object_set_new(o, "data", data);
  json_object_set_new(o, "handshake", h);
  json_object_set_new(o, "rooms", rooms);
  json_decref(hs);
  return o;
fail:
  json_decref(o);
  json_decref(hs);
  json_decref(data);
  json_decref(rooms);
  json_decref(h);
  return NULL;
}

/* ---- server_stats ---- */

static void add_ns(sio_ns_t *ns, void *u) {
  json_array_append_new(u, json_pack("{s:s, s:I}", "name", sio_ns_name(ns), "socketsCount", (json_int_t)sio_ns_count(ns)));
}

static void add_event(json_t *arr, json_int_t ts, const char *type, const char *sub, uint64_t count) {
  if (count == 0) return;
  json_t *e = json_pack("{s:I, s:s, s:I}", "timestamp", ts, "type", type, "count", (json_int_t)count);
  if (e && sub) json_object_set_new(e, "subType", json_string(sub));
  json_array_append_new(arr, e);
}

void sio__admin_emit_stats(sio_admin_t *a) {
  sio_server_stats_t st;
  sio_server_stats(a->io, &st);
  json_int_t ts = (json_int_t)(time(NULL)) * 1000; /* instrument() keys events by second */
  json_t *events = json_array(), *nsps = json_array();
  if (events && nsps) {
    add_event(events, ts, "rawConnection", NULL, st.connections - a->last.connections);
    for (int i = 0; i < SIO__ADMIN_REASONS && a->reasons[i].reason; i++) {
      add_event(events, ts, "rawDisconnection", a->reasons[i].reason, a->reasons[i].count);
      a->reasons[i].count = 0;
    }
    add_event(events, ts, "packetsIn", NULL, st.packets_in - a->last.packets_in);
    add_event(events, ts, "bytesIn", NULL, st.bytes_in - a->last.bytes_in);
    add_event(events, ts, "packetsOut", NULL, st.packets_out - a->last.packets_out);
    add_event(events, ts, "bytesOut", NULL, st.bytes_out - a->last.bytes_out);
    sio_server_namespaces(a->io, add_ns, nsps);
  }
  a->last = st;
  double uptime = (double)(uv_now(a->loop) - a->started_ms) / 1000.0;
  json_t *o = json_pack("{s:s, s:s, s:i, s:f, s:I, s:I, s:o, s:o}", "serverId", a->server_id, "hostname",
                        a->hostname, "pid", (int)getpid(), "uptime", uptime, "clientsCount", (json_int_t)st.clients,
                        "pollingClientsCount", (json_int_t)st.polling_clients, "aggregatedEvents",
                        events ? events : json_array(), "namespaces", nsps ? nsps : json_array());
  sio_args_t *args = NULL;
  if (sio_args_new(&args) != 0) {
    json_decref(o);
    return;
  }
  if (sio__admin_add_json(args, o) != 0) {
    sio_args_free(args);
    return;
  }
  sio__admin_emit(a, "server_stats", args, 0);
}

/* ---- all_sockets: one fetchSockets per namespace, answered together ---- */

typedef struct {
  sio_admin_t *a;
  sio_socket_t *s;
  json_t *list;
  size_t waiting;
} gather_t;

typedef struct {
  gather_t *g;
  char *nsp;
} part_t;

static void gather_end(gather_t *g) {
  if (--g->waiting > 0) return;
  sio_args_t *args = NULL;
  int r = 0;
  if (sio_socket_connected(g->s) && sio_args_new(&args) == 0 && sio__admin_add_json(args, json_incref(g->list)) == 0)
    r = sio_socket_emit(g->s, "all_sockets", args);
  if (r == SIO_ELIMIT)
    SIO_LOGW("admin: the list of %zu sockets (%zu bytes) is larger than the send queue allows; the admin at %s "
             "sees no socket list (raise engine.max_send_queue, or use production mode)",
             json_array_size(g->list), sio_args_size(args, 0), sio_socket_address(g->s));
  sio_args_free(args);
  json_decref(g->list);
  sio_socket_unref(g->s);
  sio__admin_unref(g->a);
  sio__free(g);
}

static void on_fetched(int status, const sio_remote_socket_t *sockets, size_t n, void *user) {
  part_t *p = user;
  for (size_t i = 0; i < n; i++) json_array_append_new(p->g->list, sio__admin_serialize(&sockets[i], p->nsp));
  gather_t *g = p->g;
  sio__free(p->nsp);
  sio__free(p);
  gather_end(g);
}

static void fetch_ns(sio_ns_t *ns, void *u) {
  gather_t *g = u;
  part_t *p = sio__calloc(1, sizeof *p);
  if (p == NULL || (p->nsp = sio__strdup(sio_ns_name(ns))) == NULL) {
    sio__free(p);
    return;
  }
  p->g = g;
  g->waiting++;
  if (sio_ns_fetch_sockets_all(ns, NULL, on_fetched, p) != 0) {
    g->waiting--;
    sio__free(p->nsp);
    sio__free(p);
  }
}

int sio__admin_send_all_sockets(sio_admin_t *a, sio_socket_t *s) {
  gather_t *g = sio__calloc(1, sizeof *g);
  if (g == NULL || (g->list = json_array()) == NULL) {
    sio__free(g);
    return SIO_ENOMEM;
  }
  g->a = a;
  g->s = sio_socket_ref(s);
  g->waiting = 1; /* ours, dropped below: answers inside the calls cannot finish early */
  a->refs++;
  sio_server_namespaces(a->io, fetch_ns, g);
  gather_end(g);
  return 0;
}
