/*
 * sio/adapter.h: the adapter interface, for out-of-tree adapters (Redis, ...).
 *
 * Every namespace keeps its rooms in memory (the in-memory adapter of socket.io-adapter:
 * rooms -> socket ids and socket id -> rooms, O(1) lookups). An adapter installed with
 * sio_ns_set_adapter() extends it across processes: the library calls its hooks after
 * doing the local part of each operation, with the same selection value the caller built
 * (so local and remote delivery see one sio_broadcast_opts_t), and skips them for
 * SIO_BCAST_LOCAL. All hooks are optional (NULL = local only) and run on the loop thread.
 */
#ifndef SIO_ADAPTER_H
#define SIO_ADAPTER_H

#include "sio.h"

#define SIO_ADAPTER_VERSION 1

/* An encoded packet as it goes on the wire: the Socket.IO text part (without the
 * Engine.IO "4" prefix) and its binary attachments, plus the event and arguments. */
typedef struct {
  sio_str_t text;
  const sio_str_t *attachments;
  size_t nattachments;
  const char *event;
  const sio_args_t *args;
} sio_packet_view_t;

typedef struct {
  int version; /* SIO_ADAPTER_VERSION */
  int (*broadcast)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const sio_packet_view_t *pkt);
  int (*sockets_join)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room);
  int (*sockets_leave)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *room);
  int (*disconnect_sockets)(void *self, sio_ns_t *ns, const sio_broadcast_opts_t *to, int close);
  void (*destroy)(void *self);
} sio_adapter_vtable_t;

/* Installs an adapter on ns (vtable borrowed: static storage; self owned by the adapter,
 * destroyed with the server). Returns 0, SIO_EINVAL (version mismatch) or SIO_EBUSY. */
SIO_EXTERN int sio_ns_set_adapter(sio_ns_t *ns, const sio_adapter_vtable_t *vt, void *self);

#endif
