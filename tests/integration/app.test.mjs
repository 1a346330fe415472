// The noom app's server contract (docs/app-events.md) through the official socket.io-client,
// the plain-WebSocket chat through npm ws, and the binary's HTTP side (static files, --help).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startNoom, next, until, noOffset, BUILD, REPO } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');
const WebSocket = require('../node_modules/ws');

let srv;
const clients = [];
before(async () => { srv = await startNoom(['--log-level', 'warn', '--msg-burst', '5', '--msg-rate', '1']); });
after(async () => { for (const c of clients) c.close(); await srv.stop(); });

async function client(opts = {}) {
  const s = io(srv.url, { forceNew: true, transports: ['websocket'], reconnection: false, ...opts });
  clients.push(s);
  await next(s, 'connect');
  return s;
}

const ack = (s, ...args) => s.timeout(5000).emitWithAck(...args);
let seq = 0;
const roomName = () => `room-${process.pid}-${++seq}`;

describe('lobby and chat over socket.io-client', () => {
  test('enter_room(nickname, room) acks {room, count, nickname, history} and the room sees welcome', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    assert.deepEqual(await ack(a, 'enter_room', 'alice', r), { room: r, count: 1, nickname: 'alice', history: [] });
    const welcomed = next(a, 'welcome');
    assert.deepEqual(await ack(b, 'enter_room', 'bob', r), { room: r, count: 2, nickname: 'bob', history: [] });
    assert.deepEqual(noOffset(await welcomed), ['bob', 2, r]);
  });

  test('the course form enter_room(room, done) keeps the current nickname', async () => {
    const a = await client();
    a.emit('nickname', 'carol');
    const r = roomName();
    const res = await ack(a, 'enter_room', r);
    assert.equal(res.nickname, 'carol');
  });

  test('validation errors come back as {error} acks and change nothing', async () => {
    const a = await client();
    for (const bad of [['enter_room', ''], ['enter_room', '   '], ['enter_room', 'x'.repeat(65)], ['enter_room', 42],
      ['enter_room', 'n'.repeat(33), 'room'], ['enter_room', 'bell\u0007room'], ['leave_room', 'never-joined'],
      ['new_message', 'hi', 'not-a-member'], ['new_message', '', 'r'], ['new_message', 'x'.repeat(2001), 'r'],
      ['nickname', ''], ['nickname', { a: 1 }]]) {
      const res = await ack(a, ...bad);
      assert.equal(typeof res?.error, 'string', `expected an error for ${JSON.stringify(bad)}`);
    }
    // A 64-byte room and a 32-byte nickname are fine; names are trimmed.
    const res = await ack(a, 'enter_room', ' ' + 'n'.repeat(32) + ' ', 'r'.repeat(64));
    assert.deepEqual(res, { room: 'r'.repeat(64), count: 1, nickname: 'n'.repeat(32), history: [] });
  });

  test('new_message reaches the rest of the room as "nick: msg", acked to the sender', async () => {
    const a = await client(), b = await client(), outsider = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'ann', r);
    await ack(b, 'enter_room', 'ben', r);
    const got = next(b, 'new_message');
    let leaked = false;
    outsider.on('new_message', () => { leaked = true; });
    a.on('new_message', () => { leaked = true; });
    assert.equal(await ack(a, 'new_message', 'hello <b>there</b>', r), undefined);
    // The course's two arguments, then the stored form (docs/app-events.md).
    const [line, room, msg] = await got;
    assert.deepEqual([line, room], ['ann: hello <b>there</b>', r]);
    assert.deepEqual(msg, { id: msg.id, nickname: 'ann', text: 'hello <b>there</b>', ts: msg.ts });
    assert.ok(typeof msg.id === 'string' && msg.id.length > 0 && Math.abs(msg.ts - Date.now()) < 60000);
    // Ordering per connection: a later marker on each socket proves nothing else arrived.
    await ack(outsider, 'nickname', 'x');
    await ack(a, 'nickname', 'ann');
    assert.equal(leaked, false);
  });

  test('nickname changes show in later messages', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'old', r);
    await ack(b, 'enter_room', 'b', r);
    assert.equal(await ack(a, 'nickname', 'new'), 'new');
    const got = next(b, 'new_message');
    await ack(a, 'new_message', 'hi', r);
    assert.deepEqual((await got).slice(0, 2), ['new: hi', r]);
  });

  test('the rate limit answers with an error once the burst is spent', async () => {
    const a = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'fast', r);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ack(a, 'new_message', `m${i}`, r)));
    const refused = results.filter((x) => x && x.error);
    assert.ok(refused.length >= 6, `expected refusals past the burst of 5, got ${JSON.stringify(results)}`);
    assert.match(refused[0].error, /slow down/);
  });

  test('a new socket gets the current room list at once', async () => {
    const a = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'early', r);
    const late = io(srv.url, { forceNew: true, transports: ['websocket'], reconnection: false });
    clients.push(late);
    const [names, rooms] = await next(late, 'room_change');
    assert.ok(names.includes(r));
    assert.equal(rooms.find((x) => x.name === r).count, 1);
  });

  test('room_change carries sorted public rooms with counts, never socket ids', async () => {
    const a = await client(), b = await client();
    const r1 = `zz-${roomName()}`, r2 = `aa-${roomName()}`;
    await ack(a, 'enter_room', 'a', r1);
    const change = until(b, 'room_change', (names) => names.includes(r2));
    await ack(a, 'enter_room', 'a', r2);
    const [names, rooms] = await change;
    assert.deepEqual(names, [...names].sort());
    assert.ok(!names.includes(a.id) && !names.includes(b.id));
    assert.deepEqual(rooms.map((x) => x.name), names);
    assert.equal(rooms.find((x) => x.name === r2).count, 1);
  });

  test('leave_room says bye with the new count and updates the lobby', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'amy', r);
    await ack(b, 'enter_room', 'bo', r);
    const bye = next(a, 'bye');
    const lobby = until(a, 'room_change', (names, rooms) => rooms.some((x) => x.name === r && x.count === 1));
    assert.equal(await ack(b, 'leave_room', r), undefined);
    assert.deepEqual(noOffset(await bye), ['bo', 1, r]);
    await lobby;
    const gone = until(b, 'room_change', (names) => !names.includes(r));
    await ack(a, 'leave_room', r);
    await gone;
  });

  test('a disconnect says bye to every room and refreshes the lobby', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'stay', r);
    await ack(b, 'enter_room', 'go', r);
    const bye = next(a, 'bye');
    const lobby = until(a, 'room_change', (names, rooms) => rooms.some((x) => x.name === r && x.count === 1));
    b.disconnect();
    assert.deepEqual(noOffset(await bye), ['go', 1, r]);
    await lobby;
  });

  test('works over polling with the upgrade too', async () => {
    const a = await client({ transports: ['polling', 'websocket'] });
    const r = roomName();
    assert.equal((await ack(a, 'enter_room', 'poll', r)).count, 1);
  });
});

describe('plain WebSocket chat at /ws', () => {
  function wsClient() {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`);
    return new Promise((res, rej) => { ws.once('open', () => res(ws)); ws.once('error', rej); });
  }
  const text = (ws) => next(ws, 'message').then(([d]) => d.toString());

  test('messages go to every socket, sender included, as "nick: msg"', async () => {
    const a = await wsClient(), b = await wsClient();
    a.send(JSON.stringify({ type: 'nickname', payload: 'wsa' }));
    const ga = text(a), gb = text(b);
    a.send(JSON.stringify({ type: 'new_message', payload: 'hello all' }));
    assert.equal(await ga, 'wsa: hello all');
    assert.equal(await gb, 'wsa: hello all');
    // Garbage is ignored, the socket stays usable.
    a.send('not json');
    a.send(JSON.stringify({ type: 'new_message' }));
    const again = text(b);
    b.send(JSON.stringify({ type: 'new_message', payload: 'still here' }));
    assert.equal(await again, 'Anon: still here');
    a.close(); b.close();
  });
});

describe('HTTP side of the binary', () => {
  test('serves the app with MIME types and ETags, 304 on If-None-Match', async () => {
    const res = await fetch(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${srv.url}/`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const css = await fetch(`${srv.url}/style.css`);
    assert.match(css.headers.get('content-type'), /^text\/css/);
  });

  test('serves our Socket.IO client at /socket.io/socket.io.js', async () => {
    const res = await fetch(`${srv.url}/socket.io/socket.io.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /javascript/);
    assert.match(await res.text(), /io/);
  });

  test('unknown paths redirect to /, as the course server does', async () => {
    const res = await fetch(`${srv.url}/no/such/page`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/');
  });

  test('--web-root serves from disk and never outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noom-root-'));
    mkdirSync(join(dir, 'www'));
    writeFileSync(join(dir, 'www', 'index.html'), '<p>from disk</p>');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'www', 'link.txt'));
    const dev = await startNoom(['--log-level', 'error', '--web-root', join(dir, 'www')]);
    try {
      assert.equal(await (await fetch(`${dev.url}/`)).text(), '<p>from disk</p>');
      for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/link.txt', '/..%2fsecret.txt']) {
        const res = await fetch(`${dev.url}${p}`, { redirect: 'manual' });
        assert.notEqual(res.status, 200, p);
        assert.ok(!(await res.text()).includes('secret'), p);
      }
    } finally {
      await dev.stop();
    }
  });

  test('--help lists every flag with its default; bad flags fail clearly', () => {
    const help = execFileSync(join(BUILD, 'noom'), ['--help'], { encoding: 'utf8' });
    for (const flag of ['--host', '--port', '--web-root', '--ping-interval', '--ping-timeout', '--max-payload',
      '--connect-timeout', '--cors-origins', '--log-level']) {
      assert.match(help, new RegExp(`${flag} .*\\(default: `), flag);
    }
    assert.throws(() => execFileSync(join(BUILD, 'noom'), ['--port', 'abc'], { stdio: 'pipe' }), (e) => e.status === 2 && /bad value/.test(e.stderr));
    assert.throws(() => execFileSync(join(BUILD, 'noom'), ['--nope'], { stdio: 'pipe' }), (e) => e.status === 2 && /unknown option/.test(e.stderr));
  });

  test('logs one line per connection with the peer address', async () => {
    const logged = await startNoom(['--log-level', 'info']);
    try {
      const s = io(logged.url, { forceNew: true, transports: ['websocket'] });
      await next(s, 'connect');
      s.close();
      await logged.waitLog(/disconnect \S+ \(/);
      assert.match(logged.stderr(), /connect \S+ from 127\.0\.0\.1 \(websocket\)/);
      assert.match(logged.stderr(), /disconnect \S+ \(client namespace disconnect\)/);
    } finally {
      await logged.stop();
    }
  });
});
