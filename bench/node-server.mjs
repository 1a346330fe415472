// bench/node-server.mjs: the bench server contract (issue 6) on the official npm socket.io 4.8,
// the reference the C server is measured against. WebSocket transport only (as the load
// generator connects), default options otherwise (pingInterval 25 s, maxHttpBufferSize 1e6).
//
//   node bench/node-server.mjs [--port P] [--host H] [--per-message-deflate] [--deflate-server-no-takeover] [--recovery-ms MS]
//                              [--parser msgpack]
//
// --per-message-deflate: perMessageDeflate {threshold: 1024}, for bench/deflate.mjs;
// --deflate-server-no-takeover adds serverNoContextTakeover (bench/deflate-fanout.mjs).
// --recovery-ms MS turns connectionStateRecovery on with maxDisconnectionDuration MS.
// --parser msgpack: socket.io-msgpack-parser, as build/examples/echo --parser msgpack.
//
// On connection: emits `auth` with the handshake auth, as build/examples/echo does. On "/":
// join(room, ack) joins and acks true; bcast({room, ...}) re-emits `bcast` with the same
// object to the room except the sender; echo(x, ack) acks x. Prints
// "listening on http://HOST:PORT" once ready (port 0 picks a free one); SIGINT/SIGTERM stop it.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

// socket.io lives in tests/node_modules (the test suites' pinned packages).
const require = createRequire(new URL('../tests/node_modules/', import.meta.url));
const { Server } = require('socket.io');

let host = '127.0.0.1';
let port = 3000;
let perMessageDeflate = false;
let recoveryMs = 0;
let parser = null;
for (let i = 2; i < process.argv.length; i += 2) {
  const [flag, value] = [process.argv[i], process.argv[i + 1]];
  if (flag === '--per-message-deflate') {
    perMessageDeflate = { threshold: 1024, ...(perMessageDeflate || {}) };
    i--;
  } else if (flag === '--deflate-server-no-takeover') {
    perMessageDeflate = { threshold: 1024, ...(perMessageDeflate || {}), serverNoContextTakeover: true };
    i--;
  } else if (flag === '--port') port = Number(value);
  else if (flag === '--host') host = value;
  else if (flag === '--recovery-ms') recoveryMs = Number(value);
  else if (flag === '--parser' && value === 'msgpack') parser = require('socket.io-msgpack-parser');
  else {
    console.error(`node-server: unknown option ${flag}`);
    process.exit(2);
  }
}

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate,
  ...(recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs } } : {}),
  ...(parser ? { parser } : {}),
});

io.on('connection', (socket) => {
  // build/examples/echo greets every socket with its handshake auth (the Socket.IO test
  // contract, docs/test-server.md); doing the same here keeps the two servers' work per
  // connection equal.
  socket.emit('auth', socket.handshake.auth);
  socket.on('join', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack(true);
  });
  socket.on('bcast', (msg) => {
    if (msg && typeof msg.room === 'string') socket.to(msg.room).emit('bcast', msg);
  });
  socket.on('echo', (x, ack) => {
    if (typeof ack === 'function') ack(x);
  });
});

http.listen(port, host, () => {
  process.stdout.write(`listening on http://${host}:${http.address().port}\n`);
});

const stop = () => {
  io.close();
  http.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
