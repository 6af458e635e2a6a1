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
        /* Extend until a boundary-before character that is COPY or MAP. */
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
