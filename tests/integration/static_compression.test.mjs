// build/noom's pages and browser client, served gzipped (made once at startup) to clients
// whose Accept-Encoding allows it, with "Vary: Accept-Encoding", an ETag per encoding and
// 304s; and the browser client's other paths as Node's socket.io serveClient answers
// them (/socket.io/socket.io.min.js and the two .map files: 200, not the engine's 400).
// With NOOM_REF=1 only the paths test runs, against Node's socket.io (ref-echo.mjs).
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

import { startNoom } from './lib/noom.mjs';
import { IS_REF, refDiffers, startServer } from './lib/server.mjs';
import { request } from './lib/eio.mjs';

describe('static files and the browser client, compressed', () => {
  let srv;
  before(async () => { srv = IS_REF ? await startServer({}) : await startNoom([]); });
  after(async () => { if (srv) await srv.stop(); });
  const get = (path, headers = {}) => request(srv.port, { path, headers });

  test('the browser client: gzip for a gzip client, smaller, the same bytes once inflated', { ...refDiffers }, async (t) => {
    const plain = await get('/socket.io/socket.io.js');
    const gz = await get('/socket.io/socket.io.js', { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(plain.status, 200);
    assert.equal(gz.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.match(plain.headers['content-type'], /javascript/);
    assert.equal(gz.headers['content-type'], plain.headers['content-type']);
    assert.equal(Number(gz.headers['content-length']), gz.body.length);
    assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
    t.diagnostic(`socket.io.js: ${plain.body.length} bytes plain, ${gz.body.length} gzip`);
    assert.ok(gz.body.length < plain.body.length / 3);
    // A deflate-only client gets the plain bytes (only gzip copies are kept).
    const df = await get('/socket.io/socket.io.js', { 'Accept-Encoding': 'deflate' });
    assert.equal(df.headers['content-encoding'], undefined);
    assert.deepEqual(df.body, plain.body);
  });

  test('ETags differ per encoding, and each 304s only for its own representation', { ...refDiffers }, async () => {
    const plain = await get('/socket.io/socket.io.js');
    const gz = await get('/socket.io/socket.io.js', { 'Accept-Encoding': 'gzip' });
    const ep = plain.headers.etag;
    const eg = gz.headers.etag;
    assert.ok(ep && eg && ep !== eg, `${ep} vs ${eg}`);
    const gz304 = await get('/socket.io/socket.io.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': eg });
    assert.equal(gz304.status, 304);
    assert.equal(gz304.body.length, 0);
    assert.equal(gz304.headers.etag, eg);
    assert.equal(gz304.headers.vary, 'Accept-Encoding');
    const p304 = await get('/socket.io/socket.io.js', { 'If-None-Match': ep });
    assert.equal(p304.status, 304);
    // The gzip ETag does not validate the plain representation, nor the other way round.
    assert.equal((await get('/socket.io/socket.io.js', { 'If-None-Match': eg })).status, 200);
    assert.equal((await get('/socket.io/socket.io.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': ep })).status, 200);
  });

  test('pages, scripts and styles are served gzipped; a small icon is not', { ...refDiffers }, async (t) => {
    const sizes = [];
    for (const path of ['/', '/app.js', '/style.css']) {
      const plain = await get(path);
      const gz = await get(path, { 'Accept-Encoding': 'gzip' });
      assert.equal(gz.headers['content-encoding'], 'gzip', path);
      assert.deepEqual(zlib.gunzipSync(gz.body), plain.body, path);
      sizes.push(`${path} ${plain.body.length} -> ${gz.body.length}`);
    }
    t.diagnostic(sizes.join(', '));
    const icon = await get('/favicon.svg', { 'Accept-Encoding': 'gzip' });
    assert.equal(icon.status, 200);
    assert.equal(icon.headers['content-encoding'], undefined);
  });

  test('the client\'s serveClient paths answer as Node does: .min.js and both maps 200', async () => {
    for (const [path, type] of [
      ['/socket.io/socket.io.js', /^application\/javascript/],
      ['/socket.io/socket.io.min.js', /^application\/javascript/],
      ['/socket.io/socket.io.js.map', /^application\/json/],
      ['/socket.io/socket.io.min.js.map', /^application\/json/],
    ]) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers['content-type'], type, path);
      assert.ok(res.headers.etag, path);
      if (path.endsWith('.map')) assert.equal(JSON.parse(res.text).version, 3, path);
    }
    // Anything else under the engine's path is still the engine's (400 as Node).
    const other = await get('/socket.io/nothing.js');
    assert.equal(other.status, 400);
  });
});
