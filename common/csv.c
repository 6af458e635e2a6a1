/*
 * csv.c — RFC 4180 tables for spreadsheets, and a reader for the same.
 *
 * Writer: rows are built in UTF-8 in a buffer, then written (or converted
 * to GB18030 with ICU when asked) to an atomic output file, so a table appears
 * only when complete.  Rows are written in batches of about 64 KiB (one
 * fwrite and, for GB18030, one conversion per batch instead of per row; the
 * conversion is stateless, so the bytes are the same); a writer on stdout
 * ("-") still writes each row as it ends.  Code that formats many rows
 * itself, possibly on several threads (ngrams.csv), quotes fields with
 * tifa_csv_field_to and hands whole blocks of rows to tifa_csv_rows.  Rows end with CRLF as RFC 4180 says; a field is quoted
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

/* Rows are written once the pending ones reach this many bytes. */
#define CSV_BATCH 65536
/* GB18030: input converted per ucnv_convert call at most (int32 lengths). */
#define CSV_CONVERT_MAX (1u << 20)

struct tifa_csv {
    tifa_afile *file;
    tifa_buf row;      /* pending whole rows, then the row being built */
    size_t row_start;  /* where the row being built starts in row */
    tifa_buf conv;     /* GB18030 scratch */
    size_t batch;      /* write when row.len reaches this (0: every row) */
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
    csv->batch = strcmp(path, "-") == 0 ? 0 : CSV_BATCH;
    if (options->bom && !gb)
        fputs("\xEF\xBB\xBF", tifa_afile_stream(csv->file));
    *status = TIFA_OK;
    return csv;
}

static void field_start(tifa_csv *csv)
{
    if (csv->row_started) {
        if (tifa_buf_putc(&csv->row, ',') != TIFA_OK)
            csv->error = TIFA_ENOMEM;
    } else {
        csv->row_start = csv->row.len;
    }
    csv->row_started = true;
}

static inline bool special(char c)
{
    return c == ',' || c == '"' || c == '\r' || c == '\n';
}

/* Whether a field must be quoted: it holds ',', '"', CR or LF, or starts or
 * ends with a space.  Eight bytes at a time: the four characters are all
 * below 0x2D, and most text (Chinese: UTF-8 bytes >= 0x80) has no such
 * byte, which one subtraction per word shows (the "has a byte less than n"
 * bit trick: never misses one, and a false alarm only costs the byte loop). */
static bool needs_quotes(const char *s, size_t n)
{
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        return true;
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (((x - ones * 0x2D) & ~x & highs) != 0)
            for (size_t k = i; k < i + 8; k++)
                if (special(s[k]))
                    return true;
    }
    for (; i < n; i++)
        if (special(s[i]))
            return true;
    return false;
}

size_t tifa_csv_field_to(char *dst, const char *s, size_t n)
{
    if (!needs_quotes(s, n)) {
        if (n)
            memcpy(dst, s, n);
        return n;
    }
    size_t k = 0;
    dst[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            dst[k++] = '"';
        dst[k++] = s[i];
    }
    dst[k++] = '"';
    return k;
}

void tifa_csv_strn(tifa_csv *csv, const char *s, size_t n)
{
    field_start(csv);
    if (n > (SIZE_MAX - 3) / 2 || tifa_buf_reserve(&csv->row, 2 * n + 2) != TIFA_OK) {
        csv->error = TIFA_ENOMEM;
        return;
    }
    csv->row.len += tifa_csv_field_to(csv->row.data + csv->row.len, s, n);
    csv->row.data[csv->row.len] = '\0';
}

void tifa_csv_str(tifa_csv *csv, const char *s)
{
    tifa_csv_strn(csv, s ? s : "", s ? strlen(s) : 0);
}

void tifa_csv_int(tifa_csv *csv, long long v)
{
    field_start(csv);
    if (tifa_buf_printf(&csv->row, "%lld", v) != TIFA_OK)
        csv->error = TIFA_ENOMEM;
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
    if (tifa_buf_printf(&csv->row, "%.*f", precision, v) != TIFA_OK)
        csv->error = TIFA_ENOMEM;
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
    if (tifa_buf_printf(&csv->row, "%.*e", digits, v) != TIFA_OK)
        csv->error = TIFA_ENOMEM;
}

/* Writes n bytes of whole rows (UTF-8) to the file, converted to GB18030
 * when asked: in pieces of at most CSV_CONVERT_MAX bytes cut at a character
 * boundary (the conversion keeps no state between characters, so the pieces
 * give the bytes one conversion of the whole would). */
static void put_bytes(tifa_csv *csv, const char *data, size_t n)
{
    FILE *out = tifa_afile_stream(csv->file);
    if (!csv->gb18030) {
        if (n && fwrite(data, 1, n, out) != n)
            csv->error = TIFA_EIO;
        return;
    }
    while (n && csv->error == TIFA_OK) {
        size_t piece = n;
        if (piece > CSV_CONVERT_MAX) {
            piece = CSV_CONVERT_MAX;
            /* back over UTF-8 continuation bytes (at most 3) */
            for (int k = 0; k < 3 && ((unsigned char)data[piece] & 0xC0) == 0x80; k++)
                piece--;
        }
        size_t cap = piece * 2 + 16; /* a UTF-8 byte gives at most 2 */
        tifa_buf_clear(&csv->conv);
        if (tifa_buf_reserve(&csv->conv, cap) != TIFA_OK) {
            csv->error = TIFA_ENOMEM;
            return;
        }
        UErrorCode err = U_ZERO_ERROR;
        int32_t got = ucnv_convert("gb18030", "utf-8", csv->conv.data, (int32_t)cap, data,
                                   (int32_t)piece, &err);
        if (U_FAILURE(err))
            csv->error = TIFA_EENCODING;
        else if (fwrite(csv->conv.data, 1, (size_t)got, out) != (size_t)got)
            csv->error = TIFA_EIO;
        data += piece;
        n -= piece;
    }
}

/* Writes the pending rows (row.len bytes: called between rows only). */
static void flush_rows(tifa_csv *csv)
{
    if (csv->error == TIFA_OK)
        put_bytes(csv, csv->row.data, csv->row.len);
    tifa_buf_clear(&csv->row);
}

void tifa_csv_row_end(tifa_csv *csv)
{
    if (tifa_buf_append(&csv->row, "\r\n", 2) != TIFA_OK)
        csv->error = TIFA_ENOMEM;
    csv->row_started = false;
    if (csv->error != TIFA_OK)
        tifa_buf_clear(&csv->row); /* nothing more will be written */
    else if (csv->row.len >= csv->batch)
        flush_rows(csv);
}

void tifa_csv_rows(tifa_csv *csv, const char *rows, size_t n)
{
    if (csv->row_started) { /* a row is being built: a usage error */
        csv->error = TIFA_EUSAGE;
        return;
    }
    if (csv->row.len + n < csv->batch) {
        if (tifa_buf_append(&csv->row, rows, n) != TIFA_OK)
            csv->error = TIFA_ENOMEM;
        return;
    }
    flush_rows(csv);
    if (csv->error == TIFA_OK)
        put_bytes(csv, rows, n);
}

void tifa_csv_header(tifa_csv *csv, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        tifa_csv_str(csv, names[i]);
    tifa_csv_row_end(csv);
}

tifa_status tifa_csv_close(tifa_csv *csv)
{
    if (csv->row_started) { /* an unfinished row is dropped, as before */
        csv->row.len = csv->row_start;
        csv->row_started = false;
    }
    flush_rows(csv);
    tifa_status st = csv->error;
    if (st == TIFA_OK)
        st = tifa_afile_commit(csv->file);
    else
        tifa_afile_abort(csv->file);
    tifa_buf_free(&csv->row);
    tifa_buf_free(&csv->conv);
    free(csv);
    return st;
}

void tifa_csv_abort(tifa_csv *csv)
{
    if (!csv)
        return;
    tifa_afile_abort(csv->file);
    tifa_buf_free(&csv->row);
    tifa_buf_free(&csv->conv);
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
