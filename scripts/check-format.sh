#!/usr/bin/env bash
# Fails when a C++ file differs from the checked-in .clang-format style.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.h' '*.cc' 2>/dev/null || find src tests bench -name '*.h' -o -name '*.cc')
[ ${#files[@]} -eq 0 ] && exit 0
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/gridmis-format.log; then
  head -40 /tmp/gridmis-format.log >&2
  echo "format check failed: run clang-format -i on the files above" >&2
  exit 1
fi
