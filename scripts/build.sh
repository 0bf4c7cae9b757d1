#!/usr/bin/env bash
# Installs what is missing (Debian packages) and builds gridmis into build/ (Release, Ninja,
# ccache). Extra arguments are passed to the build (e.g. a target name).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -- "$@"
