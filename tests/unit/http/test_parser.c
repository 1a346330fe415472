/*
 * Unit tests for the strict HTTP/1.1 request parser (src/http/parser.c): requests,
 * keep-alive, pipelining, upgrades, and a smuggling/limits regression table. Every
 * input is also fed in small slices, down to one byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/parser.h"
#include "sio/errors.h"

#define S(lit) lit, sizeof(lit) - 1

/* Slice sizes every input is fed in: 0 means all at once. */
static const size_t steps[] = {0, 1, 2, 7};
#define NSTEPS (sizeof steps / sizeof steps[0])

/*
 * Feeds raw in slices of step bytes until a request completes, an error happens or the
 * bytes run out. Returns the bytes consumed, or the error. Checks the contract that
 * every byte is consumed unless a message completed.
 */
static long feed(sio__http_parser_t *p, const char *raw, size_t len, size_t step) {
  size_t off = 0;
  while (off < len) {
    size_t n = step && step < len - off ? step : len - off;
    long r = sio__http_parser_execute(p, raw + off, n);
    if (r < 0) return r;
    off += (size_t)r;
    if (p->complete) return (long)off;
    assert_int_equal(r, n);
  }
  return (long)off;
}

static void assert_str(sio_str_t s, const char *want) {
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.ptr, want, s.len);
}

static void assert_header(const sio__http_request_t *r, const char *name, const char *want) {
  sio_str_t v;
  assert_int_equal(sio__http_req_header(r, name, &v), 1);
  assert_str(v, want);
}

/* ---- well-formed requests ---- */

static void parser_parses_get_with_lowercased_names_and_trimmed_values(void **state) {
  (void)state;
  static const char raw[] =
      "GET /index.html?x=1&y=%20 HTTP/1.1\r\n"
      "Host: Example.COM\r\n"
      "X-Mixed-CASE:   some  value \t\r\n"
      "Empty:\r\n"
      "Spaces: \t \r\n"
      "\r\n";
  for (size_t s = 0; s < NSTEPS; s++) {
    sio__http_parser_t p;
    sio__http_parser_init(&p, NULL);
    assert_int_equal(sio__http_parser_in_message(&p), 0);
    assert_int_equal(feed(&p, S(raw), steps[s]), sizeof raw - 1);
    assert_int_equal(p.complete, 1);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.req.method, HTTP_GET);
    assert_string_equal(sio__http_method_str(p.req.method), "GET");
    assert_int_equal(p.req.http_major, 1);
    assert_int_equal(p.req.http_minor, 1);
    assert_int_equal(p.req.keep_alive, 1);
    assert_int_equal(p.req.upgrade, 0);
    assert_str(sio__http_req_url(&p.req), "/index.html?x=1&y=%20");
    assert_int_equal(p.req.nhdrs, 4);
    assert_header(&p.req, "host", "Example.COM");
    assert_header(&p.req, "x-mixed-case", "some  value");
    assert_header(&p.req, "empty", "");
    assert_header(&p.req, "spaces", "");
    sio_str_t v;
    assert_int_equal(sio__http_req_header(&p.req, "Host", &v), 0); /* names are given lower-case */
    assert_int_equal(sio__http_req_header(&p.req, "missing", &v), 0);
    assert_int_equal(p.req.body.len, 0);
    assert_int_equal(sio__http_parser_in_message(&p), 0);
    /* While a request is complete, nothing more is consumed. */
    assert_int_equal(sio__http_parser_execute(&p, S("GET / HTTP/1.1\r\n")), 0);
    sio__http_parser_free(&p);
  }
}

static void parser_parses_post_with_content_length_body(void **state) {
  (void)state;
  /* The body holds bare CR and LF and starts with a space: only the head is screened. */
  static const char raw[] =
      "POST /submit HTTP/1.1\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Length: 12\r\n"
      "\r\n"
      " a\rb\nc\r\n\rX\x00z";
  for (size_t s = 0; s < NSTEPS; s++) {
    sio__http_parser_t p;
    sio__http_parser_init(&p, NULL);
    assert_int_equal(feed(&p, S(raw), steps[s]), sizeof raw - 1);
    assert_int_equal(p.complete, 1);
    assert_int_equal(p.req.method, HTTP_POST);
    assert_string_equal(sio__http_method_str(p.req.method), "POST");
    assert_int_equal(p.req.body.len, 12);
    assert_memory_equal(p.req.body.base, " a\rb\nc\r\n\rX\x00z", 12);
    assert_header(&p.req, "content-length", "12");
    sio__http_parser_free(&p);
  }
}

static void parser_accepts_empty_lines_before_the_request_line(void **state) {
  (void)state;
  for (size_t s = 0; s < NSTEPS; s++) {
    sio__http_parser_t p;
    sio__http_parser_init(&p, NULL);
    assert_int_equal(feed(&p, S("\r\n\r\nGET /x HTTP/1.1\r\n\r\n"), steps[s]), 23);
    assert_int_equal(p.complete, 1);
    assert_str(sio__http_req_url(&p.req), "/x");
    sio__http_parser_free(&p);
  }
}

static void parser_keep_alive_follows_version_and_connection(void **state) {
  (void)state;
  static const struct {
    const char *raw;
    int keep_alive, minor;
  } cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", 1, 1},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0, 1},
      {"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", 0, 1},
      {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", 1, 1},
      {"GET / HTTP/1.0\r\n\r\n", 0, 0},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1, 0},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (size_t s = 0; s < NSTEPS; s++) {
      sio__http_parser_t p;
      sio__http_parser_init(&p, NULL);
      size_t len = strlen(cases[i].raw);
      assert_int_equal(feed(&p, cases[i].raw, len, steps[s]), len);
      assert_int_equal(p.complete, 1);
      assert_int_equal(p.req.keep_alive, cases[i].keep_alive);
      assert_int_equal(p.req.http_minor, cases[i].minor);
      sio__http_parser_free(&p);
    }
  }
}

static void parser_discards_bytes_after_a_connection_close_request(void **state) {
  (void)state;
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  assert_int_equal(feed(&p, S("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), 0), 37);
  assert_int_equal(p.req.keep_alive, 0);
  sio__http_parser_next(&p);
  assert_int_equal(sio__http_parser_execute(&p, S("GET /2 HTTP/1.1\r\n\r\n")), 19);
  assert_int_equal(p.complete, 0);
  assert_int_equal(sio__http_parser_in_message(&p), 0);
  sio__http_parser_free(&p);
}

/* Parses every request in raw (feeding in slices of step) and checks their urls. */
static void check_pipeline(const char *raw, size_t len, size_t step, const char *const *urls, size_t n) {
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  size_t off = 0, got = 0;
  while (off < len) {
    long r = feed(&p, raw + off, len - off, step);
    assert_true(r > 0);
    assert_int_equal(p.complete, 1);
    assert_true(got < n);
    assert_str(sio__http_req_url(&p.req), urls[got++]);
    if (p.req.method == HTTP_POST) {
      assert_int_equal(p.req.body.len, 3);
      assert_memory_equal(p.req.body.base, "abc", 3);
    }
    sio__http_parser_next(&p);
    /* next() frees the request: an idle keep-alive connection holds no buffers. */
    assert_null(p.req.store.base);
    assert_null(p.req.hdrs);
    assert_null(p.req.body.base);
    assert_int_equal(p.complete, 0);
    off += (size_t)r;
  }
  assert_int_equal(got, n);
  sio__http_parser_free(&p);
}

static void parser_handles_two_and_three_pipelined_requests(void **state) {
  (void)state;
  static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  static const char three[] =
      "GET /1 HTTP/1.1\r\n\r\n"
      "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /3?q HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
  static const char *const two_urls[] = {"/a", "/b"};
  static const char *const three_urls[] = {"/1", "/2", "/3?q"};
  for (size_t s = 0; s < NSTEPS; s++) {
    check_pipeline(S(two), steps[s], two_urls, 2);
    check_pipeline(S(three), steps[s], three_urls, 3);
  }
  /* The first call stops right after the first message. */
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  assert_int_equal(sio__http_parser_execute(&p, S(three)), 19);
  assert_int_equal(p.complete, 1);
  sio__http_parser_free(&p);
}

static void parser_upgrade_leaves_the_following_bytes_unconsumed(void **state) {
  (void)state;
  static const char raw[] =
      "GET /ws HTTP/1.1\r\n"
      "Host: x\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\n"
      "\r\n"
      "\x81\x05hello";
  const size_t head = sizeof raw - 1 - 7;
  for (size_t s = 0; s < NSTEPS; s++) {
    sio__http_parser_t p;
    sio__http_parser_init(&p, NULL);
    assert_int_equal(feed(&p, S(raw), steps[s]), head);
    assert_int_equal(p.complete, 1);
    assert_int_equal(p.req.upgrade, 1);
    assert_true(sio__http_req_header_has_token(&p.req, "connection", "upgrade"));
    assert_true(sio__http_req_header_has_token(&p.req, "upgrade", "WebSocket"));
    /* Still complete: the frame bytes are not HTTP and are not taken. */
    assert_int_equal(sio__http_parser_execute(&p, raw + head, 7), 0);
    sio__http_parser_free(&p);
  }
}

static void parser_goes_on_with_http_after_a_declined_upgrade(void **state) {
  (void)state;
  static const char raw[] =
      "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
      "GET /next HTTP/1.1\r\n\r\n";
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  long r = sio__http_parser_execute(&p, S(raw));
  assert_int_equal(r, 53);
  assert_int_equal(p.req.upgrade, 1);
  sio__http_parser_next(&p);
  assert_int_equal(sio__http_parser_execute(&p, raw + r, sizeof raw - 1 - (size_t)r), 22);
  assert_int_equal(p.complete, 1);
  assert_int_equal(p.req.upgrade, 0);
  assert_str(sio__http_req_url(&p.req), "/next");
  sio__http_parser_free(&p);
}

static void parser_header_without_upgrade_token_is_not_an_upgrade(void **state) {
  (void)state;
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  assert_int_equal(feed(&p, S("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), 0), 38);
  assert_int_equal(p.req.upgrade, 0);
  sio__http_parser_free(&p);
  /* CONNECT is an upgrade as far as llhttp is concerned: the caller refuses it. */
  sio__http_parser_init(&p, NULL);
  assert_int_equal(feed(&p, S("CONNECT a:443 HTTP/1.1\r\n\r\nxyz"), 0), 26);
  assert_int_equal(p.req.upgrade, 1);
  assert_string_equal(sio__http_method_str(p.req.method), "CONNECT");
  sio__http_parser_free(&p);
}

static void parser_header_lookups_take_first_match_and_list_tokens(void **state) {
  (void)state;
  static const char raw[] =
      "GET / HTTP/1.1\r\n"
      "X-Dup: first\r\n"
      "Connection: keep-alive ,\tfoo\r\n"
      "X-Dup: second\r\n"
      "Connection: ,Upgrade, \r\n"
      "\r\n";
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  assert_int_equal(feed(&p, S(raw), 0), sizeof raw - 1);
  assert_header(&p.req, "x-dup", "first");
  assert_true(sio__http_req_header_has_token(&p.req, "connection", "keep-alive"));
  assert_true(sio__http_req_header_has_token(&p.req, "connection", "FOO"));
  assert_true(sio__http_req_header_has_token(&p.req, "connection", "upgrade"));
  assert_false(sio__http_req_header_has_token(&p.req, "connection", "grade"));
  assert_false(sio__http_req_header_has_token(&p.req, "connection", "keep"));
  assert_false(sio__http_req_header_has_token(&p.req, "connection", ""));
  assert_false(sio__http_req_header_has_token(&p.req, "x-none", "first"));
  sio__http_parser_free(&p);
  assert_string_equal(sio__http_method_str(HTTP_DELETE), "DELETE");
  assert_string_equal(sio__http_method_str(255), "<unknown>");
  assert_string_equal(sio__http_method_str(-1), "<unknown>");
}

static void parser_holds_a_cr_that_ends_a_chunk(void **state) {
  (void)state;
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  assert_int_equal(sio__http_parser_execute(&p, S("GET / HTTP/1.1\r\nHost: a\r")), 24);
  assert_int_equal(p.complete, 0);
  assert_int_equal(sio__http_parser_in_message(&p), 1);
  assert_int_equal(sio__http_parser_execute(&p, S("\nX: b\r")), 6);
  assert_int_equal(sio__http_parser_execute(&p, S("\n\r")), 2);
  assert_int_equal(sio__http_parser_execute(&p, S("\nrest")), 1);
  assert_int_equal(p.complete, 1);
  assert_header(&p.req, "host", "a");
  assert_header(&p.req, "x", "b");
  sio__http_parser_free(&p);

  /* The same split, but the byte after the held CR is not LF. */
  sio__http_parser_init(&p, NULL);
  assert_int_equal(sio__http_parser_execute(&p, S("GET / HTTP/1.1\r\nHost: a\r\n\r")), 26);
  assert_int_equal(sio__http_parser_execute(&p, S("XGET / HTTP/1.1\r\n\r\n")), SIO_EPROTO);
  assert_int_equal(p.status, 400);
  sio__http_parser_free(&p);
}

static void parser_in_message_tracks_a_partial_request(void **state) {
  (void)state;
  sio__http_parser_t p;
  sio__http_parser_init(&p, NULL);
  assert_int_equal(sio__http_parser_in_message(&p), 0);
  assert_int_equal(sio__http_parser_execute(&p, S("G")), 1);
  assert_int_equal(sio__http_parser_in_message(&p), 1);
  assert_int_equal(sio__http_parser_execute(&p, S("ET / HTTP/1.1\r\nContent-Length: 2\r\n\r\n")), 36);
  assert_int_equal(sio__http_parser_in_message(&p), 1); /* waiting for the body */
  assert_int_equal(sio__http_parser_execute(&p, S("ok")), 2);
  assert_int_equal(p.complete, 1);
  assert_int_equal(sio__http_parser_in_message(&p), 0);
  sio__http_parser_next(&p);
  assert_int_equal(sio__http_parser_in_message(&p), 0);
  sio__http_parser_free(&p);
}

/* ---- the regression table: smuggling shapes, malformed heads, limits ---- */

static const sio__http_limits_t small = {.max_url = 16, .max_head = 128, .max_headers = 4, .max_body = 10};

typedef struct {
  const char *name;
  const char *raw;
  size_t len; /* 0: strlen(raw) */
  const sio__http_limits_t *limits;
  int status;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    /* Content-Length / Transfer-Encoding smuggling. */
    {"conflicting content-length", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 0, NULL, 400},
    {"duplicate content-length", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 0, NULL, 400},
    {"content-length list", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", 0, NULL, 400},
    {"content-length then transfer-encoding",
     "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, NULL, 400},
    {"transfer-encoding then content-length",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 0, NULL, 400},
    {"transfer-encoding chunked alone", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 0,
     NULL, 411},
    {"transfer-encoding gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", 0, NULL, 411},
    /* llhttp itself refuses "chunked" that is not the last coding. */
    {"chunked then another coding", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
     0, NULL, 400},
    {"another coding then chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
     NULL, 411},
    {"transfer-encoding on http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 0, NULL,
     400},
    {"space before colon in content-length", "POST / HTTP/1.1\r\nContent-Length : 4\r\n\r\nabcd", 0, NULL, 400},
    {"space before colon in transfer-encoding", "POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", 0, NULL, 400},
    {"negative content-length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 0, NULL, 400},
    {"signed content-length", "POST / HTTP/1.1\r\nContent-Length: +4\r\n\r\nabcd", 0, NULL, 400},
    {"empty content-length", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 0, NULL, 400},
    {"overflowing content-length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, NULL, 400},
    /* Chunk-extension tricks: never reach a chunk parser, the head already refuses them. */
    {"chunk extension hiding a line", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;x=\"\r\n0\r\n\r\n\"\r\nab\r\n0\r\n\r\n",
     0, NULL, 411},
    {"chunk size with bare lf", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;ext\nab\r\n0\r\n\r\n", 0, NULL, 411},
    {"chunk size with whitespace", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nab\r\n0\r\n\r\n", 0, NULL,
     411},
    /* Line endings. */
    {"bare cr in header value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 0, NULL, 400},
    {"bare cr in request line", "GET /\r HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"cr then other byte ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\rXGET / HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"bare lf line endings", "GET / HTTP/1.1\nHost: a\n\n", 0, NULL, 400},
    {"bare lf after the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, NULL, 400},
    {"bare lf ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, NULL, 400},
    {"leading bare lf", "\nGET / HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"obs-fold with space", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 0, NULL, 400},
    {"obs-fold with tab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 0, NULL, 400},
    {"whitespace before the first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0, NULL, 400},
    /* Bytes that have no place in a head. */
    {"nul in header value", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, NULL, 400},
    {"del in header value", "GET / HTTP/1.1\r\nX: a\x7f" "b\r\n\r\n", 0, NULL, 400},
    {"nul in url", "GET /a\0b HTTP/1.1\r\n\r\n", 21, NULL, 400},
    {"tab in url", "GET /a\tb HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"control byte in url", "GET /a\x01" "b HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"header without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 0, NULL, 400},
    {"empty header name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 0, NULL, 400},
    {"space in header name", "GET / HTTP/1.1\r\nX Y: z\r\n\r\n", 0, NULL, 400},
    {"separator in header name", "GET / HTTP/1.1\r\nX/Y: z\r\n\r\n", 0, NULL, 400},
    {"space in content-length name", "POST / HTTP/1.1\r\nContent Length: 4\r\n\r\nabcd", 0, NULL, 400},
    {"invalid method chars", "G@T / HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"lower-case method", "get / HTTP/1.1\r\n\r\n", 0, NULL, 400},
    {"double space in request line", "GET  / HTTP/1.1\r\n\r\n", 0, NULL, 400},
    /* llhttp files this under HPE_INVALID_VERSION, which answers 505. */
    {"space after version", "GET / HTTP/1.1 \r\n\r\n", 0, NULL, 505},
    {"lower-case protocol name", "GET / http/1.1\r\n\r\n", 0, NULL, 400},
    /* Versions. */
    {"http/9.9", "GET / HTTP/9.9\r\n\r\n", 0, NULL, 505},
    {"http/1.2", "GET / HTTP/1.2\r\n\r\n", 0, NULL, 505},
    {"http/2.0 request line", "GET / HTTP/2.0\r\n\r\n", 0, NULL, 505},
    {"http/0.9 request line", "GET / HTTP/0.9\r\n\r\n", 0, NULL, 505},
    {"http/0.9 without version", "GET /\r\n\r\n", 0, NULL, 505},
    {"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, NULL, 505},
    /* Limits. */
    {"url over max_url", "GET /123456789abcdefg HTTP/1.1\r\n\r\n", 0, &small, 414},
    {"url over default max_url", NULL, 0, NULL, 414},
    {"head over max_head",
     "GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123456789012345678901234567890123456789"
     "01234567890123456789012345678901234567890123456789\r\n\r\n",
     0, &small, 431},
    {"too many headers", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 0, &small, 431},
    {"content-length over max_body", "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 0, &small, 413},
    {"content-length over default max_body", "POST / HTTP/1.1\r\nContent-Length: 1000001\r\n\r\n", 0, NULL, 413},
    {"endless empty lines",
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
     0, &small, 431},
};

static void parser_rejects_smuggling_and_malformed_heads_with_the_right_status(void **state) {
  (void)state;
  /* A request-target one byte over the default max_url. */
  static char long_url[SIO__HTTP_MAX_URL + 64];
  int n = snprintf(long_url, sizeof long_url, "GET /");
  memset(long_url + n, 'a', SIO__HTTP_MAX_URL);
  snprintf(long_url + n + SIO__HTTP_MAX_URL, sizeof long_url - (size_t)n - SIO__HTTP_MAX_URL, " HTTP/1.1\r\n\r\n");
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case_t *c = &bad_cases[i];
    const char *raw = c->raw ? c->raw : long_url;
    size_t len = c->len ? c->len : strlen(raw);
    int want = (c->status == 413 || c->status == 414 || c->status == 431) ? SIO_ETOOBIG : SIO_EPROTO;
    for (size_t s = 0; s < NSTEPS; s++) {
      sio__http_parser_t p;
      sio__http_parser_init(&p, c->limits);
      long r = feed(&p, raw, len, steps[s]);
      if (r != want || p.status != c->status) {
        print_error("case '%s' step %zu: got %ld status %d, want %d status %d\n", c->name, steps[s], r, p.status, want,
                    c->status);
        fail();
      }
      assert_int_equal(p.complete, 0);
      /* The error sticks, and next() does not clear it. */
      assert_int_equal(sio__http_parser_execute(&p, S("GET / HTTP/1.1\r\n\r\n")), want);
      sio__http_parser_next(&p);
      assert_int_equal(sio__http_parser_execute(&p, S("GET / HTTP/1.1\r\n\r\n")), want);
      assert_int_equal(p.status, c->status);
      assert_int_equal(sio__http_parser_in_message(&p), 0);
      sio__http_parser_free(&p);
    }
  }
}

/* Each limit admits exactly its value. */
static void parser_accepts_requests_exactly_at_the_limits(void **state) {
  (void)state;
  static const char *const ok[] = {
      "GET /123456789abcdef HTTP/1.1\r\n\r\n",                          /* 16-byte url */
      "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",         /* 4 headers */
      "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789",        /* 10-byte body */
      ("GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123456789" /* 128-byte head */
       "01234567890123456789012345678901234567890123456789012345678901234\r\n\r\n"),
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    for (size_t s = 0; s < NSTEPS; s++) {
      sio__http_parser_t p;
      sio__http_parser_init(&p, &small);
      size_t len = strlen(ok[i]);
      assert_int_equal(feed(&p, ok[i], len, steps[s]), len);
      assert_int_equal(p.complete, 1);
      sio__http_parser_free(&p);
    }
  }
  assert_int_equal(strlen(ok[3]), 128);
}

static void parser_checks_limits_as_bytes_arrive(void **state) {
  (void)state;
  sio__http_parser_t p;
  /* max_head bytes of an unfinished head are taken; one more is refused, not buffered. */
  sio__http_parser_init(&p, &small);
  char head[129];
  memcpy(head, "GET / HTTP/1.1\r\nX: ", 19);
  memset(head + 19, 'v', sizeof head - 19);
  assert_int_equal(sio__http_parser_execute(&p, head, 128), 128);
  assert_int_equal(sio__http_parser_in_message(&p), 1);
  assert_int_equal(sio__http_parser_execute(&p, head + 128, 1), SIO_ETOOBIG);
  assert_int_equal(p.status, 431);
  sio__http_parser_free(&p);

  /* The same in one call that holds more than max_head. */
  sio__http_parser_init(&p, &small);
  assert_int_equal(sio__http_parser_execute(&p, head, 129), SIO_ETOOBIG);
  assert_int_equal(p.status, 431);
  assert_true(p.req.store.len <= 128);
  sio__http_parser_free(&p);

  /* 413 is decided from the header, before any body byte. */
  sio__http_parser_init(&p, NULL);
  assert_int_equal(sio__http_parser_execute(&p, S("PUT /x HTTP/1.1\r\nContent-Length: 5000000\r\n\r\n")), SIO_ETOOBIG);
  assert_int_equal(p.status, 413);
  assert_int_equal(p.req.body.len, 0);
  sio__http_parser_free(&p);
}

/* ---- allocation failures ---- */

static long alloc_budget;
static void *fail_malloc(void *ctx, size_t n) { return alloc_budget-- > 0 ? malloc(n) : NULL; }
static void *fail_realloc(void *ctx, void *ptr, size_t n) { return alloc_budget-- > 0 ? realloc(ptr, n) : NULL; }
static void fail_free(void *ctx, void *ptr) { free(ptr); }

static void parser_reports_out_of_memory_as_500(void **state) {
  (void)state;
  static const char raw[] = "POST /p HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nContent-Length: 4\r\n\r\nbody";
  const sio_allocator_t failing = {fail_malloc, fail_realloc, fail_free, NULL};
  sio_set_allocator(&failing);
  int completed = 0, failed = 0;
  for (long budget = 0; budget < 20 && !completed; budget++) {
    alloc_budget = budget;
    sio__http_parser_t p;
    sio__http_parser_init(&p, NULL);
    long r = feed(&p, S(raw), 0);
    if (r == SIO_ENOMEM) {
      assert_int_equal(p.status, 500);
      failed++;
    } else {
      assert_int_equal(r, sizeof raw - 1);
      assert_memory_equal(p.req.body.base, "body", 4);
      completed = 1;
    }
    sio__http_parser_free(&p);
  }
  sio_set_allocator(NULL);
  assert_true(completed);
  assert_true(failed >= 3); /* url, header array, body: each allocation site failed once */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parser_parses_get_with_lowercased_names_and_trimmed_values),
      cmocka_unit_test(parser_parses_post_with_content_length_body),
      cmocka_unit_test(parser_accepts_empty_lines_before_the_request_line),
      cmocka_unit_test(parser_keep_alive_follows_version_and_connection),
      cmocka_unit_test(parser_discards_bytes_after_a_connection_close_request),
      cmocka_unit_test(parser_handles_two_and_three_pipelined_requests),
      cmocka_unit_test(parser_upgrade_leaves_the_following_bytes_unconsumed),
      cmocka_unit_test(parser_goes_on_with_http_after_a_declined_upgrade),
      cmocka_unit_test(parser_header_without_upgrade_token_is_not_an_upgrade),
      cmocka_unit_test(parser_header_lookups_take_first_match_and_list_tokens),
      cmocka_unit_test(parser_holds_a_cr_that_ends_a_chunk),
      cmocka_unit_test(parser_in_message_tracks_a_partial_request),
      cmocka_unit_test(parser_rejects_smuggling_and_malformed_heads_with_the_right_status),
      cmocka_unit_test(parser_accepts_requests_exactly_at_the_limits),
      cmocka_unit_test(parser_checks_limits_as_bytes_arrive),
      cmocka_unit_test(parser_reports_out_of_memory_as_500),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
