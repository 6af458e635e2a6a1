#!/usr/bin/env bash
# regen-golden.sh — regenerate the golden outputs in tests/golden/, on purpose.
#
# tests/pipeline/test_subcommands.c byte-compares what `tifa` prints for the
# bundled demo with the files in tests/golden/ and never rewrites them.  When
# a change to the outputs is intended (a new column, a fixed count), run this
# script, read `git diff tests/golden/` line by line against
# tests/fixtures/demo-expected/ (the hand counts), and commit the new files
# together with the change that explains them.  It builds tifa if needed
# (build folder: $TIFA_BUILD_DIR, default build-golden/), then runs exactly
# the commands the test runs, from the source tree's root with relative
# paths, so the files name documents the same on every machine.
# Each file is written to a temporary name and renamed when complete.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TIFA_BUILD_DIR:-build-golden}
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
cmake --build "$build" --target tifa -j2 >/dev/null
tifa=$build/pipeline/tifa
golden=tests/golden
mkdir -p "$golden"
work=$(mktemp -d /tmp/tifa-regen-golden-XXXXXX)
trap 'rm -rf -- "$work"' EXIT

# put FILE: stdin to tests/golden/FILE, atomically
put() {
    cat >"$golden/.$1.tmp"
    mv -f -- "$golden/.$1.tmp" "$golden/$1"
    echo "  $golden/$1"
}

echo "regenerating with $tifa:"
"$tifa" docs examples/demo/corpus/qingchuan | put docs-qingchuan.csv
"$tifa" docs --text examples/demo/corpus/baihe/2014.txt | put docs-text-baihe-2014.csv
"$tifa" kwic 零距离 examples/demo/corpus | put kwic-lingjuli.csv
"$tifa" kwic --regex '零\p{Han}{2}' --width 5 examples/demo/corpus | put kwic-regex-ling.csv
"$tifa" count --format forum --table slogans examples/demo/corpus/baihe |
    put count-slogans-baihe.csv
"$tifa" count --corpus q=examples/demo/corpus/qingchuan \
    --corpus b=examples/demo/corpus/baihe --no-charts -q -o "$work/count"
put count-families.csv <"$work/count/families.csv"
"$tifa" compare --target examples/demo/corpus/qingchuan \
    --reference examples/demo/corpus/baihe --no-charts -q -o "$work/compare"
# header plus the slogan rows (the n-gram rows would make the file huge)
awk 'NR == 1 || /^target,reference,slogan,/' "$work/compare/keyness.csv" |
    put compare-keyness-slogans.csv

echo
echo "Review before committing:  git diff --stat -- $golden && git diff -- $golden"
