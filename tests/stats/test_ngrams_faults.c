/*
 * test_ngrams_faults.c — the n-gram engine when memory runs out.
 *
 * Allocation failures come from tests/fault_inject.h (the program is linked
 * with --wrap for malloc, calloc, realloc, mmap and mremap).  A scenario
 * (count documents on two workers, merge them, save and load a shard, write
 * ngrams.csv; and the same with a pair of level workers) is run again and
 * again, the k-th allocation failing in run k, until a run sees no failure.
 * Every run must end in one of two ways: an API call returns TIFA_ENOMEM
 * (and everything is freed: the sanitizer build checks for leaks and bad
 * accesses), or every call succeeds and ngrams.csv is byte for byte the one
 * of the run without failures, so a failure the engine tolerates never
 * changes a count.
 *
 * Two scenarios: many small documents (every small-table path, words
 * included), and documents over 20,000 ideographs, whose tables pass 2 MiB
 * and grow in place through mmap and mremap (only those calls fail there,
 * as failing each of its many small allocations too would take minutes).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stats.h"

#include "fault_inject.h"

/* ---------------------------------------------------------- the corpora -- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct corpus {
    tifa_doc *docs;
    size_t n;
} corpus;

/* n documents of len characters each from an alphabet of `alphabet`
 * ideographs starting at U+4E00, about one in `comma` a comma, in two
 * corpora. */
static corpus make_corpus(size_t n, size_t len, unsigned alphabet, unsigned comma,
                          uint64_t seed)
{
    corpus c = { calloc(n, sizeof(tifa_doc)), n };
    assert_non_null(c.docs);
    for (size_t i = 0; i < n; i++) {
        tifa_doc *d = &c.docs[i];
        d->text = malloc(3 * len + 1);
        assert_non_null(d->text);
        size_t b = 0;
        for (size_t k = 0; k < len; k++) {
            uint64_t r = rng_next(&seed);
            unsigned cp = r % comma == 0 ? 0xFF0C /* ， */ : 0x4E00 + (unsigned)(r >> 8) % alphabet;
            d->text[b++] = (char)(0xE0 | cp >> 12);
            d->text[b++] = (char)(0x80 | (cp >> 6 & 0x3F));
            d->text[b++] = (char)(0x80 | (cp & 0x3F));
            d->chars += cp != 0xFF0C;
        }
        d->text[b] = 0;
        d->text_len = b;
        d->corpus = tifa_strdup(i % 3 ? "beta" : "alpha");
        char id[32];
        snprintf(id, sizeof id, "d%zu", i);
        d->doc_id = tifa_strdup(id);
        d->index = i;
        assert_non_null(d->corpus);
        assert_non_null(d->doc_id);
    }
    return c;
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->docs[i].text);
        free(c->docs[i].corpus);
        free(c->docs[i].doc_id);
    }
    free(c->docs);
}

/* ---------------------------------------------------------- the scenario -- */

static char *tmp_path(const char *name)
{
    char *p = malloc(256);
    assert_non_null(p);
    snprintf(p, 256, "/tmp/tifa_test_ngrams_faults_%ld_%s", (long)getpid(), name);
    return p;
}

static const tifa_csv_options NO_BOM = { false, NULL };

/* Counts c on two engines made by `make` from parent (documents split, or
 * character levels 1-2 and 3-char_max over all documents), merges them into
 * parent, saves a shard, loads it and writes ngrams.csv from the loaded
 * engine to csv_path.  Returns the first status that is not TIFA_OK; frees
 * everything it made either way.  Armed throughout. */
static tifa_status scenario(const tifa_ngram_options *o, const corpus *c, bool levels,
                            const char *shard, const char *csv_path)
{
    tifa_ngrams *w[2] = { NULL, NULL }, *loaded = NULL;
    tifa_status st = TIFA_OK;
    tifa_ngrams *parent = tifa_ngrams_new(o, &st);
    for (int k = 0; k < 2 && st == TIFA_OK; k++)
        w[k] = levels ? tifa_ngrams_new_worker_levels(parent, k ? 3 : 1,
                                                      k ? o->char_max : 2, &st)
                      : tifa_ngrams_new_worker(parent, &st);
    for (size_t i = 0; i < c->n && st == TIFA_OK; i++)
        for (int k = 0; k < 2 && st == TIFA_OK; k++)
            if (levels || (int)(i % 2) == k)
                st = tifa_ngrams_add_doc(w[k], &c->docs[i]);
    for (int k = 0; k < 2 && st == TIFA_OK; k++)
        st = tifa_ngrams_merge(parent, w[k]);
    if (st == TIFA_OK)
        st = tifa_ngrams_save(parent, shard);
    if (st == TIFA_OK)
        loaded = tifa_ngrams_load(shard, &st);
    if (st == TIFA_OK)
        st = tifa_ngrams_write(loaded, csv_path, &NO_BOM, NULL);
    tifa_ngrams_free(loaded);
    tifa_ngrams_free(w[0]);
    tifa_ngrams_free(w[1]);
    tifa_ngrams_free(parent);
    return st;
}

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    assert_int_equal(tifa_read_file(path, &data, len), TIFA_OK);
    return data;
}

/* Runs the scenario with the k-th counted allocation failing, k = 1, 2, …
 * until a run has no failure; returns the number of failing runs. */
static long fail_each(const tifa_ngram_options *o, const corpus *c, bool levels,
                      int which)
{
    char *shard = tmp_path("s.shard"), *want_path = tmp_path("want.csv"),
         *got_path = tmp_path("got.csv");
    assert_int_equal(scenario(o, c, levels, shard, want_path), TIFA_OK);
    size_t want_len;
    char *want = slurp(want_path, &want_len);
    long k = 1;
    for (;; k++) {
        unlink(got_path);
        inj = (injection){ true, which, k, 0, false, 0, 0 };
        tifa_status st = scenario(o, c, levels, shard, got_path);
        inj.armed = false;
        if (!inj.failed) {
            assert_int_equal(st, TIFA_OK);
            break;
        }
        if (st == TIFA_ENOMEM)
            continue;
        if (st != TIFA_OK)
            fail_msg("allocation %ld failed: status %d, not TIFA_ENOMEM", k, (int)st);
        /* a tolerated failure: the output must not change */
        size_t got_len;
        char *got = slurp(got_path, &got_len);
        if (got_len != want_len || memcmp(got, want, want_len) != 0)
            fail_msg("allocation %ld failed, the run succeeded, but ngrams.csv differs", k);
        free(got);
    }
    free(want);
    unlink(shard);
    unlink(want_path);
    unlink(got_path);
    free(shard);
    free(want_path);
    free(got_path);
    return k - 1;
}

/* Small documents: every allocation of the scenario fails once, for
 * workers split by document (characters and words) and for level workers. */
static void test_every_allocation(void **state)
{
    (void)state;
    corpus c = make_corpus(6, 200, 60, 11, 20261129);
    tifa_ngram_options o;
    memset(&o, 0, sizeof o);
    o.char_max = 5;
    o.word_max = 2;
    long runs = fail_each(&o, &c, false, FAIL_ALL);
    assert_true(runs > 100); /* the scenario allocates; the wrappers see it */
    o.word_max = 0;
    assert_true(fail_each(&o, &c, true, FAIL_ALL) > 50);
    free_corpus(&c);
}

/* Tables past 2 MiB: every mmap and mremap fails once (new tables, growth
 * in place, shard loading), documents split and level workers. */
static void test_every_mapping(void **state)
{
    (void)state;
    /* about 108,000 distinct trigrams per worker (both halves of the
     * documents split, all of them for the level worker of n = 3): the
     * trigram table passes 2 MiB (87,381 slots) at 69,905 entries and grows
     * in place at 104,858 */
    corpus c = make_corpus(6, 36000, 20000, 1000, 7);
    tifa_ngram_options o;
    memset(&o, 0, sizeof o);
    o.char_max = 3;
    o.min_count = 2; /* the rows written are not the point here */
    for (int levels = 0; levels < 2; levels++) {
        long runs = fail_each(&o, &c, levels, FAIL_MAPPINGS);
        /* the last run, without a failure, counted every call: 2 MiB tables
         * were made and grew in place */
        assert_int_equal(runs, inj.mmaps + inj.mremaps);
        assert_true(inj.mmaps >= 2);
        assert_true(inj.mremaps >= 1);
    }
    free_corpus(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation),
        cmocka_unit_test(test_every_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
