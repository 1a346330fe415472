/*
 * Fuzz target: the Redis adapter's message decoder (src/adapter/redis_codec.c), i.e.
 * whatever another node (or anyone who can PUBLISH on the Redis) sends: broadcasts
 * [uid, packet, opts], requests and responses (JSON or msgpack), plus the redis:// URL
 * parser on the same bytes.
 *
 * Input: the raw message. Each input goes through sio__mp_decode,
 * sio__redis_decode_broadcast and sio__redis_decode_message.
 *
 * Invariant checked for every value that decodes: it re-encodes without error, that
 * encoding decodes again, and encoding the second tree yields the same bytes (the
 * encoder's output is a fixed point of decode + encode). Everything is freed, so
 * LeakSanitizer sees any leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/redis_codec.h"
#include "adapter/redis_conn.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "sio/errors.h"

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

static void check_fixed_point(const sio__mp_value_t *v) {
  sio__buf_t a = SIO__BUF_INIT, b = SIO__BUF_INIT;
  CHECK(sio__mp_encode(&a, v->root, v->att, v->natt) == 0);
  sio__mp_value_t w;
  CHECK(sio__mp_decode(a.base, a.len, &w) == 0);
  CHECK(w.natt == v->natt);
  CHECK(sio__mp_encode(&b, w.root, w.att, w.natt) == 0);
  CHECK(a.len == b.len && memcmp(a.base, b.base, a.len) == 0);
  sio__mp_value_free(&w);
  sio__buf_free(&a);
  sio__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  sio__mp_value_t v;
  int r = sio__mp_decode(s, size, &v);
  CHECK(r == 0 || r == SIO_EPROTO || r == SIO_EUTF8 || r == SIO_ELIMIT);
  if (r == 0) {
    check_fixed_point(&v);
    sio__mp_value_free(&v);
  }

  sio__redis_bcast_t b;
  if (sio__redis_decode_broadcast(s, size, &b) == 0) {
    /* What the adapter reads from it must be usable: an event name and strings. */
    CHECK(json_is_string(json_array_get(b.data, 0)));
    for (size_t i = 0; i < b.nrooms; i++) CHECK(b.rooms[i] != NULL);
    for (size_t i = 0; i < b.nexcept; i++) CHECK(b.except[i] != NULL);
    CHECK(b.nsp != NULL);
    sio__redis_bcast_free(&b);
  }

  if (sio__redis_decode_message(s, size, &v) == 0) {
    CHECK(json_is_object(v.root));
    sio__mp_value_free(&v);
  }

  /* URLs are operator input, but parse them on the same bytes anyway. */
  char *text = sio__strndup(s, size < 256 ? size : 256);
  CHECK(text != NULL);
  sio__redis_url_t u;
  if (sio__redis_url_parse(text, &u) == 0) {
    CHECK(u.host && u.host[0] && u.port > 0 && u.port < 65536);
    sio__redis_url_free(&u);
  }
  sio__free(text);
  return 0;
}
