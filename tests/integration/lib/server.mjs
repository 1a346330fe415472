// Starts the server under test as a child process and hands back its port.
//
// The server is build/examples/echo (NOOM_BUILD overrides the build directory), or, with
// NOOM_REF=1, the reference implementation tests/support/ref-echo.mjs on the official npm
// engine.io. Both take the same flags and print exactly one line once listening:
//   listening on http://127.0.0.1:PORT
// The helper awaits that line (no sleeps), keeps the server's stderr for diagnostics and
// kills the child when asked, and in any case when the test process exits.
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../../..');
export const IS_REF = Boolean(process.env.NOOM_REF && process.env.NOOM_REF !== '0');
// Spread into a test's options: `test('x', { ...refDiffers }, fn)` skips it on the reference.
export const refDiffers = { skip: IS_REF ? 'reference differs' : false };

const STARTUP_MS = 10000;
const STOP_MS = 3000;
const STDERR_KEEP = 64 * 1024;
const LISTEN_RE = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/;

const live = new Set();
process.on('exit', () => {
  // Last resort (a test file that forgot to stop its server, or an uncaught error).
  for (const child of live) child.kill('SIGKILL');
});

function command(flags) {
  if (IS_REF) {
    return [process.execPath, [join(REPO, 'tests/support/ref-echo.mjs'), ...flags]];
  }
  const build = process.env.NOOM_BUILD || join(REPO, 'build');
  const bin = join(build, 'examples/echo');
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: build the echo example (or set NOOM_BUILD), ` +
      'or run against the reference with NOOM_REF=1');
  }
  return [bin, flags];
}

// opts: { pingInterval, pingTimeout, maxPayload, connectTimeout, headerTimeout, idleTimeout }
// (numbers, milliseconds or bytes) or extra: [...raw flags]. Resolves to a handle:
//   { port, origin, stderr(), stop() }
export async function startServer(opts = {}) {
  const names = {
    pingInterval: '--ping-interval',
    pingTimeout: '--ping-timeout',
    maxPayload: '--max-payload',
    connectTimeout: '--connect-timeout',
    headerTimeout: '--header-timeout',
    idleTimeout: '--idle-timeout',
  };
  const flags = ['--port', '0'];
  for (const [key, value] of Object.entries(opts)) {
    if (key === 'extra') continue;
    if (!names[key]) throw new Error(`startServer: unknown option ${key}`);
    flags.push(names[key], String(value));
  }
  if (opts.extra) flags.push(...opts.extra);

  const [file, args] = command(flags);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
  });
  let exitInfo = null;
  const exited = new Promise((res) => child.once('exit', (code, signal) => {
    live.delete(child);
    exitInfo = { code, signal };
    res(exitInfo);
  }));

  const port = await new Promise((res, rej) => {
    let out = '';
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      rej(new Error(`${file} ${flags.join(' ')}: ${why}\n--- server stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no "listening on" line within ${STARTUP_MS} ms`), STARTUP_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (out === null) return; // after the line: ignore (the contract says nothing follows)
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const m = LISTEN_RE.exec(out.slice(0, nl));
      out = null;
      if (!m) return fail(`unexpected first stdout line ${JSON.stringify(chunk)}`);
      clearTimeout(timer);
      settled = true;
      res(Number(m[1]));
    });
    child.once('error', (err) => fail(`spawn failed: ${err.message}`));
    exited.then(({ code, signal }) => fail(`exited early (code ${code}, signal ${signal})`));
  });

  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    child,
    stderr: () => stderr,
    // null while running, else { code, signal } (a crash shows here as e.g. SIGSEGV).
    exitInfo: () => exitInfo,
    // Resolves once the child is gone: SIGTERM, then SIGKILL if it lingers.
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

// Registers before/after hooks (in the current describe() or file) that start a server
// with opts and stop it, and returns a fixture:
//   fx.port, fx.origin, fx.pid  of the running server
//   fx.stderr()              what the server printed on stderr so far
//   fx.test(name, [o], fn)   node:test test() whose failures carry the server's stderr tail
export function useServer(opts = {}) {
  let handle = null;
  before(async () => { handle = await startServer(opts); });
  after(async () => { if (handle) await handle.stop(); });
  const need = () => {
    if (!handle) throw new Error('server not started (startup failed?)');
    return handle;
  };
  return {
    get port() { return need().port; },
    get origin() { return need().origin; },
    get pid() { return need().child.pid; }, // e.g. to read /proc/PID/status
    stderr: () => (handle ? handle.stderr() : ''),
    test(name, o, fn) {
      if (typeof o === 'function') [o, fn] = [{}, o];
      return test(name, o, withStderr(() => handle, fn));
    },
  };
}

// Wraps a test body so that a failure carries the tail of the server's stderr.
// srv is a function returning the current server handle (they are started in before()).
export function withStderr(srv, fn) {
  return async (t) => {
    try {
      return await fn(t);
    } catch (err) {
      const s = srv();
      if (s && err && typeof err === 'object') {
        const tail = s.stderr().slice(-4000);
        const ex = s.exitInfo();
        const state = ex ? `server EXITED during the tests (code ${ex.code}, signal ${ex.signal})` : 'server still running';
        try {
          err.message += `\n--- ${state}; server stderr (tail) ---\n${tail || '(empty)'}`;
        } catch { /* read-only message: keep the error as is */ }
      }
      throw err;
    }
  };
}
