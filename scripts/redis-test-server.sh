#!/usr/bin/env bash
# Start or stop a private, throw-away Redis for the tests and benchmarks (loopback only).
#   scripts/redis-test-server.sh start DIR PORT   -> prints the broker URL
#   scripts/redis-test-server.sh stop DIR
# Durability: append-only file, fsync before every reply (appendfsync always), so an event whose
# XADD was acknowledged survives even kill -9 of Redis (see docs/operations.md for the trade-off).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
case "$cmd" in
  start)
    port=${3:?port}
    [ -x "$REDIS_SERVER" ] || { echo "redis-server not found (apt-get install redis-server)" >&2; exit 3; }
    mkdir -p "$dir"
    "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
      --appendonly yes --appendfsync "${SEAWALL_REDIS_FSYNC:-always}" >/dev/null
    for _ in $(seq 1 100); do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "redis://127.0.0.1:$port/0"; exit 0; fi
      sleep 0.1
    done
    echo "redis did not start" >&2; cat "$dir/redis.log" >&2 || true; exit 1
    ;;
  stop)
    if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; sleep 0.2; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
