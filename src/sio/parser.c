/*
 * Socket.IO v5 packet codec: text packets in and out (socket.io-protocol v5 §"Packet
 * encoding"; socket.io-parser lib/index.ts Decoder.decodeString / Encoder.encodeAsString).
 * Attachment bookkeeping lives in binary.c.
 *
 * The decoder follows decodeString's grammar but refuses its accidents: Number(" ")
 * is 0 in JS, so socket.io-parser reads `2 ["a"]` as ack id 0 and "" as a CONNECT; we
 * take ASCII digits only and return SIO_EPROTO instead. Everything a peer controls is
 * bounded (attachments, namespace length, ack id, JSON depth via jansson).
 * Layer: sio, sans-IO: never touches a socket or a loop.
 */
#include "sio/parser.h"

#include <string.h>

#include "common/alloc.h"
#include "sio/errors.h"
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
static int load_json(const char *s, size_t len, json_t **out) {
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

/* 1 if the event name is acceptable: a string without NUL (the layers above hand it
 * out as a C string) that is not reserved. */
static int event_name_valid(const json_t *name) {
  if (!json_is_string(name)) return 0;
  const char *s = json_string_value(name);
  size_t len = json_string_length(name);
  if (memchr(s, '\0', len) != NULL) return 0;
  for (size_t i = 0; i < sizeof reserved_events / sizeof *reserved_events; i++)
    if (strcmp(s, reserved_events[i]) == 0) return 0;
  return 1;
}

/* isPayloadValid, strict: see the table in parser.h. data is NULL when absent. */
static int payload_valid(uint8_t type, const json_t *data) {
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
  if (h.payload < len && (r = load_json(s + h.payload, len - h.payload, &data)) != 0) return r;
  if (!payload_valid(h.type, data)) r = SIO_EPROTO;
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

int sio__encode(const sio__packet_t *p, sio__buf_t *out) {
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
  int has_nsp = nsp != NULL && nsp[0] != '\0' && strcmp(nsp, "/") != 0;
  /* A ',' ends the namespace on the wire, and one not starting with '/' would be read
   * as part of the ack id or payload: neither could be decoded back. */
  if (has_nsp && (nsp[0] != '/' || strchr(nsp, ',') != NULL)) return SIO_EINVAL;
  if (p->id > SIO__ACK_ID_MAX) return SIO_EINVAL;

  size_t start = out->len;
  int r = sio__buf_append_byte(out, (char)('0' + type));
  if (r == 0 && p->natt > 0) r = sio__buf_appendf(out, "%u-", (unsigned)p->natt);
  if (r == 0 && has_nsp) r = sio__buf_append(out, nsp, strlen(nsp));
  if (r == 0 && has_nsp) r = sio__buf_append_byte(out, ',');
  if (r == 0 && p->id >= 0) r = sio__buf_appendf(out, "%lld", (long long)p->id);
  /* `null != obj.data`: JSON null is not written either. */
  if (r == 0 && p->data != NULL && !json_is_null(p->data)) r = sio__json_write(out, p->data);
  if (r != 0) out->len = start;
  return r;
}
