// Browser end-to-end tests of the noom web app (web/index.html + app.js, web/ws-chat.html)
// against the real server binary, in headless Chromium driven by playwright-core.
// Users are separate browser contexts. Flows follow docs/app-events.md; every wait is a
// DOM condition with a bounded timeout (see lib.mjs). Screenshots go to tests/artifacts/.
//
//   node --test tests/e2e/                       # build/noom (NOOM_BUILD=dir for another build)
//   NOOM_REF=1 node --test tests/e2e/            # against the Node reference of the events
//   NOOM_E2E_CLIENT=official node --test tests/e2e/   # page uses the npm socket.io-client
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  enterRoom, launchBrowser, MSG, newUser, say, screenshot, startServer, texts, waitLine, waitNoLine, waitState,
  waitText,
} from './lib.mjs';

const ROOMS = '#room-list .room-item';

let server;
let browser;
const pages = [];

const spare = [];

// A new user: a browser context of its own (storage included) with one page. A page given
// back by done() is reused when the default viewport is wanted: opening a page costs
// Chromium far more than navigating one.
async function user(opts) {
  if (!opts && spare.length) return spare.pop();
  const page = await newUser(browser, server.origin, opts);
  pages.push(page);
  return page;
}

// Ends a user that a test no longer needs: its page leaves the app (closing the
// connection) and waits in the spare pool.
async function done(page) {
  if (page.viewportSize().width !== 1280) return page.context().close();
  await page.goto('about:blank');
  page.dialogs.length = 0;
  spare.push(page);
}

// Opens the lobby and waits for the Socket.IO connection.
async function openLobby(opts) {
  const page = await user(opts);
  await page.goto('/');
  await waitState(page, '#conn-status[data-state="connected"]', 'visible');
  return page;
}

// Appends the server's stderr to a failure, and checks that no page threw.
function check(fn) {
  return async (t) => {
    try {
      await fn(t);
      for (const p of pages) assert.deepEqual(p.errors, [], `uncaught errors in ${p.url()}`);
    } catch (err) {
      const tail = server?.stderr().slice(-3000);
      if (tail) err.message += `\n--- server stderr (tail) ---\n${tail}`;
      throw err;
    }
  };
}

before(async () => {
  server = await startServer();
  if (!process.env.NOOM_E2E_CLIENT) {
    // Every page needs the client library; without it all tests would time out one by one.
    const res = await fetch(`${server.origin}/socket.io/socket.io.js`);
    if (res.status !== 200) {
      throw new Error(`${server.origin}/socket.io/socket.io.js answers ${res.status}, so the page has no ` +
        'Socket.IO client. Serve web/socket.io/socket.io.js there, or set NOOM_E2E_CLIENT=own to inject it.');
    }
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('the server serves the pages, styles, scripts and icon with their types', check(async () => {
  const want = {
    '/': 'text/html',
    '/index.html': 'text/html',
    '/ws-chat': 'text/html',
    '/app.js': 'javascript',
    '/ws-chat.js': 'javascript',
    '/style.css': 'text/css',
    '/favicon.svg': 'image/svg+xml',
  };
  if (!process.env.NOOM_E2E_CLIENT) want['/socket.io/socket.io.js'] = 'javascript';
  for (const [path, type] of Object.entries(want)) {
    const res = await fetch(server.origin + path, { redirect: 'manual' });
    assert.equal(res.status, 200, path);
    const got = res.headers.get('content-type') || '';
    assert.ok(got.includes(type), `${path}: Content-Type ${got}, expected ${type}`);
  }
}));

describe('lobby and room chat', () => {
  let alice;
  let bob;
  let phone;

  before(async () => {
    alice = await openLobby();
    bob = await openLobby();
    phone = await openLobby({ viewport: { width: 390, height: 844 } });
  });

  test('a room created by one user shows in the other user\'s lobby with its head count', check(async () => {
    assert.equal(await alice.isVisible('#no-rooms'), true, 'an empty lobby says so');
    await enterRoom(alice, 'Alice', 'lounge');
    await waitText(alice, '#room-title', 'Room lounge (1)');
    await waitLine(alice, MSG, 'You entered as Alice');
    await waitLine(bob, ROOMS, 'lounge (1)');
    assert.equal(await bob.isVisible('#no-rooms'), false);
  }));

  test('a second user joins by clicking the room; both headers show (2)', check(async () => {
    // Another room so that the lobby screenshot shows a list.
    const carol = await openLobby();
    await enterRoom(carol, 'Carol', 'book club');
    await waitLine(bob, ROOMS, 'book club (1)');
    assert.deepEqual(await texts(bob, ROOMS), ['book club (1)', 'lounge (1)'], 'sorted by name');
    await bob.fill('#nickname', 'Bob');
    await screenshot(bob, 'lobby.png');

    await bob.locator(ROOMS, { hasText: 'lounge' }).click();
    await waitState(bob, '#room', 'visible');
    assert.equal(await bob.isHidden('#lobby'), true);
    await waitText(bob, '#room-title', 'Room lounge (2)');
    await waitText(alice, '#room-title', 'Room lounge (2)');
    await waitLine(alice, MSG, 'Bob arrived!');
    await waitLine(carol, ROOMS, 'lounge (2)');
    await carol.click('#leave-btn');
    await done(carol);
  }));

  test('messages go both ways: "You: ..." for the sender, "nick: ..." for the others', check(async () => {
    await say(alice, 'Hi Bob! Welcome to the lounge.');
    await waitLine(bob, MSG, 'Alice: Hi Bob! Welcome to the lounge.');
    await say(bob, 'Thanks Alice, glad to be here');
    await waitLine(alice, MSG, 'Bob: Thanks Alice, glad to be here');
    await say(alice, 'The video grid is coming soon');
    await waitLine(bob, MSG, 'Alice: The video grid is coming soon');
    // Own lines appear only once, with "You", never echoed back as "Alice: ...".
    const lines = await texts(alice, MSG);
    assert.equal(lines.filter((l) => l.includes('Welcome to the lounge')).length, 1);
    assert.equal(await alice.inputValue('#message-input'), '', 'the input is cleared after sending');
    await screenshot(alice, 'room.png');
    await alice.emulateMedia({ colorScheme: 'dark' });
    await screenshot(alice, 'room-dark.png');
    await alice.emulateMedia({ colorScheme: 'light' });
  }));

  test('a phone-sized screen shows the lobby and the room in one column; closing the tab says bye', check(async () => {
    await waitLine(phone, ROOMS, 'lounge (2)');
    await phone.fill('#nickname', 'Pat');
    await screenshot(phone, 'lobby-phone.png');
    const card = await phone.locator('.rooms').boundingBox();
    const form = await phone.locator('.enter').boundingBox();
    assert.ok(card.y >= form.y + form.height, 'the room list sits below the form');
    await phone.locator(ROOMS, { hasText: 'lounge' }).click();
    await waitText(phone, '#room-title', 'Room lounge (3)');
    await say(phone, 'Hello from my phone');
    await waitLine(bob, MSG, 'Pat: Hello from my phone');
    await say(bob, 'Hi Pat!');
    await waitLine(phone, MSG, 'Bob: Hi Pat!');
    await screenshot(phone, 'room-phone.png');
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling (page is ${width}px wide)`);
    // Closing the tab (a disconnection, not leave_room) says goodbye too.
    await done(phone);
    await waitText(alice, '#room-title', 'Room lounge (2)');
    await waitLine(alice, MSG, 'Pat left');
    await waitLine(bob, MSG, 'Pat left');
  }));

  test('a nickname change shows in later messages', check(async () => {
    await bob.fill('#nick-input', 'Robert');
    await bob.click('#nick-btn');
    await waitLine(bob, MSG, 'You are now Robert');
    await say(bob, 'I go by Robert now');
    await waitLine(alice, MSG, 'Robert: I go by Robert now');
  }));

  test('leaving: the others see "X left" and the new count, the leaver is back in the lobby', check(async () => {
    await bob.click('#leave-btn');
    await waitState(bob, '#lobby', 'visible');
    assert.equal(await bob.isHidden('#room'), true);
    await waitText(alice, '#room-title', 'Room lounge (1)');
    await waitLine(alice, MSG, 'Robert left');
    await waitLine(bob, ROOMS, 'lounge (1)');
    assert.equal(await bob.inputValue('#nickname'), 'Robert', 'the lobby keeps the current nickname');
    assert.equal(await bob.url(), `${server.origin}/`, 'no navigation happened');
  }));

  test('an empty room disappears from every lobby', check(async () => {
    await alice.click('#leave-btn');
    await waitState(alice, '#lobby', 'visible');
    await waitNoLine(bob, ROOMS, 'lounge (1)');
    await waitNoLine(alice, ROOMS, 'lounge (1)');
    assert.deepEqual(await texts(bob, ROOMS), []);
    await waitState(bob, '#no-rooms', 'visible');
  }));

  test('a lobby opened after a room exists lists it at once', check(async () => {
    await enterRoom(alice, 'Alice', 'late-night');
    const dave = await openLobby();
    await waitLine(dave, ROOMS, 'late-night (1)');
    await alice.click('#leave-btn');
    await waitNoLine(dave, ROOMS, 'late-night (1)');
    await done(dave);
  }));
});

describe('validation and escaping', () => {
  test('errors from the server\'s ack are shown next to the form', check(async () => {
    const page = await openLobby();
    // Empty fields are caught in the page.
    await page.fill('#nickname', '');
    await page.click('#enter-btn');
    await waitText(page, '#enter-error', 'Pick a nickname first.');
    // 11 emoji are 22 UTF-16 units (the input allows 32) but 44 bytes: the server refuses.
    await page.fill('#nickname', '😀'.repeat(11));
    await page.fill('#room-name', 'emoji');
    await page.click('#enter-btn');
    await waitText(page, '#enter-error', 'nickname must be 1-32 characters');
    assert.equal(await page.isVisible('#lobby'), true);
    assert.equal(await page.isHidden('#room'), true);
    // Typing clears the error; a valid nickname gets in.
    await page.fill('#nickname', 'Emma');
    assert.equal(await page.isHidden('#enter-error'), true);
    await page.click('#enter-btn');
    await waitText(page, '#room-title', 'Room emoji (1)');
    // Room-level errors: over the message rate limit.
    await page.evaluate(() => {
      const input = document.getElementById('message-input');
      const form = document.getElementById('message-form');
      for (let i = 0; i < 30; i++) {
        input.value = `burst ${i}`;
        form.requestSubmit();
      }
    });
    await waitText(page, '#room-error', 'too many messages, slow down');
    const sent = (await texts(page, MSG)).filter((l) => l.startsWith('You: burst'));
    assert.ok(sent.length >= 20 && sent.length < 30, `the burst allowance got through (${sent.length})`);
    await page.click('#leave-btn');
    await done(page);
  }));

  test('HTML in nicknames, room names and messages is shown as text', check(async () => {
    const evilNick = '<img src=x onerror=alert(1)>';
    const evilRoom = '<b id=injected>bold</b>';
    const evilMsg = '<script>alert(2)</script><i>hi</i>';
    const watcher = await openLobby();
    const mallory = await openLobby();
    await enterRoom(mallory, evilNick, evilRoom);
    await waitText(mallory, '#room-title', `Room ${evilRoom} (1)`);
    await waitLine(watcher, ROOMS, `${evilRoom} (1)`);
    await watcher.fill('#nickname', 'Watcher');
    await watcher.locator(ROOMS).filter({ hasText: 'bold' }).click();
    await waitText(watcher, '#room-title', `Room ${evilRoom} (2)`);
    await say(mallory, evilMsg);
    await waitLine(watcher, MSG, `${evilNick}: ${evilMsg}`);
    await say(watcher, 'nice try');
    await waitLine(mallory, MSG, 'Watcher: nice try');
    await mallory.fill('#nick-input', '<svg onload=alert(3)>');
    await mallory.click('#nick-btn');
    await waitLine(mallory, MSG, 'You are now <svg onload=alert(3)>');
    await say(mallory, 'bye');
    await waitLine(watcher, MSG, '<svg onload=alert(3)>: bye');
    for (const p of [watcher, mallory]) {
      assert.equal(await p.locator('#injected, img:not(.brand img), script:not([src]), svg, i').count(), 0,
        'no element was created from user text');
      assert.deepEqual(p.dialogs, [], 'no injected script ran');
    }
    await mallory.click('#leave-btn');
    await waitLine(watcher, MSG, '<svg onload=alert(3)> left');
    await watcher.click('#leave-btn');
    await done(watcher);
    await done(mallory);
  }));
});

describe('reconnection', () => {
  test('after the server restarts, the page reconnects and re-enters its room', check(async () => {
    const page = await openLobby();
    await enterRoom(page, 'Rita', 'sturdy');
    await waitText(page, '#room-title', 'Room sturdy (1)');
    const port = server.port;
    await server.stop();
    await waitState(page, '#conn-status[data-state="reconnecting"]', 'visible');
    await waitText(page, '#conn-status', 'Reconnecting…');
    server = await startServer({ port });
    // socket.io-client backs off up to 5 s between attempts.
    await waitState(page, '#conn-status[data-state="connected"]', 'visible', 15000);
    await waitLine(page, MSG, 'Reconnected: entered the room again');
    await waitText(page, '#room-title', 'Room sturdy (1)');
    // The new socket is in the room: another user sees it and can talk to it.
    const other = await openLobby();
    await other.fill('#nickname', 'Otto');
    await other.fill('#room-name', 'sturdy');
    await other.click('#enter-btn');
    await waitText(other, '#room-title', 'Room sturdy (2)');
    await waitLine(page, MSG, 'Otto arrived!');
    await say(page, 'still here');
    await waitLine(other, MSG, 'Rita: still here');
    await done(page);
    await done(other);
  }));
});

describe('/ws-chat (plain WebSocket)', () => {
  test('two pages exchange messages; the pages link to each other', check(async () => {
    const one = await user();
    const two = await user();
    for (const p of [one, two]) {
      await p.goto('/ws-chat');
      await waitState(p, '#ws-status[data-state="connected"]', 'visible');
    }
    await one.fill('#ws-nick', 'Wendy');
    await one.click('#ws-nick-btn');
    await two.fill('#ws-nick', '<b>Walt</b>');
    await two.click('#ws-nick-btn');
    await one.fill('#ws-message', 'hello over a plain WebSocket');
    await one.click('#ws-send-btn');
    for (const p of [one, two]) await waitLine(p, '#ws-messages > li', 'Wendy: hello over a plain WebSocket');
    await two.fill('#ws-message', 'hi Wendy');
    await two.click('#ws-send-btn');
    for (const p of [one, two]) await waitLine(p, '#ws-messages > li', '<b>Walt</b>: hi Wendy');
    assert.equal(await one.locator('#ws-messages b').count(), 0);
    await screenshot(two, 'ws-chat.png');

    await one.click('#rooms-link');
    await waitState(one, '#lobby', 'visible');
    await one.click('#ws-chat-link');
    await waitState(one, '#ws-messages', 'attached');
    assert.equal(new URL(one.url()).pathname, '/ws-chat');
  }));
});
