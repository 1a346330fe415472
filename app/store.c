/* What both history backends share: the message value (and its JSON form) and the choice of
 * backend. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsontext.h"

/* Copies at most cap - 1 bytes of s and a NUL into dst; returns the length copied. */
static size_t copy_cut(char *dst, size_t cap, const char *s) {
  size_t n = strnlen(s, cap - 1);
  memcpy(dst, s, n);
  dst[n] = '\0';
  return n;
}

noom_msg_t *noom_msg_new(const char *id, const char *room, const char *nick, const char *text, size_t len, int64_t ts) {
  /* Fields first (cut to size), so the JSON is sized from what is kept. */
  char idc[NOOM_MSG_ID], nickc[NOOM_MAX_NICK + 1];
  size_t il = copy_cut(idc, sizeof idc, id), nl = copy_cut(nickc, sizeof nickc, nick);
  char tsv[24];
  int tl = snprintf(tsv, sizeof tsv, "%" PRId64, ts);
  static const char k_id[] = "{\"id\":", k_nick[] = ",\"nickname\":", k_text[] = ",\"text\":", k_ts[] = ",\"ts\":";
  size_t jl = sizeof k_id - 1 + noom_json_str_size(idc, il) + sizeof k_nick - 1 + noom_json_str_size(nickc, nl) +
              sizeof k_text - 1 + noom_json_str_size(text, len) + sizeof k_ts - 1 + (size_t)tl + 1;
  noom_msg_t *m = malloc(sizeof *m + len + 1 + jl + 1);
  if (m == NULL) return NULL;
  memcpy(m->id, idc, il + 1);
  copy_cut(m->room, sizeof m->room, room);
  memcpy(m->nick, nickc, nl + 1);
  m->ts = ts;
  atomic_init(&m->refs, 1);
  m->len = len;
  memcpy(m->text, text, len);
  m->text[len] = '\0';
  char *w = m->text + len + 1;
  m->json = w;
  m->json_len = jl;
  memcpy(w, k_id, sizeof k_id - 1);
  w = noom_json_str_put(w + sizeof k_id - 1, idc, il);
  memcpy(w, k_nick, sizeof k_nick - 1);
  w = noom_json_str_put(w + sizeof k_nick - 1, nickc, nl);
  memcpy(w, k_text, sizeof k_text - 1);
  w = noom_json_str_put(w + sizeof k_text - 1, text, len);
  memcpy(w, k_ts, sizeof k_ts - 1);
  w += sizeof k_ts - 1;
  memcpy(w, tsv, (size_t)tl);
  w += tl;
  *w++ = '}';
  *w = '\0';
  return m;
}

noom_msg_t *noom_msg_ref(noom_msg_t *m) {
  atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

void noom_msg_unref(noom_msg_t *m) {
  if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) free(m);
}

void noom_msgs_free(noom_msg_t **msgs, size_t n) {
  if (msgs == NULL) return;
  for (size_t i = 0; i < n; i++) noom_msg_unref(msgs[i]);
  free(msgs);
}

const noom_store_ops_t *noom_store_for(const char *url) {
  if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) return &noom_store_pg;
  return &noom_store_sqlite;
}

int64_t noom_msg_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
