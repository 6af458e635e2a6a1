/*
 * test_stats_faults.c — the loader and the statistics stage when memory
 * runs out.
 *
 * The scenario is what `tifa count` does without n-grams, through the
 * libraries: load the families patterns, read both demo corpora
 * (examples/demo/corpus: a forum thread in plain text and commentaries),
 * count every document, freeze the lexicon, count the totals, and write the
 * statistics tables and keyness.csv.  Allocation failures come from
 * tests/fault_inject.h: run k fails allocation k of the tifa libraries, for
 * every k up to the number the clean run makes (about 700; ICU and json-c
 * allocate on their own).  Every run must either stop with TIFA_ENOMEM
 * (everything freed; the sanitizer build checks) or succeed with every
 * written file byte-identical to the clean run's: a loader that turned a
 * failed allocation into a skipped file or a missing date, a scan that
 * stopped early, or a table that lost a number, fails here.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpora.h"
#include "stats.h"
#include "fault_inject.h"

static const tifa_csv_options NO_BOM = { false, NULL };

/* Runs the scenario, writing into outdir (which exists and is empty).
 * Returns the first status that is not TIFA_OK; frees everything. */
static tifa_status scenario(const char *outdir)
{
    tifa_status st = TIFA_OK;
    tifa_patterns *patterns = NULL;
    tifa_loader *loader = NULL;
    tifa_stats *stats = NULL;
    tifa_keyness_table *keyness = NULL;
    tifa_doc **docs = NULL, *doc = NULL;
    size_t n = 0, cap = 0;
    tifa_diag *diag = tifa_diag_new();
    if (!diag)
        return TIFA_ENOMEM;
    patterns = tifa_patterns_load(TIFA_TEST_DATADIR "/patterns/families.txt", diag, &st);
    tifa_load_options lo;
    tifa_load_options_init(&lo);
    if (st == TIFA_OK)
        loader = tifa_loader_new(&lo, diag, &st);
    if (st == TIFA_OK)
        st = tifa_loader_add_path(loader, TIFA_TEST_EXAMPLES "/demo/corpus");
    tifa_stats_options so;
    memset(&so, 0, sizeof so);
    so.patterns = patterns;
    so.period = "year";
    so.precision = 4;
    if (st == TIFA_OK)
        stats = tifa_stats_new(&so, diag, &st);
    while (st == TIFA_OK && (st = tifa_loader_next(loader, &doc)) == TIFA_OK && doc) {
        if (n == cap) {
            size_t c = cap ? 2 * cap : 16;
            tifa_doc **g = realloc(docs, c * sizeof *g);
            if (!g) {
                tifa_doc_free(doc);
                st = TIFA_ENOMEM;
                break;
            }
            docs = g;
            cap = c;
        }
        docs[n++] = doc;
        st = tifa_stats_add_doc(stats, doc);
    }
    if (st == TIFA_OK)
        st = tifa_stats_freeze_lexicon(stats);
    for (size_t i = 0; i < n && st == TIFA_OK; i++)
        st = tifa_stats_count_totals(stats, docs[i]);
    if (st == TIFA_OK && !(keyness = tifa_keyness_table_new()))
        st = TIFA_ENOMEM;
    if (st == TIFA_OK)
        st = tifa_stats_write(stats, outdir, &NO_BOM, keyness);
    if (st == TIFA_OK) {
        char path[512];
        snprintf(path, sizeof path, "%s/keyness.csv", outdir);
        st = tifa_keyness_table_write(keyness, path, &NO_BOM, 4);
    }
    if (st == TIFA_OK && tifa_diag_count(diag, TIFA_ERROR) + tifa_diag_count(diag, TIFA_WARNING))
        st = TIFA_EFORMAT; /* the demo loads cleanly: a diagnostic is news */
    for (size_t i = 0; i < n; i++)
        tifa_doc_free(docs[i]);
    free(docs);
    tifa_keyness_table_free(keyness);
    tifa_stats_free(stats);
    tifa_loader_free(loader);
    tifa_patterns_free(patterns);
    tifa_diag_free(diag);
    return st;
}

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
    int k = snprintf(buf, size, "%s/%s", dir, name);
    assert_true(k > 0 && (size_t)k < size);
}

static void test_every_allocation(void **state)
{
    (void)state;
    char base[] = "/tmp/tifa-test-stats-faults-XXXXXX";
    assert_non_null(mkdtemp(base));
    char want[512], got[512];
    path_in(want, sizeof want, base, "want");
    path_in(got, sizeof got, base, "got");
    assert_int_equal(mkdir(want, 0700), 0);
    assert_int_equal(mkdir(got, 0700), 0);

    inj = (injection){ true, FAIL_ALL, 0, 0, false, 0, 0 };
    assert_int_equal(scenario(want), TIFA_OK);
    inj.armed = false;
    long total = inj.calls;
    assert_true(total > 300); /* the wrappers see the libraries' allocations */

    long stopped = 0;
    for (long k = 1; k <= total; k++) {
        assert_true(fault_remove_dir(got));
        assert_int_equal(mkdir(got, 0700), 0);
        inj = (injection){ true, FAIL_ALL, k, 0, false, 0, 0 };
        tifa_status st = scenario(got);
        inj.armed = false;
        assert_true(inj.failed); /* the run is deterministic: call k came */
        if (st == TIFA_ENOMEM) {
            stopped++;
            continue;
        }
        if (st != TIFA_OK)
            fail_msg("allocation %ld of %ld failed: status %s, not TIFA_ENOMEM", k, total,
                     tifa_status_name(st));
        if (!fault_same_files(want, got, "", NULL))
            fail_msg("allocation %ld of %ld failed, the run succeeded, but a table differs",
                     k, total);
    }
    assert_true(stopped > total / 2); /* most failures must stop the run */
    assert_true(fault_remove_dir(want));
    assert_true(fault_remove_dir(got));
    assert_int_equal(rmdir(base), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
