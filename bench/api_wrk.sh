#!/usr/bin/env bash
# Customer search and 360-view throughput and latency under wrk (64 connections) against a
# demo utility on SQLite, then again with 2,000 idle keep-alive connections held open.
# Loopback only; stops by itself.
#   bench/api_wrk.sh [CUSTOMERS] [SECONDS]      (defaults: 1000000, 20)
# Results go to stdout; record them in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
customers=${1:-1000000}
secs=${2:-20}
port=${GRIDMIS_BENCH_PORT:-18080}
dir=${GRIDMIS_BENCH_DIR:-var/bench}
mkdir -p "$dir"
db="$dir/bench-$customers.db"
build=${GRIDMIS_BUILD_DIR:-build}
bin=$build/src/cli/gridmis
if [ "$build" = build ]; then scripts/build.sh gridmis idle_conns >/dev/null; fi

if [ ! -f "$db" ]; then
  echo "== building a demo utility with $customers customers into $db"
  /usr/bin/time -f "demo generation: %e s wall, %M KB max RSS" \
    "$bin" demo --db "sqlite://$PWD/$db" --customers "$customers" --no-serve
fi

cat > "$dir/bench.toml" <<TOML
log_level = "warn"
[http]
idle_timeout_ms = 300000
TOML

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$bin" serve --config "$dir/bench.toml" --db "sqlite://$PWD/$db" --listen "127.0.0.1:$port" &
server=$!
idle=""
cleanup() {
  [ -n "$idle" ] && kill "$idle" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  sleep 0.1
done

cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"manager","password":"Gridmis@2026"}' \
  "http://127.0.0.1:$port/api/v1/auth/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "login failed" >&2; exit 1; }

# Request mixes drawn from the data: customer numbers, number prefixes, mobile prefixes, names,
# name prefixes (surnames) and address fragments; 360 views of random customers.
q() { sqlite3 "$db" "$1"; }
{
  q "SELECT customer_no FROM customers ORDER BY random() LIMIT 200"
  q "SELECT substr(customer_no, 1, 7) FROM customers ORDER BY random() LIMIT 100"
  q "SELECT substr(mobile, 1, 7) FROM customers WHERE mobile IS NOT NULL ORDER BY random() LIMIT 100"
  q "SELECT name FROM customers ORDER BY random() LIMIT 200"
  q "SELECT substr(name, 1, 1) FROM customers ORDER BY random() LIMIT 50"
  # the street, village or town a clerk would type: the 3 characters after the county name
  q "WITH a AS (SELECT substr(address, 6) AS x FROM customers ORDER BY random() LIMIT 100),
          b AS (SELECT x, (SELECT min(p) FROM (SELECT instr(x, '区') AS p UNION ALL
                SELECT instr(x, '县') UNION ALL SELECT instr(x, '旗') UNION ALL
                SELECT instr(x, '市')) WHERE p > 0) AS p FROM a)
     SELECT substr(x, p + 1, 3) FROM b"
} | while IFS= read -r term; do
  printf '/api/v1/customers?q=%s&page_size=20\n' "$(jq -rn --arg x "$term" '$x|@uri')"
done > "$dir/search.paths"
q "SELECT '/api/v1/customers/' || id FROM customers ORDER BY random() LIMIT 2000" > "$dir/view.paths"

cat > "$dir/paths.lua" <<'LUA'
local cookie = os.getenv("GRIDMIS_COOKIE")
local paths = {}
for line in io.lines(os.getenv("GRIDMIS_PATHS")) do paths[#paths + 1] = line end
local n = 0
init = function(args) n = math.random(#paths) end
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n], { ["Cookie"] = cookie })
end
LUA

run() {  # name, paths file
  echo "== $1"
  GRIDMIS_COOKIE="$cookie" GRIDMIS_PATHS="$2" \
    wrk -t2 -c64 -d"${secs}s" --latency -s "$dir/paths.lua" "http://127.0.0.1:$port" \
    | grep -E 'Requests/sec|Latency |  50%|  99%|Non-2xx|Socket errors|requests in'
}

echo "== warming the page cache (not measured)"
GRIDMIS_COOKIE="$cookie" GRIDMIS_PATHS="$dir/view.paths" \
  wrk -t2 -c64 -d10s -s "$dir/paths.lua" "http://127.0.0.1:$port" >/dev/null
GRIDMIS_COOKIE="$cookie" GRIDMIS_PATHS="$dir/search.paths" \
  wrk -t2 -c64 -d10s -s "$dir/paths.lua" "http://127.0.0.1:$port" >/dev/null

run "search (64 connections)" "$dir/search.paths"
run "360 view (64 connections)" "$dir/view.paths"

echo "== opening 2000 idle keep-alive connections"
"$build/bench/idle_conns" 127.0.0.1 "$port" 2000 $((secs * 2 + 30)) &
idle=$!
sleep 3
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^gridmis_http_connections_(open|idle) '
run "search with 2000 idle connections" "$dir/search.paths"
run "360 view with 2000 idle connections" "$dir/view.paths"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^gridmis_http_connections_(open|idle) '
curl -s -o /dev/null -w 'server RSS check: health %{http_code}\n' "http://127.0.0.1:$port/api/v1/health"
echo "server RSS: $(ps -o rss= -p "$server") KB"
