#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries are installed: `make run` and the
# tests start their own server from them (internal/pglocal). Installs
# Debian's package when missing and we are root; otherwise says what to do.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "PostgreSQL is missing: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "PostgreSQL server binaries not found: install them (Debian: sudo apt-get install postgresql)" >&2
exit 1
