/*
 * main.c — the `tifa` command: parses the command line and calls the stages.
 *
 * Deliberately thin (the cmark way): every capability lives in a library;
 * this file turns options into a tifa_study or loader options, prints the
 * diagnostics the libraries collected, draws the closing summary and picks
 * the exit status.  It is the only place that writes to the terminal.
 */
#define _POSIX_C_SOURCE 200809L
#include "pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


static const char usage_text[] =
    "usage: tifa COMMAND [OPTIONS] ...\n"
    "\n"
    "Slogan and rhetoric statistics for Chinese political text.\n"
    "\n"
    "commands:\n"
    "  run [STUDY.ini] [-o DIR]        run a whole study (no STUDY: the bundled demo)\n"
    "  count [OPTIONS] PATH... -o DIR  all tables for the inputs (one corpus, or\n"
    "                                  --corpus NAME=PATH[,PATH...] repeated)\n"
    "  docs [--text] PATH...           what the loader sees, as documents.csv on stdout\n"
    "  kwic [--width N] [--regex] PATTERN PATH...   concordance CSV on stdout\n"
    "  compare --target PATH... --reference PATH... -o DIR\n"
    "  plot DIR                        re-render every chart from the tables in DIR\n"
    "  merge -o DIR SHARD...           merge saved n-gram count shards\n"
    "  verify DIR                      check DIR against its manifest.json\n"
    "\n"
    "common options:\n"
    "  --format auto|text|forum|separated|jsonl|csv|tsv   --encoding auto|NAME\n"
    "  --separator REGEX  --text-field F  --date-field F  --title-field F  --id-field F\n"
    "  --group-by FIELD|year|decade  --replies  --titles  --simplified  --strict\n"
    "  --keep-duplicates  --near-duplicate X  --ngrams N[-M]|off  --unit char|word\n"
    "  --min-count K  --top-k K  --memory SIZE  --period year|decade|N\n"
    "  --patterns FILE  --slogans FILE  --no-charts  --lang zh|en  --pdf\n"
    "  --threads N  --level-split SIZE  --no-bom  --csv-encoding utf-8|gb18030\n"
    "  --save-shard FILE\n"
    "  --table NAME (count: write one table to stdout)\n"
    "  -q, --quiet  -v, --verbose  -h, --help  -V, --version\n"
    "\n"
    "exit status: 0 success, 1 partial (some inputs or charts failed, all else\n"
    "written), 2 usage, 3 no usable input, 4 outputs could not be written,\n"
    "5 verify found a difference.\n";

/* Per-command help (`tifa COMMAND --help`); the common options follow. */
static const struct {
    const char *name;
    const char *text;
} command_help[] = {
    {"run", "usage: tifa run [STUDY.ini] [-o DIR] [--threads N] [--no-charts]\n"
            "Runs every stage of a study file (docs/study-file.md). Without STUDY it\n"
            "runs the bundled demo into ./tifa-demo (or -o DIR).\n"},
    {"count", "usage: tifa count [OPTIONS] PATH... -o DIR\n"
              "       tifa count [OPTIONS] --corpus NAME=PATH[,PATH...] ... -o DIR\n"
              "       tifa count [OPTIONS] PATH... --table slogans|families|ngrams|...\n"
              "Writes every table for the inputs (one corpus named 'corpus', or one per\n"
              "--corpus); with --table, one table on stdout.\n"},
    {"docs", "usage: tifa docs [--text] [LOADER OPTIONS] PATH...\n"
             "Prints documents.csv for what the loader sees (--text adds the cleaned\n"
             "text), so the cleaning can be audited.\n"},
    {"kwic", "usage: tifa kwic [--width N] [--regex] PATTERN PATH...\n"
             "Prints concordance lines (doc_id, left, match, right) as CSV; PATTERN is a\n"
             "literal, or an ICU regular expression with --regex.\n"},
    {"compare", "usage: tifa compare --target PATH... --reference PATH... -o DIR\n"
                "Counts both corpora and writes keyness of target against reference.\n"},
    {"plot", "usage: tifa plot [--lang zh|en] [--pdf] DIR\n"
             "Re-renders every chart in DIR/charts from the tables in DIR.\n"},
    {"merge", "usage: tifa merge -o DIR [--save-shard FILE] SHARD...\n"
              "Merges n-gram shards saved by `tifa count --save-shard` into DIR/ngrams.csv.\n"},
    {"verify", "usage: tifa verify DIR\n"
               "Re-hashes the inputs and outputs of a run against DIR/manifest.json.\n"},
};

static void print_help(const char *command)
{
    for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++) {
        if (command && !strcmp(command, command_help[i].name)) {
            fputs(command_help[i].text, stdout);
            fputs("\n", stdout);
        }
    }
    fputs(usage_text, stdout);
}

typedef struct cli {
    const char *command;
    const char *output;
    bool quiet, verbose, with_text, regex, no_charts;
    int threads;
    size_t width;
    const char *table;
    const char *save_shard;
    size_t level_split;
    tifa_load_options load;
    tifa_study *study; /* built from options for count/compare */
    char **positional;
    size_t n_positional;
    char **targets, **references;
    size_t n_targets, n_references;
    char **corpus_specs;
    size_t n_corpus_specs;
} cli;

/* ------------------------------------------------------------ printing -- */

static void print_entry(const tifa_diag_entry *e, void *user)
{
    const cli *c = user;
    if (e->severity == TIFA_NOTE && !c->verbose)
        return;
    if (e->severity == TIFA_WARNING && c->quiet)
        return;
    const char *sev = e->severity == TIFA_ERROR     ? "error"
                      : e->severity == TIFA_WARNING ? "warning"
                                                    : "note";
    fputc('\r', stderr);
    fputs("tifa: ", stderr);
    if (e->file) {
        fputs(e->file, stderr);
        if (e->line > 0)
            fprintf(stderr, ":%ld", e->line);
        if (e->offset >= 0)
            fprintf(stderr, " (byte %lld)", e->offset);
        fputs(": ", stderr);
    }
    fprintf(stderr, "%s: %s\n", sev, e->message);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "tifa: MESSAGE", the usage text, and returns the usage status. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tifa: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    fputs(usage_text, stderr);
    return TIFA_EXIT_USAGE;
}

/* ------------------------------------------------------------- options -- */

enum {
    OPT_FORMAT = 256, OPT_ENCODING, OPT_SEPARATOR, OPT_TEXT_FIELD,
    OPT_DATE_FIELD, OPT_TITLE_FIELD, OPT_ID_FIELD, OPT_GROUP_BY, OPT_REPLIES,
    OPT_TITLES, OPT_SIMPLIFIED, OPT_STRICT, OPT_KEEP_DUPS, OPT_NEAR_DUP,
    OPT_NGRAMS, OPT_UNIT, OPT_MIN_COUNT, OPT_TOP_K, OPT_MEMORY, OPT_PERIOD,
    OPT_PATTERNS, OPT_SLOGANS, OPT_NO_CHARTS, OPT_LANG, OPT_PDF, OPT_THREADS,
    OPT_NO_BOM, OPT_CSV_ENCODING, OPT_SAVE_SHARD, OPT_LEVEL_SPLIT, OPT_TABLE,
    OPT_TEXT, OPT_WIDTH, OPT_REGEX, OPT_TARGET, OPT_REFERENCE, OPT_CORPUS
};

static const struct option long_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"encoding", required_argument, NULL, OPT_ENCODING},
    {"separator", required_argument, NULL, OPT_SEPARATOR},
    {"text-field", required_argument, NULL, OPT_TEXT_FIELD},
    {"date-field", required_argument, NULL, OPT_DATE_FIELD},
    {"title-field", required_argument, NULL, OPT_TITLE_FIELD},
    {"id-field", required_argument, NULL, OPT_ID_FIELD},
    {"group-by", required_argument, NULL, OPT_GROUP_BY},
    {"replies", no_argument, NULL, OPT_REPLIES},
    {"titles", no_argument, NULL, OPT_TITLES},
    {"simplified", no_argument, NULL, OPT_SIMPLIFIED},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"keep-duplicates", no_argument, NULL, OPT_KEEP_DUPS},
    {"near-duplicate", required_argument, NULL, OPT_NEAR_DUP},
    {"ngrams", required_argument, NULL, OPT_NGRAMS},
    {"unit", required_argument, NULL, OPT_UNIT},
    {"min-count", required_argument, NULL, OPT_MIN_COUNT},
    {"top-k", required_argument, NULL, OPT_TOP_K},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"period", required_argument, NULL, OPT_PERIOD},
    {"patterns", required_argument, NULL, OPT_PATTERNS},
    {"slogans", required_argument, NULL, OPT_SLOGANS},
    {"no-charts", no_argument, NULL, OPT_NO_CHARTS},
    {"lang", required_argument, NULL, OPT_LANG},
    {"pdf", no_argument, NULL, OPT_PDF},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"level-split", required_argument, NULL, OPT_LEVEL_SPLIT},
    {"no-bom", no_argument, NULL, OPT_NO_BOM},
    {"csv-encoding", required_argument, NULL, OPT_CSV_ENCODING},
    {"save-shard", required_argument, NULL, OPT_SAVE_SHARD},
    {"table", required_argument, NULL, OPT_TABLE},
    {"text", no_argument, NULL, OPT_TEXT},
    {"width", required_argument, NULL, OPT_WIDTH},
    {"regex", no_argument, NULL, OPT_REGEX},
    {"target", required_argument, NULL, OPT_TARGET},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"corpus", required_argument, NULL, OPT_CORPUS},
    {NULL, 0, NULL, 0}};

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "1-4" or "3" into [lo, hi] within 1..max. */
static bool parse_range(const char *s, int max, int *lo, int *hi)
{
    char *end;
    long a = strtol(s, &end, 10);
    long b = a;
    if (end == s)
        return false;
    if (*end == '-') {
        const char *rest = end + 1;
        b = strtol(rest, &end, 10);
        if (end == rest)
            return false;
    }
    if (*end || a < 1 || b < a || b > max)
        return false;
    *lo = (int)a;
    *hi = (int)b;
    return true;
}

/* "512M", "2G", "1000000" into bytes. */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return false;
    double mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1024.0, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024.0 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1024.0 * 1024 * 1024, end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

static bool push_str(char ***list, size_t *n, char *s)
{
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return false;
    grown[(*n)++] = s;
    *list = grown;
    return true;
}

/* Parses options after the command name.  Returns -1 to go on, or an exit
 * status (help, version, usage error). */
static int parse_options(cli *c, int argc, char **argv)
{
    tifa_study *s = c->study;
    const char *unit = "char";
    int ng_lo = 0, ng_hi = 0;
    bool ngrams_given = false;
    int opt;
    long v;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "o:qvhV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'o': c->output = optarg; break;
        case 'q': c->quiet = true; break;
        case 'v': c->verbose = true; break;
        case 'h': print_help(c->command); return TIFA_EXIT_OK;
        case 'V': printf("tifa %s\n", TIFA_VERSION_STRING); return TIFA_EXIT_OK;
        case OPT_FORMAT:
            if (tifa_format_parse(optarg, &c->load.format) != TIFA_OK)
                return usage_error("unknown --format '%s'", optarg);
            break;
        case OPT_ENCODING: c->load.encoding = optarg; break;
        case OPT_SEPARATOR:
            c->load.separator = optarg;
            c->load.format = TIFA_FORMAT_SEPARATED;
            break;
        case OPT_TEXT_FIELD: c->load.text_field = optarg; break;
        case OPT_DATE_FIELD: c->load.date_field = optarg; break;
        case OPT_TITLE_FIELD: c->load.title_field = optarg; break;
        case OPT_ID_FIELD: c->load.id_field = optarg; break;
        case OPT_GROUP_BY: c->load.group_by = optarg; break;
        case OPT_REPLIES: c->load.include_replies = true; break;
        case OPT_TITLES: c->load.include_titles = true; break;
        case OPT_SIMPLIFIED: c->load.simplified = true; break;
        case OPT_STRICT: c->load.strict = true; break;
        case OPT_KEEP_DUPS: c->load.keep_duplicates = true; break;
        case OPT_NEAR_DUP: {
            char *end;
            double x = strtod(optarg, &end);
            if (end == optarg || *end || x < 0 || x > 1)
                return usage_error("--near-duplicate takes a number in [0, 1], not '%s'", optarg);
            c->load.near_duplicate = x;
            break;
        }
        case OPT_NGRAMS:
            if (!strcmp(optarg, "off"))
                ng_lo = ng_hi = 0; /* as `char = off` in a study file */
            else if (!parse_range(optarg, 8, &ng_lo, &ng_hi))
                return usage_error("--ngrams takes N or N-M (1..8 characters, 1..4 words) or off, not '%s'", optarg);
            ngrams_given = true;
            break;
        case OPT_UNIT:
            if (strcmp(optarg, "char") && strcmp(optarg, "word"))
                return usage_error("--unit takes char or word, not '%s'", optarg);
            unit = optarg;
            break;
        case OPT_MIN_COUNT:
            if (!parse_long(optarg, 1, LONG_MAX, &v))
                return usage_error("--min-count takes a positive number, not '%s'", optarg);
            s->ngrams.min_count = v;
            break;
        case OPT_TOP_K:
            if (!parse_long(optarg, 0, LONG_MAX, &v))
                return usage_error("--top-k takes a number, not '%s'", optarg);
            s->ngrams.top_k = (size_t)v;
            break;
        case OPT_MEMORY:
            if (!parse_size(optarg, &s->ngrams.memory_budget))
                return usage_error("--memory takes a size such as 512M or 2G, not '%s'", optarg);
            break;
        case OPT_PERIOD:
            free(s->period);
            s->period = tifa_strdup(optarg);
            break;
        case OPT_PATTERNS:
            if (!push_str(&s->pattern_files, &s->n_pattern_files, tifa_strdup(optarg)))
                return TIFA_EXIT_OUTPUT;
            break;
        case OPT_SLOGANS:
            if (!push_str(&s->slogan_lists, &s->n_slogan_lists, tifa_strdup(optarg)))
                return TIFA_EXIT_OUTPUT;
            break;
        case OPT_NO_CHARTS: c->no_charts = true; break;
        case OPT_LANG:
            if (strcmp(optarg, "zh") && strcmp(optarg, "en"))
                return usage_error("--lang takes zh or en, not '%s'", optarg);
            s->plots.language = optarg;
            break;
        case OPT_PDF: s->plots.pdf = true; break;
        case OPT_THREADS:
            if (!parse_long(optarg, 1, 256, &v))
                return usage_error("--threads takes a number from 1 to 256, not '%s'", optarg);
            c->threads = (int)v;
            break;
        case OPT_NO_BOM: s->csv.bom = false; break;
        case OPT_CSV_ENCODING:
            if (strcasecmp(optarg, "utf-8") && strcasecmp(optarg, "gb18030"))
                return usage_error("--csv-encoding takes utf-8 or gb18030, not '%s'", optarg);
            s->csv.encoding = optarg;
            break;
        case OPT_SAVE_SHARD: c->save_shard = optarg; break;
        case OPT_LEVEL_SPLIT:
            if (!parse_size(optarg, &c->level_split) || !c->level_split)
                return usage_error("--level-split takes a size such as 64M, not '%s'", optarg);
            break;
        case OPT_TABLE: c->table = optarg; break;
        case OPT_TEXT: c->with_text = true; break;
        case OPT_WIDTH:
            if (!parse_long(optarg, 1, 10000, &v))
                return usage_error("--width takes a number of characters, not '%s'", optarg);
            c->width = (size_t)v;
            break;
        case OPT_REGEX: c->regex = true; break;
        case OPT_TARGET:
            if (!push_str(&c->targets, &c->n_targets, optarg))
                return TIFA_EXIT_OUTPUT;
            break;
        case OPT_REFERENCE:
            if (!push_str(&c->references, &c->n_references, optarg))
                return TIFA_EXIT_OUTPUT;
            break;
        case OPT_CORPUS:
            if (!strchr(optarg, '='))
                return usage_error("--corpus takes NAME=PATH[,PATH...], not '%s'", optarg);
            if (!push_str(&c->corpus_specs, &c->n_corpus_specs, optarg))
                return TIFA_EXIT_OUTPUT;
            break;
        case '?':
        default:
            if (optopt > 0 && optopt < 256)
                return usage_error("unknown or incomplete option '-%c'", optopt);
            return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    /* GNU getopt permutes argv, so options may follow the paths. */
    for (; optind < argc; optind++)
        if (!push_str(&c->positional, &c->n_positional, argv[optind]))
            return TIFA_EXIT_OUTPUT;
    if (ngrams_given && ng_hi == 0) {
        s->ngrams.char_min = s->ngrams.char_max = 0;
        s->ngrams.word_min = s->ngrams.word_max = 0;
    } else if (ngrams_given) {
        if (strcmp(unit, "word") == 0) {
            if (ng_hi > 4)
                return usage_error("word n-grams go up to 4, not '%s'", "more");
            s->ngrams.word_min = ng_lo;
            s->ngrams.word_max = ng_hi;
            s->ngrams.char_min = s->ngrams.char_max = 0;
        } else {
            s->ngrams.char_min = ng_lo;
            s->ngrams.char_max = ng_hi;
            s->ngrams.word_min = s->ngrams.word_max = 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------ commands -- */

static void print_summary(const cli *c, const tifa_study *study,
                          const tifa_run_summary *sum, int code)
{
    if (c->quiet)
        return;
    fprintf(stderr,
            "\n"
            "  documents loaded   %zu (%zu replies, %zu duplicates not counted)\n"
            "  input files        %zu read, %zu skipped, %.1f MB\n"
            "  charts             %zu rendered, %zu failed, %zu without data\n"
            "  diagnostics        %zu warnings, %zu errors\n"
            "  time               %.2f s on %d thread%s: counting %.2f, totals %.2f,\n"
            "                     tables %.2f, charts %.2f\n"
            "  output             %s/\n"
            "  status             %s\n",
            sum->load.documents, sum->load.replies, sum->load.duplicates,
            sum->load.files, sum->load.files_skipped,
            (double)sum->load.bytes / 1e6, sum->charts.rendered,
            sum->charts.failed, sum->charts.skipped, sum->warnings, sum->errors,
            sum->times.total, sum->times.threads,
            sum->times.threads == 1 ? "" : "s", sum->times.count,
            sum->times.totals, sum->times.tables, sum->times.charts,
            study->output,
            code == TIFA_EXIT_OK        ? "ok"
            : code == TIFA_EXIT_PARTIAL ? "partial (see the messages above)"
                                        : "failed");
}

static int run_with_study(cli *c, tifa_study *study, tifa_diag *diag)
{
    if (c->output) {
        free(study->output);
        study->output = tifa_strdup(c->output);
    }
    if (c->no_charts)
        study->charts = false;
    if (study->plots.gnuplot == NULL)
        study->plots.gnuplot = getenv("TIFA_GNUPLOT") ? getenv("TIFA_GNUPLOT") : TIFA_GNUPLOT;
    tifa_study_collect_params(study);
    tifa_run_options ro = {0};
    ro.threads = c->threads;
    ro.quiet = c->quiet;
    ro.verbose = c->verbose;
    ro.progress = isatty(2) && !c->quiet;
    ro.datadir = tifa_datadir();
    ro.save_shard = c->save_shard;
    ro.level_split = c->level_split;
    tifa_run_summary sum;
    int code = tifa_run_study(study, &ro, diag, &sum);
    if (code <= TIFA_EXIT_PARTIAL)
        print_summary(c, study, &sum, code);
    return code;
}

static int cmd_run(cli *c, tifa_diag *diag)
{
    char demo[PATH_MAX];
    const char *path;
    bool is_demo = c->n_positional == 0;
    if (c->n_positional > 1)
        return usage_error("run takes one study file, not %s", "several");
    if (is_demo) {
        snprintf(demo, sizeof demo, "%s/demo/study.ini", TIFA_SOURCE_EXAMPLES);
        if (access(demo, R_OK) != 0)
            snprintf(demo, sizeof demo, "%s/examples/demo/study.ini", tifa_datadir());
        path = demo;
    } else {
        path = c->positional[0];
    }
    tifa_status st;
    tifa_study *study = tifa_study_load(path, diag, &st);
    if (!study)
        return st == TIFA_ENOENT ? TIFA_EXIT_NOINPUT : TIFA_EXIT_USAGE;
    if (is_demo && !c->output) {
        /* The demo lives in the source or install tree: write to the
         * current folder instead. */
        free(study->output);
        study->output = tifa_strdup("tifa-demo");
    }
    int code = run_with_study(c, study, diag);
    tifa_study_free(study);
    return code;
}

/* Splits "NAME=P1,P2" into a corpus of the study. */
static tifa_status add_corpus_spec(tifa_study *study, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char *name = tifa_strndup(spec, (size_t)(eq - spec));
    char *paths = tifa_strdup(eq + 1);
    const char *list[256];
    size_t n = 0;
    for (char *save = NULL, *p = strtok_r(paths, ",", &save); p && n < 256;
         p = strtok_r(NULL, ",", &save))
        list[n++] = p;
    tifa_status st = tifa_study_add_corpus(study, name, list, n);
    free(name);
    free(paths);
    return st;
}

/* Copies the command-line loader options into every corpus of the study. */
static void apply_load_options(cli *c, tifa_study *study)
{
    for (size_t i = 0; i < study->n_corpora; i++) {
        const char *name = study->corpora[i].name;
        study->corpora[i].load = c->load;
        study->corpora[i].load.corpus = name;
    }
}

static int write_one_table(const char *dir, const char *table)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s%s", dir, table,
             strstr(table, ".csv") ? "" : ".csv");
    FILE *in = fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "tifa: no table '%s' in this run\n", table);
        return TIFA_EXIT_USAGE;
    }
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, got, stdout);
    fclose(in);
    return fflush(stdout) == 0 ? TIFA_EXIT_OK : TIFA_EXIT_OUTPUT;
}

static int remove_tree(const char *dir)
{
    /* Only used on our own mkdtemp folder; no shell involved. */
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    return status;
}

static int cmd_count(cli *c, tifa_diag *diag)
{
    tifa_study *study = c->study;
    if (c->n_corpus_specs == 0 && c->n_positional == 0)
        return usage_error("%s needs at least one PATH or --corpus NAME=PATH", c->command);
    for (size_t i = 0; i < c->n_corpus_specs; i++)
        if (add_corpus_spec(study, c->corpus_specs[i]) != TIFA_OK)
            return usage_error("invalid --corpus '%s'", c->corpus_specs[i]);
    if (c->n_positional > 0 &&
        tifa_study_add_corpus(study, "corpus", (const char *const *)c->positional,
                              c->n_positional) != TIFA_OK)
        return TIFA_EXIT_USAGE;
    apply_load_options(c, study);
    char tmpdir[] = "/tmp/tifa-count-XXXXXX";
    bool to_stdout = c->table != NULL;
    if (to_stdout) {
        if (!mkdtemp(tmpdir)) {
            perror("tifa: mkdtemp");
            return TIFA_EXIT_OUTPUT;
        }
        c->output = tmpdir;
        study->charts = false;
        c->quiet = true;
    } else if (!c->output) {
        return usage_error("%s needs -o DIR (or --table NAME for stdout)", c->command);
    }
    int code = run_with_study(c, study, diag);
    if (to_stdout) {
        if (code <= TIFA_EXIT_PARTIAL) {
            int tcode = write_one_table(tmpdir, c->table);
            if (tcode != TIFA_EXIT_OK)
                code = tcode;
        }
        remove_tree(tmpdir);
    }
    return code;
}

static int cmd_compare(cli *c, tifa_diag *diag)
{
    if (c->n_targets == 0 || c->n_references == 0)
        return usage_error("%s needs --target PATH... and --reference PATH...", "compare");
    if (!c->output)
        return usage_error("%s needs -o DIR", "compare");
    tifa_study *study = c->study;
    if (tifa_study_add_corpus(study, "target", (const char *const *)c->targets,
                              c->n_targets) != TIFA_OK ||
        tifa_study_add_corpus(study, "reference",
                              (const char *const *)c->references,
                              c->n_references) != TIFA_OK)
        return TIFA_EXIT_USAGE;
    apply_load_options(c, study);
    tifa_comparison *cmp = calloc(1, sizeof *cmp);
    if (!cmp)
        return TIFA_EXIT_OUTPUT;
    cmp->target = "target";
    cmp->reference = "reference";
    cmp->by_group = false;
    free(study->comparisons);
    study->comparisons = cmp;
    study->n_comparisons = 1;
    return run_with_study(c, study, diag);
}

static tifa_loader *loader_for_paths(cli *c, tifa_diag *diag, size_t first)
{
    tifa_status st;
    if (!c->load.corpus)
        c->load.corpus = "corpus";
    c->load.datadir = tifa_datadir();
    tifa_loader *loader = tifa_loader_new(&c->load, diag, &st);
    if (!loader)
        return NULL;
    for (size_t i = first; i < c->n_positional; i++)
        tifa_loader_add_path(loader, c->positional[i]);
    return loader;
}

static int finish_stream_command(tifa_loader *loader, tifa_status st,
                                 size_t docs, tifa_diag *diag)
{
    tifa_load_summary sum;
    tifa_loader_summary(loader, &sum);
    tifa_loader_free(loader);
    if (st != TIFA_OK)
        return TIFA_EXIT_OUTPUT;
    if (docs == 0)
        return TIFA_EXIT_NOINPUT;
    return (sum.files_skipped || tifa_diag_count(diag, TIFA_ERROR))
               ? TIFA_EXIT_PARTIAL
               : TIFA_EXIT_OK;
}

static int cmd_docs(cli *c, tifa_diag *diag)
{
    if (c->n_positional == 0)
        return usage_error("%s needs at least one PATH", "docs");
    tifa_loader *loader = loader_for_paths(c, diag, 0);
    if (!loader)
        return TIFA_EXIT_USAGE;
    tifa_csv_options opt = c->study->csv;
    tifa_status st;
    tifa_csv *csv = tifa_csv_open("-", &opt, &st);
    if (!csv) {
        tifa_loader_free(loader);
        return TIFA_EXIT_OUTPUT;
    }
    tifa_documents_csv_header(csv, c->with_text);
    size_t docs = 0;
    for (;;) {
        tifa_doc *doc = NULL;
        st = tifa_loader_next(loader, &doc);
        if (st != TIFA_OK || !doc)
            break;
        tifa_documents_csv_row(csv, doc, c->with_text);
        tifa_doc_free(doc);
        docs++;
    }
    tifa_status cst = tifa_csv_close(csv);
    return finish_stream_command(loader, st != TIFA_OK ? st : cst, docs, diag);
}

static int cmd_kwic(cli *c, tifa_diag *diag)
{
    if (c->n_positional < 2)
        return usage_error("%s needs a PATTERN and at least one PATH", "kwic");
    tifa_status st;
    tifa_kwic *kwic = tifa_kwic_new(c->positional[0], c->regex,
                                    c->width ? c->width : 20, diag, &st);
    if (!kwic)
        return TIFA_EXIT_USAGE;
    tifa_loader *loader = loader_for_paths(c, diag, 1);
    if (!loader) {
        tifa_kwic_free(kwic);
        return TIFA_EXIT_USAGE;
    }
    tifa_csv *csv = tifa_csv_open("-", &c->study->csv, &st);
    if (!csv) {
        tifa_kwic_free(kwic);
        tifa_loader_free(loader);
        return TIFA_EXIT_OUTPUT;
    }
    static const char *const header[] = {"doc_id", "left", "match", "right", NULL};
    tifa_csv_header(csv, header);
    size_t docs = 0;
    for (;;) {
        tifa_doc *doc = NULL;
        st = tifa_loader_next(loader, &doc);
        if (st != TIFA_OK || !doc)
            break;
        if (!doc->duplicate_of)
            st = tifa_kwic_doc(kwic, doc, csv);
        tifa_doc_free(doc);
        docs++;
        if (st != TIFA_OK)
            break;
    }
    tifa_status cst = tifa_csv_close(csv);
    tifa_kwic_free(kwic);
    return finish_stream_command(loader, st != TIFA_OK ? st : cst, docs, diag);
}

static int cmd_plot(cli *c, tifa_diag *diag)
{
    if (c->n_positional != 1)
        return usage_error("%s takes one output directory", "plot");
    tifa_plot_options po = c->study->plots;
    if (!po.gnuplot)
        po.gnuplot = getenv("TIFA_GNUPLOT") ? getenv("TIFA_GNUPLOT") : TIFA_GNUPLOT;
    tifa_plot_summary sum = {0};
    tifa_status st = tifa_plots_render_all(c->positional[0], &po, diag, &sum);
    if (!c->quiet)
        fprintf(stderr, "tifa: %zu charts rendered, %zu failed, %zu without data\n",
                sum.rendered, sum.failed, sum.skipped);
    if (st == TIFA_OK)
        return sum.rendered ? TIFA_EXIT_OK : TIFA_EXIT_NOINPUT;
    /* Charts failed but every table is untouched: a partial result. */
    return TIFA_EXIT_PARTIAL;
}

static int cmd_merge(cli *c, tifa_diag *diag)
{
    if (c->n_positional < 1 || !c->output)
        return usage_error("%s needs -o DIR and at least one SHARD", "merge");
    tifa_status st;
    tifa_ngrams *total = NULL;
    for (size_t i = 0; i < c->n_positional; i++) {
        tifa_ngrams *part = tifa_ngrams_load(c->positional[i], &st);
        if (!part) {
            tifa_diag_add(diag, TIFA_ERROR, st, c->positional[i], 0, -1,
                          "cannot load n-gram shard: %s", tifa_status_message(st));
            tifa_ngrams_free(total);
            return TIFA_EXIT_NOINPUT;
        }
        if (!total) {
            total = part;
            continue;
        }
        st = tifa_ngrams_merge(total, part);
        tifa_ngrams_free(part);
        if (st != TIFA_OK) {
            tifa_diag_add(diag, TIFA_ERROR, st, c->positional[i], 0, -1,
                          "cannot merge shard: %s", tifa_status_message(st));
            tifa_ngrams_free(total);
            return TIFA_EXIT_USAGE;
        }
    }
    struct stat sb;
    if (stat(c->output, &sb) != 0 && mkdir(c->output, 0755) != 0) {
        tifa_ngrams_free(total);
        return TIFA_EXIT_OUTPUT;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/ngrams.csv", c->output);
    st = tifa_ngrams_write(total, path, &c->study->csv, NULL);
    if (st == TIFA_OK && c->save_shard)
        st = tifa_ngrams_save(total, c->save_shard);
    tifa_ngrams_free(total);
    if (st != TIFA_OK) {
        tifa_diag_add(diag, TIFA_ERROR, st, path, 0, -1, "cannot write: %s",
                      tifa_status_message(st));
        return TIFA_EXIT_OUTPUT;
    }
    return TIFA_EXIT_OK;
}

static int cmd_verify(cli *c, tifa_diag *diag)
{
    if (c->n_positional != 1)
        return usage_error("%s takes one output directory", "verify");
    tifa_status st = tifa_manifest_verify(c->positional[0], diag);
    if (st == TIFA_OK) {
        if (!c->quiet)
            fprintf(stderr, "tifa: %s matches its manifest\n", c->positional[0]);
        return TIFA_EXIT_OK;
    }
    return st == TIFA_EVERIFY ? TIFA_EXIT_VERIFY : TIFA_EXIT_NOINPUT;
}

/* ---------------------------------------------------------------- main -- */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return TIFA_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (!strcmp(command, "-h") || !strcmp(command, "--help") ||
        !strcmp(command, "help")) {
        fputs(usage_text, stdout);
        return TIFA_EXIT_OK;
    }
    if (!strcmp(command, "-V") || !strcmp(command, "--version")) {
        printf("tifa %s\n", TIFA_VERSION_STRING);
        return TIFA_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(cli *, tifa_diag *);
    } commands[] = {{"run", cmd_run},         {"count", cmd_count},
                    {"docs", cmd_docs},       {"kwic", cmd_kwic},
                    {"compare", cmd_compare}, {"plot", cmd_plot},
                    {"merge", cmd_merge},     {"verify", cmd_verify}};
    int (*fn)(cli *, tifa_diag *) = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(command, commands[i].name))
            fn = commands[i].fn;
    if (!fn) {
        if (command[0] == '-')
            return usage_error("unknown option '%s'", command);
        return usage_error("unknown command '%s'", command);
    }

    cli c;
    memset(&c, 0, sizeof c);
    c.command = command;
    tifa_load_options_init(&c.load);
    c.study = tifa_study_new();
    tifa_diag *diag = tifa_diag_new();
    if (!c.study || !diag) {
        fputs("tifa: out of memory\n", stderr);
        return TIFA_EXIT_OUTPUT;
    }
    tifa_diag_set_sink(diag, print_entry, &c);
    int code = parse_options(&c, argc - 1, argv + 1);
    if (code < 0)
        code = fn(&c, diag);
    tifa_study_free(c.study);
    tifa_diag_free(diag);
    free(c.positional);
    free(c.targets);
    free(c.references);
    free(c.corpus_specs);
    return code;
}
