/*
 * permessage-deflate (RFC 7692): offer parsing and answer (§5, §7.1, with ws's
 * PerMessageDeflate.acceptAsServer choices) and message compression with zlib's raw
 * deflate (§7.2). See deflate.h. zlib, not a hand-written codec: it is the one every
 * peer (Node's ws, browsers) interoperates with, and Debian ships it.
 */
#include "ws/deflate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/alloc.h"
#include "sio/errors.h"

void sio_ws_deflate_opts_init(sio_ws_deflate_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->threshold = 1024;
  o->level = -1;
  o->mem_level = 8;
}

/* ============================== Negotiation ============================== */

/* One parsed offer. Window bits: -1 absent, 0 present without a value (only
 * client_max_window_bits may be), else 8..15. */
typedef struct {
  int snct, cnct, smwb, cmwb;
} offer_t;

/* RFC 7230 tchar. */
static int is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return 1;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

typedef struct {
  const char *p;
  size_t i, n;
} scan_t;

static void skip_ows(scan_t *s) {
  while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t')) s->i++;
}

static size_t token(scan_t *s) {
  size_t a = s->i;
  while (s->i < s->n && is_tchar((unsigned char)s->p[s->i])) s->i++;
  return s->i - a;
}

/* A value: token or quoted-string, unescaped into v (cap bytes). Returns its length,
 * or -1 when malformed or longer than cap. */
static int value(scan_t *s, char *v, size_t cap) {
  size_t k = 0;
  if (s->i < s->n && s->p[s->i] == '"') {
    s->i++;
    for (;;) {
      if (s->i >= s->n) return -1;
      char c = s->p[s->i++];
      if (c == '"') break;
      if (c == '\\') {
        if (s->i >= s->n) return -1;
        c = s->p[s->i++];
      }
      if (k == cap) return -1;
      v[k++] = c;
    }
    return (int)k;
  }
  size_t a = s->i, t = token(s);
  if (t == 0 || t > cap) return -1;
  memcpy(v, s->p + a, t);
  return (int)t;
}

/* "8".."15" (digits only, as ws's /^\d+$/ and its range check). */
static int window_bits(const char *v, int n) {
  if (n < 1 || n > 2) return -1;
  int x = 0;
  for (int i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return -1;
    x = x * 10 + (v[i] - '0');
  }
  return x >= 8 && x <= 15 ? x : -1;
}

/* Skips to just past the next comma outside a quoted-string (or to the end). */
static void skip_offer(scan_t *s) {
  int q = 0;
  while (s->i < s->n) {
    char c = s->p[s->i++];
    if (q && c == '\\') {
      if (s->i < s->n) s->i++;
    } else if (c == '"') {
      q = !q;
    } else if (c == ',' && !q) {
      return;
    }
  }
}

/* Parses the offer at s (ending at ',' or the end), leaving s past its comma. Returns
 * 1 for a valid permessage-deflate offer, 0 otherwise (another extension, or invalid). */
static int parse_offer(scan_t *s, offer_t *o) {
  *o = (offer_t){0, 0, -1, -1};
  skip_ows(s);
  size_t a = s->i, nl = token(s);
  int ours = nl == 18 && strncasecmp(s->p + a, "permessage-deflate", 18) == 0;
  if (nl == 0 || !ours) goto bad;
  for (;;) {
    skip_ows(s);
    if (s->i == s->n) return 1;
    if (s->p[s->i] == ',') {
      s->i++;
      return 1;
    }
    if (s->p[s->i] != ';') goto bad;
    s->i++;
    skip_ows(s);
    size_t pa = s->i, pl = token(s);
    if (pl == 0) goto bad;
    skip_ows(s);
    char v[8];
    int vl = -2; /* no value */
    if (s->i < s->n && s->p[s->i] == '=') {
      s->i++;
      skip_ows(s);
      if ((vl = value(s, v, sizeof v)) < 0) goto bad;
    }
    const char *pn = s->p + pa;
#define IS(lit) (pl == sizeof lit - 1 && strncasecmp(pn, lit, pl) == 0)
    /* §7.1: each parameter at most once; the *_no_context_takeover ones take no value,
     * server_max_window_bits needs one, client_max_window_bits may have one. */
    if (IS("server_no_context_takeover")) {
      if (o->snct || vl != -2) goto bad;
      o->snct = 1;
    } else if (IS("client_no_context_takeover")) {
      if (o->cnct || vl != -2) goto bad;
      o->cnct = 1;
    } else if (IS("server_max_window_bits")) {
      if (o->smwb != -1 || vl == -2 || (o->smwb = window_bits(v, vl)) < 0) goto bad;
    } else if (IS("client_max_window_bits")) {
      if (o->cmwb != -1) goto bad;
      o->cmwb = vl == -2 ? 0 : window_bits(v, vl);
      if (o->cmwb < 0) goto bad;
    } else {
      goto bad; /* §5.1: an unknown parameter declines the offer */
    }
#undef IS
  }
bad:
  skip_offer(s);
  return 0;
}

/* Whether opts can honour o (ws acceptAsServer's filter, plus zlib's 9-bit floor). */
static int acceptable(const sio_ws_deflate_opts_t *opts, const offer_t *o) {
  if (o->smwb != -1) {
    if (o->smwb < 9) return 0; /* zlib refuses an 8-bit raw deflate window */
    if (opts->server_max_window_bits && opts->server_max_window_bits > o->smwb) return 0;
  }
  if (opts->client_max_window_bits && o->cmwb == -1) return 0;
  return 1;
}

static int clamp_bits(int b, int lo) { return b < lo ? lo : b > 15 ? 15 : b; }

int sio__ws_pmd_negotiate(const sio_ws_deflate_opts_t *opts, const char *v, size_t len, sio__ws_pmd_params_t *out,
                          char answer[SIO__WS_PMD_ANSWER_MAX]) {
  if (!opts->enabled || v == NULL) return 0;
  scan_t s = {v, 0, len};
  offer_t o;
  int found = 0;
  while (s.i < s.n) {
    if (parse_offer(&s, &o) && acceptable(opts, &o)) {
      found = 1;
      break;
    }
  }
  if (!found) return 0;
  sio__ws_pmd_params_t p = {0, 0, 0, 0};
  p.server_no_context_takeover = opts->server_no_context_takeover || o.snct;
  p.client_no_context_takeover = opts->client_no_context_takeover || o.cnct;
  if (opts->server_max_window_bits) p.server_max_window_bits = (uint8_t)clamp_bits(opts->server_max_window_bits, 9);
  else if (o.smwb > 0) p.server_max_window_bits = (uint8_t)o.smwb;
  if (opts->client_max_window_bits) {
    int b = clamp_bits(opts->client_max_window_bits, 8);
    /* §7.1.2.2: never more than the client offered. */
    if (o.cmwb > 0 && o.cmwb < b) b = o.cmwb;
    p.client_max_window_bits = (uint8_t)b;
  } else if (o.cmwb > 0) {
    p.client_max_window_bits = (uint8_t)o.cmwb;
  }
  /* Fits: the longest answer is 128 bytes. */
  size_t k = (size_t)snprintf(answer, SIO__WS_PMD_ANSWER_MAX, "permessage-deflate%s%s",
                              p.server_no_context_takeover ? "; server_no_context_takeover" : "",
                              p.client_no_context_takeover ? "; client_no_context_takeover" : "");
  if (p.server_max_window_bits)
    k += (size_t)snprintf(answer + k, SIO__WS_PMD_ANSWER_MAX - k, "; server_max_window_bits=%d",
                          p.server_max_window_bits);
  if (p.client_max_window_bits)
    snprintf(answer + k, SIO__WS_PMD_ANSWER_MAX - k, "; client_max_window_bits=%d", p.client_max_window_bits);
  *out = p;
  return 1;
}

/* ============================== Compression ============================== */

struct sio__ws_pmd_s {
  z_stream *def, *inf; /* NULL until needed (and again after a message without takeover) */
  size_t threshold;
  sio__ws_pmd_params_t p;
  int8_t level, mem_level;
};

static voidpf z_alloc(voidpf opaque, uInt n, uInt size) {
  (void)opaque;
  return sio__calloc(n, size);
}
static void z_free(voidpf opaque, voidpf ptr) {
  (void)opaque;
  sio__free(ptr);
}

sio__ws_pmd_t *sio__ws_pmd_new(const sio_ws_deflate_opts_t *opts, const sio__ws_pmd_params_t *params) {
  sio__ws_pmd_t *p = sio__calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->threshold = opts->threshold;
  p->p = *params;
  p->level = (int8_t)(opts->level < -1 || opts->level > 9 ? -1 : opts->level);
  p->mem_level = (int8_t)(opts->mem_level < 1 || opts->mem_level > 9 ? 8 : opts->mem_level);
  return p;
}

static void drop_def(sio__ws_pmd_t *p) {
  if (p->def) {
    deflateEnd(p->def);
    sio__free(p->def);
    p->def = NULL;
  }
}

static void drop_inf(sio__ws_pmd_t *p) {
  if (p->inf) {
    inflateEnd(p->inf);
    sio__free(p->inf);
    p->inf = NULL;
  }
}

void sio__ws_pmd_free(sio__ws_pmd_t *p) {
  if (p == NULL) return;
  drop_def(p);
  drop_inf(p);
  sio__free(p);
}

int sio__ws_pmd_wants(const sio__ws_pmd_t *p, size_t len) { return p != NULL && len >= p->threshold; }

int sio__ws_pmd_has_stream(const sio__ws_pmd_t *p, int dir) { return dir ? p->inf != NULL : p->def != NULL; }

static z_stream *new_stream(void) {
  z_stream *z = sio__calloc(1, sizeof *z);
  if (z) {
    z->zalloc = z_alloc;
    z->zfree = z_free;
  }
  return z;
}

int sio__ws_pmd_compress(sio__ws_pmd_t *p, const void *in, size_t len, size_t headroom, sio__refbuf_t **out) {
  if (len > UINT32_MAX / 2) return SIO_ENOMEM; /* zlib's uInt counters */
  if (p->def == NULL) {
    if ((p->def = new_stream()) == NULL) return SIO_ENOMEM;
    int bits = p->p.server_max_window_bits ? p->p.server_max_window_bits : 15;
    /* Negative window bits: raw deflate, no zlib header (§7.2.1). */
    if (deflateInit2(p->def, p->level, Z_DEFLATED, -bits, p->mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
      sio__free(p->def);
      p->def = NULL;
      return SIO_ENOMEM;
    }
  }
  /* deflateBound covers one Z_FINISH call; a sync flush adds an empty stored block
   * (5 bytes) and at most a few bits of the previous block. */
  size_t cap = deflateBound(p->def, (uLong)len) + 16;
  sio__refbuf_t *rb = sio__refbuf_new(headroom, cap);
  if (rb == NULL) {
    drop_def(p);
    return SIO_ENOMEM;
  }
  z_stream *z = p->def;
  z->next_in = (Bytef *)in;
  z->avail_in = (uInt)len;
  z->next_out = (Bytef *)rb->data + headroom;
  z->avail_out = (uInt)cap;
  int r = deflate(z, Z_SYNC_FLUSH);
  if ((r != Z_OK && r != Z_BUF_ERROR) || z->avail_in != 0 || z->avail_out == 0) {
    sio__refbuf_unref(rb);
    drop_def(p);
    return SIO_ENOMEM;
  }
  size_t n = cap - z->avail_out;
  /* §7.2.1: remove the 4 octets 0x00 0x00 0xff 0xff that end the sync flush. */
  if (n >= 4) n -= 4;
  if (n == 0) rb->data[headroom + n++] = 0; /* §7.2.3.6: an empty message is one 0x00 */
  rb->len = n;
  if (p->p.server_no_context_takeover) drop_def(p);
  *out = rb;
  return 0;
}

/* The parameters a no-takeover frame depends on, and the opcode (its header is written
 * in place into the shared headroom, so one opcode per kept frame). Never 0. */
static uint32_t share_key(const sio__ws_pmd_t *p, int binary) {
  uint32_t bits = p->p.server_max_window_bits ? p->p.server_max_window_bits : 15;
  return 1u << 24 | bits << 16 | (uint32_t)(uint8_t)p->level << 8 | (uint32_t)p->mem_level << 1 | (binary != 0);
}

int sio__ws_pmd_compress_shared(sio__ws_pmd_t *p, sio__refbuf_t *src, int binary, size_t headroom,
                                sio__refbuf_t **out) {
  if (!p->p.server_no_context_takeover) return sio__ws_pmd_compress(p, sio__refbuf_ptr(src), src->len, headroom, out);
  uint32_t key = share_key(p, binary);
  if (src->alt != NULL && src->alt_key == key && src->alt->head == headroom) {
    *out = sio__refbuf_ref(src->alt);
    return 0;
  }
  int r = sio__ws_pmd_compress(p, sio__refbuf_ptr(src), src->len, headroom, out);
  if (r == 0) sio__refbuf_set_alt(src, *out, key);
  return r;
}

/* Doubles b's capacity (16 KiB first) but never past limit: the inflate bound is a
 * bound on memory too. */
static int grow(sio__buf_t *b, size_t limit) {
  size_t cap = b->cap ? b->cap * 2 : 16384;
  if (cap > limit || cap < b->cap) cap = limit;
  char *p = sio__realloc(b->base, cap);
  if (p == NULL) return SIO_ENOMEM;
  b->base = p;
  b->cap = cap;
  return 0;
}

int sio__ws_pmd_inflate(sio__ws_pmd_t *p, const void *in, size_t len, size_t max, sio__buf_t *out) {
  static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
  if (len > UINT32_MAX / 2) return SIO_ETOOBIG;
  if (p->inf == NULL) {
    if ((p->inf = new_stream()) == NULL) return SIO_ENOMEM;
    int bits = p->p.client_max_window_bits ? p->p.client_max_window_bits : 15;
    if (inflateInit2(p->inf, -bits) != Z_OK) {
      sio__free(p->inf);
      p->inf = NULL;
      return SIO_ENOMEM;
    }
  }
  z_stream *z = p->inf;
  int rc = 0, ended = 0;
  /* Two inputs: the message, then the tail the sender stripped (§7.2.2). */
  for (int part = 0; part < 2 && rc == 0 && !ended; part++) {
    z->next_in = (Bytef *)(part == 0 ? in : tail);
    z->avail_in = (uInt)(part == 0 ? len : sizeof tail);
    for (;;) {
      /* Room for at most max + 1 bytes in all: one byte over is enough to know. */
      if (out->cap == out->len && grow(out, max + 1) != 0) {
        rc = SIO_ENOMEM;
        break;
      }
      size_t room = out->cap - out->len;
      if (room > max + 1 - out->len) room = max + 1 - out->len;
      if (room > UINT32_MAX / 2) room = UINT32_MAX / 2;
      z->next_out = (Bytef *)out->base + out->len;
      z->avail_out = (uInt)room;
      uInt in_before = z->avail_in;
      int r = inflate(z, Z_SYNC_FLUSH);
      size_t made = room - z->avail_out;
      out->len += made;
      if (out->len > max) {
        rc = SIO_ETOOBIG;
        break;
      }
      if (r == Z_STREAM_END) {
        /* The sender ended its stream (BFINAL set): the next message starts a new one,
         * and nothing may follow the final block but our own tail. */
        if (part == 0 && z->avail_in > 0) rc = SIO_EPROTO;
        else if (inflateReset(z) != Z_OK) rc = SIO_EPROTO;
        ended = 1;
        break;
      }
      if (r == Z_MEM_ERROR) rc = SIO_ENOMEM;
      else if (r != Z_OK && r != Z_BUF_ERROR) rc = SIO_EPROTO; /* data, dictionary, stream */
      if (rc) break;
      if (z->avail_in == 0 && z->avail_out > 0) break; /* all taken in, all given out */
      if (made == 0 && in_before == z->avail_in) {
        rc = SIO_EPROTO; /* no progress with room on both sides: cannot happen with zlib */
        break;
      }
    }
  }
  if (rc != 0 || p->p.client_no_context_takeover) drop_inf(p);
  return rc;
}
