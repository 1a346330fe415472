// A rolling restart loses no message (issue 16): two build/noom nodes on --redis-streams
// (connection-state recovery on by default) behind deploy/nginx.conf (ip_hash, passive
// failover), a real redis-server and nginx started here. Receivers (socket.io-client 4.8,
// from different loopback addresses so that ip_hash spreads them over both nodes) sit in
// one chat room; a sender broadcasts numbered `new_message`s every 20 ms. Node A is
// stopped with SIGTERM (the drain: listener closed, sessions closed as a lost transport),
// started again on the same port and awaited ready (/readyz 200); then node B the same
// way, while the sender goes on (it is drained too when its node goes: it recovers and
// keeps its numbering). Then every receiver must have every message the server acked to
// the sender, once and in order, every reconnect must have been a recovery (same id), and
// no one may have heard a welcome or bye for someone else's reconnect.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, io, missing, once, startNginx, startNode, startRedis, stopNodes } from './lib/cluster.mjs';

const skip = missing({ nginx: true, binaries: ['noom'] }) || false;
const N = 20;            // receivers
const PACE_MS = 20;      // one message every PACE_MS
const DRAIN_MS = 1000;
const ROOM = 'rolling';
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500, randomizationFactor: 0.5 };
// The sender sends 50 messages a second: lift the chat budget (5/s by default).
const APP_FLAGS = ['--drain-ms', String(DRAIN_MS), '--msg-rate', '200', '--msg-burst', '200'];

const agents = [];
const sockets = [];
let redis, A, B, proxy;

function startApp(name, port) {
  return startNode('app', redis.url, { name, port, streams: true, extra: APP_FLAGS });
}

function readyz(port) {
  return new Promise((res, rej) => {
    http.get({ host: '127.0.0.1', port, path: '/readyz' }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode));
    }).on('error', rej);
  });
}

// A client through nginx whose every connection leaves from addr (ip_hash keys on it).
function client(addr, transports) {
  const agent = new http.Agent({ localAddress: addr, keepAlive: true });
  agents.push(agent);
  const s = io(proxy.url, { forceNew: true, transports, agent, localAddress: addr, ...RECONNECT });
  sockets.push(s);
  return s;
}

// Tracks one socket: its ids and `recovered` at every connect after the first.
function track(s, label) {
  const t = { s, label, reconnects: [], disconnects: [] };
  s.on('disconnect', (reason) => t.disconnects.push(reason));
  s.on('connect', () => {
    if (t.id === undefined) t.id = s.id;
    else t.reconnects.push({ recovered: s.recovered, id: s.id });
  });
  return t;
}

// Resolves once the tracked socket has reconnected k times. The bound is short of nginx's
// default fail_timeout (10 s), which deploy/nginx.conf must not let keep clients out.
async function reconnected(t, k, ms = 5000) {
  while (t.reconnects.length < k) await once(t.s, 'connect', ms);
}

// Stops a node the way an orchestrator does (SIGTERM, wait for the exit), checks that it
// drained and exited 0, waits until its clients are back (on the other node, the only
// one there is meanwhile), starts it again on the same port and waits until it is ready.
async function restart(node, port, ts) {
  const t0 = Date.now(), mark = node.mark();
  const before = ts.map((t) => t.reconnects.length);
  const { code, signal } = await node.stop('SIGTERM', DRAIN_MS + 10000);
  const out = node.output();
  assert.equal(code, 0, `${node.name} exited with ${code ?? signal}:\n${out.slice(-3000)}`);
  assert.match(out, /drain: stopped accepting/);
  assert.match(out, /drain: \d+ of \d+ sessions closed over \d+ ms, 0 still open/);
  const stopped = Date.now();
  // Its sockets (the drain logs each one's disconnect) are back: on the other node.
  const gone = new Set([...out.slice(mark).matchAll(/ disconnect (\S+) \(/g)].map((m) => m[1]));
  await Promise.all(ts.map((t, i) => (gone.has(t.id) ? reconnected(t, before[i] + 1) : null)));
  for (const t of ts) assert.ok(t.s.connected, `${t.label} is not connected`);
  const back = Date.now();
  const again = await startApp(node.name, port);
  assert.equal(again.port, port);
  // The adapter is connected (startNode waited for its log line): ready unless something
  // else is down, which /readyz would say.
  assert.equal(await readyz(port), 200);
  return { node: again, drainMs: stopped - t0, clientsBackMs: back - stopped, startMs: Date.now() - back };
}

describe('a rolling restart of two --redis-streams nodes behind nginx', { skip }, () => {
  let PA, PB;
  before(async () => {
    redis = await startRedis();
    [PA, PB] = await Promise.all([freePort(), freePort()]);
    [A, B] = await Promise.all([startApp('A', PA), startApp('B', PB)]);
    proxy = await startNginx([PA, PB]);
  });
  after(async () => {
    for (const s of sockets) s.close();
    for (const a of agents) a.destroy();
    if (proxy) await proxy.stop();
    await stopNodes(A, B);
    if (redis) await redis.stop();
  });

  test('every receiver gets every acked message once and in order, recovered on the other node', async () => {
    assert.match(proxy.conf, /proxy_next_upstream error/);
    // Receivers: 127.0.X.1 for X = 1..N (ip_hash uses three octets: X picks the node).
    // Every fourth one starts with long-polling and upgrades (the default); the rest use
    // WebSocket only.
    const receivers = [];
    for (let i = 0; i < N; i++) {
      const s = client(`127.0.${i + 1}.1`, i % 4 === 3 ? ['polling', 'websocket'] : ['websocket']);
      const r = track(s, `r${i}`);
      r.got = [];
      r.greetings = null; // welcome/bye heard once everyone is in
      s.on('new_message', (line) => {
        const m = /^sender: m(\d+)$/.exec(line);
        if (m) r.got.push(Number(m[1]));
        for (const w of r.waiters ?? []) w();
      });
      for (const ev of ['welcome', 'bye']) s.on(ev, (nick) => r.greetings?.push([ev, nick]));
      receivers.push(r);
    }
    await Promise.all(receivers.map((r) => once(r.s, 'connect')));
    for (const r of receivers) {
      const ack = await r.s.timeout(8000).emitWithAck('enter_room', r.label, ROOM);
      assert.equal(ack.room, ROOM);
    }
    const senderSocket = client('127.0.0.1', ['websocket']);
    const sender = track(senderSocket, 'sender');
    await once(senderSocket, 'connect');
    // Every receiver hears the sender enter (the last entry): from then on, no greeting.
    const heard = receivers.map((r) => new Promise((res) => {
      const on = (nick) => { if (nick === 'sender') { r.s.off('welcome', on); res(); } };
      r.s.on('welcome', on);
    }));
    assert.equal((await senderSocket.timeout(8000).emitWithAck('enter_room', 'sender', ROOM)).count, N + 1);
    await Promise.all(heard);
    for (const r of receivers) r.greetings = [];

    // The sender: one message every PACE_MS while connected, numbered without gaps in
    // what it sends; only what the server acked is counted.
    const acked = [], failed = [], inflight = [];
    let next = 0, progress = [];
    const ackedAtLeast = (k, ms = 10000) => new Promise((res, rej) => {
      const stop = () => { clearTimeout(t); progress = progress.filter((f) => f !== check); };
      const t = setTimeout(() => {
        stop();
        rej(new Error(`${acked.length} of ${k} messages acked; refused: ${JSON.stringify(failed.slice(-3))}`));
      }, ms);
      const check = () => { if (acked.length >= k) { stop(); res(); } };
      progress.push(check);
      check();
    });
    const timer = setInterval(() => {
      if (!senderSocket.connected) return;
      const n = next++;
      inflight.push(senderSocket.timeout(8000).emitWithAck('new_message', `m${n}`, ROOM).then((a) => {
        if (a === undefined) acked.push(n);
        else failed.push([n, a]);
        for (const f of [...progress]) f();
      }, (err) => failed.push([n, err.message])));
    }, PACE_MS);

    const timings = {};
    try {
      await ackedAtLeast(25);
      const beforeA = receivers.map((r) => r.reconnects.length);
      const ra = await restart(A, PA, [...receivers, sender]);
      A = ra.node;
      timings.A = { drainMs: ra.drainMs, clientsBackMs: ra.clientsBackMs, startMs: ra.startMs };
      const movedByA = receivers.filter((r, i) => r.reconnects.length > beforeA[i]).length;
      // ip_hash put receivers on both nodes: A's moved, B's stayed.
      assert.ok(movedByA > 0 && movedByA < N, `restarting A moved ${movedByA} of ${N} receivers`);
      await ackedAtLeast(acked.length + 25);

      const beforeB = receivers.map((r) => r.reconnects.length);
      const rb = await restart(B, PB, [...receivers, sender]);
      B = rb.node;
      timings.B = { drainMs: rb.drainMs, clientsBackMs: rb.clientsBackMs, startMs: rb.startMs };
      // Every receiver was on B (A's came over): all moved, to A.
      assert.deepEqual(receivers.filter((r, i) => r.reconnects.length === beforeB[i])
        .map((r) => `${r.label} (${r.id}): ${JSON.stringify(r.disconnects)} ${JSON.stringify(r.reconnects)}`), []);
      await ackedAtLeast(acked.length + 25);
    } finally {
      clearInterval(timer);
    }
    // Wait for the answers still in flight, then for every receiver to have the last one.
    await Promise.all(inflight);
    const last = acked[acked.length - 1];
    await Promise.all(receivers.map((r) => new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${r.label} never got m${last}: has ${r.got.length}, ends ${r.got.slice(-3)}`)), 20000);
      const check = () => { if (r.got.includes(last)) { clearTimeout(t); res(); } };
      r.waiters = [check];
      check();
    })));

    // The sender: every message acked, except at most the ones in flight when its node
    // closed its connection.
    assert.deepEqual(acked, [...acked].sort((x, y) => x - y), 'acks in order');
    assert.ok(failed.length <= 4, `unacked: ${JSON.stringify(failed)}`);
    for (const [n, why] of failed) assert.match(String(why), /disconnected|timed out/, `m${n}`);
    for (const t of [sender, ...receivers]) {
      assert.ok(t.reconnects.length >= 1, `${t.label} never reconnected`);
      assert.deepEqual(t.reconnects, t.reconnects.map(() => ({ recovered: true, id: t.id })), `${t.label}: recovered, same id`);
    }
    const ackedSet = new Set(acked);
    for (const r of receivers) {
      // Once and in order, and nothing acked missing. A message whose ack was lost with
      // the sender's connection may or may not have gone out, but then to everyone.
      const increasing = r.got.every((n, i) => i === 0 || n > r.got[i - 1]);
      assert.ok(increasing, `${r.label} got duplicates or disorder: ${r.got.join(',')}`);
      const missingAcked = acked.filter((n) => !r.got.includes(n));
      assert.deepEqual(missingAcked, [], `${r.label} lacks acked messages`);
      assert.deepEqual(r.got.filter((n) => !ackedSet.has(n)), receivers[0].got.filter((n) => !ackedSet.has(n)),
        `${r.label}: the unacked messages it got are the same as everyone's`);
      assert.deepEqual(r.greetings, [], `${r.label} heard greetings for reconnects`);
    }
    const reconnects = receivers.map((r) => r.reconnects.length);
    console.log(`rolling restart: ${acked.length} acked of ${next} sent (${failed.length} unacked), ` +
      `receivers reconnected ${reconnects.join(',')} times, A ${JSON.stringify(timings.A)}, B ${JSON.stringify(timings.B)}`);
  });

  // Long-polling-only clients (transports: ['polling']): the drain closes their sessions
  // at once (a pending GET gets the close, "transport close"; a client between two polls
  // gets 400 from the other node, "transport error"), so the session is stored for
  // recovery before the client's next request lands on the other node. Only the stop is
  // asserted: once the node is back, ip_hash sends the polls of a session that moved off
  // it back to it, and it does not know that session (docs/operations.md: polling-only
  // clients need a balancer sticky by session).
  test('long-polling-only receivers recover on the other node when theirs drains', async () => {
    const M = 12;
    const room = 'rolling-polling';
    const receivers = [];
    for (let i = 0; i < M; i++) {
      const r = track(client(`127.0.${100 + i}.1`, ['polling']), `p${i}`);
      r.got = [];
      r.s.on('new_message', (line) => {
        const m = /^psender: m(\d+)$/.exec(line);
        if (m) r.got.push(Number(m[1]));
        for (const w of r.waiters ?? []) w();
      });
      receivers.push(r);
    }
    // Idle WebSocket sessions, so that A has more than one slice to spread: spread, a
    // polling session left for a later slice gets a message meanwhile, and its next poll
    // goes to B.
    const fillers = Array.from({ length: 30 }, (_, i) => client(`127.0.${150 + i}.1`, ['websocket']));
    await Promise.all([...receivers.map((r) => once(r.s, 'connect')), ...fillers.map((s) => once(s, 'connect'))]);
    for (const r of receivers) assert.equal((await r.s.timeout(8000).emitWithAck('enter_room', r.label, room)).room, room);
    // The sender on B's side of the hash would do as well; any node: it is WebSocket.
    const senderSocket = client('127.0.0.1', ['websocket']);
    await once(senderSocket, 'connect');
    await senderSocket.timeout(8000).emitWithAck('enter_room', 'psender', room);
    const acked = [], inflight = [];
    let n = 0;
    const send = () => {
      const k = n++;
      const p = senderSocket.timeout(8000).emitWithAck('new_message', `m${k}`, room).then((a) => {
        if (a === undefined) acked.push(k);
      }, () => {});
      inflight.push(p);
      return p;
    };
    const allGot = (k) => Promise.all(receivers.map((r) => new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`${r.label} never got m${k}: has ${r.got.join(',')}`)), 10000);
      const check = () => { if (r.got.includes(k)) { clearTimeout(t); res(); } };
      r.waiters = [check];
      check();
    })));
    for (let i = 0; i < 10; i++) await send();
    // Everyone has the last one (so most are back in a waiting GET, which the drain
    // answers with the close; one between two polls gets 400 from the other node).
    await allGot(acked[acked.length - 1]);

    // A drains and exits while the sender goes on; A is not started again within this
    // test (see above).
    const pump = setInterval(() => { if (senderSocket.connected) send(); }, PACE_MS);
    const mark = A.mark();
    const before = receivers.map((r) => r.reconnects.length);
    const t0 = Date.now();
    const { code, signal } = await A.stop('SIGTERM', DRAIN_MS + 10000);
    const out = A.output();
    assert.equal(code, 0, `A exited with ${code ?? signal}:\n${out.slice(-3000)}`);
    const gone = new Set([...out.slice(mark).matchAll(/ disconnect (\S+) \(/g)].map((m) => m[1]));
    const moved = receivers.filter((r) => gone.has(r.id));
    assert.ok(moved.length > 0 && moved.length < M, `A's drain moved ${moved.length} of ${M} polling receivers`);
    await Promise.all(moved.map((r) => reconnected(r, before[receivers.indexOf(r)] + 1)));
    const backMs = Date.now() - t0;
    clearInterval(pump);
    if (!senderSocket.connected) await once(senderSocket, 'connect');
    for (let i = 0; i < 10; i++) await send();
    await Promise.all(inflight);
    acked.sort((x, y) => x - y);
    await allGot(acked[acked.length - 1]);
    for (const r of moved) {
      assert.deepEqual(r.reconnects, [{ recovered: true, id: r.id }], `${r.label} (${JSON.stringify(r.disconnects)}): recovered, same id`);
      assert.ok(['transport close', 'transport error'].includes(r.disconnects[0]), r.disconnects[0]);
    }
    for (const r of receivers) {
      assert.ok(r.got.every((k, i) => i === 0 || k > r.got[i - 1]), `${r.label} got duplicates or disorder: ${r.got.join(',')}`);
      assert.deepEqual(acked.filter((k) => !r.got.includes(k)), [], `${r.label} lacks acked messages`);
    }
    console.log(`polling drain: ${moved.length} of ${M} moved, back ${backMs} ms after SIGTERM (drain ${DRAIN_MS} ms), ` +
      `reasons ${moved.map((r) => r.disconnects[0]).join(',')}`);
    for (const r of receivers) r.s.close();
    for (const f of fillers) f.close();
    senderSocket.close();
    A = await startApp('A', PA);
  });
});
