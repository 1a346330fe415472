/*
 * noom browser client: a small Socket.IO v5 / Engine.IO v4 client, served by the noom server at
 * /socket.io/socket.io.js. It exposes a global `io` with the API subset of socket.io-client 4.x
 * described in docs/browser-client.md (same names, same behaviour for what it covers).
 *
 * Layers, bottom up (specs: Engine.IO protocol v4, Socket.IO protocol v5):
 *   Emitter     on/once/off/emitReserved; listener exceptions are reported, never unwind us
 *   Engine.IO   packet codec, Polling (XHR) and WS transports, Engine (handshake, heartbeat,
 *               write buffer with maxPayload batching, polling -> websocket upgrade)
 *   Socket.IO   packet encoder/decoder with binary attachments
 *   Manager     one Engine shared by the namespaces of one URL; reconnection with backoff
 *   Socket      one namespace: connect/auth, emit/acks/timeouts, send buffer, disconnect
 *   io()        URL parsing and the Manager cache (multiplexing)
 *
 * Plain ES2018, no build step, no dependencies. Input from the network is never trusted: a
 * packet that does not decode closes the connection ("parse error") and nothing is thrown.
 */
(function (root) {
  'use strict';

  // ---------------------------------------------------------------- helpers

  // Reports an exception from application code (a listener, an auth function) the way an
  // uncaught error would be, without unwinding the protocol code that called it.
  function report(err) {
    if (typeof root.reportError === 'function') root.reportError(err);
    else setTimeout(() => { throw err; });
  }

  function call(fn, self, args) {
    try {
      fn.apply(self, args);
    } catch (err) {
      report(err);
    }
  }

  // Subscribes fn and returns the function that unsubscribes it.
  function on(obj, ev, fn) {
    obj.on(ev, fn);
    return () => obj.off(ev, fn);
  }

  // Sets an own property even when the key is "__proto__" (plain assignment would not).
  function put(obj, key, value) {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  }

  const isBinary = (x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x);
  const isObject = (x) => Object.prototype.toString.call(x) === '[object Object]';
  const num = (v, dflt) => (v === undefined ? dflt : v);

  // ---------------------------------------------------------------- Emitter

  class Emitter {
    constructor() {
      this._cbs = new Map();
    }

    on(ev, fn) {
      ev = String(ev);
      if (!this._cbs.has(ev)) this._cbs.set(ev, []);
      this._cbs.get(ev).push(fn);
      return this;
    }

    once(ev, fn) {
      const wrap = (...args) => {
        this.off(ev, wrap);
        fn.apply(this, args);
      };
      wrap.fn = fn;
      return this.on(ev, wrap);
    }

    // off() removes everything, off(ev) every listener of ev, off(ev, fn) the first fn.
    off(ev, fn) {
      if (ev === undefined) {
        this._cbs.clear();
        return this;
      }
      ev = String(ev);
      const list = this._cbs.get(ev);
      if (list && fn !== undefined) {
        const i = list.findIndex((h) => h === fn || h.fn === fn);
        if (i >= 0) list.splice(i, 1);
      }
      if (fn === undefined || (list && !list.length)) this._cbs.delete(ev);
      return this;
    }

    listeners(ev) {
      return (this._cbs.get(String(ev)) || []).slice();
    }

    hasListeners(ev) {
      return this.listeners(ev).length > 0;
    }

    emitReserved(ev, ...args) {
      // A copy: listeners added or removed by a listener take effect from the next emit.
      for (const fn of this.listeners(ev)) call(fn, this, args);
      return this;
    }

    emit(ev, ...args) {
      return this.emitReserved(ev, ...args);
    }
  }

  // ---------------------------------------------------------------- Engine.IO v4 packets

  const EIO_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
  const SEPARATOR = '\x1e'; // between the packets of one polling payload

  function bytesOf(x) {
    return x instanceof ArrayBuffer ? new Uint8Array(x) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  }

  function toBase64(bytes) {
    let s = '';
    // In slices: apply() with a huge argument list overflows the stack.
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  function fromBase64(text) {
    const s = atob(text); // throws on a malformed string
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out.buffer;
  }

  // A packet as one WebSocket message (binary as is) or one polling payload part ('b' + base64).
  function encodeEio(p, forPolling) {
    if (isBinary(p.data)) return forPolling ? 'b' + toBase64(bytesOf(p.data)) : p.data;
    return EIO_TYPES.indexOf(p.type) + (p.data === undefined ? '' : p.data);
  }

  // raw: a string, or an ArrayBuffer from a binary WebSocket frame. Throws on anything invalid.
  function decodeEio(raw) {
    if (typeof raw !== 'string') return { type: 'message', data: raw };
    if (raw[0] === 'b') return { type: 'message', data: fromBase64(raw.slice(1)) };
    const type = EIO_TYPES[raw.charCodeAt(0) - 48];
    if (!type) throw new Error('invalid Engine.IO packet');
    return { type, data: raw.slice(1) };
  }

  function utf8Length(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4; // a surrogate pair
        i++;
      } else n += 3;
    }
    return n;
  }

  // Bytes of a packet once encoded into a polling payload (maxPayload counts these).
  function pollingSize(p) {
    if (isBinary(p.data)) return 1 + 4 * Math.ceil(p.data.byteLength / 3);
    return 1 + utf8Length(p.data === undefined ? '' : String(p.data));
  }

  // ---------------------------------------------------------------- transports
  //
  // Events: 'open', 'packet' (decoded), 'drain' (a send() completed), 'error' (err.parse set
  // for undecodable input), 'close'. `writable` is false while a send() is in flight.

  class Transport extends Emitter {
    constructor(engine, name) {
      super();
      this.engine = engine;
      this.name = name;
      this.readyState = 'closed';
      this.writable = false;
    }

    _opened() {
      this.readyState = 'open';
      this.writable = true;
      this.emitReserved('open');
    }

    _closed(why) {
      if (this.readyState === 'closed') return;
      this.readyState = 'closed';
      this.writable = false;
      this.emitReserved('close', why);
    }

    _failed(message, context) {
      if (this.readyState === 'closed') return;
      const err = new Error(message);
      err.type = 'TransportError';
      err.description = context;
      this.emitReserved('error', err);
    }

    _receive(raws) {
      for (const raw of raws) {
        if (this.readyState === 'closed') return;
        let p;
        try {
          p = decodeEio(raw);
        } catch (e) {
          const err = new Error('parse error');
          err.parse = true;
          err.description = e;
          this.emitReserved('error', err);
          return;
        }
        if (p.type === 'close') return this._closed('transport closed by the server');
        // Polling is open once the handshake arrives (a WebSocket when its connection is).
        if (p.type === 'open' && this.readyState === 'opening') this._opened();
        this.emitReserved('packet', p);
      }
    }
  }

  // HTTP long-polling with XMLHttpRequest: one GET waits for server packets, one POST at a
  // time carries client packets (Engine.IO v4: text payloads, binary as base64).
  class Polling extends Transport {
    constructor(engine) {
      super(engine, 'polling');
      this._polling = false;
    }

    open() {
      this.readyState = 'opening';
      this._poll();
    }

    _poll() {
      this._polling = true;
      this._request('GET', null, (err, text) => {
        if (this.readyState === 'closed') return;
        if (err) return this._failed('xhr poll error', err);
        this._receive(text.split(SEPARATOR));
        if (this.readyState === 'closed') return;
        this._polling = false;
        this.emitReserved('pollComplete');
        if (this.readyState === 'open') this._poll();
      });
    }

    send(packets) {
      this.writable = false;
      const body = packets.map((p) => encodeEio(p, true)).join(SEPARATOR);
      this._request('POST', body, (err) => {
        if (this.readyState === 'closed') return;
        if (err) return this._failed('xhr post error', err);
        this.writable = true;
        this.emitReserved('drain');
      });
    }

    // Calls onPause once no GET and no POST is in flight (the upgrade switches only then, so
    // that no packet is lost or reordered); the server ends the pending GET with a noop.
    pause(onPause) {
      this.readyState = 'pausing';
      let pending = 0;
      const step = () => {
        if (--pending > 0 || this.readyState !== 'pausing') return;
        this.readyState = 'paused';
        onPause();
      };
      if (this._polling) {
        pending++;
        this.once('pollComplete', step);
      }
      if (!this.writable) {
        pending++;
        this.once('drain', step);
      }
      if (!pending) {
        pending = 1;
        step();
      }
    }

    // Back to normal after a failed upgrade.
    resume() {
      if (this.readyState !== 'pausing' && this.readyState !== 'paused') return;
      this.readyState = 'open';
      if (!this._polling) this._poll();
    }

    close() {
      // Tell the server (a close packet); the pending GET is left to end by itself.
      if (this.readyState === 'open' || this.readyState === 'pausing') this.send([{ type: 'close' }]);
      this._closed('forced close');
    }

    _request(method, body, cb) {
      const xhr = new XMLHttpRequest();
      let done = false;
      const finish = (err, text) => {
        if (done) return;
        done = true;
        cb(err, text);
      };
      xhr.onload = () => (xhr.status === 200 ? finish(null, xhr.responseText) : finish(new Error('HTTP ' + xhr.status)));
      xhr.onerror = xhr.onabort = xhr.ontimeout = () => finish(new Error('network error'));
      try {
        xhr.open(method, this.engine._url('polling', true), true);
        xhr.withCredentials = !!this.engine.opts.withCredentials;
        xhr.send(body); // a string body goes as text/plain: no CORS preflight
      } catch (e) {
        setTimeout(() => finish(e));
      }
    }
  }

  class WS extends Transport {
    constructor(engine) {
      super(engine, 'websocket');
    }

    open() {
      this.readyState = 'opening';
      let ws;
      try {
        ws = this.ws = new WebSocket(this.engine._url('websocket', false));
      } catch (e) {
        setTimeout(() => this._failed('websocket error', e));
        return;
      }
      ws.binaryType = 'arraybuffer'; // binary arrives as ArrayBuffer, like socket.io-client
      ws.onopen = () => this._opened();
      ws.onclose = (ev) => this._closed('websocket connection closed', ev);
      ws.onerror = (ev) => this._failed('websocket error', ev);
      ws.onmessage = (ev) => this._receive([ev.data]);
    }

    send(packets) {
      this.writable = false;
      try {
        for (const p of packets) this.ws.send(encodeEio(p, false));
      } catch (e) {
        setTimeout(() => this._failed('websocket error', e));
        return;
      }
      // 'drain' a little later, so that a burst of writes is batched into the next send().
      Promise.resolve().then(() => {
        if (this.readyState === 'closed') return;
        this.writable = true;
        this.emitReserved('drain');
      });
    }

    close() {
      if (this.ws) {
        this.ws.onopen = this.ws.onclose = this.ws.onerror = this.ws.onmessage = null;
        this.ws.close();
      }
      this._closed('forced close');
    }
  }

  // ---------------------------------------------------------------- Engine.IO session
  //
  // Events: 'open' (handshake done), 'handshake', 'packet', 'data' (a message), 'ping',
  // 'upgrading', 'upgrade', 'upgradeError', 'drain', 'flush', 'error', 'close' (reason).

  class Engine extends Emitter {
    // target: { secure, host, query }; opts: { path (with trailing slash), query, transports,
    // upgrade, withCredentials }.
    constructor(target, opts) {
      super();
      this.target = target;
      this.opts = opts;
      const names = (opts.transports || ['polling', 'websocket']).filter((t) => t === 'polling' || t === 'websocket');
      this.transports = names.length ? names : ['polling', 'websocket'];
      this.id = null;
      this.readyState = 'opening';
      this.writeBuffer = [];
      this._prevLen = 0; // packets of writeBuffer handed to the transport, not drained yet
      this.upgrading = false;
      this._stamp = 0;
      this._pingDeadline = 0;
      this._setTransport(this._create(this.transports[0]));
      this.transport.open();
    }

    _url(transport, stamp) {
      const q = Object.assign({}, this.target.query, this.opts.query, { EIO: 4, transport });
      if (this.id) q.sid = this.id;
      // A fresh value per request defeats caches along the way.
      if (stamp) q.t = Date.now().toString(36) + '.' + (this._stamp++).toString(36);
      const qs = Object.keys(q).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(q[k])).join('&');
      const scheme = (transport === 'websocket' ? 'ws' : 'http') + (this.target.secure ? 's' : '');
      return scheme + '://' + this.target.host + this.opts.path + '?' + qs;
    }

    _create(name) {
      return name === 'websocket' ? new WS(this) : new Polling(this);
    }

    _setTransport(t) {
      if (this._unsubscribe) this._unsubscribe();
      this.transport = t;
      const subs = [
        on(t, 'drain', () => this._onDrain()),
        on(t, 'packet', (p) => this._onPacket(p)),
        on(t, 'error', (err) => this._onError(err)),
        on(t, 'close', (why) => this._onClose('transport close', why)),
      ];
      this._unsubscribe = () => subs.forEach((u) => u());
    }

    _onPacket(p) {
      if (this.readyState === 'closed') return;
      this.emitReserved('packet', p);
      if (p.type === 'open') this._onHandshake(p.data);
      else if (p.type === 'ping') {
        this._resetPingTimeout();
        this._send('pong');
        this.emitReserved('ping');
      } else if (p.type === 'message') this.emitReserved('data', p.data);
    }

    _onHandshake(text) {
      if (this.readyState !== 'opening') return; // one handshake per session
      let hs = null;
      try {
        hs = JSON.parse(text);
      } catch (e) { /* checked below */ }
      if (!hs || typeof hs.sid !== 'string' || !hs.sid || !(hs.pingInterval >= 0) || !(hs.pingTimeout >= 0)) {
        const err = new Error('parse error');
        err.parse = true;
        err.description = 'invalid handshake';
        return this._onError(err);
      }
      this.id = hs.sid;
      this._pingInterval = hs.pingInterval;
      this._pingTimeout = hs.pingTimeout;
      this._maxPayload = hs.maxPayload > 0 ? hs.maxPayload : 0;
      this.readyState = 'open';
      this.emitReserved('handshake', hs);
      this.emitReserved('open');
      this.flush();
      if (this.readyState !== 'open') return; // closed by an 'open' listener
      this._resetPingTimeout();
      const upgrades = Array.isArray(hs.upgrades) ? hs.upgrades : [];
      if (this.transport.name === 'polling' && this.opts.upgrade !== false &&
          this.transports.indexOf('websocket') >= 0 && upgrades.indexOf('websocket') >= 0) this._probe();
    }

    // The server pings every pingInterval; silence for pingInterval + pingTimeout means the
    // connection is gone.
    _resetPingTimeout() {
      clearTimeout(this._pingTimer);
      const delay = this._pingInterval + this._pingTimeout;
      this._pingDeadline = Date.now() + delay;
      this._pingTimer = setTimeout(() => this._onClose('ping timeout'), delay);
    }

    // Timers are throttled in background tabs: a late timer must not let an emit go out on
    // a connection that is already dead (it is buffered instead, like socket.io-client).
    _hasPingExpired() {
      if (!this._pingDeadline) return true;
      const expired = Date.now() > this._pingDeadline;
      if (expired) {
        this._pingDeadline = 0;
        setTimeout(() => this._onClose('ping timeout'));
      }
      return expired;
    }

    // Polling -> WebSocket upgrade: open the WebSocket with the same sid, ping "probe", and on
    // "pong probe" pause polling, then send "upgrade" and continue on the WebSocket.
    _probe() {
      const t = this._create('websocket');
      let failed = false;
      const subs = [];
      const cleanup = () => subs.splice(0).forEach((u) => u());
      const fail = (why) => {
        if (failed) return;
        failed = true;
        cleanup();
        t.close();
        if (this.upgrading) {
          this.upgrading = false;
          this.transport.resume();
          this.flush();
        }
        const err = new Error('probe error: ' + why);
        err.transport = t.name;
        this.emitReserved('upgradeError', err);
      };
      subs.push(
        on(t, 'open', () => t.send([{ type: 'ping', data: 'probe' }])),
        on(t, 'packet', (p) => {
          if (p.type !== 'pong' || p.data !== 'probe') return fail('unexpected ' + p.type + ' packet');
          if (this.upgrading) return;
          this.upgrading = true;
          this.emitReserved('upgrading', t);
          this.transport.pause(() => {
            if (failed || this.readyState === 'closed') return;
            cleanup();
            this._setTransport(t);
            t.send([{ type: 'upgrade' }]);
            this.upgrading = false;
            this.emitReserved('upgrade', t);
            this.flush();
          });
        }),
        on(t, 'error', (err) => fail(err.message)),
        on(t, 'close', () => fail('transport closed')),
        on(this, 'close', () => fail('socket closed')),
      );
      t.open();
    }

    write(data) {
      this._send('message', data);
      return this;
    }

    send(data) {
      return this.write(data);
    }

    _send(type, data) {
      if (this.readyState === 'closing' || this.readyState === 'closed') return;
      this.writeBuffer.push({ type, data });
      this.flush();
    }

    flush() {
      if (this.readyState === 'closed' || !this.transport.writable || this.upgrading || !this.writeBuffer.length) return;
      const packets = this._writablePackets();
      this._prevLen = packets.length;
      this.transport.send(packets);
      this.emitReserved('flush');
    }

    // A polling POST must stay within the server's maxPayload: send as many packets as fit
    // (at least one), the rest after the drain.
    _writablePackets() {
      const buf = this.writeBuffer;
      if (!this._maxPayload || this.transport.name !== 'polling' || buf.length < 2) return buf.slice();
      let size = 0;
      for (let i = 0; i < buf.length; i++) {
        size += (i ? 1 : 0) + pollingSize(buf[i]);
        if (i > 0 && size > this._maxPayload) return buf.slice(0, i);
      }
      return buf.slice();
    }

    _onDrain() {
      this.writeBuffer.splice(0, this._prevLen);
      this._prevLen = 0;
      if (this.writeBuffer.length) this.flush();
      else this.emitReserved('drain');
    }

    _onError(err) {
      this.emitReserved('error', err);
      this._onClose(err.parse ? 'parse error' : 'transport error', err);
    }

    _onClose(reason, description) {
      if (this.readyState === 'closed') return;
      clearTimeout(this._pingTimer);
      this._unsubscribe();
      this.transport.close();
      this.readyState = 'closed';
      this.id = null;
      this.writeBuffer = [];
      this._prevLen = 0;
      this.emitReserved('close', reason, description);
    }

    // Closes after the queued packets are out (and after an upgrade in progress).
    close() {
      const finish = () => this._onClose('forced close');
      const afterUpgrade = () => {
        this.off('upgrade', afterUpgrade);
        this.off('upgradeError', afterUpgrade);
        finish();
      };
      const waitForUpgrade = () => this.on('upgrade', afterUpgrade).on('upgradeError', afterUpgrade);
      if (this.readyState === 'opening' || this.readyState === 'open') {
        this.readyState = 'closing';
        if (this.writeBuffer.length) this.once('drain', () => (this.upgrading ? waitForUpgrade() : finish()));
        else if (this.upgrading) waitForUpgrade();
        else finish();
      }
      return this;
    }
  }

  // ---------------------------------------------------------------- Socket.IO v5 packets

  const CONNECT = 0;
  const DISCONNECT = 1;
  const EVENT = 2;
  const ACK = 3;
  const CONNECT_ERROR = 4;
  const BINARY_EVENT = 5;
  const BINARY_ACK = 6;
  const MAX_ATTACHMENTS = 10; // as socket.io-parser 4.2
  const RESERVED_EVENTS = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

  // Replaces each binary in x by {_placeholder: true, num} and collects it in bufs. Objects
  // with toJSON (Date...) are left for JSON.stringify.
  function extractBinary(x, bufs) {
    if (isBinary(x)) {
      bufs.push(x);
      return { _placeholder: true, num: bufs.length - 1 };
    }
    if (!x || typeof x !== 'object' || typeof x.toJSON === 'function') return x;
    if (Array.isArray(x)) return x.map((v) => extractBinary(v, bufs));
    const out = {};
    for (const k of Object.keys(x)) put(out, k, extractBinary(x[k], bufs));
    return out;
  }

  // The inverse, in place, on freshly parsed JSON. Throws on a placeholder without its binary.
  function insertBinary(x, bufs) {
    if (!x || typeof x !== 'object') return x;
    if (x._placeholder === true) {
      if (Number.isInteger(x.num) && x.num >= 0 && x.num < bufs.length) return bufs[x.num];
      throw new Error('illegal attachments');
    }
    for (const k of Object.keys(x)) {
      const v = x[k];
      const w = insertBinary(v, bufs);
      if (w !== v) put(x, k, w);
    }
    return x;
  }

  // A packet {type, nsp, id?, data?} as Engine.IO messages: the text, then one message per
  // binary attachment. Text: <type>[<attachments>-][<nsp>,][<id>][<JSON data>].
  function encode(p) {
    const bufs = [];
    let data = p.data;
    if (data !== undefined && (p.type === EVENT || p.type === ACK)) {
      const flat = extractBinary(data, bufs);
      if (bufs.length) data = flat;
    }
    let s = String(bufs.length ? p.type + 3 : p.type);
    if (bufs.length) s += bufs.length + '-';
    if (p.nsp !== '/') s += p.nsp + ',';
    if (p.id !== undefined) s += p.id;
    if (data !== undefined) s += JSON.stringify(data);
    return [s].concat(bufs);
  }

  const HEADER = /^([0-6])(?:(\d+)-)?(?:(\/[^,]*),?)?(\d*)/;

  function validPayload(type, d) {
    switch (type) {
      case CONNECT: return isObject(d);
      case CONNECT_ERROR: return typeof d === 'string' || isObject(d);
      case EVENT:
      case BINARY_EVENT:
        return Array.isArray(d) && (typeof d[0] === 'number' ||
          (typeof d[0] === 'string' && RESERVED_EVENTS.indexOf(d[0]) < 0));
      case ACK:
      case BINARY_ACK: return Array.isArray(d);
      default: return false; // DISCONNECT has no payload
    }
  }

  function decodeString(str) {
    const m = HEADER.exec(str);
    if (!m) throw new Error('unknown packet type');
    const type = +m[1];
    const binary = type === BINARY_EVENT || type === BINARY_ACK;
    // "<n>-" only after a binary type (elsewhere it can only precede invalid data anyway).
    if (binary !== (m[2] !== undefined)) throw new Error('illegal attachments');
    const p = { type: binary ? type - 3 : type, nsp: m[3] || '/' };
    if (binary) {
      p.attachments = +m[2];
      if (!(p.attachments >= 1 && p.attachments <= MAX_ATTACHMENTS)) throw new Error('illegal attachments');
    }
    if (m[4]) p.id = +m[4];
    const rest = str.slice(m[0].length);
    if (rest) {
      const data = JSON.parse(rest);
      if (!validPayload(type, data)) throw new Error('invalid payload');
      p.data = data;
    } else if (p.type === EVENT || p.type === CONNECT_ERROR) {
      throw new Error('missing payload');
    }
    return p;
  }

  // Stateful: a binary packet is complete once its attachments (the next binary messages)
  // have arrived. add() returns the packet, or null while waiting; it throws on bad input.
  class Decoder {
    constructor() {
      this.pending = null;
    }

    reset() {
      this.pending = null;
    }

    add(msg) {
      if (typeof msg !== 'string') {
        const p = this.pending;
        if (!p || !(msg instanceof ArrayBuffer)) throw new Error('unexpected binary data');
        p.bufs.push(msg);
        if (p.bufs.length < p.attachments) return null;
        this.pending = null;
        p.data = insertBinary(p.data, p.bufs);
        return { type: p.type, nsp: p.nsp, id: p.id, data: p.data };
      }
      if (this.pending) throw new Error('expected a binary attachment');
      const p = decodeString(msg);
      if (!p.attachments) return p;
      p.bufs = [];
      this.pending = p;
      return null;
    }
  }

  // ---------------------------------------------------------------- URLs

  // uri: undefined (the page's origin), "/nsp" (page host), "//host/nsp", "host:port/nsp" or
  // a full http(s)/ws(s) URL. Returns { secure, host, id, nsp, query }.
  function parseUrl(uri) {
    const loc = root.location;
    const page = loc && loc.host ? loc.protocol + '//' + loc.host : '';
    uri = uri == null ? page : String(uri);
    if (uri.slice(0, 2) === '//') uri = (page ? loc.protocol : 'https:') + uri;
    else if (uri[0] === '/') uri = page + uri;
    else if (!/^(https?|wss?):\/\//i.test(uri)) uri = (page ? loc.protocol + '//' : 'https://') + uri;
    const u = new URL(uri);
    const secure = u.protocol === 'https:' || u.protocol === 'wss:';
    let nsp = u.pathname || '/';
    try {
      nsp = decodeURIComponent(nsp);
    } catch (e) { /* keep it encoded */ }
    const query = {};
    u.searchParams.forEach((v, k) => { query[k] = v; });
    return { secure, host: u.host, id: (secure ? 'https://' : 'http://') + u.host, nsp, query };
  }

  function parseQuery(q) {
    if (typeof q !== 'string') return q;
    const out = {};
    new URLSearchParams(q).forEach((v, k) => { out[k] = v; });
    return out;
  }

  // ---------------------------------------------------------------- Manager
  //
  // Owns the Engine.IO connection shared by the namespaces (Sockets) of one URL; decodes
  // packets for them and reconnects with exponential backoff. Events: 'open', 'packet',
  // 'error', 'close', 'ping', 'reconnect_attempt', 'reconnect', 'reconnect_error',
  // 'reconnect_failed'.

  class Manager extends Emitter {
    constructor(uri, opts) {
      super();
      if (uri && typeof uri === 'object') {
        opts = uri;
        uri = undefined;
      }
      opts = Object.assign({}, opts);
      opts.path = (opts.path || '/socket.io').replace(/\/$/, '') + '/';
      opts.query = parseQuery(opts.query);
      this.opts = opts;
      this.uri = uri;
      this._target = parseUrl(uri);
      this.nsps = Object.create(null);
      this.subs = [];
      this.engine = null;
      this.decoder = new Decoder();
      this._reconnection = opts.reconnection !== false;
      this._reconnectionAttempts = num(opts.reconnectionAttempts, Infinity);
      this._reconnectionDelay = num(opts.reconnectionDelay, 1000);
      this._reconnectionDelayMax = num(opts.reconnectionDelayMax, 5000);
      const jitter = num(opts.randomizationFactor, 0.5);
      this._randomizationFactor = jitter > 0 && jitter <= 1 ? jitter : 0;
      this._timeout = num(opts.timeout, 20000);
      this._attempts = 0;
      this._readyState = 'closed';
      this._reconnecting = false;
      this.skipReconnect = false;
      this._autoConnect = opts.autoConnect !== false;
      if (this._autoConnect) this.open();
    }

    reconnection(v) {
      if (v === undefined) return this._reconnection;
      this._reconnection = !!v;
      if (!v) this.skipReconnect = true;
      return this;
    }

    // Opens the Engine.IO connection; fn(err?) is told how it went (used by reconnection).
    open(fn) {
      if (this._readyState.indexOf('open') >= 0) return this;
      const engine = this.engine = new Engine(this._target, this.opts);
      this._readyState = 'opening';
      this.skipReconnect = false;
      const fail = (err) => {
        this._cleanup();
        this._readyState = 'closed';
        this.emitReserved('error', err);
        if (fn) fn(err);
        else this._maybeReconnectOnOpen();
      };
      this.subs.push(
        on(engine, 'open', () => {
          this._onopen();
          if (fn) fn();
        }),
        on(engine, 'error', fail),
        // Closed before the handshake completed, without an error (e.g. a close packet).
        on(engine, 'close', (reason) => fail(new Error(reason))),
      );
      if (this._timeout !== false) {
        const timer = setTimeout(() => {
          fail(new Error('timeout'));
          engine.close();
        }, this._timeout);
        this.subs.push(() => clearTimeout(timer));
      }
      return this;
    }

    connect(fn) {
      return this.open(fn);
    }

    _onopen() {
      this._cleanup();
      this._readyState = 'open';
      this.emitReserved('open'); // the sockets send their CONNECT packets
      const e = this.engine;
      this.subs.push(
        on(e, 'ping', () => this.emitReserved('ping')),
        on(e, 'data', (data) => this._ondata(data)),
        on(e, 'error', (err) => this.emitReserved('error', err)),
        on(e, 'close', (reason, description) => this._onclose(reason, description)),
      );
    }

    _ondata(data) {
      let packet;
      try {
        packet = this.decoder.add(data);
      } catch (err) {
        return this._onclose('parse error', err);
      }
      if (packet) this.emitReserved('packet', packet);
    }

    _cleanup() {
      this.subs.splice(0).forEach((u) => u());
      this.decoder.reset();
    }

    _onclose(reason, description) {
      this._cleanup();
      if (this.engine) this.engine.close();
      this._attempts = 0;
      this._readyState = 'closed';
      this.emitReserved('close', reason, description);
      if (this._reconnection && !this.skipReconnect) this._reconnect();
    }

    _maybeReconnectOnOpen() {
      if (!this._reconnecting && this._reconnection && this._attempts === 0) this._reconnect();
    }

    // reconnectionDelay * 2^attempt, +- randomizationFactor, capped at reconnectionDelayMax.
    _backoff() {
      let ms = this._reconnectionDelay * Math.pow(2, Math.min(this._attempts++, 31));
      if (this._randomizationFactor) {
        const rand = Math.random();
        const deviation = Math.floor(rand * this._randomizationFactor * ms);
        ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
      }
      return Math.min(ms, this._reconnectionDelayMax) | 0;
    }

    _reconnect() {
      if (this._reconnecting || this.skipReconnect) return;
      if (this._attempts >= this._reconnectionAttempts) {
        this._attempts = 0;
        this.emitReserved('reconnect_failed');
        return;
      }
      this._reconnecting = true;
      const timer = setTimeout(() => {
        if (this.skipReconnect) return;
        this.emitReserved('reconnect_attempt', this._attempts);
        if (this.skipReconnect) return; // a listener gave up
        this.open((err) => {
          this._reconnecting = false;
          if (err) {
            this._reconnect();
            this.emitReserved('reconnect_error', err);
          } else {
            const attempts = this._attempts;
            this._attempts = 0;
            this.emitReserved('reconnect', attempts);
          }
        });
      }, this._backoff());
      this.subs.push(() => clearTimeout(timer));
    }

    socket(nsp, opts) {
      let socket = this.nsps[nsp];
      if (!socket) this.nsps[nsp] = socket = new Socket(this, nsp, opts);
      else if (this._autoConnect && !socket.active) socket.connect();
      return socket;
    }

    // A socket left: close the connection once no namespace uses it.
    _destroy() {
      for (const nsp of Object.keys(this.nsps)) if (this.nsps[nsp].active) return;
      this._close();
    }

    _write(msgs) {
      if (this.engine) for (const m of msgs) this.engine.write(m);
    }

    _close() {
      this.skipReconnect = true;
      this._reconnecting = false;
      this._onclose('forced close');
    }

    disconnect() {
      this._close();
    }

    close() {
      this._close();
    }
  }

  // ---------------------------------------------------------------- Socket (one namespace)

  class Socket extends Emitter {
    constructor(io, nsp, opts) {
      super();
      this.io = io;
      this.nsp = nsp;
      this.id = undefined;
      this.connected = false;
      // Connection-state recovery (a server with it on): the private session id from the
      // CONNECT answer and the offset of the last stored packet; recovered tells whether
      // the last connect took the session back (same id and rooms, missed events replayed).
      this.recovered = false;
      this._pid = undefined;
      this._lastOffset = undefined;
      this.receiveBuffer = [];
      this.sendBuffer = []; // {id, msgs}: emits made while not connected, sent on connect
      this.ids = 0;
      this.acks = Object.create(null);
      this.flags = {};
      this.subs = undefined;
      this._opts = Object.assign({}, opts);
      this.auth = this._opts.auth;
      this._any = [];
      if (io._autoConnect) this.open();
    }

    get disconnected() {
      return !this.connected;
    }

    // True while the socket follows its Manager (it will connect or reconnect).
    get active() {
      return !!this.subs;
    }

    get volatile() {
      this.flags.volatile = true;
      return this;
    }

    _subEvents() {
      if (this.subs) return;
      const io = this.io;
      this.subs = [
        on(io, 'open', () => this._onopen()),
        on(io, 'packet', (p) => this._onpacket(p)),
        on(io, 'error', (err) => this._onerror(err)),
        on(io, 'close', (reason, description) => this._onclose(reason, description)),
      ];
    }

    connect() {
      if (this.connected) return this;
      this._subEvents();
      if (!this.io._reconnecting) this.io.open();
      if (this.io._readyState === 'open') this._onopen();
      return this;
    }

    open() {
      return this.connect();
    }

    send(...args) {
      return this.emit('message', ...args);
    }

    // emit(event, ...args[, ack]): sent now when connected, else buffered until connect.
    emit(ev, ...args) {
      if (RESERVED_EVENTS.indexOf(ev) >= 0) throw new Error('"' + String(ev) + '" is a reserved event name');
      const flags = this.flags;
      this.flags = {};
      const packet = { type: EVENT, nsp: this.nsp, data: [ev].concat(args) };
      let ack = null;
      if (typeof args[args.length - 1] === 'function') {
        ack = packet.data.pop();
        packet.id = this.ids++;
      }
      const msgs = encode(packet); // throws (like JSON.stringify) on cyclic data, before any state change
      if (ack) this._registerAck(packet.id, ack, num(flags.timeout, this._opts.ackTimeout));
      const engine = this.io.engine;
      const writable = !!(engine && engine.transport && engine.transport.writable);
      const live = this.connected && engine && !engine._hasPingExpired();
      if (flags.volatile && !writable) return this; // dropped, as asked
      if (live) this.io._write(msgs);
      else this.sendBuffer.push({ id: packet.id, msgs });
      return this;
    }

    _registerAck(id, ack, timeout) {
      if (timeout === undefined) {
        this.acks[id] = ack;
        return;
      }
      const timer = setTimeout(() => {
        delete this.acks[id];
        this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
        call(ack, this, [new Error('operation has timed out')]);
      }, timeout);
      const fn = (...args) => {
        clearTimeout(timer);
        ack.apply(this, args);
      };
      fn.withError = true; // called as (err, ...args)
      this.acks[id] = fn;
    }

    emitWithAck(ev, ...args) {
      return new Promise((resolve, reject) => {
        const fn = (err, value) => (err ? reject(err) : resolve(value));
        fn.withError = true;
        args.push(fn);
        this.emit(ev, ...args);
      });
    }

    timeout(ms) {
      this.flags.timeout = ms;
      return this;
    }

    compress(c) {
      this.flags.compress = c;
      return this;
    }

    _onopen() {
      // After a session with recovery: {pid, offset} merged under the user's auth, as
      // socket.io-client does (the user's keys win).
      const send = (data) => {
        if (this._pid) data = Object.assign({ pid: this._pid, offset: this._lastOffset }, data);
        this.io._write(encode({ type: CONNECT, nsp: this.nsp, data }));
      };
      if (typeof this.auth === 'function') {
        const engine = this.io.engine;
        // Late answers for an older connection are dropped.
        this.auth((data) => { if (this.io.engine === engine && !this.connected) send(data); });
      } else send(this.auth);
    }

    _onerror(err) {
      if (!this.connected) this.emitReserved('connect_error', err);
    }

    _onclose(reason, description) {
      this.connected = false;
      this.id = undefined;
      this.emitReserved('disconnect', reason, description);
      this._clearAcks();
    }

    // Acks that can never come: the packet went out on the connection that just closed.
    _clearAcks() {
      for (const id of Object.keys(this.acks)) {
        if (this.sendBuffer.some((p) => String(p.id) === id)) continue;
        const ack = this.acks[id];
        delete this.acks[id];
        if (ack.withError) call(ack, this, [new Error('socket has been disconnected')]);
      }
    }

    _onpacket(p) {
      if (p.nsp !== this.nsp) return;
      switch (p.type) {
        case CONNECT:
          if (p.data && typeof p.data.sid === 'string' && p.data.sid) {
            if (!this.connected) this._onconnect(p.data.sid, p.data.pid);
          } else this.emitReserved('connect_error', new Error('invalid CONNECT packet (a Socket.IO v2 server?)'));
          break;
        case EVENT:
          this._onevent(p);
          break;
        case ACK:
          this._onack(p);
          break;
        case DISCONNECT:
          this._destroy();
          this._onclose('io server disconnect');
          break;
        case CONNECT_ERROR: {
          this._destroy();
          const err = new Error(typeof p.data === 'string' ? p.data : p.data.message);
          err.data = p.data.data;
          this.emitReserved('connect_error', err);
          break;
        }
      }
    }

    _onevent(p) {
      const args = p.data;
      if (p.id !== undefined) args.push(this._ack(p.id));
      if (this.connected) this._emitEvent(args);
      else this.receiveBuffer.push(args);
    }

    _emitEvent(args) {
      for (const fn of this._any.slice()) call(fn, this, args);
      this.emitReserved(...args);
      // With recovery, a stored packet's last argument is its offset (socket.io-client
      // keeps the last string argument the same way, and passes it on to the listeners).
      if (this._pid && args.length && typeof args[args.length - 1] === 'string') this._lastOffset = args[args.length - 1];
    }

    // The function handed to a listener whose event asked for an ack; it answers once.
    _ack(id) {
      let sent = false;
      return (...args) => {
        if (sent) return;
        sent = true;
        this.io._write(encode({ type: ACK, nsp: this.nsp, id, data: args }));
      };
    }

    _onack(p) {
      const ack = this.acks[p.id];
      if (typeof ack !== 'function') return;
      delete this.acks[p.id];
      const args = p.data || [];
      if (ack.withError) args.unshift(null);
      call(ack, this, args);
    }

    _onconnect(id, pid) {
      this.id = id;
      this.recovered = !!pid && this._pid === pid;
      this._pid = typeof pid === 'string' ? pid : undefined;
      this.connected = true;
      const received = this.receiveBuffer.splice(0);
      received.forEach((args) => this._emitEvent(args));
      const buffered = this.sendBuffer.splice(0);
      buffered.forEach((p) => this.io._write(p.msgs));
      this.emitReserved('connect');
    }

    _destroy() {
      if (this.subs) {
        this.subs.forEach((u) => u());
        this.subs = undefined;
      }
      this.io._destroy(this);
    }

    disconnect() {
      if (this.connected) this.io._write(encode({ type: DISCONNECT, nsp: this.nsp }));
      this._destroy();
      if (this.connected) this._onclose('io client disconnect');
      return this;
    }

    close() {
      return this.disconnect();
    }

    onAny(fn) {
      this._any.push(fn);
      return this;
    }

    prependAny(fn) {
      this._any.unshift(fn);
      return this;
    }

    offAny(fn) {
      if (fn === undefined) this._any = [];
      else {
        const i = this._any.indexOf(fn);
        if (i >= 0) this._any.splice(i, 1);
      }
      return this;
    }

    listenersAny() {
      return this._any.slice();
    }
  }

  // ---------------------------------------------------------------- io()

  // One Manager per origin, shared by its namespaces, unless forceNew / multiplex: false, or
  // the namespace is already open on it (a second socket to the same namespace).
  const cache = Object.create(null);

  function lookup(uri, opts) {
    if (uri && typeof uri === 'object') {
      opts = uri;
      uri = undefined;
    }
    opts = opts || {};
    const target = parseUrl(uri);
    const cached = cache[target.id];
    let manager;
    if (opts.forceNew || opts['force new connection'] || opts.multiplex === false || (cached && target.nsp in cached.nsps)) {
      manager = new Manager(uri, opts);
    } else {
      manager = cached || (cache[target.id] = new Manager(uri, opts));
    }
    return manager.socket(target.nsp, opts);
  }

  lookup.Manager = Manager;
  lookup.Socket = Socket;
  lookup.protocol = 5;
  lookup.io = lookup;
  lookup.connect = lookup;

  root.io = lookup;
})(typeof self !== 'undefined' ? self : this);
