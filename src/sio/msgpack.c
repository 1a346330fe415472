/*
 * msgpack <-> jansson trees with binary attachments, the way notepack.io (2.x and 3.0)
 * reads and writes JavaScript values. Two users: the msgpack packet parser
 * (sio/mpparser.c, socket.io-msgpack-parser) and the Redis adapter's messages
 * (adapter/redis_codec.c).
 *
 * Encoding goes through msgpack-c's packer (msgpack/pack.h) writing into an sio__buf_t;
 * msgpack-c picks the same formats as notepack (smallest integer, uint for non-negative,
 * str8 from 32 bytes), and this file picks what notepack picks above that: integral
 * numbers as integers, everything else as float 64, JavaScript's key order.
 *
 * Decoding is our own bounded reader, not msgpack_unpack: msgpack-c's unpacker allocates
 * an array of n objects as soon as it reads a header claiming n elements (5 input bytes
 * can ask for 100 GB), and it allocates with malloc, outside the allocator hook that the
 * OOM tests and the fuzzer's leak checks rely on. Here every count is checked against the
 * bytes left first, nesting is capped, and every allocation is ours or jansson's.
 *
 * Layer: sio, sans-IO.
 */
#include "sio/msgpack.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "engine/engine.h"
#include "sio/errors.h"
#include "sio/parser.h"
#include "ws/utf8.h"

void sio__mp_value_free(sio__mp_value_t *v) {
  json_decref(v->root);
  for (uint32_t i = 0; i < v->natt; i++) sio__refbuf_unref(v->att[i]);
  sio__free(v->att);
  memset(v, 0, sizeof *v);
}

/* ---------------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------------ */

typedef struct {
  const uint8_t *p, *end;
  sio__mp_value_t *v;
  int depth;
} reader_t;

static size_t left(const reader_t *r) { return (size_t)(r->end - r->p); }

static uint64_t be(const uint8_t *p, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n; i++) x = x << 8 | p[i];
  return x;
}

/* Reads an n-byte big-endian unsigned number. */
static int take(reader_t *r, int n, uint64_t *out) {
  if (left(r) < (size_t)n) return SIO_EPROTO;
  *out = be(r->p, n);
  r->p += n;
  return 0;
}

static json_t *string_value(reader_t *r, size_t n, int *err) {
  if (left(r) < n) {
    *err = SIO_EPROTO;
    return NULL;
  }
  const char *s = (const char *)r->p;
  r->p += n;
  if (!sio__utf8_valid(s, n)) {
    *err = SIO_EUTF8;
    return NULL;
  }
  json_t *v = json_stringn_nocheck(s, n);
  if (v == NULL) *err = SIO_ENOMEM;
  return v;
}

/* Keeps n bytes as an attachment and returns its placeholder. */
static json_t *binary_value(reader_t *r, size_t n, int *err) {
  if (left(r) < n) {
    *err = SIO_EPROTO;
    return NULL;
  }
  sio__mp_value_t *v = r->v;
  if (v->natt >= SIO__MP_MAX_ATTACHMENTS) {
    *err = SIO_ELIMIT;
    return NULL;
  }
  if (v->natt == v->cap) {
    uint32_t cap = v->cap ? v->cap * 2 : 4;
    sio__refbuf_t **a = sio__realloc(v->att, cap * sizeof *a);
    if (a == NULL) {
      *err = SIO_ENOMEM;
      return NULL;
    }
    v->att = a;
    v->cap = cap;
  }
  /* Headroom: the attachment goes out as an Engine.IO binary message as it is. */
  sio__refbuf_t *rb = sio__refbuf_from(SIO__EIO_HEADROOM, r->p, n);
  json_t *ph = rb ? sio__placeholder_new(v->natt) : NULL;
  if (ph == NULL) {
    sio__refbuf_unref(rb);
    *err = SIO_ENOMEM;
    return NULL;
  }
  r->p += n;
  v->att[v->natt++] = rb;
  return ph;
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian), for any int64 day count
 * a valid JS Date can reach. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* What JSON.stringify prints for new Date(ms): Date#toJSON, i.e. toISOString
 * ("1970-01-01T00:00:00.000Z", six-digit signed years outside 0..9999), or null for an
 * invalid date (|ms| > 8.64e15, ECMA-262 §21.4.1.31 TimeClip). */
static json_t *date_value(double ms, int *err) {
  if (!(fabs(ms) <= 8.64e15)) return json_null();
  int64_t t = (int64_t)ms; /* TimeClip truncates toward zero */
  int64_t days = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
  int64_t rem = t - days * 86400000;
  int64_t y;
  int mo, d;
  civil_from_days(days, &y, &mo, &d);
  char buf[64];
  char year[24];
  if (y >= 0 && y <= 9999) snprintf(year, sizeof year, "%04lld", (long long)y);
  else snprintf(year, sizeof year, "%c%06lld", y < 0 ? '-' : '+', (long long)(y < 0 ? -y : y));
  snprintf(buf, sizeof buf, "%s-%02d-%02dT%02d:%02d:%02d.%03dZ", year, mo, d, (int)(rem / 3600000),
           (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
  json_t *v = json_string(buf);
  if (v == NULL) *err = SIO_ENOMEM;
  return v;
}

static json_t *read_value(reader_t *r, int *undefined, int *err);

/* How an ext value was framed: notepack reads each form a little differently. */
enum { EXT8, EXT16_32, FIXEXT };

/* An ext value of type `type` and n data bytes (notepack's readings). */
static json_t *ext_value(reader_t *r, int type, size_t n, int form, int *undefined, int *err) {
  int fixext = form == FIXEXT;
  if (left(r) < n) {
    *err = SIO_EPROTO;
    return NULL;
  }
  if (type == 0 && fixext && n == 1) {
    /* notepack's old encoding of `undefined`. */
    r->p += 1;
    *undefined = 1;
    return NULL;
  }
  if (type == 0 && !fixext) return binary_value(r, n, err); /* old ArrayBuffer form */
  if (type == 0 && fixext && n == 8) {
    /* notepack's old date form: int64 milliseconds. */
    int64_t ms = (int64_t)be(r->p, 8);
    r->p += 8;
    return date_value((double)ms, err);
  }
  if (type == -1 && ((fixext && (n == 4 || n == 8)) || (form == EXT8 && n == 12))) {
    /* msgpack timestamps 32 / 64 / 96. */
    const uint8_t *p = r->p;
    double s, ns = 0;
    if (n == 4) {
      s = (double)be(p, 4);
    } else if (n == 8) {
      uint64_t x = be(p, 8);
      ns = (double)(x >> 34);
      s = (double)(x & 0x3ffffffffULL);
    } else {
      ns = (double)be(p, 4);
      s = (double)(int64_t)be(p + 4, 8);
    }
    r->p += n;
    return date_value(s * 1e3 + ns / 1e6, err);
  }
  /* Anything else: [type, <bytes>], as notepack returns it. */
  json_t *arr = json_array();
  json_t *bin = arr ? binary_value(r, n, err) : NULL;
  if (arr == NULL || bin == NULL || json_array_append_new(arr, json_integer(type)) != 0 ||
      json_array_append_new(arr, bin) != 0) {
    if (arr == NULL) *err = SIO_ENOMEM;
    else if (*err == 0) *err = SIO_ENOMEM;
    json_decref(arr);
    return NULL;
  }
  return arr;
}

static json_t *array_value(reader_t *r, uint64_t n, int *err) {
  /* Every element takes at least one byte: a larger count is a lie. */
  if (n > left(r)) {
    *err = SIO_EPROTO;
    return NULL;
  }
  json_t *arr = json_array();
  if (arr == NULL) {
    *err = SIO_ENOMEM;
    return NULL;
  }
  for (uint64_t i = 0; i < n; i++) {
    int undef = 0;
    json_t *e = read_value(r, &undef, err);
    if (e == NULL && !undef) {
      json_decref(arr);
      return NULL;
    }
    /* `undefined` in an array is null once serialised (JSON.stringify). */
    if (e == NULL) e = json_null();
    if (json_array_append_new(arr, e) != 0) {
      *err = SIO_ENOMEM;
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

/* A map key: a string, or an integer (JS turns property keys into strings). */
static int read_key(reader_t *r, char *num, const char **k, size_t *klen, int *err) {
  if (left(r) < 1) return *err = SIO_EPROTO;
  uint8_t b = *r->p;
  uint64_t n = 0;
  if ((b & 0xe0) == 0xa0 || b == 0xd9 || b == 0xda || b == 0xdb) {
    r->p++;
    if (b == 0xd9 && take(r, 1, &n)) return *err = SIO_EPROTO;
    if (b == 0xda && take(r, 2, &n)) return *err = SIO_EPROTO;
    if (b == 0xdb && take(r, 4, &n)) return *err = SIO_EPROTO;
    if ((b & 0xe0) == 0xa0) n = b & 0x1f;
    if (left(r) < n) return *err = SIO_EPROTO;
    *k = (const char *)r->p;
    *klen = (size_t)n;
    r->p += n;
    if (!sio__utf8_valid(*k, *klen)) return *err = SIO_EUTF8;
    if (memchr(*k, 0, *klen) != NULL) return *err = SIO_EPROTO;
    return 0;
  }
  int undef = 0;
  json_t *v = read_value(r, &undef, err);
  if (!json_is_integer(v)) {
    json_decref(v);
    if (*err == 0) *err = SIO_EPROTO;
    return *err;
  }
  snprintf(num, 24, "%lld", (long long)json_integer_value(v));
  json_decref(v);
  *k = num;
  *klen = strlen(num);
  return 0;
}

static json_t *map_value(reader_t *r, uint64_t n, int *err) {
  /* A pair takes at least two bytes. */
  if (n > left(r) / 2) {
    *err = SIO_EPROTO;
    return NULL;
  }
  json_t *obj = json_object();
  if (obj == NULL) {
    *err = SIO_ENOMEM;
    return NULL;
  }
  for (uint64_t i = 0; i < n; i++) {
    char num[24];
    const char *k;
    size_t klen;
    int undef = 0;
    if (read_key(r, num, &k, &klen, err) != 0) break;
    /* A key given twice: JS objects cannot have that, and the first value's binary
     * parts would be orphaned attachments. Refused. */
    if (json_object_getn(obj, k, klen) != NULL) {
      *err = SIO_EPROTO;
      break;
    }
    json_t *v = read_value(r, &undef, err);
    if (v == NULL && !undef) break;
    /* A member set to `undefined` does not exist (JSON.stringify leaves it out). */
    if (v == NULL) continue;
    if (json_object_setn_new_nocheck(obj, k, klen, v) != 0) {
      *err = SIO_ENOMEM;
      break;
    }
  }
  if (*err == 0 && json_is_true(json_object_get(obj, "_placeholder"))) *err = SIO_EPROTO;
  if (*err) {
    json_decref(obj);
    return NULL;
  }
  return obj;
}

/* Reads one value. Returns it (new reference), or NULL with *undefined set for
 * notepack's `undefined`, or NULL with *err set. */
static json_t *read_value(reader_t *r, int *undefined, int *err) {
  if (left(r) < 1) {
    *err = SIO_EPROTO;
    return NULL;
  }
  if (r->depth > SIO__MP_MAX_DEPTH) { /* SIO__MP_MAX_DEPTH containers, then a value */
    *err = SIO_ELIMIT;
    return NULL;
  }
  uint8_t b = *r->p++;
  uint64_t n = 0;
  json_t *v = NULL;
  r->depth++;
  if (b < 0x80) v = json_integer(b);                                   /* positive fixint */
  else if (b < 0x90) v = map_value(r, b & 0x0f, err);                  /* fixmap */
  else if (b < 0xa0) v = array_value(r, b & 0x0f, err);                /* fixarray */
  else if (b < 0xc0) v = string_value(r, b & 0x1f, err);               /* fixstr */
  else if (b >= 0xe0) v = json_integer((int8_t)b);                     /* negative fixint */
  else {
    static const uint8_t width[] = {
        /* c4..c6 bin */ 1, 2, 4, /* c7..c9 ext */ 1, 2, 4, /* ca cb float */ 4, 8,
        /* cc..cf uint */ 1, 2, 4, 8, /* d0..d3 int */ 1, 2, 4, 8,
        /* d4..d8 fixext */ 0, 0, 0, 0, 0, /* d9..db str */ 1, 2, 4,
        /* dc dd array */ 2, 4, /* de df map */ 2, 4};
    if (b == 0xc0) v = json_null();
    else if (b == 0xc2) v = json_false();
    else if (b == 0xc3) v = json_true();
    else if (b < 0xc4) *err = SIO_EPROTO; /* 0xc1: never used */
    else if (width[b - 0xc4] && take(r, width[b - 0xc4], &n) != 0) *err = SIO_EPROTO;
    else if (b <= 0xc6) v = binary_value(r, (size_t)n, err);
    else if (b <= 0xc9) {
      uint64_t type;
      if (take(r, 1, &type) != 0) *err = SIO_EPROTO;
      else v = ext_value(r, (int8_t)type, (size_t)n, b == 0xc7 ? EXT8 : EXT16_32, undefined, err);
    } else if (b == 0xca) {
      union { uint32_t u; float f; } u = {(uint32_t)n};
      v = isfinite(u.f) ? json_real(u.f) : json_null();
    } else if (b == 0xcb) {
      union { uint64_t u; double d; } u = {n};
      /* JSON.stringify(NaN) is null: a JS peer would send null on. */
      v = isfinite(u.d) ? json_real(u.d) : json_null();
    } else if (b <= 0xcf) {
      v = n <= INT64_MAX ? json_integer((json_int_t)n) : json_real((double)n);
    } else if (b <= 0xd3) {
      int bits = 8 << (b - 0xd0);
      int64_t s = bits == 64 ? (int64_t)n : (int64_t)(n ^ (1ULL << (bits - 1))) - (int64_t)(1ULL << (bits - 1));
      v = json_integer(s);
    } else if (b <= 0xd8) {
      uint64_t type;
      if (take(r, 1, &type) != 0) *err = SIO_EPROTO;
      else v = ext_value(r, (int8_t)type, (size_t)1 << (b - 0xd4), FIXEXT, undefined, err);
    } else if (b <= 0xdb) v = string_value(r, (size_t)n, err);
    else if (b <= 0xdd) v = array_value(r, n, err);
    else v = map_value(r, n, err);
  }
  r->depth--;
  if (v == NULL && *err == 0 && !*undefined) *err = SIO_ENOMEM;
  return v;
}

int sio__mp_decode(const char *buf, size_t len, sio__mp_value_t *out) {
  sio__mp_value_t v = {NULL, NULL, 0, 0};
  reader_t r = {(const uint8_t *)buf, (const uint8_t *)buf + len, &v, 0};
  int err = 0, undef = 0;
  json_t *root = read_value(&r, &undef, &err);
  if (root == NULL && undef) root = json_null();
  if (err == 0 && root == NULL) err = SIO_ENOMEM;
  if (err == 0 && r.p != r.end) err = SIO_EPROTO; /* notepack: "N trailing bytes" */
  if (err) {
    json_decref(root);
    sio__mp_value_free(&v);
    return err;
  }
  v.root = root;
  *out = v;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------------ */

static int buf_write(void *data, const char *bytes, size_t len) {
  return sio__buf_append(data, bytes, len) == 0 ? 0 : -1;
}

int sio__mp_pack_str(sio__mp_writer_t *w, const char *s, size_t len) {
  return msgpack_pack_str(&w->pk, len) || msgpack_pack_str_body(&w->pk, s, len) ? SIO_ENOMEM : 0;
}

int sio__mp_pack_cstr(sio__mp_writer_t *w, const char *s) { return sio__mp_pack_str(w, s, strlen(s)); }

/*
 * A number as notepack writes the JS number it stands for: integral values as the
 * smallest integer format (uint formats when >= 0, so -0 is 0x00), anything else
 * (fractions, NaN, infinities) as float 64. Past 2^64 notepack's arithmetic breaks;
 * those are written as float 64.
 */
int sio__mp_pack_number(sio__mp_writer_t *w, double d) {
  if (isfinite(d) && floor(d) == d) {
    if (d >= 0 && d < 18446744073709551616.0) return msgpack_pack_uint64(&w->pk, (uint64_t)d) ? SIO_ENOMEM : 0;
    if (d < 0 && d >= -9223372036854775808.0) return msgpack_pack_int64(&w->pk, (int64_t)d) ? SIO_ENOMEM : 0;
  }
  return msgpack_pack_double(&w->pk, d) ? SIO_ENOMEM : 0;
}

static int pack_integer(sio__mp_writer_t *w, json_int_t v) {
  /* Within +-2^53 a JS number holds it exactly; beyond, a JS peer holds the nearest
   * double, and that is what it would send on. */
  if (v >= -9007199254740992LL && v <= 9007199254740992LL) {
    return (v >= 0 ? msgpack_pack_uint64(&w->pk, (uint64_t)v) : msgpack_pack_int64(&w->pk, v)) ? SIO_ENOMEM : 0;
  }
  return sio__mp_pack_number(w, (double)v);
}

/* A canonical array index ("0", "17"; not "017" or "-1"), up to 2^32 - 2. */
static int index_key(const char *k, size_t len, uint32_t *out) {
  if (len == 0 || len > 10 || (len > 1 && k[0] == '0')) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < len; i++) {
    if (k[i] < '0' || k[i] > '9') return 0;
    x = x * 10 + (uint64_t)(k[i] - '0');
  }
  if (x > 4294967294ULL) return 0;
  *out = (uint32_t)x;
  return 1;
}

typedef struct {
  uint32_t idx;
  void *iter;
} key_t_;


/*
 * An object, members in the order Object.keys gives them (ECMA-262 §10.1.11.1
 * OrdinaryOwnPropertyKeys): array-index keys ascending first, then the others in
 * insertion order (jansson 2.14 keeps it). notepack walks Object.keys, so a Node peer
 * encodes {"b":1,"1":2} as {"1":2,"b":1}, and so do we.
 */
static int pack_object(sio__mp_writer_t *w, const json_t *obj) {
  size_t n = json_object_size(obj), nidx = 0;
  key_t_ small[16], *keys = small;
  if (n > 16 && (keys = sio__malloc(n * sizeof *keys)) == NULL) return SIO_ENOMEM;
  int r = msgpack_pack_map(&w->pk, n) ? SIO_ENOMEM : 0;
  /* Pass 1: collect index keys, kept sorted by insertion (n is small in practice). */
  for (void *it = json_object_iter((json_t *)obj); it && r == 0; it = json_object_iter_next((json_t *)obj, it)) {
    const char *k = json_object_iter_key(it);
    uint32_t idx;
    if (!index_key(k, json_object_iter_key_len(it), &idx)) continue;
    size_t at = nidx++;
    while (at > 0 && keys[at - 1].idx > idx) {
      keys[at] = keys[at - 1];
      at--;
    }
    keys[at] = (key_t_){idx, it};
  }
  for (size_t i = 0; i < nidx && r == 0; i++) {
    r = sio__mp_pack_str(w, json_object_iter_key(keys[i].iter), json_object_iter_key_len(keys[i].iter));
    if (r == 0) r = sio__mp_pack_value(w, json_object_iter_value(keys[i].iter));
  }
  /* Pass 2: the other keys, in insertion order. */
  for (void *it = json_object_iter((json_t *)obj); it && r == 0; it = json_object_iter_next((json_t *)obj, it)) {
    uint32_t idx;
    const char *k = json_object_iter_key(it);
    size_t klen = json_object_iter_key_len(it);
    if (index_key(k, klen, &idx)) continue;
    r = sio__mp_pack_str(w, k, klen);
    if (r == 0) r = sio__mp_pack_value(w, json_object_iter_value(it));
  }
  if (keys != small) sio__free(keys);
  return r;
}

int sio__mp_pack_value(sio__mp_writer_t *w, const json_t *v) {
  uint32_t num;
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    if (sio__placeholder_num(v, &num) && num < w->natt) {
      sio__refbuf_t *b = w->att[num];
      return msgpack_pack_bin(&w->pk, b->len) || msgpack_pack_bin_body(&w->pk, sio__refbuf_ptr(b), b->len) ? SIO_ENOMEM
                                                                                                          : 0;
    }
    return pack_object(w, v);
  case JSON_ARRAY: {
    size_t n = json_array_size(v);
    if (msgpack_pack_array(&w->pk, n)) return SIO_ENOMEM;
    for (size_t i = 0; i < n; i++) {
      int r = sio__mp_pack_value(w, json_array_get(v, i));
      if (r) return r;
    }
    return 0;
  }
  case JSON_STRING: return sio__mp_pack_str(w, json_string_value(v), json_string_length(v));
  case JSON_INTEGER: return pack_integer(w, json_integer_value(v));
  case JSON_REAL: return sio__mp_pack_number(w, json_real_value(v));
  case JSON_TRUE: return msgpack_pack_true(&w->pk) ? SIO_ENOMEM : 0;
  case JSON_FALSE: return msgpack_pack_false(&w->pk) ? SIO_ENOMEM : 0;
  default: return msgpack_pack_nil(&w->pk) ? SIO_ENOMEM : 0;
  }
}

void sio__mp_writer_init(sio__mp_writer_t *w, sio__buf_t *out, sio__refbuf_t *const *att, uint32_t natt) {
  msgpack_packer_init(&w->pk, out, buf_write);
  w->att = att;
  w->natt = natt;
}

int sio__mp_encode(sio__buf_t *out, const json_t *v, sio__refbuf_t *const *att, uint32_t natt) {
  size_t mark = out->len;
  sio__mp_writer_t w;
  sio__mp_writer_init(&w, out, att, natt);
  int r = sio__mp_pack_value(&w, v);
  if (r) out->len = mark;
  return r;
}

