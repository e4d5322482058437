#!/usr/bin/env bash
# Makes sure axe-core (the accessibility checker the browser suite injects
# into every page of the dashboard) is in the cache, outside the
# repository: axe.min.js is 650 KB, too big to vendor for a test. Fetched
# from npm at one pinned version, checked against its known SHA-256.
# Prints nothing when it is there already.
set -euo pipefail

VERSION=4.14.1
SHA256=29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
dir="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/axe-core-$VERSION"
file="$dir/axe.min.js"

if [ -f "$file" ] && echo "$SHA256  $file" | sha256sum -c --status; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends npm >/dev/null
  else
    echo "npm not found: axe-core cannot be fetched, the dashboard's accessibility checks are skipped (Debian: sudo apt-get install npm)" >&2
    exit 0
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching axe-core $VERSION into $dir" >&2
(cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar xzf "axe-core-$VERSION.tgz")
if ! echo "$SHA256  $tmp/package/axe.min.js" | sha256sum -c --status; then
  echo "axe-core $VERSION: axe.min.js does not have the expected SHA-256; not used" >&2
  exit 1
fi
mkdir -p "$dir"
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dir/"
