#!/usr/bin/env bash
# Install the system packages FileFlow and its tests need (libmagic, PostgreSQL server,
# Chromium, litmus, rclone, nginx) when they are missing. Needs root and apt-get; does nothing when everything is
# there already.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
# MIME detection (files/mime.py: python-magic loads libmagic at run time).
ldconfig -p 2>/dev/null | grep -q "libmagic.so.1 " || missing+=(libmagic1)
# WebDAV: the litmus test suite and rclone as a client (tests/webdav).
command -v litmus >/dev/null || missing+=(litmus)
command -v rclone >/dev/null || missing+=(rclone)
# nginx: bench/transfer.py's download baseline (tests/bench runs every benchmark once).
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "error: the tests need these system packages: ${missing[*]}" >&2
  echo "Install them (as root: apt-get install -y ${missing[*]}) and run again." >&2
  exit 1
fi
echo "==> Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
