#!/bin/bash
# Gatys: Pastiche against the PyTorch reference (../shared/peers/peer_gatys.py), one process at a
# time, 2 threads each. Prints one labelled JSON line per measurement.
#   1. seconds per loss evaluation, 256 px, the peer's shallow preset (build/bench/gatys_bench);
#   2. the peer's tutorial preset at 512 px: s/evaluation (the time budget is 30 of them);
#   3. Pastiche defaults at 512 px on chicago + starry_night: time and quality (evaluate.py);
#   4. peak memory: Pastiche at 1024 px, the peer at 512 px.
# usage: bench/gatys_vs_peer.sh [BUILD_DIR] [SHARED_DIR]
set -euo pipefail
build=${1:-build}
shared=${2:-../shared}
vgg=${PASTICHE_VGG:-$shared/models/vgg19-keras-partial.safetensors}
export PASTICHE_VGG="$vgg"
py=/usr/bin/python3
content="$shared/images/content/chicago.jpg"
style="$shared/images/style/starry_night.jpg"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pick() { $py -c "import json,sys; d=json.loads(sys.stdin.read()); print(json.dumps({k: d.get(k) for k in sys.argv[1:]}))" "$@"; }

echo -n "peer shallow 256: "
$py "$shared/peers/peer_gatys.py" --layers-preset shallow --size 256 --threads 2 --count closure \
  --steps 20 --weights "$vgg" 2>/dev/null | pick s_per_closure closure_evals peak_rss_mb first_style_loss
echo -n "pastiche shallow 256: "
"$build/bench/gatys_bench" --benchmark_filter='Shallow/256' --benchmark_min_time=2 \
  --benchmark_format=json 2>/dev/null |
  $py -c "import json,sys; print(json.dumps({b['name']: round(b['real_time'], 1) for b in json.load(sys.stdin)['benchmarks']}))"
echo -n "peer tutorial 512: "
$py "$shared/peers/peer_gatys.py" --size 512 --threads 2 --count closure --steps 20 \
  --content "$content" --style "$style" --weights "$vgg" 2>/dev/null |
  pick s_per_closure closure_evals peak_rss_mb
echo -n "pastiche defaults 512: "
"$build/pastiche" stylize "$content" --style "$style" -o "$out/512.png" --size 512 --threads 2 \
  --json 2>/dev/null | pick seconds iterations schedule precision layout peak_rss_mb
echo -n "quality 512: "
$py "$shared/peers/evaluate.py" "$out/512.png" --content "$content" --style "$style" --size 512 \
  2>/dev/null
echo -n "pastiche memory 1024: "
"$build/pastiche" stylize "$content" --style "$style" -o "$out/1024.png" --size 1024 --scales 1 \
  --steps 20 --threads 2 --json 2>/dev/null | pick seconds width height peak_rss_mb
