#!/bin/bash
# Quality bar of the fast models (issue: style distance within 1.5x of 100 L-BFGS iterations of the
# Gatys engine on the same photo). For each model and each photo the training never saw, prints
# style_rel / content_rel (../shared/peers/evaluate.py, 256 px) of the fast output and of Gatys.
#   bench/fast_quality.sh [BUILD_DIR] [SHARED_DIR] [MODEL ...]   (default: every model in models/)
#   PHOTOS="chicago dog" to choose the photos (default: every content photo of ../shared but the
#   128 px one; none is in ../shared/datasets/photos, the training set). STYLE_NAME=NAME when a
#   model file is not named after its painting in ../shared/images/style.
set -euo pipefail
build=${1:-build}
shared=${2:-../shared}
shift 2 || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(models/*.safetensors)
export PASTICHE_VGG=${PASTICHE_VGG:-$shared/models/vgg19-keras-partial.safetensors}
py=/usr/bin/python3
$py -c "import torch, PIL" 2>/dev/null || {
  echo "fast_quality.sh: the evaluator needs Debian's python3-torch and python3-pil:" >&2
  echo "  apt-get install -y python3-torch python3-pil python3-numpy" >&2
  exit 2
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
score() { $py "$shared/peers/evaluate.py" "$1" --content "$2" --style "$3" --size 256 2>/dev/null |
  $py -c "import json,sys; d=json.load(sys.stdin); print('%.4f / %.3f' % (d['style_rel'], d['content_rel']))"; }
echo "| model | photo | fast style_rel / content_rel | Gatys 100 steps | style ratio |"
echo "| --- | --- | --- | --- | --- |"
for model in "${models[@]}"; do
  name=$(basename "$model" .safetensors)
  style="$shared/images/style/${STYLE_NAME:-$name}.jpg"
  for photo in ${PHOTOS:-chicago dog arched_door eagle giraffe horses kite}; do
    content="$shared/images/content/$photo.jpg"
    "$build/pastiche" stylize "$content" --model "$model" -o "$out/fast.png" --size 256 -q
    "$build/pastiche" stylize "$content" --style "$style" -o "$out/gatys.png" --size 256 --steps 100 -q
    fast=$(score "$out/fast.png" "$content" "$style")
    gatys=$(score "$out/gatys.png" "$content" "$style")
    ratio=$($py -c "print('%.2f' % (float('${fast%% *}') / float('${gatys%% *}')))")
    echo "| $name | $photo | $fast | $gatys | ${ratio}x |"
  done
done
