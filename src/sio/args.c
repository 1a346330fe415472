/*
 * Event arguments. Each argument is JSON text, a jansson tree, or both (sio__jitem_t,
 * sio/parser.h):
 *  - text is what a plain received packet holds (checked by jscan.c) and what
 *    sio_args_add_str/int/double/bool/null write. Copies and encoders copy it as it
 *    is, so relaying or echoing an event never builds a tree. Readers answer from the
 *    text when it says enough (a string without escapes, a small integer, a boolean, a
 *    member of an object whose keys have no escapes); otherwise the text is parsed once
 *    with jansson and the tree is kept beside it, with the args or with their packet.
 *  - trees carry binary arguments as placeholders {"_placeholder":true,"num":N} pointing
 *    into a list of refcounted attachments, which is exactly how socket.io-parser puts
 *    them on the wire, and the values composed from trees (add_json, add_array, ...).
 *    Attachments keep Engine.IO headroom so they can be framed and fanned out without a
 *    copy.
 * A tree view (sio__args_view) is the older shape, a borrowed jansson array: binary
 * packets and the adapters hand their arguments over that way.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "engine/engine.h"
#include "sio/jscan.h"
#include "sio/json.h"
#include "sio/sio.h"
#include "ws/utf8.h"

/* ---------------------------------------------------------------------------------
 * Views, allocation, lifetime
 * ------------------------------------------------------------------------------ */

void sio__args_view(sio_args_t *a, json_t *arr, size_t base, sio__refbuf_t **att, uint32_t natt) {
  memset(a, 0, sizeof *a);
  a->arr = arr;
  a->base = base;
  a->att = att;
  a->natt = natt;
  a->view = 1;
}

void sio__args_of_packet(sio_args_t *a, const sio__packet_t *p, size_t base) {
  if (p->raw == NULL) {
    sio__args_view(a, p->data, base, p->att, p->natt);
    return;
  }
  memset(a, 0, sizeof *a);
  size_t n = p->raw->n;
  a->items = p->raw->items + (base < n ? base : n);
  a->n = a->cap = n > base ? n - base : 0;
  a->view = 1;
}

/*
 * One allocation holding the args, room for nitems items and a chunk of text bytes:
 * what sio_args_copy needs, so that copying received args costs one malloc. Later
 * appends move the items out (item_room) and add chunks of their own.
 */
static sio_args_t *args_alloc(size_t nitems, size_t text) {
  size_t size = sizeof(sio_args_t) + nitems * sizeof(sio__jitem_t);
  if (text > 0) size += sizeof(sio__chunk_t) + text;
  sio_args_t *a = sio__malloc(size);
  if (a == NULL) return NULL;
  memset(a, 0, sizeof *a);
  if (nitems > 0) {
    a->items = (sio__jitem_t *)(void *)(a + 1);
    a->cap = nitems;
    a->items_embedded = 1;
  }
  if (text > 0) {
    sio__chunk_t *c = (sio__chunk_t *)(void *)((char *)(a + 1) + nitems * sizeof(sio__jitem_t));
    *c = (sio__chunk_t){NULL, text, 0, 1};
    a->chunks = c;
  }
  return a;
}

int sio_args_new(sio_args_t **out) {
  sio_args_t *a = args_alloc(0, 0);
  if (a == NULL) return SIO_ENOMEM;
  *out = a;
  return 0;
}

void sio_args_free(sio_args_t *a) {
  if (a == NULL || a->view) return;
  for (size_t i = 0; i < a->n; i++) json_decref(a->items[i].v);
  if (!a->items_embedded) sio__free(a->items);
  for (sio__chunk_t *c = a->chunks, *next; c != NULL; c = next) {
    next = c->next;
    if (!c->embedded) sio__free(c);
  }
  for (uint32_t i = 0; i < a->natt; i++) sio__refbuf_unref(a->att[i]);
  sio__free(a->att);
  sio__free(a);
}

void sio_free(void *p) { sio__free(p); }

size_t sio_args_count(const sio_args_t *a) {
  if (a == NULL) return 0;
  if (a->arr != NULL) {
    size_t n = json_array_size(a->arr);
    return n > a->base ? n - a->base : 0;
  }
  return a->n;
}

/* Argument i's item (NULL for a tree view or out of range). */
static sio__jitem_t *item_at(const sio_args_t *a, size_t i) {
  return a != NULL && a->arr == NULL && i < a->n ? &a->items[i] : NULL;
}

/* Argument i when it is text only (no tree yet): readers try the text first. */
static const sio__jitem_t *text_only(const sio_args_t *a, size_t i) {
  const sio__jitem_t *it = item_at(a, i);
  return it != NULL && it->v == NULL ? it : NULL;
}

json_t *sio__args_json(const sio_args_t *a, size_t i) {
  if (a == NULL || i >= sio_args_count(a)) return NULL;
  if (a->arr != NULL) return json_array_get(a->arr, a->base + i);
  sio__jitem_t *it = &a->items[i];
  /* Text the scanner or add_* produced always parses; only OOM fails here. */
  if (it->v == NULL && sio__json_load(it->text, it->len, &it->v) != 0) return NULL;
  return it->v;
}

/* sio__args_json with the reason when there is no tree: SIO_EINVAL (i out of range)
 * or SIO_ENOMEM. */
static int arg_tree(const sio_args_t *a, size_t i, json_t **v) {
  if (i >= sio_args_count(a)) return SIO_EINVAL;
  return (*v = sio__args_json(a, i)) != NULL ? 0 : SIO_ENOMEM;
}

json_t *sio__args_tree(const sio_args_t *a) {
  json_t *arr = json_array();
  size_t n = sio_args_count(a);
  for (size_t i = 0; arr != NULL && i < n; i++) {
    json_t *v = sio__args_json(a, i);
    if (v == NULL || json_array_append(arr, v) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  return arr;
}

/* ---------------------------------------------------------------------------------
 * Appending
 * ------------------------------------------------------------------------------ */

/* Makes room for one more item at a->items[a->n]. Returns 0 or SIO_ENOMEM (a unchanged). */
static int item_room(sio_args_t *a) {
  if (a->n < a->cap) return 0;
  size_t cap = a->cap ? a->cap * 2 : 4;
  sio__jitem_t *p;
  if (a->items_embedded) {
    if ((p = sio__malloc(cap * sizeof *p)) != NULL) memcpy(p, a->items, a->n * sizeof *p);
  } else {
    p = sio__realloc(a->items, cap * sizeof *p);
  }
  if (p == NULL) return SIO_ENOMEM;
  a->items = p;
  a->cap = cap;
  a->items_embedded = 0;
  return 0;
}

/*
 * Returns where len bytes of text can be written (in a->chunks, the newest chunk;
 * commit them by adding len to its used), or NULL on OOM. Chunks never move: text
 * already in a stays valid, even as the source of what is written next.
 */
static char *text_room(sio_args_t *a, size_t len) {
  sio__chunk_t *c = a->chunks;
  if (c != NULL && c->cap - c->used >= len) return c->data + c->used;
  size_t cap = c != NULL ? c->cap * 2 : 128;
  if (cap < len) cap = len;
  sio__chunk_t *fresh = sio__malloc(sizeof *fresh + cap);
  if (fresh == NULL) return NULL;
  *fresh = (sio__chunk_t){c, cap, 0, 0};
  a->chunks = fresh;
  return fresh->data;
}

/* Appends a copy of the text t[0..len) (which may lie in a's own text) as an argument,
 * with tree v (owned, NULL allowed: consumed in every case). */
static int add_text(sio_args_t *a, const char *t, size_t len, unsigned flags, json_t *v) {
  char *w = NULL;
  int r = a->view ? SIO_EINVAL : 0;
  if (r == 0 && (item_room(a) != 0 || (w = text_room(a, len)) == NULL)) r = SIO_ENOMEM;
  if (r != 0) {
    json_decref(v);
    return r;
  }
  memcpy(w, t, len);
  a->chunks->used += len;
  a->items[a->n++] = (sio__jitem_t){w, len, v, flags};
  return 0;
}

/* Appends tree v (owned: consumed in every case) as an argument. */
static int add_tree(sio_args_t *a, json_t *v) {
  int r = v == NULL ? SIO_ENOMEM : a->view ? SIO_EINVAL : item_room(a);
  if (r != 0) {
    json_decref(v);
    return r;
  }
  a->items[a->n++] = (sio__jitem_t){NULL, 0, v, 0};
  return 0;
}

int sio__args_add_tree(sio_args_t *a, json_t *v) { return add_tree(a, v); }

void sio__args_truncate(sio_args_t *a, size_t n) {
  if (a->view || a->arr != NULL) return;
  while (a->n > n) json_decref(a->items[--a->n].v);
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

int sio_args_add_str(sio_args_t *a, const char *s, size_t len) {
  if (!sio__utf8_valid(s, len)) return SIO_EUTF8;
  if (a->view) return SIO_EINVAL;
  size_t size = sio__json_str_size(s, len);
  char *w;
  if (item_room(a) != 0 || (w = text_room(a, size)) == NULL) return SIO_ENOMEM;
  sio__json_str_put(w, s, len);
  a->chunks->used += size;
  a->items[a->n++] = (sio__jitem_t){w, size, NULL, size != len + 2 ? SIO__JSPAN_ESC : 0u};
  return 0;
}

int sio_args_add_cstr(sio_args_t *a, const char *s) { return sio_args_add_str(a, s, strlen(s)); }

int sio_args_add_int(sio_args_t *a, int64_t v) {
  /* Beyond 2^53 a JS peer holds the nearest double, and that is what is written (as
   * json.c does); the exact integer is kept as a tree for the readers. */
  const int64_t max_safe = (int64_t)1 << 53;
  char tmp[40];
  int len;
  json_t *tree = NULL;
  if (v >= -max_safe && v <= max_safe) {
    len = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
  } else {
    len = sio__json_format_double(tmp, (double)v);
    if ((tree = json_integer(v)) == NULL) return SIO_ENOMEM;
  }
  return add_text(a, tmp, (size_t)len, 0, tree);
}

int sio_args_add_double(sio_args_t *a, double v) {
  /* JSON has no NaN or infinity (jansson's json_real refuses them too). */
  if (!isfinite(v)) return SIO_EINVAL;
  char tmp[40];
  int len = sio__json_format_double(tmp, v);
  /* "0" would read back as +0: keep -0.0 as a tree for get_double. */
  json_t *tree = NULL;
  if (v == 0 && signbit(v) && (tree = json_real(v)) == NULL) return SIO_ENOMEM;
  return add_text(a, tmp, (size_t)len, 0, tree);
}

int sio_args_add_bool(sio_args_t *a, int v) { return v ? add_text(a, "true", 4, 0, NULL) : add_text(a, "false", 5, 0, NULL); }
int sio_args_add_null(sio_args_t *a) { return add_text(a, "null", 4, 0, NULL); }

int sio_args_add_json(sio_args_t *a, const char *json, size_t len) {
  json_t *v = json_loadb(json, len, JSON_DECODE_ANY, NULL);
  if (v == NULL) return SIO_EJSON;
  if (sio__placeholder_check(v, 0) != 0) {
    /* A placeholder-looking object would be read as binary by clients. */
    json_decref(v);
    return SIO_EJSON;
  }
  return add_tree(a, v);
}

int sio_args_add_json_text(sio_args_t *a, const char *json, size_t len) {
  if (a == NULL || a->view) return SIO_EINVAL;
  if (len > SIZE_MAX - 2) return SIO_EJSON;
  /* Scanned as the one element of an array, in place: "[" json "]" written where the
   * text will stay, so the value is copied once and checked by the same scanner as a
   * received packet. */
  char *w;
  if (item_room(a) != 0 || (w = text_room(a, len + 2)) == NULL) return SIO_ENOMEM;
  w[0] = '[';
  memcpy(w + 1, json, len);
  w[len + 1] = ']';
  sio__jspan_t span;
  size_t n = 0;
  unsigned flags = 0;
  int r = sio__jscan_array(w, len + 2, &span, 1, &n, &flags);
  if (r == SIO__JSCAN_OK && n == 1 && !(flags & SIO__JSCAN_PLACEHOLDER)) {
    a->chunks->used += len + 2;
    a->items[a->n++] = (sio__jitem_t){w + span.off, span.len, NULL, span.flags};
    return 0;
  }
  if (r == SIO__JSCAN_INVALID || (r == SIO__JSCAN_OK && n != 1)) return SIO_EJSON;
  /* Text with keys that may be placeholders or a borderline number: jansson decides. */
  return sio_args_add_json(a, json, len);
}

int sio_args_add_binary(sio_args_t *a, const void *data, size_t len) {
  if (a->view) return SIO_EINVAL;
  sio__refbuf_t *rb = sio__refbuf_from(SIO__EIO_HEADROOM, data, len);
  if (rb == NULL) return SIO_ENOMEM;
  if (push_att(a, rb) != 0) {
    sio__refbuf_unref(rb);
    return SIO_ENOMEM;
  }
  int r = add_tree(a, sio__placeholder_new(a->natt - 1));
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
  if (r == 0) r = item_room(a);
  if (r == 0) {
    a->items[a->n++] = (sio__jitem_t){NULL, 0, copy, 0};
    return 0;
  }
  json_decref(copy);
  while (a->natt > mark) sio__refbuf_unref(a->att[--a->natt]);
  return r;
}

int sio_args_add_arg(sio_args_t *a, const sio_args_t *src, size_t i) {
  if (a->view || i >= sio_args_count(src)) return SIO_EINVAL;
  const sio__jitem_t *it = item_at(src, i);
  /* Text holds no placeholder: copied as it is, with its tree if one was parsed. */
  if (it != NULL && it->text != NULL) return add_text(a, it->text, it->len, it->flags, json_incref(it->v));
  return append_adopted(a, src, json_deep_copy(sio__args_json(src, i)));
}

int sio_args_add_array(sio_args_t *a, const sio_args_t *items) {
  if (a == NULL || a->view) return SIO_EINVAL;
  /* A shallow array of items' values first, then one deep copy of it to adopt. */
  json_t *shallow = json_array();
  if (shallow == NULL) return SIO_ENOMEM;
  size_t n = sio_args_count(items);
  for (size_t i = 0; i < n; i++) {
    json_t *v = sio__args_json(items, i);
    if (v == NULL || json_array_append(shallow, v) != 0) {
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
    json_t *v;
    if (keys == NULL || keys[i] == NULL) r = SIO_EINVAL;
    else if (!sio__utf8_valid(keys[i], strlen(keys[i]))) r = SIO_EUTF8;
    else if ((r = arg_tree(values, i, &v)) != 0) break;
    else if (json_object_set(shallow, keys[i], v) != 0) r = SIO_ENOMEM;
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

/* ---------------------------------------------------------------------------------
 * Copies and parts
 * ------------------------------------------------------------------------------ */

int sio_args_copy(const sio_args_t *src, size_t from, size_t count, sio_args_t **out) {
  size_t n = sio_args_count(src);
  size_t k = from < n ? (count < n - from ? count : n - from) : 0;
  /* Items and text sized up front: copying text args is one allocation. */
  size_t text = 0;
  for (size_t i = from; i < from + k; i++) {
    const sio__jitem_t *it = item_at(src, i);
    if (it != NULL && it->text != NULL) text += it->len;
  }
  sio_args_t *a = args_alloc(k, text);
  if (a == NULL) return SIO_ENOMEM;
  for (size_t i = from; i < from + k; i++) {
    int r = sio_args_add_arg(a, src, i);
    if (r != 0) {
      sio_args_free(a);
      *out = NULL;
      return r;
    }
  }
  *out = a;
  return 0;
}

/* Finds member key in the object text t: 1 and its value's span (the last one when
 * the key repeats, as with JSON.parse), 0 when absent, -1 when some key holds escapes
 * (it might be key: the caller asks the tree). */
static int text_member(const sio__jitem_t *t, const char *key, sio__jspan_t *val) {
  size_t klen = strlen(key), pos = 0;
  sio__jspan_t k, v;
  int found = 0;
  while (sio__jscan_member(t->text, t->len, &pos, &k, &v)) {
    if (k.flags & SIO__JSPAN_ESC) return -1;
    if (k.len == klen && memcmp(t->text + k.off, key, klen) == 0) {
      *val = v;
      found = 1;
    }
  }
  return found;
}

/* Returns new args holding the text t[span] as their one argument. */
static int args_of_text(const char *t, const sio__jspan_t *span, sio_args_t **out) {
  sio_args_t *res = args_alloc(1, span->len);
  if (res == NULL) return SIO_ENOMEM;
  add_text(res, t + span->off, span->len, span->flags, NULL); /* room was made */
  *out = res;
  return 0;
}

int sio_args_member(const sio_args_t *a, size_t i, const char *key, sio_args_t **out) {
  const sio__jitem_t *t = text_only(a, i);
  sio__jspan_t span;
  if (t != NULL && key != NULL) {
    if (t->text[0] != '{') return SIO_EINVAL;
    int found = text_member(t, key, &span);
    if (found == 0) return SIO_ENOTFOUND;
    if (found > 0) return args_of_text(t->text, &span, out);
  }
  json_t *v;
  int r = arg_tree(a, i, &v);
  if (r) return r;
  uint32_t num;
  if (!json_is_object(v) || sio__placeholder_num(v, &num) || key == NULL) return SIO_EINVAL;
  json_t *m = json_object_get(v, key);
  if (m == NULL) return SIO_ENOTFOUND;
  sio_args_t *res;
  if ((r = sio_args_new(&res)) != 0) return r;
  if ((r = append_adopted(res, a, json_deep_copy(m))) != 0) {
    sio_args_free(res);
    return r;
  }
  *out = res;
  return 0;
}

int sio_args_unpack(const sio_args_t *a, size_t i, sio_args_t **out) {
  const sio__jitem_t *t = text_only(a, i);
  sio_args_t *res;
  int r;
  if (t != NULL) {
    if (t->text[0] != '[') return SIO_EINVAL;
    if ((r = sio_args_new(&res)) != 0) return r;
    size_t pos = 0;
    sio__jspan_t e;
    while (r == 0 && sio__jscan_element(t->text, t->len, &pos, &e))
      r = add_text(res, t->text + e.off, e.len, e.flags, NULL);
  } else {
    json_t *v;
    if ((r = arg_tree(a, i, &v)) != 0) return r;
    if (!json_is_array(v)) return SIO_EINVAL;
    if ((r = sio_args_new(&res)) != 0) return r;
    size_t n = json_array_size(v);
    for (size_t k = 0; k < n && r == 0; k++) r = append_adopted(res, a, json_deep_copy(json_array_get(v, k)));
  }
  if (r) {
    sio_args_free(res);
    return r;
  }
  *out = res;
  return 0;
}

/* ---------------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------------ */

/* The type of a value from the first byte of its (valid) text. */
static int text_type(char c) {
  switch (c) {
    case '"': return SIO_ARG_STRING;
    case '{': return SIO_ARG_OBJECT;
    case '[': return SIO_ARG_ARRAY;
    case 't':
    case 'f': return SIO_ARG_BOOL;
    case 'n': return SIO_ARG_NULL;
    default: return SIO_ARG_NUMBER;
  }
}

int sio_args_type(const sio_args_t *a, size_t i) {
  const sio__jitem_t *t = text_only(a, i);
  if (t != NULL) return text_type(t->text[0]);
  /* A tree view, a tree item or one already parsed: nothing to parse here. */
  json_t *v = sio__args_json(a, i);
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

/* Reads a string (a tree from here on) into out. */
static int tree_str(const json_t *v, sio_str_t *out) {
  if (!json_is_string(v)) return SIO_EINVAL;
  *out = (sio_str_t){json_string_value(v), json_string_length(v)};
  return 0;
}

int sio_args_get_str(const sio_args_t *a, size_t i, sio_str_t *out) {
  const sio__jitem_t *t = text_only(a, i);
  if (t != NULL && t->text[0] != '"') return SIO_EINVAL;
  if (t != NULL && !(t->flags & SIO__JSPAN_ESC)) {
    /* The bytes between the quotes are the string (borrowed: not NUL-terminated). */
    *out = (sio_str_t){t->text + 1, t->len - 2};
    return 0;
  }
  json_t *v;
  int r = arg_tree(a, i, &v);
  return r ? r : tree_str(v, out);
}

int sio_args_get_int(const sio_args_t *a, size_t i, int64_t *out) {
  const sio__jitem_t *t = text_only(a, i);
  if (t != NULL) {
    if (text_type(t->text[0]) != SIO_ARG_NUMBER) return SIO_EINVAL;
    if (sio__jscan_small_int(t->text, t->len, out)) return 0;
  }
  json_t *v;
  int r = arg_tree(a, i, &v);
  if (r) return r;
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return 0;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    /* The range check comes first: converting an out-of-range double is undefined. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d) {
      *out = (int64_t)d;
      return 0;
    }
  }
  return SIO_EINVAL;
}

int sio_args_get_double(const sio_args_t *a, size_t i, double *out) {
  const sio__jitem_t *t = text_only(a, i);
  int64_t n;
  if (t != NULL) {
    if (text_type(t->text[0]) != SIO_ARG_NUMBER) return SIO_EINVAL;
    if (sio__jscan_small_int(t->text, t->len, &n)) {
      *out = (double)n;
      return 0;
    }
  }
  json_t *v;
  int r = arg_tree(a, i, &v);
  if (r) return r;
  if (!json_is_number(v)) return SIO_EINVAL;
  *out = json_number_value(v);
  return 0;
}

int sio_args_get_bool(const sio_args_t *a, size_t i, int *out) {
  const sio__jitem_t *t = text_only(a, i);
  if (t != NULL) {
    if (text_type(t->text[0]) != SIO_ARG_BOOL) return SIO_EINVAL;
    *out = t->text[0] == 't';
    return 0;
  }
  json_t *v = sio__args_json(a, i);
  if (!json_is_boolean(v)) return SIO_EINVAL;
  *out = json_is_true(v);
  return 0;
}

int sio_args_get_binary(const sio_args_t *a, size_t i, sio_str_t *out) {
  if (text_only(a, i) != NULL) return SIO_EINVAL; /* text never holds a placeholder */
  json_t *v = sio__args_json(a, i);
  uint32_t num;
  if (v == NULL || !sio__placeholder_num(v, &num) || num >= a->natt) return SIO_EINVAL;
  *out = (sio_str_t){sio__refbuf_ptr(a->att[num]), a->att[num]->len};
  return 0;
}

int sio_args_get_member_str(const sio_args_t *a, size_t i, const char *key, sio_str_t *out) {
  if (key == NULL) return SIO_EINVAL;
  const sio__jitem_t *t = text_only(a, i);
  if (t != NULL) {
    if (t->text[0] != '{') return SIO_EINVAL;
    sio__jspan_t v;
    int found = text_member(t, key, &v);
    if (found == 0) return SIO_ENOTFOUND;
    if (found > 0 && t->text[v.off] != '"') return SIO_EINVAL;
    if (found > 0 && !(v.flags & SIO__JSPAN_ESC)) {
      *out = (sio_str_t){t->text + v.off + 1, v.len - 2};
      return 0;
    }
  }
  json_t *v;
  int r = arg_tree(a, i, &v);
  if (r) return r;
  if (!json_is_object(v)) return SIO_EINVAL;
  json_t *m = json_object_get(v, key);
  return m == NULL ? SIO_ENOTFOUND : tree_str(m, out);
}

int sio_args_has_member(const sio_args_t *a, size_t i, const char *key) {
  if (key == NULL) return 0;
  const sio__jitem_t *t = text_only(a, i);
  sio__jspan_t span;
  int found = t != NULL ? (t->text[0] == '{' ? text_member(t, key, &span) : 0) : -1;
  if (found >= 0) return found;
  json_t *v = sio__args_json(a, i);
  return json_is_object(v) && json_object_get(v, key) != NULL;
}

/*
 * 1 if text t is spelled exactly as JSON.stringify would write its value, so that
 * to_json and size can use it as it is: a string without escapes (its bytes are valid
 * UTF-8 without controls, quotes or backslashes, which JSON.stringify leaves alone),
 * true, false, null, and an integer of up to 15 digits (exact in a double) other than
 * -0. Anything else (numbers in other spellings, white space, containers, whose keys
 * JSON.stringify may reorder or merge) goes through the tree.
 */
static int text_canonical(const sio__jitem_t *t) {
  int64_t n;
  switch (text_type(t->text[0])) {
    case SIO_ARG_STRING: return !(t->flags & SIO__JSPAN_ESC);
    case SIO_ARG_BOOL:
    case SIO_ARG_NULL: return 1;
    case SIO_ARG_NUMBER:
      return t->len - (t->text[0] == '-') <= 15 && sio__jscan_small_int(t->text, t->len, &n) &&
             !(n == 0 && t->text[0] == '-');
    default: return 0;
  }
}

int sio_args_to_json(const sio_args_t *a, size_t i, char **out, size_t *len) {
  const sio__jitem_t *t = text_only(a, i);
  sio__buf_t b = SIO__BUF_INIT;
  int r;
  if (t != NULL && text_canonical(t)) {
    r = sio__buf_append(&b, t->text, t->len);
  } else {
    json_t *v;
    r = arg_tree(a, i, &v);
    if (r == 0) r = sio__json_write(&b, v);
  }
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
  const sio__jitem_t *t = text_only(a, i);
  if (t != NULL) {
    if (t->text[0] == '"' && !(t->flags & SIO__JSPAN_ESC)) return t->len - 2;
    if (text_canonical(t)) return t->len;
  }
  sio_str_t bin;
  if (sio_args_get_binary(a, i, &bin) == 0) return bin.len;
  json_t *v = sio__args_json(a, i);
  if (v == NULL) return 0;
  if (json_is_string(v)) return json_string_length(v);
  sio__buf_t b = SIO__BUF_INIT;
  size_t n = sio__json_write(&b, v) == 0 ? b.len : 0;
  sio__buf_free(&b);
  return n;
}
