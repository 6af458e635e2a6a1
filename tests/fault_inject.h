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
    if (++inj.calls != inj.fail_at)
        return false;
    inj.failed = true;
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
    inj.mmaps += inj.armed;
    return inject(true) ? MAP_FAILED : __real_mmap(addr, len, prot, flags, fd, off);
}

/* tifa never passes MREMAP_FIXED, so the fifth argument is never used. */
void *__wrap_mremap(void *p, size_t old_len, size_t new_len, int flags, ...)
{
    inj.mremaps += inj.armed;
    return inject(true) ? MAP_FAILED : __real_mremap(p, old_len, new_len, flags);
}

#endif
