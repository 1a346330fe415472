/*
 * A validating JSON scanner (RFC 8259 §2-§8) that records the spans of an array's
 * elements and builds nothing: a Socket.IO event's arguments are checked once on
 * arrival and then forwarded as text. See sio/jscan.h for what it accepts; the rule is
 * "exactly what our jansson parse accepts", which fuzz/fuzz_sio_packet.c checks.
 *
 * One pass, no recursion: open containers are a bit stack (1 = object) as deep as
 * jansson allows. Strings are the hot part: runs of plain ASCII are skipped with a
 * table; escapes and UTF-8 sequences are checked one by one.
 * Layer: sio, sans-IO, no allocation.
 */
#include "sio/jscan.h"

#include <string.h>

/* Bytes that may appear in a string as themselves and need no check: printable ASCII
 * but '"' and '\\'. Controls are refused, bytes >= 0x80 start a UTF-8 sequence. */
static const uint8_t plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
};

/*
 * The bytes among the 8 at p that need a look (controls, '"', '\\', >= 0x80) as high
 * bits of a mask, 0 when none does. Bit tricks on one 64-bit word (Hacker's Delight
 * §6-1): a byte below n leaves its high bit in (x - n) & ~x. A borrow can also mark a
 * byte above a marked one, never below, so the lowest mark is exact.
 */
static uint64_t special8(const unsigned char *p) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t x;
  memcpy(&x, p, 8);
  uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
  uint64_t low = (x - ones * 0x20) | (q - ones) | (b - ones);
  return ((low & ~x & ~q & ~b) | x) & highs;
}

/* Offset of the first byte at or after s[i] that is not plain (see plain[]), or len. */
static size_t skip_plain(const unsigned char *s, size_t len, size_t i) {
  for (; len - i >= 8; i += 8) {
    uint64_t m = special8(s + i);
    if (m != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return i + (size_t)(__builtin_ctzll(m) >> 3); /* the first byte is the lowest */
#else
      break;
#endif
    }
  }
  while (i < len && plain[s[i]]) i++;
  return i;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

size_t sio__jscan_ws(const char *s, size_t len, size_t i) {
  while (i < len && is_ws(s[i])) i++;
  return i;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* The code unit of "\uXXXX" whose 'u' is at s[i], or -1. */
static long hex4(const char *s, size_t len, size_t i) {
  if (len - i < 5) return -1;
  long v = 0;
  for (size_t k = 1; k <= 4; k++) {
    int h = hexval(s[i + k]);
    if (h < 0) return -1;
    v = v << 4 | h;
  }
  return v;
}

/* Length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, at
 * most U+10FFFF) starting with a byte >= 0x80 at s[i], or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i) {
  unsigned c = s[i];
  size_t n;
  unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
  if (c < 0xc2) return 0;
  if (c < 0xe0) n = 2;
  else if (c < 0xf0) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;      /* overlong below U+0800 */
    else if (c == 0xed) hi = 0x9f; /* U+D800..U+DFFF */
  } else if (c < 0xf5) {
    n = 4;
    if (c == 0xf0) lo = 0x90;      /* overlong below U+10000 */
    else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
  } else {
    return 0;
  }
  if (len - i < n || s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (size_t k = 2; k < n; k++)
    if ((s[i + k] & 0xc0) != 0x80) return 0;
  return n;
}

/*
 * Checks the string whose opening quote is at s[i - 1]; returns the offset past its
 * closing quote, or 0. *esc is set when it holds an escape. Keys may not hold \u0000
 * (jansson: "NUL byte in object key not supported"). Surrogate escapes must pair up
 * (jansson refuses lone ones although JSON.parse takes them).
 */
static size_t scan_string(const char *s, size_t len, size_t i, int key, int *esc) {
  const unsigned char *u = (const unsigned char *)s;
  for (;;) {
    i = skip_plain(u, len, i);
    if (i >= len) return 0;
    unsigned char c = u[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      *esc = 1;
      if (++i >= len) return 0;
      switch (s[i]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': i++; break;
        case 'u': {
          long cp = hex4(s, len, i);
          if (cp < 0 || (cp == 0 && key)) return 0;
          i += 5;
          if (cp >= 0xdc00 && cp <= 0xdfff) return 0;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (len - i < 2 || s[i] != '\\' || s[i + 1] != 'u') return 0;
            long lo = hex4(s, len, i + 1);
            if (lo < 0xdc00 || lo > 0xdfff) return 0;
            i += 6;
          }
          break;
        }
        default: return 0;
      }
    } else if (c < 0x20) {
      return 0;
    } else {
      size_t n = utf8_seq(u, len, i);
      if (n == 0) return 0;
      i += n;
    }
  }
}

/*
 * Checks the number at s[*pi] (RFC 8259 §6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?)
 * and advances *pi past it. jansson also refuses a number that overflows a double
 * (strtod's HUGE_VAL), so we estimate the decimal magnitude m (the value lies in
 * [10^m, 10^(m+1))): below 308 it fits, above it cannot; at 308 it depends on the
 * digits (DBL_MAX is 1.797...e308) and we leave it to jansson. Underflow is fine.
 */
static int scan_number(const char *s, size_t len, size_t *pi) {
  size_t i = *pi;
  if (s[i] == '-') i++;
  if (i >= len || !is_digit(s[i])) return SIO__JSCAN_INVALID;
  size_t int_start = i;
  if (s[i] == '0') i++;
  else
    while (i < len && is_digit(s[i])) i++;
  size_t int_digits = i - int_start;
  int zero_int = s[int_start] == '0';
  int real = 0;
  long long first_nonzero = -1; /* in the fraction, when the integer part is 0 */
  if (i < len && s[i] == '.') {
    size_t f = ++i;
    while (i < len && is_digit(s[i])) {
      if (first_nonzero < 0 && s[i] != '0') first_nonzero = (long long)(i - f);
      i++;
    }
    if (i == f) return SIO__JSCAN_INVALID;
    real = 1;
  }
  long long e = 0;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    int neg = 0;
    if (++i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    size_t d = i;
    for (; i < len && is_digit(s[i]); i++)
      if (e < 1000000000) e = e * 10 + (s[i] - '0'); /* saturates: m only needs a sign */
    if (i == d) return SIO__JSCAN_INVALID;
    if (neg) e = -e;
    real = 1;
  }
  *pi = i;
  long long m;
  if (!zero_int) m = (long long)int_digits - 1 + e;
  else if (real && first_nonzero >= 0) m = -(first_nonzero + 1) + e;
  else return SIO__JSCAN_OK; /* zero */
  if (m < 308) return SIO__JSCAN_OK;
  return m > 308 ? SIO__JSCAN_INVALID : SIO__JSCAN_UNSURE;
}

int sio__jscan_array(const char *s, size_t len, sio__jspan_t *spans, size_t cap, size_t *count, unsigned *flags) {
  uint8_t objects[SIO__JSCAN_MAX_DEPTH / 8]; /* bit d: the container at depth d is an object */
  size_t depth, n = 0, top = 0, i = sio__jscan_ws(s, len, 0);
  unsigned fl = 0;
  int esc = 0, r;
  if (i >= len || s[i] != '[') return SIO__JSCAN_INVALID;
  objects[0] = 0;
  depth = 1;
  i = sio__jscan_ws(s, len, i + 1);
  if (i < len && s[i] == ']') {
    i++;
    goto done;
  }

value:
  /* A value starts at s[i], inside `depth` open containers: jansson counts it at depth
   * + 1 and allows 2048, so a value inside 2048 containers is one too deep. */
  if (i >= len || depth >= SIO__JSCAN_MAX_DEPTH) return SIO__JSCAN_INVALID;
  if (depth == 1) {
    top = i;
    esc = 0;
  }
  switch (s[i]) {
    case '{':
    case '[': {
      int obj = s[i] == '{';
      uint8_t bit = (uint8_t)(1u << (depth & 7));
      objects[depth >> 3] = obj ? (objects[depth >> 3] | bit) : (objects[depth >> 3] & ~bit);
      depth++;
      i = sio__jscan_ws(s, len, i + 1);
      if (i < len && s[i] == (obj ? '}' : ']')) {
        i++;
        depth--;
        goto after;
      }
      if (obj) goto key;
      goto value;
    }
    case '"':
      if ((i = scan_string(s, len, i + 1, 0, &esc)) == 0) return SIO__JSCAN_INVALID;
      break;
    case 't':
      if (len - i < 4 || memcmp(s + i, "true", 4) != 0) return SIO__JSCAN_INVALID;
      i += 4;
      break;
    case 'f':
      if (len - i < 5 || memcmp(s + i, "false", 5) != 0) return SIO__JSCAN_INVALID;
      i += 5;
      break;
    case 'n':
      if (len - i < 4 || memcmp(s + i, "null", 4) != 0) return SIO__JSCAN_INVALID;
      i += 4;
      break;
    default:
      if ((r = scan_number(s, len, &i)) != SIO__JSCAN_OK) return r;
      break;
  }

after:
  /* A value ended just before s[i]; `depth` containers are still open. */
  if (depth == 1) {
    /* esc also saw the strings inside a container: only a string's own counts. */
    if (n < cap) spans[n] = (sio__jspan_t){top, i - top, esc && s[top] == '"' ? SIO__JSPAN_ESC : 0u};
    n++;
  }
  i = sio__jscan_ws(s, len, i);
  if (i >= len) return SIO__JSCAN_INVALID;
  {
    int obj = (objects[(depth - 1) >> 3] >> ((depth - 1) & 7)) & 1;
    if (s[i] == ',') {
      i = sio__jscan_ws(s, len, i + 1);
      if (obj) goto key;
      goto value;
    }
    if (s[i] != (obj ? '}' : ']')) return SIO__JSCAN_INVALID;
    i++;
    if (--depth == 0) goto done;
    goto after;
  }

key:
  if (i >= len || s[i] != '"') return SIO__JSCAN_INVALID;
  {
    size_t k = i + 1;
    int kesc = 0;
    if ((i = scan_string(s, len, k, 1, &kesc)) == 0) return SIO__JSCAN_INVALID;
    if (kesc || (i - 1 - k == 12 && memcmp(s + k, "_placeholder", 12) == 0)) fl |= SIO__JSCAN_PLACEHOLDER;
  }
  i = sio__jscan_ws(s, len, i);
  if (i >= len || s[i] != ':') return SIO__JSCAN_INVALID;
  i = sio__jscan_ws(s, len, i + 1);
  goto value;

done:
  if (sio__jscan_ws(s, len, i) != len) return SIO__JSCAN_INVALID;
  *count = n;
  *flags = fl;
  return SIO__JSCAN_OK;
}

/* ---------------------------------------------------------------------------------
 * Walking valid text
 * ------------------------------------------------------------------------------ */

/* Past the string whose opening quote is at s[i]. */
static size_t skip_string(const char *s, size_t len, size_t i) {
  for (i++; i < len && s[i] != '"'; i++)
    if (s[i] == '\\') i++;
  return i + 1;
}

size_t sio__jscan_skip(const char *s, size_t len, size_t i) {
  if (s[i] == '"') return skip_string(s, len, i);
  if (s[i] != '{' && s[i] != '[') {
    while (i < len && s[i] != ',' && s[i] != ']' && s[i] != '}' && !is_ws(s[i])) i++;
    return i;
  }
  size_t depth = 0;
  while (i < len) {
    char c = s[i];
    if (c == '"') {
      i = skip_string(s, len, i);
      continue;
    }
    if (c == '{' || c == '[') depth++;
    else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    i++;
  }
  return i;
}

unsigned sio__jscan_value_flags(const char *s, size_t len) {
  return len > 0 && s[0] == '"' && memchr(s, '\\', len) != NULL ? SIO__JSPAN_ESC : 0;
}

/* The next element or member of the container s[0..len) from *pos; 0 at its end. */
static int next_in(const char *s, size_t len, size_t *pos) {
  size_t i = *pos == 0 ? 1 : *pos;
  i = sio__jscan_ws(s, len, i);
  if (i < len && s[i] == ',') i = sio__jscan_ws(s, len, i + 1);
  *pos = i;
  return i < len && s[i] != ']' && s[i] != '}';
}

int sio__jscan_element(const char *s, size_t len, size_t *pos, sio__jspan_t *val) {
  if (!next_in(s, len, pos)) return 0;
  size_t i = *pos, end = sio__jscan_skip(s, len, i);
  *val = (sio__jspan_t){i, end - i, sio__jscan_value_flags(s + i, end - i)};
  *pos = end;
  return 1;
}

int sio__jscan_member(const char *s, size_t len, size_t *pos, sio__jspan_t *key, sio__jspan_t *val) {
  if (!next_in(s, len, pos)) return 0;
  size_t i = *pos, kend = skip_string(s, len, i);
  *key = (sio__jspan_t){i + 1, kend - i - 2, 0};
  key->flags = memchr(s + key->off, '\\', key->len) != NULL ? SIO__JSPAN_ESC : 0;
  i = sio__jscan_ws(s, len, kend) + 1; /* past ':' */
  i = sio__jscan_ws(s, len, i);
  size_t end = sio__jscan_skip(s, len, i);
  *val = (sio__jspan_t){i, end - i, sio__jscan_value_flags(s + i, end - i)};
  *pos = end;
  return 1;
}

/* Writes code point cp as UTF-8; returns the byte count. */
static size_t put_utf8(char *out, unsigned long cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | cp >> 18);
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

size_t sio__jscan_unescape(const char *s, size_t len, char *out) {
  size_t w = 0;
  for (size_t i = 0; i < len;) {
    const char *bs = memchr(s + i, '\\', len - i);
    size_t run = bs ? (size_t)(bs - s) - i : len - i;
    memcpy(out + w, s + i, run);
    w += run;
    i += run;
    if (i >= len) break;
    char c = s[i + 1];
    i += 2;
    switch (c) {
      case 'b': out[w++] = '\b'; break;
      case 'f': out[w++] = '\f'; break;
      case 'n': out[w++] = '\n'; break;
      case 'r': out[w++] = '\r'; break;
      case 't': out[w++] = '\t'; break;
      case 'u': {
        unsigned long cp = (unsigned long)hex4(s, len, i - 1);
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          unsigned long lo = (unsigned long)hex4(s, len, i + 1);
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          i += 6;
        }
        w += put_utf8(out + w, cp);
        break;
      }
      default: out[w++] = c; break; /* '"', '\\', '/' */
    }
  }
  return w;
}

int sio__jscan_small_int(const char *s, size_t len, int64_t *out) {
  size_t i = s[0] == '-' ? 1 : 0;
  if (len - i > 18 || len == i) return 0;
  int64_t v = 0;
  for (size_t k = i; k < len; k++) {
    if (!is_digit(s[k])) return 0;
    v = v * 10 + (s[k] - '0');
  }
  *out = i ? -v : v;
  return 1;
}
