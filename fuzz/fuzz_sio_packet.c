/*
 * Fuzz target: the Socket.IO v5 packet decoder with attachment reassembly
 * (src/sio/parser.c, src/sio/binary.c), the JSON scanner that keeps plain events as
 * text (src/sio/jscan.c), the readers of text arguments (src/sio/args.c) and the
 * JSON.stringify writer behind the encoder (src/sio/json.c).
 *
 * Input: a sequence of Engine.IO messages separated by 0x00 bytes. A message starting
 * with 'B' is a binary attachment (the bytes after the 'B'); anything else is a text
 * message. Every message goes through one decoder, as on one connection.
 *
 * Invariants:
 *  - every packet that decodes re-encodes without error, the encoding decodes again
 *    (with its attachments) into the same header (text staying text), and encoding
 *    that second packet yields the same bytes (a fixed point);
 *  - the scanner and jansson (sio__json_load, as the decoder calls it) agree on every
 *    text message and on its tail from the first '[': the scanner accepts exactly the
 *    arrays jansson accepts (no exception: lone surrogate escapes and U+0000 in keys,
 *    which JSON.parse would take, are refused by both). SIO__JSCAN_UNSURE (a number
 *    of magnitude 1e308) is not a verdict. When it accepts, its spans are jansson's
 *    elements and its walkers find the same members and elements;
 *  - every argument of a text packet reads the same from its text (fast paths) as
 *    from the tree parsed from it.
 * Everything is freed, so LeakSanitizer sees any leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/refbuf.h"
#include "sio/errors.h"
#include "sio/jscan.h"
#include "sio/json.h"
#include "sio/parser.h"
#include "sio/sio.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

/* Decodes enc (plus p's attachments) with a fresh decoder; returns the packet. */
static sio__packet_t *redecode(const sio__packet_t *p, const sio__buf_t *enc) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *q = NULL;
  int r = sio__decode_text(&d, enc->base, enc->len, &q);
  if (p->natt > 0) {
    CHECK(r == SIO_EAGAIN);
    for (uint32_t i = 0; i < p->natt; i++) {
      r = sio__decode_binary(&d, sio__refbuf_ref(p->att[i]), &q);
      CHECK(r == (i + 1 < p->natt ? SIO_EAGAIN : 0));
    }
  }
  CHECK(r == 0 && q != NULL);
  sio__decoder_free(&d);
  return q;
}

/* ---- the scanner against jansson ---- */

/* x and y print the same with the JSON.stringify writer: what a JS peer would see. */
static int same_json(const json_t *x, const json_t *y) {
  sio__buf_t a = SIO__BUF_INIT, b = SIO__BUF_INIT;
  CHECK(sio__json_write(&a, x) == 0 && sio__json_write(&b, y) == 0);
  int same = a.len == b.len && memcmp(a.base, b.base, a.len) == 0;
  sio__buf_free(&a);
  sio__buf_free(&b);
  return same;
}

/*
 * The element or member value span v of text s is the jansson value want. Parsed
 * alone, an element may differ from its place in the whole tree in one way: an
 * integer beyond 2^53 stays exact, where an overflowing integer elsewhere in the
 * array made jansson read every number as a double (sio__json_load). Both print the
 * same, so the peer never sees it.
 */
static void check_span(const char *s, const sio__jspan_t *v, const json_t *want) {
  json_t *got = NULL;
  CHECK(sio__json_load(s + v->off, v->len, &got) == 0);
  CHECK(json_equal(got, want) || same_json(got, want));
  json_decref(got);
  int esc = s[v->off] == '"' && memchr(s + v->off, '\\', v->len) != NULL;
  CHECK(((v->flags & SIO__JSPAN_ESC) != 0) == esc);
  if (json_is_string(want)) {
    /* The decoded string is jansson's, byte for byte. */
    char *buf = malloc(v->len + 1);
    CHECK(buf != NULL);
    size_t n = sio__jscan_unescape(s + v->off + 1, v->len - 2, buf);
    CHECK(n == json_string_length(want) && memcmp(buf, json_string_value(want), n) == 0);
    free(buf);
  } else if (json_is_object(want)) {
    /* Every member the walker finds is in the tree, under its decoded key. */
    size_t pos = 0, count = 0;
    sio__jspan_t k, mv;
    while (sio__jscan_member(s + v->off, v->len, &pos, &k, &mv)) {
      char *key = malloc(k.len + 1);
      CHECK(key != NULL);
      size_t kl = sio__jscan_unescape(s + v->off + k.off, k.len, key);
      CHECK(json_object_getn(want, key, kl) != NULL);
      free(key);
      count++;
    }
    CHECK(count >= json_object_size(want)); /* duplicates collapse in the tree */
  } else if (json_is_array(want)) {
    size_t pos = 0, i = 0;
    sio__jspan_t e;
    while (sio__jscan_element(s + v->off, v->len, &pos, &e)) {
      sio__jspan_t abs = {v->off + e.off, e.len, e.flags};
      CHECK(i < json_array_size(want));
      check_span(s, &abs, json_array_get(want, i++));
    }
    CHECK(i == json_array_size(want));
  }
}

static void check_scanner(const char *s, size_t len) {
  sio__jspan_t spans[8];
  size_t n;
  unsigned flags;
  int r = sio__jscan_array(s, len, spans, 8, &n, &flags);
  if (r == SIO__JSCAN_UNSURE) return;
  json_t *v = NULL;
  int jr = sio__json_load(s, len, &v);
  CHECK(jr != SIO_ENOMEM);
  CHECK((r == SIO__JSCAN_OK) == (jr == 0 && json_is_array(v)));
  if (r == SIO__JSCAN_OK) {
    CHECK(n == json_array_size(v));
    for (size_t i = 0; i < n && i < 8; i++) check_span(s, &spans[i], json_array_get(v, i));
  }
  json_decref(v);
}

/* ---- text arguments: fast paths against the tree ---- */

typedef struct {
  int type, str, num, dbl, boolean, member, has, json;
  sio_str_t s, m;
  int64_t i;
  double d;
  int b;
  char *text;
  size_t size;
} reading_t;

static void read_arg(const sio_args_t *a, size_t i, const char *key, reading_t *out) {
  out->type = sio_args_type(a, i);
  out->str = sio_args_get_str(a, i, &out->s);
  out->num = sio_args_get_int(a, i, &out->i);
  out->dbl = sio_args_get_double(a, i, &out->d);
  out->boolean = sio_args_get_bool(a, i, &out->b);
  out->member = sio_args_get_member_str(a, i, key, &out->m);
  out->has = sio_args_has_member(a, i, key);
  out->json = sio_args_to_json(a, i, &out->text, NULL);
  out->size = sio_args_size(a, i);
}

static int same_str(sio_str_t x, sio_str_t y) { return x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0; }

static void check_text_args(const sio__packet_t *p) {
  sio_args_t view;
  sio__args_of_packet(&view, p, p->type == SIO__PKT_EVENT ? 1 : 0);
  for (size_t i = 0; i < sio_args_count(&view); i++) {
    /* Probe a member the object may have: its first key when it has no escapes. */
    char key[16] = "a";
    const sio__jitem_t *it = &view.items[i];
    size_t pos = 0;
    sio__jspan_t k, v;
    if (it->text[0] == '{' && sio__jscan_member(it->text, it->len, &pos, &k, &v) && k.len < sizeof key &&
        !(k.flags & SIO__JSPAN_ESC)) {
      memcpy(key, it->text + k.off, k.len);
      key[k.len] = '\0';
    }
    reading_t fast = {0}, tree = {0};
    read_arg(&view, i, key, &fast);
    CHECK(sio__args_json(&view, i) != NULL); /* from here on, readers use the tree */
    read_arg(&view, i, key, &tree);
    CHECK(fast.type == tree.type && fast.str == tree.str && fast.num == tree.num && fast.dbl == tree.dbl);
    CHECK(fast.boolean == tree.boolean && fast.member == tree.member && fast.has == tree.has);
    CHECK(fast.json == 0 && tree.json == 0 && strcmp(fast.text, tree.text) == 0 && fast.size == tree.size);
    if (fast.str == 0) CHECK(same_str(fast.s, tree.s));
    if (fast.num == 0) CHECK(fast.i == tree.i);
    if (fast.dbl == 0) CHECK(memcmp(&fast.d, &tree.d, sizeof fast.d) == 0 || (fast.d == tree.d));
    if (fast.boolean == 0) CHECK(fast.b == tree.b);
    if (fast.member == 0) CHECK(same_str(fast.m, tree.m));
    sio_free(fast.text);
    sio_free(tree.text);
  }
}

static void check_roundtrip(const sio__packet_t *p) {
  CHECK(p->att_received == p->natt);
  sio__buf_t enc = SIO__BUF_INIT, enc2 = SIO__BUF_INIT;
  CHECK(sio__encode(p, &enc) == 0);
  sio__packet_t *q = redecode(p, &enc);
  CHECK(q->type == p->type && q->id == p->id && q->natt == p->natt);
  CHECK(strcmp(q->nsp, p->nsp) == 0);
  /* Text stays text. A tree may come back as text: the writer drops the escapes
   * that made the scanner hand a key to jansson. */
  CHECK(p->raw == NULL || q->raw != NULL);
  CHECK((q->data == NULL && q->raw == NULL) == (p->data == NULL && p->raw == NULL));
  CHECK(sio__encode(q, &enc2) == 0);
  CHECK(enc.len == enc2.len && memcmp(enc.base, enc2.base, enc.len) == 0);
  sio__packet_free(q);
  sio__buf_free(&enc);
  sio__buf_free(&enc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  /* Small enough that the fuzzer reaches the limits, large enough for real packets. */
  d.max_attachments = 8;
  d.max_nsp = 64;

  const char *s = (const char *)data;
  size_t pos = 0;
  while (pos <= size) {
    const char *nul = memchr(s + pos, 0, size - pos);
    size_t end = nul != NULL ? (size_t)(nul - s) : size;
    const char *msg = s + pos;
    size_t len = end - pos;
    sio__packet_t *p = NULL;
    int r;
    if (len > 0 && msg[0] == 'B') {
      sio__refbuf_t *att = sio__refbuf_from(0, msg + 1, len - 1);
      CHECK(att != NULL);
      r = sio__decode_binary(&d, att, &p);
    } else {
      check_scanner(msg, len);
      const char *open = memchr(msg, '[', len);
      if (open != NULL && open != msg) check_scanner(open, len - (size_t)(open - msg));
      r = sio__decode_text(&d, msg, len, &p);
    }
    CHECK((r == 0) == (p != NULL));
    if (r != SIO_EAGAIN) CHECK(d.pending == NULL);
    if (r == 0) {
      if (p->raw != NULL) check_text_args(p);
      check_roundtrip(p);
      sio__packet_free(p);
    }
    pos = end + 1;
  }
  sio__decoder_free(&d);
  return 0;
}
