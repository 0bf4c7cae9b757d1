#!/usr/bin/env bash
# Payment posting throughput through the bank collection API (代收) under wrk: a channel calls
# POST /api/v1/channel/payments with its API token, a new serial on every request, for random
# customers that each have an issued bill with a late fee running (allocation, ledger entry,
# audit row per payment). Then the same requests again: retries answered from the original
# receipt (idempotency by serial, nothing posted). Demo utility on SQLite; loopback only.
#   bench/pay_wrk.sh [CUSTOMERS] [SECONDS] [CONNECTIONS]   (defaults: 20000, 20, 16)
# Results go to stdout; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-20000}
secs=${2:-20}
conns=${3:-16}
port=${GRIDMIS_BENCH_PORT:-18081}
dir=${GRIDMIS_BENCH_DIR:-var/bench}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
db="$dir/pay-$customers.db"
build=${GRIDMIS_BUILD_DIR:-build}
bin=$build/src/cli/gridmis
setup=$build/bench/pay_setup
if [ "$build" = build ]; then scripts/build.sh gridmis pay_setup >/dev/null; fi

if [ ! -f "$db" ]; then
  echo "== building a demo utility with $customers customers into $db"
  "$bin" demo --db "sqlite://$db" --customers "$customers" --no-serve --no-history >/dev/null
fi
echo "== issuing a bill to every customer, making the channel and its token"
token=$("$setup" "sqlite://$db" "$customers" "$dir/pay-customers.txt")

cat > "$dir/pay.toml" <<TOML
log_level = "warn"
[http]
idle_timeout_ms = 300000
TOML

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$bin" serve --config "$dir/pay.toml" --db "sqlite://$db" --listen "127.0.0.1:$port" &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  sleep 0.1
done

# Each wrk thread numbers its own serials; GRIDMIS_RUN keeps runs apart. With GRIDMIS_RETRY=1
# the serials of run GRIDMIS_RETRY_OF are sent again (same customer and amount: retries).
cat > "$dir/pay.lua" <<'LUA'
local token = os.getenv("GRIDMIS_TOKEN")
local run = os.getenv("GRIDMIS_RUN")
local customers = {}
for line in io.lines(os.getenv("GRIDMIS_CUSTOMERS")) do customers[#customers + 1] = line end
local thread_no = 0
setup = function(thread)
  thread_no = thread_no + 1
  thread:set("tno", thread_no)
end
local n = 0
request = function()
  n = n + 1
  local i = (tno * 7919 + n * 104729) % #customers + 1
  local fen = 100 + (n * 37 + tno) % 9900
  local body = string.format(
    '{"serial":"R%s-T%d-%d","customer_no":"%s","amount":"%d.%02d","txn_time":"101500"}',
    run, tno, n, customers[i], math.floor(fen / 100), fen % 100)
  return wrk.format("POST", "/api/v1/channel/payments",
                    { ["Content-Type"] = "application/json",
                      ["Authorization"] = "Bearer " .. token }, body)
end
LUA

run() {  # name, run id
  echo "== $1 ($conns connections, ${secs}s)"
  GRIDMIS_TOKEN="$token" GRIDMIS_RUN="$2" GRIDMIS_CUSTOMERS="$dir/pay-customers.txt" \
    wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$dir/pay.lua" "http://127.0.0.1:$port" \
    | grep -E 'Requests/sec|Latency |  50%|  99%|Non-2xx|Socket errors|requests in'
}

stamp=$(date +%s)
before=$(sqlite3 "$db" "SELECT COUNT(*) FROM payments")
run "new payments (201 each)" "$stamp"
after=$(sqlite3 "$db" "SELECT COUNT(*) FROM payments")
echo "payments posted: $((after - before))"
# The same serials again: wrk restarts each thread's counter, so the first requests repeat the
# previous run's exactly (same serial, customer and amount) and are answered 200 duplicate.
run "retries of the same serials (200 duplicate, nothing posted)" "$stamp"
again=$(sqlite3 "$db" "SELECT COUNT(*) FROM payments")
echo "payments posted by the retry run (only serials beyond the first run's): $((again - after))"
echo "ledger check (must be 0): $(sqlite3 "$db" "SELECT COALESCE(SUM(debit_fen - credit_fen), 0) FROM journal_lines")"
echo "duplicate serials (must be 0): $(sqlite3 "$db" "SELECT COUNT(*) FROM (SELECT serial FROM payments GROUP BY channel_id, source, serial HAVING COUNT(*) > 1) x")"
echo "server RSS: $(ps -o rss= -p "$server") KB"
