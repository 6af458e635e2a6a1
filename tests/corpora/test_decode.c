/*
 * test_decode.c — charset detection and decoding (loader stage 2).
 *
 * Fixtures (tests/fixtures/corpora/enc/, see its README) hold one paragraph
 * of our own in every encoding the loader must detect unaided; each decoded
 * text must equal the UTF-8 reference with LF line ends.  Byte-level cases
 * (invalid bytes, a sequence truncated at end of file, strict mode, a
 * character split between two reads) are built in the test so that the
 * expected offsets can be counted by hand.
 */
#include "corpora_test_util.h"

#include "corpora_internal.h"

#include <unicode/ucnv.h>
#include <unicode/ustring.h>

#define ENC TIFA_TEST_FIXTURES "/corpora/enc/"

static void check_file(const char *file, const char *ref, const char *fam1,
                       const char *fam2)
{
    size_t n, rn;
    char *raw = read_all(file, &n);
    char *expect = read_all(ref, &rn);
    assert_non_null(raw);
    assert_non_null(expect);
    tifa_diag *diag = tifa_diag_new();
    char *out;
    size_t out_n;
    const char *det;
    assert_int_equal(tifa_decode(raw, n, NULL, file, false, diag, &out, &out_n,
                                 &det),
                     TIFA_OK);
    if (strcmp(det, fam1) != 0 && (!fam2 || strcmp(det, fam2) != 0))
        fail_msg("%s detected as %s", file, det);
    assert_int_equal(tifa_diag_size(diag), 0);
    assert_int_equal(out_n, rn);
    assert_memory_equal(out, expect, rn);
    free(out);
    free(raw);
    free(expect);
    tifa_diag_free(diag);
}

static void test_fixtures_detected(void **state)
{
    (void)state;
    check_file(ENC "gbk.txt", ENC "simplified.utf8", "GB18030", NULL);
    check_file(ENC "gb18030.txt", ENC "simplified.utf8", "GB18030", NULL);
    check_file(ENC "big5.txt", ENC "traditional.utf8", "windows-950-2000",
               "ibm-1375_P100-2008");
    check_file(ENC "big5hkscs.txt", ENC "hkscs.utf8", "ibm-1375_P100-2008",
               NULL);
    check_file(ENC "utf8-bom-crlf.txt", ENC "simplified.utf8", "UTF-8", NULL);
    check_file(ENC "utf16le.txt", ENC "simplified.utf8", "UTF-16", NULL);
    check_file(ENC "utf16be.txt", ENC "simplified.utf8", "UTF-16", NULL);
    check_file(ENC "cr.txt", ENC "simplified.utf8", "UTF-8", NULL);
}

/* Through the loader: every fixture gives one document of 84 Han
 * characters (counted by hand: 30 + 32 + 22), 3 paragraphs, 3 sentences. */
static void test_loader_all_encodings(void **state)
{
    (void)state;
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.keep_duplicates = true;
    const char *files[] = {ENC "gbk.txt",       ENC "gb18030.txt",
                           ENC "big5.txt",      ENC "utf8-bom-crlf.txt",
                           ENC "utf16le.txt",   ENC "utf16be.txt",
                           ENC "cr.txt",        NULL};
    loaded x;
    load_paths(&x, &o, files);
    assert_int_equal(x.n, 7);
    for (size_t i = 0; i < x.n; i++) {
        assert_int_equal(x.docs[i]->chars, 84);
        assert_int_equal(x.docs[i]->sentences, 3);
        size_t nl = 0;
        for (const char *c = x.docs[i]->text; *c; c++) nl += *c == '\n';
        assert_int_equal(nl, 2);
        /* NFKC made the fullwidth comma ASCII. */
        assert_non_null(strchr(x.docs[i]->text, ','));
    }
    assert_int_equal(x.sum.replacement_chars, 0);
    free_loaded(&x);
}

/* Mixed encodings in one directory: each file detected on its own. */
static void test_mixed_directory(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    size_t n1, n2, n3;
    char *a = read_all(ENC "gbk.txt", &n1);
    char *b = read_all(ENC "big5hkscs.txt", &n2);
    char *c = read_all(ENC "utf16le.txt", &n3);
    free(write_file(dir, "a-gbk.txt", a, n1));
    free(write_file(dir, "b-hkscs.txt", b, n2));
    free(write_file(dir, "c-utf16.txt", c, n3));
    tifa_load_options o;
    tifa_load_options_init(&o);
    loaded x;
    load_one(&x, &o, dir);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.docs[0]->chars, 84);
    assert_int_equal(x.docs[1]->chars, 71); /* the HKSCS text */
    assert_non_null(strstr(x.docs[1]->text, "佢哋"));
    assert_int_equal(x.docs[2]->chars, 84);
    /* The UTF-16 file repeats the GBK one: an exact duplicate. */
    assert_non_null(x.docs[2]->duplicate_of);
    assert_string_equal(x.docs[2]->duplicate_of, x.docs[0]->doc_id);
    assert_int_equal(x.sum.replacement_chars, 0);
    free_loaded(&x);
    free(a);
    free(b);
    free(c);
    tmpdir_remove(dir);
}

static void test_invalid_byte_reported(void **state)
{
    (void)state;
    /* "中文" (6 bytes), 0xFF at byte 6, "ab", then 0xC3 0x28 (bad
     * continuation) at byte 9. */
    const char in[] = "\xE4\xB8\xAD\xE6\x96\x87\xFF" "ab\xC3(";
    tifa_diag *diag = tifa_diag_new();
    char *out;
    size_t n;
    const char *det;
    assert_int_equal(tifa_decode(in, sizeof in - 1, "utf-8", "t.txt", false,
                                 diag, &out, &n, &det),
                     TIFA_OK);
    assert_string_equal(out, "中文\xEF\xBF\xBD" "ab\xEF\xBF\xBD(");
    assert_int_equal(tifa_diag_size(diag), 2);
    assert_int_equal(tifa_diag_get(diag, 0)->offset, 6);
    assert_int_equal(tifa_diag_get(diag, 1)->offset, 9);
    assert_non_null(strstr(tifa_diag_get(diag, 0)->message, "[FF]"));
    assert_non_null(strstr(tifa_diag_get(diag, 1)->message, "[C3]"));
    assert_string_equal(tifa_diag_get(diag, 0)->file, "t.txt");
    free(out);
    tifa_diag_free(diag);

    /* Strict: an error, no text. */
    diag = tifa_diag_new();
    assert_int_equal(tifa_decode(in, sizeof in - 1, "utf-8", "t.txt", true,
                                 diag, &out, &n, &det),
                     TIFA_EENCODING);
    assert_null(out);
    assert_true(tifa_diag_count(diag, TIFA_ERROR) >= 1);
    tifa_diag_free(diag);

    /* GBK with a lone lead byte at the end (byte 4 of 5). */
    const char gbk[] = "\xD6\xD0\xCE\xC4\xB9";
    diag = tifa_diag_new();
    assert_int_equal(tifa_decode(gbk, 5, "gbk", "g.txt", false, diag, &out, &n,
                                 &det),
                     TIFA_OK);
    assert_string_equal(out, "中文\xEF\xBF\xBD");
    assert_int_equal(tifa_diag_size(diag), 1);
    assert_int_equal(tifa_diag_get(diag, 0)->offset, 4);
    free(out);
    tifa_diag_free(diag);
}

static void test_truncated_at_eof(void **state)
{
    (void)state;
    /* "中文" then the first two bytes of "字" (E5 AD 97). */
    const char in[] = "\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD";
    tifa_diag *diag = tifa_diag_new();
    char *out;
    size_t n;
    const char *det;
    assert_int_equal(tifa_decode(in, 8, NULL, "t.txt", false, diag, &out, &n,
                                 &det),
                     TIFA_OK);
    assert_string_equal(det, "UTF-8");
    assert_string_equal(out, "中文\xEF\xBF\xBD");
    const tifa_diag_entry *e = find_diag(diag, "truncated", "t.txt");
    assert_non_null(e);
    assert_int_equal(e->offset, 6);
    free(out);
    tifa_diag_free(diag);

    /* Through the loader: the document still loads, one U+FFFD counted. */
    tifa_load_options o;
    tifa_load_options_init(&o);
    loaded x;
    load_memory(&x, &o, "trunc.txt", in, 8);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, 2);
    assert_int_equal(x.sum.replacement_chars, 1);
    assert_non_null(find_diag(x.diag, "truncated", "trunc.txt"));
    free_loaded(&x);
}

/* Feeding the decoder one byte at a time splits every multibyte character
 * across two reads; the output must not change. */
static void split_reads(const char *file, const char *charset)
{
    size_t n;
    char *raw = read_all(file, &n);
    tifa_diag *diag = tifa_diag_new();
    char *whole;
    size_t whole_n;
    assert_int_equal(tifa_decode(raw, n, charset, file, false, diag, &whole,
                                 &whole_n, NULL),
                     TIFA_OK);
    tifa_status st;
    tifa_decoder *d = tifa_decoder_new_i(charset, file, false, diag, &st);
    assert_non_null(d);
    tifa_buf out = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tifa_decoder_push_i(d, raw + i, 1, false, &out),
                         TIFA_OK);
    assert_int_equal(tifa_decoder_push_i(d, NULL, 0, true, &out), TIFA_OK);
    assert_int_equal(out.len, whole_n);
    assert_memory_equal(out.data, whole, whole_n);
    assert_int_equal(tifa_decoder_errors_i(d), 0);
    assert_int_equal(tifa_diag_size(diag), 0);
    tifa_decoder_free_i(d);
    tifa_buf_free(&out);
    free(whole);
    free(raw);
    tifa_diag_free(diag);
}

static void test_split_across_reads(void **state)
{
    (void)state;
    split_reads(ENC "simplified.utf8", "UTF-8");
    split_reads(ENC "utf8-bom-crlf.txt", "UTF-8");
    split_reads(ENC "gbk.txt", "GB18030");
    split_reads(ENC "big5hkscs.txt", "ibm-1375_P100-2008");
    split_reads(ENC "utf16le.txt", "UTF-16");
}

/* The loader reads 1 MiB at a time: put a 3-byte character across the
 * first boundary of a JSONL file and check nothing is lost. */
static void test_loader_chunk_boundary(void **state)
{
    (void)state;
    const size_t chunk = (size_t)1 << 20;
    const char *head = "{\"text\": \"";
    size_t hl = strlen(head);
    /* ASCII filler up to chunk - 1, then "中" straddles bytes
     * chunk-1 .. chunk+1. */
    size_t fill = chunk - 1 - hl;
    tifa_buf b = {0};
    tifa_buf_puts(&b, head);
    for (size_t i = 0; i < fill; i++) tifa_buf_putc(&b, 'a');
    tifa_buf_puts(&b, "中国\"}\n{\"text\": \"第二条\"}\n");
    assert_memory_equal(b.data + chunk - 1, "\xE4\xB8\xAD", 3);
    char *dir = tmpdir_new();
    char *p = write_file(dir, "boundary.jsonl", b.data, b.len);
    tifa_load_options o;
    tifa_load_options_init(&o);
    loaded x;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.docs[0]->chars, 2);
    assert_int_equal(x.docs[0]->text_len, fill + 6);
    assert_true(ends_with(x.docs[0]->text, "中国"));
    assert_string_equal(x.docs[1]->text, "第二条");
    assert_int_equal(x.sum.replacement_chars, 0);
    assert_int_equal(tifa_diag_size(x.diag), 0);
    free_loaded(&x);
    free(p);
    tmpdir_remove(dir);
    tifa_buf_free(&b);
}

static void test_encoding_override(void **state)
{
    (void)state;
    tifa_load_options o;
    tifa_load_options_init(&o);
    o.encoding = "big5-hkscs";
    loaded x;
    load_one(&x, &o, ENC "big5hkscs.txt");
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, 71);
    free_loaded(&x);
    /* An unknown name is a usage error at creation. */
    o.encoding = "no-such-charset";
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    assert_null(tifa_loader_new(&o, diag, &st));
    assert_int_equal(st, TIFA_EUSAGE);
    tifa_diag_free(diag);
}

/* tifa_decode of n (<= 1080) bytes as UTF-8 equals ICU's UTF-8 converter
 * output (one U+FFFD per maximal ill-formed subpart).  Line ends aside:
 * we turn CR into LF, so callers' bytes hold no CR. */
static void expect_icu_utf8(const char *in, size_t n, int round)
{
    UErrorCode err = U_ZERO_ERROR;
    UConverter *cnv = ucnv_open("UTF-8", &err);
    UChar u[2048];
    int32_t ul = ucnv_toUChars(cnv, u, 2048, in, (int32_t)n, &err);
    ucnv_close(cnv);
    char want[4096];
    int32_t wl = 0;
    u_strToUTF8(want, sizeof want, &wl, u, ul, &err);
    assert_true(U_SUCCESS(err));
    tifa_diag *diag = tifa_diag_new();
    char *out;
    size_t out_n;
    assert_int_equal(
        tifa_decode(in, n, "utf-8", "r", false, diag, &out, &out_n, NULL),
        TIFA_OK);
    if (out_n != (size_t)wl || memcmp(out, want, out_n) != 0)
        fail_msg("round %d differs from ICU", round);
    free(out);
    tifa_diag_free(diag);
}

/* Random byte strings: our UTF-8 fast path gives exactly ICU's UTF-8
 * converter output (one U+FFFD per maximal ill-formed subpart). */
static void test_utf8_matches_icu(void **state)
{
    (void)state;
    static const unsigned char pool[] = {0x41, 0x0A, 0xE4, 0xB8, 0xAD, 0xE0,
                                         0xA0, 0x80, 0xED, 0x9F, 0xBF, 0xA0,
                                         0xF0, 0x90, 0xF4, 0x8F, 0xC2, 0xC0,
                                         0xFF, 0xEF, 0xBC, 0x8C, 0xF5, 0x7F};
    unsigned seed = 7;
    for (int round = 0; round < 20000; round++) {
        char in[24];
        size_t n = 1 + round % 23;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (char)pool[(seed >> 16) % sizeof pool];
        }
        expect_icu_utf8(in, n, round);
    }
}

/* Longer strings made mostly of whole characters (so that the 16-byte
 * validation blocks see long valid runs: ASCII, three-byte CJK with every
 * kind of lead, two- and four-byte characters) with a stray bad byte now
 * and then, anywhere in a block: the result is still exactly ICU's. */
static void test_utf8_blocks_match_icu(void **state)
{
    (void)state;
    static const char *const pool[] = {
        "a", "\n", ",", "中", "国", "，", "。", "\xE1\x80\x80", "\xEC\xBF\xBF",
        "\xEE\x80\x80", "\xEF\xBF\xBD", "\xE0\xA0\x80", "\xED\x9F\xBF", "é",
        "\xF0\x9F\x98\x80", "\xF0\xA0\x80\x80", "\xE4\xB7\x80", "中文中文中文",
        "\x80", "\xED\xA0\x80", "\xE0\x80", "\xE4\xB8", "\xFF", "\xC0\xAF"};
    const size_t np = sizeof pool / sizeof pool[0];
    unsigned seed = 99;
    for (int round = 0; round < 5000; round++) {
        char in[60 * 18 + 1]; /* parts times the longest piece */
        /* bad pieces (the last six) one time in eight */
        size_t n = random_mix(in, pool, np, 1 + round % 60, 6, 8, &seed);
        expect_icu_utf8(in, n, round);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_detected),
        cmocka_unit_test(test_loader_all_encodings),
        cmocka_unit_test(test_mixed_directory),
        cmocka_unit_test(test_invalid_byte_reported),
        cmocka_unit_test(test_truncated_at_eof),
        cmocka_unit_test(test_split_across_reads),
        cmocka_unit_test(test_loader_chunk_boundary),
        cmocka_unit_test(test_encoding_override),
        cmocka_unit_test(test_utf8_matches_icu),
        cmocka_unit_test(test_utf8_blocks_match_icu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
