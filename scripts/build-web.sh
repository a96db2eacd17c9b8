#!/usr/bin/env bash
# Builds the web UI (web/ → web/dist/, served by `pastiche serve` at /). Idempotent: does nothing
# when web/dist is newer than every source file and the lock file; FORCE=1 rebuilds anyway.
# Needs Node.js ≥ 20 and npm (Debian 12: apt-get install nodejs npm, or NodeSource's node 20).
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null 2>&1; then
  echo "build-web: npm not found; install Node.js 20+ and npm to build the web UI" >&2
  exit 1
fi

stamp=dist/index.html
if [ "${FORCE:-0}" != 1 ] && [ -f "$stamp" ] && [ -d node_modules ]; then
  newer=$(find src public index.html package.json package-lock.json vite.config.js svelte.config.js \
    -newer "$stamp" -print -quit 2>/dev/null || true)
  if [ -z "$newer" ]; then
    echo "build-web: web/dist is up to date"
    exit 0
  fi
fi

# npm ci installs exactly the locked versions; skip it when node_modules already matches the lock.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
echo "build-web: built web/dist"
