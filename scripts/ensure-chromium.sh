#!/usr/bin/env bash
# Makes sure Chromium is installed: the dashboard's browser suite
# (web/browser) drives a headless Chromium with chromedp against the real
# binary. Installs Debian's chromium (and a font, for the screenshots)
# when missing and we are root; otherwise says what to do (the suite is
# then skipped, saying so; with CI set it fails).
set -euo pipefail

if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "chromium missing: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$( (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core) 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  exit 0
fi
echo "chromium not found: the dashboard's browser tests are skipped; install it (Debian: sudo apt-get install chromium)" >&2
