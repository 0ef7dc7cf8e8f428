#!/usr/bin/env bash
# Triton's perf_analyzer, unchanged and without -x, against a running `nexus serve`: gRPC (sync, async,
# streaming) and HTTP (sync, async), a short run each at concurrency 1 and 2. Fails when any run fails (a
# rejected answer, a failed request, or no server-side statistics). perf_analyzer needs glibc 2.38: it runs in
# a Debian 13 chroot (tools/perf_analyzer_chroot.sh builds it; it shares loopback with the host).
#   tools/perf_analyzer_check.sh GRPC_HOST:PORT HTTP_HOST:PORT APP [OUT_DIR]
set -euo pipefail
GRPC=$1 HTTP=$2 APP=$3 OUT=${4:-out/perf_analyzer}
CHROOT=${PA_CHROOT:-/tmp/pa-trixie}
cd "$(dirname "$0")/.."
[ -x "$CHROOT/usr/local/bin/perf_analyzer" ] || tools/perf_analyzer_chroot.sh "$CHROOT" > /dev/null
mkdir -p "$OUT"
run() {   # NAME URL FLAGS...
  local name=$1 url=$2; shift 2
  # --stability-percentage 999: every window counts as stable, so the run is short and bounded (3 windows).
  if ! chroot "$CHROOT" /usr/local/bin/perf_analyzer -m "$APP" -u "$url" "$@" --concurrency-range 1:2 \
      --measurement-interval 1000 --stability-percentage 999 --max-trials 3 > "$OUT/$name.txt" 2>&1; then
    cat "$OUT/$name.txt"; echo "perf_analyzer $name failed" >&2; return 1
  fi
  grep -q "Server:" "$OUT/$name.txt" || { cat "$OUT/$name.txt"; echo "perf_analyzer $name: no server-side statistics" >&2; return 1; }
  echo "perf_analyzer $name: $(grep -E '^Concurrency: 2' "$OUT/$name.txt")"
}
run grpc-sync "$GRPC" -i grpc
run grpc-async "$GRPC" -i grpc --async
run grpc-streaming "$GRPC" -i grpc --streaming
run http-sync "$HTTP" -i http
run http-async "$HTTP" -i http --async
