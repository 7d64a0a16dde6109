#!/usr/bin/env bash
# Runs OpenTrace on this machine: builds both daemons in release mode, starts them on one
# data directory, prints what an app and an agent need, and stops both on Ctrl-C.
#
#   deploy/run-local.sh [--data DIR] [--ingest-port N] [--query-port N] [--demo]
#                       [--bin-dir DIR] [--demo-rate N]
#
# --demo       also streams sample traffic (several services, SQL, errors, a deploy) through
#              the `loadgen` binary at --demo-rate entries/s (default 20) until stopped.
# --bin-dir    use the binaries in DIR instead of building (opentrace-ingestd,
#              opentrace-queryd, and loadgen for --demo).
# Environment: OPENTRACE_API_KEY (else DATA_DIR/ingest.key, created by ingestd),
#              CARGO_TARGET_DIR (where cargo puts the release build).
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="./data"
ingest_port=8081
query_port=8080
demo=0
demo_rate=20
bin_dir=""

while [ $# -gt 0 ]; do
  case "$1" in
    --data) data_dir="${2:?--data needs a directory}"; shift 2 ;;
    --ingest-port) ingest_port="${2:?--ingest-port needs a port}"; shift 2 ;;
    --query-port) query_port="${2:?--query-port needs a port}"; shift 2 ;;
    --demo) demo=1; shift ;;
    --demo-rate) demo_rate="${2:?--demo-rate needs a number}"; shift 2 ;;
    --bin-dir) bin_dir="${2:?--bin-dir needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-local.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

for p in "$ingest_port" "$query_port"; do
  case "$p" in
    ''|*[!0-9]*) echo "run-local.sh: port $p is not a number" >&2; exit 2 ;;
  esac
done
if [ "$ingest_port" = "$query_port" ]; then
  echo "run-local.sh: ingest and query ports must differ" >&2
  exit 2
fi

if [ -z "$bin_dir" ]; then
  echo "==> building (cargo build --release --bins)" >&2
  (cd "$repo" && cargo build --release --bins)
  bin_dir="${CARGO_TARGET_DIR:-$repo/target}/release"
fi
ingestd="$bin_dir/opentrace-ingestd"
queryd="$bin_dir/opentrace-queryd"
loadgen="$bin_dir/loadgen"
for b in "$ingestd" "$queryd"; do
  [ -x "$b" ] || { echo "run-local.sh: $b not found or not executable" >&2; exit 1; }
done
if [ "$demo" = 1 ] && [ ! -x "$loadgen" ]; then
  echo "run-local.sh: --demo needs $loadgen (cargo build --release -p opentrace-tests --bin loadgen)" >&2
  exit 1
fi

mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
log_dir="$data_dir/run-local"
mkdir -p "$log_dir"

# Background jobs get their own process groups, so Ctrl-C in the terminal reaches only this
# script, which then stops the daemons in order (no double signal).
set -m

ingest_pid=""
query_pid=""
demo_pid=""

stop() { # [exit status to use even if both daemons exit 0]
  trap - INT TERM
  echo >&2
  echo "==> stopping" >&2
  local rc="${1:-0}" st
  if [ -n "$demo_pid" ]; then
    kill -TERM -- "-$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  for pid in "$ingest_pid" "$query_pid"; do
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$ingest_pid" "$query_pid"; do
    [ -n "$pid" ] || continue
    st=0
    wait "$pid" || st=$?
    if [ "$st" != 0 ]; then
      echo "process $pid exited with status $st" >&2
      rc=1
    fi
  done
  echo "==> stopped (logs in $log_dir)" >&2
  exit "$rc"
}
trap stop INT TERM

wait_http() { # url, seconds
  local url="$1" tries=$(( $2 * 10 ))
  while [ "$tries" -gt 0 ]; do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
      return 0
    fi
    tries=$(( tries - 1 ))
    sleep 0.1
  done
  return 1
}

"$ingestd" --data-dir "$data_dir" --addr "127.0.0.1:$ingest_port" \
  >>"$log_dir/ingestd.log" 2>&1 &
ingest_pid=$!
OPENTRACE_PUBLIC_URL="${OPENTRACE_PUBLIC_URL:-http://127.0.0.1:$query_port}" \
  OPENTRACE_INGEST_URL="${OPENTRACE_INGEST_URL:-http://127.0.0.1:$ingest_port}" \
  "$queryd" --data-dir "$data_dir" --listen-addr "127.0.0.1:$query_port" \
  >>"$log_dir/queryd.log" 2>&1 &
query_pid=$!

if ! wait_http "http://127.0.0.1:$ingest_port/healthz" 30; then
  echo "run-local.sh: ingestd did not come up; its log:" >&2
  tail -n 30 "$log_dir/ingestd.log" >&2 || true
  stop 1
fi
if ! wait_http "http://127.0.0.1:$query_port/healthz" 30; then
  echo "run-local.sh: queryd did not come up; its log:" >&2
  tail -n 30 "$log_dir/queryd.log" >&2 || true
  stop 1
fi

if [ -n "${OPENTRACE_API_KEY:-}" ]; then
  api_key="$OPENTRACE_API_KEY"
else
  api_key="$(grep -v '^#' "$data_dir/ingest.key" | grep -m1 . || true)"
fi

cat <<INFO

OpenTrace is running (data in $data_dir, logs in $log_dir)

  Ingest URL (SDKs):  http://127.0.0.1:$ingest_port
  Ingest API key:     $api_key
  MCP URL (agents):   http://127.0.0.1:$query_port/mcp
  Connect an agent:   curl -s http://127.0.0.1:$query_port/connect | bash

Press Ctrl-C to stop both daemons.
INFO

if [ "$demo" = 1 ]; then
  # Realistic sample traffic: 8 services (Node and Ruby shapes, SQL in Ruby requests),
  # 5 % failing requests, and checkout-api deploying a new version after 3000 entries.
  (
    seed=1
    while true; do
      "$loadgen" --url "http://127.0.0.1:$ingest_port" --api-key "$api_key" \
        --seed "$seed" --rate "$demo_rate" --batch 20 --concurrency 1 \
        --duration 10m --max-wall 11m --error-rate 0.05 --sim-rate "$demo_rate" \
        --deploy "checkout-api@3000=v2.$seed.0" --report text \
        >>"$log_dir/loadgen.log" 2>&1 || sleep 1
      seed=$(( seed + 1 ))
    done
  ) &
  demo_pid=$!
  echo "Demo traffic: $demo_rate entries/s (log: $log_dir/loadgen.log)"
fi

# Until Ctrl-C, or until one daemon exits on its own (then stop the other and fail).
while kill -0 "$ingest_pid" 2>/dev/null && kill -0 "$query_pid" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
echo "run-local.sh: a daemon exited unexpectedly; see $log_dir" >&2
stop 1
