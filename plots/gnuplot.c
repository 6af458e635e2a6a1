/*
 * gnuplot.c — everything that knows gnuplot itself: how to put corpus text
 * into a script or a data file so that gnuplot shows it and never runs or
 * expands it, how to find a CJK font, and how to run gnuplot through a pipe.
 *
 * Safety rests on two rules, both tested in tests/plots: corpus text enters a
 * script only as a single-quoted literal (gnuplot performs no backquote
 * command substitution, no @macro expansion and no escape processing inside
 * single quotes; '' stands for one quote; a newline would end the command so
 * it becomes a space), and otherwise only as a field of a tab-separated data
 * file, read through `using` columns and xticlabels(), where a '"' would
 * start a quoted field and a tab or newline would shift columns or rows, so
 * those characters are replaced.  gnuplot itself is started with fork and
 * execvp — no shell ever sees a file or program name.
 */
#define _POSIX_C_SOURCE 200809L
#include "plots_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- quoting -- */

/* Length of the UTF-8 sequence starting with byte c (1 for invalid bytes). */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

/* Decodes the code point at s (n bytes available); invalid → U+FFFD. */
static unsigned long utf8_cp(const unsigned char *s, size_t n, size_t *used)
{
    size_t len = utf8_len(s[0]);
    if (len > n || len == 1) {
        *used = 1;
        return s[0] < 0x80 ? s[0] : 0xFFFD;
    }
    unsigned long cp = s[0] & (0xFF >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *used = 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *used = len;
    return cp;
}

/* Display columns of a code point: East Asian wide ranges count 2. */
static size_t cp_cols(unsigned long cp)
{
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

tifa_status tifa_gnuplot_quote(tifa_buf *out, const char *s)
{
    tifa_status st = tifa_buf_putc(out, '\'');
    for (const char *p = s ? s : ""; st == TIFA_OK && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\'')
            st = tifa_buf_puts(out, "''");
        else if (c < 0x20 || c == 0x7F)
            st = tifa_buf_putc(out, ' ');
        else
            st = tifa_buf_putc(out, (char)c);
    }
    if (st == TIFA_OK)
        st = tifa_buf_putc(out, '\'');
    return st;
}

tifa_status tifa_gnuplot_field(tifa_buf *out, const char *s, size_t max_cols)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    /* Measure first: does the whole text fit? */
    size_t total = 0;
    for (size_t i = 0; i < n;) {
        size_t used;
        total += cp_cols(utf8_cp(p + i, n - i, &used));
        i += used;
    }
    bool cut = max_cols > 0 && total > max_cols;
    size_t budget = cut ? max_cols - 1 : (size_t)-1; /* room for "…" */
    size_t cols = 0, start = out->len;
    bool leading = true;
    tifa_status st = TIFA_OK;
    for (size_t i = 0; i < n && st == TIFA_OK;) {
        size_t used;
        unsigned long cp = utf8_cp(p + i, n - i, &used);
        size_t w = cp_cols(cp);
        if (cols + w > budget)
            break;
        cols += w;
        if (cp < 0x20 || cp == 0x7F) {
            if (!leading)
                st = tifa_buf_putc(out, ' ');
        } else if (cp == '"') {
            st = tifa_buf_puts(out, "\xEF\xBC\x82"); /* U+FF02 */
            leading = false;
        } else if (cp == 0xFFFD && used == 1) {
            st = tifa_buf_puts(out, "\xEF\xBF\xBD");
            leading = false;
        } else if (cp == '#' && leading) {
            /* '#' opening a line is a comment; every data line starts with
             * a number, but a field never opens with one either. */
            st = tifa_buf_puts(out, "\xEF\xBC\x83"); /* U+FF03 */
            leading = false;
        } else if (cp == ' ' && leading) {
            /* leading blanks dropped: the field starts with visible text */
        } else {
            st = tifa_buf_append(out, p + i, used);
            leading = false;
        }
        i += used;
    }
    /* Trailing blanks would be invisible; drop them. */
    while (st == TIFA_OK && out->len > start && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    if (st == TIFA_OK && cut)
        st = tifa_buf_puts(out, "\xE2\x80\xA6"); /* … */
    if (st == TIFA_OK && out->len == start)
        st = tifa_buf_putc(out, '-');
    return st;
}

/* ----------------------------------------------------------------- fonts -- */

/* True when fontconfig knows a font whose family is exactly name. */
static bool font_family_exists(FcConfig *config, const char *name)
{
    FcPattern *pat = FcPatternCreate();
    FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, (char *)0);
    bool found = false;
    if (pat && os &&
        FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)name)) {
        FcFontSet *fs = FcFontList(config, pat, os);
        if (fs) {
            found = fs->nfont > 0;
            FcFontSetDestroy(fs);
        }
    }
    if (os) FcObjectSetDestroy(os);
    if (pat) FcPatternDestroy(pat);
    return found;
}

/* Any family that supports Simplified Chinese, or NULL.  Caller frees. */
static char *font_for_lang(FcConfig *config)
{
    FcPattern *pat = FcPatternCreate();
    FcObjectSet *os = FcObjectSetBuild(FC_FAMILY, (char *)0);
    FcLangSet *ls = FcLangSetCreate();
    char *family = NULL;
    if (pat && os && ls && FcLangSetAdd(ls, (const FcChar8 *)"zh-cn") &&
        FcPatternAddLangSet(pat, FC_LANG, ls)) {
        FcFontSet *fs = FcFontList(config, pat, os);
        if (fs) {
            /* Pick the smallest name for a stable choice across runs. */
            for (int i = 0; i < fs->nfont; i++) {
                FcChar8 *fam = NULL;
                if (FcPatternGetString(fs->fonts[i], FC_FAMILY, 0, &fam) ==
                        FcResultMatch && fam &&
                    (!family || strcmp((const char *)fam, family) < 0)) {
                    free(family);
                    family = tifa_strdup((const char *)fam);
                }
            }
            FcFontSetDestroy(fs);
        }
    }
    if (ls) FcLangSetDestroy(ls);
    if (os) FcObjectSetDestroy(os);
    if (pat) FcPatternDestroy(pat);
    return family;
}

char *tifa_find_cjk_font(void)
{
    /* A private configuration: nothing global is initialised or kept. */
    FcConfig *config = FcInitLoadConfigAndFonts();
    if (!config)
        return NULL;
    static const char *const preferred[] = {
        "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
        "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", NULL};
    char *family = NULL;
    for (size_t i = 0; preferred[i] && !family; i++)
        if (font_family_exists(config, preferred[i]))
            family = tifa_strdup(preferred[i]);
    if (!family)
        family = font_for_lang(config);
    FcConfigDestroy(config);
    return family;
}

/* ------------------------------------------------------------- running -- */

/* Reads everything from fd into out (until EOF). */
static void drain(int fd, tifa_buf *out)
{
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r > 0) {
            if (out->len < (1u << 20)) /* keep at most 1 MiB of messages */
                (void)tifa_buf_append(out, chunk, (size_t)r);
        } else if (r == 0 || errno != EINTR) {
            break;
        }
    }
}

/* Writes all of data to the socket fd without ever raising SIGPIPE (a dead
 * gnuplot must not kill the caller).  Returns false when the peer went away. */
static bool send_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += w;
        n -= (size_t)w;
    }
    return true;
}

/* Marks both ends close-on-exec (dup2 in the child clears the flag on the
 * copies that become gnuplot's standard streams). */
static bool cloexec(const int fd[2])
{
    return fcntl(fd[0], F_SETFD, FD_CLOEXEC) == 0 &&
           fcntl(fd[1], F_SETFD, FD_CLOEXEC) == 0;
}

tifa_status tifa_gnuplot_run(const char *gnuplot, const char *dir,
                             const char *script, size_t script_len,
                             tifa_buf *err_out, bool *not_found)
{
    const char *prog = gnuplot && *gnuplot ? gnuplot : "gnuplot";
    *not_found = false;
    /* stdin: a socket pair, so writing to a gnuplot that died gives EPIPE
     * rather than SIGPIPE; stderr: a pipe; exec errors: a close-on-exec pipe
     * that carries errno when execvp fails. */
    int in[2] = {-1, -1}, err[2] = {-1, -1}, ex[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, in) != 0 || pipe(err) != 0 ||
        pipe(ex) != 0 || !cloexec(in) || !cloexec(err) || !cloexec(ex)) {
        (void)tifa_buf_printf(err_out, "cannot create pipes: %s",
                              strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0) close(in[i]);
            if (err[i] >= 0) close(err[i]);
            if (ex[i] >= 0) close(ex[i]);
        }
        return TIFA_EGNUPLOT;
    }
    char *const argv[] = {(char *)prog, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(in[0]); close(in[1]); close(err[0]); close(err[1]);
        close(ex[0]); close(ex[1]);
        (void)tifa_buf_printf(err_out, "cannot fork: %s", strerror(e));
        return TIFA_EGNUPLOT;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here to exec. */
        int devnull = open("/dev/null", O_WRONLY);
        int fail[2] = {0, 0}; /* {1: set-up failed, 2: exec failed; errno} */
        if (dup2(in[1], 0) < 0 || dup2(err[1], 2) < 0 ||
            (devnull >= 0 ? dup2(devnull, 1) : dup2(err[1], 1)) < 0 ||
            (dir && chdir(dir) != 0)) {
            fail[0] = 1;
            fail[1] = errno;
            (void)!write(ex[1], fail, sizeof fail);
            _exit(127);
        }
        execvp(prog, argv);
        fail[0] = 2;
        fail[1] = errno;
        (void)!write(ex[1], fail, sizeof fail);
        _exit(127);
    }
    close(in[1]);
    close(err[1]);
    close(ex[1]);

    int fail[2] = {0, 0};
    ssize_t got;
    do {
        got = read(ex[0], fail, sizeof fail);
    } while (got < 0 && errno == EINTR);
    close(ex[0]);
    bool started = got != (ssize_t)sizeof fail;

    bool sent = true;
    if (started)
        sent = send_all(in[0], script, script_len);
    close(in[0]); /* EOF: gnuplot finishes and exits */
    drain(err[0], err_out);
    close(err[0]);

    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!started && fail[0] == 1) {
        (void)tifa_buf_printf(err_out, "%scannot start '%s' in %s: %s",
                              err_out->len ? "; " : "", prog,
                              dir ? dir : ".", strerror(fail[1]));
        return TIFA_EGNUPLOT;
    }
    if (!started) {
        *not_found = true;
        (void)tifa_buf_printf(err_out, "%scannot run '%s': %s",
                              err_out->len ? "; " : "", prog,
                              strerror(fail[1]));
        return TIFA_EGNUPLOT;
    }
    if (WIFSIGNALED(wstatus)) {
        (void)tifa_buf_printf(err_out, "%s%s was killed by signal %d",
                              err_out->len ? "; " : "", prog,
                              WTERMSIG(wstatus));
        return TIFA_EGNUPLOT;
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        if (err_out->len == 0)
            (void)tifa_buf_printf(err_out, "%s exited with status %d", prog,
                                  WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                                                     : -1);
        return TIFA_EGNUPLOT;
    }
    if (!sent) {
        (void)tifa_buf_printf(err_out, "%s%s stopped reading its script",
                              err_out->len ? "; " : "", prog);
        return TIFA_EGNUPLOT;
    }
    return TIFA_OK;
}

char *tifa_gnuplot_version(const tifa_plot_options *options)
{
    /* `show version short` is not in 5.4; GPVAL_VERSION and
     * GPVAL_PATCHLEVEL are, printed to stderr. */
    static const char script[] =
        "print sprintf('gnuplot %.1f patchlevel %s', GPVAL_VERSION, "
        "GPVAL_PATCHLEVEL)\n";
    tifa_buf out = {0};
    bool not_found = false;
    tifa_status st = tifa_gnuplot_run(options ? options->gnuplot : NULL, NULL,
                                      script, sizeof script - 1, &out,
                                      &not_found);
    if (st != TIFA_OK || !out.data) {
        tifa_buf_free(&out);
        return NULL;
    }
    while (out.len && (out.data[out.len - 1] == '\n' ||
                       out.data[out.len - 1] == '\r'))
        out.data[--out.len] = '\0';
    return tifa_buf_detach(&out, NULL);
}
