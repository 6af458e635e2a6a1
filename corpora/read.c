/*
 * read.c — loader stage 1: which bytes to read.
 *
 * Expands what the user named into a list of inputs in a deterministic
 * order: a file as is; a directory recursively (hidden entries skipped,
 * names sorted bytewise, symbolic links followed to a depth of 32); a glob
 * pattern (glob(3), sorted); "-" for standard input; and in-memory buffers
 * (tifa_loader_add_memory, for the fuzzer and for tests).  A chunked reader
 * then delivers each input's bytes so that no stage needs a whole file in
 * memory unless its format does.
 *
 * Files are read, not mapped: mapping them saved the kernel's copy (about
 * 0.05 s per 100 MB) but a file truncated by another program while mapped
 * raises SIGBUS, and a crash is never an acceptable answer to an input
 * (docs/loader.md, "Performance").
 */
#define _POSIX_C_SOURCE 200809L
#include "read.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tifa_inputs_free_i(tifa_inputs *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].path);
        free(q->v[i].memory);
    }
    free(q->v);
    memset(q, 0, sizeof *q);
}

static tifa_status push(tifa_inputs *q, const tifa_input *in)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        tifa_input *v = realloc(q->v, cap * sizeof *v);
        if (!v) return TIFA_ENOMEM;
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = *in;
    return TIFA_OK;
}

static tifa_status add_file(tifa_inputs *q, const char *path, int root,
                            size_t size, size_t *added)
{
    tifa_input in = {0};
    in.path = tifa_strdup(path);
    if (!in.path) return TIFA_ENOMEM;
    in.root = root;
    in.size = size;
    tifa_status st = push(q, &in);
    if (st != TIFA_OK) free(in.path);
    else (*added)++;
    return st;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static tifa_status add_any(tifa_inputs *q, const char *path, int root,
                           tifa_diag *diag, size_t *added, int depth);

static tifa_status add_dir(tifa_inputs *q, const char *path, int root,
                           tifa_diag *diag, size_t *added, int depth)
{
    if (depth > 32) {
        tifa_diag_add(diag, TIFA_WARNING, TIFA_ELIMIT, path, 0, -1,
                      "directories nested too deep (symbolic link loop?); "
                      "not descended");
        return TIFA_OK;
    }
    DIR *d = opendir(path);
    if (!d) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_EIO, path, 0, -1,
                      "cannot open directory: %s", strerror(errno));
        return TIFA_EIO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    tifa_status st = TIFA_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) {
                st = TIFA_ENOMEM;
                break;
            }
            names = v;
        }
        if (!(names[n] = tifa_strdup(e->d_name))) {
            st = TIFA_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    size_t len = strlen(path);
    bool slash = len > 0 && path[len - 1] == '/';
    for (size_t i = 0; i < n; i++) {
        if (st == TIFA_OK) {
            tifa_buf p = {0};
            st = tifa_buf_printf(&p, "%s%s%s", path, slash ? "" : "/",
                                 names[i]);
            if (st == TIFA_OK) {
                tifa_status s2 = add_any(q, p.data, root, diag, added, depth + 1);
                if (s2 == TIFA_ENOMEM) st = s2;
            }
            tifa_buf_free(&p);
        }
        free(names[i]);
    }
    free(names);
    return st;
}

static tifa_status add_any(tifa_inputs *q, const char *path, int root,
                           tifa_diag *diag, size_t *added, int depth)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        tifa_diag_add(diag, TIFA_ERROR, TIFA_ENOENT, path, 0, -1,
                      "cannot read: %s", strerror(errno));
        return TIFA_ENOENT;
    }
    if (S_ISDIR(sb.st_mode)) return add_dir(q, path, root, diag, added, depth);
    if (depth > 0 && !S_ISREG(sb.st_mode)) return TIFA_OK; /* sockets etc. */
    return add_file(q, path, root, (size_t)sb.st_size, added);
}

tifa_status tifa_inputs_add_i(tifa_inputs *q, const char *path, int root,
                              tifa_diag *diag, size_t *added)
{
    *added = 0;
    if (strcmp(path, "-") == 0) {
        tifa_input in = {0};
        in.path = tifa_strdup("-");
        if (!in.path) return TIFA_ENOMEM;
        in.is_stdin = true;
        in.root = root;
        tifa_status st = push(q, &in);
        if (st != TIFA_OK) free(in.path);
        else *added = 1;
        return st;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 && strpbrk(path, "*?[")) {
        glob_t g;
        int rc = glob(path, 0, NULL, &g);
        if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
            if (rc == 0) globfree(&g);
            tifa_diag_add(diag, TIFA_ERROR, TIFA_ENOENT, path, 0, -1,
                          "no file matches this pattern");
            return TIFA_ENOENT;
        }
        if (rc != 0) {
            tifa_diag_add(diag, TIFA_ERROR, TIFA_EIO, path, 0, -1,
                          "cannot expand pattern");
            return TIFA_EIO;
        }
        tifa_status st = TIFA_OK;
        for (size_t i = 0; i < g.gl_pathc && st != TIFA_ENOMEM; i++)
            st = add_any(q, g.gl_pathv[i], root, diag, added, 1);
        globfree(&g);
        return st == TIFA_ENOMEM ? st : TIFA_OK;
    }
    return add_any(q, path, root, diag, added, 0);
}

tifa_status tifa_inputs_add_memory_i(tifa_inputs *q, const char *name,
                                     const void *bytes, size_t n, int root)
{
    tifa_input in = {0};
    in.path = tifa_strdup(name ? name : "(memory)");
    in.memory = malloc(n ? n : 1);
    if (!in.path || !in.memory) {
        free(in.path);
        free(in.memory);
        return TIFA_ENOMEM;
    }
    if (n) memcpy(in.memory, bytes, n);
    in.memory_len = n;
    in.size = n;
    in.root = root;
    tifa_status st = push(q, &in);
    if (st != TIFA_OK) {
        free(in.path);
        free(in.memory);
    }
    return st;
}

/* ------------------------------------------------------------ reader ----- */

tifa_status tifa_reader_open_i(tifa_reader *r, const tifa_input *in)
{
    memset(r, 0, sizeof *r);
    r->path = in->path;
    if (in->memory) {
        r->mem = in->memory;
        r->mem_len = in->memory_len;
        return TIFA_OK;
    }
    if (in->is_stdin) {
        r->fp = stdin;
        return TIFA_OK;
    }
    r->fp = fopen(in->path, "rb");
    if (!r->fp) {
        r->err_no = errno;
        return errno == ENOENT ? TIFA_ENOENT : TIFA_EIO;
    }
    r->own_fp = true;
    return TIFA_OK;
}

size_t tifa_reader_read_i(tifa_reader *r, char *dst, size_t cap)
{
    if (r->eof || r->error) return 0;
    if (!r->fp) {
        size_t left = r->mem_len - (size_t)r->offset;
        size_t k = left < cap ? left : cap;
        memcpy(dst, r->mem + r->offset, k);
        r->offset += (long long)k;
        if ((size_t)r->offset == r->mem_len) r->eof = true;
        return k;
    }
    size_t got = 0;
    while (got < cap) {
        size_t k = fread(dst + got, 1, cap - got, r->fp);
        got += k;
        if (k == 0) {
            if (ferror(r->fp)) {
                r->error = true;
                r->err_no = errno ? errno : EIO;
            } else {
                r->eof = true;
            }
            break;
        }
    }
    r->offset += (long long)got;
    return got;
}

void tifa_reader_close_i(tifa_reader *r)
{
    if (r->own_fp && r->fp) fclose(r->fp);
    r->fp = NULL;
}
