/*
 * corpora_test_util.h — helpers shared by the loader's cmocka tests:
 * collecting every document and diagnostic of a load, writing temporary
 * files, and finding fixtures.  Header-only (static functions) so each test
 * program stays one source file plus this.
 *
 * Ownership: collect() returns a heap array of documents the caller frees
 * with free_docs(); tmpdir_new() returns a directory path the caller removes
 * with tmpdir_remove() and frees.
 */
#ifndef TIFA_CORPORA_TEST_UTIL_H
#define TIFA_CORPORA_TEST_UTIL_H

#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include <cmocka.h>

#include "corpora.h"

typedef struct loaded {
    tifa_doc **docs;
    size_t n;
    tifa_diag *diag;
    tifa_load_summary sum;
} loaded;

/* Loads paths (NULL-terminated) with options o (NULL: defaults). */
static inline void load_paths(loaded *out, const tifa_load_options *o,
                       const char *const *paths)
{
    memset(out, 0, sizeof *out);
    out->diag = tifa_diag_new();
    assert_non_null(out->diag);
    tifa_status st;
    tifa_loader *l = tifa_loader_new(o, out->diag, &st);
    assert_non_null(l);
    for (size_t i = 0; paths[i]; i++) tifa_loader_add_path(l, paths[i]);
    size_t cap = 0;
    tifa_doc *d;
    while ((st = tifa_loader_next(l, &d)) == TIFA_OK && d) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->docs = realloc(out->docs, cap * sizeof *out->docs);
            assert_non_null(out->docs);
        }
        out->docs[out->n++] = d;
    }
    assert_int_equal(st, TIFA_OK);
    tifa_loader_summary(l, &out->sum);
    tifa_loader_free(l);
}

static inline void load_one(loaded *out, const tifa_load_options *o, const char *path)
{
    const char *paths[] = {path, NULL};
    load_paths(out, o, paths);
}

static inline void load_memory(loaded *out, const tifa_load_options *o,
                        const char *name, const char *bytes, size_t n)
{
    memset(out, 0, sizeof *out);
    out->diag = tifa_diag_new();
    tifa_status st;
    tifa_loader *l = tifa_loader_new(o, out->diag, &st);
    assert_non_null(l);
    assert_int_equal(tifa_loader_add_memory(l, name, bytes, n), TIFA_OK);
    size_t cap = 0;
    tifa_doc *d;
    while ((st = tifa_loader_next(l, &d)) == TIFA_OK && d) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->docs = realloc(out->docs, cap * sizeof *out->docs);
        }
        out->docs[out->n++] = d;
    }
    assert_int_equal(st, TIFA_OK);
    tifa_loader_summary(l, &out->sum);
    tifa_loader_free(l);
}

static inline void free_loaded(loaded *x)
{
    for (size_t i = 0; i < x->n; i++) tifa_doc_free(x->docs[i]);
    free(x->docs);
    tifa_diag_free(x->diag);
    memset(x, 0, sizeof *x);
}

/* Is there a diagnostic of at least this severity whose message contains
 * needle (and whose file contains file_part, when given)? Returns it. */
static inline const tifa_diag_entry *find_diag(const tifa_diag *diag,
                                        const char *needle,
                                        const char *file_part)
{
    for (size_t i = 0; i < tifa_diag_size(diag); i++) {
        const tifa_diag_entry *e = tifa_diag_get(diag, i);
        if (needle && (!e->message || !strstr(e->message, needle))) continue;
        if (file_part && (!e->file || !strstr(e->file, file_part))) continue;
        return e;
    }
    return NULL;
}

static inline char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/tifa-corpora-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static inline int rm_cb(const char *path, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void tmpdir_remove(char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Writes bytes to dir/name; returns the new path (caller frees). */
static inline char *write_file(const char *dir, const char *name, const void *bytes,
                        size_t n)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    assert_non_null(p);
    memcpy(p, dir, strlen(dir));
    p[strlen(dir)] = '/';
    memcpy(p + strlen(dir) + 1, name, strlen(name) + 1);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    return p;
}

/* Writes parts random pieces of pool (np entries) to out (NUL-terminated;
 * the caller makes room for parts times the longest piece) and returns
 * the length.  The last `rare` pieces are drawn only one time in `odds`.
 * *seed is a linear congruential state the caller keeps. */
static inline size_t random_mix(char *out, const char *const *pool, size_t np,
                                int parts, size_t rare, unsigned odds,
                                unsigned *seed)
{
    size_t n = 0;
    for (int j = 0; j < parts; j++) {
        *seed = *seed * 1103515245u + 12345u;
        size_t k = (*seed >> 16) % np;
        if (rare && k >= np - rare && (*seed >> 8) % odds != 0)
            k %= np - rare;
        size_t len = strlen(pool[k]);
        memcpy(out + n, pool[k], len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

static inline char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[got] = '\0';
    if (n) *n = got;
    return buf;
}

static inline bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static inline bool ends_with(const char *s, const char *p)
{
    size_t a = strlen(s), b = strlen(p);
    return a >= b && strcmp(s + a - b, p) == 0;
}

#endif
