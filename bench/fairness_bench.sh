#!/usr/bin/env bash
# The fair queue measured (results in bench/RESULTS.md, "Fair queue"): client A queues 50 Gatys
# jobs, then client B submits one fast and one Gatys job; when do B's jobs start and finish,
# against A's? Then the per-client caps with their defaults. One server on 127.0.0.1, one worker
# per lane, synthetic VGG weights (bench/service/make_inputs.py: no downloads, no ../shared).
#   bench/fairness_bench.sh [build-dir=build] [port=18083] [a-jobs=50] [steps=600]
set -euo pipefail
build=${1:-build}
port=${2:-18083}
a_jobs=${3:-50}
steps=${4:-600}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/$build/pastiche"
[[ -x "$bin" ]] || { echo "no $bin: build first"; exit 1; }
work=$(mktemp -d)
server_pid=
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT
url="http://127.0.0.1:$port"

python3 "$root/bench/service/make_inputs.py" "$work" >/dev/null
mkdir -p "$work/styles"
cp "$work/style.png" "$work/styles/bench-painting.png"

start_server() {  # extra serve flags
  "$bin" serve --port "$port" --data-dir "$work/data-$1" --models-dir "$root/models" \
    --styles-dir "$work/styles" --vgg "$work/vgg19-synthetic.safetensors" --rate-limit 0 \
    --max-queue 200 --fast-workers 1 --gatys-workers 1 --threads 2 --log-level warn "${@:2}" \
    >"$work/serve-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do curl -fs "$url/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start:"; cat "$work/serve-$1.log"; exit 1
}
submit() {  # token, then form fields; prints the reply (HTTP status on the last line)
  local token=$1; shift
  local args=()
  for f in "$@"; do args+=(-F "$f"); done
  curl -s -D "$work/headers" -w '\n%{http_code}\n' -H "X-Client-Token: $token" "${args[@]}" \
    -F "content=@$work/${photo:-small.png}" "$url/api/jobs"
}
gatys=(style=bench-painting method=gatys size=64 "steps=$steps" scales=1)
fast=(style=starry_night method=fast size=256)
A=bench-client-a-000000001
B=bench-client-b-000000002

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

# 1. Turns: no caps, so A can queue its whole backlog (20 fast jobs, then the Gatys ones).
start_server turns --max-jobs-per-client gatys=0 --max-work-per-client 0
t_a=$(date +%s%3N)
a_fast=()
for i in $(seq 20); do  # a backlog in the fast lane first
  reply=$(photo=photo.png submit "$A" style=starry_night method=fast size=1024)
  a_fast+=("$(head -1 <<<"$reply" | jq -r .id)")
done
a_ids=()
for i in $(seq "$a_jobs"); do
  reply=$(submit "$A" "${gatys[@]}")
  [[ $(tail -1 <<<"$reply") == 202 ]] || { echo "A's job $i refused: $reply"; exit 1; }
  a_ids+=("$(head -1 <<<"$reply" | jq -r .id)")
done
echo "A queued 20 fast jobs (1024 px) and $a_jobs Gatys jobs (64 px, $steps steps) in" \
  "$(($(date +%s%3N) - t_a)) ms"
for _ in $(seq 300); do  # A's first Gatys job running, and a fast one
  [[ $(curl -s -H "X-Client-Token: $A" "$url/api/jobs/${a_ids[0]}" | jq -r .status) == running ]] &&
    [[ $(curl -s "$url/api/device" | jq '.queue.fast // 0') -lt 20 ]] && break
  sleep 0.1
done
b_submitted_ms=$(date +%s%3N)
b_fast=$(submit "$B" "${fast[@]}" | head -1 | jq -r .id)
b_gatys_reply=$(submit "$B" "${gatys[@]}" | head -1)
b_gatys=$(jq -r .id <<<"$b_gatys_reply")
echo "B's Gatys job queued at position $(jq -r .position <<<"$b_gatys_reply") behind" \
  "$(($(curl -s "$url/api/device" | jq '.queue.gatys // 0') - 1)) queued Gatys jobs of A"
for _ in $(seq 1200); do  # both of B's jobs finished (at most 2 minutes)
  done_b=0
  for id in "$b_fast" "$b_gatys"; do
    s=$(curl -s -H "X-Client-Token: $B" "$url/api/jobs/$id" | jq -r .status)
    [[ $s == done || $s == failed ]] && done_b=$((done_b + 1))
  done
  [[ $done_b == 2 ]] && break
  sleep 0.1
done
curl -s -H "X-Client-Token: $A" "$url/api/history?limit=100" >"$work/a.json"
curl -s -H "X-Client-Token: $B" "$url/api/history?limit=100" >"$work/b.json"
for id in "${a_ids[@]}" "${a_fast[@]}"; do
  curl -s -X DELETE -H "X-Client-Token: $A" "$url/api/jobs/$id" >/dev/null
done
stop_server
python3 - "$work/a.json" "$work/b.json" "$b_fast" "$b_gatys" "$b_submitted_ms" <<'EOF'
import json, sys
from datetime import datetime
def ms(t):
    return None if t is None else datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000
a = json.load(open(sys.argv[1]))["items"]
b = {j["id"]: j for j in json.load(open(sys.argv[2]))["items"]}
fast, gatys, t0 = b[sys.argv[3]], b[sys.argv[4]], float(sys.argv[5])
a_fast = [(ms(j["started_at"]), ms(j["finished_at"])) for j in a
          if j["method"] == "fast" and j["started_at"] and j["finished_at"]]
a = [j for j in a if j["method"] == "gatys"]
a_runs = [(ms(j["started_at"]), ms(j["finished_at"])) for j in a if j["started_at"]]
a_runs = [r for r in a_runs if r[1] is not None]
running_at_submit = [r for r in a_runs if r[0] <= t0 < r[1]]
started_between = [r for r in a_runs if t0 <= r[0] < ms(gatys["started_at"])]
a_secs = sorted(r[1] - r[0] for r in a_runs)
print(f"A's Gatys jobs: {len(a_runs)} ran while measuring, median {a_secs[len(a_secs)//2]/1000:.2f} s each")
print(f"A's jobs running when B submitted: {len(running_at_submit)}")
fast_running = [r for r in a_fast if r[0] <= t0 < r[1]]
fast_between = [r for r in a_fast if t0 <= r[0] < ms(fast["started_at"])]
print(f"A's fast jobs (1024 px): {len(a_fast)} ran, median "
      f"{sorted(r[1]-r[0] for r in a_fast)[len(a_fast)//2]/1000:.2f} s; running when B submitted: "
      f"{len(fast_running)}, ending {(fast_running[0][1]-t0)/1000 if fast_running else 0:.2f} s later")
print(f"B fast: waited {(ms(fast['started_at'])-t0)/1000:.2f} s, after {len(fast_between)} more of "
      f"A's fast jobs started; ran {fast['seconds']:.2f} s, finished "
      f"{(ms(fast['finished_at'])-t0)/1000:.2f} s after submitting ({fast['status']}); bound: "
      f"{((fast_running[0][1]-t0)/1000 if fast_running else 0) + fast['seconds']:.2f} s "
      f"(the running fast job's rest + its own time)")
print(f"B Gatys: started {(ms(gatys['started_at'])-t0)/1000:.2f} s after submitting, after "
      f"{len(started_between)} more of A's jobs started; finished "
      f"{(ms(gatys['finished_at'])-t0)/1000:.2f} s after submitting ({gatys['status']})")
fifo = sum(1 for j in a if not (j["finished_at"] and ms(j["finished_at"]) <= t0))
print(f"first come, first served it would have waited for {fifo} of A's jobs "
      f"(about {fifo * a_secs[len(a_secs)//2] / 1000:.0f} s)")
EOF

# 2. The caps with their defaults (gatys=4 per client, 3600 s of estimated work). A's first job
# is long, so the Gatys worker stays busy and nothing else starts; everything is cancelled after.
start_server caps
long=(style=bench-painting method=gatys size=64 steps=2000 scales=1)
codes=()
ids=()
for i in $(seq 6); do
  reply=$(submit "$A" "${long[@]}")
  codes+=("$(tail -1 <<<"$reply")")
  if [[ $(tail -1 <<<"$reply") == 202 ]]; then
    ids+=("$A $(head -1 <<<"$reply" | jq -r .id)")
  else
    last_refusal=$(head -1 <<<"$reply")
  fi
done
echo "A submits 6 Gatys jobs: ${codes[*]}"
echo "  the 429: $last_refusal"
big=(style=bench-painting method=gatys size=2048 steps=2000)
codes=()
for i in $(seq 5); do
  reply=$(photo=photo.png submit "$B" "${big[@]}")
  code=$(tail -1 <<<"$reply")
  codes+=("$code")
  if [[ $code == 202 ]]; then
    ids+=("$B $(head -1 <<<"$reply" | jq -r .id)")
    echo "  B's 2048 px / 2000-step job accepted, estimated $(head -1 <<<"$reply" | jq -r .estimated_seconds) s"
  else
    echo "  B refused: $(head -1 <<<"$reply"), Retry-After $(grep -i '^retry-after' "$work/headers" | tr -d '\r' | cut -d' ' -f2)"
    break
  fi
done
echo "B submits 2048 px / 2000-step Gatys jobs: ${codes[*]}"
for entry in "${ids[@]}"; do
  curl -s -X DELETE -H "X-Client-Token: ${entry% *}" "$url/api/jobs/${entry#* }" >/dev/null
done
