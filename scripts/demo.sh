#!/usr/bin/env bash
# The demo command: set up, build, generate a synthetic utility into an embedded SQLite file
# (once; later runs reuse it) and serve it on http://127.0.0.1:8080/.
#   scripts/demo.sh                    # 20,000 customers
#   scripts/demo.sh --customers 1000000 --fresh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh gridmis
# The web console: (re)built when missing or older than its sources.
if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package-lock.json -newer web/dist/index.html -print -quit)" ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
mkdir -p var
exec build/src/cli/gridmis demo --db "sqlite://$PWD/var/gridmis-demo.db" \
  --listen "${GRIDMIS_LISTEN:-127.0.0.1:8080}" "$@"
