// Drives examples/hello.c with socket.io-client 4.8: two clients (one long-polling,
// one WebSocket) in room "r1"; checks the ack values and the room broadcast.
// Usage: node hello-client.mjs URL  (exit 0 on success)
import { io } from "socket.io-client";

const url = process.argv[2];
const fail = (msg) => { console.error(`hello-client: ${msg}`); process.exit(1); };
setTimeout(() => fail("timed out"), 10000).unref();

const connect = (transports) => new Promise((resolve, reject) => {
  const s = io(url, { transports, reconnection: false, forceNew: true });
  s.once("connect", () => resolve(s));
  s.once("connect_error", reject);
});

const a = await connect(["polling"]);
const b = await connect(["websocket"]);
const got = new Promise((resolve) => b.once("message", resolve));
const ackB = await b.timeout(5000).emitWithAck("chat", "r1", "b is here");
if (JSON.stringify(ackB) !== JSON.stringify({ ok: true, delivered: 0 })) fail(`b's ack: ${JSON.stringify(ackB)}`);
const ackA = await a.timeout(5000).emitWithAck("chat", "r1", "hi from a");
if (JSON.stringify(ackA) !== JSON.stringify({ ok: true, delivered: 1 })) fail(`a's ack: ${JSON.stringify(ackA)}`);
const msg = await got;
if (msg.from !== a.id || msg.text !== "hi from a") fail(`b got ${JSON.stringify(msg)}`);
a.close();
b.close();
console.log("hello-client: ok (acks and the room broadcast)");
process.exit(0);
