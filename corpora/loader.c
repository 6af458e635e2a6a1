/*
 * loader.c — the tifa_loader: strings the stages together and streams
 * documents (corpora.h).
 *
 * For each queued input, in order: read the first chunk (1 MiB), skip empty
 * and binary (NUL byte) files, pick the charset (options.encoding or
 * detection), pick the format (options.format, else the extension, else a
 * look at the content), then either
 *   - stream records (JSONL, CSV, TSV): decode chunk by chunk and yield one
 *     document per record, so memory is bounded by the longest record; or
 *   - read the whole file (text, forum, separated), decode, normalise and
 *     split it into documents that wait in a small queue.
 * Every document is then finished here: corpus, optional title prefix, Han
 * character and sentence counts, group, duplicate marking, index.  Problems
 * go to the tifa_diag with file and line or byte offset; the loader then
 * continues with the next record or file.
 */
#define _POSIX_C_SOURCE 200809L
#include "corpora_internal.h"
#include "read.h"
#include "records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <unicode/utext.h>

#define CHUNK ((size_t)1 << 20)

typedef struct root_info {
    char *path;
    bool dir;
    size_t files;
    size_t docs;
} root_info;

typedef struct stream {
    bool active;
    size_t input;
    tifa_reader r;
    tifa_decoder *dec;
    tifa_format fmt;
    tifa_buf text;     /* decoded, not yet consumed from pos */
    size_t pos;
    long line;         /* lines consumed */
    bool final_pushed;
    bool skipping;     /* inside an over-long record */
    long skip_line;
    bool have_header;
    tifa_buf header;   /* NUL-separated names */
    size_t *hstarts;
    size_t nh;
    tifa_buf scratch;
    size_t *starts;
    size_t starts_cap;
} stream;

struct tifa_loader {
    tifa_load_options o;
    char *own[12];
    tifa_diag *diag;
    tifa_inputs in;
    root_info *roots;
    size_t nroots, roots_cap;
    bool roots_checked;
    size_t next_input;
    tifa_doc **q;
    size_t qhead, qn, qcap;
    stream s;
    tifa_normalizer *nz;
    tifa_boilerplate *bp;
    tifa_dedup *dd;
    tifa_segmenter *seg;
    URegularExpression *sep;
    UText *sep_ut;
    char **files;
    size_t nfiles, files_cap;
    tifa_load_summary sum;
    size_t total_bytes;
    size_t index;
    char *chunk;
    int undated_notes;
    json_tokener *tok;
};

/* ------------------------------------------------------------ set-up ----- */

static const char *keep(tifa_loader *l, int slot, const char *s)
{
    if (!s) return NULL;
    l->own[slot] = tifa_strdup(s);
    return l->own[slot];
}

tifa_loader *tifa_loader_new(const tifa_load_options *options, tifa_diag *diag,
                             tifa_status *status)
{
    tifa_status dummy;
    if (!status) status = &dummy;
    tifa_loader *l = calloc(1, sizeof *l);
    if (!l) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    if (options)
        l->o = *options;
    else
        tifa_load_options_init(&l->o);
    l->diag = diag;
    l->o.corpus = keep(l, 0, l->o.corpus ? l->o.corpus : "corpus");
    l->o.encoding = keep(l, 1, l->o.encoding);
    l->o.separator = keep(l, 2, l->o.separator);
    l->o.text_field = keep(l, 3, l->o.text_field);
    l->o.title_field = keep(l, 4, l->o.title_field);
    l->o.date_field = keep(l, 5, l->o.date_field);
    l->o.id_field = keep(l, 6, l->o.id_field);
    l->o.group_by = keep(l, 7, l->o.group_by);
    l->o.boilerplate = keep(l, 8, l->o.boilerplate);
    l->o.datadir = keep(l, 9, l->o.datadir);
    if (l->o.max_document == 0) l->o.max_document = (size_t)256 << 20;
    if (l->o.near_duplicate < 0 || l->o.near_duplicate > 1) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "near-duplicate threshold %g is outside 0..1",
                      l->o.near_duplicate);
        tifa_loader_free(l);
        *status = TIFA_EUSAGE;
        return NULL;
    }
    if (l->o.encoding && *l->o.encoding && strcmp(l->o.encoding, "auto") != 0 &&
        !tifa_charset_resolve_i(l->o.encoding)) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EUSAGE, NULL, 0, -1,
                      "unknown encoding '%s'", l->o.encoding);
        tifa_loader_free(l);
        *status = TIFA_EUSAGE;
        return NULL;
    }
    tifa_status st = TIFA_OK;
    l->chunk = malloc(CHUNK);
    l->nz = tifa_normalizer_new_i(l->o.simplified, &st);
    if (l->nz) l->seg = tifa_segmenter_new(&st);
    if (l->seg && !l->o.keep_duplicates) {
        l->dd = tifa_dedup_new_i(l->o.near_duplicate);
        if (!l->dd) st = TIFA_ENOMEM;
    }
    if (!l->chunk && st == TIFA_OK) st = TIFA_ENOMEM;
    if (st == TIFA_OK && l->o.separator) {
        UErrorCode err = U_ZERO_ERROR;
        UParseError pe;
        l->sep = tifa_regex_open_i(l->o.separator, -1, &pe, &err);
        if (U_FAILURE(err)) {
            l->sep = NULL;
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EPATTERN, NULL, 0, -1,
                          "invalid separator regex '%s' (%s at column %d)",
                          l->o.separator, u_errorName(err), (int)pe.offset);
            st = TIFA_EPATTERN;
        }
    }
    if (st != TIFA_OK) {
        tifa_loader_free(l);
        *status = st;
        return NULL;
    }
    *status = TIFA_OK;
    return l;
}

static void stream_close(tifa_loader *l)
{
    stream *s = &l->s;
    if (!s->active) return;
    tifa_reader_close_i(&s->r);
    tifa_decoder_free_i(s->dec);
    s->dec = NULL;
    s->active = false;
}

void tifa_loader_free(tifa_loader *l)
{
    if (!l) return;
    stream_close(l);
    tifa_buf_free(&l->s.text);
    tifa_buf_free(&l->s.header);
    tifa_buf_free(&l->s.scratch);
    free(l->s.hstarts);
    free(l->s.starts);
    for (size_t i = 0; i < l->qn; i++) tifa_doc_free(l->q[l->qhead + i]);
    free(l->q);
    tifa_inputs_free_i(&l->in);
    for (size_t i = 0; i < l->nroots; i++) free(l->roots[i].path);
    free(l->roots);
    for (size_t i = 0; i < l->nfiles; i++) free(l->files[i]);
    free(l->files);
    tifa_normalizer_free_i(l->nz);
    tifa_boilerplate_free_i(l->bp);
    tifa_dedup_free_i(l->dd);
    tifa_segmenter_free(l->seg);
    if (l->sep) uregex_close(l->sep);
    if (l->sep_ut) utext_close(l->sep_ut);
    if (l->tok) json_tokener_free(l->tok);
    for (size_t i = 0; i < sizeof l->own / sizeof l->own[0]; i++)
        free(l->own[i]);
    free(l->chunk);
    free(l);
}

static tifa_status add_root(tifa_loader *l, const char *path, bool dir)
{
    if (l->nroots == l->roots_cap) {
        size_t cap = l->roots_cap ? l->roots_cap * 2 : 8;
        root_info *v = realloc(l->roots, cap * sizeof *v);
        if (!v) return TIFA_ENOMEM;
        l->roots = v;
        l->roots_cap = cap;
    }
    root_info *r = &l->roots[l->nroots];
    memset(r, 0, sizeof *r);
    r->path = tifa_strdup(path);
    r->dir = dir;
    if (!r->path) return TIFA_ENOMEM;
    l->nroots++;
    return TIFA_OK;
}

tifa_status tifa_loader_add_path(tifa_loader *l, const char *path)
{
    if (!path) return TIFA_EUSAGE;
    size_t before = l->in.n, added = 0;
    tifa_status st = tifa_inputs_add_i(&l->in, path, (int)l->nroots, l->diag,
                                       &added);
    if (st == TIFA_ENOMEM) return st;
    struct stat sb;
    bool dir = (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) ||
               (strcmp(path, "-") != 0 && strpbrk(path, "*?[") && added > 0);
    if (st == TIFA_OK && added == 0) {
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EEMPTY, path, 0, -1,
                      "directory contains no usable file");
        st = TIFA_EEMPTY;
    }
    tifa_status s2 = add_root(l, path, dir);
    if (s2 != TIFA_OK) return s2;
    l->roots[l->nroots - 1].files = added;
    for (size_t i = before; i < l->in.n; i++) l->total_bytes += l->in.v[i].size;
    return st;
}

tifa_status tifa_loader_add_memory(tifa_loader *l, const char *name,
                                   const void *bytes, size_t n)
{
    tifa_status st = tifa_inputs_add_memory_i(&l->in, name, bytes, n,
                                              (int)l->nroots);
    if (st != TIFA_OK) return st;
    st = add_root(l, name ? name : "(memory)", false);
    if (st == TIFA_OK) l->roots[l->nroots - 1].files = 1;
    l->total_bytes += n;
    return st;
}

size_t tifa_loader_total_bytes(const tifa_loader *l) { return l->total_bytes; }

void tifa_loader_summary(const tifa_loader *l, tifa_load_summary *summary)
{
    *summary = l->sum;
}

size_t tifa_loader_file_count(const tifa_loader *l) { return l->nfiles; }

const char *tifa_loader_file(const tifa_loader *l, size_t i)
{
    return i < l->nfiles ? l->files[i] : NULL;
}

/* ------------------------------------------------------------ queue ------ */

static tifa_status enqueue(tifa_doc *doc, void *user)
{
    tifa_loader *l = user;
    if (l->qhead + l->qn == l->qcap) {
        if (l->qhead > 0) {
            memmove(l->q, l->q + l->qhead, l->qn * sizeof *l->q);
            l->qhead = 0;
        }
        if (l->qn == l->qcap) {
            size_t cap = l->qcap ? l->qcap * 2 : 16;
            tifa_doc **v = realloc(l->q, cap * sizeof *v);
            if (!v) {
                tifa_doc_free(doc);
                return TIFA_ENOMEM;
            }
            l->q = v;
            l->qcap = cap;
        }
    }
    l->q[l->qhead + l->qn++] = doc;
    return TIFA_OK;
}

/* ------------------------------------------------------------ finish ----- */

static char *group_of(const tifa_loader *l, const tifa_doc *doc)
{
    const char *g = l->o.group_by;
    if (!g || !*g) return NULL;
    if (strcmp(g, "year") == 0 || strcmp(g, "decade") == 0) {
        if (!doc->date || strlen(doc->date) < 4) return NULL;
        for (int k = 0; k < 4; k++)
            if (doc->date[k] < '0' || doc->date[k] > '9') return NULL;
        char buf[16];
        if (g[0] == 'y')
            snprintf(buf, sizeof buf, "%.4s", doc->date);
        else
            snprintf(buf, sizeof buf, "%.3s0s", doc->date);
        return tifa_strdup(buf);
    }
    if (strcmp(g, "category") == 0) return tifa_strdup(doc->category);
    if (strcmp(g, "author") == 0) return tifa_strdup(doc->author);
    if (strcmp(g, "kind") == 0) return tifa_strdup(tifa_doc_kind_name(doc->kind));
    if (strcmp(g, "date") == 0) return tifa_strdup(doc->date);
    if (strcmp(g, "title") == 0) return tifa_strdup(doc->title);
    if (strcmp(g, "source") == 0 || strcmp(g, "file") == 0) {
        /* The file part of the source. */
        const char *s = doc->source ? doc->source : "";
        const char *f = tifa_doc_field(doc, "file");
        if (f) return tifa_strdup(f);
        return tifa_strdup(s);
    }
    return tifa_strdup(tifa_doc_field(doc, g));
}

static tifa_status finish(tifa_loader *l, tifa_doc *doc)
{
    doc->corpus = tifa_strdup(l->o.corpus);
    if (!doc->corpus) return TIFA_ENOMEM;
    if (l->o.include_titles && doc->title && *doc->title) {
        tifa_buf b = {0};
        tifa_status st = tifa_buf_printf(&b, "%s\n%s", doc->title,
                                         doc->text ? doc->text : "");
        if (st != TIFA_OK) {
            tifa_buf_free(&b);
            return st;
        }
        free(doc->text);
        doc->text = tifa_buf_detach(&b, &doc->text_len);
    }
    if (!doc->text) {
        doc->text = tifa_strdup("");
        doc->text_len = 0;
        if (!doc->text) return TIFA_ENOMEM;
    }
    doc->chars = tifa_count_han(doc->text, doc->text_len);
    doc->sentences = tifa_count_sentences(l->seg, doc->text, doc->text_len);
    doc->group = group_of(l, doc);
    if (l->dd && doc->text_len > 0) {
        const char *first = NULL;
        double sim = 0;
        tifa_status st = tifa_dedup_add_i(l->dd, doc->doc_id, doc->text,
                                          doc->text_len, &first, &sim);
        if (st != TIFA_OK) return st;
        if (first) {
            doc->duplicate_of = tifa_strdup(first);
            if (!doc->duplicate_of) return TIFA_ENOMEM;
            doc->similarity = sim;
            l->sum.duplicates++;
        }
    }
    doc->index = l->index++;
    l->sum.documents++;
    if (doc->kind == TIFA_REPLY) l->sum.replies++;
    return TIFA_OK;
}

/* ---------------------------------------------------------- formats ------ */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    if (a < b) return false;
    for (size_t i = 0; i < b; i++) {
        char c = s[a - b + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != suffix[i]) return false;
    }
    return true;
}

static tifa_format format_by_name(const char *path)
{
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson") ||
        ends_with(path, ".json"))
        return TIFA_FORMAT_JSONL;
    if (ends_with(path, ".csv")) return TIFA_FORMAT_CSV;
    if (ends_with(path, ".tsv") || ends_with(path, ".tab"))
        return TIFA_FORMAT_TSV;
    return TIFA_FORMAT_AUTO;
}

static tifa_status emit_text_doc(tifa_loader *l, const char *path,
                                 const char *text, size_t n, size_t part,
                                 long from, long to)
{
    tifa_buf body = {0};
    tifa_status st = tifa_paragraphs_i(text, n, &body);
    if (st != TIFA_OK) {
        tifa_buf_free(&body);
        return st;
    }
    if (body.len == 0 && part > 0) {
        tifa_buf_free(&body);
        return TIFA_OK; /* an empty stretch between separators */
    }
    tifa_doc *doc = tifa_doc_alloc_i();
    if (!doc) {
        tifa_buf_free(&body);
        return TIFA_ENOMEM;
    }
    doc->kind = TIFA_DOC;
    doc->text = tifa_buf_detach(&body, &doc->text_len);
    tifa_buf id = {0}, src = {0};
    if (part == 0) {
        tifa_buf_puts(&id, path);
        tifa_buf_puts(&src, path);
    } else {
        tifa_buf_printf(&id, "%s#%zu", path, part);
        tifa_buf_printf(&src, "%s:%ld-%ld", path, from, to);
    }
    doc->doc_id = tifa_buf_detach(&id, NULL);
    doc->source = tifa_buf_detach(&src, NULL);
    if (!doc->doc_id || !doc->source || !doc->text) {
        tifa_doc_free(doc);
        return TIFA_ENOMEM;
    }
    return enqueue(doc, l);
}

static bool separator_line(tifa_loader *l, const char *s, size_t n)
{
    size_t tn;
    const char *t = tifa_trim_i(s, n, &tn);
    UErrorCode err = U_ZERO_ERROR;
    l->sep_ut = utext_openUTF8(l->sep_ut, t, (int64_t)tn, &err);
    uregex_setUText(l->sep, l->sep_ut, &err);
    UBool m = U_SUCCESS(err) ? uregex_matches(l->sep, -1, &err) : 0;
    return U_SUCCESS(err) && m;
}

static tifa_status split_separated(tifa_loader *l, const char *path,
                                   const char *text, size_t n)
{
    size_t i = 0, start = 0, part = 0;
    long line = 0, start_line = 1;
    tifa_status st = TIFA_OK;
    while (i <= n && st == TIFA_OK) {
        const char *nl = i < n ? memchr(text + i, '\n', n - i) : NULL;
        size_t end = nl ? (size_t)(nl - text) : n;
        line++;
        if (separator_line(l, text + i, end - i)) {
            size_t before = l->qn;
            st = emit_text_doc(l, path, text + start, i - start, part + 1,
                               start_line, line - 1);
            if (l->qn > before) part++;
            start = nl ? end + 1 : n;
            start_line = line + 1;
        }
        if (!nl) break;
        i = end + 1;
    }
    if (st == TIFA_OK && start < n)
        st = emit_text_doc(l, path, text + start, n - start, part + 1,
                           start_line, line);
    return st;
}

/* --------------------------------------------------------- whole files --- */

static void skip_file(tifa_loader *l) { l->sum.files_skipped++; }

static tifa_status load_whole(tifa_loader *l, const tifa_input *in,
                              tifa_reader *r, size_t got,
                              const char *charset, tifa_format fmt)
{
    tifa_status st;
    tifa_decoder *dec = tifa_decoder_new_i(charset, in->path, l->o.strict,
                                           l->diag, &st);
    if (!dec) return st == TIFA_ENOMEM ? st : TIFA_OK;
    tifa_buf utf8 = {0};
    size_t raw = got;
    bool too_big = false;
    st = tifa_decoder_push_i(dec, l->chunk, got, r->eof, &utf8);
    while (st == TIFA_OK && !r->eof && !r->error) {
        size_t k = tifa_reader_read_i(r, l->chunk, CHUNK);
        raw += k;
        if (raw > l->o.max_document) {
            too_big = true;
            break;
        }
        st = tifa_decoder_push_i(dec, l->chunk, k, r->eof || r->error, &utf8);
    }
    l->sum.bytes += raw;
    l->sum.replacement_chars += tifa_decoder_errors_i(dec);
    tifa_decoder_free_i(dec);
    if (too_big) {
        /* Count the rest of the bytes for the summary, then skip. */
        size_t k;
        while ((k = tifa_reader_read_i(r, l->chunk, CHUNK)) > 0) l->sum.bytes += k;
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_ELIMIT, in->path, 0, -1,
                      "file is larger than the document limit (%zu bytes); "
                      "skipped",
                      l->o.max_document);
        tifa_buf_free(&utf8);
        skip_file(l);
        return TIFA_OK;
    }
    if (r->error) {
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EIO, in->path, 0,
                      (long long)raw, "read error: %s", strerror(r->err_no));
        tifa_buf_free(&utf8);
        skip_file(l);
        return TIFA_OK;
    }
    if (st == TIFA_EENCODING) {
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EENCODING, in->path, 0, -1,
                      "undecodable bytes in strict mode; file skipped");
        tifa_buf_free(&utf8);
        skip_file(l);
        return TIFA_OK;
    }
    if (st != TIFA_OK) {
        tifa_buf_free(&utf8);
        return st == TIFA_ENOMEM ? st : TIFA_OK;
    }
    tifa_buf norm = {0};
    st = tifa_normalizer_run_i(l->nz, utf8.data ? utf8.data : "", utf8.len,
                               &norm);
    tifa_buf_free(&utf8);
    if (st != TIFA_OK) {
        tifa_buf_free(&norm);
        return st;
    }
    const char *text = norm.data ? norm.data : "";
    size_t n = norm.len;
    if (fmt == TIFA_FORMAT_AUTO) {
        if (tifa_forum_sniff_i(text, n)) fmt = TIFA_FORMAT_FORUM;
        else if (l->sep) fmt = TIFA_FORMAT_SEPARATED;
        else fmt = TIFA_FORMAT_TEXT;
    }
    size_t before = l->qn;
    if (fmt == TIFA_FORMAT_FORUM) {
        if (!l->bp) {
            l->bp = tifa_boilerplate_new_i(l->o.datadir, l->o.boilerplate,
                                           l->diag, &st);
            if (!l->bp) {
                tifa_buf_free(&norm);
                return st;
            }
        }
        tifa_forum_ctx ctx = {in->path, l->bp, l->diag, l->o.include_replies};
        st = tifa_forum_split_i(&ctx, text, n, enqueue, l);
    } else if (fmt == TIFA_FORMAT_SEPARATED) {
        if (!l->sep) {
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EUSAGE, in->path, 0, -1,
                          "format 'separated' needs a separator regex; read "
                          "as one document");
            st = emit_text_doc(l, in->path, text, n, 0, 0, 0);
        } else {
            st = split_separated(l, in->path, text, n);
        }
    } else {
        st = emit_text_doc(l, in->path, text, n, 0, 0, 0);
    }
    tifa_buf_free(&norm);
    if (st == TIFA_OK && l->qn == before) {
        tifa_diag_add(l->diag, TIFA_WARNING, TIFA_EEMPTY, in->path, 0, -1,
                      "no document in this file");
    }
    return st;
}

/* ------------------------------------------------------------ records ---- */

static tifa_status stream_fill(tifa_loader *l)
{
    stream *s = &l->s;
    const tifa_input *in = &l->in.v[s->input];
    if (s->pos > 0) {
        memmove(s->text.data, s->text.data + s->pos, s->text.len - s->pos);
        s->text.len -= s->pos;
        s->pos = 0;
        if (s->text.data) s->text.data[s->text.len] = '\0';
    }
    size_t k = tifa_reader_read_i(&s->r, l->chunk, CHUNK);
    l->sum.bytes += k;
    bool final = s->r.eof || s->r.error;
    if (s->r.error)
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EIO, in->path, s->line + 1,
                      s->r.offset, "read error: %s; rest of file skipped",
                      strerror(s->r.err_no));
    size_t before = s->text.len;
    tifa_status st = tifa_decoder_push_i(s->dec, l->chunk, k, final, &s->text);
    if (final) s->final_pushed = true;
    if (s->skipping) {
        /* Drop the rest of an over-long record up to its line end. */
        char *nl = memchr(s->text.data + before, '\n', s->text.len - before);
        if (nl) {
            size_t cut = (size_t)(nl - s->text.data) + 1;
            memmove(s->text.data, s->text.data + cut, s->text.len - cut);
            s->text.len -= cut;
            s->text.data[s->text.len] = '\0';
            s->skipping = false;
            s->line++;
        } else {
            s->text.len = 0;
        }
    } else if (s->text.len > l->o.max_document &&
               !memchr(s->text.data, '\n', s->text.len)) {
        tifa_diag_add(l->diag, TIFA_WARNING, TIFA_ELIMIT, in->path, s->line + 1,
                      -1,
                      "record longer than the document limit (%zu bytes); "
                      "skipped",
                      l->o.max_document);
        s->text.len = 0;
        s->skipping = true;
    }
    return st;
}

static tifa_status stream_next(tifa_loader *l, tifa_doc **out)
{
    stream *s = &l->s;
    const tifa_input *in = &l->in.v[s->input];
    if (!l->tok && !(l->tok = json_tokener_new())) return TIFA_ENOMEM;
    tifa_record_ctx ctx = {&l->o, in->path, l->diag, l->nz, NULL,
                           &l->undated_notes, l->tok};
    *out = NULL;
    for (;;) {
        const char *buf = s->text.data ? s->text.data : "";
        size_t n = s->text.len;
        if (s->fmt == TIFA_FORMAT_JSONL) {
            const char *nl = s->pos < n ? memchr(buf + s->pos, '\n', n - s->pos)
                                        : NULL;
            if (nl || (s->final_pushed && s->pos < n && !s->skipping)) {
                size_t end = nl ? (size_t)(nl - buf) : n;
                size_t start = s->pos;
                s->pos = nl ? end + 1 : n;
                s->line++;
                size_t tn;
                const char *t = tifa_trim_i(buf + start, end - start, &tn);
                if (tn == 0) continue;
                if (tn > l->o.max_document) {
                    tifa_diag_add(l->diag, TIFA_WARNING, TIFA_ELIMIT, in->path,
                                  s->line, -1,
                                  "record longer than the document limit; "
                                  "skipped");
                    continue;
                }
                tifa_status st = tifa_record_jsonl_i(&ctx, t, tn, s->line, out);
                if (st != TIFA_OK || *out) return st;
                continue;
            }
        } else if (s->pos < n || s->final_pushed) {
            bool need_more = false;
            size_t nf = 0;
            long lines = 0;
            size_t pos = s->pos;
            if (pos < n) {
                tifa_status st = tifa_csv_split_i(
                    buf, n, &pos, s->final_pushed,
                    s->fmt == TIFA_FORMAT_TSV ? '\t' : ',', &s->scratch,
                    &s->starts, &nf, &s->starts_cap, &need_more, &lines);
                if (st != TIFA_OK) return st;
            } else {
                need_more = true;
            }
            if (!need_more) {
                long first_line = s->line + 1;
                s->pos = pos;
                s->line += lines;
                if (nf == 1 && s->scratch.len <= 1) continue; /* blank line */
                if (!s->have_header) {
                    tifa_buf_clear(&s->header);
                    tifa_status st = tifa_buf_append(&s->header,
                                                     s->scratch.data,
                                                     s->scratch.len);
                    if (st != TIFA_OK) return st;
                    free(s->hstarts);
                    s->hstarts = malloc(nf * sizeof *s->hstarts);
                    if (!s->hstarts) return TIFA_ENOMEM;
                    memcpy(s->hstarts, s->starts, nf * sizeof *s->hstarts);
                    s->nh = nf;
                    s->have_header = true;
                    /* A BOM was already dropped by the decoder. */
                    continue;
                }
                if (nf != s->nh)
                    tifa_diag_add(l->diag, TIFA_WARNING, TIFA_EFORMAT,
                                  in->path, first_line, -1,
                                  "record has %zu fields, the header %zu",
                                  nf, s->nh);
                size_t m = nf < s->nh ? nf : s->nh;
                tifa_kv *kv = calloc(m ? m : 1, sizeof *kv);
                if (!kv) return TIFA_ENOMEM;
                for (size_t k = 0; k < m; k++) {
                    kv[k].key = s->header.data + s->hstarts[k];
                    kv[k].value = s->scratch.data + s->starts[k];
                    kv[k].value_len = strlen(kv[k].value);
                }
                tifa_status st = tifa_record_build_i(&ctx, kv, m, first_line,
                                                     out);
                free(kv);
                if (st != TIFA_OK || *out) return st;
                continue;
            }
        }
        if (s->final_pushed) return TIFA_OK; /* end of this input */
        tifa_status st = stream_fill(l);
        if (st == TIFA_EENCODING) {
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EENCODING, in->path,
                          s->line + 1, -1,
                          "undecodable bytes in strict mode; rest of file "
                          "skipped");
            s->final_pushed = true;
            s->text.len = s->pos = 0;
            return TIFA_OK;
        }
        if (st != TIFA_OK) return st;
    }
}

/* -------------------------------------------------------------- inputs --- */

static tifa_status note_file(tifa_loader *l, const char *path)
{
    if (l->nfiles == l->files_cap) {
        size_t cap = l->files_cap ? l->files_cap * 2 : 16;
        char **v = realloc(l->files, cap * sizeof *v);
        if (!v) return TIFA_ENOMEM;
        l->files = v;
        l->files_cap = cap;
    }
    if (!(l->files[l->nfiles] = tifa_strdup(path))) return TIFA_ENOMEM;
    l->nfiles++;
    return TIFA_OK;
}

static tifa_status open_input(tifa_loader *l, size_t idx)
{
    const tifa_input *in = &l->in.v[idx];
    tifa_status st = note_file(l, in->path);
    if (st != TIFA_OK) return st;
    l->sum.files++;
    tifa_reader r;
    st = tifa_reader_open_i(&r, in);
    if (st != TIFA_OK) {
        tifa_diag_add(l->diag, TIFA_ERROR, st, in->path, 0, -1,
                      "cannot open: %s; skipped", strerror(r.err_no));
        skip_file(l);
        return TIFA_OK;
    }
    size_t got = tifa_reader_read_i(&r, l->chunk, CHUNK);
    if (got == 0) {
        if (r.error)
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EIO, in->path, 0, 0,
                          "cannot read: %s; skipped", strerror(r.err_no));
        else
            tifa_diag_add(l->diag, TIFA_WARNING, TIFA_EEMPTY, in->path, 0, 0,
                          "empty file; skipped");
        tifa_reader_close_i(&r);
        skip_file(l);
        return TIFA_OK;
    }
    const char *charset;
    size_t bom = 0;
    if (l->o.encoding && *l->o.encoding && strcmp(l->o.encoding, "auto") != 0)
        charset = tifa_charset_resolve_i(l->o.encoding);
    else
        charset = tifa_detect_charset_i(l->chunk, got, r.eof, &bom);
    bool wide = strncmp(charset, "UTF-16", 6) == 0 ||
                strncmp(charset, "UTF-32", 6) == 0;
    const char *nul = wide ? NULL : memchr(l->chunk, 0, got);
    if (nul) {
        tifa_diag_add(l->diag, TIFA_WARNING, TIFA_EFORMAT, in->path, 0,
                      (long long)(nul - l->chunk),
                      "binary file (NUL byte at offset %lld); skipped",
                      (long long)(nul - l->chunk));
        l->sum.bytes += got;
        tifa_reader_close_i(&r);
        skip_file(l);
        return TIFA_OK;
    }
    tifa_format fmt = l->o.format;
    if (fmt == TIFA_FORMAT_AUTO) fmt = format_by_name(in->path);
    if (fmt == TIFA_FORMAT_AUTO && !wide) {
        size_t i = bom;
        while (i < got && (l->chunk[i] == ' ' || l->chunk[i] == '\n' ||
                           l->chunk[i] == '\r' || l->chunk[i] == '\t'))
            i++;
        if (i < got && l->chunk[i] == '{') fmt = TIFA_FORMAT_JSONL;
    }
    if (fmt == TIFA_FORMAT_JSONL || fmt == TIFA_FORMAT_CSV ||
        fmt == TIFA_FORMAT_TSV) {
        stream *s = &l->s;
        s->dec = tifa_decoder_new_i(charset, in->path, l->o.strict, l->diag,
                                    &st);
        if (!s->dec) {
            tifa_reader_close_i(&r);
            return st;
        }
        s->active = true;
        s->input = idx;
        s->r = r;
        s->r.path = in->path;
        s->fmt = fmt;
        tifa_buf_clear(&s->text);
        s->pos = 0;
        s->line = 0;
        s->final_pushed = false;
        s->skipping = false;
        s->have_header = false;
        l->sum.bytes += got;
        st = tifa_decoder_push_i(s->dec, l->chunk, got, r.eof, &s->text);
        if (r.eof) s->final_pushed = true;
        if (st == TIFA_EENCODING) {
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EENCODING, in->path, 0, -1,
                          "undecodable bytes in strict mode; file skipped");
            s->final_pushed = true;
            s->text.len = 0;
            skip_file(l);
            st = TIFA_OK;
        }
        return st;
    }
    st = load_whole(l, in, &r, got, charset, fmt);
    tifa_reader_close_i(&r);
    return st;
}

static void check_roots(tifa_loader *l)
{
    if (l->roots_checked) return;
    l->roots_checked = true;
    for (size_t i = 0; i < l->nroots; i++) {
        root_info *r = &l->roots[i];
        if (r->dir && r->files > 0 && r->docs == 0)
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EEMPTY, r->path, 0, -1,
                          "directory has no usable file (%zu file%s, none "
                          "gave a document)",
                          r->files, r->files == 1 ? "" : "s");
    }
}

static tifa_status deliver(tifa_loader *l, tifa_doc *d, int root,
                           tifa_doc **doc)
{
    tifa_status st = finish(l, d);
    if (st != TIFA_OK) {
        tifa_doc_free(d);
        return st;
    }
    if (root >= 0 && (size_t)root < l->nroots) l->roots[root].docs++;
    *doc = d;
    return TIFA_OK;
}

tifa_status tifa_loader_next(tifa_loader *l, tifa_doc **doc)
{
    *doc = NULL;
    for (;;) {
        if (l->qn > 0) {
            tifa_doc *d = l->q[l->qhead++];
            l->qn--;
            if (l->qn == 0) l->qhead = 0;
            return deliver(l, d, l->in.v[l->next_input - 1].root, doc);
        }
        if (l->s.active) {
            tifa_doc *d = NULL;
            tifa_status st = stream_next(l, &d);
            if (st != TIFA_OK) return st;
            if (d) return deliver(l, d, l->in.v[l->s.input].root, doc);
            l->sum.replacement_chars += tifa_decoder_errors_i(l->s.dec);
            stream_close(l);
            continue;
        }
        if (l->next_input >= l->in.n) {
            check_roots(l);
            return TIFA_OK;
        }
        tifa_status st = open_input(l, l->next_input++);
        if (st != TIFA_OK) return st;
    }
}
