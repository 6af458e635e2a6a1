/*
 * test_manifest.c — manifest.json (pipeline/manifest.c): written for a
 * scratch output folder, it verifies cleanly; its keys are sorted at every
 * level, with two-space indentation and UTF-8 as is; it is byte-identical
 * when written twice; an edited, deleted or added output and an edited input
 * are each reported by path and make tifa_manifest_verify return
 * TIFA_EVERIFY;
 * relative paths are stored relative to the output folder so verification
 * works from any current folder; hidden temporary files are not outputs.
 * Every test works in its own folder under /tmp.
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

#include "pipeline.h"

#define STUDY_DIR TIFA_TEST_FIXTURES "/study"

typedef struct fixture {
    char root[64];
    char out[96];
    char in_a[96], in_b[96];
    tifa_study *study;
    tifa_diag *diag;
} fixture;

/* ------------------------------------------------------------ helpers -- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(tifa_read_file(path, &data, &len), TIFA_OK);
    return data;
}

static bool has_entry(const tifa_diag *diag, tifa_status code, const char *text)
{
    for (size_t i = 0; i < tifa_diag_size(diag); i++) {
        const tifa_diag_entry *e = tifa_diag_get(diag, i);
        if (e->code == code && strstr(e->message, text))
            return true;
    }
    return false;
}

static void assert_entry(const tifa_diag *diag, tifa_status code,
                         const char *text)
{
    if (!has_entry(diag, code, text)) {
        print_message("expected a diagnostic containing \"%s\"; got:\n", text);
        for (size_t i = 0; i < tifa_diag_size(diag); i++)
            print_message("  %s: %s\n", tifa_diag_get(diag, i)->file,
                          tifa_diag_get(diag, i)->message);
        fail();
    }
}

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->root, sizeof f->root, "/tmp/tifa-test-manifest-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char p[160];
    path_in(f->out, sizeof f->out, f->root, "out");
    path_in(p, sizeof p, f->root, "in");
    if (mkdir(f->out, 0777) || mkdir(p, 0777))
        return -1;
    path_in(p, sizeof p, f->out, "charts");
    if (mkdir(p, 0777))
        return -1;
    snprintf(f->in_a, sizeof f->in_a, "%s/in/a.txt", f->root);
    snprintf(f->in_b, sizeof f->in_b, "%s/in/b.txt", f->root);
    write_text(f->in_a, "第一篇评论。做到“零距离”服务。\n");
    write_text(f->in_b, "第二篇。坚持“三严三实”。\n");
    path_in(p, sizeof p, f->out, "slogans.csv");
    write_text(p, "\xEF\xBB\xBF" "corpus,slogan,quoted\r\nqiyang,零距离,1\r\n");
    path_in(p, sizeof p, f->out, "charts/top.svg");
    write_text(p, "<svg></svg>\n");
    path_in(p, sizeof p, f->out, "charts/top.gp");
    write_text(p, "plot 'top.dat'\n");
    /* a temporary file of an interrupted atomic write: not an output */
    path_in(p, sizeof p, f->out, ".families.csv.tmp-abc123");
    write_text(p, "half a tab");

    tifa_status st;
    f->diag = tifa_diag_new();
    f->study = tifa_study_load(STUDY_DIR "/valid.ini", f->diag, &st);
    if (!f->study || !f->diag)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    int rc = system(cmd);
    tifa_study_free(f->study);
    tifa_diag_free(f->diag);
    free(f);
    return rc == 0 ? 0 : -1;
}

static tifa_status write_manifest(fixture *f)
{
    tifa_manifest_input inputs[] = {{f->in_b, "qiyang", NULL, 0},
                                    {f->in_a, "qiyang", NULL, 0},
                                    {f->in_a, "qiyang", NULL, 0}};
    return tifa_manifest_write(f->out, f->study, inputs, 3,
                               "gnuplot 5.4 patchlevel 4", f->diag);
}

/* -------------------------------------------------------------- tests -- */

static void test_write_then_verify(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_manifest(f), TIFA_OK);
    char p[160];
    path_in(p, sizeof p, f->out, "manifest.json");
    char *text = read_text(p);
    assert_non_null(strstr(text, "\"tifa_version\": \"" TIFA_VERSION_STRING "\""));
    assert_non_null(strstr(text, "\"gnuplot\": \"gnuplot 5.4 patchlevel 4\""));
    assert_non_null(strstr(text, "\"icu\": \""));
    assert_non_null(strstr(text, "\"gsl\": \""));
    assert_non_null(strstr(text, "\"json-c\": \""));
    assert_non_null(strstr(text, "\"path\": \"charts/top.gp\""));
    assert_non_null(strstr(text, "\"path\": \"charts/top.svg\""));
    assert_non_null(strstr(text, "\"path\": \"slogans.csv\""));
    assert_non_null(strstr(text, "\"path\": \"" STUDY_DIR "/valid.ini\""));
    assert_non_null(strstr(text, "\"corpus 政府报告\": {"));
    assert_non_null(strstr(text, "\"paths\": \"corpus/qiyang/a.txt, corpus/qiyang/b.txt\""));
    assert_null(strstr(text, "tmp-abc123"));
    assert_null(strstr(text, "\"path\": \"manifest.json\""));
    /* the input given twice is recorded once, inputs sorted by path */
    char *a = strstr(text, "/in/a.txt"), *b = strstr(text, "/in/b.txt");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    assert_null(strstr(a + 1, "/in/a.txt"));
    /* outputs sorted: charts/top.gp < charts/top.svg < slogans.csv */
    assert_true(strstr(text, "charts/top.gp") < strstr(text, "charts/top.svg"));
    assert_true(strstr(text, "charts/top.svg") < strstr(text, "\"slogans.csv\""));
    /* keys sorted at every level (json-c keeps insertion order, so this is
     * manifest.c's doing), two-space indentation, "key": value */
    assert_non_null(strstr(text, "{\n  \"inputs\": [\n    {\n"
                                 "      \"corpus\": \"qiyang\",\n"
                                 "      \"path\": \""));
    const char *top[] = {"\n  \"inputs\": [", "\n  \"libraries\": {",
                         "\n  \"manifest_format\": 1,", "\n  \"outputs\": [",
                         "\n  \"parameters\": {", "\n  \"study\": {",
                         "\n  \"tifa_version\": "};
    const char *libs[] = {"\"gnuplot\": ", "\"gsl\": ", "\"icu\": ",
                          "\"json-c\": ", "\"unicode\": "};
    for (size_t i = 0; i + 1 < sizeof top / sizeof *top; i++) {
        assert_non_null(strstr(text, top[i]));
        assert_true(strstr(text, top[i]) < strstr(text, top[i + 1]));
    }
    for (size_t i = 0; i + 1 < sizeof libs / sizeof *libs; i++)
        assert_true(strstr(text, libs[i]) < strstr(text, libs[i + 1]));
    assert_true(strstr(text, "\"sha256\": ") < strstr(text, "\"size\": "));
    /* UTF-8 as is, '/' not escaped, ends with a newline */
    assert_null(strstr(text, "\\u"));
    assert_null(strstr(text, "\\/"));
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_int_equal(text[strlen(text) - 2], '}');
    free(text);

    tifa_diag *d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_OK);
    assert_int_equal(tifa_diag_count(d, TIFA_ERROR), 0);
    assert_entry(d, TIFA_OK, "3 inputs and 3 outputs match the manifest");
    tifa_diag_free(d);
}

static void test_byte_identical(void **state)
{
    fixture *f = *state;
    char p[160];
    path_in(p, sizeof p, f->out, "manifest.json");
    assert_int_equal(write_manifest(f), TIFA_OK);
    char *first = read_text(p);
    assert_int_equal(write_manifest(f), TIFA_OK);
    char *second = read_text(p);
    assert_string_equal(first, second);
    free(first);
    free(second);
}

static void test_edited_output(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_manifest(f), TIFA_OK);
    char p[160];
    path_in(p, sizeof p, f->out, "slogans.csv");
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 20, SEEK_SET), 0);
    fputc('X', fp);
    assert_int_equal(fclose(fp), 0);

    tifa_diag *d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_EVERIFY);
    assert_entry(d, TIFA_EVERIFY, "changed output: slogans.csv (SHA-256 differs");
    assert_int_equal(tifa_diag_count(d, TIFA_ERROR), 1);
    assert_string_equal(tifa_diag_get(d, 0)->file, p);
    tifa_diag_free(d);

    /* a changed size is reported as such */
    write_text(p, "shorter\n");
    d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_EVERIFY);
    assert_entry(d, TIFA_EVERIFY, "changed output: slogans.csv (size 8, manifest says");
    tifa_diag_free(d);
}

static void test_missing_and_extra_output(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_manifest(f), TIFA_OK);
    char p[160];
    path_in(p, sizeof p, f->out, "charts/top.svg");
    assert_int_equal(unlink(p), 0);
    path_in(p, sizeof p, f->out, "charts/new.png");
    write_text(p, "png");
    path_in(p, sizeof p, f->out, ".hidden.tmp-zzz");
    write_text(p, "ignored");

    tifa_diag *d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_EVERIFY);
    assert_entry(d, TIFA_EVERIFY, "missing output: charts/top.svg");
    assert_entry(d, TIFA_EVERIFY, "extra output not in the manifest: charts/new.png");
    assert_int_equal(tifa_diag_count(d, TIFA_ERROR), 2);
    tifa_diag_free(d);
}

static void test_changed_input(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_manifest(f), TIFA_OK);
    write_text(f->in_b, "第二篇。坚持“三严三实”!\n");
    assert_int_equal(unlink(f->in_a), 0);
    tifa_diag *d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_EVERIFY);
    assert_entry(d, TIFA_EVERIFY, "changed input: ");
    assert_entry(d, TIFA_EVERIFY, "missing input: ");
    assert_int_equal(tifa_diag_count(d, TIFA_ERROR), 2);
    tifa_diag_free(d);
}

static void test_relative_paths(void **state)
{
    fixture *f = *state;
    char *cwd = getcwd(NULL, 4096);
    assert_non_null(cwd);
    assert_int_equal(chdir(f->root), 0);

    tifa_study *cli = tifa_study_new();
    const char *paths[] = {"in/a.txt"};
    assert_int_equal(tifa_study_add_corpus(cli, "cli", paths, 1), TIFA_OK);
    tifa_manifest_input inputs[] = {{"in/a.txt", "cli", NULL, 0},
                                    {"./in/../in/b.txt", "cli", NULL, 0}};
    assert_int_equal(tifa_manifest_write("out", cli, inputs, 2, NULL, f->diag),
                     TIFA_OK);
    char *text = read_text("out/manifest.json");
    assert_non_null(strstr(text, "\"path\": \"../in/a.txt\""));
    assert_non_null(strstr(text, "\"path\": \"../in/b.txt\""));
    assert_non_null(strstr(text, "\"study\": null"));
    assert_non_null(strstr(text, "\"gnuplot\": null"));
    assert_null(strstr(text, f->root)); /* nothing machine-specific */
    free(text);

    /* verify from another folder, through the absolute output path */
    assert_int_equal(chdir("/"), 0);
    tifa_diag *d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_OK);
    tifa_diag_free(d);

    assert_int_equal(chdir(cwd), 0);
    free(cwd);
    tifa_study_free(cli);
}

/* Digests handed in by the caller (the pipeline hashes inputs on a thread
 * while it counts) give the very manifest the manifest's own hashing gives. */
static void test_precomputed_digests(void **state)
{
    fixture *f = *state;
    assert_int_equal(write_manifest(f), TIFA_OK);
    char p[160];
    path_in(p, sizeof p, f->out, "manifest.json");
    char *computed = read_text(p);
    char hex_a[65], hex_b[65];
    assert_int_equal(tifa_sha256_file(f->in_a, hex_a), TIFA_OK);
    assert_int_equal(tifa_sha256_file(f->in_b, hex_b), TIFA_OK);
    struct stat sa, sb;
    assert_int_equal(stat(f->in_a, &sa), 0);
    assert_int_equal(stat(f->in_b, &sb), 0);
    tifa_manifest_input inputs[] = {
        {f->in_b, "qiyang", hex_b, (long long)sb.st_size},
        {f->in_a, "qiyang", hex_a, (long long)sa.st_size},
        {f->in_a, "qiyang", NULL, 0}};
    assert_int_equal(tifa_manifest_write(f->out, f->study, inputs, 3,
                                         "gnuplot 5.4 patchlevel 4", f->diag),
                     TIFA_OK);
    char *given = read_text(p);
    assert_string_equal(given, computed);
    free(computed);
    free(given);
}

static void test_no_manifest(void **state)
{
    fixture *f = *state;
    tifa_diag *d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_ENOENT);
    assert_int_equal(tifa_diag_count(d, TIFA_ERROR), 1);
    tifa_diag_free(d);

    char p[160];
    path_in(p, sizeof p, f->out, "manifest.json");
    write_text(p, "{ not json");
    d = tifa_diag_new();
    assert_int_equal(tifa_manifest_verify(f->out, d), TIFA_EFORMAT);
    tifa_diag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_then_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_extra_output, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changed_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precomputed_digests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_manifest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
