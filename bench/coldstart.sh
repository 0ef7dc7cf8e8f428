#!/usr/bin/env bash
# Cold start (issue 11): `nexus serve` on a SIMULATED backend, started fresh, gets RATE requests/s from its first
# second; what fraction is answered within the SLO from the third second on (the goal: >= 99%)? Run twice:
#   undeclared: the application file declares no rate: the first plan is sized for 1 request/s and the
#               sudden-rise check re-plans at the first report that shows the load;
#   declared:   the file says `expectedRatePerSecond: RATE`: the first plan is sized for it.
# Prints one JSON line per mode: withinSLOFraction from the third second on, its counts, and the plan log lines.
# Usage: bench/coldstart.sh   (env: RATE=200 SECONDS_MEASURED=8 SLO_MS=100 MODEL=tiny_cnn NEXUS_BIN=.build/release/nexus
#        REPO=out/test-models; the model is profiled on this CPU first if it has no profiles/cpu.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
REPO=${REPO:-out/test-models}; MODEL=${MODEL:-tiny_cnn}; RATE=${RATE:-200}; MEASURED=${SECONDS_MEASURED:-8}; SLO_MS=${SLO_MS:-100}
PORT=${PORT:-8311}
WORK=$(mktemp -d)
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
if [ ! -f "$REPO/$MODEL/profiles/cpu.csv" ]; then
  "$NEXUS" profile --repo "$REPO" --model "$MODEL" --device cpu --batches 1 2 4 8 16 32 64 --runs 5 > /dev/null
fi
for mode in undeclared declared; do
  rm -rf "$WORK/apps"; mkdir -p "$WORK/apps"
  { echo "name: $MODEL"; echo "latencySLOMs: $SLO_MS"; [ "$mode" = declared ] && echo "expectedRatePerSecond: $RATE"
    echo "stages:"; echo "  - {name: $MODEL, model: $MODEL}"; } > "$WORK/apps/$MODEL.yaml"
  "$NEXUS" serve --repo "$REPO" --apps "$WORK/apps" --device simulated --profile cpu --listen "127.0.0.1:$PORT" \
    > "$WORK/serve-$mode.log" 2>&1 & serve_pid=$!
  for _ in $(seq 300); do grep -q "frontend: serving applications" "$WORK/serve-$mode.log" && break; sleep 0.05; done
  grep -q "frontend: serving applications" "$WORK/serve-$mode.log" || { echo "serve did not come up: $WORK/serve-$mode.log" >&2; exit 1; }
  # Load from the first second; the statistics window starts at the third (--warmup 2).
  "$NEXUS" bench --target "127.0.0.1:$PORT" --app "$MODEL" --rate "$RATE" --warmup 2 --duration "$MEASURED" --json > "$WORK/bench-$mode.json"
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
  /usr/bin/python3 - "$mode" "$WORK/bench-$mode.json" "$WORK/serve-$mode.log" <<'PY'
import json, sys
mode, bench, log = sys.argv[1:4]
r = json.load(open(bench))
plans = [line.strip() for line in open(log) if "plan" in line and "scheduler" in line][:4]
print(json.dumps({"mode": mode, "withinSLOFractionFromThirdSecond": r["withinSLOFraction"], "sent": r["sent"],
                  "completedOK": r["completedOK"], "errors": r["errors"], "unanswered": r["unanswered"],
                  "p99Ms": (r.get("latency") or {}).get("p99Ms"), "firstPlans": plans}))
PY
done
