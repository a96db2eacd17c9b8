#!/bin/bash
# Resolution independence of the fast models (issue 15). For each model and each photo the
# training never saw, stylises at 512, 1024 and 2048 px (the photo upscaled where smaller: the
# stroke size is what is measured) and prints style_rel / content_rel (../shared/peers/evaluate.py,
# 256 px) with each size's style_rel as a ratio of the same model's 512 px figure (target ≤ 1.2x),
# then great_wave on chicago at 712 px, the GPU-trained anchor (target ≤ 0.036 / ≤ 0.55).
#   bench/fast_resolution.sh [BUILD_DIR] [SHARED_DIR] [MODEL ...]   (default: every model in models/)
#   PHOTOS="chicago dog", SIZES="512 1024 2048", EXTRA="--stroke-scale 1.5" to change the run;
#   SHEETS=DIR also writes a contact sheet per model (bench/contact_sheet.py) into DIR: the first
#   SHEET_PHOTOS (2) photos at every size, shown at one display width.
set -euo pipefail
build=${1:-build}
shared=${2:-../shared}
shift 2 || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(models/*.safetensors)
export PASTICHE_VGG=${PASTICHE_VGG:-$shared/models/vgg19-keras-partial.safetensors}
py=/usr/bin/python3
$py -c "import torch, PIL" 2>/dev/null || {
  echo "fast_resolution.sh: the evaluator needs Debian's python3-torch and python3-pil" >&2
  exit 2
}
sizes=(${SIZES:-512 1024 2048})
photos=(${PHOTOS:-chicago dog arched_door eagle giraffe horses kite})
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
score() { $py "$shared/peers/evaluate.py" "$1" --content "$2" --style "$3" --size 256 2>/dev/null |
  $py -c "import json,sys; d=json.load(sys.stdin); print('%.4f %.3f' % (d['style_rel'], d['content_rel']))"; }
header="| model | photo |"
for s in "${sizes[@]}"; do header+=" $s px style / content (ratio) |"; done
echo "$header"
echo "| --- | --- |$(printf ' --- |%.0s' "${sizes[@]}")"
for model in "${models[@]}"; do
  name=$(basename "$model" .safetensors)
  style="$shared/images/style/${STYLE_NAME:-$name}.jpg"
  for photo in "${photos[@]}"; do
    content="$shared/images/content/$photo.jpg"
    row="| $name | $photo |"
    base=""
    for s in "${sizes[@]}"; do
      "$build/pastiche" stylize "$content" --model "$model" -o "$out/${name}_${photo}_$s.png" \
        --size "$s" ${EXTRA:-} -q
      read -r st ct < <(score "$out/${name}_${photo}_$s.png" "$content" "$style")
      [ -n "$base" ] || base=$st
      ratio=$($py -c "print('%.2f' % ($st / $base))")
      row+=" $st / $ct (${ratio}x) |"
    done
    echo "$row"
  done
  if [ -n "${SHEETS:-}" ]; then
    mkdir -p "$SHEETS"
    args=()
    for photo in "${photos[@]:0:${SHEET_PHOTOS:-2}}"; do
      for s in "${sizes[@]}"; do args+=("$out/${name}_${photo}_$s.png"); done
    done
    $py bench/contact_sheet.py -o "$SHEETS/fast-$name.png" --columns "${#sizes[@]}" \
      --labels "$(printf '%s px,' "${sizes[@]}")" --title "$name" "${args[@]}"
  fi
done
if [ -f models/great_wave.safetensors ] && [ -z "${PHOTOS:-}" ]; then
  content="$shared/images/content/chicago.jpg"
  "$build/pastiche" stylize "$content" --model models/great_wave.safetensors -o "$out/anchor.png" \
    --size 712 ${EXTRA:-} -q
  read -r st ct < <(score "$out/anchor.png" "$content" "$shared/images/style/great_wave.jpg")
  echo
  echo "great_wave on chicago at 712 px: style_rel $st, content_rel $ct (anchor: 0.036 / 0.52)"
fi
