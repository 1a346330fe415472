/*
 * --check-config: every check prints one line, "ok   what" or "FAIL what: why (what to
 * do)", so a deploy script can show the output as is and act on the exit status. Nothing
 * is served and nothing is left behind, except that an existing history store is opened
 * (and migrated, as a start would).
 */
#include "checkconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "ops.h"
#include "sio.h"
#include "store.h"

#define NET_TIMEOUT_MS 2000

static int failures;

static void report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s ", ok ? "ok  " : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  failures += !ok;
}

/* Binds (and for TCP listens on) host:port, then lets go. 0 or -errno. */
static int try_bind(const char *host, int port, int type) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
  struct addrinfo *ai;
  char ps[8];
  snprintf(ps, sizeof ps, "%d", port);
  if (getaddrinfo(host, ps, &hints, &ai) != 0) return -EINVAL;
  int fd = socket(ai->ai_family, ai->ai_socktype, 0), r = 0, one = 1;
  if (fd < 0) r = -errno;
  if (r == 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (r == 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) r = -errno;
  if (r == 0 && type == SOCK_STREAM && listen(fd, 1) != 0) r = -errno;
  if (fd >= 0) close(fd);
  freeaddrinfo(ai);
  return r;
}

/* Connects to host:port within NET_TIMEOUT_MS. fd or -errno. */
static int dial(const char *host, const char *port) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *ai;
  int g = getaddrinfo(host, port, &hints, &ai);
  if (g != 0) return -EHOSTUNREACH;
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    freeaddrinfo(ai);
    return -errno;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  int r = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : -errno;
  freeaddrinfo(ai);
  if (r == -EINPROGRESS) {
    struct pollfd p = {fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, NET_TIMEOUT_MS) != 1) r = -ETIMEDOUT;
    else r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 ? 0 : -(err ? err : EIO);
  }
  if (r) {
    close(fd);
    return r;
  }
  fcntl(fd, F_SETFL, 0);
  return fd;
}

/* redis://[user:pass@]host[:port][/db]: TCP, then PING. */
static void check_redis(const char *url) {
  const char *p = strncmp(url, "redis://", 8) == 0 ? url + 8 : NULL;
  if (p == NULL) {
    report(0, "--redis %s: not a redis:// URL (expected redis://host[:port][/db])", url);
    return;
  }
  const char *at = strchr(p, '@');
  if (at) p = at + 1;
  char host[256], port[8] = "6379";
  size_t hl = strcspn(p, ":/");
  if (hl == 0 || hl >= sizeof host) {
    report(0, "--redis %s: no host in the URL", url);
    return;
  }
  memcpy(host, p, hl);
  host[hl] = '\0';
  if (p[hl] == ':') snprintf(port, sizeof port, "%.*s", (int)strcspn(p + hl + 1, "/"), p + hl + 1);
  int fd = dial(host, port);
  if (fd < 0) {
    report(0, "--redis %s: cannot connect to %s:%s: %s (start Redis there or fix the URL)", url, host, port,
           strerror(-fd));
    return;
  }
  struct timeval tv = {NET_TIMEOUT_MS / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[128] = {0};
  ssize_t n = write(fd, "PING\r\n", 6) == 6 ? read(fd, buf, sizeof buf - 1) : -1;
  close(fd);
  if (n > 0 && strncmp(buf, "+PONG", 5) == 0) report(1, "--redis %s answers PING", url);
  else if (n > 0 && strncmp(buf, "-NOAUTH", 7) == 0) report(0, "--redis %s wants a password (put it in the URL)", url);
  else report(0, "--redis %s: %s:%s does not answer PING like Redis (is it Redis?)", url, host, port);
}

static void check_db(const noom_options_t *o) {
  if (o->history == 0) {
    report(1, "history off (--history 0): no database used");
    return;
  }
  if (strcmp(o->db, ":memory:") == 0) {
    report(1, "--db :memory: (history kept in memory, lost on exit)");
    return;
  }
  int pg = strncmp(o->db, "postgres://", 11) == 0 || strncmp(o->db, "postgresql://", 13) == 0;
  struct stat st;
  if (!pg && stat(o->db, &st) != 0) {
    /* A new SQLite file: its directory must take it. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", o->db);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    const char *d = slash ? (dir[0] ? dir : "/") : ".";
    if (access(d, W_OK | X_OK) == 0) report(1, "--db %s will be created (SQLite)", o->db);
    else report(0, "--db %s: cannot create it in %s: %s (pick a writable place)", o->db, d, strerror(errno));
    return;
  }
  const noom_store_ops_t *ops = noom_store_for(o->db);
  noom_store_t *s = NULL;
  char err[512] = "";
  int r = ops->open(o->db, &s, err, sizeof err);
  if (s) ops->close(s);
  if (r == NOOM_STORE_OK) report(1, "--db %s opens (%s)", pg ? "postgres://..." : o->db, ops->name);
  else report(0, "--db %s: %s", pg ? "postgres://..." : o->db, err);
}

/* Loads the certificate pair the way serving would. */
static void check_tls(const noom_options_t *o) {
  if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
    report(0, "--tls-cert and --tls-key go together (give both)");
    return;
  }
  if (o->tls_cert == NULL) return;
  uv_loop_t loop;
  sio_http_t *h;
  if (uv_loop_init(&loop) != 0 || sio_http_new(&loop, NULL, &h) != 0) {
    report(0, "TLS: cannot check (out of memory)");
    return;
  }
  int r = sio_http_set_tls(h, o->tls_cert, o->tls_key);
  sio_http_close(h, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (r == 0) report(1, "--tls-cert %s and --tls-key %s load and match", o->tls_cert, o->tls_key);
  else report(0, "--tls-cert %s / --tls-key %s: not a readable PEM pair that matches (see the error above)",
              o->tls_cert, o->tls_key);
}

int noom_check_config(const noom_options_t *o) {
  failures = 0;
  report(1, "flags parse (log level %s, log format %s)", o->log_level, o->log_format);
  if (o->turn_urls && !o->turn_secret) report(0, "--turn-urls needs --turn-secret (the secret your TURN server checks)");
  check_tls(o);
  if (o->web_root) {
    struct stat st;
    int ok = stat(o->web_root, &st) == 0 && S_ISDIR(st.st_mode) && access(o->web_root, R_OK | X_OK) == 0;
    if (ok) report(1, "--web-root %s is a readable directory", o->web_root);
    else report(0, "--web-root %s is not a readable directory (fix the path, or drop the flag for the embedded files)",
                o->web_root);
  }
  int r = try_bind(o->host, o->port, SOCK_STREAM);
  if (r == 0) report(1, "TCP %s:%d can be bound", o->host, o->port);
  else report(0, "TCP %s:%d cannot be bound: %s (another server on the port? try --port)", o->host, o->port,
              strerror(-r));
  if (o->stun_port > 0) {
    r = try_bind(o->host, o->stun_port, SOCK_DGRAM);
    if (r == 0) report(1, "UDP %s:%d (STUN) can be bound", o->host, o->stun_port);
    else report(0, "UDP %s:%d (STUN) cannot be bound: %s (try --stun-port, 0 disables it)", o->host, o->stun_port,
                strerror(-r));
  }
  if (o->metrics_addr) {
    char host[256];
    int port;
    if (noom_ops_addr_parse(o->metrics_addr, host, sizeof host, &port) != 0) {
      report(0, "--metrics-addr %s: expected HOST:PORT (e.g. 127.0.0.1:9100)", o->metrics_addr);
    } else if (port != 0 && port == o->port) {
      report(0, "--metrics-addr %s uses --port %d too (pick another port, or drop the flag to serve /metrics "
             "on the main port)", o->metrics_addr, o->port);
    } else if ((r = try_bind(host, port, SOCK_STREAM)) != 0) {
      report(0, "--metrics-addr %s cannot be bound: %s (pick another port)", o->metrics_addr, strerror(-r));
    } else {
      report(1, "--metrics-addr %s can be bound", o->metrics_addr);
    }
  }
  if (o->redis) check_redis(o->redis);
  check_db(o);
  printf("%s\n", failures ? "configuration has problems (see FAIL above)" : "configuration ok");
  return failures ? -1 : 0;
}
