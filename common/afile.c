/*
 * afile.c — atomic output files and whole-file reading.
 *
 * Why: an interrupted run must never leave a half-written table that a
 * spreadsheet would open as if complete.  Output goes to a hidden temporary
 * file in the destination folder (same file system, so rename is atomic);
 * commit flushes, fsyncs and renames it over the final name.  A crash or an
 * abort leaves at most a ".NAME.tmp-XXXXXX" file, never a truncated NAME.
 */
#define _POSIX_C_SOURCE 200809L
#include "tifa_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tifa_afile {
    FILE *stream;
    char *path;     /* final name */
    char *tmp_path; /* NULL when writing to stdout */
};

/* Returns a handle the caller must end with tifa_afile_commit or
 * tifa_afile_abort (both free it), or NULL with *status set. */
tifa_afile *tifa_afile_open(const char *path, tifa_status *status)
{
    tifa_status dummy;
    if (!status)
        status = &dummy;
    tifa_afile *f = calloc(1, sizeof *f);
    if (!f) {
        *status = TIFA_ENOMEM;
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        f->stream = stdout;
        *status = TIFA_OK;
        return f;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(path) + 32;
    f->path = tifa_strdup(path);
    f->tmp_path = malloc(n);
    if (!f->path || !f->tmp_path) {
        free(f->path);
        free(f->tmp_path);
        free(f);
        *status = TIFA_ENOMEM;
        return NULL;
    }
    snprintf(f->tmp_path, n, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, base);
    int fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        *status = errno == ENOENT ? TIFA_ENOENT : TIFA_EIO;
        free(f->path);
        free(f->tmp_path);
        free(f);
        return NULL;
    }
    (void)fchmod(fd, 0644);
    f->stream = fdopen(fd, "wb");
    if (!f->stream) {
        close(fd);
        unlink(f->tmp_path);
        free(f->path);
        free(f->tmp_path);
        free(f);
        *status = TIFA_EIO;
        return NULL;
    }
    *status = TIFA_OK;
    return f;
}

FILE *tifa_afile_stream(tifa_afile *file)
{
    return file->stream;
}

tifa_status tifa_afile_commit(tifa_afile *file)
{
    tifa_status st = TIFA_OK;
    if (!file->tmp_path) {
        if (fflush(file->stream) != 0 || ferror(file->stream))
            st = TIFA_EIO;
        free(file);
        return st;
    }
    if (fflush(file->stream) != 0 || ferror(file->stream) ||
        fsync(fileno(file->stream)) != 0)
        st = TIFA_EIO;
    if (fclose(file->stream) != 0)
        st = TIFA_EIO;
    if (st == TIFA_OK && rename(file->tmp_path, file->path) != 0)
        st = TIFA_EIO;
    if (st != TIFA_OK)
        unlink(file->tmp_path);
    free(file->tmp_path);
    free(file->path);
    free(file);
    return st;
}

void tifa_afile_abort(tifa_afile *file)
{
    if (!file)
        return;
    if (file->tmp_path) {
        fclose(file->stream);
        unlink(file->tmp_path);
    } else {
        fflush(file->stream);
    }
    free(file->tmp_path);
    free(file->path);
    free(file);
}

tifa_status tifa_write_file_atomic(const char *path, const void *data, size_t n)
{
    tifa_status st;
    tifa_afile *f = tifa_afile_open(path, &st);
    if (!f)
        return st;
    if (n && fwrite(data, 1, n, f->stream) != n) {
        tifa_afile_abort(f);
        return TIFA_EIO;
    }
    return tifa_afile_commit(f);
}

/* Reads a whole file; *data (NUL-terminated, caller frees) and *len. */
tifa_status tifa_read_file(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *in = fopen(path, "rb");
    if (!in)
        return errno == ENOENT ? TIFA_ENOENT : TIFA_EIO;
    tifa_buf buf = {0};
    char chunk[65536];
    size_t got;
    tifa_status st = TIFA_OK;
    while ((got = fread(chunk, 1, sizeof chunk, in)) > 0) {
        if ((st = tifa_buf_append(&buf, chunk, got)) != TIFA_OK)
            break;
    }
    if (st == TIFA_OK && ferror(in))
        st = TIFA_EIO;
    fclose(in);
    if (st != TIFA_OK) {
        tifa_buf_free(&buf);
        return st;
    }
    *data = tifa_buf_detach(&buf, len);
    return *data ? TIFA_OK : TIFA_ENOMEM;
}
