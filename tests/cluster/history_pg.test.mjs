// Shared history on PostgreSQL: two noom nodes (--redis) with one --db postgres://...
// A message sent on one node is in the history a newcomer on the other receives, stored
// exactly once; PostgreSQL restarted mid-run: chat goes on, the outage is logged once,
// history answers with what the node has, and the waiting messages are written after.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeClients, connect, missing, once, startNode, startRedis, stopNodes } from './lib/cluster.mjs';
import { pgMissing, startPostgres } from './lib/postgres.mjs';

const skip = missing({ binaries: ['noom'] }) || pgMissing() || false;
const ack = (s, ...args) => s.timeout(10000).emitWithAck(...args);

describe('history shared through PostgreSQL by two nodes', { skip }, () => {
  let redis, pg, N1, N2;
  before(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    const extra = ['--db', pg.url, '--msg-burst', '1000', '--msg-rate', '1000'];
    [N1, N2] = await Promise.all([startNode('app', redis.url, { name: 'n1', extra }), startNode('app', redis.url, { name: 'n2', extra })]);
  });
  after(async () => {
    closeClients();
    await stopNodes(N1, N2);
    if (redis) await redis.stop();
    if (pg) pg.destroy();
  });

  test('both nodes migrate one schema and say where history is', () => {
    assert.deepEqual(pg.query("SELECT value FROM noom_meta WHERE key='schema_version'"), [['1']]);
    for (const n of [N1, N2]) assert.match(n.output(), new RegExp(`history: PostgreSQL at 127\\.0\\.0\\.1:${pg.port}/postgres`));
    assert.doesNotMatch(N1.output() + N2.output(), /noom@/, 'the URL\'s user part is not logged');
  });

  test('a message sent on one node is in the history a newcomer on the other gets, stored once', async () => {
    const room = `pg-${process.pid}`;
    const [alice, watcher] = await Promise.all([connect(N1.url), connect(N2.url)]);
    await ack(alice, 'enter_room', 'alice', room);
    await ack(watcher, 'enter_room', 'watcher', room);
    const texts = ['one 😀', 'two "quoted"', '<script>x</script>', 'ü'.repeat(1000)];
    for (const t of texts) {
      const got = once(watcher, 'new_message');
      assert.equal(await ack(alice, 'new_message', t, room), undefined);
      const [line, r, msg] = await got;
      assert.equal(line, `alice: ${t}`);
      assert.equal(r, room);
      assert.equal(msg.text, t);
    }
    // A newcomer on the other node: every message, in order, with alice's ids.
    const bob = await connect(N2.url);
    const res = await ack(bob, 'enter_room', 'bob', room);
    assert.deepEqual(res.history.map((m) => [m.nickname, m.text]), texts.map((t) => ['alice', t]));
    // And back: bob's reply is in the history of a newcomer on node 1.
    // (alice, on node 1, hears it first: node 1 then holds it, committed or not.)
    const heard = once(alice, 'new_message');
    await ack(bob, 'new_message', 'reply from n2', room);
    await heard;
    const carol = await connect(N1.url);
    const res2 = await ack(carol, 'enter_room', 'carol', room);
    assert.deepEqual(res2.history.map((m) => m.text), [...texts, 'reply from n2']);
    assert.deepEqual(res2.history.slice(0, 4), res.history);
    // Paging on node 2 reads what node 1 stored.
    const page = await ack(bob, 'history', room, { before: res2.history[2].id, limit: 10 });
    assert.deepEqual(page.messages, res2.history.slice(0, 2));
    // Stored exactly once each (the writer's batch is at most ~20 ms behind: poll the table).
    const ids = res2.history.map((m) => m.id);
    let rows;
    for (let i = 0; i < 100; i++) {
      rows = pg.query(`SELECT id, count(*) FROM noom_messages WHERE room='${room}' GROUP BY id ORDER BY id`);
      if (rows.length === ids.length) break;
      await new Promise((r) => setTimeout(r, 50)); // polling an external store: no event to await
    }
    assert.deepEqual(rows, ids.map((id) => [id, '1']));
  });

  test('PostgreSQL restarted mid-run: chat goes on, logged once, waiting messages written after', async () => {
    const room = `pg-restart-${process.pid}`;
    const [ann, ben] = await Promise.all([connect(N1.url), connect(N2.url)]);
    await ack(ann, 'enter_room', 'ann', room);
    await ack(ben, 'enter_room', 'ben', room);
    const first = once(ben, 'new_message');
    await ack(ann, 'new_message', 'before the outage', room);
    await first;
    pg.stop();
    // While it is down: chat works live on both nodes.
    const got = once(ben, 'new_message');
    assert.equal(await ack(ann, 'new_message', 'during the outage', room), undefined);
    assert.equal((await got)[0], 'ann: during the outage');
    await N1.waitFor(/history: PostgreSQL store unavailable/);
    // A newcomer gets what the node has (its window), not an error.
    const cy = await connect(N1.url);
    const res = await ack(cy, 'enter_room', 'cy', room);
    assert.deepEqual(res.history.map((m) => m.text), ['before the outage', 'during the outage']);
    pg.start();
    await N1.waitFor(/history: PostgreSQL store available again; writing \d+ waiting messages/, 15000);
    assert.equal(N1.output().match(/PostgreSQL store unavailable/g).length, 1, 'the outage is logged once');
    const heard = once(ben, 'new_message');
    await ack(ann, 'new_message', 'after the outage', room);
    await heard;
    const dee = await connect(N2.url);
    const res2 = await ack(dee, 'enter_room', 'dee', room);
    assert.deepEqual(res2.history.map((m) => m.text), ['before the outage', 'during the outage', 'after the outage']);
    let rows;
    for (let i = 0; i < 100; i++) {
      rows = pg.query(`SELECT text FROM noom_messages WHERE room='${room}' ORDER BY id`);
      if (rows.length === 3) break;
      await new Promise((r) => setTimeout(r, 50)); // polling an external store: no event to await
    }
    assert.deepEqual(rows.map((r) => r[0]), ['before the outage', 'during the outage', 'after the outage']);
  });
});
