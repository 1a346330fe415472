// bench/sfu.mjs: what forwarding media costs build/noom's SFU (--media sfu), with real
// Chromium publishers and subscribers (fake camera and microphone, 320x240@15 VP8 and
// Opus) in the loopback-only network namespace of the e2e suites when one can be made.
//
// For N people (default: 2, 4 and 6): all join one call, wait until every page decodes
// every other page's video, then for D seconds (default 15) read
//   - the noom process's user+system CPU time (/proc/PID/stat),
//   - its packet counters (sfu_stats: RTP packets received, packets forwarded),
//   - each page's upload (outbound-rtp bytesSent),
// and print CPU per forwarded packet, forwarded packets per second, and the CPU share of
// one core, with the extrapolation to 25-person calls at 500 kbit/s per publisher.
// Chromium's encoders share the same 2 cores, so these are per-packet figures, not a
// throughput ceiling.
//   node bench/sfu.mjs          (env: BENCH_SFU_N="2 4 6" BENCH_SFU_D=15)
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  captureSocket, joinCall, launchBrowser, newUser, openRoom, recordPeerConnections, startNetns, startServer,
} from '../tests/e2e/lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
process.env.NOOM_BUILD ||= resolve(HERE, '../build');
const SIZES = (process.env.BENCH_SFU_N || '2 4 6').split(/\s+/).filter(Boolean).map(Number);
const D = Number(process.env.BENCH_SFU_D || 15);
const TICK = 100; // clock ticks per second (getconf CLK_TCK)
const ROOM = 'bench';

function instrument() {
  const pcs = window.__pcs; // recordPeerConnections
  window.__bench = {
    stats: (room) => new Promise((res) => window.__socket.emit('sfu_stats', room, res)),
    async sent() {
      let bytes = 0;
      for (const pc of pcs) {
        if (pc.connectionState === 'closed') continue;
        for (const r of (await pc.getStats()).values()) if (r.type === 'outbound-rtp') bytes += r.bytesSent || 0;
      }
      return bytes;
    },
  };
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

async function run(netns, browser, n) {
  const server = await startServer({ netns, extra: ['--media', 'sfu', '--media-port', netns ? '3479' : '0', '--stun-port', '0', '--log-level', 'error'] });
  const pages = [];
  try {
    for (let i = 0; i < n; i++) {
      const page = await newUser(browser, server.origin, { initScript: [captureSocket, recordPeerConnections, instrument], viewport: { width: 640, height: 480 } });
      pages.push(page);
      await openRoom(page, `b${i}`, ROOM);
      await joinCall(page);
    }
    for (const page of pages) {
      await page.waitForFunction((want) => {
        const v = [...document.querySelectorAll('#video-grid .tile:not(.tile-self) video')];
        return v.length === want && v.every((x) => x.videoWidth > 0);
      }, n - 1, { timeout: 60000 });
    }
    await pages[0].waitForTimeout(3000); // past the first keyframes and the ramp-up
    const s0 = await pages[0].evaluate((r) => window.__bench.stats(r), ROOM);
    const up0 = await Promise.all(pages.map((p) => p.evaluate(() => window.__bench.sent())));
    const c0 = cpuTicks(server.pid);
    const t0 = Date.now();
    await pages[0].waitForTimeout(D * 1000);
    const c1 = cpuTicks(server.pid);
    const t1 = Date.now();
    const s1 = await pages[0].evaluate((r) => window.__bench.stats(r), ROOM);
    const up1 = await Promise.all(pages.map((p) => p.evaluate(() => window.__bench.sent())));
    const secs = (t1 - t0) / 1000;
    const cpu = (c1 - c0) / TICK;
    const fwd = s1.forwarded - s0.forwarded;
    const rin = s1.rtpIn - s0.rtpIn;
    const upKbps = up1.map((b, i) => ((b - up0[i]) * 8) / secs / 1000);
    return {
      n, secs, cpu, fwd, rin,
      usPerFwd: (cpu * 1e6) / fwd,
      fwdPerSec: fwd / secs,
      core: cpu / secs,
      upKbps: upKbps.reduce((a, b) => a + b, 0) / upKbps.length,
      upstreams: s1.upstreams,
      nacks: s1.nacksAnswered - s0.nacksAnswered,
    };
  } finally {
    for (const p of pages) await p.context().close().catch(() => {});
    await server.stop();
  }
}

const netns = await startNetns();
const browser = await launchBrowser({ netns, args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'] });
const rows = [];
try {
  for (const n of SIZES) rows.push(await run(netns, browser, n));
} finally {
  await browser.close();
  if (netns) netns.stop();
}
console.log(`SFU forwarding, ${D} s measured per size, ${netns ? 'inside a loopback-only namespace' : 'on loopback'}:\n`);
console.log('| people | packets in/s | forwarded/s | server CPU (share of a core) | CPU per forwarded packet | upload per page |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.n} | ${(r.rin / r.secs).toFixed(0)} | ${r.fwdPerSec.toFixed(0)} | ${(r.core * 100).toFixed(1)}% | ` +
    `${r.usPerFwd.toFixed(2)} µs | ${r.upKbps.toFixed(0)} kbit/s |`);
}
// 25 people at 500 kbit/s each: ~50 video packets/s of ~1,200 bytes plus 50 Opus
// packets/s per publisher, each forwarded to 24 subscribers.
const best = Math.min(...rows.map((r) => r.usPerFwd));
const perCall = 25 * 24 * (500000 / 8 / 1200 + 50);
console.log(`\nA 25-person call at 500 kbit/s per publisher forwards about ${perCall.toFixed(0)} packets/s; at ` +
  `${best.toFixed(2)} µs each one core carries about ${(1e6 / best / perCall).toFixed(1)} such calls.`);
