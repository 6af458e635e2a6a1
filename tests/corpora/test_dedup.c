/*
 * test_dedup.c — exact and near-duplicate marking (loader stage 7).
 *
 * Four documents written for the test: A (about 300 characters), B = A
 * exactly, C = A with one character changed (a repost with a small edit),
 * D an unrelated text.  The true Jaccard similarity of C's and A's
 * character 5-shingle sets is computed here by brute force, independently
 * of the MinHash sketch, and the sketch's estimate must be close to it.
 */
#include "corpora_test_util.h"

#define A_TEXT                                                                 \
    "坚持以人民为中心的发展思想，把群众满意作为工作的出发点和落脚点，推动各项"     \
    "惠民政策落地见效。各级干部要深入基层、深入群众，做到面对面听取意见、点对点"   \
    "解决问题，真正打通联系服务群众的最后一公里。今年以来，全县新建便民服务中心"   \
    "十二个，培训网格员八百余人，办结群众诉求三千余件，群众满意率明显提升。下一"   \
    "步，我们将围绕就业、教育、医疗、养老等重点领域，持续用力补齐民生短板，健全"   \
    "长效机制，确保每一项承诺都落到实处，让发展成果更多更公平地惠及全体人民。"

#define C_TEXT                                                                 \
    "坚持以人民为中心的发展思想，把群众满意作为工作的出发点和落脚点，推动各项"     \
    "惠民政策落地见效。各级干部要深入基层、深入群众，做到面对面听取意见、点对点"   \
    "解决问题，真正打通联系服务群众的最后一公里。今年以来，全县新建便民服务中心"   \
    "十三个，培训网格员八百余人，办结群众诉求三千余件，群众满意率明显提升。下一"   \
    "步，我们将围绕就业、教育、医疗、养老等重点领域，持续用力补齐民生短板，健全"   \
    "长效机制，确保每一项承诺都落到实处，让发展成果更多更公平地惠及全体人民。"

#define D_TEXT                                                                 \
    "本报讯　春节前夕，县委书记一行走访慰问困难党员和老干部，送去米面油等慰问"     \
    "品，详细询问他们的身体状况和生活情况，叮嘱有关部门切实做好困难群众的帮扶工"   \
    "作，确保他们过一个欢乐祥和的新春佳节。"

static void write_corpus(const char *dir)
{
    free(write_file(dir, "a.txt", A_TEXT, strlen(A_TEXT)));
    free(write_file(dir, "b.txt", A_TEXT, strlen(A_TEXT)));
    free(write_file(dir, "c.txt", C_TEXT, strlen(C_TEXT)));
    free(write_file(dir, "d.txt", D_TEXT, strlen(D_TEXT)));
}

/* Code points of a UTF-8 string (NFKC: the fullwidth comma is ','). */
static size_t cps(const char *s, uint32_t *out)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        if (*p < 0x80) c = *p++;
        else if (*p < 0xE0) { c = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu); p += 2; }
        else if (*p < 0xF0) {
            c = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            p += 3;
        } else {
            c = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
                ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
            p += 4;
        }
        if (c != ' ' && c != '\n' && c != 0x3000) out[n++] = c;
    }
    return n;
}

static double true_jaccard(const char *a, const char *b)
{
    static uint32_t x[1024], y[1024];
    size_t nx = cps(a, x), ny = cps(b, y);
    size_t inter = 0, ux = nx - 4, uy = ny - 4;
    /* Shingles are distinct within each text here (checked below). */
    for (size_t i = 0; i + 5 <= nx; i++) {
        for (size_t j = i + 1; j + 5 <= nx; j++)
            assert_false(memcmp(x + i, x + j, 5 * sizeof *x) == 0);
        for (size_t j = 0; j + 5 <= ny; j++)
            if (memcmp(x + i, y + j, 5 * sizeof *x) == 0) {
                inter++;
                break;
            }
    }
    return (double)inter / (double)(ux + uy - inter);
}

static void test_exact_and_near(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    write_corpus(dir);
    tifa_load_options o;
    tifa_load_options_init(&o);
    loaded x;
    load_one(&x, &o, dir);
    assert_int_equal(x.n, 4);
    tifa_doc *a = x.docs[0], *b = x.docs[1], *c = x.docs[2], *d = x.docs[3];
    assert_null(a->duplicate_of);
    assert_non_null(b->duplicate_of);
    assert_string_equal(b->duplicate_of, a->doc_id);
    assert_true(b->similarity == 1.0);
    assert_non_null(c->duplicate_of);
    assert_string_equal(c->duplicate_of, a->doc_id);
    double j = true_jaccard(a->text, c->text);
    /* One changed character touches 5 of ~300 shingles. */
    assert_true(j > 0.95 && j < 0.99);
    assert_true(c->similarity >= 0.9 && c->similarity < 1.0);
    assert_true(c->similarity > j - 0.08 && c->similarity < j + 0.08);
    assert_null(d->duplicate_of);
    assert_int_equal(x.sum.duplicates, 2);
    free_loaded(&x);

    /* Threshold 0 turns near-duplicates off; exact ones stay. */
    o.near_duplicate = 0;
    load_one(&x, &o, dir);
    assert_non_null(x.docs[1]->duplicate_of);
    assert_null(x.docs[2]->duplicate_of);
    free_loaded(&x);

    /* A threshold above the similarity keeps C unique. */
    o.near_duplicate = 0.995;
    load_one(&x, &o, dir);
    assert_null(x.docs[2]->duplicate_of);
    free_loaded(&x);

    /* keep_duplicates marks nothing. */
    o.near_duplicate = 0.9;
    o.keep_duplicates = true;
    load_one(&x, &o, dir);
    for (size_t i = 0; i < x.n; i++) assert_null(x.docs[i]->duplicate_of);
    assert_int_equal(x.sum.duplicates, 0);
    free_loaded(&x);
    tmpdir_remove(dir);
}

/* Many distinct documents: none is marked (no false positives), and the
 * first of each repeated pair is found among hundreds. */
static void test_many(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    char name[64], text[512];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "doc%03d.txt", i);
        snprintf(text, sizeof text,
                 "第%d号通知：请各单位于%d月%d日前报送第%d季度工作总结，"
                 "编号%05d，联系人%d号窗口。",
                 i, 1 + i % 12, 1 + i % 28, 1 + i % 4, i * 37, i);
        free(write_file(dir, name, text, strlen(text)));
    }
    free(write_file(dir, "zz-a.txt", A_TEXT, strlen(A_TEXT)));
    free(write_file(dir, "zz-b.txt", A_TEXT, strlen(A_TEXT)));
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.near_duplicate = 0.9;
    loaded x;
    load_one(&x, &o, dir);
    assert_int_equal(x.n, 302);
    size_t marked = 0;
    for (size_t i = 0; i < x.n; i++) marked += x.docs[i]->duplicate_of != NULL;
    assert_int_equal(marked, 1);
    assert_string_equal(x.docs[301]->duplicate_of, x.docs[300]->doc_id);
    free_loaded(&x);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_near),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
