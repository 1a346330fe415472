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
import { startFleetNode } from './redis-node.mjs';

const { io: wsServer, opts, log, listen } = await startFleetNode('ref-course-server', 'course');

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

await listen();
