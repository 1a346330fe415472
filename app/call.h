/*
 * Video-call signaling (docs/signaling.md): the course's contract (join_room, offer,
 * answer, ice, welcome) and the app's group-call events (call_join, call_leave,
 * call_state, peer_left). The server only relays; media flows browser to browser.
 */
#ifndef NOOM_CALL_H
#define NOOM_CALL_H

#include "sio.h"

#define NOOM_CALL_MAX_PEERS 6
#define NOOM_MAX_SDP (64 * 1024)
#define NOOM_MAX_CANDIDATE 4096

int noom_call_init(sio_server_t *io);

#endif
