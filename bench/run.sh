#!/usr/bin/env bash
# bench/run.sh: runs the same Socket.IO workloads against noom (build/examples/echo) and
# Node's socket.io 4.8 (bench/node-server.mjs) in one go and prints a comparison table.
#
# A third server, the "floor" (bench/floor.c, built with the load generator), runs the
# cases it can serve: a single-threaded epoll loop that speaks just enough of the protocol
# for the load generator and makes the same syscalls per operation as noom (one read per
# readable socket, one write per socket per loop turn, TCP_NODELAY), but does nothing
# else. Its CPU per operation is roughly what the kernel alone costs on this machine: the
# part of noom's figure no library work can remove. noom/floor is the library's overhead.
#
#   bench/run.sh            (or `make bench`, which builds first)
#   bench/run.sh app        only the named cases (the same as BENCH_CASES="app")
#
# Each case starts a fresh server (so RSS figures are not polluted by an earlier case),
# runs bench/loadgen against it on loopback, and kills it; noom and Node alternate case
# by case. JSON lines go to bench/out/run-<time>.jsonl, the table to
# bench/out/report-<time>.md, the latency-vs-load plot to bench/out/latency-<time>.svg.
# Bounded: about 8 minutes on 2 cores (6.5 without the floor) plus the app case (a minute
# once the app is fixed, several today: each of its phases is cut at BENCH_APP_TIMEOUT) and
# the metrics case (about 3 minutes: a second build of the library, 9 fan-out runs, two
# under valgrind), every loadgen run under `timeout`.
#
# Environment knobs:
#   BENCH_DURATION=S   measured seconds per case (default 10)
#   BENCH_CONNECT_N=N  idle connections in `connect` (default: 19000, less if ulimit -n is low)
#   BENCH_SWEEP=0      skip the echo latency-vs-load sweep
#   BENCH_FLOOR=0      skip the floor server (default 1: run it where it applies:
#                      connect-burst fanout fanout-deep fanout-rate echo echo-pipelined echo-rate)
#   BENCH_CASES="a b"  run only these cases (connect connect-burst fanout fanout-deep
#                      fanout-rate fanout-recovery echo echo-pipelined echo-rate churn slow
#                      sweep app history deflate deflate-fanout metrics msgpack sfu sfu-load);
#                      arguments to run.sh do the same
#   BENCH_APP_N=N      idle connections in `app` (default: 15000, less if ulimit -n is low)
#   BENCH_APP_CLOSE=M  of which `app` closes M (default 10000)
#   BENCH_APP_TIMEOUT=S  bound on each of app's connect and disconnect phases (default 240)
#   BENCH_SFU_LOAD_N="5 10 25 2x25 3x25 25:cm"  sfu-load's calls (CALLSxPEOPLE, :cm = AES-CM only);
#                      BENCH_SFU_LOAD_D (10 s) and BENCH_SFU_LOAD_REPS (3): about 10 minutes
#   ECHO_BIN=path      the noom bench server (default build/examples/echo)
#   APP_BIN=path       the noom app (default build/noom), for the `app` case
#   LG_BUILD=dir       where to build the load generator (default build/bench)
#   BENCH_OUT=dir      output directory (default bench/out)
set -euo pipefail
cd "$(dirname "$0")/.."

ECHO_BIN=${ECHO_BIN:-build/examples/echo}
APP_BIN=${APP_BIN:-build/noom}
LG_BUILD=${LG_BUILD:-build/bench}
OUT=${BENCH_OUT:-bench/out}
D=${BENCH_DURATION:-10}
SWEEP=${BENCH_SWEEP:-1}
FLOOR=${BENCH_FLOOR:-1}
FLOOR_CASES="connect-burst fanout fanout-deep fanout-rate echo echo-pipelined echo-rate"
CASES=${BENCH_CASES:-connect connect-burst fanout fanout-deep fanout-rate fanout-recovery echo echo-pipelined echo-rate churn slow sweep app history deflate deflate-fanout metrics msgpack sfu sfu-load}
[ $# -gt 0 ] && CASES="$*"

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$ECHO_BIN" ] || die "$ECHO_BIN is missing: build it first (make)"
command -v node >/dev/null || die "node is missing: run scripts/deps.sh build"
[ -d tests/node_modules/socket.io ] || die "tests/node_modules/socket.io is missing: run scripts/deps.sh test"

# Every idle connection is a descriptor on both sides: take all the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
CONNECT_N=${BENCH_CONNECT_N:-$(( NOFILE - 1000 < 19000 ? NOFILE - 1000 : 19000 ))}
APP_N=${BENCH_APP_N:-$(( NOFILE - 1000 < 15000 ? NOFILE - 1000 : 15000 ))}
APP_CLOSE=${BENCH_APP_CLOSE:-10000}
APP_TIMEOUT=${BENCH_APP_TIMEOUT:-240}

echo "bench: building the load generator in $LG_BUILD"
cmake -S bench -B "$LG_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$LG_BUILD" >/dev/null
LG=$LG_BUILD/loadgen
FLOOR_BIN=$LG_BUILD/floor

mkdir -p "$OUT"
STAMP=$(date +%Y%m%d-%H%M%S)
JSON=$OUT/run-$STAMP.jsonl
: >"$JSON"
echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $NOFILE;" \
     "results in $JSON"
if awk '{exit !($1 > 1.0)}' /proc/loadavg; then
  echo "bench: warning: the machine is busy (load average above 1): latencies will be noisy;" \
       "CPU time per operation holds better" >&2
fi

SPID=
cleanup() { if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; fi; }
trap cleanup EXIT INT TERM

# start_server noom|node|floor|lib|app|noom-rec|noom-cap|node-rec: sets SPID and SPORT once the
# server printed "listening on" (lib is the noom bench server again, the library alone;
# app is build/noom with its lobby, logging errors only, STUN responder off; -rec: with
# connection-state recovery on, a 2 min window as Node's default, and no byte cap in
# reach so that both keep every packet of the run; noom-cap: recovery with the library's
# default 16 MiB cap, the steady state of a long-running server).
start_server() {
  local log=$OUT/server-$1.log
  case $1 in
    noom|lib|counted) "$ECHO_BIN" --port 0 --log-level error >"$log" 2>&1 & ;;
    scraped) "$ECHO_BIN" --port 0 --log-level error --metrics >"$log" 2>&1 & ;;
    uncounted) "$NOMETRICS_BUILD/examples/echo" --port 0 --log-level error >"$log" 2>&1 & ;;
    noom-rec) "$ECHO_BIN" --port 0 --log-level error --recovery-ms 120000 --recovery-max-bytes 4294967296 >"$log" 2>&1 & ;;
    noom-cap) "$ECHO_BIN" --port 0 --log-level error --recovery-ms 120000 >"$log" 2>&1 & ;;
    node-rec) node bench/node-server.mjs --port 0 --recovery-ms 120000 >"$log" 2>&1 & ;;
    app) "$APP_BIN" --host 127.0.0.1 --port 0 --stun-port 0 --log-level error --history 0 >"$log" 2>&1 & ;;
    node) node bench/node-server.mjs --port 0 >"$log" 2>&1 & ;;
    floor) "$FLOOR_BIN" --port 0 >"$log" 2>&1 & ;;
  esac
  SPID=$!
  SPORT=
  for _ in $(seq 100); do
    SPORT=$(sed -n 's#^\(noom \)\{0,1\}listening on http://[^:]*:\([0-9]*\).*#\2#p' "$log" | head -n1)
    [ -n "$SPORT" ] && break
    sleep 0.1
  done
  [ -n "$SPORT" ] || die "$1 server did not start: $(cat "$log")"
}

stop_server() {
  kill "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=
}

# run_case NAME LOADGEN-ARGS...: the same run against noom, then Node, then the floor
# where it applies (RUN_LABELS="a b ...": these servers instead).
run_case() {
  local name=$1 labels=${RUN_LABELS:-noom node}
  shift
  if [ "$FLOOR" = 1 ] && [ -z "${RUN_LABELS:-}" ]; then
    case " $FLOOR_CASES " in *" $name "*) labels="$labels floor" ;; esac
  fi
  for label in $labels; do
    start_server "$label"
    if ! timeout 150 "$LG" --port "$SPORT" --pid "$SPID" --label "$label" --case "$name" \
         --json "$JSON" "$@" >/dev/null; then
      echo "bench: $label $name failed" >&2
    fi
    stop_server
  done
}

want() { case " $CASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# The app against the library (the loadgen scenario `app`, bench/lg_app.c): the same
# idle visitors and chat against build/examples/echo ("lib") and build/noom ("app").
run_app_case() {
  local label
  [ -x "$APP_BIN" ] || { echo "bench: $APP_BIN is missing: the app case is skipped" >&2; return 0; }
  for label in lib app; do
    start_server "$label"
    if ! timeout $(( 2 * APP_TIMEOUT + 60 )) "$LG" --port "$SPORT" --pid "$SPID" --label "$label" --case app \
         --scenario app --dialect "$label" --json "$JSON" "$@" >/dev/null; then
      echo "bench: $label app failed" >&2
    fi
    stop_server
  done
}

# metrics: what the metrics counters cost on the hot path: the fanout case against the
# library with its counters ("counted"), built with -DSIO_METRICS=OFF ("uncounted", in
# $NOMETRICS_BUILD), and with counters while GET /metrics is scraped every 100 ms
# ("scraped"), alternating, BENCH_METRICS_ROUNDS times each; then, where valgrind is,
# bench/metrics_cost.sh's instruction counts. Its own JSON lines and table.
NOMETRICS_BUILD=${NOMETRICS_BUILD:-build-nometrics}
run_metrics_case() {
  local mjson=$OUT/metrics-$STAMP.jsonl round label scraper
  : >"$mjson"
  echo "bench: building the library without counters in $NOMETRICS_BUILD"
  cmake -S . -B "$NOMETRICS_BUILD" -G Ninja -DSIO_METRICS=OFF >/dev/null
  cmake --build "$NOMETRICS_BUILD" --target echo >/dev/null
  for round in $(seq "${BENCH_METRICS_ROUNDS:-3}"); do
    for label in counted uncounted scraped; do
      start_server "$label"
      scraper=
      if [ "$label" = scraped ]; then
        ( while :; do curl -s -o /dev/null "http://127.0.0.1:$SPORT/metrics" || true; sleep 0.1; done ) &
        scraper=$!
      fi
      if ! timeout 150 "$LG" --port "$SPORT" --pid "$SPID" --label "$label" --case "metrics-$round" \
           --json "$mjson" "$@" >/dev/null; then
        echo "bench: $label metrics failed" >&2
      fi
      [ -n "$scraper" ] && { kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null || true; }
      stop_server
    done
  done
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
    const by = {};
    for (const r of rows) (by[r.label] ??= []).push(r);
    const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
    console.log("| server | runs | CPU us/delivery (each run) | median | deliveries/s (median) |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const l of ["counted", "uncounted", "scraped"]) {
      const rs = by[l] || [];
      const cpu = rs.map((r) => r.server_cpu_us_per_op), ops = rs.map((r) => r.ops_per_s ?? r.throughput ?? 0);
      console.log(`| ${l} | ${rs.length} | ${cpu.map((x) => x.toFixed(3)).join(", ")} | ${med(cpu).toFixed(3)} | ${Math.round(med(ops))} |`);
    }' "$mjson" | tee "$OUT/metrics-$STAMP.md"
  # CPU time on a shared machine varies more than the counters cost: count instructions too.
  if command -v valgrind >/dev/null; then
    NOMETRICS_BUILD="$NOMETRICS_BUILD" LG_BUILD="$LG_BUILD" bench/metrics_cost.sh | tee -a "$OUT/metrics-$STAMP.md"
  fi
}

# connect: idle connections at a rate Node sustains, held 5 s; RSS and CPU per connection.
want connect && run_case connect --scenario connect --conns "$CONNECT_N" --rate 1500 --duration 5
# connect-burst: as fast as the server accepts (256 handshakes in flight): CPU per connection
# when handshakes batch per loop turn.
want connect-burst && run_case connect-burst --scenario connect --conns 10000 --window 256 --duration 2
# fanout: 1000 receivers, 16 messages in flight: saturation throughput and CPU per delivery.
want fanout && run_case fanout --scenario fanout --conns 1000 --window 16 --size 100 --duration "$D"
# fanout-deep: the same with 64 messages in flight: per-loop-turn batching at its best.
want fanout-deep && run_case fanout-deep --scenario fanout --conns 1000 --window 64 --size 100 --duration "$D"
# fanout-rate: the same room at 50 messages/s (50k deliveries/s, within Node's reach): latency.
want fanout-rate && run_case fanout-rate --scenario fanout --conns 1000 --rate 50 --size 100 --duration "$D"
# fanout-recovery: fanout with connection-state recovery off and on, noom and Node in one
# run: CPU per delivery on/off (target: noom at most 1.25x); then a room of 10 (many more
# messages, each stored once) for the memory per stored packet: RSS growth over the run
# per message sent, less the same without recovery; and noom's CPU there once the default
# byte cap holds the store steady (noom-cap).
if want fanout-recovery; then
  RUN_LABELS="noom noom-rec node node-rec" run_case fanout-recovery --scenario fanout \
    --conns 1000 --window 16 --size 100 --duration "$D"
  RUN_LABELS="noom noom-rec noom-cap node node-rec" run_case fanout-recovery-mem --scenario fanout \
    --conns 10 --window 64 --size 100 --duration "$D"
fi
# echo: 100 clients, one emit-with-ack in flight each: acks/s and CPU per ack.
want echo && run_case echo --scenario echo --conns 100 --window 1 --size 100 --duration "$D"
# echo-pipelined: the same clients with 16 requests in flight each: syscalls amortised.
want echo-pipelined && run_case echo-pipelined --scenario echo --conns 100 --window 16 --size 100 --duration "$D"
# echo-rate: 20k acks/s offered over 100 clients (within Node's reach): latency.
want echo-rate && run_case echo-rate --scenario echo --conns 100 --rate 20000 --size 100 --duration "$D"
# churn: 100 clients at a time connecting, joining, chatting, leaving.
want churn && run_case churn --scenario churn --conns 100 --msgs 3 --duration "$D"
# slow: 20 receivers of 4 MB/s each (1000 x 4 KB messages/s), 5 of which stop reading.
want slow && run_case slow --scenario slow --conns 20 --slow 5 --rate 1000 --size 4000 --duration "$D"
# app: the noom app (lobby on) against the library: 15,000 idle connections at 1,500/s
# while 4 chat clients talk in one room, held 3 s, then 10,000 of them leave at 1,500/s;
# CPU per connect and per disconnect, RSS, the chat's latency; each phase is bounded by
# BENCH_APP_TIMEOUT.
want app && run_app_case --conns "$APP_N" --close "$APP_CLOSE" --rate 1500 --duration 3 \
  --chat 4 --chat-rate 4 --phase-timeout "$APP_TIMEOUT"
# history: the chat path with room history off, in memory and in SQLite (CPU per accepted
# message, in a room of 2 and of 100), sustained persisted messages per second, and the
# time to answer enter_room with 50 messages from a cold and a warm room
# (bench/history.mjs; its own tables, next to the report).
if want history; then
  APP_BIN="$APP_BIN" node bench/history.mjs | tee "$OUT/history-$STAMP.md"
fi
# deflate: WebSocket permessage-deflate off and on, noom and Node: RSS per idle connection
# and after traffic, server CPU and wire bytes per 4 KiB echo (bench/deflate.mjs; its
# own table, next to the report).
if want deflate; then
  ECHO_BIN="$ECHO_BIN" node bench/deflate.mjs | tee "$OUT/deflate-$STAMP.md"
fi
# deflate-fanout: permessage-deflate off, on and on with server_no_context_takeover in a
# room of 200, noom and Node: server CPU and wire bytes per delivery of a 4 KiB chat-like
# JSON packet (bench/deflate-fanout.mjs; its own table, next to the report).
if want deflate-fanout; then
  ECHO_BIN="$ECHO_BIN" node bench/deflate-fanout.mjs | tee "$OUT/deflate-fanout-$STAMP.md"
fi
want metrics && run_metrics_case --scenario fanout --conns 1000 --window 16 --size 100 --duration "$D"
# msgpack: the msgpack parser against the default one, noom and Node each with both, echo
# acks and fan-out deliveries of a mixed object (bench/msgpack.mjs; its own table, next to
# the report).
if want msgpack; then
  ECHO_BIN="$ECHO_BIN" node bench/msgpack.mjs | tee "$OUT/msgpack-$STAMP.md"
fi
# sfu: the SFU's forwarding path alone against a plain sendmmsg relay floor
# (bench/sfu_fwd.c), then the app's SFU (--media sfu) forwarding real Chromium media,
# 2/4/6 people: server CPU per forwarded packet (bench/sfu.mjs); its own table.
if want sfu; then
  "$LG_BUILD/sfu_fwd" 20000 24 | tee "$OUT/sfu-$STAMP.md"
  NOOM_BUILD="$(dirname "$APP_BIN")" node bench/sfu.mjs | tee -a "$OUT/sfu-$STAMP.md"
fi
# sfu-load: the app's SFU under synthetic participants (bench/sfu_load.c: ICE, DTLS-SRTP,
# 500 kbit/s of RTP each; signaling by bench/sfu_load.mjs), 5/10/25 people, against the
# recvmmsg/sendmmsg relay floor (bench/sfu_relay.c) with the same traffic; its own table.
if want sfu-load; then
  NOOM_BUILD="$(dirname "$APP_BIN")" LG_BUILD="$LG_BUILD" node bench/sfu_load.mjs | tee "$OUT/sfu-load-$STAMP.md"
fi
# sweep: echo latency against offered load, for the plot.
if want sweep && [ "$SWEEP" = 1 ]; then
  for r in 5000 10000 20000 40000 80000; do
    run_case "echo-sweep-$r" --scenario echo --conns 100 --rate "$r" --size 100 --duration 4
  done
fi

node bench/report.mjs "$JSON" "$OUT/report-$STAMP.md" "$OUT/latency-$STAMP.svg"
# A PNG of the plot when a headless Chromium is at hand (the e2e suites install one).
if [ -f "$OUT/latency-$STAMP.svg" ] && command -v chromium >/dev/null; then
  timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=640,400 \
    --screenshot="$(cd "$OUT" && pwd)/latency-$STAMP.png" "file://$(cd "$OUT" && pwd)/latency-$STAMP.svg" \
    >/dev/null 2>&1 &&
    echo "PNG: $OUT/latency-$STAMP.png"
fi
