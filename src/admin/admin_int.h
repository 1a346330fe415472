/* The admin UI's server side (include/sio/admin.h): state shared by its files. */
#ifndef SIO_ADMIN_INT_H
#define SIO_ADMIN_INT_H

#include <jansson.h>

#include "sio/admin.h"

typedef struct {
  char id[17];         /* 8 random bytes, hex, as instrument()'s randomId */
  uint64_t expires_ms; /* uv_now-based */
} sio__admin_session_t;

/* Disconnect reasons of the current stats interval (rawDisconnection's subType). */
#define SIO__ADMIN_REASONS 8

struct sio_admin_s {
  sio_server_t *io;
  uv_loop_t *loop;
  sio_admin_opts_t opts; /* strings below are our copies */
  char *nsp_name, *username, *hash, *server_id;
  char hostname[256];
  sio_ns_t *ns;          /* the admin namespace */
  uv_timer_t timer;      /* server_stats */
  uint64_t started_ms;
  uint32_t refs;         /* 1 + login checks running + cluster queries waiting */
  uint8_t detached;
  uint8_t querying;      /* a remote-admin probe is in flight */
  uint8_t remote_active; /* some other node has an admin connected */
  uint8_t tracking;      /* per-socket event listeners are installed */
  uint32_t local_admins;
  uint32_t pending_logins;
  sio__admin_session_t *sessions; /* ring of opts.max_sessions */
  uint32_t nsessions, next_session;
  sio_server_stats_t last; /* counters at the previous tick */
  struct {
    const char *reason;
    uint64_t count;
  } reasons[SIO__ADMIN_REASONS];
};

/* auth.c */
void sio__admin_auth_mw(sio_socket_t *s, sio_mw_t *mw, void *user);
void sio__admin_unref(sio_admin_t *a);

/* report.c: the JSON the UI reads. */
json_t *sio__admin_serialize(const sio_remote_socket_t *rs, const char *nsp);
json_t *sio__admin_date(void); /* new Date() as JSON.stringify writes it */
/* Emits event(args) to the admin namespace (every node); flags SIO_BCAST_*. */
int sio__admin_emit(sio_admin_t *a, const char *event, sio_args_t *args, unsigned flags);
/* Appends a jansson value as one argument (consumes v). */
int sio__admin_add_json(sio_args_t *args, json_t *v);
void sio__admin_emit_stats(sio_admin_t *a);
/* Emits "all_sockets" to s once every namespace answered. */
int sio__admin_send_all_sockets(sio_admin_t *a, sio_socket_t *s);

#endif
