/*
 * libFuzzer target: Accept-Encoding values through sio__http_pick_encoding
 * (src/http/compress.c), the one parser of client bytes that compression added. The
 * input is the header value, not NUL-terminated (the parser hands out slices). The
 * answer must be one of the three encodings, deflate never when it is not offered, and
 * the same whether or not the bytes are followed by more (no reads past len); a pick
 * is compressed and inflated back to check the encoder on a small body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "http/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size copy so ASan sees any read past the slice. */
  char *v = malloc(size ? size : 1);
  if (v == NULL) return 0;
  memcpy(v, data, size);
  sio_str_t ae = {v, size};
  int a = sio__http_pick_encoding(ae, 1), b = sio__http_pick_encoding(ae, 0);
  if (a < SIO__ENC_IDENTITY || a > SIO__ENC_DEFLATE) abort();
  if (b == SIO__ENC_DEFLATE) abort();
  /* Only offering less can only take deflate away. */
  if (a == SIO__ENC_GZIP && b != SIO__ENC_GZIP) abort();
  if (a != SIO__ENC_IDENTITY) {
    sio__buf_t z = SIO__BUF_INIT;
    if (sio__http_compress(a, v, size, 1, &z) == 0) {
      char *back = malloc(size + 1);
      uLongf n = (uLongf)size + 1;
      z_stream s;
      memset(&s, 0, sizeof s);
      if (back == NULL || inflateInit2(&s, a == SIO__ENC_GZIP ? 31 : 15) != Z_OK) abort();
      s.next_in = (Bytef *)z.base;
      s.avail_in = (uInt)z.len;
      s.next_out = (Bytef *)back;
      s.avail_out = (uInt)n;
      if (inflate(&s, Z_FINISH) != Z_STREAM_END || s.total_out != size || memcmp(back, v, size) != 0) abort();
      inflateEnd(&s);
      free(back);
    }
    sio__buf_free(&z);
  }
  free(v);
  return 0;
}
