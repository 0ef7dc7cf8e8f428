#!/usr/bin/env bash
# Does the real cluster reproduce the simulator? For each workload (default: game traffic), the highest total
# rate with >= 99% of requests within SLO on 16 backends, found twice with the same search (NexusCore's
# MaxRateSearch) at the same time scale K:
#   simulated: nexus simulate --workload W --gpus 16 --time-scale K --find-max-rate
#   real:      nexus serve --workload W --backends 16 --time-scale K  (scheduler, frontend and 16 SIMULATED
#              backends talking gRPC over 127.0.0.1) driven by nexus bench --workload W --find-max-rate
# then one steady run at the real maximum to read the CPU each process used. Each rate the search tries on the
# real cluster starts with WARMUP seconds at that rate, long enough for the scheduler to re-plan for it (a rise
# re-plans within a beacon, a fall waits for the 10 s rate average): the simulator measures every rate from a
# plan sized for it, so a short warm-up measures the re-planning transient instead (3 s: game 0.71, traffic
# 0.81 of the simulated maximum, measured). Prints one line per workload:
#   workload K simulated_max real_max ratio serve_cpu_cores bench_cpu_cores
# POLICY (nexus or nexus-next) runs that policy in both: `simulate --policy` and `serve --policy`.
# Usage: bench/fidelity.sh [WORKLOAD...]   (env: K=100 DURATION=15 WARMUP=12 BACKENDS=16 PRECISION=0.02
# POLICY=nexus NEXUS_BIN=.build/release/nexus OUT=out/fidelity). Needs a release build:
#   swift build -c release --product nexus
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
K=${K:-100}; DURATION=${DURATION:-15}; WARMUP=${WARMUP:-12}; BACKENDS=${BACKENDS:-16}; PRECISION=${PRECISION:-0.02}
OUT=${OUT:-out/fidelity}; POLICY=${POLICY:-nexus}
mkdir -p "$OUT"
[ $# -gt 0 ] || set -- game traffic
PORT=${PORT:-8301}
serve_pid=""
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

cpu_seconds() { awk '{ printf "%.3f\n", ($14 + $15) / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

echo "workload K simulated_max real_max ratio serve_cpu_cores bench_cpu_cores"
for W in "$@"; do
  FILE=data/workloads/$W.yaml
  "$NEXUS" simulate --workload "$FILE" --policy "$POLICY" --gpus "$BACKENDS" --time-scale "$K" --duration "$DURATION" \
    --find-max-rate --precision "$PRECISION" --json > "$OUT/$W-simulated.json"
  SIM=$(json "$OUT/$W-simulated.json" 'd["outcomes"][0]["maxRatePerSecond"]')

  "$NEXUS" serve --workload "$FILE" --policy "$POLICY" --backends "$BACKENDS" --time-scale "$K" --listen "127.0.0.1:$PORT" \
    > "$OUT/$W-serve.log" 2>&1 & serve_pid=$!
  for _ in $(seq 300); do grep -q "frontend: serving applications" "$OUT/$W-serve.log" && break; sleep 0.1; done
  grep -q "frontend: serving applications" "$OUT/$W-serve.log" || { echo "serve did not come up: $OUT/$W-serve.log" >&2; exit 1; }
  "$NEXUS" bench --target "127.0.0.1:$PORT" --workload "$FILE" --time-scale "$K" --rate "$SIM" --duration "$DURATION" \
    --warmup "$WARMUP" --find-max-rate --precision "$PRECISION" --json > "$OUT/$W-real.json"
  REAL=$(json "$OUT/$W-real.json" 'd["maxRatePerSecond"]')
  if [ "$REAL" = None ]; then echo "$W $K $SIM none n/a n/a n/a"; kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""; continue; fi

  # One steady run at the real maximum: CPU of the serving process over it, and the client's own.
  before=$(cpu_seconds "$serve_pid"); start=$(date +%s.%N)
  "$NEXUS" bench --target "127.0.0.1:$PORT" --workload "$FILE" --time-scale "$K" --rate "$REAL" --duration "$DURATION" \
    --warmup "$WARMUP" --json > "$OUT/$W-steady.json"
  after=$(cpu_seconds "$serve_pid"); end=$(date +%s.%N)
  SERVE_CPU=$(/usr/bin/python3 -c "print(round(($after - $before) / ($end - $start), 2))")
  BENCH_CPU=$(json "$OUT/$W-steady.json" 'round(d["clientCPUCores"], 2)')
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
  RATIO=$(/usr/bin/python3 -c "print(round($REAL / $SIM, 3) if $SIM else 'n/a')")
  echo "$W $K $SIM $REAL $RATIO $SERVE_CPU $BENCH_CPU"
done
