/*
 * test_subcommands.c — every `tifa` subcommand run as a user runs it, on the
 * bundled demo (examples/demo/), with golden outputs.
 *
 * The program is spawned from the source tree's root with relative paths
 * (examples/demo/corpus/...), so documents are named the same on every
 * machine and the outputs can be compared byte for byte with the files in
 * tests/golden/ (what each one is and which command makes it:
 * tests/golden/README.md).  This test never writes a golden file; after a
 * reviewed change, scripts/regen-golden.sh regenerates them on purpose.
 *
 * Beyond the golden bytes it checks what a golden file cannot: two keyness
 * rows against G² and Log Ratio worked out by hand from SPEC §5; `tifa plot`
 * re-rendering a chart identically and following an edited slogans.csv;
 * `tifa merge` of two shards equal to one run over both inputs; `tifa
 * verify` catching a deleted output and an edited input; study-file mistakes
 * through the command line (status 2 with file, line and suggestion; status
 * 3 with the missing path); `--no-bom` and `--csv-encoding gb18030` (decoded
 * with ICU, equal to the UTF-8 text); byte-identical outputs of `count` and
 * `compare` for --threads 1 and 2.  What test_cli, test_demo, test_study and
 * test_manifest already check (help, usage errors, hand counts of `run`,
 * verify after an edited output, ...) is not repeated here.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unicode/ucnv.h>

#include "run_tifa.h"

/* The source tree's root: the working folder of every spawned tifa. */
#define SOURCE_ROOT TIFA_TEST_EXAMPLES "/.."
#define GOLDEN_DIR SOURCE_ROOT "/tests/golden"

static char tmp[] = "/tmp/tifa-test-subcommands-XXXXXX";
static char outf[300], errf[300];

/* ------------------------------------------------------------ helpers -- */

/* Runs a program (PATH lookup) with argv, no shell; returns its status. */
static int spawn_wait(const char *const *argv)
{
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void path_in(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s/%s", a, b);
    assert_true(n > 0 && (size_t)n < size);
}

/* Runs tifa (from the source root, see setup) with stdout and stderr to the
 * test's files; on an unexpected status prints stderr and fails. */
static void tifa_expect(int want, const char *const *args)
{
    int rc = run_tifa(args, outf, errf);
    if (rc != want) {
        char *e = slurp(errf, NULL);
        print_message("tifa %s ... exited %d, expected %d; stderr:\n%s\n",
                      args[0], rc, want, e ? e : "(none)");
        free(e);
        fail();
    }
}

static bool contains(const char *path, const char *text)
{
    char *data = slurp(path, NULL);
    bool found = data && strstr(data, text);
    free(data);
    return found;
}

static void assert_file_contains(const char *path, const char *text)
{
    if (!contains(path, text)) {
        char *data = slurp(path, NULL);
        print_message("%s does not contain \"%s\"; it holds:\n%s\n", path, text,
                      data ? data : "(unreadable)");
        free(data);
        fail();
    }
}

/* True when bytes equal tests/golden/NAME; otherwise prints the first
 * differing line and how to regenerate on purpose.  (Returns instead of
 * failing so that callers free their buffers first.) */
static bool matches_golden(const char *data, size_t len, const char *name)
{
    char path[400];
    path_in(path, sizeof path, GOLDEN_DIR, name);
    size_t glen = 0;
    char *golden = slurp(path, &glen);
    if (!golden) {
        print_message("missing golden file %s (scripts/regen-golden.sh makes it)\n", path);
        return false;
    }
    bool same = glen == len && memcmp(golden, data, len) == 0;
    if (!same) {
        size_t i = 0, line = 1, start = 0;
        while (i < len && i < glen && golden[i] == data[i]) {
            if (data[i] == '\n')
                line++, start = i + 1;
            i++;
        }
        size_t ge = start, de = start;
        while (ge < glen && golden[ge] != '\n' && golden[ge] != '\r')
            ge++;
        while (de < len && data[de] != '\n' && data[de] != '\r')
            de++;
        print_message("output differs from tests/golden/%s at line %zu (byte %zu):\n"
                      "  golden: %.*s\n  tifa:   %.*s\n"
                      "If the change is intended, review it and run "
                      "scripts/regen-golden.sh.\n",
                      name, line, i, (int)(ge - start), golden + start,
                      (int)(de - start), data + start);
    }
    free(golden);
    return same;
}

static void assert_file_golden(const char *path, const char *name)
{
    size_t len = 0;
    char *data = slurp(path, &len);
    if (!data)
        fail_msg("tifa wrote no %s", path);
    bool same = matches_golden(data, len, name);
    free(data);
    if (!same)
        fail();
}

/* Keeps the header line and the lines starting with prefix (lines end with
 * CRLF; no field of the kept tables holds a newline).  Caller frees. */
static char *filter_lines(const char *data, const char *prefix, size_t *len)
{
    size_t n = strlen(data), p = strlen(prefix), o = 0;
    char *out = malloc(n + 1);
    assert_non_null(out);
    bool first = true;
    for (const char *s = data; *s;) {
        const char *nl = strchr(s, '\n');
        size_t l = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (first || strncmp(s, prefix, p) == 0) {
            memcpy(out + o, s, l);
            o += l;
        }
        first = false;
        s += l;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Field `col` (0-based) of the CSV line starting with `prefix` in a file,
 * as a double (the fields looked up hold no comma or quote). */
static double csv_number(const char *path, const char *prefix, size_t col)
{
    char *data = slurp(path, NULL);
    assert_non_null(data);
    const char *line = strstr(data, prefix);
    if (!line || (line != data && line[-1] != '\n'))
        fail_msg("no line starting with \"%s\" in %s", prefix, path);
    const char *f = line;
    for (size_t i = 0; i < col; i++) {
        f = strchr(f, ',');
        assert_non_null(f);
        f++;
    }
    char *end;
    double v = strtod(f, &end);
    assert_true(end != f);
    free(data);
    return v;
}

/* Removes every line of a file that starts with `prefix` and contains
 * `needle`; returns how many were removed. */
static int delete_lines(const char *path, const char *prefix, const char *needle)
{
    char *data = slurp(path, NULL);
    assert_non_null(data);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    int removed = 0;
    for (const char *s = data; *s;) {
        const char *nl = strchr(s, '\n');
        size_t l = nl ? (size_t)(nl - s) + 1 : strlen(s);
        char *line = strndup(s, l);
        if (!strncmp(line, prefix, strlen(prefix)) && strstr(line, needle))
            removed++;
        else
            fwrite(s, 1, l, f);
        free(line);
        s += l;
    }
    assert_int_equal(fclose(f), 0);
    free(data);
    return removed;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------ setup/teardown -- */

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp))
        return -1;
    snprintf(outf, sizeof outf, "%s/stdout", tmp);
    snprintf(errf, sizeof errf, "%s/stderr", tmp);
    /* Spawned programs inherit the working folder: relative input paths,
     * hence document names, are those the golden files were made with. */
    if (chdir(SOURCE_ROOT) != 0 || access("examples/demo/study.ini", R_OK) != 0) {
        fprintf(stderr, "cannot work from the source tree %s\n", SOURCE_ROOT);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *argv[] = {"rm", "-rf", "--", tmp, NULL};
    return spawn_wait(argv) == 0 ? 0 : -1;
}

/* --------------------------------------------------------------- docs -- */

static void test_docs(void **state)
{
    (void)state;
    const char *docs[] = {"docs", "examples/demo/corpus/qingchuan", NULL};
    tifa_expect(0, docs);
    assert_file_golden(outf, "docs-qingchuan.csv");

    /* --text on one file: the GBK, CRLF one, decoded and cleaned. */
    const char *text[] = {"docs", "--text", "examples/demo/corpus/baihe/2014.txt", NULL};
    tifa_expect(0, text);
    assert_file_golden(outf, "docs-text-baihe-2014.csv");
}

/* --------------------------------------------------------------- kwic -- */

static void test_kwic(void **state)
{
    (void)state;
    const char *literal[] = {"kwic", "零距离", "examples/demo/corpus", NULL};
    tifa_expect(0, literal);
    assert_file_golden(outf, "kwic-lingjuli.csv");

    const char *regex[] = {"kwic", "--regex", "零\\p{Han}{2}", "--width", "5",
                           "examples/demo/corpus", NULL};
    tifa_expect(0, regex);
    assert_file_golden(outf, "kwic-regex-ling.csv");
}

/* -------------------------------------------------------------- count -- */

static void test_count_table_to_stdout(void **state)
{
    (void)state;
    const char *args[] = {"count", "--format", "forum", "--table", "slogans",
                          "examples/demo/corpus/baihe", NULL};
    tifa_expect(0, args);
    assert_file_golden(outf, "count-slogans-baihe.csv");
}

/* Every table of `tifa count` in dir equals the one in dir1 (the
 * one-thread run); `what` names the other run in the message. */
static void assert_same_tables(const char *dir1, const char *dir, const char *what)
{
    static const char *const tables[] = {"documents.csv", "slogans.csv", "families.csv",
                                         "ngrams.csv",    "keyness.csv", "trend.csv",
                                         "rhetoric.csv",  NULL};
    for (size_t i = 0; tables[i]; i++) {
        char a[400], b[400];
        path_in(a, sizeof a, dir1, tables[i]);
        path_in(b, sizeof b, dir, tables[i]);
        if (!same_file(a, b))
            fail_msg("count: %s differs between --threads 1 and %s", tables[i], what);
    }
}

/* families.csv of two named corpora, for --threads 1 to 4: 2 and 4 split
 * the character n-grams by level (pairs of workers), 3 by document. */
static void test_count_families(void **state)
{
    (void)state;
    const char *threads[] = {"1", "2", "3", "4"};
    enum { RUNS = sizeof threads / sizeof *threads };
    char dirs[RUNS][300];
    for (size_t t = 0; t < RUNS; t++) {
        char name[40];
        snprintf(name, sizeof name, "count-t%s", threads[t]);
        path_in(dirs[t], sizeof dirs[t], tmp, name);
        const char *args[] = {"count", "--corpus", "q=examples/demo/corpus/qingchuan",
                              "--corpus", "b=examples/demo/corpus/baihe", "--no-charts",
                              "--threads", threads[t], "-o", dirs[t], NULL};
        tifa_expect(0, args);
        char path[400];
        path_in(path, sizeof path, dirs[t], "families.csv");
        assert_file_golden(path, "count-families.csv");
    }
    /* every other table too is the same whatever the thread count */
    for (size_t t = 1; t < RUNS; t++)
        assert_same_tables(dirs[0], dirs[t], threads[t]);
}

/* Splitting the character n-grams by level (docs/ngrams.md, "Threads"):
 * --level-split 1 makes the workers switch after the first batch, so
 * worker pairs count the later batches (statistics shared within a pair)
 * and the tables counted before the switch are merged into theirs.  The
 * corpus is written here: 9,000 short documents, three batches of the
 * pipeline (4,096 documents each), over a 60-character alphabet so that
 * n-grams repeat across documents, with a slogan and a numbered formula now
 * and then.  Every table must equal the one-thread run's, for 2 and 4
 * threads with the switch and 2 without it. */
static void test_count_level_split(void **state)
{
    (void)state;
    static const char alphabet[] =
        "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会"
        "可主发年动同工也能下过子说产种面而方后多定行学法所民得经";
    static const char *const extra[] = {"，", "。", "“三严三实”", "“最后一公里”",
                                        "“五个一”", "2019年", "零距离"};
    char corpus[300];
    path_in(corpus, sizeof corpus, tmp, "levels.jsonl");
    FILE *f = fopen(corpus, "w");
    assert_non_null(f);
    uint64_t rng = 88172645463325252u;
    size_t n_chars = (sizeof alphabet - 1) / 3;
    for (int d = 0; d < 9000; d++) {
        fprintf(f, "{\"title\": \"t%d\", \"date\": \"%d-05-01\", \"text\": \"", d,
                2010 + d % 12);
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int len = 20 + (int)(rng % 200);
        for (int k = 0; k < len; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            if (rng % 29 == 0)
                fputs(extra[(rng >> 8) % (sizeof extra / sizeof *extra)], f);
            else
                fwrite(alphabet + 3 * ((rng >> 8) % n_chars), 1, 3, f);
        }
        fputs("\"}\n", f);
    }
    assert_int_equal(fclose(f), 0);

    static const struct {
        const char *threads, *split, *name;
    } runs[] = {{"1", NULL, "lv-t1"}, {"2", "1", "lv-t2"}, {"4", "1", "lv-t4"},
                {"2", NULL, "lv-t2-default"}};
    enum { RUNS = sizeof runs / sizeof *runs };
    char dirs[RUNS][300];
    for (size_t r = 0; r < RUNS; r++) {
        path_in(dirs[r], sizeof dirs[r], tmp, runs[r].name);
        const char *args[] = {"count", "--format", "jsonl", "--no-charts", "--threads",
                              runs[r].threads, "-o", dirs[r], corpus,
                              runs[r].split ? "--level-split" : NULL, runs[r].split, NULL};
        tifa_expect(0, args);
    }
    char path[400];
    path_in(path, sizeof path, dirs[0], "ngrams.csv");
    size_t len = 0;
    char *ngrams = slurp(path, &len);
    assert_non_null(ngrams);
    size_t rows = 0;
    for (size_t i = 0; i < len; i++)
        rows += ngrams[i] == '\n';
    free(ngrams);
    assert_true(rows > 10000); /* the test is not about an empty table */
    for (size_t r = 1; r < RUNS; r++)
        assert_same_tables(dirs[0], dirs[r], runs[r].name);
    /* a size is required, and 0 is not one */
    const char *bad[] = {"count", "--level-split", "0", "-o", dirs[0], corpus, NULL};
    tifa_expect(2, bad);
}

/* ------------------------------------------------------------ compare -- */

static void test_compare(void **state)
{
    (void)state;
    char dir1[300], dir2[300], k1[400], k2[400];
    path_in(dir1, sizeof dir1, tmp, "compare-t1");
    path_in(dir2, sizeof dir2, tmp, "compare-t2");
    const char *a1[] = {"compare", "--target", "examples/demo/corpus/qingchuan",
                        "--reference", "examples/demo/corpus/baihe", "--no-charts",
                        "--threads", "1", "-o", dir1, NULL};
    const char *a2[] = {"compare", "--target", "examples/demo/corpus/qingchuan",
                        "--reference", "examples/demo/corpus/baihe", "--no-charts",
                        "--threads", "2", "-o", dir2, NULL};
    tifa_expect(0, a1);
    tifa_expect(0, a2);
    path_in(k1, sizeof k1, dir1, "keyness.csv");
    path_in(k2, sizeof k2, dir2, "keyness.csv");
    assert_true(same_file(k1, k2));

    /* The golden file keeps the header and the slogan rows only (the
     * n-gram rows would make it huge). */
    char *data = slurp(k1, NULL);
    assert_non_null(data);
    size_t len;
    char *slogans = filter_lines(data, "target,reference,slogan,", &len);
    free(data);
    bool same = matches_golden(slogans, len, "compare-keyness-slogans.csv");
    free(slogans);
    if (!same)
        fail();

    /* Two rows worked out by hand with the SPEC §5 formulas.  Sizes (Han
     * characters, tests/fixtures/demo-expected/expected.csv): qingchuan
     * c = 1378, baihe d = 1381, c + d = 2759.  a and b are `total`
     * occurrences (LEDGER.md).  Columns: 4 a, 5 b, 8 g2, 11 log_ratio,
     * 17 size_target, 18 size_reference.
     *
     * 五个一: a = 0, b = 5.
     *   E1 = 1378·5/2759 = 2.49728,  E2 = 1381·5/2759 = 2.50272
     *   G² = 2(0 + 5 ln(5/E2)) = 10 ln(2759/1381) = 10 ln 1.997828
     *      = 10 · 0.692060 = 6.92060
     *   LR = log₂((0.5/1378)/(5/1381)) = log₂(690.5/6890)
     *      = log₂ 0.1002177 = −3.31879
     * 零距离: a = 6, b = 0.
     *   E1 = 1378·6/2759 = 2.99674
     *   G² = 2(6 ln(6/E1) + 0) = 12 ln(2759/1378) = 12 ln 2.002177
     *      = 12 · 0.694235 = 8.33082
     *   LR = log₂((6/1378)/(0.5/1381)) = log₂(8286/689) = log₂ 12.02612
     *      = 3.58810
     * The table prints 4 decimals, hence the 6e-5 tolerance. */
    const char *wu = "target,reference,slogan,五个一,";
    assert_float_equal(csv_number(k1, wu, 4), 0, 0);
    assert_float_equal(csv_number(k1, wu, 5), 5, 0);
    assert_float_equal(csv_number(k1, wu, 8), 6.92060, 6e-5);
    assert_float_equal(csv_number(k1, wu, 11), -3.31879, 6e-5);
    assert_float_equal(csv_number(k1, wu, 17), 1378, 0);
    assert_float_equal(csv_number(k1, wu, 18), 1381, 0);
    const char *ling = "target,reference,slogan,零距离,";
    assert_float_equal(csv_number(k1, ling, 4), 6, 0);
    assert_float_equal(csv_number(k1, ling, 5), 0, 0);
    assert_float_equal(csv_number(k1, ling, 8), 8.33082, 6e-5);
    assert_float_equal(csv_number(k1, ling, 11), 3.58810, 6e-5);
}

/* --------------------------------------------------------------- plot -- */

static void test_plot(void **state)
{
    (void)state;
    char dir[300], svg[400], saved[400], slogans[400], baihe[400];
    path_in(dir, sizeof dir, tmp, "plot");
    const char *run[] = {"run", "examples/demo/study.ini", "--threads", "1",
                         "-q", "-o", dir, NULL};
    tifa_expect(0, run);
    path_in(svg, sizeof svg, dir, "charts/top_slogans-qingchuan.svg");
    path_in(baihe, sizeof baihe, dir, "charts/top_slogans-baihe.svg");
    path_in(saved, sizeof saved, tmp, "top_slogans-qingchuan.svg");
    path_in(slogans, sizeof slogans, dir, "slogans.csv");
    assert_file_contains(svg, "<text>零距离<");
    assert_int_equal(rename(svg, saved), 0);

    /* The chart is rendered again, byte for byte as the run made it. */
    const char *plot[] = {"plot", dir, NULL};
    tifa_expect(0, plot);
    assert_file_contains(errf, "0 failed");
    assert_int_equal(access(svg, F_OK), 0);
    assert_true(same_file(svg, saved));

    /* Delete 零距离 from qingchuan's rows of slogans.csv (the corpus row
     * and its two year rows): the re-rendered chart follows the table. */
    assert_int_equal(delete_lines(slogans, "qingchuan,", ",零距离,"), 3);
    char *before_baihe = slurp(baihe, NULL);
    assert_non_null(before_baihe);
    tifa_expect(0, plot);
    assert_false(contains(svg, "零距离"));
    assert_file_contains(svg, "<text>三严三实<");
    char *after_baihe = slurp(baihe, NULL);
    assert_string_equal(before_baihe, after_baihe);
    free(before_baihe);
    free(after_baihe);
}

/* -------------------------------------------------------------- merge -- */

static void test_merge(void **state)
{
    (void)state;
    char shard_a[300], shard_b[300], dir_a[300], dir_b[300], merged[300], single[300];
    path_in(shard_a, sizeof shard_a, tmp, "A.shard");
    path_in(shard_b, sizeof shard_b, tmp, "B.shard");
    path_in(dir_a, sizeof dir_a, tmp, "merge-a");
    path_in(dir_b, sizeof dir_b, tmp, "merge-b");
    path_in(merged, sizeof merged, tmp, "merge-m");
    path_in(single, sizeof single, tmp, "merge-single");
    /* Shards carry corpus names: both parts and the single run name their
     * corpus "demo", so the merged table can equal the single one. */
    const char *a[] = {"count", "--no-charts", "--ngrams", "1-3", "--save-shard", shard_a,
                       "-o", dir_a, "--corpus", "demo=examples/demo/corpus/qingchuan", NULL};
    const char *b[] = {"count", "--no-charts", "--ngrams", "1-3", "--save-shard", shard_b,
                       "-o", dir_b, "--corpus", "demo=examples/demo/corpus/baihe", NULL};
    const char *m[] = {"merge", "-o", merged, shard_a, shard_b, NULL};
    const char *s[] = {"count", "--no-charts", "--ngrams", "1-3", "-o", single, "--corpus",
                       "demo=examples/demo/corpus/qingchuan,examples/demo/corpus/baihe",
                       NULL};
    tifa_expect(0, a);
    tifa_expect(0, b);
    tifa_expect(0, m);
    tifa_expect(0, s);
    char pm[400], ps[400], pa[400];
    path_in(pm, sizeof pm, merged, "ngrams.csv");
    path_in(ps, sizeof ps, single, "ngrams.csv");
    path_in(pa, sizeof pa, dir_a, "ngrams.csv");
    assert_true(same_file(pm, ps));
    assert_false(same_file(pm, pa)); /* the merge did add the second part */
    /* per_10k of the top unigram is over both parts' 1378 + 1381 = 2759 Han
     * characters: count × 10,000 / 2759 */
    double count = csv_number(pm, "demo,char,1,", 4);
    double per_10k = csv_number(pm, "demo,char,1,", 6);
    assert_true(count > 0);
    assert_float_equal(per_10k, count * 10000.0 / 2759, 6e-5);
    const char *bad[] = {"merge", "-o", merged, shard_a, ps, NULL};
    tifa_expect(3, bad); /* a CSV is not a shard: no usable input */
}

/* ------------------------------------------------------------- verify -- */

static void test_verify(void **state)
{
    (void)state;
    char in[300], out[300], spec[700], missing[400];
    path_in(in, sizeof in, tmp, "verify-in");
    path_in(out, sizeof out, tmp, "verify-out");
    /* work on a copy: the repository's corpus is never edited */
    const char *cp[] = {"cp", "-R", "examples/demo/corpus", in, NULL};
    assert_int_equal(spawn_wait(cp), 0);
    snprintf(spec, sizeof spec, "demo=%s/qingchuan,%s/baihe", in, in);
    const char *count[] = {"count", "--no-charts", "-q", "-o", out, "--corpus", spec, NULL};
    const char *verify[] = {"verify", out, NULL};

    tifa_expect(0, count);
    tifa_expect(0, verify);
    assert_file_contains(errf, "matches its manifest");

    path_in(missing, sizeof missing, out, "families.csv");
    assert_int_equal(unlink(missing), 0);
    tifa_expect(5, verify);
    assert_file_contains(errf, "missing output: families.csv");

    tifa_expect(0, count); /* a fresh run into the same (tifa's) folder */
    tifa_expect(0, verify);
    char input[400];
    path_in(input, sizeof input, in, "baihe/2015.txt");
    FILE *f = fopen(input, "ab");
    assert_non_null(f);
    fputs("x", f);
    assert_int_equal(fclose(f), 0);
    tifa_expect(5, verify);
    assert_file_contains(errf, "changed input");
    assert_file_contains(errf, "baihe/2015.txt");
}

/* -------------------------------------------------------- study files -- */

static void test_study_errors(void **state)
{
    (void)state;
    char bad[300], missing[300], out[300], tables[400];
    path_in(bad, sizeof bad, tmp, "misspelt.ini");
    path_in(missing, sizeof missing, tmp, "ghost.ini");
    path_in(out, sizeof out, tmp, "study-out");
    write_text(bad, "; a study with a misspelt key on line 8\n"
                    "[study]\n"
                    "name = misspelt\n"
                    "output = out\n"
                    "\n"
                    "[corpus qingchuan]\n"
                    "paths = corpus/qingchuan\n"
                    "fromat = forum\n");
    const char *run_bad[] = {"run", bad, "-o", out, NULL};
    tifa_expect(2, run_bad);
    assert_file_contains(errf, "misspelt.ini:8");
    assert_file_contains(errf, "fromat");
    assert_file_contains(errf, "did you mean 'format'");
    assert_int_not_equal(access(out, F_OK), 0); /* rejected before any output */

    write_text(missing, "[study]\n"
                        "name = ghost\n"
                        "output = out\n"
                        "\n"
                        "[corpus ghost]\n"
                        "paths = no/such/folder\n"
                        "format = forum\n");
    const char *run_missing[] = {"run", missing, "-o", out, NULL};
    tifa_expect(3, run_missing);
    assert_file_contains(errf, "no/such/folder");
    path_in(tables, sizeof tables, out, "slogans.csv");
    assert_int_not_equal(access(tables, F_OK), 0);
    path_in(tables, sizeof tables, out, "documents.csv");
    assert_int_not_equal(access(tables, F_OK), 0);
}

/* -------------------------------------------------------- CSV options -- */

static void test_csv_options(void **state)
{
    (void)state;
    /* --no-bom: the golden documents table without its first 3 bytes */
    const char *nobom[] = {"docs", "--no-bom", "examples/demo/corpus/qingchuan", NULL};
    tifa_expect(0, nobom);
    size_t ulen = 0;
    char *utf8 = slurp(outf, &ulen);
    assert_non_null(utf8);
    assert_true(ulen > 3);
    assert_memory_not_equal(utf8, "\xEF\xBB\xBF", 3);
    assert_memory_equal(utf8, "doc_id,", 7);
    char golden[400];
    path_in(golden, sizeof golden, GOLDEN_DIR, "docs-qingchuan.csv");
    size_t glen = 0;
    char *g = slurp(golden, &glen);
    assert_non_null(g);
    assert_int_equal(glen, ulen + 3);
    assert_memory_equal(g + 3, utf8, ulen);
    free(g);

    /* --csv-encoding gb18030: decodes (ICU) to the same text */
    const char *gb[] = {"docs", "--csv-encoding", "gb18030",
                        "examples/demo/corpus/qingchuan", NULL};
    tifa_expect(0, gb);
    size_t glen2 = 0;
    char *gbdata = slurp(outf, &glen2);
    assert_non_null(gbdata);
    assert_true(glen2 != ulen || memcmp(gbdata, utf8, ulen) != 0); /* really re-encoded */
    /* strict decoding: an unmappable or malformed byte stops with an error */
    UErrorCode err = U_ZERO_ERROR;
    UConverter *from = ucnv_open("GB18030", &err);
    UConverter *to = ucnv_open("UTF-8", &err);
    assert_true(U_SUCCESS(err));
    ucnv_setToUCallBack(from, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &err);
    UChar *u16 = malloc((glen2 + 1) * sizeof *u16);
    assert_non_null(u16);
    int32_t n16 = ucnv_toUChars(from, u16, (int32_t)glen2 + 1, gbdata,
                                (int32_t)glen2, &err);
    if (U_FAILURE(err))
        fail_msg("the gb18030 output does not decode: %s", u_errorName(err));
    size_t cap = glen2 * 3 + 16;
    char *decoded = malloc(cap);
    assert_non_null(decoded);
    int32_t dlen = ucnv_fromUChars(to, decoded, (int32_t)cap, u16, n16, &err);
    assert_true(U_SUCCESS(err));
    ucnv_close(from);
    ucnv_close(to);
    free(u16);
    assert_int_equal((size_t)dlen, ulen);
    assert_memory_equal(decoded, utf8, ulen);
    free(decoded);
    free(gbdata);
    free(utf8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs),
        cmocka_unit_test(test_kwic),
        cmocka_unit_test(test_count_table_to_stdout),
        cmocka_unit_test(test_count_families),
        cmocka_unit_test(test_count_level_split),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_plot),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_study_errors),
        cmocka_unit_test(test_csv_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
