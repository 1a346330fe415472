// Browser end-to-end tests of the video calls (web/call.js, docs/signaling.md) against the
// real server binary, in headless Chromium with fake cameras and microphones
// (--use-fake-device-for-media-stream: three of each; the cameras draw the same green
// picture in different pixel formats, told apart by colour). The server and Chromium run
// inside a loopback-only network namespace (lib.mjs startNetns) when this process may make
// one, so every ICE pair is a loopback pair and nothing leaves the machine; otherwise they
// run as they are and --host-resolver-rules keeps Chromium off other hosts.
//
// Pages are instrumented before their scripts run (instrument() below): every
// RTCPeerConnection is recorded, offers made and received are counted (so a test can prove
// that no renegotiation happened), and getStats is sampled. Every wait polls page state with
// a bounded timeout; audio "stops" means totalAudioEnergy stayed flat for AUDIO_QUIET_MS
// while samples kept arriving (the fake microphone beeps at least every ~0.6 s).
//
//   NOOM_BUILD=/tmp/build-x node --test tests/e2e/call.e2e.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  CALL_ARGS, freeUdpPort, IS_REF, joinCall as joinLibCall, launchBrowser, newUser, openRoom, screenshot, startNetns, startServer,
  startUdpRelay, waitLine, waitState, waitText,
} from './lib.mjs';

const CONNECT_MS = 20000; // ICE + DTLS on a busy two-core machine
const WAIT_STATS_MS = 10000; // a change to show in getStats or in the picture
const AUDIO_QUIET_MS = 1500;
// UDP ports of the two servers' STUN responders: inside the private namespace nobody else
// has 3478/3479; outside it, free ones are picked.
let STUN_PORT = 3478;
let STUN_PORT_TLS = 3479;

// Runs in every page before its scripts. sessionStorage "noom-test-media" simulates a
// user without a camera ("no-camera") or one who refuses every device ("denied").
function instrument() {
  const Native = window.RTCPeerConnection;
  const pcs = [];
  // glare: offers that arrived while this side had an offer of its own out.
  const counts = { offersMade: 0, offersReceived: 0, glare: 0 };
  let hold = null; // see holdOffers below
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
    }
  };
  const sld = Native.prototype.setLocalDescription;
  Native.prototype.setLocalDescription = async function (...args) {
    const r = await sld.apply(this, args);
    if (this.localDescription && this.localDescription.type === 'offer') {
      counts.offersMade++;
      if (hold) await hold; // the app sends its offer once this resolves
    }
    return r;
  };
  const srd = Native.prototype.setRemoteDescription;
  Native.prototype.setRemoteDescription = function (d, ...rest) {
    if (d && d.type === 'offer') {
      counts.offersReceived++;
      if (this.signalingState === 'have-local-offer') counts.glare++;
    }
    return srd.call(this, d, ...rest);
  };
  const md = navigator.mediaDevices;
  if (md) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => {
      const mode = sessionStorage.getItem('noom-test-media');
      if (mode === 'denied') return Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      if (mode === 'no-camera' && c && c.video) {
        return Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
      }
      return gum(c);
    };
  }
  const live = () => pcs.filter((pc) => pc.connectionState !== 'closed');
  const samples = [];
  let sampling = false;
  window.__call = {
    pcs,
    counts,
    live,
    // Holds every new local offer (after setLocalDescription, before the app sends it)
    // until releaseOffers(): two pages holding at once make a certain glare.
    holdOffers() {
      let release;
      hold = new Promise((res) => { release = res; });
      window.__call.releaseOffers = () => {
        hold = null;
        release();
      };
    },
    // Stats are sampled in the page (Playwright's waitForFunction does not await a
    // promise), so waits are plain predicates over samples: {t, ...inbound()}.
    samples,
    sample() {
      if (sampling) return;
      sampling = true;
      const next = async () => {
        const s = await window.__call.inbound();
        s.t = performance.now();
        samples.push(s);
        if (samples.length > 100) samples.shift();
        setTimeout(next, 150);
      };
      next();
    },
    // Sums of the inbound-rtp stats of every open connection.
    async inbound() {
      const out = { audioBytes: 0, videoBytes: 0, audioEnergy: 0, audioSamples: 0, framesDecoded: 0 };
      for (const pc of live()) {
        for (const r of (await pc.getStats()).values()) {
          if (r.type !== 'inbound-rtp') continue;
          if (r.kind === 'audio') {
            out.audioBytes += r.bytesReceived || 0;
            out.audioEnergy += r.totalAudioEnergy || 0;
            out.audioSamples += r.totalSamplesReceived || 0;
          } else if (r.kind === 'video') {
            out.videoBytes += r.bytesReceived || 0;
            out.framesDecoded += r.framesDecoded || 0;
          }
        }
      }
      return out;
    },
    // The average colour and luma of what a <video> shows, as drawn into a canvas.
    frame(video) {
      const w = 64;
      const h = 48;
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d', { willReadFrequently: true });
      g.drawImage(video, 0, 0, w, h);
      const px = g.getImageData(0, 0, w, h).data;
      let r = 0;
      let gr = 0;
      let b = 0;
      for (let i = 0; i < px.length; i += 4) {
        r += px[i];
        gr += px[i + 1];
        b += px[i + 2];
      }
      const n = px.length / 4;
      r /= n;
      gr /= n;
      b /= n;
      return { r, g: gr, b, luma: 0.299 * r + 0.587 * gr + 0.114 * b, w: video.videoWidth, h: video.videoHeight };
    },
  };
}

const REMOTE = '#video-grid .tile:not(.tile-self)';
const MSG = '#messages > li';

let netns = null;
let server;
let browser;
const pages = [];
let offline = 'no namespace';

// Appends the server's stderr to a failure, and checks that no page threw.
function check(fn) {
  return async (t) => {
    try {
      await fn(t);
      for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors in ${p.url()}`);
    } catch (err) {
      const tail = server?.stderr().slice(-3000);
      if (tail) err.message += `\n--- server stderr (tail) ---\n${tail}`;
      throw err;
    }
  };
}

async function user(origin, opts = {}) {
  const page = await newUser(browser, origin, { ...opts, initScript: instrument });
  pages.push(page);
  return page;
}

// A user in the lobby of origin, then in room, not yet in the call.
async function enter(origin, nickname, room, opts) {
  const page = await user(origin, opts);
  page.nick = nickname;
  await openRoom(page, nickname, room);
  return page;
}

// Joins the call and waits for the page's own tile too.
async function joinCall(page) {
  await joinLibCall(page);
  await waitState(page, '#video-grid .tile-self', 'visible');
}

// Waits for n remote tiles, each with its connection `connected`, and n connected
// RTCPeerConnections in the page.
async function waitPeers(page, n, timeout = CONNECT_MS) {
  try {
    await page.waitForFunction(([sel, want]) => {
      const tiles = [...document.querySelectorAll(sel)];
      return tiles.length === want && tiles.every((t) => t.dataset.conn === 'connected') &&
        window.__call.live().filter((pc) => pc.connectionState === 'connected').length === want;
    }, [REMOTE, n], { timeout });
  } catch (err) {
    const seen = await page.evaluate((sel) => ({
      tiles: [...document.querySelectorAll(sel)].map((t) => t.dataset.conn),
      pcs: window.__call.pcs.map((pc) => pc.connectionState),
    }), REMOTE).catch(() => null);
    throw new Error(`${page.nick}: waited for ${n} connected peers; saw ${JSON.stringify(seen)}\n${err.message.split('\n')[0]}`);
  }
}

// Every remote <video> has a picture (videoWidth > 0) and its currentTime moves on.
async function waitVideosLive(page, n) {
  const start = await page.evaluate((sel) =>
    [...document.querySelectorAll(`${sel} video`)].map((v) => v.currentTime), REMOTE);
  assert.equal(start.length, n, `${page.nick}: ${n} remote videos`);
  try {
    await page.waitForFunction(([sel, t0]) => {
      const vids = [...document.querySelectorAll(`${sel} video`)];
      return vids.length === t0.length &&
        vids.every((v, i) => v.videoWidth > 0 && v.videoHeight > 0 && !v.paused && v.currentTime > t0[i] + 0.3);
    }, [REMOTE, start], { timeout: CONNECT_MS });
  } catch (err) {
    const seen = await page.evaluate((sel) => [...document.querySelectorAll(`${sel} video`)]
      .map((v) => ({ w: v.videoWidth, t: v.currentTime, paused: v.paused })), REMOTE);
    throw new Error(`${page.nick}: remote videos not live: ${JSON.stringify(seen)}\n${err.message.split('\n')[0]}`);
  }
}

// Starts the page's stats sampler and resolves to the time of its newest sample.
async function sampleNow(page) {
  await page.evaluate(() => window.__call.sample());
  const since = await page.evaluate(() => performance.now());
  await page.waitForFunction((t) => window.__call.samples.some((s) => s.t > t), since, { timeout: WAIT_STATS_MS });
  return page.evaluate((t) => window.__call.samples.find((s) => s.t > t), since);
}

// Waits until the inbound-rtp sums grow past their current values for every key given.
async function waitInboundGrows(page, keys) {
  const base = await sampleNow(page);
  try {
    await page.waitForFunction(([b, ks]) => {
      const now = window.__call.samples[window.__call.samples.length - 1];
      return ks.every((k) => now[k] > b[k]);
    }, [base, keys], { timeout: WAIT_STATS_MS });
  } catch (err) {
    const now = await page.evaluate(() => window.__call.samples.at(-1));
    throw new Error(`${page.nick}: inbound ${keys.join(', ')} did not grow: ${JSON.stringify(base)} -> ` +
      `${JSON.stringify(now)}\n${err.message.split('\n')[0]}`);
  }
}
// Received audio energy, judged on samples taken from now on: "quiet" = flat for
// AUDIO_QUIET_MS while samples kept arriving; "sound" = growing.
async function waitAudio(page, want) {
  const first = await sampleNow(page);
  try {
    await page.waitForFunction(([mode, quietMs, t0]) => {
      const list = window.__call.samples.filter((s) => s.t >= t0);
      const last = list[list.length - 1];
      if (mode === 'sound') return last.audioEnergy > list[0].audioEnergy;
      let i = list.length - 1;
      while (i > 0 && list[i - 1].audioEnergy === last.audioEnergy) i--;
      return last.t - list[i].t >= quietMs && last.audioSamples > list[i].audioSamples;
    }, [want, AUDIO_QUIET_MS, first.t], { timeout: WAIT_STATS_MS });
  } catch (err) {
    const hist = await page.evaluate(() => window.__call.samples.slice(-8)
      .map((s) => [Math.round(s.t), s.audioEnergy, s.audioSamples]));
    throw new Error(`${page.nick}: waited for received audio to be ${want}; last samples ` +
      `${JSON.stringify(hist)}\n${err.message.split('\n')[0]}`);
  }
}

// Waits until the (only) remote video's frame satisfies a predicate on {r, g, b, luma}.
async function waitFrame(page, what, predicate) {
  try {
    await page.waitForFunction(([sel, src]) => {
      const v = document.querySelector(`${sel} video`);
      if (!v || v.videoWidth === 0) return false;
      // eslint-disable-next-line no-new-func
      return new Function('f', `return (${src})(f);`)(window.__call.frame(v));
    }, [REMOTE, predicate.toString()], { timeout: WAIT_STATS_MS, polling: 100 });
  } catch (err) {
    const f = await page.evaluate((sel) => window.__call.frame(document.querySelector(`${sel} video`)), REMOTE)
      .catch(() => null);
    throw new Error(`${page.nick}: waited for the remote frame to be ${what}; it is ${JSON.stringify(f)}\n` +
      `${err.message.split('\n')[0]}`);
  }
}
const counts = (page) => page.evaluate(() => ({ ...window.__call.counts }));

before(async () => {
  if (IS_REF) return; // the Node reference has no call events
  netns = await startNetns({ onSkip: (why) => { offline = why; } });
  if (!netns) [STUN_PORT, STUN_PORT_TLS] = [await freeUdpPort(), await freeUdpPort()];
  // This suite is the mesh's (the SFU has tests/e2e/sfu.e2e.test.mjs).
  server = await startServer({ netns, extra: ['--media', 'mesh', '--stun-port', String(STUN_PORT)] });
  browser = await launchBrowser({ netns, args: CALL_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (netns) netns.stop();
});

describe('video calls', { skip: IS_REF && 'NOOM_REF=1: the reference server has no call events' }, () => {
  let alice;
  let bob;
  let carol;

  test('two people in a room see and hear each other', check(async (t) => {
    t.diagnostic(netns ? 'inside a loopback-only network namespace' : `no network namespace (${offline})`);
    alice = await enter(server.origin, 'Alice', 'standup');
    bob = await enter(server.origin, 'Bob', 'standup');
    await waitText(alice, '#call-limit', 'Up to 6 people per call');
    await joinCall(alice);
    await joinCall(bob);
    for (const p of [alice, bob]) {
      await waitPeers(p, 1);
      await waitVideosLive(p, 1);
      await waitInboundGrows(p, ['audioBytes', 'videoBytes', 'framesDecoded']);
    }
    // The newcomer (Bob) was offered to; he made no offer himself.
    assert.deepEqual(await counts(alice), { offersMade: 1, offersReceived: 0, glare: 0 });
    assert.deepEqual(await counts(bob), { offersMade: 0, offersReceived: 1, glare: 0 });
    await waitText(alice, `${REMOTE} .name`, 'Bob');
    await waitText(bob, `${REMOTE} .name`, 'Alice');
    // 320x240 is asked for; the fake camera gives exactly that.
    const size = await bob.evaluate((sel) => {
      const v = document.querySelector(`${sel} video`);
      return [v.videoWidth, v.videoHeight];
    }, REMOTE);
    assert.deepEqual(size, [320, 240]);
    // Screen sharing needs the SFU: with the mesh its button is disabled and says why.
    assert.equal(await alice.isDisabled('#screen-btn'), true);
    assert.match(await alice.getAttribute('#screen-btn', 'title'), /--media mesh/);
    // The chat goes on beside the call.
    await alice.fill('#message-input', 'Can you see me?');
    await alice.click('#send-btn');
    await waitLine(bob, MSG, 'Alice: Can you see me?');
    await bob.fill('#message-input', 'Loud and clear');
    await bob.click('#send-btn');
    await waitLine(alice, MSG, 'Bob: Loud and clear');
    await waitLine(alice, MSG, 'Bob joined the call');
    await screenshot(alice, 'call-2.png');
  }));

  test('mute: the peer stops receiving sound, and sees the muted badge; unmute brings it back', check(async () => {
    await waitAudio(alice, 'sound');
    await bob.click('#mute-btn');
    assert.equal(await bob.getAttribute('#mute-btn', 'aria-pressed'), 'true');
    await waitState(alice, `${REMOTE}[data-muted="true"] .badge-micOff`, 'visible');
    await waitAudio(alice, 'quiet');
    await bob.click('#mute-btn');
    await waitState(alice, `${REMOTE}[data-muted="false"]`, 'attached');
    await waitAudio(alice, 'sound');
    // Bob still hears Alice all along.
    await waitAudio(bob, 'sound');
  }));

  test('camera off: the peer sees black (not a frozen frame), then the picture again', check(async () => {
    await waitFrame(alice, 'a bright picture', (f) => f.luma > 40);
    await bob.click('#camera-btn');
    assert.equal(await bob.getAttribute('#camera-btn', 'aria-pressed'), 'true');
    await waitFrame(alice, 'black', (f) => f.luma < 8);
    await waitState(alice, `${REMOTE}[data-camera-off="true"] .tile-avatar`, 'visible');
    // Black frames keep coming: the video plays on, it is not frozen.
    await waitVideosLive(alice, 1);
    await bob.click('#camera-btn');
    await waitFrame(alice, 'a bright picture again', (f) => f.luma > 40);
    await waitState(alice, `${REMOTE}[data-camera-off="false"]`, 'attached');
  }));

  test('switching camera and microphone replaces the tracks without renegotiation; mute still works', check(async () => {
    const before = [await counts(alice), await counts(bob)];
    const options = await bob.locator('#camera-select option').allTextContents();
    assert.deepEqual(options, ['fake_device_0', 'fake_device_1', 'fake_device_2']);
    // The fake cameras all give 320x240; they differ in pixel format, which shows in the
    // colour: fake_device_0 (I420) averages a green of 140-156, fake_device_2 (MJPEG)
    // 126-129 (fake_device_1 is a Y16 depth camera, which WebRTC cannot send).
    await waitFrame(alice, 'fake_device_0 green', (f) => f.g > 138 && f.r < 20);
    await bob.selectOption('#camera-select', { label: 'fake_device_2' });
    await waitFrame(alice, 'fake_device_2 green', (f) => f.g < 134 && f.g > 110 && f.r < 20);
    const sent = () => bob.evaluate(() => window.__call.live()
      .flatMap((pc) => pc.getSenders().map((sn) => sn.track && `${sn.track.kind}:${sn.track.label}`)).sort());
    assert.deepEqual(await sent(), ['audio:Fake Default Audio Input', 'video:fake_device_2']);
    await bob.selectOption('#mic-select', { label: 'Fake Audio Input 2' });
    await bob.waitForFunction(() =>
      document.querySelector('.tile-self video').srcObject.getAudioTracks()[0]?.label === 'Fake Audio Input 2');
    assert.deepEqual(await sent(), ['audio:Fake Audio Input 2', 'video:fake_device_2']);
    await waitAudio(alice, 'sound');
    // Only replaceTrack: no offer was made or received since.
    assert.deepEqual([await counts(alice), await counts(bob)], before);
    // Mute and camera-off act on the new tracks.
    await bob.click('#mute-btn');
    await waitAudio(alice, 'quiet');
    await bob.click('#mute-btn');
    await waitAudio(alice, 'sound');
    await bob.click('#camera-btn');
    await waitFrame(alice, 'black', (f) => f.luma < 8);
    await bob.click('#camera-btn');
    await waitFrame(alice, 'fake_device_2 green again', (f) => f.g < 134 && f.g > 110);
    await bob.selectOption('#camera-select', { label: 'fake_device_0' });
    await waitFrame(alice, 'fake_device_0 green again', (f) => f.g > 138 && f.r < 20);
    assert.deepEqual([await counts(alice), await counts(bob)], before);
    // The replaced tracks were stopped: one camera and one microphone are open.
    assert.deepEqual(await bob.evaluate(() => document.querySelector('.tile-self video').srcObject.getTracks()
      .map((tr) => `${tr.kind}:${tr.label}:${tr.readyState}`).sort()),
    ['audio:Fake Audio Input 2:live', 'video:fake_device_0:live']);
  }));

  test('glare: both sides renegotiate at once (ICE restart) and perfect negotiation settles it', check(async () => {
    const before = [await counts(alice), await counts(bob)];
    for (const p of [alice, bob]) await p.evaluate(() => window.__call.holdOffers());
    for (const p of [alice, bob]) await p.evaluate(() => window.__call.live()[0].restartIce());
    // Both have an offer out (held in setLocalDescription) before either is sent.
    for (const [i, p] of [alice, bob].entries()) {
      await p.waitForFunction((n) => window.__call.counts.offersMade > n, before[i].offersMade);
    }
    await Promise.all([alice, bob].map((p) => p.evaluate(() => window.__call.releaseOffers())));
    for (const p of [alice, bob]) {
      await p.waitForFunction(() => window.__call.live().every((pc) => pc.signalingState === 'stable' &&
        pc.connectionState === 'connected'), null, { timeout: CONNECT_MS });
    }
    const after = [await counts(alice), await counts(bob)];
    // Exactly one side (the polite one) met the other's offer with its own out, and rolled back.
    assert.equal(after[0].glare + after[1].glare - before[0].glare - before[1].glare, 1, JSON.stringify(after));
    for (const p of [alice, bob]) await waitVideosLive(p, 1);
    await waitAudio(alice, 'sound');
    for (const p of [alice, bob]) {
      assert.deepEqual(await p.evaluate(() => window.__call.live().map((pc) => pc.signalingState)), ['stable']);
    }
  }));

  test('three people: two connected peers and two live videos each; one leaves, tiles go from two to one', check(async () => {
    carol = await enter(server.origin, 'Carol', 'standup');
    await joinCall(carol);
    for (const p of [alice, bob, carol]) {
      await waitPeers(p, 2);
      await waitVideosLive(p, 2);
    }
    await waitInboundGrows(carol, ['audioBytes', 'videoBytes']);
    assert.deepEqual((await carol.locator(`${REMOTE} .name`).allTextContents()).sort(), ['Alice', 'Bob']);
    await waitLine(alice, MSG, 'Carol joined the call');
    await screenshot(alice, 'call-3.png');
    // The same call on a phone-sized screen: tiles fit, no horizontal scrolling.
    await carol.setViewportSize({ width: 390, height: 844 });
    await carol.waitForFunction(() => [...document.querySelectorAll('#video-grid .tile')]
      .every((tile) => tile.getBoundingClientRect().right <= 390 && tile.getBoundingClientRect().width > 100));
    await screenshot(carol, 'call-3-phone.png');
    assert.ok(await carol.evaluate(() => document.documentElement.scrollWidth) <= 390, 'no horizontal scrolling');
    await carol.setViewportSize({ width: 1280, height: 800 });
    await carol.click('#call-leave-btn');
    for (const p of [alice, bob]) {
      await waitLine(p, MSG, 'Carol left the call');
      await waitPeers(p, 1);
    }
    assert.equal(await carol.locator('#video-grid .tile').count(), 0);
    await waitState(carol, '#call-join-btn', 'visible');
    assert.deepEqual(await carol.evaluate(() => window.__call.live().length), 0);
  }));

  test('a seventh person is told the call is full', check(async () => {
    // Six people already in the call of "packed" (bare sockets opened from Carol's page).
    const joined = await carol.evaluate(async () => {
      const acks = [];
      window.__fillers = [];
      for (let i = 0; i < 6; i++) {
        const s = io({ forceNew: true });
        window.__fillers.push(s);
        await new Promise((res) => s.once('connect', res));
        await s.emitWithAck('enter_room', `Filler${i}`, 'packed');
        acks.push(await s.emitWithAck('call_join', 'packed'));
      }
      return acks.map((a) => a.max);
    });
    assert.deepEqual(joined, [6, 6, 6, 6, 6, 6]);
    await carol.click('#leave-btn');
    await waitState(carol, '#lobby', 'visible');
    await carol.fill('#room-name', 'packed');
    await carol.click('#enter-btn');
    await waitState(carol, '#room', 'visible');
    await carol.click('#call-join-btn');
    await waitText(carol, '#call-error', 'Could not join the call: the call is full (6 people at most).');
    await waitState(carol, '#call-join-btn:not([disabled])', 'visible');
    assert.equal(await carol.locator('#video-grid .tile').count(), 0);
    await carol.evaluate(() => window.__fillers.forEach((s) => s.disconnect()));
  }));

  test('no camera: audio only; every device refused: watch and chat', check(async () => {
    // Carol has no camera; Dan refuses access to everything.
    await carol.evaluate(() => sessionStorage.setItem('noom-test-media', 'no-camera'));
    await carol.click('#leave-btn');
    await waitState(carol, '#lobby', 'visible');
    await carol.fill('#room-name', 'devices');
    await carol.click('#enter-btn');
    await waitState(carol, '#room', 'visible');
    const dan = await user(server.origin);
    dan.nick = 'Dan';
    await dan.goto('/');
    await dan.evaluate(() => sessionStorage.setItem('noom-test-media', 'denied'));
    await dan.fill('#nickname', 'Dan');
    await dan.fill('#room-name', 'devices');
    await dan.click('#enter-btn');
    await waitState(dan, '#room', 'visible');

    await joinCall(carol);
    await waitText(carol, '#call-notice', 'You joined with audio only: no camera was found.');
    await joinCall(dan);
    await waitText(dan, '#call-notice', /access was denied: you can still watch, listen and chat/);
    await waitPeers(carol, 1);
    await waitPeers(dan, 1);
    // Dan hears Carol; he sees she has no camera, and she sees he is muted with no camera.
    await waitInboundGrows(dan, ['audioBytes']);
    await waitAudio(dan, 'sound');
    await waitState(dan, `${REMOTE}[data-camera-off="true"][data-muted="false"]`, 'attached');
    await waitState(carol, `${REMOTE}[data-camera-off="true"][data-muted="true"]`, 'attached');
    assert.equal(await dan.getAttribute('#mute-btn', 'disabled'), '');
    assert.equal(await carol.getAttribute('#camera-btn', 'disabled'), '');
    assert.equal(await carol.getAttribute('#mute-btn', 'disabled'), null);
    // and the chat works for the watcher.
    await dan.fill('#message-input', 'I can only watch');
    await dan.click('#send-btn');
    await waitLine(carol, MSG, 'Dan: I can only watch');
    // Leaving the chat room ends one's part in the call too.
    await dan.click('#leave-btn');
    await waitLine(carol, MSG, 'Dan left the call');
    await waitPeers(carol, 0);
    await dan.context().close();
  }));

  test('signaling abuse is refused: targets outside the sender\'s rooms, oversized or malformed payloads', check(async () => {
    // Bare sockets opened from Carol's page: Mallory shares the room "evil" with Mate,
    // none with Victor (in "private").
    const aliceId = await bob.getAttribute(REMOTE, 'data-peer');
    const aliceBefore = await counts(alice);
    const r = await carol.evaluate(async (victimOfCall) => {
      const open = async (nick, room) => {
        const s = io({ forceNew: true });
        await new Promise((res) => s.once('connect', res));
        await s.emitWithAck('enter_room', nick, room);
        return s;
      };
      const mallory = await open('Mallory', 'evil');
      const victim = await open('Victor', 'private');
      const mate = await open('Mate', 'evil');
      const got = { victim: [], mate: [] };
      const relayed = ['offer', 'answer', 'ice'];
      victim.onAny((ev, ...args) => relayed.includes(ev) && got.victim.push([ev, ...args]));
      mate.onAny((ev, ...args) => relayed.includes(ev) && got.mate.push([ev, ...args]));
      // A success ack has no argument: 'ok'.
      const ask = async (...args) => (await mallory.emitWithAck(...args)) ?? 'ok';
      const desc = { type: 'offer', sdp: 'v=0\r\n' };
      const acks = {
        offerOutside: await ask('offer', desc, victim.id),
        answerOutside: await ask('answer', { type: 'answer', sdp: 'v=0\r\n' }, victim.id),
        iceOutside: await ask('ice', { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }, victim.id),
        roomOutside: await ask('offer', desc, 'private'),
        toSelf: await ask('offer', desc, mallory.id),
        oversized: await ask('offer', { type: 'offer', sdp: 'a'.repeat(70 * 1024) }, mate.id),
        badType: await ask('offer', { type: 'bogus', sdp: 'v=0' }, mate.id),
        notObject: await ask('offer', 'v=0', mate.id),
        bigCandidate: await ask('ice', { candidate: 'c'.repeat(5000) }, mate.id),
        allowed: await ask('offer', desc, mate.id),
        endOfCandidates: await ask('ice', null, mate.id),
      };
      // A broadcast the server sends after all of the above reaches Victor after anything
      // relayed to him would have.
      const seen = new Promise((res) => victim.on('room_change', (names) => names.includes('sentinel') && res()));
      await mallory.emitWithAck('enter_room', 'sentinel');
      await seen;
      // A syntactically valid but bogus offer to Alice, who is in a call: Mallory is in her
      // chat room but not in the call, so her page must ignore it.
      await mallory.emitWithAck('enter_room', 'standup');
      const toAlice = await ask('offer', { type: 'offer', sdp: 'garbage' }, victimOfCall);
      await mallory.emitWithAck('new_message', 'sentinel', 'standup');
      const ids = { mallory: mallory.id };
      for (const s of [mallory, victim, mate]) s.disconnect();
      return { acks, got, toAlice, ids };
    }, aliceId);
    for (const k of ['offerOutside', 'answerOutside', 'iceOutside', 'roomOutside', 'toSelf']) {
      assert.deepEqual(r.acks[k], { error: 'target does not share a room with you' }, k);
    }
    for (const k of ['oversized', 'badType', 'notObject', 'bigCandidate']) {
      assert.deepEqual(r.acks[k], { error: 'bad payload' }, k);
    }
    assert.equal(r.acks.allowed, 'ok');
    assert.equal(r.acks.endOfCandidates, 'ok');
    assert.deepEqual(r.got.victim, []);
    // Each relay ends with its recovery offset (noom runs with --recovery-ms).
    for (const a of r.got.mate) assert.equal(typeof a[a.length - 1], 'string', 'an offset last');
    assert.deepEqual(r.got.mate.map((a) => a.slice(0, -1)), [
      ['offer', { type: 'offer', sdp: 'v=0\r\n' }, r.ids.mallory],
      ['ice', null, r.ids.mallory],
    ]);
    assert.equal(r.toAlice, 'ok'); // the server relays it: same chat room
    await waitLine(alice, MSG, 'Mallory: sentinel');
    assert.equal(await alice.locator(REMOTE).count(), 1, 'no tile for Mallory');
    await waitPeers(alice, 1);
    assert.deepEqual(await counts(alice), aliceBefore, 'the bogus offer was not applied');
  }));

  test('STUN: /config lists the built-in responder, and Chromium gets a srflx candidate through it', check(async (t) => {
    const cfg = await carol.evaluate(async () => (await fetch('/config')).json());
    assert.deepEqual(cfg, { iceServers: [{ urls: [`stun:127.0.0.1:${STUN_PORT}`] }], maxPeers: 6 });
    const gather = (iceServers) => carol.evaluate(async (servers) => {
      const pc = new RTCPeerConnection({ iceServers: servers });
      pc.createDataChannel('probe');
      const cands = [];
      const complete = new Promise((res) => {
        pc.onicecandidate = (e) => (e.candidate ? cands.push(e.candidate.candidate) : res('complete'));
      });
      await pc.setLocalDescription();
      // Bounded: gathering ends by itself once every STUN transaction is answered.
      const how = await Promise.race([complete, new Promise((res) => setTimeout(res, 8000, 'timeout'))]);
      pc.close();
      return { how, cands };
    }, iceServers);
    const parse = (c) => {
      const f = c.split(' ');
      const o = { proto: f[2], address: f[4], port: Number(f[5]), type: f[7] };
      const ra = f.indexOf('raddr');
      if (ra > 0) Object.assign(o, { raddr: f[ra + 1], rport: Number(f[ra + 3]) });
      return o;
    };

    // Straight to the responder: on loopback the reflexive address equals the host
    // candidate's, and Chromium drops such a srflx candidate (it adds nothing).
    const direct = await gather(cfg.iceServers);
    assert.equal(direct.how, 'complete', 'gathering completes: the responder answered');
    t.diagnostic(`direct: ${direct.cands.map(parse).map((c) => `${c.type}/${c.proto}`).join(', ')}`);

    // Through a UDP relay (another source address and port): the responder's answer maps
    // to the relay's port, which Chromium reports as its srflx candidate.
    const relay = await startUdpRelay(STUN_PORT, { netns });
    try {
      const via = await gather([{ urls: `stun:127.0.0.1:${relay.port}` }]);
      assert.equal(via.how, 'complete');
      const cands = via.cands.map(parse);
      const host = cands.find((c) => c.type === 'host' && c.proto === 'udp');
      const srflx = cands.find((c) => c.type === 'srflx');
      assert.ok(host, `a host candidate in ${JSON.stringify(via.cands)}`);
      assert.ok(srflx, `a srflx candidate in ${JSON.stringify(via.cands)}`);
      assert.deepEqual(srflx, { proto: 'udp', address: '127.0.0.1', port: relay.relayPort, type: 'srflx',
        raddr: host.address, rport: host.port });
      const requests = relay.packets.filter((p) => p.dir === 'request');
      const answers = relay.packets.filter((p) => p.dir === 'response');
      assert.ok(requests.length >= 1 && requests.every((p) => p.type === 0x0001 && p.cookie), JSON.stringify(requests));
      assert.ok(answers.some((p) => p.type === 0x0101 && p.mapped === `127.0.0.1:${relay.relayPort}` &&
        p.from === `127.0.0.1:${STUN_PORT}`), JSON.stringify(answers));
    } finally {
      relay.stop();
    }
  }));
});

describe('video call over HTTPS', { skip: IS_REF && 'NOOM_REF=1: the reference server has no call events' }, () => {
  let tls;

  before(async () => {
    // The plain-HTTP users are done: free the two cores for this call.
    await Promise.all(pages.map((p) => p.context().close().catch(() => {})));
    tls = await startServer({ netns, extra: ['--media', 'mesh', '--stun-port', String(STUN_PORT_TLS), '--tls-self-signed'] });
  });

  after(async () => {
    if (tls) await tls.stop();
  });

  test('two people call each other over https:// with the self-signed certificate', check(async () => {
    assert.match(tls.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(tls.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const opts = { contextOptions: { ignoreHTTPSErrors: true } };
    const erin = await enter(tls.origin, 'Erin', 'secure', opts);
    const frank = await enter(tls.origin, 'Frank', 'secure', opts);
    assert.deepEqual(await erin.evaluate(() => [location.protocol, window.isSecureContext]), ['https:', true]);
    await joinCall(erin);
    await joinCall(frank);
    for (const p of [erin, frank]) {
      await waitPeers(p, 1);
      await waitVideosLive(p, 1);
      await waitInboundGrows(p, ['audioBytes', 'videoBytes']);
    }
    await frank.fill('#message-input', 'over TLS');
    await frank.click('#send-btn');
    await waitLine(erin, MSG, 'Frank: over TLS');
    // Closing the tab (a disconnect) removes the tile as well.
    await frank.context().close();
    await waitLine(erin, MSG, 'Frank left the call');
    await waitPeers(erin, 0);
  }));
});
