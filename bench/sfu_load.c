/*
 * bench/sfu_load.c: synthetic call participants for build/noom's SFU (issue 17), no
 * browsers. Each participant has its own UDP socket, a self-signed certificate whose
 * fingerprint goes into its SDP offer, and after the answer: ICE checks (USERNAME,
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT) to the
 * server's candidate, a DTLS client handshake with use_srtp, SRTP keys from the exporter
 * (libsrtp2), then Opus-like (50 pps, 100 bytes) and VP8-like (50 pps, 1,150 bytes)
 * RTP: 500 kbit/s per publisher. It decrypts and counts what it is forwarded and keeps
 * consent with a check every 2.5 s. The Socket.IO side (enter_room, call_join,
 * sfu_offer) is bench/sfu_load.mjs, which talks to us over stdin/stdout:
 *   we print   offer <i> <sdp, lines joined by '|'>      (one per participant)
 *   it writes  answer <i> <sdp, lines joined by '|'>
 *   we print   ready               (every participant has SRTP keys), then media flows;
 *              mark0 / mark1       (start and end of the measured window), then
 *              result {json}       (CPU of the server PID and of ourselves, counters).
 * Relay mode (-r HOST:PORT): the same traffic pattern as plain RTP to bench/sfu_relay
 * (recvmmsg/sendmmsg, no crypto), no signaling, no ICE, no DTLS: the floor.
 *
 * -k cm or -k gcm offers only that SRTP profile (default both: the server picks). With -c CALLS, participants i*N .. i*N+N-1 make call i (each offer has 2*N m-lines).
 *
 *   sfu_load -n PEOPLE [-c CALLS] -p SERVER_PID [-w WARMUP_S] [-d SECONDS] [-k cm|gcm] [-r HOST:PORT]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../app/media/srtp_policy.h"

#define MAXP 128
#define AUDIO_PT 111
#define VIDEO_PT 96
#define AUDIO_BYTES 100  /* 50 pps: 40 kbit/s */
#define VIDEO_BYTES 1150 /* 50 pps: 460 kbit/s */

typedef struct {
  int fd;
  char ufrag[9], pwd[25];      /* ours */
  char sufrag[64], spwd[64];   /* the server's */
  uint8_t sfp[32];             /* the server's certificate fingerprint */
  struct sockaddr_in server;
  int answered, ice_ok, srtp_ok;
  SSL *ssl;
  BIO *rbio, *wbio;
  srtp_t in, out;
  uint32_t assrc, vssrc;
  uint16_t aseq, vseq;
  uint32_t ats, vts;
  double next_check, next_dtls;
  uint64_t sent, received, rtcp, bad;
} part_t;

static part_t P[MAXP];
static int N = 5, C = 1, T = 5, relay; /* people per call, calls, participants in all */
static SSL_CTX *ctx;
static char fingerprint[96];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "sfu_load: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static void token(char *out, size_t n) {
  static const char a[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  uint8_t r[64];
  RAND_bytes(r, (int)n);
  for (size_t i = 0; i < n; i++) out[i] = a[r[i] % 62];
  out[n] = 0;
}

/* ---- certificate and DTLS context ---- */

static int accept_any(int ok, X509_STORE_CTX *c) { return (void)ok, (void)c, 1; } /* checked by fingerprint */

static void make_ctx(const char *profiles) {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  if (!k || !x) die("key");
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, k);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"sfu_load", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  if (!X509_sign(x, k, EVP_sha256())) die("sign");
  uint8_t md[32];
  unsigned ml = 0;
  X509_digest(x, EVP_sha256(), md, &ml);
  for (int i = 0; i < 32; i++) sprintf(fingerprint + i * 3, "%02X%s", md[i], i < 31 ? ":" : "");
  ctx = SSL_CTX_new(DTLS_client_method());
  if (!ctx || SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, k) != 1) die("ctx");
  if (SSL_CTX_set_tlsext_use_srtp(ctx, profiles) != 0) die("use_srtp");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
}

/* ---- STUN Binding request (RFC 5389, ICE RFC 8445 §7.1.2) ---- */

static size_t attr(uint8_t *b, size_t off, uint16_t type, const void *v, uint16_t len) {
  b[off] = (uint8_t)(type >> 8), b[off + 1] = (uint8_t)type;
  b[off + 2] = (uint8_t)(len >> 8), b[off + 3] = (uint8_t)len;
  memcpy(b + off + 4, v, len);
  size_t pad = (4 - len % 4) % 4;
  memset(b + off + 4 + len, 0, pad);
  return off + 4 + len + pad;
}

static void set_len(uint8_t *b, size_t total) {
  b[2] = (uint8_t)((total - 20) >> 8), b[3] = (uint8_t)(total - 20);
}

static void send_check(part_t *p) {
  uint8_t b[512];
  b[0] = 0x00, b[1] = 0x01;
  const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
  memcpy(b + 4, cookie, 4);
  RAND_bytes(b + 8, 12);
  char user[160];
  int ul = snprintf(user, sizeof user, "%s:%s", p->sufrag, p->ufrag);
  size_t off = attr(b, 20, 0x0006, user, (uint16_t)ul);
  uint8_t prio[4] = {0x6e, 0x00, 0x1e, 0xff};
  off = attr(b, off, 0x0024, prio, 4);
  uint8_t tie[8];
  RAND_bytes(tie, 8);
  off = attr(b, off, 0x802A, tie, 8);
  off = attr(b, off, 0x0025, "", 0);
  set_len(b, off + 24); /* the length covers MESSAGE-INTEGRITY */
  uint8_t mac[20];
  unsigned ml = 0;
  HMAC(EVP_sha1(), p->spwd, (int)strlen(p->spwd), b, off, mac, &ml);
  off = attr(b, off, 0x0008, mac, 20);
  set_len(b, off + 8);
  uint32_t crc = (uint32_t)crc32(0, b, (uInt)off) ^ 0x5354554eu;
  uint8_t fp[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
  off = attr(b, off, 0x8028, fp, 4);
  send(p->fd, b, off, 0);
}

/* ---- DTLS ---- */

/* Sends what OpenSSL wrote, one DTLS record per datagram (a flight fits records to the MTU). */
static void flush_dtls(part_t *p) {
  uint8_t *d;
  long n = BIO_get_mem_data(p->wbio, (char **)&d);
  for (long off = 0; off + 13 <= n;) {
    long rl = 13 + (d[off + 11] << 8 | d[off + 12]);
    if (off + rl > n) break;
    send(p->fd, d + off, (size_t)rl, 0);
    off += rl;
  }
  (void)BIO_reset(p->wbio);
}

static srtp_t make_srtp(const uint8_t *key, const uint8_t *salt, int klen, int slen, int inbound, int gcm) {
  uint8_t master[30];
  memcpy(master, key, (size_t)klen);
  memcpy(master + klen, salt, (size_t)slen);
  srtp_policy_t pol;
  noom_srtp_policy(&pol, master, inbound, gcm);
  srtp_t s;
  if (srtp_create(&s, &pol) != srtp_err_status_ok) die("srtp_create");
  return s;
}

static int gcm_used = -1;

static void dtls_step(part_t *p) {
  if (p->srtp_ok) return;
  int r = SSL_do_handshake(p->ssl);
  flush_dtls(p);
  if (r != 1) {
    int e = SSL_get_error(p->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) die("DTLS handshake failed");
    return;
  }
  X509 *peer = SSL_get1_peer_certificate(p->ssl);
  uint8_t md[32];
  unsigned ml = 0;
  if (!peer || !X509_digest(peer, EVP_sha256(), md, &ml) || memcmp(md, p->sfp, 32) != 0)
    die("the server's certificate is not the one its answer names");
  X509_free(peer);
  SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(p->ssl);
  if (!prof) die("no SRTP profile negotiated");
  int gcm = prof->id == SRTP_AEAD_AES_128_GCM;
  int kl = 16, sl = gcm ? 12 : 14;
  uint8_t m[2 * 30];
  if (SSL_export_keying_material(p->ssl, m, (size_t)(2 * (kl + sl)), "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1)
    die("exporter");
  /* client key, server key, client salt, server salt: we are the client */
  p->out = make_srtp(m, m + 2 * kl, kl, sl, 0, gcm);
  p->in = make_srtp(m + kl, m + 2 * kl + sl, kl, sl, 1, gcm);
  p->srtp_ok = 1;
  gcm_used = gcm;
}

/* ---- SDP ---- */

static void print_offer(int i) {
  part_t *p = &P[i];
  printf("offer %d v=0|o=- %u 2 IN IP4 127.0.0.1|s=-|t=0 0|a=group:BUNDLE", i, 1000u + (unsigned)i);
  for (int m = 0; m < 2 * N; m++) printf(" %d", m);
  printf("|a=msid-semantic: WMS|");
  for (int m = 0; m < 2 * N; m++) {
    int video = m & 1;
    printf("m=%s 9 UDP/TLS/RTP/SAVPF %d|c=IN IP4 0.0.0.0|a=rtcp:9 IN IP4 0.0.0.0|", video ? "video" : "audio",
           video ? VIDEO_PT : AUDIO_PT);
    printf("a=ice-ufrag:%s|a=ice-pwd:%s|a=ice-options:trickle|a=fingerprint:sha-256 %s|a=setup:actpass|a=mid:%d|",
           p->ufrag, p->pwd, fingerprint, m);
    printf("a=%s|a=rtcp-mux|", m < 2 ? "sendrecv" : "recvonly");
    if (video)
      printf("a=rtpmap:%d VP8/90000|a=rtcp-fb:%d nack|a=rtcp-fb:%d nack pli|a=rtcp-fb:%d goog-remb|", VIDEO_PT, VIDEO_PT,
             VIDEO_PT, VIDEO_PT);
    else
      printf("a=rtpmap:%d opus/48000/2|a=fmtp:%d minptime=10;useinbandfec=1|", AUDIO_PT, AUDIO_PT);
    if (m < 2) printf("a=msid:p%d p%d-%s|a=ssrc:%u cname:p%d|", i, i, video ? "v" : "a", video ? p->vssrc : p->assrc, i);
  }
  printf("\n");
  fflush(stdout);
}

static int hexv(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static void read_answer(char *line) {
  int i = atoi(line + 7);
  if (i < 0 || i >= T) die("answer for an unknown participant");
  part_t *p = &P[i];
  int have_cand = 0;
  for (char *save, *l = strtok_r(strchr(line + 7, ' ') + 1, "|\n", &save); l; l = strtok_r(NULL, "|\n", &save)) {
    if (!strncmp(l, "a=ice-ufrag:", 12)) snprintf(p->sufrag, sizeof p->sufrag, "%s", l + 12);
    else if (!strncmp(l, "a=ice-pwd:", 10)) snprintf(p->spwd, sizeof p->spwd, "%s", l + 10);
    else if (!strncmp(l, "a=fingerprint:sha-256 ", 22) && strlen(l + 22) >= 95)
      for (int k = 0; k < 32; k++) p->sfp[k] = (uint8_t)(hexv(l[22 + 3 * k]) << 4 | hexv(l[23 + 3 * k]));
    else if (!have_cand && !strncmp(l, "a=candidate:", 12)) {
      /* a=candidate:<foundation> <component> udp <priority> <ip> <port> typ host */
      char ip[64];
      int port;
      if (sscanf(l, "a=candidate:%*s %*d %*s %*u %63s %d", ip, &port) == 2 &&
          inet_pton(AF_INET, ip, &p->server.sin_addr) == 1) {
        p->server.sin_family = AF_INET;
        p->server.sin_port = htons((uint16_t)port);
        have_cand = 1;
      }
    }
  }
  if (!have_cand || !p->sufrag[0] || !p->spwd[0]) die("answer without an IPv4 candidate or ICE credentials");
  if (connect(p->fd, (struct sockaddr *)&p->server, sizeof p->server) != 0) die("connect");
  p->answered = 1;
}

/* ---- media ---- */

static void send_rtp(part_t *p, int video) {
  static uint8_t b[1600];
  size_t payload = video ? VIDEO_BYTES : AUDIO_BYTES;
  memset(b + 12, 0x5A, payload);
  b[0] = 0x80;
  b[1] = (uint8_t)(video ? 0x80 | VIDEO_PT : AUDIO_PT); /* one-packet frames: marker set */
  uint16_t seq = video ? p->vseq++ : p->aseq++;
  uint32_t ts = video ? (p->vts += 3000) : (p->ats += 960), ssrc = video ? p->vssrc : p->assrc;
  b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
  uint32_t v[2] = {htonl(ts), htonl(ssrc)};
  memcpy(b + 4, v, 8);
  if (video) b[12] = 0x10; /* VP8 payload descriptor: start of partition */
  int len = (int)(12 + payload);
  if (!relay && srtp_protect(p->out, b, &len) != srtp_err_status_ok) return;
  if (send(p->fd, b, (size_t)len, 0) == len) p->sent++;
}

static void on_readable(part_t *p) {
  static uint8_t buf[32][1600];
  static struct mmsghdr mm[32];
  static struct iovec iov[32];
  for (;;) {
    for (int k = 0; k < 32; k++) {
      iov[k].iov_base = buf[k];
      iov[k].iov_len = sizeof buf[k];
      memset(&mm[k], 0, sizeof mm[k]);
      mm[k].msg_hdr.msg_iov = &iov[k];
      mm[k].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(p->fd, mm, 32, MSG_DONTWAIT, NULL);
    if (r <= 0) return;
    for (int k = 0; k < r; k++) {
      uint8_t *d = buf[k];
      int n = (int)mm[k].msg_len;
      if (n < 1) continue;
      if (relay) {
        if (n > 12) p->received++; /* not the "hello"s */
      } else if (d[0] < 4) {
        if (n >= 2 && d[0] == 0x01 && d[1] == 0x01) p->ice_ok = 1; /* Binding success */
      } else if (d[0] >= 20 && d[0] < 64) {
        BIO_write(p->rbio, d, n);
        dtls_step(p);
      } else if (d[0] >= 128 && d[0] < 192 && p->srtp_ok && n >= 2) {
        int rtcp = d[1] >= 192 && d[1] <= 223;
        srtp_err_status_t e = rtcp ? srtp_unprotect_rtcp(p->in, d, &n) : srtp_unprotect(p->in, d, &n);
        if (e != srtp_err_status_ok) p->bad++;
        else if (rtcp) p->rtcp++;
        else p->received++;
      }
    }
    if (r < 32) return;
  }
}

/* ---- CPU ---- */

/* CPU seconds of every thread of pid, to the nanosecond (/proc/PID/task/TID/schedstat's
 * first field): /proc/PID/stat's clock ticks are too coarse for the relay's small figures.
 * *wait: the seconds its threads were runnable but waited for a core (the second field):
 * on a shared machine, what tells a starved server from a slow one. */
static double proc_cpu(long pid, double *wait) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  double sum = 0;
  *wait = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char f[320];
    snprintf(f, sizeof f, "/proc/%ld/task/%s/schedstat", pid, e->d_name);
    FILE *fp = fopen(f, "r");
    unsigned long long ns = 0, w = 0;
    if (fp && fscanf(fp, "%llu %llu", &ns, &w) == 2) sum += ns / 1e9, *wait += w / 1e9;
    if (fp) fclose(fp);
  }
  closedir(d);
  return sum;
}

static double self_cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

typedef struct {
  double t, server, self, wait;
  uint64_t sent, received, bad, rtcp;
} snap_t;

static snap_t snap(long pid) {
  snap_t s = {now_s(), 0, self_cpu(), 0, 0, 0, 0, 0};
  s.server = proc_cpu(pid, &s.wait);
  for (int i = 0; i < T; i++) {
    s.sent += P[i].sent;
    s.received += P[i].received;
    s.bad += P[i].bad;
    s.rtcp += P[i].rtcp;
  }
  return s;
}

int main(int argc, char **argv) {
  long pid = 0;
  double warm = 3, dur = 10;
  const char *relay_addr = NULL, *profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
  for (int o; (o = getopt(argc, argv, "n:c:p:w:d:r:k:")) != -1;) {
    if (o == 'n') N = atoi(optarg);
    else if (o == 'c') C = atoi(optarg);
    else if (o == 'p') pid = atol(optarg);
    else if (o == 'w') warm = atof(optarg);
    else if (o == 'd') dur = atof(optarg);
    else if (o == 'r') relay_addr = optarg, relay = 1;
    else if (o == 'k') profiles = !strcmp(optarg, "cm") ? "SRTP_AES128_CM_SHA1_80" : "SRTP_AEAD_AES_128_GCM";
    else return 2;
  }
  T = N * C;
  if (N < 2 || C < 1 || T > MAXP || pid <= 0) {
    fprintf(stderr, "usage: sfu_load -n PEOPLE -c CALLS (PEOPLE*CALLS <= %d) -p SERVER_PID [-w WARMUP_S] [-d SECONDS] [-k cm|gcm] [-r HOST:PORT]\n", MAXP);
    return 2;
  }
  if (srtp_init() != srtp_err_status_ok) die("srtp_init");
  if (!relay) make_ctx(profiles);
  int ep = epoll_create1(0);
  for (int i = 0; i < T; i++) {
    part_t *p = &P[i];
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 4 << 20;
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(p->fd, (struct sockaddr *)&a, sizeof a) != 0) die("bind");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
    token(p->ufrag, 8);
    token(p->pwd, 24);
    RAND_bytes((uint8_t *)&p->assrc, 4);
    RAND_bytes((uint8_t *)&p->vssrc, 4);
    if (relay) {
      char host[64];
      int port;
      if (sscanf(relay_addr, "%63[^:]:%d", host, &port) != 2) die("-r HOST:PORT");
      p->server.sin_family = AF_INET;
      p->server.sin_port = htons((uint16_t)port);
      inet_pton(AF_INET, host, &p->server.sin_addr);
      if (connect(p->fd, (struct sockaddr *)&p->server, sizeof p->server) != 0) die("connect");
      p->answered = p->ice_ok = p->srtp_ok = 1;
      send(p->fd, "hello", 5, 0); /* the relay learns our address */
    } else {
      p->ssl = SSL_new(ctx);
      p->rbio = BIO_new(BIO_s_mem());
      p->wbio = BIO_new(BIO_s_mem());
      BIO_set_mem_eof_return(p->rbio, -1);
      SSL_set_bio(p->ssl, p->rbio, p->wbio);
      SSL_set_connect_state(p->ssl);
      SSL_set_mtu(p->ssl, 1200);
      print_offer(i);
    }
  }
  /* Answers arrive on stdin (sfu mode); then ICE, DTLS, media. */
  struct epoll_event sev = {.events = EPOLLIN, .data.u32 = MAXP};
  if (!relay) epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
  /* Our own line buffer: stdio's could hold a second answer that epoll never reports. */
  static char ibuf[1 << 20];
  size_t ilen = 0;
  int answered = relay ? T : 0, ready = 0;
  double start = now_s(), t_ready = 0, period = 0.02;
  snap_t s0 = {0}, s1 = {0};
  int phase = 0; /* 0 setting up, 1 warm-up, 2 measuring, 3 draining, 4 done */
  uint64_t sent_all = 0, got_at_ready = 0;
  double t_end = 0;
  while (phase < 4) {
    struct epoll_event evs[MAXP + 1];
    int ne = epoll_wait(ep, evs, MAXP + 1, 1);
    for (int k = 0; k < ne; k++) {
      if (evs[k].data.u32 == MAXP) {
        ssize_t r = read(0, ibuf + ilen, sizeof ibuf - 1 - ilen);
        if (r <= 0 && answered < T) die("stdin closed before every answer arrived");
        if (r <= 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
          continue;
        }
        ilen += (size_t)r;
        for (char *nl; (nl = memchr(ibuf, '\n', ilen));) {
          *nl = 0;
          if (!strncmp(ibuf, "answer ", 7)) answered += (read_answer(ibuf), 1);
          ilen -= (size_t)(nl + 1 - ibuf);
          memmove(ibuf, nl + 1, ilen);
        }
        if (ilen == sizeof ibuf - 1) die("an answer longer than 1 MiB");
        continue;
      }
      on_readable(&P[evs[k].data.u32]);
    }
    double t = now_s();
    if (!ready && t - start > 60) die("setup took more than 60 s");
    int all = answered == T;
    for (int i = 0; i < T; i++) {
      part_t *p = &P[i];
      if (!p->answered) continue;
      if (!relay && t >= p->next_check) {
        send_check(p);
        p->next_check = t + (p->srtp_ok ? 2.5 : 0.2);
      }
      if (!relay && p->ice_ok && !p->srtp_ok && t >= p->next_dtls) {
        if (SSL_in_before(p->ssl)) dtls_step(p);
        else if (DTLSv1_handle_timeout(p->ssl) > 0) flush_dtls(p);
        p->next_dtls = t + 0.1;
      }
      all &= p->srtp_ok;
    }
    if (!ready && all) {
      ready = 1;
      t_ready = t;
      for (int i = 0; i < T; i++) got_at_ready += P[i].received; /* the relay's "hello"s */
      printf("ready %.2f %s\n", t - start, relay ? "plain" : gcm_used ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");
      fflush(stdout);
      phase = 1;
    }
    if (!ready) continue;
    /* Every participant sends one audio and one video packet per 20 ms, staggered. */
    static double *due;
    if (!due) {
      due = calloc((size_t)T, sizeof *due);
      for (int i = 0; i < T; i++) due[i] = t + period * i / T;
    }
    for (int i = 0; i < T && phase < 3; i++)
      for (int guard = 0; t >= due[i] && guard < 5; guard++) {
        send_rtp(&P[i], 0);
        send_rtp(&P[i], 1);
        due[i] += period;
      }
    if (phase == 1 && t - t_ready >= warm) {
      s0 = snap(pid);
      printf("mark0\n");
      fflush(stdout);
      phase = 2;
    } else if (phase == 2 && t - s0.t >= dur) {
      s1 = snap(pid);
      printf("mark1\n");
      fflush(stdout);
      phase = 3;
      t_end = t;
    } else if (phase == 3 && t - t_end >= 0.5) { /* what is in flight arrives */
      phase = 4;
    }
  }
  uint64_t got_all = 0;
  for (int i = 0; i < T; i++) sent_all += P[i].sent, got_all += P[i].received;
  got_all -= got_at_ready;
  double secs = s1.t - s0.t;
  uint64_t sent = s1.sent - s0.sent, got = s1.received - s0.received;
  printf("result {\"mode\":\"%s\",\"calls\":%d,\"n\":%d,\"secs\":%.3f,\"serverCpu\":%.3f,\"selfCpu\":%.3f,\"serverWait\":%.3f,\"sent\":%llu,"
         "\"received\":%llu,\"expected\":%llu,\"rtcp\":%llu,\"authFail\":%llu,\"sentAll\":%llu,\"receivedAll\":%llu,"
         "\"expectedAll\":%llu}\n",
         relay ? "relay" : gcm_used ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80", C, N, secs, s1.server - s0.server,
         s1.self - s0.self, s1.wait - s0.wait, (unsigned long long)sent, (unsigned long long)got,
         (unsigned long long)(sent * (uint64_t)(N - 1)), (unsigned long long)(s1.rtcp - s0.rtcp),
         (unsigned long long)(s1.bad - s0.bad), (unsigned long long)sent_all, (unsigned long long)got_all,
         (unsigned long long)(sent_all * (uint64_t)(N - 1)));
  fflush(stdout);
  return 0;
}
