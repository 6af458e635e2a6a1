/*
 * test_text.c — the text scanners of the statistics stage: pattern files
 * (the shipped families against the examples of SPEC §4; rejection of
 * invalid regexes, empty and duplicate names with file, line and ICU's
 * message, nothing half-loaded), quoted spans (pairs, nesting, paragraphs,
 * trimming, lengths) and rhetoric (enumerations and parallel series).  The
 * fixture texts are written here; the expected spans and items are read off
 * them by hand.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"
#include "scan_reference.h"

static char tmpdir[] = "/tmp/tifa-test-text-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *content)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return path;
}

/* ------------------------------------------------------------- patterns -- */

static tifa_patterns *load_default(tifa_diag *diag)
{
    tifa_status st;
    tifa_patterns *p =
        tifa_patterns_load(TIFA_TEST_DATADIR "/patterns/families.txt", diag, &st);
    assert_int_equal(st, TIFA_OK);
    assert_non_null(p);
    return p;
}

static const char *cls(tifa_patterns *p, const char *s)
{
    return tifa_patterns_classify(p, s, strlen(s));
}

static void test_default_families(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = load_default(diag);
    assert_int_equal(tifa_patterns_count(p), 5);
    assert_string_equal(tifa_patterns_name(p, 0), "zero_x");
    assert_string_equal(tifa_patterns_name(p, 1), "numbered");
    assert_string_equal(tifa_patterns_name(p, 2), "one_x");
    assert_string_equal(tifa_patterns_name(p, 3), "aba");
    assert_string_equal(tifa_patterns_name(p, 4), "x_zai_y");
    assert_string_equal(tifa_patterns_name(p, 5), "other");
    /* the examples of SPEC §4 */
    const char *zero[] = {"零距离", "零缝隙", "零投诉", "零缺陷", "零容忍"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(cls(p, zero[i]), "zero_x");
    const char *num[] = {"五个一", "三严三实", "两学一做", "四风", "两委",
                         "五个准确把握"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(cls(p, num[i]), "numbered");
    const char *one[] = {"一表制", "一站式", "一票制", "一把尺"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(cls(p, one[i]), "one_x");
    const char *aba[] = {"面对面", "实打实", "点对点"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(cls(p, aba[i]), "aba");
    assert_string_equal(cls(p, "政策在路上"), "x_zai_y");
    assert_string_equal(cls(p, "制度在墙上"), "x_zai_y");
    assert_string_equal(cls(p, "最后一公里"), "other");
    assert_string_equal(cls(p, "接地气"), "other");
    /* boundaries of the regexes */
    assert_string_equal(cls(p, "零"), "other");           /* needs 1-4 more */
    assert_string_equal(cls(p, "零距离服务"), "zero_x");  /* 零 + 4 */
    assert_string_equal(cls(p, "零距离服务好"), "other"); /* 零 + 5 */
    assert_string_equal(cls(p, "十"), "other");
    assert_string_equal(cls(p, "一"), "other");
    assert_string_equal(cls(p, "零零零"), "zero_x"); /* first match wins */
    assert_string_equal(cls(p, "一对一"), "one_x");  /* before aba */
    assert_string_equal(cls(p, "面对面 "), "other"); /* spans come trimmed */
    /* index form and clone agree */
    assert_int_equal(tifa_patterns_classify_index(p, "面对面", 9), 3);
    tifa_status st;
    tifa_patterns *c = tifa_patterns_clone(p, &st);
    assert_non_null(c);
    assert_string_equal(cls(c, "两学一做"), "numbered");
    assert_int_equal(tifa_patterns_classify_index(c, "接地气", 9), 5);
    tifa_patterns_free(c);
    tifa_patterns_free(p);
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 0);
    tifa_diag_free(diag);
}

static bool diag_has(tifa_diag *diag, long line, const char *needle)
{
    for (size_t i = 0; i < tifa_diag_size(diag); i++) {
        const tifa_diag_entry *e = tifa_diag_get(diag, i);
        if (e->line == line && e->file && strstr(e->file, "bad") &&
            strstr(e->message, needle))
            return true;
    }
    return false;
}

static void test_bad_pattern_files(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st = TIFA_OK;
    const char *path = write_tmp("bad1.txt", "# header\n"
                                             "good ^好$\n"
                                             "broken ^(零\n"
                                             "\t^x$\n"
                                             "good ^again$\n"
                                             "other ^o$\n"
                                             "lonely\n"
                                             "@scope sideways\n");
    tifa_patterns *p = tifa_patterns_load(path, diag, &st);
    assert_null(p);
    assert_int_equal(st, TIFA_EPATTERN);
    assert_true(diag_has(diag, 3, "U_REGEX_MISMATCHED_PAREN"));
    assert_true(diag_has(diag, 3, "offset"));
    assert_true(diag_has(diag, 4, "empty family name"));
    assert_true(diag_has(diag, 5, "duplicate family name 'good'"));
    assert_true(diag_has(diag, 6, "duplicate family name 'other'"));
    assert_true(diag_has(diag, 7, "no regex"));
    assert_true(diag_has(diag, 8, "unknown directive"));
    /* appending a bad file to good families keeps exactly the good ones */
    tifa_patterns *d = load_default(diag);
    assert_int_equal(tifa_patterns_append(d, path, diag), TIFA_EPATTERN);
    assert_int_equal(tifa_patterns_count(d), 5);
    assert_string_equal(cls(d, "好"), "other");
    /* a good extra file adds after the defaults, in order */
    const char *ok = write_tmp("extra.txt", "\xEF\xBB\xBF# user families\r\n"
                                            "mine   ^好+$\r\n"
                                            "@scope text\n"
                                            "zhi    治理\n");
    assert_int_equal(tifa_patterns_append(d, ok, diag), TIFA_OK);
    assert_int_equal(tifa_patterns_count(d), 7);
    assert_string_equal(tifa_patterns_name(d, 5), "mine");
    assert_string_equal(tifa_patterns_name(d, 6), "zhi");
    assert_string_equal(tifa_patterns_name(d, 7), "other");
    assert_false(tifa_patterns_text_scope(d, 5));
    assert_true(tifa_patterns_text_scope(d, 6));
    assert_string_equal(cls(d, "好好"), "mine");
    assert_string_equal(cls(d, "治理"), "other"); /* text scope: not spans */
    tifa_patterns_free(d);
    /* missing file */
    assert_null(tifa_patterns_load("/nonexistent/x.txt", diag, &st));
    assert_int_not_equal(st, TIFA_OK);
    tifa_diag_free(diag);
}

/* ---------------------------------------------------------------- quotes -- */

typedef struct spans {
    char s[16][64];
    size_t off[16], chars[16];
    size_t n;
} spans;

static void on_span(const char *span, size_t bytes, size_t offset,
                    size_t chars, void *user)
{
    spans *sp = user;
    assert_true(sp->n < 16 && bytes < 64);
    memcpy(sp->s[sp->n], span, bytes);
    sp->s[sp->n][bytes] = 0;
    sp->off[sp->n] = offset;
    sp->chars[sp->n] = chars;
    sp->n++;
}

static spans scan(const char *text, size_t maxc)
{
    spans sp;
    memset(&sp, 0, sizeof sp);
    tifa_quote_options o = {1, maxc};
    tifa_quotes_scan(text, strlen(text), &o, on_span, &sp);
    return sp;
}

static void test_quotes(void **state)
{
    (void)state;
    spans sp = scan("立足“零距离”服务", 12);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.s[0], "零距离");
    assert_int_equal(sp.off[0], 9); /* 立足 (6 bytes) + “ (3 bytes) */
    assert_int_equal(sp.chars[0], 3);
    /* an opener inside: the outer span is skipped, the inner one kept */
    sp = scan("“甲“零距离”乙”", 12);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.s[0], "零距离");
    /* pairs are independent: both spans */
    sp = scan("「他说‘零距离’」", 12);
    assert_int_equal(sp.n, 2);
    assert_string_equal(sp.s[0], "零距离");
    assert_string_equal(sp.s[1], "他说‘零距离’");
    assert_int_equal(sp.chars[1], 7);
    /* 『』 too, and closers without openers are ignored */
    sp = scan("”』『两学一做』", 12);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.s[0], "两学一做");
    /* no span across a paragraph break */
    sp = scan("“零\n距离”", 12);
    assert_int_equal(sp.n, 0);
    /* trimmed of white space, ideographic space included */
    sp = scan("“ 零距离\u3000”", 12);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.s[0], "零距离");
    /* lengths: 12 is a candidate, 13 is not, empty is not */
    sp = scan("“一二三四五六七八九十一二”“一二三四五六七八九十一二三”“”“  ”",
              12);
    assert_int_equal(sp.n, 1);
    assert_int_equal(sp.chars[0], 12);
    /* configurable maximum; default when 0 */
    sp = scan("“接地气”“最后一公里”", 3);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.s[0], "接地气");
    sp = scan("“接地气”“最后一公里”", 0);
    assert_int_equal(sp.n, 2);
    /* an unclosed opener does not swallow the next paragraph */
    sp = scan("“未完\n“问题”", 12);
    assert_int_equal(sp.n, 1);
    assert_string_equal(sp.s[0], "问题");
}

/* -------------------------------------------------------------- rhetoric -- */

typedef struct found {
    const char *source; /* the scanned text: stretches are offsets into it */
    tifa_device dev[8];
    char items[8][256];
    char text[8][512];
    size_t n;
} found;

static void on_dev(tifa_device device, const char *items, size_t stretch_len,
                   size_t offset, void *user)
{
    found *f = user;
    assert_true(f->n < 8);
    f->dev[f->n] = device;
    snprintf(f->items[f->n], sizeof f->items[0], "%s", items);
    snprintf(f->text[f->n], sizeof f->text[0], "%.*s", (int)stretch_len,
             f->source + offset);
    f->n++;
}

static found rhet(const char *text)
{
    found f;
    memset(&f, 0, sizeof f);
    f.source = text;
    assert_int_equal(tifa_rhetoric_scan(text, strlen(text), on_dev, &f), TIFA_OK);
    f.source = NULL;
    return f;
}

static void test_parallel(void **state)
{
    (void)state;
    found f = rhet("真正做到不躲、不拖、不等、不靠,以解决问题的实际行动推动活动。");
    assert_int_equal(f.n, 1);
    assert_int_equal(f.dev[0], TIFA_PARALLEL);
    assert_string_equal(f.items[0], "不躲 | 不拖 | 不等 | 不靠");
    assert_string_equal(f.text[0], "不躲、不拖、不等、不靠");
    f = rhet("按照“谁引进、谁负责、谁服务”的要求");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "谁引进 | 谁负责 | 谁服务");
    /* shared last character */
    f = rhet("真正从情感上亲近群众、言语上贴近群众、行动上靠近群众。");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0],
                        "情感上亲近群众 | 言语上贴近群众 | 行动上靠近群众");
    /* fullwidth comma as separator */
    f = rhet("要敢抓，敢管，敢严。");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "敢抓 | 敢管 | 敢严");
    /* a plain list is no parallel series */
    f = rhet("解决好供水、就业、住房、就学等问题");
    assert_int_equal(f.n, 0);
    /* the longest run of one shape inside a longer list */
    f = rhet("完善民情收集、民情分析、民情恳谈、联合调处、民生服务等制度");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "民情收集 | 民情分析 | 民情恳谈");
    /* two items are not enough; mixed separators do not join */
    f = rhet("串家门、访民情。不躲、不拖,不等");
    assert_int_equal(f.n, 0);
    /* a longer last run is cut only where the items share their end */
    f = rhet("不躲、不拖、不等待");
    assert_int_equal(f.n, 0);
    f = rhet("培养一批、选拔一批、储备一批年轻村干部");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "培养一批 | 选拔一批 | 储备一批");
    /* the shared character may be in the middle */
    f = rhet("以前是“门难进、脸难看、事难办”");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "门难进 | 脸难看 | 事难办");
    f = rhet("做到户有卡、村有册、乡有簿。");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "户有卡 | 村有册 | 乡有簿");
    /* a first item cut where only the last character is shared */
    f = rhet("做到马上办、网上办、就近办。");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "马上办 | 网上办 | 就近办");
    /* a complete last item of another length is not cut */
    f = rhet("门难进、脸难看、事很难办、");
    assert_int_equal(f.n, 0);
}

static void test_enumerations(void **state)
{
    (void)state;
    found f = rhet("最需要解决的问题。一是民生服务“面对面”。要办实事。"
                   "二是产业服务“实打实”。要抓项目;三是发展保障“点对点”。完。");
    assert_int_equal(f.n, 1);
    assert_int_equal(f.dev[0], TIFA_ENUMERATION);
    assert_string_equal(f.items[0], "民生服务“面对面” | 产业服务“实打实” | "
                                    "发展保障“点对点”");
    assert_string_equal(f.text[0], "一是民生服务“面对面”。要办实事。二是产业服务"
                                   "“实打实”。要抓项目;三是发展保障“点对点”");
    /* 统一是 is no marker; a lone 一是 is no enumeration */
    f = rhet("思想统一是前提。二是落实。");
    assert_int_equal(f.n, 0);
    f = rhet("一是落实。");
    assert_int_equal(f.n, 0);
    /* items end at the next marker too */
    f = rhet("一是抓落实,二是抓督查");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "抓落实 | 抓督查");
    /* 第一，…第二，… across paragraphs; 第二批 is no marker */
    f = rhet("第二批活动。\n第一，加强领导。\n第二，落实责任。第三:严格考核");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "加强领导 | 落实责任 | 严格考核");
    /* 一、 at the start of paragraphs */
    f = rhet("    一、立足服务,解决问题。正文。\n正文\n  二、加强领导。\n三、完善制度");
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0], "立足服务,解决问题 | 加强领导 | 完善制度");
    /* 一、 inside a paragraph is not a heading */
    f = rhet("获得一、二等奖");
    assert_int_equal(f.n, 0);
}

/* ------------------------------------------------------------ robustness -- */

static void count_span(const char *span, size_t bytes, size_t offset,
                       size_t chars, void *user)
{
    assert_true(chars >= 1 && chars <= 12 && bytes >= chars);
    (*(size_t *)user)++;
}

static void count_dev(tifa_device device, const char *items, size_t stretch_len,
                      size_t offset, void *user)
{
    assert_non_null(strstr(items, " | "));
    (*(size_t *)user)++;
}

/* Random mixtures of quotes, separators, markers and broken UTF-8, in
 * buffers without a terminating NUL (ASan checks every access). */
static void test_random_input(void **state)
{
    (void)state;
    const char *frag[] = {"“", "”", "「", "」", "『", "』", "‘", "’", "、",
                          ",", "，", "。", "\n", " ", "一是", "二是", "三是",
                          "第一,", "第二,", "一、", "二、", "不", "谁", "躲",
                          "零距离", "\xE2", "\x80", "\xE3\x80", "\xFF", "a",
                          "是", "第", "十", "\xF0\x9F\x98", ";", "!", "　"};
    size_t nf = sizeof frag / sizeof *frag, nspans = 0, devices = 0;
    tifa_diag *diag = tifa_diag_new();
    tifa_patterns *p = load_default(diag);
    srand(7);
    for (int it = 0; it < 3000; it++) {
        char buf[2048];
        size_t n = 0;
        int m = rand() % 120;
        for (int j = 0; j < m; j++) {
            const char *f = frag[rand() % (int)nf];
            size_t l = strlen(f);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, f, l);
            n += l;
        }
        char *t = malloc(n ? n : 1);
        memcpy(t, buf, n);
        tifa_quotes_scan(t, n, NULL, count_span, &nspans);
        assert_int_equal(tifa_rhetoric_scan(t, n, count_dev, &devices), TIFA_OK);
        assert_non_null(tifa_patterns_classify(p, t, n));
        free(t);
    }
    assert_true(nspans > 0 && devices > 0);
    tifa_patterns_free(p);
    tifa_diag_free(diag);
}

/* ---------------------------------------------------- against the oracle -- */

/* Every callback of a scanner, written out with all its arguments. */
static void log_span(const char *span, size_t bytes, size_t offset,
                     size_t chars, void *user)
{
    tifa_buf *b = user;
    char num[64];
    snprintf(num, sizeof num, "S%zu,%zu,%zu:", bytes, offset, chars);
    tifa_buf_puts(b, num);
    tifa_buf_append(b, span, bytes);
    tifa_buf_puts(b, "\n");
}

static void log_dev(tifa_device device, const char *items, const char *text,
                    size_t offset, void *user)
{
    tifa_buf *b = user;
    char num[64];
    snprintf(num, sizeof num, "D%d,%zu:", (int)device, offset);
    tifa_buf_puts(b, num);
    tifa_buf_puts(b, items);
    tifa_buf_puts(b, "#");
    tifa_buf_puts(b, text);
    tifa_buf_puts(b, "\n");
}

/* log_dev for tifa_rhetoric_scan (the stretch copied out, as the reference
 * reports it): user is {text, buffer}. */
typedef struct span_log {
    const char *text;
    tifa_buf *b;
} span_log;

static void log_dev_span(tifa_device device, const char *items,
                         size_t stretch_len, size_t offset, void *user)
{
    span_log *l = user;
    char *stretch = tifa_strndup(l->text + offset, stretch_len);
    assert_non_null(stretch);
    log_dev(device, items, stretch, offset, l->b);
    free(stretch);
}

/* The byte-level scanners (quotes.c, rhetoric.c) against the plain
 * code-point loops they replaced (scan_reference.h): the same callbacks in
 * the same order, on random texts dense in markers, separators, short Han
 * items, white space, line breaks and broken UTF-8, long enough for the
 * SIMD blocks of the fast paths. */
static void test_scanners_match_reference(void **state)
{
    (void)state;
    const char *frag[] = {
        "“", "”", "「", "」", "『", "』", "‘", "’", "、", "、", "、", ",", ",",
        "，", "。", "\n", " ", "　", "一是", "二是", "三是", "一", "二", "三",
        "十", "第", "是", "第一,", "第二,", "第三、", "第一：", "一、", "二、",
        "不", "不", "谁", "谁", "躲", "拖", "等", "靠", "群众", "上", "民情",
        "服务", "零距离", "统", "𠀀", "々", "〇", "\xE2", "\x80", "\xE3\x80",
        "\xE6\x98", "\xE7\xAC", "\xEF\xBC", "\xFF", "a", "1", ";", "!", "?",
        "！", "；", ":", "：", "\xF0\x9F\x98", "\xE2\x80\x9C"};
    size_t nf = sizeof frag / sizeof *frag;
    srand(2024);
    size_t ncalls = 0, with_dev = 0;
    for (int it = 0; it < 4000; it++) {
        char buf[4096];
        size_t n = 0;
        int m = rand() % 400;
        for (int j = 0; j < m; j++) {
            const char *f = frag[rand() % (int)nf];
            size_t l = strlen(f);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, f, l);
            n += l;
        }
        char *t = malloc(n ? n : 1); /* no NUL: ASan checks every read */
        memcpy(t, buf, n);
        tifa_buf fast = {0}, ref = {0};
        tifa_quotes_scan(t, n, NULL, log_span, &fast);
        ref_quotes_scan(t, n, NULL, log_span, &ref);
        tifa_quote_options o = {2, 4};
        tifa_quotes_scan(t, n, &o, log_span, &fast);
        ref_quotes_scan(t, n, &o, log_span, &ref);
        span_log sl = {t, &fast};
        assert_int_equal(tifa_rhetoric_scan(t, n, log_dev_span, &sl), TIFA_OK);
        ref_rhetoric_scan(t, n, log_dev, &ref);
        tifa_buf_putc(&fast, '\0');
        tifa_buf_putc(&ref, '\0');
        assert_string_equal(fast.data, ref.data);
        for (const char *c = ref.data; (c = strchr(c, '\n')) != NULL; c++)
            ncalls++;
        with_dev += strstr(ref.data, "\nD") != NULL || ref.data[0] == 'D';
        tifa_buf_free(&fast);
        tifa_buf_free(&ref);
        free(t);
    }
    /* the texts did exercise the scanners */
    assert_true(ncalls > 1000 && with_dev > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_families),
        cmocka_unit_test(test_bad_pattern_files),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_parallel),
        cmocka_unit_test(test_enumerations),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_scanners_match_reference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
