/*
 * adapter/redis_streams_codec.h: the wire format of @socket.io/redis-streams-adapter
 * 0.3.x (over socket.io-adapter 2.5's ClusterAdapter) as bytes. Sans-IO: no loop, no
 * Redis; redis_streams.c and fuzz/fuzz_redis_stream.c drive it. docs/redis.md lists it.
 *
 *   stream entry  XADD <stream> MAXLEN ~ <n> * uid <uid> nsp <nsp> type <"3"...> [data <d>]
 *                 d = JSON.stringify(message.data), or, when it holds binary (broadcasts
 *                 and responses only), base64(msgpack(message.data)); readers tell them
 *                 apart by a leading '{'.
 *   pub/sub       msgpack({type, data, uid, nsp}) on <prefix>#<nsp># (requests) and
 *                 <prefix>#<nsp>#<uid># (responses to that node)
 *   session       SET <sessionKeyPrefix><pid> base64(msgpack({sid, pid, rooms, data}))
 *                 PX <window>
 *
 * Values are jansson trees with Socket.IO binary placeholders and refcounted
 * attachments, as in redis_codec.h.
 */
#ifndef SIO_ADAPTER_REDIS_STREAMS_CODEC_H
#define SIO_ADAPTER_REDIS_STREAMS_CODEC_H

#include "adapter/redis_codec.h"
#include "sio/adapter.h"

/* socket.io-adapter's MessageType. */
enum {
  SIO__XS_INITIAL_HEARTBEAT = 1,
  SIO__XS_HEARTBEAT = 2,
  SIO__XS_BROADCAST = 3,
  SIO__XS_SOCKETS_JOIN = 4,
  SIO__XS_SOCKETS_LEAVE = 5,
  SIO__XS_DISCONNECT_SOCKETS = 6,
  SIO__XS_FETCH_SOCKETS = 7,
  SIO__XS_FETCH_SOCKETS_RESPONSE = 8,
  SIO__XS_SERVER_SIDE_EMIT = 9,
  SIO__XS_SERVER_SIDE_EMIT_RESPONSE = 10,
  SIO__XS_BROADCAST_CLIENT_COUNT = 11,
  SIO__XS_BROADCAST_ACK = 12,
  SIO__XS_ADAPTER_CLOSE = 13
};

/* Longest stream entry id text: two 20-digit numbers and a dash. */
#define SIO__XID_MAX 41

/* A stream entry id <ms>-<seq>. */
typedef struct {
  uint64_t ms, seq;
} sio__xid_t;

/* Parses ^[0-9]+-[0-9]+$ (restoreSession's own check) into *out. 0 or SIO_EPROTO (also
 * for numbers above 2^64-1). */
int sio__xid_parse(const char *s, size_t len, sio__xid_t *out);
/* <0, 0, >0 as a is before, equal to, after b. */
int sio__xid_cmp(sio__xid_t a, sio__xid_t b);
/* Writes "<ms>-<seq>" and a NUL into out[SIO__XID_MAX + 1]; returns the length. */
size_t sio__xid_format(sio__xid_t id, char *out);

/* Appends the `data` field for message data (borrowed, placeholders into att): JSON
 * text when natt is 0, else base64 of its msgpack. 0 or SIO_ENOMEM (out restored). */
int sio__xs_encode_data(sio__buf_t *out, const json_t *data, sio__refbuf_t *const *att, uint32_t natt);

/* A stream entry read back. */
typedef struct {
  sio__mp_value_t v;  /* the decoded data (root NULL when the entry had none) */
  sio_str_t uid, nsp; /* borrowed from the fields given to the decoder */
  int type;           /* SIO__XS_* (any integer; callers ignore unknown ones) */
} sio__xs_entry_t;

/*
 * Decodes an entry's field/value pairs fields[0..2n) (borrowed; uid, nsp and type
 * required, data optional, other fields ignored) into *out (free with
 * sio__xs_entry_free; filled on success only). Returns 0, SIO_EPROTO (a required field
 * missing, type not a decimal integer, data neither an object in JSON nor valid base64
 * of a msgpack map), SIO_EJSON, or an sio__mp_decode error.
 */
int sio__xs_decode_entry(const sio_str_t *fields, size_t nfields, sio__xs_entry_t *out);
void sio__xs_entry_free(sio__xs_entry_t *e);

/* Appends msgpack({type, data, uid, nsp}) (data borrowed, may be NULL: left out; its
 * placeholders point into att). 0 or SIO_ENOMEM. */
int sio__xs_encode_message(sio__buf_t *out, int type, const json_t *data, sio__refbuf_t *const *att, uint32_t natt,
                           const char *uid, const char *nsp);
/* Decodes a pub/sub message: a msgpack map whose type is an integer. Returns 0 and *out
 * (free with sio__mp_value_free), an sio__mp_decode error, or SIO_EPROTO. */
int sio__xs_decode_message(const char *buf, size_t len, sio__mp_value_t *out);

/* Appends the session value base64(msgpack({sid, pid, rooms, data})); data_json NULL is
 * written as an empty object (socket.data's default). 0, SIO_EJSON (data_json does not
 * parse), SIO_ENOMEM. */
int sio__xs_encode_session(sio__buf_t *out, const sio_adapter_session_t *s);

/* A session read back: every field borrowed from v except rooms (owned array) and
 * data_json (owned text, NULL when data is absent). */
typedef struct {
  sio__mp_value_t v;
  const char *sid, *pid;
  const char **rooms;
  size_t nrooms;
  char *data_json;
} sio__xs_session_t;

/* Decodes a session value. 0, SIO_EPROTO (not base64 of a map with string sid and pid
 * and an array of string (or number) rooms), an sio__mp_decode error, SIO_ENOMEM. */
int sio__xs_decode_session(const char *b64, size_t len, sio__xs_session_t *out);
void sio__xs_session_free(sio__xs_session_t *s);
/* The session as the adapter hook's view (borrowed from s). */
sio_adapter_session_t sio__xs_session_view(const sio__xs_session_t *s);

#endif
