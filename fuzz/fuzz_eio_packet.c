/*
 * libFuzzer target: one Engine.IO v4 text packet (a WebSocket text frame's content),
 * through sio__eio_decode_text (src/engine/packet.c). A decoded packet must re-encode to
 * exactly the input. The same bytes also feed the JSON escaper used by the open packet
 * and the HTTP 400 body, as a sid and as a custom error message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "engine/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size private copy: the decoder takes a mutable buffer, and ASan then sees
   * any read past the end. */
  char *s = malloc(size ? size : 1);
  if (s == NULL) return 0;
  if (size) memcpy(s, data, size);

  sio__eio_packet_t p;
  if (sio__eio_decode_text(s, size, &p) == 0) {
    if (p.binary || p.type > SIO__EIO_NOOP || p.data != s + 1 || p.len != size - 1) abort();
    sio__buf_t out = SIO__BUF_INIT;
    if (sio__eio_encode_text(&out, p.type, p.data, p.len) == 0 &&
        (out.len != size || memcmp(out.base, data, size) != 0))
      abort();
    sio__buf_free(&out);
  }

  /* NUL-terminated copy for the sid parameter (stops at the first NUL, as a C string does). */
  char *z = malloc(size + 1);
  if (z != NULL) {
    if (size) memcpy(z, data, size);
    z[size] = '\0';
    sio__buf_t out = SIO__BUF_INIT;
    (void)sio__eio_encode_open(&out, z, size & 1, 25000, 20000, 1000000);
    (void)sio__eio_error_json_msg(&out, SIO__EIO_ERR_FORBIDDEN, s, size);
    sio__buf_free(&out);
    free(z);
  }
  free(s);
  return 0;
}
