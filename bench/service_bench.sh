#!/usr/bin/env bash
# Service benchmarks (results in bench/RESULTS.md, "## Service"):
#  1. wrk against GET /api/styles and GET /api/jobs/{id} at ~1000 req/s while 2 fast jobs run;
#  2. 500 concurrent job submissions: accepted, rejected with 429, peak memory.
# Needs wrk (apt-get install wrk), python3 and a built `pastiche` (scripts/build.sh).
#   bench/service_bench.sh [build-dir=build] [port=18080]
set -euo pipefail
build=${1:-build}
port=${2:-18080}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/pastiche"
[[ -x "$bin" ]] || { echo "no $bin: build first"; exit 1; }
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

python3 "$root/bench/service/make_inputs.py" "$work"
# A paper-size fast model (32 wide, 5 residual blocks): two training steps are enough, inference
# costs the same as a trained model's.
mkdir -p "$work/models"
"$bin" train -s "$work/style.png" --dataset "$work/dataset" -o "$work/models/bench.safetensors" \
  --name bench --iterations 2 --size 64 --batch 1 --vgg "$work/vgg19-synthetic.safetensors" \
  --style-layers relu1_2,relu2_2 --content-layers relu2_2 -q >/dev/null

start_server() {  # extra args...
  "$bin" serve --port "$port" --data-dir "$work/data" --models-dir "$work/models" --vgg none \
    --rate-limit 0 --http-threads 128 --public-metrics --log-level warn "$@" >"$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$work/serve.log"; exit 1
}
submit() {  # size -> job id
  curl -fs -H "X-Client-Token: bench-client-token-01" -F style=bench -F size="$1" \
    -F content=@"$work/photo.png" "http://127.0.0.1:$port/api/jobs" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
status() { curl -fs -H "X-Client-Token: bench-client-token-01" "http://127.0.0.1:$port/api/jobs/$1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }

echo "### wrk while fast jobs run (fast workers 2, 1024 px jobs kept queued)"
rm -rf "$work/data"
start_server --fast-workers 2 --max-size 1024
job=$(submit 64)
for _ in $(seq 100); do [[ $(status "$job") == done ]] && break; sleep 0.1; done
for _ in $(seq 48); do submit 1024 >/dev/null; done   # keeps both fast workers busy
sleep 1
running=$(curl -fs "http://127.0.0.1:$port/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queue"]["running"])')
echo "jobs running during the measurement: $running"
for path in /api/styles "/api/jobs/$job"; do
  echo "--- GET $path (10 connections x 100/s)"
  DELAY_MS=10 wrk -t2 -c10 -d15s --latency -s "$root/bench/service/get.lua" \
    "http://127.0.0.1:$port$path" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx|requests in"
done
done_count=$(curl -fs "http://127.0.0.1:$port/metrics" | sed -n 's/^pastiche_jobs_finished_total{method="fast",status="done"} //p')
echo "fast jobs finished during the run: ${done_count:-0}"
kill "$server_pid"; wait "$server_pid" || true

echo "### 500 concurrent submissions (max queue 64, 128 px jobs)"
rm -rf "$work/data"
start_server --max-queue 64
python3 "$root/bench/service/submit_many.py" "$port" 500 "$work/small.png"
echo "peak RSS: $(grep VmHWM /proc/$server_pid/status | awk '{print $2/1024 " MiB"}')"
kill "$server_pid"; wait "$server_pid" || true
