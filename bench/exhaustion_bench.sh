#!/usr/bin/env bash
# Memory-exhaustion benchmark of the HTTP layer (results in bench/RESULTS.md, "Memory under
# floods"): issue 26's attacks 1 (19 MB URL-encoded bodies) and 2 (20 MB multipart bodies held
# open), from one address and from eight, against `pastiche serve` with default limits; reports
# RSS idle / peak / 30 s after, and GET /healthz latency meanwhile. Needs python3 and a built
# `pastiche` (scripts/build.sh); no ../shared data.
#   bench/exhaustion_bench.sh [build-dir=build] [port=18084] [connections=128] [hold-seconds=10]
set -euo pipefail
build=${1:-build}
port=${2:-18084}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/pastiche"
[[ -x "$bin" ]] || { echo "no $bin: build first"; exit 1; }
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/models" "$work/styles"
"$bin" serve --port "$port" --data-dir "$work/data" --models-dir "$work/models" \
  --styles-dir "$work/styles" --vgg none --rate-limit 0 --log-level warn >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
python3 "$root/bench/service/exhaustion.py" "$port" "$server_pid" "${3:-128}" "${4:-10}"
