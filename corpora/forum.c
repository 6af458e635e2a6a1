/*
 * forum.c — loader stage 3 for Discuz!-style thread dumps (SPEC §3.1).
 *
 * Input is decoded, NFKC-normalised text that may hold many thread pages
 * back to back: a whole file, or (streaming) the slice of a file that the
 * loader cut at thread starts found by tifa_forum_scan_i.  A thread starts at a title line "[分类] 标题" that is
 * followed within a few lines by page furniture ("[复制链接]" or
 * "查看: N|回复: N"), or that stands at most one line above a post header
 * right after the previous page's footer (a page saved without furniture),
 * or that opens the file.  Inside a
 * thread, each post starts with a header line "[poster] 发表于 DATE ..."; the
 * first post is the commentary (a `post` document), later ones are replies
 * (`reply` documents, emitted only when asked for).  From the first post the
 * parser drops the title echo (its first line when that is the title or a
 * part of it), reads the original article's time line
 * ("时间:2014-04-03 10:06:28 字体: 【 大 中 小 】") into the field
 * article_time, and reads a closing byline "(作者系X)" into the author.
 * Every line that the boilerplate lists (clean.c) recognise is dropped, so
 * the furniture is data that users extend, not code.  A thread without a
 * first post is reported and skipped; the rest of the file is still read.
 */
#include "corpora_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct line {
    size_t a, b; /* trimmed span */
} line;

static const char HDR[] = "发表于";

static bool starts_with(const char *s, size_t n, const char *p)
{
    size_t l = strlen(p);
    return n >= l && memcmp(s, p, l) == 0;
}

static const char *find(const char *s, size_t n, const char *p)
{
    size_t l = strlen(p);
    if (l > n) return NULL;
    for (size_t i = 0; i + l <= n; i++)
        if (s[i] == p[0] && memcmp(s + i, p, l) == 0) return s + i;
    return NULL;
}

/* Is this a post header?  On success *date (new string) and the poster
 * span (possibly empty) are set. */
static bool post_header(const char *s, size_t n, char **date,
                        const char **poster, size_t *poster_n)
{
    const char *h = find(s, n, HDR);
    if (!h) return false;
    /* The poster name, if any, is short and on the same line. */
    size_t pre = (size_t)(h - s);
    if (pre > 48) return false;
    const char *d = h + strlen(HDR);
    size_t dn = n - (size_t)(d - s);
    while (dn > 0 && (*d == ' ' || *d == '\t')) d++, dn--;
    char iso[TIFA_DATE_ISO_MAX];
    if (!tifa_date_iso_i(d, dn, iso)) return false;
    /* Discuz! headers always carry a time: "2014-4-4 11:41:02". A poster
     * name is short and has no sentence punctuation. */
    if (strlen(iso) < 16 || find(s, pre, "，") || find(s, pre, "。") ||
        find(s, pre, ","))
        return false;
    if (date) *date = tifa_strdup(iso); /* NULL: out of memory */
    if (poster) *poster = tifa_trim_i(s, pre, poster_n);
    return true;
}

static bool furniture(const char *s, size_t n)
{
    if (starts_with(s, n, "[复制链接]")) return true;
    if (starts_with(s, n, "查看:") && find(s, n, "回复:")) return true;
    return false;
}

/* "[分类] 标题": category span and title span. */
static bool title_line(const char *s, size_t n, const char **cat,
                       size_t *cat_n, const char **title, size_t *title_n)
{
    if (n < 4 || s[0] != '[') return false;
    const char *close = memchr(s, ']', n);
    if (!close || close == s + 1 || close - s > 64) return false;
    if (memchr(s + 1, '\n', (size_t)(close - s - 1))) return false;
    *cat = s + 1;
    *cat_n = (size_t)(close - s - 1);
    *title = tifa_trim_i(close + 1, n - (size_t)(close + 1 - s), title_n);
    return *title_n > 0;
}

static void views_replies(const char *s, size_t n, long *views, long *replies)
{
    const char *v = find(s, n, "查看:");
    const char *r = find(s, n, "回复:");
    if (v) {
        const char *p = v + strlen("查看:");
        while (p < s + n && *p == ' ') p++;
        if (p < s + n && *p >= '0' && *p <= '9') *views = strtol(p, NULL, 10);
    }
    if (r) {
        const char *p = r + strlen("回复:");
        while (p < s + n && *p == ' ') p++;
        if (p < s + n && *p >= '0' && *p <= '9') *replies = strtol(p, NULL, 10);
    }
}

/* Compares two strings ignoring white space. */
static bool same_text(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && (a[i] == ' ' || a[i] == '\t')) i++;
        while (j < bn && (b[j] == ' ' || b[j] == '\t')) j++;
        if (i == an || j == bn) return i == an && j == bn;
        if (a[i] != b[j]) return false;
        i++, j++;
    }
}

/* Is the line the title echo: the title itself, or a part of it (a page
 * title often carries a prefix the article's own headline lacks)? */
static bool title_echo(const char *text, size_t n, const char *title,
                       size_t title_n)
{
    if (same_text(text, n, title, title_n)) return true;
    if (n < 6 || n > title_n) return false;
    char *a = malloc(n + 1), *b = malloc(title_n + 1);
    bool hit = false;
    if (a && b) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (text[i] != ' ' && text[i] != '\t') a[k++] = text[i];
        a[k] = '\0';
        k = 0;
        for (size_t i = 0; i < title_n; i++)
            if (title[i] != ' ' && title[i] != '\t') b[k++] = title[i];
        b[k] = '\0';
        hit = a[0] && strstr(b, a) != NULL;
    }
    free(a);
    free(b);
    return hit;
}

typedef struct thread_ctx {
    const tifa_forum_ctx *ctx;
    const char *text;
    const line *lines;
    size_t nthread;
    tifa_emit_fn emit;
    void *user;
} thread_ctx;

/* "path#tN" or "path#tN.rR"; NULL when memory runs out. */
static char *make_id(const char *path, size_t thread, long reply)
{
    tifa_buf b = {0};
    tifa_status st = reply < 0 ? tifa_buf_printf(&b, "%s#t%zu", path, thread)
                               : tifa_buf_printf(&b, "%s#t%zu.r%ld", path, thread, reply);
    if (st != TIFA_OK) {
        tifa_buf_free(&b);
        return NULL;
    }
    return tifa_buf_detach(&b, NULL);
}

/* "path:FROM-TO" (1-based lines); NULL when memory runs out. */
static char *make_source(const char *path, size_t from, size_t to)
{
    tifa_buf b = {0};
    if (tifa_buf_printf(&b, "%s:%zu-%zu", path, from + 1, to) != TIFA_OK) {
        tifa_buf_free(&b);
        return NULL;
    }
    return tifa_buf_detach(&b, NULL);
}

/* Emits one post (k = -1: the first post) from lines [from, to). */
static tifa_status emit_post(thread_ctx *tc, size_t from, size_t to,
                             size_t header, long reply, const char *title,
                             size_t title_n, const char *cat, size_t cat_n,
                             long views, long replies, char *date,
                             const char *poster, size_t poster_n)
{
    const tifa_forum_ctx *ctx = tc->ctx;
    const char *t = tc->text;
    tifa_buf body = {0};
    tifa_status st = TIFA_OK;
    char *article_time = NULL, *author = NULL;
    size_t kept = 0;
    /* Last non-boilerplate line: where a byline would be. */
    size_t last = to;
    for (size_t k = to; k > from; k--) {
        const line *L = &tc->lines[k - 1];
        if (L->b > L->a &&
            !tifa_boilerplate_match_i(ctx->bp, t + L->a, L->b - L->a)) {
            last = k - 1;
            break;
        }
    }
    for (size_t k = from; k < to && st == TIFA_OK; k++) {
        const line *L = &tc->lines[k];
        const char *s = t + L->a;
        size_t n = L->b - L->a;
        if (n == 0 || k > last) continue; /* after `last`: all boilerplate */
        if (k != last && tifa_boilerplate_match_i(ctx->bp, s, n)) continue;
        if (reply < 0 && kept == 0 && title && title_echo(s, n, title, title_n))
            continue; /* the title echo */
        if (reply < 0 && kept < 2 && !article_time &&
            (starts_with(s, n, "时间:") || starts_with(s, n, "发布时间:"))) {
            const char *c = memchr(s, ':', n);
            char iso[TIFA_DATE_ISO_MAX];
            if (tifa_date_iso_i(c + 1, n - (size_t)(c + 1 - s), iso)) {
                if (!(article_time = tifa_strdup(iso))) st = TIFA_ENOMEM;
                continue;
            }
        }
        if (k == last && reply < 0) {
            /* A closing byline "(作者系X)" / "(作者:X)". */
            const char *by = find(s, n, "(作者");
            if (by && s[n - 1] == ')') {
                const char *p = by + strlen("(作者");
                const char *e = s + n - 1;
                if (starts_with(p, (size_t)(e - p), "系")) p += strlen("系");
                else if (p < e && (*p == ':' || *p == ' ')) p++;
                size_t an;
                const char *a = tifa_trim_i(p, (size_t)(e - p), &an);
                if (an > 0 && an < 120 && !memchr(a, ')', an)) {
                    if (!(author = tifa_strndup(a, an))) {
                        st = TIFA_ENOMEM;
                        continue;
                    }
                    n = (size_t)(by - s);
                    s = tifa_trim_i(s, n, &n);
                    if (n == 0) continue;
                }
            }
        }
        if (kept++) st = tifa_buf_putc(&body, '\n');
        if (st == TIFA_OK) st = tifa_buf_append(&body, s, n);
    }
    if (st == TIFA_OK && body.len == 0) {
        if (reply < 0)
            tifa_diag_add(ctx->diag, TIFA_WARNING, TIFA_EEMPTY, ctx->path,
                          (long)(header + ctx->line_base) + 1, -1,
                          "forum thread %zu: the first post is empty after "
                          "cleaning; skipped", tc->nthread);
        goto done;
    }
    if (st != TIFA_OK) goto done;
    tifa_doc *doc = tifa_doc_alloc_i();
    if (!doc) {
        st = TIFA_ENOMEM;
        goto done;
    }
    doc->kind = reply < 0 ? TIFA_POST : TIFA_REPLY;
    doc->doc_id = make_id(ctx->path, tc->nthread, reply);
    doc->source = make_source(ctx->path, header + ctx->line_base,
                              to + ctx->line_base);
    doc->title = title ? tifa_strndup(title, title_n) : NULL;
    doc->category = cat ? tifa_strndup(cat, cat_n) : NULL;
    if ((title && !doc->title) || (cat && !doc->category))
        st = TIFA_ENOMEM;
    doc->date = date;
    date = NULL;
    doc->views = views;
    doc->replies = replies;
    if (author) {
        doc->author = author;
        author = NULL;
    } else if (poster_n > 0 && !(doc->author = tifa_strndup(poster, poster_n))) {
        st = TIFA_ENOMEM;
    }
    doc->text = tifa_buf_detach(&body, &doc->text_len);
    if (st == TIFA_OK && article_time) st = tifa_doc_add_field_i(doc, "article_time",
                                                article_time,
                                                strlen(article_time));
    if (st == TIFA_OK && poster_n > 0)
        st = tifa_doc_add_field_i(doc, "poster", poster, poster_n);
    if (st == TIFA_OK && reply >= 0) {
        char num[24];
        snprintf(num, sizeof num, "%ld", reply);
        st = tifa_doc_add_field_i(doc, "reply", num, strlen(num));
    }
    if (st != TIFA_OK || !doc->doc_id || !doc->source || !doc->text) {
        tifa_doc_free(doc);
        if (st == TIFA_OK) st = TIFA_ENOMEM;
        goto done;
    }
    st = tc->emit(doc, tc->user);
done:
    free(date);
    free(article_time);
    free(author);
    tifa_buf_free(&body);
    return st;
}

static tifa_status thread(thread_ctx *tc, size_t from, size_t to,
                          bool titled)
{
    const tifa_forum_ctx *ctx = tc->ctx;
    const char *t = tc->text;
    const char *cat = NULL, *title = NULL;
    size_t cat_n = 0, title_n = 0;
    long views = -1, replies = -1;
    size_t k = from;
    if (titled) {
        const line *L = &tc->lines[from];
        title_line(t + L->a, L->b - L->a, &cat, &cat_n, &title, &title_n);
        k = from + 1;
    }
    /* Headers. */
    size_t first = to;
    for (size_t j = k; j < to; j++) {
        const line *L = &tc->lines[j];
        if (post_header(t + L->a, L->b - L->a, NULL, NULL, NULL)) {
            first = j;
            break;
        }
        if (furniture(t + L->a, L->b - L->a))
            views_replies(t + L->a, L->b - L->a, &views, &replies);
    }
    if (first == to) {
        tifa_diag_add(ctx->diag, TIFA_WARNING, TIFA_EFORMAT, ctx->path,
                      (long)(from + ctx->line_base) + 1, -1,
                      "forum thread %zu ('%.*s') has no first post "
                      "(no '发表于' header); skipped",
                      tc->nthread, (int)(title_n > 80 ? 80 : title_n),
                      title ? title : "");
        return TIFA_OK;
    }
    long reply = -1; /* -1: the first post; replies are numbered from 1 */
    size_t h = first;
    tifa_status st = TIFA_OK;
    while (h < to && st == TIFA_OK) {
        size_t next = to;
        for (size_t j = h + 1; j < to; j++) {
            const line *L = &tc->lines[j];
            if (post_header(t + L->a, L->b - L->a, NULL, NULL, NULL)) {
                next = j;
                break;
            }
        }
        const line *H = &tc->lines[h];
        char *date = NULL;
        const char *poster = NULL;
        size_t poster_n = 0;
        if (post_header(t + H->a, H->b - H->a, &date, &poster, &poster_n) && !date) {
            st = TIFA_ENOMEM;
            break;
        }
        if (reply < 0 || ctx->include_replies)
            st = emit_post(tc, h + 1, next, h, reply, title, title_n, cat,
                           cat_n, views, replies, date, poster, poster_n);
        else
            free(date);
        reply = reply < 0 ? 1 : reply + 1;
        h = next;
    }
    return st;
}

static tifa_status split_lines(const char *text, size_t n, line **out,
                               size_t *count)
{
    size_t cap = 64, c = 0;
    line *v = malloc(cap * sizeof *v);
    if (!v) return TIFA_ENOMEM;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(text + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - text) : n;
        if (c == cap) {
            cap *= 2;
            line *w = realloc(v, cap * sizeof *v);
            if (!w) {
                free(v);
                return TIFA_ENOMEM;
            }
            v = w;
        }
        size_t tn;
        const char *tt = tifa_trim_i(text + i, end - i, &tn);
        v[c].a = (size_t)(tt - text);
        v[c].b = v[c].a + tn;
        c++;
        if (!nl) break;
        i = end + 1;
    }
    *out = v;
    *count = c;
    return TIFA_OK;
}

/* Is line j a thread title line (a title followed by furniture)?
 * after_page_end: the previous non-empty line is boilerplate (the footer of
 * the page before) or there is none. */
static bool thread_start(const char *t, const line *lines, size_t count,
                         size_t j, bool first_nonempty, bool after_page_end)
{
    const char *c, *ti;
    size_t cn, tn;
    if (!title_line(t + lines[j].a, lines[j].b - lines[j].a, &c, &cn, &ti, &tn))
        return false;
    size_t seen = 0;
    for (size_t k = j + 1; k < count && seen < 8; k++) {
        size_t n = lines[k].b - lines[k].a;
        if (n == 0) continue;
        seen++;
        if (furniture(t + lines[k].a, n)) return true;
        /* A page saved without furniture: the title right above the first
         * post header (or opening the file). */
        if (post_header(t + lines[k].a, n, NULL, NULL, NULL))
            return first_nonempty || (seen <= 2 && after_page_end);
    }
    return false;
}

tifa_status tifa_forum_split_i(const tifa_forum_ctx *ctx, const char *text,
                               size_t n, tifa_emit_fn emit, void *user)
{
    line *lines = NULL;
    size_t count = 0;
    tifa_status st = split_lines(text, n, &lines, &count);
    if (st != TIFA_OK) return st;
    thread_ctx tc = {ctx, text, lines, 0, emit, user};
    size_t *starts = malloc((count + 1) * sizeof *starts);
    if (!starts) {
        free(lines);
        return TIFA_ENOMEM;
    }
    size_t ns = 0;
    bool seen_text = false;
    size_t prev = 0; /* previous non-empty line */
    for (size_t j = 0; j < count; j++) {
        if (lines[j].b == lines[j].a) continue;
        if (text[lines[j].a] == '[') {
            bool after_end =
                !seen_text ||
                tifa_boilerplate_match_i(ctx->bp, text + lines[prev].a,
                                         lines[prev].b - lines[prev].a);
            if (thread_start(text, lines, count, j, !seen_text, after_end))
                starts[ns++] = j;
        }
        seen_text = true;
        prev = j;
    }
    if (ns == 0) {
        /* A page saved without its title line: one untitled thread. */
        tc.nthread = ctx->thread_base + 1;
        st = thread(&tc, 0, count, false);
        if (ctx->threads_out) *ctx->threads_out = 1;
    } else {
        for (size_t k = 0; k < ns && st == TIFA_OK; k++) {
            tc.nthread = ctx->thread_base + k + 1;
            st = thread(&tc, starts[k], k + 1 < ns ? starts[k + 1] : count,
                        true);
        }
        if (ctx->threads_out) *ctx->threads_out = ns;
    }
    free(starts);
    free(lines);
    return st;
}

bool tifa_forum_sniff_i(const char *text, size_t n)
{
    size_t limit = n > (1u << 20) ? (1u << 20) : n;
    bool header = false;
    size_t i = 0;
    while (i < limit && !header) {
        const char *nl = memchr(text + i, '\n', limit - i);
        size_t end = nl ? (size_t)(nl - text) : limit;
        size_t tn;
        const char *t = tifa_trim_i(text + i, end - i, &tn);
        if (tn < 200 && find(t, tn, HDR) &&
            post_header(t, tn, NULL, NULL, NULL))
            header = true;
        i = end + 1;
    }
    if (!header) return false;
    return find(text, limit, "复制链接") || find(text, limit, "查看:") ||
           find(text, limit, "显示全部楼层") || find(text, limit, "阅读模式") ||
           find(text, limit, "只看该作者") || find(text, limit, "电梯直达");
}

/* ------------------------------------------------------------ streaming -- */

/* The next line of text[*pos..n): trimmed span [*a, *b); false at the end
 * (a last line without '\n' counts only when final). */
static bool next_line(const char *text, size_t n, bool final, size_t *pos,
                      size_t *a, size_t *b)
{
    if (*pos >= n) return false;
    const char *nl = memchr(text + *pos, '\n', n - *pos);
    if (!nl && !final) return false;
    size_t end = nl ? (size_t)(nl - text) : n;
    size_t tn;
    const char *t = tifa_trim_i(text + *pos, end - *pos, &tn);
    *a = (size_t)(t - text);
    *b = *a + tn;
    *pos = nl ? end + 1 : n;
    return true;
}

/* Is the title line ending at pos a thread start? 1 yes, 0 no, -1 the text
 * does not reach far enough to tell. */
static int start_after(const char *text, size_t n, bool final, size_t pos,
                       bool first_nonempty, bool after_page_end)
{
    size_t seen = 0, a, b;
    while (seen < 8) {
        if (!next_line(text, n, final, &pos, &a, &b)) return final ? 0 : -1;
        if (b == a) continue;
        seen++;
        if (furniture(text + a, b - a)) return 1;
        if (post_header(text + a, b - a, NULL, NULL, NULL))
            return first_nonempty || (seen <= 2 && after_page_end);
    }
    return 0;
}

tifa_status tifa_forum_scan_i(const tifa_forum_ctx *ctx, tifa_forum_scan *sc,
                              const char *text, size_t n, bool final,
                              size_t *start, bool *found)
{
    *found = false;
    size_t pos = sc->scanned, a, b;
    for (;;) {
        size_t line_start = pos;
        if (!next_line(text, n, final, &pos, &a, &b)) break;
        if (b == a) {
            sc->scanned = pos;
            continue;
        }
        const char *c, *ti;
        size_t cn, tn;
        if (text[a] == '[' && title_line(text + a, b - a, &c, &cn, &ti, &tn)) {
            /* Whether the previous non-empty line is boilerplate matters
             * only here, so it is decided here. */
            bool after_end = !sc->seen_text ||
                             (sc->prev_b > sc->prev_a &&
                              sc->prev_b <= n &&
                              tifa_boilerplate_match_i(ctx->bp,
                                                       text + sc->prev_a,
                                                       sc->prev_b - sc->prev_a));
            int k = start_after(text, n, final, pos, !sc->seen_text,
                                after_end);
            if (k < 0) {
                sc->scanned = line_start; /* look again with more text */
                return TIFA_OK;
            }
            if (k > 0) {
                *found = true;
                *start = line_start;
            }
        }
        sc->seen_text = true;
        sc->prev_a = a;
        sc->prev_b = b;
        sc->scanned = pos;
        if (*found) return TIFA_OK;
    }
    return TIFA_OK;
}
