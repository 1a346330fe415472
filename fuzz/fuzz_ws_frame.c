/*
 * libFuzzer target for the RFC 6455 frame decoder (src/ws/frame.c) and its UTF-8
 * validator. Input: byte 0 picks where the rest is split (its top bit: RSV1 allowed, as
 * with permessage-deflate); the rest is a client byte
 * stream, fed in two reads through a caller loop that keeps the unconsumed tail, the
 * way ws/conn.c reads a socket. max_message is 65536. Callbacks read every byte they get
 * (and write the writable message data) so the sanitizers see any out-of-bounds pointer.
 * The encoders run on values taken from the input too. Everything is freed (LSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/frame.h"
#include "ws/utf8.h"

static volatile uint8_t sink;

static uint8_t touch(const char *data, size_t len) {
  uint8_t x = 0;
  for (size_t i = 0; i < len; i++) x ^= (uint8_t)data[i];
  return x;
}

static int rsv1_ok; /* permessage-deflate negotiated for this input */

static void on_message(void *user, int opcode, char *data, size_t len) {
  int compressed = (opcode & SIO__WS_MSG_COMPRESSED) != 0;
  if (compressed && !rsv1_ok) abort(); /* RSV1 only passes once negotiated */
  opcode &= ~SIO__WS_MSG_COMPRESSED;
  if (opcode != SIO__WS_OP_TEXT && opcode != SIO__WS_OP_BINARY) abort();
  if (opcode == SIO__WS_OP_TEXT && !compressed && !sio__utf8_valid(data, len)) abort(); /* promised valid */
  if (len > 65536) abort();
  sink ^= touch(data, len);
  if (len) data[len - 1] ^= 0; /* the data is documented writable */
  ++*(int *)user;
}

static void on_control(void *user, const char *data, size_t len) {
  if (len > 125) abort();
  sink ^= touch(data, len);
}

static void on_close(void *user, int code, const char *reason, size_t len) {
  if (len > 123 || !sio__utf8_valid(reason, len)) abort();
  sink ^= (uint8_t)code ^ touch(reason, len);
}

static const sio__ws_decode_cb_t CB = {on_message, on_control, on_control, on_close};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const uint8_t *in = data + 1;
  size_t len = size - 1;
  size_t split = len ? data[0] % (len + 1) : 0;

  /* The decoder unmasks in place, so it needs a writable copy. */
  char *buf = malloc(len ? len : 1);
  if (buf == NULL) return 0;
  sio__ws_decoder_t d;
  sio__ws_decoder_init(&d, 65536);
  /* The split byte's top bit also negotiates permessage-deflate (RSV1 allowed). */
  rsv1_ok = data[0] >> 7;
  d.rsv1_ok = (uint8_t)rsv1_ok;
  int messages = 0;
  size_t have = 0, fed = 0, need = 0;
  const size_t chunks[2] = {split, len - split};
  for (int c = 0; c < 2; c++) {
    memcpy(buf + have, in + fed, chunks[c]);
    have += chunks[c];
    fed += chunks[c];
    long rc = sio__ws_decode(&d, buf, have, &CB, &messages, &need);
    if (rc < 0) {
      if (rc != -1002 && rc != -1007 && rc != -1009 && rc != -1011) abort();
      break;
    }
    if ((size_t)rc > have) abort();
    memmove(buf, buf + rc, have - (size_t)rc);
    have -= (size_t)rc;
    if (need != 0 && need <= have) abort(); /* a frame we could have decoded */
  }
  sio__ws_decoder_free(&d);

  /* Whole-input UTF-8 agrees with byte-at-a-time feeding. */
  uint32_t st = SIO__UTF8_ACCEPT;
  for (size_t i = 0; i < len; i++) st = sio__utf8_step(st, (const char *)in + i, 1);
  if ((st == SIO__UTF8_ACCEPT) != sio__utf8_valid((const char *)in, len)) abort();

  /* Encoders: a close frame with the input as reason, a header for the input's length. */
  char reason[200];
  size_t rlen = len < sizeof reason - 1 ? len : sizeof reason - 1;
  memcpy(reason, in, rlen);
  reason[rlen] = '\0';
  uint8_t frame[SIO__WS_CLOSE_FRAME_MAX];
  size_t n = sio__ws_close_frame(frame, 1000 + data[0], reason);
  if (n < 2 || n > sizeof frame || frame[1] != n - 2) abort();
  uint8_t hdr[SIO__WS_SERVER_HEADER_MAX];
  if (sio__ws_frame_header(hdr, SIO__WS_OP_BINARY, len * 1000) > sizeof hdr) abort();

  free(buf);
  return 0;
}
