// The app with connection-state recovery (build/noom --recovery-ms, on by default;
// docs/app-events.md "Reconnecting") through the official socket.io-client 4.8: alice
// reaches noom through a TCP proxy the test cuts, bob is connected directly.
//
// Inside the window alice comes back as herself: same id, still in the room, her
// nickname kept, the chat she missed delivered once and in order, and bob hears neither
// a bye nor a second welcome. Past the window she comes back as a new socket, and bob
// hears her bye (and peer_left for her call) once the window is over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startNoom, next, until, noOffset } from './lib/noom.mjs';
import { cuttableProxy } from './lib/proxy.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };
const ack = (s, ...args) => s.timeout(5000).emitWithAck(...args);
const delay = (ms) => new Promise((res) => { setTimeout(res, ms); });
let seq = 0;
const roomName = () => `rec-${process.pid}-${++seq}`;

// Counts every welcome/bye/peer_left a socket hears (to assert there was none extra).
function tally(s) {
  const seen = { welcome: [], bye: [], peer_left: [] };
  for (const ev of Object.keys(seen)) s.on(ev, (...args) => seen[ev].push(args));
  return seen;
}

describe('the app under connection-state recovery', () => {
  const clients = [];
  let srv, short, proxy, shortProxy, viaProxy, viaShort;
  const connect = async (url, opts = {}) => {
    const s = io(url, { forceNew: true, transports: ['websocket'], reconnection: false, ...opts });
    clients.push(s);
    await next(s, 'connect');
    return s;
  };
  before(async () => {
    // Default --recovery-ms (120 s) on one; a 1 s window on the other.
    [srv, short] = await Promise.all([
      startNoom(['--log-level', 'warn']),
      startNoom(['--log-level', 'warn', '--recovery-ms', '1000']),
    ]);
    proxy = cuttableProxy(srv.port);
    shortProxy = cuttableProxy(short.port);
    viaProxy = `http://127.0.0.1:${await proxy.listen()}`;
    viaShort = `http://127.0.0.1:${await shortProxy.listen()}`;
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([proxy?.close(), shortProxy?.close()]);
    await Promise.all([srv?.stop(), short?.stop()]);
  });

  test('--help lists --recovery-ms with its default', async () => {
    const { execFileSync } = await import('node:child_process');
    const { BUILD } = await import('./lib/noom.mjs');
    const help = execFileSync(`${BUILD}/noom`, ['--help'], { encoding: 'utf8' });
    assert.match(help, /--recovery-ms MS .*\(default: 120000\)/);
  });

  test('cut for a moment: same id, nickname kept, missed chat once and in order, no bye, no second welcome', async () => {
    const r = roomName();
    const alice = await connect(viaProxy, RECONNECT);
    const bob = await connect(srv.url);
    await ack(alice, 'enter_room', 'alice', r);
    const welcomed = next(alice, 'welcome');
    await ack(bob, 'enter_room', 'bob', r);
    assert.deepEqual(noOffset(await welcomed), ['bob', 2, r]);
    const bobHeard = tally(bob);
    const aliceHeard = tally(alice);
    const lines = [];
    alice.on('new_message', (line, room, msg) => lines.push({ line, room, id: msg.id }));
    const id = alice.id;

    const back = next(alice, 'connect', 10000);
    proxy.cut();
    for (let n = 0; n < 10; n++) assert.equal(await ack(bob, 'new_message', `missed ${n}`, r), undefined);
    await delay(500);
    proxy.open();
    await back;
    assert.equal(alice.recovered, true, 'socket.recovered');
    assert.equal(alice.id, id, 'the same id');

    // Her nickname and room are back: her next message reaches bob as "alice: ...".
    const got = next(bob, 'new_message');
    assert.equal(await ack(alice, 'new_message', 'back again', r), undefined);
    assert.deepEqual(noOffset(await got).slice(0, 2), ['alice: back again', r]);
    // And the room still counts her (bob is told so when a third one enters).
    const carol = await connect(srv.url);
    const counted = next(bob, 'welcome');
    assert.equal((await ack(carol, 'enter_room', 'carol', r)).count, 3);
    assert.deepEqual(noOffset(await counted), ['carol', 3, r]);

    await until(alice, 'welcome', (nick) => nick === 'carol');
    assert.deepEqual(lines.map((m) => m.line), Array.from({ length: 10 }, (_, n) => `bob: missed ${n}`), 'missed chat once, in order');
    assert.equal(new Set(lines.map((m) => m.id)).size, 10);
    assert.deepEqual(bobHeard.bye, [], 'no bye for a kept session');
    assert.deepEqual(bobHeard.welcome.map((w) => w[0]), ['carol'], 'no second welcome for alice');
    assert.deepEqual(aliceHeard.welcome.map((w) => w[0]), ['carol']);
  });

  test('cut past the window: a new socket, and the room hears bye and peer_left once the window is over', async () => {
    const r = roomName();
    const alice = await connect(viaShort, RECONNECT);
    const bob = await connect(short.url);
    await ack(alice, 'enter_room', 'alice', r);
    await ack(bob, 'enter_room', 'bob', r);
    await ack(alice, 'call_join', r);
    await ack(bob, 'call_join', r);
    const bobHeard = tally(bob);
    const id = alice.id;
    const cutAt = Date.now();
    const bye = next(bob, 'bye', 10000);
    const left = next(bob, 'peer_left', 10000);
    shortProxy.cut();
    assert.deepEqual(noOffset(await bye), ['alice', 1, r]);
    assert.deepEqual(noOffset(await left), [id]);
    assert.ok(Date.now() - cutAt >= 1000, 'the bye waited for the window');
    shortProxy.open();
    if (!alice.connected) await next(alice, 'connect', 10000);
    assert.equal(alice.recovered, false);
    assert.notEqual(alice.id, id);
    // Not in the room any more: a new socket enters again (and is welcomed again).
    const welcomed = next(bob, 'welcome');
    assert.equal((await ack(alice, 'enter_room', 'alice', r)).count, 2);
    assert.deepEqual(noOffset(await welcomed), ['alice', 2, r]);
    assert.equal(bobHeard.bye.length, 1, 'one bye');
    assert.equal(bobHeard.peer_left.length, 1, 'one peer_left');
  });

  test('a leave_room or a namespace disconnect says bye at once, as without recovery', async () => {
    const r = roomName();
    const alice = await connect(srv.url);
    const bob = await connect(srv.url);
    await ack(alice, 'enter_room', 'al', r);
    await ack(bob, 'enter_room', 'bo', r);
    const bye = next(bob, 'bye', 900);
    alice.disconnect();
    assert.deepEqual(noOffset(await bye), ['al', 1, r]);
  });
});
