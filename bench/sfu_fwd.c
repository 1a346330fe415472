/*
 * bench/sfu_fwd.c: the SFU's forwarding path without browsers, to put a number on
 * "forwarded packets per second per core" (issue 17). One publisher's video packets
 * (1,200-byte payloads, SRTP-protected in advance) go through what app/media/sfu.c does
 * with each: srtp_unprotect once, then for each of F subscribers copy, rewrite the RTP
 * header (app/media/rtp.c) and srtp_protect with that subscriber's keys; the batch of F
 * leaves in one sendmmsg to a loopback socket that a second thread drains. Printed per
 * SRTP profile: ns per forwarded packet for the crypto path alone, the UDP floor (the
 * same sendmmsg batches of unencrypted copies: a minimal relay), and both together, then
 * the 25-person calls at 500 kbit/s per publisher one core could carry at that rate.
 *
 *   build/bench/sfu_fwd [packets=20000] [fanout=24]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../app/media/rtp.c"
#include "../app/media/srtp_policy.h"

#define PAYLOAD 1200
#define MAXF 64

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static srtp_t make(int gcm, int inbound, uint8_t seed) {
  uint8_t key[30];
  for (int i = 0; i < 30; i++) key[i] = (uint8_t)(seed * 31 + i);
  srtp_policy_t p;
  noom_srtp_policy(&p, key, inbound, gcm);
  p.allow_repeat_tx = 1;
  srtp_t s;
  srtp_err_status_t e = srtp_create(&s, &p);
  if (e != srtp_err_status_ok) {
    fprintf(stderr, "srtp_create (%s): error %d\n", gcm ? "GCM" : "CM", e);
    abort();
  }
  return s;
}

static volatile int draining = 1;
static void *drain(void *arg) {
  int fd = *(int *)arg;
  static uint8_t buf[64][1600];
  struct mmsghdr m[64];
  struct iovec v[64];
  for (int i = 0; i < 64; i++) {
    v[i].iov_base = buf[i];
    v[i].iov_len = sizeof buf[i];
    memset(&m[i], 0, sizeof m[i]);
    m[i].msg_hdr.msg_iov = &v[i];
    m[i].msg_hdr.msg_iovlen = 1;
  }
  while (draining) {
    struct timespec t = {0, 1000000};
    if (recvmmsg(fd, m, 64, MSG_DONTWAIT, NULL) <= 0) nanosleep(&t, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000, f = argc > 2 ? atoi(argv[2]) : 24;
  if (n < 1 || f < 1 || f > MAXF) return 2;
  if (srtp_init() != srtp_err_status_ok) return 1;
  int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int big = 8 << 20;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(tx, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (bind(rx, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(rx, (struct sockaddr *)&a, &al) != 0) return 1;
  pthread_t th;
  pthread_create(&th, NULL, drain, &rx);
  static uint8_t out[MAXF][PAYLOAD + 64];
  struct mmsghdr msg[MAXF];
  struct iovec iov[MAXF];
  for (int i = 0; i < f; i++) {
    iov[i].iov_base = out[i];
    memset(&msg[i], 0, sizeof msg[i]);
    msg[i].msg_hdr.msg_name = &a;
    msg[i].msg_hdr.msg_namelen = sizeof a;
    msg[i].msg_hdr.msg_iov = &iov[i];
    msg[i].msg_hdr.msg_iovlen = 1;
  }
  const double calls_pkts = 25.0 * 24 * (500000.0 / 8 / PAYLOAD + 50);
  printf("| SRTP profile | crypto path (ns per forwarded packet) | UDP floor: sendmmsg of plain copies | both | forwarded packets/s per core | 25-person calls at 500 kbit/s per core |\n");
  printf("| --- | --- | --- | --- | --- | --- |\n");
  for (int gcm = 1; gcm >= 0; gcm--) {
    srtp_t pub_out = make(gcm, 0, 1), pub_in = make(gcm, 1, 1), subs[MAXF];
    for (int i = 0; i < f; i++) subs[i] = make(gcm, 0, (uint8_t)(10 + i));
    uint8_t(*pkts)[PAYLOAD + 64] = malloc((size_t)n * sizeof *pkts);
    int *lens = malloc((size_t)n * sizeof *lens);
    for (int i = 0; i < n; i++) { /* the publisher's packets, protected in advance */
      memset(pkts[i], 0xAB, PAYLOAD + 12);
      pkts[i][0] = 0x80;
      pkts[i][1] = 96;
      noom_rtp_rewrite(pkts[i], 96, (uint16_t)(1000 + i), (uint32_t)i * 3000, 0x1234);
      lens[i] = PAYLOAD + 12;
      if (srtp_protect(pub_out, pkts[i], &lens[i]) != srtp_err_status_ok) return 1;
    }
    double t_crypto = 0, t_floor = 0, t_both = 0;
    for (int pass = 0; pass < 3; pass++) {
      srtp_t in = pass == 0 ? pub_in : make(gcm, 1, 1);
      if (pass == 2) /* fresh subscriber sessions: pass 0 used these sequence numbers */
        for (int i = 0; i < f; i++) {
          srtp_dealloc(subs[i]);
          subs[i] = make(gcm, 0, (uint8_t)(10 + i));
        }
      uint8_t(*work)[PAYLOAD + 64] = malloc((size_t)n * sizeof *work);
      memcpy(work, pkts, (size_t)n * sizeof *work);
      double t0 = now_ns();
      for (int i = 0; i < n; i++) {
        int len = lens[i];
        srtp_err_status_t ue = pass != 1 ? srtp_unprotect(in, work[i], &len) : srtp_err_status_ok;
        if (ue != srtp_err_status_ok) {
          fprintf(stderr, "unprotect %d: %d\n", i, ue);
          abort();
        }
        if (pass == 1) len = PAYLOAD + 12;
        noom_rtp_t h;
        if (noom_rtp_parse(work[i], (size_t)len, &h) != 0) {
          fprintf(stderr, "parse %d\n", i);
          abort();
        }
        for (int s = 0; s < f; s++) {
          memcpy(out[s], work[i], (size_t)len);
          int ol = len;
          if (pass != 1) {
            noom_rtp_rewrite(out[s], 100, (uint16_t)(h.seq + s), h.ts + (uint32_t)s, 0x5000u + (uint32_t)s);
            srtp_err_status_t pe = srtp_protect(subs[s], out[s], &ol);
            if (pe != srtp_err_status_ok) {
              fprintf(stderr, "protect %d/%d: %d\n", i, s, pe);
              abort();
            }
          }
          iov[s].iov_len = (size_t)ol;
        }
        if (pass != 0) {
          for (int done = 0; done < f;) {
            int r = sendmmsg(tx, msg + done, (unsigned)(f - done), 0);
            done += r > 0 ? r : 1;
          }
        }
      }
      double dt = (now_ns() - t0) / ((double)n * f);
      if (pass == 0) t_crypto = dt;
      else if (pass == 1) t_floor = dt;
      else t_both = dt;
      if (pass != 0) srtp_dealloc(in);
      free(work);
    }
    printf("| %s | %.0f | %.0f | %.0f | %.0f | %.1f |\n", gcm ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80", t_crypto, t_floor,
           t_both, 1e9 / t_both, 1e9 / t_both / calls_pkts);
    srtp_dealloc(pub_out);
    srtp_dealloc(pub_in);
    for (int i = 0; i < f; i++) srtp_dealloc(subs[i]);
    free(pkts);
    free(lens);
  }
  draining = 0;
  pthread_join(th, NULL);
  printf("\n%d packets x %d subscribers per profile; one thread forwards, a second drains the sink.\n", n, f);
  return 0;
}
