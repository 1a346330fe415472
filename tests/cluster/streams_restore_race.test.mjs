// A restore must not lose the entries the reader applied while its XRANGE answer was on
// the way (found by rolling_restart.test.mjs, which lost one message in about one run of
// five). The restoring node's XRANGE runs on Redis before some XADD, but the XREAD answer
// with that entry reaches the node first: the reader delivers it to the room while the
// socket is not back in it, and the XRANGE answer does not list it. Here node Y reaches
// Redis through a proxy that holds the answer to the first XRANGE ... COUNT (the restore's
// scan) for HOLD_MS while a sender on node X keeps broadcasting: every entry added in
// that time is such an entry. The receiver must still get every message once, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { closeClients, connect, io, missing, once, startNode, startRedis, stopNodes } from './lib/cluster.mjs';
import { cuttableProxy } from '../integration/lib/proxy.mjs';

const skip = missing({ binaries: ['examples/echo'] }) || false;
const HOLD_MS = 400;
const PACE_MS = 10;

// A TCP proxy to Redis that holds the server's bytes on a connection for HOLD_MS after
// the client sent the first XRANGE with COUNT (later ones pass at once).
function holdingRedisProxy(redisPort) {
  let held = false;
  const server = net.createServer((down) => {
    const up = net.connect(redisPort, '127.0.0.1');
    let holdUntil = 0;
    const queue = [];
    let flushing = false;
    const flush = () => {
      if (flushing) return;
      const wait = holdUntil - Date.now();
      if (wait > 0) {
        flushing = true;
        setTimeout(() => { flushing = false; flush(); }, wait);
        return;
      }
      while (queue.length) down.write(queue.shift());
    };
    down.on('data', (d) => {
      if (!held && /XRANGE[\s\S]*COUNT/i.test(d.toString('latin1'))) {
        held = true;
        holdUntil = Date.now() + HOLD_MS;
      }
      up.write(d);
    });
    up.on('data', (d) => { queue.push(d); flush(); });
    const kill = () => { down.destroy(); up.destroy(); };
    down.on('error', kill).on('close', kill);
    up.on('error', kill).on('close', kill);
  });
  return {
    held: () => held,
    listen: () => new Promise((res) => server.listen(0, '127.0.0.1', () => res(server.address().port))),
    close: () => new Promise((res) => { server.close(res); }),
  };
}

describe('streams adapter: entries added while a restore reads the stream', { skip }, () => {
  let redis, rproxy, X, Y;
  before(async () => {
    redis = await startRedis();
    rproxy = holdingRedisProxy(redis.port);
    const rport = await rproxy.listen();
    const ping = ['--ping-interval', '300', '--ping-timeout', '300'];
    [X, Y] = await Promise.all([
      startNode('echo', redis.url, { name: 'X', recoveryMs: 10000, extra: ping }),
      startNode('echo', `redis://127.0.0.1:${rport}`, { name: 'Y', recoveryMs: 10000, extra: ping }),
    ]);
  });
  after(async () => {
    closeClients();
    await stopNodes(X, Y);
    if (rproxy) await rproxy.close();
    if (redis) await redis.stop();
  });

  test('are delivered to the restored socket once, in order', async () => {
    const proxy = cuttableProxy(X.port); // cut at node X, reopened towards node Y
    const port = await proxy.listen();
    const receiver = io(`http://127.0.0.1:${port}`, {
      forceNew: true, transports: ['websocket'], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200,
      randomizationFactor: 0,
    });
    const timers = [];
    try {
      await once(receiver, 'connect');
      const room = 'race';
      assert.ok(await receiver.timeout(5000).emitWithAck('join', room));
      const id = receiver.id;
      const got = [];
      receiver.on('bcast', (msg) => got.push(msg.n));
      const sender = await connect(X.url);
      // A message every PACE_MS; sentAtLeast(k) resolves once k are sent.
      let n = 0;
      const waiters = [];
      const sentAtLeast = (k) => new Promise((res) => waiters.push([k, res]));
      timers.push(setInterval(() => {
        sender.emit('bcast', { room, n: n++ });
        for (const w of waiters.filter(([k]) => n >= k)) { waiters.splice(waiters.indexOf(w), 1); w[1](); }
      }, PACE_MS));
      while (got.length < 10) await once(receiver, 'bcast');
      const reconnected = once(receiver, 'connect', 10000);
      proxy.cut();
      // A few messages while it is away, then it comes back on Y.
      await sentAtLeast(n + 20);
      proxy.open(Y.port);
      await reconnected;
      assert.equal(receiver.recovered, true);
      assert.equal(receiver.id, id);
      assert.ok(rproxy.held(), 'the restore\'s XRANGE answer was held');
      // Past the hold: the messages sent during it must be there too.
      const last = n + 20;
      while (!got.includes(last)) await once(receiver, 'bcast', 5000);
      clearInterval(timers.pop());
      const sent = n;
      assert.equal(await sender.timeout(5000).emitWithAck('echo', 'done'), 'done');
      while (got[got.length - 1] < sent - 1) await once(receiver, 'bcast', 5000);
      assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i), 'every message once, in order');
    } finally {
      for (const t of timers) clearInterval(t);
      receiver.close();
      await proxy.close();
    }
  });
});
