#!/bin/bash
# CPU matrix (issue 27): Pastiche against the PyTorch reference (../shared/peers) under each oneDNN
# ISA cap (ONEDNN_MAX_CPU_ISA), both sides under the same cap in the same run, one process at a
# time, 2 threads each. Per cap:
#   1. Gatys seconds per loss evaluation, 256 px, the peer's shallow preset: peer_gatys.py
#      s_per_closure vs build/bench/gatys_bench Shallow/256 (the fastest of its 4 precision x layout
#      variants, each in its own process so that one failing variant does not hide the others);
#   2. Gatys defaults at 512 px on each PAIRS content:style: `pastiche stylize --json` seconds,
#      quality by evaluate.py (style_rel, content_rel), and those seconds in evaluations of the
#      peer's tutorial preset at 512 px (peer_gatys.py s_per_closure on the first pair);
#   3. fast inference at 1024²: fast_bench (random weights) with the light network's shape read
#      from LIGHT_MODEL (models/great_wave.safetensors) and the paper network (width 32, 5 residual
#      blocks, as bench/fast_vs_peer.sh) vs peer_fast.py --mode infer;
#   4. a training step, 256², batch 4: fast_bench --mode train (both networks) vs peer_fast.py
#      --mode train.
# Prints the machine, then a Markdown table for bench/RESULTS.md (one row per measure and cap). A
# measurement that fails gets "failed: <reason>" in its cell and the run goes on. Every process's
# JSON (or error) is appended to $LOG as one line.
# usage: bench/cpu_matrix.sh [BUILD_DIR] [SHARED_DIR]
#   CAPS="native AVX512_CORE AVX2"   caps to run (native = ONEDNN_MAX_CPU_ISA unset)
#   PAIRS="chicago:starry_night dog:the_scream arched_door:woman_with_hat"  (images/content:style)
#   QUICK=1          a smoke run: one pair, Gatys at 256 px and 100 steps, the peers' minimum of
#                    ~20 evaluations, inference at 256², training at 128², 1 timed run after 1
#                    warm-up (about 3 minutes per cap on a quiet machine)
#   LOG=FILE         raw JSON lines (default: a temp file, path printed)
#   PRECISION=auto   --precision of `pastiche stylize` and fast_bench (auto, fp32, bf16)
#   TIMEOUT=1800     seconds per process
# The cap limits oneDNN (convolutions, and Pastiche's bf16 matrix products); fp32 matrix products
# (the peers' Gram matrices) go to the system BLAS, which picks its kernels from the CPU itself.
set -uo pipefail
build=${1:-build}
shared=${2:-../shared}
vgg=${PASTICHE_VGG:-$shared/models/vgg19-keras-partial.safetensors}
export PASTICHE_VGG="$vgg"
py=/usr/bin/python3
peers="$shared/peers"
caps=${CAPS:-native AVX512_CORE AVX2}
pairs=${PAIRS:-chicago:starry_night dog:the_scream arched_door:woman_with_hat}
light_model=${LIGHT_MODEL:-models/great_wave.safetensors}
timeout_s=${TIMEOUT:-1800}
quick=${QUICK:-0}
precision=${PRECISION:-auto}
if [ "$quick" = 1 ]; then
  gatys_size=256 gatys_steps=100 peer_steps=1 infer_size=256 train_size=128 runs=1 pairs=${pairs%% *}
else
  gatys_size=512 gatys_steps=0 peer_steps=20 infer_size=1024 train_size=256 runs=3
fi
gatys_label=$([ "$gatys_steps" = 0 ] && echo "defaults" || echo "defaults but $gatys_steps steps")
LOG=${LOG:-$(mktemp /tmp/cpu_matrix.XXXXXX.jsonl)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Helper: JSON out of a process's stdout (a whole document or the last {...} line), a value out of
# it by a Python expression over d, and one log line per process.
cat >"$tmp/h.py" <<'EOF'
import json, sys, time
def load(path):
    text = open(path, errors="replace").read()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None
op = sys.argv[1]
if op == "json":
    d = load(sys.argv[2])
    if isinstance(d, dict):
        print(json.dumps(d, separators=(",", ":")))
elif op == "get":
    try:
        v = eval(sys.argv[3], {"d": json.loads(sys.argv[2])})
    except Exception:
        v = None
    print("" if v is None else v)
elif op == "log":
    path, cap, ident, rc, js, err = sys.argv[2:8]
    rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "cap": cap, "id": ident, "rc": int(rc),
           "cmd": sys.argv[8:], "result": json.loads(js) if js else None, "error": err or None}
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")
EOF
get() { $py "$tmp/h.py" get "$@"; }
num() { awk -v x="$1" -v f="$2" 'BEGIN { printf f, x }'; }   # num VALUE FORMAT
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# reason RC STDERR_FILE: one short line saying why a process failed.
reason() {
  local line
  if [ "$1" = 124 ]; then echo "timed out after ${timeout_s} s"; return; fi
  line=$(grep -m1 'what():' "$2")
  [ -z "$line" ] && line=$(grep -E '[Ee]rror|[Ee]xception|failed' "$2" | grep -v '^Exception raised from' | tail -n1)
  [ -z "$line" ] && line=$(grep -v '^[[:space:]]*$' "$2" | tail -n1)
  line=${line#*what():}
  line=${line#error: }
  line=$(echo "$line" | tr '|\t' '/ ' | sed 's/^ *//' | cut -c1-90)
  echo "${line:-exit status $1}"
}

# measure ID CMD...: runs CMD under the current cap ($cap; EVAL_NATIVE=1: uncapped). Sets $json,
# or $err ("failed: ...") and returns 1.
measure() {
  local id=$1 rc
  shift
  echo "# [$cap] $id: $*" >&2
  local -a envs=(env -u ONEDNN_MAX_CPU_ISA -u DNNL_MAX_CPU_ISA)
  [ "$cap" != native ] && [ "${EVAL_NATIVE:-0}" != 1 ] && envs+=(ONEDNN_MAX_CPU_ISA="$cap")
  "${envs[@]}" timeout "$timeout_s" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  json=$($py "$tmp/h.py" json "$tmp/out")
  err=""
  if [ "$rc" != 0 ]; then
    err="failed: $(reason "$rc" "$tmp/err")" json=""
  elif [ -z "$json" ]; then
    err="failed: no JSON on stdout"
  fi
  $py "$tmp/h.py" log "$LOG" "$cap" "$id" "$rc" "$json" "$err" "$@"
  [ -n "$err" ] && echo "#   $err" >&2
  [ -z "$err" ]
}

# row KEY MEASURE PASTICHE RAN REFERENCE RATIO TARGET MET: rows sorted by KEY, caps in run order.
row() {
  local key=$1
  shift
  printf '| %s | %s |' "$1" "$cap" >>"$tmp/row.$key"
  shift
  printf ' %s |' "$@" >>"$tmp/row.$key"
  echo >>"$tmp/row.$key"
}

# ratio PASTICHE PEER -> "0.17x", or which side failed (an empty figure).
ratio() {
  if [ -z "$1" ]; then echo "n/a (Pastiche failed)"
  elif [ -z "$2" ]; then echo "n/a (reference failed)"
  else echo "$(div "$1" "$2")x"; fi
}

# verdict RATIO TARGET -> met / not met / n/a
verdict() {
  case "$1" in
    n/a*) echo "n/a" ;;
    *) if le "${1%x}" "$2"; then echo met; else echo "not met"; fi ;;
  esac
}

# Network shape of the light model (its safetensors metadata), falling back to width 16, 3 blocks.
read -r light_w light_b <<<"$($py -c '
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
net = json.loads(meta["network"])
print(net["width"], net["res_blocks"])' "$light_model" 2>/dev/null || echo 16 3)"

# --- the machine ---
echo "## CPU matrix: Pastiche and the PyTorch reference under oneDNN ISA caps"
echo
echo "- date: $(date -Iseconds)"
echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
flags=$(grep -m1 '^flags' /proc/cpuinfo)
have=""
for f in avx2 avx512f avx512_bf16 amx_bf16 avx512_vnni; do
  if [[ " $flags " == *" $f "* ]]; then have+=" $f"; else have+=" ~~$f~~"; fi
done
echo "- flags:$have (struck through: absent)"
echo "- torch (peers): $($py -c 'import torch; print(torch.__version__)' 2>&1 | tail -n1); BLAS:" \
  "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
echo "- Pastiche: $("$build/pastiche" --version 2>&1 | head -n1) ($(git rev-parse --short HEAD 2>/dev/null)," \
  "$build), precision $precision; threads 2 per process (gatys_bench: all $(nproc) cores), one" \
  "process at a time"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg); caps: $caps; pairs: $pairs$(
  [ "$quick" = 1 ] && echo '; QUICK=1')"
echo "- raw JSON lines: $LOG"
echo "- light network: width $light_w, $light_b residual blocks (shape of $light_model)"
echo

for cap in $caps; do
  # 1. Gatys s/evaluation, 256 px, shallow preset.
  if measure peer_gatys_shallow_256 $py "$peers/peer_gatys.py" --layers-preset shallow --size 256 \
    --threads 2 --count closure --steps "$peer_steps" --weights "$vgg"; then
    peer=$(num "$(get "$json" 'd["s_per_closure"]')" '%.3f') reference="$peer s"
  else peer="" reference=$err; fi
  best="" ran="" failed="" why=""
  for variant in "0/0 fp32 nchw" "1/0 fp32 channels-last" "0/1 bf16 nchw" "1/1 bf16 channels-last"; do
    read -r args v_precision v_layout <<<"$variant"
    if measure "gatys_bench_shallow_256_${v_precision}_$v_layout" "$build/bench/gatys_bench" \
      --benchmark_filter="BM_Shallow/256/$args/" --benchmark_format=json; then
      ms=$(get "$json" 'd["benchmarks"][0]["real_time"]')
      if [ -z "$best" ] || le "$ms" "$best"; then best=$ms ran="$v_precision $v_layout"; fi
    else
      failed+=", $v_precision $v_layout" why=${why:-$err}
    fi
  done
  if [ -n "$best" ]; then
    pastiche=$(awk -v ms="$best" 'BEGIN { printf "%.3f", ms / 1000 }') cell="$pastiche s"
    ran+=" (fastest of 4${failed:+; ${failed#, }: $why})"
  else
    pastiche="" cell="$why (all 4 variants)" ran="fp32 and bf16, nchw and channels-last"
  fi
  ratio=$(ratio "$pastiche" "$peer")
  row 1 "Gatys s/evaluation, 256 px, shallow preset" "$cell" "$ran" "$reference" "$ratio" \
    "≤ 0.25x" "$(verdict "$ratio" 0.25)"

  # 2. Gatys defaults: the peer's tutorial-preset evaluation on the first pair, then each pair.
  first=${pairs%% *}
  if measure "peer_gatys_tutorial_$gatys_size" $py "$peers/peer_gatys.py" --size "$gatys_size" \
    --threads 2 --count closure --steps "$peer_steps" --weights "$vgg" \
    --content "$shared/images/content/${first%%:*}.jpg" --style "$shared/images/style/${first#*:}.jpg"; then
    peer=$(get "$json" 'd["s_per_closure"]')
    reference="$(num "$peer" '%.3f') s/evaluation (tutorial preset)"
  else peer="" reference=$err; fi
  k=0
  for pair in $pairs; do
    k=$((k + 1))
    c="$shared/images/content/${pair%%:*}.jpg" s="$shared/images/style/${pair#*:}.jpg"
    out="$tmp/${pair%%:*}-${pair#*:}.png"
    secs="" style_rel=""
    if measure "pastiche_stylize_${gatys_size}_$pair" "$build/pastiche" stylize "$c" --style "$s" \
      -o "$out" --size "$gatys_size" --steps "$gatys_steps" --precision "$precision" --threads 2 \
      --json -q; then
      secs=$(get "$json" 'd["seconds"]')
      ran="$(get "$json" 'd["precision"]') $(get "$json" 'd["layout"]'), $(get "$json" 'd["iterations"]') evaluations"
      if EVAL_NATIVE=1 measure "evaluate_${gatys_size}_$pair" $py "$peers/evaluate.py" "$out" \
        --content "$c" --style "$s" --size "$gatys_size" --weights "$vgg"; then
        style_rel=$(get "$json" 'd["style_rel"]') content_rel=$(get "$json" 'd["content_rel"]')
        quality="style $(num "$style_rel" '%.4f'), content $(num "$content_rel" '%.3f')"
      else quality="quality $err"; fi
      cell="$(num "$secs" '%.1f') s; $quality"
    else cell=$err ran="$precision precision"; fi
    ratio=$(ratio "$secs" "$peer")
    if [[ $ratio == n/a* ]]; then met="n/a"
    elif [ -z "$style_rel" ]; then met="n/a (quality failed)"
    else
      ratio="$(awk -v a="$secs" -v b="$peer" 'BEGIN { printf "%.1f", a / b }') evaluations"
      missed=""
      le "${ratio% *}" 20 || missed+=", time"
      le "$style_rel" 0.02 || missed+=", style"
      le "$content_rel" 0.55 || missed+=", content"
      met=$([ -z "$missed" ] && echo met || echo "not met (${missed#, })")
    fi
    row "2$(printf %02d $k)" "Gatys $gatys_label, $gatys_size px, ${pair%%:*} × ${pair#*:}" "$cell" "$ran" \
      "$reference" "$ratio" "≤ 20 evaluations, style ≤ 0.02, content ≤ 0.55" "$met"
  done

  # 3. Fast inference.
  if measure "peer_fast_infer_$infer_size" $py "$peers/peer_fast.py" --mode infer --size "$infer_size" \
    --runs "$runs" --warmup 1 --threads 2; then
    peer=$(num "$(get "$json" "[r['median_ms'] for r in d['results'] if r['size'] == $infer_size][0]")" '%.0f')
    reference="$peer ms"
  else peer="" reference=$err; fi
  for net in "light $light_w $light_b" "paper 32 5"; do
    read -r label width blocks <<<"$net"
    if measure "fast_bench_infer_${infer_size}_$label" "$build/bench/fast_bench" --mode infer \
      --sizes "$infer_size" --runs "$runs" --warmup 1 --threads 2 --width "$width" --res-blocks "$blocks" \
      --precision "$precision"; then
      pastiche=$(num "$(get "$json" "d['infer']['$infer_size']['median_ms']")" '%.0f') cell="$pastiche ms"
      ran="$(get "$json" 'd["precision"]') $(get "$json" 'd["layout"]')"
    else pastiche="" cell=$err ran="$precision precision"; fi
    ratio=$(ratio "$pastiche" "$peer")
    row "3$label" "Fast inference ${infer_size}², $label (width $width, $blocks blocks)" "$cell" "$ran" \
      "$reference" "$ratio" "≤ 0.15x" "$(verdict "$ratio" 0.15)"
  done

  # 4. Training step.
  if measure "peer_fast_train_$train_size" $py "$peers/peer_fast.py" --mode train --train-size "$train_size" \
    --runs "$runs" --warmup 1 --threads 2; then
    peer=$(num "$(get "$json" 'd["median_s_per_step"]')" '%.2f') reference="$peer s"
  else peer="" reference=$err; fi
  for net in "light $light_w $light_b" "paper 32 5"; do
    read -r label width blocks <<<"$net"
    if measure "fast_bench_train_${train_size}_$label" "$build/bench/fast_bench" --mode train \
      --size "$train_size" --runs "$runs" --warmup 1 --threads 2 --width "$width" --res-blocks "$blocks" \
      --precision "$precision" --vgg "$vgg"; then
      pastiche=$(num "$(get "$json" 'd["train"]["median_s_per_step"]')" '%.2f') cell="$pastiche s"
      ran="$(get "$json" 'd["precision"]') $(get "$json" 'd["layout"]')"
    else pastiche="" cell=$err ran="$precision precision"; fi
    ratio=$(ratio "$pastiche" "$peer")
    row "4$label" "Training step ${train_size}², batch 4, $label (width $width, $blocks blocks)" "$cell" "$ran" \
      "$reference" "$ratio" "≤ 0.25x" "$(verdict "$ratio" 0.25)"
  done
done

echo "| measure | ONEDNN_MAX_CPU_ISA | Pastiche | Pastiche ran | reference (PyTorch) | ratio | target | met |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
cat "$tmp"/row.*
echo
echo "Raw JSON lines: $LOG"
