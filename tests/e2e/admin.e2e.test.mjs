// The official Socket.IO admin UI (the ui/dist web app shipped in @socket.io/admin-ui
// 0.5.1) in headless Chromium, served by build/noom --admin-ui at /admin/ and pointed at
// the same server: it logs in with a bcrypt-checked password and shows the app clients'
// sockets and rooms, live as clients come and go. App clients are socket.io-client 4.8
// entering rooms through the app's enter_room. The UI's two CDN stylesheets (fonts, icons)
// are refused: the test needs no network.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { IS_REF, REPO, WAIT_MS, launchBrowser, screenshot, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');
const bcrypt = require('../node_modules/bcryptjs');

const UI = join(REPO, 'tests/node_modules/@socket.io/admin-ui/ui/dist');
const PASSWORD = 'e2e pass';

describe('the admin UI in Chromium against noom', { skip: IS_REF ? 'noom serves the UI itself' : false }, () => {
  let server, browser, page;
  const clients = [];
  async function appClient(nickname, room) {
    const c = io(server.origin, { forceNew: true, transports: ['websocket'], reconnection: false });
    clients.push(c);
    await new Promise((res, rej) => { c.once('connect', res); c.once('connect_error', rej); });
    await c.timeout(WAIT_MS).emitWithAck('enter_room', nickname, room);
    return c;
  }
  // A row of the UI's current table holding text.
  const row = (text) => page.locator('tbody tr', { hasText: text });
  let alice; // connected before the login, so the UI picks namespace "/" on its pages

  before(async () => {
    server = await startServer({ extra: ['--admin', '--admin-user', 'ops', '--admin-password-hash',
      bcrypt.hashSync(PASSWORD, 4), '--admin-ui', UI, '--admin-server-id', 'noom-e2e'] });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.route(/^https?:\/\/(fonts\.googleapis\.com|cdn\.jsdelivr\.net)\//, (r) => r.abort());
  });
  after(async () => {
    for (const c of clients) c.close();
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('a wrong password is refused, the right one logs in', async () => {
    alice = await appClient('alice', 'e2e-lobby');
    await page.goto(`${server.origin}/admin/`, { waitUntil: 'domcontentloaded' });
    await page.getByLabel('Server URL').fill(server.origin);
    await page.getByLabel('Username').fill('ops');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText('Invalid credentials').waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByText(/^connected$/i).first().waitFor({ timeout: WAIT_MS });
  });

  test('sockets, rooms and servers pages show the app clients, live', async () => {
    await page.getByRole('link', { name: 'Sockets' }).click();
    await row(alice.id).waitFor({ timeout: WAIT_MS });
    assert.match(await row(alice.id).innerText(), /127\.0\.0\.1/);
    assert.match(await row(alice.id).innerText(), /WebSocket/);

    // A client that comes while the page is open appears without a reload...
    const bob = await appClient('bob', 'e2e-second');
    await row(bob.id).waitFor({ timeout: WAIT_MS });
    // ...and one that leaves goes away.
    const aliceId = alice.id;
    alice.close();
    await row(aliceId).waitFor({ state: 'detached', timeout: WAIT_MS });

    await page.getByRole('link', { name: 'Rooms' }).click();
    await row('e2e-second').waitFor({ timeout: WAIT_MS });
    assert.match(await row('e2e-second').innerText(), /PUBLIC\s+1/);
    assert.equal(await row('e2e-lobby').count(), 0, 'the room alice left is gone');

    await page.getByRole('link', { name: 'Servers' }).click();
    await row('noom-e2e').waitFor({ timeout: WAIT_MS });
    assert.match(await row('noom-e2e').innerText(), /HEALTHY/);
    await screenshot(page, 'admin-ui-servers.png');
  });

  test('disconnecting a socket from the UI disconnects the app client', async () => {
    const carol = await appClient('carol', 'e2e-third');
    const gone = new Promise((res) => carol.once('disconnect', res));
    await page.getByRole('link', { name: 'Sockets' }).click();
    await row(carol.id).waitFor({ timeout: WAIT_MS });
    await row(carol.id).getByRole('button').last().click(); // the row's disconnect button
    assert.equal(await gone, 'io server disconnect');
  });
});
