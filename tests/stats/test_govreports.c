/*
 * test_govreports.c — integration test on the government work reports
 * ($TIFA_SHARED_CORPORA/govreports, JSONL, grouped by year), issue 4 "Done
 * when": a trend table for every family over 1954–2025 and a keyness table of
 * 2013–2025 against 1978–2012, with numbers spot-checked by an independent
 * Python recount (the `regex` module for \p{Han}, the SPEC §4 span rule and
 * family regexes, str.count for totals):
 *   - year 2014: 15,430 Han characters; quoted spans numbered 14, other 14,
 *     zero_x 1;
 *   - the whole corpus: 982,605 characters, 914 numbered spans;
 *   - family other, 2013–2025 vs 1978–2012: a 301, b 428, c 197,849,
 *     d 574,563, G² 84.8595;
 *   - slogan 放管服 total 10 vs 0; 最后一公里 3 vs 0.
 * Skips with a message when the shared corpora are absent.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

#define GOV TIFA_SHARED_CORPORA "/govreports/government_work_reports.jsonl"

static char outdir[] = "/tmp/tifa-test-gov-XXXXXX";
static bool have_corpus;

static int setup(void **state)
{
    (void)state;
    have_corpus = access(GOV, R_OK) == 0;
    if (!have_corpus)
        return 0;
    if (!mkdtemp(outdir))
        return -1;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_patterns *p = tifa_patterns_load(
        TIFA_TEST_DATADIR "/patterns/families.txt", diag, &st);
    if (!p)
        return -1;
    tifa_load_options lo;
    tifa_load_options_init(&lo);
    lo.corpus = "gov";
    lo.group_by = "year";
    lo.datadir = TIFA_TEST_DATADIR;
    tifa_loader *l = tifa_loader_new(&lo, diag, &st);
    if (!l || tifa_loader_add_path(l, GOV) != TIFA_OK)
        return -1;
    tifa_comparison cmp[] = {{"2013-2025", "1978-2012", true}};
    tifa_stats_options o;
    memset(&o, 0, sizeof o);
    o.patterns = p;
    o.comparisons = cmp;
    o.n_comparisons = 1;
    tifa_stats *s = tifa_stats_new(&o, diag, &st);
    /* two workers for pass 1, documents kept for pass 2 */
    tifa_stats *w[2] = {tifa_stats_new_worker(s, &st),
                        tifa_stats_new_worker(s, &st)};
    tifa_doc *docs[256];
    size_t n = 0;
    tifa_doc *doc;
    while (tifa_loader_next(l, &doc) == TIFA_OK && doc && n < 256) {
        if (tifa_stats_add_doc(w[n % 2], doc) != TIFA_OK)
            return -1;
        docs[n++] = doc;
    }
    for (int k = 0; k < 2; k++) {
        if (tifa_stats_merge(s, w[k]) != TIFA_OK)
            return -1;
        tifa_stats_free(w[k]);
    }
    if (tifa_stats_freeze_lexicon(s) != TIFA_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (tifa_stats_count_totals(s, docs[i]) != TIFA_OK)
            return -1;
        tifa_doc_free(docs[i]);
    }
    tifa_keyness_table *kt = tifa_keyness_table_new();
    tifa_csv_options csv = {false, NULL};
    if (tifa_stats_write(s, outdir, &csv, kt) != TIFA_OK)
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/keyness.csv", outdir);
    if (tifa_keyness_table_write(kt, path, &csv, 4) != TIFA_OK)
        return -1;
    tifa_keyness_table_free(kt);
    tifa_stats_free(s);
    tifa_loader_free(l);
    tifa_patterns_free(p);
    tifa_diag_free(diag);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!have_corpus)
        return 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", outdir);
    return system(cmd) == 0 ? 0 : -1;
}

#define NEED_CORPUS()                                                        \
    do {                                                                     \
        if (!have_corpus) {                                                  \
            print_message("skipped: %s not found\n", GOV);                   \
            skip();                                                          \
        }                                                                    \
    } while (0)

/* Calls fn on every data row of a table (fields borrowed for the call). */
typedef void (*row_fn)(char **f, size_t n, void *user);

static void each_row(const char *name, row_fn fn, void *user)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    tifa_status st;
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    char **f;
    size_t n;
    assert_int_equal(tifa_csv_read_row(r, &f, &n), TIFA_OK); /* header */
    while (tifa_csv_read_row(r, &f, &n) == TIFA_OK)
        fn(f, n, user);
    tifa_csv_reader_close(r);
}

typedef struct fam_check {
    int seen;
} fam_check;

static void on_family(char **f, size_t n, void *user)
{
    fam_check *c = user;
    if (strcmp(f[0], "gov"))
        return;
    if (!strcmp(f[1], "2014")) {
        if (!strcmp(f[2], "numbered")) {
            assert_string_equal(f[4], "14");
            assert_string_equal(f[6], "9.0732"); /* 14 / 15430 * 1e4 */
            c->seen++;
        }
        if (!strcmp(f[2], "other")) {
            assert_string_equal(f[4], "14");
            c->seen++;
        }
        if (!strcmp(f[2], "zero_x")) {
            assert_string_equal(f[4], "1");
            c->seen++;
        }
    }
    if (!f[1][0] && !strcmp(f[2], "numbered")) {
        assert_string_equal(f[4], "914");
        assert_true(fabs(atof(f[6]) - 914.0 / 982605 * 1e4) < 1e-4);
        c->seen++;
    }
}

static void test_families(void **state)
{
    (void)state;
    NEED_CORPUS();
    fam_check c = {0};
    each_row("families.csv", on_family, &c);
    assert_int_equal(c.seen, 4);
}

typedef struct trend_check {
    int rows[8];
    int first, last;
    int chars2014;
} trend_check;

static void on_trend(char **f, size_t n, void *user)
{
    trend_check *c = user;
    static const char *fams[] = {"aba", "numbered", "one_x", "other",
                                 "x_zai_y", "zero_x"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(f[1], fams[i]))
            c->rows[i]++;
    int y = atoi(f[2]);
    if (y < c->first)
        c->first = y;
    if (y > c->last)
        c->last = y;
    if (!strcmp(f[1], "zero_x") && !strcmp(f[2], "2014"))
        c->chars2014 = atoi(f[5]);
}

static void test_trend(void **state)
{
    (void)state;
    NEED_CORPUS();
    trend_check c = {{0}, 9999, 0, 0};
    each_row("trend.csv", on_trend, &c);
    /* every family over the 52 years with a report, 1954-2025 (the 20 NPC
     * resolutions in the file have no year and are in no period) */
    for (int i = 0; i < 6; i++)
        assert_int_equal(c.rows[i], 52);
    assert_int_equal(c.first, 1954);
    assert_int_equal(c.last, 2025);
    assert_int_equal(c.chars2014, 15430);
}

typedef struct key_check {
    int seen;
} key_check;

static void on_keyness(char **f, size_t n, void *user)
{
    key_check *c = user;
    assert_string_equal(f[0], "2013-2025");
    assert_string_equal(f[1], "1978-2012");
    if (!strcmp(f[2], "family") && !strcmp(f[3], "other")) {
        assert_string_equal(f[4], "301");
        assert_string_equal(f[5], "428");
        assert_string_equal(f[8], "84.8595");
        assert_string_equal(f[17], "197849");
        assert_string_equal(f[18], "574563");
        c->seen++;
    }
    if (!strcmp(f[2], "slogan") && !strcmp(f[3], "放管服")) {
        assert_string_equal(f[4], "10");
        assert_string_equal(f[5], "0");
        c->seen++;
    }
    if (!strcmp(f[2], "slogan") && !strcmp(f[3], "最后一公里")) {
        assert_string_equal(f[4], "3");
        assert_string_equal(f[5], "0");
        c->seen++;
    }
}

static void test_keyness(void **state)
{
    (void)state;
    NEED_CORPUS();
    key_check c = {0};
    each_row("keyness.csv", on_keyness, &c);
    assert_int_equal(c.seen, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_trend),
        cmocka_unit_test(test_keyness),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
