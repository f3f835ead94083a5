#!/usr/bin/env bash
# Run the test suite against SQLite and PostgreSQL (and Redis for the scale-out tests). Uses
# SEAWALL_TEST_PG_URL when set; otherwise starts a private PostgreSQL on a free loopback port for
# the duration of the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ -z "${SEAWALL_TEST_PG_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/seawall-pg.XXXXXX)
  port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  trap 'scripts/pg-test-server.sh stop "$pgdir"' EXIT
  if url=$(scripts/pg-test-server.sh start "$pgdir" "$port"); then
    export SEAWALL_TEST_PG_URL="$url"
  elif [ -n "${CI:-}" ] || [ -n "${SEAWALL_REQUIRE_PG:-}" ]; then
    echo "could not start PostgreSQL for the tests" >&2; cat "$pgdir"/*.log >&2 || true; exit 1
  else
    echo "warning: PostgreSQL not available; PostgreSQL tests will be skipped" >&2
  fi
fi
# Redis for the scale-out tests (tests/test_scale*.py), the same way: SEAWALL_TEST_REDIS_URL or a
# private server on a free loopback port.
if [ -z "${SEAWALL_TEST_REDIS_URL:-}" ]; then
  redisdir=$(mktemp -d /tmp/seawall-redis.XXXXXX)
  rport=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [ -n "${pgdir:-}" ]; then
    trap 'scripts/pg-test-server.sh stop "$pgdir"; scripts/redis-test-server.sh stop "$redisdir"' EXIT
  else
    trap 'scripts/redis-test-server.sh stop "$redisdir"' EXIT
  fi
  if rurl=$(scripts/redis-test-server.sh start "$redisdir" "$rport"); then
    export SEAWALL_TEST_REDIS_URL="$rurl"
  elif [ -n "${CI:-}" ] || [ -n "${SEAWALL_REQUIRE_PG:-}" ]; then
    echo "could not start Redis for the tests" >&2; cat "$redisdir"/*.log >&2 || true; exit 1
  else
    echo "warning: redis-server not available; the scale-out tests will be skipped" >&2
  fi
fi
$PY -m pytest "$@"
