/*
 * kwic.c — keyword in context (`tifa kwic`): for every match of a literal
 * string or an ICU regex in a document, one CSV row doc_id, left, match,
 * right, where left and right are up to `width` characters (code points) of
 * the document on either side (default 30).  Line breaks inside the context
 * are shown as one space so each concordance line reads as one line; the
 * match itself is written as found.  Matches do not overlap: a literal is
 * searched again from the end of the previous match, a regex with
 * uregex_findNext (empty regex matches are skipped).
 *
 * A tifa_kwic holds a compiled regex and is not thread-safe.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include <unicode/uregex.h>
#include <unicode/utext.h>

#include "stats.h"
#include "stats_internal.h"

struct tifa_kwic {
    char *literal;
    size_t literal_len;
    URegularExpression *re;
    UText *ut;
    size_t width;
    tifa_buf scratch;
};

tifa_kwic *tifa_kwic_new(const char *pattern, bool is_regex, size_t width,
                         tifa_diag *diag, tifa_status *status)
{
    tifa_status st = TIFA_OK;
    tifa_kwic *k = NULL;
    if (!pattern || !*pattern) {
        st = TIFA_EUSAGE;
        tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1,
                      "kwic: empty pattern");
        goto fail;
    }
    if (!(k = calloc(1, sizeof *k))) {
        st = TIFA_ENOMEM;
        goto fail;
    }
    k->width = width ? width : 30;
    if (is_regex) {
        UErrorCode uerr = U_ZERO_ERROR;
        UParseError pe;
        memset(&pe, 0, sizeof pe);
        UText *pat = utext_openUTF8(NULL, pattern, -1, &uerr);
        if (U_SUCCESS(uerr))
            k->re = uregex_openUText(pat, 0, &pe, &uerr);
        utext_close(pat);
        if (U_FAILURE(uerr)) {
            st = TIFA_EPATTERN;
            tifa_diag_add(diag, TIFA_ERROR, st, NULL, 0, -1,
                          "kwic: invalid regex '%s': %s at offset %d",
                          pattern, u_errorName(uerr), (int)pe.offset);
            goto fail;
        }
    } else {
        if (!(k->literal = tifa_strdup(pattern))) {
            st = TIFA_ENOMEM;
            goto fail;
        }
        k->literal_len = strlen(pattern);
    }
    if (status)
        *status = TIFA_OK;
    return k;
fail:
    tifa_kwic_free(k);
    if (status)
        *status = st;
    return NULL;
}

void tifa_kwic_free(tifa_kwic *k)
{
    if (!k)
        return;
    free(k->literal);
    if (k->re)
        uregex_close(k->re);
    if (k->ut)
        utext_close(k->ut);
    tifa_buf_free(&k->scratch);
    free(k);
}

/* Appends text[a, b) to the scratch buffer with '\n' (and '\r') shown as a
 * space, and writes it as a field. */
static void kwic_field(tifa_kwic *k, tifa_csv *out, const char *text,
                       size_t a, size_t b)
{
    tifa_buf_clear(&k->scratch);
    for (size_t i = a; i < b; i++) {
        char c = text[i];
        tifa_buf_putc(&k->scratch, c == '\n' || c == '\r' ? ' ' : c);
    }
    tifa_csv_strn(out, k->scratch.data ? k->scratch.data : "", k->scratch.len);
}

static void kwic_row(tifa_kwic *k, const tifa_doc *doc, tifa_csv *out,
                     size_t a, size_t b)
{
    const char *t = doc->text;
    size_t n = doc->text_len;
    size_t l = a, chars = 0;
    while (l > 0 && chars < k->width) {
        l--;
        while (l > 0 && ((unsigned char)t[l] & 0xC0) == 0x80)
            l--;
        chars++;
    }
    size_t r = b;
    chars = 0;
    while (r < n && chars < k->width) {
        r++;
        while (r < n && ((unsigned char)t[r] & 0xC0) == 0x80)
            r++;
        chars++;
    }
    tifa_csv_str(out, doc->doc_id);
    kwic_field(k, out, t, l, a);
    tifa_csv_strn(out, t + a, b - a);
    kwic_field(k, out, t, b, r);
    tifa_csv_row_end(out);
}

tifa_status tifa_kwic_doc(tifa_kwic *k, const tifa_doc *doc, tifa_csv *out)
{
    if (!k || !doc || !out)
        return TIFA_EUSAGE;
    if (!doc->text || !doc->text_len)
        return TIFA_OK;
    const char *t = doc->text;
    size_t n = doc->text_len;
    if (k->literal) {
        size_t i = 0;
        while (i + k->literal_len <= n) {
            const char *hit = memmem(t + i, n - i, k->literal, k->literal_len);
            if (!hit)
                break;
            size_t a = (size_t)(hit - t);
            kwic_row(k, doc, out, a, a + k->literal_len);
            i = a + k->literal_len;
        }
        return TIFA_OK;
    }
    UErrorCode uerr = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(k->ut, t, (int64_t)n, &uerr);
    if (U_FAILURE(uerr))
        return TIFA_EINTERNAL;
    k->ut = ut;
    uregex_setUText(k->re, ut, &uerr);
    while (U_SUCCESS(uerr) && uregex_findNext(k->re, &uerr)) {
        int64_t a = uregex_start64(k->re, 0, &uerr);
        int64_t b = uregex_end64(k->re, 0, &uerr);
        if (U_FAILURE(uerr))
            break;
        if (b > a)
            kwic_row(k, doc, out, (size_t)a, (size_t)b);
    }
    return U_FAILURE(uerr) ? TIFA_EINTERNAL : TIFA_OK;
}
