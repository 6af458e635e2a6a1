/*
 * test_demo.c — end to end on the bundled demo: `tifa run` on
 * examples/demo/study.ini, then the tables are checked against counts worked
 * out by hand (tests/fixtures/demo-expected/expected.csv, with its ledger and
 * an independent Python count beside it), and the run's promises are checked:
 * byte-identical tables and SVGs for --threads 1 and 2, `tifa verify` passing
 * and then catching an edited output.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_tifa.h"
#include "tifa_common.h"

static char tmp[] = "/tmp/tifa-test-demo-XXXXXX";
static char out1[300], out2[300], errf[300];

/* A loaded CSV table: rows of fields, looked up by column name. */
typedef struct table {
    char ***rows;
    size_t *widths;
    size_t n_rows;
    char **header;
    size_t n_cols;
} table;

static void table_load(table *t, const char *path)
{
    memset(t, 0, sizeof *t);
    tifa_status st;
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    char **f;
    size_t n;
    bool first = true;
    while (tifa_csv_read_row(r, &f, &n) == TIFA_OK) {
        char **copy = calloc(n, sizeof *copy);
        for (size_t i = 0; i < n; i++)
            copy[i] = tifa_strdup(f[i]);
        if (first) {
            t->header = copy;
            t->n_cols = n;
            first = false;
            continue;
        }
        t->rows = realloc(t->rows, (t->n_rows + 1) * sizeof *t->rows);
        t->widths = realloc(t->widths, (t->n_rows + 1) * sizeof *t->widths);
        t->widths[t->n_rows] = n;
        t->rows[t->n_rows++] = copy;
    }
    tifa_csv_reader_close(r);
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t j = 0; j < t->widths[i]; j++)
            free(t->rows[i][j]);
        free(t->rows[i]);
    }
    for (size_t j = 0; j < t->n_cols; j++)
        free(t->header[j]);
    free(t->header);
    free(t->rows);
    free(t->widths);
}

static size_t col(const table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (!strcmp(t->header[j], name))
            return j;
    fail_msg("no column %s", name);
    return 0;
}

/* The value of column `want` in the row whose columns match (name, value)
 * pairs; NULL when no row matches. */
static const char *lookup(const table *t, const char *want, size_t npairs,
                          const char *const *pairs)
{
    size_t w = col(t, want);
    for (size_t i = 0; i < t->n_rows; i++) {
        bool ok = true;
        for (size_t k = 0; k < npairs && ok; k++)
            ok = !strcmp(t->rows[i][col(t, pairs[2 * k])], pairs[2 * k + 1]);
        if (ok)
            return t->rows[i][w];
    }
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    snprintf(out1, sizeof out1, "%s/t1", tmp);
    snprintf(out2, sizeof out2, "%s/t2", tmp);
    snprintf(errf, sizeof errf, "%s/stderr", tmp);
    const char *study = TIFA_TEST_EXAMPLES "/demo/study.ini";
    const char *a1[] = {"run", study, "-o", out1, "--threads", "1", NULL};
    const char *a2[] = {"run", study, "-o", out2, "--threads", "2", NULL};
    int rc1 = run_tifa(a1, NULL, errf);
    int rc2 = run_tifa(a2, NULL, errf);
    if (rc1 != 0 || rc2 != 0) {
        char *e = slurp(errf, NULL);
        fprintf(stderr, "tifa run failed (%d, %d):\n%s\n", rc1, rc2, e ? e : "");
        free(e);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Compares every line of expected.csv with the run's tables. */
static void test_hand_counts(void **state)
{
    (void)state;
    char path[400];
    table expected, families, slogans, documents;
    table_load(&expected, TIFA_TEST_FIXTURES "/demo-expected/expected.csv");
    snprintf(path, sizeof path, "%s/families.csv", out1);
    table_load(&families, path);
    snprintf(path, sizeof path, "%s/slogans.csv", out1);
    table_load(&slogans, path);
    snprintf(path, sizeof path, "%s/documents.csv", out1);
    table_load(&documents, path);
    assert_true(expected.n_rows >= 20);

    size_t checked = 0;
    for (size_t i = 0; i < expected.n_rows; i++) {
        const char *scope = expected.rows[i][col(&expected, "scope")];
        const char *measure = expected.rows[i][col(&expected, "measure")];
        const char *key = expected.rows[i][col(&expected, "key")];
        long want = strtol(expected.rows[i][col(&expected, "value")], NULL, 10);
        char corpus[64] = "", group[64] = "";
        const char *slash = strchr(scope, '/');
        if (slash) {
            snprintf(corpus, sizeof corpus, "%.*s", (int)(slash - scope), scope);
            snprintf(group, sizeof group, "%s", slash + 1);
        } else {
            snprintf(corpus, sizeof corpus, "%s", scope);
        }
        long got = -1;
        if (!strcmp(measure, "family")) {
            const char *pairs[] = {"corpus", corpus, "group", group, "family", key};
            const char *v = lookup(&families, "quoted", 3, pairs);
            got = v ? strtol(v, NULL, 10) : 0; /* absent row = none found */
        } else if (!strncmp(measure, "slogan_", 7)) {
            const char *pairs[] = {"corpus", corpus, "group", group, "slogan", key};
            const char *column = !strcmp(measure, "slogan_quoted") ? "quoted"
                                 : !strcmp(measure, "slogan_total") ? "total"
                                                                    : "docs";
            const char *v = lookup(&slogans, column, 3, pairs);
            got = v ? strtol(v, NULL, 10) : 0;
        } else if (!strcmp(measure, "han_chars") || !strcmp(measure, "documents")) {
            /* Counted documents: posts that are not duplicates. */
            got = 0;
            size_t c_corpus = col(&documents, "corpus"), c_group = col(&documents, "group");
            size_t c_kind = col(&documents, "kind"), c_dup = col(&documents, "duplicate_of");
            size_t c_chars = col(&documents, "chars");
            for (size_t r = 0; r < documents.n_rows; r++) {
                char **row = documents.rows[r];
                if (strcmp(row[c_corpus], corpus) || strcmp(row[c_kind], "post") ||
                    row[c_dup][0] || (group[0] && strcmp(row[c_group], group)))
                    continue;
                got += !strcmp(measure, "documents") ? 1 : strtol(row[c_chars], NULL, 10);
            }
        } else {
            continue; /* measures checked elsewhere (rhetoric) */
        }
        if (got != want)
            fail_msg("%s %s %s: expected %ld, tifa says %ld", scope, measure, key, want, got);
        checked++;
    }
    assert_true(checked >= 20);
    table_free(&expected);
    table_free(&families);
    table_free(&slogans);
    table_free(&documents);
}

/* Rhetoric against the planted instances (tests/fixtures/demo-expected/
 * rhetoric.csv, from the ledger): every parallel series with exactly its
 * items, and the number of enumerations per corpus. */
static void test_rhetoric(void **state)
{
    (void)state;
    char path[400];
    table expected, got;
    table_load(&expected, TIFA_TEST_FIXTURES "/demo-expected/rhetoric.csv");
    snprintf(path, sizeof path, "%s/rhetoric.csv", out1);
    table_load(&got, path);
    size_t e_corpus = col(&expected, "corpus"), e_device = col(&expected, "device");
    size_t e_items = col(&expected, "items");
    size_t g_corpus = col(&got, "corpus"), g_device = col(&got, "device");
    size_t g_items = col(&got, "items");
    const char *corpora[] = {"qingchuan", "baihe"};
    for (size_t c = 0; c < 2; c++) {
        size_t want_enum = 0, got_enum = 0, want_par = 0, got_par = 0;
        for (size_t i = 0; i < expected.n_rows; i++) {
            char **r = expected.rows[i];
            if (strcmp(r[e_corpus], corpora[c]))
                continue;
            if (!strcmp(r[e_device], "enumeration")) {
                want_enum++;
                continue;
            }
            want_par++;
            /* tifa joins items with " | ", the ledger with "|" */
            char joined[1024] = "";
            const char *p = r[e_items];
            while (*p) {
                const char *bar = strchr(p, '|');
                size_t n = bar ? (size_t)(bar - p) : strlen(p);
                strncat(joined, p, n);
                if (!bar)
                    break;
                strcat(joined, " | ");
                p = bar + 1;
            }
            bool found = false;
            for (size_t j = 0; j < got.n_rows && !found; j++)
                found = !strcmp(got.rows[j][g_corpus], corpora[c]) &&
                        !strcmp(got.rows[j][g_device], "parallel") &&
                        !strcmp(got.rows[j][g_items], joined);
            if (!found)
                fail_msg("%s: parallel series %s not found", corpora[c], joined);
        }
        for (size_t j = 0; j < got.n_rows; j++) {
            if (strcmp(got.rows[j][g_corpus], corpora[c]))
                continue;
            if (!strcmp(got.rows[j][g_device], "enumeration"))
                got_enum++;
            else
                got_par++;
        }
        assert_int_equal(got_enum, want_enum);
        assert_int_equal(got_par, want_par);
    }
    table_free(&expected);
    table_free(&got);
}

/* Every CSV and SVG of the --threads 1 run equals the --threads 2 one. */
static void test_threads_byte_identical(void **state)
{
    (void)state;
    const char *dirs[] = {"", "/charts"};
    size_t compared = 0;
    for (size_t d = 0; d < 2; d++) {
        char dir1[400];
        snprintf(dir1, sizeof dir1, "%s%s", out1, dirs[d]);
        DIR *dir = opendir(dir1);
        assert_non_null(dir);
        struct dirent *e;
        while ((e = readdir(dir))) {
            const char *dot = strrchr(e->d_name, '.');
            if (!dot || (strcmp(dot, ".csv") && strcmp(dot, ".svg")))
                continue;
            char a[700], b[700];
            snprintf(a, sizeof a, "%s%s/%s", out1, dirs[d], e->d_name);
            snprintf(b, sizeof b, "%s%s/%s", out2, dirs[d], e->d_name);
            if (!same_file(a, b))
                fail_msg("%s differs between --threads 1 and 2", e->d_name);
            compared++;
        }
        closedir(dir);
    }
    assert_true(compared >= 6); /* tables and at least one chart */
}

static void test_verify_catches_edit(void **state)
{
    (void)state;
    const char *ok[] = {"verify", out2, NULL};
    assert_int_equal(run_tifa(ok, NULL, errf), 0);
    char path[400];
    snprintf(path, sizeof path, "%s/slogans.csv", out2);
    FILE *f = fopen(path, "ab");
    fputs("x", f);
    fclose(f);
    assert_int_equal(run_tifa(ok, NULL, errf), 5);
    char *e = slurp(errf, NULL);
    assert_non_null(strstr(e, "slogans.csv"));
    free(e);
}

static void test_outputs_present(void **state)
{
    (void)state;
    const char *names[] = {"documents.csv", "slogans.csv", "families.csv",
                           "keyness.csv", "trend.csv", "rhetoric.csv",
                           "manifest.json", NULL};
    for (size_t i = 0; names[i]; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", out1, names[i]);
        size_t len = 0;
        char *data = slurp(path, &len);
        if (!data)
            fail_msg("missing %s", names[i]);
        if (strstr(names[i], ".csv"))
            assert_memory_equal(data, "\xEF\xBB\xBF", 3); /* BOM for Excel */
        free(data);
    }
    char png[400];
    snprintf(png, sizeof png, "%s/charts/top_slogans-qingchuan.png", out1);
    struct stat sb;
    assert_int_equal(stat(png, &sb), 0);
    assert_true(sb.st_size > 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_present),
        cmocka_unit_test(test_hand_counts),
        cmocka_unit_test(test_rhetoric),
        cmocka_unit_test(test_threads_byte_identical),
        cmocka_unit_test(test_verify_catches_edit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
