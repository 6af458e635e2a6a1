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
 * the first item is the last L Han characters before the first separator,
 * the last item the first L Han characters after the last separator (unless
 * that Han run is itself a complete item of another length, i.e. it touches
 * a separator of the same kind).  One shape = same length L and the same
 * character at one position (the same first, middle or last character); the
 * longest such run of consecutive items (≥ 3) is reported, left to right.
 *   不躲、不拖、不等、不靠 (L 2, first 不); 谁引进、谁负责、谁服务 (L 3, first 谁);
 *   情感上亲近群众、言语上贴近群众、行动上靠近群众 (L 7, last 众);
 *   门难进、脸难看、事难办 (L 3, middle 难); 住一个村、帮一户人、办一件事
 *   (L 4, second 一); 培养一批、选拔一批、储备一批年轻干部 (a cut item needs a
 *   shared character away from its cut, see parallel_report).
 *
 * The scanner works on UTF-8 bytes: it finds the few characters that matter
 * (是 第 、 ， , and paragraph starts) by their bytes, 16 positions at a time,
 * and decodes only around them (see "Why the scan works on bytes" below and
 * docs/statistics.md, "Performance").  The results are those of the plain
 * code-point loop over each paragraph, callback for callback; test_text
 * checks this against that loop (tests/stats/scan_reference.h) on random
 * texts.  If memory runs out the rest of the text is not scanned (the
 * function has no error return; the engine checks allocation elsewhere).
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

static bool is_han(UChar32 c)
{
    /* fast paths, checked against ICU 72 over the whole ranges: every code
     * point of U+4E00..U+9FFF is Script=Han, none of U+FF00..U+FFEF is */
    if (c >= 0x4E00 && c <= 0x9FFF)
        return true;
    if (c < 0x2E80 || (c >= 0xFF00 && c <= 0xFFEF))
        return false;
    UErrorCode e = U_ZERO_ERROR;
    return uscript_getScript(c, &e) == USCRIPT_HAN;
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

/* ----------------------------------------------------------------- scan -- */

/*
 * Why the scan works on bytes.  Decoding every paragraph into code points
 * and testing every character cost about 117 instructions per character (see
 * docs/statistics.md, "Performance"), yet only a few characters matter:
 * 是 and 第 (enumeration markers), the separators 、 ， and ',' (parallel
 * series), and the start of each paragraph (一、 headings).  So the scan
 * finds those by their UTF-8 bytes and decodes only around them.  This is
 * exact, not a heuristic: a lead byte (anything but 10xxxxxx) always starts
 * a character when UTF-8 is decoded from the start of a paragraph, ICU's
 * U8_NEXT never swallows one, so a valid sequence such as E6 98 AF found at a
 * lead byte is the character 是 in the code-point view too, and vice versa.
 */

enum { EV_SHI = 1, EV_DI, EV_SEP };

typedef struct event {
    size_t pos;   /* byte offset of the character */
    size_t end;   /* byte offset after it */
    int type;     /* EV_* */
    int kind;     /* separator kind (sep_kind) for EV_SEP */
} event;

typedef struct evv {
    event *e;
    size_t n, cap;
} evv;

static bool evv_push(evv *v, event x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        event *p = realloc(v->e, cap * sizeof *p);
        if (!p)
            return false;
        v->e = p;
        v->cap = cap;
    }
    v->e[v->n++] = x;
    return true;
}

static bool is_cont(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

/* The ordinal (1..10) whose UTF-8 is the 3 bytes at s, else 0.  All ten
 * ordinals are E4 xx xx or E5 xx xx, which are always valid sequences. */
static int ordinal3(const unsigned char *s)
{
    if ((s[0] != 0xE4 && s[0] != 0xE5) || !is_cont(s[1]) || !is_cont(s[2]))
        return 0;
    return ordinal(((UChar32)(s[0] & 0x0F) << 12) |
                   ((UChar32)(s[1] & 0x3F) << 6) | (s[2] & 0x3F));
}

/* The character that ends right before byte y (y > p, y at a character
 * start), as the code-point view of the paragraph starting at p sees it,
 * when it is Han: its start and code point.  The nearest lead byte at most 4
 * bytes back starts that character when its sequence is valid and ends
 * exactly at y; anything else before y is an invalid unit (U+FFFD in the
 * code-point view), which is not Han. */
static bool prev_han(const unsigned char *t, size_t p, size_t y, size_t *start,
                     UChar32 *cp)
{
    if (y - p >= 3 && t[y - 3] >= 0xE4 && t[y - 3] <= 0xE9 &&
        is_cont(t[y - 2]) && is_cont(t[y - 1])) {
        /* fast path: a three-byte character (E4..E9 leads are always valid
         * with two continuation bytes), the usual case */
        UChar32 c = ((UChar32)(t[y - 3] & 0x0F) << 12) |
                    ((UChar32)(t[y - 2] & 0x3F) << 6) | (t[y - 1] & 0x3F);
        if (!is_han(c))
            return false;
        *start = y - 3;
        *cp = c;
        return true;
    }
    size_t lo = y - p > 4 ? y - 4 : p; /* a character has at most 4 bytes */
    size_t l = y - 1;
    while (l > lo && is_cont(t[l]))
        l--;
    int32_t k = 0, lim = (int32_t)(y - l);
    UChar32 c;
    U8_NEXT(t + l, k, lim, c);
    if (c < 0 || k != lim || !is_han(c))
        return false;
    *start = l;
    *cp = c;
    return true;
}

/* The character at byte y (a character start, y < e) when it is Han: its
 * code point and end, decoded as the code-point view does. */
static bool next_han(const unsigned char *t, size_t y, size_t e, size_t *end,
                     UChar32 *cp)
{
    UChar32 c;
    if (e - y >= 3 && t[y] >= 0xE4 && t[y] <= 0xE9 && is_cont(t[y + 1]) &&
        is_cont(t[y + 2])) { /* fast path, as in prev_han */
        c = ((UChar32)(t[y] & 0x0F) << 12) | ((UChar32)(t[y + 1] & 0x3F) << 6) |
            (t[y + 2] & 0x3F);
        if (!is_han(c))
            return false;
        *end = y + 3;
        *cp = c;
        return true;
    }
    int32_t k = 0, lim = e - y > 8 ? 8 : (int32_t)(e - y);
    U8_NEXT(t + y, k, lim, c);
    if (c < 0 || !is_han(c))
        return false;
    *end = y + (size_t)k;
    *cp = c;
    return true;
}

/* Byte offset of the first sentence end (。 ! ? ; ！ ？ ；) in [a, e), or e:
 * item_end_index on bytes. */
static size_t sentence_end(const unsigned char *t, size_t a, size_t e)
{
    for (size_t y = a; y < e; y++) {
        unsigned char b = t[y];
        if (b == '!' || b == '?' || b == ';')
            return y;
        if (b == 0xE3 && y + 2 < e && t[y + 1] == 0x80 && t[y + 2] == 0x82)
            return y;
        if (b == 0xEF && y + 2 < e && t[y + 1] == 0xBC &&
            (t[y + 2] == 0x81 || t[y + 2] == 0x9F || t[y + 2] == 0x9B))
            return y;
    }
    return e;
}

/* Looks at byte z of the paragraph [p, e) as the second byte of 是 (E6 98
 * AF), 第 (E7 AC AC), 、 (E3 80 81) or ， (EF BC 8C), or as ','. */
static bool event_at(const unsigned char *t, size_t p, size_t e, size_t z,
                     evv *ev)
{
    unsigned char b = t[z];
    if (b == ',')
        return evv_push(ev, (event){z, z + 1, EV_SEP, 2});
    if (z <= p || z + 1 >= e)
        return true;
    unsigned char lead = t[z - 1], nb = t[z + 1];
    if (b == 0x98 && nb == 0xAF && lead == 0xE6)
        return evv_push(ev, (event){z - 1, z + 2, EV_SHI, 0});
    if (b == 0xAC && nb == 0xAC && lead == 0xE7)
        return evv_push(ev, (event){z - 1, z + 2, EV_DI, 0});
    if (b == 0x80 && nb == 0x81 && lead == 0xE3)
        return evv_push(ev, (event){z - 1, z + 2, EV_SEP, 1});
    if (b == 0xBC && nb == 0x8C && lead == 0xEF)
        return evv_push(ev, (event){z - 1, z + 2, EV_SEP, 2});
    return true;
}

/* All events of the paragraph [p, e), in byte order.  With SSE2, 16
 * positions at a time are tested for the (second, third) byte pairs above
 * and ','; a pair of bytes is rare enough that most blocks are skipped. */
static bool para_events(const unsigned char *t, size_t p, size_t e, evv *ev)
{
    ev->n = 0;
    size_t y = p;
#if defined(__SSE2__)
    const __m128i c98 = _mm_set1_epi8((char)0x98), cAF = _mm_set1_epi8((char)0xAF),
                  cAC = _mm_set1_epi8((char)0xAC), c80 = _mm_set1_epi8((char)0x80),
                  c81 = _mm_set1_epi8((char)0x81), cBC = _mm_set1_epi8((char)0xBC),
                  c8C = _mm_set1_epi8((char)0x8C), cCo = _mm_set1_epi8(',');
    while (y + 17 <= e) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(t + y));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(t + y + 1));
        __m128i m = _mm_or_si128(
            _mm_or_si128(
                _mm_and_si128(_mm_cmpeq_epi8(a, c98), _mm_cmpeq_epi8(b, cAF)),
                _mm_and_si128(_mm_cmpeq_epi8(a, cAC), _mm_cmpeq_epi8(b, cAC))),
            _mm_or_si128(
                _mm_or_si128(
                    _mm_and_si128(_mm_cmpeq_epi8(a, c80),
                                  _mm_cmpeq_epi8(b, c81)),
                    _mm_and_si128(_mm_cmpeq_epi8(a, cBC),
                                  _mm_cmpeq_epi8(b, c8C))),
                _mm_cmpeq_epi8(a, cCo)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        while (mask) {
            unsigned i = (unsigned)__builtin_ctz(mask);
            mask &= mask - 1;
            if (!event_at(t, p, e, y + i, ev))
                return false;
        }
        y += 16;
    }
#endif
    for (; y < e; y++)
        if (!event_at(t, p, e, y, ev))
            return false;
    return true;
}

/* ------------------------------------------------------ parallel series -- */

/* Kind of the separator that ends right before byte q (q > p, q at a
 * character start): 1 for 、, 2 for ， and ',' (one kind: NFKC turns ，
 * into ','), 0 if that character is no separator. */
static int sep_before(const unsigned char *t, size_t p, size_t q)
{
    if (t[q - 1] == ',')
        return 2;
    if (q - p >= 3 && t[q - 3] == 0xE3 && t[q - 2] == 0x80 && t[q - 1] == 0x81)
        return 1;
    if (q - p >= 3 && t[q - 3] == 0xEF && t[q - 2] == 0xBC && t[q - 1] == 0x8C)
        return 2;
    return 0;
}

/* The number of characters between two neighbouring separators when the
 * gap is an item: 1..MAX_ITEM characters, all Han; else 0.  Characters are
 * 1..4 bytes, so a longer gap is ruled out undecoded.  The gap ends at a
 * separator, a lead byte, so it decodes as in the code-point view. */
static size_t item_gap(const unsigned char *t, const event *a, const event *b)
{
    if (b->pos <= a->end || b->pos - a->end > 4 * MAX_ITEM)
        return 0;
    size_t y = a->end, n = 0;
    while (y < b->pos) {
        if (++n > MAX_ITEM)
            return 0;
        int32_t k = 0, lim = (int32_t)(b->pos - y);
        UChar32 c;
        U8_NEXT(t + y, k, lim, c);
        if (c < 0 || !is_han(c))
            return 0;
        y += (size_t)k;
    }
    return n;
}

/* One item of a series: bytes [a, b) of L characters.  The first item may
 * be cut from the end of a longer Han run, the last from the start of one. */
enum { CUT_NONE = 0, CUT_FIRST, CUT_LAST };
typedef struct pitem {
    size_t a, b;
    int cut;
} pitem;

/* The L code points of an item (L <= MAX_ITEM; items are Han, valid UTF-8). */
static void item_decode(const char *text, const pitem *it, size_t L,
                        UChar32 *cp)
{
    int32_t k = 0, lim = (int32_t)(it->b - it->a);
    for (size_t q = 0; q < L && k < lim; q++)
        U8_NEXT((const uint8_t *)text + it->a, k, lim, cp[q]);
}

/* Reports, left to right, each longest run (≥ 3) of consecutive items that
 * share the character at some position.  A cut last item needs a shared
 * character after its first: in 培养一批、选拔一批、储备一批年轻干部 the shared
 * 一批 marks where the item ends; in 不躲、不拖、不等待 the shared 不 says
 * nothing about where 不等待 ends.  A cut first item is taken at any shared
 * position (做到马上办、网上办、就近办 shares only the last 办), so
 * 发展哲学、经济学、政治学 still yields 展哲学: telling those apart needs word
 * boundaries, which this byte scanner does not have. */
static void parallel_report(const char *text, const pitem *it, size_t n_items,
                            size_t L, tifa_rhetoric_fn fn, void *user)
{
    size_t i = 0;
    UChar32 base[MAX_ITEM], other[MAX_ITEM];
    while (i + 2 < n_items) {
        item_decode(text, &it[i], L, base);
        size_t r = 1;
        for (size_t pos = 0; pos < L; pos++) {
            size_t rp = 1;
            while (i + rp < n_items &&
                   !(it[i + rp].cut == CUT_LAST && pos == 0)) {
                item_decode(text, &it[i + rp], L, other);
                if (other[pos] != base[pos])
                    break;
                rp++;
            }
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
            ok = ok && tifa_buf_append(&items, text + it[k].a,
                                       it[k].b - it[k].a) == TIFA_OK;
        }
        size_t a = it[i].a, b = it[i + r - 1].b;
        char *stretch = tifa_strndup(text + a, b - a);
        if (ok && stretch)
            fn(TIFA_PARALLEL, items.data, stretch, a, user);
        free(stretch);
        tifa_buf_free(&items);
        i += r;
    }
}

/* The separator kind of the character at t[q] (q < e), 0 when none. */
static int sep_at(const unsigned char *t, size_t q, size_t e)
{
    if (t[q] == ',')
        return 2;
    if (e - q >= 3 && t[q] == 0xE3 && t[q + 1] == 0x80 && t[q + 2] == 0x81)
        return 1;
    if (e - q >= 3 && t[q] == 0xEF && t[q + 1] == 0xBC && t[q + 2] == 0x8C)
        return 2;
    return 0;
}

/* Parallel series of the paragraph [p, e), from its separators (the EV_SEP
 * events of ev; seps has room for their indices).  This is the definition
 * of docs/statistics.md worked on bytes, decoding only the gaps between
 * neighbouring separators of one kind and the few characters before the
 * first and after the last separator of a chain:
 *   a chain starts at separator j and takes the following separators of
 *   the same kind while each gap is an item of the same length L;
 *   the first item is the last L Han characters before separator j, unless
 *   there are fewer, or the Han run there (≤ MAX_ITEM characters) follows a
 *   separator of the same kind and has another length (a complete item);
 *   the last item is the first L Han characters after the last separator,
 *   unless there are fewer, or that Han run (≤ MAX_ITEM characters) ends
 *   at a separator of the same kind and has another length;
 *   the next chain starts at the last separator of this one. */
static bool parallel_para(const char *text, size_t p, size_t e, const evv *ev,
                          size_t *seps, tifa_rhetoric_fn fn, void *user)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t ns = 0;
    for (size_t k = 0; k < ev->n; k++)
        if (ev->e[k].type == EV_SEP)
            seps[ns++] = k;
    if (ns < 2)
        return true;
    enum { SMALL = 64 };
    pitem small[SMALL + 2], *it = small;
    size_t j = 0;
    bool ok = true;
    while (ok && j + 1 < ns) {
        const event *sj = &ev->e[seps[j]];
        size_t L = 0, b = j;
        while (b + 1 < ns && ev->e[seps[b + 1]].kind == sj->kind) {
            size_t len = item_gap(t, &ev->e[seps[b]], &ev->e[seps[b + 1]]);
            if (!len || (L && len != L))
                break;
            L = len;
            b++;
        }
        if (b == j) {
            j++;
            continue;
        }
        if (b - j + 2 > SMALL + 2 && it == small) {
            it = malloc((ns + 2) * sizeof *it);
            if (!it) {
                ok = false;
                break;
            }
        }
        size_t n_items = 0;
        /* first item: walk back over up to MAX_ITEM + 1 Han characters */
        size_t back[MAX_ITEM + 2];
        size_t r = 0, q = sj->pos;
        while (q > p && r <= MAX_ITEM) {
            size_t st;
            UChar32 c;
            if (!prev_han(t, p, q, &st, &c))
                break;
            back[r] = st;
            q = st;
            r++;
        }
        bool whole_item =
            r <= MAX_ITEM && q > p && sep_before(t, p, q) == sj->kind;
        if (r >= L && !(whole_item && r != L))
            it[n_items++] =
                (pitem){back[L - 1], sj->pos, r > L ? CUT_FIRST : CUT_NONE};
        /* items between separators (item_gap has checked they are Han) */
        for (size_t k = j; k < b; k++)
            it[n_items++] =
                (pitem){ev->e[seps[k]].end, ev->e[seps[k + 1]].pos, CUT_NONE};
        /* last item: the first L Han characters after separator b */
        size_t y = ev->e[seps[b]].end, iend = y;
        r = 0;
        while (y < e && r <= MAX_ITEM) {
            size_t en;
            UChar32 c;
            if (!next_han(t, y, e, &en, &c))
                break;
            if (r + 1 == L)
                iend = en;
            y = en;
            r++;
        }
        bool whole_last =
            r <= MAX_ITEM && y < e && sep_at(t, y, e) == sj->kind;
        if (r >= L && !(whole_last && r != L))
            it[n_items++] =
                (pitem){ev->e[seps[b]].end, iend, r > L ? CUT_LAST : CUT_NONE};
        parallel_report(text, it, n_items, L, fn, user);
        j = b;
    }
    if (it != small)
        free(it);
    return ok;
}

void tifa_rhetoric_scan(const char *text, size_t len, tifa_rhetoric_fn fn,
                        void *user)
{
    if (!text || !fn)
        return;
    const unsigned char *t = (const unsigned char *)text;
    evv ev = {0};
    size_t *seps = NULL, seps_cap = 0;
    mvec shi = {0}, di = {0}, dun = {0};
    size_t p = 0;
    bool ok = true;
    while (ok && p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - text) : len;
        /* X、 at the start of the paragraph, after white space */
        size_t f = p;
        while (f < e) {
            int32_t k = 0, lim = e - f > 8 ? 8 : (int32_t)(e - f);
            UChar32 c;
            U8_NEXT(t + f, k, lim, c);
            if (c < 0 || !is_white(c))
                break;
            f += (size_t)k;
        }
        if (f + 6 <= e && ordinal3(t + f) && t[f + 3] == 0xE3 &&
            t[f + 4] == 0x80 && t[f + 5] == 0x81)
            ok = mvec_push(&dun, (marker){f, f + 6, sentence_end(t, f + 6, e),
                                          ordinal3(t + f)});
        ok = ok && para_events(t, p, e, &ev);
        shi.n = 0;
        for (size_t k = 0; ok && k < ev.n; k++) {
            size_t x = ev.e[k].pos;
            if (ev.e[k].type == EV_SHI) {
                /* X是: the ordinal right before 是, and no Han character
                 * before the ordinal (so 统一是 is no marker) */
                int o = x - p >= 3 ? ordinal3(t + x - 3) : 0;
                size_t hs;
                UChar32 hc;
                if (o && (x - 3 == p || !prev_han(t, p, x - 3, &hs, &hc)))
                    ok = mvec_push(&shi, (marker){x - 3, x + 3,
                                                  sentence_end(t, x + 3, e),
                                                  o});
            } else if (ev.e[k].type == EV_DI && x + 6 < e) {
                /* 第X followed by ， , 、 : or ： */
                int o = ordinal3(t + x + 3);
                size_t item = 0;
                unsigned char c = t[x + 6];
                if (c == ',' || c == ':')
                    item = x + 7;
                else if (x + 9 <= e &&
                         ((c == 0xEF && t[x + 7] == 0xBC &&
                           (t[x + 8] == 0x8C || t[x + 8] == 0x9A)) ||
                          (c == 0xE3 && t[x + 7] == 0x80 && t[x + 8] == 0x81)))
                    item = x + 9;
                if (o && item)
                    ok = mvec_push(&di, (marker){x, item,
                                                 sentence_end(t, item, e), o});
            }
        }
        if (ok)
            enum_report(text, &shi, fn, user);
        if (ok && ev.n > seps_cap) {
            size_t *q = realloc(seps, ev.n * sizeof *q);
            if (!q)
                ok = false;
            else {
                seps = q;
                seps_cap = ev.n;
            }
        }
        if (ok)
            ok = parallel_para(text, p, e, &ev, seps, fn, user);
        p = e + 1;
    }
    if (ok) {
        enum_report(text, &di, fn, user);
        enum_report(text, &dun, fn, user);
    }
    free(ev.e);
    free(seps);
    free(shi.m);
    free(di.m);
    free(dun.m);
}
