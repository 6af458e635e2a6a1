/*
 * test_engine.c — the statistics engine end to end on hand-written
 * documents: quoted and total counts (non-overlapping per slogan), the
 * lexicon with a user list, families, corpus and group rows, duplicates
 * skipped, per_10k with the exact Poisson interval, DP, trends with the OLS
 * fit, keyness rows, rhetoric rows, and byte-identical tables whatever the
 * split of documents over workers and the merge order.  Expected numbers were
 * worked out by hand (and with a few lines of plain Python for the Han
 * character counts and the DP sums): documents of 31, 16 and 17 Han
 * characters in corpus a (64 in all) and 9 in corpus b.
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
#include <sys/stat.h>
#include <unistd.h>

#include "stats.h"

static char tmpdir[] = "/tmp/tifa-test-engine-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* --------------------------------------------------------------- fixture -- */

enum { NDOCS = 5 };

static tifa_doc docs[NDOCS];

static void make_doc(tifa_doc *d, size_t index, const char *id,
                     const char *corpus, const char *group, const char *date,
                     const char *text, size_t chars, const char *dup)
{
    memset(d, 0, sizeof *d);
    d->index = index;
    d->doc_id = (char *)id;
    d->corpus = (char *)corpus;
    d->group = (char *)group;
    d->date = (char *)date;
    d->kind = TIFA_DOC;
    d->text = (char *)text;
    d->text_len = strlen(text);
    d->chars = chars;
    d->duplicate_of = (char *)dup;
}

static void make_fixture(void)
{
    make_doc(&docs[0], 0, "a-0", "a", "2013", "2013-03-01",
             "要“零距离”服务。零距离就是好。\n“最后一公里”问题,打通最后一公里。"
             "哈哈哈哈哈",
             31, NULL);
    make_doc(&docs[1], 1, "a-1", "a", "2014", "2014-01-02",
             "坚持“零距离”,还有“面对面”。不躲、不拖、不等。", 16, NULL);
    make_doc(&docs[2], 2, "a-2", "a", "2014", "2014-06-01", "“零距离”", 3,
             "a-1");
    make_doc(&docs[3], 3, "a-3", "a", "2015", "2015",
             "一是抓“两学一做”。二是抓“面对面”和“面对面”。", 17, NULL);
    make_doc(&docs[4], 0, "b-0", "b", NULL, NULL, "“接地气”接地气,零距离。", 9,
             NULL);
}

/* ------------------------------------------------------------ CSV table -- */

typedef struct table {
    char ***rows;
    size_t *ncols;
    size_t n;
} table;

static table read_table(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tifa_status st;
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    table t = {0};
    char **fields;
    size_t n;
    while ((st = tifa_csv_read_row(r, &fields, &n)) == TIFA_OK) {
        t.rows = realloc(t.rows, (t.n + 1) * sizeof *t.rows);
        t.ncols = realloc(t.ncols, (t.n + 1) * sizeof *t.ncols);
        t.rows[t.n] = malloc(n * sizeof(char *));
        for (size_t i = 0; i < n; i++)
            t.rows[t.n][i] = strdup(fields[i]);
        t.ncols[t.n] = n;
        t.n++;
    }
    assert_int_equal(st, TIFA_EEMPTY);
    tifa_csv_reader_close(r);
    return t;
}

static void free_table(table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < t->ncols[i]; k++)
            free(t->rows[i][k]);
        free(t->rows[i]);
    }
    free(t->rows);
    free(t->ncols);
}

static size_t col(const table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols[0]; i++)
        if (strcmp(t->rows[0][i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return 0;
}

/* The row whose first columns equal the given keys (NULL-terminated). */
static char **find(const table *t, const char *k0, const char *k1,
                   const char *k2, const char *k3)
{
    const char *keys[] = {k0, k1, k2, k3};
    for (size_t r = 1; r < t->n; r++) {
        bool ok = true;
        for (size_t i = 0; i < 4 && keys[i] && ok; i++)
            ok = strcmp(t->rows[r][i], keys[i]) == 0;
        if (ok)
            return t->rows[r];
    }
    return NULL;
}

static double num(char **row, const table *t, const char *name)
{
    return atof(row[col(t, name)]);
}

#define NEAR(x, want) assert_true(fabs((x) - (want)) < 5e-4)

/* --------------------------------------------------------------- running -- */

static tifa_patterns *patterns(tifa_diag *diag)
{
    tifa_status st;
    tifa_patterns *p =
        tifa_patterns_load(TIFA_TEST_DATADIR "/patterns/families.txt", diag, &st);
    assert_non_null(p);
    return p;
}

static const char *user_list(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/user.txt", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("# my slogans\n哈哈\n  不存在  \n\n", f);
    fclose(f);
    return path;
}

static void options(tifa_stats_options *o, tifa_patterns *p,
                    const char *const *lists)
{
    memset(o, 0, sizeof *o);
    o->patterns = p;
    o->slogan_lists = lists;
    o->n_slogan_lists = 1;
    o->quotes.min_chars = 1;
    o->quotes.max_chars = 12;
    o->period = "year";
    o->precision = 4;
}

static void write_all(tifa_stats *s, const char *dir)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/%s", tmpdir, dir);
    mkdir(sub, 0700);
    tifa_keyness_table *kt = tifa_keyness_table_new();
    tifa_csv_options csv = {false, NULL};
    assert_int_equal(tifa_stats_write(s, sub, &csv, kt), TIFA_OK);
    char kp[600];
    snprintf(kp, sizeof kp, "%s/keyness.csv", sub);
    assert_int_equal(tifa_keyness_table_write(kt, kp, &csv, 4), TIFA_OK);
    tifa_keyness_table_free(kt);
}

/* One engine, documents in stream order. */
static void run_single(const char *dir)
{
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = patterns(diag);
    const char *lists[] = {user_list()};
    tifa_stats_options o;
    options(&o, p, lists);
    tifa_status st;
    tifa_stats *s = tifa_stats_new(&o, diag, &st);
    assert_non_null(s);
    for (size_t i = 0; i < NDOCS; i++)
        assert_int_equal(tifa_stats_add_doc(s, &docs[i]), TIFA_OK);
    assert_int_equal(tifa_stats_freeze_lexicon(s), TIFA_OK);
    for (size_t i = 0; i < NDOCS; i++)
        assert_int_equal(tifa_stats_count_totals(s, &docs[i]), TIFA_OK);
    write_all(s, dir);
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 0);
    tifa_stats_free(s);
    tifa_patterns_free(p);
    tifa_diag_free(diag);
}

/* Workers with another split in each pass, merged in reverse order. */
static void run_workers(const char *dir)
{
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = patterns(diag);
    const char *lists[] = {user_list()};
    tifa_stats_options o;
    options(&o, p, lists);
    tifa_status st;
    tifa_stats *s = tifa_stats_new(&o, diag, &st);
    assert_non_null(s);
    tifa_stats *w1 = tifa_stats_new_worker(s, &st);
    tifa_stats *w2 = tifa_stats_new_worker(s, &st);
    assert_non_null(w1);
    assert_non_null(w2);
    assert_int_equal(tifa_stats_add_doc(w2, &docs[4]), TIFA_OK);
    assert_int_equal(tifa_stats_add_doc(w2, &docs[3]), TIFA_OK);
    assert_int_equal(tifa_stats_add_doc(w1, &docs[1]), TIFA_OK);
    assert_int_equal(tifa_stats_add_doc(w1, &docs[0]), TIFA_OK);
    assert_int_equal(tifa_stats_add_doc(w1, &docs[2]), TIFA_OK);
    assert_int_equal(tifa_stats_merge(s, w2), TIFA_OK);
    assert_int_equal(tifa_stats_merge(s, w1), TIFA_OK);
    tifa_stats_free(w1);
    tifa_stats_free(w2);
    assert_int_equal(tifa_stats_freeze_lexicon(s), TIFA_OK);
    /* pass 1 is closed now */
    assert_int_equal(tifa_stats_add_doc(s, &docs[0]), TIFA_EUSAGE);
    w1 = tifa_stats_new_worker(s, &st);
    w2 = tifa_stats_new_worker(s, &st);
    assert_int_equal(tifa_stats_count_totals(w1, &docs[0]), TIFA_OK);
    assert_int_equal(tifa_stats_count_totals(w2, &docs[2]), TIFA_OK);
    assert_int_equal(tifa_stats_count_totals(w2, &docs[4]), TIFA_OK);
    assert_int_equal(tifa_stats_count_totals(w1, &docs[3]), TIFA_OK);
    assert_int_equal(tifa_stats_count_totals(s, &docs[1]), TIFA_OK);
    assert_int_equal(tifa_stats_merge(s, w1), TIFA_OK);
    assert_int_equal(tifa_stats_merge(s, w2), TIFA_OK);
    tifa_stats_free(w1);
    tifa_stats_free(w2);
    write_all(s, dir);
    tifa_stats_free(s);
    tifa_patterns_free(p);
    /* the one error is the refused late document */
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 1);
    tifa_diag_free(diag);
}

/* ----------------------------------------------------------------- tests -- */

static void test_slogans(void **state)
{
    (void)state;
    make_fixture();
    run_single("one");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/one", tmpdir);
    table t = read_table(dir, "slogans.csv");
    assert_string_equal(t.rows[0][0], "corpus");
    assert_string_equal(t.rows[0][10], "dp");
    /* 零距离 in corpus a: quoted 1 + 1 (the duplicate a-2 is skipped),
     * total 2 + 1, in 2 documents; 3 in 64 characters */
    char **r = find(&t, "a", "", "zero_x", "零距离");
    assert_non_null(r);
    NEAR(num(r, &t, "quoted"), 2);
    NEAR(num(r, &t, "total"), 3);
    NEAR(num(r, &t, "docs"), 2);
    NEAR(num(r, &t, "per_10k"), 468.75);
    NEAR(num(r, &t, "ci_low"), 96.6675);
    NEAR(num(r, &t, "ci_high"), 1369.8864);
    /* DP over (2,1,0) in (31,16,17): 1/2(|2/3-31/64|+|1/3-16/64|+17/64) */
    NEAR(num(r, &t, "dp"), 0.265625);
    /* the row's group form: 2014 holds a-1 only */
    r = find(&t, "a", "2014", "zero_x", "零距离");
    assert_non_null(r);
    NEAR(num(r, &t, "quoted"), 1);
    NEAR(num(r, &t, "total"), 1);
    NEAR(num(r, &t, "per_10k"), 625.0);
    NEAR(num(r, &t, "dp"), 0.0); /* one document */
    r = find(&t, "a", "", "other", "最后一公里");
    assert_non_null(r);
    NEAR(num(r, &t, "quoted"), 1);
    NEAR(num(r, &t, "total"), 2);
    NEAR(num(r, &t, "dp"), 0.515625);
    r = find(&t, "a", "", "aba", "面对面");
    NEAR(num(r, &t, "quoted"), 3);
    NEAR(num(r, &t, "total"), 3);
    NEAR(num(r, &t, "dp"), 0.484375);
    /* user list: 哈哈哈哈哈 holds 2 non-overlapping 哈哈; 不存在 is listed
     * with zeros; 接地气 does not occur in corpus a */
    r = find(&t, "a", "", "other", "哈哈");
    NEAR(num(r, &t, "quoted"), 0);
    NEAR(num(r, &t, "total"), 2);
    r = find(&t, "a", "", "other", "不存在");
    assert_non_null(r);
    NEAR(num(r, &t, "total"), 0);
    assert_string_equal(r[col(&t, "dp")], "");
    assert_null(find(&t, "a", "", "other", "接地气"));
    /* corpus b has no groups: corpus rows only; 零距离 unquoted there */
    r = find(&t, "b", "", "other", "接地气");
    NEAR(num(r, &t, "quoted"), 1);
    NEAR(num(r, &t, "total"), 2);
    r = find(&t, "b", "", "zero_x", "零距离");
    NEAR(num(r, &t, "quoted"), 0);
    NEAR(num(r, &t, "total"), 1);
    for (size_t i = 1; i < t.n; i++)
        assert_true(strcmp(t.rows[i][0], "b") || !t.rows[i][1][0]);
    /* sorted: within (a, "") quoted descending, then total, then code
     * points */
    size_t first = 0;
    for (size_t i = 1; i < t.n; i++)
        if (!strcmp(t.rows[i][0], "a") && !t.rows[i][1][0]) {
            first = i;
            break;
        }
    /* quoted 3 (total 3), quoted 2 (total 3) */
    assert_string_equal(t.rows[first][3], "面对面");
    assert_string_equal(t.rows[first + 1][3], "零距离");
    /* quoted 1 each: total 2 before total 1; then quoted 0 with total 2 */
    assert_string_equal(t.rows[first + 2][3], "最后一公里");
    assert_string_equal(t.rows[first + 3][3], "两学一做");
    assert_string_equal(t.rows[first + 4][3], "哈哈");
    free_table(&t);
}

static void test_families_trend_rhetoric(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/one", tmpdir);
    table t = read_table(dir, "families.csv");
    char **r = find(&t, "a", "", "zero_x", NULL);
    NEAR(num(r, &t, "types"), 1);
    NEAR(num(r, &t, "quoted"), 2);
    NEAR(num(r, &t, "docs"), 2);
    NEAR(num(r, &t, "per_10k"), 312.5);
    NEAR(num(r, &t, "ci_low"), 37.8452);
    NEAR(num(r, &t, "ci_high"), 1128.8574);
    r = find(&t, "a", "", "aba", NULL);
    NEAR(num(r, &t, "quoted"), 3);
    NEAR(num(r, &t, "docs"), 2);
    r = find(&t, "a", "", "numbered", NULL);
    NEAR(num(r, &t, "quoted"), 1);
    r = find(&t, "a", "", "one_x", NULL);
    NEAR(num(r, &t, "quoted"), 0);
    NEAR(num(r, &t, "ci_low"), 0);
    NEAR(num(r, &t, "ci_high"), 3.6888794541 / 64 * 1e4);
    r = find(&t, "a", "2015", "numbered", NULL);
    NEAR(num(r, &t, "per_10k"), 1.0 / 17 * 1e4);
    free_table(&t);

    t = read_table(dir, "trend.csv");
    r = find(&t, "a", "zero_x", "2013", NULL);
    NEAR(num(r, &t, "count"), 1);
    NEAR(num(r, &t, "chars"), 31);
    NEAR(num(r, &t, "per_10k"), 1e4 / 31);
    r = find(&t, "a", "zero_x", "2014", NULL);
    NEAR(num(r, &t, "chars"), 16); /* the duplicate is not counted */
    r = find(&t, "a", "zero_x", "2015", NULL);
    NEAR(num(r, &t, "count"), 0);
    assert_null(find(&t, "b", NULL, NULL, NULL)); /* b has no dates */
    free_table(&t);
    t = read_table(dir, "trend_fit.csv");
    r = find(&t, "a", "zero_x", NULL, NULL);
    NEAR(num(r, &t, "periods"), 3);
    /* OLS of (322.5806, 625, 0) on (2013, 2014, 2015): slope -161.2903,
     * se 267.7229, t(1) two-sided p = 1 - 2 atan(|t|)/pi = 0.654812 */
    NEAR(num(r, &t, "slope"), -161.290323);
    NEAR(num(r, &t, "slope_se"), 267.722907);
    NEAR(num(r, &t, "p"), 0.654812);
    free_table(&t);

    t = read_table(dir, "rhetoric.csv");
    r = find(&t, "a", "a-1", "parallel", NULL);
    assert_non_null(r);
    assert_string_equal(r[3], "不躲 | 不拖 | 不等");
    r = find(&t, "a", "a-3", "enumeration", NULL);
    assert_non_null(r);
    assert_string_equal(r[3], "抓“两学一做” | 抓“面对面”和“面对面”");
    free_table(&t);

    t = read_table(dir, "slogans_by_doc.csv");
    r = find(&t, "a", "a-0", "哈哈", NULL);
    NEAR(num(r, &t, "quoted"), 0);
    NEAR(num(r, &t, "total"), 2);
    r = find(&t, "a", "a-3", "面对面", NULL);
    NEAR(num(r, &t, "quoted"), 2);
    NEAR(num(r, &t, "total"), 2);
    assert_null(find(&t, "a", "a-2", NULL, NULL)); /* the duplicate */
    free_table(&t);

    t = read_table(dir, "zipf.csv");
    r = find(&t, "a", "", "slogan_total", NULL);
    /* totals in a: 3 3 2 2 1 -> slope of log10 c on log10 r */
    NEAR(num(r, &t, "types"), 5);
    NEAR(num(r, &t, "slope"), -0.586391);
    free_table(&t);
}

static void test_keyness_rows(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/one", tmpdir);
    table t = read_table(dir, "keyness.csv");
    assert_string_equal(t.rows[0][12], "pct_diff");
    /* corpus a (64 chars) against b (9): 零距离 totals 3 and 1 */
    char **r = find(&t, "a", "(rest)", "slogan", "零距离");
    assert_non_null(r);
    NEAR(num(r, &t, "a"), 3);
    NEAR(num(r, &t, "b"), 1);
    NEAR(num(r, &t, "size_target"), 64);
    NEAR(num(r, &t, "size_reference"), 9);
    tifa_keyness k;
    tifa_keyness_compute(3, 1, 64, 9, &k);
    NEAR(num(r, &t, "g2"), k.g2);
    /* log2((3/64)/(1/9)) = -1.2451 */
    NEAR(num(r, &t, "log_ratio"), -1.245112);
    /* groups of a against the rest of a: 2013 (31) vs 2014+2015 (33) */
    r = find(&t, "a/2013", "(rest)", "slogan", "最后一公里");
    NEAR(num(r, &t, "a"), 2);
    NEAR(num(r, &t, "b"), 0);
    NEAR(num(r, &t, "size_reference"), 33);
    NEAR(num(r, &t, "log_ratio"), log2((2.0 / 31) / (0.5 / 33)));
    r = find(&t, "a/2014", "(rest)", "family", "aba");
    NEAR(num(r, &t, "a"), 1);
    NEAR(num(r, &t, "b"), 2);
    free_table(&t);
}

static int slurp_cmp(const char *a, const char *b)
{
    char *x = NULL, *y = NULL;
    size_t nx, ny;
    assert_int_equal(tifa_read_file(a, &x, &nx), TIFA_OK);
    assert_int_equal(tifa_read_file(b, &y, &ny), TIFA_OK);
    int c = nx != ny || memcmp(x, y, nx);
    free(x);
    free(y);
    return c;
}

static void test_workers_identical(void **state)
{
    (void)state;
    run_workers("workers");
    const char *files[] = {"slogans.csv", "families.csv", "trend.csv",
                           "trend_fit.csv", "zipf.csv", "rhetoric.csv",
                           "keyness.csv", "slogans_by_doc.csv"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/one/%s", tmpdir, files[i]);
        snprintf(b, sizeof b, "%s/workers/%s", tmpdir, files[i]);
        if (slurp_cmp(a, b))
            fail_msg("%s differs between one engine and workers", files[i]);
    }
}

static void test_bootstrap_and_comparisons(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = patterns(diag);
    const char *lists[] = {user_list()};
    tifa_stats_options o;
    options(&o, p, lists);
    o.bootstrap = 200;
    o.seed = 42;
    tifa_comparison cmp[] = {{"2014-2015", "2013", true}, {"b", NULL, false}};
    o.comparisons = cmp;
    o.n_comparisons = 2;
    o.period = "decade";
    tifa_status st;
    tifa_stats *s = tifa_stats_new(&o, diag, &st);
    for (size_t i = 0; i < NDOCS; i++)
        tifa_stats_add_doc(s, &docs[i]);
    tifa_stats_freeze_lexicon(s);
    for (size_t i = 0; i < NDOCS; i++)
        tifa_stats_count_totals(s, &docs[i]);
    write_all(s, "boot");
    tifa_stats_free(s);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/boot", tmpdir);
    table t = read_table(dir, "slogans.csv");
    assert_string_equal(t.rows[0][12], "boot_high");
    /* one document in corpus b: every replicate is that document, so the
     * bootstrap interval collapses onto the rate 2/9 * 1e4 */
    char **r = find(&t, "b", "", "other", "接地气");
    NEAR(num(r, &t, "boot_low"), 2222.2222);
    NEAR(num(r, &t, "boot_high"), 2222.2222);
    r = find(&t, "a", "", "zero_x", "零距离");
    assert_true(num(r, &t, "boot_low") <= 468.75);
    assert_true(num(r, &t, "boot_high") >= 468.75);
    free_table(&t);
    t = read_table(dir, "keyness.csv");
    /* groups 2014 + 2015 (33 chars) against 2013 (31) */
    r = find(&t, "2014-2015", "2013", "slogan", "面对面");
    NEAR(num(r, &t, "a"), 3);
    NEAR(num(r, &t, "b"), 0);
    NEAR(num(r, &t, "size_target"), 33);
    NEAR(num(r, &t, "size_reference"), 31);
    r = find(&t, "b", "(rest)", "slogan", "接地气");
    NEAR(num(r, &t, "size_reference"), 64);
    assert_null(find(&t, "a", "(rest)", NULL, NULL));
    free_table(&t);
    t = read_table(dir, "trend.csv");
    r = find(&t, "a", "zero_x", "2010-2019", NULL);
    NEAR(num(r, &t, "count"), 2);
    NEAR(num(r, &t, "chars"), 64);
    free_table(&t);
    /* a bad period is refused */
    o.period = "fortnight";
    assert_null(tifa_stats_new(&o, diag, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    tifa_patterns_free(p);
    tifa_diag_free(diag);
}


/* A text-scope family counts matches in running text; a document without a
 * group value in a grouped corpus forms the group "(none)"; a reply is
 * counted when it is passed. */
static void test_text_scope_and_none_group(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = patterns(diag);
    char extra[512];
    snprintf(extra, sizeof extra, "%s/extra.txt", tmpdir);
    FILE *f = fopen(extra, "wb");
    assert_non_null(f);
    fputs("@scope text\nzhili 治理\n", f);
    fclose(f);
    assert_int_equal(tifa_patterns_append(p, extra, diag), TIFA_OK);
    tifa_stats_options o;
    options(&o, p, NULL);
    o.n_slogan_lists = 0;
    tifa_status st;
    tifa_stats *s = tifa_stats_new(&o, diag, &st);
    assert_non_null(s);
    tifa_doc d[3];
    make_doc(&d[0], 0, "c-0", "c", "x", NULL, "社会治理和“治理”。", 7, NULL);
    make_doc(&d[1], 1, "c-1", "c", NULL, NULL, "治理治理治理", 6, NULL);
    make_doc(&d[2], 2, "c-2", "c", NULL, NULL, "“治理”", 2, NULL);
    d[2].kind = TIFA_REPLY;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(tifa_stats_add_doc(s, &d[i]), TIFA_OK);
    assert_int_equal(tifa_stats_freeze_lexicon(s), TIFA_OK);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(tifa_stats_count_totals(s, &d[i]), TIFA_OK);
    write_all(s, "scope");
    tifa_stats_free(s);
    tifa_patterns_free(p);
    tifa_diag_free(diag);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/scope", tmpdir);
    table t = read_table(dir, "families.csv");
    /* 治理 twice in c-0, three times in c-1, once in the reply */
    char **r = find(&t, "c", "", "zhili", NULL);
    NEAR(num(r, &t, "quoted"), 6);
    NEAR(num(r, &t, "docs"), 3);
    NEAR(num(r, &t, "types"), 0);
    assert_string_equal(r[col(&t, "scope")], "text");
    r = find(&t, "c", "(none)", "zhili", NULL);
    NEAR(num(r, &t, "quoted"), 4);
    NEAR(num(r, &t, "per_10k"), 4.0 / 8 * 1e4);
    r = find(&t, "c", "x", "other", NULL);
    NEAR(num(r, &t, "quoted"), 1); /* the quoted 治理 is a slogan, "other" */
    free_table(&t);
    t = read_table(dir, "slogans.csv");
    r = find(&t, "c", "", "other", "治理");
    NEAR(num(r, &t, "quoted"), 2);
    NEAR(num(r, &t, "total"), 6);
    /* DP over (2,3,1) in (7,6,2): 1/2(|2/6-7/15|+|3/6-6/15|+|1/6-2/15|) */
    NEAR(num(r, &t, "dp"), 0.5 * (fabs(2.0 / 6 - 7.0 / 15) +
                                  fabs(3.0 / 6 - 6.0 / 15) +
                                  fabs(1.0 / 6 - 2.0 / 15)));
    free_table(&t);
}

/* rhetoric.csv shows the first 200 characters of an instance's text and
 * then "…": the engine keeps only that much (an enumeration of headings
 * spans most of a document).  一是 + n × 好 + 。二是乙 is n + 6 characters:
 * 200 are shown whole, 201 cut after 200. */
static void test_rhetoric_text_capped(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = patterns(diag);
    tifa_stats_options o;
    options(&o, p, NULL);
    o.n_slogan_lists = 0;
    tifa_status st;
    tifa_stats *s = tifa_stats_new(&o, diag, &st);
    assert_non_null(s);
    char *text[2];
    tifa_doc d[2];
    for (size_t k = 0; k < 2; k++) {
        size_t n = 194 + k;
        text[k] = malloc(3 * n + 64);
        strcpy(text[k], "一是");
        for (size_t i = 0; i < n; i++)
            strcat(text[k], "好");
        strcat(text[k], "。二是乙。");
        make_doc(&d[k], k, k ? "long" : "fits", "c", NULL, NULL, text[k],
                 n + 5, NULL);
        assert_int_equal(tifa_stats_add_doc(s, &d[k]), TIFA_OK);
    }
    assert_int_equal(tifa_stats_freeze_lexicon(s), TIFA_OK);
    for (size_t k = 0; k < 2; k++)
        assert_int_equal(tifa_stats_count_totals(s, &d[k]), TIFA_OK);
    write_all(s, "capped");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/capped", tmpdir);
    table t = read_table(dir, "rhetoric.csv");
    char **r = find(&t, "c", "fits", "enumeration", NULL);
    assert_non_null(r);
    size_t len = strlen(text[0]) - strlen("。"); /* up to 乙 */
    assert_int_equal(strlen(r[4]), len);
    assert_memory_equal(r[4], text[0], len);
    r = find(&t, "c", "long", "enumeration", NULL);
    assert_non_null(r);
    /* 2 + 195 + 1 + 2 = 200 characters, 3 bytes each, then … */
    assert_int_equal(strlen(r[4]), 600 + 3);
    assert_memory_equal(r[4], text[1], 600);
    assert_string_equal(r[4] + 600, "…");
    free_table(&t);
    tifa_stats_free(s);
    tifa_patterns_free(p);
    tifa_diag_free(diag);
    free(text[0]);
    free(text[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slogans),
        cmocka_unit_test(test_families_trend_rhetoric),
        cmocka_unit_test(test_keyness_rows),
        cmocka_unit_test(test_workers_identical),
        cmocka_unit_test(test_bootstrap_and_comparisons),
        cmocka_unit_test(test_text_scope_and_none_group),
        cmocka_unit_test(test_rhetoric_text_capped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
