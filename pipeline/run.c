/*
 * run.c — one whole study, every stage, in order.
 *
 * The data flow is one-way:
 *
 *   loader (corpora/) --docs--> documents.csv
 *                      \-----> stats + n-gram workers (threads) --merge-->
 *                              tables (stats/) --> charts (plots/) --> manifest
 *
 * Pass 1 streams every corpus through the loader on this thread and hands
 * batches of counted documents to T worker threads (each with its own stats
 * and n-gram engine), while the next batch loads.  Workers are merged in
 * worker order and every table is sorted, so outputs are byte-identical
 * whatever T is.  Pass 2 counts `total` occurrences of the frozen slogan
 * lexicon; it needs the texts again, which are kept in memory when they fit
 * the budget and re-read through the (deterministic) loader otherwise.
 *
 * This file owns the output directory: it refuses a non-empty directory that
 * tifa did not make (no .tifa-output marker), and every table is written
 * through atomic files, so a killed run never leaves a half-written table.
 */
#define _POSIX_C_SOURCE 200809L
#include "pipeline.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define OUTPUT_MARKER ".tifa-output"
#define BATCH_BYTES (4u << 20) /* text bytes per batch handed to workers */
#define BATCH_DOCS 4096
#define KEEP_TEXT_BUDGET ((size_t)4 << 30) /* pass-2 texts kept in memory */

/* ------------------------------------------------------- data directory -- */

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

const char *tifa_datadir(void)
{
    const char *env = getenv("TIFA_DATADIR");
    if (env && *env)
        return env;
    if (is_dir(TIFA_SOURCE_DATADIR))
        return TIFA_SOURCE_DATADIR;
    return TIFA_INSTALL_DATADIR;
}

/* ------------------------------------------------------ output directory -- */

static tifa_status mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return TIFA_EUSAGE;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return TIFA_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return TIFA_EIO;
    return is_dir(tmp) ? TIFA_OK : TIFA_EEXIST;
}

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

/* Creates outdir, or accepts an existing one that tifa made before (it
 * holds the marker file) or that is empty; *created says which. */
static tifa_status prepare_outdir(const char *outdir, tifa_diag *diag,
                                  bool *created)
{
    *created = !is_dir(outdir);
    char marker[PATH_MAX];
    snprintf(marker, sizeof marker, "%s/%s", outdir, OUTPUT_MARKER);
    if (is_dir(outdir) && !dir_is_empty(outdir) && access(marker, F_OK) != 0) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EEXIST, outdir, 0, -1,
                      "output directory exists and was not made by tifa; "
                      "refusing to overwrite it (choose another -o)");
        return TIFA_EEXIST;
    }
    tifa_status st = mkdir_p(outdir);
    if (st != TIFA_OK) {
        tifa_diag_add(diag, TIFA_ERROR, st, outdir, 0, -1,
                      "cannot create output directory: %s", strerror(errno));
        return st;
    }
    const char note[] = "This directory was written by tifa; tifa may overwrite it.\n";
    st = tifa_write_file_atomic(marker, note, sizeof note - 1);
    if (st != TIFA_OK)
        tifa_diag_add(diag, TIFA_ERROR, st, marker, 0, -1, "cannot write: %s",
                      tifa_status_message(st));
    return st;
}

/* ------------------------------------------------------------- progress -- */

typedef struct progress {
    bool enabled;
    struct timespec start, last;
    size_t total_bytes;
    bool drawn;
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress_draw(progress *p, const char *stage, size_t bytes,
                          size_t docs, bool final)
{
    if (!p->enabled)
        return;
    double elapsed = seconds_since(&p->start);
    if (!final && (elapsed < 1.0 || seconds_since(&p->last) < 0.2))
        return;
    clock_gettime(CLOCK_MONOTONIC, &p->last);
    double rate = elapsed > 0 ? (double)bytes / elapsed / 1e6 : 0;
    char eta[32] = "";
    if (p->total_bytes > bytes && rate > 0)
        snprintf(eta, sizeof eta, ", %.0f s left",
                 (double)(p->total_bytes - bytes) / 1e6 / rate);
    fprintf(stderr, "\r%s: %.1f / %.1f MB, %zu documents, %.1f MB/s%s   ",
            stage, (double)bytes / 1e6, (double)p->total_bytes / 1e6, docs,
            rate, eta);
    p->drawn = true;
    if (final) {
        fputc('\n', stderr);
        p->drawn = false;
    }
}

/* -------------------------------------------------------------- workers -- */

/* A batch is shared by all workers: each takes the next document with an
 * atomic counter, so a worker that drew short documents simply takes more
 * (documents differ in size by 100x in real corpora; fixed slices left one
 * core idle).  Which worker counts which document does not matter: merges
 * are exact and tables sorted.
 *
 * Split by level (pass 1 only, pool.by_level): with character n-grams up to
 * n >= 3 and nothing that needs whole documents per engine (no word
 * n-grams, no memory budget), workers can come in pairs.  Both workers of a
 * pair count the same documents, a slice of the batch by bytes: the first
 * the character n-grams n = 1..2, the second n = 3 and up
 * (tifa_ngrams_new_worker_levels).  The statistics of the slice's documents
 * go to whichever of the two claims them, one after each document's
 * n-grams, so the pair ends its slice together although n >= 3 costs more.
 * With documents split, every worker's tables hold nearly every n-gram of
 * the corpus: each pays the cache misses and fresh memory of all of them,
 * and the merge re-inserts them all.  Split by level, a table is filled by
 * one worker and merging moves it; but every document is decoded twice.
 * So the run starts split by document and switches for the rest of pass 1
 * once worker 0's n-gram engine holds LEVEL_SPLIT_BYTES: on the 100 MB
 * government corpus (30 MB of tables) it never does, and splitting by level
 * there was about 10 % slower; on the synthetic corpus, whose vocabulary
 * keeps growing, it switches after three batches (13 MB) and is faster
 * with a third less memory (docs/ngrams.md, "Threads and merging").  The n-grams the workers
 * counted before the switch are merged last, into the level workers'
 * tables, which are moved. */
#define LEVEL_SPLIT_BYTES ((size_t)64 << 20)

typedef struct batch_queue {
    tifa_doc **docs;
    size_t n;
    atomic_size_t next;
    int pass; /* 1: scan, 2: totals */
} batch_queue;

typedef struct worker {
    pthread_t thread;
    tifa_stats *stats;
    tifa_ngrams *ngrams;       /* documents split */
    tifa_ngrams *level_ngrams; /* split by level, after the switch (pass 1
                                * then counts into it, not into ngrams) */
    batch_queue *queue;
    size_t first, end;   /* by level: documents [first, end) of the batch */
    atomic_size_t *stats_next; /* by level: the pair's next document for
                                * statistics */
    tifa_status status;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    batch_queue *q = w->queue;
    if (q->pass == 1 && w->level_ngrams) {
        for (size_t i = w->first; i < w->end && w->status == TIFA_OK; i++) {
            w->status = tifa_ngrams_add_doc(w->level_ngrams, q->docs[i]);
            size_t j = atomic_fetch_add_explicit(w->stats_next, 1, memory_order_relaxed);
            if (j < w->end && w->status == TIFA_OK)
                w->status = tifa_stats_add_doc(w->stats, q->docs[j]);
        }
        for (;;) { /* the other worker of the pair may lag behind */
            size_t j = atomic_fetch_add_explicit(w->stats_next, 1, memory_order_relaxed);
            if (j >= w->end || w->status != TIFA_OK)
                break;
            w->status = tifa_stats_add_doc(w->stats, q->docs[j]);
        }
        return NULL;
    }
    while (w->status == TIFA_OK) {
        size_t i = atomic_fetch_add_explicit(&q->next, 1, memory_order_relaxed);
        if (i >= q->n)
            break;
        const tifa_doc *doc = q->docs[i];
        if (q->pass == 1) {
            w->status = tifa_stats_add_doc(w->stats, doc);
            if (w->status == TIFA_OK && w->ngrams)
                w->status = tifa_ngrams_add_doc(w->ngrams, doc);
        } else {
            w->status = tifa_stats_count_totals(w->stats, doc);
        }
    }
    return NULL;
}

typedef struct pool {
    worker *workers;
    int n;
    int started;  /* threads running the current batch */
    bool level_ok; /* splitting by level is possible (split_by_level) */
    bool by_level; /* pass 1 split by level: workers 2i and 2i+1 a pair */
    atomic_size_t *stats_next; /* by level: one per pair */
    batch_queue queue;
} pool;

/* Split by level: gives pair i of the n/2 pairs the documents from the
 * first whose text starts at or after i/pairs of the batch's bytes. */
static void slice_by_bytes(pool *p, tifa_doc **docs, size_t n)
{
    size_t pairs = (size_t)p->n / 2, total = 0;
    for (size_t i = 0; i < n; i++)
        total += docs[i]->text_len;
    size_t i = 0, before = 0;
    for (size_t pair = 0; pair < pairs; pair++) {
        size_t first = i;
        if (pair + 1 == pairs) {
            i = n;
        } else {
            size_t until = total / pairs * (pair + 1);
            while (i < n && before < until)
                before += docs[i++]->text_len;
        }
        atomic_store(&p->stats_next[pair], first);
        for (size_t k = 2 * pair; k < 2 * pair + 2; k++) {
            p->workers[k].first = first;
            p->workers[k].end = i;
            p->workers[k].stats_next = &p->stats_next[pair];
        }
    }
}

/* Starts the workers on docs[0..n).  With one worker the work runs right
 * here, so `--threads 1` really uses one core (the loader does not overlap
 * with counting). */
static tifa_status pool_start(pool *p, tifa_doc **docs, size_t n, int pass)
{
    p->queue.docs = docs;
    p->queue.n = n;
    p->queue.pass = pass;
    atomic_store(&p->queue.next, 0);
    if (p->by_level && pass == 1)
        slice_by_bytes(p, docs, n);
    if (p->n == 1) {
        p->workers[0].queue = &p->queue;
        worker_main(&p->workers[0]);
        return p->workers[0].status;
    }
    for (int k = 0; k < p->n; k++) {
        worker *w = &p->workers[k];
        w->queue = &p->queue;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            return TIFA_EINTERNAL; /* the started ones are joined by pool_wait */
        p->started++;
    }
    return TIFA_OK;
}

static tifa_status pool_wait(pool *p)
{
    tifa_status st = TIFA_OK;
    for (int k = 0; k < p->started; k++)
        pthread_join(p->workers[k].thread, NULL);
    p->started = 0;
    for (int k = 0; k < p->n; k++)
        if (p->workers[k].status != TIFA_OK && st == TIFA_OK)
            st = p->workers[k].status;
    return st;
}

/* ------------------------------------------------------------ documents -- */

static const char *const documents_header[] = {
    "doc_id", "corpus", "group", "kind", "source", "title", "date",
    "category", "author", "chars", "sentences", "duplicate_of", NULL};


/* Shared by `tifa run` and `tifa docs`: one documents.csv header / row. */
void tifa_documents_csv_header(tifa_csv *csv, bool with_text)
{
    for (size_t i = 0; documents_header[i]; i++)
        tifa_csv_str(csv, documents_header[i]);
    if (with_text)
        tifa_csv_str(csv, "text");
    tifa_csv_row_end(csv);
}

void tifa_documents_csv_row(tifa_csv *csv, const tifa_doc *doc, bool with_text)
{
    tifa_csv_str(csv, doc->doc_id);
    tifa_csv_str(csv, doc->corpus);
    tifa_csv_str(csv, doc->group);
    tifa_csv_str(csv, tifa_doc_kind_name(doc->kind));
    tifa_csv_str(csv, doc->source);
    tifa_csv_str(csv, doc->title);
    tifa_csv_str(csv, doc->date);
    tifa_csv_str(csv, doc->category);
    tifa_csv_str(csv, doc->author);
    tifa_csv_int(csv, (long long)doc->chars);
    tifa_csv_int(csv, (long long)doc->sentences);
    tifa_csv_str(csv, doc->duplicate_of);
    if (with_text)
        tifa_csv_strn(csv, doc->text, doc->text_len);
    tifa_csv_row_end(csv);
}

/* Paths in a study are joined to the study's folder, so the loader names
 * documents by absolute paths when the study was given as one.  Tables name
 * them relative to that folder instead ("corpus/baihe/2014.txt#t2"), so the
 * same study gives the same tables on every machine. */
static void strip_prefix(char *s, const char *prefix, size_t n)
{
    if (s && n && strncmp(s, prefix, n) == 0 && s[n] == '/')
        memmove(s, s + n + 1, strlen(s + n + 1) + 1);
}

static void doc_relativize(const tifa_study *study, tifa_doc *doc)
{
    if (!study->dir || !*study->dir)
        return;
    size_t n = strlen(study->dir);
    while (n > 1 && study->dir[n - 1] == '/')
        n--;
    strip_prefix(doc->doc_id, study->dir, n);
    strip_prefix(doc->source, study->dir, n);
    strip_prefix(doc->duplicate_of, study->dir, n);
}

/* A duplicate is listed in documents.csv but never counted. */
static bool doc_is_counted(const tifa_doc *doc)
{
    return doc->duplicate_of == NULL && doc->text_len > 0;
}

/* --------------------------------------------------------------- the run -- */

typedef struct run_state {
    tifa_study *study;
    const tifa_run_options *options;
    tifa_diag *diag;
    tifa_patterns *patterns;
    tifa_stats *stats;
    tifa_ngrams *ngrams;
    pool pool;
    progress prog;
    /* pass-2 texts: every counted document, in order */
    tifa_doc **kept;
    size_t n_kept, cap_kept;
    bool keep_texts;
    size_t next_index;
    size_t bytes_done, docs_done;
    tifa_load_summary load;
    tifa_manifest_input *inputs;
    size_t n_inputs;
    char **input_paths; /* owned copies behind inputs */
} run_state;

static tifa_patterns *load_patterns(const tifa_study *study, const char *datadir,
                                    tifa_diag *diag, tifa_status *status)
{
    tifa_patterns *patterns = NULL;
    char path[PATH_MAX];
    if (study->default_patterns) {
        snprintf(path, sizeof path, "%s/patterns/families.txt", datadir);
        patterns = tifa_patterns_load(path, diag, status);
        if (!patterns)
            return NULL;
    }
    for (size_t i = 0; i < study->n_pattern_files; i++) {
        if (!patterns) {
            patterns = tifa_patterns_load(study->pattern_files[i], diag, status);
            if (!patterns)
                return NULL;
            continue;
        }
        *status = tifa_patterns_append(patterns, study->pattern_files[i], diag);
        if (*status != TIFA_OK) {
            tifa_patterns_free(patterns);
            return NULL;
        }
    }
    if (!patterns) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EUSAGE, study->path, 0, -1,
                      "no slogan patterns: enable [patterns] default or name files");
        *status = TIFA_EUSAGE;
    }
    return patterns;
}

/* Whether pass 1 splits the character n-grams by level (see batch_queue). */
static bool split_by_level(const tifa_ngram_options *o, int threads)
{
    return threads >= 2 && threads % 2 == 0 && o->char_max >= 3 && !o->word_max &&
           !o->memory_budget;
}

static tifa_status make_workers(run_state *rs, int threads)
{
    rs->pool.workers = calloc((size_t)threads, sizeof *rs->pool.workers);
    if (!rs->pool.workers)
        return TIFA_ENOMEM;
    rs->pool.n = threads; /* only now: run_state_free walks the workers */
    const tifa_ngram_options *ngo = &rs->study->ngrams;
    rs->pool.level_ok = rs->ngrams && split_by_level(ngo, threads);
    for (int k = 0; k < threads; k++) {
        tifa_status st;
        worker *w = &rs->pool.workers[k];
        w->stats = tifa_stats_new_worker(rs->stats, &st);
        if (!w->stats)
            return st;
        if (rs->ngrams) {
            w->ngrams = tifa_ngrams_new_worker(rs->ngrams, &st);
            if (!w->ngrams)
                return st;
            if (ngo->memory_budget && threads > 1) {
                /* --memory is for the whole run: each worker gets a share */
                tifa_ngram_options share = *ngo;
                share.memory_budget /= (size_t)threads;
                if ((st = tifa_ngrams_set_filters(w->ngrams, &share)) != TIFA_OK)
                    return st;
            }
        }
    }
    return TIFA_OK;
}

/* Between two batches of pass 1: switches the pool to splitting by level
 * when worker 0's n-grams have grown past the run option level_split (by
 * default LEVEL_SPLIT_BYTES; see batch_queue). */
static tifa_status maybe_split_by_level(run_state *rs)
{
    pool *p = &rs->pool;
    size_t at = rs->options->level_split ? rs->options->level_split : LEVEL_SPLIT_BYTES;
    if (!p->level_ok || p->by_level || tifa_ngrams_memory(p->workers[0].ngrams) < at)
        return TIFA_OK;
    p->stats_next = calloc((size_t)p->n / 2, sizeof *p->stats_next);
    if (!p->stats_next)
        return TIFA_ENOMEM;
    int char_max = rs->study->ngrams.char_max;
    for (int k = 0; k < p->n; k++) {
        worker *w = &p->workers[k];
        tifa_status st;
        bool high = k % 2; /* the pair's second worker: n >= 3 */
        w->level_ngrams = tifa_ngrams_new_worker_levels(rs->ngrams, high ? 3 : 1,
                                                        high ? char_max : 2, &st);
        if (!w->level_ngrams)
            return st;
    }
    p->by_level = true;
    return TIFA_OK;
}

/* Merges every worker's n-gram engine into `into`, in worker order, and
 * frees them (engines[k] is set to NULL). */
static tifa_status merge_ngrams(tifa_ngrams *into, tifa_ngrams **engines, int n)
{
    tifa_status st = TIFA_OK;
    for (int k = 0; k < n; k++) {
        if (!engines[k])
            continue;
        if (st == TIFA_OK)
            st = tifa_ngrams_merge(into, engines[k]);
        tifa_ngrams_free(engines[k]);
        engines[k] = NULL;
    }
    return st;
}

/* Merges every worker into the main engines, in worker order, and frees the
 * workers' engines (n-gram engines a finisher took over are not here). */
static tifa_status merge_workers(run_state *rs, bool with_ngrams)
{
    tifa_status st = TIFA_OK;
    for (int k = 0; k < rs->pool.n; k++) {
        worker *w = &rs->pool.workers[k];
        if (w->stats) {
            if (st == TIFA_OK)
                st = tifa_stats_merge(rs->stats, w->stats);
            tifa_stats_free(w->stats);
            w->stats = NULL;
        }
        if (with_ngrams) {
            tifa_status mst = merge_ngrams(rs->ngrams, &w->level_ngrams, 1);
            if (st == TIFA_OK)
                st = mst;
            mst = merge_ngrams(rs->ngrams, &w->ngrams, 1);
            if (st == TIFA_OK)
                st = mst;
        }
    }
    return st;
}

/* With more than one thread, the n-gram engines of the workers are merged
 * and ngrams.csv is written on a thread of their own, while pass 2 counts
 * slogan totals and the stats tables are written: the n-gram tables need
 * nothing from either, and these were the serial tail that kept two threads
 * from scaling (docs/ngrams.md, "Threads").  The finisher fills a keyness
 * table of its own, absorbed into the run's after the join (keyness.csv is
 * sorted, so the result is the same as adding the rows in order).  Should a
 * later stage fail, ngrams.csv may already be in place (whole: it is an
 * atomic file) beside the tables that were not written; the run still ends
 * with the error. */
typedef struct ngram_finisher {
    pthread_t thread;
    bool running;
    tifa_ngrams *into;
    tifa_ngrams **engines; /* owned until merged */
    int n;
    char path[PATH_MAX];
    const tifa_csv_options *csv;
    tifa_keyness_table *keyness; /* owned; NULL when out of memory */
    tifa_status status;          /* of the merge, then of the write */
} ngram_finisher;

static void *finisher_main(void *arg)
{
    ngram_finisher *f = arg;
    f->status = merge_ngrams(f->into, f->engines, f->n);
    if (f->status == TIFA_OK)
        f->status = f->keyness ? tifa_ngrams_write(f->into, f->path, f->csv, f->keyness)
                               : TIFA_ENOMEM;
    return NULL;
}

/* Takes the workers' n-gram engines over and starts the finisher; when the
 * thread cannot start, the work runs right here. */
static tifa_status finisher_start(ngram_finisher *f, run_state *rs)
{
    memset(f, 0, sizeof *f);
    f->into = rs->ngrams;
    f->n = 2 * rs->pool.n;
    f->engines = calloc((size_t)f->n, sizeof *f->engines);
    if (!f->engines)
        return TIFA_ENOMEM;
    /* level workers first: their tables, the large ones, are moved */
    for (int k = 0; k < rs->pool.n; k++) {
        worker *w = &rs->pool.workers[k];
        f->engines[k] = w->level_ngrams;
        f->engines[rs->pool.n + k] = w->ngrams;
        w->level_ngrams = w->ngrams = NULL;
    }
    snprintf(f->path, sizeof f->path, "%s/ngrams.csv", rs->study->output);
    f->csv = &rs->study->csv;
    f->keyness = tifa_keyness_table_new();
    if (pthread_create(&f->thread, NULL, finisher_main, f) == 0)
        f->running = true;
    else
        finisher_main(f);
    return TIFA_OK;
}

/* Waits for the finisher (if started) and frees what it still holds; its
 * keyness rows stay in f->keyness for the caller. */
static void finisher_join(ngram_finisher *f)
{
    if (f->running)
        pthread_join(f->thread, NULL);
    f->running = false;
    for (int k = 0; f->engines && k < f->n; k++)
        tifa_ngrams_free(f->engines[k]);
    free(f->engines);
    f->engines = NULL;
}

static void free_docs(tifa_doc **docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tifa_doc_free(docs[i]);
}

/* Records the loader's input files for the manifest. */
static tifa_status note_inputs(run_state *rs, tifa_loader *loader,
                               const char *corpus)
{
    size_t n = tifa_loader_file_count(loader);
    if (n == 0)
        return TIFA_OK; /* realloc to 0 bytes would free the arrays */
    tifa_manifest_input *inputs =
        realloc(rs->inputs, (rs->n_inputs + n) * sizeof *inputs);
    char **paths = realloc(rs->input_paths, (rs->n_inputs + n) * sizeof *paths);
    if (inputs)
        rs->inputs = inputs;
    if (paths)
        rs->input_paths = paths;
    if (!inputs || !paths)
        return TIFA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char *copy = tifa_strdup(tifa_loader_file(loader, i));
        if (!copy)
            return TIFA_ENOMEM;
        rs->input_paths[rs->n_inputs] = copy;
        rs->inputs[rs->n_inputs] =
            (tifa_manifest_input){copy, corpus, NULL, 0}; /* hashed later */
        rs->n_inputs++;
    }
    return TIFA_OK;
}

static tifa_loader *open_corpus(run_state *rs, tifa_study_corpus *c,
                                tifa_status *status)
{
    c->load.corpus = c->name;
    c->load.datadir = rs->options->datadir;
    tifa_loader *loader = tifa_loader_new(&c->load, rs->diag, status);
    if (!loader)
        return NULL;
    for (size_t i = 0; i < c->n_paths; i++) {
        tifa_status st = tifa_loader_add_path(loader, c->paths[i]);
        if (st == TIFA_ENOMEM) { /* a missing path is reported and skipped */
            tifa_loader_free(loader);
            *status = st;
            return NULL;
        }
    }
    return loader;
}

/* Sums the raw size of every corpus (for progress and to decide whether the
 * pass-2 texts are kept in memory: decoded text is at most ~1.5x the raw
 * bytes, for GBK; JSON escapes only shrink it). */
static size_t total_input_bytes(run_state *rs)
{
    size_t total = 0;
    tifa_diag *quiet = tifa_diag_new(); /* pass 1 reports problems */
    tifa_diag *loud = rs->diag;
    rs->diag = quiet;
    for (size_t ci = 0; ci < rs->study->n_corpora; ci++) {
        tifa_status st;
        tifa_loader *loader = open_corpus(rs, &rs->study->corpora[ci], &st);
        if (loader)
            total += tifa_loader_total_bytes(loader);
        tifa_loader_free(loader);
    }
    rs->diag = loud;
    tifa_diag_free(quiet);
    return total;
}

/* Pass 1: load every corpus, write documents.csv, feed the workers. */
static tifa_status pass_scan(run_state *rs, tifa_csv *documents)
{
    tifa_doc **batch[2] = {NULL, NULL};
    size_t n_batch[2] = {0, 0};
    batch[0] = malloc(BATCH_DOCS * sizeof *batch[0]);
    batch[1] = malloc(BATCH_DOCS * sizeof *batch[1]);
    if (!batch[0] || !batch[1]) {
        free(batch[0]);
        free(batch[1]);
        return TIFA_ENOMEM;
    }
    int cur = 0;
    tifa_status st = TIFA_OK;

    for (size_t ci = 0; ci < rs->study->n_corpora && st == TIFA_OK; ci++) {
        tifa_study_corpus *c = &rs->study->corpora[ci];
        tifa_loader *loader = open_corpus(rs, c, &st);
        if (!loader)
            break;
        size_t batch_bytes = 0;
        for (;;) {
            tifa_doc *doc = NULL;
            st = tifa_loader_next(loader, &doc);
            if (st != TIFA_OK || !doc)
                break;
            doc->index = rs->next_index++;
            doc_relativize(rs->study, doc);
            tifa_documents_csv_row(documents, doc, false);
            rs->docs_done++;
            if (!doc_is_counted(doc)) {
                tifa_doc_free(doc);
                continue;
            }
            batch[cur][n_batch[cur]++] = doc;
            batch_bytes += doc->text_len;
            if (n_batch[cur] == BATCH_DOCS || batch_bytes >= BATCH_BYTES) {
                /* Hand this batch over; the previous one must be done. */
                st = pool_wait(&rs->pool);
                if (st == TIFA_OK)
                    st = maybe_split_by_level(rs);
                if (st != TIFA_OK)
                    break;
                int prev = 1 - cur;
                if (!rs->keep_texts)
                    free_docs(batch[prev], n_batch[prev]);
                n_batch[prev] = 0;
                st = pool_start(&rs->pool, batch[cur], n_batch[cur], 1);
                if (st != TIFA_OK)
                    break;
                cur = prev;
                batch_bytes = 0;
                tifa_load_summary ls;
                tifa_loader_summary(loader, &ls);
                progress_draw(&rs->prog, "counting", rs->bytes_done + ls.bytes,
                              rs->docs_done, false);
            }
            if (rs->keep_texts) {
                if (rs->n_kept == rs->cap_kept) {
                    size_t cap = rs->cap_kept ? rs->cap_kept * 2 : 1024;
                    tifa_doc **grown = realloc(rs->kept, cap * sizeof *grown);
                    if (!grown) {
                        st = TIFA_ENOMEM;
                        break;
                    }
                    rs->kept = grown;
                    rs->cap_kept = cap;
                }
                rs->kept[rs->n_kept++] = doc;
            }
        }
        tifa_load_summary ls;
        tifa_loader_summary(loader, &ls);
        rs->bytes_done += ls.bytes;
        rs->load.files += ls.files;
        rs->load.files_skipped += ls.files_skipped;
        rs->load.bytes += ls.bytes;
        rs->load.documents += ls.documents;
        rs->load.duplicates += ls.duplicates;
        rs->load.replies += ls.replies;
        rs->load.replacement_chars += ls.replacement_chars;
        if (st == TIFA_OK)
            st = note_inputs(rs, loader, c->name);
        tifa_loader_free(loader);
    }
    /* Last partial batch. */
    tifa_status wst = pool_wait(&rs->pool);
    if (st == TIFA_OK)
        st = wst;
    if (st == TIFA_OK && n_batch[cur] > 0) {
        st = pool_start(&rs->pool, batch[cur], n_batch[cur], 1);
        wst = pool_wait(&rs->pool);
        if (st == TIFA_OK)
            st = wst;
    }
    progress_draw(&rs->prog, "counting", rs->bytes_done, rs->docs_done, true);
    if (!rs->keep_texts) {
        free_docs(batch[0], n_batch[0]);
        free_docs(batch[1], n_batch[1]);
    }
    free(batch[0]);
    free(batch[1]);
    return st;
}

/* Pass 2 over re-read corpora (when the texts did not fit in memory). */
static tifa_status pass_totals_reload(run_state *rs)
{
    tifa_doc **batch = malloc(BATCH_DOCS * sizeof *batch);
    if (!batch)
        return TIFA_ENOMEM;
    tifa_status st = TIFA_OK;
    /* Loader warnings were already reported in pass 1: silence them now. */
    tifa_diag *quiet = tifa_diag_new();
    tifa_diag *loud = rs->diag;
    rs->diag = quiet;
    size_t index = 0; /* numbered exactly as in pass 1 */
    for (size_t ci = 0; ci < rs->study->n_corpora && st == TIFA_OK; ci++) {
        tifa_loader *loader = open_corpus(rs, &rs->study->corpora[ci], &st);
        if (!loader)
            break;
        size_t n = 0, bytes = 0;
        for (;;) {
            tifa_doc *doc = NULL;
            st = tifa_loader_next(loader, &doc);
            if (st != TIFA_OK)
                break;
            if (doc) {
                doc->index = index++;
                doc_relativize(rs->study, doc);
            }
            if (doc && !doc_is_counted(doc)) {
                tifa_doc_free(doc);
                continue;
            }
            if (doc) {
                batch[n++] = doc;
                bytes += doc->text_len;
            }
            if (n && (!doc || n == BATCH_DOCS || bytes >= BATCH_BYTES)) {
                st = pool_start(&rs->pool, batch, n, 2);
                tifa_status wst = pool_wait(&rs->pool);
                if (st == TIFA_OK)
                    st = wst;
                free_docs(batch, n);
                n = bytes = 0;
            }
            if (!doc || st != TIFA_OK)
                break;
        }
        free_docs(batch, n);
        tifa_loader_free(loader);
    }
    rs->diag = loud;
    tifa_diag_free(quiet);
    free(batch);
    return st;
}

static tifa_status pass_totals(run_state *rs)
{
    tifa_status st = tifa_stats_freeze_lexicon(rs->stats);
    if (st != TIFA_OK)
        return st;
    for (int k = 0; k < rs->pool.n; k++) {
        worker *w = &rs->pool.workers[k];
        w->stats = tifa_stats_new_worker(rs->stats, &st);
        if (!w->stats)
            return st;
        w->status = TIFA_OK;
    }
    if (rs->keep_texts) {
        for (size_t i = 0; i < rs->n_kept && st == TIFA_OK; i += BATCH_DOCS) {
            size_t n = rs->n_kept - i < BATCH_DOCS ? rs->n_kept - i : BATCH_DOCS;
            st = pool_start(&rs->pool, rs->kept + i, n, 2);
            tifa_status wst = pool_wait(&rs->pool);
            if (st == TIFA_OK)
                st = wst;
        }
    } else {
        st = pass_totals_reload(rs);
    }
    /* The texts are not needed after pass 2: freed now, they are freed while
     * the n-gram finisher still writes (about 0.1 s for 100 MB of
     * documents that used to be the serial end of a two-thread run). */
    free_docs(rs->kept, rs->n_kept);
    free(rs->kept);
    rs->kept = NULL;
    rs->n_kept = rs->cap_kept = 0;
    tifa_status mst = merge_workers(rs, true);
    return st != TIFA_OK ? st : mst;
}

/* With more than one thread, the inputs are hashed for the manifest on a
 * thread of their own while pass 2 and the tables run (SHA-256 of a 100 MB
 * corpus is a quarter of a second that need not wait at the end).  An input
 * that cannot be hashed here is left to the manifest, which reports it. */
typedef struct input_hasher {
    pthread_t thread;
    const tifa_manifest_input *inputs;
    size_t n;
    char (*hex)[65];
    long long *size;
    bool *ok;
    bool running;
} input_hasher;

static void *hasher_main(void *arg)
{
    input_hasher *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        struct stat sb;
        h->ok[i] = stat(h->inputs[i].path, &sb) == 0 && S_ISREG(sb.st_mode) &&
                   tifa_sha256_file(h->inputs[i].path, h->hex[i]) == TIFA_OK;
        h->size[i] = h->ok[i] ? (long long)sb.st_size : 0;
    }
    return NULL;
}

static void hasher_start(input_hasher *h, const tifa_manifest_input *inputs,
                         size_t n)
{
    memset(h, 0, sizeof *h);
    h->inputs = inputs;
    h->n = n;
    h->hex = calloc(n ? n : 1, sizeof *h->hex);
    h->size = calloc(n ? n : 1, sizeof *h->size);
    h->ok = calloc(n ? n : 1, sizeof *h->ok);
    h->running = h->hex && h->size && h->ok &&
                 pthread_create(&h->thread, NULL, hasher_main, h) == 0;
}

/* Waits for the hashes and hands the good ones to the manifest inputs. */
static void hasher_finish(input_hasher *h, tifa_manifest_input *inputs)
{
    if (!h->running)
        return;
    pthread_join(h->thread, NULL);
    h->running = false;
    for (size_t i = 0; i < h->n; i++) {
        if (h->ok[i]) {
            inputs[i].sha256 = h->hex[i];
            inputs[i].size = h->size[i];
        }
    }
}

static void hasher_free(input_hasher *h)
{
    if (h->running)
        pthread_join(h->thread, NULL);
    free(h->hex);
    free(h->size);
    free(h->ok);
}

static void run_state_free(run_state *rs)
{
    for (int k = 0; k < rs->pool.n; k++) {
        tifa_stats_free(rs->pool.workers[k].stats);
        tifa_ngrams_free(rs->pool.workers[k].ngrams);
        tifa_ngrams_free(rs->pool.workers[k].level_ngrams);
    }
    free(rs->pool.workers);
    free(rs->pool.stats_next);
    free_docs(rs->kept, rs->n_kept);
    free(rs->kept);
    tifa_stats_free(rs->stats);
    tifa_ngrams_free(rs->ngrams);
    tifa_patterns_free(rs->patterns);
    for (size_t i = 0; i < rs->n_inputs; i++)
        free(rs->input_paths[i]);
    free(rs->input_paths);
    free(rs->inputs);
}

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n > 64 ? 64 : n) : 1;
}

static bool ngrams_enabled(const tifa_ngram_options *o)
{
    return o->char_max > 0 || o->word_max > 0;
}

/* Reports that `what` failed with st (out of memory, mostly) and gives the
 * exit code of a run that could not write its outputs. */
static int run_failed(tifa_diag *diag, tifa_status st, const char *what)
{
    tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1, "%s failed: %s", what,
                  tifa_status_message(st));
    return TIFA_EXIT_OUTPUT;
}

int tifa_run_study(tifa_study *study, const tifa_run_options *options,
                   tifa_diag *diag, tifa_run_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    run_state rs;
    memset(&rs, 0, sizeof rs);
    rs.study = study;
    rs.options = options;
    rs.diag = diag;
    rs.keep_texts = true;
    rs.prog.enabled = options->progress && !options->quiet;
    clock_gettime(CLOCK_MONOTONIC, &rs.prog.start);
    int exit_code = TIFA_EXIT_OK;
    tifa_status st;

    if (study->n_corpora == 0) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EUSAGE, study->path, 0, -1,
                      "the study names no corpus");
        return TIFA_EXIT_USAGE;
    }
    rs.patterns = load_patterns(study, options->datadir, diag, &st);
    if (!rs.patterns && st == TIFA_ENOMEM) /* not the study's fault */
        return run_failed(diag, st, "loading the slogan patterns");
    if (!rs.patterns)
        return TIFA_EXIT_USAGE;

    bool outdir_created = false;
    if ((st = prepare_outdir(study->output, diag, &outdir_created)) != TIFA_OK) {
        run_state_free(&rs); /* the patterns loaded above */
        return TIFA_EXIT_OUTPUT;
    }

    tifa_stats_options so = {0};
    so.patterns = rs.patterns;
    so.slogan_lists = (const char *const *)study->slogan_lists;
    so.n_slogan_lists = study->n_slogan_lists;
    so.quotes = study->quotes;
    so.period = study->period;
    so.comparisons = study->comparisons;
    so.n_comparisons = study->n_comparisons;
    so.bootstrap = study->bootstrap;
    so.seed = study->seed;
    so.precision = study->precision;
    rs.stats = tifa_stats_new(&so, diag, &st);
    if (!rs.stats) {
        run_state_free(&rs);
        if (st != TIFA_ENOMEM)
            return TIFA_EXIT_USAGE; /* the study's settings, reported */
        return run_failed(diag, st, "preparing the statistics");
    }
    int threads = options->threads > 0 ? options->threads
                  : study->threads > 0 ? study->threads
                                       : online_cores();
    if (ngrams_enabled(&study->ngrams)) {
        /* ngrams.csv is written with as many threads as the counting */
        tifa_ngram_options ngo = study->ngrams;
        ngo.threads = threads;
        rs.ngrams = tifa_ngrams_new(&ngo, &st);
        if (!rs.ngrams && st == TIFA_ENOMEM) {
            run_state_free(&rs);
            return run_failed(diag, st, "preparing the n-gram counter");
        }
        if (!rs.ngrams) {
            tifa_diag_add(diag, TIFA_ERROR, st, study->path, 0, -1,
                          "invalid n-gram settings: %s", tifa_status_message(st));
            run_state_free(&rs);
            return TIFA_EXIT_USAGE;
        }
    }
    summary->times.threads = threads;
    if ((st = make_workers(&rs, threads)) != TIFA_OK) {
        run_state_free(&rs);
        return run_failed(diag, st, "starting the workers");
    }

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/documents.csv", study->output);
    tifa_csv *documents = tifa_csv_open(path, &study->csv, &st);
    if (!documents) {
        tifa_diag_add(diag, TIFA_ERROR, st, path, 0, -1, "cannot write: %s",
                      tifa_status_message(st));
        run_state_free(&rs);
        return TIFA_EXIT_OUTPUT;
    }
    tifa_documents_csv_header(documents, false);

    rs.prog.total_bytes = total_input_bytes(&rs);
    rs.keep_texts = rs.prog.total_bytes / 2 * 3 < KEEP_TEXT_BUDGET;
    double t_mark = seconds_since(&rs.prog.start);
    st = pass_scan(&rs, documents);
    summary->load = rs.load;
    bool finish_aside = threads > 1 && rs.ngrams;
    if (st == TIFA_OK)
        st = merge_workers(&rs, !finish_aside);
    if (st != TIFA_OK) {
        tifa_csv_abort(documents);
        tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1, "counting failed: %s",
                      tifa_status_message(st));
        run_state_free(&rs);
        return TIFA_EXIT_OUTPUT;
    }
    size_t counted = rs.next_index - rs.load.duplicates;
    if (rs.next_index == 0 || counted == 0) {
        tifa_csv_abort(documents);
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EEMPTY, NULL, 0, -1,
                      "no usable input: no document was loaded");
        run_state_free(&rs);
        if (outdir_created) {
            /* Leave nothing behind for a run that produced nothing. */
            snprintf(path, sizeof path, "%s/%s", study->output, OUTPUT_MARKER);
            unlink(path);
            rmdir(study->output);
        }
        return TIFA_EXIT_NOINPUT;
    }
    summary->times.count = seconds_since(&rs.prog.start) - t_mark;
    t_mark += summary->times.count;
    ngram_finisher finisher = {0};
    if (finish_aside && (st = finisher_start(&finisher, &rs)) != TIFA_OK) {
        tifa_csv_abort(documents);
        tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1, "counting failed: %s",
                      tifa_status_message(st));
        run_state_free(&rs);
        return TIFA_EXIT_OUTPUT;
    }
    input_hasher hasher = {0};
    if (threads > 1)
        hasher_start(&hasher, rs.inputs, rs.n_inputs);
    st = pass_totals(&rs);
    if (st != TIFA_OK) {
        finisher_join(&finisher);
        tifa_keyness_table_free(finisher.keyness);
        hasher_free(&hasher);
        tifa_csv_abort(documents);
        tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1,
                      "counting slogan totals failed: %s", tifa_status_message(st));
        run_state_free(&rs);
        return TIFA_EXIT_OUTPUT;
    }

    summary->times.totals = seconds_since(&rs.prog.start) - t_mark;
    t_mark += summary->times.totals;

    /* Tables. */
    tifa_status wst = tifa_csv_close(documents);
    tifa_keyness_table *keyness = tifa_keyness_table_new();
    if (wst == TIFA_OK && keyness)
        wst = tifa_stats_write(rs.stats, study->output, &study->csv, keyness);
    if (finish_aside) {
        finisher_join(&finisher);
        if (wst == TIFA_OK)
            wst = finisher.status;
        if (wst == TIFA_OK && keyness)
            wst = tifa_keyness_table_absorb(keyness, finisher.keyness);
        tifa_keyness_table_free(finisher.keyness);
    } else if (wst == TIFA_OK && rs.ngrams) {
        snprintf(path, sizeof path, "%s/ngrams.csv", study->output);
        wst = tifa_ngrams_write(rs.ngrams, path, &study->csv, keyness);
    }
    if (wst == TIFA_OK && rs.ngrams && options->save_shard) {
        wst = tifa_ngrams_save(rs.ngrams, options->save_shard);
        if (wst != TIFA_OK)
            tifa_diag_add(diag, TIFA_ERROR, wst, options->save_shard, 0, -1,
                          "cannot save the n-gram shard");
    }
    if (wst == TIFA_OK && keyness) {
        snprintf(path, sizeof path, "%s/keyness.csv", study->output);
        wst = tifa_keyness_table_write(keyness, path, &study->csv,
                                       study->precision);
    }
    if (!keyness)
        wst = TIFA_ENOMEM;
    tifa_keyness_table_free(keyness);
    if (wst != TIFA_OK) {
        tifa_diag_add(diag, TIFA_ERROR, wst, study->output, 0, -1,
                      "writing the tables failed: %s", tifa_status_message(wst));
        hasher_free(&hasher);
        run_state_free(&rs);
        return TIFA_EXIT_OUTPUT;
    }

    summary->times.tables = seconds_since(&rs.prog.start) - t_mark;
    t_mark += summary->times.tables;

    /* Charts: a failure leaves every table in place and makes the run
     * partial. */
    char *gp_version = NULL;
    if (study->charts) {
        gp_version = tifa_gnuplot_version(&study->plots);
        st = tifa_plots_render_all(study->output, &study->plots, diag,
                                   &summary->charts);
        if (st != TIFA_OK)
            exit_code = TIFA_EXIT_PARTIAL;
    }

    summary->times.charts = seconds_since(&rs.prog.start) - t_mark;
    hasher_finish(&hasher, rs.inputs);
    st = tifa_manifest_write(study->output, study, rs.inputs, rs.n_inputs,
                             gp_version ? gp_version
                             : study->charts ? "not found" : "not used",
                             diag);
    free(gp_version);
    hasher_free(&hasher);
    if (st != TIFA_OK) {
        tifa_diag_add(diag, TIFA_ERROR, st, study->output, 0, -1,
                      "writing manifest.json failed: %s", tifa_status_message(st));
        exit_code = TIFA_EXIT_OUTPUT;
    }
    if (rs.load.files_skipped > 0 && exit_code == TIFA_EXIT_OK)
        exit_code = TIFA_EXIT_PARTIAL;
    summary->warnings = tifa_diag_count(diag, TIFA_WARNING);
    summary->errors = tifa_diag_count(diag, TIFA_ERROR);
    run_state_free(&rs);
    summary->times.total = seconds_since(&rs.prog.start);
    return exit_code;
}
