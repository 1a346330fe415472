/*
 * Content-Encoding: negotiation (npm negotiator 0.6's lib/encoding.js, as used by
 * accepts.encodings()) and zlib compression of whole bodies. See compress.h.
 */
#include "http/compress.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/alloc.h"
#include "sio/errors.h"

/* The best spec in ae for name: negotiator's getEncodingPriority (s: exact 1 / "*" 0,
 * then q, then o = position in ae). Returns 0 when nothing matches. */
typedef struct {
  double q;
  int s, o;
} prio_t;

static int match(sio_str_t ae, const char *name, prio_t *best) {
  int found = 0;
  size_t i = 0;
  for (int pos = 0; i <= ae.len; pos++) {
    size_t j = i;
    while (j < ae.len && ae.ptr[j] != ',') j++;
    /* One item: "token[;q=x]" with optional whitespace. */
    size_t a = i, b = j;
    while (a < b && (ae.ptr[a] == ' ' || ae.ptr[a] == '\t')) a++;
    size_t t = a;
    while (t < b && ae.ptr[t] != ';' && ae.ptr[t] != ' ' && ae.ptr[t] != '\t') t++;
    double q = 1;
    const char *semi = memchr(ae.ptr + t, ';', b - t);
    if (semi) {
      /* parseFloat of the first q= parameter. */
      for (const char *p = semi; p < ae.ptr + b; p++) {
        if (*p == ';') {
          const char *k = p + 1;
          while (k < ae.ptr + b && *k == ' ') k++;
          if (k + 1 < ae.ptr + b && k[0] == 'q' && k[1] == '=') {
            char num[16];
            size_t n = (size_t)(ae.ptr + b - (k + 2));
            if (n >= sizeof num) n = sizeof num - 1;
            memcpy(num, k + 2, n);
            num[n] = '\0';
            q = strtod(num, NULL);
            break;
          }
        }
      }
    }
    size_t tl = t - a;
    if (tl > 0) {
      int s = -1;
      if (tl == strlen(name) && strncasecmp(ae.ptr + a, name, tl) == 0) s = 1;
      else if (tl == 1 && ae.ptr[a] == '*') s = 0;
      if (s >= 0) {
        prio_t p = {q, s, pos};
        /* (priority.s - spec.s || priority.q - spec.q || priority.o - spec.o) < 0 */
        int better = !found || (best->s != p.s ? best->s < p.s : best->q != p.q ? best->q < p.q : best->o < p.o);
        if (better) *best = p;
        found = 1;
      }
    }
    i = j + 1;
  }
  return found;
}

int sio__http_pick_encoding(sio_str_t ae, int offer_deflate) {
  if (ae.ptr == NULL) return SIO__ENC_IDENTITY;
  prio_t g, d;
  int hg = match(ae, "gzip", &g) && g.q > 0;
  int hd = offer_deflate && match(ae, "deflate", &d) && d.q > 0;
  if (hg && hd) {
    /* compareSpecs: q desc, s desc, o asc, then the offered order (gzip first). */
    if (d.q != g.q) return d.q > g.q ? SIO__ENC_DEFLATE : SIO__ENC_GZIP;
    if (d.s != g.s) return d.s > g.s ? SIO__ENC_DEFLATE : SIO__ENC_GZIP;
    if (d.o != g.o) return d.o < g.o ? SIO__ENC_DEFLATE : SIO__ENC_GZIP;
    return SIO__ENC_GZIP;
  }
  return hg ? SIO__ENC_GZIP : hd ? SIO__ENC_DEFLATE : SIO__ENC_IDENTITY;
}

const char *sio__http_encoding_name(int enc) {
  return enc == SIO__ENC_GZIP ? "gzip" : enc == SIO__ENC_DEFLATE ? "deflate" : NULL;
}

static voidpf z_alloc(voidpf opaque, uInt n, uInt size) {
  (void)opaque;
  return sio__calloc(n, size);
}
static void z_free(voidpf opaque, voidpf p) {
  (void)opaque;
  sio__free(p);
}

int sio__http_compress(int enc, const void *in, size_t len, int level, sio__buf_t *out) {
  if (enc != SIO__ENC_GZIP && enc != SIO__ENC_DEFLATE) return SIO_EINVAL;
  z_stream z;
  memset(&z, 0, sizeof z);
  z.zalloc = z_alloc;
  z.zfree = z_free;
  /* windowBits 15 (+16: a gzip header and trailer instead of zlib's); memLevel 8 as Node. */
  if (deflateInit2(&z, level, Z_DEFLATED, enc == SIO__ENC_GZIP ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return SIO_ENOMEM;
  size_t mark = out->len;
  int r = sio__buf_reserve(out, deflateBound(&z, (uLong)len));
  if (r == 0) {
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->base + out->len;
    z.avail_out = (uInt)(out->cap - out->len);
    /* deflateBound guarantees one call finishes. */
    if (deflate(&z, Z_FINISH) == Z_STREAM_END) out->len += z.total_out;
    else r = SIO_ENOMEM;
  }
  deflateEnd(&z);
  if (r) out->len = mark;
  return r;
}

int sio__http_compressible(const char *mime) {
  if (mime == NULL) return 0;
  return strncmp(mime, "text/", 5) == 0 || strstr(mime, "javascript") || strstr(mime, "json") ||
         strstr(mime, "svg") || strstr(mime, "xml");
}
