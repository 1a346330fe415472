// bench/sfu_load.mjs: build/noom's SFU under synthetic participants (bench/sfu_load.c),
// against a minimal UDP relay (bench/sfu_relay.c: recvmmsg/sendmmsg, no crypto) carrying
// the same traffic in the same run (issue 17).
//
// For each call size N (default 5, 10, 25): a fresh `build/noom --media sfu`; sfu_load
// makes N participants and prints their SDP offers; we do the page's signaling for each
// with socket.io-client (enter_room, call_join for all, then one sfu_offer each whose
// `subs` give every other participant's audio and video a recvonly m-line) and hand the
// answers back. sfu_load then does ICE, DTLS-SRTP and sends 50 Opus-sized + 50 VP8-sized
// packets per second per participant (500 kbit/s), and measures, over D seconds after a
// warm-up, the server's CPU (/proc/PID/stat) and its own; we read sfu_stats (forwarded)
// at the window's edges. Then the same N through sfu_relay. One table row per run.
//   node bench/sfu_load.mjs    (env: BENCH_SFU_LOAD_N="5 10 25" BENCH_SFU_LOAD_D=10)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../tests/e2e/lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { io } = createRequire(resolve(HERE, '../tests/package.json'))('socket.io-client');
process.env.NOOM_BUILD ||= resolve(HERE, '../build');
const LG = process.env.LG_BUILD ? resolve(process.env.LG_BUILD) : resolve(HERE, '../build/bench');
// "25" is one call of 25 people, "2x25" two of them at once, "25:cm" one call whose
// participants offer only AES128_CM_SHA1_80 (the server prefers AEAD_AES_128_GCM).
const SIZES = (process.env.BENCH_SFU_LOAD_N || '5 10 25 2x25 3x25 25:cm').split(/\s+/).filter(Boolean).map((spec) => {
  const [x, k] = spec.split(':');
  const [c, n] = x.includes('x') ? x.split('x').map(Number) : [1, Number(x)];
  return { c, n, k };
});
const D = Number(process.env.BENCH_SFU_LOAD_D || 10);
const WARM = Number(process.env.BENCH_SFU_LOAD_WARM || 3);
const REPS = Number(process.env.BENCH_SFU_LOAD_REPS || 3); // runs per row: the median (server µs per packet) is shown
const ROOM = 'load';
const PPS_PER_PUBLISHER = 100; // 50 audio + 50 video packets/s: 500 kbit/s
const CALL25 = 25 * 24 * PPS_PER_PUBLISHER; // forwarded packets/s of one 25-person call

const ack = (s, ...args) => new Promise((res, rej) => s.timeout(10000).emit(...args, (err, r) => (err ? rej(err) : res(r))));

// Runs sfu_load; onLine(line, child) sees every stdout line; resolves with the result object.
function loadgen(args, onLine) {
  const child = spawn(resolve(LG, 'sfu_load'), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  return new Promise((res, rej) => {
    let result = null;
    lines.on('line', (line) => {
      if (line.startsWith('result ')) result = JSON.parse(line.slice(7));
      else Promise.resolve(onLine(line, child)).catch((e) => { child.kill(); rej(e); });
    });
    child.on('exit', (code) => (result ? res(result) : rej(new Error(`sfu_load exited with ${code} and no result`))));
  });
}

async function runSfu({ c: calls, n, k }) {
  const server = await startServer({ extra: ['--media', 'sfu', '--media-port', '0', '--stun-port', '0', '--log-level', 'error', '--max-call', '64'] });
  const socks = [];
  try {
    for (let i = 0; i < n * calls; i++) {
      const s = io(server.origin, { transports: ['websocket'], forceNew: true });
      await new Promise((res, rej) => { s.once('connect', res); s.once('connect_error', rej); });
      socks.push(s);
      const e = await ack(s, 'enter_room', `load${i}`, `${ROOM}${Math.floor(i / n)}`);
      if (e && e.error) throw new Error(`enter_room: ${e.error}`);
    }
    for (const [i, s] of socks.entries()) {
      const j = await ack(s, 'call_join', `${ROOM}${Math.floor(i / n)}`);
      if (!j || j.error || j.media !== 'sfu') throw new Error(`call_join: ${JSON.stringify(j)}`);
    }
    const offers = [];
    let s0, s1, proto;
    const r = await loadgen(['-n', String(n), '-c', String(calls), '-p', String(server.pid), '-w', String(WARM), '-d', String(D), ...(k ? ['-k', k] : [])], async (line, child) => {
      if (line.startsWith('offer ')) {
        const sp = line.indexOf(' ', 6);
        const i = Number(line.slice(6, sp));
        offers[i] = line.slice(sp + 1).split('|').join('\r\n');
        if (offers.filter(Boolean).length < n * calls) return;
        for (let k = 0; k < n * calls; k++) {
          const subs = [], first = k - (k % n);
          for (let j = first, m = 2; j < first + n; j++) if (j !== k) subs.push(String(m++), socks[j].id, String(m++), socks[j].id);
          const a = await ack(socks[k], 'sfu_offer', `${ROOM}${Math.floor(k / n)}`, { type: 'offer', sdp: offers[k], subs });
          if (!a || a.error) throw new Error(`sfu_offer: ${JSON.stringify(a)}`);
          child.stdin.write(`answer ${k} ${a.sdp.split(/\r?\n/).filter(Boolean).join('|')}\n`);
        }
      } else if (line.startsWith('ready ')) {
        proto = line.split(' ')[2];
      } else if (line === 'mark0') {
        s0 = await ack(socks[0], 'sfu_stats', `${ROOM}0`);
      } else if (line === 'mark1') {
        s1 = await ack(socks[0], 'sfu_stats', `${ROOM}0`);
      }
    });
    // The result line can beat the mark1 ack: wait for it.
    for (let t = 0; !s1 && t < 100; t++) await new Promise((res) => setTimeout(res, 20));
    // Forwarded = what the participants received in sfu_load's window (the CPU's window);
    // the server's own counter, read over Socket.IO at the window's edges, cross-checks it.
    r.forwarded = r.received;
    r.serverForwarded = s1.forwarded - s0.forwarded;
    r.serverAuthFailures = s1.authFailures - s0.authFailures;
    r.serverStats = Object.fromEntries(Object.keys(s1).filter((key) => typeof s1[key] === 'number').map((key) => [key, s1[key] - (s0[key] || 0)]));
    r.proto = proto;
    return r;
  } finally {
    for (const s of socks) s.close();
    await server.stop();
  }
}

async function runRelay({ c: calls, n }) {
  const relay = spawn(resolve(LG, 'sfu_relay'), [String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((res, rej) => {
      createInterface({ input: relay.stdout }).once('line', (l) => res(Number(l.split(' ')[1])));
      relay.once('exit', () => rej(new Error('sfu_relay exited')));
    });
    const r = await loadgen(['-n', String(n), '-c', String(calls), '-p', String(relay.pid), '-w', String(WARM), '-d', String(D), '-r', `127.0.0.1:${port}`], () => {});
    r.forwarded = r.received; // every datagram a participant gets is one the relay sent, as for the SFU
    return r;
  } finally {
    relay.kill();
  }
}

function row(label, r) {
  if (process.env.BENCH_SFU_LOAD_RAW) console.error(JSON.stringify(r));
  const pps = r.forwarded / r.secs;
  const perCore = r.forwarded / r.serverCpu;
  const loss = 100 * (1 - r.receivedAll / r.expectedAll); // the whole run, after a drain
  return `| ${label} | ${r.calls > 1 ? `${r.calls} × ` : ''}${r.n} | ${r.mode} | ${Math.round(pps)} | ${(100 * r.serverCpu / r.secs).toFixed(1)} | ` +
    `${(1e6 * r.serverCpu / r.forwarded).toFixed(2)} | ${Math.round(perCore)} | ${(perCore / CALL25).toFixed(1)} | ` +
    `${(100 * r.selfCpu / r.secs).toFixed(1)} | ${(100 * r.serverWait / r.secs).toFixed(1)} | ${loss.toFixed(2)} |`;
}

console.log(`\n### SFU under synthetic participants (bench/sfu_load.c; ${D} s per run after ${WARM} s of warm-up)\n`);
console.log('| server | calls × people | SRTP | forwarded packets/s | server CPU % of a core | server µs per forwarded packet | ' +
  'forwarded packets/s per core | 25-person calls at 500 kbit/s per core | load generator CPU % | server waited for a core % | loss % |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const median = (rs) => rs.sort((a, b) => a.serverCpu / a.forwarded - b.serverCpu / b.forwarded)[rs.length >> 1];
for (const size of SIZES) {
  const sfu = [], rel = [], n = `${size.c}x${size.n}`;
  for (let k = 0; k < REPS; k++) { // alternate, so a busy moment of the shared machine hits both
    sfu.push(await runSfu(size));
    if (!size.k) rel.push(await runRelay(size)); // the relay does no crypto: one row per size is enough
  }
  const s = median(sfu);
  console.log(row('noom SFU', s));
  for (const x of sfu) {
    if (x.serverAuthFailures || x.authFail) console.log(`<!-- n=${n}: ${x.serverAuthFailures} SRTP auth failures at the server, ${x.authFail} at the participants -->`);
    if (Math.abs(x.serverForwarded - x.forwarded) > 0.05 * x.forwarded) console.log(`<!-- n=${n}: sfu_stats counted ${x.serverForwarded} forwarded, the participants ${x.forwarded} -->`);
  }
  if (rel.length) console.log(row('UDP relay floor', median(rel)));
}
console.log(`\nMedian of ${REPS} runs per row (by server µs per forwarded packet). ${PPS_PER_PUBLISHER} packets/s per publisher (50 Opus-sized of 100 bytes, 50 VP8-sized of 1,150 bytes); ` +
  `a 25-person call forwards ${CALL25} packets/s. Server and load generator share the machine's ${(await import('node:os')).cpus().length} cores.`);
process.exit(0);
