// GET /metrics of build/noom (docs/operations.md): parsed with the Prometheus Python
// client's parser plus a strict line check (lib/prom.mjs), and checked to move by exactly
// what a known sequence of connects, events, disconnects and requests does.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startNoom, next, until } from './lib/noom.mjs';
import { scrape, value, parse } from './lib/prom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

const NS = { namespace: '/' };

describe('GET /metrics', () => {
  let srv;
  const clients = [];
  before(async () => {
    srv = await startNoom(['--stun-port', '0', '--lobby-interval', '0', '--msg-burst', '100', '--event-burst', '100']);
  });
  after(async () => {
    for (const c of clients) c.close();
    await srv?.stop();
  });

  // Every event a client receives, counted, so the server's "sent" can be compared.
  let received = 0;
  async function client(transports = ['websocket']) {
    const s = io(srv.url, { forceNew: true, transports, reconnection: false });
    s.onAny(() => { received++; });
    clients.push(s);
    await next(s, 'connect');
    return s;
  }
  const metrics = () => scrape(`${srv.url}/metrics`);
  const delta = (a, b, name, labels) => (value(b, name, labels) ?? 0) - (value(a, name, labels) ?? 0);

  test('has the socket.io-prometheus-metrics, process and noom_ families with HELP and TYPE', async () => {
    const m = await metrics();
    const fams = new Map(m.map((s) => [s.name, s]));
    for (const [name, type] of [
      ['socket_io_connected', 'gauge'], ['socket_io_connect_total', 'counter'], ['socket_io_disconnect_total', 'counter'],
      ['socket_io_errors_total', 'counter'], ['socket_io_events_received_total', 'counter'],
      ['socket_io_events_sent_total', 'counter'], ['socket_io_recieve_bytes', 'counter'],
      ['socket_io_transmit_bytes', 'counter'],
      ['process_cpu_seconds_total', 'counter'], ['process_resident_memory_bytes', 'gauge'],
      ['process_virtual_memory_bytes', 'gauge'], ['process_open_fds', 'gauge'], ['process_max_fds', 'gauge'],
      ['process_start_time_seconds', 'gauge'],
      ['noom_engine_connections', 'gauge'], ['noom_engine_connections_total', 'counter'],
      ['noom_engine_upgrades_total', 'counter'], ['noom_slow_consumer_disconnects_total', 'counter'],
      ['noom_namespaces', 'gauge'], ['noom_sockets', 'gauge'], ['noom_rooms', 'gauge'],
      ['noom_packets_received_total', 'counter'], ['noom_bytes_sent_total', 'counter'],
      ['noom_broadcasts_total', 'counter'], ['noom_broadcast_deliveries_total', 'counter'],
      ['noom_acks_pending', 'gauge'], ['noom_volatile_drops_total', 'counter'], ['noom_recoveries_total', 'counter'],
      ['noom_http_requests_total', 'counter'], ['noom_http_errors_total', 'counter'],
      ['noom_chat_rooms', 'gauge'], ['noom_chat_messages_total', 'counter'], ['noom_call_joins_total', 'counter'],
      ['noom_history_db_up', 'gauge'], ['noom_history_queue', 'gauge'], ['noom_history_dropped_total', 'counter'],
    ]) {
      assert.ok(fams.has(name), `${name} is exposed`);
      assert.equal(fams.get(name).type, type, `${name} is a ${type}`);
      assert.ok(fams.get(name).help.length > 0, `${name} has a HELP text`);
    }
    assert.deepEqual(m.find((s) => s.name === 'socket_io_connected').labels, NS);
    // The process figures are this process's.
    assert.ok(value(m, 'process_resident_memory_bytes') > 1e6);
    assert.ok(value(m, 'process_open_fds') >= 3);
    const start = value(m, 'process_start_time_seconds');
    assert.ok(Math.abs(start - Date.now() / 1000) < 120, `start time ${start} is about now`);
    assert.equal(value(m, 'noom_history_db_up'), 1);
  });

  test('connects, events, disconnects and errors move the counters by exactly what happened', async () => {
    const m0 = await metrics();
    received = 0;
    const a = await client();
    const b = await client();
    const c = await client(['polling']);
    await a.timeout(5000).emitWithAck('enter_room', 'alice', 'r1');
    await b.timeout(5000).emitWithAck('enter_room', 'bob', 'r1');
    const got = [];
    b.on('new_message', (line) => got.push(line));
    const sentPayloads = [JSON.stringify(['enter_room', 'alice', 'r1']), JSON.stringify(['enter_room', 'bob', 'r1'])];
    for (let i = 0; i < 5; i++) {
      await a.timeout(5000).emitWithAck('new_message', `hello ${i}`, 'r1');
      sentPayloads.push(JSON.stringify(['new_message', `hello ${i}`, 'r1']));
    }
    if (got.length < 5) await until(b, 'new_message', () => got.length === 5);
    // Deliveries are in the server's counters when they are queued; the clients get
    // them a little later. Equal counts on both sides, or the test times out.
    let m1;
    const deadline = Date.now() + 5000;
    do {
      m1 = await metrics();
      if (delta(m0, m1, 'socket_io_events_sent_total', NS) === received) break;
      await new Promise((r) => setTimeout(r, 20));
    } while (Date.now() < deadline);
    assert.equal(delta(m0, m1, 'socket_io_events_sent_total', NS), received, 'events sent = events the clients got');
    assert.ok(received >= 5);

    assert.equal(delta(m0, m1, 'socket_io_connect_total', NS), 3);
    assert.equal(value(m1, 'socket_io_connected', NS), 3);
    assert.equal(value(m1, 'noom_sockets'), 3);
    assert.equal(delta(m0, m1, 'socket_io_events_received_total', NS), 7, '2 enter_room + 5 new_message');
    // Each as the Socket.IO packet it came in: "2", the one-digit ack id, the JSON array.
    assert.equal(delta(m0, m1, 'socket_io_recieve_bytes', NS), sentPayloads.reduce((n, p) => n + 2 + p.length, 0),
      'bytes of the 7 event packets');
    assert.ok(delta(m0, m1, 'socket_io_transmit_bytes', NS) > 0);
    // Engine.IO messages from clients: 3 CONNECTs and 7 events (pings are not messages).
    assert.equal(delta(m0, m1, 'noom_packets_received_total'), 10);
    assert.equal(delta(m0, m1, 'noom_engine_connections_total', { transport: 'websocket' }), 2);
    assert.equal(delta(m0, m1, 'noom_engine_connections_total', { transport: 'polling' }), 1);
    assert.equal(value(m1, 'noom_engine_connections', { transport: 'websocket' }), 2);
    assert.equal(value(m1, 'noom_engine_connections', { transport: 'polling' }), 1);
    assert.equal(delta(m0, m1, 'noom_chat_messages_total'), 5);
    assert.equal(value(m1, 'noom_chat_rooms'), 1);
    assert.equal(value(m1, 'noom_rooms', NS), 1, 'r1 (the sockets\' own rooms do not count)');
    assert.ok(delta(m0, m1, 'noom_broadcast_deliveries_total') >= 5);
    assert.equal(value(m1, 'noom_acks_pending'), 0);

    // Disconnects: one client leaves; a CONNECT to a namespace that does not exist is an error.
    b.close();
    const bad = io(`${srv.url}/nope`, { forceNew: true, transports: ['websocket'], reconnection: false });
    clients.push(bad);
    const [err] = await next(bad, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    let m2;
    const d2 = Date.now() + 5000;
    do {
      m2 = await metrics();
      if (value(m2, 'socket_io_connected', NS) === 2) break;
      await new Promise((r) => setTimeout(r, 20));
    } while (Date.now() < d2);
    assert.equal(value(m2, 'socket_io_connected', NS), 2);
    assert.equal(delta(m1, m2, 'socket_io_disconnect_total', NS), 1);
    assert.equal(delta(m1, m2, 'socket_io_connect_total', NS), 0);
    assert.equal(delta(m1, m2, 'noom_invalid_namespace_total'), 1);
    assert.equal(delta(m0, m2, 'socket_io_errors_total', NS), 0, 'no middleware refused anyone');
  });

  test('HTTP requests and 4xx answers are counted', async () => {
    const m0 = await metrics();
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling&sid=nosuchsession`);
    assert.equal(r.status, 400);
    await r.text();
    const m1 = await metrics();
    // 3 health checks + the bad poll + the first scrape (the second is not counted in itself yet? it is: dispatch counts first)
    const d = delta(m0, m1, 'noom_http_requests_total');
    assert.ok(d >= 5, `requests moved by ${d}`);
    assert.equal(delta(m0, m1, 'noom_http_errors_total', { kind: '4xx' }), 1);
  });

  test('other methods get 405', async () => {
    const r = await fetch(`${srv.url}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
  });
});

describe('--metrics-addr and --no-metrics', () => {
  test('--metrics-addr serves /metrics, /healthz and /readyz on their own port, not on the main one', async () => {
    const probe = await startNoom(['--stun-port', '0']);
    // A free port: the one the probe got, once it is gone.
    const port = probe.port;
    await probe.stop();
    const srv = await startNoom(['--stun-port', '0', '--metrics-addr', `127.0.0.1:${port}`]);
    try {
      await srv.waitLog(/metrics, health and readiness on http:\/\/127\.0\.0\.1:\d+\//);
      const side = `http://127.0.0.1:${port}`;
      const m = await scrape(`${side}/metrics`);
      assert.equal(value(m, 'socket_io_connected', NS), 0);
      assert.equal((await fetch(`${side}/healthz`)).status, 200);
      assert.equal((await fetch(`${side}/readyz`)).status, 200);
      const main = await fetch(`${srv.url}/metrics`, { redirect: 'manual' });
      assert.notEqual(main.status, 200, '/metrics is not on the main port');
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200, 'health stays on the main port too');
    } finally {
      await srv.stop();
    }
  });

  test('--no-metrics and --metrics off leave /metrics to the app (a redirect to the lobby)', async () => {
    for (const flags of [['--no-metrics'], ['--metrics', 'off'], ['--metrics=off']]) {
      const srv = await startNoom(['--stun-port', '0', ...flags]);
      try {
        const r = await fetch(`${srv.url}/metrics`, { redirect: 'manual' });
        assert.ok(r.status >= 300 && r.status < 400, `${flags}: ${r.status}`);
      } finally {
        await srv.stop();
      }
    }
  });
});

describe('the format', () => {
  test('the strict check refuses what Prometheus would misread', () => {
    assert.throws(() => parse('x_total 1\n'), /under its own family/);
    assert.throws(() => parse('# HELP a x\n# TYPE a gauge\na{l="unterminated} 1\n'));
    assert.throws(() => parse('# HELP a x\n# TYPE a gauge\na 1'), /newline/);
  });
});
