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
trap 'rm -rf "$WORK"' EXIT

say "Lint: ruff check, ruff format --check, mypy"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
# The integration helpers too (tests/ is excluded from mypy otherwise): they drive servers.
FILEFLOW_DATA_DIR="$WORK/data-mypy" "$VENV/bin/mypy" accounts fileflow files sharing search jobs webdav uploads \
    tests/integration/helpers.py

export DJANGO_DEBUG=false
unset DATABASE_URL FILEFLOW_STORAGE || true

say "Test suite on SQLite"
FILEFLOW_DATA_DIR="$WORK/data" "$PY" -m pytest -p no:cacheprovider "$@"

say "Test suite on PostgreSQL (without the browser tests whose database is not what they test)"
# A -m given to this script comes after this one, and pytest keeps the last.
FILEFLOW_DATA_DIR="$WORK/data-pg" "$ROOT/scripts/with-postgres.sh" "$PY" -m pytest -p no:cacheprovider \
    -m "not one_database" "$@"
say "All tests passed on SQLite and PostgreSQL"
