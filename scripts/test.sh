#!/usr/bin/env bash
# test.sh — the second README command: set up, build, run every test.
#
# Installs what is missing (scripts/setup.sh), builds a Debug tree with the
# tests in build-test/ and runs ctest.  Integration tests read the real
# corpora in ../shared/corpora when present and say so when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DTIFA_TESTS=ON "$@" >/dev/null
cmake --build build-test -j"$(nproc)"
ctest --test-dir build-test --output-on-failure -j"$(nproc)"
