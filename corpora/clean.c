/*
 * clean.c — loader stage 4: cleaning helpers shared by the formats.
 *
 * Boilerplate lists are data, not code (SPEC §3.1): every *.txt file in
 * DATADIR/boilerplate/ plus the user's own file (options.boilerplate) is
 * read, one entry per line:
 *     # comment                  ignored (as are blank lines)
 *     使用道具 举报                a whole (trimmed) line equal to this text
 *     re:^\d+\s*[#楼]$            a whole line matching this ICU regex
 * Exact lines go into a hash table; all regexes are joined into one
 * alternation and matched against the line as UTF-8 (UText), so a line
 * costs one hash look-up and one regex match.  Without a data directory a
 * small built-in list (the furniture SPEC §3.1 names) is used.
 *
 * Also here: trimming, paragraph joining and the date parser that turns the
 * dates researchers meet (2014-4-4 11:41:02, 2019年01月27日, 2019/4/25 9:32,
 * a bare year) into ISO 8601 as precise as the input.
 */
#define _POSIX_C_SOURCE 200809L
#include "corpora_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>
#include <unicode/utext.h>

struct tifa_boilerplate {
    tifa_strmap *exact;
    URegularExpression *re; /* NULL when there is no regex entry */
    UText *ut;
};

static const char *const builtin_boilerplate[] = {
    "[复制链接]", "复制链接", "回复", "使用道具 举报", "使用道具", "举报",
    "显示全部楼层", "阅读模式", "电梯直达", "楼主", "沙发", "板凳", "地板",
    "只看该作者", "倒序浏览", "收藏", "分享", "支持", "反对", "评分",
    "快速回复", "高级模式", "本版积分规则", "返回列表", "返回顶部",
    "您需要登录后才可以回帖 登录 | 立即注册",
    "re:^dsu_paulsign:.*$",
    "re:^本帖最后由\\s*.*\\s*于\\s*.*编辑$",
    "re:^查看:\\s*\\d+\\s*\\|\\s*回复:\\s*\\d+$",
    "re:^\\d+\\s*[#楼]$",
    "re:^返回顶部.*$",
    "re:^((收藏|支持|反对|分享|评分)\\s*\\d*\\s*)+$",
    NULL};

const char *tifa_trim_i(const char *s, size_t n, size_t *out_n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t a = 0, b = n;
    for (;;) {
        if (a < b && (p[a] == ' ' || p[a] == '\t' || p[a] == '\n' ||
                      p[a] == '\r' || p[a] == '\f' || p[a] == '\v'))
            a++;
        else if (a + 3 <= b && p[a] == 0xE3 && p[a + 1] == 0x80 &&
                 p[a + 2] == 0x80)
            a += 3;
        else if (a + 1 < b && p[a] == 0xC2 && p[a + 1] == 0xA0)
            a += 2;
        else
            break;
    }
    for (;;) {
        if (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\n' ||
                      p[b - 1] == '\r' || p[b - 1] == '\f' || p[b - 1] == '\v'))
            b--;
        else if (b >= a + 3 && p[b - 3] == 0xE3 && p[b - 2] == 0x80 &&
                 p[b - 1] == 0x80)
            b -= 3;
        else if (b >= a + 2 && p[b - 2] == 0xC2 && p[b - 1] == 0xA0)
            b -= 2;
        else
            break;
    }
    *out_n = b - a;
    return s + a;
}

tifa_status tifa_paragraphs_i(const char *text, size_t n, tifa_buf *out)
{
    size_t i = 0;
    bool first = out->len == 0;
    while (i < n) {
        const char *nl = memchr(text + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - text) : n;
        size_t tn;
        const char *t = tifa_trim_i(text + i, end - i, &tn);
        if (tn > 0) {
            if (!first) {
                tifa_status st = tifa_buf_putc(out, '\n');
                if (st != TIFA_OK) return st;
            }
            tifa_status st = tifa_buf_append(out, t, tn);
            if (st != TIFA_OK) return st;
            first = false;
        }
        i = end + 1;
    }
    if (!out->data) return tifa_buf_append(out, "", 0);
    return TIFA_OK;
}

URegularExpression *tifa_regex_open_i(const char *pattern, int32_t len,
                                      UParseError *pe, UErrorCode *err)
{
    if (len < 0) len = (int32_t)strlen(pattern);
    UChar stack[256];
    UChar *u = len < 256 ? stack : malloc(((size_t)len + 1) * sizeof *u);
    if (!u) {
        *err = U_MEMORY_ALLOCATION_ERROR;
        return NULL;
    }
    int32_t ulen = 0;
    u_strFromUTF8WithSub(u, len + 1, &ulen, pattern, len, 0xFFFD, NULL, err);
    URegularExpression *re = NULL;
    if (U_SUCCESS(*err)) re = uregex_open(u, ulen, 0, pe, err);
    if (u != stack) free(u);
    if (U_FAILURE(*err)) {
        if (re) uregex_close(re);
        return NULL;
    }
    return re;
}

/* ------------------------------------------------------------- lists ----- */

static tifa_status add_entry(tifa_boilerplate *bp, tifa_buf *regex,
                             const char *line, size_t n, const char *file,
                             long lineno, tifa_diag *diag)
{
    size_t tn;
    const char *t = tifa_trim_i(line, n, &tn);
    if (tn == 0 || t[0] == '#') return TIFA_OK;
    if (tn > 3 && memcmp(t, "re:", 3) == 0) {
        /* Validate alone first so a bad entry is reported with its line. */
        UErrorCode err = U_ZERO_ERROR;
        UParseError pe;
        URegularExpression *re =
            tifa_regex_open_i(t + 3, (int32_t)(tn - 3), &pe, &err);
        if (err == U_MEMORY_ALLOCATION_ERROR) return TIFA_ENOMEM;
        if (U_FAILURE(err)) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, file, lineno, -1,
                          "invalid boilerplate regex (%s, column %d); entry "
                          "ignored",
                          u_errorName(err), (int)pe.offset);
            return TIFA_OK;
        }
        uregex_close(re);
        tifa_status st = tifa_buf_puts(regex, regex->len ? "|(?:" : "(?:");
        if (st == TIFA_OK) st = tifa_buf_append(regex, t + 3, tn - 3);
        if (st == TIFA_OK) st = tifa_buf_putc(regex, ')');
        return st;
    }
    bool is_new;
    if (tifa_strmap_intern(bp->exact, t, tn, &is_new) == UINT32_MAX)
        return TIFA_ENOMEM;
    return TIFA_OK;
}

static tifa_status load_file(tifa_boilerplate *bp, tifa_buf *regex,
                             const char *path, tifa_diag *diag)
{
    char *data = NULL;
    size_t len = 0;
    tifa_status st = tifa_read_file(path, &data, &len);
    if (st != TIFA_OK) {
        tifa_diag_add(diag, TIFA_ERROR, st, path, 0, -1,
                      "cannot read boilerplate list");
        return st;
    }
    size_t i = 0;
    long lineno = 0;
    /* Skip a UTF-8 BOM. */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len && st == TIFA_OK) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len;
        lineno++;
        st = add_entry(bp, regex, data + i, end - i, path, lineno, diag);
        i = end + 1;
    }
    free(data);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

tifa_boilerplate *tifa_boilerplate_new_i(const char *datadir,
                                         const char *extra, tifa_diag *diag,
                                         tifa_status *status)
{
    tifa_boilerplate *bp = calloc(1, sizeof *bp);
    tifa_buf regex = {0};
    tifa_status st = TIFA_OK;
    if (!bp || !(bp->exact = tifa_strmap_new())) {
        free(bp);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    bool loaded = false;
    if (datadir) {
        tifa_buf dir = {0};
        st = tifa_buf_printf(&dir, "%s/boilerplate", datadir);
        DIR *d = st == TIFA_OK ? opendir(dir.data) : NULL;
        if (!d && st == TIFA_OK) {
            tifa_diag_add(diag, TIFA_WARNING, TIFA_ENOENT, dir.data, 0, -1,
                          "no boilerplate directory; using the built-in list");
        } else if (d) {
            /* A list that cannot be read is reported and skipped; running
             * out of memory stops (the lists would silently differ). */
            char **names = NULL;
            size_t count = 0, cap = 0;
            struct dirent *e;
            while (st == TIFA_OK && (e = readdir(d)) != NULL) {
                size_t l = strlen(e->d_name);
                if (e->d_name[0] == '.' || l < 5 ||
                    strcmp(e->d_name + l - 4, ".txt") != 0)
                    continue;
                if (count == cap) {
                    cap = cap ? cap * 2 : 8;
                    char **nn = realloc(names, cap * sizeof *nn);
                    if (!nn) {
                        st = TIFA_ENOMEM;
                        break;
                    }
                    names = nn;
                }
                if (!(names[count] = tifa_strdup(e->d_name))) st = TIFA_ENOMEM;
                else count++;
            }
            closedir(d);
            if (count) qsort(names, count, sizeof *names, cmp_str);
            for (size_t k = 0; k < count; k++) {
                tifa_buf p = {0};
                tifa_status fs = st;
                if (fs == TIFA_OK) fs = tifa_buf_printf(&p, "%s/%s", dir.data, names[k]);
                if (fs == TIFA_OK) fs = load_file(bp, &regex, p.data, diag);
                if (fs == TIFA_OK) loaded = true;
                else if (fs == TIFA_ENOMEM) st = fs;
                tifa_buf_free(&p);
                free(names[k]);
            }
            free(names);
        }
        tifa_buf_free(&dir);
        if (st != TIFA_OK) {
            tifa_buf_free(&regex);
            tifa_boilerplate_free_i(bp);
            *status = st;
            return NULL;
        }
    }
    if (!loaded) {
        for (size_t k = 0; builtin_boilerplate[k] && st == TIFA_OK; k++)
            st = add_entry(bp, &regex, builtin_boilerplate[k],
                           strlen(builtin_boilerplate[k]), "(built-in)",
                           (long)k + 1, diag);
    }
    if (extra && st == TIFA_OK) {
        st = load_file(bp, &regex, extra, diag);
        if (st != TIFA_OK) {
            tifa_buf_free(&regex);
            tifa_boilerplate_free_i(bp);
            *status = st;
            return NULL;
        }
    }
    if (st == TIFA_OK && regex.len) {
        UErrorCode err = U_ZERO_ERROR;
        UParseError pe;
        bp->re = tifa_regex_open_i(regex.data, (int32_t)regex.len, &pe, &err);
        if (err == U_MEMORY_ALLOCATION_ERROR) {
            bp->re = NULL;
            st = TIFA_ENOMEM;
        } else if (U_FAILURE(err)) {
            bp->re = NULL;
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, NULL, 0, -1,
                          "boilerplate regexes do not combine (%s)",
                          u_errorName(err));
        }
    }
    tifa_buf_free(&regex);
    if (st != TIFA_OK) {
        tifa_boilerplate_free_i(bp);
        *status = st;
        return NULL;
    }
    *status = TIFA_OK;
    return bp;
}

void tifa_boilerplate_free_i(tifa_boilerplate *bp)
{
    if (!bp) return;
    tifa_strmap_free(bp->exact);
    if (bp->re) uregex_close(bp->re);
    if (bp->ut) utext_close(bp->ut);
    free(bp);
}

bool tifa_boilerplate_match_i(tifa_boilerplate *bp, const char *line,
                              size_t n)
{
    size_t tn;
    const char *t = tifa_trim_i(line, n, &tn);
    if (tn == 0) return false;
    if (tifa_strmap_find(bp->exact, t, tn) != UINT32_MAX) return true;
    if (!bp->re) return false;
    UErrorCode err = U_ZERO_ERROR;
    bp->ut = utext_openUTF8(bp->ut, t, (int64_t)tn, &err);
    uregex_setUText(bp->re, bp->ut, &err);
    UBool m = U_SUCCESS(err) ? uregex_matches(bp->re, -1, &err) : 0;
    return U_SUCCESS(err) && m;
}

/* ------------------------------------------------------------- dates ----- */

static int digits(const unsigned char *s, size_t n, size_t *i, int max,
                  int *value)
{
    int k = 0, v = 0;
    while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    *value = v;
    return k;
}

/* Matches one of the given UTF-8 separators at s[*i]. */
static bool sep(const unsigned char *s, size_t n, size_t *i,
                const char *const *alts)
{
    for (size_t k = 0; alts[k]; k++) {
        size_t l = strlen(alts[k]);
        if (*i + l <= n && memcmp(s + *i, alts[k], l) == 0) {
            *i += l;
            return true;
        }
    }
    return false;
}

bool tifa_date_iso_i(const char *str, size_t n, char iso[TIFA_DATE_ISO_MAX])
{
    static const char *const ymd_sep[] = {"-", "/", ".", "年", NULL};
    static const char *const md_sep[] = {"-", "/", ".", "月", NULL};
    static const char *const d_end[] = {"日", "号", NULL};
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    int y, mo = 0, d = 0, h = -1, mi = 0, se = -1;
    if (digits(s, n, &i, 4, &y) != 4 || y < 1000 || y > 2999) return false;
    if (i < n && s[i] >= '0' && s[i] <= '9') return false; /* 5+ digits */
    size_t save = i;
    if (sep(s, n, &i, ymd_sep)) {
        if (digits(s, n, &i, 2, &mo) == 0 || mo < 1 || mo > 12) {
            mo = 0;
            i = save;
        } else {
            save = i;
            if (sep(s, n, &i, md_sep)) {
                if (digits(s, n, &i, 2, &d) == 0 || d < 1 || d > 31) {
                    d = 0;
                    i = save;
                } else {
                    sep(s, n, &i, d_end);
                }
            }
        }
    }
    if (d) {
        size_t j = i;
        while (j < n && (s[j] == ' ' || s[j] == 'T' || s[j] == '\t')) j++;
        int hh, mm;
        if (j > i || j == i) {
            size_t k = j;
            if (digits(s, n, &k, 2, &hh) > 0 && k < n && s[k] == ':' &&
                (k++, digits(s, n, &k, 2, &mm) == 2) && hh < 24 && mm < 60) {
                h = hh;
                mi = mm;
                int ss;
                if (k < n && s[k] == ':' && (k++, digits(s, n, &k, 2, &ss) == 2) &&
                    ss < 61)
                    se = ss;
            }
        }
    }
    if (!mo)
        snprintf(iso, TIFA_DATE_ISO_MAX, "%04d", y);
    else if (!d)
        snprintf(iso, TIFA_DATE_ISO_MAX, "%04d-%02d", y, mo);
    else if (h < 0)
        snprintf(iso, TIFA_DATE_ISO_MAX, "%04d-%02d-%02d", y, mo, d);
    else if (se < 0)
        snprintf(iso, TIFA_DATE_ISO_MAX, "%04d-%02d-%02dT%02d:%02d", y, mo, d, h, mi);
    else
        snprintf(iso, TIFA_DATE_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h,
                 mi, se);
    return true;
}
