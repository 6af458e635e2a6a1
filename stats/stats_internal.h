/*
 * stats_internal.h — helpers shared between the files of the statistics
 * stage (not part of the public API): GSL set-up, UTF-8 helpers and the
 * string matcher used for lexicon totals.
 */
#ifndef TIFA_STATS_INTERNAL_H
#define TIFA_STATS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* Turns GSL's abort-on-error handler off (idempotent; see formulas.c). */
void tifa_stats_gsl_quiet(void);

/* Number of code points in UTF-8 text. */
size_t tifa_stats_utf8_chars(const char *s, size_t n);

/* Text-scope families: calls fn for every match of family i (a text-scope
 * family) in text.  Returns TIFA_OK or TIFA_EINTERNAL. */
typedef void (*tifa_match_fn)(size_t family, const char *match, size_t bytes,
                              size_t offset, void *user);
tifa_status tifa_patterns_scan_text(tifa_patterns *patterns, const char *text,
                                    size_t len, tifa_match_fn fn, void *user);

/* ------------------------------------------------------ lexicon matcher -- */

/* Finds the occurrences of a fixed set of strings (ids 0..n-1, given as
 * UTF-8) in text: a filter on the last bytes before every character end and
 * a backwards suffix trie (aho.c; it replaced an Aho–Corasick automaton,
 * hence the names).  Built once, then used read-only by any number of
 * threads.  A string that is not valid UTF-8 never matches. */
typedef struct tifa_ac tifa_ac;

/* strings[i] of lens[i] bytes; empty strings are ignored; of identical
 * strings only the first id is counted. Caller frees with tifa_ac_free. */
tifa_ac *tifa_ac_new(const char *const *strings, const size_t *lens, size_t n,
                     tifa_status *status);
void tifa_ac_free(tifa_ac *ac);

/* As tifa_ac_new, with flags: TIFA_AC_NO_FILTER makes tifa_ac_count skip
 * its filter and walk the trie at every byte position (slow; tests check
 * that both give the same counts). */
enum { TIFA_AC_NO_FILTER = 1 };
tifa_ac *tifa_ac_new_flags(const char *const *strings, const size_t *lens,
                           size_t n, unsigned flags, tifa_status *status);

/* Per-thread accounting for tifa_ac_count, indexed by string id (arrays of
 * n entries, owned by the caller).  A string's entries are valid for the
 * current document only when stamp[id] == cur; the first occurrence in a
 * document resets them and appends id to touched.  So a new document needs
 * only ++cur and ntouched = 0, never a clear of all n entries. */
typedef struct tifa_ac_tally {
    uint32_t *stamp; /* document stamp per string */
    uint32_t *cnt;   /* non-overlapping occurrences in this document */
    size_t *next;    /* end byte of the last counted occurrence */
    uint32_t *touched;
    size_t ntouched;
    uint32_t cur;
} tifa_ac_tally;

/* Adds to t the `total` of every string in text (SPEC §4: non-overlapping
 * occurrences of each string on its own, scanning left to right); the
 * accounting happens inside the scan, with no callback per match. */
void tifa_ac_count(const tifa_ac *ac, const char *text, size_t len,
                   tifa_ac_tally *t);

#endif /* TIFA_STATS_INTERNAL_H */
