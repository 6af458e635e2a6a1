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
 *   normalize.c  NFKC (fast path + ICU for the rare stretches), Hant-Hans,
 *                and the one-pass cleaner of record texts (NFKC +
 *                paragraphs + counts);
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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* Byte-class masks, 16 bytes at a time, for the loader's hot scans
 * (UTF-8 validation, NFKC, Han and sentence counts).  Each scan skips the
 * bytes it has nothing to do for (ASCII, the CJK ideographs U+4000..U+9FFF
 * whose lead bytes are E4..E9, continuation bytes) sixteen at a time and
 * hands every other position to the same per-character code as before, so
 * the results do not depend on the vector path.  SSE2 is part of x86-64,
 * so there is no run-time dispatch; other targets use the scalar loops. */
#if defined(__SSE2__)
#define TIFA_SSE2 1
/* 0xFF in every byte of x that lies in lo..hi (unsigned), else 0. */
static inline __m128i tifa_in_range_i(__m128i x, unsigned char lo,
                                      unsigned char hi)
{
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8((char)lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((char)(hi - lo))), d);
}
/* The 16 bytes at s as a bit mask (bit k = byte k) of those in lo..hi. */
static inline unsigned tifa_mask_range_i(const unsigned char *s,
                                         unsigned char lo, unsigned char hi)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
    return (unsigned)_mm_movemask_epi8(tifa_in_range_i(x, lo, hi));
}
#endif

/* Skips the run of U+4000..U+9FFF characters (three bytes, lead E4..E9)
 * that starts at the character boundary i of valid UTF-8 and returns its
 * end; *han grows by the Han characters among them (all but the Yijing
 * hexagrams U+4DC0..U+4DFF, E4 B7 xx).  Every one is Sentence_Break
 * OLetter or Other, NFKC-stable and has a normalisation boundary before
 * it, which is why the loader's scans can step over a run at once.  Most
 * of a Chinese text is such runs (about ten characters between two
 * punctuation marks in the government reports).  With SSE2, six
 * characters per step: in a run the lead bytes sit at offsets 0, 3, ...,
 * 15 of a 16-byte load, so the first of those offsets without an E4..E9
 * byte ends the run (the bytes before it are whole characters). */
static inline size_t tifa_skip_cjk_i(const unsigned char *s, size_t i,
                                     size_t n, size_t *han)
{
    size_t h = *han;
#ifdef TIFA_SSE2
    const unsigned at = 0x9249; /* bits 0, 3, 6, 9, 12, 15 */
    while (i + 18 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned lead =
            (unsigned)_mm_movemask_epi8(tifa_in_range_i(x, 0xE4, 0xE9)) & at;
        unsigned stop = ~lead & at;
        unsigned run = stop ? lead & ((1u << __builtin_ctz(stop)) - 1) : lead;
        /* Hexagrams: E4 followed by B7 (rare: only then a popcount). */
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
        unsigned hexa = (unsigned)_mm_movemask_epi8(_mm_and_si128(
                            _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xE4)),
                            _mm_cmpeq_epi8(y, _mm_set1_epi8((char)0xB7)))) &
                        run;
        if (hexa) h -= (size_t)__builtin_popcount(hexa);
        if (stop) {
            unsigned k = (unsigned)__builtin_ctz(stop); /* 0, 3, ..., 15 */
            *han = h + k / 3;
            return i + k;
        }
        h += 6;
        i += 18;
    }
#endif
    while (i + 2 < n && (unsigned)(s[i] - 0xE4) <= 0xE9 - 0xE4) {
        h += 1u - (unsigned)((s[i] == 0xE4) & (s[i + 1] == 0xB7));
        i += 3;
    }
    *han = h;
    return i;
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

/* The fast exact sentence counter (segment.c, tifa_text_counts_i) as a
 * character-at-a-time automaton, so that a pass that walks a paragraph
 * anyway (the record cleaner in normalize.c) counts on the way with the
 * very same rules.  A paragraph holds no LF; its characters are fed in
 * order with their class; when a feed returns false (or the end gives -1)
 * only ICU's break iterator can tell. */
enum {
    TIFA_SB_OTHER, /* OLetter, Upper, Lower, Numeric, Other */
    TIFA_SB_STERM,
    TIFA_SB_CLOSE,
    TIFA_SB_SP,
    TIFA_SB_SCONT,
    TIFA_SB_ATERM,
    TIFA_SB_HARD   /* Extend, Format, Sep, CR, LF: ICU decides */
};

typedef struct tifa_sent_fsm {
    long count;    /* sentences ended so far */
    bool nonblank; /* the current sentence has a non-blank character */
    int tail;      /* 0: none, 1: after STerm Close*, 2: ... Sp* */
    bool aterm;    /* an ATerm waits: safe only before a digit (SB6) */
} tifa_sent_fsm;

/* The class of c (cached per BMP code point in seg). */
unsigned char tifa_sb_class_i(tifa_segmenter *seg, uint32_t c);

/* Feeds character c of class k.  A sentence ends after STerm Close* Sp*
 * unless the next character is SContinue or another terminator
 * (UAX #29 SB8a, SB9-SB11); ATerm is accepted only as a decimal point
 * between digits. */
static inline bool tifa_sent_feed_i(tifa_sent_fsm *f, unsigned char k,
                                    uint32_t c)
{
    if (f->aterm) {
        if (c < '0' || c > '9') return false;
        f->aterm = false; /* the '.' was an ordinary character */
        if (f->tail) {
            f->count++;
            f->tail = 0;
        }
        f->nonblank = true;
    }
    if (k == TIFA_SB_HARD) return false;
    if (k == TIFA_SB_ATERM) {
        f->aterm = true;
        return true;
    }
    if (f->tail) {
        if (k == TIFA_SB_STERM) {
            f->tail = 1;
            return true;
        }
        if (k == TIFA_SB_SCONT) {
            f->tail = 0;
            f->nonblank = true;
            return true;
        }
        if (k == TIFA_SB_CLOSE && f->tail == 1) return true;
        if (k == TIFA_SB_SP) {
            f->tail = 2;
            return true;
        }
        f->count++; /* break before c */
        f->tail = 0;
        f->nonblank = false;
    }
    if (k == TIFA_SB_STERM) {
        f->tail = 1;
        f->nonblank = true;
    } else if (!(c == ' ' || c == '\t' || c == '\f' || c == '\v' ||
                 c == 0x3000)) {
        f->nonblank = true;
    }
    return true;
}

/* The paragraph's sentence count, or -1 when ICU must decide. */
static inline long tifa_sent_end_i(const tifa_sent_fsm *f)
{
    return f->aterm ? -1 : f->count + (f->nonblank ? 1 : 0);
}

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

/* A record's text as the loader stores it, in one pass: NFKC, then
 * tifa_paragraphs_i (appended to out), and, when *counted comes back
 * true, its Han characters and sentences exactly as tifa_text_counts_i
 * would count the result.  Texts with characters that need ICU's
 * composition, and Hant-Hans, take the separate steps (*counted false). */
tifa_status tifa_normalizer_clean_i(tifa_normalizer *nz, tifa_segmenter *seg,
                                    const char *utf8, size_t n, tifa_buf *out,
                                    size_t *chars, size_t *sentences,
                                    bool *counted);

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
 * given, written to iso; false when not a date.  It allocates nothing, so
 * "not a date" can never hide an allocation failure. */
#define TIFA_DATE_ISO_MAX 48
bool tifa_date_iso_i(const char *s, size_t n, char iso[TIFA_DATE_ISO_MAX]);

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
