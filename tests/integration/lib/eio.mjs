// Engine.IO v4 by hand over plain HTTP (node:http, one connection per request), for the
// raw protocol checks: handshake, polling GET/POST, payload encoding.
// Spec: https://socket.io/docs/v4/engine-io-protocol/ (packet types 0 open, 1 close,
// 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop; payloads joined with \x1e; binary
// packets in a payload are "b" + base64).
import http from 'node:http';
import { withTimeout } from './util.mjs';

export const SEP = '\x1e';

// One HTTP request on a fresh connection. Resolves to { status, headers, body (Buffer),
// text }. Rejects after ms (a hung request fails the test).
export function request(port, { method = 'GET', path = '/', headers = {}, body } = {}, ms = 10000) {
  const p = new Promise((res, rej) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, headers, agent: false,
    }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const buf = Buffer.concat(chunks);
        res({ status: resp.statusCode, headers: resp.headers, body: buf, text: buf.toString('utf8') });
      });
      resp.on('error', rej);
    });
    req.on('error', rej);
    if (body !== undefined) req.end(body); else req.end();
  });
  return withTimeout(p, ms, `${method} ${path.slice(0, 80)}`);
}

export function eioPath(query) {
  const q = new URLSearchParams({ EIO: '4', transport: 'polling', ...query });
  return `/engine.io/?${q}`;
}

// Opens a polling session. Resolves to { sid, open (parsed JSON), raw (body text), res }.
export async function handshake(port, headers = {}) {
  const res = await request(port, { path: eioPath({}), headers });
  if (res.status !== 200 || res.text[0] !== '0') {
    throw new Error(`handshake failed: ${res.status} ${JSON.stringify(res.text.slice(0, 200))}`);
  }
  const open = JSON.parse(res.text.slice(1));
  return { sid: open.sid, open, raw: res.text, res };
}

export function poll(port, sid, ms = 10000) {
  return request(port, { path: eioPath({ sid }) }, ms);
}

export function post(port, sid, body, ms = 10000) {
  return request(port, {
    method: 'POST',
    path: eioPath({ sid }),
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    body,
  }, ms);
}

// Payload codec (v4): string packets "<type><data>", binary message packets "b<base64>".
export function encodePayload(packets) {
  return packets.map((p) => (Buffer.isBuffer(p) ? `b${p.toString('base64')}` : p)).join(SEP);
}

// Returns an array of strings (non-binary packets, type char included) and Buffers
// (binary message packets).
export function decodePayload(text) {
  return text.split(SEP).map((p) => (p[0] === 'b' ? Buffer.from(p.slice(1), 'base64') : p));
}

// True if the polling response says the session is over: a payload whose last packet is
// the close packet "1", or 400 {"code":1} (session unknown).
export function isSessionClosed(res) {
  if (res.status === 400) {
    try { return JSON.parse(res.text).code === 1; } catch { return false; }
  }
  if (res.status !== 200) return false;
  const packets = res.text.split(SEP);
  return packets[packets.length - 1] === '1';
}

// Polls until the session is reported closed (see isSessionClosed), answering nothing.
// Any other response (pings, messages, noop) just leads to the next poll.
export async function awaitSessionClosed(port, sid, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`session ${sid} still open after ${ms} ms`);
    const res = await poll(port, sid, left);
    if (isSessionClosed(res)) return res;
    if (res.status !== 200) {
      throw new Error(`unexpected poll answer ${res.status} ${JSON.stringify(res.text.slice(0, 200))}`);
    }
  }
}
