/*
 * Event arguments: a JSON array (jansson) whose binary arguments are placeholders
 * {"_placeholder":true,"num":N} pointing into a list of refcounted attachments, which
 * is exactly how socket.io-parser puts them on the wire. Attachments keep Engine.IO
 * headroom so they can be framed and fanned out without a copy.
 */
#include <string.h>

#include "common/alloc.h"
#include "engine/engine.h"
#include "sio/json.h"
#include "sio/sio.h"
#include "ws/utf8.h"

void sio__args_view(sio_args_t *a, json_t *arr, size_t base, sio__refbuf_t **att, uint32_t natt) {
  memset(a, 0, sizeof *a);
  a->arr = arr;
  a->base = base;
  a->att = att;
  a->natt = natt;
  a->view = 1;
}

int sio_args_new(sio_args_t **out) {
  sio_args_t *a = sio__calloc(1, sizeof *a);
  if (a == NULL) return SIO_ENOMEM;
  a->arr = json_array();
  if (a->arr == NULL) {
    sio__free(a);
    return SIO_ENOMEM;
  }
  *out = a;
  return 0;
}

void sio_args_free(sio_args_t *a) {
  if (a == NULL || a->view) return;
  json_decref(a->arr);
  for (uint32_t i = 0; i < a->natt; i++) sio__refbuf_unref(a->att[i]);
  sio__free(a->att);
  sio__free(a);
}

void sio_free(void *p) { sio__free(p); }

size_t sio_args_count(const sio_args_t *a) {
  if (a == NULL || a->arr == NULL) return 0;
  size_t n = json_array_size(a->arr);
  return n > a->base ? n - a->base : 0;
}

static json_t *arg(const sio_args_t *a, size_t i) {
  if (a == NULL || i >= sio_args_count(a)) return NULL;
  return json_array_get(a->arr, a->base + i);
}

static int push_att(sio_args_t *a, sio__refbuf_t *rb) {
  if (a->natt == a->att_cap) {
    uint32_t cap = a->att_cap ? a->att_cap * 2 : 4;
    sio__refbuf_t **p = sio__realloc(a->att, cap * sizeof *p);
    if (p == NULL) return SIO_ENOMEM;
    a->att = p;
    a->att_cap = cap;
  }
  a->att[a->natt++] = rb;
  return 0;
}

static int append(sio_args_t *a, json_t *v) {
  if (v == NULL) return SIO_ENOMEM;
  if (a->view) {
    json_decref(v);
    return SIO_EINVAL;
  }
  return json_array_append_new(a->arr, v) == 0 ? 0 : SIO_ENOMEM;
}

int sio_args_add_str(sio_args_t *a, const char *s, size_t len) {
  if (!sio__utf8_valid(s, len)) return SIO_EUTF8;
  return append(a, json_stringn(s, len));
}
int sio_args_add_cstr(sio_args_t *a, const char *s) { return sio_args_add_str(a, s, strlen(s)); }
int sio_args_add_int(sio_args_t *a, int64_t v) { return append(a, json_integer(v)); }
int sio_args_add_double(sio_args_t *a, double v) { return append(a, json_real(v)); }
int sio_args_add_bool(sio_args_t *a, int v) { return append(a, json_boolean(v)); }
int sio_args_add_null(sio_args_t *a) { return append(a, json_null()); }

int sio_args_add_json(sio_args_t *a, const char *json, size_t len) {
  json_t *v = json_loadb(json, len, JSON_DECODE_ANY, NULL);
  if (v == NULL) return SIO_EJSON;
  if (sio__placeholder_check(v, 0) != 0) {
    /* A placeholder-looking object would be read as binary by clients. */
    json_decref(v);
    return SIO_EJSON;
  }
  return append(a, v);
}

int sio_args_add_binary(sio_args_t *a, const void *data, size_t len) {
  if (a->view) return SIO_EINVAL;
  sio__refbuf_t *rb = sio__refbuf_from(SIO__EIO_HEADROOM, data, len);
  if (rb == NULL) return SIO_ENOMEM;
  if (push_att(a, rb) != 0) {
    sio__refbuf_unref(rb);
    return SIO_ENOMEM;
  }
  int r = append(a, sio__placeholder_new(a->natt - 1));
  if (r) {
    a->natt--;
    sio__refbuf_unref(rb);
  }
  return r;
}

/* Re-points the placeholders of v (a deep copy) from src's attachments to a's. */
static int adopt(sio_args_t *a, const sio_args_t *src, json_t *v) {
  uint32_t num;
  if (sio__placeholder_num(v, &num)) {
    if (num >= src->natt) return SIO_EPROTO;
    if (push_att(a, sio__refbuf_ref(src->att[num])) != 0) {
      sio__refbuf_unref(src->att[num]);
      return SIO_ENOMEM;
    }
    return json_object_set_new(v, "num", json_integer(a->natt - 1)) == 0 ? 0 : SIO_ENOMEM;
  }
  if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++) {
      int r = adopt(a, src, json_array_get(v, i));
      if (r) return r;
    }
  } else if (json_is_object(v)) {
    const char *k;
    json_t *m;
    json_object_foreach(v, k, m) {
      int r = adopt(a, src, m);
      if (r) return r;
    }
  }
  return 0;
}

/*
 * Appends copy (a deep copy of a value of src, owned: consumed in every case) to a, its
 * placeholders renumbered onto a's attachment list. On failure a is left as it was:
 * attachments adopted before the failure are dropped again, so a never sends an
 * attachment that no placeholder points at. src may be a itself.
 */
static int append_adopted(sio_args_t *a, const sio_args_t *src, json_t *copy) {
  if (copy == NULL) return SIO_ENOMEM;
  if (a->view) {
    json_decref(copy);
    return SIO_EINVAL;
  }
  uint32_t mark = a->natt;
  int r = adopt(a, src, copy);
  if (r == 0) r = json_array_append_new(a->arr, copy) == 0 ? 0 : SIO_ENOMEM;
  else json_decref(copy);
  if (r) {
    while (a->natt > mark) sio__refbuf_unref(a->att[--a->natt]);
  }
  return r;
}

int sio_args_add_arg(sio_args_t *a, const sio_args_t *src, size_t i) {
  json_t *v = arg(src, i);
  if (v == NULL || a->view) return SIO_EINVAL;
  return append_adopted(a, src, json_deep_copy(v));
}

int sio_args_add_array(sio_args_t *a, const sio_args_t *items) {
  if (a == NULL || a->view) return SIO_EINVAL;
  /* A shallow array of items' values first, then one deep copy of it to adopt. */
  json_t *shallow = json_array();
  if (shallow == NULL) return SIO_ENOMEM;
  size_t n = sio_args_count(items);
  for (size_t i = 0; i < n; i++) {
    if (json_array_append(shallow, arg(items, i)) != 0) {
      json_decref(shallow);
      return SIO_ENOMEM;
    }
  }
  json_t *copy = json_deep_copy(shallow);
  json_decref(shallow);
  return append_adopted(a, items, copy);
}

int sio_args_add_object(sio_args_t *a, const char *const *keys, const sio_args_t *values) {
  if (a == NULL || a->view) return SIO_EINVAL;
  size_t n = sio_args_count(values);
  json_t *shallow = json_object();
  if (shallow == NULL) return SIO_ENOMEM;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    if (keys == NULL || keys[i] == NULL) r = SIO_EINVAL;
    else if (!sio__utf8_valid(keys[i], strlen(keys[i]))) r = SIO_EUTF8;
    else if (json_object_set(shallow, keys[i], arg(values, i)) != 0) r = SIO_ENOMEM;
  }
  /* {"_placeholder":true,...} would be read as a binary attachment by every client. */
  if (r == 0 && json_is_true(json_object_get(shallow, "_placeholder"))) r = SIO_EINVAL;
  if (r) {
    json_decref(shallow);
    return r;
  }
  json_t *copy = json_deep_copy(shallow);
  json_decref(shallow);
  return append_adopted(a, values, copy);
}

int sio_args_member(const sio_args_t *a, size_t i, const char *key, sio_args_t **out) {
  json_t *v = arg(a, i);
  uint32_t num;
  if (!json_is_object(v) || sio__placeholder_num(v, &num) || key == NULL) return SIO_EINVAL;
  json_t *m = json_object_get(v, key);
  if (m == NULL) return SIO_ENOTFOUND;
  sio_args_t *res;
  int r = sio_args_new(&res);
  if (r) return r;
  if ((r = append_adopted(res, a, json_deep_copy(m))) != 0) {
    sio_args_free(res);
    return r;
  }
  *out = res;
  return 0;
}

int sio_args_unpack(const sio_args_t *a, size_t i, sio_args_t **out) {
  json_t *v = arg(a, i);
  if (!json_is_array(v)) return SIO_EINVAL;
  sio_args_t *res;
  int r = sio_args_new(&res);
  if (r) return r;
  size_t n = json_array_size(v);
  for (size_t k = 0; k < n && r == 0; k++) r = append_adopted(res, a, json_deep_copy(json_array_get(v, k)));
  if (r) {
    sio_args_free(res);
    return r;
  }
  *out = res;
  return 0;
}

int sio_args_copy(const sio_args_t *src, size_t from, size_t count, sio_args_t **out) {
  int r = sio_args_new(out);
  if (r) return r;
  size_t n = sio_args_count(src);
  for (size_t i = from; i < n && i - from < count; i++) {
    if ((r = sio_args_add_arg(*out, src, i)) != 0) {
      sio_args_free(*out);
      *out = NULL;
      return r;
    }
  }
  return 0;
}

int sio_args_type(const sio_args_t *a, size_t i) {
  json_t *v = arg(a, i);
  if (v == NULL) return SIO_EINVAL;
  uint32_t num;
  switch (json_typeof(v)) {
  case JSON_OBJECT: return sio__placeholder_num(v, &num) && num < a->natt ? SIO_ARG_BINARY : SIO_ARG_OBJECT;
  case JSON_ARRAY: return SIO_ARG_ARRAY;
  case JSON_STRING: return SIO_ARG_STRING;
  case JSON_INTEGER:
  case JSON_REAL: return SIO_ARG_NUMBER;
  case JSON_TRUE:
  case JSON_FALSE: return SIO_ARG_BOOL;
  default: return SIO_ARG_NULL;
  }
}

int sio_args_get_str(const sio_args_t *a, size_t i, sio_str_t *out) {
  json_t *v = arg(a, i);
  if (!json_is_string(v)) return SIO_EINVAL;
  *out = (sio_str_t){json_string_value(v), json_string_length(v)};
  return 0;
}

int sio_args_get_int(const sio_args_t *a, size_t i, int64_t *out) {
  json_t *v = arg(a, i);
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return 0;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d == (double)(int64_t)d && d > -9.3e18 && d < 9.3e18) {
      *out = (int64_t)d;
      return 0;
    }
  }
  return SIO_EINVAL;
}

int sio_args_get_double(const sio_args_t *a, size_t i, double *out) {
  json_t *v = arg(a, i);
  if (!json_is_number(v)) return SIO_EINVAL;
  *out = json_number_value(v);
  return 0;
}

int sio_args_get_bool(const sio_args_t *a, size_t i, int *out) {
  json_t *v = arg(a, i);
  if (!json_is_boolean(v)) return SIO_EINVAL;
  *out = json_is_true(v);
  return 0;
}

int sio_args_get_binary(const sio_args_t *a, size_t i, sio_str_t *out) {
  json_t *v = arg(a, i);
  uint32_t num;
  if (v == NULL || !sio__placeholder_num(v, &num) || num >= a->natt) return SIO_EINVAL;
  *out = (sio_str_t){sio__refbuf_ptr(a->att[num]), a->att[num]->len};
  return 0;
}

int sio_args_get_member_str(const sio_args_t *a, size_t i, const char *key, sio_str_t *out) {
  json_t *v = arg(a, i);
  json_t *m = json_is_object(v) ? json_object_get(v, key) : NULL;
  if (!json_is_string(m)) return SIO_EINVAL;
  *out = (sio_str_t){json_string_value(m), json_string_length(m)};
  return 0;
}

int sio_args_has_member(const sio_args_t *a, size_t i, const char *key) {
  json_t *v = arg(a, i);
  return json_is_object(v) && json_object_get(v, key) != NULL;
}

int sio_args_to_json(const sio_args_t *a, size_t i, char **out, size_t *len) {
  json_t *v = arg(a, i);
  if (v == NULL) return SIO_EINVAL;
  sio__buf_t b = SIO__BUF_INIT;
  int r = sio__json_write(&b, v);
  if (r == 0) r = sio__buf_append_byte(&b, '\0');
  if (r) {
    sio__buf_free(&b);
    return r;
  }
  if (len) *len = b.len - 1;
  *out = sio__buf_steal(&b, NULL);
  return 0;
}

size_t sio_args_size(const sio_args_t *a, size_t i) {
  sio_str_t bin;
  if (sio_args_get_binary(a, i, &bin) == 0) return bin.len;
  json_t *v = arg(a, i);
  if (v == NULL) return 0;
  if (json_is_string(v)) return json_string_length(v);
  sio__buf_t b = SIO__BUF_INIT;
  size_t n = sio__json_write(&b, v) == 0 ? b.len : 0;
  sio__buf_free(&b);
  return n;
}
