#!/bin/bash
# Quality bar of arbitrary-style transfer (issue 16): for held-out paintings (the decoder never
# sees a painting: it is trained to reconstruct photos and wallpapers) × every content photo at
# 512 px, style_rel / content_rel (../shared/peers/evaluate.py, 256 px) of the one-pass result and
# style_rel of Gatys with --steps 100 --size 256 on the same pair; targets: style within 2x of
# Gatys, content_rel ≤ 0.9.
#   bench/arbitrary_quality.sh [BUILD_DIR] [SHARED_DIR]
#   PAINTINGS="candy mosaic starry_night", PHOTOS="chicago dog", SHEET=FILE (a contact sheet:
#   per painting, the painting then its results; bench/contact_sheet.py)
set -euo pipefail
build=${1:-build}
shared=${2:-../shared}
export PASTICHE_VGG=${PASTICHE_VGG:-$shared/models/vgg19-keras-partial.safetensors}
py=/usr/bin/python3
$py -c "import torch, PIL" 2>/dev/null || {
  echo "arbitrary_quality.sh: the evaluator needs Debian's python3-torch and python3-pil" >&2
  exit 2
}
paintings=(${PAINTINGS:-candy mosaic starry_night})
photos=(${PHOTOS:-chicago dog arched_door eagle giraffe horses kite})
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
score() { $py "$shared/peers/evaluate.py" "$1" --content "$2" --style "$3" --size 256 2>/dev/null |
  $py -c "import json,sys; d=json.load(sys.stdin); print('%.4f %.3f' % (d['style_rel'], d['content_rel']))"; }
echo "| painting | photo | arbitrary 512 px style / content | Gatys 100 steps, 256 px style | style ratio |"
echo "| --- | --- | --- | --- | --- |"
sheet=()
for painting in "${paintings[@]}"; do
  style="$shared/images/style/$painting.jpg"
  sheet+=("$style")
  for photo in "${photos[@]}"; do
    content="$shared/images/content/$photo.jpg"
    "$build/pastiche" stylize "$content" --style "$style" --method arbitrary --size 512 \
      -o "$out/${painting}_$photo.png" -q
    "$build/pastiche" stylize "$content" --style "$style" --size 256 --steps 100 \
      -o "$out/gatys.png" -q
    read -r st ct < <(score "$out/${painting}_$photo.png" "$content" "$style")
    read -r gt _ < <(score "$out/gatys.png" "$content" "$style")
    ratio=$($py -c "print('%.2f' % ($st / $gt))")
    echo "| $painting | $photo | $st / $ct | $gt | ${ratio}x |"
  done
  for photo in "${photos[@]:0:3}"; do sheet+=("$out/${painting}_$photo.png"); done
done
if [ -n "${SHEET:-}" ]; then
  n=$(( ${#photos[@]} < 3 ? ${#photos[@]} : 3 ))
  $py bench/contact_sheet.py -o "$SHEET" --columns $((n + 1)) --width 300 \
    --labels "painting,$(printf '%s,' "${photos[@]:0:$n}")" --title "arbitrary style, 512 px" \
    "${sheet[@]}"
fi
