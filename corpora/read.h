/*
 * read.h — internal interface of read.c (input expansion and the chunked
 * reader), used by loader.c.
 */
#ifndef TIFA_CORPORA_READ_H
#define TIFA_CORPORA_READ_H

#include "corpora_internal.h"

typedef struct tifa_inputs {
    tifa_input *v;
    size_t n, cap;
} tifa_inputs;

/* Expands path (file, directory, glob, "-") into q; *added counts inputs.
 * Problems are reported to diag; returns TIFA_ENOENT for a missing path. */
tifa_status tifa_inputs_add_i(tifa_inputs *q, const char *path, int root,
                              tifa_diag *diag, size_t *added);
/* Queues a copy of an in-memory buffer under the given name. */
tifa_status tifa_inputs_add_memory_i(tifa_inputs *q, const char *name,
                                     const void *bytes, size_t n, int root);
void tifa_inputs_free_i(tifa_inputs *q);

#endif /* TIFA_CORPORA_READ_H */
