/*
 * test_integration.c — the loader against the shared real corpora (read in
 * place through TIFA_SHARED_CORPORA, never copied into the repository):
 * the seed forum thread (issue #3 "done when"), the four icwb2 legacy
 * encodings, and the JSONL corpora.  Each test skips with a message when
 * the shared corpora are absent.
 *
 * Expected numbers were worked out independently of tifa: by reading the
 * seed page, and for the JSONL files with a few lines of Python's json
 * module (govreports: 72 records, 52 with a non-null year; gov-policy-sc:
 * 60 records, all with written_date; zhengwu-liuyan: 2,816 and 4,326
 * records, all with msg_time).  Han counts are checked against ICU's own
 * \p{Han} regex over the same text.
 */
#include "corpora_test_util.h"

#include "corpora_internal.h"

#include <unicode/uregex.h>
#include <unicode/ustring.h>

static char *shared(const char *rel)
{
    size_t n = strlen(TIFA_SHARED_CORPORA) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", TIFA_SHARED_CORPORA, rel);
    if (access(p, R_OK) != 0) {
        printf("SKIP: shared corpus %s is absent\n", p);
        free(p);
        return NULL;
    }
    return p;
}

static tifa_load_options opts(void)
{
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.datadir = TIFA_TEST_DATADIR;
    return o;
}

/* Han characters by ICU's regex engine: an independent count. */
static size_t icu_han(const char *s)
{
    UErrorCode err = U_ZERO_ERROR;
    int32_t len = 0;
    u_strFromUTF8(NULL, 0, &len, s, -1, &err);
    err = U_ZERO_ERROR;
    UChar *u = malloc(((size_t)len + 1) * sizeof *u);
    u_strFromUTF8(u, len + 1, NULL, s, -1, &err);
    assert_true(U_SUCCESS(err));
    UChar pat[16];
    u_uastrcpy(pat, "\\p{Han}");
    URegularExpression *re = uregex_open(pat, -1, 0, NULL, &err);
    uregex_setText(re, u, len, &err);
    size_t n = 0;
    while (uregex_findNext(re, &err)) n++;
    uregex_close(re);
    free(u);
    return n;
}

static void test_seed_forum(void **state)
{
    (void)state;
    char *p = shared("seed/forum-thread-2014-04-04.txt");
    if (!p) skip();
    tifa_load_options o = opts();
    loaded x;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 1);
    tifa_doc *d = x.docs[0];
    assert_int_equal(d->kind, TIFA_POST);
    assert_string_equal(d->title, "突出“问题”导向 打通联系服务群众“最后一公里”");
    assert_string_equal(d->category, "时事评论");
    assert_string_equal(d->date, "2014-04-04T11:41:02");
    assert_int_equal(d->views, 1173);
    assert_int_equal(d->replies, 1);
    assert_string_equal(d->author, "中共祁阳县委副书记、县长");
    assert_true(starts_with(d->text, "红网祁阳站讯"));
    assert_true(ends_with(d->text, "树立干部新形象。"));
    assert_string_equal(tifa_doc_field(d, "article_time"), "2014-04-03T10:06:28");
    /* No furniture, header, title echo, time line or byline survives. */
    const char *bad[] = {"dsu_paulsign", "发表于", "复制链接", "查看:", "字体",
                         "时间:", "作者系", "使用道具", "立即注册", "返回顶部",
                         "显示全部楼层", ";P", NULL};
    for (size_t k = 0; bad[k]; k++) assert_null(strstr(d->text, bad[k]));
    assert_false(starts_with(d->text, "突出"));
    /* Five paragraphs: the lead and sections 一 to 四. */
    size_t lines = 1;
    for (const char *c = d->text; *c; c++) lines += *c == '\n';
    assert_int_equal(lines, 5);
    assert_int_equal(d->chars, icu_han(d->text));
    assert_null(d->duplicate_of);
    free_loaded(&x);

    o.include_replies = true;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.docs[1]->kind, TIFA_REPLY);
    assert_string_equal(x.docs[1]->text, ";P;P;P;P;P");
    assert_string_equal(x.docs[1]->date, "2014-04-06T05:28:13");
    assert_int_equal(x.docs[1]->chars, 0);
    assert_int_equal(x.sum.replies, 1);
    free_loaded(&x);
    free(p);
}

/* Reference text: drop a BOM and turn CRLF into LF. */
static char *reference(const char *path, size_t *n)
{
    size_t len;
    char *s = read_all(path, &len);
    assert_non_null(s);
    size_t i = 0, j = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
    for (; i < len; i++) {
        if (s[i] == '\r') {
            s[j++] = '\n';
            if (i + 1 < len && s[i + 1] == '\n') i++;
        } else {
            s[j++] = s[i];
        }
    }
    s[j] = '\0';
    *n = j;
    return s;
}

static void check_icwb2(const char *name, const char *family1,
                        const char *family2)
{
    char rel[128];
    snprintf(rel, sizeof rel, "icwb2-encodings/%s_test.txt", name);
    char *raw_path = shared(rel);
    if (!raw_path) skip();
    snprintf(rel, sizeof rel, "icwb2-encodings/%s_test.utf8", name);
    char *ref_path = shared(rel);
    if (!ref_path) skip();
    size_t raw_n, ref_n;
    char *raw = read_all(raw_path, &raw_n);
    char *ref = reference(ref_path, &ref_n);
    tifa_diag *diag = tifa_diag_new();
    char *out = NULL;
    size_t out_n = 0;
    const char *detected = NULL;
    assert_int_equal(tifa_decode(raw, raw_n, NULL, raw_path, false, diag, &out,
                                 &out_n, &detected),
                     TIFA_OK);
    assert_non_null(detected);
    printf("%s: detected %s\n", name, detected);
    assert_true(strcmp(detected, family1) == 0 ||
                (family2 && strcmp(detected, family2) == 0));
    assert_int_equal(tifa_diag_count(diag, TIFA_WARNING), 0);
    assert_int_equal(out_n, ref_n);
    assert_memory_equal(out, ref, ref_n);
    /* And through the loader, with the encoding not given either. */
    tifa_load_options o = opts();
    o.keep_duplicates = true;
    loaded x;
    load_one(&x, &o, raw_path);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.sum.replacement_chars, 0);
    free_loaded(&x);
    free(out);
    free(raw);
    free(ref);
    tifa_diag_free(diag);
    free(raw_path);
    free(ref_path);
}

static void test_icwb2_pku(void **s) { (void)s; check_icwb2("pku", "GB18030", NULL); }
static void test_icwb2_msr(void **s) { (void)s; check_icwb2("msr", "GB18030", NULL); }
static void test_icwb2_cityu(void **s)
{
    (void)s;
    check_icwb2("cityu", "ibm-1375_P100-2008", NULL);
}
static void test_icwb2_as(void **s)
{
    (void)s;
    /* Big5 text decodes identically as Big5-HKSCS (a superset). */
    check_icwb2("as", "windows-950-2000", "ibm-1375_P100-2008");
}

static bool iso_date(const char *d, size_t len)
{
    if (!d || strlen(d) != len) return false;
    for (size_t i = 0; i < len; i++) {
        bool digit = d[i] >= '0' && d[i] <= '9';
        if (i == 4 || i == 7) {
            if (d[i] != '-') return false;
        } else if (i == 10) {
            if (d[i] != 'T') return false;
        } else if (i == 13 || i == 16) {
            if (d[i] != ':') return false;
        } else if (!digit) {
            return false;
        }
    }
    return true;
}

static void test_govreports(void **state)
{
    (void)state;
    char *p = shared("govreports/government_work_reports.jsonl");
    if (!p) skip();
    tifa_load_options o = opts();
    o.group_by = "decade";
    loaded x;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 72);
    size_t dated = 0;
    for (size_t i = 0; i < x.n; i++) {
        tifa_doc *d = x.docs[i];
        assert_non_null(d->title);
        assert_non_null(tifa_doc_field(d, "url"));
        if (d->date) {
            dated++;
            assert_true(iso_date(d->date, 4));
            assert_string_equal(d->date, tifa_doc_field(d, "year"));
            char decade[8];
            snprintf(decade, sizeof decade, "%.3s0s", d->date);
            assert_string_equal(d->group, decade);
        } else {
            assert_null(d->group);
        }
        assert_true(d->chars > 0);
        assert_int_equal(d->chars, icu_han(d->text));
    }
    assert_int_equal(dated, 52);
    /* The last record is the 1954 report. */
    assert_string_equal(x.docs[71]->date, "1954");
    assert_string_equal(x.docs[71]->group, "1950s");
    assert_int_equal(x.docs[71]->chars, icu_han(x.docs[71]->text));
    assert_int_equal(x.sum.replacement_chars, 0);
    free_loaded(&x);
    free(p);
}

static void test_gov_policy(void **state)
{
    (void)state;
    char *p = shared("gov-policy-sc");
    if (!p) skip();
    tifa_load_options o = opts();
    o.group_by = "year";
    loaded x;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 60);
    for (size_t i = 0; i < x.n; i++) {
        assert_true(iso_date(x.docs[i]->date, 10));
        assert_string_equal(x.docs[i]->doc_id, tifa_doc_field(x.docs[i], "id"));
    }
    /* Record id 1: written_date 2019年01月27日. */
    assert_string_equal(x.docs[0]->doc_id, "1");
    assert_string_equal(x.docs[0]->date, "2019-01-27");
    assert_string_equal(x.docs[0]->group, "2019");
    free_loaded(&x);
    free(p);
}

static void test_zhengwu(void **state)
{
    (void)state;
    char *a = shared("zhengwu-liuyan/liuyan_with_replies.jsonl");
    char *b = shared("zhengwu-liuyan/liuyan_with_votes.jsonl");
    if (!a || !b) {
        free(a);
        free(b);
        skip();
    }
    tifa_load_options o = opts();
    loaded x;
    load_one(&x, &o, a);
    assert_int_equal(x.n, 2816);
    for (size_t i = 0; i < x.n; i++)
        assert_true(iso_date(x.docs[i]->date, 19));
    /* First record: msg_time 2019-04-25 09:32:09, id 2549. */
    assert_string_equal(x.docs[0]->date, "2019-04-25T09:32:09");
    assert_string_equal(x.docs[0]->doc_id, "2549");
    /* The scrape's "\n\t\t\t" padding is gone. */
    assert_true(starts_with(x.docs[0]->text, "2019年4月以来"));
    free_loaded(&x);
    load_one(&x, &o, b);
    assert_int_equal(x.n, 4326);
    for (size_t i = 0; i < x.n; i++)
        assert_true(iso_date(x.docs[i]->date, 19));
    free_loaded(&x);
    free(a);
    free(b);
}

/* The fast sentence counter equals ICU's on every real document. */
static void test_sentences_match_icu(void **state)
{
    (void)state;
    const char *rels[] = {"govreports", "gov-policy-sc", "zhengwu-liuyan",
                          "icwb2-encodings/as_test.txt",
                          "icwb2-encodings/cityu_test.txt",
                          "icwb2-encodings/msr_test.txt",
                          "seed/forum-thread-2014-04-04.txt", NULL};
    tifa_status st;
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    size_t docs = 0;
    for (size_t r = 0; rels[r]; r++) {
        char *p = shared(rels[r]);
        if (!p) continue;
        tifa_load_options o = opts();
        o.keep_duplicates = true;
        o.include_replies = true;
        loaded x;
        load_one(&x, &o, p);
        for (size_t i = 0; i < x.n; i++) {
            size_t icu = tifa_count_sentences_icu_i(seg, x.docs[i]->text,
                                                    x.docs[i]->text_len);
            if (icu != x.docs[i]->sentences)
                fail_msg("%s: fast %zu, ICU %zu", x.docs[i]->doc_id,
                         x.docs[i]->sentences, icu);
            docs++;
        }
        free_loaded(&x);
        free(p);
    }
    tifa_segmenter_free(seg);
    if (docs == 0) skip();
}

/* The demo corpus (examples/demo, written by another engineer): the Han
 * counts per county and year come from its README, worked out by hand. */
static void test_demo_corpus(void **state)
{
    (void)state;
    const char *dirs[] = {TIFA_TEST_EXAMPLES "/demo/corpus/qingchuan",
                          TIFA_TEST_EXAMPLES "/demo/corpus/baihe"};
    const size_t want[2][2] = {{703, 675}, {704, 677}};
    for (int k = 0; k < 2; k++) {
        if (access(dirs[k], R_OK) != 0) {
            printf("SKIP: %s is absent\n", dirs[k]);
            skip();
        }
        tifa_load_options o = opts();
        o.group_by = "year";
        loaded x;
        load_one(&x, &o, dirs[k]);
        size_t chars[2] = {0, 0}, counted = 0, dups = 0;
        for (size_t i = 0; i < x.n; i++) {
            tifa_doc *d = x.docs[i];
            assert_int_equal(d->kind, TIFA_POST);
            assert_string_equal(d->category, "时事评论");
            assert_non_null(d->author);
            if (d->duplicate_of) {
                dups++;
                continue;
            }
            counted++;
            if (strcmp(d->group, "2014") == 0) chars[0] += d->chars;
            else if (strcmp(d->group, "2015") == 0) chars[1] += d->chars;
            else fail_msg("unexpected group %s", d->group);
        }
        assert_int_equal(counted, 6);
        assert_int_equal(chars[0], want[k][0]);
        assert_int_equal(chars[1], want[k][1]);
        /* qingchuan/2015 thread 4 reposts thread 1 with one edit. */
        assert_int_equal(dups, k == 0 ? 1 : 0);
        assert_int_equal(x.sum.replacement_chars, 0);
        free_loaded(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_forum),  cmocka_unit_test(test_icwb2_pku),
        cmocka_unit_test(test_icwb2_msr),   cmocka_unit_test(test_icwb2_cityu),
        cmocka_unit_test(test_icwb2_as),    cmocka_unit_test(test_govreports),
        cmocka_unit_test(test_gov_policy),  cmocka_unit_test(test_zhengwu),
        cmocka_unit_test(test_sentences_match_icu),
        cmocka_unit_test(test_demo_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
