/*
 * Unit tests for event arguments (src/sio/args.c, src/sio/encode.c).
 *
 * Text arguments: what a plain received packet holds and what sio_args_add_str & co.
 * write. They are read from the text where it says enough (checked by the absence of a
 * parsed tree afterwards), parsed once otherwise, copied and encoded verbatim, and
 * read back as JSON.stringify would print them (to_json, size).
 *
 * Composing and taking apart arguments that carry binary (sio_args_member,
 * sio_args_unpack, sio_args_add_array, sio_args_add_object). Each result is checked on
 * the wire: the Socket.IO packet text the args encode to (placeholders renumbered in
 * order, "<n>-" attachment count) and the bytes of every attachment, so a stray or
 * missing attachment shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "common/alloc.h"
#include "sio.h"
#include "sio/parser.h"
#include "sio/sio.h"
#include "fail_after.h"

/* ---- helpers ---- */

/* Encodes ["e", ...a] for "/" and compares the Engine.IO message text ("4" + the
 * Socket.IO packet) byte for byte. */
static void expect_packet(const sio_args_t *a, const char *want) {
  sio__refbuf_t *text = NULL;
  assert_int_equal(sio__encode_event(SIO_PARSER_DEFAULT, "/", "e", a, -1, &text), 0);
  if (text->len != strlen(want) || memcmp(sio__refbuf_ptr(text), want, text->len) != 0)
    fail_msg("got  %.*s\nwant %s", (int)text->len, sio__refbuf_ptr(text), want);
  sio__refbuf_unref(text);
}

/* The attachments of a, in order, are exactly the NULL-terminated list want. */
static void expect_attachments(const sio_args_t *a, const char *const *want) {
  uint32_t n = 0;
  while (want[n]) n++;
  assert_int_equal(a->natt, n);
  for (uint32_t i = 0; i < n; i++) {
    assert_int_equal(a->att[i]->len, strlen(want[i]));
    assert_memory_equal(sio__refbuf_ptr(a->att[i]), want[i], strlen(want[i]));
  }
}

static void expect_binary(const sio_args_t *a, size_t i, const char *want) {
  sio_str_t bin;
  assert_int_equal(sio_args_get_binary(a, i, &bin), 0);
  assert_int_equal(bin.len, strlen(want));
  assert_memory_equal(bin.ptr, want, bin.len);
}

static sio_args_t *args_new(void) {
  sio_args_t *a = NULL;
  assert_int_equal(sio_args_new(&a), 0);
  return a;
}

/* The arguments of a received EVENT: a borrowed view on [event, ...args] whose
 * placeholders index the attachments, as the decoder hands them to handlers. */
typedef struct {
  json_t *arr;
  sio__refbuf_t *att[4];
  uint32_t natt;
  sio_args_t view;
} received_t;

static void received_init(received_t *r, const char *json, const char *const *atts) {
  json_error_t err;
  r->arr = json_loads(json, 0, &err);
  if (r->arr == NULL) fail_msg("bad test JSON %s: %s", json, err.text);
  for (r->natt = 0; atts && atts[r->natt]; r->natt++) {
    r->att[r->natt] = sio__refbuf_from(SIO__EIO_HEADROOM, atts[r->natt], strlen(atts[r->natt]));
  }
  sio__args_view(&r->view, r->arr, 1, r->att, r->natt);
}

static void received_free(received_t *r) {
  json_decref(r->arr);
  for (uint32_t i = 0; i < r->natt; i++) sio__refbuf_unref(r->att[i]);
}

static const char *const two_atts[] = {"zero", "one", NULL};

/* ---- text arguments ---- */

/* The arguments of a received plain EVENT, as the decoder keeps them: text. */
typedef struct {
  sio__packet_t *p;
  sio_args_t view;
} plain_t;

static void plain_init(plain_t *r, const char *packet) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  int rc = sio__decode_text(&d, packet, strlen(packet), &r->p);
  if (rc != 0) fail_msg("decoding %s: %s", packet, sio_err_name(rc));
  assert_non_null(r->p->raw);
  sio__args_of_packet(&r->view, r->p, 1);
  sio__decoder_free(&d);
}

/* 1 if argument i of a plain view was parsed into a tree. */
static int parsed(const plain_t *r, size_t i) { return r->view.items[i].v != NULL; }

static int in_packet(const plain_t *r, const char *ptr) {
  return ptr >= r->p->raw->text && ptr < r->p->raw->text + r->p->raw->len;
}

static void text_args_are_read_without_parsing(void **state) {
  (void)state;
  plain_t r;
  plain_init(&r, "2[\"ev\",\"plain\",42,-7,true,false,null,1.5,{\"room\":\"r1\",\"n\":1,\"room\":\"r2\"},[1,\"x\"],"
                 "\"esc\\u00e9\\n\"]");
  const sio_args_t *a = &r.view;
  assert_int_equal(sio_args_count(a), 10);
  static const int types[] = {SIO_ARG_STRING, SIO_ARG_NUMBER, SIO_ARG_NUMBER, SIO_ARG_BOOL, SIO_ARG_BOOL,
                              SIO_ARG_NULL,   SIO_ARG_NUMBER, SIO_ARG_OBJECT, SIO_ARG_ARRAY, SIO_ARG_STRING};
  for (size_t i = 0; i < 10; i++) assert_int_equal(sio_args_type(a, i), types[i]);
  assert_int_equal(sio_args_type(a, 10), SIO_EINVAL);

  sio_str_t s;
  int64_t n;
  double d;
  int b;
  assert_int_equal(sio_args_get_str(a, 0, &s), 0);
  assert_int_equal(s.len, 5);
  assert_memory_equal(s.ptr, "plain", 5);
  assert_true(in_packet(&r, s.ptr)); /* borrowed from the packet's text */
  assert_int_equal(sio_args_get_int(a, 1, &n), 0);
  assert_int_equal(n, 42);
  assert_int_equal(sio_args_get_double(a, 2, &d), 0);
  assert_true(d == -7.0);
  assert_int_equal(sio_args_get_bool(a, 3, &b), 0);
  assert_int_equal(b, 1);
  assert_int_equal(sio_args_get_bool(a, 4, &b), 0);
  assert_int_equal(b, 0);
  /* The last of a repeated key wins, as with JSON.parse. */
  assert_int_equal(sio_args_get_member_str(a, 7, "room", &s), 0);
  assert_int_equal(s.len, 2);
  assert_memory_equal(s.ptr, "r2", 2);
  assert_true(in_packet(&r, s.ptr));
  assert_int_equal(sio_args_has_member(a, 7, "n"), 1);
  assert_int_equal(sio_args_has_member(a, 7, "zz"), 0);
  assert_int_equal(sio_args_has_member(a, 0, "n"), 0);
  /* Wrong types answer from the text too. */
  assert_int_equal(sio_args_get_str(a, 1, &s), SIO_EINVAL);
  assert_int_equal(sio_args_get_int(a, 0, &n), SIO_EINVAL);
  assert_int_equal(sio_args_get_bool(a, 5, &b), SIO_EINVAL);
  assert_int_equal(sio_args_get_binary(a, 0, &s), SIO_EINVAL);
  assert_int_equal(sio_args_get_member_str(a, 7, "n", &s), SIO_EINVAL);
  assert_int_equal(sio_args_get_member_str(a, 7, "zz", &s), SIO_ENOTFOUND);
  assert_int_equal(sio_args_get_member_str(a, 8, "room", &s), SIO_EINVAL);
  assert_int_equal(sio_args_get_str(a, 10, &s), SIO_EINVAL);
  for (size_t i = 0; i < 10; i++)
    if (parsed(&r, i)) fail_msg("argument %zu was parsed", i);

  /* 1.5 is not a small integer, and the string has escapes: those are parsed, once. */
  assert_int_equal(sio_args_get_int(a, 6, &n), SIO_EINVAL);
  assert_int_equal(sio_args_get_double(a, 6, &d), 0);
  assert_true(d == 1.5);
  assert_true(parsed(&r, 6));
  assert_int_equal(sio_args_get_str(a, 9, &s), 0);
  assert_int_equal(s.len, 6);
  assert_memory_equal(s.ptr, "esc\xc3\xa9\n", 6);
  assert_true(parsed(&r, 9));
  sio_str_t again;
  assert_int_equal(sio_args_get_str(a, 9, &again), 0);
  assert_ptr_equal(again.ptr, s.ptr); /* the tree is kept with the packet */
  sio__packet_free(r.p);
}

/* to_json and size answer as for the value JSON.stringify would print. */
static void text_args_read_back_as_json_stringify_prints_them(void **state) {
  (void)state;
  plain_t r;
  plain_init(&r, "2[\"ev\",\"a\\u0062\",1.0,-0,1e2,12345678901234567,{\"b\":1,\"0\":2,\"b\":3},[ 1 , 2 ],"
                 "\"\xc3\xa9\",-12,\"\",{\"k\":\"\\u00e9\"}]");
  static const char *const want[] = {"\"ab\"", "1", "0", "100", "12345678901234568", "{\"0\":2,\"b\":3}",
                                     "[1,2]", "\"\xc3\xa9\"", "-12", "\"\"", "{\"k\":\"\xc3\xa9\"}"};
  static const size_t sizes[] = {2, 1, 1, 3, 17, 13, 5, 2, 3, 0, 10};
  for (size_t i = 0; i < 11; i++) {
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(sio_args_to_json(&r.view, i, &json, &len), 0);
    if (strcmp(json, want[i]) != 0) fail_msg("argument %zu: got %s want %s", i, json, want[i]);
    assert_int_equal(len, strlen(want[i]));
    sio_free(json);
    assert_int_equal(sio_args_size(&r.view, i), sizes[i]);
  }
  char *json = NULL;
  assert_int_equal(sio_args_to_json(&r.view, 11, &json, NULL), SIO_EINVAL);
  assert_int_equal(sio_args_size(&r.view, 11), 0);
  /* Spelled the way JSON.stringify spells them: taken from the text, not parsed. */
  assert_false(parsed(&r, 7));
  assert_false(parsed(&r, 8));
  sio__packet_free(r.p);
}

static void text_args_member_and_unpack_stay_text(void **state) {
  (void)state;
  plain_t r;
  plain_init(&r, "2[\"ev\",{\"a\":{\"x\":[1, 2]},\"s\":\"t\"},[1 ,\"two\",{\"3\":3}],{\"b\":1},7]");
  sio_args_t *m = NULL;
  assert_int_equal(sio_args_member(&r.view, 0, "a", &m), 0);
  expect_packet(m, "42[\"e\",{\"x\":[1, 2]}]");
  sio_args_t *u = NULL;
  assert_int_equal(sio_args_unpack(m, 0, &u), SIO_EINVAL); /* an object */
  sio_args_free(m);
  assert_int_equal(sio_args_unpack(&r.view, 1, &u), 0);
  assert_int_equal(sio_args_count(u), 3);
  assert_int_equal(sio_args_type(u, 2), SIO_ARG_OBJECT);
  expect_packet(u, "42[\"e\",1,\"two\",{\"3\":3}]");
  sio_args_free(u);
  assert_false(parsed(&r, 0));
  assert_false(parsed(&r, 1));
  assert_int_equal(sio_args_member(&r.view, 0, "zz", &m), SIO_ENOTFOUND);
  assert_int_equal(sio_args_member(&r.view, 3, "a", &m), SIO_EINVAL);
  assert_int_equal(sio_args_member(&r.view, 9, "a", &m), SIO_EINVAL);
  assert_int_equal(sio_args_unpack(&r.view, 3, &u), SIO_EINVAL);
  sio__packet_free(r.p);

  /* A key with escapes might spell "_placeholder": such a packet goes the tree way,
   * and its members are found by their decoded keys. */
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  const char *esc = "2[\"ev\",{\"\\u0061\":1}]";
  assert_int_equal(sio__decode_text(&d, esc, strlen(esc), &p), 0);
  assert_null(p->raw);
  sio_args_t view;
  sio__args_of_packet(&view, p, 1);
  int64_t n = 0;
  assert_int_equal(sio_args_member(&view, 0, "a", &m), 0);
  assert_int_equal(sio_args_get_int(m, 0, &n), 0);
  assert_int_equal(n, 1);
  sio_args_free(m);
  assert_int_equal(sio_args_has_member(&view, 0, "a"), 1);
  sio__packet_free(p);
  sio__decoder_free(&d);
}

/* Echo and relay: received text goes back out byte for byte, in one allocation. */
static void copies_and_acks_carry_text_verbatim(void **state) {
  (void)state;
  plain_t r;
  plain_init(&r, "2/admin,5[\"ev\", {\"k\" : \"v\"} ,\"x\\u0041\",1.50]");
  sio__refbuf_t *text = NULL;
  assert_int_equal(sio__encode_ack(SIO_PARSER_DEFAULT, "/admin", &r.view, 5, &text), 0);
  const char *want = "43/admin,5[{\"k\" : \"v\"},\"x\\u0041\",1.50]";
  assert_int_equal(text->len, strlen(want));
  assert_memory_equal(sio__refbuf_ptr(text), want, text->len);
  sio__refbuf_unref(text);

  sio_args_t *c = NULL;
  assert_int_equal(sio_args_copy(&r.view, 1, (size_t)-1, &c), 0);
  sio__packet_free(r.p); /* the copy owns its text */
  assert_int_equal(sio_args_count(c), 2);
  assert_true(c->items_embedded);
  assert_true(c->chunks != NULL && c->chunks->embedded && c->chunks->next == NULL);
  expect_packet(c, "42[\"e\",\"x\\u0041\",1.50]");
  /* Appending moves the items out of the copy's block and adds text of its own. */
  for (int i = 0; i < 40; i++) assert_int_equal(sio_args_add_int(c, i), 0);
  assert_false(c->items_embedded);
  assert_int_equal(sio_args_count(c), 42);
  int64_t n = 0;
  assert_int_equal(sio_args_get_int(c, 41, &n), 0);
  assert_int_equal(n, 39);
  sio_str_t s;
  assert_int_equal(sio_args_get_str(c, 0, &s), 0);
  assert_memory_equal(s.ptr, "xA", 2);
  sio_args_free(c);

  assert_int_equal(sio_args_copy(NULL, 0, 3, &c), 0);
  assert_int_equal(sio_args_count(c), 0);
  expect_packet(c, "42[\"e\"]");
  sio_args_free(c);
}

static void added_text_args_encode_like_json_stringify(void **state) {
  (void)state;
  sio_args_t *a = args_new();
  assert_int_equal(sio_args_add_str(a, "a\"b\\c\n\x01\xc3\xa9/", 10), 0);
  assert_int_equal(sio_args_add_int(a, 5), 0);
  assert_int_equal(sio_args_add_int(a, INT64_MAX), 0);
  assert_int_equal(sio_args_add_int(a, -((int64_t)1 << 53)), 0);
  assert_int_equal(sio_args_add_double(a, 0.1), 0);
  assert_int_equal(sio_args_add_double(a, -0.0), 0);
  assert_int_equal(sio_args_add_double(a, 1e21), 0);
  assert_int_equal(sio_args_add_double(a, NAN), SIO_EINVAL);
  assert_int_equal(sio_args_add_double(a, -INFINITY), SIO_EINVAL);
  assert_int_equal(sio_args_add_bool(a, 7), 0);
  assert_int_equal(sio_args_add_null(a), 0);
  assert_int_equal(sio_args_add_json(a, "{ \"z\" : 1.0 }", 13), 0);
  assert_int_equal(sio_args_add_str(a, "\xff", 1), SIO_EUTF8);
  expect_packet(a, "42[\"e\",\"a\\\"b\\\\c\\n\\u0001\xc3\xa9/\",5,9223372036854776000,-9007199254740992,0.1,0,1e+21,"
                   "true,null,{\"z\":1}]");
  /* Read back, every value is the one added. */
  sio_str_t s;
  int64_t n;
  double d;
  assert_int_equal(sio_args_get_str(a, 0, &s), 0);
  assert_int_equal(s.len, 10);
  assert_memory_equal(s.ptr, "a\"b\\c\n\x01\xc3\xa9/", 10);
  assert_int_equal(sio_args_get_int(a, 2, &n), 0);
  assert_true(n == INT64_MAX);
  assert_int_equal(sio_args_get_int(a, 3, &n), 0);
  assert_true(n == -((int64_t)1 << 53));
  assert_int_equal(sio_args_get_double(a, 4, &d), 0);
  assert_true(d == 0.1);
  assert_int_equal(sio_args_get_double(a, 5, &d), 0);
  assert_true(d == 0 && signbit(d));
  assert_int_equal(sio_args_get_int(a, 6, &n), SIO_EINVAL);
  assert_int_equal(sio_args_type(a, 9), SIO_ARG_OBJECT);
  assert_int_equal(sio_args_size(a, 0), 10);
  assert_int_equal(sio_args_size(a, 2), strlen("9223372036854776000"));
  sio_args_free(a);
}

/* add_json_text keeps the caller's spelling (the encoder copies it), refuses what is not
 * exactly one valid value, and readers still see the values. */
static void json_text_args_are_kept_as_written_and_checked(void **state) {
  (void)state;
  sio_args_t *a = args_new();
  const char *obj = "{\"id\":\"1\",\"text\":\"<script>\\\"\\u00e9\xf0\x9f\x98\x80\\n\",\"ts\":1.0}";
  assert_int_equal(sio_args_add_json_text(a, obj, strlen(obj)), 0);
  assert_int_equal(sio_args_add_json_text(a, "  [1, 2]\n", 9), 0);
  assert_int_equal(sio_args_add_json_text(a, "\"a\\tb\"", 6), 0);
  /* Refused, a unchanged. */
  assert_int_equal(sio_args_add_json_text(a, "", 0), SIO_EJSON);
  assert_int_equal(sio_args_add_json_text(a, "1,2", 3), SIO_EJSON);
  assert_int_equal(sio_args_add_json_text(a, "1],[2", 5), SIO_EJSON);
  assert_int_equal(sio_args_add_json_text(a, "{\"a\":}", 6), SIO_EJSON);
  assert_int_equal(sio_args_add_json_text(a, "\"\xff\"", 3), SIO_EJSON);
  assert_int_equal(sio_args_add_json_text(a, "{\"_placeholder\":true,\"num\":0}", 29), SIO_EJSON);
  assert_int_equal(sio_args_count(a), 3);
  expect_packet(a, "42[\"e\",{\"id\":\"1\",\"text\":\"<script>\\\"\\u00e9\xf0\x9f\x98\x80\\n\",\"ts\":1.0},[1, 2],"
                   "\"a\\tb\"]");
  sio_str_t s;
  assert_int_equal(sio_args_get_member_str(a, 0, "text", &s), 0);
  assert_int_equal(s.len, strlen("<script>\"\xc3\xa9\xf0\x9f\x98\x80\n"));
  assert_memory_equal(s.ptr, "<script>\"\xc3\xa9\xf0\x9f\x98\x80\n", s.len);
  assert_int_equal(sio_args_type(a, 1), SIO_ARG_ARRAY);
  assert_int_equal(sio_args_get_str(a, 2, &s), 0);
  assert_int_equal(s.len, 3);
  assert_memory_equal(s.ptr, "a\tb", 3);
  /* A key spelled with an escape goes the add_json way: checked as a tree. */
  assert_int_equal(sio_args_add_json_text(a, "{\"\\u0061\":1}", 12), 0);
  assert_int_equal(sio_args_add_json_text(a, "{\"_placeholder\":false}", 22), 0);
  assert_int_equal(sio_args_count(a), 5);
  sio_args_free(a);
}

/* Text never moves once written: strings read from args stay valid while the same
 * args grow, even as the source of what is appended. */
static void strings_read_from_args_stay_put_while_they_grow(void **state) {
  (void)state;
  sio_args_t *a = args_new();
  assert_int_equal(sio_args_add_cstr(a, "hello"), 0);
  sio_str_t first;
  assert_int_equal(sio_args_get_str(a, 0, &first), 0);
  for (int i = 0; i < 200; i++) {
    sio_str_t s;
    assert_int_equal(sio_args_get_str(a, (size_t)i, &s), 0);
    if (i % 2) assert_int_equal(sio_args_add_str(a, s.ptr, s.len), 0);
    else assert_int_equal(sio_args_add_arg(a, a, (size_t)i), 0);
  }
  assert_int_equal(sio_args_count(a), 201);
  assert_int_equal(first.len, 5);
  assert_memory_equal(first.ptr, "hello", 5);
  sio_str_t last;
  assert_int_equal(sio_args_get_str(a, 200, &last), 0);
  assert_memory_equal(last.ptr, "hello", 5);
  sio_args_free(a);
}

static void events_with_many_arguments_keep_them_all(void **state) {
  (void)state;
  char packet[512] = "2[\"ev\"", want[512] = "42[\"e\"";
  for (int i = 0; i < 40; i++) {
    snprintf(packet + strlen(packet), sizeof packet - strlen(packet), ",%d", i);
    snprintf(want + strlen(want), sizeof want - strlen(want), ",%d", i);
  }
  strcat(packet, "]");
  strcat(want, "]");
  plain_t r;
  plain_init(&r, packet);
  assert_int_equal(sio_args_count(&r.view), 40);
  int64_t n = 0;
  assert_int_equal(sio_args_get_int(&r.view, 39, &n), 0);
  assert_int_equal(n, 39);
  expect_packet(&r.view, want);
  sio__packet_free(r.p);
}

/* ---- sio_args_member ---- */

static void member_keeps_binary_and_renumbers_it(void **state) {
  (void)state;
  received_t r;
  received_init(&r, "[\"ev\",7,{\"a\":{\"_placeholder\":true,\"num\":1},\"b\":[{\"_placeholder\":true,\"num\":0}]}]",
                two_atts);
  sio_args_t *m = NULL;
  assert_int_equal(sio_args_member(&r.view, 1, "a", &m), 0);
  assert_int_equal(sio_args_count(m), 1);
  assert_int_equal(sio_args_type(m, 0), SIO_ARG_BINARY);
  expect_binary(m, 0, "one");
  expect_packet(m, "451-[\"e\",{\"_placeholder\":true,\"num\":0}]");
  expect_attachments(m, (const char *const[]){"one", NULL});
  sio_args_free(m);

  assert_int_equal(sio_args_member(&r.view, 1, "b", &m), 0);
  assert_int_equal(sio_args_type(m, 0), SIO_ARG_ARRAY);
  expect_packet(m, "451-[\"e\",[{\"_placeholder\":true,\"num\":0}]]");
  expect_attachments(m, (const char *const[]){"zero", NULL});
  sio_args_free(m);
  received_free(&r);
}

static void member_copies_plain_json_members(void **state) {
  (void)state;
  received_t r;
  received_init(&r, "[\"ev\",{\"s\":\"text\",\"n\":null,\"o\":{\"_placeholder\":false}}]", NULL);
  sio_args_t *m = NULL;
  sio_str_t s;
  assert_int_equal(sio_args_member(&r.view, 0, "s", &m), 0);
  assert_int_equal(sio_args_get_str(m, 0, &s), 0);
  assert_int_equal(s.len, 4);
  assert_memory_equal(s.ptr, "text", 4);
  sio_args_free(m);
  assert_int_equal(sio_args_member(&r.view, 0, "n", &m), 0);
  assert_int_equal(sio_args_type(m, 0), SIO_ARG_NULL);
  sio_args_free(m);
  /* A placeholder lookalike stays a plain object. */
  assert_int_equal(sio_args_member(&r.view, 0, "o", &m), 0);
  assert_int_equal(sio_args_type(m, 0), SIO_ARG_OBJECT);
  expect_packet(m, "42[\"e\",{\"_placeholder\":false}]");
  sio_args_free(m);
  received_free(&r);
}

static void member_reports_absent_keys_and_non_objects(void **state) {
  (void)state;
  received_t r;
  received_init(&r, "[\"ev\",{\"a\":1},5,[1],{\"_placeholder\":true,\"num\":0}]", (const char *const[]){"b", NULL});
  sio_args_t *m = (sio_args_t *)&r; /* must stay untouched on error */
  assert_int_equal(sio_args_member(&r.view, 0, "missing", &m), SIO_ENOTFOUND);
  assert_int_equal(sio_args_member(&r.view, 1, "a", &m), SIO_EINVAL);
  assert_int_equal(sio_args_member(&r.view, 2, "a", &m), SIO_EINVAL);
  assert_int_equal(sio_args_member(&r.view, 3, "num", &m), SIO_EINVAL); /* binary */
  assert_int_equal(sio_args_member(&r.view, 4, "a", &m), SIO_EINVAL);  /* out of range */
  assert_int_equal(sio_args_member(&r.view, 0, NULL, &m), SIO_EINVAL);
  assert_int_equal(sio_args_member(NULL, 0, "a", &m), SIO_EINVAL);
  assert_ptr_equal(m, &r);
  received_free(&r);
}

/* ---- sio_args_unpack ---- */

static void unpack_returns_elements_in_order_with_binary(void **state) {
  (void)state;
  received_t r;
  received_init(&r, "[\"ev\",[1,{\"_placeholder\":true,\"num\":1},\"s\",{\"k\":{\"_placeholder\":true,\"num\":0}}]]",
                two_atts);
  sio_args_t *u = NULL;
  int64_t n;
  assert_int_equal(sio_args_unpack(&r.view, 0, &u), 0);
  assert_int_equal(sio_args_count(u), 4);
  assert_int_equal(sio_args_get_int(u, 0, &n), 0);
  assert_int_equal(n, 1);
  expect_binary(u, 1, "one");
  /* Renumbered in the order the binary parts appear: "one" first, then "zero". */
  expect_packet(u, "452-[\"e\",1,{\"_placeholder\":true,\"num\":0},\"s\",{\"k\":{\"_placeholder\":true,\"num\":1}}]");
  expect_attachments(u, (const char *const[]){"one", "zero", NULL});
  sio_args_t *k = NULL;
  assert_int_equal(sio_args_member(u, 3, "k", &k), 0);
  expect_binary(k, 0, "zero");
  sio_args_free(k);
  sio_args_free(u);
  received_free(&r);
}

static void unpack_takes_arrays_only(void **state) {
  (void)state;
  received_t r;
  received_init(&r, "[\"ev\",[],{\"a\":[1]},\"[1]\"]", NULL);
  sio_args_t *u = NULL;
  assert_int_equal(sio_args_unpack(&r.view, 0, &u), 0);
  assert_int_equal(sio_args_count(u), 0);
  expect_packet(u, "42[\"e\"]");
  sio_args_free(u);
  u = (sio_args_t *)&r;
  assert_int_equal(sio_args_unpack(&r.view, 1, &u), SIO_EINVAL);
  assert_int_equal(sio_args_unpack(&r.view, 2, &u), SIO_EINVAL);
  assert_int_equal(sio_args_unpack(&r.view, 3, &u), SIO_EINVAL);
  assert_int_equal(sio_args_unpack(NULL, 0, &u), SIO_EINVAL);
  assert_ptr_equal(u, &r);
  received_free(&r);
}

/* ---- sio_args_add_array ---- */

static void add_array_renumbers_after_existing_attachments(void **state) {
  (void)state;
  sio_args_t *a = args_new(), *items = args_new(), *obj = args_new();
  assert_int_equal(sio_args_add_binary(a, "A", 1), 0);
  assert_int_equal(sio_args_add_binary(items, "B", 1), 0);
  assert_int_equal(sio_args_add_int(items, 5), 0);
  assert_int_equal(sio_args_add_binary(obj, "C", 1), 0);
  assert_int_equal(sio_args_add_object(items, (const char *const[]){"z"}, obj), 0);
  assert_int_equal(sio_args_add_array(a, items), 0);
  assert_int_equal(sio_args_count(a), 2);
  expect_packet(a, "453-[\"e\",{\"_placeholder\":true,\"num\":0},[{\"_placeholder\":true,\"num\":1},5,"
                   "{\"z\":{\"_placeholder\":true,\"num\":2}}]]");
  expect_attachments(a, (const char *const[]){"A", "B", "C", NULL});
  /* items is unchanged and still owns its own numbering. */
  expect_packet(items, "452-[\"e\",{\"_placeholder\":true,\"num\":0},5,{\"z\":{\"_placeholder\":true,\"num\":1}}]");
  sio_args_t *u = NULL;
  assert_int_equal(sio_args_unpack(a, 1, &u), 0);
  expect_binary(u, 0, "B");
  sio_args_free(u);
  sio_args_free(obj);
  sio_args_free(items);
  sio_args_free(a);
}

static void add_array_of_nothing_is_empty_array(void **state) {
  (void)state;
  sio_args_t *a = args_new(), *none = args_new();
  assert_int_equal(sio_args_add_array(a, NULL), 0);
  assert_int_equal(sio_args_add_array(a, none), 0);
  expect_packet(a, "42[\"e\",[],[]]");
  sio_args_free(none);
  sio_args_free(a);
}

static void add_array_of_itself_and_of_received_args(void **state) {
  (void)state;
  sio_args_t *a = args_new();
  assert_int_equal(sio_args_add_binary(a, "X", 1), 0);
  assert_int_equal(sio_args_add_int(a, 1), 0);
  assert_int_equal(sio_args_add_array(a, a), 0);
  expect_packet(a, "452-[\"e\",{\"_placeholder\":true,\"num\":0},1,[{\"_placeholder\":true,\"num\":1},1]]");
  expect_attachments(a, (const char *const[]){"X", "X", NULL});

  received_t r;
  received_init(&r, "[\"ev\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]", two_atts);
  sio_args_t *b = args_new();
  assert_int_equal(sio_args_add_array(b, &r.view), 0);
  expect_packet(b, "452-[\"e\",[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]]");
  expect_attachments(b, (const char *const[]){"one", "zero", NULL});
  /* A borrowed view cannot be appended to. */
  assert_int_equal(sio_args_add_array(&r.view, b), SIO_EINVAL);
  assert_int_equal(sio_args_add_array(NULL, b), SIO_EINVAL);
  received_free(&r);
  sio_args_free(b);
  sio_args_free(a);
}

/* ---- sio_args_add_object ---- */

static void add_object_builds_members_in_key_order(void **state) {
  (void)state;
  sio_args_t *a = args_new(), *v = args_new();
  assert_int_equal(sio_args_add_int(v, 1), 0);
  assert_int_equal(sio_args_add_cstr(v, "s"), 0);
  assert_int_equal(sio_args_add_binary(v, "\x00\xff", 2), 0);
  assert_int_equal(sio_args_add_null(v), 0);
  assert_int_equal(sio_args_add_object(a, (const char *const[]){"b", "a", "bin", "ü"}, v), 0);
  assert_int_equal(sio_args_count(a), 1);
  assert_int_equal(sio_args_type(a, 0), SIO_ARG_OBJECT);
  expect_packet(a, "451-[\"e\",{\"b\":1,\"a\":\"s\",\"bin\":{\"_placeholder\":true,\"num\":0},\"ü\":null}]");
  sio_args_t *m = NULL;
  assert_int_equal(sio_args_member(a, 0, "bin", &m), 0);
  sio_str_t bin;
  assert_int_equal(sio_args_get_binary(m, 0, &bin), 0);
  assert_int_equal(bin.len, 2);
  assert_memory_equal(bin.ptr, "\x00\xff", 2);
  sio_args_free(m);
  /* Empty values: {} (keys may then be NULL). */
  assert_int_equal(sio_args_add_object(a, NULL, NULL), 0);
  expect_packet(a, "451-[\"e\",{\"b\":1,\"a\":\"s\",\"bin\":{\"_placeholder\":true,\"num\":0},\"ü\":null},{}]");
  sio_args_free(v);
  sio_args_free(a);
}

static void add_object_nests_and_keeps_last_duplicate(void **state) {
  (void)state;
  sio_args_t *a = args_new(), *inner = args_new(), *arr = args_new(), *outer = args_new();
  assert_int_equal(sio_args_add_binary(arr, "deep", 4), 0);
  assert_int_equal(sio_args_add_array(inner, arr), 0);
  assert_int_equal(sio_args_add_int(inner, 1), 0);
  assert_int_equal(sio_args_add_int(inner, 2), 0);
  /* "k" twice: the last value wins at the first position, as in a JS object literal. */
  assert_int_equal(sio_args_add_object(outer, (const char *const[]){"list", "k", "k"}, inner), 0);
  assert_int_equal(sio_args_add_binary(a, "first", 5), 0);
  assert_int_equal(sio_args_add_arg(a, outer, 0), 0);
  expect_packet(a, "452-[\"e\",{\"_placeholder\":true,\"num\":0},"
                   "{\"list\":[{\"_placeholder\":true,\"num\":1}],\"k\":2}]");
  expect_attachments(a, (const char *const[]){"first", "deep", NULL});
  /* Taking it apart again: member, then unpack, reaches the same bytes. */
  sio_args_t *list = NULL, *u = NULL;
  assert_int_equal(sio_args_member(a, 1, "list", &list), 0);
  assert_int_equal(sio_args_unpack(list, 0, &u), 0);
  expect_binary(u, 0, "deep");
  sio_args_free(u);
  sio_args_free(list);
  sio_args_free(outer);
  sio_args_free(arr);
  sio_args_free(inner);
  sio_args_free(a);
}

static void add_object_refuses_bad_keys_and_leaves_args_unchanged(void **state) {
  (void)state;
  sio_args_t *a = args_new(), *v = args_new(), *t = args_new();
  assert_int_equal(sio_args_add_binary(a, "A", 1), 0);
  assert_int_equal(sio_args_add_binary(v, "V", 1), 0);
  assert_int_equal(sio_args_add_int(v, 0), 0);
  assert_int_equal(sio_args_add_object(a, (const char *const[]){"ok", NULL}, v), SIO_EINVAL);
  assert_int_equal(sio_args_add_object(a, NULL, v), SIO_EINVAL);
  assert_int_equal(sio_args_add_object(a, (const char *const[]){"ok", "\xff"}, v), SIO_EUTF8);
  assert_int_equal(sio_args_add_object(NULL, (const char *const[]){"a", "b"}, v), SIO_EINVAL);
  /* Would read as a binary attachment on every client. */
  assert_int_equal(sio_args_add_bool(t, 1), 0);
  assert_int_equal(sio_args_add_int(t, 0), 0);
  assert_int_equal(sio_args_add_object(a, (const char *const[]){"_placeholder", "num"}, t), SIO_EINVAL);
  /* _placeholder false, or true only deeper down inside a value, is fine. */
  sio_args_t *f = args_new();
  assert_int_equal(sio_args_add_bool(f, 0), 0);
  assert_int_equal(sio_args_add_object(f, (const char *const[]){"_placeholder"}, f), 0);
  expect_packet(f, "42[\"e\",false,{\"_placeholder\":false}]");
  expect_packet(a, "451-[\"e\",{\"_placeholder\":true,\"num\":0}]");
  expect_attachments(a, (const char *const[]){"A", NULL});
  received_t r;
  received_init(&r, "[\"ev\"]", NULL);
  assert_int_equal(sio_args_add_object(&r.view, (const char *const[]){"a", "b"}, v), SIO_EINVAL);
  received_free(&r);
  sio_args_free(f);
  sio_args_free(t);
  sio_args_free(v);
  sio_args_free(a);
}

/* ---- out of memory ---- */

/* fail_after, oom_malloc, oom_realloc, oom_free: fail_after.h */

/* One composition step run under a failing allocator. */
typedef int (*compose_fn)(sio_args_t *a, const sio_args_t *src);

static int compose_array(sio_args_t *a, const sio_args_t *src) { return sio_args_add_array(a, src); }
static int compose_object(sio_args_t *a, const sio_args_t *src) {
  return sio_args_add_object(a, (const char *const[]){"x", "y", "z"}, src);
}
/* member + unpack, then the elements appended one by one. */
static int compose_member_unpack(sio_args_t *a, const sio_args_t *src) {
  sio_args_t *m = NULL, *u = NULL;
  int r = sio_args_member(src, 2, "k", &m);
  if (r == 0) r = sio_args_unpack(m, 0, &u);
  for (size_t i = 0; r == 0 && i < sio_args_count(u); i++) r = sio_args_add_arg(a, u, i);
  sio_args_free(u);
  sio_args_free(m);
  return r;
}

/*
 * Steps the failure point through each composition: every step either completes with
 * the exact packet or returns SIO_ENOMEM with the target unchanged (no attachment left
 * behind without its placeholder); nothing leaks (LeakSanitizer).
 */
static void compositions_survive_oom_at_every_allocation(void **state) {
  (void)state;
  static const struct {
    compose_fn fn;
    const char *want;
  } cases[] = {
      {compose_array, "453-[\"e\",{\"_placeholder\":true,\"num\":0},[{\"_placeholder\":true,\"num\":1},\"s\","
                      "{\"k\":[{\"_placeholder\":true,\"num\":2}]}]]"},
      {compose_object, "453-[\"e\",{\"_placeholder\":true,\"num\":0},{\"x\":{\"_placeholder\":true,\"num\":1},"
                       "\"y\":\"s\",\"z\":{\"k\":[{\"_placeholder\":true,\"num\":2}]}}]"},
      {compose_member_unpack, "452-[\"e\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"},
  };
  const char *before = "451-[\"e\",{\"_placeholder\":true,\"num\":0}]";
  sio_allocator_t alloc = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&alloc);
  sio__alloc_share_with_jansson(1); /* parses must fail too */
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int completed = 0, failures = 0;
    for (long n = 0; n < 500 && !completed; n++) {
      received_t r;
      received_init(&r, "[\"ev\",{\"_placeholder\":true,\"num\":1},\"s\",{\"k\":[{\"_placeholder\":true,\"num\":0}]}]",
                    two_atts);
      sio_args_t *a = args_new();
      assert_int_equal(sio_args_add_binary(a, "A", 1), 0);
      fail_after = n;
      int rc = cases[c].fn(a, &r.view);
      fail_after = -1;
      if (rc == 0) {
        completed = 1;
        expect_packet(a, cases[c].want);
      } else {
        if (rc != SIO_ENOMEM) fail_msg("case %zu step %ld: %s", c, n, sio_err_name(rc));
        failures++;
        if (cases[c].fn != compose_member_unpack) {
          assert_int_equal(sio_args_count(a), 1);
          expect_packet(a, before);
        }
        /* member+unpack appends one element at a time: each append is atomic. */
        assert_int_equal(a->natt, sio_args_count(a));
      }
      sio_args_free(a);
      received_free(&r);
    }
    assert_true(completed);
    assert_true(failures >= 2);
  }
  sio_set_allocator(NULL);
  sio__alloc_share_with_jansson(0);
}

/*
 * Steps the failure point through what a relaying handler does with text arguments:
 * copy them, append to the copy, read a value that must be parsed, print an object,
 * encode. Each step completes with the exact packet or returns SIO_ENOMEM; a parse
 * that runs out of memory fails the read that needed it and nothing else. Every token
 * is short, so jansson's lexer never needs to grow its buffer (see test_oom.c).
 */
static void text_args_survive_oom_at_every_allocation(void **state) {
  (void)state;
  sio_allocator_t alloc = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&alloc);
  sio__alloc_share_with_jansson(1); /* parses must fail too */
  int completed = 0, failures = 0;
  for (long n = 0; n < 500 && !completed; n++) {
    plain_t r;
    plain_init(&r, "2[\"ev\",{\"k\":[1,\"x\"]},2.5,\"s\\n\"]");
    sio_args_t *c = NULL;
    char *json = NULL;
    double d = 0;
    sio__refbuf_t *text = NULL;
    fail_after = n;
    int rc = sio_args_copy(&r.view, 0, 3, &c);
    if (rc == 0) rc = sio_args_add_str(c, "more", 4);
    if (rc == 0) rc = sio_args_add_int(c, INT64_MAX);
    if (rc == 0) rc = sio_args_add_json_text(c, "{\"t\":\"a\\\"b\"}", 12);
    if (rc == 0) rc = sio_args_get_double(c, 1, &d);
    if (rc == 0) rc = sio_args_to_json(&r.view, 0, &json, NULL);
    if (rc == 0) rc = sio__encode_event(SIO_PARSER_DEFAULT, "/", "e", c, 3, &text);
    fail_after = -1;
    if (rc == 0) {
      completed = 1;
      assert_true(d == 2.5);
      assert_string_equal(json, "{\"k\":[1,\"x\"]}");
      const char *want = "423[\"e\",{\"k\":[1,\"x\"]},2.5,\"s\\n\",\"more\",9223372036854776000,{\"t\":\"a\\\"b\"}]";
      assert_int_equal(text->len, strlen(want));
      assert_memory_equal(sio__refbuf_ptr(text), want, text->len);
    } else {
      if (rc != SIO_ENOMEM) fail_msg("step %ld: %s", n, sio_err_name(rc));
      failures++;
    }
    sio__refbuf_unref(text);
    sio_free(json);
    sio_args_free(c);
    sio__packet_free(r.p);
  }
  sio_set_allocator(NULL);
  sio__alloc_share_with_jansson(0);
  assert_true(completed);
  assert_true(failures >= 5);
}

int main(void) {
  sio_set_allocator(NULL);
  sio__alloc_share_with_jansson(0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_args_are_read_without_parsing),
      cmocka_unit_test(text_args_read_back_as_json_stringify_prints_them),
      cmocka_unit_test(text_args_member_and_unpack_stay_text),
      cmocka_unit_test(copies_and_acks_carry_text_verbatim),
      cmocka_unit_test(added_text_args_encode_like_json_stringify),
      cmocka_unit_test(json_text_args_are_kept_as_written_and_checked),
      cmocka_unit_test(strings_read_from_args_stay_put_while_they_grow),
      cmocka_unit_test(events_with_many_arguments_keep_them_all),
      cmocka_unit_test(member_keeps_binary_and_renumbers_it),
      cmocka_unit_test(member_copies_plain_json_members),
      cmocka_unit_test(member_reports_absent_keys_and_non_objects),
      cmocka_unit_test(unpack_returns_elements_in_order_with_binary),
      cmocka_unit_test(unpack_takes_arrays_only),
      cmocka_unit_test(add_array_renumbers_after_existing_attachments),
      cmocka_unit_test(add_array_of_nothing_is_empty_array),
      cmocka_unit_test(add_array_of_itself_and_of_received_args),
      cmocka_unit_test(add_object_builds_members_in_key_order),
      cmocka_unit_test(add_object_nests_and_keeps_last_duplicate),
      cmocka_unit_test(add_object_refuses_bad_keys_and_leaves_args_unchanged),
      cmocka_unit_test(compositions_survive_oom_at_every_allocation),
      cmocka_unit_test(text_args_survive_oom_at_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
