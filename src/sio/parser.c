/*
 * Socket.IO v5 packet codec: text packets in and out (socket.io-protocol v5 §"Packet
 * encoding"; socket.io-parser lib/index.ts Decoder.decodeString / Encoder.encodeAsString).
 * Attachment bookkeeping lives in binary.c.
 *
 * The decoder follows decodeString's grammar but refuses its accidents: Number(" ")
 * is 0 in JS, so socket.io-parser reads `2 ["a"]` as ack id 0 and "" as a CONNECT; we
 * take ASCII digits only and return SIO_EPROTO instead. Everything a peer controls is
 * bounded (attachments, namespace length, ack id, JSON depth via jansson and jscan).
 * Plain events and acks are not parsed into trees: jscan.c checks them and the packet
 * keeps the text (decode_raw); everything else is parsed with jansson.
 * Layer: sio, sans-IO: never touches a socket or a loop.
 */
#include "sio/parser.h"

#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"
#include "sio/jscan.h"
#include "sio/json.h"

/* Event names the server must not accept from a peer: they name local events
 * (socket.io-parser RESERVED_EVENTS). */
static const char *const reserved_events[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

/* ---------------------------------------------------------------------------------
 * Packets and the decoder
 * ------------------------------------------------------------------------------ */

sio__packet_t *sio__packet_new(uint8_t type, const char *nsp) {
  sio__packet_t *p = sio__calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->type = type;
  p->id = -1;
  p->nsp = sio__strdup(nsp != NULL ? nsp : "/");
  if (p->nsp == NULL) {
    sio__free(p);
    return NULL;
  }
  return p;
}

void sio__packet_free(sio__packet_t *p) {
  if (p == NULL) return;
  if (p->raw != NULL) {
    /* One block (see decode_raw); only trees parsed on demand hang off it. */
    for (uint32_t i = 0; i < p->raw->n; i++) json_decref(p->raw->items[i].v);
    sio__free(p);
    return;
  }
  sio__free(p->nsp);
  json_decref(p->data);
  if (p->att != NULL)
    for (uint32_t i = 0; i < p->natt; i++) sio__refbuf_unref(p->att[i]);
  sio__free(p->att);
  sio__free(p);
}

void sio__decoder_init(sio__decoder_t *d) {
  d->max_attachments = SIO__DEFAULT_MAX_ATTACHMENTS;
  d->max_nsp = SIO__DEFAULT_MAX_NSP;
  d->pending = NULL;
}

void sio__decoder_free(sio__decoder_t *d) {
  sio__packet_free(d->pending);
  d->pending = NULL;
}

/* ---------------------------------------------------------------------------------
 * Decoding helpers
 * ------------------------------------------------------------------------------ */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return 0;
    }
    if (len - i <= n) return 0;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += n + 1;
  }
  return 1;
}

/* 1 if e is a real holding an integer that fits json_int_t; sets *i. */
static int integral_real(const json_t *e, json_int_t *i) {
  if (!json_is_real(e)) return 0;
  double x = json_real_value(e);
  /* The range check comes first: converting an out-of-range double is undefined. */
  if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) return 0;
  if (x != (double)(json_int_t)x) return 0;
  *i = (json_int_t)x;
  return 1;
}

/*
 * Turns integral reals back into integers after a JSON_DECODE_INT_AS_REAL parse, so
 * the tree looks as if jansson had only fallen back to a real for the integers that do
 * not fit in int64. Returns 0 or SIO_ENOMEM.
 */
static int restore_integers(json_t *v) {
  json_int_t i;
  if (json_is_array(v)) {
    for (size_t k = 0; k < json_array_size(v); k++) {
      json_t *e = json_array_get(v, k);
      int r = integral_real(e, &i) ? json_array_set_new(v, k, json_integer(i)) : restore_integers(e);
      if (r != 0) return SIO_ENOMEM;
    }
  } else if (json_is_object(v)) {
    for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
      json_t *e = json_object_iter_value(it);
      int r = integral_real(e, &i) ? json_object_iter_set_new(v, it, json_integer(i)) : restore_integers(e);
      if (r != 0) return SIO_ENOMEM;
    }
  }
  return 0;
}

/*
 * Parses exactly one JSON value from s[0..len). Flags: JSON_DECODE_ANY because
 * CONNECT_ERROR may carry a bare string; JSON_ALLOW_NUL because JS strings may hold
 * U+0000; duplicates are not rejected, matching JSON.parse.
 *
 * A JS peer prints every integral number below 1e21 without an exponent, so
 * emit(2 ** 64) arrives as 18446744073709552000, which jansson refuses ("too big
 * integer"). We then parse again with all numbers as reals and restore the integers.
 */
int sio__json_load(const char *s, size_t len, json_t **out) {
  const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
  json_error_t err;
  json_t *v = json_loadb(s, len, flags, &err);
  if (v == NULL && json_error_code(&err) == json_error_numeric_overflow) {
    v = json_loadb(s, len, flags | JSON_DECODE_INT_AS_REAL, &err);
    if (v != NULL && restore_integers(v) != 0) {
      json_decref(v);
      return SIO_ENOMEM;
    }
  }
  if (v == NULL) return json_error_code(&err) == json_error_out_of_memory ? SIO_ENOMEM : SIO_EJSON;
  *out = v;
  return 0;
}

/* 1 if the event name s[0..len) (NUL-terminated) is acceptable: no NUL inside (the
 * layers above hand it out as a C string) and not reserved. */
static int event_name_ok(const char *s, size_t len) {
  if (memchr(s, '\0', len) != NULL) return 0;
  /* Every reserved name is 7 to 14 bytes long. */
  for (size_t i = 0; len >= 7 && len <= 14 && i < sizeof reserved_events / sizeof *reserved_events; i++)
    if (strcmp(s, reserved_events[i]) == 0) return 0;
  return 1;
}

static int event_name_valid(const json_t *name) {
  return json_is_string(name) && event_name_ok(json_string_value(name), json_string_length(name));
}

/* isPayloadValid, strict: see the table in parser.h. data is NULL when absent. */
int sio__payload_valid(uint8_t type, const json_t *data) {
  switch (type) {
    case SIO__PKT_CONNECT: return data == NULL || json_is_object(data);
    case SIO__PKT_DISCONNECT: return data == NULL;
    case SIO__PKT_CONNECT_ERROR: return json_is_string(data) || json_is_object(data);
    case SIO__PKT_EVENT:
    case SIO__PKT_BINARY_EVENT:
      return json_is_array(data) && json_array_size(data) > 0 && event_name_valid(json_array_get(data, 0));
    case SIO__PKT_ACK:
    case SIO__PKT_BINARY_ACK: return json_is_array(data);
  }
  return 0;
}

/* The parsed header: everything before the JSON payload. */
typedef struct {
  uint8_t type;
  uint32_t natt;
  const char *nsp; /* into the input; NULL means "/" */
  size_t nsp_len;
  int64_t id;
  size_t payload; /* offset of the payload; == len when there is none */
} header_t;

/* Reads `<type>[<natt>-][<nsp>,][<id>]`. Returns 0 or an error code (see parser.h). */
static int parse_header(const sio__decoder_t *d, const char *s, size_t len, header_t *h) {
  size_t i = 0;
  /* An empty message would be a CONNECT to "/" for socket.io-parser (Number("") is 0). */
  if (len == 0 || s[0] < '0' || s[0] > '6') return SIO_EPROTO;
  h->type = (uint8_t)(s[i++] - '0');
  h->natt = 0;
  h->nsp = NULL;
  h->nsp_len = 0;
  h->id = -1;

  if (h->type == SIO__PKT_BINARY_EVENT || h->type == SIO__PKT_BINARY_ACK) {
    /* "<digits>-", at least one digit, value >= 1 ("Illegal attachments" upstream).
     * The value saturates so that a long run of digits cannot overflow. */
    uint64_t n = 0;
    size_t start = i;
    for (; i < len && is_digit(s[i]); i++)
      if (n <= UINT32_MAX) n = n * 10 + (uint64_t)(s[i] - '0');
    if (i == start || i == len || s[i] != '-' || n == 0) return SIO_EPROTO;
    if (n > d->max_attachments) return SIO_ELIMIT;
    h->natt = (uint32_t)n;
    i++;
  }

  if (i < len && s[i] == '/') {
    /* The namespace runs to the first ',' or to the end of the message. */
    const char *comma = memchr(s + i, ',', len - i);
    size_t end = comma != NULL ? (size_t)(comma - s) : len;
    h->nsp = s + i;
    h->nsp_len = end - i;
    if (h->nsp_len > d->max_nsp) return SIO_ELIMIT;
    if (memchr(h->nsp, '\0', h->nsp_len) != NULL) return SIO_EPROTO;
    if (!utf8_valid((const unsigned char *)h->nsp, h->nsp_len)) return SIO_EUTF8;
    i = comma != NULL ? end + 1 : end;
  }

  if (i < len && is_digit(s[i])) {
    int64_t id = 0;
    for (; i < len && is_digit(s[i]); i++) {
      id = id * 10 + (s[i] - '0');
      /* Checked at every digit, so id never exceeds 10 * 2^53 and cannot overflow. */
      if (id > SIO__ACK_ID_MAX) return SIO_EPROTO;
    }
    h->id = id;
  }

  /* upstream reads a leading blank as ack id 0 (Number(" ") == 0); refuse the guess. */
  if (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) return SIO_EPROTO;
  /* An ack answers a numbered emit; one without its number cannot be matched. */
  if ((h->type == SIO__PKT_ACK || h->type == SIO__PKT_BINARY_ACK) && h->id < 0) return SIO_EPROTO;
  h->payload = i;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * Plain events and acks: the payload stays text
 * ------------------------------------------------------------------------------ */

/* decode_raw's answer when the scanner leaves the payload to jansson. */
enum { TREE = 1 };

/*
 * A packet in one allocation: the packet, its sio__raw_t, the items, then the bytes
 * (payload text, namespace, event name), so that receiving an event costs one malloc.
 */
static sio__packet_t *raw_block(size_t nitems, size_t bytes) {
  size_t head = sizeof(sio__packet_t) + sizeof(sio__raw_t) + nitems * sizeof(sio__jitem_t);
  sio__packet_t *p = sio__malloc(head + bytes);
  if (p == NULL) return NULL;
  memset(p, 0, sizeof *p + sizeof(sio__raw_t));
  p->raw = (sio__raw_t *)(void *)(p + 1);
  p->raw->items = (sio__jitem_t *)(void *)(p->raw + 1);
  p->raw->n = (uint32_t)nitems;
  p->raw->text = (char *)(p->raw->items + nitems);
  return p;
}

/*
 * The payload j[0..jlen) of a plain EVENT / ACK (h), which starts with '['. Returns 0
 * and *out, SIO_EPROTO (an event without a valid name), SIO_ENOMEM, or TREE when the
 * scanner did not accept it: invalid, possibly holding a placeholder, or unsure about
 * a number; jansson then decides, with the errors it has always given.
 */
static int decode_raw(const header_t *h, const char *j, size_t jlen, sio__packet_t **out) {
  sio__jspan_t small[16], *spans = small;
  size_t n;
  unsigned flags;
  if (sio__jscan_array(j, jlen, spans, 16, &n, &flags) != SIO__JSCAN_OK || (flags & SIO__JSCAN_PLACEHOLDER))
    return TREE;
  if (n > UINT32_MAX) return TREE;
  if (n > 16) {
    if ((spans = sio__malloc(n * sizeof *spans)) == NULL) return SIO_ENOMEM;
    sio__jscan_array(j, jlen, spans, n, &n, &flags);
  }
  /* Trailing white space is not part of the array: the text is forwarded as it is. */
  while (j[jlen - 1] != ']') jlen--;
  int r = 0;
  /* payload_valid for an EVENT: a first element that is a string. */
  if (h->type == SIO__PKT_EVENT && (n == 0 || j[spans[0].off] != '"')) r = SIO_EPROTO;
  size_t nsp_len = h->nsp != NULL ? h->nsp_len : 1;
  size_t ev_len = h->type == SIO__PKT_EVENT && r == 0 ? spans[0].len - 2 : 0;
  sio__packet_t *p = NULL;
  if (r == 0 && (p = raw_block(n, jlen + nsp_len + 1 + ev_len + 1)) == NULL) r = SIO_ENOMEM;
  if (r == 0) {
    sio__raw_t *raw = p->raw;
    char *text = (char *)raw->text;
    memcpy(text, j, jlen);
    raw->len = jlen;
    for (size_t i = 0; i < n; i++) raw->items[i] = (sio__jitem_t){text + spans[i].off, spans[i].len, NULL, spans[i].flags};
    p->type = h->type;
    p->id = h->id;
    p->nsp = text + jlen;
    memcpy(p->nsp, h->nsp != NULL ? h->nsp : "/", nsp_len);
    p->nsp[nsp_len] = '\0';
    if (h->type == SIO__PKT_EVENT) {
      /* The name decoded (escapes never lengthen it), as a C string for the handlers. */
      char *ev = p->nsp + nsp_len + 1;
      const char *body = raw->items[0].text + 1;
      size_t len = raw->items[0].flags & SIO__JSPAN_ESC ? sio__jscan_unescape(body, ev_len, ev) : ev_len;
      if (!(raw->items[0].flags & SIO__JSPAN_ESC)) memcpy(ev, body, ev_len);
      ev[len] = '\0';
      raw->event = ev;
      if (!event_name_ok(ev, len)) r = SIO_EPROTO;
    }
  }
  if (spans != small) sio__free(spans);
  if (r != 0) {
    sio__free(p);
    return r;
  }
  *out = p;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * Decoder entry points
 * ------------------------------------------------------------------------------ */

int sio__decode_text(sio__decoder_t *d, const char *s, size_t len, sio__packet_t **out) {
  *out = NULL;
  if (d->pending != NULL) {
    /* socket.io-parser: "got plaintext data when reconstructing a packet". */
    sio__decoder_free(d);
    return SIO_EPROTO;
  }

  header_t h;
  int r = parse_header(d, s, len, &h);
  if (r != 0) return r;

  json_t *data = NULL;
  if (h.natt == 0 && (h.type == SIO__PKT_EVENT || h.type == SIO__PKT_ACK) && h.payload < len && s[h.payload] == '[') {
    r = decode_raw(&h, s + h.payload, len - h.payload, out);
    if (r != TREE) return r;
  }
  if (h.payload < len && (r = sio__json_load(s + h.payload, len - h.payload, &data)) != 0) return r;
  if (!sio__payload_valid(h.type, data)) r = SIO_EPROTO;
  /* A plain packet has no attachments, so any placeholder in it is refused: the
   * layers above would otherwise take a peer's object for a binary argument. */
  if (r == 0) r = sio__placeholder_check(data, h.natt);

  sio__packet_t *p = NULL;
  if (r == 0) {
    p = sio__calloc(1, sizeof *p);
    if (p == NULL) r = SIO_ENOMEM;
  }
  if (r == 0) {
    p->type = h.type;
    p->id = h.id;
    p->data = data;
    data = NULL;
    p->natt = h.natt;
    p->nsp = h.nsp != NULL ? sio__strndup(h.nsp, h.nsp_len) : sio__strdup("/");
    if (h.natt > 0) p->att = sio__calloc(h.natt, sizeof *p->att);
    if (p->nsp == NULL || (h.natt > 0 && p->att == NULL)) r = SIO_ENOMEM;
  }
  if (r != 0) {
    json_decref(data);
    sio__packet_free(p);
    return r;
  }
  if (h.natt > 0) {
    d->pending = p;
    return SIO_EAGAIN;
  }
  *out = p;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * Encoder
 * ------------------------------------------------------------------------------ */

/* Writes v in decimal at dst; returns the digit count. */
static size_t put_u64(char *dst, uint64_t v) {
  char tmp[24];
  size_t n = sizeof tmp;
  do tmp[--n] = (char)('0' + v % 10), v /= 10;
  while (v > 0);
  memcpy(dst, tmp + n, sizeof tmp - n);
  return sizeof tmp - n;
}

int sio__encode_head(const sio__packet_t *p, char *dst, size_t *len) {
  if (p->type > SIO__PKT_BINARY_ACK) return SIO_EINVAL;
  /* Only events and acks can carry attachments; the binary flavour is chosen by natt,
   * as Encoder.encode picks BINARY_* when hasBinary(data). */
  uint8_t type = p->type == SIO__PKT_BINARY_EVENT ? SIO__PKT_EVENT
                 : p->type == SIO__PKT_BINARY_ACK ? SIO__PKT_ACK
                                                  : p->type;
  if (p->natt > 0) {
    if (type != SIO__PKT_EVENT && type != SIO__PKT_ACK) return SIO_EINVAL;
    type += 3;
  }
  const char *nsp = p->nsp;
  int has_nsp = nsp != NULL && nsp[0] != '\0' && !(nsp[0] == '/' && nsp[1] == '\0');
  /* A ',' ends the namespace on the wire, and one not starting with '/' would be read
   * as part of the ack id or payload: neither could be decoded back. */
  if (has_nsp && (nsp[0] != '/' || strchr(nsp, ',') != NULL)) return SIO_EINVAL;
  if (p->id > SIO__ACK_ID_MAX) return SIO_EINVAL;
  size_t nsp_len = has_nsp ? strlen(nsp) : 0;
  if (dst == NULL) {
    /* A bound, not the size: counting digits costs as much as writing them. */
    *len = 1 + (p->natt > 0 ? 11 : 0) + (has_nsp ? nsp_len + 1 : 0) + (p->id >= 0 ? 16 : 0);
    return 0;
  }
  char *w = dst;
  *w++ = (char)('0' + type);
  if (p->natt > 0) {
    w += put_u64(w, p->natt);
    *w++ = '-';
  }
  if (has_nsp) {
    memcpy(w, nsp, nsp_len);
    w += nsp_len;
    *w++ = ',';
  }
  if (p->id >= 0) w += put_u64(w, (uint64_t)p->id);
  *len = (size_t)(w - dst);
  return 0;
}

int sio__encode(const sio__packet_t *p, sio__buf_t *out) {
  size_t hl;
  int r = sio__encode_head(p, NULL, &hl);
  if (r != 0) return r;
  size_t start = out->len;
  if ((r = sio__buf_reserve(out, hl)) != 0) return r;
  sio__encode_head(p, out->base + out->len, &hl);
  out->len += hl;
  /* `null != obj.data`: JSON null is not written either. */
  if (p->raw != NULL) r = sio__buf_append(out, p->raw->text, p->raw->len);
  else if (p->data != NULL && !json_is_null(p->data)) r = sio__json_write(out, p->data);
  if (r != 0) out->len = start;
  return r;
}
