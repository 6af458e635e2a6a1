/*
 * segment.c — loader stage 6: what the statistics stage iterates over
 * (SPEC §2, §4): Han characters, maximal Han runs (for character n-grams),
 * sentences (ICU sentence break) and words (ICU word break, locale zh).
 *
 * Han membership (Script=Han, the same set as ICU's \p{Han} in ICU 72 /
 * Unicode 15) is a handful of range tests on the decoded code point instead
 * of a uscript_getScript call per character; a unit test checks the ranges
 * against ICU for every code point.  Sentences and words use ICU break
 * iterators over a UTF-16 copy of the text (ICU walks a UTF-16 array about
 * twice as fast as a UTF-8 UText, whose per-chunk set-up showed in profiles).
 * The loader's counts (tifa_text_counts_i) take a fast exact path that
 * asks ICU only for the rare paragraphs it cannot decide.
 */
#include "corpora_internal.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>

bool tifa_is_han_i(uint32_t c)
{
    if (c >= 0x4E00 && c <= 0x9FFF) return true;
    if (c < 0x2E80) return false;
    if (c < 0x3400) {
        return (c <= 0x2E99) || (c >= 0x2E9B && c <= 0x2EF3) ||
               (c >= 0x2F00 && c <= 0x2FD5) || c == 0x3005 || c == 0x3007 ||
               (c >= 0x3021 && c <= 0x3029) || (c >= 0x3038 && c <= 0x303B);
    }
    if (c <= 0x4DBF) return true;
    if (c >= 0xF900 && c <= 0xFAD9) return c <= 0xFA6D || c >= 0xFA70;
    if (c < 0x16FE2) return false;
    if (c <= 0x16FF1) return c <= 0x16FE3 || c >= 0x16FF0;
    if (c < 0x20000) return false;
    if (c <= 0x2A6DF) return true;
    if (c >= 0x2A700 && c <= 0x2B739) return true;
    if (c >= 0x2B740 && c <= 0x2B81D) return true;
    if (c >= 0x2B820 && c <= 0x2CEA1) return true;
    if (c >= 0x2CEB0 && c <= 0x2EBE0) return true;
    if (c >= 0x2F800 && c <= 0x2FA1D) return true;
    if (c >= 0x30000 && c <= 0x3134A) return true;
    if (c >= 0x31350 && c <= 0x323AF) return true;
    return false;
}

size_t tifa_count_han(const char *utf8, size_t n)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t count = 0, i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        /* U+4E00..U+9FFF is E4 B8 80 .. E9 BF BF. */
        if (b >= 0xE5 && b <= 0xE9 && i + 2 < n) {
            count++;
            i += 3;
            continue;
        }
        uint32_t c = tifa_utf8_next_i(s, n, &i);
        if (tifa_is_han_i(c)) count++;
    }
    return count;
}

void tifa_han_runs(const char *utf8, size_t n, tifa_run_fn fn, void *user)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t i = 0, run_start = 0, run_chars = 0;
    while (i < n) {
        size_t start = i;
        bool han;
        if (s[i] < 0x80) {
            i++;
            han = false;
        } else if (s[i] >= 0xE5 && s[i] <= 0xE9 && i + 2 < n) {
            i += 3;
            han = true;
        } else {
            han = tifa_is_han_i(tifa_utf8_next_i(s, n, &i));
        }
        if (han) {
            if (run_chars == 0) run_start = start;
            run_chars++;
        } else if (run_chars) {
            fn(utf8 + run_start, start - run_start, run_chars, user);
            run_chars = 0;
        }
    }
    if (run_chars) fn(utf8 + run_start, n - run_start, run_chars, user);
}

/* ------------------------------------------------------- break iterators - */

struct tifa_segmenter {
    UBreakIterator *sent;
    UBreakIterator *word;
    unsigned char *sb;  /* Sentence_Break class per BMP code point, lazily */
    UChar *u16;   /* the text in UTF-16: ICU iterates arrays much faster */
    int32_t cap;  /* than a UTF-8 UText */
};

tifa_segmenter *tifa_segmenter_new(tifa_status *status)
{
    tifa_segmenter *seg = calloc(1, sizeof *seg);
    if (!seg) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    UErrorCode err = U_ZERO_ERROR;
    seg->sb = malloc(0x10000);
    if (!seg->sb) {
        free(seg);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    memset(seg->sb, 0xFF, 0x10000);
    seg->sent = ubrk_open(UBRK_SENTENCE, "zh", NULL, 0, &err);
    if (U_SUCCESS(err)) seg->word = ubrk_open(UBRK_WORD, "zh", NULL, 0, &err);
    if (U_FAILURE(err)) {
        tifa_segmenter_free(seg);
        *status = TIFA_EINTERNAL;
        return NULL;
    }
    *status = TIFA_OK;
    return seg;
}

void tifa_segmenter_free(tifa_segmenter *seg)
{
    if (!seg) return;
    if (seg->sent) ubrk_close(seg->sent);
    if (seg->word) ubrk_close(seg->word);
    free(seg->u16);
    free(seg->sb);
    free(seg);
}

/* Converts to UTF-16 and attaches bi; *len receives the UTF-16 length.
 * TIFA_ENOMEM, TIFA_ELIMIT (a text of 1 GiB or more: ICU counts in int32)
 * or TIFA_EINTERNAL (ICU failed). */
static tifa_status attach(tifa_segmenter *seg, UBreakIterator *bi, const char *s,
                          size_t n, int32_t *len)
{
    if (n >= (size_t)INT32_MAX / 2) return TIFA_ELIMIT;
    if ((int32_t)n + 1 > seg->cap) {
        int32_t cap = (int32_t)n + 1;
        UChar *u = realloc(seg->u16, (size_t)cap * sizeof *u);
        if (!u) return TIFA_ENOMEM;
        seg->u16 = u;
        seg->cap = cap;
    }
    UErrorCode err = U_ZERO_ERROR;
    u_strFromUTF8WithSub(seg->u16, seg->cap, len, s, (int32_t)n, 0xFFFD, NULL,
                         &err);
    if (U_FAILURE(err)) return TIFA_EINTERNAL;
    ubrk_setText(bi, seg->u16, *len, &err);
    return U_SUCCESS(err) ? TIFA_OK : TIFA_EINTERNAL;
}

/* Advances a UTF-8 byte offset over UTF-16 units [from, to). */
static size_t bytes_of(const UChar *u, int32_t from, int32_t to)
{
    size_t b = 0;
    for (int32_t i = from; i < to; i++) {
        UChar c = u[i];
        if (c < 0x80) b += 1;
        else if (c < 0x800) b += 2;
        else if (U16_IS_LEAD(c) && i + 1 < to && U16_IS_TRAIL(u[i + 1])) {
            b += 4;
            i++;
        } else b += 3;
    }
    return b;
}

static bool blank(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' ||
            p[i] == '\f' || p[i] == '\v')
            continue;
        if (i + 2 < n && p[i] == 0xE3 && p[i + 1] == 0x80 && p[i + 2] == 0x80) {
            i += 2; /* U+3000 */
            continue;
        }
        return false;
    }
    return true;
}

tifa_status tifa_sentences(tifa_segmenter *seg, const char *utf8, size_t n,
                           tifa_span_fn fn, void *user)
{
    if (n == 0) return TIFA_OK;
    int32_t len;
    tifa_status st = attach(seg, seg->sent, utf8, n, &len);
    if (st != TIFA_OK) return st;
    int32_t prev = ubrk_first(seg->sent);
    size_t from = 0;
    for (int32_t b = ubrk_next(seg->sent); b != UBRK_DONE;
         b = ubrk_next(seg->sent)) {
        size_t to = from + bytes_of(seg->u16, prev, b);
        if (to > n) to = n;
        if (!blank(utf8 + from, to - from) && fn) fn(utf8 + from, to - from, user);
        prev = b;
        from = to;
    }
    return TIFA_OK;
}

typedef struct count_ctx {
    size_t n;
} count_ctx;

static void count_span(const char *start, size_t bytes, void *user)
{
    (void)start;
    (void)bytes;
    ((count_ctx *)user)->n++;
}

size_t tifa_count_sentences_icu_i(tifa_segmenter *seg, const char *utf8,
                                  size_t n)
{
    count_ctx c = {0};
    if (tifa_sentences(seg, utf8, n, count_span, &c) != TIFA_OK) return 0;
    return c.n;
}

/* Fast exact sentence counting.  ICU's sentence rules (UAX #29) break
 * after every paragraph separator, so a text's count is the sum of its
 * paragraphs' counts.  A paragraph made only of characters whose
 * Sentence_Break class is STerm, Close, Sp, SContinue or "anything else"
 * (OLetter, Upper, Lower, Numeric, Other), plus ATerm only as a decimal
 * point (ATerm x Numeric, SB6), follows a small automaton
 * (tifa_sent_feed_i in corpora_internal.h).  Any other paragraph (Extend,
 * Format, other separators, a full stop '.') goes to the ICU break
 * iterator.  A test compares both on the real corpora. */
static inline unsigned char sb_class(tifa_segmenter *seg, uint32_t c)
{
    if (c < 0x10000 && seg->sb[c] != 0xFF) return seg->sb[c];
    unsigned char k;
    switch (u_getIntPropertyValue((UChar32)c, UCHAR_SENTENCE_BREAK)) {
    case U_SB_STERM: k = TIFA_SB_STERM; break;
    case U_SB_CLOSE: k = TIFA_SB_CLOSE; break;
    case U_SB_SP: k = TIFA_SB_SP; break;
    case U_SB_SCONTINUE: k = TIFA_SB_SCONT; break;
    case U_SB_ATERM: k = TIFA_SB_ATERM; break;
    case U_SB_OLETTER:
    case U_SB_UPPER:
    case U_SB_LOWER:
    case U_SB_NUMERIC:
    case U_SB_OTHER: k = TIFA_SB_OTHER; break;
    default: k = TIFA_SB_HARD; break; /* Extend, Format, Sep, CR, LF */
    }
    if (c < 0x10000) seg->sb[c] = k;
    return k;
}

unsigned char tifa_sb_class_i(tifa_segmenter *seg, uint32_t c)
{
    return sb_class(seg, c);
}

/* Sentences in one paragraph (no LF inside); -1 when ICU must decide.
 * Counts the paragraph's Han characters into *han on the way (only
 * meaningful when the result is not -1). */
static long fast_paragraph(tifa_segmenter *seg, const char *p, size_t n,
                           size_t *han)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t h = 0;
    tifa_sent_fsm f = {0};
    size_t i = 0;
    while (i < n) {
        size_t j = tifa_skip_cjk_i(s, i, n, &h);
        if (j > i) { /* one "other" step for the whole run */
            i = j;
            if (!tifa_sent_feed_i(&f, TIFA_SB_OTHER, 0x4E00)) return -1;
            continue;
        }
        uint32_t c;
        if (s[i] < 0x80) {
            c = s[i++];
        } else {
            c = tifa_utf8_next_i(s, n, &i);
            h += tifa_is_han_i(c);
        }
        if (!tifa_sent_feed_i(&f, sb_class(seg, c), c)) return -1;
    }
    *han = h;
    return tifa_sent_end_i(&f);
}

void tifa_text_counts_i(tifa_segmenter *seg, const char *utf8, size_t n,
                        size_t *chars, size_t *sentences)
{
    size_t total = 0, han = 0, i = 0;
    while (i < n) {
        const char *nl = memchr(utf8 + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - utf8) : n;
        size_t h = 0;
        long k = fast_paragraph(seg, utf8 + i, end - i, &h);
        if (k < 0) {
            size_t stop = nl ? end + 1 : n;
            k = (long)tifa_count_sentences_icu_i(seg, utf8 + i, stop - i);
            h = tifa_count_han(utf8 + i, end - i);
        }
        total += (size_t)k;
        han += h;
        i = end + 1;
    }
    if (chars) *chars = han;
    if (sentences) *sentences = total;
}

size_t tifa_count_sentences(tifa_segmenter *seg, const char *utf8, size_t n)
{
    size_t sentences;
    tifa_text_counts_i(seg, utf8, n, NULL, &sentences);
    return sentences;
}

tifa_status tifa_words(tifa_segmenter *seg, const char *utf8, size_t n,
                       tifa_span_fn fn, void *user)
{
    if (n == 0) return TIFA_OK;
    int32_t len;
    tifa_status st = attach(seg, seg->word, utf8, n, &len);
    if (st != TIFA_OK) return st;
    int32_t prev = ubrk_first(seg->word);
    size_t from = 0;
    for (int32_t b = ubrk_next(seg->word); b != UBRK_DONE;
         b = ubrk_next(seg->word)) {
        size_t to = from + bytes_of(seg->u16, prev, b);
        if (to > n) to = n;
        int32_t status = ubrk_getRuleStatus(seg->word);
        if (status >= UBRK_WORD_NONE && status < UBRK_WORD_NONE_LIMIT)
            fn(NULL, 0, user);
        else
            fn(utf8 + from, to - from, user);
        prev = b;
        from = to;
    }
    return TIFA_OK;
}
