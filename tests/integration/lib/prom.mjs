// Scrapes a Prometheus endpoint and parses it twice: with the official Python client's
// text parser (python3-prometheus-client, Debian's; the reference implementation of
// the format's reader) and with a strict line check of our own for what that parser
// forgives (a sample before its family's # HELP/# TYPE, a family split in two).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const PY = `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "help": fam.documentation,
                    "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

// Returns [{name, labels, value, type, help}] as written (the Python parser renames a
// counter's samples to end in _total; the names here are the exposed ones), after both
// parsers accepted the text and agree on every value.
export function parse(text) {
  const py = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PY], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }));
  const mine = strictCheck(text);
  assert.equal(py.length, mine.length, 'both parsers see the same samples');
  for (let i = 0; i < mine.length; i++) {
    assert.equal(py[i].type, mine[i].type);
    assert.deepEqual(py[i].labels, mine[i].labels);
    assert.equal(py[i].value, mine[i].value);
  }
  return mine;
}

function labelsOf(s) {
  const out = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)",?/g;
  let m;
  while ((m = re.exec(s))) out[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  return out;
}
const num = (v) => (v === 'NaN' ? NaN : v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));

// Every sample line belongs to the family whose # HELP and # TYPE came just before it,
// each family appears once, and the text ends with a newline.
function strictCheck(text) {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const seen = new Set();
  const out = [];
  let cur = null, typed = null, type = null, help = null;
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      assert.ok(!seen.has(m[1]), `family ${m[1]} appears twice`);
      seen.add(m[1]);
      cur = m[1];
      help = m[2];
      typed = null;
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line))) {
      assert.equal(m[1], cur, `# TYPE ${m[1]} right after its # HELP`);
      typed = m[1];
      type = m[2];
    } else {
      m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/.exec(line);
      assert.ok(m, `a well-formed sample line: ${JSON.stringify(line)}`);
      assert.equal(m[1], typed, `sample ${m[1]} under its own family's # TYPE`);
      out.push({ name: m[1], labels: m[2] ? labelsOf(m[2]) : {}, value: num(m[3]), type, help });
    }
  }
  return out;
}

export async function scrape(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parse(await r.text());
}

// The value of the sample name{labels} (labels must match exactly), or undefined.
export function value(samples, name, labels = {}) {
  const want = JSON.stringify(Object.entries(labels).sort());
  const s = samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === want);
  return s?.value;
}
