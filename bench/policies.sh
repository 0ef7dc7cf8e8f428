#!/usr/bin/env bash
# Issue 13: every policy side by side in the simulator, one run per cell, same seeds. For each workload (game,
# traffic in its normal and rush-hour phases, mixed) and arrival process (Poisson, Gamma CV 2, trace-like):
#   maxrate-W-A.json   `nexus simulate --find-max-rate` on GPUS GPUs (with the capacity bound)
#   mingpus-W-A.json   `nexus simulate --find-min-gpus` at the workload's declared rate (mixed: MIXED_RATE)
# then prints the summary table (python/policy_summary.py). All figures are SIMULATED.
# Usage: bench/policies.sh [OUT_DIR]   (env: NEXUS_BIN=.build/release/nexus GPUS=16 DURATION=30 PRECISION=0.01
#        POLICIES="nexus symphony-like shepherd-like triton-deployed nexus-central nexus-next" ARRIVALS="poisson bursty trace"
#        CELLS="game traffic:normal traffic:rush-hour mixed" MIN_GPUS=1 MIXED_RATE=60000)
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
OUT=${1:-out/policies}
GPUS=${GPUS:-16}; DURATION=${DURATION:-30}; PRECISION=${PRECISION:-0.01}
POLICIES=${POLICIES:-nexus symphony-like shepherd-like triton-deployed nexus-central nexus-next}
ARRIVALS=${ARRIVALS:-poisson bursty trace}
CELLS=${CELLS:-game traffic:normal traffic:rush-hour mixed}
MIN_GPUS=${MIN_GPUS:-1}; MIXED_RATE=${MIXED_RATE:-60000}
mkdir -p "$OUT"
policy_flags=(); for p in $POLICIES; do policy_flags+=(--policy "$p"); done
for cell in $CELLS; do
  workload=${cell%%:*}; phase=""; [ "$cell" != "$workload" ] && phase=${cell#*:}
  name=$workload${phase:+-$phase}
  common=(--workload "data/workloads/$workload.yaml" --duration "$DURATION" --json "${policy_flags[@]}")
  [ -n "$phase" ] && common+=(--phase "$phase")
  [ "$workload" = mixed ] && common+=(--phase 0)
  for arrival in $ARRIVALS; do
    "$NEXUS" simulate "${common[@]}" --arrival "$arrival" --cv 2 --gpus "$GPUS" --find-max-rate --precision "$PRECISION" \
      > "$OUT/maxrate-$name-$arrival.json"
    if [ "$MIN_GPUS" = 1 ]; then
      rate=(); [ "$workload" = mixed ] && rate=(--rate "$MIXED_RATE")
      "$NEXUS" simulate "${common[@]}" "${rate[@]}" --arrival "$arrival" --cv 2 --find-min-gpus > "$OUT/mingpus-$name-$arrival.json"
    fi
    echo "$name $arrival: done" >&2
  done
done
python3 python/policy_summary.py "$OUT"
