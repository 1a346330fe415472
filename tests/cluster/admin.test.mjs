// The admin UI over a mixed fleet: build/noom --redis --admin and a Node.js socket.io 4.8
// server with @socket.io/redis-adapter and instrument() (@socket.io/admin-ui 0.5.1) on one
// Redis. Everything the admin namespace sends is a broadcast through the adapter, so an
// admin (socket.io-client, as the UI connects) on either node sees both servers' stats,
// the sockets of both, and can act on a socket of the other node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO, closeClients, connect, io, missing, once, startNode, startRedis, stopNodes, until } from './lib/cluster.mjs';

const skip = missing({ binaries: ['noom'] }) || false;
let redis, N, J;

// The Node node: tests/support/ref-admin-node.mjs (instrument() with auth disabled, as
// noom --admin-no-auth), in its own process so that stopping it stops instrument()'s timer.
async function startNodeJs(redisUrl) {
  const c = spawn(process.execPath, [join(REPO, 'tests/support/ref-admin-node.mjs'), '--redis', redisUrl, '--name', 'node-1'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stderr.setEncoding('utf8').on('data', (d) => { out += d; });
  const exited = new Promise((res) => c.once('exit', res));
  const port = await new Promise((res, rej) => {
    c.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    c.once('exit', () => rej(new Error(`ref-admin-node exited: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, async stop() { c.kill('SIGTERM'); await exited; } };
}

function admin(url) {
  const s = io(`${url}/admin`, { forceNew: true, reconnection: false, transports: ['websocket'] });
  const all = once(s, 'all_sockets', 8000);
  all.catch(() => {});
  return { s, all };
}

describe('the admin UI sees a noom + Node.js fleet', { skip }, () => {
  before(async () => {
    redis = await startRedis();
    N = await startNode('app', redis.url, { name: 'noom', extra: ['--admin', '--admin-no-auth', '--admin-server-id', 'noom-1'] });
    J = await startNodeJs(redis.url);
  });
  after(async () => {
    closeClients();
    await J?.stop();
    await stopNodes(N);
    if (redis) await redis.stop();
  });

  test('an admin on noom: both servers in server_stats, both nodes\' sockets, actions across', async () => {
    const onNode = await connect(J.url, { transports: ['websocket'] });
    await onNode.timeout(5000).emitWithAck('enter_room', 'x', 'fleet-room');
    const { s, all } = admin(N.url);
    const seen = new Set();
    await until(s, 'server_stats', (st) => { seen.add(st.serverId); return seen.has('noom-1') && seen.has('node-1'); }, 8000);

    // all_sockets is a fetchSockets across the fleet: the Node node's client is there,
    // with its room and the clientId/transport instrument() keeps in socket.data._admin.
    const [list] = await all;
    const remote = list.find((x) => x.id === onNode.id);
    assert.ok(remote, 'the Node node\'s socket is listed');
    assert.ok(remote.rooms.includes('fleet-room'));
    assert.equal(remote.transport, 'websocket');

    // The Node node reports its own comings and goings to the admin on noom.
    const connected = until(s, 'socket_connected', (x) => x.nsp === '/' && x.id !== onNode.id, 8000);
    const second = await connect(J.url, { transports: ['websocket'] });
    assert.equal((await connected)[0].id, second.id);

    // An action from the admin on noom reaches a socket of the Node node.
    const gone = once(onNode, 'disconnect', 8000);
    s.emit('_disconnect', '/', false, onNode.id);
    assert.equal((await gone)[0], 'io server disconnect');
    s.close();
  });

  test('an admin on the Node node wakes noom\'s reporting: its stats and sockets arrive', async () => {
    const { s } = admin(J.url);
    // noom has no admin of its own: it notices the remote one within a stats interval.
    await until(s, 'server_stats', (st) => st.serverId === 'noom-1', 8000);
    const connected = until(s, 'socket_connected', (x) => x.nsp === '/', 8000);
    const onNoom = await connect(N.url, { transports: ['websocket'] });
    assert.equal((await connected)[0].id, onNoom.id);
    const joined = until(s, 'room_joined', (nsp, room, id) => room === 'from-noom' && id === onNoom.id, 8000);
    await onNoom.timeout(5000).emitWithAck('enter_room', 'y', 'from-noom');
    await joined;
    const received = until(s, 'event_received', (nsp, id, args) => id === onNoom.id && args[0] === 'nickname', 8000);
    onNoom.emit('nickname', 'yves');
    assert.deepEqual((await received)[2], ['nickname', 'yves']);
    s.close();
  });
});
