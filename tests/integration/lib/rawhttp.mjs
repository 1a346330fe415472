// Raw HTTP/1.1 over node:net: write exact bytes, read back whole responses, and notice
// when the server closes the connection. Every wait is bounded so a server that hangs
// fails the test instead of stalling it.
import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

// Parses one response at the start of buf. Returns { response, rest } or null when more
// bytes are needed. closed: the peer has closed (a body without length ends there).
export function parseResponse(buf, closed = false, method = 'GET') {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const status = Number(m[2]);
  const response = { version: m[1], status, reason: m[3] ?? '', headers, head, body: Buffer.alloc(0) };
  let pos = end + 4;
  const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) return { response, rest: buf.subarray(pos) };
  if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    const parts = [];
    for (;;) {
      const nl = buf.indexOf('\r\n', pos);
      if (nl < 0) return null;
      const size = parseInt(buf.subarray(pos, nl).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        const trailerEnd = buf.indexOf(CRLF2, nl);
        if (trailerEnd < 0) return null;
        response.body = Buffer.concat(parts);
        return { response, rest: buf.subarray(trailerEnd + 4) };
      }
      if (buf.length < nl + 2 + size + 2) return null;
      parts.push(buf.subarray(nl + 2, nl + 2 + size));
      pos = nl + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const len = Number(headers['content-length']);
    if (buf.length < pos + len) return null;
    response.body = buf.subarray(pos, pos + len);
    return { response, rest: buf.subarray(pos + len) };
  }
  if (!closed) return null; // body delimited by the connection close
  response.body = buf.subarray(pos);
  return { response, rest: Buffer.alloc(0) };
}

export class RawConn {
  // Connects to 127.0.0.1:port; resolves once connected.
  static open(port, ms = 5000) {
    return new Promise((res, rej) => {
      const sock = net.connect(port, '127.0.0.1');
      const timer = setTimeout(() => { sock.destroy(); rej(new Error('connect timed out')); }, ms);
      sock.once('connect', () => { clearTimeout(timer); res(new RawConn(sock)); });
      sock.once('error', (err) => { clearTimeout(timer); rej(err); });
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.closed = false; // the server ended or reset the connection
    this.error = null;
    this.waiters = new Set();
    sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    sock.on('end', () => { this.closed = true; this.wake(); });
    sock.on('close', () => { this.closed = true; this.wake(); });
    sock.on('error', (err) => { this.error = err; this.closed = true; this.wake(); });
  }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  // Calls check() after every arrival until it returns a non-undefined value.
  until(check, ms, label) {
    return new Promise((res, rej) => {
      const waiter = () => {
        let v;
        try { v = check(); } catch (err) { done(); rej(err); return; }
        if (v !== undefined) { done(); res(v); }
      };
      const timer = setTimeout(() => { done(); rej(new Error(`${label}: timed out after ${ms} ms`)); }, ms);
      const done = () => { clearTimeout(timer); this.waiters.delete(waiter); };
      this.waiters.add(waiter);
      waiter();
    });
  }

  write(data) {
    return new Promise((res, rej) => this.sock.write(data, (err) => (err ? rej(err) : res())));
  }

  // Resolves with the next whole response; rejects if the connection closes first.
  readResponse(ms = 5000, method = 'GET') {
    return this.until(() => {
      const r = parseResponse(this.buf, this.closed, method);
      if (r) { this.buf = r.rest; return r.response; }
      if (this.closed) {
        const why = this.error ? ` (${this.error.code || this.error.message})` : '';
        throw new Error(`connection closed before a whole response${why}; got ` +
          `${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
      }
      return undefined;
    }, ms, 'readResponse');
  }

  // Resolves once the server has closed the connection (FIN or RST).
  waitClosed(ms = 5000) {
    return this.until(() => (this.closed ? true : undefined), ms, 'waiting for the server to close');
  }

  destroy() {
    this.sock.destroy();
  }
}
