/*
 * test_cli.c — the command line contract: --help, --version, usage errors
 * with status 2 and the usage text, missing inputs with status 3, and the
 * refusal to overwrite an output directory tifa did not make (status 4),
 * and `--ngrams off`.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "run_tifa.h"

static char tmp[] = "/tmp/tifa-test-cli-XXXXXX";
static char out[300], err[300];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    snprintf(out, sizeof out, "%s/stdout", tmp);
    snprintf(err, sizeof err, "%s/stderr", tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_version(void **state)
{
    (void)state;
    const char *args[] = {"--version", NULL};
    assert_int_equal(run_tifa(args, out, err), 0);
    char *text = slurp(out, NULL);
    assert_non_null(text);
    assert_string_equal(text, "tifa 0.1.0\n");
    free(text);
}

static void test_help(void **state)
{
    (void)state;
    const char *args[] = {"--help", NULL};
    assert_int_equal(run_tifa(args, out, err), 0);
    char *text = slurp(out, NULL);
    assert_non_null(strstr(text, "usage: tifa COMMAND"));
    assert_non_null(strstr(text, "exit status: 0 success, 1 partial"));
    free(text);
    const char *sub[] = {"count", "--help", NULL};
    assert_int_equal(run_tifa(sub, out, err), 0);
}

static void expect_usage_error(const char *const *args)
{
    assert_int_equal(run_tifa(args, out, err), 2);
    char *text = slurp(err, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "usage: tifa"));
    free(text);
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *unknown_option[] = {"--frobnicate", NULL};
    expect_usage_error(unknown_option);
    const char *unknown_command[] = {"frobnicate", NULL};
    expect_usage_error(unknown_command);
    const char *bad_sub_option[] = {"run", "--no-such-thing", NULL};
    expect_usage_error(bad_sub_option);
    const char *no_paths[] = {"count", "-o", "x", NULL};
    expect_usage_error(no_paths);
    const char *bad_ngrams[] = {"count", "--ngrams", "9-2", "a.txt", "-o", "x", NULL};
    expect_usage_error(bad_ngrams);
    const char *bad_ngrams_word[] = {"count", "--ngrams", "of", "a.txt", "-o", "x", NULL};
    expect_usage_error(bad_ngrams_word);
    const char *bad_threads[] = {"count", "--threads", "zero", "a.txt", "-o", "x", NULL};
    expect_usage_error(bad_threads);
    const char *no_args[] = {NULL};
    assert_int_equal(run_tifa(no_args, out, err), 2);
}

static void test_missing_input(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/out-missing", tmp);
    const char *args[] = {"count", "--no-charts", "-o", dir, "/nonexistent/tifa/input.txt", NULL};
    assert_int_equal(run_tifa(args, out, err), 3);
    char *text = slurp(err, NULL);
    assert_non_null(strstr(text, "/nonexistent/tifa/input.txt"));
    free(text);
    /* a run that produced nothing leaves no output folder behind */
    assert_int_not_equal(access(dir, F_OK), 0);
}

/* Regression: with two corpora whose paths are all missing, the second
 * corpus's empty input list reallocated the manifest's arrays to 0 bytes,
 * which freed them: "out of memory", then a double free and an abort
 * (exit 134) instead of the "no usable input" exit. */
static void test_missing_inputs_of_two_corpora(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/out-missing-two", tmp);
    const char *args[] = {"count", "--no-charts", "-o", dir,
                          "--corpus", "a=/nonexistent/tifa/a.txt",
                          "--corpus", "b=/nonexistent/tifa/b.txt", NULL};
    assert_int_equal(run_tifa(args, out, err), 3);
    char *text = slurp(err, NULL);
    assert_non_null(strstr(text, "/nonexistent/tifa/a.txt"));
    assert_non_null(strstr(text, "/nonexistent/tifa/b.txt"));
    assert_non_null(strstr(text, "no usable input"));
    assert_null(strstr(text, "out of memory"));
    free(text);
    assert_int_not_equal(access(dir, F_OK), 0);
}

/* `--ngrams off` counts no n-grams: no ngrams.csv, and the slogan, family
 * and document tables exactly as in a run with n-grams (they do not depend
 * on them). */
static void test_ngrams_off(void **state)
{
    (void)state;
    char input[400], with[400], without[400];
    snprintf(input, sizeof input, "%s/off.txt", tmp);
    FILE *f = fopen(input, "w");
    assert_non_null(f);
    fputs("要实现“零距离”服务，打通“最后一公里”。\n\n一站式服务，零距离。\n", f);
    fclose(f);
    snprintf(with, sizeof with, "%s/out-with", tmp);
    snprintf(without, sizeof without, "%s/out-without", tmp);
    const char *a[] = {"count", "--no-charts", "-q", "-o", with, input, NULL};
    assert_int_equal(run_tifa(a, out, err), 0);
    const char *b[] = {"count", "--no-charts", "-q", "--ngrams", "off", "-o", without,
                       input, NULL};
    assert_int_equal(run_tifa(b, out, err), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/ngrams.csv", with);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/ngrams.csv", without);
    assert_int_not_equal(access(path, F_OK), 0);
    const char *same[] = {"slogans.csv", "families.csv", "documents.csv", NULL};
    for (size_t i = 0; same[i]; i++) {
        char p1[600], p2[600];
        snprintf(p1, sizeof p1, "%s/%s", with, same[i]);
        snprintf(p2, sizeof p2, "%s/%s", without, same[i]);
        size_t n1 = 0, n2 = 0;
        char *t1 = slurp(p1, &n1), *t2 = slurp(p2, &n2);
        assert_non_null(t1);
        assert_non_null(t2);
        assert_int_equal(n1, n2);
        assert_memory_equal(t1, t2, n1);
        free(t1);
        free(t2);
    }
    /* and the slogan table did count something: 零距离 twice */
    snprintf(path, sizeof path, "%s/slogans.csv", without);
    char *text = slurp(path, NULL);
    assert_non_null(strstr(text, "零距离"));
    free(text);
}

static void test_refuses_foreign_output_dir(void **state)
{
    (void)state;
    char dir[400], precious[500], input[400];
    snprintf(dir, sizeof dir, "%s/foreign", tmp);
    mkdir(dir, 0755);
    snprintf(precious, sizeof precious, "%s/thesis.docx", dir);
    FILE *f = fopen(precious, "w");
    fputs("three years of work", f);
    fclose(f);
    snprintf(input, sizeof input, "%s/in.txt", tmp);
    f = fopen(input, "w");
    fputs("要实现“零距离”服务。\n", f);
    fclose(f);
    const char *args[] = {"count", "--no-charts", "-o", dir, input, NULL};
    assert_int_equal(run_tifa(args, out, err), 4);
    char *text = slurp(precious, NULL);
    assert_string_equal(text, "three years of work");
    free(text);
    char slogans[500];
    snprintf(slogans, sizeof slogans, "%s/slogans.csv", dir);
    assert_int_not_equal(access(slogans, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_missing_input),
        cmocka_unit_test(test_missing_inputs_of_two_corpora),
        cmocka_unit_test(test_refuses_foreign_output_dir),
        cmocka_unit_test(test_ngrams_off),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
