/*
 * plots.c — the public face of plots/: options, the chart set, and
 * tifa_plots_render_all, which writes every chart's data and script to
 * OUTDIR/charts/ and has gnuplot render them.
 *
 * Each chart is independent: its NAME.dat and NAME.gp are written atomically
 * first (so a failed chart can still be inspected and re-run by hand), then
 * gnuplot gets the script on its standard input with tifa_out set to a
 * hidden temporary prefix; only when gnuplot exits cleanly are the
 * temporary PNG/SVG/PDF renamed to their final names.  A failing chart is
 * reported to diag with gnuplot's own message and the next chart is tried;
 * when gnuplot cannot be started at all, that is said once and every chart
 * is named as not rendered.  No CSV is touched here.
 */
#define _POSIX_C_SOURCE 200809L
#include "plots_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_PREFIX ".tifa-tmp-"

void tifa_plot_options_init(tifa_plot_options *options)
{
    memset(options, 0, sizeof *options);
    options->gnuplot = NULL;
    options->language = "zh";
    options->font = NULL;
    options->width_cm = 16;
    options->height_cm = 10;
    options->dpi = 150;
    options->pdf = false;
    options->top_n = 15;
    options->label_cols = 24;
}

void tifa_chart_set_free(tifa_chart_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->charts[i].name);
        free(set->charts[i].what);
        tifa_buf_free(&set->charts[i].data);
        tifa_buf_free(&set->charts[i].script);
    }
    free(set->charts);
    free(set->font);
    free(set);
}

size_t tifa_chart_set_size(const tifa_chart_set *set)
{
    return set ? set->n : 0;
}

size_t tifa_chart_set_skipped(const tifa_chart_set *set)
{
    return set ? set->skipped : 0;
}

const char *tifa_chart_name(const tifa_chart_set *set, size_t i)
{
    return set && i < set->n ? set->charts[i].name : NULL;
}

const char *tifa_chart_script(const tifa_chart_set *set, size_t i)
{
    return set && i < set->n && set->charts[i].script.data
               ? set->charts[i].script.data : "";
}

const char *tifa_chart_data(const tifa_chart_set *set, size_t i)
{
    return set && i < set->n && set->charts[i].data.data
               ? set->charts[i].data.data : "";
}

/* Options with every unset field defaulted (a copy; strings borrowed). */
static tifa_plot_options effective(const tifa_plot_options *in)
{
    tifa_plot_options o;
    tifa_plot_options_init(&o);
    if (!in)
        return o;
    o = *in;
    if (!o.language) o.language = "zh";
    if (!(o.width_cm > 0)) o.width_cm = 16;
    if (!(o.height_cm > 0)) o.height_cm = 10;
    if (o.dpi <= 0) o.dpi = 150;
    if (!o.top_n) o.top_n = 15;
    if (o.label_cols < 4) o.label_cols = 24;
    return o;
}

tifa_chart_set *tifa_plots_prepare(const char *outdir,
                                   const tifa_plot_options *options,
                                   tifa_diag *diag, tifa_status *status)
{
    tifa_plot_options o = effective(options);
    tifa_chart_set *set = calloc(1, sizeof *set);
    if (!set) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    if (o.font && *o.font) {
        set->font = tifa_strdup(o.font);
    } else {
        set->font = tifa_find_cjk_font();
        if (!set->font) {
            tifa_diag_add(diag, TIFA_WARNING, TIFA_OK, NULL, 0, -1,
                          "no CJK font found through fontconfig (wanted Noto "
                          "Sans CJK SC or WenQuanYi Micro Hei): Chinese labels "
                          "may show as boxes; install the package "
                          "fonts-noto-cjk (or fonts-wqy-microhei)");
            set->font = tifa_strdup("Sans");
        }
    }
    if (!set->font) {
        tifa_chart_set_free(set);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    tifa_status st = tifa_charts_build(outdir, &o, diag, set);
    if (st != TIFA_OK) {
        tifa_chart_set_free(set);
        *status = st;
        return NULL;
    }
    *status = TIFA_OK;
    return set;
}

/* gnuplot's stderr made one readable line: blank lines and caret lines
 * dropped, the rest joined with " | ". */
static void tidy_message(const tifa_buf *raw, tifa_buf *out)
{
    const char *p = raw->data ? raw->data : "";
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        size_t a = 0, b = n;
        while (a < b && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r'))
            a++;
        while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' || p[b - 1] == '\r'))
            b--;
        bool carets = a < b;
        for (size_t i = a; i < b; i++)
            if (p[i] != '^' && p[i] != ' ')
                carets = false;
        if (a < b && !carets) {
            if (out->len)
                tifa_buf_puts(out, " | ");
            tifa_buf_append(out, p + a, b - a);
        }
        p += n + (eol ? 1 : 0);
    }
    if (!out->len)
        tifa_buf_puts(out, "(no message)");
}

static const char *const formats[] = {"png", "svg", "pdf"};

/* Renames (ok) or removes (!ok) the temporary outputs of one chart. */
static tifa_status finish_outputs(const char *dir, const char *name, bool pdf,
                                  bool ok, tifa_buf *err)
{
    tifa_status st = TIFA_OK;
    tifa_buf tmp = {0}, fin = {0};
    for (size_t f = 0; f < (pdf ? 3u : 2u); f++) {
        tifa_buf_clear(&tmp);
        tifa_buf_clear(&fin);
        tifa_buf_printf(&tmp, "%s/" TMP_PREFIX "%s.%s", dir, name, formats[f]);
        tifa_buf_printf(&fin, "%s/%s.%s", dir, name, formats[f]);
        if (!tmp.data || !fin.data) {
            st = TIFA_ENOMEM;
            break;
        }
        if (ok) {
            if (rename(tmp.data, fin.data) != 0 && st == TIFA_OK) {
                tifa_buf_printf(err, "cannot rename %s to %s: %s", tmp.data,
                                fin.data, strerror(errno));
                st = TIFA_EIO;
            }
        } else {
            unlink(tmp.data);
            unlink(fin.data); /* a stale chart would not match the tables */
        }
    }
    tifa_buf_free(&tmp);
    tifa_buf_free(&fin);
    return st;
}

/* Removes the files of charts an earlier render made that this one does
 * not (a corpus renamed, a table filtered), so charts/ and the manifest show
 * only charts of the current tables.  A chart counts as tifa's only when its
 * NAME.gp has the header script_head writes; nothing else is touched. */
static void remove_stale(const char *dir, const tifa_chart_set *set)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    tifa_buf path = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".gp") != 0 || e->d_name[0] == '.')
            continue;
        bool current = false;
        for (size_t i = 0; i < set->n && !current; i++)
            current = strlen(set->charts[i].name) == n - 3 &&
                      strncmp(set->charts[i].name, e->d_name, n - 3) == 0;
        if (current)
            continue;
        tifa_buf_clear(&path);
        tifa_buf_printf(&path, "%s/%s", dir, e->d_name);
        char head[512];
        FILE *f = path.data ? fopen(path.data, "rb") : NULL;
        if (!f)
            continue;
        size_t got = fread(head, 1, sizeof head - 1, f);
        fclose(f);
        head[got] = '\0';
        if (strncmp(head, "# ", 2) != 0 || strstr(head, "\n# Written by tifa ") == NULL)
            continue;
        static const char *const exts[] = {"dat", "png", "svg", "pdf", "gp"};
        for (size_t k = 0; k < sizeof exts / sizeof *exts; k++) {
            tifa_buf_clear(&path);
            tifa_buf_printf(&path, "%s/%.*s.%s", dir, (int)(n - 3), e->d_name, exts[k]);
            if (path.data)
                unlink(path.data);
        }
    }
    closedir(d);
    tifa_buf_free(&path);
}

tifa_status tifa_plots_render_all(const char *outdir,
                                  const tifa_plot_options *options,
                                  tifa_diag *diag, tifa_plot_summary *summary)
{
    tifa_plot_summary sum = {0, 0, 0};
    if (summary)
        *summary = sum;
    struct stat sb;
    if (!outdir || stat(outdir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_ENOENT, outdir, 0, -1,
                      "output directory not found");
        return TIFA_ENOENT;
    }
    tifa_plot_options o = effective(options);
    tifa_status st;
    tifa_chart_set *set = tifa_plots_prepare(outdir, &o, diag, &st);
    if (!set)
        return st;
    sum.skipped = set->skipped;

    tifa_buf dir = {0}, path = {0}, script = {0}, err = {0}, msg = {0};
    tifa_buf_printf(&dir, "%s/charts", outdir);
    if (!dir.data) {
        tifa_chart_set_free(set);
        return TIFA_ENOMEM;
    }
    if (set->n && mkdir(dir.data, 0777) != 0 && errno != EEXIST) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EIO, dir.data, 0, -1,
                      "cannot create the charts directory: %s", strerror(errno));
        sum.failed = set->n;
        if (summary)
            *summary = sum;
        tifa_chart_set_free(set);
        tifa_buf_free(&dir);
        return TIFA_EIO;
    }

    remove_stale(dir.data, set);
    tifa_status result = TIFA_OK;
    bool gnuplot_missing = false;
    const char *prog = o.gnuplot && *o.gnuplot ? o.gnuplot : "gnuplot";
    for (size_t i = 0; i < set->n; i++) {
        tifa_chart *ch = &set->charts[i];
        /* The data and the script, atomically, before gnuplot runs. */
        tifa_buf_clear(&path);
        tifa_buf_printf(&path, "%s/%s.dat", dir.data, ch->name);
        st = tifa_write_file_atomic(path.data, ch->data.data ? ch->data.data : "",
                                    ch->data.len);
        if (st == TIFA_OK) {
            tifa_buf_clear(&path);
            tifa_buf_printf(&path, "%s/%s.gp", dir.data, ch->name);
            st = tifa_write_file_atomic(path.data, ch->script.data,
                                        ch->script.len);
        }
        if (st != TIFA_OK) {
            tifa_diag_add(diag, TIFA_ERROR, st, path.data, 0, -1,
                          "chart '%s' not rendered: cannot write its files: %s",
                          ch->name, tifa_status_message(st));
            sum.failed++;
            if (result == TIFA_OK || result == TIFA_EGNUPLOT)
                result = st;
            continue;
        }
        if (gnuplot_missing) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EGNUPLOT, path.data, 0, -1,
                          "chart '%s' not rendered: gnuplot is not available "
                          "(its script and data are written)", ch->name);
            sum.failed++;
            if (result == TIFA_OK)
                result = TIFA_EGNUPLOT;
            continue;
        }
        /* The prefix shares the script's first line (a comment), so gnuplot's
         * line numbers match NAME.gp. */
        tifa_buf_clear(&script);
        tifa_buf_puts(&script, "tifa_out = '" TMP_PREFIX "'; ");
        tifa_buf_append(&script, ch->script.data, ch->script.len);
        tifa_buf_clear(&err);
        bool not_found = false;
        st = tifa_gnuplot_run(prog, dir.data, script.data, script.len, &err,
                              &not_found);
        tifa_buf_clear(&msg);
        tidy_message(&err, &msg);
        if (st == TIFA_OK) {
            tifa_buf_clear(&err);
            st = finish_outputs(dir.data, ch->name, o.pdf, true, &err);
            if (st != TIFA_OK) {
                tifa_diag_add(diag, TIFA_ERROR, st, path.data, 0, -1,
                              "chart '%s': %s", ch->name,
                              err.data ? err.data : tifa_status_message(st));
                sum.failed++;
                if (result == TIFA_OK || result == TIFA_EGNUPLOT)
                    result = st;
                continue;
            }
            if (strcmp(msg.data, "(no message)") != 0)
                tifa_diag_add(diag, TIFA_WARNING, TIFA_OK, path.data, 0, -1,
                              "chart '%s': gnuplot said: %s", ch->name, msg.data);
            sum.rendered++;
            continue;
        }
        (void)finish_outputs(dir.data, ch->name, o.pdf, false, &err);
        sum.failed++;
        if (result == TIFA_OK)
            result = TIFA_EGNUPLOT;
        if (not_found) {
            gnuplot_missing = true;
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EGNUPLOT, path.data, 0, -1,
                          "chart '%s' not rendered: %s (install gnuplot, e.g. "
                          "the package gnuplot-nox, or set the gnuplot program "
                          "in the study); the tables and the chart scripts are "
                          "written", ch->name, msg.data);
        } else {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EGNUPLOT, path.data, 0, -1,
                          "chart '%s' failed: gnuplot: %s", ch->name, msg.data);
        }
    }
    if (summary)
        *summary = sum;
    tifa_buf_free(&dir);
    tifa_buf_free(&path);
    tifa_buf_free(&script);
    tifa_buf_free(&err);
    tifa_buf_free(&msg);
    tifa_chart_set_free(set);
    return result;
}
