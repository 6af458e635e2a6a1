/*
 * formulas.c — the statistics of SPEC §5 as pure functions: exact Poisson
 * rate intervals, dispersion over documents (range, Gries's DP, DPnorm,
 * Juilland's D), keyness (two- and four-term G², Pearson χ² with and without
 * Yates, Log Ratio, %DIFF, BIC), Benjamini–Hochberg adjustment, OLS trend
 * fits and the rank–frequency (Zipf) slope.
 *
 * Quantiles, tail probabilities and least-squares fits come from GSL.  GSL's
 * default error handler aborts the process; every function here that calls
 * GSL first calls gsl_set_error_handler_off() (idempotent; it is the only
 * process-wide state the statistics stage touches, see docs/statistics.md),
 * and checks its inputs so that undefined results come back as NaN instead of
 * GSL errors.  Nothing here allocates except tifa_bh_adjust (freed inside).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>

#include "stats.h"
#include "stats_internal.h"

void tifa_stats_gsl_quiet(void)
{
    gsl_set_error_handler_off();
}

/* ------------------------------------------------------- Poisson interval -- */

void tifa_poisson_ci(long k, double n, double *low, double *high)
{
    double lo = NAN, hi = NAN;
    tifa_stats_gsl_quiet();
    if (k >= 0 && n > 0 && isfinite(n)) {
        double scale = 1e4 / n;
        lo = k == 0 ? 0.0
                    : gsl_cdf_chisq_Pinv(0.025, 2.0 * (double)k) / 2.0 * scale;
        hi = gsl_cdf_chisq_Pinv(0.975, 2.0 * (double)k + 2.0) / 2.0 * scale;
    }
    if (low)
        *low = lo;
    if (high)
        *high = hi;
}

/* ----------------------------------------------------------- dispersion -- */

void tifa_dispersion_compute(const double *f, const double *s, size_t n,
                             tifa_dispersion *out)
{
    out->range = 0;
    out->dp = out->dp_norm = out->juilland_d = NAN;
    /* Parts of size 0 (or negative/NaN size) carry no text and are ignored. */
    double F = 0.0, S = 0.0, min_s = INFINITY;
    size_t parts = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(s[i] > 0))
            continue;
        parts++;
        F += f[i];
        S += s[i];
        if (s[i] < min_s)
            min_s = s[i];
        if (f[i] > 0)
            out->range++;
    }
    if (parts == 0 || !(F > 0))
        return;
    /* Gries (2008): DP = 1/2 sum |t_i - w_i|. */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(s[i] > 0))
            continue;
        sum += fabs(f[i] / F - s[i] / S);
    }
    out->dp = 0.5 * sum;
    if (parts < 2)
        return; /* DPnorm and D divide by zero for one part */
    /* Lijffijt & Gries (2012): DPnorm = DP / (1 - min w_i). */
    out->dp_norm = out->dp / (1.0 - min_s / S);
    /* Juilland (1970): D = 1 - V / sqrt(n - 1), V the population coefficient
     * of variation of the relative frequencies f_i / s_i. */
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        if (s[i] > 0)
            mean += f[i] / s[i];
    mean /= (double)parts;
    double var = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!(s[i] > 0))
            continue;
        double d = f[i] / s[i] - mean;
        var += d * d;
    }
    var /= (double)parts;
    double v = sqrt(var) / mean;
    out->juilland_d = 1.0 - v / sqrt((double)parts - 1.0);
}

/* -------------------------------------------------------------- keyness -- */

/* x ln(x / e) with the convention 0 ln 0 = 0. */
static double ll_term(double x, double e)
{
    return x > 0 && e > 0 ? x * log(x / e) : 0.0;
}

void tifa_keyness_compute(double a, double b, double c, double d,
                          tifa_keyness *out)
{
    tifa_stats_gsl_quiet();
    out->g2 = out->g2_4term = out->p = out->chi2 = out->chi2_yates = NAN;
    out->log_ratio = out->pct_diff = out->bic = NAN;
    if (!(c > 0) || !(d > 0) || a < 0 || b < 0 || a > c || b > d)
        return;
    double N = c + d;
    double e1 = c * (a + b) / N, e2 = d * (a + b) / N;
    /* Rayson & Garside (2000), the two-term UCREL form. */
    out->g2 = 2.0 * (ll_term(a, e1) + ll_term(b, e2));
    if (out->g2 < 0)
        out->g2 = 0.0; /* rounding when a/c == b/d */
    out->p = a + b > 0 ? gsl_cdf_chisq_Q(out->g2, 1.0) : 1.0;
    /* The 2x2 table: rows feature / rest, columns target / reference. */
    double o[4] = {a, b, c - a, d - b};
    double r1 = a + b, r2 = N - r1;
    double ex[4] = {c * r1 / N, d * r1 / N, c * r2 / N, d * r2 / N};
    double g4 = 0.0, x2 = 0.0, y2 = 0.0;
    bool defined = r1 > 0 && r2 > 0;
    for (int i = 0; i < 4; i++) {
        g4 += ll_term(o[i], ex[i]);
        if (defined) {
            double dev = fabs(o[i] - ex[i]);
            x2 += dev * dev / ex[i];
            double yd = dev - 0.5;
            if (yd < 0)
                yd = 0; /* Yates never overshoots past zero */
            y2 += yd * yd / ex[i];
        }
    }
    out->g2_4term = 2.0 * g4 < 0 ? 0.0 : 2.0 * g4;
    if (defined) {
        out->chi2 = x2;
        out->chi2_yates = y2;
    } else {
        out->chi2 = out->chi2_yates = 0.0;
    }
    /* Hardie (2014): log2 of the ratio of relative frequencies, with 0.5 in
     * place of a zero count; undefined when both counts are zero. */
    if (a > 0 || b > 0) {
        double aa = a > 0 ? a : 0.5, bb = b > 0 ? b : 0.5;
        out->log_ratio = log2((aa / c) / (bb / d));
    }
    /* Gabrielatos & Marchi (2011): %DIFF = (nf_t - nf_r) / nf_r * 100. */
    if (b > 0)
        out->pct_diff = ((a / c) - (b / d)) / (b / d) * 100.0;
    /* Wilson (2013): BIC = G² - df ln N with df = 1. */
    out->bic = out->g2 - log(N);
}

/* ---------------------------------------------------- Benjamini–Hochberg -- */

typedef struct bh_item {
    double p;
    size_t i;
} bh_item;

static int bh_cmp(const void *x, const void *y)
{
    const bh_item *a = x, *b = y;
    if (a->p < b->p)
        return -1;
    if (a->p > b->p)
        return 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

tifa_status tifa_bh_adjust(const double *p, size_t n, double *p_adj)
{
    if (n == 0)
        return TIFA_OK;
    if (!p || !p_adj)
        return TIFA_EUSAGE;
    bh_item *items = malloc(n * sizeof *items);
    if (!items)
        return TIFA_ENOMEM;
    size_t m = 0; /* NaN p-values are not tests: they stay NaN */
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i]))
            continue;
        items[m].p = p[i];
        items[m].i = i;
        m++;
    }
    for (size_t i = 0; i < n; i++)
        if (isnan(p[i]))
            p_adj[i] = NAN;
    qsort(items, m, sizeof *items, bh_cmp);
    double running = 1.0;
    for (size_t r = m; r-- > 0;) {
        double v = items[r].p * (double)m / (double)(r + 1);
        if (v < running)
            running = v;
        p_adj[items[r].i] = running;
    }
    free(items);
    return TIFA_OK;
}

/* ---------------------------------------------------------------- trend -- */

tifa_status tifa_trend_fit_compute(const double *x, const double *y, size_t n,
                                   tifa_trend_fit *out)
{
    tifa_stats_gsl_quiet();
    out->slope = out->slope_se = out->intercept = out->p = NAN;
    out->n = n;
    if (n < 2 || !x || !y)
        return TIFA_EEMPTY;
    double c0, c1, cov00, cov01, cov11, sumsq;
    /* x all equal: the slope is undefined. */
    bool varies = false;
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0])
            varies = true;
    if (!varies)
        return TIFA_OK;
    if (gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11,
                       &sumsq) != GSL_SUCCESS)
        return TIFA_EINTERNAL;
    out->slope = c1;
    out->intercept = c0;
    if (n < 3)
        return TIFA_OK; /* no degrees of freedom for the error */
    out->slope_se = sqrt(cov11);
    if (out->slope_se > 0) {
        double t = c1 / out->slope_se;
        out->p = 2.0 * gsl_cdf_tdist_Q(fabs(t), (double)n - 2.0);
    } else {
        out->p = c1 != 0 ? 0.0 : NAN; /* a perfect fit */
    }
    return TIFA_OK;
}

/* ----------------------------------------------------------------- Zipf -- */

void tifa_zipf_fit(const double *counts_desc, size_t n, double *slope,
                   double *intercept)
{
    tifa_stats_gsl_quiet();
    double sl = NAN, ic = NAN;
    if (n > 1000)
        n = 1000;
    double lx[1000], ly[1000];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(counts_desc[i] > 0))
            continue; /* log of zero: such ranks are left out */
        lx[m] = log10((double)(i + 1));
        ly[m] = log10(counts_desc[i]);
        m++;
    }
    if (m >= 2) {
        double c0, c1, cov00, cov01, cov11, sumsq;
        if (gsl_fit_linear(lx, 1, ly, 1, m, &c0, &c1, &cov00, &cov01, &cov11,
                           &sumsq) == GSL_SUCCESS) {
            sl = c1;
            ic = c0;
        }
    }
    if (slope)
        *slope = sl;
    if (intercept)
        *intercept = ic;
}

double tifa_zipf_slope(const double *counts_desc, size_t n)
{
    double slope;
    tifa_zipf_fit(counts_desc, n, &slope, NULL);
    return slope;
}
