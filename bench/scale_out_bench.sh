#!/usr/bin/env bash
# Scale-out benchmarks (results in bench/RESULTS.md, "## Scale out"), all on one machine with a
# throwaway PostgreSQL cluster (scripts/pg-test-cluster.sh), with the images in the database and
# then in a shared directory (--images-dir):
#  1. throughput of fast 512 px jobs: 1 worker process vs 2, one thread each;
#  2. the queue's own cost per job with 10,000 queued (build/bench/queue_bench), PostgreSQL and SQLite;
#  3. progress latency from a worker's report to an event stream on another API node, and
#     GET /api/jobs/{id} latency on an API node, while both lanes run.
#   bench/scale_out_bench.sh [build-dir=build] [shared-dir=../shared]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
shared=$(cd "${2:-../shared}" && pwd)
bin="$build/pastiche"
py="python3 $root/bench/service/scale_out.py"
content="$shared/images/content/chicago.jpg"
painting="$shared/images/style/starry_night.jpg"
vgg="${PASTICHE_VGG:-$shared/models/vgg19-keras-partial.safetensors}"
work=$(mktemp -d)
pgdir=$(mktemp -d /tmp/pastiche-pg.XXXXXX)  # its own: the server runs as another user
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$root/scripts/pg-test-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
db=$(bash "$root/scripts/pg-test-cluster.sh" start "$pgdir")
# A second database for the same topology with the images in a shared directory (--images-dir).
psql "$db" -qc "CREATE DATABASE pastiche_files"
db_files=${db/\/pastiche\?/\/pastiche_files?}

api() {  # port
  "$bin" serve "${common[@]}" --no-workers --port "$1" --data-dir "$work/api$1" --rate-limit 0 \
    --max-queue 256 --log-level warn >"$work/api$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "API node on $1 did not start"; cat "$work/api$1.log"; exit 1
}
workers() {  # count lanes threads
  for _ in $(seq "$1"); do
    "$bin" worker "${common[@]}" --lanes "$2" --threads "$3" >>"$work/workers.log" 2>&1 &
    pids+=($!)
  done
}
stop() {  # pattern
  pkill -TERM -f "$1" || true
  while pgrep -f "$1" >/dev/null; do sleep 0.1; done
}
A=http://127.0.0.1:18181
B=http://127.0.0.1:18182

# The cluster's measurements with images in the database, then in a shared directory.
for images in database directory; do
  common=(--database "$db" --models-dir "$root/models" --vgg "$vgg")
  if [ "$images" = directory ]; then
    common=(--database "$db_files" --images-dir "$work/shared-images" --models-dir "$root/models"
      --vgg "$vgg")
  fi
  echo "== images in the $images"
  api 18181
  api 18182
  for n in 1 2; do
    $py submit "$A" 120 512 "$content" starry_night >"$work/ids"
    workers "$n" fast 1
    echo -n "throughput, $n worker process(es), 1 thread each: "
    $py throughput "$A" "$work/ids"
    stop "$bin worker"
  done
  # One worker process running both lanes (one core each), the event stream on the other node.
  workers 1 fast,gatys 1
  echo -n "live (Gatys 384 px followed on node B, 1024 px fast jobs queued, reads on node A): "
  $py live "$A" "$B" "$content" "$painting" 384 300 starry_night 90
  stop "$bin worker"
  stop "$bin serve"
done

echo -n "queue round trip, postgresql: "
"$build/bench/queue_bench" --database "$db" --queued 10000 --jobs 2000
echo -n "queue round trip, sqlite: "
"$build/bench/queue_bench" --database "sqlite:$work/queue.db" --queued 10000 --jobs 2000

# The same on one `pastiche serve` with SQLite (API and workers in one process), for comparison.
"$bin" serve --models-dir "$root/models" --vgg "$vgg" --port 18183 --data-dir "$work/single" \
  --rate-limit 0 --max-queue 256 --threads 1 --log-level warn >"$work/single.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs http://127.0.0.1:18183/healthz >/dev/null && break; sleep 0.1; done
echo -n "live, one process on SQLite (same measurement, A = B): "
$py live http://127.0.0.1:18183 http://127.0.0.1:18183 "$content" "$painting" 384 300 starry_night 90
