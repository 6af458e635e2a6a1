#!/usr/bin/env bash
# bench/run.sh — the n-gram benchmark of SPEC §8 / issue 5, in one command.
#
# What it does, in order:
#   1. builds tifa, bench/ngram_driver and bench/gen_synthetic in Release in
#      its own build directory (bench/work/build, via bench/CMakeLists.txt);
#   2. prepares the corpora under bench/work/ (gitignored, never committed):
#      the government work reports of ../shared/corpora/govreports repeated
#      to ~100 MB (and 3 copies, ~10 MB, for the slow Python peers), and the
#      growing-vocabulary synthetic corpus at 10 MB, 100 MB and 1 GB;
#   3. runs tifa and the peers side by side, RUNS times each (median):
#        tifa count --format jsonl --keep-duplicates --no-charts \
#             --ngrams 1-4 --unit char --threads N -o DIR PATH   (N = 1, 2)
#        tifa count ... --unit word --ngrams 1-3 ...
#        tifa count ... --ngrams off ...   (everything but the n-grams)
#        ngram_driver (the n-gram engine alone; --stream for peak RSS)
#        tifa merge of two copies of a shard (syn-10M counted with 2 threads)
#        bench/peers/counter_chars.py  (Python Counter, char 1-4-grams)
#        bench/peers/jieba_words.py    (jieba + Counter, word 1-3-grams)
#      every run under /usr/bin/time -v (wall time, peak RSS);
#   4. checks (untimed) that ngrams.csv is byte-identical for --threads 1 and
#      2 and for one run against `tifa merge` of two shards, and measures the
#      machine's random-access floor (bench/memfloor);
#   5. writes bench/results/results.tsv (every run), bench/results/summary.md
#      (medians, MB/s, ratios, speed-up, peak RSS, distinct n-grams, checks)
#      and prints the summary.  Raw logs go to bench/results/raw/ (gitignored).
#
# --keep-duplicates: the repeated corpus consists of exact duplicates, which
# tifa by default does not count; the peers count everything, so tifa must too.
# Environment: RUNS (default 3), SIZES (synthetic, default "10M 100M 1G"),
# SKIP_1G=1 to leave the 1 GB corpus out, GOV_MB (default 100; smaller for a
# smoke test), TIFA_SHARED_CORPORA.  Paths with spaces are not supported.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=$HERE/work
RES=$HERE/results
RAW=$RES/raw
BUILD=$WORK/build
SHARED=${TIFA_SHARED_CORPORA:-$ROOT/../shared/corpora}
RUNS=${RUNS:-3}
GOV_MB=${GOV_MB:-100}
SIZES=${SIZES:-"10M 100M 1G"}
PY=/usr/bin/python3
mkdir -p "$WORK" "$RAW"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ build --
log "building Release in $BUILD"
cmake -S "$HERE" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$RAW/cmake.log" 2>&1
cmake --build "$BUILD" -j2 --target tifa ngram_driver gen_synthetic memfloor >"$RAW/build.log" 2>&1
TIFA=$BUILD/tifa/pipeline/tifa
DRIVER=$BUILD/ngram_driver
GEN=$BUILD/gen_synthetic
MEMFLOOR=$BUILD/memfloor

# ---------------------------------------------------------------- corpora --
GOV_SRC=$SHARED/govreports/government_work_reports.jsonl
repeat_to() { # repeat_to SRC COPIES DST
    if [ ! -s "$3" ]; then
        local i
        : >"$3.tmp"
        for ((i = 0; i < $2; i++)); do cat "$1" >>"$3.tmp"; done
        mv "$3.tmp" "$3"
    fi
}
GOV_SIZE=$(stat -c %s "$GOV_SRC")
repeat_to "$GOV_SRC" $(((GOV_MB * 1000000 + GOV_SIZE - 1) / GOV_SIZE)) "$WORK/gov-${GOV_MB}M.jsonl"
repeat_to "$GOV_SRC" $(((10000000 + GOV_SIZE - 1) / GOV_SIZE)) "$WORK/gov-10M.jsonl"
for s in $SIZES; do
    [ "$s" = 1G ] && [ "${SKIP_1G:-0}" = 1 ] && continue
    f=$WORK/syn-$s.jsonl
    if [ ! -s "$f" ]; then
        bytes=$(numfmt --from=si "$s")
        log "generating $f"
        "$GEN" "$bytes" >"$f.tmp" 2>>"$RAW/gen.log"
        mv "$f.tmp" "$f"
    fi
done

# ------------------------------------------------------------------- runs --
TSV=$RES/results.tsv
printf 'corpus\tbytes\ttool\tunit\tngrams\tthreads\trun\twall_s\trss_kb\tdistinct\tengine_MBps\n' >"$TSV"

# measure CORPUS FILE TOOL UNIT NGRAMS THREADS RUN -- COMMAND...
measure() {
    local corpus=$1 file=$2 tool=$3 unit=$4 ngrams=$5 threads=$6 run=$7
    shift 8
    local tag="$corpus.$tool.$unit.t$threads.r$run"
    local bytes
    bytes=$(stat -c %s "$file")
    rm -rf "$WORK/out"
    /usr/bin/time -v -o "$RAW/$tag.time" "$@" >"$RAW/$tag.out" 2>"$RAW/$tag.err" || {
        log "FAILED: $tag (see $RAW/$tag.err)"
        return 0
    }
    local wall rss distinct mbps
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$RAW/$tag.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$RAW/$tag.time")
    distinct=$(grep -o 'distinct=[0-9]*' "$RAW/$tag.out" | head -1 | cut -d= -f2 || true)
    mbps=$(grep -o '\(count\|stream\)_MBps=[0-9.]*' "$RAW/$tag.out" | head -1 | cut -d= -f2 || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$corpus" "$bytes" "$tool" "$unit" \
        "$ngrams" "$threads" "$run" "$wall" "$rss" "${distinct:-}" "${mbps:-}" >>"$TSV"
    log "$tag: ${wall}s, ${rss} KB${distinct:+, $distinct distinct}"
}

# the tifa command of the benchmark: FILE UNIT NGRAMS THREADS
tifa_count() {
    echo "$TIFA" count --format jsonl --keep-duplicates --no-charts --quiet \
        --ngrams "$3" --unit "$2" --threads "$4" -o "$WORK/out" "$1"
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) cores"
    echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "tifa: $("$TIFA" --version 2>/dev/null | head -1)"
    echo "python: $($PY --version 2>&1), jieba $($PY -c 'import jieba; print(jieba.__version__)' 2>/dev/null)"
} >"$RES/machine.txt"

# `tifa merge` loads shards and merges them: a shard of the 10 MB synthetic
# corpus counted with two threads (untimed), merged with itself below.
MERGE_SHARD=$WORK/syn-10M.t2.shard
if [ -s "$WORK/syn-10M.jsonl" ]; then
    "$TIFA" count --format jsonl --keep-duplicates --no-charts --quiet --ngrams 1-4 \
        --unit char --threads 2 --save-shard "$MERGE_SHARD" -o "$WORK/out" "$WORK/syn-10M.jsonl"
fi

for r in $(seq "$RUNS"); do
    if [ -s "$MERGE_SHARD" ]; then
        measure syn-10M-shard "$MERGE_SHARD" tifa-merge char 1-4 1 $r -- \
            "$TIFA" merge --quiet -o "$WORK/out" "$MERGE_SHARD" "$MERGE_SHARD"
    fi
    # govreports ~100 MB: the acceptance numbers
    for t in 1 2; do
        measure gov-${GOV_MB}M "$WORK/gov-${GOV_MB}M.jsonl" tifa char 1-4 $t $r -- \
            $(tifa_count "$WORK/gov-${GOV_MB}M.jsonl" char 1-4 $t)
        measure gov-${GOV_MB}M "$WORK/gov-${GOV_MB}M.jsonl" engine char 1-4 $t $r -- \
            "$DRIVER" --threads $t --ngrams 1-4 "$WORK/gov-${GOV_MB}M.jsonl"
        measure gov-${GOV_MB}M "$WORK/gov-${GOV_MB}M.jsonl" tifa-no-ngrams char off $t $r -- \
            $(tifa_count "$WORK/gov-${GOV_MB}M.jsonl" char off $t)
        measure gov-${GOV_MB}M "$WORK/gov-${GOV_MB}M.jsonl" tifa word 1-3 $t $r -- \
            $(tifa_count "$WORK/gov-${GOV_MB}M.jsonl" word 1-3 $t)
    done
    measure gov-10M "$WORK/gov-10M.jsonl" counter char 1-4 1 $r -- \
        $PY "$HERE/peers/counter_chars.py" --ngrams 1-4 "$WORK/gov-10M.jsonl"
    measure gov-10M "$WORK/gov-10M.jsonl" jieba word 1-3 1 $r -- \
        $PY "$HERE/peers/jieba_words.py" --ngrams 1-3 "$WORK/gov-10M.jsonl"
    # synthetic, growing vocabulary
    for s in $SIZES; do
        f=$WORK/syn-$s.jsonl
        [ -s "$f" ] || continue
        if [ "$s" = 1G ] && [ "$r" -gt 1 ]; then continue; fi # one run of 1 GB
        measure syn-$s "$f" engine-stream char 1-4 1 $r -- \
            "$DRIVER" --stream --ngrams 1-4 "$f"
        if [ "$s" != 1G ]; then
            for t in 1 2; do
                measure syn-$s "$f" tifa char 1-4 $t $r -- $(tifa_count "$f" char 1-4 $t)
            done
        fi
        if [ "$s" = 10M ]; then
            measure syn-10M "$f" counter char 1-4 1 $r -- \
                $PY "$HERE/peers/counter_chars.py" --ngrams 1-4 "$f"
        fi
    done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/machine.txt"

# ------------------------------------------- determinism and shard checks --
# Untimed: ngrams.csv must be byte-identical for --threads 1 and 2, and a
# `tifa merge` of two shards (the corpus split in two halves) must equal the
# one run.  Results go into checks.txt.
GOV=$WORK/gov-${GOV_MB}M.jsonl
CHK=$WORK/checks
rm -rf "$CHK" && mkdir -p "$CHK"
COMMON="--format jsonl --keep-duplicates --no-charts --quiet --ngrams 1-4 --unit char"
"$TIFA" count $COMMON --threads 1 -o "$CHK/t1" "$GOV"
"$TIFA" count $COMMON --threads 2 -o "$CHK/t2" "$GOV"
half=$(($(wc -l <"$GOV") / 2))
head -n "$half" "$GOV" >"$CHK/a.jsonl"
tail -n +"$((half + 1))" "$GOV" >"$CHK/b.jsonl"
"$TIFA" count $COMMON --threads 2 --save-shard "$CHK/a.shard" -o "$CHK/a" "$CHK/a.jsonl"
"$TIFA" count $COMMON --threads 2 --save-shard "$CHK/b.shard" -o "$CHK/b" "$CHK/b.jsonl"
"$TIFA" merge -o "$CHK/m" "$CHK/a.shard" "$CHK/b.shard"
{
    echo "ngrams.csv rows: $(($(wc -l <"$CHK/t1/ngrams.csv") - 1)), sha256 $(sha256sum <"$CHK/t1/ngrams.csv" | cut -c1-16)"
    if cmp -s "$CHK/t1/ngrams.csv" "$CHK/t2/ngrams.csv"; then
        echo "threads 1 vs 2: byte-identical"
    else
        echo "threads 1 vs 2: DIFFERENT"
    fi
    if cmp -s "$CHK/t1/ngrams.csv" "$CHK/m/ngrams.csv"; then
        echo "one run vs merge of two shards: byte-identical"
    else
        echo "one run vs merge of two shards: DIFFERENT"
    fi
} >"$RES/checks.txt"
rm -f "$CHK/a.jsonl" "$CHK/b.jsonl"

"$MEMFLOOR" >"$RES/memfloor.txt"

$PY "$HERE/summarize.py" "$TSV" "$RES/machine.txt" "$RES/checks.txt" "$RES/memfloor.txt" \
    >"$RES/summary.md"
cat "$RES/summary.md"
