/*
 * test_lexicon.c — `total` counts (SPEC §4: non-overlapping occurrences of
 * each string, scanning left to right) through the lexicon matcher (aho.c),
 * against a naive per-string count written here (the str.count rule), on
 * random texts over small alphabets where overlaps and shared
 * prefixes/suffixes are everywhere, through tifa_ac_count (the engine's
 * path) with and without its filter, also on texts full of broken UTF-8;
 * plus hand cases; plus KWIC rows.
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
#include "stats_internal.h"

/* naive: non-overlapping occurrences, left to right */
static size_t naive_count(const char *text, const char *pat)
{
    size_t n = 0, lp = strlen(pat);
    const char *p = text;
    while ((p = strstr(p, pat)) != NULL) {
        n++;
        p += lp;
    }
    return n;
}

/* The first id whose string equals pats[i]: of equal strings only that one
 * is counted. */
static size_t first_id(char **pats, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(pats[j], pats[i]))
            return j;
    return i;
}

/* The totals of the n strings of ac in text, through tifa_ac_count, added
 * to cnt[0..n). */
static void count_text(const tifa_ac *ac, size_t n, const char *text,
                       size_t *cnt)
{
    size_t m = n ? n : 1;
    tifa_ac_tally t = {calloc(m, sizeof(uint32_t)), calloc(m, sizeof(uint32_t)),
                       calloc(m, sizeof(size_t)), calloc(m, sizeof(uint32_t)),
                       0, 1};
    assert_true(t.stamp && t.cnt && t.next && t.touched);
    tifa_ac_count(ac, text, strlen(text), &t);
    for (size_t k = 0; k < t.ntouched; k++)
        cnt[t.touched[k]] += t.cnt[t.touched[k]];
    free(t.stamp);
    free(t.cnt);
    free(t.next);
    free(t.touched);
}

static void test_ac_random(void **state)
{
    (void)state;
    const char *alpha[] = {"哈", "嘿", "呵"};
    srand(12345);
    enum { NP = 300, TEXT = 3000 };
    char *pats[NP];
    size_t lens[NP];
    for (size_t i = 0; i < NP; i++) {
        size_t len = 1 + (size_t)rand() % 5;
        pats[i] = calloc(len * 3 + 1, 1);
        for (size_t k = 0; k < len; k++)
            strcat(pats[i], alpha[rand() % 3]);
        lens[i] = strlen(pats[i]);
    }
    char *text = calloc(TEXT * 3 + 1, 1);
    for (size_t k = 0; k < TEXT; k++)
        strcat(text, alpha[rand() % 3]);
    tifa_status st;
    tifa_ac *ac = tifa_ac_new((const char *const *)pats, lens, NP, &st);
    assert_non_null(ac);
    size_t cnt[NP] = {0};
    count_text(ac, NP, text, cnt);
    for (size_t i = 0; i < NP; i++) {
        /* duplicates among the random strings map to the first id */
        if (first_id(pats, i) != i)
            continue;
        assert_int_equal(cnt[i], naive_count(text, pats[i]));
    }
    tifa_ac_free(ac);
    for (size_t i = 0; i < NP; i++)
        free(pats[i]);
    free(text);
}

static void test_ac_hand(void **state)
{
    (void)state;
    const char *pats[] = {"哈哈", "最后一公里", "一公里", "公", ""};
    size_t lens[5];
    for (size_t i = 0; i < 5; i++)
        lens[i] = strlen(pats[i]);
    tifa_status st;
    tifa_ac *ac = tifa_ac_new(pats, lens, 5, &st);
    assert_non_null(ac);
    size_t cnt[5] = {0};
    const char *text = "哈哈哈哈哈,打通最后一公里,一公里";
    count_text(ac, 5, text, cnt);
    assert_int_equal(cnt[0], 2); /* 哈哈|哈哈|哈 */
    assert_int_equal(cnt[1], 1);
    assert_int_equal(cnt[2], 2); /* inside 最后一公里 too */
    assert_int_equal(cnt[3], 2);
    assert_int_equal(cnt[4], 0); /* empty strings never match */
    tifa_ac_free(ac);
    /* an empty automaton */
    ac = tifa_ac_new(pats, lens, 0, &st);
    assert_non_null(ac);
    size_t none[1] = {0};
    count_text(ac, 0, text, none);
    assert_int_equal(none[0], 0);
    tifa_ac_free(ac);
}

/* Counts text (n bytes) as a new document of t and checks every string's
 * total against the naive count; a string equal to an earlier one counts
 * under the earlier id only. */
static void check_doc(const tifa_ac *ac, char **pats, size_t np,
                      const char *text, size_t n, tifa_ac_tally *t)
{
    t->cur++;
    t->ntouched = 0;
    tifa_ac_count(ac, text, n, t);
    size_t *got = calloc(np, sizeof *got);
    assert_non_null(got);
    for (size_t k = 0; k < t->ntouched; k++)
        got[t->touched[k]] = t->cnt[t->touched[k]];
    for (size_t i = 0; i < np; i++)
        assert_int_equal(got[i], first_id(pats, i) == i
                                     ? naive_count(text, pats[i])
                                     : 0);
    free(got);
}

/* tifa_ac_count (the engine's path: accounting inside the scan) against the
 * naive count, with the filter and without it (the trie walked at every
 * byte), on random texts over an alphabet that mixes one-, two-, three- and
 * four-byte characters,
 * with one-character strings and strings that overlap themselves and each
 * other; the text is counted as several documents to exercise the stamps. */
static void test_ac_count_random(void **state)
{
    (void)state;
    const char *alpha[] = {"哈", "嘿", "呵", "一", "a", "é", "𠀀", "、"};
    enum { NA = 8, NP = 400, TEXT = 4000, DOCS = 4 };
    srand(4242);
    char *pats[NP];
    size_t lens[NP];
    for (size_t i = 0; i < NP; i++) {
        size_t len = 1 + (size_t)rand() % 6;
        if (i < 8)
            len = 1; /* every one-character string */
        pats[i] = calloc(len * 4 + 1, 1);
        for (size_t k = 0; k < len; k++)
            strcat(pats[i], alpha[i < 8 ? i : (size_t)rand() % (i % 3 ? 3 : NA)]);
        lens[i] = strlen(pats[i]);
    }
    char *docs[DOCS];
    for (size_t d = 0; d < DOCS; d++) {
        docs[d] = calloc(TEXT * 4 + 1, 1);
        for (size_t k = 0; k < TEXT; k++)
            strcat(docs[d], alpha[rand() % (d % 2 ? 3 : NA)]);
    }
    for (int mode = 0; mode < 2; mode++) {
        tifa_status st;
        tifa_ac *ac = tifa_ac_new_flags((const char *const *)pats, lens, NP,
                                        mode ? TIFA_AC_NO_FILTER : 0, &st);
        assert_non_null(ac);
        tifa_ac_tally t = {calloc(NP, sizeof(uint32_t)),
                           calloc(NP, sizeof(uint32_t)),
                           calloc(NP, sizeof(size_t)),
                           calloc(NP, sizeof(uint32_t)), 0, 0};
        for (size_t d = 0; d < DOCS; d++)
            check_doc(ac, pats, NP, docs[d], strlen(docs[d]), &t);
        free(t.stamp);
        free(t.cnt);
        free(t.next);
        free(t.touched);
        tifa_ac_free(ac);
    }
    for (size_t i = 0; i < NP; i++)
        free(pats[i]);
    for (size_t d = 0; d < DOCS; d++)
        free(docs[d]);
}

/* Broken UTF-8: stray continuation bytes right after valid characters (the
 * case the scan's lead-byte shortcut must notice), truncated sequences,
 * overlongs, bytes that never occur in UTF-8, all between Chinese, ASCII,
 * two- and four-byte characters, in texts long enough for the 64-byte
 * blocks of the fast path; lexicon strings of 1 to 14 bytes (one- and
 * two-byte strings take their own filter).  Filter and no filter must both
 * give the naive byte count, which for valid strings is the character
 * count (docs/statistics.md). */
static void test_ac_count_broken(void **state)
{
    (void)state;
    const char *alpha[] = {"哈", "嘿", "一", "公里", "a", "5G", "é", "𠀀",
                           ",", "\x80", "\xBF", "\xE4\xB8", "\xC0\x80",
                           "\xE0\x80\x80", "\xFF", "\xF8\x88\x80\x80",
                           "\xED\xA0\x80", "\n"};
    enum { NA = 18, NP = 120, DOCS = 60 };
    srand(777);
    char *pats[NP];
    size_t lens[NP];
    for (size_t i = 0; i < NP; i++) {
        size_t len = 1 + (size_t)rand() % 4;
        pats[i] = calloc(len * 6 + 1, 1); /* pieces of up to 6 bytes */
        for (size_t k = 0; k < len; k++)
            strcat(pats[i], alpha[(size_t)rand() % 9]); /* valid pieces */
        lens[i] = strlen(pats[i]);
    }
    tifa_status st;
    tifa_ac *ac[2];
    for (int mode = 0; mode < 2; mode++) {
        ac[mode] = tifa_ac_new_flags((const char *const *)pats, lens, NP,
                                     mode ? TIFA_AC_NO_FILTER : 0, &st);
        assert_non_null(ac[mode]);
    }
    tifa_ac_tally t = {calloc(NP, sizeof(uint32_t)),
                       calloc(NP, sizeof(uint32_t)),
                       calloc(NP, sizeof(size_t)),
                       calloc(NP, sizeof(uint32_t)), 0, 0};
    char text[8192];
    for (size_t d = 0; d < DOCS; d++) {
        size_t n = 0, pieces = (size_t)rand() % 1500;
        for (size_t k = 0; k < pieces; k++) {
            const char *f = alpha[(size_t)rand() % (k % 7 ? 9 : NA)];
            size_t l = strlen(f);
            if (n + l >= sizeof text)
                break;
            memcpy(text + n, f, l);
            n += l;
        }
        text[n] = '\0';
        for (int mode = 0; mode < 2; mode++)
            check_doc(ac[mode], pats, NP, text, n, &t);
    }
    free(t.stamp);
    free(t.cnt);
    free(t.next);
    free(t.touched);
    tifa_ac_free(ac[0]);
    tifa_ac_free(ac[1]);
    for (size_t i = 0; i < NP; i++)
        free(pats[i]);
}

/* Hand cases through tifa_ac_count: overlaps with itself (哈哈 in 哈哈哈哈哈
 * is 2), one-character strings (a character never overlaps itself: its
 * total is its plain count), characters outside the BMP, strings that are
 * not valid UTF-8 (never counted) and invalid bytes in the text (they match
 * nothing and break no match around them). */
static void test_ac_count_hand(void **state)
{
    (void)state;
    const char *pats[] = {"哈哈", "哈", "一", "最后一公里", "一公里", "𠀀𠀀",
                          "\xE4\xB8", "里,", "哈哈哈"};
    enum { N = 9 };
    size_t lens[N];
    for (size_t i = 0; i < N; i++)
        lens[i] = strlen(pats[i]);
    const char *text = "哈哈哈哈哈,打通最后一公里,一公里\xFF一\xE4\xB8𠀀𠀀𠀀";
    size_t want[N] = {2, 5, 3, 1, 2, 1, 0, 1, 1};
    for (int mode = 0; mode < 2; mode++) {
        tifa_status st;
        tifa_ac *ac = tifa_ac_new_flags(pats, lens, N,
                                        mode ? TIFA_AC_NO_FILTER : 0, &st);
        assert_non_null(ac);
        uint32_t stamp[N] = {0}, cnt[N] = {0}, touched[N] = {0};
        size_t next[N] = {0};
        tifa_ac_tally t = {stamp, cnt, next, touched, 0, 1};
        tifa_ac_count(ac, text, strlen(text), &t);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(stamp[i] == 1 ? cnt[i] : 0, want[i]);
        tifa_ac_free(ac);
    }
}

/* ------------------------------------------------------------------ KWIC -- */

static void test_kwic(void **state)
{
    (void)state;
    char dir[] = "/tmp/tifa-test-kwic-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/k.csv", dir);
    tifa_doc doc;
    memset(&doc, 0, sizeof doc);
    doc.doc_id = "d1";
    doc.text = "甲乙丙零距离丁戊\n己零距离";
    doc.text_len = strlen(doc.text);
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_csv_options csv = {false, NULL};
    tifa_csv *out = tifa_csv_open(path, &csv, &st);
    tifa_kwic *k = tifa_kwic_new("零距离", false, 2, diag, &st);
    assert_non_null(k);
    assert_int_equal(tifa_kwic_doc(k, &doc, out), TIFA_OK);
    tifa_kwic_free(k);
    k = tifa_kwic_new("零\\p{Han}{2}", true, 3, diag, &st);
    assert_non_null(k);
    assert_int_equal(tifa_kwic_doc(k, &doc, out), TIFA_OK);
    tifa_kwic_free(k);
    assert_int_equal(tifa_csv_close(out), TIFA_OK);
    char *data;
    size_t len;
    assert_int_equal(tifa_read_file(path, &data, &len), TIFA_OK);
    /* width 2 then width 3 characters; the line break counts as one and
     * shows as a space (the CSV writer quotes fields with outer blanks) */
    assert_string_equal(data, "d1,乙丙,零距离,丁戊\r\n"
                              "d1,\" 己\",零距离,\r\n"
                              "d1,甲乙丙,零距离,\"丁戊 \"\r\n"
                              "d1,戊 己,零距离,\r\n");
    free(data);
    /* an invalid regex is refused with ICU's message */
    assert_null(tifa_kwic_new("零(", true, 3, diag, &st));
    assert_int_equal(st, TIFA_EPATTERN);
    const tifa_diag_entry *e = tifa_diag_get(diag, tifa_diag_size(diag) - 1);
    assert_non_null(strstr(e->message, "U_REGEX_MISMATCHED_PAREN"));
    tifa_diag_free(diag);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ac_random),
        cmocka_unit_test(test_ac_hand),
        cmocka_unit_test(test_ac_count_random),
        cmocka_unit_test(test_ac_count_broken),
        cmocka_unit_test(test_ac_count_hand),
        cmocka_unit_test(test_kwic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
