// bench/deflate-fanout.mjs: what WebSocket permessage-deflate costs a broadcast, noom
// against Node's socket.io 4.8 in the same run: a room of R receivers (plus one sender)
// gets M `bcast` packets of 4 KiB chat-like JSON text (above the 1 KiB threshold), W in
// flight; server user+system CPU (/proc/PID/stat) over the deliveries (M x R), and the
// bytes one receiver got per packet. Each server with deflate off, on (context takeover:
// every receiver's copy is compressed with its own stream), and on with
// server_no_context_takeover (noom then compresses a broadcast once and shares the frame
// with every receiver that negotiated the same parameters; Node compresses per receiver).
// The clients are npm ws in this one Node process, offering permessage-deflate as
// socket.io-client does; their inflating competes with the server on 2 shared cores, so
// the figures are per delivery and relative.
//   node bench/deflate-fanout.mjs   (env: BENCH_DFAN_R=200 BENCH_DFAN_M=300 BENCH_DFAN_W=4;
//   BENCH_DFAN_BASELINE=path/to/echo adds that binary's on and no-takeover rows, e.g. an
//   older build to compare with)
import { ECHO, NODE_SERVER, cpu, startServer, stopServer, wsClient as client } from './lib.mjs';

const BASELINE = process.env.BENCH_DFAN_BASELINE || '';
const R = Number(process.env.BENCH_DFAN_R || 200);
const M = Number(process.env.BENCH_DFAN_M || 300);
const W = Number(process.env.BENCH_DFAN_W || 4);
const ROOM = 'fan';

// deflate: 'off', 'on' or 'no-takeover' (server_no_context_takeover).
function start(kind, deflate) {
  const flags = deflate === 'off' ? [] : deflate === 'on' ? ['--per-message-deflate']
    : ['--per-message-deflate', '--deflate-server-no-takeover'];
  const [bin, args] = kind !== 'node'
    ? [kind === 'baseline' ? BASELINE : ECHO, ['--port', '0', '--log-level', 'error', ...flags]]
    : [process.execPath, [NODE_SERVER, '--port', '0', ...flags]];
  return startServer(kind, bin, args);
}


// Chat-like JSON text: a list of messages with names and words, compressible, not trivially.
function chat(n, seed) {
  const words = ['hello', 'room', 'call', 'video', 'join', 'message', 'réunion', 'ok', 'see', 'you', 'later', 'thanks'];
  const names = ['ana', 'bob', 'chen', 'dana', 'émile', 'femi'];
  const lines = [];
  let x = seed;
  const rnd = (k) => { x = (x * 1103515245 + 12345) & 0x7fffffff; return (x >>> 16) % k; };
  while (JSON.stringify(lines).length < n) {
    let t = '';
    for (let i = 2 + rnd(12); i > 0; i--) t += words[rnd(words.length)] + ' ';
    lines.push({ from: names[rnd(names.length)], at: 1764990000000 + rnd(1e6), text: t.trim() });
  }
  return lines;
}


function joinRoom(c) {
  const id = c.next++;
  return new Promise((res) => {
    c.acks.set(id, res);
    c.ws.send(`42${id}["join","${ROOM}"]`);
  });
}

async function measure(kind, deflate) {
  const srv = await start(kind, deflate);
  const pid = srv.child.pid;
  let received = 0;
  let wake = null;
  const onEvent = () => {
    received++;
    if (wake) wake();
  };
  const receivers = [];
  for (let i = 0; i < R; i++) receivers.push(await client(srv.port, onEvent));
  for (let i = 0; i < R; i += 50) await Promise.all(receivers.slice(i, i + 50).map(joinRoom));
  const sender = await client(srv.port);
  await joinRoom(sender);
  const ext = receivers[0].ws._extensions['permessage-deflate'];
  const params = ext ? Object.keys(ext.params).join(', ') || 'negotiated' : '';
  const payloads = Array.from({ length: 16 }, (_, i) => `42["bcast",${JSON.stringify({ room: ROOM, lines: chat(4096, 7 + i) })}]`);
  const until = (n) => new Promise((r) => {
    if (received >= n) return r();
    wake = () => { if (received >= n) { wake = null; r(); } };
  });
  // Warm-up: one packet to everyone (zlib streams allocated, JIT warm), not measured.
  sender.ws.send(payloads[0]);
  await until(R);
  received = 0;
  const bytes0 = receivers[0].ws._socket.bytesRead;
  const t0 = cpu(pid);
  const w0 = process.hrtime.bigint();
  for (let sent = 0; sent < M; sent++) {
    await until((sent - W + 1) * R);
    sender.ws.send(payloads[sent & 15]);
  }
  await until(M * R);
  const secs = Number(process.hrtime.bigint() - w0) / 1e9;
  const cpuPer = (cpu(pid) - t0) / (M * R);
  const bytesPer = (receivers[0].ws._socket.bytesRead - bytes0) / M;
  for (const c of [...receivers, sender]) c.ws.terminate();
  await stopServer(srv);
  return { kind, deflate, params, cpuUs: cpuPer * 1e6, bytesPer, rate: (M * R) / secs, raw: payloads[1].length };
}

const rows = [];
for (const deflate of ['off', 'on', 'no-takeover']) {
  for (const kind of ['noom', 'node']) rows.push(await measure(kind, deflate));
  if (BASELINE && deflate !== 'off') rows.push(await measure('baseline', deflate));
}
const f1 = (x) => x.toFixed(1);
const label = (r) => r.deflate === 'off' ? 'off'
  : `${r.deflate === 'on' ? 'on' : 'on, server_no_context_takeover'}${r.params ? '' : ' (NOT negotiated)'}`;
console.log(`## permessage-deflate in a fan-out (bench/deflate-fanout.mjs: room of ${R}, ${M} packets of ~${rows[0].raw} bytes, ${W} in flight)\n`);
console.log('| server | deflate | server CPU per delivery | bytes per delivery | deliveries/s |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.kind} | ${label(r)} | ${f1(r.cpuUs)} µs | ${Math.round(r.bytesPer)} | ${Math.round(r.rate)} |`);
const by = (k, d) => rows.find((r) => r.kind === k && r.deflate === d);
const x = (a, b) => (a.cpuUs / b.cpuUs).toFixed(2);
console.log(`\nCPU per delivery, on/off: noom ×${x(by('noom', 'on'), by('noom', 'off'))}, Node ×${x(by('node', 'on'), by('node', 'off'))};` +
  ` no-takeover/off: noom ×${x(by('noom', 'no-takeover'), by('noom', 'off'))}, Node ×${x(by('node', 'no-takeover'), by('node', 'off'))};` +
  ` noom/Node: on ×${x(by('noom', 'on'), by('node', 'on'))}, no-takeover ×${x(by('noom', 'no-takeover'), by('node', 'no-takeover'))}.`);
