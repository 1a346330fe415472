// Engine.IO edge cases where the npm engine.io 6.6 server (the reference) has a defined
// behaviour the spec leaves open: a long-poll GET the client aborts, a close packet posted
// while a GET is parked, and a second WebSocket for a session that already has (or is
// getting) one. Real clients: fetch with an AbortController, npm `ws`.
// Run: node --test tests/integration/engine_edge.test.mjs   (NOOM_REF=1: the reference)
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

import { useServer } from './lib/server.mjs';
import { nextEvent, withTimeout } from './lib/util.mjs';
import { eioPath, handshake, poll, post } from './lib/eio.mjs';

const UNKNOWN_SID = { code: 1, message: 'Session ID unknown' };

// Polls sid until it answers 400 (the session is gone), within ms; each GET may park
// while the server has not yet noticed, so each one gets a short deadline.
async function expectGone(port, sid, ms = 3000) {
  const deadline = Date.now() + ms;
  let last = null;
  while (Date.now() < deadline) {
    try {
      last = await poll(port, sid, 500);
    } catch {
      continue; // parked: the session is still open, try again
    }
    if (last.status === 400) return JSON.parse(last.text);
    await sleep(50);
  }
  throw new Error(`session ${sid} still open: last answer ${last && `${last.status} ${last.text}`}`);
}

// Opens a WebSocket probe for sid and completes the upgrade (2probe, 3probe, 5).
async function upgrade(port, sid) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${eioPath({ transport: 'websocket', sid })}`);
  await nextEvent(ws, 'open');
  ws.send('2probe');
  const [probe] = await nextEvent(ws, 'message');
  assert.equal(probe.toString(), '3probe');
  ws.send('5');
  return ws;
}

async function echo(ws, text) {
  ws.send(`4${text}`);
  const [m] = await nextEvent(ws, 'message');
  assert.equal(m.toString(), `4${text}`);
}

// A second WebSocket for sid: the handshake completes (101), then the server closes it.
async function secondSocketIsClosed(port, sid) {
  const ws2 = new WebSocket(`ws://127.0.0.1:${port}${eioPath({ transport: 'websocket', sid })}`);
  const unexpected = new Promise((res) => ws2.once('unexpected-response', (req, r) => res(r.statusCode)));
  const opened = nextEvent(ws2, 'open').then(() => 'open');
  const first = await withTimeout(Promise.race([opened, unexpected]), 5000, 'second websocket');
  assert.equal(first, 'open', `second websocket answered HTTP ${first}`);
  await nextEvent(ws2, 'close');
}

describe('engine.io edge cases (the reference server\'s behaviour)', () => {
  const fx = useServer();

  fx.test('a client aborting its pending GET closes the session: the next GET gets 400', async () => {
    const { sid } = await handshake(fx.port);
    const ac = new AbortController();
    const pending = fetch(`${fx.origin}${eioPath({ sid })}`, { signal: ac.signal });
    // Let the GET reach the server and park (nothing to send).
    await sleep(150);
    ac.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    assert.deepEqual(await expectGone(fx.port, sid), UNKNOWN_SID);
  });

  fx.test('a POSTed close packet answers the parked GET with a noop, then the session is gone', async () => {
    const { sid } = await handshake(fx.port);
    const pending = poll(fx.port, sid);
    await sleep(100);
    const res = await post(fx.port, sid, '1');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    const released = await pending;
    assert.equal(released.status, 200);
    assert.equal(released.text, '6');
    const after = await poll(fx.port, sid, 2000);
    assert.equal(after.status, 400);
    assert.deepEqual(JSON.parse(after.text), UNKNOWN_SID);
  });

  fx.test('a second websocket on an upgraded session opens and is closed; the first keeps working', async () => {
    const { sid } = await handshake(fx.port);
    const ws = await upgrade(fx.port, sid);
    try {
      await echo(ws, 'before');
      await secondSocketIsClosed(fx.port, sid);
      await echo(ws, 'after');
    } finally {
      ws.terminate();
    }
  });

  fx.test('a second websocket during an upgrade opens and is closed; the first probe completes', async () => {
    const { sid } = await handshake(fx.port);
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}${eioPath({ transport: 'websocket', sid })}`);
    try {
      await nextEvent(ws, 'open');
      ws.send('2probe');
      const [probe] = await nextEvent(ws, 'message');
      assert.equal(probe.toString(), '3probe');
      await secondSocketIsClosed(fx.port, sid);
      ws.send('5');
      await echo(ws, 'upgraded');
    } finally {
      ws.terminate();
    }
  });
});
