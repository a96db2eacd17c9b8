#!/usr/bin/env bash
# A/B of the memory allocator on the same build: each case runs once with the executables as
# built (tcmalloc) and once with a copy whose tcmalloc dependency patchelf removed (glibc malloc).
# Prints median times, page faults and peak RSS. Results: bench/RESULTS.md, "Memory allocator".
#   bench/allocator_ab.sh [BUILD_DIR] [SHARED_DIR]      (needs patchelf and GNU time)
set -euo pipefail
build=${1:-build}
shared=${2:-../shared}
vgg=$shared/models/vgg19-keras-partial.safetensors
content=$shared/images/content/chicago.jpg
style=$shared/images/style/starry_night.jpg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for exe in pastiche bench/fast_bench; do
  cp "$build/$exe" "$tmp/$(basename "$exe")_glibc"
  patchelf --remove-needed libtcmalloc_minimal.so.4 "$tmp/$(basename "$exe")_glibc"
done
measure() {  # label command...: wall-clock median from the command's JSON + faults and peak RSS
  local label=$1
  shift
  /usr/bin/time -f "%R %M" -o "$tmp/time" "$@" >"$tmp/out" 2>/dev/null
  read -r faults rss_kb <"$tmp/time"
  local ms
  ms=$(python3 -c "
import json,sys
d=json.loads(open('$tmp/out').read().strip().splitlines()[-1])
m=d.get('train') or d.get('infer') or d.get('video') or d
if 'seconds' in d: print('%.0f' % (d['seconds']*1000))
elif 'median_ms' in m: print('%.0f' % m['median_ms'])
else: print('%.0f' % sorted(v['median_ms'] for v in m.values())[-1])")
  printf '| %s | %s ms | %s | %s MB |\n' "$label" "$ms" "$faults" $((rss_kb / 1024))
}
echo "| case | time | minor page faults | peak RSS |"
echo "| --- | --- | --- | --- |"
for alloc in glibc tcmalloc; do
  if [ $alloc = glibc ]; then p=$tmp/pastiche_glibc; f=$tmp/fast_bench_glibc; else p=$build/pastiche; f=$build/bench/fast_bench; fi
  measure "light train step 256², batch 4, 2 threads ($alloc)" \
    "$f" --mode train --width 16 --res-blocks 3 --runs 5 --warmup 1 --vgg "$vgg"
  measure "paper net infer 1024² ($alloc)" "$f" --mode infer --sizes 1024 --runs 3 --warmup 1
  measure "Gatys 1024 px, 20 evaluations, 1 scale ($alloc)" "$p" stylize "$content" \
    --style "$style" -o "$tmp/g.png" --size 1024 --scales 1 --steps 20 --json --vgg "$vgg"
  measure "Gatys 256 px, 100 evaluations ($alloc)" "$p" stylize "$content" \
    --style "$style" -o "$tmp/g.png" --size 256 --steps 100 --json --vgg "$vgg"
done
