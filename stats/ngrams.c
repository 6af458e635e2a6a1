/*
 * ngrams.c — the n-gram engine: character n-grams (n = 1..8) and word
 * n-grams (ICU words, n = 1..4) per corpus, with document frequency, exact
 * worker merges, mergeable binary shards, a spill-to-disk mode for a memory
 * budget, and the writer of ngrams.csv (SPEC §4, §6; issue 5).
 *
 * Why it looks like this (numbers in docs/ngrams.md): counting is bound by
 * random memory accesses, one per n-gram window, so everything is arranged to
 * make each access cheap and to have many in flight at once.
 *   - Keys are 64-bit integers, never strings.  A character n-gram with
 *     n <= 3 is its code points packed 21 bits apiece; a longer one is
 *     (id of its (n-1)-prefix << 32 | last code point), where the id is the
 *     dense number the (n-1)-table gave the prefix.  Word n-grams do the same
 *     with interned word ids (n <= 2 packed, n >= 3 chained).  So every key
 *     fits one register and the prefix of every window was counted just
 *     before at the same start position.
 *   - One open-addressing table (linear probing, multiplicative hashing,
 *     24-byte slots holding key, count, id, document frequency and the stamp
 *     of the last document) per (corpus, unit, n); no allocation per n-gram,
 *     growth by 1.5x, in place for tables of 2 MiB and more (mremap, then
 *     a sweep that moves the entries within the mapping), so fresh memory,
 *     which the kernel must fault in and zero, is only what a table adds.
 *     Document frequency uses the stamp, not a per-document set, so a
 *     window touches exactly one slot.
 *   - Character unigrams are counted per batch in an array indexed by code
 *     point and added to their table once per distinct character.
 *   - Documents are decoded into a batch of up to 64 Ki code points (0
 *     between Han runs and documents) that spans documents, and a full batch
 *     is counted in passes, one per n: each pass gathers the keys of all
 *     valid windows, then upserts them while prefetching the slot of the
 *     window 16 ahead, so the memory latency of the table is overlapped.  A
 *     batch cut inside a document carries its last n_max - 1 units over, so
 *     scratch memory does not grow with documents.  Every entry point that
 *     reads the tables counts the pending batch first (ng_sync).
 *   - Han = Unicode Script=Han as ICU defines it, looked up in a 32 KiB
 *     bitmap built from uscript_getScript() when the engine is made.
 *
 * Ownership follows tifa_common.h.  No globals, no printing.
 */
#define _GNU_SOURCE /* madvise, mremap */
#include "stats.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unicode/uscript.h>
#include <xxhash.h>

#define NG_CHAR_MAX 8
#define NG_WORD_MAX 4
#define NG_TABLES (NG_CHAR_MAX + 1) /* index n = 1..8 */
#ifndef NG_PREFETCH
#define NG_PREFETCH 16
#endif
#define NG_CHUNK 65536 /* units per batch */
#define NG_HAN_LIMIT 0x40000u /* Han lives below U+40000 */
#define NG_MIN_CAP 256
#define NG_MERGE_CHUNK 1024 /* entries translated at a time in a merge */

/* ------------------------------------------------------------ the table -- */

/* One counted n-gram: 24 bytes, everything a window updates in one place
 * (measured against 16-byte slots with document frequency kept in per-id
 * arrays: docs/ngrams.md).  key 0 marks an empty slot (real keys are never
 * 0: code points of Han characters and ids are all >= 1).  count holds the
 * low 32 bits; each wrap-around is recorded in the table's wraps list
 * (exact, and in practice never used).  last is the stamp of the last
 * document that counted the n-gram, so docs needs no per-document set. */
typedef struct ng_slot {
    uint64_t key;
    uint32_t count;
    uint32_t id;   /* 1-based, in order of first insertion */
    uint32_t docs; /* documents containing it */
    uint32_t last; /* document stamp */
} ng_slot;

typedef struct ng_table {
    ng_slot *slots;
    size_t cap;   /* slots (any number), 0 when empty */
    size_t size;
    size_t grow_at;
    uint32_t *wraps;  /* ids whose count passed 2^32 (once per wrap) */
    size_t n_wraps, cap_wraps;
} ng_table;

/* Slot index of key in a table of cap slots: the key is mixed (xor-shift,
 * multiply) and the high half of hash * cap picks the slot ("fastrange"),
 * so capacities need not be powers of two and tables grow by 1.5x. */
static inline size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 31;
    key *= UINT64_C(0x9E3779B97F4A7C15);
    key ^= key >> 29;
    return (size_t)(((unsigned __int128)key * cap) >> 64);
}

/* Zeroed memory for a table of `bytes`.  Tables of 2 MiB and more are
 * mappings of their own, 2 MiB-aligned and asked for transparent huge pages:
 * every upsert is a random access, and with 4 KiB pages most are TLB misses
 * too (10-30 % faster counting on the government reports; docs/ngrams.md).
 * Being mappings, they can also grow in place (slots_resize).  Release with
 * slots_free(p, bytes). */
#define NG_HUGE ((size_t)2 << 20)
static size_t huge_len(size_t bytes)
{
    return (bytes + NG_HUGE - 1) / NG_HUGE * NG_HUGE;
}

static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#else
    (void)p, (void)len;
#endif
}

static void *slots_alloc(size_t bytes)
{
    if (bytes < NG_HUGE)
        return calloc(1, bytes);
    size_t len = huge_len(bytes), span = len + NG_HUGE;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t head = (NG_HUGE - (uintptr_t)p % NG_HUGE) % NG_HUGE;
    if (head)
        munmap(p, head);
    if (span - head > len)
        munmap(p + head + len, span - head - len);
    p += head;
    advise_huge(p, len);
    return p; /* fresh anonymous memory reads as zero */
}

static void slots_free(void *p, size_t bytes)
{
    if (bytes < NG_HUGE)
        free(p);
    else if (p)
        munmap(p, huge_len(bytes));
}

/* The mapping p of old_bytes (>= NG_HUGE) made new_bytes long, moved if it
 * must be, its contents kept (page tables move, no bytes are copied) and
 * the new part zero; NULL (and p untouched) when that fails. */
#ifdef MREMAP_MAYMOVE /* Linux; elsewhere every growth takes a new table */
#define NG_GROW_IN_PLACE 1
static void *slots_resize(void *p, size_t old_bytes, size_t new_bytes)
{
    void *q = mremap(p, huge_len(old_bytes), huge_len(new_bytes), MREMAP_MAYMOVE);
    if (q == MAP_FAILED)
        return NULL;
    advise_huge(q, huge_len(new_bytes));
    return q;
}
#else
#define NG_GROW_IN_PLACE 0
static void *slots_resize(void *p, size_t old_bytes, size_t new_bytes)
{
    (void)p, (void)old_bytes, (void)new_bytes;
    return NULL;
}
#endif

/* Where the few entries of a growing table that cannot move straight to
 * their new place wait while it is rehashed in its own memory
 * (table_sweep_in_place): one per engine, shared by its tables, grown and
 * never shrunk. */
typedef struct ng_scratch {
    ng_slot *v;
    size_t cap; /* entries */
} ng_scratch;

/* Puts the entries from[0..n) (skipping empty slots when sparse) into the
 * empty table slots[0..cap), which is larger than where they came from, so
 * taking them in their old slot order does not pile them up. */
static void table_insert_all(ng_slot *slots, size_t cap, const ng_slot *from,
                             size_t n, bool sparse)
{
    for (size_t i = 0; i < n; i++) {
        const ng_slot *s = &from[i];
        if (sparse && !s->key)
            continue;
        size_t j = slot_of(s->key, cap);
        while (slots[j].key)
            j = j + 1 == cap ? 0 : j + 1;
        slots[j] = *s;
    }
}

/* Appends s to the scratch list sc (grown by half when full). */
static tifa_status scratch_push(ng_scratch *sc, const ng_slot *s, size_t *n)
{
    if (*n == sc->cap) {
        size_t want = sc->cap ? sc->cap + sc->cap / 2 : 1024;
        ng_slot *v = realloc(sc->v, want * sizeof *v); /* mremap in glibc */
        if (!v)
            return TIFA_ENOMEM;
        sc->v = v;
        sc->cap = want;
    }
    sc->v[(*n)++] = *s;
    return TIFA_OK;
}

/* Rehashes, in place, the `cap` slots of `slots` (a mapping just enlarged
 * to `ncap` > cap slots, the new part zero).
 *
 * Why a backward sweep is enough.  Slots are taken from the top down; the
 * entry at i is lifted out and put at the first free slot from its new home
 * h upwards, when h >= i and no wrap-around is needed.  Every slot above i
 * then holds only entries already in the new layout, so such a probe meets
 * only them, and its path [h, slot) never contains a slot that is still to
 * be vacated (those are all below i <= h).  The new table is thus a valid
 * linear-probing table at every step.  An entry whose new home is below i
 * (its probe would cross old entries that are yet to move) or that would
 * wrap around waits in sc and is inserted at the end.  With fastrange the
 * new home is about i * ncap / cap, so only entries displaced by more than
 * i * (ncap / cap - 1) slots wait: for growth by 1.5x a few near the start
 * of the table.
 *
 * Which entry of a run gets the slot nearer home matters: the probe
 * prefetches two cache lines, and the frequent n-grams (met first, so
 * nearest home in the old table) are most of the lookups.  Taken from the
 * top down with first come, first served, the rarer entry at the end of a
 * run came first, and counting the 100 MB government corpus became 15 %
 * slower.  So on a collision the more frequent of the two takes the slot
 * and the other moves on; any such exchange keeps the table valid, as both
 * homes are at or below the slot and every slot passed is occupied
 * (docs/ngrams.md).  Returns TIFA_ENOMEM only when sc cannot grow; entries are
 * lost then, and the engine's owner gets the error from the upsert that
 * grew the table and stops (as for any failed upsert). */
static tifa_status table_sweep_in_place(ng_slot *slots, size_t cap, size_t ncap,
                                        ng_scratch *sc)
{
    size_t waiting = 0;
    tifa_status st = TIFA_OK;
    for (size_t i = cap; i-- > 0;) {
        if (!slots[i].key)
            continue;
        ng_slot s = slots[i];
        memset(&slots[i], 0, sizeof slots[i]);
        size_t h = slot_of(s.key, ncap), j = h;
        while (h >= i && j < ncap && slots[j].key) {
            /* the more frequent of the two takes the slot nearer home */
            if (slots[j].count < s.count) {
                ng_slot t = slots[j];
                slots[j] = s;
                s = t;
                h = slot_of(s.key, ncap);
            }
            j++;
        }
        if (h >= i && j < ncap) {
            slots[j] = s;
            continue;
        }
        if ((st = scratch_push(sc, &s, &waiting)) != TIFA_OK)
            return st;
    }
    table_insert_all(slots, ncap, sc->v, waiting, false);
    return TIFA_OK;
}

/* Rehashes t into `cap` slots (>= NG_MIN_CAP).
 *
 * A large table (a mapping of its own) grows in place: the mapping is
 * enlarged with mremap and the entries are moved within it
 * (table_sweep_in_place).  Fresh memory costs a page fault and the kernel's
 * zeroing per page, which on the synthetic corpus (28 M distinct n-grams per
 * 100 MB, tables growing all the time) was 30-45 % of the run when every
 * growth took a new table (1.5x the old) and freed the old one; now only
 * the added part is new (docs/ngrams.md).  Without sc, for small tables, or
 * when a table would not grow by at least a quarter (then most entries
 * would wait in sc), a new table is allocated as before. */
static tifa_status table_rehash(ng_table *t, size_t cap, ng_scratch *sc)
{
    if (cap < NG_MIN_CAP)
        cap = NG_MIN_CAP;
    size_t old_bytes = t->cap * sizeof *t->slots, new_bytes = cap * sizeof *t->slots;
    if (NG_GROW_IN_PLACE && sc && t->slots && old_bytes >= NG_HUGE &&
        cap >= t->cap + t->cap / 4) {
        ng_slot *slots = slots_resize(t->slots, old_bytes, new_bytes);
        if (!slots)
            return TIFA_ENOMEM; /* the table is as it was */
        t->slots = slots;
        size_t old_cap = t->cap;
        t->cap = cap; /* slots_free unmaps all of it, even after a failure */
        t->grow_at = cap / 5 * 4;
        return table_sweep_in_place(slots, old_cap, cap, sc);
    } else {
        ng_slot *slots = slots_alloc(new_bytes);
        if (!slots)
            return TIFA_ENOMEM;
        if (t->slots) {
            table_insert_all(slots, cap, t->slots, t->cap, true);
            slots_free(t->slots, old_bytes);
        }
        t->slots = slots;
    }
    t->cap = cap;
    t->grow_at = cap / 5 * 4; /* load factor 0.8 */
    return TIFA_OK;
}

/* Growth by 1.5x (not 2x): the load factor stays within 0.53..0.8, so the
 * bytes per distinct n-gram vary by at most 1.5x with corpus size, and the
 * transient of a rehash is 2.5x the old table (old + new; 1.5x when it
 * grows in place), not 3x. */
static tifa_status table_grow(ng_table *t, ng_scratch *sc)
{
    return table_rehash(t, t->cap ? t->cap + t->cap / 2 : NG_MIN_CAP, sc);
}

/* Makes room for `extra` more entries without growing on the way (bulk
 * inserts in hash order, as in a merge, would otherwise pile up in the
 * front of a small table). */
static tifa_status table_reserve(ng_table *t, size_t extra, ng_scratch *sc)
{
    size_t need = (t->size + extra) / 4 * 5 + NG_MIN_CAP;
    if (t->cap >= need)
        return TIFA_OK;
    return table_rehash(t, need, sc);
}

static void table_free(ng_table *t)
{
    if (t->slots)
        slots_free(t->slots, t->cap * sizeof *t->slots);
    free(t->wraps);
    memset(t, 0, sizeof *t);
}

static tifa_status push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        uint32_t *g = realloc(*v, c * sizeof *g);
        if (!g)
            return TIFA_ENOMEM;
        *v = g;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return TIFA_OK;
}

/* The full count of a slot (low 32 bits plus recorded wraps). */
static uint64_t slot_count(const ng_table *t, const ng_slot *s)
{
    uint64_t c = s->count;
    for (size_t i = 0; i < t->n_wraps; i++)
        c += (uint64_t)(t->wraps[i] == s->id) << 32;
    return c;
}

/* Adds count and docs to a slot (merge, load). */
static tifa_status slot_add(ng_table *t, ng_slot *s, uint64_t count, uint32_t docs)
{
    uint64_t v = (uint64_t)s->count + count;
    s->count = (uint32_t)v;
    for (uint64_t k = v >> 32; k; k--)
        if (push_u32(&t->wraps, &t->n_wraps, &t->cap_wraps, s->id) != TIFA_OK)
            return TIFA_ENOMEM;
    s->docs += docs;
    return TIFA_OK;
}

/* The slot of key, inserted with zero counts when absent; NULL when memory
 * runs out.  The pointer is valid until the next insertion.  sc: the
 * engine's scratch for growing (may be NULL). */
static inline ng_slot *table_upsert(ng_table *t, uint64_t key, ng_scratch *sc)
{
    if (t->size >= t->grow_at && table_grow(t, sc) != TIFA_OK)
        return NULL;
    if (t->size >= UINT32_MAX - 1)
        return NULL; /* ids are 32-bit */
    size_t i = slot_of(key, t->cap);
    for (;;) {
        ng_slot *s = &t->slots[i];
        if (s->key == key)
            return s;
        if (!s->key) {
            s->key = key;
            s->id = (uint32_t)++t->size;
            return s;
        }
        i = i + 1 == t->cap ? 0 : i + 1;
    }
}

/* The slot of key or NULL (borrowed, valid until the next insertion). */
static const ng_slot *table_find(const ng_table *t, uint64_t key)
{
    if (!t->size || !key)
        return NULL;
    size_t i = slot_of(key, t->cap);
    for (;;) {
        const ng_slot *s = &t->slots[i];
        if (s->key == key)
            return s;
        if (!s->key)
            return NULL;
        i = i + 1 == t->cap ? 0 : i + 1;
    }
}

/* An array id -> slot (index 0 unused).  Caller frees. */
static const ng_slot **table_index(const ng_table *t)
{
    const ng_slot **idx = calloc(t->size + 1, sizeof *idx);
    if (!idx)
        return NULL;
    for (size_t i = 0; t->size && i < t->cap; i++)
        if (t->slots[i].key)
            idx[t->slots[i].id] = &t->slots[i];
    return idx;
}

/* ----------------------------------------------------------- the engine -- */

typedef struct ng_corpus {
    char *name;
    uint64_t chars; /* Han characters (doc->chars), the per_10k base */
    uint64_t docs;
    ng_table t[2][NG_TABLES]; /* [unit][n] */
} ng_corpus;

/* A character unigram of the batch being counted (count_unigrams). */
typedef struct ng_uni {
    uint32_t count;
    uint32_t docs;  /* documents of the batch containing it */
    uint32_t first; /* stamp of the first of them */
    uint32_t last;  /* stamp of the last */
} ng_uni;

/* A spilled run (memory budget): a temporary file of sorted records. */
typedef struct ng_run {
    FILE *file;
} ng_run;

struct tifa_ngrams {
    tifa_ngram_options opt;
    char *stoplist_path;
    tifa_strmap *stop;     /* stop-listed n-grams (written form) or NULL */
    uint64_t han[NG_HAN_LIMIT / 64];
    bool core_han;         /* U+4E00..U+9FFF all Han (core_block_han) */
    tifa_strmap *words;    /* word id - 1 -> word */
    tifa_segmenter *seg;   /* made on the first word-unit document */
    ng_corpus *corpora;
    size_t n_corpora;
    size_t last_corpus;    /* cache of the corpus of the previous document */
    uint32_t stamp;        /* current document (for document frequency) */
    /* character n-grams counted: lo <= n <= hi (1 and char_max except in a
     * level worker, tifa_ngrams_new_worker_levels) */
    int level_lo, level_hi;
    /* the character batch: code points of several documents of one corpus,
     * 0 between Han runs and documents; marks say which document (stamp)
     * starts where */
    uint32_t *units;
    size_t n_units;
    size_t batch_corpus;   /* index of its corpus (valid when n_units) */
    uint32_t *mark_pos, *mark_stamp;
    size_t n_marks, cap_marks;
    /* word ids of the current document (words are counted per document) */
    uint32_t *wunits;
    size_t n_wunits;
    /* scratch of a pass */
    uint64_t *keys;        /* keys of the valid windows of one pass */
    uint32_t *pos;         /* their start positions */
    uint32_t *ida, *idb;   /* ids of the (n-1)- and n-grams by position */
    ng_uni *uni;           /* character unigram accumulator, by code point */
    uint32_t *uni_seen;    /* code points touched in it, in order */
    ng_scratch grow;       /* entries waiting while a table grows in place */
    size_t *spans;         /* sentence spans (start, length) pairs */
    size_t n_spans, cap_spans;
    /* memory budget */
    ng_run *runs;
    size_t n_runs;
};

static int maxn_of(const tifa_ngrams *ng, int unit)
{
    return unit == TIFA_UNIT_CHAR ? ng->opt.char_max : ng->opt.word_max;
}
static int minn_of(const tifa_ngrams *ng, int unit)
{
    return unit == TIFA_UNIT_CHAR ? ng->opt.char_min : ng->opt.word_min;
}

static void build_han(uint64_t *han)
{
    memset(han, 0, NG_HAN_LIMIT / 8);
    for (UChar32 c = 0x2E80; c < (UChar32)NG_HAN_LIMIT; c++) {
        UErrorCode err = U_ZERO_ERROR;
        if (uscript_getScript(c, &err) == USCRIPT_HAN && U_SUCCESS(err))
            han[c >> 6] |= UINT64_C(1) << (c & 63);
    }
}

/* Whether every code point of CJK Unified Ideographs (U+4E00..U+9FFF,
 * 64-aligned) is Han in this ICU; then the bitmap is skipped for them, most
 * characters of Chinese text (the bitmap lookup was a quarter of decoding,
 * docs/ngrams.md). */
static bool core_block_han(const uint64_t *han)
{
    for (uint32_t w = 0x4E00 / 64; w < 0xA000 / 64; w++)
        if (han[w] != UINT64_MAX)
            return false;
    return true;
}

static inline bool is_han(const tifa_ngrams *ng, uint32_t c)
{
    if (c - 0x4E00u < 0xA000u - 0x4E00u && ng->core_han)
        return true;
    return c < NG_HAN_LIMIT && ((ng->han[c >> 6] >> (c & 63)) & 1);
}

static tifa_status load_stoplist(tifa_ngrams *ng, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    tifa_status st = tifa_read_file(path, &data, &len);
    if (st != TIFA_OK)
        return st;
    ng->stop = tifa_strmap_new();
    if (!ng->stop) {
        free(data);
        return TIFA_ENOMEM;
    }
    size_t i = 0;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len) {
        size_t j = i;
        while (j < len && data[j] != '\n')
            j++;
        size_t a = i, b = j;
        while (a < b && (data[a] == ' ' || data[a] == '\t'))
            a++;
        while (b > a && (data[b - 1] == ' ' || data[b - 1] == '\t' ||
                         data[b - 1] == '\r'))
            b--;
        if (b > a && data[a] != '#') {
            char *norm = NULL;
            size_t norm_len = 0;
            if (tifa_normalize(data + a, b - a, false, &norm, &norm_len) == TIFA_OK) {
                if (tifa_strmap_intern(ng->stop, norm, norm_len, NULL) == UINT32_MAX)
                    st = TIFA_ENOMEM;
                free(norm);
            } else if (tifa_strmap_intern(ng->stop, data + a, b - a, NULL) == UINT32_MAX) {
                st = TIFA_ENOMEM;
            }
        }
        i = j + 1;
    }
    free(data);
    return st;
}

/* A new engine: returns NULL and sets *status on invalid options. The caller
 * frees it with tifa_ngrams_free. */
tifa_ngrams *tifa_ngrams_new(const tifa_ngram_options *options,
                             tifa_status *status)
{
    tifa_status dummy;
    if (!status)
        status = &dummy;
    if (!options) {
        *status = TIFA_EUSAGE;
        return NULL;
    }
    tifa_ngram_options o = *options;
    if (o.char_max == 0)
        o.char_min = 0;
    if (o.word_max == 0)
        o.word_min = 0;
    if (o.char_max && o.char_min == 0)
        o.char_min = 1;
    if (o.word_max && o.word_min == 0)
        o.word_min = 1;
    if (o.char_min < 0 || o.char_max < 0 || o.char_max > NG_CHAR_MAX ||
        o.char_min > o.char_max || o.word_min < 0 || o.word_max < 0 ||
        o.word_max > NG_WORD_MAX || o.word_min > o.word_max ||
        o.min_count < 0 || o.min_docs < 0) {
        *status = TIFA_EUSAGE;
        return NULL;
    }
    tifa_ngrams *ng = calloc(1, sizeof *ng);
    if (!ng) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    ng->opt = o;
    ng->opt.stoplist = NULL;
    ng->level_lo = 1;
    ng->level_hi = o.char_max;
    ng->words = tifa_strmap_new();
    if (!ng->words) {
        tifa_ngrams_free(ng);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    if (o.stoplist) {
        ng->stoplist_path = tifa_strdup(o.stoplist);
        ng->opt.stoplist = ng->stoplist_path;
        tifa_status st = ng->stoplist_path ? load_stoplist(ng, o.stoplist)
                                           : TIFA_ENOMEM;
        if (st != TIFA_OK) {
            tifa_ngrams_free(ng);
            *status = st;
            return NULL;
        }
    }
    build_han(ng->han);
    ng->core_han = core_block_han(ng->han);
    *status = TIFA_OK;
    return ng;
}

/* A worker with the parent's options (stop list reloaded): caller frees. */
tifa_ngrams *tifa_ngrams_new_worker(const tifa_ngrams *parent,
                                    tifa_status *status)
{
    if (!parent) {
        if (status)
            *status = TIFA_EUSAGE;
        return NULL;
    }
    return tifa_ngrams_new(&parent->opt, status);
}

/* A worker for threads that split the character n-grams by n instead of by
 * document: every such worker sees every document and fills only its own
 * tables, each in document order, so merging them moves tables instead of
 * merging entries, and the ids are those of one engine counting alone
 * (docs/ngrams.md, "Threads and merging").  A level of 3 or more needs no
 * table below it: trigram keys are code points, longer keys chain on the
 * worker's own trigram ids. */
tifa_ngrams *tifa_ngrams_new_worker_levels(const tifa_ngrams *parent, int lo,
                                           int hi, tifa_status *status)
{
    tifa_status dummy;
    if (!status)
        status = &dummy;
    if (!parent || lo < 1 || lo > 3 || hi < lo || hi > parent->opt.char_max ||
        parent->opt.memory_budget || (lo > 1 && parent->opt.word_max)) {
        *status = TIFA_EUSAGE;
        return NULL;
    }
    tifa_ngrams *ng = tifa_ngrams_new(&parent->opt, status);
    if (ng) {
        ng->level_lo = lo;
        ng->level_hi = hi;
    }
    return ng;
}

static void corpus_clear_tables(ng_corpus *c)
{
    for (int u = 0; u < 2; u++)
        for (int n = 0; n < NG_TABLES; n++)
            table_free(&c->t[u][n]);
}

void tifa_ngrams_free(tifa_ngrams *ng)
{
    if (!ng)
        return;
    for (size_t i = 0; i < ng->n_corpora; i++) {
        corpus_clear_tables(&ng->corpora[i]);
        free(ng->corpora[i].name);
    }
    free(ng->corpora);
    for (size_t i = 0; i < ng->n_runs; i++)
        if (ng->runs[i].file)
            fclose(ng->runs[i].file);
    free(ng->runs);
    tifa_strmap_free(ng->words);
    tifa_strmap_free(ng->stop);
    if (ng->seg)
        tifa_segmenter_free(ng->seg);
    free(ng->stoplist_path);
    free(ng->units);
    free(ng->wunits);
    free(ng->mark_pos);
    free(ng->mark_stamp);
    free(ng->keys);
    free(ng->pos);
    free(ng->ida);
    free(ng->idb);
    free(ng->uni);
    free(ng->uni_seen);
    free(ng->grow.v);
    free(ng->spans);
    free(ng);
}

/* The corpus called name, created when absent; NULL on ENOMEM.  Borrowed:
 * valid until the next corpus is created (the array may move). */
static ng_corpus *corpus_get(tifa_ngrams *ng, const char *name)
{
    if (!name)
        name = "";
    if (ng->last_corpus < ng->n_corpora &&
        !strcmp(ng->corpora[ng->last_corpus].name, name))
        return &ng->corpora[ng->last_corpus];
    for (size_t i = 0; i < ng->n_corpora; i++)
        if (!strcmp(ng->corpora[i].name, name)) {
            ng->last_corpus = i;
            return &ng->corpora[i];
        }
    ng_corpus *grown = realloc(ng->corpora, (ng->n_corpora + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    ng->corpora = grown;
    ng_corpus *c = &ng->corpora[ng->n_corpora];
    memset(c, 0, sizeof *c);
    c->name = tifa_strdup(name);
    if (!c->name)
        return NULL;
    ng->last_corpus = ng->n_corpora++;
    return c;
}

static tifa_status reserve_scratch(tifa_ngrams *ng)
{
    if (ng->units)
        return TIFA_OK;
    size_t cap = NG_CHUNK + NG_TABLES + 1;
    ng->units = calloc(cap, sizeof *ng->units);
    ng->wunits = calloc(cap, sizeof *ng->wunits);
    ng->keys = calloc(cap, sizeof *ng->keys);
    ng->pos = calloc(cap, sizeof *ng->pos);
    ng->ida = calloc(cap, sizeof *ng->ida);
    ng->idb = calloc(cap, sizeof *ng->idb);
    /* 4 MiB of address space, but only the pages of code points that occur
     * are ever touched (about 330 KiB for the CJK Unified block) */
    ng->uni = calloc(NG_HAN_LIMIT, sizeof *ng->uni);
    ng->uni_seen = calloc(cap, sizeof *ng->uni_seen);
    if (!ng->units || !ng->wunits || !ng->keys || !ng->pos || !ng->ida || !ng->idb ||
        !ng->uni || !ng->uni_seen)
        return TIFA_ENOMEM;
    return TIFA_OK;
}

/* Where documents start in the buffer being counted: marks[k] = (position,
 * stamp), positions ascending, marks[0] at or before the first window. */
typedef struct ng_marks {
    const uint32_t *pos, *stamp;
    size_t n;
} ng_marks;

/* Upserts one window and counts it; NULL when memory runs out.  The slot is
 * borrowed, valid until the next insertion. */
static inline ng_slot *count_one(ng_table *t, uint64_t key, uint32_t stamp,
                                 ng_scratch *sc)
{
    ng_slot *s = table_upsert(t, key, sc);
    if (!s)
        return NULL;
    if (__builtin_expect(++s->count == 0, 0) &&
        push_u32(&t->wraps, &t->n_wraps, &t->cap_wraps, s->id) != TIFA_OK)
        return NULL;
    s->docs += s->last != stamp;
    s->last = stamp;
    return s;
}

/* Prefetches the line of key's home slot and the line after it: a hit
 * takes 1.5-2.3 probes on average at our load factors (counted on the
 * government reports: 1.47 for bigrams, 2.33 for 4-grams), so the probe
 * often runs into the next line; prefetching it too made counting about
 * 13 % faster (docs/ngrams.md). */
static inline void prefetch_slot(const ng_table *t, uint64_t key)
{
    const char *p = (const char *)&t->slots[slot_of(key, t->cap)];
    __builtin_prefetch(p, 1, 1);
    __builtin_prefetch(p + 64, 1, 1);
}

/* Upserts the m valid windows (keys[j] starting at pos[j], ascending) into
 * t, counting each once, and writes each id to ids[pos[j]] (ids may be
 * NULL).  The slot of the window NG_PREFETCH ahead is prefetched, so several
 * cache misses are in flight at once.  (Sorting a large batch of windows by
 * table partition, to keep each partition's slots in L2, was measured and
 * rejected: docs/ngrams.md.) */
static tifa_status count_pass(ng_table *t, const uint64_t *keys, const uint32_t *pos,
                              size_t m, uint32_t *ids, const ng_marks *mk,
                              ng_scratch *sc)
{
    if (!t->slots && table_grow(t, sc) != TIFA_OK)
        return TIFA_ENOMEM;
    size_t k = 0;
    for (size_t j = 0; j < m; j++) {
        if (j + NG_PREFETCH < m)
            prefetch_slot(t, keys[j + NG_PREFETCH]);
        while (k + 1 < mk->n && mk->pos[k + 1] <= pos[j])
            k++;
        ng_slot *s = count_one(t, keys[j], mk->stamp[k], sc);
        if (!s)
            return TIFA_ENOMEM;
        if (ids)
            ids[pos[j]] = s->id;
    }
    return TIFA_OK;
}

/* Counts the character unigrams of u[0..m) (0 = break) into t.  A batch
 * holds only a few thousand distinct characters, so instead of one hash
 * upsert per character they are first counted in an array indexed by code
 * point (no hashing, no probing, always in cache), and then each distinct
 * one is added to t once, in order of first occurrence, so ids are the same
 * as window-by-window upserts would give.  Document frequency stays exact
 * across batches: a batch's first document may have been counted in the
 * previous batch too, which t's last stamp tells (docs/ngrams.md). */
static tifa_status count_unigrams(tifa_ngrams *ng, ng_table *t, const uint32_t *u,
                                  size_t m, const ng_marks *mk)
{
    if (!t->slots && table_grow(t, &ng->grow) != TIFA_OK)
        return TIFA_ENOMEM;
    ng_uni *acc = ng->uni;
    uint32_t *seen = ng->uni_seen;
    size_t n_seen = 0, k = 0;
    uint32_t stamp = mk->stamp[0];
    size_t next = mk->n > 1 ? mk->pos[1] : SIZE_MAX;
    for (size_t i = 0; i < m; i++) {
        while (i >= next) {
            stamp = mk->stamp[++k];
            next = k + 1 < mk->n ? mk->pos[k + 1] : SIZE_MAX;
        }
        ng_uni *a = &acc[u[i]]; /* acc[0] takes the breaks and is ignored */
        if (__builtin_expect(!a->count, 0)) {
            seen[n_seen++] = u[i];
            a->first = stamp;
        }
        a->count++;
        a->docs += a->last != stamp;
        a->last = stamp;
    }
    tifa_status st = TIFA_OK;
    for (size_t j = 0; j < n_seen; j++) {
        ng_uni *a = &acc[seen[j]];
        if (seen[j] && st == TIFA_OK) {
            ng_slot *s = table_upsert(t, seen[j], &ng->grow);
            if (!s || slot_add(t, s, a->count, a->docs - (s->last == a->first)) != TIFA_OK)
                st = TIFA_ENOMEM;
            else
                s->last = a->last;
        }
        memset(a, 0, sizeof *a);
    }
    return st;
}

static tifa_status flush_batch(tifa_ngrams *ng, bool final);

/* Next document stamp; on wrap-around the batch is counted and every stamp
 * cleared. */
static tifa_status next_stamp(tifa_ngrams *ng)
{
    if (ng->stamp + 1 != 0) {
        ng->stamp++;
        return TIFA_OK;
    }
    tifa_status st = flush_batch(ng, true);
    for (size_t i = 0; i < ng->n_corpora; i++)
        for (int u = 0; u < 2; u++)
            for (int n = 0; n < NG_TABLES; n++) {
                ng_table *t = &ng->corpora[i].t[u][n];
                for (size_t j = 0; t->size && j < t->cap; j++)
                    t->slots[j].last = 0;
            }
    ng->stamp = 1;
    return st;
}

/* Counts every window that starts in u[0..m) (u[m..m+maxn) must be
 * readable; 0 is a break).  Each pass first gathers the keys of the valid
 * windows (branch-free), then counts them. */
static tifa_status count_units(tifa_ngrams *ng, ng_corpus *c, int unit,
                               const uint32_t *u, size_t m, const ng_marks *mk)
{
    uint64_t *keys = ng->keys;
    uint32_t *pos = ng->pos;
    uint32_t *prev = ng->ida, *next = ng->idb;
    tifa_status st = TIFA_OK;
    ng_table *t = c->t[unit];
    bool ch = unit == TIFA_UNIT_CHAR;
    /* a level worker counts only lo..hi (lo <= 3, characters only) */
    int lo = ch ? ng->level_lo : 1, hi = ch ? ng->level_hi : ng->opt.word_max;
    size_t k = 0;

    if (lo == 1 && ch) {
        st = count_unigrams(ng, &t[1], u, m, mk);
    } else if (lo == 1) {
        for (size_t i = 0; i < m; i++) {
            keys[k] = u[i];
            pos[k] = (uint32_t)i;
            k += u[i] != 0;
        }
        st = count_pass(&t[1], keys, pos, k, NULL, mk, &ng->grow);
    }
    if (st != TIFA_OK || hi < 2)
        return st;
    unsigned sh = ch ? 21 : 32;
    if (lo <= 2) {
        k = 0;
        for (size_t i = 0; i < m; i++) {
            keys[k] = (uint64_t)u[i] << sh | u[i + 1];
            pos[k] = (uint32_t)i;
            k += (u[i] != 0) & (u[i + 1] != 0);
        }
        memset(prev, 0, m * sizeof *prev);
        if ((st = count_pass(&t[2], keys, pos, k, prev, mk, &ng->grow)) != TIFA_OK)
            return st;
    }
    for (int n = lo > 3 ? lo : 3; n <= hi; n++) {
        k = 0;
        if (ch && n == 3) {
            /* valid where the bigram at i was (its id), or, when no bigrams
             * are counted here, where both of its units are Han */
            for (size_t i = 0; i < m; i++) {
                keys[k] = (uint64_t)u[i] << 42 | (uint64_t)u[i + 1] << 21 | u[i + 2];
                pos[k] = (uint32_t)i;
                bool two = lo <= 2 ? prev[i] != 0 : (u[i] != 0) & (u[i + 1] != 0);
                k += two & (u[i + 2] != 0);
            }
        } else {
            for (size_t i = 0; i < m; i++) {
                keys[k] = (uint64_t)prev[i] << 32 | u[i + n - 1];
                pos[k] = (uint32_t)i;
                k += (prev[i] != 0) & (u[i + n - 1] != 0);
            }
        }
        if (n < hi)
            memset(next, 0, m * sizeof *next);
        if ((st = count_pass(&t[n], keys, pos, k, n < hi ? next : NULL, mk,
                             &ng->grow)) !=
            TIFA_OK)
            return st;
        uint32_t *tmp = prev;
        prev = next;
        next = tmp;
    }
    return TIFA_OK;
}

static tifa_status push_mark(tifa_ngrams *ng, uint32_t pos, uint32_t stamp)
{
    if (ng->n_marks == ng->cap_marks) {
        size_t cap = ng->cap_marks ? ng->cap_marks * 2 : 256;
        uint32_t *p = realloc(ng->mark_pos, cap * sizeof *p);
        if (!p)
            return TIFA_ENOMEM;
        ng->mark_pos = p;
        uint32_t *q = realloc(ng->mark_stamp, cap * sizeof *q);
        if (!q)
            return TIFA_ENOMEM;
        ng->mark_stamp = q;
        ng->cap_marks = cap;
    }
    ng->mark_pos[ng->n_marks] = pos;
    ng->mark_stamp[ng->n_marks++] = stamp;
    return TIFA_OK;
}

/* Counts the character batch: all of it when final, else all but the last
 * char_max - 1 units (moved to the front with their marks: their windows are
 * not complete yet). */
static tifa_status flush_batch(tifa_ngrams *ng, bool final)
{
    if (!ng->n_units)
        return TIFA_OK;
    size_t keep = final ? 0 : (size_t)(ng->opt.char_max - 1);
    if (ng->n_units <= keep)
        return TIFA_OK;
    size_t m = ng->n_units - keep;
    memset(ng->units + ng->n_units, 0, NG_TABLES * sizeof *ng->units);
    ng_marks mk = { ng->mark_pos, ng->mark_stamp, ng->n_marks };
    tifa_status st = count_units(ng, &ng->corpora[ng->batch_corpus], TIFA_UNIT_CHAR,
                                 ng->units, m, &mk);
    memmove(ng->units, ng->units + m, keep * sizeof *ng->units);
    ng->n_units = keep;
    /* marks of the kept units: the one covering position m, then later ones */
    size_t first = 0;
    while (first + 1 < ng->n_marks && ng->mark_pos[first + 1] <= m)
        first++;
    size_t out = 0;
    for (size_t i = first; keep && i < ng->n_marks; i++) {
        ng->mark_pos[out] = i == first ? 0 : ng->mark_pos[i] - (uint32_t)m;
        ng->mark_stamp[out++] = ng->mark_stamp[i];
    }
    ng->n_marks = out;
    return st;
}

/* Appends a document's Han characters to the batch (counting the batch
 * whenever it is full). */
static tifa_status add_chars(tifa_ngrams *ng, size_t corpus, const char *text,
                             size_t len)
{
    tifa_status st;
    if (ng->n_units && ng->batch_corpus != corpus &&
        (st = flush_batch(ng, true)) != TIFA_OK)
        return st;
    ng->batch_corpus = corpus;
    if ((st = push_mark(ng, (uint32_t)ng->n_units, ng->stamp)) != TIFA_OK)
        return st;
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + len;
    uint32_t *u = ng->units;
    size_t n = ng->n_units;
    while (p < end) {
        if (n >= NG_CHUNK) {
            ng->n_units = n;
            if ((st = flush_batch(ng, false)) != TIFA_OK)
                return st;
            n = ng->n_units;
        }
        unsigned b = *p;
        uint32_t cp = 0;
        if (b < 0x80) {
            p++;
            while (p < end && *p < 0x80)
                p++;
        } else if (b >= 0xE0 && b < 0xF0 && end - p >= 3 &&
                   (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            cp = (b & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
            p += 3;
        } else if (b >= 0xF0 && b < 0xF5 && end - p >= 4 &&
                   (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
                   (p[3] & 0xC0) == 0x80) {
            cp = (b & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 |
                 (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
            p += 4;
        } else {
            p++; /* 2-byte sequences (never Han) and invalid bytes */
            while (p < end && (*p & 0xC0) == 0x80)
                p++;
        }
        if (cp && is_han(ng, cp))
            u[n++] = cp;
        else if (n && u[n - 1])
            u[n++] = 0;
    }
    if (n && u[n - 1]) /* documents never join */
        u[n++] = 0;
    ng->n_units = n;
    if (n >= NG_CHUNK)
        return flush_batch(ng, false);
    return TIFA_OK;
}

/* Counts whatever the batch holds; every entry point that reads or moves the
 * tables calls it first. */
static tifa_status ng_sync(tifa_ngrams *ng)
{
    return flush_batch(ng, true);
}

/* --- word unit --- */

typedef struct word_ctx {
    tifa_ngrams *ng;
    ng_corpus *c;
    tifa_status st;
} word_ctx;

static void on_sentence(const char *start, size_t bytes, void *user)
{
    word_ctx *w = user;
    tifa_ngrams *ng = w->ng;
    if (w->st != TIFA_OK)
        return;
    if (ng->n_spans + 2 > ng->cap_spans) {
        size_t cap = ng->cap_spans ? ng->cap_spans * 2 : 256;
        size_t *s = realloc(ng->spans, cap * sizeof *s);
        if (!s) {
            w->st = TIFA_ENOMEM;
            return;
        }
        ng->spans = s;
        ng->cap_spans = cap;
    }
    ng->spans[ng->n_spans++] = (size_t)(uintptr_t)start;
    ng->spans[ng->n_spans++] = bytes;
}

/* Counts the words of the current document buffered so far (all when
 * final, else all but the last word_max - 1). */
static tifa_status flush_words(tifa_ngrams *ng, ng_corpus *c, bool final)
{
    size_t keep = final ? 0 : (size_t)(ng->opt.word_max - 1);
    if (ng->n_wunits <= keep)
        return TIFA_OK;
    size_t m = ng->n_wunits - keep;
    memset(ng->wunits + ng->n_wunits, 0, NG_TABLES * sizeof *ng->wunits);
    uint32_t zero = 0, stamp = ng->stamp;
    ng_marks mk = { &zero, &stamp, 1 };
    tifa_status st = count_units(ng, c, TIFA_UNIT_WORD, ng->wunits, m, &mk);
    memmove(ng->wunits, ng->wunits + m, keep * sizeof *ng->wunits);
    ng->n_wunits = keep;
    return st;
}

static void push_unit(word_ctx *w, uint32_t id)
{
    tifa_ngrams *ng = w->ng;
    if (w->st != TIFA_OK)
        return;
    if (!id && (!ng->n_wunits || !ng->wunits[ng->n_wunits - 1]))
        return;
    ng->wunits[ng->n_wunits++] = id;
    if (ng->n_wunits >= NG_CHUNK)
        w->st = flush_words(ng, w->c, false);
}

static void on_word(const char *start, size_t bytes, void *user)
{
    word_ctx *w = user;
    if (!start || !bytes) {
        push_unit(w, 0);
        return;
    }
    uint32_t id = tifa_strmap_intern(w->ng->words, start, bytes, NULL);
    if (id == UINT32_MAX || id >= UINT32_MAX - 1) {
        w->st = TIFA_ENOMEM;
        return;
    }
    push_unit(w, id + 1);
}

static tifa_status add_words(tifa_ngrams *ng, ng_corpus *c, const char *text,
                             size_t len)
{
    tifa_status st;
    if (!ng->seg) {
        ng->seg = tifa_segmenter_new(&st);
        if (!ng->seg)
            return st != TIFA_OK ? st : TIFA_EINTERNAL;
    }
    word_ctx w = { ng, c, TIFA_OK };
    ng->n_spans = 0;
    ng->n_wunits = 0;
    if ((st = tifa_sentences(ng->seg, text, len, on_sentence, &w)) != TIFA_OK)
        return st;
    if (w.st != TIFA_OK)
        return w.st;
    for (size_t i = 0; i < ng->n_spans; i += 2) {
        const char *s = (const char *)(uintptr_t)ng->spans[i];
        if ((st = tifa_words(ng->seg, s, ng->spans[i + 1], on_word, &w)) != TIFA_OK)
            return st;
        push_unit(&w, 0);
        if (w.st != TIFA_OK)
            return w.st;
    }
    return flush_words(ng, c, true);
}

static tifa_status maybe_spill(tifa_ngrams *ng);

/* Counts one document (duplicates, duplicate_of != NULL, are skipped). */
tifa_status tifa_ngrams_add_doc(tifa_ngrams *ng, const tifa_doc *doc)
{
    if (!ng || !doc)
        return TIFA_EUSAGE;
    if (doc->duplicate_of)
        return TIFA_OK;
    ng_corpus *c = corpus_get(ng, doc->corpus);
    if (!c)
        return TIFA_ENOMEM;
    size_t ci = (size_t)(c - ng->corpora);
    tifa_status st = reserve_scratch(ng);
    if (st == TIFA_OK)
        st = next_stamp(ng);
    if (st != TIFA_OK)
        return st;
    if (ng->level_lo == 1) { /* counted once over a set of level workers */
        c->chars += doc->chars;
        c->docs++;
    }
    const char *text = doc->text ? doc->text : "";
    size_t len = doc->text ? doc->text_len : 0;
    if (ng->opt.char_max)
        st = add_chars(ng, ci, text, len);
    if (st == TIFA_OK && ng->opt.word_max && ng->level_lo == 1)
        st = add_words(ng, &ng->corpora[ci], text, len);
    /* under a budget the tables must be current at every document end, where
     * a spill may happen */
    if (st == TIFA_OK && ng->opt.memory_budget)
        st = ng_sync(ng);
    if (st != TIFA_OK)
        return st;
    return maybe_spill(ng);
}

/* ---------------------------------------------------------------- merge -- */

static tifa_status check_compatible(const tifa_ngrams *a, const tifa_ngrams *b)
{
    if (a->opt.char_max != b->opt.char_max || a->opt.word_max != b->opt.word_max)
        return TIFA_EUSAGE;
    return TIFA_OK;
}

/* Translates a key of (unit, n) from one engine's ids to another's. */
static uint64_t translate_key(int unit, int n, uint64_t key,
                              uint32_t *const *maps, const uint32_t *wmap)
{
    uint64_t hi = key >> 32, lo = key & 0xFFFFFFFFu;
    if (unit == TIFA_UNIT_CHAR) {
        if (n <= 3 || !maps[n - 1]) /* no map: the prefix ids are the same */
            return key;
        return (uint64_t)maps[n - 1][hi] << 32 | lo;
    }
    if (n == 1)
        return wmap[key];
    if (n == 2)
        return (uint64_t)wmap[hi] << 32 | wmap[lo];
    return (uint64_t)(maps[n - 1] ? maps[n - 1][hi] : hi) << 32 | wmap[lo];
}

/* Adds the tables of corpus src (ids of engine `from`) to dst; maps and
 * wmap translate ids. */
static tifa_status merge_corpus(ng_corpus *dst, ng_corpus *src,
                                int unit, int maxn, const uint32_t *wmap,
                                bool wmap_identity, ng_scratch *sc)
{
    uint32_t *maps[NG_TABLES] = { 0 }; /* NULL: ids unchanged */
    tifa_status st = TIFA_OK;
    bool same_ids = true; /* keys of n need no translation */
    for (int n = 1; n <= maxn && st == TIFA_OK; n++) {
        ng_table *s = &src->t[unit][n];
        ng_table *d = &dst->t[unit][n];
        if (unit == TIFA_UNIT_CHAR)
            same_ids = n <= 3 || !maps[n - 1];
        else
            same_ids = wmap_identity && (n <= 2 || !maps[n - 1]);
        if (!d->size && same_ids) {
            /* nothing to add to, and the keys stay valid: take the table
             * over (level workers' tables, the first worker's) */
            ng_table tmp = *d;
            *d = *s;
            *s = tmp;
            continue;
        }
        if (s->size && (st = table_reserve(d, s->size, sc)) != TIFA_OK)
            break;
        if (n < maxn) {
            maps[n] = calloc(s->size + 1, sizeof *maps[n]);
            if (!maps[n]) {
                st = TIFA_ENOMEM;
                break;
            }
        }
        /* Entries are translated a chunk at a time and then added with the
         * destination slot NG_PREFETCH entries ahead prefetched, as in
         * count_pass: the destination is as large as the source and every
         * insert is a random access (merging two workers of the 100 MB
         * government corpus: 0.16 s before, docs/ngrams.md). */
        const ng_slot *chunk[NG_MERGE_CHUNK];
        uint64_t keys[NG_MERGE_CHUNK];
        size_t i = 0;
        while (st == TIFA_OK && s->size && i < s->cap) {
            size_t m = 0;
            for (; i < s->cap && m < NG_MERGE_CHUNK; i++) {
                const ng_slot *e = &s->slots[i];
                if (!e->key)
                    continue;
                chunk[m] = e;
                keys[m++] = translate_key(unit, n, e->key, maps, wmap);
            }
            for (size_t j = 0; j < m; j++) {
                if (j + NG_PREFETCH < m)
                    prefetch_slot(d, keys[j + NG_PREFETCH]);
                const ng_slot *e = chunk[j];
                ng_slot *o = table_upsert(d, keys[j], sc);
                if (!o) {
                    st = TIFA_ENOMEM;
                    break;
                }
                if ((st = slot_add(d, o, slot_count(s, e), e->docs)) != TIFA_OK)
                    break;
                if (maps[n])
                    maps[n][e->id] = o->id;
            }
        }
    }
    for (int n = 0; n < NG_TABLES; n++)
        free(maps[n]);
    return st;
}

static tifa_status merge_runs(tifa_ngrams *into, tifa_ngrams *from);

/* Adds everything `from` counted to `into`.  Exact: counts, document
 * frequencies and sizes add up.  `from` is consumed (tables and spilled runs
 * may move to into): free it afterwards. */
tifa_status tifa_ngrams_merge(tifa_ngrams *into, tifa_ngrams *from)
{
    if (!into || !from)
        return TIFA_EUSAGE;
    tifa_status st = check_compatible(into, from);
    if (st == TIFA_OK)
        st = ng_sync(into);
    if (st == TIFA_OK)
        st = ng_sync(from);
    if (st != TIFA_OK)
        return st;
    size_t nw = tifa_strmap_size(from->words);
    uint32_t *wmap = calloc(nw + 1, sizeof *wmap);
    if (!wmap)
        return TIFA_ENOMEM;
    bool wmap_identity = true;
    for (size_t i = 0; i < nw; i++) {
        size_t len;
        const char *w = tifa_strmap_key(from->words, (uint32_t)i, &len);
        uint32_t id = tifa_strmap_intern(into->words, w, len, NULL);
        if (id == UINT32_MAX) {
            free(wmap);
            return TIFA_ENOMEM;
        }
        wmap[i + 1] = id + 1;
        wmap_identity &= id == i;
    }
    for (size_t k = 0; k < from->n_corpora && st == TIFA_OK; k++) {
        ng_corpus *src = &from->corpora[k];
        ng_corpus *dst = corpus_get(into, src->name);
        if (!dst) {
            st = TIFA_ENOMEM;
            break;
        }
        dst->chars += src->chars;
        dst->docs += src->docs;
        for (int u = 0; u < 2 && st == TIFA_OK; u++) {
            st = merge_corpus(dst, src, u, maxn_of(into, u), wmap, wmap_identity,
                              &into->grow);
        }
    }
    free(wmap);
    if (st == TIFA_OK)
        st = merge_runs(into, from);
    if (st == TIFA_OK)
        st = maybe_spill(into);
    return st;
}

/* --------------------------------------------------- n-gram text and ids -- */

typedef struct ng_index {
    const ng_slot **idx[2][NG_TABLES]; /* id -> slot, for prefix tables */
} ng_index;

/* Releases what index_build allocated. */
static void index_free(ng_index *x)
{
    for (int u = 0; u < 2; u++)
        for (int n = 0; n < NG_TABLES; n++)
            free(x->idx[u][n]);
    memset(x, 0, sizeof *x);
}

/* Fills x with id -> slot arrays of the prefix tables of c (the tables
 * whose ids longer keys refer to); release with index_free, also on error. */
static tifa_status index_build(ng_index *x, const ng_corpus *c, int maxc, int maxw)
{
    memset(x, 0, sizeof *x);
    for (int n = 3; n < maxc; n++)
        if (!(x->idx[TIFA_UNIT_CHAR][n] = table_index(&c->t[TIFA_UNIT_CHAR][n])))
            return TIFA_ENOMEM;
    for (int n = 2; n < maxw; n++)
        if (!(x->idx[TIFA_UNIT_WORD][n] = table_index(&c->t[TIFA_UNIT_WORD][n])))
            return TIFA_ENOMEM;
    return TIFA_OK;
}

/* Unpacks a key of (unit, n) into its n units (code points or word ids).
 * Returns false for a key that refers to an unknown id. */
static bool key_units(const ng_index *x, const ng_corpus *c, int unit, int n,
                      uint64_t key, uint32_t *out)
{
    if (n == 1) {
        out[0] = (uint32_t)key;
        return true;
    }
    if (unit == TIFA_UNIT_CHAR && n <= 3) {
        for (int i = n - 1; i >= 0; i--) {
            out[i] = (uint32_t)(key & 0x1FFFFF);
            key >>= 21;
        }
        return true;
    }
    if (unit == TIFA_UNIT_WORD && n == 2) {
        out[0] = (uint32_t)(key >> 32);
        out[1] = (uint32_t)key;
        return true;
    }
    uint32_t hi = (uint32_t)(key >> 32);
    out[n - 1] = (uint32_t)key;
    if (!hi || hi > c->t[unit][n - 1].size || !x->idx[unit][n - 1])
        return false;
    return key_units(x, c, unit, n - 1, x->idx[unit][n - 1][hi]->key, out);
}

/* UTF-8 of code point cp at p (at least 4 bytes); returns the bytes. */
static inline size_t utf8_to(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xC0 | cp >> 6);
        p[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xE0 | cp >> 12);
        p[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | cp >> 18);
    p[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    p[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    p[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static tifa_status put_utf8(tifa_buf *b, uint32_t cp)
{
    char s[4];
    return tifa_buf_append(b, s, utf8_to(s, cp));
}

/* Appends the written form of n units: characters as they are, words
 * separated by one space. */
static tifa_status units_text(const tifa_ngrams *ng, int unit, const uint32_t *v,
                              int n, tifa_buf *b)
{
    tifa_status st = TIFA_OK;
    for (int i = 0; i < n && st == TIFA_OK; i++) {
        if (unit == TIFA_UNIT_CHAR) {
            st = put_utf8(b, v[i]);
        } else {
            size_t len = 0;
            if (!v[i] || v[i] > tifa_strmap_size(ng->words))
                return TIFA_EFORMAT;
            const char *w = tifa_strmap_key(ng->words, v[i] - 1, &len);
            if (i)
                st = tifa_buf_putc(b, ' ');
            if (st == TIFA_OK)
                st = tifa_buf_append(b, w, len);
        }
    }
    return st;
}

/* The slot of the n-gram with units v in corpus c (word ids of ng), or NULL
 * (borrowed from the table). */
static const ng_slot *find_units(const ng_corpus *c, int unit, int n,
                                 const uint32_t *v)
{
    if (n == 1)
        return table_find(&c->t[unit][1], v[0]);
    uint64_t key;
    if (unit == TIFA_UNIT_CHAR && n <= 3) {
        key = 0;
        for (int i = 0; i < n; i++)
            key = key << 21 | v[i];
    } else if (unit == TIFA_UNIT_WORD && n == 2) {
        key = (uint64_t)v[0] << 32 | v[1];
    } else {
        const ng_slot *p = find_units(c, unit, n - 1, v);
        if (!p)
            return NULL;
        key = (uint64_t)p->id << 32 | v[n - 1];
    }
    return table_find(&c->t[unit][n], key);
}

/* ---------------------------------------------------------- save / load -- */

/* Shard format v1 (little-endian; docs/ngrams.md):
 *   "TIFANGR1" u32 version=1 u32 char_min u32 char_max u32 word_min
 *   u32 word_max u64 min_count u64 min_docs u64 top_k
 *   u64 n_stop, then per stop-listed n-gram: u32 len, bytes
 *   u64 n_words, then per word: u32 len, bytes            (word id = index+1)
 *   u32 n_corpora, then per corpus: u32 len, name, u64 chars, u64 docs,
 *     for unit char (n = 1..char_max) then word (n = 1..word_max):
 *       u64 size, then size entries in id order: u64 key, u64 count, u32 docs
 *   u64 XXH64 (seed 0) of every byte before it.
 * Keys are those of the engine (ids refer to the entry order of the shard),
 * so loading reproduces the tables exactly. */
#define NG_MAGIC "TIFANGR1"
#define NG_VERSION 1u

static tifa_status put_u32(tifa_buf *b, uint32_t v)
{
    unsigned char s[4];
    for (int i = 0; i < 4; i++)
        s[i] = (unsigned char)(v >> (8 * i));
    return tifa_buf_append(b, s, 4);
}
static tifa_status put_u64(tifa_buf *b, uint64_t v)
{
    unsigned char s[8];
    for (int i = 0; i < 8; i++)
        s[i] = (unsigned char)(v >> (8 * i));
    return tifa_buf_append(b, s, 8);
}

/* Appends the shard of ng (format above) to b; the caller owns b. */
static tifa_status serialize(const tifa_ngrams *ng, tifa_buf *b)
{
    tifa_status st = tifa_buf_append(b, NG_MAGIC, 8);
    if (st == TIFA_OK) st = put_u32(b, NG_VERSION);
    if (st == TIFA_OK) st = put_u32(b, (uint32_t)ng->opt.char_min);
    if (st == TIFA_OK) st = put_u32(b, (uint32_t)ng->opt.char_max);
    if (st == TIFA_OK) st = put_u32(b, (uint32_t)ng->opt.word_min);
    if (st == TIFA_OK) st = put_u32(b, (uint32_t)ng->opt.word_max);
    if (st == TIFA_OK) st = put_u64(b, (uint64_t)ng->opt.min_count);
    if (st == TIFA_OK) st = put_u64(b, (uint64_t)ng->opt.min_docs);
    if (st == TIFA_OK) st = put_u64(b, (uint64_t)ng->opt.top_k);
    size_t ns = ng->stop ? tifa_strmap_size(ng->stop) : 0;
    if (st == TIFA_OK) st = put_u64(b, ns);
    for (size_t i = 0; i < ns && st == TIFA_OK; i++) {
        size_t len;
        const char *w = tifa_strmap_key(ng->stop, (uint32_t)i, &len);
        st = put_u32(b, (uint32_t)len);
        if (st == TIFA_OK)
            st = tifa_buf_append(b, w, len);
    }
    size_t nw = tifa_strmap_size(ng->words);
    if (st == TIFA_OK) st = put_u64(b, nw);
    for (size_t i = 0; i < nw && st == TIFA_OK; i++) {
        size_t len;
        const char *w = tifa_strmap_key(ng->words, (uint32_t)i, &len);
        st = put_u32(b, (uint32_t)len);
        if (st == TIFA_OK)
            st = tifa_buf_append(b, w, len);
    }
    if (st == TIFA_OK) st = put_u32(b, (uint32_t)ng->n_corpora);
    for (size_t k = 0; k < ng->n_corpora && st == TIFA_OK; k++) {
        const ng_corpus *c = &ng->corpora[k];
        size_t len = strlen(c->name);
        st = put_u32(b, (uint32_t)len);
        if (st == TIFA_OK) st = tifa_buf_append(b, c->name, len);
        if (st == TIFA_OK) st = put_u64(b, c->chars);
        if (st == TIFA_OK) st = put_u64(b, c->docs);
        for (int u = 0; u < 2 && st == TIFA_OK; u++) {
            for (int n = 1; n <= maxn_of(ng, u) && st == TIFA_OK; n++) {
                const ng_table *t = &c->t[u][n];
                const ng_slot **idx = table_index(t);
                if (!idx)
                    return TIFA_ENOMEM;
                st = put_u64(b, t->size);
                for (size_t id = 1; id <= t->size && st == TIFA_OK; id++) {
                    st = put_u64(b, idx[id]->key);
                    if (st == TIFA_OK) st = put_u64(b, slot_count(t, idx[id]));
                    if (st == TIFA_OK) st = put_u32(b, idx[id]->docs);
                }
                free(idx);
            }
        }
    }
    if (st == TIFA_OK)
        st = put_u64(b, XXH64(b->data, b->len, 0));
    return st;
}

/* Writes the counted tables as a shard file (atomically). */
tifa_status tifa_ngrams_save(const tifa_ngrams *ng, const char *path)
{
    if (!ng || !path)
        return TIFA_EUSAGE;
    if (ng->n_runs)
        return TIFA_ELIMIT; /* spilled engines are written, not saved */
    /* counting the pending batch changes no result, only when it is done */
    tifa_status st = ng_sync((tifa_ngrams *)ng);
    if (st != TIFA_OK)
        return st;
    tifa_buf b = { 0 };
    st = serialize(ng, &b);
    if (st == TIFA_OK)
        st = tifa_write_file_atomic(path, b.data, b.len);
    tifa_buf_free(&b);
    return st;
}

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint64_t get_n(reader *r, int bytes)
{
    if (r->bad || r->end - r->p < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    return v;
}

static const char *get_bytes(reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += n;
    return s;
}

/* Checks that a key only refers to ids already loaded. */
static bool key_valid(const tifa_ngrams *ng, const ng_corpus *c, int unit,
                      int n, uint64_t key)
{
    uint64_t hi = key >> 32, lo = key & 0xFFFFFFFFu;
    uint64_t nw = tifa_strmap_size(ng->words);
    if (!key)
        return false;
    if (unit == TIFA_UNIT_CHAR) {
        if (n <= 3) {
            for (int i = 0; i < n; i++, key >>= 21)
                if ((key & 0x1FFFFF) == 0)
                    return false;
            return key == 0;
        }
        return hi && hi <= c->t[unit][n - 1].size && lo && lo < 0x110000;
    }
    if (n == 1)
        return key <= nw;
    if (n == 2)
        return hi && hi <= nw && lo && lo <= nw;
    return hi && hi <= c->t[unit][n - 1].size && lo && lo <= nw;
}

/* Reads a shard written by tifa_ngrams_save, with the filters (n ranges,
 * min_count, min_docs, top_k, stop list entries) it was counted with, so
 * writing a merge of shards gives what the one run would have written; the
 * caller frees the result.  A damaged file (checksum, truncation, bad ids)
 * gives TIFA_EFORMAT. */
tifa_ngrams *tifa_ngrams_load(const char *path, tifa_status *status)
{
    tifa_status dummy;
    if (!status)
        status = &dummy;
    char *data = NULL;
    size_t len = 0;
    tifa_status st = tifa_read_file(path, &data, &len);
    if (st != TIFA_OK) {
        *status = st;
        return NULL;
    }
    tifa_ngrams *ng = NULL;
    reader r = { (const unsigned char *)data, (const unsigned char *)data + len, false };
    if (len < 8 + 20 + 24 + 8 + 8 + 4 + 8 || memcmp(data, NG_MAGIC, 8)) {
        st = TIFA_EFORMAT;
        goto out;
    }
    reader tail = { (const unsigned char *)data + len - 8,
                    (const unsigned char *)data + len, false };
    if (get_n(&tail, 8) != XXH64(data, len - 8, 0)) {
        st = TIFA_EFORMAT;
        goto out;
    }
    r.end -= 8;
    r.p += 8;
    uint32_t version = (uint32_t)get_n(&r, 4);
    tifa_ngram_options o = { 0 };
    o.char_min = (int)get_n(&r, 4);
    o.char_max = (int)get_n(&r, 4);
    o.word_min = (int)get_n(&r, 4);
    o.word_max = (int)get_n(&r, 4);
    uint64_t min_count = get_n(&r, 8), min_docs = get_n(&r, 8);
    o.top_k = (size_t)get_n(&r, 8);
    if (r.bad || version != NG_VERSION || o.char_max > NG_CHAR_MAX ||
        o.word_max > NG_WORD_MAX || o.char_min > o.char_max || o.word_min > o.word_max ||
        min_count > LONG_MAX || min_docs > LONG_MAX) {
        st = TIFA_EFORMAT;
        goto out;
    }
    o.min_count = (long)min_count;
    o.min_docs = (long)min_docs;
    ng = tifa_ngrams_new(&o, &st);
    if (!ng)
        goto out;
    uint64_t ns = get_n(&r, 8);
    if (ns && !r.bad && !(ng->stop = tifa_strmap_new())) {
        st = TIFA_ENOMEM;
        goto out;
    }
    for (uint64_t i = 0; i < ns && !r.bad; i++) {
        uint32_t sl = (uint32_t)get_n(&r, 4);
        const char *w = get_bytes(&r, sl);
        if (w && tifa_strmap_intern(ng->stop, w, sl, NULL) == UINT32_MAX) {
            st = TIFA_ENOMEM;
            goto out;
        }
    }
    uint64_t nw = get_n(&r, 8);
    for (uint64_t i = 0; i < nw && !r.bad; i++) {
        uint32_t wl = (uint32_t)get_n(&r, 4);
        const char *w = get_bytes(&r, wl);
        uint32_t id = w ? tifa_strmap_intern(ng->words, w, wl, NULL) : 0;
        if (w && id != i) { /* a word twice, or no memory */
            st = id == UINT32_MAX ? TIFA_ENOMEM : TIFA_EFORMAT;
            goto out;
        }
    }
    uint32_t nc = (uint32_t)get_n(&r, 4);
    for (uint32_t k = 0; k < nc && !r.bad; k++) {
        uint32_t cl = (uint32_t)get_n(&r, 4);
        const char *name = get_bytes(&r, cl);
        if (!name)
            break;
        char *cname = tifa_strndup(name, cl);
        if (!cname) {
            st = TIFA_ENOMEM;
            goto out;
        }
        size_t before = ng->n_corpora;
        ng_corpus *c = corpus_get(ng, cname);
        free(cname);
        if (!c) {
            st = TIFA_ENOMEM;
            goto out;
        }
        if (ng->n_corpora == before) { /* duplicate corpus name */
            st = TIFA_EFORMAT;
            goto out;
        }
        c->chars = get_n(&r, 8);
        c->docs = get_n(&r, 8);
        for (int u = 0; u < 2; u++) {
            for (int n = 1; n <= maxn_of(ng, u) && !r.bad; n++) {
                uint64_t size = get_n(&r, 8);
                if (size > (uint64_t)(r.end - r.p) / 20) {
                    r.bad = true;
                    break;
                }
                ng_table *t = &c->t[u][n];
                /* room for all first: a shard saved after a merge lists the
                 * merged entries in hash order, which would pile up at the
                 * front of a table that grows as they come (docs/ngrams.md,
                 * "Threads and merging") */
                if (size && table_reserve(t, (size_t)size, &ng->grow) != TIFA_OK) {
                    st = TIFA_ENOMEM;
                    goto out;
                }
                for (uint64_t id = 1; id <= size && !r.bad; id++) {
                    uint64_t key = get_n(&r, 8);
                    uint64_t count = get_n(&r, 8);
                    uint32_t docs = (uint32_t)get_n(&r, 4);
                    if (r.bad || !key_valid(ng, c, u, n, key)) {
                        r.bad = true;
                        break;
                    }
                    ng_slot *s = table_upsert(t, key, &ng->grow);
                    if (!s) {
                        st = TIFA_ENOMEM;
                        goto out;
                    }
                    if (s->id != id) { /* duplicate key */
                        r.bad = true;
                        break;
                    }
                    if (slot_add(t, s, count, docs) != TIFA_OK) {
                        st = TIFA_ENOMEM;
                        goto out;
                    }
                }
            }
        }
    }
    if (r.bad || r.p != r.end)
        st = TIFA_EFORMAT;
out:
    free(data);
    if (st != TIFA_OK) {
        tifa_ngrams_free(ng);
        ng = NULL;
    }
    *status = st;
    return ng;
}

/* ---------------------------------------------------------- output rows -- */

#define NG_REST "(rest)" /* reference of "each corpus against the rest", as stats/engine.c */

/* One row of ngrams.csv before sorting. */
typedef struct ng_row {
    uint64_t group;   /* corpus << 16 | unit << 8 | n: the sort's first key */
    uint64_t count, other; /* other: count in all other corpora (keyness b) */
    uint64_t prefix;  /* first 8 bytes of text, big-endian: fast tie-break */
    const char *text; /* into the row arena (set after collection) */
    size_t off, len;
    uint32_t docs;
    uint32_t corpus;  /* index into the sorted corpus order */
    uint8_t unit, n;
} ng_row;

typedef struct ng_rows {
    ng_row *v;
    size_t n, cap;
    tifa_buf arena;
    FILE **runs; /* sorted row runs (memory budget), temporary files */
    size_t n_runs;
    const ng_row **order; /* sorted order (rows_sort), or NULL: v is sorted */
} ng_rows;

/* The i-th row in sorted order (borrowed). */
static const ng_row *row_at(const ng_rows *r, size_t i)
{
    return r->order ? r->order[i] : &r->v[i];
}

static tifa_status rows_add(ng_rows *r, const ng_row *row, const char *text,
                            size_t len)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        ng_row *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return TIFA_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    ng_row *o = &r->v[r->n++];
    *o = *row;
    o->off = r->arena.len;
    o->len = len;
    return tifa_buf_append(&r->arena, text, len);
}

static void rows_free(ng_rows *r)
{
    free(r->v);
    tifa_buf_free(&r->arena);
    for (size_t i = 0; i < r->n_runs; i++)
        fclose(r->runs[i]);
    free(r->runs);
    free(r->order);
    memset(r, 0, sizeof *r);
}

/* The first 8 bytes of s as a big-endian integer, zero-padded. */
static inline uint64_t text_prefix(const char *s, size_t len)
{
    uint64_t p = 0;
    if (len >= 8) {
        memcpy(&p, s, 8);
        return __builtin_bswap64(p);
    }
    for (size_t i = 0; i < 8; i++)
        p = p << 8 | (i < len ? (unsigned char)s[i] : 0);
    return p;
}

static int bytes_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c)
        return c;
    return (la > lb) - (la < lb);
}

/* Row order: (corpus, unit, n), count descending, then code-point order
 * (byte order of UTF-8), the first 8 bytes compared as one integer. */
static int row_cmp(const void *pa, const void *pb)
{
    const ng_row *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    if (a->len <= 8 || b->len <= 8)
        return (a->len > b->len) - (a->len < b->len);
    return bytes_cmp(a->text + 8, a->len - 8, b->text + 8, b->len - 8);
}

/* Decimal digits of v at buf (at least 20 bytes); returns the length.
 * printf is a measurable share of writing 10^6 rows; two digits per
 * division here. */
static size_t put_dec(char *buf, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;
    while (v >= 100) {
        size_t r = (size_t)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, &pairs[2 * r], 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, &pairs[2 * v], 2);
    } else {
        *--q = (char)('0' + v);
    }
    size_t n = (size_t)(e - q);
    memcpy(buf, q, n);
    return n;
}

/* per_10k with 4 decimals, rounded half up from the exact fraction
 * count * 10^4 / chars (no binary floating point in between); returns the
 * length written to buf (at least 32 bytes).  In 64 bits when the
 * numerator fits (every real corpus), else in 128: the same quotient,
 * without the slow 128-bit division. */
static size_t format_per_10k(char *buf, uint64_t count, uint64_t chars)
{
    uint64_t whole, frac;
    if (chars <= UINT64_MAX / 4 && count <= (UINT64_MAX / 2 - chars) / 100000000u) {
        uint64_t q = (count * 200000000u + chars) / (2 * chars);
        whole = q / 10000;
        frac = q % 10000;
    } else {
        unsigned __int128 q = ((unsigned __int128)count * 100000000u * 2 + chars) /
                              (2 * (unsigned __int128)chars);
        whole = (uint64_t)(q / 10000);
        frac = (uint64_t)(q % 10000);
    }
    size_t n = put_dec(buf, whole);
    buf[n++] = '.';
    for (int k = 3; k >= 0; k--) {
        buf[n + (size_t)k] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return n + 4;
}

/* Whether a counted n-gram is written (filters other than top_k). */
static bool row_passes(const tifa_ngrams *ng, int unit, int n, uint64_t count,
                       uint32_t docs, const char *text, size_t len)
{
    if (n < minn_of(ng, unit) || n > maxn_of(ng, unit))
        return false;
    if (count == 0 || count < (uint64_t)ng->opt.min_count ||
        docs < (uint64_t)ng->opt.min_docs)
        return false;
    if (ng->stop && tifa_strmap_find(ng->stop, text, len) != UINT32_MAX)
        return false;
    return true;
}

static int row_cmp(const void *pa, const void *pb);

/* A compact sort key of a row: (corpus, unit, n) and the count inverted in
 * one integer, the first 8 bytes of the n-gram in another; ties go to
 * row_cmp.  Sorting these 24-byte keys instead of the 72-byte rows, with
 * the comparison inlined, takes less than half the time of qsort, and the
 * rows are not moved: the result is an array of row pointers. */
typedef struct row_key {
    uint64_t a, b;
    const ng_row *row;
} row_key;

#define NG_COUNT_BITS 40

static inline bool row_key_less(const row_key *x, const row_key *y,
                                const void *unused)
{
    (void)unused;
    if (x->a != y->a)
        return x->a < y->a;
    if (x->b != y->b)
        return x->b < y->b;
    return row_cmp(x->row, y->row) < 0;
}

/* Quicksort (median of three, insertion sort below 16, recursion on the
 * smaller side so the depth stays O(log n)) with the comparison inlined:
 * about twice as fast as qsort with a callback on 10^6 keys.  Defined once
 * as a template for the two key types of the writer: NAME sorts T v[0..n)
 * by LESS(x, y, ctx), a static inline function of (const T *, const T *,
 * CTX). */
#define NG_DEFINE_QUICKSORT(NAME, T, CTX, LESS)                               \
    static void NAME(T *v, size_t n, CTX ctx)                                 \
    {                                                                         \
        while (n > 16) {                                                      \
            size_t mid = n / 2;                                               \
            T t;                                                              \
            if (LESS(&v[mid], &v[0], ctx)) { t = v[mid]; v[mid] = v[0]; v[0] = t; } \
            if (LESS(&v[n - 1], &v[0], ctx)) { t = v[n - 1]; v[n - 1] = v[0]; v[0] = t; } \
            if (LESS(&v[n - 1], &v[mid], ctx)) { t = v[n - 1]; v[n - 1] = v[mid]; v[mid] = t; } \
            T pivot = v[mid];                                                 \
            size_t i = 0, j = n - 1;                                          \
            for (;;) {                                                        \
                while (LESS(&v[i], &pivot, ctx))                              \
                    i++;                                                      \
                while (LESS(&pivot, &v[j], ctx))                              \
                    j--;                                                      \
                if (i >= j)                                                   \
                    break;                                                    \
                t = v[i];                                                     \
                v[i] = v[j];                                                  \
                v[j] = t;                                                     \
                i++;                                                          \
                j--;                                                          \
            }                                                                 \
            /* v[0..j] <= pivot <= v[j+1..n) */                              \
            size_t left = j + 1, right = n - left;                            \
            if (left < right) {                                               \
                NAME(v, left, ctx);                                           \
                v += left;                                                    \
                n = right;                                                    \
            } else {                                                          \
                NAME(v + left, right, ctx);                                   \
                n = left;                                                     \
            }                                                                 \
        }                                                                     \
        for (size_t i = 1; i < n; i++) {                                      \
            T x = v[i];                                                       \
            size_t j = i;                                                     \
            while (j > 0 && LESS(&x, &v[j - 1], ctx)) {                       \
                v[j] = v[j - 1];                                              \
                j--;                                                          \
            }                                                                 \
            v[j] = x;                                                         \
        }                                                                     \
    }

NG_DEFINE_QUICKSORT(row_keys_sort, row_key, const void *, row_key_less)

/* Sets each row's text pointer, group and prefix (after collection, when
 * the arena no longer moves) and sorts the rows. */
static tifa_status rows_sort(ng_rows *rows)
{
    bool compact = true;
    for (size_t i = 0; i < rows->n; i++) {
        ng_row *r = &rows->v[i];
        r->text = rows->arena.data + r->off;
        r->group = (uint64_t)r->corpus << 16 | (uint64_t)r->unit << 8 | r->n;
        r->prefix = text_prefix(r->text, r->len);
        compact &= r->corpus < (1u << 19);
    }
    free(rows->order);
    rows->order = NULL;
    if (rows->n < 2)
        return TIFA_OK;
    row_key *keys = compact ? malloc(rows->n * sizeof *keys) : NULL;
    if (!keys) { /* fall back to sorting the rows themselves */
        qsort(rows->v, rows->n, sizeof *rows->v, row_cmp);
        return TIFA_OK;
    }
    const uint64_t cmax = (UINT64_C(1) << NG_COUNT_BITS) - 1;
    for (size_t i = 0; i < rows->n; i++) {
        const ng_row *r = &rows->v[i];
        uint64_t g = (uint64_t)r->corpus << 5 | (uint64_t)r->unit << 4 | r->n;
        keys[i].a = g << NG_COUNT_BITS | (cmax - (r->count < cmax ? r->count : cmax));
        keys[i].b = r->prefix;
        keys[i].row = r;
    }
    row_keys_sort(keys, rows->n, NULL);
    /* the order as row pointers, compacted in place (8 <= 24 bytes each) */
    const ng_row **order = (const ng_row **)(void *)keys;
    for (size_t i = 0; i < rows->n; i++) {
        const ng_row *r = keys[i].row;
        order[i] = r;
    }
    const ng_row **shrunk = realloc(order, rows->n * sizeof *order);
    rows->order = shrunk ? shrunk : order;
    return TIFA_OK;
}

static tifa_status fput_u(FILE *f, uint64_t v, int bytes);
static tifa_status fput_str(FILE *f, const char *p, size_t n);
static bool fget_u(FILE *f, int bytes, uint64_t *v);
static bool fget_str(FILE *f, tifa_buf *b);

/* Under a memory budget: writes the collected rows, sorted, as a row run
 * (u64 group, u64 count, u64 other, u32 docs, u32 length, text; a final
 * group of UINT64_MAX) to a temporary file and empties the rows. */
static tifa_status rows_spill(ng_rows *rows)
{
    FILE **runs = realloc(rows->runs, (rows->n_runs + 1) * sizeof *runs);
    if (!runs)
        return TIFA_ENOMEM;
    rows->runs = runs;
    FILE *f = tmpfile();
    if (!f)
        return TIFA_EIO;
    rows->runs[rows->n_runs++] = f;
    tifa_status st = rows_sort(rows);
    for (size_t i = 0; i < rows->n && st == TIFA_OK; i++) {
        const ng_row *r = row_at(rows, i);
        st = fput_u(f, r->group, 8);
        if (st == TIFA_OK) st = fput_u(f, r->count, 8);
        if (st == TIFA_OK) st = fput_u(f, r->other, 8);
        if (st == TIFA_OK) st = fput_u(f, r->docs, 4);
        if (st == TIFA_OK) st = fput_str(f, r->text, r->len);
    }
    if (st == TIFA_OK)
        st = fput_u(f, UINT64_MAX, 8);
    if (st == TIFA_OK && fflush(f) != 0)
        st = TIFA_EIO;
    rewind(f);
    rows->n = 0;
    free(rows->order);
    rows->order = NULL;
    tifa_buf_clear(&rows->arena);
    return st;
}

/* The next row of a row run into *r (text in buf); false at its end. */
static tifa_status row_read(FILE *f, ng_row *r, tifa_buf *buf, bool *done)
{
    uint64_t group, count, other, docs;
    if (!fget_u(f, 8, &group))
        return TIFA_EIO;
    if (group == UINT64_MAX) {
        *done = true;
        return TIFA_OK;
    }
    if (!fget_u(f, 8, &count) || !fget_u(f, 8, &other) || !fget_u(f, 4, &docs) ||
        !fget_str(f, buf))
        return TIFA_EIO;
    memset(r, 0, sizeof *r);
    r->group = group;
    r->corpus = (uint32_t)(group >> 16);
    r->unit = (uint8_t)(group >> 8);
    r->n = (uint8_t)group;
    r->count = count;
    r->other = other;
    r->docs = (uint32_t)docs;
    r->text = buf->data;
    r->len = buf->len;
    r->prefix = text_prefix(r->text, r->len);
    *done = false;
    return TIFA_OK;
}

/* Sorted order of the corpora by name: order[i] = index of the i-th.
 * Caller frees. */
static size_t *corpus_order(const tifa_ngrams *ng)
{
    size_t *order = malloc((ng->n_corpora + 1) * sizeof *order);
    if (!order)
        return NULL;
    for (size_t i = 0; i < ng->n_corpora; i++) {
        size_t j = i;
        while (j > 0 && strcmp(ng->corpora[order[j - 1]].name, ng->corpora[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return order;
}

/* ------------------------------------------------- formatting the rows -- */

/* Bytes after the n-gram field of a row at most: ',' count (20) ',' docs
 * (10) ',' per_10k (24 + 1 + 4) CRLF. */
#define NG_ROW_TAIL 64

/* Bytes format_row may write for a prefix of plen bytes and a text of len. */
static inline size_t row_bound(size_t plen, size_t len)
{
    return plen + 2 * len + 2 + NG_ROW_TAIL;
}

/* The fields a group's rows share, "corpus,unit,n," as CSV, at dst (room
 * for 2 * strlen(name) + 2 + 16 bytes); returns the length. */
static size_t group_prefix(char *dst, const char *name, int unit, int n)
{
    size_t k = tifa_csv_field_to(dst, name, strlen(name));
    memcpy(dst + k, unit == TIFA_UNIT_CHAR ? ",char," : ",word,", 6);
    k += 6;
    k += put_dec(dst + k, (uint64_t)n);
    dst[k++] = ',';
    return k;
}

/* Formats one row of ngrams.csv at dst (room for row_bound(plen, len)):
 * the group's prefix, the n-gram, count, docs, per_10k (empty when the
 * corpus has no Han characters: an undefined rate), CRLF, quoted as
 * tifa_csv quotes.  Returns the bytes written.  No allocation, so blocks of
 * rows are formatted on any thread. */
static size_t format_row(char *dst, const char *prefix, size_t plen,
                         const char *text, size_t len, uint64_t count,
                         uint32_t docs, uint64_t chars)
{
    char *p = dst;
    memcpy(p, prefix, plen);
    p += plen;
    p += tifa_csv_field_to(p, text, len);
    *p++ = ',';
    p += put_dec(p, count);
    *p++ = ',';
    p += put_dec(p, docs);
    *p++ = ',';
    if (chars)
        p += format_per_10k(p, count, chars);
    *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - dst);
}

static tifa_status collect_runs(tifa_ngrams *ng, const size_t *order,
                                ng_rows *rows);

/* The state of writing ngrams.csv from row runs (memory budget): top_k per
 * group and keyness rows. */
typedef struct row_writer {
    tifa_ngrams *ng;
    const size_t *order;
    tifa_csv *out;
    tifa_keyness_table *keyness; /* NULL: no keyness rows */
    uint64_t all_chars;
    uint64_t last_group;
    size_t in_group;
    tifa_buf line; /* the row being formatted */
} row_writer;

/* Writes one row (rows arrive sorted), unless top_k of its group is full. */
static tifa_status write_row(row_writer *w, const ng_row *r)
{
    tifa_ngrams *ng = w->ng;
    if (r->group != w->last_group) {
        w->last_group = r->group;
        w->in_group = 0;
    }
    if (ng->opt.top_k && w->in_group >= ng->opt.top_k)
        return TIFA_OK;
    w->in_group++;
    const ng_corpus *c = &ng->corpora[w->order[r->corpus]];
    const char *name = c->name ? c->name : "";
    size_t plen = 2 * strlen(name) + 2 + 16;
    tifa_buf_clear(&w->line);
    if (tifa_buf_reserve(&w->line, plen + row_bound(plen, r->len)) != TIFA_OK)
        return TIFA_ENOMEM;
    char *prefix = w->line.data, *row = prefix + plen;
    plen = group_prefix(prefix, name, r->unit, r->n);
    tifa_csv_rows(w->out, row,
                  format_row(row, prefix, plen, r->text, r->len, r->count, r->docs, c->chars));
    if (!w->keyness)
        return TIFA_OK;
    char *feature = tifa_strndup(r->text, r->len);
    if (!feature)
        return TIFA_ENOMEM;
    /* With two corpora "the rest" is the other one: name it (tifa compare's
     * target against reference). */
    const char *reference = NG_REST;
    if (w->ng->n_corpora == 2)
        reference = w->ng->corpora[&w->ng->corpora[0] == c ? 1 : 0].name;
    tifa_status st = tifa_keyness_table_add(
        w->keyness, c->name, reference, r->unit == TIFA_UNIT_CHAR ? "char_ngram" : "word_ngram",
        feature, (double)r->count, (double)r->other, (double)c->chars,
        (double)(w->all_chars - c->chars));
    free(feature);
    return st;
}

/* Merges sorted row runs (k-way) into the writer. */
static tifa_status write_runs(row_writer *w, FILE **runs, size_t k)
{
    ng_row *head = calloc(k, sizeof *head);
    tifa_buf *text = calloc(k, sizeof *text);
    bool *done = calloc(k, sizeof *done);
    tifa_status st = head && text && done ? TIFA_OK : TIFA_ENOMEM;
    for (size_t i = 0; i < k && st == TIFA_OK; i++) {
        rewind(runs[i]);
        st = row_read(runs[i], &head[i], &text[i], &done[i]);
    }
    while (st == TIFA_OK) {
        size_t best = k;
        for (size_t i = 0; i < k; i++)
            if (!done[i] && (best == k || row_cmp(&head[i], &head[best]) < 0))
                best = i;
        if (best == k)
            break;
        st = write_row(w, &head[best]);
        if (st == TIFA_OK)
            st = row_read(runs[best], &head[best], &text[best], &done[best]);
    }
    for (size_t i = 0; text && i < k; i++)
        tifa_buf_free(&text[i]);
    free(head);
    free(text);
    free(done);
    return st;
}

static const char *const NG_HEADER[] = { "corpus", "unit", "n", "ngram", "count",
                                         "docs", "per_10k", NULL };

/* ------------------------------------ writing from memory, in parallel -- */

/* Without a spill, ngrams.csv is written group by group ((corpus, unit, n)
 * is the rows' first sort key), and the groups are independent: each is
 * collected from its table, decoded to text and sorted on its own (on
 * `threads` threads, largest table first), then the written rows are
 * formatted in chunks of NG_WRITE_CHUNK rows (in parallel, into memory),
 * and each chunk is written (with its keyness rows) as soon as it and every
 * chunk before it are done, so the file and the keyness table get the rows
 * in the order of the serial write.  With one thread the same functions
 * run in the same order on the calling thread.  docs/ngrams.md, "Writing". */

#define NG_WRITE_CHUNK 16384
#define NG_WRITE_THREADS_MAX 64

/* The sort key of a row of one group, in one of two forms:
 *   - text: a = ~count (count descending), b = the first 8 bytes of the
 *     text big-endian, zero-padded; ties go to the rest of the text;
 *   - packed, for character n-grams with n <= 4 (the common case): a =
 *     (NG_PACK_CMAX - count) << 21 | first code point, b = the other code
 *     points, 21 bits each (code-point order is the byte order of UTF-8,
 *     and every n-gram of a group has n units), so (a, b) decides alone:
 *     no text is kept, compared or scanned for quotes; it is encoded from
 *     the key when the row is formatted.
 * Then the row index (unique, so the order never depends on the sort).
 * 24 bytes are all the sort moves; the rest of the row (wrow) stays where
 * it was collected.  A packed key also carries the row's docs, so writing
 * the rows in sorted order needs no random access to wrow (which was most
 * of the formatting time) unless keyness wants `other`. */
typedef struct wkey {
    uint64_t a, b;
    uint32_t row;
    uint32_t len; /* bytes of text; docs when packed */
} wkey;

#define NG_PACK_BITS 21
#define NG_PACK_CMAX ((UINT64_C(1) << (64 - NG_PACK_BITS)) - 1)

typedef struct wrow {
    size_t off;     /* text in the group's arena (not packed) */
    uint64_t count;
    uint64_t other; /* count in the other corpora (keyness b), or 0 */
    uint32_t docs;
} wrow;

/* One (corpus, unit, n).  keys, row, arena and prefix are owned here and
 * released by group_free once the group's last chunk is written. */
typedef struct wgroup {
    size_t corpus;      /* index into ng->corpora */
    int unit, n;
    size_t rows;        /* collected (passing the filters) */
    size_t out;         /* written: rows, or top_k when fewer */
    bool packed;        /* keys packed (see wkey), no arena */
    wkey *keys;         /* sorted */
    wrow *row;
    tifa_buf arena;     /* the texts, back to back */
    char *prefix;       /* "corpus,unit,n," as CSV */
    size_t prefix_len;
    size_t chunks_left; /* chunks not yet written */
} wgroup;

typedef struct wchunk {
    size_t group, from, to; /* sorted rows [from, to) of the group */
    tifa_buf text;          /* formatted rows, freed once written */
    bool done;
} wchunk;

/* id -> key of the prefix tables of one corpus (index 0 unused): decoding a
 * chained key walks these dense arrays instead of id -> slot pointers, one
 * random access per level instead of two. */
typedef struct wids {
    uint64_t *key[2][NG_TABLES];
} wids;

typedef struct wjob wjob;
typedef tifa_status (*wtask)(wjob *j, size_t task);

struct wjob {
    const tifa_ngrams *ng;
    bool want_other;
    wids *ids;             /* per corpus (ng->corpora order) */
    size_t *id_tasks;      /* (corpus * 2 + unit) * NG_TABLES + n */
    size_t n_id_tasks;
    wgroup *groups;        /* in output order */
    size_t n_groups;
    size_t *by_size;       /* group indices, largest table first */
    wchunk *chunks;        /* in output order */
    size_t n_chunks;
    tifa_csv *out;
    tifa_keyness_table *keyness; /* NULL: no keyness rows */
    uint64_t all_chars;
    tifa_buf feature;      /* keyness scratch (under lock) */
    tifa_buf *spare;       /* buffers of written chunks, for reuse (under
                            * lock): fresh ones would fault in their pages */
    size_t n_spare;
    int threads;
    /* the running phase: tasks 0..n_tasks taken in order under lock */
    pthread_mutex_t lock;
    wtask fn;
    size_t next, n_tasks;
    size_t next_write;     /* first chunk not yet written */
    tifa_status st;        /* first error; stops every phase */
};

static void *wjob_thread(void *arg)
{
    wjob *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->next;
        bool stop = j->st != TIFA_OK || i >= j->n_tasks;
        if (!stop)
            j->next++;
        pthread_mutex_unlock(&j->lock);
        if (stop)
            break;
        tifa_status st = j->fn(j, i);
        if (st != TIFA_OK) {
            pthread_mutex_lock(&j->lock);
            if (j->st == TIFA_OK)
                j->st = st;
            pthread_mutex_unlock(&j->lock);
        }
    }
    return NULL;
}

/* Runs fn on tasks 0..n (taken in order) on up to j->threads threads, the
 * calling one included; fewer when threads cannot be started. */
static tifa_status wjob_run(wjob *j, wtask fn, size_t n)
{
    j->fn = fn;
    j->next = 0;
    j->n_tasks = n;
    pthread_t tid[NG_WRITE_THREADS_MAX];
    size_t started = 0, want = (size_t)j->threads < n ? (size_t)j->threads : n;
    for (size_t k = 1; k < want; k++) {
        if (pthread_create(&tid[started], NULL, wjob_thread, j) != 0)
            break;
        started++;
    }
    wjob_thread(j);
    for (size_t k = 0; k < started; k++)
        pthread_join(tid[k], NULL);
    return j->st;
}

/* Task: the id -> key array of one prefix table. */
static tifa_status ids_task(wjob *j, size_t task)
{
    size_t code = j->id_tasks[task];
    size_t n = code % NG_TABLES, u = code / NG_TABLES % 2, k = code / NG_TABLES / 2;
    const ng_table *t = &j->ng->corpora[k].t[u][n];
    uint64_t *v = calloc(t->size + 1, sizeof *v);
    if (!v)
        return TIFA_ENOMEM;
    for (size_t i = 0; t->size && i < t->cap; i++) {
        const ng_slot *s = &t->slots[i];
        if (s->key && s->id >= 1 && s->id <= t->size)
            v[s->id] = s->key;
    }
    j->ids[k].key[u][n] = v;
    return TIFA_OK;
}

/* Unpacks a key of (unit, n) of corpus c into its n units, as key_units
 * does; false for a key that refers to an unknown id. */
static bool ids_decode(const wids *x, const ng_corpus *c, int unit, int n,
                       uint64_t key, uint32_t *out)
{
    int packed = unit == TIFA_UNIT_CHAR ? 3 : 2;
    while (n > packed) {
        uint32_t hi = (uint32_t)(key >> 32);
        out[n - 1] = (uint32_t)key;
        if (!hi || hi > c->t[unit][n - 1].size || !x->key[unit][n - 1])
            return false;
        key = x->key[unit][n - 1][hi];
        if (!key)
            return false;
        n--;
    }
    if (n == 1) {
        out[0] = (uint32_t)key;
    } else if (unit == TIFA_UNIT_CHAR) {
        for (int i = n - 1; i >= 0; i--) {
            out[i] = (uint32_t)(key & 0x1FFFFF);
            key >>= 21;
        }
    } else {
        out[0] = (uint32_t)(key >> 32);
        out[1] = (uint32_t)key;
    }
    return true;
}

/* What wkey_less needs besides the keys: the group's texts (arena NULL:
 * packed keys, never equal in a and b) and rows. */
typedef struct wsort_ctx {
    const char *arena;
    const wrow *row;
} wsort_ctx;

static inline bool wkey_less(const wkey *x, const wkey *y, const wsort_ctx *ctx)
{
    const char *arena = ctx->arena;
    const wrow *row = ctx->row;
    if (x->a != y->a)
        return x->a < y->a;
    if (x->b != y->b)
        return x->b < y->b;
    if (!arena)
        return x->row < y->row;
    if (x->len > 8 && y->len > 8) {
        int c = bytes_cmp(arena + row[x->row].off + 8, x->len - 8,
                          arena + row[y->row].off + 8, y->len - 8);
        if (c)
            return c < 0;
    } else if (x->len != y->len) {
        return x->len < y->len;
    }
    return x->row < y->row;
}

NG_DEFINE_QUICKSORT(wkeys_sort, wkey, const wsort_ctx *, wkey_less)

/* Appends the written form of n units (units_text, with characters encoded
 * straight into the arena). */
static tifa_status put_text(const tifa_ngrams *ng, int unit, const uint32_t *v,
                            int n, tifa_buf *b)
{
    if (unit != TIFA_UNIT_CHAR)
        return units_text(ng, unit, v, n, b);
    if (tifa_buf_reserve(b, (size_t)n * 4) != TIFA_OK)
        return TIFA_ENOMEM;
    for (int i = 0; i < n; i++)
        b->len += utf8_to(b->data + b->len, v[i]);
    b->data[b->len] = '\0';
    return TIFA_OK;
}

/* The n units of a packed key (see wkey). */
static inline void packed_units(const wkey *k, int n, uint32_t *v)
{
    const uint64_t mask = (UINT64_C(1) << NG_PACK_BITS) - 1;
    v[0] = (uint32_t)(k->a & mask);
    for (int i = 1; i < n; i++)
        v[i] = (uint32_t)(k->b >> (NG_PACK_BITS * (3 - i)) & mask);
}

/* Collects the rows of g passing the filters (row_passes; `other` by
 * lookups in the other corpora when keyness wants it), keys packed when
 * g->packed.  Sets *fits to false (and stops) at a row that cannot be
 * packed: a count above NG_PACK_CMAX or a unit of more than 21 bits. */
static tifa_status group_collect(wjob *j, wgroup *g, bool *fits)
{
    const tifa_ngrams *ng = j->ng;
    const ng_corpus *c = &ng->corpora[g->corpus];
    const ng_table *t = &c->t[g->unit][g->n];
    const wids *x = &j->ids[g->corpus];
    const int u = g->unit, n = g->n;
    const uint64_t min_count = (uint64_t)ng->opt.min_count;
    const uint64_t min_docs = (uint64_t)ng->opt.min_docs;
    tifa_buf_clear(&g->arena);
    if (!g->packed && tifa_buf_reserve(&g->arena, t->size * (size_t)n * 3 + 16) != TIFA_OK)
        return TIFA_ENOMEM;
    *fits = true;
    /* a chained key's prefix is a random access into the id array of the
     * (n-1)-table: fetch it NG_PREFETCH slots ahead (half the collection
     * time of 4-grams otherwise) */
    const bool chained = n > (u == TIFA_UNIT_CHAR ? 3 : 2) && x->key[u][n - 1];
    const uint64_t *prefix_ids = chained ? x->key[u][n - 1] : NULL;
    const size_t prefix_size = c->t[u][n - 1 > 0 ? n - 1 : 1].size;
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (chained && i + NG_PREFETCH < t->cap) {
            uint64_t ahead = t->slots[i + NG_PREFETCH].key >> 32;
            if (ahead <= prefix_size)
                __builtin_prefetch(&prefix_ids[ahead]);
        }
        const ng_slot *s = &t->slots[i];
        if (!s->key)
            continue;
        uint64_t count = slot_count(t, s);
        if (count == 0 || count < min_count || s->docs < min_docs)
            continue;
        uint32_t v[NG_TABLES];
        if (!ids_decode(x, c, u, n, s->key, v))
            return TIFA_EINTERNAL;
        wkey *key = &g->keys[k];
        wrow *row = &g->row[k];
        if (g->packed) {
            uint32_t wide = 0;
            for (int q = 0; q < n; q++)
                wide |= v[q];
            if (count > NG_PACK_CMAX || wide >> NG_PACK_BITS) {
                *fits = false;
                return TIFA_OK;
            }
            if (ng->stop) {
                char tx[4 * NG_TABLES];
                size_t len = 0;
                for (int q = 0; q < n; q++)
                    len += utf8_to(tx + len, v[q]);
                if (tifa_strmap_find(ng->stop, tx, len) != UINT32_MAX)
                    continue; /* stop-listed: not written */
            }
            key->a = (NG_PACK_CMAX - count) << NG_PACK_BITS | v[0];
            key->b = 0;
            for (int q = 1; q < n; q++)
                key->b |= (uint64_t)v[q] << (NG_PACK_BITS * (3 - q));
            key->len = s->docs;
            row->off = 0;
        } else {
            size_t off = g->arena.len;
            tifa_status st = put_text(ng, u, v, n, &g->arena);
            if (st != TIFA_OK)
                return st;
            size_t len = g->arena.len - off;
            const char *tx = g->arena.data + off;
            if (len >= UINT32_MAX)
                return TIFA_ELIMIT;
            if (ng->stop && tifa_strmap_find(ng->stop, tx, len) != UINT32_MAX) {
                g->arena.len = off; /* stop-listed: not written */
                continue;
            }
            key->a = ~count;
            key->b = text_prefix(tx, len);
            key->len = (uint32_t)len;
            row->off = off;
        }
        uint64_t other = 0;
        for (size_t o = 0; j->want_other && o < ng->n_corpora; o++) {
            if (o == g->corpus)
                continue;
            const ng_slot *f = find_units(&ng->corpora[o], u, n, v);
            if (f)
                other += slot_count(&ng->corpora[o].t[u][n], f);
        }
        key->row = (uint32_t)k;
        row->count = count;
        row->other = other;
        row->docs = s->docs;
        k++;
    }
    g->rows = k;
    return TIFA_OK;
}

/* Task: collects, decodes and sorts the rows of one group (packed keys
 * when they fit, else text keys).  Reads the engine only. */
static tifa_status group_task(wjob *j, size_t task)
{
    const tifa_ngrams *ng = j->ng;
    wgroup *g = &j->groups[j->by_size[task]];
    const ng_table *t = &ng->corpora[g->corpus].t[g->unit][g->n];
    if (!t->size)
        return TIFA_OK;
    if (t->size >= UINT32_MAX)
        return TIFA_ELIMIT;
    g->keys = malloc(t->size * sizeof *g->keys);
    g->row = malloc(t->size * sizeof *g->row);
    if (!g->keys || !g->row)
        return TIFA_ENOMEM;
    g->packed = g->unit == TIFA_UNIT_CHAR && g->n <= 4;
    bool fits;
    tifa_status st = group_collect(j, g, &fits);
    if (st == TIFA_OK && !fits) {
        g->packed = false;
        st = group_collect(j, g, &fits);
    }
    if (st != TIFA_OK)
        return st;
    g->out = ng->opt.top_k && ng->opt.top_k < g->rows ? ng->opt.top_k : g->rows;
    wsort_ctx ctx = { g->packed ? NULL : g->arena.data, g->row };
    wkeys_sort(g->keys, g->rows, &ctx);
    return TIFA_OK;
}

static void group_free(wgroup *g)
{
    free(g->keys);
    free(g->row);
    tifa_buf_free(&g->arena);
    free(g->prefix);
    g->keys = NULL;
    g->row = NULL;
    g->prefix = NULL;
}

/* The keyness rows of sorted rows [from, to) of g: each corpus against the
 * rest (against the other corpus when there are two). */
static tifa_status chunk_keyness(wjob *j, const wgroup *g, size_t from, size_t to)
{
    const tifa_ngrams *ng = j->ng;
    const ng_corpus *c = &ng->corpora[g->corpus];
    const char *reference = NG_REST;
    if (ng->n_corpora == 2)
        reference = ng->corpora[g->corpus == 0 ? 1 : 0].name;
    const char *kind = g->unit == TIFA_UNIT_CHAR ? "char_ngram" : "word_ngram";
    tifa_status st = TIFA_OK;
    for (size_t r = from; r < to && st == TIFA_OK; r++) {
        const wkey *k = &g->keys[r];
        const wrow *w = &g->row[k->row];
        tifa_buf_clear(&j->feature);
        if (g->packed) {
            uint32_t v[NG_TABLES];
            packed_units(k, g->n, v);
            st = put_text(ng, g->unit, v, g->n, &j->feature);
        } else {
            st = tifa_buf_append(&j->feature, g->arena.data + w->off, k->len);
        }
        if (st != TIFA_OK)
            break;
        st = tifa_keyness_table_add(j->keyness, c->name, reference, kind, j->feature.data,
                                    (double)w->count, (double)w->other, (double)c->chars,
                                    (double)(j->all_chars - c->chars));
    }
    return st;
}

/* Task: formats one chunk, then (under lock) writes every chunk that is
 * done and next in order, with its keyness rows; a group is freed after its
 * last chunk. */
static tifa_status chunk_task(wjob *j, size_t task)
{
    wchunk *ch = &j->chunks[task];
    const wgroup *g = &j->groups[ch->group];
    const uint64_t chars = j->ng->corpora[g->corpus].chars;
    pthread_mutex_lock(&j->lock);
    if (j->n_spare)
        ch->text = j->spare[--j->n_spare];
    pthread_mutex_unlock(&j->lock);
    size_t bound = 0;
    if (g->packed)
        bound = (ch->to - ch->from) * row_bound(g->prefix_len, 4 * (size_t)g->n);
    else
        for (size_t r = ch->from; r < ch->to; r++)
            bound += row_bound(g->prefix_len, g->keys[r].len);
    if (tifa_buf_reserve(&ch->text, bound) != TIFA_OK)
        return TIFA_ENOMEM;
    char *p = ch->text.data;
    for (size_t r = ch->from; r < ch->to; r++) {
        const wkey *k = &g->keys[r];
        if (!g->packed) {
            /* rows in sorted order are random accesses: fetch ahead */
            if (r + 16 < ch->to) {
                const wrow *ahead = &g->row[g->keys[r + 16].row];
                __builtin_prefetch(ahead);
                __builtin_prefetch(g->arena.data + ahead->off);
            }
            const wrow *w = &g->row[k->row];
            p += format_row(p, g->prefix, g->prefix_len, g->arena.data + w->off, k->len,
                            w->count, w->docs, chars);
            continue;
        }
        uint32_t v[NG_TABLES];
        packed_units(k, g->n, v);
        char tx[4 * NG_TABLES];
        size_t len = 0;
        for (int q = 0; q < g->n; q++)
            len += utf8_to(tx + len, v[q]);
        p += format_row(p, g->prefix, g->prefix_len, tx, len,
                        NG_PACK_CMAX - (k->a >> NG_PACK_BITS), k->len, chars);
    }
    ch->text.len = (size_t)(p - ch->text.data);
    ch->text.data[ch->text.len] = '\0';

    tifa_status st = TIFA_OK;
    pthread_mutex_lock(&j->lock);
    ch->done = true;
    while (st == TIFA_OK && j->st == TIFA_OK && j->next_write < j->n_chunks &&
           j->chunks[j->next_write].done) {
        wchunk *w = &j->chunks[j->next_write++];
        wgroup *wg = &j->groups[w->group];
        tifa_csv_rows(j->out, w->text.data, w->text.len);
        tifa_buf_clear(&w->text);
        j->spare[j->n_spare++] = w->text; /* at most one per chunk */
        memset(&w->text, 0, sizeof w->text);
        if (j->keyness)
            st = chunk_keyness(j, wg, w->from, w->to);
        if (--wg->chunks_left == 0)
            group_free(wg);
    }
    pthread_mutex_unlock(&j->lock);
    return st;
}

/* Order of by_size: table size descending, then output order. */
typedef struct wsize {
    size_t size, group;
} wsize;

static int wsize_cmp(const void *pa, const void *pb)
{
    const wsize *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->group > b->group) - (a->group < b->group);
}

/* Plans the groups (output order) and the id tasks of job j. */
static tifa_status wjob_plan(wjob *j, const size_t *order)
{
    const tifa_ngrams *ng = j->ng;
    size_t per = 0;
    for (int u = 0; u < 2; u++)
        for (int n = minn_of(ng, u); n >= 1 && n <= maxn_of(ng, u); n++)
            per++;
    j->ids = calloc(ng->n_corpora + 1, sizeof *j->ids);
    j->id_tasks = calloc(ng->n_corpora * 2 * NG_TABLES + 1, sizeof *j->id_tasks);
    j->groups = calloc(ng->n_corpora * per + 1, sizeof *j->groups);
    j->by_size = calloc(ng->n_corpora * per + 1, sizeof *j->by_size);
    wsize *sizes = calloc(ng->n_corpora * per + 1, sizeof *sizes);
    if (!j->ids || !j->id_tasks || !j->groups || !j->by_size || !sizes) {
        free(sizes);
        return TIFA_ENOMEM;
    }
    for (size_t k = 0; k < ng->n_corpora; k++) {
        /* chained keys: characters n >= 4 walk tables 3..n-1, words n >= 3
         * tables 2..n-1 */
        for (int n = 3; n < ng->opt.char_max; n++)
            j->id_tasks[j->n_id_tasks++] = (k * 2 + TIFA_UNIT_CHAR) * NG_TABLES + (size_t)n;
        for (int n = 2; n < ng->opt.word_max; n++)
            j->id_tasks[j->n_id_tasks++] = (k * 2 + TIFA_UNIT_WORD) * NG_TABLES + (size_t)n;
    }
    for (size_t oi = 0; oi < ng->n_corpora; oi++) {
        const ng_corpus *c = &ng->corpora[order[oi]];
        for (int u = 0; u < 2; u++)
            for (int n = minn_of(ng, u); n >= 1 && n <= maxn_of(ng, u); n++) {
                wgroup *g = &j->groups[j->n_groups];
                g->corpus = order[oi];
                g->unit = u;
                g->n = n;
                const char *name = c->name ? c->name : "";
                if (!(g->prefix = malloc(2 * strlen(name) + 2 + 16))) {
                    free(sizes);
                    return TIFA_ENOMEM;
                }
                g->prefix_len = group_prefix(g->prefix, name, u, n);
                sizes[j->n_groups].size = c->t[u][n].size;
                sizes[j->n_groups].group = j->n_groups;
                j->n_groups++;
            }
    }
    qsort(sizes, j->n_groups, sizeof *sizes, wsize_cmp);
    for (size_t i = 0; i < j->n_groups; i++)
        j->by_size[i] = sizes[i].group;
    free(sizes);
    return TIFA_OK;
}

/* Cuts the written rows of every group into chunks (output order). */
static tifa_status wjob_chunks(wjob *j)
{
    size_t total = 0;
    for (size_t i = 0; i < j->n_groups; i++)
        total += (j->groups[i].out + NG_WRITE_CHUNK - 1) / NG_WRITE_CHUNK;
    j->chunks = calloc(total + 1, sizeof *j->chunks);
    j->spare = calloc(total + 1, sizeof *j->spare);
    if (!j->chunks || !j->spare)
        return TIFA_ENOMEM;
    for (size_t i = 0; i < j->n_groups; i++) {
        wgroup *g = &j->groups[i];
        for (size_t r = 0; r < g->out; r += NG_WRITE_CHUNK) {
            wchunk *ch = &j->chunks[j->n_chunks++];
            ch->group = i;
            ch->from = r;
            ch->to = r + NG_WRITE_CHUNK < g->out ? r + NG_WRITE_CHUNK : g->out;
            g->chunks_left++;
        }
        if (!g->chunks_left)
            group_free(g);
    }
    return TIFA_OK;
}

static void wjob_free(wjob *j)
{
    for (size_t k = 0; j->ids && k < j->ng->n_corpora; k++)
        for (int u = 0; u < 2; u++)
            for (int n = 0; n < NG_TABLES; n++)
                free(j->ids[k].key[u][n]);
    free(j->ids);
    free(j->id_tasks);
    for (size_t i = 0; j->groups && i < j->n_groups; i++)
        group_free(&j->groups[i]);
    free(j->groups);
    free(j->by_size);
    for (size_t i = 0; j->chunks && i < j->n_chunks; i++)
        tifa_buf_free(&j->chunks[i].text);
    free(j->chunks);
    for (size_t i = 0; i < j->n_spare; i++)
        tifa_buf_free(&j->spare[i]);
    free(j->spare);
    tifa_buf_free(&j->feature);
}

/* Writes ngrams.csv from the in-memory tables (no spill) on ng->opt.threads
 * threads: id arrays, then groups (collect + sort), then chunks (format +
 * ordered write), each phase in parallel.  The file is opened once every
 * group is sorted, as the serial writer did. */
static tifa_status write_memory(const tifa_ngrams *ng, const size_t *order,
                                const char *path, const tifa_csv_options *csv,
                                tifa_keyness_table *keyness, uint64_t all_chars)
{
    wjob j;
    memset(&j, 0, sizeof j);
    j.ng = ng;
    j.keyness = keyness;
    j.want_other = keyness != NULL;
    j.all_chars = all_chars;
    j.threads = ng->opt.threads < 1 ? 1
              : ng->opt.threads > NG_WRITE_THREADS_MAX ? NG_WRITE_THREADS_MAX
                                                       : ng->opt.threads;
    if (pthread_mutex_init(&j.lock, NULL) != 0)
        return TIFA_ENOMEM;
    tifa_status st = wjob_plan(&j, order);
    if (st == TIFA_OK)
        st = wjob_run(&j, ids_task, j.n_id_tasks);
    if (st == TIFA_OK)
        st = wjob_run(&j, group_task, j.n_groups);
    for (size_t k = 0; j.ids && k < ng->n_corpora; k++) /* no longer needed */
        for (int u = 0; u < 2; u++)
            for (int n = 0; n < NG_TABLES; n++) {
                free(j.ids[k].key[u][n]);
                j.ids[k].key[u][n] = NULL;
            }
    if (st == TIFA_OK)
        st = wjob_chunks(&j);
    if (st == TIFA_OK)
        j.out = tifa_csv_open(path, csv, &st);
    if (j.out) {
        tifa_csv_header(j.out, NG_HEADER);
        st = wjob_run(&j, chunk_task, j.n_chunks);
        if (st == TIFA_OK)
            st = tifa_csv_close(j.out);
        else
            tifa_csv_abort(j.out);
    }
    wjob_free(&j);
    pthread_mutex_destroy(&j.lock);
    return st;
}

/* Writes ngrams.csv (sorted: corpus, unit, n, count desc, code-point order;
 * top_k per group) and, when keyness is given and there are at least two
 * corpora, one keyness row per written n-gram: the corpus against the rest.
 * In memory on ng->opt.threads threads (write_memory); after a spill, the
 * row runs are merged on the calling thread. */
tifa_status tifa_ngrams_write(tifa_ngrams *ng, const char *path,
                              const tifa_csv_options *csv,
                              tifa_keyness_table *keyness)
{
    if (!ng || !path)
        return TIFA_EUSAGE;
    tifa_status sync = ng_sync(ng);
    if (sync != TIFA_OK)
        return sync;
    size_t *order = corpus_order(ng);
    if (!order)
        return TIFA_ENOMEM;
    bool want_other = keyness && ng->n_corpora >= 2;
    uint64_t all_chars = 0;
    for (size_t k = 0; k < ng->n_corpora; k++)
        all_chars += ng->corpora[k].chars;
    if (!ng->n_runs) {
        tifa_status st = write_memory(ng, order, path, csv, want_other ? keyness : NULL,
                                      all_chars);
        free(order);
        return st;
    }
    ng_rows rows = { 0 };
    tifa_status st = collect_runs(ng, order, &rows);
    if (st == TIFA_OK && rows.n_runs && rows.n)
        st = rows_spill(&rows); /* the rest as one more run */
    if (st == TIFA_OK && !rows.n_runs)
        st = rows_sort(&rows);
    row_writer w = { 0 };
    w.ng = ng;
    w.order = order;
    w.keyness = want_other ? keyness : NULL;
    w.all_chars = all_chars;
    w.last_group = UINT64_MAX;
    if (st == TIFA_OK)
        w.out = tifa_csv_open(path, csv, &st);
    if (w.out) {
        tifa_csv_header(w.out, NG_HEADER);
        if (!rows.n_runs) {
            for (size_t i = 0; i < rows.n && st == TIFA_OK; i++)
                st = write_row(&w, row_at(&rows, i));
        } else {
            st = write_runs(&w, rows.runs, rows.n_runs);
        }
        if (st == TIFA_OK)
            st = tifa_csv_close(w.out);
        else
            tifa_csv_abort(w.out);
    }
    tifa_buf_free(&w.line);
    rows_free(&rows);
    free(order);
    return st;
}

/* ------------------------------------------------ memory budget: spills -- */

/* Bytes held by the tables, the word dictionary (an estimate) and the
 * engine's scratch, except the unigram array (4 MiB of address space of
 * which only the pages of characters that occur are ever touched). */
size_t tifa_ngrams_memory(const tifa_ngrams *ng)
{
    if (!ng)
        return 0;
    ng_sync((tifa_ngrams *)ng); /* the answer includes the pending batch */
    size_t bytes = sizeof *ng + tifa_strmap_size(ng->words) * 48;
    for (size_t k = 0; k < ng->n_corpora; k++)
        for (int u = 0; u < 2; u++)
            for (int n = 1; n < NG_TABLES; n++)
                if (ng->corpora[k].t[u][n].slots) {
                    const ng_table *t = &ng->corpora[k].t[u][n];
                    bytes += t->cap * sizeof(ng_slot);
                }
    if (ng->units) /* units, wunits, keys, pos, ida, idb, uni_seen */
        bytes += (NG_CHUNK + NG_TABLES + 1) * (4 + 4 + 8 + 4 + 4 + 4 + 4);
    bytes += ng->grow.cap * sizeof(ng_slot); /* entries waiting while a table grows */
    return bytes;
}

/* Distinct n-grams of one (unit, n) summed over corpora (in memory only). */
size_t tifa_ngrams_distinct(const tifa_ngrams *ng, tifa_unit unit, int n)
{
    size_t total = 0;
    if (!ng || n < 1 || n >= NG_TABLES || (unit != TIFA_UNIT_CHAR && unit != TIFA_UNIT_WORD))
        return 0;
    ng_sync((tifa_ngrams *)ng);
    for (size_t k = 0; k < ng->n_corpora; k++)
        total += ng->corpora[k].t[unit][n].size;
    return total;
}

/* Run file records, sorted by (unit, n, text, corpus name):
 *   u8 unit, u8 n, u32 text_len, text, u32 name_len, name, u64 count, u32 docs
 * and a final record with unit 0xFF. */
typedef struct spill_rec {
    size_t off, len;   /* text in the arena */
    size_t corpus;     /* index in sorted corpus order */
    uint64_t count;
    uint32_t docs;
} spill_rec;

static int spill_cmp(const void *pa, const void *pb)
{
    const spill_rec *a = pa, *b = pb;
    /* off holds an absolute pointer here (converted before sorting) */
    int c = bytes_cmp((const char *)(uintptr_t)a->off, a->len,
                      (const char *)(uintptr_t)b->off, b->len);
    if (c)
        return c;
    return (a->corpus > b->corpus) - (a->corpus < b->corpus);
}

static tifa_status fput_bytes(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? TIFA_OK : TIFA_EIO;
}
static tifa_status fput_u(FILE *f, uint64_t v, int bytes)
{
    unsigned char s[8];
    for (int i = 0; i < bytes; i++)
        s[i] = (unsigned char)(v >> (8 * i));
    return fput_bytes(f, s, (size_t)bytes);
}

/* A string as u32 length, then its bytes (read back by fget_str). */
static tifa_status fput_str(FILE *f, const char *p, size_t n)
{
    tifa_status st = fput_u(f, n, 4);
    return st == TIFA_OK ? fput_bytes(f, p, n) : st;
}

/* Writes every table to a new run (temporary file, deleted when closed) and
 * empties the tables. */
static tifa_status spill(tifa_ngrams *ng)
{
    tifa_status sync = ng_sync(ng);
    if (sync != TIFA_OK)
        return sync;
    size_t *order = corpus_order(ng);
    if (!order)
        return TIFA_ENOMEM;
    ng_run *runs = realloc(ng->runs, (ng->n_runs + 1) * sizeof *runs);
    if (!runs) {
        free(order);
        return TIFA_ENOMEM;
    }
    ng->runs = runs;
    FILE *f = tmpfile();
    if (!f) {
        free(order);
        return TIFA_EIO;
    }
    ng->runs[ng->n_runs++].file = f;
    tifa_status st = TIFA_OK;
    tifa_buf arena = { 0 }, text = { 0 };
    spill_rec *recs = NULL;
    for (int u = 0; u < 2 && st == TIFA_OK; u++) {
        for (int n = 1; n <= maxn_of(ng, u) && st == TIFA_OK; n++) {
            size_t total = 0, nr = 0;
            for (size_t k = 0; k < ng->n_corpora; k++)
                total += ng->corpora[k].t[u][n].size;
            if (!total)
                continue;
            free(recs);
            recs = malloc(total * sizeof *recs);
            tifa_buf_clear(&arena);
            if (!recs) {
                st = TIFA_ENOMEM;
                break;
            }
            for (size_t oi = 0; oi < ng->n_corpora && st == TIFA_OK; oi++) {
                const ng_corpus *c = &ng->corpora[order[oi]];
                ng_index x;
                if ((st = index_build(&x, c, ng->opt.char_max, ng->opt.word_max)) != TIFA_OK) {
                    index_free(&x);
                    break;
                }
                const ng_table *t = &c->t[u][n];
                for (size_t i = 0; t->size && i < t->cap && st == TIFA_OK; i++) {
                    const ng_slot *s = &t->slots[i];
                    if (!s->key)
                        continue;
                    uint32_t v[NG_TABLES];
                    if (!key_units(&x, c, u, n, s->key, v)) {
                        st = TIFA_EINTERNAL;
                        break;
                    }
                    size_t off = arena.len;
                    if ((st = units_text(ng, u, v, n, &arena)) != TIFA_OK)
                        break;
                    recs[nr++] = (spill_rec){ off, arena.len - off, oi, slot_count(t, s),
                                              s->docs };
                }
                index_free(&x);
            }
            if (st != TIFA_OK)
                break;
            for (size_t i = 0; i < nr; i++)
                recs[i].off = (size_t)(uintptr_t)(arena.data + recs[i].off);
            qsort(recs, nr, sizeof *recs, spill_cmp);
            for (size_t i = 0; i < nr && st == TIFA_OK; i++) {
                const char *name = ng->corpora[order[recs[i].corpus]].name;
                size_t nl = strlen(name);
                st = fput_u(f, (uint64_t)u, 1);
                if (st == TIFA_OK) st = fput_u(f, (uint64_t)n, 1);
                if (st == TIFA_OK) st = fput_str(f, (const char *)(uintptr_t)recs[i].off, recs[i].len);
                if (st == TIFA_OK) st = fput_str(f, name, nl);
                if (st == TIFA_OK) st = fput_u(f, recs[i].count, 8);
                if (st == TIFA_OK) st = fput_u(f, recs[i].docs, 4);
            }
        }
    }
    if (st == TIFA_OK)
        st = fput_u(f, 0xFF, 1);
    if (st == TIFA_OK && fflush(f) != 0)
        st = TIFA_EIO;
    free(recs);
    tifa_buf_free(&arena);
    tifa_buf_free(&text);
    free(order);
    if (st == TIFA_OK) {
        for (size_t k = 0; k < ng->n_corpora; k++)
            corpus_clear_tables(&ng->corpora[k]);
        rewind(f);
    }
    return st;
}

/* Spills when a budget is set and the tables hold more than half of it (the
 * other half is for the sort of the spill and for table growth; the fixed
 * scratch of about 2 MB per engine is not counted). */
static tifa_status maybe_spill(tifa_ngrams *ng)
{
    if (!ng->opt.memory_budget)
        return TIFA_OK;
    size_t tables = 0;
    for (size_t k = 0; k < ng->n_corpora; k++)
        for (int u = 0; u < 2; u++)
            for (int n = 1; n < NG_TABLES; n++)
                tables += ng->corpora[k].t[u][n].cap * sizeof(ng_slot);
    tables += tifa_strmap_size(ng->words) * 48;
    if (tables <= ng->opt.memory_budget / 2)
        return TIFA_OK;
    return spill(ng);
}

static tifa_status merge_runs(tifa_ngrams *into, tifa_ngrams *from)
{
    if (!from->n_runs)
        return TIFA_OK;
    ng_run *runs = realloc(into->runs, (into->n_runs + from->n_runs) * sizeof *runs);
    if (!runs)
        return TIFA_ENOMEM;
    into->runs = runs;
    memcpy(into->runs + into->n_runs, from->runs, from->n_runs * sizeof *runs);
    into->n_runs += from->n_runs;
    free(from->runs);
    from->runs = NULL;
    from->n_runs = 0;
    return TIFA_OK;
}

/* The head record of a run being merged. */
typedef struct run_head {
    FILE *f;
    bool done;
    int unit, n;
    tifa_buf text, name;
    uint64_t count;
    uint32_t docs;
} run_head;

static bool fget_u(FILE *f, int bytes, uint64_t *v)
{
    unsigned char s[8];
    if (fread(s, 1, (size_t)bytes, f) != (size_t)bytes)
        return false;
    *v = 0;
    for (int i = 0; i < bytes; i++)
        *v |= (uint64_t)s[i] << (8 * i);
    return true;
}

static bool fget_str(FILE *f, tifa_buf *b)
{
    uint64_t len;
    if (!fget_u(f, 4, &len))
        return false;
    tifa_buf_clear(b);
    if (tifa_buf_reserve(b, len + 1) != TIFA_OK)
        return false;
    if (len && fread(b->data, 1, len, f) != len)
        return false;
    b->len = len;
    b->data[len] = '\0';
    return true;
}

static tifa_status head_next(run_head *h)
{
    uint64_t u, n, count, docs;
    if (!fget_u(h->f, 1, &u))
        return TIFA_EIO;
    if (u == 0xFF) {
        h->done = true;
        return TIFA_OK;
    }
    if (!fget_u(h->f, 1, &n) || !fget_str(h->f, &h->text) || !fget_str(h->f, &h->name) ||
        !fget_u(h->f, 8, &count) || !fget_u(h->f, 4, &docs))
        return TIFA_EIO;
    h->unit = (int)u;
    h->n = (int)n;
    h->count = count;
    h->docs = (uint32_t)docs;
    return TIFA_OK;
}

/* Order of run heads: (unit, n, text, corpus name); done heads last. */
static int head_cmp(const run_head *a, const run_head *b)
{
    if (a->done || b->done)
        return (int)a->done - (int)b->done;
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    int c = bytes_cmp(a->text.data ? a->text.data : "", a->text.len,
                      b->text.data ? b->text.data : "", b->text.len);
    if (c)
        return c;
    return strcmp(a->name.data ? a->name.data : "", b->name.data ? b->name.data : "");
}

/* Collects the rows of a spilled engine: the current tables become one more
 * run, then the runs are merged (k-way, sorted), equal records summed, and
 * the rows passing the filters kept; only those are held in memory. */
static tifa_status collect_runs(tifa_ngrams *ng, const size_t *order,
                                ng_rows *rows)
{
    tifa_status st = spill(ng);
    if (st != TIFA_OK)
        return st;
    size_t k = ng->n_runs;
    run_head *h = calloc(k, sizeof *h);
    uint64_t *per = calloc(ng->n_corpora + 1, sizeof *per);
    uint32_t *perd = calloc(ng->n_corpora + 1, sizeof *perd);
    size_t *rank = calloc(ng->n_corpora + 1, sizeof *rank);
    tifa_buf cur = { 0 };
    if (!h || !per || !perd || !rank) {
        st = TIFA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ng->n_corpora; i++)
        rank[order[i]] = i;
    for (size_t i = 0; i < k && st == TIFA_OK; i++) {
        h[i].f = ng->runs[i].file;
        rewind(h[i].f);
        st = head_next(&h[i]);
    }
    while (st == TIFA_OK) {
        size_t best = 0;
        for (size_t i = 1; i < k; i++)
            if (head_cmp(&h[i], &h[best]) < 0)
                best = i;
        if (!k || h[best].done)
            break;
        /* one (unit, n, text): gather every corpus */
        int unit = h[best].unit, n = h[best].n;
        tifa_buf_clear(&cur);
        if ((st = tifa_buf_append(&cur, h[best].text.data, h[best].text.len)) != TIFA_OK)
            break;
        memset(per, 0, ng->n_corpora * sizeof *per);
        memset(perd, 0, ng->n_corpora * sizeof *perd);
        uint64_t total = 0;
        for (;;) {
            best = 0;
            for (size_t i = 1; i < k; i++)
                if (head_cmp(&h[i], &h[best]) < 0)
                    best = i;
            run_head *b = &h[best];
            if (b->done || b->unit != unit || b->n != n ||
                bytes_cmp(b->text.data, b->text.len, cur.data, cur.len))
                break;
            size_t ci = 0;
            while (ci < ng->n_corpora && strcmp(ng->corpora[ci].name, b->name.data))
                ci++;
            if (ci == ng->n_corpora) {
                st = TIFA_EINTERNAL;
                break;
            }
            per[ci] += b->count;
            perd[ci] += b->docs;
            total += b->count;
            if ((st = head_next(b)) != TIFA_OK)
                break;
        }
        for (size_t ci = 0; ci < ng->n_corpora && st == TIFA_OK; ci++) {
            if (!row_passes(ng, unit, n, per[ci], perd[ci], cur.data, cur.len))
                continue;
            ng_row row = { 0 };
            row.count = per[ci];
            row.docs = perd[ci];
            row.other = total - per[ci];
            row.corpus = (uint32_t)rank[ci];
            row.unit = (uint8_t)unit;
            row.n = (uint8_t)n;
            st = rows_add(rows, &row, cur.data, cur.len);
            if (st == TIFA_OK && ng->opt.memory_budget &&
                rows->n * sizeof(ng_row) + rows->arena.len > ng->opt.memory_budget / 2)
                st = rows_spill(rows); /* the rows to write exceed the budget */
        }
    }
out:
    for (size_t i = 0; h && i < k; i++) {
        tifa_buf_free(&h[i].text);
        tifa_buf_free(&h[i].name);
    }
    free(h);
    free(per);
    free(perd);
    free(rank);
    tifa_buf_free(&cur);
    return st;
}

tifa_status tifa_ngrams_set_filters(tifa_ngrams *ng,
                                    const tifa_ngram_options *options)
{
    if (!ng || !options)
        return TIFA_EUSAGE;
    tifa_ngram_options o = *options;
    if (o.char_max && o.char_min == 0)
        o.char_min = 1;
    if (o.word_max && o.word_min == 0)
        o.word_min = 1;
    if (o.char_max != ng->opt.char_max || o.word_max != ng->opt.word_max ||
        (o.char_max && (o.char_min < 1 || o.char_min > o.char_max)) ||
        (o.word_max && (o.word_min < 1 || o.word_min > o.word_max)) ||
        o.min_count < 0 || o.min_docs < 0)
        return TIFA_EUSAGE;
    tifa_strmap *old_stop = ng->stop;
    char *old_path = ng->stoplist_path;
    ng->stop = NULL;
    ng->stoplist_path = NULL;
    if (o.stoplist) {
        ng->stoplist_path = tifa_strdup(o.stoplist);
        tifa_status st = ng->stoplist_path ? load_stoplist(ng, o.stoplist) : TIFA_ENOMEM;
        if (st != TIFA_OK) {
            tifa_strmap_free(ng->stop);
            free(ng->stoplist_path);
            ng->stop = old_stop;
            ng->stoplist_path = old_path;
            return st;
        }
    }
    tifa_strmap_free(old_stop);
    free(old_path);
    o.stoplist = ng->stoplist_path;
    ng->opt = o;
    return TIFA_OK;
}
