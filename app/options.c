/*
 * Flags of the noom binary. Every flag is one row of the table below (name, value kind,
 * default, help), so --help always lists every flag with its default.
 */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sio.h"

/* OPT_ONOFF: "--name" alone is on, "--name on|off" (or =on/=off) sets it, "--no-name" is off. */
typedef enum { OPT_STR, OPT_INT, OPT_U64, OPT_FLAG, OPT_ONOFF } kind_t;

typedef struct {
  const char *name;
  const char *arg;
  kind_t kind;
  size_t off;
  const char *help;
} opt_t;

#define OFF(f) offsetof(noom_options_t, f)

static const opt_t table[] = {
    {"host", "ADDR", OPT_STR, OFF(host), "address to listen on (0.0.0.0 or :: for every interface)"},
    {"port", "PORT", OPT_INT, OFF(port), "TCP port (0 picks a free one)"},
    {"web-root", "DIR", OPT_STR, OFF(web_root), "serve web files from DIR instead of the embedded copy (development)"},
    {"ping-interval", "MS", OPT_U64, OFF(ping_interval_ms), "Engine.IO pingInterval"},
    {"ping-timeout", "MS", OPT_U64, OFF(ping_timeout_ms), "Engine.IO pingTimeout"},
    {"max-payload", "BYTES", OPT_U64, OFF(max_payload), "Engine.IO maxHttpBufferSize (largest message or poll body)"},
    {"upgrade-timeout", "MS", OPT_U64, OFF(upgrade_timeout_ms), "Engine.IO upgradeTimeout (polling -> WebSocket)"},
    {"connect-timeout", "MS", OPT_U64, OFF(connect_timeout_ms), "close sessions that join no namespace within MS"},
    {"request-timeout", "MS", OPT_U64, OFF(request_timeout_ms), "HTTP: time allowed to send one request (slowloris guard)"},
    {"idle-timeout", "MS", OPT_U64, OFF(idle_timeout_ms), "HTTP: close idle keep-alive connections after MS"},
    {"max-connections", "N", OPT_U64, OFF(max_connections),
     "refuse connections beyond N at once with 503 (0: none); unset, ulimit -n less 10% (16-256) kept for files"},
    {"cors-origins", "LIST", OPT_STR, OFF(cors_origins), "origins allowed cross-origin: comma-separated list, or *"},
    {"log-level", "LEVEL", OPT_STR, OFF(log_level), "none, error, warn, info or debug"},
    {"event-rate", "N", OPT_U64, OFF(event_rate), "room, nickname and call events per second a socket may sustain"},
    {"event-burst", "N", OPT_U64, OFF(event_burst), "room, nickname and call events a socket may send in a burst"},
    {"relay-rate", "N", OPT_U64, OFF(relay_rate), "offer/answer/ice relays per second a socket may sustain"},
    {"relay-burst", "N", OPT_U64, OFF(relay_burst), "offer/answer/ice relays a socket may send in a burst"},
    {"relay-bytes-rate", "BYTES", OPT_U64, OFF(relay_bytes_rate), "relayed signaling bytes per second a socket may sustain"},
    {"relay-bytes-burst", "BYTES", OPT_U64, OFF(relay_bytes_burst), "relayed signaling bytes a socket may send in a burst"},
    {"max-rooms", "N", OPT_U64, OFF(max_rooms), "rooms one socket may be in at once (a call in a room counts as one more)"},
    {"lobby-max", "N", OPT_U64, OFF(lobby_max), "rooms listed in the lobby (the largest; room_change also gives the total)"},
    {"lobby-interval", "MS", OPT_U64, OFF(lobby_interval_ms), "at most one lobby update per MS (changes are coalesced)"},
    {"msg-rate", "N", OPT_U64, OFF(msg_rate), "chat messages per second a socket may sustain (Socket.IO and /ws)"},
    {"msg-burst", "N", OPT_U64, OFF(msg_burst), "chat messages a socket may send in a burst (/ws: beyond it, closed 1008)"},
    {"ws-ping-interval", "MS", OPT_U64, OFF(ws_ping_interval_ms), "/ws: ping a socket MS after its last answer (0: no pings)"},
    {"ws-ping-timeout", "MS", OPT_U64, OFF(ws_ping_timeout_ms), "/ws: close a pinged socket silent for MS (1001 \"ping timeout\")"},
    {"ws-max-queued", "BYTES", OPT_U64, OFF(ws_max_queued), "/ws: close a socket that does not read, BYTES behind (0: no limit)"},
    {"ws-deflate", "", OPT_FLAG, OFF(ws_deflate), "WebSocket permessage-deflate on /socket.io/ and /ws (1 KiB threshold; ~300 KiB per busy socket)"},
    {"stun-port", "PORT", OPT_INT, OFF(stun_port), "UDP port of the built-in STUN responder (0: off)"},
    {"stun-urls", "LIST", OPT_STR, OFF(stun_urls), "extra STUN URLs given to browsers, comma-separated"},
    {"turn-urls", "LIST", OPT_STR, OFF(turn_urls), "TURN URLs given to browsers (needs --turn-secret)"},
    {"turn-secret", "SECRET", OPT_STR, OFF(turn_secret), "TURN REST shared secret (coturn use-auth-secret)"},
    {"turn-ttl", "SECONDS", OPT_U64, OFF(turn_ttl), "lifetime of issued TURN credentials"},
    {"media", "sfu|mesh", OPT_STR, OFF(media),
     "calls: sfu (media through this server's UDP --media-port, --max-call people) or mesh (browsers send to each "
     "other, 6 people); default: sfu, or mesh with --redis or --redis-streams (SFU media stays on one node)"},
    {"media-port", "PORT", OPT_INT, OFF(media_port),
     "SFU: the one UDP port of every call's media (0 picks a free one; the default moves to a free one if in use)"},
    {"media-ip", "LIST", OPT_STR, OFF(media_ip),
     "SFU: addresses announced to browsers, comma-separated (behind NAT: the public one); default: the --host address"},
    {"max-call", "N", OPT_U64, OFF(max_call), "SFU: people per call, oneself included"},
    {"max-bitrate", "BPS", OPT_U64, OFF(max_bitrate), "SFU: upstream cap per participant in bits/s (REMB, then dropped)"},
    {"tls-cert", "FILE", OPT_STR, OFF(tls_cert), "serve HTTPS/WSS with this PEM certificate chain (needs --tls-key)"},
    {"tls-key", "FILE", OPT_STR, OFF(tls_key), "PEM private key of --tls-cert"},
    {"tls-self-signed", "", OPT_FLAG, OFF(tls_self_signed), "serve HTTPS with a throwaway self-signed certificate"},
    {"redis", "URL", OPT_STR, OFF(redis), "run as one of several nodes sharing rooms through Redis (redis://host:port[/db])"},
    {"redis-prefix", "PREFIX", OPT_STR, OFF(redis_prefix), "Redis channel prefix, the same on every node"},
    {"redis-streams", "URL", OPT_STR, OFF(redis_streams),
     "like --redis through a Redis stream (@socket.io/redis-streams-adapter): reconnecting clients recover on any node"},
    {"redis-stream", "NAME", OPT_STR, OFF(redis_stream), "the stream of --redis-streams, the same on every node"},
    {"redis-maxlen", "N", OPT_U64, OFF(redis_maxlen), "entries --redis-streams keeps in the stream (XADD MAXLEN ~ N)"},
    {"db", "PATH|URL", OPT_STR, OFF(db), "chat history: SQLite file, :memory: (lost on exit) or postgres://... (shared by nodes)"},
    {"history", "N", OPT_U64, OFF(history), "messages a newcomer gets on entering a room, at most 200 (0: history off)"},
    {"history-max-age", "DAYS", OPT_U64, OFF(history_max_age_days), "delete history older than DAYS (0: keep)"},
    {"history-max-per-room", "N", OPT_U64, OFF(history_max_per_room), "keep at most N messages per room (0: no limit)"},
    {"recovery-ms", "MS", OPT_U64, OFF(recovery_ms),
     "a dropped connection that comes back within MS keeps its id, rooms and nickname and gets what it missed (0: off)"},
    {"metrics", "[on|off]", OPT_ONOFF, OFF(metrics), "serve Prometheus metrics at GET /metrics (--no-metrics: off)"},
    {"metrics-addr", "HOST:PORT", OPT_STR, OFF(metrics_addr),
     "serve /metrics, /healthz and /readyz on their own listener instead of the main port"},
    {"drain-ms", "MS", OPT_U64, OFF(drain_ms),
     "on SIGTERM/SIGINT stop accepting and close WebSocket sessions spread over MS, so clients reconnect elsewhere gradually (long-polling ones at once)"},
    {"log-format", "FORMAT", OPT_STR, OFF(log_format), "text, or json (one object per line: time, level, event, msg, ...)"},
    {"check-config", "", OPT_FLAG, OFF(check_config),
     "check flags, files, ports, Redis and the database, print what is wrong, exit 0 or 1 without serving"},
    {"admin", "", OPT_FLAG, OFF(admin), "serve the Socket.IO admin UI's /admin namespace (docs/operations.md, Admin UI)"},
    {"admin-user", "NAME", OPT_STR, OFF(admin_user), "admin UI login name (with --admin-password-hash)"},
    {"admin-password-hash", "HASH", OPT_STR, OFF(admin_password_hash), "bcrypt hash of the admin UI password ($2b$...)"},
    {"admin-no-auth", "", OPT_FLAG, OFF(admin_no_auth), "admin UI without a password (development only: anyone can use it)"},
    {"admin-readonly", "", OPT_FLAG, OFF(admin_readonly), "admin UI may look but not disconnect, join, leave or emit"},
    {"admin-mode", "MODE", OPT_STR, OFF(admin_mode), "development (every socket and event) or production (stats only)"},
    {"admin-server-id", "ID", OPT_STR, OFF(admin_server_id), "this node's name in the admin UI (default: the host name)"},
    {"admin-ui", "DIR", OPT_STR, OFF(admin_ui), "serve the admin UI's files (@socket.io/admin-ui ui/dist) from DIR at /admin/"},
};

/* Every connection holds a descriptor: stay below the open-file limit, keeping a reserve
 * (10% of it, 16 to 256) for files, Redis, listeners and the STUN socket, so that at the
 * limit connections are refused with 503 instead of accept() failing with EMFILE. */
static uint64_t default_max_connections(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  uint64_t n = (uint64_t)rl.rlim_cur, reserve = n / 10;
  if (reserve < 16) reserve = 16;
  if (reserve > 256) reserve = 256;
  return n > reserve ? n - reserve : 1;
}

static void defaults(noom_options_t *o) {
  memset(o, 0, sizeof *o);
  o->host = "127.0.0.1";
  o->port = 3000;
  o->ping_interval_ms = 25000;
  o->ping_timeout_ms = 20000;
  o->max_payload = 1000000;
  o->upgrade_timeout_ms = 10000;
  o->connect_timeout_ms = 45000;
  o->request_timeout_ms = 10000;
  o->idle_timeout_ms = 5000;
  o->max_connections = default_max_connections();
  o->log_level = "info";
  o->msg_rate = 5;
  o->msg_burst = 20;
  o->event_rate = 5;
  o->event_burst = 30;
  o->relay_rate = 50;
  o->relay_burst = 200;
  o->relay_bytes_rate = 256 * 1024;
  o->relay_bytes_burst = 1024 * 1024;
  o->max_rooms = 32;
  o->lobby_max = 100;
  o->lobby_interval_ms = 250;
  o->ws_ping_interval_ms = 25000;
  o->ws_ping_timeout_ms = 20000;
  o->ws_max_queued = 8u << 20;
  o->stun_port = 3478;
  o->turn_ttl = 86400;
  o->media = NULL; /* sfu, or mesh with a Redis adapter (main.c) */
  o->media_port = 3479;
  o->max_call = 25;
  o->max_bitrate = 2500000;
  o->redis_prefix = "socket.io";
  o->redis_stream = "socket.io";
  o->redis_maxlen = 10000;
  o->db = "noom.db";
  o->history = 50;
  o->history_max_age_days = 30;
  o->history_max_per_room = 10000;
  o->recovery_ms = 120000;
  o->metrics = 1;
  o->drain_ms = 10000;
  o->log_format = "text";
  o->admin_mode = "development";
}

static void print_default(const noom_options_t *d, const opt_t *t) {
  const char *base = (const char *)d;
  switch (t->kind) {
  case OPT_STR: {
    const char *v = *(const char *const *)(base + t->off);
    printf("(default: %s)", v ? v : "none");
    break;
  }
  case OPT_INT: printf("(default: %d)", *(const int *)(base + t->off)); break;
  case OPT_U64: printf("(default: %llu)", (unsigned long long)*(const uint64_t *)(base + t->off)); break;
  case OPT_FLAG: printf("(default: off)"); break;
  case OPT_ONOFF: printf("(default: %s)", *(const int *)(base + t->off) ? "on" : "off"); break;
  }
}

static void usage(void) {
  noom_options_t d;
  defaults(&d);
  printf("noom %s: a realtime chat and video-call server (Socket.IO + WebRTC signaling)\n\n"
         "usage: noom [options]\n\n", sio_version_string());
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    char lhs[48];
    snprintf(lhs, sizeof lhs, table[i].arg[0] ? "--%s %s" : "--%s", table[i].name, table[i].arg);
    printf("  %-26s %s", lhs, table[i].help);
    /* A help text that says its own default (computed, or depending on other flags)
     * is not followed by the table's. */
    if (strstr(table[i].help, "default:") == NULL) {
      printf(" ");
      print_default(&d, &table[i]);
    }
    printf("\n");
  }
  printf("  %-26s %s\n  %-26s %s\n", "--help", "show this help", "--version", "print the version");
  printf("\nOpen http://HOST:PORT/ in a browser. /ws-chat is the plain-WebSocket chat.\n");
}

static int set(noom_options_t *o, const opt_t *t, const char *v) {
  char *base = (char *)o;
  char *end;
  errno = 0;
  switch (t->kind) {
  case OPT_STR: *(const char **)(base + t->off) = v; return 0;
  case OPT_FLAG: *(int *)(base + t->off) = 1; return 0;
  case OPT_ONOFF:
    if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) return -1;
    *(int *)(base + t->off) = strcmp(v, "on") == 0;
    return 0;
  case OPT_INT: {
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < 0 || n > 65535) return -1;
    *(int *)(base + t->off) = (int)n;
    return 0;
  }
  case OPT_U64: {
    if (v[0] == '-') return -1;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || end == v) return -1;
    *(uint64_t *)(base + t->off) = n;
    return 0;
  }
  }
  return -1;
}

int noom_options_parse(noom_options_t *o, int argc, char **argv) {
  defaults(o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 1;
    }
    if (strcmp(a, "--version") == 0) {
      printf("noom %s\n", sio_version_string());
      return 1;
    }
    const opt_t *t = NULL;
    const char *v = NULL;
    if (strncmp(a, "--no-", 5) == 0) {
      for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        if (table[k].kind == OPT_ONOFF && strcmp(table[k].name, a + 5) == 0) t = &table[k];
      }
      if (t) {
        *(int *)((char *)o + t->off) = 0;
        continue;
      }
    }
    if (strncmp(a, "--", 2) == 0) {
      const char *eq = strchr(a, '=');
      size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
      for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        if (strlen(table[k].name) == n && strncmp(table[k].name, a + 2, n) == 0) t = &table[k];
      }
      if (eq) v = eq + 1;
    }
    if (t == NULL) {
      fprintf(stderr, "noom: unknown option '%s' (see noom --help)\n", a);
      return -1;
    }
    if (v == NULL && t->kind == OPT_FLAG) v = "1";
    if (v == NULL && t->kind == OPT_ONOFF) {
      v = i + 1 < argc && (strcmp(argv[i + 1], "on") == 0 || strcmp(argv[i + 1], "off") == 0) ? argv[++i] : "on";
    }
    if (v == NULL) {
      if (i + 1 >= argc) {
        fprintf(stderr, "noom: --%s needs a value %s (see noom --help)\n", t->name, t->arg);
        return -1;
      }
      v = argv[++i];
    }
    if (set(o, t, v) != 0) {
      fprintf(stderr, "noom: bad value '%s' for --%s (expected %s)\n", v, t->name, t->arg);
      return -1;
    }
    if (t->off == OFF(media_port)) o->media_port_set = 1;
  }
  if (o->redis && o->redis_streams) {
    fprintf(stderr, "noom: --redis and --redis-streams are mutually exclusive: pick one adapter for every node\n");
    return -1;
  }
  return 0;
}
