#!/bin/bash
# Fast style transfer: Pastiche (bench/fast_bench) against the PyTorch reference
# (../shared/peers/peer_fast.py), interleaved, one process at a time, 2 threads each.
# usage: bench/fast_vs_peer.sh [BUILD_DIR] [PEERS_DIR] > results.jsonl
# Needs: python3-torch (Debian's /usr/bin/python3), the VGG weights for the training step.
set -euo pipefail
build=${1:-build}
peers=${2:-../shared/peers}
vgg=${PASTICHE_VGG:-../shared/models/vgg19-keras-partial.safetensors}
bench="$build/bench/fast_bench"
py=/usr/bin/python3
run() { echo "# $*" >&2; "$@"; }
for round in 1; do
  run $py "$peers/peer_fast.py" --mode infer --size 512,1024 --runs 3 --warmup 1 --threads 2
  run "$bench" --mode infer --sizes 512,1024 --runs 3 --warmup 1 --threads 2 --width 32 --res-blocks 5
  run "$bench" --mode infer --sizes 512,1024 --runs 3 --warmup 1 --threads 2 --width 16 --res-blocks 3
  run $py "$peers/peer_fast.py" --mode train --runs 3 --warmup 1 --threads 2
  run "$bench" --mode train --runs 3 --warmup 1 --threads 2 --width 32 --res-blocks 5 --vgg "$vgg"
  run "$bench" --mode train --runs 3 --warmup 1 --threads 2 --width 16 --res-blocks 3 --vgg "$vgg"
done
run "$bench" --mode video --threads 2 --width 16 --res-blocks 3 --frames 20
run "$bench" --mode video --threads 2 --width 32 --res-blocks 5 --frames 10
