#!/usr/bin/env bash
# Set up everything and run FileFlow on the embedded default: SQLite + local disk under
# FILEFLOW_DATA_DIR (./var). Safe to run again: it only does what is not done yet.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The one system library the server itself needs (MIME detection through python-magic).
if ! ldconfig -p 2>/dev/null | grep -q "libmagic.so.1 "; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing libmagic1"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libmagic1 >/dev/null
  else
    die "FileFlow needs libmagic (as root: apt-get install -y libmagic1)."
  fi
fi

ensure_venv requirements.txt
export FILEFLOW_DATA_DIR="${FILEFLOW_DATA_DIR:-$ROOT/var}"
PY="$VENV/bin/python"

"$PY" manage.py check --fail-level ERROR >/dev/null || exit 1
say "Applying database migrations"
"$PY" manage.py migrate --no-input -v 0
say "Collecting static files"
"$PY" manage.py collectstatic --no-input -v 0
say "Checking the operator account"
"$PY" manage.py ensure_operator

HOST="${FILEFLOW_HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
TASK_WORKERS_SAID="${FILEFLOW_TASK_WORKERS:-1} task workers"
[ "${FILEFLOW_TASK_WORKERS:-1}" = 1 ] && TASK_WORKERS_SAID="1 task worker"
say "Starting gunicorn and $TASK_WORKERS_SAID (thumbnails, text for search, maintenance)"
say "FileFlow is starting at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/, stop with Ctrl+C)"
say "Log in with the operator account named above, or sign up at http://$HOST:$PORT/account/signup/"
FILEFLOW_RUN_PYTHON="$PY" FILEFLOW_RUN_GUNICORN="$VENV/bin/gunicorn" exec "$ROOT/scripts/run.sh"
