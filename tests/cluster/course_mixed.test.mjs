// A mixed fleet running the course's chat: one noom app node (build/noom --redis) and the
// course's own server on Node.js socket.io 4.8 with @socket.io/redis-adapter
// (tests/support/ref-course-server.mjs), on one Redis with one prefix. Users on either
// node must see the same lobby and talk to each other (docs/app-events.md): rooms
// opened on one node appear in the other node's lobby (room_change), and chat, welcome
// and bye cross in both directions.
//
// Known failure (the reason for this suite): noom refreshes only its own sockets' lobbies
// and tells other noom nodes through a private serverSideEmit ("noom:lobby"), which the
// course's server does not know; so a room opened or closed on the noom node never
// reaches the lobby of a user on the Node node. The two noom -> Node lobby tests fail
// until noom broadcasts room_change to the whole fleet. The course's server broadcasts
// with io.emit, which the Redis adapter delivers on every node, so Node -> noom works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeClients, connect, missing, once, startNode, startRedis, stopNodes, until } from './lib/cluster.mjs';
import { noOffset } from '../integration/lib/noom.mjs';

const skip = missing({ binaries: ['noom'] }) || false;
let redis, N, J;
let seq = 0;
const room = (what) => `course-${what}-${++seq}`;
const ack = (s, ...args) => s.timeout(8000).emitWithAck(...args);
// How long a lobby update may take to cross (one fleet-wide read, then the broadcast).
const LOBBY_MS = 5000;

describe('the course\'s Node.js server and a noom node in one fleet', { skip }, () => {
  before(async () => {
    redis = await startRedis();
    [N, J] = await Promise.all([
      startNode('app', redis.url, { name: 'noom', prefix: 'course' }),
      startNode('course', redis.url, { name: 'course', prefix: 'course', requestsTimeout: 2000 }),
    ]);
  });
  after(async () => {
    closeClients();
    await stopNodes(N, J);
    if (redis) await redis.stop();
  });

  // Lobby tests come first, and nothing disconnects until the bye tests: every
  // room_change a user sees below is caused by the step the test takes.

  test('noom -> Node lobby: a room opened on the noom node reaches the lobby of a user on the Node node', async () => {
    const r = room('on-noom');
    const [watcher, nina] = await Promise.all([connect(J.url), connect(N.url)]);
    const seen = until(watcher, 'room_change', (names) => Array.isArray(names) && names.includes(r), LOBBY_MS);
    assert.deepEqual(await ack(nina, 'enter_room', 'nina', r), { room: r, count: 1, nickname: 'nina', history: [] });
    await seen;
  });

  test('Node -> noom lobby: a room opened on the Node node reaches the lobby of a user on the noom node', async () => {
    const r = room('on-node');
    const [watcher, jo] = await Promise.all([connect(N.url), connect(J.url)]);
    const seen = until(watcher, 'room_change', (names) => Array.isArray(names) && names.includes(r), LOBBY_MS);
    // The course's form (roomName, done): done() answers with nothing.
    assert.equal(await ack(jo, 'enter_room', r), undefined);
    await seen;
  });

  test('welcome crosses both ways, counted across the fleet', async () => {
    // Node -> noom: a noom user is in the room; a Node user enters (noom's form, setting
    // the nickname); the course's welcome(nickname, count) reaches the noom user.
    const r1 = room('welcome-1');
    const [nina, jo] = await Promise.all([connect(N.url), connect(J.url)]);
    await ack(nina, 'enter_room', 'nina', r1);
    let welcomed = once(nina, 'welcome');
    assert.equal(await ack(jo, 'enter_room', 'jo', r1), undefined);
    assert.deepEqual(noOffset(await welcomed), ['jo', 2]); // nina is on noom

    // noom -> Node: a Node user is in the room; a noom user enters; noom's
    // welcome(nickname, count, room) reaches the Node user.
    const r2 = room('welcome-2');
    const [nick, jane] = await Promise.all([connect(N.url), connect(J.url)]);
    await ack(jane, 'enter_room', 'jane', r2);
    welcomed = once(jane, 'welcome');
    assert.deepEqual(await ack(nick, 'enter_room', 'nick', r2), { room: r2, count: 2, nickname: 'nick', history: [] });
    assert.deepEqual(await welcomed, ['nick', 2, r2]);
  });

  test('chat crosses both ways', async () => {
    const r = room('chat');
    const [nina, jo] = await Promise.all([connect(N.url), connect(J.url)]);
    await ack(nina, 'enter_room', 'nina', r);
    await ack(jo, 'enter_room', 'jo', r);

    // Node -> noom: the course's new_message("nickname: msg").
    let got = once(nina, 'new_message');
    assert.equal(await ack(jo, 'new_message', 'hello from Node', r), undefined);
    assert.deepEqual(noOffset(await got), ['jo: hello from Node']); // nina is on noom

    // noom -> Node: noom's new_message("nickname: msg", room).
    got = once(jo, 'new_message');
    assert.equal(await ack(nina, 'new_message', 'hello from noom', r), undefined);
    assert.deepEqual((await got).slice(0, 2), ['nina: hello from noom', r]);

    // The course's nickname event renames the Node user for the next message.
    jo.emit('nickname', 'joanna');
    got = once(nina, 'new_message');
    await ack(jo, 'new_message', 'renamed', r);
    assert.deepEqual(noOffset(await got), ['joanna: renamed']); // nina is on noom
  });

  test('bye crosses both ways, and the Node node\'s lobby drops its room everywhere', async () => {
    // A Node user leaves (disconnects): the noom user in the room hears the course's
    // bye(nickname, count without the leaver); the course's room_change reaches noom's
    // lobby without the Node user's own room.
    const r1 = room('bye-1');
    const own = room('bye-own');
    const [nina, jo, watcher] = await Promise.all([connect(N.url), connect(J.url), connect(N.url)]);
    await ack(nina, 'enter_room', 'nina', r1);
    await ack(jo, 'enter_room', 'jo', r1);
    const jo2 = await connect(J.url);
    const listed = until(watcher, 'room_change', (names) => names.includes(own), LOBBY_MS);
    await ack(jo2, 'enter_room', 'jo2', own);
    await listed;
    let bye = once(nina, 'bye');
    jo.close();
    assert.deepEqual(noOffset(await bye), ['jo', 1]); // nina is on noom
    const dropped = until(watcher, 'room_change', (names) => !names.includes(own), LOBBY_MS);
    jo2.close();
    await dropped;

    // A noom user leaves (disconnects): the Node user in the room hears noom's
    // bye(nickname, count, room).
    const r2 = room('bye-2');
    const [nick, jane] = await Promise.all([connect(N.url), connect(J.url)]);
    await ack(jane, 'enter_room', 'jane', r2);
    await ack(nick, 'enter_room', 'nick', r2);
    bye = once(jane, 'bye');
    nick.close();
    assert.deepEqual(await bye, ['nick', 1, r2]);
  });

  test('noom -> Node lobby: a room emptied on the noom node leaves the lobby of a user on the Node node', async () => {
    const r = room('emptied-on-noom');
    const [watcher, nina] = await Promise.all([connect(J.url), connect(N.url)]);
    await ack(nina, 'enter_room', 'nina', r);
    // Whether or not the room showed up there (the first test), a Node user's lobby must
    // hear that it is gone: a room_change without it, after the last user left.
    const dropped = until(watcher, 'room_change', (names) => Array.isArray(names) && !names.includes(r), LOBBY_MS);
    nina.close();
    await dropped;
  });
});
