/*
 * Shortcuts for the common cases (include/sio/easy.h): the format-driven argument
 * builder, one-room broadcasts, the (name, len) variants and the getters with the
 * library's one "found" polarity. Everything here is a thin layer over the public calls
 * of sio.h; only packing reaches into the args (sio__args_add_tree/_truncate).
 */
#include <string.h>

#include "common/alloc.h"
#include "sio/easy.h"
#include "sio/parser.h"
#include "sio/sio.h"

/* ---------------------------------------------------------------------------------
 * Packing
 * ------------------------------------------------------------------------------ */

/* Appends one packed value: scalars as text (what sio_args_add_* write, so encoders
 * copy them as they are), containers as trees. v is borrowed. */
static int add_value(sio_args_t *a, json_t *v) {
  switch (json_typeof(v)) {
    case JSON_STRING: return sio_args_add_str(a, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return sio_args_add_int(a, json_integer_value(v));
    case JSON_REAL: return sio_args_add_double(a, json_real_value(v));
    case JSON_TRUE: return sio_args_add_bool(a, 1);
    case JSON_FALSE: return sio_args_add_bool(a, 0);
    case JSON_NULL: return sio_args_add_null(a);
    default: return sio__args_add_tree(a, json_incref(v));
  }
}

/*
 * Appends the values of fmt to a, all or nothing. The format is wrapped in "[...]" and
 * handed to jansson's packer, whose error tells out-of-memory apart from a bad format.
 */
static int pack_into(sio_args_t *a, const char *fmt, va_list ap) {
  if (a == NULL || fmt == NULL || a->view || a->arr != NULL) return SIO_EINVAL;
  size_t n = strlen(fmt);
  char small[256];
  char *w = n + 3 <= sizeof small ? small : sio__malloc(n + 3);
  if (w == NULL) return SIO_ENOMEM;
  w[0] = '[';
  memcpy(w + 1, fmt, n);
  w[n + 1] = ']';
  w[n + 2] = '\0';
  json_error_t err;
  json_t *arr = json_vpack_ex(&err, 0, w, ap);
  if (w != small) sio__free(w);
  if (arr == NULL) return json_error_code(&err) == json_error_out_of_memory ? SIO_ENOMEM : SIO_EINVAL;
  int r = 0;
  /* An object shaped like {"_placeholder":true,"num":N} would be read as binary. */
  if (sio__placeholder_check(arr, 0) != 0) r = SIO_EINVAL;
  size_t mark = a->n;
  for (size_t i = 0; r == 0 && i < json_array_size(arr); i++) r = add_value(a, json_array_get(arr, i));
  if (r) sio__args_truncate(a, mark);
  json_decref(arr);
  return r;
}

int sio_args_vpack(sio_args_t **out, const char *fmt, va_list ap) {
  if (out == NULL || fmt == NULL) return SIO_EINVAL;
  sio_args_t *a;
  int r = sio_args_new(&a);
  if (r) return r;
  if ((r = pack_into(a, fmt, ap)) != 0) {
    sio_args_free(a);
    return r;
  }
  *out = a;
  return 0;
}

int sio_args_pack(sio_args_t **out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = sio_args_vpack(out, fmt, ap);
  va_end(ap);
  return r;
}

int sio_args_add_pack(sio_args_t *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = pack_into(a, fmt, ap);
  va_end(ap);
  return r;
}

/* The emit shortcuts: pack, call, free. PACKED(fmt, call) evaluates call with `args`
 * bound to the packed arguments. */
#define PACKED(fmt, call)                      \
  do {                                         \
    va_list ap;                                \
    sio_args_t *args;                          \
    va_start(ap, fmt);                         \
    int r_ = sio_args_vpack(&args, fmt, ap);   \
    va_end(ap);                                \
    if (r_ == 0) {                             \
      r_ = (call);                             \
      sio_args_free(args);                     \
    }                                          \
    return r_;                                 \
  } while (0)

int sio_socket_emitf(sio_socket_t *s, const char *event, const char *fmt, ...) {
  PACKED(fmt, sio_socket_emit(s, event, args));
}

int sio_socket_to_emitf(sio_socket_t *s, const char *room, const char *event, const char *fmt, ...) {
  PACKED(fmt, sio_socket_to_emit(s, room, event, args));
}

int sio_ns_to_emitf(sio_ns_t *ns, const char *room, const char *event, const char *fmt, ...) {
  PACKED(fmt, sio_ns_to_emit(ns, room, event, args));
}

int sio_server_emitf(sio_server_t *io, const char *event, const char *fmt, ...) {
  PACKED(fmt, sio_server_emit(io, event, args));
}

int sio_ack_sendf(sio_ack_t *ack, const char *fmt, ...) {
  va_list ap;
  sio_args_t *args;
  va_start(ap, fmt);
  int r = sio_args_vpack(&args, fmt, ap);
  va_end(ap);
  if (r) {
    sio_ack_free(ack); /* consumed in every case, as documented */
    return r;
  }
  r = sio_ack_send(ack, args);
  sio_args_free(args);
  return r;
}

/* ---------------------------------------------------------------------------------
 * One room
 * ------------------------------------------------------------------------------ */

int sio_socket_to_emit(sio_socket_t *s, const char *room, const char *event, const sio_args_t *args) {
  if (room == NULL) return SIO_EINVAL;
  const char *rooms[1] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  return sio_socket_broadcast(s, &to, event, args);
}

int sio_ns_to_emit(sio_ns_t *ns, const char *room, const char *event, const sio_args_t *args) {
  if (room == NULL) return SIO_EINVAL;
  const char *rooms[1] = {room};
  sio_broadcast_opts_t to = {rooms, 1, NULL, 0, 0};
  return sio_ns_emit(ns, &to, event, args);
}

/* ---------------------------------------------------------------------------------
 * (name, len) variants: the name is copied into a C string (on the stack when short)
 * and handed to the C-string call.
 * ------------------------------------------------------------------------------ */

typedef struct {
  char small[128];
  char *p;
} cstr_t;

/* 0, SIO_EINVAL (NULL with a length, or a NUL inside: no name can hold one), SIO_ENOMEM. */
static int cstr_make(cstr_t *c, const char *s, size_t len) {
  c->p = NULL;
  if ((s == NULL && len > 0) || (len > 0 && memchr(s, '\0', len) != NULL)) return SIO_EINVAL;
  if (len < sizeof c->small) {
    c->p = c->small;
    if (len) memcpy(c->p, s, len);
    c->p[len] = '\0';
    return 0;
  }
  return (c->p = sio__strndup(s, len)) != NULL ? 0 : SIO_ENOMEM;
}

static void cstr_free(cstr_t *c) {
  if (c->p != c->small) sio__free(c->p);
}

/* Runs call with `name` bound to the C string of (str, len); returns its value, or
 * fail when the name cannot be made. */
#define WITH_CSTR(str, len, fail, call)           \
  do {                                            \
    cstr_t c_;                                    \
    int e_ = cstr_make(&c_, str, len);            \
    if (e_) return (fail) == 1 ? e_ : (fail);     \
    const char *name = c_.p;                      \
    __typeof__(call) r_ = (call);                 \
    cstr_free(&c_);                               \
    return r_;                                    \
  } while (0)

/* fail 1: return the error itself; 0: return 0 (predicates and counts). */
int sio_socket_join_n(sio_socket_t *s, const char *room, size_t len) { WITH_CSTR(room, len, 1, sio_socket_join(s, name)); }
int sio_socket_leave_n(sio_socket_t *s, const char *room, size_t len) {
  WITH_CSTR(room, len, 1, sio_socket_leave(s, name));
}
int sio_socket_in_n(const sio_socket_t *s, const char *room, size_t len) { WITH_CSTR(room, len, 0, sio_socket_in(s, name)); }
size_t sio_ns_room_size_n(sio_ns_t *ns, const char *room, size_t len) {
  WITH_CSTR(room, len, 0, sio_ns_room_size(ns, name));
}
int sio_socket_to_emit_n(sio_socket_t *s, const char *room, size_t len, const char *event, const sio_args_t *args) {
  WITH_CSTR(room, len, 1, sio_socket_to_emit(s, name, event, args));
}
int sio_ns_to_emit_n(sio_ns_t *ns, const char *room, size_t len, const char *event, const sio_args_t *args) {
  WITH_CSTR(room, len, 1, sio_ns_to_emit(ns, name, event, args));
}
int sio_socket_emit_n(sio_socket_t *s, const char *event, size_t len, const sio_args_t *args) {
  WITH_CSTR(event, len, 1, sio_socket_emit(s, name, args));
}
int sio_ns_emit_n(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, size_t len, const sio_args_t *args) {
  WITH_CSTR(event, len, 1, sio_ns_emit(ns, to, name, args));
}
int sio_server_of_n(sio_server_t *io, const char *nsp, size_t len, sio_ns_t **out) {
  WITH_CSTR(nsp, len, 1, sio_server_of(io, name, out));
}
int sio_args_get_member_str_n(const sio_args_t *a, size_t i, const char *key, size_t len, sio_str_t *out) {
  WITH_CSTR(key, len, 1, sio_args_get_member_str(a, i, name, out));
}
int sio_ns_on_n(sio_ns_t *ns, const char *event, size_t len, sio_event_cb cb, void *user) {
  WITH_CSTR(event, len, 1, sio_ns_on(ns, name, cb, user));
}
int sio_socket_on_n(sio_socket_t *s, const char *event, size_t len, sio_event_cb cb, void *user) {
  WITH_CSTR(event, len, 1, sio_socket_on(s, name, cb, user));
}
int sio_ns_emit_with_ack_n(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, size_t len,
                           const sio_args_t *args, uint64_t timeout_ms, sio_bcast_ack_cb cb, void *user) {
  WITH_CSTR(event, len, 1, sio_ns_emit_with_ack(ns, to, name, args, timeout_ms, cb, user));
}
int sio_socket_emit_with_ack_n(sio_socket_t *s, const char *event, size_t len, const sio_args_t *args,
                               uint64_t timeout_ms, sio_ack_cb cb, void *user) {
  WITH_CSTR(event, len, 1, sio_socket_emit_with_ack(s, name, args, timeout_ms, cb, user));
}
int sio_socket_get_auth_str_n(const sio_socket_t *s, const char *key, size_t len, sio_str_t *out) {
  WITH_CSTR(key, len, 1, sio_socket_get_auth_str(s, name, out));
}
int sio_socket_get_header_n(const sio_socket_t *s, const char *lname, size_t len, sio_str_t *out) {
  WITH_CSTR(lname, len, 1, sio_socket_get_header(s, name, out));
}
int sio_args_has_member_n(const sio_args_t *a, size_t i, const char *key, size_t len) {
  WITH_CSTR(key, len, 0, sio_args_has_member(a, i, name));
}

/* ---------------------------------------------------------------------------------
 * Getters: 0 / SIO_ENOTFOUND over the older 1 / 0 ones.
 * ------------------------------------------------------------------------------ */

int sio_socket_get_auth_str(const sio_socket_t *s, const char *key, sio_str_t *out) {
  if (s == NULL || key == NULL || out == NULL) return SIO_EINVAL;
  return sio__socket_auth_str(s, key, out) ? 0 : SIO_ENOTFOUND;
}

int sio_socket_get_header(const sio_socket_t *s, const char *lname, sio_str_t *out) {
  if (s == NULL || lname == NULL || out == NULL) return SIO_EINVAL;
  return sio__socket_header(s, lname, out) ? 0 : SIO_ENOTFOUND;
}
