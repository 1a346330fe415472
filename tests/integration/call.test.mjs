// Video-call signaling (docs/signaling.md), GET /config (ICE servers, TURN REST
// credentials) and the built-in STUN responder, through real clients: socket.io-client,
// a UDP STUN client written here (RFC 5389), and Debian's stun-client (RFC 3489).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ack, clientPool, startNoom, next, noOffset } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

const STUN_PORT = 20000 + (process.pid % 20000);
let srv;
const pool = clientPool(io, () => srv);
const client = () => pool.connect();
before(async () => {
  srv = await startNoom(['--media', 'mesh', '--log-level', 'warn', '--stun-port', String(STUN_PORT), '--stun-urls', 'stun:stun.example.org:3478',
    '--turn-urls', 'turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349', '--turn-secret', 's3cret', '--turn-ttl', '600']);
});
after(async () => { pool.closeAll(); await srv.stop(); });
let seq = 0;
const roomName = () => `call-${process.pid}-${++seq}`;
const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };

describe('course signaling contract', () => {
  test('join_room: the rest of the room gets welcome(senderId)', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    await ack(a, 'join_room', r);
    const w = next(a, 'welcome');
    await ack(b, 'join_room', r);
    assert.deepEqual(noOffset(await w), [b.id]);
  });

  test('offer/answer/ice to a room name reach the others with the sender id last, never the sender', async () => {
    const a = await client(), b = await client(), c = await client();
    const r = roomName();
    for (const s of [a, b]) await ack(s, 'join_room', r);
    let echoed = false, leaked = false;
    a.on('offer', () => { echoed = true; });
    c.on('offer', () => { leaked = true; });
    const got = next(b, 'offer');
    assert.equal(await ack(a, 'offer', offer, r), undefined);
    assert.deepEqual(noOffset(await got), [offer, a.id]);
    const ans = next(a, 'answer');
    await ack(b, 'answer', { type: 'answer', sdp: 'v=0\r\n' }, r);
    assert.deepEqual(noOffset(await ans), [{ type: 'answer', sdp: 'v=0\r\n' }, b.id]);
    const cand = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    const ice = next(b, 'ice');
    await ack(a, 'ice', cand, r);
    assert.deepEqual(noOffset(await ice), [cand, a.id]);
    const end = next(b, 'ice');
    await ack(a, 'ice', null, r);
    assert.deepEqual(noOffset(await end), [null, a.id]);
    // Order per connection: a round trip on each proves nothing else arrived.
    await ack(a, 'join_room', r);
    await ack(c, 'join_room', roomName());
    assert.equal(echoed, false);
    assert.equal(leaked, false);
  });

  test('relays to a socket id go to that peer only, and only if it shares a room', async () => {
    const a = await client(), b = await client(), c = await client(), stranger = await client();
    const r = roomName();
    for (const s of [a, b, c]) await ack(s, 'join_room', r);
    let cGot = false;
    c.on('offer', () => { cGot = true; });
    const got = next(b, 'offer');
    await ack(a, 'offer', offer, b.id);
    assert.deepEqual(noOffset(await got), [offer, a.id]);
    await ack(c, 'join_room', r);
    assert.equal(cGot, false);
    const refused = await ack(a, 'offer', offer, stranger.id);
    assert.match(refused.error, /share a room/);
    assert.match((await ack(stranger, 'offer', offer, r)).error, /share a room/);
    assert.match((await ack(a, 'offer', offer, a.id)).error, /share a room/);
  });

  test('bad payloads are refused with an error ack, never relayed', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    for (const s of [a, b]) await ack(s, 'join_room', r);
    let relayed = false;
    b.on('offer', () => { relayed = true; });
    b.on('ice', () => { relayed = true; });
    for (const bad of [
      ['offer', { type: 'offer', sdp: 'x'.repeat(70 * 1024) }, r],
      ['offer', 'just a string', r],
      ['offer', { type: 'bogus', sdp: 'v=0' }, r],
      ['offer', { sdp: 'v=0' }, r],
      ['offer', offer],
      ['offer', offer, 42],
      ['ice', 12, r],
      ['ice', { notacandidate: true }, r],
      ['ice', { candidate: 'x'.repeat(5000) }, r],
    ]) {
      const res = await ack(a, ...bad);
      assert.equal(typeof res?.error, 'string', JSON.stringify(bad).slice(0, 80));
    }
    await ack(b, 'join_room', r);
    assert.equal(relayed, false);
  });
});

describe('group calls', () => {
  test('call_join lists the peers already there; they hear call_peer_joined; peer_left on leave and disconnect', async () => {
    const a = await client(), b = await client(), c = await client();
    const r = roomName();
    for (const s of [a, b, c]) await ack(s, 'enter_room', `u${pool.index(s)}`, r);
    assert.deepEqual(await ack(a, 'call_join', r), { peers: [], max: 6 });
    const joined = next(a, 'call_peer_joined');
    const res = await ack(b, 'call_join', r);
    assert.deepEqual(res.peers.map((p) => p.id), [a.id]);
    assert.deepEqual((await joined)[0], b.id);
    await ack(c, 'call_join', r);
    const leftA = next(a, 'peer_left');
    await ack(b, 'call_leave', r);
    assert.deepEqual(noOffset(await leftA), [b.id]);
    const leftB = next(a, 'peer_left');
    const cid = c.id; // socket.io-client clears id on disconnect
    c.disconnect();
    assert.deepEqual(noOffset(await leftB), [cid]);
  });

  test('call_state is relayed as peer_state(id, state)', async () => {
    const a = await client(), b = await client();
    const r = roomName();
    for (const s of [a, b]) { await ack(s, 'enter_room', 'x', r); await ack(s, 'call_join', r); }
    const st = next(b, 'peer_state');
    await ack(a, 'call_state', r, { muted: true, cameraOff: false });
    assert.deepEqual(noOffset(await st), [a.id, { muted: true, cameraOff: false }]);
  });

  test('a call holds 6 people; the seventh is refused; calls need the chat room first', async () => {
    const r = roomName();
    const ss = [];
    for (let i = 0; i < 7; i++) { const s = await client(); ss.push(s); await ack(s, 'enter_room', `p${i}`, r); }
    for (let i = 0; i < 6; i++) assert.ok(Array.isArray((await ack(ss[i], 'call_join', r)).peers));
    assert.match((await ack(ss[6], 'call_join', r)).error, /full/);
    const outsider = await client();
    assert.match((await ack(outsider, 'call_join', r)).error, /enter the room/);
  });

  test('internal call rooms never show up in the lobby', async () => {
    const a = await client();
    const r = roomName();
    await ack(a, 'enter_room', 'x', r);
    const change = next(a, 'room_change');
    await ack(a, 'call_join', r);
    await ack(a, 'enter_room', 'x', roomName());
    const [names] = await change;
    assert.ok(names.every((n) => !n.startsWith('\u0001')));
  });
});

describe('ICE configuration', () => {
  test('GET /config gives our STUN URL (from the Host header), extra STUN and TURN with REST credentials', async () => {
    const res = await fetch(`${srv.url}/config`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control'), /no-store/);
    const cfg = await res.json();
    assert.equal(cfg.maxPeers, 6);
    const [stun, turn] = cfg.iceServers;
    assert.deepEqual(stun.urls, [`stun:127.0.0.1:${STUN_PORT}`, 'stun:stun.example.org:3478']);
    assert.deepEqual(turn.urls, ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349']);
    const [expiry, user] = turn.username.split(':');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Number(expiry) >= now + 590 && Number(expiry) <= now + 610, turn.username);
    assert.equal(user, 'noom');
    assert.equal(turn.credential, createHmac('sha1', 's3cret').update(turn.username).digest('base64'));
  });
});

describe('built-in STUN responder', () => {
  function binding(port, { fingerprint = false } = {}) {
    const tid = randomBytes(12);
    const msg = Buffer.alloc(20);
    msg.writeUInt16BE(0x0001, 0);
    msg.writeUInt32BE(0x2112a442, 4);
    tid.copy(msg, 8);
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      const t = setTimeout(() => { sock.close(); reject(new Error('no STUN answer')); }, 3000);
      sock.on('message', (m) => { clearTimeout(t); const addr = sock.address(); sock.close(); resolve({ m, tid, addr }); });
      sock.bind(0, '127.0.0.1', () => sock.send(msg, port, '127.0.0.1'));
    });
  }

  test('answers a Binding request with the XOR-mapped source address', async () => {
    const { m, tid, addr } = await binding(STUN_PORT);
    assert.equal(m.readUInt16BE(0), 0x0101);
    assert.ok(m.subarray(8, 20).equals(tid));
    let off = 20, mapped = null;
    while (off + 4 <= m.length) {
      const type = m.readUInt16BE(off), len = m.readUInt16BE(off + 2);
      if (type === 0x0020) {
        const port = m.readUInt16BE(off + 6) ^ 0x2112;
        const ip = (m.readUInt32BE(off + 8) ^ 0x2112a442) >>> 0;
        mapped = { port, ip: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.') };
      }
      off += 4 + Math.ceil(len / 4) * 4;
    }
    assert.deepEqual(mapped, { port: addr.port, ip: '127.0.0.1' });
  });

  test("Debian's stun-client (RFC 3489) sees an open server", { skip: existsSync('/usr/bin/stun') ? false : 'stun-client not installed' }, async () => {
    const out = await new Promise((resolve) => execFile('/usr/bin/stun', [`127.0.0.1:${STUN_PORT}`], { timeout: 10000 }, (err, stdout) => resolve(stdout)));
    assert.match(out, /Primary: Open/);
  });
});
