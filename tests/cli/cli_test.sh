#!/usr/bin/env bash
# The gridmis command line, end to end on a temporary SQLite database: migrate, user create
# (bootstrapping a fresh database), clear errors with exit codes, serve with graceful SIGTERM,
# demo --no-serve, openapi. Usage: cli_test.sh PATH/TO/gridmis
set -euo pipefail
bin=$1
dir=$(mktemp -d /tmp/gridmis-cli-XXXXXX)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
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
db="sqlite://$dir/t.db"

check "migrate applies every module" bash -c "'$bin' migrate --db '$db' | grep -q 'applied, 0 pending'"
check "migrate is idempotent" bash -c "'$bin' migrate --db '$db' | grep -q '^schema of'"
check "migrate --status lists modules" bash -c "'$bin' migrate --db '$db' --status | grep -q 'customer .*v1'"
check "user create bootstraps the root department" bash -c \
  "'$bin' user create --db '$db' --username root --password 'Adm1n!Passw0rd' --role system_admin --department GS | grep -q 'created root department GS'"
check "a second user joins the department" bash -c \
  "'$bin' user create --db '$db' --username sec --password 'Strong!Passw0rd9' --role security_admin --department GS --name 安全员 | grep -q 'created user sec'"
check "an unknown role is refused with exit code 2" bash -c \
  "'$bin' user create --db '$db' --username xuser1 --password 'Adm1n!Passw0rd' --role nope --department GS 2>'$dir/err'; [ \$? -eq 2 ] && grep -q \"unknown role 'nope'\" '$dir/err'"
check "a weak admin password is refused naming the field" bash -c \
  "! '$bin' user create --db '$db' --username xuser2 --password 'short' --role audit_admin --department GS 2>'$dir/err' && grep -q 'password' '$dir/err'"
check "an unknown department is refused" bash -c \
  "! '$bin' user create --db '$db' --username xuser3 --password 'Adm1n!Passw0rd' --role audit_admin --department NOPE 2>'$dir/err' && grep -q \"department 'NOPE' does not exist\" '$dir/err'"
check "a bad database URL is refused" bash -c \
  "! '$bin' migrate --db 'mysql://x' 2>'$dir/err' && grep -q 'sqlite:// or postgresql://' '$dir/err'"
printf 'databse_url = "x"\n' > "$dir/bad.toml"
check "an unknown config key is named" bash -c \
  "! '$bin' migrate --config '$dir/bad.toml' 2>'$dir/err' && grep -q \"unknown key 'databse_url'\" '$dir/err'"

# serve on a free port, log in, stop with SIGTERM
"$bin" serve --db "$db" --listen 127.0.0.1:0 --fep-listen 127.0.0.1:0 >"$dir/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*gridmis listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$dir/serve.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
check "serve listens on the requested address" test -n "$port"
check "serve runs the terminal front end" grep -q "terminal front end listening on 127.0.0.1:" "$dir/serve.log"
check "health answers" bash -c "curl -sf http://127.0.0.1:$port/api/v1/health | grep -q '\"status\":\"ok\"'"
check "the bootstrapped administrator logs in" bash -c \
  "curl -sf -H 'Content-Type: application/json' -d '{\"username\":\"root\",\"password\":\"Adm1n!Passw0rd\"}' http://127.0.0.1:$port/api/v1/auth/login | grep -q '\"username\":\"root\"'"
kill -TERM "$server"
rc=0
wait "$server" || rc=$?
server=""
check "SIGTERM shuts down cleanly" test "$rc" -eq 0
check "shutdown is logged" grep -q "gridmis stopped" "$dir/serve.log"

check "demo --no-serve builds a small utility" bash -c \
  "'$bin' demo --db 'sqlite://$dir/demo.db' --customers 300 --no-serve | grep -q '300 customers'"
check "demo on a built database reuses it" bash -c \
  "'$bin' demo --db 'sqlite://$dir/demo.db' --no-serve | grep -q 'already holds a demo utility'"

# the front end alone, with a simulated fleet of the demo's terminals logging in to it
"$bin" fep --db "sqlite://$dir/demo.db" --fep-listen 127.0.0.1:0 >"$dir/fep.log" 2>&1 &
server=$!
fport=""
for _ in $(seq 1 100); do
  fport=$(sed -n 's/.*terminal front end listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/fep.log" | head -1)
  [ -n "$fport" ] && break
  sleep 0.1
done
check "fep listens on the requested address" test -n "$fport"
"$bin" simulate --fep "127.0.0.1:$fport" --db "sqlite://$dir/demo.db" --duration 3 \
  >"$dir/sim.log" 2>&1 || true
check "the demo's terminals log in to the front end" \
  bash -c "sqlite3 '$dir/demo.db' \"SELECT COUNT(*) FROM terminal_status WHERE login_at_us IS NOT NULL\" | grep -qv '^0$'"
kill -TERM "$server"
rc=0
wait "$server" || rc=$?
server=""
check "fep stops cleanly on SIGTERM" test "$rc" -eq 0
check "scheduled collections wait for the terminals to reconnect (warm-up)" \
  bash -c "sqlite3 '$dir/demo.db' \"SELECT COUNT(*) FROM jobs WHERE kind = 'acquisition.collect'\" | grep -qx 0"
check "the configured collection tasks are created once" \
  bash -c "sqlite3 '$dir/demo.db' \"SELECT COUNT(*) FROM collection_tasks\" | grep -qx 3"
check "fep shutdown is logged" grep -q "gridmis front end stopped" "$dir/fep.log"

check "openapi prints the document" bash -c "'$bin' openapi | grep -q '\"/api/v1/customers/{id}\"'"
check "version" bash -c "'$bin' version | grep -q '^gridmis '"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
