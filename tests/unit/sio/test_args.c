/*
 * Unit tests for composing and taking apart event arguments that carry binary
 * (src/sio/args.c: sio_args_member, sio_args_unpack, sio_args_add_array,
 * sio_args_add_object). Each result is checked on the wire: the Socket.IO packet text the
 * args encode to (placeholders renumbered in order, "<n>-" attachment count) and the
 * bytes of every attachment, so a stray or missing attachment shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio.h"
#include "sio/sio.h"

/* ---- helpers ---- */

/* Encodes ["e", ...a] for "/" and compares the Engine.IO message text ("4" + the
 * Socket.IO packet) byte for byte. */
static void expect_packet(const sio_args_t *a, const char *want) {
  sio__refbuf_t *text = NULL;
  assert_int_equal(sio__encode_event("/", "e", a, -1, &text), 0);
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

static long fail_after = -1; /* allocations left before failing; -1: never fail */

static void *oom_malloc(void *ctx, size_t n) {
  (void)ctx;
  if (fail_after == 0) return NULL;
  if (fail_after > 0) fail_after--;
  return malloc(n);
}

static void *oom_realloc(void *ctx, void *p, size_t n) {
  (void)ctx;
  if (fail_after == 0) return NULL;
  if (fail_after > 0) fail_after--;
  return realloc(p, n);
}

static void oom_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

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
}

int main(void) {
  sio_set_allocator(NULL);
  const struct CMUnitTest tests[] = {
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
