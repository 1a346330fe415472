// Small async helpers shared by the integration suites: bounded waits (a hang fails the
// test with a message instead of stalling the run) and an event collector.

// Resolves/rejects like promise, or rejects with "<label>: timed out after ms" first.
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${label}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves with the arguments array of the next `event` on emitter (EventEmitter or
// engine.io-client Socket), rejects on timeout or, unless event is 'error', on 'error'.
export function nextEvent(emitter, event, ms = 5000) {
  return new Promise((res, rej) => {
    const onEvent = (...args) => { cleanup(); res(args); };
    const onError = (err) => { cleanup(); rej(err instanceof Error ? err : new Error(String(err))); };
    const timer = setTimeout(() => {
      cleanup();
      rej(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'error') emitter.off('error', onError);
    };
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}

// A promise with its resolve/reject exposed.
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

// Collects values until `count` have arrived; `done` resolves with the array.
export function collector(count, ms, label = 'collector') {
  const items = [];
  const d = deferred();
  const timer = setTimeout(() => {
    d.reject(new Error(`${label}: got ${items.length} of ${count} within ${ms} ms`));
  }, ms);
  return {
    items,
    push(v) {
      items.push(v);
      if (items.length === count) { clearTimeout(timer); d.resolve(items); }
    },
    fail(err) { clearTimeout(timer); d.reject(err); },
    done: d.promise,
  };
}

// Deterministic bytes for binary payloads (a byte pattern that is not all-ASCII).
export function bytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

// Deterministic text of n characters: words drawn by a seeded LCG and joined by spaces
// (compresses well, not trivially: window and context matter).
export function wordText(words, n, seed) {
  let out = '';
  let x = seed;
  while (out.length < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += words[(x >>> 16) % words.length] + ' ';
  }
  return out.slice(0, n);
}
