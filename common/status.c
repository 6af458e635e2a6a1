/*
 * status.c — names and messages of tifa_status codes.
 *
 * Codes are returned by every fallible function (the GSL and zstd way: no
 * exceptions, no exit()).  The name is a stable identifier for logs and
 * tests; the message is what the CLI shows a person.
 */
#include "tifa_common.h"

static const struct {
    const char *name;
    const char *message;
} status_table[TIFA_STATUS_COUNT] = {
    [TIFA_OK] = {"TIFA_OK", "success"},
    [TIFA_ENOMEM] = {"TIFA_ENOMEM", "out of memory"},
    [TIFA_EIO] = {"TIFA_EIO", "input/output error"},
    [TIFA_ENOENT] = {"TIFA_ENOENT", "no such file or directory"},
    [TIFA_EENCODING] = {"TIFA_EENCODING", "undecodable text"},
    [TIFA_EFORMAT] = {"TIFA_EFORMAT", "malformed input"},
    [TIFA_EPATTERN] = {"TIFA_EPATTERN", "invalid pattern"},
    [TIFA_EUSAGE] = {"TIFA_EUSAGE", "invalid option or setting"},
    [TIFA_EEMPTY] = {"TIFA_EEMPTY", "nothing usable"},
    [TIFA_EEXIST] = {"TIFA_EEXIST", "refusing to overwrite"},
    [TIFA_EGNUPLOT] = {"TIFA_EGNUPLOT", "gnuplot failed"},
    [TIFA_EVERIFY] = {"TIFA_EVERIFY", "verification found differences"},
    [TIFA_ELIMIT] = {"TIFA_ELIMIT", "limit reached"},
    [TIFA_EINTERNAL] = {"TIFA_EINTERNAL", "internal library error"},
};

const char *tifa_status_name(tifa_status status)
{
    if ((unsigned)status >= TIFA_STATUS_COUNT)
        return "TIFA_EUNKNOWN";
    return status_table[status].name;
}

const char *tifa_status_message(tifa_status status)
{
    if ((unsigned)status >= TIFA_STATUS_COUNT)
        return "unknown error";
    return status_table[status].message;
}
