// Slow consumers really go away (README: "a slow reader is disconnected at an 8 MiB
// queue"). A hostile client joins a room and stops reading while others chat; the server
// must drop it within a bounded time (its TCP connection reset, not left ESTABLISHED
// with megabytes queued), give the memory back, and keep delivering every message to the
// rest of the room. Over WebSocket (a raw `ws` client whose socket is paused) and over
// long-polling (a raw HTTP client that stops polling).
//
// Against build/examples/echo with its default max_send_queue (8 MiB): `join(room)` and
// `bcast({room, ...})` (re-emitted to the room but the sender). The server's disconnect is
// read from its debug log ("engine: session <sid> closed (transport error)"), its memory
// from /proc/<pid>/status, the TCP state from /proc/net/tcp. No sleeps: every wait polls
// a condition with a deadline.
//
// Run: node --test tests/integration/slow_consumer.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { request, SEP } from './lib/eio.mjs';
import { IS_REF, useServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';

const MSG_BYTES = 64 * 1024;
// 25 MiB: more than the 8 MiB queue plus what the kernel buffers on both sides.
const MESSAGES = 400;
const WINDOW = 16;
const GONE_MS = 10000; // the close must come well before the first ping (25 s)
const RSS_SLACK_KB = 4 * 1024;

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

// Polls cond() every 20 ms until it returns a truthy value (resolved with it) or ms pass.
async function until(cond, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

// TCP connections 127.0.0.1:localPort <-> 127.0.0.1:remotePort in /proc/net/tcp, as
// { state, txQueue } (state 01 is ESTABLISHED).
function tcpEntries(localPort, remotePort) {
  const hex = (p) => p.toString(16).toUpperCase().padStart(4, '0');
  const want = `0100007F:${hex(localPort)} 0100007F:${hex(remotePort)}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 4 && `${f[1]} ${f[2]}` === want)
    .map((f) => ({ state: f[3], txQueue: parseInt(f[4].split(':')[0], 16) }));
}

const skip = IS_REF ? 'the limit and its log lines are noom\'s' : false;

describe('slow consumers', { skip }, () => {
  const fx = useServer({ extra: ['--log-level', 'debug'] });
  const pid = () => fx.pid;

  // A sender and a reader (socket.io-client over WebSocket) in room; returns them and a
  // flood(n) that has the sender broadcast n messages and resolves when the reader got
  // all of them, in order.
  async function chatters(room) {
    const opts = { transports: ['websocket'], forceNew: true, reconnection: false };
    const a = io(fx.origin, opts);
    const b = io(fx.origin, opts);
    await Promise.all([a, b].map((s) => withTimeout(new Promise((res) => s.once('connect', res)), 5000, 'connect')));
    for (const s of [a, b]) assert.equal(await s.timeout(5000).emitWithAck('join', room), true);
    const data = 'x'.repeat(MSG_BYTES);
    // At most WINDOW messages in flight: the reader reads as fast as the chat goes, so
    // only the client under test is a slow consumer.
    function flood(n, from = 0) {
      const end = from + n;
      let sent = from;
      let next = from;
      const send = () => a.emit('bcast', { room, seq: sent++, data });
      return withTimeout(new Promise((res, rej) => {
        const on = (m) => {
          if (m.seq !== next) {
            b.off('bcast', on);
            rej(new Error(`reader got #${m.seq}, expected #${next}`));
            return;
          }
          if (++next === end) {
            b.off('bcast', on);
            res();
          } else if (sent < end) send();
        };
        b.on('bcast', on);
        while (sent < Math.min(end, from + WINDOW)) send();
      }), 30000, `reader receiving ${n} messages`);
    }
    return { a, b, flood, close: () => { a.close(); b.close(); } };
  }

  // "session <sid> closed (<reason>)" in the server's log.
  const closedReason = (sid) => {
    const m = new RegExp(`session ${sid} closed \\(([^)]*)\\)`).exec(fx.stderr());
    return m ? m[1] : null;
  };

  fx.test('a WebSocket reader that stops reading is reset, its memory freed, and the room keeps chatting', async () => {
    const room = 'slow-ws';
    const chat = await chatters(room);
    // The hostile client: Engine.IO + Socket.IO handshake by hand, join, then stop reading.
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/socket.io/?EIO=4&transport=websocket`);
    const inbox = [];
    let wake = null;
    ws.on('message', (d) => { inbox.push(d.toString()); wake?.(); });
    // The next message, skipping the echo server's "auth" event.
    const nextMsg = () => withTimeout(new Promise((res) => {
      const take = () => {
        while (inbox.length && inbox[0].startsWith('42["auth"')) inbox.shift();
        if (inbox.length) { wake = null; res(inbox.shift()); } else wake = take;
      };
      take();
    }), 5000, 'raw client message');
    let clientClosed = false;
    ws.on('error', () => {});
    ws.on('close', () => { clientClosed = true; });
    const open = await nextMsg();
    assert.equal(open[0], '0');
    const sid = JSON.parse(open.slice(1)).sid;
    ws.send('40');
    assert.match(await nextMsg(), /^40\{"sid":/);
    ws.send(`421["join","${room}"]`);
    assert.equal(await nextMsg(), '431[true]');
    const localPort = ws._socket.localPort;
    ws._socket.pause();

    const baseline = rssKb(pid());
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, rssKb(pid())); }, 10);
    try {
      await chat.flood(MESSAGES);
      // The server noticed and closed the session: its disconnect ran.
      assert.equal(await until(() => closedReason(sid), GONE_MS, 'server closing the session'), 'transport error');
      assert.match(fx.stderr(), new RegExp(`session ${sid} is not reading`));
      // The server's side of the connection is gone, not ESTABLISHED with a full queue.
      await until(() => tcpEntries(fx.port, localPort).every((e) => e.state !== '01'), GONE_MS,
        `server socket to :${localPort} leaving ESTABLISHED (${JSON.stringify(tcpEntries(fx.port, localPort))})`);
      // The client sees its connection closed without having read anything: it was reset,
      // so a write fails at once (a FIN would still sit behind the unread bytes).
      await until(() => {
        if (!clientClosed) ws._socket.write(Buffer.from([0x8a, 0x80, 0, 0, 0, 0])); // a masked empty pong
        return clientClosed;
      }, GONE_MS, 'client socket closing');
      // The room goes on: every message still reaches the reader.
      await chat.flood(20, MESSAGES);
      // And the queued megabytes are given back.
      const after = await until(() => {
        const kb = rssKb(pid());
        return kb < baseline + RSS_SLACK_KB ? kb : 0;
      }, GONE_MS, `server RSS back near its baseline of ${baseline} kB (peak ${peak} kB, now ${rssKb(pid())} kB)`);
      assert.ok(peak > baseline + 6 * 1024, `the queue was really held (baseline ${baseline} kB, peak ${peak} kB)`);
      assert.ok(after < baseline + RSS_SLACK_KB);
    } finally {
      clearInterval(sampler);
      ws.terminate();
      chat.close();
    }
  });

  fx.test('a polling client that stops polling is closed and its queue freed', async () => {
    const room = 'slow-polling';
    const chat = await chatters(room);
    const path = (sid) => `/socket.io/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;
    const hs = await request(fx.port, { path: path() });
    assert.equal(hs.text[0], '0');
    const sid = JSON.parse(hs.text.slice(1)).sid;
    const post = (body) => request(fx.port, { method: 'POST', path: path(sid), body });
    const get = () => request(fx.port, { path: path(sid) });
    assert.equal((await post('40')).text, 'ok');
    assert.match((await get()).text, /^40\{"sid":/);
    assert.equal((await post(`421["join","${room}"]`)).text, 'ok');
    assert.ok((await get()).text.split(SEP).includes('431[true]'));
    // ... and no more GETs.
    const baseline = rssKb(pid());
    try {
      await chat.flood(MESSAGES / 2);
      assert.equal(await until(() => closedReason(sid), GONE_MS, 'server closing the session'), 'transport error');
      assert.match(fx.stderr(), new RegExp(`session ${sid} is not polling`));
      const res = await get();
      assert.equal(res.status, 400, 'the session is gone');
      await chat.flood(20, MESSAGES / 2);
      await until(() => rssKb(pid()) < baseline + RSS_SLACK_KB, GONE_MS,
        `server RSS back near its baseline of ${baseline} kB (now ${rssKb(pid())} kB)`);
    } finally {
      chat.close();
    }
  });
});
