/*
 * RFC 6455 §5 framing, server side: the client-frame decoder and the server-frame
 * encoders. Sans-IO: no libuv, no sockets; ws/conn.c does the I/O.
 *
 * The decoder never buffers a partial frame itself. It looks only at complete frames at
 * the start of the caller's buffer, unmasks each payload in place and hands an
 * unfragmented message up without copying. Only fragments are copied, into d->frag,
 * which is freed as soon as their message completes. Everything that can be judged from
 * a header (§5.2 bits, §5.4 fragmentation order, §5.5 control rules, the size limit) is
 * judged as soon as the header bytes are there, before any payload is waited for.
 *
 * Extensions: only permessage-deflate's RSV1 (RFC 7692 §6), when the caller sets rsv1_ok;
 * a compressed message is handed up compressed and flagged. Lengths need not use the
 * shortest form (§5.2 makes that a sender rule; browsers and ws all comply anyway).
 */
#include "ws/frame.h"

#include <string.h>

#include "common/alloc.h"
#include "ws/utf8.h"

/* The fields of one frame header (§5.2). */
typedef struct {
  uint8_t fin;          /* FIN bit */
  uint8_t opcode;       /* 4-bit opcode, already checked */
  uint8_t rsv1;         /* RSV1 set (a compressed message's first frame) */
  size_t hdr_len;       /* header bytes including the 4-byte masking key */
  uint64_t payload_len; /* declared payload length */
  size_t total;         /* hdr_len + payload_len */
} header_t;

/* parse_header results besides negative close codes. */
#define HEADER_MORE 0
#define HEADER_OK 1

void sio__ws_decoder_init(sio__ws_decoder_t *d, size_t max_message) {
  memset(d, 0, sizeof *d);
  d->max_message = max_message > UINT32_MAX ? UINT32_MAX : (uint32_t)max_message;
  d->utf8_state = SIO__UTF8_ACCEPT;
}

void sio__ws_decoder_free(sio__ws_decoder_t *d) {
  if (d->frag) {
    sio__buf_free(d->frag);
    sio__free(d->frag);
    d->frag = NULL;
  }
  d->frag_opcode = 0;
  d->frag_rsv1 = 0;
  d->utf8_state = SIO__UTF8_ACCEPT;
}

/* =============================== Decoding =============================== */

static uint64_t read_be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

/*
 * Parses and checks the header at p[0..avail). Returns HEADER_OK when the whole header
 * (with masking key) is there, HEADER_MORE when more bytes are needed, or a negative
 * close code. h->total is set as soon as the length field is complete, even on MORE.
 */
static int parse_header(const sio__ws_decoder_t *d, const uint8_t *p, size_t avail, header_t *h) {
  h->total = 0;
  if (avail < 2) return HEADER_MORE;
  h->fin = p[0] >> 7;
  h->opcode = p[0] & 0x0F;
  /* §5.2: "MUST be 0 unless an extension is negotiated that defines meanings". RFC 7692
   * §6: RSV1 marks a compressed message on its first frame only, never on control
   * frames or continuations. */
  if (p[0] & 0x30) return -SIO__WS_CLOSE_PROTOCOL;
  h->rsv1 = (p[0] & 0x40) != 0;
  if (h->rsv1 && (!d->rsv1_ok || (p[0] & 0x0F) == SIO__WS_OP_CONT || (p[0] & 0x08))) return -SIO__WS_CLOSE_PROTOCOL;
  switch (h->opcode) {
    case SIO__WS_OP_CONT:
    case SIO__WS_OP_TEXT:
    case SIO__WS_OP_BINARY:
    case SIO__WS_OP_CLOSE:
    case SIO__WS_OP_PING:
    case SIO__WS_OP_PONG:
      break;
    default: /* 3-7 and 11-15 are reserved (§5.2) */
      return -SIO__WS_CLOSE_PROTOCOL;
  }
  /* §5.1: "The server MUST close the connection upon receiving a frame that is not masked." */
  if (!(p[1] & 0x80)) return -SIO__WS_CLOSE_PROTOCOL;
  unsigned len7 = p[1] & 0x7F;
  if (h->opcode & 0x08) {
    /* §5.5: control frames "MUST have a payload length of 125 bytes or less and MUST NOT
     * be fragmented". 126/127 would announce an extended length, so they fail here too. */
    if (!h->fin || len7 > SIO__WS_CONTROL_MAX) return -SIO__WS_CLOSE_PROTOCOL;
  } else if (h->opcode == SIO__WS_OP_CONT) {
    if (d->frag_opcode == 0) return -SIO__WS_CLOSE_PROTOCOL; /* nothing to continue */
  } else if (d->frag_opcode != 0) {
    /* §5.4: fragments of one message may not be interleaved with another message. */
    return -SIO__WS_CLOSE_PROTOCOL;
  }
  int ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  if (avail < 2 + (size_t)ext) return HEADER_MORE;
  h->payload_len = ext ? read_be(p + 2, ext) : len7;
  /* §5.2: "the most significant bit MUST be 0" in the 64-bit form. */
  if (h->payload_len >> 63) return -SIO__WS_CLOSE_PROTOCOL;
  h->hdr_len = 2 + (size_t)ext + 4;
  if (!(h->opcode & 0x08)) {
    /* Fail on the declared length now, so a peer cannot make us wait for (and the caller
     * buffer) a payload we would refuse anyway. The limit covers the whole message. */
    size_t so_far = h->opcode == SIO__WS_OP_CONT && d->frag ? d->frag->len : 0;
    if (h->payload_len > d->max_message || so_far > d->max_message - h->payload_len)
      return -SIO__WS_CLOSE_TOO_BIG;
  }
  /* Only reachable with a limit near SIZE_MAX: the frame must still be addressable. */
  if (h->payload_len > SIZE_MAX - h->hdr_len) return -SIO__WS_CLOSE_TOO_BIG;
  h->total = h->hdr_len + (size_t)h->payload_len;
  return avail < h->hdr_len ? HEADER_MORE : HEADER_OK;
}

/* XORs p[0..n) with the 4-byte masking key (§5.3), eight bytes at a time. */
static void unmask(char *p, size_t n, const uint8_t key[4]) {
  uint8_t k8[8];
  for (int i = 0; i < 8; i++) k8[i] = key[i & 3];
  uint64_t k;
  memcpy(&k, k8, 8); /* byte order does not matter: the key repeats every 4 bytes */
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    w ^= k;
    memcpy(p + i, &w, 8);
  }
  for (; i < n; i++) p[i] ^= (char)key[i & 3];
}

/* §7.4: the codes a peer may put in a close frame. 1004 is reserved, 1005/1006/1015 are
 * "MUST NOT be set as a status code", 0-999 and 1016-2999 are unassigned or reserved
 * for the RFC, and 5000+ is out of range. 1012-1014 are IANA-registered since the RFC
 * (service restart, try again later, bad gateway) and ws (Node) accepts them too. */
static int close_code_ok(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

/* §5.5.1: the body, if any, is a 2-byte code then a UTF-8 reason. */
static long handle_close(sio__ws_decoder_t *d, const char *p, size_t n, const sio__ws_decode_cb_t *cb,
                         void *user) {
  unsigned code = SIO__WS_CLOSE_NO_STATUS;
  if (n == 1) return -SIO__WS_CLOSE_PROTOCOL; /* half a status code */
  if (n >= 2) {
    code = (unsigned)(uint8_t)p[0] << 8 | (uint8_t)p[1];
    if (!close_code_ok(code)) return -SIO__WS_CLOSE_PROTOCOL;
    p += 2;
    n -= 2;
    if (!sio__utf8_valid(p, n)) return -SIO__WS_CLOSE_INVALID_DATA;
  } else {
    n = 0;
  }
  /* Nothing after a close frame is processed (§5.5.1), so drop any half message now. */
  d->closed = 1;
  sio__ws_decoder_free(d);
  if (cb->on_close) cb->on_close(user, (int)code, p, n);
  return 0;
}

/* A TEXT, BINARY or CONT frame with its payload unmasked at p[0..n). */
static long handle_data(sio__ws_decoder_t *d, const header_t *h, char *p, size_t n,
                        const sio__ws_decode_cb_t *cb, void *user) {
  if (h->opcode != SIO__WS_OP_CONT && h->fin) {
    /* The common case: a whole message in one frame, delivered from the caller's buffer.
     * Compressed text is validated by the caller once inflated. */
    if (h->opcode == SIO__WS_OP_TEXT && !h->rsv1 && !sio__utf8_valid(p, n)) return -SIO__WS_CLOSE_INVALID_DATA;
    if (cb->on_message) cb->on_message(user, h->opcode | (h->rsv1 ? SIO__WS_MSG_COMPRESSED : 0), p, n);
    return 0;
  }
  if (h->opcode != SIO__WS_OP_CONT) {
    d->frag_opcode = h->opcode;
    d->frag_rsv1 = h->rsv1;
    d->utf8_state = SIO__UTF8_ACCEPT;
  }
  if (d->frag_opcode == SIO__WS_OP_TEXT && !d->frag_rsv1) {
    /* Validate each fragment as it comes so garbage fails without waiting for FIN; a
     * character may straddle fragments, which is why the state carries over. */
    d->utf8_state = sio__utf8_step(d->utf8_state, p, n);
    if (d->utf8_state == SIO__UTF8_REJECT || (h->fin && d->utf8_state != SIO__UTF8_ACCEPT))
      return -SIO__WS_CLOSE_INVALID_DATA;
  }
  /* The assembly buffer exists only while a fragmented message is in progress. */
  if (d->frag == NULL && (d->frag = sio__calloc(1, sizeof *d->frag)) == NULL) return -SIO__WS_CLOSE_INTERNAL;
  if (sio__buf_append(d->frag, p, n) != 0) return -SIO__WS_CLOSE_INTERNAL;
  if (!h->fin) return 0;
  /* A message of empty fragments never allocated its bytes: hand up a valid empty pointer. */
  char *msg = d->frag->base != NULL ? d->frag->base : p;
  int op = d->frag_opcode | (d->frag_rsv1 ? SIO__WS_MSG_COMPRESSED : 0);
  if (cb->on_message) cb->on_message(user, op, msg, d->frag->len);
  sio__ws_decoder_free(d); /* an idle decoder holds no heap memory */
  return 0;
}

long sio__ws_decode(sio__ws_decoder_t *d, char *data, size_t len, const sio__ws_decode_cb_t *cb,
                    void *user, size_t *need) {
  if (need) *need = 0;
  if (d->closed) return (long)len;
  size_t off = 0;
  while (off < len) {
    header_t h;
    int r = parse_header(d, (const uint8_t *)data + off, len - off, &h);
    if (r < 0) return r;
    if (r == HEADER_MORE || len - off < h.total) {
      if (need) *need = h.total;
      break;
    }
    char *payload = data + off + h.hdr_len;
    size_t n = (size_t)h.payload_len;
    unmask(payload, n, (const uint8_t *)payload - 4);
    long rc;
    switch (h.opcode) {
      case SIO__WS_OP_PING:
        if (cb->on_ping) cb->on_ping(user, payload, n);
        rc = 0;
        break;
      case SIO__WS_OP_PONG:
        if (cb->on_pong) cb->on_pong(user, payload, n);
        rc = 0;
        break;
      case SIO__WS_OP_CLOSE:
        rc = handle_close(d, payload, n, cb, user);
        break;
      default:
        rc = handle_data(d, &h, payload, n, cb, user);
        break;
    }
    if (rc < 0) return rc;
    off += h.total;
    if (d->closed) break;
  }
  return (long)off;
}

/* =============================== Encoding =============================== */

/* Writes byte 0, then the length in its shortest form (§5.2) with mask_bit in byte 1. */
static size_t put_header(uint8_t *out, uint8_t b0, uint8_t mask_bit, uint64_t len) {
  out[0] = b0;
  if (len <= 125) {
    out[1] = mask_bit | (uint8_t)len;
    return 2;
  }
  if (len <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return 4;
  }
  out[1] = mask_bit | 127;
  for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
  return 10;
}

size_t sio__ws_frame_header(uint8_t out[SIO__WS_SERVER_HEADER_MAX], int opcode, size_t payload_len) {
  return put_header(out, 0x80 | (uint8_t)(opcode & 0x0F), 0, payload_len);
}

size_t sio__ws_close_frame(uint8_t out[SIO__WS_CLOSE_FRAME_MAX], int code, const char *reason) {
  if (code == 0) return put_header(out, 0x80 | SIO__WS_OP_CLOSE, 0, 0);
  size_t max = SIO__WS_CONTROL_MAX - 2;
  size_t rlen = reason != NULL ? strnlen(reason, max + 1) : 0;
  if (rlen > max) {
    /* Cut before the character that straddles the limit: a peer must fail a close
     * reason that is not valid UTF-8 (§8.1), so half a character would get us a 1007. */
    rlen = max;
    while (rlen > 0 && ((uint8_t)reason[rlen] & 0xC0) == 0x80) rlen--;
  }
  size_t h = put_header(out, 0x80 | SIO__WS_OP_CLOSE, 0, 2 + rlen);
  out[h] = (uint8_t)(code >> 8);
  out[h + 1] = (uint8_t)code;
  if (rlen) memcpy(out + h + 2, reason, rlen);
  return h + 2 + rlen;
}

size_t sio__ws_client_frame(uint8_t *out, int opcode, int fin, const void *payload, size_t len,
                            const uint8_t mask[4]) {
  size_t h = put_header(out, (fin ? 0x80 : 0) | (uint8_t)(opcode & 0x0F), 0x80, len);
  memcpy(out + h, mask, 4);
  h += 4;
  const uint8_t *src = payload;
  for (size_t i = 0; i < len; i++) out[h + i] = src[i] ^ mask[i & 3];
  return h + len;
}
