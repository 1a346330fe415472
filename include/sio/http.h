/*
 * sio/http.h: the HTTP/1.1 server under libsio, usable on its own.
 *
 * One sio_http_t listens on one address and dispatches requests to handlers registered
 * by path (exact paths first, then the longest prefix), then to the static file server
 * (an embedded asset table, or a directory during development). Engine.IO / Socket.IO
 * servers attach to it as handlers at their path. Keep-alive, pipelining (answers in
 * order), Content-Length bodies, header/body limits and slowloris timeouts are built in;
 * chunked request bodies are refused with 411.
 *
 * Threading: everything runs on the loop thread; no call here is thread-safe.
 */
#ifndef SIO_HTTP_H
#define SIO_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sio/common.h"
#include "sio/errors.h"

typedef struct sio_http_s sio_http_t;         /* opaque: the server */
typedef struct sio_http_req_s sio_http_req_t; /* opaque: one request */
typedef struct sio_ws_s sio_ws_t;             /* opaque: an upgraded WebSocket */

/* One embedded file (see tools/embed.c, which generates a table of these). */
typedef struct {
  const char *path;          /* URL path, "/index.html" */
  const char *mime;          /* Content-Type */
  const unsigned char *data; /* bytes (static storage) */
  size_t len;
  const char *etag;          /* strong ETag including quotes */
} sio_asset_t;

/* permessage-deflate (RFC 7692), the options of Node ws's perMessageDeflate (which
 * engine.io and socket.io pass through). Off by default, as in Node. When a client
 * offers the extension, its first offer that these settings can honour is accepted;
 * offers that are malformed or ask for what the server cannot do are declined (the
 * connection goes on uncompressed). Memory: zlib's streams exist only after the first
 * message above threshold in that direction (deflate ~ 2^(window+2) + 2^(mem_level+9)
 * bytes, inflate ~ 2^window + 7 KiB) and are freed with the connection, or after each
 * message in a direction without context takeover. The max message size applies to the
 * INFLATED size: a message that inflates past it closes the socket with 1009. */
typedef struct {
  int enabled;                    /* default 0 (Node: perMessageDeflate false) */
  size_t threshold;               /* messages shorter than this go uncompressed; default 1024 */
  int server_no_context_takeover; /* 1: we reset our compressor after each message
                                   * (ask it of ourselves), which also lets a Socket.IO
                                   * broadcast be compressed once for all its receivers;
                                   * 0 (default): only if the client asks for it */
  int client_no_context_takeover; /* 1: ask the client to reset after each message; 0
                                   * (default): only if the client offers it */
  int server_max_window_bits;     /* 9..15 to limit our window (offers needing a
                                   * smaller one are declined); 0 (default): 15, or the
                                   * client's server_max_window_bits if it sends one */
  int client_max_window_bits;     /* 8..15 to limit the client's window (offers without
                                   * client_max_window_bits are then declined); 0
                                   * (default): the client's choice */
  int level;                      /* zlib level 0..9, -1 (default): zlib's default (6) */
  int mem_level;                  /* zlib memLevel 1..9; default 8 */
} sio_ws_deflate_opts_t;

/* Fills *opts (not NULL) with the defaults listed above (enabled 0). */
SIO_EXTERN void sio_ws_deflate_opts_init(sio_ws_deflate_opts_t *opts);

typedef struct {
  size_t max_header_bytes;    /* request line + headers; 431 past it. Default 16384 */
  unsigned max_headers;       /* 431 past it. Default 100 */
  size_t max_url_bytes;       /* 414 past it. Default 8192 */
  size_t max_body_bytes;      /* Content-Length limit; 413 past it. Default 1000000 */
  uint64_t request_timeout_ms;/* from a request's first byte to its last (slowloris). Default 10000 */
  uint64_t idle_timeout_ms;   /* keep-alive idle time before the server closes. Default 5000 */
  unsigned max_connections;   /* accepted connections at once; 0 = unlimited. Default 0 */
  int redirect_unknown;       /* unknown GET paths answer 302 to "/" (the course's app). Default 0: 404 */
  /* WebSockets (sio_http_upgrade). A socket is pinged ws_ping_interval_ms after the last
   * ping was answered; one that then sends nothing (no pong, no message) for
   * ws_ping_timeout_ms is closed with 1001 "ping timeout". 0 turns pings off. Defaults
   * 25000 and 20000, Engine.IO's. See sio_ws_set_keepalive. */
  uint64_t ws_ping_interval_ms;
  uint64_t ws_ping_timeout_ms;
  /* A closing WebSocket (either side started it) gets this long to write its queued output
   * and close frame; then it is closed hard, so a peer that stopped reading cannot hold it
   * open. 0 = wait for ever. Default 5000 */
  uint64_t ws_close_timeout_ms;
  /* sio_ws_send refuses (SIO_ELIMIT) a message that would leave more than this many bytes
   * queued on a WebSocket and closes the socket hard (a peer that does not read: the queue
   * is dropped and its memory returned). 0 = no limit. Default 8 MiB */
  size_t ws_max_queued;
  /* Text assets (HTML, CSS, JavaScript, JSON, SVG) of 1024 bytes or more are gzipped
   * once, when sio_http_set_assets is called (files under a web root: per request), and
   * sent gzipped to clients whose Accept-Encoding allows it, with "Vary: Accept-Encoding"
   * and their own ETag (the identity ETag with "-gz" before the closing quote). Default 1 */
  int static_compression;
  /* permessage-deflate for sio_http_upgrade's WebSockets (an Engine.IO server has its
   * own, sio_engine_opts_t.per_message_deflate). Default off. */
  sio_ws_deflate_opts_t ws_deflate;
} sio_http_opts_t;

/* Fills *opts (not NULL) with the defaults listed above. */
SIO_EXTERN void sio_http_opts_init(sio_http_opts_t *opts);

/* Creates a server on loop (borrowed; must outlive the server). opts copied (NULL: defaults).
 * Returns 0 and *out (free with sio_http_close), or SIO_ENOMEM / SIO_EINVAL. */
SIO_EXTERN int sio_http_new(uv_loop_t *loop, const sio_http_opts_t *opts, sio_http_t **out);

/* Binds and listens on host ("127.0.0.1", "0.0.0.0", "::") and port (0 picks a free port,
 * see sio_http_port). Returns 0 or a libuv error (UV_EADDRINUSE...). */
SIO_EXTERN int sio_http_listen(sio_http_t *h, const char *host, int port);

/* The bound port, or a negative error when not listening. */
SIO_EXTERN int sio_http_port(const sio_http_t *h);

/* The loop the server runs on (borrowed). */
SIO_EXTERN uv_loop_t *sio_http_loop(const sio_http_t *h);

/* Stops listening, closes every connection (pending long-polls are aborted) and frees the
 * server once libuv has closed the handles; cb (may be NULL) then runs. Attached Engine.IO
 * or Socket.IO servers must be closed first. */
SIO_EXTERN void sio_http_close(sio_http_t *h, void (*cb)(void *user), void *user);

/* Stops accepting new connections (closes the listening socket; new connects are
 * refused by the kernel) and keeps serving the open ones, for a graceful restart.
 * sio_http_port() answers SIO_ECLOSED from then on; sio_http_close() still closes the
 * rest. Calling it again, or on a server that never listened, does nothing. */
SIO_EXTERN void sio_http_unlisten(sio_http_t *h);

/* Request handler. req is valid until it is answered (sio_http_respond*) or aborted; a
 * handler may keep it and answer later (long-polling). */
typedef void (*sio_http_handler_cb)(sio_http_req_t *req, void *user);

/* Routes path to cb. exact = 1: only that path; 0: every path starting with it.
 * Returns 0, SIO_EEXIST or SIO_ENOMEM. path is copied. */
SIO_EXTERN int sio_http_handle(sio_http_t *h, const char *path, int exact, sio_http_handler_cb cb, void *user);

/* Serves these assets (borrowed: static storage) for GET/HEAD, with "/" mapped to
 * "/index.html" and If-None-Match answered 304; with static_compression, text assets
 * are gzipped now (once) and served gzipped where accepted. Returns 0 or SIO_ENOMEM. */
SIO_EXTERN int sio_http_set_assets(sio_http_t *h, const sio_asset_t *assets, size_t n);

/* Serves files from dir (copied) instead of the assets, for development. Paths are
 * normalised and confined to dir (no "..", no symlink escapes). Returns 0 or SIO_EINVAL. */
SIO_EXTERN int sio_http_set_web_root(sio_http_t *h, const char *dir);

/* Serves HTTPS (and WSS) with a PEM certificate chain and a PEM private key (the files
 * are read now). Call before sio_http_listen. Returns 0, or SIO_EINVAL after logging why
 * (unreadable file, key not matching the certificate). */
SIO_EXTERN int sio_http_set_tls(sio_http_t *h, const char *cert_file, const char *key_file);

/* Serves HTTPS with a throwaway self-signed certificate made now (EC P-256, valid 30
 * days, names localhost, 127.0.0.1, ::1 and this host's name), for LAN testing: browsers
 * allow camera access only on secure origins. Writes its SHA-256 fingerprint as
 * "AB:CD:..." into fingerprint (cap >= 96 bytes) so users can check it. 0 or SIO_EINVAL. */
SIO_EXTERN int sio_http_set_tls_self_signed(sio_http_t *h, char *fingerprint, size_t cap);

/* ---- requests (all returned slices are borrowed from req) ---- */

/* The method, "GET" (static string). */
SIO_EXTERN const char *sio_http_req_method(const sio_http_req_t *req);
/* The raw path, without the query (borrowed from req). */
SIO_EXTERN sio_str_t sio_http_req_path(const sio_http_req_t *req);
/* The raw query, without '?' (borrowed from req; empty when none). */
SIO_EXTERN sio_str_t sio_http_req_query(const sio_http_req_t *req);
/* One query parameter or header: sio_http_req_get_param and sio_http_req_get_header
 * (sio/easy.h: 0 and *out, or SIO_ENOTFOUND). */
/* Calls cb for each header in order (name lower-cased; slices borrowed for the call). */
SIO_EXTERN void sio_http_req_headers(const sio_http_req_t *req, void (*cb)(sio_str_t name, sio_str_t value, void *u), void *u);
/* The request body (borrowed from req; empty when none). */
SIO_EXTERN sio_str_t sio_http_req_body(const sio_http_req_t *req);
/* The client's "ip:port" ("[ip]:port" for IPv6, "?" when unknown, e.g. after a reset).
 * Read from the socket on demand into one buffer per server (connections keep no copy):
 * borrowed, valid until the address of another connection is asked for. */
SIO_EXTERN const char *sio_http_req_peer(const sio_http_req_t *req);

/* Called if the connection goes away before a kept request is answered; req is then
 * invalid after cb returns. One callback per request (a second call replaces it). */
SIO_EXTERN void sio_http_req_on_abort(sio_http_req_t *req, void (*cb)(sio_http_req_t *req, void *user), void *user);

/* Answers req: status, Content-Type (NULL: none), extra header lines (each ending "\r\n";
 * NULL: none), body (copied). Returns 0, SIO_ECLOSED or SIO_ENOMEM; req is invalid after. */
SIO_EXTERN int sio_http_respond(sio_http_req_t *req, int status, const char *content_type,
                                const char *extra_headers, const void *body, size_t len);

/* ---- WebSocket (RFC 6455) ---- */

typedef struct {
  /* A complete message; data borrowed for the call. */
  void (*on_message)(sio_ws_t *ws, int binary, const char *data, size_t len, void *user);
  /* The socket closed: code is the one received from the peer, else the one the server
   * closed with on its own (1001 ping timeout, 1008 send queue full, 1002/1007/1009
   * protocol errors), else 1006 (the connection just ended). ws is freed after. */
  void (*on_close)(sio_ws_t *ws, int code, void *user);
} sio_ws_cbs_t;

/* Upgrades req (a GET with a valid WebSocket handshake) and answers 101, accepting a
 * permessage-deflate offer when the server's ws_deflate is enabled. cbs is borrowed
 * and must outlive the WebSocket (a static const table: an idle socket keeps one pointer).
 * max_message bounds one incoming message (1009 past it). Returns 0 and *out, or
 * SIO_EINVAL (not a WebSocket handshake: req was answered 400), SIO_ENOMEM. */
SIO_EXTERN int sio_http_upgrade(sio_http_req_t *req, const sio_ws_cbs_t *cbs, void *user, size_t max_message, sio_ws_t **out);

/* Sends one message (copied), compressed when permessage-deflate was negotiated and len
 * is at least its threshold. Returns 0, SIO_ECLOSED, SIO_ENOMEM, or SIO_ELIMIT: the
 * message would take the queue past ws_max_queued (sio_http_opts_t); the socket is then
 * being closed hard, and on_close (code 1008) runs later from the loop, never inside this
 * call, so a caller may send while walking a list of sockets. */
SIO_EXTERN int sio_ws_send(sio_ws_t *ws, int binary, const void *data, size_t len);
/* sio_ws_send with compress 0: this message goes uncompressed whatever its size (ws's
 * send(data, {compress: false})). compress 1 is sio_ws_send. */
SIO_EXTERN int sio_ws_send_opts(sio_ws_t *ws, int binary, const void *data, size_t len, int compress);
/* 1 when permessage-deflate was negotiated on ws (its response header was sent). */
SIO_EXTERN int sio_ws_deflate_active(const sio_ws_t *ws);
/* Bytes queued on ws and not yet handed to the kernel (a close frame included): for
 * backpressure, to send less or close when the peer does not keep up. */
SIO_EXTERN size_t sio_ws_queued(const sio_ws_t *ws);
/* Starts the close handshake with code (1000 normal): sends a close frame, then drops
 * incoming messages until the peer's close frame (or EOF) and closes. on_close follows,
 * within ws_close_timeout_ms even when the peer neither reads nor answers. */
SIO_EXTERN void sio_ws_close(sio_ws_t *ws, int code);
/* sio_ws_close with a reason (UTF-8, NUL-terminated, may be NULL; cut to 123 bytes). */
SIO_EXTERN void sio_ws_close_reason(sio_ws_t *ws, int code, const char *reason);
/* Turns the server's pings (ws_ping_interval_ms) on or off for ws; on by default. A
 * protocol with its own heartbeat (Engine.IO) turns them off. */
SIO_EXTERN void sio_ws_set_keepalive(sio_ws_t *ws, int on);
/* Replaces the user pointer passed to ws's callbacks (borrowed: never freed by the
 * library). */
SIO_EXTERN void sio_ws_set_user(sio_ws_t *ws, void *user);
/* The client's "ip:port", as sio_http_req_peer (same buffer and lifetime). */
SIO_EXTERN const char *sio_ws_peer(const sio_ws_t *ws);

#endif /* SIO_HTTP_H */
