#!/usr/bin/env bash
# Makes sure Prometheus and promtool are installed: `make test` checks
# docker/prometheus/rules.yml and runs its unit tests with promtool, lints
# /metrics with it, and runs every query of the Grafana dashboard on a
# private Prometheus scraping Switchboard (metrics/; on a free port of
# its own, whatever the package's service does). Installs Debian's
# prometheus package when missing and we are root; otherwise says what
# to do (the tests are then skipped, saying so; with CI set they fail).
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "prometheus missing: installing Debian's prometheus" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$( (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus) 2>&1); then
    echo "$out" >&2
    exit 1
  fi
  exit 0
fi
echo "prometheus not found: the metrics tests that need it are skipped; install it (Debian: sudo apt-get install prometheus)" >&2
