// One user must not read another's data or take the node down (the app's hardening):
// socket id rooms are nobody else's, refused calls change nothing, every user-driven
// event has a budget, rooms per socket and the lobby are bounded, and lobby updates are
// coalesced and only sent for changes a lobby shows. Through the official socket.io-client.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startNoom, next, until, clientPool } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

let srv;
const pool = clientPool(io, () => srv);
const client = () => pool.connect();
before(async () => {
  srv = await startNoom(['--log-level', 'warn', '--max-rooms', '4', '--event-burst', '8', '--event-rate', '1',
    '--relay-bytes-burst', '150000', '--relay-bytes-rate', '1000', '--lobby-max', '3', '--lobby-interval', '300']);
});
after(async () => { pool.closeAll(); await srv.stop(); });

const ack = (s, ...args) => s.timeout(5000).emitWithAck(...args);
let seq = 0;
const roomName = () => `h-${process.pid}-${++seq}`;
const offer = (n = 100) => ({ type: 'offer', sdp: 'v=0\r\n' + 'a'.repeat(n) });

// Every event's answer so far on s has arrived: an acked round trip after them.
const settle = (s) => ack(s, 'nickname', s.__nick || 'x');

describe('a socket id room belongs to its socket alone', () => {
  test('join_room and enter_room refuse another socket\'s id; its signaling stays private', async () => {
    const victim = await client(), peer = await client(), attacker = await client();
    const r = roomName();
    await ack(victim, 'join_room', r);
    await ack(peer, 'join_room', r);
    for (const ev of ['join_room', 'enter_room']) {
      const res = await ack(attacker, ev, victim.id);
      assert.match(res?.error ?? '', /taken/, `${ev}(victim id) must be refused`);
    }
    // Names are trimmed by the one validator for both events: padding does not get around it.
    assert.match((await ack(attacker, 'join_room', ` ${victim.id} `))?.error ?? '', /taken/);
    let leaked = 0;
    attacker.on('offer', () => { leaked++; });
    const got = next(victim, 'offer');
    assert.equal(await ack(peer, 'offer', offer(), victim.id), undefined);
    assert.equal((await got)[0].type, 'offer');
    // The attacker cannot relay to the victim either: they share no room.
    assert.match((await ack(attacker, 'offer', offer(), victim.id))?.error ?? '', /share a room/);
    await settle(attacker);
    assert.equal(leaked, 0);
  });

  test('a refused enter_room changes nothing (the nickname stays)', async () => {
    const a = await client(), b = await client(), other = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'keep', r);
    await ack(b, 'enter_room', 'b', r);
    for (const bad of [['renamed', ''], ['renamed', other.id], ['renamed', 'x'.repeat(65)]]) {
      assert.equal(typeof (await ack(a, 'enter_room', ...bad))?.error, 'string');
    }
    const got = next(b, 'new_message');
    await ack(a, 'new_message', 'hi', r);
    assert.equal((await got)[0], 'keep: hi');
  });
});

describe('bounds on what one socket can do', () => {
  test('rooms per socket are capped (--max-rooms), through enter_room and join_room', async () => {
    const a = await client();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await ack(a, i % 2 ? 'join_room' : 'enter_room', roomName()));
    assert.ok(answers.every((x) => !x?.error), JSON.stringify(answers));
    assert.match((await ack(a, 'enter_room', roomName()))?.error ?? '', /too many rooms/);
    assert.match((await ack(a, 'join_room', roomName()))?.error ?? '', /too many rooms/);
  });

  test('room and call events have a budget: join_room in a tight loop is refused past the burst', async () => {
    const a = await client();
    const results = await Promise.all(Array.from({ length: 20 }, () => ack(a, 'join_room', 'same-room-' + process.pid)));
    const refused = results.filter((x) => /slow down/.test(x?.error ?? ''));
    assert.ok(refused.length >= 10, `expected refusals past the burst of 8, got ${JSON.stringify(results)}`);
  });

  test('relayed signaling has a byte budget: 60 KB offers in a loop are refused', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    await ack(a, 'join_room', r);
    await ack(b, 'join_room', r);
    let received = 0;
    b.on('offer', () => { received++; });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await ack(a, 'offer', offer(60000), r));
    const refused = results.filter((x) => /slow down/.test(x?.error ?? '')).length;
    assert.ok(refused >= 3, `expected the byte budget (150000) to refuse, got ${JSON.stringify(results)}`);
    await settle(b);
    assert.equal(received, 6 - refused);
  });
});

describe('the lobby', () => {
  test('lists at most --lobby-max rooms (the largest) plus the total', async () => {
    const watcher = await client();
    // Rooms of the earlier tests have 1 or 2 members: these three are the largest.
    const sizes = [1, 6, 4, 5, 1];
    const names = sizes.map(() => roomName());
    for (let i = 0; i < sizes.length; i++) {
      for (let k = 0; k < sizes[i]; k++) await ack(await client(), 'enter_room', `u${k}`, names[i]);
    }
    const [shown, rooms, total] = await until(watcher, 'room_change', (n, rs) =>
      rs.some((x) => x.name === names[1] && x.count === 6) && rs.some((x) => x.name === names[3] && x.count === 5) &&
      rs.some((x) => x.name === names[2] && x.count === 4));
    assert.equal(shown.length, 3);
    assert.deepEqual(shown, [...shown].sort());
    assert.deepEqual(new Set(shown), new Set([names[1], names[2], names[3]]));
    assert.equal(rooms.length, 3);
    assert.ok(total >= 5, `total ${total}`);
  });

  test('changes are coalesced: many rooms opened at once give few room_change events', async () => {
    const watcher = await client();
    await settle(watcher); // its greeting is in
    let events = 0;
    watcher.on('room_change', () => { events++; });
    const users = await Promise.all(Array.from({ length: 30 }, () => client()));
    const last = roomName();
    await Promise.all(users.map((u, i) => ack(u, 'enter_room', `c${i}`, i === 29 ? last : roomName())));
    await until(watcher, 'room_change', (n, rs, total) => total >= 30);
    assert.ok(events < 15, `30 lobby changes gave ${events} room_change events`);
  });

  test('people who join no room connect and leave without any lobby traffic', async () => {
    const watcher = await client();
    await settle(watcher); // its greeting is in
    const seen = [];
    watcher.on('room_change', (names) => seen.push(names));
    const idle = await Promise.all(Array.from({ length: 20 }, () => client()));
    for (const s of idle) s.close();
    await Promise.all(idle.map((s) => (s.connected ? next(s, 'disconnect') : null)));
    // A room opened after them is the first thing the watcher hears of.
    const r = roomName();
    const a = await client();
    const change = until(watcher, 'room_change', () => true);
    await ack(a, 'enter_room', 'late', r);
    await change;
    assert.equal(seen.length, 1, `room_change before the room opened: ${seen.length - 1}`);
  });
});
