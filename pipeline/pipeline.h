/*
 * pipeline.h — what the `tifa` program is made of: the study file, the run of
 * all stages over a study, and the manifest that makes a run reproducible.
 * main.c only parses the command line and calls these.
 *
 * Ownership follows tifa_common.h.
 */
#ifndef TIFA_PIPELINE_H
#define TIFA_PIPELINE_H

#include "corpora.h"
#include "plots.h"
#include "stats.h"
#include "tifa_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses of the program (documented in --help and tifa.1). */
enum {
    TIFA_EXIT_OK = 0,
    TIFA_EXIT_PARTIAL = 1,  /* some inputs or charts failed, the rest written */
    TIFA_EXIT_USAGE = 2,    /* bad option or study file */
    TIFA_EXIT_NOINPUT = 3,  /* no usable input */
    TIFA_EXIT_OUTPUT = 4,   /* outputs could not be written */
    TIFA_EXIT_VERIFY = 5    /* `tifa verify` found a difference */
};

/* ------------------------------------------------------------ study file -- */

/* One [corpus NAME] section.  load.* strings point into the study. */
typedef struct tifa_study_corpus {
    char *name;
    char **paths;            /* resolved against the study file's folder */
    size_t n_paths;
    tifa_load_options load;
} tifa_study_corpus;

/* A key = value as written in the study (for the manifest). */
typedef struct tifa_param {
    char *section;
    char *key;
    char *value;
} tifa_param;

typedef struct tifa_study {
    char *path;              /* NULL for a study built from the command line */
    char *dir;               /* folder relative paths are resolved against */
    char *name;
    char *output;            /* output directory */
    tifa_study_corpus *corpora;
    size_t n_corpora;
    bool default_patterns;   /* load data/patterns/families.txt first */
    char **pattern_files;
    size_t n_pattern_files;
    char **slogan_lists;
    size_t n_slogan_lists;
    tifa_quote_options quotes;
    tifa_ngram_options ngrams;
    tifa_comparison *comparisons;
    size_t n_comparisons;
    char *period;            /* "year", "decade", or a number of years */
    bool charts;
    tifa_plot_options plots;
    tifa_csv_options csv;
    int precision;
    int threads;             /* 0: all cores */
    unsigned bootstrap;
    unsigned long seed;
    tifa_param *params;      /* every setting, defaults included, sorted */
    size_t n_params;
} tifa_study;

/* A study with every default filled in and no corpus. */
tifa_study *tifa_study_new(void);
/* Parses an INI study file (see docs/study-file.md).  Unknown sections or
 * keys and bad values are reported to diag with the line and the nearest
 * valid key, and the study is rejected (NULL, *status = TIFA_EUSAGE). */
tifa_study *tifa_study_load(const char *path, tifa_diag *diag,
                            tifa_status *status);
void tifa_study_free(tifa_study *study);
/* Adds a corpus (name, paths) to a study, e.g. from --corpus NAME=P1,P2. */
tifa_status tifa_study_add_corpus(tifa_study *study, const char *name,
                                  const char *const *paths, size_t n_paths);
/* Recomputes study->params from the fields (call after changing fields). */
tifa_status tifa_study_collect_params(tifa_study *study);
/* Adds a comparison, as a [compare NAME] section would (strings copied;
 * reference NULL or "rest": every other corpus or group). */
tifa_status tifa_study_add_comparison(tifa_study *study, const char *name,
                                      const char *target,
                                      const char *reference, bool by_group);
/* A copy of s kept in the study's string pool (freed by tifa_study_free),
 * for the const char * option fields, e.g.
 * study->corpora[i].load.encoding = tifa_study_strdup(study, name).
 * (The char * fields path, dir, name, output, period are plain malloc'd
 * strings the study frees: replace them with free() + tifa_strdup().)
 * NULL when out of memory. */
char *tifa_study_strdup(tifa_study *study, const char *s);

/* -------------------------------------------------------------- manifest -- */

typedef struct tifa_manifest_input {
    const char *path;
    const char *corpus;
    const char *sha256; /* hex digest already computed, or NULL: hash it */
    long long size;     /* with sha256 */
} tifa_manifest_input;

/* Writes OUTDIR/manifest.json (SPEC §6): tifa version, study file and hash,
 * every input file with size and SHA-256, every parameter, library versions
 * (ICU, GSL, gnuplot), and the SHA-256 of every output file under outdir
 * (CSV, charts, scripts), in sorted order. */
tifa_status tifa_manifest_write(const char *outdir, const tifa_study *study,
                                const tifa_manifest_input *inputs,
                                size_t n_inputs, const char *gnuplot_version,
                                tifa_diag *diag);
/* Re-hashes inputs and outputs against OUTDIR/manifest.json; every
 * difference (changed, missing, extra file) is reported to diag.
 * Returns TIFA_OK or TIFA_EVERIFY; TIFA_ENOENT when there is no manifest,
 * TIFA_EFORMAT when it is not one tifa wrote (see docs/study-file.md). */
tifa_status tifa_manifest_verify(const char *outdir, tifa_diag *diag);

/* ------------------------------------------------------------------ run -- */

typedef struct tifa_run_options {
    int threads;             /* overrides the study when > 0 */
    bool quiet, verbose;
    bool progress;           /* draw a progress line (stderr is a terminal) */
    const char *datadir;     /* shipped data files */
    const char *save_shard;  /* also save the n-gram counts here (tifa merge) */
    size_t level_split;      /* with an even number of threads, count the
                              * character n-grams split by level once worker
                              * 0's n-grams hold this many bytes (checked
                              * between batches; docs/ngrams.md, "Threads");
                              * 0 = the default, 64 MiB */
} tifa_run_options;

/* Wall-clock seconds of each phase of a run (printed in the summary, never
 * written to an output: outputs must not depend on timing). */
typedef struct tifa_run_times {
    double count;    /* pass 1: loading, statistics, n-grams, merging */
    double totals;   /* pass 2: lexicon totals */
    double tables;   /* writing every table (with threads: ngrams.csv was
                      * being written during pass 2 already) */
    double charts;
    double total;    /* start to end, manifest included */
    int threads;
} tifa_run_times;

typedef struct tifa_run_summary {
    tifa_load_summary load;
    size_t tables_written;
    tifa_plot_summary charts;
    size_t warnings, errors;
    tifa_run_times times;
} tifa_run_summary;

/* Runs every stage of a study into study->output and returns an exit status
 * (TIFA_EXIT_*).  Diagnostics go to diag. */
int tifa_run_study(tifa_study *study, const tifa_run_options *options,
                   tifa_diag *diag, tifa_run_summary *summary);

/* documents.csv (SPEC §6), shared by `tifa run` and `tifa docs`; with_text
 * adds the cleaned text as a last column. */
void tifa_documents_csv_header(tifa_csv *csv, bool with_text);
void tifa_documents_csv_row(tifa_csv *csv, const tifa_doc *doc, bool with_text);

/* The folder of shipped data files: $TIFA_DATADIR, else the source tree's
 * data/ (when running from a build tree), else the installed one. */
const char *tifa_datadir(void);

#ifdef __cplusplus
}
#endif
#endif /* TIFA_PIPELINE_H */
