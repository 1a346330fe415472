// Browser end-to-end tests of calls through the server's SFU (--media sfu, app/media/,
// docs/signaling.md "Calls through the server"), in headless Chromium with fake cameras
// and microphones, inside a loopback-only network namespace when this process may make
// one (lib.mjs startNetns).
//
// What is proved: every page keeps exactly ONE RTCPeerConnection (to the server), decodes
// the video of every other participant with frames advancing (inbound-rtp framesDecoded
// per stream) and receives their audio (totalAudioEnergy grows); the server's own
// counters (sfu_stats) show one upstream per published track; a page that leaves loses
// its tile on the others and the others keep going; screen sharing (a third upstream, a
// large tile); a camera switch (replaceTrack, same SSRC); late joiners decode everyone
// within 5 s; one page's upload at N people within 1.5x of at 2; RTX answers to NACKs;
// server RSS flat over a flood of hostile datagrams (release builds).
//
// 8 pages: NOOM_SFU_E2E_PEOPLE=8 (default 3; the machine shares two cores with other
// sessions, and 8 Chromium pages encoding 320x240 VP8 each need about two cores alone).
//
//   NOOM_BUILD=/tmp/build-x node --test tests/e2e/sfu.e2e.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  CALL_ARGS, captureSocket, freeUdpPort, IS_REF, joinCall, launchBrowser, newUser, openRoom, recordPeerConnections, startNetns,
  startServer, waitState,
} from './lib.mjs';

const CONNECT_MS = 30000; // ICE + DTLS + first keyframes on a busy two-core machine
const PEOPLE = Math.max(3, Number(process.env.NOOM_SFU_E2E_PEOPLE) || 3);
const ROOM = 'sfu-room';

const SFU_CALL_ARGS = [
  ...CALL_ARGS,
  '--auto-select-desktop-capture-source=Entire screen', // getDisplayMedia: Chromium's fake screen, no picker
];

// Runs in every page before its scripts, after captureSocket (window.__socket, to ask the
// server for sfu_stats) and recordPeerConnections: sums inbound-rtp stats, samples videos.
function instrument() {
  const pcs = window.__pcs; // recordPeerConnections
  const live = () => pcs.filter((pc) => pc.connectionState !== 'closed');
  // RGBA of a <video> scaled down to 32x24.
  const pixels = (video) => {
    const c = document.createElement('canvas');
    c.width = 32;
    c.height = 24;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(video, 0, 0, 32, 24);
    return g.getImageData(0, 0, 32, 24).data;
  };
  window.__sfu = {
    pcs,
    live,
    // Per inbound stream: frames decoded (video) and audio energy, keyed by stats id.
    async inbound() {
      const video = {};
      const audio = {};
      let samples = 0;
      for (const pc of live()) {
        for (const r of (await pc.getStats()).values()) {
          if (r.type !== 'inbound-rtp') continue;
          if (r.kind === 'video') video[r.id] = r.framesDecoded || 0;
          else {
            audio[r.id] = r.totalAudioEnergy || 0;
            samples += r.totalSamplesReceived || 0;
          }
        }
      }
      return { video, audio, samples };
    },
    // The SRTP ciphers of the page's transports.
    async ciphers() {
      const out = [];
      for (const pc of live()) {
        for (const r of (await pc.getStats()).values()) if (r.type === 'transport' && r.srtpCipher) out.push(r.srtpCipher);
      }
      return out;
    },
    // Addresses of the remote candidates of every selected pair (where media is sent).
    async remotes() {
      const out = new Set();
      for (const pc of live()) {
        const stats = await pc.getStats();
        // Every transport's selected pair (BUNDLE: one transport).
        for (const r of stats.values()) {
          if (r.type !== 'transport' || !r.selectedCandidatePairId) continue;
          const pair = stats.get(r.selectedCandidatePairId);
          const c = pair && stats.get(pair.remoteCandidateId);
          if (c) out.add(`${c.address || c.ip}:${c.port}`);
        }
      }
      return [...out];
    },
    // Mean colour of a <video>: the fake cameras differ in their green.
    rgb(video) {
      const px = pixels(video);
      const m = [0, 0, 0];
      for (let i = 0; i < px.length; i += 4) for (let k = 0; k < 3; k++) m[k] += px[i + k];
      return m.map((v) => v / (px.length / 4));
    },
    // The SSRC this page publishes its camera with.
    async videoSsrc() {
      for (const pc of live()) for (const r of (await pc.getStats()).values()) if (r.type === 'outbound-rtp' && r.kind === 'video') return r.ssrc;
      return 0;
    },
    // Bytes this page has sent (outbound-rtp, every stream).
    async sent() {
      let n = 0;
      for (const pc of live()) for (const r of (await pc.getStats()).values()) if (r.type === 'outbound-rtp') n += r.bytesSent || 0;
      return n;
    },
    // Mean luma of a <video> (black: camera off).
    luma(video) {
      const px = pixels(video);
      let y = 0;
      for (let i = 0; i < px.length; i += 4) y += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      return y / (px.length / 4);
    },
    // Received audio energy and samples of one participant (by socket id): its tile's
    // audio track, matched to inbound-rtp by trackIdentifier.
    async audioOf(peerId) {
      const v = document.querySelector(`[data-peer="${peerId}"] video`);
      const track = v && v.srcObject && v.srcObject.getAudioTracks()[0];
      for (const pc of live()) {
        for (const r of (await pc.getStats()).values()) {
          if (r.type === 'inbound-rtp' && track && r.trackIdentifier === track.id) {
            return { e: r.totalAudioEnergy || 0, n: r.totalSamplesReceived || 0 };
          }
        }
      }
      return { e: 0, n: 0 };
    },
    // What the server's receiver reports told this publisher (remote-inbound-rtp).
    async reported() {
      const out = [];
      for (const pc of live()) {
        for (const r of (await pc.getStats()).values()) {
          if (r.type === 'remote-inbound-rtp') out.push({ kind: r.kind, rtt: r.roundTripTime, lost: r.packetsLost });
        }
      }
      return out;
    },
    stats(room) {
      return new Promise((res) => window.__socket.emit('sfu_stats', room, res));
    },
  };
}

const REMOTE = '#video-grid .tile:not(.tile-self):not(.tile-screen)';
const SCREEN = '#video-grid .tile-screen';

// A hostile UDP sender, run with `node -e` (inside the namespace when there is one):
//   garbage PORT [N]: N (300) datagrams of every first-byte class from an address that
//     did no ICE;
//   hijack PORT UFRAG PWD [N [SSRC]]: a valid ICE check with USE-CANDIDATE for a participant (so the
//     server moves its media path here), then N (100) RTP with bad SRTP authentication
//     tags (random SSRCs, or the given one).
// Prints {"sent": N} when done.
const HOSTILE_SRC = `
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const [mode, port, ufrag, pwd, count, ssrc] = process.argv.slice(1);
const sock = dgram.createSocket('udp4');
const send = (b) => new Promise((res) => sock.send(b, Number(port), '127.0.0.1', res));
function attr(t, v) {
  const pad = (4 - (v.length % 4)) % 4;
  const h = Buffer.alloc(4); h.writeUInt16BE(t); h.writeUInt16BE(v.length, 2);
  return Buffer.concat([h, v, Buffer.alloc(pad)]);
}
function check(user, key) {
  const tid = crypto.randomBytes(12);
  let body = Buffer.concat([attr(0x0006, Buffer.from(user)), attr(0x0025, Buffer.alloc(0))]);
  const hdr = (len) => { const h = Buffer.alloc(20); h.writeUInt16BE(1); h.writeUInt16BE(len, 2); h.writeUInt32BE(0x2112A442, 4); tid.copy(h, 8); return h; };
  const mac = crypto.createHmac('sha1', key).update(Buffer.concat([hdr(body.length + 24), body])).digest();
  body = Buffer.concat([body, attr(0x0008, mac)]);
  return Buffer.concat([hdr(body.length), body]);
}
function rtp(seq) {
  const b = crypto.randomBytes(200);
  b[0] = 0x80; b[1] = 96; b.writeUInt16BE(seq, 2);
  // The victim's own SSRC reaches libsrtp; sequence numbers spread over the whole space
  // so some are ahead of its replay window (then authentication fails), some behind.
  if (ssrc) { b.writeUInt32BE(Number(ssrc) >>> 0, 8); b.writeUInt16BE((seq * 4099) & 0xffff, 2); }
  return b;
}
(async () => {
  let sent = 0;
  if (mode === 'garbage') {
    for (let i = 0; i < (Number(ufrag) || 300); i++) {
      const b = crypto.randomBytes(50 + (i % 200));
      b[0] = [0x00, 0x16, 0x80, 0x81, 0x17][i % 5];
      if (i % 5 === 3) b[1] = 200;
      await send(b); sent++;
    }
    await send(check('nosuchufrag:x', 'nosuchpassword')); sent++;
  } else {
    await new Promise((res) => { sock.once('message', res); send(check(ufrag + ':x', pwd)); });
    for (let i = 0; i < (Number(count) || 100); i++) { await send(rtp(i & 0xffff)); sent++; }
  }
  process.stdout.write(JSON.stringify({ sent }) + '\\n');
  sock.close();
})();
`;

// A lossy UDP relay, run with `node -e`: listens on a free port (printed as {"port"}),
// forwards each client's datagrams to 127.0.0.1:TARGET from a socket of its own and the
// answers back, dropping LOSS percent of the RTP/RTCP ones in each direction (STUN and
// DTLS pass, so set-up is not what is measured).
const LOSSY_SRC = `
const dgram = require('node:dgram');
const [target, loss] = process.argv.slice(1).map(Number);
const front = dgram.createSocket('udp4');
const backs = new Map();
const drop = (b) => b[0] >= 128 && b[0] <= 191 && Math.random() * 100 < loss;
front.on('message', (msg, from) => {
  const key = from.address + ':' + from.port;
  let back = backs.get(key);
  if (!back) {
    back = dgram.createSocket('udp4');
    back.on('message', (m) => { if (!drop(m)) front.send(m, from.port, from.address); });
    back.bind(0, '127.0.0.1');
    backs.set(key, back);
  }
  if (!drop(msg)) back.send(msg, target, '127.0.0.1');
});
front.bind(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: front.address().port }) + '\\n'));
`;

async function lossyRelay(target, loss) {
  const [cmd, argv] = netns ? netns.wrap(process.execPath, ['-e', LOSSY_SRC, String(target), String(loss)])
    : [process.execPath, ['-e', LOSSY_SRC, String(target), String(loss)]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((res, rej) => {
    child.stdout.once('data', (d) => res(JSON.parse(String(d)).port));
    child.once('exit', (code) => rej(new Error(`lossy relay exited (${code})`)));
  });
  return { port, stop: () => child.kill('SIGKILL') };
}

async function hostile(args) {
  const [cmd, argv] = netns ? netns.wrap(process.execPath, ['-e', HOSTILE_SRC, ...args])
    : [process.execPath, ['-e', HOSTILE_SRC, ...args]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((res) => child.on('exit', res));
  assert.equal(code, 0, 'the hostile sender ran');
  return JSON.parse(out.trim());
}

let MEDIA_PORT = 3479; // inside the private namespace nobody else has it
const stats = (page) => page.evaluate((room) => window.__sfu.stats(room), ROOM);

let netns = null;
let server;
let browser;
const pages = [];

function check(fn) {
  return async (t) => {
    try {
      await fn(t);
      for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors in ${p.nick}`);
    } catch (err) {
      const tail = server?.stderr().slice(-3000);
      if (tail) err.message += `\n--- server stderr (tail) ---\n${tail}`;
      throw err;
    }
  };
}

// A fresh user with the instrumented page, not yet in the room.
function sfuUser() {
  return newUser(browser, server.origin, { initScript: [captureSocket, recordPeerConnections, instrument], viewport: { width: 800, height: 600 } });
}

async function enterAndJoin(nickname) {
  const page = await sfuUser();
  pages.push(page);
  page.nick = nickname;
  await openRoom(page, nickname, ROOM);
  await joinCall(page);
  return page;
}

// n remote tiles, each showing a picture whose currentTime advances.
async function waitTiles(page, n, timeout = CONNECT_MS) {
  try {
    await page.waitForFunction(([sel, want]) => {
      const vids = [...document.querySelectorAll(`${sel} video`)];
      if (vids.length !== want) return false;
      window.__t0 = window.__t0 || new Map();
      return vids.every((v) => {
        if (!(v.videoWidth > 0 && !v.paused)) return false;
        const first = window.__t0.get(v) ?? v.currentTime;
        window.__t0.set(v, first);
        return v.currentTime > first + 0.3;
      });
    }, [REMOTE, n], { timeout, polling: 200 });
  } catch (err) {
    const seen = await page.evaluate((sel) => [...document.querySelectorAll(`${sel} video`)]
      .map((v) => ({ w: v.videoWidth, t: v.currentTime, paused: v.paused })), REMOTE).catch(() => null);
    const pcs = await page.evaluate(() => window.__sfu.pcs.map((pc) => pc.connectionState)).catch(() => null);
    throw new Error(`${page.nick}: waited for ${n} live remote videos; saw ${JSON.stringify(seen)}, pcs ${JSON.stringify(pcs)}\n` +
      `${err.message.split('\n')[0]}`);
  }
}

// Every one of n inbound video streams decodes more frames and n audio streams gain energy.
async function waitStreamsAdvance(page, n) {
  const base = await page.evaluate(() => window.__sfu.inbound());
  const deadline = Date.now() + CONNECT_MS;
  let now = base;
  for (;;) {
    now = await page.evaluate(() => window.__sfu.inbound());
    const vids = Object.keys(now.video).filter((id) => now.video[id] > (base.video[id] ?? 0) && now.video[id] > 0);
    const auds = Object.keys(now.audio).filter((id) => now.audio[id] > (base.audio[id] ?? 0));
    if (vids.length >= n && auds.length >= n) return;
    if (Date.now() > deadline) {
      throw new Error(`${page.nick}: wanted ${n} advancing video and audio streams: ${JSON.stringify(base)} -> ` +
        `${JSON.stringify(now)}`);
    }
    await page.waitForTimeout(250); // polling getStats (a promise) from outside the page
  }
}

before(async () => {
  if (IS_REF) return;
  netns = await startNetns();
  if (!netns) MEDIA_PORT = await freeUdpPort();
  server = await startServer({ netns, extra: ['--media', 'sfu', '--media-port', String(MEDIA_PORT), '--stun-port', '0'] });
  browser = await launchBrowser({ netns, args: SFU_CALL_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (netns) netns.stop();
});

describe('calls through the SFU', { skip: IS_REF && 'NOOM_REF=1: the reference server has no SFU' }, () => {
  test(`${PEOPLE} people: one connection each, everyone sees and hears everyone`, { timeout: 180000 }, check(async () => {
    for (let i = 0; i < PEOPLE; i++) await enterAndJoin(`p${i}`);
    for (const page of pages) await waitTiles(page, PEOPLE - 1);
    for (const page of pages) await waitStreamsAdvance(page, PEOPLE - 1);
    for (const page of pages) {
      const n = await page.evaluate(() => window.__sfu.live().length);
      assert.equal(n, 1, `${page.nick}: one RTCPeerConnection`);
      let remotes = [];
      for (let i = 0; i < 50 && remotes.length === 0; i++) {
        remotes = await page.evaluate(() => window.__sfu.remotes());
        if (!remotes.length) await page.waitForTimeout(200); // stats lag the state on a loaded machine
      }
      assert.equal(remotes.length, 1, `${page.nick}: media to exactly one address: ${remotes}`);
      assert.ok(remotes[0].endsWith(`:${MEDIA_PORT}`), `${page.nick}: that address is the SFU's port: ${remotes}`);
      // Chromium prefers AES-GCM, and the server takes it.
      assert.deepEqual(await page.evaluate(() => window.__sfu.ciphers()), ['SRTP_AEAD_AES_128_GCM'], `${page.nick}: SRTP cipher`);
    }
    // The server's receiver reports reach every publisher, for audio and video, with a
    // round-trip time (from LSR/DLSR of its own sender reports).
    for (const page of pages) {
      await page.waitForFunction(() => window.__sfu.reported().then((r) => (window.__rr = r)) && window.__rr &&
        ['audio', 'video'].every((k) => window.__rr.some((x) => x.kind === k && x.rtt > 0 && x.lost >= 0)),
      null, { timeout: 15000 });
    }
    const st = await pages[0].evaluate((room) => window.__sfu.stats(room), ROOM);
    assert.equal(st.participants, PEOPLE);
    assert.equal(st.upstreams, 2 * PEOPLE, `one audio and one video upstream per publisher: ${JSON.stringify(st)}`);
    assert.equal(st.legs, 2 * PEOPLE * (PEOPLE - 1));
    assert.ok(st.forwarded > 0);
    assert.ok(st.keyframeRequests > 0, 'newcomers got a keyframe requested for them');
    assert.equal(st.authFailures, 0);
    assert.equal(st.dtlsFailures, 0);
  }));

  test('a participant who leaves disappears from the others, who keep going', { timeout: 120000 }, check(async () => {
    const gone = pages.pop();
    await gone.click('#call-leave-btn');
    for (const page of pages) {
      await page.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, PEOPLE - 2], { timeout: 10000 });
    }
    await gone.context().close();
    for (const page of pages) await waitStreamsAdvance(page, PEOPLE - 2);
    const st = await pages[0].evaluate((room) => window.__sfu.stats(room), ROOM);
    assert.equal(st.participants, PEOPLE - 1);
    assert.equal(st.upstreams, 2 * (PEOPLE - 1));
  }));

  test('5% packet loss on one browser\'s path: NACKs answered from the cache, video keeps advancing',
    { timeout: 120000 }, check(async () => {
      const relay = await lossyRelay(MEDIA_PORT, 5);
      const page = await sfuUser();
      page.nick = 'lossy';
      try {
        // The server's candidates point at the relay instead of the SFU.
        await page.addInitScript((port) => {
          const srd = RTCPeerConnection.prototype.setRemoteDescription;
          RTCPeerConnection.prototype.setRemoteDescription = function (d, ...rest) {
            if (d && d.type === 'answer') d = { type: 'answer', sdp: d.sdp.replace(/(a=candidate:\S+ 1 udp \d+ \S+) \d+/g, `$1 ${port}`) };
            return srd.call(this, d, ...rest);
          };
        }, relay.port);
        await openRoom(page, 'lossy', ROOM);
        await joinCall(page);
        const before0 = await stats(pages[0]);
        await waitTiles(page, pages.length);
        await waitStreamsAdvance(page, pages.length);
        // The receiver asked for retransmissions and the server answered some from its cache.
        await page.waitForFunction(() => window.__sfu.live()[0].getStats().then((s) => {
          window.__nacks = [...s.values()].filter((r) => r.type === 'inbound-rtp' && r.kind === 'video')
            .reduce((n, r) => n + (r.nackCount || 0), 0);
        }) && window.__nacks > 0, null, { timeout: 20000 });
        await pages[0].waitForFunction(([room, b]) => window.__sfu.stats(room).then((s) => (window.__st = s)) &&
          window.__st && window.__st.nacksAnswered > b, [ROOM, before0.nacksAnswered], { timeout: 20000 });
        // Chromium offers RTX (RFC 4588) and the server answers those NACKs with RTX packets
        // (own SSRC and numbering, original sequence number first), which the browser
        // counts as retransmissions received on the stream they repair.
        assert.match(await page.evaluate(() => window.__sfu.live()[0].remoteDescription.sdp), /a=ssrc-group:FID \d+ \d+\r\n/);
        await pages[0].waitForFunction(([room, b]) => window.__sfu.stats(room).then((s) => (window.__st = s)) &&
          window.__st && window.__st.rtxSent > b, [ROOM, before0.rtxSent], { timeout: 20000 });
        await page.waitForFunction(() => window.__sfu.live()[0].getStats().then((s) => {
          window.__rtx = [...s.values()].filter((r) => r.type === 'inbound-rtp' && r.kind === 'video')
            .reduce((n, r) => n + (r.retransmittedPacketsReceived || 0), 0);
        }) && window.__rtx > 0, null, { timeout: 20000 });
        // Its lost uplink packets: the others' NACKs go on to it (coalesced), it resends.
        await pages[0].waitForFunction(([room, b]) => window.__sfu.stats(room).then((s) => (window.__st = s)) &&
          window.__st && window.__st.nacksForwarded > b, [ROOM, before0.nacksForwarded], { timeout: 20000 });
        for (const p of pages) await waitStreamsAdvance(p, pages.length);
        await waitStreamsAdvance(page, pages.length);
      } finally {
        await page.context().close();
        relay.stop();
      }
      for (const p of pages) {
        await p.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
          [REMOTE, pages.length - 1], { timeout: 10000 });
      }
    }));

  test('camera off shows black, mute silences and drops the speaker highlight, both come back (through the SFU)', { timeout: 120000 }, check(async () => {
    const [a, b] = pages;
    const aid = await a.evaluate(() => window.__socket.id);
    const tile = `[data-peer="${aid}"] video`;
    const luma = () => b.evaluate((sel) => window.__sfu.luma(document.querySelector(sel)), tile);
    assert.ok(await luma() > 30, 'a picture before');
    await a.click('#camera-btn');
    await b.waitForFunction((sel) => window.__sfu.luma(document.querySelector(sel)) < 10, tile,
      { timeout: 10000, polling: 100 });
    await a.click('#camera-btn');
    await b.waitForFunction((sel) => window.__sfu.luma(document.querySelector(sel)) > 30, tile,
      { timeout: 10000, polling: 100 });
    // Muted: b keeps receiving a's audio samples, but their energy stops growing for 1.5 s.
    const energy = async () => ({ ...(await b.evaluate((id) => window.__sfu.audioOf(id), aid)), t: Date.now() });
    await a.click('#mute-btn');
    const deadline = Date.now() + 15000;
    let quiet = null;
    let last = await energy();
    while (Date.now() < deadline) {
      await b.waitForTimeout(200); // polling getStats (a promise) from outside the page
      const now = await energy();
      if (now.e === last.e && now.n > last.n) quiet ??= last;
      else quiet = null;
      last = now;
      if (quiet && now.t - quiet.t >= 1500) break;
    }
    assert.ok(quiet && last.t - quiet.t >= 1500, `received audio went quiet after mute: ${JSON.stringify(last)}`);
    // a is muted: its tile on b is not highlighted as the speaker (within the hold time).
    await b.waitForFunction((id) => document.querySelector(`[data-peer="${id}"]`).dataset.speaking === 'false', aid,
      { timeout: 5000 });
    await a.click('#mute-btn');
    // Unmuted, its beeps make it the active speaker on b.
    await b.waitForFunction((id) => document.querySelector(`[data-peer="${id}"]`).dataset.speaking === 'true', aid,
      { timeout: 10000 });
    const unmuted = await energy();
    await b.waitForFunction(([id, e0]) => window.__sfu.audioOf(id).then((s) => (window.__e = s.e)) && window.__e > e0,
      [aid, unmuted.e], { timeout: 10000 });
  }));

  test('screen sharing: a third upstream, shown large to the others, stopped by the button or by the track ending', { timeout: 120000 }, check(async () => {
    const [a, ...others] = pages;
    const aid = await a.evaluate(() => window.__socket.id);
    const n = pages.length;
    const base = await a.evaluate((room) => window.__sfu.stats(room), ROOM);
    assert.equal(base.upstreams, 2 * n);
    assert.equal(await a.isDisabled('#screen-btn'), false, 'the button works with the SFU');
    for (let round = 0; round < 2; round++) {
      await a.click('#screen-btn');
      await a.waitForFunction(() => document.querySelector('#screen-btn').getAttribute('aria-pressed') === 'true');
      // Each other page shows a's screen in one large tile whose picture advances (the
      // fake screen is 16:9, the cameras 4:3), and a's camera tile keeps going.
      for (const p of others) {
        await p.waitForFunction(([sel, id]) => {
          const tiles = document.querySelectorAll(sel);
          const v = tiles.length === 1 && tiles[0].dataset.peer === `${id}:screen` &&
            tiles[0].querySelector('video');
          if (!v || !(v.videoWidth > 0) || Math.abs(v.videoWidth / v.videoHeight - 16 / 9) > 0.05) return false;
          window.__s0 = window.__s0 ?? v.currentTime;
          return v.currentTime > window.__s0 + 0.5;
        }, [SCREEN, aid], { timeout: CONNECT_MS, polling: 200 });
        await p.evaluate(() => { delete window.__s0; });
        const big = await p.evaluate(([sel, id]) => [document.querySelector(sel).getBoundingClientRect().width,
          document.querySelector(`[data-peer="${id}"]`).getBoundingClientRect().width], [SCREEN, aid]);
        assert.ok(big[0] > 1.5 * big[1], `${p.nick}: the screen is shown larger than the camera tiles: ${big}`);
        await waitTiles(p, n - 1);
        await waitStreamsAdvance(p, n - 1);
      }
      const st = await a.evaluate((room) => window.__sfu.stats(room), ROOM);
      assert.equal(st.upstreams, 2 * n + 1, `one more upstream, the screen: ${JSON.stringify(st)}`);
      assert.equal(st.legs, 2 * n * (n - 1) + (n - 1), 'one screen leg per other participant');
      // Round 0: the button again; round 1: the capture ends (the browser's own "Stop sharing").
      if (round === 0) await a.click('#screen-btn');
      else {
        await a.evaluate(() => {
          const s = window.__sfu.live()[0].getSenders().find((x) => x.track && x.track.label.startsWith('screen'));
          s.track.dispatchEvent(new Event('ended'));
        });
      }
      await a.waitForFunction(() => document.querySelector('#screen-btn').getAttribute('aria-pressed') === 'false');
      for (const p of others) await p.waitForFunction((sel) => !document.querySelector(sel), SCREEN, { timeout: 10000 });
      await a.waitForFunction(([room, want]) => window.__sfu.stats(room).then((s) => (window.__st = s)) && window.__st &&
        window.__st.upstreams === want, [ROOM, 2 * n], { timeout: 10000 });
      for (const p of others) await waitStreamsAdvance(p, n - 1);
    }
  }));

  test('a browser that closes its media connection is ended at once (DTLS close_notify)', { timeout: 120000 }, check(async () => {
    const page = await enterAndJoin('vanishing');
    pages.pop(); // not in the shared list: it stops on purpose
    for (const p of [...pages, page]) await waitTiles(p, pages.length);
    const before0 = await stats(pages[0]);
    // Its socket stays connected; only its media connection dies without a word.
    await page.evaluate(() => window.__sfu.live()[0].close());
    for (const p of pages) {
      await p.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, pages.length - 1], { timeout: 10000 });
    }
    const st = await stats(pages[0]);
    assert.equal(st.participants, before0.participants - 1, 'its media state is gone');
    await page.context().close();
  }));

  test('garbage UDP and hostile offers are refused; the call goes on', { timeout: 120000 }, check(async () => {
    const before0 = await stats(pages[0]);
    const { sent } = await hostile(['garbage', String(MEDIA_PORT)]);
    // Everything but the STUN-looking datagrams counts as coming from an unknown address.
    await pages[0].waitForFunction(([room, want]) => window.__sfu.stats(room).then((s) => (window.__st = s)) &&
      window.__st && window.__st.unknownSource >= want, [ROOM, before0.unknownSource + 200], { timeout: 10000 });
    assert.ok(sent >= 300);
    const offer = (sdp, subs = []) => pages[0].evaluate(([room, d, s]) => new Promise((res) =>
      window.__socket.emit('sfu_offer', room, { type: 'offer', sdp: d, subs: s }, res)), [ROOM, sdp, subs]);
    const head = 'v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n' +
      `a=fingerprint:sha-256 ${Array(32).fill('AB').join(':')}\r\n`;
    const mline = (i) => `m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:${i}\r\na=rtpmap:96 VP8/90000\r\na=recvonly\r\n`;
    const many = (n) => head + Array.from({ length: n }, (_, i) => mline(i)).join('');
    assert.deepEqual(await offer(many(10000)), { error: 'bad payload: expected {type: "offer", sdp, subs}' });
    assert.deepEqual(await offer(many(300)), { error: 'the offer has too many m-lines' });
    assert.deepEqual(await offer('v=0\r\nnonsense'), { error: 'malformed SDP line' });
    assert.deepEqual(await offer(head + mline(0), ['0']), { error: 'bad payload: subs must be [mid, peerId, ...] pairs' });
    // The page's own session is untouched by the refused offers.
    for (const page of pages) await waitStreamsAdvance(page, pages.length - 1);
  }));

  test('a browser whose certificate does not match its offer gets no media', { timeout: 120000 }, check(async () => {
    const before0 = await stats(pages[0]);
    const page = await sfuUser();
    page.nick = 'forger';
    // Rewrites the a=fingerprint lines of every offer this page sends.
    await page.addInitScript(() => {
      const wrap = () => {
        const s = window.__socket;
        if (!s || s.__forged) return;
        s.__forged = true;
        const emit = s.emit.bind(s);
        s.emit = (ev, ...args) => {
          if (ev === 'sfu_offer' && args[1] && typeof args[1].sdp === 'string') {
            args[1] = { ...args[1], sdp: args[1].sdp.replace(/a=fingerprint:sha-256 [0-9A-F:]+/g, `a=fingerprint:sha-256 ${Array(32).fill('00').join(':')}`) };
          }
          return emit(ev, ...args);
        };
      };
      setInterval(wrap, 10);
    });
    await openRoom(page, 'forger', ROOM);
    await page.click('#call-join-btn');
    // Ended by the server (call_ended), possibly before the controls were even painted.
    await page.waitForFunction(() => /media connection to the server was lost/.test(
      document.querySelector('#call-error').textContent), null, { timeout: 20000 });
    // The server finishes the handshake, finds the certificate is not the offered one,
    // and ends that participant's media and call membership.
    await pages[0].waitForFunction(([room, want]) => window.__sfu.stats(room).then((s) => (window.__st = s)) &&
      window.__st && window.__st.dtlsFailures >= want, [ROOM, before0.dtlsFailures + 1], { timeout: 20000 });
    for (const p of pages) {
      await p.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, pages.length - 1], { timeout: 10000 });
    }
    const st = await stats(pages[0]);
    assert.equal(st.participants, pages.length);
    await page.context().close();
  }));

  test('a browser that never gets ICE through is ended after 30 s (consent)', { timeout: 120000 }, check(async () => {
    const page = await sfuUser();
    page.nick = 'unreachable';
    // Points the server's candidates at the discard port: no check ever reaches the SFU,
    // while the page's socket stays connected and in the call.
    await page.addInitScript(() => {
      const srd = RTCPeerConnection.prototype.setRemoteDescription;
      RTCPeerConnection.prototype.setRemoteDescription = function (d, ...rest) {
        if (d && d.type === 'answer') d = { type: 'answer', sdp: d.sdp.replace(/(a=candidate:\S+ 1 udp \d+ \S+) \d+/g, '$1 9') };
        return srd.call(this, d, ...rest);
      };
    });
    await openRoom(page, 'unreachable', ROOM);
    await joinCall(page);
    for (const p of pages) {
      await p.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, pages.length], { timeout: 10000 });
    }
    const t0 = Date.now();
    for (const p of pages) {
      await p.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, pages.length - 1], { timeout: 45000 });
    }
    const waited = Date.now() - t0;
    assert.ok(waited > 20000, `ended by the 30 s consent timeout, not at once (${waited} ms)`);
    assert.equal((await stats(pages[0])).participants, pages.length, 'its media state is gone');
    // The page is told, and is back to "Join call".
    await waitState(page, '#call-join-btn', 'visible');
    assert.match(await page.textContent('#call-error'), /media connection to the server was lost/);
    await page.context().close();
  }));

  test('SRTP with bad authentication tags is dropped and counted', { timeout: 120000 }, check(async () => {
    // The last page's ICE credentials, from the server's answer in that page.
    const victim = pages.pop();
    const { ufrag, pwd } = await victim.evaluate(() => {
      const sdp = window.__sfu.live()[0].remoteDescription.sdp;
      return { ufrag: sdp.match(/a=ice-ufrag:(\S+)/)[1], pwd: sdp.match(/a=ice-pwd:(\S+)/)[1] };
    });
    const ssrc = await victim.evaluate(() => window.__sfu.videoSsrc());
    assert.ok(ssrc > 0);
    const before0 = await stats(pages[0]);
    // With the victim's SSRC (an SSRC it did not announce is dropped before SRTP: below).
    const { sent } = await hostile(['hijack', String(MEDIA_PORT), ufrag, pwd, '100', String(ssrc)]);
    assert.equal(sent, 100);
    // Each bad packet is dropped and counted: as an auth failure (or a replay, for the
    // sequence numbers behind the victim's window) while the path points at the sender,
    // or as unknown-source once the victim's own check (USE-CANDIDATE) has taken the path
    // back.
    await pages[0].waitForFunction(([room, b]) => window.__sfu.stats(room).then((s) => (window.__st = s)) &&
      window.__st && window.__st.authFailures > b.authFailures &&
      window.__st.authFailures - b.authFailures + window.__st.unknownSource - b.unknownSource +
      window.__st.srtpReplays - b.srtpReplays >= 100,
    [ROOM, before0], { timeout: 10000 });
    await victim.context().close();
    for (const p of pages) {
      await p.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, pages.length - 1], { timeout: 10000 });
    }
  }));
  test('a camera switch goes through the SFU with replaceTrack; the others keep decoding', { timeout: 120000 }, check(async () => {
    while (pages.length < 2) await enterAndJoin(`s${pages.length}`);
    const [a, b] = pages;
    for (const p of pages) await waitTiles(p, pages.length - 1);
    const aid = await a.evaluate(() => window.__socket.id);
    const tile = `[data-peer="${aid}"] video`;
    const green = () => b.evaluate((sel) => window.__sfu.rgb(document.querySelector(sel))[1], tile);
    const ssrcs = () => a.evaluate(() => window.__sfu.live()[0].getStats().then((st) => [...st.values()]
      .filter((r) => r.type === 'outbound-rtp' && r.kind === 'video').map((r) => r.ssrc).sort()));
    const before0 = await stats(a);
    const ssrc0 = await ssrcs();
    const offers0 = await a.evaluate(() => window.__sfu.live()[0].localDescription.sdp);
    // fake_device_0 (I420) averages a green above 138, fake_device_2 (MJPEG) 110-134
    // (tests/e2e/call.e2e.test.mjs measured them).
    await b.waitForFunction((sel) => window.__sfu.rgb(document.querySelector(sel))[1] > 138, tile, { timeout: 10000, polling: 100 });
    await a.selectOption('#camera-select', { label: 'fake_device_2' });
    await b.waitForFunction((sel) => { const g = window.__sfu.rgb(document.querySelector(sel))[1]; return g > 110 && g < 134; },
      tile, { timeout: 10000, polling: 100 }).catch(async (err) => { throw new Error(`green ${await green()}: ${err.message}`); });
    for (const p of pages) await waitStreamsAdvance(p, pages.length - 1);
    // Same SSRC, no new offer, no new upstream: the server saw one continuous stream.
    assert.deepEqual(await ssrcs(), ssrc0);
    assert.equal(await a.evaluate(() => window.__sfu.live()[0].localDescription.sdp), offers0, 'no renegotiation');
    assert.equal((await stats(a)).upstreams, before0.upstreams);
    await a.selectOption('#camera-select', { label: 'fake_device_0' });
    await b.waitForFunction((sel) => window.__sfu.rgb(document.querySelector(sel))[1] > 138, tile, { timeout: 10000, polling: 100 });
    for (const p of pages) await waitStreamsAdvance(p, pages.length - 1);
  }));

  test(`late joiners see everyone within 5 s of their media connection (a keyframe is asked for them); ` +
    `a page's upload at ${Math.max(PEOPLE, 3)} people is within 1.5x of its upload at 2`, { timeout: 300000 }, check(async () => {
    const want = Math.max(PEOPLE, 3);
    while (pages.length > 2) await pages.pop().context().close();
    while (pages.length < 2) await enterAndJoin(`u${pages.length}`);
    const a = pages[0];
    for (const p of pages) await waitStreamsAdvance(p, 1);
    // a's upload over a 4 s window (its encoder has been running for a while: steady).
    const upload = async () => {
      const b0 = await a.evaluate(() => window.__sfu.sent());
      const t0 = Date.now();
      await a.waitForTimeout(4000); // the measurement window itself
      return ((await a.evaluate(() => window.__sfu.sent())) - b0) * 8 / (Date.now() - t0); // kbit/s
    };
    const at2 = await upload();
    while (pages.length < want) {
      const k0 = (await stats(a)).keyframeRequests;
      const late = await enterAndJoin(`late${pages.length}`);
      await late.waitForFunction(() => window.__sfu.live()[0]?.connectionState === 'connected', null, { timeout: CONNECT_MS });
      await waitTiles(late, pages.length - 1, 5000);
      const dec = await late.evaluate(() => window.__sfu.inbound());
      assert.equal(Object.values(dec.video).filter((f) => f > 0).length, pages.length - 1, `${late.nick} decodes everyone`);
      assert.ok((await stats(a)).keyframeRequests > k0, 'a keyframe was requested for the newcomer');
    }
    for (const p of pages) await waitStreamsAdvance(p, pages.length - 1);
    const atN = await upload();
    process.stderr.write(`# sfu upload of one page: ${at2.toFixed(0)} kbit/s at 2 people, ${atN.toFixed(0)} kbit/s at ${want}\n`);
    assert.ok(at2 > 50, `a sends media at 2 people: ${at2} kbit/s`);
    assert.ok(atN <= 1.5 * at2, `upload at ${want} people (${atN.toFixed(0)} kbit/s) within 1.5x of at 2 (${at2.toFixed(0)})`);
  }));

  test('a flood of garbage UDP and bad SRTP does not grow the server\'s memory', { timeout: 180000 }, check(async () => {
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]); // KiB
    const victim = await enterAndJoin('flooded');
    pages.pop(); // its media path is hijacked on purpose
    await victim.waitForFunction(() => window.__sfu.live()[0]?.connectionState === 'connected', null, { timeout: CONNECT_MS });
    const { ufrag, pwd } = await victim.evaluate(() => {
      const sdp = window.__sfu.live()[0].remoteDescription.sdp;
      return { ufrag: sdp.match(/a=ice-ufrag:(\S+)/)[1], pwd: sdp.match(/a=ice-pwd:(\S+)/)[1] };
    });
    await victim.waitForFunction(() => window.__sfu.videoSsrc().then((x) => (window.__ssrc = x)) && window.__ssrc > 0);
    const ssrc = await victim.evaluate(() => window.__ssrc);
    // Garbage; bad SRTP on the victim's SSRC (authentication fails); bad SRTP on random
    // SSRCs (dropped before libsrtp, which would allocate a provisional stream for each).
    const flood = async (n) => {
      await hostile(['garbage', String(MEDIA_PORT), String(n)]);
      await hostile(['hijack', String(MEDIA_PORT), ufrag, pwd, String(n), String(ssrc)]);
      await hostile(['hijack', String(MEDIA_PORT), ufrag, pwd, String(n)]);
    };
    await flood(2000); // warm-up: whatever is allocated once is allocated now
    // The same time without the flood is the control: a sanitizer build's RSS grows with
    // any malloc/free of the running call (ASan's quarantine), the release build's not.
    const c0 = rss();
    const t0 = Date.now();
    await flood(200);
    await pages[0].waitForTimeout(2000); // the control window itself
    const control = rss() - c0;
    const before0 = await stats(pages[0]);
    const rss0 = rss();
    const t1 = Date.now();
    await flood(20000);
    await pages[0].waitForFunction(([room, b]) => window.__sfu.stats(room).then((s) => (window.__st = s)) && window.__st &&
      window.__st.unknownSource - b.unknownSource + window.__st.authFailures - b.authFailures +
      window.__st.unknownSsrc - b.unknownSsrc + window.__st.srtpReplays - b.srtpReplays >= 30000 &&
      window.__st.unknownSsrc > b.unknownSsrc,
    [ROOM, before0], { timeout: 30000, polling: 500 }).catch(async (err) => {
      throw new Error(`counted ${JSON.stringify(await stats(pages[0]))} from ${JSON.stringify(before0)}: ${err.message}`);
    });
    const grown = rss() - rss0;
    const scale = (Date.now() - t1) / (t1 - t0); // flood time / control time
    process.stderr.write(`# sfu server RSS: ${rss0} KiB before 60,000 hostile datagrams, +${grown} KiB after ` +
      `(control: +${control} KiB in ${(1 / scale).toFixed(2)}x the time)\n`);
    // Under ASan (NOOM_BUILD=build-san) freed memory sits in its quarantine, so RSS shows
    // allocation churn, not growth: the bound is for release builds.
    const asan = readFileSync(`/proc/${server.pid}/maps`, 'utf8').includes('libasan');
    if (!asan) assert.ok(grown < 2048 + 2 * Math.max(0, control) * scale, `RSS grew by ${grown} KiB over 60,000 hostile datagrams`);
    await victim.context().close();
    for (const p of pages) await waitStreamsAdvance(p, pages.length - 1);
  }));

  test('a page that is closed (no Leave) disappears from the others within 10 s', { timeout: 120000 }, check(async () => {
    assert.ok(pages.length >= 3, 'two pages stay to watch');
    const gone = pages.pop();
    await gone.context().close();
    for (const page of pages) {
      await page.waitForFunction(([sel, want]) => document.querySelectorAll(sel).length === want,
        [REMOTE, pages.length - 1], { timeout: 10000 });
    }
    const st = await stats(pages[0]);
    assert.equal(st.participants, pages.length, 'the server freed its participant');
  }));
});
