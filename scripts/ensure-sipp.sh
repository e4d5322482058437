#!/usr/bin/env bash
# Makes sure SIPp is installed: the end-to-end suite plays phones and
# callers with it against a real Asterisk or FreeSWITCH, and `make test`
# checks its generated SIPp scenarios against each other (e2e/sipp_test.go;
# skipped, saying so, without SIPp). Installs Debian's sip-tester (sipp and
# its RFC 2833 digit recordings) when missing and we are root; otherwise
# says what to do.
set -euo pipefail

if command -v sipp >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "sipp missing: installing Debian's sip-tester" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$( (apt-get update -qq && apt-get install -y -qq --no-install-recommends sip-tester) 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  exit 0
fi
echo "sipp not found: the SIPp tests are skipped; install it (Debian: sudo apt-get install sip-tester)" >&2
