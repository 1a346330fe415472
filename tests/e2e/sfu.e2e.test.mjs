// Browser end-to-end tests of calls through the server's SFU (--media sfu, app/media/,
// docs/signaling.md "Calls through the server"), in headless Chromium with fake cameras
// and microphones, inside a loopback-only network namespace when this process may make
// one (lib.mjs startNetns).
//
// What is proved: every page keeps exactly ONE RTCPeerConnection (to the server), decodes
// the video of every other participant with frames advancing (inbound-rtp framesDecoded
// per stream) and receives their audio (totalAudioEnergy grows); the server's own
// counters (sfu_stats) show one upstream per published track; a page that leaves loses
// its tile on the others and the others keep going.
//
// 8 pages: NOOM_SFU_E2E_PEOPLE=8 (default 3; the machine shares two cores with other
// sessions, and 8 Chromium pages encoding 320x240 VP8 each need about two cores alone).
//
//   NOOM_BUILD=/tmp/build-x node --test tests/e2e/sfu.e2e.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { IS_REF, launchBrowser, newUser, startNetns, startServer, waitState } from './lib.mjs';

const CONNECT_MS = 30000; // ICE + DTLS + first keyframes on a busy two-core machine
const PEOPLE = Math.max(3, Number(process.env.NOOM_SFU_E2E_PEOPLE) || 3);
const ROOM = 'sfu-room';

const CALL_ARGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
];

// Runs in every page before its scripts: records RTCPeerConnections, keeps the page's
// Socket.IO socket (to ask the server for sfu_stats), and sums inbound-rtp stats.
function instrument() {
  const Native = window.RTCPeerConnection;
  const pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
    }
  };
  let realIo;
  Object.defineProperty(window, 'io', {
    configurable: true,
    get: () => realIo,
    set(v) {
      realIo = Object.assign((...a) => {
        const s = v(...a);
        window.__socket = s;
        return s;
      }, v);
    },
  });
  const live = () => pcs.filter((pc) => pc.connectionState !== 'closed');
  window.__sfu = {
    pcs,
    live,
    // Per inbound stream: frames decoded (video) and audio energy, keyed by stats id.
    async inbound() {
      const video = {};
      const audio = {};
      for (const pc of live()) {
        for (const r of (await pc.getStats()).values()) {
          if (r.type !== 'inbound-rtp') continue;
          if (r.kind === 'video') video[r.id] = r.framesDecoded || 0;
          else audio[r.id] = r.totalAudioEnergy || 0;
        }
      }
      return { video, audio };
    },
    // Addresses of the remote candidates of every selected pair (where media is sent).
    async remotes() {
      const out = new Set();
      for (const pc of live()) {
        const stats = await pc.getStats();
        for (const r of stats.values()) {
          if (r.type !== 'candidate-pair' || !r.nominated || r.state !== 'succeeded') continue;
          const c = stats.get(r.remoteCandidateId);
          if (c) out.add(`${c.address || c.ip}:${c.port}`);
        }
      }
      return [...out];
    },
    stats(room) {
      return new Promise((res) => window.__socket.emit('sfu_stats', room, res));
    },
  };
}

const REMOTE = '#video-grid .tile:not(.tile-self)';

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

async function enterAndJoin(nickname) {
  const page = await newUser(browser, server.origin, { initScript: instrument, viewport: { width: 800, height: 600 } });
  pages.push(page);
  page.nick = nickname;
  await page.goto('/');
  await waitState(page, '#conn-status[data-state="connected"]', 'visible');
  await page.fill('#nickname', nickname);
  await page.fill('#room-name', ROOM);
  await page.click('#enter-btn');
  await waitState(page, '#room', 'visible');
  await page.click('#call-join-btn');
  await waitState(page, '#call-controls', 'visible');
  return page;
}

// n remote tiles, each showing a picture whose currentTime advances.
async function waitTiles(page, n) {
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
    }, [REMOTE, n], { timeout: CONNECT_MS, polling: 200 });
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
  server = await startServer({ netns, extra: ['--media', 'sfu', '--media-port', '0', '--stun-port', '0'] });
  browser = await launchBrowser({ netns, args: CALL_ARGS });
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
      const remotes = await page.evaluate(() => window.__sfu.remotes());
      assert.equal(remotes.length, 1, `${page.nick}: media to exactly one address: ${remotes}`);
    }
    const st = await pages[0].evaluate((room) => window.__sfu.stats(room), ROOM);
    assert.equal(st.participants, PEOPLE);
    assert.equal(st.upstreams, 2 * PEOPLE, `one audio and one video upstream per publisher: ${JSON.stringify(st)}`);
    assert.equal(st.legs, 2 * PEOPLE * (PEOPLE - 1));
    assert.ok(st.forwarded > 0);
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
});
