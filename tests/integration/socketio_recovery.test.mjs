// Connection-state recovery (socket.io 4.6+ connectionStateRecovery) through the official
// socket.io-client 4.8, on build/examples/echo --recovery-ms MS (NOOM_REF=1: Node's
// socket.io 4.8 with connectionStateRecovery, tests/support/ref-sio-echo.mjs).
//
// The receiver reaches the server through a TCP proxy in this file that the test cuts:
// every proxied connection is destroyed on both sides and new ones are refused until the
// proxy opens again. While it is cut, a sender on a direct connection broadcasts
// numbered messages to the receiver's room (some with a binary attachment) and sends it
// direct messages (socket.to(id) on the server: the receiver's own room; a plain
// socket.emit is checked once it is back, and through the "auth" greeting whose offset
// the client keeps). Inside the window the receiver
// must come back with socket.recovered, its id, its room, and every message exactly once
// and in order; past the window it must come back as a new socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Clients, REF, ask, connected, room, skipUnlessBuilt, startServer, waitEvent, within,
} from './lib/sio.mjs';
import { cuttableProxy } from './lib/proxy.mjs';
import { assertTraffic, recordTraffic, sendWhileCut } from './lib/recovery.mjs';

const BCASTS = 300;
const DMS = 50;
const CUT_MS = 1500;

const delay = (ms) => new Promise((res) => { setTimeout(res, ms); });

// Fast, steady reconnection (the default backoff would add seconds at random).
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };

for (const transport of ['websocket', 'polling']) {
  describe(`connection-state recovery over ${transport}`, { skip: skipUnlessBuilt('echo') }, () => {
    let srv, short, proxy, shortProxy, direct, viaProxy, viaShort;
    before(async () => {
      [srv, short] = await Promise.all([
        startServer('echo', { recoveryMs: 10000, pingInterval: 300, pingTimeout: 300 }),
        startServer('echo', { recoveryMs: 300, pingInterval: 300, pingTimeout: 300 }),
      ]);
      proxy = cuttableProxy(srv.port);
      shortProxy = cuttableProxy(short.port);
      const [p, q] = await Promise.all([proxy.listen(), shortProxy.listen()]);
      direct = new Clients(srv.url, { transports: [transport] });
      viaProxy = new Clients(`http://127.0.0.1:${p}`, { transports: [transport] });
      viaShort = new Clients(`http://127.0.0.1:${q}`, { transports: [transport] });
    });
    after(async () => {
      for (const c of [direct, viaProxy, viaShort]) c?.close();
      await Promise.all([proxy?.close(), shortProxy?.close()]);
      await Promise.all([srv?.close(), short?.close()]);
    });

    test('a receiver cut for 1.5 s comes back recovered: same id, room kept, every message once and in order', async () => {
      const r = room('rec');
      const receiver = await connected(viaProxy.socket('/', RECONNECT));
      assert.equal(receiver.recovered, false);
      assert.equal(await ask(receiver, 'join', r), true);
      const id = receiver.id;
      const traffic = recordTraffic(receiver);
      const { bcasts, dms, offsets } = traffic;
      const sender = await direct.connect('/');
      // One message while connected: the receiver holds an offset of the room's stream.
      sender.emit('bcast', { room: r, n: -1 });
      await within(new Promise((res) => { const t = setInterval(() => { if (bcasts.length) { clearInterval(t); res(); } }, 10); }));
      assert.equal(typeof offsets[0], 'string', 'a stored packet carries its offset as a last string argument');

      const reconnected = waitEvent(receiver, 'connect', { timeout: CUT_MS + 8000 });
      proxy.cut();
      sendWhileCut(sender, r, id, BCASTS, DMS);
      assert.equal(await ask(sender, 'echo', 'done'), 'done'); // the server has handled them all
      await delay(CUT_MS);
      proxy.open();
      await reconnected;
      assert.equal(receiver.recovered, true, 'socket.recovered');
      assert.equal(receiver.id, id, 'the same id');
      assert.equal(await ask(receiver, 'recovered'), true, 'the server side reads recovered too');

      // Still in the room: one more broadcast reaches it after the replay.
      sender.emit('bcast', { room: r, n: BCASTS });
      sender.emit('dm', { to: id, n: DMS }); // a plain socket.emit, stored as well
      await within(new Promise((res) => {
        const t = setInterval(() => {
          if (bcasts.length >= BCASTS + 2 && dms.length >= DMS + 1) { clearInterval(t); res(); }
        }, 10);
      }), 8000, 'every broadcast and direct message');
      await ask(sender, 'echo', 'flush');
      assertTraffic(traffic, BCASTS, DMS + 1);
    });

    test('a receiver cut past the window comes back as a new socket (recovered false, new id)', async () => {
      const r = room('late');
      const receiver = await connected(viaShort.socket('/', RECONNECT));
      assert.equal(await ask(receiver, 'join', r), true);
      const id = receiver.id;
      assert.equal(typeof receiver._lastOffset, 'string', 'the auth greeting gave it an offset');
      const reconnected = waitEvent(receiver, 'connect', { timeout: CUT_MS + 8000 });
      shortProxy.cut();
      await delay(CUT_MS);
      shortProxy.open();
      await reconnected;
      assert.equal(receiver.recovered, false);
      assert.notEqual(receiver.id, id);
      assert.equal(await ask(receiver, 'recovered'), false);
    });

    test('a namespace disconnect is not recoverable: reconnecting by hand gives a new socket', async () => {
      const receiver = await connected(direct.socket('/', RECONNECT));
      const id = receiver.id;
      receiver.disconnect();
      receiver.connect();
      await connected(receiver);
      assert.equal(receiver.recovered, false);
      assert.notEqual(receiver.id, id);
    });
  });
}

// The store's byte cap (sio_server_opts_t.recovery.max_bytes; Node has no such bound).
// The server's resident memory is read from /proc: a flood far larger than the cap leaves
// it about where it was, and the receiver that missed the dropped packets comes back as a
// new socket, never with a gap.
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

describe('the packet store under a byte cap', { skip: REF ? 'the reference has no byte cap' : skipUnlessBuilt('echo') }, () => {
  const CAP = 64 * 1024;
  const FLOOD = 6000; // x 2 KiB: 12 MiB sent while the receiver is away
  let srv, proxy, direct, viaProxy;
  before(async () => {
    // Default-ish pings: the cut is seen as a closed TCP connection, and a loaded machine
    // must not time the sender out in the middle of its flood.
    srv = await startServer('echo', { recoveryMs: 60000, recoveryMaxBytes: CAP, pingInterval: 5000, pingTimeout: 20000 });
    proxy = cuttableProxy(srv.port);
    const p = await proxy.listen();
    direct = new Clients(srv.url, { transports: ['websocket'] });
    viaProxy = new Clients(`http://127.0.0.1:${p}`, { transports: ['websocket'] });
  });
  after(async () => {
    for (const c of [direct, viaProxy]) c?.close();
    await proxy?.close();
    await srv?.close();
  });

  test('a flood of broadcasts stays under the cap, and a session that lost packets recovers false', async () => {
    const r = room('cap');
    const receiver = await connected(viaProxy.socket('/', RECONNECT));
    assert.equal(await ask(receiver, 'join', r), true);
    const id = receiver.id;
    const sender = await direct.connect('/');
    const got = [];
    receiver.on('bcast', (msg) => got.push(msg.n));
    sender.emit('bcast', { room: r, n: -1 });
    await within(new Promise((res) => { const t = setInterval(() => { if (got.length) { clearInterval(t); res(); } }, 10); }));
    // Warm the allocator with packets that fit, then measure.
    const pad = 'x'.repeat(2048);
    for (let n = 0; n < 200; n++) sender.emit('bcast', { room: 'nobody', n, pad });
    await ask(sender, 'echo', 'warm');
    const before = rssKiB(srv.proc.pid);

    const reconnected = waitEvent(receiver, 'connect', { timeout: 20000 });
    reconnected.catch(() => {}); // awaited below; a failure before that must not go unhandled
    proxy.cut();
    for (let n = 0; n < FLOOD; n++) sender.emit('bcast', { room: r, n, pad });
    assert.equal(await ask(sender, 'echo', 'done'), 'done');
    const grown = rssKiB(srv.proc.pid) - before;
    assert.ok(grown < 4096, `the server grew by ${grown} KiB for ${FLOOD * 2} KiB of broadcasts under a ${CAP / 1024} KiB cap`);

    proxy.open();
    await reconnected;
    assert.equal(receiver.recovered, false, 'its missed packets were dropped: not recovered');
    assert.notEqual(receiver.id, id);
    assert.deepEqual(got, [-1], 'nothing replayed to a fresh socket');
  });
});
