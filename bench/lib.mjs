// bench/lib.mjs: what the Node bench scripts share: the repository and the tests' npm
// install, a server process started on a free port, its CPU and memory from /proc, and
// a bare Socket.IO client over npm ws.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// require() of the packages installed for the tests (socket.io-client, ws...).
export const require = createRequire(join(REPO, 'tests/package.json'));
export const ECHO = process.env.ECHO_BIN || join(REPO, 'build/examples/echo');
export const NODE_SERVER = join(REPO, 'bench/node-server.mjs'); // Node's socket.io 4.8 echo
const TICK = 100; // clock ticks per second (getconf CLK_TCK)

// Runs bin with args (which should ask for port 0) and resolves, once it prints
// "listening on http://host:port", with {child, port, url, log()} (log: its stderr so
// far); rejects with that stderr if it exits first. name is for the error.
export function startServer(name, bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  return new Promise((res, rej) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) res({ child, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}`, log: () => log });
    });
    child.once('exit', (c) => rej(new Error(`${name} exited ${c}: ${log}`)));
  });
}

// SIGTERM, resolved once the server exited.
export const stopServer = (srv) => new Promise((r) => { srv.child.once('exit', r); srv.child.kill('SIGTERM'); });

// User + system CPU seconds of process pid so far.
export function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
}

// Resident memory of process pid, bytes.
export const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

// One Socket.IO client over a raw npm ws offering permessage-deflate (as socket.io-client
// does), resolved once connected to "/": c.ws, c.acks (ack id -> function), c.next (the
// next ack id); onEvent(text), if given, sees every event packet.
export function wsClient(port, onEvent) {
  const WebSocket = require('ws');
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: true });
    const c = { ws, acks: new Map(), next: 0 };
    ws.on('error', rej);
    ws.on('message', (data) => {
      const s = data.toString();
      if (s === '2') return ws.send('3');
      if (s[0] === '0') return ws.send('40');
      if (s.startsWith('40')) return res(c);
      const m = /^43(\d+)/.exec(s);
      if (m) {
        const f = c.acks.get(Number(m[1]));
        c.acks.delete(Number(m[1]));
        if (f) f();
      } else if (s.startsWith('42')) onEvent?.(s);
    });
  });
}
