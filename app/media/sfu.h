/*
 * The selective forwarding unit: one UDP port for every call (ICE-lite, DTLS-SRTP,
 * RTP/RTCP), participants keyed by (socket id, call room). Each participant publishes
 * at most one audio, one camera and one screen-share stream; every packet is forwarded to the other
 * participants' subscriber legs with SSRC, sequence number, timestamp and payload type
 * rewritten per leg. Runs on the app's libuv loop; the signaling (app/callsfu.c) calls in.
 */
#ifndef NOOM_SFU_H
#define NOOM_SFU_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sio.h"

typedef struct {
  const char *host;       /* address to bind the UDP port to */
  int port;               /* --media-port (0: any free port) */
  const char *ips;        /* --media-ip: comma-separated candidate addresses, or NULL */
  uint64_t max_bitrate;   /* per participant upstream cap, bits per second */
  uint64_t consent_ms;    /* no valid ICE check for this long ends a participant */
  int any_port_if_busy;   /* port in use: take a free one (logged) instead of failing */
} noom_sfu_opts_t;

/* Called (once) when a participant's browser stopped answering (consent freshness). The
 * signaling ends its part in the call, which calls noom_sfu_leave. s is borrowed. */
typedef void (*noom_sfu_expire_cb)(sio_socket_t *s, const char *croom);

void noom_sfu_set_expire(noom_sfu_expire_cb expire);
/* Binds the UDP port and makes the DTLS certificate. 0 or a libuv error / SIO_ENOMEM. */
int noom_sfu_start(uv_loop_t *loop, const noom_sfu_opts_t *o);
void noom_sfu_stop(void);
int noom_sfu_port(void);

/* A participant enters (s referenced until it leaves). 0, or SIO_ENOMEM. Idempotent. */
int noom_sfu_join(sio_socket_t *s, const char *croom);
/* Frees every bit of media state of (sid, croom); subscribers lose their legs to it. */
void noom_sfu_leave(const char *sid, const char *croom);

/* Answers an offer. subs: pairs (mid, publisher socket id), nsubs pairs: which recvonly
 * m-line carries whom ("<id>:screen": that publisher's screen share). screen_mid: the
 * mid of the sendonly video m-line that is this browser's screen share, or NULL.
 * Returns 0 and a malloc'ed answer in *answer, or -1 with *err a static sentence. */
int noom_sfu_offer(const char *sid, const char *croom, const char *sdp, size_t len, const char *const *subs, size_t nsubs,
                   const char *screen_mid, char **answer, const char **err);

typedef struct {
  size_t participants, upstreams, legs;
  uint64_t rtp_in, forwarded, auth_failures, unknown_source, over_cap, nacks_answered, keyframe_requests, dtls_failures,
      nacks_forwarded, rtx_sent, unknown_ssrc, srtp_replays;
} noom_sfu_stats_t;

/* Counters: per call (croom) for the first three, process-wide for the rest. */
void noom_sfu_stats(const char *croom, noom_sfu_stats_t *out);

#endif
