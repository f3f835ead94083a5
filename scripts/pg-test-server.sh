#!/usr/bin/env bash
# Start or stop a private, throw-away PostgreSQL for the test suite (loopback only).
#   scripts/pg-test-server.sh start DIR PORT   -> prints the database URL
#   scripts/pg-test-server.sh stop DIR
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
cmd=${1:?start|stop}; dir=${2:?data directory}
as_pg() {
  # initdb and postgres refuse to run as root; use the postgres system user when we are root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    port=${3:?port}
    [ -x "$PGBIN/initdb" ] || { echo "PostgreSQL server binaries not found (set PGBIN)" >&2; exit 3; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres seawall_test
    echo "postgresql://postgres@127.0.0.1:$port/seawall_test"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
