/*
 * libFuzzer target for permessage-deflate (src/ws/deflate.c): the extension-offer parser
 * and the inflate path. Byte 0 picks the server's settings (context takeover, window
 * limits); the rest is read twice:
 *   - as a Sec-WebSocket-Extensions value: an accepted answer must be well formed and
 *     its window bits in range; a state is built from it;
 *   - as a compressed message, inflated twice through that state (context kept between
 *     them, as for two messages) with a 64 KiB bound: only 0, SIO_ETOOBIG, SIO_EPROTO
 *     may come back, never more than the bound is produced, and a message that inflates
 *     is compressed again by a fresh state and must inflate back to the same bytes.
 * Everything is freed (LSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sio/errors.h"
#include "ws/deflate.h"

#define MAX_MSG 65536

static void check_roundtrip(const char *msg, size_t len) {
  sio_ws_deflate_opts_t o;
  sio_ws_deflate_opts_init(&o);
  o.enabled = 1;
  sio__ws_pmd_params_t p = {0, 0, 0, 0};
  sio__ws_pmd_t *tx = sio__ws_pmd_new(&o, &p), *rx = sio__ws_pmd_new(&o, &p);
  sio__refbuf_t *rb = NULL;
  if (tx && rx && sio__ws_pmd_compress(tx, msg, len, 10, &rb) == 0) {
    sio__buf_t out = SIO__BUF_INIT;
    if (sio__ws_pmd_inflate(rx, sio__refbuf_ptr(rb), rb->len, MAX_MSG, &out) != 0) abort();
    if (out.len != len || (len && memcmp(out.base, msg, len) != 0)) abort();
    sio__buf_free(&out);
    sio__refbuf_unref(rb);
  }
  sio__ws_pmd_free(tx);
  sio__ws_pmd_free(rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  uint8_t ctl = data[0];
  const char *in = (const char *)data + 1;
  size_t len = size - 1;
  static const int bits[4] = {0, 9, 12, 15};
  sio_ws_deflate_opts_t o;
  sio_ws_deflate_opts_init(&o);
  o.enabled = 1;
  o.server_no_context_takeover = ctl & 1;
  o.client_no_context_takeover = (ctl >> 1) & 1;
  o.server_max_window_bits = bits[(ctl >> 2) & 3];
  o.client_max_window_bits = bits[(ctl >> 4) & 3] ? bits[(ctl >> 4) & 3] - 1 : 0;

  sio__ws_pmd_params_t p = {0, 0, 0, 0};
  char answer[SIO__WS_PMD_ANSWER_MAX];
  if (sio__ws_pmd_negotiate(&o, in, len, &p, answer)) {
    if (strncmp(answer, "permessage-deflate", 18) != 0 || strlen(answer) >= sizeof answer) abort();
    if (p.server_max_window_bits && (p.server_max_window_bits < 9 || p.server_max_window_bits > 15)) abort();
    if (p.client_max_window_bits && (p.client_max_window_bits < 8 || p.client_max_window_bits > 15)) abort();
    if (o.server_no_context_takeover && !p.server_no_context_takeover) abort();
  }
  sio__ws_pmd_t *pmd = sio__ws_pmd_new(&o, &p);
  if (pmd == NULL) return 0;
  for (int round = 0; round < 2; round++) {
    sio__buf_t out = SIO__BUF_INIT;
    int r = sio__ws_pmd_inflate(pmd, in, len, MAX_MSG, &out);
    if (r != 0 && r != SIO_ETOOBIG && r != SIO_EPROTO) abort();
    if (out.len > MAX_MSG + 1 || out.cap > MAX_MSG + 1) abort();
    if (r == 0 && round == 0) check_roundtrip(out.base ? out.base : "", out.len);
    sio__buf_free(&out);
    if (r != 0) break; /* the state is only to be freed after an error */
  }
  sio__ws_pmd_free(pmd);
  return 0;
}
