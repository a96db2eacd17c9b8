#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs every dependency, builds the C++ engine and
# the web UI, then starts the service with the default styles on http://127.0.0.1:8080
# (Ctrl-C stops it). Extra arguments go to `pastiche serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build-web.sh
bash scripts/build.sh
# Gatys gallery: the public-domain paintings from the shared data folder, when it is there
# (mosaic and candy are of unknown provenance and are left out).
SHARED="${PASTICHE_SHARED:-$(cd .. && pwd)/shared}"
extra=()
if [ -d "$SHARED/images/style" ]; then
  mkdir -p data/styles
  for f in "$SHARED"/images/style/*.jpg; do
    case "$(basename "$f")" in mosaic.jpg|candy.jpg) continue ;; esac
    ln -sf "$f" "data/styles/$(basename "$f")"
  done
  extra+=(--styles-dir data/styles)
fi
echo
echo "Pastiche is built. Starting the service: open http://127.0.0.1:8080 in a browser."
exec build/pastiche serve --data-dir data "${extra[@]}" "$@"
