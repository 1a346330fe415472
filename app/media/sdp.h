/*
 * SDP for the SFU (RFC 8866, JSEP RFC 8829): reads a browser's offer into a bounded
 * struct and writes our answer. Sans-IO, no allocation: the offer is hostile input, so
 * every count and length has a limit and anything past it is refused with a reason.
 */
#ifndef NOOM_SDP_H
#define NOOM_SDP_H

#include <stddef.h>
#include <stdint.h>

#define NOOM_SDP_MAX_MEDIA 128  /* m-lines in one offer (25 people: 2 + 2 * 24 = 50, plus recycled ones) */
#define NOOM_SDP_MAX_BYTES (256 * 1024)
#define NOOM_SDP_MAX_LINES 12000
#define NOOM_SDP_MID_MAX 32
#define NOOM_SDP_ICE_MAX 256

enum { NOOM_SDP_AUDIO, NOOM_SDP_VIDEO, NOOM_SDP_OTHER };
enum { NOOM_SDP_SENDRECV, NOOM_SDP_SENDONLY, NOOM_SDP_RECVONLY, NOOM_SDP_INACTIVE };

/* One m-line of the offer and the codec we picked from it (pt < 0: none usable). */
typedef struct {
  int kind;
  int rejected;                      /* port 0 (a stopped transceiver) or not RTP/SAVPF */
  int dir;
  char mid[NOOM_SDP_MID_MAX + 1];
  int pt;                            /* chosen payload type */
  char codec[8];                     /* "opus", "VP8" or "H264" */
  uint32_t clock;
  int channels;
  char fmtp[256];                    /* the chosen codec's a=fmtp parameters */
  int rtx_pt;                        /* RFC 4588 rtx with apt= the chosen codec, -1: none */
  uint32_t ssrc;                     /* first a=ssrc of the section, 0 if none */
} noom_sdp_media_t;

typedef struct {
  char ufrag[NOOM_SDP_ICE_MAX + 1];
  char pwd[NOOM_SDP_ICE_MAX + 1];
  uint8_t fingerprint[32];           /* sha-256 of the peer's DTLS certificate */
  int has_fingerprint;
  size_t nmedia;
  noom_sdp_media_t media[NOOM_SDP_MAX_MEDIA];
} noom_sdp_offer_t;

/* Parses an offer. Returns 0, or -1 with *err set to a static sentence (too large, too
 * many m-lines, no ICE credentials, no sha-256 fingerprint, no BUNDLE-able transport...). */
int noom_sdp_parse_offer(const char *sdp, size_t len, noom_sdp_offer_t *out, const char **err);

/* Our side of one m-line. */
typedef struct {
  int dir;                   /* direction we answer with */
  const char *msid_stream;   /* sendonly: the publisher's id (a=msid), else NULL */
  const char *msid_track;
  uint32_t ssrc;             /* sendonly: the SSRC we send with */
  uint32_t rtx_ssrc;         /* sendonly video with rtx offered: our RTX SSRC (0: no RTX) */
} noom_sdp_answer_media_t;

typedef struct {
  const char *ufrag, *pwd;
  const char *fingerprint;   /* "AB:CD:..." sha-256 of our certificate */
  const char *const *ips;    /* candidate addresses */
  size_t nips;
  int port;
  uint64_t session_id, version;
  const noom_sdp_answer_media_t *media; /* one per offered m-line */
} noom_sdp_answer_t;

/* Writes the answer into out (NUL-terminated). Returns its length, or 0 when cap is too
 * small. */
size_t noom_sdp_write_answer(const noom_sdp_offer_t *o, const noom_sdp_answer_t *a, char *out, size_t cap);

#endif
