/* SFU signaling events (sfu_offer, sfu_stats): see app/callsfu.c and docs/signaling.md. */
#ifndef NOOM_CALLSFU_H
#define NOOM_CALLSFU_H

#include "sio.h"

int noom_callsfu_init(sio_server_t *io);

#endif
