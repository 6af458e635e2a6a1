/*
 * records.c — loader stage 3 for record formats: JSONL (one JSON object per
 * line, parsed with json-c) and CSV/TSV (RFC 4180 with a header row).
 *
 * JSON is parsed with json-c, not jansson: on the 100 MB benchmark corpus
 * jansson parses about 32 MB/s, json-c about 500 MB/s (docs/loader.md),
 * and the pipeline's target is 80 MB/s for everything.
 *
 * Both formats reduce a record to a list of key/value strings and share one
 * builder: the text field (options.text_field, else the first of text,
 * content, message, body), the title (title_field, default title), the date
 * (date_field, else the first of date, year, time, msg_time, written_date,
 * publish_date, made ISO 8601 by tifa_date_iso_i) and the id (id_field,
 * default id; else "path:line").  Every other non-null value is kept as an
 * extra field.  A record that is not valid JSON, not an object, or lacks
 * the text field is reported with file and line and skipped.
 *
 * The CSV splitter works on decoded UTF-8 text that the loader streams in;
 * it reports "need more" when a quoted field runs past the data it has, so
 * records may span lines and reads.
 */
#define _POSIX_C_SOURCE 200809L
#include "records.h"

#include <stdlib.h>
#include <string.h>

#include <limits.h>

static const char *const default_text[] = {"text", "content", "message",
                                           "body", NULL};
static const char *const default_date[] = {"date", "year", "time",
                                           "msg_time", "written_date",
                                           "publish_date", NULL};

static long find_key(const tifa_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].value && strcmp(kv[i].key, key) == 0) return (long)i;
    return -1;
}

static long find_first(const tifa_kv *kv, size_t n, const char *given,
                       const char *const *defaults)
{
    if (given) return find_key(kv, n, given);
    for (size_t k = 0; defaults[k]; k++) {
        long i = find_key(kv, n, defaults[k]);
        if (i >= 0) return i;
    }
    return -1;
}

static char *norm_meta(tifa_normalizer *nz, const char *s, size_t n)
{
    tifa_buf b = {0};
    size_t tn;
    const char *t = tifa_trim_i(s, n, &tn);
    if (tifa_normalizer_run_i(nz, t, tn, &b) != TIFA_OK) {
        tifa_buf_free(&b);
        return NULL;
    }
    if (!b.data && tifa_buf_append(&b, "", 0) != TIFA_OK) return NULL;
    return tifa_buf_detach(&b, NULL);
}

tifa_status tifa_record_build_i(const tifa_record_ctx *ctx, const tifa_kv *kv,
                                size_t n, long lineno, tifa_doc **out,
                                bool *counted)
{
    const tifa_load_options *o = ctx->options;
    *out = NULL;
    *counted = false;
    long ti = find_first(kv, n, o->text_field, default_text);
    if (ti < 0) {
        tifa_diag_add(ctx->diag, TIFA_WARNING, TIFA_EFORMAT, ctx->path, lineno,
                      -1,
                      "record has no text field (%s%s); skipped",
                      o->text_field ? "looked for " : "tried text, content, "
                                                      "message, body",
                      o->text_field ? o->text_field : "");
        return TIFA_OK;
    }
    tifa_doc *doc = tifa_doc_alloc_i();
    if (!doc) return TIFA_ENOMEM;
    doc->kind = TIFA_DOC;
    /* NFKC, paragraphs and (with ctx->seg) the counts in one pass. */
    tifa_buf text = {0};
    tifa_status st = tifa_normalizer_clean_i(
        ctx->nz, ctx->seg, kv[ti].value, kv[ti].value_len, &text,
        &doc->chars, &doc->sentences, counted);
    if (st == TIFA_OK) doc->text = tifa_buf_detach(&text, &doc->text_len);
    tifa_buf_free(&text);
    long ii = find_key(kv, n, o->title_field ? o->title_field : "title");
    if (ii >= 0 && st == TIFA_OK) {
        doc->title = norm_meta(ctx->nz, kv[ii].value, kv[ii].value_len);
        if (!doc->title) st = TIFA_ENOMEM;
    }
    long di = find_first(kv, n, o->date_field, default_date);
    if (di >= 0 && st == TIFA_OK) {
        char iso[TIFA_DATE_ISO_MAX];
        if (tifa_date_iso_i(kv[di].value, kv[di].value_len, iso)) {
            if (!(doc->date = tifa_strdup(iso))) st = TIFA_ENOMEM;
        } else if (kv[di].value_len > 0 && ctx->undated_notes &&
            *ctx->undated_notes < 5) {
            (*ctx->undated_notes)++;
            tifa_diag_add(ctx->diag, TIFA_NOTE, TIFA_EFORMAT, ctx->path,
                          lineno, -1,
                          "date field '%s' value '%.40s' is not a date I know; "
                          "document left undated",
                          kv[di].key, kv[di].value);
        }
    }
    long idi = find_key(kv, n, o->id_field ? o->id_field : "id");
    tifa_buf id = {0};
    if (st == TIFA_OK) {
        if (idi >= 0 && kv[idi].value_len > 0)
            st = tifa_buf_append(&id, kv[idi].value, kv[idi].value_len);
        else
            st = tifa_buf_printf(&id, "%s:%ld", ctx->path, lineno);
    }
    if (st == TIFA_OK) doc->doc_id = tifa_buf_detach(&id, NULL);
    tifa_buf_free(&id);
    tifa_buf src = {0};
    if (st == TIFA_OK) st = tifa_buf_printf(&src, "%s:%ld", ctx->path, lineno);
    if (st == TIFA_OK) doc->source = tifa_buf_detach(&src, NULL);
    tifa_buf_free(&src);
    for (size_t k = 0; k < n && st == TIFA_OK; k++) {
        if ((long)k == ti || !kv[k].value) continue;
        if (ctx->category_field && strcmp(kv[k].key, ctx->category_field) == 0)
            doc->category = norm_meta(ctx->nz, kv[k].value, kv[k].value_len);
        if (strcmp(kv[k].key, "author") == 0 && !doc->author)
            doc->author = norm_meta(ctx->nz, kv[k].value, kv[k].value_len);
        if (strcmp(kv[k].key, "category") == 0 && !doc->category)
            doc->category = norm_meta(ctx->nz, kv[k].value, kv[k].value_len);
        st = tifa_doc_add_field_i(doc, kv[k].key, kv[k].value,
                                  kv[k].value_len);
    }
    if (st == TIFA_OK && (!doc->text || !doc->doc_id || !doc->source))
        st = TIFA_ENOMEM;
    if (st != TIFA_OK) {
        tifa_doc_free(doc);
        return st;
    }
    *out = doc;
    return TIFA_OK;
}

/* ------------------------------------------------------------- JSONL ----- */

tifa_status tifa_record_jsonl_i(const tifa_record_ctx *ctx, const char *line,
                                size_t n, long lineno, tifa_doc **out,
                                bool *counted)
{
    *out = NULL;
    *counted = false;
    if (n > (size_t)INT_MAX) {
        tifa_diag_add(ctx->diag, TIFA_WARNING, TIFA_ELIMIT, ctx->path, lineno,
                      -1, "JSON line longer than 2 GiB; skipped");
        return TIFA_OK;
    }
    json_tokener *tok = ctx->tok;
    json_tokener_reset(tok);
    json_object *root = json_tokener_parse_ex(tok, line, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!root || jerr != json_tokener_success || end < n) {
        const char *why = !root && jerr == json_tokener_continue
                              ? "unexpected end of line"
                          : root ? "text after the JSON value"
                                 : json_tokener_error_desc(jerr);
        tifa_diag_add(ctx->diag, TIFA_WARNING, TIFA_EFORMAT, ctx->path, lineno,
                      -1, "invalid JSON (column %zu: %s); line skipped",
                      end + 1, why);
        if (root) json_object_put(root);
        return TIFA_OK;
    }
    if (!json_object_is_type(root, json_type_object)) {
        tifa_diag_add(ctx->diag, TIFA_WARNING, TIFA_EFORMAT, ctx->path, lineno,
                      -1, "JSON line is not an object; skipped");
        json_object_put(root);
        return TIFA_OK;
    }
    size_t cap = (size_t)json_object_object_length(root);
    tifa_kv *kv = calloc(cap ? cap : 1, sizeof *kv);
    if (!kv) {
        json_object_put(root);
        return TIFA_ENOMEM;
    }
    size_t k = 0;
    json_object_object_foreach(root, key, value)
    {
        if (k >= cap) break;
        kv[k].key = key;
        switch (json_object_get_type(value)) {
        case json_type_null:
            kv[k].value = NULL;
            break;
        case json_type_string: {
            const char *sv = json_object_get_string(value);
            size_t sl = (size_t)json_object_get_string_len(value);
            kv[k].value = sv;
            kv[k].value_len = strnlen(sv, sl); /* stop at an escaped NUL */
            break;
        }
        default:
            /* Numbers, booleans, arrays, objects: their JSON text, owned by
             * the value and freed with root. */
            kv[k].value =
                json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
            kv[k].value_len = kv[k].value ? strlen(kv[k].value) : 0;
            break;
        }
        k++;
    }
    tifa_status st = tifa_record_build_i(ctx, kv, k, lineno, out, counted);
    free(kv);
    json_object_put(root);
    return st;
}

/* --------------------------------------------------------------- CSV ----- */

tifa_status tifa_csv_split_i(const char *buf, size_t n, size_t *pos, bool eof,
                             char delim, tifa_buf *scratch, size_t **starts,
                             size_t *nfields, size_t *cap, bool *need_more,
                             long *lines)
{
    /* Fields are written NUL-separated into scratch; starts[] index it. */
    size_t i = *pos;
    *need_more = false;
    *nfields = 0;
    *lines = 0;
    tifa_buf_clear(scratch);
    for (;;) {
        if (*nfields == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            size_t *s = realloc(*starts, c * sizeof *s);
            if (!s) return TIFA_ENOMEM;
            *starts = s;
            *cap = c;
        }
        (*starts)[(*nfields)++] = scratch->len;
        tifa_status st;
        if (i < n && buf[i] == '"') {
            i++;
            for (;;) {
                const char *q = i < n ? memchr(buf + i, '"', n - i) : NULL;
                if (!q) {
                    if (!eof) {
                        *need_more = true;
                        return TIFA_OK;
                    }
                    st = tifa_buf_append(scratch, buf + i, n - i);
                    if (st != TIFA_OK) return st;
                    i = n;
                    break;
                }
                for (const char *p = buf + i; p < q; p++)
                    if (*p == '\n') (*lines)++;
                st = tifa_buf_append(scratch, buf + i, (size_t)(q - buf) - i);
                if (st != TIFA_OK) return st;
                i = (size_t)(q - buf) + 1;
                if (i < n && buf[i] == '"') {
                    st = tifa_buf_putc(scratch, '"');
                    if (st != TIFA_OK) return st;
                    i++;
                    continue;
                }
                if (i >= n && !eof) {
                    *need_more = true;
                    return TIFA_OK;
                }
                break;
            }
            /* Anything up to the delimiter after the closing quote. */
            while (i < n && buf[i] != delim && buf[i] != '\n') {
                st = tifa_buf_putc(scratch, buf[i]);
                if (st != TIFA_OK) return st;
                i++;
            }
        } else {
            size_t j = i;
            while (j < n && buf[j] != delim && buf[j] != '\n') j++;
            if (j >= n && !eof) {
                *need_more = true;
                return TIFA_OK;
            }
            st = tifa_buf_append(scratch, buf + i, j - i);
            if (st != TIFA_OK) return st;
            i = j;
        }
        st = tifa_buf_putc(scratch, '\0');
        if (st != TIFA_OK) return st;
        if (i < n && buf[i] == delim) {
            i++;
            continue;
        }
        if (i < n && buf[i] == '\n') i++;
        (*lines)++;
        break;
    }
    *pos = i;
    return TIFA_OK;
}
