// engine.io's cookie option (`cookie: { name, maxAge }`, defaults path "/", httpOnly,
// sameSite "lax"): the handshake response of a polling session sets <name>=<sid>, as
// npm cookie serializes it; later responses and WebSocket-only handshakes set none
// (engine.io 6.6). Load balancers can pin a client to its node by that cookie.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

import { useServer } from './lib/server.mjs';
import { nextEvent } from './lib/util.mjs';
import { eioPath, handshake, poll, request } from './lib/eio.mjs';

describe('cookie option with defaults (--cookie io)', () => {
  const fx = useServer({ extra: ['--cookie', 'io'] });

  fx.test('the polling handshake sets io=<sid>; Path=/; HttpOnly; SameSite=Lax', async () => {
    const { sid, res } = await handshake(fx.port);
    assert.deepEqual(res.headers['set-cookie'], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
    const post = await request(fx.port, { method: 'POST', path: eioPath({ sid }), body: '4x' });
    assert.equal(post.headers['set-cookie'], undefined, 'POST');
    const got = await poll(fx.port, sid);
    assert.equal(got.headers['set-cookie'], undefined, 'GET');
  });

  fx.test('a WebSocket-only handshake sets no cookie (engine.io 6.6)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/engine.io/?EIO=4&transport=websocket`);
    const [resp] = await nextEvent(ws, 'upgrade', 5000);
    ws.terminate();
    assert.equal(resp.headers['set-cookie'], undefined);
  });

  fx.test('socket.io-client with withCredentials connects, and its handshake set the cookie', async () => {
    const res = await request(fx.port, { path: '/socket.io/?EIO=4&transport=polling' });
    const sid = JSON.parse(res.text.slice(1)).sid;
    assert.deepEqual(res.headers['set-cookie'], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
    const sock = io(fx.origin, { withCredentials: true, transports: ['polling', 'websocket'], reconnection: false });
    try {
      await nextEvent(sock, 'connect', 5000);
      assert.ok(sock.id);
    } finally {
      sock.close();
    }
  });
});

describe('cookie option with a name and maxAge (--cookie lb --cookie-max-age 3600)', () => {
  const fx = useServer({ extra: ['--cookie', 'lb', '--cookie-max-age', '3600'] });

  fx.test('Max-Age comes first among the attributes, as npm cookie writes it', async () => {
    const { sid, res } = await handshake(fx.port);
    assert.deepEqual(res.headers['set-cookie'], [`lb=${sid}; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax`]);
  });
});

describe('no cookie option', () => {
  const fx = useServer({});

  fx.test('the handshake sets no cookie (engine.io: cookie false)', async () => {
    const { res } = await handshake(fx.port);
    assert.equal(res.headers['set-cookie'], undefined);
  });
});
