// Reference echo server: the same contract as build/examples/echo, written on the official
// npm engine.io / socket.io packages. The integration suites run against it with NOOM_REF=1
// to check that the tests themselves are right before (and while) the C server exists.
//
// Usage: node tests/support/ref-echo.mjs --port 0 [--ping-interval MS] [--ping-timeout MS]
//          [--max-payload BYTES] [--connect-timeout MS] [--header-timeout MS] [--idle-timeout MS]
//          [--allow-request deny-param] [--test-headers] [--log-connection-errors]
//          [--cookie NAME] [--cookie-max-age S] [--cors-origin O] [--cors-credentials]
//          [--cors-methods M] [--cors-allowed-headers H] [--cors-exposed-headers H]
//          [--cors-max-age S] [--cors-off] [--http-compression BYTES|off]
//          [--per-message-deflate] [--deflate-threshold B] [--deflate-server-no-takeover]
//          [--deflate-client-no-takeover] [--deflate-server-window-bits N] [--deflate-client-window-bits N]
// (the engine hook switches mean what they mean for build/examples/echo: see its --help)
// Prints exactly one line on stdout once listening: "listening on http://127.0.0.1:PORT".
//
// /engine.io/ : raw Engine.IO v4 server echoing every message (text or binary) to its session.
// /socket.io/ : a Socket.IO server; `message(...)` answers `message-back(...)` and
//               `message-nocompress(...)` the same with compress(false) (ws_deflate suite).
// /ws         : a plain WebSocket echo (ws's WebSocketServer), maxPayload and perMessageDeflate as above.
//
// Where Node's own HTTP layer has no such limit, a small check in front of the routes
// applies the contract (header count, URL length, request Transfer-Encoding); the cases
// that Node's parser decides before any JS runs (e.g. HTTP/9.9) differ and are skipped
// in the suites (see tests/integration/README.md).
import http from 'node:http';
import { Server as EngineServer } from 'engine.io';
import { Server as IoServer } from 'socket.io';
import { WebSocketServer } from 'ws';

const MAX_HEADERS = 100; // contract: more headers than this -> 431
const MAX_URL = 8192; // contract: a request-target longer than this -> 414

function parseFlags(argv) {
  const flags = {
    port: 0,
    pingInterval: 25000,
    pingTimeout: 20000,
    maxPayload: 1e6,
    connectTimeout: 45000,
    headerTimeout: 10000,
    idleTimeout: 5000,
  };
  const names = {
    '--port': 'port',
    '--ping-interval': 'pingInterval',
    '--ping-timeout': 'pingTimeout',
    '--max-payload': 'maxPayload',
    '--connect-timeout': 'connectTimeout',
    '--header-timeout': 'headerTimeout',
    '--idle-timeout': 'idleTimeout',
    '--deflate-threshold': 'deflateThreshold',
    '--deflate-server-window-bits': 'deflateServerWindowBits',
    '--deflate-client-window-bits': 'deflateClientWindowBits',
  };
  // Engine hook switches (no value) and string-valued options.
  const switches = {
    '--test-headers': 'testHeaders',
    '--log-connection-errors': 'logConnectionErrors',
    '--cors-credentials': 'corsCredentials',
    '--cors-off': 'corsOff',
    '--per-message-deflate': 'perMessageDeflate',
    '--deflate-server-no-takeover': 'deflateServerNoTakeover',
    '--deflate-client-no-takeover': 'deflateClientNoTakeover',
  };
  const strings = {
    '--allow-request': 'allowRequest',
    '--cookie': 'cookie',
    '--cookie-max-age': 'cookieMaxAge',
    '--cors-origin': 'corsOrigin',
    '--cors-methods': 'corsMethods',
    '--cors-allowed-headers': 'corsAllowedHeaders',
    '--cors-exposed-headers': 'corsExposedHeaders',
    '--cors-max-age': 'corsMaxAge',
    '--http-compression': 'httpCompression',
  };
  for (let i = 0; i < argv.length; i++) {
    if (switches[argv[i]]) {
      flags[switches[argv[i]]] = true;
      continue;
    }
    if (strings[argv[i]] && argv[i + 1] !== undefined) {
      flags[strings[argv[i]]] = argv[++i];
      continue;
    }
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) {
      process.stderr.write(`ref-echo: bad flag ${argv[i]} ${argv[i + 1] ?? ''}\n`);
      process.exit(2);
    }
    flags[key] = value;
    i++;
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));

const server = http.createServer({
  maxHeaderSize: 16384,
  headersTimeout: flags.headerTimeout,
  // requestTimeout bounds the whole request upload; it must not be below headersTimeout.
  requestTimeout: Math.max(flags.headerTimeout, 30000),
  keepAliveTimeout: flags.idleTimeout,
  // Node checks header/request timeouts on this period (default 30 s): keep it fine-grained.
  connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(flags.headerTimeout / 4))),
});

// Contract limits that Node's HTTP server does not enforce by itself; applied in front of
// every route by the 'request' wrapper installed after the engines attach.
function rejectByContract(req, res) {
  let status = 0;
  if (req.rawHeaders.length / 2 > MAX_HEADERS) status = 431;
  else if (req.url.length > MAX_URL) status = 414;
  else if (req.headers['transfer-encoding'] !== undefined) status = 411;
  if (!status) return false;
  res.writeHead(status, { Connection: 'close', 'Content-Length': '0' });
  res.end();
  req.socket.destroySoon();
  return true;
}

// Contract: a polling POST whose body exceeds maxPayload is answered 413 (engine.io does
// that) AND ends the session (engine.io keeps it): close the session once the 413 is out.
function closeOnOversizedPost(req, res) {
  if (req.method !== 'POST' || !req.url.startsWith('/engine.io/')) return;
  if (!(Number(req.headers['content-length']) > flags.maxPayload)) return;
  const sid = new URL(req.url, 'http://x').searchParams.get('sid');
  res.once('finish', () => {
    if (res.statusCode === 413 && sid && engine.clients[sid]) engine.clients[sid].close();
  });
}

// Any path nobody handles: 404. Registered before the engines attach: each attach() keeps
// the listeners already there and forwards the paths it does not own to them.
server.on('request', (req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});

// Engine options and hooks shared by /engine.io/ and /socket.io/ (the C echo gives both
// engines the same sio_engine_opts_t).
const engineOpts = {};
if (flags.allowRequest === 'deny-param') {
  engineOpts.allowRequest = (req, fn) => setTimeout(() => {
    const deny = new URL(req.url, 'http://x').searchParams.get('deny');
    if (deny !== null) fn(deny, false); else fn(null, true);
  }, 20);
}
if (flags.cookie) {
  engineOpts.cookie = { name: flags.cookie };
  if (flags.cookieMaxAge !== undefined) engineOpts.cookie.maxAge = Number(flags.cookieMaxAge);
}
// CORS: the default is what the C echo's short form "*" means; --cors-* build cors's
// options the way echo --help describes them.
engineOpts.cors = { origin: true, credentials: true };
if (flags.corsOff) engineOpts.cors = false;
if (flags.corsOrigin !== undefined) {
  const o = flags.corsOrigin;
  const cors = {};
  if (o === 'true') cors.origin = true;
  else if (o.startsWith('suffix:')) cors.origin = (origin, cb) => cb(null, !!origin && origin.endsWith(o.slice(7)));
  else if (o.includes(',') || o.startsWith('list:')) cors.origin = o.replace(/^list:/, '').split(',');
  else cors.origin = o;
  if (flags.corsCredentials) cors.credentials = true;
  if (flags.corsMethods) cors.methods = flags.corsMethods;
  if (flags.corsAllowedHeaders) cors.allowedHeaders = flags.corsAllowedHeaders;
  if (flags.corsExposedHeaders) cors.exposedHeaders = flags.corsExposedHeaders;
  if (flags.corsMaxAge !== undefined) cors.maxAge = Number(flags.corsMaxAge);
  engineOpts.cors = cors;
}
if (flags.httpCompression !== undefined) {
  engineOpts.httpCompression = flags.httpCompression === 'off' ? false
    : { threshold: Number(flags.httpCompression) };
}
// ws's perMessageDeflate, as engine.io passes it through.
let perMessageDeflate = false;
if (flags.perMessageDeflate) {
  perMessageDeflate = { threshold: flags.deflateThreshold ?? 1024 };
  if (flags.deflateServerNoTakeover) perMessageDeflate.serverNoContextTakeover = true;
  if (flags.deflateClientNoTakeover) perMessageDeflate.clientNoContextTakeover = true;
  if (flags.deflateServerWindowBits) perMessageDeflate.serverMaxWindowBits = flags.deflateServerWindowBits;
  if (flags.deflateClientWindowBits) perMessageDeflate.clientMaxWindowBits = flags.deflateClientWindowBits;
  engineOpts.perMessageDeflate = perMessageDeflate;
}
function hookEngine(eng) {
  if (flags.testHeaders) {
    eng.on('initial_headers', (headers) => { headers['set-cookie'] = 'mycookie=1234'; });
    eng.on('headers', (headers) => { headers['X-Noom'] = 'yes'; });
  }
  if (flags.logConnectionErrors) {
    eng.on('connection_error', (err) => {
      const c = err.context || {};
      process.stderr.write(`connection_error code=${err.code} message="${err.message}" context="${c.name ?? c.message ?? ''}"\n`);
    });
  }
}

const engine = new EngineServer({
  ...engineOpts,
  pingInterval: flags.pingInterval,
  pingTimeout: flags.pingTimeout,
  maxHttpBufferSize: flags.maxPayload,
  upgradeTimeout: 10000,
  transports: ['polling', 'websocket'],
});
engine.attach(server, { path: '/engine.io' });
hookEngine(engine);

engine.on('connection', (socket) => {
  socket.on('message', (data) => socket.send(data));
});

const io = new IoServer(server, {
  ...engineOpts,
  path: '/socket.io',
  pingInterval: flags.pingInterval,
  pingTimeout: flags.pingTimeout,
  maxHttpBufferSize: flags.maxPayload,
  connectTimeout: flags.connectTimeout,
});
hookEngine(io.engine);
io.on('connection', (socket) => {
  socket.on('message', (...args) => socket.emit('message-back', ...args));
  socket.on('message-nocompress', (...args) => socket.compress(false).emit('message-back', ...args));
});

// /ws: a plain WebSocket echo.
const wss = new WebSocketServer({ noServer: true, maxPayload: flags.maxPayload, perMessageDeflate });
server.on('upgrade', (req, socket, head) => {
  if (!req.url.startsWith('/ws')) return;
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => {}); // a protocol error closes with its code; nothing to do
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
});

// Put the contract check in front of every request listener (engine.io and socket.io
// each installed one that forwards unknown paths to the previous ones).
const routes = server.listeners('request');
server.removeAllListeners('request');
server.on('request', (req, res) => {
  if (rejectByContract(req, res)) return;
  closeOnOversizedPost(req, res);
  for (const fn of routes) fn.call(server, req, res);
});
server.on('clientError', (err, socket) => {
  if (!socket.writable) return socket.destroy();
  // Node's default answers, kept: 431 for a header overflow, 400 for the rest, then close.
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  process.stderr.write(`ref-echo: client error ${err.code}\n`);
});

function shutdown() {
  io.close();
  engine.close();
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(flags.port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
