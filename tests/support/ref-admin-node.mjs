// A Node.js fleet node with the admin UI's server side: npm socket.io 4.8 with
// @socket.io/redis-adapter 8 (tests/support/redis-node.mjs) and instrument() from
// @socket.io/admin-ui 0.5.1, auth disabled, serverId = --name. App clients may
// enter_room(nickname, room, cb) as on noom. For tests/cluster/admin.test.mjs.
//
// Usage: node tests/support/ref-admin-node.mjs --redis URL [--name NAME] [--port P]
import { createRequire } from 'node:module';
import { startFleetNode } from './redis-node.mjs';

const require = createRequire(import.meta.url);
const { instrument } = require('../node_modules/@socket.io/admin-ui');
const { io, opts, listen } = await startFleetNode('ref-admin-node', 'node');
io.on('connection', (s) => {
  s.on('enter_room', (nickname, room, cb) => { s.join(room); if (typeof cb === 'function') cb({ room }); });
});
instrument(io, { auth: false, serverId: opts.name, mode: 'development' });
await listen();
