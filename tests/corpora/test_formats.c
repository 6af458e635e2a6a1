/*
 * test_formats.c — the document formats: forum thread dumps (many threads
 * per file, replies, boilerplate lists as data, a thread without a first
 * post, a GBK page), JSONL, CSV/TSV, regex-separated text, plain text, and
 * the metadata rules (dates to ISO 8601, group_by, ids, extra fields).
 *
 * The fixtures in tests/fixtures/corpora/{forum,records,text}/ were written
 * for these tests; Han counts were counted by hand (and checked with a
 * one-line Python count over U+4E00..U+9FFF).
 */
#include "corpora_test_util.h"

#define FX TIFA_TEST_FIXTURES "/corpora/"

static tifa_load_options opts(void)
{
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.datadir = TIFA_TEST_DATADIR;
    return o;
}

static void test_forum_crawl(void **state)
{
    (void)state;
    tifa_load_options o = opts();
    loaded x;
    load_one(&x, &o, FX "forum/crawl-four-threads.txt");
    /* Threads 1, 3 and 4 give posts; thread 2 has no first post; thread 4
     * is a page saved without furniture (title right above the header). */
    assert_int_equal(x.n, 3);
    assert_string_equal(x.docs[2]->title, "没有页面装饰的打印页");
    assert_string_equal(x.docs[2]->category, "党建");
    assert_string_equal(x.docs[2]->text, "坚持“三会一课”制度。");
    assert_string_equal(x.docs[2]->date, "2017-07-01T08:00:00");
    assert_int_equal(x.docs[2]->views, -1);
    assert_int_equal(x.docs[2]->chars, 8);
    tifa_doc *a = x.docs[0], *b = x.docs[1];
    assert_int_equal(a->kind, TIFA_POST);
    assert_string_equal(a->category, "基层动态");
    assert_string_equal(a->title, "推行“一站式”服务 让群众少跑腿");
    assert_string_equal(a->date, "2015-03-01T09:05:01");
    assert_int_equal(a->views, 256);
    assert_int_equal(a->replies, 2);
    assert_string_equal(a->author, "县政务中心 李明");
    assert_string_equal(tifa_doc_field(a, "poster"), "老王");
    assert_string_equal(tifa_doc_field(a, "article_time"), "2015-02-28T08:30");
    assert_string_equal(a->text,
                        "本报讯 今年以来,我县推行“一站式”服务,群众办事“只进一扇门”。\n"
                        "全县共设立服务窗口三十个,办结事项一千二百件。");
    assert_int_equal(a->chars, 46);
    assert_int_equal(a->sentences, 2);
    assert_string_equal(b->title, "干部要“接地气”");
    assert_string_equal(b->category, "时事评论");
    assert_string_equal(b->date, "2016-12-31T23:59:59");
    assert_int_equal(b->views, 88);
    assert_null(b->author);
    assert_string_equal(b->text, "干部下基层,要真正“接地气”,不能“走过场”。");
    assert_int_equal(b->chars, 16);
    const tifa_diag_entry *e = find_diag(x.diag, "no first post", "crawl-four");
    assert_non_null(e);
    assert_int_equal(e->line, 43); /* the title line of thread 2 */
    free_loaded(&x);

    o.include_replies = true;
    load_one(&x, &o, FX "forum/crawl-four-threads.txt");
    assert_int_equal(x.n, 5);
    assert_int_equal(x.docs[1]->kind, TIFA_REPLY);
    assert_string_equal(x.docs[1]->text, "支持!这样的服务好。");
    assert_string_equal(x.docs[1]->author, "小张");
    assert_string_equal(x.docs[1]->date, "2015-03-01T10:12:44");
    assert_int_equal(x.docs[1]->chars, 8);
    assert_string_equal(x.docs[2]->text, "希望坚持下去。");
    assert_string_equal(tifa_doc_field(x.docs[2], "reply"), "2");
    assert_int_equal(x.docs[3]->kind, TIFA_POST);
    assert_int_equal(x.sum.replies, 2);
    free_loaded(&x);
}

static void test_forum_gbk_and_builtin_list(void **state)
{
    (void)state;
    /* No data directory: the built-in list still cleans the page. */
    tifa_load_options o;
    tifa_load_options_init(&o);
    loaded x;
    load_one(&x, &o, FX "forum/gbk-thread.txt");
    assert_int_equal(x.n, 1);
    assert_string_equal(x.docs[0]->title, "繁简测试:国家发展");
    assert_string_equal(x.docs[0]->text, "全面深化改革,推进国家治理体系现代化。");
    assert_int_equal(x.docs[0]->chars, 17);
    assert_string_equal(x.docs[0]->date, "2017-01-02T03:04:05");
    free_loaded(&x);
}

static void test_forum_user_boilerplate(void **state)
{
    (void)state;
    tifa_load_options o = opts();
    loaded x;
    load_one(&x, &o, FX "forum/with-notice.txt");
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, 17 + 11);
    assert_non_null(strstr(x.docs[0]->text, "本站声明"));
    free_loaded(&x);
    o.boilerplate = FX "forum/extra-boilerplate.txt";
    load_one(&x, &o, FX "forum/with-notice.txt");
    assert_int_equal(x.n, 1);
    assert_string_equal(x.docs[0]->text, "各单位:按照要求开展“三严三实”专题教育。");
    assert_int_equal(x.docs[0]->chars, 17);
    free_loaded(&x);
}

static void test_jsonl(void **state)
{
    (void)state;
    tifa_load_options o = opts();
    o.group_by = "region";
    loaded x;
    load_one(&x, &o, FX "records/sample.jsonl");
    assert_int_equal(x.n, 5);
    tifa_doc **d = x.docs;
    assert_string_equal(d[0]->doc_id, "a1");
    assert_string_equal(d[0]->title, "1954年报告"); /* NFKC of fullwidth digits */
    assert_string_equal(d[0]->date, "1954");
    assert_string_equal(d[0]->text, "各位代表:\n现在我代表政府作报告。");
    assert_int_equal(d[0]->chars, 14);
    assert_string_equal(d[0]->group, "北京");
    assert_string_equal(tifa_doc_field(d[0], "year"), "1954");
    assert_null(tifa_doc_field(d[0], "content")); /* the text is not a field */
    assert_null(d[1]->date);                      /* year null */
    assert_string_equal(d[1]->group, "上海");
    assert_string_equal(d[2]->text, "这是正文。"); /* "text" before "content" */
    assert_string_equal(d[2]->date, "2019-01-27");
    assert_null(d[2]->group);
    assert_string_equal(tifa_doc_field(d[2], "content"), "不是这个。");
    assert_string_equal(tifa_doc_field(d[2], "tags"), "[\"甲\",\"乙\"]");
    assert_string_equal(d[3]->doc_id, "6");
    assert_string_equal(d[3]->date, "2019-04-25T09:32:09");
    assert_true(ends_with(d[4]->doc_id, "sample.jsonl:9"));
    assert_string_equal(d[4]->date, "2020-02");
    assert_true(ends_with(d[4]->source, "sample.jsonl:9"));
    /* The three bad lines, each named with its line. */
    const tifa_diag_entry *e = find_diag(x.diag, "no text field", NULL);
    assert_non_null(e);
    assert_int_equal(e->line, 5);
    e = find_diag(x.diag, "invalid JSON", NULL);
    assert_non_null(e);
    assert_int_equal(e->line, 6);
    e = find_diag(x.diag, "not an object", NULL);
    assert_non_null(e);
    assert_int_equal(e->line, 8);
    assert_int_equal(tifa_diag_count(x.diag, TIFA_WARNING), 3);
    free_loaded(&x);

    /* A named text field that no record has. */
    o.text_field = "body_text";
    o.group_by = "year";
    load_one(&x, &o, FX "records/sample.jsonl");
    assert_int_equal(x.n, 0);
    free_loaded(&x);
}

static void test_csv_tsv(void **state)
{
    (void)state;
    tifa_load_options o = opts();
    o.group_by = "county";
    loaded x;
    load_one(&x, &o, FX "records/sample.csv");
    assert_int_equal(x.n, 3);
    assert_string_equal(x.docs[0]->title, "第一篇, 带逗号");
    assert_string_equal(x.docs[0]->text, "第一段。\n第二段有\"引号\"。");
    assert_string_equal(x.docs[0]->date, "2014-04-04");
    assert_string_equal(x.docs[0]->group, "祁阳");
    assert_int_equal(x.docs[0]->chars, 9);
    assert_true(ends_with(x.docs[0]->source, "sample.csv:2"));
    assert_string_equal(x.docs[1]->date, "2015");
    assert_true(ends_with(x.docs[1]->source, "sample.csv:4"));
    assert_string_equal(x.docs[2]->text, "");
    assert_int_equal(x.docs[2]->chars, 0);
    assert_true(ends_with(x.docs[2]->source, "sample.csv:6"));
    free_loaded(&x);
    load_one(&x, &o, FX "records/sample.tsv");
    assert_int_equal(x.n, 2);
    assert_string_equal(x.docs[1]->title, "标题二");
    assert_string_equal(x.docs[1]->text, "正文二。");
    free_loaded(&x);
}

static void test_separated_and_text(void **state)
{
    (void)state;
    tifa_load_options o = opts();
    o.separator = "^=+$";
    loaded x;
    load_one(&x, &o, FX "text/separated.txt");
    assert_int_equal(x.n, 3);
    assert_string_equal(x.docs[0]->text, "第一篇文章。");
    assert_string_equal(x.docs[1]->text, "第二篇文章,\n两行。");
    assert_string_equal(x.docs[2]->text, "第三篇。");
    assert_true(ends_with(x.docs[2]->doc_id, "separated.txt#3"));
    assert_true(ends_with(x.docs[1]->source, "separated.txt:3-4"));
    free_loaded(&x);
    /* Without a separator: one plain-text document. */
    o.separator = NULL;
    load_one(&x, &o, FX "text/separated.txt");
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, 5 + 7 + 3);
    free_loaded(&x);
    /* An invalid separator is refused at creation. */
    o.separator = "([unclosed";
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    assert_null(tifa_loader_new(&o, diag, &st));
    assert_int_equal(st, TIFA_EPATTERN);
    tifa_diag_free(diag);
}

static void test_titles_and_groups(void **state)
{
    (void)state;
    tifa_load_options o = opts();
    o.include_titles = true;
    o.group_by = "decade";
    loaded x;
    load_one(&x, &o, FX "records/sample.jsonl");
    assert_string_equal(x.docs[0]->text, "1954年报告\n各位代表:\n现在我代表政府作报告。");
    assert_int_equal(x.docs[0]->chars, 14 + 3);
    assert_string_equal(x.docs[0]->group, "1950s");
    assert_string_equal(x.docs[3]->group, "2010s");
    assert_string_equal(x.docs[4]->group, "2020s");
    free_loaded(&x);
}

static void test_format_names(void **state)
{
    (void)state;
    tifa_format f;
    assert_int_equal(tifa_format_parse("jsonl", &f), TIFA_OK);
    assert_int_equal(f, TIFA_FORMAT_JSONL);
    assert_int_equal(tifa_format_parse("forum", &f), TIFA_OK);
    assert_string_equal(tifa_format_name(f), "forum");
    assert_int_equal(tifa_format_parse("xml", &f), TIFA_EUSAGE);
    assert_string_equal(tifa_doc_kind_name(TIFA_REPLY), "reply");
}

/* A crawl of 1,500 threads (about 3.5 MB: threads cross the loader's 1 MiB
 * reads) is split thread by thread with the right numbers and lines. */
static void test_forum_streaming(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    tifa_buf b = {0};
    const int threads = 1500;
    const char *filler = "坚持以人民为中心的发展思想，推动各项惠民政策落地见效。";
    for (int i = 0; i < threads; i++) {
        /* 16 lines per thread; the post header is line 16 i + 6. */
        tifa_buf_printf(&b, "[时事评论] 第%d号帖子标题\n\n[复制链接]\n"
                            "查看: %d|回复: 1\n\n", i, i);
        tifa_buf_printf(&b, "发表于 2015-3-1 09:05:01 | 显示全部楼层 |阅读模式\n"
                            "第%d号帖子标题\n\n　　正文第%d段。", i, i);
        for (int k = 0; k < 25; k++) tifa_buf_puts(&b, filler);
        tifa_buf_printf(&b, "\n\n发表于 2015-3-2 10:00:00 | 显示全部楼层\n"
                            "回复%d\n\n使用道具 举报\n\n"
                            "返回顶部快速回复上一主题下一主题返回列表找客服\n", i);
    }
    assert_true(b.len > 3u << 20);
    char *p = write_file(dir, "crawl.txt", b.data, b.len);
    tifa_buf_free(&b);
    tifa_load_options o = opts();
    o.include_replies = true;
    loaded x;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 2 * threads);
    for (int i = 0; i < threads; i++) {
        tifa_doc *d = x.docs[2 * i], *r = x.docs[2 * i + 1];
        char want[64];
        snprintf(want, sizeof want, "第%d号帖子标题", i);
        assert_string_equal(d->title, want);
        assert_int_equal(d->views, i);
        assert_int_equal(d->kind, TIFA_POST);
        snprintf(want, sizeof want, "正文第%d段。", i);
        assert_true(starts_with(d->text, want));
        /* 正文第 段 = 4 Han; the filler has 13 + 12 = 25, 25 times. */
        assert_int_equal(d->chars, 4 + 25 * 25);
        snprintf(want, sizeof want, "crawl.txt:%d-%d", 16 * i + 6,
                 16 * i + 10);
        assert_non_null(strstr(d->source, want));
        snprintf(want, sizeof want, "#t%d", i + 1);
        assert_true(ends_with(d->doc_id, want));
        assert_int_equal(r->kind, TIFA_REPLY);
        snprintf(want, sizeof want, "回复%d", i);
        assert_string_equal(r->text, want);
    }
    free_loaded(&x);
    free(p);
    tmpdir_remove(dir);
}

/* Separated text longer than a read: documents cross the chunk limits. */
static void test_separated_streaming(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    tifa_buf b = {0};
    const int docs = 3000;
    for (int i = 0; i < docs; i++) {
        tifa_buf_printf(&b, "第%d篇。\n", i);
        for (int k = 0; k < 40; k++) tifa_buf_puts(&b, "全面深化改革。");
        tifa_buf_puts(&b, "\n-----\n");
    }
    assert_true(b.len > 1u << 20);
    char *p = write_file(dir, "sep.txt", b.data, b.len);
    tifa_buf_free(&b);
    tifa_load_options o = opts();
    o.separator = "^-{5}$";
    o.keep_duplicates = true;
    loaded x;
    load_one(&x, &o, p);
    assert_int_equal(x.n, docs);
    for (int i = 0; i < docs; i++) {
        char want[64];
        snprintf(want, sizeof want, "第%d篇。\n全面深化改革。", i);
        assert_true(starts_with(x.docs[i]->text, want));
        assert_int_equal(x.docs[i]->chars, 2 + 40 * 6);
        assert_int_equal(x.docs[i]->sentences, 41);
        snprintf(want, sizeof want, "sep.txt:%d-%d", 3 * i + 1, 3 * i + 2);
        assert_true(ends_with(x.docs[i]->source, want));
    }
    free_loaded(&x);
    free(p);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forum_crawl),
        cmocka_unit_test(test_forum_gbk_and_builtin_list),
        cmocka_unit_test(test_forum_user_boilerplate),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_csv_tsv),
        cmocka_unit_test(test_separated_and_text),
        cmocka_unit_test(test_titles_and_groups),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_forum_streaming),
        cmocka_unit_test(test_separated_streaming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
