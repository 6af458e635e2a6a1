/*
 * scan_reference.h — the quote and rhetoric scanners as they were before
 * they were made to work on bytes (stats/quotes.c, stats/rhetoric.c): plain
 * code-point loops that decode every paragraph and test every character,
 * written straight from the definitions in docs/statistics.md.  test_text
 * runs them side by side with the fast scanners on random texts and
 * requires the same callbacks, with the same arguments, in the same order.
 * Kept as an oracle only; not part of the library.
 */
#ifndef TIFA_SCAN_REFERENCE_H
#define TIFA_SCAN_REFERENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include "stats.h"

/* The reference reports each instance with its stretch copied out as a
 * string (as the library did before the stretch was left in place). */
typedef void (*ref_rhetoric_fn)(tifa_device device, const char *items,
                                const char *stretch, size_t offset, void *user);

/* ------------------------------------------------------------- quotes -- */

static size_t ref_utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            chars++;
    return chars;
}

enum { ref_NPAIRS = 4 };
static const UChar32 ref_OPENERS[ref_NPAIRS] = {0x201C, 0x300C, 0x300E, 0x2018};
static const UChar32 ref_CLOSERS[ref_NPAIRS] = {0x201D, 0x300D, 0x300F, 0x2019};

static void ref_quotes_emit(const char *text, size_t a, size_t b,
                        const tifa_quote_options *o, tifa_quote_fn fn,
                        void *user)
{
    const char *s = text + a;
    if (b - a > (size_t)INT32_MAX)
        return; /* cannot be a short span */
    int32_t lo = 0, hi = (int32_t)(b - a);
    /* trim Unicode white space at both ends */
    while (lo < hi) {
        int32_t i = lo;
        UChar32 c;
        U8_NEXT(s, i, hi, c);
        if (c < 0 || !u_isUWhiteSpace(c))
            break;
        lo = i;
    }
    while (hi > lo) {
        int32_t i = hi;
        UChar32 c;
        U8_PREV(s, lo, i, c);
        if (c < 0 || !u_isUWhiteSpace(c))
            break;
        hi = i;
    }
    size_t chars = ref_utf8_chars(s + lo, (size_t)(hi - lo));
    if (chars == 0 || chars < o->min_chars || chars > o->max_chars)
        return;
    fn(s + lo, (size_t)(hi - lo), a + (size_t)lo, chars, user);
}

static void ref_quotes_scan(const char *text, size_t len,
                      const tifa_quote_options *options, tifa_quote_fn fn,
                      void *user)
{
    tifa_quote_options o = {1, 12};
    if (options) {
        if (options->min_chars)
            o.min_chars = options->min_chars;
        if (options->max_chars)
            o.max_chars = options->max_chars;
    }
    if (!text || !fn)
        return;
    size_t open_at[ref_NPAIRS] = {0, 0, 0, 0};
    bool open[ref_NPAIRS] = {false, false, false, false};
    /* Every quote character is E2 80 xx (“ ” ‘ ’) or E3 80 xx (「 」 『 』)
     * in UTF-8, so other bytes are skipped without decoding. */
    size_t i = 0;
    while (i < len) {
        unsigned char byte = (unsigned char)text[i];
        if (byte == '\n') {
            memset(open, 0, sizeof open);
            i++;
            continue;
        }
        if ((byte != 0xE2 && byte != 0xE3) || i + 2 >= len ||
            (unsigned char)text[i + 1] != 0x80 ||
            ((unsigned char)text[i + 2] & 0xC0) != 0x80) {
            i++;
            continue;
        }
        size_t start = i;
        UChar32 c = ((UChar32)(byte & 0x0F) << 12) |
                    ((unsigned char)text[i + 2] & 0x3F);
        i += 3;
        for (int p = 0; p < ref_NPAIRS; p++) {
            if (c == ref_OPENERS[p]) {
                open[p] = true;
                open_at[p] = i;
            } else if (c == ref_CLOSERS[p] && open[p]) {
                open[p] = false;
                ref_quotes_emit(text, open_at[p], start, &o, fn, user);
            }
        }
    }
}

/* ----------------------------------------------------------- rhetoric -- */

enum { ref_MAX_ITEM = 10, ref_MAX_ORD = 10 };

typedef struct ref_cpv {
    UChar32 *cp;
    size_t *off; /* byte offset of cp[i] in the whole text; off[n] = end */
    size_t n, cap;
} ref_cpv;

static bool ref_cpv_fill(ref_cpv *v, const char *text, size_t a, size_t b)
{
    v->n = 0;
    size_t i = a;
    while (i < b) {
        if (v->n + 2 > v->cap) {
            size_t cap = v->cap ? v->cap * 2 : 256;
            UChar32 *cp = realloc(v->cp, cap * sizeof *cp);
            if (!cp)
                return false;
            v->cp = cp;
            size_t *off = realloc(v->off, cap * sizeof *off);
            if (!off)
                return false;
            v->off = off;
            v->cap = cap;
        }
        size_t rest = b - i;
        int32_t k = 0, lim = rest > 8 ? 8 : (int32_t)rest;
        UChar32 c;
        U8_NEXT(text + i, k, lim, c);
        v->cp[v->n] = c < 0 ? 0xFFFD : c;
        v->off[v->n] = i;
        v->n++;
        i += (size_t)k;
    }
    if (v->cap == 0) {
        v->off = malloc(sizeof *v->off);
        v->cp = malloc(sizeof *v->cp);
        if (!v->off || !v->cp)
            return false;
        v->cap = 1;
    }
    v->off[v->n] = b;
    return true;
}

static bool ref_is_han(UChar32 c)
{
    UErrorCode e = U_ZERO_ERROR;
    return c >= 0x2E80 && uscript_getScript(c, &e) == USCRIPT_HAN;
}

static int ref_ordinal(UChar32 c)
{
    static const UChar32 digits[ref_MAX_ORD] = {0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                                            0x4E94, 0x516D, 0x4E03, 0x516B,
                                            0x4E5D, 0x5341};
    for (int i = 0; i < ref_MAX_ORD; i++)
        if (digits[i] == c)
            return i + 1;
    return 0;
}

static bool ref_is_sentence_end(UChar32 c)
{
    return c == 0x3002 || c == '!' || c == '?' || c == ';' || c == 0xFF01 ||
           c == 0xFF1F || c == 0xFF1B;
}

static bool ref_is_white(UChar32 c)
{
    return u_isUWhiteSpace(c) != 0;
}

/* ---------------------------------------------------------- enumerations -- */

typedef struct ref_marker {
    size_t start;     /* byte offset of the ref_marker */
    size_t item;      /* byte offset where the item begins */
    size_t item_end;  /* byte offset of the item's end (before trimming) */
    int ord;
} ref_marker;

typedef struct ref_mvec {
    ref_marker *m;
    size_t n, cap;
} ref_mvec;

static bool ref_mvec_push(ref_mvec *v, ref_marker m)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        ref_marker *p = realloc(v->m, cap * sizeof *p);
        if (!p)
            return false;
        v->m = p;
        v->cap = cap;
    }
    v->m[v->n++] = m;
    return true;
}

/* End of the item that starts at code point index i of the paragraph in v:
 * the first sentence end at or after i (exclusive), or the paragraph end. */
static size_t ref_item_end_index(const ref_cpv *v, size_t i)
{
    while (i < v->n && !ref_is_sentence_end(v->cp[i]))
        i++;
    return i;
}

static void ref_trim_bytes(const char *text, size_t *a, size_t *b)
{
    while (*a < *b) {
        int32_t k = 0, lim = *b - *a > 8 ? 8 : (int32_t)(*b - *a);
        UChar32 c;
        U8_NEXT(text + *a, k, lim, c);
        if (c < 0 || !ref_is_white(c))
            break;
        *a += (size_t)k;
    }
    while (*b > *a) {
        size_t s = *b - 1;
        while (s > *a && ((unsigned char)text[s] & 0xC0) == 0x80)
            s--;
        int32_t k = 0, lim = (int32_t)(*b - s);
        UChar32 c;
        U8_NEXT(text + s, k, lim, c);
        if (c < 0 || !ref_is_white(c))
            break;
        *b = s;
    }
}

/* Drops commas, 、 and colons (ASCII and fullwidth) ending an item that
 * runs into the next ref_marker, e.g. 一是抓落实,二是… -> 抓落实. */
static void ref_strip_trailing_commas(const char *text, size_t a, size_t *b)
{
    for (;;) {
        if (*b > a && (text[*b - 1] == ',' || text[*b - 1] == ':')) {
            (*b)--;
            continue;
        }
        if (*b >= a + 3 && (memcmp(text + *b - 3, "\xE3\x80\x81", 3) == 0 ||
                            memcmp(text + *b - 3, "\xEF\xBC\x8C", 3) == 0 ||
                            memcmp(text + *b - 3, "\xEF\xBC\x9A", 3) == 0)) {
            *b -= 3;
            continue;
        }
        break;
    }
}

/* Reports every chain of consecutive ordinals 1, 2, ... (≥ 2 markers) in m. */
static void ref_enum_report(const char *text, ref_mvec *mv, ref_rhetoric_fn fn,
                        void *user)
{
    size_t i = 0;
    while (i < mv->n) {
        if (mv->m[i].ord != 1) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < mv->n && mv->m[j].ord == mv->m[j - 1].ord + 1)
            j++;
        if (j - i >= 2) {
            tifa_buf items = {0};
            bool ok = true;
            size_t text_end = mv->m[i].start;
            for (size_t k = i; k < j; k++) {
                size_t a = mv->m[k].item, b = mv->m[k].item_end;
                if (k + 1 < mv->n && mv->m[k + 1].start < b)
                    b = mv->m[k + 1].start;
                if (b < a)
                    b = a;
                if (b > text_end)
                    text_end = b;
                ref_trim_bytes(text, &a, &b);
                ref_strip_trailing_commas(text, a, &b);
                if (k > i)
                    ok = ok && tifa_buf_puts(&items, " | ") == TIFA_OK;
                ok = ok && tifa_buf_append(&items, text + a, b - a) == TIFA_OK;
            }
            char *stretch = tifa_strndup(text + mv->m[i].start,
                                         text_end - mv->m[i].start);
            if (ok && stretch && items.data)
                fn(TIFA_ENUMERATION, items.data, stretch, mv->m[i].start, user);
            free(stretch);
            tifa_buf_free(&items);
        }
        i = j;
    }
}

/* ------------------------------------------------------ parallel series -- */

static int ref_sep_kind(UChar32 c)
{
    if (c == 0x3001)
        return 1; /* 、 */
    if (c == ',' || c == 0xFF0C)
        return 2; /* , ， */
    return 0;
}

static void ref_parallel_report(const char *text, const ref_cpv *v, const size_t *st,
                            size_t n_items, size_t L, bool last_cut,
                            ref_rhetoric_fn fn, void *user)
{
    size_t i = 0;
    while (i + 2 < n_items) {
        /* one shape: the same character at some position */
        size_t r = 1;
        for (size_t pos = 0; pos < L; pos++) {
            size_t rp = 1;
            while (i + rp < n_items &&
                   !(last_cut && i + rp == n_items - 1 && pos == 0) &&
                   v->cp[st[i + rp] + pos] == v->cp[st[i] + pos])
                rp++;
            if (rp > r)
                r = rp;
        }
        if (r < 3) {
            i++;
            continue;
        }
        tifa_buf items = {0};
        bool ok = true;
        for (size_t k = i; k < i + r; k++) {
            if (k > i)
                ok = ok && tifa_buf_puts(&items, " | ") == TIFA_OK;
            size_t a = v->off[st[k]], b = v->off[st[k] + L];
            ok = ok && tifa_buf_append(&items, text + a, b - a) == TIFA_OK;
        }
        size_t a = v->off[st[i]], b = v->off[st[i + r - 1] + L];
        char *stretch = tifa_strndup(text + a, b - a);
        if (ok && stretch)
            fn(TIFA_PARALLEL, items.data, stretch, a, user);
        free(stretch);
        tifa_buf_free(&items);
        i += r;
    }
}

/* Parallel series of one paragraph (code points in v). */
static bool ref_parallel_scan(const char *text, const ref_cpv *v, ref_rhetoric_fn fn,
                          void *user)
{
    size_t *seps = NULL, ns = 0;
    size_t *st = NULL;
    bool ok = true;
    for (size_t i = 0; i < v->n; i++)
        if (ref_sep_kind(v->cp[i]))
            ns++;
    if (ns < 2)
        return true;
    seps = malloc(ns * sizeof *seps);
    st = malloc((ns + 2) * sizeof *st);
    if (!seps || !st) {
        ok = false;
        goto done;
    }
    ns = 0;
    for (size_t i = 0; i < v->n; i++)
        if (ref_sep_kind(v->cp[i]))
            seps[ns++] = i;
    /* gap length between separators j and j+1 when it is a Han-only item of
     * 1..ref_MAX_ITEM characters between two separators of one kind, else 0 */
    size_t j = 0;
    while (j + 1 < ns) {
        int kind = ref_sep_kind(v->cp[seps[j]]);
        size_t L = 0;
        size_t b = j;
        while (b + 1 < ns && ref_sep_kind(v->cp[seps[b + 1]]) == kind) {
            size_t g0 = seps[b] + 1, g1 = seps[b + 1];
            size_t len = g1 - g0;
            bool han = len >= 1 && len <= ref_MAX_ITEM;
            for (size_t q = g0; han && q < g1; q++)
                han = ref_is_han(v->cp[q]);
            if (!han || (L && len != L))
                break;
            L = len;
            b++;
        }
        if (b == j) {
            j++;
            continue;
        }
        size_t n_items = 0;
        /* first item: last L Han characters before seps[j] */
        size_t r = 0, q = seps[j];
        while (q > 0 && ref_is_han(v->cp[q - 1]) && r <= ref_MAX_ITEM) {
            q--;
            r++;
        }
        /* a run of ≤ ref_MAX_ITEM Han characters right after a separator of the
         * same kind is a complete item (of another length): not derived */
        bool whole_item = r <= ref_MAX_ITEM && q > 0 &&
                          ref_sep_kind(v->cp[q - 1]) == kind;
        if (r >= L && !(whole_item && r != L))
            st[n_items++] = seps[j] - L;
        for (size_t k = j; k < b; k++)
            st[n_items++] = seps[k] + 1;
        /* last item: the first L Han characters after seps[b], unless the
         * run is a complete item of another length (ends at a separator of
         * the same kind) */
        size_t e = seps[b] + 1;
        r = 0;
        while (e + r < v->n && ref_is_han(v->cp[e + r]) && r <= ref_MAX_ITEM)
            r++;
        bool whole_last = r <= ref_MAX_ITEM && e + r < v->n &&
                          ref_sep_kind(v->cp[e + r]) == kind;
        bool last_cut = false;
        if (r >= L && !(whole_last && r != L)) {
            st[n_items++] = e;
            last_cut = r > L;
        }
        ref_parallel_report(text, v, st, n_items, L, last_cut, fn, user);
        j = b;
    }
done:
    free(seps);
    free(st);
    return ok;
}

/* ----------------------------------------------------------------- scan -- */

static void ref_rhetoric_scan(const char *text, size_t len, ref_rhetoric_fn fn,
                        void *user)
{
    if (!text || !fn)
        return;
    ref_cpv v = {0};
    ref_mvec shi = {0}, di = {0}, dun = {0};
    size_t p = 0;
    bool ok = true;
    while (ok && p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len;
        if (!ref_cpv_fill(&v, text, p, e)) {
            ok = false;
            break;
        }
        /* X、 at the start of the paragraph */
        size_t f = 0;
        while (f < v.n && ref_is_white(v.cp[f]))
            f++;
        if (f + 1 < v.n && ref_ordinal(v.cp[f]) && v.cp[f + 1] == 0x3001) {
            size_t ie = ref_item_end_index(&v, f + 2);
            ok = ok && ref_mvec_push(&dun, (ref_marker){v.off[f], v.off[f + 2],
                                                v.off[ie], ref_ordinal(v.cp[f])});
        }
        shi.n = 0;
        for (size_t i = 0; ok && i + 1 < v.n; i++) {
            /* cheap tests first: 是 after the ref_ordinal, or 第 before it */
            if (v.cp[i + 1] != 0x662F && v.cp[i] != 0x7B2C)
                continue;
            int o = v.cp[i + 1] == 0x662F ? ref_ordinal(v.cp[i]) : 0;
            if (o && (i == 0 || !ref_is_han(v.cp[i - 1]))) {
                size_t ie = ref_item_end_index(&v, i + 2);
                ok = ref_mvec_push(&shi, (ref_marker){v.off[i], v.off[i + 2],
                                              v.off[ie], o});
            }
            if (v.cp[i] == 0x7B2C && i + 2 < v.n && ref_ordinal(v.cp[i + 1])) {
                UChar32 c = v.cp[i + 2];
                if (c == 0xFF0C || c == ',' || c == 0x3001 || c == ':' ||
                    c == 0xFF1A) {
                    size_t ie = ref_item_end_index(&v, i + 3);
                    ok = ref_mvec_push(&di, (ref_marker){v.off[i], v.off[i + 3],
                                                 v.off[ie],
                                                 ref_ordinal(v.cp[i + 1])});
                }
            }
        }
        if (ok)
            ref_enum_report(text, &shi, fn, user);
        if (ok)
            ok = ref_parallel_scan(text, &v, fn, user);
        p = e + 1;
    }
    if (ok) {
        ref_enum_report(text, &di, fn, user);
        ref_enum_report(text, &dun, fn, user);
    }
    free(v.cp);
    free(v.off);
    free(shi.m);
    free(di.m);
    free(dun.m);
}

#endif /* TIFA_SCAN_REFERENCE_H */
