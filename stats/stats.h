/*
 * stats.h — counting and statistics (SPEC §4–5): quoted spans, slogan
 * families, the slogan lexicon, rhetoric, character and word n-grams, and the
 * statistics that make the counts usable in a paper (Poisson intervals,
 * dispersion, keyness, trends, rank–frequency), all with GSL where GSL has the
 * function.  The tables of SPEC §6 are written from here through the CSV
 * writer of tifa_common.h.
 *
 * Threads: an engine (tifa_stats, tifa_ngrams) is not thread-safe.  The CLI
 * makes one per thread with *_new_worker, feeds each a share of the
 * documents, and merges them back in worker order; merges are exact and the
 * written tables are sorted, so results do not depend on the thread count.
 *
 * Ownership follows tifa_common.h.
 */
#ifndef TIFA_STATS_H
#define TIFA_STATS_H

#include "corpora.h"
#include "tifa_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- formulas -- */
/* Pure functions, SPEC §5.  The test vectors there are checked in tests/stats. */

/* Exact Poisson 95% interval of the rate of k events in size n, per 10,000:
 * lower = chi2inv(0.025; 2k)/2, upper = chi2inv(0.975; 2k+2)/2, × 1e4/n;
 * lower = 0 when k = 0.  n = 0 gives NaN for both. */
void tifa_poisson_ci(long k, double n, double *low, double *high);

/* Dispersion of one feature over documents: f[i] occurrences in a document of
 * size s[i].  Range = documents with f > 0; DP (Gries), DPnorm, Juilland's D.
 * Undefined values (no occurrences, one document) are NaN. */
typedef struct tifa_dispersion {
    size_t range;
    double dp;
    double dp_norm;
    double juilland_d;
} tifa_dispersion;
void tifa_dispersion_compute(const double *f, const double *s, size_t n,
                             tifa_dispersion *out);

/* Keyness of a feature: a of c (target) against b of d (reference). */
typedef struct tifa_keyness {
    double g2;         /* two-term (UCREL) log-likelihood */
    double g2_4term;   /* four-term G² over the 2×2 table */
    double p;          /* upper tail of chi²(1) at g2 */
    double chi2;       /* Pearson χ² without correction */
    double chi2_yates; /* with Yates's correction */
    double log_ratio;  /* log2 of the ratio of relative frequencies, 0.5 for zeros */
    double pct_diff;   /* %DIFF (Gabrielatos & Marchi); NaN when b = 0 */
    double bic;        /* g2 - ln(c + d) */
} tifa_keyness;
void tifa_keyness_compute(double a, double b, double c, double d,
                          tifa_keyness *out);

/* Benjamini–Hochberg adjusted p-values, in place order preserved. */
tifa_status tifa_bh_adjust(const double *p, size_t n, double *p_adj);

/* OLS slope of y on x with its standard error and two-sided p (t, n-2 df). */
typedef struct tifa_trend_fit {
    double slope, slope_se, intercept, p;
    size_t n;
} tifa_trend_fit;
tifa_status tifa_trend_fit_compute(const double *x, const double *y, size_t n,
                                   tifa_trend_fit *out);

/* Least-squares slope of log10(count) on log10(rank), ranks 1..min(n,1000);
 * counts must be sorted in descending order. */
double tifa_zipf_slope(const double *counts_desc, size_t n);
/* The same fit with its intercept (log10 count at rank 1), for the chart's
 * fitted line; ranks whose count is 0 are left out.  NaN with < 2 points. */
void tifa_zipf_fit(const double *counts_desc, size_t n, double *slope,
                   double *intercept);

/* ------------------------------------------------------------- patterns -- */

/* A family pattern file: one family per line, "name<TAB or spaces>regex",
 * '#' comments, and optional "@scope quoted|text" lines that set the scope of
 * the following families (quoted spans by default, or running text).  The
 * shipped default is data/patterns/families.txt; `N` there is written out. */
typedef struct tifa_patterns tifa_patterns;

/* Loads and compiles a pattern file.  Invalid regexes, empty names and
 * duplicate names are reported to diag with file, line and ICU's message,
 * and the whole file is rejected (NULL). */
tifa_patterns *tifa_patterns_load(const char *path, tifa_diag *diag,
                                  tifa_status *status);
/* Adds the families of another file after the existing ones. */
tifa_status tifa_patterns_append(tifa_patterns *patterns, const char *path,
                                 tifa_diag *diag);
void tifa_patterns_free(tifa_patterns *patterns);
size_t tifa_patterns_count(const tifa_patterns *patterns);
const char *tifa_patterns_name(const tifa_patterns *patterns, size_t i);
/* The family of a quoted span (first match wins), or "other". */
const char *tifa_patterns_classify(tifa_patterns *patterns, const char *span,
                                   size_t len);
/* Added by the stats stage: the index of the family of a quoted span (first
 * quoted-scope match wins), tifa_patterns_count() meaning "other"; whether
 * family i applies to running text (@scope text); and a deep copy for a
 * worker thread (regexes cloned with uregex_clone; caller frees with
 * tifa_patterns_free). */
size_t tifa_patterns_classify_index(tifa_patterns *patterns, const char *span,
                                    size_t len);
bool tifa_patterns_text_scope(const tifa_patterns *patterns, size_t i);
tifa_patterns *tifa_patterns_clone(const tifa_patterns *patterns,
                                   tifa_status *status);

/* ---------------------------------------------------------------- quotes -- */

typedef struct tifa_quote_options {
    size_t min_chars; /* default 1 (0 means the default) */
    size_t max_chars; /* default 12 (0 means the default) */
} tifa_quote_options;

/* Calls fn for every candidate quoted span of text (SPEC §4): span bytes
 * (trimmed), its byte offset, and its length in characters. */
typedef void (*tifa_quote_fn)(const char *span, size_t bytes, size_t offset,
                              size_t chars, void *user);
void tifa_quotes_scan(const char *text, size_t len,
                      const tifa_quote_options *options, tifa_quote_fn fn,
                      void *user);

/* -------------------------------------------------------------- rhetoric -- */

typedef enum tifa_device {
    TIFA_ENUMERATION = 0, /* 一是…二是…三是…, 第一…第二…, 一、…二、… */
    TIFA_PARALLEL         /* three or more items of one shape joined by 、 or ， */
} tifa_device;
const char *tifa_device_name(tifa_device device); /* "enumeration", "parallel" */

/* Calls fn for every instance, in text order.  items: the items joined by
 * " | "; the whole matched stretch is left in place: the stretch_len bytes
 * of text at offset (not NUL-terminated), so nothing is copied
 * (enumerations of section headings span most of a document). */
typedef void (*tifa_rhetoric_fn)(tifa_device device, const char *items,
                                 size_t stretch_len, size_t offset, void *user);
/* TIFA_ENOMEM when its scratch cannot grow (the instances reported before
 * stand, the rest are missing: the caller must not use a partial scan). */
tifa_status tifa_rhetoric_scan(const char *text, size_t len, tifa_rhetoric_fn fn,
                               void *user);

/* --------------------------------------------------------- stats engine -- */

/* One comparison for keyness.tsv: target against reference.  Names refer to
 * corpora, or to groups when by_group is set; reference NULL means "all the
 * rest". */
typedef struct tifa_comparison {
    const char *target;
    const char *reference;
    bool by_group;
} tifa_comparison;

typedef struct tifa_stats_options {
    tifa_patterns *patterns;       /* borrowed; required */
    const char *const *slogan_lists; /* files, one slogan per line */
    size_t n_slogan_lists;
    tifa_quote_options quotes;
    const char *period;            /* "year" (default), "decade", or "N" years */
    const tifa_comparison *comparisons;
    size_t n_comparisons;          /* 0: each group against the rest */
    unsigned bootstrap;            /* document-bootstrap replicates, 0 = off */
    unsigned long seed;            /* for the bootstrap */
    int precision;                 /* decimals in the tables, default 4 */
} tifa_stats_options;

typedef struct tifa_stats tifa_stats;

tifa_stats *tifa_stats_new(const tifa_stats_options *options, tifa_diag *diag,
                           tifa_status *status);
/* A worker with the same options (own regex clones), to be merged back. */
tifa_stats *tifa_stats_new_worker(const tifa_stats *parent, tifa_status *status);
void tifa_stats_free(tifa_stats *stats);

/* Pass 1: quoted spans, families, rhetoric, sizes, per-document counts. */
tifa_status tifa_stats_add_doc(tifa_stats *stats, const tifa_doc *doc);
tifa_status tifa_stats_merge(tifa_stats *into, tifa_stats *from);
/* Between the passes: fixes the lexicon (candidates + user lists) and builds
 * the multi-pattern automaton; workers made after this share it read-only. */
tifa_status tifa_stats_freeze_lexicon(tifa_stats *stats);
/* Pass 2: `total` counts of every lexicon entry in the document's text. */
tifa_status tifa_stats_count_totals(tifa_stats *stats, const tifa_doc *doc);

/* Writes slogans.csv, families.csv, trend.csv, rhetoric.csv into outdir and
 * adds slogan and family rows to keyness (may be NULL).  Also written (stats
 * stage, see docs/statistics.md): trend_fit.csv (OLS slope per family),
 * zipf.csv (rank-frequency fits) and slogans_by_doc.csv (per-document
 * counts, for the dispersion chart).  Freezes the lexicon if not yet done. */
typedef struct tifa_keyness_table tifa_keyness_table;
tifa_status tifa_stats_write(tifa_stats *stats, const char *outdir,
                             const tifa_csv_options *csv,
                             tifa_keyness_table *keyness);

/* --------------------------------------------------------- keyness table -- */

/* Collects (target, reference, kind, feature, a, b, c, d) rows from any
 * stage and writes keyness.csv: statistics, BH-adjusted p within each
 * (target, reference, kind), sorted by g2 descending then feature. */
tifa_keyness_table *tifa_keyness_table_new(void);
void tifa_keyness_table_free(tifa_keyness_table *table);
tifa_status tifa_keyness_table_add(tifa_keyness_table *table,
                                   const char *target, const char *reference,
                                   const char *kind, const char *feature,
                                   double a, double b, double c, double d);
/* Moves every row of `from` into `into`; `from` is left empty (free it as
 * usual).  The written table is the same whichever table rows came from. */
tifa_status tifa_keyness_table_absorb(tifa_keyness_table *into,
                                      tifa_keyness_table *from);
tifa_status tifa_keyness_table_write(tifa_keyness_table *table,
                                     const char *path,
                                     const tifa_csv_options *csv,
                                     int precision);

/* ---------------------------------------------------------------- n-grams -- */

typedef enum tifa_unit { TIFA_UNIT_CHAR = 0, TIFA_UNIT_WORD } tifa_unit;

typedef struct tifa_ngram_options {
    int char_min, char_max;  /* 1..8; 0 disables character n-grams */
    int word_min, word_max;  /* 1..4; 0 disables word n-grams */
    long min_count;          /* rows below are not written */
    long min_docs;
    size_t top_k;            /* per (corpus, unit, n); 0 = all */
    const char *stoplist;    /* file of n-grams never counted, or NULL */
    size_t memory_budget;    /* bytes; 0 = unlimited (see docs/ngrams.md) */
    int threads;             /* threads of tifa_ngrams_write; 0 or 1 = the
                              * calling thread only.  The output does not
                              * depend on it. */
} tifa_ngram_options;

typedef struct tifa_ngrams tifa_ngrams;

tifa_ngrams *tifa_ngrams_new(const tifa_ngram_options *options,
                             tifa_status *status);
tifa_ngrams *tifa_ngrams_new_worker(const tifa_ngrams *parent,
                                    tifa_status *status);
/* A worker that counts only the character n-grams with lo <= n <= hi
 * (1 <= lo <= 3, hi <= char_max), for threads that split the work by n:
 * each such worker is given every document.  Corpus sizes and word n-grams
 * are counted by the one with lo == 1 only (TIFA_EUSAGE for lo > 1 with word
 * n-grams on, and under a memory budget), so that merging one worker per
 * range of a partition of 1..char_max adds everything exactly once. */
tifa_ngrams *tifa_ngrams_new_worker_levels(const tifa_ngrams *parent, int lo,
                                           int hi, tifa_status *status);
void tifa_ngrams_free(tifa_ngrams *ngrams);
tifa_status tifa_ngrams_add_doc(tifa_ngrams *ngrams, const tifa_doc *doc);
/* Exact: counts, document frequencies and sizes add up.  `from` is consumed
 * (its tables may move into `into`): free it afterwards. */
tifa_status tifa_ngrams_merge(tifa_ngrams *into, tifa_ngrams *from);
/* Saves and loads a counted shard (for `tifa merge`); merging shards gives
 * exactly what one run over all of them gives.  A shard carries the filters
 * it was counted with (docs/ngrams.md has the format). */
tifa_status tifa_ngrams_save(const tifa_ngrams *ngrams, const char *path);
tifa_ngrams *tifa_ngrams_load(const char *path, tifa_status *status);
/* ngrams.csv (SPEC §6) plus n-gram rows for keyness (may be NULL), on
 * options.threads threads (the calling one included; serial under a memory
 * budget that spilled).  Byte-identical output whatever the thread count. */
tifa_status tifa_ngrams_write(tifa_ngrams *ngrams, const char *path,
                              const tifa_csv_options *csv,
                              tifa_keyness_table *keyness);
/* Replaces the output filters (n ranges within what was counted, min_count,
 * min_docs, top_k, stoplist, memory_budget) and the write's threads of an
 * engine, e.g. of a loaded shard when `tifa merge` should write with other filters.  A changed char_max/word_max or an n
 * range outside the counted one gives TIFA_EUSAGE. */
tifa_status tifa_ngrams_set_filters(tifa_ngrams *ngrams,
                                    const tifa_ngram_options *options);
/* Bytes held by the engine: tables, words, scratch (for reports). */
size_t tifa_ngrams_memory(const tifa_ngrams *ngrams);
/* Distinct n-grams of (unit, n) summed over corpora, while in memory. */
size_t tifa_ngrams_distinct(const tifa_ngrams *ngrams, tifa_unit unit, int n);

/* ------------------------------------------------------------------ KWIC -- */

typedef struct tifa_kwic tifa_kwic;
/* pattern: a literal, or an ICU regex when is_regex. */
tifa_kwic *tifa_kwic_new(const char *pattern, bool is_regex, size_t width,
                         tifa_diag *diag, tifa_status *status);
void tifa_kwic_free(tifa_kwic *kwic);
/* Writes doc_id, left, match, right rows for each match in doc. */
tifa_status tifa_kwic_doc(tifa_kwic *kwic, const tifa_doc *doc, tifa_csv *out);

#ifdef __cplusplus
}
#endif
#endif /* TIFA_STATS_H */
