/*
 * sio/easy.h: shortcuts for the common cases, on top of the calls in sio.h.
 *
 *  - a format-driven argument builder (sio_args_pack, and sio_socket_emitf & co.), in
 *    the spirit of jansson's json_pack: one call instead of new + add... + emit + free;
 *  - one-room broadcasts (socket.to(room).emit and io.to(room).emit in JS);
 *  - _n variants taking (pointer, length) wherever a name is taken, so a slice read with
 *    sio_args_get_str can be used as a room, an event or a key without copying it into
 *    a C string first;
 *  - getters with the library's one "found" polarity (below);
 *  - sio_server_post, the one call that may be made from any thread.
 *
 * The "found" polarity. Every call that fills an out-parameter returns 0 when it did and
 * a negative code when it did not: SIO_ENOTFOUND when the thing asked for is absent, and
 * SIO_EINVAL (or another code) for a bad call. Only predicates, whose names say so
 * (sio_socket_in, sio_socket_connected, sio_args_has_member), answer 1 or 0. (The five
 * getters that answered 1 / 0, sio_socket_auth_str, sio_socket_header,
 * sio_http_req_header, sio_http_req_param and sio_eio_header, are gone: their
 * sio_*_get_* forms below replace them.)
 *
 * Threading: loop thread only, except sio_server_post.
 */
#ifndef SIO_EASY_H
#define SIO_EASY_H

#include <stdarg.h>

#include "sio.h"

/* ======================================================================== packing */

/*
 * Builds new args from a format and the values that follow it, one argument per value
 * of the format, with the format language of jansson's json_pack (jansson 2.14,
 * https://jansson.readthedocs.io/en/2.14/apiref.html#building-values):
 *
 *   s   const char * (UTF-8, NUL-terminated)      s#  const char *, int length
 *   s%  const char *, size_t length               s?  const char * or NULL (null)
 *   i   int            I  json_int_t (long long)   f   double (finite)
 *   b   int, as true or false                      n   null (takes no value)
 *   [ ] an array of the values inside              { } an object: key (s) : value ...
 *   o, O  a json_t * from your own jansson (o steals the reference, O copies it)
 *
 * White space, ':' and ',' between values are ignored, so "s, {s:s, s:i}" gives two
 * arguments: a string and an object. The format "" gives no argument. Every value is
 * copied. Binary values have no format character: append them with
 * sio_args_add_binary(*out, ...) afterwards.
 *
 * Returns 0 and *out (returns new: free with sio_args_free), or SIO_EINVAL (fmt NULL,
 * a malformed format, a NULL string for 's', invalid UTF-8, a non-finite 'f', or an
 * object shaped like a binary placeholder {"_placeholder":true,"num":N}), SIO_ENOMEM.
 * On failure *out is untouched and every 'o' reference passed has been released.
 */
SIO_EXTERN int sio_args_pack(sio_args_t **out, const char *fmt, ...);
/* sio_args_pack with a va_list (ap is consumed as vprintf does). */
SIO_EXTERN int sio_args_vpack(sio_args_t **out, const char *fmt, va_list ap);
/* Appends the values of fmt to a (made with sio_args_new or sio_args_pack; not args
 * borrowed from a callback: SIO_EINVAL). Errors as sio_args_pack; on failure a is
 * unchanged. */
SIO_EXTERN int sio_args_add_pack(sio_args_t *a, const char *fmt, ...);

/* sio_socket_emit(s, event, <the values of fmt>): the arguments are built, sent and
 * freed in one call. Returns what sio_socket_emit returns, or sio_args_pack's errors. */
SIO_EXTERN int sio_socket_emitf(sio_socket_t *s, const char *event, const char *fmt, ...);
/* sio_socket_to_emit with packed arguments: to every socket in room except s. Returns
 * the number of local recipients (>= 0) or an error, as sio_socket_broadcast. */
SIO_EXTERN int sio_socket_to_emitf(sio_socket_t *s, const char *room, const char *event, const char *fmt, ...);
/* sio_ns_to_emit with packed arguments: to every socket of ns in room. */
SIO_EXTERN int sio_ns_to_emitf(sio_ns_t *ns, const char *room, const char *event, const char *fmt, ...);
/* sio_server_emit with packed arguments: to every socket of the main namespace. */
SIO_EXTERN int sio_server_emitf(sio_server_t *io, const char *event, const char *fmt, ...);
/* sio_ack_send with packed arguments. Consumes ack in every case, a packing error
 * included (the client then gets no answer). Returns 0, sio_ack_send's errors, or
 * sio_args_pack's. */
SIO_EXTERN int sio_ack_sendf(sio_ack_t *ack, const char *fmt, ...);

/* ======================================================================== one room */

/* socket.to(room).emit(event, ...args): to every socket of s's namespace in room, s
 * excluded, on every node (with an adapter). room and args copied (args NULL: none).
 * Returns the number of local recipients (>= 0), SIO_ECLOSED (s disconnected),
 * SIO_EINVAL (NULL room, event NULL or not UTF-8), SIO_ENOMEM. */
SIO_EXTERN int sio_socket_to_emit(sio_socket_t *s, const char *room, const char *event, const sio_args_t *args);
/* io.of(ns).to(room).emit(event, ...args): to every socket of ns in room. Returns as
 * sio_ns_emit. */
SIO_EXTERN int sio_ns_to_emit(sio_ns_t *ns, const char *room, const char *event, const sio_args_t *args);

/* A selection of one room, as a value for the calls that take a sio_broadcast_opts_t
 * (a C99 compound literal: valid in the enclosing block):
 *   sio_ns_emit_with_ack(ns, SIO_TO_ROOM("lobby"), "ping", NULL, 5000, on_acks, NULL); */
#define SIO_TO_ROOM(room) (&(const sio_broadcast_opts_t){(const char *const[]){(room)}, 1, NULL, 0, 0})

/* ======================================================================== slices */

/* The calls of sio.h that take a name as a C string, taking (name, len) instead: a
 * slice, not NUL-terminated. name is copied (valid for the call only). A slice holding
 * a NUL byte answers SIO_EINVAL (0 for the predicate and the count): no such name can
 * exist. Other return values are those of the C-string call. */
SIO_EXTERN int sio_socket_join_n(sio_socket_t *s, const char *room, size_t len);
SIO_EXTERN int sio_socket_leave_n(sio_socket_t *s, const char *room, size_t len);
SIO_EXTERN int sio_socket_in_n(const sio_socket_t *s, const char *room, size_t len);
SIO_EXTERN size_t sio_ns_room_size_n(sio_ns_t *ns, const char *room, size_t len);
SIO_EXTERN int sio_socket_to_emit_n(sio_socket_t *s, const char *room, size_t len, const char *event,
                                    const sio_args_t *args);
SIO_EXTERN int sio_ns_to_emit_n(sio_ns_t *ns, const char *room, size_t len, const char *event, const sio_args_t *args);
SIO_EXTERN int sio_socket_emit_n(sio_socket_t *s, const char *event, size_t len, const sio_args_t *args);
SIO_EXTERN int sio_ns_emit_n(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, size_t len,
                             const sio_args_t *args);
SIO_EXTERN int sio_server_of_n(sio_server_t *io, const char *name, size_t len, sio_ns_t **out);
SIO_EXTERN int sio_args_get_member_str_n(const sio_args_t *a, size_t i, const char *key, size_t len, sio_str_t *out);
SIO_EXTERN int sio_args_has_member_n(const sio_args_t *a, size_t i, const char *key, size_t len);
SIO_EXTERN int sio_ns_on_n(sio_ns_t *ns, const char *event, size_t len, sio_event_cb cb, void *user);
SIO_EXTERN int sio_socket_on_n(sio_socket_t *s, const char *event, size_t len, sio_event_cb cb, void *user);
SIO_EXTERN int sio_ns_emit_with_ack_n(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, size_t len,
                                      const sio_args_t *args, uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user);
SIO_EXTERN int sio_socket_emit_with_ack_n(sio_socket_t *s, const char *event, size_t len, const sio_args_t *args,
                                          uint64_t timeout_ms, sio_ack_cb cb, void *user);
SIO_EXTERN int sio_socket_get_auth_str_n(const sio_socket_t *s, const char *key, size_t len, sio_str_t *out);
SIO_EXTERN int sio_socket_get_header_n(const sio_socket_t *s, const char *lname, size_t len, sio_str_t *out);

/* ======================================================================== getters */

/* The auth payload's string member key: 0 and *out (borrowed from s), SIO_ENOTFOUND (no
 * such member, or not a string), SIO_EINVAL (NULL argument). */
SIO_EXTERN int sio_socket_get_auth_str(const sio_socket_t *s, const char *key, sio_str_t *out);
/* The first handshake header named lname (lower-case): 0 and *out (borrowed from s),
 * SIO_ENOTFOUND, SIO_EINVAL. */
SIO_EXTERN int sio_socket_get_header(const sio_socket_t *s, const char *lname, sio_str_t *out);
/* The first request header named name (case-insensitive): 0 and *out (borrowed from
 * req), SIO_ENOTFOUND, SIO_EINVAL. */
SIO_EXTERN int sio_http_req_get_header(const sio_http_req_t *req, const char *name, sio_str_t *out);
/* A raw (percent-encoded) query parameter: 0 and *out (borrowed from req),
 * SIO_ENOTFOUND, SIO_EINVAL. */
SIO_EXTERN int sio_http_req_get_param(const sio_http_req_t *req, const char *name, sio_str_t *out);
/* A header of the session's handshake request: 0 and *out (borrowed from s),
 * SIO_ENOTFOUND, SIO_EINVAL. */
SIO_EXTERN int sio_eio_get_header(const sio_eio_t *s, const char *lname, sio_str_t *out);

/* ======================================================================== threads */

/*
 * Work handed to the loop from another thread. cb runs on the loop thread, exactly once
 * for every post that returned 0, in posting order: with status 0 on a later loop turn,
 * or with SIO_ECANCELED while the server is being closed (sio_http_close) before it
 * ran; either way it is the place to free user. Several posts made before the loop
 * wakes run in the same turn.
 */
typedef void (*sio_post_cb)(sio_server_t *io, int status, void *user);

/*
 * The only thread-safe call of the library (built on uv_async_send): may be called from
 * any thread, the loop thread included, while io exists. Everything else, including
 * emits, must then happen inside cb. The caller makes sure that no thread posts once
 * sio_http_close(sio_server_http(io)) has been called: join or stop the posting threads
 * first (a post racing with the close answers SIO_ECLOSED, but a post after io is freed
 * is a use after free). Returns 0, SIO_EINVAL (NULL io or cb), SIO_ECLOSED (the server
 * is closing), SIO_ENOMEM; on error cb never runs. user is passed through untouched.
 * Each post allocates one queue entry with the sio_set_allocator allocator, which must
 * then be thread-safe (libc's is).
 */
SIO_EXTERN int sio_server_post(sio_server_t *io, sio_post_cb cb, void *user);

#endif /* SIO_EASY_H */
