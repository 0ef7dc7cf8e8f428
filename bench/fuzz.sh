#!/usr/bin/env bash
# The long fuzz run of issue 11: the seeded fuzz tests (request checks, JPEG decoding, workload and
# application YAML, profile CSV) with NEXUS_FUZZ_ITERATIONS inputs shared out by each target's weight, then
# the sum of what each test really ran. Any failure names the seed and the input that reproduce it.
# Usage: bench/fuzz.sh [ITERATIONS=1200000] [SEED=24301]   (the debug build: swift build --build-tests)
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS=${1:-1200000}; SEED=${2:-24301}
REPORT=$(mktemp /tmp/nexus-fuzz.XXXXXX)
trap 'rm -f "$REPORT"' EXIT
start=$(date +%s)
NEXUS_FUZZ_ITERATIONS=$ITERATIONS NEXUS_FUZZ_SEED=$SEED NEXUS_FUZZ_REPORT=$REPORT \
  swift test --skip-build --filter 'FuzzTests' 2>&1 | grep -E "error|failed|passed|skipped|Executed" | tail -20
elapsed=$(( $(date +%s) - start ))
total=$(awk '{ s += $2 } END { print s + 0 }' "$REPORT")
echo "fuzz: seed $SEED, $total inputs in ${elapsed}s:"
sort "$REPORT" | sed 's/^/  /'
