#!/bin/bash
# int8 against float32 (issue 27 item 4): each default model on each photo, stylised by `pastiche
# stylize` with --int8 off under ONEDNN_MAX_CPU_ISA=AVX2 (float32: the CPUs where auto picks int8)
# and with --int8 on, natively and under the AVX2 cap (7-bit weights there: int8_conv.h), at each
# size (2048 px is tiled); prints SSIM (bench/ssim.py) to float32 per pair, and the lowest.
#   bench/int8_quality.sh [BUILD_DIR] [SHARED_DIR] [MODEL ...]   (default: every model in models/)
#   PHOTOS="chicago dog", SIZES="512 2048" to change the run; SHEET=FILE writes a contact sheet
#   of the first model and photo at the first size: float32 | int8 (AVX2 cap) | their difference x8.
set -euo pipefail
build=${1:-build}
shared=${2:-../shared}
shift 2 || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(models/*.safetensors)
py=/usr/bin/python3
sizes=(${SIZES:-512 2048})
photos=(${PHOTOS:-chicago dog arched_door eagle giraffe horses kite})
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| model | photo | size | SSIM int8 native | SSIM int8 AVX2 cap |"
echo "| --- | --- | --- | --- | --- |"
lowest=1
for model in "${models[@]}"; do
  for photo in "${photos[@]}"; do
    content="$shared/images/content/$photo.jpg"
    for size in "${sizes[@]}"; do
      ONEDNN_MAX_CPU_ISA=AVX2 "$build/pastiche" stylize "$content" --model "$model" --size "$size" \
        --int8 off -o "$out/f.png" --quiet
      "$build/pastiche" stylize "$content" --model "$model" --size "$size" --int8 on -o "$out/n.png" --quiet
      ONEDNN_MAX_CPU_ISA=AVX2 "$build/pastiche" stylize "$content" --model "$model" --size "$size" \
        --int8 on -o "$out/a.png" --quiet
      native=$($py bench/ssim.py "$out/f.png" "$out/n.png")
      capped=$($py bench/ssim.py "$out/f.png" "$out/a.png")
      echo "| $(basename "$model" .safetensors) | $photo | $size | $native | $capped |"
      lowest=$($py -c "print(min($lowest, $native, $capped))")
      if [ -n "${SHEET:-}" ] && [ ! -e "$out/sheet.done" ]; then
        $py - "$out/f.png" "$out/a.png" "$SHEET" <<'PY'
import sys
from PIL import Image, ImageChops
f, q = Image.open(sys.argv[1]).convert("RGB"), Image.open(sys.argv[2]).convert("RGB")
diff = ImageChops.difference(f, q).point(lambda v: min(255, v * 8))
sheet = Image.new("RGB", (f.width * 3, f.height), "white")
for i, im in enumerate((f, q, diff)):
    sheet.paste(im, (i * f.width, 0))
sheet.save(sys.argv[3], quality=88)
PY
        touch "$out/sheet.done"
      fi
    done
  done
done
echo
echo "lowest SSIM: $lowest (target ≥ 0.98)"
