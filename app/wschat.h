/*
 * The course's first step: a plain-WebSocket public chat at /ws. Clients send
 * {"type":"nickname","payload":"..."} or {"type":"new_message","payload":"..."}; every
 * connected socket (the sender too) receives the text "nickname: message".
 *
 * Bounds: every message a socket sends takes a token from its bucket (msg_burst tokens,
 * msg_rate added per second); a socket with none left is closed with 1008 "rate limit
 * exceeded". Pings, the idle timeout and the send-queue limit are the library's
 * (sio_http_opts_t ws_*).
 */
#ifndef NOOM_WSCHAT_H
#define NOOM_WSCHAT_H

#include "sio.h"

typedef struct {
  uint64_t msg_rate;  /* messages added to a socket's bucket per second */
  uint64_t msg_burst; /* bucket size */
} noom_wschat_opts_t;

/* Serves the chat at path on http. opts copied. Returns 0 or SIO_ENOMEM / SIO_EEXIST. */
int noom_wschat_init(uv_loop_t *loop, sio_http_t *http, const char *path, const noom_wschat_opts_t *opts);
/* Closes every chat socket (shutdown). */
void noom_wschat_close(void);

#endif
