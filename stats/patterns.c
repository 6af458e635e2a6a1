/*
 * patterns.c — slogan family pattern files (SPEC §4, docs/statistics.md).
 *
 * Format, one item per line (UTF-8, optional BOM, LF or CRLF):
 *   # comment              ('#' as the first non-blank character)
 *   @scope quoted|text     scope of the families that follow (default quoted)
 *   NAME  REGEX            a family: NAME runs to the first space or tab, the
 *                          ICU regex is the rest of the line (trailing blanks
 *                          removed; inner blanks are part of the regex)
 * A line that starts with a blank but is not blank has an empty family name
 * and is an error, as are a name without a regex, a duplicate name (also
 * "other", which is the implicit last family), an unknown @-directive and an
 * invalid regex (reported with ICU's error name and the offset of the error
 * in the pattern).  Every error is sent to the diagnostics with file and line,
 * and a file with any error is rejected whole: nothing is half-loaded.
 *
 * Quoted-scope families classify a whole quoted span: the first family whose
 * regex finds a match in the span wins (the shipped regexes are anchored with
 * ^…$, so a match means the whole span), and a span no family matches is
 * "other".  Text-scope families are searched for in running text.
 *
 * Regexes are compiled once (uregex_openUText over the UTF-8 pattern; ICU 72
 * has no uregex_openUTF8) and matched on UTF-8 text through UText, with no
 * conversion to UTF-16.  A compiled regex carries match state, so a
 * tifa_patterns is not thread-safe: workers get their own copy with
 * tifa_patterns_clone (uregex_clone shares the compiled pattern).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uregex.h>
#include <unicode/utext.h>
#include <unicode/utypes.h>

#include "stats.h"
#include "stats_internal.h"

typedef struct family {
    char *name;
    URegularExpression *re;
    bool text_scope;
} family;

struct tifa_patterns {
    family *fam;
    size_t n, cap;
    UText *ut; /* reused UTF-8 UText for matching */
};

static const char OTHER[] = "other";

static tifa_status patterns_grow(tifa_patterns *p, size_t want)
{
    if (want <= p->cap)
        return TIFA_OK;
    size_t cap = p->cap ? p->cap * 2 : 8;
    while (cap < want)
        cap *= 2;
    family *f = realloc(p->fam, cap * sizeof *f);
    if (!f)
        return TIFA_ENOMEM;
    p->fam = f;
    p->cap = cap;
    return TIFA_OK;
}

static tifa_patterns *patterns_alloc(void)
{
    tifa_patterns *p = calloc(1, sizeof *p);
    return p;
}

void tifa_patterns_free(tifa_patterns *patterns)
{
    if (!patterns)
        return;
    for (size_t i = 0; i < patterns->n; i++) {
        free(patterns->fam[i].name);
        uregex_close(patterns->fam[i].re);
    }
    free(patterns->fam);
    if (patterns->ut)
        utext_close(patterns->ut);
    free(patterns);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parses one file into `into` (appending).  On any error nothing is added and
 * the first error's status is returned. */
static tifa_status patterns_parse(tifa_patterns *into, const char *path,
                                  tifa_diag *diag)
{
    char *data = NULL;
    size_t len = 0;
    tifa_status st = tifa_read_file(path, &data, &len);
    if (st != TIFA_OK) {
        tifa_diag_add(diag, TIFA_ERROR, st, path, 0, -1,
                      "cannot read pattern file: %s", tifa_status_message(st));
        return st;
    }
    size_t base = into->n;
    tifa_status first = TIFA_OK;
    bool text_scope = false;
    size_t pos = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    long lineno = 0;
    while (pos < len) {
        size_t line = pos, end = pos;
        while (end < len && data[end] != '\n')
            end++;
        lineno++;
        pos = end < len ? end + 1 : len;
        /* trim trailing blanks (and CR) and leading blanks */
        size_t e = end;
        while (e > line && is_blank(data[e - 1]))
            e--;
        size_t s = line;
        while (s < e && is_blank(data[s]))
            s++;
        if (s == e || data[s] == '#')
            continue;
        if (data[s] == '@') {
            size_t w = s;
            while (w < e && !is_blank(data[w]))
                w++;
            size_t a = w;
            while (a < e && is_blank(data[a]))
                a++;
            if (w - s == 6 && memcmp(data + s, "@scope", 6) == 0 &&
                ((e - a == 6 && memcmp(data + a, "quoted", 6) == 0) ||
                 (e - a == 4 && memcmp(data + a, "text", 4) == 0))) {
                text_scope = e - a == 4;
            } else {
                tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, path, lineno,
                              -1, "unknown directive '%.*s' (expected "
                              "'@scope quoted' or '@scope text')",
                              (int)(e - s), data + s);
                if (first == TIFA_OK)
                    first = TIFA_EPATTERN;
            }
            continue;
        }
        if (s != line) {
            /* A non-blank line that starts with a blank: empty name. */
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, path, lineno, -1,
                          "empty family name (the line starts with a blank)");
            if (first == TIFA_OK)
                first = TIFA_EPATTERN;
            continue;
        }
        size_t ls = s;
        size_t ne = ls;
        while (ne < e && !is_blank(data[ne]))
            ne++;
        size_t rs = ne;
        while (rs < e && is_blank(data[rs]))
            rs++;
        if (rs == e) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, path, lineno, -1,
                          "family '%.*s' has no regex", (int)(ne - ls),
                          data + ls);
            if (first == TIFA_OK)
                first = TIFA_EPATTERN;
            continue;
        }
        char *name = tifa_strndup(data + ls, ne - ls);
        if (!name) {
            first = TIFA_ENOMEM;
            break;
        }
        bool dup = strcmp(name, OTHER) == 0;
        for (size_t i = 0; i < into->n && !dup; i++)
            dup = strcmp(into->fam[i].name, name) == 0;
        if (dup) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, path, lineno, -1,
                          "duplicate family name '%s'%s", name,
                          strcmp(name, OTHER) == 0
                              ? " ('other' is reserved for spans no family "
                                "matches)"
                              : "");
            free(name);
            if (first == TIFA_OK)
                first = TIFA_EPATTERN;
            continue;
        }
        UParseError pe;
        memset(&pe, 0, sizeof pe);
        UErrorCode uerr = U_ZERO_ERROR;
        /* ICU 72 has no uregex_openUTF8: the UTF-8 pattern goes in as a
         * UText, which ICU reads without a separate conversion step. */
        URegularExpression *re = NULL;
        UText *pat = utext_openUTF8(NULL, data + rs, (int64_t)(e - rs), &uerr);
        if (U_SUCCESS(uerr))
            re = uregex_openUText(pat, 0, &pe, &uerr);
        utext_close(pat);
        if (U_FAILURE(uerr)) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, path, lineno, -1,
                          "invalid regex for family '%s': %s at offset %d "
                          "of '%.*s'",
                          name, u_errorName(uerr), (int)pe.offset,
                          (int)(e - rs), data + rs);
            if (re)
                uregex_close(re);
            free(name);
            if (first == TIFA_OK)
                first = TIFA_EPATTERN;
            continue;
        }
        if (patterns_grow(into, into->n + 1) != TIFA_OK) {
            uregex_close(re);
            free(name);
            first = TIFA_ENOMEM;
            break;
        }
        into->fam[into->n].name = name;
        into->fam[into->n].re = re;
        into->fam[into->n].text_scope = text_scope;
        into->n++;
    }
    free(data);
    if (first != TIFA_OK) {
        /* roll back everything this file added */
        for (size_t i = base; i < into->n; i++) {
            free(into->fam[i].name);
            uregex_close(into->fam[i].re);
        }
        into->n = base;
        tifa_diag_add(diag, TIFA_ERROR, first, path, 0, -1,
                      "pattern file rejected; no family of it was loaded");
    }
    return first;
}

tifa_patterns *tifa_patterns_load(const char *path, tifa_diag *diag,
                                  tifa_status *status)
{
    tifa_patterns *p = patterns_alloc();
    tifa_status st = p ? patterns_parse(p, path, diag) : TIFA_ENOMEM;
    if (st != TIFA_OK) {
        tifa_patterns_free(p);
        p = NULL;
    }
    if (status)
        *status = st;
    return p;
}

tifa_status tifa_patterns_append(tifa_patterns *patterns, const char *path,
                                 tifa_diag *diag)
{
    if (!patterns)
        return TIFA_EUSAGE;
    return patterns_parse(patterns, path, diag);
}

tifa_patterns *tifa_patterns_clone(const tifa_patterns *patterns,
                                   tifa_status *status)
{
    tifa_status st = TIFA_OK;
    tifa_patterns *p = patterns_alloc();
    if (!p || patterns_grow(p, patterns->n ? patterns->n : 1) != TIFA_OK) {
        st = TIFA_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < patterns->n; i++) {
        UErrorCode uerr = U_ZERO_ERROR;
        URegularExpression *re = uregex_clone(patterns->fam[i].re, &uerr);
        char *name = tifa_strdup(patterns->fam[i].name);
        if (U_FAILURE(uerr) || !name) {
            if (re)
                uregex_close(re);
            free(name);
            st = U_FAILURE(uerr) ? TIFA_EINTERNAL : TIFA_ENOMEM;
            goto fail;
        }
        p->fam[i].name = name;
        p->fam[i].re = re;
        p->fam[i].text_scope = patterns->fam[i].text_scope;
        p->n = i + 1;
    }
    if (status)
        *status = TIFA_OK;
    return p;
fail:
    tifa_patterns_free(p);
    if (status)
        *status = st;
    return NULL;
}

size_t tifa_patterns_count(const tifa_patterns *patterns)
{
    return patterns ? patterns->n : 0;
}

const char *tifa_patterns_name(const tifa_patterns *patterns, size_t i)
{
    if (!patterns)
        return NULL;
    if (i == patterns->n)
        return OTHER;
    return i < patterns->n ? patterns->fam[i].name : NULL;
}

bool tifa_patterns_text_scope(const tifa_patterns *patterns, size_t i)
{
    return patterns && i < patterns->n && patterns->fam[i].text_scope;
}

static UText *patterns_text(tifa_patterns *p, const char *s, size_t len)
{
    UErrorCode uerr = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(p->ut, s, (int64_t)len, &uerr);
    if (U_FAILURE(uerr))
        return NULL;
    p->ut = ut;
    return ut;
}

size_t tifa_patterns_classify_index(tifa_patterns *patterns, const char *span,
                                    size_t len)
{
    if (!patterns)
        return 0;
    UText *ut = patterns_text(patterns, span, len);
    if (!ut)
        return patterns->n;
    for (size_t i = 0; i < patterns->n; i++) {
        if (patterns->fam[i].text_scope)
            continue;
        UErrorCode uerr = U_ZERO_ERROR;
        uregex_setUText(patterns->fam[i].re, ut, &uerr);
        if (U_FAILURE(uerr))
            continue;
        UBool hit = uregex_find64(patterns->fam[i].re, 0, &uerr);
        if (U_SUCCESS(uerr) && hit)
            return i;
    }
    return patterns->n;
}

const char *tifa_patterns_classify(tifa_patterns *patterns, const char *span,
                                   size_t len)
{
    return tifa_patterns_name(patterns,
                              tifa_patterns_classify_index(patterns, span, len));
}

tifa_status tifa_patterns_scan_text(tifa_patterns *patterns, const char *text,
                                    size_t len, tifa_match_fn fn, void *user)
{
    if (!patterns)
        return TIFA_OK;
    UText *ut = NULL;
    for (size_t i = 0; i < patterns->n; i++) {
        if (!patterns->fam[i].text_scope)
            continue;
        if (!ut && !(ut = patterns_text(patterns, text, len)))
            return TIFA_EINTERNAL;
        URegularExpression *re = patterns->fam[i].re;
        UErrorCode uerr = U_ZERO_ERROR;
        uregex_setUText(re, ut, &uerr);
        if (U_FAILURE(uerr))
            return TIFA_EINTERNAL;
        while (uregex_findNext(re, &uerr) && U_SUCCESS(uerr)) {
            int64_t a = uregex_start64(re, 0, &uerr);
            int64_t b = uregex_end64(re, 0, &uerr);
            if (U_FAILURE(uerr))
                return TIFA_EINTERNAL;
            if (b <= a)
                continue; /* empty matches are not occurrences */
            fn(i, text + a, (size_t)(b - a), (size_t)a, user);
        }
        if (U_FAILURE(uerr))
            return TIFA_EINTERNAL;
    }
    return TIFA_OK;
}
