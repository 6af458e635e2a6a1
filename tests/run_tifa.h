/*
 * run_tifa.h — run the built `tifa` binary from a test, without a shell.
 *
 * Tests of the command line (exit statuses, outputs) run the real program
 * (TIFA_BINARY, set by tests/CMakeLists.txt) with posix_spawn, sending its
 * standard output and error to files the test then reads.
 */
#ifndef TIFA_TESTS_RUN_TIFA_H
#define TIFA_TESTS_RUN_TIFA_H

#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>

extern char **environ;

/* Runs TIFA_BINARY with args (NULL-terminated, without argv[0]); stdout and
 * stderr go to the given files (NULL: /dev/null).  Returns the exit status,
 * or 128 + signal. */
static inline int run_tifa(const char *const *args, const char *out_path,
                           const char *err_path)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = TIFA_BINARY;
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, TIFA_BINARY, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Reads a whole file into a NUL-terminated malloc'd string (caller frees),
 * or NULL. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return data;
}

/* Whether two files exist and hold the same bytes. */
static inline bool same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *da = slurp(a, &la), *db = slurp(b, &lb);
    bool same = da && db && la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return same;
}

#endif
