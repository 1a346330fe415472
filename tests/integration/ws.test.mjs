// WebSocket layer of the echo server (RFC 6455) seen by a raw client: the npm `ws`
// package connects to /engine.io/?EIO=4&transport=websocket and speaks Engine.IO by hand;
// frames a good client never sends (invalid UTF-8, unmasked, reserved opcodes, broken
// control frames) are written byte by byte to the socket under it.
// Server: examples/echo, or the reference with NOOM_REF=1 (engine.io on `ws`).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { useServer } from './lib/server.mjs';
import { nextEvent, withTimeout, bytes } from './lib/util.mjs';
import { OP, wsFrame } from './lib/wsframe.mjs';
import { RawConn } from './lib/rawhttp.mjs';

const EIO_WS = '/engine.io/?EIO=4&transport=websocket';

// Connects and consumes the open packet. Every frame received afterwards is queued in
// ws.frames as { data: string|Buffer, binary }; nextFrame(ws) takes the next one.
async function connect(fx, opts = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${fx.port}${EIO_WS}`, opts);
  ws.frames = [];
  ws.waiters = [];
  ws.on('message', (data, binary) => {
    const frame = { data: binary ? data : data.toString('utf8'), binary };
    const w = ws.waiters.shift();
    if (w) w(frame); else ws.frames.push(frame);
  });
  ws.closed = new Promise((res) => ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
  ws.on('error', () => {}); // protocol errors surface as the close code
  await nextEvent(ws, 'open', 5000);
  const open = await nextFrame(ws);
  ws.openPacket = open;
  return ws;
}

function nextFrame(ws, ms = 5000) {
  if (ws.frames.length) return Promise.resolve(ws.frames.shift());
  return withTimeout(new Promise((res) => ws.waiters.push(res)), ms, 'next frame');
}

// Skips Engine.IO pings (the defaults make them rare, but a slow run may see one).
async function nextMessage(ws, ms = 5000) {
  for (;;) {
    const f = await nextFrame(ws, ms);
    if (!(f.binary === false && f.data === '2')) return f;
    ws.send('3');
  }
}

async function expectClose(ws, code) {
  const closed = await withTimeout(ws.closed, 5000, `close with ${code}`);
  assert.equal(closed.code, code, `close code ${closed.code} (reason ${JSON.stringify(closed.reason)})`);
}

describe('websocket framing (default limits)', () => {
  const fx = useServer();

  fx.test('the open packet arrives first, as a text frame', async () => {
    const ws = await connect(fx);
    try {
      const { data, binary } = ws.openPacket;
      assert.equal(binary, false);
      assert.match(data, /^0\{"sid":"[A-Za-z0-9_-]+","upgrades":\[\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$/);
    } finally {
      ws.terminate();
    }
  });

  fx.test('text frame "4hello" is echoed as text frame "4hello"', async () => {
    const ws = await connect(fx);
    try {
      ws.send('4hello');
      assert.deepEqual(await nextMessage(ws), { data: '4hello', binary: false });
      ws.send('4héllo €𝄞');
      assert.deepEqual(await nextMessage(ws), { data: '4héllo €𝄞', binary: false });
    } finally {
      ws.terminate();
    }
  });

  fx.test('a binary frame is echoed as a binary frame with the same bytes', async () => {
    const ws = await connect(fx);
    try {
      const payload = Buffer.concat([Buffer.from([0, 255, 0x34]), bytes(300, 3)]);
      ws.send(payload);
      const f = await nextMessage(ws);
      assert.equal(f.binary, true);
      assert.ok(Buffer.from(f.data).equals(payload));
    } finally {
      ws.terminate();
    }
  });

  fx.test('a fragmented text message is reassembled and echoed', async () => {
    const ws = await connect(fx);
    try {
      // "€" (e2 82 ac) is cut between the fragments: UTF-8 is checked on the message.
      const whole = Buffer.from('4frag €uro');
      const cut = whole.indexOf(0x82);
      ws.send(whole.subarray(0, cut), { binary: false, fin: false });
      ws.send(whole.subarray(cut, cut + 2), { binary: false, fin: false });
      ws.send(whole.subarray(cut + 2), { binary: false, fin: true });
      assert.deepEqual(await nextMessage(ws), { data: '4frag €uro', binary: false });
    } finally {
      ws.terminate();
    }
  });

  fx.test('a fragmented binary message with a ping between fragments is echoed', async () => {
    const ws = await connect(fx);
    try {
      const whole = bytes(500, 11);
      const pong = nextEvent(ws, 'pong', 5000);
      ws.send(whole.subarray(0, 100), { binary: true, fin: false });
      ws.ping(Buffer.from('mid'));
      ws.send(whole.subarray(100), { binary: true, fin: true });
      const [payload] = await pong;
      assert.equal(payload.toString(), 'mid');
      const f = await nextMessage(ws);
      assert.equal(f.binary, true);
      assert.ok(Buffer.from(f.data).equals(whole));
    } finally {
      ws.terminate();
    }
  });

  fx.test('a ping frame gets a pong with the same payload', async () => {
    const ws = await connect(fx);
    try {
      const payload = Buffer.from([1, 2, 3, 0, 0xfe, 0x41]);
      const pong = nextEvent(ws, 'pong', 5000);
      ws.ping(payload);
      const [got] = await pong;
      assert.ok(Buffer.from(got).equals(payload));
      const empty = nextEvent(ws, 'pong', 5000);
      ws.ping();
      assert.equal((await empty)[0].length, 0);
    } finally {
      ws.terminate();
    }
  });

  fx.test('a close frame from the client gets a close frame back (1000)', async () => {
    const ws = await connect(fx);
    ws.close(1000, 'bye');
    await expectClose(ws, 1000);
  });

  const violations = [
    ['invalid UTF-8 in a text frame -> 1007', 1007,
      wsFrame({ opcode: OP.TEXT, payload: Buffer.from([0x34, 0x61, 0xc3, 0x28]) })],
    ['invalid UTF-8 across text fragments -> 1007', 1007, Buffer.concat([
      wsFrame({ fin: false, opcode: OP.TEXT, payload: Buffer.from([0x34, 0xe2, 0x82]) }),
      wsFrame({ opcode: OP.CONT, payload: Buffer.from([0x28, 0x61]) })])],
    ['an encoded surrogate (ed a0 80) in a text frame -> 1007', 1007,
      wsFrame({ opcode: OP.TEXT, payload: Buffer.from([0x34, 0xed, 0xa0, 0x80]) })],
    ['an unmasked client frame -> 1002', 1002,
      wsFrame({ opcode: OP.TEXT, payload: Buffer.from('4unmasked'), mask: false })],
    ['reserved opcode 0x3 -> 1002', 1002, wsFrame({ opcode: 0x3, payload: Buffer.from('x') })],
    ['reserved control opcode 0xB -> 1002', 1002, wsFrame({ opcode: 0xb })],
    ['RSV1 set without a negotiated extension -> 1002', 1002,
      wsFrame({ rsv: 4, opcode: OP.TEXT, payload: Buffer.from('4rsv') })],
    ['a continuation frame with no message started -> 1002', 1002,
      wsFrame({ opcode: OP.CONT, payload: Buffer.from('4x') })],
    ['a new data frame inside a fragmented message -> 1002', 1002, Buffer.concat([
      wsFrame({ fin: false, opcode: OP.TEXT, payload: Buffer.from('4a') }),
      wsFrame({ opcode: OP.TEXT, payload: Buffer.from('4b') })])],
    ['a fragmented ping -> 1002', 1002, wsFrame({ fin: false, opcode: OP.PING, payload: Buffer.from('p') })],
    ['a ping with a 126-byte payload -> 1002', 1002, wsFrame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x61) })],
    ['a close frame with a 1-byte payload -> 1002', 1002, wsFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) })],
    ['a close frame with code 1005 (never sent on the wire) -> 1002', 1002,
      wsFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xed]) })],
  ];
  for (const [name, code, raw] of violations) {
    fx.test(name, async () => {
      const ws = await connect(fx);
      try {
        ws._socket.write(raw);
        await expectClose(ws, code);
      } finally {
        ws.terminate();
      }
    });
  }

  fx.test('a close frame with invalid UTF-8 in its reason -> 1007', async () => {
    const ws = await connect(fx);
    try {
      ws._socket.write(wsFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03, 0xe8, 0xc3, 0x28]) }));
      const closed = await withTimeout(ws.closed, 5000, 'close');
      // RFC 6455 7.1.6: a reason that is not UTF-8 is a failure: 1007 (ws answers 1007).
      assert.equal(closed.code, 1007);
    } finally {
      ws.terminate();
    }
  });
});

describe('websocket framing (--max-payload 1000)', () => {
  const fx = useServer({ maxPayload: 1000 });

  fx.test('a message of exactly maxPayload bytes is echoed', async () => {
    const ws = await connect(fx);
    try {
      const m = `4${'m'.repeat(999)}`;
      ws.send(m);
      assert.deepEqual(await nextMessage(ws), { data: m, binary: false });
    } finally {
      ws.terminate();
    }
  });

  fx.test('an oversized message (one frame) -> 1009', async () => {
    const ws = await connect(fx);
    try {
      ws.send(`4${'o'.repeat(1999)}`);
      await expectClose(ws, 1009);
    } finally {
      ws.terminate();
    }
  });

  fx.test('an oversized message (fragments each under the limit) -> 1009', async () => {
    const ws = await connect(fx);
    try {
      for (let i = 0; i < 3; i++) ws.send(Buffer.alloc(600, 0x61), { binary: true, fin: i === 2 });
      await expectClose(ws, 1009);
    } finally {
      ws.terminate();
    }
  });

  fx.test('a frame header announcing a huge length -> 1009 without waiting for the bytes', async () => {
    const ws = await connect(fx);
    try {
      // Only the 14-byte header of a 2^40-byte binary frame: the server must decide on the
      // announced length alone.
      const head = Buffer.from([0x82, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
      ws._socket.write(head);
      await expectClose(ws, 1009);
    } finally {
      ws.terminate();
    }
  });
});

describe('websocket handshake', () => {
  const fx = useServer();

  async function upgrade(headers) {
    const conn = await RawConn.open(fx.port);
    try {
      const lines = [`GET ${EIO_WS} HTTP/1.1`, `Host: 127.0.0.1:${fx.port}`, ...headers, '', ''];
      await conn.write(lines.join('\r\n'));
      return await conn.readResponse(5000);
    } finally {
      conn.destroy();
    }
  }

  fx.test('101 with the RFC 6455 Sec-WebSocket-Accept for the sample key', async () => {
    const res = await upgrade(['Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']);
    assert.equal(res.status, 101);
    assert.equal(res.headers.upgrade.toLowerCase(), 'websocket');
    assert.match(res.headers.connection, /upgrade/i);
    assert.equal(res.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  fx.test('a missing Sec-WebSocket-Key -> 400', async () => {
    const res = await upgrade(['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']);
    assert.equal(res.status, 400);
  });

  fx.test('an unsupported Sec-WebSocket-Version -> 400 (or 426)', async () => {
    const res = await upgrade(['Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 12']);
    assert.ok([400, 426].includes(res.status), `status ${res.status}`);
  });
});
