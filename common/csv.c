/*
 * csv.c — RFC 4180 tables for spreadsheets, and a reader for the same.
 *
 * Writer: each row is built in UTF-8 in a buffer, then written (or converted
 * to GB18030 with ICU when asked) to an atomic output file, so a table appears
 * only when complete.  Rows end with CRLF as RFC 4180 says; a field is quoted
 * when it contains a comma, a double quote, CR or LF, or starts or ends with
 * a space.  Text is never altered (a slogan that looks like a spreadsheet
 * formula stays as it is: the tables are data for reproducible research).
 * Numbers use fixed precision and "C"
 * formatting (a '.' decimal point whatever the locale).
 *
 * Reader: the whole file is read into memory and split in place; it accepts
 * LF or CRLF, an optional UTF-8 BOM and quoted fields with embedded newlines.
 */
#include "tifa_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ucnv.h>

struct tifa_csv {
    tifa_afile *file;
    tifa_buf row;
    bool gb18030;
    bool row_started;
    tifa_status error; /* sticky */
};

/* Returns a writer (end it with tifa_csv_close or tifa_csv_abort) or NULL. */
tifa_csv *tifa_csv_open(const char *path, const tifa_csv_options *options,
                        tifa_status *status)
{
    tifa_csv_options defaults = TIFA_CSV_OPTIONS_DEFAULT;
    if (!options)
        options = &defaults;
    tifa_status dummy;
    if (!status)
        status = &dummy;
    bool gb = false;
    if (options->encoding && *options->encoding) {
        if (strcasecmp(options->encoding, "gb18030") == 0)
            gb = true;
        else if (strcasecmp(options->encoding, "utf-8") != 0 &&
                 strcasecmp(options->encoding, "utf8") != 0) {
            *status = TIFA_EUSAGE;
            return NULL;
        }
    }
    tifa_csv *csv = calloc(1, sizeof *csv);
    if (!csv) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    csv->file = tifa_afile_open(path, status);
    if (!csv->file) {
        free(csv);
        return NULL;
    }
    csv->gb18030 = gb;
    if (options->bom && !gb)
        fputs("\xEF\xBB\xBF", tifa_afile_stream(csv->file));
    *status = TIFA_OK;
    return csv;
}

static void field_start(tifa_csv *csv)
{
    if (csv->row_started)
        tifa_buf_putc(&csv->row, ',');
    csv->row_started = true;
}

void tifa_csv_strn(tifa_csv *csv, const char *s, size_t n)
{
    field_start(csv);
    bool quote = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ',' || c == '"' || c == '\r' || c == '\n') {
            quote = true;
            break;
        }
    }
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        quote = true;
    if (!quote) {
        if (tifa_buf_append(&csv->row, s, n) != TIFA_OK)
            csv->error = TIFA_ENOMEM;
        return;
    }
    tifa_buf_putc(&csv->row, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            tifa_buf_putc(&csv->row, '"');
        tifa_buf_putc(&csv->row, s[i]);
    }
    if (tifa_buf_putc(&csv->row, '"') != TIFA_OK)
        csv->error = TIFA_ENOMEM;
}

void tifa_csv_str(tifa_csv *csv, const char *s)
{
    tifa_csv_strn(csv, s ? s : "", s ? strlen(s) : 0);
}

void tifa_csv_int(tifa_csv *csv, long long v)
{
    field_start(csv);
    tifa_buf_printf(&csv->row, "%lld", v);
}

void tifa_csv_real(tifa_csv *csv, double v, int precision)
{
    field_start(csv);
    if (isnan(v) || isinf(v))
        return;
    if (precision < 0)
        precision = 0;
    if (precision > 17)
        precision = 17;
    /* Avoid "-0.0000": a value that rounds to zero is written unsigned. */
    double scale = pow(10.0, precision);
    if (fabs(v) * scale < 0.5)
        v = 0.0;
    tifa_buf_printf(&csv->row, "%.*f", precision, v);
}

void tifa_csv_sci(tifa_csv *csv, double v, int digits)
{
    field_start(csv);
    if (isnan(v) || isinf(v))
        return;
    if (digits < 0)
        digits = 0;
    if (digits > 17)
        digits = 17;
    tifa_buf_printf(&csv->row, "%.*e", digits, v);
}

static void write_row(tifa_csv *csv)
{
    FILE *out = tifa_afile_stream(csv->file);
    if (!csv->gb18030) {
        if (fwrite(csv->row.data, 1, csv->row.len, out) != csv->row.len)
            csv->error = TIFA_EIO;
        return;
    }
    UErrorCode err = U_ZERO_ERROR;
    size_t cap = csv->row.len * 2 + 16;
    char *conv = malloc(cap);
    if (!conv) {
        csv->error = TIFA_ENOMEM;
        return;
    }
    int32_t n = ucnv_convert("gb18030", "utf-8", conv, (int32_t)cap,
                             csv->row.data, (int32_t)csv->row.len, &err);
    if (U_FAILURE(err))
        csv->error = TIFA_EENCODING;
    else if (fwrite(conv, 1, (size_t)n, out) != (size_t)n)
        csv->error = TIFA_EIO;
    free(conv);
}

void tifa_csv_row_end(tifa_csv *csv)
{
    if (tifa_buf_append(&csv->row, "\r\n", 2) != TIFA_OK)
        csv->error = TIFA_ENOMEM;
    if (csv->error == TIFA_OK)
        write_row(csv);
    tifa_buf_clear(&csv->row);
    csv->row_started = false;
}

void tifa_csv_header(tifa_csv *csv, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        tifa_csv_str(csv, names[i]);
    tifa_csv_row_end(csv);
}

tifa_status tifa_csv_close(tifa_csv *csv)
{
    tifa_status st = csv->error;
    if (st == TIFA_OK)
        st = tifa_afile_commit(csv->file);
    else
        tifa_afile_abort(csv->file);
    tifa_buf_free(&csv->row);
    free(csv);
    return st;
}

void tifa_csv_abort(tifa_csv *csv)
{
    if (!csv)
        return;
    tifa_afile_abort(csv->file);
    tifa_buf_free(&csv->row);
    free(csv);
}

/* ------------------------------------------------------------ reader ---- */

struct tifa_csv_reader {
    char *data; /* whole file, split in place */
    size_t len, pos;
    long line;  /* line where the current row started */
    long next_line;
    char **fields;
    size_t cap_fields;
};

/* Returns a reader (close with tifa_csv_reader_close) or NULL. */
tifa_csv_reader *tifa_csv_reader_open(const char *path, tifa_status *status)
{
    tifa_status dummy;
    if (!status)
        status = &dummy;
    tifa_csv_reader *r = calloc(1, sizeof *r);
    if (!r) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    *status = tifa_read_file(path, &r->data, &r->len);
    if (*status != TIFA_OK) {
        free(r);
        return NULL;
    }
    if (r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    r->next_line = 1;
    return r;
}

static bool push_field(tifa_csv_reader *r, size_t *n, char *field)
{
    if (*n == r->cap_fields) {
        size_t cap = r->cap_fields ? r->cap_fields * 2 : 16;
        char **grown = realloc(r->fields, cap * sizeof *grown);
        if (!grown)
            return false;
        r->fields = grown;
        r->cap_fields = cap;
    }
    r->fields[(*n)++] = field;
    return true;
}

tifa_status tifa_csv_read_row(tifa_csv_reader *reader, char ***fields,
                              size_t *n)
{
    tifa_csv_reader *r = reader;
    *n = 0;
    if (r->pos >= r->len)
        return TIFA_EEMPTY;
    r->line = r->next_line;
    char *d = r->data;
    for (;;) {
        /* One field starts at r->pos. */
        char *out = d + r->pos; /* unquoting writes in place, never ahead */
        char *start = out;
        if (r->pos < r->len && d[r->pos] == '"') {
            r->pos++;
            for (;;) {
                if (r->pos >= r->len)
                    return TIFA_EFORMAT; /* unterminated quote */
                char c = d[r->pos++];
                if (c == '"') {
                    if (r->pos < r->len && d[r->pos] == '"') {
                        *out++ = '"';
                        r->pos++;
                        continue;
                    }
                    break;
                }
                if (c == '\n')
                    r->next_line++;
                *out++ = c;
            }
            if (r->pos < r->len && d[r->pos] != ',' && d[r->pos] != '\n' &&
                d[r->pos] != '\r')
                return TIFA_EFORMAT; /* text after a closing quote */
        } else {
            while (r->pos < r->len && d[r->pos] != ',' && d[r->pos] != '\n' &&
                   d[r->pos] != '\r')
                *out++ = d[r->pos++];
        }
        char sep = r->pos < r->len ? d[r->pos] : '\n';
        *out = '\0'; /* out <= d + r->pos, so this never clobbers unread data */
        if (!push_field(r, n, start))
            return TIFA_ENOMEM;
        if (sep == ',') {
            r->pos++;
            continue;
        }
        if (sep == '\r' && r->pos + 1 < r->len && d[r->pos + 1] == '\n')
            r->pos++;
        r->pos++;
        r->next_line++;
        break;
    }
    *fields = r->fields;
    return TIFA_OK;
}

long tifa_csv_reader_line(const tifa_csv_reader *reader)
{
    return reader->line;
}

void tifa_csv_reader_close(tifa_csv_reader *reader)
{
    if (!reader)
        return;
    free(reader->data);
    free(reader->fields);
    free(reader);
}
