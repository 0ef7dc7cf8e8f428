#!/usr/bin/env bash
# gRPC vs HTTP cost per request on the null model (issue 10): `nexus serve --repo out/test-models --device
# simulated` (noop: identity on 16 floats, profile ~0.008 ms, SLO 200 ms) driven by Triton's perf_analyzer,
# unchanged, at constant RATES, the two protocols alternated ROUNDS times against one server. Prints one line per
# run: protocol rate round throughput p50_us p99_us server_avg_us (client-side latency percentiles; the server's
# own time per request from its statistics).
# Usage: bench/protocols.sh   (env: RATES="100 1000" ROUNDS=2 WINDOW_MS=3000 NEXUS_BIN=.build/release/nexus
#        PA_CHROOT=/tmp/pa-trixie; perf_analyzer runs in that Debian 13 chroot, tools/perf_analyzer_chroot.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${NEXUS_BIN:-.build/release/nexus}
CHROOT=${PA_CHROOT:-/tmp/pa-trixie}
RATES=${RATES:-100 1000}; ROUNDS=${ROUNDS:-2}; WINDOW_MS=${WINDOW_MS:-3000}
[ -x "$CHROOT/usr/local/bin/perf_analyzer" ] || tools/perf_analyzer_chroot.sh "$CHROOT" > /dev/null
WORK=$(mktemp -d)
"$NEXUS" serve --repo out/test-models --device simulated --listen 127.0.0.1:8051 --http-listen 127.0.0.1:8052 \
  --beacon-ms 500 > "$WORK/serve.log" 2>&1 & serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; wait 2>/dev/null || true' EXIT
for _ in $(seq 150); do curl -sf 127.0.0.1:8052/v2/models/noop/ready > /dev/null && break; sleep 0.2; done
echo "protocol rate round throughput p50_us p99_us server_avg_us"
for rate in $RATES; do
  for round in $(seq "$ROUNDS"); do
    for protocol in grpc http; do
      url=127.0.0.1:8051; [ $protocol = http ] && url=127.0.0.1:8052
      chroot "$CHROOT" /usr/local/bin/perf_analyzer -m noop -u "$url" -i $protocol --request-rate-range="$rate" \
        --request-distribution=constant --measurement-interval "$WINDOW_MS" --percentile=99 > "$WORK/pa.txt" 2>&1 ||
        { cat "$WORK/pa.txt"; exit 1; }
      /usr/bin/python3 - "$WORK/pa.txt" "$protocol" "$rate" "$round" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.rfind("inference requests per second")
block = text[start:] if start >= 0 else text
def grab(pattern):
    found = re.findall(pattern, block)
    return found[-1] if found else "?"
print(sys.argv[2], sys.argv[3], sys.argv[4], grab(r"Throughput: ([0-9.]+) infer/sec"), grab(r"p50 latency: ([0-9]+) usec"),
      grab(r"p99 latency: ([0-9]+) usec"), grab(r"Avg request latency: ([0-9]+) usec"))
PY
    done
  done
done
