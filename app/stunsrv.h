/* The STUN responder on a UDP socket (--stun-port). */
#ifndef NOOM_STUNSRV_H
#define NOOM_STUNSRV_H

#include <uv.h>

/* Binds host:port (UDP) and answers Binding requests. Returns 0 or a libuv error. */
int noom_stunsrv_start(uv_loop_t *loop, const char *host, int port);
/* Closes the socket (shutdown). */
void noom_stunsrv_stop(void);

#endif
