/*
 * rhetoric.c — rhetorical devices beyond quotes (SPEC §4): enumerations and
 * parallel series, each reported with its items.  The exact definitions are
 * in docs/statistics.md ("Rhetoric"); in short:
 *
 * Enumerations, three marker styles, ordinals 一..十 (1..10), at least two
 * items with consecutive ordinals starting at 一:
 *   "X是"  (一是…二是…)  inside one paragraph; the marker must not follow a Han
 *          character (so 统一是 is no marker);
 *   "第X"  followed by ， , 、 : or ： (第一，…第二，…), anywhere in the
 *          document (第二批 is no marker);
 *   "X、"  as the first non-blank characters of a paragraph (一、…二、…),
 *          across paragraphs.
 *   The markers of one style form a chain while each marker's ordinal is one
 *   more than the previous marker's of that style.  An item runs from the end
 *   of its marker to the first sentence end (。 ! ? ; and fullwidth forms),
 *   the next marker, or the end of the paragraph, trimmed of white space
 *   and of trailing commas, 、 and colons.
 *
 * Parallel series: three or more items of "one shape" joined by the same
 * separator kind (、, or the comma , / ，) within a paragraph.  Items between
 * two separators must be Han only and all of one length L (1..10 characters);
 * the first item is the last L Han characters before the first separator
 * (unless that run is itself a complete item of another length), the last
 * item is the Han run after the last separator when it has exactly L
 * characters.  One shape = same length L and the same first character, or the
 * same length and the same last character; the longest such run of
 * consecutive items (≥ 3) is reported, scanning left to right.
 *   不躲、不拖、不等、不靠 (L 2, first 不); 谁引进、谁负责、谁服务 (L 3, first 谁);
 *   情感上亲近群众、言语上贴近群众、行动上靠近群众 (L 7, last 众).
 *
 * The scanner decodes one paragraph at a time into a code-point array; if
 * memory runs out the rest of the text is not scanned (the function has no
 * error return; the engine checks allocation elsewhere).
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include "stats.h"
#include "stats_internal.h"

const char *tifa_device_name(tifa_device device)
{
    switch (device) {
    case TIFA_ENUMERATION:
        return "enumeration";
    case TIFA_PARALLEL:
        return "parallel";
    }
    return "unknown";
}

enum { MAX_ITEM = 10, MAX_ORD = 10 };

typedef struct cpv {
    UChar32 *cp;
    size_t *off; /* byte offset of cp[i] in the whole text; off[n] = end */
    size_t n, cap;
} cpv;

static bool cpv_fill(cpv *v, const char *text, size_t a, size_t b)
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

static bool is_han(UChar32 c)
{
    UErrorCode e = U_ZERO_ERROR;
    return c >= 0x2E80 && uscript_getScript(c, &e) == USCRIPT_HAN;
}

static int ordinal(UChar32 c)
{
    static const UChar32 digits[MAX_ORD] = {0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                                            0x4E94, 0x516D, 0x4E03, 0x516B,
                                            0x4E5D, 0x5341};
    for (int i = 0; i < MAX_ORD; i++)
        if (digits[i] == c)
            return i + 1;
    return 0;
}

static bool is_sentence_end(UChar32 c)
{
    return c == 0x3002 || c == '!' || c == '?' || c == ';' || c == 0xFF01 ||
           c == 0xFF1F || c == 0xFF1B;
}

static bool is_white(UChar32 c)
{
    return u_isUWhiteSpace(c) != 0;
}

/* ---------------------------------------------------------- enumerations -- */

typedef struct marker {
    size_t start;     /* byte offset of the marker */
    size_t item;      /* byte offset where the item begins */
    size_t item_end;  /* byte offset of the item's end (before trimming) */
    int ord;
} marker;

typedef struct mvec {
    marker *m;
    size_t n, cap;
} mvec;

static bool mvec_push(mvec *v, marker m)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        marker *p = realloc(v->m, cap * sizeof *p);
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
static size_t item_end_index(const cpv *v, size_t i)
{
    while (i < v->n && !is_sentence_end(v->cp[i]))
        i++;
    return i;
}

static void trim_bytes(const char *text, size_t *a, size_t *b)
{
    while (*a < *b) {
        int32_t k = 0, lim = *b - *a > 8 ? 8 : (int32_t)(*b - *a);
        UChar32 c;
        U8_NEXT(text + *a, k, lim, c);
        if (c < 0 || !is_white(c))
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
        if (c < 0 || !is_white(c))
            break;
        *b = s;
    }
}

/* Drops commas, 、 and colons (ASCII and fullwidth) ending an item that
 * runs into the next marker, e.g. 一是抓落实,二是… -> 抓落实. */
static void strip_trailing_commas(const char *text, size_t a, size_t *b)
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
static void enum_report(const char *text, mvec *mv, tifa_rhetoric_fn fn,
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
                trim_bytes(text, &a, &b);
                strip_trailing_commas(text, a, &b);
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

static int sep_kind(UChar32 c)
{
    if (c == 0x3001)
        return 1; /* 、 */
    if (c == ',' || c == 0xFF0C)
        return 2; /* , ， */
    return 0;
}

static void parallel_report(const char *text, const cpv *v, const size_t *st,
                            size_t n_items, size_t L, tifa_rhetoric_fn fn,
                            void *user)
{
    size_t i = 0;
    while (i + 2 < n_items) {
        size_t r1 = 1, r2 = 1;
        while (i + r1 < n_items && v->cp[st[i + r1]] == v->cp[st[i]])
            r1++;
        while (i + r2 < n_items &&
               v->cp[st[i + r2] + L - 1] == v->cp[st[i] + L - 1])
            r2++;
        size_t r = r1 > r2 ? r1 : r2;
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
static bool parallel_scan(const char *text, const cpv *v, tifa_rhetoric_fn fn,
                          void *user)
{
    size_t *seps = NULL, ns = 0;
    size_t *st = NULL;
    bool ok = true;
    for (size_t i = 0; i < v->n; i++)
        if (sep_kind(v->cp[i]))
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
        if (sep_kind(v->cp[i]))
            seps[ns++] = i;
    /* gap length between separators j and j+1 when it is a Han-only item of
     * 1..MAX_ITEM characters between two separators of one kind, else 0 */
    size_t j = 0;
    while (j + 1 < ns) {
        int kind = sep_kind(v->cp[seps[j]]);
        size_t L = 0;
        size_t b = j;
        while (b + 1 < ns && sep_kind(v->cp[seps[b + 1]]) == kind) {
            size_t g0 = seps[b] + 1, g1 = seps[b + 1];
            size_t len = g1 - g0;
            bool han = len >= 1 && len <= MAX_ITEM;
            for (size_t q = g0; han && q < g1; q++)
                han = is_han(v->cp[q]);
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
        while (q > 0 && is_han(v->cp[q - 1]) && r <= MAX_ITEM) {
            q--;
            r++;
        }
        /* a run of ≤ MAX_ITEM Han characters right after a separator of the
         * same kind is a complete item (of another length): not derived */
        bool whole_item = r <= MAX_ITEM && q > 0 &&
                          sep_kind(v->cp[q - 1]) == kind;
        if (r >= L && !(whole_item && r != L))
            st[n_items++] = seps[j] - L;
        for (size_t k = j; k < b; k++)
            st[n_items++] = seps[k] + 1;
        /* last item: the Han run after seps[b] when it has exactly L chars */
        size_t e = seps[b] + 1;
        r = 0;
        while (e + r < v->n && is_han(v->cp[e + r]) && r <= L)
            r++;
        if (r == L)
            st[n_items++] = e;
        parallel_report(text, v, st, n_items, L, fn, user);
        j = b;
    }
done:
    free(seps);
    free(st);
    return ok;
}

/* ----------------------------------------------------------------- scan -- */

void tifa_rhetoric_scan(const char *text, size_t len, tifa_rhetoric_fn fn,
                        void *user)
{
    if (!text || !fn)
        return;
    cpv v = {0};
    mvec shi = {0}, di = {0}, dun = {0};
    size_t p = 0;
    bool ok = true;
    while (ok && p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len;
        if (!cpv_fill(&v, text, p, e)) {
            ok = false;
            break;
        }
        /* X、 at the start of the paragraph */
        size_t f = 0;
        while (f < v.n && is_white(v.cp[f]))
            f++;
        if (f + 1 < v.n && ordinal(v.cp[f]) && v.cp[f + 1] == 0x3001) {
            size_t ie = item_end_index(&v, f + 2);
            ok = ok && mvec_push(&dun, (marker){v.off[f], v.off[f + 2],
                                                v.off[ie], ordinal(v.cp[f])});
        }
        shi.n = 0;
        for (size_t i = 0; ok && i + 1 < v.n; i++) {
            /* cheap tests first: 是 after the ordinal, or 第 before it */
            if (v.cp[i + 1] != 0x662F && v.cp[i] != 0x7B2C)
                continue;
            int o = v.cp[i + 1] == 0x662F ? ordinal(v.cp[i]) : 0;
            if (o && (i == 0 || !is_han(v.cp[i - 1]))) {
                size_t ie = item_end_index(&v, i + 2);
                ok = mvec_push(&shi, (marker){v.off[i], v.off[i + 2],
                                              v.off[ie], o});
            }
            if (v.cp[i] == 0x7B2C && i + 2 < v.n && ordinal(v.cp[i + 1])) {
                UChar32 c = v.cp[i + 2];
                if (c == 0xFF0C || c == ',' || c == 0x3001 || c == ':' ||
                    c == 0xFF1A) {
                    size_t ie = item_end_index(&v, i + 3);
                    ok = mvec_push(&di, (marker){v.off[i], v.off[i + 3],
                                                 v.off[ie],
                                                 ordinal(v.cp[i + 1])});
                }
            }
        }
        if (ok)
            enum_report(text, &shi, fn, user);
        if (ok)
            ok = parallel_scan(text, &v, fn, user);
        p = e + 1;
    }
    if (ok) {
        enum_report(text, &di, fn, user);
        enum_report(text, &dun, fn, user);
    }
    free(v.cp);
    free(v.off);
    free(shi.m);
    free(di.m);
    free(dun.m);
}
