#!/usr/bin/env bash
# From a fresh Debian 12 machine that has Swift to a running `nexus serve` answering real requests (libtorch on
# the CPU): installs what is missing, builds, exports a small model repository (RANDOM weights), profiles it,
# serves demo/apps/*.yaml and sends a JPEG through the detect-then-classify tree.
#
#   demo/run.sh [--stop] [REPO_DIR]       REPO_DIR: where the models go (default out/demo-models)
#
# Environment: NEXUS_BUILD=release|debug (default release), DEMO_STOP=1 (same as --stop: stop the server at the
# end, which drains and must exit 0), DEMO_GRPC_PORT (default 8001), DEMO_HTTP_PORT (default 8000),
# DEMO_THREADS (libtorch threads per batch, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

STOP="${DEMO_STOP:-0}"
REPO=out/demo-models
for arg in "$@"; do
  case "$arg" in
    --stop) STOP=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "demo/run.sh: unknown flag $arg" >&2; exit 2 ;;
    *) REPO="$arg" ;;
  esac
done
BUILD="${NEXUS_BUILD:-release}"
GRPC_PORT="${DEMO_GRPC_PORT:-8001}"
HTTP_PORT="${DEMO_HTTP_PORT:-8000}"
# libtorch threads per batch, the same for profiling and serving (the planner trusts the profile). 1 by default:
# on a small shared machine, threads that contend for cores make latencies (and so the plan) erratic.
THREADS="${DEMO_THREADS:-1}"
OUT=out/demo
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }
start_time=$SECONDS

# --- 1. Packages. libtorch-dev + python3-torch/torchvision: real models on the CPU (PyTorch from Debian, also
# used to export them); libturbojpeg0: the server decodes JPEGs with it; g++: builds native/; python3-venv/pip:
# a venv with tritonclient for the example client; curl: readiness polling and the HTTP examples.
step "packages"
command -v swift >/dev/null || { echo "demo/run.sh: swift is not on PATH (install Swift 6.3 first)" >&2; exit 1; }
PACKAGES=(g++ libtorch-dev python3-torch python3-torchvision libturbojpeg0 python3-venv python3-pip python3-numpy
  python3-pil curl ca-certificates)
missing=()
for pkg in "${PACKAGES[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "demo/run.sh: missing Debian packages: ${missing[*]}. Install them as root, then run demo/run.sh again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "all present: ${PACKAGES[*]}"
fi
# Debian's pip refuses to install into the system Python (PEP 668), so tritonclient goes into a venv that
# still sees Debian's numpy (the same venv the README's tests use).
[ -x .venv-test/bin/python ] || /usr/bin/python3 -m venv --system-site-packages .venv-test
.venv-test/bin/python -c 'import tritonclient.grpc, tritonclient.http' 2>/dev/null ||
  .venv-test/bin/pip install -q 'tritonclient[grpc,http]'

# --- 2. Build: the C ABI over libtorch (only when its sources changed), then nexus (swift build is incremental).
step "build ($BUILD)"
if [ ! native/build/libnexus_torch.so -nt native/nexus_torch.cpp ] || [ native/nexus_torch.h -nt native/build/libnexus_torch.so ]; then
  native/build.sh
else
  echo "native/build/libnexus_torch.so is up to date"
fi
case "$BUILD" in
  release) swift build -c release --product nexus ;;
  debug) swift build --product nexus ;;
  *) echo "demo/run.sh: NEXUS_BUILD must be release or debug, not $BUILD" >&2; exit 2 ;;
esac
NEXUS=".build/$BUILD/nexus"

# --- 3. Models: tiny_cnn, and tiny_detector whose crops feed tiny_cars and tiny_faces, two heads on tiny_trunk.
step "export the demo models into $REPO"
echo "NOTE: random weights: answers are not meaningful (no pretrained weights are downloaded); shapes, costs"
echo "      and the serving path are those of real TorchScript models run by libtorch."
/usr/bin/python3 python/export_models.py --repo "$REPO" --set demo --reference 0

# --- 4. Profiles: the planner sizes batches and backends from <repo>/<model>/profiles/cpu.csv (nexus profile
# writes there by default). A few batch sizes and runs: enough for a plan, seconds per model.
step "profile on the CPU"
for dir in "$REPO"/*/; do
  model="$(basename "$dir")"
  [ -f "$dir/model.yaml" ] || continue
  "$NEXUS" profile --repo "$REPO" --model "$model" --device cpu --threads "$THREADS" \
    --batches 1 2 4 8 --runs 10 --warmup 2 > /dev/null
  echo "$model: $(grep -c "^$model," "$dir/profiles/cpu.csv") batch sizes -> ${dir}profiles/cpu.csv"
done

# --- 5. Serve demo/apps/*.yaml on libtorch (CPU) in the background, then wait until both applications are ready.
step "serve"
"$NEXUS" serve --repo "$REPO" --apps demo/apps --device cpu --threads "$THREADS" --profile cpu \
  --listen "127.0.0.1:$GRPC_PORT" --http-listen "127.0.0.1:$HTTP_PORT" > "$OUT/serve.log" 2>&1 &
SERVE_PID=$!
# Stop the server if this script fails before the end (a left-over server would hold the ports).
trap 'kill $SERVE_PID 2>/dev/null || true' EXIT
ready=0
for _ in $(seq 300); do   # at most ~60 s: the first plan has to reach the frontend
  kill -0 "$SERVE_PID" 2>/dev/null || break
  if curl -sf "127.0.0.1:$HTTP_PORT/v2/models/detect_and_classify/ready" > /dev/null &&
     curl -sf "127.0.0.1:$HTTP_PORT/v2/models/classify/ready" > /dev/null; then ready=1; break; fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "demo/run.sh: nexus serve did not become ready; the end of $OUT/serve.log:" >&2
  tail -n 30 "$OUT/serve.log" >&2
  exit 1
fi
echo "nexus serve (pid $SERVE_PID) is ready: gRPC 127.0.0.1:$GRPC_PORT, HTTP 127.0.0.1:$HTTP_PORT, log $OUT/serve.log"
head -n 1 "$OUT/serve.log"
grep "scheduler: plan" "$OUT/serve.log" | tail -n 1   # where the planner put each model, its budget and batch

# --- 6. Requests: a generated 320x240 frame as JPEG through the tree (the detector's model.yaml has preprocess,
# so it takes a JPEG of any size; its boxes are cropped from the frame for tiny_cars), and a tensor to classify.
step "requests"
/usr/bin/python3 - "$OUT/frame.jpg" <<'EOF'
import sys
import numpy as np
from PIL import Image
y, x = np.mgrid[0:240, 0:320]
frame = np.stack([x * 255 // 319, y * 255 // 239, (x + y) * 255 // 558], axis=-1).astype(np.uint8)
frame[60:180, 100:220] = [200, 40, 40]  # a block, so the picture has something in it
Image.fromarray(frame, "RGB").save(sys.argv[1], quality=90)
EOF
echo "The tree's metadata lists the detector's FP32 tensor; its preprocess also takes a JPEG (BYTES [1]), sent here:"
.venv-test/bin/python python/client_example.py --url "127.0.0.1:$GRPC_PORT" --app detect_and_classify \
  --image "$OUT/frame.jpg" --values 5
echo
.venv-test/bin/python python/client_example.py --url "127.0.0.1:$GRPC_PORT" --app classify --values 5
echo
echo "HTTP: curl 127.0.0.1:$HTTP_PORT/v2/models/classify"
curl -sf "127.0.0.1:$HTTP_PORT/v2/models/classify"; echo

step "done in $((SECONDS - start_time)) s (random weights: answers are not meaningful)"
cat <<EOF
Next, while nexus serve runs (pid $SERVE_PID, log $OUT/serve.log; demo/run.sh without --stop leaves it running):
  curl 127.0.0.1:$HTTP_PORT/v2/health/ready -i                        # readiness (HTTP/REST, KServe v2)
  curl 127.0.0.1:$HTTP_PORT/v2/models/detect_and_classify             # inputs and outputs
  python3 -c 'import json; print(json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 32, 32], "data": [0.5] * 3072}]}))' |
    curl -s -X POST --data-binary @- 127.0.0.1:$HTTP_PORT/v2/models/classify/infer   # JSON inference over HTTP
  curl 127.0.0.1:$HTTP_PORT/v2/models/detect_and_classify/stats       # statistics: counts, queue and compute times
  .venv-test/bin/python python/client_example.py --url 127.0.0.1:$GRPC_PORT --app detect_and_classify --image $OUT/frame.jpg --stream --count 5
  $NEXUS bench --target 127.0.0.1:$GRPC_PORT --app detect_and_classify --image $OUT/frame.jpg --rate 50 --duration 5
  .venv-test/bin/python -c 'import tritonclient.http as h; print(h.InferenceServerClient("127.0.0.1:$HTTP_PORT").get_model_metadata("classify"))'
  perf_analyzer -m classify -u 127.0.0.1:$GRPC_PORT -i grpc   # Triton's perf_analyzer, if installed (tools/perf_analyzer_check.sh)
  kill $SERVE_PID                                                      # stops it: drains, then exits 0
EOF
if [ "$STOP" = 1 ]; then
  kill "$SERVE_PID"          # SIGTERM: the server drains (answers what is in flight) and exits 0
  status=0; wait "$SERVE_PID" || status=$?
  trap - EXIT
  [ "$status" = 0 ] || { echo "demo/run.sh: nexus serve exited $status" >&2; exit 1; }
  grep "drained in" "$OUT/serve.log" || { echo "demo/run.sh: no 'drained in' in $OUT/serve.log" >&2; exit 1; }
  echo "nexus serve stopped (drained, exit 0)"
  exit 0
fi
trap - EXIT   # leave it running
echo "nexus serve keeps running: pid $SERVE_PID"
