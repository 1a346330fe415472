#!/usr/bin/env bash
# bench/metrics_cost.sh: instructions the metrics counters add per fan-out delivery,
# counted by valgrind's callgrind (exact and load-independent, unlike CPU time on a busy
# machine). The library's echo server with counters (build/) and without
# (-DSIO_METRICS=OFF, $NOMETRICS_BUILD) serves the same fan-out (200 receivers, 100
# messages/s for 5 s); the table gives, per call of sio__client_send (one per delivery and
# per other packet), the instructions spent in that function itself, where the per-packet
# counters are, and in the whole process. The whole-process figure also moves with how
# writes happened to batch per loop turn, which differs from run to run.
#   bench/metrics_cost.sh      (after `make` and bench/run.sh built build/bench/loadgen)
set -euo pipefail
cd "$(dirname "$0")/.."
NOMETRICS_BUILD=${NOMETRICS_BUILD:-build-nometrics}
LG=${LG_BUILD:-build/bench}/loadgen
command -v valgrind >/dev/null || { echo "metrics_cost: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
[ -x "$LG" ] || { echo "metrics_cost: $LG is missing: run bench/run.sh once" >&2; exit 1; }
if [ ! -x "$NOMETRICS_BUILD/examples/echo" ]; then
  cmake -S . -B "$NOMETRICS_BUILD" -G Ninja -DSIO_METRICS=OFF >/dev/null
  cmake --build "$NOMETRICS_BUILD" --target echo >/dev/null
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Sums, over a callgrind file, the self cost (Ir) of fn and the calls made to it.
stats() {
  python3 - "$1" "$2" <<'PY'
import re, sys
path, fn = sys.argv[1], sys.argv[2]
names, cur_fn, cfn, self_ir, calls, total = {}, None, None, 0, 0, 0
for line in open(path):
    m = re.match(r'(c?)fn=\((\d+)\)(?: (.*))?', line)
    if m:
        if m.group(3): names[m.group(2)] = m.group(3).strip()
        name = names.get(m.group(2))
        if m.group(1): cfn = name
        else: cur_fn, cfn = name, None
        continue
    m = re.match(r'calls=(\d+)', line)
    if m:
        if cfn == fn: calls += int(m.group(1))
        cfn = ('call', cfn)
        continue
    m = re.match(r'^[+-]?\d+ (\d+)', line) or re.match(r'^\* (\d+)', line)
    if m:
        v = int(m.group(1))
        if isinstance(cfn, tuple):  # the inclusive cost of the call just listed
            cfn = None
            continue
        total += v
        if cur_fn == fn: self_ir += v
print(self_ir, calls, total)
PY
}
printf '| build | sio__client_send calls | its own instructions per call | process instructions per call |\n| --- | --- | --- | --- |\n'
for label in counted uncounted; do
  bin=build/examples/echo
  [ "$label" = uncounted ] && bin=$NOMETRICS_BUILD/examples/echo
  valgrind --tool=callgrind --callgrind-out-file="$TMP/$label.out" "$bin" --port 0 --log-level error >"$TMP/$label.log" 2>&1 &
  vpid=$!
  port=
  for _ in $(seq 300); do
    port=$(sed -n 's#^listening on http://[^:]*:\([0-9]*\).*#\1#p' "$TMP/$label.log" | head -n1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "metrics_cost: $bin did not start" >&2; exit 1; }
  timeout 120 "$LG" --port "$port" --pid "$vpid" --label "$label" --scenario fanout --conns 200 --rate 100 \
    --size 100 --duration 5 >/dev/null 2>&1 || echo "metrics_cost: loadgen failed against $label" >&2
  kill -TERM "$vpid"
  wait "$vpid" || true
  read -r self calls total < <(stats "$TMP/$label.out" sio__client_send)
  awk -v l="$label" -v s="$self" -v c="$calls" -v t="$total" \
    'BEGIN { printf "| %s | %d | %.1f | %.1f |\n", l, c, s / c, t / c }'
done
