/*
 * SFU signaling (docs/signaling.md, "Calls through the server"): with --media sfu every
 * browser keeps one RTCPeerConnection to the server and always makes the offers:
 *
 *   sfu_offer(room, {type: "offer", sdp, subs: [mid, peerId, mid, peerId, ...], screen?: mid}, ack)
 *     -> ack({type: "answer", sdp}) or ack({error})
 *
 * subs says which recvonly m-line should carry which other participant (audio and video
 * each, "<peerId>:screen" for a screen share); the answer names them with
 * a=msid:<peerId> <peerId>-audio|video|screen. screen names the sender's own
 * screen-share m-line. Joining, leaving and call_state stay
 * the group-call events of app/call.c; a browser re-offers when someone comes or goes.
 *
 *   sfu_stats(room, ack) -> ack({participants, upstreams, legs, forwarded, ...})
 */
#include "callsfu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "media/sdp.h"
#include "media/sfu.h"
#include "user.h"

#define CALL_PREFIX "\x01" "call:"
#define MAX_SUBS (2 * NOOM_SDP_MAX_MEDIA)

/* The call room of room argument 0 if s is in that call, else an error ack and 0. */
static int in_call(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, char croom[NOOM_MAX_ROOM + 8]) {
  char room[NOOM_MAX_ROOM + 1];
  const char *err = noom_room_arg(args, 0, room);
  if (err) {
    noom_ack_error(ack, err);
    return 0;
  }
  snprintf(croom, NOOM_MAX_ROOM + 8, CALL_PREFIX "%s", room);
  if (!sio_socket_in(s, croom)) {
    noom_ack_error(ack, "not in that call");
    return 0;
  }
  return 1;
}

static void on_sfu_offer(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char croom[NOOM_MAX_ROOM + 8];
  if (!ack) return; /* the answer travels in the ack */
  if (!in_call(s, args, ack, croom)) return;
  sio_str_t type, sdp;
  if (sio_args_type(args, 1) != SIO_ARG_OBJECT || sio_args_size(args, 1) > NOOM_SDP_MAX_BYTES + 8192 ||
      sio_args_get_member_str(args, 1, "type", &type) != 0 || sio_args_get_member_str(args, 1, "sdp", &sdp) != 0 ||
      type.len != 5 || memcmp(type.ptr, "offer", 5) != 0) {
    noom_ack_error(ack, "bad payload: expected {type: \"offer\", sdp, subs}");
    return;
  }
  static const noom_budget_t budget[] = {NOOM_BUDGET_RELAY, NOOM_BUDGET_BYTES};
  const uint64_t cost[] = {1, sio_args_size(args, 1)};
  if (!noom_user_allow_all(s, budget, cost, 2)) {
    noom_ack_error(ack, NOOM_SLOW_DOWN);
    return;
  }
  /* subs: an array of strings, mid and peer id taking turns. */
  static char store[MAX_SUBS][72];
  const char *subs[MAX_SUBS];
  size_t n = 0;
  sio_args_t *m = NULL, *list = NULL;
  if (sio_args_has_member(args, 1, "subs") && (sio_args_member(args, 1, "subs", &m) != 0 || sio_args_unpack(m, 0, &list) != 0)) {
    noom_ack_error(ack, "bad payload: subs must be [mid, peerId, ...] pairs");
    goto out;
  }
  if (list) {
    size_t count = sio_args_count(list);
    if (count > MAX_SUBS || count % 2) {
      noom_ack_error(ack, "bad payload: subs must be [mid, peerId, ...] pairs");
      goto out;
    }
    for (size_t i = 0; i < count; i++) {
      sio_str_t v;
      if (sio_args_get_str(list, i, &v) != 0 || v.len == 0 || v.len >= sizeof store[0]) {
        noom_ack_error(ack, "bad payload: subs must be strings");
        goto out;
      }
      memcpy(store[i], v.ptr, v.len);
      store[i][v.len] = 0;
      subs[n++] = store[i];
    }
  }
  /* screen: the mid of the sendonly video m-line that is the screen share (optional). */
  char screen[NOOM_SDP_MID_MAX + 1] = "";
  if (sio_args_has_member(args, 1, "screen")) {
    sio_str_t v;
    if (sio_args_get_member_str(args, 1, "screen", &v) != 0 || v.len == 0 || v.len >= sizeof screen) {
      noom_ack_error(ack, "bad payload: screen must be the mid of the screen share's m-line");
      goto out;
    }
    memcpy(screen, v.ptr, v.len);
    screen[v.len] = 0;
  }
  char *answer = NULL;
  const char *err = NULL;
  if (noom_sfu_offer(sio_socket_id(s), croom, sdp.ptr, sdp.len, subs, n / 2, screen[0] ? screen : NULL, &answer, &err) != 0) {
    noom_ack_error(ack, err);
    goto out;
  }
  sio_args_t *a, *v;
  if (sio_args_new(&a) == 0 && sio_args_new(&v) == 0) {
    static const char *const keys[] = {"type", "sdp"};
    sio_args_add_cstr(v, "answer");
    sio_args_add_cstr(v, answer);
    sio_args_add_object(a, keys, v);
    sio_ack_send(ack, a);
    sio_args_free(v);
  }
  sio_args_free(a);
  free(answer);
out:
  sio_args_free(list);
  sio_args_free(m);
}

static void on_sfu_stats(sio_socket_t *s, const sio_args_t *args, sio_ack_t *ack, void *u) {
  (void)u;
  char croom[NOOM_MAX_ROOM + 8];
  if (!ack || !in_call(s, args, ack, croom)) return;
  noom_sfu_stats_t st;
  noom_sfu_stats(croom, &st);
  static const char *const keys[] = {"participants", "upstreams", "legs", "rtpIn", "forwarded", "authFailures",
                                     "unknownSource", "overCap", "nacksAnswered", "keyframeRequests", "dtlsFailures", "nacksForwarded", "rtxSent", "unknownSsrc", "srtpReplays"};
  sio_args_t *a, *v;
  if (sio_args_new(&a) != 0) return;
  if (sio_args_new(&v) == 0) {
    int64_t vals[] = {(int64_t)st.participants, (int64_t)st.upstreams, (int64_t)st.legs, (int64_t)st.rtp_in,
                      (int64_t)st.forwarded, (int64_t)st.auth_failures, (int64_t)st.unknown_source,
                      (int64_t)st.over_cap, (int64_t)st.nacks_answered, (int64_t)st.keyframe_requests,
                      (int64_t)st.dtls_failures, (int64_t)st.nacks_forwarded,
                      (int64_t)st.rtx_sent, (int64_t)st.unknown_ssrc, (int64_t)st.srtp_replays};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) sio_args_add_int(v, vals[i]);
    sio_args_add_object(a, keys, v);
    sio_args_free(v);
  }
  sio_ack_send(ack, a);
  sio_args_free(a);
}

int noom_callsfu_init(sio_server_t *io) {
  sio_ns_t *ns = sio_server_main(io);
  int r = 0;
  r |= sio_ns_on(ns, "sfu_offer", on_sfu_offer, NULL);
  r |= sio_ns_on(ns, "sfu_stats", on_sfu_stats, NULL);
  return r ? SIO_ENOMEM : 0;
}
