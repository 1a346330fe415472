/*
 * A Socket.IO client: one Engine.IO session carrying sockets of one or more namespaces
 * (socket.io lib/client.ts). Decodes packets (reassembling binary attachments), routes
 * them to the namespace's socket, closes sessions that join no namespace within
 * connectTimeout, and writes encoded packets (text + attachments) to the session.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sio/sio.h"

sio__client_t *sio__client_new(sio_server_t *io, sio_eio_t *eio) {
  sio__client_t *c = sio__calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->io = io;
  c->eio = eio;
  c->refs = 1;
  c->socks = &c->sock1;
  sio__decoder_init(&c->dec);
  sio__tnode_init(&c->connect_to);
  sio__tlist_arm(&io->connect_wait, &c->connect_to);
  sio_eio_set_data(eio, c);
  return c;
}

void sio__client_unref(sio__client_t *c) {
  if (--c->refs > 0) return;
  sio__decoder_free(&c->dec);
  if (c->socks != &c->sock1) sio__free(c->socks);
  sio__free(c);
}

void sio__client_connect_overdue(sio__tnode_t *n) {
  sio__client_t *c = sio__container_of(n, sio__client_t, connect_to);
  if (c->nsocks == 0 && c->eio) {
    SIO_LOGD("socket.io: session %s joined no namespace in time, closing", sio_eio_id(c->eio));
    sio__client_close(c, "forced close");
  }
}

int sio__client_send(sio__client_t *c, sio__refbuf_t *text, sio__refbuf_t *const *att, uint32_t natt, int flags) {
  if (c->eio == NULL) return SIO_ECLOSED;
  /* socket.io's volatile flag: dropped (not queued) when the transport cannot write now. */
  if ((flags & SIO_BCAST_VOLATILE) && !sio__eio_writable(c->eio)) return SIO__COUNT(c->io->m.volatile_drops++), 0;
  /* socket.io's compress(false): no permessage-deflate for these packets. */
  int nc = flags & SIO_BCAST_NO_COMPRESS ? SIO__EIO_SEND_NO_COMPRESS : 0;
  if (flags & SIO__SEND_SHARED) nc |= SIO__EIO_SEND_SHARED;
  /* msgpack: one binary message, the binary parts inside (the args' att were encoded). */
  if (c->io->opts.parser == SIO_PARSER_MSGPACK) {
    int r = sio__eio_send_ref(c->eio, text, SIO__EIO_SEND_BINARY | nc);
    if (r == 0) SIO__COUNT(c->io->m.packets_out++, c->io->m.bytes_out += text->len);
    return r;
  }
  if (natt > 0) {
    /* All parts or none: a header whose attachments were refused would leave the
     * client waiting for them. (WebSocket frame headers: 14 bytes at most each.) */
    size_t len = text->len + 14;
    for (uint32_t i = 0; i < natt; i++) len += att[i]->len + 14;
    int r = sio__eio_check_room(c->eio, len);
    if (r) return r;
  }
  int r = sio__eio_send_ref(c->eio, text, nc);
  for (uint32_t i = 0; i < natt && r == 0; i++) r = sio__eio_send_ref(c->eio, att[i], SIO__EIO_SEND_BINARY | nc);
  if (r == 0) SIO__COUNT(c->io->m.packets_out += 1 + natt, c->io->m.bytes_out += sio__m_size(text, att, natt));
  return r;
}

void sio__client_on_upgrade(sio__client_t *c) {
  sio_server_t *io = c->io;
  c->refs++;
  for (uint32_t i = 0; i < c->nsocks; i++) {
    sio_socket_t *s = c->socks[i];
    if (s->state != SIO__SOCK_CONNECTED) continue;
    for (uint8_t k = 0; k < io->nobs; k++) {
      if (io->obs[k].obs->on_upgrade) io->obs[k].obs->on_upgrade(s, io->obs[k].user);
    }
  }
  sio__client_unref(c);
}

/* The last socket of c that is not already in its disconnect sequence (one whose
 * listener got us here finishes on its own), optionally only a connected one. */
static sio_socket_t *next_open(sio__client_t *c, int connected_only) {
  for (uint32_t i = c->nsocks; i-- > 0;) {
    sio_socket_t *s = c->socks[i];
    if (!s->closing && (!connected_only || s->state == SIO__SOCK_CONNECTED)) return s;
  }
  return NULL;
}

void sio__client_close(sio__client_t *c, const char *reason) {
  if (c->eio == NULL) return;
  /* The engine's on_close brings us to sio__client_on_close with its own reason; the
   * sockets get socket.io's reason for a server-side close first. */
  sio_socket_t *s;
  c->refs++;
  c->closing = 1;
  while ((s = next_open(c, 0)) != NULL) sio__socket_onclose(s, reason);
  /* Packets queued by the sockets' last moments (DISCONNECT, acks) go out first. */
  if (c->eio) sio__eio_close_graceful(c->eio);
  sio__client_unref(c);
}

void sio__client_disconnect_all(sio__client_t *c) {
  /* socket.io Client._disconnect: each connected socket gets its DISCONNECT and leaves
   * with "server namespace disconnect"; then the connection closes, after those packets
   * (sockets still in their middlewares get "forced server close"). */
  sio_socket_t *s;
  c->refs++;
  while (c->eio && (s = next_open(c, 1)) != NULL) sio__socket_server_disconnect(s);
  sio__client_close(c, "forced server close");
  sio__client_unref(c);
}

void sio__client_fire_conn(sio__client_t *c, int ev, const sio_conn_info_t *info) {
  if (!(c->conn_evs & (1u << ev))) return;
  /* A listener may disconnect sockets (the array shrinks): the index is re-checked, and
   * each socket is referenced while its listeners run. */
  c->refs++;
  for (uint32_t i = 0; i < c->nsocks; i++) {
    sio_socket_t *s = sio_socket_ref(c->socks[i]);
    sio__socket_fire_conn(s, ev, info);
    sio_socket_unref(s);
  }
  sio__client_unref(c);
}

void sio__client_on_close(sio__client_t *c, const char *reason) {
  sio__tnode_disarm(&c->connect_to);
  sio_conn_info_t info = {NULL, NULL, 0, {NULL, 0}, reason};
  sio__client_fire_conn(c, SIO_CONN_CLOSE, &info);
  c->refs++;
  sio_socket_t *s;
  while ((s = next_open(c, 0)) != NULL) sio__socket_onclose(s, reason);
  if (c->eio) sio_eio_set_data(c->eio, NULL);
  c->eio = NULL;
  c->refs--;
  sio__client_unref(c);
}

int sio__client_add(sio__client_t *c, sio_socket_t *s) {
  uint32_t n = c->nsocks;
  if (n == SIO__CLIENT_MAX_SOCKS) return SIO_ELIMIT;
  /* The capacity is implicit: 1 while inline; on the heap at least 2 and at least the
   * power of two at or above nsocks (remove only shrinks nsocks), so the array can only
   * be full when nsocks is a power of two >= 2. */
  if (c->socks == &c->sock1 ? n == 1 : n >= 2 && (n & (n - 1)) == 0) {
    sio_socket_t **arr = sio__malloc(n * 2 * sizeof *arr);
    if (arr == NULL) return SIO_ENOMEM;
    memcpy(arr, c->socks, n * sizeof *arr);
    if (c->socks != &c->sock1) sio__free(c->socks);
    c->socks = arr;
  }
  c->socks[c->nsocks++] = s;
  return 0;
}

void sio__client_remove(sio__client_t *c, sio_socket_t *s) {
  for (uint32_t i = 0; i < c->nsocks; i++) {
    if (c->socks[i] == s) {
      c->socks[i] = c->socks[--c->nsocks];
      return;
    }
  }
}

static sio_socket_t *find_socket(sio__client_t *c, const char *nsp) {
  for (uint32_t i = 0; i < c->nsocks; i++) {
    if (strcmp(c->socks[i]->ns->name, nsp) == 0) return c->socks[i];
  }
  return NULL;
}

static sio_ns_t *resolve_ns(sio_server_t *io, const char *name) {
  sio_ns_t *ns = sio__map_get(&io->nsps, name, strlen(name));
  if (ns) return ns;
  for (size_t i = 0; i < io->ndyn; i++) {
    if (io->dyn[i].match(name, io->dyn[i].user)) {
      ns = sio__ns_new(io, name, io->dyn[i].parent);
      if (ns == NULL) return NULL;
      if (sio__map_put(&io->nsps, ns->name, strlen(ns->name), ns) != 0) {
        sio__ns_free(ns);
        return NULL;
      }
      sio__ns_added(ns);
      return ns;
    }
  }
  return NULL;
}

static void send_connect_error(sio__client_t *c, const char *nsp, const char *message) {
  sio__packet_t p = {SIO__PKT_CONNECT_ERROR, (char *)nsp, -1, json_pack("{s:s}", "message", message), NULL, 0, 0, NULL};
  sio__refbuf_t *text = NULL;
  int r = p.data ? sio__encode_packet(c->io->opts.parser, &p, &text) : SIO_ENOMEM;
  if (r == 0) r = sio__client_send(c, text, NULL, 0, 0);
  sio__refbuf_unref(text);
  json_decref(p.data);
  /* Out of memory: the client would wait for an answer; closing tells it something. */
  if (r == SIO_ENOMEM) sio__client_close(c, "transport error");
}

static void handle_packet(sio__client_t *c, sio__packet_t *p) {
  sio_socket_t *s = find_socket(c, p->nsp);
  if (p->type == SIO__PKT_CONNECT) {
    if (s != NULL) {
      SIO_LOGD("socket.io: duplicate CONNECT to %s ignored", p->nsp);
      return;
    }
    sio_ns_t *ns = resolve_ns(c->io, p->nsp);
    if (ns == NULL) {
      SIO__COUNT(c->io->m.bad_namespace++);
      send_connect_error(c, p->nsp, "Invalid namespace");
      return;
    }
    sio__ns_connect(ns, c, p->data);
    return;
  }
  if (s == NULL || p->type == SIO__PKT_CONNECT_ERROR) {
    /* socket.io: a packet for a namespace the client has not joined is invalid state. */
    SIO_LOGD("socket.io: packet type %d for unjoined namespace %s, closing", p->type, p->nsp);
    sio__client_close(c, "parse error");
    return;
  }
  if (s->state != SIO__SOCK_CONNECTED) return; /* middlewares still running: drop */
  sio__socket_on_packet(s, p);
}

/*
 * A client speaking the other packet encoding gets nowhere (socket.io-client reconnects
 * in a loop), so this is said at the default level, once per connection, and at most
 * MISMATCH_BURST times per MISMATCH_WINDOW_MS per server (a fleet of misconfigured
 * clients must not flood the log); the lines held back are counted in the next one.
 */
#define MISMATCH_WINDOW_MS 60000
#define MISMATCH_BURST 5

static void mismatch(sio__client_t *c, int client_msgpack) {
  sio_server_t *io = c->io;
  uint64_t now = uv_now(sio_http_loop(io->http));
  if (io->mismatch_at == 0 || now - io->mismatch_at >= MISMATCH_WINDOW_MS) {
    io->mismatch_at = now ? now : 1;
    io->mismatch_logged = 0;
  }
  if (io->mismatch_logged >= MISMATCH_BURST) {
    io->mismatch_held++;
  } else {
    io->mismatch_logged++;
    char held[64] = "";
    if (io->mismatch_held > 0)
      snprintf(held, sizeof held, " (%u more such connections not logged)", io->mismatch_held);
    io->mismatch_held = 0;
    if (client_msgpack)
      SIO_LOGW("socket.io: session %s speaks msgpack (socket.io-msgpack-parser) but this server uses the default "
               "parser: start the server with parser msgpack (sio_server_opts_t.parser = SIO_PARSER_MSGPACK, "
               "--parser msgpack), or drop the client's parser option; closing the connection%s",
               c->eio ? sio_eio_id(c->eio) : "?", held);
    else
      SIO_LOGW("socket.io: session %s speaks the default parser (text packets) but this server uses msgpack: "
               "configure the client with parser: require(\"socket.io-msgpack-parser\"), or start the server "
               "without parser msgpack; closing the connection%s",
               c->eio ? sio_eio_id(c->eio) : "?", held);
  }
  sio__client_close(c, "parse error");
}

/* The message as a packet of the server's encoding: 0 and *p, SIO_EAGAIN (attachments
 * pending), an error, or MISMATCH when the client speaks the other encoding. */
enum { MISMATCH = 1 };

static int decode(sio__client_t *c, int binary, char *data, size_t len, sio__packet_t **p) {
  if (c->io->opts.parser == SIO_PARSER_MSGPACK) {
    if (!binary) {
      /* A default client's first words are a CONNECT, "0" then maybe "/nsp," or "{". */
      sio__packet_t *q = NULL;
      sio__decoder_t d;
      sio__decoder_init(&d);
      int r = sio__decode_text(&d, data, len, &q);
      sio__packet_free(q);
      sio__decoder_free(&d);
      return r == 0 || r == SIO_EAGAIN ? MISMATCH : SIO_EPROTO;
    }
    return sio__decode_msgpack(&c->dec, data, len, p);
  }
  if (binary) {
    if (c->dec.pending == NULL && sio__looks_msgpack(data, len)) return MISMATCH;
    sio__refbuf_t *rb = sio__refbuf_from(SIO__EIO_HEADROOM, data, len);
    if (rb == NULL) return SIO_ENOMEM;
    return sio__decode_binary(&c->dec, rb, p);
  }
  return sio__decode_text(&c->dec, data, len, p);
}

void sio__client_on_message(sio__client_t *c, int binary, char *data, size_t len) {
  sio__packet_t *p = NULL;
  if (c->closing) return; /* closed on our side, the engine is delivering the last packets */
  SIO__COUNT(c->io->m.packets_in++, c->io->m.bytes_in += len, c->io->m.text_len = binary ? 0 : len);
  int r = decode(c, binary, data, len, &p);
  if (r == SIO_EAGAIN) return;
  if (r == MISMATCH) {
    mismatch(c, binary);
    return;
  }
  if (r != 0) {
    SIO_LOGD("socket.io: session %s sent a malformed packet (%s), closing", c->eio ? sio_eio_id(c->eio) : "?",
             sio_strerror(r));
    sio__client_close(c, "parse error");
    return;
  }
  c->refs++;
  handle_packet(c, p);
  sio__packet_free(p);
  sio__client_unref(c);
}
