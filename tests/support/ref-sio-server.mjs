// Reference Socket.IO test server: the build/tests/sio_test_server contract
// (docs/test-server.md, "Contract 2"), written on the official npm socket.io 4.8 server.
// The suites drive the server through client events ("commands") that ask it to use one
// piece of the server API (rooms, broadcast operators, acks with timeout, fetchSockets,
// disconnects...) and ack the result. Running the suites against this file with NOOM_REF=1
// checks the tests; the C binary implements the same contract from the doc.
//
// Usage: node tests/support/ref-sio-server.mjs --port 0 [--ping-interval MS] [--ping-timeout MS]
//          [--max-payload BYTES] [--connect-timeout MS] [--parser default|msgpack]
// Prints exactly one line on stdout once listening: "listening on http://127.0.0.1:PORT".
import http from 'node:http';
import { createRequire } from 'node:module';
import { Server } from 'socket.io';

const require = createRequire(import.meta.url);

const FLAGS = {
  '--port': 'port',
  '--ping-interval': 'pingInterval',
  '--ping-timeout': 'pingTimeout',
  '--max-payload': 'maxPayload',
  '--connect-timeout': 'connectTimeout',
};

function parseFlags(argv) {
  const flags = { port: 0, pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, connectTimeout: 45000, parser: 'default' };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--parser' && (argv[i + 1] === 'default' || argv[i + 1] === 'msgpack')) {
      flags.parser = argv[i + 1];
      continue;
    }
    const key = FLAGS[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) {
      process.stderr.write(`ref-sio-server: bad flag ${argv[i]} ${argv[i + 1] ?? ''}\n`);
      process.exit(2);
    }
    flags[key] = value;
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const server = http.createServer();
const io = new Server(server, {
  pingInterval: flags.pingInterval,
  pingTimeout: flags.pingTimeout,
  maxHttpBufferSize: flags.maxPayload,
  connectTimeout: flags.connectTimeout,
  ...(flags.parser === 'msgpack' ? { parser: require('socket.io-msgpack-parser') } : {}),
});

// ---- middleware --------------------------------------------------------------------------

// Refuses auth.token === "bad"; otherwise stores the per-socket data that fetch/whoami
// report back.
function middleware(socket, next) {
  const auth = socket.handshake.auth;
  if (auth && auth.token === 'bad') {
    const err = new Error('unauthorized');
    err.data = { code: 42 };
    return next(err);
  }
  socket.data = { user: typeof auth?.user === 'string' ? auth.user : null, nsp: socket.nsp.name };
  next();
}

// ---- helpers -----------------------------------------------------------------------------

const isFn = (x) => typeof x === 'function';

// Applies a selection {in?, except?} to the socket's namespace.
function select(socket, sel = {}) {
  let op = socket.nsp;
  if (sel.in !== undefined) op = op.in(sel.in);
  if (sel.except !== undefined) op = op.except(sel.except);
  return op;
}

const roomsOf = (socket) => [...socket.rooms];

// ---- per-socket setup --------------------------------------------------------------------

function onConnection(socket) {
  const log = { incoming: [], outgoing: [], callbacks: 0 };

  socket.onAny((event, ...args) => log.incoming.push([event, ...args.filter((a) => !isFn(a))]));
  socket.onAnyOutgoing((event, ...args) => log.outgoing.push([event, ...args.filter((a) => !isFn(a))]));

  // socket.conn's events, counted for conn-stats.
  const conn = { upgrade: null, messages: 0, drains: 0 };
  socket.conn.on('upgrade', (transport) => { conn.upgrade = transport.name; });
  socket.conn.on('packet', (packet) => { if (packet.type === 'message') conn.messages++; });
  socket.conn.on('drain', () => { conn.drains++; });

  socket.emit('auth', socket.handshake.auth);

  // Registers a command: handler(arg) returns the ack value (or a promise of it).
  const command = (name, handler) => {
    socket.on(name, async (...args) => {
      const ack = isFn(args[args.length - 1]) ? args.pop() : null;
      const result = await handler(args[0] ?? {});
      if (ack && result !== undefined) ack(result);
    });
  };

  command('whoami', () => ({
    id: socket.id,
    nsp: socket.nsp.name,
    rooms: roomsOf(socket),
    data: socket.data,
    handshake: {
      headers: socket.handshake.headers,
      query: socket.handshake.query,
      auth: socket.handshake.auth,
      address: socket.handshake.address,
      url: socket.handshake.url,
      issued: socket.handshake.issued,
    },
  }));

  command('join', (rooms) => {
    socket.join(rooms);
    return roomsOf(socket);
  });

  command('leave', (rooms) => {
    for (const room of [].concat(rooms)) socket.leave(room);
    return roomsOf(socket);
  });

  command('do-emit', (spec) => {
    const args = spec.args ?? [];
    if (spec.self) {
      for (let i = 0; i < Math.min(spec.repeat ?? 1, 100); i++) (spec.volatile ? socket.volatile : socket).emit(spec.event, ...args);
      return true;
    }
    let op = spec.broadcast ? socket.broadcast : socket.nsp;
    if (spec.to !== undefined) op = op.to(spec.to);
    if (spec.except !== undefined) op = op.except(spec.except);
    if (spec.volatile) op = op.volatile;
    op.emit(spec.event, ...args);
    return true;
  });

  command('ask', (spec) => new Promise((resolve) => {
    let fired = false;
    socket.timeout(spec.timeout).emit(spec.event, ...(spec.args ?? []), (err, ...resp) => {
      log.callbacks++;
      if (fired) return;
      fired = true;
      resolve(err ? { err: 'timeout', args: [] } : { err: null, args: resp });
    });
  }));

  command('ask-room', (spec) => new Promise((resolve) => {
    let fired = false;
    let op = socket.nsp.to(spec.to);
    if (spec.except !== undefined) op = op.except(spec.except);
    op.timeout(spec.timeout).emit(spec.event, ...(spec.args ?? []), (err, responses) => {
      log.callbacks++;
      if (fired) return;
      fired = true;
      resolve({ err: err ? 'timeout' : null, responses });
    });
  }));

  command('fetch', async (sel) => {
    const sockets = await select(socket, sel).fetchSockets();
    return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, auth: s.handshake.auth }));
  });

  command('sockets-join', (spec) => {
    select(socket, spec).socketsJoin(spec.rooms);
    return true;
  });

  command('sockets-leave', (spec) => {
    select(socket, spec).socketsLeave(spec.rooms);
    return true;
  });

  // Acks first so a requester inside the selection still gets its answer.
  socket.on('disconnect-sockets', (spec, ack) => {
    if (isFn(ack)) ack(true);
    select(socket, spec).disconnectSockets(!!spec?.close);
  });

  socket.on('disconnect-me', (spec) => socket.disconnect(!!spec?.close));

  // Engine-level close with no Socket.IO DISCONNECT: the client sees "transport close".
  socket.on('drop-me', () => socket.conn.close());

  command('conn-stats', () => ({ ...conn }));

  command('stats', () => ({ incoming: log.incoming, outgoing: log.outgoing, callbacks: log.callbacks }));

  socket.on('disconnecting', (reason) => {
    socket.to('watchers').emit('left', { id: socket.id, nsp: socket.nsp.name, rooms: roomsOf(socket), reason });
  });
}

for (const nsp of [io.of('/'), io.of('/custom'), io.of(/^\/dyn-\d+$/)]) {
  nsp.use(middleware);
  nsp.on('connection', onConnection);
}

function shutdown() {
  io.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(flags.port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
