#!/usr/bin/env bash
# Makes sure the real Asterisk and FreeSWITCH builds of ../shared/pbx are
# installed under /opt/pbx: the tests start private instances of them
# (internal/pbxlocal) and run the end-to-end suite on them. Installs the
# runtime packages the builds need and unpacks an archive when its
# server is missing or another version; does nothing when both are there.
#
# Where the archives are absent (a machine without ../shared/pbx), it
# says so and the real-server tests are skipped, saying why; with CI set
# that is a failure. SWITCHBOARD_PBX_ARCHIVES names another directory of
# archives.
set -euo pipefail

root=/opt/pbx
here="$(cd "$(dirname "$0")/.." && pwd)"
archives=""
for d in "${SWITCHBOARD_PBX_ARCHIVES:-}" "$here/../shared/pbx" /work/shared/pbx; do
  if [ -n "$d" ] && compgen -G "$d/*-debian12-amd64.tar.xz" >/dev/null; then
    archives="$d"
    break
  fi
done

# The runtime libraries of the builds (../shared/pbx/README.md): Asterisk's,
# then what FreeSWITCH adds.
packages=(libcurl4 libedit2 libjansson4 libsqlite3-0 libsrtp2-1 libssl3 libuuid1 libxml2 libxslt1.1 zlib1g
  libfreetype6 libjpeg62-turbo libopus0 libpcre3 libsndfile1 libspeex1 libspeexdsp1 libtiff6)

missing_packages() {
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

fail_or_skip() {
  if [ -n "${CI:-}" ]; then
    echo "ensure-pbx: $1; CI needs the real servers" >&2
    exit 1
  fi
  echo "ensure-pbx: $1; the real-server tests will be skipped" >&2
  exit 0
}

todo=()
for server in asterisk freeswitch; do
  archive=""
  if [ -n "$archives" ]; then
    archive="$(compgen -G "$archives/$server-*-debian12-amd64.tar.xz" | head -n1 || true)"
  fi
  installed="$(cat "$root/$server/VERSION" 2>/dev/null || true)"
  if [ -z "$archive" ]; then
    [ -n "$installed" ] && continue
    fail_or_skip "no $server archive (looked in ${SWITCHBOARD_PBX_ARCHIVES:-$here/../shared/pbx and /work/shared/pbx}) and none installed in $root/$server"
  fi
  wanted="$(tar -xJOf "$archive" "opt/pbx/$server/VERSION")"
  [ "$installed" = "$wanted" ] || todo+=("$archive")
done

mapfile -t need < <(missing_packages)
if [ ${#todo[@]} -eq 0 ] && [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  fail_or_skip "installing the real servers needs root (missing: ${need[*]:-} ${todo[*]:-}); run scripts/ensure-pbx.sh with sudo"
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-pbx: installing the servers' libraries: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$( (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}") 2>&1); then
    echo "$out" >&2
    exit 1
  fi
fi
for archive in "${todo[@]}"; do
  if [ -f "$archives/SHA256SUMS" ]; then
    (cd "$archives" && grep " $(basename "$archive")\$" SHA256SUMS | sha256sum -c --quiet -) ||
      { echo "ensure-pbx: $archive does not match its checksum" >&2; exit 1; }
  fi
  server="$(basename "$archive" | cut -d- -f1)"
  echo "ensure-pbx: unpacking $(basename "$archive") into $root/$server" >&2
  rm -rf "${root:?}/$server"
  tar -C / -xJf "$archive"
done
