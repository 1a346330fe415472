// Redis killed and restarted under two running noom nodes: local delivery keeps working
// while it is away, each node logs the loss once, cross-node operations fail fast with
// the local part (no queueing), and once Redis is back the nodes reconnect, resubscribe
// and deliver across nodes again, without being restarted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertAcrossAgain, call, connect, missing, once, startNode, startRedis, startRedisAndTwoNodes, stopAll, stopNodes,
  trioInRoom,
} from './lib/cluster.mjs';

const skip = missing() || false;
let redis, A, B;

describe('Redis goes away and comes back', { skip }, () => {
  before(async () => ({ redis, A, B } = await startRedisAndTwoNodes()));
  after(() => stopAll(redis, A, B));

  test('delivery resumes across nodes after a restart, local delivery never stops', async () => {
    const r = 'restart-room';
    const [a, a2, b] = await trioInRoom(A, B, r); // across nodes before

    // Redis dies (no goodbye: SIGKILL). Both nodes notice and say so.
    const [ma, mb] = [A.mark(), B.mark()];
    const port = redis.port;
    await redis.stop('SIGKILL');
    await Promise.all([A.waitFor(/lost Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*\): local delivery goes on/, 5000, ma),
      B.waitFor(/lost Redis at/, 5000, mb)]);

    // Local delivery goes on; the emits themselves succeed (best effort: dropped, not
    // queued), many of them, without the node growing a queue.
    const got = once(a2, 'm');
    await call(a, 'emit', { event: 'm', args: ['during'], to: r });
    assert.deepEqual(await got, ['during']);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 50; i++) assert.equal(await call(a, 'emit', { event: 'flood', args: [big], to: 'nobody-here' }), true);

    // Queries answer at once with the local part and "closed".
    const fetched = await call(a, 'fetch', { in: r });
    assert.equal(fetched.err, 'closed');
    assert.deepEqual(fetched.sockets.map((s) => s.id).sort(), [a.id, a2.id].sort());
    assert.deepEqual(await call(a, 'server-emit-ack', { event: 'whoareyou' }), { err: 'closed', responses: [] });
    assert.equal(await call(a, 'server-count'), 1);

    // Redis comes back on the same port: both nodes reconnect and resubscribe by
    // themselves.
    redis = await startRedis(port);
    await Promise.all([A.waitFor(/reconnected to redis:\/\/127\.0\.0\.1:\d+ and resubscribed/, 10000, ma),
      B.waitFor(/reconnected to .* and resubscribed/, 10000, mb)]);

    await assertAcrossAgain([a, a2, b], r);
    const again = await call(a, 'fetch', { in: r });
    assert.equal(again.err, null);
    assert.deepEqual(again.sockets.map((s) => s.id).sort(), [a.id, a2.id, b.id].sort());

    // One line per outage, however many reconnection attempts failed meanwhile.
    assert.equal(A.output().slice(ma).match(/lost Redis/g).length, 1);
    assert.equal(B.output().slice(mb).match(/lost Redis/g).length, 1);
    assert.equal(A.child.exitCode, null);
  });

  test('a node started while Redis is down serves locally and joins once Redis is up', async () => {
    const port = redis.port;
    const [ma, mb] = [A.mark(), B.mark()];
    await redis.stop('SIGKILL');
    const C = await startNode('noom', `redis://127.0.0.1:${port}`, { name: 'C', waitConnected: false });
    try {
      await C.waitFor(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ .*serving this process only/);
      const [c1, c2] = await Promise.all([connect(C.url), connect(C.url)]);
      await call(c2, 'join', 'solo');
      const got = once(c2, 'm');
      await call(c1, 'emit', { event: 'm', args: [1], to: 'solo' });
      assert.deepEqual(await got, [1]);
      redis = await startRedis(port);
      await C.waitFor(/redis adapter: connected to/, 10000);
      await Promise.all([A.waitFor(/reconnected to/, 10000, ma), B.waitFor(/reconnected to/, 10000, mb)]);
      assert.equal(await call(c1, 'server-count'), 3);
      const b = await connect(B.url);
      await call(b, 'join', 'solo');
      const fromB = once(c2, 'm');
      await call(b, 'emit', { event: 'm', args: [2], to: 'solo', broadcast: true });
      assert.deepEqual(await fromB, [2]);
    } finally {
      await stopNodes(C);
    }
  });
});
