/*
 * study.c — the study file: one INI file that holds a whole analysis (its
 * corpora, patterns, n-gram settings, comparisons, trend periods, charts and
 * CSV options), so that a reviewer can rerun a paper's numbers from it.
 *
 * The file is read with libinih (ini_parse_stream) through our own line
 * reader, which numbers the lines, sees every section header (even empty
 * ones), reports syntax errors libinih would only count, refuses lines longer
 * than libinih's buffer instead of letting it split them, and un-indents
 * "key = value" lines so that only real continuation lines (indented list
 * items) continue the previous key.  Every problem — unknown section or key
 * (with the nearest valid name), bad value, duplicate key, duplicate corpus,
 * a comparison naming a corpus that does not exist, no corpus at all — is
 * reported to the tifa_diag with the file and line, and a study with any
 * error is rejected as a whole after all errors were collected.
 *
 * Storage: tifa_study_new() allocates a private study_impl whose first member
 * is the public tifa_study.  Ownership, as the callers rely on it:
 *  - the char * fields of tifa_study itself (path, dir, name, output,
 *    period) are malloc'd strings owned by the study and free()d by
 *    tifa_study_free(): to replace one, free the old value and store a
 *    tifa_strdup() (main.c does this for -o);
 *  - every other string (corpus names and paths, the const char * fields of
 *    tifa_load_options, tifa_ngram_options, tifa_plot_options,
 *    tifa_comparison, the pattern and slogan file names) lives in a pool the
 *    study frees as a whole; such a field may be pointed at a string the
 *    caller owns (it then has to outlive the study), since the pool never
 *    frees what it did not allocate;
 *  - the arrays (corpora, paths, pattern_files, slogan_lists, comparisons,
 *    params) are malloc'd and free()d by the study; grow them through
 *    tifa_study_add_corpus / tifa_study_add_comparison, or replace one
 *    wholesale with another malloc'd array.
 *
 * Relative paths are joined to the study file's folder lexically (no
 * realpath, so the result does not depend on symlinks or on the machine);
 * tifa_study_collect_params() strips that folder again, so the manifest
 * records paths as they were written in the study file.
 * The reference of the keys is docs/study-file.md.
 */
#define _POSIX_C_SOURCE 200809L

#include "pipeline.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ucnv.h>
#include <unicode/uregex.h>
#include <unicode/ustring.h>

/* ------------------------------------------------------------ storage -- */

typedef struct study_impl {
    tifa_study pub;          /* first: tifa_study * and study_impl * convert */
    char **pool;             /* strings the study allocated */
    size_t n_pool, cap_pool;
    char **compare_names;    /* [compare NAME] of comparisons[i] (pool) */
    size_t n_compare_names;
    const tifa_comparison *last_comparisons; /* array the names belong to */
} study_impl;

static study_impl *impl_of(tifa_study *study)
{
    return (study_impl *)study;
}

/* Registers p (malloc'd) with the study; returns p, or NULL after freeing p
 * when the pool cannot grow. */
static char *pool_keep(study_impl *im, char *p)
{
    if (!p)
        return NULL;
    if (im->n_pool == im->cap_pool) {
        size_t cap = im->cap_pool ? im->cap_pool * 2 : 32;
        char **np = realloc(im->pool, cap * sizeof *np);
        if (!np) {
            free(p);
            return NULL;
        }
        im->pool = np;
        im->cap_pool = cap;
    }
    im->pool[im->n_pool++] = p;
    return p;
}

static char *pool_strndup(study_impl *im, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return pool_keep(im, p);
}

static char *pool_strdup(study_impl *im, const char *s)
{
    return s ? pool_strndup(im, s, strlen(s)) : NULL;
}

/* Public: a copy of s owned by the study (freed by tifa_study_free). */
char *tifa_study_strdup(tifa_study *study, const char *s)
{
    return pool_strdup(impl_of(study), s);
}

/* Grows an array of elem-sized items to hold at least need items.
 * Returns false on ENOMEM (the array is unchanged). */
static bool grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 4;
    while (n < need)
        n *= 2;
    void *p = realloc(*array, n * elem);
    if (!p)
        return false;
    *array = p;
    *cap = n;
    return true;
}

/* ----------------------------------------------------- path handling -- */

static bool is_dot_dir(const char *dir)
{
    return !dir || !*dir || !strcmp(dir, ".") || !strcmp(dir, "./");
}

/* The path relative paths of a study are resolved to: raw unchanged when
 * absolute, "-" or when the study has no folder (built from the command
 * line); otherwise dir/raw with leading "./" of raw dropped (just raw when
 * the folder is ".").  Caller frees (resolve_path: pool-owned); NULL on
 * ENOMEM. */
static char *resolve_path_alloc(study_impl *im, const char *raw)
{
    const char *dir = im->pub.dir;
    if (raw[0] == '/' || !strcmp(raw, "-") || !dir)
        return tifa_strdup(raw);
    while (raw[0] == '.' && raw[1] == '/' && raw[2]) {
        raw += 2;
        while (*raw == '/')
            raw++;
    }
    if (is_dot_dir(dir))
        return tifa_strdup(raw);
    size_t dl = strlen(dir), rl = strlen(raw);
    bool slash = dir[dl - 1] != '/';
    char *p = malloc(dl + slash + rl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (slash)
        p[dl] = '/';
    memcpy(p + dl + slash, raw, rl + 1);
    return p;
}

static char *resolve_path(study_impl *im, const char *raw)
{
    return pool_keep(im, resolve_path_alloc(im, raw));
}

/* The inverse of resolve_path for the manifest: path without the study's
 * folder prefix (borrowed from path). */
static const char *unresolve_path(const tifa_study *study, const char *path)
{
    const char *dir = study->dir;
    if (!path || is_dot_dir(dir))
        return path;
    size_t n = strlen(dir);
    if (strncmp(path, dir, n) != 0)
        return path;
    if (dir[n - 1] == '/')
        return path + n;
    if (path[n] == '/')
        return path + n + 1;
    return path;
}

/* ---------------------------------------------------------- defaults -- */

static const char *const default_output = "results";

static void corpus_defaults(tifa_study_corpus *c, char *name)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    tifa_load_options_init(&c->load);
    c->load.corpus = name;
}

static bool study_defaults(study_impl *im)
{
    tifa_study *s = &im->pub;
    s->name = tifa_strdup("tifa");
    s->period = tifa_strdup("year");
    if (!s->name || !s->period)
        return false;
    s->default_patterns = true;
    s->quotes.min_chars = 1;
    s->quotes.max_chars = 12;
    s->ngrams.char_min = 1;
    s->ngrams.char_max = 4;
    s->ngrams.word_min = 0;
    s->ngrams.word_max = 0;
    s->ngrams.min_count = 2;
    s->ngrams.min_docs = 1;
    s->ngrams.top_k = 0;
    s->ngrams.stoplist = NULL;
    s->ngrams.memory_budget = 0;
    s->charts = true;
    tifa_plot_options_init(&s->plots);
    s->csv.bom = true;
    s->csv.encoding = "utf-8";
    s->precision = 4;
    s->threads = 0;
    s->bootstrap = 0;
    s->seed = 1;
    return true;
}

/* Caller frees with tifa_study_free. */
tifa_study *tifa_study_new(void)
{
    study_impl *im = calloc(1, sizeof *im);
    if (!im)
        return NULL;
    if (!study_defaults(im) || tifa_study_collect_params(&im->pub) != TIFA_OK) {
        tifa_study_free(&im->pub);
        return NULL;
    }
    return &im->pub;
}

static void free_params(tifa_study *s)
{
    for (size_t i = 0; i < s->n_params; i++) {
        free(s->params[i].section);
        free(s->params[i].key);
        free(s->params[i].value);
    }
    free(s->params);
    s->params = NULL;
    s->n_params = 0;
}

void tifa_study_free(tifa_study *study)
{
    if (!study)
        return;
    study_impl *im = impl_of(study);
    for (size_t i = 0; i < study->n_corpora; i++)
        free(study->corpora[i].paths);
    free(study->corpora);
    free(study->pattern_files);
    free(study->slogan_lists);
    free(study->comparisons);
    free(im->compare_names);
    free_params(study);
    free(study->path);
    free(study->dir);
    free(study->name);
    free(study->output);
    free(study->period);
    for (size_t i = 0; i < im->n_pool; i++)
        free(im->pool[i]);
    free(im->pool);
    free(im);
}

/* ------------------------------------------------------- names, lists -- */


/* NULL when name is a valid corpus or comparison name, else why not. */
static const char *name_problem(const char *name)
{
    if (!*name)
        return "it is empty";
    if (!strcmp(name, "rest"))
        return "'rest' is reserved (it means every other corpus)";
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        size_t n = tifa_utf8_seq((const char *)(p));
        if (!n)
            return "it is not valid UTF-8";
        if (n == 1 && (*p <= 0x20 || *p == 0x7F))
            return "it contains white space or a control character";
        if (n == 1 && strchr(",=/\\[];#\"'", *p))
            return "it contains one of , = / \\ [ ] ; # \" '";
        if (n == 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
            return "it contains an ideographic space";
        p += n;
    }
    return NULL;
}

static tifa_study_corpus *find_corpus(tifa_study *s, const char *name)
{
    for (size_t i = 0; i < s->n_corpora; i++)
        if (!strcmp(s->corpora[i].name, name))
            return &s->corpora[i];
    return NULL;
}

/* Appends an empty corpus with default options; NULL on ENOMEM. */
static tifa_study_corpus *new_corpus(study_impl *im, const char *name)
{
    tifa_study *s = &im->pub;
    char *copy = pool_strdup(im, name);
    if (!copy)
        return NULL;
    tifa_study_corpus *grown =
        realloc(s->corpora, (s->n_corpora + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->corpora = grown;
    tifa_study_corpus *c = &s->corpora[s->n_corpora++];
    corpus_defaults(c, copy);
    return c;
}

/* Appends a pool-owned string to a malloc'd char * array of *n items. */
static bool push_string(char ***array, size_t *n, char *s)
{
    if (!s)
        return false;
    char **grown = realloc(*array, (*n + 1) * sizeof *grown);
    if (!grown)
        return false;
    *array = grown;
    grown[(*n)++] = s;
    return true;
}

tifa_status tifa_study_add_corpus(tifa_study *study, const char *name,
                                  const char *const *paths, size_t n_paths)
{
    if (!study || !name || name_problem(name) || find_corpus(study, name))
        return TIFA_EUSAGE;
    study_impl *im = impl_of(study);
    tifa_study_corpus *c = new_corpus(im, name);
    if (!c)
        return TIFA_ENOMEM;
    for (size_t i = 0; i < n_paths; i++)
        if (!push_string(&c->paths, &c->n_paths, resolve_path(im, paths[i])))
            return TIFA_ENOMEM;
    return tifa_study_collect_params(study);
}

static bool push_comparison(study_impl *im, const char *name,
                            tifa_comparison cmp)
{
    tifa_study *s = &im->pub;
    size_t n = s->n_comparisons;
    char *copy = pool_strdup(im, name);
    if (!copy)
        return false;
    if (s->comparisons != im->last_comparisons)
        im->n_compare_names = 0; /* the caller replaced the array */
    tifa_comparison *nc = realloc(s->comparisons, (n + 1) * sizeof *nc);
    if (!nc)
        return false;
    s->comparisons = nc;
    im->last_comparisons = nc;
    char **names = realloc(im->compare_names, (n + 1) * sizeof *names);
    if (!names) {
        im->n_compare_names = im->n_compare_names < n ? im->n_compare_names : n;
        return false;
    }
    im->compare_names = names;
    for (size_t i = im->n_compare_names; i < n; i++)
        names[i] = NULL;
    nc[n] = cmp;
    names[n] = copy;
    s->n_comparisons = n + 1;
    im->n_compare_names = n + 1;
    return true;
}

/* Public: adds a comparison [compare NAME] (strings are copied). */
tifa_status tifa_study_add_comparison(tifa_study *study, const char *name,
                                      const char *target,
                                      const char *reference, bool by_group)
{
    if (!study || !name || !target || name_problem(name))
        return TIFA_EUSAGE;
    study_impl *im = impl_of(study);
    tifa_comparison cmp = {pool_strdup(im, target), NULL, by_group};
    if (!cmp.target)
        return TIFA_ENOMEM;
    if (reference && strcmp(reference, "rest") != 0) {
        cmp.reference = pool_strdup(im, reference);
        if (!cmp.reference)
            return TIFA_ENOMEM;
    }
    if (!push_comparison(im, name, cmp))
        return TIFA_ENOMEM;
    return tifa_study_collect_params(study);
}

/* ---------------------------------------------------- edit distance -- */

/* Optimal-string-alignment (restricted Damerau–Levenshtein) distance of two
 * ASCII-lowercased strings, capped at 9. */
static int edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 40 || m > 40)
        return 9;
    int d[41][41];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z')
                cb = (char)(cb - 'A' + 'a');
            if (ca == '-')
                ca = '_';
            if (cb == '-')
                cb = '_';
            int cost = ca != cb;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1) {
                char pa = a[i - 2], pb = b[j - 2];
                if (pa >= 'A' && pa <= 'Z')
                    pa = (char)(pa - 'A' + 'a');
                if (pb >= 'A' && pb <= 'Z')
                    pb = (char)(pb - 'A' + 'a');
                if (ca == pb && pa == cb && d[i - 2][j - 2] + 1 < v)
                    v = d[i - 2][j - 2] + 1;
            }
            d[i][j] = v;
        }
    }
    return d[n][m] > 9 ? 9 : d[n][m];
}

/* The nearest of a NULL-terminated list within distance 2 (1 for words of
 * up to three bytes), or NULL (borrowed from the list). */
static const char *nearest(const char *word, const char *const *choices)
{
    const char *best = NULL;
    int best_d = 99;
    size_t len = strlen(word);
    int limit = len <= 3 ? 1 : 2;
    for (size_t i = 0; choices[i]; i++) {
        int d = edit_distance(word, choices[i]);
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    return best_d <= limit && (size_t)best_d < len ? best : NULL;
}

/* ------------------------------------------------------ section table -- */

enum {
    SEC_INVALID = -1,
    SEC_STUDY = 0,
    SEC_CORPUS,
    SEC_PATTERNS,
    SEC_NGRAMS,
    SEC_COMPARE,
    SEC_TREND,
    SEC_CHARTS,
    SEC_CSV,
    SEC_COUNT
};

static const char *const section_names[SEC_COUNT + 1] = {
    "study", "corpus", "patterns", "ngrams", "compare", "trend", "charts",
    "csv", NULL};
static const bool section_named[SEC_COUNT] = {false, true,  false, false,
                                              true,  false, false, false};

#define MAX_KEYS 16

static const char *const keys_study[] = {"name",      "output",    "threads",
                                         "seed",      "bootstrap", "precision",
                                         NULL};
static const char *const keys_corpus[] = {
    "paths",     "format",   "encoding",   "separator",      "text_field",
    "title_field", "date_field", "id_field", "group_by",     "replies",
    "titles",    "simplified", "strict",   "duplicates",     "near_duplicate",
    "boilerplate", NULL};
static const char *const keys_patterns[] = {"default",   "files",
                                            "slogans",   "min_chars",
                                            "max_chars", NULL};
static const char *const keys_ngrams[] = {"char",   "word",     "min_count",
                                          "min_docs", "top_k",  "stoplist",
                                          "memory", NULL};
static const char *const keys_compare[] = {"target", "reference", "by", NULL};
static const char *const keys_trend[] = {"period", NULL};
static const char *const keys_charts[] = {"enabled", "language", "width_cm",
                                          "height_cm", "dpi",    "pdf",
                                          "top_n",   "font",     NULL};
static const char *const keys_csv[] = {"bom", "encoding", NULL};

static const char *const *const section_keys[SEC_COUNT] = {
    keys_study, keys_corpus, keys_patterns, keys_ngrams,
    keys_compare, keys_trend, keys_charts, keys_csv};

/* Keys whose value is a comma-separated list that may continue on indented
 * lines. */
static bool is_list_key(int kind, const char *key)
{
    return (kind == SEC_CORPUS && !strcmp(key, "paths")) ||
           (kind == SEC_PATTERNS &&
            (!strcmp(key, "files") || !strcmp(key, "slogans")));
}

static int key_index(int kind, const char *key)
{
    const char *const *keys = section_keys[kind];
    for (int i = 0; keys[i]; i++)
        if (!strcmp(keys[i], key))
            return i;
    return -1;
}

/* ------------------------------------------------------- parse context -- */

typedef struct section {
    int kind;          /* SEC_* (SEC_INVALID: header rejected, keys ignored) */
    long line;
    char label[160];   /* "corpus qiyang", for messages */
    char name[128];    /* NAME of [corpus NAME] / [compare NAME] */
    size_t index;      /* corpus or comparison index */
    long seen[MAX_KEYS]; /* line where each key was set, 0 = not yet */
    int last_key;      /* key the next continuation line continues, or -1 */
} section;

typedef struct compare_lines {
    long section, target, reference, by;
} compare_lines;

typedef struct parse_ctx {
    study_impl *im;
    const char *file;       /* as given to tifa_study_load, for diag */
    tifa_diag *diag;
    FILE *fp;
    size_t errors;
    bool nomem;
    long lineno;
    char *line;             /* current raw line (getline buffer) */
    size_t line_cap;
    bool continuation;      /* current line continues the previous key */
    bool have_key;          /* libinih has a previous key (prev_name) */
    bool outside_reported;
    section *sections;
    size_t n_sections, cap_sections;
    long cur;               /* current section index or -1 */
    compare_lines *cmp_lines;
    size_t cap_cmp_lines;
    long min_chars_line, max_chars_line;
} parse_ctx;

static void err(parse_ctx *c, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err(parse_ctx *c, long line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tifa_diag_vadd(c->diag, TIFA_ERROR, TIFA_EUSAGE, c->file, line, -1, fmt,
                   ap);
    va_end(ap);
    c->errors++;
}

static void nomem(parse_ctx *c)
{
    if (!c->nomem)
        tifa_diag_add(c->diag, TIFA_ERROR, TIFA_ENOMEM, c->file, c->lineno, -1,
                      "out of memory while reading the study file");
    c->nomem = true;
}

/* Writes ", a, b, c" style lists of choices into buf. */
static const char *join_choices(char *buf, size_t size,
                                const char *const *choices)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i]; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         choices[i]);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

static void bad_value(parse_ctx *c, const section *s, const char *key,
                      const char *value, const char *expected)
{
    err(c, c->lineno, "bad value '%s' for '%s' in [%s]: expected %s", value,
        key, s->label, expected);
}

static void bad_choice(parse_ctx *c, const section *s, const char *key,
                       const char *value, const char *const *choices)
{
    char list[256];
    const char *near = nearest(value, choices);
    join_choices(list, sizeof list, choices);
    if (near)
        err(c, c->lineno,
            "bad value '%s' for '%s' in [%s]: expected one of %s; did you "
            "mean '%s'?",
            value, key, s->label, list, near);
    else
        err(c, c->lineno, "bad value '%s' for '%s' in [%s]: expected one of %s",
            value, key, s->label, list);
}

/* ------------------------------------------------------- value parsers -- */

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcasecmp(v, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool parse_long(const char *v, long lo, long hi, long *out)
{
    if (!((*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9')))
        return false;
    errno = 0;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || errno || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static bool parse_ulong(const char *v, unsigned long *out)
{
    if (!(*v >= '0' && *v <= '9'))
        return false;
    errno = 0;
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (*end || errno)
        return false;
    *out = x;
    return true;
}

/* A finite number in [lo, hi] (lo excluded when lo_open). */
static bool parse_real(const char *v, double lo, bool lo_open, double hi,
                       double *out)
{
    errno = 0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x) || x > hi || x < lo ||
        (lo_open && x == lo))
        return false;
    *out = x;
    return true;
}

/* A byte size: digits with an optional K, M, G or T (powers of 1024),
 * optionally followed by B or iB; "0", "off" and "unlimited" give 0. */
static bool parse_size(const char *v, size_t *out)
{
    if (!strcasecmp(v, "off") || !strcasecmp(v, "unlimited")) {
        *out = 0;
        return true;
    }
    if (!(*v >= '0' && *v <= '9'))
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && (*end == 'i' || *end == 'I') && (end[1] == 'b' || end[1] == 'B'))
        end += 2;
    else if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return false;
    if (shift && x > (unsigned long long)SIZE_MAX >> shift)
        return false;
    if (x > SIZE_MAX)
        return false;
    *out = (size_t)(x << shift);
    return true;
}

/* "N", "N-M" within [lo, hi], or "off"/"none"/"0" (both 0). */
static bool parse_range(const char *v, int lo, int hi, int *a, int *b)
{
    if (!strcasecmp(v, "off") || !strcasecmp(v, "none") || !strcmp(v, "0")) {
        *a = *b = 0;
        return true;
    }
    if (!(*v >= '0' && *v <= '9'))
        return false;
    char *end;
    long x = strtol(v, &end, 10), y = x;
    if (*end == '-') {
        const char *w = end + 1;
        if (!(*w >= '0' && *w <= '9'))
            return false;
        y = strtol(w, &end, 10);
    }
    if (*end || x < lo || y > hi || x > y)
        return false;
    *a = (int)x;
    *b = (int)y;
    return true;
}

/* NULL when pattern is a valid ICU regular expression, else a message in
 * buf. */
static const char *regex_problem(const char *pattern, char *buf, size_t size)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, pattern, -1, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) {
        snprintf(buf, size, "not valid UTF-8");
        return buf;
    }
    st = U_ZERO_ERROR;
    UChar *u = malloc(((size_t)ulen + 1) * sizeof *u);
    if (!u) {
        snprintf(buf, size, "out of memory");
        return buf;
    }
    u_strFromUTF8(u, ulen + 1, NULL, pattern, -1, &st);
    UParseError pe;
    memset(&pe, 0, sizeof pe);
    URegularExpression *re = U_SUCCESS(st) ? uregex_open(u, ulen, 0, &pe, &st)
                                           : NULL;
    free(u);
    if (U_FAILURE(st)) {
        snprintf(buf, size, "invalid regular expression (%s at offset %ld)",
                 u_errorName(st), (long)pe.offset);
        return buf;
    }
    uregex_close(re);
    return NULL;
}

static bool encoding_known(const char *name)
{
    UErrorCode st = U_ZERO_ERROR;
    UConverter *cv = ucnv_open(name, &st);
    if (U_FAILURE(st))
        return false;
    ucnv_close(cv);
    return true;
}

/* Calls add(item) for each comma-separated, trimmed item of v; reports an
 * empty item.  Returns false only on ENOMEM. */
typedef bool (*item_fn)(parse_ctx *c, const char *item, void *user);

static void for_each_item(parse_ctx *c, const section *s, const char *key,
                          const char *v, item_fn add, void *user)
{
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (a == b) {
            /* a trailing comma before a continuation line is fine */
            if (comma || p == v)
                err(c, c->lineno, "empty item in the list '%s' of '%s' in [%s]",
                    v, key, s->label);
        } else {
            char *item = tifa_strndup(a, (size_t)(b - a));
            if (!item || !add(c, item, user)) {
                free(item);
                nomem(c);
                return;
            }
            free(item);
        }
        if (!comma)
            break;
        p = comma + 1;
        if (!*p)
            break; /* trailing comma: the list goes on on the next line */
    }
}

typedef struct list_target {
    char ***array;
    size_t *n;
} list_target;

static bool add_path_item(parse_ctx *c, const char *item, void *user)
{
    list_target *t = user;
    return push_string(t->array, t->n, resolve_path(c->im, item));
}

/* Sets *field to a resolved pool copy of a path value. */
static void set_path(parse_ctx *c, const char **field, const char *v)
{
    char *p = resolve_path(c->im, v);
    if (!p)
        nomem(c);
    *field = p;
}

static void set_string(parse_ctx *c, const char **field, const char *v)
{
    char *p = pool_strdup(c->im, v);
    if (!p)
        nomem(c);
    *field = p;
}

/* ------------------------------------------------------ key appliers -- */

static void apply_study(parse_ctx *c, section *s, const char *key,
                        const char *v)
{
    tifa_study *st = &c->im->pub;
    long x;
    unsigned long u;
    if (!strcmp(key, "name")) {
        char *p = tifa_strdup(v);
        if (!p) {
            nomem(c);
        } else {
            free(st->name);
            st->name = p;
        }
    } else if (!strcmp(key, "output")) {
        char *p = resolve_path_alloc(c->im, v);
        if (!p) {
            nomem(c);
        } else {
            free(st->output);
            st->output = p;
        }
    } else if (!strcmp(key, "threads")) {
        if (parse_long(v, 0, 1024, &x))
            st->threads = (int)x;
        else
            bad_value(c, s, key, v, "a whole number from 0 (all cores) to 1024");
    } else if (!strcmp(key, "seed")) {
        if (parse_ulong(v, &u))
            st->seed = u;
        else
            bad_value(c, s, key, v, "a whole number from 0");
    } else if (!strcmp(key, "bootstrap")) {
        if (parse_long(v, 0, 1000000, &x))
            st->bootstrap = (unsigned)x;
        else
            bad_value(c, s, key, v,
                      "a number of replicates from 0 (off) to 1000000");
    } else if (!strcmp(key, "precision")) {
        if (parse_long(v, 0, 15, &x))
            st->precision = (int)x;
        else
            bad_value(c, s, key, v, "a number of decimals from 0 to 15");
    }
}

static const char *const format_choices[] = {
    "auto", "text", "forum", "separated", "jsonl", "csv", "tsv", NULL};
static const char *const duplicate_choices[] = {"skip", "keep", NULL};

static void apply_corpus(parse_ctx *c, section *s, const char *key,
                         const char *v)
{
    tifa_study_corpus *corpus = &c->im->pub.corpora[s->index];
    tifa_load_options *o = &corpus->load;
    bool b;
    double d;
    char msg[160];
    if (!strcmp(key, "paths")) {
        list_target t = {&corpus->paths, &corpus->n_paths};
        for_each_item(c, s, key, v, add_path_item, &t);
    } else if (!strcmp(key, "format")) {
        tifa_format f;
        if (tifa_format_parse(v, &f) == TIFA_OK)
            o->format = f;
        else
            bad_choice(c, s, key, v, format_choices);
    } else if (!strcmp(key, "encoding")) {
        if (!strcasecmp(v, "auto"))
            o->encoding = NULL;
        else if (encoding_known(v))
            set_string(c, &o->encoding, v);
        else
            bad_value(c, s, key, v,
                      "'auto' or an encoding name ICU knows (utf-8, gb18030, "
                      "gbk, big5, big5-hkscs, utf-16le, ...)");
    } else if (!strcmp(key, "separator")) {
        if (regex_problem(v, msg, sizeof msg))
            err(c, c->lineno, "bad value '%s' for 'separator' in [%s]: %s", v,
                s->label, msg);
        else
            set_string(c, &o->separator, v);
    } else if (!strcmp(key, "text_field")) {
        set_string(c, &o->text_field, v);
    } else if (!strcmp(key, "title_field")) {
        set_string(c, &o->title_field, v);
    } else if (!strcmp(key, "date_field")) {
        set_string(c, &o->date_field, v);
    } else if (!strcmp(key, "id_field")) {
        set_string(c, &o->id_field, v);
    } else if (!strcmp(key, "group_by")) {
        set_string(c, &o->group_by, v);
    } else if (!strcmp(key, "replies") || !strcmp(key, "titles") ||
               !strcmp(key, "simplified") || !strcmp(key, "strict")) {
        if (!parse_bool(v, &b)) {
            bad_value(c, s, key, v, "true or false");
            return;
        }
        if (key[0] == 'r')
            o->include_replies = b;
        else if (key[0] == 't')
            o->include_titles = b;
        else if (key[1] == 'i')
            o->simplified = b;
        else
            o->strict = b;
    } else if (!strcmp(key, "duplicates")) {
        if (!strcmp(v, "skip"))
            o->keep_duplicates = false;
        else if (!strcmp(v, "keep"))
            o->keep_duplicates = true;
        else
            bad_choice(c, s, key, v, duplicate_choices);
    } else if (!strcmp(key, "near_duplicate")) {
        if (parse_real(v, 0.0, false, 1.0, &d))
            o->near_duplicate = d;
        else
            bad_value(c, s, key, v,
                      "a similarity from 0 (near-duplicates off) to 1");
    } else if (!strcmp(key, "boilerplate")) {
        set_path(c, &o->boilerplate, v);
    }
}

static void apply_patterns(parse_ctx *c, section *s, const char *key,
                           const char *v)
{
    tifa_study *st = &c->im->pub;
    bool b;
    long x;
    if (!strcmp(key, "default")) {
        if (parse_bool(v, &b))
            st->default_patterns = b;
        else
            bad_value(c, s, key, v, "true or false");
    } else if (!strcmp(key, "files")) {
        list_target t = {&st->pattern_files, &st->n_pattern_files};
        for_each_item(c, s, key, v, add_path_item, &t);
    } else if (!strcmp(key, "slogans")) {
        list_target t = {&st->slogan_lists, &st->n_slogan_lists};
        for_each_item(c, s, key, v, add_path_item, &t);
    } else if (!strcmp(key, "min_chars") || !strcmp(key, "max_chars")) {
        if (!parse_long(v, 1, 100, &x)) {
            bad_value(c, s, key, v, "a number of characters from 1 to 100");
        } else if (key[1] == 'i') {
            st->quotes.min_chars = (size_t)x;
            c->min_chars_line = c->lineno;
        } else {
            st->quotes.max_chars = (size_t)x;
            c->max_chars_line = c->lineno;
        }
    }
}

static void apply_ngrams(parse_ctx *c, section *s, const char *key,
                         const char *v)
{
    tifa_ngram_options *o = &c->im->pub.ngrams;
    long x;
    size_t z;
    if (!strcmp(key, "char")) {
        if (!parse_range(v, 1, 8, &o->char_min, &o->char_max))
            bad_value(c, s, key, v,
                      "N or N-M with 1 <= N <= M <= 8 (e.g. 1-4), or off");
    } else if (!strcmp(key, "word")) {
        if (!parse_range(v, 1, 4, &o->word_min, &o->word_max))
            bad_value(c, s, key, v,
                      "N or N-M with 1 <= N <= M <= 4 (e.g. 1-3), or off");
    } else if (!strcmp(key, "min_count")) {
        if (parse_long(v, 1, LONG_MAX, &x))
            o->min_count = x;
        else
            bad_value(c, s, key, v, "a whole number from 1");
    } else if (!strcmp(key, "min_docs")) {
        if (parse_long(v, 1, LONG_MAX, &x))
            o->min_docs = x;
        else
            bad_value(c, s, key, v, "a whole number from 1");
    } else if (!strcmp(key, "top_k")) {
        if (parse_long(v, 0, LONG_MAX, &x))
            o->top_k = (size_t)x;
        else
            bad_value(c, s, key, v, "a whole number from 0 (all)");
    } else if (!strcmp(key, "stoplist")) {
        set_path(c, &o->stoplist, v);
    } else if (!strcmp(key, "memory")) {
        if (parse_size(v, &z) && (z == 0 || z >= ((size_t)1 << 20)))
            o->memory_budget = z;
        else
            bad_value(c, s, key, v,
                      "a size of at least 1M such as 512M or 2G, or 0 "
                      "(unlimited)");
    }
}

static const char *const by_choices[] = {"corpus", "group", NULL};

static void apply_compare(parse_ctx *c, section *s, const char *key,
                          const char *v)
{
    tifa_comparison *cmp = &c->im->pub.comparisons[s->index];
    compare_lines *lines = &c->cmp_lines[s->index];
    if (!strcmp(key, "target")) {
        set_string(c, &cmp->target, v);
        lines->target = c->lineno;
    } else if (!strcmp(key, "reference")) {
        if (!strcmp(v, "rest"))
            cmp->reference = NULL;
        else
            set_string(c, &cmp->reference, v);
        lines->reference = c->lineno;
    } else if (!strcmp(key, "by")) {
        if (!strcmp(v, "corpus"))
            cmp->by_group = false;
        else if (!strcmp(v, "group"))
            cmp->by_group = true;
        else
            bad_choice(c, s, key, v, by_choices);
        lines->by = c->lineno;
    }
}

static const char *const period_choices[] = {"year", "decade", NULL};
static const char *const language_choices[] = {"zh", "en", NULL};
static const char *const csv_encoding_choices[] = {"utf-8", "gb18030", NULL};

static void apply_trend(parse_ctx *c, section *s, const char *key,
                        const char *v)
{
    long x;
    char num[24];
    const char *value = NULL;
    if (!strcmp(v, "year") || !strcmp(v, "decade")) {
        value = v;
    } else if (parse_long(v, 1, 1000, &x)) {
        snprintf(num, sizeof num, "%ld", x);
        value = num;
    }
    if (value) {
        char *p = tifa_strdup(value);
        if (!p) {
            nomem(c);
        } else {
            free(c->im->pub.period);
            c->im->pub.period = p;
        }
    } else if (nearest(v, period_choices)) {
        bad_choice(c, s, key, v, period_choices);
    } else {
        bad_value(c, s, key, v, "year, decade or a number of years (1-1000)");
    }
}

static void apply_charts(parse_ctx *c, section *s, const char *key,
                         const char *v)
{
    tifa_study *st = &c->im->pub;
    tifa_plot_options *o = &st->plots;
    bool b;
    long x;
    double d;
    if (!strcmp(key, "enabled") || !strcmp(key, "pdf")) {
        if (!parse_bool(v, &b))
            bad_value(c, s, key, v, "true or false");
        else if (key[0] == 'e')
            st->charts = b;
        else
            o->pdf = b;
    } else if (!strcmp(key, "language")) {
        if (!strcmp(v, "zh") || !strcmp(v, "en"))
            set_string(c, &o->language, v);
        else
            bad_choice(c, s, key, v, language_choices);
    } else if (!strcmp(key, "width_cm") || !strcmp(key, "height_cm")) {
        if (!parse_real(v, 1.0, false, 200.0, &d))
            bad_value(c, s, key, v, "a size in centimetres from 1 to 200");
        else if (key[0] == 'w')
            o->width_cm = d;
        else
            o->height_cm = d;
    } else if (!strcmp(key, "dpi")) {
        if (parse_long(v, 30, 2400, &x))
            o->dpi = (int)x;
        else
            bad_value(c, s, key, v, "a resolution from 30 to 2400");
    } else if (!strcmp(key, "top_n")) {
        if (parse_long(v, 1, 1000, &x))
            o->top_n = (size_t)x;
        else
            bad_value(c, s, key, v, "a number of bars from 1 to 1000");
    } else if (!strcmp(key, "font")) {
        if (!strcasecmp(v, "auto"))
            o->font = NULL;
        else
            set_string(c, &o->font, v);
    }
}

static void apply_csv(parse_ctx *c, section *s, const char *key,
                      const char *v)
{
    tifa_csv_options *o = &c->im->pub.csv;
    bool b;
    if (!strcmp(key, "bom")) {
        if (parse_bool(v, &b))
            o->bom = b;
        else
            bad_value(c, s, key, v, "true or false");
    } else if (!strcmp(key, "encoding")) {
        if (!strcasecmp(v, "utf-8") || !strcasecmp(v, "utf8"))
            o->encoding = "utf-8";
        else if (!strcasecmp(v, "gb18030"))
            o->encoding = "gb18030";
        else
            bad_choice(c, s, key, v, csv_encoding_choices);
    }
}

static void apply(parse_ctx *c, section *s, const char *key, const char *v)
{
    switch (s->kind) {
    case SEC_STUDY: apply_study(c, s, key, v); break;
    case SEC_CORPUS: apply_corpus(c, s, key, v); break;
    case SEC_PATTERNS: apply_patterns(c, s, key, v); break;
    case SEC_NGRAMS: apply_ngrams(c, s, key, v); break;
    case SEC_COMPARE: apply_compare(c, s, key, v); break;
    case SEC_TREND: apply_trend(c, s, key, v); break;
    case SEC_CHARTS: apply_charts(c, s, key, v); break;
    case SEC_CSV: apply_csv(c, s, key, v); break;
    default: break;
    }
}

/* --------------------------------------------------- libinih handler -- */

/* A key of another section spelled exactly like key (for the hint), or
 * SEC_INVALID. */
static int section_with_key(const char *key)
{
    for (int k = 0; k < SEC_COUNT; k++)
        if (key_index(k, key) >= 0)
            return k;
    return SEC_INVALID;
}

static int on_key(void *user, const char *ini_section, const char *key,
                  const char *value)
{
    parse_ctx *c = user;
    (void)ini_section; /* our reader tracks sections (it also sees empty ones) */
    if (c->nomem)
        return 1;
    if (c->cur < 0) {
        if (!c->outside_reported)
            err(c, c->lineno,
                "'%s' is set before any section; put it under a section "
                "such as [study]",
                key);
        c->outside_reported = true;
        return 1;
    }
    section *s = &c->sections[c->cur];
    if (s->kind == SEC_INVALID)
        return 1; /* the header was reported */
    if (c->continuation) {
        if (s->last_key < 0)
            return 1; /* continues a key already reported */
        const char *prev = section_keys[s->kind][s->last_key];
        if (!is_list_key(s->kind, prev)) {
            err(c, c->lineno,
                "indented line continues '%s' in [%s], which takes a single "
                "value; only the lists paths, files and slogans may go on over "
                "indented lines",
                prev, s->label);
            s->last_key = -1;
            return 1;
        }
        apply(c, s, prev, value);
        return 1;
    }
    int k = key_index(s->kind, key);
    s->last_key = -1;
    if (k < 0) {
        const char *near = nearest(key, section_keys[s->kind]);
        int other = section_with_key(key);
        if (near)
            err(c, c->lineno, "unknown key '%s' in [%s]; did you mean '%s'?",
                key, s->label, near);
        else if (other != SEC_INVALID)
            err(c, c->lineno,
                "unknown key '%s' in [%s]; '%s' belongs in a [%s%s] section",
                key, s->label, key, section_names[other],
                section_named[other] ? " NAME" : "");
        else
            err(c, c->lineno, "unknown key '%s' in [%s]", key, s->label);
        return 1;
    }
    if (s->seen[k]) {
        err(c, c->lineno, "duplicate key '%s' in [%s] (first set at line %ld)",
            key, s->label, s->seen[k]);
        return 1;
    }
    s->seen[k] = c->lineno;
    s->last_key = k;
    if (!*value) {
        err(c, c->lineno,
            "empty value for '%s' in [%s]; remove the line to get the default",
            key, s->label);
        return 1;
    }
    apply(c, s, key, value);
    return 1;
}

/* ------------------------------------------------------ section header -- */

static section *push_section(parse_ctx *c, int kind, const char *label,
                             const char *name)
{
    if (!grow((void **)&c->sections, &c->cap_sections, c->n_sections + 1,
              sizeof *c->sections)) {
        nomem(c);
        return NULL;
    }
    section *s = &c->sections[c->n_sections];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->line = c->lineno;
    s->last_key = -1;
    snprintf(s->label, sizeof s->label, "%s", label);
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    c->cur = (long)c->n_sections++;
    return s;
}

/* Handles "[inner]" (inner not NUL-terminated, n bytes). */
static void open_section(parse_ctx *c, const char *inner, size_t n)
{
    char label[160];
    while (n && (*inner == ' ' || *inner == '\t')) {
        inner++;
        n--;
    }
    while (n && (inner[n - 1] == ' ' || inner[n - 1] == '\t'))
        n--;
    if (n >= sizeof label) {
        err(c, c->lineno, "section header too long");
        push_section(c, SEC_INVALID, "?", NULL);
        return;
    }
    memcpy(label, inner, n);
    label[n] = '\0';
    char kind_word[160];
    size_t kl = strcspn(label, " \t");
    memcpy(kind_word, label, kl);
    kind_word[kl] = '\0';
    const char *name = label + kl;
    while (*name == ' ' || *name == '\t')
        name++;

    int kind = SEC_INVALID;
    for (int k = 0; k < SEC_COUNT; k++)
        if (!strcmp(kind_word, section_names[k]))
            kind = k;
    if (kind == SEC_INVALID) {
        const char *near = nearest(kind_word, section_names);
        if (near)
            err(c, c->lineno, "unknown section [%s]; did you mean [%s%s%s]?",
                label, near, *name ? " " : "", name);
        else
            err(c, c->lineno,
                "unknown section [%s]; sections are [study], [corpus NAME], "
                "[patterns], [ngrams], [compare NAME], [trend], [charts], "
                "[csv]",
                label);
        push_section(c, SEC_INVALID, label, NULL);
        return;
    }
    if (section_named[kind] && !*name) {
        err(c, c->lineno, "section [%s] needs a name: [%s NAME]", label, label);
        push_section(c, SEC_INVALID, label, NULL);
        return;
    }
    if (!section_named[kind] && *name) {
        err(c, c->lineno, "section [%s] takes no name; write [%s]", label,
            kind_word);
        push_section(c, SEC_INVALID, label, NULL);
        return;
    }
    const char *why = section_named[kind] ? name_problem(name) : NULL;
    if (why) {
        err(c, c->lineno, "bad %s name '%s': %s", kind_word, name, why);
        push_section(c, SEC_INVALID, label, NULL);
        return;
    }
    if (strlen(name) >= sizeof c->sections[0].name) {
        err(c, c->lineno, "%s name '%s' is too long", kind_word, name);
        push_section(c, SEC_INVALID, label, NULL);
        return;
    }
    for (size_t i = 0; i < c->n_sections; i++) {
        const section *o = &c->sections[i];
        if (o->kind != kind || strcmp(o->name, name) != 0)
            continue;
        if (kind == SEC_CORPUS)
            err(c, c->lineno, "duplicate corpus '%s' (first defined at line %ld)",
                name, o->line);
        else if (kind == SEC_COMPARE)
            err(c, c->lineno,
                "duplicate comparison '%s' (first defined at line %ld)", name,
                o->line);
        else
            err(c, c->lineno,
                "section [%s] appears twice (first at line %ld); put all its "
                "keys in one section",
                label, o->line);
        push_section(c, SEC_INVALID, label, NULL);
        return;
    }
    /* Normalise the label to "kind NAME" with one space. */
    char norm[160];
    snprintf(norm, sizeof norm, "%s%s%s", kind_word, *name ? " " : "", name);
    section *s = push_section(c, kind, norm, name);
    if (!s)
        return;
    study_impl *im = c->im;
    if (kind == SEC_CORPUS) {
        if (!new_corpus(im, name)) {
            nomem(c);
            return;
        }
        s->index = im->pub.n_corpora - 1;
    } else if (kind == SEC_COMPARE) {
        tifa_comparison cmp = {NULL, NULL, false};
        if (!push_comparison(im, name, cmp) ||
            !grow((void **)&c->cmp_lines, &c->cap_cmp_lines,
                  im->pub.n_comparisons, sizeof *c->cmp_lines)) {
            nomem(c);
            return;
        }
        s->index = im->pub.n_comparisons - 1;
        compare_lines z = {c->lineno, 0, 0, 0};
        c->cmp_lines[s->index] = z;
    }
}

/* ------------------------------------------------------------ reader -- */

static bool is_key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
}

/* True when s starts like "key =" or "key:". */
static bool looks_like_key(const char *s)
{
    const char *p = s;
    while (is_key_char(*p))
        p++;
    if (p == s)
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '=' || *p == ':';
}

static char *give_line(char *str, int num, const char *text)
{
    snprintf(str, (size_t)num, "%s\n", text);
    return str;
}

/* libinih's fgets-like reader: returns each physical line of the study,
 * after numbering it, handling section headers and flagging syntax errors
 * (an erroneous line is given to libinih as an empty line). */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *c = stream;
    errno = 0;
    ssize_t n = getline(&c->line, &c->line_cap, c->fp);
    if (n < 0) {
        if (errno && errno != EINVAL)
            err(c, c->lineno + 1, "cannot read the study file: %s",
                strerror(errno));
        return NULL;
    }
    c->lineno++;
    c->continuation = false;
    char *line = c->line;
    if ((size_t)n != strlen(line)) {
        err(c, c->lineno, "NUL byte in the study file");
        return give_line(str, num, "");
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (c->lineno == 1 && !strncmp(line, "\xEF\xBB\xBF", 3)) {
        line += 3;
        n -= 3;
    }
    const unsigned char *u = (const unsigned char *)line;
    for (size_t i = 0; i < (size_t)n;) {
        size_t k = tifa_utf8_seq((const char *)(u + i));
        if (!k) {
            err(c, c->lineno, "the study file is not valid UTF-8 (byte %zu)",
                i + 1);
            return give_line(str, num, "");
        }
        i += k;
    }
    if (n + 2 > num) {
        err(c, c->lineno,
            "line longer than %d bytes; split a long list over indented "
            "continuation lines",
            num - 2);
        return give_line(str, num, "");
    }
    char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    bool indented = s > line;
    if (!*s || *s == ';' || *s == '#')
        return give_line(str, num, s);
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close) {
            err(c, c->lineno, "missing ']' in section header '%s'", s);
            push_section(c, SEC_INVALID, "?", NULL);
            c->have_key = false;
            return give_line(str, num, "");
        }
        const char *after = close + 1;
        while (*after == ' ' || *after == '\t')
            after++;
        if (*after && *after != ';' && *after != '#')
            err(c, c->lineno, "text after the section header: '%s'", after);
        open_section(c, s + 1, (size_t)(close - s - 1));
        c->have_key = false;
        return give_line(str, num, s);
    }
    if (looks_like_key(s)) {
        c->have_key = true;
        return give_line(str, num, s); /* un-indented: never a continuation */
    }
    if (indented && c->have_key) {
        /* libinih keeps inline comments on continuation lines: drop them */
        for (char *q = s; *q; q++) {
            if (*q == ';' && (q[-1] == ' ' || q[-1] == '\t')) {
                *q = '\0';
                break;
            }
        }
        c->continuation = true;
        return give_line(str, num, line);
    }
    if (strpbrk(s, "=:")) {
        c->have_key = true;
        return give_line(str, num, s);
    }
    err(c, c->lineno, "expected '[section]' or 'key = value', found '%s'", s);
    return give_line(str, num, "");
}

/* -------------------------------------------------------- cross checks -- */

static void list_corpora(const tifa_study *st, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < st->n_corpora; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         st->corpora[i].name);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
}

static void check_study(parse_ctx *c)
{
    tifa_study *st = &c->im->pub;
    if (st->n_corpora == 0 && !c->nomem) {
        bool any_corpus_header = false;
        for (size_t i = 0; i < c->n_sections; i++)
            if (!strncmp(c->sections[i].label, "corpus", 6))
                any_corpus_header = true;
        if (!any_corpus_header)
            err(c, 0,
                "the study has no corpus: add a [corpus NAME] section with "
                "paths = FILES");
    }
    for (size_t i = 0; i < c->n_sections; i++) {
        const section *s = &c->sections[i];
        if (s->kind != SEC_CORPUS)
            continue;
        const tifa_study_corpus *corpus = &st->corpora[s->index];
        if (corpus->n_paths == 0)
            err(c, s->line, "[%s] has no paths: add paths = FILES", s->label);
        if (corpus->load.format == TIFA_FORMAT_SEPARATED &&
            !corpus->load.separator)
            err(c, s->line,
                "[%s] has format = separated but no separator (a regular "
                "expression matching the separator lines)",
                s->label);
    }
    if (st->quotes.min_chars > st->quotes.max_chars) {
        long line = c->min_chars_line > c->max_chars_line ? c->min_chars_line
                                                          : c->max_chars_line;
        err(c, line, "min_chars (%zu) is greater than max_chars (%zu) in [patterns]",
            st->quotes.min_chars, st->quotes.max_chars);
    }
    bool any_group = false;
    for (size_t i = 0; i < st->n_corpora; i++)
        if (st->corpora[i].load.group_by)
            any_group = true;
    char names[512];
    list_corpora(st, names, sizeof names);
    for (size_t i = 0; i < c->n_sections; i++) {
        const section *s = &c->sections[i];
        if (s->kind != SEC_COMPARE)
            continue;
        const tifa_comparison *cmp = &st->comparisons[s->index];
        const compare_lines *l = &c->cmp_lines[s->index];
        if (!cmp->target) {
            if (!l->target)
                err(c, s->line, "[%s] has no target: add target = CORPUS",
                    s->label);
            continue;
        }
        if (cmp->by_group) {
            if (!any_group)
                err(c, l->by ? l->by : s->line,
                    "[%s] compares groups, but no corpus sets group_by",
                    s->label);
            continue;
        }
        if (!find_corpus(st, cmp->target))
            err(c, l->target,
                "[%s]: target '%s' is not a corpus of this study (corpora: %s)",
                s->label, cmp->target, names);
        if (cmp->reference && !find_corpus(st, cmp->reference))
            err(c, l->reference,
                "[%s]: reference '%s' is not a corpus of this study (corpora: "
                "%s; or 'rest')",
                s->label, cmp->reference, names);
        if (cmp->reference && !strcmp(cmp->reference, cmp->target))
            err(c, l->reference, "[%s]: target and reference are both '%s'",
                s->label, cmp->target);
    }
}

/* --------------------------------------------------------------- load -- */

/* Caller frees with tifa_study_free; NULL with *status set on error. */
tifa_study *tifa_study_load(const char *path, tifa_diag *diag,
                            tifa_status *status)
{
    tifa_status dummy;
    if (!status)
        status = &dummy;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        *status = e == ENOENT ? TIFA_ENOENT : TIFA_EIO;
        tifa_diag_add(diag, TIFA_ERROR, *status, path, 0, -1,
                      "cannot open the study file: %s", strerror(e));
        return NULL;
    }
    tifa_study *st = tifa_study_new();
    if (!st) {
        fclose(fp);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    study_impl *im = impl_of(st);
    parse_ctx c;
    memset(&c, 0, sizeof c);
    c.im = im;
    c.file = path;
    c.diag = diag;
    c.fp = fp;
    c.cur = -1;

    /* The folder of the study, the default name (file stem) and output. */
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    free(st->name);
    st->path = tifa_strdup(path);
    st->dir = slash ? tifa_strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : tifa_strdup(".");
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    st->name = tifa_strndup(base, stem);
    if (!st->path || !st->dir || !st->name ||
        !(st->output = resolve_path_alloc(im, default_output)))
        nomem(&c);

    int rc = c.nomem ? 0 : ini_parse_stream(read_line, &c, on_key, &c);
    fclose(fp);
    if (rc == -2)
        nomem(&c);
    else if (rc > 0 && c.errors == 0)
        err(&c, rc, "syntax error");
    if (!c.nomem)
        check_study(&c);
    free(c.line);
    free(c.sections);
    free(c.cmp_lines);

    if (c.nomem || c.errors) {
        *status = c.nomem ? TIFA_ENOMEM : TIFA_EUSAGE;
        tifa_study_free(st);
        return NULL;
    }
    *status = tifa_study_collect_params(st);
    if (*status != TIFA_OK) {
        tifa_study_free(st);
        return NULL;
    }
    return st;
}

/* ------------------------------------------------------------- params -- */

typedef struct param_list {
    tifa_param *v;
    size_t n, cap;
    bool nomem;
} param_list;

static void padd(param_list *l, const char *sec, const char *key,
                 const char *value)
{
    if (l->nomem)
        return;
    if (!grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) {
        l->nomem = true;
        return;
    }
    tifa_param *p = &l->v[l->n];
    p->section = tifa_strdup(sec);
    p->key = tifa_strdup(key);
    p->value = tifa_strdup(value ? value : "");
    if (!p->section || !p->key || !p->value) {
        free(p->section);
        free(p->key);
        free(p->value);
        l->nomem = true;
        return;
    }
    l->n++;
}

static void padd_bool(param_list *l, const char *sec, const char *key, bool v)
{
    padd(l, sec, key, v ? "true" : "false");
}

static void padd_long(param_list *l, const char *sec, const char *key,
                      long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    padd(l, sec, key, buf);
}

static void padd_ulong(param_list *l, const char *sec, const char *key,
                       unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    padd(l, sec, key, buf);
}

/* The shortest %g form that reads back as the same double. */
static void padd_real(param_list *l, const char *sec, const char *key,
                      double v)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    padd(l, sec, key, buf);
}

static void padd_range(param_list *l, const char *sec, const char *key, int a,
                       int b)
{
    char buf[32];
    if (a <= 0 || b <= 0)
        snprintf(buf, sizeof buf, "off");
    else if (a == b)
        snprintf(buf, sizeof buf, "%d", a);
    else
        snprintf(buf, sizeof buf, "%d-%d", a, b);
    padd(l, sec, key, buf);
}

/* Joins paths (without the study folder) with ", ". */
static void padd_paths(param_list *l, const tifa_study *st, const char *sec,
                       const char *key, char *const *paths, size_t n)
{
    tifa_buf b = {0};
    bool ok = tifa_buf_puts(&b, "") == TIFA_OK;
    for (size_t i = 0; ok && i < n; i++) {
        if (i)
            ok = tifa_buf_puts(&b, ", ") == TIFA_OK;
        if (ok)
            ok = tifa_buf_puts(&b, unresolve_path(st, paths[i])) == TIFA_OK;
    }
    if (!ok)
        l->nomem = true;
    else
        padd(l, sec, key, b.data);
    tifa_buf_free(&b);
}

static int param_cmp(const void *a, const void *b)
{
    const tifa_param *x = a, *y = b;
    int r = strcmp(x->section, y->section);
    return r ? r : strcmp(x->key, y->key);
}

/* Rebuilds study->params (owned by the study) from the fields. */
tifa_status tifa_study_collect_params(tifa_study *study)
{
    if (!study)
        return TIFA_EUSAGE;
    study_impl *im = impl_of(study);
    const tifa_study *st = study;
    param_list l = {0};
    char sec[200];

    padd(&l, "study", "name", st->name);
    padd(&l, "study", "output", unresolve_path(st, st->output));
    padd_long(&l, "study", "threads", st->threads);
    padd_ulong(&l, "study", "seed", st->seed);
    padd_ulong(&l, "study", "bootstrap", st->bootstrap);
    padd_long(&l, "study", "precision", st->precision);

    for (size_t i = 0; i < st->n_corpora; i++) {
        const tifa_study_corpus *c = &st->corpora[i];
        const tifa_load_options *o = &c->load;
        snprintf(sec, sizeof sec, "corpus %s", c->name);
        padd_paths(&l, st, sec, "paths", c->paths, c->n_paths);
        padd(&l, sec, "format", tifa_format_name(o->format));
        padd(&l, sec, "encoding", o->encoding ? o->encoding : "auto");
        padd(&l, sec, "separator", o->separator);
        padd(&l, sec, "text_field", o->text_field);
        padd(&l, sec, "title_field", o->title_field);
        padd(&l, sec, "date_field", o->date_field);
        padd(&l, sec, "id_field", o->id_field);
        padd(&l, sec, "group_by", o->group_by);
        padd_bool(&l, sec, "replies", o->include_replies);
        padd_bool(&l, sec, "titles", o->include_titles);
        padd_bool(&l, sec, "simplified", o->simplified);
        padd_bool(&l, sec, "strict", o->strict);
        padd(&l, sec, "duplicates", o->keep_duplicates ? "keep" : "skip");
        padd_real(&l, sec, "near_duplicate", o->near_duplicate);
        padd(&l, sec, "boilerplate", unresolve_path(st, o->boilerplate));
    }

    padd_bool(&l, "patterns", "default", st->default_patterns);
    padd_paths(&l, st, "patterns", "files", st->pattern_files,
               st->n_pattern_files);
    padd_paths(&l, st, "patterns", "slogans", st->slogan_lists,
               st->n_slogan_lists);
    padd_ulong(&l, "patterns", "min_chars", st->quotes.min_chars);
    padd_ulong(&l, "patterns", "max_chars", st->quotes.max_chars);

    padd_range(&l, "ngrams", "char", st->ngrams.char_min, st->ngrams.char_max);
    padd_range(&l, "ngrams", "word", st->ngrams.word_min, st->ngrams.word_max);
    padd_long(&l, "ngrams", "min_count", st->ngrams.min_count);
    padd_long(&l, "ngrams", "min_docs", st->ngrams.min_docs);
    padd_ulong(&l, "ngrams", "top_k", st->ngrams.top_k);
    padd(&l, "ngrams", "stoplist", unresolve_path(st, st->ngrams.stoplist));
    padd_ulong(&l, "ngrams", "memory", st->ngrams.memory_budget);

    for (size_t i = 0; i < st->n_comparisons; i++) {
        const tifa_comparison *cmp = &st->comparisons[i];
        if (st->comparisons == im->last_comparisons &&
            i < im->n_compare_names && im->compare_names[i])
            snprintf(sec, sizeof sec, "compare %s", im->compare_names[i]);
        else
            snprintf(sec, sizeof sec, "compare %zu", i + 1);
        padd(&l, sec, "target", cmp->target);
        padd(&l, sec, "reference", cmp->reference ? cmp->reference : "rest");
        padd(&l, sec, "by", cmp->by_group ? "group" : "corpus");
    }

    padd(&l, "trend", "period", st->period);

    padd_bool(&l, "charts", "enabled", st->charts);
    padd(&l, "charts", "language", st->plots.language ? st->plots.language : "zh");
    padd_real(&l, "charts", "width_cm", st->plots.width_cm);
    padd_real(&l, "charts", "height_cm", st->plots.height_cm);
    padd_long(&l, "charts", "dpi", st->plots.dpi);
    padd_bool(&l, "charts", "pdf", st->plots.pdf);
    padd_ulong(&l, "charts", "top_n", st->plots.top_n);
    padd(&l, "charts", "font", st->plots.font ? st->plots.font : "auto");

    padd_bool(&l, "csv", "bom", st->csv.bom);
    padd(&l, "csv", "encoding", st->csv.encoding ? st->csv.encoding : "utf-8");

    if (l.nomem) {
        tifa_study old = *study;
        old.params = l.v;
        old.n_params = l.n;
        free_params(&old);
        return TIFA_ENOMEM;
    }
    qsort(l.v, l.n, sizeof *l.v, param_cmp);
    free_params(study);
    study->params = l.v;
    study->n_params = l.n;
    return TIFA_OK;
}
