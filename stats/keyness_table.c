/*
 * keyness_table.c — collects keyness rows from every stage (slogans and
 * families from engine.c, n-grams from ngrams.c) and writes keyness.csv
 * (SPEC §6): for each row the statistics of tifa_keyness_compute, and
 * Benjamini–Hochberg adjusted p-values computed within each (target,
 * reference, kind) block, since each block is one family of tests.
 *
 * Columns: target, reference, kind, feature, a, b, per_10k_target,
 * per_10k_reference, g2, p, p_adj, log_ratio, pct_diff, then chi2,
 * chi2_yates, g2_4term, bic, size_target, size_reference.  G² is the
 * two-term UCREL form; the direction is the sign of log_ratio.  Blocks are
 * written in code-point order of (target, reference, kind), rows within a
 * block by g2 descending, then feature in code-point order.  p-values are in
 * scientific notation with four decimals; other reals with `precision`
 * decimals.  Not thread-safe: stages add rows from one thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "stats_internal.h"

typedef struct krow {
    uint32_t target, reference, kind; /* ids in names */
    char *feature;
    double a, b, c, d;
    tifa_keyness k;
    double p_adj;
} krow;

struct tifa_keyness_table {
    tifa_strmap *names;
    krow *rows;
    size_t n, cap;
};

tifa_keyness_table *tifa_keyness_table_new(void)
{
    tifa_keyness_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (!(t->names = tifa_strmap_new())) {
        free(t);
        return NULL;
    }
    return t;
}

void tifa_keyness_table_free(tifa_keyness_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->rows[i].feature);
    free(t->rows);
    tifa_strmap_free(t->names);
    free(t);
}

tifa_status tifa_keyness_table_add(tifa_keyness_table *t, const char *target,
                                   const char *reference, const char *kind,
                                   const char *feature, double a, double b,
                                   double c, double d)
{
    if (!t || !target || !reference || !kind || !feature)
        return TIFA_EUSAGE;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        krow *r = realloc(t->rows, cap * sizeof *r);
        if (!r)
            return TIFA_ENOMEM;
        t->rows = r;
        t->cap = cap;
    }
    krow *r = &t->rows[t->n];
    r->target = tifa_strmap_intern(t->names, target, strlen(target), NULL);
    r->reference =
        tifa_strmap_intern(t->names, reference, strlen(reference), NULL);
    r->kind = tifa_strmap_intern(t->names, kind, strlen(kind), NULL);
    if (r->target == UINT32_MAX || r->reference == UINT32_MAX ||
        r->kind == UINT32_MAX)
        return TIFA_ENOMEM;
    if (!(r->feature = tifa_strdup(feature)))
        return TIFA_ENOMEM;
    r->a = a;
    r->b = b;
    r->c = c;
    r->d = d;
    t->n++;
    return TIFA_OK;
}

/* Moves every row of `from` to `into` (names re-interned, features moved,
 * `from` left empty; both stay owned by their callers).  keyness.csv is
 * sorted on write, so which table a row was added to first does not show:
 * the pipeline lets the n-gram stage fill a table of its own on another
 * thread and absorbs it afterwards. */
tifa_status tifa_keyness_table_absorb(tifa_keyness_table *into,
                                      tifa_keyness_table *from)
{
    if (!into || !from)
        return TIFA_EUSAGE;
    if (into->n + from->n > into->cap) {
        size_t cap = into->n + from->n;
        krow *r = realloc(into->rows, cap * sizeof *r);
        if (!r)
            return TIFA_ENOMEM;
        into->rows = r;
        into->cap = cap;
    }
    for (size_t i = 0; i < from->n; i++) {
        krow r = from->rows[i];
        size_t len;
        const char *name;
        name = tifa_strmap_key(from->names, r.target, &len);
        r.target = tifa_strmap_intern(into->names, name, len, NULL);
        name = tifa_strmap_key(from->names, r.reference, &len);
        r.reference = tifa_strmap_intern(into->names, name, len, NULL);
        name = tifa_strmap_key(from->names, r.kind, &len);
        r.kind = tifa_strmap_intern(into->names, name, len, NULL);
        if (r.target == UINT32_MAX || r.reference == UINT32_MAX ||
            r.kind == UINT32_MAX) {
            /* rows not moved yet stay in from (freed with it) */
            memmove(from->rows, from->rows + i, (from->n - i) * sizeof *from->rows);
            from->n -= i;
            return TIFA_ENOMEM;
        }
        into->rows[into->n++] = r;
    }
    from->n = 0;
    return TIFA_OK;
}

/* qsort has no context pointer: sort an array of row pointers paired with
 * the resolved block names. */
typedef struct kref {
    const char *target, *reference, *kind;
    krow *row;
} kref;

static int cmp_block(const kref *x, const kref *y)
{
    int c = tifa_utf8_cmp(x->target, y->target);
    if (!c)
        c = tifa_utf8_cmp(x->reference, y->reference);
    if (!c)
        c = tifa_utf8_cmp(x->kind, y->kind);
    return c;
}

static int cmp_kref(const void *a, const void *b)
{
    const kref *x = a, *y = b;
    int c = cmp_block(x, y);
    if (c)
        return c;
    double gx = x->row->k.g2, gy = y->row->k.g2;
    bool nx = isnan(gx), ny = isnan(gy);
    if (nx != ny)
        return nx ? 1 : -1;
    if (!nx && gx != gy)
        return gx > gy ? -1 : 1;
    return tifa_utf8_cmp(x->row->feature, y->row->feature);
}

/* p-values: 4 digits after the point in scientific notation, so that very
 * small p stay readable (docs/statistics.md, "The tables"). */
static void csv_p(tifa_csv *csv, double p)
{
    tifa_csv_sci(csv, p, 4);
}

tifa_status tifa_keyness_table_write(tifa_keyness_table *t, const char *path,
                                     const tifa_csv_options *csv,
                                     int precision)
{
    if (!t || !path)
        return TIFA_EUSAGE;
    if (precision <= 0)
        precision = 4;
    tifa_csv_options defaults = TIFA_CSV_OPTIONS_DEFAULT;
    if (!csv)
        csv = &defaults;
    kref *refs = malloc((t->n ? t->n : 1) * sizeof *refs);
    double *p = malloc((t->n ? t->n : 1) * sizeof *p);
    double *padj = malloc((t->n ? t->n : 1) * sizeof *padj);
    tifa_status st = TIFA_OK;
    if (!refs || !p || !padj) {
        st = TIFA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < t->n; i++) {
        krow *r = &t->rows[i];
        tifa_keyness_compute(r->a, r->b, r->c, r->d, &r->k);
        refs[i].target = tifa_strmap_key(t->names, r->target, NULL);
        refs[i].reference = tifa_strmap_key(t->names, r->reference, NULL);
        refs[i].kind = tifa_strmap_key(t->names, r->kind, NULL);
        refs[i].row = r;
    }
    qsort(refs, t->n, sizeof *refs, cmp_kref);
    /* BH within each block */
    for (size_t i = 0; i < t->n;) {
        size_t j = i;
        while (j < t->n && cmp_block(&refs[i], &refs[j]) == 0)
            j++;
        for (size_t k = i; k < j; k++)
            p[k - i] = refs[k].row->k.p;
        if ((st = tifa_bh_adjust(p, j - i, padj)) != TIFA_OK)
            goto out;
        for (size_t k = i; k < j; k++)
            refs[k].row->p_adj = padj[k - i];
        i = j;
    }
    tifa_csv *out = tifa_csv_open(path, csv, &st);
    if (!out)
        goto out;
    static const char *const hdr[] = {
        "target",  "reference", "kind",         "feature",
        "a",       "b",         "per_10k_target", "per_10k_reference",
        "g2",      "p",         "p_adj",        "log_ratio",
        "pct_diff", "chi2",     "chi2_yates",   "g2_4term",
        "bic",     "size_target", "size_reference", NULL};
    tifa_csv_header(out, hdr);
    for (size_t i = 0; i < t->n; i++) {
        const krow *r = refs[i].row;
        tifa_csv_str(out, refs[i].target);
        tifa_csv_str(out, refs[i].reference);
        tifa_csv_str(out, refs[i].kind);
        tifa_csv_str(out, r->feature);
        tifa_csv_real(out, r->a, 0);
        tifa_csv_real(out, r->b, 0);
        tifa_csv_real(out, r->c > 0 ? r->a / r->c * 1e4 : NAN, precision);
        tifa_csv_real(out, r->d > 0 ? r->b / r->d * 1e4 : NAN, precision);
        tifa_csv_real(out, r->k.g2, precision);
        csv_p(out, r->k.p);
        csv_p(out, r->p_adj);
        tifa_csv_real(out, r->k.log_ratio, precision);
        tifa_csv_real(out, r->k.pct_diff, precision);
        tifa_csv_real(out, r->k.chi2, precision);
        tifa_csv_real(out, r->k.chi2_yates, precision);
        tifa_csv_real(out, r->k.g2_4term, precision);
        tifa_csv_real(out, r->k.bic, precision);
        tifa_csv_real(out, r->c, 0);
        tifa_csv_real(out, r->d, 0);
        tifa_csv_row_end(out);
    }
    st = tifa_csv_close(out);
out:
    free(refs);
    free(p);
    free(padj);
    return st;
}
