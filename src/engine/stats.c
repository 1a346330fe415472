/*
 * What the engine tells sio_metrics_* (counters bumped where sessions open, upgrade and
 * are found to be slow consumers; the open counts are taken by walking the session
 * table at scrape time, so nothing on the hot path keeps them), and the drain step a
 * graceful restart closes sessions with.
 */
#include "engine/engine_int.h"

void sio__eio_stats(const sio_engine_t *e, sio__eio_stats_t *out) {
  *out = (sio__eio_stats_t){.c = e->m};
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&e->sessions, &it, NULL, NULL, &v)) {
    const sio_eio_t *s = v;
    if (s->transport < 3) out->open[s->transport]++;
  }
}

size_t sio__eio_drain(sio_engine_t *e, size_t max, int now) {
  size_t n = 0, spread = 0;
  uint32_t it = 0;
  void *v;
  /* A graceful close keeps its entry until the transport has delivered the close, so
   * sessions already on their way out are stepped over rather than counted again;
   * "now" closes those too (a long-polling client that is gone never fetches its close
   * packet). Long-polling sessions are all closed at once, outside max: once the
   * listener is closed their next request lands on another node, so waiting for it would
   * keep the session (and its recovery) here until the end of the drain. A pending GET
   * gets the close after what is queued; without one the client learns it from that
   * other node's "unknown sid". Closing deletes the entry just returned, which the walk
   * allows. */
  while (sio__map_next(&e->sessions, &it, NULL, NULL, &v)) {
    sio_eio_t *s = v;
    if (s->state != SIO__EIO_S_OPEN) continue;
    if (now || sio__eio_tp(s) == &sio__eio_polling_transport) {
      sio__eio_close(s, "forced close");
      n++;
      continue;
    }
    if (s->closing || spread >= max) continue;
    sio__eio_close_graceful(s);
    spread++;
    n++;
  }
  return n;
}
