#!/usr/bin/env bash
# Overload (issue 11): `nexus serve --workload W` on B SIMULATED backends (the backends are the bottleneck),
# loaded by `nexus bench --workload W` first at the highest rate with >= 99% within SLO (MAX, found by
# `nexus bench --find-max-rate` unless given), then at FACTOR x MAX for OVERLOAD_SECONDS. Goals: goodput at
# FACTOR x >= 90% of MAX; peak RSS of the serving process <= 2x its peak at MAX; every request answered.
# Prints one JSON object. Usage: bench/overload.sh   (env: W=traffic B=4 K=100 FACTOR=10 OVERLOAD_SECONDS=60
# STEADY_SECONDS=15 MAX= NEXUS_BIN=.build/release/nexus SERVE_ARGS="--link-timeout-ms 200 ...": more flags for nexus serve)
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
W=${W:-traffic}; B=${B:-4}; K=${K:-100}; FACTOR=${FACTOR:-10}; OVERLOAD=${OVERLOAD_SECONDS:-60}; STEADY=${STEADY_SECONDS:-15}
PORT=${PORT:-8321}
WORK=$(mktemp -d)
FILE=data/workloads/$W.yaml
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
peak_rss_mb() { awk '/VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
"$NEXUS" serve --workload "$FILE" --backends "$B" --time-scale "$K" --listen "127.0.0.1:$PORT" ${SERVE_ARGS:-} > "$WORK/serve.log" 2>&1 & serve_pid=$!
for _ in $(seq 300); do grep -q "frontend: serving applications" "$WORK/serve.log" && break; sleep 0.1; done
grep -q "frontend: serving applications" "$WORK/serve.log" || { echo "serve did not come up: $WORK/serve.log" >&2; exit 1; }
bench() { "$NEXUS" bench --target "127.0.0.1:$PORT" --workload "$FILE" --time-scale "$K" --json "$@"; }
if [ -z "${MAX:-}" ]; then
  SIM=$("$NEXUS" simulate --workload "$FILE" --gpus "$B" --time-scale "$K" --duration 30 --find-max-rate --json \
        | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["outcomes"][0]["maxRatePerSecond"])')
  bench --rate "$SIM" --duration 10 --warmup 3 --find-max-rate --precision 0.03 > "$WORK/max.json"
  MAX=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["maxRatePerSecond"])' "$WORK/max.json")
fi
bench --rate "$MAX" --duration "$STEADY" --warmup 3 > "$WORK/steady.json"
RSS_AT_MAX=$(peak_rss_mb "$serve_pid")
OVER=$(/usr/bin/python3 -c "print($MAX * $FACTOR)")
bench --rate "$OVER" --duration "$OVERLOAD" --warmup 3 > "$WORK/overload.json"
RSS_PEAK=$(peak_rss_mb "$serve_pid")
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
/usr/bin/python3 - "$WORK" "$MAX" "$FACTOR" "$RSS_AT_MAX" "$RSS_PEAK" <<'PY'
import json, sys
work, top, factor, rss_max, rss_peak = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
steady, over = (json.load(open(f"{work}/{name}.json")) for name in ("steady", "overload"))
print(json.dumps({
    "maxRatePerSecond": top, "factor": factor,
    "steady": {k: steady[k] for k in ("goodputPerSecond", "withinSLOFraction", "unanswered", "errors")},
    "overload": {k: over[k] for k in ("ratePerSecond", "sent", "notSent", "completedOK", "goodputPerSecond", "unanswered", "errors", "clientCPUCores")},
    "goodputOverMax": round(over["goodputPerSecond"] / top, 3),
    "peakRSSMBAtMax": rss_max, "peakRSSMBOverload": rss_peak, "rssRatio": round(rss_peak / rss_max, 3),
}, indent=1))
PY
