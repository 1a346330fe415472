// permessage-deflate (RFC 7692) on the echo server, seen by the npm `ws` client configured
// with perMessageDeflate as Node users configure it, and by socket.io-client 4.8 with its
// perMessageDeflate option. The server's frames are read off the TCP socket under the
// client (a tap on its 'data' events), so the tests check what went over the wire: RSV1
// on compressed messages, small ones sent as they are, context takeover visible in the
// compressed sizes. Frames a good client never sends (a decompression bomb, RSV1 without
// the extension, broken deflate data) are written byte by byte.
// Server: examples/echo --per-message-deflate (its /ws is a plain WebSocket echo, its
// /engine.io/ an Engine.IO echo), or with NOOM_REF=1 tests/support/ref-echo.mjs (ws's
// WebSocketServer and engine.io with the same perMessageDeflate options).
// Where Node differs (refDiffers): ws 8 applies the threshold only to a side without
// context takeover (sender.js), and engine.io 6.6's WebSocket transport calls
// ws.send(data, cb) without options, so neither its threshold nor socket.io's
// compress(false) reaches the frame; we follow what engine.io documents (and did up to
// 6.5): below the threshold or with compress(false), a packet goes uncompressed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import { io } from 'socket.io-client';

import { useServer, refDiffers, IS_REF } from './lib/server.mjs';
import { nextEvent, withTimeout, wordText } from './lib/util.mjs';
import { OP, wsFrame } from './lib/wsframe.mjs';
import { RawConn } from './lib/rawhttp.mjs';
import { startNoom } from './lib/noom.mjs';

const DEFLATE = ['--per-message-deflate'];

// Parses the server's (unmasked) frames out of the client's socket as they arrive.
function tapFrames(ws) {
  const frames = [];
  let buf = Buffer.alloc(0);
  ws._socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      frames.push({ fin: !!(buf[0] & 0x80), rsv1: !!(buf[0] & 0x40), opcode: buf[0] & 0x0f, len });
      buf = buf.subarray(off + len);
    }
  });
  return frames;
}

// Opens path with ws options; queues messages in ws.msgs, close in ws.closed.
async function open(fx, path, opts = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${fx.port}${path}`, opts);
  ws.msgs = [];
  ws.waiters = [];
  ws.on('message', (data, binary) => {
    const m = { data: binary ? data : data.toString('utf8'), binary };
    const w = ws.waiters.shift();
    if (w) w(m); else ws.msgs.push(m);
  });
  ws.closed = new Promise((res) => ws.once('close', (code) => res(code)));
  ws.on('error', () => {});
  // The 101's Sec-WebSocket-Extensions as sent (ws.extensions lists names only).
  ws.once('upgrade', (res) => { ws.ext = res.headers['sec-websocket-extensions'] ?? ''; });
  await nextEvent(ws, 'open', 5000);
  ws.frames = tapFrames(ws);
  return ws;
}

function next(ws, ms = 5000) {
  if (ws.msgs.length) return Promise.resolve(ws.msgs.shift());
  return withTimeout(new Promise((res) => ws.waiters.push(res)), ms, 'next message');
}

// Text that compresses well but not trivially (so window and context matter).
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'zeta', 'eta', 'theta'];
const text = (n, seed = 7) => wordText(WORDS, n, seed);

// A compressed payload as RFC 7692 §7.2.1 sends it: raw deflate, sync flush, tail removed.
function deflatePayload(buf) {
  const out = zlib.deflateRawSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

async function expectClose(ws, code) {
  assert.equal(await withTimeout(ws.closed, 5000, `close ${code}`), code);
}

describe('permessage-deflate on a plain WebSocket (/ws)', () => {
  const fx = useServer({ maxPayload: 100000, extra: DEFLATE });

  fx.test('the extension is negotiated and both directions compress above the threshold', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: { threshold: 0 } });
    try {
      assert.match(ws.extensions, /^permessage-deflate/);
      const big = text(20000);
      const sentBefore = ws._socket.bytesWritten;
      ws.send(big);
      const m = await next(ws);
      assert.equal(m.data, big);
      // The client compressed it (20000 chars of a few words), and so did the server.
      assert.ok(ws._socket.bytesWritten - sentBefore < 8000, `client sent ${ws._socket.bytesWritten - sentBefore} bytes`);
      const f = ws.frames.at(-1);
      assert.ok(f.rsv1, 'server frame has RSV1');
      assert.ok(f.len < 8000, `compressed frame of ${f.len} bytes`);
      const bin = Buffer.from(text(5000, 3));
      ws.send(bin);
      const b = await next(ws);
      assert.equal(b.binary, true);
      assert.deepEqual(b.data, bin);
      assert.ok(ws.frames.at(-1).rsv1);
    } finally {
      ws.close();
    }
  });

  fx.test('messages under the threshold (1024 bytes) go uncompressed, on the raw frames', refDiffers, async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: true });
    try {
      for (const n of [0, 10, 1023]) {
        const s = 'a'.repeat(n);
        ws.send(s, { compress: true });
        assert.equal((await next(ws)).data, s);
        const f = ws.frames.at(-1);
        assert.equal(f.rsv1, false, `${n}-byte message sent uncompressed`);
        assert.equal(f.len, n);
      }
      const s = 'a'.repeat(1024);
      ws.send(s);
      assert.equal((await next(ws)).data, s);
      assert.equal(ws.frames.at(-1).rsv1, true, '1024 bytes: compressed');
      assert.ok(ws.frames.at(-1).len < 100);
    } finally {
      ws.close();
    }
  });

  fx.test('client messages sent uncompressed (compress: false) are accepted too', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: { threshold: 0 } });
    try {
      const s = text(3000);
      ws.send(s, { compress: false });
      assert.equal((await next(ws)).data, s);
    } finally {
      ws.close();
    }
  });

  fx.test('a fragmented compressed message is reassembled and inflated', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: { threshold: 0 } });
    try {
      const parts = [text(4000, 1), text(4000, 2), text(10, 3)];
      ws.send(parts[0], { fin: false, compress: true });
      ws.send(parts[1], { fin: false, compress: true });
      ws.send(parts[2], { fin: true, compress: true });
      assert.equal((await next(ws)).data, parts.join(''));
      // By hand too: RSV1 on the first frame only, the deflate stream cut anywhere.
      const payload = deflatePayload(Buffer.from(text(6000, 9)));
      const cut = [0, 7, 300, payload.length];
      for (let i = 0; i < 3; i++) {
        ws._socket.write(wsFrame({ fin: i === 2, rsv: i === 0 ? 4 : 0, opcode: i === 0 ? OP.TEXT : OP.CONT,
          payload: payload.subarray(cut[i], cut[i + 1]) }));
      }
      assert.equal((await next(ws)).data, text(6000, 9));
    } finally {
      ws.close();
    }
  });

  fx.test('context takeover: a repeated message compresses to a few bytes; without it, to the same size', async () => {
    const msg = text(3000, 5);
    const on = await open(fx, '/ws', { perMessageDeflate: true });
    try {
      assert.doesNotMatch(on.ext, /no_context_takeover/);
      on.send(msg);
      await next(on);
      on.send(msg);
      await next(on);
      const [a, b] = on.frames.slice(-2);
      assert.ok(b.len < a.len / 4, `second frame ${b.len} vs first ${a.len}`);
    } finally {
      on.close();
    }
    const off = await open(fx, '/ws', {
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    try {
      assert.match(off.ext, /server_no_context_takeover/);
      assert.match(off.ext, /client_no_context_takeover/);
      for (let i = 0; i < 3; i++) {
        off.send(msg);
        assert.equal((await next(off)).data, msg);
      }
      const [a, b, c] = off.frames.slice(-3);
      assert.equal(b.len, a.len);
      assert.equal(c.len, a.len);
      assert.ok(a.rsv1);
    } finally {
      off.close();
    }
  });

  fx.test('context takeover is per direction', async () => {
    const msg = text(3000, 6);
    for (const [opts, serverKeeps] of [[{ serverNoContextTakeover: true }, false], [{ clientNoContextTakeover: true }, true]]) {
      const ws = await open(fx, '/ws', { perMessageDeflate: { ...opts, threshold: 0 } });
      try {
        assert.equal(/server_no_context_takeover/.test(ws.ext), !serverKeeps, ws.ext);
        assert.equal(/client_no_context_takeover/.test(ws.ext), serverKeeps, ws.ext);
        for (let i = 0; i < 3; i++) {
          ws.send(msg);
          assert.equal((await next(ws)).data, msg);
        }
        const [a, b, c] = ws.frames.slice(-3);
        if (serverKeeps) assert.ok(b.len < a.len / 4 && c.len < a.len / 4, `${a.len} ${b.len} ${c.len}`);
        else assert.ok(b.len === a.len && c.len === a.len, `${a.len} ${b.len} ${c.len}`);
      } finally {
        ws.close();
      }
    }
  });

  fx.test('window bits: the client limits both windows, long-distance repeats still round-trip', async () => {
    const ws = await open(fx, '/ws', {
      perMessageDeflate: { serverMaxWindowBits: 9, clientMaxWindowBits: 9, threshold: 0 },
    });
    try {
      assert.match(ws.ext, /server_max_window_bits=9/);
      assert.match(ws.ext, /client_max_window_bits=9/);
      // Repeats 700 bytes apart: beyond a 512-byte window, so they must not be referenced.
      const block = text(700, 11);
      const msg = block.repeat(40);
      ws.send(msg);
      assert.equal((await next(ws)).data, msg);
      ws.send(msg);
      assert.equal((await next(ws)).data, msg);
    } finally {
      ws.close();
    }
  });

  fx.test('a decompression bomb (10 MB of zeros in ~10 KB) is closed with 1009', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: true });
    const bomb = deflatePayload(Buffer.alloc(10e6));
    assert.ok(bomb.length < 100000);
    ws._socket.write(wsFrame({ rsv: 4, opcode: OP.BINARY, payload: bomb }));
    await expectClose(ws, 1009);
  });

  fx.test('a message inflating to exactly the limit passes, one byte more is 1009', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: true });
    try {
      ws._socket.write(wsFrame({ rsv: 4, opcode: OP.BINARY, payload: deflatePayload(Buffer.alloc(100000, 1)) }));
      assert.equal((await next(ws)).data.length, 100000);
      ws._socket.write(wsFrame({ rsv: 4, opcode: OP.BINARY, payload: deflatePayload(Buffer.alloc(100001, 1)) }));
      await expectClose(ws, 1009);
    } finally {
      ws.terminate();
    }
  });

  fx.test('broken deflate data is closed with 1007', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: true });
    ws._socket.write(wsFrame({ rsv: 4, opcode: OP.TEXT, payload: Buffer.from([0xff, 0xff, 0xff, 0x12, 0x34]) }));
    await expectClose(ws, 1007);
  });

  fx.test('compressed text that inflates to invalid UTF-8 is closed with 1007', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: true });
    ws._socket.write(wsFrame({ rsv: 4, opcode: OP.TEXT, payload: deflatePayload(Buffer.from([0x61, 0xc3, 0x28])) }));
    await expectClose(ws, 1007);
  });

  fx.test('RSV1 on a continuation or a control frame is closed with 1002', async () => {
    const a = await open(fx, '/ws', { perMessageDeflate: true });
    a._socket.write(wsFrame({ rsv: 4, opcode: OP.PING, payload: Buffer.from('x') }));
    await expectClose(a, 1002);
    const b = await open(fx, '/ws', { perMessageDeflate: true });
    b._socket.write(wsFrame({ fin: false, opcode: OP.TEXT, payload: Buffer.from('ab') }));
    b._socket.write(wsFrame({ rsv: 4, opcode: OP.CONT, payload: Buffer.from('cd') }));
    await expectClose(b, 1002);
  });

  fx.test('RSV1 without the extension negotiated is closed with 1002', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: false });
    assert.equal(ws.extensions, '');
    ws._socket.write(wsFrame({ rsv: 4, opcode: OP.TEXT, payload: deflatePayload(Buffer.from('hello')) }));
    await expectClose(ws, 1002);
  });

  async function upgrade(ext) {
    const conn = await RawConn.open(fx.port);
    try {
      const lines = ['GET /ws HTTP/1.1', `Host: 127.0.0.1:${fx.port}`, 'Upgrade: websocket', 'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...ext, '', ''];
      await conn.write(lines.join('\r\n'));
      return await conn.readResponse(5000);
    } finally {
      conn.destroy();
    }
  }

  async function expectOffers(cases) {
    for (const [hdrs, want] of cases) {
      const res = await upgrade(hdrs);
      assert.equal(res.status, 101, hdrs.join(' | '));
      assert.equal(res.headers['sec-websocket-extensions'], want, hdrs.join(' | '));
    }
  }

  fx.test('offers: the first one the server can honour is accepted, with its parameters', async () => {
    await expectOffers([
      [['Sec-WebSocket-Extensions: x-webkit-deflate-frame'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'], 'permessage-deflate'],
      [['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits="10"; client_max_window_bits=12'],
        'permessage-deflate; server_max_window_bits=10; client_max_window_bits=12'],
      [['Sec-WebSocket-Extensions: foo; a=1', 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover'],
        'permessage-deflate; server_no_context_takeover'],
    ]);
  });

  // RFC 7692 §5: a server declines an offer it cannot accept. ws answers 400 instead
  // ("Invalid or unacceptable Sec-WebSocket-Extensions header").
  fx.test('offers: invalid ones are declined (101 without the extension), a valid one after them wins', refDiffers, async () => {
    await expectOffers([
      [['Sec-WebSocket-Extensions: permessage-deflate; foo=1'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; client_max_window_bits'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; "unterminated'], undefined],
      [['Sec-WebSocket-Extensions: permessage-deflate; foo, permessage-deflate; client_max_window_bits'],
        'permessage-deflate'],
    ]);
  });

  fx.test('the Engine.IO WebSocket transport compresses its packets too', async () => {
    const ws = await open(fx, '/engine.io/?EIO=4&transport=websocket', { perMessageDeflate: true });
    try {
      assert.match(ws.extensions, /^permessage-deflate/);
      await next(ws); // the open packet
      const s = text(5000);
      ws.send('4' + s);
      assert.equal((await next(ws)).data, '4' + s);
      assert.ok(ws.frames.at(-1).rsv1);
    } finally {
      ws.close();
    }
  });
});

describe('permessage-deflate threshold with context takeover off (same in Node)', () => {
  const fx = useServer({ extra: [...DEFLATE, '--deflate-server-no-takeover'] });

  fx.test('packets under 1024 bytes go uncompressed, 1024 and more compressed', async () => {
    const ws = await open(fx, '/ws', { perMessageDeflate: true });
    try {
      assert.match(ws.ext, /server_no_context_takeover/);
      for (const n of [0, 10, 1023, 1024, 3000]) {
        const s = 'a'.repeat(n);
        ws.send(s);
        assert.equal((await next(ws)).data, s);
        const f = ws.frames.at(-1);
        assert.equal(f.rsv1, n >= 1024, `${n}-byte message: RSV1 ${f.rsv1}`);
        if (n < 1024) assert.equal(f.len, n);
      }
    } finally {
      ws.close();
    }
  });
});

describe('a broadcast with server_no_context_takeover (one compressed frame for every receiver)', () => {
  const fx = useServer({ extra: [...DEFLATE, '--deflate-server-no-takeover'] });

  // A Socket.IO client by hand on /socket.io/ over ws with opts, joined to room.
  async function member(room, opts) {
    const ws = await open(fx, '/socket.io/?EIO=4&transport=websocket', opts);
    assert.match((await next(ws)).data, /^0\{/);
    ws.send('40');
    assert.match((await next(ws)).data, /^40\{/);
    ws.send(`420["join",${JSON.stringify(room)}]`);
    for (;;) if ((await next(ws)).data === '430[true]') return ws;
  }

  // The next message that is not the echo server's greeting or a ping.
  async function nextEventMsg(ws) {
    for (;;) {
      const m = await next(ws);
      if (m.binary || !/^(2$|42\["auth")/.test(m.data)) return m;
    }
  }

  fx.test('receivers with the same, other and no parameters all get every packet intact', { skip: IS_REF ? 'ref-echo.mjs has no join/bcast' : false }, async () => {
    const room = `deflate-${process.pid}-${Date.now()}`;
    const kinds = [
      ['default offer', { perMessageDeflate: true }],
      ['same offer again', { perMessageDeflate: true }],
      ['server_max_window_bits=10', { perMessageDeflate: { serverMaxWindowBits: 10 } }],
      ['client_no_context_takeover', { perMessageDeflate: { clientNoContextTakeover: true } }],
      ['no extension', { perMessageDeflate: false }],
    ];
    const sender = await member(room, { perMessageDeflate: true });
    const rx = [];
    for (const [, opts] of kinds) rx.push(await member(room, opts));
    try {
      assert.match(rx[2].ext, /server_max_window_bits=10/);
      assert.equal(rx[4].ext, '');
      for (let round = 0; round < 2; round++) {
        // A large text packet, then one with a large binary attachment.
        const msg = { room, round, text: text(6000, 11 + round) };
        sender.send(`42["bcast",${JSON.stringify(msg)}]`);
        const bin = Buffer.from(text(3000, 21 + round));
        sender.send(`451-["bcast",{"room":${JSON.stringify(room)},"round":${round},"bin":{"_placeholder":true,"num":0}}]`);
        sender.send(bin);
        for (const [i, ws] of rx.entries()) {
          const m1 = await nextEventMsg(ws);
          assert.deepEqual(JSON.parse(m1.data.slice(2)), ['bcast', msg], kinds[i][0]);
          const compressed = i !== 4;
          assert.equal(ws.frames.at(-1).rsv1, compressed, `${kinds[i][0]}: RSV1`);
          const h = await nextEventMsg(ws);
          assert.equal(h.data, `451-["bcast",{"room":${JSON.stringify(room)},"round":${round},"bin":{"_placeholder":true,"num":0}}]`);
          const b = await nextEventMsg(ws);
          assert.ok(b.binary && Buffer.from(b.data).equals(bin), `${kinds[i][0]}: attachment`);
          assert.equal(ws.frames.at(-1).rsv1, compressed, `${kinds[i][0]}: attachment RSV1`);
        }
      }
      // The sender got none of its own broadcasts: an echo round trip comes back first.
      sender.send('421["echo","sync"]');
      assert.equal((await nextEventMsg(sender)).data, '431["sync"]');
    } finally {
      for (const ws of [sender, ...rx]) ws.close();
    }
  });
});

describe('permessage-deflate off (the default)', () => {
  const fx = useServer();

  fx.test('an offer is declined and RSV1 is a protocol error', async () => {
    const ws = await open(fx, '/engine.io/?EIO=4&transport=websocket', { perMessageDeflate: true });
    assert.equal(ws.extensions, '');
    ws._socket.write(wsFrame({ rsv: 4, opcode: OP.TEXT, payload: deflatePayload(Buffer.from('4hello')) }));
    await expectClose(ws, 1002);
  });
});

describe('permessage-deflate with socket.io-client 4.8', () => {
  const fx = useServer({ extra: DEFLATE });

  async function connect() {
    const socket = io(fx.origin, { transports: ['websocket'], perMessageDeflate: { threshold: 0 }, forceNew: true });
    await nextEvent(socket, 'connect', 5000);
    return socket;
  }

  fx.test('payloads arrive intact both ways; the server compresses large packets', async () => {
    const socket = await connect();
    try {
      const ws = socket.io.engine.transport.ws;
      assert.match(ws.extensions, /permessage-deflate/);
      const frames = tapFrames(ws);
      const obj = { text: text(10000), n: 42, nested: { list: [1, 2, 3], s: 'ünïcödé' } };
      const got = nextEvent(socket, 'message-back', 5000);
      socket.emit('message', obj, 'second');
      assert.deepEqual((await got)[0], obj);
      assert.ok(frames.some((f) => f.rsv1 && f.len < 6000), JSON.stringify(frames));
      const bin = Buffer.from(text(4000, 2));
      const got2 = new Promise((res) => socket.once('message-back', (...a) => res(a)));
      socket.emit('message', bin);
      const [b] = await withTimeout(got2, 5000, 'binary back');
      assert.deepEqual(Buffer.from(b), bin);
    } finally {
      socket.disconnect();
    }
  });

  fx.test('compress(false) on the server sends the packet uncompressed', refDiffers, async () => {
    const socket = await connect();
    try {
      const frames = tapFrames(socket.io.engine.transport.ws);
      const s = text(5000);
      const got = nextEvent(socket, 'message-back', 5000);
      socket.emit('message-nocompress', s);
      assert.equal((await got)[0], s);
      const f = frames.find((x) => x.len > 5000);
      assert.ok(f, JSON.stringify(frames));
      assert.equal(f.rsv1, false);
      // The same packet without the flag is compressed.
      const got2 = nextEvent(socket, 'message-back', 5000);
      socket.emit('message', s);
      assert.equal((await got2)[0], s);
      assert.ok(frames.at(-1).rsv1);
    } finally {
      socket.disconnect();
    }
  });

  fx.test('a polling session upgraded to WebSocket compresses too (the probe negotiates)', async () => {
    const socket = io(fx.origin, { perMessageDeflate: { threshold: 0 }, forceNew: true });
    try {
      await nextEvent(socket, 'connect', 5000);
      if (socket.io.engine.transport.name !== 'websocket') await nextEvent(socket.io.engine, 'upgrade', 5000);
      const frames = tapFrames(socket.io.engine.transport.ws);
      const s = text(6000, 8);
      const got = nextEvent(socket, 'message-back', 5000);
      socket.emit('message', s);
      assert.equal((await got)[0], s);
      assert.ok(frames.some((f) => f.rsv1), JSON.stringify(frames));
    } finally {
      socket.disconnect();
    }
  });

  fx.test('compress(false) on the client is accepted (an uncompressed frame)', async () => {
    const socket = await connect();
    try {
      const s = text(5000, 4);
      const got = nextEvent(socket, 'message-back', 5000);
      socket.compress(false).emit('message', s);
      assert.equal((await got)[0], s);
    } finally {
      socket.disconnect();
    }
  });
});

// build/noom: --ws-deflate turns it on for the /ws chat and /socket.io/; off by default.
describe('build/noom --ws-deflate', { skip: IS_REF ? 'noom only' : false }, () => {
  for (const [flags, on] of [[['--ws-deflate'], true], [[], false]]) {
    test(`${on ? 'with' : 'without'} --ws-deflate, /ws and /socket.io/ ${on ? 'accept' : 'decline'} the offer`, async () => {
      const srv = await startNoom(['--stun-port', '0', ...flags]);
      try {
        for (const path of ['/ws', '/socket.io/?EIO=4&transport=websocket']) {
          const ws = await open({ port: srv.port }, path, { perMessageDeflate: true });
          assert.equal(ws.ext, on ? 'permessage-deflate' : '', path);
          ws.terminate();
        }
      } finally {
        await srv.stop();
      }
    });
  }
});
