/*
 * echo: the example server the integration suites and benchmarks run against.
 *
 *   /engine.io/  a raw Engine.IO server that echoes every message (text or binary)
 *                back to its session.
 *
 * Usage: echo [--port P] [--host H] [--ping-interval MS] [--ping-timeout MS]
 *             [--max-payload BYTES] [--connect-timeout MS] [--header-timeout MS]
 *             [--idle-timeout MS] [--log-level L]
 * Prints "listening on http://HOST:PORT" on stdout once ready; SIGINT/SIGTERM stop it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sio/engine.h"

static sio_http_t *http;
static uv_signal_t sigint, sigterm;

static void echo_message(sio_eio_t *s, int binary, char *data, size_t len, void *user) {
  (void)user;
  sio_eio_send(s, binary, data, len);
}

static void on_closed(void *user) { (void)user; }

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  uv_close((uv_handle_t *)&sigint, NULL);
  uv_close((uv_handle_t *)&sigterm, NULL);
  sio_http_close(http, on_closed, NULL);
  (void)h;
}

static void usage(void) {
  printf("usage: echo [options]\n"
         "  --host H              address to bind (default 127.0.0.1)\n"
         "  --port P              port, 0 picks a free one (default 3000)\n"
         "  --ping-interval MS    Engine.IO pingInterval (default 25000)\n"
         "  --ping-timeout MS     Engine.IO pingTimeout (default 20000)\n"
         "  --max-payload BYTES   Engine.IO maxHttpBufferSize (default 1000000)\n"
         "  --connect-timeout MS  Socket.IO connectTimeout (default 45000)\n"
         "  --header-timeout MS   HTTP request timeout (default 10000)\n"
         "  --idle-timeout MS     HTTP keep-alive idle timeout (default 5000)\n"
         "  --log-level L         none|error|warn|info|debug (default warn)\n");
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 3000;
  sio_http_opts_t hopts;
  sio_engine_opts_t eopts;
  sio_http_opts_init(&hopts);
  sio_engine_opts_init(&eopts);
  eopts.cors_origins = "*";
  sio_log_set_level(SIO_LOG_WARN);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 0;
    }
    if (v == NULL) {
      fprintf(stderr, "echo: %s needs a value (see --help)\n", a);
      return 2;
    }
    i++;
    if (strcmp(a, "--host") == 0) host = v;
    else if (strcmp(a, "--port") == 0) port = atoi(v);
    else if (strcmp(a, "--ping-interval") == 0) eopts.ping_interval_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--ping-timeout") == 0) eopts.ping_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--max-payload") == 0) eopts.max_http_buffer_size = strtoull(v, NULL, 10);
    else if (strcmp(a, "--connect-timeout") == 0) (void)v;
    else if (strcmp(a, "--header-timeout") == 0) hopts.request_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--idle-timeout") == 0) hopts.idle_timeout_ms = strtoull(v, NULL, 10);
    else if (strcmp(a, "--log-level") == 0) {
      sio_log_level_t l;
      if (sio_log_level_parse(v, &l) != 0) {
        fprintf(stderr, "echo: bad --log-level %s\n", v);
        return 2;
      }
      sio_log_set_level(l);
    } else {
      fprintf(stderr, "echo: unknown option %s (see --help)\n", a);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_t *loop = uv_default_loop();
  if (sio_http_new(loop, &hopts, &http) != 0) return 1;
  sio_engine_t *eng;
  static const sio_engine_cbs_t cbs = {NULL, echo_message, NULL};
  if (sio_engine_attach(http, "/engine.io/", &eopts, &cbs, NULL, &eng) != 0) return 1;
  int r = sio_http_listen(http, host, port);
  if (r != 0) {
    fprintf(stderr, "echo: cannot listen on %s:%d: %s\n", host, port, sio_strerror(r));
    return 1;
  }
  printf("listening on http://%s:%d\n", host, sio_http_port(http));
  fflush(stdout);
  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
