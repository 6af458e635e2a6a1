/*
 * plots.h — the charts of SPEC §7, rendered by gnuplot driven through a pipe.
 *
 * plots/ reads the tables a run wrote (slogans.csv, families.csv, trend.csv,
 * keyness.csv, ...) and never the corpus itself, so `tifa plot OUTDIR`
 * re-renders every chart after a researcher edited the CSVs.  Each chart is
 * written to OUTDIR/charts/ as PNG and SVG (PDF on request) next to the
 * gnuplot script and the data file that made it, so `gnuplot NAME.gp` alone
 * re-renders it.  Corpus text reaches gnuplot only inside data files or as
 * fully escaped single-quoted strings: nothing in a corpus can run a command
 * or expand a macro.
 *
 * Ownership follows tifa_common.h.
 */
#ifndef TIFA_PLOTS_H
#define TIFA_PLOTS_H

#include "tifa_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tifa_plot_options {
    const char *gnuplot;   /* executable name or path; NULL: "gnuplot" on PATH */
    const char *language;  /* "zh" (default) or "en" for axis titles */
    const char *font;      /* NULL: find a CJK font through fontconfig */
    double width_cm;       /* default 16 */
    double height_cm;      /* default 10 */
    int dpi;               /* PNG resolution, default 150 */
    bool pdf;              /* also write PDF */
    size_t top_n;          /* bars in top-slogan charts, default 15 */
    size_t label_cols;     /* labels longer than this many display columns
                              (a CJK character is 2) end in "…"; default 24 */
} tifa_plot_options;

void tifa_plot_options_init(tifa_plot_options *options);

typedef struct tifa_plot_summary {
    size_t rendered;  /* charts written */
    size_t failed;    /* charts gnuplot could not render (reported to diag) */
    size_t skipped;   /* charts without data (table absent or empty) */
} tifa_plot_summary;

/* Renders every chart whose table exists in outdir.  A failing chart is
 * reported to diag with gnuplot's message and the others still render;
 * returns TIFA_EGNUPLOT when any chart failed. */
tifa_status tifa_plots_render_all(const char *outdir,
                                  const tifa_plot_options *options,
                                  tifa_diag *diag, tifa_plot_summary *summary);

/* The charts of outdir as scripts and data, built without running gnuplot
 * (used by tifa_plots_render_all, by `tifa plot --dry-run` style tools and
 * by the tests).  Tables that are absent or empty count as skipped (a note
 * in diag says which).  Caller frees with tifa_chart_set_free. */
typedef struct tifa_chart_set tifa_chart_set;
tifa_chart_set *tifa_plots_prepare(const char *outdir,
                                   const tifa_plot_options *options,
                                   tifa_diag *diag, tifa_status *status);
void tifa_chart_set_free(tifa_chart_set *set);
size_t tifa_chart_set_size(const tifa_chart_set *set);
size_t tifa_chart_set_skipped(const tifa_chart_set *set);
/* File stem, gnuplot script and data text of chart i (borrowed). */
const char *tifa_chart_name(const tifa_chart_set *set, size_t i);
const char *tifa_chart_script(const tifa_chart_set *set, size_t i);
const char *tifa_chart_data(const tifa_chart_set *set, size_t i);

/* `gnuplot --version` of options->gnuplot (e.g. "gnuplot 5.4 patchlevel 4"),
 * for the manifest.  Returns a new string (caller frees) or NULL when gnuplot
 * cannot be run. */
char *tifa_gnuplot_version(const tifa_plot_options *options);

/* Quotes s as a gnuplot single-quoted string literal (no backquote or macro
 * expansion happens inside single quotes; ' is doubled; newlines become
 * spaces).  Appends to out. */
tifa_status tifa_gnuplot_quote(tifa_buf *out, const char *s);

#ifdef __cplusplus
}
#endif
#endif /* TIFA_PLOTS_H */
