#!/usr/bin/env bash
# Build step for a deployment (Render's buildCommand): install, collect static files, migrate.
# The data disk is not mounted while building, so build-time commands use a local data dir;
# the database is the real one (DATABASE_URL).
set -euo pipefail
cd "$(dirname "$0")"
python -m pip install --disable-pip-version-check -q -r requirements.txt
export FILEFLOW_DATA_DIR="$PWD/var-build"
python manage.py collectstatic --no-input -v 0
python manage.py migrate --no-input
python manage.py check --deploy --fail-level WARNING
