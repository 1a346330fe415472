/*
 * Unit tests for the streams adapter's codec (src/adapter/redis_streams_codec.c): entry
 * ids, the `data` field of stream entries, pub/sub messages and sessions.
 *
 * The base64 vectors were produced by @msgpack/msgpack 2.8 (the codec of
 * @socket.io/redis-streams-adapter 0.3.1) with tests/node_modules:
 *   Buffer.from(encode(value)).toString('base64')
 * from the JS value written next to each, so they are what a Node node stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "adapter/redis_streams_codec.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "sio/errors.h"
#include "sio/json.h"
#include "sio/parser.h"

#define SID_A "AAAAAAAAAAAAAAAAAAAA"
#define PID_B "BBBBBBBBBBBBBBBBBBBB"

/* {sid, pid, rooms: [sid, 'room1'], data: {user: 'nina', n: 3}} */
static const char NODE_SESSION[] =
    "hKNzaWS0QUFBQUFBQUFBQUFBQUFBQUFBQUGjcGlktEJCQkJCQkJCQkJCQkJCQkJCQkJCpXJvb21zkrRBQUFBQUFBQUFBQUFBQUFBQUFBQaVyb29t"
    "MaRkYXRhgqR1c2VypG5pbmGhbgM=";
/* {sid, pid, rooms: [sid], data: {}} */
static const char NODE_SESSION_EMPTY[] =
    "hKNzaWS0QUFBQUFBQUFBQUFBQUFBQUFBQUGjcGlktEJCQkJCQkJCQkJCQkJCQkJCQkJCpXJvb21zkbRBQUFBQUFBQUFBQUFBQUFBQUFBQaRkYXRh"
    "gA==";
/* {packet: {type: 2, data: ['bcast', {n: 1, bin: Buffer [1,2,3]}], nsp: '/'},
 *  opts: {rooms: ['r'], except: [], flags: {}}} */
static const char NODE_BINARY_DATA[] =
    "gqZwYWNrZXSDpHR5cGUCpGRhdGGSpWJjYXN0gqFuAaNiaW7EAwECA6Nuc3ChL6RvcHRzg6Vyb29tc5GhcqZleGNlcHSQpWZsYWdzgA==";
static const char JSON_DATA[] =
    "{\"packet\":{\"type\":2,\"data\":[\"bcast\",{\"n\":1}],\"nsp\":\"/\"},\"opts\":{\"rooms\":[\"r\"],\"except\":[],"
    "\"flags\":{}}}";

static sio_str_t S(const char *s) { return (sio_str_t){s, strlen(s)}; }

static void ids_parse_compare_and_print(void **state) {
  (void)state;
  sio__xid_t a, b;
  assert_int_equal(sio__xid_parse("1796533405495-0", 15, &a), 0);
  assert_true(a.ms == 1796533405495ull && a.seq == 0);
  assert_int_equal(sio__xid_parse("1796533405495-12", 16, &b), 0);
  assert_true(sio__xid_cmp(a, b) < 0 && sio__xid_cmp(b, a) > 0 && sio__xid_cmp(a, a) == 0);
  char out[SIO__XID_MAX + 1];
  assert_int_equal(sio__xid_format(b, out), 16);
  assert_string_equal(out, "1796533405495-12");
  assert_int_equal(sio__xid_parse("18446744073709551615-18446744073709551615", 41, &a), 0);
  assert_int_equal(sio__xid_format(a, out), SIO__XID_MAX);
  /* restoreSession's /^[0-9]+-[0-9]+$/, and no overflow. */
  const char *bad[] = {"", "-", "1-", "-1", "1", "1-2-3", "a-1", "1-1x", " 1-1", "18446744073709551616-0", "$", "+"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(sio__xid_parse(bad[i], strlen(bad[i]), &a), SIO_EPROTO);
}

static void plain_data_is_json_binary_data_is_base64_msgpack(void **state) {
  (void)state;
  json_t *plain = json_loads(JSON_DATA, 0, NULL);
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__xs_encode_data(&b, plain, NULL, 0), 0);
  assert_int_equal(b.len, strlen(JSON_DATA));
  assert_memory_equal(b.base, JSON_DATA, b.len);
  sio__buf_free(&b);
  json_decref(plain);

  /* The same tree with the Buffer as a placeholder: byte-exact with Node. */
  json_t *bin = json_loads("{\"packet\":{\"type\":2,\"data\":[\"bcast\",{\"n\":1,\"bin\":{\"_placeholder\":true,\"num\":0}}],"
                           "\"nsp\":\"/\"},\"opts\":{\"rooms\":[\"r\"],\"except\":[],\"flags\":{}}}",
                           0, NULL);
  sio__refbuf_t *att = sio__refbuf_new(16, 3);
  assert_non_null(att);
  memcpy(sio__refbuf_ptr(att), "\x01\x02\x03", 3);
  assert_int_equal(sio__xs_encode_data(&b, bin, &att, 1), 0);
  assert_int_equal(b.len, strlen(NODE_BINARY_DATA));
  assert_memory_equal(b.base, NODE_BINARY_DATA, b.len);
  sio__buf_free(&b);
  sio__refbuf_unref(att);
  json_decref(bin);
}

static void entries_decode_both_forms(void **state) {
  (void)state;
  sio_str_t fields[8] = {S("uid"), S("0123456789abcdef"), S("nsp"), S("/"), S("type"), S("3"), S("data"),
                         S(NODE_BINARY_DATA)};
  sio__xs_entry_t e;
  assert_int_equal(sio__xs_decode_entry(fields, 4, &e), 0);
  assert_int_equal(e.type, SIO__XS_BROADCAST);
  assert_int_equal(e.uid.len, 16);
  assert_int_equal(e.v.natt, 1);
  json_t *data = json_object_get(json_object_get(e.v.root, "packet"), "data");
  uint32_t num;
  assert_true(sio__placeholder_num(json_object_get(json_array_get(data, 1), "bin"), &num) && num == 0);
  assert_memory_equal(sio__refbuf_ptr(e.v.att[0]), "\x01\x02\x03", 3);
  sio__xs_entry_free(&e);

  fields[7] = S(JSON_DATA);
  assert_int_equal(sio__xs_decode_entry(fields, 4, &e), 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(e.v.root, "packet"), "type")), 2);
  sio__xs_entry_free(&e);

  /* No data (a heartbeat): fine, root NULL. Field order does not matter. */
  sio_str_t hb[6] = {S("type"), S("2"), S("nsp"), S("/"), S("uid"), S("x")};
  assert_int_equal(sio__xs_decode_entry(hb, 3, &e), 0);
  assert_null(e.v.root);
  sio__xs_entry_free(&e);

  /* Refused: a missing uid, a type that is not a number, data that is neither. */
  sio_str_t bad1[4] = {S("nsp"), S("/"), S("type"), S("3")};
  assert_int_equal(sio__xs_decode_entry(bad1, 2, &e), SIO_EPROTO);
  sio_str_t bad2[6] = {S("uid"), S("x"), S("nsp"), S("/"), S("type"), S("three")};
  assert_int_equal(sio__xs_decode_entry(bad2, 3, &e), SIO_EPROTO);
  sio_str_t bad3[8] = {S("uid"), S("x"), S("nsp"), S("/"), S("type"), S("3"), S("data"), S("{nope")};
  assert_int_equal(sio__xs_decode_entry(bad3, 4, &e), SIO_EJSON);
  bad3[7] = S("!!!!");
  assert_int_equal(sio__xs_decode_entry(bad3, 4, &e), SIO_EPROTO);
  bad3[7] = S("kA=="); /* base64 of a msgpack array: data must be a map */
  assert_int_equal(sio__xs_decode_entry(bad3, 4, &e), SIO_EPROTO);
}

static void sessions_are_byte_exact_with_node_both_ways(void **state) {
  (void)state;
  const char *rooms[] = {SID_A, "room1"};
  sio_adapter_session_t s = {SID_A, PID_B, rooms, 2, "{\"user\":\"nina\",\"n\":3}"};
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__xs_encode_session(&b, &s), 0);
  assert_int_equal(b.len, strlen(NODE_SESSION));
  assert_memory_equal(b.base, NODE_SESSION, b.len);
  sio__buf_free(&b);

  /* No data: socket.data's default, an empty object. */
  sio_adapter_session_t e = {SID_A, PID_B, rooms, 1, NULL};
  assert_int_equal(sio__xs_encode_session(&b, &e), 0);
  assert_int_equal(b.len, strlen(NODE_SESSION_EMPTY));
  assert_memory_equal(b.base, NODE_SESSION_EMPTY, b.len);
  sio__buf_free(&b);

  sio__xs_session_t d;
  assert_int_equal(sio__xs_decode_session(NODE_SESSION, strlen(NODE_SESSION), &d), 0);
  assert_string_equal(d.sid, SID_A);
  assert_string_equal(d.pid, PID_B);
  assert_int_equal(d.nrooms, 2);
  assert_string_equal(d.rooms[1], "room1");
  assert_string_equal(d.data_json, "{\"user\":\"nina\",\"n\":3}");
  sio_adapter_session_t view = sio__xs_session_view(&d);
  assert_ptr_equal(view.data_json, d.data_json);
  sio__xs_session_free(&d);

  sio_adapter_session_t bad = {SID_A, PID_B, rooms, 1, "{not json"};
  assert_int_equal(sio__xs_encode_session(&b, &bad), SIO_EJSON);
  assert_int_equal(b.len, 0);
  sio__buf_free(&b);
  /* Not base64; base64 of a map without pid; rooms not strings. */
  assert_int_equal(sio__xs_decode_session("***", 3, &d), SIO_EPROTO);
  assert_int_equal(sio__xs_decode_session("gaNzaWShQQ==", 12, &d), SIO_EPROTO);           /* {sid:'A'} */
  assert_int_equal(sio__xs_decode_session("g6NzaWShQaNwaWShQqVyb29tc5EB", 28, &d), SIO_EPROTO); /* rooms [1] */
}

static void messages_carry_type_data_uid_nsp(void **state) {
  (void)state;
  json_t *data = json_pack("{s:s,s:i}", "requestId", "r1", "clientCount", 2);
  sio__buf_t b = SIO__BUF_INIT;
  assert_int_equal(sio__xs_encode_message(&b, SIO__XS_BROADCAST_CLIENT_COUNT, data, NULL, 0, "u1", "/"), 0);
  sio__mp_value_t v;
  assert_int_equal(sio__xs_decode_message(b.base, b.len, &v), 0);
  assert_int_equal(json_integer_value(json_object_get(v.root, "type")), SIO__XS_BROADCAST_CLIENT_COUNT);
  assert_string_equal(json_string_value(json_object_get(v.root, "uid")), "u1");
  assert_string_equal(json_string_value(json_object_get(v.root, "nsp")), "/");
  assert_true(json_equal(json_object_get(v.root, "data"), data));
  sio__mp_value_free(&v);
  sio__buf_free(&b);
  json_decref(data);
  /* A map without an integer type is not a message. */
  assert_int_equal(sio__xs_decode_message("\x81\xa4type\xa1x", 8, &v), SIO_EPROTO);
  assert_int_equal(sio__xs_decode_message("\x90", 1, &v), SIO_EPROTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ids_parse_compare_and_print),
      cmocka_unit_test(plain_data_is_json_binary_data_is_base64_msgpack),
      cmocka_unit_test(entries_decode_both_forms),
      cmocka_unit_test(sessions_are_byte_exact_with_node_both_ways),
      cmocka_unit_test(messages_carry_type_data_uid_nsp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
