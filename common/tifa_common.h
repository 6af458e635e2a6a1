/*
 * tifa_common.h — the small shared vocabulary of every tifa stage.
 *
 * Status codes, a diagnostics collector, a growable byte buffer, an interning
 * string table, RFC 4180 CSV writing and reading, atomic (temp + rename) output
 * files and SHA-256.  Nothing here knows about corpora, slogans or charts; the
 * stages (corpora/, stats/, plots/) build on it and the CLI (pipeline/) prints
 * what they collect.
 *
 * Ownership rule for the whole of tifa: a function whose name ends in _new,
 * _alloc, _open, _load or _detach returns memory the caller owns and releases
 * with the matching _free / _close / _abort; every other returned pointer is
 * borrowed and stays valid while the object it came from is alive and
 * unchanged.  No tifa library prints, calls exit() or keeps global state.
 */
#ifndef TIFA_COMMON_H
#define TIFA_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TIFA_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- status -- */

/* Every fallible function returns one of these (or NULL plus one of these
 * through an out-parameter).  tifa_status_name() gives the stable identifier
 * ("TIFA_EIO"), tifa_status_message() a short human phrase. */
typedef enum tifa_status {
    TIFA_OK = 0,
    TIFA_ENOMEM,    /* out of memory */
    TIFA_EIO,       /* read/write/rename failed */
    TIFA_ENOENT,    /* no such file or directory */
    TIFA_EENCODING, /* undecodable bytes (strict mode) or unknown charset */
    TIFA_EFORMAT,   /* malformed input: bad JSON line, missing field, ... */
    TIFA_EPATTERN,  /* invalid pattern file or regex */
    TIFA_EUSAGE,    /* invalid option or study setting */
    TIFA_EEMPTY,    /* nothing usable (empty file, no documents) */
    TIFA_EEXIST,    /* refusing to overwrite something tifa did not make */
    TIFA_EGNUPLOT,  /* gnuplot missing, crashed or rejected a script */
    TIFA_EVERIFY,   /* manifest verification found a difference */
    TIFA_ELIMIT,    /* a configured limit (memory budget, size) was reached */
    TIFA_EINTERNAL, /* a library (ICU, GSL) failed unexpectedly */
    TIFA_STATUS_COUNT
} tifa_status;

const char *tifa_status_name(tifa_status status);
const char *tifa_status_message(tifa_status status);

/* ----------------------------------------------------------- diagnostics -- */

typedef enum tifa_severity {
    TIFA_NOTE = 0,
    TIFA_WARNING,
    TIFA_ERROR
} tifa_severity;

/* One message about the input or the run.  file may be NULL; line is 1-based
 * or 0 when unknown; offset is a byte offset or -1 when unknown. */
typedef struct tifa_diag_entry {
    tifa_severity severity;
    tifa_status code;
    const char *file;
    long line;
    long long offset;
    const char *message;
} tifa_diag_entry;

/* A thread-safe collector.  Libraries add entries; the CLI installs a sink
 * that prints them as they arrive and reads the counts at the end. */
typedef struct tifa_diag tifa_diag;
typedef void (*tifa_diag_sink)(const tifa_diag_entry *entry, void *user);

tifa_diag *tifa_diag_new(void);
void tifa_diag_free(tifa_diag *diag);
void tifa_diag_set_sink(tifa_diag *diag, tifa_diag_sink sink, void *user);
/* Keep at most `limit` entries in memory (counts stay exact). Default 10000. */
void tifa_diag_set_keep_limit(tifa_diag *diag, size_t limit);
void tifa_diag_add(tifa_diag *diag, tifa_severity severity, tifa_status code,
                   const char *file, long line, long long offset,
                   const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void tifa_diag_vadd(tifa_diag *diag, tifa_severity severity, tifa_status code,
                    const char *file, long line, long long offset,
                    const char *fmt, va_list ap);
size_t tifa_diag_count(const tifa_diag *diag, tifa_severity severity);
/* Kept entries, in arrival order (borrowed). */
size_t tifa_diag_size(const tifa_diag *diag);
const tifa_diag_entry *tifa_diag_get(const tifa_diag *diag, size_t i);

/* ---------------------------------------------------------------- buffer -- */

/* A growable byte string, always NUL-terminated when data != NULL.
 * Zero-initialise ({0}) to start; tifa_buf_free releases data. */
typedef struct tifa_buf {
    char *data;
    size_t len;
    size_t cap;
} tifa_buf;

tifa_status tifa_buf_reserve(tifa_buf *buf, size_t extra);
tifa_status tifa_buf_append(tifa_buf *buf, const void *bytes, size_t n);
tifa_status tifa_buf_puts(tifa_buf *buf, const char *s);
tifa_status tifa_buf_putc(tifa_buf *buf, char c);
tifa_status tifa_buf_printf(tifa_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tifa_buf_clear(tifa_buf *buf);
/* Hands data to the caller (free() it) and resets the buffer. */
char *tifa_buf_detach(tifa_buf *buf, size_t *len);
void tifa_buf_free(tifa_buf *buf);

/* strdup that tolerates NULL (returns NULL). Caller frees. */
char *tifa_strdup(const char *s);
char *tifa_strndup(const char *s, size_t n);

/* ---------------------------------------------------------------- strmap -- */

/* Interns byte strings and numbers them 0, 1, 2 ... in order of first
 * insertion.  Keys are copied into an arena owned by the map; ids are stable,
 * so callers keep parallel arrays of counts indexed by id.  Hashing: xxHash3. */
typedef struct tifa_strmap tifa_strmap;

tifa_strmap *tifa_strmap_new(void);
void tifa_strmap_free(tifa_strmap *map);
/* Returns the id of key (inserting it when absent; *is_new says which) or
 * UINT32_MAX when memory runs out. */
uint32_t tifa_strmap_intern(tifa_strmap *map, const char *key, size_t len,
                            bool *is_new);
/* Returns the id or UINT32_MAX when absent. */
uint32_t tifa_strmap_find(const tifa_strmap *map, const char *key, size_t len);
/* The key of id (NUL-terminated, borrowed); len may be NULL. */
const char *tifa_strmap_key(const tifa_strmap *map, uint32_t id, size_t *len);
size_t tifa_strmap_size(const tifa_strmap *map);

/* Compare two NUL-terminated UTF-8 strings in code-point order (which for
 * valid UTF-8 is byte order); for qsort tie-breaks. */
int tifa_utf8_cmp(const char *a, const char *b);
/* Length in bytes of the valid UTF-8 sequence that starts the NUL-terminated
 * string s, or 0 when it is invalid (or s is empty).  ICU's U8_NEXT rules. */
size_t tifa_utf8_seq(const char *s);
/* Whether s[0..n) is valid UTF-8 by the same rules (ICU's U8_NEXT). */
bool tifa_utf8_valid(const char *s, size_t n);

/* ------------------------------------------------------------ atomic file -- */

/* Output that appears under its final name only when complete: data goes to a
 * hidden temporary file in the same directory, tifa_afile_commit() flushes,
 * fsyncs and renames it; tifa_afile_abort() (or a crash) leaves the final name
 * untouched.  path "-" writes straight to stdout (commit just flushes). */
typedef struct tifa_afile tifa_afile;

tifa_afile *tifa_afile_open(const char *path, tifa_status *status);
FILE *tifa_afile_stream(tifa_afile *file);
tifa_status tifa_afile_commit(tifa_afile *file); /* frees file */
void tifa_afile_abort(tifa_afile *file);         /* frees file */

/* Write a whole file atomically. */
tifa_status tifa_write_file_atomic(const char *path, const void *data, size_t n);
/* Read a whole file into a new buffer (caller frees *data). */
tifa_status tifa_read_file(const char *path, char **data, size_t *len);

/* ------------------------------------------------------------------- CSV -- */

typedef struct tifa_csv_options {
    bool bom;             /* write a UTF-8 BOM (default true: Excel) */
    const char *encoding; /* NULL or "utf-8", or "gb18030" */
} tifa_csv_options;

#define TIFA_CSV_OPTIONS_DEFAULT { true, NULL }

/* An RFC 4180 writer: fields separated by ',', rows ended by CRLF, a field
 * quoted when it holds ',', '"', CR or LF (quotes doubled).  Output is atomic
 * (see tifa_afile).  Errors are sticky and reported by tifa_csv_close. */
typedef struct tifa_csv tifa_csv;

tifa_csv *tifa_csv_open(const char *path, const tifa_csv_options *options,
                        tifa_status *status);
void tifa_csv_str(tifa_csv *csv, const char *s);           /* NULL -> empty */
void tifa_csv_strn(tifa_csv *csv, const char *s, size_t n);
void tifa_csv_int(tifa_csv *csv, long long v);
/* Fixed precision; NaN and infinities are written as an empty field. */
void tifa_csv_real(tifa_csv *csv, double v, int precision);
/* Scientific notation with `digits` after the point ("1.9457e-33"), for
 * p-values, which fixed precision would round to 0; NaN/inf: empty. */
void tifa_csv_sci(tifa_csv *csv, double v, int digits);
void tifa_csv_row_end(tifa_csv *csv);
/* For code that formats rows itself (ngrams.csv formats blocks of rows on
 * several threads): tifa_csv_field_to writes s as one field, quoted as the
 * writer quotes it, at dst, which has room for 2 * n + 2 bytes, and returns
 * the bytes written; tifa_csv_rows writes n bytes of whole rows (UTF-8, each
 * ended by CRLF) after the rows before them, converted like any row.  Call
 * tifa_csv_rows between rows only (TIFA_EUSAGE at close otherwise). */
size_t tifa_csv_field_to(char *dst, const char *s, size_t n);
void tifa_csv_rows(tifa_csv *csv, const char *rows, size_t n);
/* Writes a whole header row from a NULL-terminated list. */
void tifa_csv_header(tifa_csv *csv, const char *const *names);
tifa_status tifa_csv_close(tifa_csv *csv); /* commit; frees csv */
void tifa_csv_abort(tifa_csv *csv);         /* discard; frees csv */

/* A reader for the same dialect (LF or CRLF rows, optional BOM, quoted fields
 * with embedded newlines).  Used by `tifa plot` and `tifa merge`. */
typedef struct tifa_csv_reader tifa_csv_reader;

tifa_csv_reader *tifa_csv_reader_open(const char *path, tifa_status *status);
/* Reads the next row: *fields points at n NUL-terminated strings, borrowed
 * until the next call.  Returns TIFA_OK, TIFA_EEMPTY at end of file, or
 * TIFA_EFORMAT (with *line set) for a malformed row. */
tifa_status tifa_csv_read_row(tifa_csv_reader *reader, char ***fields,
                              size_t *n);
long tifa_csv_reader_line(const tifa_csv_reader *reader);
void tifa_csv_reader_close(tifa_csv_reader *reader);

/* --------------------------------------------------------------- hashing -- */

/* Lowercase hex SHA-256 (65 bytes with NUL) of a file or a buffer (OpenSSL). */
tifa_status tifa_sha256_file(const char *path, char hex[65]);
void tifa_sha256_buf(const void *data, size_t n, char hex[65]);

#ifdef __cplusplus
}
#endif
#endif /* TIFA_COMMON_H */
