// Bounds of the plain-WebSocket chat at /ws (docs/app-events.md, "Plain WebSocket chat"):
// a listener that stops reading is dropped and the server's memory comes back, a flooder
// is closed 1008 after its burst, a socket that answers no ping is closed 1001, the
// connection limit refuses with 503 and defaults from the open-file limit. Real npm `ws`
// clients against build/noom; each test starts its own server with small limits.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { setImmediate as tick } from 'node:timers/promises';
import { startNoom, next, until, BUILD } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('../node_modules/ws');

const MB = 1024 * 1024;
const rssOf = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const say = (ws, type, payload) => ws.send(JSON.stringify({ type, payload }));

function open(srv, opts) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, opts);
  return new Promise((res, rej) => { ws.once('open', () => res(ws)); ws.once('error', rej); });
}

// Polls cond() (sync or async) every few ms until it is truthy; throws after ms.
async function poll(cond, ms, label) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${label}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('/ws bounds', () => {
  test('a listener that stops reading is closed at the 8 MiB queue limit; RSS stays bounded and comes back', async () => {
    // No rate limit here: the point is the send queue, which one flooder fills fast.
    const srv = await startNoom(['--log-level', 'info', '--msg-rate', '1000000', '--msg-burst', '1000000']);
    const flooder = await open(srv), listener = await open(srv);
    try {
      await srv.waitLog(/ws-chat: \S+ joined, 2 connected/);
      const baseline = rssOf(srv.pid);
      listener._socket.pause(); // the peer stops reading: the kernel fills, then our queue
      say(flooder, 'nickname', 'flood');
      const line = 'x'.repeat(2000);
      let sent = 0, peak = baseline;
      // The listener by its port (the flooder, reading its own echoes, may lag behind too).
      const lport = listener._socket.localPort;
      const dropped = new RegExp(`127\\.0\\.0\\.1:${lport}: websocket peer is not reading \\(\\d+ bytes queued\\), ` +
        `closing it[\\s\\S]*ws-chat: 127\\.0\\.0\\.1:${lport} left \\(1008\\)`);
      const t0 = Date.now();
      while (!dropped.test(srv.stderr())) {
        if (Date.now() - t0 > 30000) throw new Error(`listener not dropped after ${sent} messages: ${srv.stderr().slice(-2000)}`);
        // A bounded batch per turn: the flooder must keep reading its own echoes, or on a
        // busy machine it would be the one the server drops as a non-reader.
        for (let k = 0; k < 64 && flooder.bufferedAmount < MB; k++) { say(flooder, 'new_message', line); sent++; }
        peak = Math.max(peak, rssOf(srv.pid));
        await tick();
      }
      const droppedMs = Date.now() - t0;
      peak = Math.max(peak, rssOf(srv.pid));
      // The queue (8 MiB of 2 KB messages) and its bookkeeping, not the whole flood.
      assert.ok(peak - baseline < 48 * MB, `RSS grew ${((peak - baseline) / MB).toFixed(1)} MB`);
      assert.ok(droppedMs < 15000, `dropped after ${droppedMs} ms`);
      // Flooding over: once the flooder's own echoes drain, memory is back near the baseline.
      const after = await poll(() => { const r = rssOf(srv.pid); return r - baseline < 8 * MB && r; }, 10000,
        'RSS back near baseline');
      console.log(`# ${sent} messages sent, listener dropped after ${droppedMs} ms; RSS baseline ` +
        `${(baseline / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB, after ${(after / MB).toFixed(1)} MB`);
      // The listener sees the connection end once it reads again.
      const closed = next(listener, 'close', 10000);
      listener._socket.resume();
      await closed;
    } finally {
      flooder.terminate(); listener.terminate();
      await srv.stop();
    }
  });

  test('a flooder is closed with 1008 "rate limit exceeded" after its burst; the rest is refused', async () => {
    const srv = await startNoom(['--log-level', 'warn', '--msg-rate', '5', '--msg-burst', '20']);
    const flooder = await open(srv), listener = await open(srv);
    try {
      let accepted = 0;
      listener.on('message', (d) => { if (d.toString().startsWith('flood: ')) accepted++; });
      const closed = next(flooder, 'close', 5000);
      const t0 = Date.now();
      say(flooder, 'nickname', 'flood'); // a message too: one token
      for (let i = 0; i < 200; i++) say(flooder, 'new_message', `m${i}`);
      const [code, reason] = await closed;
      const secs = (Date.now() - t0) / 1000;
      assert.equal(code, 1008);
      assert.equal(reason.toString(), 'rate limit exceeded');
      // Everything the server accepted was broadcast before the listener's own marker.
      say(listener, 'new_message', 'marker');
      await until(listener, 'message', (d) => d.toString() === 'Anon: marker');
      console.log(`# ${accepted} of 200 messages accepted in ${secs.toFixed(2)} s, then closed 1008`);
      assert.ok(accepted >= 19 && accepted <= 19 + Math.ceil(5 * secs) + 1, `accepted ${accepted}`);
      await srv.waitLog(/ws-chat \S+: over 5 messages\/s \(burst 20\), closing it with 1008/);
      assert.equal(listener.readyState, WebSocket.OPEN);
    } finally {
      flooder.terminate(); listener.terminate();
      await srv.stop();
    }
  });

  test('a socket that answers no ping is closed with 1001 "ping timeout"; one that answers stays', async () => {
    const srv = await startNoom(['--log-level', 'info', '--ws-ping-interval', '200', '--ws-ping-timeout', '300']);
    const silent = await open(srv, { autoPong: false }), good = await open(srv);
    try {
      let pings = 0, goodPings = 0;
      silent.on('ping', () => pings++);
      good.on('ping', () => goodPings++);
      const t0 = Date.now();
      const [code, reason] = await next(silent, 'close', 5000);
      const ms = Date.now() - t0;
      console.log(`# silent socket closed after ${ms} ms (${pings} ping)`);
      assert.equal(code, 1001);
      assert.equal(reason.toString(), 'ping timeout');
      assert.ok(pings >= 1);
      assert.ok(ms >= 400 && ms < 3000, `closed after ${ms} ms`);
      await srv.waitLog(/websocket answered no ping within 300 ms, closing it/);
      // The answering socket outlives several more intervals.
      await poll(() => goodPings >= 5, 5000, 'five pings answered');
      assert.equal(good.readyState, WebSocket.OPEN);
    } finally {
      silent.terminate(); good.terminate();
      await srv.stop();
    }
  });

  test('SIGTERM with /ws clients connected stops the server', async () => {
    const srv = await startNoom(['--log-level', 'warn']);
    const a = await open(srv), b = await open(srv);
    try {
      const t = setTimeout(() => process.kill(srv.pid, 'SIGKILL'), 5000);
      const { code, signal } = await srv.stop();
      clearTimeout(t);
      assert.equal(signal, null, 'had to be killed');
      assert.equal(code, 0);
    } finally {
      a.terminate(); b.terminate();
    }
  });
});

describe('connection limit', () => {
  const defaultFor = (n) => n - Math.min(256, Math.max(16, Math.floor(n / 10)));

  test('--help gives the default --max-connections from the open-file limit', () => {
    for (const n of [300, 4096]) {
      const help = execFileSync('/bin/sh', ['-c', `ulimit -n ${n} && exec "$0" --help`, join(BUILD, 'noom')],
        { encoding: 'utf8' });
      assert.match(help, new RegExp(`--max-connections N .*ulimit -n.*\\(default: ${defaultFor(n)}\\)`));
    }
  });

  test('at the default limit (ulimit -n 64) connections beyond it get 503, logged, and the server recovers', async () => {
    const limit = defaultFor(64); // 48
    const srv = await startNoom(['--log-level', 'warn', '--stun-port', '0'], { nofile: 64 });
    const socks = [];
    try {
      for (let i = 0; i < limit; i++) socks.push(await open(srv));
      // One at a time: each refused connection holds a descriptor until it is closed.
      for (let i = 0; i < 3; i++) {
        const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`);
        ws.on('error', () => {}); // terminate() below reports the unfinished handshake
        const [, res] = await next(ws, 'unexpected-response');
        assert.equal(res.statusCode, 503);
        ws.terminate();
      }
      await srv.waitLog(new RegExp(`refused, ${limit} connections open \\(max_connections; raise it`));
      assert.doesNotMatch(srv.stderr(), /accept failed/);
      // A place freed is a place taken again.
      socks.pop().close();
      socks.push(await poll(() => open(srv).catch(() => null), 5000, 'a connection accepted again'));
    } finally {
      for (const s of socks) s.terminate();
      await srv.stop();
    }
  });
});
