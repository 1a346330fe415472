// Our browser client (web/socket.io/socket.io.js) inside real headless Chromium, driven by Playwright,
// against two servers with the same cases:
//   1. the official Node socket.io 4.8 server, started here in-process, implementing the echo
//      contract (docs/test-server.md "Contract 1") and serving the test page and our client at
//      /socket.io/socket.io.js, the way the Node server serves its own (same origin);
//   2. our C server, ${NOOM_BUILD:-<repo>/build}/examples/echo --port 0; it serves no pages yet,
//      so the page comes from a tiny static server here and connects cross-origin (CORS *).
// Plus server-independent cases: a fake Engine.IO server that sends malformed packets (the
// client closes with "parse error" and throws nothing into the page), and a wire comparison
// with the official socket.io-client in Node (same packets for the same emits).
//
// How a server "drops" a session (reconnection case): Node: socket.conn.close() on the server;
// C: the client writes a malformed Socket.IO packet ("2["), which Contract 1 says closes the
// Engine.IO session. Restart case: the server process (C) or http server (Node) is stopped and
// started again on the same port. Ping timeout: the server process is frozen with SIGSTOP, so
// its pings stop, then SIGCONT (Node: this file run as a server child, see serveChild()).
//
// Needs Chromium at /usr/bin/chromium (or $CHROMIUM): `apt-get install chromium`. Without it
// the suite is skipped with a message; without the C build the C half is.
// Run: node --test tests/integration/browser_client.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { Server } from 'socket.io';
import { io as officialClient } from 'socket.io-client';
import { WebSocketServer } from 'ws';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = process.env.NOOM_BUILD || path.join(REPO, 'build');
const ECHO_BIN = path.join(BUILD, 'examples/echo');
const TEST_SERVER_BIN = path.join(BUILD, 'tests/sio_test_server');
const THIS_FILE = fileURLToPath(import.meta.url);
const SERVE_FLAG = '--serve-node-echo';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CLIENT_FILE = path.join(REPO, 'web/socket.io/socket.io.js');
const PAGE_FILE = path.join(REPO, 'tests/support/client-page.html');
const WAIT = 5000; // every wait is bounded by this; it only runs out when a test fails
const TEST_OPTS = { timeout: 30000 };

const skipAll = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install chromium)`;

// ---------------------------------------------------------------- servers

// The page and our client, as the Node server and the static server serve them.
function serveFiles(req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  let file;
  let type;
  if (pathname === '/') [file, type] = [PAGE_FILE, 'text/html; charset=utf-8'];
  else if (pathname === '/socket.io/socket.io.js') [file, type] = [CLIENT_FILE, 'application/javascript; charset=utf-8'];
  else return false;
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(readFileSync(file));
  return true;
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

function closeHttp(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function startStatic() {
  const server = http.createServer((req, res) => {
    if (!serveFiles(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  const port = await listen(server);
  return { origin: `http://127.0.0.1:${port}`, close: () => closeHttp(server) };
}

const withoutAck = (args) => (typeof args[args.length - 1] === 'function' ? [args.slice(0, -1), args[args.length - 1]] : [args, null]);

// Contract 1 on the official server, plus `disconnect-me` (not in Contract 1) for the
// "io server disconnect" reason.
function echoHandlers(io) {
  const greet = (socket) => socket.emit('auth', socket.handshake.auth);
  io.of('/').on('connection', (socket) => {
    greet(socket);
    socket.on('message', (...raw) => socket.emit('message-back', ...withoutAck(raw)[0]));
    socket.on('message-with-ack', (...raw) => {
      const [args, ack] = withoutAck(raw);
      if (ack) ack(...args);
    });
    socket.on('join', (room, ack) => {
      socket.join(room);
      if (typeof ack === 'function') ack(true);
    });
    socket.on('bcast', (msg) => {
      if (msg && typeof msg.room === 'string') socket.to(msg.room).emit('bcast', msg);
    });
    socket.on('echo', (x, ack) => {
      if (typeof ack === 'function') ack(x);
    });
    socket.on('disconnect-me', () => socket.disconnect());
  });
  io.of('/custom').on('connection', greet);
}

// Waits for `count` items in a list that grows elsewhere.
function recorder() {
  const lists = new Map();
  const waiters = [];
  const check = () => {
    for (const w of waiters.slice()) {
      const list = lists.get(w.key) || [];
      if (list.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(list.slice());
      }
    }
  };
  return {
    push(key, item) {
      if (!lists.has(key)) lists.set(key, []);
      lists.get(key).push(item);
      check();
    },
    wait(key, count, ms = WAIT) {
      return new Promise((resolve, reject) => {
        const w = { key, count, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${key}: ${(lists.get(key) || []).length} of ${count} within ${ms} ms: ${JSON.stringify(lists.get(key))}`));
        }, ms);
        waiters.push(w);
        check();
      });
    },
  };
}

async function startNodeEcho({ port = 0, pingInterval = 25000, pingTimeout = 20000 } = {}) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { serveClient: false, pingInterval, pingTimeout });
  // Serve our client where socket.io serves its own (and the page), before Engine.IO's handler.
  const handlers = httpServer.listeners('request').slice();
  httpServer.removeAllListeners('request');
  httpServer.on('request', (req, res) => {
    if (!serveFiles(req, res)) for (const h of handlers) h.call(httpServer, req, res);
  });
  echoHandlers(io);
  // Raw Engine.IO messages from sessions opened with ?tag=..., for the wire comparison.
  const packets = recorder();
  io.engine.on('connection', (conn) => {
    const tag = new URL(conn.request.url, 'http://x').searchParams.get('tag');
    if (!tag) return;
    conn.on('packet', (p) => {
      if (p.type === 'message') packets.push(tag, Buffer.isBuffer(p.data) ? `bin:${p.data.toString('hex')}` : p.data);
    });
  });
  const actual = await listen(httpServer, port);
  return {
    io,
    port: actual,
    origin: `http://127.0.0.1:${actual}`,
    packets,
    async close() {
      io.close();
      await closeHttp(httpServer);
    },
  };
}

// Child processes still running when the test process exits.
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// Starts a server that prints "listening on http://127.0.0.1:PORT" once ready.
function spawnServer(file, args) {
  const proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8000);
    if (process.env.NOOM_SERVER_LOG) process.stderr.write(d);
  });
  const exited = new Promise((resolve) => proc.once('exit', () => {
    live.delete(proc);
    resolve();
  }));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail('no "listening on" line within 10 s'), 10000);
    const fail = (why) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')}: ${why}\n${stderr}`));
    };
    proc.once('error', (err) => fail(err.message));
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      if (out === null) return;
      out += d;
      const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      if (!m) {
        if (out.includes('\n')) fail(`unexpected output ${JSON.stringify(out)}`);
        return;
      }
      out = null;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        port,
        origin: `http://127.0.0.1:${port}`,
        proc,
        stderr: () => stderr,
        signal: (sig) => proc.kill(sig),
        async stop(sig = 'SIGTERM') {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGCONT');
            proc.kill(sig);
            const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
            await exited;
            clearTimeout(t);
          }
        },
      });
    });
  });
}

// ---------------------------------------------------------------- browser

let browser;
let context;
// New pages cost a renderer process each (up to seconds on a loaded machine), so pages are
// reused: navigating to the test page gives a fresh client (its Manager cache included).
const idle = [];
const busy = [];

async function openPage(url) {
  const page = idle.pop() || await context.newPage();
  busy.push(page);
  await page.goto(url);
  await page.waitForFunction(() => typeof window.H === 'object' && typeof window.io === 'function', null, { timeout: WAIT });
  return page;
}

// After each test: no uncaught error in its pages; their sockets are closed (no reconnection).
async function closePages() {
  const errors = [];
  for (const page of busy.splice(0)) {
    page.removeAllListeners('request');
    errors.push(...await page.evaluate(() => {
      H.closeAll();
      return H.errors.slice();
    }).catch((err) => [`page unusable: ${err.message}`]));
    idle.push(page);
  }
  assert.deepEqual(errors, [], 'no uncaught errors in the page');
}

// ---------------------------------------------------------------- payloads

const hexOf = (s) => Buffer.from(s, 'utf8').toString('hex');

// Every JSON shape the codecs must carry unchanged, with binary at several depths: 10
// attachments (socket.io-parser's limit), typed-array views, a Date.
function mixedSpec() {
  return [
    'plain', 42, 0.1, 1e21, 2 ** 53 - 1, -(2 ** 53 - 1), 1.5e-7, -3.25, true, false, null, '',
    'ünïcödé ✓ 🎉 "quoted" \\ back\nslash \t\u2028\u0000 end',
    {}, [], { a: {}, b: [[]], c: [{}, []] },
    { $ab: '000102fdfeff' },
    { $view: ['00112233445566778899', 3, 4] },
    { nested: { buf: { $u8: hexOf('héllo') }, list: [{ $ab: '' }, 1, { $u8: '07' }], s: 'x' } },
    [{ $u8: '61' }, [{ $u8: '62' }, { c: { $ab: '63' }, d: [null, { e: { $ab: '00' } }] }]],
    { $f32: [1.5, -2] },
    { _placeholder: false, num: 0 },
    { when: { $date: 0 } },
  ];
}

// What the page reports back for a spec: every binary as an ArrayBuffer of its bytes.
function expectedOf(x) {
  if (Array.isArray(x)) return x.map(expectedOf);
  if (!x || typeof x !== 'object') return x;
  if ('$ab' in x) return x;
  if ('$u8' in x) return { $ab: x.$u8 };
  if ('$view' in x) {
    const [h, off, len] = x.$view;
    return { $ab: h.slice(off * 2, (off + len) * 2) };
  }
  if ('$f32' in x) return { $ab: Buffer.from(new Float32Array(x.$f32).buffer).toString('hex') };
  if ('$date' in x) return new Date(x.$date).toISOString();
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, expectedOf(v)]));
}

// ---------------------------------------------------------------- the two servers

// Each kind: start() -> fixture { pageUrl, close(), drop(page, name), restartable(),
// pausable(), serverDisconnect() }.
const KINDS = [
  {
    name: 'official Node socket.io 4.8 server',
    skip: false,
    async start() {
      const echo = await startNodeEcho();
      const statik = await startStatic();
      return {
        node: echo,
        pageUrl: `${echo.origin}/`,
        async close() {
          await Promise.all([echo.close(), statik.close()]);
        },
        async drop(page, name) {
          const id = await page.evaluate((n) => H.sock(n).id, name);
          echo.io.of('/').sockets.get(id).conn.close();
        },
        async restartable() {
          let srv = await startNodeEcho();
          const port = srv.port;
          return {
            pageUrl: `${srv.origin}/`,
            down: () => srv.close(),
            up: async () => { srv = await startNodeEcho({ port }); },
            close: () => srv.close(),
          };
        },
        async pausable(flags) {
          const child = await spawnServer(process.execPath, [THIS_FILE, SERVE_FLAG, ...flags]);
          return { pageUrl: `${child.origin}/`, child };
        },
        async serverDisconnect() {
          return { pageUrl: `${echo.origin}/`, event: 'disconnect-me', close: async () => {} };
        },
      };
    },
  },
  {
    name: 'noom C echo server',
    skip: existsSync(ECHO_BIN) ? false : `${ECHO_BIN} is not built (set NOOM_BUILD)`,
    async start() {
      const echo = await spawnServer(ECHO_BIN, ['--port', '0']);
      const statik = await startStatic();
      const pageFor = (origin) => `${statik.origin}/?server=${origin}`;
      return {
        pageUrl: pageFor(echo.origin),
        async close() {
          await Promise.all([echo.stop(), statik.close()]);
        },
        async drop(page, name) {
          // Contract 1: a Socket.IO packet that does not decode closes the Engine.IO session.
          await page.evaluate((n) => H.sock(n).io.engine.write('2['), name);
        },
        async restartable() {
          let srv = await spawnServer(ECHO_BIN, ['--port', '0']);
          const port = String(srv.port);
          return {
            pageUrl: pageFor(srv.origin),
            down: () => srv.stop('SIGKILL'),
            up: async () => { srv = await spawnServer(ECHO_BIN, ['--port', port]); },
            close: () => srv.stop(),
          };
        },
        async pausable(flags) {
          const child = await spawnServer(ECHO_BIN, ['--port', '0', ...flags]);
          return { pageUrl: pageFor(child.origin), child };
        },
        async serverDisconnect() {
          if (!existsSync(TEST_SERVER_BIN)) return null;
          const srv = await spawnServer(TEST_SERVER_BIN, ['--port', '0']);
          return { pageUrl: pageFor(srv.origin), event: 'disconnect-me', arg: {}, close: () => srv.stop() };
        },
      };
    },
  },
];

const TRANSPORTS = [
  { name: 'polling', transports: ['polling'] },
  { name: 'websocket', transports: ['websocket'] },
  { name: 'default (polling -> websocket)', transports: undefined },
];

// ---------------------------------------------------------------- suite

// This file doubles as the Node echo server child for the heartbeat case (a process can be
// frozen with SIGSTOP): node browser_client.test.mjs --serve-node-echo [--ping-interval MS]
// [--ping-timeout MS] prints "listening on http://127.0.0.1:PORT" and serves the page too.
if (process.argv.includes(SERVE_FLAG)) await serveChild();
else suite();

async function serveChild() {
  const argv = process.argv;
  const flag = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
  const srv = await startNodeEcho({ pingInterval: flag('--ping-interval', 25000), pingTimeout: flag('--ping-timeout', 20000) });
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`listening on ${srv.origin}\n`);
}

function suite() {
  describe('browser client (web/socket.io/socket.io.js) in headless Chromium', { skip: skipAll }, () => {
    before(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
      context = await browser.newContext();
    });
    after(async () => {
      await browser?.close(); // the default launch also removes its temporary profile
    });
    afterEach(closePages);

    for (const kind of KINDS) {
      describe(kind.name, { skip: kind.skip }, () => {
        let fx;
        before(async () => { fx = await kind.start(); });
        after(async () => { await fx?.close(); });

        it('connect: default transports open on polling, upgrade to websocket; auth is echoed', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const r = await page.evaluate(async () => {
            const auth = { token: 'abc', n: 1, nested: { list: [1, 'two', null], empty: {} } };
            const s = H.open('a', '/', { auth });
            let first = null;
            s.io.on('open', () => { first = s.io.engine.transport.name; });
            const [echoed] = await H.take('a', 'auth');
            const engine = s.io.engine;
            if (engine.transport.name !== 'websocket') {
              await new Promise((resolve, reject) => {
                engine.once('upgrade', resolve);
                engine.once('upgradeError', reject);
                setTimeout(() => reject(new Error('no upgrade within 5 s')), 5000);
              });
            }
            const after = await s.timeout(5000).emitWithAck('message-with-ack', 'after upgrade');
            return { first, echoed, auth, id: s.id, connected: s.connected, disconnected: s.disconnected, now: engine.transport.name, after };
          });
          assert.equal(r.first, 'polling');
          assert.equal(r.now, 'websocket');
          assert.deepEqual(r.echoed, r.auth);
          assert.ok(typeof r.id === 'string' && r.id.length > 0);
          assert.equal(r.connected, true);
          assert.equal(r.disconnected, false);
          assert.equal(r.after, 'after upgrade');
        });

        it('upgrade under traffic: acks and events sent across the polling -> websocket switch stay complete and in order', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const r = await page.evaluate(async () => {
            const s = H.open('a', '/');
            const acks = [];
            const all = [];
            let i = 0;
            // Emit from the first moment (buffered before connect) until well after the upgrade.
            const pump = () => {
              const n = i++;
              all.push(new Promise((resolve) => s.timeout(5000).emit('message-with-ack', n, H.unwire({ $u8: '0a0b' }), (err, v, b) => {
                if (!err) acks.push(v);
                resolve(!err && b instanceof ArrayBuffer && b.byteLength === 2);
              })));
              s.emit('message', n);
            };
            pump();
            await H.take('a', 'connect');
            // One emit per task until 20 went out after the upgrade (at most 3000 in all).
            let after = 0;
            await new Promise((resolve) => {
              const tick = () => {
                pump();
                if ((s.io.engine.transport.name === 'websocket' && ++after > 20) || i >= 3000) resolve();
                else setTimeout(tick, 0);
              };
              tick();
            });
            const transport = s.io.engine.transport.name;
            const bins = await Promise.all(all);
            const backs = [];
            for (let k = 0; k < i; k++) backs.push((await H.take('a', 'message-back'))[0]);
            return { n: i, transport, acks, backs, bins: bins.every(Boolean) };
          });
          const want = Array.from({ length: r.n }, (_, k) => k);
          assert.equal(r.transport, 'websocket');
          assert.ok(r.n > 21, `${r.n} emits`);
          assert.deepEqual(r.acks, want);
          assert.deepEqual(r.backs, want);
          assert.equal(r.bins, true);
        });

        it('connect: websocket only makes no polling request; no auth -> {}', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const polls = [];
          page.on('request', (req) => { if (req.url().includes('transport=polling')) polls.push(req.url()); });
          const r = await page.evaluate(async () => {
            const s = H.open('a', '/', { transports: ['websocket'] });
            const [auth] = await H.take('a', 'auth');
            return { auth, transport: s.io.engine.transport.name };
          });
          assert.deepEqual(r, { auth: {}, transport: 'websocket' });
          assert.deepEqual(polls, []);
        });

        it('connect: auth as a function answering asynchronously', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const auth = await page.evaluate(async () => {
            H.open('a', '/', { authValue: { from: 'function', list: [1, 2] } });
            return (await H.take('a', 'auth'))[0];
          });
          assert.deepEqual(auth, { from: 'function', list: [1, 2] });
        });

        for (const { name, transports } of TRANSPORTS) {
          it(`round trip over ${name}: mixed JSON and nested binary, event and ack`, TEST_OPTS, async () => {
            const page = await openPage(fx.pageUrl);
            const spec = mixedSpec();
            const r = await page.evaluate(async ([spec, transports]) => {
              const s = H.open('a', '/', { transports });
              await H.take('a', 'connect');
              s.emit('message', ...H.unwire(spec));
              const back = await H.take('a', 'message-back');
              const acked = await new Promise((resolve) => s.emit('message-with-ack', ...H.unwire(spec), (...a) => resolve(H.wire(a))));
              const empty = await new Promise((resolve) => s.emit('message-with-ack', (...a) => resolve(a.length)));
              return { back, acked, empty };
            }, [spec, transports]);
            const want = expectedOf(spec);
            assert.deepEqual(r.back, want);
            assert.deepEqual(r.acked, want);
            assert.equal(r.empty, 0);
          });
        }

        it('polling: a burst larger than maxPayload goes out in POSTs that fit', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const posts = [];
          page.on('request', (req) => {
            if (req.method() === 'POST' && req.url().includes('transport=polling')) posts.push(req.postDataBuffer()?.length ?? 0);
          });
          const r = await page.evaluate(async () => {
            const s = H.open('a', '/', { transports: ['polling'] });
            await H.take('a', 'connect');
            const blob = (n, seed) => {
              const b = new Uint8Array(n);
              for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
              return b;
            };
            const same = (a, b) => a.byteLength === b.byteLength && new Uint8Array(a).every((v, i) => v === b[i]);
            const sent = [1, 2, 3, 4].map((k) => blob(300000, k));
            const text = 'é'.repeat(50000); // 100 KB of UTF-8
            const acks = await Promise.all(sent.map((b, k) => s.timeout(5000).emitWithAck('echo', { k, b, text })));
            return acks.map((a, k) => a.k === k && a.text === text && same(a.b, sent[k]));
          });
          assert.deepEqual(r, [true, true, true, true]);
          assert.ok(posts.length >= 2, `several POSTs (${posts})`);
          assert.ok(posts.every((n) => n <= 1e6), `every POST within maxPayload (${posts})`);
        });

        it('emitWithAck and timeout(ms): ack values, timeout errors', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const r = await page.evaluate(async () => {
            const s = H.open('a', '/');
            await H.take('a', 'connect');
            const echoed = H.wire(await s.emitWithAck('echo', { a: [1, H.unwire({ $u8: '0102' })] }));
            const inTime = await new Promise((resolve) => s.timeout(3000).emit('message-with-ack', 1, 'x', (...a) => resolve(H.wire(a))));
            const t0 = Date.now();
            const late = await new Promise((resolve) => s.timeout(200).emit('message', 'never acked', (...a) => resolve(H.wire(a))));
            const waited = Date.now() - t0;
            const rejected = await s.timeout(200).emitWithAck('message', 'never acked either').then(() => 'resolved', (e) => e.message);
            const back = [(await H.take('a', 'message-back'))[0], (await H.take('a', 'message-back'))[0]];
            return { echoed, inTime, late, waited, rejected, back, connected: s.connected };
          });
          assert.deepEqual(r.echoed, { a: [1, { $ab: '0102' }] });
          assert.deepEqual(r.inTime, [null, 1, 'x']);
          assert.deepEqual(r.late, [{ message: 'operation has timed out' }]);
          assert.ok(r.waited >= 190, `timed out after ${r.waited} ms`);
          assert.equal(r.rejected, 'operation has timed out');
          assert.deepEqual(r.back, ['never acked', 'never acked either']);
          assert.equal(r.connected, true);
        });

        it('multiplexing: "/" and "/custom" share one Manager and one Engine.IO session', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const handshakes = [];
          page.on('request', (req) => {
            const u = new URL(req.url());
            if (u.searchParams.get('EIO') && !u.searchParams.has('sid')) handshakes.push(u.searchParams.get('transport'));
          });
          const r = await page.evaluate(async () => {
            const a = H.open('a', '/', { auth: { ns: 'main' } });
            const b = H.open('b', '/custom', { auth: { ns: 'custom' } });
            const [authA] = await H.take('a', 'auth');
            const [authB] = await H.take('b', 'auth');
            const shared = a.io === b.io;
            const engineId = a.io.engine.id;
            const ids = [a.id, b.id];
            // A second socket on an open namespace gets its own Manager, like socket.io-client.
            const c = H.open('c', '/');
            await H.take('c', 'connect');
            const cSeparate = c.io !== a.io && c.io.engine.id !== engineId;
            // Leaving one namespace keeps the session for the other.
            b.disconnect();
            const [reasonB] = await H.take('b', 'disconnect');
            const stillUp = await a.timeout(3000).emitWithAck('echo', 'still up');
            return { authA, authB, shared, ids, cSeparate, reasonB, stillUp, engineOpen: a.io.engine.readyState, sameEngine: a.io.engine.id === engineId };
          });
          assert.deepEqual(r.authA, { ns: 'main' });
          assert.deepEqual(r.authB, { ns: 'custom' });
          assert.equal(r.shared, true);
          assert.notEqual(r.ids[0], r.ids[1]);
          assert.equal(r.cSeparate, true);
          assert.equal(r.reasonB, 'io client disconnect');
          assert.equal(r.stillUp, 'still up');
          assert.equal(r.engineOpen, 'open');
          assert.equal(r.sameEngine, true);
          assert.deepEqual(handshakes, ['polling', 'polling'], 'one handshake for a+b, one for c');
        });

        it('bcast between two pages: the room gets it, the sender does not', TEST_OPTS, async () => {
          const [p1, p2] = await Promise.all([openPage(fx.pageUrl), openPage(fx.pageUrl)]);
          const join = (page) => page.evaluate(async () => {
            const s = H.open('a', '/');
            await H.take('a', 'connect');
            return s.timeout(3000).emitWithAck('join', 'room-1');
          });
          assert.deepEqual(await Promise.all([join(p1), join(p2)]), [true, true]);
          const msg = { room: 'room-1', text: 'hi', bin: { $u8: '00ff' }, deep: [{ x: { $ab: '01' } }] };
          await p1.evaluate((m) => H.sock('a').emit('bcast', H.unwire(m)), msg);
          const got = await p2.evaluate(async () => (await H.take('a', 'bcast'))[0]);
          assert.deepEqual(got, expectedOf(msg));
          // Per-connection order: a bcast to the sender would arrive before this ack.
          const own = await p1.evaluate(async () => {
            await H.sock('a').timeout(3000).emitWithAck('echo', 'fence');
            return H.count('a', 'bcast');
          });
          assert.equal(own, 0);
        });

        it('invalid namespace: connect_error "Invalid namespace"; alone it closes the connection, next to a valid one it does not', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const r = await page.evaluate(async () => {
            const x = H.open('x', '/nope', { forceNew: true });
            const [errAlone] = await H.take('x', 'connect_error');
            const alone = { active: x.active, manager: x.io._readyState, engine: x.io.engine.readyState };
            const a = H.open('a', '/');
            await H.take('a', 'connect');
            const b = H.open('b', '/nope-too');
            const [errNext] = await H.take('b', 'connect_error');
            const works = await a.timeout(3000).emitWithAck('echo', 'ok');
            return { errAlone, alone, errNext, shared: a.io === b.io, aConnected: a.connected, engine: a.io.engine.readyState, works, bConnected: b.connected };
          });
          assert.equal(r.errAlone.message, 'Invalid namespace');
          assert.deepEqual(r.alone, { active: false, manager: 'closed', engine: 'closed' });
          assert.equal(r.errNext.message, 'Invalid namespace');
          assert.equal(r.shared, true);
          assert.equal(r.aConnected, true);
          assert.equal(r.bConnected, false);
          assert.equal(r.engine, 'open');
          assert.equal(r.works, 'ok');
        });

        it('buffering: emits made before connect go out in order once connected', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const r = await page.evaluate(async () => {
            const s = H.open('a', '/', { autoConnect: false });
            const order = [];
            s.emit('message-with-ack', 1, (v) => order.push(v));
            s.emit('message', 'early');
            s.emit('message-with-ack', 2, (v) => order.push(v));
            const p = s.emitWithAck('echo', 3).then((v) => order.push(v));
            const wasConnected = s.connected;
            const engineBefore = s.io.engine;
            s.connect();
            await H.take('a', 'connect');
            const [back] = await H.take('a', 'message-back');
            await p;
            return { wasConnected, engineBefore, order, back };
          });
          assert.equal(r.wasConnected, false);
          assert.equal(r.engineBefore, null, 'autoConnect: false opens nothing');
          assert.deepEqual(r.order, [1, 2, 3]);
          assert.equal(r.back, 'early');
        });

        it('disconnect(): reason "io client disconnect", pending acks fail, no reconnection; connect() again', TEST_OPTS, async () => {
          const page = await openPage(fx.pageUrl);
          const r = await page.evaluate(async () => {
            const s = H.open('a', '/', { reconnectionDelay: 20, reconnectionDelayMax: 50 });
            await H.take('a', 'auth');
            const id1 = s.id;
            const pending = new Promise((resolve) => s.timeout(5000).emit('message', 'no ack', (err) => resolve(err && err.message)));
            s.disconnect();
            const [reason] = await H.take('a', 'disconnect');
            const state = { connected: s.connected, id: s.id === undefined, active: s.active, manager: s.io._readyState, reconnecting: s.io._reconnecting };
            const pendingErr = await pending;
            s.connect();
            await H.take('a', 'auth');
            return { id1, reason, state, pendingErr, id2: s.id, attempts: H.count('a', 'io:reconnect_attempt') };
          });
          assert.equal(r.reason, 'io client disconnect');
          assert.deepEqual(r.state, { connected: false, id: true, active: false, manager: 'closed', reconnecting: false });
          assert.equal(r.pendingErr, 'socket has been disconnected');
          assert.ok(r.id2 && r.id2 !== r.id1, 'a new id');
          assert.equal(r.attempts, 0);
        });

        for (const transports of [['websocket'], ['polling']]) {
          it(`reconnection after the server drops the session (${transports}): "transport close", new id, buffered emit delivered`, TEST_OPTS, async () => {
            const page = await openPage(fx.pageUrl);
            const id1 = await page.evaluate(async (transports) => {
              const s = H.open('a', '/', { transports, reconnectionDelay: 50, reconnectionDelayMax: 200 });
              await H.take('a', 'auth');
              // Emitted from the disconnect listener: certainly while disconnected.
              s.once('disconnect', () => {
                window.buffered = new Promise((resolve) => s.emit('message-with-ack', 'while down', resolve));
              });
              return s.id;
            }, transports);
            await fx.drop(page, 'a');
            const r = await page.evaluate(async () => {
              const [reason] = await H.take('a', 'disconnect');
              await H.take('a', 'connect');
              const [auth] = await H.take('a', 'auth');
              const buffered = await window.buffered;
              const s = H.sock('a');
              return { reason, auth, buffered, id2: s.id, connected: s.connected, reconnects: H.count('a', 'io:reconnect') };
            });
            assert.equal(r.reason, 'transport close');
            assert.deepEqual(r.auth, {});
            assert.equal(r.buffered, 'while down');
            assert.ok(r.id2 && r.id2 !== id1, 'a new id');
            assert.equal(r.connected, true);
            assert.equal(r.reconnects, 1);
          });
        }

        it('reconnection after the server restarts on the same port (backoff, reconnect_error, then connect)', TEST_OPTS, async () => {
          const srv = await fx.restartable();
          try {
            const page = await openPage(srv.pageUrl);
            const id1 = await page.evaluate(async () => {
              const s = H.open('a', '/', { reconnectionDelay: 50, reconnectionDelayMax: 200 });
              await H.take('a', 'auth');
              return s.id;
            });
            await srv.down();
            const down = await page.evaluate(async () => {
              const [reason] = await H.take('a', 'disconnect');
              const [attempt] = await H.take('a', 'io:reconnect_attempt');
              const [err] = await H.take('a', 'io:reconnect_error');
              const [cerr] = await H.take('a', 'connect_error');
              return { reason, attempt, err, cerr };
            });
            assert.ok(['transport close', 'transport error'].includes(down.reason), down.reason);
            assert.equal(down.attempt, 1);
            assert.ok(['xhr poll error', 'websocket error'].includes(down.err.message), down.err.message);
            assert.equal(down.cerr.message, down.err.message);
            await srv.up();
            const r = await page.evaluate(async () => {
              await H.take('a', 'connect', 10000);
              const [auth] = await H.take('a', 'auth');
              const s = H.sock('a');
              return { auth, id2: s.id, echo: await s.timeout(3000).emitWithAck('echo', 'back') };
            });
            assert.deepEqual(r.auth, {});
            assert.ok(r.id2 && r.id2 !== id1);
            assert.equal(r.echo, 'back');
          } finally {
            await closePages();
            await srv.close();
          }
        });

        for (const transports of [['websocket'], ['polling']]) {
          it(`heartbeat (${transports}): pings are answered; a silent server means "ping timeout", then reconnection`, TEST_OPTS, async () => {
            const { pageUrl, child } = await fx.pausable(['--ping-interval', '300', '--ping-timeout', '200']);
            try {
              const page = await openPage(pageUrl);
              const r1 = await page.evaluate(async (transports) => {
                const s = H.open('a', '/', { transports, reconnectionDelay: 50, reconnectionDelayMax: 200 });
                await H.take('a', 'connect');
                const id = s.id;
                for (let i = 0; i < 3; i++) await H.take('a', 'io:ping');
                return { id, same: s.id === id, connected: s.connected, disconnects: H.count('a', 'disconnect') };
              }, transports);
              assert.deepEqual([r1.same, r1.connected, r1.disconnects], [true, true, 0]);
              child.signal('SIGSTOP');
              let reason;
              try {
                reason = await page.evaluate(async () => (await H.take('a', 'disconnect'))[0]);
              } finally {
                child.signal('SIGCONT');
              }
              assert.equal(reason, 'ping timeout');
              const id2 = await page.evaluate(async () => {
                await H.take('a', 'connect', 10000);
                return H.sock('a').id;
              });
              assert.ok(id2 && id2 !== r1.id);
            } finally {
              await closePages();
              await child.stop();
            }
          });
        }

        it('server-side disconnect: reason "io server disconnect", no reconnection', TEST_OPTS, async (t) => {
          const srv = await fx.serverDisconnect();
          if (!srv) return t.skip(`needs ${TEST_SERVER_BIN} (Contract 2 disconnect-me)`);
          try {
            const page = await openPage(srv.pageUrl);
            const r = await page.evaluate(async ([event, arg]) => {
              const s = H.open('a', '/', { transports: ['websocket'], reconnectionDelay: 20 });
              await H.take('a', 'connect');
              if (arg === undefined) s.emit(event);
              else s.emit(event, arg);
              const [reason] = await H.take('a', 'disconnect');
              return { reason, active: s.active, reconnecting: s.io._reconnecting, manager: s.io._readyState };
            }, [srv.event, srv.arg]);
            assert.deepEqual(r, { reason: 'io server disconnect', active: false, reconnecting: false, manager: 'closed' });
          } finally {
            await closePages();
            await srv.close();
          }
        });
      });
    }

    // ------------------------------------------------------------ fake server: bad input

    describe('robustness against a misbehaving server (fake Engine.IO server)', () => {
      const OPEN = `0${JSON.stringify({ sid: 'fake', upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6 })}`;
      const deep = (n) => `${'['.repeat(n)}{"_placeholder":true,"num":0}${']'.repeat(n)}`;
      // Sent right after the CONNECT answer; each must close the connection with "parse error".
      const BAD = {
        'broken JSON': ['42['],
        'unknown Socket.IO packet type': ['49'],
        'EVENT payload not an array': ['42"notarray"'],
        'EVENT without payload': ['42'],
        'reserved event name': ['42["connect"]'],
        'DISCONNECT with a payload': ['41["x"]'],
        'empty message': ['4'],
        'attachment index out of range': ['451-["x",{"_placeholder":true,"num":1}]', Buffer.from([1])],
        'text where an attachment is due': ['451-["x",{"_placeholder":true,"num":0}]', '42["y"]'],
        'binary without a binary packet': [Buffer.from([1, 2, 3])],
        'too many attachments': ['4511-["x"]'],
        'zero attachments': ['450-["x"]'],
        'unknown Engine.IO packet type': ['x'],
        'bad base64': ['b%%%'],
        'deeply nested binary packet': [`451-["x",${deep(100000)}]`, Buffer.from([1])],
      };
      const SPECIAL = {
        'bad handshake': { handshake: '0{"sid":1}' },
        'CONNECT_ERROR with data': { reply: '44{"message":"nope","data":{"code":7}}' },
        'server DISCONNECT': { frames: ['41'] },
        'server close packet': { frames: ['1'] },
      };
      let fake;
      let statik;
      const closed = recorder();

      before(async () => {
        const server = http.createServer((req, res) => {
          res.writeHead(404);
          res.end();
        });
        const wss = new WebSocketServer({ noServer: true });
        server.on('upgrade', (req, sock, head) => wss.handleUpgrade(req, sock, head, (ws) => {
          const key = new URL(req.url, 'http://x').searchParams.get('case');
          const c = SPECIAL[key] || { frames: BAD[key] };
          ws.on('close', () => closed.push(key, true));
          ws.send(c.handshake || OPEN);
          ws.on('message', (data, binary) => {
            if (binary || !String(data).startsWith('40')) return;
            ws.send(c.reply || '40{"sid":"fake-socket"}');
            for (const f of c.frames || []) ws.send(f);
          });
        }));
        const port = await listen(server);
        fake = { origin: `http://127.0.0.1:${port}`, close: () => { wss.close(); return closeHttp(server); } };
        statik = await startStatic();
      });
      after(async () => {
        await Promise.all([fake?.close(), statik?.close()]);
      });

      const run = (page, key) => page.evaluate(async (key) => {
        const s = H.open(key, '/', { transports: ['websocket'], reconnection: false, query: { case: key } });
        const error = await new Promise((resolve, reject) => {
          s.once('connect', () => resolve(null));
          s.once('connect_error', (err) => resolve(H.wire(err)));
          setTimeout(() => reject(new Error(`${key}: neither connect nor connect_error`)), 5000);
        });
        const out = { connected: H.count(key, 'connect') };
        if (out.connected) out.reason = (await H.take(key, 'disconnect'))[0];
        else out.error = error;
        out.x = H.count(key, 'x');
        out.stillConnected = s.connected;
        return out;
      }, key);

      it('each malformed packet closes the connection with "parse error", nothing thrown into the page', TEST_OPTS, async () => {
        const page = await openPage(`${statik.origin}/?server=${fake.origin}`);
        for (const key of Object.keys(BAD)) {
          const r = await run(page, key);
          assert.deepEqual({ key, connected: r.connected, reason: r.reason, x: r.x, still: r.stillConnected },
            { key, connected: 1, reason: 'parse error', x: 0, still: false });
          await closed.wait(key, 1); // the client closed the WebSocket
        }
        assert.deepEqual(await page.evaluate(() => H.errors), []);
      });

      it('bad handshake -> connect_error; CONNECT_ERROR carries message and data; DISCONNECT and close packets', TEST_OPTS, async () => {
        const page = await openPage(`${statik.origin}/?server=${fake.origin}`);
        const hs = await run(page, 'bad handshake');
        assert.equal(hs.connected, 0);
        assert.equal(hs.error.message, 'parse error');
        const ce = await run(page, 'CONNECT_ERROR with data');
        assert.deepEqual(ce.error, { message: 'nope', data: { code: 7 } });
        assert.equal((await run(page, 'server DISCONNECT')).reason, 'io server disconnect');
        assert.equal((await run(page, 'server close packet')).reason, 'transport close');
      });

      it('unreachable server: connect_error per attempt, reconnect_failed after reconnectionAttempts', TEST_OPTS, async () => {
        const probe = http.createServer();
        const port = await listen(probe);
        await closeHttp(probe); // a port nobody listens on
        const page = await openPage(`${statik.origin}/?server=http://127.0.0.1:${port}`);
        const r = await page.evaluate(async () => {
          H.open('u', '/', { reconnectionAttempts: 2, reconnectionDelay: 10, reconnectionDelayMax: 20 });
          const errs = [];
          for (let i = 0; i < 3; i++) errs.push((await H.take('u', 'connect_error'))[0].message);
          await H.take('u', 'io:reconnect_failed');
          return { errs, attempts: H.count('u', 'io:reconnect_attempt') };
        });
        assert.deepEqual(r.errs, ['xhr poll error', 'xhr poll error', 'xhr poll error']);
        assert.equal(r.attempts, 2);
      });
    });

    // ------------------------------------------------------------ same packets as socket.io-client

    describe('wire agreement with the official socket.io-client (Node server records raw packets)', () => {
      let srv;
      before(async () => { srv = await startNodeEcho(); });
      after(async () => { await srv?.close(); });

      const EXPECTED = 10;

      it('the same emits produce the same Engine.IO messages', TEST_OPTS, async () => {
        // Official client, in Node.
        const opts = { transports: ['websocket'], forceNew: true };
        const main = officialClient(srv.origin, { ...opts, auth: { token: 't' }, query: { tag: 'official' } });
        try {
          await new Promise((resolve) => main.once('connect', resolve));
          main.emit('plain', 1, 'two', { three: [3, null, true] }, []);
          main.emit('bin', Buffer.from([1, 2, 3]), { n: { buf: Buffer.from([4, 5]) }, list: [Buffer.alloc(0)] });
          await main.timeout(WAIT).emitWithAck('echo', 'ack me');
          const custom = main.io.socket('/custom', { auth: { ns: 1 } }); // connects by itself (autoConnect)
          await new Promise((resolve) => custom.once('connect', resolve));
          custom.emit('x', 'y');
          custom.disconnect();
          await srv.packets.wait('official', EXPECTED);
        } finally {
          main.disconnect();
        }

        // Ours, in the page.
        const page = await openPage(`${srv.origin}/`);
        await page.evaluate(async () => {
          const main = H.open('main', '/', { transports: ['websocket'], auth: { token: 't' }, query: { tag: 'ours' } });
          await H.take('main', 'connect');
          main.emit('plain', 1, 'two', { three: [3, null, true] }, []);
          main.emit('bin', new Uint8Array([1, 2, 3]), { n: { buf: new Uint8Array([4, 5]).buffer }, list: [new ArrayBuffer(0)] });
          await main.timeout(5000).emitWithAck('echo', 'ack me');
          const custom = main.io.socket('/custom', { auth: { ns: 1 } }); // connects by itself (autoConnect)
          await new Promise((resolve) => custom.once('connect', resolve));
          custom.emit('x', 'y');
          custom.disconnect();
        });
        const ours = (await srv.packets.wait('ours', EXPECTED)).slice(0, EXPECTED);
        const official = (await srv.packets.wait('official', EXPECTED)).slice(0, EXPECTED);
        assert.deepEqual(ours, official);
        assert.deepEqual(ours.slice(0, 3), ['0{"token":"t"}', '2["plain",1,"two",{"three":[3,null,true]},[]]',
          '53-["bin",{"_placeholder":true,"num":0},{"n":{"buf":{"_placeholder":true,"num":1}},"list":[{"_placeholder":true,"num":2}]}]']);
      });
    });
  });
}
