/*
 * Unit tests for the Socket.IO v5 packet codec (src/sio/parser.c, src/sio/binary.c):
 * byte-exact decode/re-encode of every packet type, ack ids, namespaces, binary
 * attachment reassembly, every error branch, limits and OOM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/refbuf.h"
#include "sio/common.h"
#include "sio/errors.h"
#include "sio/parser.h"
#include "sio/sio.h"
#include "fail_after.h"

/* ---- helpers ---- */

static int decode(sio__decoder_t *d, const char *text, sio__packet_t **out) {
  return sio__decode_text(d, text, strlen(text), out);
}

/* Decodes a complete non-binary packet. */
static sio__packet_t *decode_ok(const char *text) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  int r = decode(&d, text, &p);
  if (r != 0) fail_msg("decoding %s: %s", text, sio_err_name(r));
  assert_non_null(p);
  assert_null(d.pending);
  sio__decoder_free(&d);
  return p;
}

/* A non-NULL value that every failing call must overwrite with NULL. */
static sio__packet_t sentinel;

static void expect_error(const char *text, size_t len, int want) {
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = &sentinel;
  int r = sio__decode_text(&d, text, len, &p);
  if (r != want) fail_msg("decoding %.*s: got %s want %s", (int)len, text, sio_err_name(r), sio_err_name(want));
  assert_null(p);
  assert_null(d.pending);
  sio__decoder_free(&d);
}
#define EXPECT_ERROR(lit, code) expect_error((lit), sizeof(lit) - 1, (code))

static void expect_encoded(const sio__packet_t *p, const char *want) {
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__encode(p, &b), 0);
  if (b.len != strlen(want) || memcmp(b.base, want, b.len) != 0)
    fail_msg("encoded %.*s want %s", (int)b.len, b.base, want);
  sio__buf_free(&b);
}

/* Decodes text, checks it re-encodes to want (text itself when want is NULL). */
static void expect_roundtrip(const char *text, const char *want) {
  sio__packet_t *p = decode_ok(text);
  expect_encoded(p, want ? want : text);
  sio__packet_free(p);
}

static sio__refbuf_t *att(const char *s) { return sio__refbuf_from(4, s, strlen(s)); }

static json_t *parse(const char *text) {
  json_error_t err;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
  if (v == NULL) fail_msg("bad test JSON %s", text);
  return v;
}

/* ---- decoding each type ---- */

static void parser_decodes_connect(void **state) {
  (void)state;
  sio__packet_t *p = decode_ok("0");
  assert_int_equal(p->type, SIO__PKT_CONNECT);
  assert_string_equal(p->nsp, "/");
  assert_int_equal(p->id, -1);
  assert_null(p->data);
  assert_int_equal(p->natt, 0);
  assert_null(p->att);
  expect_encoded(p, "0");
  sio__packet_free(p);

  p = decode_ok("0/admin,{\"token\":\"abc\"}");
  assert_int_equal(p->type, SIO__PKT_CONNECT);
  assert_string_equal(p->nsp, "/admin");
  assert_string_equal(json_string_value(json_object_get(p->data, "token")), "abc");
  sio__packet_free(p);

  expect_roundtrip("0{\"token\":\"abc\"}", NULL);
  expect_roundtrip("0/admin,{\"token\":\"abc\"}", NULL);
  expect_roundtrip("0/admin,", NULL);
  /* Without a comma the namespace runs to the end of the message. */
  expect_roundtrip("0/admin", "0/admin,");
  /* An explicit "/" is the default namespace and is not written back. */
  expect_roundtrip("0/,{}", "0{}");
}

static void parser_decodes_disconnect(void **state) {
  (void)state;
  sio__packet_t *p = decode_ok("1/admin,");
  assert_int_equal(p->type, SIO__PKT_DISCONNECT);
  assert_string_equal(p->nsp, "/admin");
  assert_null(p->data);
  sio__packet_free(p);
  expect_roundtrip("1", NULL);
}

static void parser_decodes_event(void **state) {
  (void)state;
  sio__packet_t *p = decode_ok("2/admin,12[\"a\",{\"b\":[1,2.5,null,true]}]");
  assert_int_equal(p->type, SIO__PKT_EVENT);
  assert_string_equal(p->nsp, "/admin");
  assert_int_equal(p->id, 12);
  /* A plain event keeps its payload as text (no tree), its name decoded beside it. */
  assert_null(p->data);
  assert_non_null(p->raw);
  assert_string_equal(p->raw->event, "a");
  assert_int_equal(p->raw->n, 2);
  assert_int_equal(p->raw->items[1].len, strlen("{\"b\":[1,2.5,null,true]}"));
  assert_memory_equal(p->raw->items[1].text, "{\"b\":[1,2.5,null,true]}", p->raw->items[1].len);
  expect_encoded(p, "2/admin,12[\"a\",{\"b\":[1,2.5,null,true]}]");
  sio__packet_free(p);

  expect_roundtrip("2[\"hello\",1]", NULL);
  expect_roundtrip("2/admin,[\"a\"]", NULL);
  expect_roundtrip("27[\"a\"]", NULL);
  /* Text is forwarded as it came: its escapes and white space stay (JSON.parse reads
   * the same values from it). */
  expect_roundtrip("2[\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"\\u00e9\\/\\u0001\"]", NULL);
  expect_roundtrip("2[ \"a\" ,\t{ \"b\" : 1.0 } ]", NULL);
  /* Trailing JSON whitespace is accepted, as JSON.parse accepts it. */
  expect_roundtrip("2[\"a\"] \n", "2[\"a\"]");
  /* An empty-string event name is a string; only reserved names are refused. */
  expect_roundtrip("2[\"\"]", NULL);
}

static void parser_decodes_ack(void **state) {
  (void)state;
  sio__packet_t *p = decode_ok("3/admin,7[\"x\",{\"y\":1}]");
  assert_int_equal(p->type, SIO__PKT_ACK);
  assert_string_equal(p->nsp, "/admin");
  assert_int_equal(p->id, 7);
  assert_null(p->data);
  assert_int_equal(p->raw->n, 2);
  assert_null(p->raw->event);
  sio__packet_free(p);
  expect_roundtrip("33[]", NULL);
  expect_roundtrip("3/admin,7[\"x\",{\"y\":1}]", NULL);
}

static void parser_decodes_connect_error(void **state) {
  (void)state;
  sio__packet_t *p = decode_ok("4/x,{\"message\":\"Invalid namespace\"}");
  assert_int_equal(p->type, SIO__PKT_CONNECT_ERROR);
  assert_string_equal(p->nsp, "/x");
  sio__packet_free(p);
  expect_roundtrip("4{\"message\":\"Invalid namespace\"}", NULL);
  expect_roundtrip("4/x,{\"message\":\"Invalid namespace\",\"data\":{\"a\":1}}", NULL);
  expect_roundtrip("4\"oops\"", NULL);
}

static void parser_keeps_last_duplicate_key_like_json_parse(void **state) {
  (void)state;
  /* Forwarded as it came: JSON.parse on the other side keeps the last value. */
  sio__packet_t *p = decode_ok("2[\"a\",{\"k\":1,\"j\":0,\"k\":2}]");
  expect_encoded(p, "2[\"a\",{\"k\":1,\"j\":0,\"k\":2}]");
  /* Read here, the last value wins too, from the text and from the tree. */
  sio_args_t args;
  sio__args_of_packet(&args, p, 1);
  sio_args_t *m = NULL;
  int64_t k = 0;
  assert_int_equal(sio_args_member(&args, 0, "k", &m), 0);
  assert_int_equal(sio_args_get_int(m, 0, &k), 0);
  assert_int_equal(k, 2);
  sio_args_free(m);
  char *json = NULL;
  assert_int_equal(sio_args_to_json(&args, 0, &json, NULL), 0);
  assert_string_equal(json, "{\"k\":2,\"j\":0}");
  sio_free(json);
  sio__packet_free(p);
}

static void parser_accepts_integers_beyond_int64_from_js(void **state) {
  (void)state;
  /* emit("n", 2 ** 64, 1.5, 7) from node sends 18446744073709552000. */
  sio__packet_t *p = decode_ok("2[\"n\",18446744073709552000,1.5,7,{\"k\":-9223372036854775809}]");
  sio_args_t args;
  sio__args_of_packet(&args, p, 1);
  assert_true(json_is_real(sio__args_json(&args, 0)));
  assert_true(json_is_real(sio__args_json(&args, 1)));
  assert_true(json_is_integer(sio__args_json(&args, 2)));
  char *json = NULL;
  assert_int_equal(sio_args_to_json(&args, 3, &json, NULL), 0);
  assert_string_equal(json, "{\"k\":-9223372036854776000}");
  sio_free(json);
  expect_encoded(p, "2[\"n\",18446744073709552000,1.5,7,{\"k\":-9223372036854775809}]");
  sio__packet_free(p);
  /* Overflowing reals are still refused: no JS peer can send them. */
  EXPECT_ERROR("2[\"n\",1e400]", SIO_EJSON);
}

/* ---- ack ids ---- */

static void parser_reads_ack_id_edge_cases(void **state) {
  (void)state;
  sio__packet_t *p = decode_ok("20[\"a\"]");
  assert_int_equal(p->id, 0);
  sio__packet_free(p);
  p = decode_ok("29007199254740991[\"a\"]");
  assert_int_equal(p->id, 9007199254740991LL);
  expect_encoded(p, "29007199254740991[\"a\"]");
  sio__packet_free(p);
  p = decode_ok("3/admin,9007199254740991[]");
  assert_int_equal(p->id, SIO__ACK_ID_MAX);
  sio__packet_free(p);
  /* Leading zeros are digits; Number("007") is 7. */
  expect_roundtrip("2007[\"a\"]", "27[\"a\"]");
  /* CONNECT may carry an id; socket.io-parser reads it for every type. */
  p = decode_ok("0123{}");
  assert_int_equal(p->type, SIO__PKT_CONNECT);
  assert_int_equal(p->id, 123);
  sio__packet_free(p);
}

static void parser_rejects_bad_ack_ids(void **state) {
  (void)state;
  EXPECT_ERROR("29007199254740992[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("2/admin,9007199254740992[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("299999999999999999999999999999[\"a\"]", SIO_EPROTO);
  /* Not a digit: the garbage is read as the start of the JSON payload. */
  EXPECT_ERROR("2x12[\"a\"]", SIO_EJSON);
  EXPECT_ERROR("2-1[\"a\"]", SIO_EJSON);
  EXPECT_ERROR("2+1[\"a\"]", SIO_EJSON);
  /* socket.io-parser reads a blank as ack id 0 (Number(" ") == 0): refused. */
  EXPECT_ERROR("2 12[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("2 [\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("2\t[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("2/admin, 12[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("212 [\"a\"]", SIO_EPROTO);
  /* Digits after the ack id belong to the id: "12" then JSON "x". */
  EXPECT_ERROR("212x", SIO_EJSON);
  /* An ack without an id cannot be matched to an emit. */
  EXPECT_ERROR("3[]", SIO_EPROTO);
  EXPECT_ERROR("3/admin,[]", SIO_EPROTO);
  EXPECT_ERROR("61-[{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
}

/* ---- malformed headers and payloads ---- */

static void parser_rejects_malformed_headers(void **state) {
  (void)state;
  EXPECT_ERROR("", SIO_EPROTO);
  EXPECT_ERROR("7", SIO_EPROTO);
  EXPECT_ERROR("7[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("9", SIO_EPROTO);
  EXPECT_ERROR("a", SIO_EPROTO);
  EXPECT_ERROR(" 2[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("/2[\"a\"]", SIO_EPROTO);
  /* Binary types need "<count>-" with count >= 1. */
  EXPECT_ERROR("5-[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  EXPECT_ERROR("51[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  EXPECT_ERROR("51[\"a-b\",{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  EXPECT_ERROR("50-[\"a\"]", SIO_EPROTO);
  EXPECT_ERROR("5", SIO_EPROTO);
  EXPECT_ERROR("51", SIO_EPROTO);
  EXPECT_ERROR("5 1-[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  EXPECT_ERROR("6-1[]", SIO_EPROTO);
  /* A binary event still needs a valid payload. */
  EXPECT_ERROR("51-", SIO_EPROTO);
  EXPECT_ERROR("51-/admin,", SIO_EPROTO);
  /* A NUL inside the namespace would truncate it. */
  EXPECT_ERROR("2/ad\0min,[\"a\"]", SIO_EPROTO);
}

static void parser_rejects_bad_json(void **state) {
  (void)state;
  EXPECT_ERROR("2[\"a\"", SIO_EJSON);
  EXPECT_ERROR("2[\"a\",]", SIO_EJSON);
  EXPECT_ERROR("2['a']", SIO_EJSON);
  EXPECT_ERROR("2[\"a\"]x", SIO_EJSON);
  EXPECT_ERROR("2[\"a\"][]", SIO_EJSON);
  EXPECT_ERROR("2[\"a\"]\0", SIO_EJSON);
  EXPECT_ERROR("2[\"a\",NaN]", SIO_EJSON);
  EXPECT_ERROR("2[\"a\",Infinity]", SIO_EJSON);
  EXPECT_ERROR("2[\"\xff\"]", SIO_EJSON);
  EXPECT_ERROR("2[\"\\ud800\"]", SIO_EJSON);
  EXPECT_ERROR("2[\"a\",{\"k\\u0000\":1}]", SIO_EJSON);
  EXPECT_ERROR("0{", SIO_EJSON);
}

static void parser_rejects_payload_invalid_for_type(void **state) {
  (void)state;
  /* EVENT: non-empty array starting with a non-reserved string. */
  EXPECT_ERROR("2", SIO_EPROTO);
  EXPECT_ERROR("2/admin,12", SIO_EPROTO);
  EXPECT_ERROR("2[]", SIO_EPROTO);
  EXPECT_ERROR("2[1]", SIO_EPROTO);
  EXPECT_ERROR("2[null]", SIO_EPROTO);
  EXPECT_ERROR("2[[\"a\"]]", SIO_EPROTO);
  EXPECT_ERROR("2{\"a\":1}", SIO_EPROTO);
  EXPECT_ERROR("2\"a\"", SIO_EPROTO);
  EXPECT_ERROR("2null", SIO_EPROTO);
  EXPECT_ERROR("2[\"connect\"]", SIO_EPROTO);
  EXPECT_ERROR("2[\"connect_error\",1]", SIO_EPROTO);
  EXPECT_ERROR("2[\"disconnect\"]", SIO_EPROTO);
  EXPECT_ERROR("2/admin,3[\"disconnecting\"]", SIO_EPROTO);
  EXPECT_ERROR("2[\"newListener\"]", SIO_EPROTO);
  EXPECT_ERROR("2[\"removeListener\"]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"disconnect\",{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  EXPECT_ERROR("51-[{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  /* The C layers above hand event names out as C strings: no NUL inside. */
  EXPECT_ERROR("2[\"connect\\u0000\"]", SIO_EPROTO);
  expect_roundtrip("2[\"connected\",\"a\\u0000b\"]", NULL);
  /* DISCONNECT: no payload at all. */
  EXPECT_ERROR("1{}", SIO_EPROTO);
  EXPECT_ERROR("1/admin,{}", SIO_EPROTO);
  EXPECT_ERROR("1[]", SIO_EPROTO);
  /* CONNECT: object or nothing. */
  EXPECT_ERROR("0[]", SIO_EPROTO);
  EXPECT_ERROR("0\"a\"", SIO_EPROTO);
  EXPECT_ERROR("0null", SIO_EPROTO);
  /* CONNECT_ERROR: string or object. */
  EXPECT_ERROR("4", SIO_EPROTO);
  EXPECT_ERROR("4[]", SIO_EPROTO);
  EXPECT_ERROR("4/x,", SIO_EPROTO);
  /* ACK: array. */
  EXPECT_ERROR("31", SIO_EPROTO);
  EXPECT_ERROR("31{}", SIO_EPROTO);
  EXPECT_ERROR("31\"a\"", SIO_EPROTO);
}

/* ---- namespaces and limits ---- */

static void parser_bounds_namespace(void **state) {
  (void)state;
  char text[400];
  memset(text, 'n', sizeof text);
  text[0] = '0';
  text[1] = '/';
  /* "/" + 255 bytes = 256: the limit is inclusive. */
  text[257] = ',';
  sio__packet_t *p = NULL;
  sio__decoder_t d;
  sio__decoder_init(&d);
  assert_int_equal(sio__decode_text(&d, text, 258, &p), 0);
  assert_int_equal(strlen(p->nsp), 256);
  sio__packet_free(p);
  text[257] = 'n';
  text[258] = ',';
  assert_int_equal(sio__decode_text(&d, text, 259, &p), SIO_ELIMIT);
  assert_null(p);
  /* Without a comma the namespace runs to the end, and is bounded all the same. */
  assert_int_equal(sio__decode_text(&d, text, 258, &p), SIO_ELIMIT);
  d.max_nsp = 5; /* the leading '/' counts */
  assert_int_equal(decode(&d, "0/abcd,", &p), 0);
  sio__packet_free(p);
  assert_int_equal(decode(&d, "0/abcde,", &p), SIO_ELIMIT);
  sio__decoder_free(&d);
}

static void parser_requires_utf8_namespace(void **state) {
  (void)state;
  expect_roundtrip("2/caf\xc3\xa9,[\"a\"]", NULL);
  expect_roundtrip("2/\xf0\x9f\x98\x80,[\"a\"]", NULL);
  EXPECT_ERROR("2/\xff,[\"a\"]", SIO_EUTF8);
  EXPECT_ERROR("2/\xc3,[\"a\"]", SIO_EUTF8);          /* truncated sequence */
  EXPECT_ERROR("0/\xc3", SIO_EUTF8);                  /* truncated at the end */
  EXPECT_ERROR("2/\xc0\xaf,[\"a\"]", SIO_EUTF8);      /* overlong '/' */
  EXPECT_ERROR("2/\xed\xa0\x80,[\"a\"]", SIO_EUTF8);  /* surrogate */
  EXPECT_ERROR("2/\xf4\x90\x80\x80,[\"a\"]", SIO_EUTF8); /* above U+10FFFF */
  EXPECT_ERROR("2/\x80,[\"a\"]", SIO_EUTF8);          /* lone continuation */
}

static void parser_bounds_attachment_count(void **state) {
  (void)state;
  EXPECT_ERROR("5257-[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_ELIMIT);
  EXPECT_ERROR("54294967297-[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_ELIMIT);
  EXPECT_ERROR("599999999999999999999999999-[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_ELIMIT);
  sio__decoder_t d;
  sio__decoder_init(&d);
  d.max_attachments = 2;
  sio__packet_t *p = NULL;
  assert_int_equal(decode(&d, "53-[\"a\",{\"_placeholder\":true,\"num\":0}]", &p), SIO_ELIMIT);
  assert_null(d.pending);
  assert_int_equal(decode(&d, "502-[\"a\",{\"_placeholder\":true,\"num\":1}]", &p), SIO_EAGAIN);
  assert_int_equal(d.pending->natt, 2);
  sio__decoder_free(&d);
  assert_null(d.pending);
}

/* ---- binary attachments ---- */

static void parser_assembles_one_attachment(void **state) {
  (void)state;
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  const char *text = "51-[\"b\",{\"_placeholder\":true,\"num\":0}]";
  assert_int_equal(decode(&d, text, &p), SIO_EAGAIN);
  assert_null(p);
  assert_non_null(d.pending);
  assert_int_equal(sio__decode_binary(&d, att("\x01\x02\x03"), &p), 0);
  assert_null(d.pending);
  assert_non_null(p);
  assert_int_equal(p->type, SIO__PKT_BINARY_EVENT);
  assert_int_equal(p->natt, 1);
  assert_int_equal(p->att_received, 1);
  assert_int_equal(p->att[0]->len, 3);
  assert_memory_equal(sio__refbuf_ptr(p->att[0]), "\x01\x02\x03", 3);
  uint32_t num = 99;
  assert_int_equal(sio__placeholder_num(json_array_get(p->data, 1), &num), 1);
  assert_int_equal(num, 0);
  expect_encoded(p, text);
  sio__packet_free(p);
  sio__decoder_free(&d);
}

static void parser_assembles_three_attachments_in_order(void **state) {
  (void)state;
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  const char *text = "63-/up,5[{\"_placeholder\":true,\"num\":2},{\"a\":[{\"_placeholder\":true,\"num\":0}]},"
                     "{\"_placeholder\":true,\"num\":1}]";
  assert_int_equal(decode(&d, text, &p), SIO_EAGAIN);
  assert_int_equal(d.pending->att_received, 0);
  assert_int_equal(sio__decode_binary(&d, att("zero"), &p), SIO_EAGAIN);
  assert_null(p);
  assert_int_equal(sio__decode_binary(&d, att(""), &p), SIO_EAGAIN);
  assert_int_equal(d.pending->att_received, 2);
  assert_int_equal(sio__decode_binary(&d, att("two"), &p), 0);
  assert_null(d.pending);
  assert_int_equal(p->type, SIO__PKT_BINARY_ACK);
  assert_string_equal(p->nsp, "/up");
  assert_int_equal(p->id, 5);
  assert_int_equal(p->natt, 3);
  assert_int_equal(p->att_received, 3);
  assert_memory_equal(sio__refbuf_ptr(p->att[0]), "zero", 4);
  assert_int_equal(p->att[1]->len, 0);
  assert_memory_equal(sio__refbuf_ptr(p->att[2]), "two", 3);
  uint32_t num;
  assert_int_equal(sio__placeholder_num(json_array_get(p->data, 0), &num), 1);
  assert_int_equal(num, 2);
  expect_encoded(p, text);
  sio__packet_free(p);

  /* The decoder is ready for the next packet. */
  p = NULL;
  assert_int_equal(decode(&d, "2[\"next\"]", &p), 0);
  sio__packet_free(p);
  sio__decoder_free(&d);
}

static void parser_rejects_placeholder_out_of_range(void **state) {
  (void)state;
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true,\"num\":1}]", SIO_EPROTO);
  EXPECT_ERROR("52-[\"b\",{\"_placeholder\":true,\"num\":0},{\"x\":{\"_placeholder\":true,\"num\":2}}]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true,\"num\":-1}]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true,\"num\":\"0\"}]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true,\"num\":0.5}]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true,\"num\":0.0}]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true}]", SIO_EPROTO);
  EXPECT_ERROR("51-[\"b\",{\"_placeholder\":true,\"num\":4294967296}]", SIO_EPROTO);
  /* A plain packet has no attachments, so any placeholder in it is refused. */
  EXPECT_ERROR("2[\"b\",{\"_placeholder\":true,\"num\":0}]", SIO_EPROTO);
  EXPECT_ERROR("0{\"auth\":{\"_placeholder\":true,\"num\":0}}", SIO_EPROTO);
  EXPECT_ERROR("4{\"_placeholder\":true,\"num\":0}", SIO_EPROTO);
  /* Only `_placeholder === true` makes a placeholder. */
  expect_roundtrip("2[\"b\",{\"_placeholder\":1,\"num\":0},{\"_placeholder\":false}]", NULL);
  /* Unreferenced attachments are allowed, as upstream allows them. */
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  assert_int_equal(decode(&d, "52-[\"b\",{\"_placeholder\":true,\"num\":1}]", &p), SIO_EAGAIN);
  sio__decoder_free(&d);
}

static void parser_rejects_binary_with_nothing_pending(void **state) {
  (void)state;
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = &sentinel;
  /* The reference is taken even on error: ASan would report a leak otherwise. */
  assert_int_equal(sio__decode_binary(&d, att("stray"), &p), SIO_EPROTO);
  assert_null(p);
  assert_int_equal(sio__decode_binary(&d, NULL, &p), SIO_EINVAL);
  /* After a complete binary packet, one more attachment is stray too. */
  assert_int_equal(decode(&d, "51-[\"b\",{\"_placeholder\":true,\"num\":0}]", &p), SIO_EAGAIN);
  assert_int_equal(sio__decode_binary(&d, att("x"), &p), 0);
  sio__packet_free(p);
  assert_int_equal(sio__decode_binary(&d, att("y"), &p), SIO_EPROTO);
  sio__decoder_free(&d);
}

static void parser_rejects_text_while_attachments_pending(void **state) {
  (void)state;
  sio__decoder_t d;
  sio__decoder_init(&d);
  sio__packet_t *p = NULL;
  assert_int_equal(decode(&d, "52-[\"b\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &p),
                   SIO_EAGAIN);
  assert_int_equal(sio__decode_binary(&d, att("first"), &p), SIO_EAGAIN);
  assert_int_equal(decode(&d, "2[\"a\"]", &p), SIO_EPROTO);
  assert_null(p);
  /* The half-assembled packet was dropped with its attachment. */
  assert_null(d.pending);
  assert_int_equal(sio__decode_binary(&d, att("second"), &p), SIO_EPROTO);
  assert_int_equal(decode(&d, "2[\"a\"]", &p), 0);
  sio__packet_free(p);
  sio__decoder_free(&d);
}

static void parser_decoder_free_drops_pending_packet(void **state) {
  (void)state;
  sio__decoder_t d;
  sio__decoder_init(&d);
  assert_int_equal(d.max_attachments, 256);
  assert_int_equal(d.max_nsp, 256);
  sio__packet_t *p = NULL;
  assert_int_equal(decode(&d, "53-[\"b\",{\"_placeholder\":true,\"num\":0}]", &p), SIO_EAGAIN);
  assert_int_equal(sio__decode_binary(&d, att("one"), &p), SIO_EAGAIN);
  sio__decoder_free(&d);
  assert_null(d.pending);
  sio__decoder_free(&d);
  sio__packet_free(NULL);
}

/* ---- encoding ---- */

static sio__packet_t *make(uint8_t type, const char *nsp, int64_t id, const char *json) {
  sio__packet_t *p = sio__packet_new(type, nsp);
  assert_non_null(p);
  p->id = id;
  p->data = json ? parse(json) : NULL;
  return p;
}

static void parser_encodes_like_socket_io_parser(void **state) {
  (void)state;
  sio__packet_t *p = make(SIO__PKT_EVENT, NULL, -1, "[\"hello\",1]");
  assert_string_equal(p->nsp, "/");
  expect_encoded(p, "2[\"hello\",1]");
  sio__packet_free(p);

  p = make(SIO__PKT_EVENT, "/admin", 12, "[\"a\"]");
  expect_encoded(p, "2/admin,12[\"a\"]");
  sio__packet_free(p);

  p = make(SIO__PKT_CONNECT, "/", -1, "{\"sid\":\"abc\"}");
  expect_encoded(p, "0{\"sid\":\"abc\"}");
  sio__packet_free(p);

  p = make(SIO__PKT_CONNECT_ERROR, "/x", -1, "{\"message\":\"Invalid namespace\"}");
  expect_encoded(p, "4/x,{\"message\":\"Invalid namespace\"}");
  sio__packet_free(p);

  p = make(SIO__PKT_ACK, "/", 3, "[]");
  expect_encoded(p, "33[]");
  sio__packet_free(p);

  p = make(SIO__PKT_DISCONNECT, "/chat", -1, NULL);
  expect_encoded(p, "1/chat,");
  sio__packet_free(p);

  p = make(SIO__PKT_ACK, "/", 9007199254740991LL, "[null]");
  expect_encoded(p, "39007199254740991[null]");
  sio__packet_free(p);

  /* "" means "/" (socket.io-parser tests `obj.nsp &&`), JSON null data is omitted. */
  p = make(SIO__PKT_CONNECT, "", -1, "null");
  expect_encoded(p, "0");
  sio__free(p->nsp);
  p->nsp = NULL;
  expect_encoded(p, "0");
  sio__packet_free(p);
}

static void parser_encodes_binary_types_from_natt(void **state) {
  (void)state;
  sio__packet_t *p = make(SIO__PKT_BINARY_EVENT, "/", -1, "[\"b\"]");
  json_array_append_new(p->data, sio__placeholder_new(0));
  p->natt = 1;
  expect_encoded(p, "51-[\"b\",{\"_placeholder\":true,\"num\":0}]");
  /* EVENT with attachments is written as BINARY_EVENT. */
  p->type = SIO__PKT_EVENT;
  expect_encoded(p, "51-[\"b\",{\"_placeholder\":true,\"num\":0}]");
  /* BINARY_EVENT without attachments is written as a plain EVENT ("50-" is illegal). */
  p->type = SIO__PKT_BINARY_EVENT;
  p->natt = 0;
  expect_encoded(p, "2[\"b\",{\"_placeholder\":true,\"num\":0}]");
  sio__packet_free(p);

  p = make(SIO__PKT_ACK, "/admin", 5, "[]");
  p->natt = 12;
  expect_encoded(p, "612-/admin,5[]");
  p->type = SIO__PKT_BINARY_ACK;
  p->natt = 0;
  expect_encoded(p, "3/admin,5[]");
  sio__packet_free(p);
}

static void parser_encode_rejects_unencodable_packets(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  sio__buf_append_str(&b, "keep");
  sio__packet_t *p = make(SIO__PKT_EVENT, "/", -1, "[\"a\"]");
  p->type = 7;
  assert_int_equal(sio__encode(p, &b), SIO_EINVAL);
  p->type = SIO__PKT_CONNECT;
  p->natt = 1;
  assert_int_equal(sio__encode(p, &b), SIO_EINVAL);
  p->type = SIO__PKT_EVENT;
  p->natt = 0;
  p->id = SIO__ACK_ID_MAX + 1;
  assert_int_equal(sio__encode(p, &b), SIO_EINVAL);
  p->id = -1;
  sio__free(p->nsp);
  p->nsp = sio__strdup("admin");
  assert_int_equal(sio__encode(p, &b), SIO_EINVAL);
  sio__free(p->nsp);
  p->nsp = sio__strdup("/a,b");
  assert_int_equal(sio__encode(p, &b), SIO_EINVAL);
  assert_int_equal(b.len, 4);
  assert_memory_equal(b.base, "keep", 4);
  /* Appends after existing bytes. */
  sio__free(p->nsp);
  p->nsp = sio__strdup("/ok");
  assert_int_equal(sio__encode(p, &b), 0);
  assert_int_equal(b.len, 4 + 10);
  assert_memory_equal(b.base, "keep2/ok,[\"a\"]", 14);
  sio__packet_free(p);
  sio__buf_free(&b);
}

static void parser_placeholder_helpers(void **state) {
  (void)state;
  json_t *ph = sio__placeholder_new(4000000000u);
  uint32_t num = 0;
  assert_int_equal(sio__placeholder_num(ph, &num), 1);
  assert_int_equal(num, 4000000000u);
  char *s = json_dumps(ph, JSON_COMPACT);
  assert_string_equal(s, "{\"_placeholder\":true,\"num\":4000000000}");
  free(s);
  json_decref(ph);
  assert_int_equal(sio__placeholder_num(NULL, &num), 0);
  const char *not_ph[] = {"[]", "\"x\"", "{\"num\":0}", "{\"_placeholder\":1,\"num\":0}", "{\"_placeholder\":true}",
                          "{\"_placeholder\":true,\"num\":-1}", "{\"_placeholder\":true,\"num\":4294967296}",
                          "{\"_placeholder\":true,\"num\":1.0}"};
  for (size_t i = 0; i < sizeof not_ph / sizeof *not_ph; i++) {
    json_t *v = parse(not_ph[i]);
    assert_int_equal(sio__placeholder_num(v, &num), 0);
    json_decref(v);
  }
}

/* ---- OOM ---- */

/* fail_after, oom_malloc, oom_realloc, oom_free: fail_after.h */

/* Counts the allocations json_loadb makes for text under the given flags. */
static long count_json_allocs(const char *text, size_t flags) {
  json_error_t err;
  fail_after = 1L << 40;
  json_decref(json_loadb(text, strlen(text), flags, &err));
  long n = (1L << 40) - fail_after;
  fail_after = -1;
  return n;
}

/*
 * Steps the failure point through decode + reassembly + re-encode: every step either
 * completes or reports SIO_ENOMEM, and nothing leaks (LeakSanitizer).
 *
 * The steps start after json_loadb's own allocations: jansson 2.14 aborts on an
 * assertion (lex_unget_unsave, "c == d") when its lexer buffer cannot grow, and
 * reports other allocation failures as parse errors, so OOM inside the JSON parser
 * cannot be tested (or handled) from here. Plain events are not parsed by jansson
 * (they stay text), so every one of their allocations is stepped through: the one
 * block of the packet, the span array of an event with more than 16 arguments, the
 * encoder's buffer.
 */
static void parser_survives_oom_at_every_allocation(void **state) {
  (void)state;
  sio_allocator_t a = {oom_malloc, oom_realloc, oom_free, NULL};
  sio_set_allocator(&a);
  const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
  const char *bin_json = "[\"up\",{\"_placeholder\":true,\"num\":0},{\"k\":{\"_placeholder\":true,\"num\":1}}]";
  const char *big_json = "[\"n\",18446744073709552000,{\"a\":1.0,\"b\":[2.0]}]";
  const char *many = "2/admin,[\"m\",1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]";
  char bin_text[200], big_text[200];
  snprintf(bin_text, sizeof bin_text, "52-/admin,7%s", bin_json);
  snprintf(big_text, sizeof big_text, "2%s", big_json);
  const char *texts[] = {bin_text, big_text, many};
  const char *wants[] = {bin_text, big_text, many};
  long skip[] = {count_json_allocs(bin_json, flags), 0, 0};
  int min_failures[] = {3, 2, 3};
  for (size_t t = 0; t < 3; t++) {
    int completed = 0, failures = 0;
    for (long n = skip[t]; n < skip[t] + 200 && !completed; n++) {
      sio__decoder_t d;
      sio__decoder_init(&d);
      sio__packet_t *p = NULL;
      sio__refbuf_t *a0 = att("a0"), *a1 = att("a1");
      fail_after = n;
      int r = decode(&d, texts[t], &p);
      if (r == SIO_EAGAIN) {
        r = sio__decode_binary(&d, a0, &p);
        a0 = NULL;
        if (r == SIO_EAGAIN) r = sio__decode_binary(&d, a1, &p);
        a1 = NULL;
      }
      sio__buf_t b = SIO__BUF_INIT;
      if (r == 0) r = sio__encode(p, &b);
      fail_after = -1;
      if (r == 0) {
        completed = 1;
        assert_int_equal(b.len, strlen(wants[t]));
        assert_memory_equal(b.base, wants[t], b.len);
      } else {
        if (r != SIO_ENOMEM) fail_msg("text %zu step %ld: %s", t, n, sio_err_name(r));
        failures++;
      }
      sio__refbuf_unref(a0);
      sio__refbuf_unref(a1);
      sio__buf_free(&b);
      sio__packet_free(p);
      sio__decoder_free(&d);
    }
    assert_true(completed);
    assert_true(failures >= min_failures[t]);
  }
  sio_set_allocator(NULL);
}

int main(void) {
  sio_set_allocator(NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parser_decodes_connect),
      cmocka_unit_test(parser_decodes_disconnect),
      cmocka_unit_test(parser_decodes_event),
      cmocka_unit_test(parser_decodes_ack),
      cmocka_unit_test(parser_decodes_connect_error),
      cmocka_unit_test(parser_keeps_last_duplicate_key_like_json_parse),
      cmocka_unit_test(parser_accepts_integers_beyond_int64_from_js),
      cmocka_unit_test(parser_reads_ack_id_edge_cases),
      cmocka_unit_test(parser_rejects_bad_ack_ids),
      cmocka_unit_test(parser_rejects_malformed_headers),
      cmocka_unit_test(parser_rejects_bad_json),
      cmocka_unit_test(parser_rejects_payload_invalid_for_type),
      cmocka_unit_test(parser_bounds_namespace),
      cmocka_unit_test(parser_requires_utf8_namespace),
      cmocka_unit_test(parser_bounds_attachment_count),
      cmocka_unit_test(parser_assembles_one_attachment),
      cmocka_unit_test(parser_assembles_three_attachments_in_order),
      cmocka_unit_test(parser_rejects_placeholder_out_of_range),
      cmocka_unit_test(parser_rejects_binary_with_nothing_pending),
      cmocka_unit_test(parser_rejects_text_while_attachments_pending),
      cmocka_unit_test(parser_decoder_free_drops_pending_packet),
      cmocka_unit_test(parser_encodes_like_socket_io_parser),
      cmocka_unit_test(parser_encodes_binary_types_from_natt),
      cmocka_unit_test(parser_encode_rejects_unencodable_packets),
      cmocka_unit_test(parser_placeholder_helpers),
      cmocka_unit_test(parser_survives_oom_at_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
