// Sticky sessions through nginx: deploy/nginx.conf (Debian's nginx, run as a child with
// the upstream ports rewritten) in front of two noom nodes on Redis. ip_hash keys on the
// client address, so clients bind different loopback source addresses (127.0.X.1, all on
// lo) to land on different nodes. Long-polling clients (many requests per session) and
// WebSocket clients keep reaching the node that holds their session, and talk across
// nodes. A control run without ip_hash shows polling breaks without stickiness.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { call, closeClients, connect, io, missing, once, startNginx, startNode, startRedis, stopNodes } from './lib/cluster.mjs';

const skip = missing({ nginx: true }) || false;
let redis, A, B, proxy;
const agents = [];

// Client options that make every request of the client leave from address addr.
function from(addr, transports) {
  const agent = new http.Agent({ localAddress: addr, keepAlive: true });
  agents.push(agent);
  return { agent, localAddress: addr, transports };
}

describe('noom nodes behind deploy/nginx.conf', { skip }, () => {
  const byNode = {}; // node name -> a source address that ip_hash sends there

  before(async () => {
    redis = await startRedis();
    [A, B] = await Promise.all([startNode('noom', redis.url, { name: 'A' }), startNode('noom', redis.url, { name: 'B' })]);
    proxy = await startNginx([A.port, B.port]);
    // ip_hash on IPv4 uses the first three octets: find one address per node.
    for (let x = 0; x < 64 && Object.keys(byNode).length < 2; x++) {
      const addr = `127.0.${x}.1`;
      const s = await connect(proxy.url, from(addr, ['websocket']));
      const { node } = await call(s, 'whoami');
      byNode[node] ??= addr;
      s.close();
    }
  });
  after(async () => {
    closeClients();
    for (const a of agents) a.destroy();
    if (proxy) await proxy.stop();
    await stopNodes(A, B);
    if (redis) await redis.stop();
  });

  test('ip_hash spreads client addresses over both nodes', () => {
    assert.deepEqual(Object.keys(byNode).sort(), ['A', 'B']);
  });

  test('a long-polling client stays on its node for its whole session', async () => {
    const p = await connect(proxy.url, from(byNode.A, ['polling']));
    assert.equal(p.io.engine.transport.name, 'polling');
    // Every command is a POST plus the GET that carries the answer: all on node A.
    for (let i = 0; i < 10; i++) assert.equal((await call(p, 'whoami')).node, 'A');
    assert.match(A.output(), /connected to/);
  });

  test('polling and WebSocket clients on different nodes chat through the proxy', async () => {
    const p = await connect(proxy.url, from(byNode.A, ['polling']));
    const w = await connect(proxy.url, from(byNode.B, ['websocket']));
    assert.equal((await call(p, 'whoami')).node, 'A');
    assert.equal((await call(w, 'whoami')).node, 'B');
    await call(p, 'join', 'proxied');
    await call(w, 'join', 'proxied');
    let got = once(w, 'chat');
    await call(p, 'emit', { event: 'chat', args: ['from polling', Buffer.from([5])], to: 'proxied', broadcast: true });
    const [text, bin] = await got;
    assert.equal(text, 'from polling');
    assert.deepEqual([...bin], [5]);
    got = once(p, 'chat');
    await call(w, 'emit', { event: 'chat', args: ['from websocket'], to: 'proxied', broadcast: true });
    assert.deepEqual(await got, ['from websocket']);
  });

  test('the default client (polling, then the WebSocket upgrade) works through the proxy', async () => {
    const s = await connect(proxy.url, from(byNode.B));
    if (s.io.engine.transport.name !== 'websocket') await once(s.io.engine, 'upgrade');
    assert.equal(s.io.engine.transport.name, 'websocket');
    assert.equal((await call(s, 'whoami')).node, 'B');
  });
});

describe('the same proxy without ip_hash (control)', { skip }, () => {
  let redis2, X, Y, rr;
  before(async () => {
    redis2 = await startRedis();
    [X, Y] = await Promise.all([startNode('noom', redis2.url, { name: 'X' }), startNode('noom', redis2.url, { name: 'Y' })]);
    // Round robin over one worker: consecutive requests alternate between the nodes.
    rr = await startNginx([X.port, Y.port], {
      transform: (c) => c.replace(/^\s*ip_hash;\s*$/m, '').replace(/worker_processes\s+\w+;/, 'worker_processes 1;'),
    });
  });
  after(async () => {
    closeClients();
    if (rr) await rr.stop();
    await stopNodes(X, Y);
    if (redis2) await redis2.stop();
  });

  test('long-polling fails: the second request reaches a node that does not know the session', async () => {
    assert.doesNotMatch(rr.conf, /^\s*ip_hash;/m);
    const s = io(rr.url, { forceNew: true, transports: ['polling'], reconnection: false });
    try {
      const [err] = await once(s, 'connect_error');
      assert.match(err.message, /xhr (post|poll) error/);
    } finally {
      s.close();
    }
  });
});
