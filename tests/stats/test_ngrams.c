/*
 * test_ngrams.c — correctness of the n-gram engine (stats/ngrams.c).
 *
 * The central check compares tifa's character n-gram counts on a generated
 * corpus (deterministic PRNG; Han from the BMP and from Extension B mixed with
 * ASCII, Latin-1, CJK punctuation and emoji; two corpora; duplicates; one
 * document of 70,000 characters) with a deliberately simple
 * and independent routine: every n-gram of every document is written out as
 * a string into one array, the array is qsorted and run-length counted.  The
 * reference knows which characters are Han from the generator, not from a
 * UTF-8 decoder or ICU.  Counts and document frequencies must be equal for
 * n = 1..6.  Further tests: small hand-worked cases, filters and sort order,
 * worker split + merge, merge of two shards, save/load round trip and damage
 * detection, and the memory-budget spill path — each must give byte-identical
 * ngrams.csv to a single in-memory run; word n-grams against a reference that
 * walks the loader's sentence and word segmentation itself; keyness rows;
 * the parallel write (any thread count) against the serial one.
 */
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

/* ------------------------------------------------------------ helpers -- */

typedef struct tdoc {
    tifa_doc doc;
    /* tokens: the generator's view, for the reference counter */
    char **tok;   /* UTF-8 of each character */
    bool *han;    /* whether it is Han */
    size_t n_tok;
} tdoc;

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static const char *const HAN[] = {
    "中", "国", "人", "民", "的", "发", "展", "改", "革", "新",
    "时", "代", "特", "色", "社", "会", "主", "义", "一", "二",
    "零", "距", "离", "群", "众", "路", "线", "〇", "々", "𠀀",
    "𪚥", "龘", "㐀", "乡", "村",
};
static const char *const NON_HAN[] = {
    "a", "Z", "7", " ", "\n", "，", "。", "“", "”", "、", "é", "😀", "ー", "ア", "-",
};

static char *xstrdup(const char *s)
{
    char *d = tifa_strdup(s);
    assert_non_null(d);
    return d;
}

/* A generated document of n_tok characters, Han with probability han_pct. */
static void make_doc(tdoc *d, uint64_t *rng, size_t n_tok, unsigned han_pct,
                     const char *corpus, size_t index)
{
    memset(d, 0, sizeof *d);
    d->tok = calloc(n_tok, sizeof *d->tok);
    d->han = calloc(n_tok, sizeof *d->han);
    assert_non_null(d->tok);
    assert_non_null(d->han);
    tifa_buf text = { 0 };
    size_t chars = 0;
    size_t n_han = sizeof HAN / sizeof *HAN, n_non = sizeof NON_HAN / sizeof *NON_HAN;
    for (size_t i = 0; i < n_tok; i++) {
        uint64_t r = rng_next(rng);
        bool han = r % 100 < han_pct;
        /* skewed choice, so that longer n-grams repeat */
        uint64_t pick = (r >> 8) % 1000;
        size_t k = han ? (pick < 600 ? pick % 8 : pick % n_han) : (size_t)(pick % n_non);
        const char *s = han ? HAN[k] : NON_HAN[k];
        d->tok[i] = (char *)s;
        d->han[i] = han;
        chars += han;
        assert_int_equal(tifa_buf_puts(&text, s), TIFA_OK);
    }
    d->n_tok = n_tok;
    d->doc.text = tifa_buf_detach(&text, &d->doc.text_len);
    if (!d->doc.text)
        d->doc.text = xstrdup("");
    d->doc.chars = chars;
    d->doc.corpus = xstrdup(corpus);
    d->doc.index = index;
    char id[32];
    snprintf(id, sizeof id, "d%zu", index);
    d->doc.doc_id = xstrdup(id);
}

static void free_docs(tdoc *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].doc.text);
        free(d[i].doc.corpus);
        free(d[i].doc.doc_id);
        free(d[i].doc.duplicate_of);
        free(d[i].tok);
        free(d[i].han);
    }
    free(d);
}

/* The generated corpus: corpora "beta" and "alpha", a duplicate, an empty
 * document, a document without Han, and one longer than the engine's chunk. */
static tdoc *make_corpus(size_t *n_out)
{
    const size_t n = 60;
    tdoc *d = calloc(n, sizeof *d);
    assert_non_null(d);
    uint64_t rng = 20260415;
    for (size_t i = 0; i < n; i++) {
        size_t len = 1 + rng_next(&rng) % 3000;
        unsigned pct = 70 + (unsigned)(rng_next(&rng) % 30);
        if (i == 7)
            len = 70000; /* > 64 Ki characters: chunk boundaries */
        if (i == 11)
            len = 0;
        if (i == 13)
            pct = 0;
        make_doc(&d[i], &rng, len, pct, i % 3 ? "beta" : "alpha", i);
    }
    d[20].doc.duplicate_of = xstrdup("d19");
    *n_out = n;
    return d;
}

static tifa_ngram_options char_opts(int lo, int hi)
{
    tifa_ngram_options o;
    memset(&o, 0, sizeof o);
    o.char_min = lo;
    o.char_max = hi;
    return o;
}

static char *tmp_path(const char *name)
{
    static const char *const dirs[] = { "TMPDIR", NULL };
    const char *base = getenv(dirs[0]);
    if (!base)
        base = "/tmp";
    char *p = malloc(strlen(base) + strlen(name) + 64);
    assert_non_null(p);
    sprintf(p, "%s/tifa_test_ngrams_%ld_%s", base, (long)getpid(), name);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    assert_int_equal(tifa_read_file(path, &data, len), TIFA_OK);
    return data;
}

static const tifa_csv_options NO_BOM = { false, NULL };

/* Writes ngrams.csv of ng and returns its bytes (caller frees). */
static char *csv_of(tifa_ngrams *ng, const char *name, size_t *len)
{
    char *path = tmp_path(name);
    assert_int_equal(tifa_ngrams_write(ng, path, &NO_BOM, NULL), TIFA_OK);
    char *data = slurp(path, len);
    unlink(path);
    free(path);
    return data;
}

static tifa_ngrams *count_all(const tifa_ngram_options *o, tdoc *d, size_t n)
{
    tifa_status st;
    tifa_ngrams *ng = tifa_ngrams_new(o, &st);
    assert_int_equal(st, TIFA_OK);
    assert_non_null(ng);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tifa_ngrams_add_doc(ng, &d[i].doc), TIFA_OK);
    return ng;
}

/* Asserts that ng writes exactly the len bytes of want as ngrams.csv. */
static void assert_csv_is(tifa_ngrams *ng, const char *name, const char *want, size_t len)
{
    size_t got_len;
    char *got = csv_of(ng, name, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    free(got);
}

/* Counts d[0..n) on k worker engines (document i on worker i % k, or in k
 * contiguous shares), merged in worker order into a parent: the pipeline's
 * scheme.  Caller frees the parent. */
static tifa_ngrams *count_by_workers(const tifa_ngram_options *o, tdoc *d, size_t n,
                                     int k, bool contiguous)
{
    tifa_status st;
    tifa_ngrams *parent = tifa_ngrams_new(o, &st);
    assert_non_null(parent);
    tifa_ngrams *w[8];
    assert_true(k >= 1 && k <= 8);
    for (int j = 0; j < k; j++) {
        w[j] = tifa_ngrams_new_worker(parent, &st);
        assert_non_null(w[j]);
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = contiguous ? i * (size_t)k / n : i % (size_t)k;
        assert_int_equal(tifa_ngrams_add_doc(w[j], &d[i].doc), TIFA_OK);
    }
    for (int j = 0; j < k; j++) {
        assert_int_equal(tifa_ngrams_merge(parent, w[j]), TIFA_OK);
        tifa_ngrams_free(w[j]);
    }
    return parent;
}

/* -------------------------------------------- the independent reference -- */

typedef struct ref_item {
    char *key; /* "corpus\x01n\x01ngram" */
    size_t doc;
} ref_item;

static int ref_cmp(const void *pa, const void *pb)
{
    const ref_item *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

typedef struct ref_count {
    char *key;
    long count, docs;
} ref_count;

/* Every window of every document as a string, sorted, run-length counted. */
static ref_count *reference_counts(tdoc *d, size_t n, int nmax, size_t *n_out)
{
    size_t cap = 1024, len = 0;
    ref_item *items = malloc(cap * sizeof *items);
    assert_non_null(items);
    for (size_t i = 0; i < n; i++) {
        if (d[i].doc.duplicate_of)
            continue;
        for (int g = 1; g <= nmax; g++) {
            for (size_t s = 0; s + (size_t)g <= d[i].n_tok; s++) {
                bool ok = true;
                for (int j = 0; j < g && ok; j++)
                    ok = d[i].han[s + (size_t)j];
                if (!ok)
                    continue;
                char buf[128];
                int w = snprintf(buf, sizeof buf, "%s\x01%d\x01", d[i].doc.corpus, g);
                for (int j = 0; j < g; j++)
                    w += snprintf(buf + w, sizeof buf - (size_t)w, "%s", d[i].tok[s + (size_t)j]);
                if (len == cap) {
                    cap *= 2;
                    items = realloc(items, cap * sizeof *items);
                    assert_non_null(items);
                }
                items[len].key = xstrdup(buf);
                items[len].doc = i;
                len++;
            }
        }
    }
    qsort(items, len, sizeof *items, ref_cmp);
    ref_count *out = calloc(len + 1, sizeof *out);
    assert_non_null(out);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (m && !strcmp(items[i].key, out[m - 1].key)) {
            out[m - 1].count++;
            if (items[i].doc != items[i - 1].doc)
                out[m - 1].docs++;
            free(items[i].key);
            continue;
        }
        out[m].key = items[i].key;
        out[m].count = 1;
        out[m].docs = 1;
        m++;
    }
    free(items);
    *n_out = m;
    return out;
}

static int rc_cmp(const void *pa, const void *pb)
{
    return strcmp(((const ref_count *)pa)->key, ((const ref_count *)pb)->key);
}

/* Reads ngrams.csv back as ref_counts (unit must be char). */
static ref_count *read_csv_counts(const char *path, size_t *n_out)
{
    tifa_status st;
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    char **f;
    size_t nf;
    assert_int_equal(tifa_csv_read_row(r, &f, &nf), TIFA_OK);
    assert_int_equal(nf, 7);
    assert_string_equal(f[0], "corpus");
    assert_string_equal(f[3], "ngram");
    assert_string_equal(f[6], "per_10k");
    size_t cap = 1024, m = 0;
    ref_count *out = malloc(cap * sizeof *out);
    assert_non_null(out);
    while ((st = tifa_csv_read_row(r, &f, &nf)) == TIFA_OK) {
        assert_int_equal(nf, 7);
        assert_string_equal(f[1], "char");
        if (m == cap) {
            cap *= 2;
            out = realloc(out, cap * sizeof *out);
            assert_non_null(out);
        }
        size_t kl = strlen(f[0]) + strlen(f[2]) + strlen(f[3]) + 3;
        out[m].key = malloc(kl);
        assert_non_null(out[m].key);
        snprintf(out[m].key, kl, "%s\x01%s\x01%s", f[0], f[2], f[3]);
        out[m].count = atol(f[4]);
        out[m].docs = atol(f[5]);
        m++;
    }
    assert_int_equal(st, TIFA_EEMPTY);
    tifa_csv_reader_close(r);
    *n_out = m;
    return out;
}

static void free_counts(ref_count *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].key);
    free(c);
}

/* Asserts the order of ngrams.csv: corpus, unit, n ascending, then count
 * descending, then code-point (byte) order of the n-gram. */
static void assert_sorted(const char *path)
{
    tifa_status st;
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    char **f;
    size_t nf, rows = 0;
    char prev[4][256] = { "", "", "", "" };
    long prev_n = 0, prev_count = 0;
    assert_int_equal(tifa_csv_read_row(r, &f, &nf), TIFA_OK); /* header */
    while (tifa_csv_read_row(r, &f, &nf) == TIFA_OK) {
        long n = atol(f[2]), count = atol(f[4]);
        if (rows) {
            int c = strcmp(prev[0], f[0]);
            if (!c)
                c = strcmp(prev[1], f[1]);
            if (!c)
                c = (prev_n > n) - (prev_n < n);
            assert_true(c <= 0);
            if (!c) {
                assert_true(prev_count >= count);
                if (prev_count == count)
                    assert_true(strcmp(prev[3], f[3]) < 0);
            }
        }
        snprintf(prev[0], sizeof prev[0], "%s", f[0]);
        snprintf(prev[1], sizeof prev[1], "%s", f[1]);
        snprintf(prev[3], sizeof prev[3], "%s", f[3]);
        prev_n = n;
        prev_count = count;
        rows++;
    }
    tifa_csv_reader_close(r);
    assert_true(rows > 0);
}

/* ------------------------------------------------------------- tests -- */

static void test_against_reference(void **state)
{
    (void)state;
    size_t n;
    tdoc *d = make_corpus(&n);
    tifa_ngram_options o = char_opts(1, 6);
    tifa_ngrams *ng = count_all(&o, d, n);
    char *path = tmp_path("ref.csv");
    assert_int_equal(tifa_ngrams_write(ng, path, &NO_BOM, NULL), TIFA_OK);
    assert_sorted(path);
    size_t nt, nr;
    ref_count *t = read_csv_counts(path, &nt);
    ref_count *r = reference_counts(d, n, 6, &nr);
    qsort(t, nt, sizeof *t, rc_cmp);
    assert_true(nr > 20000); /* the corpus is not trivial */
    assert_int_equal(nt, nr);
    for (size_t i = 0; i < nr; i++) {
        assert_string_equal(t[i].key, r[i].key);
        assert_int_equal(t[i].count, r[i].count);
        assert_int_equal(t[i].docs, r[i].docs);
    }
    free_counts(t, nt);
    free_counts(r, nr);
    unlink(path);
    free(path);
    tifa_ngrams_free(ng);
    free_docs(d, n);
}


/* Tables past 2 MiB are mappings of their own and grow in place (mremap;
 * docs/ngrams.md).  Documents of characters drawn from 20,000 ideographs make
 * almost every 3- and 4-gram new, so those tables grow in place several
 * times (about 230,000 distinct 4-grams: 2 MiB is 87,381 slots).  Checked
 * against the independent reference, then two workers merged (the second
 * merge reserves room in a large table) and a shard round trip (loading
 * grows the tables entry by entry): byte-identical. */
static void test_large_tables(void **state)
{
    (void)state;
    enum { ALPHABET = 20000, DOCS = 12, PER_DOC = 25000 };
    char(*glyph)[5] = calloc(ALPHABET, sizeof *glyph);
    assert_non_null(glyph);
    for (unsigned i = 0; i < ALPHABET; i++) {
        unsigned cp = 0x4E00 + i; /* CJK Unified Ideographs: all Han */
        glyph[i][0] = (char)(0xE0 | cp >> 12);
        glyph[i][1] = (char)(0x80 | (cp >> 6 & 0x3F));
        glyph[i][2] = (char)(0x80 | (cp & 0x3F));
    }
    tdoc *d = calloc(DOCS, sizeof *d);
    assert_non_null(d);
    uint64_t rng = 20261129;
    for (size_t i = 0; i < DOCS; i++) {
        d[i].tok = calloc(PER_DOC, sizeof *d[i].tok);
        d[i].han = calloc(PER_DOC, sizeof *d[i].han);
        assert_non_null(d[i].tok);
        assert_non_null(d[i].han);
        tifa_buf text = { 0 };
        for (size_t k = 0; k < PER_DOC; k++) {
            uint64_t r = rng_next(&rng);
            bool han = r % 16 != 0; /* a break now and then */
            d[i].tok[k] = han ? glyph[(r >> 8) % ALPHABET] : (char *)"，";
            d[i].han[k] = han;
            d[i].doc.chars += han;
            assert_int_equal(tifa_buf_puts(&text, d[i].tok[k]), TIFA_OK);
        }
        d[i].n_tok = PER_DOC;
        d[i].doc.text = tifa_buf_detach(&text, &d[i].doc.text_len);
        d[i].doc.corpus = xstrdup("wide");
        char id[32];
        snprintf(id, sizeof id, "w%zu", i);
        d[i].doc.doc_id = xstrdup(id);
        d[i].doc.index = i;
    }
    tifa_ngram_options o = char_opts(1, 4);
    tifa_ngrams *one = count_all(&o, d, DOCS);
    char *path = tmp_path("large.csv");
    assert_int_equal(tifa_ngrams_write(one, path, &NO_BOM, NULL), TIFA_OK);
    size_t nt, nr;
    ref_count *t = read_csv_counts(path, &nt);
    ref_count *r = reference_counts(d, DOCS, 4, &nr);
    qsort(t, nt, sizeof *t, rc_cmp);
    assert_int_equal(nt, nr);
    size_t four = 0;
    for (size_t i = 0; i < nr; i++)
        four += strncmp(r[i].key, "wide\x01" "4\x01", 7) == 0;
    /* past 2 MiB (87,381 slots) at 70,000 entries: this table grew in
     * place at least three times */
    assert_true(four > 200000);
    for (size_t i = 0; i < nr; i++) {
        assert_string_equal(t[i].key, r[i].key);
        assert_int_equal(t[i].count, r[i].count);
        assert_int_equal(t[i].docs, r[i].docs);
    }
    free_counts(t, nt);
    free_counts(r, nr);
    size_t l1;
    char *a = slurp(path, &l1);
    unlink(path);
    free(path);

    tifa_status st;
    tifa_ngrams *parent = count_by_workers(&o, d, DOCS, 2, true);
    assert_csv_is(parent, "large-merged.csv", a, l1);

    char *shard = tmp_path("large.shard");
    assert_int_equal(tifa_ngrams_save(parent, shard), TIFA_OK);
    tifa_ngrams *loaded = tifa_ngrams_load(shard, &st);
    assert_non_null(loaded);
    assert_csv_is(loaded, "large-loaded.csv", a, l1);
    unlink(shard);
    free(shard);

    free(a);
    tifa_ngrams_free(loaded);
    tifa_ngrams_free(parent);
    tifa_ngrams_free(one);
    free_docs(d, DOCS); /* the token arrays; the tokens point into glyph */
    free(glyph);
}

static tdoc *docs_from_texts(const char *const *texts, const char *const *corpora,
                             size_t n)
{
    tdoc *d = calloc(n, sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        d[i].doc.text = xstrdup(texts[i]);
        d[i].doc.text_len = strlen(texts[i]);
        d[i].doc.chars = tifa_count_han(texts[i], strlen(texts[i]));
        d[i].doc.corpus = xstrdup(corpora[i]);
        d[i].doc.index = i;
    }
    return d;
}

static void test_hand_worked(void **state)
{
    (void)state;
    const char *texts[] = { "中国人民。中国！abc人民", "人民" };
    const char *corp[] = { "c", "c" };
    tdoc *d = docs_from_texts(texts, corp, 2);
    tifa_ngram_options o = char_opts(1, 4);
    tifa_ngrams *ng = count_all(&o, d, 2);
    assert_int_equal(tifa_ngrams_distinct(ng, TIFA_UNIT_CHAR, 1), 4);
    assert_int_equal(tifa_ngrams_distinct(ng, TIFA_UNIT_CHAR, 2), 3);
    assert_int_equal(tifa_ngrams_distinct(ng, TIFA_UNIT_CHAR, 3), 2);
    assert_int_equal(tifa_ngrams_distinct(ng, TIFA_UNIT_CHAR, 4), 1);
    size_t len;
    char *csv = csv_of(ng, "hand.csv", &len);
    /* 10 Han characters: per_10k = count * 1000 */
    const char *want =
        "corpus,unit,n,ngram,count,docs,per_10k\r\n"
        "c,char,1,人,3,2,3000.0000\r\n"
        "c,char,1,民,3,2,3000.0000\r\n"
        "c,char,1,中,2,1,2000.0000\r\n"
        "c,char,1,国,2,1,2000.0000\r\n"
        "c,char,2,人民,3,2,3000.0000\r\n"
        "c,char,2,中国,2,1,2000.0000\r\n"
        "c,char,2,国人,1,1,1000.0000\r\n"
        "c,char,3,中国人,1,1,1000.0000\r\n"
        "c,char,3,国人民,1,1,1000.0000\r\n"
        "c,char,4,中国人民,1,1,1000.0000\r\n";
    assert_string_equal(csv, want);
    free(csv);

    /* only unigrams counted (no carry-over between batches) */
    tifa_ngram_options o1 = char_opts(1, 1);
    tifa_ngrams *uni = count_all(&o1, d, 2);
    csv = csv_of(uni, "hand1.csv", &len);
    assert_memory_equal(csv, want, strstr(want, "c,char,2,") - want);
    assert_null(strstr(csv, "c,char,2,"));
    free(csv);
    tifa_ngrams_free(uni);

    /* filters: min_count 2, n = 2..3, top_k 1, stop list */
    char *stop = tmp_path("stop.txt");
    const char *stop_text = "# comment\n人民\r\n";
    assert_int_equal(tifa_write_file_atomic(stop, stop_text, strlen(stop_text)), TIFA_OK);
    tifa_ngram_options f = char_opts(2, 4);
    f.min_count = 2;
    f.top_k = 1;
    f.stoplist = stop;
    assert_int_equal(tifa_ngrams_set_filters(ng, &f), TIFA_OK);
    csv = csv_of(ng, "hand2.csv", &len);
    assert_string_equal(csv, "corpus,unit,n,ngram,count,docs,per_10k\r\n"
                             "c,char,2,中国,2,1,2000.0000\r\n");
    free(csv);
    f.char_max = 5;
    assert_int_equal(tifa_ngrams_set_filters(ng, &f), TIFA_EUSAGE);
    unlink(stop);
    free(stop);
    tifa_ngrams_free(ng);
    free_docs(d, 2);
}

static void test_bad_options(void **state)
{
    (void)state;
    tifa_status st;
    tifa_ngram_options o = char_opts(1, 9);
    assert_null(tifa_ngrams_new(&o, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    o = char_opts(3, 2);
    assert_null(tifa_ngrams_new(&o, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    o = char_opts(1, 2);
    o.word_min = 1;
    o.word_max = 5;
    assert_null(tifa_ngrams_new(&o, &st));
    assert_int_equal(st, TIFA_EUSAGE);
}

/* Workers over a round-robin split, merged in order == one run (n = 1..8). */
static void test_workers_equal(void **state)
{
    (void)state;
    size_t n;
    tdoc *d = make_corpus(&n);
    tifa_ngram_options o = char_opts(1, 8);
    tifa_ngrams *one = count_all(&o, d, n);
    size_t l1;
    char *a = csv_of(one, "one.csv", &l1);

    tifa_ngrams *parent = count_by_workers(&o, d, n, 3, false);
    assert_csv_is(parent, "workers.csv", a, l1);
    free(a);
    tifa_ngrams_free(parent);
    tifa_ngrams_free(one);
    free_docs(d, n);
}

/* Workers split by level (the pipeline with an even number of threads and
 * character n-grams only): every worker sees the documents of its slice and
 * counts only n in its range.  Merged, they equal one engine counting alone,
 * and a pair over all documents even saves the same shard bytes, since each
 * of its tables was filled in document order by one worker (the ids are the
 * same).  Checked in both merge orders and with two slices of two levels. */
static void test_level_workers(void **state)
{
    (void)state;
    size_t n;
    tdoc *d = make_corpus(&n);
    tifa_ngram_options o = char_opts(1, 6);
    tifa_ngrams *one = count_all(&o, d, n);
    size_t l1, ls1, ls2;
    char *a = csv_of(one, "one.csv", &l1);
    tifa_status st;

    for (int order = 0; order < 2; order++) {
        tifa_ngrams *parent = tifa_ngrams_new(&o, &st);
        tifa_ngrams *low = tifa_ngrams_new_worker_levels(parent, 1, 2, &st);
        assert_non_null(low);
        tifa_ngrams *high = tifa_ngrams_new_worker_levels(parent, 3, 6, &st);
        assert_non_null(high);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(tifa_ngrams_add_doc(low, &d[i].doc), TIFA_OK);
            assert_int_equal(tifa_ngrams_add_doc(high, &d[i].doc), TIFA_OK);
        }
        assert_int_equal(tifa_ngrams_merge(parent, order ? high : low), TIFA_OK);
        assert_int_equal(tifa_ngrams_merge(parent, order ? low : high), TIFA_OK);
        tifa_ngrams_free(low);
        tifa_ngrams_free(high);
        assert_csv_is(parent, "levels.csv", a, l1);
        if (order == 0) {
            char *p1 = tmp_path("one.shard"), *p2 = tmp_path("levels.shard");
            assert_int_equal(tifa_ngrams_save(one, p1), TIFA_OK);
            assert_int_equal(tifa_ngrams_save(parent, p2), TIFA_OK);
            char *s1 = slurp(p1, &ls1), *s2 = slurp(p2, &ls2);
            assert_int_equal(ls1, ls2);
            assert_memory_equal(s1, s2, ls1);
            free(s1);
            free(s2);
            unlink(p1);
            unlink(p2);
            free(p1);
            free(p2);
        }
        tifa_ngrams_free(parent);
    }

    /* two slices of the documents, each counted by a pair of levels (the
     * second pair's tables are merged entry by entry, 4-grams and up
     * translated through the trigram ids) */
    tifa_ngrams *parent = tifa_ngrams_new(&o, &st);
    tifa_ngrams *w[4];
    for (int k = 0; k < 4; k++) {
        w[k] = tifa_ngrams_new_worker_levels(parent, k % 2 ? 3 : 1, k % 2 ? 6 : 2, &st);
        assert_non_null(w[k]);
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            assert_int_equal(tifa_ngrams_add_doc(w[(i < n / 3 ? 0 : 2) + k], &d[i].doc),
                             TIFA_OK);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(tifa_ngrams_merge(parent, w[k]), TIFA_OK);
        tifa_ngrams_free(w[k]);
    }
    assert_csv_is(parent, "slices.csv", a, l1);
    tifa_ngrams_free(parent);

    /* what a level worker cannot be */
    assert_null(tifa_ngrams_new_worker_levels(one, 4, 6, &st)); /* no trigram ids */
    assert_int_equal(st, TIFA_EUSAGE);
    assert_null(tifa_ngrams_new_worker_levels(one, 1, 7, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    assert_null(tifa_ngrams_new_worker_levels(one, 3, 2, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    tifa_ngram_options ow = o;
    ow.word_max = 2;
    tifa_ngrams *words = tifa_ngrams_new(&ow, &st);
    assert_null(tifa_ngrams_new_worker_levels(words, 3, 6, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    tifa_ngrams_free(words);
    tifa_ngram_options ob = o;
    ob.memory_budget = 1 << 20;
    tifa_ngrams *budget = tifa_ngrams_new(&ob, &st);
    assert_null(tifa_ngrams_new_worker_levels(budget, 1, 2, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    tifa_ngrams_free(budget);

    free(a);
    tifa_ngrams_free(one);
    free_docs(d, n);
}

/* Two shards saved, loaded and merged == one run; a damaged shard is
 * rejected. */
static void test_shards(void **state)
{
    (void)state;
    size_t n;
    tdoc *d = make_corpus(&n);
    tifa_ngram_options o = char_opts(1, 6);
    o.min_count = 2;
    tifa_ngrams *one = count_all(&o, d, n);
    size_t l1, l2;
    char *a = csv_of(one, "one.csv", &l1);

    tifa_ngrams *sa = count_all(&o, d, n / 2);
    tifa_ngrams *sb = count_all(&o, d + n / 2, n - n / 2);
    char *pa = tmp_path("a.shard"), *pb = tmp_path("b.shard");
    assert_int_equal(tifa_ngrams_save(sa, pa), TIFA_OK);
    assert_int_equal(tifa_ngrams_save(sb, pb), TIFA_OK);

    /* round trip: a loaded shard writes what the original writes */
    tifa_status st;
    tifa_ngrams *la = tifa_ngrams_load(pa, &st); /* carries min_count 2 */
    assert_int_equal(st, TIFA_OK);
    char *x = csv_of(sa, "sa.csv", &l2);
    assert_csv_is(la, "la.csv", x, l2);
    free(x);

    tifa_ngrams *lb = tifa_ngrams_load(pb, &st);
    assert_int_equal(st, TIFA_OK);
    assert_int_equal(tifa_ngrams_merge(la, lb), TIFA_OK);
    assert_csv_is(la, "merged.csv", a, l1);

    /* merged again and saved: still loads and still equal */
    assert_int_equal(tifa_ngrams_save(la, pa), TIFA_OK);
    tifa_ngrams *lc = tifa_ngrams_load(pa, &st);
    assert_non_null(lc);
    assert_csv_is(lc, "merged2.csv", a, l1);
    tifa_ngrams_free(lc);

    /* damage: one flipped byte, a truncated file, garbage */
    size_t len;
    char *raw = slurp(pb, &len);
    raw[len / 2] ^= 0x40;
    assert_int_equal(tifa_write_file_atomic(pb, raw, len), TIFA_OK);
    assert_null(tifa_ngrams_load(pb, &st));
    assert_int_equal(st, TIFA_EFORMAT);
    raw[len / 2] ^= 0x40;
    assert_int_equal(tifa_write_file_atomic(pb, raw, len - 9), TIFA_OK);
    assert_null(tifa_ngrams_load(pb, &st));
    assert_int_equal(st, TIFA_EFORMAT);
    assert_int_equal(tifa_write_file_atomic(pb, "hello", 5), TIFA_OK);
    assert_null(tifa_ngrams_load(pb, &st));
    assert_int_equal(st, TIFA_EFORMAT);
    free(raw);

    /* incompatible shards do not merge */
    tifa_ngram_options o4 = char_opts(1, 4);
    tifa_ngrams *other = tifa_ngrams_new(&o4, &st);
    assert_int_equal(tifa_ngrams_merge(la, other), TIFA_EUSAGE);
    tifa_ngrams_free(other);

    unlink(pa);
    unlink(pb);
    free(pa);
    free(pb);
    free(a);
    tifa_ngrams_free(la);
    tifa_ngrams_free(lb);
    tifa_ngrams_free(sa);
    tifa_ngrams_free(sb);
    tifa_ngrams_free(one);
    free_docs(d, n);
}

/* A memory budget far below the tables: the tables spill to runs, and so do
 * the rows to be written; same output. */
static void test_memory_budget(void **state)
{
    (void)state;
    size_t n;
    tdoc *d = make_corpus(&n);
    tifa_ngram_options o = char_opts(1, 8);
    o.min_docs = 1; /* every row is written: the rows spill to sorted runs too */
    tifa_ngrams *one = count_all(&o, d, n);
    size_t l1;
    char *a = csv_of(one, "one.csv", &l1);
    size_t full = tifa_ngrams_memory(one);

    o.memory_budget = full / 4;
    tifa_status st;
    tifa_ngrams *parent = tifa_ngrams_new(&o, &st);
    tifa_ngrams *w[2] = { tifa_ngrams_new_worker(parent, &st),
                          tifa_ngrams_new_worker(parent, &st) };
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tifa_ngrams_add_doc(w[i % 2], &d[i].doc), TIFA_OK);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(tifa_ngrams_merge(parent, w[k]), TIFA_OK);
        tifa_ngrams_free(w[k]);
    }
    char *sp = tmp_path("s.shard");
    assert_int_equal(tifa_ngrams_save(parent, sp), TIFA_ELIMIT);
    free(sp);
    assert_csv_is(parent, "budget.csv", a, l1);
    /* writing twice gives the same again */
    assert_csv_is(parent, "budget2.csv", a, l1);
    free(a);
    tifa_ngrams_free(parent);
    tifa_ngrams_free(one);
    free_docs(d, n);
}

/* Many documents, long and short, counted in batches of 64 Ki characters
 * (windows across batch boundaries, documents split across batches, several
 * documents per batch, a change of corpus) against the same documents
 * counted one by one (which a memory budget forces), n = 1..8. */
static void test_batches(void **state)
{
    (void)state;
    const size_t n = 24;
    tdoc *d = calloc(n, sizeof *d);
    assert_non_null(d);
    uint64_t rng = 77;
    for (size_t i = 0; i < n; i++)
        make_doc(&d[i], &rng, i % 5 ? 100 + (size_t)(rng_next(&rng) % 40000) : 70000, 92,
                 i < 16 ? "one" : "two", i);
    tifa_ngram_options o = char_opts(1, 8);
    tifa_ngrams *a = count_all(&o, d, n);
    assert_true(tifa_ngrams_distinct(a, TIFA_UNIT_CHAR, 4) > 10000);
    o.memory_budget = (size_t)1 << 40; /* never spills, but syncs per document */
    tifa_ngrams *b = count_all(&o, d, n);
    size_t la;
    char *x = csv_of(a, "batch_a.csv", &la);
    assert_csv_is(b, "batch_b.csv", x, la);
    free(x);
    tifa_ngrams_free(a);
    tifa_ngrams_free(b);
    free_docs(d, n);
}

/* ------------------------------------------------------- word n-grams -- */

typedef struct wref {
    ref_item *items;
    size_t n, cap;
    char **words; /* words of the current sentence, NULL = break */
    size_t n_words, cap_words;
} wref;

static void wref_word(const char *start, size_t bytes, void *user)
{
    wref *w = user;
    if (w->n_words == w->cap_words) {
        w->cap_words = w->cap_words ? w->cap_words * 2 : 64;
        w->words = realloc(w->words, w->cap_words * sizeof *w->words);
        assert_non_null(w->words);
    }
    w->words[w->n_words++] = start && bytes ? tifa_strndup(start, bytes) : NULL;
}

typedef struct span_list {
    const char **start;
    size_t *len;
    size_t n;
} span_list;

static void wref_sentence(const char *start, size_t bytes, void *user)
{
    span_list *l = user;
    l->start = realloc(l->start, (l->n + 1) * sizeof *l->start);
    l->len = realloc(l->len, (l->n + 1) * sizeof *l->len);
    assert_non_null(l->start);
    assert_non_null(l->len);
    l->start[l->n] = start;
    l->len[l->n++] = bytes;
}

/* Word n-grams by the definition, the slow way: per sentence, the words
 * between breaks, every window joined by spaces, then sort and count. */
static ref_count *reference_words(tdoc *d, size_t n, int nmax, size_t *n_out)
{
    tifa_status st;
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    assert_non_null(seg);
    wref w = { 0 };
    w.cap = 1024;
    w.items = malloc(w.cap * sizeof *w.items);
    for (size_t i = 0; i < n; i++) {
        span_list l = { 0 };
        assert_int_equal(tifa_sentences(seg, d[i].doc.text, d[i].doc.text_len,
                                        wref_sentence, &l), TIFA_OK);
        for (size_t k = 0; k < l.n; k++) {
            w.n_words = 0;
            assert_int_equal(tifa_words(seg, l.start[k], l.len[k], wref_word, &w), TIFA_OK);
            for (int g = 1; g <= nmax; g++) {
                for (size_t s0 = 0; s0 + (size_t)g <= w.n_words; s0++) {
                    bool ok = true;
                    for (int j = 0; j < g; j++)
                        ok = ok && w.words[s0 + (size_t)j];
                    if (!ok)
                        continue;
                    tifa_buf b = { 0 };
                    assert_int_equal(tifa_buf_printf(&b, "%s\x01%d\x01", d[i].doc.corpus, g), TIFA_OK);
                    for (int j = 0; j < g; j++) {
                        if (j)
                            tifa_buf_putc(&b, ' ');
                        tifa_buf_puts(&b, w.words[s0 + (size_t)j]);
                    }
                    if (w.n == w.cap) {
                        w.cap *= 2;
                        w.items = realloc(w.items, w.cap * sizeof *w.items);
                        assert_non_null(w.items);
                    }
                    w.items[w.n].key = tifa_buf_detach(&b, NULL);
                    w.items[w.n++].doc = i;
                }
            }
            for (size_t j = 0; j < w.n_words; j++)
                free(w.words[j]);
        }
        free(l.start);
        free(l.len);
    }
    free(w.words);
    tifa_segmenter_free(seg);
    qsort(w.items, w.n, sizeof *w.items, ref_cmp);
    ref_count *out = calloc(w.n + 1, sizeof *out);
    size_t m = 0;
    for (size_t i = 0; i < w.n; i++) {
        if (m && !strcmp(w.items[i].key, out[m - 1].key)) {
            out[m - 1].count++;
            out[m - 1].docs += w.items[i].doc != w.items[i - 1].doc;
            free(w.items[i].key);
            continue;
        }
        out[m].key = w.items[i].key;
        out[m].count = out[m].docs = 1;
        m++;
    }
    free(w.items);
    *n_out = m;
    return out;
}

static void test_words_against_reference(void **state)
{
    (void)state;
    const char *texts[] = {
        "我们要全面深化改革，坚持以人民为中心的发展思想。全面深化改革是一场深刻的变革！",
        "各位代表：过去一年，我国经济社会发展取得新的成就。2024年国内生产总值增长5%。",
        "坚持以人民为中心。深化改革开放，推进高质量发展；“最后一公里”问题得到解决。",
        "",
        "Hello world. 人民群众 满意 不满意？",
    };
    const char *corp[] = { "x", "x", "y", "y", "x" };
    tdoc *d = docs_from_texts(texts, corp, 5);
    tifa_ngram_options o;
    memset(&o, 0, sizeof o);
    o.word_min = 1;
    o.word_max = 4;
    tifa_ngrams *ng = count_all(&o, d, 5);
    char *path = tmp_path("words.csv");
    assert_int_equal(tifa_ngrams_write(ng, path, &NO_BOM, NULL), TIFA_OK);

    tifa_status st;
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    char **f;
    size_t nf, nt = 0;
    ref_count t[2048];
    assert_int_equal(tifa_csv_read_row(r, &f, &nf), TIFA_OK);
    while (tifa_csv_read_row(r, &f, &nf) == TIFA_OK) {
        assert_string_equal(f[1], "word");
        assert_true(nt < 2048);
        size_t kl = strlen(f[0]) + strlen(f[2]) + strlen(f[3]) + 3;
        t[nt].key = malloc(kl);
        snprintf(t[nt].key, kl, "%s\x01%s\x01%s", f[0], f[2], f[3]);
        t[nt].count = atol(f[4]);
        t[nt].docs = atol(f[5]);
        nt++;
    }
    tifa_csv_reader_close(r);
    qsort(t, nt, sizeof *t, rc_cmp);
    size_t nr;
    ref_count *ref = reference_words(d, 5, 4, &nr);
    assert_true(nr > 50);
    assert_int_equal(nt, nr);
    for (size_t i = 0; i < nr; i++) {
        assert_string_equal(t[i].key, ref[i].key);
        assert_int_equal(t[i].count, ref[i].count);
        assert_int_equal(t[i].docs, ref[i].docs);
        free(t[i].key);
    }
    free_counts(ref, nr);

    /* workers and shards give the same words table */
    size_t l1;
    char *a = slurp(path, &l1);
    tifa_ngrams *p = tifa_ngrams_new(&o, &st);
    tifa_ngrams *w1 = tifa_ngrams_new_worker(p, &st), *w2 = tifa_ngrams_new_worker(p, &st);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(tifa_ngrams_add_doc(i < 2 ? w2 : w1, &d[i].doc), TIFA_OK);
    assert_int_equal(tifa_ngrams_merge(p, w1), TIFA_OK);
    assert_int_equal(tifa_ngrams_merge(p, w2), TIFA_OK);
    tifa_ngrams_free(w1);
    tifa_ngrams_free(w2);
    char *shard = tmp_path("w.shard");
    assert_int_equal(tifa_ngrams_save(p, shard), TIFA_OK);
    tifa_ngrams *q = tifa_ngrams_load(shard, &st);
    assert_non_null(q);
    assert_csv_is(q, "words2.csv", a, l1);
    free(a);
    unlink(shard);
    free(shard);
    tifa_ngrams_free(p);
    tifa_ngrams_free(q);
    unlink(path);
    free(path);
    tifa_ngrams_free(ng);
    free_docs(d, 5);
}

/* Keyness rows: one per written n-gram, each corpus against the rest; with
 * two corpora the rest is the other corpus and is named so. */
static void test_keyness_rows(void **state)
{
    (void)state;
    const char *texts[] = { "改革改革发展", "改革稳定", "发展发展稳定" };
    const char *corp[] = { "a", "a", "b" };
    tdoc *d = docs_from_texts(texts, corp, 3);
    tifa_ngram_options o = char_opts(2, 2);
    o.min_count = 1;
    tifa_ngrams *ng = count_all(&o, d, 3);
    tifa_keyness_table *kt = tifa_keyness_table_new();
    assert_non_null(kt);
    char *path = tmp_path("k.csv"), *kpath = tmp_path("keyness.csv");
    assert_int_equal(tifa_ngrams_write(ng, path, &NO_BOM, kt), TIFA_OK);
    assert_int_equal(tifa_keyness_table_write(kt, kpath, &NO_BOM, 4), TIFA_OK);
    size_t len;
    char *k = slurp(kpath, &len);
    /* corpus a (10 Han characters): 改革 3 times, never in b (6 characters);
     * 发展 once in a and twice in b */
    assert_non_null(strstr(k, "a,b,char_ngram,改革,3,0,"));
    assert_non_null(strstr(k, "b,a,char_ngram,发展,2,1,"));
    assert_non_null(strstr(k, "a,b,char_ngram,发展,1,2,"));
    assert_null(strstr(k, "(rest)"));
    free(k);
    unlink(path);
    unlink(kpath);
    free(path);
    free(kpath);
    tifa_keyness_table_free(kt);
    tifa_ngrams_free(ng);
    free_docs(d, 3);
}

/* Writes ngrams.csv of ng on `threads` threads (through
 * tifa_ngrams_set_filters, as a caller would) with the given CSV options,
 * and keyness.csv when keyness is not NULL; returns the files' bytes
 * (caller frees). */
static void write_both(tifa_ngrams *ng, const tifa_ngram_options *o, int threads,
                       const tifa_csv_options *csv, char **ngrams, size_t *ln,
                       char **keyness, size_t *lk)
{
    tifa_ngram_options t = *o;
    t.threads = threads;
    assert_int_equal(tifa_ngrams_set_filters(ng, &t), TIFA_OK);
    tifa_keyness_table *kt = NULL;
    if (keyness)
        assert_non_null(kt = tifa_keyness_table_new());
    char *path = tmp_path("par.csv"), *kpath = tmp_path("par_keyness.csv");
    assert_int_equal(tifa_ngrams_write(ng, path, csv, kt), TIFA_OK);
    *ngrams = slurp(path, ln);
    unlink(path);
    if (keyness) {
        assert_int_equal(tifa_keyness_table_write(kt, kpath, csv, 4), TIFA_OK);
        *keyness = slurp(kpath, lk);
        unlink(kpath);
    }
    free(path);
    free(kpath);
    tifa_keyness_table_free(kt);
}

/* The parallel write gives the serial write's bytes, ngrams.csv and the
 * keyness rows, whatever the thread count: three corpora (one whose name
 * needs CSV quoting), characters n = 1..6 (packed keys for n <= 4, text
 * keys above) and words, groups of several format chunks, top_k,
 * min_count, min_docs, a stop list, BOM and GB18030; and the in-memory
 * write equals the spilled (memory budget) one. */
static void test_parallel_write(void **state)
{
    (void)state;
    const size_t n = 12;
    tdoc *d = calloc(n, sizeof *d);
    assert_non_null(d);
    uint64_t rng = 4242;
    const char *names[] = { "one", "q,\"two\"", " three" };
    for (size_t i = 0; i < n; i++) /* "one" large, the others small */
        make_doc(&d[i], &rng, i % 3 ? 100 + (size_t)(rng_next(&rng) % 3000) : 20000, 90,
                 names[i % 3], i);
    char *stop = tmp_path("par_stop.txt");
    const char *stop_text = "中国\n人民群众\n";
    assert_int_equal(tifa_write_file_atomic(stop, stop_text, strlen(stop_text)), TIFA_OK);

    tifa_ngram_options chars = char_opts(1, 6);
    tifa_ngram_options mixed = char_opts(2, 3);
    mixed.word_min = 1;
    mixed.word_max = 4;
    tifa_ngrams *ng_chars = count_all(&chars, d, n);
    tifa_ngrams *ng_mixed = count_all(&mixed, d, n);
    /* groups of several chunks (16384 rows) */
    assert_true(tifa_ngrams_distinct(ng_chars, TIFA_UNIT_CHAR, 6) > 16384);

    tifa_ngram_options variants[5];
    variants[0] = chars;
    variants[1] = chars;
    variants[1].top_k = 20000;
    variants[1].min_count = 2;
    variants[2] = chars;
    variants[2].char_min = 3;
    variants[2].min_docs = 2;
    variants[2].stoplist = stop;
    variants[3] = mixed;
    variants[4] = mixed;
    variants[4].top_k = 7;
    variants[4].stoplist = stop;
    const tifa_csv_options encodings[] = { { false, NULL }, { true, NULL },
                                           { true, "gb18030" } };
    const int threads[] = { 2, 64 }; /* 64: more threads than tasks */
    for (size_t v = 0; v < 5; v++) {
        tifa_ngrams *ng = v < 3 ? ng_chars : ng_mixed;
        bool keyness = v == 2 || v == 4; /* writing keyness.csv is slow */
        for (size_t e = 0; e < 3; e++) {
            if (e && v != 0 && v != 4) /* encodings: enough on two variants */
                continue;
            char *a, *ka = NULL;
            size_t la, lka = 0;
            write_both(ng, &variants[v], 0, &encodings[e], &a, &la, keyness ? &ka : NULL, &lka);
            assert_true(la > 1000);
            assert_true(!keyness || lka > 1000);
            for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
                char *b, *kb = NULL;
                size_t lb, lkb = 0;
                write_both(ng, &variants[v], threads[t], &encodings[e], &b, &lb,
                           keyness ? &kb : NULL, &lkb);
                assert_int_equal(la, lb);
                assert_memory_equal(a, b, la);
                assert_int_equal(lka, lkb);
                if (keyness)
                    assert_memory_equal(ka, kb, lka);
                free(b);
                free(kb);
            }
            free(a);
            free(ka);
        }
    }
    /* the quoted corpus name, quoted */
    {
        char *a;
        size_t la;
        write_both(ng_chars, &chars, 4, &encodings[0], &a, &la, NULL, NULL);
        assert_non_null(strstr(a, "\r\n\"q,\"\"two\"\"\",char,1,"));
        assert_non_null(strstr(a, "\r\n\" three\",char,6,"));
        free(a);
    }

    /* spilled under a memory budget: the serial merge of row runs writes
     * the same bytes as the in-memory write on 4 threads */
    tifa_ngram_options budget = mixed;
    budget.memory_budget = tifa_ngrams_memory(ng_mixed) / 4;
    tifa_ngrams *spilled = count_all(&budget, d, n);
    char *a, *ka, *b, *kb;
    size_t la, lka, lb, lkb;
    write_both(ng_mixed, &mixed, 4, &encodings[1], &a, &la, &ka, &lka);
    write_both(spilled, &budget, 4, &encodings[1], &b, &lb, &kb, &lkb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    free(ka);
    free(kb);

    tifa_ngrams_free(spilled);
    tifa_ngrams_free(ng_chars);
    tifa_ngrams_free(ng_mixed);
    unlink(stop);
    free(stop);
    free_docs(d, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_worked),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_large_tables),
        cmocka_unit_test(test_workers_equal),
        cmocka_unit_test(test_level_workers),
        cmocka_unit_test(test_shards),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_words_against_reference),
        cmocka_unit_test(test_keyness_rows),
        cmocka_unit_test(test_parallel_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
