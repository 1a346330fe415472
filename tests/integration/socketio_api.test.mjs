// Socket.IO v5 integration suite for the server API, against the test server
// (build/tests/sio_test_server, contract 2 in docs/test-server.md) with socket.io-client 4.8:
// namespace middleware (refusal with message + data, socket.data), handshake info, custom and
// dynamic namespaces, server emit-with-ack with timeout (single socket and a room), onAny /
// onAnyOutgoing, server-side disconnect / close / engine drop + client reconnection, and
// the disconnecting event (rooms + reason strings, including "ping timeout").
//
// Run: node --test tests/integration/socketio_api.test.mjs   (NOOM_REF=1: Node reference)
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  Clients, TRANSPORTS, ask, connectError, connected, engineInbox, engineOpen, room, sinceLastMarker,
  skipUnlessBuilt, sorted, startServer, waitEvent,
} from './lib/sio.mjs';

const skip = skipUnlessBuilt('test');

// Client-side handler for a server `ask`: hands the args and the ack callback to `fn`.
function onAsk(socket, event, fn) {
  socket.on(event, (...args) => {
    const cb = args.pop();
    assert.equal(typeof cb, 'function', `${event} carries an ack id`);
    fn(args, cb);
  });
}

describe('socket.io server API', { skip }, () => {
  let srv;
  let fast; // --ping-interval 300 --ping-timeout 200, for the ping-timeout reason
  before(async () => {
    [srv, fast] = await Promise.all([startServer('test'), startServer('test', { pingInterval: 300, pingTimeout: 200 })]);
  });
  after(async () => { await Promise.all([srv?.close(), fast?.close()]); });

  for (const { name, transports } of TRANSPORTS) {
    describe(name, () => {
      let cl;
      beforeEach(() => { cl = new Clients(srv.url, { transports }); });
      afterEach(() => cl.close());

      // A socket in the "watchers" room: the server tells it about every leaver.
      async function watcher(clients = cl) {
        const w = await clients.connect('/');
        await ask(w, 'join', 'watchers');
        return w;
      }
      const leftOf = (w, id) => w.rec.take('left', (info) => info.id === id).then(([info]) => info);

      // ---- middleware, handshake, namespaces ------------------------------------------

      for (const nsp of ['/', '/custom', '/dyn-1']) {
        it(`middleware: auth.token "bad" on ${nsp} -> connect_error "unauthorized" with data {code:42}`, async () => {
          const s = cl.socket(nsp, { auth: { token: 'bad' } });
          const err = await connectError(s);
          assert.equal(err.message, 'unauthorized');
          assert.deepEqual(err.data, { code: 42 });
          assert.equal(s.connected, false);
          const ok = await cl.connect(nsp, { auth: { token: 'good' } });
          assert.deepEqual(await ok.rec.take('auth'), [{ token: 'good' }]);
        });
      }

      it('middleware: a refusal on "/" leaves "/custom" on the same connection connected', async () => {
        const m = cl.manager();
        const bad = cl.on(m, '/', { auth: { token: 'bad' } });
        const good = cl.on(m, '/custom', { auth: { user: 'g' } });
        const [err] = await Promise.all([connectError(bad), connected(good)]);
        assert.equal(err.message, 'unauthorized');
        assert.deepEqual((await ask(good, 'whoami')).data, { user: 'g', nsp: '/custom' });
      });

      it('handshake: whoami reports id, rooms, data, auth, headers, query, address, url, issued', async () => {
        const auth = { user: 'ann', extra: [1, { two: 2 }] };
        const before = Date.now();
        const s = await cl.connect('/', { auth, query: { foo: 'bar', n: '1' }, extraHeaders: { 'X-Noom-Test': 'yes', Cookie: 'a=b; c=d', Authorization: 'Bearer t0k' } });
        const me = await ask(s, 'whoami');
        assert.equal(me.id, s.id);
        assert.equal(me.nsp, '/');
        assert.deepEqual(me.rooms, [s.id]);
        assert.deepEqual(me.data, { user: 'ann', nsp: '/' });
        const h = me.handshake;
        assert.deepEqual(h.auth, auth);
        assert.equal(h.headers['x-noom-test'], 'yes', 'header names are lower-cased');
        assert.equal(h.headers.host, `127.0.0.1:${srv.port}`);
        // Common names are stored as one-byte codes, others as text: both read back.
        assert.equal(h.headers.cookie, 'a=b; c=d');
        assert.equal(h.headers.authorization, 'Bearer t0k');
        assert.ok(Object.keys(h.headers).includes('connection'), Object.keys(h.headers).join());
        assert.equal(h.query.foo, 'bar');
        assert.equal(h.query.n, '1');
        assert.equal(h.query.EIO, '4');
        assert.equal(h.query.transport, transports ? transports[0] : 'polling');
        assert.equal(h.address, '127.0.0.1');
        assert.ok(h.url.startsWith('/socket.io/?'), `url ${h.url}`);
        assert.ok(h.url.includes('foo=bar'), `url ${h.url}`);
        assert.equal(typeof h.issued, 'number');
        assert.ok(h.issued >= before - 2000 && h.issued <= Date.now() + 2000, `issued ${h.issued} is a ms timestamp`);
      });

      it('namespaces: /custom and dynamic /dyn-<digits> connect with their own socket; others are invalid', async () => {
        const custom = await cl.connect('/custom', { auth: { user: 'c' } });
        const dyn = await cl.connect('/dyn-42', { auth: { user: 'd' } });
        assert.deepEqual(await dyn.rec.take('auth'), [{ user: 'd' }]);
        const meC = await ask(custom, 'whoami');
        const meD = await ask(dyn, 'whoami');
        assert.equal(meC.nsp, '/custom');
        assert.equal(meD.nsp, '/dyn-42');
        assert.deepEqual(meD.data, { user: 'd', nsp: '/dyn-42' });
        for (const bad of ['/dyn-', '/dyn-x', '/dyn-1/x', '/DYN-1', '/customer']) {
          assert.equal((await connectError(cl.socket(bad))).message, 'Invalid namespace', bad);
        }
        // Two dynamic children are separate namespaces: an emit to all of one misses the other.
        const dyn7 = await cl.connect('/dyn-7');
        assert.equal(await ask(dyn, 'do-emit', { event: 'only-42', args: [] }), true);
        const [got7] = await sinceLastMarker(dyn7, [dyn7]);
        assert.deepStrictEqual(got7, []);
        const [got42] = await sinceLastMarker(dyn, [dyn]);
        assert.deepStrictEqual(got42, [['only-42']]);
      });

      // ---- server acks ----------------------------------------------------------------

      it('ask: the client acks -> the callback gets the ack args (JSON + binary)', async () => {
        const s = await cl.connect('/');
        const seen = [];
        onAsk(s, 'question', (args, cb) => { seen.push(args); cb('answer', Buffer.from([9, 8]), { n: [1, Buffer.from('z')] }); });
        const res = await ask(s, 'ask', { event: 'question', args: [1, 'two', Buffer.from([3])], timeout: 5000 });
        assert.deepStrictEqual(res, { err: null, args: ['answer', Buffer.from([9, 8]), { n: [1, Buffer.from('z')] }] });
        assert.deepStrictEqual(seen, [[1, 'two', Buffer.from([3])]]);
        assert.equal((await ask(s, 'stats')).callbacks, 1);
      });

      it('ask: 20 concurrent asks each get their own answer', async () => {
        const s = await cl.connect('/');
        onAsk(s, 'q', ([i], cb) => cb(i * 10));
        const res = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(s, 'ask', { event: 'q', args: [i], timeout: 5000 })));
        assert.deepEqual(res, Array.from({ length: 20 }, (_, i) => ({ err: null, args: [i * 10] })));
        assert.equal((await ask(s, 'stats')).callbacks, 20);
      });

      it('ask: no ack -> one timeout error; a late ack does not fire the callback again', async () => {
        const s = await cl.connect('/');
        const held = [];
        onAsk(s, 'silent', (args, cb) => held.push(cb));
        const res = await ask(s, 'ask', { event: 'silent', args: ['x'], timeout: 300 });
        assert.deepStrictEqual(res, { err: 'timeout', args: [] });
        assert.equal(held.length, 1);
        held[0]('too late'); // the server must ignore an ack for an expired id
        const st = await ask(s, 'stats');
        assert.equal(st.callbacks, 1);
        assert.ok(s.connected);
      });

      it('ask-room: acks aggregated over a room; timeout reports the responses that arrived', async () => {
        const ctrl = await cl.connect('/');
        const r = room('acks');
        const members = await Promise.all(['a', 'b', 'c'].map((user) => cl.connect('/', { auth: { user } })));
        await Promise.all(members.map((m) => ask(m, 'join', r)));
        const held = [];
        members.forEach((m, i) => onAsk(m, 'poll', ([mode], cb) => {
          if (mode === 'all' || i < 2) cb(m.auth.user, { extra: 'ignored: only the first arg counts' });
          else held.push(cb);
        }));
        const all = await ask(ctrl, 'ask-room', { to: r, event: 'poll', args: ['all'], timeout: 5000 });
        assert.equal(all.err, null);
        assert.deepEqual(sorted(all.responses), ['a', 'b', 'c']);
        const partial = await ask(ctrl, 'ask-room', { to: r, event: 'poll', args: ['some'], timeout: 300 });
        assert.equal(partial.err, 'timeout');
        assert.deepEqual(sorted(partial.responses), ['a', 'b']);
        held[0]('late');
        const ex = await ask(ctrl, 'ask-room', { to: r, except: members[0].id, event: 'poll', args: ['all'], timeout: 5000 });
        assert.deepEqual({ ...ex, responses: sorted(ex.responses) }, { err: null, responses: ['b', 'c'] });
        const none = await ask(ctrl, 'ask-room', { to: room('empty'), event: 'poll', args: ['all'], timeout: 5000 });
        assert.deepEqual(none, { err: null, responses: [] });
        assert.equal((await ask(ctrl, 'stats')).callbacks, 4);
      });

      // ---- onAny / onAnyOutgoing ------------------------------------------------------

      it('onAny: the server logs every incoming event with its args, in order', async () => {
        const s = await cl.connect('/');
        s.emit('foo', 1, { a: [2, null] });
        s.emit('bar', Buffer.from([1, 2]), 'ü');
        s.emit('baz');
        const st = await ask(s, 'stats');
        assert.deepStrictEqual(st.incoming, [['foo', 1, { a: [2, null] }], ['bar', Buffer.from([1, 2]), 'ü'], ['baz'], ['stats']]);
      });

      it('onAnyOutgoing: the server logs auth, direct emits, room broadcasts and asks (not acks)', async () => {
        const s = await cl.connect('/', { auth: { user: 'out' } });
        const r = room('out');
        await ask(s, 'join', r);
        await ask(s, 'do-emit', { event: 'x', args: [1, Buffer.from([2])], self: true });
        await ask(s, 'do-emit', { event: 'y', args: ['z'], to: r });
        onAsk(s, 'q', (args, cb) => cb('a'));
        await ask(s, 'ask', { event: 'q', args: [5], timeout: 5000 });
        const st = await ask(s, 'stats');
        assert.deepStrictEqual(st.outgoing, [['auth', { user: 'out' }], ['x', 1, Buffer.from([2])], ['y', 'z'], ['q', 5]]);
      });

      // ---- disconnects and reconnection -----------------------------------------------

      it('disconnect-me: "io server disconnect" on the client, no reconnection; watchers see rooms + reason', async () => {
        const w = await watcher();
        const s = await cl.connect('/', { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
        const r = room('leaver');
        await ask(s, 'join', [r, 'also']);
        const id = s.id;
        const gone = waitEvent(s, 'disconnect');
        s.emit('disconnect-me', {});
        assert.equal((await gone)[0], 'io server disconnect');
        assert.equal(s.active, false, 'the client will not reconnect');
        const left = await leftOf(w, id);
        assert.deepEqual({ ...left, rooms: sorted(left.rooms) },
          { id, nsp: '/', rooms: sorted([id, r, 'also']), reason: 'server namespace disconnect' });
      });

      it('disconnect-me {close:true}: the connection closes, taking "/custom" down too; {close:false} does not', async () => {
        const m1 = cl.manager();
        const main1 = cl.on(m1, '/');
        const custom1 = cl.on(m1, '/custom');
        await Promise.all([connected(main1), connected(custom1)]);
        const gone1 = waitEvent(main1, 'disconnect');
        main1.emit('disconnect-me', { close: false });
        assert.equal((await gone1)[0], 'io server disconnect');
        assert.equal((await ask(custom1, 'whoami')).nsp, '/custom', '/custom still up');

        const m2 = cl.manager();
        const main2 = cl.on(m2, '/');
        const custom2 = cl.on(m2, '/custom');
        await Promise.all([connected(main2), connected(custom2)]);
        const gone2 = waitEvent(main2, 'disconnect');
        const goneCustom2 = waitEvent(custom2, 'disconnect');
        main2.emit('disconnect-me', { close: true });
        assert.equal((await gone2)[0], 'io server disconnect');
        assert.ok(['io server disconnect', 'transport close'].includes((await goneCustom2)[0]));
      });

      it('drop-me: the engine close makes the client reconnect with a new id; watchers see "forced close"', async () => {
        const w = await watcher();
        const s = await cl.connect('/', { auth: { user: 'again' }, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 });
        const oldId = s.id;
        const oldEngine = s.io.engine.id;
        await s.rec.take('auth');
        const gone = waitEvent(s, 'disconnect');
        s.emit('drop-me');
        assert.equal((await gone)[0], 'transport close');
        assert.equal(s.active, true, 'the client will reconnect');
        await connected(s);
        assert.notEqual(s.id, oldId);
        assert.notEqual(s.io.engine.id, oldEngine);
        assert.deepEqual(await s.rec.take('auth'), [{ user: 'again' }], 'auth is sent again on reconnection');
        assert.equal((await ask(s, 'whoami')).id, s.id);
        assert.equal((await leftOf(w, oldId)).reason, 'forced close');
      });

      it('disconnecting: client socket.disconnect() -> "client namespace disconnect" with the rooms', async () => {
        const w = await watcher();
        const s = await cl.connect('/');
        const [r1, r2] = [room('d1'), room('d2')];
        await ask(s, 'join', [r1, r2]);
        const id = s.id;
        s.disconnect();
        const left = await leftOf(w, id);
        assert.deepEqual(sorted(left.rooms), sorted([id, r1, r2]));
        assert.equal(left.reason, 'client namespace disconnect');
        assert.equal(left.nsp, '/');
      });

      it('disconnecting: the client closing its connection -> "transport close"', async () => {
        const w = await watcher();
        const s = await cl.connect('/');
        const id = s.id;
        s.io.engine.close();
        assert.equal((await leftOf(w, id)).reason, 'transport close');
      });

      it('disconnecting: a client that stops answering pings -> "ping timeout"', async () => {
        const fc = new Clients(fast.url, { transports });
        try {
          const w = await watcher(fc);
          // A raw session that connects to "/" and joins a room, then never sends PONG.
          const e = fc.engine();
          const send = e._sendPacket.bind(e);
          e._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : send(type, ...rest));
          const inbox = engineInbox(e);
          await engineOpen(e);
          e.send('0');
          const [open] = await inbox.take('message', (d) => typeof d === 'string' && d.startsWith('0{'));
          const id = JSON.parse(open.slice(1)).sid;
          const r = room('mute');
          e.send(`21["join","${r}"]`);
          await inbox.take('message', (d) => typeof d === 'string' && d.startsWith('31['));
          const left = await leftOf(w, id);
          assert.deepEqual({ ...left, rooms: sorted(left.rooms) }, { id, nsp: '/', rooms: sorted([id, r]), reason: 'ping timeout' });
          assert.ok(w.connected, 'the watcher, which answers pings, is still connected');
        } finally {
          fc.close();
        }
      });
    });
  }
});
