// bench/deflate.mjs: what WebSocket permessage-deflate costs, noom against Node's
// socket.io 4.8 in the same run, each with the extension off and on (threshold 1024):
// (plus noom with server_ and client_no_context_takeover: streams freed after each message)
//   1. RSS per idle connection: N Socket.IO clients connected over WebSocket, each
//      offering permessage-deflate as socket.io-client does (ws's default offer), server
//      RSS after minus before, divided by N;
//   2. RSS per connection after traffic: each of them then sends one 4 KiB `echo` and
//      gets its ack back (so both zlib streams of every connection exist when on);
//   3. server CPU per message: C connections echo M 4 KiB packets (a window of W each),
//      user+system time of the server (/proc/PID/stat) over M; and the bytes the server
//      sent per message on the wire.
// The clients are npm ws in this one Node process speaking Engine.IO/Socket.IO by hand
// (their compression CPU competes with the server's on 2 shared cores: the figures are
// per message and relative).
//   node bench/deflate.mjs        (env: BENCH_DEFLATE_N=500 BENCH_DEFLATE_M=10000 BENCH_DEFLATE_C=10)
import { wordText } from '../tests/integration/lib/util.mjs';
import { ECHO, NODE_SERVER, cpu, rss, startServer, stopServer, wsClient as client } from './lib.mjs';

const N = Number(process.env.BENCH_DEFLATE_N || 500);
const M = Number(process.env.BENCH_DEFLATE_M || 10000);
const C = Number(process.env.BENCH_DEFLATE_C || 10);
const W = 8;

// deflate: false, true, or 'no-takeover' (noom only: both no_context_takeover flags).
function start(kind, deflate) {
  const flags = deflate === 'no-takeover' ? ['--per-message-deflate', '--deflate-server-no-takeover', '--deflate-client-no-takeover']
    : deflate ? ['--per-message-deflate'] : [];
  const [bin, args] = kind === 'noom'
    ? [ECHO, ['--port', '0', '--log-level', 'error', ...flags]]
    : [process.execPath, [NODE_SERVER, '--port', '0', ...(deflate ? ['--per-message-deflate'] : [])]];
  return startServer(kind, bin, args);
}

const settle = (ms) => new Promise((r) => setTimeout(r, ms));

// Chat-like text: compressible, not trivially so.
const WORDS = ['hello', 'room', 'call', 'video', 'join', 'message', 'réunion', 'ok', 'see', 'you', 'later', 'thanks'];
const text = (n, seed) => wordText(WORDS, n, seed);

function echo(c, payload) {
  const id = c.next++;
  return new Promise((res) => {
    c.acks.set(id, res);
    c.ws.send(`42${id}["echo",${JSON.stringify(payload)}]`);
  });
}

async function measure(kind, deflate) {
  const srv = await start(kind, deflate);
  const pid = srv.child.pid;
  const warm = await client(srv.port);
  await echo(warm, text(4096, 1));
  await settle(300);
  const base = rss(pid);
  const clients = [];
  for (let i = 0; i < N; i++) clients.push(await client(srv.port));
  await settle(500);
  const idle = rss(pid);
  const ext = clients[0].ws._extensions['permessage-deflate'] ? Object.keys(clients[0].ws._extensions['permessage-deflate'].params).join(', ') || 'negotiated' : '';
  for (let i = 0; i < N; i += 50) await Promise.all(clients.slice(i, i + 50).map((c, k) => echo(c, text(4096, i + k))));
  await settle(500);
  const busy = rss(pid);
  // CPU per message on C connections, W in flight each.
  const payloads = Array.from({ length: 16 }, (_, i) => text(4096, 100 + i));
  const bytesBefore = clients.slice(0, C).reduce((a, c) => a + c.ws._socket.bytesRead, 0);
  const t0 = cpu(pid);
  let sent = 0;
  await Promise.all(clients.slice(0, C).map(async (c) => {
    const lane = async () => {
      while (sent < M) {
        sent++;
        await echo(c, payloads[sent & 15]);
      }
    };
    await Promise.all(Array.from({ length: W }, lane));
  }));
  const cpuPer = (cpu(pid) - t0) / sent;
  const bytesPer = (clients.slice(0, C).reduce((a, c) => a + c.ws._socket.bytesRead, 0) - bytesBefore) / sent;
  for (const c of clients) c.ws.terminate();
  warm.ws.terminate();
  await stopServer(srv);
  return { kind, deflate, ext, idleKiB: (idle - base) / N / 1024, busyKiB: (busy - base) / N / 1024, cpuUs: cpuPer * 1e6, bytesPer };
}

const rows = [];
for (const deflate of [false, true]) {
  for (const kind of ['noom', 'node']) rows.push(await measure(kind, deflate));
}
rows.push(await measure('noom', 'no-takeover'));
const f1 = (x) => x.toFixed(1);
console.log(`## permessage-deflate (bench/deflate.mjs: ${N} connections, ${M} echoes of 4 KiB on ${C} connections)\n`);
console.log('| server | deflate | RSS per idle connection | RSS per connection after one 4 KiB echo | server CPU per 4 KiB echo | bytes sent per echo |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.kind} | ${r.deflate ? `on${r.ext && r.ext !== 'negotiated' ? ` (${r.ext})` : ''}${r.ext ? '' : ' (NOT negotiated)'}` : 'off'} | ${f1(r.idleKiB)} KiB | ${f1(r.busyKiB)} KiB | ${f1(r.cpuUs)} µs | ${Math.round(r.bytesPer)} |`);
}
const by = (k, d) => rows.find((r) => r.kind === k && r.deflate === d);
const on = by('noom', true), off = by('noom', false), non = by('node', true);
console.log(`\nnoom on/off: CPU per echo ×${(on.cpuUs / off.cpuUs).toFixed(2)}, RSS per connection after traffic +${f1(on.busyKiB - off.busyKiB)} KiB;` +
  ` noom/Node with deflate on: CPU ×${(on.cpuUs / non.cpuUs).toFixed(2)}, RSS after traffic ${f1(on.busyKiB)} vs ${f1(non.busyKiB)} KiB.`);
