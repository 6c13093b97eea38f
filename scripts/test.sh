#!/usr/bin/env bash
# Set up everything and run the whole test suite twice: on SQLite, then on a throwaway
# PostgreSQL cluster that this script starts and removes. Extra arguments go to pytest.
# With CI=true nothing is skipped for a missing tool: a missing dependency fails the run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/system-deps.sh"
ensure_venv requirements-dev.txt
PY="$VENV/bin/python"

WORK="$(mktemp -d -t fileflow-test.XXXXXX)"
PG_DIR=""
cleanup() {
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK" ${PG_DIR:+"$PG_DIR"}
}
trap cleanup EXIT

say "Lint: ruff check, ruff format --check, mypy"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
FILEFLOW_DATA_DIR="$WORK/data-mypy" "$VENV/bin/mypy" accounts fileflow files sharing search

export FILEFLOW_DATA_DIR="$WORK/data"
export DJANGO_DEBUG=false
unset DATABASE_URL FILEFLOW_STORAGE || true

say "Test suite on SQLite"
"$PY" -m pytest -p no:cacheprovider "$@"

# PostgreSQL: a new cluster in a temp dir, on a free loopback port, trust auth.
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install postgresql)."
PG_DIR="$(mktemp -d -t fileflow-pg.XXXXXX)"
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
PG_PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
say "Starting a throwaway PostgreSQL on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o \
  "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/fileflow"
export FILEFLOW_DATA_DIR="$WORK/data-pg"

say "Test suite on PostgreSQL"
"$PY" -m pytest -p no:cacheprovider "$@"
say "All tests passed on SQLite and PostgreSQL"
