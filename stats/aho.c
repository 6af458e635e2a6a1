/*
 * aho.c — an Aho–Corasick automaton over characters (code points), for the
 * `total` counts of the slogan lexicon (SPEC §4): one pass over a document
 * finds every occurrence of every lexicon string, however many strings there
 * are, and tifa_ac_count applies the per-string non-overlapping rule on the
 * fly.
 *
 * Why characters and not bytes: Chinese text is three UTF-8 bytes per
 * character, so a byte automaton takes three dependent steps (and three
 * branchy sparse-row searches) per character; profiling showed the byte
 * version at ~18% of a full run (docs/statistics.md, "Performance").  Here
 * the text is decoded once, each code point is mapped to a dense class id
 * (1..K = the distinct characters of the lexicon, 0 = any other character,
 * via a 64 Ki-entry uint16 table for the BMP), and the automaton runs over
 * class ids:
 *   - the root has a complete row over the K+1 classes;
 *   - every other state s stores, in one open-addressing hash table keyed by
 *     (s, class), its "complete sparse set": the transitions whose target
 *     differs from the root row's (its own children plus, recursively, those
 *     of its failure state).  A step is then one probe: hit → target, miss →
 *     the root row.  No failure chain is walked while scanning.  If those
 *     sets would grow too large (a pathological lexicon), the table holds
 *     only the trie edges and a miss follows the failure link instead
 *     (miss[s] = fail[s]); the scan loop is the same.
 *   - a 64-bit filter per state (bit = class mod 64) answers most misses
 *     without a probe: usually the text just leaves the trie;
 *   - class 0 (a character in no lexicon string) always leads to the root;
 *   - targets carry a flag bit when the state ends some string (itself or
 *     along its dictionary links), so the common no-output step costs one
 *     bit test.
 * For valid UTF-8 (all the loader yields), matching characters is exactly
 * matching bytes.  Bytes that are not valid UTF-8 match nothing, and a
 * lexicon string that is not valid UTF-8 is never counted.
 * Once built the automaton is read-only and shared by all worker threads.
 */
#include <stdlib.h>
#include <string.h>

#include "stats_internal.h"

#define NONE UINT32_MAX
#define FLAG 0x80000000u   /* target state has outputs */
#define SMASK 0x7FFFFFFFu
#define BIGCLS 0xFFFFu     /* bmp[] value: look the code point up in big */

typedef struct hslot {
    uint64_t key; /* (state << 32 | class); 0 = empty (state 0 never stored) */
    uint32_t to;  /* target state | FLAG */
} hslot;

typedef struct cpslot {
    int32_t cp; /* -1 = empty */
    uint32_t cls;
} cpslot;

struct tifa_ac {
    uint32_t nstates;
    uint32_t nclass; /* K + 1 */
    uint16_t *bmp;   /* class of every BMP code point, BIGCLS = see big */
    cpslot *big;     /* other code points with a class; NULL if none */
    size_t bigmask;
    uint32_t *root;  /* nclass entries: target | FLAG */
    hslot *h;
    size_t hmask;
    unsigned hshift; /* 64 - log2(table size): multiplicative hashing */
    /* per state: bit (class & 63) is set when the state has an entry for a
     * class with those low bits, so most misses (the common case: the text
     * leaves the trie) cost one load and no probe */
    uint64_t *filter;
    uint32_t *miss;  /* state taken after a hash miss before retrying */
    uint32_t *out;   /* string ending exactly at the state, or NONE */
    uint32_t *dict;  /* nearest state on the failure chain with an out */
    size_t *len;     /* byte length per string id */
};

/* Cap on the complete sparse sets, in entries (16 bytes each in the table
 * at load ≤ 1/2): above it the automaton keeps trie edges only. */
#define CS_BUDGET_MIN (1u << 20)

void tifa_ac_free(tifa_ac *ac)
{
    if (!ac)
        return;
    free(ac->bmp);
    free(ac->big);
    free(ac->root);
    free(ac->h);
    free(ac->filter);
    free(ac->miss);
    free(ac->out);
    free(ac->dict);
    free(ac->len);
    free(ac);
}

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/* One UTF-8 character at p (p < e): its code point, or -1 for an invalid
 * byte (then *n = 1: the next byte is tried as a fresh start, which for
 * matching is the same as ICU's maximal-subpart rule, since an invalid unit
 * always leads to the root and a valid character never starts with a
 * continuation byte). */
static inline int32_t utf8_next(const unsigned char *p, const unsigned char *e,
                                size_t *n)
{
    unsigned b0 = p[0];
    if (b0 < 0x80) {
        *n = 1;
        return (int32_t)b0;
    }
    size_t avail = (size_t)(e - p);
    if (b0 >= 0xE0 && b0 < 0xF0) { /* the common case: CJK */
        if (avail >= 3) {
            unsigned b1 = p[1], b2 = p[2];
            unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
            unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
            if (b1 >= lo && b1 <= hi && (b2 & 0xC0) == 0x80) {
                *n = 3;
                return (int32_t)(((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) |
                                 (b2 & 0x3F));
            }
        }
    } else if (b0 >= 0xC2 && b0 < 0xE0) {
        if (avail >= 2 && (p[1] & 0xC0) == 0x80) {
            *n = 2;
            return (int32_t)(((b0 & 0x1F) << 6) | (p[1] & 0x3F));
        }
    } else if (b0 >= 0xF0 && b0 < 0xF5) {
        if (avail >= 4) {
            unsigned b1 = p[1];
            unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
            unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
            if (b1 >= lo && b1 <= hi && (p[2] & 0xC0) == 0x80 &&
                (p[3] & 0xC0) == 0x80) {
                *n = 4;
                return (int32_t)(((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) |
                                 ((p[2] & 0x3F) << 6) | (p[3] & 0x3F));
            }
        }
    }
    *n = 1;
    return -1;
}

static uint32_t big_find(const cpslot *big, size_t mask, int32_t cp)
{
    if (!big)
        return 0;
    size_t h = mix((uint64_t)(uint32_t)cp) & mask;
    while (big[h].cp != -1) {
        if (big[h].cp == cp)
            return big[h].cls;
        h = (h + 1) & mask;
    }
    return 0;
}

static inline uint32_t class_of(const tifa_ac *ac, int32_t cp)
{
    if (cp < 0)
        return 0;
    if (cp < 0x10000) {
        uint32_t c = ac->bmp[cp];
        if (c != BIGCLS)
            return c;
    }
    return big_find(ac->big, ac->bigmask, cp);
}

static inline size_t h_index(uint64_t key, unsigned shift)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> shift);
}

/* The transition from state s on class c (c ≥ 1): target | FLAG. */
static inline uint32_t ac_step(const tifa_ac *ac, uint32_t s, uint32_t c)
{
    for (;;) {
        if (s == 0)
            return ac->root[c];
        if (!((ac->filter[s] >> (c & 63)) & 1)) {
            s = ac->miss[s];
            continue;
        }
        uint64_t key = ((uint64_t)s << 32) | c;
        size_t h = h_index(key, ac->hshift);
        for (;;) {
            uint64_t k = ac->h[h].key;
            if (k == key)
                return ac->h[h].to;
            if (!k)
                break;
            h = (h + 1) & ac->hmask;
        }
        s = ac->miss[s];
    }
}

/* ------------------------------------------------------------- building -- */

typedef struct edge {
    uint32_t cls, to;
} edge;

static int cmp_edge(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    return x->cls < y->cls ? -1 : x->cls > y->cls;
}

/* Trie child of s on class c among the sorted edges (0 = none). */
static uint32_t child_of(const edge *ed, const uint32_t *start, uint32_t s,
                         uint32_t c)
{
    uint32_t lo = start[s], hi = start[s + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ed[mid].cls < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < start[s + 1] && ed[lo].cls == c ? ed[lo].to : 0;
}

static void h_put(tifa_ac *ac, uint32_t s, uint32_t c, uint32_t to)
{
    hslot *h = ac->h;
    size_t mask = ac->hmask;
    uint64_t key = ((uint64_t)s << 32) | c;
    ac->filter[s] |= (uint64_t)1 << (c & 63);
    size_t i = h_index(key, ac->hshift);
    while (h[i].key && h[i].key != key)
        i = (i + 1) & mask;
    h[i].key = key;
    h[i].to = to;
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

tifa_ac *tifa_ac_new(const char *const *strings, const size_t *lens, size_t n,
                     tifa_status *status)
{
    return tifa_ac_new_budget(strings, lens, n, 0, status);
}

tifa_ac *tifa_ac_new_budget(const char *const *strings, const size_t *lens,
                            size_t n, size_t cs_budget, tifa_status *status)
{
    tifa_status st = TIFA_ENOMEM;
    tifa_ac *ac = calloc(1, sizeof *ac);
    int32_t *units = NULL;          /* decoded strings, concatenated */
    size_t *ustart = NULL;          /* n + 1 offsets into units; invalid: = */
    cpslot *cmap = NULL;            /* code point → class while building */
    uint64_t *tkeys = NULL;         /* trie hash: (parent, class) → child */
    uint32_t *tvals = NULL;
    uint32_t *parent = NULL, *pcls = NULL, *start = NULL, *queue = NULL,
             *fail = NULL, *cs_off = NULL;
    edge *ed = NULL, *cs = NULL;
    if (!ac)
        goto fail;
    if (n >= NONE / 2) {
        st = TIFA_ELIMIT;
        goto fail;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (total >= SMASK / 2) {
        st = TIFA_ELIMIT;
        goto fail;
    }
    /* 1. decode every string; map its code points to classes 1..K */
    units = malloc((total ? total : 1) * sizeof *units);
    ustart = malloc((n + 1) * sizeof *ustart);
    ac->len = malloc((n ? n : 1) * sizeof *ac->len);
    size_t cmcap = pow2_at_least(2 * total + 2);
    cmap = malloc(cmcap * sizeof *cmap);
    if (!units || !ustart || !ac->len || !cmap)
        goto fail;
    memset(cmap, 0xFF, cmcap * sizeof *cmap); /* cp = -1: empty */
    uint32_t K = 0;
    size_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        ac->len[i] = lens[i];
        ustart[i] = nu;
        const unsigned char *p = (const unsigned char *)strings[i],
                            *e = p + lens[i];
        bool ok = true;
        size_t mark = nu;
        while (p < e) {
            size_t k;
            int32_t cp = utf8_next(p, e, &k);
            if (cp < 0) {
                ok = false;
                break;
            }
            units[nu++] = cp;
            p += k;
        }
        if (!ok) { /* not valid UTF-8: never counted */
            nu = mark;
            continue;
        }
        for (size_t u = mark; u < nu; u++) {
            size_t h = mix((uint64_t)(uint32_t)units[u]) & (cmcap - 1);
            while (cmap[h].cp != -1 && cmap[h].cp != units[u])
                h = (h + 1) & (cmcap - 1);
            if (cmap[h].cp == -1) {
                cmap[h].cp = units[u];
                cmap[h].cls = ++K;
            }
            units[u] = (int32_t)cmap[h].cls; /* from now on: class ids */
        }
    }
    ustart[n] = nu;
    ac->nclass = K + 1;
    ac->bmp = calloc(0x10000, sizeof *ac->bmp);
    if (!ac->bmp)
        goto fail;
    size_t nbig = 0;
    for (size_t h = 0; h < cmcap; h++)
        if (cmap[h].cp != -1) {
            if (cmap[h].cp < 0x10000 && cmap[h].cls < BIGCLS)
                ac->bmp[cmap[h].cp] = (uint16_t)cmap[h].cls;
            else
                nbig++;
        }
    if (nbig) {
        size_t bcap = pow2_at_least(2 * nbig);
        ac->big = malloc(bcap * sizeof *ac->big);
        if (!ac->big)
            goto fail;
        memset(ac->big, 0xFF, bcap * sizeof *ac->big);
        ac->bigmask = bcap - 1;
        for (size_t h = 0; h < cmcap; h++) {
            int32_t cp = cmap[h].cp;
            if (cp == -1 || (cp < 0x10000 && cmap[h].cls < BIGCLS))
                continue;
            if (cp < 0x10000)
                ac->bmp[cp] = BIGCLS;
            size_t b = mix((uint64_t)(uint32_t)cp) & ac->bigmask;
            while (ac->big[b].cp != -1)
                b = (b + 1) & ac->bigmask;
            ac->big[b] = cmap[h];
        }
    }
    free(cmap);
    cmap = NULL;

    /* 2. the trie over classes */
    size_t smax = nu + 1;
    size_t tcap = pow2_at_least(2 * smax);
    tkeys = calloc(tcap, sizeof *tkeys);
    tvals = malloc(tcap * sizeof *tvals);
    ac->out = malloc(smax * sizeof *ac->out);
    parent = malloc(smax * sizeof *parent);
    pcls = malloc(smax * sizeof *pcls);
    if (!tkeys || !tvals || !ac->out || !parent || !pcls)
        goto fail;
    uint32_t ns = 1;
    ac->out[0] = NONE;
    for (size_t i = 0; i < n; i++) {
        if (ustart[i + 1] == ustart[i])
            continue; /* empty or invalid */
        uint32_t s = 0;
        for (size_t u = ustart[i]; u < ustart[i + 1]; u++) {
            uint32_t c = (uint32_t)units[u];
            uint64_t key = (((uint64_t)s << 32) | c) + 1;
            size_t h = mix(key) & (tcap - 1);
            while (tkeys[h] && tkeys[h] != key)
                h = (h + 1) & (tcap - 1);
            if (!tkeys[h]) {
                tkeys[h] = key;
                tvals[h] = ns;
                parent[ns] = s;
                pcls[ns] = c;
                ac->out[ns] = NONE;
                ns++;
            }
            s = tvals[h];
        }
        if (ac->out[s] == NONE)
            ac->out[s] = (uint32_t)i;
    }
    free(tkeys);
    free(tvals);
    tkeys = NULL;
    tvals = NULL;
    free(units);
    units = NULL;
    ac->nstates = ns;

    /* 3. children of each state as edges sorted by class */
    start = calloc((size_t)ns + 1, sizeof *start);
    ed = malloc((size_t)ns * sizeof *ed);
    queue = malloc((size_t)ns * sizeof *queue);
    fail = calloc(ns, sizeof *fail);
    ac->dict = calloc(ns, sizeof *ac->dict);
    ac->miss = calloc(ns, sizeof *ac->miss);
    ac->root = calloc(ac->nclass, sizeof *ac->root);
    if (!start || !ed || !queue || !fail || !ac->dict || !ac->miss ||
        !ac->root)
        goto fail;
    for (uint32_t v = 1; v < ns; v++)
        start[parent[v] + 1]++;
    for (uint32_t s = 0; s < ns; s++)
        start[s + 1] += start[s];
    for (uint32_t s = 0; s < ns; s++)
        queue[s] = start[s]; /* fill cursors */
    for (uint32_t v = 1; v < ns; v++)
        ed[queue[parent[v]]++] = (edge){pcls[v], v};
    for (uint32_t s = 0; s < ns; s++)
        if (start[s + 1] - start[s] > 1)
            qsort(ed + start[s], start[s + 1] - start[s], sizeof *ed,
                  cmp_edge);
    free(parent);
    free(pcls);
    parent = pcls = NULL;

    /* 4. breadth-first failure and dictionary links */
    uint32_t qh = 0, qt = 0;
    for (uint32_t e = start[0]; e < start[1]; e++)
        queue[qt++] = ed[e].to; /* fail = dict = 0 */
    while (qh < qt) {
        uint32_t u = queue[qh++];
        for (uint32_t e = start[u]; e < start[u + 1]; e++) {
            uint32_t c = ed[e].cls, v = ed[e].to;
            uint32_t f = fail[u], nx;
            for (;;) {
                nx = child_of(ed, start, f, c);
                if (nx || f == 0)
                    break;
                f = fail[f];
            }
            fail[v] = nx;
            ac->dict[v] = ac->out[nx] != NONE ? nx : ac->dict[nx];
            queue[qt++] = v;
        }
    }
#define TGT(v) ((v) | ((ac->out[v] != NONE || ac->dict[v]) ? FLAG : 0u))
    for (uint32_t e = start[0]; e < start[1]; e++)
        ac->root[ed[e].cls] = TGT(ed[e].to);

    /* 5. complete sparse sets, in breadth-first order so that the set of a
     * failure state (always shallower) is ready: CS(s) = children(s) ∪
     * (CS(fail(s)) without the classes of those children); CS(root) = ∅
     * because the root row covers it.  Both inputs are sorted by class, so
     * this is a merge. */
    size_t budget = (size_t)ns * 8 > CS_BUDGET_MIN ? (size_t)ns * 8
                                                   : CS_BUDGET_MIN;
    if (cs_budget)
        budget = cs_budget;
    cs_off = calloc((size_t)ns + 1, sizeof *cs_off);
    size_t cs_cap = (size_t)ns + 16, ncs = 0;
    cs = malloc(cs_cap * sizeof *cs);
    if (!cs_off || !cs)
        goto fail;
    bool complete = true;
    /* CS(v) is cs[cs_off[v] .. cs_off[v] + cs_len[v]); miss[] serves as
     * cs_len while building and is rewritten below */
    uint32_t *cs_len = ac->miss;
    for (uint32_t k = 0; k < qt && complete; k++) {
        uint32_t v = queue[k];
        uint32_t f = fail[v];
        size_t a = start[v], ae = start[v + 1];
        size_t b = f ? cs_off[f] : 0, be = f ? b + cs_len[f] : 0;
        size_t need = (ae - a) + (be - b);
        if (ncs + need > budget || ncs + need > UINT32_MAX / 2) {
            complete = false;
            break;
        }
        if (ncs + need > cs_cap) {
            size_t c2 = cs_cap;
            while (c2 < ncs + need)
                c2 *= 2;
            edge *p = realloc(cs, c2 * sizeof *cs);
            if (!p)
                goto fail;
            cs = p;
            cs_cap = c2;
        }
        cs_off[v] = (uint32_t)ncs;
        size_t o = ncs;
        while (a < ae || b < be) {
            if (b >= be || (a < ae && ed[a].cls <= cs[b].cls)) {
                if (b < be && cs[b].cls == ed[a].cls)
                    b++; /* the child wins */
                cs[o++] = ed[a++];
            } else {
                cs[o++] = cs[b++];
            }
        }
        cs_len[v] = (uint32_t)(o - ncs);
        ncs = o;
    }
    size_t nent = 0;
    if (complete) {
        nent = ncs;
    } else {
        nent = start[ns] - start[1]; /* trie edges below the root */
    }
    size_t hcap = pow2_at_least(2 * nent + 2);
    ac->h = calloc(hcap, sizeof *ac->h);
    ac->filter = calloc(ns, sizeof *ac->filter);
    if (!ac->h || !ac->filter)
        goto fail;
    ac->hmask = hcap - 1;
    ac->hshift = 64;
    for (size_t c = hcap; c > 1; c >>= 1)
        ac->hshift--;
    if (complete) {
        for (uint32_t k = 0; k < qt; k++) {
            uint32_t v = queue[k];
            for (uint32_t e = cs_off[v]; e < cs_off[v] + cs_len[v]; e++)
                h_put(ac, v, cs[e].cls, TGT(cs[e].to));
        }
        memset(ac->miss, 0, (size_t)ns * sizeof *ac->miss);
    } else {
        for (uint32_t v = 1; v < ns; v++)
            for (uint32_t e = start[v]; e < start[v + 1]; e++)
                h_put(ac, v, ed[e].cls, TGT(ed[e].to));
        memcpy(ac->miss, fail, (size_t)ns * sizeof *ac->miss);
    }
#undef TGT
    free(cs);
    free(cs_off);
    free(start);
    free(ed);
    free(queue);
    free(fail);
    free(ustart);
    if (status)
        *status = TIFA_OK;
    return ac;
fail:
    free(units);
    free(ustart);
    free(cmap);
    free(tkeys);
    free(tvals);
    free(parent);
    free(pcls);
    free(start);
    free(ed);
    free(queue);
    free(fail);
    free(cs_off);
    free(cs);
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

void tifa_ac_count(const tifa_ac *ac, const char *text, size_t len,
                   tifa_ac_tally *t)
{
    if (!ac || ac->nstates < 2 || !text)
        return;
    const unsigned char *p = (const unsigned char *)text, *e = p + len;
    uint32_t s = 0;
    while (p < e) {
        size_t k;
        uint32_t c = class_of(ac, utf8_next(p, e, &k));
        p += k;
        uint32_t tr = c ? ac_step(ac, s, c) : 0;
        s = tr & SMASK;
        if (!(tr & FLAG))
            continue;
        size_t end = (size_t)(p - (const unsigned char *)text);
        if (ac->out[s] != NONE)
            tally_one(ac, t, ac->out[s], end);
        for (uint32_t d = ac->dict[s]; d; d = ac->dict[d])
            tally_one(ac, t, ac->out[d], end);
    }
}
