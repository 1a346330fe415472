/*
 * hello: a chat server in 30 lines. A client emits chat(room, text, ack): it joins room,
 * the others in room get message({from, text}), and the ack answers {ok, delivered}
 * (how many got it). Build against the installed library (README, "Use the library"), run, and point
 * socket.io-client at http://127.0.0.1:3000.
 */
#include <sio.h>
#include <stdio.h>
#include <stdlib.h>

static void on_chat(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *user) {
  sio_str_t room, text;
  sio_args_t *msg;
  if (sio_args_get_str(args, 0, &room) != 0 || sio_args_get_str(args, 1, &text) != 0) return;
  if (sio_socket_join_n(s, room.ptr, room.len) != 0) return;
  if (sio_args_pack(&msg, "{s:s, s:s%}", "from", sio_socket_id(s), "text", text.ptr, text.len) != 0) return;
  int n = sio_socket_to_emit_n(s, room.ptr, room.len, "message", msg);
  sio_args_free(msg);
  if (ack) sio_ack_sendf(ack, "{s:b, s:i}", "ok", n >= 0, "delivered", n);
}

int main(int argc, char **argv) {
  sio_http_t *http;
  sio_server_t *io;
  if (sio_http_new(uv_default_loop(), NULL, &http) != 0 || sio_server_new(http, NULL, &io) != 0) return 1;
  sio_ns_on(sio_server_main(io), "chat", on_chat, NULL);
  if (sio_http_listen(http, "127.0.0.1", argc > 1 ? atoi(argv[1]) : 3000) != 0) return 1;
  printf("hello listening on http://127.0.0.1:%d\n", sio_http_port(http));
  fflush(stdout);
  return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}
