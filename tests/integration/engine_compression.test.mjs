// engine.io's httpCompression (default { threshold: 1024 }): a long-poll answer of at
// least the threshold goes out gzip- or deflate-compressed when Accept-Encoding allows,
// chosen as npm accepts does; smaller answers, POST answers and clients that accept
// neither get it as is. Checked over plain HTTP with byte counts and decompression.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

import { useServer } from './lib/server.mjs';
import { eioPath, handshake, request } from './lib/eio.mjs';

// Opens a session, posts one message of n bytes for the echo to send back, and fetches
// the answer with these request headers. Resolves to the raw response.
async function echoed(port, n, headers) {
  const { sid } = await handshake(port);
  const msg = `4${'hello world '.repeat(Math.ceil(n / 12)).slice(0, n)}`;
  const post = await request(port, { method: 'POST', path: eioPath({ sid }), body: msg });
  assert.equal(post.text, 'ok');
  assert.equal(post.headers['content-encoding'], undefined, 'POST answers are never compressed');
  const res = await request(port, { path: eioPath({ sid }), headers });
  assert.equal(res.status, 200);
  return { res, msg };
}

describe('httpCompression with engine.io\'s default threshold (1024)', () => {
  const fx = useServer({});

  fx.test('gzip: a 4000-byte answer comes compressed, smaller, and inflates back', async (t) => {
    const { res, msg } = await echoed(fx.port, 4000, { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(Number(res.headers['content-length'] ?? res.body.length), res.body.length);
    const plain = zlib.gunzipSync(res.body).toString('utf8');
    assert.equal(plain, msg);
    t.diagnostic(`payload ${Buffer.byteLength(plain)} bytes, sent ${res.body.length} gzip`);
    assert.ok(res.body.length < plain.length / 4, `${res.body.length} bytes`);
  });

  fx.test('deflate when the client prefers it (zlib format, as Node\'s createDeflate)', async () => {
    const { res, msg } = await echoed(fx.port, 4000, { 'Accept-Encoding': 'deflate;q=1, gzip;q=0.5' });
    assert.equal(res.headers['content-encoding'], 'deflate');
    assert.equal(zlib.inflateSync(res.body).toString('utf8'), msg);
  });

  fx.test('no Accept-Encoding, identity only, or gzip;q=0: sent as is', async () => {
    for (const headers of [{}, { 'Accept-Encoding': 'identity' }, { 'Accept-Encoding': 'gzip;q=0, br' }]) {
      const { res, msg } = await echoed(fx.port, 4000, headers);
      assert.equal(res.headers['content-encoding'], undefined, JSON.stringify(headers));
      assert.equal(res.text, msg);
    }
  });

  fx.test('an answer under the threshold is sent as is', async () => {
    const { res, msg } = await echoed(fx.port, 1000, { 'Accept-Encoding': 'gzip' });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.text, msg);
  });
});

describe('httpCompression with a threshold of 100 (--http-compression 100)', () => {
  const fx = useServer({ extra: ['--http-compression', '100'] });

  fx.test('a 200-byte answer is compressed', async () => {
    const { res, msg } = await echoed(fx.port, 200, { 'Accept-Encoding': 'gzip' });
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(res.body).toString('utf8'), msg);
  });
});

describe('httpCompression off (--http-compression off)', () => {
  const fx = useServer({ extra: ['--http-compression', 'off'] });

  fx.test('a large answer is sent as is even to a gzip client', async () => {
    const { res, msg } = await echoed(fx.port, 4000, { 'Accept-Encoding': 'gzip' });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.text, msg);
  });
});
