// Helpers of the browser end-to-end suites (tests/e2e/*.e2e.test.mjs): start the noom
// server, launch headless Chromium through playwright-core, and wait for DOM conditions.
//
// Server: `${NOOM_BUILD:-<repo>/build}/noom --port 0 --log-level warn --db :memory:`, ready once it prints
//   noom listening on http://127.0.0.1:PORT (...)
// on stdout (https:// with --tls-self-signed, after a line giving the certificate's
// fingerprint). With NOOM_REF=1 an in-process reference instead: the official npm socket.io
// 4.8 server implementing docs/app-events.md, ws 8 at /ws, web/ served from disk. It exists
// to prove the page and the tests right independently of the C server.
//
// Client: the page loads /socket.io/socket.io.js from the server. NOOM_E2E_CLIENT=own
// serves web/socket.io/socket.io.js (our client) at that URL through request interception, and
// NOOM_E2E_CLIENT=official serves the npm socket.io-client 4.8 bundle, so a failure can be
// pinned on the client or on the server.
//
// Network namespace (the call suite): startNetns() makes a loopback-only network namespace
// (`unshare --net`, `lo` up) held open by a small process; the server, Chromium and any
// helper started with {netns} run inside it through `nsenter`, so every ICE candidate is
// a loopback one and nothing can reach another host. Needs root (or CAP_SYS_ADMIN);
// startNetns() resolves to null where that is not available.
//
// Nothing here sleeps to synchronise: waits are Playwright waits (page.waitForFunction,
// locators) with a bounded timeout, and a timeout error says what was expected and what
// the page showed instead.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../..');
export const ARTIFACTS = join(REPO, 'tests/artifacts');
export const IS_REF = Boolean(process.env.NOOM_REF && process.env.NOOM_REF !== '0');
const require = createRequire(join(REPO, 'tests/package.json'));
const { chromium } = require('playwright-core');

// Generous: the suite shares two cores with builds and other suites. A wait ends as soon as
// its condition holds, so this only bounds how long a failure takes to report.
export const WAIT_MS = 10000;
const STARTUP_MS = 10000;
const STOP_MS = 3000;
const LISTEN_RE = /^noom listening on (https?):\/\/127\.0\.0\.1:(\d+)\b/;
const FINGERPRINT_RE = /^noom: self-signed certificate, SHA-256 fingerprint (\S+)/;

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/* ---------------------------------------------------------------- the server */

export function noomBinary() {
  return join(process.env.NOOM_BUILD || join(REPO, 'build'), 'noom');
}

// Starts the server; port 0 picks a free one. netns: a namespace from startNetns() to run
// it in. Resolves to
//   { port, pid, origin, fingerprint, stderr(), exitInfo(), stop() }
// (origin is https://... when the server serves TLS; fingerprint is the self-signed
// certificate's, or null).
export async function startServer({ port = 0, extra = [], netns = null } = {}) {
  if (IS_REF) return startReference(port);
  const bin = noomBinary();
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: build it (cmake --build <dir> --target noom) and set NOOM_BUILD, ` +
      'or run against the reference with NOOM_REF=1');
  }
  const args = ['--port', String(port), '--log-level', 'warn', '--db', ':memory:', ...extra];
  const [cmd, argv] = netns ? netns.wrap(bin, args) : [bin, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
    if (process.env.NOOM_SERVER_LOG) process.stderr.write(chunk);
  });
  let exitInfo = null;
  const exited = new Promise((res) => child.once('exit', (code, signal) => {
    live.delete(child);
    exitInfo = { code, signal };
    res(exitInfo);
  }));
  let fingerprint = null;
  let scheme = 'http';
  const boundPort = await new Promise((res, rej) => {
    let out = '';
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      rej(new Error(`${bin} ${args.join(' ')}: ${why}\n--- server stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no "noom listening on" line within ${STARTUP_MS} ms`), STARTUP_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (out === null) return;
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const fp = FINGERPRINT_RE.exec(line);
        if (fp) {
          fingerprint = fp[1];
          continue;
        }
        const m = LISTEN_RE.exec(line);
        out = null;
        if (!m) return fail(`unexpected stdout line ${JSON.stringify(line)}`);
        clearTimeout(timer);
        scheme = m[1];
        return res(Number(m[2]));
      }
    });
    child.once('error', (err) => fail(`spawn failed: ${err.message}`));
    exited.then(({ code, signal }) => fail(`exited early (code ${code}, signal ${signal})`));
  });
  return {
    port: boundPort,
    pid: child.pid, // the server's own (nsenter execs it in place)
    origin: `${scheme}://127.0.0.1:${boundPort}`,
    fingerprint,
    stderr: () => stderr,
    exitInfo: () => exitInfo,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/* ------------------------------------------- the reference (NOOM_REF=1) */

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

async function serveWeb(req, res) {
  const root = join(REPO, 'web');
  let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === '/') path = '/index.html';
  const candidates = [path, `${path}.html`];
  for (const p of candidates) {
    const full = normalize(join(root, p));
    if (!full.startsWith(root + '/')) break;
    try {
      const body = await readFile(full);
      res.writeHead(200, { 'Content-Type': MIME[extname(full)] || 'application/octet-stream' });
      res.end(body);
      return;
    } catch { /* next candidate */ }
  }
  res.writeHead(302, { Location: '/' });
  res.end('Found');
}

// The lobby of docs/app-events.md on the npm socket.io server: a model to compare the
// C server with, deliberately written from the document, not from app/lobby.c.
function lobby(io) {
  const trimmed = (s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const text = (v, max) => {
    if (typeof v !== 'string') return null;
    const t = trimmed(v);
    const n = Buffer.byteLength(t);
    if (n < 1 || n > max || /[\u0000-\u001f\u007f]/.test(t)) return null;
    return t;
  };
  const ns = io.of('/');
  const publicRooms = () => {
    const out = [];
    for (const [name, members] of ns.adapter.rooms) {
      if (!ns.sockets.has(name)) out.push({ name, count: members.size });
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  };
  const roomChange = () => {
    const rooms = publicRooms();
    io.emit('room_change', rooms.map((r) => r.name), rooms);
  };
  const size = (room) => ns.adapter.rooms.get(room)?.size ?? 0;
  const split = (args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    return [args, (v) => ack && (v === undefined ? ack() : ack(v))];
  };

  io.on('connection', (socket) => {
    socket.data.nick = 'Anon';
    socket.data.tokens = 20;
    socket.data.at = Date.now();
    {
      // Proposed: a new socket gets the current list (see the suite's "opened later" test).
      const rooms = publicRooms();
      socket.emit('room_change', rooms.map((r) => r.name), rooms);
    }
    socket.on('enter_room', (...raw) => {
      const [args, ack] = split(raw);
      let roomArg = args[0];
      let nick = null;
      if (args.length >= 2 && typeof args[1] === 'string') {
        nick = text(args[0], 32);
        if (nick === null) return ack({ error: 'nickname must be 1-32 characters' });
        roomArg = args[1];
      }
      const room = text(roomArg, 64);
      if (room === null) return ack({ error: 'room name must be 1-64 characters' });
      if (ns.sockets.has(room)) return ack({ error: 'room name is taken' });
      if (nick !== null) socket.data.nick = nick;
      socket.join(room);
      const count = size(room);
      ack({ room, count, nickname: socket.data.nick });
      socket.to(room).emit('welcome', socket.data.nick, count);
      roomChange();
    });
    socket.on('leave_room', (...raw) => {
      const [args, ack] = split(raw);
      const room = text(args[0], 64);
      if (room === null || room === socket.id || !socket.rooms.has(room)) return ack({ error: 'not in that room' });
      socket.to(room).emit('bye', socket.data.nick, size(room) - 1);
      socket.leave(room);
      ack();
      roomChange();
    });
    socket.on('new_message', (...raw) => {
      const [args, ack] = split(raw);
      const msg = args[0];
      if (typeof msg !== 'string' || msg.length === 0 || Buffer.byteLength(msg) > 2000) {
        return ack({ error: 'message must be 1-2000 bytes of text' });
      }
      const room = text(args[1], 64);
      if (room === null || room === socket.id || !socket.rooms.has(room)) return ack({ error: 'not in that room' });
      const now = Date.now();
      socket.data.tokens = Math.min(20, socket.data.tokens + ((now - socket.data.at) * 5) / 1000);
      socket.data.at = now;
      if (socket.data.tokens < 1) return ack({ error: 'too many messages, slow down' });
      socket.data.tokens -= 1;
      socket.to(room).emit('new_message', `${socket.data.nick}: ${msg}`);
      ack();
    });
    socket.on('nickname', (...raw) => {
      const [args, ack] = split(raw);
      const nick = text(args[0], 32);
      if (nick === null) return ack({ error: 'nickname must be 1-32 characters' });
      socket.data.nick = nick;
      ack(nick);
    });
    socket.on('disconnecting', () => {
      for (const room of socket.rooms) {
        if (room !== socket.id) socket.to(room).emit('bye', socket.data.nick, size(room) - 1);
      }
    });
    socket.on('disconnect', roomChange);
  });
}

function wsChat(server, WebSocketServer) {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, sock, head) => {
    if (new URL(req.url, 'http://x').pathname !== '/ws') return; // socket.io's own upgrades
    wss.handleUpgrade(req, sock, head, (ws) => {
      let nick = 'Anon';
      ws.on('message', (data, binary) => {
        if (binary) return;
        let m;
        try {
          m = JSON.parse(String(data));
        } catch {
          return;
        }
        if (!m || typeof m.type !== 'string' || typeof m.payload !== 'string') return;
        const n = Buffer.byteLength(m.payload);
        if (m.type === 'nickname' && n > 0 && n <= 32) nick = m.payload;
        if (m.type === 'new_message' && n > 0 && n <= 2000) {
          for (const c of wss.clients) c.send(`${nick}: ${m.payload}`);
        }
      });
    });
  });
  return wss;
}

async function startReference(port) {
  const { Server } = require('socket.io');
  const { WebSocketServer } = require('ws');
  const server = http.createServer((req, res) => {
    serveWeb(req, res).catch(() => res.destroy());
  });
  // With recovery on, as noom by default (--recovery-ms 120000).
  const io = new Server(server, { serveClient: true, connectionStateRecovery: { maxDisconnectionDuration: 120000 } });
  lobby(io);
  const wss = wsChat(server, WebSocketServer);
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', res);
  });
  const bound = server.address().port;
  let stopped = null;
  return {
    port: bound,
    origin: `http://127.0.0.1:${bound}`,
    stderr: () => '',
    exitInfo: () => null,
    stop() {
      if (!stopped) {
        stopped = new Promise((res) => {
          for (const c of wss.clients) c.terminate();
          io.close(() => res());
          server.closeAllConnections();
        });
      }
      return stopped;
    },
  };
}

/* ---------------------------------------------------------------- the browser */

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function chromiumPath() {
  return process.env.CHROMIUM || '/usr/bin/chromium';
}

// args: extra Chromium switches; netns: run Chromium inside that namespace (Playwright
// drives it over a pipe, so the namespace does not get in the way).
export async function launchBrowser({ args = [], netns = null } = {}) {
  let executablePath = chromiumPath();
  if (netns) executablePath = await netns.launcher(executablePath);
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    timeout: 30000,
  });
}

/* ---------------------------------------------------------------- the namespace */

// A loopback-only network namespace, or null when this process may not make one (then
// `why` says why, through the onSkip callback). Resolves to
//   { path, wrap(cmd, args) -> [cmd, args], launcher(exe) -> script path, stop() }.
export async function startNetns({ onSkip = () => {} } = {}) {
  if (process.env.NOOM_E2E_NETNS === '0') {
    onSkip('NOOM_E2E_NETNS=0');
    return null;
  }
  // `unshare` without --fork execs sh in the new namespace, so child.pid is inside it; the
  // shell brings lo up and then waits on its stdin, which closes when we exit.
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && echo up && exec cat'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => { err += c; });
  const ok = await new Promise((res) => {
    const timer = setTimeout(() => res(false), STARTUP_MS);
    child.stdout.once('data', (d) => {
      clearTimeout(timer);
      res(String(d).startsWith('up'));
    });
    child.once('error', (e) => {
      err += e.message;
      clearTimeout(timer);
      res(false);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      res(false);
    });
  });
  if (!ok) {
    child.kill('SIGKILL');
    onSkip(`unshare --net failed: ${err.trim() || 'no answer'}`);
    return null;
  }
  live.add(child);
  const path = `/proc/${child.pid}/ns/net`;
  let dir = null;
  let script = null;
  return {
    path,
    wrap: (cmd, args) => ['nsenter', [`--net=${path}`, '--', cmd, ...args]],
    async launcher(exe) {
      if (!script) {
        dir = await mkdtemp(join(tmpdir(), 'noom-e2e-'));
        script = join(dir, 'chromium-netns.sh');
        const quoted = `'${exe.replace(/'/g, "'\\''")}'`;
        await writeFile(script, `#!/bin/sh\nexec nsenter --net=${path} -- ${quoted} "$@"\n`);
        await chmod(script, 0o755);
      }
      return script;
    },
    stop() {
      live.delete(child);
      child.stdin.end();
      child.kill('SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Our client: web/socket.io/socket.io.js (URL path = file path under web/).
function ownClient() {
  const file = join(REPO, 'web/socket.io/socket.io.js');
  return existsSync(file) ? file : join(REPO, 'web/socket.io.js');
}

function clientOverride() {
  const which = process.env.NOOM_E2E_CLIENT;
  if (!which) return null;
  const file = which === 'official'
    ? join(REPO, 'tests/node_modules/socket.io-client/dist/socket.io.js')
    : which === 'own' ? ownClient() : null;
  if (!file) throw new Error(`NOOM_E2E_CLIENT must be "own" or "official", not ${which}`);
  return readFileSync(file, 'utf8');
}

// A fresh browser context (its own storage: a separate user) with one page. The page
// records uncaught errors (page.errors), console errors (page.consoleErrors) and dialogs
// (page.dialogs: an alert() would mean injected script ran; it is dismissed).
// contextOptions go to browser.newContext (e.g. ignoreHTTPSErrors); initScript (a function
// or a string, or a list of them, run in order) runs in the page before its own scripts,
// on every navigation.
export async function newUser(browser, origin, { viewport = { width: 1280, height: 800 }, contextOptions = {},
  initScript = null } = {}) {
  const context = await browser.newContext({ baseURL: origin, viewport, ...contextOptions });
  for (const script of [initScript].flat()) if (script) await context.addInitScript(script);
  const client = clientOverride();
  if (client !== null) {
    await context.route('**/socket.io/socket.io.js', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: client }));
  }
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.errors = [];
  page.consoleErrors = [];
  page.dialogs = [];
  page.on('pageerror', (err) => page.errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.consoleErrors.push(msg.text());
  });
  page.on('dialog', (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return page;
}

// A UDP port of 127.0.0.1 free at the time of asking (for a server's media or STUN port
// outside the private namespace).
export async function freeUdpPort() {
  const sock = dgram.createSocket('udp4');
  await new Promise((res) => sock.bind(0, '127.0.0.1', res));
  const { port } = sock.address();
  await new Promise((res) => sock.close(res));
  return port;
}

/* ---------------------------------------------------------------- a STUN-aware UDP relay */

// The relay's program (run with `node -e`, so it can be started inside a namespace): it
// forwards datagrams from its front port to 127.0.0.1:TARGET from a second socket (its
// relay port) and the answers back, printing one JSON line per datagram with the STUN
// message type, the transaction id and any XOR-MAPPED-ADDRESS.
const UDP_RELAY_SRC = `
const dgram = require('node:dgram');
const target = Number(process.argv[1]);
const front = dgram.createSocket('udp4');
const back = dgram.createSocket('udp4');
const clients = new Map();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const COOKIE = [0x21, 0x12, 0xa4, 0x42];
function stun(msg) {
  if (msg.length < 20) return { len: msg.length };
  const o = { type: msg.readUInt16BE(0), cookie: msg.readUInt32BE(4) === 0x2112a442,
    txid: msg.subarray(8, 20).toString('hex') };
  for (let off = 20; off + 4 <= msg.length;) {
    const at = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2);
    if (at === 0x0020 && len === 8 && msg[off + 5] === 1) {
      const port = msg.readUInt16BE(off + 6) ^ 0x2112;
      o.mapped = COOKIE.map((c, i) => msg[off + 8 + i] ^ c).join('.') + ':' + port;
    }
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
  return o;
}
front.on('message', (msg, from) => {
  const s = stun(msg);
  clients.set(s.txid, from);
  say({ dir: 'request', from: from.address + ':' + from.port, ...s });
  back.send(msg, target, '127.0.0.1');
});
back.on('message', (msg, from) => {
  const s = stun(msg);
  say({ dir: 'response', from: from.address + ':' + from.port, ...s });
  const to = clients.get(s.txid);
  if (to) front.send(msg, to.port, to.address);
});
let bound = 0;
const ready = () => {
  if (++bound === 2) say({ port: front.address().port, relayPort: back.address().port });
};
front.bind(0, '127.0.0.1', ready);
back.bind(0, '127.0.0.1', ready);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

// Starts the relay in front of UDP 127.0.0.1:target (inside netns if given). Resolves to
//   { port, relayPort, packets: [{dir, from, type, cookie, txid, mapped?}], stop() }.
export async function startUdpRelay(target, { netns = null } = {}) {
  const args = ['-e', UDP_RELAY_SRC, String(target)];
  const [cmd, argv] = netns ? netns.wrap(process.execPath, args) : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const packets = [];
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => { err += c; });
  const ports = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`UDP relay did not start: ${err}`)), STARTUP_MS);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const msg = JSON.parse(out.slice(0, nl));
        out = out.slice(nl + 1);
        if (msg.port) {
          clearTimeout(timer);
          res(msg);
        } else {
          packets.push(msg);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`UDP relay exited (${code}): ${err}`));
    });
  });
  return {
    ...ports,
    packets,
    stop() {
      live.delete(child);
      child.stdin.end();
      child.kill('SIGKILL');
    },
  };
}

/* ---------------------------------------------------------------- waits */

// Waits until the element matched by selector has exactly this textContent (a string) or
// matches it (a RegExp). Throws with the last text seen.
export async function waitText(page, selector, expected, timeout = WAIT_MS) {
  const exp = expected instanceof RegExp ? { re: expected.source, flags: expected.flags } : { s: expected };
  try {
    await page.waitForFunction(([sel, e]) => {
      const node = document.querySelector(sel);
      if (!node) return false;
      const t = node.textContent;
      return e.re !== undefined ? new RegExp(e.re, e.flags).test(t) : t === e.s;
    }, [selector, exp], { timeout });
  } catch (err) {
    const seen = await page.locator(selector).first().textContent({ timeout: 500 }).catch(() => '(no element)');
    throw new Error(`waited ${timeout} ms for ${selector} to read ${expected}; it reads ${JSON.stringify(seen)}` +
      `\n${err.message.split('\n')[0]}`);
  }
}

// Texts of every element matching selector, in document order.
export function texts(page, selector) {
  return page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.textContent));
}

// Waits until some element matching selector has exactly this textContent.
export async function waitLine(page, selector, line, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(([sel, l]) =>
      [...document.querySelectorAll(sel)].some((n) => n.textContent === l), [selector, line], { timeout });
  } catch (err) {
    const seen = await texts(page, selector).catch(() => []);
    throw new Error(`waited ${timeout} ms for a ${selector} reading ${JSON.stringify(line)}; ` +
      `present: ${JSON.stringify(seen)}\n${err.message.split('\n')[0]}`);
  }
}

// Waits until no element matching selector has this textContent.
export async function waitNoLine(page, selector, line, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(([sel, l]) =>
      ![...document.querySelectorAll(sel)].some((n) => n.textContent === l), [selector, line], { timeout });
  } catch (err) {
    const seen = await texts(page, selector).catch(() => []);
    throw new Error(`waited ${timeout} ms for no ${selector} reading ${JSON.stringify(line)}; ` +
      `present: ${JSON.stringify(seen)}\n${err.message.split('\n')[0]}`);
  }
}

// Waits until selector's element is visible (state 'visible') or hidden ('hidden').
export function waitState(page, selector, state, timeout = WAIT_MS) {
  return page.locator(selector).waitFor({ state, timeout });
}

// ---- the chat page ----

// The room's message lines.
export const MSG = '#messages > li';

// Enters room as nickname from the lobby and waits for the room view.
export async function enterRoom(page, nickname, room) {
  await page.fill('#nickname', nickname);
  await page.fill('#room-name', room);
  await page.click('#enter-btn');
  await waitState(page, '#room', 'visible');
}

// Opens the app's page, waits for its Socket.IO connection and enters room as nickname.
export async function openRoom(page, nickname, room) {
  await page.goto('/');
  await waitState(page, '#conn-status[data-state="connected"]', 'visible');
  await enterRoom(page, nickname, room);
}

// Joins the room's call and waits for the call controls.
export async function joinCall(page) {
  await page.click('#call-join-btn');
  await waitState(page, '#call-controls', 'visible');
}

// Chromium flags for call tests: fake camera and microphone (three of each, for the device
// switch), no permission prompt, loopback ICE, autoplay, and no host but this one.
export const CALL_ARGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream=device-count=3',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
];

// Page side (an initScript, before the page's scripts): keeps the Socket.IO socket the
// page's io() makes in window.__socket, for a test to emit on (e.g. sfu_stats).
export function captureSocket() {
  let realIo;
  Object.defineProperty(window, 'io', {
    configurable: true,
    get: () => realIo,
    set(v) {
      realIo = Object.assign((...a) => {
        const s = v(...a);
        window.__socket = s;
        return s;
      }, v);
    },
  });
}

// Page side (an initScript, before the page's scripts): every RTCPeerConnection the page
// makes, in window.__pcs (closed ones too).
export function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  const pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
    }
  };
  window.__pcs = pcs;
}

// Sends text and waits for the page's own line of it.
export async function say(page, text) {
  await page.fill('#message-input', text);
  await page.click('#send-btn');
  await waitLine(page, MSG, `You: ${text}`);
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path });
  return path;
}
