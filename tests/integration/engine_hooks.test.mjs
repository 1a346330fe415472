// engine.io's hooks as Node users configure them: allowRequest (an asynchronous verdict
// on a handshake), the "initial_headers" / "headers" events and "connection_error" with
// engine.io's codes and messages. The server runs with --allow-request deny-param (a
// handshake with ?deny=MSG is refused with MSG after 20 ms), --test-headers (Set-Cookie
// mycookie=1234 on handshakes, X-Noom: yes on every response) and --log-connection-errors
// (one stderr line per event). Checked with engine.io-client, socket.io-client and plain HTTP.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Socket } from 'engine.io-client';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

import { useServer } from './lib/server.mjs';
import { nextEvent, withTimeout } from './lib/util.mjs';
import { eioPath, handshake, poll, request } from './lib/eio.mjs';

// The server's stderr gains a line for an event within ms.
async function awaitLine(fx, re, ms = 3000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = re.exec(fx.stderr());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no stderr line matching ${re} within ${ms} ms`);
}

// A raw WebSocket upgrade; resolves to { status, headers, body } of a refusal, or of the
// 101 (then the socket is destroyed).
function rawUpgrade(port, path) {
  return withTimeout(new Promise((res, rej) => {
    const req = http.request({
      host: '127.0.0.1', port, path, agent: false,
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('upgrade', (resp, socket) => {
      socket.destroy();
      res({ status: 101, headers: resp.headers, body: '' });
    });
    req.on('response', (resp) => {
      let body = '';
      resp.setEncoding('utf8');
      resp.on('data', (c) => { body += c; });
      resp.on('end', () => res({ status: resp.statusCode, headers: resp.headers, body }));
    });
    req.on('error', rej);
    req.end();
  }), 5000, `upgrade ${path}`);
}

describe('engine hooks: allowRequest, initial_headers, headers, connection_error', () => {
  const fx = useServer({ extra: ['--allow-request', 'deny-param', '--test-headers', '--log-connection-errors'] });

  fx.test('allowRequest refusing a polling handshake: 403 {"code":4,"message":<its message>} and connection_error 4', async () => {
    const res = await request(fx.port, { path: eioPath({ deny: 'Not today' }) });
    assert.equal(res.status, 403);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(res.text), { code: 4, message: 'Not today' });
    await awaitLine(fx, /connection_error code=4 message="Forbidden" context="Not today"/);
  });

  fx.test('allowRequest refusing a WebSocket handshake: 400 with the message as text/html, connection closed', async () => {
    const path = `/engine.io/?EIO=4&transport=websocket&deny=nope`;
    const res = await rawUpgrade(fx.port, path);
    assert.equal(res.status, 400);
    assert.equal(res.body, 'nope');
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.equal(res.headers.connection, 'close');
  });

  fx.test('allowRequest refusals reach engine.io-client as an error, never an open', async () => {
    for (const transports of [['polling'], ['websocket']]) {
      const socket = new Socket(`ws://127.0.0.1:${fx.port}`, {
        path: '/engine.io/', transports, query: { deny: 'no' },
      });
      let opened = false;
      socket.on('open', () => { opened = true; });
      const [err] = await nextEvent(socket, 'error', 5000);
      socket.close();
      assert.ok(err, `${transports}: error`);
      assert.equal(opened, false, `${transports}: no open`);
      if (transports[0] === 'polling') assert.equal(err.description, 403, 'the client saw the 403');
    }
  });

  fx.test('allowRequest accepting asynchronously: engine.io-client echo and socket.io-client connects', async () => {
    for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
      const socket = new Socket(`ws://127.0.0.1:${fx.port}`, { path: '/engine.io/', transports });
      await nextEvent(socket, 'open', 5000);
      socket.send('hi');
      const [msg] = await nextEvent(socket, 'message', 5000);
      assert.equal(msg, 'hi');
      socket.close();
    }
    const sock = io(fx.origin, { transports: ['polling', 'websocket'], reconnection: false });
    try {
      await nextEvent(sock, 'connect', 5000);
      assert.ok(sock.id);
    } finally {
      sock.close();
    }
    const refused = io(fx.origin, { transports: ['polling'], reconnection: false, query: { deny: 'go away' } });
    try {
      const [err] = await nextEvent(refused, 'connect_error', 5000);
      assert.equal(err.description, 403);
    } finally {
      refused.close();
    }
  });

  fx.test('initial_headers on the handshake only, headers on every polling response and 101', async () => {
    const { sid, res } = await handshake(fx.port);
    assert.deepEqual(res.headers['set-cookie'], ['mycookie=1234']);
    assert.equal(res.headers['x-noom'], 'yes');
    const post = await request(fx.port, { method: 'POST', path: eioPath({ sid }), body: '4x' });
    assert.equal(post.text, 'ok');
    assert.equal(post.headers['x-noom'], 'yes');
    assert.equal(post.headers['set-cookie'], undefined);
    const got = await poll(fx.port, sid);
    assert.equal(got.headers['x-noom'], 'yes');
    assert.equal(got.headers['set-cookie'], undefined);
    // WebSocket: the handshake's 101 has both, an upgrade probe's only the marker.
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/engine.io/?EIO=4&transport=websocket`);
    const [resp] = await nextEvent(ws, 'upgrade', 5000);
    ws.terminate();
    assert.deepEqual(resp.headers['set-cookie'], ['mycookie=1234']);
    assert.equal(resp.headers['x-noom'], 'yes');
    const probe = new WebSocket(`ws://127.0.0.1:${fx.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    const [presp] = await nextEvent(probe, 'upgrade', 5000);
    probe.terminate();
    assert.equal(presp.headers['x-noom'], 'yes');
    assert.equal(presp.headers['set-cookie'], undefined);
  });

  fx.test('errors are not given the hooks\' headers', async () => {
    const res = await request(fx.port, { path: eioPath({ sid: 'nope' }) });
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-noom'], undefined);
  });

  fx.test('connection_error carries engine.io\'s code and message for each refusal', async () => {
    const cases = [
      [{ path: '/engine.io/?EIO=4&transport=carrier-pigeon' }, 0, 'Transport unknown', ''],
      [{ path: eioPath({ sid: 'AAAAAAAAAAAAAAAAAAAA' }) }, 1, 'Session ID unknown', ''],
      [{ method: 'POST', path: eioPath({}), body: '4x' }, 2, 'Bad handshake method', ''],
      [{ path: '/engine.io/?EIO=4&transport=websocket' }, 3, 'Bad request', 'TRANSPORT_HANDSHAKE_ERROR'],
      [{ path: '/engine.io/?EIO=3&transport=polling' }, 5, 'Unsupported protocol version', ''],
    ];
    for (const [req, code, message, context] of cases) {
      const res = await request(fx.port, req);
      assert.equal(res.status, 400, `${req.path}`);
      assert.deepEqual(JSON.parse(res.text), { code, message });
      const line = `connection_error code=${code} message="${message}" context="${context}"`;
      await awaitLine(fx, new RegExp(line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
  });
});
