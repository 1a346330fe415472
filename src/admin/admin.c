/*
 * The admin UI's server side (include/sio/admin.h; @socket.io/admin-ui dist/index.js
 * instrument()): the admin namespace, its connect path (config, all_sockets), the
 * per-namespace listeners that report sockets and rooms, the per-socket event listeners
 * (installed only while an admin is connected somewhere), the UI's actions, and the
 * server_stats timer. Built on the public API plus the server observers.
 */
#include <string.h>
#include <unistd.h>

#include "admin/admin_int.h"
#include "common/alloc.h"
#include "common/log.h"

void sio_admin_opts_init(sio_admin_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->namespace_name = "/admin";
  o->mode = SIO_ADMIN_DEVELOPMENT;
  o->stats_interval_ms = 2000;
  o->max_sessions = 1000;
  o->session_ttl_ms = 86400000;
  o->max_pending_logins = 4;
}

static int dev(const sio_admin_t *a) { return a->opts.mode == SIO_ADMIN_DEVELOPMENT; }
static int active(const sio_admin_t *a) { return !a->detached && (a->local_admins > 0 || a->remote_active); }

/* ======================================================================== events */

/* event_received / event_sent: (nsp, id, [event, ...args], date), volatile. */
static void report_event(sio_socket_t *s, const char *name, const char *event, const sio_args_t *args,
                         sio_admin_t *a) {
  sio_args_t *out = NULL, *items = NULL;
  size_t n = sio_args_count(args);
  int r = sio_args_new(&out);
  if (r == 0) r = sio_args_new(&items);
  if (r == 0) r = sio_args_add_cstr(items, event);
  for (size_t i = 0; i < n && r == 0; i++) r = sio_args_add_arg(items, args, i);
  if (r == 0) r = sio_args_add_cstr(out, sio_ns_name(sio_socket_ns(s)));
  if (r == 0) r = sio_args_add_cstr(out, sio_socket_id(s));
  if (r == 0) r = sio_args_add_array(out, items);
  if (r == 0) r = sio__admin_add_json(out, sio__admin_date());
  sio_args_free(items);
  if (r != 0) {
    sio_args_free(out);
    return;
  }
  sio__admin_emit(a, name, out, SIO_BCAST_VOLATILE);
}

static void on_any_in(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  report_event(s, "event_received", event, args, user);
}

static void on_any_out(sio_socket_t *s, const char *event, const sio_args_t *args, void *user) {
  report_event(s, "event_sent", event, args, user);
}

static void track(sio_socket_t *s, sio_admin_t *a, int on) {
  if (sio_socket_ns(s) == a->ns) return; /* as instrument(): the admins' own events are not reported */
  if (on) {
    if (sio_socket_on_any(s, on_any_in, a) != 0 || sio_socket_on_any_outgoing(s, on_any_out, a) != 0)
      SIO_LOGW("admin: out of memory, events of socket %s will not be shown", sio_socket_id(s));
  } else {
    sio_socket_off_any(s, on_any_in, a);
    sio_socket_off_any_outgoing(s, on_any_out, a);
  }
}

typedef struct {
  sio_admin_t *a;
  int on;
} track_all_t;

static void track_fetched(int status, sio_socket_t *const *sockets, size_t n, void *user) {
  track_all_t *t = user;
  for (size_t i = 0; i < n; i++) track(sockets[i], t->a, t->on);
}

static void track_ns(sio_ns_t *ns, void *u) {
  if (sio_ns_fetch_sockets(ns, NULL, track_fetched, u) != 0)
    SIO_LOGW("admin: out of memory, some sockets' events of %s will not be shown", sio_ns_name(ns));
}

/* Installs or removes the per-socket listeners when the fleet gains its first admin or
 * loses its last one: without an admin, events cost nothing. */
static void update_tracking(sio_admin_t *a) {
  int want = dev(a) && active(a);
  if (want == a->tracking) return;
  a->tracking = (uint8_t)want;
  track_all_t t = {a, want};
  sio_server_namespaces(a->io, track_ns, &t);
  if (want) sio_server_stats(a->io, &a->last); /* aggregatedEvents count from now */
}

/* ======================================================================== sockets and rooms */

static void emit_socket_connected(int status, const sio_remote_socket_t *sockets, size_t n, void *user) {
  sio_admin_t *a = user;
  sio_args_t *args = NULL;
  if (n != 1 || sio_args_new(&args) != 0) return;
  if (sio__admin_add_json(args, sio__admin_serialize(&sockets[0], sio_ns_name(sio_socket_ns(sockets[0].local)))) != 0 ||
      sio__admin_add_json(args, sio__admin_date()) != 0) {
    sio_args_free(args);
    return;
  }
  sio__admin_emit(a, "socket_connected", args, 0);
}

static void on_ns_connect(sio_socket_t *s, void *user) {
  sio_admin_t *a = user;
  if (!active(a) || !dev(a)) return;
  const char *id = sio_socket_id(s);
  sio_broadcast_opts_t to = {&id, 1, NULL, 0, SIO_BCAST_LOCAL};
  sio_ns_fetch_sockets_all(sio_socket_ns(s), &to, emit_socket_connected, a);
  if (a->tracking) track(s, a, 1);
}

static void on_ns_disconnect(sio_socket_t *s, const char *reason, void *user) {
  sio_admin_t *a = user;
  if (!active(a) || !dev(a)) return;
  sio_args_t *args = NULL;
  if (sio_args_pack(&args, "sss", sio_ns_name(sio_socket_ns(s)), sio_socket_id(s), reason) != 0 ||
      sio__admin_add_json(args, sio__admin_date()) != 0) {
    sio_args_free(args);
    return;
  }
  sio__admin_emit(a, "socket_disconnected", args, 0);
}

static void watch_ns(sio_ns_t *ns, void *user) {
  sio_admin_t *a = user;
  if (sio_ns_on_connect(ns, on_ns_connect, a) != 0 || sio_ns_on_disconnect(ns, on_ns_disconnect, a) != 0)
    SIO_LOGW("admin: out of memory, sockets of %s will not be shown", sio_ns_name(ns));
}

static void obs_namespace(sio_ns_t *ns, void *user) {
  sio_admin_t *a = user;
  if (!a->detached && dev(a)) watch_ns(ns, a);
}

static void obs_room(sio_ns_t *ns, const sio_room_event_t *ev, void *user) {
  sio_admin_t *a = user;
  if (!active(a) || !dev(a) || (ev->type != SIO_ROOM_JOIN && ev->type != SIO_ROOM_LEAVE)) return;
  sio_args_t *args = NULL;
  if (sio_args_pack(&args, "ss%s", sio_ns_name(ns), ev->room.ptr, ev->room.len, ev->socket_id) != 0 ||
      sio__admin_add_json(args, sio__admin_date()) != 0) {
    sio_args_free(args);
    return;
  }
  sio__admin_emit(a, ev->type == SIO_ROOM_JOIN ? "room_joined" : "room_left", args, 0);
}

static void obs_upgrade(sio_socket_t *s, void *user) {
  sio_admin_t *a = user;
  if (!active(a) || !dev(a)) return;
  sio_args_t *args = NULL;
  if (sio_args_pack(&args, "{s:s, s:s, s:s}", "id", sio_socket_id(s), "nsp", sio_ns_name(sio_socket_ns(s)),
                    "transport", sio_socket_transport(s)) == 0)
    sio__admin_emit(a, "socket_updated", args, 0);
  else
    sio_args_free(args);
}

/* socket.data changed: socket_updated {id, nsp, data} as instrument()'s Proxy reports. */
static void obs_data(sio_socket_t *s, void *user) {
  sio_admin_t *a = user;
  if (!active(a) || !dev(a)) return;
  json_t *data = json_loads(sio_socket_get_data_json(s), JSON_DECODE_ANY, NULL);
  if (!json_is_object(data)) {
    json_decref(data);
    data = json_object();
  }
  json_object_del(data, "_admin");
  json_t *o = json_pack("{s:s, s:s, s:o}", "id", sio_socket_id(s), "nsp", sio_ns_name(sio_socket_ns(s)), "data", data);
  sio_args_t *args = NULL;
  if (o == NULL || sio_args_new(&args) != 0) {
    json_decref(o);
    return;
  }
  if (sio__admin_add_json(args, o) == 0) sio__admin_emit(a, "socket_updated", args, 0); /* frees args */
  else sio_args_free(args);
}

static void obs_close(sio_server_t *io, const char *reason, void *user) {
  sio_admin_t *a = user;
  if (!active(a)) return;
  for (int i = 0; i < SIO__ADMIN_REASONS; i++) {
    if (a->reasons[i].reason == NULL) a->reasons[i].reason = reason;
    if (a->reasons[i].reason == reason || strcmp(a->reasons[i].reason, reason) == 0) {
      a->reasons[i].count++;
      return;
    }
  }
}

static void obs_free(sio_server_t *io, void *user) {
  sio_admin_t *a = user;
  sio_admin_detach(a);
  sio__admin_unref(a); /* the server's reference */
}

static const sio_server_observer_t observer = {obs_namespace, obs_room, obs_upgrade, obs_close, obs_free, obs_data};

/* ======================================================================== actions */

typedef struct {
  const char *name;
  sio_ns_t *found;
} find_t;

static void find_ns(sio_ns_t *ns, void *u) {
  find_t *f = u;
  if (strcmp(sio_ns_name(ns), f->name) == 0) f->found = ns;
}

/* The namespace named by argument i, an existing one only: unlike io.of(nsp), an admin
 * does not create namespaces by naming them. Fills the optional filter (argument j) as a
 * one-room selection. */
static sio_ns_t *target(sio_admin_t *a, const sio_args_t *args, size_t i, size_t j, char **filter,
                        sio_broadcast_opts_t *to) {
  sio_str_t nsp, f;
  char name[256];
  *filter = NULL;
  *to = (sio_broadcast_opts_t)SIO_BROADCAST_ALL;
  if (sio_args_get_str(args, i, &nsp) != 0 || nsp.len >= sizeof name) return NULL;
  memcpy(name, nsp.ptr, nsp.len);
  name[nsp.len] = 0;
  find_t fd = {name, NULL};
  sio_server_namespaces(a->io, find_ns, &fd);
  if (fd.found && sio_args_get_str(args, j, &f) == 0 && f.len > 0) {
    if ((*filter = sio__strndup(f.ptr, f.len)) == NULL) return NULL;
    to->rooms = (const char *const *)filter;
    to->nrooms = 1;
  }
  return fd.found;
}

static void act_disconnect(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  sio_broadcast_opts_t to;
  char *filter;
  int close = 0;
  sio_ns_t *ns = target(user, args, 0, 2, &filter, &to);
  if (ns == NULL) return;
  sio_args_get_bool(args, 1, &close);
  SIO_LOGI("admin: %s disconnects %s in %s", sio_socket_address(s), filter ? filter : "every socket", sio_ns_name(ns));
  sio_ns_disconnect_sockets(ns, &to, close);
  sio__free(filter);
}

static void join_leave(sio_socket_t *s, const sio_args_t *args, void *user, int join) {
  sio_broadcast_opts_t to;
  char *filter, *room;
  sio_str_t r;
  sio_ns_t *ns = target(user, args, 0, 2, &filter, &to);
  if (ns == NULL || sio_args_get_str(args, 1, &r) != 0 || (room = sio__strndup(r.ptr, r.len)) == NULL) {
    sio__free(filter);
    return;
  }
  if (join) sio_ns_sockets_join(ns, &to, room);
  else sio_ns_sockets_leave(ns, &to, room);
  sio__free(room);
  sio__free(filter);
}

static void act_join(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  join_leave(s, args, user, 1);
}

static void act_leave(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  join_leave(s, args, user, 0);
}

static void act_emit(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  sio_broadcast_opts_t to;
  char *filter, *event;
  sio_str_t ev;
  sio_args_t *rest = NULL;
  sio_ns_t *ns = target(user, args, 0, 1, &filter, &to);
  if (ns == NULL || sio_args_get_str(args, 2, &ev) != 0 || (event = sio__strndup(ev.ptr, ev.len)) == NULL) {
    sio__free(filter);
    return;
  }
  if (sio_args_copy(args, 3, sio_args_count(args), &rest) == 0) sio_ns_emit(ns, &to, event, rest);
  sio_args_free(rest);
  sio__free(event);
  sio__free(filter);
}

/* ======================================================================== the admin namespace */

static void on_admin_connect(sio_socket_t *s, void *user) {
  sio_admin_t *a = user;
  if (a->detached) return;
  a->local_admins++;
  static const char *const actions[] = {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"};
  json_t *features = json_array();
  for (size_t i = 0; features && !a->opts.readonly && i < sizeof actions / sizeof actions[0]; i++)
    json_array_append_new(features, json_string(actions[i]));
  json_array_append_new(features, json_string("AGGREGATED_EVENTS"));
  if (dev(a)) json_array_append_new(features, json_string("ALL_EVENTS"));
  json_t *config = json_pack("{s:o}", "supportedFeatures", features); /* takes features */
  sio_args_t *args = NULL;
  if (config && sio_args_new(&args) != 0) json_decref(config);
  else if (sio__admin_add_json(args, config) == 0) /* takes config */
    sio_socket_emit(s, "config", args);
  else
    SIO_LOGW("admin: out of memory, the admin at %s got no config", sio_socket_address(s));
  sio_args_free(args);
  update_tracking(a);
  if (dev(a) && sio__admin_send_all_sockets(a, s) != 0)
    SIO_LOGW("admin: out of memory, the admin at %s got no socket list", sio_socket_address(s));
}

static void on_admin_disconnect(sio_socket_t *s, const char *reason, void *user) {
  sio_admin_t *a = user;
  if (a->detached || a->local_admins == 0) return;
  a->local_admins--;
  update_tracking(a);
}

/* Is an admin connected to another node? Asked each interval while none is here. */
static void on_admins(int status, const char *const *names, size_t n, void *user) {
  sio_admin_t *a = user;
  a->querying = 0;
  if (!a->detached) {
    a->remote_active = n > 0;
    update_tracking(a);
  }
  sio__admin_unref(a);
}

static void on_tick(uv_timer_t *t) {
  sio_admin_t *a = t->data;
  if (a->local_admins == 0 && !a->querying) {
    a->querying = 1;
    a->refs++;
    if (sio_ns_all_sockets(a->ns, NULL, 0, on_admins, a) != 0) {
      a->querying = 0;
      a->refs--;
    }
  }
  if (active(a)) sio__admin_emit_stats(a);
}

int sio_admin_attach(sio_server_t *io, const sio_admin_opts_t *opts, sio_admin_t **out) {
  sio_admin_opts_t o;
  if (opts) o = *opts;
  else sio_admin_opts_init(&o);
  int creds = o.username != NULL || o.password_hash != NULL;
  if ((!creds && !o.no_auth) || (creds && (o.username == NULL || o.password_hash == NULL)) ||
      (o.password_hash && sio_admin_hash_parse(o.password_hash, strlen(o.password_hash)) < 0) ||
      o.namespace_name == NULL || o.namespace_name[0] != '/' || o.max_sessions == 0 || o.stats_interval_ms == 0)
    return SIO_EINVAL;
  if (creds) o.no_auth = 0;
  sio_admin_t *a = sio__calloc(1, sizeof *a);
  if (a == NULL) return SIO_ENOMEM;
  a->refs = 1;
  a->io = io;
  a->loop = sio_http_loop(sio_server_http(io));
  a->opts = o;
  a->nsp_name = sio__strdup(o.namespace_name);
  a->username = o.username ? sio__strdup(o.username) : NULL;
  a->hash = o.password_hash ? sio__strdup(o.password_hash) : NULL;
  if (gethostname(a->hostname, sizeof a->hostname - 1) != 0) strcpy(a->hostname, "localhost");
  a->server_id = sio__strdup(o.server_id ? o.server_id : a->hostname);
  a->sessions = sio__calloc(o.max_sessions, sizeof *a->sessions);
  int r = SIO_ENOMEM;
  if (a->nsp_name == NULL || (o.username && a->username == NULL) || (o.password_hash && a->hash == NULL) ||
      a->server_id == NULL || a->sessions == NULL)
    goto fail;
  if ((r = sio_server_of(io, a->nsp_name, &a->ns)) != 0) goto fail;
  /* The observer first: from here on a lives till the server is freed (on_free), since
   * the namespace's handlers below point to it and cannot be removed. */
  if ((r = sio_server_observe(io, &observer, a)) != 0) goto fail;
  a->started_ms = uv_now(a->loop);
  uv_timer_init(a->loop, &a->timer);
  a->timer.data = a;
  a->refs++; /* the timer handle, dropped in its close callback */
  /* Registered once for the whole namespace: no per-socket cost, nothing when readonly. */
  if ((r = sio_ns_use(a->ns, sio__admin_auth_mw, a)) != 0 || (r = sio_ns_on_connect(a->ns, on_admin_connect, a)) != 0 ||
      (r = sio_ns_on_disconnect(a->ns, on_admin_disconnect, a)) != 0)
    goto late;
  if (!o.readonly && ((r = sio_ns_on(a->ns, "_disconnect", act_disconnect, a)) != 0 ||
                      (r = sio_ns_on(a->ns, "join", act_join, a)) != 0 || (r = sio_ns_on(a->ns, "leave", act_leave, a)) != 0 ||
                      (r = sio_ns_on(a->ns, "emit", act_emit, a)) != 0))
    goto late;
  if (dev(a)) sio_server_namespaces(io, watch_ns, a);
  uv_timer_start(&a->timer, on_tick, o.stats_interval_ms, o.stats_interval_ms);
  uv_unref((uv_handle_t *)&a->timer); /* as instrument()'s interval: does not keep the loop alive */
  if (o.no_auth) SIO_LOGW("admin: authentication is disabled on %s: anyone who reaches the server can use it", a->nsp_name);
  *out = a;
  return 0;
late:
  sio_admin_detach(a); /* freed with the server */
  return r;
fail:
  sio__admin_unref(a);
  return r;
}

static void timer_closed(uv_handle_t *h) { sio__admin_unref(h->data); }

void sio_admin_detach(sio_admin_t *a) {
  if (a == NULL || a->detached) return;
  if (a->tracking) {
    a->local_admins = 0;
    a->remote_active = 0;
    update_tracking(a);
  }
  a->detached = 1;
  /* The namespace's handlers keep pointing to a (they see detached and do nothing), so
   * a stays until the server is freed (obs_free). */
  uv_close((uv_handle_t *)&a->timer, timer_closed);
}
