/*
 * test_bad_input.c — every kind of bad input named in issue #3 gives a clear
 * message naming the file (and line or byte offset) and the rest of the
 * corpus is still processed: missing path, unreadable file, directory with
 * no usable file, binary file, empty file, invalid JSON line, over-long
 * record, a 100 MB single line, strict mode, plus stdin and globs.
 *
 * Inputs are made in a temporary directory by the test itself (nothing big
 * lives in the repository); each case loads a good file alongside and
 * checks that it still arrives.
 */
#include "corpora_test_util.h"

#include <errno.h>

static const char GOOD[] = "坚持“两学一做”。\n";

static tifa_load_options opts(void)
{
    tifa_load_options o;
    tifa_load_options_init(&o);
    return o;
}

static void test_missing_path(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    char *good = write_file(dir, "good.txt", GOOD, strlen(GOOD));
    tifa_diag *diag = tifa_diag_new();
    tifa_load_options o = opts();
    tifa_status st;
    tifa_loader *l = tifa_loader_new(&o, diag, &st);
    assert_int_equal(tifa_loader_add_path(l, "/no/such/file.txt"), TIFA_ENOENT);
    assert_int_equal(tifa_loader_add_path(l, "/no/such/*.txt"), TIFA_ENOENT);
    assert_int_equal(tifa_loader_add_path(l, good), TIFA_OK);
    tifa_doc *d;
    assert_int_equal(tifa_loader_next(l, &d), TIFA_OK);
    assert_non_null(d);
    assert_int_equal(d->chars, 6);
    tifa_doc_free(d);
    assert_int_equal(tifa_loader_next(l, &d), TIFA_OK);
    assert_null(d);
    const tifa_diag_entry *e = find_diag(diag, "cannot read", "/no/such/file.txt");
    assert_non_null(e);
    assert_int_equal(e->severity, TIFA_ERROR);
    assert_int_equal(e->code, TIFA_ENOENT);
    assert_non_null(find_diag(diag, "no file matches", "/no/such/*.txt"));
    tifa_loader_free(l);
    tifa_diag_free(diag);
    free(good);
    tmpdir_remove(dir);
}

static void test_unreadable_file(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    char *good = write_file(dir, "good.txt", GOOD, strlen(GOOD));
    char *bad = write_file(dir, "locked.txt", GOOD, strlen(GOOD));
    /* Root reads anything; /proc/self/mem opens but fails to read. */
    const char *path = bad;
    if (geteuid() == 0)
        path = "/proc/self/mem";
    else
        chmod(bad, 0);
    const char *paths[] = {path, good, NULL};
    loaded x;
    tifa_load_options o = opts();
    load_paths(&x, &o, paths);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, 6);
    const tifa_diag_entry *e = find_diag(x.diag, "cannot", path);
    assert_non_null(e);
    assert_int_equal(e->severity, TIFA_ERROR);
    assert_int_equal(x.sum.files_skipped, 1);
    free_loaded(&x);
    chmod(bad, 0600);
    free(good);
    free(bad);
    tmpdir_remove(dir);
}

static void test_directory_without_usable_file(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    char sub[512], sub2[512];
    snprintf(sub, sizeof sub, "%s/empty-dir", dir);
    snprintf(sub2, sizeof sub2, "%s/junk-dir", dir);
    mkdir(sub, 0700);
    mkdir(sub2, 0700);
    free(write_file(sub2, "zero.txt", "", 0));
    free(write_file(sub2, "blob.bin", "\x01\x02\x00\x03", 4));
    char *good = write_file(dir, "good.txt", GOOD, strlen(GOOD));
    tifa_diag *diag = tifa_diag_new();
    tifa_load_options o = opts();
    tifa_status st;
    tifa_loader *l = tifa_loader_new(&o, diag, &st);
    assert_int_equal(tifa_loader_add_path(l, sub), TIFA_EEMPTY);
    assert_int_equal(tifa_loader_add_path(l, sub2), TIFA_OK);
    assert_int_equal(tifa_loader_add_path(l, good), TIFA_OK);
    size_t n = 0;
    tifa_doc *d;
    while (tifa_loader_next(l, &d) == TIFA_OK && d) {
        n++;
        tifa_doc_free(d);
    }
    assert_int_equal(n, 1);
    assert_non_null(find_diag(diag, "no usable file", "empty-dir"));
    const tifa_diag_entry *e = find_diag(diag, "no usable file", "junk-dir");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "2 files"));
    assert_non_null(find_diag(diag, "empty file", "zero.txt"));
    e = find_diag(diag, "binary file", "blob.bin");
    assert_non_null(e);
    assert_int_equal(e->offset, 2);
    tifa_load_summary s;
    tifa_loader_summary(l, &s);
    assert_int_equal(s.files, 3);
    assert_int_equal(s.files_skipped, 2);
    assert_int_equal(tifa_loader_file_count(l), 3);
    tifa_loader_free(l);
    tifa_diag_free(diag);
    free(good);
    tmpdir_remove(dir);
}

static void test_binary_and_empty(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    /* A NUL at byte 7 in otherwise valid text. */
    free(write_file(dir, "a.txt", "abc中\0xyz", 10));
    free(write_file(dir, "b.txt", "", 0));
    free(write_file(dir, "c.txt", GOOD, strlen(GOOD)));
    loaded x;
    tifa_load_options o = opts();
    load_one(&x, &o, dir);
    assert_int_equal(x.n, 1);
    assert_true(ends_with(x.docs[0]->source, "c.txt"));
    const tifa_diag_entry *e = find_diag(x.diag, "binary file", "a.txt");
    assert_non_null(e);
    assert_int_equal(e->offset, 6);
    assert_non_null(find_diag(x.diag, "empty file", "b.txt"));
    assert_int_equal(x.sum.files, 3);
    assert_int_equal(x.sum.files_skipped, 2);
    free_loaded(&x);
    tmpdir_remove(dir);
}

static void test_strict(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    /* Valid UTF-8 with one stray 0xFF at byte 6. */
    free(write_file(dir, "a.txt", "中文\xFF" "中文。", 13));
    free(write_file(dir, "b.txt", GOOD, strlen(GOOD)));
    /* JSONL: line 2 carries the bad byte; line 1 is fine. */
    const char jl[] = "{\"text\":\"一\"}\n{\"text\":\"\xFF\"}\n{\"text\":\"三\"}\n";
    free(write_file(dir, "c.jsonl", jl, sizeof jl - 1));
    loaded x;
    tifa_load_options o = opts();
    load_one(&x, &o, dir);
    /* Lenient: a.txt with U+FFFD, b.txt, and the three records. */
    assert_int_equal(x.n, 5);
    assert_non_null(strstr(x.docs[0]->text, "\xEF\xBF\xBD"));
    assert_int_equal(x.sum.replacement_chars, 2);
    const tifa_diag_entry *e = find_diag(x.diag, "undecodable", "a.txt");
    assert_non_null(e);
    assert_int_equal(e->offset, 6);
    e = find_diag(x.diag, "undecodable", "c.jsonl");
    assert_non_null(e);
    assert_int_equal(e->offset, 24);
    free_loaded(&x);
    o.strict = true;
    load_one(&x, &o, dir);
    /* Strict: a.txt skipped; the JSONL stops at the bad chunk, which here
     * is the whole (small) file. */
    assert_int_equal(x.n, 1);
    assert_true(ends_with(x.docs[0]->source, "b.txt"));
    e = find_diag(x.diag, "strict", "a.txt");
    assert_non_null(e);
    assert_int_equal(e->severity, TIFA_ERROR);
    assert_non_null(find_diag(x.diag, "strict", "c.jsonl"));
    free_loaded(&x);
    tmpdir_remove(dir);
}

static void test_overlong_record(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    /* A 3 MiB JSON line between two good ones, with a 1 MiB limit. */
    tifa_buf b = {0};
    tifa_buf_puts(&b, "{\"text\":\"第一条。\"}\n{\"text\":\"");
    for (size_t i = 0; i < 3u << 20; i++) tifa_buf_putc(&b, 'x');
    tifa_buf_puts(&b, "\"}\n{\"text\":\"第三条。\"}\n");
    char *p = write_file(dir, "long.jsonl", b.data, b.len);
    tifa_buf_free(&b);
    loaded x;
    tifa_load_options o = opts();
    o.max_document = 1u << 20;
    load_one(&x, &o, p);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.docs[0]->text, "第一条。");
    assert_string_equal(x.docs[1]->text, "第三条。");
    assert_true(ends_with(x.docs[1]->source, "long.jsonl:3"));
    const tifa_diag_entry *e = find_diag(x.diag, "document limit", "long.jsonl");
    assert_non_null(e);
    assert_int_equal(e->line, 2);
    free_loaded(&x);
    free(p);
    /* A whole-file format over the limit is skipped; a smaller file loads. */
    char big[3000];
    for (size_t i = 0; i < 1000; i++) memcpy(big + 3 * i, "中", 3);
    char *q = write_file(dir, "big.txt", big, sizeof big);
    char *r = write_file(dir, "small.txt", big, 300);
    o.max_document = 1000;
    const char *paths[] = {q, r, NULL};
    load_paths(&x, &o, paths);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, 100);
    assert_non_null(find_diag(x.diag, "larger than the document limit", "big.txt"));
    assert_int_equal(x.sum.files_skipped, 1);
    free_loaded(&x);
    free(q);
    free(r);
    tmpdir_remove(dir);
}

/* A 100 MB file that is one single line loads as one document. */
static void test_100mb_single_line(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    char path[512];
    snprintf(path, sizeof path, "%s/one-line.txt", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    const char unit[] = "一二三四五六七八九十"; /* 30 bytes, 10 Han */
    const size_t reps = (100u * 1000u * 1000u) / 30u; /* 3,333,333 */
    char block[30 * 1000];
    for (size_t i = 0; i < 1000; i++) memcpy(block + 30 * i, unit, 30);
    for (size_t i = 0; i < reps / 1000; i++) fwrite(block, 1, sizeof block, f);
    fwrite(block, 1, 30 * (reps % 1000), f);
    fputs("。\n", f);
    fclose(f);
    loaded x;
    tifa_load_options o = opts();
    load_one(&x, &o, path);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.docs[0]->chars, reps * 10);
    assert_int_equal(x.docs[0]->sentences, 1);
    assert_int_equal(x.docs[0]->text_len, reps * 30 + 3);
    assert_int_equal(x.sum.bytes, reps * 30 + 4);
    assert_int_equal(tifa_diag_size(x.diag), 0);
    free_loaded(&x);
    tmpdir_remove(dir);
}

static void test_stdin_and_glob(void **state)
{
    (void)state;
    char *dir = tmpdir_new();
    const char *js = "{\"text\":\"标准输入。\"}\n";
    char *a = write_file(dir, "a.jsonl", js, strlen(js));
    free(write_file(dir, "b.txt", GOOD, strlen(GOOD)));
    free(write_file(dir, "c.txt", "第二个文件。", strlen("第二个文件。")));
    free(write_file(dir, "d.md", "不匹配。", strlen("不匹配。")));
    assert_non_null(freopen(a, "rb", stdin));
    char glob[512];
    snprintf(glob, sizeof glob, "%s/*.txt", dir);
    tifa_load_options o = opts();
    o.format = TIFA_FORMAT_AUTO;
    const char *paths[] = {"-", glob, NULL};
    loaded x;
    load_paths(&x, &o, paths);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.docs[0]->text, "标准输入。");
    assert_string_equal(x.docs[0]->source, "-:1");
    assert_true(ends_with(x.docs[1]->source, "b.txt"));
    assert_true(ends_with(x.docs[2]->source, "c.txt"));
    free_loaded(&x);
    free(a);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_path),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_directory_without_usable_file),
        cmocka_unit_test(test_binary_and_empty),
        cmocka_unit_test(test_strict),
        cmocka_unit_test(test_overlong_record),
        cmocka_unit_test(test_100mb_single_line),
        cmocka_unit_test(test_stdin_and_glob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
