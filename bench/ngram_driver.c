/*
 * ngram_driver.c — a benchmark driver for the n-gram engine alone.
 *
 * Besides the real `tifa count` command, this program measures the engine
 * in isolation: it reads JSONL with the real loader (all documents into
 * memory first, duplicates kept), then, timed separately, counts the n-grams
 * on N threads (contiguous shares of the documents, one worker engine each,
 * merged back in worker order — the pipeline's scheme) and writes
 * ngrams.csv.  With --stream it counts each document as the loader yields it
 * (one thread), so peak RSS is the engine's and not the corpus's: that is the
 * mode for the bytes-per-distinct-n-gram measurement.
 *
 * Output: one line of key=value pairs on stdout (sizes, seconds per phase,
 * MB/s of the count phase, distinct n-grams, engine bytes) for bench/run.sh.
 * --write-threads N writes ngrams.csv on N threads (tifa_ngram_options
 * .threads); --write-repeat R writes it R times and reports the fastest
 * write (write_s) and the mean CPU seconds of one write (write_cpu_s), to
 * time the writer alone on a noisy machine.
 * This is a benchmark tool, not part of the library, so it prints and exits.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "corpora.h"
#include "stats.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) of the whole process: less sensitive than
 * wall time to other jobs on a shared machine. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void die(const char *what, tifa_status st)
{
    fprintf(stderr, "ngram_driver: %s: %s\n", what, tifa_status_name(st));
    exit(1);
}

typedef struct docs {
    tifa_doc *v;
    size_t n, cap;
    size_t bytes; /* raw input bytes */
} docs;

/* Reads the documents with the real loader (JSONL, NFKC; duplicates kept:
 * the repeated benchmark corpus would otherwise be counted once).  With ng
 * set, each document is counted as it arrives and freed (--stream). */
static void read_loader(char **paths, int n, const char *corpus, docs *d,
                        tifa_ngrams *ng)
{
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.corpus = corpus;
    o.format = TIFA_FORMAT_JSONL;
    o.near_duplicate = 0;
    o.keep_duplicates = true;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_loader *ld = tifa_loader_new(&o, diag, &st);
    if (!ld)
        die("loader", st);
    for (int i = 0; i < n; i++)
        tifa_loader_add_path(ld, paths[i]);
    d->bytes = tifa_loader_total_bytes(ld);
    for (;;) {
        tifa_doc *doc = NULL;
        if ((st = tifa_loader_next(ld, &doc)) != TIFA_OK)
            die("loader_next", st);
        if (!doc)
            break;
        if (ng) {
            if ((st = tifa_ngrams_add_doc(ng, doc)) != TIFA_OK)
                die("add_doc", st);
            tifa_doc_free(doc);
            d->n++;
            continue;
        }
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 1024;
            d->v = realloc(d->v, d->cap * sizeof *d->v);
            if (!d->v)
                die("realloc", TIFA_ENOMEM);
        }
        d->v[d->n++] = *doc; /* shallow: the strings move to d */
        free(doc);
    }
    tifa_loader_free(ld);
    tifa_diag_free(diag);
}

typedef struct job {
    tifa_ngrams *ng;
    const tifa_doc *docs;
    size_t n;
    int repeat;
    tifa_status st;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->st = TIFA_OK;
    for (int r = 0; r < j->repeat; r++)
        for (size_t i = 0; i < j->n && j->st == TIFA_OK; i++)
            j->st = tifa_ngrams_add_doc(j->ng, &j->docs[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    tifa_ngram_options o;
    memset(&o, 0, sizeof o);
    int lo = 1, hi = 4, threads = 1, repeat = 1, write_repeat = 1;
    bool word = false, stream = false;
    const char *out = NULL, *save = NULL, *corpus = "bench";
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--unit")) {
            word = !strcmp(v, "word");
            i++;
        } else if (!strcmp(a, "--ngrams")) {
            if (sscanf(v, "%d-%d", &lo, &hi) < 2)
                hi = lo;
            i++;
        } else if (!strcmp(a, "--threads")) {
            threads = atoi(v);
            i++;
        } else if (!strcmp(a, "--min-count")) {
            o.min_count = atol(v);
            i++;
        } else if (!strcmp(a, "--top-k")) {
            o.top_k = (size_t)atol(v);
            i++;
        } else if (!strcmp(a, "--memory")) {
            o.memory_budget = (size_t)atoll(v);
            i++;
        } else if (!strcmp(a, "--corpus")) {
            corpus = v;
            i++;
        } else if (!strcmp(a, "-o")) {
            out = v;
            i++;
        } else if (!strcmp(a, "--save")) {
            save = v;
            i++;
        } else if (!strcmp(a, "--repeat")) {
            repeat = atoi(v); /* count the documents R times (profiling) */
            i++;
        } else if (!strcmp(a, "--write-threads")) {
            o.threads = atoi(v);
            i++;
        } else if (!strcmp(a, "--write-repeat")) {
            write_repeat = atoi(v) < 1 ? 1 : atoi(v);
            i++;
        } else if (!strcmp(a, "--stream")) {
            stream = true;
        } else {
            fprintf(stderr, "usage: ngram_driver [--unit char|word] [--ngrams A-B] "
                            "[--threads N] [--min-count K] [--top-k K] [--memory B] "
                            "[--write-threads N] [--write-repeat R] "
                            "[--stream] [-o CSV] [--save SHARD] FILE.jsonl...\n");
            return 2;
        }
    }
    if (threads < 1)
        threads = 1;
    if (word) {
        o.word_min = lo;
        o.word_max = hi;
    } else {
        o.char_min = lo;
        o.char_max = hi;
    }

    double t0 = now();
    docs d = { 0 };
    if (stream) {
        tifa_status st;
        tifa_ngrams *ng = tifa_ngrams_new(&o, &st);
        if (!ng)
            die("ngrams_new", st);
        double c0 = cpu();
        read_loader(argv + i, argc - i, corpus, &d, ng);
        size_t bytes = d.bytes, n_docs = d.n;
        double t1 = now(), c1 = cpu();
        size_t distinct = 0;
        for (int n = lo; n <= hi; n++)
            distinct += tifa_ngrams_distinct(ng, word ? TIFA_UNIT_WORD : TIFA_UNIT_CHAR, n);
        size_t memory = tifa_ngrams_memory(ng);
        if (out) {
            tifa_csv_options csv = { false, NULL };
            if ((st = tifa_ngrams_write(ng, out, &csv, NULL)) != TIFA_OK)
                die("write", st);
        }
        double t2 = now();
        printf("docs=%zu input_bytes=%zu threads=1 stream_s=%.3f stream_cpu_s=%.3f "
               "write_s=%.3f stream_MBps=%.1f distinct=%zu engine_bytes=%zu\n",
               n_docs, bytes, t1 - t0, c1 - c0, t2 - t1, (double)bytes / 1e6 / (t1 - t0),
               distinct, memory);
        tifa_ngrams_free(ng);
        return 0;
    }
    read_loader(argv + i, argc - i, corpus, &d, NULL);
    double t1 = now();
    size_t text_bytes = 0;
    for (size_t k = 0; k < d.n; k++)
        text_bytes += d.v[k].text_len;

    tifa_status st;
    tifa_ngrams *parent = tifa_ngrams_new(&o, &st);
    if (!parent)
        die("ngrams_new", st);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    size_t at = 0;
    for (int k = 0; k < threads; k++) {
        /* contiguous shares of about equal text bytes */
        size_t want = text_bytes / (size_t)threads * (size_t)(k + 1), got = 0, start = at;
        for (size_t q = 0; q < at; q++)
            got += d.v[q].text_len;
        while (at < d.n && (k == threads - 1 || got < want))
            got += d.v[at++].text_len;
        jobs[k].docs = d.v + start;
        jobs[k].n = at - start;
        jobs[k].repeat = repeat < 1 ? 1 : repeat;
        jobs[k].ng = threads == 1 ? parent : tifa_ngrams_new_worker(parent, &st);
        if (!jobs[k].ng)
            die("new_worker", st);
    }
    double t2 = now(), c2 = cpu();
    if (threads == 1) {
        run_job(&jobs[0]);
    } else {
        for (int k = 0; k < threads; k++)
            pthread_create(&tid[k], NULL, run_job, &jobs[k]);
        for (int k = 0; k < threads; k++)
            pthread_join(tid[k], NULL);
    }
    double t3 = now(), c3 = cpu();
    for (int k = 0; k < threads; k++) {
        if (jobs[k].st != TIFA_OK)
            die("add_doc", jobs[k].st);
        if (threads > 1) {
            if ((st = tifa_ngrams_merge(parent, jobs[k].ng)) != TIFA_OK)
                die("merge", st);
            tifa_ngrams_free(jobs[k].ng);
        }
    }
    double t4 = now();
    size_t memory = tifa_ngrams_memory(parent);
    size_t distinct = 0;
    char dist[256] = "";
    for (int n = lo; n <= hi; n++) {
        size_t k = tifa_ngrams_distinct(parent, word ? TIFA_UNIT_WORD : TIFA_UNIT_CHAR, n);
        distinct += k;
        snprintf(dist + strlen(dist), sizeof dist - strlen(dist), "%s%zu", n > lo ? "," : "", k);
    }
    if (save && (st = tifa_ngrams_save(parent, save)) != TIFA_OK)
        die("save", st);
    double t5 = now(), write_s = 0, write_cpu = 0;
    for (int r = 0; out && r < write_repeat; r++) {
        tifa_csv_options csv = { false, NULL };
        double w0 = now(), wc0 = cpu();
        if ((st = tifa_ngrams_write(parent, out, &csv, NULL)) != TIFA_OK)
            die("write", st);
        double w = now() - w0;
        write_cpu += (cpu() - wc0) / write_repeat;
        if (r == 0 || w < write_s)
            write_s = w;
    }
    double t6 = t5 + write_s;
    printf("docs=%zu input_bytes=%zu text_bytes=%zu threads=%d load_s=%.3f count_s=%.3f "
           "count_cpu_s=%.3f merge_s=%.3f save_s=%.3f write_s=%.3f write_cpu_s=%.3f "
           "count_MBps=%.1f total_MBps=%.1f distinct=%zu distinct_per_n=%s engine_bytes=%zu\n",
           d.n, d.bytes, text_bytes, threads, t1 - t0, t3 - t2, c3 - c2, t4 - t3, t5 - t4, t6 - t5,
           write_cpu,
           (double)d.bytes / 1e6 / (t3 - t2), (double)d.bytes / 1e6 / (t6 - t0), distinct,
           dist, memory);
    tifa_ngrams_free(parent);
    for (size_t k = 0; k < d.n; k++) {
        tifa_doc *copy = malloc(sizeof *copy);
        if (!copy)
            break;
        *copy = d.v[k];
        tifa_doc_free(copy);
    }
    free(d.v);
    free(jobs);
    free(tid);
    return 0;
}
