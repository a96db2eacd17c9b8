#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: installs every dependency, builds the C++ engine and
# the web UI, then starts the service with the default styles on http://127.0.0.1:8080
# (Ctrl-C stops it). Extra arguments go to `pastiche serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build-web.sh
bash scripts/build.sh
echo
echo "Pastiche is built. Starting the service: open http://127.0.0.1:8080 in a browser."
exec build/pastiche serve "$@"
