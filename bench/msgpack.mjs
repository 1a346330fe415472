// bench/msgpack.mjs: the msgpack parser against the default one, noom against Node's
// socket.io 4.8 with the same parser, in one run, on loopback.
//   1. echo: C clients, W emit-with-ack in flight each, acking a mixed object (strings,
//      numbers, a nested object, an array) back; server CPU per ack and acks/s;
//   2. fan-out: one sender broadcasting the same object to a room of R receivers; server
//      CPU per delivery.
// Server CPU is the user+system time of the server process (/proc/PID/stat) over the run,
// divided by the operations. The clients are socket.io-client 4.8 in this Node process
// (`parser: require('socket.io-msgpack-parser')` for the msgpack rows), so on 2 shared
// cores they compete with the server: the throughput column is the client's ceiling as
// much as the server's; CPU per operation is the figure to compare.
//   node bench/msgpack.mjs   (env: BENCH_MP_M=60000 acks, BENCH_MP_F=2000 broadcasts,
//                              BENCH_MP_C=20 clients, BENCH_MP_R=100 receivers)
import { ECHO, NODE_SERVER, cpu, require, startServer, stopServer as stop } from './lib.mjs';

const { io } = require('socket.io-client');
const msgpackParser = require('socket.io-msgpack-parser');
const M = Number(process.env.BENCH_MP_M || 60000);
const F = Number(process.env.BENCH_MP_F || 2000);
const C = Number(process.env.BENCH_MP_C || 20);
const R = Number(process.env.BENCH_MP_R || 100);
const W = 16;

const MIXED = {
  id: 123456, user: 'user-42', text: 'hello, this is a chat message of some length', ts: 1733450000123,
  score: 3.25, ok: true, none: null, tags: ['a', 'bb', 'ccc'], pos: { x: 10, y: -20, z: [1, 2, 3] },
};

function start(server, parser) {
  const [file, args] = server === 'noom'
    ? [ECHO, ['--port', '0', '--log-level', 'error', '--parser', parser]]
    : [process.execPath, [NODE_SERVER, '--port', '0', ...(parser === 'msgpack' ? ['--parser', 'msgpack'] : [])]];
  return startServer(server, file, args);
}
async function clients(url, n, parser) {
  const opts = { forceNew: true, transports: ['websocket'], reconnection: false, ...(parser === 'msgpack' ? { parser: msgpackParser } : {}) };
  return Promise.all(Array.from({ length: n }, () => new Promise((res, rej) => {
    const s = io(url, opts);
    s.once('connect', () => res(s));
    s.once('connect_error', rej);
  })));
}

async function echo(srv, parser) {
  const cs = await clients(srv.url, C, parser);
  await Promise.all(cs.map((s) => s.emitWithAck('echo', MIXED))); // warm up
  let left = M;
  const c0 = cpu(srv.child.pid);
  const t0 = process.hrtime.bigint();
  await Promise.all(cs.flatMap((s) => Array.from({ length: W }, async () => {
    while (left > 0) {
      left--;
      await s.emitWithAck('echo', MIXED);
    }
  })));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = cpu(srv.child.pid) - c0;
  for (const s of cs) s.close();
  return { perOp: (used / M) * 1e6, rate: M / secs };
}

async function fanout(srv, parser) {
  const rs = await clients(srv.url, R, parser);
  await Promise.all(rs.map((s) => s.emitWithAck('join', 'room')));
  const [sender] = await clients(srv.url, 1, parser);
  let got = 0;
  let wake = null;
  for (const s of rs) s.on('bcast', () => { got++; if (wake && got >= wake.n) wake.res(); });
  const until = (n) => new Promise((res) => { if (got >= n) res(); else wake = { n, res }; });
  const msg = { room: 'room', ...MIXED };
  const c0 = cpu(srv.child.pid);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < F; i += 10) {
    for (let k = 0; k < 10; k++) sender.emit('bcast', msg);
    await until((i + 10) * R);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = cpu(srv.child.pid) - c0;
  for (const s of [...rs, sender]) s.close();
  return { perOp: (used / (F * R)) * 1e6, rate: (F * R) / secs };
}

const rows = [];
for (const parser of ['default', 'msgpack']) {
  for (const server of ['noom', 'node']) {
    for (const [name, fn] of [['echo', echo], ['fanout', fanout]]) {
      const srv = await start(server, parser);
      try {
        const r = await fn(srv, parser);
        rows.push({ name, server, parser, ...r });
        process.stderr.write(`${name} ${server} ${parser}: ${r.perOp.toFixed(2)} us/op, ${Math.round(r.rate)}/s\n`);
      } finally {
        await stop(srv);
      }
    }
  }
}

const get = (name, server, parser) => rows.find((r) => r.name === name && r.server === server && r.parser === parser);
const out = [];
out.push(`msgpack vs default parser: ${C} clients x ${W} acks in flight (${M} acks of a ${JSON.stringify(MIXED).length}-byte JSON object), ${F} broadcasts to ${R} receivers`);
out.push('');
out.push('| case | parser | noom server CPU/op | Node server CPU/op | Node/noom | noom ops/s | Node ops/s |');
out.push('| --- | --- | --- | --- | --- | --- | --- |');
for (const name of ['echo', 'fanout']) {
  for (const parser of ['default', 'msgpack']) {
    const a = get(name, 'noom', parser);
    const b = get(name, 'node', parser);
    out.push(`| ${name === 'echo' ? 'echo (per ack)' : 'fan-out (per delivery)'} | ${parser} | ${a.perOp.toFixed(2)} us | ${b.perOp.toFixed(2)} us | ${(b.perOp / a.perOp).toFixed(1)}x | ${Math.round(a.rate)} | ${Math.round(b.rate)} |`);
  }
}
for (const name of ['echo', 'fanout']) {
  const d = get(name, 'noom', 'default');
  const m = get(name, 'noom', 'msgpack');
  out.push('');
  out.push(`noom ${name}: msgpack costs ${(m.perOp / d.perOp).toFixed(2)}x the default parser's server CPU per operation.`);
}
console.log(out.join('\n'));
