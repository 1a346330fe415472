// socket.handshake.query as the reference builds it: engine.io 6.6.12 sets req._query to
// Object.fromEntries(new URL(req.url).searchParams), so a key repeated in the URL keeps
// its LAST value (not an array: that was querystring.parse, in older engine.io).
// socket.io-client cannot repeat a key (its query option is an object), so the session
// is driven by hand over HTTP long-polling. The library's own parse (fetchSockets'
// handshake JSON) is checked against the same cases in tests/unit/sio/test_handshake.c. Server: the test server's `whoami` command
// (tests/support/sio_test_server.c; NOOM_REF=1: tests/support/ref-sio-server.mjs).
// Run: node --test tests/integration/socketio_query.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SEP, request } from './lib/eio.mjs';
import { skipUnlessBuilt, startServer } from './lib/sio.mjs';

const skip = skipUnlessBuilt('test');

// GETs until a packet starting with prefix arrives; returns it.
async function pollFor(port, path, prefix) {
  for (let i = 0; i < 20; i++) {
    const res = await request(port, { path }, 5000);
    assert.equal(res.status, 200, res.text);
    const hit = res.text.split(SEP).find((p) => p.startsWith(prefix));
    if (hit) return hit;
  }
  throw new Error(`no ${prefix} packet`);
}

describe('handshake.query', { skip }, () => {
  let srv;
  before(async () => { srv = await startServer('test'); });
  after(async () => { await srv?.close(); });

  it('a repeated key keeps its last value (engine.io 6.6: Object.fromEntries of searchParams)', async () => {
    const port = Number(new URL(srv.url).port);
    const base = '/socket.io/?EIO=4&transport=polling';
    const open = await request(port, { path: `${base}&tag=a&solo=x&tag=b%20c&tag=d` });
    assert.equal(open.status, 200, open.text);
    const { sid } = JSON.parse(open.text.slice(1));
    const path = `${base}&sid=${sid}`;
    const post = (body) => request(port, { method: 'POST', path, body, headers: { 'Content-Type': 'text/plain' } });
    assert.equal((await post('40')).text, 'ok');
    await pollFor(port, path, '40{');
    assert.equal((await post('421["whoami"]')).text, 'ok');
    const [who] = JSON.parse((await pollFor(port, path, '431')).slice(3));
    const q = who.handshake.query;
    assert.equal(q.tag, 'd');
    assert.equal(q.solo, 'x');
    assert.equal(q.EIO, '4');
    await post('1');
  });
});
