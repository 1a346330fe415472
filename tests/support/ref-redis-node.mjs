// A Node.js node of a cluster: npm socket.io 4.8 with @socket.io/redis-adapter 8 (classic
// pub/sub mode) on node-redis 4 clients. It implements the command contract of
// tests/support/sio_cluster_server.c (see the comment at the top of that file and
// docs/redis.md), so the cluster suites can put it next to noom nodes: a mixed
// fleet sharing rooms through one Redis.
//
// Usage: node tests/support/ref-redis-node.mjs --redis URL [--port P] [--name NAME]
//          [--prefix P] [--requests-timeout MS]
// Prints "listening on http://127.0.0.1:PORT" once the adapter is subscribed.
import { startFleetNode } from './redis-node.mjs';

const { io, opts, listen } = await startFleetNode('ref-redis-node', 'node');

const statusText = (err) => (err ? (/timeout/i.test(err.message) ? 'timeout' : err.message) : null);

function select(nsp, sel = {}, key = 'in') {
  let op = nsp;
  if (sel[key] !== undefined) op = op.in(sel[key]);
  if (sel.except !== undefined) op = op.except(sel.except);
  return op;
}

// Commands take at most one argument and an ack, whatever the client sent: (spec?, cb).
function command(socket, event, fn) {
  socket.on(event, (...args) => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : () => {};
    return fn(args[0] ?? {}, cb);
  });
}

function setup(nsp) {
  nsp.on('connection', (socket) => {
    socket.data = { node: opts.name, user: typeof socket.handshake.auth?.user === 'string' ? socket.handshake.auth.user : null };

    command(socket, 'whoami', (_, cb) => cb({ id: socket.id, node: opts.name, rooms: [...socket.rooms] }));
    command(socket, 'join', (rooms, cb) => {
      socket.join(rooms);
      cb([...socket.rooms]);
    });
    command(socket, 'leave', (rooms, cb) => {
      for (const r of [].concat(rooms)) socket.leave(r);
      cb([...socket.rooms]);
    });
    command(socket, 'emit', (spec, cb) => {
      let op = spec.broadcast ? socket.broadcast : nsp;
      if (spec.to !== undefined) op = op.to(spec.to);
      if (spec.except !== undefined) op = op.except(spec.except);
      if (spec.volatile) op = op.volatile;
      op.emit(spec.event, ...(spec.args ?? []));
      cb(true);
    });
    command(socket, 'emit-ack', (spec, cb) => {
      let op = nsp;
      if (spec.to !== undefined) op = op.to(spec.to);
      if (spec.except !== undefined) op = op.except(spec.except);
      op.timeout(spec.timeout ?? 2000).emit(spec.event, ...(spec.args ?? []), (err, responses) => {
        cb({ err: statusText(err), responses });
      });
    });
    command(socket, 'fetch', async (sel, cb) => {
      try {
        const sockets = await select(nsp, sel).fetchSockets();
        cb({
          err: null,
          sockets: sockets.map((s) => ({
            id: s.id, rooms: [...s.rooms], data: s.data, handshake: s.handshake,
            local: s.constructor.name === 'Socket',
          })),
        });
      } catch (err) {
        cb({ err: statusText(err), sockets: [] });
      }
    });
    command(socket, 'sockets-join', (sel, cb) => {
      select(nsp, sel).socketsJoin(sel.room);
      cb(true);
    });
    command(socket, 'sockets-leave', (sel, cb) => {
      select(nsp, sel).socketsLeave(sel.room);
      cb(true);
    });
    command(socket, 'disconnect-sockets', (sel, cb) => {
      cb(true);
      select(nsp, sel).disconnectSockets(Boolean(sel.close));
    });
    command(socket, 'server-emit', (spec, cb) => {
      nsp.serverSideEmit(spec.event, ...(spec.args ?? []));
      cb(true);
    });
    command(socket, 'server-emit-ack', (spec, cb) => {
      nsp.serverSideEmit(spec.event, ...(spec.args ?? []), (err, responses) => cb({ err: statusText(err), responses }));
    });
    command(socket, 'all-rooms', async (_, cb) => {
      try {
        cb({ err: null, names: [...(await nsp.adapter.allRooms())] });
      } catch (err) {
        cb({ err: statusText(err), names: [] });
      }
    });
    command(socket, 'all-sockets', async (sel, cb) => {
      try {
        cb({ err: null, names: [...(await select(nsp, sel).allSockets())] });
      } catch (err) {
        cb({ err: statusText(err), names: [] });
      }
    });
    command(socket, 'server-count', async (_, cb) => cb(await nsp.adapter.serverCount()));
    // build/examples/echo's recovery contract (tests/cluster/streams.test.mjs).
    command(socket, 'bcast', (msg) => socket.to(msg.room).emit('bcast', msg));
    command(socket, 'echo', (x, cb) => cb(x));
    command(socket, 'recovered', (_, cb) => cb(socket.recovered));
  });

  // Server-side events from the other nodes.
  nsp.on('hello', (...args) => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    nsp.local.emit('hello-from-server', opts.name, ...args);
    if (cb) cb();
  });
  nsp.on('whoareyou', (...args) => {
    const cb = args.pop();
    if (typeof cb === 'function') cb(opts.name);
  });
  nsp.on('mute', () => {});
}

setup(io.of('/'));
setup(io.of('/other'));
await listen();
