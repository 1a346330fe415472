/*
 * Video-call signaling (docs/signaling.md): the course's contract (join_room, offer,
 * answer, ice, welcome) and the app's group-call events (call_join, call_leave,
 * call_state, peer_left). Mesh: the server only relays and media flows browser to
 * browser; SFU (--media sfu): app/callsfu.c answers offers and media goes through us.
 */
#ifndef NOOM_CALL_H
#define NOOM_CALL_H

#include "sio.h"

#define NOOM_CALL_MAX_PEERS 6
#define NOOM_MAX_SDP (64 * 1024)
#define NOOM_MAX_CANDIDATE 4096

typedef struct {
  int sfu;      /* --media sfu: media goes through app/media/sfu.c (started by main) */
  int max_call; /* --max-call: people per call (mesh: 6) */
} noom_call_opts_t;

int noom_call_init(sio_server_t *io, const noom_call_opts_t *o);
/* People per call, oneself included (for GET /config). */
int noom_call_max(void);

#endif
