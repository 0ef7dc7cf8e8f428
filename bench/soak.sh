#!/usr/bin/env bash
# Soak (issue 11): `nexus serve --workload W` on B SIMULATED backends at FRACTION x the max rate (MAX, found by
# `nexus bench --find-max-rate` unless given) for SOAK_SECONDS, with the serving process's RSS sampled every
# SAMPLE_SECONDS. Goals: 0 unanswered, p99 within the SLO, RSS flat within 10% (the last sample against the first
# taken after WARMUP). Prints one JSON object.
# Usage: bench/soak.sh   (env: W=traffic B=4 K=100 FRACTION=0.8 SOAK_SECONDS=600 SAMPLE_SECONDS=10 WARMUP=30
#        MAX= POLICY=nexus NEXUS_BIN=.build/release/nexus)
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
W=${W:-traffic}; B=${B:-4}; K=${K:-100}; FRACTION=${FRACTION:-0.8}; SOAK=${SOAK_SECONDS:-600}
SAMPLE=${SAMPLE_SECONDS:-10}; WARMUP=${WARMUP:-30}; POLICY=${POLICY:-nexus}
PORT=${PORT:-8341}
WORK=$(mktemp -d)
FILE=data/workloads/$W.yaml
serve_pid=""; sampler_pid=""
trap '[ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null; [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
"$NEXUS" serve --workload "$FILE" --policy "$POLICY" --backends "$B" --time-scale "$K" --listen "127.0.0.1:$PORT" \
  > "$WORK/serve.log" 2>&1 & serve_pid=$!
for _ in $(seq 300); do grep -q "frontend: serving applications" "$WORK/serve.log" && break; sleep 0.1; done
grep -q "frontend: serving applications" "$WORK/serve.log" || { echo "serve did not come up: $WORK/serve.log" >&2; exit 1; }
bench() { "$NEXUS" bench --target "127.0.0.1:$PORT" --workload "$FILE" --time-scale "$K" --json "$@"; }
if [ -z "${MAX:-}" ]; then
  bench --rate 100 --duration 10 --warmup 3 --find-max-rate --precision 0.03 > "$WORK/max.json"
  MAX=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["maxRatePerSecond"])' "$WORK/max.json")
fi
RATE=$(/usr/bin/python3 -c "print(round($MAX * $FRACTION, 3))")
# RSS (MB) of the serving process every SAMPLE seconds, with the seconds since the soak started.
( start=$(date +%s); while kill -0 "$serve_pid" 2>/dev/null; do
    awk -v t=$(( $(date +%s) - start )) '/VmRSS/ { printf "%d %.1f\n", t, $2 / 1024 }' "/proc/$serve_pid/status"; sleep "$SAMPLE"
  done ) > "$WORK/rss.txt" & sampler_pid=$!
bench --rate "$RATE" --duration "$SOAK" --warmup 3 > "$WORK/soak.json"
kill "$sampler_pid" 2>/dev/null || true; sampler_pid=""
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
/usr/bin/python3 - "$WORK" "$MAX" "$RATE" "$WARMUP" <<'PY'
import json, sys
work, top, rate, warmup = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
soak = json.load(open(f"{work}/soak.json"))
samples = [tuple(map(float, line.split())) for line in open(f"{work}/rss.txt") if line.strip()]
steady = [rss for t, rss in samples if t >= warmup]
first, last = (steady[0], steady[-1]) if steady else (None, None)
p99 = (soak.get("latency") or {}).get("p99Ms")
slo = soak.get("sloMs")
print(json.dumps({
    "maxRatePerSecond": top, "ratePerSecond": rate, "seconds": soak["durationSeconds"], "sent": soak["sent"],
    "withinSLOFraction": soak["withinSLOFraction"], "unanswered": soak["unanswered"], "errors": soak["errors"],
    "p99Ms": p99, "sloMs": slo, "rssFirstMB": first, "rssLastMB": last, "rssMaxMB": max(steady) if steady else None,
    "rssLastOverFirst": round(last / first, 3) if first else None,
    "goals": {"unanswered0": soak["unanswered"] == 0, "p99WithinSLO": p99 is not None and slo is not None and p99 <= slo,
              "rssFlat10": bool(first) and abs(last / first - 1) <= 0.10},
}))
PY
