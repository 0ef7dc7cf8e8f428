# Multi-host test bed: each Nexus process in its own network namespace, joined by veth pairs to a bridge that
# lives in a namespace of its own (nothing is added to the host's network), on 198.18.0.0/24 only (RFC 2544's
# benchmarking range). A link can be set down and up to partition a host. Source it; see README.md.
#   hosts_setup; hosts_start_cluster; ... ; (trap runs hosts_cleanup)
set -euo pipefail

TB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NEXUS_BIN=${NEXUS_BIN:-$TB_ROOT/.build/debug/nexus}
TB_ID=${TB_ID:-nx$$}                 # namespace prefix: one test bed per process, never clashing
TB_DIR=${TB_DIR:-$(mktemp -d /tmp/nexus-hosts.XXXXXX)}
TB_SWITCH=$TB_ID-sw
declare -A TB_ADDR=([scheduler]=198.18.0.1 [backend1]=198.18.0.11 [backend2]=198.18.0.12 [frontend]=198.18.0.21 [client]=198.18.0.31)
declare -A TB_PID=()
SCHEDULER=198.18.0.1:8100
FRONTEND=198.18.0.21:8001
TB_APP=tb

# Exits 77 (skipped) with the reason when this machine cannot run the test bed.
hosts_require() {
  if [ "$(id -u)" != 0 ]; then echo "tests/hosts: skipped: needs root (network namespaces)" >&2; exit 77; fi
  if ! ip netns list >/dev/null 2>&1; then echo "tests/hosts: skipped: 'ip netns' is unavailable" >&2; exit 77; fi
  [ -x "$NEXUS_BIN" ] || { echo "tests/hosts: $NEXUS_BIN not built" >&2; exit 1; }
}

# The switch namespace with its bridge, and one namespace per host with eth0 on the bridge.
hosts_setup() {
  ip netns add "$TB_SWITCH"
  ip -n "$TB_SWITCH" link add br0 type bridge
  ip -n "$TB_SWITCH" link set br0 up
  for host in "${!TB_ADDR[@]}"; do
    local ns=$TB_ID-$host
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$TB_SWITCH" link add "p-$host" type veth peer name eth0 netns "$ns"
    ip -n "$TB_SWITCH" link set "p-$host" master br0 up
    ip -n "$ns" addr add "${TB_ADDR[$host]}/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  hosts_repository "$TB_DIR/repo"
}

# A model repository for the SIMULATED backends: one model 'tb' (FP32 [1]) whose batch of b takes 2 + 0.1 b
# ms, so one backend serves 300 req/s alone and the other is idle until it is needed.
hosts_repository() {
  mkdir -p "$1/tb/profiles"
  : > "$1/tb/model.pt"
  printf '%s\n' "name: tb" "file: model.pt" "input: {name: input, dtype: FP32, shape: [1]}" "maxBatch: 64" \
    "outputs:" "  - {name: output, dtype: FP32, shape: [1]}" > "$1/tb/model.yaml"
  {
    echo "model,input,batch,eager_median_ms,graph_median_ms,graph_p99_ms,peak_mem_mb,device"
    for b in 1 2 4 8 16 32 64; do
      awk -v b="$b" 'BEGIN { l = 2 + 0.1 * b; printf "tb,1,%d,%.4f,%.4f,%.4f,100,simulated\n", b, l, l, l }'
    done
  } > "$1/tb/profiles/sim.csv"
}

# hosts_run HOST NAME ARGS...: starts `nexus ARGS` in HOST's namespace, log in $TB_DIR/NAME.log.
hosts_run() {
  local host=$1 name=$2; shift 2
  ip netns exec "$TB_ID-$host" "$NEXUS_BIN" "$@" >>"$TB_DIR/$name.log" 2>&1 &
  TB_PID[$name]=$!
}

# hosts_in HOST CMD...: runs a command in HOST's namespace and waits for it.
hosts_in() { local host=$1; shift; ip netns exec "$TB_ID-$host" "$@"; }

# hosts_poll SECONDS WHAT CMD...: runs CMD every 0.2 s until it succeeds; fails naming WHAT after SECONDS.
hosts_poll() {
  local seconds=$1 what=$2; shift 2
  local tries=$((seconds * 5))
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "tests/hosts: timed out after ${seconds}s waiting for $what" >&2
  return 1
}

hosts_status() { hosts_in client "$NEXUS_BIN" cluster-status --scheduler "$SCHEDULER" --json; }

# Succeeds when the scheduler lists the backend at ADDRESS alive.
hosts_backend_alive() {
  hosts_status | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if any(n["address"].startswith(sys.argv[1]+":") and n["alive"] for n in r["nodes"]) else 1)' "$1"
}

# Succeeds when some route sends work to the backend at ADDRESS.
hosts_backend_routed() {
  hosts_status | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if any(t["address"].startswith(sys.argv[1]+":") and t["ratePerSecond"] > 0 for ts in r["routes"].values() for t in ts) else 1)' "$1"
}

# A short bench whose every request is answered OK.
hosts_serving() {
  hosts_in client "$NEXUS_BIN" bench --target "$FRONTEND" --app "$TB_APP" --rate 20 --duration 0.5 --warmup 0 --json |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r["sent"] > 0 and r["completedOK"] == r["sent"] else 1)'
}

# TB_POLICY (nexus or nexus-next) selects the servers' policy: nexus-next plans the idle backend as a second
# replica of the session (it fills the cluster), so a failed call has somewhere to go at once.
TB_POLICY=${TB_POLICY:-nexus}

hosts_start_scheduler() {
  hosts_run scheduler scheduler scheduler --listen "$SCHEDULER" --repo "$TB_DIR/repo" --profile sim --policy "$TB_POLICY" "$@"
}

# Scheduler, backend1 (registered first, so it takes the load), backend2, frontend; returns once requests
# are answered OK.
hosts_start_cluster() {
  hosts_start_scheduler
  hosts_poll 60 "the scheduler" hosts_status
  hosts_run backend1 backend1 backend --scheduler "$SCHEDULER" --listen 198.18.0.11:8200 --repo "$TB_DIR/repo" --device simulated --profile sim --policy "$TB_POLICY"
  hosts_poll 60 "backend1 alive" hosts_backend_alive 198.18.0.11
  hosts_run backend2 backend2 backend --scheduler "$SCHEDULER" --listen 198.18.0.12:8200 --repo "$TB_DIR/repo" --device simulated --profile sim --policy "$TB_POLICY"
  hosts_poll 60 "backend2 alive" hosts_backend_alive 198.18.0.12
  hosts_run frontend frontend frontend --scheduler "$SCHEDULER" --listen "$FRONTEND"
  hosts_poll 90 "requests answered OK" hosts_serving
}

# hosts_bench OUT RATE SECONDS: the load, in the background (pid in TB_BENCH_PID), JSON in OUT.
hosts_bench() {
  hosts_in client "$NEXUS_BIN" bench --target "$FRONTEND" --app "$TB_APP" --rate "$2" --duration "$3" --warmup 2 \
    --json > "$1" 2>"$TB_DIR/bench.log" &
  TB_BENCH_PID=$!
}

# Link down / up between HOST and the bridge: a partition the processes cannot tell from a dead network.
hosts_link() { ip -n "$TB_SWITCH" link set "p-$1" "$2"; }

# Kills what it started (by pid) and deletes its namespaces; the veth pairs go with them.
hosts_cleanup() {
  local pid
  for pid in "${TB_PID[@]}" ${TB_BENCH_PID:-}; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${TB_PID[@]}" ${TB_BENCH_PID:-}; do wait "$pid" 2>/dev/null || true; done
  for host in "${!TB_ADDR[@]}"; do ip netns del "$TB_ID-$host" 2>/dev/null || true; done
  ip netns del "$TB_SWITCH" 2>/dev/null || true
  if [ "${TB_KEEP:-0}" = 1 ]; then echo "tests/hosts: logs kept in $TB_DIR" >&2; else rm -rf "$TB_DIR"; fi
}

# hosts_summary SCENARIO BENCH_JSON EXTRA_JSON: one JSON line with the bench's counts, % failed and the
# outage, merged with EXTRA_JSON (the scenario's own facts and its goals' verdict).
hosts_summary() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
name, path, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
r = json.load(open(path))
failed = sum(r["errors"].values()) + r["unanswered"] + r["notSent"]
scheduled = r["sent"] + r["notSent"]
summary = {"scenario": name, "ratePerSecond": r["ratePerSecond"], "durationSeconds": r["durationSeconds"],
           "scheduled": scheduled, "ok": r["completedOK"], "failed": failed,
           "failedPercent": round(100.0 * failed / max(1, scheduled), 3), "errors": r["errors"],
           "unanswered": r["unanswered"], "outageMs": r.get("longestGapWithoutOKMs"),
           "p99Ms": (r.get("latency") or {}).get("p99Ms")}
summary.update(extra)
print(json.dumps(summary, sort_keys=True))
PY
}
