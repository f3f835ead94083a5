#!/usr/bin/env bash
# Run the test suite against SQLite and PostgreSQL. Uses SEAWALL_TEST_PG_URL when set; otherwise
# starts a private PostgreSQL on a free loopback port for the duration of the run.
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
$PY -m pytest "$@"
