#!/bin/bash
# `gridmis bill run` end to end: a run killed with SIGKILL part-way and started again ends with
# exactly the bills and lines of an uninterrupted run over a copy of the same database; a third
# run makes nothing new; bad input exits 2 naming the option.
#
#   bill_run_test.sh GRIDMIS BILL_RUN_BENCH
#
# The database comes from the bill-run benchmark's generator (bill_run_bench --setup-only).
set -euo pipefail
GRIDMIS=$1
BENCH=$2
POINTS=${POINTS:-40000}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

count() { sqlite3 "$1" "SELECT COUNT(*) FROM bills" 2>/dev/null || echo 0; }

# Every bill and line without ids, run ids and times, in bill-number order.
dump() {
  sqlite3 "$1" "SELECT bill_no, metering_point_id, customer_id, account_id, department_id, period,
      seq, status, tariff_code, tariff_version, customer_category, first_day, last_day, billed_kwh,
      tier1_kwh, tier2_kwh, tier3_kwh, tier_cumulative_after_kwh, power_factor, pf_standard,
      pf_adjust_rate, pf_base_fen, energy_fen, basic_fen, pf_fen, fund_fen, total_fen, read_id,
      read_source, review_flags, detail_json FROM bills ORDER BY bill_no"
  sqlite3 "$1" "SELECT b.bill_no, l.line_no, l.kind, l.rule, l.description, l.tariff_code,
      l.period_code, l.tier, l.quantity, l.unit, l.unit_price, l.amount_fen, l.sources,
      l.tariff_version, l.share, l.days, l.days_base, l.from_day, l.to_day
      FROM bill_lines l JOIN bills b ON b.id = l.bill_id ORDER BY b.bill_no, l.line_no"
}

export GRIDMIS_LOG_LEVEL=warn
"$BENCH" --points "$POINTS" --db "sqlite://$DIR/killed.db" --setup-only > /dev/null
cp "$DIR/killed.db" "$DIR/clean.db"

# Bad input changes nothing.
set +e
"$GRIDMIS" bill run --period 2026-13 --db "sqlite://$DIR/clean.db" > /dev/null 2> "$DIR/bad.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "a bad period exits $rc, not 2"
grep -q "period" "$DIR/bad.err" || fail "the error does not name the period: $(cat "$DIR/bad.err")"

# The reference: an uninterrupted run (output is not a terminal: plain progress lines).
"$GRIDMIS" bill run --period 2026-11 --db "sqlite://$DIR/clean.db" > "$DIR/clean.out" \
  2> "$DIR/clean.err" || fail "the uninterrupted run failed: $(cat "$DIR/clean.out" "$DIR/clean.err")"
grep -q "succeeded" "$DIR/clean.out" || fail "no summary: $(cat "$DIR/clean.out")"
grep -q "bills       $POINTS" "$DIR/clean.out" || fail "not $POINTS bills: $(cat "$DIR/clean.out")"
grep -q "rating" "$DIR/clean.err" || fail "no progress lines: $(cat "$DIR/clean.err")"
[ "$(count "$DIR/clean.db")" -eq "$POINTS" ] || fail "clean run: $(count "$DIR/clean.db") bills"

# Killed with SIGKILL once some chunks have committed.
"$GRIDMIS" bill run --period 2026-11 --db "sqlite://$DIR/killed.db" > "$DIR/killed1.out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  n=$(count "$DIR/killed.db")
  [ "$n" -ge 4000 ] && break
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.05
done
kill -9 "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
partial=$(count "$DIR/killed.db")
[ "$partial" -gt 0 ] && [ "$partial" -lt "$POINTS" ] ||
  fail "the kill came at $partial of $POINTS bills; raise POINTS"
status=$(sqlite3 "$DIR/killed.db" "SELECT status FROM jobs ORDER BY id DESC LIMIT 1")
[ "$status" = "running" ] || fail "the killed run's job is '$status', not running"

# Started again: it resumes the same run from its checkpoint.
"$GRIDMIS" bill run --period 2026-11 --db "sqlite://$DIR/killed.db" > "$DIR/killed2.out" \
  2> "$DIR/killed2.err" || fail "the rerun failed: $(cat "$DIR/killed2.out" "$DIR/killed2.err")"
grep -q "resuming bill run" "$DIR/killed2.err" || fail "did not resume: $(cat "$DIR/killed2.err")"
grep -q "succeeded" "$DIR/killed2.out" || fail "no summary: $(cat "$DIR/killed2.out")"
[ "$(sqlite3 "$DIR/killed.db" "SELECT COUNT(*) FROM bill_runs")" -eq 1 ] || fail "a second run"

dump "$DIR/clean.db" > "$DIR/clean.dump"
dump "$DIR/killed.db" > "$DIR/killed.dump"
cmp -s "$DIR/clean.dump" "$DIR/killed.dump" ||
  fail "the bills differ: $(diff "$DIR/clean.dump" "$DIR/killed.dump" | head -5)"

# Once more: nothing new.
"$GRIDMIS" bill run --period 2026-11 --db "sqlite://$DIR/killed.db" > "$DIR/again.out" 2> /dev/null
grep -q "bills       0" "$DIR/again.out" || fail "a rerun made bills: $(cat "$DIR/again.out")"
grep -q "skipped     $POINTS" "$DIR/again.out" || fail "not skipped: $(cat "$DIR/again.out")"
dump "$DIR/killed.db" > "$DIR/again.dump"
cmp -s "$DIR/clean.dump" "$DIR/again.dump" || fail "the rerun changed the bills"

echo "bill_run_test: killed at $partial of $POINTS bills; resumed; identical to the clean run"
