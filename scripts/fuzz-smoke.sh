#!/bin/sh
# fuzz-smoke.sh — build the libFuzzer targets with clang in their own build
# directory and run each briefly (CI smoke test): the loader (fuzz_loader),
# then the counting stage fed by the loader (fuzz_stats: quoted spans,
# families, rhetoric, lexicon totals, character n-grams).
#
#   scripts/fuzz-smoke.sh [SECONDS]      (default 30, per target)
#
# Seeds are made from the loader's test fixtures (one per format/encoding
# selector byte) in a temporary corpus directory.  Exit status is the
# fuzzer's: non-zero when it found a crash, leak or sanitizer report (the
# reproducer is left in build-fuzz/).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
build="$here/build-fuzz"
cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=Debug -DTIFA_FUZZ=ON -DTIFA_TESTS=OFF \
  -DCMAKE_C_FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j2 --target fuzz_loader fuzz_stats
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/loader" "$corpus/stats"
fx="$here/tests/fixtures/corpora"
i=0
for sel in 0 2 3 4 5 6 32 40 48 56 130; do
  for f in "$fx"/forum/*.txt "$fx"/records/* "$fx"/text/* "$fx"/enc/*.txt; do
    [ -f "$f" ] || continue
    i=$((i + 1))
    { printf "\\$(printf %03o "$sel")\\001"; cat "$f"; } > "$corpus/loader/seed-$i"
  done
done
# the counting stage: the demo corpus and the text fixtures, with selector
# bytes for text, separated and forum formats
scorpus="$corpus/stats"
i=0
for sel in 0 1 2 4; do
  for f in "$here"/examples/demo/corpus/*/*.txt "$fx"/forum/*.txt "$fx"/text/*; do
    [ -f "$f" ] || continue
    i=$((i + 1))
    { printf "\\$(printf %03o "$sel")"; cat "$f"; } > "$scorpus/seed-$i"
  done
done
cd "$build"
./tests/fuzz/fuzz_loader -max_total_time="$secs" -max_len=65536 \
  -rss_limit_mb=2048 -print_final_stats=1 "$corpus/loader"
exec ./tests/fuzz/fuzz_stats -max_total_time="$secs" -max_len=65536 \
  -rss_limit_mb=2048 -print_final_stats=1 "$scorpus"
