// The SFU's signaling (docs/signaling.md, "Calls through the server") through
// socket.io-client: the SFU is the default, its call_join ack, sfu_offer refusals, and
// sfu_stats; a second server finds the default media port taken and moves to a free one.
// Media itself is tested with Chromium in tests/e2e/sfu.e2e.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ack, clientPool, startNoom, next } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');
const CHROME_OFFER = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../fuzz/corpus/sdp/chrome-vp8-only.sdp'), 'utf8');

let srv;
const pool = clientPool(io, () => srv);
const client = () => pool.connect();
before(async () => {
  srv = await startNoom(['--log-level', 'warn', '--stun-port', '0', '--media-port', '0']);
});
after(async () => { pool.closeAll(); await srv.stop(); });

test('the SFU is the default: call_join says so, with --max-call people', async () => {
  const a = await client(), b = await client();
  for (const s of [a, b]) await ack(s, 'enter_room', `u${pool.index(s)}`, 'sfu-room');
  assert.deepEqual(await ack(a, 'call_join', 'sfu-room'), { peers: [], max: 25, media: 'sfu' });
  // Not in the call yet: no offer is read.
  assert.deepEqual(await ack(b, 'sfu_offer', 'sfu-room', { type: 'offer', sdp: CHROME_OFFER, subs: [] }),
    { error: 'not in that call' });
  await ack(b, 'call_join', 'sfu-room');
  const res = await ack(a, 'sfu_offer', 'sfu-room', { type: 'offer', sdp: CHROME_OFFER, subs: ['6', b.id, '7', b.id] });
  assert.equal(res.type, 'answer');
  assert.match(res.sdp, /^v=0\r\n/);
  assert.match(res.sdp, /a=ice-lite\r\n/);
  assert.match(res.sdp, /a=group:BUNDLE 4 5 6 7\r\n/);
  assert.match(res.sdp, new RegExp(`a=msid:${b.id} ${b.id}-video\\r\\n`));
  assert.match(res.sdp, /a=candidate:1 1 udp 2130706431 127\.0\.0\.1 \d+ typ host\r\n/);
  const st = await ack(a, 'sfu_stats', 'sfu-room');
  assert.equal(st.participants, 2);
  assert.equal(st.legs, 2, 'a subscribes to b\'s audio and video');
  for (const bad of [
    ['sfu_offer', 'sfu-room', { type: 'answer', sdp: CHROME_OFFER }],
    ['sfu_offer', 'sfu-room', 'v=0'],
    ['sfu_offer', 'sfu-room', { type: 'offer', sdp: 'garbage' }],
    ['sfu_offer', 'sfu-room', { type: 'offer', sdp: CHROME_OFFER.replace(/a=fingerprint:[^\r]*\r\n/g, '') }],
    ['sfu_offer', 'sfu-room', { type: 'offer', sdp: CHROME_OFFER, subs: 'nope' }],
    ['sfu_offer', 'sfu-room', { type: 'offer', sdp: CHROME_OFFER, subs: [1, 2] }],
    ['sfu_offer', 'nosuchroom', { type: 'offer', sdp: CHROME_OFFER }],
  ]) {
    const r = await ack(a, ...bad);
    assert.equal(typeof r?.error, 'string', JSON.stringify(bad).slice(0, 80));
  }
  // A changed DTLS fingerprint is refused (the session's keys are bound to the first).
  const other = CHROME_OFFER.replace(/(a=fingerprint:sha-256 )([0-9A-F]{2})/g, (m, p, h) => p + (h === '00' ? '01' : '00'));
  assert.deepEqual(await ack(a, 'sfu_offer', 'sfu-room', { type: 'offer', sdp: other }), { error: 'the DTLS fingerprint changed' });
});

// The offer of a page that shares its screen and watches b's: a second sendonly video
// m-line (mid 8, its own SSRC) and a second recvonly one (mid 9).
function screenOffer() {
  const sections = CHROME_OFFER.split(/(?=^m=)/m);
  const sendVideo = sections.find((x) => /a=mid:5\r\n/.test(x));
  const recvVideo = sections.find((x) => /a=mid:7\r\n/.test(x));
  return CHROME_OFFER.replace('a=group:BUNDLE 4 5 6 7', 'a=group:BUNDLE 4 5 6 7 8 9') +
    sendVideo.replace('a=mid:5', 'a=mid:8').replaceAll('2394513982', '3000000001') +
    recvVideo.replace('a=mid:7', 'a=mid:9');
}

test('screen sharing: sfu_offer names the screen m-line, subs <peerId>:screen subscribes to one', async () => {
  const a = await client(), b = await client();
  for (const s of [a, b]) await ack(s, 'enter_room', `s${pool.index(s)}`, 'screen-room');
  for (const s of [a, b]) await ack(s, 'call_join', 'screen-room');
  const sdp = screenOffer();
  const section = (answer, mid) => answer.split(/(?=^m=)/m).find((x) => x.includes(`a=mid:${mid}\r\n`));
  // Without `screen`, a second camera is not taken: its m-line is answered inactive.
  let res = await ack(a, 'sfu_offer', 'screen-room', { type: 'offer', sdp, subs: ['6', b.id, '7', b.id] });
  assert.match(section(res.sdp, 5), /a=recvonly\r\n/);
  assert.match(section(res.sdp, 8), /a=inactive\r\n/);
  assert.match(section(res.sdp, 9), /a=inactive\r\n/, 'm-line 9 is named by nobody');
  // With it, both are published; b's screen goes out on m-line 9 with its own SSRC.
  res = await ack(a, 'sfu_offer', 'screen-room',
    { type: 'offer', sdp, subs: ['6', b.id, '7', b.id, '9', `${b.id}:screen`], screen: '8' });
  assert.equal(res.type, 'answer', JSON.stringify(res).slice(0, 200));
  assert.match(section(res.sdp, 5), /a=recvonly\r\n/);
  assert.match(section(res.sdp, 8), /a=recvonly\r\n/);
  assert.match(section(res.sdp, 7), new RegExp(`a=msid:${b.id} ${b.id}-video\r\n`));
  assert.match(section(res.sdp, 9), new RegExp(`a=msid:${b.id} ${b.id}-screen\r\n`));
  const ssrc = (x) => /a=ssrc:(\d+) /.exec(x)[1];
  assert.notEqual(ssrc(section(res.sdp, 7)), ssrc(section(res.sdp, 9)), 'camera and screen legs have their own SSRC');
  assert.equal((await ack(a, 'sfu_stats', 'screen-room')).legs, 3, 'b\'s audio, camera and screen');
  // A screen subscription on an audio m-line is not one.
  res = await ack(a, 'sfu_offer', 'screen-room', { type: 'offer', sdp, subs: ['6', `${b.id}:screen`], screen: '8' });
  assert.match(section(res.sdp, 6), /a=inactive\r\n/);
  for (const screen of [8, '', 'x'.repeat(40), ['8']]) {
    const r = await ack(a, 'sfu_offer', 'screen-room', { type: 'offer', sdp, subs: [], screen });
    assert.equal(typeof r?.error, 'string', `screen ${JSON.stringify(screen)} is refused`);
  }
});

test('a busy default media port moves to a free one; --media mesh keeps the mesh', async () => {
  const busy = await startNoom(['--log-level', 'warn', '--stun-port', '0']);
  const second = await startNoom(['--log-level', 'warn', '--stun-port', '0']);
  try {
    const s = io(second.url, { forceNew: true, transports: ['websocket'], reconnection: false });
    await next(s, 'connect');
    await ack(s, 'enter_room', 'x', 'r');
    assert.equal((await ack(s, 'call_join', 'r')).media, 'sfu', 'the second server still runs the SFU');
    s.close();
  } finally {
    await second.stop();
    await busy.stop();
  }
  const mesh = await startNoom(['--log-level', 'warn', '--stun-port', '0', '--media', 'mesh']);
  try {
    const s = io(mesh.url, { forceNew: true, transports: ['websocket'], reconnection: false });
    await next(s, 'connect');
    await ack(s, 'enter_room', 'x', 'r');
    assert.deepEqual(await ack(s, 'call_join', 'r'), { peers: [], max: 6 });
    s.close();
  } finally {
    await mesh.stop();
  }
});
