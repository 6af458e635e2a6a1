/*
 * test_common.c — the shared vocabulary: CSV quoting and round trips, the
 * interning map, atomic files, SHA-256 and diagnostics.  Expected values are
 * written out by hand from RFC 4180 and FIPS 180-2.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tifa_common.h"

static char tmpdir[] = "/tmp/tifa-test-common-XXXXXX";

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

static void test_csv_quoting(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/q.csv", tmpdir);
    tifa_csv_options opt = {true, NULL};
    tifa_status st;
    tifa_csv *csv = tifa_csv_open(path, &opt, &st);
    assert_non_null(csv);
    tifa_csv_str(csv, "零距离");
    tifa_csv_str(csv, "a,b");
    tifa_csv_str(csv, "say \"hi\"");
    tifa_csv_str(csv, "two\nlines");
    tifa_csv_int(csv, -42);
    tifa_csv_real(csv, 2.58496, 4);
    tifa_csv_real(csv, -0.00001, 4);
    tifa_csv_real(csv, 0.0 / 0.0, 4);
    tifa_csv_sci(csv, 1.94567e-33, 4);
    tifa_csv_row_end(csv);
    assert_int_equal(tifa_csv_close(csv), TIFA_OK);

    char *data;
    size_t len;
    assert_int_equal(tifa_read_file(path, &data, &len), TIFA_OK);
    const char *expect = "\xEF\xBB\xBF零距离,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\","
                         "-42,2.5850,0.0000,,1.9457e-33\r\n";
    assert_string_equal(data, expect);
    free(data);

    /* The reader gives back exactly the fields written. */
    tifa_csv_reader *r = tifa_csv_reader_open(path, &st);
    assert_non_null(r);
    char **f;
    size_t n;
    assert_int_equal(tifa_csv_read_row(r, &f, &n), TIFA_OK);
    assert_int_equal(n, 9);
    assert_string_equal(f[0], "零距离");
    assert_string_equal(f[1], "a,b");
    assert_string_equal(f[2], "say \"hi\"");
    assert_string_equal(f[3], "two\nlines");
    assert_string_equal(f[5], "2.5850");
    assert_string_equal(f[7], "");
    assert_string_equal(f[8], "1.9457e-33");
    assert_int_equal(tifa_csv_read_row(r, &f, &n), TIFA_EEMPTY);
    tifa_csv_reader_close(r);
}

static void test_csv_gb18030_and_no_bom(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/gb.csv", tmpdir);
    tifa_csv_options opt = {false, "gb18030"};
    tifa_status st;
    tifa_csv *csv = tifa_csv_open(path, &opt, &st);
    assert_non_null(csv);
    tifa_csv_str(csv, "零");
    tifa_csv_row_end(csv);
    assert_int_equal(tifa_csv_close(csv), TIFA_OK);
    char *data;
    size_t len;
    assert_int_equal(tifa_read_file(path, &data, &len), TIFA_OK);
    /* 零 U+96F6 is C1E3 in GB2312/GB18030. */
    assert_int_equal(len, 4);
    assert_memory_equal(data, "\xC1\xE3\r\n", 4);
    free(data);
}

static void test_csv_abort_leaves_nothing(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/aborted.csv", tmpdir);
    tifa_status st;
    tifa_csv *csv = tifa_csv_open(path, NULL, &st);
    assert_non_null(csv);
    tifa_csv_str(csv, "half");
    tifa_csv_abort(csv);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    /* and no temporary file is left behind */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep aborted)\"", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_strmap(void **state)
{
    (void)state;
    tifa_strmap *m = tifa_strmap_new();
    assert_non_null(m);
    bool is_new;
    assert_int_equal(tifa_strmap_intern(m, "一站式", strlen("一站式"), &is_new), 0);
    assert_true(is_new);
    assert_int_equal(tifa_strmap_intern(m, "零距离", strlen("零距离"), &is_new), 1);
    assert_int_equal(tifa_strmap_intern(m, "一站式", strlen("一站式"), &is_new), 0);
    assert_false(is_new);
    /* many keys force several rehashes; ids stay dense and stable */
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(tifa_strmap_intern(m, key, strlen(key), NULL), (uint32_t)i + 2);
    }
    assert_int_equal(tifa_strmap_size(m), 10002);
    assert_int_equal(tifa_strmap_find(m, "k777", 4), 779);
    assert_int_equal(tifa_strmap_find(m, "absent", 6), UINT32_MAX);
    size_t len;
    assert_string_equal(tifa_strmap_key(m, 1, &len), "零距离");
    assert_int_equal(len, 9);
    tifa_strmap_free(m);
}

static void test_sha256(void **state)
{
    (void)state;
    char hex[65];
    tifa_sha256_buf("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char path[256];
    snprintf(path, sizeof path, "%s/abc.txt", tmpdir);
    assert_int_equal(tifa_write_file_atomic(path, "abc", 3), TIFA_OK);
    assert_int_equal(tifa_sha256_file(path, hex), TIFA_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_utf8_seq(void **state)
{
    (void)state;
    assert_int_equal(tifa_utf8_seq("a"), 1);
    assert_int_equal(tifa_utf8_seq("零距离"), 3);           /* E9 9B B6 */
    assert_int_equal(tifa_utf8_seq("\xF0\xA0\x80\x80"), 4); /* U+20000 */
    assert_int_equal(tifa_utf8_seq("\xC0\x80"), 0);         /* overlong NUL */
    assert_int_equal(tifa_utf8_seq("\xED\xA0\x80"), 0);    /* surrogate */
    assert_int_equal(tifa_utf8_seq("\xE9\x9B"), 0);         /* cut short */
    assert_int_equal(tifa_utf8_seq("\xF4\x90\x80\x80"), 0); /* > U+10FFFF */
    assert_int_equal(tifa_utf8_seq(""), 0);
    /* whole strings, by length (an embedded NUL is valid UTF-8) */
    assert_true(tifa_utf8_valid("", 0));
    assert_true(tifa_utf8_valid("a零距离\xF0\xA0\x80\x80", 14));
    assert_true(tifa_utf8_valid("a\0b", 3));
    assert_false(tifa_utf8_valid("零距\xE7\xA6", 8));         /* cut short */
    assert_false(tifa_utf8_valid("a\xC0\x80", 3));             /* overlong */
    assert_false(tifa_utf8_valid("\xED\xA0\x80", 3));          /* surrogate */
    assert_false(tifa_utf8_valid("\xF4\x90\x80\x80", 4));      /* > U+10FFFF */
    assert_false(tifa_utf8_valid("\x80", 1));                   /* lone continuation */
}

static void count_sink(const tifa_diag_entry *e, void *user)
{
    (void)e;
    (*(int *)user)++;
}

static void test_diag(void **state)
{
    (void)state;
    tifa_diag *d = tifa_diag_new();
    int seen = 0;
    tifa_diag_set_sink(d, count_sink, &seen);
    tifa_diag_set_keep_limit(d, 2);
    tifa_diag_add(d, TIFA_WARNING, TIFA_EENCODING, "a.txt", 0, 17, "byte %d", 1);
    tifa_diag_add(d, TIFA_ERROR, TIFA_EFORMAT, "b.jsonl", 3, -1, "bad");
    tifa_diag_add(d, TIFA_WARNING, TIFA_EENCODING, "a.txt", 0, 18, "byte %d", 2);
    assert_int_equal(seen, 3);
    assert_int_equal(tifa_diag_count(d, TIFA_WARNING), 2);
    assert_int_equal(tifa_diag_count(d, TIFA_ERROR), 1);
    assert_int_equal(tifa_diag_size(d), 2);
    assert_string_equal(tifa_diag_get(d, 0)->message, "byte 1");
    assert_int_equal(tifa_diag_get(d, 0)->offset, 17);
    assert_string_equal(tifa_diag_get(d, 1)->file, "b.jsonl");
    tifa_diag_free(d);
    assert_string_equal(tifa_status_name(TIFA_EGNUPLOT), "TIFA_EGNUPLOT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_csv_gb18030_and_no_bom),
        cmocka_unit_test(test_csv_abort_leaves_nothing),
        cmocka_unit_test(test_strmap),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_diag),
        cmocka_unit_test(test_utf8_seq),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
