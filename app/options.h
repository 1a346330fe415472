/* noom's command line: one declarative table gives parsing, defaults and --help. */
#ifndef NOOM_OPTIONS_H
#define NOOM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *host;
  int port;
  const char *web_root;        /* NULL: embedded assets */
  uint64_t ping_interval_ms;
  uint64_t ping_timeout_ms;
  uint64_t max_payload;
  uint64_t upgrade_timeout_ms;
  uint64_t connect_timeout_ms;
  uint64_t request_timeout_ms;
  uint64_t idle_timeout_ms;
  uint64_t max_connections;    /* default: from RLIMIT_NOFILE (options.c) */
  const char *cors_origins;    /* NULL: same-origin only */
  const char *log_level;
  uint64_t msg_rate;           /* new_message per second per socket (refill) */
  uint64_t msg_burst;          /* new_message burst per socket */
  uint64_t event_rate;         /* room, nickname and call events per second per socket */
  uint64_t event_burst;
  uint64_t relay_rate;         /* offer/answer/ice relays per second per socket */
  uint64_t relay_burst;
  uint64_t relay_bytes_rate;   /* relayed payload bytes per second per socket */
  uint64_t relay_bytes_burst;
  uint64_t max_rooms;          /* rooms a socket may be in at once */
  uint64_t lobby_max;          /* rooms listed in one room_change */
  uint64_t lobby_interval_ms;  /* at most one room_change per interval */
  uint64_t ws_ping_interval_ms; /* /ws: ping after MS without one answered */
  uint64_t ws_ping_timeout_ms;  /* /ws: close after MS of silence once pinged */
  uint64_t ws_max_queued;       /* /ws: close a socket with more bytes queued */
  int ws_deflate;               /* permessage-deflate on the WebSockets (off: Node's default) */
  int stun_port;               /* built-in STUN responder (UDP), 0 = off */
  const char *stun_urls;       /* extra STUN URLs for browsers */
  const char *turn_urls;       /* TURN URLs for browsers */
  const char *turn_secret;     /* TURN REST shared secret (coturn use-auth-secret) */
  uint64_t turn_ttl;           /* TURN credential lifetime, seconds */
  const char *media;           /* "mesh" or "sfu"; NULL: sfu, or mesh with --redis */
  int media_port;              /* SFU UDP port */
  int media_port_set;          /* --media-port given (else a busy default moves) */
  const char *media_ip;        /* SFU candidate addresses, NULL: from --host */
  uint64_t max_call;           /* SFU: people per call */
  uint64_t max_bitrate;        /* SFU: upstream cap per participant, bits/s */
  const char *tls_cert;        /* PEM certificate chain: serve HTTPS/WSS */
  const char *tls_key;         /* PEM private key */
  int tls_self_signed;         /* make a throwaway certificate (LAN testing) */
  const char *redis;           /* redis:// URL: share rooms with other nodes; NULL = off */
  const char *redis_prefix;    /* Redis channel prefix (the JS adapter's `key`) */
  const char *redis_streams;   /* redis:// URL: the same through a Redis stream (cross-node recovery) */
  const char *redis_stream;    /* the stream's name (the JS streamName) */
  uint64_t redis_maxlen;       /* XADD MAXLEN ~ N (the JS maxLen) */
  const char *db;              /* history store: SQLite path, ":memory:" or postgres:// URL */
  uint64_t history;            /* messages given on enter_room (0: history off) */
  uint64_t history_max_age_days; /* retention by age (0: keep) */
  uint64_t history_max_per_room; /* retention by count (0: keep) */
  uint64_t recovery_ms;        /* connection-state recovery window (0: off) */
  /* Operations (app/ops.c, docs/operations.md). */
  int metrics;                 /* serve GET /metrics (on by default) */
  const char *metrics_addr;    /* HOST:PORT: /metrics, /healthz, /readyz on their own listener */
  uint64_t drain_ms;           /* SIGTERM: close sessions spread over this long */
  const char *log_format;      /* "text" or "json" */
  int check_config;            /* validate and exit */
  int admin;                   /* the Socket.IO admin UI's /admin namespace (app/admin.c) */
  const char *admin_user;
  const char *admin_password_hash; /* bcrypt */
  int admin_no_auth;
  int admin_readonly;
  const char *admin_mode;      /* development or production */
  const char *admin_server_id; /* NULL: the host name */
  const char *admin_ui;        /* serve the UI's files from DIR at /admin/ */
} noom_options_t;

/* Fills defaults, then parses argv. Returns 0 to run, 1 when --help/--version printed
 * (exit 0), -1 on a bad flag (message printed; exit 2). */
int noom_options_parse(noom_options_t *o, int argc, char **argv);

#endif
