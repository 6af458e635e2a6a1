/*
 * corpora.h — the loader: from whatever researchers collected to clean,
 * normalised, segmented documents with metadata (SPEC §2–3).
 *
 * A tifa_loader is given paths (files, directories, globs, "-") and streams
 * tifa_doc records one at a time, so memory is bounded by the largest document
 * plus small per-document signatures (for duplicate detection), never by the
 * corpus.  Decoding (ICU charset detection + strict validation), NFKC
 * normalisation, optional Traditional→Simplified, forum-dump splitting and
 * boilerplate stripping, JSONL/CSV record parsing and duplicate detection all
 * happen inside tifa_loader_next().  Problems with the input are reported to
 * the tifa_diag given at creation (file + line or byte offset) and the loader
 * carries on with the rest.
 *
 * Ownership follows tifa_common.h: tifa_doc values returned by
 * tifa_loader_next are owned by the caller and released with tifa_doc_free.
 */
#ifndef TIFA_CORPORA_H
#define TIFA_CORPORA_H

#include "tifa_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- documents -- */

typedef enum tifa_doc_kind {
    TIFA_DOC = 0,   /* a whole file or record */
    TIFA_POST,      /* first post of a forum thread */
    TIFA_REPLY      /* a later post of a forum thread */
} tifa_doc_kind;

const char *tifa_doc_kind_name(tifa_doc_kind kind); /* "doc", "post", "reply" */

typedef struct tifa_field {
    char *key;
    char *value;
} tifa_field;

/* One document.  All strings are UTF-8, NUL-terminated, owned by the doc;
 * unknown metadata is NULL (numbers: -1). */
typedef struct tifa_doc {
    size_t index;        /* 0-based position in the loader's output stream */
    char *doc_id;        /* stable id: record id field, or derived from source */
    char *corpus;        /* corpus name (from the loader options) */
    char *group;         /* group value (see group_by) or NULL */
    tifa_doc_kind kind;
    char *source;        /* "path", "path:line", "path@byte-range" */
    char *title;
    char *date;          /* ISO 8601, as precise as known */
    char *category;
    char *author;
    long views;          /* forum page metadata */
    long replies;
    char *text;          /* cleaned, NFKC-normalised text; paragraphs by '\n' */
    size_t text_len;     /* bytes */
    size_t chars;        /* Han characters in text (SPEC §4 text size) */
    size_t sentences;    /* ICU sentence count */
    char *duplicate_of;  /* doc_id of the first copy, or NULL */
    double similarity;   /* to duplicate_of (1.0 exact), 0 when unique */
    size_t n_fields;     /* any other fields a JSONL/CSV record carried */
    tifa_field *fields;
} tifa_doc;

void tifa_doc_free(tifa_doc *doc);
/* The value of an extra field, or NULL (borrowed). */
const char *tifa_doc_field(const tifa_doc *doc, const char *key);

/* --------------------------------------------------------------- options -- */

typedef enum tifa_format {
    TIFA_FORMAT_AUTO = 0,
    TIFA_FORMAT_TEXT,      /* one document per file */
    TIFA_FORMAT_FORUM,     /* Discuz!-style thread dumps, SPEC §3.1 */
    TIFA_FORMAT_SEPARATED, /* documents separated by lines matching a regex */
    TIFA_FORMAT_JSONL,
    TIFA_FORMAT_CSV,
    TIFA_FORMAT_TSV
} tifa_format;

const char *tifa_format_name(tifa_format format);
/* Parses "auto", "text", "forum", "separated", "jsonl", "csv", "tsv". */
tifa_status tifa_format_parse(const char *name, tifa_format *format);

typedef struct tifa_load_options {
    const char *corpus;          /* name given to every document */
    tifa_format format;
    const char *encoding;        /* NULL/"auto" or an ICU converter name */
    const char *separator;       /* ICU regex for TIFA_FORMAT_SEPARATED */
    const char *text_field;      /* JSONL/CSV: default tries text, content, message, body */
    const char *title_field;     /* default "title" */
    const char *date_field;      /* default tries date, year, time, msg_time, written_date, publish_date */
    const char *id_field;        /* default "id" */
    const char *group_by;        /* NULL, a field name, "year", "decade", "category", ... */
    const char *boilerplate;     /* path of an extra boilerplate list (NULL: shipped only) */
    const char *datadir;         /* where the shipped data files live */
    bool include_replies;        /* forum replies become TIFA_REPLY documents */
    bool include_titles;         /* prepend the title to the counted text */
    bool simplified;             /* Traditional -> Simplified (ICU Hant-Hans) */
    bool strict;                 /* undecodable bytes are errors, file skipped */
    bool keep_duplicates;        /* do not mark duplicates */
    double near_duplicate;       /* MinHash Jaccard threshold, default 0.9; 0 disables */
    size_t max_document;         /* bytes; larger documents are skipped (0: 256 MiB) */
} tifa_load_options;

/* Fills sensible defaults (format auto, encoding auto, near_duplicate 0.9). */
void tifa_load_options_init(tifa_load_options *options);

/* ---------------------------------------------------------------- loader -- */

typedef struct tifa_loader tifa_loader;

typedef struct tifa_load_summary {
    size_t files;        /* files read */
    size_t files_skipped;
    size_t bytes;        /* raw bytes read */
    size_t documents;    /* documents yielded (including duplicates, replies) */
    size_t duplicates;
    size_t replies;
    size_t replacement_chars; /* U+FFFD introduced by decoding */
} tifa_load_summary;

/* diag must outlive the loader. Returns NULL and sets *status on bad options
 * (e.g. an invalid separator regex). */
tifa_loader *tifa_loader_new(const tifa_load_options *options, tifa_diag *diag,
                             tifa_status *status);
void tifa_loader_free(tifa_loader *loader);

/* Queues a path: file, directory (recursive, sorted by name), glob or "-".
 * A missing path is reported to diag and returns TIFA_ENOENT; the loader
 * stays usable. */
tifa_status tifa_loader_add_path(tifa_loader *loader, const char *path);

/* Queues a copy of an in-memory buffer as if it were a file called name
 * (format by name, then content; encoding detected as for files).  For the
 * fuzzer, tests and callers that already hold the bytes. */
tifa_status tifa_loader_add_memory(tifa_loader *loader, const char *name,
                                   const void *bytes, size_t n);

/* Yields the next document in a deterministic order, or *doc = NULL at the
 * end.  Returns TIFA_OK (also at the end) or a fatal status (ENOMEM). */
tifa_status tifa_loader_next(tifa_loader *loader, tifa_doc **doc);

/* Total raw bytes of the queued inputs (for progress), known after add_path. */
size_t tifa_loader_total_bytes(const tifa_loader *loader);
void tifa_loader_summary(const tifa_loader *loader, tifa_load_summary *summary);
/* Every input file read so far, in order (for the manifest; borrowed). */
size_t tifa_loader_file_count(const tifa_loader *loader);
const char *tifa_loader_file(const tifa_loader *loader, size_t i);

/* ---------------------------------------------------------- decoding API -- */

/* Detects (when encoding is NULL or "auto") and converts bytes to UTF-8,
 * replacing undecodable bytes with U+FFFD and reporting each (file, byte
 * offset) to diag; CRLF and CR become LF.  *detected receives the charset
 * name (static string).  The result is owned by the caller. */
tifa_status tifa_decode(const char *bytes, size_t n, const char *encoding,
                        const char *file, bool strict, tifa_diag *diag,
                        char **utf8, size_t *utf8_len, const char **detected);

/* NFKC (and optionally Hant-Hans) normalisation of UTF-8 text. Caller frees. */
tifa_status tifa_normalize(const char *utf8, size_t n, bool simplified,
                           char **out, size_t *out_len);

/* ---------------------------------------------------------- segmentation -- */

/* Number of Han characters (\p{Script=Han}) in UTF-8 text. */
size_t tifa_count_han(const char *utf8, size_t n);

/* Calls fn for every maximal run of Han characters: start byte, byte length,
 * number of characters.  The fast path for character n-grams. */
typedef void (*tifa_run_fn)(const char *run, size_t bytes, size_t chars,
                            void *user);
void tifa_han_runs(const char *utf8, size_t n, tifa_run_fn fn, void *user);

/* Sentence and word iteration (ICU break iterators, locale zh).  A segmenter
 * is not thread-safe; make one per thread. */
typedef struct tifa_segmenter tifa_segmenter;
tifa_segmenter *tifa_segmenter_new(tifa_status *status);
void tifa_segmenter_free(tifa_segmenter *seg);
size_t tifa_count_sentences(tifa_segmenter *seg, const char *utf8, size_t n);
/* Calls fn for every sentence (byte span). */
typedef void (*tifa_span_fn)(const char *start, size_t bytes, void *user);
tifa_status tifa_sentences(tifa_segmenter *seg, const char *utf8, size_t n,
                           tifa_span_fn fn, void *user);
/* Calls fn for every word of one sentence; punctuation and white space are
 * reported as fn(NULL, 0, user) so callers can break n-grams there. */
tifa_status tifa_words(tifa_segmenter *seg, const char *utf8, size_t n,
                       tifa_span_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif /* TIFA_CORPORA_H */
