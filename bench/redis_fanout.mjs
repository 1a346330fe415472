// Cross-node fan-out cost of the Redis adapter: the same room broadcast delivered by one
// node, and by two nodes sharing the room through Redis.
//
//   node bench/redis_fanout.mjs [--receivers 200] [--messages 2000] [--size 100] [--window 32]
//                               [--runs 3] [--streams 1]
//   (NOOM_BUILD=<dir> picks the build holding tests/sio_cluster_server; default build/)
//
// Receivers are raw WebSocket Engine.IO/Socket.IO clients (npm ws, no socket.io-client
// parsing: they only count frames) that join room "bench". One sender, not in the room,
// asks its node to broadcast M messages to the room (the cluster server's `emit`
// command), at most --window unacknowledged. Cases:
//   1 node            every receiver on node A, no adapter (the in-memory baseline)
//   1 node + Redis    the same with the adapter: every broadcast is also published
//   2 nodes           half the receivers on A, half on B; A publishes, B decodes and
//                     delivers its half
// With --streams 1, three more on the Redis Streams adapter (sio_cluster_server --streams 1):
//   1 node + streams   every broadcast also XADDed (and read back by nobody else)
//   2 nodes streams    A XADDs, B reads the entry with XREAD, decodes and delivers its half
//   2 nodes streams + recovery   the same with connection-state recovery on: A delivers
//                      locally only once XADD answered (the entry id is the offset), and
//                      every delivery carries the offset
// For each: deliveries/s (receivers x messages / wall time, sender's first emit to the
// last frame) and CPU per 1000 deliveries (utime + stime of the nodes and redis-server
// from /proc, all processes summed), the figure that survives a busy machine.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, startRedis, stopNodes } from '../tests/cluster/lib/cluster.mjs';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../tests/package.json'));
const WebSocket = require('ws');

const opt = { receivers: 200, messages: 2000, size: 100, window: 32, runs: 3, streams: 0 };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = Number(process.argv[i + 1]);

const TICKS = 100; // clock ticks per second for /proc/<pid>/stat (Linux)
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

// A raw Socket.IO client over WebSocket. onEvent(text) gets each "42..." frame.
function rawClient(port, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    let connected = false;
    ws.on('message', (data) => {
      const s = data.toString();
      if (s[0] === '0') ws.send('40');
      else if (s === '2') ws.send('3');
      else if (s.startsWith('40')) { connected = true; resolve(ws); }
      else if (connected) onEvent(s);
    });
    ws.on('error', reject);
  });
}

async function runCase(label, layout) {
  const redis = layout.redis ? await startRedis() : null;
  const url = redis ? redis.url : 'none';
  const nodes = [];
  for (let i = 0; i < layout.nodes; i++) {
    nodes.push(await startNode('noom', url, {
      name: `n${i}`, waitConnected: Boolean(redis), extra: [], streams: Boolean(layout.streams),
      recoveryMs: layout.recovery ? 60000 : undefined,
    }));
  }
  // Receivers, spread over the nodes; each joins "bench" (ack id 0).
  let got = 0;
  const total = opt.receivers * opt.messages;
  let done;
  const finished = new Promise((r) => { done = r; });
  let tEnd = 0;
  const receivers = [];
  for (let i = 0; i < opt.receivers; i++) {
    const node = nodes[i % nodes.length];
    const ws = await rawClient(node.port, (s) => {
      if (s.startsWith('42["tick"')) {
        if (++got === total) { tEnd = performance.now(); done(); }
      }
    });
    await new Promise((r) => {
      ws.once('message', () => r());
      ws.send('420["join","bench"]');
    });
    receivers.push(ws);
  }
  // The sender on node 0, with a window of unacknowledged emits.
  let acked = 0, sent = 0, next;
  const sender = await rawClient(nodes[0].port, (s) => { if (s.startsWith('43')) { acked++; pump(); } });
  const pad = 'x'.repeat(Math.max(0, opt.size - 40));
  function pump() {
    while (sent < opt.messages && sent - acked < opt.window) {
      sender.send(`42${sent}["emit",{"event":"tick","args":[${sent},"${pad}"],"to":"bench"}]`);
      sent++;
    }
  }
  const pids = [...nodes.map((n) => n.child.pid), ...(redis ? [redis.child.pid] : [])];
  const cpu0 = pids.map(cpuSeconds);
  const t0 = performance.now();
  pump();
  await finished;
  const secs = (tEnd - t0) / 1000;
  const cpu1 = pids.map(cpuSeconds);
  const cpu = cpu1.reduce((a, c, i) => a + c - cpu0[i], 0);
  const cpuRedis = redis ? cpu1[pids.length - 1] - cpu0[pids.length - 1] : 0;
  for (const ws of [...receivers, sender]) ws.terminate();
  await stopNodes(...nodes);
  if (redis) await redis.stop();
  return { label, deliveries: total, secs, rate: total / secs, cpuPerK: (cpu / total) * 1000 * 1000, cpuPerMsg: (cpu / opt.messages) * 1e6, redisPerMsg: (cpuRedis / opt.messages) * 1e6 };
}

const cases = [
  ['1 node', { nodes: 1, redis: false }],
  ['1 node + Redis', { nodes: 1, redis: true }],
  ['2 nodes', { nodes: 2, redis: true }],
  ...(opt.streams ? [
    ['1 node + streams', { nodes: 1, redis: true, streams: true }],
    ['2 nodes streams', { nodes: 2, redis: true, streams: true }],
    ['2 nodes streams + recovery', { nodes: 2, redis: true, streams: true, recovery: true }],
  ] : []),
];
const results = {};
for (let run = 0; run < opt.runs; run++) {
  for (const [label, layout] of cases) {
    const r = await runCase(label, layout);
    (results[label] ??= []).push(r);
    process.stderr.write(`run ${run + 1} ${label}: ${Math.round(r.rate)} deliveries/s, ${r.cpuPerK.toFixed(2)} ms CPU per 1000, ${r.cpuPerMsg.toFixed(1)} us per broadcast (redis-server ${r.redisPerMsg.toFixed(1)})\n`);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`\n${opt.receivers} receivers, ${opt.messages} messages of ~${opt.size} bytes, window ${opt.window}, median of ${opt.runs} runs\n`);
console.log('| case | deliveries/s | vs 1 node | server CPU per 1000 deliveries | server CPU per broadcast | of which redis-server |');
console.log('| --- | --- | --- | --- | --- | --- |');
const base = median(results['1 node'].map((r) => r.rate));
for (const [label] of cases) {
  const rate = median(results[label].map((r) => r.rate));
  const cpu = median(results[label].map((r) => r.cpuPerK));
  const perMsg = median(results[label].map((r) => r.cpuPerMsg));
  const perRedis = median(results[label].map((r) => r.redisPerMsg));
  console.log(`| ${label} | ${Math.round(rate)} | ${(rate / base).toFixed(2)}x | ${cpu.toFixed(2)} ms | ${perMsg.toFixed(1)} µs | ${perRedis.toFixed(1)} µs |`);
}
