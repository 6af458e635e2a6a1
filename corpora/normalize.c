/*
 * normalize.c — loader stage 5: NFKC always, Traditional -> Simplified on
 * request (SPEC §3 "Normalisation").
 *
 * Calling ICU for every character would make normalisation the loader's
 * bottleneck, so a tifa_normalizer classifies each BMP code point once,
 * the first time it meets it, from ICU's own NFKC data (a 64 Ki table):
 * COPY (starts a normalisation segment and has no decomposition:
 * unchanged, e.g. every CJK ideograph, ASCII, 。、“”), MAP (starts a
 * segment and decomposes to one BMP code point that is itself COPY, e.g.
 * fullwidth ，：（Ａ１ and U+3000, stored in a map), and SLOW (anything
 * else).  Text is scanned once; COPY and MAP characters are handled inline,
 * and only maximal stretches that involve a SLOW character or a character
 * without a boundary before it (a combining mark, which drags the previous
 * character into the stretch) go through unorm2_normalize.  Because ICU
 * guarantees that text can be normalised independently on either side of a
 * boundary-before character, the result is exactly ICU's NFKC.
 *
 * Hant-Hans uses ICU's transliterator on UTF-16, one paragraph at a time,
 * only for paragraphs that contain non-ASCII text.
 *
 * Record texts (JSONL, CSV) are most of the loader's work, so for them
 * tifa_normalizer_clean_i does in one pass what took three: NFKC, the
 * paragraph cleaning of tifa_paragraphs_i and the Han and sentence counts
 * of tifa_text_counts_i (through the same automaton, tifa_sent_feed_i).
 * Runs of CJK ideographs, which NFKC keeps and the counts treat alike, are
 * stepped over six characters at a time (tifa_skip_cjk_i).  The result is
 * the same text and the same counts as the separate steps (a test checks
 * thousands of random texts); a text with a combining mark, or with
 * Hant-Hans on, takes the separate steps.
 */
#include "corpora_internal.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>

enum { CLS_COPY = 0, CLS_MAP = 1, CLS_SLOW = 2, CLS_NOBB = 3, CLS_UNKNOWN = 0xFF };

struct tifa_normalizer {
    const UNormalizer2 *nfkc; /* ICU singleton, not freed */
    UTransliterator *trans;   /* Hant-Hans or NULL */
    unsigned char *cls;       /* 0x10000 classes */
    uint16_t *map;            /* 0x10000 single-code-point mappings */
    UChar *u16;               /* scratch */
    int32_t u16_cap;
    UChar *u16b;
    int32_t u16b_cap;
    tifa_buf tmp;
    tifa_buf tmp2;               /* clean_i: a SLOW stretch's NFKC */
    tifa_buf tmp3;               /* clean_i: the whole text's NFKC */
    unsigned char sb_ascii[128]; /* Sentence_Break classes of ASCII */
    bool sb_ready;               /* (filled on the first clean_i call) */
};

static unsigned char classify(const UNormalizer2 *nfkc, UChar32 c,
                              uint16_t *mapped)
{
    UErrorCode err = U_ZERO_ERROR;
    if (!unorm2_hasBoundaryBefore(nfkc, c)) return CLS_NOBB;
    UChar dec[8];
    int32_t len = unorm2_getDecomposition(nfkc, c, dec, 8, &err);
    if (U_FAILURE(err) || len < 0) return CLS_COPY;
    if (len == 1 && !U16_IS_SURROGATE(dec[0]) &&
        unorm2_hasBoundaryBefore(nfkc, dec[0])) {
        UChar d2[8];
        UErrorCode e2 = U_ZERO_ERROR;
        int32_t l2 = unorm2_getDecomposition(nfkc, dec[0], d2, 8, &e2);
        if (U_SUCCESS(e2) && l2 < 0) {
            *mapped = dec[0];
            return CLS_MAP;
        }
    }
    return CLS_SLOW;
}

tifa_normalizer *tifa_normalizer_new_i(bool simplified, tifa_status *status)
{
    tifa_normalizer *nz = calloc(1, sizeof *nz);
    if (!nz) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    UErrorCode err = U_ZERO_ERROR;
    nz->nfkc = unorm2_getNFKCInstance(&err);
    if (U_FAILURE(err)) {
        free(nz);
        *status = TIFA_EINTERNAL;
        return NULL;
    }
    nz->cls = malloc(0x10000);
    nz->map = malloc(0x10000 * sizeof *nz->map);
    if (!nz->cls || !nz->map) {
        tifa_normalizer_free_i(nz);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    /* Classes are computed on first sight (CLS_UNKNOWN until then), so a
     * normalizer is cheap to make and only the characters a corpus uses
     * cost an ICU call, once. */
    memset(nz->cls, CLS_UNKNOWN, 0x10000);
    memset(nz->cls, CLS_COPY, 0x80);
    if (simplified) {
        UChar id[16];
        u_uastrcpy(id, "Hant-Hans");
        nz->trans = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &err);
        if (U_FAILURE(err)) {
            tifa_normalizer_free_i(nz);
            *status = TIFA_EINTERNAL;
            return NULL;
        }
    }
    *status = TIFA_OK;
    return nz;
}

void tifa_normalizer_free_i(tifa_normalizer *nz)
{
    if (!nz) return;
    if (nz->trans) utrans_close(nz->trans);
    free(nz->cls);
    free(nz->map);
    free(nz->u16);
    free(nz->u16b);
    tifa_buf_free(&nz->tmp);
    tifa_buf_free(&nz->tmp2);
    tifa_buf_free(&nz->tmp3);
    free(nz);
}

static tifa_status grow_u16(UChar **p, int32_t *cap, int32_t need)
{
    if (need <= *cap) return TIFA_OK;
    int32_t c = *cap ? *cap : 1024;
    while (c < need) {
        if (c > INT32_MAX / 2) return TIFA_ELIMIT;
        c *= 2;
    }
    UChar *q = realloc(*p, (size_t)c * sizeof *q);
    if (!q) return TIFA_ENOMEM;
    *p = q;
    *cap = c;
    return TIFA_OK;
}

/* UTF-8 (valid) -> UTF-16 in nz->u16. */
static tifa_status to_u16(tifa_normalizer *nz, const char *s, size_t n,
                          int32_t *len)
{
    if (n > (size_t)INT32_MAX / 2) return TIFA_ELIMIT;
    tifa_status st = grow_u16(&nz->u16, &nz->u16_cap, (int32_t)n + 1);
    if (st != TIFA_OK) return st;
    UErrorCode err = U_ZERO_ERROR;
    u_strFromUTF8WithSub(nz->u16, nz->u16_cap, len, s, (int32_t)n, 0xFFFD,
                         NULL, &err);
    return U_SUCCESS(err) ? TIFA_OK : TIFA_EINTERNAL;
}

static tifa_status from_u16(const UChar *u, int32_t len, tifa_buf *out)
{
    size_t need = (size_t)len * 3 + 1;
    tifa_status st = tifa_buf_reserve(out, need);
    if (st != TIFA_OK) return st;
    int32_t wrote = 0;
    UErrorCode err = U_ZERO_ERROR;
    u_strToUTF8WithSub(out->data + out->len, (int32_t)(out->cap - out->len),
                       &wrote, u, len, 0xFFFD, NULL, &err);
    if (U_FAILURE(err)) return TIFA_EINTERNAL;
    out->len += (size_t)wrote;
    out->data[out->len] = '\0';
    return TIFA_OK;
}

/* ICU NFKC of one stretch. */
static tifa_status slow_nfkc(tifa_normalizer *nz, const char *s, size_t n,
                             tifa_buf *out)
{
    int32_t len = 0;
    tifa_status st = to_u16(nz, s, n, &len);
    if (st != TIFA_OK) return st;
    UErrorCode err = U_ZERO_ERROR;
    int32_t need = len * 18 + 16;
    st = grow_u16(&nz->u16b, &nz->u16b_cap, need);
    if (st != TIFA_OK) return st;
    int32_t olen = unorm2_normalize(nz->nfkc, nz->u16, len, nz->u16b,
                                    nz->u16b_cap, &err);
    if (U_FAILURE(err)) return TIFA_EINTERNAL;
    return from_u16(nz->u16b, olen, out);
}

static inline unsigned char class_of(tifa_normalizer *nz, uint32_t c,
                              uint16_t *mapped)
{
    if (c < 0x10000) {
        if (nz->cls[c] == CLS_UNKNOWN) {
            uint16_t m = 0;
            nz->cls[c] = (c >= 0xD800 && c <= 0xDFFF)
                             ? CLS_SLOW
                             : classify(nz->nfkc, (UChar32)c, &m);
            nz->map[c] = m;
        }
        *mapped = nz->map[c];
        return nz->cls[c];
    }
    /* Supplementary: ask ICU (rare outside CJK Ext. B and emoji). */
    uint16_t m = 0;
    unsigned char k = classify(nz->nfkc, (UChar32)c, &m);
    return k == CLS_MAP ? CLS_SLOW : k;
}

/* End of the stretch that ICU must normalise when a SLOW character (or
 * one without a boundary before it) ends at i: up to the next COPY or MAP
 * character that is not followed by one without a boundary before it. */
static size_t stretch_end(tifa_normalizer *nz, const unsigned char *s,
                          size_t n, size_t i)
{
    size_t end = i;
    while (end < n) {
        size_t j = end;
        uint32_t d = s[j] < 0x80 ? s[j] : 0;
        if (s[j] < 0x80) j++;
        else d = tifa_utf8_next_i(s, n, &j);
        uint16_t m2;
        unsigned char k2 = d < 0x80 ? CLS_COPY : class_of(nz, d, &m2);
        if (k2 == CLS_COPY || k2 == CLS_MAP) {
            /* Stop here unless the next character lacks a boundary. */
            size_t j2 = j;
            if (j2 < n) {
                uint32_t e = tifa_utf8_next_i(s, n, &j2);
                uint16_t m3;
                if (e >= 0x80 && class_of(nz, e, &m3) == CLS_NOBB) {
                    end = j2;
                    continue;
                }
            }
            break;
        }
        end = j;
    }
    return end;
}

static tifa_status nfkc(tifa_normalizer *nz, const char *text, size_t n,
                        tifa_buf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    tifa_status st = tifa_buf_reserve(out, n + 1);
    if (st != TIFA_OK) return st;
    size_t i = 0;
    size_t copy_from = 0;          /* start of the pending COPY run */
    size_t prev_start = 0;         /* start of the last character */
    bool prev_in_run = false;      /* was it part of the COPY run? */
    size_t prev_out = 0;           /* out->len before a MAP character */
    bool prev_mapped = false;
    while (i < n) {
        /* ASCII bulk. */
        if (s[i] < 0x80) {
            size_t j = i + 1;
            while (j < n && s[j] < 0x80) j++;
            prev_start = j - 1;
            prev_in_run = true;
            prev_mapped = false;
            i = j;
            continue;
        }
        size_t start = i;
        /* U+4000..U+9FFF (lead bytes E4..E9: CJK ideographs and the Yijing
         * symbols) never change under NFKC and start a segment. */
        if (s[i] >= 0xE4 && s[i] <= 0xE9 && i + 2 < n) {
            i += 3;
            prev_start = start;
            prev_in_run = true;
            prev_mapped = false;
            continue;
        }
        uint32_t c = tifa_utf8_next_i(s, n, &i);
        uint16_t m;
        unsigned char k = class_of(nz, c, &m);
        if (k == CLS_COPY) {
            prev_start = start;
            prev_in_run = true;
            prev_mapped = false;
            continue;
        }
        /* Flush the COPY run up to this character. */
        if (k == CLS_MAP) {
            st = tifa_buf_append(out, text + copy_from, start - copy_from);
            if (st != TIFA_OK) return st;
            prev_out = out->len;
            st = tifa_buf_put_cp_i(out, m);
            if (st != TIFA_OK) return st;
            copy_from = i;
            prev_start = start;
            prev_in_run = false;
            prev_mapped = true;
            continue;
        }
        /* SLOW, or no boundary before: find the stretch. */
        size_t sfrom = start;
        if (k == CLS_NOBB && start > 0) {
            if (prev_mapped && !prev_in_run) {
                out->len = prev_out; /* un-emit the mapped character */
                sfrom = prev_start;
            } else if (prev_in_run && prev_start >= copy_from) {
                sfrom = prev_start;
            }
        }
        if (sfrom > copy_from) {
            st = tifa_buf_append(out, text + copy_from, sfrom - copy_from);
            if (st != TIFA_OK) return st;
        }
        size_t end = stretch_end(nz, s, n, i);
        st = slow_nfkc(nz, text + sfrom, end - sfrom, out);
        if (st != TIFA_OK) return st;
        i = end;
        copy_from = end;
        prev_in_run = false;
        prev_mapped = false;
        prev_start = end;
    }
    return tifa_buf_append(out, text + copy_from, n - copy_from);
}

static tifa_status hant_hans(tifa_normalizer *nz, const char *s, size_t n,
                             tifa_buf *out)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n;
        bool ascii = true;
        for (size_t k = i; k < end; k++)
            if ((unsigned char)s[k] >= 0x80) {
                ascii = false;
                break;
            }
        tifa_status st;
        if (ascii) {
            st = tifa_buf_append(out, s + i, end - i);
        } else {
            int32_t len = 0;
            st = to_u16(nz, s + i, end - i, &len);
            if (st == TIFA_OK)
                st = grow_u16(&nz->u16, &nz->u16_cap, len * 2 + 16);
            if (st == TIFA_OK) {
                int32_t limit = len;
                UErrorCode err = U_ZERO_ERROR;
                utrans_transUChars(nz->trans, nz->u16, &len, nz->u16_cap, 0,
                                   &limit, &err);
                if (err == U_BUFFER_OVERFLOW_ERROR) {
                    /* Grow and redo from the original text. */
                    int32_t need = len + 16;
                    st = to_u16(nz, s + i, end - i, &len);
                    if (st == TIFA_OK)
                        st = grow_u16(&nz->u16, &nz->u16_cap, need);
                    limit = len;
                    err = U_ZERO_ERROR;
                    if (st == TIFA_OK)
                        utrans_transUChars(nz->trans, nz->u16, &len,
                                           nz->u16_cap, 0, &limit, &err);
                }
                if (st == TIFA_OK && U_FAILURE(err)) st = TIFA_EINTERNAL;
                if (st == TIFA_OK) st = from_u16(nz->u16, len, out);
            }
        }
        if (st == TIFA_OK && nl) st = tifa_buf_putc(out, '\n');
        if (st != TIFA_OK) return st;
        i = end + (nl ? 1 : 0);
    }
    return TIFA_OK;
}

tifa_status tifa_normalizer_run_i(tifa_normalizer *nz, const char *utf8,
                                  size_t n, tifa_buf *out)
{
    if (!nz->trans) return nfkc(nz, utf8, n, out);
    tifa_buf_clear(&nz->tmp);
    tifa_status st = nfkc(nz, utf8, n, &nz->tmp);
    if (st != TIFA_OK) return st;
    st = hant_hans(nz, nz->tmp.data ? nz->tmp.data : "", nz->tmp.len, out);
    return st;
}

/* tifa_buf_append / tifa_buf_put_cp_i without the call when the room is
 * there (clean_i reserves the input's length up front; the NUL terminator
 * is written at the end of each line). */
static inline tifa_status put_bytes(tifa_buf *b, const char *p, size_t k)
{
    if (b->len + k + 1 > b->cap) return tifa_buf_append(b, p, k);
    memcpy(b->data + b->len, p, k);
    b->len += k;
    return TIFA_OK;
}

static inline tifa_status put_cp(tifa_buf *b, uint32_t c)
{
    if (c >= 0x800 || b->len + 3 > b->cap) return tifa_buf_put_cp_i(b, c);
    if (c < 0x80) {
        b->data[b->len++] = (char)c;
    } else {
        b->data[b->len++] = (char)(0xC0 | (c >> 6));
        b->data[b->len++] = (char)(0x80 | (c & 0x3F));
    }
    return TIFA_OK;
}

/* ASCII white space that tifa_trim_i removes (after NFKC, U+3000 and
 * U+00A0 have become ' ', so this is all the trimming there is). */
static inline bool ascii_ws(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* State of the fused cleaner over one line (tifa_normalizer_clean_i). */
typedef struct line_state {
    tifa_normalizer *nz;
    tifa_segmenter *seg;
    tifa_buf *out;
    tifa_sent_fsm *f;
    size_t han;
    bool content; /* a non-blank character is out */
    int pend;     /* blanks since the last content: 0 none, 1 all Sp,
                     2 one of another class (CR: ICU decides) */
    bool ok;      /* the automaton still counts this paragraph */
} line_state;

/* One character c of the normalised line, in order.  Written to out unless
 * it is still part of the raw text copied in bulk (in_bulk).  Blanks are
 * fed lazily: leading ones never (*drop asks the caller to leave a bulk one
 * out), inner ones as one Sp step before the next character (the
 * automaton's state after several Sp equals the state after one), trailing
 * ones never (trimmed at the end of the line), so the automaton sees
 * exactly the trimmed paragraph. */
static inline tifa_status take(line_state *L, uint32_t c, bool in_bulk,
                               bool *drop)
{
    *drop = false;
    if (ascii_ws(c)) {
        if (!L->content) {
            *drop = true;
            return TIFA_OK;
        }
        if (L->pend != 2) L->pend = L->nz->sb_ascii[c] == TIFA_SB_SP ? 1 : 2;
    } else {
        if (L->pend)
            L->ok = L->ok && L->pend == 1 &&
                    tifa_sent_feed_i(L->f, TIFA_SB_SP, ' ');
        L->pend = 0;
        L->content = true;
        if (L->ok)
            L->ok = tifa_sent_feed_i(L->f,
                                     c < 0x80 ? L->nz->sb_ascii[c]
                                              : tifa_sb_class_i(L->seg, c),
                                     c);
    }
    return in_bulk ? TIFA_OK : put_cp(L->out, c);
}

/* The fused cleaner: one line of the raw text, s[*pos .. first LF or n),
 * normalised and trimmed onto out (whose line starts at line_out).  COPY
 * characters stay in the raw text and are copied in bulk; MAP characters
 * are written; a SLOW stretch goes through ICU and its result is taken
 * character by character.  Sets *slow (and stops) for a character without
 * a boundary before it (it may change the character before, which the
 * automaton has seen) or a stretch holding a line end. */
static tifa_status clean_line(line_state *L, const unsigned char *s, size_t n,
                              size_t *pos, size_t line_out, bool *slow)
{
    tifa_normalizer *nz = L->nz;
    tifa_buf *out = L->out;
    const char *text = (const char *)s;
    size_t i = *pos, copy_from = i;
    tifa_status st = TIFA_OK;
    bool drop;
    while (i < n) {
        unsigned char b = s[i];
        if ((unsigned)(b - 0xE4) <= 0xE9 - 0xE4 && i + 2 < n) {
            /* A run of U+4000..U+9FFF: unchanged by NFKC (left in the
             * bulk), one "other" step for the automaton (the state after
             * one such character equals the state after several). */
            i = tifa_skip_cjk_i(s, i, n, &L->han);
            take(L, 0x4E00, true, &drop);
            continue;
        }
        size_t start = i;
        if (b < 0x80) {
            if (b == '\n') break;
            i++;
            take(L, b, true, &drop);
            if (drop) copy_from = i; /* nothing else is in the bulk yet */
            continue;
        }
        uint32_t c = tifa_utf8_next_i(s, n, &i);
        uint16_t m = 0;
        unsigned char k = class_of(nz, c, &m);
        if (k == CLS_COPY) {
            L->han += tifa_is_han_i(c);
            take(L, c, true, &drop);
            if (drop) copy_from = i;
            continue;
        }
        if (k == CLS_NOBB) {
            *slow = true;
            return TIFA_OK;
        }
        st = put_bytes(out, text + copy_from, start - copy_from);
        if (st != TIFA_OK) return st;
        if (k == CLS_MAP) {
            L->han += tifa_is_han_i(m);
            st = take(L, m, false, &drop);
        } else {
            /* SLOW: ICU normalises the stretch into nz->tmp2. */
            size_t end = stretch_end(nz, s, n, i);
            if (memchr(text + start, '\n', end - start)) {
                *slow = true;
                return TIFA_OK;
            }
            tifa_buf_clear(&nz->tmp2);
            st = slow_nfkc(nz, text + start, end - start, &nz->tmp2);
            const unsigned char *t = (const unsigned char *)nz->tmp2.data;
            size_t tn = nz->tmp2.len;
            for (size_t j = 0; st == TIFA_OK && j < tn;) {
                uint32_t d = tifa_utf8_next_i(t, tn, &j);
                L->han += tifa_is_han_i(d);
                st = take(L, d, false, &drop);
            }
            i = end;
        }
        if (st != TIFA_OK) return st;
        copy_from = i;
    }
    st = put_bytes(out, text + copy_from, i - copy_from);
    if (st != TIFA_OK) return st;
    /* Trailing blanks: all ASCII by now. */
    while (out->len > line_out &&
           ascii_ws((unsigned char)out->data[out->len - 1]))
        out->len--;
    out->data[out->len] = '\0';
    *pos = i;
    return TIFA_OK;
}

tifa_status tifa_normalizer_clean_i(tifa_normalizer *nz, tifa_segmenter *seg,
                                    const char *utf8, size_t n, tifa_buf *out,
                                    size_t *chars, size_t *sentences,
                                    bool *counted)
{
    *counted = false;
    size_t out0 = out->len;
    tifa_status st = TIFA_OK;
    bool slow = nz->trans || !seg;
    if (!slow) {
        if (!nz->sb_ready) {
            for (uint32_t c = 0; c < 128; c++)
                nz->sb_ascii[c] = tifa_sb_class_i(seg, c);
            nz->sb_ready = true;
        }
        st = tifa_buf_reserve(out, n + 1);
        const unsigned char *s = (const unsigned char *)utf8;
        size_t i = 0, total = 0;
        bool first = out->len == 0;
        line_state L = {nz, seg, out, NULL, 0, false, 0, true};
        bool pending = false; /* a paragraph waits for ICU's count */
        size_t pend_from = 0, pend_len = 0;
        while (st == TIFA_OK && i <= n) {
            size_t sep_at = out->len;
            if (!first) st = tifa_buf_putc(out, '\n');
            if (st != TIFA_OK) break;
            size_t line_out = out->len;
            tifa_sent_fsm f = {0};
            L.f = &f;
            L.content = false;
            L.pend = 0;
            L.ok = true;
            st = clean_line(&L, s, n, &i, line_out, &slow);
            if (st != TIFA_OK || slow) break;
            if (out->len == line_out) {
                out->len = sep_at; /* an empty line: no paragraph */
                out->data[out->len] = '\0';
            } else {
                first = false;
                if (pending) /* followed by '\n', as in the joined text */
                    total += tifa_count_sentences_icu_i(
                        seg, out->data + pend_from, pend_len + 1);
                long k = L.ok ? tifa_sent_end_i(&f) : -1;
                pending = k < 0;
                if (k >= 0) total += (size_t)k;
                pend_from = line_out;
                pend_len = out->len - line_out;
            }
            i++; /* past the LF (or n + 1 at the end) */
        }
        if (st != TIFA_OK) return st;
        if (!slow) {
            if (pending)
                total += tifa_count_sentences_icu_i(seg, out->data + pend_from,
                                                    pend_len);
            *chars = L.han;
            *sentences = total;
            *counted = true;
            return TIFA_OK;
        }
        out->len = out0;
        if (out->data) out->data[out->len] = '\0';
    }
    /* Hant-Hans, or characters that change their neighbours: normalise,
     * then clean (the counts are left to the caller). */
    tifa_buf_clear(&nz->tmp3);
    st = tifa_normalizer_run_i(nz, utf8, n, &nz->tmp3);
    if (st == TIFA_OK)
        st = tifa_paragraphs_i(nz->tmp3.data ? nz->tmp3.data : "",
                               nz->tmp3.len, out);
    return st;
}

tifa_status tifa_normalize(const char *utf8, size_t n, bool simplified,
                           char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    tifa_status st;
    tifa_normalizer *nz = tifa_normalizer_new_i(simplified, &st);
    if (!nz) return st;
    tifa_buf b = {0};
    st = tifa_normalizer_run_i(nz, utf8, n, &b);
    if (st == TIFA_OK && !b.data) st = tifa_buf_append(&b, "", 0);
    tifa_normalizer_free_i(nz);
    if (st != TIFA_OK) {
        tifa_buf_free(&b);
        return st;
    }
    *out = tifa_buf_detach(&b, out_len);
    return TIFA_OK;
}
