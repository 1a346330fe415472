// A TCP proxy a test can cut, for connection-state recovery (the recovery suites, the
// app's, the browser's, msgpack's and the streams adapter's across nodes).
import net from 'node:net';

// A TCP proxy to port that the test can cut (destroy both sides of every connection and
// refuse new ones) and open again, to another port when open(port) names one (a client
// moving from one node to another).
export function cuttableProxy(port) {
  const pairs = new Set();
  let target = port, open = true;
  const server = net.createServer((down) => {
    if (!open) {
      down.destroy();
      return;
    }
    const up = net.connect(target, '127.0.0.1');
    const pair = [down, up];
    pairs.add(pair);
    const kill = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', kill).on('close', kill);
    up.on('error', kill).on('close', kill);
    down.pipe(up);
    up.pipe(down);
  });
  return {
    listen: () => new Promise((res) => server.listen(0, '127.0.0.1', () => res(server.address().port))),
    cut() {
      open = false;
      for (const [down, up] of [...pairs]) {
        down.destroy();
        up.destroy();
      }
      pairs.clear();
    },
    open(p) {
      if (p !== undefined) target = p;
      open = true;
    },
    close() {
      this.cut();
      return new Promise((res) => server.close(res));
    },
  };
}
