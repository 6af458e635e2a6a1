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
 * The scanner works on UTF-8 bytes: one pass finds the few characters that
 * matter (是 第 、 ， , and line breaks) by their bytes, 64 positions at a
 * time, and the rest is decoded only around them (see "Why the scan works
 * on bytes" below and docs/statistics.md, "Performance").  The results are
 * those of the plain code-point loop over each paragraph, callback for
 * callback; test_text checks this against that loop
 * (tests/stats/scan_reference.h) on random texts.  tifa_rhetoric_scan
 * hands each instance's stretch over in place.  If memory runs out the rest of the text is not scanned
 * (the function has no error return; the engine checks allocation
 * elsewhere).
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

/* Reports every chain of consecutive ordinals 1, 2, ... (≥ 2 markers) in m.
 * items is the caller's scratch buffer. */
static bool enum_report(const char *text, const mvec *mv, tifa_buf *items,
                        tifa_rhetoric_fn fn, void *user)
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
            bool ok = true;
            tifa_buf_clear(items);
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
                    ok = ok && tifa_buf_puts(items, " | ") == TIFA_OK;
                ok = ok && tifa_buf_append(items, text + a, b - a) == TIFA_OK;
            }
            if (!ok)
                return false;
            fn(TIFA_ENUMERATION, items->data ? items->data : "",
               text_end - mv->m[i].start, mv->m[i].start, user);
        }
        i = j;
    }
    return true;
}

/* ----------------------------------------------------------------- scan -- */

/*
 * Why the scan works on bytes.  Decoding every paragraph into code points
 * and testing every character cost about 117 instructions per character (see
 * docs/statistics.md, "Performance"), yet only a few characters matter:
 * 是 and 第 (enumeration markers), the separators 、 ， and ',' (parallel
 * series), and line breaks (paragraphs; 一、 headings start one).  So one
 * pass over the whole text finds those by their UTF-8 bytes, and the rest
 * is decoded only around them.  This is exact, not a heuristic: a lead byte
 * (anything but 10xxxxxx) always starts a character when UTF-8 is decoded
 * from the start of a paragraph, ICU's U8_NEXT never swallows one, so a
 * valid sequence such as E6 98 AF found at a lead byte is the character 是
 * in the code-point view too, and vice versa.  None of these sequences
 * contains a line break byte, so finding them in the whole text finds the
 * same ones as finding them paragraph by paragraph.
 */

/* What the pass finds: separators (、 ， ',') in one list, line breaks and
 * the markers 是 and 第 in another, each in byte order. */
enum { MK_NL = 1, MK_SHI, MK_DI };

typedef struct sep {
    size_t pos;   /* byte offset of the character */
    uint8_t kind; /* 1 、, 2 ， and ',' (one kind: NFKC turns ， into ',') */
    uint8_t len;  /* bytes: 1 or 3 */
} sep;

typedef struct mark {
    size_t pos;
    uint8_t type; /* MK_* */
} mark;

static inline size_t sep_end(const sep *x)
{
    return x->pos + x->len;
}

typedef struct sepv {
    sep *e;
    size_t n, cap;
} sepv;

typedef struct markv {
    mark *e;
    size_t n, cap;
} markv;

/* Makes *e (an array of *cap entries of `size` bytes) hold at least want. */
static bool vec_fit(void **e, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < want)
        c *= 2;
    void *p = realloc(*e, c * size);
    if (!p)
        return false;
    *e = p;
    *cap = c;
    return true;
}

/* Makes room for `more` entries in both lists. */
static bool ev_reserve(sepv *sv, markv *mv, size_t more)
{
    return vec_fit((void **)&sv->e, &sv->cap, sv->n + more, sizeof *sv->e) &&
           vec_fit((void **)&mv->e, &mv->cap, mv->n + more, sizeof *mv->e);
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

/* Whether the 3 bytes at s are a character of U+4E00..U+9FFF (all Han):
 * E4 B8..BF xx or E5..E9 xx xx, with continuation bytes. */
static inline bool han3(const unsigned char *s)
{
    return ((s[0] >= 0xE5 && s[0] <= 0xE9) || (s[0] == 0xE4 && s[1] >= 0xB8)) &&
           is_cont(s[1]) && is_cont(s[2]);
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

/* Looks at byte z of the text [0, len) as '\n', ',' or the second byte of
 * 是 (E6 98 AF), 第 (E7 AC AC), 、 (E3 80 81) or ， (EF BC 8C); room for one
 * entry is reserved. */
static inline void event_at(const unsigned char *t, size_t len, size_t z,
                            sepv *sv, markv *mv)
{
    unsigned char b = t[z];
    if (b == ',') {
        sv->e[sv->n++] = (sep){z, 2, 1};
        return;
    }
    if (b == '\n') {
        mv->e[mv->n++] = (mark){z, MK_NL};
        return;
    }
    if (z == 0 || z + 1 >= len)
        return;
    unsigned char lead = t[z - 1], nb = t[z + 1];
    if (b == 0x98 && nb == 0xAF && lead == 0xE6)
        mv->e[mv->n++] = (mark){z - 1, MK_SHI};
    else if (b == 0xAC && nb == 0xAC && lead == 0xE7)
        mv->e[mv->n++] = (mark){z - 1, MK_DI};
    else if (b == 0x80 && nb == 0x81 && lead == 0xE3)
        sv->e[sv->n++] = (sep){z - 1, 1, 3};
    else if (b == 0xBC && nb == 0x8C && lead == 0xEF)
        sv->e[sv->n++] = (sep){z - 1, 2, 3};
}

/* All separators and marks of the text, in byte order.  With SSE2, 64
 * positions at a time are tested for ',', '\n' and the (second, third)
 * byte pairs of 是 第 、 ，; a hit whose byte before is the right lead byte is
 * one of them for sure (a pair of bytes is rare enough that most blocks
 * hold only real hits). */
static bool text_events(const unsigned char *t, size_t len, sepv *sv,
                        markv *mv)
{
    sv->n = mv->n = 0;
    size_t y = 0;
#if defined(__SSE2__)
    const __m128i c98 = _mm_set1_epi8((char)0x98), cAF = _mm_set1_epi8((char)0xAF),
                  cAC = _mm_set1_epi8((char)0xAC), c80 = _mm_set1_epi8((char)0x80),
                  c81 = _mm_set1_epi8((char)0x81), cBC = _mm_set1_epi8((char)0xBC),
                  c8C = _mm_set1_epi8((char)0x8C), cCo = _mm_set1_epi8(','),
                  cNL = _mm_set1_epi8('\n');
    for (; y + 65 <= len; y += 64) {
        if (!ev_reserve(sv, mv, 64))
            return false;
        uint64_t m = 0;
        for (unsigned q = 0; q < 4; q++) {
            const unsigned char *u = t + y + 16 * q;
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)u);
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(u + 1));
            __m128i h = _mm_or_si128(
                _mm_or_si128(
                    _mm_and_si128(_mm_cmpeq_epi8(a, c98), _mm_cmpeq_epi8(b, cAF)),
                    _mm_and_si128(_mm_cmpeq_epi8(a, cAC), _mm_cmpeq_epi8(b, cAC))),
                _mm_or_si128(
                    _mm_or_si128(
                        _mm_and_si128(_mm_cmpeq_epi8(a, c80),
                                      _mm_cmpeq_epi8(b, c81)),
                        _mm_and_si128(_mm_cmpeq_epi8(a, cBC),
                                      _mm_cmpeq_epi8(b, c8C))),
                    _mm_or_si128(_mm_cmpeq_epi8(a, cCo),
                                 _mm_cmpeq_epi8(a, cNL))));
            m |= (uint64_t)(unsigned)_mm_movemask_epi8(h) << (16 * q);
        }
        while (m) {
            size_t z = y + (size_t)__builtin_ctzll(m);
            m &= m - 1;
            event_at(t, len, z, sv, mv);
        }
    }
#endif
    for (; y < len; y++) {
        if (!ev_reserve(sv, mv, 1))
            return false;
        event_at(t, len, y, sv, mv);
    }
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

/* The number of characters between two neighbouring separators when the
 * gap is an item: 1..MAX_ITEM characters, all Han; else 0.  Their code
 * points go to cp (MAX_ITEM entries).  Characters are 1..4 bytes, so a
 * longer gap is ruled out undecoded.  The gap ends at a separator, a lead
 * byte, so it decodes as in the code-point view. */
static size_t item_gap(const unsigned char *t, const sep *a, const sep *b,
                       UChar32 *cp)
{
    size_t y = sep_end(a);
    if (b->pos <= y || b->pos - y > 4 * MAX_ITEM)
        return 0;
    size_t n = 0;
    while (y < b->pos) {
        if (n == MAX_ITEM)
            return 0;
        if (b->pos - y >= 3 && han3(t + y)) {
            cp[n++] = ((UChar32)(t[y] & 0x0F) << 12) |
                      ((UChar32)(t[y + 1] & 0x3F) << 6) | (t[y + 2] & 0x3F);
            y += 3;
            continue;
        }
        size_t en;
        if (!next_han(t, y, b->pos, &en, &cp[n]))
            return 0;
        n++;
        y = en;
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

/* Whether some run of 3 or more consecutive items (n of them, item i's L
 * code points at cp + i * MAX_ITEM) has the same code point at some
 * position: parallel_report can report nothing otherwise. */
static bool any_run(const UChar32 *cp, size_t n, size_t L)
{
    if (n < 3)
        return false;
    for (size_t pos = 0; pos < L; pos++) {
        size_t run = 1;
        for (size_t i = 1; i < n; i++) {
            if (cp[i * MAX_ITEM + pos] != cp[(i - 1) * MAX_ITEM + pos])
                run = 1;
            else if (++run >= 3)
                return true;
        }
    }
    return false;
}

/* Reports, left to right, each longest run (≥ 3) of consecutive items that
 * share the character at some position (item i's code points at cp + i *
 * MAX_ITEM).  A cut last item needs a shared character after its first: in
 * 培养一批、选拔一批、储备一批年轻干部 the shared 一批 marks where the item ends;
 * in 不躲、不拖、不等待 the shared 不 says nothing about where 不等待 ends.  A
 * cut first item is taken at any shared position (做到马上办、网上办、就近办
 * shares only the last 办), so 发展哲学、经济学、政治学 still yields 展哲学:
 * telling those apart needs word boundaries, which this byte scanner does
 * not have.  items is the caller's scratch buffer. */
static bool parallel_report(const char *text, const pitem *it,
                            const UChar32 *cp, size_t n_items, size_t L,
                            tifa_buf *items, tifa_rhetoric_fn fn,
                            void *user)
{
    size_t i = 0;
    while (i + 2 < n_items) {
        const UChar32 *base = cp + i * MAX_ITEM;
        size_t r = 1;
        for (size_t pos = 0; pos < L; pos++) {
            size_t rp = 1;
            while (i + rp < n_items &&
                   !(it[i + rp].cut == CUT_LAST && pos == 0) &&
                   cp[(i + rp) * MAX_ITEM + pos] == base[pos])
                rp++;
            if (rp > r)
                r = rp;
        }
        if (r < 3) {
            i++;
            continue;
        }
        bool ok = true;
        tifa_buf_clear(items);
        for (size_t k = i; k < i + r; k++) {
            if (k > i)
                ok = ok && tifa_buf_puts(items, " | ") == TIFA_OK;
            ok = ok && tifa_buf_append(items, text + it[k].a,
                                       it[k].b - it[k].a) == TIFA_OK;
        }
        if (!ok)
            return false;
        size_t a = it[i].a, b = it[i + r - 1].b;
        fn(TIFA_PARALLEL, items->data, b - a, a, user);
        i += r;
    }
    return true;
}

/* Scratch memory of one scan, kept across paragraphs. */
typedef struct scratch {
    pitem *it;    /* items of a chain */
    UChar32 *cp;  /* their code points, MAX_ITEM per item */
    size_t cap;   /* entries of it (cp: cap * MAX_ITEM) */
    tifa_buf items;
} scratch;

static bool scratch_fit(scratch *s, size_t n)
{
    if (n <= s->cap)
        return true;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n)
        cap *= 2;
    pitem *b = realloc(s->it, cap * sizeof *b);
    if (b)
        s->it = b;
    UChar32 *c = realloc(s->cp, cap * MAX_ITEM * sizeof *c);
    if (c)
        s->cp = c;
    if (!b || !c)
        return false;
    s->cap = cap;
    return true;
}

/* Parallel series of the paragraph [p, e), from its ns separators sp.  This is
 * the definition of docs/statistics.md worked on bytes, decoding only the
 * gaps between neighbouring separators of one kind and the few characters
 * before the first and after the last separator of a chain:
 *   a chain starts at separator j and takes the following separators of
 *   the same kind while each gap is an item of the same length L;
 *   the first item is the last L Han characters before separator j, unless
 *   there are fewer, or the Han run there (≤ MAX_ITEM characters) follows a
 *   separator of the same kind and has another length (a complete item);
 *   the last item is the first L Han characters after the last separator,
 *   unless there are fewer, or that Han run (≤ MAX_ITEM characters) ends
 *   at a separator of the same kind and has another length;
 *   the next chain starts at the last separator of this one.
 * Most chains share no character among three neighbouring items, so each
 * chain is first tested with its widest possible items (the L characters on
 * either side, whatever the runs around them): if no three neighbours share
 * a character there, nothing can be reported (the real items are the same
 * list or a shorter one, with the same characters), and the runs are not
 * measured at all. */
static bool parallel_para(const char *text, size_t p, size_t e,
                          const sep *sp, size_t ns, scratch *sc,
                          tifa_rhetoric_fn fn, void *user)
{
    const unsigned char *t = (const unsigned char *)text;
    enum { M = MAX_ITEM };
    /* the link that ended the previous chain starts the next one: its
     * result is kept */
    size_t kept = SIZE_MAX, kept_len = 0;
    UChar32 kept_cp[MAX_ITEM];
    size_t j = 0;
    while (j + 1 < ns) {
        const sep *sj = &sp[j];
        /* slot 0: the first item; slot k - j + 1: the gap after k; then
         * the last item */
        size_t L = 0, b = j;
        while (b + 1 < ns && sp[b + 1].kind == sj->kind) {
            if (!scratch_fit(sc, b - j + 3))
                return false;
            UChar32 *slot = sc->cp + (b - j + 1) * M;
            size_t len;
            if (b == kept) {
                len = kept_len;
                memcpy(slot, kept_cp, len * sizeof *slot);
            } else {
                len = item_gap(t, &sp[b], &sp[b + 1], slot);
            }
            if (!len || (L && len != L)) {
                kept = b;
                kept_len = len;
                memcpy(kept_cp, slot, len * sizeof *slot);
                break;
            }
            L = len;
            b++;
        }
        if (b == j) {
            j++;
            continue;
        }
        /* the widest items: L characters before j, the gaps, L after b */
        UChar32 *cp = sc->cp;
        size_t g = b - j, back[MAX_ITEM + 2];
        size_t r = 0, q = sj->pos;
        while (q > p && r < L) {
            UChar32 c;
            if (!prev_han(t, p, q, &back[r], &c))
                break;
            cp[L - 1 - r] = c;
            q = back[r];
            r++;
        }
        bool first = r == L;
        unsigned shared = ~0u; /* one gap: positions first and gap share */
        if (g == 1) {
            shared = 0;
            for (size_t pos = 0; first && pos < L; pos++)
                if (cp[pos] == cp[M + pos])
                    shared |= 1u << pos;
            if (!shared) { /* three items could not share a position */
                j = b;
                continue;
            }
        }
        UChar32 *lcp = cp + (g + 1) * M;
        size_t y = sep_end(&sp[b]), iend = y;
        r = 0;
        while (y < e && r < L) {
            if (!next_han(t, y, e, &iend, &lcp[r]))
                break;
            y = iend;
            r++;
        }
        bool last = r == L;
        if (g == 1) {
            bool any = false;
            for (size_t pos = 0; last && pos < L; pos++)
                any = any || ((shared >> pos & 1) && lcp[pos] == cp[M + pos]);
            if (!any) {
                j = b;
                continue;
            }
        } else if (!any_run(first ? cp : cp + M,
                            (first ? 1 : 0) + g + (last ? 1 : 0), L)) {
            j = b;
            continue;
        }
        /* the real items: measure the runs on either side */
        pitem *it = sc->it;
        size_t n_items = 0;
        UChar32 *icp = cp; /* code points of it[0] */
        r = 0;
        q = sj->pos;
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
        else
            icp += MAX_ITEM; /* the gaps start at slot 1 */
        for (size_t k = j; k < b; k++)
            it[n_items++] = (pitem){sep_end(&sp[k]), sp[k + 1].pos, CUT_NONE};
        y = sep_end(&sp[b]);
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
            it[n_items++] = (pitem){sep_end(&sp[b]), iend,
                                    r > L ? CUT_LAST : CUT_NONE};
        if (!parallel_report(text, it, icp, n_items, L, &sc->items, fn, user))
            return false;
        j = b;
    }
    return true;
}

/* --------------------------------------------------------------- driver -- */

tifa_status tifa_rhetoric_scan(const char *text, size_t len,
                               tifa_rhetoric_fn fn, void *user)
{
    if (!text || !fn)
        return TIFA_EUSAGE;
    const unsigned char *t = (const unsigned char *)text;
    sepv sv = {0};
    markv mv = {0};
    scratch sc = {0};
    mvec shi = {0}, di = {0}, dun = {0};
    bool ok = text_events(t, len, &sv, &mv);
    size_t p = 0, k = 0, ks = 0;
    while (ok && p < len) {
        /* the paragraph [p, e) holds marks k .. k1 - 1, separators ks ..
         * ks1 - 1 */
        size_t k1 = k;
        while (k1 < mv.n && mv.e[k1].type != MK_NL)
            k1++;
        size_t e = k1 < mv.n ? mv.e[k1].pos : len;
        size_t ks1 = ks;
        while (ks1 < sv.n && sv.e[ks1].pos < e)
            ks1++;
        /* X、 at the start of the paragraph, after white space */
        size_t f = p;
        while (f < e) {
            int32_t kk = 0, lim = e - f > 8 ? 8 : (int32_t)(e - f);
            UChar32 c;
            U8_NEXT(t + f, kk, lim, c);
            if (c < 0 || !is_white(c))
                break;
            f += (size_t)kk;
        }
        if (f + 6 <= e && ordinal3(t + f) && t[f + 3] == 0xE3 &&
            t[f + 4] == 0x80 && t[f + 5] == 0x81)
            ok = mvec_push(&dun, (marker){f, f + 6, sentence_end(t, f + 6, e),
                                          ordinal3(t + f)});
        shi.n = 0;
        for (size_t i = k; ok && i < k1; i++) {
            size_t x = mv.e[i].pos;
            if (mv.e[i].type == MK_SHI) {
                /* X是: the ordinal right before 是, and no Han character
                 * before the ordinal (so 统一是 is no marker) */
                int o = x - p >= 3 ? ordinal3(t + x - 3) : 0;
                size_t hs;
                UChar32 hc;
                if (o && (x - 3 == p || !prev_han(t, p, x - 3, &hs, &hc)))
                    ok = mvec_push(&shi, (marker){x - 3, x + 3,
                                                  sentence_end(t, x + 3, e),
                                                  o});
            } else if (mv.e[i].type == MK_DI && x + 6 < e) {
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
        if (ok && shi.n)
            ok = enum_report(text, &shi, &sc.items, fn, user);
        if (ok && ks1 - ks >= 2)
            ok = parallel_para(text, p, e, sv.e + ks, ks1 - ks, &sc, fn, user);
        p = e + 1;
        k = k1 + 1;
        ks = ks1;
    }
    if (ok)
        ok = enum_report(text, &di, &sc.items, fn, user);
    if (ok)
        ok = enum_report(text, &dun, &sc.items, fn, user);
    free(sv.e);
    free(mv.e);
    free(sc.it);
    free(sc.cp);
    tifa_buf_free(&sc.items);
    free(shi.m);
    free(di.m);
    free(dun.m);
    return ok ? TIFA_OK : TIFA_ENOMEM;
}
