/*
 * test_atomic.c — a run killed midway leaves no partial table.
 *
 * A complete run over a generated corpus gives the reference tables; a second
 * run over the same input is killed with SIGKILL while it works.  Every table
 * that exists under its final name after the kill must be byte-identical to
 * the complete run's (atomic temp + rename): a truncated slogans.csv is
 * exactly what this forbids.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run_tifa.h"

static char tmp[] = "/tmp/tifa-test-atomic-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* About 24 MB of text in 2,000 documents with quoted slogans. */
static void make_corpus(const char *dir)
{
    static const char *const sentences[] = {
        "要坚持“零距离”服务群众，打通“最后一公里”。",
        "推行“一站式”办理，落实“三严三实”要求。",
        "各级干部要“面对面”倾听民意，做到不躲、不拖、不等、不靠。",
        "一是抓学习，二是抓落实，三是抓督查。",
    };
    for (int d = 0; d < 2000; d++) {
        char path[400];
        snprintf(path, sizeof path, "%s/doc%04d.txt", dir, d);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int i = 0; i < 90; i++)
            fputs(sentences[(d + i) % 4], f);
        fputc('\n', f);
        fclose(f);
    }
}

static void test_killed_run_leaves_no_partial_table(void **state)
{
    (void)state;
    char in[300], full[300], killed[300];
    snprintf(in, sizeof in, "%s/in", tmp);
    snprintf(full, sizeof full, "%s/full", tmp);
    snprintf(killed, sizeof killed, "%s/killed", tmp);
    mkdir(in, 0755);
    make_corpus(in);
    const char *args_full[] = {"count", "--no-charts", "--ngrams", "1-4", "--threads", "1",
                               "-o", full, in, NULL};
    assert_int_equal(run_tifa(args_full, NULL, NULL), 0);

    /* Same run, killed at increasing delays until one is caught midway. */
    bool caught = false;
    for (int attempt = 0; attempt < 6 && !caught; attempt++) {
        const char *argv[] = {TIFA_BINARY, "count", "--no-charts", "--ngrams", "1-4",
                              "--threads", "1", "-o", killed, in, NULL};
        pid_t pid;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        assert_int_equal(posix_spawn(&pid, TIFA_BINARY, &fa, NULL, (char *const *)argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        struct timespec delay = {0, (100 + attempt * 150) * 1000000L};
        nanosleep(&delay, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        caught = WIFSIGNALED(status);

        DIR *dir = opendir(killed);
        if (!dir)
            continue; /* killed before it made the folder */
        struct dirent *e;
        while ((e = readdir(dir))) {
            const char *dot = strrchr(e->d_name, '.');
            if (e->d_name[0] == '.' || !dot || strcmp(dot, ".csv"))
                continue;
            char a[700], b[700];
            snprintf(a, sizeof a, "%s/%s", full, e->d_name);
            snprintf(b, sizeof b, "%s/%s", killed, e->d_name);
            size_t la, lb;
            char *da = slurp(a, &la), *db = slurp(b, &lb);
            if (!da || !db || la != lb || memcmp(da, db, la) != 0)
                fail_msg("%s is partial after the kill", e->d_name);
            free(da);
            free(db);
        }
        closedir(dir);
    }
    assert_true(caught);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_run_leaves_no_partial_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
