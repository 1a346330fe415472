// Socket.IO v5 integration suite for rooms and broadcasting, against the test server
// (build/tests/sio_test_server, contract 2 in docs/test-server.md) with socket.io-client 4.8:
// join/leave, to / except / broadcast / many rooms / volatile / io.emit, fetchSockets,
// socketsJoin / socketsLeave / disconnectSockets over a selection.
//
// "Exactly these sockets and no others" is asserted without sleeping: after the targeted emit
// the controller sends a marker to the whole namespace; Socket.IO keeps order per
// connection, so when a socket sees the marker it has seen everything sent to it before.
//
// Run: node --test tests/integration/socketio_rooms.test.mjs   (NOOM_REF=1: Node reference)
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  Clients, TRANSPORTS, ask, connected, room, sinceLastMarker, skipUnlessBuilt, sorted, startServer, waitEvent,
} from './lib/sio.mjs';

const skip = skipUnlessBuilt('test');

describe('socket.io rooms and broadcast', { skip }, () => {
  let srv;
  before(async () => { srv = await startServer('test'); });
  after(async () => { await srv?.close(); });

  for (const { name, transports } of TRANSPORTS) {
    describe(name, () => {
      let cl;
      beforeEach(() => { cl = new Clients(srv.url, { transports }); });
      afterEach(() => cl.close());

      // Four sockets a, b, c, d (auth.user = their letter) on separate connections;
      // rooms r1 = {a, b}, r2 = {b, c}; d is in no room and acts as the controller.
      async function quartet() {
        const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((user) => cl.connect('/', { auth: { user } })));
        const r1 = room('r1');
        const r2 = room('r2');
        assert.deepEqual(sorted(await ask(a, 'join', r1)), sorted([a.id, r1]));
        assert.deepEqual(sorted(await ask(b, 'join', [r1, r2])), sorted([b.id, r1, r2]));
        assert.deepEqual(sorted(await ask(c, 'join', r2)), sorted([c.id, r2]));
        return { a, b, c, d, all: [a, b, c, d], r1, r2 };
      }

      // Has `from` run do-emit(spec), then asserts that exactly the sockets in `receivers`
      // got [spec.event, ...spec.args] once, and every other socket of `all` got nothing.
      async function deliver(from, all, spec, receivers, ctrl = from) {
        assert.equal(await ask(from, 'do-emit', spec), true);
        const got = await sinceLastMarker(ctrl, all);
        all.forEach((s, i) => {
          const want = receivers.includes(s) ? [[spec.event, ...(spec.args ?? [])]] : [];
          assert.deepStrictEqual(got[i], want, `socket ${s.auth?.user ?? i} (${spec.event})`);
        });
      }

      it('join/leave: one or many rooms, acked with socket.rooms (own id included)', async () => {
        const s = await cl.connect('/');
        const [x, y, z] = [room('x'), room('y'), room('z')];
        assert.deepEqual(sorted(await ask(s, 'join', x)), sorted([s.id, x]));
        assert.deepEqual(sorted(await ask(s, 'join', [y, z])), sorted([s.id, x, y, z]));
        assert.deepEqual(sorted(await ask(s, 'join', x)), sorted([s.id, x, y, z]), 'joining twice is a no-op');
        assert.deepEqual(sorted(await ask(s, 'leave', y)), sorted([s.id, x, z]));
        assert.deepEqual(sorted(await ask(s, 'leave', [x, z])), [s.id]);
        assert.deepEqual(await ask(s, 'leave', 'never-joined'), [s.id]);
        const me = await ask(s, 'whoami');
        assert.deepEqual(me.rooms, [s.id]);
      });

      it('to: one room reaches exactly its members (JSON and binary args)', async () => {
        const { a, b, d, all, r1 } = await quartet();
        await deliver(d, all, { event: 'news', args: ['r1 only', { n: 1 }], to: r1 }, [a, b]);
        await deliver(d, all, { event: 'bin', args: [Buffer.from([1, 2, 3]), { deep: [Buffer.from('x')] }], to: r1 }, [a, b]);
      });

      it('to: many rooms reach each member once, even a member of several', async () => {
        const { a, b, c, d, all, r1, r2 } = await quartet();
        await deliver(d, all, { event: 'many', args: [1], to: [r1, r2] }, [a, b, c]);
      });

      it('to: a socket id is a room holding only that socket', async () => {
        const { b, d, all } = await quartet();
        await deliver(d, all, { event: 'private', args: ['for b'], to: b.id }, [b]);
      });

      it('except: excluded rooms win over targeted rooms, and work alone', async () => {
        const { a, c, d, all, r1, r2 } = await quartet();
        await deliver(d, all, { event: 'ex1', args: [], to: [r1, r2], except: r2 }, [a]);
        await deliver(d, all, { event: 'ex2', args: [], except: r1 }, [c, d]);
        await deliver(d, all, { event: 'ex3', args: [], to: r2, except: [r1, 'unknown-room'] }, [c]);
      });

      it('broadcast: from a socket reaches everyone but the sender, also within a room', async () => {
        const { a, b, c, d, all, r1, r2 } = await quartet();
        await deliver(a, all, { event: 'b1', args: ['from a'], broadcast: true }, [b, c, d]);
        await deliver(a, all, { event: 'b2', args: [], broadcast: true, to: r1 }, [b]);
        await deliver(b, all, { event: 'b3', args: [], broadcast: true, to: [r1, r2] }, [a, c]);
        await deliver(b, all, { event: 'b4', args: [], broadcast: true, except: r2 }, [a, d]);
      });

      it('io.emit: reaches every socket of the namespace and none of another namespace', async () => {
        const { a, b, c, d, all } = await quartet();
        const other = await cl.connect('/custom');
        await deliver(d, all, { event: 'everyone', args: [{ all: true }] }, [a, b, c, d]);
        // The /custom socket got nothing: check with a marker of its own namespace.
        const [got] = await sinceLastMarker(other, [other]);
        assert.deepStrictEqual(got, []);
      });

      it('self: do-emit {self} reaches the requesting socket only', async () => {
        const { c, all } = await quartet();
        await deliver(c, all, { event: 'mine', args: ['c'], self: true }, [c]);
      });

      it('volatile: reaches at most the room members, each at most once', async () => {
        const { a, b, c, d, all, r2 } = await quartet();
        assert.equal(await ask(d, 'do-emit', { event: 'vol', args: [7], to: r2, volatile: true }), true);
        const got = await sinceLastMarker(d, all);
        for (const [s, events] of [[a, got[0]], [d, got[3]]]) assert.deepStrictEqual(events, [], `non-member ${s.auth.user}`);
        for (const events of [got[1], got[2]]) assert.ok(events.length <= 1 && events.every((e) => e[0] === 'vol' && e[1] === 7));
      });

      it('leave: a socket that left a room no longer gets its broadcasts', async () => {
        const { a, b, d, all, r1 } = await quartet();
        await ask(b, 'leave', r1);
        await deliver(d, all, { event: 'after-leave', args: [], to: r1 }, [a]);
        await ask(a, 'leave', r1);
        await deliver(d, all, { event: 'empty-room', args: [], to: r1 }, []);
      });

      it('fetchSockets: a selection reports ids, rooms, handshake auth and middleware data', async () => {
        const { a, b, c, d, r1, r2 } = await quartet();
        const norm = (list) => list.map((s) => ({ ...s, rooms: sorted(s.rooms) })).sort((x, y) => (x.id < y.id ? -1 : 1));
        const entry = (s, user, rooms) => ({ id: s.id, rooms: sorted([s.id, ...rooms]), data: { user, nsp: '/' }, auth: { user } });
        assert.deepEqual(norm(await ask(d, 'fetch', { in: r1 })), norm([entry(a, 'a', [r1]), entry(b, 'b', [r1, r2])]));
        assert.deepEqual(norm(await ask(d, 'fetch', { in: [r1, r2], except: r2 })), norm([entry(a, 'a', [r1])]));
        assert.deepEqual(norm(await ask(d, 'fetch', { in: d.id })), norm([entry(d, 'd', [])]));
        assert.deepEqual(await ask(d, 'fetch', { in: room('nobody') }), []);
        // No selection = the whole namespace (other tests' sockets may still be leaving).
        const ids = (await ask(d, 'fetch', {})).map((s) => s.id);
        for (const s of [a, b, c, d]) assert.ok(ids.includes(s.id), `fetch {} includes ${s.auth.user}`);
        // A namespace only sees its own sockets.
        const other = await cl.connect('/custom', { auth: { user: 'o' } });
        assert.deepEqual(norm(await ask(other, 'fetch', { in: other.id })), [{ id: other.id, rooms: [other.id], data: { user: 'o', nsp: '/custom' }, auth: { user: 'o' } }]);
        assert.deepEqual(await ask(other, 'fetch', { in: r1 }), []);
      });

      it('socketsJoin / socketsLeave: make a selection join and leave rooms', async () => {
        const { a, b, c, d, all, r1, r2 } = await quartet();
        const [r3, r4] = [room('r3'), room('r4')];
        assert.equal(await ask(d, 'sockets-join', { in: r1, rooms: [r3, r4] }), true);
        assert.deepEqual(sorted((await ask(a, 'whoami')).rooms), sorted([a.id, r1, r3, r4]));
        assert.deepEqual(sorted((await ask(c, 'whoami')).rooms), sorted([c.id, r2]));
        await deliver(d, all, { event: 'to-r3', args: [], to: r3 }, [a, b]);
        assert.equal(await ask(d, 'sockets-leave', { in: r3, except: r2, rooms: r3 }), true);
        assert.deepEqual(sorted((await ask(a, 'whoami')).rooms), sorted([a.id, r1, r4]));
        assert.deepEqual(sorted((await ask(b, 'whoami')).rooms), sorted([b.id, r1, r2, r3, r4]));
        await deliver(d, all, { event: 'to-r3-again', args: [], to: r3 }, [b]);
        assert.equal(await ask(d, 'sockets-leave', { rooms: [r3, r4] }), true, 'no selection = whole namespace');
        await deliver(d, all, { event: 'to-r3-r4', args: [], to: [r3, r4] }, []);
        assert.equal(await ask(d, 'sockets-join', { in: c.id, rooms: r1 }), true);
        await deliver(d, all, { event: 'r1-with-c', args: [], to: r1 }, [a, b, c]);
      });

      it('disconnectSockets: the selection gets "io server disconnect" and stays down', async () => {
        const { a, b, c, d, r2 } = await quartet();
        const reasons = new Map();
        for (const s of [a, b, c, d]) s.on('disconnect', (r) => reasons.set(s, r));
        const gone = Promise.all([b, c].map((s) => waitEvent(s, 'disconnect')));
        assert.equal(await ask(d, 'disconnect-sockets', { in: r2 }), true);
        await gone;
        assert.equal(reasons.get(b), 'io server disconnect');
        assert.equal(reasons.get(c), 'io server disconnect');
        assert.equal(b.active, false, 'no reconnection after a server disconnect');
        const got = await sinceLastMarker(d, [a, d]);
        assert.deepStrictEqual(got, [[], []]);
        assert.ok(a.connected && d.connected);
        assert.equal(reasons.size, 2);
        assert.deepEqual((await ask(d, 'fetch', { in: r2 })), []);
      });

      it('disconnectSockets {close:true} closes the whole connection, {close:false} only the namespace', async () => {
        const ctrl = await cl.connect('/');
        const tag = room('victims');
        // Two victims, each with "/" and "/custom" multiplexed on one Manager.
        const victims = [];
        for (let i = 0; i < 2; i++) {
          const m = cl.manager();
          const main = cl.on(m, '/');
          const custom = cl.on(m, '/custom');
          await Promise.all([connected(main), connected(custom)]);
          await ask(main, 'join', `${tag}-${i}`);
          victims.push({ main, custom });
        }
        // close:false -> only "/" is disconnected; "/custom" keeps working on the same connection.
        const [soft, hard] = victims;
        const softGone = waitEvent(soft.main, 'disconnect');
        await ask(ctrl, 'disconnect-sockets', { in: `${tag}-0`, close: false });
        assert.equal((await softGone)[0], 'io server disconnect');
        assert.equal((await ask(soft.custom, 'whoami')).id, soft.custom.id);
        assert.ok(soft.custom.connected);
        // close:true -> the connection is closed: "/custom" on it goes down too.
        const hardMain = waitEvent(hard.main, 'disconnect');
        const hardCustom = waitEvent(hard.custom, 'disconnect');
        await ask(ctrl, 'disconnect-sockets', { in: `${tag}-1`, close: true });
        assert.equal((await hardMain)[0], 'io server disconnect');
        assert.ok(['io server disconnect', 'transport close'].includes((await hardCustom)[0]));
      });
    });
  }
});
