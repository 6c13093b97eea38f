#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster: initdb in a temp dir (as the
# postgres user when root), start it on a free loopback port, export DATABASE_URL, run the
# command, then stop the cluster and remove it. Used by test.sh and the benchmarks:
#   scripts/with-postgres.sh .venv/bin/python -m pytest tests/files
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] \
  || die "PostgreSQL server binaries not found (apt-get install postgresql)."

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

PG_DIR="$(mktemp -d -t fileflow-pg.XXXXXX)"
cleanup() {
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"

PY="${VENV}/bin/python"
[ -x "$PY" ] || PY="$(find_python)"
PG_PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
say "Starting a throwaway PostgreSQL on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o \
  "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres fileflow
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/fileflow"
"$@"
