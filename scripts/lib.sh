# Shared by scripts/serve.sh and scripts/test.sh: find Python 3.12+, keep .venv installed.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Bold only on a terminal: a log file or a pipe gets plain text (NO_COLOR also turns it off).
say() {
  if [ -t 2 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
    printf '\033[1m==> %s\033[0m\n' "$*" >&2
  else
    printf '==> %s\n' "$*" >&2
  fi
}
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Print the path of a Python 3.12 or newer: $FILEFLOW_PYTHON, then python3.13/3.12 on PATH,
# then the newest pyenv install, then python3.
find_python() {
  local candidates=()
  [ -n "${FILEFLOW_PYTHON:-}" ] && candidates+=("$FILEFLOW_PYTHON")
  candidates+=(python3.14 python3.13 python3.12)
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if [ -d "$pyenv_root/versions" ]; then
    while IFS= read -r dir; do
      candidates+=("$dir/bin/python3")
    done < <(ls -d "$pyenv_root"/versions/3.* 2>/dev/null | sort -Vr)
  fi
  candidates+=(python3)
  local c path
  for c in "${candidates[@]}"; do
    path="$(command -v "$c" 2>/dev/null || true)"
    [ -z "$path" ] && [ -x "$c" ] && path="$c"
    if [ -n "$path" ] && python_ok "$path"; then
      echo "$path"
      return 0
    fi
  done
  return 1
}

# ensure_venv REQUIREMENTS_FILE: create .venv with Python 3.12+ and install the pinned
# requirements, skipping pip when nothing changed since the last install.
ensure_venv() {
  local reqs="$1"
  if [ ! -x "$VENV/bin/python" ] || ! python_ok "$VENV/bin/python"; then
    local py
    py="$(find_python)" || die "FileFlow needs Python 3.12 or newer and none was found.
Install one (e.g. 'pyenv install 3.13') or point FILEFLOW_PYTHON at it."
    say "Creating virtual environment with $("$py" --version) ($py)"
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(basename "$reqs")"
  local digest
  digest="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    say "Installing $(basename "$reqs")"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -qq --upgrade pip
    "$VENV/bin/python" -m pip install --disable-pip-version-check -qq -r "$ROOT/$reqs"
    echo "$digest" >"$stamp"
  fi
}
