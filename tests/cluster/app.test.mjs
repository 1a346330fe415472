// The noom app on two nodes (build/noom --redis): the lobby's public rooms and head
// counts, the chat and the call signaling work for users on different nodes
// (docs/app-events.md, docs/signaling.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeClients, connect, io, missing, once, startNode, startRedis, stopNodes, until } from './lib/cluster.mjs';
import { noOffset } from '../integration/lib/noom.mjs';

const skip = missing({ binaries: ['noom'] }) || false;
let redis, N1, N2;
const ack = (s, ...args) => s.timeout(8000).emitWithAck(...args);
const roomOf = (rooms, name) => rooms.find((r) => r.name === name);

describe('the app on two nodes', { skip }, () => {
  before(async () => {
    redis = await startRedis();
    [N1, N2] = await Promise.all([startNode('app', redis.url, { name: 'n1' }), startNode('app', redis.url, { name: 'n2' })]);
  });
  after(async () => {
    closeClients();
    await stopNodes(N1, N2);
    if (redis) await redis.stop();
  });

  test('users on different nodes share a room: counts, lobby, chat, calls, leaving', async () => {
    const room = `cross-${process.pid}`;
    const [alice, bob, watcher] = await Promise.all([connect(N1.url), connect(N2.url), connect(N2.url)]);

    // Entering: the count spans both nodes, and the first user hears the second.
    assert.deepEqual(await ack(alice, 'enter_room', 'alice', room), { room, count: 1, nickname: 'alice', history: [] });
    const welcomed = once(alice, 'welcome');
    const lobby2 = until(watcher, 'room_change', (names, rooms) => roomOf(rooms, room)?.count === 2);
    assert.deepEqual(await ack(bob, 'enter_room', 'bob', room), { room, count: 2, nickname: 'bob', history: [] });
    assert.deepEqual(noOffset(await welcomed), ['bob', 2, room]);
    // A lobby on the other node lists the room with both users.
    const [names] = await lobby2;
    assert.ok(names.includes(room));

    // Chat both ways.
    let got = once(alice, 'new_message');
    assert.equal(await ack(bob, 'new_message', 'hello from n2', room), undefined);
    assert.deepEqual((await got).slice(0, 2), ['bob: hello from n2', room]);
    got = once(bob, 'new_message');
    await ack(alice, 'new_message', 'hi from n1', room);
    assert.deepEqual((await got).slice(0, 2), ['alice: hi from n1', room]);

    // A room name that is a socket id on the other node is refused, by every event that
    // joins a room (the course's join_room too): its signaling stays private.
    assert.deepEqual(await ack(alice, 'enter_room', bob.id), { error: 'room name is taken' });
    const spy = await connect(N1.url);
    assert.deepEqual(await ack(spy, 'join_room', bob.id), { error: 'room name is taken' });
    assert.deepEqual(await ack(spy, 'join_room', watcher.id), { error: 'room name is taken' });

    // Signaling to a socket id that lives on the other node, and to the room.
    const desc = { type: 'offer', sdp: 'v=0\r\n' };
    const offered = once(bob, 'offer');
    assert.equal(await ack(alice, 'offer', desc, bob.id), undefined);
    assert.deepEqual(noOffset(await offered), [desc, alice.id]);
    const answered = once(alice, 'answer');
    await ack(bob, 'answer', { type: 'answer', sdp: 'v=0\r\n' }, alice.id);
    assert.deepEqual((await answered)[1], bob.id);
    const cand = once(bob, 'ice');
    await ack(alice, 'ice', { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' }, room);
    assert.equal((await cand)[1], alice.id);
    // Someone who shares no room with the target is refused, wherever the target is.
    const stranger = await connect(N1.url);
    assert.deepEqual(await ack(stranger, 'offer', desc, bob.id), { error: 'target does not share a room with you' });

    // Group call: the second member learns the first (on the other node), by nickname.
    assert.deepEqual(await ack(alice, 'call_join', room), { peers: [], max: 6 });
    const joined = once(alice, 'call_peer_joined');
    assert.deepEqual(await ack(bob, 'call_join', room), { peers: [{ id: alice.id, nickname: 'alice' }], max: 6 });
    assert.deepEqual(noOffset(await joined), [bob.id, 'bob']);

    // Leaving: the other node's user hears bye with the new count; every lobby updates.
    const bye = once(alice, 'bye');
    const left = once(alice, 'peer_left');
    const lobby1 = until(watcher, 'room_change', (n, rooms) => roomOf(rooms, room)?.count === 1);
    await ack(bob, 'leave_room', room);
    assert.deepEqual(noOffset(await bye), ['bob', 1, room]);
    assert.deepEqual(noOffset(await left), [bob.id]);
    await lobby1;

    // The last user disconnects from node 1: node 2's lobby drops the room.
    const gone = until(watcher, 'room_change', (n) => !n.includes(room));
    alice.close();
    await gone;
  });

  test('a newcomer on either node sees the rooms of both nodes at once', async () => {
    const [a, b] = await Promise.all([connect(N1.url), connect(N2.url)]);
    await ack(a, 'enter_room', 'ann', 'on-n1');
    await ack(b, 'enter_room', 'ben', 'on-n2');
    for (const url of [N1.url, N2.url]) {
      // Listening before the connection exists: room_change follows CONNECT closely.
      const s = io(url, { forceNew: true, transports: ['websocket'], reconnection: false });
      try {
        const [names, rooms] = await until(s, 'room_change', (n) => n.includes('on-n1') && n.includes('on-n2'));
        assert.deepEqual(roomOf(rooms, 'on-n1'), { name: 'on-n1', count: 1 });
        assert.deepEqual(roomOf(rooms, 'on-n2'), { name: 'on-n2', count: 1 });
        assert.deepEqual(names, [...names].sort());
      } finally {
        s.close();
      }
    }
  });
});
