/*
 * Fuzz target: sio_args_add_json_text (src/sio/args.c), which checks caller-encoded JSON
 * with the packet scanner (src/sio/jscan.c) and keeps it as text.
 *
 * Input: the JSON text, as is.
 *
 * Invariants:
 *  - accepted text is a value jansson accepts (sio__json_load, the decoder's parse);
 *    refused text is one jansson refuses, a {"_placeholder":true} object, or text that
 *    went the sio_args_add_json way (keys that may spell "_placeholder", a borderline
 *    number) and that jansson's plain parse refuses;
 *  - accepted text goes out in an EVENT packet that decodes back to the same value, and
 *    reads (type, string) the same from the args as from that tree.
 * Everything is freed, so LeakSanitizer sees any leak.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/refbuf.h"
#include "sio/errors.h"
#include "sio/parser.h"
#include "sio/sio.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  json_t *v = NULL;
  int jr = sio__json_load(s, size, &v);
  if (jr == SIO_ENOMEM) return 0;
  sio_args_t *a;
  if (sio_args_new(&a) != 0) {
    json_decref(v);
    return 0;
  }
  int r = sio_args_add_json_text(a, s, size);
  if (r == 0) {
    CHECK(jr == 0);
    CHECK(sio_args_count(a) == 1);
    sio__refbuf_t *text = NULL;
    CHECK(sio__encode_event(SIO_PARSER_DEFAULT, "/", "e", a, -1, &text) == 0);
    sio__decoder_t d;
    sio__decoder_init(&d);
    sio__packet_t *p = NULL;
    /* The Engine.IO message type '4' is not part of what the decoder reads. */
    CHECK(sio__decode_text(&d, sio__refbuf_ptr(text) + 1, text->len - 1, &p) == 0);
    sio_args_t back;
    sio__args_of_packet(&back, p, 1);
    json_t *w = sio__args_json(&back, 0);
    CHECK(w != NULL && json_equal(w, v));
    CHECK(sio_args_type(a, 0) == sio_args_type(&back, 0));
    sio_str_t x, y;
    int gx = sio_args_get_str(a, 0, &x), gy = sio_args_get_str(&back, 0, &y);
    CHECK(gx == gy);
    if (gx == 0) CHECK(x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0);
    sio__packet_free(p);
    sio__decoder_free(&d);
    sio__refbuf_unref(text);
  } else if (r == SIO_EJSON) {
    json_t *plain = jr == 0 ? json_loadb(s, size, JSON_DECODE_ANY, NULL) : NULL;
    CHECK(jr != 0 || sio__placeholder_check(v, 0) != 0 || plain == NULL);
    json_decref(plain);
    CHECK(sio_args_count(a) == 0);
  } else {
    CHECK(r == SIO_ENOMEM);
  }
  json_decref(v);
  sio_args_free(a);
  return 0;
}
