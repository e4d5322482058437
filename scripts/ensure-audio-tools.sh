#!/usr/bin/env bash
# Makes sure the audio tools are installed: ffmpeg converts uploaded mp3/wav
# files and rendered speech to 8 kHz mono wav, espeak-ng speaks the
# text-to-speech messages (its data covers en, fr, es, de, it, nl and more).
# `make run` and the tests use them. Installs Debian's packages when missing
# and we are root; otherwise says what to do.
set -euo pipefail

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "audio tools missing: installing Debian's ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "audio tools not found: ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
exit 1
