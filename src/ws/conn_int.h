/*
 * The WebSocket struct and its timer states (src/ws only: conn.c, limits.c). Other layers
 * see a sio_ws_t through ws/conn.h and include/sio/http.h.
 */
#ifndef SIO_WS_CONN_INT_H
#define SIO_WS_CONN_INT_H

#include "ws/conn.h"
#include "ws/deflate.h"

/* Where the connection's timeout node (conn->timeout, free once HTTP has handed the
 * connection over) is: the WebSocket's timers share it, one at a time (ws/limits.c). */
enum {
  SIO__WS_T_NONE = 0,
  SIO__WS_T_PING,  /* waiting to send the next ping */
  SIO__WS_T_PONG,  /* pinged, waiting for any answer */
  SIO__WS_T_CLOSE, /* closing: deadline to flush the close frame */
  SIO__WS_T_ABORT  /* hard close queued for the next loop turn */
};

/* One per WebSocket, idle ones included: kept to 64 bytes (an 80-byte malloc chunk). */
struct sio_ws_s {
  sio__conn_t *conn;         /* NULL after close */
  const sio_ws_cbs_t *cbs;   /* the caller's table (borrowed: static in practice) */
  void *user;
  sio__ws_pmd_t *pmd;        /* permessage-deflate state; NULL when not negotiated */
  sio__ws_decoder_t dec;
  uint8_t close_sent;
  uint8_t close_notified;
  uint16_t close_code;    /* code received from the peer, or the server's own (1006 if none) */
  uint8_t timer;          /* SIO__WS_T_*: what conn->timeout is armed for */
  uint8_t heard;          /* bytes arrived since the last ping */
  uint8_t no_keepalive;   /* sio_ws_set_keepalive(ws, 0) */
  uint8_t failed;         /* a message could not be inflated: close with close_code */
};

#endif
