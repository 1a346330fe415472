// Room history (docs/app-events.md, "History") through socket.io-client 4.8 against
// build/noom: what a newcomer receives, paging, who may read, what survives a restart
// (SQLite file, :memory:, kill -9 in a burst), refusals of files noom must not touch, and
// chat going on while the store is unavailable.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, chmodSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startNoom, next, until } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

const DIR = mkdtempSync(join(tmpdir(), 'noom-history-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
// Generous budgets: these tests send bursts on purpose.
const FAST = ['--log-level', 'info', '--msg-burst', '5000', '--msg-rate', '5000', '--event-burst', '1000', '--event-rate', '1000'];

const clients = [];
after(() => { for (const c of clients) c.close(); });
async function client(url) {
  const s = io(url, { forceNew: true, transports: ['websocket'], reconnection: false });
  clients.push(s);
  await next(s, 'connect');
  return s;
}
const ack = (s, ...args) => s.timeout(10000).emitWithAck(...args);

// Reads the database with python3's sqlite3 module (a second, independent reader).
function sqlite(file, sql) {
  const out = execFileSync('/usr/bin/python3', ['-c', `
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
print(json.dumps(c.execute(sys.argv[2]).fetchall()))`, file, sql], { encoding: 'utf8' });
  return JSON.parse(out);
}

// The 60 messages: unicode, emoji, quotes, markup, the largest allowed (2000 bytes).
const BIG = 'é'.repeat(999) + 'xy'; // 2000 bytes of UTF-8
function sixty() {
  const texts = [];
  for (let i = 0; i < 60; i++) {
    const kinds = [`plain ${i}`, `ünïcødé ${i} 日本語`, `emoji ${i} 😀👍🏽`, `quotes ${i} "double" 'single' \\back`,
      `<script>alert(${i})</script>`];
    texts.push(i === 42 ? BIG : kinds[i % kinds.length]);
  }
  return texts;
}

// Text that JSON escaping must get right (the stored form is written as JSON text by
// hand): every control character, quotes, backslashes (one before a "u"), markup, emoji,
// a NUL, U+2028/U+2029 and text that looks like JSON.
const TRICKY = [Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\x7f',
  'say "hi" \\ \\u0041 \\"', '</script><script>alert("x")</script>', '😀👍🏽 日本語 é',
  '\u2028\u2029 line separators', '{"id":"forged","ts":0}', '\0nul first', 'tab\there\r\nend'];
const TRICKY_NICK = 'q"u\\o<t>e😀';

function checkShape(m) {
  assert.deepEqual(Object.keys(m).sort(), ['id', 'nickname', 'text', 'ts']);
  assert.equal(typeof m.id, 'string');
  assert.ok(m.id.length > 0);
  assert.equal(typeof m.ts, 'number');
  assert.ok(Math.abs(m.ts - Date.now()) < 10 * 60 * 1000, `ts ${m.ts} is not near now`);
}

describe('history in an SQLite file', () => {
  const file = join(DIR, 'chat.db');
  const room = 'lounge';
  const texts = sixty();
  let srv, latest;

  test('a newcomer gets exactly the latest 50, oldest first, with nicknames, ids and times', async () => {
    srv = await startNoom(['--db', file, ...FAST]);
    assert.match(srv.stderr(), new RegExp(`history: SQLite file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const [a, b] = await Promise.all([client(srv.url), client(srv.url)]);
    await ack(a, 'enter_room', 'alice', room);
    await ack(b, 'enter_room', 'bob', room);
    const acked = [];
    for (let i = 0; i < texts.length; i++) {
      const who = i % 2 ? b : a;
      assert.equal(await ack(who, 'new_message', texts[i], room), undefined);
      acked.push(i % 2 ? 'bob' : 'alice');
    }
    // An oversized message is refused and never appears.
    assert.equal(typeof (await ack(a, 'new_message', 'z'.repeat(2001), room))?.error, 'string');

    const c = await client(srv.url);
    const res = await ack(c, 'enter_room', 'carol', room);
    assert.equal(res.room, room);
    assert.equal(res.count, 3);
    assert.equal(res.history.length, 50);
    res.history.forEach(checkShape);
    assert.deepEqual(res.history.map((m) => m.text), texts.slice(10));
    assert.deepEqual(res.history.map((m) => m.nickname), acked.slice(10));
    assert.equal(new Set(res.history.map((m) => m.id)).size, 50, 'ids are unique');
    for (let i = 1; i < 50; i++) assert.ok(res.history[i].ts >= res.history[i - 1].ts, 'times never go backwards');
    latest = res.history;
  });

  test('the broadcast carries the stored form, the same one history returns', async () => {
    const [a, b] = await Promise.all([client(srv.url), client(srv.url)]);
    const r = 'stored-form';
    await ack(a, 'enter_room', 'ann', r);
    await ack(b, 'enter_room', 'ben', r);
    const got = next(b, 'new_message');
    await ack(a, 'new_message', 'same "thing" 😀', r);
    const [line, room2, msg] = await got;
    assert.deepEqual([line, room2], ['ann: same "thing" 😀', r]);
    checkShape(msg);
    const c = await client(srv.url);
    assert.deepEqual((await ack(c, 'enter_room', 'cy', r)).history, [msg]);
  });

  test('the stored form is written as JSON text: every character comes back exactly as sent', async () => {
    // Every control character, quotes, backslashes (one before a "u"), markup, emoji, a
    // NUL, U+2028/U+2029 and text that looks like JSON: in the broadcast, on entering,
    // through paging and in the file.
    const tricky = TRICKY, nick = TRICKY_NICK;
    const [a, b] = await Promise.all([client(srv.url), client(srv.url)]);
    const r = 'json-escaping';
    assert.equal((await ack(a, 'enter_room', nick, r)).nickname, nick);
    await ack(b, 'enter_room', 'reader', r);
    const seen = [];
    for (const text of tricky) {
      const got = next(b, 'new_message');
      assert.equal(await ack(a, 'new_message', text, r), undefined);
      const [line, room2, msg] = await got;
      assert.deepEqual([line, room2, msg.text, msg.nickname], [`${nick}: ${text}`, r, text, nick]);
      checkShape(msg);
      seen.push(msg);
    }
    const c = await client(srv.url);
    assert.deepEqual((await ack(c, 'enter_room', 'cy', r)).history, seen);
    assert.deepEqual((await ack(c, 'history', r, { before: seen[3].id, limit: 10 })).messages, seen.slice(0, 3));
    tricky.seen = seen; // the restart below reads them back from the file
  });

  test('paging returns the 10 before the oldest shown; only members may read', async () => {
    const c = await client(srv.url);
    await ack(c, 'enter_room', 'dave', room);
    const page = await ack(c, 'history', room, { before: latest[0].id, limit: 10 });
    assert.equal(page.messages.length, 10);
    page.messages.forEach(checkShape);
    assert.deepEqual(page.messages.map((m) => m.text), texts.slice(0, 10));
    assert.ok(page.messages[9].id < latest[0].id || page.messages[9].ts <= latest[0].ts);
    // Nothing before the first message.
    assert.deepEqual(await ack(c, 'history', room, { before: page.messages[0].id, limit: 10 }), { messages: [] });
    // Without `before`: the latest.
    const last = await ack(c, 'history', room, { limit: 3 });
    assert.deepEqual(last.messages, latest.slice(-3));
    // Bad options and outsiders are refused.
    for (const bad of [[room, { limit: 201 }], [room, { limit: 0 }], [room, { before: 42 }], [room, 'x']]) {
      assert.equal(typeof (await ack(c, 'history', ...bad))?.error, 'string', JSON.stringify(bad));
    }
    const outsider = await client(srv.url);
    const refused = await ack(outsider, 'history', room, { before: latest[0].id, limit: 10 });
    assert.deepEqual(Object.keys(refused), ['error']);
    await ack(outsider, 'enter_room', 'eve', 'elsewhere');
    assert.equal(typeof (await ack(outsider, 'history', room, { limit: 10 }))?.error, 'string');
  });

  test('after a restart with the same file: the same 50 with the same ids', async () => {
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    srv = await startNoom(['--db', file, ...FAST]);
    const c = await client(srv.url);
    const res = await ack(c, 'enter_room', 'frank', room);
    assert.deepEqual(res.history, latest);
    assert.deepEqual(sqlite(file, 'PRAGMA integrity_check'), [['ok']]);
    // The escaping test's messages: in the file as sent, and read back (cold) the same.
    assert.deepEqual(sqlite(file, "SELECT nickname, text FROM messages WHERE room='json-escaping' ORDER BY id"),
      TRICKY.map((t) => [TRICKY_NICK, t]));
    assert.deepEqual((await ack(c, 'enter_room', 'frank', 'json-escaping')).history, TRICKY.seen);
    assert.deepEqual(sqlite(file, "SELECT length(CAST(text AS BLOB)) FROM messages WHERE text LIKE 'éé%'"), [[2000]]);
    assert.deepEqual(sqlite(file, 'PRAGMA journal_mode'), [['wal']]);
    await srv.stop();
  });

  test('a newer schema, a corrupt file and someone else\'s database are refused, never reset', async () => {
    const newer = join(DIR, 'newer.db');
    execFileSync('/usr/bin/python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version=99"); c.commit()', newer]);
    const corrupt = join(DIR, 'corrupt.db');
    writeFileSync(corrupt, Buffer.alloc(8192, 0x5a));
    const foreign = join(DIR, 'foreign.db');
    execFileSync('/usr/bin/python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t(x)"); c.commit()', foreign]);
    for (const [f, re] of [[newer, /newer noom/], [corrupt, /corrupt or not a database/], [foreign, /not noom's history/]]) {
      const before = readFileSync(f);
      await assert.rejects(startNoom(['--db', f]), (e) => re.test(e.message) && /exited \(1\)/.test(e.message));
      assert.ok(readFileSync(f).equals(before), `${f} was changed`);
    }
  });
});

describe('history in memory and with history off', () => {
  test(':memory: keeps history while the process runs, and a restart starts empty', async () => {
    let srv = await startNoom(['--db', ':memory:', ...FAST]);
    assert.match(srv.stderr(), /history: in memory only/);
    const a = await client(srv.url);
    await ack(a, 'enter_room', 'al', 'mem');
    await ack(a, 'new_message', 'kept for now', 'mem');
    const b = await client(srv.url);
    assert.deepEqual((await ack(b, 'enter_room', 'bo', 'mem')).history.map((m) => m.text), ['kept for now']);
    await srv.stop();
    srv = await startNoom(['--db', ':memory:', ...FAST]);
    const c = await client(srv.url);
    assert.deepEqual((await ack(c, 'enter_room', 'cy', 'mem')).history, []);
    await srv.stop();
  });

  test('a refused message (over the rate limit) is never stored', async () => {
    const srv = await startNoom(['--db', ':memory:', '--msg-burst', '2', '--msg-rate', '1']);
    const a = await client(srv.url);
    await ack(a, 'enter_room', 'al', 'limited');
    const answers = [];
    for (const t of ['one', 'two', 'three']) answers.push(await ack(a, 'new_message', t, 'limited'));
    assert.deepEqual(answers.slice(0, 2), [undefined, undefined]);
    assert.equal(typeof answers[2]?.error, 'string');
    const page = await ack(a, 'history', 'limited', { limit: 10 });
    assert.deepEqual(page.messages.map((m) => m.text), ['one', 'two']);
    await srv.stop();
  });

  test('--history 0 turns history off: empty history and no file written', async () => {
    const cwdFile = join(DIR, 'off', 'noom.db');
    mkdirSync(join(DIR, 'off'));
    const srv = await startNoom(['--history', '0', '--db', cwdFile, ...FAST]);
    const a = await client(srv.url);
    await ack(a, 'enter_room', 'al', 'off');
    const got = await ack(a, 'new_message', 'not kept', 'off');
    assert.equal(got, undefined);
    assert.deepEqual((await ack(a, 'enter_room', 'al', 'off2')).history, []);
    assert.deepEqual(await ack(a, 'history', 'off', { limit: 5 }), { messages: [] });
    await srv.stop();
    assert.equal(existsSync(cwdFile), false);
  });
});

describe('durability and faults', () => {
  test('kill -9 during a burst: after a restart the file holds a prefix of what was acked, intact', async (t) => {
    const file = join(DIR, 'burst.db');
    let srv = await startNoom(['--db', file, ...FAST]);
    const a = await client(srv.url);
    await ack(a, 'enter_room', 'burst', 'burst');
    const N = 20000, WINDOW = 200;
    const sent = [];
    let acked = 0, stopped = false;
    const ackedAt = [];
    // A sliding window of WINDOW messages in flight, so the server is mid-burst when the
    // kill lands: every ack sends the next message.
    const send = () => {
      if (stopped || sent.length >= N) return;
      const text = `m${String(sent.length).padStart(5, '0')}`;
      sent.push(text);
      a.timeout(60000).emitWithAck('new_message', text, 'burst')
        .then(() => { acked++; ackedAt.push(Date.now()); send(); }, () => {});
    };
    for (let i = 0; i < WINDOW; i++) send();
    // Kill once a quarter is acked (an ack we await, not a sleep).
    await new Promise((res) => { const t = setInterval(() => { if (acked >= N / 4) { clearInterval(t); res(); } }, 2); });
    const killAt = Date.now();
    // Acks the server sent before it died still arrive, then the socket drops.
    const dropped = next(a, 'disconnect', 10000);
    await srv.kill('SIGKILL');
    await dropped;
    stopped = true;
    assert.ok(acked < N, 'the kill landed mid-burst');

    assert.deepEqual(sqlite(file, 'PRAGMA integrity_check'), [['ok']]);
    const rows = sqlite(file, "SELECT text FROM messages WHERE room='burst' ORDER BY id").map((r) => r[0]);
    assert.deepEqual(rows, sent.slice(0, rows.length), 'stored messages are a prefix of what was sent, in order');
    assert.ok(rows.length <= acked, `stored ${rows.length} > acked ${acked}`);
    // Batches commit every 20 ms: what was acked a second before the kill is stored.
    const oldAcks = ackedAt.filter((t) => t < killAt - 1000).length;
    assert.ok(rows.length >= oldAcks, `stored ${rows.length} < acked a second before the kill ${oldAcks}`);
    assert.ok(rows.length > 0);
    t.diagnostic(`acked ${acked}, stored ${rows.length}, sent ${sent.length}`);

    srv = await startNoom(['--db', file, ...FAST]);
    const b = await client(srv.url);
    const res = await ack(b, 'enter_room', 'after', 'burst');
    assert.deepEqual(res.history.map((m) => m.text), rows.slice(-50));
    await srv.stop();
  });

  test('a read-only file: history is served, chat goes on, new messages wait and are written once it is writable', async () => {
    const dir = join(DIR, 'readonly');
    const file = join(dir, 'chat.db');
    mkdirSync(dir);
    let srv = await startNoom(['--db', file, ...FAST]);
    const a0 = await client(srv.url);
    await ack(a0, 'enter_room', 'al', 'ro');
    await ack(a0, 'new_message', 'stored before', 'ro');
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    // Root writes anything: then noom runs as nobody, with a file root owns (its directory
    // open to all, as SQLite needs for its -shm file).
    const root = process.getuid() === 0;
    chmodSync(DIR, 0o755);
    chmodSync(dir, 0o777);
    if (!root) chmodSync(file, 0o444);
    srv = await startNoom(['--db', file, ...FAST], { prefix: root ? ['runuser', '-u', 'nobody', '--'] : [] });
    await srv.waitLog(/history: SQLite store unavailable: .*chat\.db is read-only: make it/);
    const [a, b] = await Promise.all([client(srv.url), client(srv.url)]);
    assert.deepEqual((await ack(a, 'enter_room', 'al', 'ro')).history.map((m) => m.text), ['stored before']);
    await ack(b, 'enter_room', 'bo', 'ro');
    const got = next(b, 'new_message');
    assert.equal(await ack(a, 'new_message', 'while read-only', 'ro'), undefined);
    assert.equal((await got)[0], 'al: while read-only');
    const c = await client(srv.url);
    assert.deepEqual((await ack(c, 'enter_room', 'cy', 'ro')).history.map((m) => m.text), ['stored before', 'while read-only']);
    // The operator makes it writable: the waiting message is written.
    if (root) {
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
      chownSync(file, nobody, -1);
    } else {
      chmodSync(file, 0o644);
    }
    await srv.waitLog(/history: SQLite store available again; writing 1 waiting messages/, 5000);
    assert.equal(srv.stderr().match(/store unavailable/g).length, 1, 'logged once');
    await srv.stop(); // (runuser, not noom, reports how it ended: no exit status to check)
    assert.match(srv.stderr(), /INFO {2}stopped/);
    assert.deepEqual(sqlite(file, 'SELECT text FROM messages ORDER BY id'), [['stored before'], ['while read-only']]);
  });

  test('a full disk: chat goes on, logged once, history served, every waiting message written once there is room', async (t) => {
    // A 256 KiB tmpfs fills after about a hundred 1,900-byte messages (root only).
    const mnt = join(DIR, 'full');
    mkdirSync(mnt);
    if (process.getuid() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status !== 0) {
      t.skip('needs root to mount a small tmpfs');
      return;
    }
    after(() => spawnSync('umount', ['-l', mnt]));
    const file = join(mnt, 'chat.db');
    const srv = await startNoom(['--db', file, ...FAST]);
    const [a, b] = await Promise.all([client(srv.url), client(srv.url)]);
    await ack(a, 'enter_room', 'al', 'full');
    await ack(b, 'enter_room', 'bo', 'full');
    const texts = [];
    for (let i = 0; i < 300; i++) {
      texts.push(`${String(i).padStart(4, '0')} ${'x'.repeat(1900)}`);
      assert.equal(await ack(a, 'new_message', texts[i], 'full'), undefined);
    }
    await srv.waitLog(/history: SQLite store unavailable: .*disk full: free some space/);
    // Live chat is unaffected; a newcomer gets the latest 50 from the node's window.
    const got = until(b, 'new_message', (line) => line === 'al: still talking');
    texts.push('still talking');
    assert.equal(await ack(a, 'new_message', 'still talking', 'full'), undefined);
    await got;
    const c = await client(srv.url);
    assert.deepEqual((await ack(c, 'enter_room', 'cy', 'full')).history.map((m) => m.text), texts.slice(-50));
    // Room again: what waited is written, nothing dropped.
    assert.equal(spawnSync('mount', ['-o', 'remount,size=16m', mnt]).status, 0);
    await srv.waitLog(/history: SQLite store available again; writing \d+ waiting messages \(0 dropped/, 5000);
    assert.equal(srv.stderr().match(/store unavailable/g).length, 1, 'logged once');
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    assert.deepEqual(sqlite(file, 'PRAGMA integrity_check'), [['ok']]);
    assert.deepEqual(sqlite(file, 'SELECT text FROM messages ORDER BY id').map((r) => r[0]), texts);
  });

  test('a store that cannot be opened: chat goes on, logged once, history answers what it has, writes resume', async () => {
    const dir = join(DIR, 'blocked');
    const file = join(dir, 'chat.db');
    mkdirSync(file, { recursive: true }); // a directory where the file should be: SQLite cannot open it
    const srv = await startNoom(['--db', file, ...FAST]);
    await srv.waitLog(/history: SQLite store unavailable: .*chat\.db/);
    const [a, b] = await Promise.all([client(srv.url), client(srv.url)]);
    await ack(a, 'enter_room', 'al', 'down');
    await ack(b, 'enter_room', 'bo', 'down');
    const got = next(b, 'new_message');
    assert.equal(await ack(a, 'new_message', 'while down', 'down'), undefined);
    assert.equal((await got)[0], 'al: while down');
    const c = await client(srv.url);
    assert.deepEqual((await ack(c, 'enter_room', 'cy', 'down')).history.map((m) => m.text), ['while down']);
    assert.equal(srv.stderr().match(/store unavailable/g).length, 1, 'logged once');
    // The operator fixes it: the waiting message is written.
    rmSync(file, { recursive: true });
    await srv.waitLog(/history: SQLite store available again; writing 1 waiting messages/, 5000);
    await srv.stop();
    const rows = sqlite(file, 'SELECT nickname, text FROM messages');
    assert.deepEqual(rows, [['al', 'while down']]);
  });
});
