#!/usr/bin/env bash
# Starts a throw-away PostgreSQL 15 server for the tests, listening only on a Unix socket in a
# temp folder, and prints the URL to export as GRIDMIS_TEST_PG_URL.
#   eval "$(scripts/pg-test-server.sh start)"   # sets GRIDMIS_TEST_PG_URL and GRIDMIS_PG_DIR
#   scripts/pg-test-server.sh stop "$GRIDMIS_PG_DIR"
# PostgreSQL refuses to run as root, so as root the server runs as the 'postgres' user.
set -euo pipefail
bindir=/usr/lib/postgresql/15/bin
cmd=${1:-start}
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    dir=$(mktemp -d /tmp/gridmis-pg-XXXXXX)
    chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
    user=$( [ "$(id -u)" -eq 0 ] && echo postgres || id -un )
    as_pg "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "export GRIDMIS_PG_DIR=$dir"
    echo "export GRIDMIS_TEST_PG_URL='postgresql://$user@/postgres?host=$dir'"
    ;;
  stop)
    dir=${2:?usage: pg-test-server.sh stop DIR}
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
