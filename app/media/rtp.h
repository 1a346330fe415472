/*
 * RTP and RTCP on the SFU's one UDP port (RFC 3550, 4585, 5104, 5761, 7983): the first
 * byte tells STUN, DTLS and RTP/RTCP apart; the second tells RTCP (types 192-223) from
 * RTP. Parsing, in-place rewriting and the few feedback packets we build. Sans-IO.
 */
#ifndef NOOM_RTP_H
#define NOOM_RTP_H

#include <stddef.h>
#include <stdint.h>

enum { NOOM_PKT_OTHER, NOOM_PKT_STUN, NOOM_PKT_DTLS, NOOM_PKT_RTP, NOOM_PKT_RTCP };

/* RFC 7983 §7 first-byte ranges, then RFC 5761 §4 for RTCP vs RTP. */
int noom_pkt_classify(const uint8_t *p, size_t len);

typedef struct {
  uint8_t pt;
  int marker;
  uint16_t seq;
  uint32_t ts, ssrc;
  size_t header_len; /* fixed header, CSRCs and extension */
} noom_rtp_t;

/* Reads an RTP header (version 2, lengths inside len). Returns 0 or -1. */
int noom_rtp_parse(const uint8_t *p, size_t len, noom_rtp_t *out);

/* Rewrites payload type (marker kept), sequence number, timestamp and SSRC in place. */
void noom_rtp_rewrite(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc);

/* Calls cb for every packet of a compound RTCP datagram, after checking that the lengths
 * tile it exactly (RFC 3550 §6.4; RFC 5506 reduced size allowed). pt is the packet type,
 * fmt the count/format field. Returns 0, or -1 if malformed (cb never called then). A
 * non-zero return of cb stops the walk. */
typedef int (*noom_rtcp_cb)(int pt, int fmt, uint8_t *pkt, size_t len, void *u);
int noom_rtcp_walk(uint8_t *p, size_t len, noom_rtcp_cb cb, void *u);

enum { NOOM_RTCP_SR = 200, NOOM_RTCP_RR = 201, NOOM_RTCP_SDES = 202, NOOM_RTCP_BYE = 203,
       NOOM_RTCP_RTPFB = 205, NOOM_RTCP_PSFB = 206 };

/* Media SSRC of a feedback packet (RTPFB/PSFB, len >= 12). */
uint32_t noom_rtcp_fb_media(const uint8_t *pkt);

/* Calls cb(seq) for every sequence number a generic NACK (RTPFB fmt 1) asks for. */
void noom_rtcp_nack_each(const uint8_t *pkt, size_t len, void (*cb)(uint16_t seq, void *u), void *u);

/* A generic NACK (RTPFB fmt 1) for seqs[0..n): each seq either opens an entry (PID) or
 * sets a bit of the entry it follows within 16 (BLP). out needs 12 + 4 * n bytes.
 * Returns the length. */
size_t noom_rtcp_nack(uint8_t *out, uint32_t sender, uint32_t media, const uint16_t *seqs, size_t n);

/* Builders; out needs 12 (PLI) or 24 (REMB, one SSRC) bytes. Return the length. */
size_t noom_rtcp_pli(uint8_t *out, uint32_t sender, uint32_t media);
size_t noom_rtcp_remb(uint8_t *out, uint32_t sender, uint64_t bps, uint32_t media);

#endif
