/*
 * test_study.c — the study file (pipeline/study.c): a complete study parses
 * into the expected fields with paths resolved against the study's folder
 * and recorded as written; every kind of mistake (unknown key with its
 * suggestion, bad values, a comparison naming a missing corpus, a duplicate
 * corpus, no corpus, syntax errors) is reported with its line and the study
 * is rejected after all errors were collected.  Fixtures are in
 * tests/fixtures/study/.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline.h"

#define STUDY_DIR TIFA_TEST_FIXTURES "/study"

/* ------------------------------------------------------------ helpers -- */

/* True when diag holds an error at `line` whose message contains `text`. */
static bool has_error(const tifa_diag *diag, long line, const char *text)
{
    for (size_t i = 0; i < tifa_diag_size(diag); i++) {
        const tifa_diag_entry *e = tifa_diag_get(diag, i);
        if (e->severity == TIFA_ERROR && e->line == line &&
            strstr(e->message, text))
            return true;
    }
    return false;
}

static void dump(const tifa_diag *diag)
{
    for (size_t i = 0; i < tifa_diag_size(diag); i++) {
        const tifa_diag_entry *e = tifa_diag_get(diag, i);
        print_message("  %s:%ld: %s\n", e->file ? e->file : "-", e->line,
                      e->message);
    }
}

static void assert_error(const tifa_diag *diag, long line, const char *text)
{
    if (!has_error(diag, line, text)) {
        print_message("expected an error at line %ld containing \"%s\"; got:\n",
                      line, text);
        dump(diag);
        fail();
    }
}

static const char *param(const tifa_study *s, const char *section,
                         const char *key)
{
    for (size_t i = 0; i < s->n_params; i++)
        if (!strcmp(s->params[i].section, section) &&
            !strcmp(s->params[i].key, key))
            return s->params[i].value;
    return NULL;
}

/* Loads a fixture that must be rejected; returns its diagnostics. */
static tifa_diag *load_bad(const char *name)
{
    tifa_diag *diag = tifa_diag_new();
    assert_non_null(diag);
    tifa_status st = TIFA_OK;
    tifa_study *s = tifa_study_load(name, diag, &st);
    assert_null(s);
    assert_int_equal(st, TIFA_EUSAGE);
    assert_true(tifa_diag_count(diag, TIFA_ERROR) > 0);
    for (size_t i = 0; i < tifa_diag_size(diag); i++)
        assert_string_equal(tifa_diag_get(diag, i)->file, name);
    return diag;
}

/* -------------------------------------------------------------- tests -- */

static void test_valid_study(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st = TIFA_EIO;
    tifa_study *s = tifa_study_load(STUDY_DIR "/valid.ini", diag, &st);
    if (!s)
        dump(diag);
    assert_non_null(s);
    assert_int_equal(st, TIFA_OK);
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 0);

    assert_string_equal(s->path, STUDY_DIR "/valid.ini");
    assert_string_equal(s->dir, STUDY_DIR);
    assert_string_equal(s->name, "祁阳评论");
    assert_string_equal(s->output, STUDY_DIR "/out/run1");
    assert_int_equal(s->threads, 2);
    assert_int_equal(s->seed, 20140404UL);
    assert_int_equal(s->bootstrap, 200);
    assert_int_equal(s->precision, 3);

    assert_int_equal(s->n_corpora, 2);
    const tifa_study_corpus *q = &s->corpora[0];
    assert_string_equal(q->name, "qiyang");
    assert_string_equal(q->load.corpus, "qiyang");
    assert_int_equal(q->n_paths, 2); /* second one on a continuation line */
    assert_string_equal(q->paths[0], STUDY_DIR "/corpus/qiyang/a.txt");
    assert_string_equal(q->paths[1], STUDY_DIR "/corpus/qiyang/b.txt");
    assert_int_equal(q->load.format, TIFA_FORMAT_FORUM);
    assert_string_equal(q->load.encoding, "GB18030");
    assert_string_equal(q->load.group_by, "year");
    assert_true(q->load.include_replies);
    assert_false(q->load.include_titles);
    assert_true(q->load.simplified);
    assert_false(q->load.strict);
    assert_true(q->load.keep_duplicates);
    assert_true(q->load.near_duplicate == 0.85);
    assert_string_equal(q->load.boilerplate, STUDY_DIR "/lists/boilerplate.txt");

    const tifa_study_corpus *g = &s->corpora[1];
    assert_string_equal(g->name, "政府报告");
    assert_int_equal(g->n_paths, 2);
    assert_string_equal(g->paths[0], STUDY_DIR "/corpus/gov/*.txt");
    assert_string_equal(g->paths[1], "/absolute/reports");
    assert_int_equal(g->load.format, TIFA_FORMAT_SEPARATED);
    assert_string_equal(g->load.separator, "^={5,}$");
    assert_string_equal(g->load.text_field, "content");
    assert_string_equal(g->load.title_field, "headline");
    assert_string_equal(g->load.date_field, "published");
    assert_string_equal(g->load.id_field, "uid");
    assert_null(g->load.encoding); /* auto */
    assert_null(g->load.group_by);

    assert_false(s->default_patterns);
    assert_int_equal(s->n_pattern_files, 1);
    assert_string_equal(s->pattern_files[0], STUDY_DIR "/lists/families.txt");
    assert_int_equal(s->n_slogan_lists, 2);
    assert_string_equal(s->slogan_lists[1], STUDY_DIR "/lists/more.txt");
    assert_int_equal(s->quotes.min_chars, 2);
    assert_int_equal(s->quotes.max_chars, 10);

    assert_int_equal(s->ngrams.char_min, 2);
    assert_int_equal(s->ngrams.char_max, 3);
    assert_int_equal(s->ngrams.word_min, 1);
    assert_int_equal(s->ngrams.word_max, 2);
    assert_int_equal(s->ngrams.min_count, 3);
    assert_int_equal(s->ngrams.min_docs, 2);
    assert_int_equal(s->ngrams.top_k, 500);
    assert_string_equal(s->ngrams.stoplist, STUDY_DIR "/lists/stop.txt");
    assert_int_equal(s->ngrams.memory_budget, (size_t)2 << 30);

    assert_int_equal(s->n_comparisons, 2);
    assert_string_equal(s->comparisons[0].target, "qiyang");
    assert_string_equal(s->comparisons[0].reference, "政府报告");
    assert_false(s->comparisons[0].by_group);
    assert_string_equal(s->comparisons[1].target, "qiyang");
    assert_null(s->comparisons[1].reference); /* the rest */

    assert_string_equal(s->period, "5");
    assert_true(s->charts);
    assert_string_equal(s->plots.language, "en");
    assert_true(s->plots.width_cm == 18.5);
    assert_true(s->plots.height_cm == 9.0);
    assert_int_equal(s->plots.dpi, 300);
    assert_true(s->plots.pdf);
    assert_int_equal(s->plots.top_n, 20);
    assert_string_equal(s->plots.font, "Noto Sans CJK SC");
    assert_false(s->csv.bom);
    assert_string_equal(s->csv.encoding, "gb18030");

    /* Parameters: sorted, paths as written, every key present. */
    assert_true(s->n_params > 60);
    for (size_t i = 1; i < s->n_params; i++) {
        int c = strcmp(s->params[i - 1].section, s->params[i].section);
        assert_true(c < 0 || (c == 0 && strcmp(s->params[i - 1].key,
                                               s->params[i].key) < 0));
    }
    assert_string_equal(param(s, "corpus qiyang", "paths"),
                        "corpus/qiyang/a.txt, corpus/qiyang/b.txt");
    assert_string_equal(param(s, "corpus 政府报告", "paths"),
                        "corpus/gov/*.txt, /absolute/reports");
    assert_string_equal(param(s, "corpus qiyang", "near_duplicate"), "0.85");
    assert_string_equal(param(s, "corpus qiyang", "duplicates"), "keep");
    assert_string_equal(param(s, "corpus 政府报告", "encoding"), "auto");
    assert_string_equal(param(s, "corpus 政府报告", "replies"), "false");
    assert_string_equal(param(s, "study", "output"), "out/run1");
    assert_string_equal(param(s, "ngrams", "char"), "2-3");
    assert_string_equal(param(s, "ngrams", "memory"), "2147483648");
    assert_string_equal(param(s, "compare each", "reference"), "rest");
    assert_string_equal(param(s, "compare qiyang-vs-gov", "by"), "corpus");
    assert_string_equal(param(s, "charts", "width_cm"), "18.5");
    assert_string_equal(param(s, "trend", "period"), "5");
    assert_string_equal(param(s, "csv", "encoding"), "gb18030");
    assert_string_equal(param(s, "patterns", "slogans"),
                        "lists/slogans.txt, lists/more.txt");

    tifa_study_free(s);
    tifa_diag_free(diag);
}

static void test_defaults(void **state)
{
    (void)state;
    tifa_study *s = tifa_study_new();
    assert_non_null(s);
    assert_null(s->path);
    assert_int_equal(s->n_corpora, 0);
    assert_true(s->default_patterns);
    assert_int_equal(s->quotes.min_chars, 1);
    assert_int_equal(s->quotes.max_chars, 12);
    assert_int_equal(s->ngrams.char_min, 1);
    assert_int_equal(s->ngrams.char_max, 4);
    assert_int_equal(s->ngrams.word_min, 0);
    assert_string_equal(s->period, "year");
    assert_int_equal(s->precision, 4);
    assert_int_equal(s->threads, 0);
    assert_true(s->csv.bom);
    assert_true(s->charts);

    const char *paths[] = {"a.txt", "dir/"};
    assert_int_equal(tifa_study_add_corpus(s, "cli", paths, 2), TIFA_OK);
    assert_int_equal(tifa_study_add_corpus(s, "cli", paths, 1), TIFA_EUSAGE);
    assert_int_equal(tifa_study_add_corpus(s, "has space", paths, 1),
                     TIFA_EUSAGE);
    assert_int_equal(s->n_corpora, 1);
    assert_string_equal(s->corpora[0].paths[1], "dir/"); /* no folder: as is */
    assert_int_equal(tifa_study_add_comparison(s, "c", "cli", "rest", false),
                     TIFA_OK);
    assert_null(s->comparisons[0].reference);

    free(s->output); /* the char * fields are the study's own strings */
    s->output = tifa_strdup("outdir");
    /* option strings may live in the study's pool */
    s->corpora[0].load.text_field = tifa_study_strdup(s, "content");
    s->threads = 3;
    assert_int_equal(tifa_study_collect_params(s), TIFA_OK);
    assert_string_equal(param(s, "corpus cli", "paths"), "a.txt, dir/");
    assert_string_equal(param(s, "corpus cli", "format"), "auto");
    assert_string_equal(param(s, "corpus cli", "text_field"), "content");
    assert_string_equal(param(s, "corpus cli", "duplicates"), "skip");
    assert_string_equal(param(s, "compare c", "target"), "cli");
    assert_string_equal(param(s, "study", "threads"), "3");
    assert_string_equal(param(s, "study", "output"), "outdir");
    assert_string_equal(param(s, "ngrams", "word"), "off");
    assert_string_equal(param(s, "ngrams", "char"), "1-4");
    assert_string_equal(param(s, "patterns", "max_chars"), "12");
    assert_string_equal(param(s, "trend", "period"), "year");
    assert_string_equal(param(s, "csv", "bom"), "true");
    tifa_study_free(s);
}

static void test_unknown_key(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/unknown_key.ini");
    assert_error(diag, 7,
                 "unknown key 'grup_by' in [corpus qiyang]; did you mean "
                 "'group_by'?");
    assert_error(diag, 8, "unknown key 'Format' in [corpus qiyang]; did you "
                          "mean 'format'?");
    assert_error(diag, 9, "'top_n' belongs in a [charts] section");
    assert_error(diag, 10, "unknown key 'colour' in [corpus qiyang]");
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 4);
    tifa_diag_free(diag);
}

static void test_bad_values(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/bad_values.ini");
    assert_error(diag, 2, "bad value 'many' for 'threads' in [study]");
    assert_error(diag, 3, "bad value '99' for 'precision'");
    assert_error(diag, 4, "bad value '-1' for 'seed'");
    assert_error(diag, 8, "did you mean 'jsonl'?");
    assert_error(diag, 9, "bad value 'klingon-8' for 'encoding'");
    assert_error(diag, 10, "bad value '1.5' for 'near_duplicate'");
    assert_error(diag, 11, "bad value 'perhaps' for 'replies'");
    assert_error(diag, 12, "invalid regular expression");
    assert_error(diag, 15, "bad value '4-2' for 'char'");
    assert_error(diag, 16, "bad value '12Q' for 'memory'");
    assert_error(diag, 19, "did you mean 'year'?");
    assert_error(diag, 22, "bad value 'fr' for 'language' in [charts]: "
                           "expected one of zh, en");
    assert_error(diag, 23, "bad value '10' for 'dpi'");
    assert_error(diag, 26, "bad value 'latin1' for 'encoding' in [csv]");
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 14);
    tifa_diag_free(diag);
}

static void test_missing_corpus(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/missing_corpus.ini");
    assert_error(diag, 6, "reference 'govreports' is not a corpus of this "
                          "study (corpora: qiyang");
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 1);
    tifa_diag_free(diag);
}

static void test_duplicate_corpus(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/duplicate_corpus.ini");
    assert_error(diag, 7, "duplicate corpus 'qiyang' (first defined at line 1)");
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 1);
    tifa_diag_free(diag);
}

static void test_no_corpus(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/no_corpus.ini");
    assert_error(diag, 0, "the study has no corpus");
    tifa_diag_free(diag);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/syntax.ini");
    assert_error(diag, 1, "'name' is set before any section");
    assert_error(diag, 4, "duplicate key 'name' in [study] (first set at line 3)");
    assert_error(diag, 5, "expected '[section]' or 'key = value'");
    assert_error(diag, 6, "unknown section [corpse x]; did you mean [corpus x]?");
    assert_error(diag, 8, "missing ']'");
    assert_error(diag, 12, "continues 'format' in [corpus good], which takes a "
                           "single value");
    assert_error(diag, 14, "line longer than");
    assert_error(diag, 15, "section [study] appears twice (first at line 2)");
    /* keys of a rejected section are not reported again */
    assert_false(has_error(diag, 7, "paths"));
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 8);
    tifa_diag_free(diag);
}

static void test_structure_errors(void **state)
{
    (void)state;
    tifa_diag *diag = load_bad(STUDY_DIR "/structure.ini");
    assert_error(diag, 4, "empty value for 'group_by' in [corpus a]");
    assert_error(diag, 5, "[corpus b] has no paths");
    assert_error(diag, 5, "format = separated but no separator");
    assert_error(diag, 7, "bad corpus name 'rest': 'rest' is reserved");
    assert_error(diag, 9, "bad corpus name 'a b': it contains white space");
    assert_error(diag, 11, "section [study x] takes no name");
    assert_error(diag, 14, "[compare g] compares groups, but no corpus sets group_by");
    assert_error(diag, 15, "[compare h] has no target");
    assert_error(diag, 19, "min_chars (5) is greater than max_chars (3)");
    assert_error(diag, 21, "empty item in the list");
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 10);
    tifa_diag_free(diag);
}

/* CRLF line ends, a byte-order mark, a list continued after a blank line,
 * indented keys, "key: value" and an inline comment. */
static void test_crlf_and_continuations(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_study *s = tifa_study_load(STUDY_DIR "/crlf.ini", diag, &st);
    if (!s)
        dump(diag);
    assert_non_null(s);
    assert_int_equal(s->n_corpora, 2);
    assert_int_equal(s->corpora[0].n_paths, 2);
    assert_string_equal(s->corpora[0].paths[1], STUDY_DIR "/corpus/gov/2015.txt");
    assert_int_equal(s->corpora[0].load.format, TIFA_FORMAT_TEXT);
    assert_string_equal(s->corpora[1].name, "county");
    assert_string_equal(s->corpora[1].load.group_by, "year");
    assert_int_equal(s->n_comparisons, 1);
    assert_string_equal(s->comparisons[0].target, "gov");
    assert_string_equal(s->name, "crlf");                  /* file stem */
    assert_string_equal(s->output, STUDY_DIR "/results"); /* default */
    tifa_study_free(s);
    tifa_diag_free(diag);
}

/* Loading the same study through a relative path gives the same
 * parameters: the manifest does not depend on the current folder. */
static void test_relative_study_path(void **state)
{
    (void)state;
    char *cwd = getcwd(NULL, 4096);
    assert_non_null(cwd);
    tifa_diag *diag = tifa_diag_new();
    tifa_status st;
    tifa_study *abs = tifa_study_load(STUDY_DIR "/valid.ini", diag, &st);
    assert_non_null(abs);
    assert_int_equal(chdir(STUDY_DIR "/corpus"), 0);
    tifa_study *rel = tifa_study_load("../valid.ini", diag, &st);
    assert_int_equal(chdir(STUDY_DIR), 0);
    tifa_study *here = tifa_study_load("valid.ini", diag, &st);
    assert_int_equal(chdir(cwd), 0);
    assert_non_null(rel);
    assert_non_null(here);
    assert_string_equal(rel->dir, "..");
    assert_string_equal(rel->corpora[1].paths[0], "../corpus/gov/*.txt");
    assert_string_equal(here->dir, ".");
    assert_string_equal(here->corpora[1].paths[0], "corpus/gov/*.txt");
    assert_string_equal(here->output, "out/run1");
    assert_int_equal(rel->n_params, abs->n_params);
    assert_int_equal(here->n_params, abs->n_params);
    for (size_t i = 0; i < abs->n_params; i++) {
        assert_string_equal(rel->params[i].section, abs->params[i].section);
        assert_string_equal(rel->params[i].key, abs->params[i].key);
        assert_string_equal(rel->params[i].value, abs->params[i].value);
        assert_string_equal(here->params[i].value, abs->params[i].value);
    }
    tifa_study_free(abs);
    tifa_study_free(rel);
    tifa_study_free(here);
    tifa_diag_free(diag);
    free(cwd);
}

static void test_missing_file(void **state)
{
    (void)state;
    tifa_diag *diag = tifa_diag_new();
    tifa_status st = TIFA_OK;
    assert_null(tifa_study_load(STUDY_DIR "/no-such-study.ini", diag, &st));
    assert_int_equal(st, TIFA_ENOENT);
    assert_int_equal(tifa_diag_count(diag, TIFA_ERROR), 1);
    tifa_diag_free(diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_study),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_missing_corpus),
        cmocka_unit_test(test_duplicate_corpus),
        cmocka_unit_test(test_no_corpus),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_crlf_and_continuations),
        cmocka_unit_test(test_relative_study_path),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
