// engine.io's cors option, which engine.io hands to the npm cors package (2.8): origin as
// a list, "*", a fixed string or a callback, with methods, allowedHeaders, exposedHeaders,
// credentials and maxAge; preflights answered 204 with cors's headers. Plain HTTP (the
// headers are the contract), plus socket.io-client with extraHeaders / withCredentials.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';

import { useServer } from './lib/server.mjs';
import { nextEvent } from './lib/util.mjs';
import { eioPath, handshake, request } from './lib/eio.mjs';

const CORS_HEADERS = [
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods',
  'access-control-allow-headers', 'access-control-max-age', 'access-control-expose-headers', 'vary',
];
// The CORS headers of a response (absent ones left out), and its Content-Length.
function corsOf(res) {
  const out = {};
  for (const h of CORS_HEADERS) if (res.headers[h] !== undefined) out[h] = res.headers[h];
  return out;
}

function preflight(port, origin, requestHeaders) {
  const headers = { 'Access-Control-Request-Method': 'POST' };
  if (origin) headers.Origin = origin;
  if (requestHeaders) headers['Access-Control-Request-Headers'] = requestHeaders;
  return request(port, { method: 'OPTIONS', path: eioPath({}), headers });
}

describe('CORS: a list with every option', () => {
  const fx = useServer({
    extra: ['--cors-origin', 'http://a.com,http://b.com', '--cors-credentials', '--cors-methods', 'GET,POST',
      '--cors-allowed-headers', 'X-Token,Content-Type', '--cors-exposed-headers', 'X-Noom', '--cors-max-age', '600'],
  });

  fx.test('a preflight from a listed origin gets every header, 204 and Content-Length 0', async () => {
    const res = await preflight(fx.port, 'http://b.com', 'x-token');
    assert.equal(res.status, 204);
    assert.equal(res.headers['content-length'], '0');
    assert.deepEqual(corsOf(res), {
      'access-control-allow-origin': 'http://b.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'X-Token,Content-Type',
      'access-control-max-age': '600',
      'access-control-expose-headers': 'X-Noom',
      vary: 'Origin',
    });
  });

  fx.test('a preflight from another origin: 204 without Access-Control-Allow-Origin', async () => {
    const res = await preflight(fx.port, 'http://evil.com');
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,POST');
  });

  fx.test('actual responses: origin, credentials and exposed headers, not the preflight ones', async () => {
    const { sid, res } = await handshake(fx.port, { Origin: 'http://a.com' });
    assert.deepEqual(corsOf(res), {
      'access-control-allow-origin': 'http://a.com',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Noom',
      vary: 'Origin',
    });
    const post = await request(fx.port, { method: 'POST', path: eioPath({ sid }), headers: { Origin: 'http://a.com' }, body: '4x' });
    assert.equal(post.headers['access-control-allow-origin'], 'http://a.com');
    const other = await handshake(fx.port, { Origin: 'http://evil.com' });
    assert.equal(other.res.headers['access-control-allow-origin'], undefined);
    assert.equal(other.res.headers['access-control-allow-credentials'], 'true');
    // An error response carries them too (cors runs before engine.io's checks).
    const bad = await request(fx.port, { path: eioPath({ sid: 'nope' }), headers: { Origin: 'http://a.com' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['access-control-allow-origin'], 'http://a.com');
  });

  fx.test('socket.io-client with extraHeaders (Origin, X-Token) and withCredentials connects', async () => {
    const sock = io(fx.origin, {
      transports: ['polling', 'websocket'], reconnection: false, withCredentials: true,
      extraHeaders: { Origin: 'http://a.com', 'X-Token': 'secret' },
    });
    try {
      await nextEvent(sock, 'connect', 5000);
      assert.ok(sock.id);
    } finally {
      sock.close();
    }
  });
});

describe('CORS: origin "*" (cors\'s default)', () => {
  const fx = useServer({ extra: ['--cors-origin', '*'] });

  fx.test('preflight: "*", the default methods, the request headers reflected', async () => {
    const res = await preflight(fx.port, 'http://x.org', 'content-type,x-a');
    assert.equal(res.status, 204);
    assert.deepEqual(corsOf(res), {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE',
      'access-control-allow-headers': 'content-type,x-a',
      vary: 'Access-Control-Request-Headers',
    });
  });

  fx.test('actual response: "*" with no Vary and no credentials, with or without an Origin', async () => {
    for (const headers of [{ Origin: 'http://x.org' }, {}]) {
      const { res } = await handshake(fx.port, headers);
      assert.deepEqual(corsOf(res), { 'access-control-allow-origin': '*' });
    }
  });
});

describe('CORS: an origin callback (suffix .example.com) with credentials', () => {
  const fx = useServer({ extra: ['--cors-origin', 'suffix:.example.com', '--cors-credentials'] });

  fx.test('an origin the callback allows is reflected', async () => {
    const { res } = await handshake(fx.port, { Origin: 'https://app.example.com' });
    assert.deepEqual(corsOf(res), {
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    const pre = await preflight(fx.port, 'https://app.example.com');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(pre.headers.vary, 'Origin, Access-Control-Request-Headers');
  });

  fx.test('an origin it refuses gets no CORS header, and its preflight goes on to the engine (400)', async () => {
    const { res } = await handshake(fx.port, { Origin: 'https://evil.com' });
    assert.deepEqual(corsOf(res), {});
    const pre = await preflight(fx.port, 'https://evil.com');
    assert.equal(pre.status, 400);
    assert.deepEqual(JSON.parse(pre.text), { code: 2, message: 'Bad handshake method' });
    assert.deepEqual(corsOf(pre), {});
  });
});

describe('CORS: a fixed origin', () => {
  const fx = useServer({ extra: ['--cors-origin', 'https://only.example'] });

  fx.test('is sent whatever the request\'s Origin, with Vary: Origin', async () => {
    const { res } = await handshake(fx.port, { Origin: 'https://other.example' });
    assert.deepEqual(corsOf(res), { 'access-control-allow-origin': 'https://only.example', vary: 'Origin' });
  });
});

describe('CORS: off (--cors-off)', () => {
  const fx = useServer({ extra: ['--cors-off'] });

  fx.test('no CORS headers, and a preflight is refused by the engine', async () => {
    const { res } = await handshake(fx.port, { Origin: 'http://a.com' });
    assert.deepEqual(corsOf(res), {});
    const pre = await preflight(fx.port, 'http://a.com');
    assert.equal(pre.status, 400);
    assert.equal(JSON.parse(pre.text).code, 2);
  });
});
