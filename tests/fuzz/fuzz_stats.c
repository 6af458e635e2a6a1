/*
 * fuzz_stats.c — libFuzzer target over the counting stage: the statistics
 * scans (quoted spans, slogan families, rhetoric, the lexicon matcher of
 * the `total` counts) and the character n-gram engine, fed with what the
 * loader makes of the input.
 *
 * The input is loaded as one plain-text file (the first byte picks
 * paragraph or forum format, strictness and whether a `###` separator
 * splits it into documents), so the scans see exactly the kind of text they
 * get in a run: valid, NFKC-normalised UTF-8, but otherwise anything.  Every
 * document goes through both passes (tifa_stats_add_doc, then the frozen
 * lexicon's tifa_stats_count_totals) and through an n-gram engine with
 * n = 1..4 whose 64 Ki batches are counted as documents arrive.  ASan/UBSan
 * do the checking, plus one invariant: no n has more distinct n-grams than
 * the loader counted Han characters.  Built only with -DTIFA_FUZZ=ON and
 * clang; scripts/fuzz-smoke.sh runs it after the loader's target.
 */
#include "corpora.h"
#include "stats.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tifa_patterns *patterns(void)
{
    static tifa_patterns *p; /* read-only after loading: shared by inputs */
    if (!p) {
        tifa_diag *diag = tifa_diag_new();
        tifa_status st;
        p = tifa_patterns_load(TIFA_FUZZ_DATADIR "/patterns/families.txt", diag, &st);
        tifa_diag_free(diag);
        if (!p) abort();
    }
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.format = (sel & 1) ? TIFA_FORMAT_FORUM
               : (sel & 2) ? TIFA_FORMAT_SEPARATED : TIFA_FORMAT_TEXT;
    o.separator = "^###$";
    o.strict = (sel & 4) != 0;
    o.keep_duplicates = true;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_loader *l = tifa_loader_new(&o, diag, &st);
    if (!l || tifa_loader_add_memory(l, "fuzz.txt", data + 1, size - 1) != TIFA_OK)
        abort();

    tifa_stats_options so = {0};
    so.patterns = patterns();
    tifa_stats *stats = tifa_stats_new(&so, diag, &st);
    tifa_ngram_options no = {0};
    no.char_min = 1;
    no.char_max = 4;
    tifa_ngrams *ng = tifa_ngrams_new(&no, &st);
    if (!stats || !ng) abort();

    tifa_doc *docs[64];
    size_t n = 0;
    uint64_t han = 0;
    tifa_doc *d;
    while ((st = tifa_loader_next(l, &d)) == TIFA_OK && d) {
        if (tifa_stats_add_doc(stats, d) != TIFA_OK) abort();
        if (tifa_ngrams_add_doc(ng, d) != TIFA_OK) abort();
        han += d->chars;
        if (n < 64) docs[n++] = d;
        else tifa_doc_free(d);
    }
    if (st != TIFA_OK) abort();
    if (tifa_stats_freeze_lexicon(stats) != TIFA_OK) abort();
    for (size_t i = 0; i < n; i++)
        if (tifa_stats_count_totals(stats, docs[i]) != TIFA_OK) abort();
    /* a distinct n-gram needs at least one window of n Han characters */
    for (int k = 1; k <= 4; k++)
        if (tifa_ngrams_distinct(ng, TIFA_UNIT_CHAR, k) > han) abort();

    for (size_t i = 0; i < n; i++)
        tifa_doc_free(docs[i]);
    tifa_ngrams_free(ng);
    tifa_stats_free(stats);
    tifa_loader_free(l);
    tifa_diag_free(diag);
    return 0;
}
