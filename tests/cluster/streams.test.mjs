// The Redis Streams adapter (sio_redis_streams_attach), wire-compatible with
// @socket.io/redis-streams-adapter 0.3.1, on a real redis-server started here:
//  - two noom nodes (sio_cluster_server --streams 1) share rooms, broadcasts (binary
//    included), broadcasts with acks, fetchSockets, allRooms, allSockets, serverSideEmit,
//    serverCount, socketsJoin and disconnectSockets; so do a noom node and a Node.js
//    socket.io 4.8 node on @socket.io/redis-streams-adapter (tests/support/ref-streams-node.mjs);
//  - connection-state recovery ACROSS nodes: a socket.io-client 4.8 receiver reaches node
//    X through a TCP proxy this file controls; the proxy is cut for 1.5 s while a sender
//    on X broadcasts 300 numbered messages to the receiver's room and 50 to its id; the
//    proxy then opens towards node Y. The receiver must come back recovered, with its id,
//    its room, and every message exactly once and in order; past the window it comes back
//    as a new socket. Both transports; noom -> noom (build/examples/echo
//    --redis-streams), Node -> noom and noom -> Node;
//  - Redis killed and restarted under running nodes: they reconnect and share again;
//  - build/noom --redis-streams on two nodes: a room, its count and its chat span both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { noOffset } from '../integration/lib/noom.mjs';
import { cuttableProxy } from '../integration/lib/proxy.mjs';
import { assertTraffic, recordTraffic, sendWhileCut } from '../integration/lib/recovery.mjs';
import {
  assertAcrossAgain, call, closeClients, connect, io, missing, once, record, startNode, startRedis,
  startRedisAndTwoNodes, stopAll, stopNodes, trioInRoom, until,
} from './lib/cluster.mjs';

const skip = missing({ binaries: ['tests/sio_cluster_server', 'examples/echo', 'noom'] }) || false;
let seq = 0;
const room = (label = 'xs') => `${label}-${++seq}`;
const sorted = (a) => [...a].sort();
const delay = (ms) => new Promise((res) => { setTimeout(res, ms); });

// The Node adapter starts reading the stream and subscribing in the background after
// its server listens: broadcast from `from` to a room `to` is in until one arrives.
async function shared(from, to) {
  const r = room('warm');
  await call(to, 'join', r);
  for (let i = 0; i < 50; i++) {
    const got = once(to, 'warm', 200).then(() => true, () => false);
    await call(from, 'emit', { event: 'warm', to: r });
    if (await got) return;
  }
  throw new Error('the two nodes never shared a broadcast');
}

// The same with build/examples/echo's contract (join, bcast): works on both kinds.
async function sharedBcast(from, to) {
  const r = room('warm');
  assert.ok(await call(to, 'join', r));
  for (let i = 0; i < 50; i++) {
    const got = once(to, 'bcast', 200).then(() => true, () => false);
    from.emit('bcast', { room: r });
    if (await got) return;
  }
  throw new Error('the two nodes never shared a broadcast');
}

// ---- rooms, broadcasts, acks and queries, for a pair of nodes -------------------------

function fleetSuite(title, kinds) {
  describe(title, { skip }, () => {
    let redis, N, M;
    before(async () => {
      redis = await startRedis();
      [N, M] = await Promise.all(kinds.map((k, i) => startNode(k, redis.url, {
        name: `${k}${i}`, prefix: 'fleet', requestsTimeout: 2000, streams: true,
      })));
      const [n, m] = await Promise.all([connect(N.url), connect(M.url)]);
      await shared(n, m);
      await shared(m, n);
      // serverCount (PUBSUB NUMSUB) sees both once both subscribed.
      for (let i = 0; i < 50 && (await call(m, 'server-count')) < 2; i++) await delay(50);
    });
    after(async () => {
      closeClients();
      await stopNodes(N, M);
      if (redis) await redis.stop();
    });

    async function pair(r, opts = {}) {
      const [n, m] = await Promise.all([connect(N.url, opts.n), connect(M.url, opts.m)]);
      await call(n, 'join', r);
      await call(m, 'join', r);
      return [n, m];
    }

    test('both sides count two servers', async () => {
      const [n, m] = await pair(room());
      assert.equal(await call(n, 'server-count'), 2);
      assert.equal(await call(m, 'server-count'), 2);
    });

    test('broadcasts with binary go both ways', async () => {
      const r = room();
      const [n, m] = await pair(r);
      const toM = once(m, 'bin');
      await call(n, 'emit', { event: 'bin', args: ['from n', Buffer.from([0, 255, 7]), { deep: [Buffer.from('ab')] }], to: r });
      const [t1, b1, o1] = await toM;
      assert.equal(t1, 'from n');
      assert.deepEqual([...b1], [0, 255, 7]);
      assert.equal(Buffer.from(o1.deep[0]).toString(), 'ab');
      const toN = once(n, 'plain');
      await call(m, 'emit', { event: 'plain', args: ['from m', 1.5, null, { a: [true] }], to: r });
      assert.deepEqual(await toN, ['from m', 1.5, null, { a: [true] }]);
    });

    test('except and socket.broadcast work across nodes', async () => {
      const r = room();
      const [n, m] = await pair(r);
      const n2 = await connect(N.url);
      await call(n2, 'join', [r, 'quiet']);
      const seen = { n: record(n, 'x'), n2: record(n2, 'x'), m: record(m, 'x') };
      await call(m, 'emit', { event: 'x', to: r, except: 'quiet', broadcast: true });
      const markers = [n, n2].map((s) => once(s, 'marker'));
      await call(m, 'emit', { event: 'marker', to: r });
      await Promise.all(markers);
      assert.deepEqual(seen, { n: [[]], n2: [], m: [] });
    });

    test('broadcasts with acks wait for the other node\'s clients', async () => {
      const r = room();
      const [n, m] = await pair(r);
      n.on('ask', (x, cb) => cb(`n:${x}`));
      m.on('ask', (x, cb) => cb(`m:${x}`));
      const fromM = await call(m, 'emit-ack', { event: 'ask', args: [1], to: r, timeout: 3000 });
      assert.deepEqual({ err: fromM.err, responses: sorted(fromM.responses) }, { err: null, responses: ['m:1', 'n:1'] });
      const fromN = await call(n, 'emit-ack', { event: 'ask', args: [2], to: r, timeout: 3000 });
      assert.deepEqual({ err: fromN.err, responses: sorted(fromN.responses) }, { err: null, responses: ['m:2', 'n:2'] });
    });

    test('fetchSockets sees the other node\'s sockets with their data and rooms', async () => {
      const r = room();
      const [n, m] = await pair(r, { n: { auth: { user: 'nina' } }, m: { auth: { user: 'mo' } } });
      for (const [s, other, user] of [[m, n, 'nina'], [n, m, 'mo']]) {
        const got = await call(s, 'fetch', { in: r });
        assert.equal(got.err, null);
        const o = got.sockets.find((x) => x.id === other.id);
        assert.ok(o, 'remote socket missing');
        assert.equal(o.local, false);
        assert.equal(o.data.user, user);
        assert.deepEqual(sorted(o.rooms), sorted([other.id, r]));
        assert.deepEqual(o.handshake.auth, { user });
      }
    });

    test('socketsJoin moves the other node\'s sockets; disconnectSockets reaches its clients', async () => {
      const r = room(), joined = room();
      const [n, m] = await pair(r);
      await call(m, 'sockets-join', { in: r, room: joined });
      const got = once(n, 'in-joined');
      await call(m, 'emit', { event: 'in-joined', to: joined });
      await got;
      assert.ok((await call(n, 'whoami')).rooms.includes(joined));
      const gone = once(m, 'disconnect');
      await call(n, 'disconnect-sockets', { in: m.id });
      assert.equal((await gone)[0], 'io server disconnect');
    });

    test('serverSideEmit both ways, with and without acks', async () => {
      const [n, m] = await pair(room());
      const atM = until(m, 'hello-from-server', (node) => node === M.name);
      await call(n, 'server-emit', { event: 'hello', args: ['hi', 2] });
      assert.deepEqual(await atM, [M.name, 'hi', 2]);
      assert.deepEqual(await call(n, 'server-emit-ack', { event: 'whoareyou' }), { err: null, responses: [M.name] });
      assert.deepEqual(await call(m, 'server-emit-ack', { event: 'whoareyou' }), { err: null, responses: [N.name] });
    });

    test('allRooms and allSockets from the noom side list both nodes', async () => {
      const r = room();
      const [n, m] = await pair(r);
      const { err, names } = await call(n, 'all-rooms');
      assert.equal(err, null);
      for (const name of [r, n.id, m.id]) assert.ok(names.includes(name), `missing ${name}`);
      const ids = await call(n, 'all-sockets', { in: r });
      assert.deepEqual(sorted(ids.names), sorted([n.id, m.id]));
    });
  });
}

fleetSuite('streams adapter: two noom nodes share rooms', ['noom', 'noom']);
fleetSuite('streams adapter: a noom node and a Node.js node share rooms', ['noom', 'node']);

// ---- recovery across nodes -------------------------------------------------------------

const BCASTS = 300;
const DMS = 50;
const CUT_MS = 1500;
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };

// Polls until pred() holds (bounded), for counts that build up from many events.
async function eventually(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await delay(10);
  }
}

async function crossNodeRecovery(X, Y, transport) {
  const proxy = cuttableProxy(X.port);
  const port = await proxy.listen();
  const receiver = io(`http://127.0.0.1:${port}`, { forceNew: true, transports: [transport], ...RECONNECT });
  try {
    await once(receiver, 'connect');
    const r = room('rec');
    assert.ok(await call(receiver, 'join', r));
    const id = receiver.id;
    const traffic = recordTraffic(receiver);
    const { bcasts, dms, offsets } = traffic;
    const sender = await connect(X.url, { transports: [transport] });
    sender.emit('bcast', { room: r, n: -1 });
    await eventually(() => bcasts.length === 1, 5000, 'the first broadcast');
    assert.match(offsets[0], /^\d+-\d+$/, 'the offset is a stream entry id');

    const reconnected = once(receiver, 'connect', CUT_MS + 10000);
    proxy.cut();
    sendWhileCut(sender, r, id, BCASTS, DMS);
    assert.equal(await call(sender, 'echo', 'done'), 'done');
    await delay(CUT_MS);
    proxy.open(Y.port); // the receiver comes back on the OTHER node
    await reconnected;
    assert.equal(receiver.recovered, true, 'socket.recovered');
    assert.equal(receiver.id, id, 'the same id');
    assert.equal(await call(receiver, 'recovered'), true, 'the server side reads recovered too');

    sender.emit('bcast', { room: r, n: BCASTS });
    await eventually(() => bcasts.length >= BCASTS + 2 && dms.length >= DMS, 10000, 'every broadcast');
    await call(sender, 'echo', 'flush');
    assertTraffic(traffic, BCASTS, DMS);
  } finally {
    receiver.close();
    await proxy.close();
  }
}

async function pastWindow(X, Y, transport) {
  const proxy = cuttableProxy(X.port);
  const port = await proxy.listen();
  const receiver = io(`http://127.0.0.1:${port}`, { forceNew: true, transports: [transport], ...RECONNECT });
  try {
    await once(receiver, 'connect');
    assert.ok(await call(receiver, 'join', room('late')));
    const id = receiver.id;
    const sender = await connect(X.url);
    const got = once(receiver, 'bcast');
    sender.emit('bcast', { room: id, n: 0 });
    await got;
    const reconnected = once(receiver, 'connect', CUT_MS + 10000);
    proxy.cut();
    await delay(CUT_MS);
    proxy.open(Y.port);
    await reconnected;
    assert.equal(receiver.recovered, false);
    assert.notEqual(receiver.id, id);
    assert.equal(await call(receiver, 'recovered'), false);
  } finally {
    receiver.close();
    await proxy.close();
  }
}

// The restore runs while the sender keeps broadcasting: entries are added between the
// restore's XRANGE and its answer, and the restoring node's reader may hand them over
// first. Every message must still arrive exactly once, in order.
async function recoveryUnderTraffic(X, Y) {
  const proxy = cuttableProxy(X.port);
  const port = await proxy.listen();
  const receiver = io(`http://127.0.0.1:${port}`, { forceNew: true, transports: ['websocket'], ...RECONNECT });
  try {
    await once(receiver, 'connect');
    const r = room('flow');
    assert.ok(await call(receiver, 'join', r));
    const got = [];
    receiver.on('bcast', (msg) => got.push(msg.n));
    const sender = await connect(X.url);
    let n = 0, running = true;
    const pump = (async () => {
      while (running) {
        // About 2000 a second: the 1.5 s cut stays well within the stream's 10,000
        // entries (a client whose offset was trimmed rightly comes back as new).
        for (let i = 0; i < 20; i++) sender.emit('bcast', { room: r, n: n++ });
        await call(sender, 'echo', 'tick');
        await delay(10);
      }
    })();
    await eventually(() => got.length > 50, 5000, 'traffic before the cut');
    const reconnected = once(receiver, 'connect', CUT_MS + 10000);
    proxy.cut();
    await delay(CUT_MS);
    proxy.open(Y.port);
    await reconnected;
    assert.equal(receiver.recovered, true);
    const target = n + 200;
    await eventually(() => n >= target, 10000, 'traffic after the restore');
    running = false;
    await pump;
    const last = n;
    await eventually(() => got.length >= last, 10000, 'every message');
    assert.deepEqual(got, Array.from({ length: last }, (_, i) => i), 'once and in order across the restore');
  } finally {
    receiver.close();
    await proxy.close();
  }
}

describe('streams adapter: connection-state recovery across nodes', { skip }, () => {
  let redis, A, B, SA, SB, J;
  before(async () => {
    redis = await startRedis();
    // The proxy's cut closes both sides, so no node needs a ping to notice it; the short
    // window nodes ping fast for a polling cut that falls between two GETs. The others
    // ping at a pace a loaded machine keeps (a 300 ms timeout there dropped the sender).
    const ping = ['--ping-interval', '300', '--ping-timeout', '300'];
    const calm = ['--ping-interval', '1000', '--ping-timeout', '3000'];
    [A, B, SA, SB, J] = await Promise.all([
      startNode('echo', redis.url, { name: 'A', recoveryMs: 10000, extra: calm }),
      startNode('echo', redis.url, { name: 'B', recoveryMs: 10000, extra: calm }),
      startNode('echo', redis.url, { name: 'SA', recoveryMs: 300, extra: [...ping, '--redis-stream', 'short'] }),
      startNode('echo', redis.url, { name: 'SB', recoveryMs: 300, extra: [...ping, '--redis-stream', 'short'] }),
      startNode('node', redis.url, { name: 'J', recoveryMs: 10000, streams: true, extra: ['--ping-ms', '1000'] }),
    ]);
    const [a, j] = await Promise.all([connect(A.url), connect(J.url)]);
    await sharedBcast(a, j);
    await sharedBcast(j, a);
  });
  after(async () => {
    closeClients();
    await stopNodes(A, B, SA, SB, J);
    if (redis) await redis.stop();
  });

  for (const transport of ['websocket', 'polling']) {
    test(`noom -> other noom node over ${transport}: recovered, same id, every message once and in order`, () =>
      crossNodeRecovery(A, B, transport));
    test(`noom -> other noom node over ${transport}, past the window: a new socket`, () => pastWindow(SA, SB, transport));
    test(`Node.js -> noom over ${transport}: recovered with everything`, () => crossNodeRecovery(J, A, transport));
    test(`noom -> Node.js over ${transport}: recovered with everything`, () => crossNodeRecovery(B, J, transport));
  }
  for (let i = 0; i < 3; i++) {
    test(`noom -> other noom node while the sender keeps broadcasting (${i + 1})`, () => recoveryUnderTraffic(A, B));
    test(`Node.js -> noom while the sender keeps broadcasting (${i + 1})`, () => recoveryUnderTraffic(J, A));
  }
});

// ---- Redis restarted under running nodes -----------------------------------------------

describe('streams adapter: Redis goes away and comes back', { skip }, () => {
  let redis, A, B;
  before(async () => ({ redis, A, B } = await startRedisAndTwoNodes({ streams: true })));
  after(() => stopAll(redis, A, B));

  test('delivery resumes across nodes after a restart, local delivery never stops', async () => {
    const r = 'restart-room';
    const [a, a2, b] = await trioInRoom(A, B, r);

    const [ma, mb] = [A.mark(), B.mark()];
    const port = redis.port;
    await redis.stop('SIGKILL');
    await Promise.all([A.waitFor(/lost Redis at .*local delivery goes on/, 5000, ma), B.waitFor(/lost Redis at/, 5000, mb)]);
    const got = once(a2, 'm');
    await call(a, 'emit', { event: 'm', args: ['during'], to: r });
    assert.deepEqual(await got, ['during']);
    const fetched = await call(a, 'fetch', { in: r });
    assert.equal(fetched.err, 'closed');
    assert.equal(await call(a, 'server-count'), 1);

    redis = await startRedis(port);
    await Promise.all([A.waitFor(/redis streams adapter: reconnected to/, 10000, ma),
      B.waitFor(/redis streams adapter: reconnected to/, 10000, mb)]);
    await assertAcrossAgain([a, a2, b], r);
    assert.equal(A.output().slice(ma).match(/lost Redis/g).length, 1);
  });
});

// ---- the app ----------------------------------------------------------------------------

describe('streams adapter: build/noom --redis-streams on two nodes', { skip }, () => {
  let redis, N1, N2;
  const ack = (s, ...args) => s.timeout(8000).emitWithAck(...args);
  before(async () => {
    redis = await startRedis();
    [N1, N2] = await Promise.all([
      startNode('app', redis.url, { name: 'n1', streams: true }),
      startNode('app', redis.url, { name: 'n2', streams: true }),
    ]);
  });
  after(async () => {
    closeClients();
    await stopNodes(N1, N2);
    if (redis) await redis.stop();
  });

  test('users on different nodes share a room: count and chat both ways', async () => {
    const r = `xs-app-${process.pid}`;
    const [alice, bob] = await Promise.all([connect(N1.url), connect(N2.url)]);
    assert.equal((await ack(alice, 'enter_room', 'alice', r)).count, 1);
    const welcomed = once(alice, 'welcome');
    assert.equal((await ack(bob, 'enter_room', 'bob', r)).count, 2);
    assert.deepEqual(noOffset(await welcomed), ['bob', 2, r]);
    let got = once(alice, 'new_message');
    await ack(bob, 'new_message', 'hello from n2', r);
    assert.deepEqual((await got).slice(0, 2), ['bob: hello from n2', r]);
    got = once(bob, 'new_message');
    await ack(alice, 'new_message', 'hi from n1', r);
    assert.deepEqual((await got).slice(0, 2), ['alice: hi from n1', r]);
  });
});
