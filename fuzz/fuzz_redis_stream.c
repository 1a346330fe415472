/*
 * Fuzz target: the streams adapter's decoders (src/adapter/redis_streams_codec.c), i.e.
 * what anyone who can write to the Redis puts in the stream, on the pub/sub channels or
 * under the session keys.
 *
 * Input: a selector byte, then the payload.
 *   'e'  a stream entry: NUL-separated field, value, field, value... (XREAD's pairs)
 *   's'  a session value (base64 of msgpack)
 *   'm'  a pub/sub message (msgpack)
 *   other: an entry id (sio__xid_parse)
 * Invariants: a decoded entry's data re-encodes (JSON or base64 msgpack, by its
 * attachments) and decodes to an equal tree; a decoded session re-encodes and decodes to
 * the same sid, pid, rooms and data; a parsed id prints back to a string that parses to
 * the same id. Everything is freed, so LeakSanitizer sees any leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapter/redis_streams_codec.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "sio/errors.h"

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

#define MAX_FIELDS 64

static void fuzz_entry(const char *s, size_t n) {
  sio_str_t f[MAX_FIELDS];
  size_t k = 0, start = 0;
  for (size_t i = 0; i <= n && k < MAX_FIELDS; i++) {
    if (i == n || s[i] == '\0') {
      f[k++] = (sio_str_t){s + start, i - start};
      start = i + 1;
    }
  }
  sio__xs_entry_t e;
  if (sio__xs_decode_entry(f, k / 2, &e) != 0) return;
  if (e.v.root) {
    CHECK(json_is_object(e.v.root));
    sio__buf_t b = SIO__BUF_INIT;
    CHECK(sio__xs_encode_data(&b, e.v.root, e.v.att, e.v.natt) == 0);
    sio_str_t g[8] = {{"uid", 3}, e.uid, {"nsp", 3}, e.nsp, {"type", 4}, {"1", 1}, {"data", 4}, {b.base, b.len}};
    sio__xs_entry_t e2;
    CHECK(sio__xs_decode_entry(g, 4, &e2) == 0);
    CHECK(e2.v.natt == e.v.natt);
    CHECK(json_equal(e2.v.root, e.v.root));
    sio__xs_entry_free(&e2);
    sio__buf_free(&b);
  }
  sio__xs_entry_free(&e);
}

static void fuzz_session(const char *s, size_t n) {
  sio__xs_session_t d;
  if (sio__xs_decode_session(s, n, &d) != 0) return;
  sio_adapter_session_t v = sio__xs_session_view(&d);
  sio__buf_t b = SIO__BUF_INIT;
  int r = sio__xs_encode_session(&b, &v);
  /* A sid, pid or room holding NUL cannot be a C string: the encoder sees it cut short. */
  if (r == 0) {
    sio__xs_session_t d2;
    CHECK(sio__xs_decode_session(b.base, b.len, &d2) == 0);
    CHECK(strcmp(d2.sid, d.sid) == 0 && strcmp(d2.pid, d.pid) == 0 && d2.nrooms == d.nrooms);
    for (size_t i = 0; i < d.nrooms; i++) CHECK(strcmp(d2.rooms[i], d.rooms[i]) == 0);
    CHECK((d.data_json == NULL) == (d2.data_json == NULL) || (d.data_json == NULL && strcmp(d2.data_json, "{}") == 0));
    if (d.data_json && d2.data_json) CHECK(strcmp(d.data_json, d2.data_json) == 0);
    sio__xs_session_free(&d2);
  } else {
    CHECK(r == SIO_EJSON || r == SIO_ENOMEM);
  }
  sio__buf_free(&b);
  sio__xs_session_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const char *s = (const char *)data + 1;
  size_t n = size - 1;
  switch (data[0]) {
  case 'e':
    fuzz_entry(s, n);
    break;
  case 's':
    fuzz_session(s, n);
    break;
  case 'm': {
    sio__mp_value_t v;
    if (sio__xs_decode_message(s, n, &v) == 0) {
      CHECK(json_is_integer(json_object_get(v.root, "type")));
      sio__mp_value_free(&v);
    }
    break;
  }
  default: {
    sio__xid_t id, id2;
    if (sio__xid_parse(s, n, &id) == 0) {
      char out[SIO__XID_MAX + 1];
      size_t len = sio__xid_format(id, out);
      CHECK(sio__xid_parse(out, len, &id2) == 0 && sio__xid_cmp(id, id2) == 0);
    }
  }
  }
  return 0;
}
