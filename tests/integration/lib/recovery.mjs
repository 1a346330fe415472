// The traffic of the connection-state recovery suites (socketio_recovery, and the
// streams adapter's across nodes): what a sender emits while the receiver is cut off,
// what the receiver records, and the "every message once and in order" checks.
import assert from 'node:assert/strict';

// Records what reaches receiver: broadcasts to its room ('bcast' without dm), direct
// messages ('bcast' with dm: true to its id, or 'dm'), and every offset it was given.
export function recordTraffic(receiver) {
  const t = { bcasts: [], dms: [], offsets: [] };
  receiver.on('bcast', (msg, offset) => {
    if (msg.dm) t.dms.push(msg.n);
    else t.bcasts.push(msg);
    t.offsets.push(offset);
  });
  receiver.on('dm', (msg, offset) => {
    t.dms.push(msg.n);
    t.offsets.push(offset);
  });
  return t;
}

// Emits count numbered broadcasts to room r (every 50th with a binary attachment) and
// ndms direct ones to the receiver's id (one every 6th broadcast, the rest after).
export function sendWhileCut(sender, r, id, count, ndms) {
  let d = 0;
  for (let n = 0; n < count; n++) {
    const msg = { room: r, n };
    if (n % 50 === 0) msg.bin = Buffer.from([n & 255, 1, 2, 3]);
    sender.emit('bcast', msg);
    if (n % 6 === 0 && d < ndms) sender.emit('bcast', { room: id, dm: true, n: d++ });
  }
  while (d < ndms) sender.emit('bcast', { room: id, dm: true, n: d++ });
}

// t holds broadcasts -1..count (one before the cut, count during it, one after) and
// direct messages 0..ndms-1, each once and in order, binary intact, offsets unique.
export function assertTraffic(t, count, ndms) {
  assert.deepEqual(t.bcasts.map((m) => m.n), Array.from({ length: count + 2 }, (_, i) => i - 1), 'bcast once, in order');
  assert.deepEqual(t.dms, Array.from({ length: ndms }, (_, i) => i), 'dm once, in order');
  for (const m of t.bcasts) {
    if (m.n >= 0 && m.n < count && m.n % 50 === 0) assert.deepEqual([...m.bin], [m.n & 255, 1, 2, 3], 'binary attachment');
  }
  assert.equal(new Set(t.offsets).size, t.offsets.length, 'offsets are unique');
}
