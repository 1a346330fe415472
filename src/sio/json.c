/*
 * JSON.stringify-exact writer for jansson trees (ECMA-262 §25.5.2 JSON.stringify,
 * §6.1.6.1.20 Number::toString). See sio/json.h for the rules it reproduces.
 *
 * Layer: sio, sans-IO. The walk recurses once per nesting level; trees parsed by
 * jansson are at most 2048 levels deep (JSON_PARSER_MAX_DEPTH), which is a few hundred
 * kilobytes of stack at worst. It allocates nothing per node: the only allocation
 * besides the output buffer is one scratch array per call, grown on demand, used to
 * sort array-index keys (rare in Socket.IO payloads).
 */
#include "sio/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"

/* An array-index key waiting to be written, with the iterator that points at it. */
typedef struct {
  uint32_t index;
  void *iter;
} index_key_t;

typedef struct {
  sio__buf_t *out;
  index_key_t *scratch; /* a stack of index keys: each object uses a slice above its parent's */
  size_t cap;
} writer_t;

static int write_value(writer_t *w, const json_t *v, size_t top);

/* ---------------------------------------------------------------------------------
 * Numbers
 * ------------------------------------------------------------------------------ */

/*
 * Extracts the decimal digits and the exponent from printf's "%.*e" output
 * ("-d.ddde+XX"), skipping whatever the locale uses as a decimal point. Trailing
 * zeros are dropped: Number#toString never prints them.
 */
static int split_e(const char *e, char *digits, int *exp10) {
  int k = 0;
  const char *p = e;
  if (*p == '-') p++;
  for (; *p != '\0' && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') digits[k++] = *p;
  *exp10 = (*p == 'e') ? atoi(p + 1) : 0;
  while (k > 1 && digits[k - 1] == '0') k--;
  digits[k] = '\0';
  return k;
}

/*
 * Finds the shortest digit string s (k digits) and n such that s x 10^(n-k) reads back
 * as exactly d, choosing the closest one when several have k digits (the rule of
 * ECMA-262 §6.1.6.1.20 step 5). printf's %.*e rounds correctly, so "%.{k-1}e" is the
 * closest k-digit candidate and we only have to find the smallest k that round-trips.
 *
 * For a normal double, two 15-digit decimals are further apart than the double's
 * rounding interval is wide (1e-15 relative against 2^-52), so if the closest 15-digit
 * candidate round-trips it is the only one, and stripping its trailing zeros yields
 * the shortest. Subnormals have fewer significant bits (5e-324 must print as "5e-324",
 * not "4.94065645841247e-324"), so for them every k from 1 is tried.
 */
static int shortest_digits(double d, char *digits, int *n) {
  char e[40];
  int first = fabs(d) < 2.2250738585072014e-308 ? 1 : 15;
  int exp10 = 0, k = 0;
  for (int prec = first; prec <= 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec - 1, d);
    if (strtod(e, NULL) == d || prec == 17) {
      k = split_e(e, digits, &exp10);
      break;
    }
  }
  *n = exp10 + 1;
  return k;
}

int sio__json_format_double(char *dst, double d) {
  if (!isfinite(d)) {
    memcpy(dst, "null", 5);
    return 4;
  }
  if (d == 0) {
    /* Number::toString(-0) is "0" (step 2 of §6.1.6.1.20). */
    memcpy(dst, "0", 2);
    return 1;
  }

  char digits[24];
  int n, k = shortest_digits(d, digits, &n);
  char *p = dst;
  if (d < 0) *p++ = '-';

  if (k <= n && n <= 21) {
    /* Integral and below 1e21: the digits then n-k zeros ("100", "1e20" -> 21 digits). */
    memcpy(p, digits, (size_t)k);
    p += k;
    for (int i = 0; i < n - k; i++) *p++ = '0';
  } else if (0 < n && n <= 21) {
    /* A decimal point inside the digits ("123.456"). */
    memcpy(p, digits, (size_t)n);
    p += n;
    *p++ = '.';
    memcpy(p, digits + n, (size_t)(k - n));
    p += k - n;
  } else if (-6 < n && n <= 0) {
    /* Small but not tiny: "0.000001" is the last one printed without an exponent. */
    *p++ = '0';
    *p++ = '.';
    for (int i = 0; i < -n; i++) *p++ = '0';
    memcpy(p, digits, (size_t)k);
    p += k;
  } else {
    /* Exponent form: "1e+21", "1.5e-7"; the sign of the exponent is always written. */
    *p++ = digits[0];
    if (k > 1) {
      *p++ = '.';
      memcpy(p, digits + 1, (size_t)(k - 1));
      p += k - 1;
    }
    p += sprintf(p, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
  }
  *p = '\0';
  return (int)(p - dst);
}

static int write_integer(writer_t *w, json_int_t i) {
  /* 2^53: beyond it a JS number cannot hold every integer, and V8 prints the double. */
  const json_int_t max_safe = (json_int_t)1 << 53;
  char tmp[40];
  int len;
  if (i >= -max_safe && i <= max_safe)
    len = snprintf(tmp, sizeof tmp, "%lld", (long long)i);
  else
    len = sio__json_format_double(tmp, (double)i);
  return sio__buf_append(w->out, tmp, (size_t)len);
}

/* ---------------------------------------------------------------------------------
 * Strings
 * ------------------------------------------------------------------------------ */

/* Writes a quoted string, escaping per QuoteJSONString (ECMA-262 §25.5.2.3). Runs of
 * bytes that need no escape are appended in one call. */
static int write_string(writer_t *w, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  int r = sio__buf_append_byte(w->out, '"');
  size_t run = 0;
  for (size_t i = 0; r == 0 && i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    r = sio__buf_append(w->out, s + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        /* Other C0 controls: \u00xx with lowercase hex, as V8 writes them. */
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        n = 6;
    }
    if (r == 0) r = sio__buf_append(w->out, esc, n);
  }
  if (r == 0) r = sio__buf_append(w->out, s + run, len - run);
  if (r == 0) r = sio__buf_append_byte(w->out, '"');
  return r;
}

/* Bytes that QuoteJSONString writes for c: 1, 2 for the short escapes, 6 for \u00xx. */
static const uint8_t esc_size[256] = {
    6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6, /* \b \t \n \f \r */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, /* '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

size_t sio__json_str_size(const char *s, size_t len) {
  size_t n = 2;
  for (size_t i = 0; i < len; i++) n += esc_size[(unsigned char)s[i]];
  return n;
}

char *sio__json_str_put(char *dst, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  *dst++ = '"';
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (esc_size[c] == 1) {
      *dst++ = (char)c;
      continue;
    }
    *dst++ = '\\';
    switch (c) {
      case '"': *dst++ = '"'; break;
      case '\\': *dst++ = '\\'; break;
      case '\b': *dst++ = 'b'; break;
      case '\f': *dst++ = 'f'; break;
      case '\n': *dst++ = 'n'; break;
      case '\r': *dst++ = 'r'; break;
      case '\t': *dst++ = 't'; break;
      default:
        memcpy(dst, "u00", 3);
        dst[3] = hex[c >> 4];
        dst[4] = hex[c & 15];
        dst += 5;
    }
  }
  *dst++ = '"';
  return dst;
}

/* ---------------------------------------------------------------------------------
 * Containers
 * ------------------------------------------------------------------------------ */

/* 1 if key is an array index: canonical decimal ("0" or no leading zero) whose value
 * is at most 2^32 - 2 (ECMA-262 §6.1.7: "an integer index ... < 2^32 - 1"). */
static int array_index(const char *key, size_t len, uint32_t *index) {
  if (len == 0 || len > 10 || (len > 1 && key[0] == '0')) return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (key[i] < '0' || key[i] > '9') return 0;
    v = v * 10 + (uint64_t)(key[i] - '0');
  }
  if (v > UINT32_MAX - 1) return 0;
  *index = (uint32_t)v;
  return 1;
}

static int cmp_index(const void *a, const void *b) {
  uint32_t x = ((const index_key_t *)a)->index, y = ((const index_key_t *)b)->index;
  return (x > y) - (x < y);
}

static int write_member(writer_t *w, void *iter, int *first, size_t top) {
  int r = 0;
  if (!*first) r = sio__buf_append_byte(w->out, ',');
  *first = 0;
  if (r == 0) r = write_string(w, json_object_iter_key(iter), json_object_iter_key_len(iter));
  if (r == 0) r = sio__buf_append_byte(w->out, ':');
  if (r == 0) r = write_value(w, json_object_iter_value(iter), top);
  return r;
}

/*
 * Objects: array-index keys first, ascending, then the others in insertion order. The
 * common case (no index key) takes one pass; otherwise the index keys are collected in
 * w->scratch[top .. top+count), sorted, and nested objects use the slice above.
 */
static int write_object(writer_t *w, const json_t *cv, size_t top) {
  /* jansson's iterator API takes a non-const object; nothing here modifies it. */
  json_t *v = (json_t *)cv;
  size_t count = 0;
  uint32_t index;
  for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it))
    count += array_index(json_object_iter_key(it), json_object_iter_key_len(it), &index);

  if (count > 0 && top + count > w->cap) {
    size_t cap = w->cap ? w->cap : 16;
    while (cap < top + count) cap *= 2;
    index_key_t *s = sio__realloc(w->scratch, cap * sizeof *s);
    if (s == NULL) return SIO_ENOMEM;
    w->scratch = s;
    w->cap = cap;
  }
  size_t n = 0;
  for (void *it = json_object_iter(v); count > 0 && it; it = json_object_iter_next(v, it)) {
    if (array_index(json_object_iter_key(it), json_object_iter_key_len(it), &index))
      w->scratch[top + n++] = (index_key_t){index, it};
  }
  if (count > 1) qsort(w->scratch + top, count, sizeof *w->scratch, cmp_index);

  int first = 1;
  int r = sio__buf_append_byte(w->out, '{');
  /* Re-read scratch by index each time: a nested object may realloc it. */
  for (size_t i = 0; r == 0 && i < count; i++)
    r = write_member(w, w->scratch[top + i].iter, &first, top + count);
  for (void *it = json_object_iter(v); r == 0 && it; it = json_object_iter_next(v, it)) {
    if (count > 0 && array_index(json_object_iter_key(it), json_object_iter_key_len(it), &index))
      continue;
    r = write_member(w, it, &first, top + count);
  }
  if (r == 0) r = sio__buf_append_byte(w->out, '}');
  return r;
}

static int write_array(writer_t *w, const json_t *v, size_t top) {
  int r = sio__buf_append_byte(w->out, '[');
  size_t n = json_array_size(v);
  for (size_t i = 0; r == 0 && i < n; i++) {
    if (i > 0) r = sio__buf_append_byte(w->out, ',');
    if (r == 0) r = write_value(w, json_array_get(v, i), top);
  }
  if (r == 0) r = sio__buf_append_byte(w->out, ']');
  return r;
}

static int write_value(writer_t *w, const json_t *v, size_t top) {
  char tmp[40];
  switch (json_typeof(v)) {
    case JSON_OBJECT: return write_object(w, v, top);
    case JSON_ARRAY: return write_array(w, v, top);
    case JSON_STRING: return write_string(w, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return write_integer(w, json_integer_value(v));
    case JSON_REAL: {
      int len = sio__json_format_double(tmp, json_real_value(v));
      return sio__buf_append(w->out, tmp, (size_t)len);
    }
    case JSON_TRUE: return sio__buf_append(w->out, "true", 4);
    case JSON_FALSE: return sio__buf_append(w->out, "false", 5);
    case JSON_NULL: return sio__buf_append(w->out, "null", 4);
  }
  return sio__buf_append(w->out, "null", 4);
}

int sio__json_write(sio__buf_t *out, const json_t *v) {
  writer_t w = {out, NULL, 0};
  size_t start = out->len;
  int r = write_value(&w, v, 0);
  sio__free(w.scratch);
  /* Leave no half-written value behind: callers append several parts to one buffer. */
  if (r != 0) out->len = start;
  return r;
}
