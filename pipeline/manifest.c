/*
 * manifest.c — OUTDIR/manifest.json, the proof that the tables and charts in
 * an output directory come from these inputs and these settings (SPEC §6),
 * and `tifa verify`, which checks a directory against it.
 *
 * The manifest records the tifa version, the study file (path, size,
 * SHA-256; null for a study built from the command line), every input file
 * (path, corpus, size, SHA-256), every parameter of the study with its value
 * (defaults included, from tifa_study.params), the versions of the libraries
 * that shape the numbers (ICU and its Unicode version, GSL, json-c, and
 * gnuplot as the caller found it) and the size and SHA-256 of every output
 * file under OUTDIR.  It holds nothing that changes between identical runs —
 * no time, no host, no absolute path the user did not write — and is dumped
 * with sorted keys and sorted arrays, so rerunning the same study gives a
 * byte-identical manifest that can be compared with cmp(1).
 *
 * JSON goes through json-c, the library the loader already uses for JSONL
 * (corpora/records.c: ~500 MB/s against jansson's ~32 MB/s).  tifa links one
 * JSON library only: jansson and json-c export the same symbol names
 * (json_object_get, ...) with different meanings, so linking both into one
 * program makes one of them call the other's functions.
 *
 * json-c keeps an object's keys in insertion order and has no sort-on-dump
 * option, so the tree is built in any order and then copied with the keys
 * of every object inserted in strcmp order (code-point order on UTF-8)
 * before it is dumped (sorted_copy()).  The dump is json-c's pretty,
 * spaced form without escaped slashes — two-space indentation and
 * `"key": value`, the layout jansson's JSON_INDENT(2) gave — with empty
 * objects and arrays written "{}" and "[]" (json-c 0.16 would break them
 * over two lines).  Strings are written as UTF-8, not \u escapes; only
 * control characters are escaped.  json-c stores any bytes, so strings
 * and keys that are not valid UTF-8 are repaired (U+FFFD) before they go in.
 *
 * Paths: outputs are relative to OUTDIR.  An input or study path that was
 * relative is stored relative to OUTDIR (computed lexically from the current
 * folder, no realpath), so `tifa verify OUTDIR` works from any folder and the
 * manifest does not depend on where tifa was started; an absolute path is
 * stored as given.  Hidden files (names starting with '.', e.g. the
 * ".NAME.tmp-XXXXXX" files of interrupted atomic writes) and manifest.json
 * itself are not outputs.  Only regular files count; symbolic links and
 * other special files are not followed or recorded.
 *
 * Ownership in json-c terms: json_object_new_*() returns a reference the
 * caller owns; json_object_object_add() and json_object_array_add() take
 * over the reference they are given; json_object_put() drops one (and
 * frees the tree at zero); json_object_get() here is json-c's, i.e. "take
 * one more reference", not jansson's lookup.  JSON null is a NULL pointer,
 * so the builders below report allocation failures through a `bool *nomem`
 * flag rather than through a NULL result.
 */
#define _POSIX_C_SOURCE 200809L

#include "pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <gsl/gsl_version.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unicode/uchar.h>
#include <unicode/uversion.h>
#include <unistd.h>

#define MANIFEST_NAME "manifest.json"
#define MANIFEST_FORMAT 1
/* Two-space indentation, `"key": value`, '/' not escaped. */
#define MANIFEST_DUMP_FLAGS                                                    \
    (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |                       \
     JSON_C_TO_STRING_NOSLASHESCAPE)
/* --------------------------------------------------------- path algebra -- */

/* The current folder (caller frees), or NULL. */
static char *current_dir(void)
{
    size_t size = 256;
    for (;;) {
        char *buf = malloc(size);
        if (!buf)
            return NULL;
        if (getcwd(buf, size))
            return buf;
        free(buf);
        if (errno != ERANGE || size > 65536)
            return NULL;
        size *= 2;
    }
}

/* Absolute, lexically normalised form of path ("." and ".." resolved
 * without looking at the file system).  Caller frees; NULL on ENOMEM. */
static char *absolute_path(const char *path)
{
    tifa_buf joined = {0};
    tifa_status st = TIFA_OK;
    if (path[0] != '/') {
        char *cwd = current_dir();
        if (!cwd)
            return NULL;
        st = tifa_buf_puts(&joined, cwd);
        if (st == TIFA_OK)
            st = tifa_buf_putc(&joined, '/');
        free(cwd);
    }
    if (st == TIFA_OK)
        st = tifa_buf_puts(&joined, path);
    if (st != TIFA_OK) {
        tifa_buf_free(&joined);
        return NULL;
    }
    /* Normalise in place: components are copied left to right. */
    char *s = joined.data;
    size_t out = 0; /* s[0..out) is the normalised prefix, starting with '/' */
    size_t i = 0, n = joined.len;
    while (i < n) {
        while (i < n && s[i] == '/')
            i++;
        size_t start = i;
        while (i < n && s[i] != '/')
            i++;
        size_t len = i - start;
        if (len == 0 || (len == 1 && s[start] == '.'))
            continue;
        if (len == 2 && s[start] == '.' && s[start + 1] == '.') {
            while (out > 0 && s[out - 1] != '/')
                out--;
            if (out > 0)
                out--; /* drop the '/' too */
            continue;
        }
        s[out++] = '/';
        memmove(s + out, s + start, len);
        out += len;
    }
    if (out == 0)
        s[out++] = '/';
    s[out] = '\0';
    return tifa_buf_detach(&joined, NULL);
}

/* The path of `to` relative to the folder `from` (both absolute and
 * normalised).  Caller frees; NULL on ENOMEM. */
static char *relative_path(const char *from, const char *to)
{
    /* Longest common prefix ending at a component boundary. */
    size_t common = 0, i = 0;
    for (;; i++) {
        char a = from[i], b = to[i];
        if ((a == '/' || a == '\0') && (b == '/' || b == '\0'))
            common = i;
        if (a != b || a == '\0' || b == '\0')
            break;
    }
    if (!strcmp(from, "/"))
        common = 0;
    tifa_buf r = {0};
    tifa_status st = tifa_buf_puts(&r, "");
    for (const char *p = from + common; st == TIFA_OK && *p; p++)
        if (*p == '/')
            st = tifa_buf_puts(&r, r.len ? "/.." : "..");
    const char *rest = to + common;
    if (*rest == '/')
        rest++;
    if (st == TIFA_OK && *rest) {
        if (r.len)
            st = tifa_buf_putc(&r, '/');
        if (st == TIFA_OK)
            st = tifa_buf_puts(&r, rest);
    }
    if (st == TIFA_OK && r.len == 0)
        st = tifa_buf_puts(&r, ".");
    if (st != TIFA_OK) {
        tifa_buf_free(&r);
        return NULL;
    }
    return tifa_buf_detach(&r, NULL);
}

/* How a path is written into the manifest: absolute as given, relative to
 * outdir otherwise.  Caller frees; NULL on ENOMEM. */
static char *manifest_path(const char *outdir_abs, const char *path)
{
    if (path[0] == '/')
        return tifa_strdup(path);
    char *abs = absolute_path(path);
    if (!abs)
        return NULL;
    char *rel = relative_path(outdir_abs, abs);
    free(abs);
    return rel;
}

/* Where a manifest path is on disk now: absolute as stored, or joined to
 * outdir lexically.  Caller frees; NULL on ENOMEM. */
static char *disk_path(const char *outdir_abs, const char *stored)
{
    if (stored[0] == '/')
        return tifa_strdup(stored);
    tifa_buf b = {0};
    if (tifa_buf_printf(&b, "%s/%s", outdir_abs, stored) != TIFA_OK) {
        tifa_buf_free(&b);
        return NULL;
    }
    char *abs = absolute_path(b.data);
    tifa_buf_free(&b);
    return abs;
}

/* dir + "/" + name.  Caller frees; NULL on ENOMEM. */
static char *join2(const char *dir, const char *name)
{
    tifa_buf b = {0};
    if (tifa_buf_printf(&b, "%s/%s", dir, name) != TIFA_OK) {
        tifa_buf_free(&b);
        return NULL;
    }
    return tifa_buf_detach(&b, NULL);
}

/* ------------------------------------------------------- output listing -- */

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

/* Frees every string of l and its array; l is left empty and reusable. */
static void name_list_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Appends s, which l then owns (freed by name_list_free), even on failure:
 * s is freed when it cannot be added.  s == NULL (a failed strdup) gives
 * TIFA_ENOMEM. */
static tifa_status name_list_push(name_list *l, char *s)
{
    if (!s)
        return TIFA_ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return TIFA_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return TIFA_OK;
}

/* qsort/bsearch order of char * elements: strcmp. */
static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every regular, non-hidden file under root/rel (recursively) to out as
 * a path relative to root, skipping the top-level manifest.  The new strings
 * belong to out (name_list_free); errors other than ENOMEM go to diag. */
static tifa_status list_outputs(const char *root, const char *rel,
                                name_list *out, tifa_diag *diag)
{
    char *dir_path = *rel ? join2(root, rel) : tifa_strdup(root);
    if (!dir_path)
        return TIFA_ENOMEM;
    DIR *d = opendir(dir_path);
    if (!d) {
        int e = errno;
        tifa_diag_add(diag, TIFA_ERROR, e == ENOENT ? TIFA_ENOENT : TIFA_EIO,
                      dir_path, 0, -1, "cannot list the output folder: %s",
                      strerror(e));
        free(dir_path);
        return e == ENOENT ? TIFA_ENOENT : TIFA_EIO;
    }
    tifa_status st = TIFA_OK;
    name_list names = {0};
    struct dirent *ent;
    while (st == TIFA_OK && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue; /* ".", "..", hidden and temporary files */
        if (!*rel && !strcmp(ent->d_name, MANIFEST_NAME))
            continue;
        st = name_list_push(&names, tifa_strdup(ent->d_name));
    }
    closedir(d);
    if (st == TIFA_OK)
        qsort(names.v, names.n, sizeof *names.v, str_ptr_cmp);
    for (size_t i = 0; st == TIFA_OK && i < names.n; i++) {
        char *child_rel = *rel ? join2(rel, names.v[i]) : tifa_strdup(names.v[i]);
        char *child = child_rel ? join2(root, child_rel) : NULL;
        struct stat sb;
        if (!child) {
            st = TIFA_ENOMEM;
        } else if (lstat(child, &sb) != 0) {
            /* vanished while listing: nothing to record */
        } else if (S_ISDIR(sb.st_mode)) {
            st = list_outputs(root, child_rel, out, diag);
        } else if (S_ISREG(sb.st_mode)) {
            st = name_list_push(out, child_rel);
            child_rel = NULL;
        }
        free(child_rel);
        free(child);
    }
    name_list_free(&names);
    free(dir_path);
    return st;
}

/* ------------------------------------------------------------- helpers -- */


/* Whether the string s is valid UTF-8 throughout (nothing allocated). */
static bool is_utf8(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = tifa_utf8_seq((const char *)(p));
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* A copy of s in which every byte that is not part of valid UTF-8 is
 * replaced by U+FFFD.  Caller frees; NULL on ENOMEM. */
static char *repair_utf8(const char *s)
{
    tifa_buf b = {0};
    tifa_status st = tifa_buf_puts(&b, "");
    const unsigned char *p = (const unsigned char *)s;
    while (st == TIFA_OK && *p) {
        size_t n = tifa_utf8_seq((const char *)(p));
        if (n) {
            st = tifa_buf_append(&b, p, n);
            p += n;
        } else {
            st = tifa_buf_puts(&b, "\xEF\xBF\xBD");
            p++;
        }
    }
    if (st != TIFA_OK) {
        tifa_buf_free(&b);
        return NULL;
    }
    return tifa_buf_detach(&b, NULL);
}

/* A new JSON string of s (repaired to UTF-8, see repair_utf8); s == NULL
 * gives JSON null, i.e. NULL.  The caller owns the reference
 * (json_object_put).  Sets *nomem and returns NULL on ENOMEM. */
static json_object *jstr(const char *s, bool *nomem)
{
    if (!s)
        return NULL;
    json_object *j;
    if (is_utf8(s)) {
        j = json_object_new_string(s);
    } else {
        char *fixed = repair_utf8(s);
        j = fixed ? json_object_new_string(fixed) : NULL;
        free(fixed);
    }
    if (!j)
        *nomem = true;
    return j;
}

/* A new, empty JSON object or array (caller owns the reference); sets
 * *nomem and returns NULL on ENOMEM. */
static json_object *jobject(bool *nomem)
{
    json_object *o = json_object_new_object();
    if (!o)
        *nomem = true;
    return o;
}

static json_object *jarray(bool *nomem)
{
    json_object *a = json_object_new_array();
    if (!a)
        *nomem = true;
    return a;
}

/* A new JSON integer (caller owns the reference); *nomem on ENOMEM. */
static json_object *jint(long long v, bool *nomem)
{
    json_object *j = json_object_new_int64((int64_t)v);
    if (!j)
        *nomem = true;
    return j;
}

/* obj[key] = val (replacing an earlier value of key, which keeps its
 * place).  Takes over the reference to val in every case: val is released
 * when it cannot be added.  val == NULL is JSON null.  key is copied
 * (repaired to UTF-8 first).  obj == NULL (a failed allocation, already
 * counted in *nomem) just releases val; other failures set *nomem. */
static void jset(json_object *obj, const char *key, json_object *val,
                 bool *nomem)
{
    if (!obj) {
        json_object_put(val);
        *nomem = true;
        return;
    }
    bool valid = is_utf8(key);
    char *fixed = valid ? NULL : repair_utf8(key);
    if ((!valid && !fixed) ||
        json_object_object_add(obj, fixed ? fixed : key, val) != 0) {
        json_object_put(val);
        *nomem = true;
    }
    free(fixed);
}

/* Appends val to the array arr, taking over the reference to val in every
 * case (released on failure).  val == NULL here can only be a failed
 * allocation, so it sets *nomem like every other failure. */
static void jappend(json_object *arr, json_object *val, bool *nomem)
{
    if (!arr || !val || json_object_array_add(arr, val) != 0) {
        json_object_put(val);
        *nomem = true;
    }
}

/* json-c 0.16's pretty printer writes an empty object as "{\n  }"; this
 * serializer, installed on empty containers only, writes "{}" or "[]". */
static int empty_container_to_json(json_object *jso, struct printbuf *pb,
                                   int level, int flags)
{
    (void)level;
    (void)flags;
    return printbuf_memappend(
        pb, json_object_is_type(jso, json_type_array) ? "[]" : "{}", 2);
}

/* qsort order of const char * keys: strcmp, i.e. code-point order. */
static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of v in which the keys of every object, at every level, are
 * inserted in strcmp order (code-point order for UTF-8), so that json-c's
 * insertion-ordered dump is sorted; array order is kept.  Scalars are
 * shared with v, not copied.  Returns a new reference the caller releases
 * with json_object_put(); v itself is untouched and still owned by the
 * caller.  v == NULL (JSON null) gives NULL; on ENOMEM sets *nomem and
 * returns NULL (or a partial copy, to be released all the same). */
static json_object *sorted_copy(json_object *v, bool *nomem)
{
    if (!v)
        return NULL;
    json_object *copy;
    switch (json_object_get_type(v)) {
    case json_type_object: {
        size_t n = (size_t)json_object_object_length(v);
        const char **keys = n ? malloc(n * sizeof *keys) : NULL;
        copy = jobject(nomem);
        if (!copy || (n && !keys)) {
            *nomem = true;
            free(keys);
            return copy;
        }
        size_t k = 0;
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        for (; !json_object_iter_equal(&it, &end) && k < n;
             json_object_iter_next(&it))
            keys[k++] = json_object_iter_peek_name(&it); /* owned by v */
        qsort(keys, k, sizeof *keys, key_cmp);
        for (size_t i = 0; i < k; i++) {
            json_object *child = NULL;
            json_object_object_get_ex(v, keys[i], &child); /* borrowed */
            jset(copy, keys[i], sorted_copy(child, nomem), nomem);
        }
        free(keys);
        if (k == 0)
            json_object_set_serializer(copy, empty_container_to_json, NULL,
                                       NULL);
        return copy;
    }
    case json_type_array: {
        size_t n = json_object_array_length(v);
        copy = jarray(nomem);
        for (size_t i = 0; copy && i < n; i++) {
            json_object *child = json_object_array_get_idx(v, i); /* borrowed */
            json_object *c = sorted_copy(child, nomem);
            if (!c && child) {
                *nomem = true;
                break;
            }
            if (json_object_array_add(copy, c) != 0) {
                json_object_put(c);
                *nomem = true;
                break;
            }
        }
        if (copy && n == 0)
            json_object_set_serializer(copy, empty_container_to_json, NULL,
                                       NULL);
        return copy;
    }
    default:
        return json_object_get(v); /* one more reference to the scalar */
    }
}

/* obj[key] if obj is an object that has key (JSON null gives NULL with
 * *found set), borrowed from obj: do not release it. */
static json_object *jget(json_object *obj, const char *key, bool *found)
{
    json_object *v = NULL;
    bool has = json_object_object_get_ex(obj, key, &v);
    if (found)
        *found = has;
    return has ? v : NULL;
}

/* obj[key] when it is a string, else NULL; borrowed from obj. */
static const char *jget_str(json_object *obj, const char *key)
{
    json_object *v = jget(obj, key, NULL);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                     : NULL;
}

/* Size and SHA-256 of a file.  Returns TIFA_OK, TIFA_ENOENT or TIFA_EIO. */
static tifa_status file_digest(const char *path, long long *size,
                               char hex[65])
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT || errno == ENOTDIR ? TIFA_ENOENT : TIFA_EIO;
    if (!S_ISREG(sb.st_mode))
        return TIFA_EIO;
    *size = (long long)sb.st_size;
    return tifa_sha256_file(path, hex);
}

/* A new {"path", "size", "sha256"} (+ "corpus" when corpus != NULL) object;
 * the caller owns the reference.  NULL with *nomem set on ENOMEM. */
static json_object *file_entry(const char *stored, const char *corpus,
                               long long size, const char *hex, bool *nomem)
{
    json_object *o = jobject(nomem);
    if (!o)
        return NULL;
    jset(o, "path", jstr(stored, nomem), nomem);
    if (corpus)
        jset(o, "corpus", jstr(corpus, nomem), nomem);
    jset(o, "size", jint(size, nomem), nomem);
    jset(o, "sha256", jstr(hex, nomem), nomem);
    return o;
}

/* ------------------------------------------------------------- writing -- */

typedef struct input_row {
    char *stored;          /* path as written into the manifest (owned) */
    const char *path;      /* as given (borrowed) */
    const char *corpus;    /* borrowed */
    const char *sha256;    /* precomputed (borrowed) or NULL */
    long long size;        /* with sha256 */
} input_row;

static int input_row_cmp(const void *a, const void *b)
{
    const input_row *x = a, *y = b;
    int r = strcmp(x->corpus ? x->corpus : "", y->corpus ? y->corpus : "");
    return r ? r : strcmp(x->stored, y->stored);
}

/* A new object of library versions (caller owns the reference); NULL with
 * *nomem set on ENOMEM.  gnuplot_version NULL gives "gnuplot": null. */
static json_object *library_versions(const char *gnuplot_version, bool *nomem)
{
    json_object *o = jobject(nomem);
    if (!o)
        return NULL;
    UVersionInfo v;
    char text[U_MAX_VERSION_STRING_LENGTH];
    u_getVersion(v);
    u_versionToString(v, text);
    jset(o, "icu", jstr(text, nomem), nomem);
    u_getUnicodeVersion(v);
    u_versionToString(v, text);
    jset(o, "unicode", jstr(text, nomem), nomem);
    jset(o, "gsl", jstr(gsl_version, nomem), nomem);
    jset(o, "json-c", jstr(json_c_version(), nomem), nomem);
    jset(o, "gnuplot", jstr(gnuplot_version, nomem), nomem);
    return o;
}

/* A new {section: {key: value}} object of the study's parameters (caller
 * owns the reference); a later repeat of a section/key replaces the
 * earlier value.  NULL with *nomem set on ENOMEM. */
static json_object *parameters(const tifa_study *study, bool *nomem)
{
    json_object *o = jobject(nomem);
    for (size_t i = 0; o && study && i < study->n_params; i++) {
        const tifa_param *p = &study->params[i];
        char *fixed = is_utf8(p->section) ? NULL : repair_utf8(p->section);
        const char *name = fixed ? fixed : p->section;
        json_object *sec = jget(o, name, NULL); /* borrowed from o */
        if (!sec) {
            sec = jobject(nomem);
            jset(o, name, sec, nomem);
            sec = jget(o, name, NULL); /* NULL if it could not be added */
        }
        free(fixed);
        if (!sec) {
            *nomem = true;
            break;
        }
        jset(sec, p->key, jstr(p->value, nomem), nomem);
    }
    return o;
}

/* Writes OUTDIR/manifest.json atomically (see the file comment).  Nothing
 * the caller passes is taken over; everything allocated here is freed
 * here. */
tifa_status tifa_manifest_write(const char *outdir, const tifa_study *study,
                                const tifa_manifest_input *inputs,
                                size_t n_inputs, const char *gnuplot_version,
                                tifa_diag *diag)
{
    tifa_status st = TIFA_OK;
    bool nomem = false;
    char *out_abs = absolute_path(outdir);
    /* root owns everything added to it; in_arr and out_arr are owned here
     * until they are added to root (then set to NULL). */
    json_object *root = jobject(&nomem);
    json_object *in_arr = jarray(&nomem), *out_arr = jarray(&nomem);
    json_object *sorted = NULL;
    input_row *rows = n_inputs ? calloc(n_inputs, sizeof *rows) : NULL;
    name_list outputs = {0};
    char *manifest = NULL;
    tifa_buf text = {0};
    size_t n_rows = 0;
    if (!out_abs || nomem || (n_inputs && !rows)) {
        st = TIFA_ENOMEM;
        goto done;
    }

    jset(root, "tifa_version", jstr(TIFA_VERSION_STRING, &nomem), &nomem);
    jset(root, "manifest_format", jint(MANIFEST_FORMAT, &nomem), &nomem);

    /* The study file. */
    if (study && study->path) {
        long long size = 0;
        char hex[65];
        tifa_status fs = file_digest(study->path, &size, hex);
        char *stored = manifest_path(out_abs, study->path);
        if (!stored) {
            st = TIFA_ENOMEM;
            goto done;
        }
        if (fs != TIFA_OK) {
            tifa_diag_add(diag, TIFA_ERROR, fs, study->path, 0, -1,
                          "cannot hash the study file for the manifest: %s",
                          tifa_status_message(fs));
            free(stored);
            st = fs;
            goto done;
        }
        jset(root, "study", file_entry(stored, NULL, size, hex, &nomem),
             &nomem);
        free(stored);
    } else {
        jset(root, "study", NULL, &nomem); /* JSON null */
    }

    /* Inputs, sorted by corpus then path, without repeats. */
    for (size_t i = 0; i < n_inputs; i++) {
        rows[n_rows].path = inputs[i].path;
        rows[n_rows].corpus = inputs[i].corpus;
        rows[n_rows].sha256 = inputs[i].sha256;
        rows[n_rows].size = inputs[i].size;
        rows[n_rows].stored = manifest_path(out_abs, inputs[i].path);
        if (!rows[n_rows].stored) {
            st = TIFA_ENOMEM;
            goto done;
        }
        n_rows++;
    }
    if (n_rows)
        qsort(rows, n_rows, sizeof *rows, input_row_cmp);
    for (size_t i = 0; i < n_rows; i++) {
        if (i && !input_row_cmp(&rows[i - 1], &rows[i]))
            continue;
        long long size = rows[i].size;
        char hex[65];
        tifa_status fs = TIFA_OK;
        if (rows[i].sha256)
            snprintf(hex, sizeof hex, "%s", rows[i].sha256);
        else
            fs = file_digest(rows[i].path, &size, hex);
        if (fs != TIFA_OK) {
            tifa_diag_add(diag, TIFA_ERROR, fs, rows[i].path, 0, -1,
                          "cannot hash an input file for the manifest: %s",
                          tifa_status_message(fs));
            st = fs;
            goto done;
        }
        jappend(in_arr,
                file_entry(rows[i].stored, rows[i].corpus, size, hex, &nomem),
                &nomem);
    }
    jset(root, "inputs", in_arr, &nomem);
    in_arr = NULL;

    jset(root, "parameters", parameters(study, &nomem), &nomem);
    jset(root, "libraries", library_versions(gnuplot_version, &nomem), &nomem);

    /* Outputs: every file under outdir but the manifest and hidden files. */
    st = list_outputs(outdir, "", &outputs, diag);
    if (st != TIFA_OK)
        goto done;
    if (outputs.n)
        qsort(outputs.v, outputs.n, sizeof *outputs.v, str_ptr_cmp);
    for (size_t i = 0; i < outputs.n; i++) {
        char *full = join2(outdir, outputs.v[i]);
        long long size = 0;
        char hex[65];
        tifa_status fs = full ? file_digest(full, &size, hex) : TIFA_ENOMEM;
        if (fs != TIFA_OK) {
            if (fs != TIFA_ENOMEM)
                tifa_diag_add(diag, TIFA_ERROR, fs, full, 0, -1,
                              "cannot hash an output file for the manifest: %s",
                              tifa_status_message(fs));
            free(full);
            st = fs;
            goto done;
        }
        free(full);
        jappend(out_arr, file_entry(outputs.v[i], NULL, size, hex, &nomem),
                &nomem);
    }
    jset(root, "outputs", out_arr, &nomem);
    out_arr = NULL;

    /* Keys sorted at every level, then dumped; the dumped string belongs
     * to `sorted` and is copied into text with the final newline. */
    sorted = nomem ? NULL : sorted_copy(root, &nomem);
    size_t dumped_len = 0;
    const char *dumped =
        nomem ? NULL
              : json_object_to_json_string_length(sorted, MANIFEST_DUMP_FLAGS,
                                                  &dumped_len);
    manifest = join2(outdir, MANIFEST_NAME);
    if (!dumped || !manifest ||
        tifa_buf_append(&text, dumped, dumped_len) != TIFA_OK ||
        tifa_buf_putc(&text, '\n') != TIFA_OK) {
        st = TIFA_ENOMEM;
        goto done;
    }
    st = tifa_write_file_atomic(manifest, text.data, text.len);
    if (st != TIFA_OK)
        tifa_diag_add(diag, TIFA_ERROR, st, manifest, 0, -1,
                      "cannot write the manifest: %s", tifa_status_message(st));

done:
    if (st == TIFA_ENOMEM)
        tifa_diag_add(diag, TIFA_ERROR, TIFA_ENOMEM, outdir, 0, -1,
                      "out of memory while writing the manifest");
    for (size_t i = 0; i < n_rows; i++)
        free(rows[i].stored);
    free(rows);
    name_list_free(&outputs);
    free(manifest);
    tifa_buf_free(&text);
    json_object_put(in_arr);  /* NULL once handed to root */
    json_object_put(out_arr);
    json_object_put(sorted);
    json_object_put(root);
    free(out_abs);
    return st;
}

/* ------------------------------------------------------------ verifying -- */

typedef struct verify_ctx {
    tifa_diag *diag;
    const char *out_abs;
    const char *outdir;
    size_t differences;
} verify_ctx;

static void difference(verify_ctx *v, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void difference(verify_ctx *v, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tifa_diag_vadd(v->diag, TIFA_ERROR, TIFA_EVERIFY, file, 0, -1, fmt, ap);
    va_end(ap);
    v->differences++;
}

/* Checks one recorded file (entry is borrowed).  what: "input", "output"
 * or "study file"; on_disk: where it is now; shown: how to name it in
 * messages.  Differences go to v; returns TIFA_EFORMAT for a malformed
 * entry, else TIFA_OK. */
static tifa_status check_file(verify_ctx *v, json_object *entry,
                              const char *what, const char *on_disk,
                              const char *shown)
{
    json_object *jsize = jget(entry, "size", NULL);
    const char *want = jget_str(entry, "sha256");
    if (!json_object_is_type(jsize, json_type_int) || !want) {
        tifa_diag_add(v->diag, TIFA_ERROR, TIFA_EFORMAT, v->outdir, 0, -1,
                      "manifest.json: %s entry '%s' lacks size or sha256", what,
                      shown);
        return TIFA_EFORMAT;
    }
    long long size = 0;
    char hex[65];
    tifa_status fs = file_digest(on_disk, &size, hex);
    if (fs == TIFA_ENOENT) {
        difference(v, on_disk, "missing %s: %s", what, shown);
    } else if (fs != TIFA_OK) {
        difference(v, on_disk, "unreadable %s: %s (%s)", what, shown,
                   tifa_status_message(fs));
    } else if (size != (long long)json_object_get_int64(jsize)) {
        difference(v, on_disk, "changed %s: %s (size %lld, manifest says %lld)",
                   what, shown, size, (long long)json_object_get_int64(jsize));
    } else if (strcmp(hex, want) != 0) {
        difference(v, on_disk, "changed %s: %s (SHA-256 differs, same size)",
                   what, shown);
    }
    return TIFA_OK;
}

/* Parses text (len bytes) as strictly as jansson did: one JSON value in
 * valid UTF-8, nothing after it but white space, no comments or other
 * extensions.  Returns a new reference (caller releases it with
 * json_object_put) or NULL with *line (1-based) and *why (static text) set;
 * *nomem when the parser could not be allocated. */
static json_object *parse_manifest(const char *text, size_t len, bool *nomem,
                                   int *line, const char **why)
{
    *line = 0;
    *why = "the file is too large";
    if (len > INT_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        *nomem = true;
        *why = "out of memory";
        return NULL;
    }
    json_tokener_set_flags(tok,
                           JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (root && end < len) { /* strict mode stops at trailing bytes; be sure */
        json_object_put(root);
        root = NULL;
        *why = "unexpected text after the JSON value";
    } else if (!root) {
        *why = jerr == json_tokener_continue ? "unexpected end of file"
                                             : json_tokener_error_desc(jerr);
    }
    if (!root) {
        *line = 1;
        for (size_t i = 0; i < end && i < len; i++)
            *line += text[i] == '\n';
    }
    json_tokener_free(tok);
    return root;
}

/* Re-hashes everything OUTDIR/manifest.json lists.  Returns TIFA_OK,
 * TIFA_EVERIFY (differences, each reported), or TIFA_ENOENT / TIFA_EFORMAT /
 * TIFA_ENOMEM when the manifest itself is missing or unreadable.  Nothing is
 * taken over from the caller; everything allocated here is freed here. */
tifa_status tifa_manifest_verify(const char *outdir, tifa_diag *diag)
{
    verify_ctx v = {diag, NULL, outdir, 0};
    tifa_status st = TIFA_OK;
    char *manifest = join2(outdir, MANIFEST_NAME);
    char *out_abs = absolute_path(outdir);
    json_object *root = NULL; /* owned; everything below borrows from it */
    char *text = NULL;
    size_t len = 0;
    name_list found = {0}, listed = {0};
    if (!manifest || !out_abs) {
        st = TIFA_ENOMEM;
        goto done;
    }
    v.out_abs = out_abs;

    tifa_status rs = tifa_read_file(manifest, &text, &len);
    if (rs == TIFA_ENOENT) {
        st = TIFA_ENOENT;
        tifa_diag_add(diag, TIFA_ERROR, st, manifest, 0, -1,
                      "no manifest: %s is not a tifa output folder", outdir);
        goto done;
    } else if (rs == TIFA_ENOMEM) {
        st = TIFA_ENOMEM;
        goto done;
    } else if (rs != TIFA_OK) {
        st = TIFA_EFORMAT;
        tifa_diag_add(diag, TIFA_ERROR, st, manifest, 0, -1,
                      "cannot read the manifest: %s", tifa_status_message(rs));
        goto done;
    }
    bool nomem = false;
    int line = 0;
    const char *why = NULL;
    root = parse_manifest(text, len, &nomem, &line, &why);
    if (!root) {
        st = nomem ? TIFA_ENOMEM : TIFA_EFORMAT;
        if (!nomem)
            tifa_diag_add(diag, TIFA_ERROR, st, manifest, line, -1,
                          "the manifest is not valid JSON: %s", why);
        goto done;
    }
    bool has_study = false;
    json_object *inputs = jget(root, "inputs", NULL);
    json_object *outputs = jget(root, "outputs", NULL);
    json_object *study = jget(root, "study", &has_study); /* NULL: null */
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_is_type(inputs, json_type_array) ||
        !json_object_is_type(outputs, json_type_array) || !has_study ||
        !(study == NULL || json_object_is_type(study, json_type_object))) {
        st = TIFA_EFORMAT;
        tifa_diag_add(diag, TIFA_ERROR, st, manifest, 0, -1,
                      "the manifest lacks its study, inputs or outputs");
        goto done;
    }
    const char *version = jget_str(root, "tifa_version");
    if (version && strcmp(version, TIFA_VERSION_STRING) != 0)
        tifa_diag_add(diag, TIFA_NOTE, TIFA_OK, manifest, 0, -1,
                      "the manifest was written by tifa %s, this is tifa %s",
                      version, TIFA_VERSION_STRING);

    /* The study file and the inputs. */
    size_t n_inputs = json_object_array_length(inputs);
    size_t n_outputs = json_object_array_length(outputs);
    size_t n_study = study ? 1 : 0;
    for (int part = 0; part < 2 && st == TIFA_OK; part++) {
        size_t count = part == 0 ? n_study : n_inputs;
        for (size_t i = 0; i < count && st == TIFA_OK; i++) {
            json_object *e = part == 0 ? study
                                       : json_object_array_get_idx(inputs, i);
            const char *stored = jget_str(e, "path");
            if (!stored) {
                st = TIFA_EFORMAT;
                tifa_diag_add(diag, TIFA_ERROR, st, manifest, 0, -1,
                              "an entry of the manifest has no path");
                break;
            }
            char *on_disk = disk_path(out_abs, stored);
            if (!on_disk) {
                st = TIFA_ENOMEM;
                break;
            }
            st = check_file(&v, e, part == 0 ? "study file" : "input", on_disk,
                            stored);
            free(on_disk);
        }
    }

    /* Recorded outputs, then files that are not recorded. */
    for (size_t i = 0; i < n_outputs && st == TIFA_OK; i++) {
        json_object *e = json_object_array_get_idx(outputs, i);
        const char *rel = jget_str(e, "path");
        if (!rel || rel[0] == '/' || !strcmp(rel, "..") ||
            !strncmp(rel, "../", 3) || strstr(rel, "/../")) {
            st = TIFA_EFORMAT;
            tifa_diag_add(diag, TIFA_ERROR, st, manifest, 0, -1,
                          "an output of the manifest has a bad path");
            break;
        }
        char *full = join2(outdir, rel);
        if (!full) {
            st = TIFA_ENOMEM;
            break;
        }
        st = check_file(&v, e, "output", full, rel);
        free(full);
    }
    if (st == TIFA_OK)
        st = list_outputs(outdir, "", &found, diag);
    for (size_t i = 0; i < n_outputs && st == TIFA_OK; i++) {
        json_object *e = json_object_array_get_idx(outputs, i); /* borrowed */
        st = name_list_push(&listed, tifa_strdup(jget_str(e, "path")));
    }
    if (st == TIFA_OK && listed.n)
        qsort(listed.v, listed.n, sizeof *listed.v, str_ptr_cmp);
    for (size_t i = 0; i < found.n && st == TIFA_OK; i++) {
        if (listed.n && bsearch(&found.v[i], listed.v, listed.n, sizeof *listed.v,
                                str_ptr_cmp))
            continue;
        char *full = join2(outdir, found.v[i]);
        difference(&v, full ? full : found.v[i],
                   "extra output not in the manifest: %s", found.v[i]);
        free(full);
    }
    if (st == TIFA_OK && v.differences == 0)
        tifa_diag_add(diag, TIFA_NOTE, TIFA_OK, manifest, 0, -1,
                      "%zu input%s and %zu output%s match the manifest",
                      n_inputs + n_study, n_inputs + n_study == 1 ? "" : "s",
                      n_outputs, n_outputs == 1 ? "" : "s");

done:
    if (st == TIFA_ENOMEM)
        tifa_diag_add(diag, TIFA_ERROR, TIFA_ENOMEM, outdir, 0, -1,
                      "out of memory while verifying");
    if (st == TIFA_OK && v.differences)
        st = TIFA_EVERIFY;
    name_list_free(&found);
    name_list_free(&listed);
    json_object_put(root);
    free(text);
    free(manifest);
    free(out_abs);
    return st;
}
