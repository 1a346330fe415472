// examples/chat.c, the API demo: the course's enter_room / nickname / new_message flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { BUILD, next } from './lib/noom.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

let child, url;
const clients = [];
before(async () => {
  child = spawn(join(BUILD, 'examples/chat'), ['0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('chat example did not start')), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /chat listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
  });
});
after(() => { for (const c of clients) c.close(); child.kill('SIGKILL'); });

async function client() {
  const s = io(url, { forceNew: true, transports: ['websocket'] });
  clients.push(s);
  await next(s, 'connect');
  return s;
}

test('the chat example runs the course flow', async () => {
  const a = await client(), b = await client();
  a.emit('nickname', 'ada');
  b.emit('nickname', 'bob');
  await a.timeout(5000).emitWithAck('enter_room', 'lounge');
  const welcome = next(a, 'welcome');
  await b.timeout(5000).emitWithAck('enter_room', 'lounge');
  assert.deepEqual(await welcome, ['bob']);
  const msg = next(b, 'new_message');
  await a.timeout(5000).emitWithAck('new_message', 'hi bob', 'lounge');
  assert.deepEqual(await msg, ['ada: hi bob']);
});
