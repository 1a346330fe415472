/*
 * The course's first step: a plain-WebSocket public chat at /ws. Clients send
 * {"type":"nickname","payload":"..."} or {"type":"new_message","payload":"..."}; every
 * connected socket (the sender too) receives the text "nickname: message".
 */
#ifndef NOOM_WSCHAT_H
#define NOOM_WSCHAT_H

#include "sio.h"

int noom_wschat_init(sio_http_t *http, const char *path);
/* Closes every chat socket (shutdown). */
void noom_wschat_close(void);

#endif
