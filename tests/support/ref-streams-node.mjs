// A Node.js node of a streams fleet: npm socket.io 4.8 with @socket.io/redis-streams-adapter
// 0.3.1 (and connectionStateRecovery with --recovery-ms MS). Same command contract as
// tests/support/ref-redis-node.mjs (tests/support/sio_cluster_server.c's, plus echo's
// bcast / echo / recovered), so tests/cluster/streams.test.mjs can mix it with noom nodes.
//
// Usage: node tests/support/ref-streams-node.mjs --redis URL [--port P] [--name NAME]
//          [--prefix P] [--recovery-ms MS]
process.argv.push('--streams', '1');
await import('./ref-redis-node.mjs');
