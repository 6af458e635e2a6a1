/*
 * aho.c — the lexicon matcher behind the `total` counts (SPEC §4): one pass
 * over a document finds every occurrence of every lexicon string, however
 * many strings there are, and tifa_ac_count applies the per-string
 * non-overlapping rule on the fly.  (The file and the tifa_ac_* names come
 * from the Aho–Corasick automaton this replaced; see docs/statistics.md,
 * "Performance", for why and for the numbers.)
 *
 * Why not an automaton: an automaton step depends on the previous step, so
 * every character costs a dependent table look-up plus hard-to-predict
 * branches (in the trie or not), roughly 15 cycles per character here.  Yet real
 * occurrences are rare: on government reports about 3 characters in 100 end
 * one.  So the scan asks, independently for every place where a character
 * ends, "can a lexicon string end here?", with one table look-up and no
 * branch that is usually taken, and only the few places that pass are
 * examined exactly.
 *
 *   1. Where characters end.  SSE2 marks the non-continuation bytes of 64
 *      bytes at a time; a string can only end right before one of them (or
 *      at the end of the text) — see "Why lead bytes are enough" below.
 *   2. The filter (stage 1).  At such a place z, the last three bytes are
 *      hashed to an entry of two 64-bit masks: W1 holds bit (b & 63) for the
 *      byte b just before the last three bytes of every lexicon string that
 *      ends in those three bytes, and W2 the same for the byte six before
 *      the last three; a string too short to have that byte sets all bits.
 *      The place passes when both bits of the text's bytes are set.  For
 *      Chinese, this asks for the last character, the last byte of the one
 *      before and the last byte of the one before that; on the government
 *      reports about 3.5% of the places pass.  Strings of one or two bytes
 *      (rare: ASCII "A", "5G") have their own 256-bit table of last bytes.
 *   3. The exact check (stage 2).  A suffix trie read backwards from z in
 *      steps of three bytes: node = the last 3, 6, 9 … bytes of some string;
 *      its out is the string equal to them, and a string whose length is not
 *      a multiple of 3 hangs below the node of its last 3q bytes by a
 *      "tail" edge of its first 1 or 2 bytes.  Every edge is one entry of
 *      one open-addressing table keyed by (node, edge length, bytes).  The
 *      walk meets exactly the strings that end at z, in at most
 *      (longest string)/3 probes, whatever the size of the lexicon.
 *
 * The filter is sound (a string that ends at z always passes, by
 * construction of W1/W2), so the result is exact; its only effect is speed.
 * With a very large lexicon the masks fill up and more places pass: the
 * scan slows down towards one walk per character, still exact and still
 * bounded per place.
 * tifa_ac_new_flags(TIFA_AC_NO_FILTER) skips it and walks the trie at every
 * byte position, which tests use to check the filter and the lead-byte
 * positions against the plain walk.
 *
 * Matching bytes is matching characters: a lexicon string is valid UTF-8
 * (an invalid one is never counted), so it starts with a lead byte, and a
 * lead byte always starts a character when text is decoded from its start,
 * valid or not (a valid sequence never contains one, an invalid byte is
 * skipped alone).  So a byte occurrence of a string is an occurrence of its
 * characters, and vice versa.
 *
 * Once built the matcher is read-only and shared by all worker threads.
 */
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "stats_internal.h"

#define NONE UINT32_MAX

typedef struct hslot {
    uint64_t key; /* node << 32 | edge length << 24 | bytes; 0 = empty */
    uint32_t to;
} hslot;

/* node flags: has tail edges of length 1, 2; has 3-byte edges */
enum { TAIL1 = 1, TAIL2 = 2, KIDS = 4 };
#define ROOT_ONE (1u << 24)
#define ROOT_MANY (1u << 25)

struct tifa_ac {
    uint32_t nnodes;
    uint32_t *out;   /* per node: string equal to its bytes, or NONE */
    uint8_t *flags;  /* per node: TAIL1, TAIL2, KIDS */
    hslot *h;        /* every edge of the trie */
    size_t hmask;
    unsigned hshift; /* 64 - log2(table size) */
    uint64_t *filt;  /* 2 words (W1, W2) per entry */
    unsigned fshift; /* 64 - log2(entries) */
    /* per filter entry: the root's child for the last 3 bytes hashed there,
     * so that a walk usually skips its first probe: key = bytes | ROOT_ONE
     * and node when one key hashes there, ROOT_MANY when several do */
    struct rootent {
        uint32_t key, node;
    } *rootent;
    uint64_t shortb[4]; /* last bytes of the 1- and 2-byte strings */
    bool has_short;
    bool has_long;   /* any string of 3 bytes or more */
    bool no_filter;
    size_t *len;     /* byte length per string id */
};

void tifa_ac_free(tifa_ac *ac)
{
    if (!ac)
        return;
    free(ac->out);
    free(ac->flags);
    free(ac->h);
    free(ac->filt);
    free(ac->rootent);
    free(ac->len);
    free(ac);
}

static const uint64_t GOLD = 0x9E3779B97F4A7C15ULL;

static inline size_t h_index(uint64_t key, unsigned shift)
{
    return (size_t)((key * GOLD) >> shift);
}

static inline uint64_t edge_key(uint32_t node, unsigned elen, uint32_t bytes)
{
    /* never 0: edge lengths are 1..3 */
    return ((uint64_t)node << 32) | ((uint64_t)elen << 24) | bytes;
}

/* The child of node by the edge (elen, bytes), or NONE. */
static inline uint32_t h_get(const tifa_ac *ac, uint64_t key)
{
    size_t i = h_index(key, ac->hshift);
    for (;;) {
        uint64_t k = ac->h[i].key;
        if (k == key)
            return ac->h[i].to;
        if (!k)
            return NONE;
        i = (i + 1) & ac->hmask;
    }
}

/* The n ≤ 3 bytes at p as a little-endian number. */
static inline uint32_t bytes_at(const unsigned char *p, unsigned n)
{
    uint32_t v = p[0];
    if (n > 1)
        v |= (uint32_t)p[1] << 8;
    if (n > 2)
        v |= (uint32_t)p[2] << 16;
    return v;
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

static unsigned shift_for(size_t pow2)
{
    unsigned s = 64;
    for (size_t c = pow2; c > 1; c >>= 1)
        s--;
    return s;
}

/* The child of node by (elen, bytes), made if missing; NONE when the
 * node arrays are full (cannot happen: they are sized for the worst case). */
static uint32_t h_add(tifa_ac *ac, uint32_t node, unsigned elen,
                      uint32_t bytes, uint32_t cap)
{
    uint64_t key = edge_key(node, elen, bytes);
    size_t i = h_index(key, ac->hshift);
    while (ac->h[i].key && ac->h[i].key != key)
        i = (i + 1) & ac->hmask;
    if (ac->h[i].key)
        return ac->h[i].to;
    if (ac->nnodes >= cap)
        return NONE;
    uint32_t v = ac->nnodes++;
    ac->out[v] = NONE;
    ac->flags[v] = 0;
    ac->h[i].key = key;
    ac->h[i].to = v;
    return v;
}

tifa_ac *tifa_ac_new(const char *const *strings, const size_t *lens, size_t n,
                     tifa_status *status)
{
    return tifa_ac_new_flags(strings, lens, n, 0, status);
}

tifa_ac *tifa_ac_new_flags(const char *const *strings, const size_t *lens,
                           size_t n, unsigned flags, tifa_status *status)
{
    tifa_status st = TIFA_ENOMEM;
    tifa_ac *ac = calloc(1, sizeof *ac);
    if (!ac)
        goto fail;
    ac->no_filter = (flags & TIFA_AC_NO_FILTER) != 0;
    if (n >= NONE / 2) {
        st = TIFA_ELIMIT;
        goto fail;
    }
    /* nodes: the root, one per 3-byte step and one per tail of each string;
     * edges: one per node but the root */
    size_t cap = 1, nlong = 0;
    for (size_t i = 0; i < n; i++) {
        cap += lens[i] / 3 + 1;
        if (lens[i] >= 3)
            nlong++;
        if (cap >= NONE / 4) {
            st = TIFA_ELIMIT;
            goto fail;
        }
    }
    size_t hcap = pow2_at_least(2 * cap);
    size_t fcap = pow2_at_least(2 * nlong);
    if (fcap > ((size_t)1 << 16))
        fcap = (size_t)1 << 16; /* 1 MiB: beyond, collisions only add work */
    ac->out = malloc(cap * sizeof *ac->out);
    ac->flags = malloc(cap);
    ac->h = calloc(hcap, sizeof *ac->h);
    ac->filt = calloc(2 * fcap, sizeof *ac->filt);
    ac->rootent = calloc(fcap, sizeof *ac->rootent);
    ac->len = malloc((n ? n : 1) * sizeof *ac->len);
    if (!ac->out || !ac->flags || !ac->h || !ac->filt || !ac->rootent ||
        !ac->len)
        goto fail;
    ac->hmask = hcap - 1;
    ac->hshift = shift_for(hcap);
    ac->fshift = shift_for(fcap);
    ac->nnodes = 1;
    ac->out[0] = NONE;
    ac->flags[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)strings[i];
        size_t L = lens[i];
        ac->len[i] = L;
        if (!L || !tifa_utf8_valid(strings[i], L))
            continue; /* empty or not valid UTF-8: never counted */
        uint32_t node = 0;
        size_t d = 0;
        for (; d + 3 <= L && node != NONE; d += 3) {
            ac->flags[node] |= KIDS;
            node = h_add(ac, node, 3, bytes_at(s + L - d - 3, 3),
                         (uint32_t)cap);
        }
        size_t r = L - d;
        if (r && node != NONE) {
            ac->flags[node] |= r == 1 ? TAIL1 : TAIL2;
            node = h_add(ac, node, (unsigned)r, bytes_at(s, (unsigned)r),
                         (uint32_t)cap);
        }
        if (node == NONE) {
            st = TIFA_EINTERNAL;
            goto fail;
        }
        if (ac->out[node] == NONE)
            ac->out[node] = (uint32_t)i; /* a duplicate counts under the first */
        /* the filter */
        if (L <= 2) {
            unsigned b = s[L - 1];
            ac->shortb[b >> 6] |= (uint64_t)1 << (b & 63);
            ac->has_short = true;
            continue;
        }
        ac->has_long = true;
        uint32_t k3 = bytes_at(s + L - 3, 3);
        size_t f = h_index(k3, ac->fshift);
        ac->filt[2 * f] |= L >= 4 ? (uint64_t)1 << (s[L - 4] & 63) : ~0ULL;
        ac->filt[2 * f + 1] |= L >= 7 ? (uint64_t)1 << (s[L - 7] & 63) : ~0ULL;
        struct rootent *re = &ac->rootent[f];
        if (!re->key)
            *re = (struct rootent){k3 | ROOT_ONE, h_get(ac, edge_key(0, 3, k3))};
        else if (re->key != (k3 | ROOT_ONE))
            re->key = ROOT_MANY;
    }
    if (status)
        *status = TIFA_OK;
    return ac;
fail:
    tifa_ac_free(ac);
    if (status)
        *status = st;
    return NULL;
}

/* ------------------------------------------------------------- scanning -- */

/* One occurrence of string id ending at byte `end`: counted when it starts
 * at or after the end of the string's last counted occurrence.  For one
 * string, occurrences come in order of end and therefore of start, so this
 * is the greedy left-to-right non-overlapping count (SPEC §4). */
static inline void tally_one(const tifa_ac *ac, tifa_ac_tally *t, uint32_t id,
                             size_t end)
{
    if (t->stamp[id] != t->cur) {
        t->stamp[id] = t->cur;
        t->cnt[id] = 0;
        t->next[id] = 0;
        t->touched[t->ntouched++] = id;
    }
    if (end - ac->len[id] >= t->next[id]) {
        t->cnt[id]++;
        t->next[id] = end;
    }
}

/* Stage 2: every string that ends at byte z of t, through the trie; the
 * walk starts at node (the root, or the root's child for the last 3 bytes,
 * then d = 3). */
static void walk_from(const tifa_ac *ac, const unsigned char *t, size_t z,
                      tifa_ac_tally *ta, uint32_t node, size_t d)
{
    if (d && ac->out[node] != NONE)
        tally_one(ac, ta, ac->out[node], z);
    for (;;) {
        uint8_t fl = ac->flags[node];
        if (fl & (TAIL1 | TAIL2)) {
            for (unsigned r = 1; r <= 2; r++) {
                if (!(fl & (r == 1 ? TAIL1 : TAIL2)) || d + r > z)
                    continue;
                uint32_t v =
                    h_get(ac, edge_key(node, r, bytes_at(t + z - d - r, r)));
                if (v != NONE)
                    tally_one(ac, ta, ac->out[v], z);
            }
        }
        if (!(fl & KIDS) || d + 3 > z)
            return;
        node = h_get(ac, edge_key(node, 3, bytes_at(t + z - d - 3, 3)));
        if (node == NONE)
            return;
        d += 3;
        if (ac->out[node] != NONE)
            tally_one(ac, ta, ac->out[node], z);
    }
}

static void walk(const tifa_ac *ac, const unsigned char *t, size_t z,
                 tifa_ac_tally *ta)
{
    walk_from(ac, t, z, ta, 0, 0);
}

/* Stage 2 after the filter passed at z ≥ 8 for filter entry f: the root's
 * tails (1- and 2-byte strings) are looked at only when there are any; the
 * root's child for the last 3 bytes comes from the entry when no other key
 * hashes there (most of the time), else from the table. */
static void walk_entry(const tifa_ac *ac, const unsigned char *t, size_t z,
                       tifa_ac_tally *ta, size_t f, uint32_t k3)
{
    if (ac->flags[0] & (TAIL1 | TAIL2)) {
        walk(ac, t, z, ta);
        return;
    }
    struct rootent re = ac->rootent[f];
    uint32_t node;
    if (re.key == (k3 | ROOT_ONE))
        node = re.node;
    else if (re.key == ROOT_MANY)
        node = h_get(ac, edge_key(0, 3, k3));
    else
        return; /* no string ends with these 3 bytes */
    if (node != NONE)
        walk_from(ac, t, z, ta, node, 3);
}

/* What stage 1 reads, copied into locals so that the compiler keeps them
 * in registers across the rare calls of the walk. */
typedef struct filter {
    const uint64_t *filt;
    const uint64_t *shortb;
    unsigned fshift;
} filter;

/* Stage 1 and, when it passes, stage 2 at z ≥ 8.  w holds bytes z-8 ..
 * z-1 (little-endian: byte z-1 is the top byte). */
static inline void place(const tifa_ac *ac, const filter *fv,
                         const unsigned char *t, size_t z, tifa_ac_tally *ta,
                         bool with_short)
{
    uint64_t w;
    memcpy(&w, t + z - 8, 8);
    uint32_t k3 = (uint32_t)(w >> 40);
    size_t f = h_index(k3, fv->fshift);
    const uint64_t *e = fv->filt + 2 * f;
    uint64_t hit = (e[0] >> ((w >> 32) & 63)) & (e[1] >> ((w >> 8) & 63));
    if (with_short) {
        unsigned b = (unsigned)(w >> 56);
        hit |= fv->shortb[b >> 6] >> (b & 63);
    }
    if (hit & 1)
        walk_entry(ac, t, z, ta, f, k3);
}

/*
 * Why lead bytes are enough.  A string ends where a character ends.  In
 * valid UTF-8 the byte after a character is never a continuation byte
 * (10xxxxxx), so only the places right before a lead byte (or the end of
 * the text) need the filter.  In invalid text a valid character may be
 * followed by a stray continuation byte; the scan finds out cheaply: with
 * claimed(z) = "a byte ≥ C0 at z-1, ≥ E0 at z-2 or ≥ F0 at z-3", a place
 * mismatches when it is a continuation byte and not claimed, or claimed and
 * not one.  If a valid character t[j-k .. j) is followed by a continuation
 * byte at j, then j mismatches, or the byte claiming j sits before j-k and
 * also claims the lead byte at j-k, which then mismatches; either way within
 * two bytes before j.  So a block of 64 places with no mismatch in it or in
 * the two places before it is scanned at its lead bytes only, and any other
 * block at every byte.
 */
static void scan(const tifa_ac *ac, const unsigned char *t, size_t len,
                 tifa_ac_tally *ta, bool with_short)
{
    const filter fv = {ac->filt, ac->shortb, ac->fshift};
    size_t z = 1, y = 8;
#if defined(__SSE2__)
    if (len >= 8 + 64) {
        for (; z < 8; z++)
            walk(ac, t, z, ta);
        const __m128i m64 = _mm_set1_epi8(-64), zero = _mm_setzero_si128(),
                      cBF = _mm_set1_epi8((char)0xBF),
                      cDF = _mm_set1_epi8((char)0xDF),
                      cEF = _mm_set1_epi8((char)0xEF);
        bool carry = true; /* the two places before y are not checked */
        for (; y + 64 <= len; y += 64) {
            uint64_t leads = 0, mis = 0;
            for (unsigned q = 0; q < 4; q++) {
                const unsigned char *u = t + y + 16 * q;
                __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)u),
                        v1 = _mm_loadu_si128(
                            (const __m128i *)(const void *)(u - 1)),
                        v2 = _mm_loadu_si128(
                            (const __m128i *)(const void *)(u - 2)),
                        v3 = _mm_loadu_si128(
                            (const __m128i *)(const void *)(u - 3));
                /* continuation: signed byte < -64, i.e. 80..BF */
                __m128i cont = _mm_cmpgt_epi8(m64, v0);
                __m128i unclaimed = _mm_and_si128(
                    _mm_and_si128(
                        _mm_cmpeq_epi8(_mm_subs_epu8(v1, cBF), zero),
                        _mm_cmpeq_epi8(_mm_subs_epu8(v2, cDF), zero)),
                    _mm_cmpeq_epi8(_mm_subs_epu8(v3, cEF), zero));
                uint64_t c = (unsigned)_mm_movemask_epi8(cont);
                leads |= (~c & 0xFFFF) << (16 * q);
                mis |= (uint64_t)(unsigned)_mm_movemask_epi8(
                           _mm_cmpeq_epi8(cont, unclaimed))
                       << (16 * q);
            }
            if (mis || carry) {
                for (unsigned i = 0; i < 64; i++)
                    place(ac, &fv, t, y + i, ta, with_short);
            } else {
                while (leads) {
                    size_t zz = y + (size_t)__builtin_ctzll(leads);
                    leads &= leads - 1;
                    place(ac, &fv, t, zz, ta, with_short);
                }
            }
            carry = (mis >> 62) != 0;
        }
        z = y;
    }
#endif
    for (; z <= len; z++) {
        if (z >= 8)
            place(ac, &fv, t, z, ta, with_short);
        else
            walk(ac, t, z, ta);
    }
}

void tifa_ac_count(const tifa_ac *ac, const char *text, size_t len,
                   tifa_ac_tally *t)
{
    if (!ac || ac->nnodes < 2 || !text)
        return;
    const unsigned char *u = (const unsigned char *)text;
    if (ac->no_filter) {
        for (size_t z = 1; z <= len; z++)
            walk(ac, u, z, t);
    } else if (ac->has_short) {
        scan(ac, u, len, t, true);
    } else {
        scan(ac, u, len, t, false);
    }
}
