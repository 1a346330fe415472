/* Unit tests for the request-target helpers (src/http/url.c): split, query lookup,
 * percent-decoding, and path normalisation for static file serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/url.h"
#include "sio/errors.h"

static sio_str_t str(const char *s) { return (sio_str_t){s, strlen(s)}; }

static void assert_str(sio_str_t s, const char *want) {
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.ptr, want, s.len);
}

static void url_split_separates_path_query_and_drops_fragment(void **state) {
  (void)state;
  static const struct {
    const char *url, *path, *query;
  } cases[] = {
      {"/", "/", ""},
      {"/socket.io/?EIO=4&transport=polling", "/socket.io/", "EIO=4&transport=polling"},
      {"/a/b?", "/a/b", ""},
      {"/a?x=1?y=2", "/a", "x=1?y=2"},
      {"/a#frag?not=query", "/a", ""},
      {"/a?q=1#frag", "/a", "q=1"},
      {"?only", "", "only"},
      {"", "", ""},
      {"*", "*", ""},
      {"http://host:80/p/q?x=1", "/p/q", "x=1"},
      {"http://host?x=1", "/", "x=1"},
      {"/redirect?to=http://evil/x", "/redirect", "to=http://evil/x"},
      {"/a://b", "/a://b", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sio_str_t path, query;
    sio__http_url_split(str(cases[i].url), &path, &query);
    assert_str(path, cases[i].path);
    assert_str(query, cases[i].query);
    assert_non_null(query.ptr);
  }
  /* Either output may be skipped; a NULL url is an empty one. */
  sio_str_t path;
  sio__http_url_split(str("/p?q"), &path, NULL);
  assert_str(path, "/p");
  sio__http_url_split((sio_str_t){NULL, 0}, &path, NULL);
  assert_int_equal(path.len, 0);
}

static void query_get_finds_first_exact_name(void **state) {
  (void)state;
  sio_str_t q = str("EIO=4&transport=polling&t=abc&sid=one&sid=two&empty=&flag&x%20y=enc&&=novalue&last=z");
  sio_str_t v;
  assert_int_equal(sio__http_query_get(q, "EIO", &v), 1);
  assert_str(v, "4");
  assert_int_equal(sio__http_query_get(q, "sid", &v), 1);
  assert_str(v, "one"); /* the first of two */
  assert_int_equal(sio__http_query_get(q, "t", &v), 1);
  assert_str(v, "abc"); /* not "transport" */
  assert_int_equal(sio__http_query_get(q, "empty", &v), 1);
  assert_str(v, "");
  assert_int_equal(sio__http_query_get(q, "flag", &v), 1);
  assert_str(v, "");
  assert_int_equal(sio__http_query_get(q, "x%20y", &v), 1); /* names are compared raw */
  assert_str(v, "enc");
  assert_int_equal(sio__http_query_get(q, "last", &v), 1);
  assert_str(v, "z");
  assert_int_equal(sio__http_query_get(q, "x y", &v), 0);
  assert_int_equal(sio__http_query_get(q, "si", &v), 0);
  assert_int_equal(sio__http_query_get(q, "sids", &v), 0);
  assert_int_equal(sio__http_query_get(q, "eio", &v), 0); /* case-sensitive */
  assert_int_equal(sio__http_query_get(q, "missing", &v), 0);
  assert_int_equal(sio__http_query_get(str(""), "a", &v), 0);
  assert_int_equal(sio__http_query_get((sio_str_t){NULL, 0}, "a", &v), 0);
  /* An empty name matches a parameter with an empty name only. */
  assert_int_equal(sio__http_query_get(q, "", &v), 1);
  assert_str(v, "novalue");
}

static void pct_decode_decodes_and_rejects_bad_escapes(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(sio__http_pct_decode(str("a%20b%2Fc%41%7e"), out, sizeof out, 0), 7);
  assert_memory_equal(out, "a b/cA~", 7);
  assert_int_equal(sio__http_pct_decode(str("%e2%82%AC"), out, sizeof out, 0), 3);
  assert_memory_equal(out, "\xe2\x82\xac", 3);
  assert_int_equal(sio__http_pct_decode(str("%00x"), out, sizeof out, 0), 2);
  assert_memory_equal(out, "\0x", 2);
  /* '+' is a space only in form encoding. */
  assert_int_equal(sio__http_pct_decode(str("a+b%2B"), out, sizeof out, SIO__PCT_PLUS), 4);
  assert_memory_equal(out, "a b+", 4);
  assert_int_equal(sio__http_pct_decode(str("a+b"), out, sizeof out, 0), 3);
  assert_memory_equal(out, "a+b", 3);
  assert_int_equal(sio__http_pct_decode(str(""), out, sizeof out, 0), 0);
  /* Bad escapes. */
  assert_int_equal(sio__http_pct_decode(str("%zz"), out, sizeof out, 0), SIO_EPROTO);
  assert_int_equal(sio__http_pct_decode(str("a%4"), out, sizeof out, 0), SIO_EPROTO);
  assert_int_equal(sio__http_pct_decode(str("a%"), out, sizeof out, 0), SIO_EPROTO);
  assert_int_equal(sio__http_pct_decode(str("%4g"), out, sizeof out, 0), SIO_EPROTO);
  assert_int_equal(sio__http_pct_decode(str("%g4"), out, sizeof out, 0), SIO_EPROTO);
  assert_int_equal(sio__http_pct_decode(str("ok%-1"), out, sizeof out, 0), SIO_EPROTO);
  /* Capacity: exactly enough fits, one byte short does not. */
  /* Lenient (Node's querystring.unescape): a bad escape stays as it is. */
  assert_int_equal(sio__http_pct_decode(str("%zz%4+%41%"), out, sizeof out, SIO__PCT_LENIENT | SIO__PCT_PLUS), 8);
  assert_memory_equal(out, "%zz%4 A%", 8);
  assert_int_equal(sio__http_pct_decode(str("ab%41"), out, 3, 0), 3);
  assert_int_equal(sio__http_pct_decode(str("ab%41"), out, 2, 0), SIO_ETOOBIG);
  assert_int_equal(sio__http_pct_decode(str("a"), out, 0, 0), SIO_ETOOBIG);
}

/* Normalises path into a 64-byte buffer and checks the result (NULL: expect err). */
static void check_norm(const char *path, const char *want, long err) {
  char out[64];
  long n = sio__http_path_normalize(str(path), out, sizeof out);
  if (want == NULL) {
    if (n != err) print_error("path '%s': got %ld, want %ld\n", path, n, err);
    assert_int_equal(n, err);
    return;
  }
  if (n < 0) print_error("path '%s': got error %ld, want '%s'\n", path, n, want);
  assert_int_equal(n, strlen(want));
  assert_string_equal(out, want);
}

static void path_normalize_cleans_and_refuses_traversal(void **state) {
  (void)state;
  /* Clean results. */
  check_norm("/", "/", 0);
  check_norm("/index.html", "/index.html", 0);
  check_norm("/a/b/c.js", "/a/b/c.js", 0);
  check_norm("//a///b//", "/a/b", 0); /* double slashes */
  check_norm("/./a/./b/.", "/a/b", 0);
  check_norm("/a/", "/a", 0);
  check_norm("///", "/", 0);
  check_norm("/my%20file.txt", "/my file.txt", 0);
  check_norm("/%2e/a", "/a", 0);              /* an encoded "." is still "." */
  check_norm("/.../a", "/.../a", 0);          /* three dots is a name */
  check_norm("/..a/b..", "/..a/b..", 0);      /* so is anything merely starting with ".." */
  check_norm("/.hidden", "/.hidden", 0);      /* dotfiles are the server's business */
  check_norm("/a+b", "/a+b", 0);              /* '+' is not a space in a path */
  check_norm("/caf%C3%A9", "/caf\xc3\xa9", 0);
  /* Traversal, plain or encoded. */
  check_norm("/../etc/passwd", NULL, SIO_EPROTO);
  check_norm("/static/../../etc/passwd", NULL, SIO_EPROTO);
  check_norm("/a/..", NULL, SIO_EPROTO);
  check_norm("/a/b/../c", NULL, SIO_EPROTO); /* rejected, not resolved */
  check_norm("/%2e%2e/etc/passwd", NULL, SIO_EPROTO);
  check_norm("/%2E%2E", NULL, SIO_EPROTO);
  check_norm("/.%2e/x", NULL, SIO_EPROTO);
  check_norm("/%2e./x", NULL, SIO_EPROTO);
  /* Encoded slash: would hide a separator (and "..%2f" a traversal) inside a segment. */
  check_norm("/a%2Fb", NULL, SIO_EPROTO);
  check_norm("/a%2fb", NULL, SIO_EPROTO);
  check_norm("/..%2fetc%2fpasswd", NULL, SIO_EPROTO);
  /* Backslash, raw or encoded (a separator on some systems). */
  check_norm("/a\\b", NULL, SIO_EPROTO);
  check_norm("/..%5c..%5cwin.ini", NULL, SIO_EPROTO);
  check_norm("/%5C", NULL, SIO_EPROTO);
  /* NUL and other control bytes. */
  check_norm("/index.html%00.png", NULL, SIO_EPROTO);
  check_norm("/a%0a", NULL, SIO_EPROTO);
  check_norm("/a%7f", NULL, SIO_EPROTO);
  /* Malformed. */
  check_norm("/a%zz", NULL, SIO_EPROTO);
  check_norm("/a%4", NULL, SIO_EPROTO);
  check_norm("", NULL, SIO_EPROTO);
  check_norm("a/b", NULL, SIO_EPROTO);
  check_norm("*", NULL, SIO_EPROTO);

  /* Capacity counts the NUL. */
  char out[8];
  assert_int_equal(sio__http_path_normalize(str("/abcdef"), out, 8), 7);
  assert_string_equal(out, "/abcdef");
  assert_int_equal(sio__http_path_normalize(str("/abcdefg"), out, 8), SIO_ETOOBIG);
  assert_int_equal(sio__http_path_normalize(str("/a/b/c/d"), out, 8), SIO_ETOOBIG);
  assert_int_equal(sio__http_path_normalize(str("/"), out, 2), 1);
  assert_string_equal(out, "/");
  assert_int_equal(sio__http_path_normalize(str("/"), out, 1), SIO_ETOOBIG);
  /* Dropped segments do not count against the capacity. */
  assert_int_equal(sio__http_path_normalize(str("/./././././abc"), out, 8), 4);
  assert_string_equal(out, "/abc");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(url_split_separates_path_query_and_drops_fragment),
      cmocka_unit_test(query_get_finds_first_exact_name),
      cmocka_unit_test(pct_decode_decodes_and_rejects_bad_escapes),
      cmocka_unit_test(path_normalize_cleans_and_refuses_traversal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
