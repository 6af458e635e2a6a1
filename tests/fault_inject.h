/*
 * fault_inject.h — allocation failures on demand, for the fault tests.
 *
 * A test program that includes this header (once, in one file) and is
 * linked with -Wl,--wrap for malloc, calloc, realloc, mmap and mremap
 * (tifa_add_fault_test in tests/CMakeLists.txt) sends every allocation the
 * tifa libraries make through the wrappers below; allocations inside shared
 * libraries (ICU, json-c, glibc, cmocka) do not see them.  While `inj.armed`
 * is set, the calls are counted and call number `inj.fail_at` fails (NULL,
 * or MAP_FAILED for the mappings); `inj.failed` then says so.  With
 * FAIL_MAPPINGS only mmap and mremap are counted and can fail.  The test
 * arms it around the calls under test only, so its own allocations never
 * fail.  Counting and failing the k-th call for k = 1, 2, ... until a run
 * sees no failure tests every failure path of a scenario, as SQLite does.
 */
#ifndef TIFA_FAULT_INJECT_H
#define TIFA_FAULT_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tifa_common.h"

enum { FAIL_ALL, FAIL_MAPPINGS };

typedef struct injection {
    bool armed;     /* counting (only around tifa calls) */
    int which;      /* FAIL_ALL or FAIL_MAPPINGS */
    long fail_at;   /* the call that fails, 1-based; 0 = none */
    long calls;     /* calls counted since armed */
    bool failed;    /* the failure was injected */
    long mmaps, mremaps; /* calls of each (armed), failed or not */
} injection;

static injection inj;

static bool inject(bool mapping)
{
    if (!inj.armed || (inj.which == FAIL_MAPPINGS && !mapping))
        return false;
    /* atomic: with threads, allocations come from several at once (which
     * one is call k then depends on the schedule) */
    if (__atomic_add_fetch(&inj.calls, 1, __ATOMIC_RELAXED) != inj.fail_at)
        return false;
    __atomic_store_n(&inj.failed, true, __ATOMIC_RELAXED);
    return true;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__real_mremap(void *p, size_t old_len, size_t new_len, int flags, ...);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mremap(void *p, size_t old_len, size_t new_len, int flags, ...);

void *__wrap_malloc(size_t n)
{
    return inject(false) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return inject(false) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return inject(false) ? NULL : __real_realloc(p, n);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    __atomic_add_fetch(&inj.mmaps, inj.armed, __ATOMIC_RELAXED);
    return inject(true) ? MAP_FAILED : __real_mmap(addr, len, prot, flags, fd, off);
}

/* tifa never passes MREMAP_FIXED, so the fifth argument is never used. */
void *__wrap_mremap(void *p, size_t old_len, size_t new_len, int flags, ...)
{
    __atomic_add_fetch(&inj.mremaps, inj.armed, __ATOMIC_RELAXED);
    return inject(true) ? MAP_FAILED : __real_mremap(p, old_len, new_len, flags);
}

/* The fault tests compare what a run wrote with the clean run: true when
 * every file of want whose name ends in suffix ("" for all; hidden files
 * skipped) is in got with the same bytes, and got has no other such file;
 * the names that differ are printed.  *compared (may be NULL) receives the
 * number of files of want compared. */
__attribute__((unused)) static bool
fault_same_files(const char *want, const char *got, const char *suffix, size_t *compared)
{
    size_t n_want = 0, n_got = 0, ls = strlen(suffix);
    bool same = true;
    for (int side = 0; side < 2; side++) {
        DIR *d = opendir(side ? got : want);
        if (!d)
            return false;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (e->d_name[0] == '.' || n < ls || strcmp(e->d_name + n - ls, suffix))
                continue;
            if (side) {
                n_got++;
                continue;
            }
            n_want++;
            char a[1024], b[1024];
            snprintf(a, sizeof a, "%s/%s", want, e->d_name);
            snprintf(b, sizeof b, "%s/%s", got, e->d_name);
            char *x = NULL, *y = NULL;
            size_t lx = 0, ly = 0;
            bool equal = tifa_read_file(a, &x, &lx) == TIFA_OK &&
                         tifa_read_file(b, &y, &ly) == TIFA_OK && lx == ly &&
                         !memcmp(x, y, lx);
            if (!equal)
                fprintf(stderr, "%s differs\n", e->d_name);
            same &= equal;
            free(x);
            free(y);
        }
        closedir(d);
    }
    if (compared)
        *compared = n_want;
    return same && n_want == n_got;
}

/* Removes dir and the files in it (the fault tests' output folders have no
 * subdirectories); a missing dir is fine.  False when something stays. */
__attribute__((unused)) static bool fault_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return true;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        ok &= unlink(p) == 0;
    }
    closedir(d);
    return ok && rmdir(dir) == 0;
}

#endif
