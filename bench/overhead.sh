#!/usr/bin/env bash
# Engine overhead (issue 4): a scheduler, one SIMULATED backend and one frontend as separate processes on
# 127.0.0.1 serving `noop` (identity on 16 floats, profile ~0.008 ms) as a one-stage app with a 100 ms SLO,
# loaded by `nexus bench` from the same machine. Usage:
#   bench/overhead.sh [BENCH ARGS...]     e.g. bench/overhead.sh --rate 1000 --duration 5 --stream
# Needs a release build (swift build -c release --product nexus) and out/test-models with noop profiled:
#   /usr/bin/python3 python/export_models.py --repo out/test-models --set ci
#   .build/release/nexus profile --repo out/test-models --model noop --device cpu --threads 1 --batches 1 2 4 8 16 32 64 128 256
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
REPO=${NEXUS_TEST_REPO:-out/test-models}
WORK=$(mktemp -d)
mkdir -p "$WORK/apps"
printf 'name: noop\nlatencySLOMs: 100\nstages:\n  - {name: noop, model: noop}\n' > "$WORK/apps/noop.yaml"
# NEXUS_METRICS=1: every process also serves Prometheus metrics (--metrics-listen 127.0.0.1:9464..9466), to
# measure what recording them costs.
metrics() { if [ -n "${NEXUS_METRICS:-}" ]; then echo "--metrics-listen 127.0.0.1:$1"; fi; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
"$NEXUS" scheduler --listen 127.0.0.1:8100 --repo "$REPO" --apps "$WORK/apps" --profile cpu --beacon-ms 1000 $(metrics 9464) > "$WORK/scheduler.log" 2>&1 & pids+=($!)
"$NEXUS" backend --scheduler 127.0.0.1:8100 --listen 127.0.0.1:8200 --repo "$REPO" --device simulated --profile cpu $(metrics 9465) > "$WORK/backend.log" 2>&1 & pids+=($!)
"$NEXUS" frontend --scheduler 127.0.0.1:8100 --listen 127.0.0.1:8001 $(metrics 9466) > "$WORK/frontend.log" 2>&1 & pids+=($!)
# Ready when the frontend has routes for noop (its log says so); the bench's own probe then checks liveness.
for _ in $(seq 200); do grep -q "routes version .*noop" "$WORK/frontend.log" 2>/dev/null && break; sleep 0.1; done
grep -q "routes version .*noop" "$WORK/frontend.log" || { echo "cluster did not come up; logs in $WORK" >&2; cat "$WORK"/*.log >&2; exit 1; }
"$NEXUS" bench --target 127.0.0.1:8001 --app noop "$@"
