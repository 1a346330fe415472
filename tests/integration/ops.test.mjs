// Operations of build/noom (docs/operations.md): /healthz and /readyz (with a real
// redis-server going away), the SIGTERM drain (clients told "transport close" spread over
// the window, the listener refusing, history flushed), a second signal, --check-config,
// and --log-format json.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startNoom, next, BUILD } from './lib/noom.mjs';
import { startRedis, missing } from '../cluster/lib/cluster.mjs';
import { scrape, value } from './lib/prom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');
const WebSocket = require('../node_modules/ws');

const DIR = mkdtempSync(join(tmpdir(), 'noom-ops-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const FAST = ['--stun-port', '0', '--msg-burst', '1000', '--msg-rate', '1000', '--event-burst', '1000', '--event-rate', '1000'];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

// Polls fn until it returns true (fn's own assertion is the test), or fails after ms.
async function eventually(fn, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`${what} never held within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const get = async (url) => { const r = await fetch(url); return { status: r.status, body: await r.text() }; };

describe('health and readiness', () => {
  test('/healthz and /readyz answer 200 on a healthy node without Redis', async () => {
    const srv = await startNoom(FAST);
    try {
      assert.deepEqual(await get(`${srv.url}/healthz`), { status: 200, body: 'ok\n' });
      assert.deepEqual(await get(`${srv.url}/readyz`), { status: 200, body: 'ok\n' });
    } finally {
      await srv.stop();
    }
  });

  test('/readyz is 503 while Redis is down, 200 once it is up, 503 again when it goes', { skip: missing({ binaries: [] }) ?? false }, async () => {
    const port = await freePort();
    const srv = await startNoom([...FAST, '--redis', `redis://127.0.0.1:${port}`]);
    let redis;
    try {
      const down = await get(`${srv.url}/readyz`);
      assert.equal(down.status, 503);
      assert.match(down.body, /^redis: not connected/m);
      assert.equal((await get(`${srv.url}/healthz`)).status, 200, 'the process still serves');
      redis = await startRedis(port);
      await eventually(async () => (await get(`${srv.url}/readyz`)).status === 200, 15000, '/readyz 200 after Redis came up');
      const up = await scrape(`${srv.url}/metrics`);
      assert.equal(value(up, 'noom_adapter_connected', { adapter: 'redis' }), 1);
      assert.equal(value(up, 'noom_redis_queue_bytes'), 0);
      await redis.stop();
      redis = null;
      await eventually(async () => {
        const r = await get(`${srv.url}/readyz`);
        return r.status === 503 && /redis: not connected/.test(r.body);
      }, 10000, '/readyz 503 after Redis went');
      assert.equal(value(await scrape(`${srv.url}/metrics`), 'noom_adapter_connected', { adapter: 'redis' }), 0);
    } finally {
      await redis?.stop();
      await srv.stop();
    }
  });
});

describe('SIGTERM drain', () => {
  test('stops accepting, answers 503 on /readyz, closes sessions spread over --drain-ms as "transport close", flushes history, exits 0', async () => {
    const db = join(DIR, 'drain.db');
    const side = await freePort();
    const srv = await startNoom([...FAST, '--db', db, '--drain-ms', '1500', '--metrics-addr', `127.0.0.1:${side}`]);
    // 150 sessions over 1500 ms: 15 ticks of 100 ms closing 10 each (the least per tick).
    const N = 150;
    const clients = [];
    for (let i = 0; i < N; i++) {
      const transports = i < 2 ? ['polling'] : ['websocket'];
      clients.push(io(srv.url, { forceNew: true, transports, reconnection: false }));
    }
    await Promise.all(clients.map((s) => next(s, 'connect', 20000)));
    const gone = clients.map((s) => next(s, 'disconnect', 20000).then(([reason]) => ({ reason, at: Date.now() })));
    const room = 'drained';
    await clients[2].timeout(5000).emitWithAck('enter_room', 'ann', room);
    const texts = Array.from({ length: 20 }, (_, i) => `before the restart ${i}`);
    for (const t of texts) assert.equal(await clients[2].timeout(5000).emitWithAck('new_message', t, room), undefined);

    process.kill(srv.pid, 'SIGTERM');
    await srv.waitLog(/drain: stopped accepting; closing 150 sessions over 1500 ms/);
    const ready = await get(`http://127.0.0.1:${side}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(ready.body, /^draining/m);
    // The listener is closed: a new connection is refused by the kernel.
    const err = await new Promise((res) => {
      const c = connect(srv.port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); res(null); });
      c.once('error', res);
    });
    assert.equal(err?.code, 'ECONNREFUSED');

    const ends = await Promise.all(gone);
    // WebSocket clients see their transport close. A long-polling client whose next
    // request needs a new TCP connection finds the listener closed: "transport error".
    // Both are reasons socket.io-client reconnects from (unlike "io server disconnect").
    assert.deepEqual(ends.slice(2).map((e) => e.reason), Array(N - 2).fill('transport close'));
    for (const e of ends.slice(0, 2)) assert.ok(['transport close', 'transport error'].includes(e.reason), e.reason);
    // Long-polling sessions are not spread: their next poll could not reach a node whose
    // listener is closed, so they are closed on the first tick, ahead of all but the first
    // slices of WebSocket ones (spread, they would land anywhere in the window).
    const wsTimes = ends.slice(2).map((e) => e.at).sort((a, b) => a - b);
    for (const e of ends.slice(0, 2)) {
      assert.ok(e.at <= wsTimes[29], `a polling client disconnected after ${wsTimes.filter((t) => t < e.at).length} WebSocket ones`);
    }
    const times = ends.map((e) => e.at).sort((a, b) => a - b);
    const spread = times[N - 1] - times[0];
    assert.ok(spread >= 1000 && spread < 4000, `disconnects spread over ${spread} ms (window 1500 ms)`);
    // Evenly: no 100 ms stretch sees more than a few slices' worth.
    const perTenth = new Map();
    for (const t of times) perTenth.set(Math.floor((t - times[0]) / 100), (perTenth.get(Math.floor((t - times[0]) / 100)) ?? 0) + 1);
    assert.ok(Math.max(...perTenth.values()) <= 40, `at most 40 in any 100 ms: ${[...perTenth.values()]}`);
    const { code } = await srv.exited;
    assert.equal(code, 0);
    assert.match(srv.stderr(), /drain: 150 of 150 sessions closed over \d+ ms, 0 still open; stopping/);
    for (const c of clients) c.close();

    // The same file after the restart: everything acked before SIGTERM is there.
    const again = await startNoom([...FAST, '--db', db]);
    try {
      const s = io(again.url, { forceNew: true, transports: ['websocket'], reconnection: false });
      await next(s, 'connect');
      const entered = await s.timeout(5000).emitWithAck('enter_room', 'bob', room);
      assert.deepEqual(entered.history.map((m) => m.text), texts);
      s.close();
    } finally {
      await again.stop();
    }
  });

  test('a second SIGTERM during the drain exits at once', async () => {
    const srv = await startNoom([...FAST, '--drain-ms', '60000']);
    // 300 WebSocket sessions (raw, answering nothing): closed 10 per 100 ms, the drain
    // lasts 3 s at least. (Long-polling ones would all go on the first tick.)
    const sockets = [];
    for (let b = 0; b < 10; b++) {
      await Promise.all(Array.from({ length: 30 }, () => new Promise((res, rej) => {
        const w = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
        sockets.push(w);
        w.once('message', () => res());
        w.once('error', rej);
      })));
    }
    process.kill(srv.pid, 'SIGTERM');
    await srv.waitLog(/drain: stopped accepting; closing 300 sessions/);
    const t0 = Date.now();
    process.kill(srv.pid, 'SIGTERM');
    const { code } = await srv.exited;
    assert.equal(code, 1);
    assert.ok(Date.now() - t0 < 2000);
    assert.match(srv.stderr(), /SIGTERM again: exiting now/);
    assert.doesNotMatch(srv.stderr(), /sessions closed over/, 'the drain did not finish');
    for (const w of sockets) w.terminate();
  });
});

describe('--check-config', () => {
  const run = (args) => spawnSync(join(BUILD, 'noom'), ['--check-config', ...args], { encoding: 'utf8', timeout: 20000 });

  test('a good configuration: every line ok, exit 0, nothing served', async () => {
    const port = await freePort();
    const r = run(['--port', String(port), '--stun-port', '0', '--db', join(DIR, 'new.db')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /FAIL/);
    assert.match(r.stdout, new RegExp(`ok   TCP 127\\.0\\.0\\.1:${port} can be bound`));
    assert.match(r.stdout, /ok   --db .*new\.db will be created/);
    assert.match(r.stdout, /configuration ok\n$/);
  });

  test('with Redis up it says so', { skip: missing({ binaries: [] }) ?? false }, async () => {
    const redis = await startRedis();
    try {
      const r = run(['--port', '0', '--stun-port', '0', '--redis', redis.url, '--db', ':memory:']);
      assert.equal(r.status, 0, r.stdout);
      assert.match(r.stdout, new RegExp(`ok   --redis ${redis.url} answers PING`));
    } finally {
      await redis.stop();
    }
  });

  test('a bad one: each problem on a FAIL line that says what to do, exit 1', async () => {
    const busy = createServer();
    await new Promise((res) => busy.listen(0, '127.0.0.1', res));
    const taken = busy.address().port;
    const closed = await freePort();
    try {
      const r = run(['--port', String(taken), '--stun-port', '0', '--tls-cert', join(DIR, 'none.pem'), '--tls-key', join(DIR, 'none.key'),
        '--redis', `redis://127.0.0.1:${closed}`, '--web-root', join(DIR, 'no-such-dir'), '--db', '/proc/nope/x.db',
        '--metrics-addr', 'nonsense']);
      assert.equal(r.status, 1);
      assert.match(r.stdout, new RegExp(`FAIL TCP 127\\.0\\.0\\.1:${taken} cannot be bound: .*try --port`));
      assert.match(r.stdout, /FAIL --tls-cert .* not a readable PEM pair/);
      assert.match(r.stdout, new RegExp(`FAIL --redis redis://127\\.0\\.0\\.1:${closed}: cannot connect .*Connection refused \\(start Redis`));
      assert.match(r.stdout, /FAIL --web-root .* is not a readable directory/);
      assert.match(r.stdout, /FAIL --db \/proc\/nope\/x\.db: cannot create it/);
      assert.match(r.stdout, /FAIL --metrics-addr nonsense: expected HOST:PORT/);
      assert.match(r.stdout, /configuration has problems/);
    } finally {
      busy.close();
    }
    const p = await freePort();
    const same = run(['--port', String(p), '--stun-port', '0', '--db', ':memory:', '--metrics-addr', `127.0.0.1:${p}`]);
    assert.equal(same.status, 1);
    assert.match(same.stdout, new RegExp(`FAIL --metrics-addr 127\\.0\\.0\\.1:${p} uses --port ${p} too`));
  });

  test('a bad flag value exits 2 before any check', () => {
    const r = run(['--metrics=maybe']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad value 'maybe' for --metrics/);
  });
});

describe('--log-format json', () => {
  test('every line is one JSON object with time, level, event, msg; socket lines carry sid, address, transport, reason', async () => {
    const srv = await startNoom([...FAST, '--log-format', 'json']);
    const s = io(srv.url, { forceNew: true, transports: ['websocket'], reconnection: false });
    await next(s, 'connect');
    const id = s.id;
    await srv.waitLog(/"event":"connect"/);
    s.close();
    await srv.waitLog(/"event":"disconnect"/);
    await srv.stop();
    const lines = srv.stderr().trim().split('\n');
    assert.ok(lines.length >= 4);
    const objs = lines.map((l) => JSON.parse(l));
    for (const o of objs) {
      assert.match(o.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['error', 'warn', 'info', 'debug'].includes(o.level), o.level);
      assert.equal(typeof o.event, 'string');
      assert.equal(typeof o.msg, 'string');
    }
    const conn = objs.find((o) => o.event === 'connect');
    assert.equal(conn.sid, id);
    assert.equal(conn.address, '127.0.0.1');
    assert.equal(conn.transport, 'websocket');
    const disc = objs.find((o) => o.event === 'disconnect');
    assert.equal(disc.sid, id);
    assert.equal(disc.reason, 'client namespace disconnect');
    assert.ok(objs.some((o) => o.event === 'history'), 'library lines get their subsystem as the event');
    assert.ok(objs.some((o) => o.event === 'drain'));
  });

  test('an unknown format is refused', () => {
    const r = spawnSync(join(BUILD, 'noom'), ['--log-format', 'yaml'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --log-format 'yaml' \(text or json\)/);
  });
});
