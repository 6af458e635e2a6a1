/*
 * test_keyness_table.c — the keyness table's bookkeeping (stats/
 * keyness_table.c): rows split over two tables and absorbed into one give
 * the same keyness.csv byte for byte as the rows added to one table, in
 * another order; names of the absorbed table are re-interned (a target that
 * only the absorbed table knows keeps its name); the absorbed table is left
 * empty.  The statistics themselves are checked in test_formulas.c.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

typedef struct krow_in {
    const char *target, *reference, *kind, *feature;
    double a, b, c, d;
} krow_in;

/* Two stages' rows: slogans (as stats/engine.c adds them) and n-grams. */
static const krow_in rows[] = {
    {"甲", "乙", "slogan", "零距离", 12, 3, 1000, 2000},
    {"甲", "乙", "slogan", "一站式", 4, 9, 1000, 2000},
    {"乙", "甲", "slogan", "零距离", 3, 12, 2000, 1000},
    {"甲", "乙", "char_ngram", "群众", 40, 22, 1000, 2000},
    {"甲", "乙", "char_ngram", "服务", 17, 30, 1000, 2000},
    {"乙", "甲", "char_ngram", "群众", 22, 40, 2000, 1000},
    {"丙", "(rest)", "char_ngram", "最后一公里", 5, 0, 300, 3000},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static void add(tifa_keyness_table *t, size_t i)
{
    const krow_in *r = &rows[i];
    assert_int_equal(tifa_keyness_table_add(t, r->target, r->reference, r->kind,
                                            r->feature, r->a, r->b, r->c, r->d),
                     TIFA_OK);
}

static char *write_table(tifa_keyness_table *t, const char *path, size_t *len)
{
    assert_int_equal(tifa_keyness_table_write(t, path, NULL, 4), TIFA_OK);
    char *data = NULL;
    assert_int_equal(tifa_read_file(path, &data, len), TIFA_OK);
    unlink(path);
    return data;
}

static void test_absorb_equals_one_table(void **state)
{
    (void)state;
    char dir[] = "/tmp/tifa-keyness-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/keyness.csv", dir);

    tifa_keyness_table *one = tifa_keyness_table_new();
    for (size_t i = 0; i < N_ROWS; i++)
        add(one, i);
    size_t len_one;
    char *want = write_table(one, path, &len_one);
    tifa_keyness_table_free(one);

    /* slogans in one table, n-grams (added in reverse, including the only
     * row of target 丙) in another, absorbed */
    tifa_keyness_table *stats = tifa_keyness_table_new();
    tifa_keyness_table *ngrams = tifa_keyness_table_new();
    for (size_t i = 0; i < 3; i++)
        add(stats, i);
    for (size_t i = N_ROWS; i-- > 3;)
        add(ngrams, i);
    assert_int_equal(tifa_keyness_table_absorb(stats, ngrams), TIFA_OK);
    size_t len_two;
    char *got = write_table(stats, path, &len_two);
    assert_int_equal(len_one, len_two);
    assert_memory_equal(want, got, len_one);
    assert_non_null(strstr(got, "丙,(rest),char_ngram,最后一公里,5,0,"));

    /* the absorbed table is empty: its keyness.csv is the header alone */
    size_t len_empty;
    char *empty = write_table(ngrams, path, &len_empty);
    assert_non_null(memchr(empty, '\n', len_empty));
    assert_ptr_equal(memchr(empty, '\n', len_empty), empty + len_empty - 1);
    assert_int_equal(tifa_keyness_table_absorb(NULL, ngrams), TIFA_EUSAGE);

    free(want);
    free(got);
    free(empty);
    tifa_keyness_table_free(stats);
    tifa_keyness_table_free(ngrams);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absorb_equals_one_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
