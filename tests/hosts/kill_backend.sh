#!/usr/bin/env bash
# Scenario (a), issue 11: SIGKILL of the serving backend under load. Prints one JSON line: % failed and the
# outage (longest stretch without an OK answer); goals <= 1% failed and <= 500 ms, with default flags.
#   tests/hosts/kill_backend.sh [RATE=300] [SECONDS=20]
source "$(dirname "$0")/lib.sh"
RATE=${1:-300}; SECONDS_RUN=${2:-20}
hosts_require
trap hosts_cleanup EXIT
hosts_setup
hosts_start_cluster
hosts_backend_routed 198.18.0.11 || { echo "kill_backend: backend1 does not serve; nothing to fail over" >&2; exit 1; }
hosts_bench "$TB_DIR/bench.json" "$RATE" "$SECONDS_RUN"
sleep $((2 + SECONDS_RUN / 2))   # the fault's place in the run (warm-up 2 s, then half the measured time)
kill -9 "${TB_PID[backend1]}"
wait "$TB_BENCH_PID" || true
replanned=false; hosts_backend_routed 198.18.0.12 && replanned=true
summary=$(hosts_summary kill_backend "$TB_DIR/bench.json" "{\"backend2Routed\": $replanned}")
echo "$summary"
/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["failedPercent"] <= 1 and (s["outageMs"] or 1e9) <= 500 else 3)' "$summary"
