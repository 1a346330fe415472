// The page across a dropped connection (docs/app-events.md "Reconnecting"), in headless
// Chromium: Alice's tab reaches noom through a TCP proxy this file cuts (every connection
// destroyed, new ones refused until it opens again), Bob's tab goes straight to the
// server. Both sit in one room.
//
//   cut for a few seconds (inside --recovery-ms): Alice's tab shows "Reconnecting…", then
//     every message Bob said meanwhile, once and in order, and "Reconnected", without
//     entering the room again (Bob sees neither a bye nor a second arrival);
//   cut past a short window: the session is gone (Bob sees "alice left"), so the tab
//     enters its room again by itself, says so, and shows what it missed from the
//     history in the answer, without repeating what it already showed (its own messages
//     included).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { cuttableProxy } from '../integration/lib/proxy.mjs';
import {
  enterRoom, IS_REF, launchBrowser, MSG, newUser, say, startServer, texts, waitLine, waitState, waitText,
} from './lib.mjs';


let browser;
const pages = [];

async function open(origin) {
  const page = await newUser(browser, origin);
  pages.push(page);
  await page.goto('/');
  await waitState(page, '#conn-status[data-state="connected"]', 'visible');
  return page;
}

const linesOf = (page) => texts(page, MSG);

describe('reconnecting through a cut network', { skip: IS_REF ? 'the reference runs without recovery' : false }, () => {
  let long, short, proxyLong, proxyShort, viaLong, viaShort;
  before(async () => {
    [long, short] = await Promise.all([startServer(), startServer({ extra: ['--recovery-ms', '1000'] })]);
    proxyLong = cuttableProxy(long.port);
    proxyShort = cuttableProxy(short.port);
    viaLong = `http://127.0.0.1:${await proxyLong.listen()}`;
    viaShort = `http://127.0.0.1:${await proxyShort.listen()}`;
    browser = await launchBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    await Promise.all([proxyLong?.close(), proxyShort?.close()]);
    await Promise.all([long?.stop(), short?.stop()]);
  });

  test('a tab cut for a few seconds shows every message once, in order, without entering again', async () => {
    const alice = await open(viaLong);
    const bob = await open(long.origin);
    await enterRoom(alice, 'alice', 'steady');
    await enterRoom(bob, 'bob', 'steady');
    await waitLine(alice, MSG, 'bob arrived!');
    await say(bob, 'before');
    await waitLine(alice, MSG, 'bob: before');
    await say(alice, 'mine');

    proxyLong.cut();
    await waitText(alice, '#conn-status', 'Reconnecting…');
    await waitLine(alice, MSG, 'Connection lost, reconnecting…');
    const missed = Array.from({ length: 8 }, (_, i) => `while away ${i}`);
    for (const m of missed) await say(bob, m);
    proxyLong.open();
    await waitState(alice, '#conn-status[data-state="connected"]', 'visible', 15000);
    await waitLine(alice, MSG, 'Reconnected');
    await say(alice, 'back');
    await waitLine(bob, MSG, 'alice: back');

    const got = await linesOf(alice);
    const at = got.indexOf('Connection lost, reconnecting…');
    assert.deepEqual(got.slice(at + 1), [...missed.map((m) => `bob: ${m}`), 'Reconnected', 'You: back'],
      'every missed message once, in order, then "Reconnected"');
    assert.equal(got.filter((l) => l === 'bob: before').length, 1);
    assert.ok(!got.some((l) => l.startsWith('Reconnected: entered')), 'no re-entry');
    const bobs = await linesOf(bob);
    assert.ok(!bobs.includes('alice arrived!'), 'no second arrival (bob entered after her)');
    assert.ok(!bobs.includes('alice left'), 'no bye for a kept session');
    await waitText(bob, '#room-title', 'Room steady (2)');
    for (const p of [alice, bob]) assert.deepEqual(p.errors, []);
  });

  test('a tab cut past the window enters its room again by itself and fills the gap from the history', async () => {
    const alice = await open(viaShort);
    const bob = await open(short.origin);
    await enterRoom(alice, 'alice', 'gappy');
    await enterRoom(bob, 'bob', 'gappy');
    await waitLine(alice, MSG, 'bob arrived!');
    await say(bob, 'before');
    await waitLine(alice, MSG, 'bob: before');
    await say(alice, 'mine');
    await waitLine(bob, MSG, 'alice: mine');

    proxyShort.cut();
    await waitText(alice, '#conn-status', 'Reconnecting…');
    // The session is over once the room hears the bye (window + 1 s).
    await waitLine(bob, MSG, 'alice left', 15000);
    await say(bob, 'missed 1');
    await say(bob, 'missed 2');
    proxyShort.open();
    await waitLine(alice, MSG, 'Reconnected: entered the room again (2 missed messages below)', 15000);
    await waitText(alice, '#room-title', 'Room gappy (2)');
    await waitLine(bob, MSG, 'alice arrived!');

    const got = await linesOf(alice);
    const at = got.indexOf('Reconnected: entered the room again (2 missed messages below)');
    assert.deepEqual(got.slice(at + 1), ['bob: missed 1', 'bob: missed 2'], 'the gap, once, in order');
    for (const l of ['bob: before', 'You: mine', 'bob: missed 1', 'bob: missed 2']) {
      assert.equal(got.filter((x) => x === l).length, 1, `${l} once`);
    }
    assert.ok(!got.includes('alice: mine'), 'its own message is not repeated from the history');
    // Live again in the room: a new message reaches it.
    await say(bob, 'after');
    await waitLine(alice, MSG, 'bob: after');
    for (const p of [alice, bob]) assert.deepEqual(p.errors, []);
  });
});
