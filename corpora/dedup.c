/*
 * dedup.c — loader stage 7: exact and near-duplicate documents (SPEC §3).
 *
 * Exact duplicates: a 64-bit XXH3 of the normalised text, looked up in an
 * open-addressing table (a collision would need 2^32 documents to become
 * likely).  Near duplicates: the text's character 5-shingles (white space
 * skipped) are hashed once each and sketched by one-permutation MinHash
 * (128 bins, empty bins filled by rotation), so the cost is one hash per
 * character rather than one per character and permutation.  Candidates are
 * found by LSH banding (16 bands of 8 bins: a pair at Jaccard 0.9 shares a
 * band with probability > 0.999, a pair at 0.5 with about 0.06) and
 * confirmed by the fraction of equal bins >= the threshold.  An exact
 * duplicate also inherits the first copy's Han and sentence counts, so the
 * loader need not count it again (the benchmark corpus is mostly repeats).
 * Only first copies are registered; per document the memory is its id, 512 bytes of
 * sketch and 16 bucket entries — never the text.
 */
#include "corpora_internal.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define K 128
#define BANDS 16
#define ROWS (K / BANDS)
#define SHINGLE 5
#define BUCKET_SCAN 64

/* u64 -> u32 open-addressing map (key 0 is reserved: mapped to 1). */
typedef struct u64map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, used;
} u64map;

static uint64_t fix(uint64_t k) { return k ? k : 1; }

static tifa_status map_grow(u64map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return TIFA_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = (size_t)(m->keys[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return TIFA_OK;
}

/* Returns a pointer to the value slot of key, inserting (value UINT32_MAX)
 * when absent; NULL when memory runs out. */
static uint32_t *map_slot(u64map *m, uint64_t key)
{
    key = fix(key);
    if ((m->used + 1) * 2 > m->cap && map_grow(m) != TIFA_OK) return NULL;
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ull) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
    if (!m->keys[j]) {
        m->keys[j] = key;
        m->vals[j] = UINT32_MAX;
        m->used++;
    }
    return &m->vals[j];
}

static uint32_t map_get(const u64map *m, uint64_t key)
{
    if (!m->cap) return UINT32_MAX;
    key = fix(key);
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ull) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return UINT32_MAX;
}

struct tifa_dedup {
    double threshold;
    u64map exact;        /* text hash -> document */
    u64map bands;        /* (band, band hash) -> head entry */
    uint32_t *next;      /* bucket chains: entry -> next entry */
    uint32_t *entry_doc; /* entry -> document */
    size_t entries, entries_cap;
    char **ids;          /* registered documents */
    size_t *counts;      /* 2 per registered document: chars, sentences */
    uint32_t *sketch;    /* K per registered document (UINT32_MAX: none) */
    size_t docs, docs_cap;
};

tifa_dedup *tifa_dedup_new_i(double threshold)
{
    tifa_dedup *dd = calloc(1, sizeof *dd);
    if (dd) dd->threshold = threshold;
    return dd;
}

void tifa_dedup_free_i(tifa_dedup *dd)
{
    if (!dd) return;
    free(dd->exact.keys);
    free(dd->exact.vals);
    free(dd->bands.keys);
    free(dd->bands.vals);
    free(dd->next);
    free(dd->entry_doc);
    for (size_t i = 0; i < dd->docs; i++) free(dd->ids[i]);
    free(dd->ids);
    free(dd->counts);
    free(dd->sketch);
    free(dd);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

/* One-permutation MinHash of the 5-shingles; returns false when the text
 * has fewer than SHINGLE non-space characters. */
static bool sketch(const char *text, size_t n, uint32_t *sig)
{
    const unsigned char *s = (const unsigned char *)text;
    const uint64_t P = 0x100000001B3ull;
    uint64_t p5 = 1;
    for (int k = 0; k < SHINGLE; k++) p5 *= P;
    uint32_t ring[SHINGLE] = {0};
    size_t count = 0, i = 0;
    uint64_t h = 0;
    for (int k = 0; k < K; k++) sig[k] = UINT32_MAX;
    bool any = false;
    while (i < n) {
        uint32_t c = tifa_utf8_next_i(s, n, &i);
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0x3000)
            continue;
        uint32_t old = ring[count % SHINGLE];
        ring[count % SHINGLE] = c;
        count++;
        h = h * P + c + 1;
        if (count > SHINGLE) h -= (uint64_t)(old + 1) * p5;
        if (count >= SHINGLE) {
            uint64_t m = mix64(h);
            unsigned bin = (unsigned)(m >> 57); /* 7 bits: 128 bins */
            uint32_t v = (uint32_t)m;
            if (v == UINT32_MAX) v--;
            if (v < sig[bin]) sig[bin] = v;
            any = true;
        }
    }
    if (!any) return false;
    /* Densify: an empty bin takes the next non-empty bin's value, offset by
     * the distance so that different gaps stay distinguishable. */
    for (int k = 0; k < K; k++) {
        if (sig[k] != UINT32_MAX) continue;
        for (int d = 1; d < K; d++) {
            uint32_t v = sig[(k + d) % K];
            if (v != UINT32_MAX && v < UINT32_MAX - 1) {
                sig[k] = (uint32_t)mix64(((uint64_t)v << 8) | (uint64_t)d);
                if (sig[k] == UINT32_MAX) sig[k]--;
                break;
            }
        }
    }
    return true;
}

static tifa_status register_doc(tifa_dedup *dd, const char *doc_id,
                                const uint32_t *sig, size_t chars,
                                size_t sentences, uint32_t *index)
{
    if (dd->docs == dd->docs_cap) {
        size_t cap = dd->docs_cap ? dd->docs_cap * 2 : 256;
        char **ids = realloc(dd->ids, cap * sizeof *ids);
        if (!ids) return TIFA_ENOMEM;
        dd->ids = ids;
        size_t *counts = realloc(dd->counts, 2 * cap * sizeof *counts);
        if (!counts) return TIFA_ENOMEM;
        dd->counts = counts;
        uint32_t *sk = realloc(dd->sketch, cap * K * sizeof *sk);
        if (!sk) return TIFA_ENOMEM;
        dd->sketch = sk;
        dd->docs_cap = cap;
    }
    char *id = tifa_strdup(doc_id ? doc_id : "");
    if (!id) return TIFA_ENOMEM;
    uint32_t d = (uint32_t)dd->docs++;
    dd->ids[d] = id;
    dd->counts[2 * (size_t)d] = chars;
    dd->counts[2 * (size_t)d + 1] = sentences;
    if (sig)
        memcpy(dd->sketch + (size_t)d * K, sig, K * sizeof *sig);
    else
        memset(dd->sketch + (size_t)d * K, 0xFF, K * sizeof *sig);
    *index = d;
    return TIFA_OK;
}

bool tifa_dedup_exact_i(const tifa_dedup *dd, const char *text, size_t n,
                        const char **first, size_t *chars, size_t *sentences)
{
    uint32_t hit = map_get(&dd->exact, XXH3_64bits(text, n));
    if (hit == UINT32_MAX) return false;
    *first = dd->ids[hit];
    *chars = dd->counts[2 * (size_t)hit];
    *sentences = dd->counts[2 * (size_t)hit + 1];
    return true;
}

tifa_status tifa_dedup_add_i(tifa_dedup *dd, const char *doc_id,
                             const char *text, size_t n, size_t chars,
                             size_t sentences, const char **first,
                             double *similarity)
{
    *first = NULL;
    *similarity = 0;
    uint64_t h = XXH3_64bits(text, n);
    uint32_t hit = map_get(&dd->exact, h);
    if (hit != UINT32_MAX) {
        *first = dd->ids[hit];
        *similarity = 1.0;
        return TIFA_OK;
    }
    uint32_t sig[K];
    bool have = dd->threshold > 0 && sketch(text, n, sig);
    uint64_t band_key[BANDS];
    if (have) {
        for (int b = 0; b < BANDS; b++) {
            band_key[b] = XXH3_64bits_withSeed(sig + b * ROWS,
                                               ROWS * sizeof *sig,
                                               (uint64_t)b + 1);
        }
        uint32_t best = UINT32_MAX;
        double best_sim = 0;
        /* Every registered document is a first copy, so the first one that
         * is similar enough will do.  Chains hold the newest first; walk a
         * bounded number. */
        uint32_t seen[2 * BANDS * BUCKET_SCAN]; /* candidates compared */
        memset(seen, 0xFF, sizeof seen);
        const size_t mask = sizeof seen / sizeof seen[0] - 1;
        for (int b = 0; b < BANDS && best == UINT32_MAX; b++) {
            uint32_t e = map_get(&dd->bands, band_key[b]);
            for (int steps = 0; e != UINT32_MAX && steps < BUCKET_SCAN;
                 steps++, e = dd->next[e]) {
                uint32_t d = dd->entry_doc[e];
                /* A document shares several bands: compare it once. */
                size_t slot = (size_t)(d * 0x9E3779B1u) & mask;
                while (seen[slot] != UINT32_MAX && seen[slot] != d)
                    slot = (slot + 1) & mask;
                if (seen[slot] == d) continue;
                seen[slot] = d;
                const uint32_t *o = dd->sketch + (size_t)d * K;
                int same = 0;
                for (int k = 0; k < K; k++) same += o[k] == sig[k];
                double sim = (double)same / K;
                if (sim >= dd->threshold) {
                    best = d;
                    best_sim = sim;
                    break;
                }
            }
        }
        if (best != UINT32_MAX) {
            *first = dd->ids[best];
            *similarity = best_sim;
            return TIFA_OK;
        }
    }
    uint32_t d;
    tifa_status st = register_doc(dd, doc_id, have ? sig : NULL, chars,
                                  sentences, &d);
    if (st != TIFA_OK) return st;
    uint32_t *slot = map_slot(&dd->exact, h);
    if (!slot) return TIFA_ENOMEM;
    *slot = d;
    if (!have) return TIFA_OK;
    for (int b = 0; b < BANDS; b++) {
        if (dd->entries == dd->entries_cap) {
            size_t cap = dd->entries_cap ? dd->entries_cap * 2 : 4096;
            uint32_t *nx = realloc(dd->next, cap * sizeof *nx);
            if (!nx) return TIFA_ENOMEM;
            dd->next = nx;
            uint32_t *ed = realloc(dd->entry_doc, cap * sizeof *ed);
            if (!ed) return TIFA_ENOMEM;
            dd->entry_doc = ed;
            dd->entries_cap = cap;
        }
        uint32_t e = (uint32_t)dd->entries++;
        uint32_t *head = map_slot(&dd->bands, band_key[b]);
        if (!head) return TIFA_ENOMEM;
        dd->entry_doc[e] = d;
        dd->next[e] = *head;
        *head = e;
    }
    return TIFA_OK;
}
