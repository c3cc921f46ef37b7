#!/usr/bin/env bash
# Throughput and latency of an authenticated `GET /api/v1/connection` against `GET /healthz`,
# on the same server in the same run, reported as a ratio (issue: foundation benchmark).
#
#   bench/auth_vs_healthz.sh [DURATION_SECONDS] [CONNECTIONS] [THREADS]
#
# Needs `wrk` (Debian package) and a release build (this script builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
conns="${2:-32}"
threads="${3:-2}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

cargo build --release -p millwright >/dev/null
bin=target/release/millwright
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sim_port="$(pick_port)"
api_port="$(pick_port)"
export MILLWRIGHT_DATA_DIR="$work" MILLWRIGHT_RATE_LIMIT_PER_MINUTE=0 MILLWRIGHT_LOG=warn

"$bin" sim maintainx --listen "127.0.0.1:$sim_port" >/dev/null 2>&1 &
"$bin" serve --listen "127.0.0.1:$api_port" >"$work/server.log" 2>&1 &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null && break; sleep 0.1; done

ws_json="$("$bin" workspace create --name bench)"
key="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret_key"])' "$ws_json")"
token="$(curl -sf -X POST "http://127.0.0.1:$api_port/api/v1/connections" \
  -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d "{\"connector\":\"maintainx\",\"name\":\"bench\",\"credentials\":{\"base_url\":\"http://127.0.0.1:$sim_port\",\"api_key\":\"sim-maintainx-key\"}}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

cat >"$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA

run() { # label url [script]
  local out
  out="$(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency ${3:+-s "$3"} "$2")"
  local rps p50 p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  local non2xx
  non2xx="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  echo "$1 $rps $p50 $p99 ${non2xx:-0}"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%Y-%m-%dT%H:%MZ)"
echo "wrk -t$threads -c$conns -d${duration}s; rate limiting off; SQLite"
curl -sf "http://127.0.0.1:$api_port/healthz" >/dev/null
h="$(run healthz "http://127.0.0.1:$api_port/healthz")"
a="$(run connection "http://127.0.0.1:$api_port/api/v1/connection" "$work/auth.lua")"
printf '%-12s %12s %10s %10s %8s\n' route req/s p50 p99 non-2xx
printf '%-12s %12s %10s %10s %8s\n' $h
printf '%-12s %12s %10s %10s %8s\n' $a
python3 - "$h" "$a" <<'PY'
import sys
h = float(sys.argv[1].split()[1]); a = float(sys.argv[2].split()[1])
print(f"ratio connection/healthz throughput: {a/h:.2f}")
PY
