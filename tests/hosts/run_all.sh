#!/usr/bin/env bash
# The three fault scenarios of issue 11 in turn, at RATE req/s for SECONDS each (CI: short); one JSON line
# per scenario on stdout. Exits 77 when the machine cannot run them (not root, no `ip netns`), 0 when every
# goal held, else the number of scenarios that missed theirs.
#   tests/hosts/run_all.sh [RATE=300] [SECONDS=20]
cd "$(dirname "$0")"
RATE=${1:-300}; SECONDS_RUN=${2:-20}
missed=0
for scenario in "kill_backend.sh $RATE $SECONDS_RUN" "partition_backend.sh $RATE $((SECONDS_RUN + 10)) 10" \
                "restart_scheduler.sh $RATE $SECONDS_RUN"; do
  # shellcheck disable=SC2086
  ./$scenario
  status=$?
  [ $status = 77 ] && exit 77
  [ $status = 0 ] || { echo "tests/hosts: $scenario missed its goal (status $status)" >&2; missed=$((missed + 1)); }
done
exit $missed
