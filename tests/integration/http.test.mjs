// HTTP/1.1 layer of the echo server over raw TCP (node:net): keep-alive, pipelining,
// request smuggling and size limits (RFC 9112 sections 2-7), header/idle timeouts.
// Every rejection must come as a status line and a closed connection, never a hang:
// each wait is bounded and a timeout fails the test.
// Server: examples/echo started with --header-timeout 500 --idle-timeout 500, or the
// reference with NOOM_REF=1 (Node's http server + engine.io).
import { describe } from 'node:test';
import assert from 'node:assert/strict';

import { refDiffers, useServer } from './lib/server.mjs';
import { RawConn } from './lib/rawhttp.mjs';

const HS = '/engine.io/?EIO=4&transport=polling';
const HOST = 'Host: 127.0.0.1';
const req = (lines) => `${lines.join('\r\n')}\r\n\r\n`;
const OPEN_RE = /^0\{"sid":"[^"]+","upgrades":\["websocket"\]/;

// Sends raw bytes on a new connection; resolves with the first response once the server
// has also closed the connection. Fails if either takes longer than ms.
async function exchangeThenClose(port, bytes, ms = 5000) {
  const conn = await RawConn.open(port);
  try {
    await conn.write(bytes).catch(() => {}); // the server may close before reading it all
    const res = await conn.readResponse(ms);
    await conn.waitClosed(ms);
    return res;
  } finally {
    conn.destroy();
  }
}

describe('HTTP/1.1 over raw TCP', () => {
  const fx = useServer({ headerTimeout: 500, idleTimeout: 500 });

  describe('connection handling', () => {
    fx.test('keep-alive: two requests on one connection are both answered', async () => {
      const conn = await RawConn.open(fx.port);
      try {
        await conn.write(req([`GET ${HS} HTTP/1.1`, HOST]));
        const a = await conn.readResponse();
        assert.equal(a.status, 200);
        assert.match(a.body.toString(), OPEN_RE);
        assert.ok(!conn.closed, 'connection still open after the first response');
        await conn.write(req([`GET /engine.io/?EIO=4&transport=foo HTTP/1.1`, HOST]));
        const b = await conn.readResponse();
        assert.equal(b.status, 400);
        assert.deepEqual(JSON.parse(b.body), { code: 0, message: 'Transport unknown' });
      } finally {
        conn.destroy();
      }
    });

    fx.test('pipelined requests in one write are answered in order', async () => {
      const conn = await RawConn.open(fx.port);
      try {
        await conn.write(
          req([`GET ${HS} HTTP/1.1`, HOST])
          + req([`GET /engine.io/?EIO=4&transport=foo HTTP/1.1`, HOST])
          + req([`GET /engine.io/?EIO=3&transport=polling HTTP/1.1`, HOST])
          + req([`GET ${HS} HTTP/1.1`, HOST]),
        );
        const r = [];
        for (let i = 0; i < 4; i++) r.push(await conn.readResponse());
        assert.deepEqual(r.map((x) => x.status), [200, 400, 400, 200]);
        assert.match(r[0].body.toString(), OPEN_RE);
        assert.equal(JSON.parse(r[1].body).code, 0);
        assert.equal(JSON.parse(r[2].body).code, 5);
        assert.match(r[3].body.toString(), OPEN_RE);
        assert.notEqual(r[0].body.toString(), r[3].body.toString(), 'two sessions, two sids');
      } finally {
        conn.destroy();
      }
    });

    fx.test('a pipelined POST and GET for one session: "ok", then the echo', async () => {
      const hs = await exchangeThenClose(fx.port, req([`GET ${HS} HTTP/1.1`, HOST, 'Connection: close']));
      const sid = JSON.parse(hs.body.toString().slice(1)).sid;
      const conn = await RawConn.open(fx.port);
      try {
        const body = '4pipelined';
        await conn.write(
          req([`POST ${HS}&sid=${sid} HTTP/1.1`, HOST, 'Content-Type: text/plain;charset=UTF-8',
            `Content-Length: ${body.length}`]) + body
          + req([`GET ${HS}&sid=${sid} HTTP/1.1`, HOST]),
        );
        const a = await conn.readResponse();
        assert.equal(a.status, 200);
        assert.equal(a.body.toString(), 'ok');
        const b = await conn.readResponse();
        assert.equal(b.status, 200);
        assert.equal(b.body.toString(), body);
      } finally {
        conn.destroy();
      }
    });

    fx.test('Connection: close is honoured: answered, then closed', async () => {
      const res = await exchangeThenClose(fx.port, req([`GET ${HS} HTTP/1.1`, HOST, 'Connection: close']));
      assert.equal(res.status, 200);
      assert.match(res.body.toString(), OPEN_RE);
    });

    fx.test('HTTP/1.0 without keep-alive: answered (as HTTP/1.1), then closed', async () => {
      const res = await exchangeThenClose(fx.port, req([`GET ${HS} HTTP/1.0`]));
      assert.equal(res.status, 200);
      assert.match(res.version, /^1\.[01]$/);
      assert.match(res.body.toString(), OPEN_RE);
    });

    fx.test('a tab inside a header value is accepted', async () => {
      const res = await exchangeThenClose(fx.port, req([`GET ${HS} HTTP/1.1`, HOST, 'X-Tab: a\tb', 'Connection: close']));
      assert.equal(res.status, 200);
    });

    fx.test('40 ordinary headers and a 4 KiB URL are accepted', async () => {
      const headers = Array.from({ length: 40 }, (_, i) => `X-Header-${i}: value-${i}`);
      const url = `${HS}&pad=${'p'.repeat(4096)}`;
      const res = await exchangeThenClose(fx.port, req([`GET ${url} HTTP/1.1`, HOST, ...headers, 'Connection: close']));
      assert.equal(res.status, 200);
      assert.match(res.body.toString(), OPEN_RE);
    });
  });

  describe('malformed or oversized requests: status, then close', () => {
    const cases = [
      ['conflicting Content-Length headers', [400], req([`POST ${HS} HTTP/1.1`, HOST,
        'Content-Length: 5', 'Content-Length: 6']) + 'hello!'],
      ['duplicate (equal) Content-Length headers', [400], req([`POST ${HS} HTTP/1.1`, HOST,
        'Content-Length: 2', 'Content-Length: 2']) + '4x'],
      ['Content-Length and Transfer-Encoding together', [400], req([`POST ${HS} HTTP/1.1`, HOST,
        'Content-Length: 5', 'Transfer-Encoding: chunked']) + '0\r\n\r\n'],
      ['Transfer-Encoding: chunked (not supported)', [411, 400], req([`POST ${HS} HTTP/1.1`, HOST,
        'Transfer-Encoding: chunked']) + '0\r\n\r\n'],
      ['Transfer-Encoding: gzip, chunked', [411, 400], req([`POST ${HS} HTTP/1.1`, HOST,
        'Transfer-Encoding: gzip, chunked']) + '0\r\n\r\n'],
      ['non-numeric Content-Length', [400], req([`POST ${HS} HTTP/1.1`, HOST, 'Content-Length: abc'])],
      ['negative Content-Length', [400], req([`POST ${HS} HTTP/1.1`, HOST, 'Content-Length: -1'])],
      ['Content-Length with a plus sign', [400], req([`POST ${HS} HTTP/1.1`, HOST, 'Content-Length: +2']) + '4x'],
      ['whitespace between header name and colon', [400], req([`POST ${HS} HTTP/1.1`, HOST,
        'Content-Length : 2']) + '4x'],
      ['obsolete line folding', [400], req([`GET ${HS} HTTP/1.1`, HOST, 'X-Folded: a', ' b'])],
      ['bare CR inside a header', [400], req([`GET ${HS} HTTP/1.1`, HOST, 'X-A: a\rb'])],
      ['bare LF line endings', [400], `GET ${HS} HTTP/1.1\n${HOST}\nX-A: b\n\n`],
      ['a header line without a colon', [400], req([`GET ${HS} HTTP/1.1`, HOST, 'NoColonHere'])],
      ['NUL inside a header value', [400], req([`GET ${HS} HTTP/1.1`, HOST, 'X-A: a\0b'])],
      ['a control character (0x01) inside a header value', [400], req([`GET ${HS} HTTP/1.1`, HOST, 'X-A: a\x01b'])],
      ['a garbage request line', [400], req(['GARBAGE'])],
      ['HTTP/1.1 without Host', [400], req([`GET ${HS} HTTP/1.1`])],
      ['a header over 16 KiB', [431], req([`GET ${HS} HTTP/1.1`, HOST, `X-Big: ${'b'.repeat(17 * 1024)}`])],
      ['500 headers (too many)', [431], req([`GET ${HS} HTTP/1.1`, HOST,
        ...Array.from({ length: 500 }, (_, i) => `X-H${i}: v`)])],
      ['a URL over 8 KiB', [414], req([`GET ${HS}&x=${'u'.repeat(9000)} HTTP/1.1`, HOST])],
      ['HTTP/9.9', [505], req([`GET ${HS} HTTP/9.9`, HOST]), refDiffers],
    ];
    for (const [name, statuses, bytes, opts = {}] of cases) {
      fx.test(`${name} -> ${statuses.join(' or ')}`, opts, async () => {
        const res = await exchangeThenClose(fx.port, bytes);
        assert.equal(res.version, '1.1', `status line HTTP/${res.version}`);
        assert.ok(statuses.includes(res.status), `got ${res.status} ${res.reason}`);
      });
    }
  });

  describe('timeouts (--header-timeout 500 --idle-timeout 500)', () => {
    fx.test('slowloris: half a request head, then silence: the server closes', async () => {
      const conn = await RawConn.open(fx.port);
      try {
        await conn.write(`GET ${HS} HTTP/1.1\r\n${HOST}\r\nX-Slow: `);
        await conn.waitClosed(10000);
        assertTimeoutAnswer(conn);
      } finally {
        conn.destroy();
      }
    });

    fx.test('slowloris: a head dribbled one byte at a time is still cut off', async () => {
      const conn = await RawConn.open(fx.port);
      // One byte every 50 ms keeps the connection busy but never finishes the head: the
      // header timeout must count from the start of the request, not from the last byte.
      const timer = setInterval(() => { if (!conn.closed) conn.sock.write('a'); }, 50);
      try {
        await conn.write(`GET ${HS} HTTP/1.1\r\n${HOST}\r\nX-Drip: `);
        await conn.waitClosed(10000);
        assertTimeoutAnswer(conn);
      } finally {
        clearInterval(timer);
        conn.destroy();
      }
    });

    fx.test('a connection that never sends a byte is closed', async () => {
      const conn = await RawConn.open(fx.port);
      try {
        await conn.waitClosed(10000);
        assertTimeoutAnswer(conn);
      } finally {
        conn.destroy();
      }
    });

    fx.test('an idle keep-alive connection is eventually closed', async () => {
      const conn = await RawConn.open(fx.port);
      try {
        await conn.write(req([`GET ${HS} HTTP/1.1`, HOST]));
        const res = await conn.readResponse();
        assert.equal(res.status, 200);
        assert.doesNotMatch(res.headers.connection || '', /close/i, 'kept alive after the response');
        await conn.waitClosed(10000);
        assert.equal(conn.buf.length, 0, `nothing after the response: ${conn.buf.toString('latin1').slice(0, 100)}`);
      } finally {
        conn.destroy();
      }
    });
  });
});

// After a header timeout the server may send nothing or a 408; anything else is wrong.
function assertTimeoutAnswer(conn) {
  const text = conn.buf.toString('latin1');
  if (text.length === 0) return;
  assert.match(text, /^HTTP\/1\.1 408 /, `unexpected answer ${JSON.stringify(text.slice(0, 100))}`);
}
