/*
 * GET /config -> {"iceServers":[...],"maxPeers":6}. The STUN URL of our own responder
 * uses the host the browser reached us by (the Host header), so it works on a LAN
 * without configuring the server's address.
 */
#include "ice.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "call.h"

static noom_ice_opts_t opts;

void noom_ice_turn_credential(const char *secret, const char *username, char out[29]) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username, strlen(username), mac, &len);
  EVP_EncodeBlock((unsigned char *)out, mac, (int)len); /* 20 bytes -> 28 chars + NUL */
}

/* Appends each comma-separated URL of list as a string argument of urls. */
static void add_urls(sio_args_t *urls, const char *list) {
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    while (n && *p == ' ') p++, n--;
    while (n && p[n - 1] == ' ') n--;
    if (n) sio_args_add_str(urls, p, n);
    if (!end) break;
    p = end + 1;
  }
}

/* The host part of the Host header ("[::1]:3000" -> "[::1]", "a.lan:3000" -> "a.lan"). */
static int host_of(sio_http_req_t *req, char *out, size_t cap) {
  sio_str_t h;
  if (sio_http_req_get_header(req, "host", &h) != 0 || h.len == 0 || h.len >= cap) return 0;
  size_t n = h.len;
  if (h.ptr[0] == '[') {
    const char *close = memchr(h.ptr, ']', h.len);
    if (close == NULL) return 0;
    n = (size_t)(close - h.ptr) + 1;
  } else {
    const char *colon = memchr(h.ptr, ':', h.len);
    if (colon) n = (size_t)(colon - h.ptr);
  }
  for (size_t i = 0; i < n; i++) {
    char c = h.ptr[i];
    if (!(c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
          (c >= 'A' && c <= 'Z')))
      return 0; /* not a host name: do not echo it into a URL */
  }
  memcpy(out, h.ptr, n);
  out[n] = '\0';
  return 1;
}

static void on_config(sio_http_req_t *req, void *user) {
  (void)user;
  sio_args_t *servers, *out, *v, *urls;
  if (sio_args_new(&servers) || sio_args_new(&out)) return;
  static const char *const k_urls[] = {"urls"};
  static const char *const k_turn[] = {"urls", "username", "credential"};
  static const char *const k_top[] = {"iceServers", "maxPeers"};
  char host[256];
  if (sio_args_new(&urls) == 0) {
    if (opts.stun_port > 0 && host_of(req, host, sizeof host)) {
      char url[300];
      snprintf(url, sizeof url, "stun:%s:%d", host, opts.stun_port);
      sio_args_add_cstr(urls, url);
    }
    add_urls(urls, opts.stun_urls);
    if (sio_args_count(urls) > 0 && sio_args_new(&v) == 0) {
      sio_args_add_array(v, urls);
      sio_args_add_object(servers, k_urls, v);
      sio_args_free(v);
    }
    sio_args_free(urls);
  }
  if (opts.turn_urls && opts.turn_secret && sio_args_new(&urls) == 0) {
    char username[64], cred[29];
    snprintf(username, sizeof username, "%llu:noom", (unsigned long long)time(NULL) + (unsigned long long)opts.turn_ttl);
    noom_ice_turn_credential(opts.turn_secret, username, cred);
    add_urls(urls, opts.turn_urls);
    if (sio_args_new(&v) == 0) {
      sio_args_add_array(v, urls);
      sio_args_add_cstr(v, username);
      sio_args_add_cstr(v, cred);
      sio_args_add_object(servers, k_turn, v);
      sio_args_free(v);
    }
    sio_args_free(urls);
  }
  if (sio_args_new(&v) == 0) {
    sio_args_add_array(v, servers);
    sio_args_add_int(v, noom_call_max());
    sio_args_add_object(out, k_top, v);
    sio_args_free(v);
  }
  char *json = NULL;
  size_t len = 0;
  if (sio_args_to_json(out, 0, &json, &len) == 0) {
    /* Credentials expire: never cache. */
    sio_http_respond(req, 200, "application/json", "Cache-Control: no-store\r\n", json, len);
    sio_free(json);
  } else {
    sio_http_respond(req, 500, "text/plain", NULL, "config error", 12);
  }
  sio_args_free(servers);
  sio_args_free(out);
}

int noom_ice_init(sio_http_t *http, const noom_ice_opts_t *o) {
  opts = *o;
  return sio_http_handle(http, "/config", 1, on_config, NULL);
}
