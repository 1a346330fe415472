/*
 * Unit tests for the Redis adapter's codec (src/adapter/redis_codec.c) and its redis://
 * URL parser (src/adapter/redis_conn.c).
 *
 * Every expected byte string below was produced by notepack.io 3.0.1, the msgpack codec
 * of @socket.io/redis-adapter 8.3.0, from the JS value written next to it
 * (`require('notepack.io').encode(value).toString('hex')` with tests/node_modules), so
 * "byte-exact" means byte-exact with what a Node node puts on the wire. The broadcast
 * vectors were also checked against a live capture of Node's own PUBLISHes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "adapter/redis_codec.h"
#include "adapter/redis_conn.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "sio/errors.h"
#include "sio/json.h"
#include "sio/parser.h"

/* ---- helpers ---- */

typedef struct {
  char *p;
  size_t n;
} bytes_t;

static bytes_t unhex(const char *h) {
  size_t n = strlen(h) / 2;
  bytes_t b = {malloc(n + 1), n};
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(h + 2 * i, "%2x", &v);
    b.p[i] = (char)v;
  }
  return b;
}

static char *tohex(const char *p, size_t n) {
  char *h = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) sprintf(h + 2 * i, "%02x", (unsigned char)p[i]);
  h[2 * n] = '\0';
  return h;
}

/* Asserts buf holds exactly the bytes of hex (compared as hex for readable failures). */
static void assert_bytes(const sio__buf_t *buf, const char *hex) {
  char *got = tohex(buf->base, buf->len);
  assert_string_equal(got, hex);
  free(got);
}

static json_t *js(const char *text) {
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  assert_non_null(v);
  return v;
}

/* JSON.stringify of v, for comparing decoded trees. */
static void assert_json(const json_t *v, const char *expected) {
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__json_write(&b, v), 0);
  sio__buf_append_byte(&b, 0);
  assert_string_equal(b.base, expected);
  sio__buf_free(&b);
}

static void encode_value_as(const char *json, const char *hex) {
  json_t *v = js(json);
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__mp_encode(&b, v, NULL, 0), 0);
  assert_bytes(&b, hex);
  sio__buf_free(&b);
  json_decref(v);
}

static int decode_hex(const char *hex, sio__mp_value_t *out) {
  bytes_t b = unhex(hex);
  int r = sio__mp_decode(b.p, b.n, out);
  free(b.p);
  return r;
}

/* notepack vectors (value in the comment). */

/* ["uidAAA", {type:2, data:["msg","hi",Buffer[1,2,3]], nsp:"/"}, {rooms:["room1"], except:[], flags:{}}] */
#define V_BCAST                                                                                              \
  "93a675696441414183a47479706502a46461746193a36d7367a26869c403010203a36e7370a12f83a5726f6f6d7391a5726f6f6d" \
  "31a665786365707490a5666c61677380"
/* ["uidAAA", {type:2, data:["ev",{n:1.5,ok:true,none:null}], nsp:"/chat"},
 *  {rooms:["a","b"], except:["x"], flags:{volatile:true}}] */
#define V_BCAST_MULTI                                                                                        \
  "93a675696441414183a47479706502a46461746192a2657683a16ecb3ff8000000000000a26f6bc3a46e6f6e65c0a36e7370a52f" \
  "6368617483a5726f6f6d7392a161a162a665786365707491a178a5666c61677381a8766f6c6174696c65c3"
/* ["uidAAA", {type:2, data:["ev"], nsp:"/"}, {rooms:[], except:[], flags:{}}] */
#define V_BCAST_ALL \
  "93a675696441414183a47479706502a46461746191a26576a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"
/* {uid:"uidAAA", requestId:"req123", type:7, packet:{type:2, data:["ask",1,Buffer.alloc(0)], nsp:"/chat"},
 *  opts:{rooms:["r"], except:[], flags:{timeout:2000}}} */
#define V_REQ                                                                                                \
  "85a3756964a6756964414141a9726571756573744964a6726571313233a47479706507a67061636b657483a47479706502a46461" \
  "746193a361736b01c400a36e7370a52f63686174a46f70747383a5726f6f6d7391a172a665786365707490a5666c61677381a774" \
  "696d656f7574cd07d0"
/* {type:9, requestId:"req123", packet:"x"} / packet:undefined / packet:{b:Buffer[9]} */
#define V_ACK "83a47479706509a9726571756573744964a6726571313233a67061636b6574a178"
#define V_ACK_NONE "82a47479706509a9726571756573744964a6726571313233"
#define V_ACK_BIN "83a47479706509a9726571756573744964a6726571313233a67061636b657481a162c40109"
/* [0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740991,-1,-32,-33,-128,-129,-32768,
 *  -32769,-2147483648,-2147483649,-9007199254740991] */
#define V_INTS                                                                                               \
  "dc0014007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf001fffffffffffffffe0d0dfd080d1ff7f" \
  "d18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe0000000000001"
/* {b:1,"1":2,a:3,"0":4,"01":5,"4294967295":6,"4294967294":7}: index keys first, ascending */
#define V_KEYS "87a13004a13102aa3432393439363732393407a16201a16103a2303105aa3432393439363732393506"
/* [Date(0), Date(1700000000123), Date(-1000), Date(253402300800000)] */
#define V_DATES "94d6ff00000000d7ff1d5353006553f100c70cff00000000ffffffffffffffffc70cff000000000000003afff44180"

/* ---- encoding: byte-exact with notepack ---- */

static void encode_broadcast_matches_notepack(void **state) {
  (void)state;
  sio__refbuf_t *att = sio__refbuf_from(10, "\x01\x02\x03", 3);
  json_t *arr = json_array();
  json_array_append_new(arr, json_string("hi"));
  json_array_append_new(arr, sio__placeholder_new(0));
  const char *rooms[] = {"room1"};
  sio__redis_event_t ev = {"/", "msg", arr, 0, &att, 1};
  sio__redis_sel_t sel = {rooms, 1, NULL, 0, 0, -1};
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__redis_encode_broadcast(&b, "uidAAA", &ev, &sel), 0);
  assert_bytes(&b, V_BCAST);
  sio__buf_free(&b);
  json_decref(arr);
  sio__refbuf_unref(att);
}

static void encode_broadcast_dedups_rooms_and_writes_volatile(void **state) {
  (void)state;
  json_t *arr = js("[\"ev\",{\"n\":1.5,\"ok\":true,\"none\":null}]");
  const char *rooms[] = {"a", "b", "a"}, *except[] = {"x", "x"};
  /* base 1: the arguments start after the array's first element. */
  sio__redis_event_t ev = {"/chat", "ev", arr, 1, NULL, 0};
  sio__redis_sel_t sel = {rooms, 3, except, 2, 1, -1};
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__redis_encode_broadcast(&b, "uidAAA", &ev, &sel), 0);
  assert_bytes(&b, V_BCAST_MULTI);
  sio__buf_free(&b);
  json_decref(arr);
}

static void encode_broadcast_to_everyone_without_arguments(void **state) {
  (void)state;
  sio__redis_event_t ev = {NULL, "ev", NULL, 0, NULL, 0};
  sio__redis_sel_t sel = {NULL, 0, NULL, 0, 0, -1};
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__redis_encode_broadcast(&b, "uidAAA", &ev, &sel), 0);
  assert_bytes(&b, V_BCAST_ALL);
  sio__buf_free(&b);
}

static void encode_broadcast_request_with_timeout_and_empty_binary(void **state) {
  (void)state;
  sio__refbuf_t *att = sio__refbuf_from(10, "", 0);
  json_t *arr = json_array();
  json_array_append_new(arr, json_integer(1));
  json_array_append_new(arr, sio__placeholder_new(0));
  const char *rooms[] = {"r"};
  sio__redis_event_t ev = {"/chat", "ask", arr, 0, &att, 1};
  sio__redis_sel_t sel = {rooms, 1, NULL, 0, 0, 2000};
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__redis_encode_bcast_request(&b, "uidAAA", "req123", &ev, &sel), 0);
  assert_bytes(&b, V_REQ);
  sio__buf_free(&b);
  json_decref(arr);
  sio__refbuf_unref(att);
}

static void encode_broadcast_ack_with_without_and_binary_packet(void **state) {
  (void)state;
  sio__buf_t b = SIO__BUF_INIT;
  json_t *arr = js("[\"x\",\"ignored\"]");
  assert_int_equal(sio__redis_encode_bcast_ack(&b, "req123", arr, 0, NULL, 0), 0);
  assert_bytes(&b, V_ACK);
  b.len = 0;
  /* No argument: the member is left out, as notepack leaves out undefined. */
  assert_int_equal(sio__redis_encode_bcast_ack(&b, "req123", arr, 2, NULL, 0), 0);
  assert_bytes(&b, V_ACK_NONE);
  b.len = 0;
  assert_int_equal(sio__redis_encode_bcast_ack(&b, "req123", NULL, 0, NULL, 0), 0);
  assert_bytes(&b, V_ACK_NONE);
  b.len = 0;
  sio__refbuf_t *att = sio__refbuf_from(10, "\x09", 1);
  json_t *obj = json_array();
  json_t *m = json_object();
  json_object_set_new(m, "b", sio__placeholder_new(0));
  json_array_append_new(obj, m);
  assert_int_equal(sio__redis_encode_bcast_ack(&b, "req123", obj, 0, &att, 1), 0);
  assert_bytes(&b, V_ACK_BIN);
  sio__buf_free(&b);
  json_decref(arr);
  json_decref(obj);
  sio__refbuf_unref(att);
}

static void encode_integers_in_the_smallest_notepack_format(void **state) {
  (void)state;
  encode_value_as("[0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740991,-1,-32,-33,-128,-129,"
                  "-32768,-32769,-2147483648,-2147483649,-9007199254740991]",
                  V_INTS);
}

static void encode_fractions_as_float64_and_integral_reals_as_integers(void **state) {
  (void)state;
  /* [1.5,-0.25,0.1,-0] and 3.0 -> 3: a JS number has no "3.0". */
  encode_value_as("[1.5,-0.25,0.1,-0.0]", "94cb3ff8000000000000cbbfd0000000000000cb3fb999999999999a00");
  encode_value_as("3.0", "03");
  encode_value_as("-4096.0", "d1f000");
}

static void encode_int64_beyond_2_pow_53_as_the_double_js_holds(void **state) {
  (void)state;
  /* 2^53 + 1 is 9007199254740992 in JS: notepack writes that. */
  encode_value_as("9007199254740993", "cf0020000000000000");
  encode_value_as("9223372036854775807", "cf8000000000000000");
}

static void encode_huge_integral_doubles_as_float64(void **state) {
  (void)state;
  /* notepack's integer arithmetic breaks past 2^64 (it writes 1e300 as uint64 0); we
   * write the number a peer can read back. */
  encode_value_as("1e300", "cb7e37e43c8800759c");
}

static void encode_strings_by_utf8_length(void **state) {
  (void)state;
  encode_value_as("\"\"", "a0");
  encode_value_as("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "bf61616161616161616161616161616161616161616161616161616161616161");
  encode_value_as("\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"",
                  "d9206262626262626262626262626262626262626262626262626262626262626262");
  encode_value_as("\"\\u00e9\\u20ac\\ud83d\\ude00\"", "a9c3a9e282acf09f9880");
  char *big = malloc(300), *json = malloc(310);
  memset(big, 'd', 256);
  big[256] = '\0';
  snprintf(json, 310, "\"%s\"", big);
  json_t *v = js(json);
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__mp_encode(&b, v, NULL, 0), 0);
  assert_int_equal(b.len, 3 + 256);
  assert_memory_equal(b.base, "\xda\x01\x00", 3);
  sio__buf_free(&b);
  json_decref(v);
  free(big);
  free(json);
}

static void encode_object_keys_in_javascript_order(void **state) {
  (void)state;
  encode_value_as("{\"b\":1,\"1\":2,\"a\":3,\"0\":4,\"01\":5,\"4294967295\":6,\"4294967294\":7}", V_KEYS);
}

static void encode_sixteen_members_as_map16_and_array16(void **state) {
  (void)state;
  encode_value_as("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
                  "\"k10\":10,\"k11\":11,\"k12\":12,\"k13\":13,\"k14\":14,\"k15\":15}",
                  "de0010a26b3000a26b3101a26b3202a26b3303a26b3404a26b3505a26b3606a26b3707a26b3808a26b3909a36b3130"
                  "0aa36b31310ba36b31320ca36b31330da36b31340ea36b31350f");
  encode_value_as("[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]", "dc0010000102030405060708090a0b0c0d0e0f");
  encode_value_as("[true,false,null,{\"v\":1}]", "94c3c2c081a17601");
}

static void encode_binary_as_bin8_and_bin16(void **state) {
  (void)state;
  char buf[256];
  memset(buf, 7, sizeof buf);
  sio__refbuf_t *att[2] = {sio__refbuf_from(0, buf, 255), sio__refbuf_from(0, buf, 256)};
  json_t *v = json_pack("[o,o]", sio__placeholder_new(0), sio__placeholder_new(1));
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__mp_encode(&b, v, att, 2), 0);
  assert_int_equal(b.len, 1 + 2 + 255 + 3 + 256);
  assert_memory_equal(b.base, "\x92\xc4\xff", 3);
  assert_memory_equal(b.base + 3 + 255, "\xc5\x01\x00", 3);
  /* A placeholder naming a missing attachment is written as the object it is. */
  b.len = 0;
  assert_int_equal(sio__mp_encode(&b, v, att, 1), 0);
  assert_int_equal((unsigned char)b.base[3 + 255], 0x82);
  sio__buf_free(&b);
  json_decref(v);
  sio__refbuf_unref(att[0]);
  sio__refbuf_unref(att[1]);
}

/* ---- decoding ---- */

/* Decodes hex and re-encodes it: notepack's bytes must come back unchanged. */
static void roundtrip(const char *hex) {
  sio__mp_value_t v;
  assert_int_equal(decode_hex(hex, &v), 0);
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__mp_encode(&b, v.root, v.att, v.natt), 0);
  assert_bytes(&b, hex);
  sio__buf_free(&b);
  sio__mp_value_free(&v);
}

static void decode_then_encode_gives_notepack_bytes_back(void **state) {
  (void)state;
  const char *vectors[] = {V_BCAST, V_BCAST_MULTI, V_BCAST_ALL, V_REQ, V_ACK, V_ACK_NONE, V_ACK_BIN, V_INTS, V_KEYS};
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) roundtrip(vectors[i]);
}

static void decode_broadcast_reads_uid_packet_and_options(void **state) {
  (void)state;
  bytes_t in = unhex(V_BCAST);
  sio__redis_bcast_t b;
  assert_int_equal(sio__redis_decode_broadcast(in.p, in.n, &b), 0);
  assert_int_equal(b.uid.len, 6);
  assert_memory_equal(b.uid.ptr, "uidAAA", 6);
  assert_int_equal(b.type, 2);
  assert_string_equal(b.nsp, "/");
  assert_int_equal(b.nrooms, 1);
  assert_string_equal(b.rooms[0], "room1");
  assert_int_equal(b.nexcept, 0);
  assert_false(b.volatile_);
  assert_int_equal(b.timeout_ms, -1);
  /* The Buffer became a placeholder plus an attachment with Engine.IO headroom. */
  assert_json(b.data, "[\"msg\",\"hi\",{\"_placeholder\":true,\"num\":0}]");
  assert_int_equal(b.v.natt, 1);
  assert_int_equal(b.v.att[0]->len, 3);
  assert_memory_equal(sio__refbuf_ptr(b.v.att[0]), "\x01\x02\x03", 3);
  assert_true(b.v.att[0]->head >= 10);
  sio__redis_bcast_free(&b);
  free(in.p);

  in = unhex(V_BCAST_MULTI);
  assert_int_equal(sio__redis_decode_broadcast(in.p, in.n, &b), 0);
  assert_string_equal(b.nsp, "/chat");
  assert_int_equal(b.nrooms, 2);
  assert_string_equal(b.except[0], "x");
  assert_true(b.volatile_);
  sio__redis_bcast_free(&b);
  free(in.p);
}

static void decode_broadcast_request_reads_timeout(void **state) {
  (void)state;
  sio__redis_bcast_t b;
  memset(&b, 0, sizeof b);
  bytes_t in = unhex(V_REQ);
  assert_int_equal(sio__redis_decode_message(in.p, in.n, &b.v), 0);
  assert_int_equal(sio__redis_read_bcast(json_object_get(b.v.root, "packet"), json_object_get(b.v.root, "opts"), &b), 0);
  assert_int_equal(b.timeout_ms, 2000);
  assert_string_equal(b.nsp, "/chat");
  assert_json(b.data, "[\"ask\",1,{\"_placeholder\":true,\"num\":0}]");
  assert_int_equal(b.v.att[0]->len, 0);
  sio__redis_bcast_free(&b);
  free(in.p);
}

static void decode_dates_as_the_iso_strings_json_stringify_prints(void **state) {
  (void)state;
  sio__mp_value_t v;
  assert_int_equal(decode_hex(V_DATES, &v), 0);
  assert_json(v.root,
              "[\"1970-01-01T00:00:00.000Z\",\"2023-11-14T22:13:20.123Z\",\"1969-12-31T23:59:59.000Z\","
              "\"+010000-01-01T00:00:00.000Z\"]");
  sio__mp_value_free(&v);
  /* notepack's old date form (fixext8 type 0, int64 ms) and an invalid date (past
   * +-8.64e15 ms, which Date#toJSON prints as null). */
  assert_int_equal(decode_hex("92d7000000000000000000c70cff000000007fffffffffffffff", &v), 0);
  assert_json(v.root, "[\"1970-01-01T00:00:00.000Z\",null]");
  sio__mp_value_free(&v);
}

static void decode_undefined_and_other_exts_like_notepack(void **state) {
  (void)state;
  sio__mp_value_t v;
  /* [undefined, {a: undefined, b: 1}] in notepack's old fixext form. */
  assert_int_equal(decode_hex("92d4000082a161d40000a16201", &v), 0);
  assert_json(v.root, "[null,{\"b\":1}]");
  sio__mp_value_free(&v);
  /* ext8 type 0 is an ArrayBuffer: binary; ext type 5 is [5, <bytes>]. */
  assert_int_equal(decode_hex("92c70200abcdd505beef", &v), 0);
  assert_json(v.root, "[{\"_placeholder\":true,\"num\":0},[5,{\"_placeholder\":true,\"num\":1}]]");
  assert_int_equal(v.natt, 2);
  assert_memory_equal(sio__refbuf_ptr(v.att[1]), "\xbe\xef", 2);
  sio__mp_value_free(&v);
  /* A lone undefined reads as null. */
  assert_int_equal(decode_hex("d40000", &v), 0);
  assert_true(json_is_null(v.root));
  sio__mp_value_free(&v);
}

static void decode_numbers_of_every_width(void **state) {
  (void)state;
  sio__mp_value_t v;
  /* float32 1.5, float64 NaN (-> null), uint64 2^64-1 (-> real), int8 -1, int16, int32, int64 */
  assert_int_equal(decode_hex("97ca3fc00000cb7ff8000000000000cfffffffffffffffffd0ffd1fffed2fffffffdd3fffffffffffffffc", &v),
                   0);
  assert_json(v.root, "[1.5,null,18446744073709552000,-1,-2,-3,-4]");
  sio__mp_value_free(&v);
  /* An integer map key is a string key in JS. */
  assert_int_equal(decode_hex("810501", &v), 0);
  assert_json(v.root, "{\"5\":1}");
  sio__mp_value_free(&v);
}

static void decode_rejects_every_truncation(void **state) {
  (void)state;
  bytes_t in = unhex(V_REQ);
  for (size_t n = 0; n < in.n; n++) {
    sio__mp_value_t v;
    assert_int_equal(sio__mp_decode(in.p, n, &v), SIO_EPROTO);
  }
  free(in.p);
}

static void decode_rejects_malformed_input(void **state) {
  (void)state;
  sio__mp_value_t v;
  assert_int_equal(decode_hex("c0c0", &v), SIO_EPROTO);         /* trailing bytes */
  assert_int_equal(decode_hex("c1", &v), SIO_EPROTO);           /* never used */
  assert_int_equal(decode_hex("ddffffffff", &v), SIO_EPROTO);   /* 4G elements in 0 bytes */
  assert_int_equal(decode_hex("dfffffffff00", &v), SIO_EPROTO); /* the same for a map */
  assert_int_equal(decode_hex("a2c328", &v), SIO_EUTF8);        /* invalid UTF-8 value */
  assert_int_equal(decode_hex("81a2c32801", &v), SIO_EUTF8);    /* invalid UTF-8 key */
  assert_int_equal(decode_hex("81a2610001", &v), SIO_EPROTO);   /* NUL in a key */
  assert_int_equal(decode_hex("81c301", &v), SIO_EPROTO);       /* a boolean key */
  assert_int_equal(decode_hex("81d90301", &v), SIO_EPROTO);     /* key shorter than said */
  assert_int_equal(decode_hex("82a16101a16102", &v), SIO_EPROTO); /* {a:1, a:2} */
  assert_int_equal(decode_hex("82a13001" "0002", &v), SIO_EPROTO); /* {"0":1, 0:2} */
  /* {_placeholder: true, num: 0}: a client would read it as a binary attachment. */
  assert_int_equal(decode_hex("82ac5f706c616365686f6c646572c3a36e756d00", &v), SIO_EPROTO);
}

static void decode_limits_depth_and_attachments(void **state) {
  (void)state;
  sio__mp_value_t v;
  char deep[2 * (SIO__MP_MAX_DEPTH + 1) + 3];
  for (int i = 0; i <= SIO__MP_MAX_DEPTH; i++) memcpy(deep + 2 * i, "91", 2);
  strcpy(deep + 2 * (SIO__MP_MAX_DEPTH + 1), "c0");
  assert_int_equal(decode_hex(deep, &v), SIO_ELIMIT);
  deep[2 * SIO__MP_MAX_DEPTH] = '\0';
  strcat(deep, "c0");
  assert_int_equal(decode_hex(deep, &v), 0);
  sio__mp_value_free(&v);
  /* 257 empty binaries */
  char *many = malloc(6 + 4 * 257 + 1);
  strcpy(many, "dc0101");
  for (int i = 0; i < 257; i++) strcat(many, "c400");
  assert_int_equal(decode_hex(many, &v), SIO_ELIMIT);
  many[6 + 4 * 256] = '\0';
  memcpy(many, "dc0100", 6);
  assert_int_equal(decode_hex(many, &v), 0);
  assert_int_equal(v.natt, 256);
  sio__mp_value_free(&v);
  free(many);
}

static void decode_broadcast_rejects_wrong_shapes(void **state) {
  (void)state;
  static const char *bad[] = {
      "90",                                         /* [] */
      "92a161a162",                                 /* two elements */
      "930183a474797065",                           /* truncated */
      "93c081a4747970650280",                       /* uid not a string */
      "93a17582a47479706503a4646174619191a26576" "80", /* type 3 */
      "93a17582a47479706502a464617461a17880",       /* data not an array */
      "93a17582a47479706502a4646174619101" "80",    /* data[0] not a string */
      "93a17583a47479706502a46461746191a26576a36e737001" "80", /* nsp not a string */
      "93a17582a47479706502a46461746191a2657601",   /* opts not a map */
      "93a17582a47479706502a46461746191a2657681a5726f6f6d73a178", /* rooms not an array */
      "93a17582a47479706502a46461746191a2657681a5726f6f6d7391c3", /* a boolean room */
      "93a17582a47479706502a46461746191a2657681a6657863657074a178", /* except not an array */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bytes_t in = unhex(bad[i]);
    sio__redis_bcast_t b;
    int r = sio__redis_decode_broadcast(in.p, in.n, &b);
    if (r != SIO_EPROTO) fail_msg("vector %zu (%s): got %d", i, bad[i], r);
    free(in.p);
  }
}

static void decode_broadcast_takes_numeric_rooms_as_strings(void **state) {
  (void)state;
  /* ["u", {type:2, data:["ev"]}, {rooms:[7]}]: nsp defaults to "/". */
  bytes_t in = unhex("93a17582a47479706502a46461746191a2657681a5726f6f6d739107");
  sio__redis_bcast_t b;
  assert_int_equal(sio__redis_decode_broadcast(in.p, in.n, &b), 0);
  assert_string_equal(b.nsp, "/");
  assert_int_equal(b.nrooms, 1);
  assert_string_equal(b.rooms[0], "7");
  sio__redis_bcast_free(&b);
  free(in.p);
}

static void decode_message_tells_json_from_msgpack(void **state) {
  (void)state;
  sio__mp_value_t v;
  const char *json = "{\"uid\":\"abc\",\"type\":1}";
  assert_int_equal(sio__redis_decode_message(json, strlen(json), &v), 0);
  assert_json(v.root, json);
  sio__mp_value_free(&v);
  assert_int_equal(sio__redis_decode_message("{\"uid\"", 6, &v), SIO_EJSON);
  assert_int_equal(sio__redis_decode_message("[1]", 3, &v), SIO_EPROTO); /* msgpack 91, then trailing bytes */
  assert_int_equal(sio__redis_decode_message("\x91\x01", 2, &v), SIO_EPROTO); /* a msgpack array */
  bytes_t in = unhex(V_ACK);
  assert_int_equal(sio__redis_decode_message(in.p, in.n, &v), 0);
  assert_json(v.root, "{\"type\":9,\"requestId\":\"req123\",\"packet\":\"x\"}");
  sio__mp_value_free(&v);
  free(in.p);
}

/* ---- OOM: every allocation failing in turn ---- */

static long fail_at, allocs;

static void *oom_malloc(void *ctx, size_t n) {
  (void)ctx;
  return ++allocs == fail_at ? NULL : malloc(n);
}
static void *oom_realloc(void *ctx, void *p, size_t n) {
  (void)ctx;
  return ++allocs == fail_at ? NULL : realloc(p, n);
}
static void oom_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

static void codec_survives_every_allocation_failure(void **state) {
  (void)state;
  static const sio_allocator_t a = {oom_malloc, oom_realloc, oom_free, NULL};
  bytes_t in = unhex(V_BCAST_MULTI);
  int ok = 0;
  for (fail_at = 1; fail_at < 500 && !ok; fail_at++) {
    allocs = 0;
    sio_set_allocator(&a);
    sio__redis_bcast_t b;
    int r = sio__redis_decode_broadcast(in.p, in.n, &b);
    assert_true(r == 0 || r == SIO_ENOMEM);
    if (r == 0) {
      sio__buf_t out = SIO__BUF_INIT;
      int e = sio__mp_encode(&out, b.v.root, b.v.att, b.v.natt);
      assert_true(e == 0 || e == SIO_ENOMEM);
      ok = e == 0;
      sio__buf_free(&out);
      sio__redis_bcast_free(&b);
    }
    sio_set_allocator(NULL);
  }
  assert_true(ok);
  free(in.p);
}

/* ---- redis:// URLs ---- */

static void url_parses_host_port_password_and_db(void **state) {
  (void)state;
  sio__redis_url_t u;
  assert_int_equal(sio__redis_url_parse("redis://127.0.0.1", &u), 0);
  assert_string_equal(u.host, "127.0.0.1");
  assert_int_equal(u.port, 6379);
  assert_null(u.password);
  sio__redis_url_free(&u);
  assert_int_equal(sio__redis_url_parse("redis://:s3cret@cache.lan:6380/2", &u), 0);
  assert_string_equal(u.host, "cache.lan");
  assert_int_equal(u.port, 6380);
  assert_null(u.user);
  assert_string_equal(u.password, "s3cret");
  assert_int_equal(u.db, 2);
  sio__redis_url_free(&u);
  assert_int_equal(sio__redis_url_parse("redis://app:p%40ss@[::1]:7000/", &u), 0);
  assert_string_equal(u.host, "::1");
  assert_string_equal(u.user, "app");
  assert_string_equal(u.password, "p@ss");
  assert_int_equal(u.port, 7000);
  sio__redis_url_free(&u);
}

static void url_rejects_what_it_cannot_use(void **state) {
  (void)state;
  static const char *bad[] = {"http://h",        "rediss://h",     "redis://",      "redis://:6379",
                              "redis://h:0",      "redis://h:70000", "redis://h:12a", "redis://h/x",
                              "redis://[::1",     "redis://h:",      "redis://:p%zz@h", "redis://:p%00@h"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sio__redis_url_t u;
    if (sio__redis_url_parse(bad[i], &u) != SIO_EINVAL) fail_msg("accepted %s", bad[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(encode_broadcast_matches_notepack),
      cmocka_unit_test(encode_broadcast_dedups_rooms_and_writes_volatile),
      cmocka_unit_test(encode_broadcast_to_everyone_without_arguments),
      cmocka_unit_test(encode_broadcast_request_with_timeout_and_empty_binary),
      cmocka_unit_test(encode_broadcast_ack_with_without_and_binary_packet),
      cmocka_unit_test(encode_integers_in_the_smallest_notepack_format),
      cmocka_unit_test(encode_fractions_as_float64_and_integral_reals_as_integers),
      cmocka_unit_test(encode_int64_beyond_2_pow_53_as_the_double_js_holds),
      cmocka_unit_test(encode_huge_integral_doubles_as_float64),
      cmocka_unit_test(encode_strings_by_utf8_length),
      cmocka_unit_test(encode_object_keys_in_javascript_order),
      cmocka_unit_test(encode_sixteen_members_as_map16_and_array16),
      cmocka_unit_test(encode_binary_as_bin8_and_bin16),
      cmocka_unit_test(decode_then_encode_gives_notepack_bytes_back),
      cmocka_unit_test(decode_broadcast_reads_uid_packet_and_options),
      cmocka_unit_test(decode_broadcast_request_reads_timeout),
      cmocka_unit_test(decode_dates_as_the_iso_strings_json_stringify_prints),
      cmocka_unit_test(decode_undefined_and_other_exts_like_notepack),
      cmocka_unit_test(decode_numbers_of_every_width),
      cmocka_unit_test(decode_rejects_every_truncation),
      cmocka_unit_test(decode_rejects_malformed_input),
      cmocka_unit_test(decode_limits_depth_and_attachments),
      cmocka_unit_test(decode_broadcast_rejects_wrong_shapes),
      cmocka_unit_test(decode_broadcast_takes_numeric_rooms_as_strings),
      cmocka_unit_test(decode_message_tells_json_from_msgpack),
      cmocka_unit_test(codec_survives_every_allocation_failure),
      cmocka_unit_test(url_parses_host_port_password_and_db),
      cmocka_unit_test(url_rejects_what_it_cannot_use),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
