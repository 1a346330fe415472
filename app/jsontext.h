/*
 * JSON text written directly, for the values the app sends often (a chat message's
 * stored form, the history lists): built once as text and handed to the library with
 * sio_args_add_json_text, so no JSON tree is built per message. Strings are escaped as
 * JSON.stringify escapes them (", \ and the control characters; UTF-8 passes as is), so
 * a client's JSON.parse gives back exactly the string written.
 */
#ifndef NOOM_JSONTEXT_H
#define NOOM_JSONTEXT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes that s[0..len) takes as a JSON string, quotes included. */
size_t noom_json_str_size(const char *s, size_t len);
/* Writes s[0..len) as a JSON string at w (noom_json_str_size bytes free); returns the end. */
char *noom_json_str_put(char *w, const char *s, size_t len);

/* A growing JSON text. Start with {0}; after a failed allocation every later call does
 * nothing and err stays set (check it once at the end). Free p with free(). */
typedef struct {
  char *p;
  size_t len, cap;
  int err;
} noom_json_t;

/* Makes room for n more bytes (a hint: the calls below grow it as needed). */
void noom_json_reserve(noom_json_t *j, size_t n);
/* Appends JSON text as it is. */
void noom_json_raw(noom_json_t *j, const char *s, size_t len);
/* Appends a string value (escaped) / a C string / an integer. */
void noom_json_str(noom_json_t *j, const char *s, size_t len);
void noom_json_cstr(noom_json_t *j, const char *s);
void noom_json_int(noom_json_t *j, int64_t v);

#endif
