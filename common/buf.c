/*
 * buf.c — a growable, always NUL-terminated byte buffer, and strdup helpers.
 *
 * The one string builder of tifa (the role sds plays in Redis, much
 * smaller): zero-initialise a tifa_buf, append, then either keep using
 * buf.data or take ownership with tifa_buf_detach().  Growth doubles, so
 * appending n bytes in total costs O(n).
 */
#include "tifa_common.h"

#include <stdlib.h>
#include <string.h>

tifa_status tifa_buf_reserve(tifa_buf *buf, size_t extra)
{
    if (buf->len + extra + 1 <= buf->cap)
        return TIFA_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < buf->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return TIFA_ENOMEM;
        cap *= 2;
    }
    char *data = realloc(buf->data, cap);
    if (!data)
        return TIFA_ENOMEM;
    buf->data = data;
    buf->cap = cap;
    return TIFA_OK;
}

tifa_status tifa_buf_append(tifa_buf *buf, const void *bytes, size_t n)
{
    tifa_status st = tifa_buf_reserve(buf, n);
    if (st != TIFA_OK)
        return st;
    if (n)
        memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return TIFA_OK;
}

tifa_status tifa_buf_puts(tifa_buf *buf, const char *s)
{
    return tifa_buf_append(buf, s, strlen(s));
}

tifa_status tifa_buf_putc(tifa_buf *buf, char c)
{
    return tifa_buf_append(buf, &c, 1);
}

tifa_status tifa_buf_printf(tifa_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TIFA_EINTERNAL;
    tifa_status st = tifa_buf_reserve(buf, (size_t)n);
    if (st != TIFA_OK)
        return st;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return TIFA_OK;
}

void tifa_buf_clear(tifa_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

/* The caller owns the returned string (free()); never NULL unless out of
 * memory: an untouched buffer yields "". */
char *tifa_buf_detach(tifa_buf *buf, size_t *len)
{
    char *data = buf->data;
    if (!data)
        data = calloc(1, 1);
    if (len)
        *len = buf->len;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}

void tifa_buf_free(tifa_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

char *tifa_strdup(const char *s)
{
    return s ? tifa_strndup(s, strlen(s)) : NULL;
}

/* Copies n bytes and a NUL; caller frees. */
char *tifa_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}
