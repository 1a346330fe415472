// Three noom nodes (build/tests/sio_cluster_server) on one real redis-server, official
// socket.io-clients connected to different nodes: everything the Socket.IO API offers over
// a selection works across nodes (cases after socket.io-redis-adapter's test/index.ts and
// socketioxide-redis's tests/{broadcast,rooms,sockets}.rs).
//
// Cross-node ordering used to assert "exactly these" without sleeping: a node publishes
// on one Redis connection, and Redis delivers one publisher's messages in order, so after
// a first broadcast from node X has arrived anywhere, X's earlier operations (joins,
// leaves, broadcasts) have been applied there too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, closeClients, connect, missing, once, record, startNode, startRedis, stopNodes, until } from './lib/cluster.mjs';

const skip = missing() || false;
let redis, A, B, C;
let seq = 0;
const room = (what = 'r') => `${what}-${++seq}`;
const sorted = (a) => [...a].sort();

describe('three noom nodes on Redis', { skip }, () => {
  before(async () => {
    redis = await startRedis();
    [A, B, C] = await Promise.all([
      startNode('noom', redis.url, { name: 'A', requestsTimeout: 1000 }),
      startNode('noom', redis.url, { name: 'B', requestsTimeout: 1000 }),
      startNode('noom', redis.url, { name: 'C', requestsTimeout: 1000 }),
    ]);
  });
  after(async () => {
    closeClients();
    await stopNodes(A, B, C);
    if (redis) await redis.stop();
  });

  // A client on each node, all in room r.
  async function trio(r, opts) {
    const [a, b, c] = await Promise.all([connect(A.url, opts), connect(B.url, opts), connect(C.url, opts)]);
    for (const s of [a, b, c]) await call(s, 'join', r);
    return [a, b, c];
  }

  test('serverCount counts every node (PUBSUB NUMSUB of the request channel)', async () => {
    const a = await connect(A.url);
    assert.equal(await call(a, 'server-count'), 3);
  });

  test('a room broadcast from one node reaches the room on every node, binary included', async () => {
    const r = room();
    const [a, b, c] = await trio(r);
    const outsider = await connect(B.url);
    const got = [once(a, 'msg'), once(b, 'msg'), once(c, 'msg')];
    const leaked = record(outsider, 'msg');
    await call(a, 'emit', { event: 'msg', args: ['hi', Buffer.from([1, 2, 3]), { nested: Buffer.from('x') }], to: r });
    for (const [text, bin, obj] of await Promise.all(got)) {
      assert.equal(text, 'hi');
      assert.ok(Buffer.isBuffer(bin));
      assert.deepEqual([...bin], [1, 2, 3]);
      assert.equal(Buffer.from(obj.nested).toString(), 'x');
    }
    // A marker from the same node after the broadcast: the outsider got nothing before it.
    const marker = once(outsider, 'marker');
    await call(a, 'emit', { event: 'marker' });
    await marker;
    assert.deepEqual(leaked, []);
  });

  test('to several rooms: each socket once; except wins over to, on every node', async () => {
    const r1 = room(), r2 = room(), r3 = room();
    const [a, b, c] = await Promise.all([connect(A.url), connect(B.url), connect(C.url)]);
    await call(a, 'join', [r1, r2]);          // in both: must get it once
    await call(b, 'join', [r2, r3]);          // excluded through r3
    await call(c, 'join', r1);
    const seen = { a: record(a, 'multi'), b: record(b, 'multi'), c: record(c, 'multi') };
    await call(c, 'emit', { event: 'multi', args: [1], to: [r1, r2], except: r3 });
    const markers = [a, b, c].map((s) => once(s, 'marker'));
    await call(c, 'emit', { event: 'marker' });
    await Promise.all(markers);
    assert.deepEqual(seen, { a: [[1]], b: [], c: [[1]] });
  });

  test('socket.broadcast leaves the sender out; io.emit reaches every node; namespaces stay apart', async () => {
    const [a, b, c] = await Promise.all([connect(A.url), connect(B.url), connect(C.url)]);
    const other = await connect(`${B.url}/other`);
    const seen = { a: record(a, 'all'), b: record(b, 'all'), c: record(c, 'all'), other: record(other, 'all') };
    await call(a, 'emit', { event: 'all', args: ['from-a'], broadcast: true });
    const markers = [a, b, c].map((s) => once(s, 'marker'));
    await call(a, 'emit', { event: 'marker' });
    await Promise.all(markers);
    assert.deepEqual(seen.a, []);
    assert.deepEqual(seen.b, [['from-a']]);
    assert.deepEqual(seen.c, [['from-a']]);
    // The /other namespace has its own channels: nothing arrived there.
    const otherMarker = once(other, 'marker');
    await call(await connect(`${A.url}/other`), 'emit', { event: 'marker' });
    await otherMarker;
    assert.deepEqual(seen.other, []);
  });

  test('volatile broadcasts cross nodes too (writable WebSocket clients get them)', async () => {
    const r = room();
    const [a, b] = await trio(r);
    const got = once(b, 'vol');
    await call(a, 'emit', { event: 'vol', args: [7], to: r, volatile: true });
    assert.deepEqual(await got, [7]);
  });

  test('emit with acks gathers every node\'s answers; counts wait for each node', async () => {
    const r = room();
    const [a, b, c] = await trio(r);
    a.on('ask', (x, cb) => cb(`a${x}`));
    b.on('ask', (x, cb) => cb(`b${x}`, 'second arg is not carried'));
    c.on('ask', (x, cb) => cb({ c: x, bin: Buffer.from([9]) }));
    const res = await call(b, 'emit-ack', { event: 'ask', args: [1], to: r, timeout: 3000 });
    assert.equal(res.err, null);
    assert.equal(res.responses.length, 3);
    const [objs, strs] = [res.responses.filter((x) => typeof x === 'object'), res.responses.filter((x) => typeof x === 'string')];
    assert.deepEqual(sorted(strs), ['a1', 'b1']);
    assert.equal(objs[0].c, 1);
    assert.deepEqual([...Buffer.from(objs[0].bin)], [9]);
  });

  test('emit with acks times out when a remote client stays silent, keeping the answers so far', async () => {
    const r = room();
    const [a, b, c] = await trio(r);
    a.on('ask', (cb) => cb('a'));
    c.on('ask', (cb) => cb('c'));
    b.on('ask', () => {}); // never answers (the event has no arguments but the ack)
    const t0 = Date.now();
    const res = await call(a, 'emit-ack', { event: 'ask', args: [], to: r, timeout: 500 });
    assert.equal(res.err, 'timeout');
    assert.deepEqual(sorted(res.responses), ['a', 'c']);
    assert.ok(Date.now() - t0 >= 450, 'answered before the timeout');
  });

  test('emit with acks to an empty selection answers at once with nothing', async () => {
    const a = await connect(A.url);
    const res = await call(a, 'emit-ack', { event: 'ask', to: room('empty'), timeout: 3000 });
    assert.deepEqual(res, { err: null, responses: [] });
  });

  test('fetchSockets returns the sockets of every node with rooms, data and handshake', async () => {
    const r = room();
    const [a, b, c] = await Promise.all([
      connect(A.url, { auth: { user: 'ann' } }),
      connect(B.url, { auth: { user: 'bob' }, query: { tag: 'b' } }),
      connect(C.url),
    ]);
    for (const s of [a, b]) await call(s, 'join', r);
    const res = await call(c, 'fetch', { in: r });
    assert.equal(res.err, null);
    const byUser = Object.fromEntries(res.sockets.map((s) => [s.data.user, s]));
    assert.deepEqual(Object.keys(byUser).sort(), ['ann', 'bob']);
    assert.equal(byUser.ann.id, a.id);
    assert.deepEqual(sorted(byUser.ann.rooms), sorted([a.id, r]));
    assert.equal(byUser.ann.data.node, 'A');
    assert.equal(byUser.bob.handshake.query.tag, 'b');
    assert.deepEqual(byUser.bob.handshake.auth, { user: 'bob' });
    assert.equal(byUser.bob.handshake.headers.host, `127.0.0.1:${B.port}`);
    assert.equal(typeof byUser.bob.handshake.issued, 'number');
    assert.equal(byUser.ann.local, false); // asked from C: both are remote
    // except applies on every node; from A, A's socket is local.
    const res2 = await call(a, 'fetch', { in: r, except: b.id });
    assert.deepEqual(res2.sockets.map((s) => [s.id, s.local]), [[a.id, true]]);
  });

  test('socketsJoin / socketsLeave apply on every node', async () => {
    const r = room(), joined = room('joined');
    const [a, b, c] = await trio(r);
    await call(a, 'sockets-join', { in: r, except: c.id, room: joined });
    // A's next broadcast comes after its join request on the same connection.
    const seen = { a: record(a, 'j'), b: record(b, 'j'), c: record(c, 'j') };
    await call(a, 'emit', { event: 'j', to: joined });
    const markers = [a, b, c].map((s) => once(s, 'marker'));
    await call(a, 'emit', { event: 'marker' });
    await Promise.all(markers);
    assert.deepEqual(seen, { a: [[]], b: [[]], c: [] });
    assert.deepEqual(sorted((await call(b, 'whoami')).rooms), sorted([b.id, r, joined]));

    await call(c, 'sockets-leave', { in: joined, room: joined });
    const after2 = { a: record(a, 'j2'), b: record(b, 'j2') };
    await call(c, 'emit', { event: 'j2', to: joined });
    const markers2 = [a, b].map((s) => once(s, 'marker2'));
    await call(c, 'emit', { event: 'marker2' });
    await Promise.all(markers2);
    assert.deepEqual(after2, { a: [], b: [] });
  });

  test('disconnectSockets disconnects the selection on every node', async () => {
    const r = room();
    const [a, b, c] = await trio(r);
    const keep = await connect(B.url);
    const gone = [once(a, 'disconnect'), once(b, 'disconnect'), once(c, 'disconnect')];
    await call(keep, 'disconnect-sockets', { in: r });
    for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
    assert.equal(keep.connected, true);
    // close: the remote client's whole connection goes.
    const d = await connect(C.url);
    const closed = once(d, 'disconnect');
    await call(keep, 'disconnect-sockets', { in: d.id, close: true });
    assert.equal((await closed)[0], 'io server disconnect');
  });

  test('serverSideEmit reaches the other nodes\' handlers, not its own', async () => {
    const [a, b, c] = await Promise.all([connect(A.url), connect(B.url), connect(C.url)]);
    const fromB = until(b, 'hello-from-server', (node) => node === 'B');
    const fromC = until(c, 'hello-from-server', (node) => node === 'C');
    const onA = record(a, 'hello-from-server');
    await call(a, 'server-emit', { event: 'hello', args: [42, { x: 'y' }] });
    assert.deepEqual(await fromB, ['B', 42, { x: 'y' }]);
    assert.deepEqual(await fromC, ['C', 42, { x: 'y' }]);
    // With acks: one answer per OTHER node (A's own handler is not run).
    const res = await call(a, 'server-emit-ack', { event: 'whoareyou' });
    assert.deepEqual({ err: res.err, responses: sorted(res.responses) }, { err: null, responses: ['B', 'C'] });
    assert.deepEqual(onA, []);
  });

  test('serverSideEmit with acks times out (requests timeout) when a node does not answer', async () => {
    const a = await connect(A.url);
    const t0 = Date.now();
    const res = await call(a, 'server-emit-ack', { event: 'mute' });
    assert.deepEqual(res, { err: 'timeout', responses: [] });
    assert.ok(Date.now() - t0 >= 900, 'gave up before requests_timeout_ms');
    assert.match(A.output(), /serverSideEmit on namespace \/ timed out after 1000 ms: 0 of 2 other nodes answered/);
  });

  test('allRooms and allSockets gather every node', async () => {
    const r = room();
    const [a, b, c] = await trio(r);
    const rooms = await call(b, 'all-rooms');
    for (const name of [r, a.id, b.id, c.id]) assert.ok(rooms.names.includes(name), `allRooms lacks ${name}`);
    assert.equal(new Set(rooms.names).size, rooms.names.length, 'duplicates in allRooms');
    const ids = await call(c, 'all-sockets', { in: r });
    assert.deepEqual({ err: ids.err, names: sorted(ids.names) }, { err: null, names: sorted([a.id, b.id, c.id]) });
  });

  test('a polling client on one node and a WebSocket client on another share a room', async () => {
    const r = room();
    const p = await connect(A.url, { transports: ['polling'] });
    const w = await connect(C.url);
    await call(p, 'join', r);
    await call(w, 'join', r);
    const got = once(p, 'to-poll');
    await call(w, 'emit', { event: 'to-poll', args: ['over polling'], to: r });
    assert.deepEqual(await got, ['over polling']);
  });
});
