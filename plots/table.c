/*
 * table.c — reads the CSV tables of a run (SPEC §6) for the charts, by column
 * name and never by position, so tables with extra or reordered columns (a
 * researcher's edit, a newer tifa) still chart.  Only the columns a chart
 * needs are kept in memory.
 */
#define _POSIX_C_SOURCE 200809L
#include "plots_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tifa_ptable_free(tifa_ptable *table)
{
    if (!table)
        return;
    for (size_t i = 0; i < table->rows * table->cols; i++)
        free(table->cells[i]);
    free(table->cells);
    free(table->present);
    free(table);
}

const char *tifa_ptable_get(const tifa_ptable *table, size_t row, size_t col)
{
    if (!table || row >= table->rows || col >= table->cols)
        return "";
    const char *s = table->cells[row * table->cols + col];
    return s ? s : "";
}

double tifa_ptable_num(const tifa_ptable *table, size_t row, size_t col)
{
    const char *s = tifa_ptable_get(table, row, col);
    while (*s == ' ')
        s++;
    if (!*s)
        return NAN;
    char *end = NULL;
    double v = strtod(s, &end);
    while (end && *end == ' ')
        end++;
    if (!end || *end)
        return NAN;
    return v;
}

tifa_ptable *tifa_ptable_load(const char *path, const char *const *cols,
                              const char *const *required, tifa_diag *diag,
                              tifa_status *status)
{
    tifa_status st = TIFA_OK;
    tifa_csv_reader *rd = tifa_csv_reader_open(path, &st);
    if (!rd) {
        *status = st == TIFA_OK ? TIFA_EIO : st;
        if (*status != TIFA_ENOENT)
            tifa_diag_add(diag, TIFA_WARNING, *status, path, 0, -1,
                          "cannot read table: %s", tifa_status_message(*status));
        return NULL;
    }
    size_t ncols = 0;
    while (cols[ncols])
        ncols++;
    tifa_ptable *t = calloc(1, sizeof *t);
    size_t *map = calloc(ncols ? ncols : 1, sizeof *map); /* col -> field+1 */
    if (!t || !map)
        goto nomem;
    t->cols = ncols;
    t->present = calloc(ncols ? ncols : 1, sizeof *t->present);
    if (!t->present)
        goto nomem;

    char **fields = NULL;
    size_t nf = 0;
    st = tifa_csv_read_row(rd, &fields, &nf);
    if (st == TIFA_EEMPTY) { /* no header: an empty table */
        tifa_csv_reader_close(rd);
        free(map);
        *status = TIFA_OK;
        return t;
    }
    if (st != TIFA_OK)
        goto bad_row;
    for (size_t c = 0; c < ncols; c++)
        for (size_t f = 0; f < nf; f++)
            if (strcmp(fields[f], cols[c]) == 0) {
                map[c] = f + 1;
                t->present[c] = true;
                break;
            }
    for (size_t r = 0; required && required[r]; r++) {
        for (size_t c = 0; c < ncols; c++)
            if (strcmp(cols[c], required[r]) == 0 && !t->present[c]) {
                tifa_diag_add(diag, TIFA_WARNING, TIFA_EFORMAT, path, 1, -1,
                              "table has no column '%s'", required[r]);
                st = TIFA_EFORMAT;
            }
    }
    if (st != TIFA_OK)
        goto fail;

    size_t cap = 0;
    for (;;) {
        st = tifa_csv_read_row(rd, &fields, &nf);
        if (st == TIFA_EEMPTY)
            break;
        if (st != TIFA_OK)
            goto bad_row;
        if (nf == 1 && fields[0][0] == '\0')
            continue; /* blank line */
        if (t->rows == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            char **cells = realloc(t->cells, ncap * ncols * sizeof *cells);
            if (!cells)
                goto nomem;
            t->cells = cells;
            cap = ncap;
        }
        char **row = t->cells + t->rows * ncols;
        for (size_t c = 0; c < ncols; c++)
            row[c] = NULL;
        t->rows++;
        for (size_t c = 0; c < ncols; c++)
            if (map[c] && map[c] <= nf &&
                !(row[c] = tifa_strdup(fields[map[c] - 1])))
                goto nomem;
    }
    tifa_csv_reader_close(rd);
    free(map);
    *status = TIFA_OK;
    return t;

bad_row:
    tifa_diag_add(diag, TIFA_WARNING, TIFA_EFORMAT, path,
                  tifa_csv_reader_line(rd), -1, "malformed CSV row");
    st = TIFA_EFORMAT;
    goto fail;
nomem:
    st = TIFA_ENOMEM;
fail:
    tifa_csv_reader_close(rd);
    free(map);
    tifa_ptable_free(t);
    *status = st;
    return NULL;
}
