/*
 * corpora_internal.h — declarations shared by the loader's stage files and
 * not part of the public contract (corpora.h).
 *
 * The loader is a chain of stages, one source file each:
 *   read.c       path queue (files, directories, globs, "-", memory) and a
 *                chunked byte reader;
 *   decode.c     charset detection (ICU ucsdet + strict validation) and a
 *                streaming decoder to UTF-8 with LF line ends;
 *   forum.c      Discuz!-style thread dumps -> post / reply documents;
 *   records.c    JSONL (json-c) and CSV/TSV records -> documents;
 *   clean.c      boilerplate lists (data/boilerplate/ lists) and date parsing;
 *   normalize.c  NFKC (fast path + ICU for the rare stretches), Hant-Hans;
 *   segment.c    Han counting, Han runs, ICU sentence and word break;
 *   dedup.c      exact and near-duplicate (one-permutation MinHash + LSH);
 *   loader.c     the tifa_loader that strings the stages together and
 *                streams every format (plain and regex-separated text are
 *                cut there; records and forum threads via the files above);
 *   doc.c, options.c  the tifa_doc record, enum names, option defaults.
 * Everything here is internal: names start with tifa_ and end in _i or live
 * in structs that corpora.h does not expose.
 */
#ifndef TIFA_CORPORA_INTERNAL_H
#define TIFA_CORPORA_INTERNAL_H

#include "corpora.h"

#include <unicode/utypes.h>
#include <unicode/unorm2.h>
#include <unicode/utrans.h>
#include <unicode/uregex.h>

/* ------------------------------------------------------------- utf-8 ----- */

/* Decodes the code point at s[*i] (valid UTF-8 assumed, as produced by the
 * decoder) and advances *i. */
static inline uint32_t tifa_utf8_next_i(const unsigned char *s, size_t n,
                                        size_t *i)
{
    size_t k = *i;
    uint32_t c = s[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    if (c < 0xE0 && k + 1 < n) {
        *i = k + 2;
        return ((c & 0x1F) << 6) | (s[k + 1] & 0x3F);
    }
    if (c < 0xF0 && k + 2 < n) {
        *i = k + 3;
        return ((c & 0x0F) << 12) | ((uint32_t)(s[k + 1] & 0x3F) << 6) |
               (s[k + 2] & 0x3F);
    }
    if (k + 3 < n) {
        *i = k + 4;
        return ((c & 0x07) << 18) | ((uint32_t)(s[k + 1] & 0x3F) << 12) |
               ((uint32_t)(s[k + 2] & 0x3F) << 6) | (s[k + 3] & 0x3F);
    }
    *i = n;
    return 0xFFFD;
}

/* Length of the longest prefix of s that is valid UTF-8 (shortest forms, no
 * surrogates, <= U+10FFFF). */
size_t tifa_utf8_valid_prefix_i(const char *s, size_t n);

/* Appends code point c as UTF-8. */
tifa_status tifa_buf_put_cp_i(tifa_buf *buf, uint32_t c);

/* Sentence count by the ICU break iterator alone (tifa_count_sentences
 * uses a fast exact path first); for tests. */
size_t tifa_count_sentences_icu_i(tifa_segmenter *seg, const char *utf8,
                                  size_t n);

/* Han characters and sentences of a text in one pass (what the loader
 * stores in tifa_doc.chars and .sentences). */
void tifa_text_counts_i(tifa_segmenter *seg, const char *utf8, size_t n,
                        size_t *chars, size_t *sentences);

/* Is c Script=Han (Unicode 15, as ICU 72)? */
bool tifa_is_han_i(uint32_t c);

/* --------------------------------------------------------------- read ---- */

typedef struct tifa_input {
    char *path;        /* as shown in messages and sources */
    int root;          /* index of the add_path call it came from */
    bool is_stdin;
    char *memory;      /* in-memory input (tifa_loader_add_memory), owned */
    size_t memory_len;
    size_t size;       /* bytes (0 for stdin until read) */
} tifa_input;

/* Chunked reader over one input. */
typedef struct tifa_reader {
    FILE *fp;          /* NULL for in-memory inputs */
    bool own_fp;
    const char *mem;   /* in-memory input (borrowed) */
    size_t mem_len;
    const char *path;
    long long offset;  /* bytes delivered so far */
    bool eof;
    bool error;
    int err_no;
} tifa_reader;

tifa_status tifa_reader_open_i(tifa_reader *r, const tifa_input *in);
/* Reads up to cap bytes; returns the count (0 at end or error). */
size_t tifa_reader_read_i(tifa_reader *r, char *dst, size_t cap);
void tifa_reader_close_i(tifa_reader *r);

/* ------------------------------------------------------------- decode ---- */

/* Picks a charset for a sample (complete: the sample is the whole file).
 * Returns a static ICU converter name ("UTF-8", "UTF-16LE", "GB18030",
 * "windows-950-2000", "ibm-1375_P100-2008", ...); *bom_len receives the
 * number of BOM bytes to skip. */
const char *tifa_detect_charset_i(const char *bytes, size_t n, bool complete,
                                  size_t *bom_len);

/* Maps a user's charset name ("gbk", "big5", "big5-hkscs", ...) to an ICU
 * converter name; NULL when ICU does not know it. Static string. */
const char *tifa_charset_resolve_i(const char *name);

/* A streaming decoder: bytes in (any chunking), UTF-8 out with LF line ends.
 * Undecodable bytes become U+FFFD and are reported to diag with the byte
 * offset (the first 20 per file individually, then a count at finish). */
typedef struct tifa_decoder tifa_decoder;
tifa_decoder *tifa_decoder_new_i(const char *charset, const char *file,
                                 bool strict, tifa_diag *diag,
                                 tifa_status *status); /* free: _free_i */
tifa_status tifa_decoder_push_i(tifa_decoder *d, const char *bytes, size_t n,
                                bool final, tifa_buf *out);
size_t tifa_decoder_errors_i(const tifa_decoder *d);
void tifa_decoder_free_i(tifa_decoder *d);

/* ---------------------------------------------------------- normalise ---- */

typedef struct tifa_normalizer tifa_normalizer;
tifa_normalizer *tifa_normalizer_new_i(bool simplified, tifa_status *status);
void tifa_normalizer_free_i(tifa_normalizer *nz);
/* Appends NFKC (and Hant-Hans) of utf8[0..n) to out. */
tifa_status tifa_normalizer_run_i(tifa_normalizer *nz, const char *utf8,
                                  size_t n, tifa_buf *out);

/* -------------------------------------------------------------- clean ---- */

typedef struct tifa_boilerplate tifa_boilerplate;
/* Loads the shipped list (every .txt in datadir/boilerplate, or built-in defaults
 * when datadir is NULL) plus the user's extra file. Free with _free_i. */
tifa_boilerplate *tifa_boilerplate_new_i(const char *datadir,
                                         const char *extra, tifa_diag *diag,
                                         tifa_status *status);
void tifa_boilerplate_free_i(tifa_boilerplate *bp);
/* Is this (trimmed) line boilerplate? */
bool tifa_boilerplate_match_i(tifa_boilerplate *bp, const char *line,
                              size_t n);

/* Parses a date in any of the shapes researchers meet (2014-4-4 11:41:02,
 * 2019年01月27日, 2019/4/25 9:32:09, 1954, ...) into ISO 8601 as precise as
 * given.  Returns a new string (caller frees) or NULL when not a date. */
char *tifa_date_iso_i(const char *s, size_t n);

/* Compiles an ICU regex given in UTF-8 (uregex has no UTF-8 opener that
 * copies the pattern).  Free with uregex_close. */
URegularExpression *tifa_regex_open_i(const char *pattern, int32_t len,
                                      UParseError *pe, UErrorCode *err);

/* Trims ASCII and ideographic white space; returns the trimmed span. */
const char *tifa_trim_i(const char *s, size_t n, size_t *out_n);

/* ------------------------------------------------------------- formats --- */

tifa_doc *tifa_doc_alloc_i(void); /* zeroed, numbers -1; free: tifa_doc_free */
tifa_status tifa_doc_add_field_i(tifa_doc *doc, const char *key,
                                 const char *value, size_t value_len);

/* Callback through which format parsers hand over finished documents
 * (ownership passes to the callee). */
typedef tifa_status (*tifa_emit_fn)(tifa_doc *doc, void *user);

/* Forum dumps: text is decoded, normalised; a file or a slice of one that
 * starts at a thread's title line (line_base/thread_base number it). */
typedef struct tifa_forum_ctx {
    const char *path;
    tifa_boilerplate *bp;
    tifa_diag *diag;
    bool include_replies;
    size_t line_base;     /* lines of the file before this text */
    size_t thread_base;   /* threads of the file before this text */
    size_t *threads_out;  /* receives the number of threads in this text */
} tifa_forum_ctx;
tifa_status tifa_forum_split_i(const tifa_forum_ctx *ctx, const char *text,
                               size_t n, tifa_emit_fn emit, void *user);
/* Streaming: finds thread starts in a growing text one at a time, so a
 * crawl file is processed thread by thread.  sc starts zeroed; scanned
 * (and prev_a/prev_b) are byte offsets into text (the caller shifts them
 * when it drops text).  *found reports a
 * start at byte *start (its line already examined). */
typedef struct tifa_forum_scan {
    size_t scanned;
    bool seen_text;
    size_t prev_a, prev_b; /* the previous non-empty line */
} tifa_forum_scan;
tifa_status tifa_forum_scan_i(const tifa_forum_ctx *ctx, tifa_forum_scan *sc,
                              const char *text, size_t n, bool final,
                              size_t *start, bool *found);

/* Does this text look like a forum dump (thread title + furniture, or post
 * headers)? */
bool tifa_forum_sniff_i(const char *text, size_t n);

/* Paragraph cleaning shared by formats: trims each line, drops empty lines,
 * joins paragraphs with '\n'. Appends to out. */
tifa_status tifa_paragraphs_i(const char *text, size_t n, tifa_buf *out);

/* ------------------------------------------------------------- dedup ----- */

typedef struct tifa_dedup tifa_dedup;
tifa_dedup *tifa_dedup_new_i(double threshold); /* free: _free_i */
void tifa_dedup_free_i(tifa_dedup *dd);
/* Registers a document (with its counts); when it duplicates an earlier
 * one, *first receives that one's doc_id (borrowed from dd) and
 * *similarity the estimate, and nothing is registered. */
tifa_status tifa_dedup_add_i(tifa_dedup *dd, const char *doc_id,
                             const char *text, size_t n, size_t chars,
                             size_t sentences, const char **first,
                             double *similarity);
/* Is the text an exact copy of a registered document?  Then *first gets
 * its doc_id (borrowed) and its counts. */
bool tifa_dedup_exact_i(const tifa_dedup *dd, const char *text, size_t n,
                        const char **first, size_t *chars, size_t *sentences);

#endif /* TIFA_CORPORA_INTERNAL_H */
