// A mixed fleet: a Node.js socket.io 4.8 server with @socket.io/redis-adapter 8.x
// (tests/support/ref-redis-node.mjs, from tests/node_modules) and a noom node
// (sio_cluster_server) on one Redis, with the same prefix. Clients on each side:
// broadcasts and binary both ways, acks both ways, fetchSockets from the Node side sees
// noom's sockets (and the other way round), socketsJoin / disconnectSockets /
// serverSideEmit / allRooms across the two implementations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, closeClients, connect, missing, once, record, startNode, startRedis, stopNodes, until } from './lib/cluster.mjs';

const skip = missing() || false;
let redis, N, J;
let seq = 0;
const room = () => `mixed-${++seq}`;
const sorted = (a) => [...a].sort();

describe('a noom node and a Node.js node share rooms', { skip }, () => {
  before(async () => {
    redis = await startRedis();
    // A non-default prefix, set on both: the fleet is kept apart by it.
    [N, J] = await Promise.all([
      startNode('noom', redis.url, { name: 'noom', prefix: 'fleet', requestsTimeout: 2000 }),
      startNode('node', redis.url, { name: 'node', prefix: 'fleet', requestsTimeout: 2000 }),
    ]);
  });
  after(async () => {
    closeClients();
    await stopNodes(N, J);
    if (redis) await redis.stop();
  });

  // n on the noom node, j on the Node node, both in room r.
  async function pair(r, opts = {}) {
    const [n, j] = await Promise.all([connect(N.url, opts.n), connect(J.url, opts.j)]);
    await call(n, 'join', r);
    await call(j, 'join', r);
    return [n, j];
  }

  test('both sides count two servers', async () => {
    const [n, j] = await pair(room());
    assert.equal(await call(n, 'server-count'), 2);
    assert.equal(await call(j, 'server-count'), 2);
  });

  test('broadcasts with binary go both ways and arrive as Buffers', async () => {
    const r = room();
    const [n, j] = await pair(r);
    const toJ = once(j, 'bin');
    await call(n, 'emit', { event: 'bin', args: ['from noom', Buffer.from([0, 255, 7]), { deep: [Buffer.from('ab')] }], to: r });
    const [t1, b1, o1] = await toJ;
    assert.equal(t1, 'from noom');
    assert.ok(Buffer.isBuffer(b1));
    assert.deepEqual([...b1], [0, 255, 7]);
    assert.equal(Buffer.from(o1.deep[0]).toString(), 'ab');

    const toN = once(n, 'bin');
    await call(j, 'emit', { event: 'bin', args: ['from node', Buffer.from([1, 2, 3]), 1.5, null, { a: [true] }], to: r });
    const [t2, b2, ...rest] = await toN;
    assert.equal(t2, 'from node');
    assert.ok(Buffer.isBuffer(b2));
    assert.deepEqual([...b2], [1, 2, 3]);
    assert.deepEqual(rest, [1.5, null, { a: [true] }]);
  });

  test('except and socket.broadcast work across the two implementations', async () => {
    const r = room();
    const [n, j] = await pair(r);
    const n2 = await connect(N.url);
    await call(n2, 'join', [r, 'quiet']);
    const seen = { n: record(n, 'x'), n2: record(n2, 'x'), j: record(j, 'x') };
    await call(j, 'emit', { event: 'x', to: r, except: 'quiet', broadcast: true });
    const markers = [n, n2].map((s) => once(s, 'marker'));
    await call(j, 'emit', { event: 'marker' });
    await Promise.all(markers);
    assert.deepEqual(seen, { n: [[]], n2: [], j: [] });
  });

  test('acks both ways: each side waits for the other side\'s clients', async () => {
    const r = room();
    const [n, j] = await pair(r);
    n.on('ask', (x, cb) => cb(`noom:${x}`));
    j.on('ask', (x, cb) => cb(`node:${x}`));
    const fromJ = await call(j, 'emit-ack', { event: 'ask', args: [1], to: r, timeout: 3000 });
    assert.deepEqual({ err: fromJ.err, responses: sorted(fromJ.responses) }, { err: null, responses: ['node:1', 'noom:1'] });
    const fromN = await call(n, 'emit-ack', { event: 'ask', args: [2], to: r, timeout: 3000 });
    assert.deepEqual({ err: fromN.err, responses: sorted(fromN.responses) }, { err: null, responses: ['node:2', 'noom:2'] });
  });

  test('fetchSockets from the Node side sees noom\'s sockets, and the other way round', async () => {
    const r = room();
    const [n, j] = await pair(r, { n: { auth: { user: 'nina' } }, j: { auth: { user: 'jo' } } });
    const fromJ = await call(j, 'fetch', { in: r });
    assert.equal(fromJ.err, null);
    const nina = fromJ.sockets.find((s) => s.id === n.id);
    assert.ok(nina, 'noom socket missing from the Node fetch');
    assert.equal(nina.local, false);
    assert.deepEqual(nina.data, { node: 'noom', user: 'nina' });
    assert.deepEqual(sorted(nina.rooms), sorted([n.id, r]));
    assert.deepEqual(nina.handshake.auth, { user: 'nina' });
    assert.equal(nina.handshake.headers.host, `127.0.0.1:${N.port}`);
    assert.equal(nina.handshake.query.EIO, '4');

    const fromN = await call(n, 'fetch', { in: r });
    const jo = fromN.sockets.find((s) => s.id === j.id);
    assert.ok(jo, 'Node socket missing from the noom fetch');
    assert.deepEqual(jo.data, { node: 'node', user: 'jo' });
    assert.deepEqual(jo.handshake.auth, { user: 'jo' });
    assert.equal(fromN.sockets.find((s) => s.id === n.id).local, true);
  });

  test('socketsJoin from the Node side moves noom sockets; disconnectSockets from noom reaches Node clients', async () => {
    const r = room(), joined = room();
    const [n, j] = await pair(r);
    await call(j, 'sockets-join', { in: r, room: joined });
    const got = once(n, 'in-joined');
    await call(j, 'emit', { event: 'in-joined', to: joined });
    await got;
    assert.ok((await call(n, 'whoami')).rooms.includes(joined));

    const gone = once(j, 'disconnect');
    await call(n, 'disconnect-sockets', { in: j.id });
    assert.equal((await gone)[0], 'io server disconnect');
  });

  test('serverSideEmit both ways, with and without acks', async () => {
    const [n, j] = await pair(room());
    const atJ = until(j, 'hello-from-server', (node) => node === 'node');
    await call(n, 'server-emit', { event: 'hello', args: ['hi', 2] });
    assert.deepEqual(await atJ, ['node', 'hi', 2]);
    const atN = until(n, 'hello-from-server', (node) => node === 'noom');
    await call(j, 'server-emit', { event: 'hello', args: [{ k: 'v' }] });
    assert.deepEqual(await atN, ['noom', { k: 'v' }]);

    assert.deepEqual(await call(n, 'server-emit-ack', { event: 'whoareyou' }), { err: null, responses: ['node'] });
    assert.deepEqual(await call(j, 'server-emit-ack', { event: 'whoareyou' }), { err: null, responses: ['noom'] });
  });

  test('allRooms from either side lists both sides\' rooms', async () => {
    const r = room();
    const [n, j] = await pair(r);
    for (const s of [n, j]) {
      const { err, names } = await call(s, 'all-rooms');
      assert.equal(err, null);
      for (const name of [r, n.id, j.id]) assert.ok(names.includes(name), `missing ${name}`);
    }
    // allSockets from noom asks the Node side too (request type 0).
    const ids = await call(n, 'all-sockets', { in: r });
    assert.deepEqual(sorted(ids.names), sorted([n.id, j.id]));
  });

  test('a fleet with another prefix is another world', async () => {
    const other = await startNode('noom', redis.url, { name: 'other', prefix: 'elsewhere' });
    try {
      const o = await connect(other.url);
      assert.equal(await call(o, 'server-count'), 1);
      const j = await connect(J.url);
      assert.equal(await call(j, 'server-count'), 2);
    } finally {
      await other.stop();
    }
  });
});
