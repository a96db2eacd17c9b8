#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine: installs dependencies, builds, runs the C++ unit
# and integration tests (ctest), the web UI's unit tests, a short fuzzing pass and the browser
# end-to-end tests.
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ -f scripts/build-web.sh ]; then bash scripts/build-web.sh; fi
bash scripts/build.sh
status=0
# Web UI unit tests (vitest); build-web.sh installed the locked dependencies.
if [ -d web/node_modules ]; then (cd web && npx vitest run) || status=1; fi
# A throwaway PostgreSQL cluster for the PostgreSQL store, queue and service tests; stopped and
# removed at exit whatever happens.
PG_TEST_DIR=$(mktemp -d /tmp/pastiche-pg.XXXXXX)
trap 'bash scripts/pg-test-cluster.sh stop "$PG_TEST_DIR"' EXIT
PASTICHE_TEST_DATABASE_URL=$(bash scripts/pg-test-cluster.sh start "$PG_TEST_DIR")
export PASTICHE_TEST_DATABASE_URL
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 900) || status=1
if [ -f scripts/fuzz.sh ]; then bash scripts/fuzz.sh --smoke || status=1; fi
if [ -f scripts/test-e2e.sh ]; then bash scripts/test-e2e.sh || status=1; fi
exit $status
