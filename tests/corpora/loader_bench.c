/*
 * loader_bench.c — a small driver for the loader, not a test: loads the
 * given paths and prints what it yields, so the loader can be timed and its
 * output audited without the rest of tifa.
 *
 *   tifa_loader_bench [--dump] [--text] [--replies] [--format F]
 *                     [--datadir DIR] [--simplified] PATH...
 *
 * Without --dump it prints one summary line: files, bytes, documents, Han
 * characters, sentences, duplicates and the CPU time with MB/s (bytes read
 * / seconds).  With --dump each document is listed (and with --text its
 * text).  Diagnostics go to stderr.  Used for the numbers in docs/loader.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "corpora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sink(const tifa_diag_entry *e, void *user)
{
    (void)user;
    fprintf(stderr, "%s: %s:%ld@%lld: %s\n",
            e->severity == TIFA_ERROR ? "error"
            : e->severity == TIFA_WARNING ? "warning" : "note",
            e->file ? e->file : "-", e->line, e->offset, e->message);
}

int main(int argc, char **argv)
{
    tifa_load_options o;
    tifa_load_options_init(&o);
    bool dump = false, text = false;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        const char *a = argv[first];
        if (!strcmp(a, "--dump")) dump = true;
        else if (!strcmp(a, "--text")) text = dump = true;
        else if (!strcmp(a, "--replies")) o.include_replies = true;
        else if (!strcmp(a, "--simplified")) o.simplified = true;
        else if (!strcmp(a, "--no-dedup")) o.keep_duplicates = true;
        else if (!strcmp(a, "--format") && first + 1 < argc) {
            if (tifa_format_parse(argv[++first], &o.format) != TIFA_OK) return 2;
        } else if (!strcmp(a, "--datadir") && first + 1 < argc) o.datadir = argv[++first];
        else if (!strcmp(a, "--group-by") && first + 1 < argc) o.group_by = argv[++first];
        else if (!strcmp(a, "--encoding") && first + 1 < argc) o.encoding = argv[++first];
        else if (!strcmp(a, "--separator") && first + 1 < argc) o.separator = argv[++first];
        else return 2;
    }
    tifa_diag *diag = tifa_diag_new();
    tifa_diag_set_sink(diag, sink, NULL);
    tifa_status st;
    tifa_loader *l = tifa_loader_new(&o, diag, &st);
    if (!l) return 3;
    for (int i = first; i < argc; i++) tifa_loader_add_path(l, argv[i]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    size_t chars = 0, sentences = 0;
    tifa_doc *d;
    while ((st = tifa_loader_next(l, &d)) == TIFA_OK && d) {
        chars += d->chars;
        sentences += d->sentences;
        if (dump) {
            printf("#%zu id=%s kind=%s source=%s title=%s date=%s cat=%s "
                   "author=%s group=%s views=%ld replies=%ld chars=%zu "
                   "sentences=%zu dup=%s sim=%.3f fields=%zu\n",
                   d->index, d->doc_id, tifa_doc_kind_name(d->kind), d->source,
                   d->title ? d->title : "-", d->date ? d->date : "-",
                   d->category ? d->category : "-", d->author ? d->author : "-",
                   d->group ? d->group : "-", d->views, d->replies, d->chars,
                   d->sentences, d->duplicate_of ? d->duplicate_of : "-",
                   d->similarity, d->n_fields);
            if (text) printf("%s\n----\n", d->text);
        }
        tifa_doc_free(d);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    tifa_load_summary s;
    tifa_loader_summary(l, &s);
    printf("files=%zu skipped=%zu bytes=%zu docs=%zu chars=%zu sentences=%zu "
           "dups=%zu replies=%zu fffd=%zu seconds=%.3f MB/s=%.1f\n",
           s.files, s.files_skipped, s.bytes, s.documents, chars, sentences,
           s.duplicates, s.replies, s.replacement_chars, secs,
           secs > 0 ? (double)s.bytes / 1e6 / secs : 0.0);
    tifa_loader_free(l);
    tifa_diag_free(diag);
    return st == TIFA_OK ? 0 : 1;
}
