// Starts build/noom (the app binary) on a free port for a test file and stops it after.
// noom prints "noom listening on http://127.0.0.1:PORT (...)" once ready; we await it.
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../../..');
export const BUILD = process.env.NOOM_BUILD || join(REPO, 'build');
const LISTEN_RE = /noom listening on http:\/\/127\.0\.0\.1:(\d+)/;

const live = new Set();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

// nofile: run under `ulimit -n nofile` (through sh), for the open-file limit's defaults.
// prefix: a command to run noom under (e.g. ['runuser', '-u', 'nobody', '--']).
// History goes to an in-memory database unless flags name another --db (the last wins).
export function startNoom(flags = [], { timeout = 10000, nofile, prefix = [] } = {}) {
  let argv = [join(BUILD, 'noom'), '--port', '0', '--db', ':memory:', ...flags];
  if (nofile) argv = ['/bin/sh', '-c', `ulimit -n ${nofile} && exec "$0" "$@"`, ...argv];
  argv = [...prefix, ...argv];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; if (process.env.NOOM_SERVER_LOG) process.stderr.write(d); });
  const exited = new Promise((res) => child.once('exit', (code, signal) => { live.delete(child); res({ code, signal }); }));
  return new Promise((resolveStart, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`noom did not start in ${timeout} ms: ${stderr}`)), timeout);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = LISTEN_RE.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolveStart({
        port,
        pid: child.pid,
        url: `http://127.0.0.1:${port}`,
        stderr: () => stderr,
        // Resolves once the server's stderr matches re (it logs as things happen).
        waitLog(re, ms = 5000) {
          if (re.test(stderr)) return Promise.resolve();
          return new Promise((res, rej) => {
            const t = setTimeout(() => { child.stderr.off('data', on); rej(new Error(`log never matched ${re}: ${stderr}`)); }, ms);
            function on() { if (re.test(stderr)) { clearTimeout(t); child.stderr.off('data', on); res(); } }
            child.stderr.on('data', on);
          });
        },
        exited,
        pid: child.pid,
        // Sends signal (e.g. 'SIGKILL') and resolves once the process is gone.
        kill(signal) { child.kill(signal); return exited; },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`noom exited (${code}) before listening: ${stderr}`)); });
  });
}

// Resolves with the next `event` on emitter (first argument list), or rejects after ms.
export function next(emitter, event, ms = 5000) {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timed out waiting for "${event}"`)), ms);
    emitter.once(event, (...args) => { clearTimeout(t); res(args); });
  });
}

// Resolves when pred(args) holds for some `event` on emitter, or rejects after ms.
export function until(emitter, event, pred, ms = 5000) {
  return new Promise((res, rej) => {
    const t = setTimeout(() => { emitter.off(event, on); rej(new Error(`timed out waiting for "${event}" matching`)); }, ms);
    function on(...args) { if (pred(...args)) { clearTimeout(t); emitter.off(event, on); res(args); } }
    emitter.on(event, on);
  });
}

// socket.io-client sockets to a started server, closed together at the end of a file:
// connect() resolves once the socket is connected; index(s) is its place in the pool (for
// distinct nicknames).
export function clientPool(io, server) {
  const list = [];
  return {
    async connect(opts = {}) {
      const s = io(server().url, { forceNew: true, transports: ['websocket'], reconnection: false, ...opts });
      list.push(s);
      await next(s, 'connect');
      return s;
    },
    index(s) { return list.indexOf(s); },
    closeAll() { for (const s of list) s.close(); },
  };
}

// An event with an acknowledgement, rejected after 5 s without one.
export const ack = (s, ...args) => s.timeout(5000).emitWithAck(...args);

// noom runs with connection-state recovery on (--recovery-ms): every stored packet ends
// with its offset, an extra last string argument that socket.io-client keeps in
// socket._lastOffset and course clients ignore. Asserts it is there and returns the
// event's own arguments. One node's offsets are short base64url counters; with
// --redis-streams they are the Redis stream entry ids ("<ms>-<seq>").
export function noOffset(args) {
  const last = args[args.length - 1];
  if (typeof last !== 'string' || !/^(?:[A-Za-z0-9_-]{9,24}|\d+-\d+)$/.test(last)) {
    throw new Error(`expected a recovery offset as the last argument of ${JSON.stringify(args)}`);
  }
  return args.slice(0, -1);
}
