#!/usr/bin/env bash
# End-to-end tests of the web UI: headless Debian Chromium (playwright-core, no browser download)
# against a real `pastiche serve` on a free loopback port with a throw-away data directory.
#
#   scripts/test-e2e.sh                        # build web UI, start server, run tests, stop server
#   scripts/test-e2e.sh --update-screenshots   # also write docs/screenshots/*.png
#   scripts/test-e2e.sh --mock                 # UI development only: tests/e2e/mock-server.mjs
#   scripts/test-e2e.sh -- --test-name-pattern=phone   # extra arguments for `node --test`
#
# Environment:
#   PASTICHE_BIN   the server binary (default build/pastiche)
#   PASTICHE_VGG   VGG weights for Gatys jobs; when unset, tiny synthetic weights are generated
#                  (tests/e2e/synth-vgg.mjs), which exercise the whole job path in seconds
#   CHROMIUM_PATH  the browser (default /usr/bin/chromium; Debian package `chromium`)
#   PASTICHE_SCREENSHOTS  folder for screenshots (default: none unless --update-screenshots)
#   PASTICHE_E2E_STYLES_DIR  paintings for the server's Gatys styles (default: styles/, else a
#                  synthetic test pattern)
#   PASTICHE_E2E_PHOTO  a photo for the screenshot showcase (default: a drawn test picture)
# Nicer screenshots, e.g.: PASTICHE_VGG=/path/vgg19.safetensors PASTICHE_E2E_STYLES_DIR=/path/paintings
#   PASTICHE_E2E_PHOTO=/path/photo.jpg scripts/test-e2e.sh --update-screenshots
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

MOCK=0
NODE_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mock) MOCK=1 ;;
    --update-screenshots) export PASTICHE_SCREENSHOTS="$ROOT/docs/screenshots" ;;
    --) shift; NODE_ARGS=("$@"); break ;;
    *) echo "test-e2e: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

BIN="${PASTICHE_BIN:-$ROOT/build/pastiche}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

if ! command -v node >/dev/null 2>&1; then
  echo "test-e2e: node not found; install Node.js 20+" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "test-e2e: $CHROMIUM_PATH not found; installing Debian's chromium" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || { echo "test-e2e: could not install chromium (apt-get install chromium)" >&2; exit 1; }
fi
if [ "$MOCK" = 0 ] && [ ! -x "$BIN" ]; then
  echo "test-e2e: server binary $BIN not found; build it first (scripts/build.sh) or set PASTICHE_BIN" >&2
  exit 1
fi

bash "$ROOT/scripts/build-web.sh"
if [ ! -d tests/e2e/node_modules/playwright-core ] \
   || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pastiche-e2e.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PORT="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
URL="http://127.0.0.1:$PORT"

if [ "$MOCK" = 1 ]; then
  echo "test-e2e: MOCK server (tests/e2e/mock-server.mjs) on $URL — not the real service"
  node tests/e2e/mock-server.mjs --port "$PORT" --speed 2 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
else
  if [ -z "${PASTICHE_VGG:-}" ]; then
    node tests/e2e/synth-vgg.mjs "$WORK/vgg19-synthetic.safetensors" --blocks 3
    export PASTICHE_VGG="$WORK/vgg19-synthetic.safetensors"
  fi
  SERVE_ARGS=(--port "$PORT" --data-dir "$WORK/data")
  # Without shipped paintings or fast models (a fresh checkout before they are added), the
  # server gets synthetic ones: a striped test painting, and a fast model trained on it for a
  # few iterations — meaningless pictures, real code paths.
  node tests/e2e/fixtures.mjs "$WORK/fixtures" >/dev/null
  if [ -n "${PASTICHE_E2E_STYLES_DIR:-}" ]; then
    SERVE_ARGS+=(--styles-dir "$PASTICHE_E2E_STYLES_DIR")
  elif ! ls "$ROOT"/styles/*.jpg "$ROOT"/styles/*.png >/dev/null 2>&1; then
    SERVE_ARGS+=(--styles-dir "$WORK/fixtures/styles")
  fi
  if [ -z "${PASTICHE_MODELS_DIR:-}" ] && ! ls "$ROOT"/models/*.safetensors >/dev/null 2>&1; then
    mkdir -p "$WORK/models" "$WORK/train"
    echo "test-e2e: no fast models in models/: training a throw-away one for the tests"
    if "$BIN" train -s "$WORK/fixtures/styles/e2e_stripes.png" --dataset "$WORK/fixtures/photos" \
         -o "$WORK/train/e2e_stripes.safetensors" --name e2e_stripes \
         --title "Stripes (test pattern)" --artist "Pastiche test suite" \
         --description "A throw-away model trained for a few iterations by the e2e tests." \
         --iterations 2 --size 64 --batch 1 --light --vgg "$PASTICHE_VGG" -q >"$WORK/train.log" 2>&1; then
      mv "$WORK/train/e2e_stripes.safetensors" "$WORK/models/"
      SERVE_ARGS+=(--models-dir "$WORK/models")
    else
      echo "test-e2e: training the test model failed; fast tests will fail:" >&2
      tail -5 "$WORK/train.log" >&2
    fi
  fi
  # The shipped arbitrary-style decoder belongs to the real VGG weights: with synthetic ones, a
  # decoder trained for a few iterations on them (instant method, real code paths).
  if [ -z "${PASTICHE_ARBITRARY_MODEL:-}" ] && [[ "$PASTICHE_VGG" == "$WORK"/* ]]; then
    if "$BIN" train-arbitrary --dataset "$WORK/fixtures/photos" -o "$WORK/arbitrary.safetensors" \
         --iterations 4 --size 64 --batch 1 --width 8 --vgg "$PASTICHE_VGG" -q \
         >"$WORK/train-arbitrary.log" 2>&1; then
      export PASTICHE_ARBITRARY_MODEL="$WORK/arbitrary.safetensors"
    else
      echo "test-e2e: training the test decoder failed; instant tests will fail:" >&2
      tail -5 "$WORK/train-arbitrary.log" >&2
    fi
  fi
  echo "test-e2e: $BIN serve on $URL (data in $WORK/data, VGG $PASTICHE_VGG)"
  SERVE_HELP="$("$BIN" serve --help 2>&1 || true)"
  # Optional flags, passed only when this build of the server has them.
  if grep -q -- '--host' <<<"$SERVE_HELP"; then SERVE_ARGS+=(--host 127.0.0.1); fi
  if grep -q -- '--web-dir' <<<"$SERVE_HELP"; then SERVE_ARGS+=(--web-dir "$ROOT/web/dist"); fi
  if grep -q -- '--vgg' <<<"$SERVE_HELP"; then SERVE_ARGS+=(--vgg "$PASTICHE_VGG"); fi
  # Every test browser shares 127.0.0.1: a per-IP request limit would throttle the suite.
  if grep -q -- '--rate-limit' <<<"$SERVE_HELP"; then SERVE_ARGS+=(--rate-limit 0); fi
  # A short preview interval so a short Gatys job shows previews.
  if grep -q -- '--preview-every' <<<"$SERVE_HELP"; then SERVE_ARGS+=(--preview-every 5); fi
  "$BIN" serve "${SERVE_ARGS[@]}" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
fi

for _ in $(seq 1 300); do
  if curl -fsS "$URL/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "test-e2e: the server exited early:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  sleep 0.2
done
if ! curl -fsS "$URL/healthz" >/dev/null 2>&1; then
  echo "test-e2e: no answer from $URL/healthz after 60 s" >&2
  tail -50 "$WORK/server.log" >&2
  exit 1
fi

# Gatys tests need the method to be available (VGG weights loaded).
if curl -fsS "$URL/api/device" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const m = JSON.parse(s).methods || {};
    process.exit((Array.isArray(m) ? m.includes("gatys") : m.gatys) ? 0 : 1);
  });'; then
  export PASTICHE_E2E_GATYS=1
else
  export PASTICHE_E2E_GATYS=0
  echo "test-e2e: the server reports no Gatys method; Gatys tests are skipped" >&2
fi

export PASTICHE_URL="$URL"
status=0
node --test --test-concurrency=1 --test-reporter=spec "${NODE_ARGS[@]}" tests/e2e/*.test.mjs || status=$?
if [ "$status" != 0 ]; then
  echo "test-e2e: FAILED; last lines of the server log:" >&2
  tail -40 "$WORK/server.log" >&2
fi
exit "$status"
