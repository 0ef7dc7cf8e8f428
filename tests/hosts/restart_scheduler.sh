#!/usr/bin/env bash
# Scenario (c), issue 11: SIGKILL of the scheduler under load, restarted DOWN seconds later at the same
# address. Prints one JSON line; goal: 0 failed, and both backends registered with the new scheduler.
#   tests/hosts/restart_scheduler.sh [RATE=300] [SECONDS=20] [DOWN=2]
source "$(dirname "$0")/lib.sh"
RATE=${1:-300}; SECONDS_RUN=${2:-20}; DOWN=${3:-2}
hosts_require
trap hosts_cleanup EXIT
hosts_setup
hosts_start_cluster
hosts_bench "$TB_DIR/bench.json" "$RATE" "$SECONDS_RUN"
sleep $((2 + SECONDS_RUN / 4))   # the fault's place in the run
kill -9 "${TB_PID[scheduler]}"
sleep "$DOWN"                    # how long the scheduler stays down is the experiment
hosts_start_scheduler
registered=false
both_alive() { hosts_backend_alive 198.18.0.11 && hosts_backend_alive 198.18.0.12; }
hosts_poll 60 "both backends alive at the new scheduler" both_alive && registered=true
wait "$TB_BENCH_PID" || true
summary=$(hosts_summary restart_scheduler "$TB_DIR/bench.json" "{\"downSeconds\": $DOWN, \"reregistered\": $registered}")
echo "$summary"
/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s["failed"] == 0 and s["reregistered"] else 3)' "$summary"
