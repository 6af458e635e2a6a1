/*
 * loader.c — the tifa_loader: strings the stages together and streams
 * documents (corpora.h).
 *
 * For each queued input, in order: read the first chunk (1 MiB), skip empty
 * and binary (NUL byte) files, pick the charset (options.encoding or
 * detection), pick the format (options.format, else the extension, else a
 * look at the content), then stream it: decode chunk by chunk and
 *   - for records (JSONL, CSV, TSV) yield one document per record;
 *   - for text formats normalise complete lines and cut documents as soon
 *     as they are complete: a forum thread when the next thread's title is
 *     confirmed, a separated document at its separator, a plain-text file at
 *     its end; finished documents wait in a small queue.
 * So memory is bounded by the largest document plus one read.
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
    /* text formats (text, forum, separated) */
    bool records;      /* JSONL/CSV/TSV rather than a text format */
    bool decided;      /* AUTO resolved to text, forum or separated */
    bool done;         /* everything of this input handed over */
    size_t raw;        /* raw bytes read */
    size_t nl_checked; /* text[pos..nl_checked) is known to hold no '\n' */
    tifa_buf norm;     /* normalised complete lines; consumed up to norm_off */
    size_t norm_off;
    size_t norm_line;  /* file line (0-based) of norm's first line */
    tifa_forum_scan scan;
    bool have_start;   /* norm begins with a thread's title line */
    size_t threads;
    size_t parts;      /* separated: documents so far */
    size_t sep_scanned;
    size_t docs;       /* documents from this input */
} stream;

/* The unconsumed normalised text. */
#define NB(s) ((s)->norm.data + (s)->norm_off)
#define NL(s) ((s)->norm.len - (s)->norm_off)

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

/* The loader's own copy of option string s (NULL stays NULL); sets
 * *failed when the copy cannot be made. */
static const char *keep(tifa_loader *l, int slot, const char *s, bool *failed)
{
    if (!s) return NULL;
    l->own[slot] = tifa_strdup(s);
    if (!l->own[slot]) *failed = true;
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
    bool no_copy = false;
    l->o.corpus = keep(l, 0, l->o.corpus ? l->o.corpus : "corpus", &no_copy);
    l->o.encoding = keep(l, 1, l->o.encoding, &no_copy);
    l->o.separator = keep(l, 2, l->o.separator, &no_copy);
    l->o.text_field = keep(l, 3, l->o.text_field, &no_copy);
    l->o.title_field = keep(l, 4, l->o.title_field, &no_copy);
    l->o.date_field = keep(l, 5, l->o.date_field, &no_copy);
    l->o.id_field = keep(l, 6, l->o.id_field, &no_copy);
    l->o.group_by = keep(l, 7, l->o.group_by, &no_copy);
    l->o.boilerplate = keep(l, 8, l->o.boilerplate, &no_copy);
    l->o.datadir = keep(l, 9, l->o.datadir, &no_copy);
    if (no_copy) {
        tifa_loader_free(l);
        *status = TIFA_ENOMEM;
        return NULL;
    }
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
    tifa_buf_free(&l->s.norm);
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

/* The group of doc under --group-by (written into buf for year and
 * decade), or NULL when it has none. */
static const char *group_name(const tifa_loader *l, const tifa_doc *doc, char buf[16])
{
    const char *g = l->o.group_by;
    if (!g || !*g) return NULL;
    if (strcmp(g, "year") == 0 || strcmp(g, "decade") == 0) {
        if (!doc->date || strlen(doc->date) < 4) return NULL;
        for (int k = 0; k < 4; k++)
            if (doc->date[k] < '0' || doc->date[k] > '9') return NULL;
        if (g[0] == 'y')
            snprintf(buf, 16, "%.4s", doc->date);
        else
            snprintf(buf, 16, "%.3s0s", doc->date);
        return buf;
    }
    if (strcmp(g, "category") == 0) return doc->category;
    if (strcmp(g, "author") == 0) return doc->author;
    if (strcmp(g, "kind") == 0) return tifa_doc_kind_name(doc->kind);
    if (strcmp(g, "date") == 0) return doc->date;
    if (strcmp(g, "title") == 0) return doc->title;
    if (strcmp(g, "source") == 0 || strcmp(g, "file") == 0) {
        /* The file part of the source. */
        const char *f = tifa_doc_field(doc, "file");
        return f ? f : doc->source ? doc->source : "";
    }
    return tifa_doc_field(doc, g);
}

/* Sets doc->group; TIFA_ENOMEM when it has one that cannot be copied. */
static tifa_status set_group(const tifa_loader *l, tifa_doc *doc)
{
    char buf[16];
    const char *g = group_name(l, doc, buf);
    doc->group = g ? tifa_strdup(g) : NULL;
    return g && !doc->group ? TIFA_ENOMEM : TIFA_OK;
}

/* counted: doc->chars and ->sentences already hold the counts of
 * doc->text (records cleaned by tifa_normalizer_clean_i). */
static tifa_status finish(tifa_loader *l, tifa_doc *doc, bool counted)
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
        counted = false;
    }
    if (!doc->text) {
        doc->text = tifa_strdup("");
        doc->text_len = 0;
        if (!doc->text) return TIFA_ENOMEM;
    }
    tifa_status gst = set_group(l, doc);
    if (gst != TIFA_OK) return gst;
    const char *first = NULL;
    if (l->dd && doc->text_len > 0 &&
        tifa_dedup_exact_i(l->dd, doc->text, doc->text_len, &first,
                           &doc->chars, &doc->sentences)) {
        doc->duplicate_of = tifa_strdup(first);
        if (!doc->duplicate_of) return TIFA_ENOMEM;
        doc->similarity = 1.0;
        l->sum.duplicates++;
    } else if (!counted) {
        tifa_text_counts_i(l->seg, doc->text, doc->text_len, &doc->chars,
                           &doc->sentences);
    }
    if (l->dd && doc->text_len > 0 && !first) {
        double sim = 0;
        tifa_status st = tifa_dedup_add_i(l->dd, doc->doc_id, doc->text,
                                          doc->text_len, doc->chars,
                                          doc->sentences, &first, &sim);
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

static void skip_file(tifa_loader *l) { l->sum.files_skipped++; }

/* ----------------------------------------------------- text formats ------ */

/* Moves the complete lines of the decoded text (all of it at the end of the
 * input) through NFKC into s->norm.  '\n' is a normalisation boundary, so
 * line-wise normalisation equals whole-text normalisation. */
static tifa_status stream_normalise(tifa_loader *l)
{
    stream *s = &l->s;
    size_t n = s->text.len, end = s->pos;
    if (s->final_pushed) {
        end = n;
    } else {
        /* Only the bytes appended since the last look can hold a new line
         * end (a 100 MB line must not be rescanned for every read). */
        size_t low = s->nl_checked > s->pos ? s->nl_checked : s->pos;
        for (size_t k = n; k > low; k--)
            if (s->text.data[k - 1] == '\n') {
                end = k;
                break;
            }
        s->nl_checked = n;
    }
    if (end == s->pos) return TIFA_OK;
    if (s->norm_off > 0) { /* reclaim what the formats consumed */
        memmove(s->norm.data, NB(s), NL(s));
        s->norm.len -= s->norm_off;
        s->norm.data[s->norm.len] = '\0';
        s->norm_off = 0;
    }
    tifa_status st = tifa_normalizer_run_i(l->nz, s->text.data + s->pos,
                                           end - s->pos, &s->norm);
    s->pos = end;
    return st;
}

static bool all_normalised(const stream *s)
{
    return s->final_pushed && s->pos == s->text.len;
}

/* Consumes the first k bytes of the normalised text, keeping the line
 * count (the bytes are reclaimed by the next stream_normalise). */
static void drop_norm(stream *s, size_t k)
{
    const char *p = NB(s);
    for (size_t i = 0; i < k; i++)
        if (p[i] == '\n') s->norm_line++;
    s->norm_off += k;
}

static tifa_status forum_slice(tifa_loader *l, const tifa_input *in,
                               size_t n)
{
    stream *s = &l->s;
    tifa_status st;
    size_t threads = 0;
    tifa_forum_ctx ctx = {in->path,      l->bp,      l->diag,
                          l->o.include_replies,      s->norm_line,
                          s->threads,    &threads};
    st = tifa_forum_split_i(&ctx, NB(s), n, enqueue, l);
    s->threads += threads;
    return st;
}

/* Resolves AUTO to forum, separated or text from the first normalised
 * text (the first MiB of the input). */
static tifa_status text_decide(tifa_loader *l)
{
    stream *s = &l->s;
    const tifa_input *in = &l->in.v[s->input];
    tifa_status st = TIFA_OK;
    if (!s->norm.data && (st = tifa_buf_append(&s->norm, "", 0)) != TIFA_OK)
        return st;
    s->decided = true;
    if (s->fmt == TIFA_FORMAT_AUTO) {
        if (tifa_forum_sniff_i(NB(s), NL(s)))
            s->fmt = TIFA_FORMAT_FORUM;
        else if (l->sep)
            s->fmt = TIFA_FORMAT_SEPARATED;
        else
            s->fmt = TIFA_FORMAT_TEXT;
    }
    if (s->fmt == TIFA_FORMAT_FORUM && !l->bp) {
        l->bp = tifa_boilerplate_new_i(l->o.datadir, l->o.boilerplate,
                                       l->diag, &st);
        if (!l->bp) return st;
    }
    if (s->fmt == TIFA_FORMAT_SEPARATED && !l->sep) {
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EUSAGE, in->path, 0, -1,
                      "format 'separated' needs a separator regex; read "
                      "as one document");
        s->fmt = TIFA_FORMAT_TEXT;
    }
    return TIFA_OK;
}

/* Processes what s->norm holds; sets s->done at the end of the input. */
static tifa_status text_step(tifa_loader *l)
{
    stream *s = &l->s;
    const tifa_input *in = &l->in.v[s->input];
    bool final = all_normalised(s);
    tifa_status st = TIFA_OK;
    if (!s->norm.data && (st = tifa_buf_append(&s->norm, "", 0)) != TIFA_OK)
        return st;
    if (!s->decided && (st = text_decide(l)) != TIFA_OK) return st;
    size_t before = l->qn;
    if (s->fmt == TIFA_FORMAT_FORUM) {
        for (;;) {
            size_t start;
            bool found;
            tifa_forum_ctx ctx = {in->path, l->bp, l->diag, false, 0, 0, NULL};
            st = tifa_forum_scan_i(&ctx, &s->scan, NB(s), NL(s), final,
                                   &start, &found);
            if (st != TIFA_OK || !found) break;
            if (s->have_start) st = forum_slice(l, in, start);
            if (st != TIFA_OK) break;
            /* Lines before the first title belong to no thread. */
            drop_norm(s, start);
            s->scan.scanned -= start;
            s->scan.prev_a = s->scan.prev_a >= start ? s->scan.prev_a - start : 0;
            s->scan.prev_b = s->scan.prev_b >= start ? s->scan.prev_b - start : 0;
            s->have_start = true;
        }
        if (st == TIFA_OK && final) {
            st = forum_slice(l, in, NL(s));
            s->done = true;
        } else if (st == TIFA_OK && NL(s) > l->o.max_document) {
            tifa_diag_add(l->diag, TIFA_WARNING, TIFA_ELIMIT, in->path,
                          (long)s->norm_line + 1, -1,
                          "forum thread longer than the document limit (%zu "
                          "bytes); skipped",
                          l->o.max_document);
            drop_norm(s, s->scan.scanned);
            s->scan.scanned = s->scan.prev_a = s->scan.prev_b = 0;
            s->have_start = false;
        }
    } else if (s->fmt == TIFA_FORMAT_SEPARATED) {
        size_t i = s->sep_scanned;
        const char *t = NB(s);
        size_t n = NL(s);
        for (;;) {
            const char *nl = i < n ? memchr(t + i, '\n', n - i) : NULL;
            if (!nl && !(final && i < n)) break;
            size_t end = nl ? (size_t)(nl - t) : n;
            if (separator_line(l, t + i, end - i)) {
                long first = (long)s->norm_line + 1;
                long lines = 0;
                for (size_t k = 0; k < i; k++) lines += t[k] == '\n';
                size_t q = l->qn;
                st = emit_text_doc(l, in->path, t, i, s->parts + 1, first,
                                   first + lines - 1);
                if (st != TIFA_OK) break;
                if (l->qn > q) s->parts++;
                size_t cut = nl ? end + 1 : n;
                drop_norm(s, cut);
                t = NB(s);
                n = NL(s);
                i = 0;
                continue;
            }
            i = nl ? end + 1 : n;
        }
        s->sep_scanned = i;
        if (st == TIFA_OK && final) {
            if (NL(s) > 0) {
                const char *r = NB(s);
                long first = (long)s->norm_line + 1, lines = 0;
                for (size_t k = 0; k < NL(s); k++) lines += r[k] == '\n';
                if (r[NL(s) - 1] != '\n') lines++;
                st = emit_text_doc(l, in->path, r, NL(s), s->parts + 1, first,
                                   first + lines - 1);
            }
            s->done = true;
        } else if (st == TIFA_OK && NL(s) > l->o.max_document) {
            tifa_diag_add(l->diag, TIFA_WARNING, TIFA_ELIMIT, in->path,
                          (long)s->norm_line + 1, -1,
                          "document longer than the document limit (%zu "
                          "bytes); skipped",
                          l->o.max_document);
            drop_norm(s, s->sep_scanned);
            s->sep_scanned = 0;
        }
    } else if (final) {
        st = emit_text_doc(l, in->path, NB(s), NL(s), 0, 0, 0);
        s->done = true;
    }
    s->docs += l->qn - before;
    if (st == TIFA_OK && s->done && s->docs == 0)
        tifa_diag_add(l->diag, TIFA_WARNING, TIFA_EEMPTY, in->path, 0, -1,
                      "no document in this file");
    return st;
}

/* ------------------------------------------------------------ records ---- */

static tifa_status stream_fill(tifa_loader *l)
{
    stream *s = &l->s;
    const tifa_input *in = &l->in.v[s->input];
    if (s->pos > 0) {
        s->nl_checked = s->nl_checked > s->pos ? s->nl_checked - s->pos : 0;
        memmove(s->text.data, s->text.data + s->pos, s->text.len - s->pos);
        s->text.len -= s->pos;
        s->pos = 0;
        if (s->text.data) s->text.data[s->text.len] = '\0';
    }
    size_t k = tifa_reader_read_i(&s->r, l->chunk, CHUNK);
    l->sum.bytes += k;
    s->raw += k;
    bool final = s->r.eof || s->r.error;
    if (s->r.error)
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EIO, in->path, s->line + 1,
                      s->r.offset, "read error: %s; rest of file skipped",
                      strerror(s->r.err_no));
    size_t before = s->text.len;
    tifa_status st = tifa_decoder_push_i(s->dec, l->chunk, k, final, &s->text);
    if (final) s->final_pushed = true;
    if (!s->records) return st;
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

/* Text formats: docs go through the queue; *out stays NULL at the end. */
static tifa_status text_next(tifa_loader *l, tifa_doc **out)
{
    stream *s = &l->s;
    const tifa_input *in = &l->in.v[s->input];
    *out = NULL;
    for (;;) {
        if (l->qn > 0) {
            *out = l->q[l->qhead++];
            if (--l->qn == 0) l->qhead = 0;
            return TIFA_OK;
        }
        if (s->done) return TIFA_OK;
        if (!s->decided) {
            tifa_status st = text_decide(l);
            if (st != TIFA_OK) return st;
        }
        if (s->fmt == TIFA_FORMAT_TEXT && s->raw > l->o.max_document) {
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_ELIMIT, in->path, 0, -1,
                          "file is larger than the document limit (%zu "
                          "bytes); skipped",
                          l->o.max_document);
            size_t k;
            while ((k = tifa_reader_read_i(&s->r, l->chunk, CHUNK)) > 0)
                l->sum.bytes += k;
            skip_file(l);
            s->done = true;
            continue;
        }
        tifa_status st = text_step(l);
        if (st != TIFA_OK) return st;
        if (l->qn > 0 || s->done) continue;
        st = stream_fill(l);
        if (st == TIFA_EENCODING) {
            tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EENCODING, in->path, 0, -1,
                          "undecodable bytes in strict mode; %s skipped",
                          s->docs ? "rest of file" : "file");
            if (!s->docs) skip_file(l);
            s->done = true;
            continue;
        }
        if (st == TIFA_OK && s->r.error) {
            if (!s->docs) skip_file(l);
            s->done = true;
            continue;
        }
        if (st == TIFA_OK) st = stream_normalise(l);
        if (st != TIFA_OK) return st;
    }
}

/* *counted: the document's counts are made (see finish). */
static tifa_status stream_next(tifa_loader *l, tifa_doc **out, bool *counted)
{
    stream *s = &l->s;
    *counted = false;
    if (!s->records) return text_next(l, out);
    const tifa_input *in = &l->in.v[s->input];
    if (!l->tok && !(l->tok = json_tokener_new())) return TIFA_ENOMEM;
    tifa_record_ctx ctx = {&l->o, in->path, l->diag, l->nz, NULL,
                           &l->undated_notes, l->tok, l->seg};
    *out = NULL;
    for (;;) {
        const char *buf = s->text.data ? s->text.data : "";
        size_t n = s->text.len;
        if (s->fmt == TIFA_FORMAT_JSONL) {
            size_t from = s->nl_checked > s->pos ? s->nl_checked : s->pos;
            const char *nl = from < n ? memchr(buf + from, '\n', n - from)
                                      : NULL;
            if (!nl) s->nl_checked = n; /* a long line: do not rescan */
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
                tifa_status st = tifa_record_jsonl_i(&ctx, t, tn, s->line, out,
                                                     counted);
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
                                                     out, counted);
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
    stream *s = &l->s;
    s->dec = tifa_decoder_new_i(charset, in->path, l->o.strict, l->diag, &st);
    if (!s->dec) {
        tifa_reader_close_i(&r);
        if (st == TIFA_ENOMEM) return st;
        tifa_diag_add(l->diag, TIFA_ERROR, st, in->path, 0, -1,
                      "cannot open a converter for %s; skipped", charset);
        skip_file(l);
        return TIFA_OK;
    }
    s->active = true;
    s->input = idx;
    s->r = r;
    s->r.path = in->path;
    s->fmt = fmt;
    s->records = fmt == TIFA_FORMAT_JSONL || fmt == TIFA_FORMAT_CSV ||
                 fmt == TIFA_FORMAT_TSV;
    tifa_buf_clear(&s->text);
    tifa_buf_clear(&s->norm);
    s->pos = 0;
    s->line = 0;
    s->final_pushed = false;
    s->skipping = false;
    s->have_header = false;
    s->decided = s->done = s->have_start = false;
    s->raw = got;
    s->norm_line = 0;
    s->norm_off = 0;
    s->nl_checked = 0;
    memset(&s->scan, 0, sizeof s->scan);
    s->threads = s->parts = s->sep_scanned = s->docs = 0;
    l->sum.bytes += got;
    st = tifa_decoder_push_i(s->dec, l->chunk, got, r.eof, &s->text);
    if (r.eof) s->final_pushed = true;
    if (st == TIFA_EENCODING) {
        tifa_diag_add(l->diag, TIFA_ERROR, TIFA_EENCODING, in->path, 0, -1,
                      "undecodable bytes in strict mode; file skipped");
        s->final_pushed = true;
        s->done = true;
        s->text.len = 0;
        skip_file(l);
        return TIFA_OK;
    }
    if (st == TIFA_OK && !s->records) st = stream_normalise(l);
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
                           bool counted, tifa_doc **doc)
{
    tifa_status st = finish(l, d, counted);
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
            return deliver(l, d, l->in.v[l->next_input - 1].root, false,
                           doc);
        }
        if (l->s.active) {
            tifa_doc *d = NULL;
            bool counted = false;
            tifa_status st = stream_next(l, &d, &counted);
            if (st != TIFA_OK) return st;
            if (d)
                return deliver(l, d, l->in.v[l->s.input].root, counted, doc);
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
