/*
 * doc.c — the tifa_doc record and the small enums of corpora.h: allocation,
 * extra fields, freeing, and the names of kinds and formats.
 *
 * A tifa_doc owns every string it points to; tifa_doc_free releases them
 * all.  tifa_doc_alloc_i (internal) returns a zeroed document whose numeric
 * metadata is -1 ("unknown"), as corpora.h promises.
 */
#include "corpora_internal.h"

#include <stdlib.h>
#include <string.h>

const char *tifa_doc_kind_name(tifa_doc_kind kind)
{
    switch (kind) {
    case TIFA_DOC: return "doc";
    case TIFA_POST: return "post";
    case TIFA_REPLY: return "reply";
    }
    return "doc";
}

tifa_doc *tifa_doc_alloc_i(void)
{
    tifa_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return NULL;
    doc->views = -1;
    doc->replies = -1;
    return doc;
}

tifa_status tifa_doc_add_field_i(tifa_doc *doc, const char *key,
                                 const char *value, size_t value_len)
{
    if (doc->n_fields % 8 == 0) {
        tifa_field *f = realloc(doc->fields,
                                (doc->n_fields + 8) * sizeof *f);
        if (!f) return TIFA_ENOMEM;
        doc->fields = f;
    }
    char *k = tifa_strdup(key);
    char *v = tifa_strndup(value ? value : "", value ? value_len : 0);
    if (!k || !v) {
        free(k);
        free(v);
        return TIFA_ENOMEM;
    }
    doc->fields[doc->n_fields].key = k;
    doc->fields[doc->n_fields].value = v;
    doc->n_fields++;
    return TIFA_OK;
}

void tifa_doc_free(tifa_doc *doc)
{
    if (!doc) return;
    free(doc->doc_id);
    free(doc->corpus);
    free(doc->group);
    free(doc->source);
    free(doc->title);
    free(doc->date);
    free(doc->category);
    free(doc->author);
    free(doc->text);
    free(doc->duplicate_of);
    for (size_t i = 0; i < doc->n_fields; i++) {
        free(doc->fields[i].key);
        free(doc->fields[i].value);
    }
    free(doc->fields);
    free(doc);
}

const char *tifa_doc_field(const tifa_doc *doc, const char *key)
{
    if (!doc || !key) return NULL;
    for (size_t i = 0; i < doc->n_fields; i++)
        if (strcmp(doc->fields[i].key, key) == 0) return doc->fields[i].value;
    return NULL;
}

static const char *const format_names[] = {"auto", "text",  "forum", "separated",
                                           "jsonl", "csv", "tsv"};

const char *tifa_format_name(tifa_format format)
{
    if ((unsigned)format < sizeof format_names / sizeof format_names[0])
        return format_names[format];
    return "auto";
}

tifa_status tifa_format_parse(const char *name, tifa_format *format)
{
    if (!name) return TIFA_EUSAGE;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *format = (tifa_format)i;
            return TIFA_OK;
        }
    }
    if (strcmp(name, "ndjson") == 0) {
        *format = TIFA_FORMAT_JSONL;
        return TIFA_OK;
    }
    return TIFA_EUSAGE;
}
