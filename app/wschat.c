/*
 * Plain-WebSocket public chat (course step 1). Clients are kept in a doubly linked list;
 * a message is framed once per recipient by sio_ws_send (chat-sized messages).
 */
#include "wschat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lobby.h"

typedef struct client_s {
  struct client_s *prev, *next;
  sio_ws_t *ws;
  char nick[NOOM_MAX_NICK + 1];
  char peer[48]; /* for the log lines: the library reads the address on demand, and after
                    a reset it can no longer be read */
  double tokens;       /* rate limiter bucket */
  uint64_t refill_at;  /* loop time of the last refill */
} client_t;

static client_t *clients;
static size_t nclients;
static uv_loop_t *loop;
static noom_wschat_opts_t opts;

/* Token bucket, as the lobby's: msg_burst messages at once, msg_rate per second sustained. */
static int rate_ok(client_t *c) {
  uint64_t now = uv_now(loop);
  c->tokens += (double)(now - c->refill_at) * (double)opts.msg_rate / 1000.0;
  if (c->tokens > (double)opts.msg_burst) c->tokens = (double)opts.msg_burst;
  c->refill_at = now;
  if (c->tokens < 1.0) return 0;
  c->tokens -= 1.0;
  return 1;
}

static void broadcast(const char *text, size_t len) {
  for (client_t *c = clients; c; c = c->next) sio_ws_send(c->ws, 0, text, len);
}

static void on_message(sio_ws_t *ws, int binary, const char *data, size_t len, void *user) {
  client_t *c = user;
  sio_args_t *a;
  sio_str_t type, payload;
  /* Every message counts, ignored ones too: each costs a parse. */
  if (!rate_ok(c)) {
    sio_log_printf(SIO_LOG_WARN, "ws-chat %s: over %llu messages/s (burst %llu), closing it with 1008 (raise "
                   "--msg-rate / --msg-burst if such senders are legitimate)", c->peer,
                   (unsigned long long)opts.msg_rate, (unsigned long long)opts.msg_burst);
    sio_ws_close_reason(ws, 1008, "rate limit exceeded");
    return;
  }
  if (binary || sio_args_new(&a) != 0) return;
  if (sio_args_add_json(a, data, len) != 0 || sio_args_get_member_str(a, 0, "type", &type) != 0 ||
      sio_args_get_member_str(a, 0, "payload", &payload) != 0) {
    sio_log_printf(SIO_LOG_DEBUG, "ws-chat %s: ignored a message that is not {type, payload}", c->peer);
    sio_args_free(a);
    return;
  }
  if (type.len == 8 && memcmp(type.ptr, "nickname", 8) == 0) {
    if (payload.len > 0 && payload.len <= NOOM_MAX_NICK) {
      memcpy(c->nick, payload.ptr, payload.len);
      c->nick[payload.len] = '\0';
    }
  } else if (type.len == 11 && memcmp(type.ptr, "new_message", 11) == 0) {
    if (payload.len > 0 && payload.len <= NOOM_MAX_MESSAGE) {
      size_t nl = strlen(c->nick);
      char line[NOOM_MAX_NICK + 2 + NOOM_MAX_MESSAGE];
      memcpy(line, c->nick, nl);
      memcpy(line + nl, ": ", 2);
      memcpy(line + nl + 2, payload.ptr, payload.len);
      broadcast(line, nl + 2 + payload.len);
    }
  }
  sio_args_free(a);
}

static void on_close(sio_ws_t *ws, int code, void *user) {
  client_t *c = user;
  (void)ws;
  sio_log_printf(SIO_LOG_INFO, "ws-chat: %s left (%d), %zu connected", c->peer, code, nclients - 1);
  if (c->prev) c->prev->next = c->next;
  else clients = c->next;
  if (c->next) c->next->prev = c->prev;
  nclients--;
  free(c);
}

static const sio_ws_cbs_t cbs = {on_message, on_close};

static void on_request(sio_http_req_t *req, void *user) {
  (void)user;
  client_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    sio_http_respond(req, 503, "text/plain", NULL, "Service Unavailable", 19);
    return;
  }
  strcpy(c->nick, "Anon");
  c->tokens = (double)opts.msg_burst;
  c->refill_at = uv_now(loop);
  snprintf(c->peer, sizeof c->peer, "%s", sio_http_req_peer(req));
  if (sio_http_upgrade(req, &cbs, c, 64 * 1024, &c->ws) != 0) {
    free(c);
    return;
  }
  c->next = clients;
  if (clients) clients->prev = c;
  clients = c;
  nclients++;
  sio_log_printf(SIO_LOG_INFO, "ws-chat: %s joined, %zu connected", c->peer, nclients);
}

int noom_wschat_init(uv_loop_t *l, sio_http_t *http, const char *path, const noom_wschat_opts_t *o) {
  loop = l;
  opts = *o;
  return sio_http_handle(http, path, 1, on_request, NULL);
}

void noom_wschat_close(void) {
  /* on_close runs later (after the close frame is written, or when the server closes),
   * so walk with the next pointer in hand rather than wait for the list to empty. */
  for (client_t *c = clients, *next; c; c = next) {
    next = c->next;
    sio_ws_close(c->ws, 1001);
  }
}
