// What the Node.js fleet nodes of the cluster suites share (ref-redis-node.mjs,
// ref-course-server.mjs): their flags, a socket.io 4.8 server on @socket.io/redis-adapter 8
// (classic pub/sub, node-redis 4), and the start/stop protocol the suites expect:
// "listening on http://127.0.0.1:PORT" once the adapter is subscribed, exit on SIGTERM.
//
// Flags: --redis URL (required) [--port P] [--name NAME] [--prefix P] [--requests-timeout MS]
//        [--streams 1] (@socket.io/redis-streams-adapter 0.3 instead, prefix = its
//        channelPrefix) [--recovery-ms MS] (connectionStateRecovery with that window)
//        [--ping-ms MS] (pingInterval and pingTimeout)
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The packages live in tests/node_modules; resolve them from there whatever the cwd.
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../package.json'));
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createAdapter: createStreamsAdapter } = require('@socket.io/redis-streams-adapter');
const { createClient } = require('redis');

// Parses process.argv (exits 2 on a bad flag) and starts the server; tag prefixes logs.
// Returns { io, opts, log, listen() }: listen() starts serving once handlers are set.
export async function startFleetNode(tag, defaultName) {
  const opts = { port: 0, redis: null, name: defaultName, prefix: 'socket.io', requestsTimeout: 5000, streams: false, recoveryMs: 0, pingMs: 0 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--port') opts.port = Number(value);
    else if (flag === '--redis') opts.redis = value;
    else if (flag === '--name') opts.name = value;
    else if (flag === '--prefix') opts.prefix = value;
    else if (flag === '--requests-timeout') opts.requestsTimeout = Number(value);
    else if (flag === '--streams') opts.streams = value === '1';
    else if (flag === '--recovery-ms') opts.recoveryMs = Number(value);
    else if (flag === '--ping-ms') opts.pingMs = Number(value);
    else {
      process.stderr.write(`${tag}: unknown flag ${flag}\n`);
      process.exit(2);
    }
  }
  if (!opts.redis) {
    process.stderr.write(`${tag}: --redis URL is required\n`);
    process.exit(2);
  }
  const log = (msg) => process.stderr.write(`${tag}: ${msg}\n`);
  const pub = createClient({ url: opts.redis });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err) => log(`redis: ${err.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  const server = http.createServer();
  const io = new Server(server, {
    adapter: opts.streams
      ? createStreamsAdapter(pub, { channelPrefix: opts.prefix })
      : createAdapter(pub, sub, { key: opts.prefix, requestsTimeout: opts.requestsTimeout }),
    ...(opts.pingMs > 0 ? { pingInterval: opts.pingMs, pingTimeout: opts.pingMs } : {}),
    ...(opts.recoveryMs > 0 ? { connectionStateRecovery: { maxDisconnectionDuration: opts.recoveryMs, skipMiddlewares: true } } : {}),
  });
  const stop = () => {
    io.close();
    Promise.allSettled([pub.quit(), sub.quit()]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return {
    io,
    opts,
    log,
    async listen() {
      // node-redis runs a connection's commands in order: once this subscription is
      // confirmed, the adapters' own (issued before, not awaited by them) are active too.
      await sub.subscribe(`${tag}-ready`, () => {});
      server.listen(opts.port, '127.0.0.1', () => {
        process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
      });
    },
  };
}
