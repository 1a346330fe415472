/*
 * sio/metrics.h: Prometheus metrics of a server, in the text exposition format 0.0.4.
 *
 * The library counts as it goes (plain counters on the loop thread: a few additions per
 * packet, nothing allocated) and writes them out only when asked. Nothing is served by
 * default: mount the handler where you want it (sio_metrics_mount), or take the text
 * (sio_metrics_text) and serve it yourself.
 *
 * Names follow the ecosystem where it has them, so existing dashboards work:
 *  - socket.io-prometheus-metrics' per-namespace families (label `namespace`):
 *    socket_io_connected (gauge), socket_io_connect_total, socket_io_disconnect_total,
 *    socket_io_errors_total (CONNECTs refused by a middleware), socket_io_events_received_total,
 *    socket_io_events_sent_total (one per recipient), socket_io_recieve_bytes [sic] and
 *    socket_io_transmit_bytes (event payload bytes, attachments included);
 *  - the standard process_* families (sio_metrics_write_process, Linux /proc);
 *  - the rest under noom_: Engine.IO sessions by transport, upgrades, slow consumers,
 *    namespaces, sockets, rooms, packets and bytes both ways, broadcasts and deliveries,
 *    acks pending, volatile drops, recoveries, HTTP requests and errors.
 * docs/operations.md lists every family with its meaning.
 *
 * Threading: loop thread only, like the rest of the library.
 */
#ifndef SIO_METRICS_H
#define SIO_METRICS_H

#include "sio.h"

/* Where metrics are being written (opaque; valid during the call that hands it out). */
typedef struct sio_metrics_out_s sio_metrics_out_t;

typedef enum { SIO_METRIC_COUNTER = 0, SIO_METRIC_GAUGE = 1 } sio_metric_type_t;

/* Starts a family: its # HELP and # TYPE lines. name must match
 * [a-zA-Z_:][a-zA-Z0-9_:]*; help (borrowed) is escaped as the format wants. Every sample
 * of a family must follow its family line, before the next family starts.
 * Returns 0, SIO_EINVAL (bad name) or SIO_ENOMEM (then every later call is a no-op that
 * returns SIO_ENOMEM, and the whole text fails). */
SIO_EXTERN int sio_metrics_family(sio_metrics_out_t *o, const char *name, sio_metric_type_t type, const char *help);

/* One sample: name, then label name/value pairs (const char *, NULL-terminated), e.g.
 * sio_metrics_sample(o, "app_rooms", 3, "kind", "chat", NULL). Label names must match
 * [a-zA-Z_][a-zA-Z0-9_]*; values are escaped (\\, \" and \n). Integral values are
 * written exactly up to 2^53. Returns 0, SIO_EINVAL or SIO_ENOMEM. */
SIO_EXTERN int sio_metrics_sample(sio_metrics_out_t *o, const char *name, double value, ...);

/* Writes every family of io (and of its HTTP server) listed above. */
SIO_EXTERN int sio_metrics_write_server(sio_metrics_out_t *o, sio_server_t *io);

/* Writes process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds and
 * process_start_time_seconds, read from /proc/self (nothing where it is absent). */
SIO_EXTERN int sio_metrics_write_process(sio_metrics_out_t *o);

/* Adds families of your own after the library's (called during the scrape). */
typedef void (*sio_metrics_cb)(sio_metrics_out_t *o, void *user);

/* The whole text: io's families, the process ones, then extra's (may be NULL).
 * *out is new, NUL-terminated, *len bytes (free with sio_free). 0 or SIO_ENOMEM /
 * SIO_EINVAL (the first error of a write). */
SIO_EXTERN int sio_metrics_text(sio_server_t *io, sio_metrics_cb extra, void *user, char **out, size_t *len);

/* Serves sio_metrics_text at GET path (exact) on http (NULL: io's own server; another
 * server, e.g. one listening on a private address, must be closed no later than io's).
 * Answers 200 with Content-Type "text/plain; version=0.0.4; charset=utf-8", 405 to
 * other methods, 500 when out of memory. Returns 0, SIO_EEXIST (path taken), SIO_ENOMEM. */
SIO_EXTERN int sio_metrics_mount(sio_server_t *io, sio_http_t *http, const char *path, sio_metrics_cb extra,
                                 void *user);

/* Closes up to max of io's WebSocket sessions the way a lost transport closes: what is
 * queued is delivered, then the transport closes without a Socket.IO DISCONNECT, so the
 * official clients see "transport close" and reconnect (and recover their state where
 * connection-state recovery is on). Sessions already closing this way are skipped.
 * Spread over time by calling it from a timer, this is the session part of a graceful
 * restart (with sio_http_unlisten first). Long-polling sessions are all closed at once
 * on every call, whatever max: with the listener closed their next request goes to
 * another node, so the session must leave (and be stored for recovery) before that
 * request lands. A pending GET is answered with what is queued and the close packet
 * ("transport close"); a client between two polls learns it from its next request
 * failing ("transport error"). (engine.io's server.close() closes every session this
 * way, socket.close(true), though it drops the queue.) now != 0 closes every session at once, the ones still
 * delivering included (the end of a drain window). Returns how many sessions it closed
 * or started closing; sio_server_session_count tells how many remain. */
SIO_EXTERN size_t sio_server_drain(sio_server_t *io, size_t max, int now);

/* Engine.IO sessions open now (closing ones included until their transport is gone). */
SIO_EXTERN size_t sio_server_session_count(const sio_server_t *io);

#endif /* SIO_METRICS_H */
