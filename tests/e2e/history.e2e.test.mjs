// Room history in the page (web/app.js), headless Chromium against build/noom: a tab
// entering a room shows the latest messages above a divider, each with its time, loads
// older ones when scrolled to the top (through the `history` event) without jumping, shows
// markup as text, and fits a phone's width. Messages are seeded through socket.io-client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';

import { launchBrowser, newUser, screenshot, startServer, texts, waitState } from './lib.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

const HIST = '#messages > li[data-kind="history"]';
let server, browser, seeder;
const pages = [];

describe('room history in the page', () => {
  before(async () => {
    server = await startServer({ extra: ['--msg-burst', '1000', '--msg-rate', '1000'] });
    browser = await launchBrowser();
  });
  after(async () => {
    if (seeder) seeder.close();
    for (const p of pages) await p.context().close().catch(() => {});
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('on a phone: the latest 50 above a divider with times, older ones on scrolling up, text never parsed', async () => {
    const room = `hist-${process.pid}`;
    seeder = io(server.origin, { forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise((res) => seeder.once('connect', res));
    const ack = (...args) => seeder.timeout(8000).emitWithAck(...args);
    await ack('enter_room', 'seed', room);
    const sent = [];
    for (let i = 0; i < 80; i++) {
      const text = i === 70 ? '<img src=x onerror=alert(1)> & <script>alert(2)</script>' : `line ${i} 😀 «${'x'.repeat(i % 7)}»`;
      sent.push(`seed: ${text}`);
      assert.equal(await ack('new_message', text, room), undefined);
    }

    const page = await newUser(browser, server.origin, { viewport: { width: 390, height: 740 } });
    pages.push(page);
    await page.goto('/');
    await waitState(page, '#conn-status[data-state="connected"]', 'visible');
    await page.fill('#nickname', 'reader');
    await page.fill('#room-name', room);
    await page.click('#enter-btn');
    await waitState(page, '#room', 'visible');

    // The latest 50, in order, then the divider, then "You entered as reader".
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 50, HIST);
    assert.deepEqual(await texts(page, HIST), sent.slice(30));
    const kinds = await page.locator('#messages > li').evaluateAll((ns) => ns.map((n) => n.dataset.kind));
    assert.deepEqual(kinds.slice(50, 52), ['divider', 'system']);
    assert.equal((await texts(page, '#messages > li'))[51], 'You entered as reader');
    // Each message shows its time (local, short: digits and a separator).
    const times = await page.locator(`${HIST} .who`).evaluateAll((ns) => ns.map((n) => getComputedStyle(n, '::after').content));
    for (const t of times) assert.match(t, /^"\D*\d{1,2}\D\d{2}/, `time shown as ${t}`);
    // Scrolled to the bottom (the newest), where a chat opens.
    const atBottom = await page.$eval('#messages', (l) => l.scrollHeight - l.scrollTop - l.clientHeight < 60);
    assert.equal(atBottom, true);
    await screenshot(page, 'history-phone.png');

    // Scrolling to the top loads the 30 older ones above, and the view stays put.
    const firstShown = await page.$eval(HIST, (n) => n.dataset.id);
    await page.$eval('#messages', (l) => { l.scrollTop = 0; });
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 80 &&
      document.querySelector('#messages').dataset.history === 'done', HIST);
    assert.deepEqual(await texts(page, HIST), sent);
    const stay = await page.$eval('#messages', (l, id) => {
      const n = l.querySelector(`li[data-id="${id}"]`);
      return n.getBoundingClientRect().top - l.getBoundingClientRect().top;
    }, firstShown);
    assert.ok(stay >= 0, `the message that was at the top is still in view below the older ones (${stay})`);

    // Markup arrived as text: shown literally, nothing ran, no element was created.
    assert.ok((await texts(page, HIST)).includes('seed: <img src=x onerror=alert(1)> & <script>alert(2)</script>'));
    assert.equal(await page.locator('#messages img, #messages script').count(), 0);
    assert.deepEqual(page.dialogs, []);
    assert.deepEqual(page.errors, []);

    // A live message after the divider carries its time too.
    await ack('new_message', 'live one', room);
    await page.waitForFunction(() => [...document.querySelectorAll('#messages > li[data-kind="in"]')].some((n) => n.textContent === 'seed: live one'));
    const live = await page.$eval('#messages > li[data-kind="in"]:last-child .who', (n) => n.dataset.time);
    assert.match(live, /\d{1,2}\D\d{2}/);

    // Fits the phone: no sideways scrolling.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  });

  test('an empty room shows no divider and asks for nothing more', async () => {
    const page = await newUser(browser, server.origin);
    pages.push(page);
    await page.goto('/');
    await waitState(page, '#conn-status[data-state="connected"]', 'visible');
    await page.fill('#nickname', 'first');
    await page.fill('#room-name', `empty-${process.pid}`);
    await page.click('#enter-btn');
    await waitState(page, '#room', 'visible');
    assert.deepEqual(await texts(page, '#messages > li'), ['You entered as first']);
    assert.equal(await page.$eval('#messages', (l) => l.dataset.history), 'done');
  });
});
