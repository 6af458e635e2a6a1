/*
 * quotes.c — quoted spans, SPEC §4: for each quote pair “ ”, 「 」, 『 』 and
 * ‘ ’ separately, the text between an opener and the nearest following closer
 * of the same pair within one paragraph (a line), trimmed of white space; a
 * span that contains another opener of its own pair is skipped; spans of
 * min_chars..max_chars characters (code points, default 1..12) are slogan
 * candidates.
 *
 * One left-to-right pass does it: per pair we remember the most recent opener
 * not yet closed.  A later opener of the same pair replaces it (the earlier
 * opener's nearest closer would enclose this opener, so its span is skipped),
 * a closer emits the span from the remembered opener and forgets it, and a
 * closer with no opener is ignored; a line break forgets everything.  Spans
 * are therefore reported in the order of their closers.  Pairs are
 * independent, so “他说‘零距离’” yields both ‘零距离’ and the outer span.
 */
#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "stats.h"
#include "stats_internal.h"

size_t tifa_stats_utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            chars++;
    return chars;
}

enum { NPAIRS = 4 };
static const UChar32 OPENERS[NPAIRS] = {0x201C, 0x300C, 0x300E, 0x2018};
static const UChar32 CLOSERS[NPAIRS] = {0x201D, 0x300D, 0x300F, 0x2019};

static void quotes_emit(const char *text, size_t a, size_t b,
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
    size_t chars = tifa_stats_utf8_chars(s + lo, (size_t)(hi - lo));
    if (chars == 0 || chars < o->min_chars || chars > o->max_chars)
        return;
    fn(s + lo, (size_t)(hi - lo), a + (size_t)lo, chars, user);
}

/* The character E2/E3 80 xx at byte i: an opener remembers where its span
 * starts, a closer of an open pair emits the span (other xx: nothing). */
static inline void quote_char(const char *text, size_t i,
                              const tifa_quote_options *o, bool *open,
                              size_t *open_at, tifa_quote_fn fn, void *user)
{
    const unsigned char *t = (const unsigned char *)text;
    UChar32 c = ((UChar32)(t[i] & 0x0F) << 12) | (t[i + 2] & 0x3F);
    for (int p = 0; p < NPAIRS; p++) {
        if (c == OPENERS[p]) {
            open[p] = true;
            open_at[p] = i + 3;
        } else if (c == CLOSERS[p] && open[p]) {
            open[p] = false;
            quotes_emit(text, open_at[p], i, o, fn, user);
        }
    }
}

void tifa_quotes_scan(const char *text, size_t len,
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
    size_t open_at[NPAIRS] = {0, 0, 0, 0};
    bool open[NPAIRS] = {false, false, false, false};
    const unsigned char *t = (const unsigned char *)text;
    /* Every quote character is E2 80 xx (“ ” ‘ ’, xx = 98 99 9C 9D) or
     * E3 80 xx (「 」 『 』, xx = 8C..8F) in UTF-8, so other bytes are skipped
     * without decoding.  With SSE2, 16 lead positions at a time are tested
     * for such a sequence or a line break (0A), and only those are looked
     * at; most blocks hold none (、 and 。 are E3 80 81/82: no candidates).
     * Candidates are handled in byte order, as the plain loop below does,
     * and a candidate's other two bytes can be neither a lead byte nor 0A,
     * so handling them one position at a time is the same. */
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i mFE = _mm_set1_epi8((char)0xFE), cE2 = _mm_set1_epi8((char)0xE2),
                  c80 = _mm_set1_epi8((char)0x80), cNL = _mm_set1_epi8('\n'),
                  mFC = _mm_set1_epi8((char)0xFC), c8C = _mm_set1_epi8((char)0x8C),
                  mFA = _mm_set1_epi8((char)0xFA), c98 = _mm_set1_epi8((char)0x98);
    for (; i + 18 <= len; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 1));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 2));
        /* third byte 8C..8F (mask FC) or 98 99 9C 9D (mask FA) */
        __m128i third = _mm_or_si128(
            _mm_cmpeq_epi8(_mm_and_si128(c, mFC), c8C),
            _mm_cmpeq_epi8(_mm_and_si128(c, mFA), c98));
        __m128i q = _mm_and_si128(
            _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(a, mFE), cE2),
                          _mm_cmpeq_epi8(b, c80)),
            third);
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(q, _mm_cmpeq_epi8(a, cNL)));
        while (mask) {
            size_t z = i + (size_t)__builtin_ctz(mask);
            mask &= mask - 1;
            if (t[z] == '\n')
                memset(open, 0, sizeof open);
            else
                quote_char(text, z, &o, open, open_at, fn, user);
        }
    }
#endif
    while (i < len) {
        unsigned char byte = t[i];
        if (byte == '\n') {
            memset(open, 0, sizeof open);
            i++;
            continue;
        }
        if ((byte != 0xE2 && byte != 0xE3) || i + 2 >= len || t[i + 1] != 0x80 ||
            (t[i + 2] & 0xC0) != 0x80) {
            i++;
            continue;
        }
        quote_char(text, i, &o, open, open_at, fn, user);
        i += 3;
    }
}
