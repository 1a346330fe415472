/* What both history backends share: the message value and the choice of backend. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

noom_msg_t *noom_msg_new(const char *id, const char *room, const char *nick, const char *text, size_t len, int64_t ts) {
  noom_msg_t *m = malloc(sizeof *m + len + 1);
  if (m == NULL) return NULL;
  snprintf(m->id, sizeof m->id, "%s", id);
  snprintf(m->room, sizeof m->room, "%s", room);
  snprintf(m->nick, sizeof m->nick, "%s", nick);
  m->ts = ts;
  m->len = len;
  memcpy(m->text, text, len);
  m->text[len] = '\0';
  return m;
}

noom_msg_t *noom_msg_dup(const noom_msg_t *m) {
  noom_msg_t *c = malloc(sizeof *m + m->len + 1);
  if (c) memcpy(c, m, sizeof *m + m->len + 1);
  return c;
}

void noom_msgs_free(noom_msg_t **msgs, size_t n) {
  if (msgs == NULL) return;
  for (size_t i = 0; i < n; i++) free(msgs[i]);
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
