/*
 * charts.c — turns the tables of a run into chart specifications: for every
 * chart a tab-separated data file and a gnuplot script that reads it with
 * relative paths, so `cd OUTDIR/charts && gnuplot NAME.gp` re-renders one
 * chart alone.  Nothing here runs gnuplot; plots.c does.
 *
 * Chart kinds (SPEC §7, issue 6), file stems in brackets:
 *   top slogans per corpus            [top_slogans-CORPUS]
 *   families across corpora           [families]
 *   families across groups of corpus  [families-CORPUS-groups]
 *   trend per period with CI band     [trend-CORPUS]
 *   keyness, diverging Log Ratio      [keyness-TARGET-vs-REFERENCE-KIND]
 *   rank–frequency, log–log + fit     [zipf-slogans, zipf-UNIT-N]
 *   dispersion barcode                [dispersion-CORPUS]
 *   heat map slogans × groups         [heatmap-CORPUS, heatmap-corpora]
 *
 * Rules every chart follows: corpus text (slogans, features, corpus, group
 * and period names) goes into the data file through tifa_gnuplot_field or
 * into the script through tifa_gnuplot_quote, never anywhere else; a corpus
 * has one colour in every chart (assigned by its rank in the sorted list of
 * all corpus names); bars start at zero; label text is cut to
 * options->label_cols display columns; chart height grows with the number of
 * bars; numbers are written with '.' whatever the C locale says.
 */
#define _POSIX_C_SOURCE 200809L
#include "plots_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Okabe–Ito colours for corpora (yellow last: weak on white). */
static const char *const corpus_palette[] = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7",
    "#E69F00", "#56B4E9", "#000000", "#F0E442"};
/* Paul Tol's muted scheme for families and groups, never used for corpora. */
static const char *const series_palette[] = {
    "#332288", "#CC6677", "#117733", "#DDCC77", "#88CCEE",
    "#882255", "#44AA99", "#999933", "#AA4499", "#6699CC"};
#define N_CORPUS_COLOURS (sizeof corpus_palette / sizeof *corpus_palette)
#define N_SERIES_COLOURS (sizeof series_palette / sizeof *series_palette)

typedef struct ctx {
    const tifa_plot_options *opt;
    tifa_diag *diag;
    const char *outdir;
    tifa_chart_set *set;
    bool zh;
    char **corpora;     /* every corpus name of the run, sorted, owned */
    size_t n_corpora;
    tifa_status st;     /* first hard error (memory) */
    size_t label_lim;   /* label width in display columns (see tifa_charts_build) */
    double font_pt;     /* text size: 10 pt, less on narrow charts */
    double char_cm;     /* about the width of one Latin character */
    tifa_buf ring[8];   /* short labels handed out by short_name(), owned */
    unsigned ring_i;
} ctx;

/* ---------------------------------------------------------------- helpers -- */

static const char *L(const ctx *c, const char *zh, const char *en)
{
    return c->zh ? zh : en;
}

static int cmp_str(const void *a, const void *b)
{
    return tifa_utf8_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds name to a growable list of owned strings unless present. */
static tifa_status list_add(char ***list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], name) == 0)
            return TIFA_OK;
    char **grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return TIFA_ENOMEM;
    *list = grown;
    if (!(grown[*n] = tifa_strdup(name)))
        return TIFA_ENOMEM;
    (*n)++;
    return TIFA_OK;
}

static void list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* The colour of a corpus ("#RRGGBB", static) or NULL when the name is not
 * a corpus of the run. */
static const char *corpus_colour(const ctx *c, const char *corpus)
{
    for (size_t i = 0; i < c->n_corpora; i++)
        if (strcmp(c->corpora[i], corpus) == 0)
            return corpus_palette[i % N_CORPUS_COLOURS];
    return NULL;
}

static unsigned long colour_int(const char *hex)
{
    return strtoul(hex + 1, NULL, 16);
}

/* A number with '.' as decimal sign (the C library may follow a locale). */
static tifa_status put_num(tifa_buf *b, double v, int prec)
{
    if (!isfinite(v))
        return tifa_buf_puts(b, "NaN");
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*f", prec, v);
    for (char *p = tmp; *p; p++)
        if (*p == ',')
            *p = '.';
    return tifa_buf_puts(b, tmp);
}

static tifa_status put_g(tifa_buf *b, double v)
{
    if (!isfinite(v))
        return tifa_buf_puts(b, "NaN");
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.6g", v);
    for (char *p = tmp; *p; p++)
        if (*p == ',')
            *p = '.';
    return tifa_buf_puts(b, tmp);
}

/* A file-name stem from any text: [A-Za-z0-9_] kept, runs of ASCII
 * punctuation become '_' ("govreports/1950s" -> "govreports_1950s"); when
 * non-ASCII text (or nothing) would be lost, the first 8 hex digits of the
 * name's SHA-256 keep names apart.  Remaining clashes get a number from
 * chart_new. */
static void put_slug(tifa_buf *b, const char *name)
{
    size_t start = b->len;
    bool lossy = false, gap = false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_';
        if (ok) {
            if (gap && b->len > start)
                tifa_buf_putc(b, '_');
            gap = false;
            tifa_buf_putc(b, (char)*p);
        } else {
            if (*p >= 0x80 || *p < 0x20)
                lossy = true;
            gap = true;
        }
        if (b->len - start > 40) {
            lossy = true;
            break;
        }
    }
    if (lossy || b->len == start) {
        char hex[65];
        tifa_sha256_buf(name, strlen(name), hex);
        hex[8] = '\0';
        tifa_buf_printf(b, "%s%s", b->len > start ? "_" : "", hex);
    }
}

/* Text for comments and descriptions: no control characters.  Returns a
 * new string (caller frees) or NULL when memory runs out. */
static char *clean_text(const char *s)
{
    char *t = tifa_strdup(s ? s : "");
    for (char *p = t; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    return t;
}

/* Appends a new chart to the set; returns it (owned by the set) or NULL
 * (c->st set). */
static tifa_chart *chart_new(ctx *c, const char *name, const char *what)
{
    tifa_chart_set *s = c->set;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->charts[i].name, name) == 0) {
            /* Two sources gave the same stem: keep both, numbered. */
            tifa_buf alt = {0};
            tifa_buf_printf(&alt, "%s-%zu", name, s->n + 1);
            tifa_chart *ch = alt.data ? chart_new(c, alt.data, what) : NULL;
            tifa_buf_free(&alt);
            return ch;
        }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        tifa_chart *grown = realloc(s->charts, ncap * sizeof *grown);
        if (!grown) {
            c->st = TIFA_ENOMEM;
            return NULL;
        }
        s->charts = grown;
        s->cap = ncap;
    }
    tifa_chart *ch = &s->charts[s->n];
    memset(ch, 0, sizeof *ch);
    ch->name = tifa_strdup(name);
    ch->what = clean_text(what);
    if (!ch->name || !ch->what) {
        free(ch->name);
        free(ch->what);
        c->st = TIFA_ENOMEM;
        return NULL;
    }
    s->n++;
    return ch;
}

/* `set NAME 'text'` with the text quoted. */
static void set_quoted(tifa_buf *b, const char *setting, const char *text,
                       const char *after)
{
    tifa_buf_printf(b, "set %s ", setting);
    tifa_gnuplot_quote(b, text);
    tifa_buf_printf(b, "%s\n", after ? after : "");
}

/* The common head of every script. */
static void script_head(const ctx *c, tifa_chart *ch)
{
    tifa_buf *b = &ch->script;
    tifa_buf_printf(b,
        "# %s.gp — %s\n"
        "# Written by tifa " TIFA_VERSION_STRING " (plots/).  Re-render this chart alone:\n"
        "#   cd to this directory, then: gnuplot %s.gp\n"
        "# Data: %s.dat (tab-separated; text fields have no tabs, newlines or\n"
        "# double quotes).  Corpus text reaches this script only as data or as\n"
        "# single-quoted strings, where gnuplot expands nothing.\n"
        "if (!exists('tifa_out')) tifa_out = ''\n"
        "reset\n"
        "set encoding utf8\n"
        "set datafile separator tab\n"
        "set datafile commentschars '#'\n"
        "set termoption noenhanced\n"
        "set border 3 lw 0.8\n"
        "set tics nomirror out scale 0.6\n"
        "set grid noxtics noytics\n",
        ch->name, ch->what, ch->name, ch->name);
}

/* Writes the terminals, outputs and the plot command (given once, emitted
 * for each format). */
static void script_outputs(const ctx *c, tifa_chart *ch, double height_cm,
                           const char *plot)
{
    tifa_buf *b = &ch->script;
    const tifa_plot_options *o = c->opt;
    double w_cm = o->width_cm > 0 ? o->width_cm : 16;
    int dpi = o->dpi > 0 ? o->dpi : 150;
    long wpx = lround(w_cm / 2.54 * dpi), hpx = lround(height_cm / 2.54 * dpi);
    /* gnuplot's cairo terminals lay out text at 96 px per inch for PNG and
     * the SVG terminal at 72; scale so that 10 pt is 10 pt on paper. */
    double png_scale = dpi / 96.0;
    long wsvg = lround(w_cm / 2.54 * 96), hsvg = lround(height_cm / 2.54 * 96);
    tifa_buf font = {0};
    tifa_buf_printf(&font, "%s,%.0f", c->set->font ? c->set->font : "Sans",
                    c->font_pt);

    tifa_buf_puts(b, "\n# PNG\nset terminal pngcairo size ");
    tifa_buf_printf(b, "%ld,%ld font ", wpx, hpx);
    tifa_gnuplot_quote(b, font.data);
    tifa_buf_puts(b, " fontscale ");
    put_num(b, png_scale, 4);
    tifa_buf_puts(b, " linewidth ");
    put_num(b, png_scale, 4);
    tifa_buf_printf(b, " noenhanced background '#ffffff'\n"
                       "set output tifa_out.'%s.png'\n%s\nunset output\n",
                    ch->name, plot);

    tifa_buf_printf(b, "\n# SVG\nset terminal svg size %ld,%ld fixed font ",
                    wsvg, hsvg);
    tifa_gnuplot_quote(b, font.data);
    tifa_buf_printf(b, " fontscale 1.25 noenhanced background '#ffffff' "
                       "name 'tifa_chart'\n"
                       "set output tifa_out.'%s.svg'\n%s\nunset output\n",
                    ch->name, plot);

    if (o->pdf) {
        tifa_buf_puts(b, "\n# PDF\nset terminal pdfcairo size ");
        put_num(b, w_cm, 2);
        tifa_buf_puts(b, "cm,");
        put_num(b, height_cm, 2);
        tifa_buf_puts(b, "cm font ");
        tifa_gnuplot_quote(b, font.data);
        tifa_buf_printf(b, " noenhanced\nset output tifa_out.'%s.pdf'\n%s\n"
                           "unset output\n", ch->name, plot);
    }
    tifa_buf_free(&font);
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Height for n horizontal bars: about 0.55 cm a bar plus room for titles. */
static double bar_height(const ctx *c, size_t n)
{
    double base = c->opt->height_cm > 0 ? c->opt->height_cm : 10;
    return clampd(2.6 + 0.55 * (double)n, base * 0.6, 60);
}

/* Adds a text field (cut to the label width) then a tab. */
static void put_field(const ctx *c, tifa_buf *b, const char *s)
{
    tifa_gnuplot_field(b, s, c->label_lim);
}

/* A name shortened for a title or legend, as a data field would be (cut to
 * the label width, no control characters).  Borrowed from a ring of eight
 * buffers in c: valid until eight more calls. */
static const char *short_name(ctx *c, const char *s)
{
    tifa_buf *b = &c->ring[c->ring_i++ % 8];
    tifa_buf_clear(b);
    if (tifa_gnuplot_field(b, s, c->label_lim) != TIFA_OK || !b->data)
        return "";
    return b->data;
}

/* The same for a name inside a chart title, where less room is left: at
 * most 16 display columns (titles are centred over the plot and must fit
 * between the tic labels and the right edge). */
static const char *title_name(ctx *c, const char *s)
{
    size_t lim = c->label_lim < 16 ? c->label_lim : 16;
    tifa_buf *b = &c->ring[c->ring_i++ % 8];
    tifa_buf_clear(b);
    if (tifa_gnuplot_field(b, s, lim) != TIFA_OK || !b->data)
        return "";
    return b->data;
}

/* The display width in columns of a label as it will be written. */
static size_t label_cols(const ctx *c, const char *s)
{
    tifa_buf t = {0};
    tifa_gnuplot_field(&t, s, c->label_lim);
    size_t cols = 0;
    for (const unsigned char *p = (const unsigned char *)(t.data ? t.data : "");
         *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue;
        cols += *p >= 0xE0 ? 2 : 1;
    }
    tifa_buf_free(&t);
    return cols;
}

/* Does text fit on one line of the chart, leaving margin_cm free? */
static bool text_fits(const ctx *c, const char *text, double margin_cm)
{
    double w = c->opt->width_cm > 0 ? c->opt->width_cm : 16;
    size_t cols = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80)
            cols += *p >= 0xE0 ? 2 : 1;
    return (double)cols * c->char_cm <= w - margin_cm;
}

/* A left margin wide enough for y tic labels of max_cols display columns
 * (gnuplot's margin unit is about one Latin character; a CJK character,
 * counted as 2 columns, is a little narrower than two). */
/* The factor f such that a value axis of m / f leaves room for text of
 * label_chars characters beyond the longest bar (on one side, or on each
 * side of a diverging chart), given a left margin of lmargin_cols. */
static double label_room(const ctx *c, size_t lmargin_cols, size_t label_chars,
                         int sides)
{
    double w = c->opt->width_cm > 0 ? c->opt->width_cm : 16;
    double plot_w = w - (double)lmargin_cols * c->char_cm - 1.0;
    if (plot_w < 1)
        plot_w = 1;
    double f = 1 - sides * ((double)label_chars + 1.5) * c->char_cm / plot_w;
    return f < 0.35 ? 0.35 : f;
}

static void set_lmargin(tifa_buf *b, size_t max_cols)
{
    tifa_buf_printf(b, "set lmargin %zu\n", max_cols + 3);
}

static bool table_exists(const ctx *c, const char *file, tifa_buf *path)
{
    tifa_buf_clear(path);
    tifa_buf_printf(path, "%s/%s", c->outdir, file);
    struct stat sb;
    return path->data && stat(path->data, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void note_skip(ctx *c, const char *kind, const char *why)
{
    c->set->skipped++;
    tifa_diag_add(c->diag, TIFA_NOTE, TIFA_OK, NULL, 0, -1,
                  "chart '%s' skipped: %s", kind, why);
}

/* ------------------------------------------------------------ top slogans -- */

enum { S_CORPUS, S_GROUP, S_SLOGAN, S_QUOTED, S_RATE, S_LOW, S_HIGH, S_DP,
       S_NCOLS };
static const char *const slogan_cols[] = {
    "corpus", "group", "slogan", "quoted", "per_10k", "ci_low", "ci_high",
    "dp", NULL};
static const char *const slogan_req[] = {"corpus", "group", "slogan",
                                         "quoted", NULL};

typedef struct rowref {
    size_t row;
    double key;
    const char *name;
} rowref;

static int cmp_rowref(const void *a, const void *b)
{
    const rowref *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return tifa_utf8_cmp(x->name, y->name);
}

static void chart_top_slogans(ctx *c, const tifa_ptable *t)
{
    for (size_t ci = 0; ci < c->n_corpora; ci++) {
        const char *corpus = c->corpora[ci];
        rowref *refs = calloc(t->rows ? t->rows : 1, sizeof *refs);
        if (!refs) {
            c->st = TIFA_ENOMEM;
            return;
        }
        size_t n = 0;
        bool have_rate = t->present[S_RATE];
        for (size_t r = 0; r < t->rows; r++) {
            if (strcmp(tifa_ptable_get(t, r, S_CORPUS), corpus) != 0 ||
                tifa_ptable_get(t, r, S_GROUP)[0] != '\0')
                continue;
            double q = tifa_ptable_num(t, r, S_QUOTED);
            if (!(q > 0))
                continue;
            refs[n].row = r;
            refs[n].key = q;
            refs[n].name = tifa_ptable_get(t, r, S_SLOGAN);
            n++;
        }
        if (n == 0) {
            free(refs);
            continue;
        }
        qsort(refs, n, sizeof *refs, cmp_rowref);
        size_t top = c->opt->top_n ? c->opt->top_n : 15;
        if (n > top)
            n = top;
        /* Rates when the table has them for every shown row. */
        for (size_t i = 0; i < n && have_rate; i++)
            if (!isfinite(tifa_ptable_num(t, refs[i].row, S_RATE)))
                have_rate = false;

        tifa_buf name = {0}, title = {0}, plot = {0};
        tifa_buf_puts(&name, "top_slogans-");
        put_slug(&name, corpus);
        tifa_chart *ch = chart_new(c, name.data, "top quoted slogans of one corpus");
        if (!ch) {
            free(refs);
            tifa_buf_free(&name);
            return;
        }
        /* Data: y, label, value, low, high, count text. Rank 1 at the top. */
        tifa_buf *d = &ch->data;
        tifa_buf_puts(d, "# y\tslogan\tvalue\tlow\thigh\tquoted\n");
        double maxv = 0;
        for (size_t i = 0; i < n; i++) {
            size_t r = refs[i].row;
            double v = have_rate ? tifa_ptable_num(t, r, S_RATE)
                                 : tifa_ptable_num(t, r, S_QUOTED);
            double lo = have_rate ? tifa_ptable_num(t, r, S_LOW) : v;
            double hi = have_rate ? tifa_ptable_num(t, r, S_HIGH) : v;
            if (!isfinite(lo)) lo = v;
            if (!isfinite(hi)) hi = v;
            if (hi > maxv) maxv = hi;
            if (v > maxv) maxv = v;
            tifa_buf_printf(d, "%zu\t", n - i);
            put_field(c, d, refs[i].name);
            tifa_buf_putc(d, '\t');
            put_g(d, v);
            tifa_buf_putc(d, '\t');
            put_g(d, lo);
            tifa_buf_putc(d, '\t');
            put_g(d, hi);
            tifa_buf_printf(d, "\t%.0f\n", tifa_ptable_num(t, r, S_QUOTED));
        }
        double h = bar_height(c, n);
        script_head(c, ch);
        tifa_buf *b = &ch->script;
        tifa_buf_printf(&title, c->zh ? "%s：引号内高频口号（前 %zu）"
                                      : "%s: most frequent quoted slogans (top %zu)",
                        title_name(c, corpus), n);
        set_quoted(b, "title", title.data, NULL);
        set_quoted(b, "xlabel",
                   have_rate ? L(c, "每万字出现次数（95% 置信区间；标注为引号内次数）",
                                 "per 10,000 Han characters (95% CI; label: quoted count)")
                             : L(c, "引号内出现次数", "quoted occurrences"),
                   NULL);
        tifa_buf_puts(b, "unset ylabel\n");
        size_t maxc = 0;
        for (size_t i = 0; i < n; i++)
            if (label_cols(c, refs[i].name) > maxc)
                maxc = label_cols(c, refs[i].name);
        set_lmargin(b, maxc);
        char cnt[32];
        snprintf(cnt, sizeof cnt, "%.0f", tifa_ptable_num(t, refs[0].row, S_QUOTED));
        tifa_buf_printf(b, "set yrange [0.4:%zu.6]\n", n);
        tifa_buf_puts(b, "set xrange [0:");
        put_g(b, maxv > 0 ? maxv / label_room(c, maxc + 3, strlen(cnt), 1) : 1);
        tifa_buf_puts(b, "]\nset ytics scale 0\nset xtics\nset key off\n"
                         "set style fill solid 0.85 border -1\n");
        const char *col = corpus_colour(c, corpus);
        tifa_buf_printf(&plot,
            "plot '%s.dat' using (0):1:(0):3:($1-0.36):($1+0.36):ytic(2) "
            "with boxxyerror lc rgb '%s' notitle", ch->name, col);
        if (have_rate)
            tifa_buf_printf(&plot, ", \\\n     '' using 4:1:($5-$4):(0) with vectors "
                                   "heads size screen 0.008,90 fixed lc rgb '#444444' "
                                   "lw 1 notitle");
        tifa_buf_printf(&plot, ", \\\n     '' using %s:1:6 with labels left "
                               "offset char 0.6,0 tc rgb '#333333' notitle",
                        have_rate ? "5" : "3");
        script_outputs(c, ch, h, plot.data);
        tifa_buf_free(&name);
        tifa_buf_free(&title);
        tifa_buf_free(&plot);
        free(refs);
    }
}

/* ------------------------------------------------------- grouped families -- */

enum { F_CORPUS, F_GROUP, F_FAMILY, F_TYPES, F_QUOTED, F_RATE, F_LOW,
       F_HIGH, F_NCOLS };
static const char *const family_cols[] = {
    "corpus", "group", "family", "types", "quoted", "per_10k", "ci_low",
    "ci_high", NULL};
static const char *const family_req[] = {"corpus", "group", "family",
                                         "per_10k", NULL};

/* One grouped-bar chart: families on x, one bar per series.  sel(row) says
 * which series (index) a row belongs to, or -1. */
typedef struct family_series {
    const char *label;
    const char *colour;
} family_series;

static void grouped_families(ctx *c, const tifa_ptable *t, const char *stem,
                             const char *title, const char *corpus_filter,
                             bool by_group, const family_series *series,
                             size_t ns)
{
    /* Families ordered by summed rate, then name. */
    char **fam = NULL;
    size_t nf = 0;
    double *sum = NULL;
    for (size_t r = 0; r < t->rows; r++) {
        const char *corpus = tifa_ptable_get(t, r, F_CORPUS);
        const char *group = tifa_ptable_get(t, r, F_GROUP);
        if (corpus_filter ? strcmp(corpus, corpus_filter) != 0 || !group[0]
                          : group[0] != '\0')
            continue;
        if (list_add(&fam, &nf, tifa_ptable_get(t, r, F_FAMILY)) != TIFA_OK) {
            c->st = TIFA_ENOMEM;
            list_free(fam, nf);
            return;
        }
    }
    if (nf == 0) {
        list_free(fam, nf);
        return;
    }
    /* value[f*ns+s], low, high */
    double *val = calloc(nf * ns * 3, sizeof *val);
    rowref *order = calloc(nf, sizeof *order);
    sum = calloc(nf, sizeof *sum);
    if (!val || !order || !sum) {
        c->st = TIFA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nf * ns * 3; i++)
        val[i] = NAN;
    for (size_t r = 0; r < t->rows; r++) {
        const char *corpus = tifa_ptable_get(t, r, F_CORPUS);
        const char *group = tifa_ptable_get(t, r, F_GROUP);
        if (corpus_filter ? strcmp(corpus, corpus_filter) != 0 || !group[0]
                          : group[0] != '\0')
            continue;
        const char *key = by_group ? group : corpus;
        size_t s = 0;
        while (s < ns && strcmp(series[s].label, key) != 0)
            s++;
        if (s == ns)
            continue;
        const char *family = tifa_ptable_get(t, r, F_FAMILY);
        size_t f = 0;
        while (f < nf && strcmp(fam[f], family) != 0)
            f++;
        double v = tifa_ptable_num(t, r, F_RATE);
        double *cell = val + (f * ns + s) * 3;
        cell[0] = v;
        cell[1] = tifa_ptable_num(t, r, F_LOW);
        cell[2] = tifa_ptable_num(t, r, F_HIGH);
        if (isfinite(v))
            sum[f] += v;
    }
    for (size_t f = 0; f < nf; f++) {
        order[f].row = f;
        order[f].key = sum[f];
        order[f].name = fam[f];
    }
    qsort(order, nf, sizeof *order, cmp_rowref);

    tifa_chart *ch = chart_new(c, stem, by_group
                                            ? "slogan families across the groups of one corpus"
                                            : "slogan families across corpora");
    if (!ch)
        goto out;
    tifa_buf *d = &ch->data;
    double bw = 0.8 / (double)ns, maxv = 0;
    bool rotate = nf > 6;
    for (size_t f = 0; f < nf; f++)
        if (label_cols(c, fam[f]) > 10)
            rotate = true;
    for (size_t s = 0; s < ns; s++) {
        tifa_buf_printf(d, "# series %zu\n# x\tvalue\tlow\thigh\n", s);
        for (size_t k = 0; k < nf; k++) {
            size_t f = order[k].row;
            double *cell = val + (f * ns + s) * 3;
            double v = isfinite(cell[0]) ? cell[0] : 0;
            double lo = isfinite(cell[1]) ? cell[1] : v;
            double hi = isfinite(cell[2]) ? cell[2] : v;
            if (hi > maxv) maxv = hi;
            if (v > maxv) maxv = v;
            put_g(d, (double)(k + 1) + ((double)s - (double)(ns - 1) / 2) * bw);
            tifa_buf_putc(d, '\t');
            put_g(d, v);
            tifa_buf_putc(d, '\t');
            put_g(d, lo);
            tifa_buf_putc(d, '\t');
            put_g(d, hi);
            tifa_buf_putc(d, '\n');
        }
        tifa_buf_puts(d, "\n\n");
    }
    tifa_buf_puts(d, "# tics\n# x\tfamily\n");
    for (size_t k = 0; k < nf; k++) {
        tifa_buf_printf(d, "%zu\t", k + 1);
        put_field(c, d, order[k].name);
        tifa_buf_putc(d, '\n');
    }

    script_head(c, ch);
    tifa_buf *b = &ch->script;
    set_quoted(b, "title", title, NULL);
    set_quoted(b, "ylabel", L(c, "每万字（95% 置信区间）",
                              "per 10,000 Han characters (95% CI)"), NULL);
    set_quoted(b, "xlabel", L(c, "口号类型", "slogan family"), NULL);
    tifa_buf_printf(b, "set xrange [0.4:%zu.6]\nset yrange [0:", nf);
    put_g(b, maxv > 0 ? maxv * 1.12 : 1);
    tifa_buf_printf(b, "]\nset xtics scale 0 %s\nset ytics\n"
                       "set key top right Left reverse samplen 1.5\n"
                       "set style fill solid 0.85 border -1\n",
                    rotate ? "rotate by 30 right" : "");
    tifa_buf plot = {0};
    tifa_buf_puts(&plot, "plot ");
    for (size_t s = 0; s < ns; s++) {
        tifa_buf_printf(&plot, "%s'%s.dat' index %zu using 1:2:(",
                        s ? ", \\\n     " : "", ch->name, s);
        put_g(&plot, bw * 0.92);
        tifa_buf_printf(&plot, ") with boxes lc rgb '%s' title ", series[s].colour);
        tifa_gnuplot_quote(&plot, short_name(c, series[s].label));
        tifa_buf_printf(&plot, ", \\\n     '' index %zu using 1:3:(0):($4-$3) with "
                               "vectors heads size screen 0.008,90 fixed "
                               "lc rgb '#333333' lw 1 notitle", s);
    }
    tifa_buf_printf(&plot, ", \\\n     '' index %zu using 1:(NaN):xtic(2) notitle", ns);
    script_outputs(c, ch, c->opt->height_cm > 0 ? c->opt->height_cm : 10,
                   plot.data);
    tifa_buf_free(&plot);
out:
    free(val);
    free(order);
    free(sum);
    list_free(fam, nf);
}

static void chart_families(ctx *c, const tifa_ptable *t)
{
    /* Across corpora (whole-corpus rows). */
    family_series *series = calloc(c->n_corpora ? c->n_corpora : 1, sizeof *series);
    if (!series) {
        c->st = TIFA_ENOMEM;
        return;
    }
    size_t ns = 0;
    for (size_t i = 0; i < c->n_corpora; i++) {
        bool has = false;
        for (size_t r = 0; r < t->rows && !has; r++)
            has = strcmp(tifa_ptable_get(t, r, F_CORPUS), c->corpora[i]) == 0 &&
                  !tifa_ptable_get(t, r, F_GROUP)[0];
        if (has) {
            series[ns].label = c->corpora[i];
            series[ns].colour = corpus_colour(c, c->corpora[i]);
            ns++;
        }
    }
    if (ns)
        grouped_families(c, t, "families",
                         L(c, "各语料的口号类型（每万字）",
                           "slogan families by corpus (per 10,000 characters)"),
                         NULL, false, series, ns);
    free(series);

    /* Across the groups of each corpus (2..12 groups). */
    for (size_t i = 0; i < c->n_corpora && c->st == TIFA_OK; i++) {
        char **groups = NULL;
        size_t ng = 0;
        for (size_t r = 0; r < t->rows; r++) {
            const char *g = tifa_ptable_get(t, r, F_GROUP);
            if (g[0] && strcmp(tifa_ptable_get(t, r, F_CORPUS), c->corpora[i]) == 0 &&
                list_add(&groups, &ng, g) != TIFA_OK)
                c->st = TIFA_ENOMEM;
        }
        if (ng >= 2 && ng <= 12 && c->st == TIFA_OK) {
            qsort(groups, ng, sizeof *groups, cmp_str);
            family_series *gs = calloc(ng, sizeof *gs);
            if (!gs) {
                c->st = TIFA_ENOMEM;
            } else {
                for (size_t g = 0; g < ng; g++) {
                    gs[g].label = groups[g];
                    gs[g].colour = series_palette[g % N_SERIES_COLOURS];
                }
                tifa_buf stem = {0}, title = {0};
                tifa_buf_puts(&stem, "families-");
                put_slug(&stem, c->corpora[i]);
                tifa_buf_puts(&stem, "-groups");
                tifa_buf_printf(&title, c->zh ? "%s：各组的口号类型（每万字）"
                                              : "%s: slogan families by group",
                                title_name(c, c->corpora[i]));
                grouped_families(c, t, stem.data, title.data, c->corpora[i],
                                 true, gs, ng);
                tifa_buf_free(&stem);
                tifa_buf_free(&title);
                free(gs);
            }
        } else if (ng > 12) {
            tifa_diag_add(c->diag, TIFA_NOTE, TIFA_OK, NULL, 0, -1,
                          "chart 'families by group' of corpus '%s' left out: "
                          "%zu groups are too many for grouped bars (see the "
                          "heat map and trend charts)", c->corpora[i], ng);
        }
        list_free(groups, ng);
    }
}

/* ----------------------------------------------------------------- trend -- */

enum { T_CORPUS, T_FAMILY, T_SLOGAN, T_PERIOD, T_COUNT, T_RATE, T_LOW,
       T_HIGH, T_NCOLS };
static const char *const trend_cols[] = {
    "corpus", "family", "slogan", "period", "count", "per_10k", "ci_low",
    "ci_high", NULL};
static const char *const trend_req[] = {"corpus", "period", "per_10k", NULL};

/* Leading integer of a period ("2014", "2010s", "2014-03" → 2014/2010). */
static bool period_number(const char *p, long *out)
{
    if (!(*p >= '0' && *p <= '9'))
        return false;
    char *end;
    *out = strtol(p, &end, 10);
    return end != p;
}

/* Collects the distinct strings of one column (for rows where keep[r]) into
 * a new strmap (ids in order of first appearance; caller frees with
 * tifa_strmap_free), or NULL with c->st set. */
static tifa_strmap *distinct(ctx *c, const tifa_ptable *t, size_t col,
                             const bool *keep)
{
    tifa_strmap *m = tifa_strmap_new();
    if (!m) {
        c->st = TIFA_ENOMEM;
        return NULL;
    }
    for (size_t r = 0; r < t->rows; r++) {
        if (!keep[r])
            continue;
        const char *v = tifa_ptable_get(t, r, col);
        bool is_new;
        if (tifa_strmap_intern(m, v, strlen(v), &is_new) == UINT32_MAX) {
            c->st = TIFA_ENOMEM;
            break;
        }
    }
    return m;
}

static void chart_trend(ctx *c, const tifa_ptable *t)
{
    size_t key_col = t->present[T_FAMILY] ? T_FAMILY : T_SLOGAN;
    if (!t->present[key_col]) {
        tifa_diag_add(c->diag, TIFA_WARNING, TIFA_EFORMAT, "trend.csv", 1, -1,
                      "table has neither a 'family' nor a 'slogan' column");
        return;
    }
    bool *keep = calloc(t->rows ? t->rows : 1, sizeof *keep);
    if (!keep) {
        c->st = TIFA_ENOMEM;
        return;
    }
    for (size_t ci = 0; ci < c->n_corpora && c->st == TIFA_OK; ci++) {
        const char *corpus = c->corpora[ci];
        size_t nrows = 0;
        for (size_t r = 0; r < t->rows; r++) {
            keep[r] = strcmp(tifa_ptable_get(t, r, T_CORPUS), corpus) == 0 &&
                      tifa_ptable_get(t, r, key_col)[0] != '\0' &&
                      tifa_ptable_get(t, r, T_PERIOD)[0] != '\0';
            nrows += keep[r];
        }
        if (!nrows)
            continue;
        tifa_strmap *km = distinct(c, t, key_col, keep);
        tifa_strmap *pm = distinct(c, t, T_PERIOD, keep);
        size_t nk = km ? tifa_strmap_size(km) : 0;
        size_t np = pm ? tifa_strmap_size(pm) : 0;
        rowref *order = nk ? calloc(nk, sizeof *order) : NULL;
        const char **periods = np ? calloc(np, sizeof *periods) : NULL;
        size_t *series_of = nk ? malloc(nk * sizeof *series_of) : NULL;
        size_t *pos_of = np ? calloc(np, sizeof *pos_of) : NULL;
        double *cell = NULL; /* [s][p][value, low, high, present] */
        tifa_buf stem = {0}, title = {0}, plot = {0};
        if (c->st != TIFA_OK || !order || !periods || !series_of || !pos_of) {
            c->st = TIFA_ENOMEM;
            goto next;
        }
        /* Series ordered by total count (or summed rate), at most 8. */
        for (size_t k = 0; k < nk; k++) {
            order[k].row = k;
            order[k].name = tifa_strmap_key(km, (uint32_t)k, NULL);
            series_of[k] = (size_t)-1;
        }
        for (size_t r = 0; r < t->rows; r++) {
            if (!keep[r])
                continue;
            const char *key = tifa_ptable_get(t, r, key_col);
            double v = tifa_ptable_num(t, r, T_COUNT);
            if (!isfinite(v))
                v = tifa_ptable_num(t, r, T_RATE);
            if (isfinite(v))
                order[tifa_strmap_find(km, key, strlen(key))].key += v;
        }
        qsort(order, nk, sizeof *order, cmp_rowref);
        size_t ns = nk > 8 ? 8 : nk;
        for (size_t s = 0; s < ns; s++)
            series_of[order[s].row] = s;
        /* Periods in code-point order (chronological for ISO-like labels). */
        for (size_t p = 0; p < np; p++)
            periods[p] = tifa_strmap_key(pm, (uint32_t)p, NULL);
        qsort(periods, np, sizeof *periods, cmp_str);
        for (size_t p = 0; p < np; p++)
            pos_of[tifa_strmap_find(pm, periods[p], strlen(periods[p]))] = p;
        cell = calloc(ns * np * 4, sizeof *cell);
        if (!cell) {
            c->st = TIFA_ENOMEM;
            goto next;
        }
        for (size_t r = 0; r < t->rows; r++) {
            if (!keep[r])
                continue;
            const char *key = tifa_ptable_get(t, r, key_col);
            const char *per = tifa_ptable_get(t, r, T_PERIOD);
            size_t s = series_of[tifa_strmap_find(km, key, strlen(key))];
            if (s == (size_t)-1)
                continue;
            size_t p = pos_of[tifa_strmap_find(pm, per, strlen(per))];
            double *v = cell + (s * np + p) * 4;
            v[0] = tifa_ptable_num(t, r, T_RATE);
            v[1] = tifa_ptable_num(t, r, T_LOW);
            v[2] = tifa_ptable_num(t, r, T_HIGH);
            v[3] = 1;
        }
        bool numeric = true;
        long prev = 0;
        for (size_t p = 0; p < np && numeric; p++) {
            long v;
            numeric = period_number(periods[p], &v) && (p == 0 || v > prev);
            prev = v;
        }

        tifa_buf_puts(&stem, "trend-");
        put_slug(&stem, corpus);
        tifa_chart *ch = chart_new(c, stem.data, "rate per period with 95% CI band");
        if (!ch)
            goto next;
        tifa_buf *d = &ch->data;
        double maxv = 0;
        /* With numeric periods, the usual step between periods; a larger
         * gap (years without any document) breaks the lines and bands. */
        long step_x = 0;
        bool plain_years = numeric;
        for (size_t p = 0; numeric && p < np; p++) {
            long x0, x1;
            char *end;
            strtol(periods[p], &end, 10);
            if (*end)
                plain_years = false; /* "2010s": keep the labels */
            if (p + 1 < np && period_number(periods[p], &x0) &&
                period_number(periods[p + 1], &x1) &&
                (step_x == 0 || x1 - x0 < step_x))
                step_x = x1 - x0;
        }
        for (size_t s = 0; s < ns; s++) {
            tifa_buf_printf(d, "# series %zu\n# x\tvalue\tlow\thigh\n", s);
            long last_x = 0;
            bool any = false;
            for (size_t p = 0; p < np; p++) {
                double *cv = cell + (s * np + p) * 4;
                double v = cv[0], lo = cv[1], hi = cv[2];
                if (!cv[3] || !isfinite(v))
                    continue; /* no row: no point (the line joins neighbours) */
                long xp = 0;
                if (numeric && period_number(periods[p], &xp)) {
                    if (any && step_x > 0 && xp - last_x > step_x)
                        tifa_buf_putc(d, '\n'); /* one blank line: a gap */
                    last_x = xp;
                    any = true;
                }
                if (!isfinite(lo)) lo = v;
                if (!isfinite(hi)) hi = v;
                if (hi > maxv) maxv = hi;
                long x = (long)p + 1;
                if (numeric)
                    period_number(periods[p], &x);
                tifa_buf_printf(d, "%ld\t", x);
                put_g(d, v);
                tifa_buf_putc(d, '\t');
                put_g(d, lo);
                tifa_buf_putc(d, '\t');
                put_g(d, hi);
                tifa_buf_putc(d, '\n');
            }
            tifa_buf_puts(d, "\n\n");
        }
        tifa_buf_puts(d, "# tics\n# x\tperiod\n");
        for (size_t p = 0; p < np; p++) {
            long x = (long)p + 1;
            if (numeric)
                period_number(periods[p], &x);
            tifa_buf_printf(d, "%ld\t", x);
            put_field(c, d, periods[p]);
            tifa_buf_putc(d, '\n');
        }

        script_head(c, ch);
        tifa_buf *b = &ch->script;
        tifa_buf_printf(&title, c->zh ? "%s：各时期的%s频率（阴影为 95%% 置信区间）"
                                      : "%s: %s per period (band: 95%% CI)",
                        title_name(c, corpus),
                        key_col == T_FAMILY ? L(c, "口号类型", "slogan families")
                                            : L(c, "口号", "slogans"));
        set_quoted(b, "title", title.data, NULL);
        set_quoted(b, "ylabel", L(c, "每万字", "per 10,000 Han characters"), NULL);
        set_quoted(b, "xlabel", L(c, "时期", "period"), NULL);
        long x0 = 1, x1 = (long)np;
        if (numeric) {
            period_number(periods[0], &x0);
            period_number(periods[np - 1], &x1);
        }
        double pad = x1 > x0 ? (double)(x1 - x0) * 0.04 : 0.5;
        tifa_buf_puts(b, "set xrange [");
        put_g(b, (double)x0 - pad);
        tifa_buf_putc(b, ':');
        put_g(b, (double)x1 + pad);
        tifa_buf_puts(b, "]\nset yrange [0:");
        put_g(b, maxv > 0 ? maxv * 1.1 : 1);
        /* Period labels from the data; thinned when there are many. */
        size_t step = np > 24 ? (np + 11) / 12 : 1;
        if (plain_years)
            tifa_buf_puts(b, "]\nset xtics scale 0.6 format '%.0f'\n");
        else
            tifa_buf_printf(b, "]\nset xtics scale 0.6 %s\n",
                            np > 10 || step > 1 ? "rotate by 45 right" : "");
        tifa_buf_printf(b, "set ytics\n"
                           "set key outside right top Left reverse samplen 2\n"
                           "set style fill transparent solid %s noborder\n",
                        ns > 3 ? "0.10" : "0.18");
        tifa_buf_puts(&plot, "plot ");
        for (size_t s = 0; s < ns; s++)
            tifa_buf_printf(&plot, "%s'%s.dat' index %zu using 1:3:4 with "
                                   "filledcurves lc rgb '%s' notitle",
                            s ? ", \\\n     " : "", ch->name, s,
                            series_palette[s % N_SERIES_COLOURS]);
        for (size_t s = 0; s < ns; s++) {
            tifa_buf_printf(&plot, ", \\\n     '' index %zu using 1:2 with "
                                   "%s lw 2 dt %zu lc rgb '%s' title ",
                            s, np > 15 ? "linespoints pt 7 ps 0.3" : "linespoints pt 7 ps 0.6",
                            s % 4 + 1, series_palette[s % N_SERIES_COLOURS]);
            tifa_gnuplot_quote(&plot, short_name(c, order[s].name));
        }
        if (plain_years)
            ; /* numeric axis, gnuplot's own tics */
        else if (step > 1)
            tifa_buf_printf(&plot, ", \\\n     '' index %zu every %zu using "
                                   "1:(NaN):xtic(2) notitle", ns, step);
        else
            tifa_buf_printf(&plot, ", \\\n     '' index %zu using 1:(NaN):xtic(2) notitle", ns);
        script_outputs(c, ch, c->opt->height_cm > 0 ? c->opt->height_cm : 10,
                       plot.data);
    next:
        tifa_buf_free(&stem);
        tifa_buf_free(&title);
        tifa_buf_free(&plot);
        free(order);
        free(periods);
        free(series_of);
        free(pos_of);
        free(cell);
        tifa_strmap_free(km);
        tifa_strmap_free(pm);
    }
    free(keep);
}

/* --------------------------------------------------------------- keyness -- */

enum { K_TARGET, K_REFERENCE, K_KIND, K_FEATURE, K_A, K_B, K_G2, K_P,
       K_PADJ, K_LR, K_NCOLS };
static const char *const keyness_cols[] = {
    "target", "reference", "kind", "feature", "a", "b", "g2", "p", "p_adj",
    "log_ratio", NULL};
static const char *const keyness_req[] = {"target", "reference", "kind",
                                          "feature", "g2", "log_ratio", NULL};

static int cmp_lr(const void *a, const void *b)
{
    const rowref *x = a, *y = b; /* key = log ratio, ascending */
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return tifa_utf8_cmp(x->name, y->name);
}

/* keyness.csv can hold a row for every n-gram: read it row by row and keep
 * only the top (by g2, then feature) rows of each (target, reference, kind),
 * grouped by comparison in order of first appearance.  Returns a table with
 * the columns of keyness_cols (caller frees) or NULL (diag says why). */
typedef struct kept_row {
    char *cells[K_NCOLS];
    double g2;
} kept_row;

typedef struct kept_combo {
    kept_row *rows;
    size_t n;
} kept_combo;

/* True when row x ranks before row y (g2 descending, then feature). */
static bool kept_before(const kept_row *x, const kept_row *y)
{
    if (x->g2 != y->g2)
        return x->g2 > y->g2;
    return tifa_utf8_cmp(x->cells[K_FEATURE], y->cells[K_FEATURE]) < 0;
}

static void kept_row_free(kept_row *r)
{
    for (size_t k = 0; k < K_NCOLS; k++)
        free(r->cells[k]);
}

static tifa_ptable *keyness_load_top(ctx *c, const char *path, size_t top)
{
    tifa_status st;
    tifa_csv_reader *rd = tifa_csv_reader_open(path, &st);
    if (!rd) {
        tifa_diag_add(c->diag, TIFA_WARNING, st, path, 0, -1,
                      "cannot read table: %s", tifa_status_message(st));
        return NULL;
    }
    tifa_strmap *ids = tifa_strmap_new();
    kept_combo *combos = NULL;
    size_t ncombo = 0;
    tifa_ptable *t = calloc(1, sizeof *t);
    bool *present = calloc(K_NCOLS, sizeof *present);
    long map[K_NCOLS];
    tifa_buf key = {0};
    char **f;
    size_t nf;
    if (!ids || !t || !present) {
        c->st = TIFA_ENOMEM;
        goto fail;
    }
    t->cols = K_NCOLS;
    t->present = present;
    present = NULL;
    for (size_t k = 0; k < K_NCOLS; k++)
        map[k] = -1;
    if (tifa_csv_read_row(rd, &f, &nf) != TIFA_OK)
        goto done; /* empty file: an empty table */
    for (size_t i = 0; i < nf; i++)
        for (size_t k = 0; k < K_NCOLS; k++)
            if (map[k] < 0 && strcmp(f[i], keyness_cols[k]) == 0) {
                map[k] = (long)i;
                t->present[k] = true;
            }
    for (size_t r = 0; keyness_req[r]; r++)
        for (size_t k = 0; k < K_NCOLS; k++)
            if (strcmp(keyness_cols[k], keyness_req[r]) == 0 && map[k] < 0) {
                tifa_diag_add(c->diag, TIFA_WARNING, TIFA_EFORMAT, path, 1, -1,
                              "table has no column '%s'", keyness_req[r]);
                goto fail;
            }
    for (;;) {
        st = tifa_csv_read_row(rd, &f, &nf);
        if (st == TIFA_EEMPTY)
            break;
        if (st != TIFA_OK) {
            tifa_diag_add(c->diag, TIFA_WARNING, TIFA_EFORMAT, path,
                          tifa_csv_reader_line(rd), -1, "malformed CSV row");
            break;
        }
        kept_row row;
        memset(&row, 0, sizeof row);
        const char *v[K_NCOLS];
        for (size_t k = 0; k < K_NCOLS; k++)
            v[k] = map[k] >= 0 && (size_t)map[k] < nf ? f[map[k]] : "";
        char *end;
        row.g2 = strtod(v[K_G2], &end);
        if (end == v[K_G2] || !isfinite(row.g2))
            continue;
        double lr = strtod(v[K_LR], &end);
        if (end == v[K_LR] || !isfinite(lr))
            continue;
        tifa_buf_clear(&key);
        tifa_buf_printf(&key, "%s\x1f%s\x1f%s", v[K_TARGET], v[K_REFERENCE], v[K_KIND]);
        bool is_new;
        uint32_t id = key.data ? tifa_strmap_intern(ids, key.data, key.len, &is_new)
                               : UINT32_MAX;
        if (id == UINT32_MAX) {
            c->st = TIFA_ENOMEM;
            goto fail;
        }
        if (is_new) {
            kept_combo *g = realloc(combos, (ncombo + 1) * sizeof *g);
            if (!g) {
                c->st = TIFA_ENOMEM;
                goto fail;
            }
            combos = g;
            combos[ncombo].rows = calloc(top, sizeof(kept_row));
            combos[ncombo].n = 0;
            ncombo++;
            if (!combos[ncombo - 1].rows) {
                c->st = TIFA_ENOMEM;
                goto fail;
            }
        }
        kept_combo *cb = &combos[id];
        /* Compare with the worst kept row before copying anything. */
        row.cells[K_FEATURE] = (char *)v[K_FEATURE];
        size_t slot = cb->n;
        if (cb->n == top) {
            size_t worst = 0;
            for (size_t i = 1; i < cb->n; i++)
                if (kept_before(&cb->rows[worst], &cb->rows[i]))
                    worst = i;
            if (!kept_before(&row, &cb->rows[worst]))
                continue;
            kept_row_free(&cb->rows[worst]);
            slot = worst;
        } else {
            cb->n++;
        }
        for (size_t k = 0; k < K_NCOLS; k++)
            row.cells[k] = tifa_strdup(v[k]);
        cb->rows[slot] = row;
        for (size_t k = 0; k < K_NCOLS; k++)
            if (!row.cells[k]) {
                c->st = TIFA_ENOMEM;
                goto fail;
            }
    }
done:
    for (size_t i = 0; i < ncombo; i++)
        t->rows += combos[i].n;
    t->cells = calloc(t->rows * K_NCOLS + 1, sizeof *t->cells);
    if (!t->cells) {
        c->st = TIFA_ENOMEM;
        t->rows = 0;
        goto fail;
    }
    size_t r = 0;
    for (size_t i = 0; i < ncombo; i++) {
        for (size_t j = 0; j < combos[i].n; j++, r++)
            for (size_t k = 0; k < K_NCOLS; k++) {
                t->cells[r * K_NCOLS + k] = combos[i].rows[j].cells[k];
                combos[i].rows[j].cells[k] = NULL;
            }
        free(combos[i].rows);
    }
    free(combos);
    tifa_strmap_free(ids);
    tifa_buf_free(&key);
    tifa_csv_reader_close(rd);
    return t;
fail:
    for (size_t i = 0; i < ncombo; i++) {
        for (size_t j = 0; j < combos[i].n; j++)
            kept_row_free(&combos[i].rows[j]);
        free(combos[i].rows);
    }
    free(combos);
    free(present);
    tifa_ptable_free(t);
    tifa_strmap_free(ids);
    tifa_buf_free(&key);
    tifa_csv_reader_close(rd);
    return NULL;
}

static void chart_keyness(ctx *c, const tifa_ptable *t)
{
    /* Comparisons (target, reference, kind) in order of first appearance. */
    char **combos = NULL;
    size_t nc = 0;
    tifa_buf key = {0};
    for (size_t r = 0; r < t->rows && c->st == TIFA_OK; r++) {
        tifa_buf_clear(&key);
        for (int k = K_TARGET; k <= K_KIND; k++) {
            tifa_buf_puts(&key, tifa_ptable_get(t, r, (size_t)k));
            tifa_buf_putc(&key, '\x1f');
        }
        if (key.data && list_add(&combos, &nc, key.data) != TIFA_OK)
            c->st = TIFA_ENOMEM;
    }
    for (size_t i = 0; i < nc && c->st == TIFA_OK; i++) {
        /* Split the combo key back into its parts. */
        char *parts[3];
        char *p = combos[i];
        for (int k = 0; k < 3; k++) {
            parts[k] = p;
            p = strchr(p, '\x1f');
            *p++ = '\0';
        }
        rowref *refs = calloc(t->rows, sizeof *refs);
        if (!refs) {
            c->st = TIFA_ENOMEM;
            break;
        }
        size_t n = 0;
        for (size_t r = 0; r < t->rows; r++) {
            if (strcmp(tifa_ptable_get(t, r, K_TARGET), parts[0]) ||
                strcmp(tifa_ptable_get(t, r, K_REFERENCE), parts[1]) ||
                strcmp(tifa_ptable_get(t, r, K_KIND), parts[2]))
                continue;
            double g2 = tifa_ptable_num(t, r, K_G2);
            double lr = tifa_ptable_num(t, r, K_LR);
            if (!isfinite(g2) || !isfinite(lr))
                continue;
            refs[n].row = r;
            refs[n].key = g2;
            refs[n].name = tifa_ptable_get(t, r, K_FEATURE);
            n++;
        }
        if (n == 0) {
            free(refs);
            continue;
        }
        qsort(refs, n, sizeof *refs, cmp_rowref);
        size_t top = c->opt->top_n ? c->opt->top_n : 15;
        if (n > top)
            n = top;
        for (size_t k = 0; k < n; k++)
            refs[k].key = tifa_ptable_num(t, refs[k].row, K_LR);
        qsort(refs, n, sizeof *refs, cmp_lr);

        tifa_buf stem = {0}, title = {0}, plot = {0}, lab = {0};
        tifa_buf_puts(&stem, "keyness-");
        put_slug(&stem, parts[0]);
        tifa_buf_puts(&stem, "-vs-");
        put_slug(&stem, parts[1][0] ? parts[1] : "rest");
        tifa_buf_putc(&stem, '-');
        put_slug(&stem, parts[2]);
        tifa_chart *ch = chart_new(c, stem.data, "keyness: Log Ratio, G2 marked");
        if (!ch) {
            free(refs);
            tifa_buf_free(&stem);
            break;
        }
        /* "(rest)" / "rest" / "" is everything but the target. */
        if (!corpus_colour(c, parts[1]) &&
            (strcmp(parts[1], "(rest)") == 0 || strcmp(parts[1], "rest") == 0))
            parts[1][0] = '\0';
        const char *ct = corpus_colour(c, parts[0]);
        const char *cr = corpus_colour(c, parts[1]);
        if (!ct) ct = "#0072B2";
        if (!cr || strcmp(cr, ct) == 0) cr = "#999999";
        tifa_buf *d = &ch->data;
        tifa_buf_puts(d, "# y\tfeature\tlog_ratio\trgb\tg2_label\n");
        double m = 0;
        bool any_p = t->present[K_PADJ] || t->present[K_P];
        for (size_t k = 0; k < n; k++) {
            size_t r = refs[k].row;
            double lr = refs[k].key, g2 = tifa_ptable_num(t, r, K_G2);
            double padj = tifa_ptable_num(t, r, t->present[K_PADJ] ? K_PADJ : K_P);
            if (fabs(lr) > m) m = fabs(lr);
            tifa_buf_printf(d, "%zu\t", k + 1);
            put_field(c, d, refs[k].name);
            tifa_buf_putc(d, '\t');
            put_g(d, lr);
            tifa_buf_printf(d, "\t%lu\tG²=", colour_int(lr >= 0 ? ct : cr));
            put_num(d, g2, g2 >= 100 ? 0 : 1);
            tifa_buf_printf(d, "%s\n", any_p && isfinite(padj) && padj < 0.05 ? "*" : "");
        }
        script_head(c, ch);
        tifa_buf *b = &ch->script;
        static const char *const kinds[][3] = {
            {"slogan", "口号", "slogans"},
            {"family", "口号类型", "slogan families"},
            {"char_ngram", "字 n 元组", "character n-grams"},
            {"word_ngram", "词 n 元组", "word n-grams"},
        };
        const char *kind = parts[2];
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
            if (strcmp(kind, kinds[k][0]) == 0)
                kind = kinds[k][c->zh ? 1 : 2];
        const char *tn = title_name(c, parts[0]);
        const char *rn = parts[1][0] ? title_name(c, parts[1]) : L(c, "其余", "the rest");
        const char *kn = title_name(c, kind);
        tifa_buf_printf(&title, c->zh ? "%s 对 %s：%s关键性（按 G² 前 %zu）"
                                      : "%s vs %s: keyness of %s (top %zu by G²)",
                        tn, rn, kn, n);
        if (!text_fits(c, title.data, 1.5)) {
            tifa_buf_clear(&title);
            tifa_buf_printf(&title, c->zh ? "%s 对 %s：%s关键性" : "%s vs %s: %s",
                            tn, rn, kn);
        }
        set_quoted(b, "title", title.data, NULL);
        const char *xl = any_p ? L(c, "Log Ratio（log₂ 相对频率之比；* 为 BH 校正 p < 0.05）",
                                   "Log Ratio (log2 of relative frequencies; * BH-adjusted p < 0.05)")
                               : L(c, "Log Ratio（log₂ 相对频率之比）",
                                   "Log Ratio (log2 of relative frequencies)");
        if (!text_fits(c, xl, 1.5))
            xl = any_p ? L(c, "Log Ratio（* BH 校正 p < 0.05）", "Log Ratio (* BH p < 0.05)")
                       : "Log Ratio";
        set_quoted(b, "xlabel", xl, NULL);
        if (m <= 0) m = 1;
        size_t maxc = 0;
        for (size_t k = 0; k < n; k++)
            if (label_cols(c, refs[k].name) > maxc)
                maxc = label_cols(c, refs[k].name);
        set_lmargin(b, maxc);
        double r = m / label_room(c, maxc + 3, 9, 2); /* "G²=1451*" */
        double w_chars = (c->opt->width_cm > 0 ? c->opt->width_cm : 16) / c->char_cm;
        tifa_buf_puts(b, "set xrange [");
        put_g(b, -r);
        tifa_buf_putc(b, ':');
        put_g(b, r);
        tifa_buf_printf(b, "]\nset yrange [0.4:%zu.6]\nset ytics scale 0\n"
                           "set xtics\nset xzeroaxis lt -1 lw 1\n"
                           "set key outside bottom center %s samplen 1.5\n"
                           "set style fill solid 0.85 border -1\n", n,
                        (double)(label_cols(c, parts[0]) + label_cols(c, parts[1]) + 20) >
                                0.8 * w_chars
                            ? "vertical maxrows 2" : "horizontal");
        tifa_buf_printf(&plot, "plot '%s.dat' using (0):1:(0):3:($1-0.36):($1+0.36):4:ytic(2) "
                               "with boxxyerror lc rgb variable notitle, \\\n"
                               "     '' using ($3 >= 0 ? $3 : NaN):1:5 with labels left "
                               "offset char 0.5,0 tc rgb '#333333' notitle, \\\n"
                               "     '' using ($3 < 0 ? $3 : NaN):1:5 with labels right "
                               "offset char -0.5,0 tc rgb '#333333' notitle, \\\n"
                               "     keyentry with boxes lc rgb '%s' title ",
                        ch->name, ct);
        tifa_buf_printf(&lab, c->zh ? "%s 多用" : "more in %s", short_name(c, parts[0]));
        tifa_gnuplot_quote(&plot, lab.data);
        tifa_buf_clear(&lab);
        tifa_buf_printf(&lab, c->zh ? "%s 多用" : "more in %s",
                        parts[1][0] ? short_name(c, parts[1]) : L(c, "其余", "the rest"));
        tifa_buf_printf(&plot, ", \\\n     keyentry with boxes lc rgb '%s' title ", cr);
        tifa_gnuplot_quote(&plot, lab.data);
        script_outputs(c, ch, bar_height(c, n) + 0.8, plot.data);
        tifa_buf_free(&stem);
        tifa_buf_free(&title);
        tifa_buf_free(&plot);
        tifa_buf_free(&lab);
        free(refs);
    }
    tifa_buf_free(&key);
    list_free(combos, nc);
}

/* ------------------------------------------------------------------ zipf -- */

/* Counts of one series (a corpus), any order; sorted inside. */
typedef struct zseries {
    char *corpus;
    double *v;
    size_t n, cap;
} zseries;

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y ? 1 : 0;
}

static tifa_status zs_push(zseries *z, double v)
{
    if (z->n == z->cap) {
        size_t ncap = z->cap ? z->cap * 2 : 256;
        double *g = realloc(z->v, ncap * sizeof *g);
        if (!g)
            return TIFA_ENOMEM;
        z->v = g;
        z->cap = ncap;
    }
    z->v[z->n++] = v;
    return TIFA_OK;
}

/* Least squares of log10(count) on log10(rank), ranks 1..min(n,1000). */
static bool zipf_fit(const double *v, size_t n, double *slope, double *icept)
{
    size_t m = n < 1000 ? n : 1000;
    if (m < 3)
        return false;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < m; i++) {
        double x = log10((double)(i + 1)), y = log10(v[i]);
        sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    double den = (double)m * sxx - sx * sx;
    if (den == 0)
        return false;
    *slope = ((double)m * sxy - sx * sy) / den;
    *icept = (sy - *slope * sx) / (double)m;
    return true;
}

static void zipf_chart(ctx *c, const char *stem, const char *title,
                       zseries *zs, size_t nz)
{
    size_t used = 0;
    for (size_t i = 0; i < nz; i++) {
        if (zs[i].n)
            qsort(zs[i].v, zs[i].n, sizeof *zs[i].v, cmp_desc);
        while (zs[i].n && !(zs[i].v[zs[i].n - 1] > 0))
            zs[i].n--;
        if (zs[i].n >= 2)
            used++;
    }
    if (!used)
        return;
    tifa_chart *ch = chart_new(c, stem, "rank-frequency on log-log axes with least-squares fit");
    if (!ch)
        return;
    tifa_buf *d = &ch->data, plot = {0};
    tifa_buf_puts(&plot, "plot ");
    size_t block = 0;
    bool first = true;
    for (size_t i = 0; i < nz; i++) {
        if (zs[i].n < 2)
            continue;
        const char *col = corpus_colour(c, zs[i].corpus);
        if (!col) col = "#0072B2";
        tifa_buf_printf(d, "# corpus %zu: rank\tcount\n", i);
        int last_bin = -1;
        for (size_t r = 0; r < zs[i].n; r++) {
            /* All ranks up to 1000, then about 200 points a decade. */
            int bin = (int)floor(200 * log10((double)(r + 1)));
            if (r >= 1000 && bin == last_bin && r + 1 != zs[i].n)
                continue;
            last_bin = bin;
            tifa_buf_printf(d, "%zu\t", r + 1);
            put_g(d, zs[i].v[r]);
            tifa_buf_putc(d, '\n');
        }
        tifa_buf_puts(d, "\n\n");
        tifa_buf_printf(&plot, "%s'%s.dat' index %zu using 1:2 with points pt 7 "
                               "ps 0.6 lc rgb '%s' title ",
                        first ? "" : ", \\\n     ", ch->name, block++, col);
        tifa_gnuplot_quote(&plot, short_name(c, zs[i].corpus));
        first = false;
        double slope, icept;
        if (zipf_fit(zs[i].v, zs[i].n, &slope, &icept)) {
            size_t m = zs[i].n < 1000 ? zs[i].n : 1000;
            tifa_buf_printf(d, "# fit %zu: rank\tcount (log10 c = a + b log10 r, "
                               "b = ", i);
            put_num(d, slope, 4);
            tifa_buf_puts(d, ")\n1\t");
            put_g(d, pow(10, icept));
            tifa_buf_printf(d, "\n%zu\t", m);
            put_g(d, pow(10, icept + slope * log10((double)m)));
            tifa_buf_puts(d, "\n\n\n");
            tifa_buf lab = {0};
            char num[32];
            snprintf(num, sizeof num, "%.2f", slope);
            for (char *p = num; *p; p++)
                if (*p == ',') *p = '.';
            tifa_buf_printf(&lab, c->zh ? "拟合斜率 %s（%s）" : "fit slope %s (%s)",
                            num, short_name(c, zs[i].corpus));
            tifa_buf_printf(&plot, ", \\\n     '' index %zu using 1:2 with lines "
                                   "dt 2 lw 1.5 lc rgb '%s' title ",
                            block++, col);
            tifa_gnuplot_quote(&plot, lab.data);
            tifa_buf_free(&lab);
        }
    }
    script_head(c, ch);
    tifa_buf *b = &ch->script;
    set_quoted(b, "title", title, NULL);
    set_quoted(b, "xlabel", L(c, "位次（对数）", "rank (log scale)"), NULL);
    set_quoted(b, "ylabel", L(c, "频次（对数）", "frequency (log scale)"), NULL);
    tifa_buf_puts(b, "set logscale xy 10\nset format x '%g'\nset format y '%g'\n"
                     "set xrange [0.8:*]\nset yrange [*:*]\n"
                     "set key top right Left reverse samplen 2\n");
    script_outputs(c, ch, c->opt->height_cm > 0 ? c->opt->height_cm : 10, plot.data);
    tifa_buf_free(&plot);
}

static void zs_free(zseries *zs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(zs[i].corpus);
        free(zs[i].v);
    }
    free(zs);
}

static void chart_zipf_slogans(ctx *c, const tifa_ptable *t)
{
    zseries *zs = calloc(c->n_corpora ? c->n_corpora : 1, sizeof *zs);
    if (!zs) {
        c->st = TIFA_ENOMEM;
        return;
    }
    for (size_t i = 0; i < c->n_corpora; i++)
        zs[i].corpus = tifa_strdup(c->corpora[i]);
    for (size_t r = 0; r < t->rows && c->st == TIFA_OK; r++) {
        if (tifa_ptable_get(t, r, S_GROUP)[0])
            continue;
        double q = tifa_ptable_num(t, r, S_QUOTED);
        if (!(q > 0))
            continue;
        const char *corpus = tifa_ptable_get(t, r, S_CORPUS);
        for (size_t i = 0; i < c->n_corpora; i++)
            if (strcmp(zs[i].corpus, corpus) == 0 && zs_push(&zs[i], q) != TIFA_OK)
                c->st = TIFA_ENOMEM;
    }
    if (c->st == TIFA_OK)
        zipf_chart(c, "zipf-slogans",
                   L(c, "口号的位次–频次分布（双对数）",
                     "rank–frequency of quoted slogans (log–log)"),
                   zs, c->n_corpora);
    zs_free(zs, c->n_corpora);
}

/* ngrams.csv can be large: read it row by row, keeping only the counts of
 * each (unit, n, corpus). */
static void chart_zipf_ngrams(ctx *c, const char *path)
{
    tifa_status st;
    tifa_csv_reader *rd = tifa_csv_reader_open(path, &st);
    if (!rd) {
        tifa_diag_add(c->diag, TIFA_WARNING, st, path, 0, -1,
                      "cannot read table: %s", tifa_status_message(st));
        return;
    }
    char **f;
    size_t nf;
    long col[4] = {-1, -1, -1, -1}; /* corpus, unit, n, count */
    static const char *const names[] = {"corpus", "unit", "n", "count"};
    tifa_strmap *keys = tifa_strmap_new();
    zseries *zs = NULL;
    size_t nz = 0;
    if (!keys) {
        c->st = TIFA_ENOMEM;
        tifa_csv_reader_close(rd);
        return;
    }
    if (tifa_csv_read_row(rd, &f, &nf) == TIFA_OK) {
        for (size_t i = 0; i < nf; i++)
            for (int k = 0; k < 4; k++)
                if (strcmp(f[i], names[k]) == 0)
                    col[k] = (long)i;
    }
    if (col[0] < 0 || col[1] < 0 || col[2] < 0 || col[3] < 0) {
        tifa_diag_add(c->diag, TIFA_WARNING, TIFA_EFORMAT, path, 1, -1,
                      "table lacks one of the columns corpus, unit, n, count");
        goto out;
    }
    tifa_buf key = {0};
    for (;;) {
        st = tifa_csv_read_row(rd, &f, &nf);
        if (st == TIFA_EEMPTY)
            break;
        if (st != TIFA_OK) {
            tifa_diag_add(c->diag, TIFA_WARNING, TIFA_EFORMAT, path,
                          tifa_csv_reader_line(rd), -1, "malformed CSV row");
            break;
        }
        long maxc = col[0];
        for (int k = 1; k < 4; k++)
            if (col[k] > maxc) maxc = col[k];
        if ((size_t)maxc >= nf)
            continue;
        tifa_buf_clear(&key);
        tifa_buf_printf(&key, "%s\x1f%s\x1f%s", f[col[1]], f[col[2]], f[col[0]]);
        bool is_new;
        uint32_t id = tifa_strmap_intern(keys, key.data, key.len, &is_new);
        if (id == UINT32_MAX) {
            c->st = TIFA_ENOMEM;
            break;
        }
        if (is_new) {
            zseries *g = realloc(zs, (nz + 1) * sizeof *g);
            if (!g) {
                c->st = TIFA_ENOMEM;
                break;
            }
            zs = g;
            memset(&zs[nz], 0, sizeof zs[nz]);
            zs[nz].corpus = tifa_strdup(f[col[0]]);
            nz++;
        }
        char *end;
        double v = strtod(f[col[3]], &end);
        if (end != f[col[3]] && v > 0 && zs_push(&zs[id], v) != TIFA_OK) {
            c->st = TIFA_ENOMEM;
            break;
        }
    }
    tifa_buf_free(&key);
    /* One chart per (unit, n): gather the corpora of each, in corpus order. */
    char **un = NULL;
    size_t nun = 0;
    for (size_t i = 0; i < nz && c->st == TIFA_OK; i++) {
        const char *k = tifa_strmap_key(keys, (uint32_t)i, NULL);
        const char *sep = strchr(strchr(k, '\x1f') + 1, '\x1f');
        char *prefix = tifa_strndup(k, (size_t)(sep - k));
        if (!prefix || list_add(&un, &nun, prefix) != TIFA_OK)
            c->st = TIFA_ENOMEM;
        free(prefix);
    }
    if (nun)
        qsort(un, nun, sizeof *un, cmp_str);
    for (size_t u = 0; u < nun && c->st == TIFA_OK; u++) {
        zseries *sel = calloc(c->n_corpora ? c->n_corpora : 1, sizeof *sel);
        if (!sel) {
            c->st = TIFA_ENOMEM;
            break;
        }
        size_t ns = 0;
        for (size_t ci = 0; ci < c->n_corpora; ci++)
            for (size_t i = 0; i < nz; i++) {
                const char *k = tifa_strmap_key(keys, (uint32_t)i, NULL);
                size_t lp = strlen(un[u]);
                if (strncmp(k, un[u], lp) == 0 && k[lp] == '\x1f' &&
                    strcmp(k + lp + 1, c->corpora[ci]) == 0)
                    sel[ns++] = zs[i]; /* borrowed: not freed via sel */
            }
        char *unit = tifa_strdup(un[u]);
        char *n = unit ? strchr(unit, '\x1f') : NULL;
        if (n) {
            *n++ = '\0';
            tifa_buf stem = {0}, title = {0};
            tifa_buf_puts(&stem, "zipf-");
            put_slug(&stem, unit);
            tifa_buf_putc(&stem, '-');
            put_slug(&stem, n);
            bool is_char = strcmp(unit, "char") == 0;
            tifa_buf_printf(&title, c->zh ? "%s %s 元组的位次–频次分布（双对数）"
                                          : "rank–frequency of %s %s-grams (log–log)",
                            c->zh ? (is_char ? "字" : strcmp(unit, "word") == 0 ? "词" : unit)
                                  : title_name(c, unit), title_name(c, n));
            zipf_chart(c, stem.data, title.data, sel, ns);
            tifa_buf_free(&stem);
            tifa_buf_free(&title);
        }
        free(unit);
        free(sel);
    }
    list_free(un, nun);
out:
    zs_free(zs, nz);
    tifa_strmap_free(keys);
    tifa_csv_reader_close(rd);
}

/* ------------------------------------------------------------ dispersion -- */

enum { D_DOC, D_CORPUS, D_DUP, D_NCOLS };
static const char *const doc_cols[] = {"doc_id", "corpus", "duplicate_of", NULL};
static const char *const doc_req[] = {"doc_id", "corpus", NULL};
enum { B_DOC, B_CORPUS, B_SLOGAN, B_COUNT, B_QUOTED, B_TOTAL, B_NCOLS };
static const char *const bydoc_cols[] = {"doc_id", "corpus", "slogan", "count",
                                         "quoted", "total", NULL};
static const char *const bydoc_req[] = {"doc_id", "slogan", NULL};

/* Candidate names of the per-document slogan table. */
static const char *const bydoc_files[] = {
    "slogans_by_doc.csv", "slogan_docs.csv", "doc_slogans.csv", NULL};

static void chart_dispersion(ctx *c, const tifa_ptable *docs,
                             const tifa_ptable *bd, const tifa_ptable *slogans)
{
    size_t cnt_col = bd->present[B_COUNT] ? B_COUNT
                   : bd->present[B_QUOTED] ? B_QUOTED
                   : bd->present[B_TOTAL] ? B_TOTAL : (size_t)-1;
    tifa_strmap *pos = tifa_strmap_new(); /* doc_id -> index into docs rows */
    if (!pos) {
        c->st = TIFA_ENOMEM;
        return;
    }
    for (size_t r = 0; r < docs->rows; r++) {
        const char *id = tifa_ptable_get(docs, r, D_DOC);
        bool is_new;
        if (tifa_strmap_intern(pos, id, strlen(id), &is_new) == UINT32_MAX)
            c->st = TIFA_ENOMEM;
    }
    for (size_t ci = 0; ci < c->n_corpora && c->st == TIFA_OK; ci++) {
        const char *corpus = c->corpora[ci];
        /* Position of each counted document of this corpus (1-based). */
        size_t nd = tifa_strmap_size(pos);
        size_t *docpos = calloc(nd ? nd : 1, sizeof *docpos);
        if (!docpos) {
            c->st = TIFA_ENOMEM;
            break;
        }
        size_t ndocs = 0;
        for (size_t r = 0; r < docs->rows; r++) {
            const char *id = tifa_ptable_get(docs, r, D_DOC);
            if (strcmp(tifa_ptable_get(docs, r, D_CORPUS), corpus) != 0 ||
                tifa_ptable_get(docs, r, D_DUP)[0])
                continue;
            uint32_t k = tifa_strmap_find(pos, id, strlen(id));
            if (k != UINT32_MAX && !docpos[k])
                docpos[k] = ++ndocs;
        }
        if (ndocs == 0) {
            free(docpos);
            continue;
        }
        /* Slogans of the corpus ranked by documents. */
        tifa_strmap *sm = tifa_strmap_new();
        size_t nsl = 0;
        double *ndoc = NULL;
        rowref *order = NULL;
        if (!sm)
            c->st = TIFA_ENOMEM;
        for (size_t r = 0; r < bd->rows && c->st == TIFA_OK; r++) {
            const char *id = tifa_ptable_get(bd, r, B_DOC);
            uint32_t k = tifa_strmap_find(pos, id, strlen(id));
            if (k == UINT32_MAX || !docpos[k])
                continue;
            if (cnt_col != (size_t)-1 && !(tifa_ptable_num(bd, r, cnt_col) > 0))
                continue;
            const char *s = tifa_ptable_get(bd, r, B_SLOGAN);
            bool is_new;
            uint32_t sid = tifa_strmap_intern(sm, s, strlen(s), &is_new);
            if (sid == UINT32_MAX) {
                c->st = TIFA_ENOMEM;
                break;
            }
            if (is_new) {
                double *g = realloc(ndoc, (nsl + 1) * sizeof *g);
                if (!g) {
                    c->st = TIFA_ENOMEM;
                    break;
                }
                ndoc = g;
                ndoc[nsl++] = 0;
            }
            ndoc[sid] += 1;
        }
        if (nsl && c->st == TIFA_OK && !(order = calloc(nsl, sizeof *order)))
            c->st = TIFA_ENOMEM;
        if (nsl == 0 || c->st != TIFA_OK) {
            free(docpos);
            free(ndoc);
            free(order);
            tifa_strmap_free(sm);
            continue;
        }
        for (size_t i = 0; i < nsl; i++) {
            order[i].row = i;
            order[i].key = ndoc[i];
            order[i].name = tifa_strmap_key(sm, (uint32_t)i, NULL);
        }
        qsort(order, nsl, sizeof *order, cmp_rowref);
        size_t ns = nsl > 10 ? 10 : nsl;

        tifa_buf stem = {0}, title = {0}, plot = {0};
        tifa_buf_puts(&stem, "dispersion-");
        put_slug(&stem, corpus);
        tifa_chart *ch = chart_new(c, stem.data, "dispersion barcode of slogans across documents");
        if (ch) {
            tifa_buf *d = &ch->data;
            tifa_buf_puts(d, "# ticks: document position\trow\n");
            for (size_t s = 0; s < ns; s++) {
                double y = (double)(ns - s);
                for (size_t r = 0; r < bd->rows; r++) {
                    if (strcmp(tifa_ptable_get(bd, r, B_SLOGAN), order[s].name))
                        continue;
                    const char *id = tifa_ptable_get(bd, r, B_DOC);
                    uint32_t k = tifa_strmap_find(pos, id, strlen(id));
                    if (k == UINT32_MAX || !docpos[k])
                        continue;
                    if (cnt_col != (size_t)-1 && !(tifa_ptable_num(bd, r, cnt_col) > 0))
                        continue;
                    tifa_buf_printf(d, "%zu\t", docpos[k]);
                    put_g(d, y);
                    tifa_buf_putc(d, '\n');
                }
            }
            tifa_buf_puts(d, "\n\n# rows\n# y\tlabel\n");
            for (size_t s = 0; s < ns; s++) {
                tifa_buf_printf(d, "%zu\t", ns - s);
                put_field(c, d, order[s].name);
                /* DP from slogans.csv, when known. */
                double dp = NAN;
                for (size_t r = 0; slogans && r < slogans->rows; r++)
                    if (!tifa_ptable_get(slogans, r, S_GROUP)[0] &&
                        strcmp(tifa_ptable_get(slogans, r, S_CORPUS), corpus) == 0 &&
                        strcmp(tifa_ptable_get(slogans, r, S_SLOGAN), order[s].name) == 0) {
                        dp = tifa_ptable_num(slogans, r, S_DP);
                        break;
                    }
                if (isfinite(dp)) {
                    tifa_buf_puts(d, "  DP=");
                    put_num(d, dp, 2);
                }
                tifa_buf_putc(d, '\n');
            }
            script_head(c, ch);
            tifa_buf *b = &ch->script;
            tifa_buf_printf(&title, c->zh ? "%s：口号在各文档中的分布（%zu 篇文档）"
                                          : "%s: where slogans occur (%zu documents)",
                            title_name(c, corpus), ndocs);
            set_quoted(b, "title", title.data, NULL);
            set_quoted(b, "xlabel", L(c, "文档（按 documents.csv 顺序）",
                                      "document (in documents.csv order)"), NULL);
            tifa_buf_printf(b, "set xrange [0.5:%zu.5]\nset yrange [0.4:%zu.6]\n"
                               "set ytics scale 0\nset xtics\nset key off\n",
                            ndocs, ns);
            size_t maxc = 0;
            for (size_t k = 0; k < ns; k++)
                if (label_cols(c, order[k].name) > maxc)
                    maxc = label_cols(c, order[k].name);
            set_lmargin(b, maxc + (slogans ? 9 : 0));
            double tick = ndocs > 400 ? 0.6 : ndocs > 100 ? 1 : 2;
            tifa_buf_printf(&plot, "plot '%s.dat' index 0 using 1:($2-0.36):(0):(0.72) "
                                   "with vectors nohead lw ",
                            ch->name);
            put_g(&plot, tick);
            tifa_buf_printf(&plot, " lc rgb '%s' notitle, \\\n"
                                   "     '' index 1 using (NaN):1:ytic(2) notitle",
                            corpus_colour(c, corpus));
            script_outputs(c, ch, bar_height(c, ns), plot.data);
        }
        tifa_buf_free(&stem);
        tifa_buf_free(&title);
        tifa_buf_free(&plot);
        free(order);
        free(docpos);
        free(ndoc);
        tifa_strmap_free(sm);
    }
    tifa_strmap_free(pos);
}

/* --------------------------------------------------------------- heatmap -- */

/* A heat map of top slogans (rows) × columns (groups of one corpus, or the
 * corpora themselves when corpus_filter is NULL). */
static void heatmap(ctx *c, const tifa_ptable *t, const char *stem,
                    const char *title, const char *corpus_filter,
                    char **cols, size_t ncols)
{
    tifa_strmap *sm = tifa_strmap_new(); /* slogan -> id */
    size_t nsl = 0;
    double *tot = NULL;
    size_t *rank_of = NULL;
    rowref *order = NULL;
    double *cell = NULL;
    if (!sm) {
        c->st = TIFA_ENOMEM;
        return;
    }
    for (size_t r = 0; r < t->rows && c->st == TIFA_OK; r++) {
        const char *corpus = tifa_ptable_get(t, r, S_CORPUS);
        const char *group = tifa_ptable_get(t, r, S_GROUP);
        if (corpus_filter ? strcmp(corpus, corpus_filter) || !group[0] : group[0] != '\0')
            continue;
        double q = tifa_ptable_num(t, r, S_QUOTED);
        if (!(q > 0))
            continue;
        const char *s = tifa_ptable_get(t, r, S_SLOGAN);
        bool is_new;
        uint32_t id = tifa_strmap_intern(sm, s, strlen(s), &is_new);
        if (id == UINT32_MAX) {
            c->st = TIFA_ENOMEM;
            break;
        }
        if (is_new) {
            double *g = realloc(tot, (nsl + 1) * sizeof *g);
            if (!g) {
                c->st = TIFA_ENOMEM;
                break;
            }
            tot = g;
            tot[nsl++] = 0;
        }
        tot[id] += q;
    }
    if (nsl == 0 || c->st != TIFA_OK)
        goto out;
    order = calloc(nsl, sizeof *order);
    rank_of = malloc(nsl * sizeof *rank_of);
    if (!order || !rank_of) {
        c->st = TIFA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nsl; i++) {
        order[i].row = i;
        order[i].key = tot[i];
        order[i].name = tifa_strmap_key(sm, (uint32_t)i, NULL);
        rank_of[i] = (size_t)-1;
    }
    qsort(order, nsl, sizeof *order, cmp_rowref);
    size_t ns = c->opt->top_n ? c->opt->top_n : 15;
    if (ns > nsl)
        ns = nsl;
    for (size_t i = 0; i < ns; i++)
        rank_of[order[i].row] = i;
    cell = calloc(ns * ncols, sizeof *cell);
    if (!cell) {
        c->st = TIFA_ENOMEM;
        goto out;
    }
    bool rate = t->present[S_RATE];
    double maxv = 0;
    for (size_t r = 0; r < t->rows; r++) {
        const char *corpus = tifa_ptable_get(t, r, S_CORPUS);
        const char *group = tifa_ptable_get(t, r, S_GROUP);
        if (corpus_filter ? strcmp(corpus, corpus_filter) || !group[0] : group[0] != '\0')
            continue;
        const char *colname = corpus_filter ? group : corpus;
        const char *s = tifa_ptable_get(t, r, S_SLOGAN);
        uint32_t id = tifa_strmap_find(sm, s, strlen(s));
        if (id == UINT32_MAX || rank_of[id] == (size_t)-1)
            continue;
        size_t i = rank_of[id];
        for (size_t k = 0; k < ncols; k++)
            if (strcmp(cols[k], colname) == 0) {
                double v = tifa_ptable_num(t, r, rate ? S_RATE : S_QUOTED);
                cell[i * ncols + k] = isfinite(v) ? v : 0;
                if (cell[i * ncols + k] > maxv)
                    maxv = cell[i * ncols + k];
            }
    }
    tifa_chart *ch = chart_new(c, stem, "heat map of top slogans by group");
    if (!ch)
        goto out;
    tifa_buf *d = &ch->data;
    tifa_buf_puts(d, "# x\ty\tvalue\tlabel\ttext_rgb\tcolumn\tslogan\n");
    bool rotate = ncols > 6;
    for (size_t k = 0; k < ncols; k++)
        if (label_cols(c, cols[k]) > 8)
            rotate = true;
    for (size_t i = 0; i < ns; i++)
        for (size_t k = 0; k < ncols; k++) {
            double v = cell[i * ncols + k];
            tifa_buf_printf(d, "%zu\t%zu\t", k + 1, ns - i);
            put_g(d, v);
            tifa_buf_putc(d, '\t');
            if (v > 0)
                put_num(d, v, rate ? (v >= 100 ? 0 : 1) : 0);
            else
                tifa_buf_putc(d, '-');
            tifa_buf_printf(d, "\t%lu\t", v > maxv * 0.55 ? 0xFFFFFFUL : 0x222222UL);
            put_field(c, d, cols[k]);
            tifa_buf_putc(d, '\t');
            put_field(c, d, order[i].name);
            tifa_buf_putc(d, '\n');
        }
    script_head(c, ch);
    tifa_buf *b = &ch->script;
    /* The unit goes into the title: a colour-bar label would need room
     * that narrow charts do not have. */
    tifa_buf full = {0};
    tifa_buf_printf(&full, "%s%s", title,
                    rate ? L(c, "（每万字）", " (per 10,000 characters)")
                         : L(c, "（引号内次数）", " (quoted count)"));
    set_quoted(b, "title", full.data, NULL);
    tifa_buf_free(&full);
    tifa_buf_printf(b, "set xrange [0.5:%zu.5]\nset yrange [0.5:%zu.5]\n"
                       "set cbrange [0:", ncols, ns);
    put_g(b, maxv > 0 ? maxv : 1);
    tifa_buf_printf(b, "]\nset palette defined (0 '#F7FBFF', 0.5 '#6BAED6', 1 '#08306B')\n"
                       "set xtics scale 0 %s\nset ytics scale 0\nset key off\n"
                       "set border 0\nset style fill solid 1.0 noborder\n"
                       "set rmargin 10\nset colorbox user origin graph 1.03, graph 0 "
                       "size character 1.5, graph 1\n",
                    rotate ? "rotate by 45 right" : "");
    size_t maxc = 0;
    for (size_t i = 0; i < ns; i++)
        if (label_cols(c, order[i].name) > maxc)
            maxc = label_cols(c, order[i].name);
    set_lmargin(b, maxc);
    tifa_buf plot = {0};
    tifa_buf_printf(&plot, "plot '%s.dat' using 1:2:(0.5):(0.5):3:xtic(6):ytic(7) "
                           "with boxxyerror fc palette notitle, \\\n"
                           "     '' using 1:2:4:5 with labels tc rgb variable notitle",
                    ch->name);
    double h = bar_height(c, ns) + (rotate ? 1.2 : 0);
    script_outputs(c, ch, h, plot.data);
    tifa_buf_free(&plot);
out:
    free(cell);
    free(order);
    free(rank_of);
    free(tot);
    tifa_strmap_free(sm);
}

static void chart_heatmaps(ctx *c, const tifa_ptable *t, size_t *made)
{
    for (size_t ci = 0; ci < c->n_corpora && c->st == TIFA_OK; ci++) {
        char **groups = NULL;
        size_t ng = 0;
        for (size_t r = 0; r < t->rows; r++) {
            const char *g = tifa_ptable_get(t, r, S_GROUP);
            if (g[0] && !strcmp(tifa_ptable_get(t, r, S_CORPUS), c->corpora[ci]) &&
                list_add(&groups, &ng, g) != TIFA_OK)
                c->st = TIFA_ENOMEM;
        }
        if (ng >= 2 && c->st == TIFA_OK) {
            qsort(groups, ng, sizeof *groups, cmp_str);
            tifa_buf stem = {0}, title = {0};
            tifa_buf_puts(&stem, "heatmap-");
            put_slug(&stem, c->corpora[ci]);
            tifa_buf_printf(&title, c->zh ? "%s：高频口号 × 分组" : "%s: top slogans by group",
                            title_name(c, c->corpora[ci]));
            size_t before = c->set->n;
            heatmap(c, t, stem.data, title.data, c->corpora[ci], groups, ng);
            *made += c->set->n - before;
            tifa_buf_free(&stem);
            tifa_buf_free(&title);
        }
        list_free(groups, ng);
    }
    if (c->n_corpora >= 2 && c->st == TIFA_OK) {
        size_t before = c->set->n;
        heatmap(c, t, "heatmap-corpora",
                L(c, "高频口号 × 语料", "top slogans by corpus"), NULL,
                c->corpora, c->n_corpora);
        *made += c->set->n - before;
    }
}

/* ------------------------------------------------------------ the set -- */

/* Collects every corpus name from the tables that have a corpus column, so
 * that colours are the same in every chart of a run. */
static void collect_corpora(ctx *c, const tifa_ptable *const *tables, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const tifa_ptable *t = tables[i];
        if (!t)
            continue;
        for (size_t r = 0; r < t->rows && c->st == TIFA_OK; r++) {
            const char *name = tifa_ptable_get(t, r, 0); /* corpus is column 0 */
            if (name[0] && list_add(&c->corpora, &c->n_corpora, name) != TIFA_OK)
                c->st = TIFA_ENOMEM;
        }
    }
    if (c->n_corpora)
        qsort(c->corpora, c->n_corpora, sizeof *c->corpora, cmp_str);
}

/* Loads a table when its file exists (caller frees with tifa_ptable_free);
 * NULL otherwise (absent: no diag). */
static tifa_ptable *load_if(ctx *c, const char *file, const char *const *cols,
                            const char *const *req, tifa_buf *path)
{
    if (!table_exists(c, file, path))
        return NULL;
    tifa_status st;
    tifa_ptable *t = tifa_ptable_load(path->data, cols, req, c->diag, &st);
    if (!t && st == TIFA_ENOMEM)
        c->st = TIFA_ENOMEM;
    return t;
}

tifa_status tifa_charts_build(const char *outdir, const tifa_plot_options *options,
                              tifa_diag *diag, tifa_chart_set *set)
{
    ctx c = {0};
    c.opt = options;
    c.diag = diag;
    c.outdir = outdir;
    c.set = set;
    c.zh = !(options->language && strcmp(options->language, "en") == 0);
    /* Text is 10 pt, down to 7 pt on charts narrower than 14 cm (a paper
     * column).  Labels get at most label_cols display columns, and never
     * more than about 40% of the chart's width (a Latin character is about
     * 0.022 cm per point), so that a narrow chart keeps its plot. */
    double w_cm = options->width_cm > 0 ? options->width_cm : 16;
    c.font_pt = w_cm >= 14 ? 10 : floor(10 * w_cm / 14 + 0.5);
    if (c.font_pt < 7)
        c.font_pt = 7;
    c.char_cm = 0.022 * c.font_pt;
    size_t fit = (size_t)(0.4 * w_cm / c.char_cm);
    fit = fit > 11 ? fit - 3 : 8;
    c.label_lim = options->label_cols ? options->label_cols : 24;
    if (c.label_lim > fit)
        c.label_lim = fit;

    tifa_buf path = {0};
    tifa_ptable *slogans = load_if(&c, "slogans.csv", slogan_cols, slogan_req, &path);
    tifa_ptable *families = load_if(&c, "families.csv", family_cols, family_req, &path);
    tifa_ptable *trend = load_if(&c, "trend.csv", trend_cols, trend_req, &path);
    tifa_ptable *docs = load_if(&c, "documents.csv", doc_cols, doc_req, &path);
    /* documents.csv has corpus second: a view with corpus first for naming. */
    static const char *const doc_corpus_cols[] = {"corpus", NULL};
    tifa_ptable *doc_corpora = docs ? load_if(&c, "documents.csv", doc_corpus_cols,
                                              doc_corpus_cols, &path)
                                    : NULL;
    tifa_ptable *keyness = NULL;
    if (table_exists(&c, "keyness.csv", &path))
        keyness = keyness_load_top(&c, path.data, options->top_n ? options->top_n : 15);
    tifa_ptable *bydoc = NULL;
    for (size_t i = 0; bydoc_files[i] && !bydoc && c.st == TIFA_OK; i++)
        bydoc = load_if(&c, bydoc_files[i], bydoc_cols, bydoc_req, &path);
    bool have_ngrams = table_exists(&c, "ngrams.csv", &path);

    const tifa_ptable *named[] = {slogans, families, trend, doc_corpora};
    collect_corpora(&c, named, 4);

    if (c.st == TIFA_OK) {
        size_t before = set->n;
        if (slogans && slogans->rows)
            chart_top_slogans(&c, slogans);
        if (set->n == before)
            note_skip(&c, "top slogans", "slogans.csv is absent or has no quoted slogans");
    }
    if (c.st == TIFA_OK) {
        size_t before = set->n;
        if (families && families->rows)
            chart_families(&c, families);
        if (set->n == before)
            note_skip(&c, "families", "families.csv is absent or empty");
    }
    if (c.st == TIFA_OK) {
        size_t before = set->n;
        if (trend && trend->rows)
            chart_trend(&c, trend);
        if (set->n == before)
            note_skip(&c, "trend", "trend.csv is absent or empty");
    }
    if (c.st == TIFA_OK) {
        size_t before = set->n;
        if (keyness && keyness->rows)
            chart_keyness(&c, keyness);
        if (set->n == before)
            note_skip(&c, "keyness", "keyness.csv is absent or empty");
    }
    if (c.st == TIFA_OK) {
        size_t before = set->n;
        if (slogans && slogans->rows)
            chart_zipf_slogans(&c, slogans);
        if (c.st == TIFA_OK && have_ngrams) {
            tifa_buf_clear(&path);
            tifa_buf_printf(&path, "%s/ngrams.csv", outdir);
            chart_zipf_ngrams(&c, path.data);
        }
        if (set->n == before)
            note_skip(&c, "rank-frequency",
                      "neither slogans.csv nor ngrams.csv has counts to rank");
    }
    if (c.st == TIFA_OK) {
        size_t before = set->n;
        if (docs && bydoc && docs->rows && bydoc->rows)
            chart_dispersion(&c, docs, bydoc, slogans);
        if (set->n == before)
            note_skip(&c, "dispersion",
                      bydoc ? "no document of the per-document slogan table is "
                              "in documents.csv"
                            : "needs documents.csv and a per-document slogan table "
                              "(slogans_by_doc.csv: doc_id, slogan, count)");
    }
    if (c.st == TIFA_OK) {
        size_t made = 0;
        if (slogans && slogans->rows)
            chart_heatmaps(&c, slogans, &made);
        if (!made && c.st == TIFA_OK)
            note_skip(&c, "heat map", "needs slogans.csv with groups or with two "
                                      "or more corpora");
    }

    tifa_ptable_free(slogans);
    tifa_ptable_free(families);
    tifa_ptable_free(trend);
    tifa_ptable_free(docs);
    tifa_ptable_free(doc_corpora);
    tifa_ptable_free(keyness);
    tifa_ptable_free(bydoc);
    tifa_buf_free(&path);
    list_free(c.corpora, c.n_corpora);
    for (size_t i = 0; i < 8; i++)
        tifa_buf_free(&c.ring[i]);
    return c.st;
}
