#!/usr/bin/env bash
# The long randomised-client run of issue 11: nexus serve (SIMULATED device, the CI model set) on 127.0.0.1
# taking python/fuzz_client.py's valid, invalid and garbage requests; the server must stay up, answer no
# invalid request OK, and bound and field-name every error. Prints the client's JSON summary.
# Usage: bench/fuzz_client.sh [COUNT=100000] [SEED=1]   (needs .venv-test; env REPO=out/test-models APP=tiny_cnn
# PROFILE=cpu: a repository whose APP has profiles/PROFILE.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}; SEED=${2:-1}; PORT=${PORT:-8411}
NEXUS=${NEXUS_BIN:-.build/debug/nexus}
REPO=${REPO:-out/test-models}; APP=${APP:-tiny_cnn}; PROFILE=${PROFILE:-cpu}
mkdir -p out
"$NEXUS" serve --repo "$REPO" --profile "$PROFILE" --listen 127.0.0.1:$PORT --device simulated > out/fuzz-serve.log 2>&1 &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
for _ in $(seq 150); do grep -q "frontend: serving applications" out/fuzz-serve.log && break; sleep 0.2; done
.venv-test/bin/python python/fuzz_client.py --url 127.0.0.1:$PORT --app "$APP" --count "$COUNT" --seed "$SEED"
kill -0 $SERVE_PID   # still running
kill $SERVE_PID
wait $SERVE_PID      # drains and exits 0
