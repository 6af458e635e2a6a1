/*
 * stats_internal.h — helpers shared between the files of the statistics
 * stage (not part of the public API): GSL set-up, UTF-8 helpers and the
 * Aho–Corasick automaton used for lexicon totals.
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

/* ----------------------------------------------------- Aho–Corasick -- */

/* An automaton over the UTF-8 bytes of a fixed set of strings (ids 0..n-1).
 * Built once, then used read-only by any number of threads. */
typedef struct tifa_ac tifa_ac;

/* strings[i] of lens[i] bytes; empty strings are ignored. Caller frees with
 * tifa_ac_free. */
tifa_ac *tifa_ac_new(const char *const *strings, const size_t *lens, size_t n,
                     tifa_status *status);
void tifa_ac_free(tifa_ac *ac);

/* Calls fn(id, end, user) for every occurrence of every string in text, in
 * order of end byte (exclusive end offset), all overlaps included. */
typedef void (*tifa_ac_fn)(uint32_t id, size_t end, void *user);
void tifa_ac_scan(const tifa_ac *ac, const char *text, size_t len,
                  tifa_ac_fn fn, void *user);

#endif /* TIFA_STATS_INTERNAL_H */
