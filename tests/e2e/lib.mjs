// Helpers of the browser end-to-end suite (tests/e2e/app.e2e.test.mjs): start the noom
// server, launch headless Chromium through playwright-core, and wait for DOM conditions.
//
// Server: `${NOOM_BUILD:-<repo>/build}/noom --port 0 --log-level warn`, ready once it prints
//   noom listening on http://127.0.0.1:PORT (...)
// on stdout. With NOOM_REF=1 an in-process reference instead: the official npm socket.io
// 4.8 server implementing docs/app-events.md, ws 8 at /ws, web/ served from disk. It exists
// to prove the page and the tests right independently of the C server.
//
// Client: the page loads /socket.io/socket.io.js from the server. NOOM_E2E_CLIENT=own
// serves web/socket.io/socket.io.js (our client) at that URL through request interception, and
// NOOM_E2E_CLIENT=official serves the npm socket.io-client 4.8 bundle, so a failure can be
// pinned on the client or on the server.
//
// Nothing here sleeps to synchronise: waits are Playwright waits (page.waitForFunction,
// locators) with a bounded timeout, and a timeout error says what was expected and what
// the page showed instead.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
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
const LISTEN_RE = /^noom listening on http:\/\/127\.0\.0\.1:(\d+)\b/;

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/* ---------------------------------------------------------------- the server */

export function noomBinary() {
  return join(process.env.NOOM_BUILD || join(REPO, 'build'), 'noom');
}

// Starts the server; port 0 picks a free one. Resolves to
//   { port, origin, stderr(), exitInfo(), stop() }.
export async function startServer({ port = 0, extra = [] } = {}) {
  if (IS_REF) return startReference(port);
  const bin = noomBinary();
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: build it (cmake --build <dir> --target noom) and set NOOM_BUILD, ` +
      'or run against the reference with NOOM_REF=1');
  }
  const args = ['--port', String(port), '--log-level', 'warn', ...extra];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const m = LISTEN_RE.exec(out.slice(0, nl));
      const line = out.slice(0, nl);
      out = null;
      if (!m) return fail(`unexpected first stdout line ${JSON.stringify(line)}`);
      clearTimeout(timer);
      res(Number(m[1]));
    });
    child.once('error', (err) => fail(`spawn failed: ${err.message}`));
    exited.then(({ code, signal }) => fail(`exited early (code ${code}, signal ${signal})`));
  });
  return {
    port: boundPort,
    origin: `http://127.0.0.1:${boundPort}`,
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
  const io = new Server(server, { serveClient: true });
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

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
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
export async function newUser(browser, origin, { viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ baseURL: origin, viewport });
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

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path });
  return path;
}
