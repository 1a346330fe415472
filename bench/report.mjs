// bench/report.mjs: renders a bench/run.sh JSON-lines file as a comparison table (noom vs
// Node measured in the same run, and the floor server where it ran: noom/floor is what
// the library adds over the kernel's own cost; the app case as build/noom against the
// library), checks issue 6's targets, and draws echo
// latency against offered load as an SVG.
//
//   node bench/report.mjs RUN.jsonl [REPORT.md] [PLOT.svg]
//
// No dependencies. The table goes to stdout and, when given, to REPORT.md.
import { readFileSync, writeFileSync } from 'node:fs';

const [file, mdOut, svgOut] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/report.mjs RUN.jsonl [REPORT.md] [PLOT.svg]');
  process.exit(2);
}

// runs[case][label] = the JSON object loadgen printed.
const runs = {};
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  (runs[r.case] ??= {})[r.label] = r;
}

const us = (v) => (v == null || v < 0 ? 'n/a' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} s` : v >= 10000 ? `${(v / 1000).toFixed(1)} ms` : v >= 100 ? `${v.toFixed(0)} us` : `${v.toFixed(2)} us`);
const num = (v) => (v == null ? 'n/a' : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e4 ? `${(v / 1e3).toFixed(1)}k` : `${Math.round(v)}`);
const bytes = (v) => (v == null ? 'n/a' : Math.abs(v) >= 1048576 ? `${(v / 1048576).toFixed(1)} MB` : Math.abs(v) >= 10240 ? `${(v / 1024).toFixed(1)} KB` : `${Math.round(v)} B`);
const pct = (v) => (v == null ? 'n/a' : `${v.toFixed(0)}%`);

// What each case reports: [metric name, getter, formatter, lower is better].
const cpu = (r) => r.server_cpu_us_per_op;
const p = (q) => (r) => r.lat_us[q];
const METRICS = {
  connect: [
    ['server CPU per new connection', cpu, us, true],
    ['RSS per idle connection', (r) => r.rss_per_conn, bytes, true],
    ['connections held', (r) => r.held, num, false],
    ['connect latency p50', p('p50'), us, true],
    ['connect latency p99', p('p99'), us, true],
  ],
  fanout: [
    ['deliveries/s', (r) => r.ops_per_s, num, false],
    ['server CPU per delivery', cpu, us, true],
    ['latency p50', p('p50'), us, true],
    ['latency p99', p('p99'), us, true],
    ['lost', (r) => r.lost, num, true],
  ],
  echo: [
    ['acks/s', (r) => r.ops_per_s, num, false],
    ['server CPU per ack', cpu, us, true],
    ['latency p50', p('p50'), us, true],
    ['latency p99', p('p99'), us, true],
    ['lost', (r) => r.lost, num, true],
  ],
  rate: [
    ['achieved ops/s', (r) => r.ops_per_s, num, false],
    ['server CPU per op', cpu, us, true],
    ['latency p50', p('p50'), us, true],
    ['latency p99', p('p99'), us, true],
    ['latency p99.9', p('p999'), us, true],
    ['latency max', p('max'), us, true],
  ],
  churn: [
    ['lifecycles/s (connections/s)', (r) => r.ops_per_s, num, false],
    ['server CPU per lifecycle', cpu, us, true],
    ['deliveries/s (room_change + chat)', (r) => r.deliveries_per_s, num, false],
    ['lifecycle p99', p('p99'), us, true],
    ['failed lifecycles', (r) => r.errors, num, true],
  ],
  slow: [
    ['server RSS growth (peak - start)', (r) => r.rss_growth, bytes, true],
    ['slow receivers disconnected', (r) => `${r.slow_disconnected}/${r.slow}`, String, false],
    ['healthy deliveries/s', (r) => r.ops_per_s, num, false],
    ['healthy latency p99', p('p99'), us, true],
    ['healthy lost', (r) => r.lost, num, true],
  ],
};
const kind = (c) =>
  c === 'fanout-rate' || c === 'echo-rate'
    ? 'rate'
    : c.startsWith('echo-sweep') || c.startsWith('fanout-recovery')
      ? null
      : c.startsWith('connect') ? 'connect' : c.startsWith('echo') ? 'echo' : c.startsWith('fanout') ? 'fanout' : c;

// The floor columns only when the run has floor figures (BENCH_FLOOR=0 leaves them out).
const hasFloor = Object.values(runs).some((pair) => pair.floor);
const ratioOf = (a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${(a / b).toFixed(3)}x` : '');
const rows = [['case', 'metric', 'noom', 'node', 'noom/node', ...(hasFloor ? ['floor', 'noom/floor'] : [])]];
for (const [c, pair] of Object.entries(runs)) {
  const k = kind(c);
  if (!k || !METRICS[k]) continue;
  const { noom, node, floor } = pair;
  const floorCols = (fmt, a, f) => (hasFloor ? (floor ? [fmt(f), ratioOf(a, f)] : ['', '']) : []);
  for (const [name, get, fmt] of METRICS[k]) {
    const a = noom ? get(noom) : null;
    const b = node ? get(node) : null;
    const f = floor ? get(floor) : null;
    rows.push([c, name, noom ? fmt(a) : 'n/a', node ? fmt(b) : 'n/a', ratioOf(a, b), ...floorCols(fmt, a, f)]);
  }
  rows.push([c, 'generator CPU (% of a core)', noom ? pct(noom.gen_cpu_pct) : 'n/a', node ? pct(node.gen_cpu_pct) : 'n/a', '',
    ...(hasFloor ? [floor ? pct(floor.gen_cpu_pct) : '', ''] : [])]);
}

const table = (rs) => {
  const w = rs[0].map((_, i) => Math.max(...rs.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((x, i) => String(x).padEnd(w[i])).join(' | ')} |`;
  return [line(rs[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rs.slice(1).map(line)].join('\n');
};

// Issue 6's targets, checked on this run.
const get = (c, l) => runs[c]?.[l];
const targets = [];
const check = (what, ok, detail) => targets.push([what, ok == null ? 'n/a' : ok ? 'met' : 'MISSED', detail]);
const by = (v, limit) => `${((v / limit - 1) * 100).toFixed(0)}% over`;
// The floor's CPU per operation on the same case: how far below it no server can go here.
const floorNote = (c) => {
  const f = get(c, 'floor');
  return f ? `; floor ${us(cpu(f))}` : '';
};
{
  // Fan-out: CPU per delivery on each case; throughput on the best one (the window that
  // batches most), since a busy box or a shallow window leaves both processes waiting.
  let best = null;
  for (const fc of ['fanout', 'fanout-deep']) {
    const n = get(fc, 'noom');
    const o = get(fc, 'node');
    if (!n) continue;
    const v = cpu(n);
    check(`${fc}: <= 0.8 us server CPU per delivery`, v <= 0.8, `${us(v)}${v > 0.8 ? ` (${by(v, 0.8)})` : ''}; Node ${o ? us(cpu(o)) : 'n/a'} (${o ? (cpu(o) / v).toFixed(1) : 'n/a'}x noom)${floorNote(fc)}`);
    if (!best || n.ops_per_s > best[1].ops_per_s) best = [fc, n, o];
  }
  if (best) {
    const [fc, n, o] = best;
    const gb = n.gen_cpu_pct > 90 ? ' (generator-bound)' : '';
    check('fan-out: > 1M deliveries/s where the generator allows', n.ops_per_s > 1e6 ? true : n.gen_cpu_pct > 90 ? null : false,
      `${num(n.ops_per_s)}/s in ${fc}, generator ${pct(n.gen_cpu_pct)}${gb}, server ${pct(n.server_cpu_pct)}; Node ${o ? num(o.ops_per_s) : 'n/a'}/s`);
  }
  // CPU per operation, on every case that measures it.
  const cpuTarget = (c, what, limit) => {
    const a = get(c, 'noom');
    const b = get(c, 'node');
    if (a) check(`${c}: <= ${limit} us server CPU per ${what}`, cpu(a) <= limit, `${us(cpu(a))}${cpu(a) > limit ? ` (${by(cpu(a), limit)})` : ''}; Node ${b ? us(cpu(b)) : 'n/a'} (${b ? (cpu(b) / cpu(a)).toFixed(1) : 'n/a'}x noom)${floorNote(c)}`);
  };
  cpuTarget('echo', 'ack', 5);
  cpuTarget('echo-pipelined', 'ack', 5);
  cpuTarget('connect', 'new connection', 50);
  cpuTarget('connect-burst', 'new connection', 50);
  const c = get('connect', 'noom');
  if (c) {
    const cn = get('connect', 'node');
    check('idle connection: <= 1.5 KB RSS', c.rss_per_conn <= 1536, `${c.rss_per_conn} bytes${c.rss_per_conn > 1536 ? ` (${by(c.rss_per_conn, 1536)})` : ''}; Node ${cn ? cn.rss_per_conn : 'n/a'} bytes (${cn ? (cn.rss_per_conn / c.rss_per_conn).toFixed(1) : 'n/a'}x noom)`);
    check('50,000 concurrent idle connections', c.held >= 50000, `${c.held} of ${c.conns} held (${c.client.failed} failed); the count is capped by ulimit -n`);
  }
  for (const rc of ['fanout-rate', 'echo-rate']) {
    const a = get(rc, 'noom');
    const b = get(rc, 'node');
    if (a && b) check(`${rc}: p99 below Node's at the same offered load`, a.lat_us.p99 < b.lat_us.p99, `${us(a.lat_us.p99)} vs ${us(b.lat_us.p99)}`);
  }
  const s = get('slow', 'noom');
  const sn = get('slow', 'node');
  if (s) check('slow receivers cost bounded memory', s.slow_disconnected === s.slow && (!sn || s.rss_growth < sn.rss_growth),
    `noom +${bytes(s.rss_growth)}, ${s.slow_disconnected}/${s.slow} slow receivers disconnected; Node +${sn ? bytes(sn.rss_growth) : 'n/a'}, ${sn ? sn.slow_disconnected : 'n/a'} disconnected`);
}

// The app case: build/noom (lobby on) against the library alone (examples/echo), the
// same idle visitors and chat (bench/lg_app.c). Targets reported, not asserted.
const appRows = [];
{
  const lib = get('app', 'lib');
  const app = get('app', 'app');
  if (lib || app) {
    const closeCpu = (r) => r.close_cpu_us_per_op;
    const served = (r) => `${r.chat_delivered}/${r.chat_expected} delivered, ${r.chat_acked}/${r.chat_sent} acked, ${r.chat_ack_errors} errors`;
    const APP_METRICS = [
      ['server CPU per connect', cpu, us],
      ['server CPU per disconnect', closeCpu, us],
      ['connections held', (r) => r.held, num],
      ['connections closed', (r) => r.closed, num],
      ['RSS held (all connected)', (r) => r.rss_held, bytes],
      ['RSS per idle connection', (r) => r.rss_per_conn, bytes],
      ['RSS peak', (r) => r.rss_peak, bytes],
      ['RSS after the disconnects', (r) => r.rss_after, bytes],
      ['connect latency p50', p('p50'), us],
      ['connect latency p99', p('p99'), us],
      ['connect phase (s)', (r) => r.secs, (v) => v.toFixed(1)],
      ['disconnect phase (s)', (r) => r.close_secs, (v) => v.toFixed(1)],
      ['chat latency p50 while connecting', (r) => r.chat_lat_us.p50, us],
      ['chat latency p99 while connecting', (r) => r.chat_lat_us.p99, us],
      ['chat latency p50 while disconnecting', (r) => r.chat_close_lat_us.p50, us],
      ['chat latency p99 while disconnecting', (r) => r.chat_close_lat_us.p99, us],
      ['chat served', served, String],
      ['events to idle connections', (r) => r.idle_events, num],
      ['generator CPU (% of a core)', (r) => r.gen_cpu_pct, pct],
    ];
    appRows.push(['metric', 'lib', 'app', 'app/lib']);
    for (const [name, g, fmt] of APP_METRICS) {
      const a = app ? g(app) : null;
      const l = lib ? g(lib) : null;
      appRows.push([name, lib ? fmt(l) : 'n/a', app ? fmt(a) : 'n/a', fmt === String ? '' : ratioOf(a, l)]);
    }
    if (app && lib) {
      for (const [what, g] of [['connect', cpu], ['disconnect', closeCpu]]) {
        const a = g(app), l = g(lib);
        check(`app: CPU per ${what} within 2x of the library's`, a <= 2 * l, `${us(a)} vs ${us(l)} (${(a / l).toFixed(1)}x)`);
      }
    }
    if (app) {
      const ok = app.chat_delivered === app.chat_expected && app.chat_acked === app.chat_sent && app.chat_ack_errors === 0;
      check('app: the chat is served while visitors come and go', ok, `${served(app)}; p99 ${us(app.chat_lat_us.p99)} while connecting`);
    }
  }
}

let out = `# bench run ${file}\n\n${rows.length > 1 ? `${table(rows)}\n\n` : ''}## Targets (issue 6)\n\n${table([['target', 'status', 'measured'], ...targets])}\n`;
if (appRows.length) out += `\n## The app against the library (case app)\n\n${table(appRows)}\n`;

// Connection-state recovery off and on (case fanout-recovery): CPU per delivery, and the
// memory a stored packet costs (RSS growth per message sent, less the growth without).
const rec = runs['fanout-recovery'];
const recMem = runs['fanout-recovery-mem'];
if (rec) {
  const growth = (r) => (r && r.messages ? (r.rss_after - r.rss_before) / r.messages : null);
  const perPacket = (on, off) => (growth(on) != null && growth(off) != null ? growth(on) - growth(off) : null);
  const rrows = [['server', 'deliveries/s', 'CPU per delivery', 'on/off', 'latency p99', 'messages', 'memory per stored packet', 'lost']];
  for (const [name, off, on] of [['noom', rec.noom, rec['noom-rec']], ['node', rec.node, rec['node-rec']]]) {
    for (const [label, r] of [[`${name} off`, off], [`${name} on`, on]]) {
      if (!r) continue;
      rrows.push([label, num(r.ops_per_s), us(cpu(r)), r === on && off ? ratioOf(cpu(on), cpu(off)) : '', us(r.lat_us.p99), num(r.messages),
        r === on ? bytes(perPacket(on, off)) : '', num(r.lost)]);
    }
  }
  out += `\n## Connection-state recovery (case fanout-recovery)\n\n${table(rrows)}\n`;
  if (recMem) {
    const mrows = [['server', 'messages stored (room of 10)', 'RSS growth off', 'RSS growth on', 'memory per stored packet', 'CPU per delivery on/off']];
    for (const name of ['noom', 'node']) {
      const off = recMem[name], on = recMem[`${name}-rec`];
      if (!off || !on) continue;
      mrows.push([name, num(on.messages), bytes(off.rss_after - off.rss_before), bytes(on.rss_after - on.rss_before),
        bytes(perPacket(on, off)), ratioOf(cpu(on), cpu(off))]);
    }
    const cap = recMem['noom-cap'];
    if (cap && recMem.noom) {
      mrows.push(['noom, 16 MiB cap', num(cap.messages), '', bytes(cap.rss_after - cap.rss_before), '(steady: oldest dropped)',
        ratioOf(cpu(cap), cpu(recMem.noom))]);
    }
    out += `\n${table(mrows)}\n`;
  }
  const on = rec['noom-rec'], off = rec.noom;
  if (on && off) {
    const ratio = cpu(on) / cpu(off);
    out += `\nnoom, room of 1000: CPU per delivery with recovery on is ${ratio.toFixed(2)}x of off (target at most 1.25x): ${ratio <= 1.25 ? 'met' : 'MISSED'}\n`;
  }
}

// Echo latency against offered load: the sweep cases.
const sweep = Object.keys(runs).filter((c) => c.startsWith('echo-sweep-')).map((c) => ({ rate: Number(c.slice(11)), ...runs[c] })).sort((a, b) => a.rate - b.rate);
if (sweep.length) {
  const srows = [['offered acks/s', 'noom achieved', 'noom p50', 'noom p99', 'node achieved', 'node p50', 'node p99']];
  for (const s of sweep)
    srows.push([num(s.rate), num(s.noom?.ops_per_s), us(s.noom?.lat_us.p50), us(s.noom?.lat_us.p99), num(s.node?.ops_per_s), us(s.node?.lat_us.p50), us(s.node?.lat_us.p99)]);
  out += `\n## Echo latency vs offered load\n\n${table(srows)}\n`;
  if (svgOut) {
    writeFileSync(svgOut, plot(sweep));
    out += `\nPlot: ${svgOut}\n`;
  }
}

process.stdout.write(out);
if (mdOut) writeFileSync(mdOut, out);

// A log-log SVG: p50 (dashed) and p99 (solid) latency against offered load, per server.
function plot(points) {
  const W = 640, H = 400, L = 70, R = 20, T = 30, B = 50;
  const xs = points.map((s) => s.rate);
  const ys = points.flatMap((s) => [s.noom, s.node].filter(Boolean).flatMap((r) => [r.lat_us.p50, r.lat_us.p99])).filter((v) => v > 0);
  const lx = (v) => Math.log10(v);
  const [x0, x1] = [lx(Math.min(...xs)), lx(Math.max(...xs))];
  const [y0, y1] = [Math.floor(lx(Math.min(...ys))), Math.ceil(lx(Math.max(...ys)))];
  const X = (v) => L + ((lx(v) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const Y = (v) => H - B - ((lx(v) - y0) / (y1 - y0 || 1)) * (H - T - B);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
  s += `<rect width="${W}" height="${H}" fill="white"/>\n<text x="${W / 2}" y="18" text-anchor="middle">echo round-trip latency vs offered load (100 clients)</text>\n`;
  for (let e = y0; e <= y1; e++) {
    const y = Y(10 ** e);
    s += `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${us(10 ** e)}</text>\n`;
  }
  for (const v of xs) s += `<text x="${X(v)}" y="${H - B + 16}" text-anchor="middle">${num(v)}</text>\n`;
  s += `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">offered acks/s</text>\n`;
  const series = [['noom', '#1f77b4'], ['node', '#d62728']];
  for (const [label, color] of series)
    for (const [q, dash] of [['p99', ''], ['p50', ' stroke-dasharray="4 3"']]) {
      const pts = points.filter((pt) => pt[label]).map((pt) => `${X(pt.rate)},${Y(Math.max(pt[label].lat_us[q], 10 ** y0))}`);
      if (pts.length) s += `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>\n`;
    }
  series.forEach(([label, color], i) => {
    s += `<line x1="${L + 10}" x2="${L + 40}" y1="${T + 10 + i * 16}" y2="${T + 10 + i * 16}" stroke="${color}" stroke-width="2"/><text x="${L + 46}" y="${T + 14 + i * 16}">${label} (solid p99, dashed p50)</text>\n`;
  });
  return `${s}</svg>\n`;
}
