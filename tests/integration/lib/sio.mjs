// Helpers for the Socket.IO integration suites (socketio*.test.mjs): start the server under
// test as a child process, create socket.io-client sockets that are always closed, record
// every event a socket receives, and wait for things with bounded waits (never sleeps).
//
// Servers (contracts in docs/test-server.md):
//   'echo' -> ${NOOM_BUILD:-<repo>/build}/examples/echo       (NOOM_REF=1: tests/support/ref-sio-echo.mjs)
//   'test' -> ${NOOM_BUILD:-<repo>/build}/tests/sio_test_server (NOOM_REF=1: tests/support/ref-sio-server.mjs)
// Each prints one stdout line "listening on http://127.0.0.1:PORT" once ready; we read the
// port from it. Set NOOM_SERVER_LOG=1 to pass the server's stderr through.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manager, io } from 'socket.io-client';
import { Socket as EngineSocket } from 'engine.io-client';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const BUILD = process.env.NOOM_BUILD || path.join(REPO, 'build');
export const REF = Boolean(process.env.NOOM_REF) && process.env.NOOM_REF !== '0';

/** Default bound for every wait, in ms: generous, a wait only ends here when a test fails. */
export const WAIT_MS = 5000;

const SERVERS = {
  echo: { bin: 'examples/echo', ref: 'tests/support/ref-sio-echo.mjs' },
  test: { bin: 'tests/sio_test_server', ref: 'tests/support/ref-sio-server.mjs' },
};

/** The three transport set-ups every suite runs over. `transports: undefined` = default upgrade. */
export const TRANSPORTS = [
  { name: 'polling', transports: ['polling'] },
  { name: 'websocket', transports: ['websocket'] },
  { name: 'polling->websocket upgrade', transports: undefined },
];

function command(kind) {
  const s = SERVERS[kind];
  if (!s) throw new Error(`unknown server kind ${kind}`);
  if (REF) return { file: process.execPath, args: [path.join(REPO, s.ref)] };
  return { file: path.join(BUILD, s.bin), args: [] };
}

/** Reason to skip a suite (string) when the binary is not built and NOOM_REF is unset; else false. */
export function skipUnlessBuilt(kind) {
  const { file } = command(kind);
  if (REF || existsSync(file)) return false;
  return `${file} is not built (set NOOM_BUILD, or NOOM_REF=1 to run against the Node reference)`;
}

// Children still running when the test process exits (a failed before(), an uncaught error).
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

const FLAG_NAMES = {
  pingInterval: '--ping-interval',
  pingTimeout: '--ping-timeout',
  maxPayload: '--max-payload',
  connectTimeout: '--connect-timeout',
  recoveryMs: '--recovery-ms',
  recoveryMaxBytes: '--recovery-max-bytes',
  socketUseMs: '--socket-use',
  parser: '--parser',
};

/**
 * Starts a server ('echo' or 'test') with flags like { pingInterval: 300 } on a free port.
 * Resolves { url, port, proc, close() } once the "listening on" line was printed.
 */
export function startServer(kind, flags = {}) {
  const { file, args } = command(kind);
  const argv = [...args, '--port', '0'];
  for (const [k, v] of Object.entries(flags)) {
    if (!FLAG_NAMES[k]) throw new Error(`unknown server flag ${k}`);
    argv.push(FLAG_NAMES[k], String(v));
  }
  const proc = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let stderr = '';
  let closing = false;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    if (process.env.NOOM_SERVER_LOG) process.stderr.write(d);
    stderr = (stderr + d).slice(-8192);
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
    live.delete(proc);
    resolve({ code, signal });
  }));
  exited.then(({ code, signal }) => {
    if (!closing) {
      process.stderr.write(`${kind} server exited unexpectedly (code ${code}, signal ${signal})\n${stderr}\n`);
    }
  });

  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${kind} server did not print "listening on" within ${WAIT_MS} ms`)), WAIT_MS);
    const fail = (err) => {
      clearTimeout(timer);
      closing = true;
      proc.kill('SIGKILL');
      reject(new Error(`${err.message}\n${file} ${argv.join(' ')}\nstderr:\n${stderr}`));
    };
    proc.on('error', fail);
    exited.then(({ code, signal }) => fail(new Error(`${kind} server exited (code ${code}, signal ${signal}) before listening`)));
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', function onData(d) {
      out += d;
      const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)\n/m.exec(out);
      if (!m) return;
      proc.stdout.off('data', onData);
      proc.stdout.resume(); // keep draining so a chatty server never blocks on a full pipe
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        proc,
        stderr: () => stderr,
        async close() {
          if (closing) return;
          closing = true;
          proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), WAIT_MS);
          await exited;
          clearTimeout(t);
        },
      });
    });
  });
}

// ---- waiting -----------------------------------------------------------------------------

/**
 * Resolves with the argument list of the next `event` on an emitter (socket.io-client,
 * engine.io-client, ws, Node). Rejects when one of `rejectOn` fires first or after `timeout`.
 */
export function waitEvent(emitter, event, { timeout = WAIT_MS, rejectOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const bad = rejectOn.map((name) => [name, (err) => {
      cleanup();
      reject(err instanceof Error ? err : new Error(`"${name}" before "${event}": ${JSON.stringify(err)}`));
    }]);
    const ok = (...args) => { cleanup(); resolve(args); };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out after ${timeout} ms waiting for "${event}"`)); }, timeout);
    function cleanup() {
      clearTimeout(timer);
      emitter.off(event, ok);
      for (const [name, fn] of bad) emitter.off(name, fn);
    }
    emitter.on(event, ok);
    for (const [name, fn] of bad) emitter.on(name, fn);
  });
}

/** Resolves when `socket` is connected (at once if it already is); rejects on connect_error. */
export async function connected(socket, timeout = WAIT_MS) {
  if (socket.connected) return socket;
  await waitEvent(socket, 'connect', { timeout, rejectOn: ['connect_error'] });
  return socket;
}

/** Resolves with the Error of the next connect_error; rejects if the socket connects instead. */
export async function connectError(socket, timeout = WAIT_MS) {
  const [err] = await waitEvent(socket, 'connect_error', { timeout, rejectOn: ['connect'] });
  return err;
}

/** Bounds a promise: rejects with `what` after `ms`. */
export function within(promise, ms = WAIT_MS, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Emits a command and resolves with the server's ack (the first ack argument). */
export function ask(socket, event, ...args) {
  return socket.timeout(WAIT_MS).emitWithAck(event, ...args);
}

/** Emits with a callback and resolves with ALL the ack arguments (emitWithAck keeps only the first). */
export function askAll(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(WAIT_MS).emit(event, ...args, (err, ...resp) => (err ? reject(err) : resolve(resp)));
  });
}

/** Resolves once a raw engine.io-client session is open; rejects if it closes or fails first. */
export async function engineOpen(engine, timeout = WAIT_MS) {
  if (engine.readyState === 'open') return engine;
  await waitEvent(engine, 'open', { timeout, rejectOn: ['error', 'close'] });
  return engine;
}

// ---- recording ---------------------------------------------------------------------------

/**
 * Records every event a socket receives, as [event, ...args], in arrival order, from the
 * moment the socket is created (so the `auth` event sent at connection is never missed).
 */
export class Recorder {
  constructor(socket) {
    this.events = [];
    this.taken = new Set(); // indexes handed out by take()
    this.markCursor = 0; // index just after the last marker seen by untilMarker()
    this.waiters = new Set();
    if (socket) socket.onAny((event, ...args) => this.push(event, ...args));
  }

  push(event, ...args) {
    this.events.push([event, ...args]);
    for (const w of [...this.waiters]) w();
  }

  // Resolves with find() once it returns something other than undefined.
  #until(find, timeout, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return false;
        done();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}; received: ${summarize(this.events)}`));
      }, timeout);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      if (!check()) this.waiters.add(check);
    });
  }

  /** Resolves with the args of the first not-yet-taken `event` whose args satisfy `pred`. */
  take(event, pred = () => true, timeout = WAIT_MS) {
    return this.#until(() => {
      for (let i = 0; i < this.events.length; i++) {
        const [ev, ...args] = this.events[i];
        if (ev === event && !this.taken.has(i) && pred(...args)) {
          this.taken.add(i);
          return args;
        }
      }
      return undefined;
    }, timeout, `"${event}"`);
  }

  /**
   * Waits for ["marker", n] and returns the events received since the previous marker
   * (excluding `auth`, `left` and other markers). Socket.IO keeps order per connection, so
   * this is exactly what the server sent this socket between the two markers.
   */
  untilMarker(n, timeout = WAIT_MS) {
    return this.#until(() => {
      for (let i = this.markCursor; i < this.events.length; i++) {
        const [ev, arg] = this.events[i];
        if (ev === 'marker' && arg === n) {
          const between = this.events.slice(this.markCursor, i)
            .filter(([e]) => e !== 'auth' && e !== 'left' && e !== 'marker');
          this.markCursor = i + 1;
          return between;
        }
      }
      return undefined;
    }, timeout, `marker ${n}`);
  }
}

/**
 * A Recorder for a raw engine.io-client session: records each 'message' as ["message", data]
 * and 'close' as ["close", reason]; take('message', pred) waits for a matching message.
 */
export function engineInbox(engine) {
  const rec = new Recorder(null);
  engine.on('message', (data) => rec.push('message', data));
  engine.on('close', (reason) => rec.push('close', reason));
  return rec;
}

function summarize(events) {
  const s = JSON.stringify(events.map(([e, ...a]) => [e, ...a.map((x) => (Buffer.isBuffer(x) ? `<${x.length} bytes>` : x))]));
  return s.length > 600 ? `${s.slice(0, 600)}...` : s;
}

let markerSeq = 0;

/**
 * Sends ["marker", n] to the whole namespace through `ctrl` (test server `do-emit`) and
 * returns, for each socket in `sockets`, what it received since its previous marker.
 */
export async function sinceLastMarker(ctrl, sockets) {
  const n = ++markerSeq;
  await ask(ctrl, 'do-emit', { event: 'marker', args: [n] });
  return Promise.all(sockets.map((s) => s.rec.untilMarker(n)));
}

// ---- client registry ---------------------------------------------------------------------

/**
 * Creates clients for one test and closes all of them in close(). Every socket gets a
 * Recorder as `socket.rec`. Defaults: forceNew, no reconnection (tests opt in).
 */
export class Clients {
  constructor(url, opts = {}) {
    this.url = url;
    this.opts = opts; // e.g. { transports }
    this.sockets = [];
    this.managers = [];
    this.engines = [];
  }

  #options(opts) {
    const o = { forceNew: true, reconnection: false, ...this.opts, ...opts };
    if (o.transports === undefined) delete o.transports;
    return o;
  }

  /** A socket on its own connection (new Manager). */
  socket(nsp = '/', opts = {}) {
    const s = io(this.url + nsp, this.#options(opts));
    return this.#track(s);
  }

  /** Creates and connects a socket; resolves once connected. */
  async connect(nsp = '/', opts = {}) {
    return connected(this.socket(nsp, opts));
  }

  /** A Manager (one Engine.IO connection) on which several namespaces can be opened. */
  manager(opts = {}) {
    const m = new Manager(this.url, this.#options(opts));
    this.managers.push(m);
    return m;
  }

  /** A socket for `nsp` on an existing Manager (multiplexed on its connection). */
  on(manager, nsp, opts = {}) {
    return this.#track(manager.socket(nsp, opts));
  }

  /** A raw engine.io-client session on /socket.io/ (no Socket.IO CONNECT is sent). */
  engine(opts = {}) {
    const o = { path: '/socket.io/', ...this.opts, ...opts };
    if (o.transports === undefined) delete o.transports;
    const e = new EngineSocket(this.url, o);
    this.engines.push(e);
    return e;
  }

  #track(s) {
    s.rec = new Recorder(s);
    this.sockets.push(s);
    return s;
  }

  close() {
    for (const s of this.sockets) s.disconnect();
    for (const m of this.managers) m.disconnect();
    for (const s of this.sockets) s.io.disconnect();
    for (const e of this.engines) e.close();
    this.sockets = [];
    this.managers = [];
    this.engines = [];
  }
}

// ---- values ------------------------------------------------------------------------------

/** Copy of a JSON-ish value with -0 turned into 0 (JSON cannot carry the sign of zero). */
export function plusZero(v) {
  if (typeof v === 'number') return v === 0 ? 0 : v;
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(plusZero);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plusZero(x)]));
}

/** Sorted copy of an array (rooms and id lists come back in no particular order). */
export const sorted = (a) => [...a].sort();

/** Unique room name per call, so tests never see each other's rooms. */
let roomSeq = 0;
export const room = (label = 'room') => `${label}-${process.pid}-${++roomSeq}`;
