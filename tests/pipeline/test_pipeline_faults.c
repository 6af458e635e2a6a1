/*
 * test_pipeline_faults.c — a whole study when memory runs out.
 *
 * The scenario is `tifa run` on the demo study (examples/demo/study.ini:
 * both demo corpora, every table, the manifest) without charts, through
 * tifa_run_study, with one or two threads.  Allocation failures come from
 * tests/fault_inject.h; run k fails allocation k of the tifa libraries.
 * The clean run makes several thousand, so every allocation up to
 * FIRST_EACH fails in turn and then an evenly spaced sample of SAMPLE more
 * up to the last one.  Every run must end with TIFA_EXIT_OK and tables
 * byte-identical to the clean run's, or with TIFA_EXIT_OUTPUT and an error
 * diagnostic: an out-of-memory turned into a skipped input
 * (TIFA_EXIT_PARTIAL) or into a table with rows missing fails here.  The
 * sanitizer build checks that every failure path frees what it holds.
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

#include "pipeline.h"
#include "fault_inject.h"

enum { FIRST_EACH = 150, SAMPLE = 150 };

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
    int k = snprintf(buf, size, "%s/%s", dir, name);
    assert_true(k > 0 && (size_t)k < size);
}

/* Runs the demo study into outdir on `threads` threads, allocation number
 * fail_at failing (0: none); the exit code, *errors the error diagnostics.
 * Armed from the study's loading on (the diagnostics list is made before). */
static int scenario(const char *outdir, int threads, long fail_at, size_t *errors)
{
    tifa_diag *diag = tifa_diag_new();
    assert_non_null(diag);
    inj = (injection){ true, FAIL_ALL, fail_at, 0, false, 0, 0 };
    tifa_status st;
    int rc = TIFA_EXIT_OUTPUT;
    tifa_study *study = tifa_study_load(TIFA_TEST_EXAMPLES "/demo/study.ini", diag, &st);
    char *out = study ? tifa_strdup(outdir) : NULL;
    if (out) {
        free(study->output);
        study->output = out;
        study->charts = false;
        tifa_run_options ro;
        memset(&ro, 0, sizeof ro);
        ro.threads = threads;
        ro.quiet = true;
        ro.datadir = TIFA_TEST_DATADIR;
        tifa_run_summary summary;
        memset(&summary, 0, sizeof summary);
        rc = tifa_run_study(study, &ro, diag, &summary);
    } else if (study || st == TIFA_ENOMEM) {
        rc = TIFA_EXIT_OUTPUT; /* as the CLI says when it runs out of memory */
        tifa_diag_add(diag, TIFA_ERROR, TIFA_ENOMEM, NULL, 0, -1, "out of memory");
    } else {
        rc = TIFA_EXIT_USAGE;
    }
    tifa_study_free(study);
    inj.armed = false;
    *errors = tifa_diag_count(diag, TIFA_ERROR);
    tifa_diag_free(diag);
    return rc;
}

static void fail_sample(int threads)
{
    char base[] = "/tmp/tifa-test-pipeline-faults-XXXXXX";
    assert_non_null(mkdtemp(base));
    char want[512], got[512];
    path_in(want, sizeof want, base, "want");
    path_in(got, sizeof got, base, "got");
    size_t errors = 0;

    assert_int_equal(scenario(want, threads, 0, &errors), TIFA_EXIT_OK);
    long total = inj.calls;
    assert_true(total > FIRST_EACH + SAMPLE);

    for (long s = 0; s < FIRST_EACH + SAMPLE; s++) {
        long k = s < FIRST_EACH ? s + 1
                                : FIRST_EACH + 1 +
                                      (s - FIRST_EACH) * (total - FIRST_EACH - 1) / (SAMPLE - 1);
        assert_true(fault_remove_dir(got));
        int rc = scenario(got, threads, k, &errors);
        if (!inj.failed && threads > 1)
            continue; /* with threads the calls come in another order */
        assert_true(inj.failed);
        if (rc == TIFA_EXIT_OUTPUT && errors > 0)
            continue;
        if (rc != TIFA_EXIT_OK)
            fail_msg("%d thread(s), allocation %ld of %ld failed: exit %d, %zu errors",
                     threads, k, total, rc, errors);
        size_t tables = 0;
        bool same = fault_same_files(want, got, ".csv", &tables);
        assert_true(tables >= 8);
        if (!same)
            fail_msg("%d thread(s), allocation %ld of %ld failed, the run succeeded, "
                     "but a table differs", threads, k, total);
    }
    assert_true(fault_remove_dir(got));
    assert_true(fault_remove_dir(want));
    assert_int_equal(rmdir(base), 0);
}

static void test_one_thread(void **state)
{
    (void)state;
    fail_sample(1);
}

static void test_two_threads(void **state)
{
    (void)state;
    fail_sample(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thread),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
