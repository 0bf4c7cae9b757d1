#!/usr/bin/env bash
# Fuzzes the protocol decoders: builds the libFuzzer targets of fuzz/ with clang (AddressSanitizer
# and UndefinedBehaviorSanitizer, no recovery) in build-fuzz/, seeds their corpora from
# tests/data/vectors, and runs each for SECONDS (default 60). Fails on any crash, leak, hang
# (> 5 s on one input), out-of-memory or sanitizer report; the input that did it is left in
# build-fuzz/fuzz/artifacts/<target>/ and its hex printed.
#
#   scripts/fuzz.sh [SECONDS]
# Environment: GRIDMIS_FUZZ_BUILD (build directory), JOBS (ninja -j, default 2), FUZZ_TARGETS.
# Debian packages: clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes).
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GRIDMIS_FUZZ_BUILD:-$root/build-fuzz}
targets=${FUZZ_TARGETS:-"gdw1376_fuzz dlt645_fuzz frame_json_fuzz"}

mkdir -p "$build"
CC=clang CXX=clang++ cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGRIDMIS_FUZZ=ON -DGRIDMIS_BUILD_BENCH=OFF >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log" >&2; exit 1; }
# shellcheck disable=SC2086
ninja -C "$build" -j "${JOBS:-2}" fuzz_seed_corpus $targets

corpus=$build/fuzz/corpus
"$build/fuzz/fuzz_seed_corpus" "$root/tests/data/vectors" "$corpus"

failed=0
for t in $targets; do
  artifacts=$build/fuzz/artifacts/$t
  rm -rf "$artifacts"
  mkdir -p "$corpus/$t" "$artifacts"
  log=$build/fuzz/$t.log
  echo "== $t for ${seconds}s"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/fuzz/$t" -max_total_time="$seconds" -max_len=16391 -timeout=5 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" | tr '\n' ' '
    echo
  else
    failed=1
    echo "FAILED: $t (log: $log)" >&2
    grep -E 'ERROR|runtime error|SUMMARY|_fuzz:|Test unit written|deadly signal|timeout' "$log" \
      | head -20 >&2 || true
    for a in "$artifacts"/*; do
      [ -f "$a" ] && echo "  reproducer $(basename "$a"): $(od -An -tx1 -v "$a" | tr -s ' \n' ' ' | head -c 2000)" >&2
    done
  fi
done
exit $failed
