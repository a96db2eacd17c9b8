#!/usr/bin/env bash
# Hostile-load benchmark of the HTTP layer (results in bench/RESULTS.md, "Slow and idle clients"):
# 1000 slow-header connections and 200 open event streams from loopback addresses while a
# well-behaved client times GET /healthz and GET /api/jobs/{id}; one Gatys job keeps both cores
# busy throughout. Needs python3 and a built `pastiche` (scripts/build.sh); no ../shared data.
#   bench/slow_clients_bench.sh [build-dir=build] [port=18081] [slow=1000] [streams=200] [seconds=20]
set -euo pipefail
build=${1:-build}
port=${2:-18081}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/pastiche"
[[ -x "$bin" ]] || { echo "no $bin: build first"; exit 1; }
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

python3 "$root/bench/service/make_inputs.py" "$work"
mkdir -p "$work/styles" "$work/models"
cp "$work/style.png" "$work/styles/bench-painting.png"
admin=bench-admin-key-0000000001
"$bin" serve --port "$port" --data-dir "$work/data" --models-dir "$work/models" \
  --styles-dir "$work/styles" --vgg "$work/vgg19-synthetic.safetensors" --rate-limit 0 \
  --max-queue 100 --admin-key "$admin" --log-level warn >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
python3 "$root/bench/service/slow_clients.py" "$port" "$work/photo.png" "$admin" "${3:-1000}" \
  "${4:-200}" "${5:-20}"
echo "server RSS now: $(grep VmRSS /proc/$server_pid/status | awk '{print $2/1024 " MiB"}')"
