/*
 * aho.c — an Aho–Corasick automaton over UTF-8 bytes, for the `total` counts
 * of the slogan lexicon (SPEC §4): one pass over a document finds every
 * occurrence of every lexicon string, however many strings there are.
 *
 * The trie is built with a hash table of (state, byte) → child, then frozen
 * into compressed rows (children of a state sorted by byte), with failure
 * links and "dictionary" links (the nearest state on the failure chain that
 * ends a string) computed breadth-first.  The root and the states with at
 * least 4 children (8, 16, ... if they do not fit in 64 MiB) also get a
 * complete 256-entry row with the failure transitions already resolved, so
 * the busy top of the trie (lead and middle bytes of first characters) costs
 * one load per byte; the rest follows sparse rows and failure links.  (A
 * full DFA over every state was measured: no faster, far more memory.)  Valid UTF-8 strings can only match valid
 * UTF-8 text at character boundaries, so byte matching equals character
 * matching.  The automaton reports every occurrence, overlaps included; the
 * engine applies the per-string non-overlapping rule (see engine.c).  Once
 * built it is read-only and shared by all worker threads.
 */
#include <stdlib.h>
#include <string.h>

#include "stats_internal.h"

#define NONE UINT32_MAX

struct tifa_ac {
    uint32_t nstates;
    uint32_t *edge_start; /* nstates + 1 */
    uint8_t *edge_byte;
    uint32_t *edge_to;
    uint32_t *fail, *out, *dict;
    /* Complete 256-entry rows (failure transitions resolved) for the root
     * and every state with at least `dense_min` children; NONE = sparse. */
    uint32_t *dense_of;
    uint32_t *rows;
    /* the same per-state fields packed for the scan (one cache line) */
    struct ac_node {
        uint32_t dense, out, dict, fail;
    } *node;
};

/* Dense rows cost 1 KiB each; at most this many bytes of them. */
#define DENSE_BUDGET (64u << 20)

void tifa_ac_free(tifa_ac *ac)
{
    if (!ac)
        return;
    free(ac->edge_start);
    free(ac->edge_byte);
    free(ac->edge_to);
    free(ac->fail);
    free(ac->out);
    free(ac->dict);
    free(ac->dense_of);
    free(ac->rows);
    free(ac->node);
    free(ac);
}

/* The trie child of s on byte c (0 = none), from the sparse rows. */
static inline uint32_t ac_child(const tifa_ac *ac, uint32_t s, uint8_t c)
{
    for (uint32_t e = ac->edge_start[s]; e < ac->edge_start[s + 1]; e++) {
        if (ac->edge_byte[e] == c)
            return ac->edge_to[e];
        if (ac->edge_byte[e] > c)
            break;
    }
    return 0;
}

typedef struct slot {
    uint64_t key; /* (parent << 8 | byte) + 1; 0 = empty */
    uint32_t child;
} slot;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

tifa_ac *tifa_ac_new(const char *const *strings, const size_t *lens, size_t n,
                     tifa_status *status)
{
    tifa_status st = TIFA_ENOMEM;
    tifa_ac *ac = calloc(1, sizeof *ac);
    slot *tab = NULL;
    uint32_t *parent = NULL, *queue = NULL;
    uint8_t *pbyte = NULL;
    if (!ac)
        goto fail;
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (total >= NONE / 2) {
        st = TIFA_ELIMIT;
        goto fail;
    }
    size_t cap = 16;
    while (cap < 2 * total)
        cap *= 2;
    tab = calloc(cap, sizeof *tab);
    ac->out = malloc(total * sizeof *ac->out);
    parent = malloc(total * sizeof *parent);
    pbyte = malloc(total * sizeof *pbyte);
    if (!tab || !ac->out || !parent || !pbyte)
        goto fail;
    uint32_t ns = 1;
    ac->out[0] = NONE;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = 0;
        for (size_t k = 0; k < lens[i]; k++) {
            uint8_t c = (uint8_t)strings[i][k];
            uint64_t key = (((uint64_t)s << 8) | c) + 1;
            size_t h = mix(key) & (cap - 1);
            while (tab[h].key && tab[h].key != key)
                h = (h + 1) & (cap - 1);
            if (!tab[h].key) {
                tab[h].key = key;
                tab[h].child = ns;
                parent[ns] = s;
                pbyte[ns] = c;
                ac->out[ns] = NONE;
                ns++;
            }
            s = tab[h].child;
        }
        if (lens[i] > 0 && ac->out[s] == NONE)
            ac->out[s] = (uint32_t)i;
    }
    free(tab);
    tab = NULL;
    ac->nstates = ns;
    /* compressed rows: count children, prefix sums, fill, sort by byte */
    ac->edge_start = calloc((size_t)ns + 1, sizeof *ac->edge_start);
    ac->edge_byte = malloc(ns * sizeof *ac->edge_byte);
    ac->edge_to = malloc(ns * sizeof *ac->edge_to);
    ac->fail = calloc(ns, sizeof *ac->fail);
    ac->dict = calloc(ns, sizeof *ac->dict);
    queue = malloc(ns * sizeof *queue);
    if (!ac->edge_start || !ac->edge_byte || !ac->edge_to || !ac->fail ||
        !ac->dict || !queue)
        goto fail;
    for (uint32_t v = 1; v < ns; v++)
        ac->edge_start[parent[v] + 1]++;
    for (uint32_t s = 0; s < ns; s++)
        ac->edge_start[s + 1] += ac->edge_start[s];
    uint32_t *fillpos = queue; /* reuse as a cursor array */
    for (uint32_t s = 0; s < ns; s++)
        fillpos[s] = ac->edge_start[s];
    for (uint32_t v = 1; v < ns; v++) {
        uint32_t e = fillpos[parent[v]]++;
        ac->edge_byte[e] = pbyte[v];
        ac->edge_to[e] = v;
    }
    for (uint32_t s = 0; s < ns; s++) {
        uint32_t a = ac->edge_start[s], b = ac->edge_start[s + 1];
        for (uint32_t i = a + 1; i < b; i++) { /* insertion sort */
            uint8_t kb = ac->edge_byte[i];
            uint32_t kt = ac->edge_to[i];
            uint32_t j = i;
            while (j > a && ac->edge_byte[j - 1] > kb) {
                ac->edge_byte[j] = ac->edge_byte[j - 1];
                ac->edge_to[j] = ac->edge_to[j - 1];
                j--;
            }
            ac->edge_byte[j] = kb;
            ac->edge_to[j] = kt;
        }
    }
    /* breadth-first failure and dictionary links */
    uint32_t qh = 0, qt = 0;
    for (uint32_t e = ac->edge_start[0]; e < ac->edge_start[1]; e++) {
        uint32_t v = ac->edge_to[e];
        ac->fail[v] = 0;
        ac->dict[v] = 0;
        queue[qt++] = v;
    }
    while (qh < qt) {
        uint32_t u = queue[qh++];
        for (uint32_t e = ac->edge_start[u]; e < ac->edge_start[u + 1]; e++) {
            uint8_t c = ac->edge_byte[e];
            uint32_t v = ac->edge_to[e];
            uint32_t f = ac->fail[u], nx;
            for (;;) {
                nx = ac_child(ac, f, c);
                if (nx || f == 0)
                    break;
                f = ac->fail[f];
            }
            ac->fail[v] = nx;
            ac->dict[v] = ac->out[nx] != NONE ? nx : ac->dict[nx];
            queue[qt++] = v;
        }
    }
    /* dense rows: the root and the states with many children, as many as
     * the budget allows (raising the threshold until they fit) */
    uint32_t dense_min = 4, ndense;
    for (;;) {
        ndense = 1;
        for (uint32_t v = 1; v < ns; v++)
            ndense += ac->edge_start[v + 1] - ac->edge_start[v] >= dense_min;
        if ((size_t)ndense * 256 * sizeof(uint32_t) <= DENSE_BUDGET ||
            dense_min > 256)
            break;
        dense_min *= 2;
    }
    ac->dense_of = malloc(ns * sizeof *ac->dense_of);
    ac->rows = malloc((size_t)ndense * 256 * sizeof *ac->rows);
    if (!ac->dense_of || !ac->rows)
        goto fail;
    uint32_t nrow = 0;
    /* rows are filled in breadth-first order (root first) so that the row
     * of a failure state is complete before it is needed */
    for (uint32_t k = 0; k <= qt; k++) {
        uint32_t v = k == 0 ? 0 : queue[k - 1];
        bool dense = v == 0 || ac->edge_start[v + 1] - ac->edge_start[v] >=
                                    dense_min;
        ac->dense_of[v] = NONE;
        if (!dense || nrow >= ndense)
            continue;
        uint32_t *row = ac->rows + (size_t)nrow * 256;
        for (unsigned c = 0; c < 256; c++) {
            uint32_t nx = ac_child(ac, v, (uint8_t)c);
            if (!nx && v != 0) {
                uint32_t f = ac->fail[v];
                for (;;) {
                    if (ac->dense_of[f] != NONE) {
                        nx = ac->rows[(size_t)ac->dense_of[f] * 256 + c];
                        break;
                    }
                    nx = ac_child(ac, f, (uint8_t)c);
                    if (nx)
                        break;
                    f = ac->fail[f]; /* never the root: the root is dense */
                }
            }
            row[c] = nx;
        }
        ac->dense_of[v] = nrow++;
    }
    ac->node = malloc(ns * sizeof *ac->node);
    if (!ac->node)
        goto fail;
    for (uint32_t v = 0; v < ns; v++) {
        ac->node[v].dense = ac->dense_of[v];
        ac->node[v].out = ac->out[v];
        ac->node[v].dict = ac->dict[v];
        ac->node[v].fail = ac->fail[v];
    }
    free(queue);
    free(parent);
    free(pbyte);
    if (status)
        *status = TIFA_OK;
    return ac;
fail:
    free(tab);
    free(queue);
    free(parent);
    free(pbyte);
    tifa_ac_free(ac);
    if (status)
        *status = st;
    return NULL;
}

void tifa_ac_scan(const tifa_ac *ac, const char *text, size_t len,
                  tifa_ac_fn fn, void *user)
{
    if (!ac || ac->nstates < 2)
        return;
    const struct ac_node *node = ac->node;
    const uint32_t *rows = ac->rows;
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)text[i];
        for (;;) {
            uint32_t d = node[s].dense;
            if (d != NONE) {
                s = rows[(size_t)d * 256 + c];
                break;
            }
            uint32_t nx = ac_child(ac, s, c);
            if (nx) {
                s = nx;
                break;
            }
            s = node[s].fail;
        }
        if (!s)
            continue;
        const struct ac_node *n = &node[s];
        if (n->out != NONE)
            fn(n->out, i + 1, user);
        for (uint32_t d = n->dict; d; d = node[d].dict)
            fn(node[d].out, i + 1, user);
    }
}
