/*
 * Connection-state recovery across nodes: the library's side of the version-3 adapter
 * hooks (sio/adapter.h). The adapter keeps the sessions and the packet log in a store
 * every node reaches (Redis for sio/redis.h's streams adapter); this file persists a
 * session through it, and holds a CONNECT while the adapter restores one (socket.io's
 * namespace.ts awaits adapter.restoreSession the same way), then gives the socket its
 * id, rooms and data back and keeps the missed packets, encoded, for the replay that
 * sio__recovery_accept sends before the CONNECT answer.
 *
 * Bounds: the adapter bounds the restores it runs at once (it refuses the hook past
 * that); a restore's missed packets count against the recovery store's max_bytes, and
 * past it the restore ends as not recovered (a client never resumes past a gap).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/recovery.h"

struct sio_adapter_restore_s {
  sio_socket_t *s;          /* referenced until done */
  sio__rmissed_t *head, *tail;
  size_t bytes, max_bytes;
  uint8_t over;             /* max_bytes passed: cannot be recovered */
};

int sio__recovery_remote(const sio_ns_t *ns) {
  const sio_adapter_vtable_t *vt = ns->adapter;
  return vt != NULL && vt->version >= 3 && vt->publish_offset && vt->persist_session && vt->restore_session;
}

void sio__rmissed_free(sio__rmissed_t *m) {
  while (m) {
    sio__rmissed_t *next = m->next;
    sio__refbuf_unref(m->text);
    for (uint32_t i = 0; i < m->natt; i++) sio__refbuf_unref(m->att[i]);
    sio__free(m);
    m = next;
  }
}

void sio__recovery_persist_remote(sio_socket_t *s) {
  const char *small[16], **rooms = small;
  if (s->nrooms > 16 && (rooms = sio__calloc(s->nrooms, sizeof *rooms)) == NULL) {
    SIO_LOGW("socket.io: out of memory keeping the session of %s: it will reconnect as a new socket", s->id);
    return;
  }
  for (uint32_t i = 0; i < s->nrooms; i++) rooms[i] = s->rooms[i].r->name; /* NUL-terminated room names */
  sio_adapter_session_t sess = {s->id, s->rec->pid, rooms, s->nrooms, s->data_json};
  s->ns->adapter->persist_session(s->ns->adapter_self, s->ns, &sess, s->ns->io->opts.recovery.max_disconnection_ms);
  if (rooms != small) sio__free(rooms);
}

int sio__recovery_restore_remote(sio_socket_t *s, const char *pid, const char *offset) {
  sio_adapter_restore_t *h = sio__calloc(1, sizeof *h);
  if (h == NULL) return 0;
  h->s = sio_socket_ref(s);
  h->max_bytes = s->ns->io->opts.recovery.max_bytes ? s->ns->io->opts.recovery.max_bytes : (size_t)16 << 20;
  if (s->ns->adapter->restore_session(s->ns->adapter_self, s->ns, pid, offset, h) != 0) {
    sio_socket_unref(s);
    sio__free(h);
    return 0;
  }
  return SIO__RESTORE_PENDING;
}

int sio_adapter_restore_add_packet(sio_adapter_restore_t *h, const char *event, const sio_args_t *args,
                                   const char *offset) {
  if (h->over) return SIO_ELIMIT;
  size_t olen = strlen(offset);
  char *tail = sio__malloc(olen + 2);
  if (tail == NULL) return SIO_ENOMEM;
  tail[0] = '"';
  memcpy(tail + 1, offset, olen);
  tail[olen + 1] = '"';
  sio__refbuf_t *text;
  int r = sio__encode_event_tail(h->s->ns->io->opts.parser, sio_ns_name(h->s->ns), event, args, (sio_str_t){tail, olen + 2}, &text);
  sio__free(tail);
  if (r) return r;
  uint32_t natt = args ? args->natt : 0;
  sio__rmissed_t *m = sio__malloc(sizeof *m + natt * sizeof(sio__refbuf_t *));
  if (m == NULL) {
    sio__refbuf_unref(text);
    return SIO_ENOMEM;
  }
  m->next = NULL;
  m->text = text;
  m->natt = natt;
  h->bytes += sizeof *m + text->len;
  for (uint32_t i = 0; i < natt; i++) {
    m->att[i] = sio__refbuf_ref(args->att[i]);
    h->bytes += args->att[i]->len;
  }
  if (h->tail) h->tail->next = m;
  else h->head = m;
  h->tail = m;
  if (h->bytes > h->max_bytes) {
    h->over = 1;
    SIO_LOGW("socket.io: %s missed more than %zu bytes of packets: it reconnects as a new socket (raise "
             "recovery.max_bytes to recover longer outages)",
             h->s->id, h->max_bytes);
    return SIO_ELIMIT;
  }
  return 0;
}

/* Joins the session's rooms (its own id room among them). 0, or the first error. */
static int rejoin(sio_socket_t *s, const sio_adapter_session_t *sess) {
  for (size_t i = 0; i < sess->nrooms; i++) {
    int r = sio__adapter_join(s, sess->rooms[i], strlen(sess->rooms[i]));
    if (r) return r;
  }
  return 0;
}

void sio_adapter_restore_done(sio_adapter_restore_t *h, const sio_adapter_session_t *sess, int status) {
  sio_socket_t *s = h->s;
  sio__rmissed_t *missed = h->head;
  int live = status != SIO_ECANCELED && s->state == SIO__SOCK_CONNECTING && s->client != NULL && s->rec != NULL;
  int ok = live && status == 0 && sess != NULL && !h->over && sess->sid && strlen(sess->sid) == SIO__SID_LEN &&
           sess->pid && strlen(sess->pid) == SIO__SID_LEN &&
           sio__map_get(&s->ns->sockets, sess->sid, SIO__SID_LEN) == NULL;
  char *data = NULL;
  if (ok && sess->data_json && (data = sio__strdup(sess->data_json)) == NULL) ok = 0;
  if (ok) {
    memcpy(s->id, sess->sid, sizeof s->id);
    if (rejoin(s, sess) != 0) {
      /* Half the rooms would be a silent gap: start over as a new socket. */
      sio__adapter_leave_all(s);
      ok = 0;
      if (sio__sid_generate(s->id) != 0) SIO_LOGW("socket.io: no random id for %s, it keeps its old one", s->id);
    }
  }
  if (ok) {
    memcpy(s->rec->pid, sess->pid, sizeof s->rec->pid);
    sio__free(s->data_json);
    s->data_json = data;
    data = NULL;
    s->rec->recovered = 1;
    s->rec->remote = 1;
    s->rec->missed = missed;
    missed = NULL;
    SIO_LOGD("socket.io: %s recovered in %s from another node's session", s->id, s->ns->name);
  }
  sio__free(data);
  sio__rmissed_free(missed);
  sio__free(h);
  if (live) sio__ns_connect_resume(s);
  sio_socket_unref(s);
}

int sio__recovery_replay_remote(sio_socket_t *s) {
  sio__rmissed_t *m = s->rec->missed;
  s->rec->missed = NULL;
  int r = 0;
  for (sio__rmissed_t *e = m; e && r == 0; e = e->next)
    r = s->client ? sio__client_send(s->client, e->text, e->att, e->natt, 0) : SIO_ECLOSED;
  sio__rmissed_free(m);
  return r;
}
