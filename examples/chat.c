/*
 * chat: the course's chat server in a few dozen lines of libsio. Rooms, nicknames, and
 * "nickname: message" to the rest of the room. Run it, then point the course's client
 * (or socket.io-client) at http://127.0.0.1:3001.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"

/* Copies string argument i (at most cap-1 bytes); returns 0 if it is not a string. */
static int arg(const sio_args_t *a, size_t i, char *out, size_t cap) {
  sio_str_t s;
  if (sio_args_get_str(a, i, &s) != 0 || s.len == 0 || s.len >= cap) return 0;
  memcpy(out, s.ptr, s.len);
  out[s.len] = '\0';
  return 1;
}

static void on_connect(sio_socket_t *s, void *u) { sio_socket_set_data(s, strdup("Anon")); }
static void on_disconnect(sio_socket_t *s, const char *reason, void *u) { free(sio_socket_get_data(s)); }

static void on_nickname(sio_socket_t *s, const sio_args_t *a, sio_ack_t *ack, void *u) {
  char nick[33];
  if (!arg(a, 0, nick, sizeof nick)) return;
  free(sio_socket_get_data(s));
  sio_socket_set_data(s, strdup(nick));
}

/* enter_room(room, done): join, ack, tell the room welcome(nickname). */
static void on_enter_room(sio_socket_t *s, const sio_args_t *a, sio_ack_t *ack, void *u) {
  sio_str_t room;
  if (sio_args_get_str(a, 0, &room) != 0 || room.len == 0 || room.len > 64) return;
  if (sio_socket_join_n(s, room.ptr, room.len) != 0) return;
  if (ack) sio_ack_send(ack, NULL);
  sio_args_t *out;
  if (sio_args_pack(&out, "s", (char *)sio_socket_get_data(s)) != 0) return;
  sio_socket_to_emit_n(s, room.ptr, room.len, "welcome", out);
  sio_args_free(out);
}

/* new_message(msg, room, done): "nickname: msg" to the rest of the room. */
static void on_new_message(sio_socket_t *s, const sio_args_t *a, sio_ack_t *ack, void *u) {
  char msg[2001], room[65], line[2040];
  if (!arg(a, 0, msg, sizeof msg) || !arg(a, 1, room, sizeof room) || !sio_socket_in(s, room)) return;
  snprintf(line, sizeof line, "%s: %s", (char *)sio_socket_get_data(s), msg);
  sio_socket_to_emitf(s, room, "new_message", "s", line);
  if (ack) sio_ack_send(ack, NULL);
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 3001;
  uv_loop_t *loop = uv_default_loop();
  sio_http_t *http;
  sio_server_t *io;
  sio_server_opts_t opts;
  sio_server_opts_init(&opts);
  opts.engine.cors_origins = "*"; /* the course's client may be served from elsewhere */
  if (sio_http_new(loop, NULL, &http) != 0 || sio_server_new(http, &opts, &io) != 0) return 1;
  sio_ns_t *ns = sio_server_main(io);
  sio_ns_on_connect(ns, on_connect, NULL);
  sio_ns_on_disconnect(ns, on_disconnect, NULL);
  sio_ns_on(ns, "nickname", on_nickname, NULL);
  sio_ns_on(ns, "enter_room", on_enter_room, NULL);
  sio_ns_on(ns, "new_message", on_new_message, NULL);
  if (sio_http_listen(http, "127.0.0.1", port) != 0) return 1;
  printf("chat listening on http://127.0.0.1:%d\n", sio_http_port(http));
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
