/*
 * engine.c — the statistics engine (tifa_stats): counts quoted spans, slogan
 * families, the slogan lexicon and rhetoric per document, then writes the
 * tables slogans.csv, families.csv, trend.csv, trend_fit.csv, zipf.csv,
 * rhetoric.csv and slogans_by_doc.csv, and slogan/family rows for
 * keyness.csv (SPEC §4–6).  Every
 * definition is written out in docs/statistics.md.
 *
 * Two passes.  Pass 1 (tifa_stats_add_doc) keeps, per document, its metadata,
 * its size, its quoted-span counts per slogan and per family, text-scope
 * family matches and its rhetoric instances.  tifa_stats_freeze_lexicon adds
 * the user slogan lists and builds an Aho–Corasick automaton (aho.c) over
 * every lexicon string.  Pass 2 (tifa_stats_count_totals) runs the automaton
 * over each document (tifa_ac_count): it meets all occurrences of all
 * strings ordered by end; for each string separately it keeps the end of
 * its last counted occurrence and counts an occurrence only if it starts at
 * or after that end, which is exactly "non-overlapping occurrences of the
 * string, scanning left to right" (SPEC §4) for every string at once.  The
 * accounting runs inside the scan loop (no callback per occurrence) on the
 * worker's tifa_ac_tally.
 *
 * Threads: a worker (tifa_stats_new_worker) has its own regex clones and
 * lexicon before the freeze, and shares the frozen automaton read-only after
 * it.  tifa_stats_merge moves the documents of a worker into its parent
 * (re-interning slogan ids).  Nothing is aggregated before writing: at write
 * time documents are sorted by (corpus, index, doc_id) and every sum runs in
 * that order, so the tables are byte-identical whatever the split.
 *
 * Documents with duplicate_of set are skipped; replies are counted when the
 * pipeline passes them (the loader yields them only on request).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "stats.h"
#include "stats_internal.h"

/* ------------------------------------------------------------- records -- */

typedef struct pair {
    uint32_t id;
    uint32_t count;
} pair;

typedef struct rhet {
    tifa_device device;
    size_t offset;
    char *items;
    char *text;
} rhet;

typedef struct doc_rec {
    size_t index;
    char *doc_id, *corpus, *group; /* group NULL when the doc has none */
    size_t chars;
    int year; /* INT_MIN when unknown */
    uint32_t *fam; /* nfam + 1 counts: quoted spans / text matches */
    pair *q;       /* quoted counts per slogan, sorted by id */
    size_t nq;
    rhet *r;
    size_t nr;
    /* joined at write time */
    const pair *t;
    size_t nt;
} doc_rec;

typedef struct tot_rec {
    size_t index;
    char *doc_id, *corpus;
    pair *t;
    size_t nt;
} tot_rec;

struct tifa_stats {
    tifa_stats_options opt;
    tifa_diag *diag;
    tifa_patterns *patterns; /* own clone */
    size_t nfam;             /* pattern families; index nfam = other */
    int period;              /* years per trend period */
    int precision;
    /* user slogan lists (parent only) */
    char **user;
    size_t nuser, user_cap;
    /* lexicon */
    tifa_strmap *lex;   /* NULL in a frozen worker (uses parent's) */
    uint32_t *lex_fam;  /* family of each slogan */
    uint8_t *lex_user;  /* slogan from a user list */
    size_t lex_cap;
    bool frozen;
    const tifa_stats *root; /* the parent owning the frozen lexicon */
    tifa_ac *ac;            /* owned by the root only */
    size_t *lex_len;        /* byte length per slogan (root owns) */
    size_t nlex;
    /* pass-2 scratch: per-slogan accounting of the automaton (aho.c) */
    tifa_ac_tally tally;
    /* documents */
    doc_rec *docs;
    size_t ndocs, docs_cap;
    tot_rec *tots;
    size_t ntots, tots_cap;
};

/* -------------------------------------------------------------- helpers -- */

static void rec_free(doc_rec *d)
{
    free(d->doc_id);
    free(d->corpus);
    free(d->group);
    free(d->fam);
    free(d->q);
    for (size_t i = 0; i < d->nr; i++) {
        free(d->r[i].items);
        free(d->r[i].text);
    }
    free(d->r);
}

static tifa_status grow(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return TIFA_OK;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < want)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return TIFA_ENOMEM;
    *p = q;
    *cap = c;
    return TIFA_OK;
}

static int parse_period(const char *s)
{
    if (!s || !*s || strcmp(s, "year") == 0)
        return 1;
    if (strcmp(s, "decade") == 0)
        return 10;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > 1000)
        return 0;
    return (int)v;
}

static int year_of(const char *date)
{
    if (!date)
        return INT_MIN;
    while (*date == ' ')
        date++;
    int y = 0, k = 0;
    while (k < 4 && isdigit((unsigned char)date[k])) {
        y = y * 10 + (date[k] - '0');
        k++;
    }
    if (k != 4 || isdigit((unsigned char)date[4]))
        return INT_MIN;
    return y;
}

static tifa_status load_user_lists(tifa_stats *s)
{
    for (size_t f = 0; f < s->opt.n_slogan_lists; f++) {
        const char *path = s->opt.slogan_lists[f];
        char *data = NULL;
        size_t len = 0;
        tifa_status st = tifa_read_file(path, &data, &len);
        if (st != TIFA_OK) {
            tifa_diag_add(s->diag, TIFA_ERROR, st, path, 0, -1,
                          "cannot read slogan list: %s",
                          tifa_status_message(st));
            return st;
        }
        size_t p = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        while (p < len) {
            size_t e = p;
            while (e < len && data[e] != '\n')
                e++;
            size_t a = p, b = e;
            p = e + 1;
            while (a < b && isspace((unsigned char)data[a]))
                a++;
            while (b > a && isspace((unsigned char)data[b - 1]))
                b--;
            /* U+3000 ideographic space at either end */
            while (b - a >= 3 && memcmp(data + a, "\xE3\x80\x80", 3) == 0)
                a += 3;
            while (b - a >= 3 && memcmp(data + b - 3, "\xE3\x80\x80", 3) == 0)
                b -= 3;
            if (a == b || data[a] == '#')
                continue;
            if (grow((void **)&s->user, &s->user_cap, s->nuser + 1,
                     sizeof *s->user) != TIFA_OK) {
                free(data);
                return TIFA_ENOMEM;
            }
            if (!(s->user[s->nuser] = tifa_strndup(data + a, b - a))) {
                free(data);
                return TIFA_ENOMEM;
            }
            s->nuser++;
        }
        free(data);
    }
    return TIFA_OK;
}

/* -------------------------------------------------------- construction -- */

static tifa_stats *stats_alloc(const tifa_stats_options *options,
                               tifa_diag *diag, tifa_status *st)
{
    tifa_stats *s = calloc(1, sizeof *s);
    if (!s) {
        *st = TIFA_ENOMEM;
        return NULL;
    }
    s->opt = *options;
    s->diag = diag;
    s->precision = options->precision > 0 ? options->precision : 4;
    s->period = parse_period(options->period);
    *st = TIFA_OK;
    return s;
}

tifa_stats *tifa_stats_new(const tifa_stats_options *options, tifa_diag *diag,
                           tifa_status *status)
{
    tifa_status st = TIFA_OK;
    tifa_stats_gsl_quiet();
    tifa_stats *s = NULL;
    if (!options || !options->patterns) {
        st = TIFA_EUSAGE;
        tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1,
                      "statistics: no slogan pattern families given");
        goto fail;
    }
    if (!(s = stats_alloc(options, diag, &st)))
        goto fail;
    if (!s->period) {
        st = TIFA_EUSAGE;
        tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1,
                      "statistics: period '%s' is not year, decade or a "
                      "number of years (1-1000)",
                      options->period);
        goto fail;
    }
    if (!(s->patterns = tifa_patterns_clone(options->patterns, &st)))
        goto fail;
    s->nfam = tifa_patterns_count(s->patterns);
    if (!(s->lex = tifa_strmap_new())) {
        st = TIFA_ENOMEM;
        goto fail;
    }
    if ((st = load_user_lists(s)) != TIFA_OK)
        goto fail;
    s->root = s;
    if (status)
        *status = TIFA_OK;
    return s;
fail:
    tifa_stats_free(s);
    if (status)
        *status = st;
    return NULL;
}

static tifa_status scratch_alloc(tifa_stats *s)
{
    size_t n = s->nlex ? s->nlex : 1;
    tifa_ac_tally *t = &s->tally;
    t->stamp = calloc(n, sizeof *t->stamp);
    t->cnt = calloc(n, sizeof *t->cnt);
    t->next = calloc(n, sizeof *t->next);
    t->touched = calloc(n, sizeof *t->touched);
    if (!t->stamp || !t->cnt || !t->next || !t->touched)
        return TIFA_ENOMEM;
    return TIFA_OK;
}

tifa_stats *tifa_stats_new_worker(const tifa_stats *parent,
                                  tifa_status *status)
{
    tifa_status st = TIFA_OK;
    tifa_stats *s = NULL;
    if (!parent) {
        st = TIFA_EUSAGE;
        goto fail;
    }
    if (!(s = stats_alloc(&parent->opt, parent->diag, &st)))
        goto fail;
    if (!(s->patterns = tifa_patterns_clone(parent->patterns, &st)))
        goto fail;
    s->nfam = parent->nfam;
    if (parent->frozen) {
        s->frozen = true;
        s->root = parent->root;
        s->nlex = parent->nlex;
        if ((st = scratch_alloc(s)) != TIFA_OK)
            goto fail;
    } else {
        s->root = s;
        if (!(s->lex = tifa_strmap_new())) {
            st = TIFA_ENOMEM;
            goto fail;
        }
    }
    if (status)
        *status = TIFA_OK;
    return s;
fail:
    tifa_stats_free(s);
    if (status)
        *status = st;
    return NULL;
}

void tifa_stats_free(tifa_stats *s)
{
    if (!s)
        return;
    tifa_patterns_free(s->patterns);
    for (size_t i = 0; i < s->nuser; i++)
        free(s->user[i]);
    free(s->user);
    tifa_strmap_free(s->lex);
    free(s->lex_fam);
    free(s->lex_user);
    if (s->root == s) {
        tifa_ac_free(s->ac);
        free(s->lex_len);
    }
    free(s->tally.stamp);
    free(s->tally.cnt);
    free(s->tally.next);
    free(s->tally.touched);
    for (size_t i = 0; i < s->ndocs; i++)
        rec_free(&s->docs[i]);
    free(s->docs);
    for (size_t i = 0; i < s->ntots; i++) {
        free(s->tots[i].doc_id);
        free(s->tots[i].corpus);
        free(s->tots[i].t);
    }
    free(s->tots);
    free(s);
}

/* ------------------------------------------------------------- lexicon -- */

static tifa_status lex_ensure(tifa_stats *s, size_t n)
{
    if (n <= s->lex_cap)
        return TIFA_OK;
    size_t cap = s->lex_cap ? s->lex_cap * 2 : 256;
    while (cap < n)
        cap *= 2;
    uint32_t *f = realloc(s->lex_fam, cap * sizeof *f);
    if (!f)
        return TIFA_ENOMEM;
    s->lex_fam = f;
    uint8_t *u = realloc(s->lex_user, cap * sizeof *u);
    if (!u)
        return TIFA_ENOMEM;
    s->lex_user = u;
    s->lex_cap = cap;
    return TIFA_OK;
}

/* Interns a slogan; a new one gets its family (fam, or classified when fam
 * is UINT32_MAX).  Returns the id or UINT32_MAX when memory runs out. */
static uint32_t lex_intern(tifa_stats *s, const char *str, size_t len,
                           uint32_t fam)
{
    bool is_new = false;
    uint32_t id = tifa_strmap_intern(s->lex, str, len, &is_new);
    if (id == UINT32_MAX)
        return id;
    if (is_new) {
        if (lex_ensure(s, (size_t)id + 1) != TIFA_OK)
            return UINT32_MAX;
        s->lex_fam[id] = fam != UINT32_MAX
                             ? fam
                             : (uint32_t)tifa_patterns_classify_index(
                                   s->patterns, str, len);
        s->lex_user[id] = 0;
    }
    return id;
}

/* --------------------------------------------------------------- pass 1 -- */

typedef struct idvec {
    uint32_t *v;
    size_t n, cap;
} idvec;

typedef struct pass1 {
    tifa_stats *s;
    doc_rec *d;
    idvec ids;
    tifa_status st;
    const char *text; /* the document's text, for on_rhetoric */
    size_t rcap;      /* entries allocated in d->r */
} pass1;

static void on_quote(const char *span, size_t bytes, size_t offset,
                     size_t chars, void *user)
{
    pass1 *c = user;
    if (c->st != TIFA_OK)
        return;
    uint32_t id = lex_intern(c->s, span, bytes, UINT32_MAX);
    if (id == UINT32_MAX ||
        grow((void **)&c->ids.v, &c->ids.cap, c->ids.n + 1,
             sizeof *c->ids.v) != TIFA_OK) {
        c->st = TIFA_ENOMEM;
        return;
    }
    c->ids.v[c->ids.n++] = id;
    c->d->fam[c->s->lex_fam[id]]++;
}

static void on_text_match(size_t family, const char *match, size_t bytes,
                          size_t offset, void *user)
{
    pass1 *c = user;
    c->d->fam[family]++;
}

/* rhetoric.csv shows at most this many characters of an instance's text,
 * then "…" (see capped_copy) */
enum { RHETORIC_TEXT_MAX = 200 };

/* The text of a rhetoric instance as rhetoric.csv shows it: its first
 * RHETORIC_TEXT_MAX characters, then "…" when there is more, ending at the
 * first NUL as a C string would.  Only that much is kept: the stretch of
 * an enumeration of section headings is most of a document.  Caller frees. */
static char *capped_copy(const char *s, size_t n)
{
    size_t i = 0, chars = 0;
    while (i < n && s[i] && chars < RHETORIC_TEXT_MAX) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    if (i == n || !s[i])
        return tifa_strndup(s, i);
    char *c = malloc(i + 4);
    if (c) {
        memcpy(c, s, i);
        memcpy(c + i, "\xE2\x80\xA6", 4); /* …, and the NUL */
    }
    return c;
}

static void on_rhetoric(tifa_device device, const char *items,
                        size_t stretch_len, size_t offset, void *user)
{
    pass1 *c = user;
    if (c->st != TIFA_OK)
        return;
    doc_rec *d = c->d;
    if (grow((void **)&d->r, &c->rcap, d->nr + 1, sizeof *d->r) != TIFA_OK) {
        c->st = TIFA_ENOMEM;
        return;
    }
    rhet *x = &d->r[d->nr];
    x->device = device;
    x->offset = offset;
    x->items = tifa_strdup(items);
    x->text = capped_copy(c->text + offset, stretch_len);
    d->nr++;
    if (!x->items || !x->text)
        c->st = TIFA_ENOMEM;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_rhet(const void *a, const void *b)
{
    const rhet *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if (x->device != y->device)
        return x->device < y->device ? -1 : 1;
    return strcmp(x->items, y->items);
}

tifa_status tifa_stats_add_doc(tifa_stats *s, const tifa_doc *doc)
{
    if (!s || !doc)
        return TIFA_EUSAGE;
    if (doc->duplicate_of)
        return TIFA_OK;
    if (s->frozen) {
        tifa_diag_add(s->diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "statistics: document %s added after the lexicon was "
                      "frozen",
                      doc->doc_id ? doc->doc_id : "?");
        return TIFA_EUSAGE;
    }
    if (grow((void **)&s->docs, &s->docs_cap, s->ndocs + 1, sizeof *s->docs))
        return TIFA_ENOMEM;
    doc_rec *d = &s->docs[s->ndocs];
    memset(d, 0, sizeof *d);
    d->index = doc->index;
    d->doc_id = tifa_strdup(doc->doc_id ? doc->doc_id : "");
    d->corpus = tifa_strdup(doc->corpus ? doc->corpus : "");
    d->group = doc->group ? tifa_strdup(doc->group) : NULL;
    d->chars = doc->chars;
    d->year = year_of(doc->date);
    d->fam = calloc(s->nfam + 1, sizeof *d->fam);
    s->ndocs++; /* owned from here on, freed with the engine */
    if (!d->doc_id || !d->corpus || (doc->group && !d->group) || !d->fam)
        return TIFA_ENOMEM;
    const char *text = doc->text ? doc->text : "";
    size_t len = doc->text ? doc->text_len : 0;
    pass1 c = {s, d, {0}, TIFA_OK, text, 0};
    tifa_quotes_scan(text, len, &s->opt.quotes, on_quote, &c);
    if (c.st == TIFA_OK) {
        tifa_status st = tifa_patterns_scan_text(s->patterns, text, len,
                                                 on_text_match, &c);
        if (st != TIFA_OK)
            c.st = st;
    }
    if (c.st == TIFA_OK) {
        tifa_status st = tifa_rhetoric_scan(text, len, on_rhetoric, &c);
        if (st != TIFA_OK)
            c.st = st;
    }
    if (c.st == TIFA_OK && c.ids.n) {
        qsort(c.ids.v, c.ids.n, sizeof *c.ids.v, cmp_u32);
        d->q = malloc(c.ids.n * sizeof *d->q);
        if (!d->q) {
            c.st = TIFA_ENOMEM;
        } else {
            for (size_t i = 0; i < c.ids.n; i++) {
                if (d->nq && d->q[d->nq - 1].id == c.ids.v[i]) {
                    d->q[d->nq - 1].count++;
                } else {
                    d->q[d->nq].id = c.ids.v[i];
                    d->q[d->nq].count = 1;
                    d->nq++;
                }
            }
        }
    }
    if (d->nr > 1)
        qsort(d->r, d->nr, sizeof *d->r, cmp_rhet);
    free(c.ids.v);
    return c.st;
}

static int cmp_pair_id(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

tifa_status tifa_stats_merge(tifa_stats *into, tifa_stats *from)
{
    if (!into || !from || into == from)
        return TIFA_EUSAGE;
    if (from->ndocs && into->frozen) {
        tifa_diag_add(into->diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "statistics: merging pass-1 documents after the "
                      "lexicon was frozen");
        return TIFA_EUSAGE;
    }
    if (from->ntots && (!from->frozen || from->root != into->root)) {
        tifa_diag_add(into->diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "statistics: merging totals counted with another "
                      "lexicon");
        return TIFA_EUSAGE;
    }
    /* pass-1 documents: re-intern slogan ids */
    if (from->ndocs) {
        if (grow((void **)&into->docs, &into->docs_cap,
                 into->ndocs + from->ndocs, sizeof *into->docs))
            return TIFA_ENOMEM;
        size_t nmap = tifa_strmap_size(from->lex);
        uint32_t *map = malloc((nmap ? nmap : 1) * sizeof *map);
        if (!map)
            return TIFA_ENOMEM;
        for (uint32_t i = 0; i < nmap; i++) {
            size_t len;
            const char *k = tifa_strmap_key(from->lex, i, &len);
            map[i] = lex_intern(into, k, len, from->lex_fam[i]);
            if (map[i] == UINT32_MAX) {
                free(map);
                return TIFA_ENOMEM;
            }
        }
        for (size_t i = 0; i < from->ndocs; i++) {
            doc_rec *d = &from->docs[i];
            for (size_t k = 0; k < d->nq; k++)
                d->q[k].id = map[d->q[k].id];
            if (d->nq > 1)
                qsort(d->q, d->nq, sizeof *d->q, cmp_pair_id);
            into->docs[into->ndocs++] = *d;
        }
        from->ndocs = 0;
        free(map);
    }
    if (from->ntots) {
        if (grow((void **)&into->tots, &into->tots_cap,
                 into->ntots + from->ntots, sizeof *into->tots))
            return TIFA_ENOMEM;
        memcpy(into->tots + into->ntots, from->tots,
               from->ntots * sizeof *from->tots);
        into->ntots += from->ntots;
        from->ntots = 0;
    }
    return TIFA_OK;
}

/* ----------------------------------------------------------- the freeze -- */

tifa_status tifa_stats_freeze_lexicon(tifa_stats *s)
{
    if (!s || s->root != s)
        return TIFA_EUSAGE;
    if (s->frozen)
        return TIFA_OK;
    for (size_t i = 0; i < s->nuser; i++) {
        uint32_t id = lex_intern(s, s->user[i], strlen(s->user[i]),
                                 UINT32_MAX);
        if (id == UINT32_MAX)
            return TIFA_ENOMEM;
        s->lex_user[id] = 1;
    }
    s->nlex = tifa_strmap_size(s->lex);
    const char **strs = malloc((s->nlex ? s->nlex : 1) * sizeof *strs);
    s->lex_len = malloc((s->nlex ? s->nlex : 1) * sizeof *s->lex_len);
    if (!strs || !s->lex_len) {
        free(strs);
        return TIFA_ENOMEM;
    }
    for (uint32_t i = 0; i < s->nlex; i++)
        strs[i] = tifa_strmap_key(s->lex, i, &s->lex_len[i]);
    tifa_status st = TIFA_OK;
    s->ac = tifa_ac_new(strs, s->lex_len, s->nlex, &st);
    free(strs);
    if (!s->ac)
        return st;
    if ((st = scratch_alloc(s)) != TIFA_OK)
        return st;
    s->frozen = true;
    return TIFA_OK;
}

/* --------------------------------------------------------------- pass 2 -- */

tifa_status tifa_stats_count_totals(tifa_stats *s, const tifa_doc *doc)
{
    if (!s || !doc)
        return TIFA_EUSAGE;
    if (doc->duplicate_of)
        return TIFA_OK;
    if (!s->frozen) {
        tifa_diag_add(s->diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "statistics: totals counted before the lexicon was "
                      "frozen");
        return TIFA_EUSAGE;
    }
    if (grow((void **)&s->tots, &s->tots_cap, s->ntots + 1, sizeof *s->tots))
        return TIFA_ENOMEM;
    tot_rec *t = &s->tots[s->ntots];
    memset(t, 0, sizeof *t);
    t->index = doc->index;
    t->doc_id = tifa_strdup(doc->doc_id ? doc->doc_id : "");
    t->corpus = tifa_strdup(doc->corpus ? doc->corpus : "");
    s->ntots++;
    if (!t->doc_id || !t->corpus)
        return TIFA_ENOMEM;
    tifa_ac_tally *ta = &s->tally;
    if (++ta->cur == 0) { /* stamp wrap-around: reset */
        memset(ta->stamp, 0, (s->nlex ? s->nlex : 1) * sizeof *ta->stamp);
        ta->cur = 1;
    }
    ta->ntouched = 0;
    if (doc->text)
        tifa_ac_count(s->root->ac, doc->text, doc->text_len, ta);
    if (ta->ntouched) {
        qsort(ta->touched, ta->ntouched, sizeof *ta->touched, cmp_u32);
        t->t = malloc(ta->ntouched * sizeof *t->t);
        if (!t->t)
            return TIFA_ENOMEM;
        for (size_t i = 0; i < ta->ntouched; i++) {
            t->t[i].id = ta->touched[i];
            t->t[i].count = ta->cnt[ta->touched[i]];
        }
        t->nt = ta->ntouched;
    }
    return TIFA_OK;
}

/* ============================================================== writing == */

static int cmp_doc(const void *a, const void *b)
{
    const doc_rec *x = a, *y = b;
    int c = strcmp(x->corpus, y->corpus);
    if (c)
        return c;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return strcmp(x->doc_id, y->doc_id);
}

static int cmp_tot(const void *a, const void *b)
{
    const tot_rec *x = a, *y = b;
    int c = strcmp(x->corpus, y->corpus);
    if (c)
        return c;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return strcmp(x->doc_id, y->doc_id);
}

static int cmp_str(const void *a, const void *b)
{
    return tifa_utf8_cmp(*(const char *const *)a, *(const char *const *)b);
}

static const char NONE_GROUP[] = "(none)";

/* A cell: the documents of one (corpus, group) row set, in sorted order. */
typedef struct cell {
    const char *corpus;
    const char *group; /* "" = the whole corpus */
    size_t *docs;
    size_t n;
} cell;

typedef struct writer {
    tifa_stats *s;
    const char *outdir;
    const tifa_csv_options *csv;
    int prec;
    cell *cells;
    size_t ncells;
    /* per-slogan scratch, nlex long */
    double *quoted, *total, *sum_abs; /* sum_abs ends as DP */
    double *disp_f, *disp_w;
    uint32_t *ndocs;
    double *fam_q;
    uint32_t *fam_docs, *fam_types;
} writer;

static const char *doc_group(const doc_rec *d)
{
    return d->group ? d->group : NONE_GROUP;
}

static tifa_status build_cells(writer *w)
{
    tifa_stats *s = w->s;
    size_t i = 0;
    while (i < s->ndocs) {
        size_t j = i;
        bool grouped = false;
        while (j < s->ndocs && strcmp(s->docs[j].corpus, s->docs[i].corpus) == 0) {
            grouped = grouped || s->docs[j].group;
            j++;
        }
        /* the corpus cell */
        cell *c = realloc(w->cells, (w->ncells + 1) * sizeof *c);
        if (!c)
            return TIFA_ENOMEM;
        w->cells = c;
        cell *cc = &w->cells[w->ncells++];
        cc->corpus = s->docs[i].corpus;
        cc->group = "";
        cc->n = j - i;
        cc->docs = malloc(cc->n * sizeof *cc->docs);
        if (!cc->docs)
            return TIFA_ENOMEM;
        for (size_t k = i; k < j; k++)
            cc->docs[k - i] = k;
        if (grouped) {
            /* distinct groups, sorted */
            const char **names = malloc((j - i) * sizeof *names);
            if (!names)
                return TIFA_ENOMEM;
            for (size_t k = i; k < j; k++)
                names[k - i] = doc_group(&s->docs[k]);
            qsort(names, j - i, sizeof *names, cmp_str);
            size_t ng = 0;
            for (size_t k = 0; k < j - i; k++)
                if (!ng || strcmp(names[ng - 1], names[k]))
                    names[ng++] = names[k];
            c = realloc(w->cells, (w->ncells + ng) * sizeof *c);
            if (!c) {
                free(names);
                return TIFA_ENOMEM;
            }
            w->cells = c;
            for (size_t g = 0; g < ng; g++) {
                cell *gc = &w->cells[w->ncells++];
                gc->corpus = s->docs[i].corpus;
                gc->group = names[g];
                gc->n = 0;
                gc->docs = malloc((j - i) * sizeof *gc->docs);
                if (!gc->docs) {
                    free(names);
                    return TIFA_ENOMEM;
                }
                for (size_t k = i; k < j; k++)
                    if (strcmp(doc_group(&s->docs[k]), names[g]) == 0)
                        gc->docs[gc->n++] = k;
            }
            free(names);
        }
        i = j;
    }
    return TIFA_OK;
}

static void csv_real(tifa_csv *csv, double v, int prec)
{
    tifa_csv_real(csv, v, prec);
}

/* p-values: 4 digits after the point in scientific notation, so that very
 * small p stay readable (docs/statistics.md, "The tables"). */
static void csv_p(tifa_csv *csv, double p)
{
    tifa_csv_sci(csv, p, 4);
}

typedef struct srow {
    uint32_t id;
    double quoted, total;
    uint32_t docs;
    double dp;
} srow;

/* qsort has no context argument: rows carry the key pointer instead. */
typedef struct srow_k {
    srow r;
    const char *key;
} srow_k;

/* Quoted use first: the table is about slogans, and a one-character span
 * that was quoted once (“一”) has a huge `total` that says nothing about
 * slogans; then total, then code-point order. */
static int cmp_srow(const void *a, const void *b)
{
    const srow_k *x = a, *y = b;
    if (x->r.quoted != y->r.quoted)
        return x->r.quoted > y->r.quoted ? -1 : 1;
    if (x->r.total != y->r.total)
        return x->r.total > y->r.total ? -1 : 1;
    return tifa_utf8_cmp(x->key, y->key);
}

typedef struct frow {
    const char *name;
    size_t fam;
    double count;
    uint32_t types, docs;
} frow;

static int cmp_frow(const void *a, const void *b)
{
    const frow *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return tifa_utf8_cmp(x->name, y->name);
}

/* Per-cell sums into the writer's scratch arrays; returns the cell's size. */
static double cell_sums(writer *w, const cell *c)
{
    tifa_stats *s = w->s;
    size_t nf = s->nfam + 1;
    memset(w->quoted, 0, s->nlex * sizeof *w->quoted);
    memset(w->total, 0, s->nlex * sizeof *w->total);
    memset(w->sum_abs, 0, s->nlex * sizeof *w->sum_abs);
    memset(w->disp_f, 0, s->nlex * sizeof *w->disp_f);
    memset(w->disp_w, 0, s->nlex * sizeof *w->disp_w);
    memset(w->ndocs, 0, s->nlex * sizeof *w->ndocs);
    memset(w->fam_q, 0, nf * sizeof *w->fam_q);
    memset(w->fam_docs, 0, nf * sizeof *w->fam_docs);
    memset(w->fam_types, 0, nf * sizeof *w->fam_types);
    double S = 0.0;
    for (size_t k = 0; k < c->n; k++) {
        const doc_rec *d = &s->docs[c->docs[k]];
        S += (double)d->chars;
        for (size_t i = 0; i < d->nq; i++)
            w->quoted[d->q[i].id] += d->q[i].count;
        for (size_t i = 0; i < d->nt; i++) {
            w->total[d->t[i].id] += d->t[i].count;
            w->ndocs[d->t[i].id]++;
        }
        for (size_t f = 0; f < nf; f++) {
            w->fam_q[f] += d->fam[f];
            if (d->fam[f])
                w->fam_docs[f]++;
        }
    }
    /* DP (Gries 2008) over the documents of size > 0, sparsely:
     * DP = 1/2 (sum over documents with f > 0 of |t_i - w_i|
     *           + sum over documents with f = 0 of w_i)
     * and the second sum is 1 - (sum of w_i over documents with f > 0).
     * First sweep: F, the slogan's total in documents of size > 0. */
    double S_disp = S, *F = w->disp_f, *W = w->disp_w;
    for (size_t k = 0; k < c->n; k++) {
        const doc_rec *d = &s->docs[c->docs[k]];
        if (!d->chars)
            continue;
        for (size_t i = 0; i < d->nt; i++)
            F[d->t[i].id] += d->t[i].count;
    }
    /* second sweep: |t_i - w_i| and w_i over the documents with f > 0 */
    for (size_t k = 0; k < c->n; k++) {
        const doc_rec *d = &s->docs[c->docs[k]];
        if (!d->chars)
            continue;
        double wi = (double)d->chars / S_disp;
        for (size_t i = 0; i < d->nt; i++) {
            uint32_t id = d->t[i].id;
            w->sum_abs[id] += fabs(d->t[i].count / F[id] - wi);
            W[id] += wi;
        }
    }
    for (size_t id = 0; id < s->nlex; id++)
        w->sum_abs[id] =
            F[id] > 0 ? 0.5 * (w->sum_abs[id] + (1.0 - W[id])) : NAN;
    for (size_t id = 0; id < s->nlex; id++)
        if (w->quoted[id] > 0)
            w->fam_types[s->lex_fam[id]]++;
    return S;
}

/* ------------------------------------------------------------ bootstrap -- */

/* Document bootstrap of one cell: B replicates, each n documents drawn with
 * replacement (gsl_rng_mt19937 seeded with the configured seed at the start
 * of every cell, so a cell's interval does not depend on the other cells).
 * m[b * n + k] is how often document k of the cell was drawn in replicate b;
 * size[b] the replicate's text size. */
typedef struct boot {
    size_t B, n;
    uint32_t *m;
    double *size;
    double *rates; /* B scratch */
    /* postings of the cell: per slogan its (document, total) pairs */
    size_t *pstart;
    uint32_t *pdoc;
    double *pcount;
} boot;

/* The replicate table holds B x n counts (4 bytes each): at most 1 GiB. */
#define BOOT_MAX_DRAWS (1u << 28)

static void boot_free(boot *b)
{
    free(b->m);
    free(b->size);
    free(b->rates);
    free(b->pstart);
    free(b->pdoc);
    free(b->pcount);
    memset(b, 0, sizeof *b);
}

static tifa_status boot_prepare(writer *w, const cell *c, boot *b)
{
    tifa_stats *s = w->s;
    b->B = s->opt.bootstrap;
    b->n = c->n;
    if (b->n && b->B > BOOT_MAX_DRAWS / b->n) {
        tifa_diag_add(s->diag, TIFA_ERROR, TIFA_ELIMIT, NULL, 0, -1,
                      "bootstrap: %zu replicates x %zu documents of %s/%s "
                      "exceed the limit of %u draws; use fewer replicates",
                      b->B, b->n, c->corpus, c->group, BOOT_MAX_DRAWS);
        return TIFA_ELIMIT;
    }
    b->m = calloc(b->B * (b->n ? b->n : 1), sizeof *b->m);
    b->size = calloc(b->B, sizeof *b->size);
    b->rates = calloc(b->B, sizeof *b->rates);
    b->pstart = calloc(s->nlex + 1, sizeof *b->pstart);
    if (!b->m || !b->size || !b->rates || !b->pstart)
        return TIFA_ENOMEM;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return TIFA_ENOMEM;
    gsl_rng_set(r, s->opt.seed);
    for (size_t rep = 0; rep < b->B; rep++) {
        uint32_t *m = b->m + rep * b->n;
        for (size_t k = 0; k < b->n; k++)
            m[gsl_rng_uniform_int(r, b->n)]++;
        double sz = 0.0;
        for (size_t k = 0; k < b->n; k++)
            sz += m[k] * (double)s->docs[c->docs[k]].chars;
        b->size[rep] = sz;
    }
    gsl_rng_free(r);
    size_t np = 0;
    for (size_t k = 0; k < c->n; k++) {
        const doc_rec *d = &s->docs[c->docs[k]];
        for (size_t i = 0; i < d->nt; i++)
            b->pstart[d->t[i].id + 1]++;
        np += d->nt;
    }
    for (size_t id = 0; id < s->nlex; id++)
        b->pstart[id + 1] += b->pstart[id];
    b->pdoc = malloc((np ? np : 1) * sizeof *b->pdoc);
    b->pcount = malloc((np ? np : 1) * sizeof *b->pcount);
    size_t *fill = malloc((s->nlex ? s->nlex : 1) * sizeof *fill);
    if (!b->pdoc || !b->pcount || !fill) {
        free(fill);
        return TIFA_ENOMEM;
    }
    memcpy(fill, b->pstart, s->nlex * sizeof *fill);
    for (size_t k = 0; k < c->n; k++) {
        const doc_rec *d = &s->docs[c->docs[k]];
        for (size_t i = 0; i < d->nt; i++) {
            size_t at = fill[d->t[i].id]++;
            b->pdoc[at] = (uint32_t)k;
            b->pcount[at] = d->t[i].count;
        }
    }
    free(fill);
    return TIFA_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile interval (2.5%, 97.5%; linear interpolation between order
 * statistics, as gsl_stats_quantile_from_sorted_data) of the rates. */
static void boot_interval(boot *b, double *lo, double *hi)
{
    size_t m = 0;
    for (size_t i = 0; i < b->B; i++)
        if (isfinite(b->rates[i]))
            b->rates[m++] = b->rates[i];
    if (m == 0) {
        *lo = *hi = NAN;
        return;
    }
    qsort(b->rates, m, sizeof *b->rates, cmp_double);
    double q[2] = {0.025, 0.975}, out[2];
    for (int j = 0; j < 2; j++) {
        double pos = q[j] * (double)(m - 1);
        size_t i = (size_t)floor(pos);
        double frac = pos - (double)i;
        out[j] = i + 1 < m ? b->rates[i] + frac * (b->rates[i + 1] - b->rates[i])
                           : b->rates[i];
    }
    *lo = out[0];
    *hi = out[1];
}

static void boot_slogan(boot *b, uint32_t id, double *lo, double *hi)
{
    for (size_t rep = 0; rep < b->B; rep++) {
        const uint32_t *m = b->m + rep * b->n;
        double num = 0.0;
        for (size_t p = b->pstart[id]; p < b->pstart[id + 1]; p++)
            num += m[b->pdoc[p]] * b->pcount[p];
        b->rates[rep] = b->size[rep] > 0 ? num / b->size[rep] * 1e4 : NAN;
    }
    boot_interval(b, lo, hi);
}

static void boot_family(boot *b, const tifa_stats *s, const cell *c, size_t f,
                        double *lo, double *hi)
{
    for (size_t rep = 0; rep < b->B; rep++) {
        const uint32_t *m = b->m + rep * b->n;
        double num = 0.0;
        for (size_t k = 0; k < c->n; k++)
            num += m[k] * (double)s->docs[c->docs[k]].fam[f];
        b->rates[rep] = b->size[rep] > 0 ? num / b->size[rep] * 1e4 : NAN;
    }
    boot_interval(b, lo, hi);
}

static tifa_status write_slogans_families(writer *w)
{
    tifa_stats *s = w->s;
    char path[4096];
    tifa_status st = TIFA_OK;
    snprintf(path, sizeof path, "%s/slogans.csv", w->outdir);
    tifa_csv *sc = tifa_csv_open(path, w->csv, &st);
    if (!sc)
        return st;
    snprintf(path, sizeof path, "%s/families.csv", w->outdir);
    tifa_csv *fc = tifa_csv_open(path, w->csv, &st);
    if (!fc) {
        tifa_csv_abort(sc);
        return st;
    }
    static const char *const sh[] = {"corpus", "group", "family", "slogan",
                                     "quoted", "total", "docs", "per_10k",
                                     "ci_low", "ci_high", "dp", NULL};
    static const char *const fh[] = {"corpus", "group", "family", "types",
                                     "quoted", "docs", "per_10k", "ci_low",
                                     "ci_high", "scope", NULL};
    static const char *const sh_b[] = {"corpus", "group", "family", "slogan",
                                       "quoted", "total", "docs", "per_10k",
                                       "ci_low", "ci_high", "dp", "boot_low",
                                       "boot_high", NULL};
    static const char *const fh_b[] = {"corpus", "group", "family", "types",
                                       "quoted", "docs", "per_10k", "ci_low",
                                       "ci_high", "scope", "boot_low",
                                       "boot_high", NULL};
    bool use_boot = s->opt.bootstrap > 0;
    tifa_csv_header(sc, use_boot ? sh_b : sh);
    tifa_csv_header(fc, use_boot ? fh_b : fh);
    boot bs = {0};
    size_t nf = s->nfam + 1;
    srow_k *rows = malloc((s->nlex ? s->nlex : 1) * sizeof *rows);
    frow *frows = malloc(nf * sizeof *frows);
    if (!rows || !frows) {
        st = TIFA_ENOMEM;
        goto out;
    }
    for (size_t ci = 0; ci < w->ncells; ci++) {
        const cell *c = &w->cells[ci];
        double S = cell_sums(w, c);
        if (use_boot) {
            boot_free(&bs);
            if ((st = boot_prepare(w, c, &bs)) != TIFA_OK)
                goto out;
        }
        size_t nr = 0;
        for (uint32_t id = 0; id < s->nlex; id++) {
            if (!(w->quoted[id] > 0 || w->total[id] > 0 || s->lex_user[id]))
                continue;
            rows[nr].r = (srow){id, w->quoted[id], w->total[id], w->ndocs[id],
                                w->sum_abs[id]};
            rows[nr].key = tifa_strmap_key(s->lex, id, NULL);
            nr++;
        }
        qsort(rows, nr, sizeof *rows, cmp_srow);
        for (size_t k = 0; k < nr; k++) {
            const srow *r = &rows[k].r;
            double lo, hi;
            tifa_poisson_ci((long)r->total, S, &lo, &hi);
            tifa_csv_str(sc, c->corpus);
            tifa_csv_str(sc, c->group);
            tifa_csv_str(sc, tifa_patterns_name(s->patterns, s->lex_fam[r->id]));
            tifa_csv_str(sc, rows[k].key);
            tifa_csv_int(sc, (long long)r->quoted);
            tifa_csv_int(sc, (long long)r->total);
            tifa_csv_int(sc, r->docs);
            csv_real(sc, S > 0 ? r->total / S * 1e4 : NAN, w->prec);
            csv_real(sc, lo, w->prec);
            csv_real(sc, hi, w->prec);
            csv_real(sc, r->dp, w->prec);
            if (use_boot) {
                boot_slogan(&bs, r->id, &lo, &hi);
                csv_real(sc, lo, w->prec);
                csv_real(sc, hi, w->prec);
            }
            tifa_csv_row_end(sc);
        }
        for (size_t f = 0; f < nf; f++) {
            frows[f].name = tifa_patterns_name(s->patterns, f);
            frows[f].fam = f;
            frows[f].count = w->fam_q[f];
            frows[f].types = w->fam_types[f];
            frows[f].docs = w->fam_docs[f];
        }
        qsort(frows, nf, sizeof *frows, cmp_frow);
        for (size_t f = 0; f < nf; f++) {
            double lo, hi;
            tifa_poisson_ci((long)frows[f].count, S, &lo, &hi);
            tifa_csv_str(fc, c->corpus);
            tifa_csv_str(fc, c->group);
            tifa_csv_str(fc, frows[f].name);
            tifa_csv_int(fc, frows[f].types);
            tifa_csv_int(fc, (long long)frows[f].count);
            tifa_csv_int(fc, frows[f].docs);
            csv_real(fc, S > 0 ? frows[f].count / S * 1e4 : NAN, w->prec);
            csv_real(fc, lo, w->prec);
            csv_real(fc, hi, w->prec);
            tifa_csv_str(fc, tifa_patterns_text_scope(s->patterns, frows[f].fam)
                                 ? "text"
                                 : "quoted");
            if (use_boot) {
                boot_family(&bs, s, c, frows[f].fam, &lo, &hi);
                csv_real(fc, lo, w->prec);
                csv_real(fc, hi, w->prec);
            }
            tifa_csv_row_end(fc);
        }
    }
out:
    boot_free(&bs);
    free(rows);
    free(frows);
    if (st != TIFA_OK) {
        tifa_csv_abort(sc);
        tifa_csv_abort(fc);
        return st;
    }
    tifa_status a = tifa_csv_close(sc);
    tifa_status b = tifa_csv_close(fc);
    return a != TIFA_OK ? a : b;
}

/* ---------------------------------------------------------------- trend -- */

static int floor_div(int a, int b)
{
    int q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static void period_label(char *buf, size_t n, int start, int years)
{
    if (years == 1)
        snprintf(buf, n, "%d", start);
    else
        snprintf(buf, n, "%d-%d", start, start + years - 1);
}

/* trend.csv and trend_fit.csv: per corpus, per family, per period. */
static tifa_status write_trend(writer *w)
{
    tifa_stats *s = w->s;
    char path[4096];
    tifa_status st = TIFA_OK;
    snprintf(path, sizeof path, "%s/trend.csv", w->outdir);
    tifa_csv *tc = tifa_csv_open(path, w->csv, &st);
    if (!tc)
        return st;
    snprintf(path, sizeof path, "%s/trend_fit.csv", w->outdir);
    tifa_csv *fc = tifa_csv_open(path, w->csv, &st);
    if (!fc) {
        tifa_csv_abort(tc);
        return st;
    }
    static const char *const th[] = {"corpus", "family", "period", "start",
                                     "count", "chars", "per_10k", "ci_low",
                                     "ci_high", NULL};
    static const char *const fh[] = {"corpus", "family", "periods", "slope",
                                     "slope_se", "intercept", "p", NULL};
    tifa_csv_header(tc, th);
    tifa_csv_header(fc, fh);
    size_t nf = s->nfam + 1;
    int *starts = NULL;
    double *chars = NULL, *counts = NULL, *x = NULL, *y = NULL;
    frow *order = malloc(nf * sizeof *order);
    if (!order) {
        st = TIFA_ENOMEM;
        goto out;
    }
    for (size_t f = 0; f < nf; f++) {
        order[f].name = tifa_patterns_name(s->patterns, f);
        order[f].fam = f;
        order[f].count = 0;
    }
    qsort(order, nf, sizeof *order, cmp_frow); /* by name (counts equal) */
    for (size_t ci = 0; ci < w->ncells; ci++) {
        const cell *c = &w->cells[ci];
        if (c->group[0])
            continue; /* trends are per corpus */
        free(starts);
        starts = malloc((c->n ? c->n : 1) * sizeof *starts);
        if (!starts) {
            st = TIFA_ENOMEM;
            goto out;
        }
        size_t np = 0;
        for (size_t k = 0; k < c->n; k++) {
            int y0 = s->docs[c->docs[k]].year;
            if (y0 != INT_MIN)
                starts[np++] = floor_div(y0, s->period) * s->period;
        }
        qsort(starts, np, sizeof *starts, cmp_int);
        size_t u = 0;
        for (size_t k = 0; k < np; k++)
            if (!u || starts[u - 1] != starts[k])
                starts[u++] = starts[k];
        np = u;
        if (!np)
            continue;
        free(chars);
        free(counts);
        free(x);
        free(y);
        chars = calloc(np, sizeof *chars);
        counts = calloc(np * nf, sizeof *counts);
        x = calloc(np, sizeof *x);
        y = calloc(np, sizeof *y);
        if (!chars || !counts || !x || !y) {
            st = TIFA_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < c->n; k++) {
            const doc_rec *d = &s->docs[c->docs[k]];
            if (d->year == INT_MIN)
                continue;
            int key = floor_div(d->year, s->period) * s->period;
            int *hit = bsearch(&key, starts, np, sizeof *starts, cmp_int);
            size_t p = (size_t)(hit - starts);
            chars[p] += (double)d->chars;
            for (size_t f = 0; f < nf; f++)
                counts[p * nf + f] += d->fam[f];
        }
        for (size_t oi = 0; oi < nf; oi++) {
            size_t f = order[oi].fam;
            size_t nxy = 0;
            for (size_t p = 0; p < np; p++) {
                char label[64];
                period_label(label, sizeof label, starts[p], s->period);
                double k = counts[p * nf + f], rate = NAN, lo, hi;
                if (chars[p] > 0)
                    rate = k / chars[p] * 1e4;
                tifa_poisson_ci((long)k, chars[p], &lo, &hi);
                tifa_csv_str(tc, c->corpus);
                tifa_csv_str(tc, order[oi].name);
                tifa_csv_str(tc, label);
                tifa_csv_int(tc, starts[p]);
                tifa_csv_int(tc, (long long)k);
                tifa_csv_int(tc, (long long)chars[p]);
                csv_real(tc, rate, w->prec);
                csv_real(tc, lo, w->prec);
                csv_real(tc, hi, w->prec);
                tifa_csv_row_end(tc);
                if (chars[p] > 0) {
                    x[nxy] = starts[p];
                    y[nxy] = rate;
                    nxy++;
                }
            }
            tifa_trend_fit fit;
            tifa_status fs = tifa_trend_fit_compute(x, y, nxy, &fit);
            if (fs != TIFA_OK && fs != TIFA_EEMPTY) {
                st = fs;
                goto out;
            }
            tifa_csv_str(fc, c->corpus);
            tifa_csv_str(fc, order[oi].name);
            tifa_csv_int(fc, (long long)nxy);
            csv_real(fc, fit.slope, w->prec + 2);
            csv_real(fc, fit.slope_se, w->prec + 2);
            csv_real(fc, fit.intercept, w->prec);
            csv_p(fc, fit.p);
            tifa_csv_row_end(fc);
        }
    }
out:
    free(order);
    free(starts);
    free(chars);
    free(counts);
    free(x);
    free(y);
    if (st != TIFA_OK) {
        tifa_csv_abort(tc);
        tifa_csv_abort(fc);
        return st;
    }
    tifa_status a = tifa_csv_close(tc);
    tifa_status b = tifa_csv_close(fc);
    return a != TIFA_OK ? a : b;
}

/* ----------------------------------------------------------------- zipf -- */

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y;
}

static tifa_status write_zipf(writer *w)
{
    tifa_stats *s = w->s;
    char path[4096];
    tifa_status st = TIFA_OK;
    snprintf(path, sizeof path, "%s/zipf.csv", w->outdir);
    tifa_csv *zc = tifa_csv_open(path, w->csv, &st);
    if (!zc)
        return st;
    static const char *const zh[] = {"corpus", "group", "feature", "types",
                                     "ranks", "slope", "intercept", NULL};
    tifa_csv_header(zc, zh);
    double *v = malloc((s->nlex ? s->nlex : 1) * sizeof *v);
    if (!v) {
        tifa_csv_abort(zc);
        return TIFA_ENOMEM;
    }
    for (size_t ci = 0; ci < w->ncells; ci++) {
        const cell *c = &w->cells[ci];
        cell_sums(w, c);
        for (int which = 0; which < 2; which++) {
            const double *src = which == 0 ? w->quoted : w->total;
            size_t n = 0;
            for (size_t id = 0; id < s->nlex; id++)
                if (src[id] > 0)
                    v[n++] = src[id];
            qsort(v, n, sizeof *v, cmp_desc);
            double slope, icpt;
            tifa_zipf_fit(v, n, &slope, &icpt);
            tifa_csv_str(zc, c->corpus);
            tifa_csv_str(zc, c->group);
            tifa_csv_str(zc, which == 0 ? "slogan_quoted" : "slogan_total");
            tifa_csv_int(zc, (long long)n);
            tifa_csv_int(zc, (long long)(n < 1000 ? n : 1000));
            csv_real(zc, slope, w->prec);
            csv_real(zc, icpt, w->prec);
            tifa_csv_row_end(zc);
        }
    }
    free(v);
    return tifa_csv_close(zc);
}

/* ------------------------------------------------------------- rhetoric -- */

/* The text column of rhetoric.csv: at most this many characters (code
 * points) of the matched stretch, then "…" — an enumeration of section
 * headings (一、…二、…) stretches over most of a document. */
static tifa_status write_rhetoric(writer *w)
{
    tifa_stats *s = w->s;
    char path[4096];
    tifa_status st = TIFA_OK;
    snprintf(path, sizeof path, "%s/rhetoric.csv", w->outdir);
    tifa_csv *rc = tifa_csv_open(path, w->csv, &st);
    if (!rc)
        return st;
    static const char *const rh[] = {"corpus", "doc_id", "device", "items",
                                     "text", "offset", NULL};
    tifa_csv_header(rc, rh);
    for (size_t i = 0; i < s->ndocs; i++) {
        const doc_rec *d = &s->docs[i];
        for (size_t k = 0; k < d->nr; k++) {
            tifa_csv_str(rc, d->corpus);
            tifa_csv_str(rc, d->doc_id);
            tifa_csv_str(rc, tifa_device_name(d->r[k].device));
            tifa_csv_str(rc, d->r[k].items);
            tifa_csv_str(rc, d->r[k].text); /* capped by capped_copy */
            tifa_csv_int(rc, (long long)d->r[k].offset);
            tifa_csv_row_end(rc);
        }
    }
    return tifa_csv_close(rc);
}


/* ------------------------------------------------------- slogans by doc -- */

/* slogans_by_doc.csv: corpus, doc_id, slogan, quoted, total — one row per
 * document and slogan with a count, documents in (corpus, index) order and
 * slogans in code-point order; the dispersion barcode reads it. */
static int cmp_pair_key(const void *a, const void *b)
{
    const srow_k *x = a, *y = b;
    return tifa_utf8_cmp(x->key, y->key);
}

static tifa_status write_by_doc(writer *w)
{
    tifa_stats *s = w->s;
    char path[4096];
    tifa_status st = TIFA_OK;
    snprintf(path, sizeof path, "%s/slogans_by_doc.csv", w->outdir);
    tifa_csv *bc = tifa_csv_open(path, w->csv, &st);
    if (!bc)
        return st;
    static const char *const bh[] = {"corpus", "doc_id", "slogan", "quoted",
                                     "total", NULL};
    tifa_csv_header(bc, bh);
    srow_k *rows = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < s->ndocs; i++) {
        const doc_rec *d = &s->docs[i];
        size_t need = d->nq + d->nt;
        if (grow((void **)&rows, &cap, need ? need : 1, sizeof *rows)) {
            free(rows);
            tifa_csv_abort(bc);
            return TIFA_ENOMEM;
        }
        /* merge the two id-sorted lists */
        size_t a = 0, b = 0, n = 0;
        while (a < d->nq || b < d->nt) {
            uint32_t ia = a < d->nq ? d->q[a].id : UINT32_MAX;
            uint32_t ib = b < d->nt ? d->t[b].id : UINT32_MAX;
            uint32_t id = ia < ib ? ia : ib;
            rows[n].r.id = id;
            rows[n].r.quoted = ia == id ? d->q[a++].count : 0;
            rows[n].r.total = ib == id ? d->t[b++].count : 0;
            rows[n].key = tifa_strmap_key(s->lex, id, NULL);
            n++;
        }
        qsort(rows, n, sizeof *rows, cmp_pair_key);
        for (size_t k = 0; k < n; k++) {
            tifa_csv_str(bc, d->corpus);
            tifa_csv_str(bc, d->doc_id);
            tifa_csv_str(bc, rows[k].key);
            tifa_csv_int(bc, (long long)rows[k].r.quoted);
            tifa_csv_int(bc, (long long)rows[k].r.total);
            tifa_csv_row_end(bc);
        }
    }
    free(rows);
    return tifa_csv_close(bc);
}

/* -------------------------------------------------------------- keyness -- */

/* Does name match spec, a comma-separated list of names and inclusive
 * numeric ranges "lo-hi" (which match names that are whole integers)? */
static bool spec_matches(const char *spec, const char *name)
{
    if (!name)
        return false;
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (strlen(name) == n && strncmp(p, name, n) == 0)
            return true;
        char item[128];
        if (n < sizeof item) {
            memcpy(item, p, n);
            item[n] = 0;
            char *dash = strchr(item + 1, '-');
            if (dash) {
                *dash = 0;
                char *e1, *e2, *e3;
                long lo = strtol(item, &e1, 10), hi = strtol(dash + 1, &e2, 10);
                long v = strtol(name, &e3, 10);
                if (!*e1 && !*e2 && *name && !*e3 && e1 != item &&
                    e2 != dash + 1 && v >= lo && v <= hi)
                    return true;
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

typedef struct ksums {
    double c, d;
    double *a, *b;   /* per slogan (totals) */
    double *fa, *fb; /* per family (quoted spans / matches) */
} ksums;

static tifa_status keyness_add(writer *w, tifa_keyness_table *kt,
                               const char *target, const char *reference,
                               const uint8_t *side /* 1 T, 2 R, 0 none */,
                               ksums *k)
{
    tifa_stats *s = w->s;
    size_t nf = s->nfam + 1;
    k->c = k->d = 0;
    memset(k->a, 0, s->nlex * sizeof *k->a);
    memset(k->b, 0, s->nlex * sizeof *k->b);
    memset(k->fa, 0, nf * sizeof *k->fa);
    memset(k->fb, 0, nf * sizeof *k->fb);
    for (size_t i = 0; i < s->ndocs; i++) {
        if (!side[i])
            continue;
        const doc_rec *d = &s->docs[i];
        bool t = side[i] == 1;
        double *x = t ? k->a : k->b, *fx = t ? k->fa : k->fb;
        *(t ? &k->c : &k->d) += (double)d->chars;
        for (size_t j = 0; j < d->nt; j++)
            x[d->t[j].id] += d->t[j].count;
        for (size_t f = 0; f < nf; f++)
            fx[f] += d->fam[f];
    }
    if (!(k->c > 0) || !(k->d > 0)) {
        tifa_diag_add(s->diag, TIFA_WARNING, TIFA_EEMPTY, NULL, 0, -1,
                      "keyness %s vs %s: one side has no text; skipped",
                      target, reference);
        return TIFA_OK;
    }
    for (uint32_t id = 0; id < s->nlex; id++) {
        if (!(k->a[id] + k->b[id] > 0))
            continue;
        tifa_status st = tifa_keyness_table_add(
            kt, target, reference, "slogan",
            tifa_strmap_key(s->lex, id, NULL), k->a[id], k->b[id], k->c, k->d);
        if (st != TIFA_OK)
            return st;
    }
    for (size_t f = 0; f < nf; f++) {
        if (!(k->fa[f] + k->fb[f] > 0))
            continue;
        tifa_status st = tifa_keyness_table_add(
            kt, target, reference, "family", tifa_patterns_name(s->patterns, f),
            k->fa[f], k->fb[f], k->c, k->d);
        if (st != TIFA_OK)
            return st;
    }
    return TIFA_OK;
}

static const char REST[] = "(rest)";

static tifa_status write_keyness(writer *w, tifa_keyness_table *kt)
{
    tifa_stats *s = w->s;
    size_t nf = s->nfam + 1;
    tifa_status st = TIFA_OK;
    ksums k = {0};
    uint8_t *side = calloc(s->ndocs ? s->ndocs : 1, 1);
    k.a = calloc(s->nlex ? s->nlex : 1, sizeof *k.a);
    k.b = calloc(s->nlex ? s->nlex : 1, sizeof *k.b);
    k.fa = calloc(nf, sizeof *k.fa);
    k.fb = calloc(nf, sizeof *k.fb);
    if (!side || !k.a || !k.b || !k.fa || !k.fb) {
        st = TIFA_ENOMEM;
        goto out;
    }
    if (s->opt.n_comparisons) {
        for (size_t ci = 0; ci < s->opt.n_comparisons && st == TIFA_OK; ci++) {
            const tifa_comparison *cmp = &s->opt.comparisons[ci];
            if (!cmp->target)
                continue;
            for (size_t i = 0; i < s->ndocs; i++) {
                const doc_rec *d = &s->docs[i];
                const char *name = cmp->by_group ? d->group : d->corpus;
                side[i] = spec_matches(cmp->target, name) ? 1
                          : !cmp->reference                 ? (name ? 2 : 0)
                          : spec_matches(cmp->reference, name) ? 2
                                                               : 0;
                if (!cmp->by_group && !cmp->reference && side[i] == 0)
                    side[i] = 2;
            }
            st = keyness_add(w, kt, cmp->target,
                             cmp->reference ? cmp->reference : REST, side, &k);
        }
        goto out;
    }
    /* default: each corpus against the other corpora (when there are
     * several), then each group against the rest of its corpus */
    size_t ncorpora = 0;
    for (size_t ci = 0; ci < w->ncells; ci++)
        ncorpora += w->cells[ci].group[0] == 0;
    for (size_t ci = 0; ci < w->ncells && st == TIFA_OK; ci++) {
        const cell *c = &w->cells[ci];
        if (c->group[0] == 0) {
            if (ncorpora < 2)
                continue;
            for (size_t i = 0; i < s->ndocs; i++)
                side[i] = strcmp(s->docs[i].corpus, c->corpus) == 0 ? 1 : 2;
            st = keyness_add(w, kt, c->corpus, REST, side, &k);
            continue;
        }
        /* groups of this corpus: at least two cells besides the corpus's */
        size_t ngroups = 0;
        for (size_t cj = 0; cj < w->ncells; cj++)
            ngroups += w->cells[cj].group[0] &&
                       strcmp(w->cells[cj].corpus, c->corpus) == 0;
        if (ngroups < 2)
            continue;
        for (size_t i = 0; i < s->ndocs; i++) {
            const doc_rec *d = &s->docs[i];
            side[i] = strcmp(d->corpus, c->corpus) != 0 ? 0
                      : strcmp(doc_group(d), c->group) == 0 ? 1
                                                           : 2;
        }
        char name[1024];
        snprintf(name, sizeof name, "%s/%s", c->corpus, c->group);
        st = keyness_add(w, kt, name, REST, side, &k);
    }
out:
    free(side);
    free(k.a);
    free(k.b);
    free(k.fa);
    free(k.fb);
    return st;
}

/* ---------------------------------------------------------------- write -- */

tifa_status tifa_stats_write(tifa_stats *s, const char *outdir,
                             const tifa_csv_options *csv,
                             tifa_keyness_table *keyness)
{
    if (!s || !outdir)
        return TIFA_EUSAGE;
    if (s->root != s) {
        tifa_diag_add(s->diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "statistics: write the parent engine, not a worker");
        return TIFA_EUSAGE;
    }
    tifa_stats_gsl_quiet();
    if (!s->frozen) {
        tifa_status st = tifa_stats_freeze_lexicon(s);
        if (st != TIFA_OK)
            return st;
    }
    tifa_csv_options defaults = TIFA_CSV_OPTIONS_DEFAULT;
    if (!csv)
        csv = &defaults;
    /* deterministic order, then join the totals of pass 2 */
    qsort(s->docs, s->ndocs, sizeof *s->docs, cmp_doc);
    qsort(s->tots, s->ntots, sizeof *s->tots, cmp_tot);
    size_t j = 0;
    for (size_t i = 0; i < s->ndocs; i++) {
        doc_rec *d = &s->docs[i];
        d->t = NULL;
        d->nt = 0;
        while (j < s->ntots) {
            const tot_rec *t = &s->tots[j];
            int c = strcmp(t->corpus, d->corpus);
            if (!c)
                c = t->index < d->index ? -1 : t->index > d->index;
            if (!c)
                c = strcmp(t->doc_id, d->doc_id);
            if (c < 0) {
                j++;
                continue;
            }
            if (c == 0) {
                d->t = t->t;
                d->nt = t->nt;
                j++;
            }
            break;
        }
    }
    writer w = {0};
    w.s = s;
    w.outdir = outdir;
    w.csv = csv;
    w.prec = s->precision;
    size_t nl = s->nlex ? s->nlex : 1, nf = s->nfam + 1;
    w.quoted = malloc(nl * sizeof *w.quoted);
    w.total = malloc(nl * sizeof *w.total);
    w.sum_abs = malloc(nl * sizeof *w.sum_abs);
    w.disp_f = malloc(nl * sizeof *w.disp_f);
    w.disp_w = malloc(nl * sizeof *w.disp_w);
    w.ndocs = malloc(nl * sizeof *w.ndocs);
    w.fam_q = malloc(nf * sizeof *w.fam_q);
    w.fam_docs = malloc(nf * sizeof *w.fam_docs);
    w.fam_types = malloc(nf * sizeof *w.fam_types);
    tifa_status st = TIFA_OK;
    if (!w.quoted || !w.total || !w.sum_abs || !w.disp_f || !w.disp_w ||
        !w.ndocs ||
        !w.fam_q || !w.fam_docs || !w.fam_types)
        st = TIFA_ENOMEM;
    if (st == TIFA_OK)
        st = build_cells(&w);
    if (st == TIFA_OK)
        st = write_slogans_families(&w);
    if (st == TIFA_OK)
        st = write_trend(&w);
    if (st == TIFA_OK)
        st = write_zipf(&w);
    if (st == TIFA_OK)
        st = write_rhetoric(&w);
    if (st == TIFA_OK)
        st = write_by_doc(&w);
    if (st == TIFA_OK && keyness)
        st = write_keyness(&w, keyness);
    for (size_t i = 0; i < w.ncells; i++)
        free(w.cells[i].docs);
    free(w.cells);
    free(w.quoted);
    free(w.total);
    free(w.sum_abs);
    free(w.disp_f);
    free(w.disp_w);
    free(w.ndocs);
    free(w.fam_q);
    free(w.fam_docs);
    free(w.fam_types);
    if (st != TIFA_OK)
        tifa_diag_add(s->diag, TIFA_ERROR, st, outdir, 0, -1,
                      "statistics: writing the tables failed: %s",
                      tifa_status_message(st));
    return st;
}
