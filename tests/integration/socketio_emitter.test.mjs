// Emitter details of a server socket (docs/node-parity.md, "Emitter details") seen from
// socket.io-client 4.8, on build/tests/sio_test_server (NOOM_REF=1: ref-sio-server.mjs):
// `socket.volatile.emit` drops what the transport cannot write at once, exactly as
// socket.io does: over long-polling one packet rides the waiting GET and the ones
// emitted right behind it are dropped; plain emits are all delivered. socket.conn's
// events (upgrade, packet, drain) as the server's listeners count them (`conn-stats`).
// (prependAny, listenersAny and offAnyOutgoing are server-side only:
// tests/unit/sio/test_socket.c.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Clients, ask, connected, skipUnlessBuilt, startServer, waitEvent } from './lib/sio.mjs';

for (const t of [{ name: 'polling', transports: ['polling'] }, { name: 'websocket', transports: ['websocket'] }]) {
  describe(`socket.volatile.emit over ${t.name}`, { skip: skipUnlessBuilt('test') }, () => {
    let srv, clients;
    before(async () => {
      srv = await startServer('test');
      clients = new Clients(srv.url, { transports: t.transports });
    });
    after(async () => {
      clients?.close();
      await srv?.close();
    });

    test('five volatile emits in a row: the transport writes the first, the rest are dropped or sent, never queued twice', async () => {
      const s = await clients.connect('/');
      assert.equal(await ask(s, 'do-emit', { self: true, volatile: true, event: 'v', args: [1], repeat: 5 }), true);
      // A plain emit after them: everything before it has arrived once it has.
      assert.equal(await ask(s, 'do-emit', { self: true, event: 'after', args: [] }), true);
      await s.rec.take('after');
      const got = s.rec.events.filter(([e]) => e === 'v').length;
      if (t.name === 'polling') assert.equal(got, 1, 'one per waiting GET, as engine.io\'s polling transport');
      else assert.ok(got >= 1 && got <= 5, `got ${got}`);
    });

    test('five plain emits in a row all arrive, in order', async () => {
      const s = await clients.connect('/');
      assert.equal(await ask(s, 'do-emit', { self: true, event: 'p', args: ['x'], repeat: 5 }), true);
      for (let i = 0; i < 5; i++) await s.rec.take('p');
      assert.equal(s.rec.events.filter(([e]) => e === 'p').length, 5);
    });
  });
}

describe('socket.conn events', { skip: skipUnlessBuilt('test') }, () => {
  let srv, clients;
  before(async () => {
    srv = await startServer('test');
    clients = new Clients(srv.url, {});
  });
  after(async () => {
    clients?.close();
    await srv?.close();
  });

  test('upgrade names the new transport; packet counts every message after the connection; drain follows sends', async () => {
    const s = clients.socket('/', { transports: ['polling', 'websocket'] });
    const upgraded = waitEvent(s.io, 'open').then(() => waitEvent(s.io.engine, 'upgrade'));
    await connected(s);
    await upgraded;
    for (let i = 0; i < 3; i++) s.emit('noise', i);
    const stats = await ask(s, 'conn-stats');
    assert.equal(stats.upgrade, 'websocket');
    assert.equal(stats.messages, 4, 'three events and the conn-stats request');
    assert.ok(stats.drains >= 1, `drains ${stats.drains}`);
  });

  test('over polling alone there is no upgrade', async () => {
    const s = await clients.connect('/', { transports: ['polling'] });
    const stats = await ask(s, 'conn-stats');
    assert.equal(stats.upgrade, null);
    assert.equal(stats.messages, 1);
    assert.ok(stats.drains >= 1);
  });
});
