#!/usr/bin/env bash
# PostgreSQL stopped under load (results in bench/RESULTS.md, "## Database outage"): a throwaway
# cluster (scripts/pg-test-cluster.sh), two API nodes (--no-workers) and one worker process (fast
# lane), all on loopback; CLIENTS clients submit fast jobs, follow them, read their history and
# the styles for SECONDS seconds; OUTAGE seconds in, PostgreSQL is stopped (fast shutdown, every
# connection dropped) for OUTAGE seconds and started again. Counts the responses, the 5xx other
# than 503 with Retry-After, jobs lost and jobs run twice (bench/service/pg_outage.py).
#   bench/pg_outage_bench.sh [build-dir=build] [seconds=30] [clients=4] [outage=8]
# KEEP_LOGS=DIR keeps the servers' and the worker's logs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
seconds=${2:-30}
clients=${3:-4}
outage=${4:-8}
bin="$build/pastiche"
work=$(mktemp -d)
pgdir=$(mktemp -d /tmp/pastiche-pg.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$root/scripts/pg-test-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$KEEP_LOGS"/; fi
  rm -rf "$work"
}
trap cleanup EXIT
db=$(bash "$root/scripts/pg-test-cluster.sh" start "$pgdir")
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
owner=$(stat -c %U "$pgdir/data")
as_owner() { if [ "$(id -un)" = "$owner" ]; then "$@"; else runuser -u "$owner" -- "$@"; fi; }
pg_stop() { as_owner "$pg_bin/pg_ctl" -D "$pgdir/data" -m fast -w -t 60 stop >/dev/null; }
pg_start() {  # the options scripts/pg-test-cluster.sh starts it with
  as_owner "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$pgdir' -c port=5432 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
}

common=(--database "$db" --models-dir "$root/models" --vgg none)
api() {  # port
  "$bin" serve "${common[@]}" --no-workers --port "$1" --data-dir "$work/api$1" --rate-limit 0 \
    --max-queue 256 >"$work/api$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "API node on $1 did not start"
  cat "$work/api$1.log"
  exit 1
}
api 18191
api 18192
"$bin" worker "${common[@]}" --lanes fast --threads 1 >"$work/worker.log" 2>&1 &
pids+=($!)
# Registered and claiming before the load starts (a process that starts while the database is
# down exits, for its supervisor to start it again).
for _ in $(seq 300); do grep -q "lanes fast" "$work/worker.log" && break; sleep 0.1; done
grep -q "lanes fast" "$work/worker.log" || { echo "the worker did not start"; cat "$work/worker.log"; exit 1; }

python3 "$root/bench/service/pg_outage.py" "$seconds" "$clients" 120 starry_night \
  http://127.0.0.1:18191 http://127.0.0.1:18192 >"$work/result.json" &
load=$!
sleep "$outage"  # traffic before the outage
pg_stop
t0=$(date +%s.%N)
health=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18191/healthz || true)
sleep "$outage"  # the outage
pg_start
echo "PostgreSQL down $(echo "$(date +%s.%N) - $t0" | bc) s (/healthz during it: $health)"
# The first request to each API node once PostgreSQL accepts connections again.
for port in 18191 18192; do
  echo "first GET /api/history on :$port after the restart: $(curl -s -o /dev/null -w '%{http_code}' \
    -H 'X-Client-Token: outage-bench-probe-0001' "http://127.0.0.1:$port/api/history")"
done
wait "$load"
cat "$work/result.json"
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { echo "process $p died"; tail -n 25 "$work"/*.log; exit 1; }
done
echo "worker: $(grep -c 'the database is unavailable' "$work/worker.log") pause(s)," \
  "$(grep -c 'the database is back' "$work/worker.log") resume(s)"
