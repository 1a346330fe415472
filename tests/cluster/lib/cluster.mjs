// Helpers for the cluster suites: a real redis-server on a free loopback port, cluster
// nodes (build/tests/sio_cluster_server, the Node reference tests/support/ref-redis-node.mjs,
// or the noom app itself), nginx in front of them, and official socket.io-clients.
//
// Every wait is bounded and event-driven: processes are awaited on their log lines,
// clients on their events. Nothing sleeps. Every child is killed when the test file exits.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../../..');
export const BUILD = process.env.NOOM_BUILD || join(REPO, 'build');
const require = createRequire(join(REPO, 'tests/package.json'));
export const { io } = require('socket.io-client');

const live = new Set();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

export const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const REDIS = ['/usr/bin/redis-server', 'redis-server'].find((p) => p.startsWith('/') ? existsSync(p) : which(p));
const NGINX = ['/usr/sbin/nginx', 'nginx'].find((p) => p.startsWith('/') ? existsSync(p) : which(p));

// Why a suite cannot run here (missing tools or binaries), or null. Suites skip with it.
export function missing({ nginx = false, binaries = ['tests/sio_cluster_server'] } = {}) {
  if (!REDIS) return 'redis-server is not installed (scripts/deps.sh test installs it)';
  if (nginx && !NGINX) return 'nginx is not installed (scripts/deps.sh test installs it)';
  for (const b of binaries) if (!existsSync(join(BUILD, b))) return `${join(BUILD, b)} is not built (set NOOM_BUILD)`;
  return null;
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// Spawns a child and returns a handle whose waitFor(re) resolves once its output (stdout
// and stderr together) matches re.
function child(file, args, label) {
  const c = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(c);
  let out = '';
  const waiters = new Set();
  const feed = (d) => {
    out += d;
    if (process.env.NOOM_SERVER_LOG) process.stderr.write(`[${label}] ${d}`);
    for (const w of waiters) w();
  };
  c.stdout.setEncoding('utf8').on('data', feed);
  c.stderr.setEncoding('utf8').on('data', feed);
  const exited = new Promise((res) => c.once('exit', (code, signal) => {
    live.delete(c);
    for (const w of waiters) w();
    res({ code, signal });
  }));
  const h = {
    child: c,
    label,
    output: () => out,
    exited,
    // Resolves with the match once the output (from offset on) matches re.
    waitFor(re, ms = 10000, from = 0) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = re.exec(out.slice(from));
          if (m) { done(); res(m); return; }
          if (c.exitCode !== null || c.signalCode !== null) { done(); rej(new Error(`${label} exited before printing ${re}:\n${out}`)); }
        };
        const t = setTimeout(() => { done(); rej(new Error(`${label}: ${re} not seen within ${ms} ms:\n${out.slice(-3000)}`)); }, ms);
        const done = () => { clearTimeout(t); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    mark: () => out.length,
    // SIGKILL after killAfterMs: longer than the child's own shutdown (noom's --drain-ms).
    async stop(signal = 'SIGTERM', killAfterMs = 3000) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill(signal);
        const t = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
        await exited;
        clearTimeout(t);
      }
      return exited;
    },
  };
  return h;
}

// A redis-server with no persistence on a free port (or the given one, for a restart).
export async function startRedis(port) {
  port = port ?? await freePort();
  const h = child(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], `redis:${port}`);
  await h.waitFor(/Ready to accept connections/);
  return Object.assign(h, { port, url: `redis://127.0.0.1:${port}` });
}

const LISTEN_RE = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

// A cluster node: kind 'noom' (sio_cluster_server), 'node' (the Node reference), 'course'
// (the course's chat server on Node, tests/support/ref-course-server.mjs) or 'app'
// (build/noom). Resolves once it listens and (unless waitConnected is false) its adapter
// is connected and subscribed.
export async function startNode(kind, redisUrl, { name = kind, prefix, requestsTimeout, extra = [], waitConnected = true, streams = false, recoveryMs, port: fixedPort = 0 } = {}) {
  let h;
  if (kind === 'app') {
    const args = ['--port', String(fixedPort), streams ? '--redis-streams' : '--redis', redisUrl, '--stun-port', '0', '--db', ':memory:', ...(prefix ? ['--redis-prefix', prefix] : []), ...extra];
    h = child(join(BUILD, 'noom'), args, name);
  } else if (kind === 'echo') {
    // build/examples/echo on the streams adapter (streams is implied).
    const args = ['--port', '0', '--log-level', 'info', '--redis-streams', redisUrl, ...(recoveryMs ? ['--recovery-ms', String(recoveryMs)] : []), ...extra];
    h = child(join(BUILD, 'examples/echo'), args, name);
    streams = true;
  } else {
    const args = ['--port', '0', '--redis', redisUrl, '--name', name];
    if (prefix) args.push('--prefix', prefix);
    if (requestsTimeout) args.push('--requests-timeout', String(requestsTimeout));
    if (recoveryMs) args.push('--recovery-ms', String(recoveryMs));
    if (streams && kind === 'noom') args.push('--streams', '1');
    const script = { node: streams ? 'ref-streams-node.mjs' : 'ref-redis-node.mjs', course: 'ref-course-server.mjs' }[kind];
    h = script
      ? child(process.execPath, [join(REPO, 'tests/support', script), ...args, ...extra], name)
      : child(join(BUILD, 'tests/sio_cluster_server'), [...args, ...extra], name);
  }
  const port = Number((await h.waitFor(LISTEN_RE))[1]);
  // The Node servers print their line once subscribed; ours log when the adapter is.
  if (!isNodeJs(kind) && waitConnected) await h.waitFor(streams ? /redis streams adapter: connected to/ : /redis adapter: connected to/);
  return Object.assign(h, { kind, name, port, url: `http://127.0.0.1:${port}` });
}

// Stops nodes (SIGTERM) and checks that our own exited cleanly: status 0 means the loop
// closed with every handle gone, and, in a sanitizer build, that LeakSanitizer found
// nothing. Throws with the node's output otherwise.
const isNodeJs = (kind) => kind === 'node' || kind === 'course';

export async function stopNodes(...nodes) {
  const bad = [];
  for (const n of nodes) {
    if (!n) continue;
    const { code, signal } = await n.stop();
    if (!isNodeJs(n.kind) && (code !== 0 || signal)) bad.push(`${n.name} exited with ${code ?? signal}:\n${n.output().slice(-3000)}`);
  }
  if (bad.length) throw new Error(bad.join('\n'));
}

// ---- clients ----

const clients = new Set();
export function closeClients() { for (const c of clients) c.close(); clients.clear(); }

// A connected socket.io-client (websocket unless told otherwise, no reconnection).
export async function connect(url, opts = {}) {
  const s = io(url, { forceNew: true, transports: ['websocket'], reconnection: false, ...opts });
  clients.add(s);
  await once(s, 'connect');
  return s;
}

// Resolves with the arguments of the next `event` on s (rejects after ms).
export function once(s, event, ms = 5000) {
  return new Promise((res, rej) => {
    const on = (...args) => { clearTimeout(t); res(args); };
    const t = setTimeout(() => { s.off(event, on); rej(new Error(`no "${event}" within ${ms} ms`)); }, ms);
    s.once(event, on);
  });
}

// Resolves with the arguments of the first `event` on s for which pred holds.
export function until(s, event, pred, ms = 5000) {
  return new Promise((res, rej) => {
    const on = (...args) => { if (pred(...args)) { clearTimeout(t); s.off(event, on); res(args); } };
    const t = setTimeout(() => { s.off(event, on); rej(new Error(`no matching "${event}" within ${ms} ms`)); }, ms);
    s.on(event, on);
  });
}

// A command of the cluster-server contract: acked value.
export const call = (s, event, arg = {}, ms = 8000) => s.timeout(ms).emitWithAck(event, arg);

// Collects every `event` on s into an array (for "exactly these" assertions).
export function record(s, event) {
  const got = [];
  s.on(event, (...args) => got.push(args));
  return got;
}

// ---- a Redis restarted under two nodes (redis_restart and streams suites) ----

// A redis-server and two noom app nodes A and B on it (startNode options opts).
export async function startRedisAndTwoNodes(opts = {}) {
  const redis = await startRedis();
  const [A, B] = await Promise.all([startNode('noom', redis.url, { ...opts, name: 'A' }),
    startNode('noom', redis.url, { ...opts, name: 'B' })]);
  return { redis, A, B };
}

// Closes the clients, then stops the nodes (checking they exited cleanly) and redis.
export async function stopAll(redis, ...nodes) {
  closeClients();
  await stopNodes(...nodes);
  if (redis) await redis.stop();
}

// Clients a and a2 on A and b on B, all in room r; a broadcast of a reaches b.
export async function trioInRoom(A, B, r) {
  const [a, a2, b] = await Promise.all([connect(A.url), connect(A.url), connect(B.url)]);
  for (const s of [a, a2, b]) await call(s, 'join', r);
  const got = once(b, 'm');
  await call(a, 'emit', { event: 'm', args: ['before'], to: r });
  assert.deepEqual(await got, ['before']);
  return [a, a2, b];
}

// Room r spans the nodes again both ways (after Redis came back).
export async function assertAcrossAgain([a, , b], r) {
  let got = once(b, 'm');
  await call(a, 'emit', { event: 'm', args: ['after'], to: r });
  assert.deepEqual(await got, ['after']);
  got = once(a, 'm');
  await call(b, 'emit', { event: 'm', args: ['back'], to: r, broadcast: true });
  assert.deepEqual(await got, ['back']);
}

// ---- nginx ----

// Runs Debian's nginx as a child (no daemon) with deploy/nginx.conf rewritten for the
// test: the upstream servers' addresses replaced (their parameters, e.g. max_fails, kept:
// the first server line's for every port), the listen port replaced, every path under a
// temp prefix. transform(conf) may edit the config further (the negative control).
export async function startNginx(upstreamPorts, { transform = (c) => c } = {}) {
  const prefix = mkdtempSync(join(tmpdir(), 'noom-nginx-'));
  // Workers run as an unprivileged user when nginx starts as root: they must reach the
  // temp directories nginx creates under the prefix.
  chmodSync(prefix, 0o755);
  const port = await freePort();
  let conf = readFileSync(join(REPO, 'deploy/nginx.conf'), 'utf8');
  conf = conf.replace(/(upstream noom \{[^}]*?)((?:\s*server [^;]+;)+)/, (_, head, servers) => {
    const params = /server\s+[^\s;]+([^;]*);/.exec(servers)[1];
    return head + upstreamPorts.map((p) => `\n    server 127.0.0.1:${p}${params};`).join('');
  });
  conf = conf.replace(/listen\s+\d+;/, `listen 127.0.0.1:${port};`);
  conf = conf.replace(/^user\s+[^;]+;\s*$/m, '');
  const paths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${prefix}/${k}_temp;`).join('\n');
  conf = conf.replace(/http \{/, `http {\n${paths}\n  access_log ${prefix}/access.log;`);
  conf = transform(conf);
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, conf);
  // The error log goes to our pipe at "notice": nginx says "start worker process" once
  // its listening sockets are bound, which is when clients may come.
  const h = child(NGINX, ['-p', prefix, '-c', file, '-e', 'stderr',
    '-g', `daemon off; pid ${prefix}/nginx.pid; error_log stderr notice;`], 'nginx');
  await h.waitFor(/start worker process/);
  return Object.assign(h, {
    port,
    url: `http://127.0.0.1:${port}`,
    conf,
    async stop() {
      // SIGTERM: nginx's fast shutdown (SIGQUIT would wait for held long-polls).
      await (h.child.exitCode === null ? (h.child.kill('SIGTERM'), h.exited) : h.exited);
      rmSync(prefix, { recursive: true, force: true });
    },
  });
}
