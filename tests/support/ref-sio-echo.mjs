// Reference Socket.IO echo server: the Socket.IO half of the build/examples/echo contract
// (docs/test-server.md, "Contract 1"), written on the official npm socket.io 4.8 server.
// The Socket.IO suites run against it with NOOM_REF=1 to check that the tests themselves are
// right before (and while) the C server exists. The raw Engine.IO half of the echo contract
// lives in ref-echo.mjs (another suite's reference); this file only serves /socket.io/.
//
// Usage: node tests/support/ref-sio-echo.mjs --port 0 [--ping-interval MS] [--ping-timeout MS]
//          [--max-payload BYTES] [--connect-timeout MS] [--recovery-ms MS] [--socket-use MS]
//          [--parser default|msgpack]
// --parser msgpack speaks socket.io-msgpack-parser (echo.c's switch of the same name).
// --recovery-ms MS > 0 turns on connectionStateRecovery with that maxDisconnectionDuration.
// --socket-use MS > 0 gives each "/" socket the per-packet middleware of echo.c's switch:
// "forbidden" refused, "rewrite-me" rewritten, "slow" passed MS ms later; its error
// listener emits "server-error" with the message. A middleware on "/custom" refuses a
// CONNECT whose auth has a string `refuse` with that message and data {reason}, as echo.c.
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
  '--recovery-ms': 'recoveryMs',
  '--socket-use': 'socketUseMs',
};

function parseFlags(argv) {
  const flags = { port: 0, pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, connectTimeout: 45000, recoveryMs: 0, socketUseMs: 0, parser: 'default' };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--parser' && (argv[i + 1] === 'default' || argv[i + 1] === 'msgpack')) {
      flags.parser = argv[i + 1];
      continue;
    }
    const key = FLAGS[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) {
      process.stderr.write(`ref-sio-echo: bad flag ${argv[i]} ${argv[i + 1] ?? ''}\n`);
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
  ...(flags.recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: flags.recoveryMs } } : {}),
  ...(flags.parser === 'msgpack' ? { parser: require('socket.io-msgpack-parser') } : {}),
});

// The ack callback, when the client asked for one, is the last argument: split it off.
function splitAck(args) {
  return typeof args[args.length - 1] === 'function' ? [args.slice(0, -1), args[args.length - 1]] : [args, null];
}

function greet(socket) {
  // handshake.auth is {} when the CONNECT packet carried no payload.
  socket.emit('auth', socket.handshake.auth);
}

// socket.use, as echo.c --socket-use. The packet is [event, ...args, ack?]: rewriting
// in place keeps the ack callback last, where dispatch expects it.
function useMiddleware(socket) {
  socket.use((packet, next) => {
    const [event] = packet;
    if (event === 'forbidden') return next(new Error('forbidden event'));
    if (event === 'rewrite-me') {
      packet[0] = 'message-with-ack';
      packet.splice(1, 0, 'rewritten');
    } else if (event === 'slow') {
      setTimeout(() => {
        packet[0] = 'message-with-ack';
        next();
      }, flags.socketUseMs);
      return undefined;
    }
    return next();
  });
  socket.on('error', (err) => socket.emit('server-error', err.message));
}

io.of('/').on('connection', (socket) => {
  greet(socket);
  if (flags.socketUseMs > 0) useMiddleware(socket);
  socket.on('message', (...raw) => socket.emit('message-back', ...splitAck(raw)[0]));
  socket.on('message-with-ack', (...raw) => {
    const [args, ack] = splitAck(raw);
    if (ack) ack(...args);
  });
  // Bench handlers.
  socket.on('join', (room, ack) => {
    socket.join(room);
    if (typeof ack === 'function') ack(true);
  });
  socket.on('bcast', (msg) => {
    if (msg && typeof msg === 'object' && typeof msg.room === 'string') socket.to(msg.room).emit('bcast', msg);
  });
  socket.on('echo', (x, ack) => {
    if (typeof ack === 'function') ack(x);
  });
  // Connection-state recovery: a plain socket.emit to the addressee, and socket.recovered.
  socket.on('dm', (msg) => {
    if (msg && typeof msg === 'object' && typeof msg.to === 'string') io.of('/').sockets.get(msg.to)?.emit('dm', msg);
  });
  socket.on('recovered', (ack) => {
    if (typeof ack === 'function') ack(socket.recovered);
  });
});

io.of('/custom').use((socket, next) => {
  const { refuse } = socket.handshake.auth;
  if (typeof refuse !== 'string') return next();
  const err = new Error(refuse);
  err.data = { reason: 'refused by middleware' };
  return next(err);
});
io.of('/custom').on('connection', greet);

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
