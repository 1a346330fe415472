// Our browser client's side of connection-state recovery (web/socket.io/socket.io.js,
// docs/browser-client.md): the script runs unchanged in a Node vm context whose WebSocket
// is npm ws (WebSocket transport only; the page suite tests/e2e/recovery.e2e.test.mjs
// runs it in Chromium), against build/examples/echo --recovery-ms through a TCP proxy
// this file cuts. Checked against what socket.io-client 4.8 does: the pid of the CONNECT
// answer is kept, the last string argument of each event is the offset, {pid, offset} go
// in the CONNECT auth merged under the user's auth, and socket.recovered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { REF, REPO, ask, room, skipUnlessBuilt, startServer, waitEvent, within } from './lib/sio.mjs';
import { cuttableProxy } from './lib/proxy.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('../node_modules/ws');

// The script's global io, in a context of its own (no page: full URLs only).
function loadClient() {
  const ctx = { WebSocket, setTimeout, clearTimeout, URL, URLSearchParams, console, TextEncoder, TextDecoder };
  ctx.self = ctx;
  vm.createContext(ctx);
  vm.runInContext(readFileSync(path.join(REPO, 'web/socket.io/socket.io.js'), 'utf8'), ctx);
  return ctx.io;
}

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 };
const delay = (ms) => new Promise((res) => { setTimeout(res, ms); });

describe('our browser client under connection-state recovery', { skip: skipUnlessBuilt('echo') }, () => {
  let srv, proxy, via, io;
  const sockets = [];
  before(async () => {
    srv = await startServer('echo', { recoveryMs: 10000, pingInterval: 300, pingTimeout: 300 });
    proxy = cuttableProxy(srv.port);
    via = `http://127.0.0.1:${await proxy.listen()}`;
    io = loadClient();
  });
  after(async () => {
    for (const s of sockets) s.close();
    await proxy?.close();
    await srv?.close();
  });
  const open = (url, opts) => {
    const s = io(url, { forceNew: true, transports: ['websocket'], ...opts });
    sockets.push(s);
    return s;
  };

  test('keeps pid and offset, sends them merged with its auth, and comes back recovered with what it missed', async () => {
    const r = room('ours');
    const receiver = open(via, { ...RECONNECT, auth: { token: 'secret' } });
    const greeted = waitEvent(receiver, 'auth');
    await waitEvent(receiver, 'connect');
    assert.equal(receiver.recovered, false);
    assert.deepEqual(JSON.parse(JSON.stringify((await greeted)[0])), { token: 'secret' }, 'first CONNECT: the user\'s auth alone');
    assert.equal(typeof receiver._pid, 'string');
    assert.equal(await ask(receiver, 'join', r), true);
    const id = receiver.id;
    const got = [];
    receiver.on('bcast', (msg, offset) => got.push([msg.n, offset]));

    const sender = open(srv.url);
    await waitEvent(sender, 'connect');
    sender.emit('bcast', { room: r, n: 0 });
    await within(new Promise((res) => { const t = setInterval(() => { if (got.length) { clearInterval(t); res(); } }, 10); }));
    assert.equal(receiver._lastOffset, got[0][1], 'the last string argument is kept as the offset');

    const back = waitEvent(receiver, 'connect', { timeout: 10000 });
    const regreeted = waitEvent(receiver, 'auth', { timeout: 10000 });
    const offsetAtCut = receiver._lastOffset;
    const pidAtCut = receiver._pid;
    proxy.cut();
    for (let n = 1; n <= 100; n++) sender.emit('bcast', { room: r, n });
    assert.equal(await ask(sender, 'echo', 'done'), 'done');
    await delay(500);
    proxy.open();
    await back;
    assert.equal(receiver.recovered, true, 'socket.recovered');
    assert.equal(receiver.id, id);
    // The echo server greets every connect with its handshake auth: the reconnect's.
    assert.deepEqual(JSON.parse(JSON.stringify((await regreeted)[0])), { pid: pidAtCut, offset: offsetAtCut, token: 'secret' });
    await within(new Promise((res) => { const t = setInterval(() => { if (got.length >= 101) { clearInterval(t); res(); } }, 10); }));
    assert.deepEqual(got.map(([n]) => n), Array.from({ length: 101 }, (_, n) => n), 'every message once, in order');
    assert.equal(new Set(got.map(([, o]) => o)).size, 101);
  });

  test('the user\'s auth keys win over pid/offset, and an unknown pid comes back not recovered', { skip: REF ? 'the reference keeps no such state' : false }, async () => {
    const s = open(via, { ...RECONNECT, auth: { pid: 'not-a-session' } });
    await waitEvent(s, 'connect');
    const id = s.id;
    const back = waitEvent(s, 'connect', { timeout: 10000 });
    const greeted = waitEvent(s, 'auth', { timeout: 10000 });
    proxy.cut();
    await delay(300);
    proxy.open();
    await back;
    assert.equal((await greeted)[0].pid, 'not-a-session');
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, id);
  });
});
