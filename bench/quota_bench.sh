#!/usr/bin/env bash
# Disk-quota benchmark (issue 26, reproductions 3 and 4): 30 painting uploads of 1024x1024 noise,
# then 40 concurrent submits, each against a fresh `pastiche serve --max-disk-mb 10`; prints the
# answers and the stored bytes against the quota. With a postgresql:// URL (of a cluster where it
# may create databases) each run uses a fresh database pastiche_quota_bench_<run> there, dropped
# and created again. Needs python3, curl and a built `pastiche` (psql too with PostgreSQL).
#   bench/quota_bench.sh [build-dir=build] [port=18085] [postgresql-url]
set -euo pipefail
build=${1:-build}
port=${2:-18085}
pg=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/pastiche"
[[ -x "$bin" ]] || { echo "no $bin: build first"; exit 1; }
work=$(mktemp -d)
server_pid=
trap 'kill $server_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
key=quota-bench-admin-key-0001

run() {  # $1: uploads|submits
  local data="$work/data-$1" db=() name="pastiche_quota_bench_$1"
  if [[ -n "$pg" ]]; then
    psql "$pg" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
    db=(--database "$(python3 -c 'import re,sys; print(re.sub(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?", lambda m: m.group(1) + "/" + sys.argv[2], sys.argv[1]))' "$pg" "$name")")
  fi
  "$bin" serve --port "$port" --data-dir "$data" --models-dir "$root/models" \
    --styles-dir "$work/none" --vgg none --rate-limit 0 --max-disk-mb 10 --admin-key "$key" \
    --log-level warn "${db[@]}" >"$work/serve-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  python3 "$root/bench/service/quota.py" "$1" "$port" "$key" starry_night
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  if [[ -n "$pg" ]]; then psql "$pg" -qc "DROP DATABASE $name WITH (FORCE)"; fi
}
export PGOPTIONS=--client-min-messages=warning
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores;" \
  "$([[ -n "$pg" ]] && echo PostgreSQL || echo SQLite)"
run uploads
run submits
