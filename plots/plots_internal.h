/*
 * plots_internal.h — the pieces of plots/ shared between its source files and
 * its tests, not part of the public interface of plots.h.
 *
 * plots/ is split in three: table.c reads the CSV tables of a run by column
 * name; charts.c turns tables into chart specifications (a gnuplot script
 * and its data file, both plain text, no gnuplot needed); gnuplot.c knows
 * gnuplot itself (quoting, cleaning data fields, finding a CJK font, running
 * the program through a pipe without a shell).  plots.c ties them together in
 * tifa_plots_render_all.  Tests include this header to check each piece on
 * its own.
 *
 * Ownership follows tifa_common.h.
 */
#ifndef TIFA_PLOTS_INTERNAL_H
#define TIFA_PLOTS_INTERNAL_H

#include "plots.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- tables -- */

/* A CSV table held in memory, restricted to the columns asked for, in the
 * order asked for.  A column absent from the file reads as "". */
typedef struct tifa_ptable {
    size_t rows;
    size_t cols;        /* number of requested columns */
    char **cells;       /* rows * cols strings, owned */
    bool *present;      /* cols flags: was the column in the file */
} tifa_ptable;

/* Loads path keeping the columns named in cols (NULL-terminated).  Columns
 * whose name is in required (NULL-terminated, may be NULL) must be present,
 * else TIFA_EFORMAT with a diag naming the file and column.  A missing file
 * gives NULL and TIFA_ENOENT without a diag.  Caller frees with
 * tifa_ptable_free. */
tifa_ptable *tifa_ptable_load(const char *path, const char *const *cols,
                              const char *const *required, tifa_diag *diag,
                              tifa_status *status);
void tifa_ptable_free(tifa_ptable *table);
/* Cell text (borrowed, never NULL). */
const char *tifa_ptable_get(const tifa_ptable *table, size_t row, size_t col);
/* Cell as a number; NaN when empty or not a number. */
double tifa_ptable_num(const tifa_ptable *table, size_t row, size_t col);

/* ---------------------------------------------------------------- gnuplot -- */

/* Appends s to out as a data-file field: tabs, CR, LF and other control
 * characters become spaces, '"' becomes U+FF02 (gnuplot would take it as
 * a string delimiter), an empty result becomes "-"; when max_cols > 0 the
 * text is cut to that many display columns (CJK = 2) and ends in "…". */
tifa_status tifa_gnuplot_field(tifa_buf *out, const char *s, size_t max_cols);

/* Finds a CJK font family through fontconfig: "Noto Sans CJK SC", then
 * "WenQuanYi Micro Hei", then any family supporting lang zh-cn.  Returns a
 * new string (caller frees) or NULL when there is none. */
char *tifa_find_cjk_font(void);

/* Runs `gnuplot` (a name looked up in PATH, or a path) without a shell, in
 * directory dir, writes script to its standard input and waits.  Its
 * standard error (and output) is collected in err_out.  Returns TIFA_OK when
 * it exited with status 0, TIFA_EGNUPLOT otherwise (could not start: the
 * reason is in err_out; crashed or rejected the script: gnuplot's message is
 * in err_out).  *not_found is set when the program could not be executed at
 * all (absent or not executable). */
tifa_status tifa_gnuplot_run(const char *gnuplot, const char *dir,
                             const char *script, size_t script_len,
                             tifa_buf *err_out, bool *not_found);

/* ------------------------------------------------------------ chart specs -- */

/* One chart: the stem of its files (NAME.gp, NAME.dat, NAME.png ...), a
 * one-line description, the data file text and the script text.  The script
 * writes to tifa_out.'NAME.png' etc., where tifa_out defaults to '' so that
 * `gnuplot NAME.gp` in the charts directory re-renders under the final
 * names; tifa_plots_render_all sets tifa_out to a temporary prefix and
 * renames the files after gnuplot succeeded. */
typedef struct tifa_chart {
    char *name;
    char *what;
    tifa_buf data;
    tifa_buf script;
} tifa_chart;

struct tifa_chart_set {
    tifa_chart *charts;
    size_t n, cap;
    size_t skipped;     /* chart kinds without data */
    char *font;         /* the font family used */
};

/* Builds the charts of the tables in outdir into set (charts.c); set->font
 * must already be chosen.  Returns TIFA_OK or TIFA_ENOMEM; unreadable
 * tables are reported to diag and their charts skipped. */
tifa_status tifa_charts_build(const char *outdir,
                              const tifa_plot_options *options,
                              tifa_diag *diag, tifa_chart_set *set);

#ifdef __cplusplus
}
#endif
#endif /* TIFA_PLOTS_INTERNAL_H */
