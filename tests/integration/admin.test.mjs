// The Socket.IO admin UI's protocol (@socket.io/admin-ui 0.5.1) against build/noom --admin:
// socket.io-client 4.8 connects to /admin exactly as the UI does (auth {username,
// password}, then {sessionId}), and the events the UI reads and the actions it asks are
// checked while app clients come and go.
//
// NOOM_REF=1 runs the same assertions against Node socket.io 4.8 + instrument() from the
// npm package (the app clients' enter_room is a three-line handler there), so where the
// two should behave alike they are held to the same test.
//
// Run: cd tests && node --test integration/admin.test.mjs
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startNoom, next, until, noOffset, BUILD, REPO } from './lib/noom.mjs';
import { RawConn } from './lib/rawhttp.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');
const bcrypt = require('../node_modules/bcryptjs');
const REF = Boolean(process.env.NOOM_REF) && process.env.NOOM_REF !== '0';

const USER = 'admin';
const PASSWORD = 'correct horse';
const HASH = bcrypt.hashSync(PASSWORD, 4); // $2a$04$..., generated here, never stored

// One server under test: noom with --admin flags, or Node socket.io + instrument().
async function startTarget({ readonly = false, mode = 'development' } = {}) {
  if (!REF) {
    const flags = ['--log-level', 'warn', '--admin', '--admin-user', USER, '--admin-password-hash', HASH,
      '--admin-mode', mode, '--admin-server-id', 'noom-under-test'];
    if (readonly) flags.push('--admin-readonly');
    const srv = await startNoom(flags);
    return { url: srv.url, stop: () => srv.stop() };
  }
  const { Server } = require('../node_modules/socket.io');
  const { instrument } = require('../node_modules/@socket.io/admin-ui');
  const http = createServer();
  const ioServer = new Server(http);
  ioServer.on('connection', (s) => {
    s.on('enter_room', (nickname, room, cb) => { s.join(room); cb?.({ room }); });
    s.on('nickname', (nick) => { s.data.nickname = nick; }); // noom keeps {nickname} in socket.data
  });
  instrument(ioServer, { auth: { type: 'basic', username: USER, password: HASH }, readonly, mode,
    serverId: 'noom-under-test' });
  await new Promise((res) => http.listen(0, '127.0.0.1', res));
  return { url: `http://127.0.0.1:${http.address().port}`, stop: () => new Promise((res) => { ioServer.close(); res(); }) };
}

const sockets = [];
function closeAll() { while (sockets.length) sockets.pop().close(); }

// An admin as the UI makes it: listeners first (config and session come with the connect).
function admin(url, auth = { username: USER, password: PASSWORD }, transports = ['polling', 'websocket']) {
  const s = io(`${url}/admin`, { forceNew: true, reconnection: false, auth, transports });
  sockets.push(s);
  const got = { config: next(s, 'config'), session: next(s, 'session', 8000), all: next(s, 'all_sockets') };
  for (const p of Object.values(got)) p.catch(() => {}); // awaited only by the tests that want them
  return { s, got };
}

async function appClient(url, opts = {}) {
  const c = io(url, { forceNew: true, reconnection: false, transports: ['websocket'], ...opts });
  sockets.push(c);
  await next(c, 'connect');
  return c;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
let seq = 0;
const roomName = () => `adm-${process.pid}-${++seq}`;

describe('admin UI protocol', () => {
  let t;
  before(async () => { t = await startTarget(); });
  after(async () => { closeAll(); await t.stop(); });

  test('wrong password or user: connect_error "invalid credentials"', async () => {
    for (const auth of [{ username: USER, password: 'nope' }, { username: 'root', password: PASSWORD }, {}]) {
      const { s } = admin(t.url, auth);
      const [err] = await next(s, 'connect_error', 8000);
      assert.equal(err.message, 'invalid credentials');
    }
  });

  test('login: session id, config with every feature, all_sockets, then server_stats', async () => {
    const { s, got } = admin(t.url);
    const [sessionId] = await got.session;
    assert.match(sessionId, /^[0-9a-f]{16}$/);
    const [config] = await got.config;
    assert.deepEqual(config.supportedFeatures,
      ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS', 'ALL_EVENTS']);
    const [all] = await got.all;
    assert.ok(Array.isArray(all));
    const me = all.find((x) => x.id === s.id);
    assert.ok(me, 'the admin itself is listed');
    assert.equal(me.nsp, '/admin');
    assert.equal(me.handshake.auth, undefined, 'the password is never echoed');
    const [stats] = await next(s, 'server_stats', 5000);
    assert.deepEqual(Object.keys(stats).sort(), ['aggregatedEvents', 'clientsCount', 'hostname', 'namespaces', 'pid',
      'pollingClientsCount', 'serverId', 'uptime']);
    assert.equal(stats.serverId, 'noom-under-test');
    assert.equal(typeof stats.hostname, 'string');
    assert.equal(typeof stats.pid, 'number');
    assert.equal(typeof stats.uptime, 'number');
    assert.ok(stats.clientsCount >= 1);
    assert.equal(typeof stats.pollingClientsCount, 'number');
    assert.ok(Array.isArray(stats.aggregatedEvents));
    assert.ok(stats.namespaces.some((n) => n.name === '/admin' && n.socketsCount >= 1));

    // The UI's next visit gives the session id instead of the password.
    const again = admin(t.url, { sessionId });
    await next(again.s, 'connect');
    await again.got.config;
    const bad = admin(t.url, { sessionId: '0123456789abcdef' });
    assert.equal((await next(bad.s, 'connect_error', 8000))[0].message, 'invalid credentials');
  });

  test('app clients: socket_connected, room_joined, event_received, socket_disconnected', async () => {
    const { s, got } = admin(t.url, undefined, ['websocket']);
    await got.config;
    await got.all;
    const connected = next(s, 'socket_connected');
    const c = await appClient(t.url);
    const [sock, date] = await connected;
    // serialize()'s shape, key for key (auth and the rest of the handshake left out).
    assert.deepEqual(Object.keys(sock).sort(), ['clientId', 'data', 'handshake', 'id', 'nsp', 'rooms', 'transport']);
    assert.deepEqual(Object.keys(sock.handshake).sort(),
      ['address', 'headers', 'issued', 'query', 'secure', 'time', 'url', 'xdomain']);
    assert.deepEqual(sock.data, {});
    assert.equal(sock.id, c.id);
    assert.equal(sock.nsp, '/');
    assert.equal(sock.transport, 'websocket');
    assert.equal(typeof sock.clientId, 'string');
    assert.ok(sock.rooms.includes(c.id));
    assert.equal(sock.handshake.address.includes('127.0.0.1'), true);
    assert.equal(typeof sock.handshake.headers, 'object');
    assert.match(date, ISO);

    const room = roomName();
    const joined = until(s, 'room_joined', (nsp, r, id) => r === room);
    await c.timeout(5000).emitWithAck('enter_room', 'zed', room);
    const [nsp, , id, when] = await joined;
    assert.deepEqual([nsp, id], ['/', c.id]);
    assert.match(when, ISO);

    const received = until(s, 'event_received', (n, id2, args) => id2 === c.id && args[0] === 'nickname');
    const updated = until(s, 'socket_updated', (u) => u.id === c.id && u.data);
    c.emit('nickname', 'zoe');
    const [rn, , rargs, rdate] = await received;
    assert.deepEqual([rn, rargs], ['/', ['nickname', 'zoe']]);
    assert.match(rdate, ISO);
    // socket.data changed: socket_updated carries it (without instrument()'s _admin).
    assert.deepEqual((await updated)[0], { id: c.id, nsp: '/', data: { nickname: 'zoe' } });

    // A connected admin also lists the sockets that were there before it came.
    const late = admin(t.url);
    const [all] = await late.got.all;
    const listed = all.find((x) => x.id === c.id);
    assert.ok(listed && listed.rooms.includes(room), 'all_sockets lists the app client with its room');

    const cid = c.id; // socket.io-client forgets it on close
    const gone = until(s, 'socket_disconnected', (n, id2) => id2 === cid);
    c.close();
    const [dn, , reason, ddate] = await gone;
    assert.deepEqual([dn, reason], ['/', 'client namespace disconnect']);
    assert.match(ddate, ISO);
  });

  test('aggregatedEvents count connections and packets', async () => {
    const { s, got } = admin(t.url);
    await got.config;
    await appClient(t.url);
    const [stats] = await until(s, 'server_stats', (st) => st.aggregatedEvents.some((e) => e.type === 'rawConnection'), 8000);
    const conn = stats.aggregatedEvents.find((e) => e.type === 'rawConnection');
    assert.ok(conn.count >= 1 && typeof conn.timestamp === 'number');
  });

  test('actions: join, leave, emit and _disconnect reach the app client', async () => {
    const { s, got } = admin(t.url, undefined, ['websocket']);
    await got.config;
    const c = await appClient(t.url);
    const extra = roomName();
    const joined = until(s, 'room_joined', (n, r, id) => r === extra && id === c.id);
    s.emit('join', '/', extra, c.id);
    await joined;
    const left = until(s, 'room_left', (n, r, id) => r === extra && id === c.id);
    s.emit('leave', '/', extra, c.id);
    await left;

    const hello = next(c, 'hello');
    const sent = until(s, 'event_sent', (n, id, args) => id === c.id && args[0] === 'hello');
    s.emit('emit', '/', c.id, 'hello', { n: 1 });
    // noom recovers by default: a socket emit is stored and carries its offset.
    assert.deepEqual(REF ? await hello : noOffset(await hello), [{ n: 1 }]);
    assert.deepEqual((await sent)[2], ['hello', { n: 1 }]);

    const dropped = next(c, 'disconnect');
    s.emit('_disconnect', '/', false, c.id);
    assert.deepEqual((await dropped)[0], 'io server disconnect');
  });
});

describe('admin UI protocol, read-only', () => {
  let t;
  before(async () => { t = await startTarget({ readonly: true }); });
  after(async () => { closeAll(); await t.stop(); });

  test('config offers no action and _disconnect / join are ignored', async () => {
    const { s, got } = admin(t.url, undefined, ['websocket']);
    const [config] = await got.config;
    assert.deepEqual(config.supportedFeatures, ['AGGREGATED_EVENTS', 'ALL_EVENTS']);
    const c = await appClient(t.url);
    let dropped = false;
    c.on('disconnect', () => { dropped = true; });
    let joined = false;
    s.on('room_joined', (n, r) => { if (r === 'ro-room') joined = true; });
    s.emit('_disconnect', '/', false, c.id);
    s.emit('join', '/', 'ro-room', c.id);
    // Two stats ticks later the server has long read both requests.
    await next(s, 'server_stats', 5000);
    await next(s, 'server_stats', 5000);
    assert.equal(dropped, false);
    assert.equal(joined, false);
    assert.equal(c.connected, true);
  });
});

describe('admin UI protocol, production mode', () => {
  let t;
  before(async () => { t = await startTarget({ mode: 'production' }); });
  after(async () => { closeAll(); await t.stop(); });

  test('stats only: no ALL_EVENTS, no all_sockets, no socket_connected', async () => {
    const { s, got } = admin(t.url, undefined, ['websocket']);
    const [config] = await got.config;
    assert.deepEqual(config.supportedFeatures.at(-1), 'AGGREGATED_EVENTS');
    let verbose = false;
    s.on('all_sockets', () => { verbose = true; });
    s.on('socket_connected', () => { verbose = true; });
    await appClient(t.url);
    const [stats] = await next(s, 'server_stats', 5000);
    assert.ok(stats.namespaces.some((n) => n.name === '/'));
    await next(s, 'server_stats', 5000);
    assert.equal(verbose, false);
  });
});

describe('noom --admin flags', { skip: REF ? 'noom only' : false }, () => {
  test('without credentials noom refuses to start; --admin-no-auth starts with a warning', async () => {
    const r = spawnSync(join(BUILD, 'noom'), ['--port', '0', '--db', ':memory:', '--admin'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--admin needs --admin-user and --admin-password-hash/);
    const bad = spawnSync(join(BUILD, 'noom'), ['--port', '0', '--db', ':memory:', '--admin', '--admin-user', 'a',
      '--admin-password-hash', 'plaintext'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not a bcrypt hash/);
    const srv = await startNoom(['--admin', '--admin-no-auth']);
    try {
      await srv.waitLog(/authentication is disabled/);
      const { s, got } = admin(srv.url, {});
      await got.config;
      assert.equal(s.connected, true);
    } finally {
      closeAll();
      await srv.stop();
    }
  });

  test('--admin-ui DIR serves the UI at /admin/, and nothing outside DIR', async () => {
    const dir = join(REPO, 'tests/node_modules/@socket.io/admin-ui/ui/dist');
    const srv = await startNoom(['--admin', '--admin-no-auth', '--admin-ui', dir, '--log-level', 'error']);
    try {
      const redirect = await fetch(`${srv.url}/admin`, { redirect: 'manual' });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.get('location'), '/admin/');
      const index = await fetch(`${srv.url}/admin/`);
      assert.equal(index.status, 200);
      assert.match(index.headers.get('content-type'), /^text\/html/);
      assert.match(await index.text(), /<title>Socket\.IO Admin UI<\/title>/);
      const js = await fetch(`${srv.url}/admin/favicon.png`);
      assert.equal(js.status, 200);
      assert.equal(js.headers.get('content-type'), 'image/png');
      // Raw requests: fetch would normalise the dots away.
      for (const path of ['/admin/../../../../etc/passwd', '/admin/.%2e/x', '/admin/nope.js', '/administrator']) {
        const c = await RawConn.open(srv.port);
        await c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        const r = await c.readResponse();
        c.destroy();
        assert.notEqual(r.status, 200, path);
      }
    } finally {
      await srv.stop();
    }
  });

  test('at most 4 password checks run at once: more logins are refused, visibly', async () => {
    // Cost 11: each check takes long enough that all ten CONNECTs arrive while the first
    // four are still on the thread pool.
    const slow = bcrypt.hashSync(PASSWORD, 11);
    const srv = await startNoom(['--admin', '--admin-user', USER, '--admin-password-hash', slow, '--log-level', 'warn']);
    try {
      const all = Array.from({ length: 10 }, () => admin(srv.url, undefined, ['websocket']).s);
      const outcomes = await Promise.all(all.map((s) => new Promise((res) => {
        s.once('connect', () => res('ok'));
        s.once('connect_error', (err) => res(err.message));
      })));
      assert.equal(outcomes.filter((o) => o === 'ok').length, 4, outcomes.join(', '));
      assert.equal(outcomes.filter((o) => o === 'too many login attempts, try again').length, 6);
      await srv.waitLog(/logins are being checked already, refusing one/);
    } finally {
      closeAll();
      await srv.stop();
    }
  });
});
