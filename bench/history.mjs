// bench/history.mjs: what room history costs build/noom, on loopback.
//   1. server CPU per accepted message with history off (--history 0), in memory
//      (--db :memory:) and in an SQLite file (WAL): user+system time of the noom process
//      (/proc/PID/stat) over M messages, divided by M;
//   2. sustained persisted messages per second with SQLite: C senders as fast as the
//      server acks for D seconds, then SIGTERM (the final batch is committed) and the rows
//      in the file counted; drops, if any, come from the server's log.
//   3. the same in a room of R people (default 100; the target case): server CPU
//      per accepted message and per delivery, history off against an SQLite file.
//   4. the time to answer enter_room with 50 messages of history: K rooms of 60 messages
//      are written, noom is restarted on the same file, and one client enters each room
//      twice: cold (the room's window is not loaded: a read from SQLite) and warm (from
//      the window). Round trip as the client sees it, one call at a time.
// The senders are socket.io-client 4.8 in this one Node process (a window of W unacked
// messages each), so on 2 shared cores the client's CPU competes with the server's; the
// figures are per message and relative, not a throughput ceiling.
//   node bench/history.mjs            (env: BENCH_HIST_M=20000 BENCH_HIST_D=10 BENCH_HIST_C=4
//                                      BENCH_HIST_R=100 BENCH_HIST_MR=3000 BENCH_HIST_K=200;
//                                      BENCH_HIST_PARTS=cpu,big,rate,enter runs some of them)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, cpu, require, startServer } from './lib.mjs';

const { io } = require('socket.io-client');
const BIN = process.env.APP_BIN || join(REPO, 'build/noom');
const M = Number(process.env.BENCH_HIST_M || 20000);
const D = Number(process.env.BENCH_HIST_D || 10);
const C = Number(process.env.BENCH_HIST_C || 4);
const R = Number(process.env.BENCH_HIST_R || 100);
const MR = Number(process.env.BENCH_HIST_MR || 3000);
const K = Number(process.env.BENCH_HIST_K || 200);
const PARTS = new Set((process.env.BENCH_HIST_PARTS || 'cpu,big,rate,enter').split(','));
const W = 64;

function start(flags) {
  return startServer('noom', BIN, ['--port', '0', '--stun-port', '0', '--log-level', 'warn', '--msg-burst', '1000000000',
    '--msg-rate', '1000000000', '--event-rate', '1000000000', '--event-burst', '1000000000', ...flags]);
}
async function senders(url, n, room = (i) => `bench-${i % 2}`) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const s = io(url, { forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise((r) => s.once('connect', r));
    await s.emitWithAck('enter_room', `s${i}`, room(i));
    s.room = room(i);
    out.push(s);
  }
  return out;
}
// Sends until count messages are acked or deadline passes; every sender keeps W in flight.
function pump(socks, { count = Infinity, until = Infinity }) {
  let sent = 0, acked = 0;
  return new Promise((done) => {
    const one = (s) => {
      if (sent >= count || Date.now() >= until) { if (acked === sent) done(acked); return; }
      sent++;
      s.emit('new_message', `message ${sent} with some ordinary chat text in it`, s.room, () => { acked++; one(s); });
    };
    socks.forEach((s) => { for (let k = 0; k < W; k++) one(s); });
  });
}
async function stop(srv) {
  srv.child.kill('SIGTERM');
  await new Promise((r) => srv.child.once('close', r)); // 'close': its log is read to the end
}

const dir = mkdtempSync(join(tmpdir(), 'noom-bench-hist-'));
const rows = [];
if (PARTS.has('cpu')) {
  for (const [label, flags] of [['history off', ['--history', '0']], ['history :memory:', ['--db', ':memory:']],
    ['history SQLite file', ['--db', join(dir, 'cpu.db'), '--history-max-per-room', '0']]]) {
    const srv = await start(flags);
    const socks = await senders(srv.url, C);
    await pump(socks, { count: 2000 }); // warm-up
    const c0 = cpu(srv.child.pid), t0 = Date.now();
    const n = await pump(socks, { count: M });
    const c1 = cpu(srv.child.pid), secs = (Date.now() - t0) / 1000;
    socks.forEach((s) => s.close());
    await stop(srv);
    rows.push({ label, us_per_msg: ((c1 - c0) / n) * 1e6, msgs_per_s: n / secs });
  }
}
// A room of R: C of them send, everyone receives (R - 1 deliveries per message).
const big = [];
if (PARTS.has('big')) {
  for (const [label, flags] of [['history off', ['--history', '0']],
    ['history SQLite file', ['--db', join(dir, 'big.db'), '--history-max-per-room', '0']]]) {
    const srv = await start(flags);
    const socks = await senders(srv.url, R, () => 'big');
    const talkers = socks.slice(0, C);
    await pump(talkers, { count: 500 }); // warm-up
    const c0 = cpu(srv.child.pid);
    const n = await pump(talkers, { count: MR });
    const c1 = cpu(srv.child.pid);
    socks.forEach((s) => s.close());
    await stop(srv);
    big.push({ label, us_per_msg: ((c1 - c0) / n) * 1e6, us_per_delivery: ((c1 - c0) / (n * (R - 1))) * 1e6 });
  }
}
let rate = null;
if (PARTS.has('rate')) {
  const file = join(dir, 'rate.db');
  const srv = await start(['--db', file, '--history-max-per-room', '0']); // no pruning mid-run
  const socks = await senders(srv.url, C);
  const t0 = Date.now();
  const acked = await pump(socks, { until: Date.now() + D * 1000 });
  const secs = (Date.now() - t0) / 1000;
  socks.forEach((s) => s.close());
  await stop(srv);
  const stored = Number(execFileSync('/usr/bin/python3', ['-c',
    'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from messages").fetchone()[0])', file],
  { encoding: 'utf8' }));
  // Every drop is logged: "N messages were not stored" lines add up to the total.
  const dropped = [...srv.log().matchAll(/(\d+) messages were not stored/g)].reduce((a, m) => a + Number(m[1]), 0);
  rate = { acked, stored, secs, dropped };
}
// enter_room with 50 messages of history, cold (from SQLite) and warm (from the window).
let enter = null;
if (PARTS.has('enter')) {
  const file = join(dir, 'enter.db');
  const room = (k) => `enter-${k}`;
  let srv = await start(['--db', file]);
  const [seed] = await senders(srv.url, 1, () => room(0));
  for (let k = 0; k < K; k++) {
    if (k > 0) await seed.emitWithAck('enter_room', 'seed', room(k));
    await pump([Object.assign(seed, { room: room(k) })], { count: 60 });
    await seed.emitWithAck('leave_room', room(k));
  }
  seed.close();
  await stop(srv); // the last batch is committed
  srv = await start(['--db', file]);
  const s = io(srv.url, { forceNew: true, transports: ['websocket'], reconnection: false });
  await new Promise((r) => s.once('connect', r));
  const cold = [], warm = [];
  const once = async (k, into) => {
    const t0 = process.hrtime.bigint();
    const res = await s.emitWithAck('enter_room', 'reader', room(k));
    into.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!res.history || res.history.length !== 50) throw new Error(`enter_room ${room(k)}: ${JSON.stringify(res).slice(0, 200)}`);
    await s.emitWithAck('leave_room', room(k));
  };
  for (let k = 0; k < K; k++) {
    await once(k, cold);
    await once(k, warm);
  }
  s.close();
  await stop(srv);
  const q = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(p * v.length))];
  enter = { cold, warm, q };
}
rmSync(dir, { recursive: true, force: true });

if (rows.length) {
  console.log('| server | CPU per accepted message | accepted messages/s (client-bound) |');
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.label} | ${r.us_per_msg.toFixed(1)} µs | ${Math.round(r.msgs_per_s)} |`);
  const base = rows[0].us_per_msg;
  console.log(`\nhistory cost per message: :memory: +${(rows[1].us_per_msg - base).toFixed(1)} µs, SQLite file +${(rows[2].us_per_msg - base).toFixed(1)} µs`);
}
if (big.length) {
  console.log(`\nroom of ${R} (${C} senders, ${R - 1} deliveries per message):`);
  console.log('| server | CPU per accepted message | CPU per delivery |');
  console.log('| --- | --- | --- |');
  for (const r of big) console.log(`| ${r.label} | ${r.us_per_msg.toFixed(1)} µs | ${r.us_per_delivery.toFixed(3)} µs |`);
  console.log(`history on/off in a room of ${R}: ${(big[1].us_per_msg / big[0].us_per_msg).toFixed(2)}x`);
}
if (rate) {
  console.log(`\nSQLite sustained: ${rate.acked} acked and ${rate.stored} persisted in ${rate.secs.toFixed(1)} s = ` +
    `${Math.round(rate.stored / rate.secs)} persisted messages/s, ${rate.dropped} not stored (queue full)`);
}
if (enter) {
  const { cold, warm, q } = enter;
  console.log(`\nenter_room with 50 messages of history (${K} rooms, SQLite file, one call at a time, client round trip):`);
  console.log('| room | median | p90 | p99 | max |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [label, v] of [['cold (window not loaded: read from SQLite)', cold], ['warm (from the window)', warm]]) {
    console.log(`| ${label} | ${q(v, 0.5).toFixed(2)} ms | ${q(v, 0.9).toFixed(2)} ms | ${q(v, 0.99).toFixed(2)} ms | ${Math.max(...v).toFixed(2)} ms |`);
  }
}
