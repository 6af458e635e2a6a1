/*
 * options.c — defaults of tifa_load_options (corpora.h).
 *
 * Every field not named here starts zero/NULL: automatic format and
 * encoding, the default field lists of records.c, no grouping, the shipped
 * boilerplate only.  near_duplicate defaults to 0.9 (SPEC §3) and
 * max_document to 256 MiB.
 */
#include "corpora_internal.h"

#include <string.h>

void tifa_load_options_init(tifa_load_options *options)
{
    memset(options, 0, sizeof *options);
    options->corpus = "corpus";
    options->format = TIFA_FORMAT_AUTO;
    options->near_duplicate = 0.9;
    options->max_document = (size_t)256 << 20;
}
