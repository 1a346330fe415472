/*
 * SDP offer reader and answer writer. The reader walks the offer line by line with a
 * hard cap on bytes, lines and m-lines; it keeps only what the SFU needs (ICE
 * credentials, the DTLS fingerprint, and per m-line the kind, mid, direction, the one
 * codec we forward and the first SSRC). Values we echo back (mid, fmtp) are checked to be
 * plain tokens so the answer cannot be made to carry extra lines.
 */
#include "sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FORMATS 64

typedef struct {
  int pt;
  char codec[8];
  uint32_t clock;
  int channels;
  char fmtp[256];
} fmt_t;

/* Parse state of the m-line being read. */
typedef struct {
  fmt_t f[MAX_FORMATS];
  size_t n;
} fmts_t;

static int is_token(const char *p, size_t n, const char *extra) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(extra, c))) return 0;
    if (c == 0) return 0;
  }
  return 1;
}

static int starts(const char *p, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && memcmp(p, prefix, k) == 0;
}

/* Reads a decimal number of at most 10 digits at *p; advances. -1 if none. */
static long long num(const char **p, const char *end) {
  long long v = 0;
  int d = 0;
  while (*p < end && **p >= '0' && **p <= '9' && d < 10) v = v * 10 + (*(*p)++ - '0'), d++;
  return d ? v : -1;
}

static fmt_t *find_fmt(fmts_t *fs, long long pt) {
  for (size_t i = 0; i < fs->n; i++)
    if (fs->f[i].pt == pt) return &fs->f[i];
  return NULL;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "sha-256 AB:CD:..." -> 32 bytes. */
static int parse_fingerprint(const char *p, size_t n, uint8_t out[32]) {
  if (n != 8 + 95 || (memcmp(p, "sha-256 ", 8) != 0 && memcmp(p, "SHA-256 ", 8) != 0)) return -1;
  p += 8;
  for (int i = 0; i < 32; i++) {
    int hi = hexval(p[i * 3]), lo = hexval(p[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 31 && p[i * 3 + 2] != ':')) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static int codec_rank(const fmt_t *f, int kind) {
  if (kind == NOOM_SDP_AUDIO) return strcmp(f->codec, "opus") == 0 && f->clock == 48000 ? 3 : 0;
  if (strcmp(f->codec, "VP8") == 0 && f->clock == 90000) return 3;
  if (strcmp(f->codec, "H264") == 0 && f->clock == 90000) {
    /* Constrained baseline, packetization-mode 1: what every browser decodes. */
    int mode1 = strstr(f->fmtp, "packetization-mode=1") != NULL;
    int cb = strstr(f->fmtp, "profile-level-id=42e0") != NULL || strstr(f->fmtp, "profile-level-id=42E0") != NULL;
    return mode1 ? (cb ? 2 : 1) : 0;
  }
  return 0;
}

/* Ends an m-line: picks its codec. */
static void finish_media(noom_sdp_media_t *m, fmts_t *fs) {
  int best = 0;
  m->pt = -1;
  for (size_t i = 0; i < fs->n; i++) {
    int r = codec_rank(&fs->f[i], m->kind);
    if (r > best) {
      best = r;
      m->pt = fs->f[i].pt;
      memcpy(m->codec, fs->f[i].codec, sizeof m->codec);
      m->clock = fs->f[i].clock;
      m->channels = fs->f[i].channels;
      memcpy(m->fmtp, fs->f[i].fmtp, sizeof m->fmtp);
    }
  }
  if (m->pt < 0) m->rejected = 1;
  /* RFC 4588: the rtx format whose apt= is the codec we picked. */
  m->rtx_pt = -1;
  char apt[16];
  snprintf(apt, sizeof apt, "apt=%d", m->pt);
  for (size_t i = 0; m->pt >= 0 && m->kind == NOOM_SDP_VIDEO && i < fs->n; i++)
    if (strcmp(fs->f[i].codec, "rtx") == 0 && fs->f[i].clock == 90000 && strcmp(fs->f[i].fmtp, apt) == 0) m->rtx_pt = fs->f[i].pt;
  fs->n = 0;
}

static int parse_mline(const char *p, size_t n, noom_sdp_media_t *m, fmts_t *fs) {
  const char *end = p + n, *sp = memchr(p, ' ', n);
  if (!sp) return -1;
  size_t kl = (size_t)(sp - p);
  m->kind = kl == 5 && memcmp(p, "audio", 5) == 0 ? NOOM_SDP_AUDIO
            : kl == 5 && memcmp(p, "video", 5) == 0 ? NOOM_SDP_VIDEO : NOOM_SDP_OTHER;
  p = sp + 1;
  long long port = num(&p, end);
  if (port < 0 || port > 65535 || p >= end || *p != ' ') return -1;
  p++;
  const char *proto = p;
  while (p < end && *p != ' ') p++;
  size_t pl = (size_t)(p - proto);
  int savpf = pl == 17 && memcmp(proto, "UDP/TLS/RTP/SAVPF", 17) == 0;
  m->rejected = port == 0 || !savpf || m->kind == NOOM_SDP_OTHER;
  m->dir = NOOM_SDP_SENDRECV;
  while (p < end && *p == ' ') {
    p++;
    long long pt = num(&p, end);
    if (pt < 0 || pt > 127) {
      if (m->kind != NOOM_SDP_OTHER) return -1;
      while (p < end && *p != ' ') p++; /* "webrtc-datachannel" */
      continue;
    }
    if (fs->n < MAX_FORMATS && !find_fmt(fs, pt)) {
      fmt_t *f = &fs->f[fs->n++];
      memset(f, 0, sizeof *f);
      f->pt = (int)pt;
    }
  }
  return 0;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static void parse_rtpmap(const char *p, size_t n, fmts_t *fs) {
  const char *end = p + n;
  long long pt = num(&p, end);
  fmt_t *f = find_fmt(fs, pt);
  if (!f || p >= end || *p != ' ') return;
  const char *name = ++p;
  while (p < end && *p != '/') p++;
  size_t nl = (size_t)(p - name);
  if (nl == 0 || nl >= sizeof f->codec || p >= end || !is_token(name, nl, "-")) return;
  p++;
  long long clock = num(&p, end);
  if (clock <= 0) return;
  long long ch = 1;
  if (p < end && *p == '/') {
    p++;
    ch = num(&p, end);
    if (ch <= 0 || ch > 8) return;
  }
  memcpy(f->codec, name, nl);
  f->codec[nl] = 0;
  f->clock = (uint32_t)clock;
  f->channels = (int)ch;
}

static void parse_fmtp(const char *p, size_t n, fmts_t *fs) {
  const char *end = p + n;
  long long pt = num(&p, end);
  fmt_t *f = find_fmt(fs, pt);
  if (!f || p >= end || *p != ' ') return;
  p++;
  size_t l = (size_t)(end - p);
  if (l >= sizeof f->fmtp || !is_token(p, l, "=;-_.,/ ")) return;
  memcpy(f->fmtp, p, l);
  f->fmtp[l] = 0;
}

static int copy_ice(char *dst, const char *p, size_t n) {
  if (n > NOOM_SDP_ICE_MAX || !is_token(p, n, "+/")) return -1;
  if (dst[0] == 0) {
    memcpy(dst, p, n);
    dst[n] = 0;
  }
  return 0;
}

int noom_sdp_parse_offer(const char *sdp, size_t len, noom_sdp_offer_t *o, const char **err) {
  static fmts_t fs; /* single-threaded: the loop thread and the fuzzer */
  memset(o, 0, sizeof *o);
  fs.n = 0;
  *err = NULL;
  if (len > NOOM_SDP_MAX_BYTES) return *err = "the offer is too large", -1;
  if (len < 2 || memcmp(sdp, "v=", 2) != 0) return *err = "not an SDP offer", -1;
  noom_sdp_media_t *m = NULL;
  size_t lines = 0;
  for (const char *p = sdp, *end = sdp + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *next = nl ? nl + 1 : end;
    if (le > p && le[-1] == '\r') le--;
    size_t n = (size_t)(le - p);
    if (++lines > NOOM_SDP_MAX_LINES) return *err = "the offer has too many lines", -1;
    if (n < 2 || p[1] != '=') {
      if (n == 0) {
        p = next;
        continue;
      }
      return *err = "malformed SDP line", -1;
    }
    const char *v = p + 2;
    size_t vn = n - 2;
    if (p[0] == 'm') {
      if (m) finish_media(m, &fs);
      if (o->nmedia >= NOOM_SDP_MAX_MEDIA) return *err = "the offer has too many m-lines", -1;
      m = &o->media[o->nmedia++];
      memset(m, 0, sizeof *m);
      if (parse_mline(v, vn, m, &fs) != 0) return *err = "malformed m-line", -1;
    } else if (p[0] == 'a') {
      if (starts(v, vn, "ice-ufrag:")) {
        if (copy_ice(o->ufrag, v + 10, vn - 10) != 0) return *err = "bad ice-ufrag", -1;
      } else if (starts(v, vn, "ice-pwd:")) {
        if (copy_ice(o->pwd, v + 8, vn - 8) != 0) return *err = "bad ice-pwd", -1;
      } else if (starts(v, vn, "fingerprint:")) {
        uint8_t fp[32];
        if (parse_fingerprint(v + 12, vn - 12, fp) == 0 && !o->has_fingerprint) {
          memcpy(o->fingerprint, fp, 32);
          o->has_fingerprint = 1;
        }
      } else if (m && starts(v, vn, "mid:")) {
        if (vn - 4 > NOOM_SDP_MID_MAX || !is_token(v + 4, vn - 4, "-_.")) return *err = "bad mid", -1;
        memcpy(m->mid, v + 4, vn - 4);
        m->mid[vn - 4] = 0;
      } else if (m && starts(v, vn, "rtpmap:")) {
        parse_rtpmap(v + 7, vn - 7, &fs);
      } else if (m && starts(v, vn, "fmtp:")) {
        parse_fmtp(v + 5, vn - 5, &fs);
      } else if (m && starts(v, vn, "ssrc:") && m->ssrc == 0) {
        const char *q = v + 5;
        long long s = num(&q, v + vn);
        if (s > 0 && s <= 0xFFFFFFFFll) m->ssrc = (uint32_t)s;
      } else if (m && vn == 8 && memcmp(v, "sendrecv", 8) == 0) {
        m->dir = NOOM_SDP_SENDRECV;
      } else if (m && vn == 8 && memcmp(v, "sendonly", 8) == 0) {
        m->dir = NOOM_SDP_SENDONLY;
      } else if (m && vn == 8 && memcmp(v, "recvonly", 8) == 0) {
        m->dir = NOOM_SDP_RECVONLY;
      } else if (m && vn == 8 && memcmp(v, "inactive", 8) == 0) {
        m->dir = NOOM_SDP_INACTIVE;
      }
    }
    p = next;
  }
  if (m) finish_media(m, &fs);
  if (o->nmedia == 0) return *err = "the offer has no m-lines", -1;
  if (!o->ufrag[0] || !o->pwd[0]) return *err = "the offer has no ICE credentials", -1;
  if (!o->has_fingerprint) return *err = "the offer has no sha-256 DTLS fingerprint", -1;
  for (size_t i = 0; i < o->nmedia; i++) {
    if (!o->media[i].mid[0]) return *err = "every m-line needs a mid (BUNDLE)", -1;
    for (size_t j = 0; j < i; j++)
      if (strcmp(o->media[i].mid, o->media[j].mid) == 0) return *err = "duplicate mid", -1;
  }
  return 0;
}

/* ---- the answer ---- */

typedef struct {
  char *p;
  size_t cap, n;
  int full;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...) {
  if (o->full) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= o->cap - o->n) {
    o->full = 1;
    return;
  }
  o->n += (size_t)k;
}

static const char *dir_name(int d) {
  static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
  return names[d & 3];
}

size_t noom_sdp_write_answer(const noom_sdp_offer_t *of, const noom_sdp_answer_t *a, char *buf, size_t cap) {
  out_t o = {buf, cap, 0, 0};
  if (cap == 0) return 0;
  put(&o, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=noom\r\nt=0 0\r\na=ice-lite\r\na=group:BUNDLE",
      (unsigned long long)a->session_id, (unsigned long long)a->version);
  for (size_t i = 0; i < of->nmedia; i++)
    if (!of->media[i].rejected) put(&o, " %s", of->media[i].mid);
  put(&o, "\r\na=msid-semantic: WMS *\r\n");
  for (size_t i = 0; i < of->nmedia; i++) {
    const noom_sdp_media_t *m = &of->media[i];
    const noom_sdp_answer_media_t *am = &a->media[i];
    const char *kind = m->kind == NOOM_SDP_AUDIO ? "audio" : m->kind == NOOM_SDP_VIDEO ? "video" : "application";
    if (m->rejected) {
      /* Rejected sections keep their place (and mid) with port 0 (JSEP 5.3.1). */
      if (m->kind == NOOM_SDP_OTHER) put(&o, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n");
      else put(&o, "m=%s 0 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n", kind, m->pt >= 0 ? m->pt : 0);
      put(&o, "a=mid:%s\r\na=inactive\r\n", m->mid);
      continue;
    }
    /* RTX only toward a subscriber (we send it); publishers' retransmissions stay plain. */
    int rtx = am->dir == NOOM_SDP_SENDONLY && am->rtx_ssrc && m->rtx_pt >= 0;
    if (rtx) put(&o, "m=%s 9 UDP/TLS/RTP/SAVPF %d %d\r\n", kind, m->pt, m->rtx_pt);
    else put(&o, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n", kind, m->pt);
    put(&o, "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
    put(&o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:passive\r\na=mid:%s\r\n",
        a->ufrag, a->pwd, a->fingerprint, m->mid);
    put(&o, "a=%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n", dir_name(am->dir));
    if (m->channels > 1) put(&o, "a=rtpmap:%d %s/%u/%d\r\n", m->pt, m->codec, m->clock, m->channels);
    else put(&o, "a=rtpmap:%d %s/%u\r\n", m->pt, m->codec, m->clock);
    if (m->fmtp[0]) put(&o, "a=fmtp:%d %s\r\n", m->pt, m->fmtp);
    if (m->kind == NOOM_SDP_VIDEO)
      put(&o, "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\na=rtcp-fb:%d goog-remb\r\n", m->pt,
          m->pt, m->pt, m->pt);
    if (rtx) put(&o, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", m->rtx_pt, m->rtx_pt, m->pt);
    if (am->dir == NOOM_SDP_SENDONLY && am->msid_stream && am->ssrc) {
      put(&o, "a=msid:%s %s\r\n", am->msid_stream, am->msid_track);
      if (rtx) put(&o, "a=ssrc-group:FID %u %u\r\n", am->ssrc, am->rtx_ssrc);
      put(&o, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", am->ssrc, am->msid_stream, am->ssrc, am->msid_stream,
          am->msid_track);
      if (rtx)
        put(&o, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", am->rtx_ssrc, am->msid_stream, am->rtx_ssrc,
            am->msid_stream, am->msid_track);
    }
    for (size_t k = 0; k < a->nips; k++)
      put(&o, "a=candidate:%zu 1 udp %u %s %d typ host\r\n", k + 1, 2130706431u - (unsigned)k, a->ips[k], a->port);
    put(&o, "a=end-of-candidates\r\n");
  }
  return o.full ? 0 : o.n;
}
