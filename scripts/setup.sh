#!/usr/bin/env bash
# setup.sh — install what tifa needs on Debian 12, only what is missing.
#
# Idempotent: when every package is already installed, apt-get is not run at
# all (no network, no root needed).  Used by scripts/demo.sh, scripts/test.sh
# and CI.  The README says why each dependency is there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config   # compiler and build
  libicu-dev                         # every Unicode task: charsets, NFKC, breaks, regex, Hant-Hans
  libgsl-dev                         # statistics: chi-square quantiles, t tests, fits, RNG
  libcmocka-dev                      # unit tests
  libjson-c-dev                      # JSONL input and manifest.json
  libinih-dev                        # study files (INI)
  libssl-dev                         # SHA-256 for the manifest (libcrypto)
  libxxhash-dev                      # fast hashing for count tables
  gnuplot-nox                        # charts
  libfontconfig-dev                  # finding a CJK font for chart labels
  fonts-noto-cjk fontconfig          # Chinese labels in charts
)
if [ "${TIFA_SETUP_FUZZ:-0}" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)   # libFuzzer smoke run in CI
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (or install these packages): ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
