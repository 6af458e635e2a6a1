/*
 * test_text.c — normalisation (NFKC fast path, Hant-Hans) and segmentation
 * (Han counting, Han runs, ICU sentences and words).
 *
 * Expected strings are worked out by hand from the Unicode decompositions
 * (e.g. U+FF0C FULLWIDTH COMMA -> ',', U+3220 ㈠ -> "(一)"); the fast path
 * is also compared with ICU's unorm2_normalize on strings built from
 * characters that stress it, and the Han table with uscript_getScript for
 * every code point.
 */
#include "corpora_test_util.h"

#include "corpora_internal.h"

#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

static char *norm(const char *s, bool simplified)
{
    char *out;
    size_t n;
    assert_int_equal(tifa_normalize(s, strlen(s), simplified, &out, &n),
                     TIFA_OK);
    assert_int_equal(strlen(out), n);
    return out;
}

static void expect_norm(const char *in, const char *want)
{
    char *got = norm(in, false);
    assert_string_equal(got, want);
    free(got);
}

static void test_nfkc_by_hand(void **state)
{
    (void)state;
    expect_norm("ＡＢＣ１２３，：（）！？", "ABC123,:()!?");
    expect_norm("中\xE3\x80\x80文", "中 文");            /* U+3000 */
    expect_norm("\xEF\xA4\x80", "\xE8\xB1\x88");        /* U+F900 -> U+8C48 */
    expect_norm("e\xCC\x81", "\xC3\xA9");               /* e + acute -> é */
    expect_norm("Ａ\xCC\x80", "\xC3\x80");              /* Ａ + grave -> À */
    expect_norm("㈠", "(一)");
    expect_norm("①②", "12");
    expect_norm("ﾊﾟ", "パ");                              /* halfwidth: compose */
    expect_norm("“最后一公里”。、", "“最后一公里”。、"); /* unchanged */
    expect_norm("", "");
    /* A combining mark right after a fullwidth letter after Han text. */
    expect_norm("国ｅ\xCC\x81国", "国\xC3\xA9国");
}

/* Compare with ICU on many strings mixing the fast-path classes. */
static void test_nfkc_matches_icu(void **state)
{
    (void)state;
    static const char *const pool[] = {
        "a", "中", "，", "\xE3\x80\x80", "\xCC\x81", "\xCC\x80", "Ａ", "e",
        "\xEF\xA4\x80", "㈠", "ﾊ", "ﾟ", "\xE1\x84\x80", "\xE1\x85\xA1",
        "가", "\xF0\xA0\x80\x80", "\xF0\xAF\xA0\x80", "。", "①", "ﬁ", "\n",
        "\xE2\x80\xA6", "\xC2\xA0", "Å", "\xE2\x84\xAB"};
    const size_t np = sizeof pool / sizeof pool[0];
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&err);
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        char in[256] = "";
        size_t len = 0;
        int k = 1 + (int)(seed % 12);
        for (int j = 0; j < k; j++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pool[(seed >> 16) % np];
            memcpy(in + len, p, strlen(p));
            len += strlen(p);
        }
        in[len] = '\0';
        UChar u[256], v[1024];
        int32_t ul = 0;
        err = U_ZERO_ERROR;
        u_strFromUTF8(u, 256, &ul, in, (int32_t)len, &err);
        int32_t vl = unorm2_normalize(nfkc, u, ul, v, 1024, &err);
        char want[2048];
        int32_t wl = 0;
        u_strToUTF8(want, sizeof want, &wl, v, vl, &err);
        assert_true(U_SUCCESS(err));
        want[wl] = '\0';
        char *got = norm(in, false);
        if (strcmp(got, want) != 0) fail_msg("round %d: '%s'", round, in);
        free(got);
    }
}

static void test_hant_hans(void **state)
{
    (void)state;
    char *s = norm("國家發展，「兩學一做」\n第二段：幹部", true);
    /* ICU's Hant-Hans also turns the corner brackets into “ ”, which
     * suits the quoted-span counts (SPEC §4) since both pairs count. */
    assert_string_equal(s, "国家发展,“两学一做”\n第二段:干部");
    free(s);
}

/* tifa_count_han agrees with ICU's Script=Han for every code point. */
static void test_han_table(void **state)
{
    (void)state;
    for (UChar32 c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char buf[4];
        int32_t len = 0;
        UBool bad = 0;
        U8_APPEND(buf, len, 4, c, bad);
        assert_false(bad);
        UErrorCode err = U_ZERO_ERROR;
        bool han = uscript_getScript(c, &err) == USCRIPT_HAN;
        if (tifa_count_han(buf, (size_t)len) != (han ? 1u : 0u))
            fail_msg("U+%04X: ICU says %s", (unsigned)c, han ? "Han" : "not Han");
    }
    /* 中 文 〇 々 𠀀 are Han; a b c ， 。 ㄅ are not. */
    assert_int_equal(tifa_count_han("中文abc〇々，。ㄅ\xF0\xA0\x80\x80", 29), 5);
}

typedef struct runs {
    char text[8][64];
    size_t chars[8];
    size_t n;
} runs;

static void on_run(const char *run, size_t bytes, size_t chars, void *user)
{
    runs *r = user;
    assert_true(r->n < 8);
    memcpy(r->text[r->n], run, bytes);
    r->text[r->n][bytes] = '\0';
    r->chars[r->n++] = chars;
}

static void test_han_runs(void **state)
{
    (void)state;
    runs r = {0};
    const char *s = "我们ab的，“最后一公里”x";
    tifa_han_runs(s, strlen(s), on_run, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.text[0], "我们");
    assert_int_equal(r.chars[0], 2);
    assert_string_equal(r.text[1], "的");
    assert_string_equal(r.text[2], "最后一公里");
    assert_int_equal(r.chars[2], 5);
}

typedef struct spans {
    char text[16][128];
    size_t n;
    size_t breaks;
} spans;

static void on_span(const char *start, size_t bytes, void *user)
{
    spans *s = user;
    if (!start) {
        s->breaks++;
        return;
    }
    assert_true(s->n < 16 && bytes < 128);
    memcpy(s->text[s->n], start, bytes);
    s->text[s->n][bytes] = '\0';
    s->n++;
}

static void test_sentences(void **state)
{
    (void)state;
    tifa_status st;
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    assert_non_null(seg);
    const char *a = "第一句。第二句!第三句?";
    assert_int_equal(tifa_count_sentences(seg, a, strlen(a)), 3);
    /* A closing quote stays with its sentence; a paragraph break ends one
     * even without a stop. */
    const char *b = "他说:“好。”然后走了。\n没有句号的段落\n最后一段。";
    spans s = {0};
    assert_int_equal(tifa_sentences(seg, b, strlen(b), on_span, &s), TIFA_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.text[0], "他说:“好。”");
    assert_string_equal(s.text[1], "然后走了。\n");
    assert_string_equal(s.text[2], "没有句号的段落\n");
    assert_string_equal(s.text[3], "最后一段。");
    assert_int_equal(tifa_count_sentences(seg, "", 0), 0);
    assert_int_equal(tifa_count_sentences(seg, " \n \n", 4), 0);
    tifa_segmenter_free(seg);
}

static void test_words(void **state)
{
    (void)state;
    tifa_status st;
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    assert_non_null(seg);
    const char *a = "我们的国家,人民";
    spans s = {0};
    assert_int_equal(tifa_words(seg, a, strlen(a), on_span, &s), TIFA_OK);
    /* The comma is reported as a break; the words rebuild the text. */
    assert_int_equal(s.breaks, 1);
    char joined[256] = "";
    for (size_t i = 0; i < s.n; i++) strcat(joined, s.text[i]);
    assert_string_equal(joined, "我们的国家人民");
    assert_true(s.n >= 3); /* dictionary words, not one per character */
    assert_true(s.n <= 5);
    tifa_segmenter_free(seg);
}

/* The fast sentence counter agrees with the ICU break iterator. */
static void test_sentence_fast_path(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "第一句。第二句。", "他说:“好。”然后走了。", "好!!真的?是的。",
        "增长3.5%。下降2.1个百分点。", "见附件.然后", "Mr. Smith went. Then",
        "“走!”他说。", "一、二。 三。", "问题。”,他说", "结尾没有标点",
        "。。。", "Hello world. 你好。", "a.b", "e.g. this", "第一段。\n第二段!\n",
        "\n\n空行之后。\n", "句子。  \t后面有空格", "U.S.A. is", "3.14",
        "他问:“真的吗?”“真的。”", "(括号。)下一句", "「引号。」下一句",
        "停顿、继续。", "…………", "最后一公里;打通。", "两个句号。。再来",
        "e\xCC\x81t\xC3\xA9. Next", "中文\xE2\x80\x8B零宽。", NULL};
    tifa_status st;
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    for (size_t k = 0; cases[k]; k++) {
        size_t n = strlen(cases[k]);
        size_t fast = tifa_count_sentences(seg, cases[k], n);
        size_t icu = tifa_count_sentences_icu_i(seg, cases[k], n);
        if (fast != icu)
            fail_msg("'%s': fast %zu, ICU %zu", cases[k], fast, icu);
    }
    tifa_segmenter_free(seg);
}

/* The fused record cleaner (tifa_normalizer_clean_i) gives exactly what
 * the separate steps give: NFKC, then paragraphs, then the counts (which
 * the tests above tie to ICU).  Random texts mix long Han runs (the 16-byte
 * path), mapped and composed characters, blanks of every kind at both
 * ends of lines, empty lines, CR, terminators, ATerm and hard breaks. */
static void test_clean_fused(void **state)
{
    (void)state;
    static const char *const pool[] = {
        "中", "国家发展改革", "一二三四五六七八九十", "\xE4\xB7\x80", "，", "。",
        "、", "“", "”", "！", "?", " ", "\t", "\r", "\n", "\n\n",
        "\xE3\x80\x80", "\xC2\xA0", "\xE2\x80\x82", "Ａ", "１", "3", ".", "a.",
        "…", "㈠", "\xE2\x80\x8B", "\xEF\xA4\x80", "\xF0\xA0\x80\x80", "〇",
        "々", "（", "）", "：", "; ", "¨", "e\xCC\x81", "\xCC\x81", "ﾊﾟ"};
    const size_t np = sizeof pool / sizeof pool[0];
    tifa_status st;
    tifa_normalizer *nz = tifa_normalizer_new_i(false, &st);
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    assert_non_null(nz);
    assert_non_null(seg);
    unsigned seed = 4242;
    size_t fused = 0;
    for (int round = 0; round < 4000; round++) {
        char in[80 * 30 + 1]; /* parts times the longest piece */
        /* Combining marks (the last three) send the whole text to the
         * separate steps; they are rare so that most texts stay on the
         * fused path. */
        size_t n = random_mix(in, pool, np, 1 + round % 80, 3, 16, &seed);
        tifa_buf norm = {0}, want = {0}, got = {0};
        assert_int_equal(tifa_normalizer_run_i(nz, in, n, &norm), TIFA_OK);
        assert_int_equal(tifa_paragraphs_i(norm.data ? norm.data : "",
                                           norm.len, &want),
                         TIFA_OK);
        size_t chars = 0, sentences = 0, wc, ws;
        bool counted;
        assert_int_equal(tifa_normalizer_clean_i(nz, seg, in, n, &got, &chars,
                                                 &sentences, &counted),
                         TIFA_OK);
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
            fail_msg("round %d: text differs for '%s'", round, in);
        if (counted) {
            fused++;
            tifa_text_counts_i(seg, want.data, want.len, &wc, &ws);
            if (wc != chars || ws != sentences)
                fail_msg("round %d: counts %zu/%zu, separately %zu/%zu "
                         "for '%s'",
                         round, chars, sentences, wc, ws, in);
        }
        tifa_buf_free(&norm);
        tifa_buf_free(&want);
        tifa_buf_free(&got);
    }
    assert_true(fused > 1500); /* the fused path was taken */
    tifa_normalizer_free_i(nz);
    tifa_segmenter_free(seg);
}

/* The counter's 16-byte Han runs agree with ICU on long paragraphs. */
static void test_counts_long_runs(void **state)
{
    (void)state;
    static const char *const pool[] = {
        "中", "国家发展改革委员会", "\xE4\xB8\x80", "\xE4\xB7\x80", "\xE4\xB7\xBF",
        "\xE9\xBF\xBF", "。", ",", "“", "”", " ", "3.5", "!", "\n", "〇",
        "\xF0\xA0\x80\x80", "\xE3\x90\x80", "a", "\xEF\xA4\x80"};
    const size_t np = sizeof pool / sizeof pool[0];
    tifa_status st;
    tifa_segmenter *seg = tifa_segmenter_new(&st);
    unsigned seed = 777;
    for (int round = 0; round < 3000; round++) {
        char in[100 * 27 + 1]; /* parts times the longest piece */
        size_t n = random_mix(in, pool, np, 1 + round % 100, 0, 1, &seed);
        size_t chars, sentences;
        tifa_text_counts_i(seg, in, n, &chars, &sentences);
        /* Han by ICU's script property, sentences by its break iterator. */
        size_t han = 0;
        for (int32_t i = 0; i < (int32_t)n;) {
            UChar32 c;
            U8_NEXT(in, i, (int32_t)n, c);
            UErrorCode err = U_ZERO_ERROR;
            han += uscript_getScript(c, &err) == USCRIPT_HAN;
        }
        size_t icu = tifa_count_sentences_icu_i(seg, in, n);
        if (han != chars || icu != sentences)
            fail_msg("round %d: %zu/%zu, ICU %zu/%zu", round, chars,
                     sentences, han, icu);
    }
    tifa_segmenter_free(seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nfkc_by_hand),  cmocka_unit_test(test_nfkc_matches_icu),
        cmocka_unit_test(test_hant_hans),     cmocka_unit_test(test_han_table),
        cmocka_unit_test(test_han_runs),      cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_sentence_fast_path),
        cmocka_unit_test(test_clean_fused),
        cmocka_unit_test(test_counts_long_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
