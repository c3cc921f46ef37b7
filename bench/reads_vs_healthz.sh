#!/usr/bin/env bash
# Throughput and p99 of the unified reads `GET /api/v1/work-orders?page_size=100` and
# `GET /api/v1/work-orders/{id}` against `GET /healthz`, on the same server in the same run,
# reported as ratios (issue 4 benchmark). The three routes are measured in turn, ROUNDS times
# (healthz, list, get, healthz, list, get, ...), so that a change in the background load hits
# all three alike; medians per route are reported.
#
#   bench/reads_vs_healthz.sh [DURATION_SECONDS] [CONNECTIONS] [THREADS] [ROUNDS] [SCALE]
#
# The MaintainX simulator serves SCALE work orders (default 5000); the connection syncs them
# all (history 3650 days) before anything is measured. SQLite; rate limiting off; request
# logging on, as in production. Needs `wrk` (Debian package) and a release build (this script
# builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
conns="${2:-32}"
threads="${3:-2}"
rounds="${4:-2}"
scale="${5:-5000}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

cargo build --release -p millwright >/dev/null
bin=target/release/millwright
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sim_port="$(pick_port)"
api_port="$(pick_port)"
api="http://127.0.0.1:$api_port"
export MILLWRIGHT_DATA_DIR="$work" MILLWRIGHT_RATE_LIMIT_PER_MINUTE=0 MILLWRIGHT_LOG=warn

"$bin" sim maintainx --listen "127.0.0.1:$sim_port" --scale "$scale" >/dev/null 2>&1 &
"$bin" serve --listen "127.0.0.1:$api_port" >"$work/server.log" 2>&1 &
for _ in $(seq 100); do curl -sf "$api/readyz" >/dev/null && break; sleep 0.1; done

json() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if k.isdigit() else v[k]
print(v)' "$1"; }

key="$("$bin" workspace create --name bench | json secret_key)"
created="$(curl -sf -X POST "$api/api/v1/connections" \
  -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d "{\"connector\":\"maintainx\",\"name\":\"bench\",\"credentials\":{\"base_url\":\"http://127.0.0.1:$sim_port\",\"api_key\":\"sim-maintainx-key\"},\"sync\":{\"entities\":[\"work_orders\"],\"history_days\":3650}}")"
token="$(json access_token <<<"$created")"
con="$(json connection.id <<<"$created")"

# Wait for the initial work-order run; the reads below must see the whole store.
status=running
for _ in $(seq 1200); do
  status="$(curl -sf "$api/api/v1/connections/$con/syncs" -H "Authorization: Bearer $key" |
    python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin)["data"] if x["entity"]=="work_orders"]; print(r[0]["status"] if r else "none")')"
  [[ "$status" != running && "$status" != none ]] && break
  sleep 0.5
done
[[ "$status" == completed ]] || { echo "initial sync did not complete: $status"; exit 1; }

id="$(curl -sf "$api/api/v1/work-orders?page_size=1" -H "Authorization: Bearer $token" | json data.0.id)"
count="$(curl -sf "$api/api/v1/work-orders?page_size=1000" -H "Authorization: Bearer $token" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')"

cat >"$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA

run() { # label url [script] -> "label req/s p50 p99 non2xx"
  local out
  out="$(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency ${3:+-s "$3"} "$2")"
  local rps p50 p99 non2xx
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  non2xx="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  echo "$1 $rps $p50 $p99 ${non2xx:-0}"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%Y-%m-%dT%H:%MZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$threads -c$conns -d${duration}s x $rounds rounds; rate limiting off; SQLite; $scale work orders synced (first page: $count of page_size=1000)"
results="$work/results"
: >"$results"
for r in $(seq "$rounds"); do
  run healthz "$api/healthz" | tee -a "$results"
  run list "$api/api/v1/work-orders?page_size=100" "$work/auth.lua" | tee -a "$results"
  run get "$api/api/v1/work-orders/$id" "$work/auth.lua" | tee -a "$results"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" <<'PY'
import statistics, sys

def ms(s):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if s.endswith(unit):
            return float(s[: -len(unit)]) * f
    raise ValueError(s)

rows = {}
for line in open(sys.argv[1]):
    label, rps, p50, p99, non2xx = line.split()
    rows.setdefault(label, []).append((float(rps), ms(p50), ms(p99), int(non2xx)))
med = {k: [statistics.median(x[i] for x in v) for i in range(3)] + [sum(x[3] for x in v)] for k, v in rows.items()}
h = med["healthz"]
print(f"{'route':<8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'req/s ratio':>12} {'p99 ratio':>10}")
for k in ("healthz", "list", "get"):
    r = med[k]
    print(f"{k:<8} {r[0]:>10.0f} {r[1]:>8.2f} {r[2]:>8.2f} {r[3]:>8d} {r[0]/h[0]:>12.2f} {r[2]/h[2]:>10.2f}")
for r in range(len(rows["healthz"])):
    h0 = rows["healthz"][r][0]
    print(f"round {r + 1}: list/healthz {rows['list'][r][0] / h0:.3f}, get/healthz {rows['get'][r][0] / h0:.3f}")
print("(medians over rounds; ratios to /healthz; goals: list >= 0.10, get >= 0.40 of /healthz req/s)")
PY
