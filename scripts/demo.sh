#!/usr/bin/env bash
# demo.sh — the first README command: set up, build Release, run the demo.
#
# Installs what is missing (scripts/setup.sh), builds a Release binary in
# build-release/, runs the bundled demo study into out/demo/ and prints where
# the tables and charts went plus a short summary of the slogan families.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTIFA_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" >/dev/null
out=out/demo
rm -rf "$out.previous"; [ -d "$out" ] && mv "$out" "$out.previous"
set +e
./build-release/pipeline/tifa run -o "$out"
status=$?
set -e
rm -rf "$out.previous"
echo
echo "tables: $out/*.csv    charts: $out/charts/*.png, *.svg    manifest: $out/manifest.json"
echo
echo "slogan families (quoted spans per corpus, all years):"
scripts/summary.sh "$out/families.csv"
exit $status
