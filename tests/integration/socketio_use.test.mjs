// Per-packet middlewares (socket.use) seen by socket.io-client 4.8, against the echo server
// started with --socket-use 40 (build/examples/echo; NOOM_REF=1: tests/support/ref-sio-echo.mjs,
// the same middleware on Node's socket.io 4.8): each "/" socket refuses "forbidden" (the
// server-side socket's error listener emits "server-error" with the message, and nothing
// else reaches the client: no ack, no error packet), rewrites "rewrite-me(...)" into
// message-with-ack("rewritten", ...) and passes "slow(...)" 40 ms later as message-with-ack.
// Every case runs over polling, websocket and the default polling->websocket upgrade.
//
// Run: node --test tests/integration/socketio_use.test.mjs   (NOOM_REF=1: against Node)
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Clients, REF, TRANSPORTS, askAll, skipUnlessBuilt, startServer } from './lib/sio.mjs';

const skip = skipUnlessBuilt('echo');
const DELAY_MS = 40;
const refDiffers = { skip: REF ? 'reference differs' : false };

// Resolves with the ack arguments, or with 'no ack' if none came within ms.
function ackOrSilence(socket, ms, event, ...args) {
  return new Promise((resolve) => {
    socket.timeout(ms).emit(event, ...args, (err, ...resp) => resolve(err ? 'no ack' : resp));
  });
}

describe('socket.use on the echo server', { skip }, () => {
  let srv;
  before(async () => { srv = await startServer('echo', { socketUseMs: DELAY_MS }); });
  after(async () => { await srv?.close(); });

  for (const { name, transports } of TRANSPORTS) {
    describe(name, () => {
      let cl;
      beforeEach(() => { cl = new Clients(srv.url, { transports }); });
      afterEach(() => cl.close());

      it('a passed event reaches its handler and its ack comes back', async () => {
        const s = await cl.connect('/');
        assert.deepEqual(await askAll(s, 'message-with-ack', 1, { a: [true] }), [1, { a: [true] }]);
      });

      it('a refused event: the server-side error listener gets the message, the client no ack', async () => {
        const s = await cl.connect('/');
        const [silence, [message]] = await Promise.all([
          ackOrSilence(s, 300, 'forbidden', 'x'),
          s.rec.take('server-error'),
        ]);
        assert.equal(message, 'forbidden event');
        assert.equal(silence, 'no ack');
        // Only the greeting and the report reached the client; the socket stays connected.
        assert.deepEqual(s.rec.events.map(([e]) => e), ['auth', 'server-error']);
        assert.equal(s.connected, true);
        assert.deepEqual(await askAll(s, 'message-with-ack', 2), [2]);
      });

      it('a rewritten event: the handler sees the new name and arguments, binary kept', async () => {
        const s = await cl.connect('/');
        assert.deepEqual(await askAll(s, 'rewrite-me', 'x', 3), ['rewritten', 'x', 3]);
        const [tag, buf, obj] = await askAll(s, 'rewrite-me', Buffer.from([1, 2, 3]), { b: Buffer.from('z') });
        assert.equal(tag, 'rewritten');
        assert.ok(Buffer.isBuffer(buf) && buf.equals(Buffer.from([1, 2, 3])));
        assert.ok(Buffer.isBuffer(obj.b) && obj.b.toString() === 'z');
      });

      it('a middleware that answers later: the event is dispatched then', async () => {
        const s = await cl.connect('/');
        const t0 = Date.now();
        assert.deepEqual(await askAll(s, 'slow', 'late', 4), ['late', 4]);
        assert.ok(Date.now() - t0 >= DELAY_MS - 5, 'not before the middleware passed it');
      });

      // Node dispatches each packet as soon as its own middlewares pass it: a later event
      // overtakes a delayed one. libsio keeps a socket's events in order.
      it('events behind a delayed one keep their order', { ...refDiffers }, async () => {
        const s = await cl.connect('/');
        const order = [];
        await Promise.all([
          askAll(s, 'slow', 'first').then(() => order.push('slow')),
          askAll(s, 'message-with-ack', 'second').then(() => order.push('next')),
        ]);
        assert.deepEqual(order, ['slow', 'next']);
      });

      it('a client that leaves while its event waits in a middleware leaves the server well', async () => {
        const s = await cl.connect('/');
        s.emit('slow', 'never answered', () => {});
        s.disconnect();
        const t = await cl.connect('/');
        assert.deepEqual(await askAll(t, 'slow', 'ok'), ['ok']);
      });
    });
  }
});
