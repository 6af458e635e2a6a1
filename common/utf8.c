/*
 * utf8.c — small UTF-8 helpers shared by the stages.
 *
 * Decoding itself is ICU's (U8_NEXT), so every stage agrees with ICU on what
 * valid UTF-8 is (no overlongs, no surrogates, nothing above U+10FFFF).  The
 * loader has its own bulk validator tuned for speed (corpora/decode.c); these
 * are for names, settings and other short strings.
 */
#include "tifa_common.h"

#include <string.h>
#include <unicode/utf8.h>

size_t tifa_utf8_seq(const char *s)
{
    const uint8_t *u = (const uint8_t *)s;
    if (!u[0])
        return 0;
    int32_t i = 0;
    UChar32 c;
    U8_NEXT(u, i, -1, c);
    return c < 0 ? 0 : (size_t)i;
}

bool tifa_utf8_valid(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        if (n - i > INT32_MAX)
            return false; /* U8_NEXT counts in int32_t; no such key exists */
        int32_t j = 0;
        UChar32 c;
        U8_NEXT(u + i, j, (int32_t)(n - i), c);
        if (c < 0)
            return false;
        i += (size_t)j;
    }
    return true;
}

int tifa_utf8_cmp(const char *a, const char *b)
{
    /* UTF-8 was designed so that byte order equals code-point order. */
    return strcmp(a, b);
}
