/*
 * diag.c — the diagnostics collector.
 *
 * Libraries never print: they add entries here (severity, code, file, line or
 * byte offset, message) and carry on where that is safe.  The CLI installs a
 * sink that prints each entry as it arrives and reads the counts at the end
 * for its summary and exit status.  A mutex makes it safe to share between
 * loader and worker threads.  Only the first `keep_limit` entries are kept
 * in memory (a corrupt 1 GB file can produce millions); counts stay exact.
 */
#include "tifa_common.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct tifa_diag {
    pthread_mutex_t lock;
    tifa_diag_sink sink;
    void *sink_user;
    size_t counts[3];
    tifa_diag_entry *entries; /* strings owned */
    size_t n_entries, cap_entries;
    size_t keep_limit;
};

/* Returns a new collector (caller frees with tifa_diag_free) or NULL. */
tifa_diag *tifa_diag_new(void)
{
    tifa_diag *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    pthread_mutex_init(&d->lock, NULL);
    d->keep_limit = 10000;
    return d;
}

void tifa_diag_free(tifa_diag *diag)
{
    if (!diag)
        return;
    for (size_t i = 0; i < diag->n_entries; i++) {
        free((char *)diag->entries[i].file);
        free((char *)diag->entries[i].message);
    }
    free(diag->entries);
    pthread_mutex_destroy(&diag->lock);
    free(diag);
}

void tifa_diag_set_sink(tifa_diag *diag, tifa_diag_sink sink, void *user)
{
    diag->sink = sink;
    diag->sink_user = user;
}

void tifa_diag_set_keep_limit(tifa_diag *diag, size_t limit)
{
    diag->keep_limit = limit;
}

void tifa_diag_vadd(tifa_diag *diag, tifa_severity severity, tifa_status code,
                    const char *file, long line, long long offset,
                    const char *fmt, va_list ap)
{
    if (!diag)
        return;
    char stackbuf[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    char *message = NULL;
    if (n >= (int)sizeof stackbuf) {
        message = malloc((size_t)n + 1);
        if (message)
            vsnprintf(message, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    const char *text = message ? message : stackbuf;
    if (n < 0)
        text = fmt;

    tifa_diag_entry entry = {severity, code, file, line, offset, text};
    pthread_mutex_lock(&diag->lock);
    if ((unsigned)severity <= TIFA_ERROR)
        diag->counts[severity]++;
    if (diag->sink)
        diag->sink(&entry, diag->sink_user);
    if (diag->n_entries < diag->keep_limit) {
        if (diag->n_entries == diag->cap_entries) {
            size_t cap = diag->cap_entries ? diag->cap_entries * 2 : 16;
            tifa_diag_entry *grown = realloc(diag->entries, cap * sizeof *grown);
            if (grown) {
                diag->entries = grown;
                diag->cap_entries = cap;
            }
        }
        if (diag->n_entries < diag->cap_entries) {
            entry.file = tifa_strdup(file);
            entry.message = tifa_strdup(text);
            diag->entries[diag->n_entries++] = entry;
        }
    }
    pthread_mutex_unlock(&diag->lock);
    free(message);
}

void tifa_diag_add(tifa_diag *diag, tifa_severity severity, tifa_status code,
                   const char *file, long line, long long offset,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tifa_diag_vadd(diag, severity, code, file, line, offset, fmt, ap);
    va_end(ap);
}

size_t tifa_diag_count(const tifa_diag *diag, tifa_severity severity)
{
    if (!diag || (unsigned)severity > TIFA_ERROR)
        return 0;
    tifa_diag *d = (tifa_diag *)diag;
    pthread_mutex_lock(&d->lock);
    size_t n = d->counts[severity];
    pthread_mutex_unlock(&d->lock);
    return n;
}

size_t tifa_diag_size(const tifa_diag *diag)
{
    return diag ? diag->n_entries : 0;
}

const tifa_diag_entry *tifa_diag_get(const tifa_diag *diag, size_t i)
{
    return (diag && i < diag->n_entries) ? &diag->entries[i] : NULL;
}
