#!/usr/bin/env bash
# The test command: set up, build everything, start a throw-away PostgreSQL 15 server (unless
# GRIDMIS_TEST_PG_URL names one), and run every test on SQLite and PostgreSQL.
# Long soak/load tests carry the ctest label "soak" and run only with --soak.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
scripts/check-format.sh

labels=(-LE soak)
if [ "${1:-}" = "--soak" ]; then labels=(); fi

if [ -z "${GRIDMIS_TEST_PG_URL:-}" ]; then
  eval "$(scripts/pg-test-server.sh start)"
  trap 'scripts/pg-test-server.sh stop "$GRIDMIS_PG_DIR"' EXIT
fi
export GRIDMIS_TEST_REQUIRE_PG=1
ctest --test-dir build --output-on-failure -j2 "${labels[@]}"

# The protocol decoders under libFuzzer with ASan and UBSan, seeded with the test vectors, for a
# bounded time each (GRIDMIS_FUZZ_SECONDS, default 30): no crash, leak, hang or sanitizer report.
scripts/fuzz.sh "${GRIDMIS_FUZZ_SECONDS:-30}"

# The web console: component tests, then the browser tests against a real `gridmis serve`.
(cd web && npm ci --no-audit --no-fund && npm run build && npm test \
  && GRIDMIS_BIN="$PWD/../build/src/cli/gridmis" npm run e2e)
