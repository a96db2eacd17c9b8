#!/usr/bin/env bash
# Trains (or, with RESUME=1, continues) the default fast-style models in models/ with the
# project's own `pastiche train`, one after the other, in the phases the committed models went
# through (models/README.md). Runs at idle CPU priority so the machine stays usable.
# Checkpoints, previews and loss logs go to models/training/ (not committed).
#   SHARED=../shared bash scripts/train-default-models.sh [name ...]
# Each phase is "ITERATIONS:LR:STYLE_WEIGHT:TV_WEIGHT:STYLE_LAYER_WEIGHTS[:CONTENT_WEIGHT]" (content
# weight 1 when left out) and resumes from the previous one's checkpoint (a finished phase is
# skipped when RESUME=1). A phase written "+..." fine-tunes instead: ITERATIONS more steps from
# the model so far (--init-from), fresh optimiser, next seed. PHASES="..." overrides the list for
# every model named.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"
WORK="${WORK:-models/training}"
mkdir -p "$WORK"
export PASTICHE_VGG="${PASTICHE_VGG:-$SHARED/models/vgg19-keras-partial.safetensors}"

# Phase 1 learns the photo-to-painting mapping at a moderate style weight and a fast rate; the
# later phases raise the style weight and lower TV and the rate (the quality bar: Gram distance
# within 1.5x of the Gatys engine's).
FIRST="1600:2e-3:15:10:1,1,1"
# The "+" phases (the_scream, udnie, woman_with_hat) fine-tune at a higher style weight: before
# them chicago, giraffe or arched_door stayed 1.7-2.2x from the painting's Gram matrices.
declare -A PLAN
PLAN[starry_night]="$FIRST 2000:1e-3:30:10:1,1,1 2800:1e-3:35:2:1,1,2"
PLAN[the_scream]="$FIRST 2400:1e-3:35:10:1,1,1 3200:1e-3:35:2:1,1,2 +800:1e-3:100:2:1,1,2"
PLAN[great_wave]="$FIRST 2800:1e-3:35:2:1,1,2"
# udnie at content weight 2 from the start: at 1 its dark subjects turned into black blotches.
PLAN[udnie]="1600:2e-3:15:10:1,1,1:2 2800:1e-3:50:2:1,1,2:2 +800:1e-3:100:2:1,1,2:2"
PLAN[woman_with_hat]="$FIRST 2800:1e-3:35:2:1,1,2 +800:1e-3:80:2:1,1,2"

declare -A TITLE ARTIST DESCRIPTION
TITLE[starry_night]="The Starry Night"; ARTIST[starry_night]="Vincent van Gogh"
DESCRIPTION[starry_night]="Deep ultramarine and cobalt blues swirl around glowing yellow-white stars and a crescent moon, with a dark green cypress flaring up in the foreground. Thick impasto strokes, short and curved, follow the turbulence of the sky in rhythmic parallel dashes."
TITLE[the_scream]="The Scream"; ARTIST[the_scream]="Edvard Munch"
DESCRIPTION[the_scream]="A blood-orange and yellow sky curls in waves above a blue-black fjord, while a pale, skull-like figure on the bridge presses its hands to its face. Long, sinuous brushstrokes of flat colour ripple through sky, water and landscape alike, with the bridge's straight diagonal cutting across them."
TITLE[great_wave]="The Great Wave off Kanagawa"; ARTIST[great_wave]="Katsushika Hokusai"
DESCRIPTION[great_wave]="Prussian blue and indigo waves with white, claw-like foam tower over pale boats under a cream-yellow sky, Mount Fuji small and grey in the distance. Crisp woodblock outlines and flat graded colour replace brushwork, with the foam broken into fine, repeated curls."
TITLE[udnie]="Udnie (Young American Girl, The Dance)"; ARTIST[udnie]="Francis Picabia"
DESCRIPTION[udnie]="Interlocking planes of slate blue, ochre, rust and pale grey crowd the canvas in a near-abstract dance of shapes. Hard-edged, faceted forms with smooth modelled shading, as if a cubist machine had been set in motion."
TITLE[woman_with_hat]="Woman with a Hat"; ARTIST[woman_with_hat]="Henri Matisse"
DESCRIPTION[woman_with_hat]="Unmixed greens, violets, oranges and blues model a woman's face and an extravagant hat against a background of pink, turquoise and ochre patches. Broad, loose Fauvist brushstrokes leave the canvas showing between them, colour chosen for force rather than likeness."

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(starry_night the_scream great_wave udnie woman_with_hat)
for name in "${names[@]}"; do
  [ -n "${TITLE[$name]:-}" ] || { echo "unknown default model '$name'" >&2; exit 2; }
  model="$WORK/$name.safetensors"
  continue_from=()
  if [ "${RESUME:-0}" = 1 ] && [ -f "$model.ckpt" ]; then continue_from=(--resume); fi
  finetunes=0
  for phase in ${PHASES:-${PLAN[$name]}}; do
    seed=1
    if [ "${phase:0:1}" = + ]; then
      # Fine-tune: ITERATIONS more from the current model's weights, fresh optimiser, new batches.
      phase=${phase:1}
      finetunes=$((finetunes + 1))
      seed=$((1 + finetunes))
      continue_from=(--init-from "$model")
      model="$WORK/$name.finetune$finetunes.safetensors"
      rm -f "$model.ckpt"
    fi
    IFS=: read -r iterations lr style_weight tv_weight layer_weights content_weight <<<"$phase"
    start=$(date +%s)
    chrt --idle 0 build/pastiche train --style "$SHARED/images/style/$name.jpg" \
      --dataset "$SHARED/datasets/photos" -o "$model" --light --size 256 \
      --batch 4 --iterations "$iterations" --lr "$lr" --content-weight "${content_weight:-1}" \
      --style-weight "$style_weight" --threads "${THREADS:-0}" \
      --tv-weight "$tv_weight" --style-layers relu1_1,relu2_1,relu3_1 \
      --style-layer-weights "$layer_weights" --content-layers relu3_2 \
      --checkpoint-every 400 --preview-image "$SHARED/images/content/chicago.jpg" --fp16 \
      --seed "$seed" --title "${TITLE[$name]}" --artist "${ARTIST[$name]}" \
      --description "${DESCRIPTION[$name]}" --quiet "${continue_from[@]}"
    echo "$name: phase $phase in $(( $(date +%s) - start )) s" | tee -a "$WORK/times.txt"
    continue_from=(--resume)
  done
  cp "$model" "models/$name.safetensors"
done
