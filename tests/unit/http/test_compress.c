/* Unit tests for src/http/compress.c: Accept-Encoding negotiation as npm negotiator
 * answers accepts(req).encodings(["gzip", "deflate"]) (the cases were checked against
 * tests/node_modules/accepts), and gzip / deflate output that zlib inflates back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "common/buf.h"
#include "http/compress.h"
#include "sio/errors.h"

static sio_str_t str(const char *s) { return (sio_str_t){s, s ? strlen(s) : 0}; }

static void pick_encoding_follows_negotiator(void **state) {
  (void)state;
  static const struct {
    const char *ae;
    int want;
  } cases[] = {
      {NULL, SIO__ENC_IDENTITY},
      {"", SIO__ENC_IDENTITY},
      {"identity", SIO__ENC_IDENTITY},
      {"br", SIO__ENC_IDENTITY},
      {"gzip", SIO__ENC_GZIP},
      {"GZip", SIO__ENC_GZIP},
      {"deflate", SIO__ENC_DEFLATE},
      {"gzip, deflate, br", SIO__ENC_GZIP},
      {"deflate, gzip", SIO__ENC_DEFLATE},       /* equal q: the one the client lists first */
      {"gzip;q=0.5, deflate", SIO__ENC_DEFLATE}, /* higher q wins */
      {"gzip;q=0, deflate;q=0.1", SIO__ENC_DEFLATE},
      {"gzip;q=0", SIO__ENC_IDENTITY},
      {"*", SIO__ENC_GZIP},
      {"gzip;q=0, *", SIO__ENC_DEFLATE},         /* the exact name beats "*" */
      {"*;q=0", SIO__ENC_IDENTITY},
      {"  gzip ; q=0.8 ,deflate;q=0.9", SIO__ENC_DEFLATE},
      {",,gzip,,", SIO__ENC_GZIP},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int got = sio__http_pick_encoding(str(cases[i].ae), 1);
    if (got != cases[i].want) fail_msg("Accept-Encoding %s: got %d, want %d", cases[i].ae ? cases[i].ae : "(none)", got, cases[i].want);
  }
  /* Without deflate on offer, a deflate-only client gets identity. */
  assert_int_equal(sio__http_pick_encoding(str("deflate"), 0), SIO__ENC_IDENTITY);
  assert_int_equal(sio__http_pick_encoding(str("deflate, gzip"), 0), SIO__ENC_GZIP);
}

/* Inflates in with windowBits wb (31: gzip only, 15: zlib only) into out. */
static size_t inflate_all(const sio__buf_t *in, int wb, char *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(inflateInit2(&z, wb), Z_OK);
  z.next_in = (Bytef *)in->base;
  z.avail_in = (uInt)in->len;
  z.next_out = (Bytef *)out;
  z.avail_out = (uInt)cap;
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  size_t n = z.total_out;
  inflateEnd(&z);
  return n;
}

static void compress_round_trips_gzip_and_deflate(void **state) {
  (void)state;
  static char text[20000], back[20000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = "4{\"hello\":\"world\"}\x1e"[i % 19];
  for (int enc = SIO__ENC_GZIP; enc <= SIO__ENC_DEFLATE; enc++) {
    sio__buf_t b = SIO__BUF_INIT;
    assert_int_equal(sio__buf_append(&b, "keep", 4), 0);
    assert_int_equal(sio__http_compress(enc, text, sizeof text, -1, &b), 0);
    assert_memory_equal(b.base, "keep", 4); /* appended after what was there */
    assert_true(b.len - 4 < sizeof text / 10);
    sio__buf_t z = {b.base + 4, b.len - 4, b.len - 4};
    if (enc == SIO__ENC_GZIP) {
      assert_int_equal((unsigned char)z.base[0], 0x1f); /* RFC 1952 magic */
      assert_int_equal((unsigned char)z.base[1], 0x8b);
    } else {
      assert_int_equal(((unsigned char)z.base[0] << 8 | (unsigned char)z.base[1]) % 31, 0); /* RFC 1950 header check */
    }
    size_t n = inflate_all(&z, enc == SIO__ENC_GZIP ? 31 : 15, back, sizeof back);
    assert_int_equal(n, sizeof text);
    assert_memory_equal(back, text, n);
    sio__buf_free(&b);
  }
}

static void compress_handles_empty_input_and_refuses_identity(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  char back[4];
  assert_int_equal(sio__http_compress(SIO__ENC_GZIP, "", 0, 9, &b), 0);
  assert_int_equal(inflate_all(&b, 31, back, sizeof back), 0);
  size_t len = b.len;
  assert_int_equal(sio__http_compress(SIO__ENC_IDENTITY, "x", 1, -1, &b), SIO_EINVAL);
  assert_int_equal(b.len, len);
  sio__buf_free(&b);
  assert_string_equal(sio__http_encoding_name(SIO__ENC_GZIP), "gzip");
  assert_string_equal(sio__http_encoding_name(SIO__ENC_DEFLATE), "deflate");
  assert_null(sio__http_encoding_name(SIO__ENC_IDENTITY));
}

static void compressible_types(void **state) {
  (void)state;
  assert_true(sio__http_compressible("text/html; charset=utf-8"));
  assert_true(sio__http_compressible("text/javascript; charset=utf-8"));
  assert_true(sio__http_compressible("application/json"));
  assert_true(sio__http_compressible("image/svg+xml"));
  assert_false(sio__http_compressible("image/png"));
  assert_false(sio__http_compressible(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pick_encoding_follows_negotiator),
      cmocka_unit_test(compress_round_trips_gzip_and_deflate),
      cmocka_unit_test(compress_handles_empty_input_and_refuses_identity),
      cmocka_unit_test(compressible_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
