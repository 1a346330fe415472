// Engine.IO v4 echo at /engine.io/, driven by the official engine.io-client 6.x in Node
// (polling only, websocket only, polling then upgrade), plus raw protocol checks over
// plain HTTP: handshake format, error codes, polling rules, upgrade rules, CORS, heartbeat.
// Spec: https://socket.io/docs/v4/engine-io-protocol/ ; behaviour of the npm engine.io 6
// server where the spec is silent. Server: examples/echo, or the reference with NOOM_REF=1.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import WebSocket from 'ws';

import { useServer } from './lib/server.mjs';
import { bytes, collector, deferred, nextEvent, withTimeout } from './lib/util.mjs';
import {
  SEP, awaitSessionClosed, eioPath, handshake, isSessionClosed, poll, post, request,
} from './lib/eio.mjs';

const MODES = [
  { name: 'polling only', opts: { transports: ['polling'] }, final: 'polling' },
  { name: 'websocket only', opts: { transports: ['websocket'] }, final: 'websocket' },
  { name: 'polling then upgrade', opts: {}, final: 'websocket' },
];

const toBuf = (x) => (Buffer.isBuffer(x) ? x
  : x instanceof ArrayBuffer ? Buffer.from(x) : Buffer.from(x.buffer, x.byteOffset, x.byteLength));

// Opens an engine.io-client socket to the server and resolves once 'open' fired.
async function openClient(fx, opts = {}) {
  const socket = new Socket(`ws://127.0.0.1:${fx.port}`, { path: '/engine.io/', ...opts });
  try {
    await nextEvent(socket, 'open', 5000);
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}

// Sends every message and resolves with the echoes, in arrival order.
async function echoAll(socket, messages, ms = 10000) {
  const got = collector(messages.length, ms, 'echoes');
  const onMessage = (m) => got.push(m);
  const onClose = (reason) => got.fail(new Error(`socket closed: ${reason}`));
  socket.on('message', onMessage);
  socket.on('close', onClose);
  try {
    for (const m of messages) socket.send(m);
    return await got.done;
  } finally {
    socket.off('message', onMessage);
    socket.off('close', onClose);
  }
}

// Asserts that an echo equals what was sent: strings as strings, binary as the same bytes.
function assertEcho(received, sent, i = 0) {
  if (sent === '') {
    // "4" alone: engine.io-client hands the data of an empty message packet as undefined.
    assert.ok(received === undefined || received === '', `message ${i}: ${typeof received}`);
  } else if (typeof sent === 'string') {
    assert.equal(typeof received, 'string', `message ${i}: expected text, got binary`);
    assert.equal(received, sent, `message ${i}`);
  } else {
    assert.notEqual(typeof received, 'string', `message ${i}: expected binary, got text`);
    assert.ok(toBuf(received).equals(toBuf(sent)), `message ${i}: bytes differ`);
  }
}

describe('engine.io-client echo', () => {
  const fx = useServer();

  for (const mode of MODES) {
    describe(mode.name, () => {
      fx.test('echoes text messages (ASCII, multi-byte UTF-8, empty)', async () => {
        const socket = await openClient(fx, mode.opts);
        try {
          const sent = ['hello', 'héllo wörld € 𝄞 日本語 🙂', '', '{"json":[1,2,3]}'];
          const got = await echoAll(socket, sent);
          sent.forEach((m, i) => assertEcho(got[i], m, i));
        } finally {
          socket.close();
        }
      });

      fx.test('echoes binary messages byte for byte (Uint8Array, Buffer, empty)', async () => {
        const socket = await openClient(fx, mode.opts);
        try {
          const sent = [
            new Uint8Array([0, 1, 2, 127, 128, 254, 255]),
            bytes(1000, 7),
            Buffer.from('binary, not text'),
            Buffer.alloc(0),
          ];
          const got = await echoAll(socket, sent);
          sent.forEach((m, i) => assertEcho(got[i], m, i));
        } finally {
          socket.close();
        }
      });

      fx.test('echoes 200 mixed text/binary messages in order', async () => {
        const socket = await openClient(fx, mode.opts);
        try {
          const sent = [];
          for (let i = 0; i < 200; i++) {
            sent.push(i % 3 === 2 ? bytes(1 + (i % 50), i + 1) : `msg ${i} ${'x'.repeat(i % 17)}`);
          }
          const got = await echoAll(socket, sent, 20000);
          sent.forEach((m, i) => assertEcho(got[i], m, i));
        } finally {
          socket.close();
        }
      });

      fx.test('echoes large messages close to maxPayload (1e6)', async () => {
        const socket = await openClient(fx, mode.opts);
        try {
          // Text packet "4" + 999,000 chars; binary travels as "b" + base64 on polling,
          // so 740,000 bytes (986,668 encoded) stays under the limit on every transport.
          const text = 'abcdefghij'.repeat(99900);
          const bin = bytes(740000, 99);
          const got = await echoAll(socket, [text, bin], 20000);
          assertEcho(got[0], text, 0);
          assertEcho(got[1], bin, 1);
        } finally {
          socket.close();
        }
      });

      fx.test(`ends on transport ${mode.final}`, async () => {
        const socket = await openClient(fx, mode.opts);
        try {
          if (mode.final === 'websocket' && socket.transport.name !== 'websocket') {
            await nextEvent(socket, 'upgrade', 5000);
          }
          assert.equal(socket.transport.name, mode.final);
          const got = await echoAll(socket, ['still echoing']);
          assert.equal(got[0], 'still echoing');
          assert.equal(socket.transport.name, mode.final);
        } finally {
          socket.close();
        }
      });
    });
  }

  fx.test('upgrade: messages sent before, during and after the upgrade come back in order', async () => {
    const socket = new Socket(`ws://127.0.0.1:${fx.port}`, { path: '/engine.io/' });
    const sent = [];
    const got = [];
    const phases = [];
    const finished = deferred();
    const send = (tag, n) => {
      for (let i = 0; i < n; i++) {
        const m = i % 2 ? Buffer.from(`${tag}-${i}`) : `${tag}-${i}`;
        sent.push(m);
        socket.send(m);
      }
    };
    socket.on('open', () => {
      phases.push(`open:${socket.transport.name}`);
      send('before', 20);
    });
    socket.on('upgrading', () => {
      phases.push(`upgrading:${socket.transport.name}`);
      send('during', 20);
    });
    socket.on('upgrade', () => {
      phases.push(`upgrade:${socket.transport.name}`);
      send('after', 20);
    });
    socket.on('message', (m) => {
      got.push(m);
      if (got.length === 60) finished.resolve();
    });
    socket.on('close', (reason) => finished.reject(new Error(`closed: ${reason}`)));
    socket.on('error', (err) => finished.reject(err));
    try {
      await withTimeout(finished.promise, 10000, `echoes (got ${got.length} of 60)`);
      assert.deepEqual(phases, ['open:polling', 'upgrading:polling', 'upgrade:websocket']);
      assert.equal(socket.transport.name, 'websocket');
      sent.forEach((m, i) => assertEcho(got[i], m, i));
    } finally {
      socket.close();
    }
  });
});

describe('heartbeat (--ping-interval 300 --ping-timeout 200)', () => {
  const fx = useServer({ pingInterval: 300, pingTimeout: 200 });

  fx.test('the handshake advertises the configured intervals', async () => {
    const { open } = await handshake(fx.port);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
  });

  for (const transports of [['polling'], ['websocket']]) {
    fx.test(`a ${transports[0]} session that answers pings stays open across several intervals`, async () => {
      const socket = await openClient(fx, { transports });
      let pings = 0;
      let closed = null;
      const three = deferred();
      socket.on('ping', () => { if (++pings === 3) three.resolve(); });
      socket.on('close', (reason) => {
        closed = reason;
        three.reject(new Error(`closed after ${pings} pings: ${reason}`));
      });
      try {
        await withTimeout(three.promise, 5000, `3 pings (got ${pings})`);
        // One more round trip: the session still echoes after the pings.
        const got = await echoAll(socket, ['alive']);
        assert.equal(got[0], 'alive');
        assert.equal(closed, null);
        assert.ok(pings >= 3);
      } finally {
        socket.close();
      }
    });
  }

  fx.test('a websocket client that never answers pings is dropped', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/engine.io/?EIO=4&transport=websocket`);
    const frames = [];
    ws.on('message', (data, isBinary) => frames.push(isBinary ? data : data.toString()));
    const closed = nextEvent(ws, 'close', 5000);
    try {
      await nextEvent(ws, 'open', 5000);
      await closed; // never sends "3"
      assert.equal(frames[0][0], '0', 'first frame is the open packet');
      assert.ok(frames.includes('2'), `a ping was sent before the drop: ${JSON.stringify(frames)}`);
    } finally {
      ws.terminate();
    }
  });

  fx.test('a polling client that never answers pings is dropped', async () => {
    const { sid } = await handshake(fx.port);
    const res = await awaitSessionClosed(fx.port, sid, 5000);
    assert.ok(isSessionClosed(res));
    // Gone for good: the sid is unknown now.
    const after = await poll(fx.port, sid);
    assert.equal(after.status, 400);
    assert.deepEqual(JSON.parse(after.text), { code: 1, message: 'Session ID unknown' });
  });
});

describe('raw Engine.IO over HTTP', () => {
  const fx = useServer();

  fx.test('handshake: 0{"sid","upgrades","pingInterval","pingTimeout","maxPayload"} in that order', async () => {
    const { raw, res, open } = await handshake(fx.port);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain/);
    assert.match(raw,
      /^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$/);
    assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload']);
  });

  fx.test('every handshake gets a new sid', async () => {
    const a = await handshake(fx.port);
    const b = await handshake(fx.port);
    assert.notEqual(a.sid, b.sid);
  });

  const errors = [
    ['EIO=3', eioPath({ EIO: '3' }), 'GET', { code: 5, message: 'Unsupported protocol version' }],
    ['no EIO', '/engine.io/?transport=polling', 'GET', { code: 5, message: 'Unsupported protocol version' }],
    ['transport=foo', eioPath({ transport: 'foo' }), 'GET', { code: 0, message: 'Transport unknown' }],
    ['no transport', '/engine.io/?EIO=4', 'GET', { code: 0, message: 'Transport unknown' }],
    ['unknown sid', eioPath({ sid: 'AAAAAAAAAAAAAAAAAAAA' }), 'GET', { code: 1, message: 'Session ID unknown' }],
    ['unknown sid (POST)', eioPath({ sid: 'nope' }), 'POST', { code: 1, message: 'Session ID unknown' }],
    ['POST handshake', eioPath({}), 'POST', { code: 2, message: 'Bad handshake method' }],
    ['transport=websocket without Upgrade', eioPath({ transport: 'websocket' }), 'GET', { code: 3, message: 'Bad request' }],
  ];
  for (const [label, path, method, body] of errors) {
    fx.test(`${label} -> 400 ${JSON.stringify(body)}`, async () => {
      const res = await request(fx.port, { method, path, body: method === 'POST' ? '4x' : undefined });
      assert.equal(res.status, 400);
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.deepEqual(JSON.parse(res.text), body);
    });
  }

  fx.test('POST answers "ok" and the message comes back on the next GET', async () => {
    const { sid } = await handshake(fx.port);
    const res = await post(fx.port, sid, '4hello');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    const got = await poll(fx.port, sid);
    assert.equal(got.status, 200);
    assert.match(got.headers['content-type'], /^text\/plain/);
    assert.equal(got.text, '4hello');
  });

  fx.test('a waiting GET is answered when a message arrives', async () => {
    const { sid } = await handshake(fx.port);
    const pending = poll(fx.port, sid);
    // The GET is parked on the server; the POST's echo must release it.
    await post(fx.port, sid, '4wake up');
    const got = await pending;
    assert.equal(got.text, '4wake up');
  });

  fx.test('payloads: packets joined with \\x1e and binary as b<base64>, both directions', async () => {
    const { sid } = await handshake(fx.port);
    const payload = ['4hello', `b${Buffer.from([1, 2, 3, 4]).toString('base64')}`, '4wörld', 'b/+7/AA=='].join(SEP);
    const res = await post(fx.port, sid, payload);
    assert.equal(res.text, 'ok');
    const got = await poll(fx.port, sid);
    assert.equal(got.text, '4hello\x1ebAQIDBA==\x1e4wörld\x1eb/+7/AA==');
  });

  fx.test('a second concurrent GET gets 400 and closes the session', async () => {
    const { sid } = await handshake(fx.port);
    // Two GETs on two connections: the session has nothing to send, so whichever reaches
    // the server first parks, and the other one is the overlapping one. Which is which
    // depends on scheduling, so the assertion takes them in either order.
    const both = await Promise.all([poll(fx.port, sid), poll(fx.port, sid)]);
    const refused = both.filter((r) => r.status === 400);
    const released = both.filter((r) => r.status === 200);
    assert.equal(refused.length, 1, `statuses ${both.map((r) => r.status)}`);
    assert.equal(released.length, 1, `statuses ${both.map((r) => r.status)}`);
    assert.equal(released[0].text, '1', 'the parked GET is released with a close packet');
    const after = await poll(fx.port, sid);
    assert.equal(after.status, 400);
    assert.deepEqual(JSON.parse(after.text), { code: 1, message: 'Session ID unknown' });
  });

  fx.test('after an upgrade to websocket, polling GET and POST on that sid are refused', async () => {
    const { sid } = await handshake(fx.port);
    const pending = poll(fx.port, sid);
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}${eioPath({ transport: 'websocket', sid })}`);
    try {
      await nextEvent(ws, 'open');
      ws.send('2probe');
      const [probe, isBinary] = await nextEvent(ws, 'message');
      assert.equal(isBinary, false);
      assert.equal(probe.toString(), '3probe');
      // During the upgrade the parked GET is released with a noop.
      const released = await pending;
      assert.equal(released.status, 200);
      assert.equal(released.text, '6');
      ws.send('5');
      ws.send('4over websocket');
      const [echo] = await nextEvent(ws, 'message');
      assert.equal(echo.toString(), '4over websocket');
      for (const res of [await poll(fx.port, sid), await post(fx.port, sid, '4late')]) {
        assert.equal(res.status, 400);
        assert.deepEqual(JSON.parse(res.text), { code: 3, message: 'Bad request' });
      }
      // The websocket session is unharmed.
      ws.send('4still here');
      const [again] = await nextEvent(ws, 'message');
      assert.equal(again.toString(), '4still here');
    } finally {
      ws.terminate();
    }
  });

  fx.test('a GET arriving mid-upgrade (after 3probe, before 5) is released, and buffered echoes follow on it', async () => {
    // engine.io-client pauses polling after "3probe": it waits for its in-flight GET to
    // come back before it sends "5". A server that parks that GET stalls the upgrade.
    const { sid } = await handshake(fx.port);
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}${eioPath({ transport: 'websocket', sid })}`);
    try {
      await nextEvent(ws, 'open');
      ws.send('2probe');
      const [probe] = await nextEvent(ws, 'message');
      assert.equal(probe.toString(), '3probe');
      const released = await poll(fx.port, sid, 5000);
      assert.equal(released.status, 200);
      assert.equal(released.text, '6');
      // Messages posted while upgrading come back on polling (the websocket is not
      // active before "5"); the GET that carries them is answered right away.
      assert.equal((await post(fx.port, sid, `4m1${SEP}4m2`)).text, 'ok');
      const echoes = await poll(fx.port, sid, 5000);
      assert.equal(echoes.status, 200);
      assert.equal(echoes.text, `4m1${SEP}4m2`);
      ws.send('5');
      ws.send('4done');
      const [done] = await nextEvent(ws, 'message');
      assert.equal(done.toString(), '4done');
    } finally {
      ws.terminate();
    }
  });

  fx.test('CORS: a request with an Origin gets it echoed, with credentials allowed', async () => {
    const origin = 'http://example.com';
    const { sid, res } = await handshake(fx.port, { Origin: origin });
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const p = await request(fx.port, {
      method: 'POST', path: eioPath({ sid }), headers: { Origin: origin }, body: '4x',
    });
    assert.equal(p.text, 'ok');
    assert.equal(p.headers['access-control-allow-origin'], origin);
    assert.equal(p.headers['access-control-allow-credentials'], 'true');
  });

  fx.test('CORS: an OPTIONS preflight is answered 204 with the allow headers', async () => {
    const origin = 'http://example.com';
    const res = await request(fx.port, {
      method: 'OPTIONS',
      path: eioPath({}),
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const methods = (res.headers['access-control-allow-methods'] || '').split(/\s*,\s*/);
    assert.ok(methods.includes('GET') && methods.includes('POST'), `methods: ${methods}`);
    assert.match(res.headers['access-control-allow-headers'] || '', /(^|,\s*)content-type(\s*,|$)/i);
  });
});

describe('raw Engine.IO over HTTP (--max-payload 1000)', () => {
  const fx = useServer({ maxPayload: 1000 });

  fx.test('the handshake advertises maxPayload 1000', async () => {
    const { open } = await handshake(fx.port);
    assert.equal(open.maxPayload, 1000);
  });

  fx.test('a POST body of exactly maxPayload bytes is accepted', async () => {
    const { sid } = await handshake(fx.port);
    const body = `4${'y'.repeat(999)}`;
    const res = await post(fx.port, sid, body);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    assert.equal((await poll(fx.port, sid)).text, body);
  });

  fx.test('a POST body over maxPayload is refused with 413 and closes the session', async () => {
    const { sid } = await handshake(fx.port);
    const res = await post(fx.port, sid, `4${'z'.repeat(2000)}`);
    assert.equal(res.status, 413);
    const after = await poll(fx.port, sid, 5000);
    assert.ok(isSessionClosed(after),
      `session still open: ${after.status} ${JSON.stringify(after.text.slice(0, 100))}`);
  });
});
