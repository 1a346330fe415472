/*
 * Connection-state recovery on one node: socket.io 4.8's lib/socket.ts (pid, persist on
 * a recoverable disconnect, restore in the constructor), lib/namespace.ts
 * (_createSocket, skipMiddlewares) and socket.io-adapter's SessionAwareAdapter
 * (in-memory-adapter.ts: the packet log, offsets, shouldIncludePacket).
 *
 * The packet log is one FIFO per server, in offset order. An entry holds references to
 * the very refbufs the emit sent (text with the offset in it, attachments), so storing
 * costs one allocation per packet (the selection's room names live in it), never a copy
 * per receiver. Offsets are "<tag><seq in hex>": tag is random per server, so a string
 * a client kept from elsewhere (another server, or a user's last string argument, which
 * the client takes for an offset too) does not parse as one of ours.
 *
 * No silent gap: `low` is the lowest sequence number still known to be stored (every
 * packet below it was dropped: by age, by the byte cap, or because storing it ran out
 * of memory). A client whose offset is seq can be recovered only while seq + 1 >= low,
 * i.e. while every packet after its offset is still here; otherwise it connects fresh.
 * Node instead looks its offset up (findIndex), which also refuses a client whose last
 * packet merely aged out with nothing after it; ours recovers that client.
 *
 * Bounds: packets expire with the window (a tlist node each) and, oldest first, past
 * max_bytes; sessions expire with the window (a tlist node each) and, oldest first,
 * past max_sessions.
 */
#include "sio/recovery.h"

#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "http/server.h"

typedef struct rpkt_s {
  sio__tnode_t age;       /* on rec->pkt_wait: the window */
  struct rpkt_s *next;    /* FIFO, oldest first */
  uint64_t seq;
  sio_ns_t *ns;
  sio__refbuf_t *text;    /* referenced: "4" + the packet, offset included */
  size_t bytes;           /* what this entry counts against max_bytes */
  uint32_t natt, nrooms, nexcept;
  sio__refbuf_t *att[];   /* referenced; then the room and except names (pointers, then text) */
} rpkt_t;

typedef struct {
  sio__tnode_t expire;    /* on rec->sess_wait: the window */
  sio_ns_t *ns;
  char pid[SIO__SID_LEN + 1];
  char sid[SIO__SID_LEN + 1];
  char *data_json;        /* owned, NULL when the socket had none */
  uint32_t nrooms;
  char *rooms[];          /* into the same block */
} rsess_t;

struct sio__recovery_s {
  sio_server_t *io;
  uv_loop_t *loop;
  sio__tlist_t pkt_wait, sess_wait;
  rpkt_t *head, *tail;
  size_t bytes, max_bytes;
  uint64_t next_seq;      /* the next packet's offset; starts at 1 */
  uint64_t low;           /* every packet below this was dropped (see the top comment) */
  sio__map_t sessions;    /* pid -> rsess_t */
  uint32_t max_sessions;
  char tag[9];
};

#define TAG_LEN 8

/* ---------------------------------------------------------------------------------
 * The packet log
 * ------------------------------------------------------------------------------ */

static size_t refbuf_size(const sio__refbuf_t *rb) { return sizeof *rb + rb->head + rb->len; }

static void pkt_free(rpkt_t *e) {
  sio__refbuf_unref(e->text);
  for (uint32_t i = 0; i < e->natt; i++) sio__refbuf_unref(e->att[i]);
  sio__free(e);
}

/* Drops the oldest packet; everything up to it is gone for recovery. */
static void evict_head(sio__recovery_t *rec) {
  rpkt_t *e = rec->head;
  rec->head = e->next;
  if (rec->head == NULL) rec->tail = NULL;
  sio__tnode_disarm(&e->age);
  rec->bytes -= e->bytes;
  rec->low = e->seq + 1;
  pkt_free(e);
}

/* The oldest packet outlived the window (the list keeps deadlines in FIFO order, so it
 * is the head; the loop only guards that invariant). */
static void pkt_expired(sio__tnode_t *n) {
  rpkt_t *e = sio__container_of(n, rpkt_t, age);
  sio__recovery_t *rec = e->ns->io->rec;
  while (rec->head != NULL && rec->head != e) evict_head(rec);
  if (rec->head == e) evict_head(rec);
}

static char **pkt_names(rpkt_t *e) { return (char **)(void *)(e->att + e->natt); }

/* Copies names[0..n) behind the pointers at *ptrs, text at *w. */
static void copy_names(const char *const *names, size_t n, char ***ptrs, char **w) {
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(names[i]) + 1;
    (*ptrs)[i] = memcpy(*w, names[i], len);
    *w += len;
  }
  *ptrs += n;
}

/* Appends the packet seq (text + args' attachments, referenced) with its selection. */
static int store(sio__recovery_t *rec, sio_ns_t *ns, const sio_broadcast_opts_t *to, uint64_t seq,
                 sio__refbuf_t *text, const sio_args_t *args) {
  uint32_t natt = args ? args->natt : 0;
  size_t nrooms = to ? to->nrooms : 0, nexcept = to ? to->nexcept : 0, names = 0;
  for (size_t i = 0; i < nrooms; i++) names += strlen(to->rooms[i]) + 1;
  for (size_t i = 0; i < nexcept; i++) names += strlen(to->except[i]) + 1;
  size_t size = sizeof(rpkt_t) + natt * sizeof(sio__refbuf_t *) + (nrooms + nexcept) * sizeof(char *) + names;
  rpkt_t *e = sio__malloc(size);
  if (e == NULL) return SIO_ENOMEM;
  *e = (rpkt_t){.seq = seq, .ns = ns, .text = sio__refbuf_ref(text), .natt = natt,
                .nrooms = (uint32_t)nrooms, .nexcept = (uint32_t)nexcept};
  e->bytes = size + refbuf_size(text);
  for (uint32_t i = 0; i < natt; i++) {
    e->att[i] = sio__refbuf_ref(args->att[i]);
    e->bytes += refbuf_size(args->att[i]);
  }
  char **ptrs = pkt_names(e);
  char *w = (char *)(ptrs + nrooms + nexcept);
  if (nrooms) copy_names(to->rooms, nrooms, &ptrs, &w);
  if (nexcept) copy_names(to->except, nexcept, &ptrs, &w);
  sio__tnode_init(&e->age);
  sio__tlist_arm(&rec->pkt_wait, &e->age);
  if (rec->tail) rec->tail->next = e;
  else rec->head = e;
  rec->tail = e;
  rec->bytes += e->bytes;
  /* The cap drops the oldest first, possibly this very packet when it alone is too
   * big: its receivers still got it, only its missers cannot be recovered. */
  while (rec->head && rec->bytes > rec->max_bytes) evict_head(rec);
  return 0;
}

/* '"' + tag + seq in hex + '"', the JSON text of the offset. Returns its length. */
static size_t offset_json(const sio__recovery_t *rec, uint64_t seq, char out[2 + TAG_LEN + 16]) {
  static const char hex[] = "0123456789abcdef";
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = hex[seq & 15];
    seq >>= 4;
  } while (seq);
  out[0] = '"';
  memcpy(out + 1, rec->tag, TAG_LEN);
  for (size_t i = 0; i < n; i++) out[1 + TAG_LEN + i] = digits[n - 1 - i];
  out[1 + TAG_LEN + n] = '"';
  return 2 + TAG_LEN + n;
}

/* Parses an offset of ours into *seq; 0 for anything else. */
static int offset_parse(const sio__recovery_t *rec, const char *s, size_t len, uint64_t *seq) {
  if (len <= TAG_LEN || len > TAG_LEN + 16 || memcmp(s, rec->tag, TAG_LEN) != 0) return 0;
  uint64_t v = 0;
  for (size_t i = TAG_LEN; i < len; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return 0;
    v = v << 4 | (uint64_t)d;
  }
  *seq = v;
  return 1;
}

int sio__recovery_encode(sio_ns_t *ns, const sio_broadcast_opts_t *to, const char *event, const sio_args_t *args,
                         sio__refbuf_t **text) {
  sio__recovery_t *rec = ns->io->rec;
  uint64_t seq = rec->next_seq;
  char off[2 + TAG_LEN + 16];
  size_t n = offset_json(rec, seq, off);
  int r = sio__encode_event_tail(ns->io->opts.parser, ns->name, event, args, (sio_str_t){off, n}, text);
  if (r) return r;
  rec->next_seq++;
  if (store(rec, ns, to, seq, *text, args) != 0) {
    /* A hole: whoever misses this packet must not be recovered past it, and what came
     * before it can no longer serve anyone: drop it too. */
    while (rec->head) evict_head(rec);
    rec->low = seq + 1;
    SIO_LOGW("socket.io: out of memory storing a packet for connection-state recovery; clients that miss it "
             "will reconnect as new sockets");
  }
  return 0;
}

/* 1 when one of s's rooms is among names[0..n). */
static int in_any(const sio_socket_t *s, char *const *names, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    size_t len = strlen(names[i]);
    for (uint32_t k = 0; k < s->nrooms; k++) {
      const sio__room_t *r = s->rooms[k].r;
      if (r->len == len && memcmp(r->name, names[i], len) == 0) return 1;
    }
  }
  return 0;
}

/* shouldIncludePacket: in one of the rooms (or no rooms: everyone), in none of except. */
static int include(const sio_socket_t *s, rpkt_t *e) {
  char **names = pkt_names(e);
  return (e->nrooms == 0 || in_any(s, names, e->nrooms)) && !in_any(s, names + e->nrooms, e->nexcept);
}

/* ---------------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------------ */

static void sess_free(rsess_t *ss) {
  sio__free(ss->data_json);
  sio__free(ss);
}

/* Takes ss out of the map and its timer list (it is then the caller's). */
static void sess_take(sio__recovery_t *rec, rsess_t *ss) {
  sio__map_del(&rec->sessions, ss->pid, SIO__SID_LEN);
  sio__tnode_disarm(&ss->expire);
}

static void sess_expired(sio__tnode_t *n) {
  rsess_t *ss = sio__container_of(n, rsess_t, expire);
  sio__recovery_t *rec = ss->ns->io->rec;
  sio__map_del(&rec->sessions, ss->pid, SIO__SID_LEN);
  sess_free(ss);
}

/* socket.ts RECOVERABLE_DISCONNECT_REASONS. */
static int recoverable(const char *reason) {
  static const char *const reasons[] = {"transport error",      "transport close",    "forced close",
                                        "ping timeout",         "server shutting down", "forced server close"};
  for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
    if (strcmp(reason, reasons[i]) == 0) return 1;
  return 0;
}

void sio__recovery_persist(sio_socket_t *s, const char *reason) {
  sio__recovery_t *rec = s->ns->io->rec;
  if (rec == NULL || s->rec == NULL || !recoverable(reason)) return;
  if (sio__recovery_remote(s->ns)) {
    sio__recovery_persist_remote(s);
    return;
  }
  /* The pid is used once (sio__recovery_restore takes its session), but be safe. */
  rsess_t *old = sio__map_get(&rec->sessions, s->rec->pid, SIO__SID_LEN);
  if (old) {
    sess_take(rec, old);
    sess_free(old);
  }
  /* Oldest first: the timer list is in deadline order, which is persist order. */
  while (sio__map_size(&rec->sessions) >= rec->max_sessions && !sio__list_empty(&rec->sess_wait.head)) {
    rsess_t *oldest = sio__container_of(rec->sess_wait.head.next, rsess_t, expire.link);
    sess_take(rec, oldest);
    sess_free(oldest);
  }
  size_t names = 0;
  for (uint32_t i = 0; i < s->nrooms; i++) names += s->rooms[i].r->len + 1;
  rsess_t *ss = sio__malloc(sizeof *ss + s->nrooms * sizeof(char *) + names);
  char *data = s->data_json ? sio__strdup(s->data_json) : NULL;
  if (ss == NULL || (s->data_json && data == NULL)) goto oom;
  *ss = (rsess_t){.ns = s->ns, .data_json = data, .nrooms = s->nrooms};
  memcpy(ss->pid, s->rec->pid, sizeof ss->pid);
  memcpy(ss->sid, s->id, sizeof ss->sid);
  char *w = (char *)(ss->rooms + s->nrooms);
  for (uint32_t i = 0; i < s->nrooms; i++) {
    const sio__room_t *r = s->rooms[i].r;
    ss->rooms[i] = memcpy(w, r->name, r->len);
    w[r->len] = '\0';
    w += r->len + 1;
  }
  if (sio__map_put(&rec->sessions, ss->pid, SIO__SID_LEN, ss) != 0) goto oom;
  sio__tnode_init(&ss->expire);
  sio__tlist_arm(&rec->sess_wait, &ss->expire);
  return;
oom:
  SIO_LOGW("socket.io: out of memory keeping the session of %s: it will reconnect as a new socket", s->id);
  sio__free(data);
  sio__free(ss);
}

/* Joins the session's rooms (its own id room among them). 0, or the first error. */
static int rejoin(sio_socket_t *s, const rsess_t *ss) {
  for (uint32_t i = 0; i < ss->nrooms; i++) {
    int r = sio__adapter_join(s, ss->rooms[i], strlen(ss->rooms[i]));
    if (r) return r;
  }
  return 0;
}

int sio__recovery_restore(sio_socket_t *s, json_t *auth) {
  sio__recovery_t *rec = s->ns->io->rec;
  sio__rsock_t *rs = sio__calloc(1, sizeof *rs);
  if (rs == NULL) return 0;
  if (sio__sid_generate(rs->pid) != 0) {
    sio__free(rs);
    return 0;
  }
  s->rec = rs;
  /* namespace.ts _createSocket: both must be strings. */
  json_t *pid = json_is_object(auth) ? json_object_get(auth, "pid") : NULL;
  json_t *off = json_is_object(auth) ? json_object_get(auth, "offset") : NULL;
  if (!json_is_string(pid) || !json_is_string(off)) return 0;
  SIO__COUNT(s->ns->io->m.recovery_tries++);
  if (sio__recovery_remote(s->ns)) return sio__recovery_restore_remote(s, json_string_value(pid), json_string_value(off));
  rsess_t *ss = sio__map_get(&rec->sessions, json_string_value(pid), json_string_length(pid));
  if (ss == NULL || ss->ns != s->ns) return 0;
  uint64_t deadline = ss->expire.deadline;
  sess_take(rec, ss);
  uint64_t seq;
  /* The deadline too: the hub's timer may not have run yet in a busy loop turn. */
  int ok = deadline > uv_now(rec->loop) &&
           offset_parse(rec, json_string_value(off), json_string_length(off), &seq) && seq < rec->next_seq &&
           seq + 1 >= rec->low && sio__map_get(&s->ns->sockets, ss->sid, SIO__SID_LEN) == NULL;
  if (ok) {
    memcpy(s->id, ss->sid, sizeof s->id);
    if (rejoin(s, ss) != 0) {
      /* Half the rooms would be a silent gap: start over as a new socket. */
      sio__adapter_leave_all(s);
      ok = 0;
      if (sio__sid_generate(s->id) != 0) SIO_LOGW("socket.io: no random id for %s, it keeps its old one", s->id);
    }
  }
  if (ok) {
    memcpy(rs->pid, ss->pid, sizeof rs->pid);
    sio__free(s->data_json);
    s->data_json = ss->data_json;
    ss->data_json = NULL;
    rs->recovered = 1;
    rs->from_seq = seq;
    SIO_LOGD("socket.io: %s recovered in %s from offset %llu", s->id, s->ns->name, (unsigned long long)seq);
  }
  sess_free(ss);
  return ok;
}

/* Sends every stored packet after s's offset that its rooms select, in order. */
/* Sends the missed packets; an error stops it (the caller closes: never a gap). */
static int replay(sio_socket_t *s) {
  sio__recovery_t *rec = s->ns->io->rec;
  for (rpkt_t *e = rec->head; e; e = e->next) {
    if (e->seq <= s->rec->from_seq || e->ns != s->ns || !include(s, e)) continue;
    int r = s->client ? sio__client_send(s->client, e->text, e->att, e->natt, 0) : SIO_ECLOSED;
    if (r != 0) return r;
  }
  return 0;
}

int sio__recovery_accept(sio_socket_t *s) {
  sio__recovery_t *rec = s->ns->io->rec;
  sio__rsock_t *rs = s->rec;
  if (rs->recovered && !rs->remote && rs->from_seq + 1 < rec->low) {
    /* Dropped while the middlewares ran: a new pid tells the client it lost state. */
    rs->recovered = 0;
    if (sio__sid_generate(rs->pid) != 0) memset(rs->pid, 'A', SIO__SID_LEN);
  }
  /* socket.ts: the missed packets are written in the constructor, before the CONNECT
   * answer; the client buffers them and emits them right after "connect". */
  int r = rs->recovered ? (rs->remote ? sio__recovery_replay_remote(s) : replay(s)) : 0;
  if (r != 0) return r;
  char text[sizeof "{\"sid\":\"\",\"pid\":\"\"}" + 2 * SIO__SID_LEN];
  size_t n = (size_t)snprintf(text, sizeof text, "{\"sid\":\"%s\",\"pid\":\"%s\"}", s->id, rs->pid);
  sio__raw_t raw = {text, n, NULL, 0, NULL};
  sio__packet_t p = {SIO__PKT_CONNECT, s->ns->name, -1, NULL, NULL, 0, 0, &raw};
  sio__refbuf_t *rb;
  if (s->client == NULL) return SIO_ECLOSED;
  if ((r = sio__encode_packet(s->ns->io->opts.parser, &p, &rb)) != 0) return r;
  r = sio__client_send(s->client, rb, NULL, 0, 0);
  sio__refbuf_unref(rb);
  return r;
}

void sio__recovery_socket_free(sio_socket_t *s) {
  if (s->rec) sio__rmissed_free(s->rec->missed);
  sio__free(s->rec);
  s->rec = NULL;
}

int sio_socket_recovered(const sio_socket_t *s) { return s->rec != NULL && s->rec->recovered; }

void sio__recovery_stored(const sio_server_t *io, size_t *bytes, size_t *packets) {
  const sio__recovery_t *rec = io->rec;
  *bytes = rec ? rec->bytes : 0;
  *packets = 0;
  for (const rpkt_t *e = rec ? rec->head : NULL; e; e = e->next) ++*packets;
}

/* ---------------------------------------------------------------------------------
 * Server lifetime
 * ------------------------------------------------------------------------------ */

int sio__recovery_new(sio_server_t *io) {
  sio__recovery_t *rec = sio__calloc(1, sizeof *rec);
  if (rec == NULL) return SIO_ENOMEM;
  char tag[SIO__SID_LEN + 1];
  if (sio__sid_generate(tag) != 0) {
    sio__free(rec);
    return SIO_ENOMEM;
  }
  memcpy(rec->tag, tag, TAG_LEN);
  rec->io = io;
  rec->loop = sio_http_loop(io->http);
  rec->next_seq = 1;
  rec->low = 1;
  rec->max_bytes = io->opts.recovery.max_bytes ? io->opts.recovery.max_bytes : (size_t)16 << 20;
  rec->max_sessions = io->opts.recovery.max_sessions ? io->opts.recovery.max_sessions : 100000;
  uint64_t window = io->opts.recovery.max_disconnection_ms;
  sio__tlist_init(&rec->pkt_wait, sio__http_thub(io->http), window, pkt_expired);
  sio__tlist_init(&rec->sess_wait, sio__http_thub(io->http), window, sess_expired);
  io->rec = rec;
  return 0;
}

void sio__recovery_free(sio_server_t *io) {
  sio__recovery_t *rec = io->rec;
  if (rec == NULL) return;
  while (rec->head) evict_head(rec);
  uint32_t it = 0;
  void *v;
  while (sio__map_next(&rec->sessions, &it, NULL, NULL, &v)) {
    rsess_t *ss = v;
    sio__tnode_disarm(&ss->expire);
    sess_free(ss);
  }
  sio__map_free(&rec->sessions);
  sio__tlist_remove(&rec->pkt_wait);
  sio__tlist_remove(&rec->sess_wait);
  sio__free(rec);
  io->rec = NULL;
}
