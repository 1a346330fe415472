/*
 * Engine.IO v4 packet and payload codec, the wire format of engine.io-parser v5
 * (lib/encodePacket.ts, lib/decodePacket.ts, encodePayload/decodePayload in lib/index.ts),
 * plus the two JSON bodies engine.io's server writes by hand: the open packet
 * (lib/socket.ts) and the HTTP 400 error body (lib/server.ts, Server.errorMessages).
 *
 * Layer: engine, sans-IO. This file never touches a socket or the loop, and it never
 * allocates except by appending to a caller's sio__buf_t. Input comes from the network,
 * so every malformed byte is an error return, never an assert.
 */
#include "engine/packet.h"

#include <inttypes.h>
#include <string.h>

#include "common/b64.h"
#include "sio/errors.h"

/* --------------------------------------------------------------------------------
 * Single packets
 * -------------------------------------------------------------------------------- */

int sio__eio_decode_text(char *s, size_t len, sio__eio_packet_t *out) {
  /* engine.io-parser turns an empty string into type Number("") == 0 (open); a client
   * never sends that, so we treat it as the malformed input it is. */
  if (len == 0) return SIO_EPROTO;
  unsigned char t = (unsigned char)s[0];
  if (t < '0' || t > '0' + SIO__EIO_NOOP) return SIO_EPROTO;
  out->type = (uint8_t)(t - '0');
  out->binary = 0;
  out->data = s + 1;
  out->len = len - 1;
  return 0;
}

int sio__eio_decode_binary(char *data, size_t len, sio__eio_packet_t *out) {
  /* v4 dropped v3's type byte on binary frames: the frame is the message's bytes. */
  out->type = SIO__EIO_MESSAGE;
  out->binary = 1;
  out->data = data;
  out->len = len;
  return 0;
}

/* --------------------------------------------------------------------------------
 * Polling payloads
 * -------------------------------------------------------------------------------- */

static int is_b64_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

/* Strict syntax check of a base64 body without decoding it. Node's Buffer.from(s,
 * "base64") silently skips junk; we reject it because a well-behaved client (which
 * always pads: Buffer#toString("base64") or FileReader.readAsDataURL) never sends any. */
static int b64_valid(const char *s, size_t len) {
  if (len % 4 != 0) return 0;
  size_t pad = 0;
  if (len >= 1 && s[len - 1] == '=') pad++;
  if (len >= 2 && s[len - 2] == '=') pad++;
  for (size_t i = 0; i < len - pad; i++) {
    if (!is_b64_char((unsigned char)s[i])) return 0;
  }
  return 1;
}

/*
 * Decodes validated base64 at src into dst, where dst <= src (the same buffer). We go
 * through a small stack block rather than handing overlapping pointers to OpenSSL,
 * whose EVP_DecodeBlock does not promise to support that. The write position never
 * passes the read position: each 4 chars read yield at most 3 bytes written. Only the
 * final block can hold '=' (b64_valid guarantees it), so per-block padding is exact.
 * Returns the decoded length or SIO_EPROTO.
 */
static long b64_decode_in_place(char *dst, const char *src, size_t len) {
  unsigned char block[768];
  size_t r = 0, w = 0;
  while (r < len) {
    size_t n = len - r > 1024 ? 1024 : len - r;
    long d = sio__b64_decode(src + r, n, block);
    if (d < 0) return SIO_EPROTO;
    memcpy(dst + w, block, (size_t)d);
    r += n;
    w += (size_t)d;
  }
  return (long)w;
}

/* Checks one non-empty part of a payload without modifying it. */
static int check_part(const char *s, size_t len) {
  if (len == 0) return SIO_EPROTO;
  if (s[0] == 'b') return b64_valid(s + 1, len - 1) ? 0 : SIO_EPROTO;
  unsigned char t = (unsigned char)s[0];
  return t >= '0' && t <= '0' + SIO__EIO_NOOP ? 0 : SIO_EPROTO;
}

/* Decodes one part already accepted by check_part; binary parts are rewritten in place. */
static int decode_part(char *s, size_t len, sio__eio_packet_t *p) {
  if (s[0] != 'b') return sio__eio_decode_text(s, len, p);
  long n = b64_decode_in_place(s, s + 1, len - 1);
  if (n < 0) return (int)n;
  return sio__eio_decode_binary(s, (size_t)n, p);
}

/* Length of the part starting at s, up to the next separator or the end. */
static size_t part_len(const char *s, const char *end) {
  const char *sep = memchr(s, SIO__EIO_SEPARATOR, (size_t)(end - s));
  return (size_t)((sep ? sep : end) - s);
}

int sio__eio_decode_payload(char *body, size_t len, size_t max_packets, sio__eio_packet_cb cb,
                            void *user) {
  if (len == 0) return SIO_EPROTO;
  char *end = body + len;

  /* Pass 1 validates everything, so a bad payload is refused whole and the callback
   * never sees half of it (upstream delivers the good prefix and then closes; the
   * session dies either way, and all-or-nothing is simpler for the layers above). A
   * trailing separator leaves an empty last part, which check_part refuses. */
  size_t count = 0;
  for (char *s = body;;) {
    size_t n = part_len(s, end);
    int r = check_part(s, n);
    if (r) return r;
    if (max_packets && ++count > max_packets) return SIO_ELIMIT;
    if (s + n == end) break;
    s += n + 1;
  }

  /* Pass 2 decodes and delivers. The base64 was checked, so decode_part cannot fail
   * here; the test stays because the input is from the network. */
  for (char *s = body;;) {
    size_t n = part_len(s, end);
    sio__eio_packet_t p;
    int r = decode_part(s, n, &p);
    if (r) return r;
    r = cb(user, &p);
    if (r) return r;
    if (s + n == end) break;
    s += n + 1;
  }
  return 0;
}

int sio__eio_payload_append(sio__buf_t *out, const sio__eio_packet_t *p, int sep) {
  if (p->type > SIO__EIO_NOOP) return SIO_EINVAL;
  if (p->binary && p->type != SIO__EIO_MESSAGE) return SIO_EINVAL;
  /* A raw 0x1e would split the packet in two at the receiver. Socket.IO's JSON never
   * holds one: JSON.stringify escapes every control character. */
  if (!p->binary && p->len > 0 && memchr(p->data, SIO__EIO_SEPARATOR, p->len) != NULL)
    return SIO_EINVAL;

  /* Guard the size arithmetic; no real buffer comes near these bounds. */
  if (p->len > (size_t)-1 / 4 * 3 - 3) return SIO_ENOMEM;
  size_t body = p->binary ? sio__b64_encoded_len(p->len) : p->len;
  /* One spare byte: sio__b64_encode sits on OpenSSL's EVP_EncodeBlock, which writes a
   * NUL after the base64. The NUL lands past out->len and is not counted. */
  int r = sio__buf_reserve(out, (sep ? 1 : 0) + 1 + body + (p->binary ? 1 : 0));
  if (r) return r;

  char *w = out->base + out->len;
  if (sep) *w++ = SIO__EIO_SEPARATOR;
  if (p->binary) {
    *w++ = 'b';
    w += sio__b64_encode(p->data, p->len, w);
  } else {
    *w++ = (char)('0' + p->type);
    if (p->len > 0) memcpy(w, p->data, p->len);
    w += p->len;
  }
  out->len = (size_t)(w - out->base);
  return 0;
}

int sio__eio_encode_text(sio__buf_t *out, int type, const char *data, size_t len) {
  if (type < SIO__EIO_OPEN || type > SIO__EIO_NOOP) return SIO_EINVAL;
  if (len > (size_t)-1 - 1) return SIO_ENOMEM;
  int r = sio__buf_reserve(out, 1 + len);
  if (r) return r;
  out->base[out->len++] = (char)('0' + type);
  if (len > 0) memcpy(out->base + out->len, data, len);
  out->len += len;
  return 0;
}

/* --------------------------------------------------------------------------------
 * Hand-written JSON bodies (open packet, HTTP 400 errors)
 * -------------------------------------------------------------------------------- */

/* Appends s as a JSON string literal, escaped the way JSON.stringify does it: the two
 * mandatory escapes, the five short control escapes, and \u00xx (lowercase) for the
 * other control characters. Bytes >= 0x20 pass through. */
static int append_json_string(sio__buf_t *out, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  int r = sio__buf_append_byte(out, '"');
  for (size_t i = 0; i < len && r == 0; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default: break;
    }
    if (esc) {
      r = sio__buf_append(out, esc, 2);
    } else if (c < 0x20) {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      r = sio__buf_append(out, u, sizeof u);
    } else {
      r = sio__buf_append_byte(out, (char)c);
    }
  }
  if (r == 0) r = sio__buf_append_byte(out, '"');
  return r;
}

int sio__eio_encode_open(sio__buf_t *out, const char *sid, int offer_websocket, uint64_t ping_interval,
                         uint64_t ping_timeout, uint64_t max_payload) {
  size_t mark = out->len;
  /* Key order is engine.io's lib/socket.ts onOpen(): sid, upgrades, pingInterval,
   * pingTimeout, maxPayload. Clients parse JSON so order does not matter to them, but
   * byte-exact output lets wire tests compare us against the Node server. */
  int r = sio__buf_append_str(out, "0{\"sid\":");
  if (r == 0) r = append_json_string(out, sid, strlen(sid));
  /* Hand-formatted: this runs once per connection, where snprintf was a tenth of the
   * handshake's user-space cost. */
  if (r == 0) {
    r = offer_websocket ? sio__buf_append_str(out, ",\"upgrades\":[\"websocket\"],\"pingInterval\":")
                        : sio__buf_append_str(out, ",\"upgrades\":[],\"pingInterval\":");
  }
  if (r == 0) r = sio__buf_append_u64(out, ping_interval);
  if (r == 0) r = sio__buf_append_str(out, ",\"pingTimeout\":");
  if (r == 0) r = sio__buf_append_u64(out, ping_timeout);
  if (r == 0) r = sio__buf_append_str(out, ",\"maxPayload\":");
  if (r == 0) r = sio__buf_append_u64(out, max_payload);
  if (r == 0) r = sio__buf_append_byte(out, '}');
  if (r) out->len = mark; /* appends keep earlier bytes, so trimming undoes a partial write */
  return r;
}

static const char *const error_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version",
};

int sio__eio_error_json_msg(sio__buf_t *out, int code, const char *msg, size_t len) {
  if (code < 0 || code >= (int)(sizeof error_messages / sizeof error_messages[0])) return SIO_EINVAL;
  size_t mark = out->len;
  /* engine.io's abortRequest(): JSON.stringify({ code, message }). */
  int r = sio__buf_appendf(out, "{\"code\":%d,\"message\":", code);
  if (r == 0) r = append_json_string(out, msg, len);
  if (r == 0) r = sio__buf_append_byte(out, '}');
  if (r) out->len = mark;
  return r;
}

const char *sio__eio_error_message(int code) {
  if (code < 0 || code >= (int)(sizeof error_messages / sizeof error_messages[0])) return "Bad request";
  return error_messages[code];
}

int sio__eio_error_json(sio__buf_t *out, int code) {
  if (code < 0 || code >= (int)(sizeof error_messages / sizeof error_messages[0])) return SIO_EINVAL;
  return sio__eio_error_json_msg(out, code, error_messages[code], strlen(error_messages[code]));
}

const char *sio__eio_type_name(int type) {
  static const char *const names[] = {"open", "close", "ping", "pong", "message", "upgrade", "noop"};
  if (type < 0 || type > SIO__EIO_NOOP) return "error";
  return names[type];
}
