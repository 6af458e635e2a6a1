/*
 * decode.c — loader stage 2: from raw bytes to UTF-8 text with LF line ends.
 *
 * Detection (tifa_detect_charset_i): a byte-order mark decides outright;
 * otherwise text that is valid UTF-8 is UTF-8.  For everything else the
 * candidates are the Chinese legacy charsets (GB18030, which covers GBK and
 * GB2312; Big5 as windows-950; Big5-HKSCS as ibm-1375) plus whatever ICU's
 * ucsdet proposes, and each candidate is validated strictly: the sample is
 * converted and the conversion errors counted.  ucsdet alone confuses the
 * three Chinese charsets, so the decision is: fewest errors wins (a
 * private-use character in the output counts as an error: windows-950
 * maps the HKSCS rows there); between
 * GB18030 and the Big5 family, when both decode cleanly, the share of
 * double-byte pairs whose trail byte lies in 0x40–0xA0 decides (GB2312 text,
 * the bulk of GBK, never has such trails; Big5 text has them in ~40 % of its
 * characters); Big5 beats Big5-HKSCS only when it decodes just as cleanly.
 *
 * Decoding (tifa_decoder): a streaming converter that accepts bytes in any
 * chunking (a multibyte character may be split between two reads), writes
 * UTF-8, turns CRLF and CR into LF, drops a leading BOM, and replaces every
 * undecodable sequence with U+FFFD, reporting it with the file's byte
 * offset.  Valid UTF-8 input takes a fast path (a tight validation loop and
 * a bulk copy); other charsets go through ICU ucnv.
 */
#include "corpora_internal.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/ustring.h>

#define TIFA_DECODE_REPORT_LIMIT 20
#define TIFA_DETECT_SAMPLE (1u << 20)

/* ------------------------------------------------------------ UTF-8 ------ */

/* Length of the sequence a lead byte announces (0 for an invalid lead). */
static int utf8_seq_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return 2;
    if (c < 0xF0) return 3;
    if (c < 0xF5) return 4;
    return 0;
}

/* Checks one sequence at s (n available bytes).  Returns its length when
 * valid, 0 when invalid; *maximal receives the length of the maximal
 * subpart to replace by one U+FFFD (at least 1); *incomplete is set when the
 * bytes are a valid but unfinished prefix running into the end. */
static int utf8_check(const unsigned char *s, size_t n, int *maximal,
                      bool *incomplete)
{
    int len = utf8_seq_len(s[0]);
    *incomplete = false;
    *maximal = 1;
    if (len == 0) return 0;
    if (len == 1) return 1;
    unsigned char lo = 0x80, hi = 0xBF;
    if (s[0] == 0xE0) lo = 0xA0;
    else if (s[0] == 0xED) hi = 0x9F;
    else if (s[0] == 0xF0) lo = 0x90;
    else if (s[0] == 0xF4) hi = 0x8F;
    for (int k = 1; k < len; k++) {
        if ((size_t)k >= n) {
            *incomplete = true;
            *maximal = k;
            return 0;
        }
        unsigned char b = s[k];
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) {
            *maximal = k;
            return 0;
        }
    }
    return len;
}

/* With SSE2: how far the 16 bytes at s[i] (with two bytes of look-ahead,
 * i + 18 <= n) are valid UTF-8 made of ASCII and three-byte sequences
 * whose lead is E1..EC or EE..EF (any continuation byte may follow those;
 * E0 and ED narrow the second byte and are left to the exact check).  A
 * block is accepted when every byte is ASCII, such a lead or a
 * continuation byte, and the continuation bytes are exactly the two after
 * each lead.  Returns the next character boundary after the block (16, 17
 * or 18 bytes on: a sequence may run over the end), or i when the block
 * holds anything else.  Chinese text, raw or in JSON, is nearly all
 * such blocks. */
#ifdef TIFA_SSE2
static inline size_t valid_block(const unsigned char *s, size_t i)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    unsigned high = (unsigned)_mm_movemask_epi8(x);
    if (high == 0) return i + 16;
    unsigned lead = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(
        _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xED)),
        tifa_in_range_i(x, 0xE1, 0xEF)));
    unsigned cont = (unsigned)_mm_movemask_epi8(tifa_in_range_i(x, 0x80, 0xBF));
    unsigned want = (lead << 1) | (lead << 2); /* bits 16, 17: look-ahead */
    if (((lead | cont) & high) != high || (want & 0xFFFF) != cont) return i;
    if ((want & 0x10000) && (s[i + 16] & 0xC0) != 0x80) return i;
    if ((want & 0x20000) && (s[i + 17] & 0xC0) != 0x80) return i;
    return i + 16 + ((want & 0x20000) ? 2 : (want & 0x10000) ? 1 : 0);
}
#endif

size_t tifa_utf8_valid_prefix_i(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
#ifdef TIFA_SSE2
        for (size_t j; i + 18 <= n && (j = valid_block(s, i)) != i;) i = j;
#endif
        /* ASCII, eight bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* The common CJK case: a 3-byte sequence whose lead is not E0 or ED
         * (the only leads with a narrower second-byte range). Loop over runs
         * of them without going back to the ASCII test. */
        while (i + 2 < n && (unsigned)(s[i] - 0xE1) <= 0x0E && s[i] != 0xED &&
               (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80)
            i += 3;
        if (i >= n) break;
        c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int maximal;
        bool incomplete;
        int len = utf8_check(s + i, n - i, &maximal, &incomplete);
        if (len == 0) return i;
        i += (size_t)len;
    }
    return n;
}

tifa_status tifa_buf_put_cp_i(tifa_buf *buf, uint32_t c)
{
    char tmp[4];
    size_t k;
    if (c < 0x80) {
        tmp[0] = (char)c;
        k = 1;
    } else if (c < 0x800) {
        tmp[0] = (char)(0xC0 | (c >> 6));
        tmp[1] = (char)(0x80 | (c & 0x3F));
        k = 2;
    } else if (c < 0x10000) {
        tmp[0] = (char)(0xE0 | (c >> 12));
        tmp[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (c & 0x3F));
        k = 3;
    } else {
        tmp[0] = (char)(0xF0 | (c >> 18));
        tmp[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (c & 0x3F));
        k = 4;
    }
    return tifa_buf_append(buf, tmp, k);
}

/* ---------------------------------------------------------- detection ---- */

typedef struct count_ctx {
    size_t errors;
} count_ctx;

static void count_cb(const void *context,
                                 UConverterToUnicodeArgs *args,
                                 const char *units, int32_t length,
                                 UConverterCallbackReason reason,
                                 UErrorCode *err)
{
    if (reason > UCNV_IRREGULAR) return;
    ((count_ctx *)(uintptr_t)context)->errors++;
    UCNV_TO_U_CALLBACK_SUBSTITUTE(NULL, args, units, length, reason, err);
}

/* Converts the sample with charset and counts conversion errors and
 * private-use characters; returns
 * SIZE_MAX when ICU cannot open the converter. */
static size_t count_errors(const char *charset, const char *bytes, size_t n,
                           bool complete)
{
    UErrorCode err = U_ZERO_ERROR;
    UConverter *cnv = ucnv_open(charset, &err);
    if (U_FAILURE(err)) return SIZE_MAX;
    count_ctx ctx = {0};
    ucnv_setToUCallBack(cnv, count_cb, &ctx, NULL, NULL, &err);
    UChar buf[4096];
    const char *src = bytes, *end = bytes + n;
    size_t pua = 0;
    do {
        UChar *tgt = buf;
        err = U_ZERO_ERROR;
        ucnv_toUnicode(cnv, &tgt, buf + 4096, &src, end, NULL, complete,
                       &err);
        /* Private-use output (windows-950 maps the HKSCS rows there) is as
         * good as an error: the text is in another charset. */
        for (UChar *u = buf; u < tgt; u++)
            if (*u >= 0xE000 && *u <= 0xF8FF) pua++;
    } while (err == U_BUFFER_OVERFLOW_ERROR);
    ctx.errors += pua;
    ucnv_close(cnv);
    return ctx.errors;
}

/* Share (per mille) of double-byte pairs, read GB-style, whose trail byte
 * is 0x40..0xA0: near 0 for GB2312/GBK text, high for Big5. */
static unsigned low_trail_permille(const unsigned char *s, size_t n)
{
    size_t pairs = 0, low = 0;
    for (size_t i = 0; i + 1 < n;) {
        if (s[i] < 0x81) {
            i++;
            continue;
        }
        if (s[i + 1] >= 0x30 && s[i + 1] <= 0x39) { /* GB18030 4-byte */
            i += 4;
            pairs++;
            continue;
        }
        pairs++;
        if (s[i + 1] >= 0x40 && s[i + 1] <= 0xA0) low++;
        i += 2;
    }
    return pairs ? (unsigned)(low * 1000 / pairs) : 0;
}

const char *tifa_detect_charset_i(const char *bytes, size_t n, bool complete,
                                  size_t *bom_len)
{
    const unsigned char *s = (const unsigned char *)bytes;
    *bom_len = 0;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        *bom_len = 3;
        return "UTF-8";
    }
    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) ||
                   (s[0] == 0xFE && s[1] == 0xFF)))
        return "UTF-16"; /* ICU's UTF-16 reads and drops the BOM */
    if (n > TIFA_DETECT_SAMPLE) {
        n = TIFA_DETECT_SAMPLE;
        complete = false;
    }
    /* UTF-8: valid, or valid but for a few stray sequences (then the
     * decoder reports them): legacy CJK text read as UTF-8 has far more
     * invalid sequences than valid multibyte ones. */
    size_t valid = tifa_utf8_valid_prefix_i(bytes, n);
    if (valid == n) return "UTF-8";
    {
        size_t i = 0, bad = 0, multi = 0;
        while (i < n) {
            size_t v = tifa_utf8_valid_prefix_i(bytes + i, n - i);
            for (size_t k = i; k < i + v; k++)
                if (s[k] >= 0xC0) multi++;
            i += v;
            if (i >= n) break;
            int maximal;
            bool incomplete;
            utf8_check(s + i, n - i, &maximal, &incomplete);
            if (incomplete) break; /* cut by the sample, or truncated at
                                      end of file (the decoder reports it) */
            bad++;
            i += (size_t)maximal;
        }
        if (bad == 0 || multi >= 2 * bad) return "UTF-8";
    }

    /* Legacy charsets: validate the candidates. */
    static const char *const fixed[] = {"GB18030", "windows-950-2000",
                                        "ibm-1375_P100-2008"};
    const char *best = NULL;
    size_t best_err = SIZE_MAX;
    size_t errs[3];
    for (int k = 0; k < 3; k++) {
        errs[k] = count_errors(fixed[k], bytes, n, complete);
        if (errs[k] < best_err) {
            best_err = errs[k];
            best = fixed[k];
        }
    }
    size_t big5_err = errs[1] < errs[2] ? errs[1] : errs[2];
    const char *big5 = errs[1] <= errs[2] ? fixed[1] : fixed[2];
    if (errs[0] != SIZE_MAX && big5_err != SIZE_MAX) {
        /* Allow a small tolerance: a GBK file with a few corrupt bytes is
         * still GBK.  Big5 text nearly always decodes as GB18030 without
         * errors, so the trail-byte statistic decides the tie. */
        size_t tol = n / 2000;
        if (errs[0] <= big5_err + tol && big5_err <= errs[0] + tol) {
            best = low_trail_permille(s, n) > 50 ? big5 : fixed[0];
        } else {
            best = errs[0] < big5_err ? fixed[0] : big5;
        }
        best_err = best == fixed[0] ? errs[0] : big5_err;
    }
    if (best_err == 0 && best) return best;

    /* Ask ucsdet for anything else (Japanese, Korean, Latin, UTF-16 without
     * BOM ...) and keep it only when it decodes strictly better. */
    UErrorCode err = U_ZERO_ERROR;
    UCharsetDetector *det = ucsdet_open(&err);
    if (U_SUCCESS(err)) {
        ucsdet_setText(det, bytes, (int32_t)(n > 65536 ? 65536 : n), &err);
        int32_t found = 0;
        const UCharsetMatch **m = ucsdet_detectAll(det, &found, &err);
        for (int32_t k = 0; U_SUCCESS(err) && k < found && k < 5; k++) {
            UErrorCode e2 = U_ZERO_ERROR;
            const char *name = ucsdet_getName(m[k], &e2);
            if (U_FAILURE(e2) || !name) continue;
            const char *resolved = tifa_charset_resolve_i(name);
            if (!resolved) continue;
            size_t e = count_errors(resolved, bytes, n, complete);
            if (e < best_err) {
                best_err = e;
                best = resolved;
            }
        }
        ucsdet_close(det);
    }
    return best ? best : "UTF-8";
}

const char *tifa_charset_resolve_i(const char *name)
{
    static const struct {
        const char *alias;
        const char *icu;
    } table[] = {
        {"utf-8", "UTF-8"},           {"utf8", "UTF-8"},
        {"utf-16", "UTF-16"},         {"utf-16le", "UTF-16LE"},
        {"utf-16be", "UTF-16BE"},     {"gb18030", "GB18030"},
        {"gbk", "GB18030"},           {"gb2312", "GB18030"},
        {"cp936", "GB18030"},         {"euc-cn", "GB18030"},
        {"big5", "windows-950-2000"}, {"cp950", "windows-950-2000"},
        {"big5-hkscs", "ibm-1375_P100-2008"},
        {"big5hkscs", "ibm-1375_P100-2008"},
        {"iso-8859-1", "ISO-8859-1"}, {"latin1", "ISO-8859-1"},
        {"windows-1252", "windows-1252"},
        {"shift_jis", "ibm-943_P15A-2003"},
        {"euc-jp", "ibm-33722_P12A_P12A-2009_U2"},
        {"euc-kr", "ibm-970_P110_P110-2006_U2"},
    };
    if (!name) return NULL;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        const char *a = table[k].alias, *b = name;
        while (*a && *b && (*a == (*b | (*b >= 'A' && *b <= 'Z' ? 0x20 : 0))))
            a++, b++;
        if (!*a && !*b) return table[k].icu;
    }
    /* Anything ICU knows by that name: return its canonical name. */
    UErrorCode err = U_ZERO_ERROR;
    UConverter *cnv = ucnv_open(name, &err);
    if (U_FAILURE(err)) return NULL;
    const char *canon = ucnv_getName(cnv, &err);
    /* ucnv_getName points into ICU's static alias table; it outlives cnv. */
    const char *stable = U_SUCCESS(err)
                             ? ucnv_getStandardName(canon, "IANA", &err)
                             : NULL;
    if (U_FAILURE(err) || !stable) {
        err = U_ZERO_ERROR;
        stable = ucnv_getAlias(canon, 0, &err);
        if (U_FAILURE(err)) stable = NULL;
    }
    ucnv_close(cnv);
    return stable;
}

/* ------------------------------------------------------------ decoder ---- */

struct tifa_decoder {
    bool utf8;             /* own fast path */
    UConverter *cnv;
    char *file;
    bool strict;
    tifa_diag *diag;
    long long offset;      /* bytes consumed before the current chunk */
    const char *chunk;     /* current chunk (for callback offsets) */
    size_t errors;
    bool started;          /* past the first output (BOM check) */
    bool pending_cr;
    unsigned char carry[4];
    int carry_len;
    UChar hold;            /* lead surrogate held over between chunks */
    tifa_status failed;    /* strict: first error */
    size_t nul_reported;
};

static void report(tifa_decoder *d, long long off, size_t nbytes,
                   const unsigned char *bytes)
{
    d->errors++;
    if (d->strict && d->failed == TIFA_OK) d->failed = TIFA_EENCODING;
    if (d->errors <= TIFA_DECODE_REPORT_LIMIT || d->strict) {
        char hex[16] = "";
        size_t k = nbytes > 4 ? 4 : nbytes, pos = 0;
        for (size_t j = 0; j < k && bytes; j++)
            pos += (size_t)snprintf(hex + pos, sizeof hex - pos, "%s%02X",
                                    j ? " " : "", bytes[j]);
        tifa_diag_add(d->diag, d->strict ? TIFA_ERROR : TIFA_WARNING,
                      TIFA_EENCODING, d->file, 0, off,
                      "undecodable byte sequence [%s] at byte %lld%s", hex,
                      off, d->strict ? "" : " (replaced by U+FFFD)");
    }
}

static void report_cb(const void *context,
                                  UConverterToUnicodeArgs *args,
                                  const char *units, int32_t length,
                                  UConverterCallbackReason reason,
                                  UErrorCode *err)
{
    if (reason > UCNV_IRREGULAR) return;
    tifa_decoder *d = (tifa_decoder *)(uintptr_t)context;
    long long off = d->offset + (long long)(args->source - d->chunk) - length;
    if (off < 0) off = 0;
    report(d, off, (size_t)length, (const unsigned char *)units);
    UCNV_TO_U_CALLBACK_SUBSTITUTE(NULL, args, units, length, reason, err);
}

tifa_decoder *tifa_decoder_new_i(const char *charset, const char *file,
                                 bool strict, tifa_diag *diag,
                                 tifa_status *status)
{
    tifa_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    d->file = tifa_strdup(file ? file : "-");
    d->strict = strict;
    d->diag = diag;
    d->utf8 = !charset || strcmp(charset, "UTF-8") == 0;
    if (!d->utf8) {
        UErrorCode err = U_ZERO_ERROR;
        d->cnv = ucnv_open(charset, &err);
        if (U_FAILURE(err)) {
            tifa_decoder_free_i(d);
            *status = TIFA_EENCODING;
            return NULL;
        }
        ucnv_setToUCallBack(d->cnv, report_cb, d, NULL, NULL, &err);
    }
    *status = d->file ? TIFA_OK : TIFA_ENOMEM;
    if (!d->file) {
        tifa_decoder_free_i(d);
        return NULL;
    }
    return d;
}

void tifa_decoder_free_i(tifa_decoder *d)
{
    if (!d) return;
    if (d->cnv) ucnv_close(d->cnv);
    free(d->file);
    free(d);
}

size_t tifa_decoder_errors_i(const tifa_decoder *d) { return d->errors; }

/* Appends valid UTF-8 to out, turning CRLF and CR into LF and dropping a
 * BOM at the very start. */
static tifa_status put_text(tifa_decoder *d, const char *p, size_t n,
                            tifa_buf *out)
{
    if (!d->started && n > 0) {
        d->started = true;
        if (n >= 3 && (unsigned char)p[0] == 0xEF &&
            (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
            p += 3;
            n -= 3;
        }
    }
    while (n > 0) {
        if (d->pending_cr) {
            d->pending_cr = false;
            if (p[0] == '\n') {
                p++;
                n--;
                continue;
            }
        }
        const char *q = memchr(p, '\r', n);
        const char *z = memchr(p, '\0', q ? (size_t)(q - p) : n);
        if (z) {
            /* A NUL character (only UTF-16/32 input can carry one past the
             * binary-file check) would cut C strings: make it U+FFFD. */
            tifa_status st = tifa_buf_append(out, p, (size_t)(z - p));
            if (st == TIFA_OK) st = tifa_buf_append(out, "\xEF\xBF\xBD", 3);
            if (st != TIFA_OK) return st;
            d->errors++;
            if (d->nul_reported++ == 0)
                tifa_diag_add(d->diag, TIFA_WARNING, TIFA_EENCODING, d->file,
                              0, d->offset,
                              "NUL character in the text near byte %lld "
                              "(replaced by U+FFFD)",
                              d->offset);
            n -= (size_t)(z - p) + 1;
            p = z + 1;
            continue;
        }
        if (!q) return tifa_buf_append(out, p, n);
        tifa_status st = tifa_buf_append(out, p, (size_t)(q - p));
        if (st == TIFA_OK) st = tifa_buf_putc(out, '\n');
        if (st != TIFA_OK) return st;
        n -= (size_t)(q - p) + 1;
        p = q + 1;
        d->pending_cr = true;
    }
    return TIFA_OK;
}

static const char replacement[3] = {(char)0xEF, (char)0xBF, (char)0xBD};

static tifa_status push_utf8(tifa_decoder *d, const char *bytes, size_t n,
                             bool final, tifa_buf *out)
{
    const unsigned char *s = (const unsigned char *)bytes;
    size_t i = 0;
    tifa_status st = TIFA_OK;
    if (d->carry_len > 0) {
        /* Complete the sequence split by the previous read. */
        int need = utf8_seq_len(d->carry[0]);
        unsigned char tmp[4];
        memcpy(tmp, d->carry, (size_t)d->carry_len);
        int have = d->carry_len;
        while (have < need && i < n) tmp[have++] = s[i++];
        int maximal;
        bool incomplete;
        int len = utf8_check(tmp, (size_t)have, &maximal, &incomplete);
        long long carry_off = d->offset - d->carry_len;
        if (len > 0) {
            st = put_text(d, (const char *)tmp, (size_t)len, out);
            d->carry_len = 0;
        } else if (incomplete && !final) {
            memcpy(d->carry, tmp, (size_t)have);
            d->carry_len = have;
            d->offset += (long long)n;
            return TIFA_OK;
        } else {
            /* Invalid: one U+FFFD for the carried bytes; bytes taken from
             * this chunk beyond the maximal subpart are read again. */
            if (incomplete)
                tifa_diag_add(d->diag, d->strict ? TIFA_ERROR : TIFA_WARNING,
                              TIFA_EENCODING, d->file, 0, carry_off,
                              "truncated multibyte sequence at end of file "
                              "(byte %lld)", carry_off);
            else
                report(d, carry_off, (size_t)maximal, tmp);
            if (incomplete) {
                d->errors++;
                if (d->strict) d->failed = TIFA_EENCODING;
            }
            st = put_text(d, replacement, 3, out);
            size_t used_from_chunk = (size_t)(have - d->carry_len);
            size_t consumed = maximal > d->carry_len
                                  ? (size_t)(maximal - d->carry_len)
                                  : 0;
            i -= used_from_chunk - consumed;
            d->carry_len = 0;
        }
        if (st != TIFA_OK) return st;
    }
    while (i < n) {
        size_t v = tifa_utf8_valid_prefix_i(bytes + i, n - i);
        if (v) {
            st = put_text(d, bytes + i, v, out);
            if (st != TIFA_OK) return st;
            i += v;
        }
        if (i >= n) break;
        int maximal;
        bool incomplete;
        utf8_check(s + i, n - i, &maximal, &incomplete);
        if (incomplete && !final) {
            memcpy(d->carry, s + i, n - i);
            d->carry_len = (int)(n - i);
            break;
        }
        long long off = d->offset + (long long)i;
        if (incomplete) {
            d->errors++;
            if (d->strict) d->failed = TIFA_EENCODING;
            tifa_diag_add(d->diag, d->strict ? TIFA_ERROR : TIFA_WARNING,
                          TIFA_EENCODING, d->file, 0, off,
                          "truncated multibyte sequence at end of file "
                          "(byte %lld)", off);
        } else {
            report(d, off, (size_t)maximal, s + i);
        }
        st = put_text(d, replacement, 3, out);
        if (st != TIFA_OK) return st;
        i += (size_t)maximal;
    }
    d->offset += (long long)n;
    return TIFA_OK;
}

/* UTF-16 -> UTF-8 for ICU output, then put_text. */
static tifa_status put_utf16(tifa_decoder *d, const UChar *u, int32_t len,
                             tifa_buf *out)
{
    char tmp[4 * 1024 * 3 + 8];
    int32_t i = 0;
    while (i < len) {
        size_t k = 0;
        while (i < len && k + 4 <= sizeof tmp - 4) {
            uint32_t c = u[i++];
            if (c >= 0xD800 && c <= 0xDBFF && i < len && u[i] >= 0xDC00 &&
                u[i] <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (u[i++] - 0xDC00);
            } else if (c >= 0xD800 && c <= 0xDFFF) {
                c = 0xFFFD;
            }
            if (c < 0x80) {
                tmp[k++] = (char)c;
            } else if (c < 0x800) {
                tmp[k++] = (char)(0xC0 | (c >> 6));
                tmp[k++] = (char)(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                tmp[k++] = (char)(0xE0 | (c >> 12));
                tmp[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
                tmp[k++] = (char)(0x80 | (c & 0x3F));
            } else {
                tmp[k++] = (char)(0xF0 | (c >> 18));
                tmp[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
                tmp[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
                tmp[k++] = (char)(0x80 | (c & 0x3F));
            }
        }
        tifa_status st = put_text(d, tmp, k, out);
        if (st != TIFA_OK) return st;
    }
    return TIFA_OK;
}

static tifa_status push_icu(tifa_decoder *d, const char *bytes, size_t n,
                            bool final, tifa_buf *out)
{
    UChar buf[4096 + 1];
    const char *src = bytes, *end = bytes + n;
    d->chunk = bytes;
    UErrorCode err;
    do {
        UChar *start = buf;
        if (d->hold) {
            buf[0] = d->hold;
            d->hold = 0;
            start = buf + 1;
        }
        UChar *tgt = start;
        err = U_ZERO_ERROR;
        ucnv_toUnicode(d->cnv, &tgt, buf + 4096 + 1, &src, end, NULL, final,
                       &err);
        if (U_FAILURE(err) && err != U_BUFFER_OVERFLOW_ERROR) {
            tifa_diag_add(d->diag, TIFA_ERROR, TIFA_EINTERNAL, d->file, 0,
                          d->offset + (src - bytes), "ICU conversion failed: %s",
                          u_errorName(err));
            return TIFA_EINTERNAL;
        }
        int32_t len = (int32_t)(tgt - buf);
        if (len > 0 && !(final && err != U_BUFFER_OVERFLOW_ERROR) &&
            buf[len - 1] >= 0xD800 && buf[len - 1] <= 0xDBFF) {
            d->hold = buf[--len];
        }
        tifa_status st = put_utf16(d, buf, len, out);
        if (st != TIFA_OK) return st;
    } while (err == U_BUFFER_OVERFLOW_ERROR);
    d->offset += (long long)n;
    return TIFA_OK;
}

tifa_status tifa_decoder_push_i(tifa_decoder *d, const char *bytes, size_t n,
                                bool final, tifa_buf *out)
{
    tifa_status st = d->utf8 ? push_utf8(d, bytes, n, final, out)
                             : push_icu(d, bytes, n, final, out);
    if (st != TIFA_OK) return st;
    if (final) {
        if (!out->data) st = tifa_buf_append(out, "", 0);
        if (d->errors > TIFA_DECODE_REPORT_LIMIT && !d->strict)
            tifa_diag_add(d->diag, TIFA_WARNING, TIFA_EENCODING, d->file, 0,
                          -1,
                          "%zu undecodable byte sequences in all, replaced by "
                          "U+FFFD (first %d listed)",
                          d->errors, TIFA_DECODE_REPORT_LIMIT);
    }
    if (st != TIFA_OK) return st;
    return d->failed;
}

/* ------------------------------------------------------------ public ----- */

tifa_status tifa_decode(const char *bytes, size_t n, const char *encoding,
                        const char *file, bool strict, tifa_diag *diag,
                        char **utf8, size_t *utf8_len, const char **detected)
{
    *utf8 = NULL;
    *utf8_len = 0;
    const char *charset;
    size_t bom = 0;
    if (!encoding || !*encoding || strcmp(encoding, "auto") == 0) {
        charset = tifa_detect_charset_i(bytes, n, true, &bom);
    } else {
        charset = tifa_charset_resolve_i(encoding);
        if (!charset) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EENCODING, file, 0, -1,
                          "unknown encoding '%s'", encoding);
            return TIFA_EENCODING;
        }
    }
    if (detected) *detected = charset;
    tifa_status st;
    tifa_decoder *d = tifa_decoder_new_i(charset, file, strict, diag, &st);
    if (!d) return st;
    tifa_buf out = {0};
    st = tifa_decoder_push_i(d, bytes, n, true, &out);
    tifa_decoder_free_i(d);
    if (st != TIFA_OK) {
        tifa_buf_free(&out);
        return st;
    }
    *utf8 = tifa_buf_detach(&out, utf8_len);
    return TIFA_OK;
}
