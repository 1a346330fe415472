// The course's chat server (nomadcoders "Zoom clone", server.js) on npm socket.io 4.8 with
// @socket.io/redis-adapter 8 (classic pub/sub, node-redis 4), as one node of a fleet: the
// Node.js half of tests/cluster/course_mixed.test.mjs, next to a noom node (build/noom
// --redis) on the same Redis and prefix.
//
// It is the course's code with two changes a fleet needs, and one the noom app's
// clients need:
//   - publicRooms() is read across the fleet with io.fetchSockets() (the union of every
//     socket's rooms minus its own id room) rather than from this node's adapter maps;
//   - countRoom(room) likewise counts the room's sockets on every node;
//   - enter_room also takes noom's form (nickname, roomName, done) (docs/app-events.md):
//     when the first two arguments are strings the first is the nickname.
// Events and arguments are otherwise the course's: welcome(nickname, count),
// bye(nickname, count), new_message("nickname: msg"), room_change(names) to everyone.
//
// Usage: node tests/support/ref-course-server.mjs --redis URL [--port P] [--prefix P]
//          [--name NAME] [--requests-timeout MS]
// Prints "listening on http://127.0.0.1:PORT" once the adapter is subscribed.
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The packages live in tests/node_modules; resolve them from there whatever the cwd.
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../package.json'));
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

const opts = { port: 0, redis: null, name: 'course', prefix: 'socket.io', requestsTimeout: 5000 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [flag, value] = [argv[i], argv[i + 1]];
  if (flag === '--port') opts.port = Number(value);
  else if (flag === '--redis') opts.redis = value;
  else if (flag === '--name') opts.name = value;
  else if (flag === '--prefix') opts.prefix = value;
  else if (flag === '--requests-timeout') opts.requestsTimeout = Number(value);
  else {
    process.stderr.write(`ref-course-server: unknown flag ${flag}\n`);
    process.exit(2);
  }
}
if (!opts.redis) {
  process.stderr.write('ref-course-server: --redis URL is required\n');
  process.exit(2);
}

const pub = createClient({ url: opts.redis });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', (err) => process.stderr.write(`ref-course-server: redis: ${err.message}\n`));
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = http.createServer();
const wsServer = new Server(httpServer, {
  adapter: createAdapter(pub, sub, { key: opts.prefix, requestsTimeout: opts.requestsTimeout }),
});

const log = (msg) => process.stderr.write(`ref-course-server: ${msg}\n`);

// Every public room of the fleet: each socket's rooms but its own id room.
async function publicRooms() {
  const sockets = await wsServer.fetchSockets();
  const rooms = new Set();
  for (const s of sockets) for (const room of s.rooms) if (room !== s.id) rooms.add(room);
  return [...rooms];
}

// Sockets in roomName on every node.
async function countRoom(roomName) {
  return (await wsServer.in(roomName).fetchSockets()).length;
}

// The course emits the lobby after each change; a read that fails (a node that left,
// shutdown) is logged, not fatal.
async function roomChange() {
  try {
    wsServer.emit('room_change', await publicRooms());
  } catch (err) {
    log(`room_change: ${err.message}`);
  }
}

wsServer.on('connection', (socket) => {
  socket['nickname'] = 'Anon';
  socket.onAny((event) => log(`${opts.name}: socket event: ${event}`));

  socket.on('enter_room', async (...args) => {
    // The course's (roomName, done), or noom's (nickname, roomName, done).
    if (typeof args[0] === 'string' && typeof args[1] === 'string') socket['nickname'] = args.shift();
    const [roomName, done] = args;
    if (typeof roomName !== 'string') return;
    socket.join(roomName);
    if (typeof done === 'function') done();
    try {
      socket.to(roomName).emit('welcome', socket.nickname, await countRoom(roomName));
    } catch (err) {
      log(`welcome: ${err.message}`);
    }
    await roomChange();
  });

  socket.on('disconnecting', async () => {
    // socket.rooms is emptied once this handler returns: take them now. The count
    // excludes the leaver (the course's countRoom(room) - 1, read fleet-wide).
    const rooms = [...socket.rooms];
    for (const room of rooms) {
      if (room === socket.id) continue; // the course emits there too, to nobody
      try {
        const others = (await wsServer.in(room).fetchSockets()).filter((s) => s.id !== socket.id).length;
        wsServer.to(room).except(socket.id).emit('bye', socket.nickname, others);
      } catch (err) {
        log(`bye: ${err.message}`);
      }
    }
  });

  socket.on('disconnect', () => roomChange());

  socket.on('new_message', (msg, room, done) => {
    socket.to(room).emit('new_message', `${socket.nickname}: ${msg}`);
    if (typeof done === 'function') done();
  });

  socket.on('nickname', (nickname) => (socket['nickname'] = nickname));
});

// node-redis runs a connection's commands in order: once this subscription is confirmed,
// the adapter's own (issued above, not awaited by the adapter) are active too.
await sub.subscribe('ref-course-server-ready', () => {});

httpServer.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${httpServer.address().port}\n`);
});

const stop = () => {
  wsServer.close();
  Promise.allSettled([pub.quit(), sub.quit()]).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
