/*
 * Observing a server (sio_server_stats, sio_server_observe): what monitors such as the
 * admin UI's server side (src/admin/) read. The figures are the metrics counters
 * (sio_server_s.m, the engine's stats.c) that /metrics reads too; observers are a short fixed
 * array, so a server nobody observes pays one branch per room change.
 */
#include <string.h>

#include "sio/sio.h"

void sio_server_stats(const sio_server_t *io, sio_server_stats_t *out) {
  *out = (sio_server_stats_t){0};
  out->packets_in = io->m.packets_in;
  out->bytes_in = io->m.bytes_in;
  out->packets_out = io->m.packets_out;
  out->bytes_out = io->m.bytes_out;
  if (io->eng == NULL) return;
  sio__eio_stats_t es;
  sio__eio_stats(io->eng, &es);
  for (int t = 0; t < 3; t++) {
    out->connections += es.c.opened[t];
    out->clients += es.open[t];
  }
  out->disconnections = out->connections - out->clients;
  out->polling_clients = es.open[SIO__EIO_POLLING];
}

void sio_server_namespaces(sio_server_t *io, void (*cb)(sio_ns_t *ns, void *u), void *u) {
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&io->nsps, &it, NULL, NULL, &v)) cb(v, u);
}

int sio_server_observe(sio_server_t *io, const sio_server_observer_t *obs, void *user) {
  if (io->nobs == SIO_SERVER_MAX_OBSERVERS) return SIO_ELIMIT;
  io->obs[io->nobs].obs = obs;
  io->obs[io->nobs].user = user;
  io->nobs++;
  return 0;
}

int sio_server_unobserve(sio_server_t *io, const sio_server_observer_t *obs, void *user) {
  for (uint8_t i = 0; i < io->nobs; i++) {
    if (io->obs[i].obs == obs && io->obs[i].user == user) {
      memmove(&io->obs[i], &io->obs[i + 1], (size_t)(io->nobs - i - 1) * sizeof io->obs[0]);
      io->nobs--;
      return 0;
    }
  }
  return SIO_ENOTFOUND;
}

void sio__observe_room(sio_ns_t *ns, const sio_room_event_t *ev) {
  sio_server_t *io = ns->io;
  for (uint8_t i = 0; i < io->nobs; i++) {
    if (io->obs[i].obs->on_room) io->obs[i].obs->on_room(ns, ev, io->obs[i].user);
  }
}

void sio__observe_namespace(sio_ns_t *ns) {
  sio_server_t *io = ns->io;
  for (uint8_t i = 0; i < io->nobs; i++) {
    if (io->obs[i].obs->on_namespace) io->obs[i].obs->on_namespace(ns, io->obs[i].user);
  }
}

void sio__observe_data(sio_socket_t *s) {
  sio_server_t *io = s->ns->io;
  for (uint8_t i = 0; i < io->nobs; i++) {
    if (io->obs[i].obs->on_data) io->obs[i].obs->on_data(s, io->obs[i].user);
  }
}
