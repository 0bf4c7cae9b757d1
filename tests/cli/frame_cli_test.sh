#!/usr/bin/env bash
# `gridmis frame decode` and `gridmis frame encode` end to end: the encoder builds the frames of
# tests/data/vectors/gdw3761_constructed.json byte for byte, the decoder prints them as JSON
# (arguments or stdin), and bad input gives the documented exit codes with the error on stderr.
# Usage: frame_cli_test.sh PATH/TO/gridmis
set -euo pipefail
bin=$1
dir=$(mktemp -d /tmp/gridmis-frame-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
passed=0
failed=0
check() {  # name, command...
  local name=$1
  shift
  if "$@" >"$dir/out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name" >&2
    sed 's/^/    /' "$dir/out" >&2
  fi
}
# encodes NAME EXPECTED_HEX ARGS...: `gridmis frame encode ARGS` prints EXPECTED_HEX.
encodes() {
  local name=$1 expected=$2
  shift 2
  check "encode $name" bash -c \
    'exp=$1; shift; got=$("$0" frame encode "$@") && [ "$got" = "$exp" ] || { echo "got:      $got"; echo "expected: $exp"; false; }' \
    "$bin" "$expected" "$@"
}
T=(--terminal 3201-04660)
TP=(--tp-time '2024-03-15 10:30:00' --tp-delay 5 --pfc 1)

# ---- encode: the constructed vectors ----
encodes login "68 32 00 32 00 68 C9 01 32 34 12 00 02 73 00 00 01 00 B8 16" login "${T[@]}" --seq 3
encodes heartbeat "68 32 00 32 00 68 C9 01 32 34 12 00 02 74 00 00 04 00 BC 16" heartbeat "${T[@]}" --seq 4
encodes trip "68 8E 00 8E 00 68 4A 01 32 34 12 02 05 F1 01 01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 30 10 15 05 19 16" \
  trip "${T[@]}" --seq 1 "${TP[@]}"
encodes "trip of two rounds" "68 92 00 92 00 68 4A 01 32 34 12 02 05 F2 03 01 01 00 23 23 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 30 10 15 05 62 16" \
  trip "${T[@]}" --round 1,2 --limit-half-hours 2 --alarm-delay 3 --seq 2 "${TP[@]}"
encodes close "68 8A 00 8A 00 68 4A 01 32 34 12 02 05 F3 01 01 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 30 10 15 05 1C 16" \
  close "${T[@]}" --round 1 --seq 3 "${TP[@]}"
encodes timesync "68 A2 00 A2 00 68 4A 01 32 34 12 02 05 F4 00 00 40 03 00 30 10 15 A3 24 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 30 10 15 05 78 16" \
  timesync "${T[@]}" --time '2024-03-15 10:30:00' --seq 4 "${TP[@]}"
encodes "read clock" "68 32 00 32 00 68 4B 01 32 34 12 02 0C 65 00 00 02 00 39 16" read "${T[@]}" --fn 2 --seq 5
encodes "read p1..p8" "68 32 00 32 00 68 4B 01 32 34 12 02 0C 67 FF 01 01 10 4A 16" read "${T[@]}" --fn 129 --pn 1..8 --seq 7
encodes "read all points" "68 32 00 32 00 68 4B 01 32 34 12 02 0C 68 FF 00 01 10 4A 16" read "${T[@]}" --fn 129 --pn all --seq 8
encodes daily "68 3E 00 3E 00 68 4B 01 32 34 12 02 0D 6A 01 01 01 14 14 03 24 8F 16" daily "${T[@]}" --pn 1 --day 2024-03-14 --seq 10
encodes curve "68 4E 00 4E 00 68 4B 01 32 34 12 02 0D 6B 01 01 10 0C 00 00 14 03 24 02 04 9D 16" \
  curve "${T[@]}" --pn 1 --start '2024-03-14 00:00' --density 2 --points 4 --seq 11
encodes forward645 "68 DA 00 DA 00 68 4A 01 32 34 12 02 10 7C 00 00 01 00 02 6B 8A 14 14 00 FE FE FE FE 68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 E5 16" \
  forward645 "${T[@]}" --port 2 --meter 000000000001 --di 00010000 --seq 12
encodes "version (AFN09)" "68 32 00 32 00 68 4A 01 32 34 12 02 09 6D 00 00 01 00 3C 16" read "${T[@]}" --afn 09 --fn 1 --seq 13
encodes "query params (AFN0A)" "68 32 00 32 00 68 4A 01 32 34 12 02 0A 6E 00 00 01 00 3E 16" read "${T[@]}" --afn 0A --fn 1 --seq 14
encodes events "68 3A 00 3A 00 68 4B 01 32 34 12 02 0E 6F 00 00 01 00 00 0A 4E 16" events "${T[@]}" --pm 0 --pn 10 --seq 15

# ---- encode, then decode what was built ----
roundtrip() {  # name, jq-free grep pattern, encode args...
  local name=$1 pattern=$2
  shift 2
  check "$name" bash -c 'p=$1; shift; "$0" frame encode "$@" | "$0" frame decode - | grep -q -- "$p"' \
    "$bin" "$pattern" "$@"
}
roundtrip "urge-alarm on decodes as F26" '"name": "urge-fee alarm on"' urge-alarm on "${T[@]}"
roundtrip "urge-alarm off decodes as F34" '"name": "urge-fee alarm off"' urge-alarm off "${T[@]}"
roundtrip "power-control enable is purchase control on" '"name": "purchase (prepaid) energy control on"' \
  power-control enable "${T[@]}" --group 1
roundtrip "power-control release of monthly control" '"name": "monthly energy control off"' \
  power-control release "${T[@]}" --kind monthly
roundtrip "monthly carries Td_m" '"td_m": "2024-02"' monthly "${T[@]}" --pn 1 --month 2024-02
roundtrip "a 645 trip inside AFN10" '"action_name": "trip"' forward645 "${T[@]}" --meter 000000000001 --control trip
roundtrip "logout" '"name": "logout"' logout "${T[@]}"

# ---- decode ----
f161="68 BA 00 BA 00 68 88 01 32 34 12 02 0D 6A 01 01 01 14 14 03 24 00 00 15 03 24 04 89 67 45 23 01 01 00 00 10 00 02 00 00 20 00 03 00 00 30 00 83 67 45 63 00 5D 16"
check "decode an F161 reply (one argument)" bash -c \
  "'$bin' frame decode '$f161' | grep -q '\"total\": \"12345.6789\"'"
check "decode an F161 reply (bytes as arguments)" bash -c \
  "'$bin' frame decode $f161 | grep -q '\"td_d\": \"2024-03-14\"'"
check "decode a 645 reply with FE preamble" bash -c \
  "'$bin' frame decode 'FE FE FE FE 68 01 00 00 00 00 00 68 91 08 33 33 34 33 89 67 45 33 9F 16' | grep -q '\"1234.56\"'"
printf '# captured on site\n\n68 32 00 32 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 E4 16\n68:01:00:00:00:00:00:68:91:06:33:34:34:35:34:55:C1:16\n' >"$dir/lines"
check "decode - reads one frame per line" bash -c \
  "'$bin' frame decode --compact - <'$dir/lines' >'$dir/json' && [ \$(wc -l <'$dir/json') -eq 2 ] && grep -q heartbeat '$dir/json' && grep -q '220.1' '$dir/json'"
check "a bad checksum exits 1 naming the offset" bash -c \
  "'$bin' frame decode '68 32 00 32 00 68 C9 01 32 34 12 00 02 73 00 00 01 00 B9 16' >'$dir/o' 2>'$dir/err'; [ \$? -eq 1 ] && grep -q offset '$dir/err' && grep -q '\"error\"' '$dir/o'"
check "bad hex exits 1 naming the character" bash -c \
  "'$bin' frame decode '68 3G' 2>'$dir/err' >/dev/null; [ \$? -eq 1 ] && grep -q \"character 5 'G'\" '$dir/err'"
printf '68 32 00 32 00 68 C9 71 01 22 08 00 02 79 00 00 04 00 E4 16\n01 02\n' >"$dir/mixed"
check "decode - exits 1 when a line is bad, naming the line" bash -c \
  "'$bin' frame decode - <'$dir/mixed' >/dev/null 2>'$dir/err'; [ \$? -eq 1 ] && grep -q 'line 2' '$dir/err'"

# ---- encode errors ----
check "a bad terminal exits 2" bash -c \
  "'$bin' frame encode login --terminal 32-1 2>'$dir/err'; [ \$? -eq 2 ] && grep -q 'terminal' '$dir/err'"
check "a pn out of range exits 2" bash -c \
  "'$bin' frame encode read --terminal 3201-04660 --fn 129 --pn 2041 2>'$dir/err'; [ \$? -eq 2 ] && grep -q 2041 '$dir/err'"
check "a bad meter address exits 2" bash -c \
  "'$bin' frame encode forward645 --terminal 3201-04660 --meter 12345 2>'$dir/err'; [ \$? -eq 2 ] && grep -q 'meter address' '$dir/err'"
check "a bad day exits 2" bash -c \
  "'$bin' frame encode daily --terminal 3201-04660 --pn 1 --day 2024-02-30 2>'$dir/err'; [ \$? -eq 2 ]"

echo "frame_cli_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
