/*
 * libFuzzer target: an Engine.IO v4 polling payload (an HTTP POST body) through
 * sio__eio_decode_payload (src/engine/packet.c). Whatever decodes is re-encoded with
 * sio__eio_payload_append and decoded again; the second pass must succeed and give back
 * the same packets (compared through their re-encoding, since non-canonical base64 such
 * as "bAR==" decodes to the same bytes as "bAQ==").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "engine/packet.h"
#include "sio/errors.h"

#define MAX_PACKETS 256

typedef struct {
  sio__buf_t out;
  size_t count;
} reencode_t;

static int reencode(void *user, sio__eio_packet_t *p) {
  reencode_t *r = user;
  if (p->type > SIO__EIO_NOOP || (p->binary && p->type != SIO__EIO_MESSAGE)) abort();
  int rc = sio__eio_payload_append(&r->out, p, r->count > 0);
  /* A decoded packet is always encodable (a text part cannot hold 0x1e); only running
   * out of memory may stop us, and that value then ends the decode. */
  if (rc != 0 && rc != SIO_ENOMEM) abort();
  r->count++;
  return rc;
}

static int decode_copy(const void *data, size_t size, reencode_t *r) {
  /* The decoder rewrites binary parts in place, so it gets its own exact-size copy. */
  memset(r, 0, sizeof *r);
  char *body = malloc(size ? size : 1);
  if (body == NULL) return -1;
  if (size) memcpy(body, data, size);
  int rc = sio__eio_decode_payload(body, size, MAX_PACKETS, reencode, r);
  free(body);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reencode_t first, second;
  int rc = decode_copy(data, size, &first);
  if (rc == 0) {
    if (first.count == 0 || first.count > MAX_PACKETS) abort();
    int rc2 = decode_copy(first.out.base, first.out.len, &second);
    if (rc2 != 0 || second.count != first.count || second.out.len != first.out.len ||
        memcmp(second.out.base, first.out.base, first.out.len) != 0)
      abort();
    sio__buf_free(&second.out);
  }
  sio__buf_free(&first.out);
  return 0;
}
