/*
 * records.h — internal interface of records.c (JSONL and CSV/TSV records),
 * used by loader.c.  See records.c for the field rules.
 */
#ifndef TIFA_CORPORA_RECORDS_H
#define TIFA_CORPORA_RECORDS_H

#include "corpora_internal.h"

#include <json-c/json.h>

/* One key/value of a record; value NULL means JSON null. Borrowed. */
typedef struct tifa_kv {
    const char *key;
    const char *value;
    size_t value_len;
} tifa_kv;

typedef struct tifa_record_ctx {
    const tifa_load_options *options;
    const char *path;
    tifa_diag *diag;
    tifa_normalizer *nz;
    const char *category_field; /* NULL: "category" */
    int *undated_notes;         /* counter to limit notes per file */
    json_tokener *tok;          /* reused JSON parser (JSONL only) */
    tifa_segmenter *seg;        /* counts the text on the way (NULL: no) */
} tifa_record_ctx;

/* Builds a document from key/values; *out NULL (and TIFA_OK) when the record
 * is skipped (reported). Caller frees *out with tifa_doc_free.  *counted
 * tells whether (*out)->chars and ->sentences already hold the text's
 * counts (tifa_normalizer_clean_i with ctx->seg). */
tifa_status tifa_record_build_i(const tifa_record_ctx *ctx, const tifa_kv *kv,
                                size_t n, long lineno, tifa_doc **out,
                                bool *counted);

/* Parses one JSONL line; bad lines are reported and give *out NULL.
 * *counted as for tifa_record_build_i. */
tifa_status tifa_record_jsonl_i(const tifa_record_ctx *ctx, const char *line,
                                size_t n, long lineno, tifa_doc **out,
                                bool *counted);

/* Splits one CSV record starting at buf[*pos].  On success *pos moves past
 * it, fields are NUL-terminated strings in scratch at offsets
 * (*starts)[0..*nfields) (the arrays grow as needed; caller frees *starts),
 * *lines counts the physical lines consumed.  *need_more is set (and *pos
 * unchanged) when the record runs past n and eof is false. */
tifa_status tifa_csv_split_i(const char *buf, size_t n, size_t *pos, bool eof,
                             char delim, tifa_buf *scratch, size_t **starts,
                             size_t *nfields, size_t *cap, bool *need_more,
                             long *lines);

#endif /* TIFA_CORPORA_RECORDS_H */
