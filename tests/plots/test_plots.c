/*
 * test_plots.c — tests of plots/: quoting and data-field cleaning, the chart
 * scripts built without gnuplot (names, axes from zero, relative paths,
 * colours per corpus, language), rendering through gnuplot (PNG size, SVG
 * text holding the Chinese labels, standalone re-rendering, byte-identical
 * SVG on a second run), a hostile corpus table whose text tries to run
 * commands or expand macros in gnuplot (nothing runs, labels stay plain),
 * and the partial-failure behaviour when gnuplot is missing, rejects a
 * script or crashes.
 *
 * Fixtures: tests/fixtures/plots/{demo,evil}/ (made by make_fixtures.py).
 * Rendering tests copy a fixture into a fresh temporary directory and remove
 * it afterwards; they are skipped when gnuplot is not on PATH.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plots_internal.h"

#define FIX TIFA_TEST_FIXTURES "/plots"

/* ---------------------------------------------------------------- helpers -- */

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    size_t n = 0;
    if (tifa_read_file(path, &data, &n) != TIFA_OK)
        return NULL;
    if (len)
        *len = n;
    return data;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Copies every regular file of src into dst. */
static void copy_dir(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char from[1024], to[1024];
        snprintf(from, sizeof from, "%s/%s", src, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dst, e->d_name);
        size_t n = 0;
        char *data = slurp(from, &n);
        if (!data)
            continue; /* a directory */
        assert_int_equal(tifa_write_file_atomic(to, data, n), TIFA_OK);
        free(data);
    }
    closedir(d);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory holding a copy of fixture (NULL: empty). Caller frees. */
static char *fixture_copy(const char *fixture)
{
    char tmpl[] = "/tmp/tifa-plots-test-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    if (fixture)
        copy_dir(fixture, dir);
    return strdup(dir);
}

static bool have_gnuplot(void)
{
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    char *v = tifa_gnuplot_version(&o);
    bool ok = v != NULL;
    free(v);
    return ok;
}

static size_t find_chart(const tifa_chart_set *set, const char *name)
{
    for (size_t i = 0; i < tifa_chart_set_size(set); i++)
        if (strcmp(tifa_chart_name(set, i), name) == 0)
            return i;
    fail_msg("no chart named %s", name);
    return 0;
}

/* Does a diag entry at severity >= min contain all of the given texts? */
static bool diag_has(const tifa_diag *diag, tifa_severity min, const char *a,
                     const char *b)
{
    for (size_t i = 0; i < tifa_diag_size(diag); i++) {
        const tifa_diag_entry *e = tifa_diag_get(diag, i);
        if (e->severity >= min && strstr(e->message, a) &&
            (!b || strstr(e->message, b)))
            return true;
    }
    return false;
}

static const char *const demo_charts[] = {
    "top_slogans-govreports", "top_slogans-qiyang", "families",
    "families-govreports-groups", "families-qiyang-groups", "trend-govreports",
    "trend-qiyang", "keyness-govreports-vs-qiyang-slogan",
    "keyness-qiyang-vs-govreports-slogan", "zipf-slogans", "zipf-char-1",
    "zipf-char-2", "dispersion-govreports", "dispersion-qiyang",
    "heatmap-govreports", "heatmap-qiyang", "heatmap-corpora", NULL};

/* ----------------------------------------------------------------- quoting -- */

static void test_quote(void **state)
{
    (void)state;
    tifa_buf b = {0};
    assert_int_equal(tifa_gnuplot_quote(&b, "it's `id` @x \"y\"\nz\\"), TIFA_OK);
    assert_string_equal(b.data, "'it''s `id` @x \"y\" z\\'");
    tifa_buf_clear(&b);
    assert_int_equal(tifa_gnuplot_quote(&b, NULL), TIFA_OK);
    assert_string_equal(b.data, "''");
    tifa_buf_clear(&b);
    assert_int_equal(tifa_gnuplot_quote(&b, "零距离'"), TIFA_OK);
    assert_string_equal(b.data, "'零距离'''");
    tifa_buf_free(&b);
}

static void test_field(void **state)
{
    (void)state;
    tifa_buf b = {0};
    tifa_gnuplot_field(&b, "a\tb\nc\r\"d\"", 0);
    assert_string_equal(b.data, "a b c ＂d＂");
    tifa_buf_clear(&b);
    tifa_gnuplot_field(&b, "", 0);
    assert_string_equal(b.data, "-");
    tifa_buf_clear(&b);
    tifa_gnuplot_field(&b, "  #tag ", 0);
    assert_string_equal(b.data, "＃tag");
    tifa_buf_clear(&b);
    /* 8 CJK characters = 16 columns; cut at 10 columns: 4 chars + … */
    tifa_gnuplot_field(&b, "全面从严治党永远在路", 10);
    assert_string_equal(b.data, "全面从严…");
    tifa_buf_clear(&b);
    tifa_gnuplot_field(&b, "零距离", 10);
    assert_string_equal(b.data, "零距离");
    tifa_buf_clear(&b);
    tifa_gnuplot_field(&b, "`touch x`", 0);
    assert_string_equal(b.data, "`touch x`");
    tifa_buf_free(&b);
}

/* ------------------------------------------------- scripts without gnuplot -- */

/* Every byte of a script outside single-quoted strings: no backquote, no
 * '@', no double quote; no newline inside a single-quoted string. */
static void assert_script_safe(const char *name, const char *s)
{
    bool in_sq = false, in_comment = false;
    for (const char *p = s; *p; p++) {
        if (in_comment) {
            if (*p == '\n')
                in_comment = false;
            continue;
        }
        if (in_sq) {
            if (*p == '\n')
                fail_msg("%s: newline inside a quoted string", name);
            if (*p == '\'') {
                if (p[1] == '\'')
                    p++;
                else
                    in_sq = false;
            }
            continue;
        }
        if (*p == '\'')
            in_sq = true;
        else if (*p == '#')
            in_comment = true;
        else if (*p == '`' || *p == '@' || *p == '"')
            fail_msg("%s: '%c' outside single quotes at offset %td", name, *p,
                     p - s);
    }
    assert_false(in_sq);
}

static void test_demo_scripts(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    o.font = "Noto Sans CJK SC"; /* no fontconfig lookup: stable text */
    tifa_status st;
    tifa_chart_set *set = tifa_plots_prepare(FIX "/demo", &o, diag, &st);
    assert_int_equal(st, TIFA_OK);
    assert_non_null(set);
    assert_int_equal(tifa_chart_set_skipped(set), 0);
    for (size_t k = 0; demo_charts[k]; k++)
        (void)find_chart(set, demo_charts[k]);
    assert_int_equal(tifa_chart_set_size(set), 17);

    for (size_t i = 0; i < tifa_chart_set_size(set); i++) {
        const char *name = tifa_chart_name(set, i);
        const char *gp = tifa_chart_script(set, i);
        char want[256];
        assert_script_safe(name, gp);
        /* Relative data path and outputs under tifa_out. */
        snprintf(want, sizeof want, "'%s.dat'", name);
        assert_non_null(strstr(gp, want));
        snprintf(want, sizeof want, "set output tifa_out.'%s.png'", name);
        assert_non_null(strstr(gp, want));
        snprintf(want, sizeof want, "set output tifa_out.'%s.svg'", name);
        assert_non_null(strstr(gp, want));
        assert_null(strstr(gp, ".pdf"));
        assert_non_null(strstr(gp, "if (!exists('tifa_out')) tifa_out = ''"));
        assert_non_null(strstr(gp, "font 'Noto Sans CJK SC,10'"));
        assert_non_null(strstr(gp, "pngcairo size 945,"));
        assert_null(strchr(tifa_chart_data(set, i), '"'));
    }
    /* Bars from zero. */
    const char *top = tifa_chart_script(set, find_chart(set, "top_slogans-qiyang"));
    assert_non_null(strstr(top, "set xrange [0:"));
    assert_non_null(strstr(top, "with boxxyerror"));
    assert_non_null(strstr(top, "'qiyang：引号内高频口号（前 15）'"));
    assert_non_null(strstr(tifa_chart_script(set, find_chart(set, "families")),
                           "set yrange [0:"));
    /* Slogans are data, ranked: 零距离 first (top row, y = 15). */
    const char *dat = tifa_chart_data(set, find_chart(set, "top_slogans-qiyang"));
    assert_non_null(strstr(dat, "\n15\t零距离\t"));
    /* One colour per corpus everywhere: govreports sorts first. */
    assert_non_null(strstr(tifa_chart_script(set, find_chart(set, "top_slogans-govreports")),
                           "#0072B2"));
    assert_non_null(strstr(top, "#D55E00"));
    const char *fam = tifa_chart_script(set, find_chart(set, "families"));
    assert_non_null(strstr(fam, "lc rgb '#0072B2' title 'govreports'"));
    assert_non_null(strstr(fam, "lc rgb '#D55E00' title 'qiyang'"));
    const char *zipf = tifa_chart_script(set, find_chart(set, "zipf-slogans"));
    assert_non_null(strstr(zipf, "lc rgb '#D55E00' title 'qiyang'"));
    assert_non_null(strstr(zipf, "set logscale xy"));
    /* Height grows with the bars: 15 bars need more than 10 cm. */
    assert_non_null(strstr(top, "pngcairo size 945,"));
    assert_null(strstr(top, "pngcairo size 945,591 "));
    /* Keyness: G² labels in the data, features on y. */
    const char *kd = tifa_chart_data(set, find_chart(set, "keyness-qiyang-vs-govreports-slogan"));
    assert_non_null(strstr(kd, "G²="));
    /* The 15 rows of largest G² (of 17): 两学一做 and 三严三实 are out. */
    assert_non_null(strstr(kd, "\n15\t"));
    assert_null(strstr(kd, "\n16\t"));
    assert_non_null(strstr(kd, "\t面对面\t"));
    assert_null(strstr(kd, "\t两学一做\t"));
    assert_null(strstr(kd, "\t三严三实\t"));
    tifa_chart_set_free(set);

    /* English labels and PDF on request. */
    o.language = "en";
    o.pdf = true;
    set = tifa_plots_prepare(FIX "/demo", &o, diag, &st);
    assert_non_null(set);
    top = tifa_chart_script(set, find_chart(set, "top_slogans-qiyang"));
    assert_non_null(strstr(top, "per 10,000 Han characters"));
    assert_non_null(strstr(top, "set output tifa_out.'top_slogans-qiyang.pdf'"));
    assert_non_null(strstr(top, "pdfcairo size 16.00cm,"));
    tifa_chart_set_free(set);
    tifa_diag_free(diag);
}

static void test_evil_scripts(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    o.font = "Noto Sans CJK SC";
    o.label_cols = 60; /* whole labels, to find them (and room for them) */
    o.width_cm = 20;
    tifa_status st;
    tifa_chart_set *set = tifa_plots_prepare(FIX "/evil", &o, diag, &st);
    assert_int_equal(st, TIFA_OK);
    assert_true(tifa_chart_set_size(set) >= 10);
    for (size_t i = 0; i < tifa_chart_set_size(set); i++) {
        const char *name = tifa_chart_name(set, i);
        for (const char *p = name; *p; p++)
            assert_true(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_-", *p) != NULL);
        assert_script_safe(name, tifa_chart_script(set, i));
        const char *d = tifa_chart_data(set, i);
        assert_null(strchr(d, '"'));
        /* Every data line: no stray CR, no line starting with text. */
        for (const char *line = d; *line;) {
            const char *eol = strchr(line, '\n');
            size_t n = eol ? (size_t)(eol - line) : strlen(line);
            if (n && line[0] != '#')
                assert_true((line[0] >= '0' && line[0] <= '9') || line[0] == '-');
            assert_null(memchr(line, '\r', n));
            line += n + (eol ? 1 : 0);
        }
    }
    /* The hostile slogans are data, intact apart from the quote marks. */
    bool seen = false;
    for (size_t i = 0; i < tifa_chart_set_size(set); i++)
        if (strncmp(tifa_chart_name(set, i), "top_slogans-", 12) == 0) {
            const char *d = tifa_chart_data(set, i);
            seen = true;
            assert_non_null(strstr(d, "\t`touch /tmp/tifa-plots-pwned`\t"));
            assert_non_null(strstr(d, "\tit's ＂quoted＂\t"));
            assert_non_null(strstr(d, "\tline one tab\t"));
            assert_non_null(strstr(d, "\t＃comment \\\t"));
        }
    assert_true(seen);
    tifa_chart_set_free(set);
    tifa_diag_free(diag);
}

static void test_missing_tables(void **state)
{
    (void)state;
    char *dir = fixture_copy(NULL);
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    o.font = "Sans";
    tifa_plot_summary sum;
    assert_int_equal(tifa_plots_render_all(dir, &o, diag, &sum), TIFA_OK);
    assert_int_equal(sum.rendered, 0);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.skipped, 7);
    assert_true(diag_has(diag, TIFA_NOTE, "dispersion", "slogans_by_doc.csv"));
    /* No output directory: an error, nothing rendered. */
    assert_int_equal(tifa_plots_render_all("/nonexistent/tifa-out", &o, diag, &sum),
                     TIFA_ENOENT);
    rm_rf(dir);
    free(dir);
    tifa_diag_free(diag);
}

/* ------------------------------------------------------------- rendering -- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_render_demo(void **state)
{
    (void)state;
    if (!have_gnuplot())
        skip();
    char *dir = fixture_copy(FIX "/demo");
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    tifa_plot_summary sum;
    /* A chart of an earlier render that this one does not make goes away;
     * a file tifa did not write stays. */
    char path[1024];
    snprintf(path, sizeof path, "%s/charts", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    static const char old_gp[] = "# old.gp — x\n# Written by tifa 0.0.1 (plots/).\n";
    static const char mine_gp[] = "# my own script\nplot sin(x)\n";
    snprintf(path, sizeof path, "%s/charts/old.gp", dir);
    assert_int_equal(tifa_write_file_atomic(path, old_gp, sizeof old_gp - 1), TIFA_OK);
    snprintf(path, sizeof path, "%s/charts/old.png", dir);
    assert_int_equal(tifa_write_file_atomic(path, "x", 1), TIFA_OK);
    snprintf(path, sizeof path, "%s/charts/mine.gp", dir);
    assert_int_equal(tifa_write_file_atomic(path, mine_gp, sizeof mine_gp - 1), TIFA_OK);

    tifa_status st = tifa_plots_render_all(dir, &o, diag, &sum);
    for (size_t i = 0; i < tifa_diag_size(diag); i++)
        if (tifa_diag_get(diag, i)->severity >= TIFA_WARNING)
            print_message("diag: %s\n", tifa_diag_get(diag, i)->message);
    assert_int_equal(st, TIFA_OK);
    snprintf(path, sizeof path, "%s/charts/old.gp", dir);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/charts/old.png", dir);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/charts/mine.gp", dir);
    assert_true(exists(path));
    assert_int_equal(sum.rendered, 17);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.skipped, 0);
    assert_int_equal(tifa_diag_count(diag, TIFA_WARNING), 0);
    for (size_t k = 0; demo_charts[k]; k++) {
        const char *ext[] = {"png", "svg", "gp", "dat"};
        for (size_t e = 0; e < 4; e++) {
            snprintf(path, sizeof path, "%s/charts/%s.%s", dir, demo_charts[k], ext[e]);
            assert_true(exists(path));
        }
        snprintf(path, sizeof path, "%s/charts/%s.png", dir, demo_charts[k]);
        assert_true(file_size(path) > 8000);
        size_t n;
        unsigned char *png = (unsigned char *)slurp(path, &n);
        assert_non_null(png);
        assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
        assert_int_equal(be32(png + 16), 945); /* 16 cm at 150 dpi */
        assert_true(be32(png + 20) >= 300);
        free(png);
        snprintf(path, sizeof path, "%s/charts/.tifa-tmp-%s.png", dir, demo_charts[k]);
        assert_false(exists(path));
    }
    /* The SVG holds the Chinese labels as text. */
    snprintf(path, sizeof path, "%s/charts/top_slogans-qiyang.svg", dir);
    char *svg = slurp(path, NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, ">零距离</text>"));
    assert_non_null(strstr(svg, ">三严三实</text>"));
    assert_non_null(strstr(svg, "qiyang：引号内高频口号（前 15）"));
    free(svg);
    snprintf(path, sizeof path, "%s/charts/heatmap-qiyang.svg", dir);
    svg = slurp(path, NULL);
    assert_non_null(strstr(svg, ">2014</text>"));
    assert_non_null(strstr(svg, ">两学一做</text>"));
    free(svg);

    /* `gnuplot NAME.gp` in charts/ re-renders the chart alone, identically. */
    snprintf(path, sizeof path, "%s/charts/trend-qiyang.svg", dir);
    size_t n1, n2;
    char *before = slurp(path, &n1);
    assert_int_equal(remove(path), 0);
    char cdir[1024];
    snprintf(cdir, sizeof cdir, "%s/charts", dir);
    tifa_buf err = {0};
    bool nf;
    static const char load[] = "load 'trend-qiyang.gp'\n";
    assert_int_equal(tifa_gnuplot_run(NULL, cdir, load, sizeof load - 1, &err, &nf),
                     TIFA_OK);
    char *after = slurp(path, &n2);
    assert_non_null(after);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    free(before);
    free(after);
    tifa_buf_free(&err);

    /* Determinism: a second run gives byte-identical SVG (and PNG). */
    char *dir2 = fixture_copy(FIX "/demo");
    assert_int_equal(tifa_plots_render_all(dir2, &o, diag, &sum), TIFA_OK);
    for (size_t k = 0; demo_charts[k]; k++) {
        const char *ext[] = {"svg", "png", "gp", "dat"};
        for (size_t e = 0; e < 4; e++) {
            char p1[1024], p2[1024];
            snprintf(p1, sizeof p1, "%s/charts/%s.%s", dir, demo_charts[k], ext[e]);
            snprintf(p2, sizeof p2, "%s/charts/%s.%s", dir2, demo_charts[k], ext[e]);
            char *a = slurp(p1, &n1), *b = slurp(p2, &n2);
            assert_non_null(a);
            assert_non_null(b);
            if (n1 != n2 || memcmp(a, b, n1) != 0)
                fail_msg("%s differs between two runs", p1);
            free(a);
            free(b);
        }
    }
    rm_rf(dir2);
    free(dir2);
    rm_rf(dir);
    free(dir);
    tifa_diag_free(diag);
}

static void test_render_evil(void **state)
{
    (void)state;
    if (!have_gnuplot())
        skip();
    static const char *const markers[] = {
        "/tmp/tifa-plots-pwned", "/tmp/tifa-plots-pwned2",
        "/tmp/tifa-plots-pwned3", "/tmp/tifa-plots-pwned4", NULL};
    for (size_t i = 0; markers[i]; i++)
        remove(markers[i]);
    char *dir = fixture_copy(FIX "/evil");
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    o.label_cols = 60;
    o.pdf = true;       /* PDF on request, 20 cm at 300 dpi */
    o.width_cm = 20;
    o.dpi = 300;
    tifa_plot_summary sum;
    tifa_status st = tifa_plots_render_all(dir, &o, diag, &sum);
    for (size_t i = 0; i < tifa_diag_size(diag); i++)
        if (tifa_diag_get(diag, i)->severity >= TIFA_WARNING)
            print_message("diag: %s\n", tifa_diag_get(diag, i)->message);
    assert_int_equal(st, TIFA_OK);
    assert_int_equal(sum.failed, 0);
    assert_true(sum.rendered >= 10);
    for (size_t i = 0; markers[i]; i++)
        assert_false(exists(markers[i]));
    char path[1024];
    snprintf(path, sizeof path, "%s/charts/pwned-rel", dir);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/pwned-rel", dir);
    assert_false(exists(path));
    /* The labels are shown as plain text. */
    DIR *d;
    snprintf(path, sizeof path, "%s/charts", dir);
    assert_non_null(d = opendir(path));
    struct dirent *e;
    bool checked = false;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "top_slogans-", 12) || !strstr(e->d_name, ".svg"))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/charts/%s", dir, e->d_name);
        char *svg = slurp(p, NULL);
        assert_non_null(svg);
        if (strstr(svg, "`touch /tmp/tifa-plots-pwned`")) {
            checked = true;
            /* Its PNG is 20 cm at 300 dpi wide; its PDF exists. */
            char q[1024];
            size_t n;
            snprintf(q, sizeof q, "%s/charts/%.*s.png", dir,
                     (int)(strlen(e->d_name) - 4), e->d_name);
            unsigned char *png = (unsigned char *)slurp(q, &n);
            assert_non_null(png);
            assert_int_equal(be32(png + 16), 2362);
            free(png);
            snprintf(q, sizeof q, "%s/charts/%.*s.pdf", dir,
                     (int)(strlen(e->d_name) - 4), e->d_name);
            char *pdf = slurp(q, &n);
            assert_non_null(pdf);
            assert_memory_equal(pdf, "%PDF", 4);
            free(pdf);
            assert_non_null(strstr(svg, ">@foo @GPVAL_PWD</text>"));
            assert_non_null(strstr(svg, ">it's ＂quoted＂</text>"));
            assert_non_null(strstr(svg, ">line one tab</text>"));
        }
        free(svg);
    }
    closedir(d);
    assert_true(checked);
    /* No warnings from gnuplot (canvas too small, key titles that do not
     * fit) even at 8.5 cm, a paper column, with these long labels. */
    assert_int_equal(tifa_diag_count(diag, TIFA_WARNING), 0);
    o.width_cm = 8.5;
    o.pdf = false;
    o.label_cols = 24;
    assert_int_equal(tifa_plots_render_all(dir, &o, diag, &sum), TIFA_OK);
    for (size_t i = 0; i < tifa_diag_size(diag); i++)
        if (tifa_diag_get(diag, i)->severity >= TIFA_WARNING)
            print_message("diag: %s\n", tifa_diag_get(diag, i)->message);
    assert_int_equal(tifa_diag_count(diag, TIFA_WARNING), 0);
    for (size_t i = 0; markers[i]; i++)
        assert_false(exists(markers[i]));
    rm_rf(dir);
    free(dir);
    tifa_diag_free(diag);
}

/* ------------------------------------------------------- partial failure -- */

static void check_partial(const char *gnuplot, bool clear_path)
{
    char *dir = fixture_copy(FIX "/demo");
    char csv[1024];
    snprintf(csv, sizeof csv, "%s/slogans.csv", dir);
    size_t n0, n1;
    char *before = slurp(csv, &n0);
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    o.font = "Sans";
    o.gnuplot = gnuplot;
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    if (clear_path)
        setenv("PATH", dir, 1); /* a directory without gnuplot */
    tifa_plot_summary sum;
    tifa_status st = tifa_plots_render_all(dir, &o, diag, &sum);
    if (clear_path) {
        if (old_path)
            setenv("PATH", old_path, 1);
        else
            unsetenv("PATH");
    }
    free(old_path);
    assert_int_equal(st, TIFA_EGNUPLOT);
    assert_int_equal(sum.rendered, 0);
    assert_int_equal(sum.failed, 17);
    /* Every chart named; the first says what to install. */
    assert_true(diag_has(diag, TIFA_ERROR, "install gnuplot", "top_slogans-govreports"));
    assert_true(diag_has(diag, TIFA_ERROR, "heatmap-corpora", "not rendered"));
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 17);
    /* Tables untouched; scripts and data written; no image. */
    char *after = slurp(csv, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    char path[1024];
    snprintf(path, sizeof path, "%s/charts/families.gp", dir);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/charts/families.dat", dir);
    assert_true(exists(path));
    snprintf(path, sizeof path, "%s/charts/families.png", dir);
    assert_false(exists(path));
    free(before);
    free(after);
    rm_rf(dir);
    free(dir);
    tifa_diag_free(diag);
}

static void test_gnuplot_missing(void **state)
{
    (void)state;
    check_partial("/nonexistent/bin/gnuplot", false);
    check_partial(NULL, true);
}

/* A stand-in gnuplot: a script in dir that does what body says. */
static char *fake_gnuplot(const char *dir, const char *body)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/fake-gnuplot", dir) > 0);
    char *text = NULL;
    assert_true(asprintf(&text, "#!/bin/sh\ncat >/dev/null\n%s\n", body) > 0);
    assert_int_equal(tifa_write_file_atomic(path, text, strlen(text)), TIFA_OK);
    assert_int_equal(chmod(path, 0755), 0);
    free(text);
    return path;
}

static void test_gnuplot_rejects_or_crashes(void **state)
{
    (void)state;
    char *tools = fixture_copy(NULL);
    struct {
        const char *body;
        const char *expect;
    } cases[] = {
        {"echo '\"families.gp\" line 7: unknown thing' >&2; exit 1",
         "line 7: unknown thing"},
        {"kill -SEGV $$", "killed by signal 11"},
        {"exit 3", "exited with status 3"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char *fake = fake_gnuplot(tools, cases[c].body);
        char *dir = fixture_copy(FIX "/demo");
        tifa_diag *diag = tifa_diag_new();
        tifa_plot_options o;
        tifa_plot_options_init(&o);
        o.font = "Sans";
        o.gnuplot = fake;
        tifa_plot_summary sum;
        assert_int_equal(tifa_plots_render_all(dir, &o, diag, &sum), TIFA_EGNUPLOT);
        assert_int_equal(sum.failed, 17);
        assert_int_equal(sum.rendered, 0);
        assert_true(diag_has(diag, TIFA_ERROR, "chart 'families' failed", cases[c].expect));
        char csv[1024];
        snprintf(csv, sizeof csv, "%s/families.csv", dir);
        assert_true(exists(csv));
        rm_rf(dir);
        free(dir);
        free(fake);
        tifa_diag_free(diag);
    }
    rm_rf(tools);
    free(tools);
}

/* Without any font fontconfig knows, one warning names the package and
 * the charts fall back to a generic family. */
static void test_no_cjk_font(void **state)
{
    (void)state;
    char *dir = fixture_copy(NULL);
    char conf[1024];
    snprintf(conf, sizeof conf, "%s/fonts.conf", dir);
    static const char xml[] =
        "<?xml version=\"1.0\"?>\n<fontconfig><cachedir>CACHE</cachedir></fontconfig>\n";
    char *text = NULL;
    assert_true(asprintf(&text, "%.*s%s/cache%s", (int)(strstr(xml, "CACHE") - xml), xml,
                         dir, strstr(xml, "CACHE") + 5) > 0);
    assert_int_equal(tifa_write_file_atomic(conf, text, strlen(text)), TIFA_OK);
    free(text);
    char *old = getenv("FONTCONFIG_FILE") ? strdup(getenv("FONTCONFIG_FILE")) : NULL;
    setenv("FONTCONFIG_FILE", conf, 1);
    tifa_diag *diag = tifa_diag_new();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    tifa_status st;
    tifa_chart_set *set = tifa_plots_prepare(FIX "/demo", &o, diag, &st);
    if (old)
        setenv("FONTCONFIG_FILE", old, 1);
    else
        unsetenv("FONTCONFIG_FILE");
    free(old);
    assert_non_null(set);
    assert_int_equal(tifa_diag_count(diag, TIFA_WARNING), 1);
    assert_true(diag_has(diag, TIFA_WARNING, "no CJK font", "fonts-noto-cjk"));
    assert_non_null(strstr(tifa_chart_script(set, 0), "font 'Sans,10'"));
    tifa_chart_set_free(set);
    tifa_diag_free(diag);
    rm_rf(dir);
    free(dir);
}

static void test_version(void **state)
{
    (void)state;
    if (!have_gnuplot())
        skip();
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    char *v = tifa_gnuplot_version(&o);
    assert_non_null(v);
    assert_true(strncmp(v, "gnuplot 5.", 10) == 0);
    free(v);
    o.gnuplot = "/nonexistent/gnuplot";
    assert_null(tifa_gnuplot_version(&o));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_field),
        cmocka_unit_test(test_demo_scripts),
        cmocka_unit_test(test_evil_scripts),
        cmocka_unit_test(test_missing_tables),
        cmocka_unit_test(test_render_demo),
        cmocka_unit_test(test_render_evil),
        cmocka_unit_test(test_gnuplot_missing),
        cmocka_unit_test(test_gnuplot_rejects_or_crashes),
        cmocka_unit_test(test_no_cjk_font),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
