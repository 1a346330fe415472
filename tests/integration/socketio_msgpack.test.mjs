// The msgpack parser (socket.io's `parser` option with socket.io-msgpack-parser 3.0.2)
// through socket.io-client 4.8 configured as Node users configure it,
// `parser: require('socket.io-msgpack-parser')`, on build/examples/echo --parser msgpack
// and build/tests/sio_test_server --parser msgpack (NOOM_REF=1: the Node references with
// the same parser, tests/support/ref-sio-echo.mjs and ref-sio-server.mjs).
//
// Every packet is then one msgpack map in one binary Engine.IO message, binary arguments
// inside it as msgpack bin. Checked over each transport: events with strings, numbers,
// nested objects and Buffers, acks both ways, rooms and broadcasts, namespaces, connect
// errors from a middleware, connection-state recovery, and the two parser mismatches
// (closed; on our server also one warning per connection at the default log level).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cuttableProxy } from './lib/proxy.mjs';
import { createRequire } from 'node:module';
import {
  Clients, REF, TRANSPORTS, ask, askAll, connectError, connected, room, skipUnlessBuilt, startServer, waitEvent, within,
} from './lib/sio.mjs';

const require = createRequire(import.meta.url);
const parser = require('socket.io-msgpack-parser');

// Arguments of every JSON kind msgpack carries, and Buffers anywhere in them.
const MIXED = [
  'plain', '', 'unicode: é ✓ 😀 \u0000 end',
  0, 1, -1, 127, 128, -33, 65535, 65536, 2 ** 32, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 0.1, 2.5, -1.5e-7,
  true, false, null,
  { a: 1, b: 'two', c: [1, 2, { d: null, e: [] }], f: {} },
  [[], [[]], { '0': 'index key', z: 'other' }],
  Buffer.from([1, 2, 3]),
  Buffer.alloc(0),
  { nested: Buffer.from('bin in object'), list: [Buffer.from([255]), 'x'] },
];

/** Resolves with 'connect' or the reason the socket did not get there (never waits forever). */
function outcome(socket) {
  return within(new Promise((resolve) => {
    socket.on('connect', () => resolve('connect'));
    socket.on('connect_error', (e) => resolve(`connect_error: ${e.message}`));
    socket.on('disconnect', (r) => resolve(`disconnect: ${r}`));
  }), 8000, 'connect or close');
}

for (const t of TRANSPORTS) {
  describe(`msgpack parser over ${t.name}`, { skip: skipUnlessBuilt('echo') || skipUnlessBuilt('test') }, () => {
    let echo, ctl, clients, tclients;
    before(async () => {
      [echo, ctl] = await Promise.all([startServer('echo', { parser: 'msgpack' }), startServer('test', { parser: 'msgpack' })]);
      clients = new Clients(echo.url, { transports: t.transports, parser });
      tclients = new Clients(ctl.url, { transports: t.transports, parser });
    });
    after(async () => {
      clients?.close();
      tclients?.close();
      await Promise.all([echo?.close(), ctl?.close()]);
    });

    test('auth greeting, then events with strings, numbers, nested objects and Buffers come back unchanged', async () => {
      const s = clients.socket('/', { auth: { token: 'abc', n: 1, list: [1.5, null, { x: true }] } });
      const [auth] = await s.rec.take('auth');
      assert.deepEqual(auth, { token: 'abc', n: 1, list: [1.5, null, { x: true }] });
      await connected(s);
      s.emit('message', ...MIXED);
      const back = await s.rec.take('message-back');
      assert.deepEqual(back, MIXED);
      assert.ok(Buffer.isBuffer(back[MIXED.length - 3]), 'bin arrives as a Buffer');
      // A large binary next to a large string: one message, no attachments.
      const big = Buffer.alloc(300 * 1024, 7);
      const text = 'y'.repeat(100 * 1024);
      s.emit('message', big, text);
      const [b2, t2] = await s.rec.take('message-back', (x) => Buffer.isBuffer(x) && x.length === big.length);
      assert.ok(b2.equals(big));
      assert.equal(t2, text);
    });

    test('client -> server acks carry every argument, binary included', async () => {
      const s = await clients.connect('/');
      assert.deepEqual(await askAll(s, 'message-with-ack', 'a', { b: [Buffer.from('c')] }, 3), ['a', { b: [Buffer.from('c')] }, 3]);
      assert.deepEqual(await askAll(s, 'message-with-ack'), []);
      const many = await Promise.all(Array.from({ length: 100 }, (_, i) => ask(s, 'echo', { i, bin: Buffer.from([i]) })));
      assert.deepEqual(many, Array.from({ length: 100 }, (_, i) => ({ i, bin: Buffer.from([i]) })));
    });

    test('server -> client acks: the server reads the client\'s answer, Buffers included', async () => {
      const s = tclients.socket('/');
      s.on('question', (x, cb) => cb(x + 1, Buffer.from([x]), { ok: true }));
      await connected(s);
      const r = await ask(s, 'ask', { event: 'question', args: [41], timeout: 3000 });
      assert.deepEqual(r, { err: null, args: [42, Buffer.from([41]), { ok: true }] });
      // No answer: the server's timeout fires and says so.
      const silent = await tclients.connect('/');
      const r2 = await ask(silent, 'ask', { event: 'unanswered', args: [], timeout: 200 });
      assert.equal(r2.err, 'timeout');
    });

    test('rooms and broadcasts: every member but the sender gets the packet once, binary intact', async () => {
      const r = room('mp');
      const [a, b, c, outsider] = await Promise.all([0, 1, 2, 3].map(() => clients.connect('/')));
      for (const s of [a, b, c]) assert.equal(await ask(s, 'join', r), true);
      const msg = { room: r, n: 1, bin: Buffer.from([1, 2]), deep: { list: [Buffer.from('z')] } };
      a.emit('bcast', msg);
      const [[gb], [gc]] = await Promise.all([b.rec.take('bcast'), c.rec.take('bcast')]);
      assert.deepEqual(gb, msg);
      assert.deepEqual(gc, msg);
      // The sender and the outsider got nothing: one more round trip each proves it.
      await Promise.all([ask(a, 'echo', 1), ask(outsider, 'echo', 1)]);
      assert.equal(a.rec.events.filter(([e]) => e === 'bcast').length, 0);
      assert.equal(outsider.rec.events.filter(([e]) => e === 'bcast').length, 0);
      // Server-side broadcast through the test server's operators, to a room.
      const [x, y] = await Promise.all([tclients.connect('/'), tclients.connect('/')]);
      const r2 = room('ops');
      await ask(y, 'join', r2);
      assert.equal(await ask(x, 'do-emit', { event: 'news', to: r2, args: ['hi', Buffer.from([5])] }), true);
      assert.deepEqual(await y.rec.take('news'), ['hi', Buffer.from([5])]);
    });

    test('namespaces: / and /custom multiplexed on one connection; an unknown one is refused', async () => {
      const m = clients.manager();
      const root = clients.on(m, '/');
      const custom = clients.on(m, '/custom');
      await Promise.all([connected(root), connected(custom)]);
      assert.equal(root.io.engine.id, custom.io.engine.id, 'one Engine.IO session');
      assert.deepEqual((await custom.rec.take('auth'))[0], {});
      assert.deepEqual(await askAll(root, 'message-with-ack', 1), [1]);
      const bad = clients.socket('/nope');
      assert.equal((await connectError(bad)).message, 'Invalid namespace');
    });

    test('a namespace middleware refuses: connect_error with its message and data', async () => {
      const s = clients.socket('/custom', { auth: { refuse: 'go away' } });
      const err = await connectError(s);
      assert.equal(err.message, 'go away');
      assert.deepEqual(err.data, { reason: 'refused by middleware' });
      const t2 = tclients.socket('/', { auth: { token: 'bad' } });
      const err2 = await connectError(t2);
      assert.equal(err2.message, 'unauthorized');
      assert.deepEqual(err2.data, { code: 42 });
    });

    test('a server-side disconnect arrives as a DISCONNECT packet', async () => {
      const s = await tclients.connect('/');
      const gone = waitEvent(s, 'disconnect');
      s.emit('disconnect-me', {});
      assert.equal((await gone)[0], 'io server disconnect');
    });
  });
}

// ---- connection-state recovery --------------------------------------------------------

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };

for (const transport of ['websocket', 'polling']) {
  describe(`msgpack parser: connection-state recovery over ${transport}`, { skip: skipUnlessBuilt('echo') }, () => {
    let srv, proxy, direct, viaProxy;
    before(async () => {
      srv = await startServer('echo', { parser: 'msgpack', recoveryMs: 10000, pingInterval: 300, pingTimeout: 300 });
      proxy = cuttableProxy(srv.port);
      const p = await proxy.listen();
      direct = new Clients(srv.url, { transports: [transport], parser });
      viaProxy = new Clients(`http://127.0.0.1:${p}`, { transports: [transport], parser });
    });
    after(async () => {
      direct?.close();
      viaProxy?.close();
      await proxy?.close();
      await srv?.close();
    });

    test('a receiver cut off comes back recovered with every missed message once, in order, offsets as strings', async () => {
      const r = room('mprec');
      const receiver = await connected(viaProxy.socket('/', RECONNECT));
      assert.equal(await ask(receiver, 'join', r), true);
      const id = receiver.id;
      const got = [];
      const offsets = [];
      receiver.on('bcast', (msg, offset) => {
        got.push(msg);
        offsets.push(offset);
      });
      const sender = await direct.connect('/');
      sender.emit('bcast', { room: r, n: -1 });
      await within(new Promise((res) => { const t = setInterval(() => { if (got.length) { clearInterval(t); res(); } }, 10); }));
      assert.equal(typeof offsets[0], 'string', 'a stored packet carries its offset as a last msgpack str');

      const reconnected = waitEvent(receiver, 'connect', { timeout: 10000 });
      proxy.cut();
      const N = 100;
      for (let n = 0; n < N; n++) sender.emit('bcast', n % 10 === 0 ? { room: r, n, bin: Buffer.from([n, 1]) } : { room: r, n });
      assert.equal(await ask(sender, 'echo', 'done'), 'done');
      // The cut lasts past pingInterval + pingTimeout (600 ms): the server must have seen
      // the session die before the client is back (polling notices no cut on its own).
      await new Promise((res) => { setTimeout(res, 1200); });
      proxy.open();
      await reconnected;
      assert.equal(receiver.recovered, true);
      assert.equal(receiver.id, id);
      assert.equal(await ask(receiver, 'recovered'), true);
      sender.emit('bcast', { room: r, n: N });
      await within(new Promise((res) => { const t = setInterval(() => { if (got.length >= N + 2) { clearInterval(t); res(); } }, 10); }), 8000, 'all messages');
      assert.deepEqual(got.map((m) => m.n), Array.from({ length: N + 2 }, (_, i) => i - 1));
      for (const m of got) if (m.n >= 0 && m.n < N && m.n % 10 === 0) assert.deepEqual(m.bin, Buffer.from([m.n, 1]));
      assert.equal(new Set(offsets).size, offsets.length);
    });
  });
}

// ---- parser mismatches ----------------------------------------------------------------

const WARN_MSGPACK = /speaks msgpack \(socket\.io-msgpack-parser\) but this server uses the default parser: start the server with parser msgpack/g;
const WARN_DEFAULT = /speaks the default parser \(text packets\) but this server uses msgpack: configure the client with parser/g;

for (const t of TRANSPORTS) {
  describe(`parser mismatch over ${t.name}`, { skip: skipUnlessBuilt('echo') }, () => {
    let plain, mp;
    before(async () => {
      [plain, mp] = await Promise.all([startServer('echo'), startServer('echo', { parser: 'msgpack' })]);
    });
    after(async () => {
      await Promise.all([plain?.close(), mp?.close()]);
    });

    test('a msgpack client on a default server is closed; the server says what to do, once per connection', async () => {
      const c = new Clients(plain.url, { transports: t.transports, parser });
      try {
        for (let i = 0; i < 2; i++) assert.notEqual(await outcome(c.socket('/')), 'connect');
        if (!REF) {
          await within(new Promise((res) => { const k = setInterval(() => { if ((plain.stderr().match(WARN_MSGPACK) ?? []).length >= 2) { clearInterval(k); res(); } }, 10); }), 5000, 'two warnings');
          assert.equal(plain.stderr().match(WARN_MSGPACK).length, 2, plain.stderr());
        }
        // The server still serves default clients.
        const ok = new Clients(plain.url, { transports: t.transports });
        try {
          assert.deepEqual(await askAll(await ok.connect('/'), 'message-with-ack', 1), [1]);
        } finally {
          ok.close();
        }
      } finally {
        c.close();
      }
    });

    test('a default client on a msgpack server is closed; the server says what to do, once per connection', async () => {
      const c = new Clients(mp.url, { transports: t.transports });
      try {
        for (let i = 0; i < 2; i++) assert.notEqual(await outcome(c.socket('/')), 'connect');
        if (!REF) {
          await within(new Promise((res) => { const k = setInterval(() => { if ((mp.stderr().match(WARN_DEFAULT) ?? []).length >= 2) { clearInterval(k); res(); } }, 10); }), 5000, 'two warnings');
          assert.equal(mp.stderr().match(WARN_DEFAULT).length, 2, mp.stderr());
        }
      } finally {
        c.close();
      }
    });
  });
}

describe('parser mismatch warnings are rate-limited', { skip: REF ? 'our server\'s log' : skipUnlessBuilt('echo') }, () => {
  test('eight mismatching connections in a row: five lines, the rest held back', async () => {
    const srv = await startServer('echo');
    const c = new Clients(srv.url, { transports: ['websocket'], parser });
    try {
      for (let i = 0; i < 8; i++) assert.notEqual(await outcome(c.socket('/')), 'connect');
      // Every close is done by now; a ninth round trip on a good client flushes stderr.
      const ok = new Clients(srv.url, { transports: ['websocket'] });
      await ok.connect('/');
      ok.close();
      assert.equal((srv.stderr().match(WARN_MSGPACK) ?? []).length, 5, srv.stderr());
    } finally {
      c.close();
      await srv.close();
    }
  });
});
