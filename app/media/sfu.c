/*
 * SFU media plane (see sfu.h). Everything runs on the loop thread. A datagram finds its
 * participant through a hash of its source address, a check through a hash of its ufrag;
 * forwarding walks only the publisher's call.
 *
 * Packet path: uv_udp recv -> first-byte demux (rtp.c) -> STUN: ICE-lite answer
 * (icecheck.c), the only way an address becomes known | anything else from an unknown
 * address: dropped | DTLS: handshake (dtls.c) | SRTP/SRTCP: libsrtp2 unprotect, then
 * forward (RTP) or act on feedback (RTCP).
 */
#define _GNU_SOURCE /* sendmmsg */
#include "sfu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls.h"
#include "icecheck.h"
#include "rtp.h"
#include "sdp.h"
#include "srtp_policy.h"

#define SID_MAX 64
#define CROOM_MAX 80
#define MAX_IPS 8
#define CACHE_SLOTS 256     /* video packets kept for NACK: ~1 s at 250 packets/s */
#define CACHE_PKT 1300
#define PLI_GAP_MS 300      /* at most one keyframe request per publisher stream per gap */
#define ANSWER_MAX (96 * 1024)

/* A publisher's streams: its microphone, its camera and its shared screen (one each). */
enum { AUDIO = 0, VIDEO = 1, SCREEN = 2, NSTREAMS = 3 };

typedef struct peer peer_t;
typedef struct call call_t;

/* The participants of one call: forwarding walks these, not every participant. */
struct call {
  call_t *next;
  char croom[CROOM_MAX];
  peer_t *members;
};

/* A subscriber leg: one recvonly m-line of the subscriber carrying one publisher's
 * stream (kind: AUDIO, VIDEO or SCREEN). */
typedef struct {
  char mid[NOOM_SDP_MID_MAX + 1];
  int kind, pt;
  char codec[8];
  char pub_id[SID_MAX];
  peer_t *pub;             /* NULL while the publisher is unknown or gone */
  uint32_t ssrc;           /* ours, toward the subscriber */
  int rtx_pt;              /* RFC 4588 negotiated on this m-line: NACKs answered as RTX; -1: plain */
  uint32_t rtx_ssrc;
  uint16_t rtx_seq;        /* the RTX stream's own numbering */
  int started;
  uint16_t seq_off, last_seq;
  uint32_t ts_off, last_ts;
  uint32_t packets, octets;
} leg_t;

typedef struct {
  uint16_t seq, len;
  uint8_t data[CACHE_PKT];
} cached_t;

/* One upstream: what a publisher sends of one kind. */
typedef struct {
  int pt;                  /* the publisher's payload type, -1: not publishing */
  char codec[8];
  uint32_t offer_ssrc;     /* the offer's a=ssrc for it (0: none): tells camera from screen */
  uint32_t ssrc;           /* learned from the first packet */
  uint64_t last_pli_ms;
  int pli_pending;
  cached_t *cache;         /* video only, allocated on first packet */
  uint64_t packets;
  /* Reception statistics for our receiver reports (RFC 3550 A.3, A.8). */
  uint32_t clock;          /* RTP clock rate */
  int seq_init;
  uint16_t base_seq, max_seq;
  uint32_t cycles, received, expected_prior, received_prior;
  int32_t transit;
  double jitter;
  uint32_t last_sr;        /* middle 32 bits of the last SR's NTP time */
  uint64_t last_sr_ms;
  /* Sequence numbers recently asked of the publisher (NACK upstream), so 24 subscribers
   * missing one packet cause one request, not 24. */
  uint16_t asked[32];
  uint64_t asked_ms[32];
  unsigned asked_next;
} stream_t;

struct peer {
  peer_t *next;            /* every participant (lookups by ufrag and address) */
  peer_t *cnext;           /* the others in its call */
  peer_t *anext, *unext;   /* hash chains: by media address, by ufrag */
  call_t *call;
  sio_socket_t *s;
  char sid[SID_MAX];
  char croom[CROOM_MAX];
  char ufrag[9], pwd[25];
  uint8_t fp[32];
  int offered;
  uint64_t version;
  struct sockaddr_storage addr;
  int addr_ok;
  uint64_t offer_ms, last_check_ms;
  noom_dtls_t *dtls;
  srtp_t in, out;
  int srtp_ok;
  uint32_t rtcp_ssrc;      /* our sender SSRC in feedback to this peer */
  stream_t up[NSTREAMS];
  leg_t *legs;
  size_t nlegs;
  double tokens;           /* upstream bitrate cap, bytes */
  uint64_t tokens_ms;
  int expired;
};

static struct {
  uv_loop_t *loop;
  uv_udp_t udp;
  uv_timer_t timer;
  int running, port;
  char ips[MAX_IPS][64];
  size_t nips;
  uint64_t max_bitrate, consent_ms;
  peer_t *peers;
  call_t *calls;
  uint64_t last_remb_ms;
  noom_sfu_stats_t st;
} g;

/* recvmmsg: libuv splits the buffer in 64 KiB slots, one datagram each. */
#define RX_SLOTS 16
static uint8_t rxbuf[RX_SLOTS * 64 * 1024];
static uint8_t txbuf[1500 + SRTP_MAX_TRAILER_LEN];

/* Forwarded packets wait here and leave in one sendmmsg per received batch: with 24
 * subscribers one incoming packet is 24 outgoing ones, one system call instead of 24. */
#define TX_BATCH 128
static struct {
  uint8_t buf[TX_BATCH][1500 + SRTP_MAX_TRAILER_LEN];
  struct sockaddr_storage to[TX_BATCH];
  struct iovec iov[TX_BATCH];
  struct mmsghdr msg[TX_BATCH];
  unsigned n;
} tx;
static noom_sfu_expire_cb on_expire;

/* ---- lookups: a datagram's participant by address, a check's by ufrag ---- */

#define HASH_SIZE 4096
static peer_t *by_addr[HASH_SIZE], *by_ufrag[HASH_SIZE];

static unsigned hash_bytes(const void *p, size_t n, unsigned h) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u; /* FNV-1a */
  return h;
}

static unsigned addr_hash(const struct sockaddr *a) {
  unsigned h = 2166136261u;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a;
    h = hash_bytes(&x->sin_addr, 4, hash_bytes(&x->sin_port, 2, h));
  } else {
    const struct sockaddr_in6 *x = (const void *)a;
    h = hash_bytes(&x->sin6_addr, 16, hash_bytes(&x->sin6_port, 2, h));
  }
  return h % HASH_SIZE;
}

static unsigned ufrag_hash(const void *u, size_t n) { return hash_bytes(u, n, 2166136261u) % HASH_SIZE; }

static void unchain(peer_t **head, peer_t *p, size_t link_off) {
  for (peer_t **pp = head; *pp; pp = (peer_t **)((char *)*pp + link_off))
    if (*pp == p) {
      *pp = *(peer_t **)((char *)p + link_off);
      return;
    }
}

static uint32_t rand32(void) {
  uint32_t v = 0;
  while (v == 0) RAND_bytes((unsigned char *)&v, sizeof v);
  return v;
}

static void rand_token(char *out, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char r[32];
  RAND_bytes(r, (int)n);
  for (size_t i = 0; i < n; i++) out[i] = abc[r[i] & 63];
  out[n] = 0;
}

static void send_to(peer_t *p, const uint8_t *data, size_t n) {
  if (!p->addr_ok) return;
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
  (void)uv_udp_try_send(&g.udp, &b, 1, (const struct sockaddr *)&p->addr); /* UDP: a full buffer drops */
}

static void tx_flush(void) {
  uv_os_fd_t fd;
  if (tx.n == 0 || uv_fileno((uv_handle_t *)&g.udp, &fd) != 0) {
    tx.n = 0;
    return;
  }
  for (unsigned done = 0; done < tx.n;) {
    int r = sendmmsg(fd, tx.msg + done, tx.n - done, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      done++; /* drop the one the kernel refused (full buffer, unreachable), keep going */
      continue;
    }
    done += (unsigned)r;
  }
  tx.n = 0;
}

/* The next free batch buffer (flushing a full batch first). */
static uint8_t *tx_slot(void) {
  if (tx.n == TX_BATCH) tx_flush();
  return tx.buf[tx.n];
}

static void tx_commit(peer_t *p, size_t len) {
  unsigned i = tx.n;
  tx.to[i] = p->addr;
  tx.iov[i].iov_base = tx.buf[i];
  tx.iov[i].iov_len = len;
  memset(&tx.msg[i], 0, sizeof tx.msg[i]);
  tx.msg[i].msg_hdr.msg_name = &tx.to[i];
  tx.msg[i].msg_hdr.msg_namelen = p->addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  tx.msg[i].msg_hdr.msg_iov = &tx.iov[i];
  tx.msg[i].msg_hdr.msg_iovlen = 1;
  tx.n++;
}

static peer_t *find_peer(const char *sid, const char *croom) {
  for (peer_t *p = g.peers; p; p = p->next)
    if (strcmp(p->sid, sid) == 0 && strcmp(p->croom, croom) == 0) return p;
  return NULL;
}

/* ---- keyframes ---- */

static void send_rtcp(peer_t *p, uint8_t *pkt, size_t n) {
  if (!p->srtp_ok) return;
  memcpy(txbuf, pkt, n);
  int len = (int)n;
  if (srtp_protect_rtcp(p->out, txbuf, &len) == srtp_err_status_ok) send_to(p, txbuf, (size_t)len);
}

/* Asks a publisher for a keyframe now, or soon if it was just asked (coalescing). */
static void request_keyframe(peer_t *pub, int kind) {
  if (kind == AUDIO) return;
  stream_t *v = &pub->up[kind];
  if (v->pt < 0 || v->ssrc == 0 || !pub->srtp_ok) return;
  uint64_t now = uv_now(g.loop);
  if (v->last_pli_ms && now - v->last_pli_ms < PLI_GAP_MS) {
    v->pli_pending = 1;
    return;
  }
  uint8_t pli[12];
  send_rtcp(pub, pli, noom_rtcp_pli(pli, pub->rtcp_ssrc, v->ssrc));
  v->last_pli_ms = now;
  v->pli_pending = 0;
  g.st.keyframe_requests++;
}

/* ---- forwarding ---- */

static void forward_one(peer_t *sub, leg_t *l, const uint8_t *pkt, size_t n, const noom_rtp_t *h) {
  if (n > 1500) return;
  if (!l->started) {
    /* Continue the leg's numbering where it stopped (or at a random point): the
     * receiver sees one stream even when the source changes. */
    l->seq_off = (uint16_t)(l->last_seq + 1 - h->seq);
    l->ts_off = l->last_ts + 1 - h->ts;
    l->started = 1;
  }
  uint16_t seq = (uint16_t)(h->seq + l->seq_off);
  uint32_t ts = h->ts + l->ts_off;
  if ((int16_t)(seq - l->last_seq) > 0) l->last_seq = seq;
  if ((int32_t)(ts - l->last_ts) > 0) l->last_ts = ts;
  if (!sub->addr_ok) return;
  uint8_t *out = tx_slot();
  memcpy(out, pkt, n);
  noom_rtp_rewrite(out, (uint8_t)l->pt, seq, ts, l->ssrc);
  int len = (int)n;
  if (srtp_protect(sub->out, out, &len) != srtp_err_status_ok) return;
  tx_commit(sub, (size_t)len);
  l->packets++;
  l->octets += (uint32_t)(n - h->header_len);
  g.st.forwarded++;
}

/* Token bucket on a participant's upstream bytes; refilled at max_bitrate. */
static int within_cap(peer_t *p, size_t n) {
  if (g.max_bitrate == 0) return 1;
  uint64_t now = uv_now(g.loop);
  double rate = (double)g.max_bitrate / 8.0;
  p->tokens += (double)(now - p->tokens_ms) * rate / 1000.0;
  p->tokens_ms = now;
  if (p->tokens > rate) p->tokens = rate; /* one second of burst */
  if (p->tokens < (double)n) return 0;
  p->tokens -= (double)n;
  return 1;
}

/* Sequence and jitter bookkeeping for the receiver report (RFC 3550 A.1, A.8). */
static void note_arrival(stream_t *s, const noom_rtp_t *h) {
  if (!s->seq_init) {
    s->seq_init = 1;
    s->base_seq = s->max_seq = h->seq;
  } else if ((uint16_t)(h->seq - s->max_seq) < 0x8000) {
    if (h->seq < s->max_seq) s->cycles += 65536;
    s->max_seq = h->seq;
  }
  s->received++;
  uint32_t arrival = (uint32_t)(uv_hrtime() / 1000 * (s->clock ? s->clock : 90000) / 1000000);
  int32_t transit = (int32_t)(arrival - h->ts);
  if (s->received > 1) {
    int32_t d = transit - s->transit;
    s->jitter += ((d < 0 ? -(double)d : (double)d) - s->jitter) / 16.0;
  }
  s->transit = transit;
}

/* One report block about a publisher's stream (24 bytes). */
static size_t report_block(stream_t *s, uint8_t *b, uint64_t now) {
  uint32_t ext = s->cycles + s->max_seq;
  uint32_t expected = ext - s->base_seq + 1;
  int64_t lost = (int64_t)expected - s->received;
  uint32_t exp_int = expected - s->expected_prior, rec_int = s->received - s->received_prior;
  s->expected_prior = expected;
  s->received_prior = s->received;
  int64_t lost_int = (int64_t)exp_int - rec_int;
  uint8_t fraction = exp_int == 0 || lost_int <= 0 ? 0 : (uint8_t)((lost_int << 8) / exp_int);
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  uint32_t dlsr = s->last_sr_ms ? (uint32_t)((now - s->last_sr_ms) * 65536 / 1000) : 0;
  uint32_t v[6] = {s->ssrc, (uint32_t)fraction << 24 | ((uint32_t)lost & 0xFFFFFF), ext, (uint32_t)s->jitter, s->last_sr,
                   dlsr};
  for (int i = 0; i < 6; i++) {
    b[4 * i] = (uint8_t)(v[i] >> 24);
    b[4 * i + 1] = (uint8_t)(v[i] >> 16);
    b[4 * i + 2] = (uint8_t)(v[i] >> 8);
    b[4 * i + 3] = (uint8_t)v[i];
  }
  return 24;
}

/* Once a second to each publisher: a receiver report on its streams, then REMB with
 * the --max-bitrate cap (one compound packet). */
static void send_reports(peer_t *p, uint64_t now) {
  uint8_t pkt[8 + NSTREAMS * 24 + 24];
  size_t n = 8;
  int rc = 0;
  for (int k = 0; k < NSTREAMS; k++)
    if (p->up[k].pt >= 0 && p->up[k].seq_init) n += report_block(&p->up[k], pkt + n, now), rc++;
  if (rc == 0) return;
  pkt[0] = (uint8_t)(0x80 | rc);
  pkt[1] = NOOM_RTCP_RR;
  pkt[2] = 0;
  pkt[3] = (uint8_t)(n / 4 - 1);
  pkt[4] = (uint8_t)(p->rtcp_ssrc >> 24);
  pkt[5] = (uint8_t)(p->rtcp_ssrc >> 16);
  pkt[6] = (uint8_t)(p->rtcp_ssrc >> 8);
  pkt[7] = (uint8_t)p->rtcp_ssrc;
  uint32_t vssrc = p->up[VIDEO].ssrc ? p->up[VIDEO].ssrc : p->up[SCREEN].ssrc;
  if (g.max_bitrate && vssrc) n += noom_rtcp_remb(pkt + n, p->rtcp_ssrc, g.max_bitrate, vssrc);
  send_rtcp(p, pkt, n);
}

/* Which of p's streams a packet belongs to: audio by payload type; camera and screen
 * share VP8's payload type, so by SSRC (learned, else the one the offer announced). */
static int stream_of(peer_t *p, const noom_rtp_t *h) {
  if (h->pt == p->up[AUDIO].pt) return AUDIO;
  int cam = p->up[VIDEO].pt >= 0 && h->pt == p->up[VIDEO].pt, scr = p->up[SCREEN].pt >= 0 && h->pt == p->up[SCREEN].pt;
  if (scr && (h->ssrc == p->up[SCREEN].ssrc || h->ssrc == p->up[SCREEN].offer_ssrc)) return SCREEN;
  if (cam && (h->ssrc == p->up[VIDEO].ssrc || h->ssrc == p->up[VIDEO].offer_ssrc || !scr)) return VIDEO;
  if (scr && !cam) return SCREEN;
  return -1; /* both published and the SSRC is neither: not one we were told about */
}

static void on_rtp(peer_t *p, uint8_t *pkt, size_t n) {
  noom_rtp_t h;
  if (noom_rtp_parse(pkt, n, &h) != 0) return;
  int kind = stream_of(p, &h);
  if (kind < 0) return; /* a payload type we did not accept */
  if (!within_cap(p, n)) {
    g.st.over_cap++;
    return;
  }
  stream_t *s = &p->up[kind];
  g.st.rtp_in++;
  if (s->ssrc != h.ssrc) {
    if (s->ssrc == 0)
      sio_log_printf(SIO_LOG_INFO, "sfu: %s publishes %s (ssrc %u): one upstream, forwarded to every subscriber", p->sid,
                     kind == SCREEN ? "its screen" : kind ? "video" : "audio", h.ssrc);
    s->ssrc = h.ssrc;
    /* A new source: legs re-base their numbering on it. */
    for (peer_t *q = p->call->members; q; q = q->cnext)
      for (size_t i = 0; i < q->nlegs; i++)
        if (q->legs[i].pub == p && q->legs[i].kind == kind) q->legs[i].started = 0;
    request_keyframe(p, kind);
  }
  s->packets++;
  note_arrival(s, &h);
  if (kind != AUDIO && n <= CACHE_PKT) {
    if (!s->cache) s->cache = calloc(CACHE_SLOTS, sizeof *s->cache);
    if (s->cache) {
      cached_t *c = &s->cache[h.seq % CACHE_SLOTS];
      c->seq = h.seq;
      c->len = (uint16_t)n;
      memcpy(c->data, pkt, n);
    }
  }
  for (peer_t *q = p->call->members; q; q = q->cnext) {
    if (q == p || !q->srtp_ok) continue;
    for (size_t i = 0; i < q->nlegs; i++) {
      leg_t *l = &q->legs[i];
      if (l->pub == p && l->kind == kind && strcmp(l->codec, s->codec) == 0) forward_one(q, l, pkt, n, &h);
    }
  }
}

/* ---- RTCP from a participant ---- */

static leg_t *leg_by_ssrc(peer_t *p, uint32_t ssrc) {
  for (size_t i = 0; i < p->nlegs; i++)
    if (p->legs[i].ssrc == ssrc) return &p->legs[i];
  return NULL;
}

typedef struct {
  peer_t *sub;
  leg_t *leg;
  uint16_t miss[32];       /* publisher sequence numbers not in the cache */
  unsigned nmiss;
} nack_ctx_t;

#define ASK_AGAIN_MS 100

/* 1 if seq was asked of the publisher within ASK_AGAIN_MS; else records it. */
static int asked_recently(stream_t *s, uint16_t seq, uint64_t now) {
  for (unsigned i = 0; i < 32; i++)
    if (s->asked_ms[i] && s->asked[i] == seq && now - s->asked_ms[i] < ASK_AGAIN_MS) return 1;
  s->asked[s->asked_next] = seq;
  s->asked_ms[s->asked_next] = now;
  s->asked_next = (s->asked_next + 1) % 32;
  return 0;
}

/* Losses before the server: the subscriber's NACK, translated to the publisher's
 * numbering, goes upstream (its retransmission is then forwarded like any packet). */
static void nack_upstream(nack_ctx_t *c) {
  peer_t *pub = c->leg->pub;
  stream_t *s = &pub->up[c->leg->kind];
  if (c->nmiss == 0 || !s->ssrc || !pub->srtp_ok) return;
  uint64_t now = uv_now(g.loop);
  uint16_t ask[32];
  size_t k = 0;
  for (unsigned i = 0; i < c->nmiss; i++)
    if (!asked_recently(s, c->miss[i], now)) ask[k++] = c->miss[i];
  if (k == 0) return;
  uint8_t pkt[12 + 4 * 32];
  size_t n = noom_rtcp_nack(pkt, pub->rtcp_ssrc, s->ssrc, ask, k);
  send_rtcp(pub, pkt, n);
  g.st.nacks_forwarded++;
}

static void resend(uint16_t out_seq, void *u) {
  nack_ctx_t *c = u;
  leg_t *l = c->leg;
  stream_t *s = &l->pub->up[l->kind];
  uint16_t seq = (uint16_t)(out_seq - l->seq_off);
  cached_t *e = s->cache ? &s->cache[seq % CACHE_SLOTS] : NULL;
  if (!e || e->len == 0 || e->seq != seq) {
    if (c->nmiss < 32) c->miss[c->nmiss++] = seq;
    return;
  }
  noom_rtp_t h;
  if (noom_rtp_parse(e->data, e->len, &h) != 0) return;
  if (!c->sub->addr_ok) return;
  uint8_t *out = tx_slot();
  int len = e->len;
  if (l->rtx_pt >= 0 && l->rtx_ssrc) {
    /* RFC 4588 §4: the RTX stream's own SSRC, sequence number and payload type; the
     * payload is the original sequence number (the leg's numbering), then the original
     * payload. */
    memcpy(out, e->data, h.header_len);
    noom_rtp_rewrite(out, (uint8_t)l->rtx_pt, l->rtx_seq++, h.ts + l->ts_off, l->rtx_ssrc);
    out[h.header_len] = (uint8_t)(out_seq >> 8);
    out[h.header_len + 1] = (uint8_t)out_seq;
    memcpy(out + h.header_len + 2, e->data + h.header_len, e->len - h.header_len);
    len += 2;
    g.st.rtx_sent++;
  } else {
    memcpy(out, e->data, e->len);
    noom_rtp_rewrite(out, (uint8_t)l->pt, out_seq, h.ts + l->ts_off, l->ssrc);
  }
  if (srtp_protect(c->sub->out, out, &len) != srtp_err_status_ok) return;
  tx_commit(c->sub, (size_t)len);
  g.st.nacks_answered++;
}

/* A publisher's sender report, rewritten for one leg (its SSRC, timestamps, counts). */
static void forward_sr(peer_t *sub, leg_t *l, const uint8_t *pkt) {
  uint8_t sr[28];
  memcpy(sr, pkt, 28);
  sr[0] = 0x80; /* no report blocks: they describe the publisher's own reception */
  sr[2] = 0;
  sr[3] = 6;
  uint32_t ts = ((uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19]) + l->ts_off;
  uint32_t v[4] = {l->ssrc, ts, l->packets, l->octets};
  size_t at[4] = {4, 16, 20, 24};
  for (int i = 0; i < 4; i++) {
    sr[at[i]] = (uint8_t)(v[i] >> 24);
    sr[at[i] + 1] = (uint8_t)(v[i] >> 16);
    sr[at[i] + 2] = (uint8_t)(v[i] >> 8);
    sr[at[i] + 3] = (uint8_t)v[i];
  }
  send_rtcp(sub, sr, sizeof sr);
}

static int on_rtcp_packet(int pt, int fmt, uint8_t *pkt, size_t len, void *u) {
  peer_t *p = u;
  if (pt == NOOM_RTCP_SR && len >= 28) {
    uint32_t ssrc = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
    int kind = -1;
    for (int k = 0; k < NSTREAMS; k++)
      if (ssrc == p->up[k].ssrc) kind = k;
    if (kind < 0 || ssrc == 0) return 0;
    p->up[kind].last_sr = (uint32_t)pkt[10] << 24 | (uint32_t)pkt[11] << 16 | (uint32_t)pkt[12] << 8 | pkt[13];
    p->up[kind].last_sr_ms = uv_now(g.loop);
    for (peer_t *q = p->call->members; q; q = q->cnext)
      for (size_t i = 0; q != p && i < q->nlegs; i++)
        if (q->legs[i].pub == p && q->legs[i].kind == kind && q->legs[i].started) forward_sr(q, &q->legs[i], pkt);
  } else if (pt == NOOM_RTCP_PSFB && (fmt == 1 || fmt == 4) && len >= 12) {
    uint32_t media = noom_rtcp_fb_media(pkt);
    if (fmt == 4 && len >= 20) media = noom_rtcp_fb_media(pkt + 4); /* FIR: the SSRC is in the FCI */
    leg_t *l = leg_by_ssrc(p, media);
    if (l && l->pub) request_keyframe(l->pub, l->kind);
  } else if (pt == NOOM_RTCP_RTPFB && fmt == 1 && len >= 16) {
    leg_t *l = leg_by_ssrc(p, noom_rtcp_fb_media(pkt));
    if (l && l->pub && l->kind != AUDIO && l->started) {
      nack_ctx_t c = {.sub = p, .leg = l};
      noom_rtcp_nack_each(pkt, len, resend, &c);
      nack_upstream(&c);
    }
  }
  return 0;
}

/* ---- DTLS ---- */

static void dtls_send(const uint8_t *d, size_t n, void *u) { send_to(u, d, n); }

static int make_srtp(srtp_t *s, const uint8_t key[NOOM_SRTP_MASTER_LEN], int inbound, int gcm) {
  srtp_policy_t pol;
  noom_srtp_policy(&pol, (unsigned char *)key, inbound, gcm);
  pol.allow_repeat_tx = 1; /* NACK answers resend a sequence number */
  return srtp_create(s, &pol) == srtp_err_status_ok ? 0 : -1;
}

static void on_dtls(peer_t *p, const uint8_t *d, size_t n) {
  if (!p->dtls && !(p->dtls = noom_dtls_new(dtls_send, p))) return;
  int r = noom_dtls_feed(p->dtls, d, n);
  if (r == NOOM_DTLS_FAILED) {
    g.st.dtls_failures++;
    p->expired = 1; /* ended by the next tick */
    return;
  }
  if (r != NOOM_DTLS_DONE || p->srtp_ok) return;
  uint8_t client[NOOM_SRTP_MASTER_LEN], server[NOOM_SRTP_MASTER_LEN];
  int gcm = 0;
  if (noom_dtls_keys(p->dtls, p->fp, client, server, &gcm) != 0) {
    g.st.dtls_failures++;
    p->expired = 1;
    return;
  }
  if (make_srtp(&p->in, client, 1, gcm) != 0) return;
  if (make_srtp(&p->out, server, 0, gcm) != 0) {
    srtp_dealloc(p->in);
    return;
  }
  p->srtp_ok = 1;
  sio_log_printf(SIO_LOG_DEBUG, "sfu: %s: DTLS-SRTP ready (%s)", p->sid, gcm ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
  for (size_t i = 0; i < p->nlegs; i++)
    if (p->legs[i].pub) request_keyframe(p->legs[i].pub, p->legs[i].kind);
}

/* ---- UDP ---- */

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr *b) {
  if (a->ss_family != b->sa_family) return 0;
  if (b->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void on_stun(const uint8_t *d, size_t n, const struct sockaddr *from) {
  noom_icecheck_t c;
  if (noom_icecheck_parse(d, n, &c) != 0) return;
  const uint8_t *colon = memchr(c.username, ':', c.username_len);
  if (!colon) return;
  size_t ul = (size_t)(colon - c.username);
  for (peer_t *p = by_ufrag[ufrag_hash(c.username, ul)]; p; p = p->unext) {
    if (!p->offered || ul != strlen(p->ufrag) || memcmp(c.username, p->ufrag, ul) != 0) continue;
    if (!noom_icecheck_verify(d, &c, p->pwd)) return;
    uint8_t out[NOOM_ICECHECK_MAX_RESPONSE];
    size_t rn = noom_icecheck_respond(d, from, p->pwd, out, sizeof out);
    if (!rn) return;
    if (!p->addr_ok || (c.use_candidate && !same_addr(&p->addr, from))) {
      if (p->addr_ok) unchain(&by_addr[addr_hash((struct sockaddr *)&p->addr)], p, offsetof(peer_t, anext));
      memset(&p->addr, 0, sizeof p->addr);
      memcpy(&p->addr, from, from->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
      p->addr_ok = 1;
      unsigned h = addr_hash(from);
      p->anext = by_addr[h];
      by_addr[h] = p;
    }
    /* Consent (RFC 7675) is for the path media uses: checks on another pair do not
     * keep a dead one alive. */
    if (same_addr(&p->addr, from)) p->last_check_ms = uv_now(g.loop);
    uv_buf_t b = uv_buf_init((char *)out, (unsigned)rn);
    (void)uv_udp_try_send(&g.udp, &b, 1, from);
    return;
  }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h, (void)hint;
  *buf = uv_buf_init((char *)rxbuf, sizeof rxbuf);
}

static void on_datagram(ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from);

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags) {
  (void)h;
  if (nread > 0 && from != NULL) on_datagram(nread, buf, from);
  /* A recvmmsg batch ends with a call without a datagram; a plain recvmsg is one. */
  if (!(flags & UV_UDP_MMSG_CHUNK)) tx_flush();
}

/* 1 if an RTP packet's (clear-text) SSRC is one p announced or sends: anything else is
 * dropped before libsrtp, which allocates a provisional stream for every unknown SSRC
 * (cheap garbage would otherwise cost a malloc/free each). */
static int known_ssrc(const peer_t *p, const uint8_t *d, size_t n) {
  if (n < 12) return 0;
  uint32_t ssrc = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];
  for (int k = 0; k < NSTREAMS; k++) {
    const stream_t *s = &p->up[k];
    if (s->pt >= 0 && (ssrc == s->ssrc || ssrc == s->offer_ssrc || (!s->ssrc && !s->offer_ssrc))) return 1;
  }
  return 0;
}

static void on_datagram(ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from) {
  uint8_t *d = (uint8_t *)buf->base;
  size_t n = (size_t)nread;
  int cls = noom_pkt_classify(d, n);
  if (cls == NOOM_PKT_STUN) {
    on_stun(d, n, from);
    return;
  }
  peer_t *p = by_addr[addr_hash(from)];
  while (p && !same_addr(&p->addr, from)) p = p->anext;
  if (!p || p->expired) {
    g.st.unknown_source++; /* never completed ICE: ignored */
    return;
  }
  if (cls == NOOM_PKT_DTLS) {
    on_dtls(p, d, n);
  } else if ((cls == NOOM_PKT_RTP || cls == NOOM_PKT_RTCP) && p->srtp_ok) {
    if (cls == NOOM_PKT_RTP && !known_ssrc(p, d, n)) {
      g.st.unknown_ssrc++;
      return;
    }
    int len = (int)n;
    srtp_err_status_t e = cls == NOOM_PKT_RTP ? srtp_unprotect(p->in, d, &len) : srtp_unprotect_rtcp(p->in, d, &len);
    if (e != srtp_err_status_ok) {
      if (e == srtp_err_status_auth_fail) g.st.auth_failures++;
      else if (e == srtp_err_status_replay_fail || e == srtp_err_status_replay_old) g.st.srtp_replays++;
      return; /* replays and bad tags are dropped */
    }
    if (cls == NOOM_PKT_RTP) on_rtp(p, d, (size_t)len);
    else noom_rtcp_walk(d, (size_t)len, on_rtcp_packet, p);
  }
}

/* ---- participants ---- */

static void unlink_legs_to(peer_t *gone) {
  for (peer_t *q = gone->call->members; q; q = q->cnext)
    for (size_t i = 0; i < q->nlegs; i++)
      if (q->legs[i].pub == gone) q->legs[i].pub = NULL;
}

static call_t *find_call(const char *croom) {
  for (call_t *c = g.calls; c; c = c->next)
    if (strcmp(c->croom, croom) == 0) return c;
  return NULL;
}

static void peer_free(peer_t *p) {
  unlink_legs_to(p);
  if (p->addr_ok) unchain(&by_addr[addr_hash((struct sockaddr *)&p->addr)], p, offsetof(peer_t, anext));
  unchain(&by_ufrag[ufrag_hash(p->ufrag, strlen(p->ufrag))], p, offsetof(peer_t, unext));
  call_t *c = p->call;
  for (peer_t **pp = &c->members; *pp; pp = &(*pp)->cnext)
    if (*pp == p) {
      *pp = p->cnext;
      break;
    }
  if (!c->members) { /* the call's last participant: the call goes too */
    for (call_t **cc = &g.calls; *cc; cc = &(*cc)->next)
      if (*cc == c) {
        *cc = c->next;
        break;
      }
    free(c);
  }
  noom_dtls_free(p->dtls);
  if (p->srtp_ok) {
    srtp_dealloc(p->in);
    srtp_dealloc(p->out);
  }
  for (int k = 0; k < NSTREAMS; k++) free(p->up[k].cache);
  free(p->legs);
  sio_socket_unref(p->s);
  free(p);
}

int noom_sfu_join(sio_socket_t *s, const char *croom) {
  const char *sid = sio_socket_id(s);
  if (strlen(sid) >= SID_MAX || strlen(croom) >= CROOM_MAX) return SIO_EINVAL;
  if (find_peer(sid, croom)) return 0;
  call_t *c = find_call(croom);
  if (!c) {
    if (!(c = calloc(1, sizeof *c))) return SIO_ENOMEM;
    snprintf(c->croom, sizeof c->croom, "%s", croom);
    c->next = g.calls;
    g.calls = c;
  }
  peer_t *p = calloc(1, sizeof *p);
  if (!p) {
    if (!c->members) {
      g.calls = c->next; /* just made: it is the head */
      free(c);
    }
    return SIO_ENOMEM;
  }
  p->call = c;
  p->s = sio_socket_ref(s);
  snprintf(p->sid, sizeof p->sid, "%s", sid);
  snprintf(p->croom, sizeof p->croom, "%s", croom);
  rand_token(p->ufrag, 8);
  rand_token(p->pwd, 24);
  p->rtcp_ssrc = rand32();
  for (int k = 0; k < NSTREAMS; k++) p->up[k].pt = -1;
  p->tokens_ms = uv_now(g.loop);
  p->tokens = (double)g.max_bitrate / 8.0;
  /* Legs that were waiting for this publisher (offers that named it early). */
  for (peer_t *q = c->members; q; q = q->cnext)
    for (size_t i = 0; i < q->nlegs; i++)
      if (strcmp(q->legs[i].pub_id, sid) == 0) q->legs[i].pub = p;
  p->next = g.peers;
  g.peers = p;
  unsigned uh = ufrag_hash(p->ufrag, strlen(p->ufrag));
  p->unext = by_ufrag[uh];
  by_ufrag[uh] = p;
  p->cnext = c->members;
  c->members = p;
  return 0;
}

void noom_sfu_leave(const char *sid, const char *croom) {
  for (peer_t **pp = &g.peers; *pp; pp = &(*pp)->next) {
    peer_t *p = *pp;
    if (strcmp(p->sid, sid) == 0 && strcmp(p->croom, croom) == 0) {
      *pp = p->next;
      peer_free(p);
      return;
    }
  }
}

#define SCREEN_SUFFIX ":screen"

/* The publisher a recvonly m-line should carry, copied into pub_id; *screen set when the
 * subs entry asks for its screen ("<peerId>:screen"). NULL: none. */
static const char *pub_for(const char *mid, const char *const *subs, size_t nsubs, char pub_id[SID_MAX], int *screen) {
  for (size_t i = 0; i < nsubs; i++) {
    if (strcmp(subs[2 * i], mid) != 0) continue;
    const char *v = subs[2 * i + 1];
    size_t n = strlen(v), sl = strlen(SCREEN_SUFFIX);
    *screen = n > sl && strcmp(v + n - sl, SCREEN_SUFFIX) == 0;
    if (*screen) n -= sl;
    if (n >= SID_MAX) return NULL;
    memcpy(pub_id, v, n);
    pub_id[n] = 0;
    return pub_id;
  }
  return NULL;
}

/* A stream the publisher stopped sending: forget it (a new one starts afresh). */
static void unpublish(stream_t *s) {
  free(s->cache);
  memset(s, 0, sizeof *s);
  s->pt = -1;
}

int noom_sfu_offer(const char *sid, const char *croom, const char *sdp, size_t len, const char *const *subs, size_t nsubs,
                   const char *screen_mid, char **answer, const char **err) {
  static noom_sdp_offer_t o;
  static noom_sdp_answer_media_t am[NOOM_SDP_MAX_MEDIA];
  static char tracks[NOOM_SDP_MAX_MEDIA][SID_MAX + 8];
  *answer = NULL;
  peer_t *p = find_peer(sid, croom);
  if (!p) return *err = "join the call first", -1;
  if (noom_sdp_parse_offer(sdp, len, &o, err) != 0) return -1;
  if (p->offered && memcmp(p->fp, o.fingerprint, 32) != 0) return *err = "the DTLS fingerprint changed", -1;
  leg_t *legs = calloc(o.nmedia, sizeof *legs);
  if (!legs) return *err = "server busy, try again", -1;
  size_t nlegs = 0;
  int published[NSTREAMS] = {0, 0, 0};
  for (size_t i = 0; i < o.nmedia; i++) {
    noom_sdp_media_t *m = &o.media[i];
    memset(&am[i], 0, sizeof am[i]);
    am[i].dir = NOOM_SDP_INACTIVE;
    if (m->rejected) continue;
    int k = m->kind == NOOM_SDP_AUDIO ? AUDIO : VIDEO;
    /* The video m-line the browser named as its screen share is the SCREEN stream. */
    if (k == VIDEO && screen_mid && strcmp(m->mid, screen_mid) == 0) k = SCREEN;
    if ((m->dir == NOOM_SDP_SENDONLY || m->dir == NOOM_SDP_SENDRECV) && !published[k]) {
      published[k] = 1;
      am[i].dir = NOOM_SDP_RECVONLY;
      p->up[k].pt = m->pt;
      p->up[k].clock = m->clock;
      p->up[k].offer_ssrc = m->ssrc;
      memcpy(p->up[k].codec, m->codec, sizeof p->up[k].codec);
      continue;
    }
    char idbuf[SID_MAX];
    int screen = 0;
    const char *pub_id = pub_for(m->mid, subs, nsubs, idbuf, &screen);
    if (m->dir != NOOM_SDP_RECVONLY || !pub_id || strcmp(pub_id, sid) == 0 || (screen && k != VIDEO)) continue;
    if (screen) k = SCREEN;
    leg_t *l = &legs[nlegs++];
    leg_t *old = NULL;
    for (size_t j = 0; j < p->nlegs; j++)
      if (strcmp(p->legs[j].mid, m->mid) == 0 && strcmp(p->legs[j].pub_id, pub_id) == 0 && p->legs[j].kind == k)
        old = &p->legs[j];
    if (old) {
      *l = *old; /* same track: keep its SSRC and numbering */
    } else {
      snprintf(l->mid, sizeof l->mid, "%s", m->mid);
      snprintf(l->pub_id, sizeof l->pub_id, "%s", pub_id);
      l->ssrc = rand32();
      l->last_seq = (uint16_t)rand32();
      l->last_ts = rand32();
    }
    l->kind = k;
    l->pt = m->pt;
    l->rtx_pt = k != AUDIO ? m->rtx_pt : -1;
    if (l->rtx_pt >= 0 && !l->rtx_ssrc) {
      l->rtx_ssrc = rand32();
      l->rtx_seq = (uint16_t)rand32();
    }
    memcpy(l->codec, m->codec, sizeof l->codec);
    l->pub = find_peer(pub_id, croom);
    am[i].dir = NOOM_SDP_SENDONLY;
    am[i].msid_stream = l->pub_id;
    snprintf(tracks[i], sizeof tracks[i], "%s-%s", l->pub_id, k == SCREEN ? "screen" : k ? "video" : "audio");
    am[i].msid_track = tracks[i];
    am[i].ssrc = l->ssrc;
    am[i].rtx_ssrc = l->rtx_pt >= 0 ? l->rtx_ssrc : 0;
  }
  for (int k = 0; k < NSTREAMS; k++)
    if (!published[k] && p->up[k].pt >= 0) unpublish(&p->up[k]);
  const char *ips[MAX_IPS];
  for (size_t i = 0; i < g.nips; i++) ips[i] = g.ips[i];
  noom_sdp_answer_t a = {p->ufrag, p->pwd, noom_dtls_fingerprint(), ips, g.nips, g.port, (uint64_t)p->rtcp_ssrc,
                         ++p->version, am};
  char *buf = malloc(ANSWER_MAX);
  size_t n = buf ? noom_sdp_write_answer(&o, &a, buf, ANSWER_MAX) : 0;
  if (n == 0) {
    free(buf);
    free(legs);
    return *err = "the answer does not fit", -1;
  }
  free(p->legs);
  p->legs = legs;
  p->nlegs = nlegs;
  if (!p->offered) {
    memcpy(p->fp, o.fingerprint, 32);
    p->offered = 1;
    p->offer_ms = uv_now(g.loop);
  }
  /* New legs need a picture at once. */
  for (size_t i = 0; p->srtp_ok && i < nlegs; i++)
    if (legs[i].pub && !legs[i].started) request_keyframe(legs[i].pub, legs[i].kind);
  *answer = buf;
  return 0;
}

void noom_sfu_stats(const char *croom, noom_sfu_stats_t *out) {
  *out = g.st;
  out->participants = out->upstreams = out->legs = 0;
  call_t *c = find_call(croom);
  for (peer_t *p = c ? c->members : NULL; p; p = p->cnext) {
    out->participants++;
    for (int k = 0; k < NSTREAMS; k++) out->upstreams += p->up[k].pt >= 0 && p->up[k].ssrc;
    for (size_t i = 0; i < p->nlegs; i++) out->legs += p->legs[i].pub != NULL;
  }
}

/* ---- the tick: DTLS retransmissions, consent, coalesced PLIs, reports and REMB ---- */

static void on_tick(uv_timer_t *t) {
  (void)t;
  uint64_t now = uv_now(g.loop);
  int remb = now - g.last_remb_ms >= 1000;
  if (remb) g.last_remb_ms = now;
  for (peer_t *p = g.peers; p; p = p->next) {
    if (p->dtls && !p->srtp_ok) noom_dtls_tick(p->dtls);
    if (p->offered && !p->expired) {
      uint64_t since = p->addr_ok ? p->last_check_ms : p->offer_ms;
      if (now - since > g.consent_ms) {
        sio_log_printf(SIO_LOG_INFO, "sfu: %s: no ICE consent for %llu ms: ending its media", p->sid,
                       (unsigned long long)g.consent_ms);
        p->expired = 1;
      }
    }
    for (int k = VIDEO; k < NSTREAMS; k++)
      if (p->up[k].pli_pending && now - p->up[k].last_pli_ms >= PLI_GAP_MS) request_keyframe(p, k);
    if (remb && p->srtp_ok) send_reports(p, now);
  }
  /* Expired participants leave their call through the signaling (peer_left to the
   * others), which calls noom_sfu_leave; one at a time since that edits the list. */
  for (int again = 1; again;) {
    again = 0;
    for (peer_t *p = g.peers; p; p = p->next) {
      if (p->expired != 1) continue;
      p->expired = 2;
      char sid[SID_MAX], croom[CROOM_MAX];
      memcpy(sid, p->sid, sizeof sid);
      memcpy(croom, p->croom, sizeof croom);
      sio_socket_t *s = sio_socket_ref(p->s);
      if (on_expire) on_expire(s, croom);
      sio_socket_unref(s);
      noom_sfu_leave(sid, croom); /* in case the signaling kept it */
      again = 1;
      break;
    }
  }
}

/* ---- start and stop ---- */

static void add_ip(const char *ip) {
  if (g.nips < MAX_IPS && strlen(ip) < sizeof g.ips[0]) snprintf(g.ips[g.nips++], sizeof g.ips[0], "%s", ip);
}

static void default_ips(const char *host) {
  if (strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0) {
    add_ip(host);
    return;
  }
  uv_interface_address_t *ifs;
  int n;
  if (uv_interface_addresses(&ifs, &n) != 0) return;
  for (int pass = 0; pass < 2 && g.nips == 0; pass++) /* external first; loopback if nothing else */
    for (int i = 0; i < n; i++) {
      if (ifs[i].address.address4.sin_family != AF_INET || ifs[i].is_internal != pass) continue;
      char ip[64];
      uv_ip4_name(&ifs[i].address.address4, ip, sizeof ip);
      add_ip(ip);
    }
  uv_free_interface_addresses(ifs, n);
}

void noom_sfu_set_expire(noom_sfu_expire_cb expire) { on_expire = expire; }

int noom_sfu_start(uv_loop_t *loop, const noom_sfu_opts_t *o) {
  memset(&g, 0, sizeof g);
  g.loop = loop;
  g.max_bitrate = o->max_bitrate;
  g.consent_ms = o->consent_ms ? o->consent_ms : 30000;
  if (srtp_init() != srtp_err_status_ok || noom_dtls_global_init() != 0) return SIO_ENOMEM;
  struct sockaddr_storage ss;
  int r = strchr(o->host, ':') ? uv_ip6_addr(o->host, o->port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(o->host, o->port, (struct sockaddr_in *)&ss);
  if (r != 0) return r;
  if ((r = uv_udp_init_ex(loop, &g.udp, (unsigned)ss.ss_family | UV_UDP_RECVMMSG)) != 0) return r;
  r = uv_udp_bind(&g.udp, (const struct sockaddr *)&ss, 0);
  if (r == UV_EADDRINUSE && o->any_port_if_busy) {
    sio_log_printf(SIO_LOG_WARN, "SFU: UDP port %d is in use; media on a free port instead (give --media-port to fix "
                                 "one, e.g. for a firewall or NAT rule)", o->port);
    if (ss.ss_family == AF_INET) ((struct sockaddr_in *)&ss)->sin_port = 0;
    else ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
    r = uv_udp_bind(&g.udp, (const struct sockaddr *)&ss, 0);
  }
  if (r != 0) {
    uv_close((uv_handle_t *)&g.udp, NULL);
    return r;
  }
  int len = sizeof ss;
  uv_udp_getsockname(&g.udp, (struct sockaddr *)&ss, &len);
  g.port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
  int buf = 4 << 20; /* a burst of keyframes to 24 subscribers must not overflow */
  uv_send_buffer_size((uv_handle_t *)&g.udp, &buf);
  buf = 4 << 20;
  uv_recv_buffer_size((uv_handle_t *)&g.udp, &buf);
  if (o->ips && *o->ips) {
    char list[512];
    snprintf(list, sizeof list, "%s", o->ips);
    for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) add_ip(t);
  } else {
    default_ips(o->host);
  }
  uv_udp_recv_start(&g.udp, on_alloc, on_recv);
  uv_timer_init(loop, &g.timer);
  uv_timer_start(&g.timer, on_tick, 100, 100);
  g.running = 1;
  return 0;
}

int noom_sfu_port(void) { return g.port; }

void noom_sfu_stop(void) {
  if (!g.running) return;
  g.running = 0;
  while (g.peers) {
    peer_t *p = g.peers;
    g.peers = p->next;
    peer_free(p);
  }
  uv_close((uv_handle_t *)&g.udp, NULL);
  uv_close((uv_handle_t *)&g.timer, NULL);
  noom_dtls_global_free();
  srtp_shutdown();
}
